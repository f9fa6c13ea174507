/* Governance payloads: encode and strictly decode (see governance_payload.h). */
#include "app/governance_payload.h"

#include <string.h>

#include "app/txtypes.h"

static const char *const kind_names[] = {NULL,           "add_org",          "suspend_org",
                                         "remove_org",   "reinstate_org",    "add_validator",
                                         "remove_validator", "set_power",    "set_param",
                                         "replace_admin", "upgrade",         "add_node"};
static const char *const param_names[] = {NULL, "block_txs", "block_bytes", "tx_bytes",
                                          "timeout_propose", "timeout_prevote",
                                          "timeout_precommit"};

const char *mc_gov_kind_name(uint8_t kind) {
    return kind >= 1 && kind <= MC_GOV_KIND_MAX ? kind_names[kind] : "unknown";
}

uint8_t mc_gov_kind_from_name(const char *name) {
    for (uint8_t i = 1; i <= MC_GOV_KIND_MAX; i++)
        if (strcmp(kind_names[i], name) == 0) return i;
    return 0;
}

const char *mc_gov_param_name(uint8_t param) {
    return param >= 1 && param <= MC_GOV_PARAM_MAX ? param_names[param] : "unknown";
}

uint8_t mc_gov_param_from_name(const char *name) {
    for (uint8_t i = 1; i <= MC_GOV_PARAM_MAX; i++)
        if (strcmp(param_names[i], name) == 0) return i;
    return 0;
}

static bool fits(const char *s, size_t size) { return strnlen(s, size) < size; }

void mc_gov_change_encode(struct mc_buf *b, const struct mc_gov_change *c) {
    if (!fits(c->name, MC_NAME_MAX) || !fits(c->gln, MC_GLN_MAX + 1) ||
        !fits(c->version, MC_GOV_VERSION_MAX + 1) ||
        (c->kind == MC_GOV_UPGRADE && !fits(c->name, MC_GOV_UPGRADE_NAME_MAX + 1))) {
        b->err = MC_ERR_TOO_LARGE;
        return;
    }
    mc_enc_u8(b, c->kind);
    switch (c->kind) {
    case MC_GOV_ADD_ORG:
        mc_enc_str8(b, c->name);
        mc_enc_u8(b, c->org_kind);
        mc_enc_str8(b, c->gln);
        mc_enc_fixed(b, c->key.b, MC_PUBKEY_BYTES);
        break;
    case MC_GOV_SUSPEND_ORG:
    case MC_GOV_REMOVE_ORG:
    case MC_GOV_REINSTATE_ORG: mc_enc_u32(b, c->org); break;
    case MC_GOV_ADD_VALIDATOR:
        mc_enc_u32(b, c->org);
        mc_enc_fixed(b, c->key.b, MC_PUBKEY_BYTES);
        mc_enc_u64(b, c->power);
        mc_enc_str8(b, c->name);
        break;
    case MC_GOV_REMOVE_VALIDATOR: mc_enc_fixed(b, c->key.b, MC_PUBKEY_BYTES); break;
    case MC_GOV_SET_POWER:
        mc_enc_fixed(b, c->key.b, MC_PUBKEY_BYTES);
        mc_enc_u64(b, c->power);
        break;
    case MC_GOV_SET_PARAM:
        mc_enc_u8(b, c->param);
        mc_enc_u64(b, c->value);
        break;
    case MC_GOV_REPLACE_ADMIN:
        mc_enc_u32(b, c->org);
        mc_enc_fixed(b, c->key.b, MC_PUBKEY_BYTES);
        break;
    case MC_GOV_UPGRADE:
        mc_enc_str8(b, c->name);
        mc_enc_str8(b, c->version);
        mc_enc_u64(b, c->height);
        break;
    case MC_GOV_ADD_NODE:
        mc_enc_u32(b, c->org);
        mc_enc_fixed(b, c->key.b, MC_PUBKEY_BYTES);
        mc_enc_str8(b, c->name);
        break;
    default: b->err = MC_ERR_INVALID;
    }
}

int mc_gov_change_decode_from(struct mc_dec *d, struct mc_gov_change *c) {
    memset(c, 0, sizeof *c);
    c->kind = mc_dec_u8(d);
    switch (c->kind) {
    case MC_GOV_ADD_ORG:
        mc_dec_str8(d, c->name, sizeof c->name);
        c->org_kind = mc_dec_u8(d);
        mc_dec_str8(d, c->gln, sizeof c->gln);
        mc_dec_fixed(d, c->key.b, MC_PUBKEY_BYTES);
        break;
    case MC_GOV_SUSPEND_ORG:
    case MC_GOV_REMOVE_ORG:
    case MC_GOV_REINSTATE_ORG: c->org = mc_dec_u32(d); break;
    case MC_GOV_ADD_VALIDATOR:
        c->org = mc_dec_u32(d);
        mc_dec_fixed(d, c->key.b, MC_PUBKEY_BYTES);
        c->power = mc_dec_u64(d);
        mc_dec_str8(d, c->name, sizeof c->name);
        break;
    case MC_GOV_REMOVE_VALIDATOR: mc_dec_fixed(d, c->key.b, MC_PUBKEY_BYTES); break;
    case MC_GOV_SET_POWER:
        mc_dec_fixed(d, c->key.b, MC_PUBKEY_BYTES);
        c->power = mc_dec_u64(d);
        break;
    case MC_GOV_SET_PARAM:
        c->param = mc_dec_u8(d);
        c->value = mc_dec_u64(d);
        break;
    case MC_GOV_REPLACE_ADMIN:
        c->org = mc_dec_u32(d);
        mc_dec_fixed(d, c->key.b, MC_PUBKEY_BYTES);
        break;
    case MC_GOV_UPGRADE:
        mc_dec_str8(d, c->name, MC_GOV_UPGRADE_NAME_MAX + 1);
        mc_dec_str8(d, c->version, sizeof c->version);
        c->height = mc_dec_u64(d);
        break;
    case MC_GOV_ADD_NODE:
        c->org = mc_dec_u32(d);
        mc_dec_fixed(d, c->key.b, MC_PUBKEY_BYTES);
        mc_dec_str8(d, c->name, sizeof c->name);
        break;
    default: mc_dec_fail(d, MC_ERR_INVALID);
    }
    return d->err;
}

int mc_gov_payload_encode(struct mc_buf *b, const struct mc_gov_payload *p) {
    switch (p->type) {
    case MC_TX_GOV_PROPOSE:
        mc_enc_u64(b, p->deadline);
        mc_enc_u64(b, p->activation);
        mc_gov_change_encode(b, &p->change);
        break;
    case MC_TX_GOV_VOTE:
        mc_enc_u64(b, p->proposal);
        mc_enc_bool(b, p->approve);
        break;
    case MC_TX_NODE_ROTATE:
        mc_enc_fixed(b, p->node.b, MC_PUBKEY_BYTES);
        mc_enc_fixed(b, p->new_key.b, MC_PUBKEY_BYTES);
        mc_enc_u64(b, p->at_height);
        mc_enc_fixed(b, p->sig, MC_SIG_BYTES);
        break;
    default: return b->err = MC_ERR_INVALID;
    }
    return b->err;
}

int mc_gov_payload_decode(struct mc_gov_payload *out, uint16_t type, const uint8_t *p, size_t n) {
    memset(out, 0, sizeof *out);
    out->type = type;
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    switch (type) {
    case MC_TX_GOV_PROPOSE:
        out->deadline = mc_dec_u64(&d);
        out->activation = mc_dec_u64(&d);
        (void)mc_gov_change_decode_from(&d, &out->change);
        break;
    case MC_TX_GOV_VOTE:
        out->proposal = mc_dec_u64(&d);
        out->approve = mc_dec_bool(&d);
        break;
    case MC_TX_NODE_ROTATE:
        mc_dec_fixed(&d, out->node.b, MC_PUBKEY_BYTES);
        mc_dec_fixed(&d, out->new_key.b, MC_PUBKEY_BYTES);
        out->at_height = mc_dec_u64(&d);
        mc_dec_fixed(&d, out->sig, MC_SIG_BYTES);
        break;
    default: return mc_err_set(MC_ERR_INVALID, "type %u is not a governance transaction", type);
    }
    return mc_tx_payload_finish(&d, type);
}
