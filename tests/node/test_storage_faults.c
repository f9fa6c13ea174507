/* Storage faults under a block commit (tests/support/faultvfs.h): a crash at
 * every single write of the commit (also a torn one). The node must never be corrupt: after the fault it is at the
 * previous block or the new one, never between; it restarts and commits
 * again; and `medchain verify` (a separate process, reading what is really
 * on disk) passes every time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/faultvfs.h"
#include "../support/proc.h"
#include "../support/testutil.h"
#include "app/identity.h"
#include "app/txtypes.h"
#include "crypto/keyfile.h"
#include "node/node.h"

/* A node home at height 1 (one enrollment committed), copied for each run. */
static char *base_home(struct tu_node *t) {
    tu_node_start(t, "faults");
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Fault Auditor");
    size_t len;
    uint8_t *tx = tu_tx(&len, t->chain_id, MC_TX_ENROLL_MEMBER, &t->admin, 1, p, pl);
    tu_submit_ok(t, tx, len);
    tu_commit(t);
    cr_assert_eq(tu_height(t), 1);
    tu_node_stop(t);
    return t->home;
}

static char *copy_home(const char *from, int k) {
    char *to = tu_path(tu_tmpdir("faultrun"), "node");
    char *out;
    int rc = tp_run(&out, "cp -a '%s' '%s' && rm -f '%s/node.pid'", from, to, to);
    cr_assert_eq(rc, 0, "copy %d: %s", k, out);
    free(out);
    return to;
}

/* A second enrollment by the admin (nonce 2) for the block under test. */
static void submit_second(struct mc_node *n, const struct mc_keypair *admin, const char *chain_id) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Second Auditor");
    size_t len;
    uint8_t *tx = tu_tx(&len, chain_id, MC_TX_ENROLL_MEMBER, admin, 2, p, pl);
    mc_hash id;
    cr_assert_eq(mc_node_submit(n, tx, len, &id), 0, "submit: %s", mc_err_detail());
}

static uint64_t height_of(struct mc_node *n) {
    struct mc_node_status st;
    mc_node_status(n, &st);
    return st.height;
}

/* `medchain verify` in its own process: what is on disk, nothing cached. */
static void assert_verifies(const char *home, const char *what) {
    char *out;
    int rc = tp_run(&out, "%s verify --home '%s'", tp_bin(), home);
    cr_assert_eq(rc, 0, "%s: verify fails:\n%s", what, out);
    free(out);
}

/* Write-type operations (writes, syncs, truncations) of one block commit. */
static uint64_t commit_ops(const char *base, const struct mc_keypair *admin, const char *chain_id) {
    char *home = copy_home(base, -1);
    struct mc_node *n = NULL;
    cr_assert_eq(mc_node_open(&n, home), 0, "%s", mc_err_detail());
    submit_second(n, admin, chain_id);
    if (getenv("FV_TRACE")) fprintf(stderr, "--- commit starts\n");
    uint64_t before = fv_ops();
    cr_assert_eq(mc_node_commit_pending(n), 0, "%s", mc_err_detail());
    uint64_t ops = fv_ops() - before;
    cr_assert_eq(height_of(n), 2);
    mc_node_close(n);
    return ops;
}

Test(storage_faults, a_crash_at_every_write_of_a_block_commit_leaves_the_old_block_or_the_new, .timeout = 300) {
    fv_install();
    struct tu_node t;
    char *base = base_home(&t);
    uint64_t w = commit_ops(base, &t.admin, t.chain_id);
    cr_assert_gt(w, 2, "a block commit wrote only %llu times", (unsigned long long)w);
    int at_old = 0, at_new = 0;
    for (uint64_t k = 0; k < w; k++) {
        for (int torn = 0; torn < 2; torn++) {
            char what[64];
            snprintf(what, sizeof what, "crash at write %llu of %llu%s", (unsigned long long)k,
                     (unsigned long long)w, torn ? " (torn)" : "");
            char *home = copy_home(base, (int)k);
            struct mc_node *n = NULL;
            cr_assert_eq(mc_node_open(&n, home), 0, "%s", mc_err_detail());
            submit_second(n, &t.admin, t.chain_id);
            fv_arm(FV_CRASH, k, 0, torn);
            int rc = mc_node_commit_pending(n);
            /* the process is dead from write k on: nothing more reaches the
             * disk, also not what closing would write */
            mc_node_close(n);
            fv_clear();
            cr_assert_gt(fv_faults(), 0, "%s: the fault never fired", what);
            (void)rc;
            assert_verifies(home, what);
            /* restart: the old block or the new one, and it goes on */
            cr_assert_eq(mc_node_open(&n, home), 0, "%s: reopen: %s", what, mc_err_detail());
            uint64_t h = height_of(n);
            cr_assert(h == 1 || h == 2, "%s: height %llu", what, (unsigned long long)h);
            if (h == 1) {
                at_old++;
                /* the pending transaction may have survived in the mempool
                 * journal; if not, its sender submits it again */
                cr_assert_eq(mc_node_commit_pending(n), 0, "%s: commit after restart: %s", what, mc_err_detail());
                if (height_of(n) == 1) submit_second(n, &t.admin, t.chain_id);
            } else {
                at_new++;
            }
            cr_assert_eq(mc_node_commit_pending(n), 0, "%s: commit after restart: %s", what, mc_err_detail());
            cr_assert_eq(height_of(n), 2, "%s", what);
            mc_node_close(n);
            assert_verifies(home, what);
        }
    }
    /* both outcomes occur: early crashes lose the block, late ones keep it */
    cr_assert_gt(at_old, 0);
    cr_assert_gt(at_new, 0);
    fprintf(stderr, "storage faults: %llu writes per block commit; %d crashes left the old block, %d the new\n",
            (unsigned long long)w, at_old, at_new);
}

/* An I/O error or a full disk during the commit: the commit fails with an
 * error (no abort), the node stops committing (a failed write or sync may
 * have left its memory ahead of its disk, so it does not go on from it),
 * and once the fault clears and it restarts it is at the old block or the
 * new one, verifies, and commits the transaction. */
static void transient(enum fv_mode mode, const char *name) {
    fv_install();
    struct tu_node t;
    char *base = base_home(&t);
    uint64_t w = commit_ops(base, &t.admin, t.chain_id);
    int failed = 0;
    for (uint64_t k = 0; k < w; k++) {
        char what[64];
        snprintf(what, sizeof what, "%s at write %llu of %llu", name, (unsigned long long)k, (unsigned long long)w);
        char *home = copy_home(base, (int)k);
        struct mc_node *n = NULL;
        cr_assert_eq(mc_node_open(&n, home), 0, "%s", mc_err_detail());
        submit_second(n, &t.admin, t.chain_id);
        fv_arm(mode, k, 3, false);
        int rc = mc_node_commit_pending(n);
        uint64_t faults = fv_faults();
        fv_clear();
        cr_assert_gt(faults, 0, "%s: the fault never fired", what);
        if (rc != 0) {
            failed++;
            /* reported, and the node does not carry on from its memory */
            cr_assert_neq(mc_node_commit_pending(n), 0, "%s: the node went on after a store failure", what);
        }
        mc_node_close(n);
        assert_verifies(home, what);
        cr_assert_eq(mc_node_open(&n, home), 0, "%s: restart: %s", what, mc_err_detail());
        uint64_t h = height_of(n);
        cr_assert(h == 1 || h == 2, "%s: height %llu", what, (unsigned long long)h);
        if (h == 1) {
            cr_assert_eq(mc_node_commit_pending(n), 0, "%s: %s", what, mc_err_detail());
            if (height_of(n) == 1) submit_second(n, &t.admin, t.chain_id);
            cr_assert_eq(mc_node_commit_pending(n), 0, "%s: %s", what, mc_err_detail());
        }
        cr_assert_eq(height_of(n), 2, "%s", what);
        mc_node_close(n);
        assert_verifies(home, what);
    }
    cr_assert_gt(failed, 0, "no %s ever failed a commit", name);
}

Test(storage_faults, an_io_error_during_a_commit_is_reported_and_the_node_recovers, .timeout = 300) {
    transient(FV_IOERR, "I/O error");
}

Test(storage_faults, a_full_disk_during_a_commit_is_reported_and_the_node_recovers, .timeout = 300) {
    transient(FV_FULL, "full disk");
}
