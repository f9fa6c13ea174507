/* Encoders and strict structural decoders of the supply transactions
 * (types 20-29; layouts in app/supply.h), for the CLI, the API's scan
 * record, tests and benchmarks; the fuzz target fuzz_supply_payload checks
 * decode(encode(x)) == x. Items are validated as execution validates them
 * (a unit's GTIN and serial, a container's SSCC); everything else is
 * judged by execution. Pure functions, thread-safe. */
#ifndef MC_APP_SUPPLY_PAYLOAD_H
#define MC_APP_SUPPLY_PAYLOAD_H

#include <stdint.h>

#include "app/supply.h"
#include "base/codec.h"

/* Text fields hold anything a str8 carries, so a builder encodes what it
 * was given and execution judges it (with its own message); decoding
 * enforces the GS1 lengths. */
#define MC_SUPPLY_PAYLOAD_TEXT_MAX 255

struct mc_supply_payload_item {
    uint8_t kind;                        /* MC_SUPPLY_ITEM_* */
    char gtin[MC_GS1_GTIN_LEN + 1];      /* unit; "" for a container */
    char id[MC_SUPPLY_PAYLOAD_TEXT_MAX + 1]; /* serial, or SSCC */
};

/* Structural form of every supply payload (fields by type). Large: heap it. */
struct mc_supply_payload {
    uint16_t type;
    char gtin[MC_SUPPLY_PAYLOAD_TEXT_MAX + 1];   /* commission, dispense, decommission, recall, flag, scan */
    char lot[MC_SUPPLY_PAYLOAD_TEXT_MAX + 1];    /* commission, recall */
    char serial[MC_SUPPLY_PAYLOAD_TEXT_MAX + 1]; /* dispense, decommission, flag, scan */
    char sscc[MC_SUPPLY_PAYLOAD_TEXT_MAX + 1];   /* aggregate, disaggregate */
    uint32_t expiry;                     /* commission: YYYYMMDD */
    uint32_t to_org;                     /* ship */
    uint8_t code;                        /* decommission reason, flag, scan verdict */
    uint8_t status;                      /* scan: status seen */
    char reason[MC_SUPPLY_PAYLOAD_TEXT_MAX + 1]; /* recall, flag */
    uint16_t count;                      /* serials (commission) or items */
    char serials[MC_SUPPLY_SERIALS_PER_TX_MAX][MC_SUPPLY_PAYLOAD_TEXT_MAX + 1];
    struct mc_supply_payload_item items[MC_SUPPLY_ITEMS_PER_TX_MAX];
};

/* Canonical bytes of p (by p->type) appended to b. MC_ERR_INVALID for a
 * type that is not a supply type, MC_ERR_TOO_LARGE past a count bound
 * (b->err is set too). */
MC_MUST_CHECK int mc_supply_payload_encode(struct mc_buf *b, const struct mc_supply_payload *p);
/* Strict decode: MC_ERR_MALFORMED / MC_ERR_TOO_LARGE / MC_ERR_INVALID. */
MC_MUST_CHECK int mc_supply_payload_decode(struct mc_supply_payload *out, uint16_t type,
                                           const uint8_t *p, size_t n);

#endif
