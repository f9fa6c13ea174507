/* Content-addressed ciphertext store (see blob.h). */
#include "blob/blob.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

struct mc_blob_store {
    sqlite3 *db;
    pthread_mutex_t lock;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS blobs(id BLOB PRIMARY KEY, bytes BLOB NOT NULL,"
    " purged INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL) WITHOUT ROWID;";

static int db_err(struct mc_blob_store *bs, const char *what) {
    return mc_err_set(MC_ERR_DB, "blob store: %s: %s", what, sqlite3_errmsg(bs->db));
}

int mc_blob_open(struct mc_blob_store **out, const char *path) {
    *out = NULL;
    struct mc_blob_store *bs = calloc(1, sizeof *bs);
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
    }
    if (rc) {
        mc_blob_close(bs);
        return rc;
    }
    *out = bs;
    return 0;
}

void mc_blob_close(struct mc_blob_store *bs) {
    if (!bs) return;
    sqlite3_close(bs->db);
    pthread_mutex_destroy(&bs->lock);
    free(bs);
}

int mc_blob_put(struct mc_blob_store *bs, mc_hash *id, const void *bytes, size_t len) {
    if (len > MC_BLOB_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "blob of %zu bytes exceeds %d", len, MC_BLOB_MAX);
    mc_sha256(id, bytes, len);
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
         * damaged; rewrite them so a re-upload repairs a damaged copy. */
        if (!rc) {
            sqlite3_finalize(s);
            s = NULL;
            if (sqlite3_prepare_v2(bs->db, "UPDATE blobs SET bytes=?, size=? WHERE id=?", -1, &s,
                                   NULL) != SQLITE_OK) {
                rc = db_err(bs, "prepare");
                goto out;
            }
            sqlite3_bind_blob(s, 1, bytes, (int)len, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, (sqlite3_int64)len);
            sqlite3_bind_blob(s, 3, id->b, 32, SQLITE_STATIC);
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
    if (sqlite3_prepare_v2(bs->db, "INSERT INTO blobs(id, bytes, purged, size) VALUES(?,?,0,?)",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
        goto out;
    }
    sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, bytes, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)len);
    if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(bs, "insert");
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

int mc_blob_get(struct mc_blob_store *bs, const mc_hash *id, struct mc_buf *out) {
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(bs->db, "SELECT bytes, purged FROM blobs WHERE id=?", -1, &s, NULL) !=
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
    } else {
        const void *p = sqlite3_column_blob(s, 0);
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        mc_hash h;
        mc_sha256(&h, p, n);
        if (n > MC_BLOB_MAX || sodium_memcmp(h.b, id->b, 32) != 0) {
            mc_log_warn("blob", "stored blob does not match its hash: altered on disk");
            rc = mc_err_set(MC_ERR_TAMPERED, "stored ciphertext does not match its hash "
                                             "(altered on disk)");
        } else {
            mc_buf_append(out, p, n);
            rc = out->err;
        }
    }
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

int mc_blob_purge(struct mc_blob_store *bs, const mc_hash *id) {
    pthread_mutex_lock(&bs->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(bs->db,
                           "INSERT INTO blobs(id, bytes, purged, size) VALUES(?, x'', 1, 0)"
                           " ON CONFLICT(id) DO UPDATE SET bytes=x'', purged=1, size=0",
                           -1, &s, NULL) != SQLITE_OK) {
        rc = db_err(bs, "prepare");
        goto out;
    }
    sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(bs, "purge");
    sqlite3_finalize(s);
    s = NULL;
    /* Old page images may sit in the WAL: checkpoint and truncate it. A
     * busy checkpoint (a reader holds a snapshot) is retried by the next
     * purge; the database pages themselves are already overwritten. */
    if (!rc) (void)sqlite3_wal_checkpoint_v2(bs->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&bs->lock);
    return rc;
}

int mc_blob_count(struct mc_blob_store *bs, uint64_t *live, uint64_t *purged) {
    *live = *purged = 0;
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
