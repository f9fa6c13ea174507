/* Ledger log proof benchmark: prints, in one run,
 *   - Ed25519 verifications per second on this machine, all cores (the
 *     scale every figure is set against, as in bench_ledger.c);
 *   - RFC 6962 inclusion and consistency proofs generated per second from
 *     the SQLite store, one thread, at log sizes of 1,000 and 100,000
 *     leaves: from the perfect-subtree cache (mc_store_log_node, what the
 *     API serves) and from the leaves alone (mc_store_log_leaf, the old
 *     path), with the mean number of store reads per proof.
 * Proof generation runs under the node lock, so its rate caps every
 * request that carries a proof. Each proof generated is also verified. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/commit.h"
#include "chain/store.h"
#include "crypto/merkle.h"
#include "crypto/sign.h"

#define SECONDS_PER_FIGURE 1.0
#define BLOCK_TXS 1000

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static atomic_uint_fast64_t verified;
static atomic_int verify_stop;

static void *verify_worker(void *arg) {
    struct mc_keypair kp;
    mc_keypair_generate(&kp);
    uint8_t msg[200] = {1, 2, 3}, sig[64];
    mc_sign(sig, &kp, MC_SIGN_TX, "medchain-bench", msg, sizeof msg);
    uint64_t n = 0;
    while (!atomic_load_explicit(&verify_stop, memory_order_relaxed)) {
        if (mc_sign_verify(sig, &kp.pk, MC_SIGN_TX, "medchain-bench", msg, sizeof msg) != 0) abort();
        n++;
    }
    atomic_fetch_add(&verified, n);
    return NULL;
}

static double ed25519_verify_rate(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    pthread_t th[64];
    atomic_store(&verified, 0);
    atomic_store(&verify_stop, 0);
    double t0 = now_s();
    for (long i = 0; i < cores && i < 64; i++) pthread_create(&th[i], NULL, verify_worker, NULL);
    usleep(2000000);
    atomic_store(&verify_stop, 1);
    for (long i = 0; i < cores && i < 64; i++) pthread_join(th[i], NULL);
    return (double)atomic_load(&verified) / (now_s() - t0);
}

/* Store reads, counted through the callbacks. */
static uint64_t reads;
static int counted_node(void *ctx, unsigned level, uint64_t index, mc_hash *out) {
    reads++;
    return mc_store_log_node(ctx, level, index, out);
}
static int counted_leaf(void *ctx, uint64_t index, mc_hash *out) {
    reads++;
    return mc_store_log_leaf(ctx, index, out);
}

/* A store whose ledger log holds `size` leaves, written block by block as
 * the node does (so log_nodes is filled by mc_store_put_block). Leaf
 * hashes are kept for verification, the running frontier for the roots. */
static struct mc_store *build(const char *path, uint64_t size, mc_hash *leaves) {
    struct mc_store *s;
    if (mc_store_open(&s, path, false)) {
        fprintf(stderr, "bench: open: %s\n", mc_err_detail());
        exit(1);
    }
    static uint8_t bytes[BLOCK_TXS][24];
    struct mc_tx_ref txs[BLOCK_TXS];
    struct mc_merkle_frontier f;
    mc_merkle_frontier_init(&f);
    for (uint64_t h = 1, done = 0; done < size; h++) {
        uint32_t count = (uint32_t)(size - done < BLOCK_TXS ? size - done : BLOCK_TXS);
        for (uint32_t i = 0; i < count; i++) {
            uint64_t k = done + i;
            memset(bytes[i], 0xa5, sizeof bytes[i]);
            memcpy(bytes[i], &k, sizeof k);
            txs[i] = (struct mc_tx_ref){bytes[i], sizeof bytes[i]};
            mc_merkle_leaf_hash(&leaves[k], bytes[i], sizeof bytes[i]);
            mc_merkle_frontier_append(&f, &leaves[k]);
        }
        struct mc_header hd = {.height = h, .time_ms = h, .tx_count = count,
                               .log_size = done + count};
        snprintf(hd.chain_id, sizeof hd.chain_id, "medchain-bench");
        mc_merkle_frontier_root(&f, &hd.log_root);
        mc_hash hash;
        mc_header_hash(&hd, &hash);
        struct mc_commit c;
        mc_commit_init(&c, h, 0, &hash);
        if (mc_store_begin(s) || mc_store_put_block(s, &hd, txs, count, NULL, &c, done) ||
            mc_store_commit(s)) {
            fprintf(stderr, "bench: put block: %s\n", mc_err_detail());
            exit(1);
        }
        done += count;
    }
    return s;
}

struct figure { double rate, reads; };

static uint64_t rng = 0x70726f6f6673ULL;
static uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

/* Inclusion proofs of random leaves for SECONDS_PER_FIGURE (at least 3). */
static struct figure inclusion(struct mc_store *s, const mc_hash *leaves, const mc_hash *root,
                               uint64_t size, bool cached) {
    uint64_t n = 0;
    reads = 0;
    double t0 = now_s(), t;
    do {
        mc_hash path[MC_MERKLE_PATH_MAX];
        size_t len;
        uint64_t i = rnd() % size;
        int rc = mc_store_read_begin(s);
        if (!rc) {
            rc = cached ? mc_merkle_inclusion_proof_nodes(path, &len, i, size, counted_node, s)
                        : mc_merkle_inclusion_proof(path, &len, i, size, counted_leaf, s);
            mc_store_read_end(s);
        }
        if (rc || mc_merkle_verify_inclusion(&leaves[i], i, size, path, len, root)) abort();
        n++;
        t = now_s() - t0;
    } while (t < SECONDS_PER_FIGURE || n < 3);
    return (struct figure){(double)n / t, (double)reads / (double)n};
}

/* Consistency proofs from a random earlier size to `size`. */
static struct figure consistency(struct mc_store *s, const mc_hash *roots, uint64_t size,
                                 bool cached) {
    uint64_t n = 0;
    reads = 0;
    double t0 = now_s(), t;
    do {
        mc_hash path[MC_MERKLE_PATH_MAX];
        size_t len;
        uint64_t s1 = 1 + rnd() % size;
        int rc = mc_store_read_begin(s);
        if (!rc) {
            rc = cached ? mc_merkle_consistency_proof_nodes(path, &len, s1, size, counted_node, s)
                        : mc_merkle_consistency_proof(path, &len, s1, size, counted_leaf, s);
            mc_store_read_end(s);
        }
        if (rc || mc_merkle_verify_consistency(s1, size, &roots[s1], &roots[size], path, len))
            abort();
        n++;
        t = now_s() - t0;
    } while (t < SECONDS_PER_FIGURE || n < 3);
    return (struct figure){(double)n / t, (double)reads / (double)n};
}

int main(void) {
    mc_crypto_init();
    mc_sign_verify_cache_enable(false); /* measure real verifications */
    double bound = ed25519_verify_rate();
    printf("bench proofs: ed25519 verifications/s (all %ld cores): %.0f\n",
           sysconf(_SC_NPROCESSORS_ONLN), bound);
    static const uint64_t sizes[] = {1000, 100000};
    char dir[] = "/tmp/medchain-bench-proofs-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint64_t size = sizes[k];
        char path[128];
        snprintf(path, sizeof path, "%s/log-%llu.db", dir, (unsigned long long)size);
        mc_hash *leaves = malloc(sizeof(mc_hash) * size);
        mc_hash *roots = malloc(sizeof(mc_hash) * (size + 1));
        if (!leaves || !roots) return 1;
        double t0 = now_s();
        struct mc_store *s = build(path, size, leaves);
        double build_s = now_s() - t0;
        struct mc_merkle_frontier f;
        mc_merkle_frontier_init(&f);
        for (uint64_t i = 0; i <= size; i++) {
            mc_merkle_frontier_root(&f, &roots[i]);
            if (i < size) mc_merkle_frontier_append(&f, &leaves[i]);
        }
        struct figure fi = inclusion(s, leaves, &roots[size], size, true);
        struct figure si = inclusion(s, leaves, &roots[size], size, false);
        struct figure fc = consistency(s, roots, size, true);
        struct figure sc = consistency(s, roots, size, false);
        printf("bench proofs: log of %llu leaves (stored in %.2f s, %.0f leaves/s with the "
               "subtree cache)\n", (unsigned long long)size, build_s, (double)size / build_s);
        printf("bench proofs:   inclusion/s from subtree cache: %.0f (%.1f%% of bound), %.1f "
               "reads/proof; from leaves: %.1f (%.3f%% of bound), %.0f reads/proof; x%.0f\n",
               fi.rate, 100.0 * fi.rate / bound, fi.reads, si.rate, 100.0 * si.rate / bound,
               si.reads, fi.rate / si.rate);
        printf("bench proofs:   consistency/s from subtree cache: %.0f (%.1f%% of bound), %.1f "
               "reads/proof; from leaves: %.1f (%.3f%% of bound), %.0f reads/proof; x%.0f\n",
               fc.rate, 100.0 * fc.rate / bound, fc.reads, sc.rate, 100.0 * sc.rate / bound,
               sc.reads, fc.rate / sc.rate);
        fflush(stdout);
        mc_store_close(s);
        free(leaves);
        free(roots);
        char side[160];
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
