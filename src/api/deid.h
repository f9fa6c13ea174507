/* De-identification of FHIR records for research datasets (HIPAA Safe
 * Harbor, 45 CFR 164.514(b)(2)), pseudonyms (164.514(c)) and small-cell
 * suppression.
 *
 * Approach: an allow-list projection, never a deny-list. Each released
 * record becomes a new, minimal row built only from coded elements of
 * standard terminologies (LOINC, SNOMED CT, CVX, RxNorm, ICD-10, NDC, UCUM,
 * HL7 terminology and US Core code systems, CDC race/ethnicity), status
 * codes, quantities, and the YEAR of the record's clinical date. Nothing
 * else is copied: no ids, identifiers, names, references, display texts,
 * narratives, notes, attachments, addresses, telecoms or full dates, so
 * none of the 18 identifiers can pass through a field we forgot.
 *
 * Demographics (the remaining quasi-identifiers): administrative gender,
 * birth year (or "90+" when the dataset's year minus the birth year exceeds
 * 89; such patients' record years are removed too, as they would reveal
 * the age), the state, the first three digits of the ZIP code - "000" for
 * the 17 three-digit areas under 20,000 people in the 2000 census that
 * HHS guidance names - and the OMB race and ethnicity categories.
 *
 * Pseudonym: "P-" + hex of the first 16 bytes of
 *   HMAC-SHA-256(key = node research secret, "medchain/v1/research-pseudonym" ||
 *                str8 study id || patient key)
 * with the node research secret from the node's vault (mc_vault_research_secret:
 * BLAKE2b-256(key = the node key's seed,
 * "medchain/v1/research-secret"). Stable per patient per study on a node,
 * unlinkable across studies, and not derivable from the record number or
 * the patient key without the node's secret.
 *
 * Numbers: integers stay integers; decimals become strings with at most
 * 10 significant digits, so datasets hold no floating point and their
 * canonical form (compact JSON, sorted keys) is the same everywhere.
 *
 * Pure functions, thread-safe. */
#ifndef MC_API_DEID_H
#define MC_API_DEID_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "crypto/sign.h"

/* Quasi-identifiers left after de-identification ("" when unknown). */
struct mc_deid_quasi {
    char gender[8];
    char birth[8];      /* "1991", "90+" or "" */
    char zip3[4];
    char state[24];
    char race[16];
    char ethnicity[16];
    bool over89;
};

/* "P-" + 32 hex digits; out needs 35 bytes. */
void mc_deid_pseudonym(char out[35], const uint8_t secret[32], const char *study,
                       const mc_pubkey *patient);
/* First three ZIP digits for a US postal code of at least 5 digits, "000"
 * for the restricted areas, "" otherwise. out needs 4 bytes. */
void mc_deid_zip3(char out[4], const char *postal_code);
/* Quasi-identifiers of a FHIR Patient; ref_year is the dataset's year. */
void mc_deid_demographics(struct mc_deid_quasi *q, const json_t *patient, int ref_year);
/* {"gender", "birth", "zip3", "state", "race", "ethnicity"} (only the known ones). */
json_t *mc_deid_quasi_json(const struct mc_deid_quasi *q);
/* The de-identified row of a record, or NULL for types not released
 * (Patient: its demographics are the quasi-identifiers; Provenance) or on
 * allocation failure. over89 removes the record's year. */
json_t *mc_deid_record(const json_t *resource, bool over89);

/* Removes, in place, patients whose quasi-identifier cell has fewer than k
 * members. patients is an array of {"subject", "quasi": "<cell key>", ...};
 * the "quasi" member is deleted from every entry. Sorts the survivors by
 * subject. Returns the number suppressed. */
size_t mc_deid_suppress(json_t *patients, unsigned k);
/* Cell key of quasi-identifiers ("male|1991|018|MA|2054-5|2186-5"). */
void mc_deid_cell(char *out, size_t size, const struct mc_deid_quasi *q);

/* SHA-256 of the canonical form (compact, sorted keys) of v. Returns 0 or
 * MC_ERR_NOMEM. */
MC_MUST_CHECK int mc_deid_hash(mc_hash *out, const json_t *v);

#endif
