/* De-identification for research datasets (see deid.h for the rules). */
#include "api/deid.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"

/* --- secrets and pseudonyms --- */

void mc_deid_pseudonym(char out[35], const uint8_t secret[32], const char *study,
                       const mc_pubkey *patient) {
    static const char domain[] = "medchain/v1/research-pseudonym";
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, 32);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)domain, sizeof domain - 1);
    size_t n = strnlen(study, 255);
    uint8_t len = (uint8_t)n;
    crypto_auth_hmacsha256_update(&st, &len, 1);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)study, n);
    crypto_auth_hmacsha256_update(&st, patient->b, 32);
    uint8_t mac[32];
    crypto_auth_hmacsha256_final(&st, mac);
    out[0] = 'P';
    out[1] = '-';
    mc_hex_encode(out + 2, mac, 16);
    sodium_memzero(&st, sizeof st);
}

/* --- small helpers --- */

static bool charset(const char *s, size_t max, const char *extra) {
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= max) return false;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
        if (!strchr(extra, c)) return false;
    }
    return n > 0;
}

/* Standard terminologies whose codes may be released. */
static bool system_allowed(const char *sys) {
    static const char *const exact[] = {
        "http://loinc.org", "http://snomed.info/sct", "http://hl7.org/fhir/sid/cvx",
        "http://www.nlm.nih.gov/research/umls/rxnorm", "http://hl7.org/fhir/sid/icd-10",
        "http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/ndc",
        "http://unitsofmeasure.org", "urn:oid:2.16.840.1.113883.6.238"};
    static const char *const prefix[] = {"http://terminology.hl7.org/CodeSystem/",
                                         "http://hl7.org/fhir/us/core/CodeSystem/"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(sys, exact[i]) == 0) return true;
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
        size_t n = strlen(prefix[i]);
        if (strncmp(sys, prefix[i], n) == 0 && charset(sys + n, 64, "-")) return true;
    }
    return false;
}

/* "system|code" of a Coding, when both pass. */
static json_t *coding(const json_t *c) {
    const char *sys = json_string_value(json_object_get(c, "system"));
    const char *code = json_string_value(json_object_get(c, "code"));
    if (!sys || !code || !system_allowed(sys) || !charset(code, 64, ".-_")) return NULL;
    char buf[256];
    snprintf(buf, sizeof buf, "%s|%s", sys, code);
    return json_string(buf);
}

/* The releasable codings of a CodeableConcept, or of an array of them. */
static void add_codes(json_t *out, const json_t *cc) {
    if (json_is_array(cc)) {
        for (size_t i = 0; i < json_array_size(cc); i++) add_codes(out, json_array_get(cc, i));
        return;
    }
    const json_t *list = json_object_get(cc, "coding");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *c = coding(json_array_get(list, i));
        if (c) json_array_append_new(out, c);
    }
}

static void set_codes(json_t *row, const char *name, const json_t *cc) {
    if (!cc) return;
    json_t *a = json_array();
    add_codes(a, cc);
    if (json_array_size(a)) json_object_set_new(row, name, a);
    else json_decref(a);
}

/* Year of a FHIR date/dateTime/instant ("YYYY..."), 0 when absent or bad. */
static int year_of(const json_t *v) {
    const char *s = json_string_value(v);
    if (!s || strlen(s) < 4) return 0;
    int y = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        y = y * 10 + (s[i] - '0');
    }
    if (s[4] && s[4] != '-') return 0;
    return y;
}

static int first_year(const json_t *res, const char *const *paths, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *dot = strchr(paths[i], '.');
        const json_t *v;
        if (dot) {
            char head[40];
            snprintf(head, sizeof head, "%.*s", (int)(dot - paths[i]), paths[i]);
            v = json_object_get(json_object_get(res, head), dot + 1);
        } else {
            v = json_object_get(res, paths[i]);
        }
        int y = year_of(v);
        if (y) return y;
    }
    return 0;
}

/* A number as released: integers as they are, decimals as a string with
 * at most 10 significant digits. */
static json_t *number(const json_t *v) {
    if (json_is_integer(v)) return json_integer(json_integer_value(v));
    if (json_is_real(v)) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
        json_t *out = s ? json_string(s) : NULL;
        free(s);
        return out;
    }
    return NULL;
}

/* valueQuantity / valueCodeableConcept / valueBoolean / valueInteger. */
static void set_value(json_t *row, const json_t *src) {
    const json_t *q = json_object_get(src, "valueQuantity");
    if (json_is_object(q)) {
        json_t *v = json_object();
        json_t *n = number(json_object_get(q, "value"));
        if (n) json_object_set_new(v, "value", n);
        const char *unit = json_string_value(json_object_get(q, "code"));
        if (!unit) unit = json_string_value(json_object_get(q, "unit"));
        if (unit && charset(unit, 32, "/%.*[]{}^-_'")) json_object_set_new(v, "unit", json_string(unit));
        json_object_set_new(row, "value", v);
        return;
    }
    const json_t *cc = json_object_get(src, "valueCodeableConcept");
    if (cc) {
        json_t *v = json_object();
        set_codes(v, "code", cc);
        json_object_set_new(row, "value", v);
        return;
    }
    const json_t *b = json_object_get(src, "valueBoolean");
    if (json_is_boolean(b)) {
        json_object_set_new(row, "value", json_pack("{s:b}", "boolean", json_is_true(b)));
        return;
    }
    const json_t *i = json_object_get(src, "valueInteger");
    if (json_is_integer(i)) json_object_set_new(row, "value", json_pack("{s:I}", "integer", json_integer_value(i)));
}

static void set_status(json_t *row, const json_t *res) {
    const char *s = json_string_value(json_object_get(res, "status"));
    if (s && charset(s, 32, "-")) json_object_set_new(row, "status", json_string(s));
}

/* --- records --- */

json_t *mc_deid_record(const json_t *res, bool over89) {
    const char *type = json_string_value(json_object_get(res, "resourceType"));
    if (!type) return NULL;
    json_t *row = json_object();
    if (!row) return NULL;
    int year = 0;
    if (strcmp(type, "Observation") == 0) {
        static const char *const p[] = {"effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued"};
        year = first_year(res, p, 4);
        set_codes(row, "code", json_object_get(res, "code"));
        set_codes(row, "category", json_object_get(res, "category"));
        set_value(row, res);
        const json_t *comps = json_object_get(res, "component");
        if (json_array_size(comps)) {
            json_t *out = json_array();
            for (size_t i = 0; i < json_array_size(comps); i++) {
                const json_t *c = json_array_get(comps, i);
                json_t *r = json_object();
                set_codes(r, "code", json_object_get(c, "code"));
                set_value(r, c);
                json_array_append_new(out, r);
            }
            json_object_set_new(row, "component", out);
        }
    } else if (strcmp(type, "Condition") == 0 || strcmp(type, "AllergyIntolerance") == 0) {
        static const char *const p[] = {"onsetDateTime", "onsetPeriod.start", "recordedDate"};
        year = first_year(res, p, 3);
        set_codes(row, "code", json_object_get(res, "code"));
        set_codes(row, "category", json_object_get(res, "category"));
        set_codes(row, "clinicalStatus", json_object_get(res, "clinicalStatus"));
        set_codes(row, "verificationStatus", json_object_get(res, "verificationStatus"));
    } else if (strcmp(type, "Encounter") == 0) {
        static const char *const p[] = {"period.start"};
        year = first_year(res, p, 1);
        json_t *cls = coding(json_object_get(res, "class"));
        if (cls) json_object_set_new(row, "class", cls);
        set_codes(row, "type", json_object_get(res, "type"));
        set_codes(row, "reasonCode", json_object_get(res, "reasonCode"));
    } else if (strcmp(type, "MedicationStatement") == 0) {
        static const char *const p[] = {"effectiveDateTime", "effectivePeriod.start", "dateAsserted"};
        year = first_year(res, p, 3);
        set_codes(row, "medication", json_object_get(res, "medicationCodeableConcept"));
    } else if (strcmp(type, "Immunization") == 0) {
        static const char *const p[] = {"occurrenceDateTime", "recorded"};
        year = first_year(res, p, 2);
        set_codes(row, "vaccineCode", json_object_get(res, "vaccineCode"));
    } else if (strcmp(type, "DiagnosticReport") == 0) {
        static const char *const p[] = {"effectiveDateTime", "effectivePeriod.start", "issued"};
        year = first_year(res, p, 3);
        set_codes(row, "code", json_object_get(res, "code"));
        set_codes(row, "category", json_object_get(res, "category"));
    } else if (strcmp(type, "DocumentReference") == 0) {
        static const char *const p[] = {"date"};
        year = first_year(res, p, 1);
        set_codes(row, "type", json_object_get(res, "type"));
        set_codes(row, "category", json_object_get(res, "category"));
    } else if (strcmp(type, "Claim") == 0 || strcmp(type, "ExplanationOfBenefit") == 0) {
        static const char *const p[] = {"created", "billablePeriod.start"};
        year = first_year(res, p, 2);
        set_codes(row, "type", json_object_get(res, "type"));
        const json_t *items = json_object_get(res, "item");
        json_t *codes = json_array();
        for (size_t i = 0; i < json_array_size(items); i++)
            add_codes(codes, json_object_get(json_array_get(items, i), "productOrService"));
        if (json_array_size(codes)) json_object_set_new(row, "items", codes);
        else json_decref(codes);
    } else {
        json_decref(row); /* Patient (quasi-identifiers), Provenance, unknown */
        return NULL;
    }
    json_object_set_new(row, "resourceType", json_string(type));
    set_status(row, res);
    json_object_set_new(row, "year", year && !over89 ? json_integer(year) : json_null());
    return row;
}

/* --- demographics --- */

void mc_deid_zip3(char out[4], const char *zip) {
    out[0] = 0;
    if (!zip) return;
    size_t digits = 0;
    while (zip[digits] >= '0' && zip[digits] <= '9') digits++;
    if (digits < 5 || (zip[digits] && zip[digits] != '-')) return;
    /* HHS: three-digit ZIP areas with 20,000 or fewer people (2000 census). */
    static const char *const restricted[] = {"036", "059", "063", "102", "203", "556",
                                             "692", "790", "821", "823", "830", "831",
                                             "878", "879", "884", "890", "893"};
    memcpy(out, zip, 3);
    out[3] = 0;
    for (size_t i = 0; i < sizeof restricted / sizeof restricted[0]; i++)
        if (memcmp(out, restricted[i], 3) == 0) memcpy(out, "000", 4);
}

static void omb_category(char *out, size_t size, const json_t *patient, const char *url) {
    const json_t *ext = json_object_get(patient, "extension");
    for (size_t i = 0; i < json_array_size(ext); i++) {
        const json_t *e = json_array_get(ext, i);
        const char *u = json_string_value(json_object_get(e, "url"));
        if (!u || strcmp(u, url) != 0) continue;
        const json_t *sub = json_object_get(e, "extension");
        for (size_t j = 0; j < json_array_size(sub); j++) {
            const json_t *s = json_array_get(sub, j);
            const char *su = json_string_value(json_object_get(s, "url"));
            const json_t *vc = json_object_get(s, "valueCoding");
            const char *sys = json_string_value(json_object_get(vc, "system"));
            const char *code = json_string_value(json_object_get(vc, "code"));
            if (su && strcmp(su, "ombCategory") == 0 && sys &&
                strcmp(sys, "urn:oid:2.16.840.1.113883.6.238") == 0 && code && charset(code, 12, "-")) {
                snprintf(out, size, "%s", code);
                return;
            }
        }
    }
}

void mc_deid_demographics(struct mc_deid_quasi *q, const json_t *p, int ref_year) {
    memset(q, 0, sizeof *q);
    const char *g = json_string_value(json_object_get(p, "gender"));
    if (g && (!strcmp(g, "male") || !strcmp(g, "female") || !strcmp(g, "other") || !strcmp(g, "unknown")))
        snprintf(q->gender, sizeof q->gender, "%s", g);
    int by = year_of(json_object_get(p, "birthDate"));
    if (by) {
        if (ref_year - by > 89) {
            q->over89 = true;
            snprintf(q->birth, sizeof q->birth, "90+");
        } else {
            snprintf(q->birth, sizeof q->birth, "%d", by);
        }
    }
    const json_t *addr = json_array_get(json_object_get(p, "address"), 0);
    const char *zip = json_string_value(json_object_get(addr, "postalCode"));
    const char *country = json_string_value(json_object_get(addr, "country"));
    if (!country || !strcmp(country, "US") || !strcmp(country, "USA")) mc_deid_zip3(q->zip3, zip);
    const char *state = json_string_value(json_object_get(addr, "state"));
    if (state && charset(state, sizeof q->state - 1, " ")) snprintf(q->state, sizeof q->state, "%s", state);
    omb_category(q->race, sizeof q->race, p, "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race");
    omb_category(q->ethnicity, sizeof q->ethnicity, p,
                 "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity");
}

json_t *mc_deid_quasi_json(const struct mc_deid_quasi *q) {
    json_t *o = json_object();
    const char *names[] = {"gender", "birth", "zip3", "state", "race", "ethnicity"};
    const char *vals[] = {q->gender, q->birth, q->zip3, q->state, q->race, q->ethnicity};
    for (int i = 0; o && i < 6; i++)
        if (vals[i][0]) json_object_set_new(o, names[i], json_string(vals[i]));
    return o;
}

void mc_deid_cell(char *out, size_t size, const struct mc_deid_quasi *q) {
    snprintf(out, size, "%s|%s|%s|%s|%s|%s", q->gender, q->birth, q->zip3, q->state, q->race,
             q->ethnicity);
}

/* --- small cells --- */

static int by_quasi_then_subject(const void *a, const void *b) {
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int c = strcmp(json_string_value(json_object_get(x, "quasi")), json_string_value(json_object_get(y, "quasi")));
    if (c) return c;
    return strcmp(json_string_value(json_object_get(x, "subject")), json_string_value(json_object_get(y, "subject")));
}

static int by_subject(const void *a, const void *b) {
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    return strcmp(json_string_value(json_object_get(x, "subject")), json_string_value(json_object_get(y, "subject")));
}

size_t mc_deid_suppress(json_t *patients, unsigned k) {
    size_t n = json_array_size(patients);
    if (n == 0) return 0;
    json_t **v = malloc(n * sizeof *v);
    if (!v) {
        json_array_clear(patients); /* never release what could not be checked */
        return n;
    }
    for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(patients, i));
    qsort(v, n, sizeof *v, by_quasi_then_subject);
    size_t kept = 0, suppressed = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        const char *cell = json_string_value(json_object_get(v[i], "quasi"));
        while (j < n && strcmp(json_string_value(json_object_get(v[j], "quasi")), cell) == 0) j++;
        if (j - i >= k) {
            for (size_t m = i; m < j; m++) v[kept++] = v[m];
        } else {
            for (size_t m = i; m < j; m++) json_decref(v[m]);
            suppressed += j - i;
        }
        i = j;
    }
    qsort(v, kept, sizeof *v, by_subject);
    json_array_clear(patients);
    for (size_t i = 0; i < kept; i++) {
        json_object_del(v[i], "quasi");
        json_array_append_new(patients, v[i]);
    }
    free(v);
    return suppressed;
}

int mc_deid_hash(mc_hash *out, const json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!s) return MC_ERR_NOMEM;
    mc_sha256(out, s, strlen(s));
    free(s);
    return 0;
}
