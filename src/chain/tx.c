/* Transaction envelope encoding and signatures (layout in tx.h). */
#include "chain/tx.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

void mc_tx_encode_unsigned(struct mc_buf *b, const struct mc_tx *tx) {
    mc_enc_u8(b, MC_TX_VERSION);
    mc_enc_str8(b, tx->chain_id);
    mc_enc_u16(b, tx->type);
    mc_enc_fixed(b, tx->sender.b, MC_PUBKEY_BYTES);
    mc_enc_u64(b, tx->nonce);
    mc_enc_bytes32(b, tx->payload, tx->payload_len);
}

void mc_tx_encode(struct mc_buf *b, const struct mc_tx *tx) {
    mc_tx_encode_unsigned(b, tx);
    mc_enc_fixed(b, tx->sig, MC_SIG_BYTES);
}

void mc_tx_sign(struct mc_tx *tx, const struct mc_keypair *kp) {
    struct mc_buf b;
    mc_buf_init(&b, MC_TX_MAX);
    mc_tx_encode_unsigned(&b, tx);
    MC_ASSERT(b.err == 0); /* a decoded or built tx is within MC_TX_MAX */
    mc_sign(tx->sig, kp, MC_SIGN_TX, tx->chain_id, b.data, b.len);
    mc_buf_deinit(&b);
}

int mc_tx_decode(struct mc_tx *tx, const void *p, size_t len) {
    if (len > MC_TX_MAX) return MC_ERR_TOO_LARGE;
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    memset(tx, 0, sizeof *tx);
    if (mc_dec_u8(&d) != MC_TX_VERSION) mc_dec_fail(&d, MC_ERR_MALFORMED);
    mc_dec_str8(&d, tx->chain_id, sizeof tx->chain_id);
    tx->type = mc_dec_u16(&d);
    mc_dec_fixed(&d, tx->sender.b, MC_PUBKEY_BYTES);
    tx->nonce = mc_dec_u64(&d);
    tx->payload = mc_dec_bytes32(&d, &tx->payload_len, MC_TX_PAYLOAD_MAX);
    mc_dec_fixed(&d, tx->sig, MC_SIG_BYTES);
    return mc_dec_finish(&d);
}

int mc_tx_verify_signature(const struct mc_tx *tx, const void *encoded, size_t len) {
    if (len < MC_SIG_BYTES) return MC_ERR_MALFORMED;
    return mc_sign_verify(tx->sig, &tx->sender, MC_SIGN_TX, tx->chain_id, encoded,
                     len - MC_SIG_BYTES);
}

void mc_tx_id(mc_hash *out, const void *encoded, size_t len) { mc_sha256(out, encoded, len); }
