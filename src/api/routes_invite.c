/* Invitations: a patient, or a new member of an organisation, joins
 * without a key file changing hands.
 *
 *   1. A clinician (or admin) of a provider organisation invites a patient;
 *      an organisation's admin invites a member, naming her and her role:
 *      POST /v1/invitations (RFC 9421-signed) -> a one-time code, valid
 *      MC_INVITE_TTL_MS, shown as a QR code / short code.
 *   2. The newcomer's page makes her key in her own browser, reads who
 *      invites her (GET /v1/invitations/{code}, public) and accepts: POST
 *      /v1/invitations/{code}/accept with her public key and her signature:
 *      a patient's consent to be registered by that clinician (the very
 *      signature the ledger's register_patient verifies), a member's
 *      acceptance (MC_SIGN_MEMBER over inviter key || her key, a proof that
 *      she holds the key). The node checks it; the invitation is then used
 *      up.
 *   3. The inviter sees the accepted invitation (GET /v1/invitations,
 *      signed), compares the six-digit match code both pages show, and
 *      submits register_patient, or enroll_member with the name and role,
 *      herself, signed with her own key (her page or CLI checks the
 *      signature again first).
 *
 * Nothing about the ledger's rules changes and the node signs nothing for
 * anyone: it only relays the acceptance. A code that leaks lets someone
 * else offer their key, which the inviter sees as a match code that is not
 * the one her newcomer shows.
 *
 * Invitations are kept in the node's own database (chain/local.h, space
 * "invite": not ledger state), so they survive a restart: at most
 * MC_INVITES_MAX open on a node, MC_INVITES_PER_MEMBER per inviter, each
 * until its expiry; the acceptance is a compare-and-swap on the stored
 * row, so exactly one acceptance wins. */
#include "api/routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/gate.h"
#include "api/label.h"
#include "api/reply.h"
#include "app/identity.h"
#include "base/hex.h"
#include "chain/local.h"
#include "crypto/sign.h"

#define CODE_LEN 12   /* shown as XXXX-XXXX-XXXX */
#define SPACE "invite"
#define FORMAT 1

enum { INV_PENDING = 1, INV_ACCEPTED = 2 };
enum { FOR_PATIENT = 1, FOR_MEMBER = 2 };

struct invite {
    char code[CODE_LEN + 1];
    mc_pubkey inviter;
    uint64_t created_ms, expires_ms;
    uint8_t kind, state;
    uint8_t role;             /* FOR_MEMBER */
    char name[MC_NAME_MAX];   /* FOR_MEMBER */
    mc_pubkey joiner;         /* INV_ACCEPTED */
    uint8_t consent[MC_SIG_BYTES];
};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Stored value: | u8 format | u8 kind | u8 state | u64 created_ms | u8 role |
 * str8 name | pubkey joiner | sig64 consent | (the code is the key, the
 * inviter the owner, the expiry the row's). */
static void encode(struct mc_buf *b, const struct invite *v) {
    mc_enc_u8(b, FORMAT);
    mc_enc_u8(b, v->kind);
    mc_enc_u8(b, v->state);
    mc_enc_u64(b, v->created_ms);
    mc_enc_u8(b, v->role);
    mc_enc_str8(b, v->name);
    mc_enc_fixed(b, v->joiner.b, 32);
    mc_enc_fixed(b, v->consent, MC_SIG_BYTES);
}

static int decode(struct invite *v, const uint8_t *p, size_t n) {
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    uint8_t f = mc_dec_u8(&d);
    v->kind = mc_dec_u8(&d);
    v->state = mc_dec_u8(&d);
    v->created_ms = mc_dec_u64(&d);
    v->role = mc_dec_u8(&d);
    mc_dec_str8(&d, v->name, sizeof v->name);
    mc_dec_fixed(&d, v->joiner.b, 32);
    mc_dec_fixed(&d, v->consent, MC_SIG_BYTES);
    int rc = mc_dec_finish(&d);
    if (!rc && (f != FORMAT || (v->kind != FOR_PATIENT && v->kind != FOR_MEMBER) ||
                (v->state != INV_PENDING && v->state != INV_ACCEPTED)))
        rc = MC_ERR_TAMPERED;
    return rc;
}

/* The invitation stored under code: 0, MC_ERR_NOT_FOUND (absent or
 * expired) or a store error. */
static int load(struct mc_node *node, const char *code, struct invite *v, struct mc_buf *raw) {
    struct mc_buf owner;
    mc_buf_init(&owner, 64);
    memset(v, 0, sizeof *v);
    int rc = mc_local_get(mc_node_local(node), SPACE, (const uint8_t *)code, CODE_LEN, now_ms(), raw, &owner,
                          &v->expires_ms);
    if (!rc && owner.len != 32) rc = MC_ERR_TAMPERED;
    if (!rc) rc = decode(v, raw->data, raw->len);
    if (!rc) {
        memcpy(v->inviter.b, owner.data, 32);
        memcpy(v->code, code, CODE_LEN + 1);
    }
    mc_buf_deinit(&owner);
    return rc;
}

/* No 0/O, 1/I/L: read aloud and typed without mistakes. */
static const char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/* "abcd-efgh-jkmn" in any case, with or without dashes -> the code. */
static bool normalize(char out[CODE_LEN + 1], const char *in) {
    size_t n = 0;
    for (; in && *in; in++) {
        if (*in == '-' || *in == ' ') continue;
        char c = *in >= 'a' && *in <= 'z' ? (char)(*in - 'a' + 'A') : *in;
        if (!strchr(alphabet, c) || c == 0 || n == CODE_LEN) return false;
        out[n++] = c;
    }
    out[n] = 0;
    return n == CODE_LEN;
}

/* Six digits both pages show: from SHA-256 of the newcomer's key. */
static void match_code(char out[7], const mc_pubkey *joiner) {
    uint8_t h[32];
    crypto_hash_sha256(h, joiner->b, 32);
    snprintf(out, 7, "%06u", (unsigned)(((uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2]) % 1000000u));
}

static void iso(char out[32], uint64_t ms) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void pretty(char out[CODE_LEN + 3], const char *code) {
    snprintf(out, CODE_LEN + 3, "%.4s-%.4s-%.4s", code, code + 4, code + 8);
}

/* The page the newcomer opens: a patient's portal, a member's join page. */
static const char *page_of(const struct invite *v) { return v->kind == FOR_MEMBER ? "/join" : "/patient"; }

/* --- the inviter's account, under the node lock --- */

struct q_inviter {
    mc_pubkey key;
    bool found, may, admin;
    struct mc_account a;
    struct mc_org org;
    bool registered;      /* q_registered: the key is an account already */
};

static int q_inviter(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct q_inviter *q = ctx;
    struct mc_state *st = mc_app_state(app);
    q->found = mc_identity_get_account(st, &q->key, &q->a) == 0;
    if (q->found) q->a.name[sizeof q->a.name - 1] = 0;
    q->may = q->found && mc_identity_may_register_patients(st, &q->a);
    if (q->found && q->a.org && mc_identity_get_org(st, q->a.org, &q->org) == 0) q->org.name[sizeof q->org.name - 1] = 0;
    else memset(&q->org, 0, sizeof q->org);
    q->admin = q->found && q->a.role == MC_ROLE_ADMIN && q->a.status == MC_ACCOUNT_ACTIVE && q->org.id != 0;
    return 0;
}

static int q_registered(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct q_inviter *q = ctx;
    struct mc_account a;
    q->registered = mc_identity_get_account(mc_app_state(app), &q->key, &a) == 0;
    return 0;
}

/* Runs the gate; on a refusal answers (no ledger entry: an invitation is
 * not a record) and returns false. */
static bool gated(struct mc__gate *g, struct mc_node *node, const struct mc__api_request *req,
                  struct mc__api_response *res) {
    mc__gate_check(g, node, req, NULL, 0);
    if (!g->rc) return true;
    mc__api_fail(res, g->status, g->rc, "%s", g->why);
    mc__gate_release(g);
    return false;
}

static void store_fail(struct mc__api_response *res, int rc) {
    mc__api_fail(res, 500, rc, "the node cannot read or write its invitations: %s", mc_err_detail());
}

/* The body of POST /v1/invitations: empty or {} invites a patient;
 * {"for":"member","role":ROLE,"name":NAME} a member (admins only). */
static bool parse_create(struct invite *v, const struct mc__api_request *req, struct mc__api_response *res) {
    v->kind = FOR_PATIENT;
    if (!req->body || req->body_len == 0) return true;
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *f = json_string_value(json_object_get(doc, "for"));
    const char *role = json_string_value(json_object_get(doc, "role"));
    const char *name = json_string_value(json_object_get(doc, "name"));
    bool ok = json_is_object(doc) && (!f || !strcmp(f, "patient") || !strcmp(f, "member"));
    if (ok && f && !strcmp(f, "member")) {
        v->kind = FOR_MEMBER;
        v->role = role ? mc_role_from_name(role) : 0;
        size_t n = name ? strlen(name) : 0;
        while (n && (name[n - 1] == ' ')) n--;
        if (!v->role || v->role == MC_ROLE_ADMIN || v->role == MC_ROLE_PATIENT || v->role == MC_ROLE_NODE) {
            mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s",
                         "role is a member role (clinician, pharmacist, researcher, auditor, ...)");
            json_decref(doc);
            return false;
        }
        bool printable = true;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) printable = false;
        if (n == 0 || n >= MC_NAME_MAX || !printable) {
            mc__api_fail(res, 400, MC_ERR_MALFORMED, "name is her display name, 1 to %d bytes without control characters",
                         MC_NAME_MAX - 1);
            json_decref(doc);
            return false;
        }
        memcpy(v->name, name, n);
        v->name[n] = 0;
    }
    json_decref(doc);
    if (!ok)
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s",
                     "the body is empty (a patient) or {\"for\":\"member\",\"role\":ROLE,\"name\":NAME}");
    return ok;
}

/* POST /v1/invitations */
void mc__api_invite_create(struct mc_node *node, const char *param, const struct mc__api_request *req,
                           struct mc__api_response *res) {
    struct invite v;
    memset(&v, 0, sizeof v);
    if (!parse_create(&v, req, res)) return;
    struct mc__gate g;
    if (!gated(&g, node, req, res)) return;
    struct q_inviter q = {.key = g.v.key};
    int rc = mc_node_query(node, q_inviter, &q);
    mc__gate_release(&g);
    if (rc) {
        mc__api_fail(res, mc__reply_query_status(rc), rc, "%s", "the node could not run the query");
        return;
    }
    if (v.kind == FOR_PATIENT && !q.may) {
        mc__api_fail(res, 403, MC_ERR_FORBIDDEN, "%s",
                     "only a clinician or admin of a provider organisation invites patients (they register them)");
        return;
    }
    if (v.kind == FOR_MEMBER && !q.admin) {
        mc__api_fail(res, 403, MC_ERR_FORBIDDEN, "%s",
                     "only an organisation's admin invites members (she enrolls them)");
        return;
    }
    if (v.kind == FOR_MEMBER && !mc_role_allowed_in(v.role, q.org.kind)) {
        mc__api_fail(res, 400, MC_ERR_FORBIDDEN, "a %s organisation has no %s members", mc_org_kind_name(q.org.kind),
                     mc_role_name(v.role));
        return;
    }
    uint64_t t = now_ms();
    v.inviter = q.key;
    v.state = INV_PENDING;
    v.created_ms = t;
    v.expires_ms = t + MC_INVITE_TTL_MS;
    uint64_t gone;
    if ((rc = mc_local_expire(mc_node_local(node), t, &gone))) {
        store_fail(res, rc);
        return;
    }
    struct mc_buf val;
    mc_buf_init(&val, 0);
    encode(&val, &v);
    const struct mc_local_bounds b = {.per_owner = MC_INVITES_PER_MEMBER, .total = MC_INVITES_MAX};
    rc = MC_ERR_EXISTS;
    for (int tries = 0; tries < 8 && rc == MC_ERR_EXISTS; tries++) {
        for (size_t i = 0; i < CODE_LEN; i++) v.code[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
        v.code[CODE_LEN] = 0;
        const struct mc_local_row row = {.space = SPACE, .key = (const uint8_t *)v.code, .key_len = CODE_LEN,
                                         .owner = q.key.b, .owner_len = 32, .value = val.data,
                                         .value_len = val.len, .expires_ms = v.expires_ms};
        rc = val.err ? val.err : mc_local_insert(mc_node_local(node), &row, t, &b);
    }
    mc_buf_deinit(&val);
    if (rc == MC_ERR_FULL) {
        mc__api_fail(res, 503, MC_ERR_FULL, "%s",
                     strcmp(mc_err_detail(), "owner") == 0
                         ? "you have too many open invitations: register or let some expire (24 hours) first"
                         : "this node holds too many open invitations: try again later");
        return;
    }
    if (rc) {
        store_fail(res, rc);
        return;
    }
    char shown[CODE_LEN + 3], exp[32];
    pretty(shown, v.code);
    iso(exp, v.expires_ms);
    char link[64];
    snprintf(link, sizeof link, "%s#invite=%s", page_of(&v), shown);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", shown, "expires", exp, "link", link, "state", "pending",
                          "for", v.kind == FOR_MEMBER ? "member" : "patient");
    if (o && v.kind == FOR_MEMBER) {
        json_object_set_new(o, "role", json_string(mc_role_name(v.role)));
        json_object_set_new(o, "name", mc_api_json_text(v.name));
    }
    mc__reply_ok(res, 201, o);
}

static json_t *invite_json(const struct invite *v, bool with_joiner) {
    char shown[CODE_LEN + 3], exp[32];
    pretty(shown, v->code);
    iso(exp, v->expires_ms);
    bool member = v->kind == FOR_MEMBER;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "code", shown, "expires", exp, "state",
                          v->state == INV_ACCEPTED ? "accepted" : "pending", "for", member ? "member" : "patient",
                          "inviter", mc_api_json_pubkey(&v->inviter));
    if (o && member) {
        json_object_set_new(o, "role", json_string(mc_role_name(v->role)));
        json_object_set_new(o, "name", mc_api_json_text(v->name));
    }
    if (o && with_joiner && v->state == INV_ACCEPTED) {
        char m[7];
        match_code(m, &v->joiner);
        json_object_set_new(o, member ? "member" : "patient", mc_api_json_pubkey(&v->joiner));
        json_object_set_new(o, "consent", mc_api_json_hex(v->consent, MC_SIG_BYTES));
        json_object_set_new(o, "match_code", json_string(m));
    }
    return o;
}

struct mine {
    struct invite *v;
    size_t n;
    mc_pubkey me;
};

static int collect(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                   uint64_t expires_ms) {
    struct mine *m = ctx;
    struct invite *v = &m->v[m->n];
    memset(v, 0, sizeof *v);
    if (key_len != CODE_LEN || decode(v, value, value_len)) return 0; /* not ours to show */
    memcpy(v->code, key, CODE_LEN);
    v->code[CODE_LEN] = 0;
    v->inviter = m->me;
    v->expires_ms = expires_ms;
    m->n++;
    return 0;
}

/* GET /v1/invitations: the signer's own. */
void mc__api_invite_list(struct mc_node *node, const char *param, const struct mc__api_request *req,
                         struct mc__api_response *res) {
    struct mc__gate g;
    if (!gated(&g, node, req, res)) return;
    struct mine m = {.me = g.v.key};
    mc__gate_release(&g);
    m.v = calloc(MC_INVITES_PER_MEMBER, sizeof *m.v);
    if (!m.v) {
        mc__api_fail(res, 500, MC_ERR_NOMEM, "%s", "out of memory");
        return;
    }
    int rc = mc_local_list(mc_node_local(node), SPACE, m.me.b, 32, now_ms(), MC_INVITES_PER_MEMBER, collect, &m);
    if (rc) {
        free(m.v);
        store_fail(res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < m.n; i++) {
        json_t *o = invite_json(&m.v[i], true);
        if (o && m.v[i].state == INV_ACCEPTED) {
            struct q_inviter q = {.key = m.v[i].joiner};
            if (mc_node_query(node, q_registered, &q) == 0)
                json_object_set_new(o, "registered", json_boolean(q.registered));
        }
        json_array_append_new(list, o);
    }
    free(m.v);
    mc__reply_ok(res, 200, json_pack("{s:o}", "invitations", list));
}

/* GET /v1/invitations/{code}: who invites (public: names are public). */
void mc__api_invite_show(struct mc_node *node, const char *param, const struct mc__api_request *req,
                         struct mc__api_response *res) {
    char code[CODE_LEN + 1];
    struct invite v;
    struct mc_buf raw;
    mc_buf_init(&raw, 0);
    int rc = normalize(code, param) ? load(node, code, &v, &raw) : MC_ERR_NOT_FOUND;
    mc_buf_deinit(&raw);
    if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "%s",
                     "no such invitation on this node (it may have expired or been used: ask for a new one)");
        return;
    }
    if (rc) {
        store_fail(res, rc);
        return;
    }
    struct q_inviter q = {.key = v.inviter};
    rc = mc_node_query(node, q_inviter, &q);
    if (rc) {
        mc__api_fail(res, mc__reply_query_status(rc), rc, "%s", "the node could not run the query");
        return;
    }
    json_t *o = invite_json(&v, false);
    json_object_set_new(o, "inviter_name", mc_api_json_text(q.found ? q.a.name : NULL));
    json_object_set_new(o, "org", json_integer(q.found ? q.a.org : 0));
    json_object_set_new(o, "org_name", mc_api_json_text(q.org.name[0] ? q.org.name : NULL));
    mc__reply_ok(res, 200, o);
}

static bool acceptance_valid(const struct invite *v, const uint8_t sig[MC_SIG_BYTES], const mc_pubkey *joiner,
                             const char *chain_id) {
    if (v->kind == FOR_PATIENT) return mc_identity_patient_consent_valid(sig, joiner, chain_id, &v->inviter);
    uint8_t m[64];
    memcpy(m, v->inviter.b, 32);
    memcpy(m + 32, joiner->b, 32);
    return mc_sign_verify(sig, joiner, MC_SIGN_MEMBER, chain_id, m, sizeof m) == 0;
}

/* POST /v1/invitations/{code}/accept {"patient"|"member": KEY, "consent": SIG} */
void mc__api_invite_accept(struct mc_node *node, const char *param, const struct mc__api_request *req,
                           struct mc__api_response *res) {
    char code[CODE_LEN + 1];
    if (!normalize(code, param)) {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "%s", "no such invitation (check the code)");
        return;
    }
    struct invite v;
    struct mc_buf raw;
    mc_buf_init(&raw, 0);
    int rc = load(node, code, &v, &raw);
    if (rc) {
        mc_buf_deinit(&raw);
        if (rc == MC_ERR_NOT_FOUND)
            mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "%s",
                         "no such invitation on this node (it may have expired: ask for a new one)");
        else
            store_fail(res, rc);
        return;
    }
    const char *field = v.kind == FOR_MEMBER ? "member" : "patient";
    json_error_t jerr;
    json_t *doc = req->body ? json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    mc_pubkey joiner;
    uint8_t consent[MC_SIG_BYTES];
    const char *pk = json_string_value(json_object_get(doc, field));
    const char *sig = json_string_value(json_object_get(doc, "consent"));
    bool ok = json_is_object(doc) && pk && sig && mc_api_parse_pubkey(&joiner, pk) == 0 &&
              mc_hex_decode(consent, sizeof consent, sig) == 0;
    json_decref(doc);
    if (!ok) {
        mc_buf_deinit(&raw);
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "this is an invitation for a %s: the body is {\"%s\": \"<key hex>\", "
                     "\"consent\": \"<signature hex>\"}", field, field);
        return;
    }
    if (v.state != INV_PENDING) {
        mc_buf_deinit(&raw);
        mc__api_fail(res, 409, MC_ERR_EXISTS, "%s", "this invitation was already used: ask for a new one");
        return;
    }
    if (!acceptance_valid(&v, consent, &joiner, mc_node_genesis(node)->chain_id)) {
        mc_buf_deinit(&raw);
        mc__api_fail(res, 401, MC_ERR_BAD_SIGNATURE, "%s",
                     "the signature does not verify for this key and this inviter");
        return;
    }
    struct q_inviter q = {.key = joiner};
    rc = mc_node_query(node, q_registered, &q);
    if (rc || q.registered) {
        mc_buf_deinit(&raw);
        mc__api_fail(res, rc ? mc__reply_query_status(rc) : 409, rc ? rc : MC_ERR_EXISTS, "%s",
                     rc ? "the node could not run the query" : "this key is already an account on the ledger");
        return;
    }
    /* one-time: only the first acceptance wins (a swap of the stored row) */
    v.state = INV_ACCEPTED;
    v.joiner = joiner;
    memcpy(v.consent, consent, sizeof consent);
    struct mc_buf val;
    mc_buf_init(&val, 0);
    encode(&val, &v);
    rc = val.err ? val.err
                 : mc_local_swap(mc_node_local(node), SPACE, (const uint8_t *)code, CODE_LEN, now_ms(), raw.data,
                                 raw.len, val.data, val.len);
    mc_buf_deinit(&val);
    mc_buf_deinit(&raw);
    if (rc == MC_ERR_STATE || rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(res, 409, MC_ERR_EXISTS, "%s", "this invitation was already used (or has expired): ask for a new one");
        return;
    }
    if (rc) {
        store_fail(res, rc);
        return;
    }
    char m[7];
    match_code(m, &joiner);
    json_t *o = invite_json(&v, false);
    json_object_set_new(o, "match_code", json_string(m));
    mc__reply_ok(res, 200, o);
}

/* GET /v1/invitations/{code}/qr.svg?origin=scheme://host[:port]: the
 * invitation's link (origin + /patient#invite=CODE, or /join#invite=CODE
 * for a member) as a QR code the inviter shows; the newcomer's phone
 * camera opens it. Public like the
 * invitation itself; only a live invitation's link is drawn, and the
 * origin is checked to be a bare http(s) origin. */
static bool origin_ok(const char *o) {
    size_t n = o ? strlen(o) : 0;
    if (n < 8 || n > 200) return false;
    const char *h = strncmp(o, "https://", 8) == 0 ? o + 8 : strncmp(o, "http://", 7) == 0 ? o + 7 : NULL;
    if (!h || !*h) return false;
    for (; *h; h++)
        if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') || *h == '.' ||
              *h == '-' || *h == ':' || *h == '[' || *h == ']'))
            return false;
    return true;
}

void mc__api_invite_qr(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res) {
    char code[CODE_LEN + 1];
    struct invite v;
    struct mc_buf raw;
    mc_buf_init(&raw, 0);
    int rc = normalize(code, param) ? load(node, code, &v, &raw) : MC_ERR_NOT_FOUND;
    mc_buf_deinit(&raw);
    if (rc && rc != MC_ERR_NOT_FOUND) {
        store_fail(res, rc);
        return;
    }
    if (rc || v.state != INV_PENDING) {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "%s", "no open invitation with this code on this node");
        return;
    }
    const char *origin = req->arg ? req->arg(req->arg_ctx, "origin") : NULL;
    if (!origin_ok(origin)) {
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s", "origin=scheme://host[:port] (the address the patient opens)");
        return;
    }
    char link[300], shown[CODE_LEN + 3];
    pretty(shown, code);
    snprintf(link, sizeof link, "%s%s#invite=%s", origin, page_of(&v), shown);
    char *svg = NULL;
    size_t len = 0;
    rc = mc_label_encode_svg(&svg, &len, link, 6);
    if (rc) {
        mc__api_fail(res, 0, rc, "%s", "cannot draw the QR code");
        return;
    }
    json_decref(res->body);
    res->body = NULL;
    res->status = 200;
    res->raw = svg;
    res->raw_len = len;
    res->raw_type = "image/svg+xml";
}
