/* A real node process driven over HTTP and through the CLI: every bad
 * transaction is refused with a JSON error naming the reason and changes
 * nothing; proofs served by the API check out with an independent RFC 6962
 * verifier written here. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "app/identity.h"
#include "base/hex.h"
#include "crypto/keyfile.h"

struct live {
    char *home;
    pid_t pid;
    int port;
    char url[64];
    struct mc_keypair admin;
    char chain_id[MC_CHAIN_ID_MAX + 1];
};

static void live_start(struct live *l, const char *tag) {
    mc_crypto_init();
    memset(l, 0, sizeof *l);
    char *dir = tu_tmpdir(tag);
    l->home = tu_path(dir, "node");
    char *out;
    int rc = tp_run(&out, "%s init --home %s --chain-id medchain-it", tp_bin(), l->home);
    cr_assert_eq(rc, 0, "init failed: %s", out);
    free(out);
    char *kp = tu_path(l->home, "admin_key.json");
    cr_assert_eq(mc_keyfile_read(&l->admin, kp, NULL), 0);
    free(kp);
    snprintf(l->chain_id, sizeof l->chain_id, "medchain-it");
    l->port = tp_free_port();
    snprintf(l->url, sizeof l->url, "http://127.0.0.1:%d", l->port);
    l->pid = tp_node_start(l->home, l->port);
}

static void live_stop(struct live *l) { tp_kill(l->pid, SIGTERM); }

static json_t *get_json(struct live *l, const char *path, long want_status) {
    char url[512];
    snprintf(url, sizeof url, "%s%s", l->url, path);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, want_status, "GET %s: %ld %s", path, r.status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    cr_assert_not_null(j, "GET %s: not JSON: %s", path, r.body);
    tp_resp_free(&r);
    return j;
}

static uint64_t height_of(struct live *l) {
    json_t *j = get_json(l, "/v1/status", 200);
    uint64_t h = (uint64_t)json_integer_value(json_object_get(j, "height"));
    json_decref(j);
    return h;
}

/* Transactions committed so far (the ledger log's size). */
static uint64_t log_size_of(struct live *l) {
    json_t *j = get_json(l, "/v1/status", 200);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "log_size"));
    json_decref(j);
    return n;
}

static struct tp_resp post_tx(struct live *l, const uint8_t *tx, size_t len) {
    char *hex = malloc(2 * len + 1);
    mc_hex_encode(hex, tx, len);
    char *body = malloc(2 * len + 32);
    sprintf(body, "{\"tx\":\"%s\"}", hex);
    char url[128];
    snprintf(url, sizeof url, "%s/v1/tx", l->url);
    struct tp_resp r = tp_http("POST", url, body, strlen(body), NULL);
    free(hex);
    free(body);
    return r;
}

/* Waits until the transaction is committed; returns its height. */
static uint64_t wait_committed(struct live *l, const char *id_hex) {
    char path[128];
    snprintf(path, sizeof path, "/v1/tx/%s", id_hex);
    for (int i = 0; i < 200; i++) {
        json_t *j = get_json(l, path, 200);
        const char *st = json_string_value(json_object_get(j, "status"));
        uint64_t h = (uint64_t)json_integer_value(json_object_get(j, "height"));
        int done = st && strcmp(st, "committed") == 0;
        cr_assert(!st || strcmp(st, "rejected") != 0, "tx rejected: %s", json_string_value(json_object_get(j, "reason")));
        json_decref(j);
        if (done) return h;
        usleep(50 * 1000);
    }
    cr_assert_fail("transaction %s not committed in 10 s", id_hex);
    return 0;
}

static char *submit_ok(struct live *l, const uint8_t *tx, size_t len) {
    struct tp_resp r = post_tx(l, tx, len);
    cr_assert_eq(r.status, 202, "submit: %ld %s", r.status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    char *id = tu_keep(strdup(json_string_value(json_object_get(j, "id"))));
    json_decref(j);
    tp_resp_free(&r);
    return id;
}

struct http_case { const char *what; long status; const char *error; uint8_t *tx; size_t len; };

static size_t discard_body(char *p, size_t sz, size_t n, void *ud) { return sz * n; }

Test(http, bad_transactions_are_refused_and_change_nothing, .timeout = 60) {
    struct live l;
    live_start(&l, "http-reject");
    /* one good transaction first so there is state to protect */
    struct mc_keypair doc, stranger, newm;
    mc_keypair_generate(&doc);
    mc_keypair_generate(&stranger);
    mc_keypair_generate(&newm);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &doc.pk, MC_ROLE_CLINICIAN, "Dr Good");
    size_t len;
    uint8_t *tx = tu_tx(&len, l.chain_id, MC_TX_ENROLL_MEMBER, &l.admin, 1, p, pl);
    size_t tx_len = len;
    char *id = submit_ok(&l, tx, len);
    wait_committed(&l, id);
    uint64_t log0 = log_size_of(&l);

    pl = tu_enroll_payload(p, &newm.pk, MC_ROLE_CLINICIAN, "New");
    struct http_case c[12];
    int n = 0;
    uint8_t *t1 = tu_tx(&len, l.chain_id, MC_TX_ENROLL_MEMBER, &l.admin, 2, p, pl);
    c[n++] = (struct http_case){"truncated", 400, "malformed", t1, len - 3};
    uint8_t big[2000] = {0};
    size_t blen;
    uint8_t *t2 = tu_tx(&blen, l.chain_id, MC_TX_ENROLL_MEMBER, &l.admin, 2, big, sizeof big);
    c[n++] = (struct http_case){"oversized payload", 413, "too_large", t2, blen};
    uint8_t *t3 = tu_tx(&len, l.chain_id, MC_TX_ENROLL_MEMBER, &l.admin, 2, p, pl);
    memset(t3 + len - 64, 0, 64);
    c[n++] = (struct http_case){"unsigned", 401, "bad_signature", t3, len};
    uint8_t *t4 = tu_tx(&len, l.chain_id, MC_TX_ENROLL_MEMBER, &l.admin, 2, p, pl);
    t4[len - 1] ^= 0x01;
    c[n++] = (struct http_case){"badly signed", 401, "bad_signature", t4, len};
    uint8_t *t5 = tu_tx(&len, "medchain-elsewhere", MC_TX_ENROLL_MEMBER, &l.admin, 2, p, pl);
    c[n++] = (struct http_case){"other chain", 400, "wrong_chain", t5, len};
    uint8_t *t6 = tu_tx(&len, l.chain_id, MC_TX_ENROLL_MEMBER, &stranger, 1, p, pl);
    c[n++] = (struct http_case){"unknown account", 401, "unknown_account", t6, len};
    uint8_t *t7 = tu_tx(&len, l.chain_id, MC_TX_ENROLL_MEMBER, &l.admin, 1, p, pl);
    c[n++] = (struct http_case){"replay", 409, "bad_nonce", t7, len};
    c[n++] = (struct http_case){"verbatim resubmission", 409, "exists", tx, tx_len};
    uint8_t *t8 = tu_tx(&len, l.chain_id, MC_TX_ENROLL_MEMBER, &doc, 1, p, pl);
    c[n++] = (struct http_case){"clinician enrolls", 403, "forbidden", t8, len};
    for (int i = 0; i < n; i++) {
        struct tp_resp r = post_tx(&l, c[i].tx, c[i].len);
        cr_expect_eq(r.status, c[i].status, "%s: HTTP %ld %s", c[i].what, r.status, r.body);
        json_t *j = json_loads(r.body, 0, NULL);
        cr_assert_not_null(j, "%s: error body is JSON", c[i].what);
        const char *e = json_string_value(json_object_get(j, "error"));
        const char *m = json_string_value(json_object_get(j, "message"));
        cr_expect(e && strcmp(e, c[i].error) == 0, "%s: error %s, want %s", c[i].what, e, c[i].error);
        cr_expect(m && strlen(m) > 5, "%s: message names the reason", c[i].what);
        json_decref(j);
        tp_resp_free(&r);
    }
    /* Garbage bodies. */
    char url[128];
    snprintf(url, sizeof url, "%s/v1/tx", l.url);
    const char *garbage[] = {"{\"tx\":\"zz\"}", "not json", "{\"tx\":12}", "{}"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        struct tp_resp r = tp_http("POST", url, garbage[i], strlen(garbage[i]), NULL);
        cr_expect_eq(r.status, 400, "garbage '%s': %ld %s", garbage[i], r.status, r.body);
        json_t *j = json_loads(r.body, 0, NULL);
        cr_expect_not_null(json_object_get(j, "error"));
        json_decref(j);
        tp_resp_free(&r);
    }
    /* An oversized body is refused from its declared length, before it is
     * read. The client waits for that answer (Expect: 100-continue, as
     * curl does for large bodies); one that sends the body regardless may
     * see the connection close under it instead. */
    size_t huge_n = 5 * 1024 * 1024;
    char *huge = malloc(huge_n);
    memset(huge, 'a', huge_n);
    long huge_status = 0;
    CURL *cu = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    h = curl_slist_append(h, "Expect: 100-continue");
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(cu, CURLOPT_POSTFIELDS, huge);
    curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)huge_n);
    curl_easy_setopt(cu, CURLOPT_EXPECT_100_TIMEOUT_MS, 10000L);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, discard_body);
    CURLcode cc = curl_easy_perform(cu);
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &huge_status);
    curl_slist_free_all(h);
    curl_easy_cleanup(cu);
    cr_expect_eq(huge_status, 413, "huge body: %ld (%s)", huge_status, curl_easy_strerror(cc));
    free(huge);

    sleep(1); /* several block intervals (empty blocks may come and go) */
    cr_assert_eq(log_size_of(&l), log0, "nothing was committed from refused input");
    json_t *acct_j;
    char hx[65], path[128];
    mc_hex_encode(hx, newm.pk.b, 32);
    snprintf(path, sizeof path, "/v1/account/%s", hx);
    acct_j = get_json(&l, path, 404);
    json_decref(acct_j);

    /* The CLI refuses the same way: one line, non-zero exit. */
    char *f = tu_path(l.home, "bad.tx");
    char *hex = tu_keep(malloc(2 * c[3].len + 1));
    mc_hex_encode(hex, c[3].tx, c[3].len);
    FILE *fp = fopen(f, "w");
    fputs(hex, fp);
    fclose(fp);
    char *out;
    int rc = tp_run(&out, "%s tx submit --node %s --file %s", tp_bin(), l.url, f);
    cr_expect_neq(rc, 0, "CLI exits non-zero on refusal");
    cr_expect(strstr(out, "signature") != NULL, "CLI names the reason: %s", out);
    cr_expect(strchr(out, '\n') == strrchr(out, '\n'), "one line: %s", out);
    free(out);
    live_stop(&l);
}

/* RFC 9162 2.1.3.2, written independently of src/crypto/merkle.c. */
static int rfc_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[32],
                                const uint8_t (*path)[32], size_t n, const uint8_t root[32]) {
    if (index >= size) return 0;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[32], buf[65];
    memcpy(r, leaf, 32);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0) return 0;
        buf[0] = 1;
        if ((fn & 1) || fn == sn) {
            memcpy(buf + 1, path[i], 32);
            memcpy(buf + 33, r, 32);
            crypto_hash_sha256(r, buf, 65);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) { fn >>= 1; sn >>= 1; }
        } else {
            memcpy(buf + 1, r, 32);
            memcpy(buf + 33, path[i], 32);
            crypto_hash_sha256(r, buf, 65);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, 32) == 0;
}

static void hex32(uint8_t out[32], json_t *v) {
    cr_assert(json_is_string(v));
    cr_assert_eq(mc_hex_decode(out, 32, json_string_value(v)), 0);
}

Test(http, inclusion_proofs_check_out_independently, .timeout = 60) {
    struct live l;
    live_start(&l, "http-proof");
    enum { N = 13 };
    char *ids[N];
    uint8_t *txs[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) {
        struct mc_keypair m;
        mc_keypair_generate(&m);
        uint8_t p[256];
        char name[32];
        snprintf(name, sizeof name, "Auditor %d", i);
        size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, name);
        txs[i] = tu_tx(&lens[i], l.chain_id, MC_TX_ENROLL_MEMBER, &l.admin, (uint64_t)i + 1, p, pl);
        ids[i] = submit_ok(&l, txs[i], lens[i]);
        if (i % 4 == 3) wait_committed(&l, ids[i]); /* spread over several blocks */
    }
    wait_committed(&l, ids[N - 1]);
    uint64_t latest = height_of(&l);
    for (int i = 0; i < N; i++) {
        char path[160];
        snprintf(path, sizeof path, "/v1/proof/%s", ids[i]);
        json_t *j = get_json(&l, path, 200);
        uint64_t idx = (uint64_t)json_integer_value(json_object_get(j, "leaf_index"));
        uint64_t size = (uint64_t)json_integer_value(json_object_get(j, "tree_size"));
        uint8_t leaf[32], root[32], want_leaf[32];
        hex32(leaf, json_object_get(j, "leaf_hash"));
        hex32(root, json_object_get(j, "root"));
        /* The leaf is the RFC 6962 hash of the exact bytes we submitted. */
        uint8_t *pre = malloc(lens[i] + 1);
        pre[0] = 0;
        memcpy(pre + 1, txs[i], lens[i]);
        crypto_hash_sha256(want_leaf, pre, lens[i] + 1);
        free(pre);
        cr_assert_eq(memcmp(leaf, want_leaf, 32), 0, "leaf hash of tx %d", i);
        /* The root is the one the latest header carries, fetched separately. */
        char bpath[64];
        snprintf(bpath, sizeof bpath, "/v1/block/%llu", (unsigned long long)latest);
        json_t *b = get_json(&l, bpath, 200);
        json_t *hdr = json_object_get(b, "header");
        uint8_t hroot[32];
        hex32(hroot, json_object_get(hdr, "log_root"));
        cr_assert_eq(memcmp(hroot, root, 32), 0, "proof root is the header's log root");
        cr_assert_eq((uint64_t)json_integer_value(json_object_get(hdr, "log_size")), size);
        json_decref(b);
        json_t *ap = json_object_get(j, "audit_path");
        size_t n = json_array_size(ap);
        uint8_t (*path_h)[32] = malloc((n + 1) * 32);
        for (size_t k = 0; k < n; k++) hex32(path_h[k], json_array_get(ap, k));
        cr_assert(rfc_verify_inclusion(idx, size, leaf, (const uint8_t(*)[32])path_h, n, root),
                  "proof for tx %d (leaf %llu of %llu) verifies", i, (unsigned long long)idx,
                  (unsigned long long)size);
        /* And the verifier is not a rubber stamp: any altered proof fails. */
        if (n > 0) {
            path_h[n / 2][7] ^= 0x10;
            cr_assert_not(rfc_verify_inclusion(idx, size, leaf, (const uint8_t(*)[32])path_h, n, root));
            path_h[n / 2][7] ^= 0x10;
        }
        cr_assert_not(rfc_verify_inclusion(idx ^ 1, size, leaf, (const uint8_t(*)[32])path_h, n, root) && size > 1);
        free(path_h);
        json_decref(j);
    }
    /* Against an older header: a transaction of block 1 proven in the tree of block 1. */
    char path[200];
    snprintf(path, sizeof path, "/v1/proof/%s?height=1", ids[0]);
    json_t *j = get_json(&l, path, 200);
    json_t *b = get_json(&l, "/v1/block/1", 200);
    uint8_t root[32], hroot[32], leaf[32];
    hex32(root, json_object_get(j, "root"));
    hex32(hroot, json_object_get(json_object_get(b, "header"), "log_root"));
    hex32(leaf, json_object_get(j, "leaf_hash"));
    cr_assert_eq(memcmp(root, hroot, 32), 0);
    json_t *ap = json_object_get(j, "audit_path");
    size_t n = json_array_size(ap);
    uint8_t (*ph)[32] = malloc((n + 1) * 32);
    for (size_t k = 0; k < n; k++) hex32(ph[k], json_array_get(ap, k));
    cr_assert(rfc_verify_inclusion((uint64_t)json_integer_value(json_object_get(j, "leaf_index")),
                                   (uint64_t)json_integer_value(json_object_get(j, "tree_size")),
                                   leaf, (const uint8_t(*)[32])ph, n, root));
    free(ph);
    json_decref(j);
    json_decref(b);
    /* The CLI checks proofs itself too. */
    char *out;
    int rc = tp_run(&out, "%s proof %s --node %s", tp_bin(), ids[5], l.url);
    cr_expect_eq(rc, 0, "medchain proof: %s", out);
    cr_expect(strstr(out, "verified") != NULL, "%s", out);
    free(out);
    live_stop(&l);
}

/* POST /v1/txs: each transaction admitted or refused on its own, a batch
 * that does not decode refused whole. */
Test(http, batch_submission, .timeout = 60) {
    struct live l;
    live_start(&l, "http-batch");
    struct mc_buf body;
    mc_buf_init(&body, 0);
    mc_enc_u32(&body, 3);
    uint8_t *txs[3];
    size_t lens[3];
    for (int i = 0; i < 3; i++) {
        struct mc_keypair m;
        mc_keypair_generate(&m);
        uint8_t p[256];
        size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Batch");
        /* the third reuses nonce 2: refused as a duplicate nonce */
        txs[i] = tu_tx(&lens[i], l.chain_id, MC_TX_ENROLL_MEMBER, &l.admin, i < 2 ? (uint64_t)i + 1 : 2, p, pl);
        mc_enc_bytes32(&body, txs[i], lens[i]);
    }
    char url[128];
    snprintf(url, sizeof url, "%s/v1/txs", l.url);
    struct tp_resp r = tp_http("POST", url, body.data, body.len, "application/octet-stream");
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(j, "accepted")), 2);
    cr_assert_eq(json_integer_value(json_object_get(j, "refused")), 1);
    json_t *res = json_object_get(j, "results");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 2), "error")), "bad_nonce");
    char *id1 = tu_keep(strdup(json_string_value(json_object_get(json_array_get(res, 1), "id"))));
    json_decref(j);
    tp_resp_free(&r);
    wait_committed(&l, id1);
    uint64_t h = log_size_of(&l);
    /* Truncated batch: refused whole, nothing submitted. */
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Never");
    size_t len;
    uint8_t *good = tu_tx(&len, l.chain_id, MC_TX_ENROLL_MEMBER, &l.admin, 3, p, pl);
    mc_buf_reset(&body);
    mc_enc_u32(&body, 2);
    mc_enc_bytes32(&body, good, len);
    mc_enc_u32(&body, 500); /* declares 500 bytes that are not there */
    r = tp_http("POST", url, body.data, body.len, "application/octet-stream");
    cr_assert_eq(r.status, 400, "%s", r.body);
    tp_resp_free(&r);
    sleep(1);
    cr_assert_eq(log_size_of(&l), h, "a refused batch commits nothing");
    char hx[65], path[128];
    mc_hex_encode(hx, m.pk.b, 32);
    snprintf(path, sizeof path, "/v1/account/%s", hx);
    json_decref(get_json(&l, path, 404));
    mc_buf_deinit(&body);
    live_stop(&l);
}
