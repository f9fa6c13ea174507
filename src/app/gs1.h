/* GS1 identifiers of a saleable pack: GTIN, lot, serial, dates.
 *
 * Parses the two forms a pack carries or a phone sends:
 *
 *   - GS1 element strings as a scanner transmits them from a GS1 DataMatrix,
 *     GS1 QR Code or GS1-128 symbol: an optional symbology identifier
 *     ("]d2", "]Q3", "]C1", "]e0"), an optional leading FNC1 (sent as GS,
 *     0x1D), then AI + value pairs; variable-length values end at a GS or at
 *     the end of the data, predefined-length AIs (00-04, 11-20, 31-36, 41)
 *     need no separator. The human-readable form with the AIs in
 *     parentheses, "(01)09506000134352(17)201225(10)ABC(21)123", is accepted
 *     as well.
 *   - GS1 Digital Link URIs (GS1 Digital Link standard: URI syntax 1.x):
 *     any scheme and host, an optional path prefix, the primary key
 *     /01/{gtin}, the key qualifiers /22/{cpv} /10/{lot} /21/{serial} in
 *     that order, data attributes in the query string (?17=YYMMDD&...),
 *     percent-encoding. The bare request target ("/01/...?17=...") that an
 *     HTTP server sees is accepted too.
 *
 * and writes the canonical element string and Digital Link back.
 *
 * Guarantees: everything here is pure and deterministic. No clock (the
 * reference year for the two-digit-year rule is an argument), no locale, no
 * allocation, no I/O; the same input gives the same result and the same
 * bytes on every node, so the ledger state machine may call it. Any byte
 * string is safe to pass: malformed input is answered with an error, never
 * with a crash or an assertion. Thread-safe (the only shared state is
 * mc_err_set's thread-local detail).
 *
 * See docs/GS1.md for what is supported and the references. */
#ifndef MC_APP_GS1_H
#define MC_APP_GS1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"

/* A GTIN is always held as GTIN-14: GTIN-8/12/13 are left-padded with
 * zeros, which keeps their check digit valid (the weights run from the
 * right). */
#define MC_GS1_GTIN_LEN 14
/* Value, input and output bounds (MC_GS1_VALUE_MAX, MC_GS1_INPUT_MAX,
 * MC_GS1_ELEMENT_STRING_MAX, MC_GS1_BASE_MAX, MC_GS1_DIGITAL_LINK_MAX) are
 * in base/limits.h. */

/* What went wrong, for a precise answer to whoever sent the code. */
enum mc_gs1_fault {
    MC_GS1_FAULT_NONE = 0,
    MC_GS1_FAULT_EMPTY,             /* nothing to parse */
    MC_GS1_FAULT_INPUT_TOO_LONG,    /* more than MC_GS1_INPUT_MAX bytes */
    MC_GS1_FAULT_BAD_SYMBOLOGY,     /* "]xy" prefix that is not a GS1 symbology */
    MC_GS1_FAULT_BAD_AI,            /* an AI was expected here: not digits / no ")" */
    MC_GS1_FAULT_UNKNOWN_AI,        /* digits that are no AI of the GS1 table */
    MC_GS1_FAULT_EMPTY_VALUE,       /* an AI with no data */
    MC_GS1_FAULT_TRUNCATED,         /* fixed-length value cut short */
    MC_GS1_FAULT_BAD_LENGTH,        /* wrong number of characters (fixed length or too short) */
    MC_GS1_FAULT_TOO_LONG,          /* variable-length value above its maximum */
    MC_GS1_FAULT_MISSING_SEPARATOR, /* variable-length value runs into the next AI: GS missing */
    MC_GS1_FAULT_BAD_CHARACTER,     /* character not allowed for this AI */
    MC_GS1_FAULT_BAD_CHECK_DIGIT,   /* GS1 mod-10 check digit does not match */
    MC_GS1_FAULT_BAD_DATE,          /* YYMMDD that is no calendar date */
    MC_GS1_FAULT_DUPLICATE_AI,      /* the same AI twice */
    MC_GS1_FAULT_MISSING_GTIN,      /* no AI 01 */
    MC_GS1_FAULT_BAD_URI,           /* not scheme://host/... nor /path */
    MC_GS1_FAULT_BAD_PERCENT,       /* "%" not followed by two hex digits */
    MC_GS1_FAULT_NO_PRIMARY_KEY,    /* no /01/{gtin} at the end of the path */
    MC_GS1_FAULT_QUALIFIER_ORDER,   /* key qualifiers not in the order 22, 10, 21 */
    MC_GS1_FAULT_NOT_QUALIFIER,     /* an AI in the path that is no key qualifier of GTIN */
    MC_GS1_FAULT_NOT_ATTRIBUTE,     /* a key or key qualifier in the query string */
};

/* Detail of a parse failure. Filled by the parsers on every error return;
 * on success fault is MC_GS1_FAULT_NONE and message is empty. */
struct mc_gs1_error {
    enum mc_gs1_fault fault;
    char ai[5];          /* AI concerned ("01", "21", "7003"), "" when none */
    size_t offset;       /* byte offset in the input where the fault was found */
    char message[192];   /* one English sentence naming the AI and the fault */
};

/* A date from a YYMMDD field (AI 11, 15, 16, 17) with its century resolved. */
struct mc_gs1_date {
    uint16_t year;           /* four digits, e.g. 2026 */
    uint8_t month;           /* 1..12 */
    uint8_t day;             /* 1..31; for DD = 00 the last day of the month */
    bool day_unspecified;    /* the data said DD = 00 (kept for round trips) */
};

/* Which optional fields of struct mc_gs1_id are present. */
enum {
    MC_GS1_HAS_EXPIRY = 1u << 0,      /* AI 17 */
    MC_GS1_HAS_PRODUCTION = 1u << 1,  /* AI 11 */
    MC_GS1_HAS_BEST_BEFORE = 1u << 2, /* AI 15 */
    MC_GS1_HAS_SELL_BY = 1u << 3,     /* AI 16 */
};

/* One trade item instance (or lot, or product) as the ledger tracks it.
 * Text fields are NUL-terminated; an empty string means absent (a present
 * value is never empty). Parsers zero the whole struct first, so two parses
 * of equal identifiers are also byte-identical. */
struct mc_gs1_id {
    char gtin[MC_GS1_GTIN_LEN + 1];     /* AI 01, always 14 digits, check digit valid */
    char cpv[MC_GS1_VALUE_MAX + 1];     /* AI 22 consumer product variant */
    char lot[MC_GS1_VALUE_MAX + 1];     /* AI 10 batch/lot */
    char serial[MC_GS1_VALUE_MAX + 1];  /* AI 21 serial number */
    uint32_t present;                   /* MC_GS1_HAS_* bits */
    struct mc_gs1_date expiry;          /* AI 17 */
    struct mc_gs1_date production;      /* AI 11 */
    struct mc_gs1_date best_before;     /* AI 15 */
    struct mc_gs1_date sell_by;         /* AI 16 */
};

/* GS1 mod-10 check digit of n data digits (the check digit itself not
 * included): weights 3,1,3,... from the rightmost data digit. Returns 0..9,
 * or MC_ERR_MALFORMED when n is 0 or above 17 or a character is not a digit. */
MC_MUST_CHECK int mc_gs1_check_digit_compute(const char *digits, size_t n);

/* True when the last of n digits (n >= 2, n <= 18) is the correct GS1 check
 * digit of the ones before it. False for anything else. */
bool mc_gs1_check_digit_valid(const char *digits, size_t n);

/* Normalises a GTIN-8, -12, -13 or -14 (n digits) to GTIN-14 in out
 * (15 bytes, NUL-terminated) after checking digits, length and check digit.
 * err may be NULL. MC_ERR_MALFORMED (length, non-digit) or MC_ERR_INVALID
 * (check digit); out is then "". */
MC_MUST_CHECK int mc_gs1_gtin_normalize(char out[MC_GS1_GTIN_LEN + 1],
                                        struct mc_gs1_error *err,
                                        const char *gtin, size_t n);

/* Resolves a two-digit year with the GS1 rule (General Specifications 7.12,
 * "determination of century in dates"): with d = yy - (reference_year mod
 * 100), d in 51..99 means the previous century, d in -99..-50 the next one,
 * anything else the reference year's century. yy must be 0..99 and
 * reference_year 1000..9899 (contract; violations abort). */
unsigned mc_gs1_year_resolve(unsigned yy, unsigned reference_year);

/* The date as YYYYMMDD (day 00 resolved to the month's last day), e.g.
 * 20261231, so dates compare as integers. */
uint32_t mc_gs1_date_yyyymmdd(const struct mc_gs1_date *date);

/* Parses a GS1 element string (n bytes, not necessarily NUL-terminated) as
 * scanned: see the top of this file. reference_year (e.g. the year of the
 * block's time) resolves two-digit years; it must be 1000..9899 (contract:
 * anything else is a bug in the caller and aborts). AI 01 is required; AIs 10, 11,
 * 15, 16, 17, 21 and 22 are kept in out; other AIs of the GS1 table are
 * checked against their format and then not kept; AIs outside the table are
 * an error (their length cannot be known). err may be NULL.
 *
 * Returns 0, MC_ERR_MALFORMED (syntax: unknown AI, bad character, length,
 * missing separator, truncation), MC_ERR_INVALID (check digit, date,
 * duplicate AI, missing GTIN) or MC_ERR_TOO_LARGE (input above
 * MC_GS1_INPUT_MAX). On error out is zeroed and err says which AI, where
 * and what; the same sentence goes to mc_err_set(). */
MC_MUST_CHECK int mc_gs1_parse_element_string(struct mc_gs1_id *out,
                                              struct mc_gs1_error *err,
                                              const char *in, size_t n,
                                              unsigned reference_year);

/* Parses a GS1 Digital Link URI with a GTIN primary key (n bytes): either
 * scheme "://" authority path [ "?" query ] [ "#" fragment ], or a request
 * target starting with "/". The GS1 path is the last /01/{gtin}[/22/..]
 * [/10/..][/21/..] of the path; anything before it is a free prefix. GTIN-8,
 * -12 and -13 are accepted and normalised. Query parameters whose key is
 * all digits must be GS1 data attributes in the table (11, 15, 16, 17 are
 * kept; others are checked and dropped); other keys (linkType, utm_...) are
 * ignored, as the standard asks. Errors as for mc_gs1_parse_element_string,
 * plus MC_GS1_FAULT_BAD_URI, _BAD_PERCENT, _NO_PRIMARY_KEY,
 * _QUALIFIER_ORDER, _NOT_QUALIFIER and _NOT_ATTRIBUTE; offsets refer to the
 * undecoded URI. */
MC_MUST_CHECK int mc_gs1_parse_digital_link(struct mc_gs1_id *out,
                                            struct mc_gs1_error *err,
                                            const char *uri, size_t n,
                                            unsigned reference_year);

/* Either of the two: input containing "://" or starting with "/" is a
 * Digital Link, anything else an element string. */
MC_MUST_CHECK int mc_gs1_parse(struct mc_gs1_id *out, struct mc_gs1_error *err,
                               const char *in, size_t n, unsigned reference_year);

/* Writes the element string of id into out (out_size bytes, NUL-terminated)
 * in a fixed order: 01, 11, 15, 16, 17, then 22, 10, 21. Raw form: AIs and
 * values with a GS (0x1D) after every variable-length value but the last,
 * no symbology identifier. Human-readable form (human_readable true): each
 * AI in parentheses, no GS. *out_len (may be NULL) gets the length.
 * MC_ERR_TOO_LARGE if out is too small (MC_GS1_ELEMENT_STRING_MAX always
 * suffices), MC_ERR_INVALID if id is not valid (what the parsers accept). */
MC_MUST_CHECK int mc_gs1_encode_element_string(char *out, size_t out_size, size_t *out_len,
                                               const struct mc_gs1_id *id,
                                               bool human_readable);

/* Writes the canonical Digital Link: base, "/01/" gtin14, then "/22/",
 * "/10/", "/21/" with their values percent-encoded (everything but
 * A-Z a-z 0-9 - . _ becomes %XX, upper-case hex), then the dates as a query
 * string in AI order (?11=..&15=..&16=..&17=..). base is scheme, host and
 * optional path prefix without a trailing slash, e.g. "https://id.gs1.org"
 * or "https://example.com/products"; NULL means "https://id.gs1.org". base
 * must be at most MC_GS1_BASE_MAX - 1 bytes and contain no '?' or '#'.
 * Errors as for mc_gs1_encode_element_string; MC_GS1_DIGITAL_LINK_MAX
 * always suffices. */
MC_MUST_CHECK int mc_gs1_encode_digital_link(char *out, size_t out_size, size_t *out_len,
                                             const struct mc_gs1_id *id, const char *base);

/* True when both identify the same thing with the same data (compares the
 * present fields only, never padding or bytes after a NUL). */
bool mc_gs1_id_equal(const struct mc_gs1_id *a, const struct mc_gs1_id *b);

/* Stable snake_case name of a fault, e.g. "bad_check_digit". */
const char *mc_gs1_fault_name(enum mc_gs1_fault fault);

#endif
