/* Canonical codec and hex: round trips, and the strict decoder's refusals
 * (truncation, trailing bytes, lengths over the caller's bound, booleans
 * other than 0/1, embedded NUL, strings that do not fit). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/hex.h"

static void encode_sample(struct mc_buf *b) {
    mc_enc_u8(b, 0xab);
    mc_enc_u16(b, 0xbeef);
    mc_enc_u32(b, 0xdeadbeef);
    mc_enc_u64(b, 0x0123456789abcdefULL);
    mc_enc_bool(b, true);
    mc_enc_bool(b, false);
    mc_enc_fixed(b, "FIX", 3);
    mc_enc_bytes8(b, "a", 1);
    mc_enc_bytes16(b, "bc", 2);
    mc_enc_bytes32(b, "def", 3);
    mc_enc_str8(b, "hello");
    mc_enc_str16(b, "");
}

/* Decodes the sample; returns mc_dec_finish's result. */
static int decode_sample(const uint8_t *p, size_t len, bool check) {
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    uint8_t u8 = mc_dec_u8(&d);
    uint16_t u16 = mc_dec_u16(&d);
    uint32_t u32 = mc_dec_u32(&d);
    uint64_t u64 = mc_dec_u64(&d);
    bool t = mc_dec_bool(&d), f = mc_dec_bool(&d);
    char fix[3];
    mc_dec_fixed(&d, fix, 3);
    size_t n1, n2, n3;
    const uint8_t *b1 = mc_dec_bytes8(&d, &n1, 16);
    const uint8_t *b2 = mc_dec_bytes16(&d, &n2, 16);
    const uint8_t *b3 = mc_dec_bytes32(&d, &n3, 16);
    char s1[16], s2[16];
    mc_dec_str8(&d, s1, sizeof s1);
    mc_dec_str16(&d, s2, sizeof s2);
    int rc = mc_dec_finish(&d);
    if (check) {
        cr_assert_eq(rc, 0);
        cr_assert_eq(u8, 0xab);
        cr_assert_eq(u16, 0xbeef);
        cr_assert_eq(u32, 0xdeadbeef);
        cr_assert_eq(u64, 0x0123456789abcdefULL);
        cr_assert(t && !f);
        cr_assert_eq(memcmp(fix, "FIX", 3), 0);
        cr_assert(n1 == 1 && memcmp(b1, "a", 1) == 0);
        cr_assert(n2 == 2 && memcmp(b2, "bc", 2) == 0);
        cr_assert(n3 == 3 && memcmp(b3, "def", 3) == 0);
        cr_assert_str_eq(s1, "hello");
        cr_assert_str_eq(s2, "");
    }
    return rc;
}

Test(codec, round_trip_and_big_endian) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    encode_sample(&b);
    cr_assert_eq(b.err, 0);
    static const uint8_t head[] = {0xab, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x23,
                                   0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x00};
    cr_assert_eq(memcmp(b.data, head, sizeof head), 0);
    cr_assert_eq(b.len, sizeof head + 3 + (1 + 1) + (2 + 2) + (4 + 3) + (1 + 5) + 2);
    cr_assert_eq(decode_sample(b.data, b.len, true), 0);
    mc_buf_deinit(&b);
}

Test(codec, rejects_truncation_and_trailing_bytes) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    encode_sample(&b);
    for (size_t cut = 0; cut < b.len; cut++)
        cr_assert_eq(decode_sample(b.data, cut, false), MC_ERR_MALFORMED, "cut at %zu", cut);
    mc_enc_u8(&b, 0);
    cr_assert_eq(decode_sample(b.data, b.len, false), MC_ERR_MALFORMED);
    mc_buf_deinit(&b);
}

Test(codec, integer_edges) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_enc_u16(&b, 0);
    mc_enc_u16(&b, UINT16_MAX);
    mc_enc_u32(&b, UINT32_MAX);
    mc_enc_u64(&b, UINT64_MAX);
    mc_enc_u64(&b, 0);
    struct mc_dec d;
    mc_dec_init(&d, b.data, b.len);
    cr_assert_eq(mc_dec_u16(&d), 0);
    cr_assert_eq(mc_dec_u16(&d), UINT16_MAX);
    cr_assert_eq(mc_dec_u32(&d), UINT32_MAX);
    cr_assert_eq(mc_dec_u64(&d), UINT64_MAX);
    cr_assert_eq(mc_dec_u64(&d), 0);
    cr_assert_eq(mc_dec_finish(&d), 0);
    mc_buf_deinit(&b);
}

Test(codec, length_prefix_over_max) {
    static const uint8_t b8[] = {5, 'a', 'b', 'c', 'd', 'e'};
    static const uint8_t b16[] = {0, 5, 'a', 'b', 'c', 'd', 'e'};
    static const uint8_t b32[] = {0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e'};
    struct mc_dec d;
    size_t n;
    /* Exactly at the bound is fine; one over is TOO_LARGE, not truncation. */
    mc_dec_init(&d, b8, sizeof b8);
    cr_assert_not_null(mc_dec_bytes8(&d, &n, 5));
    cr_assert_eq(mc_dec_finish(&d), 0);
    mc_dec_init(&d, b8, sizeof b8);
    cr_assert_null(mc_dec_bytes8(&d, &n, 4));
    cr_assert_eq(n, 0);
    cr_assert_eq(mc_dec_finish(&d), MC_ERR_TOO_LARGE);
    mc_dec_init(&d, b16, sizeof b16);
    cr_assert_null(mc_dec_bytes16(&d, &n, 4));
    cr_assert_eq(mc_dec_finish(&d), MC_ERR_TOO_LARGE);
    mc_dec_init(&d, b32, sizeof b32);
    cr_assert_null(mc_dec_bytes32(&d, &n, 4));
    cr_assert_eq(mc_dec_finish(&d), MC_ERR_TOO_LARGE);
    /* A huge declared length with few bytes behind it: over the max. */
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 'x'};
    mc_dec_init(&d, huge, sizeof huge);
    cr_assert_null(mc_dec_bytes32(&d, &n, 1024));
    cr_assert_eq(mc_dec_finish(&d), MC_ERR_TOO_LARGE);
    /* Within the max but beyond the input: truncation. */
    mc_dec_init(&d, huge, sizeof huge);
    cr_assert_null(mc_dec_bytes32(&d, &n, UINT32_MAX));
    cr_assert_eq(mc_dec_finish(&d), MC_ERR_MALFORMED);
    /* Strings: the bound is the output buffer. */
    static const uint8_t s[] = {6, 'a', 'b', 'c', 'd', 'e', 'f'};
    char out[6];
    mc_dec_init(&d, s, sizeof s);
    mc_dec_str8(&d, out, sizeof out);
    cr_assert_eq(mc_dec_finish(&d), MC_ERR_TOO_LARGE);
    cr_assert_str_eq(out, "");
    char out7[7];
    mc_dec_init(&d, s, sizeof s);
    mc_dec_str8(&d, out7, sizeof out7);
    cr_assert_eq(mc_dec_finish(&d), 0);
    cr_assert_str_eq(out7, "abcdef");
}

Test(codec, bool_only_zero_or_one) {
    for (int v = 0; v < 256; v++) {
        uint8_t byte = (uint8_t)v;
        struct mc_dec d;
        mc_dec_init(&d, &byte, 1);
        bool got = mc_dec_bool(&d);
        int rc = mc_dec_finish(&d);
        if (v <= 1) {
            cr_assert_eq(rc, 0);
            cr_assert_eq(got, v == 1);
        } else {
            cr_assert_eq(rc, MC_ERR_MALFORMED, "bool byte %d accepted", v);
        }
    }
}

Test(codec, string_rejects_embedded_nul) {
    static const uint8_t s8[] = {3, 'a', 0, 'b'};
    static const uint8_t s16[] = {0, 3, 'a', 'b', 0};
    char out[16];
    struct mc_dec d;
    mc_dec_init(&d, s8, sizeof s8);
    mc_dec_str8(&d, out, sizeof out);
    cr_assert_eq(mc_dec_finish(&d), MC_ERR_MALFORMED);
    mc_dec_init(&d, s16, sizeof s16);
    mc_dec_str16(&d, out, sizeof out);
    cr_assert_eq(mc_dec_finish(&d), MC_ERR_MALFORMED);
}

Test(codec, sticky_errors) {
    /* After the first failure nothing more is consumed or reported. */
    static const uint8_t p[] = {7, 1, 2};
    struct mc_dec d;
    mc_dec_init(&d, p, sizeof p);
    (void)mc_dec_bool(&d); /* 7: malformed */
    cr_assert_eq(mc_dec_u8(&d), 0);
    cr_assert_eq(mc_dec_u8(&d), 0);
    mc_dec_fail(&d, MC_ERR_INVALID);
    cr_assert_eq(mc_dec_finish(&d), MC_ERR_MALFORMED);

    struct mc_buf b;
    mc_buf_init(&b, 4);
    mc_enc_u32(&b, 1);
    cr_assert_eq(b.err, 0);
    mc_enc_u8(&b, 1);
    cr_assert_eq(b.err, MC_ERR_TOO_LARGE);
    cr_assert_eq(b.len, 4);
    mc_enc_u8(&b, 1);
    cr_assert_eq(b.len, 4);
    mc_buf_deinit(&b);
}

Test(codec, encoder_rejects_overlong_fields) {
    static uint8_t big[70000];
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_enc_bytes8(&b, big, 256);
    cr_assert_eq(b.err, MC_ERR_TOO_LARGE);
    mc_buf_deinit(&b);
    mc_buf_init(&b, 0);
    mc_enc_bytes8(&b, big, 255);
    cr_assert_eq(b.err, 0);
    mc_enc_bytes16(&b, big, 65536);
    cr_assert_eq(b.err, MC_ERR_TOO_LARGE);
    mc_buf_deinit(&b);
}

Test(codec, buf_take_and_printf) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_buf_printf(&b, "%s-%d", "block", 42);
    size_t len;
    uint8_t *p = mc_buf_take(&b, &len);
    cr_assert_not_null(p);
    cr_assert_eq(len, 8);
    cr_assert_str_eq((char *)p, "block-42");
    cr_assert_null(b.data);
    free(p);
}

Test(hex, round_trip) {
    uint8_t all[256], back[256];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    char hex[513];
    mc_hex_encode(hex, all, sizeof all);
    cr_assert_eq(strlen(hex), 512);
    cr_assert_eq(strncmp(hex, "000102", 6), 0);
    cr_assert_eq(strcmp(hex + 506, "fdfeff"), 0);
    cr_assert_eq(mc_hex_decode(back, sizeof back, hex), 0);
    cr_assert_eq(memcmp(all, back, sizeof all), 0);
    uint8_t two[2];
    cr_assert_eq(mc_hex_decode(two, 2, "ABcd"), 0, "upper case accepted");
    cr_assert(two[0] == 0xab && two[1] == 0xcd);
    char empty[1];
    mc_hex_encode(empty, "", 0);
    cr_assert_str_eq(empty, "");
}

Test(hex, rejects_bad_input) {
    uint8_t out[4];
    size_t n;
    cr_assert_eq(mc_hex_decode(out, 2, "abc"), MC_ERR_MALFORMED);      /* odd */
    cr_assert_eq(mc_hex_decode(out, 2, "abcdef"), MC_ERR_MALFORMED);   /* too long */
    cr_assert_eq(mc_hex_decode(out, 2, "ab"), MC_ERR_MALFORMED);       /* too short */
    cr_assert_eq(mc_hex_decode(out, 2, "abcg"), MC_ERR_MALFORMED);     /* bad digit */
    cr_assert_eq(mc_hex_decode(out, 2, "ab c"), MC_ERR_MALFORMED);
    cr_assert_eq(mc_hex_decode(out, 2, "0x12"), MC_ERR_MALFORMED);
    cr_assert_eq(mc_hex_decode(out, 1, "\xff" "0"), MC_ERR_MALFORMED); /* high byte */
    cr_assert_eq(mc_hex_decode_var(out, 4, &n, "abc"), MC_ERR_MALFORMED);
    cr_assert_eq(mc_hex_decode_var(out, 4, &n, "zz"), MC_ERR_MALFORMED);
    cr_assert_eq(mc_hex_decode_var(out, 2, &n, "aabbcc"), MC_ERR_TOO_LARGE);
    cr_assert_eq(mc_hex_decode_var(out, 4, &n, ""), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(mc_hex_decode_var(out, 4, &n, "0aFF"), 0);
    cr_assert(n == 2 && out[0] == 0x0a && out[1] == 0xff);
}
