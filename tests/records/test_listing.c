/* One access entry per listing: a patient's portal visit is served the
 * ciphertexts of all her records by one GET /v1/records?content=1, logged
 * as one entry whose Merkle root names exactly the versions served, while a
 * clinician's read of one record stays an entry of its own. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "app/records_listing.h"
#include "base/hex.h"
#include "records_env.h"

#define N_RECORDS 30

struct find_entry {
    const char *reason;
    size_t n;
    struct mc_access_entry e;
};
static int find_row(void *ctx, const struct mc_access_entry *a) {
    struct find_entry *f = ctx;
    if (strcmp(a->reason, f->reason) == 0) {
        f->n++;
        f->e = *a;
    }
    return 0;
}
struct find_ctx {
    const mc_pubkey *patient;
    struct find_entry f;
};
static int q_find(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct find_ctx *c = ctx;
    return mc_records_scan_access(mc_app_state(app), c->patient, find_row, &c->f);
}

/* The served list of an answer, checked against its ciphertexts. */
static size_t served_of(json_t *sealed, struct mc_records_served *out) {
    size_t i;
    json_t *it;
    json_array_foreach(sealed, i, it) {
        out[i].id = json_string_value(json_object_get(it, "id"));
        out[i].version = (uint32_t)json_integer_value(json_object_get(it, "version"));
        cr_assert_eq(mc_hex_decode(out[i].ciphertext.b, 32, json_string_value(json_object_get(it, "ciphertext_hash"))), 0);
        const char *b64 = json_string_value(json_object_get(it, "ciphertext"));
        size_t cap = strlen(b64), n = 0;
        uint8_t *ct = malloc(cap);
        cr_assert_eq(sodium_base642bin(ct, cap, b64, cap, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
        uint8_t h[32];
        crypto_hash_sha256(h, ct, n);
        cr_assert_eq(memcmp(h, out[i].ciphertext.b, 32), 0, "the ciphertext hashes to its anchored hash");
        free(ct);
    }
    return i;
}

/* Opens one served record with the patient's key, as the portal does. */
static char *open_served(const struct mc_keypair *patient, json_t *body, json_t *item) {
    const char *id = json_string_value(json_object_get(item, "id"));
    uint32_t version = (uint32_t)json_integer_value(json_object_get(item, "version"));
    const char *batch = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(body, "records"), i, r) {
        if (strcmp(json_string_value(json_object_get(r, "id")), id)) continue;
        json_t *hist = json_object_get(r, "history");
        batch = json_string_value(json_object_get(json_array_get(hist, version - 1), "batch"));
    }
    cr_assert_not_null(batch);
    json_t *b = json_object_get(json_object_get(body, "batches"), batch);
    uint8_t sealed[MC_SEALED_KEY_BYTES], xpk[32], xsk[32], bk[32], dk[32];
    cr_assert_eq(mc_hex_decode(sealed, sizeof sealed, json_string_value(json_object_get(b, "sealed_patient"))), 0);
    cr_assert_eq(crypto_sign_ed25519_pk_to_curve25519(xpk, patient->pk.b), 0);
    cr_assert_eq(crypto_sign_ed25519_sk_to_curve25519(xsk, patient->sk), 0);
    cr_assert_eq(crypto_box_seal_open(bk, sealed, sizeof sealed, xpk, xsk), 0);
    mc_record_data_key(dk, bk, id, version);
    const char *b64 = json_string_value(json_object_get(item, "ciphertext"));
    size_t cap = strlen(b64), n = 0;
    uint8_t *ct = malloc(cap);
    cr_assert_eq(sodium_base642bin(ct, cap, b64, cap, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    uint8_t ad[69];
    size_t adn = mc_record_ad(ad, id, version);
    char *plain = calloc(1, n + 1);
    unsigned long long pn = 0;
    cr_assert_eq(crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)plain, &pn, NULL, ct + 24, n - 24, ad, adn,
                                                            ct, dk), 0);
    free(ct);
    return plain;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(records_listing, portal_visit_is_one_entry_naming_every_record, .timeout = 90) {
    struct env e;
    env_start(&e, "rec-listing");
    char *ids[N_RECORDS];
    for (int i = 0; i < N_RECORDS; i++) {
        char marker[32];
        snprintf(marker, sizeof marker, "listing-marker-%d", i);
        char *obs = env_observation(e.patient_hex, marker);
        ids[i] = env_create(&e, &e.doc, "Observation", obs);
        free(obs);
    }
    tu_commit(&e.t);
    size_t before = env_log_count(&e, &e.patient.pk, &e.patient.pk, MC_OUTCOME_SUCCESS);

    char path[200];
    snprintf(path, sizeof path, "/v1/records?patient=%s&content=1", e.patient_hex);
    struct rq r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *sealed = json_object_get(r.json, "sealed");
    cr_assert_eq(json_array_size(sealed), N_RECORDS, "every record served in the one answer");
    cr_assert_eq(json_array_size(json_object_get(r.json, "unavailable")), 0);
    cr_assert_null(json_object_get(r.json, "next_after"));
    tu_commit(&e.t);

    /* one entry for the whole visit */
    size_t after = env_log_count(&e, &e.patient.pk, &e.patient.pk, MC_OUTCOME_SUCCESS);
    cr_assert_eq(after, before + 1, "one portal visit writes one entry (%zu -> %zu)", before, after);

    /* the entry names exactly what was served */
    const char *reason = json_string_value(json_object_get(r.json, "listing_reason"));
    struct find_ctx fc = {.patient = &e.patient.pk, .f = {.reason = reason}};
    cr_assert_eq(mc_node_query(e.t.node, q_find, &fc), 0);
    cr_assert_eq(fc.f.n, 1, "the entry on the ledger carries the answer's reason: %s", reason);
    cr_assert_eq(fc.f.e.action, MC_ACTION_SEARCH);
    char txhex[65];
    mc_hex_encode(txhex, fc.f.e.tx_id.b, 32);
    cr_assert_str_eq(txhex, r.access_tx);
    size_t served = 0, total = 0;
    mc_hash root, again;
    cr_assert_eq(mc_records_listing_parse(fc.f.e.reason, &served, &total, &root), 0);
    cr_assert_eq(served, N_RECORDS);
    cr_assert_eq(total, N_RECORDS);
    struct mc_records_served list[N_RECORDS];
    cr_assert_eq(served_of(sealed, list), N_RECORDS);
    mc_records_listing_root(&again, list, N_RECORDS);
    cr_assert_eq(memcmp(root.b, again.b, 32), 0, "the served list recomputes the logged root");

    /* the auditor's check can fail: one record less, or another version */
    mc_records_listing_root(&again, list, N_RECORDS - 1);
    cr_assert_neq(memcmp(root.b, again.b, 32), 0, "a record left out changes the root");
    list[3].version = 2;
    mc_records_listing_root(&again, list, N_RECORDS);
    cr_assert_neq(memcmp(root.b, again.b, 32), 0, "another version changes the root");
    list[3].version = 1;
    struct mc_records_served swap = list[0];
    list[0] = list[1];
    list[1] = swap;
    mc_records_listing_root(&again, list, N_RECORDS);
    cr_assert_neq(memcmp(root.b, again.b, 32), 0, "another order changes the root");

    /* what is served opens with the patient's key */
    char *plain = open_served(&e.patient, r.json, json_array_get(sealed, 0));
    cr_assert_not_null(strstr(plain, "listing-marker-"), "%s", plain);
    free(plain);
    rq_free(&r);

    /* a page: after=<id> serves the rest, one entry of its own */
    char *sorted[N_RECORDS];
    memcpy(sorted, ids, sizeof sorted);
    qsort(sorted, N_RECORDS, sizeof *sorted, cmp_str);
    snprintf(path, sizeof path, "/v1/records?patient=%s&content=1&after=%s", e.patient_hex, sorted[9]);
    r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "sealed")), N_RECORDS - 10);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "sealed"), 0), "id")),
                     sorted[10]);
    cr_assert_eq(mc_records_listing_parse(json_string_value(json_object_get(r.json, "listing_reason")), &served,
                                          &total, &root), 0);
    cr_assert_eq(served, N_RECORDS - 10);
    rq_free(&r);

    /* a clinician's read of one record is one entry of its own */
    tu_commit(&e.t);
    size_t doc_before = env_log_count(&e, &e.patient.pk, &e.doc.pk, MC_OUTCOME_SUCCESS);
    snprintf(path, sizeof path, "/fhir/Observation/%s", ids[0]);
    r = env_req(&e, &e.doc, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    tu_commit(&e.t);
    cr_assert_eq(env_log_count(&e, &e.patient.pk, &e.doc.pk, MC_OUTCOME_SUCCESS), doc_before + 1);

    for (int i = 0; i < N_RECORDS; i++) free(ids[i]);
    env_stop(&e);
}

Test(records_listing, only_the_patient_and_bad_input_refused_and_logged, .timeout = 60) {
    struct env e;
    env_start(&e, "rec-listing-refused");
    char *obs = env_observation(e.patient_hex, "refused-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[200];
    snprintf(path, sizeof path, "/v1/records?patient=%s&content=1", e.patient_hex);
    struct { const struct mc_keypair *kp; long want; } cells[] = {
        {&e.auditor, 403}, {&e.doc, 403}, {&e.patient2, 403}};
    for (size_t i = 0; i < 3; i++) {
        size_t was = env_log_count(&e, &e.patient.pk, &cells[i].kp->pk, MC_OUTCOME_REFUSED);
        struct rq r = env_req(&e, cells[i].kp, "GET", path, NULL, NULL);
        cr_assert_eq(r.status, cells[i].want, "%zu: %ld %s", i, r.status, r.body);
        cr_assert_not_null(json_object_get(r.json, "error"));
        cr_assert_null(strstr(r.body, "ciphertext\""), "nothing served on a refusal");
        rq_free(&r);
        tu_commit(&e.t);
        cr_assert_eq(env_log_count(&e, &e.patient.pk, &cells[i].kp->pk, MC_OUTCOME_REFUSED), was + 1,
                     "the refusal is logged");
    }
    /* the auditor still sees the metadata (no content) */
    snprintf(path, sizeof path, "/v1/records?patient=%s", e.patient_hex);
    struct rq r = env_req(&e, &e.auditor, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(json_object_get(r.json, "sealed"));
    rq_free(&r);
    const char *bad[] = {"content=2", "content=1&after=../x", "content=yes"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/v1/records?patient=%s&%s", e.patient_hex, bad[i]);
        r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
        cr_assert_eq(r.status, 400, "%s: %ld %s", bad[i], r.status, r.body);
        cr_assert_str_eq(json_string_value(json_object_get(r.json, "error")), "malformed");
        rq_free(&r);
    }
    free(id);
    env_stop(&e);
}

Test(records_listing, reason_round_trips_and_rejects_lookalikes) {
    mc_hash root, back;
    for (int i = 0; i < 32; i++) root.b[i] = (uint8_t)(i * 7);
    char why[MC_RECORDS_LISTING_REASON_MAX];
    mc_records_listing_reason(why, 12, 40, &root);
    size_t s = 0, t = 0;
    cr_assert_eq(mc_records_listing_parse(why, &s, &t, &back), 0, "%s", why);
    cr_assert_eq(s, 12);
    cr_assert_eq(t, 40);
    cr_assert_eq(memcmp(root.b, back.b, 32), 0);
    const char *bad[] = {"record list read", "listing: 3 of 2 records served; root " /* served > total */
                         "0000000000000000000000000000000000000000000000000000000000000000",
                         "listing: 01 of 2 records served; root "
                         "0000000000000000000000000000000000000000000000000000000000000000",
                         "listing: 1 of 2 records served; root 00",
                         "listing: 1 of 2 records served; root "
                         "000000000000000000000000000000000000000000000000000000000000000G",
                         NULL};
    for (int i = 0; bad[i]; i++) cr_assert_neq(mc_records_listing_parse(bad[i], &s, &t, &back), 0, "%s", bad[i]);
    /* the empty listing has the empty tree's root (SHA-256 of nothing) */
    mc_records_listing_root(&back, NULL, 0);
    uint8_t empty[32];
    crypto_hash_sha256(empty, NULL, 0);
    cr_assert_eq(memcmp(back.b, empty, 32), 0);
}
