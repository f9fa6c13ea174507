/* Consensus votes (prevote, precommit) and their signatures.
 *
 * Signed bytes (purpose MC_SIGN_VOTE, bound to the chain id):
 *   | u8 type | u64 height | u32 round | u8 has_block | block hash 32 |
 * A nil vote has has_block = 0 and a zero hash.
 *
 * Wire form: the signed bytes, then | u16 validator index | sig 64 |. */
#ifndef MC_CHAIN_VOTE_H
#define MC_CHAIN_VOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/codec.h"
#include "chain/valset.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

enum mc_vote_type { MC_VOTE_PREVOTE = 1, MC_VOTE_PRECOMMIT = 2 };

struct mc_vote {
    uint8_t type;
    uint64_t height;
    uint32_t round;
    bool has_block;
    mc_hash block_hash;
    uint16_t validator;
    uint8_t sig[MC_SIG_BYTES];
};

#define MC_VOTE_SIGNED_BYTES (1 + 8 + 4 + 1 + 32)
#define MC_VOTE_WIRE_BYTES (MC_VOTE_SIGNED_BYTES + 2 + MC_SIG_BYTES)

void mc_vote_signed_bytes(uint8_t out[MC_VOTE_SIGNED_BYTES], const struct mc_vote *v);
void mc_vote_sign(struct mc_vote *v, const struct mc_keypair *kp, const char *chain_id);
/* Checks the index is in the set and the signature is the validator's. */
MC_MUST_CHECK int mc_vote_verify(const struct mc_vote *v, const struct mc_valset *vs,
                                 const char *chain_id);
void mc_vote_encode(struct mc_buf *b, const struct mc_vote *v);
MC_MUST_CHECK int mc_vote_decode(struct mc_vote *v, const void *p, size_t len);
/* Decodes one vote from an open decoder (for containers). */
void mc_vote_decode_from(struct mc_dec *d, struct mc_vote *v);

#endif
