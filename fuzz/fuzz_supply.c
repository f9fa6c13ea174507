/* libFuzzer target: the supply chain payload decoders and handlers.
 *
 * Input: | u8 selector | u8 sender role | bytes |. The payload is checked by
 * mc_supply_payload_check (strict decoding) and then executed against an
 * in-memory state that holds one organisation of each trading kind, a
 * member of the chosen role and one commissioned pack, so handlers see
 * both empty and populated state. Any crash, sanitizer report or a handler
 * accepting a payload the strict checker refuses is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/supply.h"
#include "app/txtypes.h"
#include "base/codec.h"
#include "chain/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mc_store *store;
static struct mc_state *st;

static void setup(void) {
    mc_crypto_init();
    static const uint8_t hash_key[MC_STATE_HASH_KEY_BYTES];
    if (mc_store_open(&store, ":memory:", false) ||
        mc_state_create(&st, mc_store_kv(store), hash_key))
        abort();
    static const uint8_t kinds[] = {MC_ORG_MANUFACTURER, MC_ORG_DISTRIBUTOR, MC_ORG_PHARMACY,
                                    MC_ORG_REGULATOR};
    for (uint32_t i = 0; i < 4; i++) {
        struct mc_org o = {.id = i + 2, .kind = kinds[i]};
        snprintf(o.name, sizeof o.name, "org %u", i + 2);
        if (mc_identity_put_org(st, &o)) abort();
    }
    mc_state_tx_commit(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    if (!st) setup();
    uint16_t type = (uint16_t)(MC_TX_DRUG_COMMISSION + data[0] % 10);
    uint8_t role = (uint8_t)(1 + data[1] % MC_ROLE_MAX);
    const uint8_t *p = data + 2;
    size_t len = size - 2;
    if (len > mc_txtypes_payload_max(type)) return 0;
    int strict = mc_supply_payload_check(type, p, len);
    struct mc_tx tx = {.type = type, .payload = p, .payload_len = len, .nonce = 1};
    struct mc_exec ex = {.st = st, .chain_id = "fuzz", .height = 2, .time_ms = 1764201600000ULL,
                         .tx = &tx};
    ex.sender.role = role;
    ex.sender.status = MC_ACCOUNT_ACTIVE;
    ex.sender.org = role == MC_ROLE_MANUFACTURER ? 2 : role == MC_ROLE_DISTRIBUTOR ? 3
                    : role == MC_ROLE_REGULATOR ? 5 : 4;
    int rc = mc_supply_execute(&ex);
    /* A payload that is not canonical never executes. */
    if (rc == 0 && strict != 0) abort();
    /* Keep what committed, so later inputs meet populated state. */
    if (rc == 0) mc_state_tx_commit(st);
    else mc_state_tx_abort(st);
    /* Pure helpers on the same bytes. */
    uint64_t ms = 0;
    for (size_t i = 0; i < len && i < 8; i++) ms = ms << 8 | p[i];
    char iso[32];
    mc_supply_iso8601(iso, ms % 253402300800000ULL);
    char s[24];
    size_t n = len < 23 ? len : 23;
    memcpy(s, p, n);
    s[n] = 0;
    (void)mc_sscc_valid(s);
    (void)mc_supply_value_valid(s);
    return 0;
}
