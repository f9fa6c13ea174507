/* Moving a node's ciphertext from its SQLite table into another store (an
 * S3 bucket): see blob.h, mc_blob_migrate. */
#include <sqlite3.h>
#include <sodium.h>
#include <string.h>

#include "blob/blob.h"

/* A streamed blob's pieces (obj in blob_pieces), in order, into a
 * streamed upload on dst that completes only if they hash to id; then read
 * back whole (hash checked). MC_ERR_TAMPERED when the local copy is
 * damaged (nothing is stored). */
static int move_streamed(sqlite3 *db, struct mc_blob_store *dst, const mc_hash *id, int64_t obj, bool pending) {
    struct mc_blob_writer *w;
    int rc = mc_blob_writer_open(dst, &w, pending);
    if (rc) return rc;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT bytes FROM blob_pieces WHERE obj=? ORDER BY seq", -1, &s, NULL) != SQLITE_OK) {
        mc_blob_writer_abort(w);
        return mc_err_set(MC_ERR_DB, "%s", sqlite3_errmsg(db));
    }
    sqlite3_bind_int64(s, 1, obj);
    int step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW)
        rc = mc_blob_writer_append(w, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
    if (!rc && step != SQLITE_DONE) rc = mc_err_set(MC_ERR_DB, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    if (rc) {
        mc_blob_writer_abort(w);
        return rc;
    }
    mc_hash got;
    uint64_t size;
    rc = mc_blob_writer_finish(w, &got, &size, id);
    if (rc || pending) return rc;
    struct mc_blob_reader *r;
    if ((rc = mc_blob_reader_open(dst, &r, id, false, &size))) return rc;
    static uint8_t buf[65536];
    for (size_t n = 1; !rc && n;) rc = mc_blob_reader_read(r, buf, sizeof buf, &n);
    mc_blob_reader_close(r);
    return rc;
}

int mc_blob_migrate(struct mc_blob_store *dst, const char *sqlite_path, bool drop_local,
                    void (*report)(void *ctx, const mc_hash *id, const char *what), void *ctx,
                    struct mc_blob_migration *m) {
    memset(m, 0, sizeof *m);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(sqlite_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return mc_err_set(MC_ERR_DB, "cannot open %s", sqlite_path);
    }
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    /* tables made before pending existed have no such column: all live */
    bool has_pending = sqlite3_prepare_v2(db, "SELECT pending FROM blobs LIMIT 0", -1, &s, NULL) == SQLITE_OK;
    sqlite3_finalize(s);
    s = NULL;
    bool has_obj = sqlite3_prepare_v2(db, "SELECT obj FROM blobs LIMIT 0", -1, &s, NULL) == SQLITE_OK;
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db, has_obj       ? "SELECT id, bytes, purged, pending, obj FROM blobs ORDER BY id"
                               : has_pending ? "SELECT id, bytes, purged, pending, 0 FROM blobs ORDER BY id"
                                             : "SELECT id, bytes, purged, 0, 0 FROM blobs ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK) {
        /* no blobs table: nothing to move */
        sqlite3_close(db);
        return 0;
    }
    struct mc_buf got;
    mc_buf_init(&got, 0);
    int step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(s, 0) != 32) continue;
        mc_hash id, h, put_id;
        memcpy(id.b, sqlite3_column_blob(s, 0), 32);
        const void *bytes = sqlite3_column_blob(s, 1);
        size_t len = (size_t)sqlite3_column_bytes(s, 1);
        if (sqlite3_column_int(s, 2)) {
            /* erased: the tombstone moves (nothing may bring it back) */
            rc = mc_blob_purge(dst, &id);
            if (!rc) m->erased++;
            continue;
        }
        int64_t obj = sqlite3_column_int64(s, 4);
        if (obj) { /* a streamed blob: its pieces move as a stream */
            bool pend = sqlite3_column_int(s, 3) != 0;
            if (!pend && !mc_blob_needed(dst, &id)) {
                m->present++;
                continue;
            }
            rc = move_streamed(db, dst, &id, obj, pend);
            if (rc == MC_ERR_TAMPERED) {
                rc = 0;
                m->damaged++;
                if (report) report(ctx, &id, "damaged");
            } else if (rc == MC_ERR_STATE) {
                rc = 0;
            } else if (!rc) {
                m->moved++;
                if (report) report(ctx, &id, pend ? "moved (pending)" : "moved");
            }
            continue;
        }
        mc_sha256(&h, bytes, len);
        if (len > MC_BLOB_MAX || sodium_memcmp(h.b, id.b, 32) != 0) {
            /* not moved: a read on the new store finds it missing and
             * fetches a good copy from a peer */
            m->damaged++;
            if (report) report(ctx, &id, "damaged");
            continue;
        }
        bool pending = sqlite3_column_int(s, 3) != 0;
        if (!pending && !mc_blob_needed(dst, &id)) {
            m->present++; /* a resumed run: moved and checked before */
            continue;
        }
        rc = pending ? mc_blob_put_pending(dst, &put_id, bytes, len) : mc_blob_put(dst, &put_id, bytes, len);
        if (rc == MC_ERR_STATE) { /* erased in the new store meanwhile */
            rc = 0;
            continue;
        }
        if (!rc && !pending) {
            /* verified: read back, hash checked */
            mc_buf_reset(&got);
            rc = mc_blob_get(dst, &id, &got);
            if (!rc && (got.len != len || memcmp(got.data, bytes, len) != 0))
                rc = mc_err_set(MC_ERR_TAMPERED, "the copy read back differs from the one written");
        }
        if (!rc) {
            m->moved++;
            if (report) report(ctx, &id, pending ? "moved (pending)" : "moved");
        }
    }
    mc_buf_deinit(&got);
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW) rc = mc_err_set(MC_ERR_DB, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    if (!rc && drop_local && m->damaged == 0) {
        /* every live row is in the new store: drop the local bytes (freed
         * pages are zeroed, the WAL truncated) */
        if (sqlite3_exec(db, "PRAGMA secure_delete=ON; DELETE FROM blobs;", NULL, NULL, NULL) != SQLITE_OK ||
            (has_obj && sqlite3_exec(db, "DELETE FROM blob_pieces; DELETE FROM blob_uploads;", NULL, NULL, NULL) !=
                            SQLITE_OK))
            rc = mc_err_set(MC_ERR_DB, "cannot drop the local blobs: %s", sqlite3_errmsg(db));
        else
            (void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        if (!rc) m->dropped = true;
    }
    sqlite3_close(db);
    return rc;
}
