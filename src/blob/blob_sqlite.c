/* The SQLite blob backend (see blob.h): the bytes in the node's database.
 *
 *   blobs(id BLOB PRIMARY KEY   -- SHA-256 of the bytes, 32 bytes
 *         bytes BLOB NOT NULL   -- the ciphertext; empty once purged
 *         purged INTEGER        -- 0 live, 1 purged (erasure)
 *         size INTEGER          -- length of the bytes as stored
 *         pending INTEGER       -- 1 until a committed anchor names it
 *         since INTEGER)        -- wall-clock seconds of the first put
 *
 *         obj INTEGER)          -- 0: the bytes are inline; else a streamed
 *                               -- blob's pieces in blob_pieces
 *   blob_pieces(obj, seq, bytes)  a streamed blob in MC_BLOB_PIECE rows
 *   blob_uploads(obj, since)      streamed uploads in flight (their pieces
 *                                 are not a blob yet; rows a crash left are
 *                                 dropped when the store is opened, and the
 *                                 sweep lists those older than its grace)
 *
 * The store opens its own connection to the database file, serialised by
 * its own mutex. Databases made before pending/since/obj get the columns
 * added (0: their blobs are live and inline). */
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "blob/backend.h"

struct sqlite_be {
    sqlite3 *db;
    pthread_mutex_t lock;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS blobs(id BLOB PRIMARY KEY, bytes BLOB NOT NULL,"
    " purged INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL,"
    " pending INTEGER NOT NULL DEFAULT 0, since INTEGER NOT NULL DEFAULT 0,"
    " obj INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS blob_pieces(obj INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " bytes BLOB NOT NULL, PRIMARY KEY(obj, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS blob_uploads(obj INTEGER PRIMARY KEY AUTOINCREMENT,"
    " since INTEGER NOT NULL);";

static int db_err(struct sqlite_be *bs, const char *what) {
    return mc_err_set(MC_ERR_DB, "blob store: %s: %s", what, sqlite3_errmsg(bs->db));
}

static void sq_close(void *be) {
    struct sqlite_be *bs = be;
    if (!bs) return;
    sqlite3_close(bs->db);
    pthread_mutex_destroy(&bs->lock);
    free(bs);
}

/* Whether the blobs table has the column. */
static bool has_column(sqlite3 *db, const char *col) {
    sqlite3_stmt *s = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('blobs') WHERE name=?", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(s, 1, col, -1, SQLITE_STATIC);
        found = sqlite3_step(s) == SQLITE_ROW;
    }
    sqlite3_finalize(s);
    return found;
}

int mc__blob_sqlite_open(void **out, const char *path) {
    *out = NULL;
    struct sqlite_be *bs = calloc(1, sizeof *bs);
    if (!bs) return MC_ERR_NOMEM;
    pthread_mutex_init(&bs->lock, NULL);
    int rc = 0;
    if (sqlite3_open_v2(path, &bs->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        rc = mc_err_set(MC_ERR_DB, "cannot open blob store %s", path);
    } else {
        sqlite3_busy_timeout(bs->db, 10000);
        /* secure_delete: freed pages are zeroed, so purged ciphertext does
         * not linger in free pages of the database file. */
        if (sqlite3_exec(bs->db,
                         "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         " PRAGMA secure_delete=ON;",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(bs->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK)
            rc = db_err(bs, "schema");
        if (!rc && !has_column(bs->db, "pending") &&
            sqlite3_exec(bs->db, "ALTER TABLE blobs ADD COLUMN pending INTEGER NOT NULL DEFAULT 0",
                         NULL, NULL, NULL) != SQLITE_OK)
            rc = db_err(bs, "add column pending");
        if (!rc && !has_column(bs->db, "since") &&
            sqlite3_exec(bs->db, "ALTER TABLE blobs ADD COLUMN since INTEGER NOT NULL DEFAULT 0",
                         NULL, NULL, NULL) != SQLITE_OK)
            rc = db_err(bs, "add column since");
        if (!rc && !has_column(bs->db, "obj") &&
            sqlite3_exec(bs->db, "ALTER TABLE blobs ADD COLUMN obj INTEGER NOT NULL DEFAULT 0",
                         NULL, NULL, NULL) != SQLITE_OK)
            rc = db_err(bs, "add column obj");
        /* streamed uploads of a previous process (a crash): nobody
         * finishes them now, and their pieces are no blob */
        if (!rc && sqlite3_exec(bs->db,
                                "DELETE FROM blob_pieces WHERE obj IN (SELECT obj FROM blob_uploads);"
                                " DELETE FROM blob_uploads;",
                                NULL, NULL, NULL) != SQLITE_OK)
            rc = db_err(bs, "uploads");
    }
    if (rc) {
        sq_close(bs);
        return rc;
    }
    *out = bs;
    return 0;
}

static int exec_id(struct sqlite_be *bs, const char *sql, const mc_hash *id) {
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(bs->db, sql, -1, &s, NULL) != SQLITE_OK) return db_err(bs, "prepare");
    sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(bs, "update");
    sqlite3_finalize(s);
    return rc;
}

static int sq_put(void *be, const mc_hash *id, const void *bytes, size_t len, bool pending) {
    struct sqlite_be *bs = be;
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(bs->db, "SELECT purged FROM blobs WHERE id=?", -1, &s, NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
        goto out;
    }
    sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        rc = sqlite3_column_int(s, 0) ? mc_err_set(MC_ERR_STATE, "blob was erased") : 0;
        /* A live row with the same id: its bytes are either these bytes or
         * damaged; rewrite them so a re-upload repairs a damaged copy. A
         * live (non-pending) put makes it live. */
        if (!rc) {
            sqlite3_finalize(s);
            s = NULL;
            rc = exec_id(bs, "DELETE FROM blob_pieces WHERE obj<>0 AND obj=(SELECT obj FROM blobs WHERE id=?)", id);
            if (rc) goto out;
            if (sqlite3_prepare_v2(bs->db,
                                   "UPDATE blobs SET bytes=?, size=?, pending=min(pending, ?), obj=0 WHERE id=?",
                                   -1, &s, NULL) != SQLITE_OK) {
                rc = db_err(bs, "prepare");
                goto out;
            }
            sqlite3_bind_blob(s, 1, bytes, (int)len, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, (sqlite3_int64)len);
            sqlite3_bind_int(s, 3, pending ? 1 : 0);
            sqlite3_bind_blob(s, 4, id->b, 32, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(bs, "update");
        }
        goto out;
    }
    if (step != SQLITE_DONE) {
        rc = db_err(bs, "select");
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(bs->db,
                           "INSERT INTO blobs(id, bytes, purged, size, pending, since) VALUES(?,?,0,?,?,?)",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
        goto out;
    }
    sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, bytes, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)len);
    sqlite3_bind_int(s, 4, pending ? 1 : 0);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)mc__blob_now_s());
    if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(bs, "insert");
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

static int sq_get(void *be, const mc_hash *id, struct mc_buf *out, bool anchored) {
    struct sqlite_be *bs = be;
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    bool promote = false;
    if (sqlite3_prepare_v2(bs->db, "SELECT bytes, purged, pending, obj FROM blobs WHERE id=?", -1, &s, NULL) !=
        SQLITE_OK) {
        rc = db_err(bs, "prepare");
        goto out;
    }
    sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_DONE) {
        rc = mc_err_set(MC_ERR_NOT_FOUND, "blob is not stored on this node");
    } else if (step != SQLITE_ROW) {
        rc = db_err(bs, "select");
    } else if (sqlite3_column_int(s, 1)) {
        rc = mc_err_set(MC_ERR_STATE, "blob was erased");
    } else if (sqlite3_column_int(s, 2) && !anchored) {
        rc = mc_err_set(MC_ERR_NOT_FOUND, "blob is an upload no committed anchor names yet");
    } else if (sqlite3_column_int64(s, 3)) {
        rc = mc_err_set(MC_ERR_TOO_LARGE, "blob is stored in pieces: read it as a stream");
    } else {
        promote = sqlite3_column_int(s, 2) != 0;
        mc_buf_append(out, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
        rc = out->err;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (!rc && promote) rc = exec_id(bs, "UPDATE blobs SET pending=0 WHERE id=?", id);
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

/* Missing, pending or damaged: fetch it. */
static bool sq_needed(void *be, const mc_hash *id) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = sq_get(be, id, &b, false);
    /* a streamed blob held live: a damaged piece is found by the read that
     * meets it (which asks for a repair) */
    bool need = rc == MC_ERR_NOT_FOUND;
    if (!rc) {
        mc_hash h;
        mc_sha256(&h, b.data, b.len);
        need = sodium_memcmp(h.b, id->b, 32) != 0;
    }
    mc_buf_deinit(&b);
    return need;
}

static int sq_commit(void *be, const mc_hash *id) {
    struct sqlite_be *bs = be;
    pthread_mutex_lock(&bs->lock);
    int rc = exec_id(bs, "UPDATE blobs SET pending=0 WHERE id=? AND pending=1", id);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

static int sq_purge(void *be, const mc_hash *id) {
    struct sqlite_be *bs = be;
    pthread_mutex_lock(&bs->lock);
    /* the tombstone and the pieces' deletion in one transaction */
    int rc = sqlite3_exec(bs->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : db_err(bs, "begin");
    if (!rc) rc = exec_id(bs, "DELETE FROM blob_pieces WHERE obj<>0 AND obj=(SELECT obj FROM blobs WHERE id=?)", id);
    if (!rc)
        rc = exec_id(bs,
                     "INSERT INTO blobs(id, bytes, purged, size) VALUES(?, x'', 1, 0)"
                     " ON CONFLICT(id) DO UPDATE SET bytes=x'', purged=1, size=0, pending=0, obj=0",
                     id);
    if (!rc && sqlite3_exec(bs->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = db_err(bs, "commit");
    if (rc) (void)sqlite3_exec(bs->db, "ROLLBACK", NULL, NULL, NULL);
    /* Old page images may sit in the WAL: checkpoint and truncate it. A
     * busy checkpoint (a reader holds a snapshot) is retried by the next
     * purge; the database pages themselves are already overwritten. */
    if (!rc) (void)sqlite3_wal_checkpoint_v2(bs->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

static int sq_count(void *be, uint64_t *live, uint64_t *purged) {
    struct sqlite_be *bs = be;
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(bs->db, "SELECT purged, count(*) FROM blobs GROUP BY purged", -1, &s,
                           NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
    } else {
        int step;
        while ((step = sqlite3_step(s)) == SQLITE_ROW) {
            if (sqlite3_column_int(s, 0)) *purged = (uint64_t)sqlite3_column_int64(s, 1);
            else *live = (uint64_t)sqlite3_column_int64(s, 1);
        }
        if (step != SQLITE_DONE) rc = db_err(bs, "count");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

static void sq_status(void *be, struct mc_blob_status *st) { (void)be; (void)st; }

/* Orphans here: rows holding bytes that no anchor names, pending or not
 * (a pending row younger than the grace may be an upload in flight). */
static int drop_upload(struct sqlite_be *bs, int64_t obj);

static int sq_sweep(void *be, const struct mc_blob_sweep *sw, uint64_t *found) {
    struct sqlite_be *bs = be;
    uint64_t cutoff = mc__blob_now_s() > sw->grace_s ? mc__blob_now_s() - sw->grace_s : 0;
    /* collect first (the callbacks may take other locks), then act */
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    size_t n = 0, cap = 0;
    struct cand { mc_hash id; bool pending; } *c = NULL;
    if (sqlite3_prepare_v2(bs->db, "SELECT id, pending FROM blobs WHERE purged=0 AND since<=? ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
    } else {
        sqlite3_bind_int64(s, 1, (sqlite3_int64)cutoff);
        int step;
        while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
            if (sqlite3_column_bytes(s, 0) != 32) continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                void *p = realloc(c, nc * sizeof *c);
                if (!p) {
                    rc = MC_ERR_NOMEM;
                    break;
                }
                c = p;
                cap = nc;
            }
            memcpy(c[n].id.b, sqlite3_column_blob(s, 0), 32);
            c[n].pending = sqlite3_column_int(s, 1) != 0;
            n++;
        }
        if (!rc && step != SQLITE_DONE) rc = db_err(bs, "sweep");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    for (size_t i = 0; i < n && !rc; i++) {
        if (sw->anchored(sw->ctx, &c[i].id)) {
            if (c[i].pending) rc = sq_commit(bs, &c[i].id);
            continue;
        }
        (*found)++;
        if (sw->remove) {
            pthread_mutex_lock(&bs->lock);
            rc = exec_id(bs, "DELETE FROM blob_pieces WHERE obj<>0 AND obj=(SELECT obj FROM blobs WHERE id=?"
                             " AND purged=0)", &c[i].id);
            if (!rc) rc = exec_id(bs, "DELETE FROM blobs WHERE id=? AND purged=0", &c[i].id);
            if (!rc) (void)sqlite3_wal_checkpoint_v2(bs->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
            pthread_mutex_unlock(&bs->lock);
        }
        if (!rc && sw->report) sw->report(sw->ctx, &c[i].id, c[i].pending ? "pending" : "unanchored", sw->remove);
    }
    free(c);
    /* streamed uploads a crash (or a lost client) left unfinished: their
     * pieces are no blob and never served */
    int64_t partial[64];
    size_t np = 0;
    pthread_mutex_lock(&bs->lock);
    if (!rc && sqlite3_prepare_v2(bs->db, "SELECT obj FROM blob_uploads WHERE since<=? ORDER BY obj LIMIT 64",
                                  -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, (sqlite3_int64)cutoff);
        while (np < 64 && sqlite3_step(s) == SQLITE_ROW) partial[np++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    for (size_t i = 0; i < np && !rc; i++) {
        (*found)++;
        if (sw->remove) rc = drop_upload(bs, partial[i]);
        mc_hash none;
        memset(none.b, 0, sizeof none.b);
        if (!rc && sw->report) sw->report(sw->ctx, &none, "partial", sw->remove);
    }
    return rc;
}

/* --- streamed blobs: pieces in blob_pieces --- */

static int exec_obj(struct sqlite_be *bs, const char *sql, int64_t obj) {
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(bs->db, sql, -1, &s, NULL) != SQLITE_OK) return db_err(bs, "prepare");
    sqlite3_bind_int64(s, 1, obj);
    if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(bs, "update");
    sqlite3_finalize(s);
    return rc;
}

struct sq_upload {
    int64_t obj;
};

static int sq_wopen(void *be, void **up) {
    struct sqlite_be *bs = be;
    *up = NULL;
    struct sq_upload *u = calloc(1, sizeof *u);
    if (!u) return MC_ERR_NOMEM;
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(bs->db, "INSERT INTO blob_uploads(since) VALUES(?)", -1, &s, NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
    } else {
        sqlite3_bind_int64(s, 1, (sqlite3_int64)mc__blob_now_s());
        if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(bs, "insert upload");
        else u->obj = sqlite3_last_insert_rowid(bs->db);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    if (rc) {
        free(u);
        return rc;
    }
    *up = u;
    return 0;
}

static int sq_wput(void *be, void *up, uint32_t seq, const void *bytes, size_t len) {
    struct sqlite_be *bs = be;
    struct sq_upload *u = up;
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(bs->db, "INSERT INTO blob_pieces(obj, seq, bytes) VALUES(?,?,?)", -1, &s, NULL) !=
        SQLITE_OK) {
        rc = db_err(bs, "prepare");
    } else {
        sqlite3_bind_int64(s, 1, u->obj);
        sqlite3_bind_int64(s, 2, seq);
        sqlite3_bind_blob(s, 3, bytes, (int)len, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(bs, "insert piece");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

/* Deletes an upload's pieces and its row (lock not held). */
static int drop_upload(struct sqlite_be *bs, int64_t obj) {
    pthread_mutex_lock(&bs->lock);
    int rc = exec_obj(bs, "DELETE FROM blob_pieces WHERE obj=?", obj);
    if (!rc) rc = exec_obj(bs, "DELETE FROM blob_uploads WHERE obj=?", obj);
    if (!rc) (void)sqlite3_wal_checkpoint_v2(bs->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

static void sq_wabort(void *be, void *up) {
    struct sq_upload *u = up;
    if (!u) return;
    if (drop_upload(be, u->obj))
        mc_log_warn("blob", "cannot drop an abandoned upload (the sweep removes it): %s", mc_err_detail());
    free(u);
}

/* In one transaction: the upload becomes the blob id (replacing the bytes
 * of a live copy, refused for a purged id), and its upload row goes. */
static int sq_wfinish(void *be, void *up, const mc_hash *id, uint64_t size, bool pending) {
    struct sqlite_be *bs = be;
    struct sq_upload *u = up;
    pthread_mutex_lock(&bs->lock);
    int rc = 0;
    bool purged = false;
    int64_t old = 0;
    if (sqlite3_exec(bs->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_err(bs, "begin");
        goto out;
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(bs->db, "SELECT purged, obj FROM blobs WHERE id=?", -1, &s, NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
    } else {
        sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
        int step = sqlite3_step(s);
        bool exists = step == SQLITE_ROW;
        if (exists) {
            purged = sqlite3_column_int(s, 0) != 0;
            old = sqlite3_column_int64(s, 1);
        } else if (step != SQLITE_DONE) {
            rc = db_err(bs, "select");
        }
        sqlite3_finalize(s);
        s = NULL;
        if (!rc && purged) rc = mc_err_set(MC_ERR_STATE, "blob was erased");
        if (!rc && old) rc = exec_obj(bs, "DELETE FROM blob_pieces WHERE obj=?", old);
        if (!rc) {
            const char *sql = exists ? "UPDATE blobs SET bytes=x'', size=?2, pending=min(pending, ?3), obj=?4 WHERE id=?1"
                                     : "INSERT INTO blobs(id, bytes, purged, size, pending, since, obj)"
                                       " VALUES(?1, x'', 0, ?2, ?3, ?5, ?4)";
            if (sqlite3_prepare_v2(bs->db, sql, -1, &s, NULL) != SQLITE_OK) {
                rc = db_err(bs, "prepare");
            } else {
                sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
                sqlite3_bind_int64(s, 2, (sqlite3_int64)size);
                sqlite3_bind_int(s, 3, pending ? 1 : 0);
                sqlite3_bind_int64(s, 4, u->obj);
                if (!exists) sqlite3_bind_int64(s, 5, (sqlite3_int64)mc__blob_now_s());
                if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(bs, "store");
            }
            sqlite3_finalize(s);
        }
        if (!rc) rc = exec_obj(bs, "DELETE FROM blob_uploads WHERE obj=?", u->obj);
    }
    if (!rc && sqlite3_exec(bs->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = db_err(bs, "commit");
    if (rc) (void)sqlite3_exec(bs->db, "ROLLBACK", NULL, NULL, NULL);
out:
    pthread_mutex_unlock(&bs->lock);
    if (rc) {
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        (void)drop_upload(bs, u->obj);
        rc = mc_err_set(rc, "%s", why);
    }
    free(u);
    return rc;
}

struct sq_reader {
    int64_t obj;           /* 0: inline bytes below */
    struct mc_buf bytes;
};

static int sq_ropen(void *be, const mc_hash *id, bool anchored, void **rd, uint64_t *size) {
    struct sqlite_be *bs = be;
    *rd = NULL;
    struct sq_reader *r = calloc(1, sizeof *r);
    if (!r) return MC_ERR_NOMEM;
    mc_buf_init(&r->bytes, 0);
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    bool promote = false;
    if (sqlite3_prepare_v2(bs->db, "SELECT bytes, purged, pending, obj, size FROM blobs WHERE id=?", -1, &s,
                           NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
    } else {
        sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
        int step = sqlite3_step(s);
        if (step == SQLITE_DONE) rc = mc_err_set(MC_ERR_NOT_FOUND, "blob is not stored on this node");
        else if (step != SQLITE_ROW) rc = db_err(bs, "select");
        else if (sqlite3_column_int(s, 1)) rc = mc_err_set(MC_ERR_STATE, "blob was erased");
        else if (sqlite3_column_int(s, 2) && !anchored)
            rc = mc_err_set(MC_ERR_NOT_FOUND, "blob is an upload no committed anchor names yet");
        else {
            promote = sqlite3_column_int(s, 2) != 0;
            r->obj = sqlite3_column_int64(s, 3);
            if (r->obj) {
                *size = (uint64_t)sqlite3_column_int64(s, 4);
            } else {
                mc_buf_append(&r->bytes, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
                rc = r->bytes.err;
                *size = r->bytes.len;
            }
        }
    }
    sqlite3_finalize(s);
    if (!rc && promote) rc = exec_id(bs, "UPDATE blobs SET pending=0 WHERE id=?", id);
    pthread_mutex_unlock(&bs->lock);
    if (rc) {
        mc_buf_deinit(&r->bytes);
        free(r);
        return rc;
    }
    *rd = r;
    return 0;
}

static int sq_rget(void *be, void *rd, uint64_t off, size_t len, struct mc_buf *out) {
    struct sqlite_be *bs = be;
    struct sq_reader *r = rd;
    if (!r->obj) {
        if (off < r->bytes.len) {
            size_t k = r->bytes.len - off < len ? (size_t)(r->bytes.len - off) : len;
            mc_buf_append(out, r->bytes.data + off, k);
        }
        return out->err;
    }
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(bs->db, "SELECT bytes FROM blob_pieces WHERE obj=? AND seq=?", -1, &s, NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
    } else {
        sqlite3_bind_int64(s, 1, r->obj);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)(off / MC_BLOB_PIECE));
        int step = sqlite3_step(s);
        if (step == SQLITE_ROW) {
            size_t k = (size_t)sqlite3_column_bytes(s, 0);
            mc_buf_append(out, sqlite3_column_blob(s, 0), k < len ? k : len);
            rc = out->err;
        } else if (step != SQLITE_DONE) {
            rc = db_err(bs, "select piece");
        } /* a missing piece: nothing appended, the front sees a short blob */
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

static void sq_rclose(void *be, void *rd) {
    struct sq_reader *r = rd;
    if (!r) return;
    mc_buf_deinit(&r->bytes);
    free(r);
}

const struct mc_blob_ops mc__blob_sqlite_ops = {
    .name = "sqlite",
    .put = sq_put,
    .get = sq_get,
    .needed = sq_needed,
    .commit = sq_commit,
    .purge = sq_purge,
    .count = sq_count,
    .status = sq_status,
    .sweep = sq_sweep,
    .close = sq_close,
    .put_piece = MC_BLOB_PIECE,
    .get_piece = MC_BLOB_PIECE,
    .wopen = sq_wopen,
    .wput = sq_wput,
    .wfinish = sq_wfinish,
    .wabort = sq_wabort,
    .ropen = sq_ropen,
    .rget = sq_rget,
    .rclose = sq_rclose,
};
