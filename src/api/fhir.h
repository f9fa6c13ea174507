/* HL7 FHIR R4 helpers of the records API: validation of the resource types
 * medchain stores, OperationOutcome, reference handling, instants.
 *
 * Validation checks what the records API relies on and what R4 makes
 * mandatory for each supported type (cardinality 1..* elements and the
 * required value sets of status-like codes); it is not a full profile
 * validator. Per type (besides resourceType and a valid id when present):
 *   Observation           status (ObservationStatus), code, subject
 *   Condition             subject
 *   AllergyIntolerance    patient
 *   MedicationStatement   status, medication[x], subject
 *   DiagnosticReport      status, code, subject
 *   DocumentReference     status (DocumentReferenceStatus), content[].attachment, subject
 *   Immunization          status, vaccineCode, patient, occurrence[x]
 *   Encounter             status, class, subject
 *   Claim                 status, type, use, patient, created, provider, priority, insurance[]
 *   ExplanationOfBenefit  status, type, use, patient, created, insurer, provider, outcome,
 *                         insurance[]
 *   Provenance            target[], recorded, agent[].who
 *   Patient, Practitioner, Organization, Location   (no required elements)
 * "subject"/"patient" must be a Reference with a reference string.
 *
 * Pure functions over jansson values; thread-safe. */
#ifndef MC_API_FHIR_H
#define MC_API_FHIR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/err.h"


/* Validates res. Returns 0 and the type code (app/records.h), or
 * MC_ERR_INVALID with the reason in why (a FHIRPath-like location first,
 * e.g. "Observation.status: required"). An unsupported resourceType is
 * MC_ERR_NOT_FOUND. */
MC_MUST_CHECK int mc_fhir_validate(const json_t *res, uint16_t *type, char *why, size_t why_size);

/* The Reference elements of res that must point at the record's patient:
 * Observation.subject, Immunization.patient, ... Up to max reference
 * strings into out (borrowed from res); returns the count. For Patient
 * none (nor for Practitioner, Organization, Location); for Provenance its targets (which must be records of the patient). */
size_t mc_fhir_patient_refs(const json_t *res, uint16_t type, const char **out, size_t max);

/* Replaces every "reference": "<from>" string anywhere in v by `to`
 * (transaction Bundle reference resolution). Returns the number replaced. */
size_t mc_fhir_rewrite_refs(json_t *v, const char *from, const char *to);

/* The Practitioner, Organization and Location resources a transaction
 * Bundle's conditional references ("Practitioner?identifier=system|value")
 * name and its own entries do not hold, as Bundle entries to append (POST;
 * the identifier, and the name the referencing element displays): what a
 * client whose directory lives apart from its records (Synthea writes
 * practitioners and hospitals to files of their own) sends along, so that
 * every conditional reference resolves within the Bundle. A new array,
 * empty when there is nothing to add; NULL when out of memory. */
json_t *mc_fhir_directory_entries(const json_t *bundle);

/* OperationOutcome with one issue. severity: fatal|error|warning|information;
 * code: an IssueType code (invalid, required, value, security, forbidden,
 * not-found, deleted, processing, exception, too-costly, conflict, login). */
json_t *mc_fhir_outcome(const char *severity, const char *code, const char *diagnostics);
/* IssueType code fitting an mc_err. */
const char *mc_fhir_issue_code(int err);

/* FHIR instant (UTC, milliseconds): "2025-11-27T00:00:00.000Z"; out >= 25. */
void mc_fhir_instant(char out[32], uint64_t time_ms);
/* Parses a FHIR date or dateTime prefix "YYYY[-MM[-DD[Thh:mm[:ss]]]]" (UTC
 * assumed) to Unix ms of its start; 0 on success. */
MC_MUST_CHECK int mc_fhir_parse_date(uint64_t *ms, const char *s);

#endif
