/* The store's ledger log and its perfect-subtree cache (log_nodes):
 * the cache is written with each block, holds exactly n - popcount(n)
 * rows, serves proofs identical to those rehashed from the leaves, and is
 * rebuilt from the leaves when a read-write open finds it missing (a
 * database from before the table existed). */
#include <criterion/criterion.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/commit.h"
#include "chain/store.h"
#include "crypto/merkle.h"

static char dir[64], path[96];
static mc_hash leaves[1200];
static uint64_t leaf_count;

static void setup(void) {
    mc_crypto_init();
    snprintf(dir, sizeof dir, "/tmp/medchain-test-store-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/chain.db", dir);
    leaf_count = 0;
}

static void teardown(void) {
    char wal[128], shm[128];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    rmdir(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

/* Appends block `height` with `count` distinct transactions. */
static void put_block(struct mc_store *s, uint64_t height, uint32_t count) {
    static uint8_t bytes[64][16];
    struct mc_tx_ref txs[64];
    cr_assert_leq(count, 64);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t k = leaf_count + i;
        memset(bytes[i], 0x5a, sizeof bytes[i]);
        memcpy(bytes[i], &k, sizeof k);
        txs[i] = (struct mc_tx_ref){bytes[i], sizeof bytes[i]};
        mc_merkle_leaf_hash(&leaves[k], bytes[i], sizeof bytes[i]);
    }
    struct mc_header h = {.height = height, .time_ms = height, .tx_count = count};
    snprintf(h.chain_id, sizeof h.chain_id, "medchain-test");
    h.log_size = leaf_count + count;
    mc_merkle_root_array(&h.log_root, leaves, h.log_size);
    mc_hash hash;
    mc_header_hash(&h, &hash);
    struct mc_commit c;
    mc_commit_init(&c, height, 0, &hash);
    cr_assert_eq(mc_store_begin(s), 0);
    cr_assert_eq(mc_store_put_block(s, &h, txs, count, NULL, &c, leaf_count), 0, "%s",
                 mc_err_detail());
    cr_assert_eq(mc_store_commit(s), 0);
    leaf_count += count;
}

static int64_t node_rows(struct mc_store *s) {
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(mc_store_db(s), "SELECT count(*) FROM log_nodes", -1, &st,
                                    NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* SHA-256 over every (level, idx, hash) row in key order. */
static mc_hash node_table_digest(struct mc_store *s) {
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(mc_store_db(s),
                                    "SELECT level, idx, hash FROM log_nodes ORDER BY level, idx",
                                    -1, &st, NULL), SQLITE_OK);
    mc_sha256_ctx ctx;
    mc_sha256_init(&ctx);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t key[2] = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)};
        mc_sha256_update(&ctx, key, sizeof key);
        mc_sha256_update(&ctx, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
    }
    sqlite3_finalize(st);
    mc_hash out;
    mc_sha256_final(&ctx, &out);
    return out;
}

/* Fast (node) and slow (leaf) proofs from the store agree and verify. */
static void check_proofs(struct mc_store *s, uint64_t index, uint64_t size1, uint64_t size) {
    mc_hash slow[MC_MERKLE_PATH_MAX], fast[MC_MERKLE_PATH_MAX], root, root1;
    size_t slow_len, fast_len;
    mc_merkle_root_array(&root, leaves, size);
    cr_assert_eq(mc_merkle_root_nodes(&root1, size, mc_store_log_node, s), 0);
    cr_assert_eq(memcmp(root.b, root1.b, 32), 0, "root of %llu", (unsigned long long)size);
    cr_assert_eq(mc_merkle_inclusion_proof(slow, &slow_len, index, size, mc_store_log_leaf, s), 0);
    cr_assert_eq(mc_merkle_inclusion_proof_nodes(fast, &fast_len, index, size, mc_store_log_node,
                                                 s), 0, "%s", mc_err_detail());
    cr_assert_eq(fast_len, slow_len);
    cr_assert_eq(memcmp(fast, slow, sizeof(mc_hash) * slow_len), 0);
    cr_assert_eq(mc_merkle_verify_inclusion(&leaves[index], index, size, fast, fast_len, &root), 0);
    mc_merkle_root_array(&root1, leaves, size1);
    cr_assert_eq(mc_merkle_consistency_proof(slow, &slow_len, size1, size, mc_store_log_leaf, s), 0);
    cr_assert_eq(mc_merkle_consistency_proof_nodes(fast, &fast_len, size1, size,
                                                   mc_store_log_node, s), 0);
    cr_assert_eq(fast_len, slow_len);
    cr_assert_eq(memcmp(fast, slow, sizeof(mc_hash) * slow_len), 0);
    cr_assert_eq(mc_merkle_verify_consistency(size1, size, &root1, &root, fast, fast_len), 0);
}

static uint64_t rng_state = 0x73746f7265ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static struct mc_store *build(void) {
    struct mc_store *s;
    cr_assert_eq(mc_store_open(&s, path, false), 0, "%s", mc_err_detail());
    for (uint64_t h = 1; leaf_count < 1000; h++) {
        put_block(s, h, (uint32_t)(rnd() % 41)); /* empty blocks too */
        uint64_t n = leaf_count;
        cr_assert_eq(node_rows(s), (int64_t)(n - (uint64_t)__builtin_popcountll(n)));
        if (n > 0) check_proofs(s, rnd() % n, 1 + rnd() % n, n);
    }
    return s;
}

Test(store, log_nodes_follow_the_log) {
    struct mc_store *s = build();
    uint64_t n = leaf_count;
    for (uint64_t i = 0; i < n; i += 7) check_proofs(s, i, 1 + i, n);
    /* Subtrees past the log's end are not there. */
    mc_hash h;
    cr_assert_eq(mc_store_log_node(s, 1, n / 2, &h), MC_ERR_NOT_FOUND);
    cr_assert_eq(mc_store_log_node(s, 0, n, &h), MC_ERR_NOT_FOUND);
    mc_store_close(s);
}

Test(store, log_nodes_are_rebuilt_when_missing) {
    struct mc_store *s = build();
    mc_hash want = node_table_digest(s);
    int64_t rows = node_rows(s);
    /* A database from before the cache: no table at all. A read-only
     * handle still opens and serves leaves but no subtrees. */
    cr_assert_eq(sqlite3_exec(mc_store_db(s), "DROP TABLE log_nodes", NULL, NULL, NULL),
                 SQLITE_OK);
    mc_store_close(s);
    cr_assert_eq(mc_store_open(&s, path, true), 0, "%s", mc_err_detail());
    mc_hash h;
    cr_assert_eq(mc_store_log_node(s, 0, 3, &h), 0);
    cr_assert_eq(mc_store_log_node(s, 1, 0, &h), MC_ERR_NOT_FOUND);
    mc_store_close(s);
    /* A read-write open rebuilds it, row for row. */
    cr_assert_eq(mc_store_open(&s, path, false), 0, "%s", mc_err_detail());
    cr_assert_eq(node_rows(s), rows);
    mc_hash got = node_table_digest(s);
    cr_assert_eq(memcmp(want.b, got.b, 32), 0);
    /* A partial table too; the log keeps growing on top of it. */
    cr_assert_eq(sqlite3_exec(mc_store_db(s), "DELETE FROM log_nodes WHERE level=2", NULL, NULL,
                              NULL), SQLITE_OK);
    mc_store_close(s);
    cr_assert_eq(mc_store_open(&s, path, false), 0);
    got = node_table_digest(s);
    cr_assert_eq(memcmp(want.b, got.b, 32), 0);
    uint64_t height;
    cr_assert_eq(mc_store_height(s, &height), 0);
    put_block(s, height + 1, 37);
    check_proofs(s, leaf_count - 1, leaf_count - 37, leaf_count);
    mc_store_close(s);
}
