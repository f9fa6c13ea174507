/* Full-chain verification (contract in verify.h). */
#include "node/verify.h"

#include "chain/smt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "node/blockexec.h"
#include "base/hex.h"
#include "chain/block.h"
#include "crypto/merkle.h"
#include "node/node.h"

static int bad(struct mc_verify_report *r, uint64_t height, const char *object,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int bad(struct mc_verify_report *r, uint64_t height, const char *object, const char *fmt,
               ...) {
    r->ok = 0;
    r->bad_height = height;
    snprintf(r->object, sizeof r->object, "%s", object);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    return 1;
}

static int64_t count_rows(sqlite3 *db, const char *sql, int64_t arg) {
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (arg >= 0) sqlite3_bind_int64(st, 1, arg);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Compares the stored state table with the re-executed one, row by row. */
static int compare_state(sqlite3 *a, sqlite3 *b, struct mc_verify_report *r, uint64_t height) {
    sqlite3_stmt *sa, *sb;
    const char *q = "SELECT key, value FROM state ORDER BY key";
    if (sqlite3_prepare_v2(a, q, -1, &sa, NULL) != SQLITE_OK) return -1;
    if (sqlite3_prepare_v2(b, q, -1, &sb, NULL) != SQLITE_OK) { sqlite3_finalize(sa); return -1; }
    int verdict = 0;
    for (;;) {
        int ra = sqlite3_step(sa), rb = sqlite3_step(sb);
        if (ra == SQLITE_DONE && rb == SQLITE_DONE) break;
        if (ra != SQLITE_ROW || rb != SQLITE_ROW) {
            verdict = bad(r, height, "state row", ra == SQLITE_ROW ? "stored state has a row that re-execution does not produce"
                                                              : "stored state lacks a row that re-execution produces");
            break;
        }
        r->state_rows_checked++;
        int ka = sqlite3_column_bytes(sa, 0), kb = sqlite3_column_bytes(sb, 0);
        int va = sqlite3_column_bytes(sa, 1), vb = sqlite3_column_bytes(sb, 1);
        const void *pka = sqlite3_column_blob(sa, 0), *pkb = sqlite3_column_blob(sb, 0);
        if (ka != kb || memcmp(pka, pkb, (size_t)ka) != 0 || va != vb ||
            memcmp(sqlite3_column_blob(sa, 1), sqlite3_column_blob(sb, 1), (size_t)va) != 0) {
            char hx[129];
            int kn = ka < 64 ? ka : 64;
            mc_hex_encode(hx, pka, (size_t)kn);
            verdict = bad(r, height, "state row", "stored row with key %s differs from the re-executed state", hx);
            break;
        }
    }
    sqlite3_finalize(sa);
    sqlite3_finalize(sb);
    return verdict;
}

/* A pruned chain's state: the root of its rows, computed from the rows
 * alone (mc_smt_root_of), and the root of its stored tree must both be the
 * latest header's state root. Returns 1 on a mismatch, -1 on an error. */
static int check_state_root(struct mc_store *s, struct mc_verify_report *r, uint64_t height) {
    struct mc_header hd;
    if (mc_store_get_header(s, height, &hd, NULL)) return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(mc_store_db(s), "SELECT key, value FROM state WHERE key >= x'01'", -1, &st, NULL) != SQLITE_OK)
        return -1;
    size_t n = 0, cap = 1024;
    struct mc_smt_change *rows = malloc(cap * sizeof *rows);
    int v = rows ? 0 : -1;
    while (!v && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            struct mc_smt_change *m = realloc(rows, 2 * cap * sizeof *rows);
            if (!m) { v = -1; break; }
            rows = m;
            cap *= 2;
        }
        mc_sha256(&rows[n].key_hash, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        mc_sha256(&rows[n].value_hash, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
        rows[n++].present = true;
    }
    sqlite3_finalize(st);
    mc_hash root, stored;
    if (!v) {
        r->state_rows_checked = n;
        mc_smt_sort(rows, n);
        if (mc_smt_root_of(rows, n, &root)) v = bad(r, height, "state", "two state rows share a key hash");
        else if (memcmp(root.b, hd.state_hash.b, 32))
            v = bad(r, height, "state", "the stored rows do not hash to the latest header's state root");
    }
    struct mc_smt_io io;
    mc_smt_io_kv(&io, mc_store_kv(s));
    if (!v && (mc_smt_root(&io, &stored) || memcmp(stored.b, hd.state_hash.b, 32)))
        v = bad(r, height, "state tree", "the stored state tree's root is not the latest header's state root");
    free(rows);
    return v;
}

/* The block holding ledger log leaf `index`, for the report (0 if none). */
static uint64_t height_of_leaf(sqlite3 *db, uint64_t index) {
    int64_t h = count_rows(db, "SELECT coalesce(max(height),0) FROM txs WHERE log_index=?",
                           (int64_t)index);
    return h > 0 ? (uint64_t)h : 0;
}

/* Checks the cached perfect-subtree hashes (log_nodes, see store.c)
 * against the ledger log's leaves, which check_block has already matched
 * to the transactions: each cached hash is recomputed by streaming the
 * leaves through a frontier, and the table must hold exactly the
 * n - popcount(n) subtrees of a log of n leaves. Proofs served by the API
 * come from this cache. Returns 1 on a mismatch, -1 on an error, 0 when
 * every row matched (or the table predates the cache and is absent: a
 * read-write open rebuilds it from the leaves). */
static int check_log_nodes(struct mc_store *s, struct mc_verify_report *r, uint64_t height) {
    sqlite3 *db = mc_store_db(s);
    int64_t rows = count_rows(db, "SELECT count(*) FROM log_nodes", -1);
    if (rows < 0) return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT leaf FROM log ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
        return -1;
    mc_hash stack[64];
    uint64_t i = 0;
    int v = 0, step;
    while (!v && (step = sqlite3_step(st)) == SQLITE_ROW) {
        mc_hash carry;
        if (sqlite3_column_bytes(st, 0) != 32) {
            v = bad(r, height_of_leaf(db, i), "log leaf", "ledger log leaf %llu has the wrong length", (unsigned long long)i);
            break;
        }
        memcpy(carry.b, sqlite3_column_blob(st, 0), 32);
        unsigned level = 0;
        for (; level < 63 && (i >> level & 1); level++) {
            mc_merkle_node_hash(&carry, &stack[level], &carry);
            mc_hash stored;
            uint64_t index = i >> (level + 1);
            int rc = mc_store_log_node(s, level + 1, index, &stored);
            if (rc == MC_ERR_NOT_FOUND || rc == MC_ERR_TAMPERED || (!rc && memcmp(stored.b, carry.b, 32))) {
                v = bad(r, height_of_leaf(db, i), "log node", "cached subtree (level %u, index %llu) %s the ledger log's leaves",
                        level + 1, (unsigned long long)index, rc ? "is missing or malformed, unlike" : "does not match");
                break;
            }
            if (rc) { v = -1; break; }
            r->log_nodes_checked++;
        }
        stack[level] = carry;
        i++;
    }
    if (!v && step != SQLITE_DONE) v = -1;
    sqlite3_finalize(st);
    uint64_t expected = i - (uint64_t)__builtin_popcountll(i);
    if (!v && rows != (int64_t)expected)
        v = bad(r, height, "log nodes", "%lld cached subtree rows for a log of %llu leaves, expected %llu",
                (long long)rows, (unsigned long long)i, (unsigned long long)expected);
    return v;
}

/* The leaf a state-synced store's log was seeded with (store.h,
 * mc_store_log_seed): 1 when its base size is odd. */
static int seeded_leaf(struct mc_store *s) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int odd = mc_store_meta_get(s, "log_base", &b) == 0 && b.len == 8 && (b.data[7] & 1);
    mc_buf_deinit(&b);
    return odd;
}

/* Checks block h; returns 1 on a mismatch (report filled), -1 on an error
 * that stops verification, 0 when the block is good. */
static int check_block(struct mc_store *s, struct mc_store *scratch, struct mc_app *app,
                       struct mc_app *vapp, uint64_t pruned, const struct mc_genesis *g,
                       uint64_t h, mc_hash *prev_hash, uint64_t *prev_time,
                       struct mc_verify_report *r) {
    struct mc_buf hb, lcb, cb, txb;
    mc_buf_init(&hb, 0);
    mc_buf_init(&lcb, 0);
    mc_buf_init(&cb, 0);
    mc_buf_init(&txb, 0);
    mc_hash stored_hash, hash;
    struct mc_header hd;
    struct mc_commit cert, last;
    struct mc_tx_ref *txs = NULL;
    uint8_t **owned = NULL;
    mc_hash *leaves = NULL;
    struct mc_gov_valset *vs = NULL;
    int v = 0;
    uint32_t n = 0;
    int rc = mc_store_get_block_raw(s, h, &stored_hash, &hb, &lcb, &cb);
    if (rc == MC_ERR_NOT_FOUND) { v = bad(r, h, "block", "block is missing"); goto out; }
    if (rc) { v = bad(r, h, "block", "cannot read block: %s", mc_err_detail()); goto out; }
    if (mc_header_decode(&hd, hb.data, hb.len)) { v = bad(r, h, "header", "header does not decode"); goto out; }
    mc_sha256(&hash, hb.data, hb.len);
    if (memcmp(hash.b, stored_hash.b, 32)) { v = bad(r, h, "block hash", "stored block hash does not match the header"); goto out; }
    if (hd.height != h || strcmp(hd.chain_id, g->chain_id)) { v = bad(r, h, "header", "header names height %llu of chain '%s'", (unsigned long long)hd.height, hd.chain_id); goto out; }
    if (memcmp(hd.prev.b, prev_hash->b, 32)) { v = bad(r, h, "prev link", "header's previous-block hash does not match block %llu", (unsigned long long)h - 1); goto out; }
    if (hd.time_ms <= *prev_time) { v = bad(r, h, "header", "block time does not increase"); goto out; }
    /* The re-executed ledger (state after h - 1) names the validator sets
     * of h and h - 1 (genesis or governance). */
    vs = malloc(sizeof *vs);
    if (!vs || mc_app_valset_at(vapp, h, vs)) { v = -1; goto out; }
    mc_hash vh;
    mc_valset_hash(&vs->vs, &vh);
    if (memcmp(vh.b, hd.valset_hash.b, 32)) { v = bad(r, h, "header", "validator set hash does not match the ledger's set of this height"); goto out; }
    if (mc_valset_find(&vs->vs, &hd.proposer) < 0) { v = bad(r, h, "header", "proposer is not a validator"); goto out; }
    if (mc_commit_decode(&cert, cb.data, cb.len)) { v = bad(r, h, "certificate", "certificate does not decode"); goto out; }
    if (mc_commit_verify(&cert, &vs->vs, g->chain_id, h, &hash)) { v = bad(r, h, "certificate", "%s", mc_err_detail()); goto out; }
    if (h == 1) {
        static const uint8_t zero[32];
        if (lcb.len || memcmp(hd.last_commit_hash.b, zero, 32)) { v = bad(r, h, "previous certificate", "block 1 carries a previous certificate"); goto out; }
    } else {
        mc_hash lh;
        if (mc_commit_decode(&last, lcb.data, lcb.len)) { v = bad(r, h, "previous certificate", "carried certificate does not decode"); goto out; }
        mc_commit_hash(&last, &lh);
        if (memcmp(lh.b, hd.last_commit_hash.b, 32)) { v = bad(r, h, "previous certificate", "carried certificate does not match the header"); goto out; }
        if (mc_app_valset_at(vapp, h - 1, vs)) { v = -1; goto out; }
        if (mc_commit_verify(&last, &vs->vs, g->chain_id, h - 1, prev_hash)) { v = bad(r, h, "previous certificate", "%s", mc_err_detail()); goto out; }
    }
    int64_t rows = count_rows(mc_store_db(s), "SELECT count(*) FROM txs WHERE height=?", (int64_t)h);
    if (rows != hd.tx_count) { v = bad(r, h, "transactions", "%lld transaction rows, header says %u", (long long)rows, hd.tx_count); goto out; }
    n = hd.tx_count;
    txs = calloc(n ? n : 1, sizeof *txs);
    owned = calloc(n ? n : 1, sizeof *owned);
    leaves = calloc(n ? n : 1, sizeof *leaves);
    if (!txs || !owned || !leaves) { v = -1; goto out; }
    uint64_t log_start = hd.log_size - n;
    if (hd.log_size < n) { v = bad(r, h, "header", "log size smaller than the block's transactions"); goto out; }
    for (uint32_t i = 0; i < n; i++) {
        char obj[32];
        snprintf(obj, sizeof obj, "tx %u", i);
        mc_hash id, want;
        uint64_t li;
        mc_buf_reset(&txb);
        if (h < pruned) {
            /* bytes pruned: the row's id and log index, and the log leaf
             * (which the block's tx_root is checked against below) */
            if (mc_store_get_tx(s, h, i, NULL, &id, &li)) { v = bad(r, h, obj, "transaction row is missing"); goto out; }
            if (li != log_start + i) { v = bad(r, h, obj, "log index %llu, expected %llu", (unsigned long long)li, (unsigned long long)(log_start + i)); goto out; }
            if (mc_store_log_leaf(s, li, &leaves[i])) { v = bad(r, h, "log leaf", "ledger log leaf %llu is missing", (unsigned long long)li); goto out; }
            r->txs_checked++;
            continue;
        }
        if (mc_store_get_tx(s, h, i, &txb, &id, &li)) { v = bad(r, h, obj, "transaction is missing"); goto out; }
        mc_tx_id(&want, txb.data, txb.len);
        if (memcmp(id.b, want.b, 32)) { v = bad(r, h, obj, "stored transaction id does not match its bytes"); goto out; }
        if (li != log_start + i) { v = bad(r, h, obj, "log index %llu, expected %llu", (unsigned long long)li, (unsigned long long)(log_start + i)); goto out; }
        struct mc_tx tx;
        if (mc_tx_decode(&tx, txb.data, txb.len)) { v = bad(r, h, obj, "transaction does not decode"); goto out; }
        if (mc_app_check_envelope(app, &tx, txb.data, txb.len, true)) { v = bad(r, h, obj, "%s", mc_err_detail()); goto out; }
        mc_hash leaf, stored_leaf;
        mc_merkle_leaf_hash(&leaf, txb.data, txb.len);
        if (mc_store_log_leaf(s, li, &stored_leaf) || memcmp(leaf.b, stored_leaf.b, 32)) {
            v = bad(r, h, "log leaf", "ledger log leaf %llu does not match transaction %u", (unsigned long long)li, i);
            goto out;
        }
        leaves[i] = leaf;
        owned[i] = malloc(txb.len ? txb.len : 1);
        if (!owned[i]) { v = -1; goto out; }
        memcpy(owned[i], txb.data, txb.len);
        txs[i].bytes = owned[i];
        txs[i].len = txb.len;
        r->txs_checked++;
    }
    mc_hash root;
    mc_merkle_root_array(&root, leaves, n);
    if (memcmp(root.b, hd.tx_root.b, 32)) { v = bad(r, h, "tx root", "transactions do not hash to the header's root"); goto out; }
    if (pruned) {
        /* A pruned chain cannot be re-executed from genesis: its state is
         * checked against the latest header's state root instead. */
        *prev_hash = hash;
        *prev_time = hd.time_ms;
        goto out;
    }
    /* Re-execute. */
    if (mc_app_begin_block(app, h, hd.time_ms)) { v = -1; goto out; }
    for (uint32_t i = 0; i < n; i++) {
        if (mc_app_deliver(app, txs[i].bytes, txs[i].len, false)) {
            char obj[32];
            snprintf(obj, sizeof obj, "tx %u", i);
            v = bad(r, h, obj, "re-execution refuses it: %s", mc_err_detail());
            mc_app_abort_block(app);
            goto out;
        }
    }
    mc_hash state_hash, log_root;
    uint64_t log_size;
    if (mc_app_end_block(app, &state_hash, &log_size, &log_root)) {
        v = bad(r, h, "state tree", "the state tree cannot be updated: %s", mc_err_detail());
        mc_app_abort_block(app);
        goto out;
    }
    if (log_size != hd.log_size || memcmp(log_root.b, hd.log_root.b, 32)) {
        v = bad(r, h, "log root", "ledger log after the block does not match the header");
        mc_app_abort_block(app);
        goto out;
    }
    if (memcmp(state_hash.b, hd.state_hash.b, 32)) {
        v = bad(r, h, "state hash", "re-executed state hash differs from the header's");
        mc_app_abort_block(app);
        goto out;
    }
    if (mc_store_begin(scratch) || mc_app_commit_block(app) || mc_store_commit(scratch)) { v = -1; goto out; }
    *prev_hash = hash;
    *prev_time = hd.time_ms;
out:
    if (owned)
        for (uint32_t i = 0; i < n; i++) free(owned[i]);
    free(owned);
    free(txs);
    free(leaves);
    free(vs);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&lcb);
    mc_buf_deinit(&cb);
    mc_buf_deinit(&txb);
    return v;
}

/* The first block a state-synced store holds (statesync.c): its header and
 * certificate only, checked against the validator set of its height. */
static int check_base(struct mc_store *s, struct mc_app *vapp, const struct mc_genesis *g, uint64_t h,
                      mc_hash *prev_hash, uint64_t *prev_time, struct mc_verify_report *r) {
    struct mc_buf hb, cb;
    mc_buf_init(&hb, 0);
    mc_buf_init(&cb, 0);
    mc_hash stored, hash;
    struct mc_header hd;
    struct mc_commit cert;
    struct mc_gov_valset *vs = malloc(sizeof *vs);
    int v = 0;
    int rc = mc_store_get_block_raw(s, h, &stored, &hb, NULL, &cb);
    if (!vs) v = -1;
    else if (rc) v = bad(r, h, "block", "the snapshot's block is missing");
    else if (mc_header_decode(&hd, hb.data, hb.len)) v = bad(r, h, "header", "header does not decode");
    if (!v) {
        mc_sha256(&hash, hb.data, hb.len);
        if (memcmp(hash.b, stored.b, 32)) v = bad(r, h, "block hash", "stored block hash does not match the header");
        else if (hd.height != h || strcmp(hd.chain_id, g->chain_id)) v = bad(r, h, "header", "header names another height or chain");
        else if (mc_app_valset_at(vapp, h, vs)) v = -1;
    }
    if (!v) {
        mc_hash vh;
        mc_valset_hash(&vs->vs, &vh);
        if (memcmp(vh.b, hd.valset_hash.b, 32)) v = bad(r, h, "header", "validator set hash does not match the ledger's set of this height");
        else if (mc_commit_decode(&cert, cb.data, cb.len)) v = bad(r, h, "certificate", "certificate does not decode");
        else if (mc_commit_verify(&cert, &vs->vs, g->chain_id, h, &hash)) v = bad(r, h, "certificate", "%s", mc_err_detail());
    }
    if (!v) {
        *prev_hash = hash;
        *prev_time = hd.time_ms;
    }
    free(vs);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    return v;
}

int mc_verify_chain(struct mc_store *s, const struct mc_genesis *g, struct mc_verify_report *r) {
    memset(r, 0, sizeof *r);
    r->ok = 1;
    mc_hash gh;
    mc_genesis_hash(g, &gh);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int have = mc_store_meta_get(s, "genesis_hash", &b);
    if (have || b.len != 32 || memcmp(b.data, gh.b, 32)) {
        mc_buf_deinit(&b);
        bad(r, 0, "genesis", "the database does not belong to this genesis");
        return 0;
    }
    mc_buf_deinit(&b);

    struct mc_store *scratch = NULL;
    struct mc_app *app = NULL;
    int rc = mc_store_open(&scratch, ":memory:", false);
    if (!rc) rc = mc_blockexec_app_open(&app, scratch, g);
    if (rc) {
        mc_app_close(app);
        mc_store_close(scratch);
        return rc;
    }
    /* A pruning node (store.h) kept no bytes below `pruned`: its blocks are
     * checked without re-execution, the validator sets come from its own
     * latest state (every set's row stays there), and its state is checked
     * against the latest header's state root. */
    uint64_t pruned = 0;
    struct mc_app *tipapp = NULL;
    rc = mc_store_pruned_below(s, &pruned);
    /* A state-synced store (statesync.c) holds the blocks from its
     * snapshot's height on: like a pruned one, checked without
     * re-execution from that height, its state against the latest root. */
    mc_buf_init(&b, 0);
    if (!rc && mc_store_meta_get(s, "state_sync", &b) == 0 && b.len == 40)
        for (int i = 0; i < 8; i++) r->from_height = r->from_height << 8 | b.data[i];
    mc_buf_deinit(&b);
    if (!rc && r->from_height && !pruned) pruned = 1;
    if (!rc && pruned) rc = mc_blockexec_app_open(&tipapp, s, g);
    if (rc) {
        mc_app_close(app);
        mc_store_close(scratch);
        return rc;
    }
    mc_buf_init(&b, 0);
    mc_hash s0;
    mc_app_state_hash(app, &s0);
    if (mc_store_meta_get(s, "genesis_state_hash", &b) || b.len != 32 || memcmp(b.data, s0.b, 32))
        bad(r, 0, "genesis state", "stored genesis state hash does not match genesis");
    mc_buf_deinit(&b);

    uint64_t height = 0;
    if (r->ok && (rc = mc_store_height(s, &height)) == 0) {
        int64_t nblocks = count_rows(mc_store_db(s), "SELECT count(*) FROM blocks", -1);
        uint64_t want = r->from_height ? height - r->from_height + 1 : height;
        if (nblocks != (int64_t)want)
            bad(r, 0, "blocks", "%lld block rows for height %llu: a block is missing", (long long)nblocks, (unsigned long long)height);
    }
    mc_hash prev = gh;
    uint64_t prev_time = 0;
    uint64_t first = 1;
    if (r->ok && r->from_height) {
        int v = check_base(s, tipapp, g, r->from_height, &prev, &prev_time, r);
        if (v < 0) rc = mc_err_set(MC_ERR_DB, "verification stopped at height %llu", (unsigned long long)r->from_height);
        if (v == 0) r->heights_checked++;
        first = r->from_height + 1;
    }
    for (uint64_t h = first; r->ok && !rc && h <= height; h++) {
        int v = check_block(s, scratch, app, tipapp ? tipapp : app, pruned, g, h, &prev, &prev_time, r);
        if (v < 0) rc = mc_err_set(MC_ERR_DB, "verification stopped at height %llu: %s", (unsigned long long)h, mc_err_detail());
        if (v == 0) r->heights_checked++;
    }
    if (r->ok && !rc) {
        int64_t txrows = count_rows(mc_store_db(s), "SELECT count(*) FROM txs", -1);
        int64_t logrows = count_rows(mc_store_db(s), "SELECT count(*) FROM log", -1);
        if (txrows != (int64_t)r->txs_checked) bad(r, height, "transactions", "%lld transaction rows outside any block", (long long)(txrows - (int64_t)r->txs_checked));
        else if (logrows != (int64_t)r->txs_checked + (int64_t)seeded_leaf(s)) bad(r, height, "log", "%lld ledger log rows for %llu transactions", (long long)logrows, (unsigned long long)r->txs_checked);
    }
    if (r->ok && !rc && !r->from_height) {
        int v = check_log_nodes(s, r, height);
        if (v < 0) rc = mc_err_set(MC_ERR_DB, "log node check failed: %s", mc_err_detail());
    }
    if (r->ok && !rc && !pruned) {
        int v = compare_state(mc_store_db(s), mc_store_db(scratch), r, height);
        if (v < 0) rc = mc_err_set(MC_ERR_DB, "state comparison failed");
    }
    if (r->ok && !rc && pruned) {
        int v = check_state_root(s, r, height);
        if (v < 0) rc = mc_err_set(MC_ERR_DB, "state root check failed: %s", mc_err_detail());
    }
    mc_app_close(tipapp);
    mc_app_close(app);
    mc_store_close(scratch);
    return rc;
}

int mc_verify_node(struct mc_node *n, struct mc_verify_report *report, uint64_t *height) {
    const char *home = mc_node_home(n);
    const struct mc_genesis *g = mc_node_genesis(n);
    *height = 0;
    if (!home || !home[0] || !g) return mc_err_set(MC_ERR_STATE, "this node has no files to verify");
    char db_path[1024];
    if ((size_t)snprintf(db_path, sizeof db_path, "%s/data/chain.db", home) >= sizeof db_path)
        return mc_err_set(MC_ERR_TOO_LARGE, "the node's home path is too long");
    struct mc_store *store = NULL;
    mc_err_clear();
    int rc = mc_store_open(&store, db_path, true);
    if (rc) return mc_err_set(rc, "cannot open the chain database: %s", mc_err_detail());
    rc = sqlite3_exec(mc_store_db(store), "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : MC_ERR_IO;
    if (!rc) rc = mc_store_height(store, height);
    if (!rc) rc = mc_verify_chain(store, g, report);
    (void)sqlite3_exec(mc_store_db(store), "COMMIT", NULL, NULL, NULL);
    if (rc) rc = mc_err_set(rc, "the verification could not run: %s", mc_err_detail());
    mc_store_close(store);
    return rc;
}
