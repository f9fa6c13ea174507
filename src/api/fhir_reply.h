/* Private to src/api: how every FHIR route answers (one place for the
 * OperationOutcome errors, Bundles and meta of the /fhir facade).
 *
 * Answers carry Content-Type application/fhir+json. An error is an
 * OperationOutcome with one issue whose code fits the error (410 deleted,
 * 422 invalid, else mc_fhir_issue_code). */
#ifndef MC_API_FHIR_REPLY_H
#define MC_API_FHIR_REPLY_H

#include <jansson.h>
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

/* An empty Bundle of the given type ("searchset", ...). */
json_t *mc__fhir_reply_bundle(const char *type);
/* Appends resource (reference stolen) as Type/id with search mode
 * ("match", "include") and updates total. */
void mc__fhir_reply_bundle_add(json_t *bundle, json_t *resource, const char *type,
                               const char *id, const char *mode);

/* Parses a stored resource and adds meta.versionId and meta.lastUpdated;
 * NULL when it does not parse. */
json_t *mc__fhir_reply_with_meta(const uint8_t *plain, size_t len, uint32_t version,
                                 uint64_t time_ms);

#endif
