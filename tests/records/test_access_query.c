/* GET /v1/access: the auditor's access log, filtered and paged by the node;
 * the break-glass review's details. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "base/hex.h"
#include "records_env.h"

static json_t *query(struct env *e, const struct mc_keypair *kp, const char *q, long want) {
    char path[400];
    snprintf(path, sizeof path, "/v1/access%s", q);
    struct rq r = env_req(e, kp, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, want, "%s: %ld %s", q, r.status, r.body);
    json_t *j = json_incref(r.json);
    rq_free(&r);
    return j;
}

static size_t count_kind(json_t *entries, const char *kind) {
    size_t i, n = 0;
    json_t *it;
    json_array_foreach(entries, i, it) if (strcmp(json_string_value(json_object_get(it, "kind")), kind) == 0) n++;
    return n;
}

Test(access_query, filtered_paged_and_logged, .timeout = 90) {
    struct env e;
    env_start(&e, "access-query");
    char *obs = env_observation(e.patient_hex, "aq-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[200];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);
    /* a treatment read by the author, three refusals, a break-glass read, many patient views */
    struct rq_opt treat = {.headers = {"X-Purpose-Of-Use: TREAT"}};
    struct rq r = env_req(&e, &e.doc, "GET", path, NULL, &treat);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    for (int i = 0; i < 3; i++) {
        r = env_req(&e, &e.doc2, "GET", path, NULL, NULL);
        cr_assert_eq(r.status, 403);
        rq_free(&r);
    }
    struct rq_opt btg = {.headers = {"X-Break-Glass-Reason: unconscious in ER"}};
    r = env_req(&e, &e.doc2, "GET", path, NULL, &btg);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char btg_tx[65];
    snprintf(btg_tx, sizeof btg_tx, "%s", r.access_tx);
    rq_free(&r);
    for (int i = 0; i < 12; i++) {
        r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
        cr_assert_eq(r.status, 200);
        rq_free(&r);
    }
    tu_commit(&e.t);

    /* the clinicians' reads show whatever the patients' own views: by kind */
    json_t *j = query(&e, &e.auditor, "?kind=break_glass", 200);
    json_t *en = json_object_get(j, "entries");
    cr_assert_eq(json_array_size(en), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(en, 0), "tx_id")), btg_tx);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(en, 0), "requester_name")), "Dr Bob");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(en, 0), "record_type")), "Observation");
    json_decref(j);
    j = query(&e, &e.auditor, "?kind=refused", 200);
    cr_assert_eq(json_array_size(json_object_get(j, "entries")), 3);
    cr_assert_eq(count_kind(json_object_get(j, "entries"), "refused"), 3);
    json_decref(j);
    j = query(&e, &e.auditor, "?kind=treatment", 200);
    cr_assert_eq(json_array_size(json_object_get(j, "entries")), 1);
    json_decref(j);
    char q[300];
    char doc2[65];
    mc_hex_encode(doc2, e.doc2.pk.b, 32);
    snprintf(q, sizeof q, "?member=%s&patient=%s", doc2, e.patient_hex);
    j = query(&e, &e.auditor, q, 200);
    cr_assert_eq(json_array_size(json_object_get(j, "entries")), 4, "Dr Bob: three refusals and the break-glass read");
    json_decref(j);
    j = query(&e, &e.auditor, "?org=1&kind=patient", 200);
    cr_assert_eq(json_array_size(json_object_get(j, "entries")), 0, "patients belong to no organisation");
    json_decref(j);
    j = query(&e, &e.auditor, "?from=1&to=2", 200);
    cr_assert_eq(json_array_size(json_object_get(j, "entries")), 0, "a time range with nothing in it");
    json_decref(j);

    /* paging: newest first, 5 a page, every patient view exactly once */
    snprintf(q, sizeof q, "?kind=patient&limit=5");
    size_t seen = 0;
    uint64_t last_height = UINT64_MAX;
    for (int page = 0; page < 10; page++) {
        j = query(&e, &e.auditor, q, 200);
        json_t *es = json_object_get(j, "entries");
        size_t i;
        json_t *it;
        json_array_foreach(es, i, it) {
            uint64_t h = (uint64_t)json_integer_value(json_object_get(it, "height"));
            cr_assert(h <= last_height, "newest first");
            last_height = h;
            seen++;
        }
        const char *next = json_string_value(json_object_get(j, "next_before"));
        if (!next) {
            json_decref(j);
            break;
        }
        snprintf(q, sizeof q, "?kind=patient&limit=5&before=%s", next);
        json_decref(j);
    }
    cr_assert_eq(seen, 12, "twelve patient views over three pages");

    /* only auditors; bad input refused (and logged) */
    size_t was = env_log_count(&e, NULL, &e.doc.pk, MC_OUTCOME_REFUSED);
    j = query(&e, &e.doc, "", 403);
    cr_assert_not_null(json_object_get(j, "error"));
    json_decref(j);
    const char *bad[] = {"?kind=everything", "?limit=0", "?limit=201", "?member=xyz", "?before=12", "?org=0",
                         "?to=0", NULL};
    for (int i = 0; bad[i]; i++) {
        j = query(&e, &e.auditor, bad[i], 400);
        cr_assert_str_eq(json_string_value(json_object_get(j, "error")), "malformed", "%s", bad[i]);
        json_decref(j);
    }
    tu_commit(&e.t);
    cr_assert_eq(env_log_count(&e, NULL, &e.doc.pk, MC_OUTCOME_REFUSED), was + 1, "the refusal is logged");
    /* the auditor's own queries are on the log too */
    j = query(&e, &e.auditor, "?kind=audit", 200);
    cr_assert(json_array_size(json_object_get(j, "entries")) >= 8);
    json_decref(j);

    /* the break-glass review says what was read and what else Dr Bob did */
    r = env_req(&e, &e.auditor, "GET", "/v1/breakglass", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *b = json_array_get(json_object_get(r.json, "break_glass"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(b, "record_type")), "Observation");
    cr_assert_str_eq(json_string_value(json_object_get(b, "requester_name")), "Dr Bob");
    cr_assert_eq(json_integer_value(json_object_get(b, "other_access_count")), 3, "his three refused attempts");
    json_t *others = json_object_get(b, "other_accesses");
    cr_assert_eq(json_array_size(others), 3);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(others, 0), "outcome")), "refused");
    rq_free(&r);
    free(id);
    env_stop(&e);
}
