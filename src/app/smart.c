/* SMART Backend Services on the ledger (see smart.h). */
#include "app/smart.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/identity.h"
#include "app/records.h"
#include "app/row.h"
#include "app/smart_payload.h"
#include "app/txtypes.h"
#include "base/assert.h"
#include "base/hex.h"
#include "crypto/es384.h"

const char *mc_smart_alg_name(uint8_t alg) {
    return alg == MC_SMART_ALG_EDDSA ? "EdDSA" : alg == MC_SMART_ALG_ES384 ? "ES384" : NULL;
}

size_t mc_smart_alg_key_len(uint8_t alg) {
    return alg == MC_SMART_ALG_EDDSA ? 32 : alg == MC_SMART_ALG_ES384 ? MC_ES384_KEY_BYTES : 0;
}

bool mc_smart_key_valid(uint8_t alg, const uint8_t *key, size_t len) {
    if (len == 0 || len != mc_smart_alg_key_len(alg)) return false;
    if (alg == MC_SMART_ALG_EDDSA) return crypto_core_ed25519_is_valid_point(key) == 1;
    return mc_es384_key_valid(key);
}

bool mc_smart_client_id_valid(const char *id) {
    size_t n = 0;
    for (; id && id[n]; n++) {
        char c = id[n];
        if (n >= MC_SMART_CLIENT_ID_MAX) return false;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '_'))
            return false;
    }
    return n > 0;
}

/* ---- rows ---- */

static void client_key(struct mc_key *k, const char *id) {
    mc_key_init(k, "kc/");
    mc_key_str(k, id);
}

static int put_client(struct mc_state *st, const struct mc_smart_client *c) {
    struct mc_key k;
    client_key(&k, c->id);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_fixed(&v, c->owner.b, 32);
    mc_enc_u8(&v, c->alg);
    mc_enc_bytes8(&v, c->key, c->key_len);
    mc_enc_str8(&v, c->name);
    mc_enc_u64(&v, c->height);
    mc_enc_u64(&v, c->revoked_height);
    return mc_row_put(st, &k, &v);
}

int mc_smart_get_client(struct mc_state *st, const char *id, struct mc_smart_client *out) {
    memset(out, 0, sizeof *out);
    if (!mc_smart_client_id_valid(id)) return MC_ERR_NOT_FOUND;
    struct mc_key k;
    client_key(&k, id);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    snprintf(out->id, sizeof out->id, "%s", id);
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    mc_dec_fixed(&d, out->owner.b, 32);
    out->alg = mc_dec_u8(&d);
    size_t kn = 0;
    const uint8_t *kb = mc_dec_bytes8(&d, &kn, MC_SMART_KEY_MAX);
    if (kb && kn && kn == mc_smart_alg_key_len(out->alg)) {
        memcpy(out->key, kb, kn);
        out->key_len = kn;
    } else {
        mc_dec_fail(&d, MC_ERR_MALFORMED);
    }
    mc_dec_str8(&d, out->name, sizeof out->name);
    out->height = mc_dec_u64(&d);
    out->revoked_height = mc_dec_u64(&d);
    return mc_row_finish(&d, &v, "SMART client row");
}

static void token_key(struct mc_key *k, const mc_hash *tx) {
    mc_key_init(k, "kt/");
    mc_key_add(k, tx->b, 32);
}

int mc_smart_get_token(struct mc_state *st, const mc_hash *tx, struct mc_smart_token *out) {
    memset(out, 0, sizeof *out);
    struct mc_key k;
    token_key(&k, tx);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    out->tx = *tx;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    mc_dec_str8(&d, out->client, sizeof out->client);
    mc_dec_fixed(&d, out->owner.b, 32);
    mc_dec_str8(&d, out->jti, sizeof out->jti);
    mc_dec_str16(&d, out->scope, sizeof out->scope);
    out->expiry_ms = mc_dec_u64(&d);
    mc_dec_fixed(&d, out->assertion.b, 32);
    out->height = mc_dec_u64(&d);
    return mc_row_finish(&d, &v, "SMART token row");
}

/* ---- assertions ---- */

/* Decodes base64url without padding into a NUL-terminated heap string. */
static char *b64url_text(const char *p, size_t n, size_t *out_len) {
    size_t cap = n / 4 * 3 + 3;
    char *out = malloc(cap + 1);
    if (!out) return NULL;
    size_t len = 0;
    const char *end = NULL;
    if (sodium_base642bin((unsigned char *)out, cap, p, n, NULL, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
        end != p + n) {
        free(out);
        return NULL;
    }
    out[len] = 0;
    if (strlen(out) != len) { /* a NUL inside */
        free(out);
        return NULL;
    }
    *out_len = len;
    return out;
}

static json_t *b64url_json(const char *p, size_t n) {
    size_t len;
    char *text = b64url_text(p, n, &len);
    if (!text) return NULL;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static int claim_str(json_t *o, const char *name, char *out, size_t cap) {
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap ||
        strlen(json_string_value(v)) != json_string_length(v))
        return mc_err_set(MC_ERR_MALFORMED, "the assertion's %s is not a string of 1 to %zu characters", name,
                          cap - 1);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

int mc_smart_assertion_parse(struct mc_smart_assertion *out, const char *jws, size_t n, size_t *aud_count) {
    memset(out, 0, sizeof *out);
    *aud_count = 0;
    if (n == 0 || n > MC_SMART_ASSERTION_MAX)
        return mc_err_set(MC_ERR_MALFORMED, "the client assertion is empty or longer than %d bytes",
                          MC_SMART_ASSERTION_MAX);
    if (memchr(jws, 0, n)) return mc_err_set(MC_ERR_MALFORMED, "the client assertion holds a NUL byte");
    const char *d1 = memchr(jws, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - jws)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - jws)))
        return mc_err_set(MC_ERR_MALFORMED, "the client assertion is not a compact JWS (three parts)");
    json_t *h = b64url_json(jws, (size_t)(d1 - jws));
    json_t *c = b64url_json(d1 + 1, (size_t)(d2 - d1 - 1));
    int rc = 0;
    if (!h || !c) {
        rc = mc_err_set(MC_ERR_MALFORMED, "the client assertion's header or claims are not base64url JSON objects");
        goto out;
    }
    if ((rc = claim_str(h, "alg", out->alg, sizeof out->alg))) goto out;
    if (json_object_get(h, "crit")) {
        rc = mc_err_set(MC_ERR_MALFORMED, "the client assertion names critical header parameters");
        goto out;
    }
    if ((rc = claim_str(c, "iss", out->iss, sizeof out->iss)) || (rc = claim_str(c, "sub", out->sub, sizeof out->sub)) ||
        (rc = claim_str(c, "jti", out->jti, sizeof out->jti)))
        goto out;
    json_t *aud = json_object_get(c, "aud");
    if (json_is_array(aud) && json_array_size(aud) > 0 && json_array_size(aud) <= 8) {
        for (size_t i = 0; i < json_array_size(aud); i++)
            if (!json_is_string(json_array_get(aud, i))) aud = NULL;
        if (aud) {
            json_t *one = json_object();
            json_object_set(one, "aud", json_array_get(aud, 0));
            rc = claim_str(one, "aud", out->aud, sizeof out->aud);
            json_decref(one);
            if (rc) goto out;
            *aud_count = json_array_size(aud);
        }
    } else if (json_is_string(aud)) {
        if ((rc = claim_str(c, "aud", out->aud, sizeof out->aud))) goto out;
        *aud_count = 1;
    } else {
        aud = NULL;
    }
    if (!*aud_count) {
        rc = mc_err_set(MC_ERR_MALFORMED, "the client assertion's aud is not a string or a list of strings");
        goto out;
    }
    json_t *exp = json_object_get(c, "exp");
    if (!json_is_integer(exp) || json_integer_value(exp) <= 0) {
        rc = mc_err_set(MC_ERR_MALFORMED, "the client assertion's exp is not a positive integer");
        goto out;
    }
    out->exp = json_integer_value(exp);
    size_t slen = 0;
    const char *end = NULL;
    if (sodium_base642bin(out->sig, sizeof out->sig, d2 + 1, n - (size_t)(d2 + 1 - jws), NULL, &slen, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
        end != jws + n || slen == 0) {
        rc = mc_err_set(MC_ERR_MALFORMED, "the client assertion's signature is not base64url");
        goto out;
    }
    out->sig_len = slen;
    out->signing_len = (size_t)(d2 - jws);
out:
    json_decref(h);
    json_decref(c);
    return rc;
}

int mc_smart_assertion_verify(const struct mc_smart_assertion *a, const char *jws, const struct mc_smart_client *c) {
    const char *alg = mc_smart_alg_name(c->alg);
    if (!alg || strcmp(alg, a->alg) != 0)
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "the assertion is signed with %s; the client registered %s", a->alg,
                          alg ? alg : "another algorithm");
    bool ok;
    if (c->alg == MC_SMART_ALG_EDDSA) {
        mc_pubkey pk;
        memcpy(pk.b, c->key, 32);
        ok = a->sig_len == MC_SIG_BYTES && mc_ed25519_verify_raw(a->sig, &pk, (const uint8_t *)jws, a->signing_len) == 0;
    } else {
        ok = a->sig_len == MC_ES384_SIG_BYTES &&
             mc_es384_verify(c->key, (const uint8_t *)jws, a->signing_len, a->sig) == 0;
    }
    if (!ok)
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "the client assertion's signature does not verify under the client's key");
    return 0;
}

/* ---- scopes ---- */

bool mc_smart_role_allows(uint8_t role, const char *type) {
    bool any = strcmp(type, "*") == 0;
    if (role == MC_ROLE_CLINICIAN) return any || mc_records_type_from_name(type) != 0;
    if (role == MC_ROLE_AUDITOR) return any || strcmp(type, "AuditEvent") == 0 || strcmp(type, "Consent") == 0;
    return false;
}

static int scope_one(const char *s, size_t n, struct mc_smart_scope *out, bool *keep) {
    *keep = false;
    memset(out, 0, sizeof *out);
    const char *slash = memchr(s, '/', n);
    if (!slash) return 0; /* launch, openid, fhirUser, offline_access ... */
    size_t ctx = (size_t)(slash - s);
    if (!(ctx == 6 && memcmp(s, "system", 6) == 0)) return 0; /* patient/, user/ */
    const char *rest = slash + 1;
    size_t rn = n - ctx - 1;
    const char *dot = memchr(rest, '.', rn);
    if (!dot) return mc_err_set(MC_ERR_MALFORMED, "scope '%.*s' names no permissions", (int)n, s);
    size_t tn = (size_t)(dot - rest), pn = rn - tn - 1;
    if (tn == 0 || tn >= sizeof out->type) return mc_err_set(MC_ERR_MALFORMED, "scope '%.*s' names no type", (int)n, s);
    for (size_t i = 0; i < tn; i++) {
        char c = rest[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (tn == 1 && c == '*')))
            return mc_err_set(MC_ERR_MALFORMED, "scope '%.*s' names no resource type", (int)n, s);
    }
    memcpy(out->type, rest, tn);
    const char *p = dot + 1;
    /* a query suffix (SMART v2 "?category=...") narrows further: not served */
    if (memchr(p, '?', pn)) return mc_err_set(MC_ERR_MALFORMED, "scope '%.*s': query-narrowed scopes are not supported", (int)n, s);
    uint8_t perms = 0;
    if ((pn == 4 && memcmp(p, "read", 4) == 0) || (pn == 1 && p[0] == '*')) {
        perms = MC_SMART_PERM_READ | MC_SMART_PERM_SEARCH;
    } else if (pn == 5 && memcmp(p, "write", 5) == 0) {
        perms = 0;
    } else {
        static const char order[] = "cruds";
        size_t at = 0;
        if (pn == 0) return mc_err_set(MC_ERR_MALFORMED, "scope '%.*s' names no permissions", (int)n, s);
        for (size_t i = 0; i < pn; i++) {
            const char *f = strchr(order + at, p[i]);
            if (!p[i] || !f) return mc_err_set(MC_ERR_MALFORMED, "scope '%.*s': permissions are c r u d s in that order", (int)n, s);
            at = (size_t)(f - order) + 1;
            if (p[i] == 'r') perms |= MC_SMART_PERM_READ;
            if (p[i] == 's') perms |= MC_SMART_PERM_SEARCH;
        }
    }
    out->perms = perms;
    *keep = perms != 0;
    return 0;
}

int mc_smart_scopes_parse(const char *s, struct mc_smart_scope *out, size_t max, size_t *n, size_t *dropped) {
    *n = 0;
    *dropped = 0;
    if (!s || strlen(s) > MC_SMART_SCOPE_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "the scope is missing or longer than %d characters", MC_SMART_SCOPE_MAX);
    const char *p = s;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        size_t len = strcspn(p, " ");
        struct mc_smart_scope one;
        bool keep;
        int rc = scope_one(p, len, &one, &keep);
        if (rc) return rc;
        if (keep) {
            bool dup = false;
            for (size_t i = 0; i < *n; i++)
                if (strcmp(out[i].type, one.type) == 0) {
                    out[i].perms |= one.perms;
                    dup = true;
                }
            if (!dup) {
                if (*n == max) return mc_err_set(MC_ERR_TOO_LARGE, "more than %zu scopes", max);
                out[(*n)++] = one;
            }
        } else {
            (*dropped)++;
        }
        p += len;
    }
    return 0;
}

void mc_smart_scopes_format(const struct mc_smart_scope *s, size_t n, char *out) {
    size_t at = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char one[64];
        int k = snprintf(one, sizeof one, "%ssystem/%s.%s%s", i ? " " : "", s[i].type,
                         s[i].perms & MC_SMART_PERM_READ ? "r" : "", s[i].perms & MC_SMART_PERM_SEARCH ? "s" : "");
        if (k < 0 || at + (size_t)k > MC_SMART_SCOPE_MAX) break;
        memcpy(out + at, one, (size_t)k + 1);
        at += (size_t)k;
    }
}

/* ---- bearer text ---- */

static const char bearer_tag[] = "medchain-smart-bearer\n";

bool mc_smart_bearer_is(const uint8_t *base, size_t n) {
    return n >= sizeof bearer_tag - 1 && memcmp(base, bearer_tag, sizeof bearer_tag - 1) == 0;
}

size_t mc_smart_bearer_format(char *out, const char *client, const char *jti, const mc_hash *token_tx,
                              const mc_hash *assertion) {
    char tx[65], ah[65];
    mc_hex_encode(tx, token_tx->b, 32);
    mc_hex_encode(ah, assertion->b, 32);
    int k = snprintf(out, MC_SIGBASE_MAX, "%sclient: %s\njti: %s\ntoken-tx: %s\nassertion-sha256: %s\n", bearer_tag,
                     client, jti, tx, ah);
    MC_ASSERT(k > 0 && k < MC_SIGBASE_MAX);
    return (size_t)k;
}

/* Reads "name: value\n" at *p into out (cap with NUL); advances *p. */
static bool bearer_field(const char **p, const char *end, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    if ((size_t)(end - *p) < nl + 2 || memcmp(*p, name, nl) != 0 || (*p)[nl] != ':' || (*p)[nl + 1] != ' ')
        return false;
    const char *v = *p + nl + 2;
    const char *eol = memchr(v, '\n', (size_t)(end - v));
    if (!eol || eol == v || (size_t)(eol - v) >= cap) return false;
    memcpy(out, v, (size_t)(eol - v));
    out[eol - v] = 0;
    if (strlen(out) != (size_t)(eol - v)) return false;
    *p = eol + 1;
    return true;
}

int mc_smart_bearer_parse(const uint8_t *base, size_t n, char client[MC_SMART_CLIENT_ID_MAX + 1],
                          char jti[MC_SMART_JTI_MAX + 1], mc_hash *token_tx, mc_hash *assertion) {
    if (!mc_smart_bearer_is(base, n)) return mc_err_set(MC_ERR_MALFORMED, "not a bearer access text");
    const char *p = (const char *)base + sizeof bearer_tag - 1, *end = (const char *)base + n;
    char tx[66], ah[66];
    if (!bearer_field(&p, end, "client", client, MC_SMART_CLIENT_ID_MAX + 1) ||
        !bearer_field(&p, end, "jti", jti, MC_SMART_JTI_MAX + 1) || !bearer_field(&p, end, "token-tx", tx, sizeof tx) ||
        !bearer_field(&p, end, "assertion-sha256", ah, sizeof ah) || p != end || strlen(tx) != 64 ||
        strlen(ah) != 64 || mc_hex_decode(token_tx->b, 32, tx) || mc_hex_decode(assertion->b, 32, ah))
        return mc_err_set(MC_ERR_MALFORMED, "the bearer access text does not parse");
    /* one text per entry: only the canonical form (lower-case hex) */
    char again[MC_SIGBASE_MAX];
    size_t k = mc_smart_bearer_format(again, client, jti, token_tx, assertion);
    if (k != n || memcmp(again, base, n) != 0) return mc_err_set(MC_ERR_MALFORMED, "the bearer access text is not canonical");
    return 0;
}

int mc_smart_bearer_check(struct mc_state *st, const uint8_t *base, size_t n, const mc_pubkey *requester,
                          uint64_t time_ms) {
    char client[MC_SMART_CLIENT_ID_MAX + 1], jti[MC_SMART_JTI_MAX + 1];
    mc_hash tx, ah;
    if (mc_smart_bearer_parse(base, n, client, jti, &tx, &ah))
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "the access entry's bearer text does not parse");
    struct mc_smart_token t;
    int rc = mc_smart_get_token(st, &tx, &t);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_BAD_SIGNATURE, "the bearer text names no token on the ledger");
    if (rc) return rc;
    if (strcmp(t.client, client) || strcmp(t.jti, jti) || memcmp(t.assertion.b, ah.b, 32) ||
        memcmp(t.owner.b, requester->b, 32))
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "the bearer text does not match the token it names");
    if (time_ms > t.expiry_ms + MC_SMART_LEDGER_SLACK_MS)
        return mc_err_set(MC_ERR_STATE, "the token had expired before this block");
    struct mc_smart_client c;
    if ((rc = mc_smart_get_client(st, client, &c))) return rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc;
    if (c.revoked_height) return mc_err_set(MC_ERR_FORBIDDEN, "the token's client was revoked");
    return 0;
}

/* ---- execution ---- */

static int exec_client(struct mc_exec *ex, const struct mc_smart_payload *p) {
    const struct mc_account *s = &ex->sender;
    if (s->org == 0 || s->role == MC_ROLE_NODE || s->role == MC_ROLE_PATIENT || s->status != MC_ACCOUNT_ACTIVE)
        return mc_err_set(MC_ERR_FORBIDDEN, "only an active member of an organisation registers a system client");
    if (!mc_smart_client_id_valid(p->client))
        return mc_err_set(MC_ERR_INVALID, "a client id is 1 to %d of letters, digits, '-', '.', '_'", MC_SMART_CLIENT_ID_MAX);
    if (!mc_smart_alg_name(p->alg) || p->key_len != mc_smart_alg_key_len(p->alg))
        return mc_err_set(MC_ERR_INVALID,
                          "a client key is an Ed25519 key (alg EdDSA, 32 bytes) or a P-384 point (alg ES384, 97 bytes)");
    if (!mc_smart_key_valid(p->alg, p->key, p->key_len))
        return mc_err_set(MC_ERR_INVALID, "the client key is not a valid %s public key", mc_smart_alg_name(p->alg));
    struct mc_smart_client c;
    int rc = mc_smart_get_client(ex->st, p->client, &c);
    if (rc == 0) return mc_err_set(MC_ERR_EXISTS, "client '%s' is already registered", p->client);
    if (rc != MC_ERR_NOT_FOUND) return rc;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", p->client);
    c.owner = s->key;
    c.alg = p->alg;
    memcpy(c.key, p->key, p->key_len);
    c.key_len = p->key_len;
    snprintf(c.name, sizeof c.name, "%s", p->name);
    c.height = ex->height;
    return put_client(ex->st, &c);
}

static int exec_revoke(struct mc_exec *ex, const struct mc_smart_payload *p) {
    struct mc_smart_client c;
    int rc = mc_smart_get_client(ex->st, p->client, &c);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_NOT_FOUND, "no client '%s'", p->client);
    if (rc) return rc;
    if (c.revoked_height) return mc_err_set(MC_ERR_STATE, "client '%s' is already revoked", p->client);
    bool owner = memcmp(c.owner.b, ex->sender.key.b, 32) == 0;
    if (!owner) {
        struct mc_account o;
        if ((rc = mc_identity_get_account(ex->st, &c.owner, &o))) return rc;
        if (ex->sender.role != MC_ROLE_ADMIN || ex->sender.org != o.org)
            return mc_err_set(MC_ERR_FORBIDDEN, "only the client's owner or an admin of its organisation revokes it");
    }
    c.revoked_height = ex->height;
    return put_client(ex->st, &c);
}

static int exec_token(struct mc_exec *ex, const struct mc_smart_payload *p) {
    if (ex->sender.role != MC_ROLE_NODE) return mc_err_set(MC_ERR_FORBIDDEN, "a token entry is signed by a node");
    struct mc_smart_client c;
    int rc = mc_smart_get_client(ex->st, p->client, &c);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_NOT_FOUND, "no client '%s'", p->client);
    if (rc) return rc;
    if (c.revoked_height) return mc_err_set(MC_ERR_FORBIDDEN, "client '%s' is revoked", p->client);
    struct mc_account o;
    if (mc_identity_get_account(ex->st, &c.owner, &o) || o.status != MC_ACCOUNT_ACTIVE)
        return mc_err_set(MC_ERR_FORBIDDEN, "the client's owner is not an active member");
    char *jws = malloc(p->assertion_len + 1);
    if (!jws) return MC_ERR_NOMEM;
    memcpy(jws, p->assertion, p->assertion_len);
    jws[p->assertion_len] = 0;
    struct mc_smart_assertion a;
    size_t auds;
    rc = mc_smart_assertion_parse(&a, jws, p->assertion_len, &auds);
    if (rc == 0) rc = mc_smart_assertion_verify(&a, jws, &c);
    free(jws);
    if (rc) return rc;
    if (strcmp(a.iss, c.id) || strcmp(a.sub, c.id))
        return mc_err_set(MC_ERR_INVALID, "the assertion's iss and sub must be the client id");
    uint64_t exp_ms = (uint64_t)a.exp * 1000;
    if (ex->time_ms > exp_ms + MC_SMART_LEDGER_SLACK_MS)
        return mc_err_set(MC_ERR_STATE, "the assertion had expired before this block");
    if (p->expiry_ms > exp_ms + MC_SMART_TOKEN_TTL_MS)
        return mc_err_set(MC_ERR_INVALID, "a token lives at most %llu ms after its assertion's exp",
                          (unsigned long long)MC_SMART_TOKEN_TTL_MS);
    struct mc_smart_scope sc[MC_SMART_SCOPES_MAX];
    size_t n, dropped;
    if ((rc = mc_smart_scopes_parse(p->scope, sc, MC_SMART_SCOPES_MAX, &n, &dropped))) return rc;
    if (n == 0 || dropped) return mc_err_set(MC_ERR_INVALID, "a token grants one or more system read scopes");
    for (size_t i = 0; i < n; i++)
        if (!mc_smart_role_allows(o.role, sc[i].type))
            return mc_err_set(MC_ERR_FORBIDDEN, "a %s may not hold scope system/%s", mc_role_name(o.role), sc[i].type);
    /* the assertion's id serves once, chain-wide */
    struct mc_buf jk;
    mc_buf_init(&jk, 0);
    mc_enc_str8(&jk, c.id);
    mc_enc_str8(&jk, a.jti);
    mc_hash jh;
    mc_sha256(&jh, jk.data, jk.len);
    mc_buf_deinit(&jk);
    rc = mc_row_use_once(ex->st, "kj/", &jh, ex->height);
    if (rc == MC_ERR_EXISTS) return mc_err_set(MC_ERR_EXISTS, "the assertion's jti was used before");
    if (rc) return rc;
    struct mc_key k;
    token_key(&k, &ex->tx_id);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_hash ah;
    mc_sha256(&ah, p->assertion, p->assertion_len);
    mc_enc_str8(&v, c.id);
    mc_enc_fixed(&v, c.owner.b, 32);
    mc_enc_str8(&v, a.jti);
    mc_enc_str16(&v, p->scope);
    mc_enc_u64(&v, p->expiry_ms);
    mc_enc_fixed(&v, ah.b, 32);
    mc_enc_u64(&v, ex->height);
    return mc_row_put(ex->st, &k, &v);
}

int mc_smart_execute(struct mc_exec *ex) {
    struct mc_smart_payload *p = malloc(sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    int rc = mc_smart_payload_decode(p, ex->tx->type, ex->tx->payload, ex->tx->payload_len);
    if (rc == 0) {
        switch (ex->tx->type) {
        case MC_TX_SMART_CLIENT: rc = exec_client(ex, p); break;
        case MC_TX_SMART_CLIENT_REVOKE: rc = exec_revoke(ex, p); break;
        case MC_TX_SMART_TOKEN: rc = exec_token(ex, p); break;
        default: rc = mc_err_set(MC_ERR_INVALID, "not a SMART transaction"); break;
        }
    }
    free(p);
    return rc;
}
