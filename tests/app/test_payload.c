/* Transaction payload codecs of app/ (records_payload.h, supply_payload.h,
 * identity_payload.h): decode(encode(x)) == x for an example of every
 * type, the encoding is what the ledger's execution reads (a records
 * anchor built here is taken apart by mc_records_anchored_blobs; supply
 * payloads pass mc_supply_payload_check), and the decoders refuse what
 * is not canonical: trailing bytes, a truncated payload, a count past its
 * bound, another family's type. The records decoder also reports how far a
 * failed decode got, which the ledger's execution relies on. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "payload_examples.h"

#define COUNT(a) (sizeof a / sizeof a[0])

Test(payload, records_round_trip) {
    struct mc_records_payload *x = malloc(sizeof *x), *y = malloc(sizeof *y);
    cr_assert(x && y);
    for (size_t i = 0; i < COUNT(example_records_types); i++) {
        uint16_t t = example_records_types[i];
        example_records(x, t);
        struct mc_buf b;
        mc_buf_init(&b, 0);
        cr_assert_eq(mc_records_payload_encode(&b, x), 0, "type %u encodes", t);
        cr_assert_leq(b.len, mc_txtypes_payload_max(t), "type %u fits its maximum", t);
        cr_assert_eq(mc_records_payload_decode(y, t, b.data, b.len), 0, "type %u decodes: %s", t, mc_err_detail());
        /* Pointer fields point into different buffers: compare contents,
         * then the rest byte for byte. */
        cr_assert_eq(y->base_len, x->base_len);
        cr_assert_eq(y->sig_len, x->sig_len);
        if (x->base_len) cr_assert_arr_eq(y->base, x->base, x->base_len);
        if (x->sig_len) cr_assert_arr_eq(y->sig, x->sig, x->sig_len);
        y->base = x->base;
        y->sig = x->sig;
        cr_assert(memcmp(x, y, sizeof *x) == 0, "type %u: decode(encode(x)) == x", t);
        /* Broken on purpose: a trailing byte and a missing one. */
        mc_enc_u8(&b, 0);
        cr_assert_neq(mc_records_payload_decode(y, t, b.data, b.len), 0, "type %u: trailing byte", t);
        cr_assert_neq(mc_records_payload_decode(y, t, b.data, b.len - 2), 0, "type %u: truncated", t);
        mc_buf_deinit(&b);
    }
    free(x);
    free(y);
}

static void count_blob(void *ctx, const char *id, uint32_t version, const mc_hash *ct, uint32_t size) {
    (*(int *)ctx)++;
}

Test(payload, records_anchor_is_what_the_ledger_reads) {
    struct mc_records_payload *x = malloc(sizeof *x);
    example_records(x, MC_TX_RECORD_ANCHOR);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_records_payload_encode(&b, x), 0);
    int n = 0;
    cr_assert_eq(mc_records_anchored_blobs(b.data, b.len, count_blob, &n), 0);
    cr_assert_eq(n, x->count);
    mc_buf_deinit(&b);
    /* A count past the bound is refused by both sides. */
    x->count = MC_RECORDS_BATCH_MAX + 1;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_records_payload_encode(&b, x), MC_ERR_TOO_LARGE);
    mc_buf_deinit(&b);
    free(x);
}

Test(payload, supply_round_trip) {
    struct mc_supply_payload *x = malloc(sizeof *x), *y = malloc(sizeof *y);
    cr_assert(x && y);
    for (size_t i = 0; i < COUNT(example_supply_types); i++) {
        uint16_t t = example_supply_types[i];
        example_supply(x, t);
        struct mc_buf b;
        mc_buf_init(&b, 0);
        cr_assert_eq(mc_supply_payload_encode(&b, x), 0, "type %u encodes", t);
        cr_assert_eq(mc_supply_payload_check(t, b.data, b.len), 0, "type %u is canonical", t);
        cr_assert_eq(mc_supply_payload_decode(y, t, b.data, b.len), 0, "type %u decodes", t);
        cr_assert(memcmp(x, y, sizeof *x) == 0, "type %u: decode(encode(x)) == x", t);
        mc_enc_u8(&b, 0);
        cr_assert_neq(mc_supply_payload_decode(y, t, b.data, b.len), 0, "type %u: trailing byte", t);
        mc_buf_deinit(&b);
    }
    /* Broken on purpose: an item whose GTIN check digit is wrong. */
    example_supply(x, MC_TX_DRUG_RECEIVE);
    x->items[0].gtin[13] = x->items[0].gtin[13] == '9' ? '0' : (char)(x->items[0].gtin[13] + 1);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_supply_payload_encode(&b, x), 0, "builders encode what they are given");
    cr_assert_eq(mc_supply_payload_decode(y, MC_TX_DRUG_RECEIVE, b.data, b.len), MC_ERR_INVALID);
    mc_buf_deinit(&b);
    cr_assert_eq(mc_supply_payload_decode(y, MC_TX_RECORD_ERASE, (const uint8_t *)"", 0), MC_ERR_INVALID,
                 "not a supply type");
    free(x);
    free(y);
}

Test(payload, identity_round_trip) {
    struct mc_identity_payload x, y;
    for (size_t i = 0; i < COUNT(example_identity_types); i++) {
        uint16_t t = example_identity_types[i];
        example_identity(&x, t);
        struct mc_buf b;
        mc_buf_init(&b, 0);
        cr_assert_eq(mc_identity_payload_encode(&b, &x), 0, "type %u encodes", t);
        cr_assert_eq(mc_identity_payload_decode(&y, t, b.data, b.len), 0, "type %u decodes", t);
        cr_assert(memcmp(&x, &y, sizeof x) == 0, "type %u: decode(encode(x)) == x", t);
        cr_assert_neq(mc_identity_payload_decode(&y, t, b.data, b.len - 1), 0, "type %u: truncated", t);
        mc_buf_deinit(&b);
    }
    /* A name of MC_NAME_MAX bytes does not fit the account row. */
    example_identity(&x, MC_TX_ENROLL_MEMBER);
    memset(x.name, 'a', sizeof x.name);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_identity_payload_encode(&b, &x), MC_ERR_TOO_LARGE);
    mc_buf_deinit(&b);
}

/* The ledger's execution refuses a broken anchor, grant or erasure at the
 * point it always did (after judging the parts that decoded), so the
 * decoder must say how far it got: here a payload cut inside each list
 * item, one whose count is past its bound, and one cut in the fixed
 * fields. */
Test(payload, records_progress_says_how_far_decoding_got) {
    static const uint16_t listed[] = {MC_TX_RECORD_ANCHOR, MC_TX_RECORD_GRANT, MC_TX_RECORD_ERASE};
    struct mc_records_payload *x = malloc(sizeof *x), *y = malloc(sizeof *y);
    cr_assert(x && y);
    for (size_t i = 0; i < COUNT(listed); i++) {
        uint16_t t = listed[i];
        example_records(x, t);
        struct mc_buf b;
        mc_buf_init(&b, 0);
        cr_assert_eq(mc_records_payload_encode(&b, x), 0);
        struct mc_records_payload_progress pr;
        cr_assert_eq(mc_records_payload_decode_progress(y, t, b.data, b.len, &pr), 0);
        cr_assert(pr.head && pr.items == x->count, "type %u: whole", t);
        /* Every cut: the items before the cut are reported, never more. */
        uint16_t last = x->count;
        for (size_t cut = b.len; cut-- > 0;) {
            cr_assert_neq(mc_records_payload_decode_progress(y, t, b.data, cut, &pr), 0);
            cr_assert_leq(pr.items, last, "type %u cut %zu: items only shrink", t, cut);
            cr_assert_lt(pr.items, x->count, "type %u cut %zu: the cut item is not counted", t, cut);
            last = pr.items;
            if (!pr.head) cr_assert_eq(pr.items, 0);
        }
        cr_assert(!pr.head, "type %u: a cut before the count leaves the head undecoded", t);
        /* A count past its bound: the head decoded, no item did. */
        size_t at = t == MC_TX_RECORD_ERASE ? 0 : t == MC_TX_RECORD_GRANT ? 46 : b.len;
        if (t == MC_TX_RECORD_ANCHOR) {
            /* patient, author, bytes16 base, sig, two sealed keys */
            at = 64 + 2 + x->base_len + MC_SIG_BYTES + 2 * MC_SEALED_KEY_BYTES;
        }
        b.data[at] = 0xff;
        b.data[at + 1] = 0xff;
        cr_assert_eq(mc_records_payload_decode_progress(y, t, b.data, b.len, &pr), MC_ERR_TOO_LARGE);
        cr_assert(pr.head && pr.items == 0 && y->count == 0xffff, "type %u: count past bound", t);
        mc_buf_deinit(&b);
    }
    /* A signature of 1 to 63 bytes is structure the decoder passes on: the
     * ledger judges it (MC_ERR_INVALID after the sender's role). */
    example_records(x, MC_TX_RECORD_ACCESS);
    x->sig_len = 0;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_records_payload_encode(&b, x), 0);
    b.data[b.len - 1] = 10;
    for (int k = 0; k < 10; k++) mc_enc_u8(&b, 7);
    cr_assert_eq(mc_records_payload_decode(y, MC_TX_RECORD_ACCESS, b.data, b.len), 0);
    cr_assert_eq(y->sig_len, 10);
    mc_buf_deinit(&b);
    free(x);
    free(y);
}
