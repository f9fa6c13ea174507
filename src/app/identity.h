/* Identity and membership: organisations, their members' accounts, patients.
 *
 * State keys:
 *   "o/" || u32 org id      -> org record
 *   "a/" || pubkey          -> account record
 *
 * Org record:     | u32 id | str8 name | u8 kind | str8 gln | pubkey admin |
 * Account record: | u8 role | u8 status | u32 org | u64 nonce | str8 name |
 *                 | u64 since_height | pubkey successor |
 * `nonce` is the last nonce used; the next transaction must carry nonce+1.
 * `successor` is the new key after a rotation (zero otherwise). */
#ifndef MC_APP_IDENTITY_H
#define MC_APP_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "app/state.h"
#include "base/limits.h"
#include "crypto/sign.h"

enum mc_org_kind {
    MC_ORG_HOSPITAL = 1,
    MC_ORG_CLINIC,
    MC_ORG_LABORATORY,
    MC_ORG_PHARMACY,
    MC_ORG_MANUFACTURER,
    MC_ORG_DISTRIBUTOR,
    MC_ORG_RESEARCH,
    MC_ORG_REGULATOR,
    MC_ORG_KIND_MAX = MC_ORG_REGULATOR
};

enum mc_role {
    MC_ROLE_ADMIN = 1,
    MC_ROLE_CLINICIAN,
    MC_ROLE_PHARMACIST,
    MC_ROLE_RESEARCHER,
    MC_ROLE_AUDITOR,
    MC_ROLE_MANUFACTURER,
    MC_ROLE_DISTRIBUTOR,
    MC_ROLE_PHARMACY,
    MC_ROLE_REGULATOR,
    MC_ROLE_PATIENT,
    MC_ROLE_NODE,
    MC_ROLE_MAX = MC_ROLE_NODE
};

enum mc_account_status { MC_ACCOUNT_ACTIVE = 1, MC_ACCOUNT_REVOKED = 2, MC_ACCOUNT_ROTATED = 3 };

struct mc_org {
    uint32_t id;
    char name[MC_NAME_MAX];
    uint8_t kind;
    char gln[MC_GLN_MAX + 1];
    mc_pubkey admin;
};

struct mc_account {
    mc_pubkey key;
    uint8_t role;
    uint8_t status;
    uint32_t org; /* 0 for patients */
    uint64_t nonce;
    char name[MC_NAME_MAX];
    uint64_t since_height;
    mc_pubkey successor;
};

const char *mc_role_name(uint8_t role);
uint8_t mc_role_from_name(const char *name);       /* 0 if unknown */
const char *mc_org_kind_name(uint8_t kind);
uint8_t mc_org_kind_from_name(const char *name);   /* 0 if unknown */
const char *mc_account_status_name(uint8_t status);
/* May an organisation of this kind hold members of this role? */
bool mc_role_allowed_in(uint8_t role, uint8_t org_kind);
/* Provider organisations may register patients. */
bool mc_org_is_provider(uint8_t kind);

void mc_org_encode(struct mc_buf *b, const struct mc_org *o);
MC_MUST_CHECK int mc_org_decode_from(struct mc_dec *d, struct mc_org *o);

MC_MUST_CHECK int mc_identity_get_account(struct mc_state *st, const mc_pubkey *key,
                                          struct mc_account *out);
/* An account row's bytes (what a state proof shows) for the account key;
 * MC_ERR_TAMPERED when they are not such a row. */
MC_MUST_CHECK int mc_identity_account_decode(const uint8_t *p, size_t len, const mc_pubkey *key,
                                             struct mc_account *out);
MC_MUST_CHECK int mc_identity_put_account(struct mc_state *st, const struct mc_account *a);
MC_MUST_CHECK int mc_identity_get_org(struct mc_state *st, uint32_t id, struct mc_org *out);
MC_MUST_CHECK int mc_identity_put_org(struct mc_state *st, const struct mc_org *o);

/* Signed message a patient gives the registering member:
 * member pubkey || patient pubkey, purpose MC_SIGN_PATIENT. */
/* The sender rule of register_patient (and so who may invite a patient,
 * api/routes_invite.c): an active clinician or admin of a provider
 * organisation. */
bool mc_identity_may_register_patients(struct mc_state *st, const struct mc_account *a);
/* Whether sig is the patient's consent to be registered by member. */
bool mc_identity_patient_consent_valid(const uint8_t sig[MC_SIG_BYTES], const mc_pubkey *patient,
                                       const char *chain_id, const mc_pubkey *member);
void mc_identity_patient_consent_sign(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *patient,
                                      const char *chain_id, const mc_pubkey *member);
/* Proof of possession of a new key: old || new, purpose MC_SIGN_ROTATE. */
void mc_identity_rotation_sign(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *new_key,
                               const char *chain_id, const mc_pubkey *old_key);

struct mc_exec;
/* Executes an identity transaction (types 1-4). See app.h for the contract. */
MC_MUST_CHECK int mc_identity_execute(struct mc_exec *ex);

#endif
