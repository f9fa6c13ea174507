/* GS1 element strings and Digital Link URIs: parsing, validation, canonical
 * output. Pure functions of their arguments (see gs1.h); no ctype, no
 * locale, no allocation.
 *
 * The Application Identifier table below is a subset of the GS1 General
 * Specifications' AI table: the AIs a pharmaceutical pack or its case may
 * carry, plus the common logistic ones, so that a scan holding them still
 * splits correctly. Composite formats (e.g. 421 = N3 + X..9) are checked
 * only for their total length and character set. */
#include "app/gs1.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

#define GS 0x1D /* ASCII group separator: FNC1 as transmitted by a scanner */

enum charset { CS_NUMERIC, CS_X82 };
enum check { CK_NONE, CK_DIGIT, CK_DATE };
enum field { FD_NONE, FD_GTIN, FD_LOT, FD_SERIAL, FD_CPV,
             FD_EXPIRY, FD_PRODUCTION, FD_BEST_BEFORE, FD_SELL_BY };
/* What the AI is in a Digital Link: a primary key, a key qualifier (path
 * only) or a data attribute (query string only). */
enum role { RL_ATTRIBUTE, RL_KEY, RL_QUALIFIER };

struct ai_def {
    char ai[5];
    uint8_t min, max;
    uint8_t charset, check, field, role;
};

#define N CS_NUMERIC
#define X CS_X82
static const struct ai_def ai_table[] = {
    {"00", 18, 18, N, CK_DIGIT, FD_NONE, RL_KEY},          /* SSCC */
    {"01", 14, 14, N, CK_DIGIT, FD_GTIN, RL_KEY},          /* GTIN */
    {"02", 14, 14, N, CK_DIGIT, FD_NONE, RL_ATTRIBUTE},    /* GTIN of contained items */
    {"10", 1, 20, X, CK_NONE, FD_LOT, RL_QUALIFIER},       /* batch/lot */
    {"11", 6, 6, N, CK_DATE, FD_PRODUCTION, RL_ATTRIBUTE}, /* production date */
    {"12", 6, 6, N, CK_DATE, FD_NONE, RL_ATTRIBUTE},       /* due date */
    {"13", 6, 6, N, CK_DATE, FD_NONE, RL_ATTRIBUTE},       /* packaging date */
    {"15", 6, 6, N, CK_DATE, FD_BEST_BEFORE, RL_ATTRIBUTE},
    {"16", 6, 6, N, CK_DATE, FD_SELL_BY, RL_ATTRIBUTE},
    {"17", 6, 6, N, CK_DATE, FD_EXPIRY, RL_ATTRIBUTE},     /* expiration date */
    {"20", 2, 2, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},       /* internal variant */
    {"21", 1, 20, X, CK_NONE, FD_SERIAL, RL_QUALIFIER},    /* serial number */
    {"22", 1, 20, X, CK_NONE, FD_CPV, RL_QUALIFIER},       /* consumer product variant */
    {"235", 1, 28, X, CK_NONE, FD_NONE, RL_QUALIFIER},     /* third-party serial */
    {"240", 1, 30, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"241", 1, 30, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"242", 1, 6, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"243", 1, 20, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"250", 1, 30, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"251", 1, 30, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"254", 1, 20, X, CK_NONE, FD_NONE, RL_QUALIFIER},     /* GLN extension */
    {"30", 1, 8, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},       /* variable count */
    {"37", 1, 8, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},       /* count of trade items */
    {"400", 1, 30, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"401", 1, 30, X, CK_NONE, FD_NONE, RL_KEY},           /* GINC */
    {"402", 17, 17, N, CK_DIGIT, FD_NONE, RL_KEY},         /* GSIN */
    {"403", 1, 30, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"410", 13, 13, N, CK_DIGIT, FD_NONE, RL_ATTRIBUTE},
    {"411", 13, 13, N, CK_DIGIT, FD_NONE, RL_ATTRIBUTE},
    {"412", 13, 13, N, CK_DIGIT, FD_NONE, RL_ATTRIBUTE},
    {"413", 13, 13, N, CK_DIGIT, FD_NONE, RL_ATTRIBUTE},
    {"414", 13, 13, N, CK_DIGIT, FD_NONE, RL_KEY},         /* GLN of a location */
    {"415", 13, 13, N, CK_DIGIT, FD_NONE, RL_ATTRIBUTE},
    {"416", 13, 13, N, CK_DIGIT, FD_NONE, RL_ATTRIBUTE},
    {"417", 13, 13, N, CK_DIGIT, FD_NONE, RL_KEY},         /* party GLN */
    {"420", 1, 20, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"421", 4, 12, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"422", 3, 3, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"423", 3, 15, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"424", 3, 3, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"425", 3, 15, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"426", 3, 3, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"7003", 10, 10, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},   /* expiry date and time */
    {"710", 1, 20, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},     /* NHRN Germany (PZN) */
    {"711", 1, 20, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},     /* NHRN France (CIP) */
    {"712", 1, 20, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},     /* NHRN Spain */
    {"713", 1, 20, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},     /* NHRN Brazil (ANVISA) */
    {"714", 1, 20, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},     /* NHRN Portugal */
    {"715", 1, 20, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},     /* NHRN USA (NDC) */
    {"8004", 1, 30, X, CK_NONE, FD_NONE, RL_KEY},          /* GIAI */
    {"8006", 18, 18, N, CK_NONE, FD_NONE, RL_KEY},         /* ITIP */
    {"8008", 8, 12, N, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"8020", 1, 25, X, CK_NONE, FD_NONE, RL_QUALIFIER},
    {"90", 1, 30, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"91", 1, 90, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},      /* 91-99: company internal */
    {"92", 1, 90, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"93", 1, 90, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"94", 1, 90, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"95", 1, 90, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"96", 1, 90, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"97", 1, 90, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"98", 1, 90, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
    {"99", 1, 90, X, CK_NONE, FD_NONE, RL_ATTRIBUTE},
};
/* Trade measures 31nn..36nn (n = decimal point position 0..5): N6. */
static const struct ai_def ai_measure = {"3xxn", 6, 6, N, CK_NONE, FD_NONE, RL_ATTRIBUTE};
#undef N
#undef X

#define AI_TABLE_LEN (sizeof ai_table / sizeof ai_table[0])

/* AIs whose first two digits put them in the GS1 table of predefined
 * lengths: they never need a separator after them. */
static bool ai_predefined(const char *ai) {
    static const char prefixes[][3] = {"00", "01", "02", "03", "04", "11", "12", "13", "14",
                                       "15", "16", "17", "18", "19", "20", "31", "32", "33",
                                       "34", "35", "36", "41"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (ai[0] == prefixes[i][0] && ai[1] == prefixes[i][1]) return true;
    return false;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* GS1 AI encodable character set 82 (General Specifications figure 7.11-1). */
static bool is_set82(int c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c)) return true;
    switch (c) {
    case '!': case '"': case '%': case '&': case '\'': case '(': case ')': case '*':
    case '+': case ',': case '-': case '.': case '/': case ':': case ';': case '<':
    case '=': case '>': case '?': case '_':
        return true;
    default:
        return false;
    }
}

static bool all_digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)s[i])) return false;
    return true;
}

static bool is_measure(const char *s, size_t n) {
    return n == 4 && all_digits(s, 4) && s[0] == '3' && s[1] >= '1' && s[1] <= '6' && s[3] <= '5';
}

/* The AI spelled exactly by s[0..n). */
static const struct ai_def *ai_lookup_exact(const char *s, size_t n) {
    if (n < 2 || n > 4 || !all_digits(s, n)) return NULL;
    if (is_measure(s, n)) return &ai_measure;
    for (size_t i = 0; i < AI_TABLE_LEN; i++)
        if (strlen(ai_table[i].ai) == n && memcmp(ai_table[i].ai, s, n) == 0) return &ai_table[i];
    return NULL;
}

/* The AI that s[0..n) starts with (AIs are prefix-free), its length in
 * *ai_len. On NULL, *ai_len is the length of the shortest prefix that no AI
 * starts with (what to call "unknown AI"), at most the digits available. */
static const struct ai_def *ai_lookup_prefix(const char *s, size_t n, size_t *ai_len) {
    for (size_t len = 2; len <= 4 && len <= n; len++) {
        if (!all_digits(s, len)) break;
        const struct ai_def *d = ai_lookup_exact(s, len);
        if (d) {
            *ai_len = len;
            return d;
        }
    }
    size_t known = 1; /* every AI prefix of one digit exists */
    for (size_t len = 2; len <= 3 && len <= n && all_digits(s, len); len++) {
        bool any = s[0] == '3' && s[1] >= '1' && s[1] <= '6'; /* measures 31nn..36nn */
        for (size_t i = 0; i < AI_TABLE_LEN && !any; i++)
            any = strlen(ai_table[i].ai) > len && memcmp(ai_table[i].ai, s, len) == 0;
        if (!any) break;
        known = len;
    }
    size_t digits = 0;
    while (digits < n && digits < 4 && is_digit((unsigned char)s[digits])) digits++;
    *ai_len = known + 1 <= digits ? known + 1 : digits;
    return NULL;
}

/* Index of an AI in the "seen" bitmap: 2, 3 and 4 digit codes apart. */
static size_t ai_index(const char *ai) {
    size_t n = strlen(ai), v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (size_t)(ai[i] - '0');
    return n == 2 ? v : n == 3 ? 100 + v : 1100 + v;
}
#define AI_INDEX_COUNT 11100

/* ---- check digits, dates ------------------------------------------------ */

int mc_gs1_check_digit_compute(const char *digits, size_t n) {
    if (n == 0 || n > 17) return MC_ERR_MALFORMED;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)digits[n - 1 - i];
        if (!is_digit(c)) return MC_ERR_MALFORMED;
        sum += (unsigned)(c - '0') * (i % 2 == 0 ? 3u : 1u);
    }
    return (int)((10 - sum % 10) % 10);
}

bool mc_gs1_check_digit_valid(const char *digits, size_t n) {
    if (n < 2 || n > 18 || !is_digit((unsigned char)digits[n - 1])) return false;
    int cd = mc_gs1_check_digit_compute(digits, n - 1);
    return cd >= 0 && cd == digits[n - 1] - '0';
}

unsigned mc_gs1_year_resolve(unsigned yy, unsigned reference_year) {
    /* Misuse by our own code (the contract in gs1.h), never input. */
    MC_ASSERT(yy <= 99 && reference_year >= 1000 && reference_year <= 9899);
    int diff = (int)yy - (int)(reference_year % 100);
    unsigned century = reference_year / 100;
    if (diff >= 51) century -= 1;
    else if (diff <= -50) century += 1;
    return century * 100 + yy;
}

static bool leap_year(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned month_days(unsigned y, unsigned m) {
    static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

uint32_t mc_gs1_date_yyyymmdd(const struct mc_gs1_date *date) {
    return (uint32_t)date->year * 10000u + (uint32_t)date->month * 100u + date->day;
}

static bool date_valid(const struct mc_gs1_date *d) {
    if (d->month < 1 || d->month > 12 || d->year > 9999) return false;
    unsigned last = month_days(d->year, d->month);
    if (d->day_unspecified) return d->day == last;
    return d->day >= 1 && d->day <= last;
}

static const char *const month_names[12] = {"January", "February", "March", "April", "May", "June",
                                            "July", "August", "September", "October",
                                            "November", "December"};

/* ---- errors ------------------------------------------------------------- */

struct parser {
    const char *in;
    size_t n;
    unsigned reference_year;
    struct mc_gs1_id *out;
    struct mc_gs1_error *err;
    uint8_t seen[(AI_INDEX_COUNT + 7) / 8];
    /* For Digital Link values: input offset of each decoded character. */
    const uint16_t *offset_map;
};

static int rc_of(enum mc_gs1_fault f) {
    switch (f) {
    case MC_GS1_FAULT_BAD_CHECK_DIGIT:
    case MC_GS1_FAULT_BAD_DATE:
    case MC_GS1_FAULT_DUPLICATE_AI:
    case MC_GS1_FAULT_MISSING_GTIN:
    case MC_GS1_FAULT_QUALIFIER_ORDER:
        return MC_ERR_INVALID;
    case MC_GS1_FAULT_INPUT_TOO_LONG:
        return MC_ERR_TOO_LARGE;
    default:
        return MC_ERR_MALFORMED;
    }
}

static int fail_err(struct mc_gs1_error *err, enum mc_gs1_fault f, const char *ai, size_t offset,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail_err(struct mc_gs1_error *err, enum mc_gs1_fault f, const char *ai, size_t offset,
                    const char *fmt, ...) {
    err->fault = f;
    snprintf(err->ai, sizeof err->ai, "%s", ai ? ai : "");
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    int rc = rc_of(f);
    mc_err_set(rc, "%s", err->message);
    return rc;
}

/* Describes a character for a message: 'x' or 0xNN. */
static void char_desc(char out[16], unsigned char c) {
    if (c >= 0x21 && c < 0x7F) snprintf(out, 16, "'%c'", c);
    else snprintf(out, 16, "0x%02X", c);
}

/* ---- values ------------------------------------------------------------- */

static struct mc_gs1_date *date_field(struct mc_gs1_id *id, uint8_t field, uint32_t *bit) {
    switch (field) {
    case FD_EXPIRY: *bit = MC_GS1_HAS_EXPIRY; return &id->expiry;
    case FD_PRODUCTION: *bit = MC_GS1_HAS_PRODUCTION; return &id->production;
    case FD_BEST_BEFORE: *bit = MC_GS1_HAS_BEST_BEFORE; return &id->best_before;
    case FD_SELL_BY: *bit = MC_GS1_HAS_SELL_BY; return &id->sell_by;
    default: return NULL;
    }
}

static size_t value_offset(const struct parser *p, size_t value_start, size_t i) {
    return p->offset_map ? p->offset_map[i] : value_start + i;
}

/* Checks one AI's value v[0..len) (already split off the input; starting at
 * input offset value_start, or mapped through p->offset_map) and stores it.
 * The length against the maximum is checked by the caller. */
static int take_value(struct parser *p, const struct ai_def *d, const char *ai, const char *v,
                      size_t len, size_t value_start) {
    struct mc_gs1_error *e = p->err;
    if (len == 0)
        return fail_err(e, MC_GS1_FAULT_EMPTY_VALUE, ai, value_start, "AI %s has no data", ai);
    if (len > d->max)
        return fail_err(e, MC_GS1_FAULT_TOO_LONG, ai, value_offset(p, value_start, d->max),
                        "AI %s: value is %zu characters, at most %u allowed", ai, len,
                        (unsigned)d->max);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        bool ok = d->charset == CS_NUMERIC ? is_digit(c) : is_set82(c);
        if (!ok) {
            char cd[16];
            char_desc(cd, c);
            size_t at = value_offset(p, value_start, i);
            if (d->charset == CS_NUMERIC)
                return fail_err(e, MC_GS1_FAULT_BAD_CHARACTER, ai, at,
                                "AI %s: character %zu of the value, %s at offset %zu, is not a "
                                "digit", ai, i + 1, cd, at);
            return fail_err(e, MC_GS1_FAULT_BAD_CHARACTER, ai, at,
                            "AI %s: character %zu of the value, %s at offset %zu, is not in GS1 "
                            "AI encodable character set 82", ai, i + 1, cd, at);
        }
    }
    if (len < d->min || (d->min == d->max && len != d->min)) {
        if (d->min == d->max)
            return fail_err(e, MC_GS1_FAULT_BAD_LENGTH, ai, value_start,
                            "AI %s: value has %zu digits, exactly %u needed", ai, len,
                            (unsigned)d->min);
        return fail_err(e, MC_GS1_FAULT_BAD_LENGTH, ai, value_start,
                        "AI %s: value has %zu characters, at least %u needed", ai, len,
                        (unsigned)d->min);
    }
    if (d->check == CK_DIGIT && !mc_gs1_check_digit_valid(v, len)) {
        int want = mc_gs1_check_digit_compute(v, len - 1);
        return fail_err(e, MC_GS1_FAULT_BAD_CHECK_DIGIT, ai, value_offset(p, value_start, len - 1),
                        "AI %s: check digit of %.*s is %c, it should be %d", ai, (int)len, v,
                        v[len - 1], want);
    }
    struct mc_gs1_date date = {0};
    if (d->check == CK_DATE) {
        unsigned yy = (unsigned)(v[0] - '0') * 10 + (unsigned)(v[1] - '0');
        unsigned mm = (unsigned)(v[2] - '0') * 10 + (unsigned)(v[3] - '0');
        unsigned dd = (unsigned)(v[4] - '0') * 10 + (unsigned)(v[5] - '0');
        if (mm < 1 || mm > 12)
            return fail_err(e, MC_GS1_FAULT_BAD_DATE, ai, value_offset(p, value_start, 2),
                            "AI %s: date %.6s has month %02u, not 01..12", ai, v, mm);
        unsigned year = mc_gs1_year_resolve(yy, p->reference_year);
        unsigned last = month_days(year, mm);
        if (dd > last)
            return fail_err(e, MC_GS1_FAULT_BAD_DATE, ai, value_offset(p, value_start, 4),
                            "AI %s: date %.6s has day %02u but %s %u has %u days", ai, v, dd,
                            month_names[mm - 1], year, last);
        date.year = (uint16_t)year;
        date.month = (uint8_t)mm;
        date.day_unspecified = dd == 0;
        date.day = (uint8_t)(dd == 0 ? last : dd);
    }

    size_t idx = ai_index(ai);
    if (p->seen[idx / 8] & (1u << (idx % 8)))
        return fail_err(e, MC_GS1_FAULT_DUPLICATE_AI, ai, value_start,
                        "AI %s appears more than once (again at offset %zu)", ai, value_start);
    p->seen[idx / 8] |= (uint8_t)(1u << (idx % 8));

    struct mc_gs1_id *id = p->out;
    uint32_t bit = 0;
    struct mc_gs1_date *slot;
    switch (d->field) {
    case FD_GTIN: memcpy(id->gtin, v, len); id->gtin[len] = 0; break;
    case FD_LOT: memcpy(id->lot, v, len); id->lot[len] = 0; break;
    case FD_SERIAL: memcpy(id->serial, v, len); id->serial[len] = 0; break;
    case FD_CPV: memcpy(id->cpv, v, len); id->cpv[len] = 0; break;
    default:
        slot = date_field(id, d->field, &bit);
        if (slot) {
            *slot = date;
            id->present |= bit;
        }
        break;
    }
    return MC_OK;
}

/* ---- element strings ---------------------------------------------------- */

static int parse_raw(struct parser *p, size_t pos, bool top);

/* A variable-length value at value_start runs len > max characters: if the
 * rest parses as element data from some point within the allowed length, a
 * GS was left out there. Returns that point or 0. Splits before AIs 90-99
 * are not considered: those take any text, so they would "explain" almost
 * every overlong value. */
static size_t missing_separator_at(const struct parser *p, const struct ai_def *d,
                                   size_t value_start) {
    for (size_t split = d->min ? d->min : 1; split <= d->max; split++) {
        if (p->in[value_start + split] == '9') continue;
        struct mc_gs1_id scratch_id;
        struct mc_gs1_error scratch_err;
        struct parser q;
        memset(&q, 0, sizeof q);
        memset(&scratch_id, 0, sizeof scratch_id);
        q.in = p->in;
        q.n = p->n;
        q.reference_year = p->reference_year;
        q.out = &scratch_id;
        q.err = &scratch_err;
        memcpy(q.seen, p->seen, sizeof q.seen);
        size_t idx = ai_index(d->ai);
        q.seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
        if (parse_raw(&q, value_start + split, false) == MC_OK) return value_start + split;
    }
    return 0;
}

static int parse_raw(struct parser *p, size_t pos, bool top) {
    const char *in = p->in;
    size_t n = p->n;
    bool after_value = false;
    while (pos < n) {
        unsigned char c = (unsigned char)in[pos];
        if (c == GS) {
            if (!after_value)
                return fail_err(p->err, MC_GS1_FAULT_BAD_AI, "", pos,
                                "GS separator at offset %zu follows no value", pos);
            after_value = false;
            pos++;
            continue;
        }
        if (!is_digit(c)) {
            char cd[16];
            char_desc(cd, c);
            return fail_err(p->err, MC_GS1_FAULT_BAD_AI, "", pos,
                            "an AI (digits) was expected at offset %zu, found %s", pos, cd);
        }
        size_t ai_len;
        const struct ai_def *d = ai_lookup_prefix(in + pos, n - pos, &ai_len);
        char ai[5] = {0};
        memcpy(ai, in + pos, ai_len);
        if (!d) {
            if (ai_len < 2)
                return fail_err(p->err, MC_GS1_FAULT_BAD_AI, "", pos,
                                "an AI of at least two digits was expected at offset %zu", pos);
            return fail_err(p->err, MC_GS1_FAULT_UNKNOWN_AI, ai, pos,
                            "unknown AI %s at offset %zu (no GS1 Application Identifier "
                            "starts with these digits)", ai, pos);
        }
        size_t vstart = pos + ai_len, vlen;
        if (ai_predefined(ai)) {
            vlen = d->max;
            const char *gs = memchr(in + vstart, GS, n - vstart < vlen ? n - vstart : vlen);
            if (gs)
                return fail_err(p->err, MC_GS1_FAULT_BAD_LENGTH, ai, (size_t)(gs - in),
                                "AI %s: value has %zu characters before a GS separator, exactly "
                                "%zu needed", ai, (size_t)(gs - (in + vstart)), vlen);
            if (n - vstart < vlen)
                return fail_err(p->err, MC_GS1_FAULT_TRUNCATED, ai, n,
                                "AI %s: value needs %zu characters, the data ends after %zu",
                                ai, vlen, n - vstart);
        } else {
            const char *gs = memchr(in + vstart, GS, n - vstart);
            vlen = (gs ? (size_t)(gs - in) : n) - vstart;
            if (vlen > d->max) {
                size_t split = top ? missing_separator_at(p, d, vstart) : 0;
                if (split) {
                    size_t next_len;
                    char next[5] = {0};
                    (void)ai_lookup_prefix(in + split, n - split, &next_len);
                    memcpy(next, in + split, next_len);
                    return fail_err(p->err, MC_GS1_FAULT_MISSING_SEPARATOR, ai, split,
                                    "AI %s: value runs to %zu characters (at most %u); a GS "
                                    "separator is missing before AI %s at offset %zu",
                                    ai, vlen, (unsigned)d->max, next, split);
                }
            }
        }
        int rc = take_value(p, d, ai, in + vstart, vlen, vstart);
        if (rc) return rc;
        pos = vstart + vlen;
        after_value = true;
    }
    return MC_OK;
}

/* In the human-readable form, "(" starts an AI only when 2..4 digits and ")"
 * follow; returns the number of digits, or 0. */
static size_t bracket_ai_at(const char *in, size_t n, size_t pos) {
    if (pos >= n || in[pos] != '(') return 0;
    size_t k = 0;
    while (pos + 1 + k < n && k < 5 && is_digit((unsigned char)in[pos + 1 + k])) k++;
    if (k < 2 || k > 4 || pos + 1 + k >= n || in[pos + 1 + k] != ')') return 0;
    return k;
}

static int parse_bracketed(struct parser *p, size_t pos) {
    const char *in = p->in;
    size_t n = p->n;
    while (pos < n) {
        size_t k = bracket_ai_at(in, n, pos);
        if (!k)
            return fail_err(p->err, MC_GS1_FAULT_BAD_AI, "", pos,
                            "an AI in parentheses, 2 to 4 digits, was expected at offset %zu",
                            pos);
        char ai[5] = {0};
        memcpy(ai, in + pos + 1, k);
        const struct ai_def *d = ai_lookup_exact(ai, k);
        if (!d)
            return fail_err(p->err, MC_GS1_FAULT_UNKNOWN_AI, ai, pos + 1,
                            "unknown AI %s (in parentheses) at offset %zu", ai, pos + 1);
        size_t vstart = pos + k + 2, vend = vstart;
        while (vend < n && !bracket_ai_at(in, n, vend)) vend++;
        size_t vlen = vend - vstart;
        if (ai_predefined(ai) && vlen < d->max && vlen > 0 && vend == n &&
            all_digits(in + vstart, vlen))
            return fail_err(p->err, MC_GS1_FAULT_TRUNCATED, ai, n,
                            "AI %s: value needs %u characters, the data ends after %zu", ai,
                            (unsigned)d->max, vlen);
        int rc = take_value(p, d, ai, in + vstart, vlen, vstart);
        if (rc) return rc;
        pos = vend;
    }
    return MC_OK;
}

static void parser_init(struct parser *p, struct mc_gs1_id *out, struct mc_gs1_error *err,
                        const char *in, size_t n, unsigned reference_year) {
    memset(p, 0, sizeof *p);
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    p->in = in;
    p->n = n;
    p->reference_year = reference_year;
    p->out = out;
    p->err = err;
}

static void check_reference_year(unsigned reference_year) {
    /* Misuse by our own code (the contract in gs1.h), never input. */
    MC_ASSERT(reference_year >= 1000 && reference_year <= 9899);
}

static int finish(struct parser *p, int rc) {
    if (rc == MC_OK && p->out->gtin[0] == 0)
        rc = fail_err(p->err, MC_GS1_FAULT_MISSING_GTIN, "01", 0,
                      "no GTIN (AI 01) in the data");
    if (rc != MC_OK) memset(p->out, 0, sizeof *p->out);
    else memset(p->err, 0, sizeof *p->err);
    return rc;
}

int mc_gs1_parse_element_string(struct mc_gs1_id *out, struct mc_gs1_error *err, const char *in,
                                size_t n, unsigned reference_year) {
    struct mc_gs1_error scratch;
    struct parser p;
    check_reference_year(reference_year);
    parser_init(&p, out, err ? err : &scratch, in, n, reference_year);
    if (n == 0) return fail_err(p.err, MC_GS1_FAULT_EMPTY, "", 0, "the data is empty");
    if (n > MC_GS1_INPUT_MAX)
        return fail_err(p.err, MC_GS1_FAULT_INPUT_TOO_LONG, "", MC_GS1_INPUT_MAX,
                        "the data is %zu bytes, at most %d accepted", n, MC_GS1_INPUT_MAX);
    size_t pos = 0;
    if (in[0] == ']') {
        static const char *const gs1_symbologies[] = {"]d2", "]Q3", "]C1", "]e0", "]J1"};
        bool ok = false;
        for (size_t i = 0; i < sizeof gs1_symbologies / sizeof gs1_symbologies[0]; i++)
            ok = ok || (n >= 3 && memcmp(in, gs1_symbologies[i], 3) == 0);
        if (!ok)
            return fail_err(p.err, MC_GS1_FAULT_BAD_SYMBOLOGY, "", 0,
                            "symbology identifier %.*s does not announce GS1 data "
                            "(]d2, ]Q3, ]C1, ]e0 or ]J1 expected)", n >= 3 ? 3 : (int)n, in);
        pos = 3;
    }
    if (pos < n && in[pos] == GS) pos++; /* FNC1 in first position */
    if (pos >= n) return fail_err(p.err, MC_GS1_FAULT_EMPTY, "", pos, "no data after the prefix");
    int rc = in[pos] == '(' ? parse_bracketed(&p, pos) : parse_raw(&p, pos, true);
    return finish(&p, rc);
}

/* ---- Digital Link ------------------------------------------------------- */

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Percent-decodes in[start..end) into dst (cap bytes), recording each
 * character's input offset. *dst_len may exceed cap: then only cap bytes
 * were written and the caller reports the value as too long. */
static int percent_decode(struct parser *p, const char *ai, size_t start, size_t end, char *dst,
                          uint16_t *map, size_t cap, size_t *dst_len) {
    size_t k = 0;
    for (size_t i = start; i < end; k++) {
        unsigned char c = (unsigned char)p->in[i];
        size_t at = i;
        if (c == '%') {
            int hi = i + 1 < end ? hex_value((unsigned char)p->in[i + 1]) : -1;
            int lo = i + 2 < end ? hex_value((unsigned char)p->in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return fail_err(p->err, MC_GS1_FAULT_BAD_PERCENT, ai, i,
                                "AI %s: '%%' at offset %zu is not followed by two hex digits",
                                ai, i);
            c = (unsigned char)(hi * 16 + lo);
            i += 3;
        } else {
            i++;
        }
        if (k < cap) {
            dst[k] = (char)c;
            map[k] = (uint16_t)at;
        }
    }
    *dst_len = k;
    return MC_OK;
}

/* Decodes and takes the value of one AI from the URI. */
static int take_uri_value(struct parser *p, const struct ai_def *d, const char *ai, size_t start,
                          size_t end) {
    char v[MC_GS1_AI_VALUE_MAX + 1];
    uint16_t map[MC_GS1_AI_VALUE_MAX + 1];
    size_t len;
    int rc = percent_decode(p, ai, start, end, v, map, sizeof v, &len);
    if (rc) return rc;
    if (len > d->max) {
        return fail_err(p->err, MC_GS1_FAULT_TOO_LONG, ai, map[d->max],
                        "AI %s: value is longer than the %u characters allowed", ai,
                        (unsigned)d->max);
    }
    p->offset_map = map;
    rc = take_value(p, d, ai, v, len, start);
    p->offset_map = NULL;
    return rc;
}

struct segment { size_t start, len; };

static bool seg_is(const struct parser *p, const struct segment *s, const char *lit) {
    size_t n = strlen(lit);
    return s->len == n && memcmp(p->in + s->start, lit, n) == 0;
}

/* Parses the GS1 path seg[0..count): /01/gtin and key qualifiers. */
static int parse_gs1_path(struct parser *p, const struct segment *seg, size_t count) {
    /* GTIN: 8, 12, 13 or 14 digits, percent-decoded (nothing else is legal). */
    char g[MC_GS1_GTIN_LEN + 2];
    uint16_t map[MC_GS1_GTIN_LEN + 2];
    size_t glen;
    int rc = percent_decode(p, "01", seg[1].start, seg[1].start + seg[1].len, g, map, sizeof g,
                            &glen);
    if (rc) return rc;
    if (glen > MC_GS1_GTIN_LEN || (glen != 8 && glen != 12 && glen != 13 && glen != 14)) {
        for (size_t i = 0; i < glen && i < sizeof g; i++) {
            if (!is_digit((unsigned char)g[i])) {
                char cd[16];
                char_desc(cd, (unsigned char)g[i]);
                return fail_err(p->err, MC_GS1_FAULT_BAD_CHARACTER, "01", map[i],
                                "AI 01: character %zu of the GTIN, %s at offset %u, is not a "
                                "digit", i + 1, cd, map[i]);
            }
        }
        return fail_err(p->err, MC_GS1_FAULT_BAD_LENGTH, "01", seg[1].start,
                        "AI 01: GTIN has %zu digits; 8, 12, 13 or 14 needed", glen);
    }
    char padded[MC_GS1_GTIN_LEN];
    uint16_t pmap[MC_GS1_GTIN_LEN];
    size_t pad = MC_GS1_GTIN_LEN - glen;
    memset(padded, '0', pad);
    memcpy(padded + pad, g, glen);
    for (size_t i = 0; i < MC_GS1_GTIN_LEN; i++) pmap[i] = i < pad ? map[0] : map[i - pad];
    p->offset_map = pmap;
    rc = take_value(p, ai_lookup_exact("01", 2), "01", padded, MC_GS1_GTIN_LEN, seg[1].start);
    p->offset_map = NULL;
    if (rc) return rc;

    static const char *const order[] = {"22", "10", "21"};
    int last_rank = -1;
    const char *last_ai = "01";
    for (size_t i = 2; i + 1 < count; i += 2) {
        const struct segment *s = &seg[i];
        char ai[5] = {0};
        memcpy(ai, p->in + s->start, s->len < 4 ? s->len : 4);
        const struct ai_def *d = ai_lookup_exact(p->in + s->start, s->len);
        if (!d) {
            if (s->len >= 2 && s->len <= 4 && all_digits(p->in + s->start, s->len))
                return fail_err(p->err, MC_GS1_FAULT_UNKNOWN_AI, ai, s->start,
                                "unknown AI %s in the path at offset %zu", ai, s->start);
            return fail_err(p->err, MC_GS1_FAULT_BAD_AI, "", s->start,
                            "path segment at offset %zu is not an AI (short names like "
                            "'lot' are not supported)", s->start);
        }
        int rank = -1;
        for (int r = 0; r < 3; r++)
            if (strcmp(order[r], d->ai) == 0) rank = r;
        if (rank < 0)
            return fail_err(p->err, MC_GS1_FAULT_NOT_QUALIFIER, ai, s->start,
                            "AI %s at offset %zu is not a key qualifier of a GTIN (only 22, 10, "
                            "21 go in the path; data attributes go in the query string)",
                            ai, s->start);
        if (rank == last_rank)
            return fail_err(p->err, MC_GS1_FAULT_DUPLICATE_AI, ai, s->start,
                            "AI %s appears more than once in the path", ai);
        if (rank < last_rank)
            return fail_err(p->err, MC_GS1_FAULT_QUALIFIER_ORDER, ai, s->start,
                            "AI %s at offset %zu comes after AI %s; key qualifiers of a GTIN "
                            "go in the order 22, 10, 21", ai, s->start, last_ai);
        last_rank = rank;
        last_ai = order[rank];
        rc = take_uri_value(p, d, ai, seg[i + 1].start, seg[i + 1].start + seg[i + 1].len);
        if (rc) return rc;
    }
    return MC_OK;
}

static int parse_query(struct parser *p, size_t start, size_t end) {
    size_t pos = start;
    while (pos < end) {
        const char *amp = memchr(p->in + pos, '&', end - pos);
        size_t pend = amp ? (size_t)(amp - p->in) : end;
        const char *eq = memchr(p->in + pos, '=', pend - pos);
        size_t kend = eq ? (size_t)(eq - p->in) : pend;
        size_t klen = kend - pos;
        if (klen > 0 && all_digits(p->in + pos, klen)) {
            char ai[5] = {0};
            memcpy(ai, p->in + pos, klen < 4 ? klen : 4);
            const struct ai_def *d = ai_lookup_exact(p->in + pos, klen);
            if (!d)
                return fail_err(p->err, MC_GS1_FAULT_UNKNOWN_AI, ai, pos,
                                "unknown AI %s in the query string at offset %zu", ai, pos);
            if (d->role != RL_ATTRIBUTE)
                return fail_err(p->err, MC_GS1_FAULT_NOT_ATTRIBUTE, ai, pos,
                                "AI %s at offset %zu is a %s; it belongs in the path, not the "
                                "query string", ai, pos,
                                d->role == RL_KEY ? "primary key" : "key qualifier");
            if (!eq || pend == kend + 1)
                return fail_err(p->err, MC_GS1_FAULT_EMPTY_VALUE, ai, kend,
                                "AI %s has no value in the query string", ai);
            int rc = take_uri_value(p, d, ai, kend + 1, pend);
            if (rc) return rc;
        }
        /* Other keys are not GS1 data; the standard says to ignore them. */
        pos = pend + 1;
    }
    return MC_OK;
}

int mc_gs1_parse_digital_link(struct mc_gs1_id *out, struct mc_gs1_error *err, const char *uri,
                              size_t n, unsigned reference_year) {
    struct mc_gs1_error scratch;
    struct parser p;
    check_reference_year(reference_year);
    parser_init(&p, out, err ? err : &scratch, uri, n, reference_year);
    if (n == 0) return fail_err(p.err, MC_GS1_FAULT_EMPTY, "", 0, "the URI is empty");
    if (n > MC_GS1_INPUT_MAX)
        return fail_err(p.err, MC_GS1_FAULT_INPUT_TOO_LONG, "", MC_GS1_INPUT_MAX,
                        "the URI is %zu bytes, at most %d accepted", n, MC_GS1_INPUT_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c <= 0x20 || c >= 0x7F)
            return fail_err(p.err, MC_GS1_FAULT_BAD_URI, "", i,
                            "byte 0x%02X at offset %zu cannot appear in a URI unencoded", c, i);
    }
    /* scheme "://" authority, or a bare path */
    size_t path_start = 0;
    if (uri[0] != '/') {
        size_t i = 0;
        if (!is_alpha((unsigned char)uri[0]))
            return fail_err(p.err, MC_GS1_FAULT_BAD_URI, "", 0,
                            "a URI starts with a scheme (https://) or a path (/)");
        while (i < n && (is_alpha((unsigned char)uri[i]) || is_digit((unsigned char)uri[i]) ||
                         uri[i] == '+' || uri[i] == '-' || uri[i] == '.'))
            i++;
        if (n - i < 3 || memcmp(uri + i, "://", 3) != 0)
            return fail_err(p.err, MC_GS1_FAULT_BAD_URI, "", i,
                            "'://' expected after the scheme at offset %zu", i);
        size_t host = i + 3, h = host;
        while (h < n && uri[h] != '/' && uri[h] != '?' && uri[h] != '#') h++;
        if (h == host)
            return fail_err(p.err, MC_GS1_FAULT_BAD_URI, "", host, "the URI has no host");
        path_start = h;
    }
    size_t path_end = path_start;
    while (path_end < n && uri[path_end] != '?' && uri[path_end] != '#') path_end++;
    size_t query_start = path_end, query_end = path_end;
    if (path_end < n && uri[path_end] == '?') {
        query_start = path_end + 1;
        query_end = query_start;
        while (query_end < n && uri[query_end] != '#') query_end++;
    }

    /* The last MC_GS1_DL_PATH_SEGMENTS_MAX path segments, and whether "01" occurs. */
    struct segment last[MC_GS1_DL_PATH_SEGMENTS_MAX];
    size_t count = 0;
    bool any_01 = false;
    if (path_start < path_end) {
        size_t s = path_start + 1;
        for (;;) {
            const char *slash = memchr(uri + s, '/', path_end - s);
            size_t e = slash ? (size_t)(slash - uri) : path_end;
            struct segment seg = {s, e - s};
            if (count == MC_GS1_DL_PATH_SEGMENTS_MAX) {
                memmove(last, last + 1, sizeof last[0] * (MC_GS1_DL_PATH_SEGMENTS_MAX - 1));
                count--;
            }
            last[count++] = seg;
            any_01 = any_01 || seg_is(&p, &seg, "01");
            if (!slash) break;
            s = e + 1;
        }
    }
    /* The GS1 path is a suffix of 2k segments starting with "01"; the
     * longest one that parses wins, else the longest one's error stands. */
    int rc = 1;
    struct mc_gs1_error first_err;
    bool have_first = false;
    for (size_t k = MC_GS1_DL_PATH_SEGMENTS_MAX / 2; k >= 1; k--) {
        if (2 * k > count || !seg_is(&p, &last[count - 2 * k], "01")) continue;
        memset(p.seen, 0, sizeof p.seen);
        memset(p.out, 0, sizeof *p.out);
        rc = parse_gs1_path(&p, &last[count - 2 * k], 2 * k);
        if (rc == MC_OK) break;
        if (!have_first) {
            first_err = *p.err;
            have_first = true;
        }
    }
    if (rc != MC_OK && have_first) {
        *p.err = first_err;
        return finish(&p, fail_err(p.err, first_err.fault, first_err.ai, first_err.offset, "%s",
                                   first_err.message));
    }
    if (rc != MC_OK)
        return finish(&p, fail_err(p.err, MC_GS1_FAULT_NO_PRIMARY_KEY, "01", path_start,
                                   "the path does not end in the GTIN primary key (AI 01: /01/{gtin}) and its key "
                                   "qualifiers%s",
                                   any_01 ? " (after /01/ comes an odd number of segments)"
                                          : ""));
    return finish(&p, parse_query(&p, query_start, query_end));
}

int mc_gs1_parse(struct mc_gs1_id *out, struct mc_gs1_error *err, const char *in, size_t n,
                 unsigned reference_year) {
    /* Element strings start with a digit, "(", "]" or GS; URIs never do. */
    bool dl = n > 0 && (in[0] == '/' || is_alpha((unsigned char)in[0]));
    return dl ? mc_gs1_parse_digital_link(out, err, in, n, reference_year)
              : mc_gs1_parse_element_string(out, err, in, n, reference_year);
}

int mc_gs1_gtin_normalize(char out[MC_GS1_GTIN_LEN + 1], struct mc_gs1_error *err,
                          const char *gtin, size_t n) {
    struct mc_gs1_error scratch;
    if (!err) err = &scratch;
    memset(err, 0, sizeof *err);
    out[0] = 0;
    for (size_t i = 0; i < n && i <= MC_GS1_GTIN_LEN; i++) {
        if (!is_digit((unsigned char)gtin[i])) {
            char cd[16];
            char_desc(cd, (unsigned char)gtin[i]);
            return fail_err(err, MC_GS1_FAULT_BAD_CHARACTER, "01", i,
                            "GTIN character %zu, %s, is not a digit", i + 1, cd);
        }
    }
    if (n != 8 && n != 12 && n != 13 && n != 14)
        return fail_err(err, MC_GS1_FAULT_BAD_LENGTH, "01", 0,
                        "GTIN has %zu digits; 8, 12, 13 or 14 needed", n);
    if (!mc_gs1_check_digit_valid(gtin, n)) {
        int want = mc_gs1_check_digit_compute(gtin, n - 1);
        return fail_err(err, MC_GS1_FAULT_BAD_CHECK_DIGIT, "01", n - 1,
                        "GTIN %.*s has check digit %c, it should be %d", (int)n, gtin,
                        gtin[n - 1], want);
    }
    memset(out, '0', MC_GS1_GTIN_LEN - n);
    memcpy(out + MC_GS1_GTIN_LEN - n, gtin, n);
    out[MC_GS1_GTIN_LEN] = 0;
    return MC_OK;
}

/* ---- output ------------------------------------------------------------- */

struct writer {
    char *out;
    size_t size, len;
    bool overflow;
};

static void put(struct writer *w, const char *s, size_t n) {
    if (w->overflow || w->size - w->len <= n) {
        w->overflow = true;
        return;
    }
    memcpy(w->out + w->len, s, n);
    w->len += n;
    w->out[w->len] = 0;
}

static void puts_(struct writer *w, const char *s) { put(w, s, strlen(s)); }

static bool text_valid(const char *s, size_t cap, bool digits_only) {
    size_t n = strnlen(s, cap);
    if (n == cap) return false;
    for (size_t i = 0; i < n; i++)
        if (digits_only ? !is_digit((unsigned char)s[i]) : !is_set82((unsigned char)s[i]))
            return false;
    return true;
}

static bool id_valid(const struct mc_gs1_id *id) {
    if (!text_valid(id->gtin, sizeof id->gtin, true) || strlen(id->gtin) != MC_GS1_GTIN_LEN ||
        !mc_gs1_check_digit_valid(id->gtin, MC_GS1_GTIN_LEN))
        return false;
    if (!text_valid(id->cpv, sizeof id->cpv, false) || !text_valid(id->lot, sizeof id->lot, false) ||
        !text_valid(id->serial, sizeof id->serial, false))
        return false;
    if (id->present & ~(uint32_t)(MC_GS1_HAS_EXPIRY | MC_GS1_HAS_PRODUCTION |
                                  MC_GS1_HAS_BEST_BEFORE | MC_GS1_HAS_SELL_BY))
        return false;
    if ((id->present & MC_GS1_HAS_EXPIRY) && !date_valid(&id->expiry)) return false;
    if ((id->present & MC_GS1_HAS_PRODUCTION) && !date_valid(&id->production)) return false;
    if ((id->present & MC_GS1_HAS_BEST_BEFORE) && !date_valid(&id->best_before)) return false;
    if ((id->present & MC_GS1_HAS_SELL_BY) && !date_valid(&id->sell_by)) return false;
    return true;
}

static void yymmdd(char out[7], const struct mc_gs1_date *d) {
    unsigned parts[3] = {d->year % 100u, d->month % 100u, d->day_unspecified ? 0u : d->day % 100u};
    for (int i = 0; i < 3; i++) {
        out[2 * i] = (char)('0' + parts[i] / 10);
        out[2 * i + 1] = (char)('0' + parts[i] % 10);
    }
    out[6] = 0;
}

struct date_ai { const char *ai; uint32_t bit; size_t offset; };
static const struct date_ai date_ais[] = {
    {"11", MC_GS1_HAS_PRODUCTION, offsetof(struct mc_gs1_id, production)},
    {"15", MC_GS1_HAS_BEST_BEFORE, offsetof(struct mc_gs1_id, best_before)},
    {"16", MC_GS1_HAS_SELL_BY, offsetof(struct mc_gs1_id, sell_by)},
    {"17", MC_GS1_HAS_EXPIRY, offsetof(struct mc_gs1_id, expiry)},
};

static int writer_finish(struct writer *w, size_t *out_len) {
    if (w->overflow) {
        if (w->size) w->out[0] = 0;
        return mc_err_set(MC_ERR_TOO_LARGE, "gs1: output buffer of %zu bytes too small", w->size);
    }
    if (out_len) *out_len = w->len;
    return MC_OK;
}

int mc_gs1_encode_element_string(char *out, size_t out_size, size_t *out_len,
                                 const struct mc_gs1_id *id, bool human_readable) {
    struct writer w = {out, out_size, 0, out_size == 0};
    if (out_size) out[0] = 0;
    if (!id_valid(id)) return mc_err_set(MC_ERR_INVALID, "gs1: identifier is not valid");
    const char *open = human_readable ? "(" : "", *close = human_readable ? ")" : "";
    puts_(&w, open); puts_(&w, "01"); puts_(&w, close); puts_(&w, id->gtin);
    for (size_t i = 0; i < sizeof date_ais / sizeof date_ais[0]; i++) {
        if (!(id->present & date_ais[i].bit)) continue;
        char d[7];
        yymmdd(d, (const struct mc_gs1_date *)((const char *)id + date_ais[i].offset));
        puts_(&w, open); puts_(&w, date_ais[i].ai); puts_(&w, close); puts_(&w, d);
    }
    const struct { const char *ai; const char *v; } vars[] = {
        {"22", id->cpv}, {"10", id->lot}, {"21", id->serial}};
    bool need_gs = false;
    for (size_t i = 0; i < 3; i++) {
        if (!vars[i].v[0]) continue;
        if (need_gs && !human_readable) put(&w, "\x1d", 1);
        puts_(&w, open); puts_(&w, vars[i].ai); puts_(&w, close); puts_(&w, vars[i].v);
        need_gs = true;
    }
    return writer_finish(&w, out_len);
}

static void put_percent_encoded(struct writer *w, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_') {
            put(w, (const char *)&c, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            put(w, e, 3);
        }
    }
}

int mc_gs1_encode_digital_link(char *out, size_t out_size, size_t *out_len,
                               const struct mc_gs1_id *id, const char *base) {
    struct writer w = {out, out_size, 0, out_size == 0};
    if (out_size) out[0] = 0;
    if (!base) base = "https://id.gs1.org";
    size_t blen = strnlen(base, MC_GS1_BASE_MAX);
    if (blen == MC_GS1_BASE_MAX || strpbrk(base, "?#") || (blen && base[blen - 1] == '/'))
        return mc_err_set(MC_ERR_INVALID, "gs1: Digital Link base is too long, has a query or "
                                          "fragment, or ends in '/'");
    if (!id_valid(id)) return mc_err_set(MC_ERR_INVALID, "gs1: identifier is not valid");
    put(&w, base, blen);
    puts_(&w, "/01/");
    puts_(&w, id->gtin);
    const struct { const char *ai; const char *v; } quals[] = {
        {"/22/", id->cpv}, {"/10/", id->lot}, {"/21/", id->serial}};
    for (size_t i = 0; i < 3; i++) {
        if (!quals[i].v[0]) continue;
        puts_(&w, quals[i].ai);
        put_percent_encoded(&w, quals[i].v);
    }
    char sep = '?';
    for (size_t i = 0; i < sizeof date_ais / sizeof date_ais[0]; i++) {
        if (!(id->present & date_ais[i].bit)) continue;
        char d[7];
        yymmdd(d, (const struct mc_gs1_date *)((const char *)id + date_ais[i].offset));
        put(&w, &sep, 1);
        puts_(&w, date_ais[i].ai);
        puts_(&w, "=");
        puts_(&w, d);
        sep = '&';
    }
    return writer_finish(&w, out_len);
}

static bool date_equal(const struct mc_gs1_date *a, const struct mc_gs1_date *b) {
    return a->year == b->year && a->month == b->month && a->day == b->day &&
           a->day_unspecified == b->day_unspecified;
}

bool mc_gs1_id_equal(const struct mc_gs1_id *a, const struct mc_gs1_id *b) {
    if (strncmp(a->gtin, b->gtin, sizeof a->gtin) || strncmp(a->cpv, b->cpv, sizeof a->cpv) ||
        strncmp(a->lot, b->lot, sizeof a->lot) || strncmp(a->serial, b->serial, sizeof a->serial) ||
        a->present != b->present)
        return false;
    for (size_t i = 0; i < sizeof date_ais / sizeof date_ais[0]; i++) {
        if (!(a->present & date_ais[i].bit)) continue;
        if (!date_equal((const struct mc_gs1_date *)((const char *)a + date_ais[i].offset),
                        (const struct mc_gs1_date *)((const char *)b + date_ais[i].offset)))
            return false;
    }
    return true;
}

const char *mc_gs1_fault_name(enum mc_gs1_fault fault) {
    switch (fault) {
    case MC_GS1_FAULT_NONE: return "none";
    case MC_GS1_FAULT_EMPTY: return "empty";
    case MC_GS1_FAULT_INPUT_TOO_LONG: return "input_too_long";
    case MC_GS1_FAULT_BAD_SYMBOLOGY: return "bad_symbology";
    case MC_GS1_FAULT_BAD_AI: return "bad_ai";
    case MC_GS1_FAULT_UNKNOWN_AI: return "unknown_ai";
    case MC_GS1_FAULT_EMPTY_VALUE: return "empty_value";
    case MC_GS1_FAULT_TRUNCATED: return "truncated";
    case MC_GS1_FAULT_BAD_LENGTH: return "bad_length";
    case MC_GS1_FAULT_TOO_LONG: return "too_long";
    case MC_GS1_FAULT_MISSING_SEPARATOR: return "missing_separator";
    case MC_GS1_FAULT_BAD_CHARACTER: return "bad_character";
    case MC_GS1_FAULT_BAD_CHECK_DIGIT: return "bad_check_digit";
    case MC_GS1_FAULT_BAD_DATE: return "bad_date";
    case MC_GS1_FAULT_DUPLICATE_AI: return "duplicate_ai";
    case MC_GS1_FAULT_MISSING_GTIN: return "missing_gtin";
    case MC_GS1_FAULT_BAD_URI: return "bad_uri";
    case MC_GS1_FAULT_BAD_PERCENT: return "bad_percent";
    case MC_GS1_FAULT_NO_PRIMARY_KEY: return "no_primary_key";
    case MC_GS1_FAULT_QUALIFIER_ORDER: return "qualifier_order";
    case MC_GS1_FAULT_NOT_QUALIFIER: return "not_qualifier";
    case MC_GS1_FAULT_NOT_ATTRIBUTE: return "not_attribute";
    }
    return "unknown";
}
