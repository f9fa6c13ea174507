/* libFuzzer target for the transaction payload codecs of app/: records
 * (types 50-55, records_payload.h), supply (20-29, supply_payload.h; 30,
 * supply_product.h),
 * identity (1-4, identity_payload.h), SMART (60-62, smart_payload.h) and
 * research (90-97, research.h).
 *
 * The first byte picks the type. Properties, per type: nothing crashes; a
 * payload x that decodes re-encodes to exactly the input bytes (one
 * canonical form); and decoding that encoding gives x again
 * (decode(encode(x)) == x, compared field by field through a second
 * encoding and, for the fixed-layout structures, byte for byte). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/identity_payload.h"
#include "app/records_payload.h"
#include "app/research.h"
#include "app/smart_payload.h"
#include "app/supply_payload.h"
#include "app/supply_product.h"
#include "app/txtypes.h"
#include "crypto/hash.h"

static void check(int ok, const char *what, uint16_t type) {
    if (!ok) {
        fprintf(stderr, "fuzz_payloads: property broken for type %u: %s\n", type, what);
        abort();
    }
}

static const uint16_t types[] = {
    MC_TX_ENROLL_MEMBER,     MC_TX_REVOKE_MEMBER,     MC_TX_REGISTER_PATIENT, MC_TX_ROTATE_KEY,
    MC_TX_RECORD_ANCHOR,     MC_TX_RECORD_ACCESS,     MC_TX_RECORD_GRANT,     MC_TX_RECORD_REVOKE,
    MC_TX_RECORD_ERASE,      MC_TX_RECORD_REVIEW,     MC_TX_DRUG_COMMISSION,  MC_TX_DRUG_AGGREGATE,
    MC_TX_DRUG_DISAGGREGATE, MC_TX_DRUG_SHIP,         MC_TX_DRUG_RECEIVE,     MC_TX_DRUG_DISPENSE,
    MC_TX_DRUG_DECOMMISSION, MC_TX_DRUG_RECALL,       MC_TX_DRUG_FLAG,        MC_TX_DRUG_SCAN,
    MC_TX_DRUG_PRODUCT,
    MC_TX_STUDY_REGISTER,    MC_TX_RESEARCH_CONSENT,  MC_TX_RESEARCH_QUERY,   MC_TX_TRIAL_ENROL,
    MC_TX_TRIAL_AMEND,       MC_TX_TRIAL_CLOSE,       MC_TX_TRIAL_LOCK,       MC_TX_TRIAL_RESULTS,
    MC_TX_SMART_CLIENT,      MC_TX_SMART_CLIENT_REVOKE, MC_TX_SMART_TOKEN,
};
#define TYPE_COUNT (sizeof types / sizeof types[0])

/* One codec family behind a common shape. */
struct family {
    size_t size;
    int (*decode)(void *out, uint16_t type, const uint8_t *p, size_t n);
    int (*encode)(struct mc_buf *b, const void *p);
    bool has_pointers; /* base/sig point into the decoded bytes */
};

static int rec_dec(void *o, uint16_t t, const uint8_t *p, size_t n) { return mc_records_payload_decode(o, t, p, n); }
static int rec_enc(struct mc_buf *b, const void *p) { return mc_records_payload_encode(b, p); }
static int sup_dec(void *o, uint16_t t, const uint8_t *p, size_t n) { return mc_supply_payload_decode(o, t, p, n); }
static int sup_enc(struct mc_buf *b, const void *p) { return mc_supply_payload_encode(b, p); }
static int prod_dec(void *o, uint16_t t, const uint8_t *p, size_t n) { return mc_supply_product_decode(o, p, n); }
static int prod_enc(struct mc_buf *b, const void *p) {
    mc_supply_product_encode(b, p);
    return b->err;
}
static int id_dec(void *o, uint16_t t, const uint8_t *p, size_t n) { return mc_identity_payload_decode(o, t, p, n); }
static int id_enc(struct mc_buf *b, const void *p) { return mc_identity_payload_encode(b, p); }
static int res_dec(void *o, uint16_t t, const uint8_t *p, size_t n) { return mc_research_decode(o, t, p, n); }
static int res_enc(struct mc_buf *b, const void *p) {
    mc_research_encode(b, p);
    return b->err;
}

static int smart_dec(void *o, uint16_t t, const uint8_t *p, size_t n) { return mc_smart_payload_decode(o, t, p, n); }
static int smart_enc(struct mc_buf *b, const void *p) { return mc_smart_payload_encode(b, p); }

static const struct family *family_of(uint16_t type) {
    static const struct family smart = {sizeof(struct mc_smart_payload), smart_dec, smart_enc, true};
    if (type >= MC_TX_SMART_CLIENT && type <= MC_TX_SMART_TOKEN) return &smart;
    static const struct family rec = {sizeof(struct mc_records_payload), rec_dec, rec_enc, true};
    static const struct family sup = {sizeof(struct mc_supply_payload), sup_dec, sup_enc, false};
    static const struct family ident = {sizeof(struct mc_identity_payload), id_dec, id_enc, false};
    static const struct family res = {sizeof(struct mc_research_payload), res_dec, res_enc, true};
    static const struct family prod = {sizeof(struct mc_supply_product), prod_dec, prod_enc, false};
    if (type == MC_TX_DRUG_PRODUCT) return &prod;
    if (type <= MC_TX_ROTATE_KEY) return &ident;
    if (type >= MC_TX_DRUG_COMMISSION && type <= MC_TX_DRUG_SCAN) return &sup;
    if (type >= MC_TX_RECORD_ANCHOR && type <= MC_TX_RECORD_REVIEW) return &rec;
    return &res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mc_crypto_init();
    if (size < 1 || size > 256 * 1024) return 0;
    uint16_t type = types[data[0] % TYPE_COUNT];
    const struct family *f = family_of(type);
    static void *x, *y;
    if (!x) {
        x = malloc(sizeof(struct mc_supply_payload) + sizeof(struct mc_records_payload) +
                   sizeof(struct mc_research_payload) + sizeof(struct mc_smart_payload));
        y = malloc(sizeof(struct mc_supply_payload) + sizeof(struct mc_records_payload) +
                   sizeof(struct mc_research_payload) + sizeof(struct mc_smart_payload));
        if (!x || !y) abort();
    }
    if (f->decode(x, type, data + 1, size - 1) != 0) return 0;
    struct mc_buf b1, b2;
    mc_buf_init(&b1, 0);
    mc_buf_init(&b2, 0);
    check(f->encode(&b1, x) == 0, "a decoded payload encodes", type);
    check(b1.len == size - 1 && memcmp(b1.data, data + 1, b1.len) == 0,
          "encode(decode(bytes)) == bytes", type);
    check(f->decode(y, type, b1.data, b1.len) == 0, "its encoding decodes", type);
    check(f->encode(&b2, y) == 0 && b2.len == b1.len && memcmp(b2.data, b1.data, b1.len) == 0,
          "decode(encode(x)) == x", type);
    if (!f->has_pointers) check(memcmp(x, y, f->size) == 0, "decode(encode(x)) == x, bytewise", type);
    mc_buf_deinit(&b1);
    mc_buf_deinit(&b2);
    return 0;
}
