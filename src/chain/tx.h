/* Transaction envelope.
 *
 * Canonical form (all integers big-endian):
 *
 *   | u8  version (=1)            |
 *   | str8 chain id               |  at most MC_CHAIN_ID_MAX bytes
 *   | u16 type                    |  an MC_TX_* type of app/txtypes.h
 *   | pubkey 32 sender            |
 *   | u64 nonce                   |  per-sender, strictly sequential from 1
 *   | u32 len | payload           |  at most the type's maximum
 *   | sig 64                      |  Ed25519, purpose MC_SIGN_TX, over all
 *                                    the bytes before it
 *
 * The transaction id is SHA-256 of the whole encoding. Its leaf in the
 * Merkle trees (block and ledger log) is the RFC 6962 leaf hash of the same
 * bytes. */
#ifndef MC_CHAIN_TX_H
#define MC_CHAIN_TX_H

#include <stdint.h>

#include "base/codec.h"
#include "base/limits.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

#define MC_TX_VERSION 1

struct mc_tx {
    char chain_id[MC_CHAIN_ID_MAX + 1];
    uint16_t type;
    mc_pubkey sender;
    uint64_t nonce;
    const uint8_t *payload; /* borrowed: points into the decoded bytes or caller memory */
    size_t payload_len;
    uint8_t sig[MC_SIG_BYTES];
};

/* Encodes everything but the signature (the signed bytes). */
void mc_tx_encode_unsigned(struct mc_buf *b, const struct mc_tx *tx);
/* Encodes the full transaction. */
void mc_tx_encode(struct mc_buf *b, const struct mc_tx *tx);
/* Signs tx in place with kp (which must be the sender's key pair). */
void mc_tx_sign(struct mc_tx *tx, const struct mc_keypair *kp);
/* Strict decode. tx->payload points into p, which must outlive tx. */
MC_MUST_CHECK int mc_tx_decode(struct mc_tx *tx, const void *p, size_t len);
/* Checks the signature over the given encoding (len includes the signature).
 * MC_ERR_BAD_SIGNATURE on mismatch. */
MC_MUST_CHECK int mc_tx_verify_signature(const struct mc_tx *tx, const void *encoded, size_t len);
/* Transaction id. */
void mc_tx_id(mc_hash *out, const void *encoded, size_t len);

#endif
