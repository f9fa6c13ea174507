/* FHIR Bulk Data export over the Synthea patients: the NDJSON a member's
 * system client receives is exactly what was imported (every value as
 * text), holds only the patients who granted the member, each exported
 * patient is one access entry on the ledger, and the job life cycle (poll,
 * cancel, expiry, per-client bound, refusals) holds. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/json_exact.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/records_listing.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "smart_util.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* References of the original as the node resolved them (map: original
 * reference -> Type/id). */
static void resolve(json_t *v, json_t *map) {
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (strcmp(k, "reference") == 0 && json_is_string(x)) {
                json_t *to = json_object_get(map, json_string_value(x));
                if (to) json_string_set(x, json_string_value(to));
            } else {
                resolve(x, map);
            }
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) resolve(json_array_get(v, i), map);
    }
}

static void conditional_refs(const json_t *v, json_t *set) {
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (!strcmp(k, "reference") && json_is_string(x) && strchr(json_string_value(x), '?'))
                json_object_set_new(set, json_string_value(x), json_null());
            else conditional_refs(x, set);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) conditional_refs(json_array_get(v, i), set);
    }
}

/* One imported Synthea patient: her key, and what the export must give
 * back: id -> the resource as imported, references resolved. */
struct imported {
    struct mc_keypair kp;
    char hex[65];
    json_t *expect;
};

/* Imports a transaction Bundle of Type entries of resources (as JSON
 * objects) for the patient; records each entry's Type/id in map under key
 * of keys[i]. */
static json_t *post_bundle(struct env *e, const char *hex, const char *text) {
    char url[200];
    snprintf(url, sizeof url, "/fhir?patient=%s", hex);
    struct rq r = env_req(e, &e->doc, "POST", url, text, NULL);
    cr_assert_eq(r.status, 200, "import: %ld %.300s", r.status, r.body);
    json_t *resp = json_incref(json_object_get(r.json, "entry"));
    rq_free(&r);
    tu_commit(&e->t);
    return resp;
}

static const char *location_of(json_t *resp, size_t i, char *to, size_t cap) {
    snprintf(to, cap, "%s", json_string_value(json_object_get(json_object_get(json_array_get(resp, i), "response"), "location")));
    *strstr(to, "/_history") = 0;
    return to;
}

static void import_patient(struct env *e, uint64_t *doc_nonce, const char *file, struct imported *out) {
    size_t len;
    char *text = slurp(file, &len);
    json_t *orig = mc_json_exact_load(text, len, NULL);
    cr_assert_not_null(orig);
    mc_keypair_generate(&out->kp);
    uint8_t p[96];
    memcpy(p, out->kp.pk.b, 32);
    mc_identity_patient_consent_sign(p + 32, &out->kp, e->t.chain_id, &e->doc.pk);
    env_tx(e, &e->doc, doc_nonce, MC_TX_REGISTER_PATIENT, p, 96);
    tu_commit(&e->t);
    mc_hex_encode(out->hex, out->kp.pk.b, 32);
    out->expect = json_object();
    json_t *map = json_object();
    /* the directory entries the conditional references name, first */
    json_t *set = json_object();
    conditional_refs(orig, set);
    json_t *dir = json_pack("{s:s, s:s, s:[]}", "resourceType", "Bundle", "type", "transaction", "entry");
    json_t *order = json_array();
    const char *ref;
    json_t *unused;
    json_object_foreach(set, ref, unused) {
        char type[40], sys[200], val[200];
        const char *q = strchr(ref, '?'), *bar = strchr(ref, '|');
        cr_assert(q && bar && !strncmp(q, "?identifier=", 12), "%s", ref);
        snprintf(type, sizeof type, "%.*s", (int)(q - ref), ref);
        snprintf(sys, sizeof sys, "%.*s", (int)(bar - q - 12), q + 12);
        snprintf(val, sizeof val, "%s", bar + 1);
        json_array_append_new(json_object_get(dir, "entry"),
                              json_pack("{s:{s:s, s:[{s:s, s:s}]}, s:{s:s, s:s}}", "resource", "resourceType", type,
                                        "identifier", "system", sys, "value", val, "request", "method", "POST", "url", type));
        json_array_append_new(order, json_string(ref));
    }
    char *dtext = mc_json_exact_dump(dir, JSON_COMPACT, NULL);
    json_t *dresp = post_bundle(e, out->hex, dtext);
    for (size_t i = 0; i < json_array_size(order); i++) {
        char to[160];
        location_of(dresp, i, to, sizeof to);
        json_object_set_new(map, json_string_value(json_array_get(order, i)), json_string(to));
        json_t *res = json_deep_copy(json_object_get(json_array_get(json_object_get(dir, "entry"), i), "resource"));
        json_object_set_new(res, "id", json_string(strchr(to, '/') + 1));
        json_object_set_new(out->expect, strchr(to, '/') + 1, res);
    }
    free(dtext);
    json_decref(dresp);
    json_decref(dir);
    json_decref(order);
    json_decref(set);
    /* the records */
    json_t *resp = post_bundle(e, out->hex, text);
    json_t *entries = json_object_get(orig, "entry");
    cr_assert_eq(json_array_size(resp), json_array_size(entries));
    json_t *newid = json_object();
    for (size_t i = 0; i < json_array_size(entries); i++) {
        char to[160];
        location_of(resp, i, to, sizeof to);
        json_t *en = json_array_get(entries, i);
        json_object_set_new(map, json_string_value(json_object_get(en, "fullUrl")), json_string(to));
        json_object_set_new(newid, json_string_value(json_object_get(json_object_get(en, "resource"), "id")),
                            json_string(strchr(to, '/') + 1));
    }
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *res = json_deep_copy(json_object_get(json_array_get(entries, i), "resource"));
        resolve(res, map);
        const char *nid = json_string_value(json_object_get(newid, json_string_value(json_object_get(res, "id"))));
        json_object_set_new(res, "id", json_string(nid));
        json_object_set_new(out->expect, nid, res);
    }
    json_decref(resp);
    json_decref(newid);
    json_decref(map);
    json_decref(orig);
    free(text);
}

static void strip_server_meta(json_t *res, bool had_meta) {
    json_t *meta = json_object_get(res, "meta");
    json_object_del(meta, "versionId");
    json_object_del(meta, "lastUpdated");
    if (!had_meta && json_object_size(meta) == 0) json_object_del(res, "meta");
}

/* Writes one exported resource where the R4 validator of make test looks. */
static void capture_line(const char *line, size_t n) {
    const char *dir = getenv("MEDCHAIN_FHIR_CAPTURE");
    if (!dir || !dir[0]) return;
    static unsigned counter;
    char file[1024];
    snprintf(file, sizeof file, "%s/%ld-bulk-%u.json", dir, (long)getpid(), ++counter);
    FILE *f = fopen(file, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(line, 1, n, f), n);
    fclose(f);
}

struct bulk_env {
    struct env e;
    struct imported a, b;
    struct mc_keypair client;
    uint64_t doc_nonce, doc2_nonce;
    char *token;
};

static const char *synthea_file(int k, char *out, size_t cap) {
    const char *td = getenv("MEDCHAIN_TESTDATA");
    char d[600];
    snprintf(d, sizeof d, "%s/synthea", td ? td : "testdata");
    DIR *dir = opendir(d);
    cr_assert_not_null(dir, "no test data at %s", d);
    char names[8][300];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) && n < 8)
        if (strstr(de->d_name, ".json")) snprintf(names[n++], sizeof names[0], "%s", de->d_name);
    closedir(dir);
    cr_assert_geq(n, 2);
    /* a stable choice: the k-th name in order */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char t[300];
                memcpy(t, names[i], sizeof t);
                memcpy(names[i], names[j], sizeof t);
                memcpy(names[j], t, sizeof t);
            }
    snprintf(out, cap, "%s/%s", d, names[k]);
    return out;
}

static void bulk_start(struct bulk_env *b, const char *tag) {
    memset(b, 0, sizeof *b);
    env_start(&b->e, tag);
    struct env *e = &b->e;
    b->doc_nonce = 2; /* env_start registered two patients */
    char f[1024];
    import_patient(e, &b->doc_nonce, synthea_file(0, f, sizeof f), &b->a);
    import_patient(e, &b->doc_nonce, synthea_file(1, f, sizeof f), &b->b);
    /* a grants doc2 everything; b grants nothing */
    uint8_t g[256];
    size_t gl = env_grant_payload(g, MC_GRANTEE_MEMBER, &e->doc2.pk, 0, MC_CAT_ALL, 0);
    uint64_t an = 0;
    env_tx(e, &b->a.kp, &an, MC_TX_RECORD_GRANT, g, gl);
    mc_keypair_generate(&b->client);
    su_register(e, &e->doc2, &b->doc2_nonce, "bulk-client", &b->client.pk);
    tu_commit(&e->t);
}

static char *bulk_token(struct bulk_env *b, const char *jti, const char *scope) {
    char *a = su_assertion(&b->client, &b->e, "bulk-client", 240, jti);
    struct rq r = su_token(&b->e, a, scope);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    char *t = strdup(json_string_value(json_object_get(r.json, "access_token")));
    rq_free(&r);
    free(a);
    return t;
}

static void bulk_stop(struct bulk_env *b) {
    json_decref(b->a.expect);
    json_decref(b->b.expect);
    free(b->token);
    env_stop(&b->e);
}

static struct rq bearer_req(struct env *e, const char *token, const char *method, const char *path, bool async) {
    char h[256];
    snprintf(h, sizeof h, "Authorization: Bearer %s", token);
    struct rq_opt o = {.unsigned_request = true, .headers = {h, async ? "Prefer: respond-async" : NULL}};
    return env_req(e, &e->stranger, method, path, NULL, &o);
}

/* The path part of an absolute URL of the env's API. */
static const char *path_of(const char *url) {
    const char *p = strstr(url, "://");
    cr_assert_not_null(p, "%s", url);
    p = strchr(p + 3, '/');
    cr_assert_not_null(p);
    return p;
}

/* Kicks off an export; returns its status path (malloc'd). */
static char *kickoff(struct bulk_env *b, const char *token, const char *path) {
    struct rq r = bearer_req(&b->e, token, "GET", path, true);
    cr_assert_eq(r.status, 202, "kick-off %s: %ld %s", path, r.status, r.body);
    cr_assert(r.content_location[0], "a Content-Location");
    char *status = strdup(path_of(r.content_location));
    rq_free(&r);
    return status;
}

/* Polls until the manifest (200); returns it. */
static json_t *wait_manifest(struct bulk_env *b, const char *token, const char *status) {
    for (int i = 0; i < 600; i++) {
        struct rq r = bearer_req(&b->e, token, "GET", status, false);
        if (r.status == 200) {
            json_t *m = json_incref(r.json);
            rq_free(&r);
            return m;
        }
        cr_assert_eq(r.status, 202, "status: %ld %s", r.status, r.body);
        cr_assert(r.progress[0], "a running export says how far it got (X-Progress)");
        rq_free(&r);
        usleep(50 * 1000);
    }
    cr_assert_fail("the export did not complete");
    return NULL;
}

/* Every resource of the manifest's outputs, by id; checks the type of
 * each file's lines and the counts. */
static json_t *download(struct bulk_env *b, const char *token, json_t *manifest) {
    json_t *by_id = json_object();
    json_t *out = json_object_get(manifest, "output");
    for (size_t i = 0; i < json_array_size(out); i++) {
        json_t *o = json_array_get(out, i);
        const char *type = json_string_value(json_object_get(o, "type"));
        struct rq r = bearer_req(&b->e, token, "GET", path_of(json_string_value(json_object_get(o, "url"))), false);
        cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
        cr_assert_str_eq(r.content_type, "application/fhir+ndjson");
        size_t lines = 0;
        for (char *p = r.body; p && *p;) {
            char *nl = strchr(p, '\n');
            cr_assert_not_null(nl, "every NDJSON line ends with a newline");
            capture_line(p, (size_t)(nl - p));
            json_t *res = mc_json_exact_load(p, (size_t)(nl - p), NULL);
            cr_assert_not_null(res, "an NDJSON line is one JSON resource");
            cr_assert_str_eq(json_string_value(json_object_get(res, "resourceType")), type);
            json_object_set_new(by_id, json_string_value(json_object_get(res, "id")), res);
            lines++;
            p = nl + 1;
        }
        cr_assert_eq(lines, (size_t)json_integer_value(json_object_get(o, "count")));
        rq_free(&r);
    }
    return by_id;
}

/* Every resource of want is in got, identical value by value as text. */
static void assert_round_trip(json_t *want, json_t *got, const char *only_type) {
    const char *id;
    json_t *res;
    size_t n = 0;
    json_object_foreach(want, id, res) {
        const char *type = json_string_value(json_object_get(res, "resourceType"));
        if (only_type && strcmp(type, only_type) != 0) continue;
        json_t *back = json_deep_copy(json_object_get(got, id));
        cr_assert_not_null(back, "%s/%s missing from the export", type, id);
        strip_server_meta(back, json_object_get(res, "meta") != NULL);
        if (!json_equal(res, back)) {
            char *x = mc_json_exact_dump(res, JSON_SORT_KEYS | JSON_COMPACT, NULL);
            char *y = mc_json_exact_dump(back, JSON_SORT_KEYS | JSON_COMPACT, NULL);
            cr_assert_fail("%s/%s differs:\n%.600s\n%.600s", type, id, x, y);
        }
        json_decref(back);
        n++;
    }
    cr_assert_gt(n, 0);
}

static void assert_none_of(json_t *of, json_t *got) {
    const char *id;
    json_t *res;
    json_object_foreach(of, id, res) cr_assert_null(json_object_get(got, id), "%s of a patient who did not grant was exported", id);
}

static bool dir_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

Test(bulk, export_round_trips_exactly_and_holds_only_granted_patients, .timeout = 300) {
    struct bulk_env b;
    bulk_start(&b, "bulk-rt");
    struct env *e = &b.e;
    b.token = bulk_token(&b, "bulk-1", "system/*.rs");
    size_t a0 = env_log_count(e, &b.a.kp.pk, &e->doc2.pk, MC_OUTCOME_SUCCESS);
    const char *levels[] = {"/fhir/$export", "/fhir/Patient/$export", "/fhir/Group/granted/$export"};
    for (int lv = 0; lv < 3; lv++) {
        char *status = kickoff(&b, b.token, levels[lv]);
        json_t *m = wait_manifest(&b, b.token, status);
        cr_assert(json_is_true(json_object_get(m, "requiresAccessToken")));
        cr_assert_eq(json_array_size(json_object_get(m, "error")), 0, "%s", json_dumps(m, 0));
        json_t *got = download(&b, b.token, m);
        if (lv == 0) {
            /* everything, directory copies included */
            cr_assert_eq(json_object_size(got), json_object_size(b.a.expect), "%s", levels[lv]);
            assert_round_trip(b.a.expect, got, NULL);
        } else {
            assert_round_trip(b.a.expect, got, "Observation");
            assert_round_trip(b.a.expect, got, "Patient");
            cr_assert_null(json_object_get(got, "Practitioner"));
            const char *id;
            json_t *res;
            json_object_foreach(got, id, res) {
                const char *t = json_string_value(json_object_get(res, "resourceType"));
                cr_assert(strcmp(t, "Practitioner") && strcmp(t, "Organization") && strcmp(t, "Location"),
                          "%s is not in the Patient compartment", t);
            }
        }
        assert_none_of(b.b.expect, got);
        json_decref(got);
        json_decref(m);
        /* done with it: cancel deletes the files, the status is gone */
        struct rq r = bearer_req(e, b.token, "DELETE", status, false);
        cr_assert_eq(r.status, 202, "%ld %s", r.status, r.body);
        rq_free(&r);
        r = bearer_req(e, b.token, "GET", status, false);
        cr_assert_eq(r.status, 404);
        rq_free(&r);
        free(status);
    }
    /* each export is one access entry for the patient who granted, none
     * for the one who did not */
    tu_commit(&e->t);
    cr_assert_eq(env_log_count(e, &b.a.kp.pk, &e->doc2.pk, MC_OUTCOME_SUCCESS), a0 + 3);
    cr_assert_eq(env_log_count(e, &b.b.kp.pk, &e->doc2.pk, MC_OUTCOME_SUCCESS), 0);
    sleep(1); /* the job threads remove their folders */
    char d[1200];
    snprintf(d, sizeof d, "%s/exports", e->t.home);
    DIR *dir = opendir(d);
    size_t left = 0;
    struct dirent *de;
    while (dir && (de = readdir(dir))) left += de->d_name[0] != '.';
    if (dir) closedir(dir);
    cr_assert_eq(left, 0, "cancelled exports leave no files");
    bulk_stop(&b);
}

struct q_entry {
    const mc_pubkey *patient, *requester;
    size_t n;
    char reason[MC_REASON_MAX + 1];
};

static int entry_row(void *ctx, const struct mc_access_entry *a) {
    struct q_entry *q = ctx;
    if (memcmp(a->requester.b, q->requester->b, 32) == 0 && a->outcome == MC_OUTCOME_SUCCESS &&
        a->action == MC_ACTION_EXPORT) {
        q->n++;
        snprintf(q->reason, sizeof q->reason, "%s", a->reason);
    }
    return 0;
}

static int q_entries(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct q_entry *q = ctx;
    return mc_records_scan_access(mc_app_state(app), q->patient, entry_row, q);
}

Test(bulk, type_and_since_narrow_the_export_and_the_entry_names_what_was_served, .timeout = 300) {
    struct bulk_env b;
    bulk_start(&b, "bulk-type");
    struct env *e = &b.e;
    b.token = bulk_token(&b, "bulk-type", "system/Observation.rs system/Patient.rs");
    char *status = kickoff(&b, b.token, "/fhir/Patient/$export?_type=Observation");
    json_t *m = wait_manifest(&b, b.token, status);
    json_t *out = json_object_get(m, "output");
    cr_assert_eq(json_array_size(out), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 0), "type")), "Observation");
    json_t *got = download(&b, b.token, m);
    assert_round_trip(b.a.expect, got, "Observation");
    size_t observations = json_object_size(got);
    json_decref(got);
    json_decref(m);
    free(status);
    tu_commit(&e->t);
    /* the access entry's reason: N of M records served, and the root */
    struct q_entry q = {.patient = &b.a.kp.pk, .requester = &e->doc2.pk};
    cr_assert_eq(mc_node_query(e->t.node, q_entries, &q), 0);
    cr_assert_eq(q.n, 1);
    size_t served, total;
    mc_hash root;
    cr_assert_eq(mc_records_listing_parse(q.reason, &served, &total, &root), 0, "%s", q.reason);
    cr_assert_eq(served, observations);
    cr_assert_gt(total, served);
    /* _since in the future: nothing new */
    status = kickoff(&b, b.token, "/fhir/$export?_since=2999-01-01T00:00:00Z");
    m = wait_manifest(&b, b.token, status);
    cr_assert_eq(json_array_size(json_object_get(m, "output")), 0);
    json_decref(m);
    free(status);
    /* a type outside the token's scopes, and one no export serves */
    struct rq r = bearer_req(e, b.token, "GET", "/fhir/$export?_type=Condition", true);
    cr_assert_eq(r.status, 403, "%ld %s", r.status, r.body);
    rq_free(&r);
    r = bearer_req(e, b.token, "GET", "/fhir/$export?_type=Binary", true);
    cr_assert_eq(r.status, 400);
    rq_free(&r);
    bulk_stop(&b);
}

Test(bulk, kickoff_refusals_client_bound_and_other_clients, .timeout = 300) {
    struct bulk_env b;
    bulk_start(&b, "bulk-refuse");
    struct env *e = &b.e;
    b.token = bulk_token(&b, "bulk-refuse", "system/Observation.rs");
    /* no Prefer: respond-async */
    struct rq r = bearer_req(e, b.token, "GET", "/fhir/$export", false);
    cr_assert_eq(r.status, 400);
    rq_free(&r);
    /* a signed request instead of a token: refused, logged as doc2's */
    r = env_req(e, &e->doc2, "GET", "/fhir/$export", NULL, &(struct rq_opt){.headers = {"Prefer: respond-async"}});
    cr_assert_eq(r.status, 401, "%ld %s", r.status, r.body);
    cr_assert_eq(strlen(r.access_tx), 64, "the refusal is logged");
    rq_free(&r);
    /* unsupported parameters, a bad _since, an unknown Group */
    r = bearer_req(e, b.token, "GET", "/fhir/$export?_typeFilter=Observation%3Fcode%3Dx", true);
    cr_assert_eq(r.status, 400);
    rq_free(&r);
    r = bearer_req(e, b.token, "GET", "/fhir/$export?_since=yesterday", true);
    cr_assert_eq(r.status, 400);
    rq_free(&r);
    r = bearer_req(e, b.token, "GET", "/fhir/Group/everyone/$export", true);
    cr_assert_eq(r.status, 404);
    rq_free(&r);
    /* a client holds at most two exports */
    char *s1 = kickoff(&b, b.token, "/fhir/$export");
    char *s2 = kickoff(&b, b.token, "/fhir/$export");
    r = bearer_req(e, b.token, "GET", "/fhir/$export", true);
    cr_assert_eq(r.status, 429, "%ld %s", r.status, r.body);
    rq_free(&r);
    /* another client of the same member sees none of them */
    struct mc_keypair other;
    mc_keypair_generate(&other);
    su_register(e, &e->doc2, &b.doc2_nonce, "other-client", &other.pk);
    tu_commit(&e->t);
    char *a = su_assertion(&other, e, "other-client", 240, "other-1");
    r = su_token(e, a, "system/Observation.rs");
    cr_assert_eq(r.status, 200);
    char *other_token = strdup(json_string_value(json_object_get(r.json, "access_token")));
    rq_free(&r);
    free(a);
    json_t *m = wait_manifest(&b, b.token, s1);
    r = bearer_req(e, other_token, "GET", s1, false);
    cr_assert_eq(r.status, 404);
    rq_free(&r);
    const char *file = path_of(json_string_value(json_object_get(json_array_get(json_object_get(m, "output"), 0), "url")));
    r = bearer_req(e, other_token, "GET", file, false);
    cr_assert_eq(r.status, 404, "another client cannot download the files");
    rq_free(&r);
    r = bearer_req(e, other_token, "DELETE", s1, false);
    cr_assert_eq(r.status, 404);
    rq_free(&r);
    /* ... and no file without a token */
    r = env_req(e, &e->stranger, "GET", file, NULL, &(struct rq_opt){.unsigned_request = true});
    cr_assert_eq(r.status, 401);
    rq_free(&r);
    json_decref(m);
    /* deleting one makes room */
    r = bearer_req(e, b.token, "DELETE", s1, false);
    cr_assert_eq(r.status, 202);
    rq_free(&r);
    char *s3 = kickoff(&b, b.token, "/fhir/$export");
    free(s1);
    free(s2);
    free(s3);
    free(other_token);
    bulk_stop(&b);
}

Test(bulk, outputs_expire_after_the_configured_time, .timeout = 300) {
    struct bulk_env b;
    bulk_start(&b, "bulk-ttl");
    struct env *e = &b.e;
    char cfg[1200];
    snprintf(cfg, sizeof cfg, "%s/config.json", e->t.home);
    json_t *c = json_load_file(cfg, 0, NULL);
    if (!c) c = json_object();
    json_object_set_new(c, "bulk_output_ttl_s", json_integer(1));
    cr_assert_eq(json_dump_file(c, cfg, 0), 0);
    json_decref(c);
    env_restart(e);
    b.token = bulk_token(&b, "bulk-ttl", "system/Observation.rs");
    char *status = kickoff(&b, b.token, "/fhir/Patient/$export");
    json_t *m = wait_manifest(&b, b.token, status);
    cr_assert_gt(json_array_size(json_object_get(m, "output")), 0);
    char d[1300];
    /* the job's folder is private to the node's account */
    snprintf(d, sizeof d, "%s/exports", e->t.home);
    struct stat st;
    cr_assert_eq(stat(d, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    json_decref(m);
    sleep(3);
    struct rq r = bearer_req(e, b.token, "GET", status, false);
    cr_assert_eq(r.status, 404, "an expired export is gone: %ld", r.status);
    rq_free(&r);
    DIR *dir = opendir(d);
    size_t left = 0;
    struct dirent *de;
    while (dir && (de = readdir(dir))) left += de->d_name[0] != '.';
    if (dir) closedir(dir);
    cr_assert_eq(left, 0, "expired outputs are deleted");
    cr_assert(!dir_exists(d) || left == 0);
    free(status);
    bulk_stop(&b);
}
