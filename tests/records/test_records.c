/* Records end to end through the HTTP API of an in-process node: the
 * role-by-action matrix (each refusal logged), signature attacks, invalid
 * FHIR, altered ciphertext, erasure, break-glass and its review. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hex.h"

#include "app/records.h"
#include "app/txtypes.h"
#include "blob/blob.h"
#include "node/verify.h"
#include "records_env.h"
#include "app/records_payload.h"

static long get_status(struct env *e, const struct mc_keypair *kp, const char *path,
                       const struct rq_opt *opt) {
    struct rq r = env_req(e, kp, "GET", path, NULL, opt);
    long s = r.status;
    if (s != 200) {
        cr_assert_not_null(r.json, "error bodies are JSON: %s", r.body);
        cr_assert_str_eq(json_string_value(json_object_get(r.json, "resourceType")), "OperationOutcome",
                         "%ld %s", s, r.body);
    }
    rq_free(&r);
    return s;
}

Test(records, role_matrix_every_refusal_logged, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-matrix");
    char *obs = env_observation(e.patient_hex, "matrix-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);

    struct cell {
        const char *who;
        const struct mc_keypair *kp;
        long want;
    };
    /* Before any grant. */
    struct cell before[] = {
        {"patient", &e.patient, 200},         {"author", &e.doc, 200},
        {"ungranted clinician", &e.doc2, 403}, {"researcher", &e.researcher, 403},
        {"auditor", &e.auditor, 403},          {"stranger", &e.stranger, 401},
        {"other patient", &e.patient2, 403},
    };
    size_t refused = 0;
    for (size_t i = 0; i < sizeof before / sizeof before[0]; i++) {
        long s = get_status(&e, before[i].kp, path, NULL);
        cr_expect_eq(s, before[i].want, "%s: got %ld, want %ld", before[i].who, s, before[i].want);
        if (s != 200) refused++;
    }
    tu_commit(&e.t);
    /* Every refusal is on the patient's log: members' refusals each as an
     * entry, the stranger's (a key the ledger does not know) counted in a
     * refusal summary of the patient. */
    cr_assert_eq(env_log_count(&e, &e.patient.pk, NULL, MC_OUTCOME_REFUSED), refused - 1);
    cr_assert_eq(env_log_count(&e, &e.patient.pk, NULL, MC_OUTCOME_SUCCESS), 2);
    cr_assert_eq(env_log_count(&e, &e.patient.pk, &e.stranger.pk, MC_OUTCOME_REFUSED), 0);
    cr_assert_eq(env_refusal_summaries(&e, &e.patient.pk, NULL), 1, "the stranger's refusal is counted");

    /* A member grant for results: the second clinician reads; revoked at
     * the next height, refused again. */
    uint8_t gp[128];
    size_t gl = env_grant_payload(gp, MC_GRANTEE_MEMBER, &e.doc2.pk, 0, MC_CAT_RESULTS, 0);
    size_t len;
    uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_RECORD_GRANT, &e.patient, ++e.patient_nonce, gp, gl);
    mc_hash grant_id = tu_submit_ok(&e.t, tx, len);
    free(tx);
    tu_commit(&e.t);
    cr_assert_eq(get_status(&e, &e.doc2, path, NULL), 200, "granted clinician");
    cr_assert_eq(get_status(&e, &e.researcher, path, NULL), 403, "researcher without a grant");
    env_tx(&e, &e.patient, &e.patient_nonce, MC_TX_RECORD_REVOKE, grant_id.b, 32);
    cr_assert_eq(get_status(&e, &e.doc2, path, NULL), 200, "revocation pending: still allowed");
    tu_commit(&e.t);
    cr_assert_eq(get_status(&e, &e.doc2, path, NULL), 403, "revoked grantee");

    /* A grant for another category does not cover results. */
    gl = env_grant_payload(gp, MC_GRANTEE_MEMBER, &e.doc2.pk, 0, MC_CAT_DOCUMENTS, 0);
    env_tx(&e, &e.patient, &e.patient_nonce, MC_TX_RECORD_GRANT, gp, gl);
    tu_commit(&e.t);
    cr_assert_eq(get_status(&e, &e.doc2, path, NULL), 403, "category not granted");

    /* An organisation grant covers its clinicians, not its researchers. */
    gl = env_grant_payload(gp, MC_GRANTEE_ORG, NULL, 1, MC_CAT_ALL, 0);
    env_tx(&e, &e.patient, &e.patient_nonce, MC_TX_RECORD_GRANT, gp, gl);
    tu_commit(&e.t);
    cr_assert_eq(get_status(&e, &e.doc2, path, NULL), 200, "org grant, clinician");
    cr_assert_eq(get_status(&e, &e.researcher, path, NULL), 403, "org grant, researcher");

    /* A member grant to the researcher that expires: allowed, then (after
     * block time passes the expiry) refused. */
    struct mc_node_status st;
    mc_node_status(e.t.node, &st);
    gl = env_grant_payload(gp, MC_GRANTEE_MEMBER, &e.researcher.pk, 0, MC_CAT_ALL, st.latest_time_ms + 400);
    env_tx(&e, &e.patient, &e.patient_nonce, MC_TX_RECORD_GRANT, gp, gl);
    tu_commit(&e.t);
    cr_assert_eq(get_status(&e, &e.researcher, path, NULL), 200, "researcher within expiry");
    usleep(500 * 1000);
    tu_commit(&e.t); /* the access entry commits in a block past the expiry */
    cr_assert_eq(get_status(&e, &e.researcher, path, NULL), 403, "expired grantee");
    tu_commit(&e.t);
    cr_assert_geq(env_log_count(&e, &e.patient.pk, &e.researcher.pk, MC_OUTCOME_REFUSED), 3);

    /* The patient and auditors see the access log as AuditEvents; others not. */
    char apath[160];
    snprintf(apath, sizeof apath, "/fhir/AuditEvent?patient=%s", e.patient_hex);
    struct rq r = env_req(&e, &e.auditor, "GET", apath, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *entries = json_object_get(r.json, "entry");
    cr_assert_gt(json_array_size(entries), 10);
    json_t *ev = json_object_get(json_array_get(entries, 0), "resource");
    cr_assert_str_eq(json_string_value(json_object_get(ev, "resourceType")), "AuditEvent");
    cr_assert_not_null(json_object_get(ev, "recorded"));
    cr_assert_not_null(json_object_get(ev, "agent"));
    cr_assert_not_null(json_object_get(ev, "source"));
    cr_assert(json_is_string(json_object_get(ev, "outcome")));
    rq_free(&r);
    cr_assert_eq(get_status(&e, &e.patient, apath, NULL), 200);
    cr_assert_eq(get_status(&e, &e.doc2, apath, NULL), 403);
    free(id);
    env_stop(&e);
}

Test(records, signature_attacks_refused_and_logged, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-sig");
    char *obs = env_observation(e.patient_hex, "sig-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    /* forged: signed by the stranger, claiming to be the patient */
    struct rq_opt forged = {.keyid_of = &e.patient};
    cr_assert_eq(get_status(&e, &e.stranger, path, &forged), 401, "forged");
    /* replayed: the same nonce twice, within the window */
    struct rq_opt once = {.nonce = "fixed-nonce-0001"};
    cr_assert_eq(get_status(&e, &e.patient, path, &once), 200);
    cr_assert_eq(get_status(&e, &e.patient, path, &once), 401, "replayed");
    /* stale and future */
    struct rq_opt stale = {.created_offset_s = -3600}, future = {.created_offset_s = 3600};
    cr_assert_eq(get_status(&e, &e.patient, path, &stale), 401, "stale");
    cr_assert_eq(get_status(&e, &e.patient, path, &future), 401, "future");
    /* unsigned */
    struct rq_opt none = {.unsigned_request = true};
    cr_assert_eq(get_status(&e, &e.patient, path, &none), 401, "unsigned");
    /* a purpose header that the signature does not cover */
    /* body altered after signing (a write) */
    char *obs2 = env_observation(e.patient_hex, "altered-body");
    struct rq_opt altered = {.sign_body = obs};
    struct rq r = env_req(&e, &e.doc, "POST", "/fhir/Observation", obs2, &altered);
    cr_assert_eq(r.status, 401, "body altered: %s", r.body);
    rq_free(&r);
    /* wrong key: the clinician signs but claims the second clinician */
    struct rq_opt wrong = {.keyid_of = &e.doc2};
    r = env_req(&e, &e.doc, "POST", "/fhir/Observation", obs2, &wrong);
    cr_assert_eq(r.status, 401, "wrong key: %s", r.body);
    rq_free(&r);
    tu_commit(&e.t);
    /* Every refusal is on the log as a security failure. None has a known
     * signer behind it (a forgery, a replay, stale or future signatures,
     * no signature, an altered body, a claimed key), so none is a ledger
     * entry of its own: they are counted in refusal summaries, those of the
     * patient for the reads, those of nobody for the writes (their patient
     * is not known before the request is trusted). */
    cr_assert_eq(env_log_count(&e, &e.patient.pk, &e.patient.pk, MC_OUTCOME_SECURITY), 0);
    cr_assert_eq(env_log_count(&e, &e.patient.pk, &e.patient.pk, MC_OUTCOME_SUCCESS), 1);
    size_t entries = 0;
    cr_assert_eq(env_refusal_summaries(&e, &e.patient.pk, &entries), 5,
                 "forged, replayed, stale, future and unsigned reads counted");
    cr_assert_leq(entries, 2, "five refusals in a moment make at most two summary entries");
    mc_pubkey zero = {{0}};
    cr_assert_geq(env_refusal_summaries(&e, &zero, NULL), 2, "refused writes, patient unknown");
    /* A transaction resubmitted verbatim changes state once only. */
    uint8_t gp[128];
    size_t gl = env_grant_payload(gp, MC_GRANTEE_MEMBER, &e.doc2.pk, 0, MC_CAT_ALL, 0);
    size_t len;
    uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_RECORD_GRANT, &e.patient, ++e.patient_nonce, gp, gl);
    tu_submit_ok(&e.t, tx, len);
    mc_hash dummy;
    cr_assert_eq(mc_node_submit(e.t.node, tx, len, &dummy), MC_ERR_EXISTS);
    tu_commit(&e.t);
    cr_assert_eq(mc_node_submit(e.t.node, tx, len, &dummy), MC_ERR_EXISTS);
    free(tx);
    free(obs);
    free(obs2);
    free(id);
    env_stop(&e);
}

static uint64_t count_blobs(struct env *e) {
    uint64_t live, purged;
    cr_assert_eq(mc_blob_count(mc_node_blobs(e->t.node), &live, &purged), 0);
    return live;
}

Test(records, invalid_fhir_writes_nothing, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-invalid");
    uint64_t h = tu_height(&e.t);
    uint64_t blobs = count_blobs(&e);
    struct {
        const char *body;
        long want;
    } cases[] = {
        {"{\"resourceType\":\"Observation\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/%s\"}}", 422},
        {"{\"resourceType\":\"Observation\",\"status\":\"done\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/%s\"}}", 422},
        {"{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/%s00\"}}", 422},
        {"{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}%s", 422},
        {"{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/%s\"}}", 400},
        {"{\"resourceType\":\"Observation\",\"status\":\"final\" %s", 400},
        {"[1,2,3]%s", 422},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, cases[i].body, i == 3 || i == 5 || i == 6 ? "" : e.patient_hex);
        struct rq r = env_req(&e, &e.doc, "POST", "/fhir/Observation", body, NULL);
        cr_expect_eq(r.status, cases[i].want, "case %zu: %ld %s", i, r.status, r.body);
        cr_assert_str_eq(json_string_value(json_object_get(r.json, "resourceType")), "OperationOutcome");
        json_t *issue = json_array_get(json_object_get(r.json, "issue"), 0);
        cr_assert_not_null(json_object_get(issue, "severity"));
        cr_assert_not_null(json_object_get(issue, "code"));
        rq_free(&r);
    }
    /* Wrong patient: a valid Observation about the other patient's key is
     * fine, but one about a non-patient account is refused. */
    char body[1024];
    char hx[65];
    mc_hex_encode(hx, e.doc2.pk.b, 32);
    snprintf(body, sizeof body, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/%s\"}}", hx);
    struct rq r = env_req(&e, &e.doc, "POST", "/fhir/Observation", body, NULL);
    cr_assert_eq(r.status, 422, "%s", r.body);
    rq_free(&r);
    /* Nothing was written: no blob, no pending transaction, same height. */
    cr_assert_eq(count_blobs(&e), blobs);
    struct mc_node_status st;
    mc_node_status(e.t.node, &st);
    cr_assert_eq(st.mempool_size, 1, "only the refused (non-patient) write's access entry is pending");
    tu_commit(&e.t);
    cr_assert_eq(tu_height(&e.t), h + 1);
    env_stop(&e);
}

struct tamper {
    mc_hash ct;
};
static int q_ct(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct tamper *t = ctx;
    (void)t;
    return 0;
}

Test(records, altered_ciphertext_detected, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-tamper");
    char *obs = env_observation(e.patient_hex, "tamper-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    cr_assert_eq(get_status(&e, &e.patient, path, NULL), 200);
    (void)q_ct;
    /* Flip a byte of the stored ciphertext (on disk, or in the bucket). */
    tu_blob_corrupt(&e.t);
    struct rq r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 500, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "altered"), "%s", r.body);
    cr_assert_null(strstr(r.body, "tamper-marker"));
    rq_free(&r);
    tu_commit(&e.t);
    cr_assert_eq(env_log_count(&e, &e.patient.pk, &e.patient.pk, MC_OUTCOME_SECURITY), 1);
    free(obs);
    free(id);
    env_stop(&e);
}

Test(records, erasure_gone_log_intact_chain_verifies, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-erase");
    char *obs = env_observation(e.patient_hex, "erase-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    cr_assert_eq(get_status(&e, &e.patient, path, NULL), 200);
    /* amend: version 2, history stays readable */
    char *obs2 = env_observation(e.patient_hex, "erase-marker-v2");
    json_t *j = json_loads(obs2, 0, NULL);
    json_object_set_new(j, "id", json_string(id));
    char *obs2s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    struct rq r = env_req(&e, &e.doc, "PUT", path, obs2s, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    tu_commit(&e.t);
    char vpath[200];
    snprintf(vpath, sizeof vpath, "%s/_history/1", path);
    r = env_req(&e, &e.patient, "GET", vpath, NULL, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"erase-marker\""));
    rq_free(&r);
    r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_not_null(strstr(r.body, "erase-marker-v2"));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "meta"), "versionId")), "2");
    rq_free(&r);
    tu_commit(&e.t);
    size_t logged = env_log_count(&e, &e.patient.pk, NULL, MC_OUTCOME_SUCCESS);
    cr_assert_eq(count_blobs(&e), 2);
    /* Only the patient erases. */
    struct mc_records_payload *erase = calloc(1, sizeof *erase);
    cr_assert_not_null(erase);
    erase->type = MC_TX_RECORD_ERASE;
    erase->count = 1;
    snprintf(erase->erase_ids[0], sizeof erase->erase_ids[0], "%s", id);
    struct mc_buf p;
    mc_buf_init(&p, 0);
    cr_assert_eq(mc_records_payload_encode(&p, erase), 0);
    free(erase);
    size_t len;
    uint64_t dn = 2;
    uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_RECORD_ERASE, &e.doc, ++dn, p.data, p.len);
    mc_hash txid;
    cr_assert_eq(mc_node_submit(e.t.node, tx, len, &txid), MC_ERR_FORBIDDEN);
    free(tx);
    env_tx(&e, &e.patient, &e.patient_nonce, MC_TX_RECORD_ERASE, p.data, p.len);
    mc_buf_deinit(&p);
    tu_commit(&e.t);
    cr_assert_eq(count_blobs(&e), 0, "ciphertext purged");
    cr_assert_eq(get_status(&e, &e.patient, path, NULL), 410);
    cr_assert_eq(get_status(&e, &e.doc, vpath, NULL), 410);
    tu_commit(&e.t);
    cr_assert_eq(env_log_count(&e, &e.patient.pk, NULL, MC_OUTCOME_SUCCESS), logged, "log intact");
    cr_assert_eq(env_log_count(&e, &e.patient.pk, NULL, MC_OUTCOME_REFUSED), 2);
    /* Neither the marker nor the ciphertext is left in the node's files. */
    char *out = NULL;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -rac 'erase-marker' %s | grep -v ':0$' || true", e.t.home);
    FILE *f = popen(cmd, "r");
    char line[256] = "";
    cr_assert_null(fgets(line, sizeof line, f), "plaintext found: %s", line);
    pclose(f);
    (void)out;
    /* The chain still verifies by re-execution. */
    env_stop(&e);
    struct mc_store *store;
    char *db = tu_path(e.t.home, "data/chain.db");
    cr_assert_eq(mc_store_open(&store, db, true), 0);
    struct mc_genesis g;
    char *gp = tu_path(e.t.home, "genesis.json");
    cr_assert_eq(mc_node_genesis_load(&g, gp), 0);
    struct mc_verify_report rep;
    cr_assert_eq(mc_verify_chain(store, &g, &rep), 0);
    cr_assert_eq(rep.ok, 1, "verify: %s %s", rep.object, rep.detail);
    mc_store_close(store);
    free(db);
    free(gp);
    free(obs);
    free(obs2);
    free(obs2s);
    free(id);
}

Test(records, break_glass_flagged_and_reviewed, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-btg");
    char *obs = env_observation(e.patient_hex, "btg-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    cr_assert_eq(get_status(&e, &e.doc2, path, NULL), 403);
    struct rq_opt btg = {.headers = {"X-Break-Glass-Reason: unconscious in ER, allergy check"}};
    struct rq r = env_req(&e, &e.doc2, "GET", path, NULL, &btg);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char access[65];
    snprintf(access, sizeof access, "%s", r.access_tx);
    rq_free(&r);
    /* researchers cannot break the glass */
    r = env_req(&e, &e.researcher, "GET", path, NULL, &btg);
    cr_assert_eq(r.status, 403);
    rq_free(&r);
    tu_commit(&e.t);
    r = env_req(&e, &e.auditor, "GET", "/v1/breakglass", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *list = json_object_get(r.json, "break_glass");
    cr_assert_eq(json_array_size(list), 1);
    cr_assert(json_is_true(json_object_get(json_array_get(list, 0), "open")));
    rq_free(&r);
    /* The patient sees it (BTG purpose) in the log. */
    char apath[200];
    snprintf(apath, sizeof apath, "/fhir/AuditEvent?patient=%s", e.patient_hex);
    r = env_req(&e, &e.patient, "GET", apath, NULL, NULL);
    cr_assert_not_null(strstr(r.body, "\"BTG\""));
    rq_free(&r);
    /* The auditor closes it. */
    struct mc_records_payload *review = calloc(1, sizeof *review);
    cr_assert_not_null(review);
    review->type = MC_TX_RECORD_REVIEW;
    cr_assert_eq(mc_hex_decode(review->ref.b, 32, access), 0);
    snprintf(review->reason, sizeof review->reason, "justified: patient was unconscious");
    struct mc_buf p;
    mc_buf_init(&p, 0);
    cr_assert_eq(mc_records_payload_encode(&p, review), 0);
    free(review);
    env_tx(&e, &e.auditor, &e.auditor_nonce, MC_TX_RECORD_REVIEW, p.data, p.len);
    mc_buf_deinit(&p);
    tu_commit(&e.t);
    r = env_req(&e, &e.auditor, "GET", "/v1/breakglass", NULL, NULL);
    cr_assert(json_is_false(json_object_get(json_array_get(json_object_get(r.json, "break_glass"), 0), "open")));
    rq_free(&r);
    free(obs);
    free(id);
    env_stop(&e);
}

Test(records, capability_statement_matches_routes, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-cap");
    struct rq r = env_req(&e, &e.stranger, "GET", "/fhir/metadata", NULL, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "resourceType")), "CapabilityStatement");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "fhirVersion")), "4.0.1");
    json_t *rest = json_array_get(json_object_get(r.json, "rest"), 0);
    json_t *res = json_object_get(rest, "resource");
    /* R4 cpb-14: an instance's statement has its implementation. */
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "kind")), "instance");
    cr_assert(json_is_string(json_object_get(json_object_get(r.json, "implementation"), "url")));
    /* Every search parameter listed is accepted under strict handling
     * (each with a patient, and for Patient with an _id), answering a
     * Bundle; a type not listed answers 404. */
    char *obs = env_observation(e.patient_hex, "cap-marker");
    free(env_create(&e, &e.doc, "Observation", obs));
    free(obs);
    tu_commit(&e.t);
    for (size_t i = 0; i < json_array_size(res); i++) {
        const char *type = json_string_value(json_object_get(json_array_get(res, i), "type"));
        json_t *params = json_object_get(json_array_get(res, i), "searchParam");
        bool searched = false;
        json_t *inter0 = json_object_get(json_array_get(res, i), "interaction");
        for (size_t k = 0; k < json_array_size(inter0); k++)
            searched |= !strcmp(json_string_value(json_object_get(json_array_get(inter0, k), "code")), "search-type");
        cr_assert(!searched || json_array_size(params) > 0, "%s lists no search parameter", type);
        cr_assert(searched || json_array_size(params) == 0, "%s lists parameters but no search", type);
        for (size_t k = 0; k < json_array_size(params); k++) {
            const char *name = json_string_value(json_object_get(json_array_get(params, k), "name"));
            const char *ptype = json_string_value(json_object_get(json_array_get(params, k), "type"));
            if (!strcmp(type, "Patient")) cr_expect(strcmp(name, "patient"), "R4 defines no Patient?patient");
            const char *value = !strcmp(ptype, "date") ? "ge2000-01-01"
                                : !strcmp(ptype, "reference") ? e.patient_hex
                                : !strcmp(name, "agent") ? e.patient_hex : "final";
            char path[400];
            if (!strcmp(type, "Patient"))
                snprintf(path, sizeof path, "/fhir/Patient?_id=%s&%s=%s", e.patient_hex, name, value);
            else if (!strcmp(name, "target"))
                snprintf(path, sizeof path, "/fhir/Provenance?target=Observation/nothing");
            else if (!strcmp(ptype, "reference"))
                snprintf(path, sizeof path, "/fhir/%s?%s=%s", type, name, value);
            else
                snprintf(path, sizeof path, "/fhir/%s?patient=%s&%s=%s", type, e.patient_hex, name, value);
            struct rq_opt strict = {.headers = {"Prefer: handling=strict"}};
            struct rq s = env_req(&e, &e.patient, "GET", path, NULL, &strict);
            cr_expect_eq(s.status, 200, "%s: %ld %s", path, s.status, s.body);
            cr_expect_str_eq(json_string_value(json_object_get(s.json, "resourceType")), "Bundle", "%s", path);
            rq_free(&s);
        }
        /* create where listed */
        json_t *inter = json_object_get(json_array_get(res, i), "interaction");
        bool create = false;
        for (size_t k = 0; k < json_array_size(inter); k++)
            create |= strcmp(json_string_value(json_object_get(json_array_get(inter, k), "code")), "create") == 0;
        uint16_t t = mc_records_type_from_name(type);
        /* Subscriptions are created too (routes_fhir_subscription.c) */
        bool sub = !strcmp(type, "Subscription");
        cr_expect_eq(create, (t != 0 && t != MC_FHIR_PROVENANCE) || sub, "%s create listed", type);
    }
    /* the record types, AuditEvent, Consent and Subscription */
    cr_assert_eq(json_array_size(res), MC_FHIR_TYPE_MAX + 3);
    rq_free(&r);
    r = env_req(&e, &e.patient, "GET", "/fhir/MedicationRequest?patient=00", NULL, NULL);
    cr_assert_eq(r.status, 404);
    rq_free(&r);
    env_stop(&e);
}
