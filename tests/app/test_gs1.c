/* GS1 identifiers: check digits on published numbers, element strings as
 * scanned, Digital Link URIs, every malformed case with its precise error,
 * and round trips element string <-> struct <-> Digital Link. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "app/gs1.h"

#define REF_YEAR 2025u

static struct mc_gs1_error last_err;

static int parse_es_n(struct mc_gs1_id *id, const char *s, size_t n) {
    return mc_gs1_parse_element_string(id, &last_err, s, n, REF_YEAR);
}
static int parse_es(struct mc_gs1_id *id, const char *s) { return parse_es_n(id, s, strlen(s)); }
static int parse_dl(struct mc_gs1_id *id, const char *s) {
    return mc_gs1_parse_digital_link(id, &last_err, s, strlen(s), REF_YEAR);
}

/* Asserts that parsing fails with rc, fault and AI, and that the message
 * names the AI. */
static void expect_fail(int rc, int want_rc, enum mc_gs1_fault fault, const char *ai,
                        const char *input) {
    cr_assert_eq(rc, want_rc, "%s: rc %d, want %d (%s)", input, rc, want_rc, last_err.message);
    cr_assert_eq(last_err.fault, fault, "%s: fault %s, want %s (%s)", input,
                 mc_gs1_fault_name(last_err.fault), mc_gs1_fault_name(fault), last_err.message);
    cr_assert_str_eq(last_err.ai, ai, "%s: AI '%s', want '%s'", input, last_err.ai, ai);
    cr_assert_neq(last_err.message[0], 0);
    if (ai[0]) {
        char needle[16];
        snprintf(needle, sizeof needle, "AI %s", ai);
        cr_assert(strstr(last_err.message, needle) || strstr(last_err.message, "GTIN"),
                  "%s: message does not name the AI: %s", input, last_err.message);
    }
}

static void es_fail(const char *s, int want_rc, enum mc_gs1_fault fault, const char *ai) {
    struct mc_gs1_id id;
    expect_fail(parse_es(&id, s), want_rc, fault, ai, s);
    cr_assert_eq(id.gtin[0], 0, "output must be zeroed on error");
}

static void dl_fail(const char *s, int want_rc, enum mc_gs1_fault fault, const char *ai) {
    struct mc_gs1_id id;
    expect_fail(parse_dl(&id, s), want_rc, fault, ai, s);
    cr_assert_eq(id.gtin[0], 0, "output must be zeroed on error");
}

/* ---- check digits ------------------------------------------------------- */

/* Published numbers: 09506000134352 (GS1's example GTIN), 4006381333931
 * (EAN-13 check digit example), 036000291452 (UPC-A example), 96385074
 * (EAN-8 example), 04012345111118 (GS1 EPC Tag Data Standard SGTIN
 * example), 09521234543213 and 09520123456788 (GS1 Digital Link examples),
 * 106141411234567897 (SSCC example). */
static const char *const published[] = {
    "09506000134352", "4006381333931", "036000291452", "96385074",
    "04012345111118", "09521234543213", "09520123456788", "106141411234567897",
};

Test(gs1, check_digit_published_valid) {
    for (size_t i = 0; i < sizeof published / sizeof published[0]; i++) {
        const char *g = published[i];
        size_t n = strlen(g);
        cr_assert(mc_gs1_check_digit_valid(g, n), "%s", g);
        cr_assert_eq(mc_gs1_check_digit_compute(g, n - 1), g[n - 1] - '0', "%s", g);
    }
    cr_assert_eq(mc_gs1_check_digit_compute("400638133393", 12), 1);
    cr_assert_eq(mc_gs1_check_digit_compute("0950600013435", 13), 2);
}

Test(gs1, check_digit_invalid) {
    for (size_t i = 0; i < sizeof published / sizeof published[0]; i++) {
        char g[32];
        snprintf(g, sizeof g, "%s", published[i]);
        size_t n = strlen(g);
        for (int d = 1; d <= 9; d++) {
            g[n - 1] = (char)('0' + (published[i][n - 1] - '0' + d) % 10);
            cr_assert(!mc_gs1_check_digit_valid(g, n), "%s", g);
        }
    }
    /* a transposition of adjacent digits that differ by other than 5 is caught */
    cr_assert(!mc_gs1_check_digit_valid("09560000134352", 14));
    cr_assert(!mc_gs1_check_digit_valid("0950600013435X", 14));
    cr_assert(!mc_gs1_check_digit_valid("5", 1));
    cr_assert_eq(mc_gs1_check_digit_compute("12a", 3), MC_ERR_MALFORMED);
    cr_assert_eq(mc_gs1_check_digit_compute("", 0), MC_ERR_MALFORMED);
}

Test(gs1, gtin_normalize) {
    char out[15];
    struct mc_gs1_error e;
    cr_assert_eq(mc_gs1_gtin_normalize(out, &e, "4006381333931", 13), 0);
    cr_assert_str_eq(out, "04006381333931");
    cr_assert_eq(mc_gs1_gtin_normalize(out, &e, "036000291452", 12), 0);
    cr_assert_str_eq(out, "00036000291452");
    cr_assert_eq(mc_gs1_gtin_normalize(out, &e, "96385074", 8), 0);
    cr_assert_str_eq(out, "00000096385074");
    cr_assert_eq(mc_gs1_gtin_normalize(out, &e, "09506000134352", 14), 0);
    cr_assert_str_eq(out, "09506000134352");

    cr_assert_eq(mc_gs1_gtin_normalize(out, &e, "4006381333932", 13), MC_ERR_INVALID);
    cr_assert_eq(e.fault, MC_GS1_FAULT_BAD_CHECK_DIGIT);
    cr_assert(strstr(e.message, "should be 1"), "%s", e.message);
    cr_assert_str_eq(out, "");
    cr_assert_eq(mc_gs1_gtin_normalize(out, &e, "40063813339", 11), MC_ERR_MALFORMED);
    cr_assert_eq(e.fault, MC_GS1_FAULT_BAD_LENGTH);
    cr_assert_eq(mc_gs1_gtin_normalize(out, &e, "40063813A3931", 13), MC_ERR_MALFORMED);
    cr_assert_eq(e.fault, MC_GS1_FAULT_BAD_CHARACTER);
    cr_assert_eq(e.offset, 8);
    cr_assert_eq(mc_gs1_gtin_normalize(out, NULL, "4006381333931", 13), 0);
}

/* ---- dates -------------------------------------------------------------- */

Test(gs1, century_rule) {
    /* d = yy - (reference mod 100): 51..99 previous century, -99..-50 next */
    cr_assert_eq(mc_gs1_year_resolve(25, 2025), 2025);
    cr_assert_eq(mc_gs1_year_resolve(75, 2025), 2075); /* d = 50 */
    cr_assert_eq(mc_gs1_year_resolve(76, 2025), 1976); /* d = 51 */
    cr_assert_eq(mc_gs1_year_resolve(99, 2000), 1999);
    cr_assert_eq(mc_gs1_year_resolve(50, 2000), 2050);
    cr_assert_eq(mc_gs1_year_resolve(21, 2070), 2021); /* d = -49 */
    cr_assert_eq(mc_gs1_year_resolve(20, 2070), 2120); /* d = -50 */
    cr_assert_eq(mc_gs1_year_resolve(0, 2099), 2100);
    cr_assert_eq(mc_gs1_year_resolve(49, 2099), 2149);
    cr_assert_eq(mc_gs1_year_resolve(48, 2099), 2148); /* d = -51 */
    cr_assert_eq(mc_gs1_year_resolve(50, 2099), 2050); /* d = -49 */
}

Test(gs1, century_rule_from_reference_input) {
    struct mc_gs1_id id;
    const char *s = "(01)09506000134352(17)760101";
    cr_assert_eq(mc_gs1_parse_element_string(&id, NULL, s, strlen(s), 2025), 0);
    cr_assert_eq(id.expiry.year, 1976);
    cr_assert_eq(mc_gs1_parse_element_string(&id, NULL, s, strlen(s), 2030), 0);
    cr_assert_eq(id.expiry.year, 2076);
}

Test(gs1, day_zero_is_last_day_of_month) {
    struct mc_gs1_id id;
    cr_assert_eq(parse_es(&id, "(01)09506000134352(17)250200"), 0);
    cr_assert_eq(id.expiry.year, 2025);
    cr_assert_eq(id.expiry.month, 2);
    cr_assert_eq(id.expiry.day, 28);
    cr_assert(id.expiry.day_unspecified);
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id.expiry), 20250228u);
    cr_assert_eq(parse_es(&id, "(01)09506000134352(17)240200"), 0); /* leap year */
    cr_assert_eq(id.expiry.day, 29);
    cr_assert_eq(parse_es(&id, "(01)09506000134352(17)251200"), 0);
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id.expiry), 20251231u);
    cr_assert_eq(parse_es(&id, "(01)09506000134352(17)250400"), 0);
    cr_assert_eq(id.expiry.day, 30);
    /* and it survives a round trip as 00 */
    char buf[MC_GS1_ELEMENT_STRING_MAX];
    cr_assert_eq(mc_gs1_encode_element_string(buf, sizeof buf, NULL, &id, true), 0);
    cr_assert_str_eq(buf, "(01)09506000134352(17)250400");
}

Test(gs1, leap_day) {
    struct mc_gs1_id id;
    cr_assert_eq(parse_es(&id, "(01)09506000134352(17)240229"), 0);
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id.expiry), 20240229u);
    es_fail("(01)09506000134352(17)250229", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "17");
    /* 2000 was a leap year, 2100 will not be */
    cr_assert_eq(mc_gs1_parse_element_string(&id, NULL, "0109506000134352" "17000229", 24, 2001), 0);
    cr_assert_neq(mc_gs1_parse_element_string(&id, NULL, "0109506000134352" "17000229", 24, 2090), 0);
}

Test(gs1, bad_dates) {
    es_fail("(01)09506000134352(17)251301", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "17");
    cr_assert(strstr(last_err.message, "month 13"), "%s", last_err.message);
    es_fail("(01)09506000134352(17)250132", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "17");
    cr_assert(strstr(last_err.message, "day 32"), "%s", last_err.message);
    es_fail("(01)09506000134352(17)250230", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "17");
    cr_assert(strstr(last_err.message, "February 2025 has 28 days"), "%s", last_err.message);
    es_fail("(01)09506000134352(17)250431", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "17");
    es_fail("(01)09506000134352(17)250001", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "17");
    es_fail("(01)09506000134352(11)251301", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "11");
    es_fail("(01)09506000134352(15)250132", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "15");
    es_fail("(01)09506000134352(16)250230", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "16");
    es_fail("(01)09506000134352(17)25O101", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "17");
    /* raw form: offset points at the bad field */
    es_fail("0109506000134352" "17251301", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "17");
    cr_assert_eq(last_err.offset, 20);
}

/* ---- element strings ---------------------------------------------------- */

static void expect_example(const struct mc_gs1_id *id) {
    cr_assert_str_eq(id->gtin, "09506000134352");
    cr_assert_str_eq(id->lot, "ABC");
    cr_assert_str_eq(id->serial, "123");
    cr_assert_str_eq(id->cpv, "");
    cr_assert_eq(id->present, MC_GS1_HAS_EXPIRY);
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id->expiry), 20201225u);
    cr_assert(!id->expiry.day_unspecified);
}

Test(gs1, element_string_human_readable) {
    struct mc_gs1_id id;
    cr_assert_eq(parse_es(&id, "(01)09506000134352(17)201225(10)ABC(21)123"), 0,
                 "%s", last_err.message);
    expect_example(&id);
    cr_assert_eq(last_err.fault, MC_GS1_FAULT_NONE);
}

Test(gs1, element_string_as_scanned) {
    struct mc_gs1_id id;
    /* GS1 DataMatrix: symbology identifier, fixed AIs without separators,
     * GS after the variable-length lot. */
    const char dm[] = "]d2" "01095060001343521720122510ABC" "\x1d" "21123";
    cr_assert_eq(parse_es(&id, dm), 0, "%s", last_err.message);
    expect_example(&id);
    /* GS1 QR Code and GS1-128 identifiers, and FNC1 transmitted as GS */
    cr_assert_eq(parse_es(&id, "]Q3" "01095060001343521720122510ABC" "\x1d" "21123"), 0);
    expect_example(&id);
    cr_assert_eq(parse_es(&id, "]C1" "01095060001343521720122510ABC" "\x1d" "21123"), 0);
    expect_example(&id);
    cr_assert_eq(parse_es(&id, "\x1d" "01095060001343521720122510ABC" "\x1d" "21123"), 0);
    expect_example(&id);
    /* variable-length AIs first, a redundant GS after a fixed-length one,
     * and a trailing GS, as some encoders produce */
    cr_assert_eq(parse_es(&id, "21123" "\x1d" "10ABC" "\x1d" "0109506000134352" "\x1d"
                               "17201225" "\x1d"), 0, "%s", last_err.message);
    expect_example(&id);
}

Test(gs1, element_string_other_ais) {
    struct mc_gs1_id id;
    /* securPharm style pack: PZN as NHRN (710), and a count (30): checked,
     * not kept. Also cpv (22), production (11), best before (15), sell by (16). */
    const char s[] = "]d2" "0104150123456782" "11240101" "15261130" "16261031" "17261231"
                     "22V1" "\x1d" "10L0T-7" "\x1d" "21SN/001" "\x1d" "71012345678" "\x1d"
                     "305" "\x1d" "3102001234";
    cr_assert_eq(parse_es(&id, s), 0, "%s", last_err.message);
    cr_assert_str_eq(id.gtin, "04150123456782");
    cr_assert_str_eq(id.cpv, "V1");
    cr_assert_str_eq(id.lot, "L0T-7");
    cr_assert_str_eq(id.serial, "SN/001");
    cr_assert_eq(id.present, MC_GS1_HAS_EXPIRY | MC_GS1_HAS_PRODUCTION |
                                 MC_GS1_HAS_BEST_BEFORE | MC_GS1_HAS_SELL_BY);
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id.production), 20240101u);
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id.best_before), 20261130u);
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id.sell_by), 20261031u);
    /* a dropped AI is still checked */
    es_fail("0104150123456782" "3102ABCDEF", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "3102");
    es_fail("0104150123456782" "00106141411234567898", MC_ERR_INVALID,
            MC_GS1_FAULT_BAD_CHECK_DIGIT, "00");
}

Test(gs1, element_string_bad_check_digit) {
    es_fail("(01)09506000134353(10)ABC", MC_ERR_INVALID, MC_GS1_FAULT_BAD_CHECK_DIGIT, "01");
    cr_assert(strstr(last_err.message, "should be 2"), "%s", last_err.message);
    es_fail("]d2" "0109506000134351" "10ABC", MC_ERR_INVALID, MC_GS1_FAULT_BAD_CHECK_DIGIT, "01");
    cr_assert_eq(last_err.offset, 3 + 2 + 13);
}

Test(gs1, element_string_too_long) {
    /* serial of 21 characters: at most 20 */
    es_fail("(01)09506000134352(21)ABCDEFGHIJKLMNOPQRSTU", MC_ERR_MALFORMED,
            MC_GS1_FAULT_TOO_LONG, "21");
    cr_assert(strstr(last_err.message, "at most 20"), "%s", last_err.message);
    es_fail("0109506000134352" "21ABCDEFGHIJKLMNOPQRSTU", MC_ERR_MALFORMED,
            MC_GS1_FAULT_TOO_LONG, "21");
    cr_assert_eq(last_err.offset, 18 + 20);
    es_fail("0109506000134352" "10ABCDEFGHIJKLMNOPQRSTUVWXYZ" "\x1d" "21X", MC_ERR_MALFORMED,
            MC_GS1_FAULT_TOO_LONG, "10");
    /* exactly 20 is fine */
    struct mc_gs1_id id;
    cr_assert_eq(parse_es(&id, "0109506000134352" "21ABCDEFGHIJKLMNOPQRST"), 0);
    cr_assert_str_eq(id.serial, "ABCDEFGHIJKLMNOPQRST");
    /* a fixed-length AI with one digit too many in the bracketed form */
    es_fail("(01)095060001343520", MC_ERR_MALFORMED, MC_GS1_FAULT_TOO_LONG, "01");
}

Test(gs1, element_string_invalid_characters) {
    es_fail("0109506000134352" "21ABC~D", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "21");
    cr_assert_eq(last_err.offset, 21);
    cr_assert(strstr(last_err.message, "character 4"), "%s", last_err.message);
    cr_assert(strstr(last_err.message, "'~'"), "%s", last_err.message);
    es_fail("(01)09506000134352(10)AB C", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "10");
    cr_assert(strstr(last_err.message, "0x20"), "%s", last_err.message);
    es_fail("(01)09506000134352(21)caf\xc3\xa9", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "21");
    es_fail("(01)09506000134352(21)A#B", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "21");
    es_fail("(01)0950600013435A", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "01");
    /* NUL inside the data */
    struct mc_gs1_id id;
    expect_fail(parse_es_n(&id, "0109506000134352" "21A\0B", 21), MC_ERR_MALFORMED,
                MC_GS1_FAULT_BAD_CHARACTER, "21", "NUL");
    /* every character of set 82 is accepted */
    cr_assert_eq(parse_es(&id, "(01)09506000134352(10)!\"%&'()*+,-./:;<(21)=>?_zZ9"), 0,
                 "%s", last_err.message);
    cr_assert_str_eq(id.lot, "!\"%&'()*+,-./:;<");
    cr_assert_str_eq(id.serial, "=>?_zZ9");
}

Test(gs1, element_string_unknown_ai) {
    es_fail("0109506000134352" "05123", MC_ERR_MALFORMED, MC_GS1_FAULT_UNKNOWN_AI, "05");
    cr_assert_eq(last_err.offset, 16);
    es_fail("0109506000134352" "2391", MC_ERR_MALFORMED, MC_GS1_FAULT_UNKNOWN_AI, "239");
    es_fail("0109506000134352" "3109001234", MC_ERR_MALFORMED, MC_GS1_FAULT_UNKNOWN_AI, "3109");
    es_fail("(01)09506000134352(05)123", MC_ERR_MALFORMED, MC_GS1_FAULT_UNKNOWN_AI, "05");
    es_fail("(01)09506000134352(999)1", MC_ERR_MALFORMED, MC_GS1_FAULT_UNKNOWN_AI, "999");
}

Test(gs1, element_string_missing_separator) {
    /* lot and serial both variable-length: without the GS the lot swallows
     * the serial and runs past 20 characters */
    es_fail("]d2" "0109506000134352" "10LOT2024ABCDEF" "21SERIAL0000001", MC_ERR_MALFORMED,
            MC_GS1_FAULT_MISSING_SEPARATOR, "10");
    cr_assert_eq(last_err.offset, 3 + 16 + 2 + 13);
    cr_assert(strstr(last_err.message, "before AI 21"), "%s", last_err.message);
    es_fail("0109506000134352" "21SERIAL0000000000001" "17261231", MC_ERR_MALFORMED,
            MC_GS1_FAULT_MISSING_SEPARATOR, "21");
    cr_assert(strstr(last_err.message, "before AI 17"), "%s", last_err.message);
}

Test(gs1, element_string_duplicate_ai) {
    es_fail("0109506000134352" "21A" "\x1d" "21B", MC_ERR_INVALID, MC_GS1_FAULT_DUPLICATE_AI, "21");
    es_fail("(01)09506000134352(17)261231(17)261231", MC_ERR_INVALID,
            MC_GS1_FAULT_DUPLICATE_AI, "17");
    es_fail("(01)09506000134352(01)09506000134352", MC_ERR_INVALID,
            MC_GS1_FAULT_DUPLICATE_AI, "01");
}

Test(gs1, element_string_structure_errors) {
    es_fail("", MC_ERR_MALFORMED, MC_GS1_FAULT_EMPTY, "");
    es_fail("]d2", MC_ERR_MALFORMED, MC_GS1_FAULT_EMPTY, "");
    es_fail("]d1" "0109506000134352", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_SYMBOLOGY, "");
    es_fail("(17)261231(10)ABC", MC_ERR_INVALID, MC_GS1_FAULT_MISSING_GTIN, "01");
    es_fail("010950600013", MC_ERR_MALFORMED, MC_GS1_FAULT_TRUNCATED, "01");
    es_fail("0109506000134352" "172612", MC_ERR_MALFORMED, MC_GS1_FAULT_TRUNCATED, "17");
    es_fail("(01)09506000134352(17)2612", MC_ERR_MALFORMED, MC_GS1_FAULT_TRUNCATED, "17");
    es_fail("010950600013" "\x1d" "4352", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_LENGTH, "01");
    es_fail("(01)0950600013435(10)A", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_LENGTH, "01");
    es_fail("0109506000134352" "10" "\x1d" "21A", MC_ERR_MALFORMED, MC_GS1_FAULT_EMPTY_VALUE, "10");
    es_fail("(01)09506000134352(10)", MC_ERR_MALFORMED, MC_GS1_FAULT_EMPTY_VALUE, "10");
    es_fail("0109506000134352" "\x1d\x1d" "10A", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_AI, "");
    es_fail("0109506000134352" "X10A", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_AI, "");
    es_fail("0109506000134352" "1", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_AI, "");
    es_fail("(1)A(01)09506000134352", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_AI, "");
    es_fail("(10A(01)09506000134352", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_AI, "");
    /* "(" that does not open an AI is data: here too much for AI 01 */
    es_fail("(01)09506000134352(1)A", MC_ERR_MALFORMED, MC_GS1_FAULT_TOO_LONG, "01");
}

Test(gs1, input_too_long) {
    static char big[MC_GS1_INPUT_MAX + 2];
    memset(big, '1', sizeof big - 1);
    struct mc_gs1_id id;
    expect_fail(parse_es(&id, big), MC_ERR_TOO_LARGE, MC_GS1_FAULT_INPUT_TOO_LONG, "", "big");
    expect_fail(parse_dl(&id, big), MC_ERR_TOO_LARGE, MC_GS1_FAULT_INPUT_TOO_LONG, "", "big");
}

/* ---- Digital Link ------------------------------------------------------- */

Test(gs1, digital_link_published_examples) {
    struct mc_gs1_id id;
    /* GS1 Digital Link standard / GS1 resolver examples */
    cr_assert_eq(parse_dl(&id, "https://id.gs1.org/01/09521234543213"), 0, "%s", last_err.message);
    cr_assert_str_eq(id.gtin, "09521234543213");
    cr_assert_eq(parse_dl(&id, "https://id.gs1.org/01/09521234543213/10/ABC123/21/12345"), 0);
    cr_assert_str_eq(id.lot, "ABC123");
    cr_assert_str_eq(id.serial, "12345");
    cr_assert_eq(parse_dl(&id, "https://id.gs1.org/01/09521234543213/10/ABC123?17=261231"), 0);
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id.expiry), 20261231u);
    cr_assert_eq(parse_dl(&id, "https://example.com/products/01/09521234543213"), 0);
    cr_assert_eq(parse_dl(&id, "https://example.com/01/04012345111118/21/987?15=211231"), 0);
    cr_assert_str_eq(id.serial, "987");
    cr_assert_eq(id.present, MC_GS1_HAS_BEST_BEFORE);
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id.best_before), 20211231u);
    /* the brief's example, and its element string */
    cr_assert_eq(parse_dl(&id, "https://id.example/01/09506000134352/10/ABC/21/123?17=201225"), 0);
    expect_example(&id);
}

Test(gs1, digital_link_variants) {
    struct mc_gs1_id id;
    /* GTIN-13 in the path is padded to 14 */
    cr_assert_eq(parse_dl(&id, "https://example.com/01/4006381333931/21/X1"), 0, "%s",
                 last_err.message);
    cr_assert_str_eq(id.gtin, "04006381333931");
    /* cpv, lot, serial in order; percent-encoding; non-GS1 query keys
     * ignored; fragment ignored; upper-case scheme; port in the host */
    cr_assert_eq(parse_dl(&id, "HTTPS://Brand.Example:8443/a/b/01/09506000134352/22/2A/10/AB%2FC%25"
                               "/21/x%2By?linkType=gs1:pip&17=261231&utm_source=label#top"),
                 0, "%s", last_err.message);
    cr_assert_str_eq(id.cpv, "2A");
    cr_assert_str_eq(id.lot, "AB/C%");
    cr_assert_str_eq(id.serial, "x+y");
    cr_assert_eq(mc_gs1_date_yyyymmdd(&id.expiry), 20261231u);
    /* the request target a resolver sees */
    cr_assert_eq(parse_dl(&id, "/01/09506000134352/10/ABC/21/123?17=201225"), 0);
    expect_example(&id);
    /* query data attributes in any order, and '+' is a literal */
    cr_assert_eq(parse_dl(&id, "/01/09506000134352?17=201225&11=200101&16=201201&15=201210"), 0);
    cr_assert_eq(id.present, MC_GS1_HAS_EXPIRY | MC_GS1_HAS_PRODUCTION |
                                 MC_GS1_HAS_BEST_BEFORE | MC_GS1_HAS_SELL_BY);
    /* other GS1 data attributes are checked and dropped */
    cr_assert_eq(parse_dl(&id, "/01/09506000134352?710=12345678&30=5"), 0);
    /* a path prefix holding "01" itself */
    cr_assert_eq(parse_dl(&id, "https://example.com/01/shop/01/09506000134352/21/1"), 0,
                 "%s", last_err.message);
    cr_assert_str_eq(id.serial, "1");
    /* percent-encoded digits in the GTIN are still digits */
    cr_assert_eq(parse_dl(&id, "/01/%309506000134352"), 0);
}

Test(gs1, digital_link_qualifier_order) {
    dl_fail("https://id.gs1.org/01/09506000134352/21/123/10/ABC", MC_ERR_INVALID,
            MC_GS1_FAULT_QUALIFIER_ORDER, "10");
    cr_assert(strstr(last_err.message, "after AI 21"), "%s", last_err.message);
    cr_assert_eq(last_err.offset, 44);
    dl_fail("https://id.gs1.org/01/09506000134352/10/ABC/22/V", MC_ERR_INVALID,
            MC_GS1_FAULT_QUALIFIER_ORDER, "22");
    dl_fail("/01/09506000134352/21/1/22/V/10/L", MC_ERR_INVALID,
            MC_GS1_FAULT_QUALIFIER_ORDER, "22");
}

Test(gs1, digital_link_duplicates) {
    dl_fail("/01/09506000134352/10/ABC/10/DEF", MC_ERR_INVALID, MC_GS1_FAULT_DUPLICATE_AI, "10");
    dl_fail("/01/09506000134352?17=261231&17=261231", MC_ERR_INVALID,
            MC_GS1_FAULT_DUPLICATE_AI, "17");
}

Test(gs1, digital_link_bad_values) {
    dl_fail("https://id.gs1.org/01/09506000134353", MC_ERR_INVALID,
            MC_GS1_FAULT_BAD_CHECK_DIGIT, "01");
    dl_fail("https://id.gs1.org/01/95060001343", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_LENGTH, "01");
    dl_fail("https://id.gs1.org/01/0950600013435X", MC_ERR_MALFORMED,
            MC_GS1_FAULT_BAD_CHARACTER, "01");
    dl_fail("https://id.gs1.org/01/095060001343520", MC_ERR_MALFORMED,
            MC_GS1_FAULT_BAD_LENGTH, "01");
    dl_fail("/01/09506000134352/21/ABCDEFGHIJKLMNOPQRSTU", MC_ERR_MALFORMED,
            MC_GS1_FAULT_TOO_LONG, "21");
    cr_assert_eq(last_err.offset, 22 + 20);
    /* 20 characters after decoding is fine, however long encoded */
    struct mc_gs1_id id;
    cr_assert_eq(parse_dl(&id, "/01/09506000134352/21/%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F"
                               "%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F"), 0);
    dl_fail("/01/09506000134352/10/A%7EB", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "10");
    cr_assert_eq(last_err.offset, 23); /* the %7E */
    cr_assert(strstr(last_err.message, "character 2"), "%s", last_err.message);
    dl_fail("/01/09506000134352/10/A~B", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "10");
    dl_fail("/01/09506000134352/10/A%00", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_CHARACTER, "10");
    dl_fail("/01/09506000134352/10/AB%2", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_PERCENT, "10");
    dl_fail("/01/09506000134352/10/AB%G1", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_PERCENT, "10");
    dl_fail("/01/09506000134352?17=251301", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "17");
    dl_fail("/01/09506000134352?17=250230", MC_ERR_INVALID, MC_GS1_FAULT_BAD_DATE, "17");
    dl_fail("/01/09506000134352?17=2512", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_LENGTH, "17");
    dl_fail("/01/09506000134352?17=", MC_ERR_MALFORMED, MC_GS1_FAULT_EMPTY_VALUE, "17");
    dl_fail("/01/09506000134352?17", MC_ERR_MALFORMED, MC_GS1_FAULT_EMPTY_VALUE, "17");
    dl_fail("/01/09506000134352/10/", MC_ERR_MALFORMED, MC_GS1_FAULT_EMPTY_VALUE, "10");
}

Test(gs1, digital_link_wrong_places) {
    dl_fail("/01/09506000134352/17/261231", MC_ERR_MALFORMED, MC_GS1_FAULT_NOT_QUALIFIER, "17");
    dl_fail("/01/09506000134352?10=ABC", MC_ERR_MALFORMED, MC_GS1_FAULT_NOT_ATTRIBUTE, "10");
    dl_fail("/01/09506000134352?01=09506000134352", MC_ERR_MALFORMED,
            MC_GS1_FAULT_NOT_ATTRIBUTE, "01");
    dl_fail("/01/09506000134352?123=4", MC_ERR_MALFORMED, MC_GS1_FAULT_UNKNOWN_AI, "123");
    dl_fail("/01/09506000134352/99/1", MC_ERR_MALFORMED, MC_GS1_FAULT_NOT_QUALIFIER, "99");
    dl_fail("/01/09506000134352/77/1", MC_ERR_MALFORMED, MC_GS1_FAULT_UNKNOWN_AI, "77");
    dl_fail("/01/09506000134352/lot/1", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_AI, "");
}

Test(gs1, digital_link_bad_uri) {
    dl_fail("", MC_ERR_MALFORMED, MC_GS1_FAULT_EMPTY, "");
    dl_fail("https://example.com/products", MC_ERR_MALFORMED, MC_GS1_FAULT_NO_PRIMARY_KEY, "01");
    dl_fail("https://example.com", MC_ERR_MALFORMED, MC_GS1_FAULT_NO_PRIMARY_KEY, "01");
    dl_fail("https://example.com/01", MC_ERR_MALFORMED, MC_GS1_FAULT_NO_PRIMARY_KEY, "01");
    dl_fail("https://example.com/01/09506000134352/10", MC_ERR_MALFORMED,
            MC_GS1_FAULT_NO_PRIMARY_KEY, "01");
    cr_assert(strstr(last_err.message, "odd"), "%s", last_err.message);
    dl_fail("https:///01/09506000134352", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_URI, "");
    dl_fail("https:/id.gs1.org/01/09506000134352", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_URI, "");
    dl_fail("1ttps://id.gs1.org/01/09506000134352", MC_ERR_MALFORMED, MC_GS1_FAULT_BAD_URI, "");
    dl_fail("https://id.gs1.org/01/09506000134352/10/A B", MC_ERR_MALFORMED,
            MC_GS1_FAULT_BAD_URI, "");
    cr_assert_eq(last_err.offset, 41);
}

/* ---- output and round trips --------------------------------------------- */

Test(gs1, canonical_digital_link) {
    struct mc_gs1_id id;
    char out[MC_GS1_DIGITAL_LINK_MAX];
    size_t n;
    cr_assert_eq(parse_es(&id, "(01)09506000134352(17)201225(10)ABC(21)123"), 0);
    cr_assert_eq(mc_gs1_encode_digital_link(out, sizeof out, &n, &id, "https://id.example"), 0);
    cr_assert_str_eq(out, "https://id.example/01/09506000134352/10/ABC/21/123?17=201225");
    cr_assert_eq(n, strlen(out));
    cr_assert_eq(mc_gs1_encode_digital_link(out, sizeof out, NULL, &id, NULL), 0);
    cr_assert_str_eq(out, "https://id.gs1.org/01/09506000134352/10/ABC/21/123?17=201225");
    /* percent-encoding of set-82 characters that are not unreserved */
    cr_assert_eq(parse_es(&id, "(01)04006381333931(22)2A(10)AB/C%(21)a&b=c?d(e)_-.(11)200100"),
                 0, "%s", last_err.message);
    cr_assert_eq(mc_gs1_encode_digital_link(out, sizeof out, NULL, &id,
                                            "https://example.com/products"), 0);
    cr_assert_str_eq(out, "https://example.com/products/01/04006381333931/22/2A/10/AB%2FC%25"
                          "/21/a%26b%3Dc%3Fd%28e%29_-.?11=200100");
}

Test(gs1, canonical_element_string) {
    struct mc_gs1_id id;
    char out[MC_GS1_ELEMENT_STRING_MAX];
    size_t n;
    cr_assert_eq(parse_dl(&id, "https://x.example/01/09506000134352/22/V/10/ABC/21/123"
                               "?17=201225&11=200101"), 0);
    cr_assert_eq(mc_gs1_encode_element_string(out, sizeof out, &n, &id, false), 0);
    cr_assert_str_eq(out, "0109506000134352" "11200101" "17201225" "22V" "\x1d" "10ABC"
                          "\x1d" "21123");
    cr_assert_eq(n, strlen(out));
    cr_assert_eq(mc_gs1_encode_element_string(out, sizeof out, &n, &id, true), 0);
    cr_assert_str_eq(out, "(01)09506000134352(11)200101(17)201225(22)V(10)ABC(21)123");
}

static const char *const round_trip_inputs[] = {
    "(01)09506000134352(17)201225(10)ABC(21)123",
    "]d2" "01095060001343521720122510ABC" "\x1d" "21123",
    "0104006381333931",
    "(01)00036000291452(22)x(10)L%/1(21)!\"%&'*+,-./:;<=>?_",
    "(01)00000096385074(11)991231(15)000100(16)240229(17)250200(21)S",
    "(01)09521234543213(10)ABCDEFGHIJKLMNOPQRST(21)ABCDEFGHIJKLMNOPQRST(22)ABCDEFGHIJKLMNOPQRST",
};

Test(gs1, round_trip_element_string_struct_digital_link) {
    for (size_t i = 0; i < sizeof round_trip_inputs / sizeof round_trip_inputs[0]; i++) {
        const char *in = round_trip_inputs[i];
        struct mc_gs1_id a, b, c, d;
        cr_assert_eq(parse_es(&a, in), 0, "%s: %s", in, last_err.message);

        char dl[MC_GS1_DIGITAL_LINK_MAX];
        cr_assert_eq(mc_gs1_encode_digital_link(dl, sizeof dl, NULL, &a, "https://id.example"), 0);
        cr_assert_eq(parse_dl(&b, dl), 0, "%s: %s", dl, last_err.message);
        cr_assert(mc_gs1_id_equal(&a, &b), "%s -> %s", in, dl);
        cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "parsers zero the struct");

        char es[MC_GS1_ELEMENT_STRING_MAX];
        cr_assert_eq(mc_gs1_encode_element_string(es, sizeof es, NULL, &b, false), 0);
        cr_assert_eq(parse_es(&c, es), 0, "%s: %s", es, last_err.message);
        cr_assert(mc_gs1_id_equal(&a, &c), "%s -> %s", in, es);

        cr_assert_eq(mc_gs1_encode_element_string(es, sizeof es, NULL, &b, true), 0);
        cr_assert_eq(mc_gs1_parse(&d, NULL, es, strlen(es), REF_YEAR), 0, "%s", es);
        cr_assert(mc_gs1_id_equal(&a, &d), "%s -> %s", in, es);

        /* and the Digital Link is a fixed point */
        char dl2[MC_GS1_DIGITAL_LINK_MAX];
        cr_assert_eq(mc_gs1_encode_digital_link(dl2, sizeof dl2, NULL, &d, "https://id.example"), 0);
        cr_assert_str_eq(dl, dl2);
    }
}

Test(gs1, parse_detects_the_form) {
    struct mc_gs1_id a, b;
    const char *dl = "https://id.example/01/09506000134352/10/ABC/21/123?17=201225";
    const char *es = "(01)09506000134352(17)201225(10)ABC(21)123";
    cr_assert_eq(mc_gs1_parse(&a, NULL, dl, strlen(dl), REF_YEAR), 0);
    cr_assert_eq(mc_gs1_parse(&b, NULL, es, strlen(es), REF_YEAR), 0);
    cr_assert(mc_gs1_id_equal(&a, &b));
    cr_assert_eq(mc_gs1_parse(&a, NULL, "/01/09506000134352", 18, REF_YEAR), 0);
}

Test(gs1, encode_errors) {
    struct mc_gs1_id id;
    cr_assert_eq(parse_es(&id, "(01)09506000134352(17)201225(10)ABC(21)123"), 0);
    char small[20];
    cr_assert_eq(mc_gs1_encode_digital_link(small, sizeof small, NULL, &id, NULL), MC_ERR_TOO_LARGE);
    cr_assert_str_eq(small, "");
    cr_assert_eq(mc_gs1_encode_element_string(small, sizeof small, NULL, &id, true),
                 MC_ERR_TOO_LARGE);
    char out[MC_GS1_DIGITAL_LINK_MAX];
    cr_assert_eq(mc_gs1_encode_digital_link(out, sizeof out, NULL, &id, "https://x/"),
                 MC_ERR_INVALID);
    cr_assert_eq(mc_gs1_encode_digital_link(out, sizeof out, NULL, &id, "https://x?a"),
                 MC_ERR_INVALID);
    struct mc_gs1_id bad = id;
    bad.gtin[13] = '3';
    cr_assert_eq(mc_gs1_encode_digital_link(out, sizeof out, NULL, &bad, NULL), MC_ERR_INVALID);
    bad = id;
    bad.lot[0] = '~';
    cr_assert_eq(mc_gs1_encode_element_string(out, sizeof out, NULL, &bad, false), MC_ERR_INVALID);
    bad = id;
    bad.expiry.day = 31;
    bad.expiry.month = 2;
    cr_assert_eq(mc_gs1_encode_digital_link(out, sizeof out, NULL, &bad, NULL), MC_ERR_INVALID);
}

Test(gs1, largest_id_fits_the_declared_maxima) {
    struct mc_gs1_id id;
    memset(&id, 0, sizeof id);
    memcpy(id.gtin, "09506000134352", 15);
    memset(id.cpv, '/', MC_GS1_VALUE_MAX);
    memset(id.lot, '%', MC_GS1_VALUE_MAX);
    memset(id.serial, '?', MC_GS1_VALUE_MAX);
    id.present = MC_GS1_HAS_EXPIRY | MC_GS1_HAS_PRODUCTION | MC_GS1_HAS_BEST_BEFORE |
                 MC_GS1_HAS_SELL_BY;
    struct mc_gs1_date d = {2025, 12, 31, false};
    id.expiry = id.production = id.best_before = id.sell_by = d;
    char base[MC_GS1_BASE_MAX];
    memcpy(base, "https://", 8);
    memset(base + 8, 'a', sizeof base - 9);
    base[sizeof base - 1] = 0;
    char dl[MC_GS1_DIGITAL_LINK_MAX], es[MC_GS1_ELEMENT_STRING_MAX];
    cr_assert_eq(mc_gs1_encode_digital_link(dl, sizeof dl, NULL, &id, base), 0);
    cr_assert_eq(mc_gs1_encode_element_string(es, sizeof es, NULL, &id, true), 0);
    struct mc_gs1_id back;
    cr_assert_eq(parse_dl(&back, dl), 0, "%s", last_err.message);
    cr_assert(mc_gs1_id_equal(&id, &back));
}

Test(gs1, fault_names) {
    cr_assert_str_eq(mc_gs1_fault_name(MC_GS1_FAULT_BAD_CHECK_DIGIT), "bad_check_digit");
    cr_assert_str_eq(mc_gs1_fault_name(MC_GS1_FAULT_MISSING_SEPARATOR), "missing_separator");
    for (int f = MC_GS1_FAULT_NONE; f <= MC_GS1_FAULT_NOT_ATTRIBUTE; f++)
        cr_assert_str_neq(mc_gs1_fault_name((enum mc_gs1_fault)f), "unknown");
}

Test(gs1, error_detail_goes_to_mc_err) {
    struct mc_gs1_id id;
    mc_err_clear();
    cr_assert_eq(parse_es(&id, "(01)09506000134353"), MC_ERR_INVALID);
    cr_assert_str_eq(mc_err_detail(), last_err.message);
}
