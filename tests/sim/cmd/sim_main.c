/* medchain-sim: runs the consensus simulator over a range of seeds.
 *
 *   medchain-sim --seed S                   replay one seed (add --trace FILE)
 *   medchain-sim --seeds N [--first S]      run N seeds, print a summary line
 *   options: --n N, --mix NAME, --weighted 0|1, --too-many-byzantine,
 *            --own-messages-only (the node design before vote relay),
 *            --fixed-valset (no validator set changes during the run),
 *            --expect-violation (exit 0 only if some seed fails: mutants),
 *            --stop-on-violation
 *
 * Ends with "sim: N seeds, V violations" and exits 1 if V > 0 (or, with
 * --expect-violation, if V == 0). Built by mk/sim.mk, not part of the tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../sim.h"

static int mix_by_name(const char *name) {
    for (int i = 0; i < SIM_MIX_COUNT; i++)
        if (strcmp(sim_mix_name(i), name) == 0) return i;
    fprintf(stderr, "unknown mix %s\n", name);
    exit(2);
}

int main(int argc, char **argv) {
    struct sim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mix = -1;
    cfg.weighted = -1;
    cfg.program = argv[0];
    uint64_t first = 1, seeds = 0;
    bool one = false, expect = false, stop_on = false;
    const char *trace_path = NULL;
#ifdef MC_MUTANT_TOO_MANY_BYZANTINE
    cfg.too_many_byzantine = true;
#endif
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seed") && v) first = strtoull(v, NULL, 10), one = true, i++;
        else if (!strcmp(a, "--seeds") && v) seeds = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--first") && v) first = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--n") && v) cfg.n = (uint32_t)strtoul(v, NULL, 10), i++;
        else if (!strcmp(a, "--mix") && v) cfg.mix = mix_by_name(v), i++;
        else if (!strcmp(a, "--weighted") && v) cfg.weighted = atoi(v), i++;
        else if (!strcmp(a, "--trace") && v) trace_path = v, i++;
        else if (!strcmp(a, "--too-many-byzantine")) cfg.too_many_byzantine = true;
        else if (!strcmp(a, "--own-messages-only")) cfg.own_messages_only = true;
        else if (!strcmp(a, "--fixed-valset")) cfg.fixed_valset = true;
        else if (!strcmp(a, "--expect-violation")) expect = true;
        else if (!strcmp(a, "--stop-on-violation")) stop_on = true;
        else {
            fprintf(stderr, "usage: %s [--seed S | --seeds N [--first S]] [--n N] [--mix NAME] "
                            "[--weighted 0|1] [--too-many-byzantine] [--own-messages-only] [--fixed-valset] [--trace FILE] "
                            "[--expect-violation] [--stop-on-violation]\n", argv[0]);
            return 2;
        }
    }
    if (cfg.n > 16) {
        fprintf(stderr, "--n must be at most 16\n");
        return 2;
    }
    if (one) seeds = 1;
    if (seeds == 0) seeds = 100;
    FILE *trace = NULL;
    if (trace_path) {
        trace = strcmp(trace_path, "/dev/stdout") == 0 ? stdout : fopen(trace_path, "w");
        if (!trace) {
            perror(trace_path);
            return 2;
        }
    }
    uint64_t violations = 0, ran = 0, heights = 0, events = 0;
    clock_t t0 = clock();
    for (uint64_t k = 0; k < seeds; k++) {
        cfg.seed = first + k;
        cfg.trace = trace;
        struct sim_result res;
        if (sim_run(&cfg, &res) != 0) {
            fprintf(stderr, "sim: out of memory\n");
            return 2;
        }
        ran++;
        heights += res.heights;
        events += res.events;
        if (one) {
            char hex[65];
            for (int j = 0; j < 32; j++) snprintf(hex + 2 * j, 3, "%02x", res.trace_hash.b[j]);
            printf("seed %llu n=%u mix=%s byzantine=%u: %u violations, heights %llu, events %llu, "
                   "virtual %llu ms, evidence %llu, trace %s\n",
                   (unsigned long long)cfg.seed, res.n, sim_mix_name(res.mix), res.byzantine,
                   res.violations, (unsigned long long)res.heights,
                   (unsigned long long)res.events, (unsigned long long)res.end_ms,
                   (unsigned long long)res.evidence, hex);
        }
        if (res.violations) {
            violations++;
            if (stop_on) break;
        }
    }
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (trace && trace != stdout) fclose(trace);
    fprintf(stderr, "sim: %llu heights, %llu events, %.1f s CPU\n", (unsigned long long)heights,
            (unsigned long long)events, cpu);
    printf("sim: %llu seeds, %llu violations\n", (unsigned long long)ran,
           (unsigned long long)violations);
    if (expect) return violations > 0 ? 0 : 1;
    return violations > 0 ? 1 : 0;
}
