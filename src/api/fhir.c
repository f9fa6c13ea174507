/* FHIR R4 validation, OperationOutcome and references (see fhir.h). */
#include "api/fhir.h"

#include "api/json_view.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/json_exact.h"
#include "app/records.h"

static const char *const OBS_STATUS[] = {"registered", "preliminary", "final", "amended",
                                         "corrected", "cancelled", "entered-in-error", "unknown",
                                         NULL};
static const char *const MED_STATUS[] = {"active", "completed", "entered-in-error", "intended",
                                         "stopped", "on-hold", "unknown", "not-taken", NULL};
static const char *const DR_STATUS[] = {"registered", "partial", "preliminary", "final",
                                        "amended", "corrected", "appended", "cancelled",
                                        "entered-in-error", "unknown", NULL};
static const char *const DOC_STATUS[] = {"current", "superseded", "entered-in-error", NULL};
static const char *const IMM_STATUS[] = {"completed", "entered-in-error", "not-done", NULL};
static const char *const ENC_STATUS[] = {"planned", "arrived", "triaged", "in-progress",
                                         "onleave", "finished", "cancelled", "entered-in-error",
                                         "unknown", NULL};
static const char *const FIN_STATUS[] = {"active", "cancelled", "draft", "entered-in-error", NULL};
static const char *const CLAIM_USE[] = {"claim", "preauthorization", "predetermination", NULL};
static const char *const EOB_OUTCOME[] = {"queued", "complete", "error", "partial", NULL};

struct v {
    const json_t *res;
    const char *type;
    char *why;
    size_t why_size;
    int err;
};

static void fail(struct v *v, const char *elem, const char *what) {
    if (v->err) return;
    v->err = MC_ERR_INVALID;
    snprintf(v->why, v->why_size, "%s.%s: %s", v->type, elem, what);
}

static const json_t *need(struct v *v, const char *elem) {
    const json_t *e = json_object_get(v->res, elem);
    if (!e || json_is_null(e)) fail(v, elem, "required element is missing");
    return e;
}

static void need_object(struct v *v, const char *elem) {
    const json_t *e = need(v, elem);
    if (e && !json_is_object(e)) fail(v, elem, "must be an object");
}

static void need_string(struct v *v, const char *elem) {
    const json_t *e = need(v, elem);
    if (e && (!mc_json_exact_is_string(e) || json_string_length(e) == 0)) fail(v, elem, "must be a non-empty string");
}

static void need_code(struct v *v, const char *elem, const char *const *set) {
    const json_t *e = need(v, elem);
    if (!e || v->err) return;
    if (!mc_json_exact_is_string(e)) {
        fail(v, elem, "must be a code (string)");
        return;
    }
    for (size_t i = 0; set[i]; i++)
        if (strcmp(set[i], json_string_value(e)) == 0) return;
    fail(v, elem, "code is not in the required value set");
}

static void need_array(struct v *v, const char *elem) {
    const json_t *e = need(v, elem);
    if (e && (!json_is_array(e) || json_array_size(e) == 0)) fail(v, elem, "must be a non-empty array");
}

static void need_reference(struct v *v, const char *elem) {
    const json_t *e = need(v, elem);
    if (!e || v->err) return;
    const json_t *r = json_is_object(e) ? json_object_get(e, "reference") : NULL;
    if (!mc_json_exact_is_string(r) || json_string_length(r) == 0) fail(v, elem, "must be a Reference with a reference");
}

/* A Reference that may identify its target by reference, identifier or
 * display only (R4 allows each). */
static void need_any_reference(struct v *v, const char *elem) {
    const json_t *e = need(v, elem);
    if (!e || v->err) return;
    if (!json_is_object(e) || !(json_object_get(e, "reference") || json_object_get(e, "identifier") ||
                                json_object_get(e, "display")))
        fail(v, elem, "must be a Reference");
}

static void need_choice(struct v *v, const char *elem, const char *const *names) {
    for (size_t i = 0; names[i]; i++)
        if (json_object_get(v->res, names[i])) return;
    fail(v, elem, "required choice element is missing");
}

int mc_fhir_validate(const json_t *res, uint16_t *type, char *why, size_t why_size) {
    why[0] = 0;
    *type = 0;
    if (!json_is_object(res)) {
        snprintf(why, why_size, "a resource must be a JSON object");
        return MC_ERR_INVALID;
    }
    const char *rt = json_string_value(json_object_get(res, "resourceType"));
    if (!rt) {
        snprintf(why, why_size, "resourceType is missing");
        return MC_ERR_INVALID;
    }
    uint16_t t = mc_records_type_from_name(rt);
    if (!t) {
        snprintf(why, why_size, "resource type '%.64s' is not supported", rt);
        return MC_ERR_NOT_FOUND;
    }
    struct v v = {.res = res, .type = rt, .why = why, .why_size = why_size};
    const json_t *id = json_object_get(res, "id");
    if (id && (!mc_json_exact_is_string(id) || !mc_record_id_valid(json_string_value(id))))
        fail(&v, "id", "must match [A-Za-z0-9-.]{1,64}");
    const json_t *meta = json_object_get(res, "meta");
    if (meta && !json_is_object(meta)) fail(&v, "meta", "must be an object");
    switch (t) {
    case MC_FHIR_OBSERVATION:
        need_code(&v, "status", OBS_STATUS);
        need_object(&v, "code");
        need_reference(&v, "subject");
        break;
    case MC_FHIR_CONDITION: need_reference(&v, "subject"); break;
    case MC_FHIR_ALLERGY_INTOLERANCE: need_reference(&v, "patient"); break;
    case MC_FHIR_MEDICATION_STATEMENT: {
        static const char *const med[] = {"medicationCodeableConcept", "medicationReference", NULL};
        need_code(&v, "status", MED_STATUS);
        need_choice(&v, "medication[x]", med);
        need_reference(&v, "subject");
        break;
    }
    case MC_FHIR_DIAGNOSTIC_REPORT:
        need_code(&v, "status", DR_STATUS);
        need_object(&v, "code");
        need_reference(&v, "subject");
        break;
    case MC_FHIR_DOCUMENT_REFERENCE: {
        need_code(&v, "status", DOC_STATUS);
        need_array(&v, "content");
        const json_t *c = json_object_get(res, "content");
        for (size_t i = 0; !v.err && json_is_array(c) && i < json_array_size(c); i++)
            if (!json_is_object(json_object_get(json_array_get(c, i), "attachment")))
                fail(&v, "content.attachment", "required element is missing");
        need_reference(&v, "subject");
        break;
    }
    case MC_FHIR_IMMUNIZATION: {
        static const char *const occ[] = {"occurrenceDateTime", "occurrenceString", NULL};
        need_code(&v, "status", IMM_STATUS);
        need_object(&v, "vaccineCode");
        need_reference(&v, "patient");
        need_choice(&v, "occurrence[x]", occ);
        break;
    }
    case MC_FHIR_ENCOUNTER:
        need_code(&v, "status", ENC_STATUS);
        need_object(&v, "class");
        need_reference(&v, "subject");
        break;
    case MC_FHIR_CLAIM:
        need_code(&v, "status", FIN_STATUS);
        need_object(&v, "type");
        need_code(&v, "use", CLAIM_USE);
        need_reference(&v, "patient");
        need_string(&v, "created");
        need_any_reference(&v, "provider");
        need_object(&v, "priority");
        need_array(&v, "insurance");
        break;
    case MC_FHIR_EXPLANATION_OF_BENEFIT:
        need_code(&v, "status", FIN_STATUS);
        need_object(&v, "type");
        need_code(&v, "use", CLAIM_USE);
        need_reference(&v, "patient");
        need_string(&v, "created");
        need_any_reference(&v, "insurer");
        need_any_reference(&v, "provider");
        need_code(&v, "outcome", EOB_OUTCOME);
        need_array(&v, "insurance");
        break;
    case MC_FHIR_PROVENANCE: {
        need_array(&v, "target");
        need_string(&v, "recorded");
        need_array(&v, "agent");
        const json_t *a = json_object_get(res, "agent");
        for (size_t i = 0; !v.err && json_is_array(a) && i < json_array_size(a); i++) {
            const json_t *who = json_object_get(json_array_get(a, i), "who");
            if (!json_is_object(who)) fail(&v, "agent.who", "required element is missing");
        }
        const json_t *tg = json_object_get(res, "target");
        for (size_t i = 0; !v.err && json_is_array(tg) && i < json_array_size(tg); i++)
            if (!mc_json_exact_is_string(json_object_get(json_array_get(tg, i), "reference")))
                fail(&v, "target", "each target must be a Reference with a reference");
        break;
    }
    case MC_FHIR_PATIENT:
    case MC_FHIR_PRACTITIONER:
    case MC_FHIR_ORGANIZATION:
    case MC_FHIR_LOCATION: break;
    case MC_FHIR_BINARY:
        fail(&v, "data", "an attachment is uploaded as its raw bytes, streamed: POST /fhir/Binary?patient=KEY "
                         "with the attachment's own Content-Type (not as JSON, nor inside a Bundle)");
        break;
    default: break;
    }
    if (v.err) return v.err;
    *type = t;
    return 0;
}

size_t mc_fhir_patient_refs(const json_t *res, uint16_t type, const char **out, size_t max) {
    const char *elem = NULL;
    switch (type) {
    case MC_FHIR_ALLERGY_INTOLERANCE:
    case MC_FHIR_IMMUNIZATION:
    case MC_FHIR_CLAIM:
    case MC_FHIR_EXPLANATION_OF_BENEFIT: elem = "patient"; break;
    case MC_FHIR_PATIENT:
    case MC_FHIR_PRACTITIONER:
    case MC_FHIR_ORGANIZATION:
    case MC_FHIR_LOCATION: return 0;
    case MC_FHIR_PROVENANCE: {
        const json_t *tg = json_object_get(res, "target");
        size_t n = 0;
        for (size_t i = 0; json_is_array(tg) && i < json_array_size(tg) && n < max; i++) {
            const char *r = json_string_value(json_object_get(json_array_get(tg, i), "reference"));
            if (r) out[n++] = r;
        }
        return n;
    }
    default: elem = "subject"; break;
    }
    const char *r = json_string_value(json_object_get(json_object_get(res, elem), "reference"));
    if (!r || max == 0) return 0;
    out[0] = r;
    return 1;
}

size_t mc_fhir_rewrite_refs(json_t *v, const char *from, const char *to) {
    size_t n = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) {
            if (strcmp(key, "reference") == 0 && mc_json_exact_is_string(val) &&
                strcmp(json_string_value(val), from) == 0) {
                json_string_set(val, to);
                n++;
            } else {
                n += mc_fhir_rewrite_refs(val, from, to);
            }
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) n += mc_fhir_rewrite_refs(json_array_get(v, i), from, to);
    }
    return n;
}

json_t *mc_fhir_outcome(const char *severity, const char *code, const char *diagnostics) {
    /* The diagnostics may quote what a client sent (a parse error names the
     * bytes it stopped at), which need not be UTF-8: mc_api_json_text
     * replaces what is not, so an error always has its OperationOutcome. */
    return json_pack("{s:s, s:[{s:s, s:s, s:o}]}", "resourceType", "OperationOutcome", "issue",
                     "severity", severity, "code", code, "diagnostics",
                     mc_api_json_text(diagnostics && diagnostics[0] ? diagnostics : "error"));
}

const char *mc_fhir_issue_code(int err) {
    switch (err) {
    case MC_ERR_MALFORMED:
    case MC_ERR_INVALID: return "invalid";
    case MC_ERR_TOO_LARGE: return "too-costly";
    case MC_ERR_BAD_SIGNATURE:
    case MC_ERR_UNKNOWN_ACCOUNT: return "security";
    case MC_ERR_FORBIDDEN:
    case MC_ERR_REVOKED: return "forbidden";
    case MC_ERR_NOT_FOUND: return "not-found";
    case MC_ERR_EXISTS:
    case MC_ERR_STATE:
    case MC_ERR_BAD_NONCE: return "conflict";
    case MC_ERR_TAMPERED: return "exception";
    default: return "processing";
    }
}

void mc_fhir_instant(char out[32], uint64_t time_ms) {
    time_t s = (time_t)(time_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, (unsigned)(time_ms % 1000));
    memcpy(out, tmp, 25);
    out[24] = 0;
}

int mc_fhir_parse_date(uint64_t *ms, const char *s) {
    int y = 0, mo = 1, d = 1, h = 0, mi = 0, se = 0;
    size_t n = strlen(s);
    int k = 0;
    if (n == 4) k = sscanf(s, "%4d", &y) == 1;
    else if (n == 7) k = sscanf(s, "%4d-%2d", &y, &mo) == 2;
    else if (n == 10) k = sscanf(s, "%4d-%2d-%2d", &y, &mo, &d) == 3;
    else if (n >= 16) k = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) >= 5;
    if (!k || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return MC_ERR_MALFORMED;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                    .tm_sec = se};
    time_t t = timegm(&tm);
    if (t < 0) return MC_ERR_MALFORMED;
    *ms = (uint64_t)t * 1000;
    return 0;
}

/* --- a Bundle's directory (see fhir.h) --- */

static bool has_identifier(const json_t *res, const char *sys, const char *val) {
    const json_t *ids = json_object_get(res, "identifier");
    for (size_t i = 0; json_is_array(ids) && i < json_array_size(ids); i++) {
        const char *s = json_string_value(json_object_get(json_array_get(ids, i), "system"));
        const char *v = json_string_value(json_object_get(json_array_get(ids, i), "value"));
        if (s && v && !strcmp(s, sys) && !strcmp(v, val)) return true;
    }
    return false;
}

static void directory_walk(const json_t *v, const json_t *entries, json_t *seen, json_t *out) {
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) directory_walk(json_array_get(v, i), entries, seen, out);
        return;
    }
    if (!json_is_object(v)) return;
    const char *ref = json_string_value(json_object_get(v, "reference"));
    static const char *const types[] = {"Practitioner", "Organization", "Location", NULL};
    for (size_t t = 0; ref && types[t]; t++) {
        size_t tn = strlen(types[t]);
        if (strncmp(ref, types[t], tn) || strncmp(ref + tn, "?identifier=", 12) || json_object_get(seen, ref))
            continue;
        const char *q = ref + tn + 12, *bar = strchr(q, '|');
        if (!bar || strchr(q, '&') || strchr(q, '%') || bar == q || !bar[1] || strlen(q) > 400) break;
        char sys[400];
        snprintf(sys, sizeof sys, "%.*s", (int)(bar - q), q);
        json_object_set_new(seen, ref, json_true());
        bool held = false;
        for (size_t i = 0; !held && i < json_array_size(entries); i++) {
            const json_t *r = json_object_get(json_array_get(entries, i), "resource");
            const char *rt = json_string_value(json_object_get(r, "resourceType"));
            held = rt && !strcmp(rt, types[t]) && has_identifier(r, sys, bar + 1);
        }
        if (held) break;
        json_t *res = json_pack("{s:s, s:[{s:s, s:s}]}", "resourceType", types[t], "identifier", "system", sys,
                                "value", bar + 1);
        const char *display = json_string_value(json_object_get(v, "display"));
        if (res && display && display[0])
            json_object_set_new(res, "name", t == 0 ? json_pack("[{s:s}]", "text", display) : json_string(display));
        json_t *e = res ? json_pack("{s:o, s:{s:s, s:s}}", "resource", res, "request", "method", "POST", "url", types[t])
                        : NULL;
        if (e) json_array_append_new(out, e);
        break;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) directory_walk(x, entries, seen, out);
}

json_t *mc_fhir_directory_entries(const json_t *bundle) {
    json_t *out = json_array(), *seen = json_object();
    if (!out || !seen) {
        json_decref(out);
        json_decref(seen);
        return NULL;
    }
    const json_t *entries = json_object_get(bundle, "entry");
    for (size_t i = 0; i < json_array_size(entries); i++)
        directory_walk(json_object_get(json_array_get(entries, i), "resource"), entries, seen, out);
    json_decref(seen);
    return out;
}
