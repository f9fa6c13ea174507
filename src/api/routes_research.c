/* Research API: studies (ResearchStudy view), de-identified dataset queries,
 * research consents (FHIR Consent, scope research) and trial verification.
 *
 *   GET /v1/research/study/{id}      public: the study, its outcomes, phase
 *                                    and the log of dataset queries (hashes)
 *   GET /v1/research/dataset/{id}    signed (RFC 9421) by a researcher of the
 *                                    study: the de-identified dataset
 *   GET /v1/research/consents?patient=KEY  signed: patient or auditor; the
 *                                    full consent history as FHIR Consent
 *   GET /v1/research/verify/{id}     public: the trial verification report
 *
 * Dataset queries follow the records API's rules: private data only over
 * TLS or loopback; the signature is verified and its (key, nonce) checked
 * against a replay cache; the policy is judged at the committed height;
 * every query, served or refused, becomes a node-signed research_query
 * transaction carrying the researcher's signature base and signature (and,
 * when served, the SHA-256 of the exact dataset), and a dataset is
 * returned only once that entry was admitted ("no log, no data").
 *
 * The dataset holds, for each patient whose research consent covers the
 * study (app/research.h) at that height, the de-identified rows (api/
 * deid.h) of their records in the study's categories that this node can
 * decrypt (records anchored by this node's organisation or granted to it),
 * under a per-study pseudonym; cells of fewer than k patients sharing the
 * quasi-identifiers are suppressed.
 *
 * Handlers never call mc_node_* from inside mc_node_query callbacks. */
#include "api/routes.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/deid.h"
#include "api/fhir.h"
#include "api/gate.h"
#include "api/httpsig.h"
#include "api/reply.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/research.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "blob/blob.h"
#include "crypto/envelope.h"
#include "node/vault.h"


/* --- the study view --- */

static json_t *hash_json(const mc_hash *h) {
    char hx[65];
    mc_hex_encode(hx, h->b, 32);
    return json_string(hx);
}

static json_t *key_json(const mc_pubkey *k) {
    char hx[65];
    mc_hex_encode(hx, k->b, 32);
    return json_string(hx);
}

static json_t *categories_json(uint8_t bits) {
    json_t *a = json_array();
    for (int i = 0; i < 8; i++)
        if (bits & (1u << i)) json_array_append_new(a, json_string(mc_category_name((uint8_t)(1u << i))));
    return a;
}

static int query_json(void *ctx, const struct mc_research_query *q) {
    json_t *list = ctx;
    if (json_array_size(list) >= 1000) return 1;
    char t[32];
    mc_fhir_instant(t, q->time_ms);
    json_array_append_new(list, json_pack("{s:o, s:I, s:s, s:o, s:i, s:i, s:s, s:o, s:I, s:I, s:I}",
                                          "tx", hash_json(&q->tx_id), "height", (json_int_t)q->height,
                                          "recorded", t, "requester", key_json(&q->requester),
                                          "outcome", q->outcome, "status", q->status, "reason", q->reason,
                                          "dataset_sha256", hash_json(&q->dataset),
                                          "patients", (json_int_t)q->patients, "records", (json_int_t)q->records,
                                          "as_of_height", (json_int_t)q->as_of_height));
    return 0;
}

static json_t *study_json(const struct mc_study *s) {
    json_t *primary = json_array(), *secondary = json_array(), *researchers = json_array();
    for (uint16_t i = 0; i < s->outcome_count; i++) {
        json_t *o = json_pack("{s:s, s:I}", "outcome", s->outcomes[i].text, "amendment",
                              (json_int_t)s->outcomes[i].amendment);
        json_array_append_new(s->outcomes[i].kind == MC_OUTCOME_PRIMARY ? primary : secondary, o);
    }
    for (uint8_t i = 0; i < s->researcher_count; i++) json_array_append_new(researchers, key_json(&s->researchers[i]));
    static const char *const fhir_status[] = {"", "active", "closed-to-accrual", "closed-to-accrual", "completed"};
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:{s:s}, s:s, s:s, s:o, s:s, s:o, s:i, s:I, s:o, s:o, s:o,"
        " s:I, s:I, s:I}",
        "resourceType", "ResearchStudy", "id", s->id, "title", s->title,
        "status", fhir_status[s->phase <= MC_STUDY_REPORTED ? s->phase : 0],
        "identifier", "system", "urn:medchain:registry", "value", s->registry_id,
        "sponsor", "display", s->sponsor, "phase", mc_study_phase_name(s->phase), "purpose", s->purpose,
        "categories", categories_json(s->categories), "sponsor_name", s->sponsor,
        "protocol_sha256", hash_json(&s->protocol), "k", s->k, "org", (json_int_t)s->org,
        "registrant", key_json(&s->registrant), "primary_outcomes", primary, "secondary_outcomes", secondary,
        "height", (json_int_t)s->height, "amendments", (json_int_t)s->amendments,
        "enrolled", (json_int_t)s->enrolled);
    if (o) json_object_set_new(o, "researchers", researchers);
    else json_decref(researchers);
    if (o && s->phase >= MC_STUDY_LOCKED) {
        json_object_set_new(o, "locked_dataset_sha256", hash_json(&s->locked));
        json_object_set_new(o, "locked_height", json_integer((json_int_t)s->locked_height));
    }
    return o;
}

struct q_study {
    const char *id;
    struct mc_study *s;
    json_t *queries;
    int rc;
};

static int q_study(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_study *q = ctx;
    q->rc = mc_research_get_study(mc_app_state(app), q->id, q->s);
    if (!q->rc && q->queries) q->rc = mc_research_scan_queries(mc_app_state(app), q->id, query_json, q->queries);
    return 0;
}

void mc__api_research_study(struct mc_node *node, const char *param, const struct mc__api_request *req,
                            struct mc__api_response *res) {
    struct q_study q = {.id = param, .s = malloc(sizeof(struct mc_study)), .queries = json_array()};
    if (!q.s || !q.queries) {
        free(q.s);
        json_decref(q.queries);
        mc__api_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        return;
    }
    int qrc = mc_node_query(node, q_study, &q);
    if (qrc && !q.rc) q.rc = qrc;
    if (q.rc) {
        json_decref(q.queries);
        mc__api_fail(res, 0, q.rc, "%s", mc_err_detail());
    } else {
        json_t *o = study_json(q.s);
        if (o) json_object_set_new(o, "queries", q.queries);
        else json_decref(q.queries);
        json_decref(res->body);
        res->status = o ? 200 : 500;
        res->body = o ? o : mc_api_json_error(MC_ERR_NOMEM, "out of memory");
    }
    free(q.s);
}

/* --- trial verification --- */

static const char *finding_name(uint8_t kind) {
    switch (kind) {
    case MC_FINDING_UNREGISTERED_OUTCOME: return "unregistered_outcome";
    case MC_FINDING_UNREPORTED_OUTCOME: return "unreported_outcome";
    case MC_FINDING_RECLASSIFIED_OUTCOME: return "reclassified_outcome";
    case MC_FINDING_RESULTS_HASH_MISMATCH: return "results_dataset_mismatch";
    case MC_FINDING_ENROLLED_WITHOUT_CONSENT: return "enrolled_without_consent";
    default: return "unknown";
    }
}

struct q_verify {
    const char *id;
    struct mc_trial_report *r;
    int rc;
};

static int q_verify(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_verify *q = ctx;
    q->rc = mc_trial_verify(mc_app_state(app), q->id, q->r);
    return 0;
}

void mc__api_research_verify(struct mc_node *node, const char *param, const struct mc__api_request *req,
                             struct mc__api_response *res) {
    struct q_verify q = {.id = param, .r = malloc(sizeof(struct mc_trial_report))};
    if (!q.r) {
        mc__api_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        return;
    }
    int qrc = mc_node_query(node, q_verify, &q);
    if (qrc && !q.rc) q.rc = qrc;
    if (q.rc) {
        mc__api_fail(res, 0, q.rc, "%s", mc_err_detail());
        free(q.r);
        return;
    }
    json_t *findings = json_array();
    for (size_t i = 0; i < q.r->count; i++) {
        const struct mc_trial_finding *f = &q.r->findings[i];
        json_t *o = json_pack("{s:s, s:s}", "kind", finding_name(f->kind), "detail", f->text);
        if (o && f->kind == MC_FINDING_ENROLLED_WITHOUT_CONSENT) json_object_set_new(o, "patient", key_json(&f->patient));
        json_array_append_new(findings, o);
    }
    bool clean = q.r->count == 0;
    const char *verdict = !clean ? "issues found"
                          : q.r->results_posted ? "clean: results match the registered outcomes and the locked dataset; every subject consented"
                                                : "clean so far: every subject consented; no results posted yet";
    json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:I, s:I, s:b, s:b, s:b, s:o}", "study", param, "phase",
                          mc_study_phase_name(q.r->phase), "clean", clean, "verdict", verdict, "enrolled",
                          (json_int_t)q.r->enrolled, "amendments", (json_int_t)q.r->amendments, "locked",
                          q.r->locked, "results_posted", q.r->results_posted, "truncated", q.r->truncated,
                          "findings", findings);
    if (o && q.r->locked) json_object_set_new(o, "locked_dataset_sha256", hash_json(&q.r->locked_hash));
    if (o && q.r->results_posted) json_object_set_new(o, "results_dataset_sha256", hash_json(&q.r->results_hash));
    json_decref(res->body);
    res->status = o ? 200 : 500;
    res->body = o ? o : mc_api_json_error(MC_ERR_NOMEM, "out of memory");
    free(q.r);
}

/* --- research consents as FHIR Consent --- */

struct q_consents {
    const mc_pubkey *patient, *requester;
    struct mc_access_decision view;
    uint64_t now_ms;
    struct mc_state *st;
    json_t *bundle;
    int rc;
};

static int consent_row(void *ctx, const struct mc_consent_version *c) {
    struct q_consents *q = ctx;
    json_t *entries = json_object_get(q->bundle, "entry");
    if (json_array_size(entries) >= 5000) return 1;
    struct mc_consent_version head;
    bool latest = mc_research_get_consent(q->st, q->patient, c->scope, c->target, &head) == 0 &&
                  head.version == c->version;
    bool active = latest && c->action == MC_CONSENT_PERMIT && (c->expiry_ms == 0 || c->expiry_ms > q->now_ms);
    char id[65], pat[80], t[32];
    mc_hex_encode(id, c->tx_id.b, 32);
    char hx[65];
    mc_hex_encode(hx, q->patient->b, 32);
    snprintf(pat, sizeof pat, "Patient/%s", hx);
    mc_fhir_instant(t, c->time_ms);
    json_t *provision = json_pack("{s:s, s:[{s:s, s:s}]}", "type", c->action == MC_CONSENT_PERMIT ? "permit" : "deny",
                                  "purpose", "system", "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                  "code", "HRESCH");
    if (provision && c->expiry_ms) {
        char e[32];
        mc_fhir_instant(e, c->expiry_ms);
        json_object_set_new(provision, "period", json_pack("{s:s}", "end", e));
    }
    if (provision && c->categories) json_object_set_new(provision, "class", categories_json(c->categories));
    json_t *res = json_pack(
        "{s:s, s:s, s:s, s:{s:[{s:s, s:s}]}, s:[{s:[{s:s, s:s}]}], s:{s:s}, s:s, s:o,"
        " s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:I}]}",
        "resourceType", "Consent", "id", id, "status", active ? "active" : "inactive",
        "scope", "coding", "system", "http://terminology.hl7.org/CodeSystem/consentscope", "code", "research",
        "category", "coding", "system", "http://loinc.org", "code", "57016-8",
        "patient", "reference", pat, "dateTime", t, "provision", provision,
        "extension", "url", "urn:medchain:research-scope", "valueCode", mc_consent_scope_name(c->scope),
        "url", "urn:medchain:research-target", "valueString", c->target,
        "url", "urn:medchain:consent-version", "valueUnsignedInt", (json_int_t)c->version);
    if (res) {
        char url[120];
        snprintf(url, sizeof url, "Consent/%s", id);
        json_array_append_new(entries, json_pack("{s:s, s:o}", "fullUrl", url, "resource", res));
    }
    return 0;
}

static int q_consents(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_consents *q = ctx;
    q->st = mc_app_state(app);
    mc_records_decide_patient_view(q->st, q->requester, q->patient, &q->view);
    struct mc_header h;
    if (mc_store_get_header(store, mc_app_height(app), &h, NULL) == 0) q->now_ms = h.time_ms;
    if (q->view.allowed) q->rc = mc_research_scan_consents(q->st, q->patient, consent_row, q);
    return 0;
}

void mc__api_research_consents(struct mc_node *node, const char *param, const struct mc__api_request *req,
                               struct mc__api_response *res) {
    struct mc__gate s;
    mc__gate_check(&s, node, req, NULL, 0);
    mc_pubkey patient;
    const char *p = req->arg ? req->arg(req->arg_ctx, "patient") : NULL;
    bool have_patient = p && mc_api_parse_pubkey(&patient, p) == 0;
    /* a patient's consents are health data about her: reads are logged */
    struct mc__gate_access a = {.patient = have_patient ? &patient : NULL, .action = MC_ACTION_SEARCH,
                                .purpose = MC_PURPOSE_HRESCH, .outcome = MC_OUTCOME_REFUSED};
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, false, s.rc, s.why);
        mc__gate_release(&s);
        return;
    }
    if (!have_patient) {
        a.status = 400;
        mc__gate_refuse_access(node, res, &s, &a, false, MC_ERR_MALFORMED, "patient=KEY (64 hex digits) is required");
        mc__gate_release(&s);
        return;
    }
    struct q_consents q = {.patient = &patient, .requester = &s.v.key,
                           .bundle = json_pack("{s:s, s:s, s:[]}", "resourceType", "Bundle", "type", "searchset", "entry")};
    int qrc = mc_node_query(node, q_consents, &q);
    if (qrc) {
        json_decref(q.bundle);
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, false, qrc, "the node could not run the query");
    } else if (!q.view.allowed) {
        json_decref(q.bundle);
        a.status = (uint16_t)(q.view.status ? q.view.status : 403);
        mc__gate_refuse_access(node, res, &s, &a, false, MC_ERR_FORBIDDEN, q.view.reason);
    } else if (q.rc || !q.bundle) {
        json_decref(q.bundle);
        mc__api_fail(res, 500, q.rc ? q.rc : MC_ERR_NOMEM, "%s", mc_err_detail());
    } else {
        size_t total = json_array_size(json_object_get(q.bundle, "entry"));
        json_object_set_new(q.bundle, "total", json_integer((json_int_t)total));
        char why[80];
        snprintf(why, sizeof why, "research consents read (%zu)", total);
        a.outcome = MC_OUTCOME_SUCCESS;
        a.status = 200;
        a.purpose = q.view.purpose ? q.view.purpose : MC_PURPOSE_HRESCH;
        a.reason = why;
        mc_hash txid;
        int rc = mc__gate_log_access(node, &s, &a, &txid);
        if (rc) {
            json_decref(q.bundle);
            mc__gate_refuse_unlogged(node, res, &s, &a, false, rc);
        } else {
            mc_hex_encode(res->access_tx, txid.b, 32);
            json_decref(res->body);
            res->status = 200;
            res->body = q.bundle;
            res->content_type = "application/fhir+json";
        }
    }
    mc__gate_release(&s);
}

/* --- the dataset --- */

struct rec_key {
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version;
    uint16_t type;
    mc_hash ciphertext;
    bool have_key, via_grant;
    uint8_t sealed[MC_SEALED_KEY_BYTES];
};

struct subject {
    mc_pubkey patient;
    size_t first, count;   /* into the record list */
};

struct q_dataset {
    /* in */
    const char *id;
    const mc_pubkey *requester;
    const mc_pubkey *node_key;
    /* out */
    struct mc_study *s;
    unsigned status;
    int err;
    char why[200];
    uint64_t as_of, now_ms;
    struct subject *subjects;
    size_t nsubjects;
    struct rec_key *recs;
    size_t nrecs;
    bool truncated;
    struct mc_state *st;
};

static int collect_record(void *ctx, const struct mc_record_head *h) {
    struct q_dataset *q = ctx;
    if (h->erased || !(h->category & q->s->categories)) return 0;
    if (q->nrecs == MC_RESEARCH_DATASET_RECORDS_MAX) {
        q->truncated = true;
        return 1;
    }
    struct rec_key *r = &q->recs[q->nrecs];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", h->id);
    r->version = h->versions;
    r->type = h->type;
    struct mc_record_version v;
    if (mc_records_get_version(q->st, h->id, h->versions, &v)) return 0;
    r->ciphertext = v.ciphertext;
    struct mc_record_batch b;
    if (mc_records_get_batch(q->st, &v.batch, &b) == 0 && b.has_keys &&
        memcmp(b.node.b, q->node_key->b, 32) == 0) {
        memcpy(r->sealed, b.sealed_node, sizeof r->sealed);
        r->have_key = true;
    } else if (mc_records_get_grant_key(q->st, h->id, h->versions, q->node_key, r->sealed) == 0) {
        r->have_key = r->via_grant = true;
    }
    q->nrecs++;
    return 0;
}

static int collect_patient(void *ctx, const mc_pubkey *patient) {
    struct q_dataset *q = ctx;
    if (!mc_research_consent_covers(q->st, patient, q->s, q->now_ms, NULL)) return 0;
    if (q->nsubjects == MC_RESEARCH_DATASET_PATIENTS_MAX) {
        q->truncated = true;
        return 1;
    }
    struct subject *sb = &q->subjects[q->nsubjects];
    sb->patient = *patient;
    sb->first = q->nrecs;
    if (mc_records_scan_patient(q->st, patient, collect_record, q)) return 1;
    sb->count = q->nrecs - sb->first;
    q->nsubjects++;
    return q->truncated;
}

static int q_dataset(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_dataset *q = ctx;
    q->st = mc_app_state(app);
    q->as_of = mc_app_height(app);
    struct mc_header h;
    if (mc_store_get_header(store, q->as_of, &h, NULL) == 0) q->now_ms = h.time_ms;
    int rc = mc_research_get_study(q->st, q->id, q->s);
    if (rc) {
        q->status = 404;
        q->err = rc;
        snprintf(q->why, sizeof q->why, "%s", mc_err_detail());
        return 0;
    }
    struct mc_account a;
    switch (mc_research_dataset_check(q->st, q->s, q->requester, &a)) {
    case MC_DATASET_ALLOWED: break;
    case MC_DATASET_NO_ACCOUNT:
        q->status = 401;
        q->err = MC_ERR_UNKNOWN_ACCOUNT;
        snprintf(q->why, sizeof q->why, "the signer is not an account on this ledger");
        return 0;
    case MC_DATASET_INACTIVE:
        q->status = 403;
        q->err = MC_ERR_REVOKED;
        snprintf(q->why, sizeof q->why, "the signer's account is %s", mc_account_status_name(a.status));
        return 0;
    case MC_DATASET_NOT_RESEARCHER:
        q->status = 403;
        q->err = MC_ERR_FORBIDDEN;
        snprintf(q->why, sizeof q->why, "only researchers query datasets (signer is %s)", mc_role_name(a.role));
        return 0;
    case MC_DATASET_NOT_LISTED:
        q->status = 403;
        q->err = MC_ERR_FORBIDDEN;
        snprintf(q->why, sizeof q->why, "the researcher is not on study '%s'", q->id);
        return 0;
    }
    if (mc_research_scan_candidates(q->st, q->s, collect_patient, q)) {
        q->status = 500;
        q->err = MC_ERR_DB;
        snprintf(q->why, sizeof q->why, "the consent index could not be read");
    }
    return 0;
}

/* Decrypts one record version into a parsed resource (NULL when this node
 * holds no key, the ciphertext is missing or altered, or it does not parse). */
static json_t *open_record(struct mc_node *node, const struct rec_key *r) {
    if (!r->have_key) return NULL;
    struct mc_buf plain;
    mc_buf_init(&plain, 0);
    json_t *out = NULL;
    /* No peer repair here: a dataset skips (and counts) what is unavailable. */
    if (mc_vault_open_record(mc_node_vault(node), &plain, r->id, r->version, &r->ciphertext,
                             r->sealed, r->via_grant, false) == 0)
        out = json_loadb((const char *)plain.data, plain.len, JSON_REJECT_DUPLICATES, NULL);
    if (plain.data) sodium_memzero(plain.data, plain.cap);
    mc_buf_deinit(&plain);
    return out;
}

static int by_canonical(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rows of one patient, sorted by their canonical form. */
static json_t *sorted_rows(json_t *rows) {
    size_t n = json_array_size(rows);
    char **s = calloc(n ? n : 1, sizeof *s);
    json_t *out = json_array();
    if (!s || !out) {
        free(s);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) s[i] = json_dumps(json_array_get(rows, i), JSON_COMPACT | JSON_SORT_KEYS);
    qsort(s, n, sizeof *s, by_canonical);
    for (size_t i = 0; i < n; i++) {
        if (s[i]) json_array_append_new(out, json_loads(s[i], 0, NULL));
        free(s[i]);
    }
    free(s);
    return out;
}

static int civil_year(uint64_t time_ms) {
    time_t t = (time_t)(time_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

/* Builds the dataset; counts released patients and records. */
static json_t *build_dataset(struct mc_node *node, const struct q_dataset *q, uint32_t *patients,
                             uint32_t *records, size_t *unavailable, size_t *suppressed) {
    uint8_t secret[32];
    mc_vault_research_secret(mc_node_vault(node), secret);
    int ref_year = civil_year(q->now_ms);
    json_t *list = json_array();
    *unavailable = 0;
    for (size_t i = 0; list && i < q->nsubjects; i++) {
        const struct subject *sb = &q->subjects[i];
        struct mc_deid_quasi quasi;
        memset(&quasi, 0, sizeof quasi);
        /* Demographics first: the 90+ rule also removes record years. */
        for (size_t j = 0; j < sb->count; j++) {
            const struct rec_key *r = &q->recs[sb->first + j];
            if (r->type != MC_FHIR_PATIENT) continue;
            json_t *res = open_record(node, r);
            if (res) mc_deid_demographics(&quasi, res, ref_year);
            else (*unavailable)++;
            json_decref(res);
        }
        json_t *rows = json_array();
        for (size_t j = 0; rows && j < sb->count; j++) {
            const struct rec_key *r = &q->recs[sb->first + j];
            if (r->type == MC_FHIR_PATIENT) continue;
            json_t *res = open_record(node, r);
            if (!res) {
                (*unavailable)++;
                continue;
            }
            json_t *row = mc_deid_record(res, quasi.over89);
            if (row) json_array_append_new(rows, row);
            json_decref(res);
        }
        bool demo = (q->s->categories & MC_CAT_DEMOGRAPHICS) != 0;
        if (json_array_size(rows) == 0 && !(demo && quasi.gender[0])) {
            json_decref(rows);
            continue;
        }
        char subject[35], cell[128];
        mc_deid_pseudonym(subject, secret, q->s->id, &sb->patient);
        mc_deid_cell(cell, sizeof cell, &quasi);
        json_t *entry = json_pack("{s:s, s:s, s:o}", "subject", subject, "quasi", cell, "records", sorted_rows(rows));
        json_decref(rows);
        if (entry && demo) json_object_set_new(entry, "demographics", mc_deid_quasi_json(&quasi));
        if (entry) json_array_append_new(list, entry);
    }
    sodium_memzero(secret, sizeof secret);
    if (!list) return NULL;
    *suppressed = mc_deid_suppress(list, q->s->k);
    *patients = (uint32_t)json_array_size(list);
    *records = 0;
    for (size_t i = 0; i < json_array_size(list); i++)
        *records += (uint32_t)json_array_size(json_object_get(json_array_get(list, i), "records"));
    return json_pack("{s:s, s:I, s:i, s:o, s:s, s:o}", "study", q->s->id, "as_of_height", (json_int_t)q->as_of,
                     "k", q->s->k, "categories", categories_json(q->s->categories), "deidentification",
                     "HIPAA Safe Harbor, 45 CFR 164.514(b)(2); pseudonyms per 164.514(c)", "patients", list);
}

void mc__api_research_dataset(struct mc_node *node, const char *param, const struct mc__api_request *req,
                              struct mc__api_response *res) {
    struct mc__gate s;
    mc__gate_check(&s, node, req, NULL, 0);
    if (s.rc) {
        mc__gate_refuse_query(node, res, &s, param, MC_OUTCOME_SECURITY, s.status, s.rc, s.why);
        mc__gate_release(&s);
        return;
    }
    struct q_dataset q = {.id = param, .requester = &s.v.key, .node_key = mc_vault_public_key(mc_node_vault(node))};
    q.s = malloc(sizeof *q.s);
    q.subjects = malloc(MC_RESEARCH_DATASET_PATIENTS_MAX * sizeof *q.subjects);
    q.recs = malloc(MC_RESEARCH_DATASET_RECORDS_MAX * sizeof *q.recs);
    if (!q.s || !q.subjects || !q.recs) {
        mc__api_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    int qrc = mc_node_query(node, q_dataset, &q);
    if (qrc) {
        mc__gate_refuse_query(node, res, &s, param, MC_OUTCOME_REFUSED, mc__reply_query_status(qrc), qrc,
                              "the node could not run the query");
        goto out;
    }
    if (q.status) {
        mc__gate_refuse_query(node, res, &s, param, MC_OUTCOME_REFUSED, q.status, q.err, q.why);
        goto out;
    }
    uint32_t patients = 0, records = 0;
    size_t unavailable = 0, suppressed = 0;
    json_t *dataset = build_dataset(node, &q, &patients, &records, &unavailable, &suppressed);
    mc_hash h;
    if (!dataset || mc_deid_hash(&h, dataset)) {
        json_decref(dataset);
        mc__api_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    char why[160];
    snprintf(why, sizeof why, "%u patients, %u records released; %zu patients suppressed (k=%u)%s", patients,
             records, suppressed, q.s->k, q.truncated ? "; truncated at the dataset bounds" : "");
    struct mc__gate_query ql = {.study = param, .outcome = MC_OUTCOME_SUCCESS, .status = 200, .reason = why,
                           .dataset = h, .patients = patients, .records = records, .as_of = q.as_of};
    mc_hash txid;
    int rc = mc__gate_log_query(node, &s, &ql, &txid);
    if (rc) {
        json_decref(dataset);
        char uwhy[300];
        snprintf(uwhy, sizeof uwhy, "the query could not be logged, so no data is served: %s", mc_err_detail());
        mc__gate_refuse_query(node, res, &s, param, MC_OUTCOME_REFUSED, rc == MC_ERR_EXISTS ? 401 : 503, rc, uwhy);
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    json_t *body = json_pack("{s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b}", "dataset", dataset, "dataset_sha256",
                             hash_json(&h), "query_tx", hash_json(&txid), "as_of_height", (json_int_t)q.as_of,
                             "suppressed_patients", (json_int_t)suppressed, "records_unavailable",
                             (json_int_t)unavailable, "records", (json_int_t)records, "truncated", q.truncated);
    json_decref(res->body);
    res->status = body ? 200 : 500;
    res->body = body ? body : mc_api_json_error(MC_ERR_NOMEM, "out of memory");
out:
    free(q.s);
    free(q.subjects);
    free(q.recs);
    mc__gate_release(&s);
}
