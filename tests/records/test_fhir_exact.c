/* FHIR decimals keep their digits (R4: a decimal's precision is part of its
 * value): a resource with 0.1, 1.50, 0.010, 1e2, 123456789.123456789, -0.0
 * and a 26-digit integer reads back digit for digit through create, read,
 * vread, search, update, a transaction Bundle and Patient/$everything. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_exact.h"
#include "records_env.h"

static const char *const NUMS[] = {"0.1", "1.50", "0.010", "1e2", "123456789.123456789", "-0.0",
                                   "12345678901234567890123456", "6.02E-23"};
#define NNUMS (sizeof NUMS / sizeof NUMS[0])

static char *observation(const char *patient_hex, const char *id_field) {
    char comps[1024] = "";
    size_t o = 0;
    for (size_t i = 0; i < NNUMS; i++)
        o += (size_t)snprintf(comps + o, sizeof comps - o,
                              "%s{\"code\":{\"text\":\"c%zu\"},\"valueQuantity\":{\"value\":%s,\"unit\":\"mg\"}}",
                              i ? "," : "", i, NUMS[i]);
    char *s = malloc(4096);
    snprintf(s, 4096,
             "{\"resourceType\":\"Observation\",%s\"status\":\"final\",\"code\":{\"text\":\"panel\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"},\"valueQuantity\":{\"value\":140.52},"
             "\"component\":[%s]}",
             id_field, patient_hex, comps);
    return s;
}

/* Every number of the submitted resource appears in the answer as written. */
static void assert_digits(const char *what, const struct rq *r) {
    cr_assert_not_null(r->body, "%s: no body", what);
    char want[200];
    snprintf(want, sizeof want, "\"value\":140.52}");
    cr_assert(strstr(r->body, want), "%s: 140.52 altered: %.400s", what, r->body);
    for (size_t i = 0; i < NNUMS; i++) {
        snprintf(want, sizeof want, "\"valueQuantity\":{\"value\":%s,\"unit\":\"mg\"}", NUMS[i]);
        cr_assert(strstr(r->body, want), "%s: %s came back altered: %.600s", what, NUMS[i], r->body);
    }
    /* and the answer is JSON a client parses */
    json_t *v = mc_json_exact_load(r->body, r->len, NULL);
    cr_assert_not_null(v, "%s: the answer is not JSON", what);
    json_decref(v);
}

Test(fhir_exact, decimals_read_back_digit_for_digit, .timeout = 90) {
    struct env e;
    env_start(&e, "fhir-exact");
    char *obs = observation(e.patient_hex, "");
    struct rq r = env_req(&e, &e.doc, "POST", "/fhir/Observation", obs, NULL);
    cr_assert_eq(r.status, 201, "%ld %s", r.status, r.body);
    assert_digits("create", &r);
    /* (jansson's own parser refuses the 26-digit integer) */
    cr_assert_null(r.json);
    json_t *created = mc_json_exact_load(r.body, r.len, NULL);
    char id[80];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(created, "id")));
    json_decref(created);
    rq_free(&r);
    free(obs);
    tu_commit(&e.t);
    char path[256];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    assert_digits("read", &r);
    rq_free(&r);
    snprintf(path, sizeof path, "/fhir/Observation/%s/_history/1", id);
    r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    assert_digits("vread", &r);
    rq_free(&r);
    /* an update keeps them too */
    char idf[120];
    snprintf(idf, sizeof idf, "\"id\":\"%s\",", id);
    obs = observation(e.patient_hex, idf);
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    r = env_req(&e, &e.doc, "PUT", path, obs, NULL);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    rq_free(&r);
    free(obs);
    tu_commit(&e.t);
    snprintf(path, sizeof path, "/fhir/Observation/%s/_history/2", id);
    r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    assert_digits("vread of the update", &r);
    rq_free(&r);
    /* a transaction Bundle */
    obs = observation(e.patient_hex, "");
    size_t bn = strlen(obs) + 256;
    char *bundle = malloc(bn);
    snprintf(bundle, bn,
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":"
             "\"urn:uuid:5b8f8a2e-1d1c-4e2a-9f3e-0c6f1e2d3a4b\",\"resource\":%s,\"request\":"
             "{\"method\":\"POST\",\"url\":\"Observation\"}}]}",
             obs);
    free(obs);
    snprintf(path, sizeof path, "/fhir?patient=%s", e.patient_hex);
    r = env_req(&e, &e.doc, "POST", path, bundle, NULL);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    rq_free(&r);
    free(bundle);
    tu_commit(&e.t);
    /* search and export hold both records, each with every digit */
    snprintf(path, sizeof path, "/fhir/Observation?patient=%s", e.patient_hex);
    r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    assert_digits("search", &r);
    json_t *found = mc_json_exact_load(r.body, r.len, NULL);
    cr_assert_str_eq(mc_json_exact_number(json_object_get(found, "total")), "2");
    json_decref(found);
    rq_free(&r);
    snprintf(path, sizeof path, "/fhir/Patient/%s/$everything", e.patient_hex);
    r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    assert_digits("export", &r);
    rq_free(&r);
    env_stop(&e);
}

/* A body whose string holds U+0000 (which could pass for a kept number) and
 * a malformed number are refused with an OperationOutcome, nothing stored. */
Test(fhir_exact, nul_strings_and_bad_numbers_are_refused, .timeout = 60) {
    struct env e;
    env_start(&e, "fhir-exact-bad");
    char body[512];
    snprintf(body, sizeof body,
             "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"\\u00001\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"}}", e.patient_hex);
    struct rq r = env_req(&e, &e.doc, "POST", "/fhir/Observation", body, NULL);
    cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "resourceType")), "OperationOutcome");
    rq_free(&r);
    snprintf(body, sizeof body,
             "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"},\"valueQuantity\":{\"value\":01.5}}", e.patient_hex);
    r = env_req(&e, &e.doc, "POST", "/fhir/Observation", body, NULL);
    cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
    rq_free(&r);
    /* a number where a code must be is no code */
    snprintf(body, sizeof body,
             "{\"resourceType\":\"Observation\",\"status\":1,\"code\":{\"text\":\"x\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"}}", e.patient_hex);
    r = env_req(&e, &e.doc, "POST", "/fhir/Observation", body, NULL);
    cr_assert_eq(r.status, 422, "%ld %s", r.status, r.body);
    cr_assert(strstr(r.body, "must be a code"), "%s", r.body);
    rq_free(&r);
    env_stop(&e);
}
