/* Supply payloads: encode and strictly decode (see supply_payload.h and the
 * layouts in supply.h). */
#include "app/supply_payload.h"

#include <string.h>

#include "app/txtypes.h"

int mc_supply_payload_encode(struct mc_buf *b, const struct mc_supply_payload *p) {
    switch (p->type) {
    case MC_TX_DRUG_COMMISSION:
        if (p->count > MC_SUPPLY_SERIALS_PER_TX_MAX) return b->err = MC_ERR_TOO_LARGE;
        mc_enc_str8(b, p->gtin);
        mc_enc_str8(b, p->lot);
        mc_enc_u32(b, p->expiry);
        mc_enc_u16(b, p->count);
        for (uint16_t i = 0; i < p->count; i++) mc_enc_str8(b, p->serials[i]);
        break;
    case MC_TX_DRUG_AGGREGATE:
    case MC_TX_DRUG_SHIP:
    case MC_TX_DRUG_RECEIVE:
        if (p->count > MC_SUPPLY_ITEMS_PER_TX_MAX) return b->err = MC_ERR_TOO_LARGE;
        if (p->type == MC_TX_DRUG_AGGREGATE) mc_enc_str8(b, p->sscc);
        if (p->type == MC_TX_DRUG_SHIP) mc_enc_u32(b, p->to_org);
        mc_enc_u16(b, p->count);
        for (uint16_t i = 0; i < p->count; i++)
            mc_supply_encode_item(b, p->items[i].kind, p->items[i].gtin, p->items[i].id);
        break;
    case MC_TX_DRUG_DISAGGREGATE:
        mc_enc_str8(b, p->sscc);
        break;
    case MC_TX_DRUG_DECOMMISSION:
        mc_enc_u8(b, p->code);
        /* fall through */
    case MC_TX_DRUG_DISPENSE:
        mc_enc_str8(b, p->gtin);
        mc_enc_str8(b, p->serial);
        break;
    case MC_TX_DRUG_RECALL:
        mc_enc_str8(b, p->gtin);
        mc_enc_str8(b, p->lot);
        mc_enc_str8(b, p->reason);
        break;
    case MC_TX_DRUG_FLAG:
        mc_enc_str8(b, p->gtin);
        mc_enc_str8(b, p->serial);
        mc_enc_u8(b, p->code);
        mc_enc_str8(b, p->reason);
        break;
    case MC_TX_DRUG_SCAN:
        mc_enc_str8(b, p->gtin);
        mc_enc_str8(b, p->serial);
        mc_enc_u8(b, p->code);
        mc_enc_u8(b, p->status);
        break;
    default:
        return b->err = MC_ERR_INVALID;
    }
    return b->err;
}

static void item_decode(struct mc_dec *d, struct mc_supply_payload_item *it) {
    it->kind = mc_dec_u8(d);
    mc_dec_str8(d, it->gtin, sizeof it->gtin);
    mc_dec_str8(d, it->id, MC_GS1_VALUE_MAX + 1);
    if (d->err) return;
    bool ok = it->kind == MC_SUPPLY_ITEM_UNIT
                  ? strlen(it->gtin) == MC_GS1_GTIN_LEN &&
                        strspn(it->gtin, "0123456789") == MC_GS1_GTIN_LEN &&
                        mc_gs1_check_digit_valid(it->gtin, MC_GS1_GTIN_LEN) &&
                        mc_supply_value_valid(it->id)
                  : it->kind == MC_SUPPLY_ITEM_CONTAINER && it->gtin[0] == 0 && mc_sscc_valid(it->id);
    if (!ok) mc_dec_fail(d, MC_ERR_INVALID);
}

int mc_supply_payload_decode(struct mc_supply_payload *out, uint16_t type, const uint8_t *p,
                             size_t n) {
    memset(out, 0, sizeof *out);
    out->type = type;
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    switch (type) {
    case MC_TX_DRUG_COMMISSION:
        mc_dec_str8(&d, out->gtin, MC_GS1_GTIN_LEN + 1);
        mc_dec_str8(&d, out->lot, MC_GS1_VALUE_MAX + 1);
        out->expiry = mc_dec_u32(&d);
        out->count = mc_dec_u16(&d);
        if (out->count > MC_SUPPLY_SERIALS_PER_TX_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
        for (uint16_t i = 0; i < out->count && !d.err; i++)
            mc_dec_str8(&d, out->serials[i], MC_GS1_VALUE_MAX + 1);
        break;
    case MC_TX_DRUG_AGGREGATE:
    case MC_TX_DRUG_SHIP:
    case MC_TX_DRUG_RECEIVE:
        if (type == MC_TX_DRUG_AGGREGATE) mc_dec_str8(&d, out->sscc, MC_SSCC_LEN + 1);
        if (type == MC_TX_DRUG_SHIP) out->to_org = mc_dec_u32(&d);
        out->count = mc_dec_u16(&d);
        if (out->count > MC_SUPPLY_ITEMS_PER_TX_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
        for (uint16_t i = 0; i < out->count && !d.err; i++) item_decode(&d, &out->items[i]);
        break;
    case MC_TX_DRUG_DISAGGREGATE:
        mc_dec_str8(&d, out->sscc, MC_SSCC_LEN + 1);
        break;
    case MC_TX_DRUG_DECOMMISSION:
        out->code = mc_dec_u8(&d);
        /* fall through */
    case MC_TX_DRUG_DISPENSE:
        mc_dec_str8(&d, out->gtin, MC_GS1_GTIN_LEN + 1);
        mc_dec_str8(&d, out->serial, MC_GS1_VALUE_MAX + 1);
        break;
    case MC_TX_DRUG_RECALL:
        mc_dec_str8(&d, out->gtin, MC_GS1_GTIN_LEN + 1);
        mc_dec_str8(&d, out->lot, MC_GS1_VALUE_MAX + 1);
        mc_dec_str8(&d, out->reason, MC_SUPPLY_REASON_MAX + 1);
        break;
    case MC_TX_DRUG_FLAG:
        mc_dec_str8(&d, out->gtin, MC_GS1_GTIN_LEN + 1);
        mc_dec_str8(&d, out->serial, MC_GS1_VALUE_MAX + 1);
        out->code = mc_dec_u8(&d);
        mc_dec_str8(&d, out->reason, MC_SUPPLY_REASON_MAX + 1);
        break;
    case MC_TX_DRUG_SCAN:
        mc_dec_str8(&d, out->gtin, MC_GS1_GTIN_LEN + 1);
        mc_dec_str8(&d, out->serial, MC_GS1_VALUE_MAX + 1);
        out->code = mc_dec_u8(&d);
        out->status = mc_dec_u8(&d);
        break;
    default:
        return mc_err_set(MC_ERR_INVALID, "type %u is not a supply transaction", type);
    }
    return mc_tx_payload_finish(&d, type);
}
