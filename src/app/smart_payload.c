/* The SMART transaction codec (see smart_payload.h). */
#include "app/smart_payload.h"

#include <string.h>

#include "app/txtypes.h"

int mc_smart_payload_encode(struct mc_buf *b, const struct mc_smart_payload *p) {
    if (strlen(p->client) > MC_SMART_CLIENT_ID_MAX) return mc_err_set(MC_ERR_TOO_LARGE, "client id too long");
    switch (p->type) {
    case MC_TX_SMART_CLIENT:
        if (p->key_len > 255 || strlen(p->name) > MC_SMART_CLIENT_NAME_MAX)
            return mc_err_set(MC_ERR_TOO_LARGE, "client key or name too long");
        mc_enc_str8(b, p->client);
        mc_enc_u8(b, p->alg);
        mc_enc_bytes8(b, p->key, p->key_len);
        mc_enc_str8(b, p->name);
        break;
    case MC_TX_SMART_CLIENT_REVOKE:
        mc_enc_str8(b, p->client);
        break;
    case MC_TX_SMART_TOKEN:
        if (p->assertion_len > MC_SMART_ASSERTION_MAX || strlen(p->scope) > MC_SMART_SCOPE_MAX)
            return mc_err_set(MC_ERR_TOO_LARGE, "client assertion or scope too long");
        mc_enc_str8(b, p->client);
        mc_enc_bytes16(b, p->assertion, p->assertion_len);
        mc_enc_str16(b, p->scope);
        mc_enc_u64(b, p->expiry_ms);
        break;
    default:
        return mc_err_set(MC_ERR_INVALID, "not a SMART transaction type");
    }
    return b->err;
}

int mc_smart_payload_decode(struct mc_smart_payload *out, uint16_t type, const uint8_t *p, size_t n) {
    memset(out, 0, sizeof *out);
    out->type = type;
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    switch (type) {
    case MC_TX_SMART_CLIENT:
        mc_dec_str8(&d, out->client, sizeof out->client);
        out->alg = mc_dec_u8(&d);
        out->key = mc_dec_bytes8(&d, &out->key_len, 255);
        mc_dec_str8(&d, out->name, sizeof out->name);
        break;
    case MC_TX_SMART_CLIENT_REVOKE:
        mc_dec_str8(&d, out->client, sizeof out->client);
        break;
    case MC_TX_SMART_TOKEN:
        mc_dec_str8(&d, out->client, sizeof out->client);
        out->assertion = mc_dec_bytes16(&d, &out->assertion_len, MC_SMART_ASSERTION_MAX);
        mc_dec_str16(&d, out->scope, sizeof out->scope);
        out->expiry_ms = mc_dec_u64(&d);
        break;
    default:
        return mc_err_set(MC_ERR_INVALID, "not a SMART transaction type");
    }
    return mc_tx_payload_finish(&d, type);
}
