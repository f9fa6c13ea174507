/* Who hears of what (node/subscription.h), over an in-process node's
 * committed blocks and state: record events only for those who may read
 * the record (patient, author, grantee; not another clinician, not an
 * auditor, not a researcher), grant events for the patient, auditors and
 * the grantee (a clinician of a granted organisation, not its researcher),
 * the patient filter, a revoked subscriber hearing of nothing, and the
 * cursor moving through an anchor of many
 * records in bounded passes without skipping one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../records/records_env.h"
#include "app/txtypes.h"
#include "node/subscription.h"

struct q {
    struct mc_subscription *s;
    struct mc_sub_event ev[64];
    size_t n, max;
    struct mc_sub_cursor next;
    uint64_t pruned;
    uint64_t now;
};

static int q_next(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q *q = ctx;
    return mc_subscription_next(store, mc_app_state(app), q->s, q->now, q->ev, q->max, &q->n, &q->next, &q->pruned);
}

/* Every event the subscriber hears of from height 1 on, walking the
 * cursor in passes of at most max events. */
static size_t all_events(struct env *e, const mc_pubkey *who, uint8_t topics, const mc_pubkey *patient,
                         size_t max, struct mc_sub_event *out, size_t cap) {
    struct mc_subscription s;
    memset(&s, 0, sizeof s);
    s.owner = *who;
    s.topics = topics;
    s.status = MC_SUB_ACTIVE;
    s.payload = MC_SUB_ID_ONLY;
    s.next_height = 1;
    if (patient) s.has_patient = true, s.patient = *patient;
    size_t total = 0;
    for (int pass = 0; pass < 1000; pass++) {
        struct q q = {.s = &s, .max = max, .now = UINT64_MAX / 2};
        cr_assert_eq(mc_node_query(e->t.node, q_next, &q), 0);
        for (size_t i = 0; i < q.n; i++) {
            cr_assert_lt(total, cap);
            out[total++] = q.ev[i];
        }
        bool moved = q.next.height != s.next_height || q.next.tx != s.next_tx || q.next.entry != s.next_entry;
        s.next_height = q.next.height, s.next_tx = q.next.tx, s.next_entry = q.next.entry;
        if (!moved && q.n == 0) break;
    }
    return total;
}

static size_t count_kind(const struct mc_sub_event *ev, size_t n, uint8_t kind) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ev[i].kind == kind;
    return k;
}

Test(subscription_policy, who_hears_of_what, .timeout = 60) {
    struct env e;
    env_start(&e, "subpol");
    static struct mc_sub_event ev[256];
    char *obs = env_observation(e.patient_hex, "sub-marker-1");
    char *id1 = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    /* before any grant: the patient and the author, nobody else */
    size_t n = all_events(&e, &e.patient.pk, 3, NULL, 16, ev, 256);
    cr_assert_eq(count_kind(ev, n, MC_SUB_EV_RECORD_CREATED), 1);
    cr_assert_str_eq(ev[0].record_id, id1);
    cr_assert_eq(all_events(&e, &e.doc.pk, 3, NULL, 16, ev, 256), 1, "the author");
    cr_assert_eq(all_events(&e, &e.doc2.pk, 3, NULL, 16, ev, 256), 0, "another clinician");
    cr_assert_eq(all_events(&e, &e.auditor.pk, 1, NULL, 16, ev, 256), 0, "an auditor reads no records");
    cr_assert_eq(all_events(&e, &e.researcher.pk, 3, NULL, 16, ev, 256), 0, "a researcher");
    cr_assert_eq(all_events(&e, &e.patient2.pk, 3, NULL, 16, ev, 256), 0, "another patient");
    cr_assert_eq(all_events(&e, &e.stranger.pk, 3, NULL, 16, ev, 256), 0, "an unknown key");

    /* the patient grants organisation 1: its clinicians hear of the grant
     * and of the record; its researcher does not */
    uint8_t g[512];
    size_t gl = env_grant_payload(g, MC_GRANTEE_ORG, NULL, 1, MC_CAT_ALL, 0);
    env_tx(&e, &e.patient, &e.patient_nonce, MC_TX_RECORD_GRANT, g, gl);
    tu_commit(&e.t);
    n = all_events(&e, &e.doc2.pk, 3, NULL, 16, ev, 256);
    cr_assert_eq(count_kind(ev, n, MC_SUB_EV_GRANT), 1, "the organisation's clinician hears of the grant");
    cr_assert_eq(count_kind(ev, n, MC_SUB_EV_RECORD_CREATED), 1, "and may now read the record");
    n = all_events(&e, &e.auditor.pk, 2, NULL, 16, ev, 256);
    cr_assert_eq(count_kind(ev, n, MC_SUB_EV_GRANT), 1, "an auditor sees grants");
    cr_assert_eq(all_events(&e, &e.researcher.pk, 3, NULL, 16, ev, 256), 0, "a researcher of the organisation");
    cr_assert_eq(all_events(&e, &e.patient2.pk, 3, NULL, 16, ev, 256), 0, "another patient");
    /* topics and the patient filter */
    n = all_events(&e, &e.doc2.pk, MC_SUB_TOPIC_CONSENTS, NULL, 16, ev, 256);
    cr_assert_eq(n, 1);
    cr_assert_eq(ev[0].kind, MC_SUB_EV_GRANT);
    cr_assert_eq(all_events(&e, &e.doc2.pk, 3, &e.patient2.pk, 16, ev, 256), 0, "filtered to another patient");
    cr_assert_eq(all_events(&e, &e.doc2.pk, 3, &e.patient.pk, 16, ev, 256), 2);

    /* many records in one anchor (a transaction Bundle), walked 3 events
     * a pass: every one exactly once, in order */
    char bundle[16384];
    int off = snprintf(bundle, sizeof bundle, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
    for (int i = 0; i < 10; i++) {
        char *o = env_observation(e.patient_hex, "sub-bundle");
        off += snprintf(bundle + off, sizeof bundle - (size_t)off,
                        "%s{\"fullUrl\":\"urn:uuid:00000000-0000-4000-8000-%012d\",\"resource\":%s,"
                        "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}", i ? "," : "", i, o);
        free(o);
    }
    snprintf(bundle + off, sizeof bundle - (size_t)off, "]}");
    struct rq r = env_req(&e, &e.doc, "POST", "/fhir", bundle, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    tu_commit(&e.t);
    n = all_events(&e, &e.patient.pk, 1, NULL, 3, ev, 256);
    cr_assert_eq(n, 11, "%zu record events", n);
    for (size_t i = 2; i < n; i++) {
        cr_assert_eq(ev[i].entry, ev[i - 1].entry + 1, "entry %zu skipped or repeated", i);
        cr_assert(!memcmp(ev[i].tx_id.b, ev[1].tx_id.b, 32), "one anchor");
    }
    /* a subscriber whose account is revoked hears of nothing more, not
     * even of a grant naming her */
    gl = env_grant_payload(g, MC_GRANTEE_MEMBER, &e.doc2.pk, 0, MC_CAT_ALL, 0);
    env_tx(&e, &e.patient, &e.patient_nonce, MC_TX_RECORD_GRANT, g, gl);
    tu_commit(&e.t);
    cr_assert_eq(count_kind(ev, all_events(&e, &e.doc2.pk, 2, NULL, 16, ev, 256), MC_SUB_EV_GRANT), 2);
    uint8_t rp[256];
    size_t rpl = tu_revoke_payload(rp, &e.doc2.pk, "left the hospital");
    env_tx(&e, &e.t.admin, &e.admin_nonce, MC_TX_REVOKE_MEMBER, rp, rpl);
    tu_commit(&e.t);
    cr_assert_eq(all_events(&e, &e.doc2.pk, 3, NULL, 16, ev, 256), 0, "a revoked subscriber");
    free(id1);
    env_stop(&e);
}
