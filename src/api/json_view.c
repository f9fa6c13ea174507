/* JSON views of ledger objects and the API's pure helpers; see json_view.h.
 *
 * Views are built with json_pack, whose "o" conversions steal references
 * even when packing fails, so a NULL from a nested helper (out of memory)
 * makes the whole view NULL without leaking. */
#include "api/json_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/txtypes.h"
#include "base/hex.h"
#include "chain/tx.h"

/* --- parsing --- */

static int parse_fixed_hex(uint8_t *out, size_t n, const char *hex) {
    if (!hex || strlen(hex) != 2 * n) return MC_ERR_MALFORMED;
    return mc_hex_decode(out, n, hex) ? MC_ERR_MALFORMED : 0;
}

int mc_api_parse_hash(mc_hash *out, const char *hex) {
    return parse_fixed_hex(out->b, sizeof out->b, hex);
}

int mc_api_parse_pubkey(mc_pubkey *out, const char *hex) {
    return parse_fixed_hex(out->b, sizeof out->b, hex);
}

int mc_api_parse_u64(uint64_t *out, const char *text) {
    if (!text || !text[0]) return MC_ERR_MALFORMED;
    size_t n = strlen(text);
    if (n > 20 || (n > 1 && text[0] == '0')) return MC_ERR_MALFORMED;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') return MC_ERR_MALFORMED;
        uint64_t d = (uint64_t)(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return MC_ERR_MALFORMED;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* --- errors --- */

unsigned mc_api_http_status(int err) {
    switch (err) {
    case MC_OK: return 200;
    case MC_ERR_MALFORMED:
    case MC_ERR_INVALID:
    case MC_ERR_WRONG_CHAIN: return 400;
    case MC_ERR_BAD_SIGNATURE:
    case MC_ERR_UNKNOWN_ACCOUNT: return 401;
    case MC_ERR_FORBIDDEN:
    case MC_ERR_REVOKED: return 403;
    case MC_ERR_NOT_FOUND: return 404;
    case MC_ERR_EXISTS:
    case MC_ERR_BAD_NONCE:
    case MC_ERR_STATE: return 409;
    case MC_ERR_TOO_LARGE: return 413;
    case MC_ERR_MISDIRECTED: return 421;
    case MC_ERR_FULL:
    case MC_ERR_UNAVAILABLE:
    case MC_ERR_NOMEM: return 503;
    default: return 500;
    }
}

json_t *mc_api_json_error(int err, const char *detail) {
    char msg[768];
    if (!detail || !detail[0]) detail = mc_strerror(err);
    size_t n = strlen(detail);
    snprintf(msg, sizeof msg, "%s%s", detail, detail[n - 1] == '.' ? "" : ".");
    /* A sentence begins with a capital; error texts are ASCII. */
    if (msg[0] >= 'a' && msg[0] <= 'z') msg[0] = (char)(msg[0] - 'a' + 'A');
    return json_pack("{s:s, s:o}", "error", mc_err_name(err), "message", mc_api_json_text(msg));
}

/* --- scalars --- */

json_t *mc_api_json_u64(uint64_t v) {
    if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    return json_string(s);
}

json_t *mc_api_json_text(const char *s) {
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    /* Not valid UTF-8 (a hostile transaction may carry any bytes): show
     * the ASCII and replace every other byte, so the view never fails. */
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (!copy) return NULL;
    for (size_t i = 0; i <= n; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    j = json_string(copy);
    free(copy);
    return j;
}

json_t *mc_api_json_hex(const void *p, size_t len) {
    if (len > (SIZE_MAX - 1) / 2) return NULL;
    char small[2 * 64 + 1];
    char *s = len <= 64 ? small : malloc(2 * len + 1);
    if (!s) return NULL;
    mc_hex_encode(s, p, len);
    json_t *j = json_stringn_nocheck(s, 2 * len);
    if (s != small) free(s);
    return j;
}

json_t *mc_api_json_hash(const mc_hash *h) { return mc_api_json_hex(h->b, sizeof h->b); }

json_t *mc_api_json_pubkey(const mc_pubkey *pk) { return mc_api_json_hex(pk->b, sizeof pk->b); }

json_t *mc_api_json_hash_array(const mc_hash *hashes, size_t n) {
    json_t *a = json_array();
    if (!a) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(a, mc_api_json_hash(&hashes[i]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* --- ledger objects --- */

json_t *mc_api_json_header(const struct mc_header *h) {
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "chain_id", mc_api_json_text(h->chain_id),
                     "height", mc_api_json_u64(h->height),
                     "time_ms", mc_api_json_u64(h->time_ms),
                     "prev", mc_api_json_hash(&h->prev),
                     "tx_root", mc_api_json_hash(&h->tx_root),
                     "tx_count", (json_int_t)h->tx_count,
                     "log_size", mc_api_json_u64(h->log_size),
                     "log_root", mc_api_json_hash(&h->log_root),
                     "state_hash", mc_api_json_hash(&h->state_hash),
                     "valset_hash", mc_api_json_hash(&h->valset_hash),
                     "proposer", mc_api_json_pubkey(&h->proposer),
                     "last_commit_hash", mc_api_json_hash(&h->last_commit_hash));
}

json_t *mc_api_json_commit(const struct mc_commit *c, const struct mc_valset *vs) {
    json_t *sigs = json_array();
    if (!sigs) return NULL;
    size_t count = c->count <= MC_VALIDATORS_MAX ? c->count : MC_VALIDATORS_MAX;
    for (size_t i = 0; i < count; i++) {
        const struct mc_commit_sig *s = &c->sigs[i];
        json_t *o = json_pack("{s:i, s:o}", "validator", (int)s->validator, "signature",
                              mc_api_json_hex(s->sig, sizeof s->sig));
        if (o && vs && s->validator < vs->count) {
            const struct mc_validator *v = &vs->v[s->validator];
            if (json_object_set_new(o, "node_key", mc_api_json_pubkey(&v->pk)) ||
                json_object_set_new(o, "name", mc_api_json_text(v->name))) {
                json_decref(o);
                o = NULL;
            }
        }
        if (json_array_append_new(sigs, o)) {
            json_decref(sigs);
            return NULL;
        }
    }
    return json_pack("{s:o, s:I, s:o, s:o}", "height", mc_api_json_u64(c->height), "round",
                     (json_int_t)c->round, "block_hash", mc_api_json_hash(&c->block_hash),
                     "signatures", sigs);
}

json_t *mc_api_json_tx_payload(uint16_t type, const uint8_t *payload, size_t len) {
    struct mc_dec d;
    mc_dec_init(&d, payload, len);
    mc_pubkey pk;
    uint8_t sig[MC_SIG_BYTES];
    char text[256];
    json_t *out = NULL;
    switch (type) {
    case MC_TX_ENROLL_MEMBER: {
        mc_dec_fixed(&d, pk.b, sizeof pk.b);
        uint8_t role = mc_dec_u8(&d);
        mc_dec_str8(&d, text, MC_NAME_MAX);
        if (mc_dec_finish(&d)) return json_null();
        out = json_pack("{s:o, s:s, s:i, s:o}", "member", mc_api_json_pubkey(&pk), "role",
                        mc_role_name(role), "role_code", (int)role, "name",
                        mc_api_json_text(text));
        break;
    }
    case MC_TX_REVOKE_MEMBER:
        mc_dec_fixed(&d, pk.b, sizeof pk.b);
        mc_dec_str8(&d, text, sizeof text);
        if (mc_dec_finish(&d)) return json_null();
        out = json_pack("{s:o, s:o}", "member", mc_api_json_pubkey(&pk), "reason",
                        mc_api_json_text(text));
        break;
    case MC_TX_REGISTER_PATIENT:
    case MC_TX_ROTATE_KEY: {
        mc_dec_fixed(&d, pk.b, sizeof pk.b);
        mc_dec_fixed(&d, sig, sizeof sig);
        if (mc_dec_finish(&d)) return json_null();
        bool patient = type == MC_TX_REGISTER_PATIENT;
        out = json_pack("{s:o, s:o}", patient ? "patient" : "new_key", mc_api_json_pubkey(&pk),
                        patient ? "patient_signature" : "proof_signature",
                        mc_api_json_hex(sig, sizeof sig));
        break;
    }
    default:
        /* supply, product, records and research: json_tx_payload.c */
        return mc__api_json_domain_payload(type, payload, len);
    }
    return out;
}

json_t *mc_api_json_tx(const uint8_t *bytes, size_t len, int *err) {
    struct mc_tx tx;
    int rc = mc_tx_decode(&tx, bytes, len);
    if (rc) {
        if (err) *err = rc;
        return NULL;
    }
    const char *name = mc_txtypes_name(tx.type);
    json_t *o = json_pack("{s:o, s:s?, s:i, s:o, s:o, s:o, s:o, s:o}",
                          "chain_id", mc_api_json_text(tx.chain_id),
                          "type", name,
                          "type_code", (int)tx.type,
                          "sender", mc_api_json_pubkey(&tx.sender),
                          "nonce", mc_api_json_u64(tx.nonce),
                          "payload_hex", mc_api_json_hex(tx.payload, tx.payload_len),
                          "payload", mc_api_json_tx_payload(tx.type, tx.payload, tx.payload_len),
                          "signature", mc_api_json_hex(tx.sig, sizeof tx.sig));
    if (!o && err) *err = MC_ERR_NOMEM;
    return o;
}

static bool is_zero(const uint8_t *p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= p[i];
    return acc == 0;
}

json_t *mc_api_json_account(const struct mc_account *a, const struct mc_org *org) {
    json_t *o = json_pack("{s:o, s:s, s:s, s:I, s:o, s:o, s:o, s:o}",
                          "key", mc_api_json_pubkey(&a->key),
                          "role", mc_role_name(a->role),
                          "status", mc_account_status_name(a->status),
                          "org", (json_int_t)a->org,
                          "org_name", mc_api_json_text(org ? org->name : NULL),
                          "nonce", mc_api_json_u64(a->nonce),
                          "name", mc_api_json_text(a->name),
                          "since_height", mc_api_json_u64(a->since_height));
    if (o && !is_zero(a->successor.b, sizeof a->successor.b) &&
        json_object_set_new(o, "successor", mc_api_json_pubkey(&a->successor))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *mc_api_json_org(const struct mc_org *o) {
    return json_pack("{s:I, s:o, s:s, s:o, s:o}", "id", (json_int_t)o->id, "name",
                     mc_api_json_text(o->name), "kind", mc_org_kind_name(o->kind), "gln",
                     mc_api_json_text(o->gln[0] ? o->gln : NULL),
                     "admin_key", mc_api_json_pubkey(&o->admin));
}
