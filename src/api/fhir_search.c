/* FHIR R4 search parameters, matching, order and links (see fhir_search.h). */
#include "api/fhir_search.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/json_exact.h"
#include "api/json_view.h"
#include "app/records.h"

/* --- what each type defines --- */

enum { P_PATIENT = 1, P_SUBJECT = 2, P_CODE = 4, P_CATEGORY = 8, P_STATUS = 16, P_DATE = 32 };

static unsigned type_params(uint16_t t) {
    switch (t) {
    case MC_FHIR_OBSERVATION: return P_PATIENT | P_SUBJECT | P_CODE | P_CATEGORY | P_STATUS | P_DATE;
    case MC_FHIR_CONDITION: return P_PATIENT | P_SUBJECT | P_CODE | P_CATEGORY;
    case MC_FHIR_ALLERGY_INTOLERANCE: return P_PATIENT | P_CODE | P_CATEGORY | P_DATE;
    case MC_FHIR_MEDICATION_STATEMENT: return P_PATIENT | P_SUBJECT | P_CODE | P_CATEGORY | P_STATUS;
    case MC_FHIR_DIAGNOSTIC_REPORT: return P_PATIENT | P_SUBJECT | P_CODE | P_CATEGORY | P_STATUS | P_DATE;
    case MC_FHIR_DOCUMENT_REFERENCE: return P_PATIENT | P_SUBJECT | P_CATEGORY | P_STATUS | P_DATE;
    case MC_FHIR_IMMUNIZATION: return P_PATIENT | P_STATUS | P_DATE;
    case MC_FHIR_ENCOUNTER: return P_PATIENT | P_SUBJECT | P_STATUS | P_DATE;
    case MC_FHIR_CLAIM: return P_PATIENT | P_STATUS;
    case MC_FHIR_EXPLANATION_OF_BENEFIT: return P_PATIENT | P_STATUS;
    case MC_FHIR_PROVENANCE: return P_PATIENT;
    default: return 0; /* Patient: _id and the common ones */
    }
}

bool mc__fhir_search_served(uint16_t t) {
    return t && t != MC_FHIR_PRACTITIONER && t != MC_FHIR_ORGANIZATION && t != MC_FHIR_LOCATION &&
           t != MC_FHIR_BINARY;
}

size_t mc__fhir_search_params(uint16_t type, struct mc__fhir_param *out, size_t max) {
    unsigned p = type_params(type);
    struct mc__fhir_param all[] = {
        {"_id", "token"}, {"_lastUpdated", "date"}, {type == MC_FHIR_PATIENT ? "identifier" : NULL, "token"},
        {(p & P_PATIENT) ? "patient" : NULL, "reference"}, {(p & P_SUBJECT) ? "subject" : NULL, "reference"},
        {(p & P_CODE) ? "code" : NULL, "token"}, {(p & P_CATEGORY) ? "category" : NULL, "token"},
        {(p & P_STATUS) ? "status" : NULL, "token"}, {(p & P_DATE) ? "date" : NULL, "date"},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0] && n < max; i++)
        if (all[i].name) out[n++] = all[i];
    return n;
}

/* The element a code search looks in. */
static const char *code_elem(uint16_t t) {
    return t == MC_FHIR_MEDICATION_STATEMENT ? "medicationCodeableConcept" : "code";
}

/* --- dates --- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return true;
}

static int num(const char *s, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int mc__fhir_date_range(const char *s, int64_t *start, int64_t *end) {
    size_t n = s ? strlen(s) : 0;
    if (n < 4 || !digits(s, 4)) return MC_ERR_MALFORMED;
    int y = num(s, 4), mo = 1, d = 1, h = 0, mi = 0, se = 0, ms = 0;
    int64_t unit; /* ms of the precision; months and years below */
    int months = 0;
    size_t i = 4;
    if (i == n) {
        months = 12;
    } else {
        if (s[i] != '-' || n < i + 3 || !digits(s + i + 1, 2)) return MC_ERR_MALFORMED;
        mo = num(s + i + 1, 2);
        i += 3;
        if (i == n) {
            months = 1;
        } else {
            if (s[i] != '-' || n < i + 3 || !digits(s + i + 1, 2)) return MC_ERR_MALFORMED;
            d = num(s + i + 1, 2);
            i += 3;
        }
    }
    if (mo < 1 || mo > 12) return MC_ERR_MALFORMED;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[mo - 1] + (mo == 2 && leap(y));
    if (d < 1 || d > dim) return MC_ERR_MALFORMED;
    unit = 86400000;
    int64_t offset_ms = 0;
    if (!months && i < n) {
        /* Thh:mm[:ss[.f+]] then Z or +hh:mm / -hh:mm */
        if (s[i] != 'T' || n < i + 6 || !digits(s + i + 1, 2) || s[i + 3] != ':' || !digits(s + i + 4, 2))
            return MC_ERR_MALFORMED;
        h = num(s + i + 1, 2);
        mi = num(s + i + 4, 2);
        i += 6;
        unit = 60000;
        if (i < n && s[i] == ':') {
            if (n < i + 3 || !digits(s + i + 1, 2)) return MC_ERR_MALFORMED;
            se = num(s + i + 1, 2);
            i += 3;
            unit = 1000;
            if (i < n && s[i] == '.') {
                size_t f = i + 1;
                while (f < n && isdigit((unsigned char)s[f])) f++;
                if (f == i + 1) return MC_ERR_MALFORMED;
                int scale = 100;
                for (size_t k = i + 1; k < f && k < i + 4; k++, scale /= 10) ms += (s[k] - '0') * scale;
                unit = 1;
                i = f;
            }
        }
        if (h > 23 || mi > 59 || se > 59) return MC_ERR_MALFORMED;
        if (i < n && s[i] == 'Z') {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            if (n < i + 6 || !digits(s + i + 1, 2) || s[i + 3] != ':' || !digits(s + i + 4, 2))
                return MC_ERR_MALFORMED;
            int oh = num(s + i + 1, 2), om = num(s + i + 4, 2);
            if (oh > 14 || om > 59) return MC_ERR_MALFORMED;
            offset_ms = ((int64_t)oh * 60 + om) * 60000 * (s[i] == '-' ? -1 : 1);
            i += 6;
        }
    }
    if (i != n) return MC_ERR_MALFORMED;
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000 +
                (((int64_t)h * 60 + mi) * 60 + se) * 1000 + ms - offset_ms;
    *start = t;
    if (months) {
        int ey = y + (mo - 1 + months) / 12, em = (mo - 1 + months) % 12 + 1;
        *end = days_from_civil(ey, (unsigned)em, 1) * 86400000;
    } else {
        *end = t + unit;
    }
    return 0;
}

/* The range of a date element: a date/dateTime/instant string or a
 * Period. false when it has none. */
static bool elem_range(const json_t *v, int64_t *start, int64_t *end) {
    if (mc_json_exact_is_string(v)) return mc__fhir_date_range(json_string_value(v), start, end) == 0;
    if (!json_is_object(v)) return false;
    const json_t *ps = json_object_get(v, "start"), *pe = json_object_get(v, "end");
    int64_t a, b, c, d;
    bool hs = mc_json_exact_is_string(ps) && mc__fhir_date_range(json_string_value(ps), &a, &b) == 0;
    bool he = mc_json_exact_is_string(pe) && mc__fhir_date_range(json_string_value(pe), &c, &d) == 0;
    if (!hs && !he) return false;
    *start = hs ? a : INT64_MIN;
    *end = he ? d : INT64_MAX;
    return true;
}

/* The element date= compares, per type. */
static const json_t *date_elem(uint16_t t, const json_t *res) {
    static const char *const eff[] = {"effectiveDateTime", "effectivePeriod", "effectiveInstant", NULL};
    const char *one = NULL;
    switch (t) {
    case MC_FHIR_OBSERVATION:
    case MC_FHIR_DIAGNOSTIC_REPORT:
        for (size_t i = 0; eff[i]; i++) {
            const json_t *v = json_object_get(res, eff[i]);
            if (v) return v;
        }
        return NULL;
    case MC_FHIR_DOCUMENT_REFERENCE: one = "date"; break;
    case MC_FHIR_IMMUNIZATION: one = "occurrenceDateTime"; break;
    case MC_FHIR_ENCOUNTER: one = "period"; break;
    case MC_FHIR_ALLERGY_INTOLERANCE: one = "recordedDate"; break;
    default: return NULL;
    }
    return json_object_get(res, one);
}

/* R4 prefix semantics over ranges: target [ts, te), parameter [ps, pe). */
static bool date_ok(const struct mc__fhir_date_cmp *c, int64_t ts, int64_t te) {
    bool contained = ts >= c->start && te <= c->end;
    const char *p = c->prefix;
    if (!strcmp(p, "eq")) return contained;
    if (!strcmp(p, "ne")) return !contained;
    if (!strcmp(p, "gt")) return te > c->end;
    if (!strcmp(p, "lt")) return ts < c->start;
    if (!strcmp(p, "ge")) return te > c->end || contained;
    if (!strcmp(p, "le")) return ts < c->start || contained;
    if (!strcmp(p, "sa")) return ts >= c->end;
    if (!strcmp(p, "eb")) return te <= c->start;
    return false;
}

/* --- parsing --- */

struct parse {
    struct mc__fhir_search *s;
    bool strict;
    int rc;
    char *why;
    size_t why_size;
};

static int bad(struct parse *p, int rc, const char *fmt, const char *a, const char *b) {
    if (p->rc) return 1;
    p->rc = rc;
    snprintf(p->why, p->why_size, fmt, a, b ? b : "");
    return 1;
}

static bool parse_tokens(struct mc__fhir_tokens *t, const char *v) {
    const char *p = v;
    while (true) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0 || t->n == MC_FHIR_SEARCH_VALUES_MAX) return false;
        struct mc__fhir_token *k = &t->v[t->n++];
        memset(k, 0, sizeof *k);
        const char *bar = memchr(p, '|', n);
        if (bar) {
            size_t sn = (size_t)(bar - p), cn = n - sn - 1;
            if (sn > MC_FHIR_SEARCH_VALUE_MAX || cn > MC_FHIR_SEARCH_VALUE_MAX || memchr(bar + 1, '|', cn))
                return false;
            memcpy(k->system, p, sn);
            memcpy(k->code, bar + 1, cn);
            k->has_system = true;
            if (sn == 0 && cn == 0) return false;
        } else {
            if (n > MC_FHIR_SEARCH_VALUE_MAX) return false;
            memcpy(k->code, p, n);
        }
        if (!comma) return true;
        p = comma + 1;
    }
}

static bool parse_date(struct mc__fhir_date_cmp *c, const char *v) {
    memset(c, 0, sizeof *c);
    static const char *const prefixes[] = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", NULL};
    snprintf(c->prefix, sizeof c->prefix, "eq");
    for (size_t i = 0; prefixes[i]; i++)
        if (strncmp(v, prefixes[i], 2) == 0) {
            snprintf(c->prefix, sizeof c->prefix, "%s", prefixes[i]);
            v += 2;
            break;
        }
    return mc__fhir_date_range(v, &c->start, &c->end) == 0;
}

static bool parse_sort(struct mc__fhir_search *s, const char *v) {
    const char *p = v;
    while (true) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        bool desc = n > 0 && p[0] == '-';
        const char *k = p + desc;
        size_t kn = n - desc;
        int key = 0;
        if (kn == 3 && !strncmp(k, "_id", 3)) key = MC_SORT_ID;
        else if (kn == 12 && !strncmp(k, "_lastUpdated", 12)) key = MC_SORT_LAST_UPDATED;
        else if (kn == 4 && !strncmp(k, "date", 4) && (type_params(s->type) & P_DATE)) key = MC_SORT_DATE;
        else if (kn == 6 && !strncmp(k, "status", 6) && (type_params(s->type) & P_STATUS)) key = MC_SORT_STATUS;
        if (!key || s->nsort == MC_FHIR_SEARCH_SORT_MAX) return false;
        s->sort[s->nsort++] = desc ? -key : key;
        if (!comma) return true;
        p = comma + 1;
    }
}

static bool parse_size(size_t *out, const char *v, size_t max) {
    uint64_t x;
    if (mc_api_parse_u64(&x, v) || x > max) return false;
    *out = (size_t)x;
    return true;
}

static int on_arg(void *ctx, const char *name, const char *value) {
    struct parse *p = ctx;
    struct mc__fhir_search *s = p->s;
    if (p->rc) return 1;
    const char *v = value ? value : "";
    if (strlen(v) > MC_FHIR_SEARCH_LINK_MAX / 2)
        return bad(p, MC_ERR_MALFORMED, "the value of %s is too long", name, NULL);
    unsigned tp = type_params(s->type);
    bool ok = true, known = true, applied = true;
    if ((!strcmp(name, "patient") && (tp & P_PATIENT)) || (!strcmp(name, "subject") && (tp & P_SUBJECT))) {
        if (s->patient_ref[0]) return bad(p, MC_ERR_MALFORMED, "give one of patient= and subject= once", NULL, NULL);
        ok = v[0] && strlen(v) <= MC_FHIR_SEARCH_VALUE_MAX;
        if (ok) snprintf(s->patient_ref, sizeof s->patient_ref, "%s", v);
    } else if (!strcmp(name, "_id")) {
        ok = parse_tokens(&s->ids, v);
    } else if (!strcmp(name, "identifier") && s->type == MC_FHIR_PATIENT) {
        /* the account key names the patient; other identifiers filter */
        static const char acct[] = "urn:medchain:account|";
        if (!strncmp(v, acct, sizeof acct - 1) && !strchr(v, ',')) {
            if (s->patient_ref[0]) return bad(p, MC_ERR_MALFORMED, "name the patient once", NULL, NULL);
            ok = strlen(v + sizeof acct - 1) == 64;
            if (ok) snprintf(s->patient_ref, sizeof s->patient_ref, "%s", v + sizeof acct - 1);
        } else {
            ok = parse_tokens(&s->identifier, v);
        }
    } else if (!strcmp(name, "code") && (tp & P_CODE)) {
        ok = parse_tokens(&s->code, v);
    } else if (!strcmp(name, "category") && (tp & P_CATEGORY)) {
        ok = parse_tokens(&s->category, v);
    } else if (!strcmp(name, "status") && (tp & P_STATUS)) {
        ok = parse_tokens(&s->status, v);
    } else if (!strcmp(name, "date") && (tp & P_DATE)) {
        ok = s->ndate < MC_FHIR_SEARCH_DATES_MAX && parse_date(&s->date[s->ndate++], v);
    } else if (!strcmp(name, "_lastUpdated")) {
        ok = s->nlast < MC_FHIR_SEARCH_DATES_MAX && parse_date(&s->last[s->nlast++], v);
    } else if (!strcmp(name, "_count")) {
        ok = parse_size(&s->count, v, MC_FHIR_SEARCH_COUNT_MAX);
        if (ok && s->count == 0) s->summary_count = true;
    } else if (!strcmp(name, "_offset")) {
        ok = parse_size(&s->offset, v, SIZE_MAX / 2);
        applied = false; /* the links carry their own */
    } else if (!strcmp(name, "_sort")) {
        ok = parse_sort(s, v);
    } else if (!strcmp(name, "_summary") && (!strcmp(v, "count") || !strcmp(v, "false"))) {
        if (!strcmp(v, "count")) s->summary_count = true;
    } else if (!strcmp(name, "_include")) {
        /* Type:patient, Type:subject, Type:* or * (the patient is the one
         * resource a record refers to that this server holds) */
        char want[64];
        const char *tn = mc_records_type_name(s->type);
        bool any = !strcmp(v, "*");
        snprintf(want, sizeof want, "%s:", tn ? tn : "");
        size_t wn = strlen(want);
        bool mine = strncmp(v, want, wn) == 0;
        const char *what = v + wn;
        known = any || (mine && (!strcmp(what, "*") || (!strcmp(what, "patient") && (tp & P_PATIENT)) ||
                                 (!strcmp(what, "subject") && (tp & P_SUBJECT))));
        if (known) s->include_patient = true;
    } else if (!strcmp(name, "_format")) {
        known = !strcmp(v, "json") || !strcmp(v, "application/fhir+json") || !strcmp(v, "application/json");
    } else {
        known = false;
    }
    if (!known) {
        if (p->strict)
            return bad(p, MC_ERR_INVALID, "search parameter %s=%s is not supported here (see /fhir/metadata)",
                       name, v);
        return 0; /* ignored, and so not in the self link */
    }
    if (!ok) return bad(p, MC_ERR_MALFORMED, "the value of %s is malformed: %s", name, v);
    if (applied && !mc__fhir_query_add(s->applied, sizeof s->applied, name, v))
        return bad(p, MC_ERR_MALFORMED, "the search parameters are too long", NULL, NULL);
    return 0;
}

/* Finds "handling=strict" in a Prefer header (comma-separated prefs). */
static bool prefer_strict(const char *prefer) {
    if (!prefer) return false;
    const char *p = prefer;
    while ((p = strstr(p, "handling"))) {
        const char *q = p + 8;
        while (*q == ' ') q++;
        if (*q == '=') {
            q++;
            while (*q == ' ') q++;
            if (strncasecmp(q, "strict", 6) == 0) return true;
        }
        p += 8;
    }
    return false;
}

struct names {
    const char *const *known;
    char *why;
    size_t why_size;
    int rc;
};

static int check_name(void *ctx, const char *name, const char *value) {
    struct names *c = ctx;
    for (size_t i = 0; c->known[i]; i++)
        if (!strcmp(c->known[i], name)) return 0;
    c->rc = MC_ERR_INVALID;
    snprintf(c->why, c->why_size, "search parameter %.60s is not supported here (see /fhir/metadata)", name);
    return 1;
}

int mc__fhir_search_check_names(const struct mc__api_request *req, const char *const *known, char *why,
                                size_t why_size) {
    if (!prefer_strict(req->header ? req->header(req->header_ctx, "Prefer") : NULL) || !req->each_arg) return 0;
    struct names c = {.known = known, .why = why, .why_size = why_size};
    req->each_arg(req->arg_ctx, check_name, &c);
    return c.rc;
}

int mc__fhir_search_parse(struct mc__fhir_search *s, uint16_t type, const struct mc__api_request *req,
                          char *why, size_t why_size) {
    memset(s, 0, sizeof *s);
    s->type = type;
    s->count = MC_FHIR_SEARCH_COUNT_DEFAULT;
    why[0] = 0;
    struct parse p = {.s = s, .why = why, .why_size = why_size,
                      .strict = prefer_strict(req->header ? req->header(req->header_ctx, "Prefer") : NULL)};
    if (req->each_arg) req->each_arg(req->arg_ctx, on_arg, &p);
    return p.rc;
}

/* --- matching --- */

static bool token_eq(const struct mc__fhir_token *t, const char *system, const char *code) {
    if (t->has_system) {
        if (t->system[0] ? !system || strcmp(system, t->system) : system != NULL) return false;
        return !t->code[0] || (code && strcmp(code, t->code) == 0);
    }
    return code && strcmp(code, t->code) == 0;
}

static const char *str(const json_t *v) { return mc_json_exact_is_string(v) ? json_string_value(v) : NULL; }

/* A CodeableConcept, a Coding or a code string matches one of the tokens. */
static bool concept_matches(const struct mc__fhir_tokens *ts, const json_t *v) {
    if (!v) return false;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (concept_matches(ts, json_array_get(v, i))) return true;
        return false;
    }
    for (size_t k = 0; k < ts->n; k++) {
        if (str(v)) { /* a code: its system is implied by the element */
            if (ts->v[k].code[0] && strcmp(ts->v[k].code, str(v)) == 0) return true;
            continue;
        }
        const json_t *coding = json_object_get(v, "coding");
        if (!coding && json_object_get(v, "code")) { /* a Coding */
            if (token_eq(&ts->v[k], str(json_object_get(v, "system")), str(json_object_get(v, "code"))))
                return true;
            continue;
        }
        for (size_t i = 0; json_is_array(coding) && i < json_array_size(coding); i++) {
            const json_t *c = json_array_get(coding, i);
            if (token_eq(&ts->v[k], str(json_object_get(c, "system")), str(json_object_get(c, "code"))))
                return true;
        }
    }
    return false;
}

bool mc__fhir_search_match(const struct mc__fhir_search *s, const json_t *res, const char *id,
                           uint64_t updated_ms) {
    if (s->ids.n) {
        bool any = false;
        for (size_t k = 0; k < s->ids.n && !any; k++) any = !strcmp(s->ids.v[k].code, id) && !s->ids.v[k].has_system;
        if (!any) return false;
    }
    if (s->identifier.n) {
        const json_t *ids = json_object_get(res, "identifier");
        bool any = false;
        for (size_t i = 0; !any && json_is_array(ids) && i < json_array_size(ids); i++) {
            const json_t *one = json_array_get(ids, i);
            for (size_t k = 0; !any && k < s->identifier.n; k++)
                any = token_eq(&s->identifier.v[k], str(json_object_get(one, "system")), str(json_object_get(one, "value")));
        }
        if (!any) return false;
    }
    if (s->code.n && !concept_matches(&s->code, json_object_get(res, code_elem(s->type)))) return false;
    if (s->category.n && !concept_matches(&s->category, json_object_get(res, "category"))) return false;
    if (s->status.n) {
        const char *st = str(json_object_get(res, "status"));
        bool any = false;
        for (size_t k = 0; st && k < s->status.n && !any; k++) any = !strcmp(s->status.v[k].code, st);
        if (!any) return false;
    }
    if (s->ndate) {
        int64_t ts, te;
        if (!elem_range(date_elem(s->type, res), &ts, &te)) return false;
        for (size_t k = 0; k < s->ndate; k++)
            if (!date_ok(&s->date[k], ts, te)) return false;
    }
    for (size_t k = 0; k < s->nlast; k++)
        if (!date_ok(&s->last[k], (int64_t)updated_ms, (int64_t)updated_ms + 1)) return false;
    return true;
}

/* --- order --- */

struct sort_item {
    json_t *entry;
    size_t index;
};

static int cmp_key(const struct mc__fhir_search *s, int key, const json_t *a, const json_t *b) {
    int k = key < 0 ? -key : key, sign = key < 0 ? -1 : 1;
    const json_t *ra = json_object_get(a, "resource"), *rb = json_object_get(b, "resource");
    if (k == MC_SORT_ID || k == MC_SORT_STATUS) {
        const char *f = k == MC_SORT_ID ? "id" : "status";
        const char *x = str(json_object_get(ra, f)), *y = str(json_object_get(rb, f));
        if (!x || !y) return x ? -1 : y ? 1 : 0;
        return sign * strcmp(x, y);
    }
    int64_t xs, xe, ys, ye;
    bool hx, hy;
    if (k == MC_SORT_DATE) {
        hx = elem_range(date_elem(s->type, ra), &xs, &xe);
        hy = elem_range(date_elem(s->type, rb), &ys, &ye);
    } else {
        hx = elem_range(json_object_get(json_object_get(ra, "meta"), "lastUpdated"), &xs, &xe);
        hy = elem_range(json_object_get(json_object_get(rb, "meta"), "lastUpdated"), &ys, &ye);
    }
    if (!hx || !hy) return hx ? -1 : hy ? 1 : 0;
    return xs < ys ? -sign : xs > ys ? sign : 0;
}

static int cmp_items(const void *x, const void *y, void *ctx) {
    const struct mc__fhir_search *s = ctx;
    const struct sort_item *a = x, *b = y;
    for (size_t i = 0; i < s->nsort; i++) {
        int c = cmp_key(s, s->sort[i], a->entry, b->entry);
        if (c) return c;
    }
    return a->index < b->index ? -1 : a->index > b->index;
}

void mc__fhir_search_sort(const struct mc__fhir_search *s, json_t *entries) {
    size_t n = json_array_size(entries);
    if (!s->nsort || n < 2) return;
    struct sort_item *it = calloc(n, sizeof *it);
    if (!it) return;
    for (size_t i = 0; i < n; i++) it[i] = (struct sort_item){json_incref(json_array_get(entries, i)), i};
    qsort_r(it, n, sizeof *it, cmp_items, (void *)s);
    json_array_clear(entries);
    for (size_t i = 0; i < n; i++) json_array_append_new(entries, it[i].entry);
    free(it);
}

/* --- links --- */

bool mc__fhir_query_add(char *q, size_t size, const char *name, const char *value) {
    size_t o = strlen(q);
    char tmp[3 * MC_FHIR_SEARCH_LINK_MAX];
    size_t t = 0;
    if (o) tmp[t++] = '&';
    for (const char *p = name; *p && t + 4 < sizeof tmp; p++) tmp[t++] = *p;
    tmp[t++] = '=';
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (t + 4 >= sizeof tmp) return false;
        if (isalnum(*p) || strchr("-._~:/", *p)) {
            tmp[t++] = (char)*p;
        } else {
            static const char hx[] = "0123456789ABCDEF";
            tmp[t++] = '%';
            tmp[t++] = hx[*p >> 4];
            tmp[t++] = hx[*p & 15];
        }
    }
    if (o + t + 1 > size) return false;
    memcpy(q + o, tmp, t);
    q[o + t] = 0;
    return true;
}
