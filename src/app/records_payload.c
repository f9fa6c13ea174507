/* Records payloads: encode and strictly decode (see records_payload.h and
 * the layouts in records.h). */
#include "app/records_payload.h"

#include <string.h>

#include "app/txtypes.h"

int mc_records_payload_encode(struct mc_buf *b, const struct mc_records_payload *p) {
    switch (p->type) {
    case MC_TX_RECORD_ANCHOR:
        if (p->count > MC_RECORDS_BATCH_MAX || p->base_len > MC_SIGBASE_MAX ||
            p->sig_len != MC_SIG_BYTES)
            return b->err = MC_ERR_TOO_LARGE;
        mc_enc_fixed(b, p->patient.b, 32);
        mc_enc_fixed(b, p->author.b, 32);
        mc_enc_bytes16(b, p->base, p->base_len);
        mc_enc_fixed(b, p->sig, MC_SIG_BYTES);
        mc_enc_fixed(b, p->sealed_patient, MC_SEALED_KEY_BYTES);
        mc_enc_fixed(b, p->sealed_node, MC_SEALED_KEY_BYTES);
        mc_enc_u16(b, p->count);
        for (uint16_t i = 0; i < p->count; i++) {
            const struct mc_records_anchor_entry *e = &p->entries[i];
            mc_enc_str8(b, e->id);
            mc_enc_u16(b, e->type);
            mc_enc_u32(b, e->version);
            mc_enc_fixed(b, e->ciphertext.b, 32);
            mc_enc_u32(b, e->size);
        }
        break;
    case MC_TX_RECORD_ACCESS:
        if (p->base_len > MC_SIGBASE_MAX || (p->sig_len != 0 && p->sig_len != MC_SIG_BYTES))
            return b->err = MC_ERR_TOO_LARGE;
        mc_enc_fixed(b, p->patient.b, 32);
        mc_enc_str8(b, p->id);
        mc_enc_u32(b, p->version);
        mc_enc_fixed(b, p->requester.b, 32);
        mc_enc_u8(b, p->action);
        mc_enc_u8(b, p->purpose);
        mc_enc_u8(b, p->outcome);
        mc_enc_u16(b, p->status);
        mc_enc_str16(b, p->reason);
        mc_enc_bytes16(b, p->base, p->base_len);
        mc_enc_bytes8(b, p->sig, p->sig_len);
        break;
    case MC_TX_RECORD_GRANT:
        if (p->count > MC_GRANT_TX_KEYS_MAX) return b->err = MC_ERR_TOO_LARGE;
        mc_enc_u8(b, p->kind);
        mc_enc_fixed(b, p->member.b, 32);
        mc_enc_u32(b, p->org);
        mc_enc_u8(b, p->categories);
        mc_enc_u64(b, p->expiry_ms);
        mc_enc_u16(b, p->count);
        for (uint16_t i = 0; i < p->count; i++) {
            mc_enc_str8(b, p->keys[i].id);
            mc_enc_u32(b, p->keys[i].version);
            mc_enc_fixed(b, p->keys[i].to.b, 32);
            mc_enc_fixed(b, p->keys[i].sealed, MC_SEALED_KEY_BYTES);
        }
        break;
    case MC_TX_RECORD_REVOKE:
        mc_enc_fixed(b, p->ref.b, 32);
        break;
    case MC_TX_RECORD_ERASE:
        if (p->count > MC_RECORDS_BATCH_MAX) return b->err = MC_ERR_TOO_LARGE;
        mc_enc_u16(b, p->count);
        for (uint16_t i = 0; i < p->count; i++) mc_enc_str8(b, p->erase_ids[i]);
        break;
    case MC_TX_RECORD_REVIEW:
        mc_enc_fixed(b, p->ref.b, 32);
        mc_enc_str8(b, p->reason);
        break;
    default:
        return b->err = MC_ERR_INVALID;
    }
    return b->err;
}

int mc_records_payload_decode(struct mc_records_payload *out, uint16_t type, const uint8_t *p,
                              size_t n) {
    struct mc_records_payload_progress pr;
    return mc_records_payload_decode_progress(out, type, p, n, &pr);
}

int mc_records_payload_decode_progress(struct mc_records_payload *out, uint16_t type,
                                       const uint8_t *p, size_t n,
                                       struct mc_records_payload_progress *pr) {
    memset(out, 0, sizeof *out);
    pr->head = false;
    pr->items = 0;
    out->type = type;
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    switch (type) {
    case MC_TX_RECORD_ANCHOR:
        mc_dec_fixed(&d, out->patient.b, 32);
        mc_dec_fixed(&d, out->author.b, 32);
        out->base = mc_dec_bytes16(&d, &out->base_len, MC_SIGBASE_MAX);
        out->sig = d.err ? NULL : d.p + d.pos;
        out->sig_len = MC_SIG_BYTES;
        uint8_t skip[MC_SIG_BYTES];
        mc_dec_fixed(&d, skip, sizeof skip);
        mc_dec_fixed(&d, out->sealed_patient, MC_SEALED_KEY_BYTES);
        mc_dec_fixed(&d, out->sealed_node, MC_SEALED_KEY_BYTES);
        out->count = mc_dec_u16(&d);
        pr->head = !d.err;
        if (out->count > MC_RECORDS_BATCH_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
        for (uint16_t i = 0; i < out->count && !d.err; i++) {
            struct mc_records_anchor_entry *e = &out->entries[i];
            mc_dec_str8(&d, e->id, sizeof e->id);
            e->type = mc_dec_u16(&d);
            e->version = mc_dec_u32(&d);
            mc_dec_fixed(&d, e->ciphertext.b, 32);
            e->size = mc_dec_u32(&d);
            if (!d.err) pr->items = (uint16_t)(i + 1);
        }
        break;
    case MC_TX_RECORD_ACCESS:
        mc_dec_fixed(&d, out->patient.b, 32);
        mc_dec_str8(&d, out->id, sizeof out->id);
        out->version = mc_dec_u32(&d);
        mc_dec_fixed(&d, out->requester.b, 32);
        out->action = mc_dec_u8(&d);
        out->purpose = mc_dec_u8(&d);
        out->outcome = mc_dec_u8(&d);
        out->status = mc_dec_u16(&d);
        mc_dec_str16(&d, out->reason, sizeof out->reason);
        out->base = mc_dec_bytes16(&d, &out->base_len, MC_SIGBASE_MAX);
        /* 0 to 64 bytes; that it is 0 or 64 is a rule execution judges
         * (MC_ERR_INVALID, after the sender's role). */
        out->sig = mc_dec_bytes8(&d, &out->sig_len, MC_SIG_BYTES);
        break;
    case MC_TX_RECORD_GRANT:
        out->kind = mc_dec_u8(&d);
        mc_dec_fixed(&d, out->member.b, 32);
        out->org = mc_dec_u32(&d);
        out->categories = mc_dec_u8(&d);
        out->expiry_ms = mc_dec_u64(&d);
        out->count = mc_dec_u16(&d);
        pr->head = !d.err;
        if (out->count > MC_GRANT_TX_KEYS_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
        for (uint16_t i = 0; i < out->count && !d.err; i++) {
            mc_dec_str8(&d, out->keys[i].id, sizeof out->keys[i].id);
            out->keys[i].version = mc_dec_u32(&d);
            mc_dec_fixed(&d, out->keys[i].to.b, 32);
            mc_dec_fixed(&d, out->keys[i].sealed, MC_SEALED_KEY_BYTES);
            if (!d.err) pr->items = (uint16_t)(i + 1);
        }
        break;
    case MC_TX_RECORD_REVOKE:
        mc_dec_fixed(&d, out->ref.b, 32);
        break;
    case MC_TX_RECORD_ERASE:
        out->count = mc_dec_u16(&d);
        pr->head = !d.err;
        if (out->count > MC_RECORDS_BATCH_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
        for (uint16_t i = 0; i < out->count && !d.err; i++) {
            mc_dec_str8(&d, out->erase_ids[i], sizeof out->erase_ids[i]);
            if (!d.err) pr->items = (uint16_t)(i + 1);
        }
        break;
    case MC_TX_RECORD_REVIEW:
        mc_dec_fixed(&d, out->ref.b, 32);
        mc_dec_str8(&d, out->reason, sizeof out->reason);
        break;
    default:
        return mc_err_set(MC_ERR_INVALID, "type %u is not a records transaction", type);
    }
    return mc_tx_payload_finish(&d, type);
}
