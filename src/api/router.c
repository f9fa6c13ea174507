/* The router of the JSON API: the route table (method, path pattern,
 * handler, body bound), its lookup by method and path, the index at GET /,
 * and the /v1 error answer.
 *
 * Routing happens from the headers alone (routes.h): a request is refused
 * (404, 405 with Allow, 414) before any body is read. Each path has one
 * route; HEAD is accepted wherever GET is. */
#include "api/routes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fhir.h"
#include "api/reply.h"

#define PATH_SEGMENTS_MAX 6

/* --- responses --- */

void mc__api_fail(struct mc__api_response *res, unsigned status, int err, const char *fmt, ...) {
    char detail[512];
    detail[0] = 0;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    json_decref(res->body);
    res->status = status ? status : mc_api_http_status(err);
    res->body = mc_api_json_error(err, detail);
}


/* --- route table --- */

static void h_index(struct mc_node *node, const char *param, const struct mc__api_request *req,
                    struct mc__api_response *res);

#define P "*" /* a path parameter */
#define REST "**" /* the rest of the path (one or more segments) as the parameter */

/* stream is set only on streamed-body routes (the others leave it out) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct route {
    const char *method;
    const char *seg[PATH_SEGMENTS_MAX];
    mc__api_handler handler;
    size_t body_max;
    const char *doc_path;
    const char *doc;
    const struct mc__api_stream *stream;
} routes[] = {
    {"GET", {NULL}, h_index, 0, "/", "this index"},
    {"GET", {"v1", "status"}, mc__api_status, 0, "/v1/status", "node status"},
    {"POST", {"v1", "tx"}, mc__api_submit, MC_HTTP_TX_BODY_MAX, "/v1/tx",
     "submit a transaction: raw bytes (application/octet-stream) or {\"tx\": \"<hex>\"}"},
    {"POST", {"v1", "txs"}, mc__api_submit_batch, MC_HTTP_BODY_MAX, "/v1/txs",
     "submit a batch of transactions (octet-stream: u32 count, u32-length-prefixed txs)"},
    {"GET", {"v1", "tx", P}, mc__api_tx, 0, "/v1/tx/{id}", "transaction and its status"},
    {"GET", {"v1", "block", P}, mc__api_block, 0, "/v1/block/{height|latest|hash}",
     "block header, transaction ids and certificates"},
    {"GET", {"v1", "blocks"}, mc__api_blocks, 0, "/v1/blocks?from=H&limit=N",
     "block summaries (newest first without from)"},
    {"GET", {"v1", "proof", P}, mc__api_proof, 0, "/v1/proof/{id}?height=H",
     "RFC 6962 inclusion proof of a transaction against a header"},
    {"GET", {"v1", "consistency"}, mc__api_consistency, 0, "/v1/consistency?first=H1&second=H2",
     "RFC 6962 consistency proof between two headers' logs"},
    {"GET", {"v1", "state"}, mc__api_state, 0, "/v1/state?key=HEX",
     "a state row or its absence, proven against the latest header and its certificate"},
    {"GET", {"v1", "state", "valsets"}, mc__api_state_valsets, 0, "/v1/state/valsets",
     "each change of validators with the proof a light client follows it by"},
    {"GET", {"v1", "state", P}, mc__api_state, 0, "/v1/state/{key hex}",
     "the same for a key of at most 64 bytes"},
    {"GET", {"v1", "state", "account", P}, mc__api_state_account, 0, "/v1/state/account/{key}",
     "a member's or patient's account row (status, role), proven"},
    {"GET", {"v1", "state", "patient", P}, mc__api_state_patient, 0, "/v1/state/patient/{key}",
     "a patient's account, grants and research consents, each row proven"},
    {"GET", {"v1", "account", P}, mc__api_account, 0, "/v1/account/{key}", "account by public key"},
    {"GET", {"v1", "account", P, "qr.svg"}, mc__api_account_qr, 0, "/v1/account/{key}/qr.svg",
     "an account's code to scan (medchain:account:KEY)"},
    {"GET", {"v1", "orgs"}, mc__api_orgs, 0, "/v1/orgs", "organisations"},
    {"GET", {"v1", "access"}, mc__api_access_log, 0, "/v1/access?kind=K&patient=&member=&org=&from=&to=&limit=&before=",
     "the access log for auditors, filtered and paged (signed)"},
    {"POST", {"v1", "invitations"}, mc__api_invite_create, 1024, "/v1/invitations",
     "a clinician invites a patient (signed): a one-time code"},
    {"GET", {"v1", "invitations"}, mc__api_invite_list, 0, "/v1/invitations", "the signer's invitations (signed)"},
    {"GET", {"v1", "invitations", P}, mc__api_invite_show, 0, "/v1/invitations/{code}", "who invites"},
    {"GET", {"v1", "invitations", P, "qr.svg"}, mc__api_invite_qr, 0, "/v1/invitations/{code}/qr.svg?origin=URL",
     "the invitation's link as a QR code"},
    {"POST", {"v1", "invitations", P, "accept"}, mc__api_invite_accept, 1024, "/v1/invitations/{code}/accept",
     "the patient accepts with her key and consent signature"},
    {"PUT", {"v1", "mrn", P}, mc__api_mrn_put, 1024, "/v1/mrn/{mrn}",
     "file the organisation's record number of a patient (signed: clinician or admin; node-local)"},
    {"GET", {"v1", "mrn", P}, mc__api_mrn_get, 0, "/v1/mrn/{mrn}",
     "the patient of the signer's organisation with this record number (signed: member)"},
    {"GET", {"v1", "mrn"}, mc__api_mrn_of, 0, "/v1/mrn?patient=KEY",
     "the patient's record number in the signer's organisation (signed: member)"},
    {"GET", {"v1", "product", P}, mc__api_supply_product, 0, "/v1/product/{gtin}",
     "a GTIN's product master data (name, strength, form, pack size)"},
    {"GET", {"v1", "directory"}, mc__api_directory, 0, "/v1/directory?q=TEXT&org=ID&role=R",
     "active members by name (never patients)"},
    {"GET", {"v1", "org", P}, mc__api_org, 0, "/v1/org/{id}", "organisation by id"},
    {"GET", {"v1", "validators"}, mc__api_validators, 0, "/v1/validators", "validator set (?height=H)"},
    {"GET", {"v1", "gov", "proposals"}, mc__api_gov_proposals, 0, "/v1/gov/proposals", "governance proposals"},
    {"GET", {"v1", "gov", "proposals", P}, mc__api_gov_proposal, 0, "/v1/gov/proposals/{id}", "a proposal and its votes"},
    {"GET", {"v1", "evidence"}, mc__api_evidence, 0, "/v1/evidence", "equivocations recorded on the ledger"},
    {"GET", {"metrics"}, mc__api_metrics, 0, "/metrics", "Prometheus metrics"},
    {"GET", {"v1", "verify"}, mc__api_chain_verify, 0, "/v1/verify",
     "full-chain verification of this node's files (medchain verify), at most every 30 s"},
    /* Records (docs/RECORDS.md); private routes need RFC 9421 signatures. */
    {"GET", {"v1", "records"}, mc__api_records_list, 0, "/v1/records?patient=KEY",
     "the patient's records with sealed batch keys (signed: patient or auditor)"},
    {"GET", {"v1", "records", P, "sealed"}, mc__api_records_sealed, 0, "/v1/records/{id}/sealed?version=N",
     "a record version's ciphertext and its key sealed to the signer, to decrypt client-side (signed; logged)"},
    {"GET", {"v1", "breakglass"}, mc__api_records_break_glass, 0, "/v1/breakglass",
     "break-glass accesses to review (signed: auditor)"},
    {"GET", {".well-known", "smart-configuration"}, mc__api_smart_configuration, 0,
     "/.well-known/smart-configuration", "SMART Backend Services discovery"},
    {"GET", {"fhir", ".well-known", "smart-configuration"}, mc__api_smart_configuration, 0,
     "/fhir/.well-known/smart-configuration", "SMART discovery under the FHIR base"},
    {"POST", {"auth", "token"}, mc__api_smart_token, MC_SMART_FORM_MAX, "/auth/token",
     "SMART token endpoint: client_credentials with a private_key_jwt assertion"},
    {"GET", {"fhir", "$export"}, mc__api_bulk_export, 0, "/fhir/$export", "Bulk Data export, system level"},
    {"GET", {"fhir", "Patient", "$export"}, mc__api_bulk_export_patient, 0, "/fhir/Patient/$export",
     "Bulk Data export, Patient level"},
    {"GET", {"fhir", "Group", P, "$export"}, mc__api_bulk_export_group, 0, "/fhir/Group/granted/$export",
     "Bulk Data export of the patients who granted the token's owner"},
    {"GET", {"fhir", "$export-status", P}, mc__api_bulk_status, 0, "/fhir/$export-status/{job}",
     "a Bulk Data export's status and manifest"},
    {"DELETE", {"fhir", "$export-status", P}, mc__api_bulk_cancel, 0, "/fhir/$export-status/{job}",
     "cancel a Bulk Data export (its files are deleted)"},
    {"GET", {"fhir", "$export-file", P}, mc__api_bulk_file, 0, "/fhir/$export-file/{job}-{Type}.ndjson",
     "a Bulk Data export's NDJSON output"},
    {"GET", {"fhir", "metadata"}, mc__api_fhir_metadata, 0, "/fhir/metadata",
     "FHIR R4 CapabilityStatement"},
    {"POST", {"fhir"}, mc__api_fhir_root, MC_HTTP_BODY_MAX, "/fhir",
     "FHIR transaction Bundle: every entry becomes a record, atomically (signed)"},
    {"POST", {"fhir", "Binary"}, NULL, MC_ATTACHMENT_MAX, "/fhir/Binary?patient=KEY",
     "an attachment (PDF, image: its raw bytes with their Content-Type), streamed, encrypted in chunks (signed)",
     &mc__api_fhir_binary_upload},
    /* FHIR Subscriptions (routes_fhir_subscription.c), before the generic
     * FHIR routes */
    {"POST", {"fhir", "Subscription"}, mc__api_subscription_create, MC_SUB_BODY_MAX, "/fhir/Subscription",
     "subscribe to record and consent events, rest-hook, id-only or empty (signed)"},
    {"GET", {"fhir", "Subscription"}, mc__api_subscription_search, 0, "/fhir/Subscription",
     "the signer's subscriptions (signed)"},
    {"GET", {"fhir", "Subscription", P}, mc__api_subscription_read, 0, "/fhir/Subscription/{id}",
     "one subscription with its status (signed: its owner)"},
    {"DELETE", {"fhir", "Subscription", P}, mc__api_subscription_delete, 0, "/fhir/Subscription/{id}",
     "remove a subscription (signed: its owner)"},
    {"GET", {"fhir", "Subscription", P, "$status"}, mc__api_subscription_status, 0,
     "/fhir/Subscription/{id}/$status", "the subscription's status, events delivered and last error (signed)"},
    {"GET", {"fhir", REST}, mc__api_fhir_get, 0, "/fhir/{type}[/{id}[/_history/{vid}]]",
     "FHIR read, vread, search (signed)"},
    {"POST", {"fhir", REST}, mc__api_fhir_post, MC_FHIR_RESOURCE_MAX, "/fhir/{type}",
     "FHIR create (signed)"},
    {"PUT", {"fhir", REST}, mc__api_fhir_put, MC_FHIR_RESOURCE_MAX, "/fhir/{type}/{id}",
     "FHIR update: a new version of the record (signed)"},
    {"GET", {"01", P}, mc__api_supply_resolve, 0, "/01/{gtin}/10/{lot}/21/{serial}?17=YYMMDD",
     "GS1 Digital Link: public verification of a medicine pack (JSON, or HTML for Accept: text/html)"},
    {"GET", {"v1", "supply", "alerts"}, mc__api_supply_alerts, 0, "/v1/supply/alerts?org=ID",
     "clone and counterfeit alerts concerning an organisation (all for a regulator)"},
    {"POST", {"v1", "vrs"}, mc__api_supply_vrs, MC_HTTP_VRS_BODY_MAX, "/v1/vrs",
     "GS1 Lightweight Messaging verification request of an enrolled trading partner (signed)"},
    /* Research consent and trials (docs/RESEARCH.md). */
    {"GET", {"v1", "research", "study", P}, mc__api_research_study, 0, "/v1/research/study/{id}",
     "a registered study (ResearchStudy), its outcomes, phase and dataset query log"},
    {"GET", {"v1", "research", "dataset", P}, mc__api_research_dataset, 0, "/v1/research/dataset/{id}",
     "de-identified dataset of consenting patients (signed: a researcher of the study)"},
    {"GET", {"v1", "research", "consents"}, mc__api_research_consents, 0, "/v1/research/consents?patient=KEY",
     "a patient's research consent history as FHIR Consent (signed: patient or auditor)"},
    {"GET", {"v1", "research", "verify", P}, mc__api_research_verify, 0, "/v1/research/verify/{id}",
     "trial verification: outcome switching, dataset changes, enrolment without consent"},
};

#pragma GCC diagnostic pop

#define ROUTE_COUNT (sizeof routes / sizeof routes[0])

static void h_index(struct mc_node *node, const char *param, const struct mc__api_request *req,
                    struct mc__api_response *res) {
    json_t *list = json_array();
    for (size_t i = 0; list && i < ROUTE_COUNT; i++) {
        json_t *item = json_pack("{s:s, s:s, s:s}", "method", routes[i].method, "path",
                                 routes[i].doc_path, "description", routes[i].doc);
        if (json_array_append_new(list, item)) {
            json_decref(list);
            list = NULL;
        }
    }
    mc__reply_ok(res, 200, json_pack("{s:s, s:s, s:o}", "service", "medchain", "api", "v1", "routes", list));
}

static size_t seg_count(const struct route *r) {
    size_t n = 0;
    while (n < PATH_SEGMENTS_MAX && r->seg[n]) n++;
    return n;
}

int mc__api_lookup(struct mc__api_match *m, struct mc__api_response *res, const char *method,
                   const char *path) {
    memset(m, 0, sizeof *m);
    if (!path || path[0] != '/') {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "the path must begin with '/'");
        return MC_ERR_NOT_FOUND;
    }
    size_t path_len = strnlen(path, MC_API_PATH_MAX + 1);
    if (path_len > MC_API_PATH_MAX) {
        mc__api_fail(res, 414, MC_ERR_TOO_LARGE, "the path exceeds %d characters",
                     MC_API_PATH_MAX);
        return MC_ERR_TOO_LARGE;
    }
    /* A GS1 Digital Link (/01/{gtin}/...) has more segments than any
     * route; its resolver parses the whole path itself. */
    if (strncmp(path, "/01/", 4) == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            res->allow = "GET, HEAD";
            mc__api_fail(res, 405, MC_ERR_INVALID, "method %.16s is not allowed here; use GET",
                         method);
            return MC_ERR_INVALID;
        }
        m->handler = mc__api_supply_resolve;
        return 0;
    }
    /* Split into segments; one trailing '/' is tolerated. */
    const char *seg[PATH_SEGMENTS_MAX];
    size_t seg_len[PATH_SEGMENTS_MAX];
    size_t n = 0;
    const char *p = path + 1;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || n == PATH_SEGMENTS_MAX) goto not_found;
        if (len > MC_API_SEGMENT_MAX) {
            mc__api_fail(res, 414, MC_ERR_TOO_LARGE, "a path segment exceeds %d characters",
                         MC_API_SEGMENT_MAX);
            return MC_ERR_TOO_LARGE;
        }
        seg[n] = p;
        seg_len[n] = len;
        n++;
        if (!slash) break;
        p = slash + 1;
    }
    const char *allow = NULL;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const struct route *r = &routes[i];
        const char *param = NULL;
        size_t param_len = 0;
        bool match = true;
        size_t rn = seg_count(r);
        bool rest = rn > 0 && strcmp(r->seg[rn - 1], REST) == 0;
        if (rest ? n < rn : rn != n) continue;
        for (size_t k = 0; k < rn && match; k++) {
            if (strcmp(r->seg[k], REST) == 0) {
                param = seg[k];
                param_len = strlen(seg[k]);
                if (param_len > MC_API_SEGMENT_MAX) match = false;
            } else if (strcmp(r->seg[k], P) == 0) {
                param = seg[k];
                param_len = seg_len[k];
            } else {
                match = strlen(r->seg[k]) == seg_len[k] &&
                        memcmp(r->seg[k], seg[k], seg_len[k]) == 0;
            }
        }
        if (!match) continue;
        bool is_get = strcmp(r->method, "GET") == 0;
        if (strcmp(method, r->method) != 0 && !(is_get && strcmp(method, "HEAD") == 0)) {
            /* Each path has one route, so its method is the Allow value. */
            allow = is_get ? "GET, HEAD" : r->method;
            continue;
        }
        m->handler = r->handler;
        m->stream = r->stream;
        m->body_max = r->body_max;
        if (param) {
            memcpy(m->param, param, param_len);
            m->param[param_len] = 0;
        }
        return 0;
    }
    if (allow) {
        res->allow = allow;
        mc__api_fail(res, 405, MC_ERR_INVALID, "method %.16s is not allowed here; use %s", method,
                     allow);
        return MC_ERR_INVALID;
    }
not_found:
    mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "no route for this path; GET / lists the routes");
    return MC_ERR_NOT_FOUND;
}

