/* Research consent and clinical-trial integrity.
 *
 * Patients consent (FHIR Consent, scope research) to research use of chosen
 * record categories, for one named study or for a purpose that studies
 * declare ("oncology-research"), optionally until an expiry in block time,
 * and withdraw at any time. Every consent decision is a new version per
 * (patient, scope, target): the ledger accepts version v only when the
 * latest on chain is v-1, so an old consent replayed after a withdrawal is
 * refused, and the full history stays in state.
 *
 * Studies (FHIR ResearchStudy) carry sponsor, registry identifier, protocol
 * hash, pre-specified outcomes, the researchers allowed to query and the k
 * of small-cell suppression. Dataset queries are answered by a node (api/
 * routes_research.c) and committed here, with the hash of the exact result
 * set, as node-signed research_query transactions that carry the
 * researcher's RFC 9421 signature (re-verified here for served queries).
 * The trial life cycle - enrolment (only with consent), amendments,
 * enrolment closed, database lock, results - is anchored so that
 * mc_trial_verify can report outcome switching, unregistered outcomes, a
 * results dataset that differs from the locked one, and subjects enrolled
 * without consent.
 *
 * Deterministic: block height and time only, no floats, key-ordered scans.
 *
 * Transactions (payloads canonical and strictly decoded; str8 texts are at
 * most MC_RESEARCH_TEXT_MAX bytes; ids are FHIR ids [A-Za-z0-9-.]{1,64};
 * purposes are [a-z0-9-]{1,64}):
 *
 *   study_register (90, admin or researcher of an organisation)
 *     | str8 study id | str8 title | str8 sponsor | str8 registry id |
 *     | hash32 protocol | str8 purpose (may be empty) | u8 categories |
 *     | u16 k (1..MC_RESEARCH_K_MAX) | u8 n | n x (u8 kind, str8 outcome) |
 *     | u8 m | m x pubkey researcher |
 *     kind: 1 primary, 2 secondary. At least one primary outcome.
 *   research_consent (91, patient)
 *     | u8 scope (1 study, 2 purpose) | str8 target | u32 version |
 *     | u8 action (1 permit, 2 withdraw) | u8 categories | u64 expiry_ms |
 *     A withdrawal carries categories 0 and expiry 0.
 *   research_query (92, node): one dataset query, served or refused
 *     | str8 study | pubkey requester | u8 outcome (0, 4, 8 as access entries) |
 *     | u16 http status | str16 reason | hash32 dataset | u32 patients |
 *     | u32 records | u64 as_of_height | bytes16 signature base | bytes8 signature |
 *   trial_enrol (93, study team)      | str8 study | pubkey patient |
 *   trial_amend (94, study team)      | str8 study | hash32 protocol | str16 reason |
 *                                     | u8 n | n x (u8 kind, str8 outcome) |
 *   trial_close (95, study team)      | str8 study |
 *   trial_lock (96, study team)       | str8 study | hash32 dataset |
 *   trial_results (97, study team)    | str8 study | hash32 results dataset |
 *                                     | u8 n | n x (u8 kind, str8 outcome) |
 *   The study team: the registrant, the listed researchers, and admins of
 *   the registrant's organisation.
 *
 * State rows (T = u8 scope || str8 target):
 *   "ys/" id               study (see study_encode in research.c)
 *   "ya/" id 0 u32 seq     amendment: | hash protocol | str16 reason | u64 height | u64 time |
 *   "yh/" patient T        consent head: | u32 version | u8 action | u8 cats | u64 expiry |
 *                          | u64 height | u64 time |
 *   "yc/" patient T u32 v  consent history: | u8 action | u8 cats | u64 expiry | u64 height |
 *                          | u64 time | hash tx |
 *   "yi/" T patient        index of patients who ever consented to T: | u8 1 |
 *   "ye/" id 0 patient     enrolment: | u64 height | u64 time | u8 consent scope |
 *                          | u32 consent version | pubkey enrolled by |
 *   "yq/" id 0 u64 h tx    query log: | pubkey requester | u8 outcome | u16 status |
 *                          | str16 reason | hash dataset | u32 patients | u32 records |
 *                          | u64 as_of | u64 time | hash signature |
 *   "yr/" id               results: | hash dataset | u64 height | u8 n | n x (u8, str8) |
 *   "yz/" SHA-256(sig)     | u64 height |: a request signature already served */
#ifndef MC_APP_RESEARCH_H
#define MC_APP_RESEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "app/identity.h"
#include "app/state.h"
#include "base/limits.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

enum mc_consent_scope { MC_CONSENT_STUDY = 1, MC_CONSENT_PURPOSE = 2 };
enum mc_consent_action { MC_CONSENT_PERMIT = 1, MC_CONSENT_WITHDRAW = 2 };
enum mc_outcome_kind { MC_OUTCOME_PRIMARY = 1, MC_OUTCOME_SECONDARY = 2 };
enum mc_study_phase {
    MC_STUDY_ENROLLING = 1,
    MC_STUDY_CLOSED = 2,    /* enrolment closed */
    MC_STUDY_LOCKED = 3,    /* database locked */
    MC_STUDY_REPORTED = 4,  /* results posted */
};

struct mc_study_outcome {
    uint8_t kind;
    uint32_t amendment;     /* 0: pre-registered, else the amendment's sequence */
    char text[MC_RESEARCH_TEXT_MAX + 1];
};

struct mc_study {
    char id[MC_STUDY_ID_MAX + 1];
    char title[MC_RESEARCH_TEXT_MAX + 1];
    char sponsor[MC_RESEARCH_TEXT_MAX + 1];
    char registry_id[MC_RESEARCH_TEXT_MAX + 1];
    mc_hash protocol;       /* current (after amendments) */
    char purpose[MC_PURPOSE_TOKEN_MAX + 1];
    uint8_t categories;
    uint16_t k;
    uint32_t org;
    mc_pubkey registrant;
    uint64_t height, time_ms;
    uint8_t phase;
    uint32_t amendments;
    uint32_t enrolled;
    mc_hash locked;         /* database lock's dataset hash (phase >= LOCKED) */
    uint64_t locked_height;
    uint16_t outcome_count;
    struct mc_study_outcome outcomes[MC_RESEARCH_OUTCOMES_MAX];
    uint8_t researcher_count;
    mc_pubkey researchers[MC_RESEARCH_RESEARCHERS_MAX];
};

struct mc_consent_version {
    uint8_t scope;
    char target[MC_STUDY_ID_MAX + 1];
    uint32_t version;
    uint8_t action;
    uint8_t categories;
    uint64_t expiry_ms;
    uint64_t height, time_ms;
    mc_hash tx_id;          /* history rows only */
};

struct mc_research_query {
    mc_hash tx_id;
    uint64_t height;
    mc_pubkey requester;
    uint8_t outcome;
    uint16_t status;
    char reason[MC_RESEARCH_REASON_MAX + 1];
    mc_hash dataset;
    uint32_t patients, records;
    uint64_t as_of_height, time_ms;
    mc_hash signature_hash;
};

struct mc_enrolment {
    mc_pubkey patient;
    uint64_t height, time_ms;
    uint8_t consent_scope;
    uint32_t consent_version;
    mc_pubkey enrolled_by;
};

/* Names: "study"/"purpose", "permit"/"withdraw", "primary"/"secondary",
 * "enrolling"/"closed"/"locked"/"reported"; "unknown" otherwise. */
const char *mc_consent_scope_name(uint8_t scope);
const char *mc_consent_action_name(uint8_t action);
const char *mc_outcome_kind_name(uint8_t kind);
const char *mc_study_phase_name(uint8_t phase);
/* [A-Za-z0-9-.]{1,64}, and [a-z0-9-]{1,64}. */
bool mc_study_id_valid(const char *id);
bool mc_research_purpose_token_valid(const char *p);

/* --- state reads (overlay-aware) --- */
/* The study; MC_ERR_NOT_FOUND when absent. out is large (~14 KB): heap it. */
MC_MUST_CHECK int mc_research_get_study(struct mc_state *st, const char *id, struct mc_study *out);
/* Latest consent of the patient for (scope, target); MC_ERR_NOT_FOUND if none. */
MC_MUST_CHECK int mc_research_get_consent(struct mc_state *st, const mc_pubkey *patient,
                                          uint8_t scope, const char *target,
                                          struct mc_consent_version *out);
MC_MUST_CHECK int mc_research_get_consent_version(struct mc_state *st, const mc_pubkey *patient,
                                                  uint8_t scope, const char *target,
                                                  uint32_t version, struct mc_consent_version *out);
MC_MUST_CHECK int mc_research_get_results(struct mc_state *st, const char *id, mc_hash *dataset,
                                          uint64_t *height, struct mc_study_outcome *outcomes,
                                          uint8_t *count);

/* Does the patient's consent cover the study at time now_ms? The most
 * specific consent decides: the patient's latest study-scope consent for
 * this study when there is one, else the latest purpose-scope consent for
 * the study's purpose. It covers when it is a permit, unexpired
 * (expiry 0 or > now_ms), and its categories include all of the study's.
 * *basis (may be NULL) receives the deciding consent (version 0: none). */
bool mc_research_consent_covers(struct mc_state *st, const mc_pubkey *patient,
                                const struct mc_study *study, uint64_t now_ms,
                                struct mc_consent_version *basis);

/* --- scans of committed state, key order; fn returns non-zero to stop --- */
/* Every patient who ever consented to the study or to its purpose (each
 * once, in key order: the study's index first, then the purpose's patients
 * not already seen are reported too - the caller decides coverage). */
MC_MUST_CHECK int mc_research_scan_candidates(struct mc_state *st, const struct mc_study *study,
                                              int (*fn)(void *ctx, const mc_pubkey *patient),
                                              void *ctx);
/* A patient's consent history, all targets, oldest version first per target. */
MC_MUST_CHECK int mc_research_scan_consents(struct mc_state *st, const mc_pubkey *patient,
                                            int (*fn)(void *ctx, const struct mc_consent_version *c),
                                            void *ctx);
MC_MUST_CHECK int mc_research_scan_enrolments(struct mc_state *st, const char *study,
                                              int (*fn)(void *ctx, const struct mc_enrolment *e),
                                              void *ctx);
MC_MUST_CHECK int mc_research_scan_queries(struct mc_state *st, const char *study,
                                           int (*fn)(void *ctx, const struct mc_research_query *q),
                                           void *ctx);

/* --- trial verification --- */

enum mc_trial_finding_kind {
    MC_FINDING_UNREGISTERED_OUTCOME = 1, /* reported, never registered nor amended in */
    MC_FINDING_UNREPORTED_OUTCOME,       /* registered (or amended in), never reported */
    MC_FINDING_RECLASSIFIED_OUTCOME,     /* reported as primary/secondary, registered as the other */
    MC_FINDING_RESULTS_HASH_MISMATCH,    /* results dataset hash != the locked one */
    MC_FINDING_ENROLLED_WITHOUT_CONSENT, /* no covering consent at enrolment */
};

struct mc_trial_finding {
    uint8_t kind;
    char text[MC_RESEARCH_TEXT_MAX + 1]; /* the outcome, or a sentence */
    mc_pubkey patient;                   /* ENROLLED_WITHOUT_CONSENT */
};

struct mc_trial_report {
    uint8_t phase;
    uint32_t amendments, enrolled;
    bool locked, results_posted;
    mc_hash locked_hash, results_hash;
    size_t count;                        /* findings, at most MC_RESEARCH_FINDINGS_MAX */
    bool truncated;
    struct mc_trial_finding findings[MC_RESEARCH_FINDINGS_MAX];
};

/* Checks the study's trial record in committed state (call between blocks):
 * outcomes reported versus those registered or amended in before the
 * results, the results dataset hash versus the locked one, and every
 * enrolment against the patient's consent history as it stood at the
 * enrolment's height (independently of the check the ledger made then).
 * A study without results yet reports only enrolment findings. report is
 * large: heap it. MC_ERR_NOT_FOUND for an unknown study. */
MC_MUST_CHECK int mc_trial_verify(struct mc_state *st, const char *study,
                                  struct mc_trial_report *report);

/* Who may query a study's dataset (one rule for the ledger's served
 * research_query and the API's dataset route): an account
 * (MC_DATASET_NO_ACCOUNT), active (MC_DATASET_INACTIVE), a researcher
 * (MC_DATASET_NOT_RESEARCHER), listed on the study
 * (MC_DATASET_NOT_LISTED). account_out receives the account when found.
 * Each caller words its own refusal. */
enum mc_research_dataset_verdict {
    MC_DATASET_ALLOWED = 0,
    MC_DATASET_NO_ACCOUNT,
    MC_DATASET_INACTIVE,
    MC_DATASET_NOT_RESEARCHER,
    MC_DATASET_NOT_LISTED,
};
enum mc_research_dataset_verdict mc_research_dataset_check(struct mc_state *st,
                                                           const struct mc_study *s,
                                                           const mc_pubkey *requester,
                                                           struct mc_account *account_out);

/* Structural form of every research payload (fields by type, see the
 * layouts above), for builders (CLI, tests) and the fuzz target. */
struct mc_research_payload {
    uint16_t type;
    char study[MC_STUDY_ID_MAX + 1];      /* study id; the consent's target */
    char title[MC_RESEARCH_TEXT_MAX + 1], sponsor[MC_RESEARCH_TEXT_MAX + 1];
    char registry_id[MC_RESEARCH_TEXT_MAX + 1];
    char purpose[MC_PURPOSE_TOKEN_MAX + 1];
    mc_hash hash;                         /* protocol, locked or results dataset, query dataset */
    uint8_t categories;
    uint16_t k;
    uint8_t outcome_count;
    struct mc_study_outcome outcomes[MC_RESEARCH_OUTCOMES_MAX];
    uint8_t researcher_count;
    mc_pubkey researchers[MC_RESEARCH_RESEARCHERS_MAX];
    uint8_t scope, action;                /* consent */
    uint32_t version;
    uint64_t expiry_ms;
    mc_pubkey patient;                    /* enrol */
    char reason[MC_RESEARCH_REASON_MAX + 1]; /* amend, query */
    mc_pubkey requester;                  /* query */
    uint8_t outcome;
    uint16_t status;
    uint32_t patients, records;
    uint64_t as_of_height;
    const uint8_t *base;                  /* query: points into the decoded bytes */
    size_t base_len;
    const uint8_t *sig;
    size_t sig_len;
};

/* Canonical bytes of p (by p->type) appended to b; b->err on failure. */
void mc_research_encode(struct mc_buf *b, const struct mc_research_payload *p);
/* Strict structural decode (lengths, counts, no trailing bytes; values are
 * judged by execution). MC_ERR_MALFORMED / MC_ERR_TOO_LARGE / MC_ERR_INVALID
 * (not a research type). out is large: heap it. */
MC_MUST_CHECK int mc_research_decode(struct mc_research_payload *out, uint16_t type,
                                     const uint8_t *p, size_t n);

struct mc_exec;
/* Executes research transactions (types 90-97). See app.h for the contract. */
MC_MUST_CHECK int mc_research_execute(struct mc_exec *ex);

#endif
