/* The S3 blob backend against a real Ceph RADOS Gateway (scripts/rgw.sh,
 * memstore): round trip and content addressing, SigV4 really checked, an
 * object altered in the bucket detected, pending uploads not served and
 * swept, the gateway stopped (bounded "unavailable", then recovery),
 * erasure of every version of a versioned bucket, also with a restart in
 * the middle; and the configuration's refusals (credentials others can
 * read, bad endpoints). */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../support/proc.h"
#include "../support/rgw.h"
#include "../support/testutil.h"
#include "base/hex.h"
#include "blob/blob.h"
#include "blob/s3.h"
#include "crypto/hash.h"

static void key_of(char out[80], const char *prefix, const mc_hash *id) {
    char hx[65];
    mc_hex_encode(hx, id->b, 32);
    snprintf(out, 80, "%s%s", prefix, hx);
}

static int count_key(void *ctx, const char *key) {
    (*(int *)ctx)++;
    (void)key;
    return 0;
}

static int count_version(void *ctx, const char *key, const char *version) {
    (*(int *)ctx)++;
    (void)key;
    (void)version;
    return 0;
}

static int versions_of(struct mc_s3 *s3, const char *key) {
    int n = 0;
    cr_assert_eq(mc_s3_list_versions(s3, key, count_version, &n), 0, "%s", mc_err_detail());
    return n;
}

static bool in_bucket(struct mc_s3 *s3, const char *key) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = mc_s3_get(s3, key, &b, MC_BLOB_MAX);
    mc_buf_deinit(&b);
    cr_assert(rc == 0 || rc == MC_ERR_NOT_FOUND, "get %s: %d %s", key, rc, mc_err_detail());
    return rc == 0;
}

struct orphans {
    int n;
    char what[8][16];
    mc_hash id[8];
};

/* The sweep's view of the chain here: only keep is anchored (and what
 * the store already holds as live is not asked about). */
struct sweep_ctx {
    mc_hash keep;
    struct orphans *o;
};

static bool never_anchored(void *ctx, const mc_hash *id) {
    const struct sweep_ctx *x = ctx;
    return memcmp(x->keep.b, id->b, 32) == 0;
}

static void note_orphan(void *ctx, const mc_hash *id, const char *what, bool removed) {
    (void)removed;
    struct orphans *o = ((struct sweep_ctx *)ctx)->o;
    if (o->n < 8) {
        o->id[o->n] = *id;
        snprintf(o->what[o->n], sizeof o->what[0], "%s", what);
    }
    o->n++;
}

Test(blob_s3, round_trip_tamper_pending_and_sweep, .timeout = 60) {
    mc_crypto_init();
    struct tp_rgw rgw;
    tp_rgw_start(&rgw);
    char *db = tu_path(tu_tmpdir("blob-s3"), "index.db");
    struct mc_s3_config cfg;
    tp_rgw_config(&rgw, &cfg, "blobs-one");
    struct mc_blob_store *bs;
    cr_assert_eq(mc_blob_open_s3(&bs, db, &cfg, "n0/"), 0, "%s", mc_err_detail());
    struct mc_s3 *s3;
    cr_assert_eq(mc_s3_open(&s3, &cfg), 0);

    /* round trip: the object is in the bucket under its hash once put returns */
    const char msg[] = "ciphertext bytes of a record version";
    mc_hash id, again;
    cr_assert_eq(mc_blob_put(bs, &id, msg, sizeof msg), 0, "%s", mc_err_detail());
    mc_hash want;
    mc_sha256(&want, msg, sizeof msg);
    cr_assert_eq(memcmp(id.b, want.b, 32), 0, "the id is the SHA-256");
    char key[80];
    key_of(key, "n0/", &id);
    cr_assert(in_bucket(s3, key));
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_blob_get(bs, &id, &b), 0, "%s", mc_err_detail());
    cr_assert_eq(b.len, sizeof msg);
    cr_assert_eq(memcmp(b.data, msg, b.len), 0);
    mc_buf_reset(&b);
    cr_assert_eq(mc_blob_put(bs, &again, msg, sizeof msg), 0, "the same bytes again: a no-op");
    uint64_t live, purged;
    cr_assert_eq(mc_blob_count(bs, &live, &purged), 0);
    cr_assert_eq(live, 1);
    mc_hash unknown;
    mc_sha256(&unknown, "never stored", 12);
    cr_assert_eq(mc_blob_get(bs, &unknown, &b), MC_ERR_NOT_FOUND);
    struct mc_blob_status st;
    mc_blob_status(bs, &st);
    cr_assert_str_eq(st.backend, "s3");
    cr_assert(st.available);

    /* SigV4 is really checked: a wrong secret is refused */
    struct mc_s3_config bad = cfg;
    snprintf(bad.secret_key, sizeof bad.secret_key, "not-the-secret");
    struct mc_s3 *s3bad;
    cr_assert_eq(mc_s3_open(&s3bad, &bad), 0);
    cr_assert_eq(mc_s3_get(s3bad, key, &b, MC_BLOB_MAX), MC_ERR_FORBIDDEN, "%s", mc_err_detail());
    cr_assert_eq(b.len, 0);
    mc_s3_close(s3bad);

    /* an object altered in the bucket is detected and not returned; a
     * re-put (a good copy from a peer) repairs it */
    char forged[sizeof msg];
    memcpy(forged, msg, sizeof msg);
    forged[3] ^= 1;
    mc_hash fh;
    mc_sha256(&fh, forged, sizeof forged);
    cr_assert_eq(mc_s3_put(s3, key, forged, sizeof forged, &fh), 0);
    cr_assert_eq(mc_blob_get(bs, &id, &b), MC_ERR_TAMPERED);
    cr_assert_eq(b.len, 0, "nothing of a tampered object is returned");
    cr_assert_eq(mc_blob_put(bs, &again, msg, sizeof msg), 0);
    cr_assert_eq(mc_blob_get(bs, &id, &b), 0, "repaired: %s", mc_err_detail());
    mc_buf_reset(&b);

    /* an upload whose anchor never committed (a crash before it): not
     * served, even after a restart; a read from a committed anchor
     * serves it and makes it live */
    const char p1[] = "pending upload one", p2[] = "pending upload two";
    mc_hash pid1, pid2;
    cr_assert_eq(mc_blob_put_pending(bs, &pid1, p1, sizeof p1), 0);
    cr_assert_eq(mc_blob_put_pending(bs, &pid2, p2, sizeof p2), 0);
    mc_blob_close(bs); /* the crash */
    cr_assert_eq(mc_blob_open_s3(&bs, db, &cfg, "n0/"), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_blob_get(bs, &pid1, &b), MC_ERR_NOT_FOUND, "a pending upload is not served");
    cr_assert_eq(mc_blob_get(bs, &pid2, &b), MC_ERR_NOT_FOUND);
    cr_assert_eq(mc_blob_get_anchored(bs, &pid2, &b), 0, "%s", mc_err_detail());
    mc_buf_reset(&b);
    cr_assert_eq(mc_blob_get(bs, &pid2, &b), 0, "committed by the anchored read");
    mc_buf_reset(&b);

    /* an object no index row knows (a lost index) */
    const char stray[] = "stray object";
    mc_hash sid;
    mc_sha256(&sid, stray, sizeof stray);
    char skey[80];
    key_of(skey, "n0/", &sid);
    cr_assert_eq(mc_s3_put(s3, skey, stray, sizeof stray, &sid), 0);
    /* and one outside our prefix, which is not ours to touch */
    cr_assert_eq(mc_s3_put(s3, "other/object", stray, sizeof stray, &sid), 0);

    /* the sweep: with a grace the fresh pending upload is in flight */
    struct orphans o = {0};
    struct sweep_ctx ctx = {id, &o};
    /* anchored: only id and pid2 (live) */
    struct mc_blob_sweep sw = {never_anchored, note_orphan, &ctx, false, 3600};
    uint64_t found;
    cr_assert_eq(mc_blob_sweep(bs, &sw, &found), 0, "%s", mc_err_detail());
    cr_assert_eq(found, 1, "only the unindexed object (the pending one is in its grace)");
    cr_assert_str_eq(o.what[0], "unindexed");
    cr_assert_eq(memcmp(o.id[0].b, sid.b, 32), 0);
    memset(&o, 0, sizeof o);
    sw.grace_s = 0;
    cr_assert_eq(mc_blob_sweep(bs, &sw, &found), 0, "%s", mc_err_detail());
    cr_assert_eq(found, 2, "the pending upload and the unindexed object");
    char pkey[80];
    key_of(pkey, "n0/", &pid1);
    cr_assert(in_bucket(s3, pkey), "listing removes nothing");
    memset(&o, 0, sizeof o);
    sw.remove = true;
    cr_assert_eq(mc_blob_sweep(bs, &sw, &found), 0, "%s", mc_err_detail());
    cr_assert_eq(found, 2);
    cr_assert_not(in_bucket(s3, pkey), "the orphaned upload is gone");
    cr_assert_not(in_bucket(s3, skey), "the unindexed object is gone");
    cr_assert(in_bucket(s3, key), "live blobs stay");
    cr_assert(in_bucket(s3, "other/object"), "keys outside the prefix stay");
    cr_assert_eq(mc_blob_get(bs, &id, &b), 0);
    mc_buf_reset(&b);
    memset(&o, 0, sizeof o);
    cr_assert_eq(mc_blob_sweep(bs, &sw, &found), 0);
    cr_assert_eq(found, 0, "nothing left to sweep");
    int keys = 0;
    cr_assert_eq(mc_s3_list(s3, "n0/", count_key, &keys), 0);
    cr_assert_eq(keys, 2, "the two live blobs");

    mc_buf_deinit(&b);
    mc_s3_close(s3);
    mc_blob_close(bs);
    tp_rgw_stop(&rgw);
}

Test(blob_s3, unreachable_store_and_erasure_of_every_version_across_a_restart, .timeout = 90) {
    mc_crypto_init();
    struct tp_rgw rgw;
    tp_rgw_start(&rgw);
    char *db = tu_path(tu_tmpdir("blob-s3v"), "index.db");
    struct mc_s3_config cfg;
    tp_rgw_config(&rgw, &cfg, "blobs-versioned");
    struct mc_s3 *s3;
    cr_assert_eq(mc_s3_open(&s3, &cfg), 0);
    cr_assert_eq(mc_s3_bucket_create(s3), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_s3_bucket_versioning(s3, true), 0, "%s", mc_err_detail());
    struct mc_blob_store *bs;
    cr_assert_eq(mc_blob_open_s3(&bs, db, &cfg, ""), 0, "%s", mc_err_detail());

    const char a[] = "version history blob A", c[] = "blob C erased during an outage";
    mc_hash ida, idc;
    cr_assert_eq(mc_blob_put(bs, &ida, a, sizeof a), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_blob_put(bs, &ida, a, sizeof a), 0); /* a second version */
    cr_assert_eq(mc_blob_put(bs, &idc, c, sizeof c), 0);
    char ka[80], kc[80];
    key_of(ka, "", &ida);
    key_of(kc, "", &idc);
    cr_assert_eq(versions_of(s3, ka), 2, "the bucket keeps both versions");

    /* the gateway stops: reads and writes answer "unavailable" quickly,
     * the status says so, nothing hangs */
    tp_rgw_gateway_stop(&rgw);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    uint64_t t0 = tp_now_ms();
    cr_assert_eq(mc_blob_get(bs, &ida, &b), MC_ERR_UNAVAILABLE, "%s", mc_err_detail());
    uint64_t first = tp_now_ms() - t0;
    cr_assert_lt(first, 4000, "bounded by timeouts and retries (%llu ms)", (unsigned long long)first);
    t0 = tp_now_ms();
    cr_assert_eq(mc_blob_get(bs, &ida, &b), MC_ERR_UNAVAILABLE);
    cr_assert_lt(tp_now_ms() - t0, 200, "during the cooldown the answer is immediate");
    mc_hash idx;
    cr_assert_eq(mc_blob_put(bs, &idx, "x", 1), MC_ERR_UNAVAILABLE, "an upload fails (no anchor follows)");
    struct mc_blob_status st;
    mc_blob_status(bs, &st);
    cr_assert_not(st.available);
    cr_assert_gt(st.errors, 0);
    cr_assert_neq(st.last_error[0], 0);

    /* an erasure during the outage: the tombstone holds at once, the bucket
     * deletes wait; the node restarts before the store comes back */
    cr_assert_eq(mc_blob_purge(bs, &idc), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_blob_get(bs, &idc, &b), MC_ERR_STATE, "erased at once");
    mc_blob_status(bs, &st);
    cr_assert_eq(st.purges_pending, 1);
    mc_blob_close(bs);
    cr_assert_eq(mc_blob_open_s3(&bs, db, &cfg, ""), 0, "the node starts with the store down: %s",
                 mc_err_detail());
    mc_blob_status(bs, &st);
    cr_assert_eq(st.purges_pending, 1, "the erasure survived the restart");
    tp_rgw_gateway_start(&rgw);

    /* recovery: reads work again after the cooldown */
    int rc = MC_ERR_UNAVAILABLE;
    for (int k = 0; k < 100 && rc == MC_ERR_UNAVAILABLE; k++) {
        rc = mc_blob_get(bs, &ida, &b);
        if (rc) tp_sleep_ms(100);
    }
    cr_assert_eq(rc, 0, "the store is back: %s", mc_err_detail());
    mc_blob_status(bs, &st);
    cr_assert(st.available);
    /* the erasure completes: no version of C is left */
    for (int k = 0; k < 150 && (st.purges_pending || versions_of(s3, kc)); k++) {
        tp_sleep_ms(100);
        mc_blob_status(bs, &st);
    }
    cr_assert_eq(st.purges_pending, 0);
    cr_assert_eq(versions_of(s3, kc), 0, "every version of the erased object is gone");

    /* erasure of a blob with two versions: none left, no delete marker */
    cr_assert_eq(mc_blob_purge(bs, &ida), 0);
    for (int k = 0; k < 100 && versions_of(s3, ka); k++) tp_sleep_ms(50);
    cr_assert_eq(versions_of(s3, ka), 0, "both versions and any delete marker are gone");
    cr_assert_eq(mc_blob_get(bs, &ida, &b), MC_ERR_STATE);
    cr_assert_eq(mc_blob_put(bs, &ida, a, sizeof a), MC_ERR_STATE, "erased content is not brought back");
    cr_assert_eq(versions_of(s3, ka), 0);
    uint64_t live, purged;
    cr_assert_eq(mc_blob_count(bs, &live, &purged), 0);
    cr_assert_eq(purged, 2);

    mc_buf_deinit(&b);
    mc_s3_close(s3);
    mc_blob_close(bs);
    tp_rgw_stop(&rgw);
}

/* The configuration refuses what would leak or cannot work; no store
 * needed (nothing is contacted before the checks). */
Test(blob_s3, config_refuses_readable_credentials_and_bad_settings) {
    mc_crypto_init();
    char *home = tu_tmpdir("blob-cfg");
    char *db = tu_path(home, "chain.db");
    char *cred = tu_path(home, "cred.json");
    FILE *f = fopen(cred, "w");
    cr_assert_not_null(f);
    fprintf(f, "{\"access_key\": \"AK\", \"secret_key\": \"SK\"}");
    fclose(f);
    char *cfgp = tu_path(home, "config.json");
    struct mc_blob_store *bs = NULL;
    static const struct {
        const char *blob_store;
        mode_t mode;
        const char *why;
    } cases[] = {
        {"{\"backend\":\"s3\",\"endpoint\":\"http://127.0.0.1:9\",\"bucket\":\"abc\",\"credentials\":\"cred.json\"}",
         0644, "readable by others"},
        {"{\"backend\":\"s3\",\"endpoint\":\"http://127.0.0.1:9\",\"bucket\":\"abc\",\"credentials\":\"cred.json\"}",
         0640, "readable by others"},
        {"{\"backend\":\"s3\",\"endpoint\":\"ftp://x\",\"bucket\":\"abc\",\"credentials\":\"cred.json\"}", 0600,
         "http:// or https://"},
        {"{\"backend\":\"s3\",\"endpoint\":\"http://host1/path\",\"bucket\":\"abc\",\"credentials\":\"cred.json\"}", 0600,
         "no path"},
        {"{\"backend\":\"s3\",\"endpoint\":\"http://host1\",\"bucket\":\"A_B\",\"credentials\":\"cred.json\"}", 0600,
         "bucket"},
        {"{\"backend\":\"s3\",\"endpoint\":\"http://host1\",\"bucket\":\"abc\"}", 0600, "credentials"},
        {"{\"backend\":\"s3\",\"endpoint\":\"http://host1\",\"bucket\":\"abc\",\"credentials\":\"cred.json\","
         "\"timeout_ms\":0}", 0600, "timeout_ms"},
        {"{\"backend\":\"tape\"}", 0600, "not sqlite or s3"},
        {"\"s3\"", 0600, "backend"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(chmod(cred, cases[i].mode), 0);
        f = fopen(cfgp, "w");
        fprintf(f, "{\"blob_store\": %s}", cases[i].blob_store);
        fclose(f);
        mc_err_clear();
        cr_assert_eq(mc_blob_open_home(&bs, home, db), MC_ERR_INVALID, "case %zu", i);
        cr_assert_null(bs);
        cr_assert(strstr(mc_err_detail(), cases[i].why), "case %zu: %s", i, mc_err_detail());
    }
    /* no blob_store: the SQLite default */
    f = fopen(cfgp, "w");
    fprintf(f, "{}");
    fclose(f);
    cr_assert_eq(mc_blob_open_home(&bs, home, db), 0, "%s", mc_err_detail());
    struct mc_blob_status st;
    mc_blob_status(bs, &st);
    cr_assert_str_eq(st.backend, "sqlite");
    mc_blob_close(bs);
}

/* The SQLite backend keeps the same pending rule and sweep. */
Test(blob_s3, sqlite_backend_pending_and_sweep) {
    mc_crypto_init();
    char *db = tu_path(tu_tmpdir("blob-sq"), "chain.db");
    struct mc_blob_store *bs;
    cr_assert_eq(mc_blob_open(&bs, db), 0);
    mc_hash live, pend;
    cr_assert_eq(mc_blob_put(bs, &live, "live", 4), 0);
    cr_assert_eq(mc_blob_put_pending(bs, &pend, "pending", 7), 0);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_blob_get(bs, &pend, &b), MC_ERR_NOT_FOUND, "pending is not served");
    cr_assert(mc_blob_needed(bs, &pend));
    cr_assert_not(mc_blob_needed(bs, &live));
    struct orphans o = {0};
    struct sweep_ctx ctx = {live, &o};
    struct mc_blob_sweep sw = {never_anchored, note_orphan, &ctx, true, 0};
    uint64_t found;
    cr_assert_eq(mc_blob_sweep(bs, &sw, &found), 0, "%s", mc_err_detail());
    cr_assert_eq(found, 1);
    cr_assert_str_eq(o.what[0], "pending");
    cr_assert_eq(mc_blob_get_anchored(bs, &pend, &b), MC_ERR_NOT_FOUND, "removed");
    cr_assert_eq(mc_blob_get(bs, &live, &b), 0);
    mc_buf_deinit(&b);
    mc_blob_close(bs);
}

/* `medchain blobs migrate`: a node's SQLite blobs move to its bucket, read
 * back and checked; a second run skips what is there; a damaged local copy
 * is not moved (and says so); tombstones move; --drop-local empties the
 * table. */
Test(blob_s3, migrate_from_sqlite_is_verified_and_resumable, .timeout = 60) {
    mc_crypto_init();
    struct tp_rgw rgw;
    tp_rgw_start(&rgw);
    char *home = tu_tmpdir("blob-migrate");
    char *data = tu_path(home, "data");
    cr_assert_eq(mkdir(data, 0700), 0);
    char *db = tu_path(home, "data/chain.db");
    struct mc_blob_store *sq;
    cr_assert_eq(mc_blob_open(&sq, db), 0);
    mc_hash a, bid, gone, bad;
    cr_assert_eq(mc_blob_put(sq, &a, "first blob", 10), 0);
    cr_assert_eq(mc_blob_put(sq, &bid, "second blob", 11), 0);
    cr_assert_eq(mc_blob_put(sq, &gone, "erased blob", 11), 0);
    cr_assert_eq(mc_blob_purge(sq, &gone), 0);
    /* and a streamed one (an attachment), in SQLite pieces */
    struct mc_blob_writer *w;
    cr_assert_eq(mc_blob_writer_open(sq, &w, false), 0);
    static uint8_t big[3 * 1024 * 1024 + 5];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7 + (i >> 12));
    cr_assert_eq(mc_blob_writer_append(w, big, sizeof big), 0);
    mc_hash sid;
    uint64_t ssize;
    cr_assert_eq(mc_blob_writer_finish(w, &sid, &ssize, NULL), 0, "%s", mc_err_detail());
    mc_blob_close(sq);
    char *out;
    /* the config still says SQLite: refused */
    int rc = tp_run(&out, "%s blobs migrate --home %s 2>&1", tp_bin(), home);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(out, "SQLite"), "%s", out);
    free(out);
    tp_rgw_configure_node(&rgw, home, "migrated");
    rc = tp_run(&out, "%s blobs migrate --home %s 2>&1", tp_bin(), home);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "moved: 3") && strstr(out, "erased: 1") && strstr(out, "local copies: kept"), "%s", out);
    free(out);
    rc = tp_run(&out, "%s blobs migrate --home %s 2>&1", tp_bin(), home);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "moved: 0") && strstr(out, "already there: 3"), "resumes: %s", out);
    free(out);

    /* a damaged local copy is not moved */
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(db, &s), SQLITE_OK);
    mc_sha256(&bad, "third blob", 10);
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_prepare_v2(s, "INSERT INTO blobs(id, bytes, purged, size) VALUES(?, 'not the third blob', 0, 17)",
                                    -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_blob(q, 1, bad.b, 32, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(s);
    rc = tp_run(&out, "%s blobs migrate --home %s --drop-local 2>&1", tp_bin(), home);
    cr_assert_neq(rc, 0, "%s", out);
    cr_assert(strstr(out, "damaged: 1") && strstr(out, "local copies: kept"), "%s", out);
    free(out);
    cr_assert_eq(sqlite3_open(db, &s), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(s, "DELETE FROM blobs WHERE size=17", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    rc = tp_run(&out, "%s blobs migrate --home %s --drop-local 2>&1", tp_bin(), home);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "local copies: dropped"), "%s", out);
    free(out);

    /* the node's store is now the bucket: both blobs there, the erased one
     * refused; the local table is empty */
    struct mc_blob_store *bs;
    cr_assert_eq(mc_blob_open_home(&bs, home, db), 0, "%s", mc_err_detail());
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_blob_get(bs, &a, &b), 0, "%s", mc_err_detail());
    cr_assert_eq(b.len, 10);
    cr_assert_eq(memcmp(b.data, "first blob", 10), 0);
    mc_buf_reset(&b);
    cr_assert_eq(mc_blob_get(bs, &bid, &b), 0);
    cr_assert_eq(mc_blob_get(bs, &gone, &b), MC_ERR_STATE);
    cr_assert_eq(mc_blob_get(bs, &bad, &b), MC_ERR_NOT_FOUND);
    /* the streamed blob is one multipart object in the bucket, read back whole */
    struct mc_blob_reader *r;
    uint64_t rsize;
    cr_assert_eq(mc_blob_reader_open(bs, &r, &sid, false, &rsize), 0, "%s", mc_err_detail());
    cr_assert_eq(rsize, sizeof big);
    static uint8_t back[sizeof big];
    size_t got = 0, n = 1;
    while (n) {
        cr_assert_eq(mc_blob_reader_read(r, back + got, sizeof back - got, &n), 0, "%s", mc_err_detail());
        got += n;
    }
    mc_blob_reader_close(r);
    cr_assert_eq(got, sizeof big);
    cr_assert_eq(memcmp(back, big, sizeof big), 0);
    mc_buf_deinit(&b);
    mc_blob_close(bs);
    cr_assert_eq(sqlite3_open(db, &s), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(s, "SELECT count(*) FROM blobs", -1, &q, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(q, 0), 0);
    sqlite3_finalize(q);
    cr_assert_eq(sqlite3_prepare_v2(s, "SELECT count(*) FROM blob_pieces", -1, &q, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(q, 0), 0, "the local pieces are dropped too");
    sqlite3_finalize(q);
    sqlite3_close(s);
    tp_rgw_stop(&rgw);
}

/* --- streamed blobs on S3: multipart upload, ranged reads --- */

static void sfill(uint8_t *p, size_t n, uint64_t off) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)((off + i) * 2654435761u >> 13);
}

/* Streams total bytes of sfill() into a writer; returns the append error
 * (0 when all went). */
static int stream_in(struct mc_blob_writer *w, uint64_t total) {
    static uint8_t buf[1 << 20];
    for (uint64_t off = 0; off < total;) {
        size_t k = total - off < sizeof buf ? (size_t)(total - off) : sizeof buf;
        sfill(buf, k, off);
        int rc = mc_blob_writer_append(w, buf, k);
        if (rc) return rc;
        off += k;
    }
    return 0;
}

static int stream_out(struct mc_blob_store *bs, const mc_hash *id, uint64_t *got, bool check) {
    struct mc_blob_reader *r;
    uint64_t size;
    *got = 0;
    int rc = mc_blob_reader_open(bs, &r, id, true, &size);
    if (rc) return rc;
    static uint8_t buf[65536], exp[65536];
    for (;;) {
        size_t n;
        if ((rc = mc_blob_reader_read(r, buf, sizeof buf, &n)) || !n) break;
        sfill(exp, n, *got);
        if (check) cr_assert_eq(memcmp(buf, exp, n), 0, "bytes at %llu", (unsigned long long)*got);
        *got += n;
    }
    mc_blob_reader_close(r);
    return rc;
}

static int count_upload(void *ctx, const char *key, const char *up) {
    (void)key;
    (void)up;
    (*(int *)ctx)++;
    return 0;
}

struct mp_keys {
    int n;
    char key[4][96];
};

static int note_mp_key(void *ctx, const char *key) {
    struct mp_keys *k = ctx;
    if (k->n < 4) snprintf(k->key[k->n], sizeof k->key[0], "%s", key);
    k->n++;
    return 0;
}

Test(blob_s3, streamed_multipart_round_trip_tamper_abort_and_erasure, .timeout = 120) {
    mc_crypto_init();
    struct tp_rgw rgw;
    tp_rgw_start(&rgw);
    char *db = tu_path(tu_tmpdir("blob-s3mp"), "index.db");
    struct mc_s3_config cfg;
    tp_rgw_config(&rgw, &cfg, "blobs-mp");
    cfg.timeout_ms = 20000;
    struct mc_blob_store *bs;
    cr_assert_eq(mc_blob_open_s3(&bs, db, &cfg, "n0/"), 0, "%s", mc_err_detail());
    struct mc_s3 *s3;
    cr_assert_eq(mc_s3_open(&s3, &cfg), 0);

    /* three parts (two of MC_S3_PART_BYTES, one short): one object */
    uint64_t total = 2 * MC_S3_PART_BYTES + 12345;
    struct mc_blob_writer *w;
    cr_assert_eq(mc_blob_writer_open(bs, &w, false), 0, "%s", mc_err_detail());
    int ups = 0;
    cr_assert_eq(mc_s3_list_uploads(s3, "n0/mp/", count_upload, &ups), 0, "%s", mc_err_detail());
    cr_assert_eq(ups, 1, "a multipart upload in progress");
    cr_assert_eq(stream_in(w, total), 0, "%s", mc_err_detail());
    mc_hash id;
    uint64_t size;
    cr_assert_eq(mc_blob_writer_finish(w, &id, &size, NULL), 0, "%s", mc_err_detail());
    cr_assert_eq(size, total);
    ups = 0;
    cr_assert_eq(mc_s3_list_uploads(s3, "n0/mp/", count_upload, &ups), 0);
    cr_assert_eq(ups, 0, "completed");
    struct mp_keys k = {0};
    cr_assert_eq(mc_s3_list(s3, "n0/mp/", note_mp_key, &k), 0);
    cr_assert_eq(k.n, 1, "one object holds it whole");
    uint64_t got;
    cr_assert_eq(stream_out(bs, &id, &got, true), 0, "%s", mc_err_detail());
    cr_assert_eq(got, total);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_blob_get(bs, &id, &b), MC_ERR_TOO_LARGE, "never got whole");

    /* the object replaced in the bucket by other bytes of the same length:
     * the read that reaches the end refuses */
    uint8_t *other = malloc(total);
    sfill(other, total, 1);
    mc_hash oh;
    mc_sha256(&oh, other, total);
    cr_assert_eq(mc_s3_put(s3, k.key[0], other, total, &oh), 0, "%s", mc_err_detail());
    cr_assert_eq(stream_out(bs, &id, &got, false), MC_ERR_TAMPERED);
    cr_assert_lt(got, total, "the last piece is not served");
    /* and shorter than indexed */
    cr_assert_eq(mc_s3_put(s3, k.key[0], other, 1000, &oh), MC_ERR_IO, "the gateway checks the payload hash");
    mc_hash sh;
    mc_sha256(&sh, other, 1000);
    cr_assert_eq(mc_s3_put(s3, k.key[0], other, 1000, &sh), 0);
    cr_assert_eq(stream_out(bs, &id, &got, false), MC_ERR_TAMPERED, "shorter");
    free(other);
    /* repaired by a new upload of the good bytes; the bad object goes */
    cr_assert_eq(mc_blob_writer_open(bs, &w, false), 0);
    cr_assert_eq(stream_in(w, total), 0);
    mc_hash again;
    cr_assert_eq(mc_blob_writer_finish(w, &again, &size, &id), 0, "%s", mc_err_detail());
    cr_assert_eq(stream_out(bs, &id, &got, true), 0, "repaired: %s", mc_err_detail());
    memset(&k, 0, sizeof k);
    cr_assert_eq(mc_s3_list(s3, "n0/mp/", note_mp_key, &k), 0);
    cr_assert_eq(k.n, 1, "the damaged object was deleted");

    /* an abandoned upload: aborted, nothing listed, nothing indexed */
    cr_assert_eq(mc_blob_writer_open(bs, &w, true), 0);
    cr_assert_eq(stream_in(w, MC_S3_PART_BYTES + 5), 0);
    mc_blob_writer_abort(w);
    ups = 0;
    cr_assert_eq(mc_s3_list_uploads(s3, "n0/mp/", count_upload, &ups), 0);
    cr_assert_eq(ups, 0, "the multipart upload was aborted");

    /* the gateway stopped mid-upload: the append fails (bounded), the
     * abort cannot reach the store, so the sweep aborts it later */
    cr_assert_eq(mc_blob_writer_open(bs, &w, true), 0);
    cr_assert_eq(stream_in(w, MC_S3_PART_BYTES + 5), 0, "one part sent");
    tp_rgw_gateway_stop(&rgw);
    int rc = stream_in(w, MC_S3_PART_BYTES);
    cr_assert_eq(rc, MC_ERR_UNAVAILABLE, "%d %s", rc, mc_err_detail());
    mc_blob_writer_abort(w);
    tp_rgw_gateway_start(&rgw);
    struct timespec ts = {0, 600 * 1000000L}; /* past the cooldown */
    nanosleep(&ts, NULL);
    /* the erasure thread aborts it once the gateway answers again */
    for (int i = 0; i < 400; i++) {
        ups = 0;
        cr_assert_eq(mc_s3_list_uploads(s3, "n0/mp/", count_upload, &ups), 0, "%s", mc_err_detail());
        if (ups == 0) break;
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    }
    cr_assert_eq(ups, 0, "the upload the outage left is aborted in the background");
    /* one a crash left with no index row (the index lost): the sweep */
    char up[MC_S3_UPLOAD_ID_MAX + 1];
    cr_assert_eq(mc_s3_multipart_create(s3, "n0/mp/00112233445566778899aabbccddeeff", up), 0, "%s", mc_err_detail());
    struct orphans o = {0};
    struct sweep_ctx ctx = {id, &o};
    struct mc_blob_sweep sw = {never_anchored, note_orphan, &ctx, true, 0};
    uint64_t found;
    cr_assert_eq(mc_blob_sweep(bs, &sw, &found), 0, "%s", mc_err_detail());
    cr_assert_geq(found, 1);
    cr_assert_str_eq(o.what[0], "partial");
    ups = 0;
    cr_assert_eq(mc_s3_list_uploads(s3, "n0/mp/", count_upload, &ups), 0);
    cr_assert_eq(ups, 0, "the sweep aborted it");
    cr_assert_eq(stream_out(bs, &id, &got, true), 0, "live blobs stay");

    /* erasure deletes the object (a completed upload is one object) */
    cr_assert_eq(mc_blob_purge(bs, &id), 0);
    for (int i = 0; i < 100; i++) {
        struct mc_blob_status st;
        mc_blob_status(bs, &st);
        if (st.purges_pending == 0) break;
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    }
    memset(&k, 0, sizeof k);
    cr_assert_eq(mc_s3_list(s3, "n0/mp/", note_mp_key, &k), 0);
    cr_assert_eq(k.n, 0, "erased from the bucket");
    cr_assert_eq(stream_out(bs, &id, &got, true), MC_ERR_STATE);
    mc_buf_deinit(&b);
    mc_s3_close(s3);
    mc_blob_close(bs);
    tp_rgw_stop(&rgw);
}
