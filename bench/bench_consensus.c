/* Consensus benchmark: heights decided per second of CPU in the simulator
 * (no faults, real Ed25519 signatures), for 4 and 10 validators, and the
 * signature verifications each height costs, printed next to the Ed25519
 * verification rate of this machine measured in the same run.
 *
 * The simulator core is compiled into this binary directly (the top-level
 * Makefile links benchmarks with libmedchain.a only). */
#include "../tests/sim/sim.c"

#include <time.h>

static double cpu_now(void) { return (double)clock() / CLOCKS_PER_SEC; }

int main(void) {
    mc_crypto_init();
    mc_sign_verify_cache_enable(false); /* measure real verifications */
    /* the bound: raw verification rate of domain-separated vote signatures */
    struct mc_keypair kp;
    uint8_t seed[MC_SEED_BYTES] = {7};
    mc_keypair_from_seed(&kp, seed);
    struct mc_vote v;
    memset(&v, 0, sizeof v);
    v.type = MC_VOTE_PREVOTE;
    v.height = 1;
    v.has_block = true;
    mc_vote_sign(&v, &kp, CHAIN);
    struct mc_valset vs;
    memset(&vs, 0, sizeof vs);
    if (mc_valset_add(&vs, &kp.pk, 1, "v") != 0) return 1;
    uint64_t count = 0;
    double t0 = cpu_now(), t1;
    do {
        for (int i = 0; i < 200; i++)
            if (mc_vote_verify(&v, &vs, CHAIN) != 0) return 1;
        count += 200;
        t1 = cpu_now();
    } while (t1 - t0 < 0.5);
    double verify_rate = (double)count / (t1 - t0);
    printf("bench consensus: ed25519 vote verifications %.0f/s (the bound)\n", verify_rate);

    static const uint32_t sizes[2] = {4, 10};
    for (int k = 0; k < 2; k++) {
        struct sim_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.n = sizes[k];
        cfg.mix = SIM_MIX_CLEAN;
        cfg.weighted = 0;
        cfg.fault_ms = 60000;
        cfg.quiet = true;
        uint64_t heights = 0, verifications = 0, violations = 0;
        double c0 = cpu_now();
        for (cfg.seed = 1; cfg.seed <= 3; cfg.seed++) {
            struct sim_result r;
            if (sim_run(&cfg, &r) != 0) return 1;
            heights += r.heights;
            verifications += r.verifications;
            violations += r.violations;
        }
        double cpu = cpu_now() - c0;
        double per_height = heights ? (double)verifications / (double)heights : 0;
        printf("bench consensus: n=%u: %llu heights in %.2f s CPU = %.0f heights/s; "
               "%.1f signature verifications per height (%.1f per node), "
               "i.e. %.0f heights/s if verification were the only cost; violations %llu\n",
               sizes[k], (unsigned long long)heights, cpu, heights / cpu, per_height,
               per_height / sizes[k], verify_rate / per_height, (unsigned long long)violations);
        if (violations) return 1;
    }
    return 0;
}
