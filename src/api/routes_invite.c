/* Invitations: a patient joins without a key file changing hands.
 *
 *   1. A clinician (or admin) of a provider organisation creates an
 *      invitation: POST /v1/invitations (RFC 9421-signed) -> a one-time
 *      code, valid MC_INVITE_TTL_MS, shown as a QR code / short code.
 *   2. The patient's page makes her key in her own browser, reads who
 *      invites her (GET /v1/invitations/{code}, public) and accepts: POST
 *      /v1/invitations/{code}/accept with her public key and her consent
 *      signature to be registered by that clinician (the very signature the
 *      ledger's register_patient verifies). The node checks it; the
 *      invitation is then used up.
 *   3. The clinician sees the accepted invitation (GET /v1/invitations,
 *      signed), compares the six-digit match code both pages show, and
 *      submits register_patient herself, signed with her own key.
 *
 * Nothing about the ledger's rule changes: registration is still the
 * clinician's transaction carrying the patient's consent signature, and the
 * node signs nothing for either of them. The node only relays the consent:
 * a code that leaks lets someone else offer their key, which the clinician
 * sees as a match code that is not the one her patient shows.
 *
 * Invitations live in this node's memory only (lost on restart; they are
 * short-lived), at most MC_INVITES_MAX, MC_INVITES_PER_MEMBER pending per
 * inviter; expired ones are dropped. */
#include "api/routes.h"

#include <pthread.h>
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
#include "crypto/sign.h"

#define MC_INVITES_MAX 1024
#define MC_INVITES_PER_MEMBER 32
#define MC_INVITE_TTL_MS (24ull * 3600 * 1000)
#define CODE_LEN 12   /* shown as XXXX-XXXX-XXXX */

enum { INV_FREE, INV_PENDING, INV_ACCEPTED };

struct invite {
    uint8_t state;
    const struct mc_node *node;
    char code[CODE_LEN + 1];
    mc_pubkey inviter;
    uint64_t created_ms, expires_ms;
    mc_pubkey patient;
    uint8_t consent[MC_SIG_BYTES];
};

static struct {
    pthread_mutex_t lock;
    struct invite v[MC_INVITES_MAX];
} store = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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

/* Six digits both pages show: from SHA-256 of the patient's key. */
static void match_code(char out[7], const mc_pubkey *patient) {
    uint8_t h[32];
    crypto_hash_sha256(h, patient->b, 32);
    snprintf(out, 7, "%06u", (unsigned)(((uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2]) % 1000000u));
}

static void expire(uint64_t t) {
    for (size_t i = 0; i < MC_INVITES_MAX; i++)
        if (store.v[i].state != INV_FREE && store.v[i].expires_ms <= t) memset(&store.v[i], 0, sizeof store.v[i]);
}

static struct invite *find(const struct mc_node *node, const char *code) {
    for (size_t i = 0; i < MC_INVITES_MAX; i++)
        if (store.v[i].state != INV_FREE && store.v[i].node == node && strcmp(store.v[i].code, code) == 0)
            return &store.v[i];
    return NULL;
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

/* --- the inviter's account, under the node lock --- */

struct q_inviter {
    mc_pubkey key;
    bool found, may;
    struct mc_account a;
    struct mc_org org;
    bool registered;      /* q_patient: the key is an account already */
};

static int q_inviter(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct q_inviter *q = ctx;
    struct mc_state *st = mc_app_state(app);
    q->found = mc_identity_get_account(st, &q->key, &q->a) == 0;
    if (q->found) q->a.name[sizeof q->a.name - 1] = 0;
    q->may = q->found && mc_identity_may_register_patients(st, &q->a);
    if (q->found && q->a.org && mc_identity_get_org(st, q->a.org, &q->org) == 0) q->org.name[sizeof q->org.name - 1] = 0;
    else memset(&q->org, 0, sizeof q->org);
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

/* POST /v1/invitations */
void mc__api_invite_create(struct mc_node *node, const char *param, const struct mc__api_request *req,
                           struct mc__api_response *res) {
    struct mc__gate g;
    if (!gated(&g, node, req, res)) return;
    struct q_inviter q = {.key = g.v.key};
    int rc = mc_node_query(node, q_inviter, &q);
    mc__gate_release(&g);
    if (rc) {
        mc__api_fail(res, mc__reply_query_status(rc), rc, "%s", "the node could not run the query");
        return;
    }
    if (!q.may) {
        mc__api_fail(res, 403, MC_ERR_FORBIDDEN, "%s",
                     "only a clinician or admin of a provider organisation invites patients (they register them)");
        return;
    }
    uint64_t t = now_ms();
    struct invite *slot = NULL;
    size_t mine = 0;
    char code[CODE_LEN + 1];
    pthread_mutex_lock(&store.lock);
    expire(t);
    for (size_t i = 0; i < MC_INVITES_MAX; i++) {
        if (store.v[i].state == INV_FREE) {
            if (!slot) slot = &store.v[i];
        } else if (store.v[i].node == node && memcmp(store.v[i].inviter.b, q.key.b, 32) == 0) {
            mine++;
        }
    }
    if (slot && mine < MC_INVITES_PER_MEMBER) {
        do {
            for (size_t i = 0; i < CODE_LEN; i++) code[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
            code[CODE_LEN] = 0;
        } while (find(node, code));
        memset(slot, 0, sizeof *slot);
        slot->state = INV_PENDING;
        slot->node = node;
        memcpy(slot->code, code, sizeof code);
        slot->inviter = q.key;
        slot->created_ms = t;
        slot->expires_ms = t + MC_INVITE_TTL_MS;
    }
    pthread_mutex_unlock(&store.lock);
    if (!slot || mine >= MC_INVITES_PER_MEMBER) {
        mc__api_fail(res, 503, MC_ERR_FULL, "%s",
                     mine >= MC_INVITES_PER_MEMBER
                         ? "you have too many open invitations: register or let some expire (24 hours) first"
                         : "this node holds too many open invitations: try again later");
        return;
    }
    char shown[CODE_LEN + 3], exp[32];
    pretty(shown, code);
    iso(exp, t + MC_INVITE_TTL_MS);
    char link[64];
    snprintf(link, sizeof link, "/patient#invite=%s", shown);
    mc__reply_ok(res, 201, json_pack("{s:s, s:s, s:s, s:s}", "code", shown, "expires", exp, "link", link, "state",
                                     "pending"));
}

static json_t *invite_json(const struct invite *v, bool with_patient) {
    char shown[CODE_LEN + 3], exp[32];
    pretty(shown, v->code);
    iso(exp, v->expires_ms);
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "code", shown, "expires", exp, "state",
                          v->state == INV_ACCEPTED ? "accepted" : "pending", "inviter", mc_api_json_pubkey(&v->inviter));
    if (o && with_patient && v->state == INV_ACCEPTED) {
        char m[7];
        match_code(m, &v->patient);
        json_object_set_new(o, "patient", mc_api_json_pubkey(&v->patient));
        json_object_set_new(o, "consent", mc_api_json_hex(v->consent, MC_SIG_BYTES));
        json_object_set_new(o, "match_code", json_string(m));
    }
    return o;
}

/* GET /v1/invitations: the signer's own. */
void mc__api_invite_list(struct mc_node *node, const char *param, const struct mc__api_request *req,
                         struct mc__api_response *res) {
    struct mc__gate g;
    if (!gated(&g, node, req, res)) return;
    mc_pubkey me = g.v.key;
    mc__gate_release(&g);
    struct invite *mine = calloc(MC_INVITES_PER_MEMBER, sizeof *mine);
    if (!mine) {
        mc__api_fail(res, 500, MC_ERR_NOMEM, "%s", "out of memory");
        return;
    }
    size_t n = 0;
    pthread_mutex_lock(&store.lock);
    expire(now_ms());
    for (size_t i = 0; i < MC_INVITES_MAX && n < MC_INVITES_PER_MEMBER; i++)
        if (store.v[i].state != INV_FREE && store.v[i].node == node && memcmp(store.v[i].inviter.b, me.b, 32) == 0)
            mine[n++] = store.v[i];
    pthread_mutex_unlock(&store.lock);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = invite_json(&mine[i], true);
        if (o && mine[i].state == INV_ACCEPTED) {
            struct q_inviter q = {.key = mine[i].patient};
            if (mc_node_query(node, q_registered, &q) == 0)
                json_object_set_new(o, "registered", json_boolean(q.registered));
        }
        json_array_append_new(list, o);
    }
    free(mine);
    mc__reply_ok(res, 200, json_pack("{s:o}", "invitations", list));
}

/* GET /v1/invitations/{code}: who invites (public: names are public). */
void mc__api_invite_show(struct mc_node *node, const char *param, const struct mc__api_request *req,
                         struct mc__api_response *res) {
    char code[CODE_LEN + 1];
    struct invite v;
    bool have = false;
    if (normalize(code, param)) {
        pthread_mutex_lock(&store.lock);
        expire(now_ms());
        struct invite *p = find(node, code);
        if (p) v = *p, have = true;
        pthread_mutex_unlock(&store.lock);
    }
    if (!have) {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "%s",
                     "no such invitation on this node (it may have expired or been used: ask for a new one)");
        return;
    }
    struct q_inviter q = {.key = v.inviter};
    int rc = mc_node_query(node, q_inviter, &q);
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

/* POST /v1/invitations/{code}/accept {"patient": KEY, "consent": SIG} */
void mc__api_invite_accept(struct mc_node *node, const char *param, const struct mc__api_request *req,
                           struct mc__api_response *res) {
    char code[CODE_LEN + 1];
    if (!normalize(code, param)) {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "%s", "no such invitation (check the code)");
        return;
    }
    json_error_t jerr;
    json_t *doc = req->body ? json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    mc_pubkey patient;
    uint8_t consent[MC_SIG_BYTES];
    const char *pk = json_string_value(json_object_get(doc, "patient"));
    const char *sig = json_string_value(json_object_get(doc, "consent"));
    bool ok = json_is_object(doc) && pk && sig && mc_api_parse_pubkey(&patient, pk) == 0 &&
              mc_hex_decode(consent, sizeof consent, sig) == 0;
    json_decref(doc);
    if (!ok) {
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s",
                     "the body is {\"patient\": \"<key hex>\", \"consent\": \"<signature hex>\"}");
        return;
    }
    struct invite v;
    bool have = false;
    pthread_mutex_lock(&store.lock);
    expire(now_ms());
    struct invite *p = find(node, code);
    if (p) v = *p, have = true;
    pthread_mutex_unlock(&store.lock);
    if (!have) {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "%s",
                     "no such invitation on this node (it may have expired: ask for a new one)");
        return;
    }
    if (v.state != INV_PENDING) {
        mc__api_fail(res, 409, MC_ERR_EXISTS, "%s", "this invitation was already used: ask for a new one");
        return;
    }
    if (!mc_identity_patient_consent_valid(consent, &patient, mc_node_genesis(node)->chain_id, &v.inviter)) {
        mc__api_fail(res, 401, MC_ERR_BAD_SIGNATURE, "%s",
                     "the consent signature does not verify for this key and this inviter");
        return;
    }
    struct q_inviter q = {.key = patient};
    int rc = mc_node_query(node, q_registered, &q);
    if (rc || q.registered) {
        mc__api_fail(res, rc ? mc__reply_query_status(rc) : 409, rc ? rc : MC_ERR_EXISTS, "%s",
                     rc ? "the node could not run the query" : "this key is already an account on the ledger");
        return;
    }
    /* one-time: only the first acceptance wins */
    bool won = false;
    pthread_mutex_lock(&store.lock);
    p = find(node, code);
    if (p && p->state == INV_PENDING) {
        p->state = INV_ACCEPTED;
        p->patient = patient;
        memcpy(p->consent, consent, sizeof consent);
        v = *p;
        won = true;
    }
    pthread_mutex_unlock(&store.lock);
    if (!won) {
        mc__api_fail(res, 409, MC_ERR_EXISTS, "%s", "this invitation was already used: ask for a new one");
        return;
    }
    char m[7];
    match_code(m, &patient);
    json_t *o = invite_json(&v, false);
    json_object_set_new(o, "match_code", json_string(m));
    mc__reply_ok(res, 200, o);
}

/* GET /v1/invitations/{code}/qr.svg?origin=scheme://host[:port]: the
 * invitation's link (origin + /patient#invite=CODE) as a QR code the
 * clinician shows; the patient's phone camera opens it. Public like the
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
    bool live = false;
    if (normalize(code, param)) {
        pthread_mutex_lock(&store.lock);
        expire(now_ms());
        struct invite *p = find(node, code);
        live = p && p->state == INV_PENDING;
        pthread_mutex_unlock(&store.lock);
    }
    if (!live) {
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
    snprintf(link, sizeof link, "%s/patient#invite=%s", origin, shown);
    char *svg = NULL;
    size_t len = 0;
    int rc = mc_label_encode_svg(&svg, &len, link, 6);
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
