/* Chunked attachment encryption (crypto/stream.h): round trip at chunk
 * boundaries, and every way a ciphertext can be broken refused: an altered
 * chunk, chunks swapped, the end cut off, a message added, another
 * record's associated data, another key. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/stream.h"

static const uint8_t AD[] = "\x03rec\x00\x00\x00\x01";

/* Encrypts plain (n bytes) into a fresh buffer of mc_stream_ct_size(n). */
static uint8_t *seal(const uint8_t key[32], const uint8_t *plain, size_t n, size_t *ct_len) {
    *ct_len = (size_t)mc_stream_ct_size(n);
    uint8_t *ct = malloc(*ct_len), *p = ct;
    struct mc_stream s;
    mc_stream_push_init(&s, p, key);
    p += MC_STREAM_HEADER_BYTES;
    uint8_t meta[MC_STREAM_META_BYTES];
    cr_assert_eq(mc_stream_meta_encode(meta, "application/pdf"), 0);
    mc_stream_push(&s, p, meta, sizeof meta, AD, sizeof AD - 1, false);
    p += sizeof meta + MC_STREAM_ABYTES;
    size_t off = 0;
    for (;;) {
        size_t k = n - off >= MC_STREAM_CHUNK ? MC_STREAM_CHUNK : n - off;
        bool final = k < MC_STREAM_CHUNK;
        mc_stream_push(&s, p, plain + off, k, AD, sizeof AD - 1, final);
        p += k + MC_STREAM_ABYTES;
        off += k;
        if (final) break;
    }
    mc_stream_wipe(&s);
    cr_assert_eq((size_t)(p - ct), *ct_len, "the layout's size is what the encoder writes");
    return ct;
}

/* Decrypts the whole ciphertext; returns the first error (0 on success). */
static int open_all(const uint8_t key[32], const uint8_t *ct, size_t ct_len, const uint8_t *ad, size_t adn,
                    uint8_t *out, char type[MC_ATTACHMENT_TYPE_MAX + 1]) {
    uint64_t plain;
    int rc = mc_stream_plain_size(ct_len, &plain);
    if (rc) return rc;
    struct mc_stream s;
    if ((rc = mc_stream_pull_init(&s, ct, key))) return rc;
    const uint8_t *p = ct + MC_STREAM_HEADER_BYTES;
    uint8_t meta[MC_STREAM_META_BYTES];
    if ((rc = mc_stream_pull(&s, meta, p, sizeof meta + MC_STREAM_ABYTES, ad, adn, false))) return rc;
    if ((rc = mc_stream_meta_decode(type, meta))) return rc;
    p += sizeof meta + MC_STREAM_ABYTES;
    const uint8_t *end = ct + ct_len;
    while (p < end) {
        size_t k = (size_t)(end - p) > MC_STREAM_MSG_BYTES ? MC_STREAM_MSG_BYTES : (size_t)(end - p);
        bool final = p + k == end;
        if ((rc = mc_stream_pull(&s, out, p, k, ad, adn, final))) return rc;
        out += k - MC_STREAM_ABYTES;
        p += k;
    }
    mc_stream_wipe(&s);
    return 0;
}

Test(stream, sizes_invert_at_every_boundary) {
    uint64_t sizes[] = {0, 1, MC_STREAM_CHUNK - 1, MC_STREAM_CHUNK, MC_STREAM_CHUNK + 1, 3 * MC_STREAM_CHUNK,
                        100u * 1000 * 1000, MC_ATTACHMENT_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t back;
        cr_assert_eq(mc_stream_plain_size(mc_stream_ct_size(sizes[i]), &back), 0);
        cr_assert_eq(back, sizes[i]);
    }
    cr_assert_eq(mc_stream_ct_size(MC_ATTACHMENT_MAX), MC_ATTACHMENT_CT_MAX, "the limit is the layout's");
    uint64_t p;
    cr_assert_eq(mc_stream_plain_size(MC_STREAM_PREFIX_BYTES + 5, &p), MC_ERR_MALFORMED, "no message ends there");
    cr_assert_eq(mc_stream_plain_size(10, &p), MC_ERR_MALFORMED);
}

Test(stream, round_trip_and_every_break_refused) {
    mc_crypto_init();
    uint8_t key[32], other[32];
    randombytes_buf(key, 32);
    randombytes_buf(other, 32);
    size_t n = 3 * MC_STREAM_CHUNK + 1234;
    uint8_t *plain = malloc(n), *out = malloc(n);
    randombytes_buf(plain, n);
    size_t ct_len;
    uint8_t *ct = seal(key, plain, n, &ct_len);
    char type[MC_ATTACHMENT_TYPE_MAX + 1];
    cr_assert_eq(open_all(key, ct, ct_len, AD, sizeof AD - 1, out, type), 0, "%s", mc_err_detail());
    cr_assert_eq(memcmp(out, plain, n), 0);
    cr_assert_str_eq(type, "application/pdf");

    /* exact multiple of the chunk: the final message is empty */
    size_t ct2_len;
    uint8_t *ct2 = seal(key, plain, 2 * MC_STREAM_CHUNK, &ct2_len);
    cr_assert_eq(open_all(key, ct2, ct2_len, AD, sizeof AD - 1, out, type), 0);
    cr_assert_eq(memcmp(out, plain, 2 * MC_STREAM_CHUNK), 0);

    /* one bit of the second data chunk */
    uint8_t *bad = malloc(ct_len);
    memcpy(bad, ct, ct_len);
    bad[MC_STREAM_PREFIX_BYTES + MC_STREAM_MSG_BYTES + 100] ^= 1;
    cr_assert_eq(open_all(key, bad, ct_len, AD, sizeof AD - 1, out, type), MC_ERR_CRYPTO, "altered chunk");
    /* the first two data chunks swapped */
    memcpy(bad, ct, ct_len);
    memcpy(bad + MC_STREAM_PREFIX_BYTES, ct + MC_STREAM_PREFIX_BYTES + MC_STREAM_MSG_BYTES, MC_STREAM_MSG_BYTES);
    memcpy(bad + MC_STREAM_PREFIX_BYTES + MC_STREAM_MSG_BYTES, ct + MC_STREAM_PREFIX_BYTES, MC_STREAM_MSG_BYTES);
    cr_assert_eq(open_all(key, bad, ct_len, AD, sizeof AD - 1, out, type), MC_ERR_CRYPTO, "reordered");
    /* cut: at a message boundary no layout ends there; within a message
     * the part left does not open */
    size_t cut = MC_STREAM_PREFIX_BYTES + 3 * MC_STREAM_MSG_BYTES;
    cr_assert_eq(open_all(key, ct, cut, AD, sizeof AD - 1, out, type), MC_ERR_MALFORMED, "truncated");
    cr_assert_eq(open_all(key, ct, cut - 100, AD, sizeof AD - 1, out, type), MC_ERR_CRYPTO, "truncated");
    /* a data message taken as the last: its tag says it is not */
    struct mc_stream s;
    cr_assert_eq(mc_stream_pull_init(&s, ct, key), 0);
    uint8_t meta0[MC_STREAM_META_BYTES];
    cr_assert_eq(mc_stream_pull(&s, meta0, ct + MC_STREAM_HEADER_BYTES, MC_STREAM_META_BYTES + MC_STREAM_ABYTES, AD,
                                sizeof AD - 1, false), 0);
    cr_assert_eq(mc_stream_pull(&s, out, ct + MC_STREAM_PREFIX_BYTES, MC_STREAM_MSG_BYTES, AD, sizeof AD - 1, true),
                 MC_ERR_CRYPTO, "not the end");
    /* the final message of another stream appended: extended */
    uint8_t *ext = malloc(ct2_len + 100);
    memcpy(ext, ct2, ct2_len);
    memcpy(ext + ct2_len, ct + ct_len - 100, 100);
    cr_assert_neq(open_all(key, ext, ct2_len + 100, AD, sizeof AD - 1, out, type), 0, "extended");
    /* another record's associated data, another key */
    cr_assert_eq(open_all(key, ct, ct_len, (const uint8_t *)"\x03rec\x00\x00\x00\x02", 8, out, type), MC_ERR_CRYPTO);
    cr_assert_eq(open_all(other, ct, ct_len, AD, sizeof AD - 1, out, type), MC_ERR_CRYPTO);

    uint8_t meta[MC_STREAM_META_BYTES];
    cr_assert_eq(mc_stream_meta_encode(meta, ""), MC_ERR_INVALID);
    cr_assert_eq(mc_stream_meta_encode(meta, "text/plain\n"), MC_ERR_INVALID);
    cr_assert_eq(mc_stream_meta_encode(meta, "image/png"), 0);
    meta[100] = 1;
    cr_assert_eq(mc_stream_meta_decode(type, meta), MC_ERR_MALFORMED, "padding must be zero");
    free(plain);
    free(out);
    free(ct);
    free(ct2);
    free(bad);
    free(ext);
}
