/* libFuzzer target for the FHIR JSON that keeps its numbers' text
 * (src/api/json_exact.c) and what reads it: the validator, the search
 * matcher and the transaction Bundle's conditional references and
 * directory (src/api/fhir*.c).
 *
 * Properties: nothing crashes; whatever loads dumps, and the dump loads
 * again to an equal tree that dumps to the same bytes (a fixed point);
 * every number comes back with exactly the text it had; and a text that
 * loads is JSON to jansson too, unless it holds a number too large for
 * jansson's int64 or double (which this parser keeps as written). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fhir.h"
#include "api/fhir_conditional.h"
#include "api/fhir_search.h"
#include "api/json_exact.h"
#include "app/records.h"

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_fhir: property broken: %s\n", what);
        abort();
    }
}

/* Collects the numbers' texts of v, in document order, into out. */
static void numbers(const json_t *v, json_t *out) {
    const char *n = mc_json_exact_number(v);
    if (n) {
        json_array_append_new(out, json_string(n));
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) numbers(x, out);
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) numbers(json_array_get(v, i), out);
    }
}

static json_t *no_stored(void *ctx, uint16_t type, int *rc) {
    *rc = 0;
    return json_array();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024) return 0;
    json_error_t e;
    json_t *v = mc_json_exact_load((const char *)data, size, &e);
    if (!v) return 0;
    size_t n1 = 0, n2 = 0;
    char *d1 = mc_json_exact_dump(v, JSON_COMPACT, &n1);
    check(d1 != NULL, "a loaded value dumps");
    json_t *w = mc_json_exact_load(d1, n1, &e);
    check(w != NULL, "a dump loads again");
    check(json_equal(v, w), "the reloaded tree is equal");
    char *d2 = mc_json_exact_dump(w, JSON_COMPACT, &n2);
    check(d2 && n1 == n2 && memcmp(d1, d2, n1) == 0, "dump is a fixed point");
    json_t *a = json_array(), *b = json_array();
    numbers(v, a);
    numbers(w, b);
    check(json_equal(a, b), "every number keeps its text");
    /* jansson agrees it is JSON (it refuses numbers beyond int64 and
     * double) */
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    check(j != NULL || strstr(e.text, "too big") || strstr(e.text, "overflow"), "jansson parses what loads");
    json_decref(j);
    /* what reads such trees */
    uint16_t type = 0;
    char why[300];
    (void)mc_fhir_validate(v, &type, why, sizeof why);
    for (uint16_t t = 1; t <= MC_FHIR_TYPE_MAX; t++) {
        struct mc__fhir_search s;
        memset(&s, 0, sizeof s);
        s.type = t;
        s.ndate = 1;
        snprintf(s.date[0].prefix, sizeof s.date[0].prefix, "ge");
        s.date[0].start = 0;
        s.date[0].end = 86400000;
        s.code.n = 1;
        s.code.v[0].has_system = true;
        s.category.n = 1;
        (void)mc__fhir_search_match(&s, v, "x", 1);
    }
    json_t *dir = mc_fhir_directory_entries(v);
    json_decref(dir);
    struct mc__fhir_cond_entry ce = {v, type ? type : MC_FHIR_PRACTITIONER, "x"};
    size_t resolved;
    const char *issue;
    (void)mc__fhir_conditional_resolve(&ce, 1, no_stored, NULL, &resolved, &issue, why, sizeof why);
    if (mc_json_exact_is_string(v)) {
        int64_t s0, s1;
        if (mc__fhir_date_range(json_string_value(v), &s0, &s1) == 0) check(s0 < s1, "a date range is not empty");
    }
    json_decref(a);
    json_decref(b);
    free(d1);
    free(d2);
    json_decref(w);
    json_decref(v);
    return 0;
}
