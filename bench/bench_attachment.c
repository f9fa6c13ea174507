/* Attachment benchmark: MB/s of a large FHIR Binary streamed into an
 * in-process node (signed upload: chunked encryption, hashing, storage in
 * pieces or an S3 multipart upload, anchor) and read back (authorised
 * read: chunk-by-chunk decryption to the response), on the SQLite backend
 * and on a throwaway RADOS Gateway, next to the bound measured in the same
 * run: raw secretstream (XChaCha20-Poly1305) encryption MB/s on one core,
 * which every byte of an upload and of a read passes through once. */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/httpsig.h"
#include "api/server.h"
#include "app/identity.h"
#include "app/identity_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "base/log.h"
#include "chain/tx.h"
#include "crypto/keyfile.h"
#include "crypto/stream.h"
#include "node/node.h"

#define ATTACH_BYTES (64u * 1000 * 1000)
#define BENCH_S3_ACCESS "MEDCHAINBENCH"
#define BENCH_S3_SECRET "medchain-bench-secret"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Raw secretstream encryption of MC_STREAM_CHUNK messages, MB/s. */
static double stream_rate(void) {
    uint8_t key[32], header[MC_STREAM_HEADER_BYTES];
    randombytes_buf(key, sizeof key);
    static uint8_t in[MC_STREAM_CHUNK], out[MC_STREAM_MSG_BYTES];
    randombytes_buf(in, sizeof in);
    struct mc_stream s;
    mc_stream_push_init(&s, header, key);
    double t0 = now_s();
    uint64_t n = 0;
    while (now_s() - t0 < 0.5) {
        for (int i = 0; i < 16; i++) mc_stream_push(&s, out, in, sizeof in, "ad", 2, false);
        n += 16 * sizeof in;
    }
    mc_stream_wipe(&s);
    return n / 1e6 / (now_s() - t0);
}

static void submit(struct mc_node *n, const char *chain, uint16_t type, const struct mc_keypair *kp,
                   uint64_t nonce, const void *p, size_t len) {
    struct mc_tx tx = {.type = type, .sender = kp->pk, .nonce = nonce, .payload = p, .payload_len = len};
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain);
    mc_tx_sign(&tx, kp);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_tx_encode(&b, &tx);
    mc_hash id;
    if (mc_node_submit(n, b.data, b.len, &id)) {
        fprintf(stderr, "submit: %s\n", mc_err_detail());
        exit(1);
    }
    mc_buf_deinit(&b);
}

static void gen(uint8_t *p, size_t n, uint64_t off) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(((off + i) * 0x9e3779b97f4a7c15ull) >> 56);
}

struct src {
    uint64_t total, sent;
};

static size_t up_read(char *buf, size_t size, size_t nitems, void *ud) {
    struct src *s = ud;
    size_t k = size * nitems;
    if (k > s->total - s->sent) k = (size_t)(s->total - s->sent);
    gen((uint8_t *)buf, k, s->sent);
    s->sent += k;
    return k;
}

struct sink {
    struct mc_buf head;
    uint64_t got;
};

static size_t down_write(char *p, size_t s, size_t n, void *ctx) {
    struct sink *k = ctx;
    if (k->head.len < 4096) mc_buf_append(&k->head, p, s * n);
    k->got += s * n;
    return s * n;
}

static long request(CURL *c, uint16_t port, const struct mc_keypair *kp, const char *method, const char *path,
                    struct src *src, const mc_hash *h, struct sink *k) {
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    struct mc_httpsig_message m = {.method = method, .target_uri = url};
    uint8_t rnd[12];
    char nonce[25];
    randombytes_buf(rnd, sizeof rnd);
    mc_hex_encode(nonce, rnd, sizeof rnd);
    mc_hash empty;
    mc_sha256(&empty, "", 0);
    struct mc_httpsig_signed s;
    if (mc_httpsig_sign_request_hashed(&s, kp, &m, h ? h : &empty, NULL, 0, (int64_t)time(NULL), nonce)) abort();
    struct curl_slist *hd = NULL;
    char line[MC_HTTPSIG_HEADER_MAX + 64];
    snprintf(line, sizeof line, "Signature-Input: %s", s.signature_input);
    hd = curl_slist_append(hd, line);
    snprintf(line, sizeof line, "Signature: %s", s.signature);
    hd = curl_slist_append(hd, line);
    snprintf(line, sizeof line, "Content-Digest: %s", s.content_digest);
    hd = curl_slist_append(hd, line);
    if (src) hd = curl_slist_append(hd, "Content-Type: application/pdf");
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, down_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
    if (src) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, up_read);
        curl_easy_setopt(c, CURLOPT_READDATA, src);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)src->total);
    }
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    return status;
}

/* Puts an S3 "blob_store" on the gateway at endpoint into home's config. */
static int use_s3(const char *home, const char *endpoint) {
    char p[400];
    snprintf(p, sizeof p, "%s/s3-credentials.json", home);
    FILE *f = fopen(p, "w");
    if (!f) return 1;
    fprintf(f, "{\"access_key\": \"%s\", \"secret_key\": \"%s\"}\n", BENCH_S3_ACCESS, BENCH_S3_SECRET);
    fclose(f);
    if (chmod(p, 0600)) return 1;
    snprintf(p, sizeof p, "%s/config.json", home);
    json_t *cfg = json_load_file(p, 0, NULL);
    if (!cfg) cfg = json_object();
    json_object_set_new(cfg, "blob_store",
                        json_pack("{s:s, s:s, s:s, s:s}", "backend", "s3", "endpoint", endpoint, "bucket",
                                  "bench-attach", "credentials", "s3-credentials.json"));
    int rc = json_dump_file(cfg, p, JSON_INDENT(2));
    json_decref(cfg);
    return rc ? 1 : 0;
}

/* One run on a fresh node: the SQLite store, or S3 at endpoint. */
static int run(const char *dir, const char *endpoint, double *up, double *down) {
    char home[256];
    snprintf(home, sizeof home, "%s/node", dir);
    struct mc_init_options opt = {.home = home, .chain_id = "medchain-bench"};
    if (mc_node_init_home(&opt)) return 1;
    if (endpoint && use_s3(home, endpoint)) return 1;
    struct mc_node *n;
    if (mc_node_open(&n, home)) {
        fprintf(stderr, "node: %s\n", mc_err_detail());
        return 1;
    }
    struct mc_keypair admin, doc, pat;
    char kp[300];
    snprintf(kp, sizeof kp, "%s/admin_key.json", home);
    if (mc_keyfile_read(&admin, kp, NULL)) return 1;
    mc_keypair_generate(&doc);
    mc_keypair_generate(&pat);
    struct mc_identity_payload ep = {.type = MC_TX_ENROLL_MEMBER, .key = doc.pk,
                                     .role = MC_ROLE_CLINICIAN, .name = "Dr Bench"};
    struct mc_buf p;
    mc_buf_init(&p, 0);
    if (mc_identity_payload_encode(&p, &ep)) return 1;
    submit(n, "medchain-bench", MC_TX_ENROLL_MEMBER, &admin, 1, p.data, p.len);
    mc_buf_deinit(&p);
    if (mc_node_commit_pending(n)) return 1;
    uint8_t rp[96];
    memcpy(rp, pat.pk.b, 32);
    mc_identity_patient_consent_sign(rp + 32, &pat, "medchain-bench", &doc.pk);
    submit(n, "medchain-bench", MC_TX_REGISTER_PATIENT, &doc, 1, rp, 96);
    if (mc_node_commit_pending(n)) return 1;
    struct mc_api *api;
    if (mc_api_start(&api, n, "127.0.0.1", 0)) return 1;
    uint16_t port = mc_api_port(api);
    char hx[65], path[256];
    mc_hex_encode(hx, pat.pk.b, 32);
    /* the body's digest first (the client signs it before sending) */
    crypto_hash_sha256_state hs;
    crypto_hash_sha256_init(&hs);
    static uint8_t buf[1 << 20];
    for (uint64_t off = 0; off < ATTACH_BYTES; off += sizeof buf) {
        size_t k = ATTACH_BYTES - off < sizeof buf ? (size_t)(ATTACH_BYTES - off) : sizeof buf;
        gen(buf, k, off);
        crypto_hash_sha256_update(&hs, buf, k);
    }
    mc_hash h;
    crypto_hash_sha256_final(&hs, h.b);
    CURL *c = curl_easy_init();
    struct sink k = {0};
    mc_buf_init(&k.head, 0);
    struct src s = {ATTACH_BYTES, 0};
    snprintf(path, sizeof path, "/fhir/Binary?patient=%s", hx);
    double t0 = now_s();
    if (request(c, port, &doc, "POST", path, &s, &h, &k) != 201) {
        fprintf(stderr, "upload failed: %.*s\n", (int)k.head.len, k.head.data);
        return 1;
    }
    *up = ATTACH_BYTES / 1e6 / (now_s() - t0);
    json_t *j = json_loadb((const char *)k.head.data, k.head.len, 0, NULL);
    snprintf(path, sizeof path, "/fhir/Binary/%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    if (mc_node_commit_pending(n)) return 1;
    mc_buf_reset(&k.head);
    k.got = 0;
    t0 = now_s();
    long st = request(c, port, &pat, "GET", path, NULL, NULL, &k);
    if (st != 200 || k.got != ATTACH_BYTES) {
        fprintf(stderr, "read failed: %ld, %llu bytes\n", st, (unsigned long long)k.got);
        return 1;
    }
    *down = ATTACH_BYTES / 1e6 / (now_s() - t0);
    mc_buf_deinit(&k.head);
    curl_easy_cleanup(c);
    mc_api_stop(api);
    mc_node_close(n);
    return 0;
}

int main(void) {
    mc_crypto_init();
    mc_log_set_level(MC_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double bound = stream_rate();
    char dir[] = "/tmp/medchain-bench-attach-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    double up, down;
    if (run(dir, NULL, &up, &down)) return 1;
    printf("attachments: %.0f MB streamed in at %.1f MB/s, read back at %.1f MB/s (sqlite);"
           " bound: %.0f MB/s of raw secretstream encryption on one core\n",
           ATTACH_BYTES / 1e6, up, down, bound);
    char s3dir[300], cmd[800];
    snprintf(s3dir, sizeof s3dir, "%s/s3", dir);
    if (mkdir(s3dir, 0700)) return 1;
    int port = 20000 + (int)((getpid() + 7) % 20000);
    snprintf(cmd, sizeof cmd, "bash scripts/rgw.sh start %s/ceph %d %s %s %ld >%s/rgw.log 2>&1", s3dir, port,
             BENCH_S3_ACCESS, BENCH_S3_SECRET, (long)getpid(), s3dir);
    if (system(cmd) != 0) {
        printf("attachments (s3): not measured: the RADOS Gateway did not start (see scripts/rgw.sh)\n");
    } else {
        char endpoint[64];
        snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
        double sup, sdown;
        int rc = run(s3dir, endpoint, &sup, &sdown);
        snprintf(cmd, sizeof cmd, "bash scripts/rgw.sh stop %s/ceph >/dev/null 2>&1", s3dir);
        if (system(cmd)) {}
        if (rc) return 1;
        printf("attachments (s3): %.1f MB/s in (multipart), %.1f MB/s out (ranged reads) on a loopback RADOS"
               " Gateway (memstore), beside %.1f and %.1f on SQLite; bound: %.0f MB/s secretstream\n",
               sup, sdown, up, down, bound);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return 0;
}
