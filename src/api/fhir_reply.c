/* FHIR answers of the /fhir facade (see fhir_reply.h). */
#include "api/fhir_reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/fhir.h"
#include "api/json_exact.h"

void mc__fhir_reply_set(struct mc__api_response *res, unsigned status, json_t *body) {
    json_decref(res->body);
    res->status = status;
    res->body = body;
    res->content_type = MC__FHIR_JSON;
}

const char *mc__fhir_reply_issue_code(unsigned status, int err) {
    switch (status) {
    case 400:
    case 422: return "invalid";
    case 401: return "login";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405:
    case 415: return "not-supported";
    case 409:
    case 412: return "conflict";
    case 410: return "deleted";
    case 413: return "too-costly";
    case 414: return "too-long";
    case 429: return "throttled";
    case 503: return "transient";
    case 500: return "exception";
    default: return mc_fhir_issue_code(err);
    }
}

void mc__fhir_reply_fail(struct mc__api_response *res, unsigned status, int err,
                         const char *fmt, ...) {
    char d[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    if (!status) status = mc_api_http_status(err);
    mc__fhir_reply_set(res, status, mc_fhir_outcome("error", mc__fhir_reply_issue_code(status, err), d));
}

bool mc__fhir_reply_is_path(const char *path) {
    return path && strncmp(path, "/fhir", 5) == 0 && (path[5] == 0 || path[5] == '/' || path[5] == '?');
}

void mc__fhir_reply_from_error(struct mc__api_response *res) {
    if (res->status < 400 || (res->content_type && strcmp(res->content_type, MC__FHIR_JSON) == 0) ||
        res->raw)
        return;
    const char *msg = json_string_value(json_object_get(res->body, "message"));
    const char *name = json_string_value(json_object_get(res->body, "error"));
    char d[600];
    snprintf(d, sizeof d, "%s", msg ? msg : name ? name : "error");
    mc__fhir_reply_set(res, res->status, mc_fhir_outcome("error", mc__fhir_reply_issue_code(res->status, 0), d));
}

bool mc__fhir_reply_json_body(const struct mc__api_request *req, struct mc__api_response *res) {
    const char *ct = req->content_type;
    size_t n = 0;
    if (ct) {
        while (ct[n] && ct[n] != ';' && ct[n] != ' ') n++;
        if ((n == 21 && strncasecmp(ct, "application/fhir+json", n) == 0) ||
            (n == 16 && strncasecmp(ct, "application/json", n) == 0) ||
            (n == 21 && strncasecmp(ct, "application/json+fhir", n) == 0))
            return true;
    }
    mc__fhir_reply_fail(res, 415, MC_ERR_INVALID,
                        "the body must be FHIR JSON (Content-Type: application/fhir+json), not %.60s",
                        ct ? ct : "(none)");
    return false;
}

json_t *mc__fhir_reply_bundle(const char *type) {
    return json_pack("{s:s, s:s, s:I, s:[]}", "resourceType", "Bundle", "type", type, "total",
                     (json_int_t)0, "entry");
}

void mc__fhir_reply_base(const struct mc__api_request *req, char *out, size_t size) {
    const char *t = req->target_uri;
    const char *hostpart = t ? strstr(t, "://") : NULL;
    const char *path = hostpart ? strchr(hostpart + 3, '/') : NULL;
    if (path && strncmp(path, "/fhir", 5) == 0 && (size_t)(path - t) + 6 <= size) {
        snprintf(out, size, "%.*s/fhir", (int)(path - t), t);
        return;
    }
    /* (only a request without a Host header has no target URI) */
    snprintf(out, size, "http://%s:%u/fhir", req->local_host ? req->local_host : "localhost",
             (unsigned)req->local_port);
}

void mc__fhir_reply_bundle_add(json_t *b, json_t *res, const char *base, const char *type,
                               const char *id, const char *mode) {
    char url[400];
    snprintf(url, sizeof url, "%s/%s/%s", base, type, id);
    json_array_append_new(json_object_get(b, "entry"),
                          json_pack("{s:s, s:o, s:{s:s}}", "fullUrl", url, "resource", res,
                                    "search", "mode", mode));
    if (strcmp(mode, "match") == 0)
        json_object_set_new(b, "total", json_integer(json_integer_value(json_object_get(b, "total")) + 1));
}

void mc__fhir_reply_bundle_link(json_t *b, const char *relation, const char *base, const char *type,
                                const char *query) {
    json_t *links = json_object_get(b, "link");
    if (!json_is_array(links)) {
        links = json_array();
        json_object_set_new(b, "link", links);
    }
    size_t n = strlen(base) + strlen(type) + strlen(query) + 4;
    char *url = malloc(n);
    if (!url) return;
    snprintf(url, n, "%s/%s%s%s", base, type, query[0] ? "?" : "", query);
    json_array_append_new(links, json_pack("{s:s, s:s}", "relation", relation, "url", url));
    free(url);
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
