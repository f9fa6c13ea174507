/* A private read is served only once its access entry is certain to
 * commit: a member whose revocation is pending (admitted, not yet in a
 * block) reads a record; the entry executed against the state it will
 * commit on fails, so the read is refused rather than served with an entry
 * that its block then rejects (the read would be on no ledger). */
#include <criterion/criterion.h>
#include <string.h>

#include "app/records.h"
#include "base/hex.h"
#include "records_env.h"

Test(records_pending, revoked_member_read_refused_or_logged, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-pending");
    char *obs = env_observation(e.patient_hex, "pending-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);

    /* The author reads while nothing is pending: served and logged. */
    struct rq ok = env_req(&e, &e.doc, "GET", path, NULL, NULL);
    cr_assert_eq(ok.status, 200, "%s", ok.body);
    rq_free(&ok);
    tu_commit(&e.t);

    /* The admin revokes the author; the revocation is pending. */
    uint8_t rp[300];
    size_t rpl = tu_revoke_payload(rp, &e.doc.pk, "left the hospital");
    env_tx(&e, &e.t.admin, &e.admin_nonce, MC_TX_REVOKE_MEMBER, rp, rpl);
    struct rq r = env_req(&e, &e.doc, "GET", path, NULL, NULL);
    char access_tx[65];
    snprintf(access_tx, sizeof access_tx, "%s", r.access_tx);
    long status = r.status;
    rq_free(&r);
    tu_commit(&e.t);
    if (status == 200) {
        /* Served: then its entry must be on the chain. */
        mc_hash txid;
        cr_assert_eq(mc_hex_decode(txid.b, 32, access_tx), 0, "a served read names its entry");
        struct mc_tx_status st;
        cr_assert_eq(mc_node_tx_status(e.t.node, &txid, &st, NULL), 0);
        cr_assert_eq(st.state, MC_TX_COMMITTED, "the read was served but its access entry is %d (%s)",
                     st.state, st.reason);
    }
    cr_expect_neq(status, 200, "a read by a member whose revocation is pending is refused");
    cr_expect_eq(env_log_count(&e, &e.patient.pk, &e.doc.pk, MC_OUTCOME_SUCCESS), 1,
                 "only the first read is on the ledger as served");
    /* After the revocation commits the member stays refused, and the node
     * still logs others' reads (its nonces are intact). */
    struct rq p = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_expect_eq(p.status, 200, "%s", p.body);
    rq_free(&p);
    tu_commit(&e.t);
    cr_expect_eq(env_log_count(&e, &e.patient.pk, &e.patient.pk, MC_OUTCOME_SUCCESS), 1);
    free(id);
    env_stop(&e);
}

/* Whether a served read's access entry made it onto the chain. */
static void expect_logged_if_served(struct env *e, long status, const char *access_tx, const char *what) {
    if (status != 200) return;
    mc_hash txid;
    cr_assert_eq(mc_hex_decode(txid.b, 32, access_tx), 0, "%s: a served read names its entry", what);
    struct mc_tx_status st;
    cr_assert_eq(mc_node_tx_status(e->t.node, &txid, &st, NULL), 0);
    cr_expect_eq(st.state, MC_TX_COMMITTED, "%s: served, but its access entry is %d (%s)", what,
                 st.state, st.reason);
}

/* A signed read that asks for the break-glass purpose without a reason
 * (by the record's author, whom the policy allows anyway), while other
 * node transactions are pending (the "under load" trigger): never served
 * with an entry its block rejects. Writes and reads after it are not
 * stranded. */
Test(records_pending, break_glass_without_reason_with_entries_pending, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-btg-pending");
    char *obs = env_observation(e.patient_hex, "btg-pending");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    /* Node transactions pending ahead: the patient's own reads. */
    for (int i = 0; i < 3; i++) {
        struct rq p = env_req(&e, &e.patient, "GET", path, NULL, NULL);
        cr_assert_eq(p.status, 200, "%s", p.body);
        rq_free(&p);
    }
    struct rq_opt btg = {.headers = {"X-Purpose-Of-Use: BTG"}};
    struct rq r = env_req(&e, &e.doc, "GET", path, NULL, &btg);
    long status = r.status;
    char access_tx[65];
    snprintf(access_tx, sizeof access_tx, "%s", r.access_tx);
    rq_free(&r);
    /* A write (its anchor is node-signed) and another read right after. */
    char *obs2 = env_observation(e.patient_hex, "after-btg");
    char *id2 = env_create(&e, &e.doc, "Observation", obs2);
    free(obs2);
    struct rq after = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_expect_eq(after.status, 200, "%s", after.body);
    char after_tx[65];
    snprintf(after_tx, sizeof after_tx, "%s", after.access_tx);
    rq_free(&after);
    tu_commit(&e.t);
    tu_commit(&e.t);
    expect_logged_if_served(&e, status, access_tx, "break-glass read without a reason");
    expect_logged_if_served(&e, 200, after_tx, "the read after it");
    cr_expect_eq(env_log_count(&e, &e.patient.pk, &e.patient.pk, MC_OUTCOME_SUCCESS), 4,
                 "every served read of the patient is on the ledger");
    char path2[160];
    snprintf(path2, sizeof path2, "/fhir/Observation/%s", id2);
    struct rq w = env_req(&e, &e.patient, "GET", path2, NULL, NULL);
    cr_expect_eq(w.status, 200, "the record written after it was anchored: %ld %s", w.status, w.body);
    rq_free(&w);
    free(id);
    free(id2);
    env_stop(&e);
}
