/* A consortium whose nodes keep their ciphertext on a real Ceph RADOS
 * Gateway (scripts/rgw.sh), mixed with a node on SQLite: node0 on S3 (a
 * versioned bucket), node1 on S3 (a bucket it creates), node2 on SQLite.
 *
 * A record added through node0 is in node0's bucket once the anchor is
 * committed, only as ciphertext, and replicates to node1's bucket and
 * node2's database. An object altered in node0's bucket is detected, not
 * served, and repaired from a peer. With the gateway stopped, node0 reads
 * answer 503 (its status says the store is unavailable) and adds are
 * refused, while node2 still serves; when the gateway is back node0
 * recovers. Erasure leaves no version of the object in either bucket and
 * no bytes on node2. A stray object and an upload a crash left before its
 * anchor are listed and removed by `medchain blobs sweep`. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../support/proc.h"
#include "../support/rgw.h"
#include "../support/testutil.h"
#include "base/hex.h"
#include "blob/blob.h"
#include "blob/s3.h"
#include "crypto/hash.h"

#define NODES 3
#define REGION 12 /* port region (test_cluster.c 0..7, _blobs 8, _lock 11) */

struct s3cluster {
    char *dir;
    pid_t pid[NODES];
    char url[NODES][64];
    int api;
};

static char *home_of(struct s3cluster *c, int i) {
    char h[600];
    snprintf(h, sizeof h, "%s/node%d", c->dir, i);
    return tu_keep(strdup(h));
}

static char *db_of(struct s3cluster *c, int i) {
    char h[700];
    snprintf(h, sizeof h, "%s/node%d/data/chain.db", c->dir, i);
    return tu_keep(strdup(h));
}

static int cli_rc(struct s3cluster *c, int i, char **out, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int cli_rc(struct s3cluster *c, int i, char **out, const char *fmt, ...) {
    char args[2000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int rc = tp_run(out, "%s %s --node %s 2>&1", tp_bin(), args, c->url[i]);
    tu_keep(*out);
    return rc;
}

#define CLI_OK(c, i, ...)                                                     \
    ({                                                                        \
        char *o_;                                                             \
        int r_ = cli_rc((c), (i), &o_, __VA_ARGS__);                          \
        cr_assert_eq(r_, 0, "exit %d: %s", r_, o_);                           \
        o_;                                                                   \
    })

/* The object of blob id in a bucket: 0 and its bytes, or the error. */
static int object_of(struct mc_s3 *s3, const mc_hash *id, struct mc_buf *out) {
    char key[80];
    mc_hex_encode(key, id->b, 32);
    mc_buf_reset(out);
    return mc_s3_get(s3, key, out, MC_BLOB_MAX);
}

static bool bucket_holds_good(struct mc_s3 *s3, const mc_hash *id) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    bool good = false;
    if (object_of(s3, id, &b) == 0) {
        mc_hash h;
        mc_sha256(&h, b.data, b.len);
        good = memcmp(h.b, id->b, 32) == 0;
    }
    mc_buf_deinit(&b);
    return good;
}

static int count_version(void *ctx, const char *key, const char *version) {
    (void)key;
    (void)version;
    (*(int *)ctx)++;
    return 0;
}

static int versions_of(struct mc_s3 *s3, const mc_hash *id) {
    char key[80];
    mc_hex_encode(key, id->b, 32);
    int n = 0;
    cr_assert_eq(mc_s3_list_versions(s3, key, count_version, &n), 0, "%s", mc_err_detail());
    return n;
}

/* node2's SQLite row: a good live copy / a purged tombstone. */
static int sqlite_state(struct s3cluster *c, int i, const mc_hash *id) {
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_of(c, i), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *s;
    int st = -1; /* none */
    if (sqlite3_prepare_v2(db, "SELECT bytes, purged FROM blobs WHERE id=?", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            mc_hash h;
            mc_sha256(&h, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
            st = sqlite3_column_int(s, 1) ? 2 : memcmp(h.b, id->b, 32) == 0 ? 1 : 0;
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return st;
}

static json_t *status_blob_store(struct s3cluster *c, int i) {
    char url[128];
    snprintf(url, sizeof url, "%s/v1/status", c->url[i]);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    tp_resp_free(&r);
    cr_assert_not_null(j);
    json_t *b = json_incref(json_object_get(j, "blob_store"));
    json_decref(j);
    cr_assert_not_null(b);
    return b;
}

/* Nodes still running when an assertion ends the test: stopped by the
 * test's fini (the gateway has its own watchdog, tests/support/rgw.h). */
static struct s3cluster *running;

static void stop_nodes(void) {
    for (int i = 0; running && i < NODES; i++)
        if (running->pid[i] > 0) tp_kill(running->pid[i], SIGKILL);
}

static uint64_t height_of(struct s3cluster *c, int i) {
    char url[128];
    snprintf(url, sizeof url, "%s/v1/status", c->url[i]);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    tp_resp_free(&r);
    cr_assert_not_null(j);
    json_t *h = json_object_get(j, "height");
    uint64_t v = json_is_integer(h) ? (uint64_t)json_integer_value(h) : strtoull(json_string_value(h), NULL, 10);
    json_decref(j);
    return v;
}

Test(cluster_s3, records_on_rados_gateway_replicate_repair_survive_an_outage_and_erase, .timeout = 120,
     .fini = stop_nodes) {
    mc_crypto_init();
    struct tp_rgw rgw;
    tp_rgw_start(&rgw);
    struct mc_s3_config cfg0, cfg1;
    tp_rgw_config(&rgw, &cfg0, "node0-blobs");
    tp_rgw_config(&rgw, &cfg1, "node1-blobs");
    struct mc_s3 *s3_0, *s3_1;
    cr_assert_eq(mc_s3_open(&s3_0, &cfg0), 0);
    cr_assert_eq(mc_s3_open(&s3_1, &cfg1), 0);
    /* node0's bucket is versioned (node1's is made by the node itself) */
    cr_assert_eq(mc_s3_bucket_create(s3_0), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_s3_bucket_versioning(s3_0, true), 0, "%s", mc_err_detail());

    struct s3cluster c;
    memset(&c, 0, sizeof c);
    running = &c;
    c.dir = tu_path(tu_tmpdir("s3net"), "net");
    c.api = tp_free_run(NODES, 2 * REGION);
    int p2p = tp_free_run(NODES, 2 * REGION + 1);
    char *out;
    int rc = tp_run(&out, "%s testnet --validators %d --dir %s --api-port %d --p2p-port %d "
                    "--chain-id medchain-s3", tp_bin(), NODES, c.dir, c.api, p2p);
    cr_assert_eq(rc, 0, "testnet: %s", out);
    free(out);
    tp_rgw_configure_node(&rgw, home_of(&c, 0), "node0-blobs");
    tp_rgw_configure_node(&rgw, home_of(&c, 1), "node1-blobs");
    for (int i = 0; i < NODES; i++) {
        snprintf(c.url[i], sizeof c.url[i], "http://127.0.0.1:%d", c.api + i);
        c.pid[i] = tp_node_start(home_of(&c, i), c.api + i);
    }
    json_t *bst = status_blob_store(&c, 0);
    cr_assert_str_eq(json_string_value(json_object_get(bst, "backend")), "s3");
    cr_assert(json_is_true(json_object_get(bst, "available")));
    json_decref(bst);
    bst = status_blob_store(&c, 2);
    cr_assert_str_eq(json_string_value(json_object_get(bst, "backend")), "sqlite");
    json_decref(bst);

    /* a record through node0 */
    char *dr = tp_keygen(c.dir, "dr.json"), *pat = tp_keygen(c.dir, "patient.json");
    CLI_OK(&c, 0, "member enroll --key %s/admin_key.json --member-key %s --role clinician --name 'Dr S3'",
           home_of(&c, 0), dr);
    CLI_OK(&c, 0, "patient register --key %s --patient-key %s", dr, pat);
    char *obs = tu_path(c.dir, "obs.json");
    FILE *f = fopen(obs, "wb");
    cr_assert_not_null(f);
    fprintf(f, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"ldl\"},"
               "\"subject\":{\"reference\":\"Patient/%s\"},\"valueString\":\"s3-marker-31\"}",
            tp_pubkey_hex(pat));
    fclose(f);
    out = CLI_OK(&c, 0, "record add --key %s --patient-key %s --file %s", dr, pat, obs);
    cr_assert(strstr(out, "status: committed"), "%s", out);
    char *rec = tp_field(out, "id");
    cr_assert_not_null(rec, "%s", out);

    /* node0's index names one live blob; its object is in the bucket,
     * hash checked, and holds no plaintext */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_of(&c, 0), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT id, state FROM s3_blobs", -1, &s, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    mc_hash id;
    cr_assert_eq(sqlite3_column_bytes(s, 0), 32);
    memcpy(id.b, sqlite3_column_blob(s, 0), 32);
    cr_assert_eq(sqlite3_column_int(s, 1), 1, "live once the anchor committed");
    cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "one blob on node0");
    sqlite3_finalize(s);
    sqlite3_close(db);
    cr_assert(bucket_holds_good(s3_0, &id), "the upload completed before the anchor");
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(object_of(s3_0, &id, &b), 0);
    mc_buf_append(&b, "", 1);
    cr_assert_null(memmem(b.data, b.len, "s3-marker-31", 12), "no plaintext in the bucket");
    cr_assert_null(memmem(b.data, b.len, "Observation", 11), "no plaintext in the bucket");

    /* replication: node1's bucket and node2's database get it */
    int k = 0;
    while ((!bucket_holds_good(s3_1, &id) || sqlite_state(&c, 2, &id) != 1) && k++ < 200) tp_sleep_ms(50);
    cr_assert(bucket_holds_good(s3_1, &id), "node1 (S3) fetched it from a peer");
    cr_assert_eq(sqlite_state(&c, 2, &id), 1, "node2 (SQLite) fetched it from a peer");
    /* the patient lets node1's and node2's organisations read it: their
     * nodes get the key and serve the patient's reads from their copies */
    CLI_OK(&c, 0, "grant add --key %s --to-org 2", pat);
    CLI_OK(&c, 0, "grant add --key %s --to-org 3", pat);
    out = CLI_OK(&c, 2, "record get Observation/%s --key %s", rec, pat);
    cr_assert(strstr(out, "s3-marker-31"), "%s", out);
    out = CLI_OK(&c, 1, "record get Observation/%s --key %s", rec, pat);
    cr_assert(strstr(out, "s3-marker-31"), "%s", out);

    /* an object altered in node0's bucket: detected, not served, repaired */
    cr_assert_eq(object_of(s3_0, &id, &b), 0);
    b.data[40] ^= 1;
    mc_hash forged;
    mc_sha256(&forged, b.data, b.len);
    char key[80];
    mc_hex_encode(key, id.b, 32);
    cr_assert_eq(mc_s3_put(s3_0, key, b.data, b.len, &forged), 0);
    cr_assert_not(bucket_holds_good(s3_0, &id));
    rc = cli_rc(&c, 0, &out, "record get Observation/%s --key %s", rec, pat);
    cr_assert_neq(rc, 0, "an altered object is not served: %s", out);
    cr_assert(strstr(out, "500") && strstr(out, "does not match its hash"), "%s", out);
    cr_assert_null(strstr(out, "s3-marker-31"));
    k = 0;
    while (!bucket_holds_good(s3_0, &id) && k++ < 200) tp_sleep_ms(50);
    cr_assert(bucket_holds_good(s3_0, &id), "node0's object is repaired from a peer");
    out = CLI_OK(&c, 0, "record get Observation/%s --key %s", rec, pat);
    cr_assert(strstr(out, "s3-marker-31"), "%s", out);

    /* the gateway stops: node0 answers 503 quickly and says why; adds are
     * refused (no anchor without its upload); node2 still serves */
    tp_rgw_gateway_stop(&rgw);
    uint64_t t0 = tp_now_ms();
    rc = cli_rc(&c, 0, &out, "record get Observation/%s --key %s", rec, pat);
    uint64_t took = tp_now_ms() - t0;
    cr_assert_neq(rc, 0, "%s", out);
    cr_assert(strstr(out, "503") && strstr(out, "unavailable"), "a 503 with the reason: %s", out);
    cr_assert_lt(took, 8000, "bounded (%llu ms)", (unsigned long long)took);
    char murl[128];
    snprintf(murl, sizeof murl, "%s/metrics", c.url[0]);
    struct tp_resp mr = tp_http("GET", murl, NULL, 0, NULL);
    cr_assert_eq(mr.status, 200);
    cr_assert(strstr(mr.body, "medchain_blob_store_up{backend=\"s3\"} 0"), "%s", mr.body);
    cr_assert(strstr(mr.body, "medchain_blob_store_requests_total "), "%s", mr.body);
    tp_resp_free(&mr);
    bst = status_blob_store(&c, 0);
    cr_assert(json_is_false(json_object_get(bst, "available")), "%s", json_dumps(bst, 0));
    cr_assert_gt(json_integer_value(json_object_get(bst, "errors")), 0);
    json_decref(bst);
    rc = cli_rc(&c, 0, &out, "record add --key %s --patient-key %s --file %s", dr, pat, obs);
    cr_assert_neq(rc, 0, "an add whose upload fails is refused: %s", out);
    cr_assert(strstr(out, "503"), "%s", out);
    cr_assert_null(strstr(out, "status: committed"));
    out = CLI_OK(&c, 2, "record get Observation/%s --key %s", rec, pat);
    cr_assert(strstr(out, "s3-marker-31"), "the SQLite node serves meanwhile: %s", out);
    tp_rgw_gateway_start(&rgw);
    rc = 1;
    for (k = 0; k < 100 && rc != 0; k++) {
        rc = cli_rc(&c, 0, &out, "record get Observation/%s --key %s", rec, pat);
        if (rc) tp_sleep_ms(100);
    }
    cr_assert_eq(rc, 0, "node0 recovers: %s", out);
    cr_assert(strstr(out, "s3-marker-31"), "%s", out);
    bst = status_blob_store(&c, 0);
    cr_assert(json_is_true(json_object_get(bst, "available")));
    json_decref(bst);

    /* a hung gateway (paused: connections open, no answer) does not stall
     * the chain: a peer's request for the blob makes node0 or node1 read
     * its store, which waits out its timeouts on a worker thread while the
     * loop goes on committing blocks (with three validators every one
     * must vote) */
    cr_assert_eq(sqlite3_open(db_of(&c, 2), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    cr_assert_eq(sqlite3_exec(db, "UPDATE blobs SET bytes = CAST(substr(bytes,1,40) || "
                                  "CASE WHEN substr(bytes,41,1)=x'00' THEN x'01' ELSE x'00' END || "
                                  "substr(bytes,42) AS BLOB) WHERE purged=0", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    tp_rgw_gateway_pause(&rgw, true);
    uint64_t h0 = height_of(&c, 0);
    rc = cli_rc(&c, 2, &out, "record get Observation/%s --key %s", rec, pat);
    cr_assert_neq(rc, 0, "node2's altered copy is not served: %s", out);
    tp_sleep_ms(3500);
    uint64_t h1 = height_of(&c, 0);
    cr_assert_geq(h1, h0 + 2, "blocks commit while the store hangs (%llu -> %llu)", (unsigned long long)h0,
                  (unsigned long long)h1);
    tp_rgw_gateway_pause(&rgw, false);
    k = 0;
    while (sqlite_state(&c, 2, &id) != 1 && k++ < 400) tp_sleep_ms(50);
    cr_assert_eq(sqlite_state(&c, 2, &id), 1, "node2 is repaired once the gateway answers");

    /* erasure: no version of the object left in either bucket (node0's has
     * two: the original and the repair), node2 purged */
    cr_assert_geq(versions_of(s3_0, &id), 2, "the versioned bucket kept the history");
    CLI_OK(&c, 0, "record erase %s --key %s --yes", rec, pat);
    k = 0;
    while ((versions_of(s3_0, &id) || versions_of(s3_1, &id) || sqlite_state(&c, 2, &id) != 2) && k++ < 200)
        tp_sleep_ms(50);
    cr_assert_eq(versions_of(s3_0, &id), 0, "node0's bucket holds no version");
    cr_assert_eq(versions_of(s3_1, &id), 0, "node1's bucket holds no version");
    cr_assert_eq(sqlite_state(&c, 2, &id), 2, "node2 purged it");
    rc = cli_rc(&c, 1, &out, "record get Observation/%s --key %s", rec, pat);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(out, "410"), "%s", out);
    k = 0;
    for (;;) {
        bst = status_blob_store(&c, 0);
        json_int_t left = json_integer_value(json_object_get(bst, "erasures_pending"));
        json_decref(bst);
        if (left == 0 || k++ > 100) {
            cr_assert_eq(left, 0, "every erasure (also of the refused add) completed");
            break;
        }
        tp_sleep_ms(100);
    }

    /* the sweep, node0 stopped: an upload a crash left before its anchor
     * (index row pending, object in the bucket) and a stray object */
    tp_kill(c.pid[0], SIGTERM);
    c.pid[0] = 0;
    const char crash[] = "uploaded, then the node died before proposing the anchor";
    mc_hash cid;
    mc_sha256(&cid, crash, sizeof crash);
    mc_hex_encode(key, cid.b, 32);
    cr_assert_eq(mc_s3_put(s3_0, key, crash, sizeof crash, &cid), 0);
    cr_assert_eq(sqlite3_open(db_of(&c, 0), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO s3_blobs(id, state, size, since) VALUES(?, 0, ?, 0)", -1,
                                    &s, NULL), SQLITE_OK);
    sqlite3_bind_blob(s, 1, cid.b, 32, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)sizeof crash);
    cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
    const char stray[] = "stray";
    mc_hash sid;
    mc_sha256(&sid, stray, sizeof stray);
    char skey[80];
    mc_hex_encode(skey, sid.b, 32);
    cr_assert_eq(mc_s3_put(s3_0, skey, stray, sizeof stray, &sid), 0);
    rc = tp_run(&out, "%s blobs sweep --home %s 2>&1", tp_bin(), home_of(&c, 0));
    tu_keep(out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "orphans: 2"), "%s", out);
    cr_assert(strstr(out, " pending") && strstr(out, " unindexed"), "%s", out);
    cr_assert_eq(versions_of(s3_0, &cid), 1, "listing removes nothing");
    rc = tp_run(&out, "%s blobs sweep --home %s --remove 2>&1", tp_bin(), home_of(&c, 0));
    tu_keep(out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "orphans: 2 removed"), "%s", out);
    cr_assert_eq(versions_of(s3_0, &cid), 0, "the crashed upload is gone");
    cr_assert_eq(versions_of(s3_0, &sid), 0, "the stray object is gone");
    rc = tp_run(&out, "%s blobs sweep --home %s 2>&1", tp_bin(), home_of(&c, 0));
    tu_keep(out);
    cr_assert(strstr(out, "orphans: 0"), "%s", out);
    /* a running node's store is not swept */
    rc = tp_run(&out, "%s blobs sweep --home %s 2>&1", tp_bin(), home_of(&c, 1));
    tu_keep(out);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(out, "running"), "%s", out);

    for (int i = 1; i < NODES; i++) {
        tp_kill(c.pid[i], SIGTERM);
        c.pid[i] = 0;
    }
    for (int i = 0; i < NODES; i++) {
        rc = tp_run(&out, "%s verify --home %s", tp_bin(), home_of(&c, i));
        tu_keep(out);
        cr_assert_eq(rc, 0, "node %d verifies: %s", i, out);
    }
    mc_buf_deinit(&b);
    mc_s3_close(s3_0);
    mc_s3_close(s3_1);
    tp_rgw_stop(&rgw);
}
