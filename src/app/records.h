/* Medical records: anchors of encrypted FHIR resources, the patient's
 * grants, the access log, break-glass review and erasure.
 *
 * The chain holds no health data: only record ids, pseudonymous patient
 * keys, resource types and categories, ciphertext hashes and sizes, and
 * data keys sealed to the parties that may read. Ciphertext lives in the
 * blob store (src/blob). Encryption with fresh keys happens in the node
 * before a transaction is built; nothing here is random.
 *
 * Key hierarchy. An anchor transaction (one record, or a whole FHIR
 * transaction Bundle) carries one fresh 32-byte batch key sealed to the
 * patient and to the anchoring node (the authoring organisation). Each
 * record version is encrypted under its own data key
 *
 *   data key = BLAKE2b-256(key = batch key,
 *                          "medchain/v1/record-key" || str8 id || u32 version)
 *
 * so a grant can hand out the data keys of chosen records (sealed to the
 * grantee) without revealing the batch key.
 *
 * Transactions (payload layouts, all canonical, strictly decoded):
 *
 *   record_anchor (50, signed by a node account of the author's org)
 *     | pubkey patient | pubkey author | bytes16 request signature base |
 *     | sig64 author's RFC 9421 signature over that base |
 *     | sealed80 batch key -> patient | sealed80 batch key -> sender node |
 *     | u16 count (1..MC_RECORDS_BATCH_MAX) | count x entry |
 *     entry: | str8 id | u16 resource type | u32 version | hash32 ciphertext | u32 size |
 *   access (51, node-signed): one access-log entry
 *     | pubkey patient (zero: unknown) | str8 record id (may be empty) |
 *     | u32 version (0: current) | pubkey requester | u8 action | u8 purpose |
 *     | u8 outcome (0 success, 4 refused, 8 security failure) | u16 http status |
 *     | str16 reason | bytes16 request signature base | bytes8 signature (0 or 64) |
 *   grant (52, patient-signed)
 *     | u8 grantee kind (1 member, 2 organisation) | pubkey member | u32 org |
 *     | u8 categories (bit set, MC_CAT_*) | u64 expiry_ms (0: none) |
 *     | u16 count | count x (str8 id | u32 version | pubkey recipient | sealed80 data key) |
 *   revoke_grant (53, patient-signed)   | hash32 grant id (the grant's tx id) |
 *   erase (54, patient-signed)          | u16 count | count x str8 record id |
 *   review_break_glass (55, auditor)    | hash32 access tx id | str8 note |
 *
 * State keys and rows:
 *   "rr/" id                         head: | u16 type | u8 category | pubkey patient |
 *                                    | u32 org | u32 versions | u8 erased | u64 erased_height |
 *   "rv/" id 0x00 u32 version        version: | hash batch | pubkey author | hash ciphertext |
 *                                    | u32 size | u64 height | u64 time_ms |
 *   "rb/" batch id (anchor tx id)    batch: | pubkey patient | u32 org | pubkey node |
 *                                    | u8 has_keys | sealed80 patient | sealed80 node | u32 live |
 *   "rp/" patient id                 index of a patient's records: | u16 type |
 *   "rg/" patient grant id           grant: | u8 kind | pubkey member | u32 org | u8 categories |
 *                                    | u64 expiry_ms | u64 height | u64 revoked_height (0 active) |
 *   "rk/" id 0x00 u32 version        keys from grants: | u8 n | n x (pubkey recipient | sealed80) |
 *   "rl/" patient u64 height tx id   access entry: | str8 id | u32 version | pubkey requester |
 *                                    | u8 action | u8 purpose | u8 outcome | u16 status |
 *                                    | str16 reason | u64 time_ms | hash signature |
 *   "rs/" SHA-256(signature)         | u64 height |: a request signature already used
 *                                    for a successful access (replay guard, chain-wide)
 *   "rx/" access tx id               break-glass: | u32 org | pubkey requester | pubkey patient |
 *                                    | str8 id | u64 height | u64 time_ms | str16 reason |
 *                                    | u8 open | pubkey reviewer | u64 closed_height | str8 note |
 *
 * Erasure deletes the batch keys (when no live record of the batch is
 * left) and every grant key of the erased records, and marks the head
 * erased; version rows stay (the anchor, its hashes and the access log
 * remain whole). The node purges the ciphertext when the erase commits.
 * Transactions stay re-executable: `verify` replays anchor, grant and erase
 * in order and reaches the same state. */
#ifndef MC_APP_RECORDS_H
#define MC_APP_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "app/identity.h"
#include "app/state.h"
#include "base/limits.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

/* Bounds (MC_RECORDS_BATCH_MAX, MC_RECORD_ID_MAX, MC_SIGBASE_MAX,
 * MC_REASON_MAX, MC_GRANT_TX_KEYS_MAX, MC_GRANT_KEYS_MAX) are in
 * base/limits.h with the payload sizes they keep. */

enum mc_fhir_type {
    MC_FHIR_PATIENT = 1,
    MC_FHIR_ENCOUNTER,
    MC_FHIR_CONDITION,
    MC_FHIR_OBSERVATION,
    MC_FHIR_ALLERGY_INTOLERANCE,
    MC_FHIR_MEDICATION_STATEMENT,
    MC_FHIR_DIAGNOSTIC_REPORT,
    MC_FHIR_DOCUMENT_REFERENCE,
    MC_FHIR_IMMUNIZATION,
    MC_FHIR_CLAIM,
    MC_FHIR_EXPLANATION_OF_BENEFIT,
    MC_FHIR_PROVENANCE,
    /* who and where care happened, as the patient's records name them
     * (a transaction Bundle's conditional references resolve to these) */
    MC_FHIR_PRACTITIONER,
    MC_FHIR_ORGANIZATION,
    MC_FHIR_LOCATION,
    /* An attachment's raw bytes (a PDF, an image), uploaded and read as a
     * stream; its ciphertext has crypto/stream.h's layout, not the
     * envelope's. */
    MC_FHIR_BINARY,
    MC_FHIR_TYPE_MAX = MC_FHIR_BINARY
};

/* Categories a grant names (bits). */
enum mc_category {
    MC_CAT_DEMOGRAPHICS = 1,
    MC_CAT_ENCOUNTERS = 2,
    MC_CAT_PROBLEMS = 4,
    MC_CAT_RESULTS = 8,
    MC_CAT_MEDICATIONS = 16,
    MC_CAT_DOCUMENTS = 32,
    MC_CAT_FINANCIAL = 64,
    MC_CAT_PROVENANCE = 128,
    MC_CAT_ALL = 255
};

enum mc_access_action {
    MC_ACTION_READ = 1,
    MC_ACTION_VREAD,
    MC_ACTION_SEARCH,
    MC_ACTION_EXPORT,
    MC_ACTION_AUDIT,
    MC_ACTION_CREATE,
    MC_ACTION_TOKEN, /* a SMART token request (app/smart.h), refused */
    MC_ACTION_MAX = MC_ACTION_TOKEN
};

/* HL7 v3 PurposeOfUse codes. */
enum mc_purpose {
    MC_PURPOSE_TREAT = 1,
    MC_PURPOSE_ETREAT,
    MC_PURPOSE_BTG,
    MC_PURPOSE_HRESCH,
    MC_PURPOSE_PATRQT,
    MC_PURPOSE_HOPERAT,
    MC_PURPOSE_MAX = MC_PURPOSE_HOPERAT
};

/* FHIR AuditEvent.outcome codes. */
enum mc_outcome { MC_OUTCOME_SUCCESS = 0, MC_OUTCOME_REFUSED = 4, MC_OUTCOME_SECURITY = 8 };

enum mc_grantee_kind { MC_GRANTEE_MEMBER = 1, MC_GRANTEE_ORG = 2 };

struct mc_record_head {
    char id[MC_RECORD_ID_MAX + 1];
    uint16_t type;
    uint8_t category;
    mc_pubkey patient;
    uint32_t org;
    uint32_t versions;
    bool erased;
    uint64_t erased_height;
};

struct mc_record_version {
    mc_hash batch;
    mc_pubkey author;
    mc_hash ciphertext;
    uint32_t size;
    uint64_t height;
    uint64_t time_ms;
};

struct mc_record_batch {
    mc_pubkey patient;
    uint32_t org;
    mc_pubkey node;
    bool has_keys;
    uint8_t sealed_patient[MC_SEALED_KEY_BYTES];
    uint8_t sealed_node[MC_SEALED_KEY_BYTES];
    uint32_t live;
};

struct mc_grant {
    mc_hash id;
    uint8_t kind;
    mc_pubkey member;
    uint32_t org;
    uint8_t categories;
    uint64_t expiry_ms;
    uint64_t height;
    uint64_t revoked_height;
};

struct mc_access_entry {
    mc_hash tx_id;
    mc_pubkey patient;
    uint64_t height;
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version;
    mc_pubkey requester;
    uint8_t action, purpose, outcome;
    uint16_t status;
    char reason[MC_REASON_MAX + 1];
    uint64_t time_ms;
    mc_hash signature_hash;
};

struct mc_break_glass {
    mc_hash access_tx;
    uint32_t org;
    mc_pubkey requester;
    mc_pubkey patient;
    char id[MC_RECORD_ID_MAX + 1];
    uint64_t height;
    uint64_t time_ms;
    char reason[MC_REASON_MAX + 1];
    bool open;
    mc_pubkey reviewer;
    uint64_t closed_height;
    char note[256];
};

/* Names and codes. NULL / 0 when unknown. */
const char *mc_records_type_name(uint16_t type);
uint16_t mc_records_type_from_name(const char *name);
/* Category bit of a resource type (0 for an unknown type). */
uint8_t mc_records_type_category(uint16_t type);
const char *mc_category_name(uint8_t bit);
/* "results,documents" style list -> bits; 0 on an unknown name. "all" = MC_CAT_ALL. */
uint8_t mc_categories_parse(const char *list);
const char *mc_purpose_code(uint8_t purpose);      /* "TREAT" ... */
uint8_t mc_purpose_from_code(const char *code);
const char *mc_action_name(uint8_t action);
/* A FHIR id: 1-64 of [A-Za-z0-9-.]. */
bool mc_record_id_valid(const char *id);

/* Data key of one record version from its batch key (see above). */
void mc_record_data_key(uint8_t out[MC_DATAKEY_BYTES], const uint8_t batch_key[MC_DATAKEY_BYTES],
                        const char *id, uint32_t version);
/* Associated data binding a ciphertext to its record: str8 id || u32 version.
 * Returns its length (at most 1 + 64 + 4). */
size_t mc_record_ad(uint8_t out[69], const char *id, uint32_t version);

/* --- state reads (committed or pending overlays, like every state get) --- */
MC_MUST_CHECK int mc_records_get_head(struct mc_state *st, const char *id,
                                      struct mc_record_head *out);
MC_MUST_CHECK int mc_records_get_version(struct mc_state *st, const char *id, uint32_t version,
                                         struct mc_record_version *out);
MC_MUST_CHECK int mc_records_get_batch(struct mc_state *st, const mc_hash *batch,
                                       struct mc_record_batch *out);
/* Grant key sealed to recipient for the version; MC_ERR_NOT_FOUND if none. */
MC_MUST_CHECK int mc_records_get_grant_key(struct mc_state *st, const char *id, uint32_t version,
                                           const mc_pubkey *recipient,
                                           uint8_t sealed[MC_SEALED_KEY_BYTES]);
/* The recipients of the version's granted keys (members, nodes), at most
 * max of them into out; *n their count. */
MC_MUST_CHECK int mc_records_get_grant_recipients(struct mc_state *st, const char *id, uint32_t version,
                                                  mc_pubkey *out, size_t max, size_t *n);
MC_MUST_CHECK int mc_records_get_break_glass(struct mc_state *st, const mc_hash *access_tx,
                                             struct mc_break_glass *out);

/* --- scans of committed state, in key order; fn returns non-zero to stop --- */
MC_MUST_CHECK int mc_records_scan_patient(struct mc_state *st, const mc_pubkey *patient,
                                          int (*fn)(void *ctx, const struct mc_record_head *h),
                                          void *ctx);
/* Every patient with records, once each, in key order. */
MC_MUST_CHECK int mc_records_scan_patients(struct mc_state *st, int (*fn)(void *ctx, const mc_pubkey *patient),
                                           void *ctx);
MC_MUST_CHECK int mc_records_scan_grants(struct mc_state *st, const mc_pubkey *patient,
                                         int (*fn)(void *ctx, const mc_pubkey *patient,
                                                   const struct mc_grant *g),
                                         void *ctx);
/* patient NULL scans every patient's log (and the unattributed one). */
MC_MUST_CHECK int mc_records_scan_access(struct mc_state *st, const mc_pubkey *patient,
                                         int (*fn)(void *ctx, const struct mc_access_entry *e),
                                         void *ctx);
MC_MUST_CHECK int mc_records_scan_break_glass(struct mc_state *st,
                                              int (*fn)(void *ctx, const struct mc_break_glass *b),
                                              void *ctx);

/* --- the read policy --- */

struct mc_access_decision {
    bool allowed;
    bool break_glass;      /* allowed only as an emergency access */
    uint8_t purpose;       /* the purpose recorded */
    unsigned status;       /* HTTP status when refused: 401, 403, 404, 410 */
    char reason[160];
};

/* Decides whether requester may read the record at the committed height,
 * now_ms being the latest block time (expiry). purpose is what the
 * requester stated (0: none); btg_reason non-empty asks for break-glass.
 * Rules, in order:
 *   unknown requester -> 401; requester revoked or rotated -> 403;
 *   record erased -> 410; the patient -> allowed (PATRQT);
 *   the record's author -> allowed;
 *   an active grant of the patient (not revoked, not expired, category
 *   covered) naming the requester, or the requester's organisation when the
 *   requester is a clinician -> allowed;
 *   break-glass: a clinician of a provider organisation with a reason ->
 *   allowed, flagged (BTG);
 *   anything else -> 403. */
void mc_records_decide(struct mc_state *st, const mc_pubkey *requester,
                       const struct mc_record_head *rec, uint8_t purpose, const char *btg_reason,
                       uint64_t now_ms, struct mc_access_decision *out);

/* Who may author a record (one rule for the ledger's record_anchor and
 * the API's writes): the author an active account (else
 * MC_AUTHOR_NOT_ACTIVE), a clinician of a provider organisation
 * (MC_AUTHOR_NOT_CLINICIAN), of the organisation of the anchoring node
 * (node: its account key; MC_AUTHOR_OTHER_ORG), for a registered, active
 * patient (MC_AUTHOR_BAD_PATIENT). author_out receives the author's account
 * when it was found (for the caller's message). Each caller words its own
 * refusal; the conditions live here only. */
enum mc_records_author_verdict {
    MC_AUTHOR_ALLOWED = 0,
    MC_AUTHOR_NOT_ACTIVE,
    MC_AUTHOR_NOT_CLINICIAN,
    MC_AUTHOR_OTHER_ORG,
    MC_AUTHOR_BAD_PATIENT,
};
enum mc_records_author_verdict mc_records_author_check(struct mc_state *st,
                                                       const mc_pubkey *author,
                                                       const mc_pubkey *node,
                                                       const mc_pubkey *patient,
                                                       struct mc_account *author_out);

/* May requester see the patient's record list, grants and access log?
 * The patient, and auditors (of any organisation: the log is the audit
 * trail). Returns 0 or the refusal (status, reason) as in decide. */
void mc_records_decide_patient_view(struct mc_state *st, const mc_pubkey *requester,
                                    const mc_pubkey *patient, struct mc_access_decision *out);

/* May requester read the whole access log (every patient's) and the
 * break-glass review queue? Active auditors only. Refusals as in decide. */
void mc_records_decide_audit(struct mc_state *st, const mc_pubkey *requester, struct mc_access_decision *out);

/* For a committed erase transaction's payload: calls fn with the
 * ciphertext hash of every version of every record it erased. */
MC_MUST_CHECK int mc_records_erased_blobs(struct mc_state *st, const uint8_t *payload, size_t len,
                                          void (*fn)(void *ctx, const mc_hash *ciphertext),
                                          void *ctx);

/* For an anchor transaction's payload (pure decoding, no state): calls fn
 * with the record id, version, ciphertext hash (the blob id) and size of
 * every entry. MC_ERR_MALFORMED when the payload does not decode (entries
 * before the fault were reported). */
MC_MUST_CHECK int mc_records_anchored_blobs(const uint8_t *payload, size_t len,
                                            void (*fn)(void *ctx, const char *id, uint32_t version,
                                                       const mc_hash *ciphertext, uint32_t size),
                                            void *ctx);

struct mc_exec;
/* Executes record transactions (types 50-55). See app.h for the contract. */
MC_MUST_CHECK int mc_records_execute(struct mc_exec *ex);

/* Whether a request's RFC 9421 signature base (as an access entry carries it)
 * names key in its @signature-params keyid (hex in either case). */
bool mc_records_sigbase_names_key(const uint8_t *base, size_t n, const mc_pubkey *key);

#endif
