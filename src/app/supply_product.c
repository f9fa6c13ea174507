/* Product master data (see supply_product.h). */
#include "app/supply_product.h"

#include <string.h>

#include "app/app.h"
#include "app/row.h"
#include "app/supply.h"
#include "app/txtypes.h"
#include "base/err.h"

/* Printable text: no control bytes (UTF-8 sequences pass). */
static bool text_ok(const char *s, size_t min, size_t max) {
    size_t n = strlen(s);
    if (n < min || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) return false;
    return true;
}

void mc_supply_product_encode(struct mc_buf *b, const struct mc_supply_product *p) {
    mc_enc_str8(b, p->gtin);
    mc_enc_str8(b, p->name);
    mc_enc_str8(b, p->strength);
    mc_enc_str8(b, p->form);
    mc_enc_u16(b, p->pack_size);
}

int mc_supply_product_decode(struct mc_supply_product *out, const uint8_t *p, size_t n) {
    memset(out, 0, sizeof *out);
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    mc_dec_str8(&d, out->gtin, sizeof out->gtin);
    mc_dec_str8(&d, out->name, sizeof out->name);
    mc_dec_str8(&d, out->strength, sizeof out->strength);
    mc_dec_str8(&d, out->form, sizeof out->form);
    out->pack_size = mc_dec_u16(&d);
    int rc = mc_tx_payload_finish(&d, MC_TX_DRUG_PRODUCT);
    if (rc) return rc;
    if (strlen(out->gtin) != MC_GS1_GTIN_LEN || strspn(out->gtin, "0123456789") != MC_GS1_GTIN_LEN ||
        !mc_gs1_check_digit_valid(out->gtin, MC_GS1_GTIN_LEN))
        return mc_err_set(MC_ERR_INVALID, "GTIN '%s' is not 14 digits with a valid check digit", out->gtin);
    if (!text_ok(out->name, 1, MC_PRODUCT_NAME_MAX))
        return mc_err_set(MC_ERR_INVALID, "a product name is 1 to %d printable characters", MC_PRODUCT_NAME_MAX);
    if (!text_ok(out->strength, 0, MC_PRODUCT_FIELD_MAX))
        return mc_err_set(MC_ERR_INVALID, "a strength is at most %d printable characters", MC_PRODUCT_FIELD_MAX);
    if (!text_ok(out->form, 1, MC_PRODUCT_FIELD_MAX))
        return mc_err_set(MC_ERR_INVALID, "a dosage form is 1 to %d printable characters", MC_PRODUCT_FIELD_MAX);
    if (out->pack_size == 0) return mc_err_set(MC_ERR_INVALID, "a pack holds at least 1 unit");
    return 0;
}

static void product_key(struct mc_key *k, const char *gtin) {
    mc_key_init(k, "s/p/");
    mc_key_add(k, gtin, MC_GS1_GTIN_LEN);
}

int mc_supply_get_product(struct mc_state *st, const char *gtin, struct mc_supply_product *out) {
    if (strlen(gtin) != MC_GS1_GTIN_LEN) return MC_ERR_NOT_FOUND;
    struct mc_key k;
    product_key(&k, gtin);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    memcpy(out->gtin, gtin, MC_GS1_GTIN_LEN + 1);
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    mc_dec_str8(&d, out->name, sizeof out->name);
    mc_dec_str8(&d, out->strength, sizeof out->strength);
    mc_dec_str8(&d, out->form, sizeof out->form);
    out->pack_size = mc_dec_u16(&d);
    out->org = mc_dec_u32(&d);
    out->height = mc_dec_u64(&d);
    mc_dec_fixed(&d, out->tx_id.b, MC_HASH_BYTES);
    return mc_row_finish(&d, &v, "product");
}

int mc_supply_product_execute(struct mc_exec *ex) {
    struct mc_supply_product p;
    int rc = mc_supply_product_decode(&p, ex->tx->payload, ex->tx->payload_len);
    if (rc) return rc;
    if (ex->sender.role != MC_ROLE_MANUFACTURER || ex->sender.org == 0)
        return mc_err_set(MC_ERR_FORBIDDEN, "only a manufacturer member registers products (sender is %s)",
                          mc_role_name(ex->sender.role));
    if ((rc = mc_supply_claim_gtin(ex->st, p.gtin, ex->sender.org))) return rc;
    struct mc_key k;
    product_key(&k, p.gtin);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_str8(&v, p.name);
    mc_enc_str8(&v, p.strength);
    mc_enc_str8(&v, p.form);
    mc_enc_u16(&v, p.pack_size);
    mc_enc_u32(&v, ex->sender.org);
    mc_enc_u64(&v, ex->height);
    mc_enc_fixed(&v, ex->tx_id.b, MC_HASH_BYTES);
    return mc_row_put(ex->st, &k, &v);
}
