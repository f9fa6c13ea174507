/* The signed /v1/records routes (JSON API): a patient's record list with
 * sealed batch keys, one version's ciphertext with the key sealed to the
 * signer, and the auditors' break-glass review list. Same gate, policy and
 * access log as the FHIR reads. */
#include "api/routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fhir.h"
#include "api/fhir_reply.h"
#include "api/gate.h"
#include "api/records_view.h"
#include "api/reply.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/records_listing.h"
#include "base/hex.h"
#include "node/vault.h"

/* --- /v1/records and /v1/breakglass (JSON API) --- */

/* A current version to serve in a listing (content=1). */
struct listed {
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version;
    mc_hash ciphertext;
};

struct q_meta {
    const mc_pubkey *patient, *requester;
    bool content;          /* serve the current versions' ciphertexts */
    const char *after;     /* content: only records with a greater id */
    struct mc_access_decision view;
    json_t *list, *batches;
    struct listed *listed; /* content: MC_API_RECORDS_SEARCH_MAX of them */
    size_t n_listed;
};

static int q_meta(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_meta *q = ctx;
    struct mc_state *st = mc_app_state(app);
    if (q->content)
        mc_records_decide_listing(st, q->requester, q->patient, &q->view);
    else
        mc_records_decide_patient_view(st, q->requester, q->patient, &q->view);
    if (!q->view.allowed) return 0;
    /* Erased records are listed too: their anchors stay. */
    struct mc__records_view_collect c = {.type = 0, .include_erased = true};
    c.ids = calloc(MC_API_RECORDS_SEARCH_MAX, sizeof *c.ids);
    if (!c.ids) return MC_ERR_NOMEM;
    if (mc_records_scan_patient(st, q->patient, mc__records_view_collect_row, &c)) c.n = 0;
    for (size_t i = 0; i < c.n; i++) {
        struct mc_record_head h;
        if (mc_records_get_head(st, c.ids[i], &h)) continue;
        if (q->content && !h.erased && (!q->after || strcmp(h.id, q->after) > 0)) {
            struct mc_record_version rv;
            if (mc_records_get_version(st, h.id, h.versions, &rv) == 0) {
                struct listed *l = &q->listed[q->n_listed++];
                snprintf(l->id, sizeof l->id, "%s", h.id);
                l->version = h.versions;
                l->ciphertext = rv.ciphertext;
            }
        }
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

/* content=1: loads the listed versions' ciphertexts (in id order, at most
 * MC_API_LISTING_BYTES_MAX bytes) into a "sealed" array; served receives
 * what was put in it (for the entry's root), *more whether records are
 * left for a next page. A version whose ciphertext is not available is
 * named in "unavailable" and not served. */
static json_t *load_listed(struct mc_node *node, const struct q_meta *q, struct mc_records_served *served,
                           size_t *n_served, json_t *unavailable, bool *more) {
    json_t *arr = json_array();
    size_t bytes = 0;
    *n_served = 0;
    *more = false;
    struct mc_buf ct;
    mc_buf_init(&ct, 0);
    for (size_t i = 0; i < q->n_listed && arr; i++) {
        const struct listed *l = &q->listed[i];
        mc_buf_reset(&ct);
        if (mc_vault_load_ciphertext(mc_node_vault(node), &ct, l->id, l->version, &l->ciphertext, true)) {
            json_array_append_new(unavailable, json_pack("{s:s, s:I, s:s}", "id", l->id, "version",
                                                         (json_int_t)l->version, "reason", mc_err_detail()));
            continue;
        }
        if (*n_served && bytes + ct.len > MC_API_LISTING_BYTES_MAX) {
            *more = true;
            break;
        }
        bytes += ct.len;
        size_t b64n = sodium_base64_ENCODED_LEN(ct.len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(b64n);
        if (!b64) {
            json_decref(arr);
            arr = NULL;
            break;
        }
        sodium_bin2base64(b64, b64n, ct.data, ct.len, sodium_base64_VARIANT_ORIGINAL);
        uint8_t ad[69];
        size_t adn = mc_record_ad(ad, l->id, l->version);
        json_array_append_new(arr, json_pack("{s:s, s:I, s:o, s:s, s:o}", "id", l->id, "version",
                                             (json_int_t)l->version, "ciphertext_hash",
                                             mc_api_json_hash(&l->ciphertext), "ciphertext", b64, "ad",
                                             mc_api_json_hex(ad, adn)));
        free(b64);
        served[*n_served].id = l->id;
        served[*n_served].version = l->version;
        served[*n_served].ciphertext = l->ciphertext;
        (*n_served)++;
    }
    mc_buf_deinit(&ct);
    return arr;
}

void mc__api_records_list(struct mc_node *node, const char *param,
                          const struct mc__api_request *req, struct mc__api_response *res) {
    mc_pubkey patient;
    if (mc__records_view_parse_patient(&patient, req->arg ? req->arg(req->arg_ctx, "patient") : NULL)) {
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s", "patient=<key hex> is required");
        return;
    }
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__gate_access a = {.patient = &patient, .action = MC_ACTION_SEARCH, .purpose = MC_PURPOSE_PATRQT,
                           .outcome = MC_OUTCOME_SECURITY};
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, false, s.rc, s.why);
        mc__gate_release(&s);
        return;
    }
    const char *content = req->arg ? req->arg(req->arg_ctx, "content") : NULL;
    const char *after = req->arg ? req->arg(req->arg_ctx, "after") : NULL;
    struct q_meta q = {.patient = &patient, .requester = &s.v.key, .list = json_array(),
                       .batches = json_object(), .content = content && strcmp(content, "0") != 0,
                       .after = after};
    if ((content && strcmp(content, "0") && strcmp(content, "1")) || (after && !mc_record_id_valid(after))) {
        json_decref(q.list);
        json_decref(q.batches);
        a.outcome = MC_OUTCOME_REFUSED;
        a.status = 400;
        mc__gate_refuse_access(node, res, &s, &a, false, MC_ERR_MALFORMED,
                               "content must be 0 or 1, after a record id");
        mc__gate_release(&s);
        return;
    }
    if (q.content && !(q.listed = calloc(MC_API_RECORDS_SEARCH_MAX, sizeof *q.listed))) {
        json_decref(q.list);
        json_decref(q.batches);
        mc__api_fail(res, 500, MC_ERR_NOMEM, "%s", "out of memory");
        mc__gate_release(&s);
        return;
    }
    int qrc = mc_node_query(node, q_meta, &q);
    a.outcome = MC_OUTCOME_REFUSED;
    if (qrc || !q.view.allowed) {
        json_decref(q.list);
        json_decref(q.batches);
        free(q.listed);
        a.status = (uint16_t)(qrc ? mc__reply_query_status(qrc) : q.view.status);
        mc__gate_refuse_access(node, res, &s, &a, false, qrc ? qrc : MC_ERR_FORBIDDEN,
                               qrc ? "the node could not run the query" : q.view.reason);
        mc__gate_release(&s);
        return;
    }
    /* content=1: the current versions' ciphertexts too, all of them under
     * one access entry naming exactly what was served (records_listing.h). */
    json_t *sealed = NULL, *unavailable = NULL;
    bool more = false;
    size_t n_served = 0;
    char why[MC_RECORDS_LISTING_REASON_MAX];
    struct mc_records_served *served = NULL;
    if (q.content) {
        unavailable = json_array();
        served = calloc(q.n_listed ? q.n_listed : 1, sizeof *served);
        sealed = served ? load_listed(node, &q, served, &n_served, unavailable, &more) : NULL;
        if (!sealed) {
            json_decref(q.list);
            json_decref(q.batches);
            json_decref(unavailable);
            free(served);
            free(q.listed);
            mc__api_fail(res, 500, MC_ERR_NOMEM, "%s", "out of memory");
            mc__gate_release(&s);
            return;
        }
        mc_hash root;
        mc_records_listing_root(&root, served, n_served);
        mc_records_listing_reason(why, n_served, q.n_listed, &root);
        a.action = MC_ACTION_SEARCH;
        a.reason = why;
    } else {
        a.reason = "record list read";
    }
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.purpose = q.view.purpose;
    mc_hash txid;
    int lrc = mc__gate_log_access(node, &s, &a, &txid);
    if (lrc) {
        json_decref(q.list);
        json_decref(q.batches);
        json_decref(sealed);
        json_decref(unavailable);
        mc__gate_refuse_unlogged(node, res, &s, &a, false, lrc);
    } else {
        mc_hex_encode(res->access_tx, txid.b, 32);
        json_decref(res->body);
        res->status = 200;
        res->body = json_pack("{s:o, s:o, s:o}", "patient", mc_api_json_pubkey(&patient), "records", q.list,
                              "batches", q.batches);
        if (sealed) {
            json_object_set_new(res->body, "sealed", sealed);
            json_object_set_new(res->body, "unavailable", unavailable);
            json_object_set_new(res->body, "listing_reason", json_string(why));
            if (more && n_served)
                json_object_set_new(res->body, "next_after", json_string(served[n_served - 1].id));
        }
    }
    free(served);
    free(q.listed);
    mc__gate_release(&s);
}

#define BG_OTHER_MAX 20

struct q_bg {
    const mc_pubkey *requester;
    bool allowed;
    uint32_t org;
    json_t *list;
    struct mc_state *st;
};

static int bg_row(void *ctx, const struct mc_break_glass *b) {
    struct q_bg *q = ctx;
    if (b->org != q->org) return 0;
    char t[32];
    mc_fhir_instant(t, b->time_ms);
    json_t *item = json_pack("{s:o, s:o, s:o, s:s, s:I, s:s, s:s, s:b, s:s}", "access_tx",
                             mc_api_json_hash(&b->access_tx), "requester", mc_api_json_pubkey(&b->requester),
                             "patient", mc_api_json_pubkey(&b->patient), "record", b->id, "height",
                             (json_int_t)b->height, "time", t, "reason", b->reason, "open", b->open, "note", b->note);
    if (!item || json_array_append_new(q->list, item)) return MC_ERR_NOMEM;
    return 0;
}

/* The review's details: the record's kind, the clinician's name, and her
 * other accesses to the same patient (newest first, at most BG_OTHER_MAX). */
struct bg_other {
    mc_pubkey requester;
    mc_hash self;
    struct mc_access_entry e[BG_OTHER_MAX];
    size_t n, total;
};

static int other_row(void *ctx, const struct mc_access_entry *e) {
    struct bg_other *o = ctx;
    if (memcmp(e->requester.b, o->requester.b, 32) || memcmp(e->tx_id.b, o->self.b, 32) == 0) return 0;
    o->total++;
    /* the log of one patient comes in height order: keep the newest */
    if (o->n == BG_OTHER_MAX) memmove(&o->e[0], &o->e[1], (BG_OTHER_MAX - 1) * sizeof o->e[0]), o->n--;
    o->e[o->n++] = *e;
    return 0;
}

static int bg_details(struct q_bg *q, json_t *item) {
    struct mc_state *st = q->st;
    struct bg_other *o = calloc(1, sizeof *o);
    if (!o) return MC_ERR_NOMEM;
    mc_pubkey patient;
    if (mc_api_parse_pubkey(&o->requester, json_string_value(json_object_get(item, "requester"))) ||
        mc_api_parse_pubkey(&patient, json_string_value(json_object_get(item, "patient"))) ||
        mc_hex_decode(o->self.b, 32, json_string_value(json_object_get(item, "access_tx")))) {
        free(o);
        return MC_ERR_TAMPERED;
    }
    struct mc_record_head h;
    const char *id = json_string_value(json_object_get(item, "record"));
    json_object_set_new(item, "record_type",
                        id && id[0] && mc_records_get_head(st, id, &h) == 0 ? json_string(mc_records_type_name(h.type))
                                                                           : json_null());
    struct mc_account a;
    bool have_a = mc_identity_get_account(st, &o->requester, &a) == 0;
    if (have_a) a.name[sizeof a.name - 1] = 0;
    json_object_set_new(item, "requester_name", mc_api_json_text(have_a ? a.name : NULL));
    int rc = mc_records_scan_access(st, &patient, other_row, o);
    json_t *others = json_array();
    for (size_t i = o->n; !rc && i-- > 0;) {
        const struct mc_access_entry *e = &o->e[i];
        char t[32];
        mc_fhir_instant(t, e->time_ms);
        struct mc_record_head eh;
        json_array_append_new(others, json_pack("{s:o, s:s, s:s, s:s, s:o, s:s, s:s}", "tx_id",
                                                mc_api_json_hash(&e->tx_id), "time", t, "action",
                                                mc_action_name(e->action) ? mc_action_name(e->action) : "unknown",
                                                "purpose", mc_purpose_code(e->purpose) ? mc_purpose_code(e->purpose) : "",
                                                "record_type",
                                                e->id[0] && mc_records_get_head(st, e->id, &eh) == 0
                                                    ? json_string(mc_records_type_name(eh.type)) : json_null(),
                                                "record", e->id, "outcome",
                                                e->outcome == MC_OUTCOME_SUCCESS ? "allowed" : "refused"));
    }
    json_object_set_new(item, "other_accesses", others);
    json_object_set_new(item, "other_access_count", json_integer((json_int_t)o->total));
    free(o);
    return rc;
}

static int q_bg(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_bg *q = ctx;
    struct mc_state *st = mc_app_state(app);
    q->st = st;
    struct mc_access_decision d;
    mc_records_decide_audit(st, q->requester, &d);
    struct mc_account a;
    q->allowed = d.allowed && mc_identity_get_account(st, q->requester, &a) == 0;
    if (!q->allowed) return 0;
    q->org = a.org;
    int rc = mc_records_scan_break_glass(st, bg_row, q);
    size_t i;
    json_t *item;
    json_array_foreach(q->list, i, item) if (!rc) rc = bg_details(q, item);
    return rc;
}

void mc__api_records_break_glass(struct mc_node *node, const char *param,
                                 const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    /* the review list names patients and records: its reads are logged */
    struct mc__gate_access a = {.action = MC_ACTION_AUDIT, .purpose = MC_PURPOSE_HOPERAT,
                                .outcome = MC_OUTCOME_REFUSED};
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, false, s.rc, s.why);
        mc__gate_release(&s);
        return;
    }
    struct q_bg q = {.requester = &s.v.key, .list = json_array()};
    int qrc = mc_node_query(node, q_bg, &q);
    if (qrc) {
        json_decref(q.list);
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, false, qrc, "the node could not run the query");
        mc__gate_release(&s);
        return;
    }
    if (!q.allowed) {
        json_decref(q.list);
        a.status = 403;
        mc__gate_refuse_access(node, res, &s, &a, false, MC_ERR_FORBIDDEN, "only auditors review break-glass accesses");
        mc__gate_release(&s);
        return;
    }
    char why[120];
    snprintf(why, sizeof why, "break-glass review list read (%zu entries)", json_array_size(q.list));
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.reason = why;
    mc_hash txid;
    int rc = mc__gate_log_access(node, &s, &a, &txid);
    if (rc) {
        json_decref(q.list);
        mc__gate_refuse_unlogged(node, res, &s, &a, false, rc);
    } else {
        mc_hex_encode(res->access_tx, txid.b, 32);
        json_decref(res->body);
        res->status = 200;
        res->body = json_pack("{s:o}", "break_glass", q.list);
    }
    mc__gate_release(&s);
}

/* --- GET /v1/records/{id}/sealed[?version=N]: ciphertext and a key sealed to the signer --- */

struct q_sealed {
    struct mc__records_view_read r;
    bool patient_key;                  /* sealed is the batch key sealed to the patient */
};

static int q_sealed(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_sealed *q = ctx;
    /* node_key is the requester: q_rec finds a batch key whose node is the
     * requester, or a grant key sealed to the requester. */
    (void)mc__records_view_query_read(&q->r, store, app);
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
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "%s", "no such record (or version)");
        return;
    }
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct q_sealed q = {.r = {.id = param, .version = (uint32_t)version, .requester = &s.v.key,
                               .purpose = mc__records_view_purpose(req), .btg = mc__gate_header(req, "x-break-glass-reason"),
                               .now_ms = mc__records_view_block_time_ms(node), .node_key = &s.v.key,
                               .skip_policy = s.rc != 0}};
    int qrc = mc_node_query(node, q_sealed, &q);
    struct mc__records_view_read *r = &q.r;
    struct mc__gate_access a = {.patient = r->rc == 0 || r->head.versions ? &r->head.patient : NULL,
                           .id = param, .version = (uint32_t)version,
                           .action = version ? MC_ACTION_VREAD : MC_ACTION_READ, .purpose = r->purpose,
                           .outcome = MC_OUTCOME_SECURITY};
    struct mc_buf ct;
    mc_buf_init(&ct, 0);
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, false, s.rc, s.why);
        goto out;
    }
    a.outcome = MC_OUTCOME_REFUSED;
    if (qrc) {
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, false, qrc, "the node could not run the query");
        goto out;
    }
    if (r->rc) {
        a.status = 404;
        mc__gate_refuse_access(node, res, &s, &a, false, MC_ERR_NOT_FOUND, "no such record");
        goto out;
    }
    a.purpose = r->d.purpose;
    if (!r->d.allowed) {
        a.status = (uint16_t)r->d.status;
        mc__gate_refuse_access(node, res, &s, &a, false, r->d.status == 410 ? MC_ERR_STATE : MC_ERR_FORBIDDEN, r->d.reason);
        goto out;
    }
    if (!r->have_batch_key && !r->via_grant) {
        a.status = 403;
        mc__gate_refuse_access(node, res, &s, &a, false, MC_ERR_FORBIDDEN,
               "no key of this record version is sealed to you (read it through a node instead)");
        goto out;
    }
    int rc = mc_vault_load_ciphertext(mc_node_vault(node), &ct, r->id, r->version, &r->ver.ciphertext, true);
    if (rc) {
        char why[300];
        snprintf(why, sizeof why, "the ciphertext is not available: %s", mc_err_detail());
        a.outcome = rc == MC_ERR_TAMPERED ? MC_OUTCOME_SECURITY : MC_OUTCOME_REFUSED;
        a.status = rc == MC_ERR_TAMPERED      ? 500
                   : rc == MC_ERR_UNAVAILABLE ? 503
                   : rc == MC_ERR_TOO_LARGE   ? 413 /* an attachment: GET /fhir/Binary/{id} */
                                              : 410;
        if (rc == MC_ERR_TOO_LARGE)
            snprintf(why, sizeof why, "an attachment's ciphertext is not served here: read it at /fhir/Binary/%s",
                     r->id);
        mc__gate_refuse_access(node, res, &s, &a, false, rc, why);
        goto out;
    }
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.version = r->version;
    a.reason = r->d.break_glass ? mc__gate_header(req, "x-break-glass-reason") : "ciphertext served";
    mc_hash txid;
    if ((rc = mc__gate_log_access(node, &s, &a, &txid))) {
        mc__gate_refuse_unlogged(node, res, &s, &a, false, rc);
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    size_t b64n = sodium_base64_ENCODED_LEN(ct.len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64n);
    if (!b64) {
        mc__api_fail(res, 500, MC_ERR_NOMEM, "%s", "out of memory");
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
    mc__gate_release(&s);
}

