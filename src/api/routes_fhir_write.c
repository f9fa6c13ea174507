/* FHIR writes: POST /fhir/{type} (create), PUT /fhir/{type}/{id} (update)
 * and POST /fhir (a transaction Bundle).
 *
 * The author's request passes the gate (gate.h); who may author is the
 * ledger's own rule (mc_records_author_check); the node's vault encrypts
 * the resources under a fresh batch key and stores the ciphertext; the
 * anchor (app/records_payload.h) is submitted signed by the node, carrying
 * the author's signature base and signature so authorship is provable by
 * anyone. Responses are 201 once the anchor is admitted; the record is
 * readable once the anchor commits. Invalid FHIR is answered 400/422 with
 * an OperationOutcome and writes nothing; a refused write is logged. */
#include "api/routes.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fhir.h"
#include "api/fhir_conditional.h"
#include "api/fhir_reply.h"
#include "api/gate.h"
#include "api/json_exact.h"
#include "api/records_view.h"
#include "api/reply.h"
#include "app/identity.h"
#include "app/records.h"
#include "base/hex.h"
#include "node/vault.h"
#include "app/records_payload.h"
#include "app/txtypes.h"

/* --- writes --- */

struct new_rec {
    char id[MC_RECORD_ID_MAX + 1];
    uint16_t type;
    uint32_t version;
    char *json;
    size_t json_len;
};

/* Encrypts and stores the records in the vault, then anchors them in one
 * transaction; when the anchor is not admitted the stored ciphertext is
 * dropped. */
static int anchor_records(struct mc_node *node, const mc_pubkey *patient,
                          const struct mc__gate *s, struct new_rec *recs, size_t n,
                          mc_hash *txid) {
    struct mc_vault *vault = mc_node_vault(node);
    struct mc_vault_record *vr = calloc(n, sizeof *vr);
    struct mc_records_payload *p = calloc(1, sizeof *p);
    int rc = vr && p ? 0 : MC_ERR_NOMEM;
    for (size_t i = 0; i < n && !rc; i++)
        vr[i] = (struct mc_vault_record){.id = recs[i].id, .version = recs[i].version,
                                         .plain = recs[i].json, .plain_len = recs[i].json_len};
    if (!rc) rc = mc_vault_seal_batch(vault, p->sealed_patient, p->sealed_node, vr, n, patient);
    bool sealed = rc == 0;
    if (!rc) {
        p->type = MC_TX_RECORD_ANCHOR;
        p->patient = *patient;
        p->author = s->v.key;
        p->base = s->v.base.data;
        p->base_len = s->v.base.len;
        p->sig = s->v.sig;
        p->sig_len = MC_SIG_BYTES;
        p->count = (uint16_t)n;
        for (size_t i = 0; i < n; i++) {
            struct mc_records_anchor_entry *e = &p->entries[i];
            snprintf(e->id, sizeof e->id, "%s", recs[i].id);
            e->type = recs[i].type;
            e->version = recs[i].version;
            e->ciphertext = vr[i].ciphertext;
            e->size = vr[i].size;
        }
        struct mc_buf b;
        mc_buf_init(&b, 0);
        rc = mc_records_payload_encode(&b, p);
        if (!rc) rc = mc_node_submit_signed(node, MC_TX_RECORD_ANCHOR, b.data, b.len, txid);
        mc_buf_deinit(&b);
    }
    if (rc && sealed) {
        /* Nothing was anchored: the stored ciphertext is dropped. */
        int saved = rc;
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        mc_vault_drop_batch(vault, vr, n);
        rc = mc_err_set(saved, "%s", why);
    }
    if (p) sodium_memzero(p, sizeof *p);
    free(p);
    free(vr);
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
    struct mc_account au;
    switch (mc_records_author_check(st, q->author, q->node_key, q->patient, &au)) {
    case MC_AUTHOR_ALLOWED: break;
    case MC_AUTHOR_NOT_ACTIVE:
        q->rc = MC_ERR_UNKNOWN_ACCOUNT;
        snprintf(q->why, sizeof q->why, "the signer is not an active account");
        break;
    case MC_AUTHOR_NOT_CLINICIAN:
        q->rc = MC_ERR_FORBIDDEN;
        snprintf(q->why, sizeof q->why, "only clinicians of provider organisations add records (signer is %s)",
                 mc_role_name(au.role));
        break;
    case MC_AUTHOR_OTHER_ORG:
        q->rc = MC_ERR_FORBIDDEN;
        snprintf(q->why, sizeof q->why, "this node anchors records of its own organisation only");
        break;
    case MC_AUTHOR_BAD_PATIENT:
        q->rc = MC_ERR_INVALID;
        snprintf(q->why, sizeof q->why, "the patient is not a registered, active patient");
        break;
    }
    return 0;
}

/* Asks the authoring rule for a write of the signer for patient (and the
 * head of the record amended, when amend_id is set); a refusal is logged
 * and answered. Returns 0 when the write may go on. */
static int authorise(struct mc_node *node, struct mc__api_response *res, const struct mc__gate *s,
                     struct mc__gate_access *a, const mc_pubkey *patient, const char *amend_id,
                     struct q_author *q) {
    *q = (struct q_author){.author = &s->v.key, .patient = patient,
                           .node_key = mc_vault_public_key(mc_node_vault(node)), .amend_id = amend_id};
    int qrc = mc_node_query(node, q_author, q);
    a->patient = patient;
    a->outcome = MC_OUTCOME_REFUSED;
    if (qrc) {
        a->status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, s, a, true, qrc, "the node could not run the query");
        return qrc;
    }
    if (!q->rc) return 0;
    if (q->rc == MC_ERR_INVALID) a->status = 422;
    mc__gate_refuse_access(node, res, s, a, true, q->rc, q->why);
    return q->rc;
}

int mc__api_fhir_authorise(struct mc_node *node, struct mc__api_response *res, const struct mc__gate *g,
                           struct mc__gate_access *a, const mc_pubkey *patient) {
    struct q_author q;
    return authorise(node, res, g, a, patient, NULL, &q);
}

/* Resolves a reference that must name the patient: "Patient/<key hex>", or
 * "Patient/<id>" of a Patient record of this patient (stored, or in local).
 * *ok says whether it does; the result is the node query's, non-zero when
 * the node could not look the reference up (then *ok is false and the
 * request is not to blame). */
static int ref_is_patient(struct mc_node *node, const char *ref, const mc_pubkey *patient,
                          const char *const *local_patient_ids, size_t nlocal, bool *ok) {
    *ok = false;
    if (!ref || strncmp(ref, "Patient/", 8) != 0) return 0;
    mc_pubkey k;
    if (mc_api_parse_pubkey(&k, ref + 8) == 0) {
        *ok = memcmp(k.b, patient->b, 32) == 0;
        return 0;
    }
    for (size_t i = 0; i < nlocal; i++) {
        if (strcmp(local_patient_ids[i], ref + 8) == 0) {
            *ok = true;
            return 0;
        }
    }
    struct q_author q = {.ref_id = ref + 8};
    if (!mc_record_id_valid(q.ref_id)) return 0;
    int qrc = mc_node_query(node, q_author, &q);
    *ok = !qrc && q.resolved_ok && memcmp(q.resolved.b, patient->b, 32) == 0;
    return qrc;
}

static void random_id(char out[33]) {
    uint8_t r[16];
    randombytes_buf(r, sizeof r);
    mc_hex_encode(out, r, 16);
}

static json_t *parse_body(const struct mc__api_request *req, struct mc__api_response *res) {
    if (!mc__fhir_reply_json_body(req, res)) return NULL;
    if (!req->body || req->body_len == 0) {
        mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "the request has no body");
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = mc_json_exact_load((const char *)req->body, req->body_len, &jerr);
    if (!doc) mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "the body is not valid JSON (%s near byte %d)", jerr.text, jerr.position);
    return doc;
}

/* Determines the patient of a single write: ?patient= or the subject. */
static int write_patient(struct mc_node *node, const struct mc__api_request *req, const json_t *doc,
                         uint16_t type, mc_pubkey *patient, struct mc__api_response *res) {
    const char *pa = req->arg ? req->arg(req->arg_ctx, "patient") : NULL;
    const char *refs[4];
    size_t nr = mc_fhir_patient_refs(doc, type, refs, 4);
    if (pa) {
        if (mc__records_view_parse_patient(patient, pa)) {
            mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "patient must be a patient key (hex)");
            return MC_ERR_MALFORMED;
        }
    } else if (nr && type != MC_FHIR_PROVENANCE && strncmp(refs[0], "Patient/", 8) == 0 &&
               mc_api_parse_pubkey(patient, refs[0] + 8) == 0) {
    } else if (nr && type != MC_FHIR_PROVENANCE && strncmp(refs[0], "Patient/", 8) == 0 &&
               mc_record_id_valid(refs[0] + 8)) {
        struct q_author q = {.ref_id = refs[0] + 8};
        int qrc = mc_node_query(node, q_author, &q);
        if (qrc) {
            mc__fhir_reply_fail(res, mc__reply_query_status(qrc), qrc, "the node could not run the query");
            return qrc;
        }
        if (!q.resolved_ok) {
            mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "the subject does not reference a known patient");
            return MC_ERR_INVALID;
        }
        *patient = q.resolved;
    } else {
        mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "name the patient with ?patient=<key> or a subject Patient/<key>");
        return MC_ERR_INVALID;
    }
    if (type == MC_FHIR_PROVENANCE) return 0; /* targets are checked by the caller */
    for (size_t i = 0; i < nr; i++) {
        bool ok;
        int qrc = ref_is_patient(node, refs[i], patient, NULL, 0, &ok);
        if (qrc) {
            mc__fhir_reply_fail(res, mc__reply_query_status(qrc), qrc, "the node could not run the query");
            return qrc;
        }
        if (!ok) {
            mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "%s.%s must reference the record's patient",
                      mc_records_type_name(type), type == MC_FHIR_IMMUNIZATION || type == MC_FHIR_CLAIM ||
                      type == MC_FHIR_EXPLANATION_OF_BENEFIT || type == MC_FHIR_ALLERGY_INTOLERANCE ? "patient" : "subject");
            return MC_ERR_INVALID;
        }
    }
    return 0;
}

struct q_prec {
    const mc_pubkey *patient;
    char id[MC_RECORD_ID_MAX + 1];
    bool found;
};

static int q_prec(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_prec *q = ctx;
    q->found = mc__records_view_patient_record(mc_app_state(app), q->patient, q->id);
    return 0;
}

/* One patient identity: a reference to the patient by her account key
 * ("Patient/<key>") becomes one to her Patient record (record_id, or her
 * stored one when NULL), when she has one. Returns the node query's
 * error, else 0. */
static int one_identity(struct mc_node *node, const mc_pubkey *patient, const char *record_id, json_t **docs,
                        size_t n) {
    struct q_prec q = {.patient = patient};
    if (!record_id) {
        int qrc = mc_node_query(node, q_prec, &q);
        if (qrc) return qrc;
        if (!q.found) return 0;
        record_id = q.id;
    }
    char hx[65], from[80], to[MC_RECORD_ID_MAX + 16];
    mc_hex_encode(hx, patient->b, 32);
    snprintf(to, sizeof to, "Patient/%s", record_id);
    for (int up = 0; up < 2; up++) {
        snprintf(from, sizeof from, "Patient/%s", hx);
        if (up)
            for (char *c = from + 8; *c; c++) *c = (char)toupper((unsigned char)*c);
        for (size_t i = 0; i < n; i++) mc_fhir_rewrite_refs(docs[i], from, to);
    }
    return 0;
}

/* W/"<n>" or "<n>" (an ETag as this server sends them) into *v. */
static int parse_etag(const char *s, uint32_t *v) {
    if (strncmp(s, "W/", 2) == 0) s += 2;
    size_t n = strlen(s);
    if (n < 3 || s[0] != '"' || s[n - 1] != '"' || n - 2 > 10) return MC_ERR_MALFORMED;
    char d[12];
    memcpy(d, s + 1, n - 2);
    d[n - 2] = 0;
    uint64_t x;
    if (mc_api_parse_u64(&x, d) || x == 0 || x > UINT32_MAX) return MC_ERR_MALFORMED;
    *v = (uint32_t)x;
    return 0;
}

static void fhir_write(struct mc_node *node, const struct mc__records_view_path *fp, bool update,
                       const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__gate_access a = {.action = MC_ACTION_CREATE, .id = update ? fp->id : NULL,
                           .purpose = MC_PURPOSE_TREAT, .outcome = MC_OUTCOME_SECURITY};
    json_t *doc = NULL;
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, true, s.rc, s.why);
        goto out;
    }
    if (!(doc = parse_body(req, res))) goto out;
    uint16_t type;
    char why[300];
    int rc = mc_fhir_validate(doc, &type, why, sizeof why);
    if (rc) {
        mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "%s", why);
        goto out;
    }
    if (strcmp(mc_records_type_name(type), fp->type) != 0) {
        mc__fhir_reply_fail(res, 400, MC_ERR_INVALID, "resourceType %s does not match the URL's %s",
                  mc_records_type_name(type), fp->type);
        goto out;
    }
    mc_pubkey patient;
    if (update) {
        const char *rid = json_string_value(json_object_get(doc, "id"));
        if (!rid || strcmp(rid, fp->id)) {
            mc__fhir_reply_fail(res, 400, MC_ERR_INVALID, "an update's resource id must equal the URL's id");
            goto out;
        }
    }
    if (write_patient(node, req, doc, type, &patient, res)) goto out;
    if (type == MC_FHIR_PROVENANCE) {
        mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "Provenance is accepted inside a transaction Bundle only");
        goto out;
    }
    struct q_author q;
    if (authorise(node, res, &s, &a, &patient, update ? fp->id : NULL, &q)) goto out;
    if (type != MC_FHIR_PATIENT && (rc = one_identity(node, &patient, NULL, &doc, 1))) {
        mc__fhir_reply_fail(res, mc__reply_query_status(rc), rc, "the node could not run the query");
        goto out;
    }
    struct new_rec rec = {.type = type, .version = 1};
    if (update) {
        if (q.head_rc || q.head.type != type || memcmp(q.head.patient.b, patient.b, 32)) {
            mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "no such record of this patient to update");
            goto out;
        }
        if (q.head.erased) {
            mc__fhir_reply_fail(res, 410, MC_ERR_STATE, "the record was erased");
            goto out;
        }
        /* A version-aware update (If-Match: W/"<version>") applies only
         * over the version the client read; anything else is 412. */
        const char *im = req->header ? req->header(req->header_ctx, "If-Match") : NULL;
        if (im) {
            uint32_t want;
            if (parse_etag(im, &want)) {
                mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "If-Match must be an ETag W/\"<version>\"");
                goto out;
            }
            if (want != q.head.versions) {
                mc__fhir_reply_fail(res, 412, MC_ERR_STATE,
                                    "If-Match names version %u; the current version is %u", want,
                                    q.head.versions);
                goto out;
            }
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
    rec.json = mc_json_exact_dump(doc, JSON_COMPACT, &rec.json_len);
    if (!rec.json) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    mc_hash txid;
    rc = anchor_records(node, &patient, &s, &rec, 1, &txid);
    sodium_memzero(rec.json, rec.json_len);
    free(rec.json);
    if (rc) {
        mc__fhir_reply_fail(res, 0, rc, "the record was not stored: %s", mc_err_detail());
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
    mc__fhir_reply_set(res, update ? 200 : 201, doc);
    doc = NULL;
out:
    json_decref(doc);
    mc__gate_release(&s);
}

void mc__api_fhir_post(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res) {
    struct mc__records_view_path fp;
    if (mc__records_view_parse_path(&fp, param) || fp.parts != 1) {
        mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "create is POST /fhir/{type}");
        return;
    }
    if (!mc_records_type_from_name(fp.type)) {
        mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "resource type '%s' is not supported (see /fhir/metadata)", fp.type);
        return;
    }
    fhir_write(node, &fp, false, req, res);
}

void mc__api_fhir_put(struct mc_node *node, const char *param, const struct mc__api_request *req,
                      struct mc__api_response *res) {
    struct mc__records_view_path fp;
    if (mc__records_view_parse_path(&fp, param) || fp.parts != 2 || !mc_records_type_from_name(fp.type)) {
        mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "update is PUT /fhir/{type}/{id}");
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

/* The stored records of one type of the patient that the author may read
 * (conditional references resolve among them). */
struct stored_ctx {
    struct mc_node *node;
    const mc_pubkey *patient, *author;
    const struct mc__api_request *req;
};

struct q_ids {
    const mc_pubkey *patient;
    struct mc__records_view_collect c;
    int rc;
};

static int q_ids(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_ids *q = ctx;
    q->rc = mc_records_scan_patient(mc_app_state(app), q->patient, mc__records_view_collect_row, &q->c);
    return 0;
}

static json_t *stored_records(void *ctx, uint16_t type, int *rc) {
    struct stored_ctx *sc = ctx;
    struct q_ids q = {.patient = sc->patient, .c = {.type = type}};
    q.c.ids = calloc(MC_API_RECORDS_SEARCH_MAX, sizeof *q.c.ids);
    json_t *list = json_array();
    *rc = q.c.ids && list ? mc_node_query(sc->node, q_ids, &q) : MC_ERR_NOMEM;
    uint64_t now = mc__records_view_block_time_ms(sc->node);
    for (size_t i = 0; !*rc && i < q.c.n; i++) {
        struct mc__records_view_read r = {.id = q.c.ids[i], .requester = sc->author, .purpose = MC_PURPOSE_TREAT,
                                          .now_ms = now, .node_key = mc_vault_public_key(mc_node_vault(sc->node))};
        if ((*rc = mc_node_query(sc->node, mc__records_view_query_read, &r))) break;
        if (r.rc || !r.d.allowed) continue;
        struct mc_buf plain;
        mc_buf_init(&plain, 0);
        if (mc__records_view_open(sc->node, &r, &plain) == 0) {
            json_t *one = mc_json_exact_load((const char *)plain.data, plain.len, NULL);
            if (one) json_array_append_new(list, json_pack("{s:s, s:o}", "id", r.id, "resource", one));
        }
        sodium_memzero(plain.data, plain.cap);
        mc_buf_deinit(&plain);
    }
    free(q.c.ids);
    if (*rc) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* The one patient the Bundle's patient references name; MC_ERR_NOT_FOUND
 * when none names a known patient, MC_ERR_INVALID when they disagree. */
static int bundle_patient(struct mc_node *node, const json_t *entries, mc_pubkey *patient) {
    bool have = false;
    for (size_t i = 0; i < json_array_size(entries); i++) {
        const json_t *r = json_object_get(json_array_get(entries, i), "resource");
        uint16_t t = mc_records_type_from_name(json_string_value(json_object_get(r, "resourceType")));
        if (!t || t == MC_FHIR_PROVENANCE) continue;
        const char *refs[4];
        size_t nr = mc_fhir_patient_refs(r, t, refs, 4);
        for (size_t k = 0; k < nr; k++) {
            if (strncmp(refs[k], "Patient/", 8) != 0) continue;
            mc_pubkey key;
            bool found;
            int rc = mc__records_view_resolve_patient(node, refs[k], &key, &found);
            if (rc == MC_ERR_MALFORMED || (!rc && !found)) continue;
            if (rc) return rc;
            if (have && memcmp(key.b, patient->b, 32)) return MC_ERR_INVALID;
            *patient = key;
            have = true;
        }
    }
    return have ? 0 : MC_ERR_NOT_FOUND;
}

void mc__api_fhir_root(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res) {
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__gate_access a = {.action = MC_ACTION_CREATE, .purpose = MC_PURPOSE_TREAT,
                           .outcome = MC_OUTCOME_SECURITY};
    json_t *doc = NULL;
    struct new_rec *recs = NULL;
    size_t n = 0;
    const char **patient_ids = NULL;
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, true, s.rc, s.why);
        goto out;
    }
    if (!(doc = parse_body(req, res))) goto out;
    if (strcmp(json_string_value(json_object_get(doc, "resourceType")) ?: "", "Bundle") ||
        strcmp(json_string_value(json_object_get(doc, "type")) ?: "", "transaction")) {
        mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "POST /fhir takes a Bundle of type transaction");
        goto out;
    }
    json_t *entries = json_object_get(doc, "entry");
    n = json_array_size(entries);
    if (!json_is_array(entries) || n == 0 || n > MC_RECORDS_BATCH_MAX) {
        mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "Bundle.entry must hold 1 to %d entries", MC_RECORDS_BATCH_MAX);
        goto out;
    }
    const char *pa = req->arg ? req->arg(req->arg_ctx, "patient") : NULL;
    mc_pubkey patient;
    if (pa && mc__records_view_parse_patient(&patient, pa)) {
        mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "?patient= must be the patient's key (hex)");
        goto out;
    }
    if (!pa) {
        /* The patient is the one the entries' references name (her key, or
         * her stored Patient record), as a plain FHIR client sends it. */
        int prc = bundle_patient(node, entries, &patient);
        if (prc == MC_ERR_NOT_FOUND) {
            mc__fhir_reply_fail(res, 422, MC_ERR_INVALID,
                                "name the patient: ?patient=<key>, or entries referencing Patient/<key> or her Patient record");
            goto out;
        }
        if (prc == MC_ERR_INVALID) {
            mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "the entries reference more than one patient");
            goto out;
        }
        if (prc) {
            mc__fhir_reply_fail(res, mc__reply_query_status(prc), prc, "the node could not run the query");
            goto out;
        }
    }
    recs = calloc(n, sizeof *recs);
    patient_ids = calloc(n, sizeof *patient_ids);
    if (!recs || !patient_ids) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t npat = 0;
    /* 1. validate every entry and choose its id */
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(entries, i);
        json_t *r = json_object_get(e, "resource");
        const char *method = json_string_value(json_object_get(json_object_get(e, "request"), "method"));
        if (method && strcmp(method, "POST") != 0) {
            mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "Bundle.entry[%zu].request.method: only POST is supported", i);
            goto out;
        }
        char why[300];
        int rc = mc_fhir_validate(r, &recs[i].type, why, sizeof why);
        if (rc) {
            mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "Bundle.entry[%zu]: %s", i, why);
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
    /* 2a. one patient identity: Patient/<key> becomes her Patient record
     * (the Bundle's own, else her stored one) */
    {
        json_t **docs = calloc(n, sizeof *docs);
        if (!docs) {
            mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++) docs[i] = json_object_get(json_array_get(entries, i), "resource");
        int irc = one_identity(node, &patient, npat ? patient_ids[0] : NULL, docs, n);
        free(docs);
        if (irc) {
            mc__fhir_reply_fail(res, mc__reply_query_status(irc), irc, "the node could not run the query");
            goto out;
        }
    }
    /* 2b. conditional references (Practitioner?identifier=...) */
    {
        struct mc__fhir_cond_entry *ce = calloc(n, sizeof *ce);
        if (!ce) {
            mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            ce[i] = (struct mc__fhir_cond_entry){json_object_get(json_array_get(entries, i), "resource"),
                                                 recs[i].type, recs[i].id};
        struct stored_ctx sc = {.node = node, .patient = &patient, .author = &s.v.key, .req = req};
        size_t resolved;
        const char *issue;
        char why[400];
        int crc = mc__fhir_conditional_resolve(ce, n, stored_records, &sc, &resolved, &issue, why, sizeof why);
        free(ce);
        if (crc == MC_ERR_NOT_FOUND || crc == MC_ERR_EXISTS) {
            mc__fhir_reply_set(res, 412, mc_fhir_outcome("error", issue, why));
            goto out;
        }
        if (crc == MC_ERR_MALFORMED) {
            mc__fhir_reply_set(res, 400, mc_fhir_outcome("error", issue, why));
            goto out;
        }
        if (crc) {
            mc__fhir_reply_fail(res, mc__reply_query_status(crc), crc, "%s", why);
            goto out;
        }
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
                int qrc = ref_is_patient(node, refs[k], &patient, patient_ids, npat, &ok);
                if (qrc) {
                    mc__fhir_reply_fail(res, mc__reply_query_status(qrc), qrc, "the node could not run the query");
                    goto out;
                }
            }
            if (!ok) {
                mc__fhir_reply_fail(res, 422, MC_ERR_INVALID,
                          "Bundle.entry[%zu] (%s): reference %.80s does not point at the patient%s", i,
                          mc_records_type_name(recs[i].type), refs[k],
                          recs[i].type == MC_FHIR_PROVENANCE ? "'s records in this Bundle" : "");
                goto out;
            }
        }
    }
    /* 4. authorisation and id conflicts */
    struct q_author q;
    if (authorise(node, res, &s, &a, &patient, NULL, &q)) goto out;
    struct q_exists qe = {.n = n};
    qe.ids = calloc(n, sizeof *qe.ids);
    if (!qe.ids) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) snprintf(qe.ids[i], sizeof qe.ids[i], "%s", recs[i].id);
    int qrc = mc_node_query(node, q_exists, &qe);
    free(qe.ids);
    if (qrc) {
        mc__fhir_reply_fail(res, mc__reply_query_status(qrc), qrc, "the node could not run the query");
        goto out;
    }
    if (qe.found) {
        mc__fhir_reply_fail(res, 409, MC_ERR_EXISTS, "Bundle.entry[%zu]: a record with id %s already exists", qe.dup, recs[qe.dup].id);
        goto out;
    }
    /* 5. encrypt, store, anchor in one transaction */
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        recs[i].json = mc_json_exact_dump(json_object_get(json_array_get(entries, i), "resource"),
                                          JSON_COMPACT, &recs[i].json_len);
        if (!recs[i].json) rc = MC_ERR_NOMEM;
    }
    mc_hash txid;
    if (!rc) rc = anchor_records(node, &patient, &s, recs, n, &txid);
    if (rc) {
        mc__fhir_reply_fail(res, 0, rc, "the Bundle was not stored: %s", mc_err_detail());
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
    mc__fhir_reply_set(res, 200, resp);
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
    mc__gate_release(&s);
}

