/* The four Synthea patients: each transaction Bundle imports atomically,
 * exports back with the same resources (references resolved to Type/id,
 * server meta aside) with every JSON value identical as text (numbers are
 * compared as the digits written, not as doubles: api/json_exact.h), and
 * no name, SSN, address or identifier from them
 * appears in plaintext anywhere in the node's files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_exact.h"
#include "app/identity.h"
#include "base/hex.h"
#include "records_env.h"

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

/* Rewrites urn:uuid references of the original as the node resolves them. */
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

static void strip_server_meta(json_t *res, bool had_meta) {
    json_t *meta = json_object_get(res, "meta");
    json_object_del(meta, "versionId");
    json_object_del(meta, "lastUpdated");
    if (!had_meta && json_object_size(meta) == 0) json_object_del(res, "meta");
}

/* The numbers of v and how many of them a double would not keep as written
 * (trailing zeros, more than 15 significant digits). */
static void count_numbers(const json_t *v, size_t *all, size_t *fragile) {
    const char *num = mc_json_exact_number(v);
    if (num) {
        (*all)++;
        char back[64];
        snprintf(back, sizeof back, "%.17g", strtod(num, NULL));
        if (strcmp(back, num) != 0) (*fragile)++;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) count_numbers(x, all, fragile);
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) count_numbers(json_array_get(v, i), all, fragile);
    }
}

/* The conditional references of the Bundle ("Practitioner?identifier=
 * system|value") into set. */
static void cond_refs(const json_t *v, json_t *set) {
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (!strcmp(k, "reference") && json_is_string(x) && strchr(json_string_value(x), '?'))
                json_object_set_new(set, json_string_value(x), json_null());
            else cond_refs(x, set);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) cond_refs(json_array_get(v, i), set);
    }
}

/* What a hospital sends before its patients' records (Synthea's own
 * practitioner and hospital files): one Practitioner, Organization or
 * Location per identifier the records name, as a transaction Bundle of
 * the patient. map gets "Type?identifier=..." -> "Type/<stored id>". */
static void import_directory(struct env *e, const char *hx, const json_t *orig, json_t *map) {
    json_t *set = json_object();
    cond_refs(orig, set);
    cr_assert_gt(json_object_size(set), 0, "the Bundle has conditional references");
    json_t *b = json_pack("{s:s, s:s, s:[]}", "resourceType", "Bundle", "type", "transaction", "entry");
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
        json_array_append_new(json_object_get(b, "entry"),
                              json_pack("{s:{s:s, s:[{s:s, s:s}]}, s:{s:s, s:s}}", "resource", "resourceType", type,
                                        "identifier", "system", sys, "value", val, "request", "method", "POST",
                                        "url", type));
        json_array_append_new(order, json_string(ref));
    }
    char *text = mc_json_exact_dump(b, JSON_COMPACT, NULL);
    char url[200];
    snprintf(url, sizeof url, "/fhir?patient=%s", hx);
    struct rq r = env_req(e, &e->doc, "POST", url, text, NULL);
    cr_assert_eq(r.status, 200, "directory: %ld %.300s", r.status, r.body);
    json_t *resp = json_object_get(r.json, "entry");
    for (size_t i = 0; i < json_array_size(order); i++) {
        char to[160];
        snprintf(to, sizeof to, "%s",
                 json_string_value(json_object_get(json_object_get(json_array_get(resp, i), "response"), "location")));
        *strstr(to, "/_history") = 0;
        json_object_set_new(map, json_string_value(json_array_get(order, i)), json_string(to));
    }
    rq_free(&r);
    free(text);
    json_decref(order);
    json_decref(b);
    json_decref(set);
    tu_commit(&e->t);
}

/* Secrets of a patient to look for on disk. */
static void add_secret(json_t *list, const char *s) {
    if (s && strlen(s) >= 5) json_array_append_new(list, json_string(s));
}

static void collect_secrets(json_t *patient, json_t *out) {
    json_t *name = json_array_get(json_object_get(patient, "name"), 0);
    add_secret(out, json_string_value(json_object_get(name, "family")));
    add_secret(out, json_string_value(json_array_get(json_object_get(name, "given"), 0)));
    json_t *addr = json_array_get(json_object_get(patient, "address"), 0);
    add_secret(out, json_string_value(json_array_get(json_object_get(addr, "line"), 0)));
    json_t *ids = json_object_get(patient, "identifier");
    for (size_t i = 0; i < json_array_size(ids); i++)
        add_secret(out, json_string_value(json_object_get(json_array_get(ids, i), "value")));
    json_t *tel = json_array_get(json_object_get(patient, "telecom"), 0);
    add_secret(out, json_string_value(json_object_get(tel, "value")));
}

static void assert_absent_on_disk(const char *home, json_t *secrets) {
    for (size_t i = 0; i < json_array_size(secrets); i++) {
        const char *s = json_string_value(json_array_get(secrets, i));
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "grep -rlaF -e '%s' '%s'", s, home);
        FILE *f = popen(cmd, "r");
        char line[512] = "";
        char *hit = fgets(line, sizeof line, f);
        pclose(f);
        cr_assert_null(hit, "plaintext '%s' found in %s", s, line);
    }
}

Test(synthea, import_export_round_trip_no_plaintext, .timeout = 120) {
    const char *dir_path = getenv("MEDCHAIN_TESTDATA");
    char synth[512];
    snprintf(synth, sizeof synth, "%s/synthea", dir_path ? dir_path : "testdata");
    DIR *dir = opendir(synth);
    cr_assert_not_null(dir, "no test data at %s", synth);
    struct env e;
    env_start(&e, "rec-synthea");
    json_t *secrets = json_array();
    add_secret(secrets, "Keeling57");
    add_secret(secrets, "999-");
    struct dirent *de;
    int files = 0;
    uint64_t dn = 2;
    size_t numbers = 0, fragile = 0;
    while ((de = readdir(dir))) {
        if (!strstr(de->d_name, ".json")) continue;
        files++;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", synth, de->d_name);
        size_t len;
        char *text = slurp(path, &len);
        json_t *orig = mc_json_exact_load(text, len, NULL);
        cr_assert_not_null(orig);
        count_numbers(orig, &numbers, &fragile);
        /* a patient account for this person */
        struct mc_keypair pat;
        mc_keypair_generate(&pat);
        uint8_t p[96];
        memcpy(p, pat.pk.b, 32);
        mc_identity_patient_consent_sign(p + 32, &pat, e.t.chain_id, &e.doc.pk);
        env_tx(&e, &e.doc, &dn, MC_TX_REGISTER_PATIENT, p, 96);
        tu_commit(&e.t);
        char hx[65];
        mc_hex_encode(hx, pat.pk.b, 32);
        char url[200];
        snprintf(url, sizeof url, "/fhir?patient=%s", hx);
        /* the practitioners, organisations and locations first: every
         * conditional reference of the records resolves to one of them */
        json_t *map = json_object();
        import_directory(&e, hx, orig, map);
        size_t ndir = json_object_size(map);
        uint64_t h0 = tu_height(&e.t);
        struct rq r = env_req(&e, &e.doc, "POST", url, text, NULL);
        cr_assert_eq(r.status, 200, "%s: %ld %.300s", de->d_name, r.status, r.body);
        json_t *entries = json_object_get(orig, "entry");
        json_t *resp = json_object_get(r.json, "entry");
        cr_assert_eq(json_array_size(resp), json_array_size(entries));
        /* fullUrl -> Type/new id, from the transaction-response locations */
        json_t *newid = json_object();
        for (size_t i = 0; i < json_array_size(entries); i++) {
            const char *loc = json_string_value(json_object_get(json_object_get(json_array_get(resp, i), "response"), "location"));
            cr_assert_not_null(loc);
            char to[160];
            snprintf(to, sizeof to, "%s", loc);
            *strstr(to, "/_history") = 0;
            json_t *en = json_array_get(entries, i);
            json_object_set_new(map, json_string_value(json_object_get(en, "fullUrl")), json_string(to));
            json_object_set_new(newid, json_string_value(json_object_get(json_object_get(en, "resource"), "id")),
                                json_string(strchr(to, '/') + 1));
        }
        rq_free(&r);
        tu_commit(&e.t);
        cr_assert_eq(tu_height(&e.t), h0 + 1, "the whole Bundle is one anchor in one block");
        /* export */
        snprintf(url, sizeof url, "/fhir/Patient/%s/$everything", hx);
        r = env_req(&e, &pat, "GET", url, NULL, NULL);
        cr_assert_eq(r.status, 200, "%.300s", r.body);
        json_decref(r.json);
        r.json = mc_json_exact_load(r.body, r.len, NULL);
        cr_assert_not_null(r.json);
        /* The export holds every record ("match") and, for each, the
         * Provenance generated from its anchor ("include"). */
        json_t *all = json_object_get(r.json, "entry"), *got = json_array();
        size_t provenance = 0;
        for (size_t i = 0; i < json_array_size(all); i++) {
            json_t *en = json_array_get(all, i);
            const char *mode = json_string_value(json_object_get(json_object_get(en, "search"), "mode"));
            if (mode && strcmp(mode, "include") == 0) provenance++;
            else json_array_append(got, en);
        }
        cr_assert_eq(json_array_size(got), json_array_size(entries) + ndir, "%s", de->d_name);
        cr_assert_eq(provenance, json_array_size(entries) + ndir, "one generated Provenance per record");
        cr_assert_eq(strtoul(mc_json_exact_number(json_object_get(r.json, "total")), NULL, 10),
                     json_array_size(entries) + ndir, "Bundle.total counts the matches only");
        for (size_t i = 0; i < json_array_size(entries); i++) {
            json_t *en = json_array_get(entries, i);
            json_t *res = json_object_get(en, "resource");
            if (strcmp(json_string_value(json_object_get(res, "resourceType")), "Patient") == 0)
                collect_secrets(res, secrets);
        }
        json_t *by_id = json_object();
        for (size_t i = 0; i < json_array_size(got); i++) {
            json_t *res = json_object_get(json_array_get(got, i), "resource");
            json_object_set(by_id, json_string_value(json_object_get(res, "id")), res);
        }
        for (size_t i = 0; i < json_array_size(entries); i++) {
            json_t *res = json_deep_copy(json_object_get(json_array_get(entries, i), "resource"));
            resolve(res, map);
            json_object_set(res, "id", json_object_get(newid, json_string_value(json_object_get(res, "id"))));
            json_t *back = json_deep_copy(json_object_get(by_id, json_string_value(json_object_get(res, "id"))));
            cr_assert_not_null(back, "resource %s missing from the export", json_string_value(json_object_get(res, "id")));
            strip_server_meta(back, json_object_get(res, "meta") != NULL);
            if (!json_equal(res, back)) {
                char *a = mc_json_exact_dump(res, JSON_SORT_KEYS | JSON_COMPACT, NULL);
                char *b = mc_json_exact_dump(back, JSON_SORT_KEYS | JSON_COMPACT, NULL);
                cr_assert_fail("resource differs:\n%.600s\n%.600s", a, b);
            }
            json_decref(res);
            json_decref(back);
        }
        json_decref(by_id);
        json_decref(got);
        json_decref(map);
        json_decref(newid);
        rq_free(&r);
        /* Search by patient serves a type's records to the patient. */
        snprintf(url, sizeof url, "/fhir/Immunization?patient=%s", hx);
        r = env_req(&e, &pat, "GET", url, NULL, NULL);
        cr_assert_eq(r.status, 200);
        cr_assert_gt(json_integer_value(json_object_get(r.json, "total")), 40);
        rq_free(&r);
        /* One entry about someone else fails the whole Bundle: nothing written. */
        snprintf(url, sizeof url, "/fhir?patient=%s", hx);
        tu_commit(&e.t); /* the export's and search's access entries */
        uint64_t before = tu_height(&e.t);
        json_t *bad = json_deep_copy(orig);
        json_t *last = json_object_get(json_array_get(json_object_get(bad, "entry"),
                                                      json_array_size(entries) - 2), "resource");
        json_object_set_new(last, "subject", json_pack("{s:s}", "reference", "Patient/someone-else"));
        json_object_set_new(last, "patient", json_pack("{s:s}", "reference", "Patient/someone-else"));
        char *bad_text = mc_json_exact_dump(bad, JSON_COMPACT, NULL);
        json_decref(bad);
        r = env_req(&e, &e.doc, "POST", url, bad_text, NULL);
        free(bad_text);
        cr_assert_eq(r.status, 422, "%.300s", r.body);
        rq_free(&r);
        tu_commit(&e.t);
        cr_assert_eq(tu_height(&e.t), before, "nothing was written");
        json_decref(orig);
        free(text);
    }
    closedir(dir);
    cr_assert_eq(files, 4);
    /* The comparison above covered numbers a double would have altered. */
    cr_assert_gt(numbers, 500, "%zu numbers", numbers);
    cr_assert_gt(fragile, 100, "%zu of %zu numbers differ from their %%.17g form", fragile, numbers);
    tu_commit(&e.t);
    cr_assert_gt(json_array_size(secrets), 10);
    env_stop(&e);
    assert_absent_on_disk(e.t.home, secrets);
    json_decref(secrets);
}
