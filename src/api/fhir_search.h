/* Private to src/api: FHIR R4 search of the record types served, as pure
 * functions: the parameters of a search request, whether a resource
 * matches them, the order of the matches, and the links of a page.
 *
 * Parameters (R4 search specification; what each type defines is in
 * mc__fhir_search_supports, which /fhir/metadata lists):
 *   patient, subject   reference: Patient/<id>, <id>, an absolute
 *                      .../Patient/<id>, or the patient's account key
 *   _id                token list (a,b,c)
 *   identifier         (Patient) token list; urn:medchain:account|<key>
 *                      names the patient, any other matches Patient.identifier
 *   code, category     token list, each [system|]code or system|
 *   status             token list
 *   date, _lastUpdated date with prefix eq ne gt lt ge le sa eb; repeated
 *                      parameters all apply (date=ge2020&date=lt2021)
 *   _count, _offset    page size (1..MC_FHIR_SEARCH_COUNT_MAX) and start
 *   _sort              comma list of [-]_id, _lastUpdated, date, status
 *   _summary=count     only Bundle.total
 *   _include           <Type>:patient, <Type>:subject or *: the Patient
 * An unknown parameter, or one the type does not define, is refused under
 * "Prefer: handling=strict" and otherwise ignored and left out of the self
 * link, which states exactly the parameters applied.
 *
 * Thread-safe; no allocation outlives a call except where said. */
#ifndef MC_API_FHIR_SEARCH_H
#define MC_API_FHIR_SEARCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/routes.h"
#include "base/limits.h"

#define MC_FHIR_SEARCH_VALUES_MAX 16   /* values of one token list */
#define MC_FHIR_SEARCH_DATES_MAX 4     /* date (or _lastUpdated) parameters */
#define MC_FHIR_SEARCH_SORT_MAX 4
#define MC_FHIR_SEARCH_COUNT_DEFAULT 100
#define MC_FHIR_SEARCH_COUNT_MAX 1000
#define MC_FHIR_SEARCH_VALUE_MAX 200   /* bytes of one parameter value */
#define MC_FHIR_SEARCH_LINK_MAX 2048   /* bytes of the applied parameters */

struct mc__fhir_token {
    char system[MC_FHIR_SEARCH_VALUE_MAX + 1]; /* "" : any system */
    char code[MC_FHIR_SEARCH_VALUE_MAX + 1];   /* "" : any code of system */
    bool has_system;                            /* system| given (maybe empty) */
};

struct mc__fhir_tokens {
    size_t n;
    struct mc__fhir_token v[MC_FHIR_SEARCH_VALUES_MAX];
};

/* A date comparison: the target's range [start, end) in Unix ms against
 * the parameter's [start, end) (its precision). */
struct mc__fhir_date_cmp {
    char prefix[3];
    int64_t start, end;
};

enum mc__fhir_sort_key { MC_SORT_ID = 1, MC_SORT_LAST_UPDATED, MC_SORT_DATE, MC_SORT_STATUS };

struct mc__fhir_search {
    uint16_t type;
    /* reference to the patient as given (patient= or subject=), "" if none */
    char patient_ref[MC_FHIR_SEARCH_VALUE_MAX + 1];
    struct mc__fhir_tokens ids, code, category, status, identifier;
    size_t ndate, nlast;
    struct mc__fhir_date_cmp date[MC_FHIR_SEARCH_DATES_MAX], last[MC_FHIR_SEARCH_DATES_MAX];
    size_t count;   /* page size */
    size_t offset;  /* first match of the page */
    size_t nsort;
    int sort[MC_FHIR_SEARCH_SORT_MAX]; /* enum mc__fhir_sort_key, negative: descending */
    bool summary_count;
    bool include_patient;
    /* the applied parameters as a query string (without _offset), for the
     * links: "patient=...&code=...&_count=10" */
    char applied[MC_FHIR_SEARCH_LINK_MAX];
};

/* Whether type is searched (Practitioner, Organization and Location are
 * not: they are read through the references of the records naming them). */
bool mc__fhir_search_served(uint16_t type);

/* Parses the query of a search of type (a record type code). Returns 0, or
 * MC_ERR_MALFORMED / MC_ERR_INVALID with a sentence in why (a bad value;
 * under strict handling also an unknown or unsupported parameter). */
MC_MUST_CHECK int mc__fhir_search_parse(struct mc__fhir_search *s, uint16_t type,
                                        const struct mc__api_request *req, char *why, size_t why_size);

/* For the searches with parameters of their own (AuditEvent, Consent,
 * Provenance?target): under "Prefer: handling=strict", MC_ERR_INVALID
 * (why says which) when the query has a parameter not in known
 * (NULL-terminated); otherwise 0. */
MC_MUST_CHECK int mc__fhir_search_check_names(const struct mc__api_request *req, const char *const *known,
                                              char *why, size_t why_size);

/* The search parameters type defines here, NULL-terminated, each with its
 * R4 type ("reference", "token", "date"), for the CapabilityStatement.
 * patient/subject are listed for the types whose R4 definition has them. */
struct mc__fhir_param {
    const char *name, *type;
};
size_t mc__fhir_search_params(uint16_t type, struct mc__fhir_param *out, size_t max);

/* Whether resource res (numbers kept, json_exact.h) last updated at
 * updated_ms and with id matches every applied parameter but the patient. */
bool mc__fhir_search_match(const struct mc__fhir_search *s, const json_t *res, const char *id,
                           uint64_t updated_ms);

/* Orders a Bundle's match entries (each {"resource": ...}) by _sort;
 * stable; entries without the key sort last. */
void mc__fhir_search_sort(const struct mc__fhir_search *s, json_t *entries);

/* Parses a FHIR date/dateTime/instant ("2020", "2020-05", "2020-05-17",
 * "2020-05-17T10:20[:30[.123]](Z|+hh:mm)") to [start, end) in Unix ms;
 * a time without zone is taken as UTC. 0 or MC_ERR_MALFORMED. */
MC_MUST_CHECK int mc__fhir_date_range(const char *s, int64_t *start, int64_t *end);

/* Appends "name=value" (value percent-encoded where needed) to a query
 * string of size bytes; false when it does not fit. */
bool mc__fhir_query_add(char *q, size_t size, const char *name, const char *value);

#endif
