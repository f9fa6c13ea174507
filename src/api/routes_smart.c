/* SMART Backend Services (SMART App Launch v2, docs/SMART.md):
 *   GET  /.well-known/smart-configuration (also under /fhir/): discovery;
 *   POST /auth/token: client_credentials with a private_key_jwt client
 *        assertion (RFC 7523) -> a short-lived opaque bearer token.
 *
 * A token is issued only once its smart_token entry (the client's signed
 * assertion, the granted scopes, the expiry) was admitted to the ledger,
 * which re-verifies the assertion and uses its jti once chain-wide.
 * Refusals answer RFC 6749 section 5.2 JSON errors; a refusal of a client
 * the ledger knows whose assertion verified and is fresh is logged as a
 * record_access entry of its owner (action token), every other one counts
 * into the gate's summaries of refusals without a known signer. */
#include "api/routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/gate.h"
#include "api/reply.h"
#include "api/smart_tokens.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/smart.h"
#include "app/smart_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"

/* scheme://authority of the request ("" when unknown). */
static void origin(const struct mc__api_request *req, char *out, size_t cap) {
    const char *t = req->target_uri;
    const char *h = t ? strstr(t, "://") : NULL;
    if (!h) {
        snprintf(out, cap, "http://%s:%u", req->local_host ? req->local_host : "localhost", (unsigned)req->local_port);
        return;
    }
    size_t n = (size_t)(h + 3 - t) + strcspn(h + 3, "/?#");
    snprintf(out, cap, "%.*s", (int)n, t);
}

static const char *const scopes_supported[] = {
    "system/*.rs", "system/*.read", "system/Patient.rs", "system/Observation.rs", "system/Condition.rs",
    "system/Encounter.rs", "system/AllergyIntolerance.rs", "system/MedicationStatement.rs",
    "system/DiagnosticReport.rs", "system/DocumentReference.rs", "system/Immunization.rs", "system/Claim.rs",
    "system/ExplanationOfBenefit.rs", "system/Provenance.rs", "system/Practitioner.rs", "system/Organization.rs",
    "system/Location.rs", "system/Binary.r", "system/AuditEvent.rs", "system/Consent.rs", NULL};

void mc__api_smart_configuration(struct mc_node *node, const char *param, const struct mc__api_request *req,
                                 struct mc__api_response *res) {
    char o[300], token[340];
    origin(req, o, sizeof o);
    snprintf(token, sizeof token, "%s/auth/token", o);
    json_t *scopes = json_array();
    for (size_t i = 0; scopes_supported[i]; i++) json_array_append_new(scopes, json_string(scopes_supported[i]));
    json_t *body = json_pack(
        "{s:s, s:[s], s:[s, s], s:[s], s:o, s:[s, s, s], s:s}", "token_endpoint", token,
        "token_endpoint_auth_methods_supported", "private_key_jwt", "token_endpoint_auth_signing_alg_values_supported",
        "EdDSA", "ES384", "grant_types_supported", "client_credentials", "scopes_supported", scopes, "capabilities",
        "client-confidential-asymmetric", "permission-v2", "permission-v1", "registration_endpoint_documentation",
        "a member registers a system client with a smart_client transaction (docs/SMART.md)");
    mc__reply_ok(res, 200, body);
}

/* ---- the token endpoint ---- */

static void oauth_error(struct mc__api_response *res, unsigned status, const char *code, const char *desc) {
    json_decref(res->body);
    res->status = status;
    res->body = json_pack("{s:s, s:s}", "error", code, "error_description", desc);
}

struct form {
    char grant_type[64], assertion_type[96], scope[MC_SMART_SCOPE_MAX + 1];
    char assertion[MC_SMART_ASSERTION_MAX + 1];
    bool has_grant, has_atype, has_assertion, has_scope;
};

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes (and '+' to space) p[0..n) into out (cap with NUL). */
static bool form_value(const char *p, size_t n, char *out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            if (i + 2 >= n) return false;
            int hi = hexval(p[i + 1]), lo = hexval(p[i + 2]);
            if (hi < 0 || lo < 0) return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == 0 || k + 1 >= cap) return false;
        out[k++] = c;
    }
    out[k] = 0;
    return true;
}

static const char *form_parse(struct form *f, const uint8_t *body, size_t len) {
    memset(f, 0, sizeof *f);
    const char *p = (const char *)body, *end = p + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq) {
            size_t nn = (size_t)(eq - p);
            char *out = NULL;
            size_t cap = 0;
            bool *seen = NULL;
            if (nn == 10 && memcmp(p, "grant_type", nn) == 0) out = f->grant_type, cap = sizeof f->grant_type, seen = &f->has_grant;
            else if (nn == 21 && memcmp(p, "client_assertion_type", nn) == 0)
                out = f->assertion_type, cap = sizeof f->assertion_type, seen = &f->has_atype;
            else if (nn == 16 && memcmp(p, "client_assertion", nn) == 0)
                out = f->assertion, cap = sizeof f->assertion, seen = &f->has_assertion;
            else if (nn == 5 && memcmp(p, "scope", nn) == 0) out = f->scope, cap = sizeof f->scope, seen = &f->has_scope;
            if (out) {
                if (*seen) return "a parameter is sent more than once";
                if (!form_value(eq + 1, (size_t)(e - eq - 1), out, cap)) return "a parameter is too long or badly encoded";
                *seen = true;
            }
        }
        p = amp ? amp + 1 : end;
    }
    return NULL;
}

struct q_client {
    const char *id;
    bool found, owner_found;
    struct mc_smart_client c;
    struct mc_account owner;
};

static int q_client(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_client *q = ctx;
    q->found = mc_smart_get_client(mc_app_state(app), q->id, &q->c) == 0;
    q->owner_found = q->found && mc_identity_get_account(mc_app_state(app), &q->c.owner, &q->owner) == 0;
    return 0;
}

/* A refusal of a client the ledger knows, with a verified, fresh, unused
 * assertion: logged as its owner's access entry (action token). */
static void refuse_logged(struct mc_node *node, struct mc__api_response *res, const struct q_client *q,
                          const struct form *f, unsigned status, const char *code, const char *desc) {
    struct mc__gate g;
    memset(&g, 0, sizeof g);
    mc_buf_init(&g.v.base, 0);
    mc_buf_append(&g.v.base, f->assertion, strlen(f->assertion));
    g.v.key = q->c.owner;
    g.known = true;
    char why[MC_REASON_MAX + 1];
    snprintf(why, sizeof why, "token refused (client %s): %s: %s", q->c.id, code, desc);
    struct mc__gate_access a = {.action = MC_ACTION_TOKEN, .outcome = MC_OUTCOME_REFUSED, .status = (uint16_t)status,
                                .reason = why};
    mc_hash txid;
    if (mc__gate_log_access(node, &g, &a, &txid) == 0) mc_hex_encode(res->access_tx, txid.b, 32);
    mc_buf_deinit(&g.v.base);
    oauth_error(res, status, code, desc);
}

/* A refusal without a known client (or of an assertion that did not
 * verify, was stale or replayed): counted, not logged on its own. */
static void refuse_counted(struct mc_node *node, const struct mc__api_request *req, struct mc__api_response *res,
                           unsigned status, const char *code, const char *desc) {
    mc__gate_count_refusal(node, req->client_addr, status);
    oauth_error(res, status, code, desc);
}

/* A token's lifetime: MC_SMART_TOKEN_TTL_MS, or shorter when
 * $MEDCHAIN_SMART_TOKEN_TTL_S says so (1 to 300 seconds). */
static int64_t token_ttl_ms(void) {
    const char *v = getenv("MEDCHAIN_SMART_TOKEN_TTL_S");
    char *end;
    long s = v ? strtol(v, &end, 10) : 0;
    if (v && *end == 0 && s >= 1 && (uint64_t)s * 1000 <= MC_SMART_TOKEN_TTL_MS) return (int64_t)s * 1000;
    return (int64_t)MC_SMART_TOKEN_TTL_MS;
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mc__api_smart_token(struct mc_node *node, const char *param, const struct mc__api_request *req,
                         struct mc__api_response *res) {
    if (mc__gate_throttled(req->client_addr)) {
        oauth_error(res, 429, "invalid_request", "too many refused requests from this address; retry later");
        return;
    }
    if (!req->secure) {
        refuse_counted(node, req, res, 403, "invalid_request", "tokens are issued only over TLS (or on loopback)");
        return;
    }
    if (!req->content_type || strncasecmp(req->content_type, "application/x-www-form-urlencoded", 33) != 0) {
        refuse_counted(node, req, res, 400, "invalid_request", "send the token request as application/x-www-form-urlencoded");
        return;
    }
    struct form *f = malloc(sizeof *f);
    if (!f) {
        oauth_error(res, 503, "temporarily_unavailable", "out of memory");
        return;
    }
    const char *bad = form_parse(f, req->body, req->body_len);
    struct q_client q = {.id = ""};
    if (bad) {
        refuse_counted(node, req, res, 400, "invalid_request", bad);
        goto out;
    }
    if (!f->has_grant || strcmp(f->grant_type, "client_credentials") != 0) {
        refuse_counted(node, req, res, 400, f->has_grant ? "unsupported_grant_type" : "invalid_request",
                       "grant_type must be client_credentials");
        goto out;
    }
    if (!f->has_atype || strcmp(f->assertion_type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") != 0 ||
        !f->has_assertion) {
        refuse_counted(node, req, res, 400, "invalid_request",
                       "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer, with a client_assertion");
        goto out;
    }
    if (!f->has_scope || !f->scope[0]) {
        refuse_counted(node, req, res, 400, "invalid_request", "scope is required (e.g. system/Observation.rs)");
        goto out;
    }
    struct mc_smart_assertion a;
    size_t auds;
    size_t alen = strlen(f->assertion);
    if (mc_smart_assertion_parse(&a, f->assertion, alen, &auds)) {
        refuse_counted(node, req, res, 401, "invalid_client", mc_err_detail());
        goto out;
    }
    if (strcmp(a.iss, a.sub) != 0) {
        refuse_counted(node, req, res, 401, "invalid_client", "the assertion's iss and sub must both be the client id");
        goto out;
    }
    q.id = a.iss;
    if (mc_node_query(node, q_client, &q)) {
        oauth_error(res, 503, "temporarily_unavailable", "the node could not run the query");
        goto out;
    }
    if (!q.found || !q.owner_found) {
        refuse_counted(node, req, res, 401, "invalid_client", "no client of that id is registered on the ledger");
        goto out;
    }
    if (mc_smart_assertion_verify(&a, f->assertion, &q.c)) {
        refuse_counted(node, req, res, 401, "invalid_client", mc_err_detail());
        goto out;
    }
    char want[340], o[300];
    origin(req, o, sizeof o);
    snprintf(want, sizeof want, "%s/auth/token", o);
    if (auds != 1 || strcmp(a.aud, want) != 0) {
        char why[500];
        snprintf(why, sizeof why, "the assertion's aud must be this token endpoint, %s", want);
        refuse_counted(node, req, res, 401, "invalid_client", why);
        goto out;
    }
    int64_t now_ms = wall_ms(), now_s = now_ms / 1000;
    if (a.exp <= now_s || a.exp > now_s + MC_SMART_ASSERTION_TTL_S) {
        refuse_counted(node, req, res, 401, "invalid_client",
                       a.exp <= now_s ? "the client assertion has expired"
                                      : "the client assertion's exp is more than five minutes ahead");
        goto out;
    }
    int jr = mc__smart_jti_use(q.c.id, a.jti, a.exp, now_s);
    if (jr == MC_ERR_EXISTS) {
        refuse_counted(node, req, res, 401, "invalid_client", "the client assertion was used before (replayed jti)");
        goto out;
    }
    if (jr) {
        oauth_error(res, 503, "temporarily_unavailable", "too many recent client assertions; retry");
        goto out;
    }
    /* From here on the assertion is the client's own, fresh and unused:
     * refusals go on the ledger. */
    if (q.c.revoked_height) {
        refuse_logged(node, res, &q, f, 401, "invalid_client", "the client was revoked");
        goto out;
    }
    if (q.owner.status != MC_ACCOUNT_ACTIVE) {
        refuse_logged(node, res, &q, f, 401, "invalid_client", "the client's owner is not an active member");
        goto out;
    }
    struct mc_smart_scope asked[MC_SMART_SCOPES_MAX], granted[MC_SMART_SCOPES_MAX];
    size_t na, ng = 0, dropped;
    if (mc_smart_scopes_parse(f->scope, asked, MC_SMART_SCOPES_MAX, &na, &dropped)) {
        refuse_logged(node, res, &q, f, 400, "invalid_scope", mc_err_detail());
        goto out;
    }
    for (size_t i = 0; i < na; i++)
        if (mc_smart_role_allows(q.owner.role, asked[i].type)) granted[ng++] = asked[i];
    if (ng == 0) {
        char why[200];
        snprintf(why, sizeof why, "no scope asked for is a system read scope a %s may hold",
                 mc_role_name(q.owner.role));
        refuse_logged(node, res, &q, f, 400, "invalid_scope", why);
        goto out;
    }
    struct mc__smart_token *t = calloc(1, sizeof *t);
    if (!t) {
        oauth_error(res, 503, "temporarily_unavailable", "out of memory");
        goto out;
    }
    t->node = node;
    snprintf(t->client, sizeof t->client, "%s", q.c.id);
    t->owner = q.c.owner;
    snprintf(t->jti, sizeof t->jti, "%s", a.jti);
    memcpy(t->scopes, granted, ng * sizeof granted[0]);
    t->nscopes = ng;
    int64_t ttl = token_ttl_ms();
    t->expiry_ms = now_ms + ttl;
    mc_sha256(&t->assertion, f->assertion, alen);
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    char token[64];
    sodium_bin2base64(token, sizeof token, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    mc_sha256(&t->token_hash, token, strlen(token));
    struct mc_smart_payload *p = calloc(1, sizeof *p);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = p ? 0 : MC_ERR_NOMEM;
    if (p) {
        p->type = MC_TX_SMART_TOKEN;
        snprintf(p->client, sizeof p->client, "%s", q.c.id);
        p->assertion = (const uint8_t *)f->assertion;
        p->assertion_len = alen;
        mc_smart_scopes_format(granted, ng, p->scope);
        p->expiry_ms = (uint64_t)t->expiry_ms;
        rc = mc_smart_payload_encode(&b, p);
    }
    char granted_text[MC_SMART_SCOPE_MAX + 1];
    mc_smart_scopes_format(granted, ng, granted_text);
    if (rc == 0) rc = mc_node_submit_signed(node, MC_TX_SMART_TOKEN, b.data, b.len, &t->tx);
    mc_buf_deinit(&b);
    free(p);
    if (rc == MC_ERR_EXISTS) {
        refuse_counted(node, req, res, 401, "invalid_client", "the client assertion's jti was used before on the ledger");
    } else if (rc) {
        char why[300];
        snprintf(why, sizeof why, "the token could not be logged, so none is issued: %s", mc_err_detail());
        refuse_logged(node, res, &q, f, 503, "temporarily_unavailable", why);
    } else if (mc__smart_token_put(t, now_ms)) {
        refuse_logged(node, res, &q, f, 503, "temporarily_unavailable", "the node holds too many live tokens; retry");
    } else {
        char txh[65];
        mc_hex_encode(txh, t->tx.b, 32);
        mc__reply_ok(res, 200,
                     json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", token, "token_type", "bearer", "expires_in",
                               (json_int_t)(ttl / 1000), "scope", granted_text, "medchain_token_tx", txh));
    }
    sodium_memzero(token, sizeof token);
    free(t);
out:
    sodium_memzero(f, sizeof *f);
    free(f);
}
