/* Payload builders and transaction signing for the CLI (see txbuild.h). */
#include "cli/txbuild.h"

#include <string.h>

#include "app/identity.h"
#include "app/identity_payload.h"
#include "app/txtypes.h"
#include "base/limits.h"
#include "chain/tx.h"

int mc_txbuild_enroll(struct mc_buf *b, const mc_pubkey *member, uint8_t role, const char *name) {
    if (strlen(name) >= MC_NAME_MAX) return MC_ERR_TOO_LARGE;
    struct mc_identity_payload p = {.type = MC_TX_ENROLL_MEMBER, .key = *member, .role = role};
    memcpy(p.name, name, strlen(name) + 1);
    return mc_identity_payload_encode(b, &p);
}

int mc_txbuild_revoke(struct mc_buf *b, const mc_pubkey *member, const char *reason) {
    if (strlen(reason) > MC_IDENTITY_REASON_MAX) return b->err = MC_ERR_TOO_LARGE;
    struct mc_identity_payload p = {.type = MC_TX_REVOKE_MEMBER, .key = *member};
    memcpy(p.reason, reason, strlen(reason) + 1);
    return mc_identity_payload_encode(b, &p);
}

int mc_txbuild_register_patient(struct mc_buf *b, const struct mc_keypair *patient,
                                const char *chain_id, const mc_pubkey *member) {
    if (strlen(chain_id) > MC_CHAIN_ID_MAX) return MC_ERR_INVALID;
    struct mc_identity_payload p = {.type = MC_TX_REGISTER_PATIENT, .key = patient->pk};
    mc_identity_patient_consent_sign(p.sig, patient, chain_id, member);
    return mc_identity_payload_encode(b, &p);
}

int mc_txbuild_rotate_key(struct mc_buf *b, const struct mc_keypair *new_key,
                          const char *chain_id, const mc_pubkey *old_key) {
    if (strlen(chain_id) > MC_CHAIN_ID_MAX) return MC_ERR_INVALID;
    struct mc_identity_payload p = {.type = MC_TX_ROTATE_KEY, .key = new_key->pk};
    mc_identity_rotation_sign(p.sig, new_key, chain_id, old_key);
    return mc_identity_payload_encode(b, &p);
}

int mc_txbuild_sign(struct mc_buf *out, mc_hash *id, const char *chain_id, uint16_t type,
                    const struct mc_keypair *sender, uint64_t nonce, const uint8_t *payload,
                    size_t payload_len) {
    if (strlen(chain_id) > MC_CHAIN_ID_MAX) return MC_ERR_INVALID;
    if (payload_len > UINT32_MAX) return MC_ERR_TOO_LARGE;
    struct mc_tx tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.chain_id, chain_id, strlen(chain_id) + 1);
    tx.type = type;
    tx.sender = sender->pk;
    tx.nonce = nonce;
    tx.payload = payload;
    tx.payload_len = payload_len;
    if (payload_len <= MC_TX_PAYLOAD_MAX) {
        mc_tx_sign(&tx, sender);
    } else {
        /* Oversized on purpose (a test of the node's limit): mc_tx_sign
         * refuses to encode it, so sign the same message by hand. */
        struct mc_buf unsigned_bytes;
        mc_buf_init(&unsigned_bytes, 0);
        mc_tx_encode_unsigned(&unsigned_bytes, &tx);
        int rc = unsigned_bytes.err;
        if (!rc) mc_sign(tx.sig, sender, MC_SIGN_TX, tx.chain_id, unsigned_bytes.data,
                         unsigned_bytes.len);
        mc_buf_deinit(&unsigned_bytes);
        if (rc) return rc;
    }
    size_t start = out->len;
    mc_tx_encode(out, &tx);
    if (out->err) return out->err;
    mc_tx_id(id, out->data + start, out->len - start);
    return MC_OK;
}
