/* One access-log entry of the ledger as a FHIR R4 AuditEvent shaped by IHE
 * Basic Audit Log Patterns (BALP): the one renderer of the access log, used
 * by the FHIR AuditEvent search (api/routes_fhir_audit.c) and by the syslog
 * exporter (node/auditexport.h), so both say the same thing about an entry.
 *
 * Mapping (docs/AUDIT.md has the table):
 *   read / vread        IHE.BasicAudit.PatientRead (type rest, subtype
 *                       read|vread, action R)
 *   search / export     IHE.BasicAudit.PatientQuery (subtype search-type |
 *                       operation, action E, entity query = the request's
 *                       path and query, base64)
 *   create              IHE.BasicAudit.PatientCreate (subtype create, C)
 *   audit (log read)    type DCM 110101 "Audit Log Used", subtype search-type
 * agents: the user (requestor, the member's account key, purposeOfUse), the
 * client (who = the same key: requests are signed by the member's key) and
 * the server (the recording node's key, network = the host the request
 * addressed); source.observer = the recording node; entities: the patient
 * (role Patient), the record (role Domain Resource), the query. Success
 * entries name the pattern they follow in meta.tag (urn:medchain:balp-pattern
 * "PatientRead" ...), not as a meta.profile claim: the ledger does not hold
 * the client's network address BALP asks of the client agent. Refusals
 * (outcome 4/8, outcomeDesc the reason) keep the same shape and name no
 * pattern (BALP's profiles describe successful interactions). Break-glass reads carry
 * purposeOfUse BTG on the user agent and in purposeOfEvent, and the
 * security label BTG. Pure functions, thread-safe. */
#ifndef MC_NODE_BALP_H
#define MC_NODE_BALP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/records.h"
#include "base/err.h"
#include "chain/tx.h"

/* An access entry with what the ledger knows of its request. */
struct mc_balp_access {
    struct mc_access_entry e;
    bool has_observer;
    mc_pubkey observer;              /* the node that signed the entry */
    char method[8];                  /* from the signature base; "" unknown */
    char host[256];                  /* @target-uri's host; "" unknown */
    char target[MC_SIGBASE_MAX + 1]; /* @target-uri's path and query; "" unknown */
};

/* Fills out from a committed record_access transaction (type 51): tx id,
 * height and block time as given, the payload decoded, method, host and
 * target read from the signature base it carries. MC_ERR_INVALID for
 * another type, MC_ERR_MALFORMED for a payload that does not decode. */
MC_MUST_CHECK int mc_balp_from_tx(struct mc_balp_access *out, const struct mc_tx *tx, const mc_hash *tx_id,
                                  uint64_t height, uint64_t time_ms);

/* Reads method, host and target from an RFC 9421 signature base (the
 * "@method" and "@target-uri" lines); leaves them "" when absent. */
void mc_balp_parse_sigbase(struct mc_balp_access *a, const uint8_t *base, size_t n);

/* The AuditEvent (id = the access transaction id, hex). patient_record:
 * the patient's Patient record id, or NULL/"" (then the patient entity
 * names her by identifier only). NULL when out of memory. */
json_t *mc_balp_audit_event(const struct mc_balp_access *a, const char *patient_record);

/* The BALP profile URL whose pattern an entry follows, NULL for refusals
 * and audit-log reads. */
const char *mc_balp_profile(const struct mc_access_entry *e);

/* FHIR instant of a time in ms ("2026-01-02T03:04:05.678Z"). */
void mc_balp_instant(char out[32], uint64_t time_ms);

#endif
