/* The rules the ledger and the API share: who may author a record
 * (mc_records_author_check) gives each verdict for the fixture's accounts,
 * and the API refuses a write the rule refuses (logging the refusal)
 * exactly as the ledger would refuse the anchor. */
#include <criterion/criterion.h>
#include <string.h>

#include "app/app.h"
#include "app/records.h"
#include "records_env.h"

struct q_rule {
    const mc_pubkey *author, *node, *patient;
    enum mc_records_author_verdict verdict;
};

static int q_rule(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_rule *q = ctx;
    q->verdict = mc_records_author_check(mc_app_state(app), q->author, q->node, q->patient, NULL);
    return 0;
}

static enum mc_records_author_verdict verdict(struct env *e, const mc_pubkey *author,
                                              const mc_pubkey *node, const mc_pubkey *patient) {
    struct q_rule q = {.author = author, .node = node, .patient = patient};
    cr_assert_eq(mc_node_query(e->t.node, q_rule, &q), 0);
    return q.verdict;
}

Test(rules, author_verdicts) {
    struct env e;
    env_start(&e, "rules-author");
    struct mc_node_status s;
    mc_node_status(e.t.node, &s);
    const mc_pubkey *node = &s.node_key, *pat = &e.patient.pk;
    cr_assert_eq(verdict(&e, &e.doc.pk, node, pat), MC_AUTHOR_ALLOWED);
    cr_assert_eq(verdict(&e, &e.stranger.pk, node, pat), MC_AUTHOR_NOT_ACTIVE);
    cr_assert_eq(verdict(&e, &e.researcher.pk, node, pat), MC_AUTHOR_NOT_CLINICIAN);
    cr_assert_eq(verdict(&e, &e.auditor.pk, node, pat), MC_AUTHOR_NOT_CLINICIAN);
    cr_assert_eq(verdict(&e, &e.doc.pk, &e.stranger.pk, pat), MC_AUTHOR_OTHER_ORG,
                 "an unknown anchoring node is not of the author's organisation");
    cr_assert_eq(verdict(&e, &e.doc.pk, node, &e.doc2.pk), MC_AUTHOR_BAD_PATIENT);
    cr_assert_eq(verdict(&e, &e.doc.pk, node, &e.stranger.pk), MC_AUTHOR_BAD_PATIENT);
    env_stop(&e);
}

Test(rules, api_refuses_what_the_rule_refuses) {
    struct env e;
    env_start(&e, "rules-api");
    char *obs = env_observation(e.patient_hex, "rule");
    struct rq r = env_req(&e, &e.researcher, "POST", "/fhir/Observation", obs, NULL);
    cr_assert_eq(r.status, 403, "%s", r.body);
    cr_assert(strstr(r.body, "only clinicians"), "%s", r.body);
    cr_assert(r.access_tx[0], "the refusal is logged on the ledger");
    rq_free(&r);
    r = env_req(&e, &e.doc, "POST", "/fhir/Observation", obs, NULL);
    cr_assert_eq(r.status, 201, "%s", r.body);
    rq_free(&r);
    free(obs);
    env_stop(&e);
}
