/* Product master data: what a GTIN is, registered on the ledger by its
 * manufacturer, so every verdict can say "Salbutamol 100 microgram,
 * pressurised inhalation, 200 doses" instead of a bare number.
 *
 *   drug_product (30, manufacturer member)
 *     | str8 gtin | str8 name | str8 strength | str8 form | u16 pack size |
 *
 *   name 1..MC_PRODUCT_NAME_MAX bytes, strength 0..MC_PRODUCT_FIELD_MAX
 *   (empty: none, e.g. a device), form 1..MC_PRODUCT_FIELD_MAX, pack size
 *   1..65535 units; texts of printable characters (no control bytes, UTF-8
 *   allowed). The sender's organisation must own the GTIN (the first to
 *   commission or register it owns it, app/supply.h "s/g/"); registering
 *   an unowned GTIN claims it. A later registration by the owner replaces
 *   the record (a corrected name), keeping the height of each change.
 *
 * State: "s/p/" gtin14 -> | str8 name | str8 strength | str8 form |
 *                          | u16 pack size | u32 org | u64 height | hash tx id |
 *
 * Deterministic: no clock, nothing unordered. */
#ifndef MC_APP_SUPPLY_PRODUCT_H
#define MC_APP_SUPPLY_PRODUCT_H

#include <stdint.h>

#include "app/gs1.h"
#include "app/state.h"
#include "base/codec.h"
#include "crypto/hash.h"

#define MC_PRODUCT_NAME_MAX 64
#define MC_PRODUCT_FIELD_MAX 32

struct mc_supply_product {
    char gtin[MC_GS1_GTIN_LEN + 1];
    char name[MC_PRODUCT_NAME_MAX + 1];
    char strength[MC_PRODUCT_FIELD_MAX + 1];
    char form[MC_PRODUCT_FIELD_MAX + 1];
    uint16_t pack_size;
    uint32_t org;
    uint64_t height;
    mc_hash tx_id;
};

/* The payload of a drug_product transaction (gtin, name, strength, form,
 * pack_size of p) appended to b. */
void mc_supply_product_encode(struct mc_buf *b, const struct mc_supply_product *p);
/* Strict decode of a payload into out (gtin, name, strength, form,
 * pack_size): MC_ERR_MALFORMED, or MC_ERR_INVALID naming the field. */
MC_MUST_CHECK int mc_supply_product_decode(struct mc_supply_product *out, const uint8_t *p, size_t n);

/* The product registered for a GTIN; MC_ERR_NOT_FOUND when none. */
MC_MUST_CHECK int mc_supply_get_product(struct mc_state *st, const char *gtin, struct mc_supply_product *out);

struct mc_exec;
/* Executes drug_product. See app.h for the contract. */
MC_MUST_CHECK int mc_supply_product_execute(struct mc_exec *ex);

#endif
