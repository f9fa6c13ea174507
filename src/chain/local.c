/* Node-local rows in the node's database (contract in local.h). */
#include "chain/local.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct mc_local {
    sqlite3 *db;
    pthread_mutex_t lock; /* one call (one SQL transaction) at a time */
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS node_local(space TEXT NOT NULL, key BLOB NOT NULL, owner BLOB NOT NULL,"
    " value BLOB NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY(space, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS node_local_owner ON node_local(space, owner);";

#define LIVE "(expires_ms = 0 OR expires_ms > ?)"

static int db_err(struct mc_local *l, const char *what) {
    return mc_err_set(MC_ERR_DB, "node-local %s: %s", what, sqlite3_errmsg(l->db));
}

int mc_local_open(struct mc_local **out, const char *path) {
    *out = NULL;
    struct mc_local *l = calloc(1, sizeof *l);
    if (!l) return MC_ERR_NOMEM;
    if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        int rc = mc_err_set(MC_ERR_DB, "open %s: %s", path, l->db ? sqlite3_errmsg(l->db) : "out of memory");
        sqlite3_close(l->db);
        free(l);
        return rc;
    }
    sqlite3_busy_timeout(l->db, 5000);
    sqlite3_extended_result_codes(l->db, 1);
    if (sqlite3_exec(l->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(l->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        int rc = db_err(l, "schema");
        sqlite3_close(l->db);
        free(l);
        return rc;
    }
    pthread_mutex_init(&l->lock, NULL);
    *out = l;
    return 0;
}

void mc_local_close(struct mc_local *l) {
    if (!l) return;
    sqlite3_close(l->db);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static int prep(struct mc_local *l, sqlite3_stmt **st, const char *sql) {
    if (sqlite3_prepare_v2(l->db, sql, -1, st, NULL) != SQLITE_OK) return db_err(l, "prepare");
    return 0;
}

static void bind_blob(sqlite3_stmt *st, int i, const uint8_t *p, size_t n) {
    static const uint8_t none[1];
    sqlite3_bind_blob(st, i, n ? (const void *)p : none, (int)n, SQLITE_TRANSIENT);
}

static int step_done(struct mc_local *l, sqlite3_stmt *st, const char *what) {
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_err(l, what);
}

static int count(struct mc_local *l, const char *sql, const char *space, const uint8_t *owner, size_t owner_len,
                 uint64_t now, uint64_t *n) {
    sqlite3_stmt *st;
    int rc = prep(l, &st, sql);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, space, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
    if (owner) bind_blob(st, 3, owner, owner_len);
    rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_err(l, "count");
}

static bool begin(struct mc_local *l) {
    return sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
}

static int end(struct mc_local *l, int rc) {
    if (!rc && sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = db_err(l, "commit");
    if (rc) sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&l->lock);
    return rc;
}

static int insert_locked(struct mc_local *l, const struct mc_local_row *r, uint64_t now,
                         const struct mc_local_bounds *b) {
    sqlite3_stmt *st;
    /* an expired row with this key no longer counts */
    int rc = prep(l, &st, "DELETE FROM node_local WHERE space=? AND key=? AND NOT " LIVE);
    if (rc) return rc;
    sqlite3_bind_text(st, 1, r->space, -1, SQLITE_TRANSIENT);
    bind_blob(st, 2, r->key, r->key_len);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
    if ((rc = step_done(l, st, "expire"))) return rc;
    if ((rc = prep(l, &st, "SELECT owner FROM node_local WHERE space=? AND key=?"))) return rc;
    sqlite3_bind_text(st, 1, r->space, -1, SQLITE_TRANSIENT);
    bind_blob(st, 2, r->key, r->key_len);
    int s = sqlite3_step(st);
    bool exists = s == SQLITE_ROW, same = false;
    if (exists) {
        const void *o = sqlite3_column_blob(st, 0);
        size_t on = (size_t)sqlite3_column_bytes(st, 0);
        same = on == r->owner_len && (on == 0 || memcmp(o, r->owner, on) == 0);
    }
    sqlite3_finalize(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE) return db_err(l, "lookup");
    if (exists && !same) return mc_err_set(MC_ERR_EXISTS, "the key is taken");
    if (b && b->replace_owner) {
        if ((rc = prep(l, &st, "DELETE FROM node_local WHERE space=? AND owner=?"))) return rc;
        sqlite3_bind_text(st, 1, r->space, -1, SQLITE_TRANSIENT);
        bind_blob(st, 2, r->owner, r->owner_len);
        if ((rc = step_done(l, st, "replace"))) return rc;
        exists = false;
    }
    if (!exists && b && b->per_owner) {
        uint64_t n;
        if ((rc = count(l, "SELECT count(*) FROM node_local WHERE space=?1 AND " "(expires_ms = 0 OR expires_ms > ?2)"
                           " AND owner=?3",
                        r->space, r->owner, r->owner_len, now, &n)))
            return rc;
        if (n >= b->per_owner) return mc_err_set(MC_ERR_FULL, "owner");
    }
    if (!exists && b && b->total) {
        uint64_t n;
        if ((rc = count(l, "SELECT count(*) FROM node_local WHERE space=?1 AND (expires_ms = 0 OR expires_ms > ?2)",
                        r->space, NULL, 0, now, &n)))
            return rc;
        if (n >= b->total) return mc_err_set(MC_ERR_FULL, "total");
    }
    if ((rc = prep(l, &st, "INSERT OR REPLACE INTO node_local VALUES(?,?,?,?,?)"))) return rc;
    sqlite3_bind_text(st, 1, r->space, -1, SQLITE_TRANSIENT);
    bind_blob(st, 2, r->key, r->key_len);
    bind_blob(st, 3, r->owner, r->owner_len);
    bind_blob(st, 4, r->value, r->value_len);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->expires_ms);
    return step_done(l, st, "insert");
}

int mc_local_insert(struct mc_local *l, const struct mc_local_row *r, uint64_t now, const struct mc_local_bounds *b) {
    if (!r->space || !r->key || !r->key_len) return mc_err_set(MC_ERR_INVALID, "a node-local row needs a key");
    pthread_mutex_lock(&l->lock);
    if (!begin(l)) {
        int rc = db_err(l, "begin");
        pthread_mutex_unlock(&l->lock);
        return rc;
    }
    return end(l, insert_locked(l, r, now, b));
}

int mc_local_get(struct mc_local *l, const char *space, const uint8_t *key, size_t key_len, uint64_t now,
                 struct mc_buf *value, struct mc_buf *owner, uint64_t *expires_ms) {
    pthread_mutex_lock(&l->lock);
    sqlite3_stmt *st;
    int rc = prep(l, &st, "SELECT value, owner, expires_ms FROM node_local WHERE space=? AND key=? AND " LIVE);
    if (!rc) {
        sqlite3_bind_text(st, 1, space, -1, SQLITE_TRANSIENT);
        bind_blob(st, 2, key, key_len);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            if (value) mc_buf_append(value, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
            if (owner) mc_buf_append(owner, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
            if (expires_ms) *expires_ms = (uint64_t)sqlite3_column_int64(st, 2);
            if (value && value->err) rc = value->err;
            else if (owner && owner->err) rc = owner->err;
        } else {
            rc = s == SQLITE_DONE ? MC_ERR_NOT_FOUND : db_err(l, "get");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&l->lock);
    return rc;
}

int mc_local_swap(struct mc_local *l, const char *space, const uint8_t *key, size_t key_len, uint64_t now,
                  const uint8_t *expect, size_t expect_len, const uint8_t *val, size_t val_len) {
    pthread_mutex_lock(&l->lock);
    if (!begin(l)) {
        int rc = db_err(l, "begin");
        pthread_mutex_unlock(&l->lock);
        return rc;
    }
    sqlite3_stmt *st;
    int rc = prep(l, &st, "UPDATE node_local SET value=? WHERE space=? AND key=? AND value=? AND " LIVE);
    if (!rc) {
        bind_blob(st, 1, val, val_len);
        sqlite3_bind_text(st, 2, space, -1, SQLITE_TRANSIENT);
        bind_blob(st, 3, key, key_len);
        bind_blob(st, 4, expect, expect_len);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
        rc = step_done(l, st, "swap");
    }
    if (!rc && sqlite3_changes(l->db) != 1) {
        uint64_t n = 0;
        rc = prep(l, &st, "SELECT count(*) FROM node_local WHERE space=? AND key=? AND " LIVE);
        if (!rc) {
            sqlite3_bind_text(st, 1, space, -1, SQLITE_TRANSIENT);
            bind_blob(st, 2, key, key_len);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
            if (sqlite3_step(st) == SQLITE_ROW) n = (uint64_t)sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
            rc = n ? mc_err_set(MC_ERR_STATE, "the row changed") : MC_ERR_NOT_FOUND;
        }
    }
    return end(l, rc);
}

int mc_local_list(struct mc_local *l, const char *space, const uint8_t *owner, size_t owner_len, uint64_t now,
                  size_t max, mc_local_row_fn fn, void *ctx) {
    pthread_mutex_lock(&l->lock);
    sqlite3_stmt *st;
    /* owner NULL: every owner's rows */
    int rc = prep(l, &st,
                  owner ? "SELECT key, value, expires_ms FROM node_local WHERE space=? AND owner=? AND " LIVE
                          " ORDER BY key LIMIT ?"
                        : "SELECT key, value, expires_ms FROM node_local WHERE space=? AND " LIVE
                          " ORDER BY key LIMIT ?");
    if (rc) {
        pthread_mutex_unlock(&l->lock);
        return rc;
    }
    int k = 1;
    sqlite3_bind_text(st, k++, space, -1, SQLITE_TRANSIENT);
    if (owner) bind_blob(st, k++, owner, owner_len);
    sqlite3_bind_int64(st, k++, (sqlite3_int64)now);
    sqlite3_bind_int64(st, k, (sqlite3_int64)max);
    /* Copies first, callbacks after: fn may call back into this handle. */
    struct item { uint8_t *key, *val; size_t kn, vn; uint64_t exp; } *items = calloc(max ? max : 1, sizeof *items);
    size_t n = 0;
    int s = SQLITE_ROW;
    if (!items) rc = MC_ERR_NOMEM;
    while (!rc && n < max && (s = sqlite3_step(st)) == SQLITE_ROW) {
        struct item *it = &items[n];
        it->kn = (size_t)sqlite3_column_bytes(st, 0);
        it->vn = (size_t)sqlite3_column_bytes(st, 1);
        it->key = malloc(it->kn + 1);
        it->val = malloc(it->vn + 1);
        it->exp = (uint64_t)sqlite3_column_int64(st, 2);
        if (!it->key || !it->val) {
            free(it->key);
            free(it->val);
            rc = MC_ERR_NOMEM;
            break;
        }
        if (it->kn) memcpy(it->key, sqlite3_column_blob(st, 0), it->kn);
        if (it->vn) memcpy(it->val, sqlite3_column_blob(st, 1), it->vn);
        n++;
    }
    if (!rc && s != SQLITE_ROW && s != SQLITE_DONE) rc = db_err(l, "list");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&l->lock);
    for (size_t i = 0; i < n; i++) {
        if (!rc) rc = fn(ctx, items[i].key, items[i].kn, items[i].val, items[i].vn, items[i].exp);
        free(items[i].key);
        free(items[i].val);
    }
    free(items);
    return rc;
}

int mc_local_delete(struct mc_local *l, const char *space, const uint8_t *key, size_t key_len, bool *removed) {
    pthread_mutex_lock(&l->lock);
    sqlite3_stmt *st;
    int rc = prep(l, &st, "DELETE FROM node_local WHERE space=? AND key=?");
    if (!rc) {
        sqlite3_bind_text(st, 1, space, -1, SQLITE_TRANSIENT);
        bind_blob(st, 2, key, key_len);
        rc = step_done(l, st, "delete");
    }
    if (removed) *removed = !rc && sqlite3_changes(l->db) > 0;
    pthread_mutex_unlock(&l->lock);
    return rc;
}

int mc_local_expire(struct mc_local *l, uint64_t now, uint64_t *removed) {
    pthread_mutex_lock(&l->lock);
    sqlite3_stmt *st;
    int rc = prep(l, &st, "DELETE FROM node_local WHERE expires_ms != 0 AND expires_ms <= ?");
    if (!rc) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
        rc = step_done(l, st, "expire");
    }
    if (removed) *removed = rc ? 0 : (uint64_t)sqlite3_changes(l->db);
    pthread_mutex_unlock(&l->lock);
    return rc;
}
