/* libFuzzer target: the request bodies of every API route that takes one,
 * through the router (api/routes.h: mc__api_lookup and its body bound) and
 * the real handlers of a real node: a one-validator chain, opened in a
 * temporary folder (its loop not running) in a testnet with the member
 * organisations, with an enrolled clinician, a pharmacist and a registered
 * patient whose keys are fixed, so seeds can name them.
 *
 * Input: | u8 route | u8 flags | body |
 *   route (mod ROUTES): POST /v1/tx as JSON or as raw bytes, POST /v1/txs,
 *     POST /fhir (transaction Bundle), POST /fhir/Observation,
 *     POST /fhir/Patient, PUT /fhir/Observation/{id}, POST /fhir/Condition,
 *     POST /v1/vrs;
 *   flags bit 0: leave the request unsigned; bit 1: sign as the patient
 *     instead of the clinician; bit 2: sign other bytes than the body sent
 *     (a digest mismatch); bit 3: no ?patient= query on a FHIR route.
 * Signed requests are signed here with RFC 9421 (api/httpsig.h) exactly as
 * a client signs them (POST /v1/vrs with its own Medchain-Key and
 * Medchain-Signature headers, by an enrolled pharmacist), so the handlers
 * parse the fuzzed body past the signature checks.
 *
 * Checks (abort on violation): every answer is complete: a status from 200
 * to 599 and a JSON body (a FHIR route's error is an OperationOutcome with
 * an issue, a /v1 error has "error" and "message"); a body over the route's
 * bound is never handed to a handler (the server answers 413 first, as
 * here). Every 128 inputs the node cuts a block from what the handlers
 * queued (accepted transactions, access and refusal entries); that commit
 * must succeed, so no handler can queue a transaction its block refuses
 * to store.
 *
 * The gate reads the wall clock with time(); this target defines time()
 * so the clock it reads moves on by three signature windows every 512
 * signed requests: the per-key replay cache (MC_HTTPSIG_REPLAY_PER_KEY
 * live nonces) then empties as it would over real minutes, instead of
 * refusing every signed request after the first thousand.
 *
 * MEDCHAIN_FUZZ_TRACE=1 prints each answer (replaying the seeds shows how
 * deep each one gets). MEDCHAIN_FUZZ_SEEDS=DIR writes the seed corpus (fuzz/corpus/fuzz_api) to
 * DIR at start-up. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api/httpsig.h"
#include "api/routes.h"
#include "app/identity.h"
#include "app/identity_payload.h"
#include "app/txtypes.h"
#include "base/codec.h"
#include "base/hex.h"
#include "base/limits.h"
#include "chain/tx.h"
#include "crypto/keyfile.h"
#include "crypto/sign.h"
#include "node/node.h"
#include "node/testnet.h"

#define CHAIN "medchain-fuzz-api"
#define HOST "127.0.0.1"
#define PORT 7700

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* ---- the clock the gate reads ---- */

static int64_t clock_offset_s;

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t v = (time_t)(ts.tv_sec + clock_offset_s);
    if (out) *out = v;
    return v;
}

/* ---- the node ---- */

static struct mc_node *node;
static struct mc_keypair admin, pharmacy_admin, doc, patient, pharmacist;
static char patient_hex[65], pharmacy_gln[MC_GLN_MAX + 1];
static uint64_t admin_nonce, pharmacy_nonce, doc_nonce;
static uint64_t inputs, signed_inputs;
static bool trace; /* MEDCHAIN_FUZZ_TRACE set: each answer on stderr */

static void die(const char *what) {
    fprintf(stderr, "fuzz_api: %s: %s\n", what, mc_err_detail());
    abort();
}

static void submit(uint16_t type, const struct mc_keypair *kp, uint64_t nonce, const struct mc_buf *p) {
    struct mc_tx tx = {.type = type, .sender = kp->pk, .nonce = nonce, .payload = p->data,
                       .payload_len = p->len};
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", CHAIN);
    mc_tx_sign(&tx, kp);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_tx_encode(&b, &tx);
    mc_hash id;
    if (b.err || mc_node_submit(node, b.data, b.len, &id)) die("set-up transaction refused");
    mc_buf_deinit(&b);
}

static void seeded_key(struct mc_keypair *kp, uint8_t fill) {
    uint8_t seed[MC_SEED_BYTES];
    memset(seed, fill, sizeof seed);
    mc_keypair_from_seed(kp, seed);
}

static void enrol(const struct mc_keypair *by, uint64_t *nonce, const mc_pubkey *key, uint8_t role,
                  const char *name) {
    struct mc_identity_payload en = {.type = MC_TX_ENROLL_MEMBER, .key = *key, .role = role};
    snprintf(en.name, sizeof en.name, "%s", name);
    struct mc_buf p;
    mc_buf_init(&p, 0);
    if (mc_identity_payload_encode(&p, &en)) die("enrol payload");
    submit(MC_TX_ENROLL_MEMBER, by, ++*nonce, &p);
    mc_buf_deinit(&p);
}

/* A testnet with one validator (a hospital) and the member organisations
 * (pharmacy, research, distributor); the validator's node is opened. */
static void node_open(void) {
    char tmpl[] = "/tmp/medchain-fuzz-api-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) die("mkdtemp");
    struct mc_testnet_options opt = {.dir = dir, .validators = 1, .members = true, .chain_id = CHAIN,
                                     .api_port = PORT, .genesis_time_ms = 1764201600000ULL};
    struct mc_testnet net;
    if (mc_testnet_create(&opt, &net) || net.count < 2) die("testnet");
    char path[600];
    snprintf(path, sizeof path, "%s/admin_key.json", net.nodes[0].home);
    if (mc_keyfile_read(&admin, path, NULL)) die("admin key");
    snprintf(path, sizeof path, "%s/admin_key.json", net.nodes[1].home);
    if (mc_keyfile_read(&pharmacy_admin, path, NULL)) die("pharmacy admin key");
    if (mc_node_open(&node, net.nodes[0].home)) die("open");
    const struct mc_genesis *g = mc_node_genesis(node);
    for (uint32_t i = 0; i < g->org_count; i++)
        if (memcmp(g->orgs[i].admin.b, pharmacy_admin.pk.b, 32) == 0)
            snprintf(pharmacy_gln, sizeof pharmacy_gln, "%s", g->orgs[i].gln);
    if (!pharmacy_gln[0]) die("the pharmacy's GLN");
    seeded_key(&doc, 0xd0);
    seeded_key(&patient, 0xa1);
    seeded_key(&pharmacist, 0xf0);
    mc_hex_encode(patient_hex, patient.pk.b, 32);
    enrol(&admin, &admin_nonce, &doc.pk, MC_ROLE_CLINICIAN, "Dr Fuzz");
    enrol(&pharmacy_admin, &pharmacy_nonce, &pharmacist.pk, MC_ROLE_PHARMACIST, "Phil Pharmacist");
    if (mc_node_commit_pending(node)) die("commit");

    uint8_t reg[96];
    memcpy(reg, patient.pk.b, 32);
    mc_identity_patient_consent_sign(reg + 32, &patient, CHAIN, &doc.pk);
    struct mc_buf p;
    mc_buf_init(&p, 0);
    mc_buf_append(&p, reg, sizeof reg);
    submit(MC_TX_REGISTER_PATIENT, &doc, ++doc_nonce, &p);
    mc_buf_deinit(&p);
    if (mc_node_commit_pending(node)) die("commit");
}

/* ---- requests ---- */

static const struct route {
    const char *method, *path, *content_type;
    bool fhir;
} routes[] = {
    {"POST", "/v1/tx", "application/json", false},
    {"POST", "/v1/tx", "application/octet-stream", false},
    {"POST", "/v1/txs", "application/octet-stream", false},
    {"POST", "/fhir", "application/fhir+json", true},
    {"POST", "/fhir/Observation", "application/fhir+json", true},
    {"POST", "/fhir/Patient", "application/fhir+json", true},
    {"PUT", "/fhir/Observation/obs-1", "application/fhir+json", true},
    {"POST", "/fhir/Condition", "application/fhir+json", true},
    {"POST", "/v1/vrs", "application/json", false},
};
#define ROUTES (sizeof routes / sizeof routes[0])

struct headers {
    const char *content_type;
    struct mc_httpsig_signed sig;
    bool is_signed;
    /* POST /v1/vrs: the GS1 verification route's own request signature */
    char vrs_key[65], vrs_sig[2 * MC_SIG_BYTES + 1];
    bool vrs;
};

static const char *header_of(void *ctx, const char *name) {
    struct headers *h = ctx;
    if (strcasecmp(name, "content-type") == 0) return h->content_type;
    if (h->vrs && strcasecmp(name, "medchain-key") == 0) return h->vrs_key;
    if (h->vrs && strcasecmp(name, "medchain-signature") == 0) return h->vrs_sig;
    if (!h->is_signed) return NULL;
    if (strcasecmp(name, "signature-input") == 0) return h->sig.signature_input;
    if (strcasecmp(name, "signature") == 0) return h->sig.signature;
    if (strcasecmp(name, "content-digest") == 0) return h->sig.content_digest;
    return NULL;
}

/* The query: ?patient=<the fixed patient's key> on FHIR routes (as a
 * client names the patient of a Bundle or a Patient), unless flags bit 3. */
static const char *query_arg(void *ctx, const char *name) {
    return ctx && strcmp(name, "patient") == 0 ? (const char *)ctx : NULL;
}

static void check(int ok, const char *what, const struct route *r, unsigned status) {
    if (!ok) {
        fprintf(stderr, "fuzz_api: %s %s answered %u: %s\n", r->method, r->path, status, what);
        abort();
    }
}

static void check_answer(const struct route *r, const struct mc__api_response *res) {
    check(res->status >= 200 && res->status <= 599, "status out of range", r, res->status);
    if (res->raw) return;
    check(res->body != NULL, "no body", r, res->status);
    if (res->status < 400) return;
    if (r->fhir) {
        json_t *rt = json_object_get(res->body, "resourceType");
        check(json_is_string(rt) && strcmp(json_string_value(rt), "OperationOutcome") == 0,
              "a FHIR error that is not an OperationOutcome", r, res->status);
        check(json_array_size(json_object_get(res->body, "issue")) > 0, "an OperationOutcome without issue",
              r, res->status);
    } else {
        check(json_is_string(json_object_get(res->body, "error")) &&
                  json_is_string(json_object_get(res->body, "message")),
              "an error without error and message", r, res->status);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const struct route *r = &routes[data[0] % ROUTES];
    uint8_t flags = data[1];
    const uint8_t *body = data + 2;
    size_t len = size - 2;

    struct mc__api_match m;
    struct mc__api_response res;
    memset(&res, 0, sizeof res);
    if (mc__api_lookup(&m, &res, r->method, r->path) != 0) {
        json_decref(res.body);
        check(0, "route not found", r, res.status);
    }
    if (len > m.body_max) return 0; /* the server answers 413 before reading it */

    bool with_patient = r->fhir && !(flags & 8);
    char uri[256];
    snprintf(uri, sizeof uri, "http://%s:%d%s%s%s", HOST, PORT, r->path, with_patient ? "?patient=" : "",
             with_patient ? patient_hex : "");
    struct headers h = {.content_type = r->content_type};
    bool vrs = strcmp(r->path, "/v1/vrs") == 0;
    if (vrs && !(flags & 1)) {
        /* the pharmacist (a trading partner) signs, or with bit 1 the
         * clinician (refused: not a trading role) */
        const struct mc_keypair *kp = (flags & 2) ? &doc : &pharmacist;
        static const uint8_t other[] = "other bytes";
        uint8_t sig[MC_SIG_BYTES];
        if (flags & 4) mc_sign(sig, kp, "vrs-request", CHAIN, other, sizeof other - 1);
        else mc_sign(sig, kp, "vrs-request", CHAIN, body, len);
        mc_hex_encode(h.vrs_key, kp->pk.b, 32);
        mc_hex_encode(h.vrs_sig, sig, sizeof sig);
        h.vrs = true;
    } else if (!(flags & 1)) {
        if (++signed_inputs % 512 == 0) clock_offset_s += 3 * MC_HTTPSIG_WINDOW_S;
        const struct mc_keypair *kp = (flags & 2) ? &patient : &doc;
        const char *extra[] = {"content-type"};
        struct mc_httpsig_message msg = {.method = r->method, .target_uri = uri, .header = header_of,
                                         .header_ctx = &h};
        char nonce[32];
        snprintf(nonce, sizeof nonce, "fuzz-nonce-%016llu", (unsigned long long)signed_inputs);
        static const uint8_t other[] = "other bytes";
        const void *sb = (flags & 4) ? (const void *)other : (const void *)body;
        size_t sl = (flags & 4) ? sizeof other - 1 : len;
        if (mc_httpsig_sign_request(&h.sig, kp, &msg, sb, sl, extra, 1, (int64_t)time(NULL), nonce))
            die("signing");
        h.is_signed = true;
    }
    struct mc__api_request req = {
        .method = r->method, .path = r->path, .content_type = r->content_type,
        .body = len ? body : NULL, .body_len = len, .arg = query_arg, .arg_ctx = with_patient ? patient_hex : NULL,
        .raw_uri = NULL,
        .header = header_of, .header_ctx = &h, .target_uri = uri, .secure = true,
        .local_host = HOST, .local_port = PORT,
    };
    snprintf(req.client_addr, sizeof req.client_addr, "10.%u.%u.%u", (unsigned)(inputs >> 16) & 255,
             (unsigned)(inputs >> 8) & 255, (unsigned)inputs & 255);
    m.handler(node, m.param, &req, &res);
    if (trace) {
        char *j = res.body ? json_dumps(res.body, JSON_COMPACT) : NULL;
        fprintf(stderr, "fuzz_api: %s %s flags %u -> %u %.200s\n", r->method, r->path, flags, res.status,
                j ? j : "");
        free(j);
    }
    check_answer(r, &res);
    json_decref(res.body);
    free(res.raw);

    if (++inputs % 128 == 0 && mc_node_commit_pending(node)) die("cutting a block of what the handlers queued");
    return 0;
}

/* ---- seeds ---- */

static void write_seed_bytes(const char *dir, const char *name, uint8_t route, uint8_t flags,
                             const void *body, size_t len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) die("seed file");
    fputc(route, f);
    fputc(flags, f);
    fwrite(body, 1, len, f);
    fclose(f);
}

static void write_seed(const char *dir, const char *name, uint8_t route, uint8_t flags, const char *body) {
    write_seed_bytes(dir, name, route, flags, body, strlen(body));
}

static void write_seeds(const char *dir) {
    mkdir(dir, 0755);
    char b[4096];
    snprintf(b, sizeof b,
             "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
             "\"http://loinc.org\",\"code\":\"8302-2\"}],\"text\":\"Body height\"},\"subject\":{\"reference\":"
             "\"Patient/%s\"},\"effectiveDateTime\":\"2024-05-01T10:00:00Z\",\"valueQuantity\":{\"value\":"
             "140.52,\"unit\":\"cm\"}}",
             patient_hex);
    write_seed(dir, "observation", 4, 0, b);
    write_seed(dir, "observation-no-query", 4, 8, b);
    write_seed(dir, "observation-unsigned", 4, 1, b);
    write_seed(dir, "observation-digest-mismatch", 4, 4, b);
    snprintf(b, sizeof b,
             "{\"resourceType\":\"Observation\",\"id\":\"obs-1\",\"status\":\"amended\",\"code\":"
             "{\"text\":\"Body height\"},\"subject\":{\"reference\":\"Patient/%s\"},\"valueQuantity\":"
             "{\"value\":1.50,\"unit\":\"m\"}}",
             patient_hex);
    write_seed(dir, "observation-put", 6, 0, b);
    snprintf(b, sizeof b,
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":"
             "\"urn:uuid:1\",\"resource\":{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":"
             "[{\"code\":\"active\"}]},\"code\":{\"text\":\"Asthma\"},\"subject\":{\"reference\":"
             "\"Patient/%s\"}},\"request\":{\"method\":\"POST\",\"url\":\"Condition\"}},{\"fullUrl\":"
             "\"urn:uuid:2\",\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\","
             "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/%s\"},\"valueQuantity\":"
             "{\"value\":0.010}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}",
             patient_hex, patient_hex);
    write_seed(dir, "bundle", 3, 0, b);
    snprintf(b, sizeof b,
             "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:medchain:patient\",\"value\":"
             "\"%s\"}],\"name\":[{\"family\":\"Doe\",\"given\":[\"Jane\"]}],\"birthDate\":\"1970-01-01\"}",
             patient_hex);
    write_seed(dir, "patient", 5, 0, b);
    snprintf(b, sizeof b,
             "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]},"
             "\"code\":{\"text\":\"Asthma\"},\"subject\":{\"reference\":\"Patient/%s\"}}",
             patient_hex);
    write_seed(dir, "condition", 7, 0, b);
    write_seed(dir, "condition-as-patient", 7, 2, b);
    write_seed(dir, "tx-json", 0, 1, "{\"tx\":\"00\"}");
    /* a transaction the ledger accepts (the clinician registers a second
     * patient with her next nonce; both keys are fixed), raw and as a
     * batch of one */
    struct mc_keypair second;
    seeded_key(&second, 0xa2);
    uint8_t reg[96];
    memcpy(reg, second.pk.b, 32);
    mc_identity_patient_consent_sign(reg + 32, &second, CHAIN, &doc.pk);
    struct mc_buf t, batch;
    mc_buf_init(&t, 0);
    mc_buf_init(&batch, 0);
    struct mc_tx tx = {.type = MC_TX_REGISTER_PATIENT, .sender = doc.pk, .nonce = doc_nonce + 1,
                       .payload = reg, .payload_len = sizeof reg};
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", CHAIN);
    mc_tx_sign(&tx, &doc);
    mc_tx_encode(&t, &tx);
    write_seed_bytes(dir, "tx-raw", 1, 1, t.data, t.len);
    mc_enc_u32(&batch, 1);
    mc_enc_bytes32(&batch, t.data, t.len);
    write_seed_bytes(dir, "txs", 2, 1, batch.data, batch.len);
    char hex[2048];
    if (t.len * 2 + 20 < sizeof b && t.len * 2 < sizeof hex) {
        mc_hex_encode(hex, t.data, t.len);
        snprintf(b, sizeof b, "{\"tx\":\"%s\"}", hex);
        write_seed(dir, "tx-json-valid", 0, 1, b);
    }
    mc_buf_deinit(&t);
    mc_buf_deinit(&batch);
    snprintf(b, sizeof b,
             "{\"gtin\":\"09506000134352\",\"serialNumber\":\"S1\",\"lotNumber\":\"L1\","
             "\"expirationDate\":\"261231\",\"requestorGLN\":\"%s\",\"corrUUID\":"
             "\"5f0c1e7a-3b1d-4c59-9a3e-0f6b2d8c9e11\",\"context\":\"dscsaSaleableReturn\"}",
             pharmacy_gln);
    write_seed(dir, "vrs", 8, 0, b);
    write_seed(dir, "vrs-not-trading", 8, 2, b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    mc_crypto_init();
    node_open();
    trace = getenv("MEDCHAIN_FUZZ_TRACE") != NULL;
    const char *seeds = getenv("MEDCHAIN_FUZZ_SEEDS");
    if (seeds) write_seeds(seeds);
    return 0;
}
