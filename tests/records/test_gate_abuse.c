/* The gate of the private routes under abuse (api/gate.h): strangers cannot
 * write to the ledger or lock members out, a request signed for one node is
 * refused by another, every verified read is logged, the signature profile
 * is applied exactly as documented, and the review and consent listings are
 * logged like any read. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "app/records.h"
#include "base/limits.h"
#include "base/hex.h"
#include "node/node.h"
#include "records_env.h"

static uint64_t txs_committed(struct env *e) {
    struct mc_node_status st;
    mc_node_status(e->t.node, &st);
    return st.txs_committed;
}

static bool committed(struct env *e, const char *access_tx) {
    mc_hash id;
    if (strlen(access_tx) != 64 || mc_hex_decode(id.b, 32, access_tx)) return false;
    struct mc_tx_status st;
    return mc_node_tx_status(e->t.node, &id, &st, NULL) == 0 && st.state == MC_TX_COMMITTED;
}

/* Thousands of requests signed by a key the ledger does not know, and
 * unsigned ones: each is refused (401, or 429 once the address has run up
 * its allowance), none reaches the replay cache, and together they write at
 * most a few summary entries to the ledger instead of one each. The
 * patient's own read still succeeds. */
Test(gate_abuse, strangers_write_nothing_each_and_lock_no_one_out, .timeout = 120) {
    struct env e;
    env_start(&e, "gate-flood");
    char *obs = env_observation(e.patient_hex, "flood-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    uint64_t before = txs_committed(&e);
    int refused = 0, throttled = 0;
    for (int i = 0; i < 1500; i++) {
        struct rq_opt unsigned_opt = {.unsigned_request = true};
        struct rq r = env_req(&e, &e.stranger, "GET", path, NULL, i % 3 == 0 ? &unsigned_opt : NULL);
        cr_assert(r.status == 401 || r.status == 429, "stranger's request %d: %ld %s", i, r.status, r.body);
        refused += r.status == 401;
        throttled += r.status == 429;
        cr_assert_eq(r.access_tx[0], 0, "a stranger's refusal got a ledger entry of its own");
        rq_free(&r);
        if (i % 300 == 0) tu_commit(&e.t);
    }
    cr_assert_gt(throttled, 0, "the address was never throttled (%d refused)", refused);
    struct rq p = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(p.status, 200, "the patient is locked out: %ld %s", p.status, p.body);
    rq_free(&p);
    tu_commit(&e.t);
    tu_commit(&e.t);
    uint64_t written = txs_committed(&e) - before;
    /* the patient's read, and a handful of summaries (one per 10 s at most) */
    cr_assert_leq(written, 6, "1,500 refusals wrote %llu transactions", (unsigned long long)written);
    free(id);
    env_stop(&e);
}

/* A request signed for another node (its signed target URI names another
 * authority) is refused here: a captured request does not replay to a
 * second node. The same request addressed to this node is served. */
Test(gate_abuse, a_request_signed_for_another_node_is_refused, .timeout = 60) {
    struct env e;
    env_start(&e, "gate-host");
    char *obs = env_observation(e.patient_hex, "host-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[160], other[64], same[64];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    snprintf(other, sizeof other, "127.0.0.1:%u", (unsigned)(e.port == 65535 ? 1 : e.port + 1));
    snprintf(same, sizeof same, "localhost:%u", (unsigned)e.port);
    struct rq_opt to_other = {.host = other}, to_same = {.host = same};
    struct rq r = env_req(&e, &e.patient, "GET", path, NULL, &to_other);
    cr_assert_eq(r.status, 401, "%ld %s", r.status, r.body);
    cr_assert(strstr(r.body, "another node"), "%s", r.body);
    rq_free(&r);
    r = env_req(&e, &e.patient, "GET", path, NULL, &to_same);
    cr_assert_eq(r.status, 200, "addressed by a loopback name of this node: %ld %s", r.status, r.body);
    rq_free(&r);
    free(id);
    env_stop(&e);
}

/* A keyid in upper-case hex verifies at the gate, so its read must also be
 * logged: the access entry commits (the ledger compares the keyid's hex
 * case-insensitively too). */
Test(gate_abuse, an_upper_case_keyid_read_is_served_and_logged, .timeout = 60) {
    struct env e;
    env_start(&e, "gate-keyid");
    char *obs = env_observation(e.patient_hex, "keyid-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    size_t logged = env_log_count(&e, &e.patient.pk, &e.patient.pk, MC_OUTCOME_SUCCESS);
    struct rq_opt upper = {.keyid_upper = true};
    struct rq r = env_req(&e, &e.patient, "GET", path, NULL, &upper);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    char tx[65];
    snprintf(tx, sizeof tx, "%s", r.access_tx);
    rq_free(&r);
    tu_commit(&e.t);
    cr_assert(committed(&e, tx), "the read was served, its access entry %s is not on the chain", tx);
    cr_assert_eq(env_log_count(&e, &e.patient.pk, &e.patient.pk, MC_OUTCOME_SUCCESS), logged + 1);
    free(id);
    env_stop(&e);
}

/* The profile covers content-digest always, also for a GET (the digest of
 * the empty body), as docs/RECORDS.md says: a GET signed without it is
 * refused, even with an otherwise valid signature. */
Test(gate_abuse, a_get_signed_without_content_digest_is_refused, .timeout = 60) {
    struct env e;
    env_start(&e, "gate-digest");
    char *obs = env_observation(e.patient_hex, "digest-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    struct rq_opt no_digest = {.no_content_digest = true};
    struct rq r = env_req(&e, &e.patient, "GET", path, NULL, &no_digest);
    cr_assert_eq(r.status, 401, "%ld %s", r.status, r.body);
    cr_assert(strstr(r.body, "content-digest"), "%s", r.body);
    rq_free(&r);
    free(id);
    env_stop(&e);
}

/* The auditor's break-glass review list and a patient's research consents
 * name patients and records: each read of them is an access entry on the
 * ledger. A break-glass search records its justification. */
Test(gate_abuse, review_lists_consents_and_break_glass_searches_are_logged, .timeout = 60) {
    struct env e;
    env_start(&e, "gate-lists");
    char *obs = env_observation(e.patient_hex, "lists-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    /* Dr Bob has no grant: he searches the patient's records with break-glass. */
    char path[200];
    snprintf(path, sizeof path, "/fhir/Observation?patient=%s", e.patient_hex);
    struct rq_opt btg = {.headers = {"X-Purpose-Of-Use: BTG", "X-Break-Glass-Reason: unconscious in the emergency room"}};
    struct rq s = env_req(&e, &e.doc2, "GET", path, NULL, &btg);
    cr_assert_eq(s.status, 200, "%ld %s", s.status, s.body);
    rq_free(&s);
    tu_commit(&e.t);

    struct rq l = env_req(&e, &e.auditor, "GET", "/v1/breakglass", NULL, NULL);
    cr_assert_eq(l.status, 200, "%ld %s", l.status, l.body);
    cr_assert(strstr(l.body, "unconscious in the emergency room"), "the search's justification: %s", l.body);
    char tx[65];
    snprintf(tx, sizeof tx, "%s", l.access_tx);
    rq_free(&l);
    tu_commit(&e.t);
    cr_assert(committed(&e, tx), "the review list read is not logged (%s)", tx);

    struct rq nope = env_req(&e, &e.doc, "GET", "/v1/breakglass", NULL, NULL);
    cr_assert_eq(nope.status, 403, "%ld %s", nope.status, nope.body);
    snprintf(tx, sizeof tx, "%s", nope.access_tx);
    rq_free(&nope);
    tu_commit(&e.t);
    cr_assert(committed(&e, tx), "the refused review list read is not logged (%s)", tx);

    snprintf(path, sizeof path, "/v1/research/consents?patient=%s", e.patient_hex);
    struct rq c = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(c.status, 200, "%ld %s", c.status, c.body);
    snprintf(tx, sizeof tx, "%s", c.access_tx);
    rq_free(&c);
    tu_commit(&e.t);
    cr_assert(committed(&e, tx), "the consents read is not logged (%s)", tx);
    free(id);
    env_stop(&e);
}

/* One key, even one the ledger knows, holds at most
 * MC_HTTPSIG_REPLAY_PER_KEY entries of the replay cache in its window:
 * beyond, its own requests are refused (503), while another member's are
 * served as before. No key can exhaust the cache for others. */
Test(gate_abuse, one_key_cannot_exhaust_the_replay_cache, .timeout = 180) {
    struct env e;
    env_start(&e, "gate-replay");
    int served = 0, full = 0;
    for (int i = 0; i < MC_HTTPSIG_REPLAY_PER_KEY + 20; i++) {
        /* an unknown record: refused after the gate (404), logged */
        struct rq r = env_req(&e, &e.patient2, "GET", "/fhir/Observation/0123456789abcdef0123456789abcdef",
                              NULL, NULL);
        cr_assert(r.status == 404 || r.status == 503, "request %d: %ld %s", i, r.status, r.body);
        served += r.status == 404;
        full += r.status == 503;
        rq_free(&r);
        if (i % 256 == 0) tu_commit(&e.t);
    }
    cr_assert_eq(served, MC_HTTPSIG_REPLAY_PER_KEY, "the key's allowance");
    cr_assert_eq(full, 20);
    char *obs = env_observation(e.patient_hex, "replay-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    struct rq p = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(p.status, 200, "another key is served: %ld %s", p.status, p.body);
    rq_free(&p);
    free(id);
    env_stop(&e);
}
