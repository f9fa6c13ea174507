/* State benchmark: the cost of the authenticated state (chain/smt.h) and
 * what its proofs cost, printed next to the bound of every benchmark
 * (Ed25519 verifications per second on this machine, all cores, measured
 * in this run):
 *   - blocks of transactions written to the state over SQLite as a node
 *     writes them (each transaction changes 3 rows: the sender's account,
 *     a new row, an index row), once with the state hash the ledger used
 *     before (one SHA-256 over each block's sorted changes) and once with
 *     the state tree, on the same store size: state-write transactions per
 *     second both ways and the ratio;
 *   - state proofs generated per second (from SQLite, one read
 *     transaction each, as the API does) and verified per second;
 *   - bytes on disk per transaction: state rows alone and with the tree.
 * Figures are rates and ratios measured in this run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/state.h"
#include "chain/smt.h"
#include "chain/stateproof.h"
#include "chain/store.h"
#include "bench_bound.h"

#define TXS_PER_BLOCK 500
#define WARM_BLOCKS 200 /* 100,000 transactions, 300,000 rows before measuring */
#define MEASURED_BLOCKS 20
#define PROOFS 20000

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bench {
    char dir[64], path[96];
    struct mc_store *store;
    struct mc_state *st;
    uint64_t tx; /* transactions written so far */
};

static void open_bench(struct bench *b, const char *tag) {
    snprintf(b->dir, sizeof b->dir, "/tmp/medchain-bench-state-%s-XXXXXX", tag);
    if (!mkdtemp(b->dir)) abort();
    snprintf(b->path, sizeof b->path, "%s/chain.db", b->dir);
    if (mc_store_open(&b->store, b->path, false)) abort();
    uint8_t hk[MC_STATE_HASH_KEY_BYTES] = {9};
    if (mc_state_create(&b->st, mc_store_kv(b->store), hk)) abort();
    b->tx = 0;
}

static void close_bench(struct bench *b) {
    mc_state_destroy(b->st);
    mc_store_close(b->store);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", b->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", b->dir);
}

/* One transaction's writes: 3 rows. */
static void write_tx(struct bench *b) {
    uint64_t t = b->tx++;
    char k[64], v[96];
    int kl = snprintf(k, sizeof k, "a/sender-%06llu", (unsigned long long)(t % 1000));
    int vl = snprintf(v, sizeof v, "account nonce %llu, role 3, org 1, name bench clinician", (unsigned long long)t);
    if (mc_state_put(b->st, k, (size_t)kl, v, (size_t)vl)) abort();
    kl = snprintf(k, sizeof k, "rr/record-%012llu", (unsigned long long)t);
    vl = snprintf(v, sizeof v, "record head of %llu: type, category, patient, 3 versions", (unsigned long long)t);
    if (mc_state_put(b->st, k, (size_t)kl, v, (size_t)vl)) abort();
    kl = snprintf(k, sizeof k, "rp/patient-%06llu-%012llu", (unsigned long long)(t % 5000), (unsigned long long)t);
    if (mc_state_put(b->st, k, (size_t)kl, "x", 1)) abort();
    mc_state_tx_commit(b->st);
}

static void block(struct bench *b, bool tree) {
    for (int i = 0; i < TXS_PER_BLOCK; i++) write_tx(b);
    mc_hash root;
    if (tree) {
        if (mc_state_block_root(b->st, &root)) abort();
    } else {
        /* stand-in of the former hash: the changes of the block hashed in
         * one stream (3 rows per transaction) */
        mc_sha256_ctx ctx;
        mc_sha256_init(&ctx);
        for (int i = 0; i < TXS_PER_BLOCK * 3; i++) {
            uint8_t row[96] = {(uint8_t)i};
            mc_sha256_update(&ctx, row, sizeof row);
        }
        mc_sha256_final(&ctx, &root);
    }
    if (mc_store_begin(b->store)) abort();
    if (mc_state_block_flush(b->st)) abort();
    if (mc_store_commit(b->store)) abort();
}

/* Transactions per second of the measured blocks, with or without the tree
 * (both stores hold the same rows; only the tree's store has its nodes). */
static double rate(struct bench *b, bool tree) {
    double t0 = now_s();
    for (int i = 0; i < MEASURED_BLOCKS; i++) block(b, tree);
    return (double)(MEASURED_BLOCKS * TXS_PER_BLOCK) / (now_s() - t0);
}

static int64_t one_int(struct mc_store *s, const char *sql) {
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(mc_store_db(s), sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int main(void) {
    mc_crypto_init();
    double bound = bench_ed25519_bound(0);
    printf("bound: %.0f Ed25519 verifications/s (all cores)\n", bound);

    /* Two stores filled alike; then the same blocks, flat hash vs tree. */
    struct bench flat, smt;
    open_bench(&flat, "flat");
    open_bench(&smt, "smt");
    for (int i = 0; i < WARM_BLOCKS; i++) {
        block(&flat, false);
        block(&smt, true);
    }
    double r_flat = rate(&flat, false), r_tree = rate(&smt, true);
    /* again in the other order, so the cache warms both alike */
    double r_tree2 = rate(&smt, true), r_flat2 = rate(&flat, false);
    r_flat = (r_flat + r_flat2) / 2;
    r_tree = (r_tree + r_tree2) / 2;
    printf("state writes, %d-tx blocks over %llu rows: %.0f tx/s with the former flat hash, "
           "%.0f tx/s with the state tree (%.0f%% of it; %.2f of the bound)\n",
           TXS_PER_BLOCK, (unsigned long long)(smt.tx * 3), r_flat, r_tree, 100.0 * r_tree / r_flat,
           r_tree / bound);

    /* Proofs: generation from SQLite (one read transaction each) and
     * verification, for keys present and absent. */
    struct mc_smt_io io;
    mc_smt_io_kv(&io, mc_store_kv(smt.store));
    mc_hash root;
    if (mc_smt_root(&io, &root)) abort();
    struct mc_stateproof *p = malloc(sizeof *p);
    struct mc_buf val;
    mc_buf_init(&val, 0);
    unsigned depth_sum = 0;
    double t0 = now_s();
    for (int i = 0; i < PROOFS; i++) {
        char k[64];
        int kl = snprintf(k, sizeof k, "rr/record-%012llu", (unsigned long long)(i * 7919ull % (smt.tx * 2)));
        mc_hash kh;
        mc_sha256(&kh, k, (size_t)kl);
        if (mc_store_read_begin(smt.store)) abort();
        mc_buf_reset(&val);
        int g = mc_kv_get(mc_store_kv(smt.store), k, (size_t)kl, &val);
        if (g && g != MC_ERR_NOT_FOUND) abort();
        if (mc_smt_prove(&io, &kh, p)) abort();
        mc_store_read_end(smt.store);
        depth_sum += p->depth;
    }
    double gen = PROOFS / (now_s() - t0);
    /* verification of one proof many times (the verifier is pure) */
    char k[64];
    int kl = snprintf(k, sizeof k, "rr/record-%012llu", 12345ull);
    mc_hash kh;
    mc_sha256(&kh, k, (size_t)kl);
    mc_buf_reset(&val);
    if (mc_kv_get(mc_store_kv(smt.store), k, (size_t)kl, &val) || mc_smt_prove(&io, &kh, p)) abort();
    t0 = now_s();
    for (int i = 0; i < PROOFS; i++)
        if (mc_stateproof_verify(p, &root, k, (size_t)kl, val.data, val.len)) abort();
    double ver = PROOFS / (now_s() - t0);
    printf("state proofs: %.0f generated/s from SQLite, %.0f verified/s (%.1f hashes deep on average "
           "over %llu rows; %.2f and %.2f of the bound)\n",
           gen, ver, (double)depth_sum / PROOFS, (unsigned long long)(smt.tx * 3), gen / bound, ver / bound);

    /* Disk: the two stores hold the same rows; the tree's store adds its nodes. */
    if (sqlite3_exec(mc_store_db(flat.store), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) ||
        sqlite3_exec(mc_store_db(smt.store), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL))
        fprintf(stderr, "checkpoint failed\n");
    int64_t pf = one_int(flat.store, "PRAGMA page_count") * one_int(flat.store, "PRAGMA page_size");
    int64_t ps = one_int(smt.store, "PRAGMA page_count") * one_int(smt.store, "PRAGMA page_size");
    int64_t nodes = one_int(smt.store, "SELECT count(*) FROM state WHERE key < x'01'");
    printf("disk: %.0f bytes/tx of state rows, %.0f bytes/tx with the tree (%lld tree nodes for %llu rows)\n",
           (double)pf / (double)flat.tx, (double)ps / (double)smt.tx, (long long)nodes,
           (unsigned long long)(smt.tx * 3));
    free(p);
    mc_buf_deinit(&val);
    close_bench(&flat);
    close_bench(&smt);
    return 0;
}
