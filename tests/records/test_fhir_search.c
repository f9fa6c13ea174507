/* FHIR R4 search of the records: one test per parameter, each also with a
 * value that must match nothing; strict handling; paging that walks every
 * page and loses nothing; the self link stating exactly what was applied;
 * _include, _summary, _sort, instance history; one Patient identity on
 * every route (AuditEvent and Consent name the imported Patient); and
 * search only over what the requester may read, logged like a read. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "app/txtypes.h"
#include "records_env.h"

#define LOINC "http://loinc.org"
#define CAT "http://terminology.hl7.org/CodeSystem/observation-category"

struct fixture {
    struct env e;
    char patient_id[80]; /* the Patient record */
    char obs[5][80];
};

static char *create(struct env *e, const char *type, const char *json) {
    return env_create(e, &e->doc, type, json);
}

static void obs(struct fixture *f, int i, const char *system, const char *code, const char *cat,
                const char *status, const char *date) {
    char body[1200];
    snprintf(body, sizeof body,
             "{\"resourceType\":\"Observation\",\"status\":\"%s\",\"category\":[{\"coding\":[{\"system\":\"" CAT
             "\",\"code\":\"%s\"}]}],\"code\":{\"coding\":[{\"system\":\"%s\",\"code\":\"%s\"}]},"
             "\"subject\":{\"reference\":\"Patient/%s\"},\"effectiveDateTime\":\"%s\","
             "\"valueQuantity\":{\"value\":%d.0}}",
             status, cat, system, code, f->patient_id, date, 60 + i);
    char *id = create(&f->e, "Observation", body);
    snprintf(f->obs[i], sizeof f->obs[i], "%s", id);
    free(id);
}

static void setup(struct fixture *f, const char *tag) {
    env_start(&f->e, tag);
    char body[600];
    snprintf(body, sizeof body,
             "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Search\",\"given\":[\"Sam\"]}],"
             "\"birthDate\":\"1970-01-01\"}");
    char path[200];
    snprintf(path, sizeof path, "/fhir/Patient?patient=%s", f->e.patient_hex);
    struct rq r = env_req(&f->e, &f->e.doc, "POST", path, body, NULL);
    cr_assert_eq(r.status, 201, "%ld %s", r.status, r.body);
    snprintf(f->patient_id, sizeof f->patient_id, "%s", json_string_value(json_object_get(r.json, "id")));
    rq_free(&r);
    tu_commit(&f->e.t);
    obs(f, 0, LOINC, "8867-4", "vital-signs", "final", "2020-01-15T10:00:00Z");
    obs(f, 1, LOINC, "8867-4", "vital-signs", "amended", "2021-06-01");
    obs(f, 2, LOINC, "2339-0", "laboratory", "final", "2022-03-03T08:00:00-05:00");
    obs(f, 3, "http://snomed.info/sct", "271649006", "vital-signs", "final", "2022-07-01T00:00:00Z");
    obs(f, 4, LOINC, "2339-0", "laboratory", "preliminary", "2023-12-31");
    tu_commit(&f->e.t);
}

/* A signed search by the patient; asserts 200 and a searchset. */
static struct rq search(struct fixture *f, const char *query) {
    char path[1200];
    snprintf(path, sizeof path, "/fhir/Observation?%s", query);
    struct rq r = env_req(&f->e, &f->e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s: %ld %s", query, r.status, r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "type")), "searchset");
    return r;
}

static long total(struct fixture *f, const char *fmt, const char *a) {
    char q[1000];
    snprintf(q, sizeof q, fmt, f->e.patient_hex, a ? a : "");
    struct rq r = search(f, q);
    long n = (long)json_integer_value(json_object_get(r.json, "total"));
    rq_free(&r);
    return n;
}

#define T(expect, fmt, a) cr_expect_eq(total(&f, fmt, a), expect, "%s %s", fmt, (const char *)(a))

Test(fhir_search, patient_and_subject_in_every_reference_form, .timeout = 90) {
    struct fixture f;
    setup(&f, "fhir-search-patient");
    char q[600];
    const char *forms[] = {"patient=%s", "patient=Patient/%s", "subject=Patient/%s", "subject=%s"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(q, sizeof q, forms[i], f.e.patient_hex);
        struct rq r = search(&f, q);
        cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 5, "%s", q);
        rq_free(&r);
        snprintf(q, sizeof q, forms[i], f.patient_id);
        r = search(&f, q);
        cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 5, "%s", q);
        rq_free(&r);
    }
    snprintf(q, sizeof q, "patient=http://127.0.0.1:%u/fhir/Patient/%s", (unsigned)f.e.port, f.patient_id);
    struct rq r = search(&f, q);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 5);
    /* every fullUrl is absolute */
    const char *full = json_string_value(json_object_get(json_array_get(json_object_get(r.json, "entry"), 0), "fullUrl"));
    char want[120];
    snprintf(want, sizeof want, "http://127.0.0.1:%u/fhir/Observation/", (unsigned)f.e.port);
    cr_expect(full && strncmp(full, want, strlen(want)) == 0, "fullUrl %s", full);
    rq_free(&r);
    /* a reference to no patient matches nothing; a reference to another
     * type is refused */
    r = search(&f, "patient=Patient/no-such-patient");
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 0);
    rq_free(&r);
    r = env_req(&f.e, &f.e.patient, "GET", "/fhir/Observation?patient=Practitioner/123", NULL, NULL);
    cr_expect_eq(r.status, 400);
    rq_free(&r);
    env_stop(&f.e);
}

Test(fhir_search, each_parameter_and_a_value_matching_nothing, .timeout = 90) {
    struct fixture f;
    setup(&f, "fhir-search-params");
    char q[200];
    /* _id */
    T(1, "patient=%s&_id=%s", f.obs[2]);
    snprintf(q, sizeof q, "%s,%s", f.obs[0], f.obs[4]);
    T(2, "patient=%s&_id=%s", q);
    T(0, "patient=%s&_id=%s", "nothing-here");
    /* code: system|code, code alone, system| */
    T(2, "patient=%s&code=%s", LOINC "|8867-4");
    T(2, "patient=%s&code=%s", "8867-4");
    T(4, "patient=%s&code=%s", LOINC "|");
    T(3, "patient=%s&code=%s", "8867-4,271649006");
    T(0, "patient=%s&code=%s", "http://snomed.info/sct|8867-4");
    T(0, "patient=%s&code=%s", "0000-0");
    /* category */
    T(3, "patient=%s&category=%s", CAT "|vital-signs");
    T(2, "patient=%s&category=%s", "laboratory");
    T(0, "patient=%s&category=%s", "imaging");
    /* status */
    T(3, "patient=%s&status=%s", "final");
    T(2, "patient=%s&status=%s", "amended,preliminary");
    T(0, "patient=%s&status=%s", "cancelled");
    /* date with prefixes (a dateTime with an offset is compared in UTC) */
    T(1, "patient=%s&date=%s", "2020");
    T(1, "patient=%s&date=%s", "2021-06");
    T(3, "patient=%s&date=%s", "ge2022");
    T(2, "patient=%s&date=%s", "lt2022");
    T(1, "patient=%s&date=%s", "ge2021&date=lt2022");
    T(1, "patient=%s&date=%s", "2022-03-03T13:00:00Z");
    T(1, "patient=%s&date=%s", "eb2020-01-16");
    T(1, "patient=%s&date=%s", "sa2022-12-31");
    T(4, "patient=%s&date=%s", "ne2021-06-01");
    T(5, "patient=%s&date=%s", "gt1999");
    T(0, "patient=%s&date=%s", "1999");
    /* _lastUpdated */
    T(5, "patient=%s&_lastUpdated=%s", "ge2000-01-01");
    T(0, "patient=%s&_lastUpdated=%s", "lt2000-01-01");
    /* a malformed value is a 400 OperationOutcome */
    char path[300];
    snprintf(path, sizeof path, "/fhir/Observation?patient=%s&date=2020-13", f.e.patient_hex);
    struct rq r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "resourceType")), "OperationOutcome");
    rq_free(&r);
    /* _summary=count */
    snprintf(q, sizeof q, "patient=%s&_summary=count", f.e.patient_hex);
    r = search(&f, q);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 5);
    cr_expect_eq(json_array_size(json_object_get(r.json, "entry")), 0);
    rq_free(&r);
    /* _sort by date, both ways, and by _id */
    snprintf(q, sizeof q, "patient=%s&_sort=-date", f.e.patient_hex);
    r = search(&f, q);
    json_t *en = json_object_get(r.json, "entry");
    cr_assert_eq(json_array_size(en), 5);
    for (int i = 0; i < 5; i++)
        cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(en, (size_t)i), "resource"), "id")),
                         f.obs[4 - i], "-date position %d", i);
    rq_free(&r);
    snprintf(q, sizeof q, "patient=%s&_sort=date", f.e.patient_hex);
    r = search(&f, q);
    en = json_object_get(r.json, "entry");
    for (int i = 0; i < 5; i++)
        cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(en, (size_t)i), "resource"), "id")),
                         f.obs[i], "date position %d", i);
    rq_free(&r);
    snprintf(q, sizeof q, "patient=%s&_sort=_id", f.e.patient_hex);
    r = search(&f, q);
    en = json_object_get(r.json, "entry");
    for (size_t i = 1; i < json_array_size(en); i++)
        cr_expect_lt(strcmp(json_string_value(json_object_get(json_object_get(json_array_get(en, i - 1), "resource"), "id")),
                            json_string_value(json_object_get(json_object_get(json_array_get(en, i), "resource"), "id"))),
                     0);
    rq_free(&r);
    /* _include of the Patient: one include entry, total counts matches only */
    snprintf(q, sizeof q, "patient=%s&code=" LOINC "|2339-0&_include=Observation:patient", f.e.patient_hex);
    r = search(&f, q);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 2);
    en = json_object_get(r.json, "entry");
    cr_assert_eq(json_array_size(en), 3);
    json_t *inc = json_array_get(en, 2);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(inc, "search"), "mode")), "include");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(inc, "resource"), "id")), f.patient_id);
    rq_free(&r);
    /* Patient search by _id */
    snprintf(path, sizeof path, "/fhir/Patient?_id=%s", f.patient_id);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 1);
    rq_free(&r);
    /* ... and by her account key as identifier, and Patient.identifier */
    snprintf(path, sizeof path, "/fhir/Patient?identifier=urn:medchain:account%%7C%s", f.e.patient_hex);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 1);
    rq_free(&r);
    snprintf(path, sizeof path, "/fhir/Patient?identifier=urn:medchain:account%%7C%s&identifier=urn:oid:1%%7C2",
             f.e.patient_hex);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 0, "no Patient.identifier urn:oid:1|2");
    rq_free(&r);
    r = env_req(&f.e, &f.e.patient, "GET", "/fhir/Patient?_id=nobody-at-all", NULL, NULL);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 0);
    rq_free(&r);
    env_stop(&f.e);
}

/* The self link's query, after "?" (the base is checked elsewhere). */
static const char *link_query(const json_t *bundle, const char *relation) {
    json_t *links = json_object_get(bundle, "link");
    for (size_t i = 0; i < json_array_size(links); i++) {
        json_t *l = json_array_get(links, i);
        if (!strcmp(json_string_value(json_object_get(l, "relation")), relation)) {
            const char *u = json_string_value(json_object_get(l, "url"));
            const char *q = strchr(u, '?');
            return q ? q + 1 : "";
        }
    }
    return NULL;
}

Test(fhir_search, strict_handling_and_an_exact_self_link, .timeout = 90) {
    struct fixture f;
    setup(&f, "fhir-search-strict");
    char path[400], want[400];
    snprintf(path, sizeof path, "/fhir/Observation?patient=%s&flavour=vanilla&code=8867-4&code:text=x",
             f.e.patient_hex);
    struct rq_opt strict = {.headers = {"Prefer: handling=strict"}};
    struct rq r = env_req(&f.e, &f.e.patient, "GET", path, NULL, &strict);
    cr_expect_eq(r.status, 400, "%s", r.body);
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "resourceType")), "OperationOutcome");
    cr_expect(strstr(r.body, "flavour"), "%s", r.body);
    rq_free(&r);
    /* lenient: the unknown ones are ignored and absent from the self link */
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 2, "code applied, the rest ignored");
    snprintf(want, sizeof want, "patient=%s&code=8867-4", f.e.patient_hex);
    cr_expect_str_eq(link_query(r.json, "self"), want);
    rq_free(&r);
    /* the audit views too */
    snprintf(path, sizeof path, "/fhir/AuditEvent?patient=%s&flavour=vanilla", f.e.patient_hex);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, &strict);
    cr_expect_eq(r.status, 400, "%s", r.body);
    rq_free(&r);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_expect_eq(r.status, 200, "%s", r.body);
    snprintf(want, sizeof want, "patient=%s", f.e.patient_hex);
    cr_expect_str_eq(link_query(r.json, "self"), want);
    rq_free(&r);
    /* a parameter another type defines but this one does not */
    snprintf(path, sizeof path, "/fhir/Immunization?patient=%s&code=x", f.e.patient_hex);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, &strict);
    cr_expect_eq(r.status, 400, "%s", r.body);
    rq_free(&r);
    env_stop(&f.e);
}

Test(fhir_search, paging_walks_every_page_and_loses_nothing, .timeout = 90) {
    struct fixture f;
    setup(&f, "fhir-search-paging");
    char path[1200];
    snprintf(path, sizeof path, "/fhir/Observation?patient=%s&_count=2&_sort=date", f.e.patient_hex);
    json_t *seen = json_object();
    size_t pages = 0, got = 0;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "http://127.0.0.1:%u", (unsigned)f.e.port);
    while (pages < 10) {
        struct rq r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
        cr_assert_eq(r.status, 200, "%s: %s", path, r.body);
        pages++;
        cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 5);
        json_t *en = json_object_get(r.json, "entry");
        cr_expect_leq(json_array_size(en), 2);
        for (size_t i = 0; i < json_array_size(en); i++) {
            const char *id = json_string_value(json_object_get(json_object_get(json_array_get(en, i), "resource"), "id"));
            cr_expect_null(json_object_get(seen, id), "%s served twice", id);
            json_object_set_new(seen, id, json_true());
            got++;
        }
        if (pages == 2) cr_expect_not_null(link_query(r.json, "previous"), "page 2 links back");
        const char *next = link_query(r.json, "next");
        if (!next) {
            rq_free(&r);
            break;
        }
        snprintf(path, sizeof path, "/fhir/Observation?%s", next);
        rq_free(&r);
    }
    cr_expect_eq(pages, 3);
    cr_expect_eq(got, 5);
    for (int i = 0; i < 5; i++) cr_expect_not_null(json_object_get(seen, f.obs[i]), "%s lost", f.obs[i]);
    json_decref(seen);
    env_stop(&f.e);
}

Test(fhir_search, only_what_the_requester_may_read_and_logged, .timeout = 90) {
    struct fixture f;
    setup(&f, "fhir-search-policy");
    char path[300];
    snprintf(path, sizeof path, "/fhir/Observation?patient=%s&status=final", f.e.patient_hex);
    size_t before = env_log_count(&f.e, &f.e.patient.pk, &f.e.doc2.pk, MC_OUTCOME_REFUSED);
    struct rq r = env_req(&f.e, &f.e.doc2, "GET", path, NULL, NULL);
    cr_expect_eq(r.status, 403, "%s", r.body);
    rq_free(&r);
    struct rq_opt unsigned_req = {.unsigned_request = true};
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, &unsigned_req);
    cr_expect_eq(r.status, 401, "%s", r.body);
    rq_free(&r);
    size_t ok_before = env_log_count(&f.e, &f.e.patient.pk, &f.e.patient.pk, MC_OUTCOME_SUCCESS);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect(r.access_tx[0], "the search names its access entry");
    rq_free(&r);
    /* a keyid in upper case verifies, and its search is logged too */
    struct rq_opt upper = {.keyid_upper = true};
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, &upper);
    cr_expect_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    tu_commit(&f.e.t);
    cr_expect_eq(env_log_count(&f.e, &f.e.patient.pk, &f.e.doc2.pk, MC_OUTCOME_REFUSED), before + 1);
    cr_expect_eq(env_log_count(&f.e, &f.e.patient.pk, &f.e.patient.pk, MC_OUTCOME_SUCCESS), ok_before + 2,
                 "both searches logged");
    env_stop(&f.e);
}

Test(fhir_search, history_and_one_patient_identity, .timeout = 90) {
    struct fixture f;
    setup(&f, "fhir-search-history");
    /* instance history: newest first, every version */
    char body[1000], path[300];
    snprintf(body, sizeof body,
             "{\"resourceType\":\"Observation\",\"id\":\"%s\",\"status\":\"corrected\",\"code\":{\"text\":\"x\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"}}", f.obs[0], f.patient_id);
    snprintf(path, sizeof path, "/fhir/Observation/%s", f.obs[0]);
    struct rq r = env_req(&f.e, &f.e.doc, "PUT", path, body, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    tu_commit(&f.e.t);
    snprintf(path, sizeof path, "/fhir/Observation/%s/_history", f.obs[0]);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "type")), "history");
    json_t *en = json_object_get(r.json, "entry");
    cr_assert_eq(json_array_size(en), 2);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(json_array_get(en, 0), "resource"), "meta"), "versionId")), "2");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(en, 0), "resource"), "status")), "corrected");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(en, 1), "resource"), "status")), "final");
    rq_free(&r);
    r = env_req(&f.e, &f.e.patient, "GET", "/fhir/Observation/no-such-thing/_history", NULL, NULL);
    cr_expect_eq(r.status, 404);
    rq_free(&r);
    /* a member the patient never granted gets no history, only an OperationOutcome */
    r = env_req(&f.e, &f.e.doc2, "GET", path, NULL, NULL);
    cr_expect_eq(r.status, 403, "%s", r.body);
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "resourceType")), "OperationOutcome");
    cr_expect_null(json_object_get(r.json, "entry"));
    rq_free(&r);
    /* AuditEvent and Consent name the patient by her Patient record */
    uint8_t g[512];
    size_t gl = env_grant_payload(g, MC_GRANTEE_MEMBER, &f.e.doc2.pk, 0, MC_CAT_RESULTS, 0);
    env_tx(&f.e, &f.e.patient, &f.e.patient_nonce, MC_TX_RECORD_GRANT, g, gl);
    tu_commit(&f.e.t);
    char want[120];
    snprintf(want, sizeof want, "Patient/%s", f.patient_id);
    snprintf(path, sizeof path, "/fhir/Consent?patient=Patient/%s", f.patient_id);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "total")), 1);
    json_t *c = json_object_get(json_array_get(json_object_get(r.json, "entry"), 0), "resource");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(c, "patient"), "reference")), want);
    rq_free(&r);
    snprintf(path, sizeof path, "/fhir/AuditEvent?patient=%s", f.patient_id);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    en = json_object_get(r.json, "entry");
    cr_assert_gt(json_array_size(en), 0);
    for (size_t i = 0; i < json_array_size(en); i++) {
        json_t *ent = json_object_get(json_object_get(json_array_get(en, i), "resource"), "entity");
        json_t *what = json_object_get(json_array_get(ent, 1), "what");
        cr_expect_str_eq(json_string_value(json_object_get(what, "reference")), want);
        cr_expect_str_eq(json_string_value(json_object_get(json_object_get(what, "identifier"), "value")), f.e.patient_hex);
    }
    rq_free(&r);
    /* a record naming her by her account key names her Patient record */
    snprintf(body, sizeof body,
             "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"y\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"}}", f.e.patient_hex);
    r = env_req(&f.e, &f.e.doc, "POST", "/fhir/Observation", body, NULL);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(r.json, "subject"), "reference")), want);
    rq_free(&r);
    tu_commit(&f.e.t);
    /* the patient she is: read by that id, and her export by it */
    snprintf(path, sizeof path, "/fhir/Patient/%s/$everything", f.patient_id);
    r = env_req(&f.e, &f.e.patient, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "total")), 7, "the matches only (6 + the Patient)");
    rq_free(&r);
    env_stop(&f.e);
}
