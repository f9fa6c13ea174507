/* Validator set: the nodes whose votes decide blocks, with voting power.
 *
 * Order is significant (a validator's index is its position, used by votes
 * and commit certificates) and fixed by genesis or governance.
 *
 * Canonical form:
 *   | u16 count | count x ( pubkey 32 | u64 power | str8 name ) |
 * The hash is SHA-256 of that form. */
#ifndef MC_CHAIN_VALSET_H
#define MC_CHAIN_VALSET_H

#include <stdint.h>

#include "base/codec.h"
#include "base/limits.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

struct mc_validator {
    mc_pubkey pk;
    uint64_t power;
    char name[MC_NAME_MAX];
};

struct mc_valset {
    uint32_t count;
    uint64_t total_power;
    struct mc_validator v[MC_VALIDATORS_MAX];
};

/* Adds a validator; MC_ERR_FULL, MC_ERR_EXISTS (same key) or MC_ERR_INVALID
 * (zero power, total overflow). */
MC_MUST_CHECK int mc_valset_add(struct mc_valset *vs, const mc_pubkey *pk, uint64_t power,
                                const char *name);
/* Index of the validator with key pk, or -1. */
int mc_valset_find(const struct mc_valset *vs, const mc_pubkey *pk);
void mc_valset_encode(struct mc_buf *b, const struct mc_valset *vs);
MC_MUST_CHECK int mc_valset_decode(struct mc_valset *vs, const void *p, size_t len);
void mc_valset_hash(const struct mc_valset *vs, mc_hash *out);
/* True when power is more than two thirds of the total (a quorum). */
bool mc_valset_is_quorum(const struct mc_valset *vs, uint64_t power);

#endif
