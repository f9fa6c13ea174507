/* Large attachments through real node processes (FHIR Binary): a clinician
 * streams a 100 MB attachment into node0 and reads it back, byte for byte,
 * while the node's peak resident memory (VmHWM of the real process) stays
 * far below the object's size; every other node gets its copy by
 * replication (piece by piece, hash checked); a chunk altered in the store
 * is refused (the response ends early, nothing forged is served) and
 * repaired from a peer; an upload cut off midway leaves nothing stored or
 * anchored; erasure deletes every piece on every node. The same on a real
 * RADOS Gateway (multipart upload) in the S3 test. `make test-large` runs
 * them at 100 MB; `make test` at 16 MB (the memory bound is then only the
 * absolute one). */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/rgw.h"
#include "../support/testutil.h"
#include "api/httpsig.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/sign.h"

#define NODES 2
#define REGION 11  /* port region of this test (others use 0..10) */
#define MIB (1024u * 1024)

struct acluster {
    char *dir;
    pid_t pid[NODES];
    int api;
    char url[NODES][64];
    struct mc_keypair dr, pat;
    const struct mc_keypair *as;  /* the signer of signed_call (NULL: dr) */
    char *dr_path, *pat_path, *pat_hex;
};

static char *home_of(struct acluster *c, int i) {
    char h[600];
    snprintf(h, sizeof h, "%s/node%d", c->dir, i);
    return tu_keep(strdup(h));
}

static char *db_of(struct acluster *c, int i) {
    char h[700];
    snprintf(h, sizeof h, "%s/node%d/data/chain.db", c->dir, i);
    return tu_keep(strdup(h));
}

static char *cli_ok(struct acluster *c, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static char *cli_ok(struct acluster *c, int i, const char *fmt, ...) {
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

static char *keygen(struct acluster *c, const char *name) {
    char *p = tu_path(c->dir, name);
    char *out;
    cr_assert_eq(tp_run(&out, "%s keygen --out %s", tp_bin(), p), 0, "%s", out);
    free(out);
    return p;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* kB of a /proc/PID/status field (VmHWM: the peak resident set). */
static long proc_kb(pid_t pid, const char *field) {
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kb = atol(line + n + 1);
    fclose(f);
    cr_assert_geq(kb, 0, "%s of %d", field, (int)pid);
    return kb;
}

/* The attachment's bytes: deterministic, so they are never held whole. */
static void gen(uint8_t *p, size_t n, uint64_t off) {
    for (size_t i = 0; i < n; i++) {
        uint64_t x = (off + i) * 0x9e3779b97f4a7c15ull;
        p[i] = (uint8_t)(x >> 56);
    }
}

static mc_hash gen_hash(uint64_t total) {
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    static uint8_t buf[1 << 20];
    for (uint64_t off = 0; off < total;) {
        size_t k = total - off < sizeof buf ? (size_t)(total - off) : sizeof buf;
        gen(buf, k, off);
        crypto_hash_sha256_update(&h, buf, k);
        off += k;
    }
    mc_hash out;
    crypto_hash_sha256_final(&h, out.b);
    return out;
}

struct up_src {
    uint64_t total, sent, abort_at; /* abort_at: 0 never */
    struct tp_rgw *stop_rgw;        /* stopped once stop_at bytes are sent */
    uint64_t stop_at;
};

static size_t up_read(char *buf, size_t size, size_t nitems, void *ud) {
    struct up_src *s = ud;
    if (s->abort_at && s->sent >= s->abort_at) return CURL_READFUNC_ABORT;
    if (s->stop_rgw && s->sent >= s->stop_at) {
        tp_rgw_gateway_stop(s->stop_rgw); /* the object store goes away mid-upload */
        s->stop_rgw = NULL;
    }
    size_t k = size * nitems;
    if (k > s->total - s->sent) k = (size_t)(s->total - s->sent);
    gen((uint8_t *)buf, k, s->sent);
    s->sent += k;
    return k;
}

struct sink {
    char head[4096];
    size_t hlen;
    crypto_hash_sha256_state h;
    uint64_t got;
    bool prefix_ok;          /* every byte received is the attachment's */
    char content_type[128];
    char access_tx[80];
};

static size_t down_write(char *p, size_t size, size_t nmemb, void *ud) {
    struct sink *k = ud;
    size_t n = size * nmemb;
    static uint8_t exp[1 << 17];
    for (size_t off = 0; off < n;) {
        size_t m = n - off < sizeof exp ? n - off : sizeof exp;
        gen(exp, m, k->got + off);
        if (memcmp(exp, p + off, m) != 0) k->prefix_ok = false;
        off += m;
    }
    crypto_hash_sha256_update(&k->h, (const uint8_t *)p, n);
    if (k->hlen + n < sizeof k->head) {
        memcpy(k->head + k->hlen, p, n);
        k->hlen += n;
    }
    k->got += n;
    return n;
}

static size_t down_header(char *p, size_t size, size_t nmemb, void *ud) {
    struct sink *k = ud;
    size_t n = size * nmemb;
    if (n > 14 && strncasecmp(p, "Content-Type: ", 14) == 0) {
        size_t v = strcspn(p + 14, "\r\n");
        if (v < sizeof k->content_type) {
            memcpy(k->content_type, p + 14, v);
            k->content_type[v] = 0;
        }
    }
    if (n > 22 && strncasecmp(p, "X-Medchain-Access-Tx: ", 22) == 0) {
        size_t v = strcspn(p + 22, "\r\n");
        if (v < sizeof k->access_tx) {
            memcpy(k->access_tx, p + 22, v);
            k->access_tx[v] = 0;
        }
    }
    return n;
}

/* One signed request through curl: an upload streamed from src (NULL:
 * none) or a download into k. Returns the HTTP status (0: transport
 * failure; *cc has curl's code). */
static long signed_call(struct acluster *c, int node, const char *method, const char *path,
                        struct up_src *src, const mc_hash *body_hash, struct sink *k, CURLcode *cc) {
    char url[512];
    snprintf(url, sizeof url, "%s%s", c->url[node], path);
    struct mc_httpsig_message m = {.method = method, .target_uri = url};
    struct mc_httpsig_signed sg;
    uint8_t nb[12];
    randombytes_buf(nb, sizeof nb);
    char nonce[25];
    mc_hex_encode(nonce, nb, sizeof nb);
    mc_hash empty;
    mc_sha256(&empty, "", 0);
    cr_assert_eq(mc_httpsig_sign_request_hashed(&sg, c->as ? c->as : &c->dr, &m, body_hash ? body_hash : &empty, NULL, 0,
                                                (int64_t)time(NULL), nonce), 0);
    char h1[MC_HTTPSIG_HEADER_MAX + 32], h2[300], h3[128];
    snprintf(h1, sizeof h1, "Signature-Input: %s", sg.signature_input);
    snprintf(h2, sizeof h2, "Signature: %s", sg.signature);
    snprintf(h3, sizeof h3, "Content-Digest: %s", sg.content_digest);
    struct curl_slist *hdr = NULL;
    hdr = curl_slist_append(hdr, h1);
    hdr = curl_slist_append(hdr, h2);
    hdr = curl_slist_append(hdr, h3);
    if (src) hdr = curl_slist_append(hdr, "Content-Type: application/pdf");
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, down_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, down_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, k);
    if (src) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, up_read);
        curl_easy_setopt(h, CURLOPT_READDATA, src);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)src->total);
    }
    *cc = curl_easy_perform(h);
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    return *cc == CURLE_OK || *cc == CURLE_PARTIAL_FILE ? st : 0;
}

static void sink_init(struct sink *k) {
    memset(k, 0, sizeof *k);
    crypto_hash_sha256_init(&k->h);
    k->prefix_ok = true;
}

static void cluster_start(struct acluster *c, struct tp_rgw *rgw) {
    memset(c, 0, sizeof *c);
    mc_crypto_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c->dir = tu_path(tu_tmpdir(rgw ? "attach-s3" : "attach"), "net");
    c->api = tp_free_run(NODES, 2 * REGION + (rgw ? 2 : 0));
    int p2p = tp_free_run(NODES, 2 * REGION + 1 + (rgw ? 2 : 0));
    char *out;
    int rc = tp_run(&out, "%s testnet --validators %d --dir %s --api-port %d --p2p-port %d --chain-id medchain-attach",
                    tp_bin(), NODES, c->dir, c->api, p2p);
    cr_assert_eq(rc, 0, "testnet: %s", out);
    free(out);
    for (int i = 0; i < NODES; i++) {
        if (rgw) {
            char bucket[32];
            snprintf(bucket, sizeof bucket, "attach-node%d", i);
            tp_rgw_configure_node(rgw, home_of(c, i), bucket);
        }
        snprintf(c->url[i], sizeof c->url[i], "http://127.0.0.1:%d", c->api + i);
        c->pid[i] = tp_node_start(home_of(c, i), c->api + i);
    }
    c->dr_path = keygen(c, "dr.json");
    c->pat_path = keygen(c, "patient.json");
    cli_ok(c, 0, "member enroll --key %s/admin_key.json --member-key %s --role clinician --name 'Dr Scan'",
           home_of(c, 0), c->dr_path);
    cli_ok(c, 0, "patient register --key %s --patient-key %s", c->dr_path, c->pat_path);
    cr_assert_eq(mc_keyfile_read(&c->dr, c->dr_path, NULL), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_keyfile_read(&c->pat, c->pat_path, NULL), 0, "%s", mc_err_detail());
    mc_pubkey pk;
    cr_assert_eq(mc_keyfile_read_public(&pk, c->pat_path), 0);
    char hx[65];
    mc_hex_encode(hx, pk.b, 32);
    c->pat_hex = tu_keep(strdup(hx));
}

static void cluster_stop(struct acluster *c) {
    for (int i = 0; i < NODES; i++) tp_kill(c->pid[i], SIGTERM);
}

/* Uploads total bytes to node; returns the Binary's id (kept) and the
 * anchor's tx id in txid. */
static char *upload(struct acluster *c, int node, uint64_t total, const mc_hash *h, char txid[80], double *secs) {
    char path[256];
    snprintf(path, sizeof path, "/fhir/Binary?patient=%s", c->pat_hex);
    struct up_src src = {.total = total};
    struct sink k;
    sink_init(&k);
    CURLcode cc;
    double t0 = now_s();
    long st = signed_call(c, node, "POST", path, &src, h, &k, &cc);
    if (secs) *secs = now_s() - t0;
    k.head[k.hlen < sizeof k.head ? k.hlen : sizeof k.head - 1] = 0;
    cr_assert_eq(st, 201, "upload: %ld (%s) %s", st, curl_easy_strerror(cc), k.head);
    json_t *j = json_loads(k.head, 0, NULL);
    cr_assert_not_null(j, "%s", k.head);
    cr_assert_str_eq(json_string_value(json_object_get(j, "resourceType")), "Binary");
    cr_assert_str_eq(json_string_value(json_object_get(j, "contentType")), "application/pdf");
    cr_assert_eq((uint64_t)json_integer_value(json_object_get(j, "size")), total);
    char *id = tu_keep(strdup(json_string_value(json_object_get(j, "id"))));
    json_decref(j);
    snprintf(txid, 80, "%s", k.access_tx);
    return id;
}

static void wait_committed(struct acluster *c, int node, const char *txid) {
    char url[300];
    snprintf(url, sizeof url, "%s/v1/tx/%s", c->url[node], txid);
    for (int i = 0; i < 200; i++) {
        struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
        bool done = r.status == 200 && r.body && strstr(r.body, "\"committed\"");
        tp_resp_free(&r);
        if (done) return;
        sleep_ms(50);
    }
    cr_assert_fail("anchor %s did not commit", txid);
}

/* Reads the Binary from node into a hashing sink; returns the status. */
static long download(struct acluster *c, int node, const char *id, struct sink *k, CURLcode *cc, double *secs) {
    char path[256];
    snprintf(path, sizeof path, "/fhir/Binary/%s", id);
    sink_init(k);
    double t0 = now_s();
    long st = signed_call(c, node, "GET", path, NULL, NULL, k, cc);
    if (secs) *secs = now_s() - t0;
    return st;
}

static int64_t q_int(const char *db, const char *sql) {
    sqlite3 *d;
    cr_assert_eq(sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(d, 5000);
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(d, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(d));
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(d);
    return v;
}

/* The size of the attachment: MEDCHAIN_TEST_ATTACHMENT_MB (`make
 * test-large`: 100), else 16 MB, so that `make test` stays quick. */
static uint64_t attachment_bytes(void) {
    const char *e = getenv("MEDCHAIN_TEST_ATTACHMENT_MB");
    long mb = e ? atol(e) : 16;
    return (uint64_t)(mb > 0 ? mb : 16) * 1000 * 1000;
}

/* Round trip with the node's memory measured; then interruption. */
static char *round_trip(struct acluster *c, const char *backend) {
    uint64_t total = attachment_bytes();
    mc_hash h = gen_hash(total);
    long hwm0 = proc_kb(c->pid[0], "VmHWM");
    char txid[80];
    double up_s, down_s;
    char *id = upload(c, 0, total, &h, txid, &up_s);
    wait_committed(c, 0, txid);
    struct sink k;
    CURLcode cc;
    long st = download(c, 0, id, &k, &cc, &down_s);
    cr_assert_eq(st, 200, "download: %ld %s", st, curl_easy_strerror(cc));
    cr_assert_eq(cc, CURLE_OK);
    cr_assert_eq(k.got, total, "every byte");
    cr_assert(k.prefix_ok, "the very bytes uploaded");
    mc_hash got;
    crypto_hash_sha256_final(&k.h, got.b);
    cr_assert_eq(memcmp(got.b, h.b, 32), 0);
    cr_assert_str_eq(k.content_type, "application/pdf");
    long hwm1 = proc_kb(c->pid[0], "VmHWM");
    long grew_kb = hwm1 - hwm0;
    fprintf(stderr,
            "attachment (%s): %.0f MB up in %.2f s (%.1f MB/s), down in %.2f s (%.1f MB/s); node peak RSS "
            "%ld -> %ld kB (+%ld kB)\n",
            backend, total / 1e6, up_s, total / 1e6 / up_s, down_s, total / 1e6 / down_s, hwm0, hwm1, grew_kb);
    /* bounded: the object is 100 MB; a node holds a chunk, a piece or
     * one S3 part per transfer, and its caches */
    cr_assert_lt(grew_kb, 48 * 1024, "the node's peak memory grew by %ld kB for a %llu-byte attachment", grew_kb,
                 (unsigned long long)total);
    if (total >= 100u * 1000 * 1000) cr_assert_lt(grew_kb * 1024, (long)(total / 2), "well below the object's size");

    /* an upload cut off midway (the client goes away): nothing stored,
     * nothing anchored */
    struct up_src src = {.total = total, .abort_at = total / 3};
    char path[256];
    snprintf(path, sizeof path, "/fhir/Binary?patient=%s", c->pat_hex);
    struct sink k2;
    sink_init(&k2);
    st = signed_call(c, 0, "POST", path, &src, &h, &k2, &cc);
    cr_assert_eq(cc, CURLE_ABORTED_BY_CALLBACK, "%s", curl_easy_strerror(cc));
    (void)st;
    return id;
}

/* A read of a stored copy that was altered: refused midway, and what was
 * served before is the genuine prefix. */
static void read_refused(struct acluster *c, const char *id) {
    uint64_t total = attachment_bytes();
    struct sink k;
    CURLcode cc;
    long st = download(c, 0, id, &k, &cc, NULL);
    cr_assert(st == 200 || st == 500, "%ld", st);
    if (st == 200) {
        cr_assert_neq(cc, CURLE_OK, "the response ends early");
        cr_assert_lt(k.got, total, "not all of it is served");
        cr_assert(k.prefix_ok, "nothing altered is served");
    }
}

/* Uploads refused keep nothing: one whose signer may not author records
 * (refused from the headers, 403), and one whose body does not match its
 * signed Content-Digest (401 at the end). */
static void refused_uploads(struct acluster *c) {
    char *db = db_of(c, 0);
    int64_t pieces = q_int(db, "SELECT count(*) FROM blob_pieces");
    uint64_t total = 4 * MIB;
    mc_hash h = gen_hash(total);
    char path[256];
    snprintf(path, sizeof path, "/fhir/Binary?patient=%s", c->pat_hex);
    struct up_src src = {.total = total};
    struct sink k;
    sink_init(&k);
    CURLcode cc;
    c->as = &c->pat; /* a patient authors no records */
    long st = signed_call(c, 0, "POST", path, &src, &h, &k, &cc);
    c->as = NULL;
    cr_assert_eq(st, 403, "%ld", st);
    cr_assert_eq(q_int(db, "SELECT count(*) FROM blob_pieces"), pieces, "nothing stored");
    mc_hash wrong = h;
    wrong.b[0] ^= 1;
    src = (struct up_src){.total = total};
    sink_init(&k);
    st = signed_call(c, 0, "POST", path, &src, &wrong, &k, &cc);
    k.head[k.hlen < sizeof k.head ? k.hlen : sizeof k.head - 1] = 0;
    cr_assert_eq(st, 401, "%ld %s", st, k.head);
    cr_assert(strstr(k.head, "Content-Digest"), "%s", k.head);
    cr_assert_eq(q_int(db, "SELECT count(*) FROM blob_pieces"), pieces, "nothing kept");
    cr_assert_eq(q_int(db, "SELECT count(*) FROM blob_uploads"), 0);
}

/* A read through a node that holds no key for the record (node1: the
 * batch key is sealed to node0, nothing was granted) is 421 Misdirected
 * Request with a hint naming the node that holds one, for an attachment
 * and for a FHIR resource alike, as an OperationOutcome. */
static void misdirected(struct acluster *c, const char *binary_id) {
    json_t *nk = json_load_file(tu_path(home_of(c, 0), "node_key.json"), 0, NULL);
    cr_assert_not_null(nk);
    char *node0 = tu_keep(strdup(json_string_value(json_object_get(nk, "public_key"))));
    json_decref(nk);
    char *obs = tu_path(c->dir, "obs.json");
    FILE *f = fopen(obs, "wb");
    cr_assert_not_null(f);
    fprintf(f, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"hba1c\"},"
               "\"subject\":{\"reference\":\"Patient/%s\"},\"valueString\":\"7.1\"}", c->pat_hex);
    fclose(f);
    char *out = cli_ok(c, 0, "record add --key %s --patient-key %s --file %s", c->dr_path, c->pat_path, obs);
    const char *idl = strstr(out, "id: ");
    cr_assert_not_null(idl, "%s", out);
    char rec[80];
    snprintf(rec, sizeof rec, "%.*s", (int)strcspn(idl + 4, "\n"), idl + 4);
    /* node1 has the anchor once it committed there */
    const char *paths[2][2] = {{"/fhir/Binary/", binary_id}, {"/fhir/Observation/", rec}};
    for (int i = 0; i < 2; i++) {
        char path[200];
        snprintf(path, sizeof path, "%s%s", paths[i][0], paths[i][1]);
        struct sink k;
        CURLcode cc;
        long st = 0;
        for (int t = 0; t < 100 && st != 421; t++) {
            sink_init(&k);
            st = signed_call(c, 1, "GET", path, NULL, NULL, &k, &cc);
            if (st != 421) sleep_ms(50);
        }
        k.head[k.hlen < sizeof k.head ? k.hlen : sizeof k.head - 1] = 0;
        cr_assert_eq(st, 421, "%s through a node without its key: %ld %s", path, st, k.head);
        json_t *oo = json_loads(k.head, 0, NULL);
        cr_assert_not_null(oo, "%s", k.head);
        cr_assert_str_eq(json_string_value(json_object_get(oo, "resourceType")), "OperationOutcome");
        cr_assert(strstr(k.head, node0), "the hint names node0 (%s): %s", node0, k.head);
        json_decref(oo);
    }
}

Test(attachment, sqlite_100mb_round_trip_bounded_memory_tamper_interrupt, .timeout = 240) {
    struct acluster c;
    cluster_start(&c, NULL);
    char *id = round_trip(&c, "sqlite");
    misdirected(&c, id);
    /* the interrupted upload left no piece: only the first attachment's */
    char *db = db_of(&c, 0);
    int64_t pieces = 0;
    double tw = now_s();
    for (int i = 0; i < 900; i++) {
        if (q_int(db, "SELECT count(*) FROM blob_uploads") == 0) break;
        sleep_ms(50);
    }

    cr_assert_eq(q_int(db, "SELECT count(*) FROM blob_uploads"), 0, "the cut upload is dropped");
    cr_assert_lt(now_s() - tw, 3.0 * 5, "within its idle bound (MC_API_UPLOAD_IDLE_S)");
    pieces = q_int(db, "SELECT count(*) FROM blob_pieces");
    int64_t want = q_int(db, "SELECT (size + 1048575) / 1048576 FROM blobs WHERE obj<>0");
    cr_assert_eq(pieces, want, "only the committed attachment's pieces");
    cr_assert_eq(q_int(db, "SELECT count(*) FROM blobs WHERE obj<>0"), 1, "one streamed blob");
    refused_uploads(&c);

    /* a piece of the stored ciphertext altered: the read ends early and
     * what it served is all genuine */
    sqlite3 *d;
    cr_assert_eq(sqlite3_open(db, &d), SQLITE_OK);
    sqlite3_busy_timeout(d, 5000);
    cr_assert_eq(sqlite3_exec(d, "UPDATE blob_pieces SET bytes = CAST(substr(bytes,1,500) || "
                                 "CASE WHEN substr(bytes,501,1)=x'00' THEN x'01' ELSE x'00' END || "
                                 "substr(bytes,502) AS BLOB) WHERE seq=(SELECT max(seq)/2 FROM blob_pieces)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(d);
    int64_t obj0 = q_int(db, "SELECT obj FROM blobs WHERE obj<>0");
    read_refused(&c, id);

    /* node1 got its copy by replication, piece by piece, hash checked;
     * node0's damaged copy is repaired from it, and reads again */
    char *db1 = db_of(&c, 1);
    int k = 0;
    while (q_int(db1, "SELECT count(*) FROM blobs WHERE obj<>0 AND pending=0") != 1 && k++ < 600) sleep_ms(50);
    cr_assert_eq(q_int(db1, "SELECT count(*) FROM blobs WHERE obj<>0"), 1, "node1 holds the attachment");
    cr_assert_eq(q_int(db1, "SELECT count(*) FROM blob_pieces"), want, "whole");
    cr_assert_eq(q_int(db1, "SELECT count(*) FROM blob_uploads"), 0);
    uint64_t total = attachment_bytes();
    /* the repaired copy is a new upload: its pieces under a new object */
    k = 0;
    while (q_int(db, "SELECT obj FROM blobs WHERE obj<>0") == obj0 && k++ < 1200) sleep_ms(50);
    cr_assert_neq(q_int(db, "SELECT obj FROM blobs WHERE obj<>0"), obj0, "node0 fetched a good copy");
    struct sink ks;
    CURLcode cc;
    long st = download(&c, 0, id, &ks, &cc, NULL);
    cr_assert(st == 200 && cc == CURLE_OK && ks.got == total && ks.prefix_ok, "node0's copy was repaired from node1");

    /* erasure: every piece on every node goes */
    cli_ok(&c, 0, "record erase %s --key %s --yes", id, c.pat_path);
    for (int i = 0; i < NODES; i++) {
        char *dbi = db_of(&c, i);
        k = 0;
        while ((q_int(dbi, "SELECT count(*) FROM blob_pieces") != 0 ||
                q_int(dbi, "SELECT count(*) FROM blobs WHERE obj<>0 OR size>2097152") != 0) && k++ < 200)
            sleep_ms(50);
        cr_assert_eq(q_int(dbi, "SELECT count(*) FROM blob_pieces"), 0, "node %d erased every piece", i);
        cr_assert_eq(q_int(dbi, "SELECT count(*) FROM blobs WHERE obj<>0 OR size>2097152"), 0, "a tombstone only");
    }
    /* a small attachment (stored streamed where it was uploaded) reaches
     * node1 too, asked for whole */
    {
        uint64_t small = 100000;
        mc_hash sh = gen_hash(small);
        char stx[80];
        (void)upload(&c, 0, small, &sh, stx, NULL);
        wait_committed(&c, 0, stx);
        int t = 0;
        while (q_int(db_of(&c, 1), "SELECT count(*) FROM blobs WHERE size > 100000 AND size < 200000") != 1 && t++ < 200)
            sleep_ms(50);
        cr_assert_eq(q_int(db_of(&c, 1), "SELECT count(*) FROM blobs WHERE size > 100000 AND size < 200000"), 1,
                     "node1 holds the small attachment");
    }
    cluster_stop(&c);
}

/* --- the same on a real RADOS Gateway: multipart upload, ranged reads --- */

static int count_cb(void *ctx, const char *key) {
    (void)key;
    (*(int *)ctx)++;
    return 0;
}

static int count_up_cb(void *ctx, const char *key, const char *up) {
    (void)key;
    (void)up;
    (*(int *)ctx)++;
    return 0;
}

static int objects_in(struct mc_s3 *s3) {
    int n = 0;
    cr_assert_eq(mc_s3_list(s3, "mp/", count_cb, &n), 0, "%s", mc_err_detail());
    return n;
}

static int uploads_in(struct mc_s3 *s3) {
    int n = 0;
    cr_assert_eq(mc_s3_list_uploads(s3, "mp/", count_up_cb, &n), 0, "%s", mc_err_detail());
    return n;
}

static int first_key(void *ctx, const char *key) {
    snprintf(ctx, 200, "%s", key);
    return 1;
}

Test(attachment, s3_100mb_multipart_round_trip_bounded_memory_outage_replication_erasure, .timeout = 300) {
    struct tp_rgw rgw;
    tp_rgw_start(&rgw);
    struct acluster c;
    cluster_start(&c, &rgw);
    struct mc_s3_config cfg0, cfg1;
    tp_rgw_config(&rgw, &cfg0, "attach-node0");
    tp_rgw_config(&rgw, &cfg1, "attach-node1");
    struct mc_s3 *s0, *s1;
    cr_assert_eq(mc_s3_open(&s0, &cfg0), 0);
    cr_assert_eq(mc_s3_open(&s1, &cfg1), 0);

    char *id = round_trip(&c, "s3");
    cr_assert_eq(objects_in(s0), 1, "one object holds the attachment");
    /* the cut upload's multipart upload is aborted once the node drops it */
    int k = 0;
    while (uploads_in(s0) != 0 && k++ < 300) sleep_ms(50);
    cr_assert_eq(uploads_in(s0), 0, "the cut upload's parts are gone");
    cr_assert_eq(objects_in(s0), 1, "and it made no object");

    /* node1 gets its copy by replication */
    k = 0;
    while (objects_in(s1) != 1 && k++ < 1200) sleep_ms(50);
    cr_assert_eq(objects_in(s1), 1, "node1's bucket holds the attachment");
    cr_assert_eq(uploads_in(s1), 0);

    /* the gateway stopped mid-upload: the upload fails (bounded, 503),
     * nothing is anchored, and once the gateway is back the node aborts
     * the multipart upload by itself */
    uint64_t total = attachment_bytes();
    mc_hash h = gen_hash(total);
    char path[256];
    snprintf(path, sizeof path, "/fhir/Binary?patient=%s", c.pat_hex);
    struct up_src src = {total, 0, 0, &rgw, total / 2};
    struct sink ks;
    sink_init(&ks);
    CURLcode cc;
    k = 0;
    while (uploads_in(s0) != 0 && k++ < 100) sleep_ms(50);
    long st = signed_call(&c, 0, "POST", path, &src, &h, &ks, &cc);
    ks.head[ks.hlen < sizeof ks.head ? ks.hlen : sizeof ks.head - 1] = 0;
    cr_assert(st == 503 || st == 0, "the store went away: %ld %s", st, ks.head);
    tp_rgw_gateway_start(&rgw);
    k = 0;
    while (uploads_in(s0) != 0 && k++ < 800) sleep_ms(50);
    cr_assert_eq(uploads_in(s0), 0, "the parts sent before the outage are aborted");
    cr_assert_eq(objects_in(s0), 1, "and no object was made");

    /* the object replaced in node0's bucket: the read is refused midway,
     * then repaired from node1 */
    char key[200] = "";
    cr_assert_eq(mc_s3_list(s0, "mp/", first_key, key), 1);
    cr_assert(key[0]);
    uint8_t *other = malloc(4 * MIB);
    gen(other, 4 * MIB, 7);
    mc_hash oh;
    mc_sha256(&oh, other, 4 * MIB);
    cr_assert_eq(mc_s3_put(s0, key, other, 4 * MIB, &oh), 0, "%s", mc_err_detail());
    free(other);
    struct sink kr;
    st = download(&c, 0, id, &kr, &cc, NULL);
    cr_assert(st == 200 || st == 500, "%ld", st);
    cr_assert(cc != CURLE_OK || st == 500, "not served whole");
    if (st == 200) cr_assert(kr.prefix_ok, "nothing altered is served");
    k = 0;
    bool ok = false;
    while (!ok && k++ < 60) {
        sleep_ms(500);
        st = download(&c, 0, id, &kr, &cc, NULL);
        ok = st == 200 && cc == CURLE_OK && kr.got == total && kr.prefix_ok;
    }
    cr_assert(ok, "repaired from node1");

    /* erasure: no object of it is left in either bucket */
    cli_ok(&c, 0, "record erase %s --key %s --yes", id, c.pat_path);
    k = 0;
    while ((objects_in(s0) || objects_in(s1)) && k++ < 400) sleep_ms(50);
    cr_assert_eq(objects_in(s0), 0, "erased from node0's bucket");
    cr_assert_eq(objects_in(s1), 0, "erased from node1's bucket");
    mc_s3_close(s0);
    mc_s3_close(s1);
    cluster_stop(&c);
    tp_rgw_stop(&rgw);
}
