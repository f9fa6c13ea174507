/* The S3 blob backend (see blob.h): the bytes as objects in a bucket, the
 * states in a local index in the node's database:
 *
 *   s3_blobs(id BLOB PRIMARY KEY, state INTEGER, size INTEGER, since INTEGER, obj TEXT)
 *     state 0 pending  uploaded (or being uploaded), no committed anchor yet
 *           1 live     a committed anchor names it
 *           2 purged   erased, and the bucket holds no version of it
 *           3 purging  erased (the tombstone), bucket deletes outstanding
 *     obj   ''  the object is "<prefix><64 hex of the id>" (one PUT)
 *           else the key of a streamed blob, "<prefix>mp/<32 hex random>",
 *           made by a multipart upload (its id is known only at the end)
 *   s3_uploads(key TEXT PRIMARY KEY, upload_id TEXT, since INTEGER, abandoned INTEGER)
 *     multipart uploads in flight, written before the upload is created.
 *     A failed or abandoned upload is aborted (and whatever it made
 *     deleted) at once; when the store cannot be reached then, the row is
 *     marked abandoned and the erasure thread retries with its backoff.
 *     Rows found on open are a previous process's: abandoned too. The
 *     sweep also finds uploads no row knows ("partial").
 *
 * Order of writes: the index row before the upload (a crash leaves a
 * pending row, never an object no row knows of, apart from a sweep's
 * "unindexed" case: an index lost with its database), the tombstone before
 * the deletes. The purger thread deletes every version and delete marker
 * of purging objects, checks the bucket lists none, then marks them purged;
 * while the store is unreachable it retries with backoff (up to
 * PURGE_BACKOFF_MAX_MS), and on open it picks up purges left by a restart.
 *
 * Reachability: a request that fails (after its retries, s3.c) marks the
 * store unavailable; for MC_S3_COOLDOWN_MS after that, reads and writes
 * answer MC_ERR_UNAVAILABLE at once (no thread waits on a store known to be
 * down), then the next request tries again. */
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hex.h"
#include "base/log.h"
#include "blob/backend.h"
#include "blob/s3.h"

#define PURGE_BATCH 64
#define PURGE_BACKOFF_MAX_MS 30000

enum { ST_PENDING = 0, ST_LIVE = 1, ST_PURGED = 2, ST_PURGING = 3 };

struct s3_be {
    sqlite3 *db;
    pthread_mutex_t lock;         /* db, and the fields below */
    struct mc_s3 *s3;
    char prefix[MC_S3_KEY_MAX + 1];

    bool available;
    uint64_t errors;
    uint64_t requests, request_ms;   /* object GETs and PUTs, and their time */
    uint64_t fail_ms;             /* monotonic time of the last failure */
    char last_error[200];

    pthread_t purger;
    bool purger_started, stop, kick;
    pthread_cond_t cond;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS s3_blobs(id BLOB PRIMARY KEY, state INTEGER NOT NULL,"
    " size INTEGER NOT NULL, since INTEGER NOT NULL, obj TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS s3_uploads(key TEXT PRIMARY KEY, upload_id TEXT NOT NULL,"
    " since INTEGER NOT NULL, abandoned INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;";

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int db_err(struct s3_be *b, const char *what) {
    return mc_err_set(MC_ERR_DB, "blob index: %s: %s", what, sqlite3_errmsg(b->db));
}

static void key_of(char out[MC_S3_KEY_MAX + 65], const struct s3_be *b, const mc_hash *id) {
    char hx[65];
    mc_hex_encode(hx, id->b, 32);
    snprintf(out, MC_S3_KEY_MAX + 65, "%s%s", b->prefix, hx);
}

/* Whether a request may go out now; false (with the error set) during the
 * cooldown after a failure. */
static bool may_call(struct s3_be *b) {
    pthread_mutex_lock(&b->lock);
    bool ok = b->available || now_ms() - b->fail_ms >= MC_S3_COOLDOWN_MS;
    char why[200];
    snprintf(why, sizeof why, "%s", b->last_error);
    pthread_mutex_unlock(&b->lock);
    if (!ok) mc_err_set(MC_ERR_UNAVAILABLE, "the object store is unavailable (%s; retried shortly)", why);
    return ok;
}

/* Records the outcome of a request: rc is its result; t0 its start for an
 * object GET or PUT (their latency is reported), else 0. */
static int outcome_at(struct s3_be *b, uint64_t t0, int rc) {
    pthread_mutex_lock(&b->lock);
    if (t0) {
        b->requests++;
        b->request_ms += now_ms() - t0;
    }
    if (rc == MC_ERR_UNAVAILABLE || rc == MC_ERR_FORBIDDEN || rc == MC_ERR_IO) {
        if (b->available)
            mc_log_warn("blob", "the object store became unavailable: %s", mc_err_detail());
        b->available = false;
        b->errors++;
        b->fail_ms = now_ms();
        snprintf(b->last_error, sizeof b->last_error, "%s", mc_err_detail());
    } else if (!b->available) {
        mc_log_info("blob", "the object store is reachable again");
        b->available = true;
    }
    pthread_mutex_unlock(&b->lock);
    /* the class a caller acts on: the store could not do it */
    if (rc == MC_ERR_FORBIDDEN || rc == MC_ERR_IO || rc == MC_ERR_UNAVAILABLE) {
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        return mc_err_set(MC_ERR_UNAVAILABLE, "the object store is unavailable (%s)", why);
    }
    return rc;
}

static int outcome(struct s3_be *b, int rc) { return outcome_at(b, 0, rc); }

/* The row's state, or -1 when there is none; < -1 on error. */
static int row_state(struct s3_be *b, const mc_hash *id) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT state FROM s3_blobs WHERE id=?", -1, &s, NULL) != SQLITE_OK)
        return db_err(b, "prepare") - 1000;
    sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
    int step = sqlite3_step(s);
    int st = step == SQLITE_ROW ? sqlite3_column_int(s, 0) : step == SQLITE_DONE ? -1 : -1000;
    if (st == -1000) db_err(b, "select");
    sqlite3_finalize(s);
    return st;
}

/* The row's object key into key (lock held): obj, or the id's own key
 * when obj is '' or there is no row. */
static void row_key(struct s3_be *b, const mc_hash *id, char key[MC_S3_KEY_MAX + 65]) {
    key_of(key, b, id);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT obj FROM s3_blobs WHERE id=?", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            const char *o = (const char *)sqlite3_column_text(s, 0);
            if (o && o[0] && strlen(o) <= MC_S3_KEY_MAX + 64) snprintf(key, MC_S3_KEY_MAX + 65, "%s", o);
        }
    }
    sqlite3_finalize(s);
}

static int exec_id(struct s3_be *b, const char *sql, const mc_hash *id, int64_t a, int64_t c) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(b->db, sql, -1, &s, NULL) != SQLITE_OK) return db_err(b, "prepare");
    sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
    int np = sqlite3_bind_parameter_count(s);
    if (np >= 2) sqlite3_bind_int64(s, 2, a);
    if (np >= 3) sqlite3_bind_int64(s, 3, c);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(b, "update");
    sqlite3_finalize(s);
    return rc;
}

static int set_state(struct s3_be *b, const mc_hash *id, int state) {
    pthread_mutex_lock(&b->lock);
    int rc = exec_id(b, "UPDATE s3_blobs SET state=?2 WHERE id=?1", id, state, 0);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int delete_all(struct s3_be *b, const char *key);

static int s3be_put(void *be, const mc_hash *id, const void *bytes, size_t len, bool pending) {
    struct s3_be *b = be;
    pthread_mutex_lock(&b->lock);
    int st = row_state(b, id), rc = 0;
    if (st < -1) rc = MC_ERR_DB;
    else if (st == ST_PURGED || st == ST_PURGING) rc = mc_err_set(MC_ERR_STATE, "blob was erased");
    else if (st == -1)
        rc = exec_id(b, "INSERT INTO s3_blobs(id, state, size, since) VALUES(?1, ?2, ?3, strftime('%s','now'))",
                     id, pending ? ST_PENDING : ST_LIVE, (int64_t)len);
    else if (!pending && st == ST_PENDING)
        rc = exec_id(b, "UPDATE s3_blobs SET state=?2 WHERE id=?1", id, ST_LIVE, 0);
    pthread_mutex_unlock(&b->lock);
    if (rc) return rc;
    if (!may_call(b)) return MC_ERR_UNAVAILABLE;
    char key[MC_S3_KEY_MAX + 65], old[MC_S3_KEY_MAX + 65];
    key_of(key, b, id);
    pthread_mutex_lock(&b->lock);
    row_key(b, id, old);
    pthread_mutex_unlock(&b->lock);
    uint64_t t0 = now_ms();
    rc = outcome_at(b, t0, mc_s3_put(b->s3, key, bytes, len, id));
    if (!rc && strcmp(old, key) != 0) {
        /* a streamed copy is replaced by this one (a repair) */
        pthread_mutex_lock(&b->lock);
        rc = exec_id(b, "UPDATE s3_blobs SET obj='', size=?2 WHERE id=?1", id, (int64_t)len, 0);
        pthread_mutex_unlock(&b->lock);
        if (!rc) (void)outcome(b, delete_all(b, old));
    }
    /* An erasure that committed while the upload was on its way has
     * deleted the bucket's versions already: delete again, the new one
     * included. */
    pthread_mutex_lock(&b->lock);
    st = row_state(b, id);
    if (st == ST_PURGED || st == ST_PURGING) {
        (void)exec_id(b, "UPDATE s3_blobs SET state=?2 WHERE id=?1", id, ST_PURGING, 0);
        b->kick = true;
        pthread_cond_signal(&b->cond);
        rc = mc_err_set(MC_ERR_STATE, "blob was erased");
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int s3be_get(void *be, const mc_hash *id, struct mc_buf *out, bool anchored) {
    struct s3_be *b = be;
    pthread_mutex_lock(&b->lock);
    int st = row_state(b, id);
    pthread_mutex_unlock(&b->lock);
    if (st < -1) return MC_ERR_DB;
    if (st == -1) return mc_err_set(MC_ERR_NOT_FOUND, "blob is not stored on this node");
    if (st == ST_PURGED || st == ST_PURGING) return mc_err_set(MC_ERR_STATE, "blob was erased");
    if (st == ST_PENDING && !anchored)
        return mc_err_set(MC_ERR_NOT_FOUND, "blob is an upload no committed anchor names yet");
    char key[MC_S3_KEY_MAX + 65], own[MC_S3_KEY_MAX + 65];
    key_of(own, b, id);
    pthread_mutex_lock(&b->lock);
    row_key(b, id, key);
    pthread_mutex_unlock(&b->lock);
    if (strcmp(key, own) != 0) return mc_err_set(MC_ERR_TOO_LARGE, "blob is a streamed object: read it as a stream");
    if (!may_call(b)) return MC_ERR_UNAVAILABLE;
    uint64_t t0 = now_ms();
    int rc = mc_s3_get(b->s3, key, out, MC_BLOB_MAX);
    if (rc == MC_ERR_NOT_FOUND) {
        (void)outcome_at(b, t0, 0);
        return mc_err_set(MC_ERR_NOT_FOUND, "blob is missing from the bucket");
    }
    rc = outcome_at(b, t0, rc);
    if ((!rc || rc == MC_ERR_TOO_LARGE) && st == ST_PENDING) (void)set_state(b, id, ST_LIVE);
    if (rc == MC_ERR_TOO_LARGE) { /* more than any blob put whole: cannot hash to id */
        mc_log_warn("blob", "stored blob does not match its hash: altered in the s3 store");
        rc = mc_err_set(MC_ERR_TAMPERED, "stored ciphertext does not match its hash (altered in the s3 store)");
    }
    return rc;
}

/* Not held (or only as a pending upload): fetch it. A damaged object is
 * found by the read that meets it (which asks for a repair). */
static bool s3be_needed(void *be, const mc_hash *id) {
    struct s3_be *b = be;
    pthread_mutex_lock(&b->lock);
    int st = row_state(b, id);
    pthread_mutex_unlock(&b->lock);
    return st == -1;
}

static int s3be_commit(void *be, const mc_hash *id) {
    struct s3_be *b = be;
    pthread_mutex_lock(&b->lock);
    int rc = exec_id(b, "UPDATE s3_blobs SET state=?2 WHERE id=?1 AND state=?3", id, ST_LIVE, ST_PENDING);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int s3be_purge(void *be, const mc_hash *id) {
    struct s3_be *b = be;
    pthread_mutex_lock(&b->lock);
    int rc = exec_id(b,
                     "INSERT INTO s3_blobs(id, state, size, since) VALUES(?1, ?2, 0, strftime('%s','now'))"
                     " ON CONFLICT(id) DO UPDATE SET state=?2, size=0 WHERE state<>?3",
                     id, ST_PURGING, ST_PURGED);
    b->kick = true;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

struct del_ctx {
    struct s3_be *b;
    const char *key;
    uint32_t deleted, left;
    int rc;
};

static int on_version_delete(void *ctx, const char *key, const char *version) {
    struct del_ctx *d = ctx;
    if (strcmp(key, d->key) != 0) return 0; /* another key with this prefix */
    int rc = mc_s3_delete(d->b->s3, key, version);
    if (rc) return rc;
    d->deleted++;
    return 0;
}

static int on_version_count(void *ctx, const char *key, const char *version) {
    struct del_ctx *d = ctx;
    (void)version;
    if (strcmp(key, d->key) == 0) d->left++;
    return 0;
}

/* Deletes every version and delete marker of key, and the plain object;
 * 0 once the bucket lists none. */
static int delete_all(struct s3_be *b, const char *key) {
    struct del_ctx d = {b, key, 0, 0, 0};
    int rc = mc_s3_list_versions(b->s3, key, on_version_delete, &d);
    /* A bucket that never had versioning lists its objects with version
     * "null"; a plain delete covers a store that lists none. */
    if (!rc && d.deleted == 0) rc = mc_s3_delete(b->s3, key, NULL);
    if (!rc) rc = mc_s3_list_versions(b->s3, key, on_version_count, &d);
    if (!rc && d.left) rc = mc_err_set(MC_ERR_UNAVAILABLE, "%u versions of %s are still listed", d.left, key);
    return rc;
}

static int drop_upload(struct s3_be *b, const char *key, const char *upload_id);

/* Abandoned uploads: aborted and their objects deleted; returns how many
 * are still outstanding. */
static int abandoned_pass(struct s3_be *b) {
    char keys[PURGE_BATCH][MC_S3_KEY_MAX + 65], ups[PURGE_BATCH][MC_S3_UPLOAD_ID_MAX + 1];
    int n = 0;
    pthread_mutex_lock(&b->lock);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT key, upload_id FROM s3_uploads WHERE abandoned=1 ORDER BY key LIMIT ?", -1,
                           &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int(s, 1, PURGE_BATCH);
        while (n < PURGE_BATCH && sqlite3_step(s) == SQLITE_ROW) {
            snprintf(keys[n], sizeof keys[n], "%s", (const char *)sqlite3_column_text(s, 0));
            snprintf(ups[n], sizeof ups[n], "%s", (const char *)sqlite3_column_text(s, 1));
            n++;
        }
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&b->lock);
    int left = 0;
    for (int i = 0; i < n; i++) {
        if (!may_call(b)) return n - i;
        if (drop_upload(b, keys[i], ups[i])) left++;
        else mc_log_info("blob", "aborted an abandoned upload (%s)", keys[i] + strlen(b->prefix));
    }
    return left + (n == PURGE_BATCH ? 1 : 0);
}

/* One pass over the purging rows; returns how many are still outstanding
 * (or a negative error). */
static int purge_pass(struct s3_be *b) {
    mc_hash ids[PURGE_BATCH];
    int n = 0;
    pthread_mutex_lock(&b->lock);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT id FROM s3_blobs WHERE state=? ORDER BY id LIMIT ?", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int(s, 1, ST_PURGING);
        sqlite3_bind_int(s, 2, PURGE_BATCH);
        while (n < PURGE_BATCH && sqlite3_step(s) == SQLITE_ROW)
            if (sqlite3_column_bytes(s, 0) == 32) memcpy(ids[n++].b, sqlite3_column_blob(s, 0), 32);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&b->lock);
    int left = 0;
    for (int i = 0; i < n; i++) {
        if (!may_call(b)) return n - i;
        char key[MC_S3_KEY_MAX + 65];
        pthread_mutex_lock(&b->lock);
        row_key(b, &ids[i], key);
        pthread_mutex_unlock(&b->lock);
        int rc = outcome(b, delete_all(b, key));
        if (rc) {
            mc_log_warn("blob", "erasure of %.19s... in the bucket is not complete yet: %s", key + strlen(b->prefix),
                        mc_err_detail());
            left++;
            continue;
        }
        /* only purging -> purged: a concurrent purge leaves it purging */
        pthread_mutex_lock(&b->lock);
        (void)exec_id(b, "UPDATE s3_blobs SET state=?2 WHERE id=?1 AND state=?3", &ids[i], ST_PURGED, ST_PURGING);
        pthread_mutex_unlock(&b->lock);
    }
    return left + (n == PURGE_BATCH ? 1 : 0);
}

static void *purger(void *arg) {
    struct s3_be *b = arg;
    uint32_t backoff = 0;
    pthread_mutex_lock(&b->lock);
    b->kick = true; /* purges left by a restart */
    while (!b->stop) {
        if (!b->kick) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint32_t wait = backoff ? backoff : 1000;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&b->cond, &b->lock, &ts);
            if (b->stop) break;
            if (!b->kick && !backoff) continue; /* idle: nothing asked, nothing outstanding */
        }
        b->kick = false;
        pthread_mutex_unlock(&b->lock);
        int left = purge_pass(b);
        if (left >= 0) left += abandoned_pass(b);
        pthread_mutex_lock(&b->lock);
        if (left > 0) backoff = backoff ? (backoff * 2 > PURGE_BACKOFF_MAX_MS ? PURGE_BACKOFF_MAX_MS : backoff * 2)
                                        : MC_S3_COOLDOWN_MS;
        else backoff = 0;
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static void s3be_close(void *be) {
    struct s3_be *b = be;
    if (!b) return;
    if (b->purger_started) {
        pthread_mutex_lock(&b->lock);
        b->stop = true;
        pthread_cond_signal(&b->cond);
        pthread_mutex_unlock(&b->lock);
        pthread_join(b->purger, NULL);
    }
    mc_s3_close(b->s3);
    sqlite3_close(b->db);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

int mc__blob_s3_open(void **out, const char *db_path, const struct mc_s3_config *cfg, const char *prefix) {
    *out = NULL;
    if (strlen(prefix) > MC_S3_KEY_MAX - 64)
        return mc_err_set(MC_ERR_INVALID, "the S3 key prefix is longer than %d", MC_S3_KEY_MAX - 64);
    struct s3_be *b = calloc(1, sizeof *b);
    if (!b) return MC_ERR_NOMEM;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    snprintf(b->prefix, sizeof b->prefix, "%s", prefix);
    b->available = true;
    int rc = mc_s3_open(&b->s3, cfg);
    if (!rc && sqlite3_open_v2(db_path, &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                               NULL) != SQLITE_OK)
        rc = mc_err_set(MC_ERR_DB, "cannot open the blob index %s", db_path);
    if (!rc) {
        sqlite3_busy_timeout(b->db, 10000);
        if (sqlite3_exec(b->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(b->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK)
            rc = db_err(b, "schema");
        sqlite3_stmt *s = NULL;
        bool has_obj = false;
        if (!rc && sqlite3_prepare_v2(b->db, "SELECT 1 FROM pragma_table_info('s3_blobs') WHERE name='obj'", -1, &s,
                                      NULL) == SQLITE_OK)
            has_obj = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_finalize(s);
        if (!rc && !has_obj &&
            sqlite3_exec(b->db, "ALTER TABLE s3_blobs ADD COLUMN obj TEXT NOT NULL DEFAULT ''", NULL, NULL, NULL) !=
                SQLITE_OK)
            rc = db_err(b, "add column obj");
        /* uploads of a previous process: nobody finishes them now */
        if (!rc && sqlite3_exec(b->db, "UPDATE s3_uploads SET abandoned=1", NULL, NULL, NULL) != SQLITE_OK)
            rc = db_err(b, "uploads");
    }
    /* The bucket is made when missing; an unreachable store is not fatal
     * (the node starts and reports it; requests retry). */
    if (!rc) {
        int brc = outcome(b, mc_s3_bucket_create(b->s3));
        if (brc) mc_log_warn("blob", "cannot check the bucket %s: %s", cfg->bucket, mc_err_detail());
    }
    if (!rc) {
        if (pthread_create(&b->purger, NULL, purger, b) == 0) b->purger_started = true;
        else rc = mc_err_set(MC_ERR_NOMEM, "cannot start the erasure thread");
    }
    if (rc) {
        s3be_close(b);
        return rc;
    }
    *out = b;
    return 0;
}

static int s3be_count(void *be, uint64_t *live, uint64_t *purged) {
    struct s3_be *b = be;
    pthread_mutex_lock(&b->lock);
    sqlite3_stmt *s = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(b->db, "SELECT state, count(*) FROM s3_blobs GROUP BY state", -1, &s, NULL) != SQLITE_OK) {
        rc = db_err(b, "prepare");
    } else {
        while (sqlite3_step(s) == SQLITE_ROW) {
            int st = sqlite3_column_int(s, 0);
            uint64_t c = (uint64_t)sqlite3_column_int64(s, 1);
            if (st == ST_LIVE || st == ST_PENDING) *live += c;
            else *purged += c;
        }
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static void s3be_status(void *be, struct mc_blob_status *st) {
    struct s3_be *b = be;
    pthread_mutex_lock(&b->lock);
    st->available = b->available;
    st->errors = b->errors;
    st->requests = b->requests;
    st->request_ms = b->request_ms;
    snprintf(st->last_error, sizeof st->last_error, "%s", b->last_error);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT count(*) FROM s3_blobs WHERE state=?", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int(s, 1, ST_PURGING);
        if (sqlite3_step(s) == SQLITE_ROW) st->purges_pending = (uint64_t)sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&b->lock);
}

/* --- streamed blobs: multipart uploads --- */

struct s3_upload {
    char key[MC_S3_KEY_MAX + 65];
    char upload_id[MC_S3_UPLOAD_ID_MAX + 1];
    char (*etags)[MC_S3_ETAG_MAX + 1];
    uint32_t parts, cap;
};

static int exec_key(struct s3_be *b, const char *sql, const char *key, const char *text) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(b->db, sql, -1, &s, NULL) != SQLITE_OK) return db_err(b, "prepare");
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(s) >= 2) sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(b, "update");
    sqlite3_finalize(s);
    return rc;
}

/* Aborts the upload, deletes whatever object it made, then forgets it;
 * when the store cannot be reached the row stays for the sweep. */
static int drop_upload(struct s3_be *b, const char *key, const char *upload_id) {
    int rc = 0;
    if (upload_id[0]) rc = outcome(b, mc_s3_multipart_abort(b->s3, key, upload_id));
    if (!rc) rc = outcome(b, delete_all(b, key));
    pthread_mutex_lock(&b->lock);
    if (!rc) {
        rc = exec_key(b, "DELETE FROM s3_uploads WHERE key=?1", key, NULL);
    } else {
        /* the erasure thread retries it */
        (void)exec_key(b, "UPDATE s3_uploads SET abandoned=1 WHERE key=?1", key, NULL);
        b->kick = true;
        pthread_cond_signal(&b->cond);
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int s3be_wopen(void *be, void **up) {
    struct s3_be *b = be;
    *up = NULL;
    if (!may_call(b)) return MC_ERR_UNAVAILABLE;
    struct s3_upload *u = calloc(1, sizeof *u);
    if (!u) return MC_ERR_NOMEM;
    uint8_t r[16];
    randombytes_buf(r, sizeof r);
    char hx[33];
    mc_hex_encode(hx, r, 16);
    snprintf(u->key, sizeof u->key, "%smp/%s", b->prefix, hx);
    /* the row first: a crash after the create leaves an upload the sweep
     * finds (by the row, or by listing the uploads under mp/) */
    pthread_mutex_lock(&b->lock);
    int rc = exec_key(b, "INSERT INTO s3_uploads(key, upload_id, since) VALUES(?1, '', strftime('%s','now'))", u->key,
                      NULL);
    pthread_mutex_unlock(&b->lock);
    if (!rc) rc = outcome(b, mc_s3_multipart_create(b->s3, u->key, u->upload_id));
    if (!rc) {
        pthread_mutex_lock(&b->lock);
        rc = exec_key(b, "UPDATE s3_uploads SET upload_id=?2 WHERE key=?1", u->key, u->upload_id);
        pthread_mutex_unlock(&b->lock);
    }
    if (rc) {
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        (void)drop_upload(b, u->key, u->upload_id);
        free(u);
        return mc_err_set(rc, "%s", why);
    }
    *up = u;
    return 0;
}

static int s3be_wput(void *be, void *up, uint32_t seq, const void *bytes, size_t len) {
    struct s3_be *b = be;
    struct s3_upload *u = up;
    if (seq != u->parts || seq >= MC_S3_PARTS_MAX) return mc_err_set(MC_ERR_TOO_LARGE, "too many parts");
    if (u->parts == u->cap) {
        uint32_t nc = u->cap ? u->cap * 2 : 16;
        void *p = realloc(u->etags, nc * sizeof *u->etags);
        if (!p) return MC_ERR_NOMEM;
        u->etags = p;
        u->cap = nc;
    }
    if (!may_call(b)) return MC_ERR_UNAVAILABLE;
    mc_hash h;
    mc_sha256(&h, bytes, len);
    uint64_t t0 = now_ms();
    int rc = outcome_at(b, t0, mc_s3_multipart_put(b->s3, u->key, u->upload_id, seq + 1, bytes, len, &h,
                                                   u->etags[u->parts]));
    if (!rc) u->parts++;
    return rc;
}

static void upload_free(struct s3_upload *u) {
    free(u->etags);
    free(u);
}

static void s3be_wabort(void *be, void *up) {
    struct s3_be *b = be;
    struct s3_upload *u = up;
    if (!u) return;
    if (drop_upload(b, u->key, u->upload_id))
        mc_log_warn("blob", "cannot abort an abandoned upload yet (retried in the background): %s", mc_err_detail());
    upload_free(u);
}

static int s3be_wfinish(void *be, void *up, const mc_hash *id, uint64_t size, bool pending) {
    struct s3_be *b = be;
    struct s3_upload *u = up;
    int rc = may_call(b) ? 0 : MC_ERR_UNAVAILABLE;
    uint64_t t0 = now_ms();
    if (!rc) rc = outcome_at(b, t0, mc_s3_multipart_complete(b->s3, u->key, u->upload_id, u->etags, u->parts));
    char old[MC_S3_KEY_MAX + 65] = "";
    if (!rc) {
        /* the object exists whole from here: index it as the id's */
        pthread_mutex_lock(&b->lock);
        int st = row_state(b, id);
        if (st < -1) rc = MC_ERR_DB;
        else if (st == ST_PURGED || st == ST_PURGING) rc = mc_err_set(MC_ERR_STATE, "blob was erased");
        else if (st == -1) {
            sqlite3_stmt *s = NULL;
            if (sqlite3_prepare_v2(b->db, "INSERT INTO s3_blobs(id, state, size, since, obj)"
                                          " VALUES(?1, ?2, ?3, strftime('%s','now'), ?4)",
                                   -1, &s, NULL) != SQLITE_OK) {
                rc = db_err(b, "prepare");
            } else {
                sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
                sqlite3_bind_int(s, 2, pending ? ST_PENDING : ST_LIVE);
                sqlite3_bind_int64(s, 3, (sqlite3_int64)size);
                sqlite3_bind_text(s, 4, u->key, -1, SQLITE_STATIC);
                if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(b, "insert");
            }
            sqlite3_finalize(s);
        } else {
            /* a copy already indexed (a repair): this object replaces it */
            row_key(b, id, old);
            sqlite3_stmt *s = NULL;
            if (sqlite3_prepare_v2(b->db, "UPDATE s3_blobs SET obj=?2, size=?3, state=?4 WHERE id=?1", -1, &s, NULL) !=
                SQLITE_OK) {
                rc = db_err(b, "prepare");
            } else {
                sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
                sqlite3_bind_text(s, 2, u->key, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, 3, (sqlite3_int64)size);
                sqlite3_bind_int(s, 4, !pending ? ST_LIVE : st);
                if (sqlite3_step(s) != SQLITE_DONE) rc = db_err(b, "update");
            }
            sqlite3_finalize(s);
        }
        if (!rc) rc = exec_key(b, "DELETE FROM s3_uploads WHERE key=?1", u->key, NULL);
        pthread_mutex_unlock(&b->lock);
    }
    if (rc) {
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        (void)drop_upload(b, u->key, u->upload_id);
        upload_free(u);
        return mc_err_set(rc, "%s", why);
    }
    if (old[0] && strcmp(old, u->key) != 0) (void)outcome(b, delete_all(b, old));
    /* an erasure that committed meanwhile: delete again (see s3be_put) */
    pthread_mutex_lock(&b->lock);
    int st = row_state(b, id);
    if (st == ST_PURGED || st == ST_PURGING) {
        (void)exec_id(b, "UPDATE s3_blobs SET state=?2 WHERE id=?1", id, ST_PURGING, 0);
        b->kick = true;
        pthread_cond_signal(&b->cond);
        rc = mc_err_set(MC_ERR_STATE, "blob was erased");
    }
    pthread_mutex_unlock(&b->lock);
    upload_free(u);
    return rc;
}

struct s3_reader {
    char key[MC_S3_KEY_MAX + 65];
    bool inline_bytes;
    struct mc_buf bytes;
};

static int s3be_ropen(void *be, const mc_hash *id, bool anchored, void **rd, uint64_t *size) {
    struct s3_be *b = be;
    *rd = NULL;
    pthread_mutex_lock(&b->lock);
    int st = row_state(b, id);
    char key[MC_S3_KEY_MAX + 65], own[MC_S3_KEY_MAX + 65];
    row_key(b, id, key);
    int64_t recorded = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(b->db, "SELECT size FROM s3_blobs WHERE id=?", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) recorded = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&b->lock);
    key_of(own, b, id);
    if (st < -1) return MC_ERR_DB;
    if (st == -1) return mc_err_set(MC_ERR_NOT_FOUND, "blob is not stored on this node");
    if (st == ST_PURGED || st == ST_PURGING) return mc_err_set(MC_ERR_STATE, "blob was erased");
    if (st == ST_PENDING && !anchored)
        return mc_err_set(MC_ERR_NOT_FOUND, "blob is an upload no committed anchor names yet");
    struct s3_reader *r = calloc(1, sizeof *r);
    if (!r) return MC_ERR_NOMEM;
    snprintf(r->key, sizeof r->key, "%s", key);
    mc_buf_init(&r->bytes, 0);
    int rc = 0;
    if (strcmp(key, own) == 0) {
        r->inline_bytes = true;
        rc = s3be_get(be, id, &r->bytes, anchored);
        *size = r->bytes.len;
    } else {
        *size = (uint64_t)recorded;
        if (st == ST_PENDING) (void)set_state(b, id, ST_LIVE);
    }
    if (rc) {
        mc_buf_deinit(&r->bytes);
        free(r);
        return rc;
    }
    *rd = r;
    return 0;
}

static int s3be_rget(void *be, void *rd, uint64_t off, size_t len, struct mc_buf *out) {
    struct s3_be *b = be;
    struct s3_reader *r = rd;
    if (r->inline_bytes) {
        if (off < r->bytes.len) {
            size_t k = r->bytes.len - off < len ? (size_t)(r->bytes.len - off) : len;
            mc_buf_append(out, r->bytes.data + off, k);
        }
        return out->err;
    }
    if (!may_call(b)) return MC_ERR_UNAVAILABLE;
    uint64_t t0 = now_ms();
    int rc = mc_s3_get_range(b->s3, r->key, off, len, out);
    if (rc == MC_ERR_NOT_FOUND) {
        (void)outcome_at(b, t0, 0);
        return mc_err_set(MC_ERR_NOT_FOUND, "blob is missing from the bucket");
    }
    if (rc == MC_ERR_MALFORMED) { /* past its end: the object is shorter than indexed */
        (void)outcome_at(b, t0, 0);
        return 0;
    }
    return outcome_at(b, t0, rc);
}

static void s3be_rclose(void *be, void *rd) {
    struct s3_reader *r = rd;
    if (!r) return;
    mc_buf_deinit(&r->bytes);
    free(r);
}

/* --- the sweep --- */

struct cand {
    mc_hash id;
    int state;       /* index state, -1 none */
    uint64_t since;
    bool in_bucket;
};

struct sweep_ctx {
    struct s3_be *b;
    struct cand *c;
    size_t n, cap;
};

static struct cand *cand_add(struct sweep_ctx *x, const mc_hash *id) {
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 256;
        void *p = realloc(x->c, nc * sizeof *x->c);
        if (!p) return NULL;
        x->c = p;
        x->cap = nc;
    }
    struct cand *c = &x->c[x->n++];
    memset(c, 0, sizeof *c);
    c->id = *id;
    c->state = -1;
    return c;
}

static int on_key(void *ctx, const char *key) {
    struct sweep_ctx *x = ctx;
    size_t pn = strlen(x->b->prefix);
    if (strncmp(key, x->b->prefix, pn) != 0) return 0;
    if (strncmp(key + pn, "mp/", 3) == 0) return 0; /* streamed objects: sweep_streamed */
    mc_hash id;
    if (strlen(key + pn) != 64 || mc_hex_decode(id.b, 32, key + pn)) return 0; /* not ours */
    struct cand *c = cand_add(x, &id);
    if (!c) return MC_ERR_NOMEM;
    c->in_bucket = true;
    return 0;
}

static int cmp_cand(const void *a, const void *b) {
    return memcmp(((const struct cand *)a)->id.b, ((const struct cand *)b)->id.b, 32);
}

struct mp_ctx {
    struct s3_be *b;
    char (*keys)[MC_S3_KEY_MAX + 65];
    char (*ups)[MC_S3_UPLOAD_ID_MAX + 1];
    size_t n, cap;
};

static int mp_add(struct mp_ctx *x, const char *key, const char *up) {
    if (strlen(key) > MC_S3_KEY_MAX + 64) return 0;
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 64;
        void *k = realloc(x->keys, nc * sizeof *x->keys);
        if (!k) return MC_ERR_NOMEM;
        x->keys = k;
        void *u = realloc(x->ups, nc * sizeof *x->ups);
        if (!u) return MC_ERR_NOMEM;
        x->ups = u;
        x->cap = nc;
    }
    snprintf(x->keys[x->n], sizeof x->keys[0], "%s", key);
    snprintf(x->ups[x->n], sizeof x->ups[0], "%s", up ? up : "");
    x->n++;
    return 0;
}

static int on_mp_key(void *ctx, const char *key) { return mp_add(ctx, key, NULL); }
static int on_mp_upload(void *ctx, const char *key, const char *up) { return mp_add(ctx, key, up); }

/* Streamed objects and uploads under "<prefix>mp/" that no index row
 * holds: uploads a crash or a lost store left ("partial": aborted, and
 * their object deleted), objects no row names ("unindexed"), and rows of
 * s3_uploads older than the grace. A young s3_uploads row is an upload in
 * flight and is left alone. */
static int sweep_streamed(struct s3_be *b, const struct mc_blob_sweep *sw, uint64_t *found) {
    char mp[MC_S3_KEY_MAX + 8];
    snprintf(mp, sizeof mp, "%smp/", b->prefix);
    struct mp_ctx x = {b, NULL, NULL, 0, 0};
    int rc = outcome(b, mc_s3_list(b->s3, mp, on_mp_key, &x));
    if (!rc) rc = outcome(b, mc_s3_list_uploads(b->s3, mp, on_mp_upload, &x));
    /* and the rows of uploads the store may no longer list */
    pthread_mutex_lock(&b->lock);
    sqlite3_stmt *s = NULL;
    if (!rc && sqlite3_prepare_v2(b->db, "SELECT key, upload_id FROM s3_uploads", -1, &s, NULL) == SQLITE_OK)
        while (!rc && sqlite3_step(s) == SQLITE_ROW)
            rc = mp_add(&x, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    pthread_mutex_unlock(&b->lock);
    uint64_t now = mc__blob_now_s();
    for (size_t i = 0; i < x.n && !rc; i++) {
        bool indexed = false, young = false, tracked = false;
        int64_t since = 0;
        char row_up[MC_S3_UPLOAD_ID_MAX + 1] = "";
        pthread_mutex_lock(&b->lock);
        if (sqlite3_prepare_v2(b->db, "SELECT 1 FROM s3_blobs WHERE obj=?", -1, &s, NULL) == SQLITE_OK) {
            sqlite3_bind_text(s, 1, x.keys[i], -1, SQLITE_STATIC);
            indexed = sqlite3_step(s) == SQLITE_ROW;
        }
        sqlite3_finalize(s);
        if (sqlite3_prepare_v2(b->db, "SELECT since, upload_id FROM s3_uploads WHERE key=?", -1, &s, NULL) == SQLITE_OK) {
            sqlite3_bind_text(s, 1, x.keys[i], -1, SQLITE_STATIC);
            if (sqlite3_step(s) == SQLITE_ROW) {
                tracked = true;
                since = sqlite3_column_int64(s, 0);
                snprintf(row_up, sizeof row_up, "%s", (const char *)sqlite3_column_text(s, 1));
            }
        }
        sqlite3_finalize(s);
        pthread_mutex_unlock(&b->lock);
        young = tracked && (uint64_t)since + sw->grace_s > now;
        bool upload = x.ups[i][0] != 0;
        if (young || (indexed && !upload)) continue;
        /* each key once: skip a later duplicate of the same key and upload */
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(x.keys[j], x.keys[i]) == 0 && strcmp(x.ups[j], x.ups[i]) == 0;
        if (dup) continue;
        (*found)++;
        if (sw->remove) {
            if (upload) rc = outcome(b, mc_s3_multipart_abort(b->s3, x.keys[i], x.ups[i]));
            if (!rc && !indexed) rc = drop_upload(b, x.keys[i], row_up);
        }
        mc_hash none;
        memset(none.b, 0, sizeof none.b);
        if (!rc && sw->report) sw->report(sw->ctx, &none, upload || tracked ? "partial" : "unindexed", sw->remove);
    }
    free(x.keys);
    free(x.ups);
    return rc;
}

static int s3be_sweep(void *be, const struct mc_blob_sweep *sw, uint64_t *found) {
    struct s3_be *b = be;
    struct sweep_ctx x = {b, NULL, 0, 0};
    /* every object in the bucket under our prefix */
    int rc = outcome(b, mc_s3_list(b->s3, b->prefix, on_key, &x));
    /* and every pending index row (its object may be gone or half there) */
    pthread_mutex_lock(&b->lock);
    sqlite3_stmt *s = NULL;
    if (!rc && sqlite3_prepare_v2(b->db, "SELECT id FROM s3_blobs WHERE state=?", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int(s, 1, ST_PENDING);
        while (!rc && sqlite3_step(s) == SQLITE_ROW) {
            if (sqlite3_column_bytes(s, 0) != 32) continue;
            mc_hash id;
            memcpy(id.b, sqlite3_column_blob(s, 0), 32);
            if (!cand_add(&x, &id)) rc = MC_ERR_NOMEM;
        }
    }
    sqlite3_finalize(s);
    s = NULL;
    if (!rc) qsort(x.c, x.n, sizeof *x.c, cmp_cand);
    /* merge duplicates, read each one's index row */
    size_t m = 0;
    for (size_t i = 0; i < x.n && !rc; i++) {
        if (m && memcmp(x.c[m - 1].id.b, x.c[i].id.b, 32) == 0) {
            x.c[m - 1].in_bucket |= x.c[i].in_bucket;
            continue;
        }
        x.c[m++] = x.c[i];
    }
    if (!rc && sqlite3_prepare_v2(b->db, "SELECT state, since FROM s3_blobs WHERE id=?", -1, &s, NULL) != SQLITE_OK)
        rc = db_err(b, "prepare");
    for (size_t i = 0; i < m && !rc; i++) {
        sqlite3_reset(s);
        sqlite3_bind_blob(s, 1, x.c[i].id.b, 32, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            x.c[i].state = sqlite3_column_int(s, 0);
            x.c[i].since = (uint64_t)sqlite3_column_int64(s, 1);
        }
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&b->lock);
    uint64_t now = mc__blob_now_s();
    for (size_t i = 0; i < m && !rc; i++) {
        struct cand *c = &x.c[i];
        const char *what;
        if (c->state == ST_LIVE || c->state == ST_PURGING) continue; /* held, or the purger's */
        if (c->state == ST_PURGED) {
            what = "erased"; /* bytes back in the bucket after their erasure */
        } else if (sw->anchored(sw->ctx, &c->id)) {
            if (c->state == ST_PENDING) rc = s3be_commit(b, &c->id);
            else if (c->state == -1) {
                pthread_mutex_lock(&b->lock);
                rc = exec_id(b, "INSERT OR IGNORE INTO s3_blobs(id, state, size, since) VALUES(?1, ?2, 0, ?3)",
                             &c->id, ST_LIVE, (int64_t)now);
                pthread_mutex_unlock(&b->lock);
            }
            continue;
        } else {
            if (c->state == ST_PENDING && c->since + sw->grace_s > now) continue; /* in flight */
            what = c->state == ST_PENDING ? "pending" : "unindexed";
        }
        (*found)++;
        if (sw->remove) {
            char key[MC_S3_KEY_MAX + 65];
            pthread_mutex_lock(&b->lock);
            row_key(b, &c->id, key);
            pthread_mutex_unlock(&b->lock);
            rc = outcome(b, delete_all(b, key));
            if (!rc && c->state == ST_PENDING) {
                pthread_mutex_lock(&b->lock);
                rc = exec_id(b, "DELETE FROM s3_blobs WHERE id=?1 AND state=?2", &c->id, ST_PENDING, 0);
                pthread_mutex_unlock(&b->lock);
            }
        }
        if (!rc && sw->report) sw->report(sw->ctx, &c->id, what, sw->remove);
    }
    free(x.c);
    if (!rc) rc = sweep_streamed(b, sw, found);
    return rc;
}

const struct mc_blob_ops mc__blob_s3_ops = {
    .name = "s3",
    .put = s3be_put,
    .get = s3be_get,
    .needed = s3be_needed,
    .commit = s3be_commit,
    .purge = s3be_purge,
    .count = s3be_count,
    .status = s3be_status,
    .sweep = s3be_sweep,
    .close = s3be_close,
    .put_piece = MC_S3_PART_BYTES,
    .get_piece = MC_BLOB_PIECE,
    .wopen = s3be_wopen,
    .wput = s3be_wput,
    .wfinish = s3be_wfinish,
    .wabort = s3be_wabort,
    .ropen = s3be_ropen,
    .rget = s3be_rget,
    .rclose = s3be_rclose,
};
