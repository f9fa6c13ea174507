/* Records API: the FHIR R4 facade (/fhir) and the signed /v1/records routes.
 *
 * Every private route: refused with 403 unless the connection is TLS or
 * from loopback; then the request's RFC 9421 signature is verified
 * (httpsig.h) and its (key, nonce) checked against a replay cache; then
 * the policy on the chain decides (app/records.h) at the committed height.
 * Every read, and every refusal of a read, a search or a write for an
 * authentication or policy reason, is logged on chain by a node-signed
 * access transaction carrying the requester's signature base and
 * signature. A read is served only once its access entry was admitted to
 * the mempool ("no log, no data"). Invalid FHIR is answered 400/422 with an
 * OperationOutcome and writes nothing.
 *
 * Writes: the node validates the resource, encrypts it under a fresh batch
 * key (data key per record version, see app/records.h), stores the
 * ciphertext blob, and submits the anchor signed with its own key, carrying
 * the author's signature base and signature so authorship is provable by
 * anyone. Responses are 201 once the anchor is admitted; the record is
 * readable once the anchor commits (next block).
 *
 * Handlers never call mc_node_* from inside mc_node_query callbacks. */
#include "api/routes.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fhir.h"
#include "api/httpsig.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "blob/blob.h"
#include "crypto/envelope.h"

#define FHIR_JSON "application/fhir+json"
#define SEARCH_MAX 1024

/* A record version's ciphertext from this node's blob store (its hash
 * checked). When the stored copy is missing or altered it is not served:
 * the loop fetches a good copy from a peer (hash checked against the
 * anchor) and replaces this one, so a later read succeeds. */
static int load_ciphertext(struct mc_node *node, const char *id, uint32_t version,
                           const mc_hash *ciphertext, struct mc_buf *ct) {
    int rc = mc_blob_get(mc_node_blobs(node), ciphertext, ct);
    if (rc != MC_ERR_TAMPERED && rc != MC_ERR_NOT_FOUND) return rc;
    char why[200];
    snprintf(why, sizeof why, "%s", mc_err_detail());
    if (mc_node_request_blob(node, id, version, ciphertext) == 0)
        return mc_err_set(rc, "%s; a good copy is being fetched from a peer (retry shortly)", why);
    return mc_err_set(rc, "%s; a good copy cannot be fetched (%s)", why, mc_err_detail());
}


/* --- responses --- */

static void set_body(struct mc__api_response *res, unsigned status, json_t *body) {
    json_decref(res->body);
    res->status = status;
    res->body = body;
    res->content_type = FHIR_JSON;
}

static void fhir_fail(struct mc__api_response *res, unsigned status, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fhir_fail(struct mc__api_response *res, unsigned status, int err, const char *fmt, ...) {
    char d[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    const char *code = mc_fhir_issue_code(err);
    if (status == 410) code = "deleted";
    if (status == 422) code = "invalid";
    set_body(res, status ? status : mc_api_http_status(err), mc_fhir_outcome("error", code, d));
}

/* JSON-API routes answer errors the /v1 way. */
static void json_fail(struct mc__api_response *res, unsigned status, int err, const char *msg) {
    mc__api_fail(res, status, err, "%s", msg);
}

static int64_t now_s(void) { return (int64_t)time(NULL); }

static uint64_t block_time_ms(struct mc_node *node) {
    struct mc_node_status s;
    mc_node_status(node, &s);
    return s.latest_time_ms;
}

/* --- signed requests and the access log --- */

struct signed_req {
    int rc;                       /* 0: verified and fresh */
    unsigned status;              /* refusal status */
    char why[300];
    struct mc_httpsig_verified v;
    bool have_sig;                /* the Signature member decoded */
};

static const char *hdr(const struct mc__api_request *req, const char *name) {
    return req->header ? req->header(req->header_ctx, name) : NULL;
}

static bool covered(const struct mc_httpsig_params *p, const char *c) {
    for (size_t i = 0; i < p->ncomp; i++)
        if (strcmp(p->comp[i], c) == 0) return true;
    return false;
}

static void verify_request(const struct mc__api_request *req, struct signed_req *s) {
    memset(s, 0, sizeof *s);
    struct mc_httpsig_message m = {.method = req->method, .target_uri = req->target_uri,
                                   .header = req->header, .header_ctx = req->header_ctx};
    mc_err_clear();
    if (!req->secure) {
        s->rc = MC_ERR_FORBIDDEN;
        s->status = 403;
        snprintf(s->why, sizeof s->why, "private data is served only over TLS (or on loopback)");
        mc_buf_init(&s->v.base, 0);
        return;
    }
    if (!req->target_uri) {
        s->rc = MC_ERR_MALFORMED;
        s->status = 400;
        snprintf(s->why, sizeof s->why, "the request has no Host header");
        mc_buf_init(&s->v.base, 0);
        return;
    }
    s->rc = mc_httpsig_verify_request(&s->v, &m, req->body, req->body_len, now_s());
    s->have_sig = s->rc != MC_ERR_MALFORMED || !sodium_is_zero(s->v.sig, sizeof s->v.sig);
    if (s->rc) {
        s->status = 401;
        snprintf(s->why, sizeof s->why, "%s", mc_err_detail());
        return;
    }
    /* Headers that change the meaning of a request must be signed. */
    const char *opt[] = {"x-purpose-of-use", "x-break-glass-reason"};
    for (size_t i = 0; i < 2; i++) {
        if (hdr(req, opt[i]) && !covered(&s->v.params, opt[i])) {
            s->rc = MC_ERR_MALFORMED;
            s->status = 401;
            snprintf(s->why, sizeof s->why, "header %s must be covered by the signature", opt[i]);
            return;
        }
    }
    if (s->v.base.len > MC_SIGBASE_MAX) {
        s->rc = MC_ERR_TOO_LARGE;
        s->status = 413;
        snprintf(s->why, sizeof s->why, "the signature base exceeds %d bytes", MC_SIGBASE_MAX);
        return;
    }
    int r = mc_httpsig_replay_check(&s->v.key, s->v.params.nonce, now_s());
    if (r == MC_ERR_EXISTS) {
        s->rc = MC_ERR_BAD_SIGNATURE;
        s->status = 401;
        snprintf(s->why, sizeof s->why, "replayed request: this signature's nonce was already used");
    } else if (r) {
        s->rc = MC_ERR_FULL;
        s->status = 503;
        snprintf(s->why, sizeof s->why, "too many signed requests in the window; retry");
    }
}

struct access_log {
    const mc_pubkey *patient;  /* NULL: unknown */
    const char *id;            /* NULL or "" */
    uint32_t version;
    uint8_t action, purpose, outcome;
    uint16_t status;
    const char *reason;
};

/* Submits the access entry; *txid receives its id. */
static int log_access(struct mc_node *node, const struct signed_req *s, const struct access_log *a,
                      mc_hash *txid) {
    static const mc_pubkey zero;
    struct mc_buf p;
    mc_buf_init(&p, 0);
    mc_enc_fixed(&p, (a->patient ? a->patient : &zero)->b, 32);
    char id[MC_RECORD_ID_MAX + 1] = "";
    if (a->id && mc_record_id_valid(a->id)) snprintf(id, sizeof id, "%s", a->id);
    mc_enc_str8(&p, id);
    mc_enc_u32(&p, a->version);
    mc_enc_fixed(&p, s->v.key.b, 32);
    mc_enc_u8(&p, a->action);
    mc_enc_u8(&p, a->purpose);
    mc_enc_u8(&p, a->outcome);
    mc_enc_u16(&p, a->status);
    char reason[MC_REASON_MAX + 1];
    snprintf(reason, sizeof reason, "%s", a->reason ? a->reason : "");
    mc_enc_str16(&p, reason);
    size_t bl = s->v.base.len > MC_SIGBASE_MAX ? MC_SIGBASE_MAX : s->v.base.len;
    mc_enc_bytes16(&p, s->v.base.data, bl);
    mc_enc_bytes8(&p, s->v.sig, s->have_sig ? MC_SIG_BYTES : 0);
    int rc = p.err ? p.err : mc_node_submit_signed(node, MC_TX_RECORD_ACCESS, p.data, p.len, txid);
    mc_buf_deinit(&p);
    return rc;
}

/* Logs a refusal and answers it. */
static void refuse(struct mc_node *node, struct mc__api_response *res, const struct signed_req *s,
                   struct access_log *a, bool fhir, int err, const char *why) {
    mc_hash txid;
    a->reason = why;
    if (a->status == 0) a->status = (uint16_t)(s->status ? s->status : mc_api_http_status(err));
    if (log_access(node, s, a, &txid) == 0) mc_hex_encode(res->access_tx, txid.b, 32);
    if (fhir) fhir_fail(res, a->status, err, "%s", why);
    else json_fail(res, a->status, err, why);
}

static uint8_t requested_purpose(const struct mc__api_request *req) {
    const char *p = hdr(req, "x-purpose-of-use");
    return p ? mc_purpose_from_code(p) : 0;
}

/* --- parsing patients and paths --- */

/* "HEX" or "Patient/HEX" -> key. */
static int parse_patient(mc_pubkey *out, const char *v) {
    if (!v) return MC_ERR_NOT_FOUND;
    if (strncmp(v, "Patient/", 8) == 0) v += 8;
    return mc_api_parse_pubkey(out, v);
}

struct fhir_path {
    char type[40];
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version; /* 0: current */
    char op[24];      /* "$everything" */
    int parts;
};

static int parse_path(struct fhir_path *fp, const char *param) {
    memset(fp, 0, sizeof *fp);
    char buf[MC_API_SEGMENT_MAX + 1];
    snprintf(buf, sizeof buf, "%s", param);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '/') buf[--n] = 0;
    char *seg[5];
    int k = 0;
    for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (k == 5) return MC_ERR_NOT_FOUND;
        seg[k++] = t;
    }
    fp->parts = k;
    if (k < 1 || strlen(seg[0]) >= sizeof fp->type) return MC_ERR_NOT_FOUND;
    snprintf(fp->type, sizeof fp->type, "%s", seg[0]);
    if (k >= 2) {
        if (!mc_record_id_valid(seg[1]) && strlen(seg[1]) != 64) return MC_ERR_NOT_FOUND;
        snprintf(fp->id, sizeof fp->id, "%s", seg[1]);
    }
    if (k == 3) {
        if (seg[2][0] != '$' || strlen(seg[2]) >= sizeof fp->op) return MC_ERR_NOT_FOUND;
        snprintf(fp->op, sizeof fp->op, "%s", seg[2]);
    }
    if (k == 4) {
        uint64_t v;
        if (strcmp(seg[2], "_history") || mc_api_parse_u64(&v, seg[3]) || v == 0 || v > UINT32_MAX)
            return MC_ERR_NOT_FOUND;
        fp->version = (uint32_t)v;
    }
    if (k == 5) return MC_ERR_NOT_FOUND;
    return 0;
}

/* --- reading one record version (decrypt) --- */

struct rec_read {
    /* in */
    const char *id;
    uint32_t version;              /* 0: current */
    const mc_pubkey *requester;
    uint8_t purpose;
    const char *btg;
    uint64_t now_ms;
    const mc_pubkey *node_key;
    bool skip_policy;
    /* out */
    int rc;
    struct mc_record_head head;
    struct mc_record_version ver;
    struct mc_access_decision d;
    bool have_batch_key;           /* sealed key for this node found */
    bool via_grant;
    uint8_t sealed[MC_SEALED_KEY_BYTES];
};

static int q_rec(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct rec_read *r = ctx;
    struct mc_state *st = mc_app_state(app);
    r->rc = mc_records_get_head(st, r->id, &r->head);
    if (r->rc) return 0;
    if (!r->skip_policy)
        mc_records_decide(st, r->requester, &r->head, r->purpose, r->btg, r->now_ms, &r->d);
    uint32_t v = r->version ? r->version : r->head.versions;
    if (v < 1 || v > r->head.versions) {
        r->rc = MC_ERR_NOT_FOUND;
        return 0;
    }
    r->version = v;
    if ((r->rc = mc_records_get_version(st, r->id, v, &r->ver))) return 0;
    struct mc_record_batch b;
    if (mc_records_get_batch(st, &r->ver.batch, &b) == 0 && b.has_keys &&
        memcmp(b.node.b, r->node_key->b, 32) == 0) {
        memcpy(r->sealed, b.sealed_node, sizeof r->sealed);
        r->have_batch_key = true;
    } else if (mc_records_get_grant_key(st, r->id, v, r->node_key, r->sealed) == 0) {
        r->via_grant = true;
    }
    return 0;
}

/* Fetches, checks and decrypts the version's ciphertext into plain. Errors:
 * MC_ERR_TAMPERED (ciphertext altered and no good copy), MC_ERR_STATE
 * (purged), MC_ERR_CRYPTO (no key for this node). */
static int open_record(struct mc_node *node, const struct rec_read *r, struct mc_buf *plain) {
    if (!r->have_batch_key && !r->via_grant)
        return mc_err_set(MC_ERR_CRYPTO, "this node holds no key for the record (authored elsewhere, not granted to it)");
    struct mc_buf ct;
    mc_buf_init(&ct, 0);
    int rc = load_ciphertext(node, r->id, r->version, &r->ver.ciphertext, &ct);
    if (rc) {
        mc_buf_deinit(&ct);
        return rc;
    }
    uint8_t key[MC_DATAKEY_BYTES], batch[MC_DATAKEY_BYTES];
    rc = mc_envelope_open_key(r->via_grant ? key : batch, r->sealed, mc_node_keypair(node));
    if (!rc && !r->via_grant) mc_record_data_key(key, batch, r->id, r->version);
    uint8_t ad[69];
    size_t adn = mc_record_ad(ad, r->id, r->version);
    if (!rc) rc = mc_envelope_decrypt(plain, key, ct.data, ct.len, ad, adn);
    sodium_memzero(key, sizeof key);
    sodium_memzero(batch, sizeof batch);
    mc_buf_deinit(&ct);
    return rc;
}

/* Adds meta.versionId and meta.lastUpdated to a stored resource. */
static json_t *with_meta(const uint8_t *plain, size_t len, uint32_t version, uint64_t time_ms) {
    json_t *res = json_loadb((const char *)plain, len, JSON_REJECT_DUPLICATES, NULL);
    if (!res) return NULL;
    json_t *meta = json_object_get(res, "meta");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(res, "meta", meta);
    }
    char v[16], t[32];
    snprintf(v, sizeof v, "%u", version);
    mc_fhir_instant(t, time_ms);
    json_object_set_new(meta, "versionId", json_string(v));
    json_object_set_new(meta, "lastUpdated", json_string(t));
    return res;
}

/* --- GET /fhir/{type}/{id}[/_history/{v}] --- */

static void fhir_read(struct mc_node *node, const struct fhir_path *fp,
                      const struct mc__api_request *req, struct mc__api_response *res) {
    struct signed_req s;
    verify_request(req, &s);
    struct rec_read r = {.id = fp->id, .version = fp->version, .requester = &s.v.key,
                         .purpose = requested_purpose(req), .btg = hdr(req, "x-break-glass-reason"),
                         .now_ms = block_time_ms(node), .node_key = &mc_node_keypair(node)->pk,
                         .skip_policy = s.rc != 0};
    (void)mc_node_query(node, q_rec, &r);
    uint8_t action = fp->version ? MC_ACTION_VREAD : MC_ACTION_READ;
    struct access_log a = {.patient = r.rc == 0 || r.head.versions ? &r.head.patient : NULL,
                           .id = fp->id, .version = fp->version, .action = action,
                           .purpose = r.purpose, .outcome = MC_OUTCOME_SECURITY};
    if (s.rc) {
        refuse(node, res, &s, &a, true, s.rc, s.why);
        goto out;
    }
    a.outcome = MC_OUTCOME_REFUSED;
    if (r.rc || mc_records_type_from_name(fp->type) != r.head.type) {
        a.status = 404;
        refuse(node, res, &s, &a, true, MC_ERR_NOT_FOUND, "no such record");
        goto out;
    }
    a.purpose = r.d.purpose;
    if (!r.d.allowed) {
        a.status = (uint16_t)r.d.status;
        refuse(node, res, &s, &a, true, r.d.status == 410 ? MC_ERR_STATE : MC_ERR_FORBIDDEN, r.d.reason);
        goto out;
    }
    struct mc_buf plain;
    mc_buf_init(&plain, 0);
    int rc = open_record(node, &r, &plain);
    if (rc) {
        a.outcome = rc == MC_ERR_TAMPERED ? MC_OUTCOME_SECURITY : MC_OUTCOME_REFUSED;
        a.status = rc == MC_ERR_STATE ? 410 : 500;
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        refuse(node, res, &s, &a, true, rc, why);
        sodium_memzero(plain.data, plain.cap);
        mc_buf_deinit(&plain);
        goto out;
    }
    json_t *body = with_meta(plain.data, plain.len, r.version, r.ver.time_ms);
    sodium_memzero(plain.data, plain.cap);
    mc_buf_deinit(&plain);
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.version = r.version;
    a.reason = r.d.break_glass ? hdr(req, "x-break-glass-reason") : "";
    mc_hash txid;
    if ((rc = log_access(node, &s, &a, &txid))) {
        json_decref(body);
        fhir_fail(res, rc == MC_ERR_EXISTS ? 401 : 503, rc,
                  "the access could not be logged, so the record is not served: %s", mc_err_detail());
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    snprintf(res->etag, sizeof res->etag, "W/\"%u\"", r.version);
    set_body(res, body ? 200 : 500, body ? body : mc_fhir_outcome("error", "exception", "stored resource does not parse"));
out:
    mc_buf_deinit(&s.v.base);
}

/* --- searches over a patient's records --- */

struct collect {
    uint16_t type;     /* 0: all */
    bool include_erased;
    size_t n;
    char (*ids)[MC_RECORD_ID_MAX + 1];
};

static int collect_row(void *ctx, const struct mc_record_head *h) {
    struct collect *c = ctx;
    if ((h->erased && !c->include_erased) || (c->type && h->type != c->type)) return 0;
    if (c->n == SEARCH_MAX) return 1;
    snprintf(c->ids[c->n++], MC_RECORD_ID_MAX + 1, "%s", h->id);
    return 0;
}

struct q_list {
    const mc_pubkey *patient, *requester;
    struct collect c;
    struct mc_access_decision view;
    int rc;
};

static int q_list(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_list *q = ctx;
    mc_records_decide_patient_view(mc_app_state(app), q->requester, q->patient, &q->view);
    q->rc = mc_records_scan_patient(mc_app_state(app), q->patient, collect_row, &q->c);
    return 0;
}

static json_t *bundle(const char *type) {
    return json_pack("{s:s, s:s, s:I, s:[]}", "resourceType", "Bundle", "type", type, "total",
                     (json_int_t)0, "entry");
}

static void bundle_add_mode(json_t *b, json_t *res, const char *type, const char *id,
                            const char *mode) {
    char url[160];
    snprintf(url, sizeof url, "%s/%s", type, id);
    json_array_append_new(json_object_get(b, "entry"),
                          json_pack("{s:s, s:o, s:{s:s}}", "fullUrl", url, "resource", res, "search",
                                    "mode", mode));
    json_object_set_new(b, "total", json_integer((json_int_t)json_array_size(json_object_get(b, "entry"))));
}

static void bundle_add(json_t *b, json_t *res, const char *type, const char *id) {
    bundle_add_mode(b, res, type, id, "match");
}

/* --- Provenance generated from the anchors ---
 *
 * Every record version has an anchor on the chain: who authored it (the
 * author's key, whose RFC 9421 signature the anchor carries), for which
 * organisation, which node encrypted and anchored it, when (block time),
 * and which version it amends. Each version is served as a Provenance
 * resource with the id "<record id>.<version>" (record ids carry no '.'),
 * readable at /fhir/Provenance/<id>.<v> and found with
 * /fhir/Provenance?target=Type/id[/_history/v]; $everything includes them.
 * The policy is that of the target record. */

static json_t *provenance(const struct mc_record_head *h, uint32_t v,
                          const struct mc_record_version *rv, const mc_pubkey *node) {
    const char *type = mc_records_type_name(h->type);
    char id[MC_RECORD_ID_MAX + 16], target[160], t[32], author[65], batch[65], org[16];
    snprintf(id, sizeof id, "%s.%u", h->id, v);
    snprintf(target, sizeof target, "%s/%s/_history/%u", type, h->id, v);
    mc_fhir_instant(t, rv->time_ms);
    mc_hex_encode(author, rv->author.b, 32);
    mc_hex_encode(batch, rv->batch.b, 32);
    snprintf(org, sizeof org, "%u", h->org);
    json_t *p = json_pack(
        "{s:s, s:s, s:[{s:s}], s:s, s:{s:[{s:s, s:s, s:s}]},"
        " s:[{s:{s:[{s:s, s:s}]}, s:{s:{s:s, s:s}}, s:{s:{s:s, s:s}}}],"
        " s:[{s:s, s:{s:{s:s, s:s}}}]}",
        "resourceType", "Provenance", "id", id, "target", "reference", target, "recorded", t,
        "activity", "coding", "system", "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
        "code", v == 1 ? "CREATE" : "UPDATE", "display", v == 1 ? "create" : "revise",
        "agent", "type", "coding", "system",
        "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code", "author",
        "who", "identifier", "system", "urn:medchain:account", "value", author,
        "onBehalfOf", "identifier", "system", "urn:medchain:org", "value", org,
        "entity", "role", "source", "what", "identifier", "system",
        "urn:medchain:ledger-transaction", "value", batch);
    if (!p) return NULL;
    static const mc_pubkey zero;
    if (memcmp(node->b, zero.b, 32) != 0) {
        char nk[65];
        mc_hex_encode(nk, node->b, 32);
        json_array_append_new(json_object_get(p, "agent"),
                              json_pack("{s:{s:[{s:s, s:s}]}, s:{s:{s:s, s:s}}}", "type", "coding",
                                        "system", "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                        "code", "custodian", "who", "identifier", "system",
                                        "urn:medchain:node", "value", nk));
    }
    if (v > 1) {
        char prev[160];
        snprintf(prev, sizeof prev, "%s/%s/_history/%u", type, h->id, v - 1);
        json_array_append_new(json_object_get(p, "entity"),
                              json_pack("{s:s, s:{s:s}}", "role", "revision", "what", "reference", prev));
    }
    return p;
}

struct q_prov {
    const char *id;
    uint32_t version;   /* 0: every version */
    json_t *list;       /* Provenance resources out */
    int rc;
};

static int q_prov(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_prov *q = ctx;
    struct mc_state *st = mc_app_state(app);
    struct mc_record_head h;
    if ((q->rc = mc_records_get_head(st, q->id, &h))) return 0;
    uint32_t from = q->version ? q->version : 1, to = q->version ? q->version : h.versions;
    if (to > h.versions) {
        q->rc = MC_ERR_NOT_FOUND;
        return 0;
    }
    for (uint32_t v = from; v <= to; v++) {
        struct mc_record_version rv;
        if ((q->rc = mc_records_get_version(st, q->id, v, &rv))) return 0;
        struct mc_record_batch b;
        mc_pubkey node;
        memset(&node, 0, sizeof node);
        if (mc_records_get_batch(st, &rv.batch, &b) == 0) node = b.node;
        json_t *p = provenance(&h, v, &rv, &node);
        if (p) json_array_append_new(q->list, p);
    }
    return 0;
}

/* Splits "[Type/]id[/_history/v]" or a generated Provenance id "id.v". */
static int parse_target(const char *ref, char type[40], char id[MC_RECORD_ID_MAX + 1],
                        uint32_t *version) {
    type[0] = 0;
    *version = 0;
    char buf[200];
    if (!ref || strlen(ref) >= sizeof buf) return MC_ERR_MALFORMED;
    snprintf(buf, sizeof buf, "%s", ref);
    char *rest = buf, *slash = strchr(buf, '/');
    if (slash) {
        *slash = 0;
        size_t tn = strlen(buf);
        if (tn >= 40) return MC_ERR_MALFORMED;
        memcpy(type, buf, tn + 1);
        rest = slash + 1;
    }
    char *hist = strstr(rest, "/_history/");
    if (hist) {
        *hist = 0;
        uint64_t v;
        if (mc_api_parse_u64(&v, hist + 10) || v == 0 || v > UINT32_MAX) return MC_ERR_MALFORMED;
        *version = (uint32_t)v;
    }
    if (!mc_record_id_valid(rest)) return MC_ERR_MALFORMED;
    memcpy(id, rest, strlen(rest) + 1); /* valid ids are at most MC_RECORD_ID_MAX */
    return 0;
}

/* GET /fhir/Provenance?target=... (search) or /fhir/Provenance/<id>.<v>
 * (read, by_id): the anchors' provenance of one record. */
static void fhir_provenance(struct mc_node *node, const char *target, bool by_id,
                            const struct mc__api_request *req, struct mc__api_response *res) {
    char type[40], id[MC_RECORD_ID_MAX + 1];
    uint32_t version = 0;
    int prc = 0;
    if (by_id) {
        /* "<record id>.<version>" */
        const char *dot = strrchr(target, '.');
        uint64_t v = 0;
        type[0] = 0;
        if (!dot || (size_t)(dot - target) > MC_RECORD_ID_MAX || mc_api_parse_u64(&v, dot + 1) ||
            v == 0 || v > UINT32_MAX) {
            prc = MC_ERR_NOT_FOUND;
        } else {
            memcpy(id, target, (size_t)(dot - target));
            id[dot - target] = 0;
            version = (uint32_t)v;
            if (!mc_record_id_valid(id)) prc = MC_ERR_NOT_FOUND;
        }
    } else {
        prc = parse_target(target, type, id, &version);
    }
    if (prc) {
        if (by_id) fhir_fail(res, 404, MC_ERR_NOT_FOUND, "no such Provenance");
        else fhir_fail(res, 400, MC_ERR_MALFORMED, "target must be Type/id, Type/id/_history/v or id");
        return;
    }
    if (type[0] && !mc_records_type_from_name(type)) {
        fhir_fail(res, 400, MC_ERR_MALFORMED, "target names an unsupported resource type '%s'", type);
        return;
    }
    struct signed_req s;
    verify_request(req, &s);
    struct rec_read r = {.id = id, .version = version, .requester = &s.v.key,
                         .purpose = requested_purpose(req), .btg = hdr(req, "x-break-glass-reason"),
                         .now_ms = block_time_ms(node), .node_key = &mc_node_keypair(node)->pk,
                         .skip_policy = s.rc != 0};
    (void)mc_node_query(node, q_rec, &r);
    bool found = r.rc == 0 && (!type[0] || mc_records_type_from_name(type) == r.head.type);
    struct access_log a = {.patient = found ? &r.head.patient : NULL, .id = id, .version = version,
                           .action = by_id ? MC_ACTION_READ : MC_ACTION_SEARCH, .purpose = r.purpose,
                           .outcome = MC_OUTCOME_SECURITY};
    json_t *b = NULL;
    if (s.rc) {
        refuse(node, res, &s, &a, true, s.rc, s.why);
        goto out;
    }
    a.outcome = MC_OUTCOME_REFUSED;
    if (!found && by_id) {
        a.status = 404;
        refuse(node, res, &s, &a, true, MC_ERR_NOT_FOUND, "no such Provenance");
        goto out;
    }
    if (found && !r.d.allowed) {
        a.purpose = r.d.purpose;
        a.status = (uint16_t)r.d.status;
        refuse(node, res, &s, &a, true, r.d.status == 410 ? MC_ERR_STATE : MC_ERR_FORBIDDEN, r.d.reason);
        goto out;
    }
    struct q_prov q = {.id = id, .version = version, .list = json_array()};
    if (found) (void)mc_node_query(node, q_prov, &q);
    if (by_id && (q.rc || json_array_size(q.list) != 1)) {
        json_decref(q.list);
        a.status = 404;
        refuse(node, res, &s, &a, true, MC_ERR_NOT_FOUND, "no such Provenance");
        goto out;
    }
    if (found) a.purpose = r.d.purpose;
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    char why[160];
    snprintf(why, sizeof why, "provenance of %zu record version(s) served", json_array_size(q.list));
    a.reason = why;
    mc_hash txid;
    int rc = log_access(node, &s, &a, &txid);
    if (rc) {
        json_decref(q.list);
        fhir_fail(res, 503, rc, "the access could not be logged, so nothing is served: %s", mc_err_detail());
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    if (by_id) {
        set_body(res, 200, json_incref(json_array_get(q.list, 0)));
        json_decref(q.list);
        goto out;
    }
    b = bundle("searchset");
    for (size_t i = 0; i < json_array_size(q.list); i++) {
        json_t *p = json_array_get(q.list, i);
        bundle_add(b, json_incref(p), "Provenance", json_string_value(json_object_get(p, "id")));
    }
    json_decref(q.list);
    set_body(res, 200, b);
out:
    mc_buf_deinit(&s.v.base);
}

/* Search (type != 0) or $everything export (type 0, patient only). */
static void fhir_search(struct mc_node *node, uint16_t type, const mc_pubkey *patient, bool export,
                        const struct mc__api_request *req, struct mc__api_response *res) {
    struct signed_req s;
    verify_request(req, &s);
    struct access_log a = {.patient = patient, .action = export ? MC_ACTION_EXPORT : MC_ACTION_SEARCH,
                           .purpose = requested_purpose(req), .outcome = MC_OUTCOME_SECURITY};
    if (s.rc) {
        refuse(node, res, &s, &a, true, s.rc, s.why);
        mc_buf_deinit(&s.v.base);
        return;
    }
    struct q_list q = {.patient = patient, .requester = &s.v.key, .c = {.type = type}};
    q.c.ids = calloc(SEARCH_MAX, sizeof *q.c.ids);
    if (!q.c.ids) {
        fhir_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        mc_buf_deinit(&s.v.base);
        return;
    }
    (void)mc_node_query(node, q_list, &q);
    a.outcome = MC_OUTCOME_REFUSED;
    if (export && memcmp(s.v.key.b, patient->b, 32) != 0) {
        a.status = 403;
        refuse(node, res, &s, &a, true, MC_ERR_FORBIDDEN, "only the patient exports their records");
        goto out;
    }
    json_t *b = bundle("searchset");
    size_t allowed = 0;
    uint64_t now = block_time_ms(node);
    for (size_t i = 0; i < q.c.n; i++) {
        struct rec_read r = {.id = q.c.ids[i], .requester = &s.v.key, .purpose = a.purpose,
                             .btg = hdr(req, "x-break-glass-reason"), .now_ms = now,
                             .node_key = &mc_node_keypair(node)->pk};
        (void)mc_node_query(node, q_rec, &r);
        if (r.rc || !r.d.allowed) continue;
        if (r.d.break_glass) a.purpose = MC_PURPOSE_BTG;
        else if (!a.purpose) a.purpose = r.d.purpose;
        struct mc_buf plain;
        mc_buf_init(&plain, 0);
        if (open_record(node, &r, &plain) == 0) {
            json_t *one = with_meta(plain.data, plain.len, r.version, r.ver.time_ms);
            if (one) {
                bundle_add(b, one, mc_records_type_name(r.head.type), r.id);
                allowed++;
                if (export) {
                    struct q_prov qp = {.id = r.id, .list = json_array()};
                    (void)mc_node_query(node, q_prov, &qp);
                    for (size_t k = 0; k < json_array_size(qp.list); k++) {
                        json_t *p = json_array_get(qp.list, k);
                        bundle_add_mode(b, json_incref(p), "Provenance",
                                        json_string_value(json_object_get(p, "id")), "include");
                    }
                    json_decref(qp.list);
                }
            }
        }
        sodium_memzero(plain.data, plain.cap);
        mc_buf_deinit(&plain);
    }
    char why[160];
    snprintf(why, sizeof why, "%zu of %zu matching records served", allowed, q.c.n);
    if (q.c.n > 0 && allowed == 0) {
        json_decref(b);
        a.status = 403;
        refuse(node, res, &s, &a, true, MC_ERR_FORBIDDEN, "no grant of the patient covers these records for the signer");
        goto out;
    }
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.reason = why;
    mc_hash txid;
    int rc = log_access(node, &s, &a, &txid);
    if (rc) {
        json_decref(b);
        fhir_fail(res, 503, rc, "the access could not be logged, so nothing is served: %s", mc_err_detail());
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    set_body(res, 200, b);
out:
    free(q.c.ids);
    mc_buf_deinit(&s.v.base);
}

/* --- AuditEvent and Consent --- */

struct q_audit {
    const mc_pubkey *patient; /* NULL: all (auditors) */
    const mc_pubkey *requester;
    bool has_agent;
    mc_pubkey agent;
    uint64_t from_ms, to_ms;
    struct mc_access_decision view;
    json_t *bundle;
    const mc_pubkey *node_key;
    int rc;
};

static json_t *audit_event(const struct mc_access_entry *e, const mc_pubkey *node_key) {
    char who[65], pat[65], tx[65], node[65], t[32];
    mc_hex_encode(who, e->requester.b, 32);
    mc_hex_encode(pat, e->patient.b, 32);
    mc_hex_encode(tx, e->tx_id.b, 32);
    mc_hex_encode(node, node_key->b, 32);
    mc_fhir_instant(t, e->time_ms);
    const char *action = e->action == MC_ACTION_CREATE ? "C" : e->action == MC_ACTION_EXPORT ? "R"
                                                                                             : e->action == MC_ACTION_SEARCH ? "E" : "R";
    char outcome[4];
    snprintf(outcome, sizeof outcome, "%u", e->outcome);
    char what[128];
    snprintf(what, sizeof what, "%s", e->id[0] ? e->id : "");
    json_t *ev = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:s}], s:s, s:s, s:s, s:s,"
        " s:[{s:{s:s, s:{s:s, s:s}}, s:b, s:[{s:[{s:s, s:s}]}]}],"
        " s:{s:{s:s, s:{s:s, s:s}}}}",
        "resourceType", "AuditEvent", "id", tx,
        "type", "system", "http://terminology.hl7.org/CodeSystem/audit-event-type", "code", "rest",
        "display", "RESTful Operation",
        "subtype", "system", "http://hl7.org/fhir/restful-interaction", "code",
        e->action == MC_ACTION_SEARCH ? "search-type" : e->action == MC_ACTION_CREATE ? "create" : e->action == MC_ACTION_VREAD ? "vread" : "read",
        "action", action, "recorded", t, "outcome", outcome, "outcomeDesc", e->reason,
        "agent", "who", "reference", "", "identifier", "system", "urn:medchain:account", "value", who,
        "requestor", 1, "purposeOfUse", "coding", "system",
        "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code", mc_purpose_code(e->purpose ? e->purpose : MC_PURPOSE_TREAT),
        "source", "observer", "reference", "", "identifier", "system", "urn:medchain:node", "value", node);
    if (!ev) return NULL;
    /* agent.who and source.observer carry identifiers, not references. */
    json_object_del(json_object_get(json_array_get(json_object_get(ev, "agent"), 0), "who"), "reference");
    json_object_del(json_object_get(json_object_get(ev, "source"), "observer"), "reference");
    json_t *entity = json_array();
    json_t *ent = json_pack("{s:{s:{s:s, s:s}}, s:[{s:s, s:s}]}", "what", "identifier", "system",
                            "urn:medchain:record", "value", what[0] ? what : "(none)", "detail",
                            "type", "ledger-transaction", "valueString", tx);
    if (ent) json_array_append_new(entity, ent);
    json_t *pent = json_pack("{s:{s:s}, s:{s:s}}", "what", "reference", "", "role", "code", "1");
    if (pent) {
        char ref[80];
        snprintf(ref, sizeof ref, "Patient/%s", pat);
        json_object_set_new(json_object_get(pent, "what"), "reference", json_string(ref));
        json_object_set_new(pent, "role", json_pack("{s:s, s:s}", "system",
                                                    "http://terminology.hl7.org/CodeSystem/object-role", "code", "1"));
        json_array_append_new(entity, pent);
    }
    json_object_set_new(ev, "entity", entity);
    return ev;
}

static int audit_row(void *ctx, const struct mc_access_entry *e) {
    struct q_audit *q = ctx;
    if (q->has_agent && memcmp(e->requester.b, q->agent.b, 32)) return 0;
    if (q->from_ms && e->time_ms < q->from_ms) return 0;
    if (q->to_ms && e->time_ms >= q->to_ms) return 0;
    if (json_array_size(json_object_get(q->bundle, "entry")) >= 5000) return 1;
    json_t *ev = audit_event(e, q->node_key);
    if (ev) {
        char id[65];
        mc_hex_encode(id, e->tx_id.b, 32);
        bundle_add(q->bundle, ev, "AuditEvent", id);
    }
    return 0;
}

static int q_audit(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_audit *q = ctx;
    struct mc_state *st = mc_app_state(app);
    if (q->patient) {
        mc_records_decide_patient_view(st, q->requester, q->patient, &q->view);
    } else {
        struct mc_account a;
        q->view.allowed = mc_identity_get_account(st, q->requester, &a) == 0 &&
                          a.status == MC_ACCOUNT_ACTIVE && a.role == MC_ROLE_AUDITOR;
        q->view.status = 403;
        snprintf(q->view.reason, sizeof q->view.reason, "only auditors search the whole access log");
        q->view.purpose = MC_PURPOSE_HOPERAT;
    }
    if (q->view.allowed) q->rc = mc_records_scan_access(st, q->patient, audit_row, q);
    return 0;
}

static json_t *consent(const mc_pubkey *patient, const struct mc_grant *g, uint64_t now_ms) {
    char id[65], pat[65], who[80];
    mc_hex_encode(id, g->id.b, 32);
    mc_hex_encode(pat, patient->b, 32);
    if (g->kind == MC_GRANTEE_MEMBER) {
        char m[65];
        mc_hex_encode(m, g->member.b, 32);
        snprintf(who, sizeof who, "%s", m);
    } else {
        snprintf(who, sizeof who, "%u", g->org);
    }
    bool active = !g->revoked_height && !(g->expiry_ms && g->expiry_ms <= now_ms);
    char pref[80];
    snprintf(pref, sizeof pref, "Patient/%s", pat);
    json_t *c = json_pack(
        "{s:s, s:s, s:s, s:{s:s}, s:[{s:[{s:s, s:s}]}], s:{s:s}, s:{s:s, s:{s:{s:{s:s, s:s}}}}}",
        "resourceType", "Consent", "id", id, "status", active ? "active" : "inactive",
        "scope", "text", "patient-privacy", "category", "coding", "system", "http://loinc.org",
        "code", "59284-0", "patient", "reference", pref,
        "provision", "type", "permit", "actor", "reference", "identifier",
        "system", g->kind == MC_GRANTEE_MEMBER ? "urn:medchain:account" : "urn:medchain:org",
        "value", who);
    /* provision.actor is a list of {role, reference}; R4 requires a policy
     * or policyRule (ppc-1): the patient opted in. */
    if (c) {
        json_object_set_new(c, "policyRule",
                            json_pack("{s:[{s:s, s:s}]}", "coding", "system",
                                      "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code", "OPTIN"));
        json_t *pv = json_object_get(c, "provision");
        json_t *one = json_object_get(pv, "actor");
        json_object_set_new(pv, "actor", json_pack("[O]", one));
    }
    if (!c) return NULL;
    json_t *prov = json_object_get(c, "provision");
    json_t *actor = json_object_get(json_array_get(json_object_get(prov, "actor"), 0), "reference");
    (void)actor;
    /* provision.actor[] = {role, reference{identifier}} */
    json_t *act = json_array_get(json_object_get(prov, "actor"), 0);
    json_object_set_new(act, "role", json_pack("{s:[{s:s, s:s}]}", "coding", "system",
                                               "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                               "code", "IRCP"));
    json_t *classes = json_array();
    for (int i = 0; i < 8; i++)
        if (g->categories & (1u << i))
            json_array_append_new(classes, json_pack("{s:s, s:s}", "system", "urn:medchain:category",
                                                     "code", mc_category_name((uint8_t)(1u << i))));
    json_object_set_new(prov, "class", classes);
    if (g->expiry_ms) {
        char t[32];
        mc_fhir_instant(t, g->expiry_ms);
        json_object_set_new(prov, "period", json_pack("{s:s}", "end", t));
    }
    return c;
}

struct q_consent {
    const mc_pubkey *patient, *requester;
    struct mc_access_decision view;
    json_t *bundle;
    uint64_t now_ms;
};

static int consent_row(void *ctx, const mc_pubkey *patient, const struct mc_grant *g) {
    struct q_consent *q = ctx;
    json_t *c = consent(patient, g, q->now_ms);
    if (c) {
        char id[65];
        mc_hex_encode(id, g->id.b, 32);
        bundle_add(q->bundle, c, "Consent", id);
    }
    return 0;
}

static int q_consent(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_consent *q = ctx;
    mc_records_decide_patient_view(mc_app_state(app), q->requester, q->patient, &q->view);
    if (q->view.allowed && mc_records_scan_grants(mc_app_state(app), q->patient, consent_row, q))
        q->view.allowed = false;
    return 0;
}

static void fhir_audit_or_consent(struct mc_node *node, bool audit, const struct mc__api_request *req,
                                  struct mc__api_response *res) {
    mc_pubkey patient;
    const char *pa = req->arg ? req->arg(req->arg_ctx, "patient") : NULL;
    bool has_patient = pa != NULL;
    if (has_patient && parse_patient(&patient, pa)) {
        fhir_fail(res, 400, MC_ERR_MALFORMED, "patient must be a patient key (hex) or Patient/<key>");
        return;
    }
    if (!audit && !has_patient) {
        fhir_fail(res, 400, MC_ERR_MALFORMED, "Consent search needs patient=");
        return;
    }
    struct q_audit qa = {.patient = has_patient ? &patient : NULL, .node_key = &mc_node_keypair(node)->pk};
    if (audit) {
        const char *ag = req->arg ? req->arg(req->arg_ctx, "agent") : NULL;
        if (ag && mc_api_parse_pubkey(&qa.agent, ag)) {
            fhir_fail(res, 400, MC_ERR_MALFORMED, "agent must be an account key (hex)");
            return;
        }
        qa.has_agent = ag != NULL;
        const char *date = req->arg ? req->arg(req->arg_ctx, "date") : NULL;
        if (date) {
            uint64_t ms;
            bool ge = strncmp(date, "ge", 2) == 0, lt = strncmp(date, "lt", 2) == 0;
            if (mc_fhir_parse_date(&ms, date + ((ge || lt) ? 2 : 0))) {
                fhir_fail(res, 400, MC_ERR_MALFORMED, "date must be [ge|lt]YYYY[-MM[-DD]]");
                return;
            }
            if (lt) qa.to_ms = ms;
            else if (ge) qa.from_ms = ms;
            else qa.from_ms = ms, qa.to_ms = ms + 86400000ULL;
        }
    }
    struct signed_req s;
    verify_request(req, &s);
    struct access_log a = {.patient = has_patient ? &patient : NULL, .action = MC_ACTION_AUDIT,
                           .purpose = MC_PURPOSE_HOPERAT, .outcome = MC_OUTCOME_SECURITY};
    if (s.rc) {
        refuse(node, res, &s, &a, true, s.rc, s.why);
        mc_buf_deinit(&s.v.base);
        return;
    }
    json_t *b = bundle("searchset");
    struct mc_access_decision view;
    if (audit) {
        qa.requester = &s.v.key;
        qa.bundle = b;
        (void)mc_node_query(node, q_audit, &qa);
        view = qa.view;
    } else {
        struct q_consent qc = {.patient = &patient, .requester = &s.v.key, .bundle = b,
                               .now_ms = block_time_ms(node)};
        (void)mc_node_query(node, q_consent, &qc);
        view = qc.view;
    }
    a.outcome = MC_OUTCOME_REFUSED;
    if (!view.allowed) {
        json_decref(b);
        a.status = (uint16_t)view.status;
        refuse(node, res, &s, &a, true, MC_ERR_FORBIDDEN, view.reason);
        mc_buf_deinit(&s.v.base);
        return;
    }
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.purpose = view.purpose;
    a.reason = audit ? "access log read" : "grants read";
    mc_hash txid;
    if (log_access(node, &s, &a, &txid)) {
        json_decref(b);
        fhir_fail(res, 503, MC_ERR_FULL, "the access could not be logged: %s", mc_err_detail());
    } else {
        mc_hex_encode(res->access_tx, txid.b, 32);
        set_body(res, 200, b);
    }
    mc_buf_deinit(&s.v.base);
}

void mc__api_fhir_get(struct mc_node *node, const char *param, const struct mc__api_request *req,
                      struct mc__api_response *res) {
    struct fhir_path fp;
    if (parse_path(&fp, param)) {
        fhir_fail(res, 404, MC_ERR_NOT_FOUND, "no such FHIR route");
        return;
    }
    if (fp.parts == 1 && (strcmp(fp.type, "AuditEvent") == 0 || strcmp(fp.type, "Consent") == 0)) {
        fhir_audit_or_consent(node, fp.type[0] == 'A', req, res);
        return;
    }
    uint16_t type = mc_records_type_from_name(fp.type);
    if (!type) {
        fhir_fail(res, 404, MC_ERR_NOT_FOUND, "resource type '%s' is not supported here (see /fhir/metadata)", fp.type);
        return;
    }
    if (type == MC_FHIR_PROVENANCE && fp.parts == 1 && req->arg && req->arg(req->arg_ctx, "target")) {
        fhir_provenance(node, req->arg(req->arg_ctx, "target"), false, req, res);
        return;
    }
    if (type == MC_FHIR_PROVENANCE && fp.parts == 2 && strchr(fp.id, '.')) {
        fhir_provenance(node, fp.id, true, req, res);
        return;
    }
    if (fp.parts == 1) {
        const char *pa = req->arg ? req->arg(req->arg_ctx, "patient") : NULL;
        if (!pa) pa = req->arg ? req->arg(req->arg_ctx, "subject") : NULL;
        mc_pubkey patient;
        if (parse_patient(&patient, pa)) {
            fhir_fail(res, 400, MC_ERR_MALFORMED, "search needs patient=<patient key> (or Patient/<key>)");
            return;
        }
        fhir_search(node, type, &patient, false, req, res);
        return;
    }
    if (fp.parts == 3) {
        mc_pubkey patient;
        if (type != MC_FHIR_PATIENT || strcmp(fp.op, "$everything") || parse_patient(&patient, fp.id)) {
            fhir_fail(res, 404, MC_ERR_NOT_FOUND, "only Patient/<patient key>/$everything is supported");
            return;
        }
        fhir_search(node, 0, &patient, true, req, res);
        return;
    }
    fhir_read(node, &fp, req, res);
}

/* --- writes --- */

struct new_rec {
    char id[MC_RECORD_ID_MAX + 1];
    uint16_t type;
    uint32_t version;
    char *json;
    size_t json_len;
    mc_hash ct;
    uint32_t size;
};

/* Encrypts, stores and anchors records (one transaction). */
static int anchor_records(struct mc_node *node, const mc_pubkey *patient,
                          const struct signed_req *s, struct new_rec *recs, size_t n,
                          mc_hash *txid) {
    struct mc_blob_store *bs = mc_node_blobs(node);
    uint8_t batch[MC_DATAKEY_BYTES];
    crypto_aead_xchacha20poly1305_ietf_keygen(batch);
    int rc = 0;
    size_t stored = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        uint8_t key[MC_DATAKEY_BYTES], ignored[MC_DATAKEY_BYTES];
        mc_record_data_key(key, batch, recs[i].id, recs[i].version);
        uint8_t ad[69];
        size_t adn = mc_record_ad(ad, recs[i].id, recs[i].version);
        /* mc_envelope_encrypt draws its own key; encrypt under ours: */
        struct mc_buf ct;
        mc_buf_init(&ct, 0);
        uint8_t nonce[24];
        randombytes_buf(nonce, sizeof nonce);
        mc_buf_append(&ct, nonce, sizeof nonce);
        mc_buf_append(&ct, recs[i].json, recs[i].json_len);
        uint8_t tag[16];
        if (!ct.err) {
            uint8_t *body = ct.data + 24;
            crypto_aead_xchacha20poly1305_ietf_encrypt_detached(body, tag, NULL, body,
                                                                recs[i].json_len, ad, adn, NULL,
                                                                nonce, key);
            mc_buf_append(&ct, tag, sizeof tag);
        }
        (void)ignored;
        sodium_memzero(key, sizeof key);
        rc = ct.err;
        if (!rc) rc = mc_blob_put(bs, &recs[i].ct, ct.data, ct.len);
        recs[i].size = (uint32_t)ct.len;
        mc_buf_deinit(&ct);
        if (!rc) stored++;
    }
    struct mc_buf p;
    mc_buf_init(&p, 0);
    uint8_t sp[MC_SEALED_KEY_BYTES], sn[MC_SEALED_KEY_BYTES];
    if (!rc) rc = mc_envelope_seal_key(sp, batch, patient);
    if (!rc) rc = mc_envelope_seal_key(sn, batch, &mc_node_keypair(node)->pk);
    sodium_memzero(batch, sizeof batch);
    if (!rc) {
        mc_enc_fixed(&p, patient->b, 32);
        mc_enc_fixed(&p, s->v.key.b, 32);
        mc_enc_bytes16(&p, s->v.base.data, s->v.base.len);
        mc_enc_fixed(&p, s->v.sig, MC_SIG_BYTES);
        mc_enc_fixed(&p, sp, sizeof sp);
        mc_enc_fixed(&p, sn, sizeof sn);
        mc_enc_u16(&p, (uint16_t)n);
        for (size_t i = 0; i < n; i++) {
            mc_enc_str8(&p, recs[i].id);
            mc_enc_u16(&p, recs[i].type);
            mc_enc_u32(&p, recs[i].version);
            mc_enc_fixed(&p, recs[i].ct.b, 32);
            mc_enc_u32(&p, recs[i].size);
        }
        rc = p.err ? p.err : mc_node_submit_signed(node, MC_TX_RECORD_ANCHOR, p.data, p.len, txid);
    }
    mc_buf_deinit(&p);
    if (rc) {
        /* Nothing was anchored: the stored ciphertext is dropped. */
        int saved = rc;
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        for (size_t i = 0; i < stored; i++)
            if (mc_blob_purge(bs, &recs[i].ct)) break;
        rc = mc_err_set(saved, "%s", why);
    }
    return rc;
}

struct q_author {
    const mc_pubkey *author, *patient, *node_key;
    const char *ref_id; /* "Patient/<id>" lookup */
    int rc;
    char why[200];
    mc_pubkey resolved;
    bool resolved_ok;
    /* amendment */
    const char *amend_id;
    struct mc_record_head head;
    int head_rc;
};

static int q_author(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_author *q = ctx;
    struct mc_state *st = mc_app_state(app);
    if (q->ref_id) {
        struct mc_record_head h;
        if (mc_records_get_head(st, q->ref_id, &h) == 0 && h.type == MC_FHIR_PATIENT) {
            q->resolved = h.patient;
            q->resolved_ok = true;
        }
        return 0;
    }
    if (q->amend_id) q->head_rc = mc_records_get_head(st, q->amend_id, &q->head);
    struct mc_account au, node, pa;
    struct mc_org org;
    if (mc_identity_get_account(st, q->author, &au) || au.status != MC_ACCOUNT_ACTIVE) {
        q->rc = MC_ERR_UNKNOWN_ACCOUNT;
        snprintf(q->why, sizeof q->why, "the signer is not an active account");
    } else if (au.role != MC_ROLE_CLINICIAN || mc_identity_get_org(st, au.org, &org) ||
               !mc_org_is_provider(org.kind)) {
        q->rc = MC_ERR_FORBIDDEN;
        snprintf(q->why, sizeof q->why, "only clinicians of provider organisations add records (signer is %s)",
                 mc_role_name(au.role));
    } else if (mc_identity_get_account(st, q->node_key, &node) || node.org != au.org) {
        q->rc = MC_ERR_FORBIDDEN;
        snprintf(q->why, sizeof q->why, "this node anchors records of its own organisation only");
    } else if (mc_identity_get_account(st, q->patient, &pa) || pa.role != MC_ROLE_PATIENT ||
               pa.status != MC_ACCOUNT_ACTIVE) {
        q->rc = MC_ERR_INVALID;
        snprintf(q->why, sizeof q->why, "the patient is not a registered, active patient");
    }
    return 0;
}

/* Resolves a reference that must name the patient: "Patient/<key hex>", or
 * "Patient/<id>" of a Patient record of this patient (stored, or in local). */
static bool ref_is_patient(struct mc_node *node, const char *ref, const mc_pubkey *patient,
                           const char *const *local_patient_ids, size_t nlocal) {
    if (!ref || strncmp(ref, "Patient/", 8) != 0) return false;
    mc_pubkey k;
    if (mc_api_parse_pubkey(&k, ref + 8) == 0) return memcmp(k.b, patient->b, 32) == 0;
    for (size_t i = 0; i < nlocal; i++)
        if (strcmp(local_patient_ids[i], ref + 8) == 0) return true;
    struct q_author q = {.ref_id = ref + 8};
    if (!mc_record_id_valid(q.ref_id)) return false;
    (void)mc_node_query(node, q_author, &q);
    return q.resolved_ok && memcmp(q.resolved.b, patient->b, 32) == 0;
}

static void random_id(char out[33]) {
    uint8_t r[16];
    randombytes_buf(r, sizeof r);
    mc_hex_encode(out, r, 16);
}

static json_t *parse_body(const struct mc__api_request *req, struct mc__api_response *res) {
    if (!req->body || req->body_len == 0) {
        fhir_fail(res, 400, MC_ERR_MALFORMED, "the request has no body");
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) fhir_fail(res, 400, MC_ERR_MALFORMED, "the body is not valid JSON (%s at line %d)", jerr.text, jerr.line);
    return doc;
}

/* Determines the patient of a single write: ?patient= or the subject. */
static int write_patient(struct mc_node *node, const struct mc__api_request *req, const json_t *doc,
                         uint16_t type, mc_pubkey *patient, struct mc__api_response *res) {
    const char *pa = req->arg ? req->arg(req->arg_ctx, "patient") : NULL;
    const char *refs[4];
    size_t nr = mc_fhir_patient_refs(doc, type, refs, 4);
    if (pa) {
        if (parse_patient(patient, pa)) {
            fhir_fail(res, 400, MC_ERR_MALFORMED, "patient must be a patient key (hex)");
            return MC_ERR_MALFORMED;
        }
    } else if (nr && type != MC_FHIR_PROVENANCE && strncmp(refs[0], "Patient/", 8) == 0 &&
               mc_api_parse_pubkey(patient, refs[0] + 8) == 0) {
    } else if (nr && type != MC_FHIR_PROVENANCE && strncmp(refs[0], "Patient/", 8) == 0 &&
               mc_record_id_valid(refs[0] + 8)) {
        struct q_author q = {.ref_id = refs[0] + 8};
        (void)mc_node_query(node, q_author, &q);
        if (!q.resolved_ok) {
            fhir_fail(res, 422, MC_ERR_INVALID, "the subject does not reference a known patient");
            return MC_ERR_INVALID;
        }
        *patient = q.resolved;
    } else {
        fhir_fail(res, 422, MC_ERR_INVALID, "name the patient with ?patient=<key> or a subject Patient/<key>");
        return MC_ERR_INVALID;
    }
    if (type == MC_FHIR_PROVENANCE) return 0; /* targets are checked by the caller */
    for (size_t i = 0; i < nr; i++) {
        if (!ref_is_patient(node, refs[i], patient, NULL, 0)) {
            fhir_fail(res, 422, MC_ERR_INVALID, "%s.%s must reference the record's patient",
                      mc_records_type_name(type), type == MC_FHIR_IMMUNIZATION || type == MC_FHIR_CLAIM ||
                      type == MC_FHIR_EXPLANATION_OF_BENEFIT || type == MC_FHIR_ALLERGY_INTOLERANCE ? "patient" : "subject");
            return MC_ERR_INVALID;
        }
    }
    return 0;
}

static void fhir_write(struct mc_node *node, const struct fhir_path *fp, bool update,
                       const struct mc__api_request *req, struct mc__api_response *res) {
    struct signed_req s;
    verify_request(req, &s);
    struct access_log a = {.action = MC_ACTION_CREATE, .id = update ? fp->id : NULL,
                           .purpose = MC_PURPOSE_TREAT, .outcome = MC_OUTCOME_SECURITY};
    json_t *doc = NULL;
    if (s.rc) {
        refuse(node, res, &s, &a, true, s.rc, s.why);
        goto out;
    }
    if (!(doc = parse_body(req, res))) goto out;
    uint16_t type;
    char why[300];
    int rc = mc_fhir_validate(doc, &type, why, sizeof why);
    if (rc) {
        fhir_fail(res, 422, MC_ERR_INVALID, "%s", why);
        goto out;
    }
    if (strcmp(mc_records_type_name(type), fp->type) != 0) {
        fhir_fail(res, 400, MC_ERR_INVALID, "resourceType %s does not match the URL's %s",
                  mc_records_type_name(type), fp->type);
        goto out;
    }
    mc_pubkey patient;
    if (update) {
        const char *rid = json_string_value(json_object_get(doc, "id"));
        if (!rid || strcmp(rid, fp->id)) {
            fhir_fail(res, 400, MC_ERR_INVALID, "an update's resource id must equal the URL's id");
            goto out;
        }
    }
    if (write_patient(node, req, doc, type, &patient, res)) goto out;
    if (type == MC_FHIR_PROVENANCE) {
        fhir_fail(res, 422, MC_ERR_INVALID, "Provenance is accepted inside a transaction Bundle only");
        goto out;
    }
    struct q_author q = {.author = &s.v.key, .patient = &patient, .node_key = &mc_node_keypair(node)->pk,
                         .amend_id = update ? fp->id : NULL};
    (void)mc_node_query(node, q_author, &q);
    a.patient = &patient;
    a.outcome = MC_OUTCOME_REFUSED;
    if (q.rc) {
        if (q.rc == MC_ERR_INVALID) a.status = 422;
        refuse(node, res, &s, &a, true, q.rc, q.why);
        goto out;
    }
    struct new_rec rec = {.type = type, .version = 1};
    if (update) {
        if (q.head_rc || q.head.type != type || memcmp(q.head.patient.b, patient.b, 32)) {
            fhir_fail(res, 404, MC_ERR_NOT_FOUND, "no such record of this patient to update");
            goto out;
        }
        if (q.head.erased) {
            fhir_fail(res, 410, MC_ERR_STATE, "the record was erased");
            goto out;
        }
        snprintf(rec.id, sizeof rec.id, "%s", fp->id);
        rec.version = q.head.versions + 1;
    } else {
        random_id(rec.id);
        json_object_set_new(doc, "id", json_string(rec.id));
    }
    json_t *meta = json_object_get(doc, "meta");
    if (json_is_object(meta)) {
        json_object_del(meta, "versionId");
        json_object_del(meta, "lastUpdated");
        if (json_object_size(meta) == 0) json_object_del(doc, "meta");
    }
    rec.json = json_dumps(doc, JSON_COMPACT);
    if (!rec.json) {
        fhir_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    rec.json_len = strlen(rec.json);
    mc_hash txid;
    rc = anchor_records(node, &patient, &s, &rec, 1, &txid);
    sodium_memzero(rec.json, rec.json_len);
    free(rec.json);
    if (rc) {
        fhir_fail(res, 0, rc, "the record was not stored: %s", mc_err_detail());
        goto out;
    }
    char v[16], t[32];
    snprintf(v, sizeof v, "%u", rec.version);
    mc_fhir_instant(t, (uint64_t)time(NULL) * 1000);
    json_t *m = json_object();
    json_object_set_new(m, "versionId", json_string(v));
    json_object_set_new(m, "lastUpdated", json_string(t));
    json_object_set_new(doc, "meta", m);
    snprintf(res->location, sizeof res->location, "/fhir/%s/%s/_history/%u", fp->type, rec.id, rec.version);
    snprintf(res->etag, sizeof res->etag, "W/\"%u\"", rec.version);
    mc_hex_encode(res->access_tx, txid.b, 32);
    set_body(res, update ? 200 : 201, doc);
    doc = NULL;
out:
    json_decref(doc);
    mc_buf_deinit(&s.v.base);
}

void mc__api_fhir_post(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res) {
    struct fhir_path fp;
    if (parse_path(&fp, param) || fp.parts != 1) {
        fhir_fail(res, 404, MC_ERR_NOT_FOUND, "create is POST /fhir/{type}");
        return;
    }
    if (!mc_records_type_from_name(fp.type)) {
        fhir_fail(res, 404, MC_ERR_NOT_FOUND, "resource type '%s' is not supported (see /fhir/metadata)", fp.type);
        return;
    }
    fhir_write(node, &fp, false, req, res);
}

void mc__api_fhir_put(struct mc_node *node, const char *param, const struct mc__api_request *req,
                      struct mc__api_response *res) {
    struct fhir_path fp;
    if (parse_path(&fp, param) || fp.parts != 2 || !mc_records_type_from_name(fp.type)) {
        fhir_fail(res, 404, MC_ERR_NOT_FOUND, "update is PUT /fhir/{type}/{id}");
        return;
    }
    fhir_write(node, &fp, true, req, res);
}

/* --- POST /fhir: transaction Bundle --- */

struct q_exists {
    char (*ids)[MC_RECORD_ID_MAX + 1];
    size_t n;
    size_t dup;
    bool found;
};

static int q_exists(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_exists *q = ctx;
    for (size_t i = 0; i < q->n && !q->found; i++) {
        struct mc_record_head h;
        if (mc_records_get_head(mc_app_state(app), q->ids[i], &h) == 0) {
            q->found = true;
            q->dup = i;
        }
    }
    return 0;
}

void mc__api_fhir_root(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res) {
    struct signed_req s;
    verify_request(req, &s);
    struct access_log a = {.action = MC_ACTION_CREATE, .purpose = MC_PURPOSE_TREAT,
                           .outcome = MC_OUTCOME_SECURITY};
    json_t *doc = NULL;
    struct new_rec *recs = NULL;
    size_t n = 0;
    const char **patient_ids = NULL;
    if (s.rc) {
        refuse(node, res, &s, &a, true, s.rc, s.why);
        goto out;
    }
    if (!(doc = parse_body(req, res))) goto out;
    if (strcmp(json_string_value(json_object_get(doc, "resourceType")) ?: "", "Bundle") ||
        strcmp(json_string_value(json_object_get(doc, "type")) ?: "", "transaction")) {
        fhir_fail(res, 422, MC_ERR_INVALID, "POST /fhir takes a Bundle of type transaction");
        goto out;
    }
    json_t *entries = json_object_get(doc, "entry");
    n = json_array_size(entries);
    if (!json_is_array(entries) || n == 0 || n > MC_RECORDS_BATCH_MAX) {
        fhir_fail(res, 422, MC_ERR_INVALID, "Bundle.entry must hold 1 to %d entries", MC_RECORDS_BATCH_MAX);
        goto out;
    }
    const char *pa = req->arg ? req->arg(req->arg_ctx, "patient") : NULL;
    mc_pubkey patient;
    if (parse_patient(&patient, pa)) {
        fhir_fail(res, 400, MC_ERR_MALFORMED, "POST /fhir needs ?patient=<the patient's key>");
        goto out;
    }
    recs = calloc(n, sizeof *recs);
    patient_ids = calloc(n, sizeof *patient_ids);
    if (!recs || !patient_ids) {
        fhir_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t npat = 0;
    /* 1. validate every entry and choose its id */
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(entries, i);
        json_t *r = json_object_get(e, "resource");
        const char *method = json_string_value(json_object_get(json_object_get(e, "request"), "method"));
        if (method && strcmp(method, "POST") != 0) {
            fhir_fail(res, 422, MC_ERR_INVALID, "Bundle.entry[%zu].request.method: only POST is supported", i);
            goto out;
        }
        char why[300];
        int rc = mc_fhir_validate(r, &recs[i].type, why, sizeof why);
        if (rc) {
            fhir_fail(res, 422, MC_ERR_INVALID, "Bundle.entry[%zu]: %s", i, why);
            goto out;
        }
        /* POST entries get server-assigned ids (FHIR transaction rules);
         * the client's ids often are identifiers (Synthea's are the
         * patient's UUID) and must not become on-chain record ids. */
        random_id(recs[i].id);
        json_object_set_new(r, "id", json_string(recs[i].id));
        recs[i].version = 1;
        if (recs[i].type == MC_FHIR_PATIENT) patient_ids[npat++] = recs[i].id;
    }
    /* 2. resolve fullUrl references (urn:uuid:...) to Type/id */
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(entries, i);
        const char *full = json_string_value(json_object_get(e, "fullUrl"));
        if (!full || !full[0]) continue;
        char to[120];
        snprintf(to, sizeof to, "%s/%s", mc_records_type_name(recs[i].type), recs[i].id);
        for (size_t k = 0; k < n; k++)
            mc_fhir_rewrite_refs(json_object_get(json_array_get(entries, k), "resource"), full, to);
    }
    /* 3. every entry concerns the patient */
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_object_get(json_array_get(entries, i), "resource");
        const char *refs[600];
        size_t nr = mc_fhir_patient_refs(r, recs[i].type, refs, 600);
        for (size_t k = 0; k < nr; k++) {
            bool ok;
            if (recs[i].type == MC_FHIR_PROVENANCE) {
                ok = false;
                for (size_t j = 0; j < n && !ok; j++) {
                    char want[120];
                    snprintf(want, sizeof want, "%s/%s", mc_records_type_name(recs[j].type), recs[j].id);
                    ok = strcmp(want, refs[k]) == 0;
                }
            } else {
                ok = ref_is_patient(node, refs[k], &patient, patient_ids, npat);
            }
            if (!ok) {
                fhir_fail(res, 422, MC_ERR_INVALID,
                          "Bundle.entry[%zu] (%s): reference %.80s does not point at the patient%s", i,
                          mc_records_type_name(recs[i].type), refs[k],
                          recs[i].type == MC_FHIR_PROVENANCE ? "'s records in this Bundle" : "");
                goto out;
            }
        }
    }
    /* 4. authorisation and id conflicts */
    struct q_author q = {.author = &s.v.key, .patient = &patient, .node_key = &mc_node_keypair(node)->pk};
    (void)mc_node_query(node, q_author, &q);
    a.patient = &patient;
    a.outcome = MC_OUTCOME_REFUSED;
    if (q.rc) {
        if (q.rc == MC_ERR_INVALID) a.status = 422;
        refuse(node, res, &s, &a, true, q.rc, q.why);
        goto out;
    }
    struct q_exists qe = {.n = n};
    qe.ids = calloc(n, sizeof *qe.ids);
    if (!qe.ids) {
        fhir_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) snprintf(qe.ids[i], sizeof qe.ids[i], "%s", recs[i].id);
    (void)mc_node_query(node, q_exists, &qe);
    free(qe.ids);
    if (qe.found) {
        fhir_fail(res, 409, MC_ERR_EXISTS, "Bundle.entry[%zu]: a record with id %s already exists", qe.dup, recs[qe.dup].id);
        goto out;
    }
    /* 5. encrypt, store, anchor in one transaction */
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        recs[i].json = json_dumps(json_object_get(json_array_get(entries, i), "resource"), JSON_COMPACT);
        if (!recs[i].json) rc = MC_ERR_NOMEM;
        else recs[i].json_len = strlen(recs[i].json);
    }
    mc_hash txid;
    if (!rc) rc = anchor_records(node, &patient, &s, recs, n, &txid);
    if (rc) {
        fhir_fail(res, 0, rc, "the Bundle was not stored: %s", mc_err_detail());
        goto out;
    }
    json_t *resp = json_pack("{s:s, s:s, s:[]}", "resourceType", "Bundle", "type", "transaction-response", "entry");
    for (size_t i = 0; i < n && resp; i++) {
        char loc[140];
        snprintf(loc, sizeof loc, "%s/%s/_history/1", mc_records_type_name(recs[i].type), recs[i].id);
        json_array_append_new(json_object_get(resp, "entry"),
                              json_pack("{s:{s:s, s:s, s:s}}", "response", "status", "201 Created",
                                        "location", loc, "etag", "W/\"1\""));
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    set_body(res, 200, resp);
out:
    for (size_t i = 0; recs && i < n; i++) {
        if (recs[i].json) {
            sodium_memzero(recs[i].json, recs[i].json_len);
            free(recs[i].json);
        }
    }
    free(recs);
    free(patient_ids);
    json_decref(doc);
    mc_buf_deinit(&s.v.base);
}

/* --- GET /fhir/metadata --- */

void mc__api_fhir_metadata(struct mc_node *node, const char *param,
                           const struct mc__api_request *req, struct mc__api_response *res) {
    json_t *resources = json_array();
    for (uint16_t t = 1; t <= MC_FHIR_TYPE_MAX; t++) {
        json_t *inter = t == MC_FHIR_PROVENANCE
                            ? json_pack("[{s:s},{s:s},{s:s}]", "code", "read", "code", "vread", "code", "search-type")
                            : json_pack("[{s:s},{s:s},{s:s},{s:s},{s:s}]", "code", "read", "code", "vread",
                                        "code", "search-type", "code", "create", "code", "update");
        json_t *r = json_pack("{s:s, s:o, s:s, s:b, s:[{s:s, s:s}]}", "type", mc_records_type_name(t),
                              "interaction", inter, "versioning", "versioned", "readHistory", 1,
                              "searchParam", "name", "patient", "type", "reference");
        if (t == MC_FHIR_PROVENANCE) {
            json_array_append_new(json_object_get(r, "searchParam"),
                                  json_pack("{s:s, s:s, s:s}", "name", "target", "type", "reference",
                                            "documentation",
                                            "Type/id or Type/id/_history/v: the ledger's provenance of "
                                            "each version (authorship, amendments), id <record id>.<version>"));
            json_object_set_new(r, "documentation",
                                json_string("Stored Provenance (from transaction Bundles) is read, "
                                            "vread and searched by patient; Provenance generated from "
                                            "the record anchors is read as Provenance/<record id>.<version> "
                                            "and searched by target, and included in Patient/$everything."));
        }
        if (t == MC_FHIR_PATIENT)
            json_object_set_new(r, "operation", json_pack("[{s:s, s:s}]", "name", "everything", "definition",
                                                          "http://hl7.org/fhir/OperationDefinition/Patient-everything"));
        json_array_append_new(resources, r);
    }
    json_array_append_new(resources,
                          json_pack("{s:s, s:[{s:s}], s:[{s:s, s:s},{s:s, s:s},{s:s, s:s}]}", "type",
                                    "AuditEvent", "interaction", "code", "search-type", "searchParam",
                                    "name", "patient", "type", "reference", "name", "agent", "type",
                                    "token", "name", "date", "type", "date"));
    json_array_append_new(resources,
                          json_pack("{s:s, s:[{s:s}], s:[{s:s, s:s}]}", "type", "Consent", "interaction",
                                    "code", "search-type", "searchParam", "name", "patient", "type",
                                    "reference"));
    char t[32];
    mc_fhir_instant(t, block_time_ms(node));
    json_t *cs = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:{s:s, s:s},"
        " s:[{s:s, s:{s:[{s:[{s:s, s:s}]}], s:s}, s:o, s:[{s:s}]}]}",
        "resourceType", "CapabilityStatement", "status", "active", "date", t, "kind", "instance",
        "fhirVersion", "4.0.1", "name", "MedchainRecords", "format", "application/fhir+json",
        "software", "name", "medchain", "version", "0.1",
        "rest", "mode", "server", "security", "service", "coding", "system",
        "http://terminology.hl7.org/CodeSystem/restful-security-service", "code", "Certificates",
        "description",
        "Every request except /fhir/metadata is signed per RFC 9421 (ed25519, keyid = account key "
        "in hex, covering @method, @target-uri, content-digest, created, nonce); private data only "
        "over TLS or loopback; every read and refusal is logged on the ledger.",
        "resource", resources, "interaction", "code", "transaction");
    set_body(res, cs ? 200 : 503, cs ? cs : mc_fhir_outcome("error", "exception", "out of memory"));
}

/* --- /v1/records and /v1/breakglass (JSON API) --- */

struct q_meta {
    const mc_pubkey *patient, *requester;
    struct mc_access_decision view;
    json_t *list, *batches;
};

static int q_meta(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_meta *q = ctx;
    struct mc_state *st = mc_app_state(app);
    mc_records_decide_patient_view(st, q->requester, q->patient, &q->view);
    if (!q->view.allowed) return 0;
    /* Erased records are listed too: their anchors stay. */
    struct collect c = {.type = 0, .include_erased = true};
    c.ids = calloc(SEARCH_MAX, sizeof *c.ids);
    if (!c.ids) return MC_ERR_NOMEM;
    if (mc_records_scan_patient(st, q->patient, collect_row, &c)) c.n = 0;
    for (size_t i = 0; i < c.n; i++) {
        struct mc_record_head h;
        if (mc_records_get_head(st, c.ids[i], &h)) continue;
        json_t *vers = json_array();
        for (uint32_t v = 1; v <= h.versions; v++) {
            struct mc_record_version rv;
            if (mc_records_get_version(st, h.id, v, &rv)) continue;
            char batch[65];
            mc_hex_encode(batch, rv.batch.b, 32);
            json_array_append_new(vers, json_pack("{s:I, s:s, s:o, s:o, s:I, s:I, s:I}", "version", (json_int_t)v,
                                                  "batch", batch, "author", mc_api_json_pubkey(&rv.author),
                                                  "ciphertext", mc_api_json_hash(&rv.ciphertext), "size",
                                                  (json_int_t)rv.size, "height", (json_int_t)rv.height,
                                                  "time_ms", (json_int_t)rv.time_ms));
            if (!json_object_get(q->batches, batch)) {
                struct mc_record_batch b;
                if (mc_records_get_batch(st, &rv.batch, &b) == 0)
                    json_object_set_new(q->batches, batch,
                                        json_pack("{s:b, s:o, s:o}", "has_keys", b.has_keys,
                                                  "sealed_patient", mc_api_json_hex(b.sealed_patient, MC_SEALED_KEY_BYTES),
                                                  "node", mc_api_json_pubkey(&b.node)));
            }
        }
        json_array_append_new(q->list, json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:o}", "id", h.id, "type",
                                                 mc_records_type_name(h.type), "category", mc_category_name(h.category),
                                                 "org", (json_int_t)h.org, "versions", (json_int_t)h.versions,
                                                 "erased", h.erased, "history", vers));
    }
    free(c.ids);
    return 0;
}

void mc__api_records_list(struct mc_node *node, const char *param,
                          const struct mc__api_request *req, struct mc__api_response *res) {
    mc_pubkey patient;
    if (parse_patient(&patient, req->arg ? req->arg(req->arg_ctx, "patient") : NULL)) {
        json_fail(res, 400, MC_ERR_MALFORMED, "patient=<key hex> is required");
        return;
    }
    struct signed_req s;
    verify_request(req, &s);
    struct access_log a = {.patient = &patient, .action = MC_ACTION_SEARCH, .purpose = MC_PURPOSE_PATRQT,
                           .outcome = MC_OUTCOME_SECURITY};
    if (s.rc) {
        refuse(node, res, &s, &a, false, s.rc, s.why);
        mc_buf_deinit(&s.v.base);
        return;
    }
    struct q_meta q = {.patient = &patient, .requester = &s.v.key, .list = json_array(),
                       .batches = json_object()};
    (void)mc_node_query(node, q_meta, &q);
    a.outcome = MC_OUTCOME_REFUSED;
    if (!q.view.allowed) {
        json_decref(q.list);
        json_decref(q.batches);
        a.status = (uint16_t)q.view.status;
        refuse(node, res, &s, &a, false, MC_ERR_FORBIDDEN, q.view.reason);
        mc_buf_deinit(&s.v.base);
        return;
    }
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.purpose = q.view.purpose;
    a.reason = "record list read";
    mc_hash txid;
    if (log_access(node, &s, &a, &txid)) {
        json_decref(q.list);
        json_decref(q.batches);
        json_fail(res, 503, MC_ERR_FULL, "the access could not be logged");
    } else {
        mc_hex_encode(res->access_tx, txid.b, 32);
        json_decref(res->body);
        res->status = 200;
        res->body = json_pack("{s:o, s:o, s:o}", "patient", mc_api_json_pubkey(&patient), "records", q.list,
                              "batches", q.batches);
    }
    mc_buf_deinit(&s.v.base);
}

struct q_bg {
    const mc_pubkey *requester;
    bool allowed;
    uint32_t org;
    json_t *list;
};

static int bg_row(void *ctx, const struct mc_break_glass *b) {
    struct q_bg *q = ctx;
    if (b->org != q->org) return 0;
    char t[32];
    mc_fhir_instant(t, b->time_ms);
    json_array_append_new(q->list, json_pack("{s:o, s:o, s:o, s:s, s:I, s:s, s:s, s:b, s:s}", "access_tx",
                                             mc_api_json_hash(&b->access_tx), "requester",
                                             mc_api_json_pubkey(&b->requester), "patient",
                                             mc_api_json_pubkey(&b->patient), "record", b->id, "height",
                                             (json_int_t)b->height, "time", t, "reason", b->reason, "open",
                                             b->open, "note", b->note));
    return 0;
}

static int q_bg(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_bg *q = ctx;
    struct mc_account a;
    struct mc_state *st = mc_app_state(app);
    q->allowed = mc_identity_get_account(st, q->requester, &a) == 0 && a.status == MC_ACCOUNT_ACTIVE &&
                 a.role == MC_ROLE_AUDITOR;
    q->org = a.org;
    if (q->allowed && mc_records_scan_break_glass(st, bg_row, q)) q->allowed = false;
    return 0;
}

void mc__api_records_break_glass(struct mc_node *node, const char *param,
                                 const struct mc__api_request *req, struct mc__api_response *res) {
    struct signed_req s;
    verify_request(req, &s);
    if (s.rc) {
        json_fail(res, s.status, s.rc, s.why);
        mc_buf_deinit(&s.v.base);
        return;
    }
    struct q_bg q = {.requester = &s.v.key, .list = json_array()};
    (void)mc_node_query(node, q_bg, &q);
    if (!q.allowed) {
        json_decref(q.list);
        json_fail(res, 403, MC_ERR_FORBIDDEN, "only auditors review break-glass accesses");
    } else {
        json_decref(res->body);
        res->status = 200;
        res->body = json_pack("{s:o}", "break_glass", q.list);
    }
    mc_buf_deinit(&s.v.base);
}

/* --- GET /v1/records/{id}/sealed[?version=N]: ciphertext and a key sealed to the signer --- */

struct q_sealed {
    struct rec_read r;
    bool patient_key;                  /* sealed is the batch key sealed to the patient */
};

static int q_sealed(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_sealed *q = ctx;
    /* node_key is the requester: q_rec finds a batch key whose node is the
     * requester, or a grant key sealed to the requester. */
    (void)q_rec(&q->r, store, app);
    if (q->r.rc || q->r.have_batch_key || q->r.via_grant) return 0;
    struct mc_record_batch b;
    if (memcmp(q->r.head.patient.b, q->r.requester->b, 32) == 0 &&
        mc_records_get_batch(mc_app_state(app), &q->r.ver.batch, &b) == 0 && b.has_keys) {
        memcpy(q->r.sealed, b.sealed_patient, sizeof q->r.sealed);
        q->r.have_batch_key = true;
        q->patient_key = true;
    }
    return 0;
}

void mc__api_records_sealed(struct mc_node *node, const char *param,
                            const struct mc__api_request *req, struct mc__api_response *res) {
    uint64_t version = 0;
    const char *vq = req->arg ? req->arg(req->arg_ctx, "version") : NULL;
    if (!param || !mc_record_id_valid(param) ||
        (vq && (mc_api_parse_u64(&version, vq) || version == 0 || version > UINT32_MAX))) {
        json_fail(res, 404, MC_ERR_NOT_FOUND, "no such record (or version)");
        return;
    }
    struct signed_req s;
    verify_request(req, &s);
    struct q_sealed q = {.r = {.id = param, .version = (uint32_t)version, .requester = &s.v.key,
                               .purpose = requested_purpose(req), .btg = hdr(req, "x-break-glass-reason"),
                               .now_ms = block_time_ms(node), .node_key = &s.v.key,
                               .skip_policy = s.rc != 0}};
    (void)mc_node_query(node, q_sealed, &q);
    struct rec_read *r = &q.r;
    struct access_log a = {.patient = r->rc == 0 || r->head.versions ? &r->head.patient : NULL,
                           .id = param, .version = (uint32_t)version,
                           .action = version ? MC_ACTION_VREAD : MC_ACTION_READ, .purpose = r->purpose,
                           .outcome = MC_OUTCOME_SECURITY};
    struct mc_buf ct;
    mc_buf_init(&ct, 0);
    if (s.rc) {
        refuse(node, res, &s, &a, false, s.rc, s.why);
        goto out;
    }
    a.outcome = MC_OUTCOME_REFUSED;
    if (r->rc) {
        a.status = 404;
        refuse(node, res, &s, &a, false, MC_ERR_NOT_FOUND, "no such record");
        goto out;
    }
    a.purpose = r->d.purpose;
    if (!r->d.allowed) {
        a.status = (uint16_t)r->d.status;
        refuse(node, res, &s, &a, false, r->d.status == 410 ? MC_ERR_STATE : MC_ERR_FORBIDDEN, r->d.reason);
        goto out;
    }
    if (!r->have_batch_key && !r->via_grant) {
        a.status = 403;
        refuse(node, res, &s, &a, false, MC_ERR_FORBIDDEN,
               "no key of this record version is sealed to you (read it through a node instead)");
        goto out;
    }
    int rc = load_ciphertext(node, r->id, r->version, &r->ver.ciphertext, &ct);
    if (rc) {
        char why[300];
        snprintf(why, sizeof why, "the ciphertext is not available: %s", mc_err_detail());
        a.outcome = rc == MC_ERR_TAMPERED ? MC_OUTCOME_SECURITY : MC_OUTCOME_REFUSED;
        a.status = rc == MC_ERR_TAMPERED ? 500 : 410;
        refuse(node, res, &s, &a, false, rc, why);
        goto out;
    }
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.version = r->version;
    a.reason = r->d.break_glass ? hdr(req, "x-break-glass-reason") : "ciphertext served";
    mc_hash txid;
    if ((rc = log_access(node, &s, &a, &txid))) {
        json_fail(res, rc == MC_ERR_EXISTS ? 401 : 503, rc,
                  "the access could not be logged, so the record is not served");
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    size_t b64n = sodium_base64_ENCODED_LEN(ct.len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64n);
    if (!b64) {
        json_fail(res, 500, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    sodium_bin2base64(b64, b64n, ct.data, ct.len, sodium_base64_VARIANT_ORIGINAL);
    uint8_t ad[69];
    size_t adn = mc_record_ad(ad, r->id, r->version);
    char t[32];
    mc_fhir_instant(t, r->ver.time_ms);
    json_decref(res->body);
    res->status = 200;
    res->body = json_pack("{s:s, s:s, s:I, s:I, s:s, s:o, s:o, s:s, s:o, s:s, s:o, s:o, s:I}", "id", r->id,
                          "type", mc_records_type_name(r->head.type), "version", (json_int_t)r->version,
                          "versions", (json_int_t)r->head.versions, "last_updated", t,
                          "patient", mc_api_json_pubkey(&r->head.patient),
                          "ciphertext_hash", mc_api_json_hash(&r->ver.ciphertext),
                          "ciphertext", b64, "ad", mc_api_json_hex(ad, adn),
                          "key_kind", r->via_grant ? "data" : "batch",
                          "sealed_key", mc_api_json_hex(r->sealed, MC_SEALED_KEY_BYTES),
                          "batch", mc_api_json_hash(&r->ver.batch), "height", (json_int_t)r->ver.height);
    free(b64);
out:
    mc_buf_deinit(&ct);
    mc_buf_deinit(&s.v.base);
}
