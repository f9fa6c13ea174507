/* SMART Backend Services: client registration on the ledger, the token
 * endpoint and its refusals, bearer reads under the records policy, and
 * the ledger's own checks of token and bearer access entries. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/server.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/records_payload.h"
#include "app/smart.h"
#include "app/smart_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "smart_util.h"

static const mc_pubkey nobody;

/* A fixture: an Observation of patient (granted to doc2 for results) and
 * one of patient2 (no grant), doc2's client "ehr-sync". */
struct fx {
    struct env e;
    struct mc_keypair client_kp;
    uint64_t doc2_nonce;
    char *obs1, *obs2;
    char patient_rec[80];
};

static void fx_start(struct fx *f, const char *tag) {
    memset(f, 0, sizeof *f);
    env_start(&f->e, tag);
    struct env *e = &f->e;
    f->obs1 = env_create(e, &e->doc, "Observation", env_observation(e->patient_hex, "granted"));
    f->obs2 = env_create(e, &e->doc, "Observation", env_observation(e->patient2_hex, "not granted"));
    uint8_t g[256];
    size_t gl = env_grant_payload(g, MC_GRANTEE_MEMBER, &e->doc2.pk, 0, MC_CAT_RESULTS, 0);
    env_tx(e, &e->patient, &e->patient_nonce, MC_TX_RECORD_GRANT, g, gl);
    mc_keypair_generate(&f->client_kp);
    su_register(e, &e->doc2, &f->doc2_nonce, "ehr-sync", &f->client_kp.pk);
    tu_commit(&e->t);
}

static void fx_stop(struct fx *f) {
    free(f->obs1);
    free(f->obs2);
    env_stop(&f->e);
}

static char *token_of(struct fx *f, const char *jti, const char *scope) {
    char *a = su_assertion(&f->client_kp, &f->e, "ehr-sync", 240, jti);
    struct rq r = su_token(&f->e, a, scope);
    cr_assert_eq(r.status, 200, "token: %ld %s", r.status, r.body);
    char *t = strdup(json_string_value(json_object_get(r.json, "access_token")));
    rq_free(&r);
    free(a);
    return t;
}

/* Refused and security-failure entries of requester about patient. */
static size_t refusals_of(struct env *e, const mc_pubkey *patient, const mc_pubkey *requester) {
    return env_log_count(e, patient, requester, MC_OUTCOME_REFUSED) +
           env_log_count(e, patient, requester, MC_OUTCOME_SECURITY);
}

static const char *oauth_error(const struct rq *r) { return json_string_value(json_object_get(r->json, "error")); }

static bool is_outcome(const struct rq *r) {
    return strcmp(json_string_value(json_object_get(r->json, "resourceType")) ?: "", "OperationOutcome") == 0;
}

Test(smart, discovery_and_capability_statement_advertise_the_token_endpoint, .timeout = 60) {
    struct env e;
    env_start(&e, "smart-disc");
    char url[128];
    su_token_url(&e, url, sizeof url);
    const char *paths[] = {"/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"};
    for (int i = 0; i < 2; i++) {
        struct rq_opt o = {.unsigned_request = true};
        struct rq r = env_req(&e, &e.stranger, "GET", paths[i], NULL, &o);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(json_string_value(json_object_get(r.json, "token_endpoint")), url);
        json_t *m = json_object_get(r.json, "token_endpoint_auth_methods_supported");
        cr_assert_str_eq(json_string_value(json_array_get(m, 0)), "private_key_jwt");
        json_t *alg = json_object_get(r.json, "token_endpoint_auth_signing_alg_values_supported");
        cr_assert_str_eq(json_string_value(json_array_get(alg, 0)), "EdDSA");
        cr_assert(json_array_size(json_object_get(r.json, "scopes_supported")) > 3);
        rq_free(&r);
    }
    struct rq_opt o = {.unsigned_request = true};
    struct rq cs = env_req(&e, &e.stranger, "GET", "/fhir/metadata", NULL, &o);
    cr_assert_eq(cs.status, 200);
    json_t *sec = json_object_get(json_array_get(json_object_get(cs.json, "rest"), 0), "security");
    json_t *ext = json_array_get(json_object_get(sec, "extension"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(ext, "url")),
                     "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
    json_t *tok = json_array_get(json_object_get(ext, "extension"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(tok, "url")), "token");
    cr_assert_str_eq(json_string_value(json_object_get(tok, "valueUri")), url);
    json_t *svc = json_object_get(sec, "service");
    bool smart = false;
    for (size_t i = 0; i < json_array_size(svc); i++) {
        json_t *c = json_array_get(json_object_get(json_array_get(svc, i), "coding"), 0);
        if (strcmp(json_string_value(json_object_get(c, "code")), "SMART-on-FHIR") == 0) smart = true;
    }
    cr_assert(smart);
    rq_free(&cs);
    env_stop(&e);
}

Test(smart, a_bearer_read_follows_the_policy_and_is_on_the_chain_with_its_jti, .timeout = 120) {
    struct fx f;
    fx_start(&f, "smart-read");
    struct env *e = &f.e;
    char *a = su_assertion(&f.client_kp, e, "ehr-sync", 240, "jti-read-1");
    struct rq t = su_token(e, a, "system/Observation.rs system/AuditEvent.rs launch");
    cr_assert_eq(t.status, 200, "%ld %s", t.status, t.body);
    /* a clinician's role holds Observation, not AuditEvent */
    cr_assert_str_eq(json_string_value(json_object_get(t.json, "scope")), "system/Observation.rs");
    cr_assert_str_eq(json_string_value(json_object_get(t.json, "token_type")), "bearer");
    cr_assert_eq(json_integer_value(json_object_get(t.json, "expires_in")), 300);
    char *token = strdup(json_string_value(json_object_get(t.json, "access_token")));
    char token_tx[65];
    snprintf(token_tx, sizeof token_tx, "%s", json_string_value(json_object_get(t.json, "medchain_token_tx")));
    rq_free(&t);

    char path[200];
    snprintf(path, sizeof path, "/fhir/Observation/%s", f.obs1);
    struct rq r = su_bearer(e, token, path);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "id")), f.obs1);
    cr_assert_eq(strlen(r.access_tx), 64);
    char access_tx[65];
    snprintf(access_tx, sizeof access_tx, "%s", r.access_tx);
    rq_free(&r);
    tu_commit(&e->t);

    /* the access entry names the token and the assertion; the token entry
     * holds the assertion itself */
    struct rq v = su_tx(e, access_tx);
    cr_assert_str_eq(json_string_value(json_object_get(v.json, "status")), "committed");
    json_t *pl = json_object_get(json_object_get(v.json, "tx"), "payload");
    cr_assert_str_eq(json_string_value(json_object_get(pl, "outcome")), "allowed");
    char doc2_hex[65];
    mc_hex_encode(doc2_hex, e->doc2.pk.b, 32);
    cr_assert_str_eq(json_string_value(json_object_get(pl, "requester")), doc2_hex);
    json_t *bearer = json_object_get(pl, "bearer");
    cr_assert_not_null(bearer, "%s", v.body);
    cr_assert_str_eq(json_string_value(json_object_get(bearer, "jti")), "jti-read-1");
    cr_assert_str_eq(json_string_value(json_object_get(bearer, "client")), "ehr-sync");
    cr_assert_str_eq(json_string_value(json_object_get(bearer, "token_tx")), token_tx);
    mc_hash ah;
    mc_sha256(&ah, a, strlen(a));
    char ah_hex[65];
    mc_hex_encode(ah_hex, ah.b, 32);
    cr_assert_str_eq(json_string_value(json_object_get(bearer, "assertion_sha256")), ah_hex);
    rq_free(&v);
    struct rq tv = su_tx(e, token_tx);
    json_t *tp = json_object_get(json_object_get(tv.json, "tx"), "payload");
    cr_assert_str_eq(json_string_value(json_object_get(tv.json, "status")), "committed");
    cr_assert_str_eq(json_string_value(json_object_get(tp, "assertion")), a);
    cr_assert_str_eq(json_string_value(json_object_get(tp, "scope")), "system/Observation.rs");
    rq_free(&tv);

    /* a search, same policy: patient granted, patient2 did not */
    snprintf(path, sizeof path, "/fhir/Observation?patient=%s", e->patient_hex);
    r = su_bearer(e, token, path);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "total")), 1);
    rq_free(&r);
    size_t refused0 = env_log_count(e, &e->patient2.pk, &e->doc2.pk, MC_OUTCOME_REFUSED);
    snprintf(path, sizeof path, "/fhir/Observation/%s", f.obs2);
    r = su_bearer(e, token, path);
    cr_assert_eq(r.status, 403, "%ld %s", r.status, r.body);
    cr_assert(is_outcome(&r));
    rq_free(&r);
    tu_commit(&e->t);
    cr_assert_eq(env_log_count(e, &e->patient2.pk, &e->doc2.pk, MC_OUTCOME_REFUSED), refused0 + 1,
                 "the refused bearer read is on the log as doc2's");

    /* out of scope: a record the policy lets doc2 read, through tokens
     * whose scopes do not cover it (403, logged as doc2's) */
    size_t before = refusals_of(e, &e->patient.pk, &e->doc2.pk);
    char *patient_only = token_of(&f, "jti-patient-only", "system/Patient.rs");
    snprintf(path, sizeof path, "/fhir/Observation/%s", f.obs1);
    r = su_bearer(e, patient_only, path);
    cr_assert_eq(r.status, 403, "%ld %s", r.status, r.body);
    cr_assert(is_outcome(&r));
    cr_assert(strstr(r.body, "scopes"));
    rq_free(&r);
    char *read_only = token_of(&f, "jti-read-only", "system/Observation.r");
    r = su_bearer(e, read_only, path);
    cr_assert_eq(r.status, 200, "read is in system/Observation.r: %ld %s", r.status, r.body);
    rq_free(&r);
    snprintf(path, sizeof path, "/fhir/Observation?patient=%s", e->patient_hex);
    r = su_bearer(e, read_only, path);
    cr_assert_eq(r.status, 403, "search is not in system/Observation.r: %ld %s", r.status, r.body);
    rq_free(&r);
    tu_commit(&e->t);
    cr_assert_eq(refusals_of(e, &e->patient.pk, &e->doc2.pk), before + 2,
                 "both out-of-scope reads are on the log as doc2's");
    free(patient_only);
    free(read_only);

    /* a token is for reads: a write with it is refused */
    struct rq_opt wo = {.unsigned_request = true, .headers = {NULL}};
    char hb[200];
    snprintf(hb, sizeof hb, "Authorization: Bearer %s", token);
    wo.headers[0] = hb;
    char *obs = env_observation(e->patient_hex, "written with a token");
    r = env_req(e, &e->stranger, "POST", "/fhir/Observation", obs, &wo);
    cr_assert_eq(r.status, 401, "%ld %s", r.status, r.body);
    rq_free(&r);
    free(obs);

    /* RFC 9421 signed requests work unchanged beside tokens */
    snprintf(path, sizeof path, "/fhir/Observation/%s", f.obs1);
    r = env_req(e, &e->doc2, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200);
    rq_free(&r);
    free(token);
    free(a);
    fx_stop(&f);
}

Test(smart, bad_assertions_are_refused_and_counted, .timeout = 120) {
    struct fx f;
    fx_start(&f, "smart-bad");
    struct env *e = &f.e;
    size_t before = env_refusal_summaries(e, &nobody, NULL);
    size_t refusals = 0;
    /* a replayed assertion */
    char *a = su_assertion(&f.client_kp, e, "ehr-sync", 240, "jti-replay");
    struct rq r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 200);
    rq_free(&r);
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401, "a replayed assertion: %ld %s", r.status, r.body);
    cr_assert_str_eq(oauth_error(&r), "invalid_client");
    cr_assert(strstr(r.body, "replayed"));
    rq_free(&r);
    refusals++;
    free(a);
    /* expired, too far ahead */
    a = su_assertion(&f.client_kp, e, "ehr-sync", -5, "jti-expired");
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    cr_assert(strstr(r.body, "expired"));
    rq_free(&r);
    free(a);
    refusals++;
    a = su_assertion(&f.client_kp, e, "ehr-sync", 3600, "jti-far");
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    free(a);
    refusals++;
    /* signed by another key */
    struct mc_keypair other;
    mc_keypair_generate(&other);
    a = su_assertion(&other, e, "ehr-sync", 240, "jti-forged");
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    cr_assert_str_eq(oauth_error(&r), "invalid_client");
    rq_free(&r);
    free(a);
    refusals++;
    /* a tampered claim under the client's own signature */
    a = su_assertion(&f.client_kp, e, "ehr-sync", 240, "jti-tamper");
    char *dot = strchr(a, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401, "%ld %s", r.status, r.body);
    rq_free(&r);
    free(a);
    refusals++;
    /* another audience */
    char claims[512];
    snprintf(claims, sizeof claims,
             "{\"iss\":\"ehr-sync\",\"sub\":\"ehr-sync\",\"aud\":\"https://elsewhere.example/token\",\"exp\":%lld,\"jti\":\"j-aud\"}",
             (long long)time(NULL) + 200);
    a = su_jws(&f.client_kp, "{\"alg\":\"EdDSA\"}", claims);
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    cr_assert(strstr(r.body, "aud"));
    rq_free(&r);
    free(a);
    refusals++;
    /* iss != sub, unknown client, alg none */
    char aud[128];
    su_token_url(e, aud, sizeof aud);
    snprintf(claims, sizeof claims, "{\"iss\":\"ehr-sync\",\"sub\":\"other\",\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"j-sub\"}",
             aud, (long long)time(NULL) + 200);
    a = su_jws(&f.client_kp, "{\"alg\":\"EdDSA\"}", claims);
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    free(a);
    refusals++;
    a = su_assertion(&f.client_kp, e, "no-such-client", 240, "jti-unknown");
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    free(a);
    refusals++;
    snprintf(claims, sizeof claims, "{\"iss\":\"ehr-sync\",\"sub\":\"ehr-sync\",\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"j-none\"}",
             aud, (long long)time(NULL) + 200);
    a = su_jws(&f.client_kp, "{\"alg\":\"none\"}", claims);
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    free(a);
    refusals++;
    /* not JWS at all, and a wrong grant type */
    r = su_token(e, "not-a-jwt", "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    refusals++;
    struct rq_opt o = {.unsigned_request = true, .content_type = "application/x-www-form-urlencoded"};
    r = env_req(e, &e->stranger, "POST", "/auth/token", "grant_type=password&username=a", &o);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(oauth_error(&r), "unsupported_grant_type");
    rq_free(&r);
    refusals++;
    /* every one of them is counted into the refusal summaries */
    size_t after = env_refusal_summaries(e, &nobody, NULL);
    cr_assert_geq(after - before, refusals, "%zu counted of %zu refusals", after - before, refusals);
    /* an unknown token on a FHIR read: 401 OperationOutcome, counted */
    char path[200];
    snprintf(path, sizeof path, "/fhir/Observation/%s", f.obs1);
    r = su_bearer(e, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", path);
    cr_assert_eq(r.status, 401);
    cr_assert(is_outcome(&r));
    rq_free(&r);
    fx_stop(&f);
}

Test(smart, scopes_beyond_the_role_are_refused_and_logged, .timeout = 120) {
    struct fx f;
    fx_start(&f, "smart-role");
    struct env *e = &f.e;
    struct mc_keypair akp;
    mc_keypair_generate(&akp);
    su_register(e, &e->auditor, &e->auditor_nonce, "audit-bot", &akp.pk);
    tu_commit(&e->t);
    size_t before = env_log_count(e, &nobody, &e->auditor.pk, MC_OUTCOME_REFUSED);
    char *a = su_assertion(&akp, e, "audit-bot", 240, "jti-role");
    struct rq r = su_token(e, a, "system/Observation.rs system/Patient.read");
    cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
    cr_assert_str_eq(oauth_error(&r), "invalid_scope");
    cr_assert_eq(strlen(r.access_tx), 64, "the refusal is logged");
    rq_free(&r);
    free(a);
    /* malformed scopes */
    a = su_assertion(&f.client_kp, e, "ehr-sync", 240, "jti-malformed");
    r = su_token(e, a, "system/Observation.xyz");
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(oauth_error(&r), "invalid_scope");
    rq_free(&r);
    free(a);
    tu_commit(&e->t);
    cr_assert_eq(env_log_count(e, &nobody, &e->auditor.pk, MC_OUTCOME_REFUSED), before + 1);
    /* the auditor's own scope is granted */
    a = su_assertion(&akp, e, "audit-bot", 240, "jti-role-2");
    r = su_token(e, a, "system/*.rs");
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "scope")), "system/*.rs");
    char *token = strdup(json_string_value(json_object_get(r.json, "access_token")));
    rq_free(&r);
    free(a);
    /* ... but a wildcard stays within the role: no Observation */
    char path[200];
    snprintf(path, sizeof path, "/fhir/Observation/%s", f.obs1);
    r = su_bearer(e, token, path);
    cr_assert_eq(r.status, 403, "%ld %s", r.status, r.body);
    rq_free(&r);
    snprintf(path, sizeof path, "/fhir/AuditEvent?patient=%s", e->patient_hex);
    r = su_bearer(e, token, path);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    rq_free(&r);
    free(token);
    fx_stop(&f);
}

Test(smart, expired_tokens_and_revoked_clients_are_refused, .timeout = 120) {
    struct fx f;
    fx_start(&f, "smart-expiry");
    struct env *e = &f.e;
    char path[200];
    snprintf(path, sizeof path, "/fhir/Observation/%s", f.obs1);
    /* expiry: a one-second token */
    setenv("MEDCHAIN_SMART_TOKEN_TTL_S", "1", 1);
    char *quick = token_of(&f, "jti-quick", "system/Observation.rs");
    unsetenv("MEDCHAIN_SMART_TOKEN_TTL_S");
    struct rq r = su_bearer(e, quick, path);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    rq_free(&r);
    sleep(2);
    size_t before = env_refusal_summaries(e, &e->patient.pk, NULL);
    r = su_bearer(e, quick, path);
    cr_assert_eq(r.status, 401, "an expired token: %ld %s", r.status, r.body);
    cr_assert(is_outcome(&r));
    rq_free(&r);
    cr_assert_eq(env_refusal_summaries(e, &e->patient.pk, NULL), before + 1, "the refusal is counted");
    free(quick);

    /* revocation: a live token of the client stops working */
    char *token = token_of(&f, "jti-before-revoke", "system/Observation.rs");
    r = su_bearer(e, token, path);
    cr_assert_eq(r.status, 200);
    rq_free(&r);
    su_revoke(e, &e->doc2, &f.doc2_nonce, "ehr-sync");
    tu_commit(&e->t);
    size_t refused = refusals_of(e, &e->patient.pk, &e->doc2.pk);
    r = su_bearer(e, token, path);
    cr_assert_eq(r.status, 401, "a revoked client's token: %ld %s", r.status, r.body);
    cr_assert(is_outcome(&r));
    cr_assert(strstr(r.body, "revoked"));
    rq_free(&r);
    tu_commit(&e->t);
    cr_assert_eq(refusals_of(e, &e->patient.pk, &e->doc2.pk), refused + 1, "logged as doc2's");
    /* and no new token */
    char *a = su_assertion(&f.client_kp, e, "ehr-sync", 240, "jti-after-revoke");
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    cr_assert(strstr(r.body, "revoked"));
    cr_assert_eq(strlen(r.access_tx), 64);
    rq_free(&r);
    free(a);
    free(token);
    fx_stop(&f);
}

/* ---- the ledger's own checks ---- */

struct q_token {
    mc_hash tx;
    struct mc_smart_token t;
    int rc;
};

static int q_token(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct q_token *q = ctx;
    q->rc = mc_smart_get_token(mc_app_state(app), &q->tx, &q->t);
    return 0;
}

static int submit_token(struct env *e, const char *client, const char *assertion, const char *scope, uint64_t expiry_ms,
                        mc_hash *txid) {
    struct mc_smart_payload p;
    memset(&p, 0, sizeof p);
    p.type = MC_TX_SMART_TOKEN;
    snprintf(p.client, sizeof p.client, "%s", client);
    p.assertion = (const uint8_t *)assertion;
    p.assertion_len = strlen(assertion);
    snprintf(p.scope, sizeof p.scope, "%s", scope);
    p.expiry_ms = expiry_ms;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_smart_payload_encode(&b, &p), 0);
    int rc = mc_node_submit_signed(e->t.node, MC_TX_SMART_TOKEN, b.data, b.len, txid);
    mc_buf_deinit(&b);
    return rc;
}

static int submit_bearer_access(struct env *e, const mc_pubkey *requester, const char *text) {
    struct mc_records_payload *p = calloc(1, sizeof *p);
    p->type = MC_TX_RECORD_ACCESS;
    p->patient = e->patient.pk;
    p->requester = *requester;
    p->action = MC_ACTION_SEARCH;
    p->purpose = MC_PURPOSE_TREAT;
    p->outcome = MC_OUTCOME_SUCCESS;
    p->status = 200;
    p->base = (const uint8_t *)text;
    p->base_len = strlen(text);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_records_payload_encode(&b, p), 0);
    mc_hash id;
    int rc = mc_node_submit_signed(e->t.node, MC_TX_RECORD_ACCESS, b.data, b.len, &id);
    mc_buf_deinit(&b);
    free(p);
    return rc;
}

Test(smart, the_ledger_checks_token_and_bearer_entries_itself, .timeout = 120) {
    struct fx f;
    fx_start(&f, "smart-ledger");
    struct env *e = &f.e;
    uint64_t now = (uint64_t)time(NULL) * 1000;
    mc_hash tx;
    /* a well-formed token entry is accepted once; its jti never again */
    char *a = su_assertion(&f.client_kp, e, "ehr-sync", 200, "ledger-1");
    cr_assert_eq(submit_token(e, "ehr-sync", a, "system/Observation.rs", now + 60000, &tx), 0, "%s", mc_err_detail());
    tu_commit(&e->t);
    mc_hash tx2;
    cr_assert_eq(submit_token(e, "ehr-sync", a, "system/Observation.rs", now + 60000, &tx2), MC_ERR_EXISTS);
    free(a);
    /* forged assertion, scope beyond the role, a token outliving its
     * assertion, another client's name */
    struct mc_keypair other;
    mc_keypair_generate(&other);
    a = su_assertion(&other, e, "ehr-sync", 200, "ledger-2");
    cr_assert_eq(submit_token(e, "ehr-sync", a, "system/Observation.rs", now + 60000, &tx2), MC_ERR_BAD_SIGNATURE);
    free(a);
    a = su_assertion(&f.client_kp, e, "ehr-sync", 200, "ledger-3");
    cr_assert_eq(submit_token(e, "ehr-sync", a, "system/AuditEvent.rs", now + 60000, &tx2), MC_ERR_FORBIDDEN);
    cr_assert_eq(submit_token(e, "ehr-sync", a, "system/Observation.rs", now + 3600 * 1000, &tx2), MC_ERR_INVALID);
    struct mc_keypair k2;
    mc_keypair_generate(&k2);
    su_register(e, &e->doc2, &f.doc2_nonce, "second", &k2.pk);
    tu_commit(&e->t);
    cr_assert_neq(submit_token(e, "second", a, "system/Observation.rs", now + 60000, &tx2), 0);
    free(a);
    /* a bearer access entry must name a token of the requester, exactly */
    struct q_token q = {.tx = tx};
    cr_assert_eq(mc_node_query(e->t.node, q_token, &q), 0);
    cr_assert_eq(q.rc, 0);
    cr_assert_str_eq(q.t.jti, "ledger-1");
    char text[MC_SIGBASE_MAX];
    mc_smart_bearer_format(text, "ehr-sync", "ledger-1", &tx, &q.t.assertion);
    cr_assert_eq(submit_bearer_access(e, &e->doc2.pk, text), 0, "%s", mc_err_detail());
    /* another requester than the token's owner */
    cr_assert_eq(submit_bearer_access(e, &e->doc.pk, text), MC_ERR_BAD_SIGNATURE);
    /* another jti, another assertion hash, a token that does not exist */
    mc_smart_bearer_format(text, "ehr-sync", "ledger-9", &tx, &q.t.assertion);
    cr_assert_eq(submit_bearer_access(e, &e->doc2.pk, text), MC_ERR_BAD_SIGNATURE);
    mc_hash wrong = q.t.assertion;
    wrong.b[0] ^= 1;
    mc_smart_bearer_format(text, "ehr-sync", "ledger-1", &tx, &wrong);
    cr_assert_eq(submit_bearer_access(e, &e->doc2.pk, text), MC_ERR_BAD_SIGNATURE);
    mc_smart_bearer_format(text, "ehr-sync", "ledger-1", &wrong, &q.t.assertion);
    cr_assert_eq(submit_bearer_access(e, &e->doc2.pk, text), MC_ERR_BAD_SIGNATURE);
    /* after revocation no entry of the client's tokens is accepted */
    su_revoke(e, &e->doc2, &f.doc2_nonce, "ehr-sync");
    tu_commit(&e->t);
    mc_smart_bearer_format(text, "ehr-sync", "ledger-1", &tx, &q.t.assertion);
    cr_assert_eq(submit_bearer_access(e, &e->doc2.pk, text), MC_ERR_FORBIDDEN);
    fx_stop(&f);
}

Test(smart, registration_rules, .timeout = 60) {
    struct env e;
    env_start(&e, "smart-reg");
    struct mc_keypair k;
    mc_keypair_generate(&k);
    uint64_t n2 = 0;
    su_register(&e, &e.doc2, &n2, "dup", &k.pk);
    tu_commit(&e.t);
    /* duplicate id, bad id, bad key, a patient as owner: refused */
    struct mc_smart_payload p;
    memset(&p, 0, sizeof p);
    p.type = MC_TX_SMART_CLIENT;
    p.alg = MC_SMART_ALG_EDDSA;
    p.key = k.pk.b;
    p.key_len = 32;
    const char *ids[] = {"dup", "bad id", ""};
    for (int i = 0; i < 3; i++) {
        snprintf(p.client, sizeof p.client, "%s", ids[i]);
        struct mc_buf b;
        mc_buf_init(&b, 0);
        cr_assert_eq(mc_smart_payload_encode(&b, &p), 0);
        size_t len;
        uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_SMART_CLIENT, &e.doc2, n2 + 1, b.data, b.len);
        mc_hash id;
        cr_assert_neq(mc_node_submit(e.t.node, tx, len, &id), 0, "client id '%s' accepted", ids[i]);
        free(tx);
        mc_buf_deinit(&b);
    }
    uint8_t bad[32];
    memset(bad, 0, sizeof bad);
    bad[0] = 2; /* not a point of the curve's prime-order group */
    snprintf(p.client, sizeof p.client, "badkey");
    p.key = bad;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_smart_payload_encode(&b, &p), 0);
    size_t len;
    uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_SMART_CLIENT, &e.doc2, n2 + 1, b.data, b.len);
    mc_hash id;
    cr_assert_neq(mc_node_submit(e.t.node, tx, len, &id), 0);
    free(tx);
    p.key = k.pk.b;
    snprintf(p.client, sizeof p.client, "patient-app");
    mc_buf_reset(&b);
    cr_assert_eq(mc_smart_payload_encode(&b, &p), 0);
    tx = tu_tx(&len, e.t.chain_id, MC_TX_SMART_CLIENT, &e.patient, e.patient_nonce + 1, b.data, b.len);
    cr_assert_eq(mc_node_submit(e.t.node, tx, len, &id), MC_ERR_FORBIDDEN);
    free(tx);
    /* revocation by a stranger member refused, by the owner accepted */
    struct mc_smart_payload rv;
    memset(&rv, 0, sizeof rv);
    rv.type = MC_TX_SMART_CLIENT_REVOKE;
    snprintf(rv.client, sizeof rv.client, "dup");
    mc_buf_reset(&b);
    cr_assert_eq(mc_smart_payload_encode(&b, &rv), 0);
    tx = tu_tx(&len, e.t.chain_id, MC_TX_SMART_CLIENT_REVOKE, &e.auditor, e.auditor_nonce + 1, b.data, b.len);
    cr_assert_eq(mc_node_submit(e.t.node, tx, len, &id), MC_ERR_FORBIDDEN);
    free(tx);
    mc_buf_deinit(&b);
    su_revoke(&e, &e.doc2, &n2, "dup");
    tu_commit(&e.t);
    env_stop(&e);
}

Test(smart, payloads_round_trip_and_truncations_are_refused) {
    mc_pubkey pk;
    memset(pk.b, 7, 32);
    struct mc_smart_payload in[3];
    memset(in, 0, sizeof in);
    in[0].type = MC_TX_SMART_CLIENT;
    snprintf(in[0].client, sizeof in[0].client, "c-1");
    in[0].alg = 1;
    in[0].key = pk.b;
    in[0].key_len = 32;
    snprintf(in[0].name, sizeof in[0].name, "a client");
    in[1].type = MC_TX_SMART_CLIENT_REVOKE;
    snprintf(in[1].client, sizeof in[1].client, "c-1");
    in[2].type = MC_TX_SMART_TOKEN;
    snprintf(in[2].client, sizeof in[2].client, "c-1");
    in[2].assertion = (const uint8_t *)"a.b.c";
    in[2].assertion_len = 5;
    snprintf(in[2].scope, sizeof in[2].scope, "system/*.rs");
    in[2].expiry_ms = 123456789;
    for (int i = 0; i < 3; i++) {
        struct mc_buf b;
        mc_buf_init(&b, 0);
        cr_assert_eq(mc_smart_payload_encode(&b, &in[i]), 0);
        cr_assert_leq(b.len, mc_txtypes_payload_max(in[i].type));
        struct mc_smart_payload out;
        cr_assert_eq(mc_smart_payload_decode(&out, in[i].type, b.data, b.len), 0);
        struct mc_buf again;
        mc_buf_init(&again, 0);
        cr_assert_eq(mc_smart_payload_encode(&again, &out), 0);
        cr_assert_eq(again.len, b.len);
        cr_assert_eq(memcmp(again.data, b.data, b.len), 0);
        for (size_t cut = 0; cut < b.len; cut++)
            cr_assert_neq(mc_smart_payload_decode(&out, in[i].type, b.data, cut), 0, "type %u cut at %zu", in[i].type, cut);
        mc_buf_append(&b, "x", 1);
        cr_assert_neq(mc_smart_payload_decode(&out, in[i].type, b.data, b.len), 0, "trailing byte");
        mc_buf_deinit(&again);
        mc_buf_deinit(&b);
    }
}

Test(smart, scopes_parse_strictly) {
    struct mc_smart_scope s[8];
    size_t n, dropped;
    cr_assert_eq(mc_smart_scopes_parse("system/Observation.rs patient/*.rs openid system/Patient.read system/*.cruds", s, 8, &n,
                                       &dropped), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(dropped, 2);
    char out[MC_SMART_SCOPE_MAX + 1];
    mc_smart_scopes_format(s, n, out);
    cr_assert_str_eq(out, "system/Observation.rs system/Patient.rs system/*.rs");
    cr_assert_eq(mc_smart_scopes_parse("system/Observation.sr", s, 8, &n, &dropped), MC_ERR_MALFORMED);
    cr_assert_eq(mc_smart_scopes_parse("system/Observation.", s, 8, &n, &dropped), MC_ERR_MALFORMED);
    cr_assert_eq(mc_smart_scopes_parse("system/.rs", s, 8, &n, &dropped), MC_ERR_MALFORMED);
    cr_assert_eq(mc_smart_scopes_parse("system/Observation.rs?category=x", s, 8, &n, &dropped), MC_ERR_MALFORMED);
    cr_assert_eq(mc_smart_scopes_parse("system/Observation.cud", s, 8, &n, &dropped), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(dropped, 1);
    char big[MC_SMART_SCOPE_MAX + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    cr_assert_eq(mc_smart_scopes_parse(big, s, 8, &n, &dropped), MC_ERR_TOO_LARGE);
}

Test(smart, es384_clients_sign_assertions_with_p384, .timeout = 120) {
    struct fx f;
    fx_start(&f, "smart-es384");
    struct env *e = &f.e;
    uint8_t pub[97];
    void *key = su_es384_keygen(pub, NULL);
    su_register_alg(e, &e->doc2, &f.doc2_nonce, "ec-client", MC_SMART_ALG_ES384, pub, sizeof pub);
    tu_commit(&e->t);
    char aud[128], claims[512];
    su_token_url(e, aud, sizeof aud);
    snprintf(claims, sizeof claims, "{\"iss\":\"ec-client\",\"sub\":\"ec-client\",\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"ec-1\"}",
             aud, (long long)time(NULL) + 200);
    char *a = su_jws_es384(key, "{\"alg\":\"ES384\",\"typ\":\"JWT\"}", claims);
    struct rq r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    char *token = strdup(json_string_value(json_object_get(r.json, "access_token")));
    rq_free(&r);
    char path[200];
    snprintf(path, sizeof path, "/fhir/Observation/%s", f.obs1);
    r = su_bearer(e, token, path);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    rq_free(&r);
    tu_commit(&e->t);
    free(a);
    /* a flipped bit of the signature, an EdDSA assertion for it, an ES384
     * assertion for an EdDSA client: refused */
    snprintf(claims, sizeof claims, "{\"iss\":\"ec-client\",\"sub\":\"ec-client\",\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"ec-2\"}",
             aud, (long long)time(NULL) + 200);
    a = su_jws_es384(key, "{\"alg\":\"ES384\"}", claims);
    char *last = a + strlen(a) - 3;
    *last = *last == 'A' ? 'B' : 'A';
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401, "a tampered ES384 signature: %ld %s", r.status, r.body);
    rq_free(&r);
    free(a);
    a = su_jws(&f.client_kp, "{\"alg\":\"EdDSA\"}", claims);
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    free(a);
    snprintf(claims, sizeof claims, "{\"iss\":\"ehr-sync\",\"sub\":\"ehr-sync\",\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"ec-3\"}",
             aud, (long long)time(NULL) + 200);
    a = su_jws_es384(key, "{\"alg\":\"ES384\"}", claims);
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 401, "an ES384 assertion for an EdDSA client");
    rq_free(&r);
    free(a);
    /* the ledger re-verifies: a token entry whose ES384 assertion was
     * altered is refused */
    snprintf(claims, sizeof claims, "{\"iss\":\"ec-client\",\"sub\":\"ec-client\",\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"ec-4\"}",
             aud, (long long)time(NULL) + 200);
    a = su_jws_es384(key, "{\"alg\":\"ES384\"}", claims);
    mc_hash tx;
    uint64_t now = (uint64_t)time(NULL) * 1000;
    char *bad = strdup(a);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
    cr_assert_eq(submit_token(e, "ec-client", bad, "system/Observation.rs", now + 60000, &tx), MC_ERR_BAD_SIGNATURE);
    cr_assert_eq(submit_token(e, "ec-client", a, "system/Observation.rs", now + 60000, &tx), 0, "%s", mc_err_detail());
    free(bad);
    free(a);
    /* a key that is not a point of P-384 is not registered */
    pub[40] ^= 1;
    struct mc_smart_payload p;
    memset(&p, 0, sizeof p);
    p.type = MC_TX_SMART_CLIENT;
    snprintf(p.client, sizeof p.client, "bad-ec");
    p.alg = MC_SMART_ALG_ES384;
    p.key = pub;
    p.key_len = sizeof pub;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_smart_payload_encode(&b, &p), 0);
    size_t len;
    uint8_t *txb = tu_tx(&len, e->t.chain_id, MC_TX_SMART_CLIENT, &e->doc2, f.doc2_nonce + 1, b.data, b.len);
    mc_hash id;
    cr_assert_eq(mc_node_submit(e->t.node, txb, len, &id), MC_ERR_INVALID);
    free(txb);
    mc_buf_deinit(&b);
    free(token);
    su_es384_free(key);
    fx_stop(&f);
}
