/* Conditional references in transaction Bundles (R4 transaction rules):
 * "Practitioner?identifier=system|value" resolves to the one match in the
 * Bundle or among what the node holds for the patient; no match or several
 * fail the whole transaction with an OperationOutcome and write nothing;
 * a form not supported is refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records_env.h"

#define NPI "http://hl7.org/fhir/sid/us-npi"

static const char *practitioner(char *out, size_t n, const char *value) {
    snprintf(out, n,
             "{\"fullUrl\":\"urn:uuid:%s\",\"resource\":{\"resourceType\":\"Practitioner\",\"identifier\":"
             "[{\"system\":\"" NPI "\",\"value\":\"%s\"}],\"name\":[{\"family\":\"Doe\"}]},"
             "\"request\":{\"method\":\"POST\",\"url\":\"Practitioner\"}}",
             value, value);
    return out;
}

static const char *encounter(char *out, size_t n, const char *patient_hex, const char *ref) {
    snprintf(out, n,
             "{\"resource\":{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"},\"participant\":[{\"individual\":{\"reference\":\"%s\"}}]},"
             "\"request\":{\"method\":\"POST\",\"url\":\"Encounter\"}}",
             patient_hex, ref);
    return out;
}

static struct rq post(struct env *e, const char *a, const char *b, const char *c) {
    char body[4000], path[200];
    snprintf(body, sizeof body, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[%s%s%s%s%s]}", a,
             b ? "," : "", b ? b : "", c ? "," : "", c ? c : "");
    snprintf(path, sizeof path, "/fhir?patient=%s", e->patient_hex);
    return env_req(e, &e->doc, "POST", path, body, NULL);
}

/* The stored Encounter's participant reference, read back by the patient. */
static char *participant(struct env *e, const struct rq *r, size_t entry) {
    const char *loc = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(r->json, "entry"), entry), "response"), "location"));
    cr_assert_not_null(loc);
    char path[300];
    snprintf(path, sizeof path, "/fhir/%s", loc);
    struct rq g = env_req(e, &e->patient, "GET", path, NULL, NULL);
    cr_assert_eq(g.status, 200, "%s", g.body);
    const char *ref = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(g.json, "participant"), 0), "individual"), "reference"));
    char *out = strdup(ref ? ref : "");
    rq_free(&g);
    return out;
}

static void assert_refused(struct env *e, struct rq *r, long status, const char *code) {
    uint64_t h = tu_height(&e->t);
    cr_assert_eq(r->status, status, "%ld %s", r->status, r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "resourceType")), "OperationOutcome");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r->json, "issue"), 0), "code")),
                     code, "%s", r->body);
    rq_free(r);
    tu_commit(&e->t);
    cr_assert_eq(tu_height(&e->t), h, "nothing was written");
}

Test(fhir_conditional, resolved_in_the_bundle_and_among_stored_records, .timeout = 90) {
    struct env e;
    env_start(&e, "fhir-cond");
    char p1[600], enc[800];
    /* within the Bundle */
    struct rq r = post(&e, practitioner(p1, sizeof p1, "1111"),
                       encounter(enc, sizeof enc, e.patient_hex, "Practitioner?identifier=" NPI "|1111"), NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    tu_commit(&e.t);
    char want[200];
    const char *loc = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(r.json, "entry"), 0), "response"), "location"));
    snprintf(want, sizeof want, "%s", loc);
    *strstr(want, "/_history") = 0;
    char *got = participant(&e, &r, 1);
    cr_assert_str_eq(got, want);
    free(got);
    rq_free(&r);
    /* among the stored records: a later Bundle without the Practitioner,
     * the identifier with and without its system */
    const char *forms[] = {"Practitioner?identifier=" NPI "|1111", "Practitioner?identifier=1111",
                           "Practitioner?identifier=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Fus-npi%7C1111"};
    for (size_t i = 0; i < 3; i++) {
        r = post(&e, encounter(enc, sizeof enc, e.patient_hex, forms[i]), NULL, NULL);
        cr_assert_eq(r.status, 200, "%s: %s", forms[i], r.body);
        tu_commit(&e.t);
        got = participant(&e, &r, 0);
        cr_expect_str_eq(got, want, "%s", forms[i]);
        free(got);
        rq_free(&r);
    }
    /* by _id of the stored record */
    char byid[200];
    snprintf(byid, sizeof byid, "Practitioner?_id=%s", strchr(want, '/') + 1);
    r = post(&e, encounter(enc, sizeof enc, e.patient_hex, byid), NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    env_stop(&e);
}

Test(fhir_conditional, no_match_several_or_an_unsupported_form_fail_the_whole_bundle, .timeout = 90) {
    struct env e;
    env_start(&e, "fhir-cond-fail");
    char p1[600], p2[600], enc[800];
    struct rq r = post(&e, practitioner(p1, sizeof p1, "2222"),
                       encounter(enc, sizeof enc, e.patient_hex, "Practitioner?identifier=" NPI "|9999"), NULL);
    assert_refused(&e, &r, 412, "not-found");
    snprintf(p2, sizeof p2, "%s", practitioner(p1, sizeof p1, "3333"));
    char *dup = strdup(p2);
    /* two in the Bundle with the same identifier (different fullUrls) */
    char *u = strstr(dup, "urn:uuid:3333");
    memcpy(u, "urn:uuid:3334", 13);
    r = post(&e, p2, dup, encounter(enc, sizeof enc, e.patient_hex, "Practitioner?identifier=" NPI "|3333"));
    free(dup);
    assert_refused(&e, &r, 412, "multiple-matches");
    r = post(&e, encounter(enc, sizeof enc, e.patient_hex, "Practitioner?name=Doe"), NULL, NULL);
    assert_refused(&e, &r, 400, "not-supported");
    r = post(&e, encounter(enc, sizeof enc, e.patient_hex, "Device?identifier=x"), NULL, NULL);
    assert_refused(&e, &r, 412, "not-found");
    /* the records another patient holds are not hers */
    r = post(&e, practitioner(p1, sizeof p1, "4444"), NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    tu_commit(&e.t);
    char body[2000], path[200];
    snprintf(body, sizeof body, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[%s]}",
             encounter(enc, sizeof enc, e.patient2_hex, "Practitioner?identifier=" NPI "|4444"));
    snprintf(path, sizeof path, "/fhir?patient=%s", e.patient2_hex);
    r = env_req(&e, &e.doc, "POST", path, body, NULL);
    assert_refused(&e, &r, 412, "not-found");
    env_stop(&e);
}
