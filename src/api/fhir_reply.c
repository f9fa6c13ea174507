/* FHIR answers of the /fhir facade (see fhir_reply.h). */
#include "api/fhir_reply.h"

#include <stdarg.h>
#include <stdio.h>

#include "api/fhir.h"
#include "api/json_exact.h"

void mc__fhir_reply_set(struct mc__api_response *res, unsigned status, json_t *body) {
    json_decref(res->body);
    res->status = status;
    res->body = body;
    res->content_type = MC__FHIR_JSON;
}

void mc__fhir_reply_fail(struct mc__api_response *res, unsigned status, int err,
                         const char *fmt, ...) {
    char d[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    const char *code = mc_fhir_issue_code(err);
    if (status == 410) code = "deleted";
    if (status == 422) code = "invalid";
    mc__fhir_reply_set(res, status ? status : mc_api_http_status(err),
                       mc_fhir_outcome("error", code, d));
}

json_t *mc__fhir_reply_bundle(const char *type) {
    return json_pack("{s:s, s:s, s:I, s:[]}", "resourceType", "Bundle", "type", type, "total",
                     (json_int_t)0, "entry");
}

void mc__fhir_reply_bundle_add(json_t *b, json_t *res, const char *type, const char *id,
                               const char *mode) {
    char url[160];
    snprintf(url, sizeof url, "%s/%s", type, id);
    json_array_append_new(json_object_get(b, "entry"),
                          json_pack("{s:s, s:o, s:{s:s}}", "fullUrl", url, "resource", res,
                                    "search", "mode", mode));
    json_object_set_new(b, "total",
                        json_integer((json_int_t)json_array_size(json_object_get(b, "entry"))));
}

json_t *mc__fhir_reply_with_meta(const uint8_t *plain, size_t len, uint32_t version,
                                 uint64_t time_ms) {
    json_t *res = mc_json_exact_load((const char *)plain, len, NULL);
    if (!res) return NULL;
    json_t *meta = json_object_get(res, "meta");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(res, "meta", meta);
    }
    char v[16], t[32];
    snprintf(v, sizeof v, "%u", version);
    mc_fhir_instant(t, time_ms);
    json_object_set_new(meta, "versionId", json_string(v));
    json_object_set_new(meta, "lastUpdated", json_string(t));
    return res;
}
