/* Identity payloads: encode and strictly decode (see identity_payload.h). */
#include "app/identity_payload.h"

#include <string.h>

#include "app/txtypes.h"

int mc_identity_payload_encode(struct mc_buf *b, const struct mc_identity_payload *p) {
    switch (p->type) {
    case MC_TX_ENROLL_MEMBER:
        if (strnlen(p->name, MC_NAME_MAX) >= MC_NAME_MAX) return b->err = MC_ERR_TOO_LARGE;
        mc_enc_fixed(b, p->key.b, MC_PUBKEY_BYTES);
        mc_enc_u8(b, p->role);
        mc_enc_str8(b, p->name);
        break;
    case MC_TX_REVOKE_MEMBER:
        mc_enc_fixed(b, p->key.b, MC_PUBKEY_BYTES);
        mc_enc_str8(b, p->reason);
        break;
    case MC_TX_REGISTER_PATIENT:
    case MC_TX_ROTATE_KEY:
        mc_enc_fixed(b, p->key.b, MC_PUBKEY_BYTES);
        mc_enc_fixed(b, p->sig, MC_SIG_BYTES);
        break;
    default:
        return b->err = MC_ERR_INVALID;
    }
    return b->err;
}

int mc_identity_payload_decode(struct mc_identity_payload *out, uint16_t type, const uint8_t *p,
                               size_t n) {
    memset(out, 0, sizeof *out);
    out->type = type;
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    switch (type) {
    case MC_TX_ENROLL_MEMBER:
        mc_dec_fixed(&d, out->key.b, MC_PUBKEY_BYTES);
        out->role = mc_dec_u8(&d);
        mc_dec_str8(&d, out->name, sizeof out->name);
        break;
    case MC_TX_REVOKE_MEMBER:
        mc_dec_fixed(&d, out->key.b, MC_PUBKEY_BYTES);
        mc_dec_str8(&d, out->reason, sizeof out->reason);
        break;
    case MC_TX_REGISTER_PATIENT:
    case MC_TX_ROTATE_KEY:
        mc_dec_fixed(&d, out->key.b, MC_PUBKEY_BYTES);
        mc_dec_fixed(&d, out->sig, MC_SIG_BYTES);
        break;
    default:
        return mc_err_set(MC_ERR_INVALID, "type %u is not an identity transaction", type);
    }
    return mc_tx_payload_finish(&d, type);
}
