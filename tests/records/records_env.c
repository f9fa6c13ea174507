/* Records test fixture (see records_env.h). */
#include "records_env.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/httpsig.h"
#include "api/server.h"
#include "app/identity.h"
#include "app/records.h"
#include "base/hex.h"
#include "app/records_payload.h"

static struct mc_keypair enroll(struct env *e, uint8_t role, const char *name) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, role, name);
    size_t len;
    uint8_t *tx = tu_tx(&len, e->t.chain_id, MC_TX_ENROLL_MEMBER, &e->t.admin, ++e->admin_nonce, p, pl);
    tu_submit_ok(&e->t, tx, len);
    free(tx);
    return m;
}

static void register_patient(struct env *e, struct mc_keypair *pat, uint64_t *doc_nonce) {
    mc_keypair_generate(pat);
    uint8_t p[96];
    memcpy(p, pat->pk.b, 32);
    mc_identity_patient_consent_sign(p + 32, pat, e->t.chain_id, &e->doc.pk);
    size_t len;
    uint8_t *tx = tu_tx(&len, e->t.chain_id, MC_TX_REGISTER_PATIENT, &e->doc, ++*doc_nonce, p, 96);
    tu_submit_ok(&e->t, tx, len);
    free(tx);
}

void env_start(struct env *e, const char *tag) {
    memset(e, 0, sizeof *e);
    tu_node_start(&e->t, tag);
    e->doc = enroll(e, MC_ROLE_CLINICIAN, "Dr Ada");
    e->doc2 = enroll(e, MC_ROLE_CLINICIAN, "Dr Bob");
    e->researcher = enroll(e, MC_ROLE_RESEARCHER, "Rita Research");
    e->auditor = enroll(e, MC_ROLE_AUDITOR, "Audrey Audit");
    mc_keypair_generate(&e->stranger);
    tu_commit(&e->t);
    uint64_t dn = 0;
    register_patient(e, &e->patient, &dn);
    register_patient(e, &e->patient2, &dn);
    tu_commit(&e->t);
    mc_hex_encode(e->patient_hex, e->patient.pk.b, 32);
    mc_hex_encode(e->patient2_hex, e->patient2.pk.b, 32);
    cr_assert_eq(mc_api_start(&e->api, e->t.node, "127.0.0.1", 0), 0, "%s", mc_err_detail());
    e->port = mc_api_port(e->api);
}

void env_restart(struct env *e) {
    mc_api_stop(e->api);
    e->api = NULL;
    tu_node_stop(&e->t);
    cr_assert_eq(mc_node_open(&e->t.node, e->t.home), 0, "reopen: %s", mc_err_detail());
    cr_assert_eq(mc_api_start(&e->api, e->t.node, "127.0.0.1", 0), 0, "%s", mc_err_detail());
    e->port = mc_api_port(e->api);
}

void env_stop(struct env *e) {
    mc_api_stop(e->api);
    tu_node_stop(&e->t);
}

void rq_free(struct rq *r) {
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static size_t on_body(char *p, size_t s, size_t n, void *ctx) {
    struct rq *r = ctx;
    char *b = realloc(r->body, r->len + s * n + 1);
    cr_assert_not_null(b);
    memcpy(b + r->len, p, s * n);
    r->len += s * n;
    b[r->len] = 0;
    r->body = b;
    return s * n;
}

/* The value of header line p (n bytes) when it is name's, into out. */
static void header_value(const char *p, size_t n, const char *name, char *out, size_t size) {
    size_t k = strlen(name);
    if (n < k + 2 || strncasecmp(p, name, k) != 0 || p[k] != ':') return;
    size_t b = k + 1, e = n;
    while (b < e && p[b] == ' ') b++;
    while (e > b && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' ')) e--;
    snprintf(out, size, "%.*s", (int)(e - b), p + b);
}

static size_t on_header(char *p, size_t s, size_t n, void *ctx) {
    struct rq *r = ctx;
    header_value(p, s * n, "X-Medchain-Access-Tx", r->access_tx, sizeof r->access_tx);
    header_value(p, s * n, "ETag", r->etag, sizeof r->etag);
    header_value(p, s * n, "Content-Type", r->content_type, sizeof r->content_type);
    header_value(p, s * n, "Location", r->location, sizeof r->location);
    header_value(p, s * n, "Content-Location", r->content_location, sizeof r->content_location);
    header_value(p, s * n, "X-Progress", r->progress, sizeof r->progress);
    return s * n;
}

/* Writes a FHIR answer into MEDCHAIN_FHIR_CAPTURE (see records_env.h). */
static void capture(const struct rq *r, const char *method, const char *path) {
    const char *dir = getenv("MEDCHAIN_FHIR_CAPTURE");
    if (!dir || !dir[0] || !r->body || strncmp(r->content_type, "application/fhir+json", 21) != 0) return;
    static unsigned counter;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    unsigned k = ++counter;
    pthread_mutex_unlock(&lock);
    char file[1024];
    snprintf(file, sizeof file, "%s/%ld-%u.json", dir, (long)getpid(), k);
    FILE *f = fopen(file, "wb");
    cr_assert_not_null(f, "cannot write %s (%s %s)", file, method, path);
    cr_assert_eq(fwrite(r->body, 1, r->len, f), r->len);
    fclose(f);
}

struct hv {
    const char *names[4];
    char values[4][256];
};
static const char *hv_get(void *ctx, const char *name) {
    struct hv *h = ctx;
    for (int i = 0; i < 4 && h->names[i]; i++)
        if (strcmp(h->names[i], name) == 0) return h->values[i];
    return NULL;
}

/* The headers a re-signed request's base sees: the extra ones and the
 * content digest. */
struct hv_digest {
    struct hv *h;
    const char *digest;
};
static const char *hv_digest_get(void *ctx, const char *name) {
    struct hv_digest *d = ctx;
    if (strcmp(name, "content-digest") == 0) return d->digest;
    return hv_get(d->h, name);
}

/* Signs the request again with changed parameters a client might send:
 * the keyid's hex in upper case, or content-digest left uncovered. The
 * result is a valid signature of what it claims. */
static void resign(struct mc_httpsig_signed *sig, const struct mc_keypair *kp, const char *method,
                   const char *target_uri, struct hv *h, bool keyid_upper, bool no_digest) {
    struct mc_httpsig_params p;
    cr_assert_eq(mc_httpsig_parse_input(&p, sig->signature_input, "sig1"), 0);
    if (keyid_upper) {
        for (char *c = p.keyid; *c; c++) *c = (char)toupper((unsigned char)*c);
        for (size_t i = 0; i < p.nparam; i++)
            if (strcmp(p.pname[i], "keyid") == 0)
                for (char *c = p.pvalue[i]; *c; c++) *c = (char)toupper((unsigned char)*c);
    }
    if (no_digest) {
        size_t k = 0;
        for (size_t i = 0; i < p.ncomp; i++)
            if (strcmp(p.comp[i], "content-digest") != 0) memcpy(p.comp[k++], p.comp[i], sizeof p.comp[0]);
        p.ncomp = k;
    }
    struct hv_digest d = {h, sig->content_digest};
    struct mc_httpsig_message m = {.method = method, .target_uri = target_uri, .header = hv_digest_get,
                                   .header_ctx = &d};
    struct mc_buf base;
    mc_buf_init(&base, 0);
    cr_assert_eq(mc_httpsig_base(&base, &p, &m), 0);
    uint8_t raw[MC_SIG_BYTES];
    mc_ed25519_sign_raw(raw, kp, base.data, base.len);
    mc_buf_deinit(&base);
    char b64[sodium_base64_ENCODED_LEN(MC_SIG_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    snprintf(sig->signature, sizeof sig->signature, "sig1=:%s:", b64);
    struct mc_buf in;
    mc_buf_init(&in, 0);
    mc_buf_append(&in, "sig1=", 5);
    mc_httpsig_serialize_params(&in, &p);
    mc_buf_append(&in, "", 1);
    cr_assert_eq(in.err, 0);
    snprintf(sig->signature_input, sizeof sig->signature_input, "%s", (const char *)in.data);
    mc_buf_deinit(&in);
}

struct rq env_req(struct env *e, const struct mc_keypair *kp, const char *method, const char *path,
                  const char *body, const struct rq_opt *opt) {
    static const struct rq_opt none;
    if (!opt) opt = &none;
    struct rq r;
    memset(&r, 0, sizeof r);
    char url[1024], signed_url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)e->port, path);
    if (opt->host) snprintf(signed_url, sizeof signed_url, "http://%s%s", opt->host, path);
    else snprintf(signed_url, sizeof signed_url, "%s", url);
    const char *sb = opt->sign_body ? opt->sign_body : (body ? body : "");
    /* extra headers: lower-case names for coverage */
    struct hv h;
    memset(&h, 0, sizeof h);
    char names[4][64];
    const char *extra[4];
    size_t nextra = 0;
    for (int i = 0; i < 4 && opt->headers[i]; i++) {
        const char *colon = strchr(opt->headers[i], ':');
        size_t nl = (size_t)(colon - opt->headers[i]);
        for (size_t k = 0; k < nl; k++) names[i][k] = (char)tolower((unsigned char)opt->headers[i][k]);
        names[i][nl] = 0;
        h.names[i] = names[i];
        snprintf(h.values[i], sizeof h.values[i], "%s", colon + 2);
        extra[nextra++] = names[i];
    }
    struct mc_httpsig_message m = {.method = method, .target_uri = signed_url, .header = hv_get, .header_ctx = &h};
    char nonce[40];
    if (opt->nonce) snprintf(nonce, sizeof nonce, "%s", opt->nonce);
    else {
        uint8_t rnd[12];
        randombytes_buf(rnd, sizeof rnd);
        mc_hex_encode(nonce, rnd, sizeof rnd);
    }
    struct mc_httpsig_signed sig;
    cr_assert_eq(mc_httpsig_sign_request(&sig, kp, &m, sb, strlen(sb), extra, nextra,
                                         (int64_t)time(NULL) + opt->created_offset_s, nonce), 0);
    if (opt->keyid_of) {
        char mine[65], other[65];
        mc_hex_encode(mine, kp->pk.b, 32);
        mc_hex_encode(other, opt->keyid_of->pk.b, 32);
        char *k = strstr(sig.signature_input, mine);
        cr_assert_not_null(k);
        memcpy(k, other, 64);
    }
    if (opt->keyid_upper || opt->no_content_digest)
        resign(&sig, kp, method, signed_url, &h, opt->keyid_upper, opt->no_content_digest);
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    char line[MC_HTTPSIG_HEADER_MAX + 64];
    if (opt->host) {
        snprintf(line, sizeof line, "Host: %s", opt->host);
        hl = curl_slist_append(hl, line);
    }
    snprintf(line, sizeof line, "Content-Type: %s", opt->content_type ? opt->content_type : "application/fhir+json");
    hl = curl_slist_append(hl, line);
    hl = curl_slist_append(hl, "Expect:");
    if (!opt->unsigned_request) {
        snprintf(line, sizeof line, "Signature-Input: %s", sig.signature_input);
        hl = curl_slist_append(hl, line);
        snprintf(line, sizeof line, "Signature: %s", sig.signature);
        hl = curl_slist_append(hl, line);
        if (!opt->no_content_digest) {
            snprintf(line, sizeof line, "Content-Digest: %s", sig.content_digest);
            hl = curl_slist_append(hl, line);
        }
    }
    for (int i = 0; i < 4 && opt->headers[i]; i++) hl = curl_slist_append(hl, opt->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cc = curl_easy_perform(c);
    cr_assert_eq(cc, CURLE_OK, "curl: %s", curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (r.body) r.json = json_loads(r.body, 0, NULL);
    capture(&r, method, path);
    return r;
}

void env_tx(struct env *e, const struct mc_keypair *kp, uint64_t *nonce, uint16_t type,
            const void *payload, size_t len) {
    size_t n;
    uint8_t *tx = tu_tx(&n, e->t.chain_id, type, kp, ++*nonce, payload, len);
    tu_submit_ok(&e->t, tx, n);
    free(tx);
}

char *env_observation(const char *patient_hex, const char *marker) {
    char *s = malloc(1024);
    snprintf(s, 1024,
             "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
             "\"http://loinc.org\",\"code\":\"8867-4\",\"display\":\"Heart rate\"}],\"text\":\"%s\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"},\"valueQuantity\":{\"value\":72,\"unit\":\"/min\"}}",
             marker, patient_hex);
    return s;
}

char *env_create(struct env *e, const struct mc_keypair *kp, const char *type, const char *json) {
    char path[128];
    snprintf(path, sizeof path, "/fhir/%s", type);
    struct rq r = env_req(e, kp, "POST", path, json, NULL);
    cr_assert_eq(r.status, 201, "create: %ld %s", r.status, r.body);
    const char *id = json_string_value(json_object_get(r.json, "id"));
    cr_assert_not_null(id);
    char *out = strdup(id);
    rq_free(&r);
    return out;
}

size_t env_grant_payload(uint8_t *out, uint8_t kind, const mc_pubkey *member, uint32_t org,
                         uint8_t cats, uint64_t expiry_ms) {
    struct mc_records_payload *p = calloc(1, sizeof *p);
    cr_assert_not_null(p);
    p->type = MC_TX_RECORD_GRANT;
    p->kind = kind;
    if (member) p->member = *member;
    p->org = org;
    p->categories = cats;
    p->expiry_ms = expiry_ms;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_records_payload_encode(&b, p), 0);
    free(p);
    memcpy(out, b.data, b.len);
    size_t n = b.len;
    mc_buf_deinit(&b);
    return n;
}

struct logq {
    const mc_pubkey *patient, *requester;
    uint8_t outcome;
    size_t n;
};
static int log_row(void *ctx, const struct mc_access_entry *a) {
    struct logq *q = ctx;
    if ((!q->requester || memcmp(a->requester.b, q->requester->b, 32) == 0) && a->outcome == q->outcome)
        q->n++;
    return 0;
}
static int q_log(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct logq *q = ctx;
    return mc_records_scan_access(mc_app_state(app), q->patient, log_row, q);
}
struct sumq {
    size_t total, entries;
};
static int sum_row(void *ctx, const struct mc_access_entry *a) {
    struct sumq *q = ctx;
    if (strncmp(a->reason, "summary: ", 9) == 0 && a->outcome == MC_OUTCOME_SECURITY &&
        sodium_is_zero(a->requester.b, 32)) {
        q->total += (size_t)strtoull(a->reason + 9, NULL, 10);
        q->entries++;
    }
    return 0;
}
struct sumctx {
    const mc_pubkey *patient;
    struct sumq q;
};
static int q_sum(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct sumctx *c = ctx;
    return mc_records_scan_access(mc_app_state(app), c->patient, sum_row, &c->q);
}
size_t env_refusal_summaries(struct env *e, const mc_pubkey *patient, size_t *entries) {
    mc_api_flush_refusal_summaries(e->t.node);
    tu_commit(&e->t);
    struct sumctx c = {.patient = patient};
    cr_assert_eq(mc_node_query(e->t.node, q_sum, &c), 0);
    if (entries) *entries = c.q.entries;
    return c.q.total;
}

size_t env_log_count(struct env *e, const mc_pubkey *patient, const mc_pubkey *requester,
                     uint8_t outcome) {
    struct logq q = {.patient = patient, .requester = requester, .outcome = outcome};
    cr_assert_eq(mc_node_query(e->t.node, q_log, &q), 0);
    return q.n;
}
