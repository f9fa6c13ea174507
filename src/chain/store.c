/* SQLite block store (schema and guarantees in store.h). */
#include "chain/store.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/merkle.h"

struct mc_store {
    sqlite3 *db;
    sqlite3_stmt *put_block, *put_tx, *put_log, *get_block, *get_tx, *find_tx, *get_leaf,
        *height, *meta_get, *meta_put, *log_size, *put_node, *get_node, *read_begin, *read_end,
        *kv_get, *kv_put, *kv_del, *kv_begin, *kv_release, *kv_undo;
    /* The application's state as an mc_kv over the state table. */
    struct mc_kv kv;
    /* False only for a read-only handle on a database written before the
     * log_nodes table existed: mc_store_log_node then reports it absent. */
    bool have_nodes;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS blocks(height INTEGER PRIMARY KEY, hash BLOB NOT NULL,"
    " header BLOB NOT NULL, last_commit BLOB, commit_cert BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS txs(height INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " id BLOB NOT NULL, log_index INTEGER NOT NULL, bytes BLOB NOT NULL,"
    " PRIMARY KEY(height, idx)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS txs_id ON txs(id);"
    "CREATE INDEX IF NOT EXISTS blocks_hash ON blocks(hash);"
    "CREATE TABLE IF NOT EXISTS log(idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS log_nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS state(key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);";

static int db_err(struct mc_store *s, const char *what) {
    return mc_err_set(MC_ERR_DB, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int prep(struct mc_store *s, sqlite3_stmt **st, const char *sql) {
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return db_err(s, "prepare");
    return 0;
}

static int has_table(struct mc_store *s, const char *name, bool *out) {
    sqlite3_stmt *st;
    *out = false;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, "schema lookup");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(s, "schema lookup");
    sqlite3_finalize(st);
    return ret;
}

static int log_nodes_sync(struct mc_store *s);
static const struct mc_kv_ops store_kv_ops;

int mc_store_open(struct mc_store **out, const char *path, bool read_only) {
    *out = NULL;
    struct mc_store *s = calloc(1, sizeof *s);
    if (!s) return MC_ERR_NOMEM;
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        int rc = mc_err_set(MC_ERR_DB, "open %s: %s", path,
                            s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        free(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    int rc = 0;
    if (!read_only) {
        if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
                         NULL) != SQLITE_OK ||
            sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK)
            rc = db_err(s, "schema");
    }
    if (!rc) rc = prep(s, &s->put_block, "INSERT INTO blocks VALUES(?,?,?,?,?)");
    if (!rc) rc = prep(s, &s->put_tx, "INSERT INTO txs VALUES(?,?,?,?,?)");
    if (!rc) rc = prep(s, &s->put_log, "INSERT INTO log VALUES(?,?)");
    if (!rc) rc = prep(s, &s->get_block,
                       "SELECT hash, header, last_commit, commit_cert FROM blocks WHERE height=?");
    if (!rc) rc = prep(s, &s->get_tx, "SELECT bytes, id, log_index FROM txs WHERE height=? AND idx=?");
    if (!rc) rc = prep(s, &s->find_tx, "SELECT height, idx, log_index FROM txs WHERE id=?");
    if (!rc) rc = prep(s, &s->get_leaf, "SELECT leaf FROM log WHERE idx=?");
    if (!rc) rc = prep(s, &s->height, "SELECT coalesce(max(height),0) FROM blocks");
    if (!rc) rc = prep(s, &s->meta_get, "SELECT value FROM meta WHERE key=?");
    if (!rc) rc = prep(s, &s->meta_put, "INSERT OR REPLACE INTO meta VALUES(?,?)");
    if (!rc) rc = prep(s, &s->log_size, "SELECT coalesce(max(idx)+1,0) FROM log");
    if (!rc) rc = has_table(s, "log_nodes", &s->have_nodes);
    if (!rc && s->have_nodes) {
        rc = prep(s, &s->put_node, "INSERT INTO log_nodes VALUES(?,?,?)");
        if (!rc) rc = prep(s, &s->get_node, "SELECT hash FROM log_nodes WHERE level=? AND idx=?");
    }
    if (!rc) rc = prep(s, &s->read_begin, "SAVEPOINT mc_read");
    if (!rc) rc = prep(s, &s->read_end, "RELEASE mc_read");
    if (!rc) rc = prep(s, &s->kv_get, "SELECT value FROM state WHERE key=?");
    if (!rc) rc = prep(s, &s->kv_put, "INSERT OR REPLACE INTO state VALUES(?,?)");
    if (!rc) rc = prep(s, &s->kv_del, "DELETE FROM state WHERE key=?");
    if (!rc) rc = prep(s, &s->kv_begin, "SAVEPOINT mc_state");
    if (!rc) rc = prep(s, &s->kv_release, "RELEASE mc_state");
    if (!rc) rc = prep(s, &s->kv_undo, "ROLLBACK TO mc_state");
    s->kv.ops = &store_kv_ops;
    s->kv.impl = s;
    if (!rc && !read_only) rc = log_nodes_sync(s);
    if (rc) {
        mc_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void mc_store_close(struct mc_store *s) {
    if (!s) return;
    sqlite3_stmt *all[] = {s->put_block, s->put_tx, s->put_log, s->get_block, s->get_tx,
                           s->find_tx, s->get_leaf, s->height, s->meta_get, s->meta_put,
                           s->log_size, s->put_node, s->get_node, s->read_begin, s->read_end,
                           s->kv_get, s->kv_put, s->kv_del, s->kv_begin, s->kv_release,
                           s->kv_undo};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
    sqlite3_close(s->db);
    free(s);
}

sqlite3 *mc_store_db(struct mc_store *s) { return s->db; }
const char *mc_store_errmsg(struct mc_store *s) { return sqlite3_errmsg(s->db); }

int mc_store_begin(struct mc_store *s) {
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_err(s, "begin");
    return 0;
}

int mc_store_commit(struct mc_store *s) {
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = db_err(s, "commit");
        mc_store_rollback(s);
        return rc;
    }
    return 0;
}

void mc_store_rollback(struct mc_store *s) {
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A savepoint outside a transaction opens a deferred one, so the reads up
 * to its release share one snapshot and take the WAL read lock once
 * instead of once per statement; inside a transaction it only nests. */
int mc_store_read_begin(struct mc_store *s) {
    int rc = sqlite3_step(s->read_begin);
    sqlite3_reset(s->read_begin);
    return rc == SQLITE_DONE ? 0 : db_err(s, "read begin");
}

void mc_store_read_end(struct mc_store *s) {
    /* Releasing a read-only savepoint cannot fail in a way the reader
     * could act on; a failure leaves it open until the next release. */
    if (sqlite3_step(s->read_end) != SQLITE_DONE)
        mc_log_warn("store", "read end: %s", sqlite3_errmsg(s->db));
    sqlite3_reset(s->read_end);
}

/* Runs a statement that returns no rows, then resets it. */
static int step_done(struct mc_store *s, sqlite3_stmt *st, const char *what) {
    int rc = sqlite3_step(st);
    int out = rc == SQLITE_DONE ? 0 : db_err(s, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

static void buf_put_column(struct mc_buf *out, sqlite3_stmt *st, int col) {
    if (!out) return;
    const void *p = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);
    mc_buf_append(out, p, (size_t)n);
}

int mc_store_meta_get(struct mc_store *s, const char *key, struct mc_buf *out) {
    sqlite3_stmt *st = s->meta_get;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        buf_put_column(out, st, 0);
        ret = out && out->err ? out->err : 0;
    } else if (rc == SQLITE_DONE) {
        ret = MC_ERR_NOT_FOUND;
    } else {
        ret = db_err(s, "meta get");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

int mc_store_meta_put(struct mc_store *s, const char *key, const void *val, size_t len) {
    sqlite3_stmt *st = s->meta_put;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
    return step_done(s, st, "meta put");
}

static int single_u64(struct mc_store *s, sqlite3_stmt *st, uint64_t *out, const char *what) {
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) *out = (uint64_t)sqlite3_column_int64(st, 0);
    else ret = db_err(s, what);
    sqlite3_reset(st);
    return ret;
}

int mc_store_height(struct mc_store *s, uint64_t *height) {
    return single_u64(s, s->height, height, "height");
}

int mc_store_log_size(struct mc_store *s, uint64_t *size) {
    return single_u64(s, s->log_size, size, "log size");
}

/* ---- perfect-subtree cache of the ledger log ----------------------------
 *
 * log_nodes(level, idx, hash) holds, for every level >= 1, the hash of each
 * complete subtree of 2^level leaves: the one covering leaves
 * [idx << level, (idx + 1) << level). Level 0 is the log table itself. A
 * log of n leaves has exactly n - popcount(n) rows: leaf i closes one
 * subtree per trailing one bit of i, so appending costs amortised one row,
 * one read and one hash per leaf. Rows are derived data: they are written
 * in the block's SQL transaction, checked against the leaves by `medchain
 * verify`, and rebuilt from the leaves when a read-write open finds the
 * wrong number of them (a database from before the table existed). */

static int put_node(struct mc_store *s, unsigned level, uint64_t index, const mc_hash *hash) {
    sqlite3_stmt *st = s->put_node;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    sqlite3_bind_blob(st, 3, hash->b, MC_HASH_BYTES, SQLITE_STATIC);
    return step_done(s, st, "put log node");
}

int mc_store_log_node(void *store, unsigned level, uint64_t index, mc_hash *out) {
    struct mc_store *s = store;
    if (level == 0) return mc_store_log_leaf(s, index, out);
    if (!s->have_nodes)
        return mc_err_set(MC_ERR_NOT_FOUND, "the database has no log_nodes table yet");
    sqlite3_stmt *st = s->get_node;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == MC_HASH_BYTES)
        memcpy(out->b, sqlite3_column_blob(st, 0), MC_HASH_BYTES);
    else if (rc == SQLITE_ROW)
        ret = mc_err_set(MC_ERR_TAMPERED, "log node (%u, %llu) has the wrong length", level,
                         (unsigned long long)index);
    else if (rc == SQLITE_DONE)
        ret = mc_err_set(MC_ERR_NOT_FOUND, "no log node (%u, %llu)", level,
                         (unsigned long long)index);
    else
        ret = db_err(s, "log node");
    sqlite3_reset(st);
    return ret;
}

/* Writes the subtrees that leaf `index` completes: one per trailing one
 * bit, each the hash of its left sibling (already stored) and the carry. */
static int log_nodes_close(struct mc_store *s, uint64_t index, const mc_hash *leaf) {
    if (!s->have_nodes) return mc_err_set(MC_ERR_STATE, "read-only store");
    mc_hash carry = *leaf;
    for (unsigned level = 0; level < 63 && (index >> level & 1); level++) {
        mc_hash left;
        int rc = mc_store_log_node(s, level, (index >> level) - 1, &left);
        if (rc == MC_ERR_NOT_FOUND)
            rc = mc_err_set(MC_ERR_STATE, "log leaf %llu lands after a gap in the log",
                            (unsigned long long)index);
        if (rc) return rc;
        mc_merkle_node_hash(&carry, &left, &carry);
        rc = put_node(s, level + 1, index >> (level + 1), &carry);
        if (rc) return rc;
    }
    return 0;
}

static uint64_t log_nodes_expected(uint64_t size) {
    return size - (uint64_t)__builtin_popcountll(size);
}

/* Rebuilds log_nodes from the leaves when its row count is not the one the
 * log's size implies. O(n) once; a matching count costs one count(*). */
static int log_nodes_sync(struct mc_store *s) {
    uint64_t size = 0;
    struct mc_buf base;
    mc_buf_init(&base, 0);
    int rc = mc_store_meta_get(s, "log_base", &base);
    mc_buf_deinit(&base);
    if (rc == 0) return 0; /* a log seeded from a frontier: no leaves below its base to rebuild from */
    if (rc != MC_ERR_NOT_FOUND) return rc;
    rc = mc_store_log_size(s, &size);
    if (rc) return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM log_nodes", -1, &st, NULL) != SQLITE_OK)
        return db_err(s, "count log nodes");
    uint64_t have = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (have == log_nodes_expected(size)) return 0;
    mc_log_warn("store", "rebuilding log_nodes: %llu rows for a log of %llu leaves",
                (unsigned long long)have, (unsigned long long)size);
    rc = mc_store_begin(s);
    if (rc) return rc;
    if (sqlite3_exec(s->db, "DELETE FROM log_nodes", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_err(s, "clear log nodes");
    if (!rc && sqlite3_prepare_v2(s->db, "SELECT idx, leaf FROM log ORDER BY idx", -1, &st,
                                  NULL) != SQLITE_OK)
        rc = db_err(s, "read log");
    if (!rc) {
        /* The frontier: stack[l] is the pending left subtree of 2^l leaves. */
        mc_hash stack[64];
        uint64_t i = 0;
        int step = SQLITE_DONE;
        while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
            if ((uint64_t)sqlite3_column_int64(st, 0) != i ||
                sqlite3_column_bytes(st, 1) != MC_HASH_BYTES) {
                rc = mc_err_set(MC_ERR_TAMPERED, "ledger log row %llu is missing or malformed",
                                (unsigned long long)i);
                break;
            }
            mc_hash carry;
            memcpy(carry.b, sqlite3_column_blob(st, 1), MC_HASH_BYTES);
            unsigned level = 0;
            for (; level < 63 && (i >> level & 1); level++) {
                mc_merkle_node_hash(&carry, &stack[level], &carry);
                rc = put_node(s, level + 1, i >> (level + 1), &carry);
                if (rc) break;
            }
            stack[level] = carry;
            i++;
        }
        if (!rc && step != SQLITE_DONE) rc = db_err(s, "read log");
        sqlite3_finalize(st);
    }
    if (rc) {
        mc_store_rollback(s);
        return rc;
    }
    return mc_store_commit(s);
}

int mc_store_log_seed(struct mc_store *s, const struct mc_merkle_frontier *f) {
    uint64_t size = 0;
    int rc = mc_store_log_size(s, &size);
    if (rc) return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM log_nodes", -1, &st, NULL) != SQLITE_OK)
        return db_err(s, "count log nodes");
    uint64_t nodes = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 1;
    sqlite3_finalize(st);
    if (size || nodes) return mc_err_set(MC_ERR_STATE, "the ledger log is not empty");
    /* bit l of the size set: the subtree of 2^l leaves ending the log's
     * first size - (size mod 2^l) leaves, at index (size >> l) - 1 */
    for (unsigned l = 0; l < 64 && !rc; l++) {
        if (!(f->size >> l & 1)) continue;
        uint64_t idx = (f->size >> l) - 1;
        if (l == 0) {
            st = s->put_log;
            sqlite3_bind_int64(st, 1, (sqlite3_int64)idx);
            sqlite3_bind_blob(st, 2, f->nodes[0].b, 32, SQLITE_STATIC);
            rc = step_done(s, st, "put log");
        } else {
            rc = put_node(s, l, idx, &f->nodes[l]);
        }
    }
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(f->size >> (56 - 8 * i));
    if (!rc) rc = mc_store_meta_put(s, "log_base", b, 8);
    return rc;
}

static int encode_commit(struct mc_buf *b, const struct mc_commit *c) {
    mc_buf_init(b, 0);
    if (c) mc_commit_encode(b, c);
    return b->err;
}

int mc_store_put_block(struct mc_store *s, const struct mc_header *header,
                       const struct mc_tx_ref *txs, uint32_t count,
                       const struct mc_commit *last_commit, const struct mc_commit *commit,
                       uint64_t log_start) {
    struct mc_buf hb, lcb, cb;
    mc_buf_init(&hb, 0);
    mc_header_encode(&hb, header);
    int rc = hb.err;
    rc = rc ? rc : encode_commit(&lcb, last_commit);
    rc = rc ? rc : encode_commit(&cb, commit);
    mc_hash hash;
    mc_sha256(&hash, hb.data, hb.len);
    if (!rc) {
        sqlite3_stmt *st = s->put_block;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)header->height);
        sqlite3_bind_blob(st, 2, hash.b, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, hb.data, (int)hb.len, SQLITE_STATIC);
        if (last_commit) sqlite3_bind_blob(st, 4, lcb.data, (int)lcb.len, SQLITE_STATIC);
        else sqlite3_bind_null(st, 4);
        sqlite3_bind_blob(st, 5, cb.data, (int)cb.len, SQLITE_STATIC);
        rc = step_done(s, st, "put block");
    }
    for (uint32_t i = 0; i < count && !rc; i++) {
        mc_hash id, leaf;
        mc_tx_id(&id, txs[i].bytes, txs[i].len);
        mc_merkle_leaf_hash(&leaf, txs[i].bytes, txs[i].len);
        sqlite3_stmt *st = s->put_tx;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)header->height);
        sqlite3_bind_int64(st, 2, i);
        sqlite3_bind_blob(st, 3, id.b, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)(log_start + i));
        sqlite3_bind_blob(st, 5, txs[i].bytes, (int)txs[i].len, SQLITE_STATIC);
        rc = step_done(s, st, "put tx");
        if (rc) break;
        st = s->put_log;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)(log_start + i));
        sqlite3_bind_blob(st, 2, leaf.b, 32, SQLITE_STATIC);
        rc = step_done(s, st, "put log");
        if (!rc) rc = log_nodes_close(s, log_start + i, &leaf);
    }
    mc_buf_deinit(&hb);
    mc_buf_deinit(&lcb);
    mc_buf_deinit(&cb);
    return rc;
}

int mc_store_get_block_raw(struct mc_store *s, uint64_t height, mc_hash *hash,
                           struct mc_buf *header, struct mc_buf *last_commit,
                           struct mc_buf *commit) {
    sqlite3_stmt *st = s->get_block;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        if (hash) {
            if (sqlite3_column_bytes(st, 0) == 32) memcpy(hash->b, sqlite3_column_blob(st, 0), 32);
            else ret = mc_err_set(MC_ERR_TAMPERED, "block %llu: stored hash has wrong length",
                                  (unsigned long long)height);
        }
        buf_put_column(header, st, 1);
        buf_put_column(last_commit, st, 2);
        buf_put_column(commit, st, 3);
    } else if (rc == SQLITE_DONE) {
        ret = MC_ERR_NOT_FOUND;
    } else {
        ret = db_err(s, "get block");
    }
    sqlite3_reset(st);
    return ret;
}

int mc_store_get_header(struct mc_store *s, uint64_t height, struct mc_header *h, mc_hash *hash) {
    struct mc_buf hb;
    mc_buf_init(&hb, 0);
    int rc = mc_store_get_block_raw(s, height, hash, &hb, NULL, NULL);
    if (!rc) rc = hb.err ? hb.err : mc_header_decode(h, hb.data, hb.len);
    mc_buf_deinit(&hb);
    return rc;
}

int mc_store_get_commit(struct mc_store *s, uint64_t height, struct mc_commit *c) {
    struct mc_buf cb;
    mc_buf_init(&cb, 0);
    int rc = mc_store_get_block_raw(s, height, NULL, NULL, NULL, &cb);
    if (!rc) rc = cb.err ? cb.err : mc_commit_decode(c, cb.data, cb.len);
    mc_buf_deinit(&cb);
    return rc;
}

int mc_store_get_tx(struct mc_store *s, uint64_t height, uint32_t index, struct mc_buf *out,
                    mc_hash *id, uint64_t *log_index) {
    sqlite3_stmt *st = s->get_tx;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    sqlite3_bind_int64(st, 2, index);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        if (out && sqlite3_column_bytes(st, 0) == 0) {
            sqlite3_reset(st);
            return mc_err_set(MC_ERR_NOT_FOUND, "the bytes of transaction %u of block %llu were pruned",
                              index, (unsigned long long)height);
        }
        buf_put_column(out, st, 0);
        if (id) {
            if (sqlite3_column_bytes(st, 1) == 32) memcpy(id->b, sqlite3_column_blob(st, 1), 32);
            else memset(id->b, 0, 32);
        }
        if (log_index) *log_index = (uint64_t)sqlite3_column_int64(st, 2);
        if (out && out->err) ret = out->err;
    } else if (rc == SQLITE_DONE) {
        ret = MC_ERR_NOT_FOUND;
    } else {
        ret = db_err(s, "get tx");
    }
    sqlite3_reset(st);
    return ret;
}

int mc_store_pruned_below(struct mc_store *s, uint64_t *below) {
    *below = 0;
    struct mc_buf b;
    mc_buf_init(&b, 16);
    int rc = mc_store_meta_get(s, "pruned_below", &b);
    if (!rc && b.len == 8)
        for (int i = 0; i < 8; i++) *below = *below << 8 | b.data[i];
    else if (!rc) rc = mc_err_set(MC_ERR_TAMPERED, "the pruning mark is not 8 bytes");
    mc_buf_deinit(&b);
    return rc == MC_ERR_NOT_FOUND ? 0 : rc;
}

int mc_store_prune(struct mc_store *s, uint64_t below) {
    uint64_t was;
    int rc = mc_store_pruned_below(s, &was);
    if (rc || below <= was) return rc;
    if ((rc = mc_store_begin(s))) return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "UPDATE txs SET bytes = x'' WHERE height >= ? AND height < ?", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = db_err(s, "prune");
    } else {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)(was ? was : 1));
        sqlite3_bind_int64(st, 2, (sqlite3_int64)below);
        if (sqlite3_step(st) != SQLITE_DONE) rc = db_err(s, "prune");
        sqlite3_finalize(st);
    }
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(below >> (56 - 8 * i));
    if (!rc) rc = mc_store_meta_put(s, "pruned_below", b, 8);
    if (!rc) rc = mc_store_commit(s);
    else mc_store_rollback(s);
    return rc;
}

int mc_store_find_tx(struct mc_store *s, const mc_hash *id, uint64_t *height, uint32_t *index,
                     uint64_t *log_index) {
    sqlite3_stmt *st = s->find_tx;
    sqlite3_bind_blob(st, 1, id->b, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        *height = (uint64_t)sqlite3_column_int64(st, 0);
        *index = (uint32_t)sqlite3_column_int64(st, 1);
        if (log_index) *log_index = (uint64_t)sqlite3_column_int64(st, 2);
    } else if (rc == SQLITE_DONE) {
        ret = MC_ERR_NOT_FOUND;
    } else {
        ret = db_err(s, "find tx");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

int mc_store_find_block(struct mc_store *s, const mc_hash *hash, uint64_t *height) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT height FROM blocks WHERE hash = ?1", -1, &st, NULL) != SQLITE_OK)
        return db_err(s, "find block");
    sqlite3_bind_blob(st, 1, hash->b, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) *height = (uint64_t)sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE) ret = MC_ERR_NOT_FOUND;
    else ret = db_err(s, "find block");
    sqlite3_finalize(st);
    return ret;
}

int mc_store_log_leaf(void *store, uint64_t index, mc_hash *out) {
    struct mc_store *s = store;
    sqlite3_stmt *st = s->get_leaf;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) memcpy(out->b, sqlite3_column_blob(st, 0), 32);
    else if (rc == SQLITE_ROW) ret = mc_err_set(MC_ERR_TAMPERED, "log leaf %llu has wrong length", (unsigned long long)index);
    else if (rc == SQLITE_DONE) ret = MC_ERR_NOT_FOUND;
    else ret = db_err(s, "log leaf");
    sqlite3_reset(st);
    return ret;
}

/* ---- the application's state as an mc_kv (chain/kv.h) --------------------
 *
 * The write batch is a savepoint: inside the block's SQL transaction
 * (mc_store_begin ... mc_store_commit) it only nests, so the state rows,
 * the block, its transactions and its log entries still commit as one SQL
 * transaction; outside one (the genesis state of a fresh store) it opens a
 * transaction of its own. */

static int kv_get(void *impl, const void *key, size_t key_len, struct mc_buf *out) {
    struct mc_store *s = impl;
    sqlite3_stmt *st = s->kv_get;
    sqlite3_bind_blob(st, 1, key, (int)key_len, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret;
    if (rc == SQLITE_ROW) {
        buf_put_column(out, st, 0);
        ret = out->err;
    } else if (rc == SQLITE_DONE) {
        ret = MC_ERR_NOT_FOUND;
    } else {
        ret = mc_err_set(MC_ERR_DB, "state get: %s", sqlite3_errmsg(s->db));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

static int kv_scan(void *impl, const void *prefix, size_t prefix_len, mc_kv_row_fn fn,
                   void *ctx) {
    struct mc_store *s = impl;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM state WHERE key >= ? ORDER BY key",
                           -1, &st, NULL))
        return mc_err_set(MC_ERR_DB, "state scan: %s", sqlite3_errmsg(s->db));
    sqlite3_bind_blob(st, 1, prefix, (int)prefix_len, SQLITE_STATIC);
    int ret = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *k = sqlite3_column_blob(st, 0);
        size_t kn = (size_t)sqlite3_column_bytes(st, 0);
        if (kn < prefix_len || memcmp(k, prefix, prefix_len) != 0) break;
        int stop = fn(ctx, k, kn, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
        if (stop) {
            if (stop < 0) ret = stop;
            break;
        }
    }
    if (!ret && rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = mc_err_set(MC_ERR_DB, "state scan: %s", sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return ret;
}

static int kv_begin(void *impl) {
    struct mc_store *s = impl;
    return step_done(s, s->kv_begin, "state batch begin");
}

static int kv_put(void *impl, const void *key, size_t key_len, const void *value,
                  size_t value_len) {
    struct mc_store *s = impl;
    sqlite3_stmt *st = s->kv_put;
    sqlite3_bind_blob(st, 1, key, (int)key_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, value_len ? value : "", (int)value_len, SQLITE_STATIC);
    return step_done(s, st, "state write");
}

static int kv_del(void *impl, const void *key, size_t key_len) {
    struct mc_store *s = impl;
    sqlite3_stmt *st = s->kv_del;
    sqlite3_bind_blob(st, 1, key, (int)key_len, SQLITE_STATIC);
    return step_done(s, st, "state write");
}

static void kv_rollback(void *impl) {
    struct mc_store *s = impl;
    /* Undo the batch's writes, then drop the savepoint itself. Failing here
     * leaves an enclosing transaction to the caller's rollback. */
    if (sqlite3_step(s->kv_undo) != SQLITE_DONE)
        mc_log_warn("store", "state batch rollback: %s", sqlite3_errmsg(s->db));
    sqlite3_reset(s->kv_undo);
    if (sqlite3_step(s->kv_release) != SQLITE_DONE)
        mc_log_warn("store", "state batch release: %s", sqlite3_errmsg(s->db));
    sqlite3_reset(s->kv_release);
}

static int kv_commit(void *impl) {
    struct mc_store *s = impl;
    int rc = step_done(s, s->kv_release, "state batch commit");
    if (rc) kv_rollback(s);
    return rc;
}

static int kv_read_begin(void *impl) { return mc_store_read_begin(impl); }
static void kv_read_end(void *impl) { mc_store_read_end(impl); }

static const struct mc_kv_ops store_kv_ops = {
    .get = kv_get, .scan = kv_scan, .begin = kv_begin, .put = kv_put, .del = kv_del,
    .commit = kv_commit, .rollback = kv_rollback, .read_begin = kv_read_begin,
    .read_end = kv_read_end,
};

struct mc_kv *mc_store_kv(struct mc_store *s) { return &s->kv; }
