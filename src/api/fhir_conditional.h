/* Private to src/api: conditional references in a transaction Bundle, per
 * the R4 transaction rules: a reference "Type?param=value[&...]" is
 * resolved as a search; exactly one match becomes "Type/id", and no match
 * or several fail the whole transaction. The Bundle's own entries are
 * searched first; only when none matches, the records the node holds for
 * the patient that the author may read. Parameters: identifier ([system|]value, matched against
 * Resource.identifier) and _id; any other is refused.
 *
 * Pure apart from the stored-records callback; thread-safe. */
#ifndef MC_API_FHIR_CONDITIONAL_H
#define MC_API_FHIR_CONDITIONAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"

/* The Bundle's entries as the resolver sees them: resource (owned by the
 * caller), its type code and its server-assigned id. */
struct mc__fhir_cond_entry {
    json_t *resource;
    uint16_t type;
    const char *id;
};

/* Gives the stored records of type the author may read, as an array of
 * {"id": "...", "resource": {...}} (new reference), or NULL with *rc set
 * when the node could not look them up. Called at most once per type. */
typedef json_t *(*mc__fhir_cond_stored)(void *ctx, uint16_t type, int *rc);

/* Rewrites every conditional reference in the entries' resources.
 * Returns 0; MC_ERR_MALFORMED for a form not supported (why says which);
 * MC_ERR_NOT_FOUND or MC_ERR_EXISTS when a reference matches nothing or
 * several resources (*issue is then "not-found" or "multiple-matches");
 * or the stored callback's error. *resolved counts the references
 * rewritten. */
MC_MUST_CHECK int mc__fhir_conditional_resolve(struct mc__fhir_cond_entry *entries, size_t n,
                                               mc__fhir_cond_stored stored, void *ctx, size_t *resolved,
                                               const char **issue, char *why, size_t why_size);

#endif
