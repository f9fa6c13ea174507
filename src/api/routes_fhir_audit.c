/* FHIR audit views: AuditEvent (the on-chain access log, IHE BALP shaped)
 * and Consent (the patient's grants) searches, signed like every private
 * read, the read itself logged. */
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
#include "chain/store.h"
#include "chain/tx.h"
#include "node/balp.h"
#include "node/vault.h"

/* --- AuditEvent and Consent --- */

/* The patient's Patient record id, remembered for the patients seen last
 * (an auditor's log names many patients, each many times). */
struct patient_ids {
    size_t n, next;
    struct {
        mc_pubkey key;
        char id[MC_RECORD_ID_MAX + 1];
    } slot[16];
};

static const char *patient_id(struct patient_ids *c, struct mc_state *st, const mc_pubkey *key) {
    for (size_t i = 0; i < c->n; i++)
        if (memcmp(c->slot[i].key.b, key->b, 32) == 0) return c->slot[i].id;
    size_t k = c->n < 16 ? c->n++ : (c->next++ % 16);
    c->slot[k].key = *key;
    if (!mc__records_view_patient_record(st, key, c->slot[k].id)) c->slot[k].id[0] = 0;
    return c->slot[k].id;
}

struct q_audit {
    const mc_pubkey *patient; /* NULL: all (auditors) */
    const mc_pubkey *requester;
    bool has_agent;
    mc_pubkey agent;
    uint64_t from_ms, to_ms;
    struct mc_access_decision view;
    json_t *bundle;
    const char *base;
    struct mc_state *st;
    struct mc_store *store;
    struct patient_ids ids;
    int rc;
};

/* Adds a generated resource (NULL: skipped) whose id is a transaction id. */
static void add_entry(json_t *bundle, const char *base, json_t *resource, const char *type,
                      const mc_hash *id) {
    if (!resource) return;
    char hx[65];
    mc_hex_encode(hx, id->b, 32);
    mc__fhir_reply_bundle_add(bundle, resource, base, type, hx, "match");
}


/* The entry as a BALP AuditEvent (node/balp.h), with its request's method,
 * address and target and its recording node read from the transaction
 * (when its bytes were pruned, without them). */
static json_t *audit_event(struct mc_store *store, const struct mc_access_entry *e, const char *patient_record) {
    struct mc_balp_access *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    uint64_t h, li;
    uint32_t idx;
    struct mc_buf raw;
    mc_buf_init(&raw, MC_TX_MAX);
    struct mc_tx tx;
    if (mc_store_find_tx(store, &e->tx_id, &h, &idx, &li) == 0 &&
        mc_store_get_tx(store, h, idx, &raw, NULL, NULL) == 0 && mc_tx_decode(&tx, raw.data, raw.len) == 0 &&
        mc_balp_from_tx(a, &tx, &e->tx_id, e->height, e->time_ms) == 0) {
        a->e = *e; /* the row as the state keeps it */
    } else {
        memset(a, 0, sizeof *a);
        a->e = *e;
    }
    mc_buf_deinit(&raw);
    json_t *ev = mc_balp_audit_event(a, patient_record);
    free(a);
    return ev;
}

static int audit_row(void *ctx, const struct mc_access_entry *e) {
    struct q_audit *q = ctx;
    if (q->has_agent && memcmp(e->requester.b, q->agent.b, 32)) return 0;
    if (q->from_ms && e->time_ms < q->from_ms) return 0;
    if (q->to_ms && e->time_ms >= q->to_ms) return 0;
    if (json_array_size(json_object_get(q->bundle, "entry")) >= 5000) return 1;
    add_entry(q->bundle, q->base, audit_event(q->store, e, patient_id(&q->ids, q->st, &e->patient)),
              "AuditEvent", &e->tx_id);
    return 0;
}

static int q_audit(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_audit *q = ctx;
    struct mc_state *st = mc_app_state(app);
    q->st = st;
    q->store = store;
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

static json_t *consent(const mc_pubkey *patient, const struct mc_grant *g, uint64_t now_ms,
                       const char *patient_record) {
    char id[65], who[80];
    mc_hex_encode(id, g->id.b, 32);
    if (g->kind == MC_GRANTEE_MEMBER) {
        char m[65];
        mc_hex_encode(m, g->member.b, 32);
        snprintf(who, sizeof who, "%s", m);
    } else {
        snprintf(who, sizeof who, "%u", g->org);
    }
    bool active = !g->revoked_height && !(g->expiry_ms && g->expiry_ms <= now_ms);
    json_t *c = json_pack(
        "{s:s, s:s, s:s, s:{s:s}, s:[{s:[{s:s, s:s}]}], s:o, s:{s:s, s:{s:{s:{s:s, s:s}}}}}",
        "resourceType", "Consent", "id", id, "status", active ? "active" : "inactive",
        "scope", "text", "patient-privacy", "category", "coding", "system", "http://loinc.org",
        "code", "59284-0", "patient", mc__records_view_patient_reference(patient, patient_record),
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
    const char *base;
    uint64_t now_ms;
    char patient_record[MC_RECORD_ID_MAX + 1];
};

static int consent_row(void *ctx, const mc_pubkey *patient, const struct mc_grant *g) {
    struct q_consent *q = ctx;
    add_entry(q->bundle, q->base, consent(patient, g, q->now_ms, q->patient_record), "Consent", &g->id);
    return 0;
}

static int q_consent(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_consent *q = ctx;
    mc_records_decide_patient_view(mc_app_state(app), q->requester, q->patient, &q->view);
    if (!mc__records_view_patient_record(mc_app_state(app), q->patient, q->patient_record))
        q->patient_record[0] = 0;
    if (q->view.allowed && mc_records_scan_grants(mc_app_state(app), q->patient, consent_row, q))
        q->view.allowed = false;
    return 0;
}

void mc__api_fhir_audit_view(struct mc_node *node, bool audit, const struct mc__api_request *req,
                                  struct mc__api_response *res) {
    static const char *const audit_params[] = {"patient", "agent", "date", "_format", NULL};
    static const char *const consent_params[] = {"patient", "_format", NULL};
    char bad[200];
    if (mc__fhir_search_check_names(req, audit ? audit_params : consent_params, bad, sizeof bad)) {
        mc__fhir_reply_fail(res, 400, MC_ERR_INVALID, "%s", bad);
        return;
    }
    mc_pubkey patient;
    const char *pa = req->arg ? req->arg(req->arg_ctx, "patient") : NULL;
    bool has_patient = pa != NULL, nobody = false;
    char applied[600] = "";
    if (has_patient) {
        bool found;
        int prc = mc__records_view_resolve_patient(node, pa, &patient, &found);
        if (prc == MC_ERR_MALFORMED) {
            mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED,
                                "patient must be Patient/<id>, <id> or the patient's account key (hex)");
            return;
        }
        if (prc) {
            mc__fhir_reply_fail(res, mc__reply_query_status(prc), prc, "the node could not run the query");
            return;
        }
        /* a reference to no patient matches nothing */
        nobody = !found;
        if (!mc__fhir_query_add(applied, sizeof applied, "patient", pa)) applied[0] = 0;
    }
    if (!audit && !has_patient) {
        mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "Consent search needs patient=");
        return;
    }
    struct q_audit qa = {.patient = has_patient ? &patient : NULL};
    if (audit) {
        const char *ag = req->arg ? req->arg(req->arg_ctx, "agent") : NULL;
        const char *ak = ag && strncmp(ag, "urn:medchain:account|", 21) == 0 ? ag + 21 : ag;
        if (ag && mc_api_parse_pubkey(&qa.agent, ak)) {
            mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "agent must be an account key (hex)");
            return;
        }
        qa.has_agent = ag != NULL;
        if (ag && !mc__fhir_query_add(applied, sizeof applied, "agent", ag)) applied[0] = 0;
        const char *date = req->arg ? req->arg(req->arg_ctx, "date") : NULL;
        if (date) {
            uint64_t ms;
            bool ge = strncmp(date, "ge", 2) == 0, lt = strncmp(date, "lt", 2) == 0;
            if (mc_fhir_parse_date(&ms, date + ((ge || lt) ? 2 : 0))) {
                mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "date must be [ge|lt]YYYY[-MM[-DD]]");
                return;
            }
            if (!mc__fhir_query_add(applied, sizeof applied, "date", date)) applied[0] = 0;
            if (lt) qa.to_ms = ms;
            else if (ge) qa.from_ms = ms;
            else qa.from_ms = ms, qa.to_ms = ms + 86400000ULL;
        }
    }
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__gate_access a = {.patient = has_patient && !nobody ? &patient : NULL, .action = MC_ACTION_AUDIT,
                           .purpose = MC_PURPOSE_HOPERAT, .outcome = MC_OUTCOME_SECURITY};
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, true, s.rc, s.why);
        mc__gate_release(&s);
        return;
    }
    json_t *b = mc__fhir_reply_bundle("searchset");
    char base[300];
    mc__fhir_reply_base(req, base, sizeof base);
    mc__fhir_reply_bundle_link(b, "self", base, audit ? "AuditEvent" : "Consent", applied);
    struct mc_access_decision view = {.allowed = true, .purpose = MC_PURPOSE_HOPERAT};
    int qrc = 0;
    if (nobody) {
        /* nothing to decide: no patient, no entries */
    } else if (audit) {
        qa.requester = &s.v.key;
        qa.bundle = b;
        qa.base = base;
        qrc = mc_node_query(node, q_audit, &qa);
        view = qa.view;
    } else {
        struct q_consent qc = {.patient = &patient, .requester = &s.v.key, .bundle = b, .base = base,
                               .now_ms = mc__records_view_block_time_ms(node)};
        qrc = mc_node_query(node, q_consent, &qc);
        view = qc.view;
    }
    a.outcome = MC_OUTCOME_REFUSED;
    if (qrc) {
        json_decref(b);
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, true, qrc, "the node could not run the query");
        mc__gate_release(&s);
        return;
    }
    if (!view.allowed) {
        json_decref(b);
        a.status = (uint16_t)view.status;
        mc__gate_refuse_access(node, res, &s, &a, true, MC_ERR_FORBIDDEN, view.reason);
        mc__gate_release(&s);
        return;
    }
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.purpose = view.purpose;
    a.reason = nobody ? "no such patient" : audit ? "access log read" : "grants read";
    mc_hash txid;
    int lrc = mc__gate_log_access(node, &s, &a, &txid);
    if (lrc) {
        json_decref(b);
        mc__gate_refuse_unlogged(node, res, &s, &a, true, lrc);
    } else {
        mc_hex_encode(res->access_tx, txid.b, 32);
        mc__fhir_reply_set(res, 200, b);
    }
    mc__gate_release(&s);
}

