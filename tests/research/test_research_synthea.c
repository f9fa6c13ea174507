/* The four Synthea patients imported as records, consenting to a study of
 * every category: the researcher's dataset holds their records, and none
 * of the Safe Harbor identifiers of the source - names, address lines,
 * cities, full ZIP codes, birth dates and every other full date, phone
 * numbers, SSN, MRN, driver's licence and passport numbers, resource ids,
 * practitioner and organisation names and NPIs, geolocation, the patients'
 * ledger keys and the server's record ids - appears anywhere in it. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/identity.h"
#include "app/records.h"
#include "base/hex.h"
#include "api/fhir.h"
#include "api/json_exact.h"
#include "research_env.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    return b;
}

static void add(json_t *list, const char *s) {
    if (s && strlen(s) >= 4) json_array_append_new(list, json_string(s));
}

/* Every string value under keys that carry identifiers, anywhere. */
static void walk(json_t *v, json_t *out) {
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (json_is_string(x) &&
                (!strcmp(k, "id") || !strcmp(k, "display") || !strcmp(k, "family") || !strcmp(k, "city") ||
                 !strcmp(k, "postalCode") || !strcmp(k, "birthDate") || !strcmp(k, "fullUrl") ||
                 !strcmp(k, "reference") || !strcmp(k, "valueString")))
                add(out, json_string_value(x));
            if (!strcmp(k, "identifier") || !strcmp(k, "telecom") || !strcmp(k, "given") || !strcmp(k, "line")) {
                if (json_is_array(x))
                    for (size_t i = 0; i < json_array_size(x); i++) {
                        json_t *it = json_array_get(x, i);
                        add(out, json_is_string(it) ? json_string_value(it)
                                                    : json_string_value(json_object_get(it, "value")));
                    }
                else
                    add(out, json_string_value(json_object_get(x, "value")));
            }
            walk(x, out);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) walk(json_array_get(v, i), out);
    }
}

Test(research_synthea, dataset_has_no_safe_harbor_identifier, .timeout = 120) {
    const char *dir_env = getenv("MEDCHAIN_TESTDATA");
    char synth[512];
    snprintf(synth, sizeof synth, "%s/synthea", dir_env ? dir_env : "testdata");
    DIR *dir = opendir(synth);
    cr_assert_not_null(dir, "no test data at %s", synth);
    struct env e;
    env_start(&e, "rs-synthea");
    uint64_t dn = 2, rn = 0;
    const char *outs[] = {"P:viral load", NULL};
    const mc_pubkey *team[] = {&e.researcher.pk, NULL};
    rs_tx_ok(&e, &e.researcher, &rn, rs_study("synth", "hiv-research", MC_CAT_ALL, 1, outs, team));
    json_t *secrets = json_array();
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dir))) {
        if (!strstr(de->d_name, ".json")) continue;
        files++;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", synth, de->d_name);
        char *text = slurp(path);
        json_t *orig = json_loads(text, 0, NULL);
        cr_assert_not_null(orig);
        walk(orig, secrets);
        json_decref(orig);
        struct mc_keypair pat = rs_patient(&e, &dn);
        tu_commit(&e.t);
        uint64_t pn = 0;
        struct mc_research_payload c = rs_consent(MC_CONSENT_PURPOSE, "hiv-research", 1, MC_CONSENT_PERMIT, MC_CAT_ALL, 0);
        rs_tx_ok(&e, &pat, &pn, &c);
        char hx[65], url[200];
        mc_hex_encode(hx, pat.pk.b, 32);
        add(secrets, hx);
        snprintf(url, sizeof url, "/fhir?patient=%s", hx);
        /* with the practitioners, organisations and locations its
         * conditional references name (Synthea keeps them apart) */
        json_t *bundle = mc_json_exact_load(text, strlen(text), NULL);
        json_t *dir_entries = mc_fhir_directory_entries(bundle);
        cr_assert_gt(json_array_size(dir_entries), 0);
        json_array_extend(json_object_get(bundle, "entry"), dir_entries);
        json_decref(dir_entries);
        free(text);
        text = mc_json_exact_dump(bundle, JSON_COMPACT, NULL);
        json_decref(bundle);
        struct rq r = env_req(&e, &e.doc, "POST", url, text, NULL);
        cr_assert_eq(r.status, 200, "%s: %ld %.300s", de->d_name, r.status, r.body);
        json_t *resp = json_object_get(r.json, "entry");
        for (size_t i = 0; i < json_array_size(resp); i++) {
            const char *loc = json_string_value(json_object_get(json_object_get(json_array_get(resp, i), "response"), "location"));
            char id[160];
            snprintf(id, sizeof id, "%s", strchr(loc, '/') + 1);
            *strchr(id, '/') = 0;
            add(secrets, id); /* the server's record ids are record numbers too */
        }
        rq_free(&r);
        free(text);
        tu_commit(&e.t);
    }
    closedir(dir);
    cr_assert_eq(files, 4);
    /* identifiers Synthea puts where the walk above does not look */
    add(secrets, "999-");          /* SSNs */
    add(secrets, "555-");          /* phone numbers */
    add(secrets, "Keeling57");
    add(secrets, "42.48418142");   /* geolocation */
    add(secrets, "-71.155948");

    struct rq r = env_req(&e, &e.researcher, "GET", "/v1/research/dataset/synth", NULL, NULL);
    cr_assert_eq(r.status, 200, "%ld %.300s", r.status, r.body);
    json_t *ds = json_object_get(r.json, "dataset");
    cr_assert_eq(json_array_size(json_object_get(ds, "patients")), 4, "%.500s", r.body);
    cr_assert_gt(json_integer_value(json_object_get(r.json, "records")), 500);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "records_unavailable")), 0);
    char *text = json_dumps(r.json, JSON_COMPACT);
    size_t checked = 0;
    for (size_t i = 0; i < json_array_size(secrets); i++) {
        const char *s = json_string_value(json_array_get(secrets, i));
        /* coded terminology values (LOINC/SNOMED codes, "final") are not
         * identifiers: only look for strings with a digit or a capital
         * letter that are not terminology displays. */
        bool interesting = false;
        for (const char *p = s; *p; p++) interesting |= isdigit((unsigned char)*p) || isupper((unsigned char)*p);
        /* resource type names ("Encounter") are not identifiers */
        if (!interesting || mc_records_type_from_name(s)) continue;
        checked++;
        cr_assert_null(strstr(text, s), "identifier '%s' found in the dataset", s);
    }
    cr_assert_gt(checked, 1000, "only %zu identifiers checked", checked);
    /* no full date of any kind: YYYY-MM-DD */
    for (const char *p = text; *p; p++) {
        bool date = true;
        const char *pat = "dddd-dd-dd";
        for (int k = 0; k < 10 && date; k++)
            date = p[k] && (pat[k] == 'd' ? isdigit((unsigned char)p[k]) : p[k] == '-');
        cr_assert(!date, "a full date in the dataset: %.20s", p);
    }
    /* and what is there: years, ZIP3, codes */
    cr_assert_not_null(strstr(text, "\"zip3\":\"01"), "%.400s", text);
    cr_assert_not_null(strstr(text, "http://loinc.org|"));
    free(text);
    rq_free(&r);
    json_decref(secrets);
    env_stop(&e);
}
