/* The gate of the private routes and their refusal path (see gate.h). */
#include "api/gate.h"

#include <pthread.h>
#include <sodium.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fhir_reply.h"
#include "api/server.h"
#include "app/records_payload.h"
#include "app/research.h"
#include "app/txtypes.h"
#include "app/identity.h"
#include "app/smart.h"
#include "base/hex.h"
#include "base/log.h"
#include "node/node.h"

const char *const mc__gate_records_headers[MC__GATE_RECORDS_HEADERS] = {"x-purpose-of-use",
                                                                       "x-break-glass-reason"};

const char *mc__gate_header(const struct mc__api_request *req, const char *name) {
    return req->header ? req->header(req->header_ctx, name) : NULL;
}

static bool covered(const struct mc_httpsig_params *p, const char *c) {
    for (size_t i = 0; i < p->ncomp; i++)
        if (strcmp(p->comp[i], c) == 0) return true;
    return false;
}

static void deny(struct mc__gate *g, int rc, unsigned status, const char *why) {
    g->rc = rc;
    g->status = status;
    snprintf(g->why, sizeof g->why, "%s", why);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- requests without a known signer ----
 *
 * A request that is unsigned, badly signed, signed by a key the ledger does
 * not know, replayed, or addressed to another node has no member behind it:
 * its refusal is not worth a ledger transaction of its own (a stranger
 * could otherwise write to the ledger at will). Such refusals are counted
 * per subject (the patient whose record was asked for, the study whose
 * dataset, or nobody) and written as summary entries: a subject's first
 * refusal at once, later ones at most once per MC_API_UNAUTH_SUMMARY_MS,
 * the rest when the API stops (mc_api_flush_refusal_summaries). Each client
 * address also has a token bucket of them: once it is empty the address's
 * requests are refused with 429 before any signature is checked. */

struct summary {
    bool used;
    bool research;                     /* a dataset query, else a record access */
    mc_pubkey patient;                 /* record access: zero when unknown */
    char study[MC_STUDY_ID_MAX + 1];   /* dataset query */
    uint64_t count, by_status[6];      /* 400, 401, 403, 413, 429, other */
    int64_t since_ms, flushed_ms;
};

static struct {
    pthread_mutex_t lock;
    struct summary subjects[MC_API_UNAUTH_SUBJECTS];
    struct bucket {
        uint64_t addr_hash;
        double tokens;
        int64_t at_ms;
    } buckets[MC_API_UNAUTH_BUCKETS];
} unauth = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t addr_hash(const char *addr) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = addr; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return h | 1;
}

/* The client's bucket, refilled to now; called with the lock held. */
static struct bucket *bucket_of(const char *addr, int64_t now) {
    uint64_t h = addr_hash(addr);
    struct bucket *b = &unauth.buckets[h % MC_API_UNAUTH_BUCKETS];
    if (b->addr_hash != h) {
        b->addr_hash = h;
        b->tokens = MC_API_UNAUTH_BURST;
        b->at_ms = now;
    }
    b->tokens += (double)(now - b->at_ms) * MC_API_UNAUTH_PER_S / 1000.0;
    if (b->tokens > MC_API_UNAUTH_BURST) b->tokens = MC_API_UNAUTH_BURST;
    b->at_ms = now;
    return b;
}

static bool client_throttled(const char *addr) {
    pthread_mutex_lock(&unauth.lock);
    bool empty = bucket_of(addr, now_ms())->tokens < 1.0;
    pthread_mutex_unlock(&unauth.lock);
    return empty;
}

/* Spends one token of the client's bucket. */
static void client_spend(const char *addr) {
    pthread_mutex_lock(&unauth.lock);
    struct bucket *b = bucket_of(addr, now_ms());
    if (b->tokens >= 1.0) b->tokens -= 1.0;
    pthread_mutex_unlock(&unauth.lock);
}

static int status_slot(unsigned status) {
    switch (status) {
    case 400: return 0;
    case 401: return 1;
    case 403: return 2;
    case 413: return 3;
    case 429: return 4;
    }
    return 5;
}

/* Writes one summary (taken out of the table, so the lock is not held). */
static void summary_write(struct mc_node *node, const struct summary *sm) {
    char reason[MC_REASON_MAX + 1];
    snprintf(reason, sizeof reason,
             "summary: %llu requests without a known signer refused since %lld ms "
             "(400: %llu, 401: %llu, 403: %llu, 413: %llu, 429: %llu, other: %llu)",
             (unsigned long long)sm->count, (long long)sm->since_ms, (unsigned long long)sm->by_status[0],
             (unsigned long long)sm->by_status[1], (unsigned long long)sm->by_status[2],
             (unsigned long long)sm->by_status[3], (unsigned long long)sm->by_status[4],
             (unsigned long long)sm->by_status[5]);
    struct mc__gate none;
    memset(&none, 0, sizeof none);
    mc_buf_init(&none.v.base, 0);
    mc_hash txid;
    int rc;
    if (sm->research) {
        struct mc__gate_query q = {.study = sm->study, .outcome = MC_OUTCOME_SECURITY, .status = 401,
                                   .reason = reason};
        rc = mc__gate_log_query(node, &none, &q, &txid);
    } else {
        bool zero = sodium_is_zero(sm->patient.b, 32);
        struct mc__gate_access a = {.patient = zero ? NULL : &sm->patient, .action = MC_ACTION_READ,
                                    .outcome = MC_OUTCOME_SECURITY, .status = 401, .reason = reason};
        rc = mc__gate_log_access(node, &none, &a, &txid);
    }
    if (rc)
        mc_log_warn("api", "cannot write a refusal summary (%llu refusals): %s",
                    (unsigned long long)sm->count, mc_err_detail());
    mc_buf_deinit(&none.v.base);
}

/* Takes the subjects whose summary is due (all pending ones when force)
 * out of the table and writes them. */
static void summaries_flush(struct mc_node *node, bool force) {
    struct summary due[MC_API_UNAUTH_SUBJECTS];
    size_t n = 0;
    int64_t now = now_ms();
    pthread_mutex_lock(&unauth.lock);
    for (size_t i = 0; i < MC_API_UNAUTH_SUBJECTS; i++) {
        struct summary *sm = &unauth.subjects[i];
        if (!sm->used || !sm->count || (!force && now - sm->flushed_ms < MC_API_UNAUTH_SUMMARY_MS)) continue;
        due[n++] = *sm;
        sm->count = 0;
        memset(sm->by_status, 0, sizeof sm->by_status);
        sm->flushed_ms = now;
    }
    pthread_mutex_unlock(&unauth.lock);
    for (size_t i = 0; i < n; i++) summary_write(node, &due[i]);
}

/* Counts one refusal without a known signer against its subject (patient
 * NULL and study NULL: nobody), then writes what is due. */
static void count_unauthenticated(struct mc_node *node, const mc_pubkey *patient, const char *study,
                                  unsigned status) {
    struct summary key;
    memset(&key, 0, sizeof key);
    key.research = study != NULL;
    if (patient) key.patient = *patient;
    if (study && mc_study_id_valid(study)) snprintf(key.study, sizeof key.study, "%s", study);
    int64_t now = now_ms();
    pthread_mutex_lock(&unauth.lock);
    struct summary *slot = NULL, *free_slot = NULL;
    for (size_t i = 0; i < MC_API_UNAUTH_SUBJECTS && !slot; i++) {
        struct summary *sm = &unauth.subjects[i];
        if (!sm->used) {
            if (!free_slot) free_slot = sm;
        } else if (sm->research == key.research && memcmp(sm->patient.b, key.patient.b, 32) == 0 &&
                   strcmp(sm->study, key.study) == 0) {
            slot = sm;
        }
    }
    if (!slot && free_slot) {
        *free_slot = key;
        free_slot->used = true;
        slot = free_slot;
    }
    if (!slot) {
        /* the table is full: the refusal joins the summary of nobody, the
         * first slot, kept for it */
        slot = &unauth.subjects[0];
    }
    if (slot->count == 0) slot->since_ms = now;
    slot->count++;
    slot->by_status[status_slot(status)]++;
    pthread_mutex_unlock(&unauth.lock);
    summaries_flush(node, false);
}

void mc_api_flush_refusal_summaries(struct mc_node *node) { summaries_flush(node, true); }

bool mc__gate_throttled(const char *client_addr) { return client_throttled(client_addr); }

void mc__gate_count_refusal(struct mc_node *node, const char *client_addr, unsigned status) {
    client_spend(client_addr);
    count_unauthenticated(node, NULL, NULL, status);
}

/* ---- the signed target names this node ---- */

static bool loopback_name(const char *h) {
    return strcasecmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 ||
           strcmp(h, "[::1]") == 0;
}

/* Whether the authority of the (signed) target URI is one this node
 * answers to: one of config.json's api_hosts when set; otherwise this
 * server's own port, with its bind host (any host when it binds a wildcard
 * address; the loopback names when it binds loopback). A request captured
 * on one node and replayed to another is refused here. */
static bool addressed_here(struct mc_node *node, const struct mc__api_request *req) {
    const char *u = strstr(req->target_uri, "://");
    if (!u) return false;
    bool https = strncmp(req->target_uri, "https", 5) == 0;
    u += 3;
    size_t alen = strcspn(u, "/?#");
    if (alen == 0 || alen > 255) return false;
    char auth[256];
    memcpy(auth, u, alen);
    auth[alen] = 0;
    const char *names = mc_node_api_hosts(node);
    if (names && names[0]) {
        for (const char *p = names; *p;) {
            size_t n = strcspn(p, ",");
            if (n == alen && strncasecmp(p, auth, n) == 0) return true;
            p += n;
            if (*p == ',') p++;
        }
        return false;
    }
    char host[256];
    unsigned long port = https ? 443 : 80;
    char *pp = NULL; /* the ':' before the port, if any */
    if (auth[0] == '[') {
        char *rb = strchr(auth, ']');
        if (!rb || (rb[1] && rb[1] != ':')) return false;
        if (rb[1] == ':') pp = rb + 1;
    } else {
        pp = strrchr(auth, ':');
        if (pp && strchr(auth, ':') != pp) return false; /* an IPv6 literal needs brackets */
    }
    if (pp) {
        char *end;
        port = strtoul(pp + 1, &end, 10);
        if (*end || port == 0 || port > 65535) return false;
        *pp = 0;
    }
    snprintf(host, sizeof host, "%s", auth);
    if (req->local_port && port != req->local_port) return false;
    const char *bind = req->local_host ? req->local_host : "";
    if (!bind[0] || strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0) return true;
    if (strcasecmp(host, bind) == 0) return true;
    char bracketed[80];
    snprintf(bracketed, sizeof bracketed, "[%s]", bind);
    if (strcasecmp(host, bracketed) == 0) return true;
    return loopback_name(bind) && loopback_name(host);
}

/* ---- the gate ---- */

struct q_known {
    const mc_pubkey *key;
    bool known;
};

static int q_known(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_known *q = ctx;
    struct mc_account a;
    q->known = mc_identity_get_account(mc_app_state(app), q->key, &a) == 0;
    return 0;
}

/* Whether the request's Signature-Input names (in its keyid) an account on
 * the ledger; nothing is verified here. */
static bool claims_known_key(struct mc_node *node, const struct mc__api_request *req) {
    const char *si = mc__gate_header(req, "signature-input");
    struct mc_httpsig_params p;
    mc_pubkey key;
    if (!si || mc_httpsig_parse_input(&p, si, NULL) || strlen(p.keyid) != 64 ||
        mc_hex_decode(key.b, 32, p.keyid))
        return false;
    struct q_known qk = {.key = &key};
    return mc_node_query(node, q_known, &qk) == 0 && qk.known;
}

/* A refusal of the gate before a known signer is established. */
static void deny_unknown(struct mc__gate *g, struct mc_node *node, const struct mc__api_request *req,
                         int rc, unsigned status, const char *why) {
    deny(g, rc, status, why);
    g->known = false;
    g->node = node;
    client_spend(req->client_addr);
}

/* ---- SMART bearer tokens (gate.h) ---- */

struct q_bearer {
    const struct mc__smart_token *t;
    bool client_found, revoked, owner_found;
    struct mc_account owner;
};

static int q_bearer(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_bearer *q = ctx;
    struct mc_smart_client c;
    q->client_found = mc_smart_get_client(mc_app_state(app), q->t->client, &c) == 0;
    q->revoked = q->client_found && c.revoked_height != 0;
    q->owner_found = mc_identity_get_account(mc_app_state(app), &q->t->owner, &q->owner) == 0;
    return 0;
}

/* The resource type of a FHIR path (/fhir/<Type>[/...]) and whether the
 * request is a search (no id); false when the path names none. An
 * operation of its own ($export and its status) checks its scopes there. */
static bool fhir_path_type(const char *path, char type[40], bool *search, bool *operation) {
    *operation = false;
    if (strncmp(path, "/fhir/", 6) != 0) return false;
    const char *t = path + 6;
    size_t n = strcspn(t, "/");
    if (n == 0 || n >= 40) return false;
    memcpy(type, t, n);
    type[n] = 0;
    const char *last = strrchr(path, '/') + 1;
    *operation = type[0] == '$' || strncmp(last, "$export", 7) == 0;
    *search = t[n] == 0 || (t[n] == '/' && t[n + 1] == 0);
    return true;
}

static void bearer_check(struct mc__gate *g, struct mc_node *node, const struct mc__api_request *req,
                         const char *token) {
    if (!req->secure) {
        deny_unknown(g, node, req, MC_ERR_FORBIDDEN, 403, "private data is served only over TLS (or on loopback)");
        return;
    }
    char type[40];
    bool search = false, operation = false;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 ||
               (strcmp(req->method, "DELETE") == 0 && req->path && strstr(req->path, "/$export-status/"));
    if (!get || !req->path || !fhir_path_type(req->path, type, &search, &operation)) {
        deny_unknown(g, node, req, MC_ERR_BAD_SIGNATURE, 401,
                     "a bearer token serves FHIR reads only; sign other requests per RFC 9421");
        return;
    }
    struct mc__smart_token *t = &g->token;
    if (strlen(token) > 128 || mc__smart_token_find(node, token, now_ms(), t)) {
        deny_unknown(g, node, req, MC_ERR_BAD_SIGNATURE, 401, "the bearer token is unknown or expired");
        return;
    }
    struct q_bearer q = {.t = t};
    if (mc_node_query(node, q_bearer, &q) || !q.client_found || !q.owner_found) {
        deny_unknown(g, node, req, MC_ERR_UNAVAILABLE, 503, "the node could not check the token's client");
        return;
    }
    g->bearer = true;
    g->known = true;
    g->v.key = t->owner;
    char text[MC_SIGBASE_MAX];
    size_t tn = mc_smart_bearer_format(text, t->client, t->jti, &t->tx, &t->assertion);
    mc_buf_append(&g->v.base, text, tn);
    if (q.revoked) {
        deny(g, MC_ERR_BAD_SIGNATURE, 401, "the token's client was revoked");
        return;
    }
    if (mc__gate_header(req, "x-break-glass-reason")) {
        deny(g, MC_ERR_FORBIDDEN, 403, "break-glass access is not available through a token");
        return;
    }
    if (operation) return;
    uint8_t perm = search ? MC_SMART_PERM_SEARCH : MC_SMART_PERM_READ;
    if (!mc__smart_token_covers(t, type, perm) || !mc_smart_role_allows(q.owner.role, type)) {
        char why[160];
        snprintf(why, sizeof why, "the token's scopes do not cover %s of %s", search ? "search" : "read", type);
        deny(g, MC_ERR_FORBIDDEN, 403, why);
    }
}

void mc__gate_check(struct mc__gate *g, struct mc_node *node, const struct mc__api_request *req,
                    const char *const *must_cover, size_t n) {
    memset(g, 0, sizeof *g);
    mc_buf_init(&g->v.base, 0);
    mc_err_clear();
    summaries_flush(node, false);
    /* An address that ran up its allowance of refusals is refused at once,
     * before any signature is checked, unless the request names a key the
     * ledger knows (several clients may share an address: a member behind
     * the same gateway as an attacker is not locked out). */
    if (client_throttled(req->client_addr) && !claims_known_key(node, req)) {
        deny_unknown(g, node, req, MC_ERR_FULL, 429,
                     "too many refused requests from this address; retry later with a valid signature");
        return;
    }
    const char *authz = mc__gate_header(req, "authorization");
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0 && !mc__gate_header(req, "signature-input")) {
        bearer_check(g, node, req, authz + 7);
        return;
    }
    if (!req->secure) {
        deny_unknown(g, node, req, MC_ERR_FORBIDDEN, 403, "private data is served only over TLS (or on loopback)");
        return;
    }
    if (!req->target_uri) {
        deny_unknown(g, node, req, MC_ERR_MALFORMED, 400, "the request has no Host header");
        return;
    }
    if (!addressed_here(node, req)) {
        deny_unknown(g, node, req, MC_ERR_BAD_SIGNATURE, 401,
                     "the request is addressed to another node (its signed target URI names another host)");
        return;
    }
    mc_buf_deinit(&g->v.base);
    struct mc_httpsig_message m = {.method = req->method, .target_uri = req->target_uri,
                                   .header = req->header, .header_ctx = req->header_ctx};
    int64_t now_s = (int64_t)time(NULL);
    g->rc = req->body_sha256 ? mc_httpsig_verify_request_hashed(&g->v, &m, req->body_sha256, now_s)
                             : mc_httpsig_verify_request(&g->v, &m, req->body, req->body_len, now_s);
    g->have_sig = g->rc != MC_ERR_MALFORMED || !sodium_is_zero(g->v.sig, sizeof g->v.sig);
    if (g->rc) {
        char why[sizeof g->why];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        deny_unknown(g, node, req, g->rc, 401, why);
        return;
    }
    /* Only keys the ledger knows go further: to the replay cache, and to a
     * ledger entry of their own. */
    struct q_known qk = {.key = &g->v.key};
    if (mc_node_query(node, q_known, &qk) || !qk.known) {
        deny_unknown(g, node, req, MC_ERR_UNKNOWN_ACCOUNT, 401, "the signing key is not an account on the ledger");
        return;
    }
    g->known = true;
    for (size_t i = 0; i < n; i++) {
        if (mc__gate_header(req, must_cover[i]) && !covered(&g->v.params, must_cover[i])) {
            char why[120];
            snprintf(why, sizeof why, "header %s must be covered by the signature", must_cover[i]);
            deny(g, MC_ERR_MALFORMED, 401, why);
            return;
        }
    }
    if (g->v.base.len > MC_SIGBASE_MAX) {
        char why[80];
        snprintf(why, sizeof why, "the signature base exceeds %d bytes", MC_SIGBASE_MAX);
        deny(g, MC_ERR_TOO_LARGE, 413, why);
        return;
    }
    int r = mc_httpsig_replay_check(&g->v.key, g->v.params.nonce, now_s);
    if (r == MC_ERR_EXISTS)
        /* a replay is somebody else's doing as likely as the signer's */
        deny_unknown(g, node, req, MC_ERR_BAD_SIGNATURE, 401, "replayed request: this signature's nonce was already used");
    else if (r)
        deny(g, MC_ERR_FULL, 503, "too many signed requests from this key in the window; retry");
}

void mc__gate_release(struct mc__gate *g) {
    /* a refusal without a known signer that no route counted against a
     * subject is counted against nobody */
    if (g->rc && !g->known && !g->counted && g->node) count_unauthenticated(g->node, NULL, NULL, g->status);
    g->counted = true;
    mc_buf_deinit(&g->v.base);
}

/* The requester's signature base and signature as the ledger carries them:
 * the base cut at MC_SIGBASE_MAX (a refusal for an overlong base is still
 * logged, with its first MC_SIGBASE_MAX bytes), the signature only when it
 * decoded. */
static void carried(const struct mc__gate *g, const uint8_t **base, size_t *base_len,
                    const uint8_t **sig, size_t *sig_len) {
    *base = g->v.base.data;
    *base_len = g->v.base.len > MC_SIGBASE_MAX ? MC_SIGBASE_MAX : g->v.base.len;
    *sig = g->v.sig;
    *sig_len = g->have_sig ? MC_SIG_BYTES : 0;
}

/* Submits an encoded log entry signed by the node; frees b. */
static int submit(struct mc_node *node, uint16_t type, struct mc_buf *b, int encoded,
                  mc_hash *txid) {
    int rc = encoded ? encoded : mc_node_submit_signed(node, type, b->data, b->len, txid);
    mc_buf_deinit(b);
    return rc;
}

int mc__gate_log_access(struct mc_node *node, const struct mc__gate *g,
                        const struct mc__gate_access *a, mc_hash *txid) {
    struct mc_records_payload *p = calloc(1, sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    p->type = MC_TX_RECORD_ACCESS;
    if (a->patient) p->patient = *a->patient;
    if (a->id && mc_record_id_valid(a->id)) snprintf(p->id, sizeof p->id, "%s", a->id);
    p->version = a->version;
    p->requester = g->v.key;
    p->action = a->action;
    p->purpose = a->purpose;
    p->outcome = a->outcome;
    p->status = a->status;
    snprintf(p->reason, sizeof p->reason, "%s", a->reason ? a->reason : "");
    carried(g, &p->base, &p->base_len, &p->sig, &p->sig_len);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = mc_records_payload_encode(&b, p);
    free(p);
    return submit(node, MC_TX_RECORD_ACCESS, &b, rc, txid);
}

void mc__gate_refuse_access(struct mc_node *node, struct mc__api_response *res,
                            const struct mc__gate *g, struct mc__gate_access *a, bool fhir,
                            int err, const char *why) {
    mc_hash txid;
    a->reason = why;
    if (a->status == 0) a->status = (uint16_t)(g->status ? g->status : mc_api_http_status(err));
    if (g->known) {
        if (mc__gate_log_access(node, g, a, &txid) == 0) mc_hex_encode(res->access_tx, txid.b, 32);
    } else {
        /* without a known signer: into the patient's refusal summary */
        count_unauthenticated(node, a->patient, NULL, a->status);
        ((struct mc__gate *)g)->counted = true;
    }
    if (fhir) mc__fhir_reply_fail(res, a->status, err, "%s", why);
    else mc__api_fail(res, a->status, err, "%s", why);
}

void mc__gate_refuse_unlogged(struct mc_node *node, struct mc__api_response *res,
                              const struct mc__gate *g, struct mc__gate_access *a, bool fhir, int rc) {
    char why[300];
    snprintf(why, sizeof why, "the access could not be logged, so nothing is served: %s", mc_err_detail());
    a->outcome = MC_OUTCOME_REFUSED;
    a->status = rc == MC_ERR_EXISTS ? 401 : 503;
    mc__gate_refuse_access(node, res, g, a, fhir, rc, why);
}

int mc__gate_log_query(struct mc_node *node, const struct mc__gate *g,
                       const struct mc__gate_query *q, mc_hash *txid) {
    struct mc_research_payload *p = calloc(1, sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    p->type = MC_TX_RESEARCH_QUERY;
    if (q->study && mc_study_id_valid(q->study)) snprintf(p->study, sizeof p->study, "%s", q->study);
    p->requester = g->v.key;
    p->outcome = q->outcome;
    p->status = q->status;
    snprintf(p->reason, sizeof p->reason, "%s", q->reason ? q->reason : "");
    p->hash = q->dataset;
    p->patients = q->patients;
    p->records = q->records;
    p->as_of_height = q->as_of;
    carried(g, &p->base, &p->base_len, &p->sig, &p->sig_len);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_research_encode(&b, p);
    free(p);
    return submit(node, MC_TX_RESEARCH_QUERY, &b, b.err, txid);
}

void mc__gate_refuse_query(struct mc_node *node, struct mc__api_response *res,
                           const struct mc__gate *g, const char *study, uint8_t outcome,
                           unsigned status, int err, const char *why) {
    struct mc__gate_query q = {.study = study, .outcome = outcome, .status = (uint16_t)status,
                               .reason = why};
    mc_hash txid;
    if (g->known) {
        if (mc__gate_log_query(node, g, &q, &txid) == 0) mc_hex_encode(res->access_tx, txid.b, 32);
    } else {
        count_unauthenticated(node, NULL, study ? study : "", status);
        ((struct mc__gate *)g)->counted = true;
    }
    mc__api_fail(res, status, err, "%s", why);
}
