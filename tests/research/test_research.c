/* Research consent, dataset queries and trial verification, end to end over
 * an in-process node and its HTTP API:
 *   - only patients whose consent covers the study (scope, categories,
 *     expiry, not withdrawn) appear in a dataset; purpose consent counts;
 *   - withdrawal is not retroactive: the earlier dataset stays provable by
 *     the hash committed on chain;
 *   - a stale consent (an older version) replayed after withdrawal is refused;
 *   - researchers not on the study, and non-researchers, are refused and
 *     every refusal is on the chain;
 *   - small cells are suppressed;
 *   - trial verify catches outcome switching, unregistered outcomes, a
 *     changed dataset and enrolment without consent, and passes a clean trial. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/vault.h"
#include "api/deid.h"
#include "api/server.h"
#include "app/identity.h"
#include "app/records.h"
#include "base/hex.h"
#include "research_env.h"

static char *observation(const struct mc_keypair *pat, int value) {
    char hx[65];
    mc_hex_encode(hx, pat->pk.b, 32);
    char *s = tu_keep(malloc(1024));
    snprintf(s, 1024,
             "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
             "\"http://loinc.org\",\"code\":\"8867-4\",\"display\":\"Heart rate\"}],\"text\":\"SECRET-NOTE-%d\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"},\"effectiveDateTime\":\"2021-03-04T05:06:07Z\","
             "\"valueQuantity\":{\"value\":%d,\"unit\":\"/min\",\"code\":\"/min\"}}",
             value, hx, value);
    return s;
}

static void pseudonym(char out[35], struct env *e, const char *study, const struct mc_keypair *pat) {
    uint8_t secret[32];
    mc_vault_research_secret(mc_node_vault(e->t.node), secret);
    mc_deid_pseudonym(out, secret, study, &pat->pk);
}

static struct rq dataset(struct env *e, const struct mc_keypair *kp, const char *study) {
    char path[160];
    snprintf(path, sizeof path, "/v1/research/dataset/%s", study);
    return env_req(e, kp, "GET", path, NULL, NULL);
}

static bool has_subject(const struct rq *r, const char *subject) {
    json_t *pats = json_object_get(json_object_get(r->json, "dataset"), "patients");
    for (size_t i = 0; i < json_array_size(pats); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(pats, i), "subject")), subject) == 0)
            return true;
    return false;
}

/* Queries of the study on chain: count by requester and outcome. */
struct qcount {
    const mc_pubkey *requester;
    uint8_t outcome;
    size_t n;
    mc_hash last_dataset;
};
static int qrow(void *ctx, const struct mc_research_query *q) {
    struct qcount *c = ctx;
    if ((!c->requester || memcmp(q->requester.b, c->requester->b, 32) == 0) && q->outcome == c->outcome) {
        c->n++;
        c->last_dataset = q->dataset;
    }
    return 0;
}
struct qq {
    const char *study;
    struct qcount *c;
};
static int q_queries(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct qq *q = ctx;
    return mc_research_scan_queries(mc_app_state(app), q->study, qrow, q->c);
}
/* Refusals without a known signer counted in the study's summary entries. */
struct qsum {
    size_t total;
};
static int qsum_row(void *ctx, const struct mc_research_query *q) {
    struct qsum *c = ctx;
    if (q->outcome == MC_OUTCOME_SECURITY && sodium_is_zero(q->requester.b, 32) &&
        strncmp(q->reason, "summary: ", 9) == 0)
        c->total += (size_t)strtoull(q->reason + 9, NULL, 10);
    return 0;
}
struct qsq {
    const char *study;
    struct qsum *c;
};
static int q_qsum(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct qsq *q = ctx;
    return mc_research_scan_queries(mc_app_state(app), q->study, qsum_row, q->c);
}
static size_t query_summary_total(struct env *e, const char *study) {
    mc_api_flush_refusal_summaries(e->t.node);
    tu_commit(&e->t);
    struct qsum c = {0};
    struct qsq q = {.study = study, .c = &c};
    cr_assert_eq(mc_node_query(e->t.node, q_qsum, &q), 0);
    return c.total;
}

static size_t query_count(struct env *e, const char *study, const mc_pubkey *requester, uint8_t outcome) {
    struct qcount c = {.requester = requester, .outcome = outcome};
    struct qq q = {.study = study, .c = &c};
    cr_assert_eq(mc_node_query(e->t.node, q_queries, &q), 0);
    return c.n;
}

Test(research, consent_decides_membership_withdrawal_not_retroactive, .timeout = 60) {
    struct env e;
    env_start(&e, "rs-consent");
    uint64_t dn = 2, rn = 0;
    const char *outs[] = {"P:resting heart rate", NULL};
    const mc_pubkey *team[] = {&e.researcher.pk, NULL};
    rs_tx_ok(&e, &e.researcher, &rn, rs_study("hr1", "cardio-research", MC_CAT_RESULTS, 1, outs, team));
    struct mc_keypair a = rs_patient(&e, &dn);   /* consents to the study */
    struct mc_keypair b = rs_patient(&e, &dn);   /* never consents */
    struct mc_keypair c = rs_patient(&e, &dn);   /* consents to other categories only */
    struct mc_keypair d = rs_patient(&e, &dn);   /* consent expires */
    struct mc_keypair w = rs_patient(&e, &dn);   /* consents, then withdraws */
    struct mc_keypair f = rs_patient(&e, &dn);   /* consents to the purpose */
    tu_commit(&e.t);
    uint64_t na = 0, nc = 0, nd = 0, nw = 0, nf = 0;
    struct mc_research_payload p = rs_consent(MC_CONSENT_STUDY, "hr1", 1, MC_CONSENT_PERMIT, MC_CAT_RESULTS | MC_CAT_ENCOUNTERS, 0);
    mc_hash a_consent = rs_tx_ok(&e, &a, &na, &p);
    (void)a_consent;
    rs_tx_ok(&e, &w, &nw, &p);
    p = rs_consent(MC_CONSENT_STUDY, "hr1", 1, MC_CONSENT_PERMIT, MC_CAT_FINANCIAL, 0);
    rs_tx_ok(&e, &c, &nc, &p);
    p = rs_consent(MC_CONSENT_STUDY, "hr1", 1, MC_CONSENT_PERMIT, MC_CAT_RESULTS, rs_now_ms(&e) + 1200);
    rs_tx_ok(&e, &d, &nd, &p);
    p = rs_consent(MC_CONSENT_PURPOSE, "cardio-research", 1, MC_CONSENT_PERMIT, MC_CAT_ALL, 0);
    rs_tx_ok(&e, &f, &nf, &p);
    /* a consent to a study that does not exist, and a version that skips, are refused */
    p = rs_consent(MC_CONSENT_STUDY, "nope", 1, MC_CONSENT_PERMIT, MC_CAT_RESULTS, 0);
    cr_assert_eq(rs_tx(&e, &b, &(uint64_t){0}, &p, NULL), MC_ERR_NOT_FOUND);
    tu_commit(&e.t);
    p = rs_consent(MC_CONSENT_STUDY, "hr1", 3, MC_CONSENT_WITHDRAW, 0, 0);
    cr_assert_eq(rs_tx(&e, &w, &nw, &p, NULL), MC_ERR_INVALID);
    w.pk = w.pk; /* keep */
    usleep(1300 * 1000); /* d's consent expires before the next blocks */
    struct mc_keypair *pats[] = {&a, &b, &c, &d, &w, &f};
    for (int i = 0; i < 6; i++) free(env_create(&e, &e.doc, "Observation", observation(pats[i], 60 + i)));
    tu_commit(&e.t);

    struct rq r = dataset(&e, &e.researcher, "hr1");
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    char sa[35], sb[35], sc[35], sd[35], sw[35], sf[35];
    pseudonym(sa, &e, "hr1", &a);
    pseudonym(sb, &e, "hr1", &b);
    pseudonym(sc, &e, "hr1", &c);
    pseudonym(sd, &e, "hr1", &d);
    pseudonym(sw, &e, "hr1", &w);
    pseudonym(sf, &e, "hr1", &f);
    cr_assert(has_subject(&r, sa), "consenting patient missing: %s", r.body);
    cr_assert(has_subject(&r, sw), "consenting (not yet withdrawn) patient missing");
    cr_assert(has_subject(&r, sf), "purpose-consenting patient missing");
    cr_assert(!has_subject(&r, sb), "non-consenting patient present");
    cr_assert(!has_subject(&r, sc), "patient consenting to other categories present");
    cr_assert(!has_subject(&r, sd), "expired consent present");
    cr_assert_eq(json_array_size(json_object_get(json_object_get(r.json, "dataset"), "patients")), 3);
    cr_assert_null(strstr(r.body, "SECRET-NOTE"), "free text leaked");
    cr_assert_null(strstr(r.body, "2021-03-04"), "full date leaked");
    cr_assert_not_null(strstr(r.body, "\"year\":2021"));
    /* the first dataset's hash, as committed */
    json_t *first = json_deep_copy(json_object_get(r.json, "dataset"));
    char first_tx[65];
    snprintf(first_tx, sizeof first_tx, "%s", json_string_value(json_object_get(r.json, "query_tx")));
    cr_assert_str_eq(first_tx, r.access_tx);
    rq_free(&r);
    tu_commit(&e.t);
    cr_assert_eq(query_count(&e, "hr1", &e.researcher.pk, MC_OUTCOME_SUCCESS), 1);

    /* w withdraws: gone from every later dataset. */
    p = rs_consent(MC_CONSENT_STUDY, "hr1", 2, MC_CONSENT_WITHDRAW, 0, 0);
    rs_tx_ok(&e, &w, &nw, &p);
    tu_commit(&e.t);
    /* The old consent (version 1) replayed after the withdrawal: refused,
     * as a new transaction and as the very bytes already committed. */
    p = rs_consent(MC_CONSENT_STUDY, "hr1", 1, MC_CONSENT_PERMIT, MC_CAT_RESULTS | MC_CAT_ENCOUNTERS, 0);
    cr_assert_eq(rs_tx(&e, &w, &nw, &p, NULL), MC_ERR_STATE, "%s", mc_err_detail());
    cr_assert(strstr(mc_err_detail(), "stale"), "%s", mc_err_detail());
    {
        struct mc_buf bb;
        mc_buf_init(&bb, 0);
        mc_research_encode(&bb, &p);
        size_t len;
        uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_RESEARCH_CONSENT, &w, 1, bb.data, bb.len);
        mc_hash id;
        cr_assert_neq(mc_node_submit(e.t.node, tx, len, &id), 0, "verbatim replay admitted");
        free(tx);
        mc_buf_deinit(&bb);
    }
    /* A new consent (version 3) is the way back in. */
    r = dataset(&e, &e.researcher, "hr1");
    cr_assert_eq(r.status, 200);
    cr_assert(!has_subject(&r, sw), "withdrawn patient still present");
    cr_assert(has_subject(&r, sa));
    cr_assert_eq(json_array_size(json_object_get(json_object_get(r.json, "dataset"), "patients")), 2);
    rq_free(&r);
    tu_commit(&e.t);

    /* Not retroactive: the first dataset (which holds w) is still provable:
     * its hash is the one committed by its query transaction. */
    mc_hash h;
    cr_assert_eq(mc_deid_hash(&h, first), 0);
    char hx[65];
    mc_hex_encode(hx, h.b, 32);
    struct rq s = env_req(&e, &e.researcher, "GET", "/v1/research/study/hr1", NULL, NULL);
    cr_assert_eq(s.status, 200);
    json_t *qs = json_object_get(s.json, "queries");
    bool found = false;
    for (size_t i = 0; i < json_array_size(qs); i++) {
        json_t *q = json_array_get(qs, i);
        if (strcmp(json_string_value(json_object_get(q, "tx")), first_tx) == 0) {
            cr_assert_str_eq(json_string_value(json_object_get(q, "dataset_sha256")), hx);
            found = true;
        }
    }
    cr_assert(found, "first query not on chain: %s", s.body);
    rq_free(&s);
    char path[120];
    snprintf(path, sizeof path, "/v1/tx/%s", first_tx);
    s = env_req(&e, &e.researcher, "GET", path, NULL, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(s.json, "status")), "committed", "%s", s.body);
    rq_free(&s);
    /* The patient sees the history as FHIR Consent (scope research). */
    char cpath[160], whex[65];
    mc_hex_encode(whex, w.pk.b, 32);
    snprintf(cpath, sizeof cpath, "/v1/research/consents?patient=%s", whex);
    s = env_req(&e, &w, "GET", cpath, NULL, NULL);
    cr_assert_eq(s.status, 200, "%s", s.body);
    cr_assert_eq(json_integer_value(json_object_get(s.json, "total")), 2);
    cr_assert_not_null(strstr(s.body, "\"research\""));
    rq_free(&s);
    s = env_req(&e, &e.researcher, "GET", cpath, NULL, NULL);
    cr_assert_eq(s.status, 403);
    rq_free(&s);
    json_decref(first);
    env_stop(&e);
}

Test(research, refusals_are_logged, .timeout = 60) {
    struct env e;
    env_start(&e, "rs-refuse");
    uint64_t rn = 0, pn = 0;
    struct mc_keypair other = rs_member(&e, MC_ROLE_RESEARCHER, "Otto Other");
    tu_commit(&e.t);
    const char *outs[] = {"P:mortality", NULL};
    const mc_pubkey *team[] = {&e.researcher.pk, NULL};
    rs_tx_ok(&e, &e.researcher, &rn, rs_study("s2", NULL, MC_CAT_RESULTS, 1, outs, team));
    tu_commit(&e.t);
    struct mc_research_payload p = rs_consent(MC_CONSENT_STUDY, "s2", 1, MC_CONSENT_PERMIT, MC_CAT_RESULTS, 0);
    rs_tx_ok(&e, &e.patient, &pn, &p);
    free(env_create(&e, &e.doc, "Observation", observation(&e.patient, 70)));
    tu_commit(&e.t);

    struct rq r = dataset(&e, &other, "s2");
    cr_assert_eq(r.status, 403, "%s", r.body);
    cr_assert(strstr(r.body, "not on study"));
    cr_assert_eq(strlen(r.access_tx), 64, "refusal not logged");
    rq_free(&r);
    r = dataset(&e, &e.doc, "s2");
    cr_assert_eq(r.status, 403);
    cr_assert(strstr(r.body, "researchers query datasets"), "%s", r.body);
    rq_free(&r);
    r = dataset(&e, &e.patient, "s2");
    cr_assert_eq(r.status, 403);
    rq_free(&r);
    r = dataset(&e, &e.stranger, "s2");
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    struct rq_opt unsigned_opt = {.unsigned_request = true};
    r = env_req(&e, &e.researcher, "GET", "/v1/research/dataset/s2", NULL, &unsigned_opt);
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    /* a replayed signed request is refused too */
    struct rq_opt fixed = {.nonce = "fixed-nonce-123"};
    r = env_req(&e, &e.researcher, "GET", "/v1/research/dataset/s2", NULL, &fixed);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "records")), 1);
    rq_free(&r);
    r = env_req(&e, &e.researcher, "GET", "/v1/research/dataset/s2", NULL, &fixed);
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    tu_commit(&e.t);
    cr_assert_eq(query_count(&e, "s2", &other.pk, MC_OUTCOME_REFUSED), 1);
    cr_assert_eq(query_count(&e, "s2", &e.doc.pk, MC_OUTCOME_REFUSED), 1);
    cr_assert_eq(query_count(&e, "s2", &e.patient.pk, MC_OUTCOME_REFUSED), 1);
    /* the stranger's, the unsigned and the replayed requests have no known
     * signer: counted in the study's refusal summaries, not one entry each */
    cr_assert_eq(query_count(&e, "s2", &e.stranger.pk, MC_OUTCOME_REFUSED), 0);
    cr_assert_eq(query_summary_total(&e, "s2"), 3, "stranger, unsigned and replayed requests counted");
    cr_assert_eq(query_count(&e, "s2", &e.researcher.pk, MC_OUTCOME_SUCCESS), 1);
    /* a node cannot invent a served query: a success entry for another
     * researcher without their signature is refused by the ledger */
    struct mc_research_payload q;
    memset(&q, 0, sizeof q);
    q.type = MC_TX_RESEARCH_QUERY;
    snprintf(q.study, sizeof q.study, "s2");
    q.requester = e.researcher.pk;
    q.status = 200;
    q.as_of_height = 1;
    uint8_t fake[64] = {1};
    q.sig = fake;
    q.sig_len = 64;
    q.base = (const uint8_t *)"x";
    q.base_len = 1;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_research_encode(&b, &q);
    mc_hash id;
    cr_assert_eq(mc_node_submit_signed(e.t.node, MC_TX_RESEARCH_QUERY, b.data, b.len, &id), MC_ERR_BAD_SIGNATURE);
    mc_buf_deinit(&b);
    env_stop(&e);
}

static char *patient_resource(int birth_year, const char *zip, const char *gender) {
    char *s = tu_keep(malloc(512));
    snprintf(s, 512,
             "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zzyzx\",\"given\":[\"Quinn\"]}],"
             "\"gender\":\"%s\",\"birthDate\":\"%d-02-03\",\"address\":[{\"line\":[\"1 Main St\"],"
             "\"city\":\"Smalltown\",\"state\":\"MA\",\"postalCode\":\"%s\",\"country\":\"US\"}]}",
             gender, birth_year, zip);
    return s;
}

Test(research, small_cells_suppressed, .timeout = 60) {
    struct env e;
    env_start(&e, "rs-cells");
    uint64_t dn = 2, rn = 0;
    const char *outs[] = {"P:bp", NULL};
    const mc_pubkey *team[] = {&e.researcher.pk, NULL};
    rs_tx_ok(&e, &e.researcher, &rn, rs_study("cells", NULL, MC_CAT_DEMOGRAPHICS | MC_CAT_RESULTS, 2, outs, team));
    struct mc_keypair p[4];
    for (int i = 0; i < 4; i++) p[i] = rs_patient(&e, &dn);
    tu_commit(&e.t);
    /* p0, p1: same cell; p2: alone (born 1920: 90+); p3: alone (other ZIP3) */
    const int years[] = {1980, 1980, 1920, 1980};
    const char *zips[] = {"01801", "01890", "02139", "03601"};
    for (int i = 0; i < 4; i++) {
        uint64_t n = 0;
        struct mc_research_payload c = rs_consent(MC_CONSENT_STUDY, "cells", 1, MC_CONSENT_PERMIT, MC_CAT_ALL, 0);
        rs_tx_ok(&e, &p[i], &n, &c);
        char hx[65], path[128];
        mc_hex_encode(hx, p[i].pk.b, 32);
        snprintf(path, sizeof path, "/fhir/Patient?patient=%s", hx);
        struct rq r = env_req(&e, &e.doc, "POST", path, patient_resource(years[i], zips[i], "female"), NULL);
        cr_assert_eq(r.status, 201, "%s", r.body);
        rq_free(&r);
        free(env_create(&e, &e.doc, "Observation", observation(&p[i], 80 + i)));
    }
    tu_commit(&e.t);
    struct rq r = dataset(&e, &e.researcher, "cells");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "suppressed_patients")), 2, "%s", r.body);
    char s0[35], s1[35];
    pseudonym(s0, &e, "cells", &p[0]);
    pseudonym(s1, &e, "cells", &p[1]);
    cr_assert(has_subject(&r, s0) && has_subject(&r, s1));
    cr_assert_not_null(strstr(r.body, "\"zip3\":\"018\""), "%s", r.body);
    cr_assert_null(strstr(r.body, "Zzyzx"));
    cr_assert_null(strstr(r.body, "01801"));
    cr_assert_null(strstr(r.body, "Smalltown"));
    rq_free(&r);
    env_stop(&e);
}

/* --- trials --- */

static struct mc_research_payload trial_op(uint16_t type, const char *study) {
    struct mc_research_payload p;
    memset(&p, 0, sizeof p);
    p.type = type;
    snprintf(p.study, sizeof p.study, "%s", study);
    return p;
}

static json_t *verify(struct env *e, const char *study) {
    char path[120];
    snprintf(path, sizeof path, "/v1/research/verify/%s", study);
    struct rq r = env_req(e, &e->researcher, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = json_incref(r.json);
    rq_free(&r);
    return j;
}

static size_t findings(json_t *report, const char *kind) {
    size_t n = 0;
    json_t *f = json_object_get(report, "findings");
    for (size_t i = 0; i < json_array_size(f); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(f, i), "kind")), kind) == 0) n++;
    return n;
}

Test(research, trial_verify_clean_and_each_violation, .timeout = 60) {
    struct env e;
    env_start(&e, "rs-trial");
    uint64_t rn = 0, pn = 0, p2n = 0;
    const char *outs[] = {"P:HbA1c at 26 weeks", "S:weight at 26 weeks", NULL};
    const mc_pubkey *team[] = {&e.researcher.pk, NULL};
    rs_tx_ok(&e, &e.researcher, &rn, rs_study("clean", NULL, MC_CAT_RESULTS, 1, outs, team));
    rs_tx_ok(&e, &e.researcher, &rn, rs_study("dirty", NULL, MC_CAT_RESULTS, 1, outs, team));
    tu_commit(&e.t);
    struct mc_research_payload c = rs_consent(MC_CONSENT_STUDY, "clean", 1, MC_CONSENT_PERMIT, MC_CAT_RESULTS, 0);
    rs_tx_ok(&e, &e.patient, &pn, &c);
    c = rs_consent(MC_CONSENT_STUDY, "dirty", 1, MC_CONSENT_PERMIT, MC_CAT_RESULTS, 0);
    rs_tx_ok(&e, &e.patient, &pn, &c);
    tu_commit(&e.t);
    /* enrolment needs consent: patient2 never consented */
    struct mc_research_payload op = trial_op(MC_TX_TRIAL_ENROL, "clean");
    op.patient = e.patient2.pk;
    cr_assert_eq(rs_tx(&e, &e.researcher, &rn, &op, NULL), MC_ERR_FORBIDDEN);
    op.patient = e.patient.pk;
    rs_tx_ok(&e, &e.researcher, &rn, &op);
    op = trial_op(MC_TX_TRIAL_ENROL, "dirty");
    op.patient = e.patient.pk;
    /* only the study team enrols */
    cr_assert_eq(rs_tx(&e, &e.doc, &(uint64_t){2}, &op, NULL), MC_ERR_FORBIDDEN, "%s", mc_err_detail());
    rs_tx_ok(&e, &e.researcher, &rn, &op);
    tu_commit(&e.t);
    /* results before the lock are refused */
    op = trial_op(MC_TX_TRIAL_RESULTS, "clean");
    op.outcome_count = 1;
    op.outcomes[0] = (struct mc_study_outcome){.kind = MC_OUTCOME_PRIMARY, .text = "HbA1c at 26 weeks"};
    cr_assert_eq(rs_tx(&e, &e.researcher, &rn, &op, NULL), MC_ERR_STATE);
    /* clean: an amendment adds an outcome, then close, lock, results */
    op = trial_op(MC_TX_TRIAL_AMEND, "clean");
    mc_sha256(&op.hash, "protocol v2", 11);
    snprintf(op.reason, sizeof op.reason, "DSMB asked for a safety outcome");
    op.outcome_count = 1;
    op.outcomes[0] = (struct mc_study_outcome){.kind = MC_OUTCOME_SECONDARY, .text = "hypoglycaemia events"};
    rs_tx_ok(&e, &e.researcher, &rn, &op);
    mc_hash locked;
    mc_sha256(&locked, "the locked dataset", 18);
    const char *ids[] = {"clean", "dirty"};
    for (int i = 0; i < 2; i++) {
        op = trial_op(MC_TX_TRIAL_CLOSE, ids[i]);
        rs_tx_ok(&e, &e.researcher, &rn, &op);
        op = trial_op(MC_TX_TRIAL_LOCK, ids[i]);
        op.hash = locked;
        rs_tx_ok(&e, &e.researcher, &rn, &op);
    }
    tu_commit(&e.t);
    /* amendments after the lock are refused: outcomes cannot be laundered */
    op = trial_op(MC_TX_TRIAL_AMEND, "dirty");
    snprintf(op.reason, sizeof op.reason, "late");
    cr_assert_eq(rs_tx(&e, &e.researcher, &rn, &op, NULL), MC_ERR_STATE);
    op = trial_op(MC_TX_TRIAL_RESULTS, "clean");
    op.hash = locked;
    op.outcome_count = 3;
    op.outcomes[0] = (struct mc_study_outcome){.kind = MC_OUTCOME_PRIMARY, .text = "HbA1c at 26 weeks"};
    op.outcomes[1] = (struct mc_study_outcome){.kind = MC_OUTCOME_SECONDARY, .text = "weight at 26 weeks"};
    op.outcomes[2] = (struct mc_study_outcome){.kind = MC_OUTCOME_SECONDARY, .text = "hypoglycaemia events"};
    rs_tx_ok(&e, &e.researcher, &rn, &op);
    /* dirty: changed dataset, the primary switched for a new outcome, the
     * registered secondary promoted to primary */
    op = trial_op(MC_TX_TRIAL_RESULTS, "dirty");
    mc_sha256(&op.hash, "a different dataset", 19);
    op.outcome_count = 2;
    op.outcomes[0] = (struct mc_study_outcome){.kind = MC_OUTCOME_PRIMARY, .text = "fasting glucose at 12 weeks"};
    op.outcomes[1] = (struct mc_study_outcome){.kind = MC_OUTCOME_PRIMARY, .text = "weight at 26 weeks"};
    rs_tx_ok(&e, &e.researcher, &rn, &op);
    tu_commit(&e.t);

    json_t *rep = verify(&e, "clean");
    cr_assert(json_is_true(json_object_get(rep, "clean")), "%s", json_dumps(rep, 0));
    cr_assert_eq(json_array_size(json_object_get(rep, "findings")), 0);
    cr_assert_eq(json_integer_value(json_object_get(rep, "enrolled")), 1);
    json_decref(rep);
    rep = verify(&e, "dirty");
    cr_assert(json_is_false(json_object_get(rep, "clean")));
    cr_assert_eq(findings(rep, "results_dataset_mismatch"), 1);
    cr_assert_eq(findings(rep, "unregistered_outcome"), 1);
    cr_assert_eq(findings(rep, "unreported_outcome"), 1);
    cr_assert_eq(findings(rep, "reclassified_outcome"), 1);
    cr_assert_eq(findings(rep, "enrolled_without_consent"), 0);
    json_decref(rep);

    /* the same through the command line */
    const char *bin = getenv("MEDCHAIN_BIN");
    if (bin) {
        char cmd[1024], out[4096];
        snprintf(cmd, sizeof cmd, "%s trial verify clean --node http://127.0.0.1:%u 2>&1", bin, (unsigned)e.port);
        FILE *f = popen(cmd, "r");
        size_t n = fread(out, 1, sizeof out - 1, f);
        out[n] = 0;
        cr_assert_eq(pclose(f), 0, "%s", out);
        cr_assert_not_null(strstr(out, "verdict: clean"), "%s", out);
        snprintf(cmd, sizeof cmd, "%s trial verify dirty --node http://127.0.0.1:%u 2>&1", bin, (unsigned)e.port);
        f = popen(cmd, "r");
        n = fread(out, 1, sizeof out - 1, f);
        out[n] = 0;
        cr_assert_neq(pclose(f), 0, "%s", out);
        cr_assert_not_null(strstr(out, "finding: unregistered_outcome: fasting glucose at 12 weeks"), "%s", out);
    }

    /* Enrolment without consent: the ledger refuses it (above), so it can
     * only come from a state written around the rules (faulty software, an
     * edited database). Verify re-derives consent from the history rows and
     * does not trust the enrolment: write one into the store directly. */
    char *db_path = tu_path(e.t.home, "data/chain.db");
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    uint8_t key[3 + 5 + 1 + 32];
    memcpy(key, "ye/clean", 8);
    key[8] = 0;
    memcpy(key + 9, e.patient2.pk.b, 32);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u64(&v, 3);
    mc_enc_u64(&v, rs_now_ms(&e));
    mc_enc_u8(&v, MC_CONSENT_STUDY);
    mc_enc_u32(&v, 1);
    mc_enc_fixed(&v, e.researcher.pk.b, 32);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO state(key, value) VALUES (?, ?)", -1, &st, NULL), SQLITE_OK,
                 "%s", sqlite3_errmsg(db));
    sqlite3_bind_blob(st, 1, key, sizeof key, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, v.data, (int)v.len, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    mc_buf_deinit(&v);
    rep = verify(&e, "clean");
    cr_assert(json_is_false(json_object_get(rep, "clean")));
    cr_assert_eq(findings(rep, "enrolled_without_consent"), 1, "%s", json_dumps(rep, 0));
    cr_assert_eq(json_integer_value(json_object_get(rep, "enrolled")), 2);
    json_decref(rep);
    (void)p2n;
    env_stop(&e);
}

/* --- de-identification units --- */

Test(deid, zip3_age_pseudonym_and_allow_list) {
    char z[4];
    mc_deid_zip3(z, "01801");
    cr_assert_str_eq(z, "018");
    mc_deid_zip3(z, "03601-1234");
    cr_assert_str_eq(z, "000", "restricted ZIP3 areas become 000");
    mc_deid_zip3(z, "8930");
    cr_assert_str_eq(z, "");
    mc_deid_zip3(z, "ABCDE");
    cr_assert_str_eq(z, "");

    json_t *pat = json_loads("{\"resourceType\":\"Patient\",\"gender\":\"female\",\"birthDate\":\"1930-05-06\","
                             "\"address\":[{\"postalCode\":\"89012\",\"state\":\"NV\"}]}", 0, NULL);
    struct mc_deid_quasi q;
    mc_deid_demographics(&q, pat, 2024);
    cr_assert_str_eq(q.birth, "90+");
    cr_assert(q.over89);
    cr_assert_str_eq(q.zip3, "000");
    mc_deid_demographics(&q, pat, 2019);
    cr_assert_str_eq(q.birth, "1930", "89 years: the year stays");
    json_decref(pat);

    json_t *obs = json_loads(
        "{\"resourceType\":\"Observation\",\"id\":\"abc\",\"status\":\"final\",\"identifier\":[{\"value\":\"MRN123\"}],"
        "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\",\"display\":\"Dr Who's pulse\"},"
        "{\"system\":\"http://hospital.example/mrn\",\"code\":\"MRN123\"}],\"text\":\"called 555-1234\"},"
        "\"subject\":{\"reference\":\"Patient/x\",\"display\":\"Jane Roe\"},\"effectiveDateTime\":\"2020-01-02\","
        "\"note\":[{\"text\":\"lives at 1 Elm\"}],\"valueQuantity\":{\"value\":64.595,\"unit\":\"kg\"}}", 0, NULL);
    json_t *row = mc_deid_record(obs, false);
    char *s = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert_str_eq(s, "{\"code\":[\"http://loinc.org|8867-4\"],\"resourceType\":\"Observation\",\"status\":\"final\","
                        "\"value\":{\"unit\":\"kg\",\"value\":\"64.595\"},\"year\":2020}");
    free(s);
    json_decref(row);
    row = mc_deid_record(obs, true);
    cr_assert(json_is_null(json_object_get(row, "year")), "90+: no record years");
    json_decref(row);
    json_decref(obs);

    uint8_t secret[32];
    randombytes_buf(secret, sizeof secret);
    mc_pubkey a = {{1}};
    char p1[35], p2[35], p3[35];
    mc_deid_pseudonym(p1, secret, "s1", &a);
    mc_deid_pseudonym(p2, secret, "s1", &a);
    mc_deid_pseudonym(p3, secret, "s2", &a);
    cr_assert_str_eq(p1, p2, "stable per study");
    cr_assert_str_neq(p1, p3, "unlinkable across studies");
}

Test(deid, suppress_small_cells) {
    json_t *list = json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "subject", "P-b", "quasi", "x", "subject", "P-a",
                             "quasi", "x", "subject", "P-c", "quasi", "y");
    cr_assert_eq(mc_deid_suppress(list, 2), 1);
    cr_assert_eq(json_array_size(list), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "subject")), "P-a");
    cr_assert_null(json_object_get(json_array_get(list, 0), "quasi"));
    json_decref(list);
}

Test(research, payload_codec_strict) {
    struct mc_research_payload *p = calloc(1, sizeof *p), *q = calloc(1, sizeof *q);
    const char *outs[] = {"P:a", "S:b", NULL};
    mc_pubkey r = {{7}};
    const mc_pubkey *team[] = {&r, NULL};
    *p = *rs_study("x1", "onc", MC_CAT_RESULTS, 5, outs, team);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_research_encode(&b, p);
    cr_assert_eq(mc_research_decode(q, MC_TX_STUDY_REGISTER, b.data, b.len), 0);
    cr_assert_str_eq(q->outcomes[1].text, "b");
    cr_assert_eq(q->researcher_count, 1);
    cr_assert_neq(mc_research_decode(q, MC_TX_STUDY_REGISTER, b.data, b.len - 1), 0, "truncated");
    mc_buf_append(&b, "", 1);
    cr_assert_neq(mc_research_decode(q, MC_TX_STUDY_REGISTER, b.data, b.len), 0, "trailing byte");
    mc_buf_deinit(&b);
    cr_assert_gt(mc_txtypes_payload_max(MC_TX_STUDY_REGISTER), 0);
    free(p);
    free(q);
}
