/* Consensus proposals: "the proposer of (height, round) proposes this block".
 *
 * A proposal names its block by hash only; the block bytes travel beside it
 * and the caller checks that they hash to block_hash before asking the
 * application whether the block is valid.
 *
 * Signed bytes (purpose MC_SIGN_PROPOSAL, bound to the chain id):
 *
 *   | field         | bytes | rule                                        |
 *   |---------------|-------|---------------------------------------------|
 *   | height        | u64   |                                             |
 *   | round         | u32   |                                             |
 *   | has_pol_round | u8    | 0 or 1                                      |
 *   | pol_round     | u32   | 0 when has_pol_round = 0, else < round      |
 *   | block hash    | 32    |                                             |
 *   | proposer      | u16   | index of the proposer in the validator set  |
 *
 * Wire form: the signed bytes, then | sig 64 |. pol_round is the paper's
 * validRound (vr): the round in which the proposer saw 2/3+ prevotes for this
 * block, or none (-1 in the paper). */
#ifndef MC_CONSENSUS_PROPOSAL_H
#define MC_CONSENSUS_PROPOSAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/codec.h"
#include "chain/valset.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

struct mc_proposal {
    uint64_t height;
    uint32_t round;
    bool has_pol_round;
    uint32_t pol_round;
    mc_hash block_hash;
    uint16_t proposer;
    uint8_t sig[MC_SIG_BYTES];
};

#define MC_PROPOSAL_SIGNED_BYTES (8 + 4 + 1 + 4 + 32 + 2)
#define MC_PROPOSAL_WIRE_BYTES (MC_PROPOSAL_SIGNED_BYTES + MC_SIG_BYTES)

/* The bytes covered by the signature. The proposal must be well formed
 * (pol_round zero when absent); misuse aborts. */
void mc_proposal_signed_bytes(uint8_t out[MC_PROPOSAL_SIGNED_BYTES], const struct mc_proposal *p);
/* Signs p in place with kp (the caller's key for index p->proposer). */
void mc_proposal_sign(struct mc_proposal *p, const struct mc_keypair *kp, const char *chain_id);
/* Checks the form (pol_round < round), that the proposer index is in vs and
 * that the signature is that validator's. It does NOT check that the index
 * is the proposer scheduled for (height, round): the engine does.
 * MC_ERR_INVALID or MC_ERR_BAD_SIGNATURE. */
MC_MUST_CHECK int mc_proposal_verify(const struct mc_proposal *p, const struct mc_valset *vs,
                                     const char *chain_id);
void mc_proposal_encode(struct mc_buf *b, const struct mc_proposal *p);
/* Strict decode: exactly MC_PROPOSAL_WIRE_BYTES, canonical fields.
 * MC_ERR_MALFORMED otherwise. */
MC_MUST_CHECK int mc_proposal_decode(struct mc_proposal *p, const void *bytes, size_t len);

#endif
