/* FHIR reads: GET /fhir/{type}/{id}[/_history/{v}], searches by patient,
 * instance history, Patient/{id}/$everything and Provenance generated from
 * the anchors (the CapabilityStatement is routes_fhir_metadata.c).
 *
 * Every read passes the gate (gate.h), then the policy on the chain
 * decides (app/records.h) at the committed height; every read, search and
 * refusal is logged on chain, and data is served only once its access
 * entry was admitted ("no log, no data"). Decryption happens in the node's
 * vault. Handlers never call mc_node_* from inside mc_node_query
 * callbacks. */
#include "api/routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fhir.h"
#include "api/fhir_reply.h"
#include "api/fhir_search.h"
#include "api/gate.h"
#include "api/records_view.h"
#include "api/reply.h"
#include "app/identity.h"
#include "app/records.h"
#include "base/hex.h"
#include "node/vault.h"

/* --- GET /fhir/{type}/{id}[/_history/{v}] --- */

/* One record read, judged: the gate's verdict, the query, the record's
 * existence and type, then the policy at the committed height. On a refusal
 * the answer and its access entry are written (mc__gate_refuse_access) and
 * false comes back; on true, r holds the record and a its access entry. */
static bool read_admitted(struct mc_node *node, struct mc__gate *s, const struct mc__records_view_path *fp,
                          const struct mc__api_request *req, struct mc__api_response *res, uint8_t action,
                          struct mc__records_view_read *r, struct mc__gate_access *a) {
    mc__gate_check(s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    *r = (struct mc__records_view_read){.id = fp->id, .version = fp->version, .requester = &s->v.key,
                         .purpose = mc__records_view_purpose(req), .btg = mc__gate_header(req, "x-break-glass-reason"),
                         .now_ms = mc__records_view_block_time_ms(node), .node_key = mc_vault_public_key(mc_node_vault(node)),
                         .skip_policy = s->rc != 0};
    int qrc = mc_node_query(node, mc__records_view_query_read, r);
    *a = (struct mc__gate_access){.patient = r->rc == 0 || r->head.versions ? &r->head.patient : NULL,
                           .id = fp->id, .version = fp->version, .action = action,
                           .purpose = r->purpose, .outcome = MC_OUTCOME_SECURITY};
    if (s->rc) {
        mc__gate_refuse_access(node, res, s, a, true, s->rc, s->why);
        return false;
    }
    a->outcome = MC_OUTCOME_REFUSED;
    if (qrc) {
        a->status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, s, a, true, qrc, "the node could not run the query");
        return false;
    }
    if (r->rc || mc_records_type_from_name(fp->type) != r->head.type) {
        a->status = 404;
        mc__gate_refuse_access(node, res, s, a, true, MC_ERR_NOT_FOUND, "no such record");
        return false;
    }
    a->purpose = r->d.purpose;
    if (!r->d.allowed) {
        a->status = (uint16_t)r->d.status;
        mc__gate_refuse_access(node, res, s, a, true, r->d.status == 410 ? MC_ERR_STATE : MC_ERR_FORBIDDEN,
                               r->d.reason);
        return false;
    }
    return true;
}

static void fhir_read(struct mc_node *node, const struct mc__records_view_path *fp,
                      const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__gate s;
    struct mc__records_view_read r;
    struct mc__gate_access a;
    if (!read_admitted(node, &s, fp, req, res, fp->version ? MC_ACTION_VREAD : MC_ACTION_READ, &r, &a)) goto out;
    if (r.head.type == MC_FHIR_BINARY) { /* an attachment: streamed back */
        mc__api_fhir_binary_read(node, &r, &s, &a, req, res);
        goto out;
    }
    struct mc_buf plain;
    mc_buf_init(&plain, 0);
    int rc = mc__records_view_open(node, &r, &plain);
    if (rc) {
        a.outcome = rc == MC_ERR_TAMPERED ? MC_OUTCOME_SECURITY : MC_OUTCOME_REFUSED;
        a.status = rc == MC_ERR_STATE         ? 410
                   : rc == MC_ERR_UNAVAILABLE ? 503
                   : rc == MC_ERR_MISDIRECTED ? 421 /* another node holds the key */
                                              : 500;
        char why[500];
        if (rc == MC_ERR_MISDIRECTED && r.elsewhere[0])
            snprintf(why, sizeof why, "%s; %s", mc_err_detail(), r.elsewhere);
        else
            snprintf(why, sizeof why, "%s", mc_err_detail());
        mc__gate_refuse_access(node, res, &s, &a, true, rc, why);
        sodium_memzero(plain.data, plain.cap);
        mc_buf_deinit(&plain);
        goto out;
    }
    json_t *body = mc__fhir_reply_with_meta(plain.data, plain.len, r.version, r.ver.time_ms);
    sodium_memzero(plain.data, plain.cap);
    mc_buf_deinit(&plain);
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.version = r.version;
    a.reason = r.d.break_glass ? mc__gate_header(req, "x-break-glass-reason") : "";
    mc_hash txid;
    if ((rc = mc__gate_log_access(node, &s, &a, &txid))) {
        json_decref(body);
        mc__gate_refuse_unlogged(node, res, &s, &a, true, rc);
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    snprintf(res->etag, sizeof res->etag, "W/\"%u\"", r.version);
    mc__fhir_reply_set(res, body ? 200 : 500, body ? body : mc_fhir_outcome("error", "exception", "stored resource does not parse"));
out:
    mc__gate_release(&s);
}


struct q_list {
    const mc_pubkey *patient, *requester;
    struct mc__records_view_collect c;
    struct mc_access_decision view;
    int rc;
};

static int q_list(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_list *q = ctx;
    mc_records_decide_patient_view(mc_app_state(app), q->requester, q->patient, &q->view);
    q->rc = mc_records_scan_patient(mc_app_state(app), q->patient, mc__records_view_collect_row, &q->c);
    return 0;
}


struct q_patient_id {
    const mc_pubkey *patient;
    char id[MC_RECORD_ID_MAX + 1];
    bool found;
};

static int q_patient_id(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_patient_id *q = ctx;
    q->found = mc__records_view_patient_record(mc_app_state(app), q->patient, q->id);
    return 0;
}

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
        if (by_id) mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "no such Provenance");
        else mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "target must be Type/id, Type/id/_history/v or id");
        return;
    }
    if (type[0] && !mc_records_type_from_name(type)) {
        mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "target names an unsupported resource type '%s'", type);
        return;
    }
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__records_view_read r = {.id = id, .version = version, .requester = &s.v.key,
                         .purpose = mc__records_view_purpose(req), .btg = mc__gate_header(req, "x-break-glass-reason"),
                         .now_ms = mc__records_view_block_time_ms(node), .node_key = mc_vault_public_key(mc_node_vault(node)),
                         .skip_policy = s.rc != 0};
    int qrc = mc_node_query(node, mc__records_view_query_read, &r);
    bool found = r.rc == 0 && (!type[0] || mc_records_type_from_name(type) == r.head.type);
    /* (a search for a record that does not exist names none: the ledger
     * takes a successful access only to an existing record) */
    struct mc__gate_access a = {.patient = found ? &r.head.patient : NULL, .id = found || by_id ? id : NULL,
                           .version = found || by_id ? version : 0,
                           .action = by_id ? MC_ACTION_READ : MC_ACTION_SEARCH, .purpose = r.purpose,
                           .outcome = MC_OUTCOME_SECURITY};
    json_t *b = NULL;
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, true, s.rc, s.why);
        goto out;
    }
    a.outcome = MC_OUTCOME_REFUSED;
    if (qrc) {
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, true, qrc, "the node could not run the query");
        goto out;
    }
    if (!found && by_id) {
        a.status = 404;
        mc__gate_refuse_access(node, res, &s, &a, true, MC_ERR_NOT_FOUND, "no such Provenance");
        goto out;
    }
    if (found && !r.d.allowed) {
        a.purpose = r.d.purpose;
        a.status = (uint16_t)r.d.status;
        mc__gate_refuse_access(node, res, &s, &a, true, r.d.status == 410 ? MC_ERR_STATE : MC_ERR_FORBIDDEN, r.d.reason);
        goto out;
    }
    struct mc__records_view_provenance q = {.id = id, .version = version, .list = json_array()};
    if (found && (qrc = mc_node_query(node, mc__records_view_query_provenance, &q))) {
        json_decref(q.list);
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, true, qrc, "the node could not run the query");
        goto out;
    }
    if (by_id && (q.rc || json_array_size(q.list) != 1)) {
        json_decref(q.list);
        a.status = 404;
        mc__gate_refuse_access(node, res, &s, &a, true, MC_ERR_NOT_FOUND, "no such Provenance");
        goto out;
    }
    if (found) a.purpose = r.d.purpose;
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    char why[160];
    snprintf(why, sizeof why, "provenance of %zu record version(s) served", json_array_size(q.list));
    a.reason = why;
    mc_hash txid;
    int rc = mc__gate_log_access(node, &s, &a, &txid);
    if (rc) {
        json_decref(q.list);
        mc__gate_refuse_unlogged(node, res, &s, &a, true, rc);
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    if (by_id) {
        mc__fhir_reply_set(res, 200, json_incref(json_array_get(q.list, 0)));
        json_decref(q.list);
        goto out;
    }
    b = mc__fhir_reply_bundle("searchset");
    char base[300], applied[300] = "";
    mc__fhir_reply_base(req, base, sizeof base);
    if (!mc__fhir_query_add(applied, sizeof applied, "target", target)) applied[0] = 0;
    mc__fhir_reply_bundle_link(b, "self", base, "Provenance", applied);
    for (size_t i = 0; i < json_array_size(q.list); i++) {
        json_t *p = json_array_get(q.list, i);
        mc__fhir_reply_bundle_add(b, json_incref(p), base, "Provenance", json_string_value(json_object_get(p, "id")), "match");
    }
    json_decref(q.list);
    mc__fhir_reply_set(res, 200, b);
out:
    mc__gate_release(&s);
}

/* The patient's Patient record, as an "include" entry of a search, when the
 * requester may read it. */
static void include_patient(struct mc_node *node, const struct mc__api_request *req, const mc_pubkey *patient,
                            const struct mc__gate *s, uint8_t purpose, const char *base, json_t *b) {
    struct q_patient_id qp = {.patient = patient};
    if (mc_node_query(node, q_patient_id, &qp) || !qp.found) return;
    struct mc__records_view_read r = {.id = qp.id, .requester = &s->v.key, .purpose = purpose,
                                      .btg = mc__gate_header(req, "x-break-glass-reason"),
                                      .now_ms = mc__records_view_block_time_ms(node),
                                      .node_key = mc_vault_public_key(mc_node_vault(node))};
    if (mc_node_query(node, mc__records_view_query_read, &r) || r.rc || !r.d.allowed) return;
    struct mc_buf plain;
    mc_buf_init(&plain, 0);
    if (mc__records_view_open(node, &r, &plain) == 0) {
        json_t *one = mc__fhir_reply_with_meta(plain.data, plain.len, r.version, r.ver.time_ms);
        if (one) mc__fhir_reply_bundle_add(b, one, base, "Patient", r.id, "include");
    }
    sodium_memzero(plain.data, plain.cap);
    mc_buf_deinit(&plain);
}

/* Search (sp: its parameters; patient NULL when the reference named no
 * patient) or $everything export (sp NULL, type 0). */
static void fhir_search(struct mc_node *node, uint16_t type, const mc_pubkey *patient, bool export,
                        const struct mc__fhir_search *sp, const struct mc__api_request *req,
                        struct mc__api_response *res) {
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__gate_access a = {.patient = patient, .action = export ? MC_ACTION_EXPORT : MC_ACTION_SEARCH,
                           .purpose = mc__records_view_purpose(req), .outcome = MC_OUTCOME_SECURITY};
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, true, s.rc, s.why);
        mc__gate_release(&s);
        return;
    }
    char base[300];
    mc__fhir_reply_base(req, base, sizeof base);
    const char *tname = export ? "Patient" : mc_records_type_name(type);
    static const mc_pubkey nobody;
    struct q_list q = {.patient = patient ? patient : &nobody, .requester = &s.v.key, .c = {.type = type}};
    q.c.ids = calloc(MC_API_RECORDS_SEARCH_MAX, sizeof *q.c.ids);
    json_t *b = NULL;
    if (!q.c.ids) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        mc__gate_release(&s);
        return;
    }
    int qrc = patient ? mc_node_query(node, q_list, &q) : 0;
    a.outcome = MC_OUTCOME_REFUSED;
    if (qrc) {
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, true, qrc, "the node could not run the query");
        goto out;
    }
    if (export && memcmp(s.v.key.b, patient->b, 32) != 0) {
        a.status = 403;
        mc__gate_refuse_access(node, res, &s, &a, true, MC_ERR_FORBIDDEN, "only the patient exports their records");
        goto out;
    }
    b = mc__fhir_reply_bundle("searchset");
    size_t allowed = 0;
    uint64_t now = mc__records_view_block_time_ms(node);
    /* A query that fails fails the whole answer: a partial bundle would
     * read as the patient's complete records. */
    for (size_t i = 0; i < q.c.n && !qrc; i++) {
        struct mc__records_view_read r = {.id = q.c.ids[i], .requester = &s.v.key, .purpose = a.purpose,
                             .btg = mc__gate_header(req, "x-break-glass-reason"), .now_ms = now,
                             .node_key = mc_vault_public_key(mc_node_vault(node))};
        if ((qrc = mc_node_query(node, mc__records_view_query_read, &r))) break;
        if (r.rc || !r.d.allowed) continue;
        if (r.d.break_glass) a.purpose = MC_PURPOSE_BTG;
        else if (!a.purpose) a.purpose = r.d.purpose;
        allowed++;
        struct mc_buf plain;
        mc_buf_init(&plain, 0);
        if (mc__records_view_open(node, &r, &plain) == 0) {
            json_t *one = mc__fhir_reply_with_meta(plain.data, plain.len, r.version, r.ver.time_ms);
            if (one && sp && !mc__fhir_search_match(sp, one, r.id, r.ver.time_ms)) {
                json_decref(one);
                one = NULL;
            }
            if (one) {
                mc__fhir_reply_bundle_add(b, one, base, mc_records_type_name(r.head.type), r.id, "match");
                if (export) {
                    struct mc__records_view_provenance qp = {.id = r.id, .list = json_array()};
                    qrc = mc_node_query(node, mc__records_view_query_provenance, &qp);
                    for (size_t k = 0; !qrc && k < json_array_size(qp.list); k++) {
                        json_t *p = json_array_get(qp.list, k);
                        mc__fhir_reply_bundle_add(b, json_incref(p), base, "Provenance",
                                        json_string_value(json_object_get(p, "id")), "include");
                    }
                    json_decref(qp.list);
                }
            }
        }
        sodium_memzero(plain.data, plain.cap);
        mc_buf_deinit(&plain);
    }
    if (qrc) {
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, true, qrc, "the node could not run the query");
        goto out;
    }
    if (q.c.n > 0 && allowed == 0) {
        a.status = 403;
        mc__gate_refuse_access(node, res, &s, &a, true, MC_ERR_FORBIDDEN, "no grant of the patient covers these records for the signer");
        goto out;
    }
    size_t total = (size_t)json_integer_value(json_object_get(b, "total"));
    char why[160];
    snprintf(why, sizeof why, "%zu of %zu records matched and served", total, q.c.n);
    if (sp) {
        /* order, then the page asked for */
        json_t *entries = json_object_get(b, "entry");
        mc__fhir_search_sort(sp, entries);
        size_t from = sp->offset < total ? sp->offset : total;
        size_t to = sp->summary_count ? from : (total - from > sp->count ? from + sp->count : total);
        json_t *page = json_array();
        for (size_t i = from; i < to; i++) json_array_append(page, json_array_get(entries, i));
        json_object_set_new(b, "entry", page);
        if (sp->include_patient && to > from && patient)
            include_patient(node, req, patient, &s, a.purpose, base, b);
        char link[MC_FHIR_SEARCH_LINK_MAX + 64], num[24];
        snprintf(link, sizeof link, "%s", sp->applied);
        if (sp->offset) {
            snprintf(num, sizeof num, "%zu", sp->offset);
            (void)mc__fhir_query_add(link, sizeof link, "_offset", num);
        }
        mc__fhir_reply_bundle_link(b, "self", base, tname, link);
        if (!sp->summary_count && to < total) {
            snprintf(link, sizeof link, "%s", sp->applied);
            snprintf(num, sizeof num, "%zu", to);
            (void)mc__fhir_query_add(link, sizeof link, "_offset", num);
            mc__fhir_reply_bundle_link(b, "next", base, tname, link);
        }
        if (!sp->summary_count && from > 0) {
            snprintf(link, sizeof link, "%s", sp->applied);
            size_t prev = from > sp->count ? from - sp->count : 0;
            snprintf(num, sizeof num, "%zu", prev);
            if (prev) (void)mc__fhir_query_add(link, sizeof link, "_offset", num);
            mc__fhir_reply_bundle_link(b, "previous", base, tname, link);
        }
        snprintf(why, sizeof why, "%zu of %zu records matched, %zu served", total, q.c.n, to - from);
    }
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    /* a break-glass search carries its justification, as a read does */
    char btg_why[MC_REASON_MAX + 1];
    const char *justification = mc__gate_header(req, "x-break-glass-reason");
    if (a.purpose == MC_PURPOSE_BTG && justification && justification[0]) {
        snprintf(btg_why, sizeof btg_why, "%s (%s)", justification, why);
        a.reason = btg_why;
    } else {
        a.reason = patient ? why : "no such patient";
    }
    mc_hash txid;
    int rc = mc__gate_log_access(node, &s, &a, &txid);
    if (rc) {
        mc__gate_refuse_unlogged(node, res, &s, &a, true, rc);
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    mc__fhir_reply_set(res, 200, b);
    b = NULL;
out:
    json_decref(b);
    free(q.c.ids);
    mc__gate_release(&s);
}

/* GET /fhir/{type}/{id}/_history: every version of the record the
 * requester may read, newest first, as a history Bundle; one access entry. */
static void fhir_history(struct mc_node *node, const struct mc__records_view_path *fp,
                         const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__gate s;
    struct mc__records_view_read r;
    struct mc__gate_access a;
    json_t *b = NULL;
    struct mc__records_view_path whole = *fp;
    whole.version = 0; /* every version: the record as a whole is judged */
    if (!read_admitted(node, &s, &whole, req, res, MC_ACTION_VREAD, &r, &a)) goto out;
    char base[300];
    mc__fhir_reply_base(req, base, sizeof base);
    b = json_pack("{s:s, s:s, s:I, s:[]}", "resourceType", "Bundle", "type", "history", "total",
                  (json_int_t)r.head.versions, "entry");
    char self[MC_RECORD_ID_MAX + 64];
    snprintf(self, sizeof self, "%s/_history", fp->id);
    mc__fhir_reply_bundle_link(b, "self", base, fp->type, "");
    json_t *links = json_object_get(b, "link");
    char selfurl[700];
    snprintf(selfurl, sizeof selfurl, "%s/%s/%s", base, fp->type, self);
    json_object_set_new(json_array_get(links, 0), "url", json_string(selfurl));
    int rc = 0;
    for (uint32_t v = r.head.versions; v >= 1 && !rc; v--) {
        struct mc__records_view_read rv = r;
        rv.version = v;
        if ((rc = mc_node_query(node, mc__records_view_query_read, &rv))) break;
        if (rv.rc) {
            rc = rv.rc;
            break;
        }
        struct mc_buf plain;
        mc_buf_init(&plain, 0);
        rc = mc__records_view_open(node, &rv, &plain);
        json_t *one = rc ? NULL : mc__fhir_reply_with_meta(plain.data, plain.len, v, rv.ver.time_ms);
        sodium_memzero(plain.data, plain.cap);
        mc_buf_deinit(&plain);
        if (!rc && !one) rc = MC_ERR_TAMPERED;
        if (rc) break;
        char full[700], url[MC_RECORD_ID_MAX + 64], etag[24];
        snprintf(full, sizeof full, "%s/%s/%s", base, fp->type, fp->id);
        snprintf(url, sizeof url, "%s/%s", fp->type, fp->id);
        snprintf(etag, sizeof etag, "W/\"%u\"", v);
        json_array_append_new(json_object_get(b, "entry"),
                              json_pack("{s:s, s:o, s:{s:s, s:s}, s:{s:s, s:s}}", "fullUrl", full, "resource", one,
                                        "request", "method", v == 1 ? "POST" : "PUT", "url",
                                        v == 1 ? fp->type : url, "response", "status",
                                        v == 1 ? "201" : "200", "etag", etag));
    }
    if (rc) {
        a.status = rc == MC_ERR_UNAVAILABLE ? 503 : 500;
        a.outcome = rc == MC_ERR_TAMPERED ? MC_OUTCOME_SECURITY : MC_OUTCOME_REFUSED;
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        mc__gate_refuse_access(node, res, &s, &a, true, rc, why);
        goto out;
    }
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    char why[80];
    snprintf(why, sizeof why, "history: %u versions served", r.head.versions);
    a.reason = why;
    mc_hash txid;
    if ((rc = mc__gate_log_access(node, &s, &a, &txid))) {
        mc__gate_refuse_unlogged(node, res, &s, &a, true, rc);
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    mc__fhir_reply_set(res, 200, b);
    b = NULL;
out:
    json_decref(b);
    mc__gate_release(&s);
}


void mc__api_fhir_get(struct mc_node *node, const char *param, const struct mc__api_request *req,
                      struct mc__api_response *res) {
    struct mc__records_view_path fp;
    if (mc__records_view_parse_path(&fp, param)) {
        mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "no such FHIR route");
        return;
    }
    if (fp.parts == 1 && (strcmp(fp.type, "AuditEvent") == 0 || strcmp(fp.type, "Consent") == 0)) {
        mc__api_fhir_audit_view(node, fp.type[0] == 'A', req, res);
        return;
    }
    uint16_t type = mc_records_type_from_name(fp.type);
    if (!type) {
        mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "resource type '%s' is not supported here (see /fhir/metadata)", fp.type);
        return;
    }
    if (type == MC_FHIR_PROVENANCE && fp.parts == 1 && req->arg && req->arg(req->arg_ctx, "target")) {
        static const char *const target_params[] = {"target", "_format", NULL};
        char bad[200];
        if (mc__fhir_search_check_names(req, target_params, bad, sizeof bad)) {
            mc__fhir_reply_fail(res, 400, MC_ERR_INVALID, "%s", bad);
            return;
        }
        fhir_provenance(node, req->arg(req->arg_ctx, "target"), false, req, res);
        return;
    }
    /* A generated Provenance never changes: its one version is 1. */
    if (type == MC_FHIR_PROVENANCE && strchr(fp.id, '.') &&
        (fp.parts == 2 || (fp.parts == 4 && fp.version == 1))) {
        fhir_provenance(node, fp.id, true, req, res);
        return;
    }
    if (fp.parts == 1 && !mc__fhir_search_served(type)) {
        res->allow = "POST";
        mc__fhir_reply_fail(res, 405, MC_ERR_INVALID, "%s is not searched here; it is read through the references of the records", fp.type);
        return;
    }
    if (fp.parts == 1) {
        struct mc__fhir_search *sp = malloc(sizeof *sp);
        char why[300];
        if (!sp) {
            mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
            return;
        }
        int prc = mc__fhir_search_parse(sp, type, req, why, sizeof why);
        if (prc) {
            mc__fhir_reply_fail(res, 400, prc, "%s", why);
            free(sp);
            return;
        }
        /* The records of one patient are searched: the one patient= (or
         * subject=) names, or for Patient the one whose record _id names. */
        const char *ref = sp->patient_ref[0] ? sp->patient_ref
                          : type == MC_FHIR_PATIENT && sp->ids.n ? sp->ids.v[0].code : NULL;
        if (!ref) {
            mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "%s",
                                type == MC_FHIR_PATIENT ? "a Patient search needs _id or identifier=urn:medchain:account|<key>"
                                                        : "a search needs patient= (or subject=): Patient/<id> or the patient's key");
            free(sp);
            return;
        }
        mc_pubkey patient;
        bool found;
        prc = mc__records_view_resolve_patient(node, ref, &patient, &found);
        if (prc) {
            if (prc == MC_ERR_MALFORMED)
                mc__fhir_reply_fail(res, 400, prc, "%s must be Patient/<id>, <id> or the patient's key", ref);
            else
                mc__fhir_reply_fail(res, mc__reply_query_status(prc), prc, "the node could not run the query");
            free(sp);
            return;
        }
        fhir_search(node, type, found ? &patient : NULL, false, sp, req, res);
        free(sp);
        return;
    }
    if (fp.parts == 3 && strcmp(fp.op, "_history") == 0) {
        fhir_history(node, &fp, req, res);
        return;
    }
    if (fp.parts == 3) {
        mc_pubkey patient;
        bool found = false;
        if (type != MC_FHIR_PATIENT || strcmp(fp.op, "$everything") ||
            mc__records_view_resolve_patient(node, fp.id, &patient, &found) || !found) {
            mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "only Patient/<id>/$everything is supported, for a known patient");
            return;
        }
        fhir_search(node, 0, &patient, true, NULL, req, res);
        return;
    }
    fhir_read(node, &fp, req, res);
}
