/* Building and signing transactions in the CLI.
 *
 * Payload builders encode the canonical payloads documented at the top of
 * src/app/identity.c:
 *   enroll_member:    | pubkey member | u8 role | str8 name |
 *   revoke_member:    | pubkey member | str8 reason |
 *   register_patient: | pubkey patient | sig64 patient consent |
 *   rotate_key:       | pubkey new key | sig64 proof of possession |
 * Each appends to b and returns 0 or the codec's error (MC_ERR_TOO_LARGE
 * when a string does not fit its length prefix or MC_NAME_MAX).
 *
 * mc_txbuild_sign wraps a payload in the transaction envelope of
 * chain/tx.h and signs it with the sender's key. It deliberately accepts
 * what the ledger would refuse (an unknown type, an oversized payload, a
 * wrong nonce or chain id) so tests can craft bad transactions; the node is
 * the judge. */
#ifndef MC_CLI_TXBUILD_H
#define MC_CLI_TXBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

MC_MUST_CHECK int mc_txbuild_enroll(struct mc_buf *b, const mc_pubkey *member, uint8_t role,
                                    const char *name);
MC_MUST_CHECK int mc_txbuild_revoke(struct mc_buf *b, const mc_pubkey *member,
                                    const char *reason);
/* Signs the patient's consent (over the registering member's key) with the
 * patient's key and encodes the payload. */
MC_MUST_CHECK int mc_txbuild_register_patient(struct mc_buf *b, const struct mc_keypair *patient,
                                              const char *chain_id, const mc_pubkey *member);
/* Signs the proof of possession with the new key and encodes the payload. */
MC_MUST_CHECK int mc_txbuild_rotate_key(struct mc_buf *b, const struct mc_keypair *new_key,
                                        const char *chain_id, const mc_pubkey *old_key);

/* Encodes and signs a transaction: the full encoding is appended to out and
 * its id written to id. MC_ERR_INVALID if chain_id is longer than
 * MC_CHAIN_ID_MAX; MC_ERR_TOO_LARGE if the payload does not fit a u32. */
MC_MUST_CHECK int mc_txbuild_sign(struct mc_buf *out, mc_hash *id, const char *chain_id,
                                  uint16_t type, const struct mc_keypair *sender, uint64_t nonce,
                                  const uint8_t *payload, size_t payload_len);

#endif
