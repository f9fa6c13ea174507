/* An organisation's record numbers (api/routes_mrn.c): filed by its
 * clinicians for registered patients, found by its members only, kept on
 * the node and never on the ledger, one number per patient and one patient
 * per number, lookups bounded, every refusal a JSON error. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/identity.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "chain/local.h"
#include "records_env.h"

static const struct rq_opt anon = {.unsigned_request = true};

static char *body_for(const char *hex) {
    char *b = malloc(100);
    snprintf(b, 100, "{\"patient\":\"%s\"}", hex);
    return b;
}

static void expect_error(struct rq *r, long status, const char *what) {
    cr_assert_eq(r->status, status, "%s: %ld %s", what, r->status, r->body);
    cr_assert(json_is_string(json_object_get(r->json, "error")), "%s: a JSON error: %s", what, r->body);
    cr_assert(json_is_string(json_object_get(r->json, "message")), "%s: %s", what, r->body);
    rq_free(r);
}

/* Rows in the chain's own tables (blocks, txs, state, meta) holding the
 * bytes, and in the node-local table. */
static void count_plaintext(struct env *e, const char *text, int *chain, int *local) {
    char *db = tu_path(e->t.home, "data/chain.db");
    sqlite3 *s;
    cr_assert_eq(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    free(db);
    const char *sql[] = {"SELECT count(*) FROM txs WHERE instr(bytes, ?1) > 0",
                         "SELECT count(*) FROM state WHERE instr(value, ?1) > 0 OR instr(key, ?1) > 0",
                         "SELECT count(*) FROM blocks WHERE instr(header, ?1) > 0",
                         "SELECT count(*) FROM meta WHERE instr(value, ?1) > 0",
                         "SELECT count(*) FROM node_local WHERE instr(key, ?1) > 0"};
    *chain = *local = 0;
    for (int i = 0; i < 5; i++) {
        sqlite3_stmt *st;
        cr_assert_eq(sqlite3_prepare_v2(s, sql[i], -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(s));
        sqlite3_bind_blob(st, 1, text, (int)strlen(text), SQLITE_STATIC);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        *(i < 4 ? chain : local) += sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(s);
}

Test(mrn, filed_found_private_bounded, .timeout = 90) {
    struct env e;
    env_start(&e, "mrn");
    uint64_t h0 = tu_height(&e.t);
    char *b = body_for(e.patient_hex);

    /* who may file: a clinician or admin of a provider organisation */
    struct rq r = env_req(&e, &e.stranger, "PUT", "/v1/mrn/SM-4711", b, NULL);
    expect_error(&r, 401, "an unknown key");
    r = env_req(&e, &e.doc, "PUT", "/v1/mrn/SM-4711", b, &anon);
    expect_error(&r, 401, "unsigned");
    r = env_req(&e, &e.patient, "PUT", "/v1/mrn/SM-4711", b, NULL);
    expect_error(&r, 403, "a patient");
    r = env_req(&e, &e.auditor, "PUT", "/v1/mrn/SM-4711", b, NULL);
    expect_error(&r, 403, "an auditor does not file numbers");
    const char *bad_mrn[] = {"/v1/mrn/SM%204711", "/v1/mrn/%C3%A9", "/v1/mrn/AAAAAAAAAABBBBBBBBBBCCCCCCCCCCDDD", "/v1/mrn/a%27b",
                             NULL};
    for (int i = 0; bad_mrn[i]; i++) {
        r = env_req(&e, &e.doc, "PUT", bad_mrn[i], b, NULL);
        expect_error(&r, 400, bad_mrn[i]);
    }
    const char *bad_body[] = {"", "{}", "[]", "{\"patient\":\"00\"}", NULL};
    for (int i = 0; bad_body[i]; i++) {
        r = env_req(&e, &e.doc, "PUT", "/v1/mrn/SM-4711", bad_body[i], NULL);
        expect_error(&r, 400, bad_body[i]);
    }
    char doc_hex[65];
    mc_hex_encode(doc_hex, e.doc.pk.b, 32);
    char *not_patient = body_for(doc_hex);
    r = env_req(&e, &e.doc, "PUT", "/v1/mrn/SM-4711", not_patient, NULL);
    expect_error(&r, 404, "a member's key is no patient");
    free(not_patient);

    r = env_req(&e, &e.doc, "PUT", "/v1/mrn/sm-4711", b, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "mrn")), "SM-4711", "kept in upper case");
    rq_free(&r);
    /* another patient cannot take her number */
    char *b2 = body_for(e.patient2_hex);
    r = env_req(&e, &e.doc2, "PUT", "/v1/mrn/SM-4711", b2, NULL);
    expect_error(&r, 409, "a number names one patient");

    /* any active member of the organisation finds her, in any case */
    const struct mc_keypair *members[] = {&e.doc, &e.doc2, &e.auditor, &e.researcher};
    for (int i = 0; i < 4; i++) {
        r = env_req(&e, members[i], "GET", "/v1/mrn/Sm-4711", NULL, NULL);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cr_assert_str_eq(json_string_value(json_object_get(r.json, "patient")), e.patient_hex);
        rq_free(&r);
    }
    char path[200];
    snprintf(path, sizeof path, "/v1/mrn?patient=%s", e.patient_hex);
    r = env_req(&e, &e.doc2, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "mrn")), "SM-4711");
    rq_free(&r);
    snprintf(path, sizeof path, "/v1/mrn?patient=%s", e.patient2_hex);
    r = env_req(&e, &e.doc2, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(json_is_null(json_object_get(r.json, "mrn")), "none filed: %s", r.body);
    rq_free(&r);
    /* nobody else: unsigned, unknown keys, patients */
    r = env_req(&e, &e.stranger, "GET", "/v1/mrn/SM-4711", NULL, &anon);
    expect_error(&r, 401, "unsigned lookup");
    r = env_req(&e, &e.stranger, "GET", "/v1/mrn/SM-4711", NULL, NULL);
    expect_error(&r, 401, "unknown key");
    r = env_req(&e, &e.patient, "GET", "/v1/mrn/SM-4711", NULL, NULL);
    expect_error(&r, 403, "the patient herself");
    r = env_req(&e, &e.doc, "GET", "/v1/mrn/SM-9999", NULL, NULL);
    expect_error(&r, 404, "an unknown number");

    /* a new number replaces her old one */
    r = env_req(&e, &e.doc, "PUT", "/v1/mrn/SM-4712", b, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    r = env_req(&e, &e.doc, "GET", "/v1/mrn/SM-4711", NULL, NULL);
    expect_error(&r, 404, "the old number is gone");
    r = env_req(&e, &e.doc2, "PUT", "/v1/mrn/SM-4711", b2, NULL);
    cr_assert_eq(r.status, 200, "the freed number may name another patient: %s", r.body);
    rq_free(&r);

    /* the index is the organisation's own: a row of organisation 2 with
     * the same number is not what organisation 1 finds */
    uint8_t key2[4 + 7] = {0, 0, 0, 2};
    memcpy(key2 + 4, "SM-4712", 7);
    uint8_t owner2[36] = {0, 0, 0, 2};
    memcpy(owner2 + 4, e.patient2.pk.b, 32);
    uint8_t val2[1 + 64 + 8] = {1};
    memcpy(val2 + 1, e.patient2.pk.b, 32);
    const struct mc_local_row other = {.space = "mrn", .key = key2, .key_len = sizeof key2, .owner = owner2,
                                       .owner_len = 36, .value = val2, .value_len = sizeof val2};
    cr_assert_eq(mc_local_insert(mc_node_local(e.t.node), &other, 1, NULL), 0);
    r = env_req(&e, &e.doc, "GET", "/v1/mrn/SM-4712", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "patient")), e.patient_hex, "organisation 1's own row");
    rq_free(&r);

    /* nothing went on the ledger: no transaction, no plaintext */
    cr_assert_eq(tu_height(&e.t), h0, "filing numbers writes no block");
    int chain = 0, local = 0;
    count_plaintext(&e, "SM-4712", &chain, &local);
    cr_assert_eq(chain, 0, "the number is in none of the chain's tables");
    cr_assert_eq(local, 2, "it is in the node's own table (the check finds it there)");

    /* kept across a restart */
    env_restart(&e);
    r = env_req(&e, &e.doc, "GET", "/v1/mrn/SM-4712", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);

    /* a revoked member is refused */
    uint8_t rp[256];
    size_t rpl = tu_revoke_payload(rp, &e.researcher.pk, "left");
    size_t len;
    uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_REVOKE_MEMBER, &e.t.admin, ++e.admin_nonce, rp, rpl);
    tu_submit_ok(&e.t, tx, len);
    free(tx);
    tu_commit(&e.t);
    r = env_req(&e, &e.researcher, "GET", "/v1/mrn/SM-4712", NULL, NULL);
    expect_error(&r, 403, "a revoked member");

    /* bounded: MC_MRN_LOOKUPS_PER_MIN a minute per member (Dr Bob has used
     * three), then a clear refusal; others are not affected */
    int ok = 3;
    time_t w0 = time(NULL) / 60;
    for (; ok < 2 * MC_MRN_LOOKUPS_PER_MIN + 5; ok++) {
        r = env_req(&e, &e.doc2, "GET", "/v1/mrn/SM-4712", NULL, NULL);
        long st = r.status;
        if (st == 429) {
            cr_assert_not_null(strstr(json_string_value(json_object_get(r.json, "message")), "a minute"), "%s", r.body);
            rq_free(&r);
            break;
        }
        cr_assert_eq(st, 200, "%s", r.body);
        rq_free(&r);
    }
    cr_assert(ok < 2 * MC_MRN_LOOKUPS_PER_MIN + 5, "refused at last");
    /* exactly at the bound, unless a minute began during the loop */
    if (time(NULL) / 60 == w0) cr_assert_eq(ok, MC_MRN_LOOKUPS_PER_MIN, "refused after %d lookups", ok);
    else cr_assert_geq(ok, MC_MRN_LOOKUPS_PER_MIN);
    r = env_req(&e, &e.doc, "GET", "/v1/mrn/SM-4712", NULL, NULL);
    cr_assert_eq(r.status, 200, "another member still looks up: %s", r.body);
    rq_free(&r);
    free(b);
    free(b2);
    env_stop(&e);
}
