/* JSON whose numbers keep their text (api/json_exact.h): every number comes
 * back digit for digit, no client string can pass for a number, and a
 * malformed number is refused as jansson would refuse it. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_exact.h"

static char *round_trip(const char *text) {
    json_error_t e;
    json_t *v = mc_json_exact_load(text, strlen(text), &e);
    cr_assert_not_null(v, "%s: %s", text, e.text);
    size_t n = 0;
    char *out = mc_json_exact_dump(v, JSON_COMPACT, &n);
    cr_assert_not_null(out);
    cr_assert_eq(n, strlen(out));
    json_decref(v);
    return out;
}

Test(json_exact, decimals_come_back_digit_for_digit) {
    static const char *const nums[] = {"0.1", "1.50", "0.010", "1e2", "1E+2", "-1e-07",
                                       "123456789.123456789", "-0.0", "-0", "0",
                                       "140.52", "99999999999999999999999999",
                                       "3.14159265358979323846264338327950288", "2.0e10"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char in[200];
        snprintf(in, sizeof in, "{\"value\":%s,\"list\":[%s,\"%s\"]}", nums[i], nums[i], nums[i]);
        char *out = round_trip(in);
        cr_assert_str_eq(out, in);
        free(out);
    }
}

Test(json_exact, numbers_are_number_strings_and_strings_stay_strings) {
    const char *t = "{\"a\":1.50,\"b\":\"1.50\",\"c\":\"\",\"d\":[true,false,null]}";
    json_t *v = mc_json_exact_load(t, strlen(t), NULL);
    cr_assert_not_null(v);
    cr_assert_str_eq(mc_json_exact_number(json_object_get(v, "a")), "1.50");
    cr_assert(!mc_json_exact_is_string(json_object_get(v, "a")));
    cr_assert_null(mc_json_exact_number(json_object_get(v, "b")));
    cr_assert(mc_json_exact_is_string(json_object_get(v, "b")));
    cr_assert(mc_json_exact_is_string(json_object_get(v, "c")));
    cr_assert(json_is_true(json_array_get(json_object_get(v, "d"), 0)));
    /* Two trees compare number by number as text. */
    const char *u = "{\"a\":1.5,\"b\":\"1.50\",\"c\":\"\",\"d\":[true,false,null]}";
    json_t *w = mc_json_exact_load(u, strlen(u), NULL);
    cr_assert(!json_equal(v, w), "1.50 and 1.5 are different texts");
    json_decref(w);
    json_decref(v);
}

Test(json_exact, strings_escapes_and_unicode_are_kept) {
    const char *t = "{\"s\":\"a\\\"b\\\\u0000c \\u00e9 \xc3\xa9 \\/ 12\",\"n\":-12.5e3}";
    json_t *v = mc_json_exact_load(t, strlen(t), NULL);
    cr_assert_not_null(v, "an escaped backslash before u0000 is no NUL");
    cr_assert_str_eq(json_string_value(json_object_get(v, "s")), "a\"b\\u0000c \xc3\xa9 \xc3\xa9 / 12");
    char *out = mc_json_exact_dump(v, JSON_COMPACT, NULL);
    cr_assert_str_eq(out, "{\"s\":\"a\\\"b\\\\u0000c \xc3\xa9 \xc3\xa9 / 12\",\"n\":-12.5e3}");
    free(out);
    json_decref(v);
}

/* A client string holding U+0000 would be indistinguishable from a number
 * string and could then be written out unquoted (JSON injection): refused. */
Test(json_exact, a_string_with_nul_is_refused) {
    const char *t = "{\"x\":\"\\u00001,\\\"evil\\\":2\"}";
    json_error_t e;
    cr_assert_null(mc_json_exact_load(t, strlen(t), &e));
    cr_assert(strstr(e.text, "u0000"), "%s", e.text);
    const char *k = "{\"\\u0000\":1}";
    cr_assert_null(mc_json_exact_load(k, strlen(k), NULL));
}

/* The check that catches a forged number string at dump time: a NUL-led
 * string whose text is not a number makes the dump fail, never emit it. */
Test(json_exact, a_forged_number_string_does_not_dump) {
    json_t *v = json_object();
    json_object_set_new(v, "x", json_stringn_nocheck("\0" "1,\"evil\":2", 11));
    cr_assert_null(mc_json_exact_dump(v, JSON_COMPACT, NULL));
    json_decref(v);
    cr_assert_null(mc_json_exact_number_new("1,2"));
    json_t *n = mc_json_exact_number_new("6.02e23");
    cr_assert_str_eq(mc_json_exact_number(n), "6.02e23");
    char *out = mc_json_exact_dump(n, 0, NULL);
    cr_assert_str_eq(out, "6.02e23");
    free(out);
    json_decref(n);
}

Test(json_exact, malformed_numbers_and_json_are_refused) {
    static const char *const bad[] = {"[01]", "[1.]", "[.5]", "[-]", "[1e]", "[1e+]", "[+1]",
                                      "[1.2.3]", "[--1]", "[1-2]", "[0x10]", "{\"a\":1,}",
                                      "{\"a\":1,\"a\":2}", "[1", "", "[\"abc]", "[NaN]", "[Infinity]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(mc_json_exact_load(bad[i], strlen(bad[i]), NULL), "accepted %s", bad[i]);
    cr_assert(mc_json_exact_number_valid("-0.0e-0", 7));
    cr_assert(!mc_json_exact_number_valid("00", 2));
}

Test(json_exact, indentation_flags_pass_through) {
    const char *t = "{\"a\":[1.10,2]}";
    json_t *v = mc_json_exact_load(t, strlen(t), NULL);
    char *out = mc_json_exact_dump(v, JSON_INDENT(2), NULL);
    cr_assert_str_eq(out, "{\n  \"a\": [\n    1.10,\n    2\n  ]\n}");
    free(out);
    json_decref(v);
}
