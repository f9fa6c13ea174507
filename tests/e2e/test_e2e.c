/* The fault-injection harness over real node processes (e2e.h).
 *
 * `make test` runs one short schedule with every kind of perturbation;
 * `make e2e` runs many longer ones (MEDCHAIN_E2E_SEEDS, a list such as
 * "1-20" or "3,7,9"; MEDCHAIN_E2E_SECONDS each). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/proc.h"
#include "e2e.h"

static void report(const struct e2e_options *o, const struct e2e_report *r) {
    fprintf(stderr,
            "e2e: seed %llu, %d s, %d validators: %d perturbations; transactions %d committed, %d rejected, "
            "%d unknown; %d granted reads served; after a revocation %d reads checked: %d served, %d refused, "
            "%d inconclusive; "
            "final height %llu; %d violations\n",
            (unsigned long long)o->seed, o->seconds, o->validators, r->perturbations, r->tx_committed,
            r->tx_rejected, r->tx_unknown, r->granted_reads_served, r->revocations_checked,
            r->revoked_reads_served, r->revoked_reads_refused, r->revoked_reads_inconclusive,
            (unsigned long long)r->final_height, r->violations);
}

/* MEDCHAIN_E2E_FAULTS: a comma list of fault names (kill,pause,isolate,
 * split,wal,clock,crash); all when unset. */
static unsigned parse_faults(const char *s) {
    static const char *names[] = {"kill", "pause", "isolate", "split", "wal", "clock", "crash"};
    if (!s || !*s) return E2E_FAULTS_ALL;
    unsigned m = 0;
    for (int b = 0; b < 7; b++)
        if (strstr(s, names[b])) m |= 1u << b;
    return m;
}

/* Parses "1-20" or "3,7,9" (or a mix) into seeds; returns how many. */
static int parse_seeds(const char *s, uint64_t *out, int cap) {
    int n = 0;
    while (s && *s && n < cap) {
        char *end;
        uint64_t a = strtoull(s, &end, 10), b = a;
        if (end == s) break;
        if (*end == '-') b = strtoull(end + 1, &end, 10);
        for (uint64_t k = a; k <= b && n < cap; k++) out[n++] = k;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

Test(e2e, seeded_schedules_keep_every_promise, .timeout = 7200) {
    const char *seeds_env = getenv("MEDCHAIN_E2E_SEEDS");
    const char *secs_env = getenv("MEDCHAIN_E2E_SECONDS");
    const char *nodes_env = getenv("MEDCHAIN_E2E_VALIDATORS");
    uint64_t seeds[1000];
    int n = parse_seeds(seeds_env && *seeds_env ? seeds_env : "1", seeds, 1000);
    cr_assert_gt(n, 0, "MEDCHAIN_E2E_SEEDS '%s' names no seed", seeds_env);
    int failed = 0;
    for (int k = 0; k < n; k++) {
        struct e2e_options o = {.seed = seeds[k],
                                .validators = nodes_env ? atoi(nodes_env) : 4,
                                .seconds = secs_env ? atoi(secs_env) : 20,
                                .faults = parse_faults(getenv("MEDCHAIN_E2E_FAULTS")),
                                .bin = tp_bin(),
                                .fault_target = -1,
                                .keep_failed = true,
                                .verbose = getenv("MEDCHAIN_E2E_VERBOSE") != NULL};
        struct e2e_report r;
        int rc = e2e_run(&o, &r);
        report(&o, &r);
        cr_assert_eq(rc, 0, "the harness could not run seed %llu: %s", (unsigned long long)o.seed, r.violation);
        cr_expect_eq(r.violations, 0, "seed %llu: %s", (unsigned long long)o.seed, r.violation);
        cr_expect_gt(r.tx_committed, 5, "seed %llu committed only %d transactions", (unsigned long long)o.seed,
                     r.tx_committed);
        cr_expect_geq(r.perturbations, o.seconds / 8, "seed %llu ran only %d perturbations", (unsigned long long)o.seed,
                     r.perturbations);
        failed += r.violations > 0;
    }
    fprintf(stderr, "e2e: %d schedules, %d with violations\n", n, failed);
}

/* The checker can fail: node 0 runs a test build that loses the transactions
 * of its latest block whenever it restarts, and it is killed and restarted
 * under load; transactions reported committed then go missing on node 0 (or
 * it cannot restart at all), and the harness must say so. */
Test(e2e, checker_catches_a_node_that_forgets_committed_transactions, .timeout = 600) {
    const char *forgetful = getenv("MEDCHAIN_E2E_FORGETFUL");
    cr_assert(forgetful && *forgetful, "MEDCHAIN_E2E_FORGETFUL (the test build) is not set");
    struct e2e_options o = {.seed = 11, .validators = 4, .seconds = 12, .faults = E2E_KILL,
                            .bin = tp_bin(), .bin_node0 = forgetful, .fault_target = 0};
    struct e2e_report r;
    int rc = e2e_run(&o, &r);
    report(&o, &r);
    cr_assert_eq(rc, 0, "the harness could not run: %s", r.violation);
    cr_assert_gt(r.perturbations, 0);
    cr_assert_gt(r.violations, 0, "a node that forgets committed transactions went unnoticed");
    cr_assert(strstr(r.violation, "node 0"), "the violation does not name node 0: %s", r.violation);
}

/* The checker can fail: every node runs a test build whose read policy
 * ignores revocations; reads after a committed revocation are then served,
 * and the harness must say so. */
Test(e2e, checker_catches_reads_served_after_a_revocation, .timeout = 600) {
    const char *bin = getenv("MEDCHAIN_E2E_IGNORES_REVOCATION");
    cr_assert(bin && *bin, "MEDCHAIN_E2E_IGNORES_REVOCATION (the test build) is not set");
    struct e2e_options o = {.seed = 12, .validators = 4, .seconds = 15, .faults = E2E_PAUSE,
                            .bin = bin, .fault_target = -1, .acl_percent = 90};
    struct e2e_report r;
    int rc = e2e_run(&o, &r);
    report(&o, &r);
    cr_assert_eq(rc, 0, "the harness could not run: %s", r.violation);
    cr_assert_gt(r.revocations_checked, 0, "no read was checked after a revocation");
    cr_assert_gt(r.violations, 0, "reads served after a revocation went unnoticed");
    cr_assert(strstr(r.violation, "after the revocation"), "%s", r.violation);
}
