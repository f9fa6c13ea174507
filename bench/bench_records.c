/* Records benchmark: records added per second (signed FHIR create: validate,
 * encrypt, store the blob, anchor) and authorised reads per second (signed
 * read: verify, decide, decrypt, and commit the access entry), through the
 * HTTP API of an in-process node, next to the bound measured in the same
 * run: Ed25519 verifications per second on one core (each add and each
 * read verifies at least two signatures: the request's and, when its
 * block is cut, the transaction's).
 *
 * One client thread over loopback with keep-alive; blocks are cut every 50
 * requests, so each measured read includes its access entry's commit.
 * The same run repeats on the S3 blob backend against a throwaway RADOS
 * Gateway (scripts/rgw.sh), printed beside the SQLite figures. */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "api/httpsig.h"
#include "api/server.h"
#include "app/identity.h"
#include "app/identity_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "base/log.h"
#include "chain/tx.h"
#include "crypto/keyfile.h"
#include "node/node.h"

#define RECORDS 400
#define READS 400
#define BENCH_S3_ACCESS "MEDCHAINBENCH"
#define BENCH_S3_SECRET "medchain-bench-secret"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double verify_rate(void) {
    struct mc_keypair kp;
    mc_keypair_generate(&kp);
    uint8_t msg[256] = {1}, sig[64];
    mc_ed25519_sign_raw(sig, &kp, msg, sizeof msg);
    double t0 = now_s();
    long n = 0;
    while (now_s() - t0 < 0.5) {
        for (int i = 0; i < 100; i++)
            if (mc_ed25519_verify_raw(sig, &kp.pk, msg, sizeof msg)) abort();
        n += 100;
    }
    return n / (now_s() - t0);
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

static size_t sink(char *p, size_t s, size_t n, void *ctx) {
    struct mc_buf *b = ctx;
    mc_buf_append(b, p, s * n);
    return s * n;
}

static long request(CURL *c, uint16_t port, const struct mc_keypair *kp, const char *method,
                    const char *path, const char *body, struct mc_buf *out) {
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    struct mc_httpsig_message m = {.method = method, .target_uri = url};
    uint8_t rnd[12];
    char nonce[25];
    randombytes_buf(rnd, sizeof rnd);
    mc_hex_encode(nonce, rnd, sizeof rnd);
    struct mc_httpsig_signed s;
    if (mc_httpsig_sign_request(&s, kp, &m, body ? body : "", body ? strlen(body) : 0, NULL, 0,
                                (int64_t)time(NULL), nonce))
        abort();
    struct curl_slist *h = NULL;
    char line[MC_HTTPSIG_HEADER_MAX + 64];
    snprintf(line, sizeof line, "Signature-Input: %s", s.signature_input);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "Signature: %s", s.signature);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "Content-Digest: %s", s.content_digest);
    h = curl_slist_append(h, line);
    h = curl_slist_append(h, "Content-Type: application/fhir+json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body ? (long)strlen(body) : 0L);
    if (!body) curl_easy_setopt(c, CURLOPT_HTTPGET, 1L), curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
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
                                  "bench-records", "credentials", "s3-credentials.json"));
    int rc = json_dump_file(cfg, p, JSON_INDENT(2));
    json_decref(cfg);
    return rc ? 1 : 0;
}

/* One run on a fresh node: the SQLite store, or S3 at endpoint. */
static int run(const char *dir, const char *endpoint, double *adds, double *reads) {
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
    char hx[65];
    mc_hex_encode(hx, pat.pk.b, 32);
    char body[1024];
    CURL *c = curl_easy_init();
    char (*ids)[80] = calloc(RECORDS, sizeof *ids);
    struct mc_buf out;
    mc_buf_init(&out, 0);
    double t0 = now_s();
    for (int i = 0; i < RECORDS; i++) {
        snprintf(body, sizeof body,
                 "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
                 "\"http://loinc.org\",\"code\":\"8867-4\"}]},\"subject\":{\"reference\":\"Patient/%s\"},"
                 "\"valueQuantity\":{\"value\":%d,\"unit\":\"/min\"}}", hx, 60 + i % 40);
        mc_buf_reset(&out);
        if (request(c, port, &doc, "POST", "/fhir/Observation", body, &out) != 201) {
            fprintf(stderr, "create failed: %.*s\n", (int)out.len, out.data);
            return 1;
        }
        json_t *j = json_loadb((const char *)out.data, out.len, 0, NULL);
        snprintf(ids[i], sizeof ids[i], "/fhir/Observation/%s", json_string_value(json_object_get(j, "id")));
        json_decref(j);
        if (i % 50 == 49 && mc_node_commit_pending(n)) return 1;
    }
    if (mc_node_commit_pending(n)) return 1;
    *adds = RECORDS / (now_s() - t0);
    t0 = now_s();
    for (int i = 0; i < READS; i++) {
        mc_buf_reset(&out);
        if (request(c, port, &pat, "GET", ids[i % RECORDS], NULL, &out) != 200) {
            fprintf(stderr, "read failed: %.*s\n", (int)out.len, out.data);
            return 1;
        }
        if (i % 50 == 49 && mc_node_commit_pending(n)) return 1;
    }
    if (mc_node_commit_pending(n)) return 1;
    *reads = READS / (now_s() - t0);
    mc_buf_deinit(&out);
    curl_easy_cleanup(c);
    free(ids);
    mc_api_stop(api);
    mc_node_close(n);
    return 0;
}

int main(void) {
    mc_crypto_init();
    mc_log_set_level(MC_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    double bound = verify_rate();
    char dir[] = "/tmp/medchain-bench-records-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    double adds, reads;
    if (run(dir, NULL, &adds, &reads)) return 1;
    printf("records: %.0f records added/s, %.0f authorised reads/s (each committing its access entry);"
           " bound: %.0f Ed25519 verifications/s on one core (one client, loopback)\n",
           adds, reads, bound);
    /* the same on the S3 backend: a throwaway RADOS Gateway (memstore) on
     * loopback, when Ceph is installed (make deps) */
    char s3dir[300], cmd[800];
    snprintf(s3dir, sizeof s3dir, "%s/s3", dir);
    if (mkdir(s3dir, 0700)) return 1;
    int port = 20000 + (int)(getpid() % 20000);
    snprintf(cmd, sizeof cmd, "bash scripts/rgw.sh start %s/ceph %d %s %s %ld >%s/rgw.log 2>&1", s3dir, port,
             BENCH_S3_ACCESS, BENCH_S3_SECRET, (long)getpid(), s3dir);
    if (system(cmd) != 0) {
        printf("records (s3): not measured: the RADOS Gateway did not start (see scripts/rgw.sh)\n");
    } else {
        char endpoint[64];
        snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
        double sadds, sreads;
        int rc = run(s3dir, endpoint, &sadds, &sreads);
        snprintf(cmd, sizeof cmd, "bash scripts/rgw.sh stop %s/ceph >/dev/null 2>&1", s3dir);
        if (system(cmd)) {}
        if (rc) return 1;
        printf("records (s3): %.0f records added/s, %.0f authorised reads/s on a loopback RADOS Gateway"
               " (memstore), beside %.0f and %.0f on SQLite in this run\n", sadds, sreads, adds, reads);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return 0;
}
