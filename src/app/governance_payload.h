/* Encoders and strict structural decoders of the governance transactions
 * (layouts and rules in app/governance.h):
 *
 *   gov_propose: | u64 deadline | u64 activation | u8 kind | body |
 *     add_org:          | str8 name | u8 org kind | str8 gln | pubkey admin |
 *     suspend_org, remove_org, reinstate_org: | u32 org |
 *     add_validator:    | u32 org | pubkey node | u64 power | str8 name |
 *     remove_validator: | pubkey node |
 *     set_power:        | pubkey node | u64 power |
 *     set_param:        | u8 param | u64 value |
 *     replace_admin:    | u32 org | pubkey new admin |
 *     upgrade:          | str8 name | str8 version | u64 height |
 *     add_node:         | u32 org | pubkey node | str8 name |
 *   gov_vote:    | u64 proposal | u8 approve (0 or 1) |
 *   node_rotate: | pubkey node | pubkey new key | u64 height | sig64 proof |
 *     (the proof: the new key signs old || new, purpose MC_SIGN_ROTATE)
 *
 * One structure, one encoder and one strict decoder per type, for the
 * execution, the API, the CLI and tests; fuzz/fuzz_gov_payload.c checks
 * decode(encode(x)) == x. Pure functions, thread-safe. */
#ifndef MC_APP_GOVERNANCE_PAYLOAD_H
#define MC_APP_GOVERNANCE_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/limits.h"
#include "crypto/sign.h"

enum mc_gov_kind {
    MC_GOV_ADD_ORG = 1,
    MC_GOV_SUSPEND_ORG = 2,
    MC_GOV_REMOVE_ORG = 3,
    MC_GOV_REINSTATE_ORG = 4,
    MC_GOV_ADD_VALIDATOR = 5,
    MC_GOV_REMOVE_VALIDATOR = 6,
    MC_GOV_SET_POWER = 7,
    MC_GOV_SET_PARAM = 8,
    MC_GOV_REPLACE_ADMIN = 9,
    MC_GOV_UPGRADE = 10,
    MC_GOV_ADD_NODE = 11,
    MC_GOV_KIND_MAX = MC_GOV_ADD_NODE
};

/* Ledger parameters (set_param), each with its hard bounds in
 * governance.c (mc_governance_param_bounds). */
enum mc_gov_param {
    MC_GOV_PARAM_BLOCK_TXS = 1,     /* transactions a block may hold */
    MC_GOV_PARAM_BLOCK_BYTES = 2,   /* bytes of a block's transactions */
    MC_GOV_PARAM_TX_BYTES = 3,      /* bytes of one transaction */
    MC_GOV_PARAM_TIMEOUT_PROPOSE = 4, /* consensus base timeouts, ms */
    MC_GOV_PARAM_TIMEOUT_PREVOTE = 5,
    MC_GOV_PARAM_TIMEOUT_PRECOMMIT = 6,
    MC_GOV_PARAM_MAX = MC_GOV_PARAM_TIMEOUT_PRECOMMIT
};

/* What a proposal asks for. */
struct mc_gov_change {
    uint8_t kind;
    uint32_t org;                            /* org kinds, add_validator, add_node, replace_admin */
    char name[MC_NAME_MAX];                  /* add_org, add_validator, add_node, upgrade */
    uint8_t org_kind;                        /* add_org */
    char gln[MC_GLN_MAX + 1];                /* add_org */
    mc_pubkey key;                           /* admin (add_org, replace_admin) or node */
    uint64_t power;                          /* add_validator, set_power */
    uint8_t param;                           /* set_param */
    uint64_t value;                          /* set_param */
    char version[MC_GOV_VERSION_MAX + 1];    /* upgrade */
    uint64_t height;                         /* upgrade */
};

struct mc_gov_payload {
    uint16_t type;                           /* MC_TX_GOV_PROPOSE, _VOTE, MC_TX_NODE_ROTATE */
    /* propose */
    uint64_t deadline, activation;
    struct mc_gov_change change;
    /* vote */
    uint64_t proposal;
    bool approve;
    /* node_rotate */
    mc_pubkey node, new_key;
    uint64_t at_height;
    uint8_t sig[MC_SIG_BYTES];
};

/* The body of a change (kind and fields) alone, as proposals store it; a
 * decoding failure is also left in d->err. */
void mc_gov_change_encode(struct mc_buf *b, const struct mc_gov_change *c);
int mc_gov_change_decode_from(struct mc_dec *d, struct mc_gov_change *c);

/* Canonical bytes of p appended to b. MC_ERR_INVALID for a type that is not
 * a governance type or an unknown kind; MC_ERR_TOO_LARGE for a string over
 * its bound (b->err is set too). */
MC_MUST_CHECK int mc_gov_payload_encode(struct mc_buf *b, const struct mc_gov_payload *p);
/* Strict decode: MC_ERR_MALFORMED / MC_ERR_TOO_LARGE / MC_ERR_INVALID. */
MC_MUST_CHECK int mc_gov_payload_decode(struct mc_gov_payload *out, uint16_t type,
                                        const uint8_t *p, size_t n);

const char *mc_gov_kind_name(uint8_t kind);        /* "add_org", or "unknown" */
uint8_t mc_gov_kind_from_name(const char *name);   /* 0 if unknown */
const char *mc_gov_param_name(uint8_t param);      /* "block_txs", or "unknown" */
uint8_t mc_gov_param_from_name(const char *name);  /* 0 if unknown */

#endif
