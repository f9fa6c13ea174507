/* Ciphertext replication across a consortium of real node processes
 * (issue 5): a record added through node0 reaches the blob store of every
 * other node (hash checked); a byte flipped in node0's stored copy is
 * detected on read, repaired from a peer, and the next read by the patient
 * succeeds; erasure leaves no node holding the ciphertext, and every chain
 * still verifies. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "base/hex.h"
#include "crypto/hash.h"

#define NODES 4
#define REGION 8   /* port region of this test (test_cluster.c uses 0..6) */

struct bcluster {
    char *dir;
    pid_t pid[NODES];
    char url[NODES][64];
};

static char *home_of(struct bcluster *c, int i) {
    char h[600];
    snprintf(h, sizeof h, "%s/node%d", c->dir, i);
    return tu_keep(strdup(h));
}

static char *db_of(struct bcluster *c, int i) {
    char h[700];
    snprintf(h, sizeof h, "%s/node%d/data/chain.db", c->dir, i);
    return tu_keep(strdup(h));
}

/* Runs the CLI against node i; asserts success; returns stdout (kept). */
static char *cli_ok(struct bcluster *c, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static char *cli_ok(struct bcluster *c, int i, const char *fmt, ...) {
    char args[2000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *out;
    int rc = tp_run(&out, "%s %s --node %s 2>&1", tp_bin(), args, c->url[i]);
    cr_assert_eq(rc, 0, "medchain %s: exit %d: %s", args, rc, out);
    return tu_keep(out);
}

/* The same, returning the exit code and output. */
static int cli_rc(struct bcluster *c, int i, char **out, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int cli_rc(struct bcluster *c, int i, char **out, const char *fmt, ...) {
    char args[2000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int rc = tp_run(out, "%s %s --node %s 2>&1", tp_bin(), args, c->url[i]);
    tu_keep(*out);
    return rc;
}

/* The blob row of node i: *live = a live row, bytes copied to buf (up to
 * cap, length in *len); *purged = a tombstone. */
struct row {
    bool found, purged;
    size_t len;
    uint8_t bytes[8192];
};

static struct row blob_row(struct bcluster *c, int i, const mc_hash *id) {
    struct row r;
    memset(&r, 0, sizeof r);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_of(c, i), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT bytes, purged FROM blobs WHERE id=?", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_blob(s, 1, id->b, 32, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            r.found = true;
            r.purged = sqlite3_column_int(s, 1) != 0;
            r.len = (size_t)sqlite3_column_bytes(s, 0);
            if (r.len > sizeof r.bytes) r.len = sizeof r.bytes;
            if (r.len) memcpy(r.bytes, sqlite3_column_blob(s, 0), r.len);
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return r;
}

/* A good live copy: the bytes hash to the id. */
static bool holds_good(struct bcluster *c, int i, const mc_hash *id) {
    struct row r = blob_row(c, i, id);
    if (!r.found || r.purged || r.len == 0) return false;
    mc_hash h;
    mc_sha256(&h, r.bytes, r.len);
    return memcmp(h.b, id->b, 32) == 0;
}

/* Does the file at path contain needle? */
static bool file_contains(const char *path, const uint8_t *needle, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
    size_t got = fread(b, 1, sz > 0 ? (size_t)sz : 0, f);
    fclose(f);
    bool found = false;
    for (size_t k = 0; k + n <= got && !found; k++) found = memcmp(b + k, needle, n) == 0;
    free(b);
    return found;
}

Test(cluster_blobs, ciphertext_replicates_repairs_and_is_purged_everywhere, .timeout = 90) {
    mc_crypto_init();
    struct bcluster c;
    memset(&c, 0, sizeof c);
    c.dir = tu_path(tu_tmpdir("blobs"), "net");
    int api = tp_free_run(NODES, 2 * REGION), p2p = tp_free_run(NODES, 2 * REGION + 1);
    char *out;
    int rc = tp_run(&out, "%s testnet --validators %d --dir %s --api-port %d --p2p-port %d "
                    "--chain-id medchain-blobs", tp_bin(), NODES, c.dir, api, p2p);
    cr_assert_eq(rc, 0, "testnet: %s", out);
    free(out);
    for (int i = 0; i < NODES; i++) {
        snprintf(c.url[i], sizeof c.url[i], "http://127.0.0.1:%d", api + i);
        c.pid[i] = tp_node_start(home_of(&c, i), api + i);
    }

    /* a clinician of node0's hospital adds a record for a patient */
    char *dr = tp_keygen(c.dir, "dr.json"), *pat = tp_keygen(c.dir, "patient.json");
    cli_ok(&c, 0, "member enroll --key %s/admin_key.json --member-key %s --role clinician --name 'Dr Blob'",
           home_of(&c, 0), dr);
    cli_ok(&c, 0, "patient register --key %s --patient-key %s", dr, pat);
    char *obs = tu_path(c.dir, "obs.json");
    FILE *f = fopen(obs, "wb");
    cr_assert_not_null(f);
    fprintf(f, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"hba1c\"},"
               "\"subject\":{\"reference\":\"Patient/%s\"},\"valueString\":\"replicated-marker-77\"}",
            tp_pubkey_hex(pat));
    fclose(f);
    out = cli_ok(&c, 0, "record add --key %s --patient-key %s --file %s", dr, pat, obs);
    cr_assert(strstr(out, "status: committed"), "%s", out);
    char *rec = tp_field(out, "id");
    cr_assert_not_null(rec, "%s", out);

    /* the blob id: node0 stored exactly one blob */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(db_of(&c, 0), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT id FROM blobs", -1, &s, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    mc_hash id;
    cr_assert_eq(sqlite3_column_bytes(s, 0), 32);
    memcpy(id.b, sqlite3_column_blob(s, 0), 32);
    cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "one blob on node0");
    sqlite3_finalize(s);
    sqlite3_close(db);
    cr_assert(holds_good(&c, 0, &id));
    struct row ref = blob_row(&c, 0, &id);
    cr_assert_gt(ref.len, 64);

    /* every other node fetches it from a peer, hash checked */
    for (int i = 1; i < NODES; i++) {
        int k = 0;
        while (!holds_good(&c, i, &id) && k++ < 200) tp_sleep_ms(50);
        cr_assert(holds_good(&c, i, &id), "node %d holds the ciphertext", i);
        struct row r = blob_row(&c, i, &id);
        cr_assert_eq(r.len, ref.len);
        cr_assert_eq(memcmp(r.bytes, ref.bytes, r.len), 0);
    }

    /* a byte flipped in node0's copy: the read is refused (500, not
     * served), a good copy is fetched from a peer, the next read succeeds */
    cr_assert_eq(sqlite3_open(db_of(&c, 0), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    cr_assert_eq(sqlite3_exec(db, "UPDATE blobs SET bytes = CAST(substr(bytes,1,40) || "
                                  "CASE WHEN substr(bytes,41,1)=x'00' THEN x'01' ELSE x'00' END || "
                                  "substr(bytes,42) AS BLOB)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    cr_assert_not(holds_good(&c, 0, &id), "node0's copy is damaged");
    rc = cli_rc(&c, 0, &out, "record get Observation/%s --key %s", rec, pat);
    cr_assert_neq(rc, 0, "a damaged copy is not served: %s", out);
    cr_assert(strstr(out, "500"), "%s", out);
    cr_assert_null(strstr(out, "replicated-marker-77"));
    int k = 0;
    while (!holds_good(&c, 0, &id) && k++ < 200) tp_sleep_ms(50);
    cr_assert(holds_good(&c, 0, &id), "node0's copy is repaired from a peer");
    out = cli_ok(&c, 0, "record get Observation/%s --key %s", rec, pat);
    cr_assert(strstr(out, "replicated-marker-77"), "%s", out);

    /* erasure: every node purges; none holds the bytes anywhere in its files */
    cli_ok(&c, 0, "record erase %s --key %s --yes", rec, pat);
    for (int i = 0; i < NODES; i++) {
        k = 0;
        struct row r;
        while (!((r = blob_row(&c, i, &id)).purged) && k++ < 200) tp_sleep_ms(50);
        cr_assert(r.found && r.purged && r.len == 0, "node %d purged the ciphertext", i);
    }
    rc = cli_rc(&c, 1, &out, "record get Observation/%s --key %s", rec, pat);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(out, "410"), "%s", out);
    for (int i = 0; i < NODES; i++) tp_kill(c.pid[i], SIGTERM);
    for (int i = 0; i < NODES; i++) {
        char p[800];
        snprintf(p, sizeof p, "%s", db_of(&c, i));
        cr_assert_not(file_contains(p, ref.bytes + 24, 48), "node %d's database holds the ciphertext", i);
        snprintf(p, sizeof p, "%s-wal", db_of(&c, i));
        cr_assert_not(file_contains(p, ref.bytes + 24, 48), "node %d's WAL holds the ciphertext", i);
        char *v;
        rc = tp_run(&v, "%s verify --home %s", tp_bin(), home_of(&c, i));
        cr_assert_eq(rc, 0, "node %d verifies: %s", i, v);
        free(v);
    }
}
