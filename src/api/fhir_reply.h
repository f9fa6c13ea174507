/* Private to src/api: how every FHIR route answers (one place for the
 * OperationOutcome errors, Bundles and meta of the /fhir facade).
 *
 * Answers carry Content-Type application/fhir+json. An error is an
 * OperationOutcome with one issue whose R4 IssueType code fits the status
 * (mc__fhir_reply_issue_code). */
#ifndef MC_API_FHIR_REPLY_H
#define MC_API_FHIR_REPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/routes.h"

#define MC__FHIR_JSON "application/fhir+json"

/* Replaces res's body (owned) and status; FHIR content type. */
void mc__fhir_reply_set(struct mc__api_response *res, unsigned status, json_t *body);
/* An OperationOutcome error: status from mc_api_http_status(err) unless
 * status is non-zero, diagnostics from the printf-style detail. */
void mc__fhir_reply_fail(struct mc__api_response *res, unsigned status, int err,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The R4 IssueType code of an error answer with this status (err decides
 * for a status without one of its own). */
const char *mc__fhir_reply_issue_code(unsigned status, int err);
/* Whether a request path is a FHIR route (/fhir, /fhir/...). */
bool mc__fhir_reply_is_path(const char *path);
/* Turns an error answer made by the shared HTTP layer (404, 405, 413, 414
 * ... as {"error","message"}) into an OperationOutcome; answers below 400
 * and FHIR answers are left as they are. */
void mc__fhir_reply_from_error(struct mc__api_response *res);
/* Whether the request's body is declared FHIR JSON (application/fhir+json,
 * or application/json); if not, res is a 415 OperationOutcome. */
bool mc__fhir_reply_json_body(const struct mc__api_request *req, struct mc__api_response *res);

/* The service base URL of this request as the client addressed it
 * ("http://host:port/fhir"), from its target URI, else this server's own
 * address. */
void mc__fhir_reply_base(const struct mc__api_request *req, char *out, size_t size);

/* An empty Bundle of the given type ("searchset", ...). */
json_t *mc__fhir_reply_bundle(const char *type);
/* Appends resource (reference stolen) with the absolute fullUrl
 * base/Type/id and search mode ("match", "include"); total counts the
 * matches only. */
void mc__fhir_reply_bundle_add(json_t *bundle, json_t *resource, const char *base, const char *type,
                               const char *id, const char *mode);
/* Sets Bundle.link[relation] to base/type?query. */
void mc__fhir_reply_bundle_link(json_t *bundle, const char *relation, const char *base,
                                const char *type, const char *query);

/* Parses a stored resource and adds meta.versionId and meta.lastUpdated;
 * NULL when it does not parse. */
json_t *mc__fhir_reply_with_meta(const uint8_t *plain, size_t len, uint32_t version,
                                 uint64_t time_ms);

#endif
