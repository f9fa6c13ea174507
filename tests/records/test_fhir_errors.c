/* Every error on a FHIR route is an OperationOutcome (Content-Type
 * application/fhir+json) whose issue code is from the R4 IssueType value
 * set and fits the status: the handlers' own refusals and the ones the
 * shared HTTP layer gives before any FHIR handler runs (404, 405, 413,
 * 414), and version conflicts of an update (412). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/records_payload.h"
#include "app/txtypes.h"
#include "base/codec.h"
#include "base/limits.h"
#include "records_env.h"

/* http://hl7.org/fhir/R4/valueset-issue-type.html */
static const char *const ISSUE_TYPES[] = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
    "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
    "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
    "exception", "timeout", "incomplete", "throttled", "informational", NULL};

static void assert_outcome(const char *what, struct rq *r, long status, const char *code) {
    cr_assert_eq(r->status, status, "%s: %ld %.300s", what, r->status, r->body);
    cr_assert_str_eq(r->content_type, "application/fhir+json", "%s: Content-Type %s", what, r->content_type);
    cr_assert_not_null(r->json, "%s: %s", what, r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "resourceType")), "OperationOutcome",
                     "%s: %s", what, r->body);
    json_t *issue = json_array_get(json_object_get(r->json, "issue"), 0);
    const char *got = json_string_value(json_object_get(issue, "code"));
    cr_assert_not_null(got, "%s: no issue code", what);
    bool known = false;
    for (size_t i = 0; ISSUE_TYPES[i]; i++) known = known || strcmp(ISSUE_TYPES[i], got) == 0;
    cr_assert(known, "%s: %s is not an R4 IssueType", what, got);
    cr_assert_str_eq(got, code, "%s", what);
    cr_assert_str_eq(json_string_value(json_object_get(issue, "severity")), "error");
    cr_assert(json_string_length(json_object_get(issue, "diagnostics")) > 0, "%s: no diagnostics", what);
    rq_free(r);
}

Test(fhir_errors, every_error_is_an_operation_outcome, .timeout = 90) {
    struct env e;
    env_start(&e, "fhir-errors");
    char *obs = env_observation(e.patient_hex, "errors-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    tu_commit(&e.t);
    char path[700];
    struct rq r;

    r = env_req(&e, &e.doc, "POST", "/fhir/Observation", "{\"resourceType\":", NULL);
    assert_outcome("400 body not JSON", &r, 400, "invalid");
    /* A parse error that quotes bytes which are not UTF-8 (found by
     * fuzz_api: the OperationOutcome could not be built and the answer had
     * no body) */
    r = env_req(&e, &e.doc, "POST", "/fhir/Patient", "{\"s\\u000\xc8\xb6" "1es4", NULL);
    assert_outcome("400 body not JSON, not UTF-8", &r, 400, "invalid");
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    struct rq_opt unsigned_req = {.unsigned_request = true};
    r = env_req(&e, &e.patient, "GET", path, NULL, &unsigned_req);
    assert_outcome("401 unsigned", &r, 401, "login");
    r = env_req(&e, &e.doc2, "GET", path, NULL, NULL);
    assert_outcome("403 no grant", &r, 403, "forbidden");
    r = env_req(&e, &e.patient, "GET", "/fhir/Observation/no-such-record", NULL, NULL);
    assert_outcome("404 no record", &r, 404, "not-found");
    r = env_req(&e, &e.patient, "GET", "/fhir/Medication/abc", NULL, NULL);
    assert_outcome("404 type not served", &r, 404, "not-found");
    r = env_req(&e, &e.patient, "GET", "/fhir/a/b/c/d/e/f/g", NULL, NULL);
    assert_outcome("404 from the router", &r, 404, "not-found");
    r = env_req(&e, &e.doc, "DELETE", path, NULL, NULL);
    assert_outcome("405 from the router", &r, 405, "not-supported");
    r = env_req(&e, &e.doc, "PATCH", "/fhir", NULL, NULL);
    assert_outcome("405 on /fhir", &r, 405, "not-supported");
    /* 413: a body over the route's bound, refused from its Content-Length */
    size_t big = MC_FHIR_RESOURCE_MAX + 100;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = 0;
    huge[0] = '{';
    huge[big - 1] = '}';
    r = env_req(&e, &e.doc, "POST", "/fhir/Observation", huge, NULL);
    free(huge);
    assert_outcome("413 body too large", &r, 413, "too-costly");
    /* 414: a path over MC_API_PATH_MAX */
    size_t o = (size_t)snprintf(path, sizeof path, "/fhir/Observation/");
    while (o < MC_API_PATH_MAX + 20 && o + 1 < sizeof path) path[o++] = 'x';
    path[o] = 0;
    r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    assert_outcome("414 path too long", &r, 414, "too-long");
    struct rq_opt text = {.content_type = "text/plain"};
    r = env_req(&e, &e.doc, "POST", "/fhir/Observation", obs, &text);
    assert_outcome("415 not FHIR JSON", &r, 415, "not-supported");
    r = env_req(&e, &e.doc, "POST", "/fhir/Observation",
                "{\"resourceType\":\"Observation\",\"code\":{\"text\":\"x\"}}", NULL);
    assert_outcome("422 invalid resource", &r, 422, "invalid");

    /* 412: an update over a version that is no longer current */
    char upd[1400];
    snprintf(upd, sizeof upd,
             "{\"resourceType\":\"Observation\",\"id\":\"%s\",\"status\":\"amended\",\"code\":{\"text\":\"x\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"}}", id, e.patient_hex);
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    struct rq_opt stale = {.headers = {"If-Match: W/\"7\""}};
    r = env_req(&e, &e.doc, "PUT", path, upd, &stale);
    assert_outcome("412 stale If-Match", &r, 412, "conflict");
    struct rq_opt current = {.headers = {"If-Match: W/\"1\""}};
    r = env_req(&e, &e.doc, "PUT", path, upd, &current);
    cr_assert_eq(r.status, 200, "the current version updates: %ld %s", r.status, r.body);
    cr_assert_str_eq(r.etag, "W/\"2\"");
    rq_free(&r);
    tu_commit(&e.t);
    r = env_req(&e, &e.doc, "PUT", path, upd, &current);
    assert_outcome("412 after the update", &r, 412, "conflict");

    /* 410: an erased record */
    struct mc_records_payload *erase = calloc(1, sizeof *erase);
    erase->type = MC_TX_RECORD_ERASE;
    erase->count = 1;
    snprintf(erase->erase_ids[0], sizeof erase->erase_ids[0], "%s", id);
    struct mc_buf p;
    mc_buf_init(&p, 0);
    cr_assert_eq(mc_records_payload_encode(&p, erase), 0);
    free(erase);
    env_tx(&e, &e.patient, &e.patient_nonce, MC_TX_RECORD_ERASE, p.data, p.len);
    mc_buf_deinit(&p);
    tu_commit(&e.t);
    r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    assert_outcome("410 erased", &r, 410, "deleted");
    free(obs);
    free(id);
    env_stop(&e);
}
