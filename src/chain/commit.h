/* Commit certificate: 2/3+ of the voting power's precommits for one block.
 *
 * Canonical form:
 *   | u64 height | u32 round | block hash 32 | u16 count |
 *   | count x ( u16 validator index | sig 64 ) |
 * Indexes are strictly increasing (one signature per validator, one order).
 * Each signature is a precommit (mc_vote) for (height, round, block hash).
 * Anyone holding the validator set verifies a certificate offline. */
#ifndef MC_CHAIN_COMMIT_H
#define MC_CHAIN_COMMIT_H

#include <stdint.h>

#include "base/codec.h"
#include "chain/valset.h"
#include "chain/vote.h"

struct mc_commit_sig {
    uint16_t validator;
    uint8_t sig[MC_SIG_BYTES];
};

struct mc_commit {
    uint64_t height;
    uint32_t round;
    mc_hash block_hash;
    uint16_t count;
    struct mc_commit_sig sigs[MC_VALIDATORS_MAX];
};

void mc_commit_init(struct mc_commit *c, uint64_t height, uint32_t round,
                    const mc_hash *block_hash);
/* Adds a precommit for this certificate's block, keeping indexes ordered.
 * MC_ERR_INVALID if the vote is for another height/round/block or not a
 * precommit; MC_ERR_EXISTS if that validator is already in. The signature
 * is not checked here (mc_commit_verify does). */
MC_MUST_CHECK int mc_commit_add(struct mc_commit *c, const struct mc_vote *precommit);
void mc_commit_encode(struct mc_buf *b, const struct mc_commit *c);
MC_MUST_CHECK int mc_commit_decode(struct mc_commit *c, const void *p, size_t len);
/* SHA-256 of a certificate's canonical form. */
void mc_commit_hash(const struct mc_commit *c, mc_hash *out);
/* Verifies every signature against vs and that the signers hold a quorum.
 * MC_ERR_BAD_SIGNATURE, MC_ERR_INVALID (unknown index, no quorum,
 * height/hash mismatch with the expected ones when given). */
MC_MUST_CHECK int mc_commit_verify(const struct mc_commit *c, const struct mc_valset *vs,
                                   const char *chain_id, uint64_t height,
                                   const mc_hash *block_hash);

#endif
