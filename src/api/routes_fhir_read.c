/* FHIR reads: GET /fhir/{type}/{id}[/_history/{v}], searches by patient,
 * Patient/{key}/$everything, Provenance generated from the anchors, and
 * GET /fhir/metadata (the CapabilityStatement).
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
#include "api/gate.h"
#include "api/records_view.h"
#include "api/reply.h"
#include "app/identity.h"
#include "app/records.h"
#include "base/hex.h"
#include "node/vault.h"

/* --- GET /fhir/{type}/{id}[/_history/{v}] --- */

static void fhir_read(struct mc_node *node, const struct mc__records_view_path *fp,
                      const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__records_view_read r = {.id = fp->id, .version = fp->version, .requester = &s.v.key,
                         .purpose = mc__records_view_purpose(req), .btg = mc__gate_header(req, "x-break-glass-reason"),
                         .now_ms = mc__records_view_block_time_ms(node), .node_key = mc_vault_public_key(mc_node_vault(node)),
                         .skip_policy = s.rc != 0};
    int qrc = mc_node_query(node, mc__records_view_query_read, &r);
    uint8_t action = fp->version ? MC_ACTION_VREAD : MC_ACTION_READ;
    struct mc__gate_access a = {.patient = r.rc == 0 || r.head.versions ? &r.head.patient : NULL,
                           .id = fp->id, .version = fp->version, .action = action,
                           .purpose = r.purpose, .outcome = MC_OUTCOME_SECURITY};
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
    if (r.rc || mc_records_type_from_name(fp->type) != r.head.type) {
        a.status = 404;
        mc__gate_refuse_access(node, res, &s, &a, true, MC_ERR_NOT_FOUND, "no such record");
        goto out;
    }
    a.purpose = r.d.purpose;
    if (!r.d.allowed) {
        a.status = (uint16_t)r.d.status;
        mc__gate_refuse_access(node, res, &s, &a, true, r.d.status == 410 ? MC_ERR_STATE : MC_ERR_FORBIDDEN, r.d.reason);
        goto out;
    }
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
    struct mc__gate_access a = {.patient = found ? &r.head.patient : NULL, .id = id, .version = version,
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
    for (size_t i = 0; i < json_array_size(q.list); i++) {
        json_t *p = json_array_get(q.list, i);
        mc__fhir_reply_bundle_add(b, json_incref(p), "Provenance", json_string_value(json_object_get(p, "id")), "match");
    }
    json_decref(q.list);
    mc__fhir_reply_set(res, 200, b);
out:
    mc__gate_release(&s);
}

/* Search (type != 0) or $everything export (type 0, patient only). */
static void fhir_search(struct mc_node *node, uint16_t type, const mc_pubkey *patient, bool export,
                        const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__gate_access a = {.patient = patient, .action = export ? MC_ACTION_EXPORT : MC_ACTION_SEARCH,
                           .purpose = mc__records_view_purpose(req), .outcome = MC_OUTCOME_SECURITY};
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, true, s.rc, s.why);
        mc__gate_release(&s);
        return;
    }
    struct q_list q = {.patient = patient, .requester = &s.v.key, .c = {.type = type}};
    q.c.ids = calloc(MC_API_RECORDS_SEARCH_MAX, sizeof *q.c.ids);
    if (!q.c.ids) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        mc__gate_release(&s);
        return;
    }
    int qrc = mc_node_query(node, q_list, &q);
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
    json_t *b = mc__fhir_reply_bundle("searchset");
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
        struct mc_buf plain;
        mc_buf_init(&plain, 0);
        if (mc__records_view_open(node, &r, &plain) == 0) {
            json_t *one = mc__fhir_reply_with_meta(plain.data, plain.len, r.version, r.ver.time_ms);
            if (one) {
                mc__fhir_reply_bundle_add(b, one, mc_records_type_name(r.head.type), r.id, "match");
                allowed++;
                if (export) {
                    struct mc__records_view_provenance qp = {.id = r.id, .list = json_array()};
                    qrc = mc_node_query(node, mc__records_view_query_provenance, &qp);
                    for (size_t k = 0; !qrc && k < json_array_size(qp.list); k++) {
                        json_t *p = json_array_get(qp.list, k);
                        mc__fhir_reply_bundle_add(b, json_incref(p), "Provenance",
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
        json_decref(b);
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, true, qrc, "the node could not run the query");
        goto out;
    }
    char why[160];
    snprintf(why, sizeof why, "%zu of %zu matching records served", allowed, q.c.n);
    if (q.c.n > 0 && allowed == 0) {
        json_decref(b);
        a.status = 403;
        mc__gate_refuse_access(node, res, &s, &a, true, MC_ERR_FORBIDDEN, "no grant of the patient covers these records for the signer");
        goto out;
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
        a.reason = why;
    }
    mc_hash txid;
    int rc = mc__gate_log_access(node, &s, &a, &txid);
    if (rc) {
        json_decref(b);
        mc__gate_refuse_unlogged(node, res, &s, &a, true, rc);
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    mc__fhir_reply_set(res, 200, b);
out:
    free(q.c.ids);
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
        if (mc__records_view_parse_patient(&patient, pa)) {
            mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "search needs patient=<patient key> (or Patient/<key>)");
            return;
        }
        fhir_search(node, type, &patient, false, req, res);
        return;
    }
    if (fp.parts == 3) {
        mc_pubkey patient;
        if (type != MC_FHIR_PATIENT || strcmp(fp.op, "$everything") || mc__records_view_parse_patient(&patient, fp.id)) {
            mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "only Patient/<patient key>/$everything is supported");
            return;
        }
        fhir_search(node, 0, &patient, true, req, res);
        return;
    }
    fhir_read(node, &fp, req, res);
}


/* --- GET /fhir/metadata --- */

void mc__api_fhir_metadata(struct mc_node *node, const char *param,
                           const struct mc__api_request *req, struct mc__api_response *res) {
    json_t *resources = json_array();
    for (uint16_t t = 1; t <= MC_FHIR_TYPE_MAX; t++) {
        json_t *inter = t == MC_FHIR_PROVENANCE
                            ? json_pack("[{s:s},{s:s},{s:s}]", "code", "read", "code", "vread", "code", "search-type")
                        : t == MC_FHIR_BINARY
                            ? json_pack("[{s:s},{s:s},{s:s},{s:s}]", "code", "read", "code", "vread", "code",
                                        "search-type", "code", "create")
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
        if (t == MC_FHIR_BINARY)
            json_object_set_new(r, "documentation",
                                json_string("An attachment's raw bytes: create is POST /fhir/Binary?patient=KEY "
                                            "with the bytes and their own Content-Type, streamed and encrypted "
                                            "in chunks; read answers the bytes with that Content-Type; searches "
                                            "list contentType and size. A DocumentReference points at it with "
                                            "content.attachment.url Binary/<id>."));
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
    mc_fhir_instant(t, mc__records_view_block_time_ms(node));
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
    mc__fhir_reply_set(res, cs ? 200 : 503, cs ? cs : mc_fhir_outcome("error", "exception", "out of memory"));
}

