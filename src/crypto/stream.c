/* Chunked encryption of large attachments (layout in stream.h). */
#include "crypto/stream.h"

#include <string.h>

_Static_assert(MC_STREAM_HEADER_BYTES == crypto_secretstream_xchacha20poly1305_HEADERBYTES, "header size");
_Static_assert(MC_STREAM_ABYTES == crypto_secretstream_xchacha20poly1305_ABYTES, "message overhead");
_Static_assert(MC_DATAKEY_BYTES == crypto_secretstream_xchacha20poly1305_KEYBYTES, "data key size");

uint64_t mc_stream_ct_size(uint64_t plain) {
    uint64_t msgs = plain / MC_STREAM_CHUNK + 1; /* the final one may be empty */
    return MC_STREAM_PREFIX_BYTES + msgs * MC_STREAM_ABYTES + plain;
}

int mc_stream_plain_size(uint64_t ct, uint64_t *plain) {
    *plain = 0;
    if (ct < MC_STREAM_PREFIX_BYTES + MC_STREAM_ABYTES)
        return mc_err_set(MC_ERR_MALFORMED, "attachment ciphertext of %llu bytes is shorter than its layout",
                          (unsigned long long)ct);
    uint64_t body = ct - MC_STREAM_PREFIX_BYTES;
    uint64_t full = body / MC_STREAM_MSG_BYTES, last = body % MC_STREAM_MSG_BYTES;
    if (last < MC_STREAM_ABYTES)
        return mc_err_set(MC_ERR_MALFORMED, "attachment ciphertext of %llu bytes does not end in a message",
                          (unsigned long long)ct);
    *plain = full * MC_STREAM_CHUNK + (last - MC_STREAM_ABYTES);
    return 0;
}

void mc_stream_push_init(struct mc_stream *s, uint8_t header[MC_STREAM_HEADER_BYTES],
                         const uint8_t key[MC_DATAKEY_BYTES]) {
    crypto_secretstream_xchacha20poly1305_init_push(&s->st, header, key);
}

void mc_stream_push(struct mc_stream *s, uint8_t *out, const void *in, size_t n, const void *ad,
                    size_t ad_len, bool final) {
    (void)crypto_secretstream_xchacha20poly1305_push(
        &s->st, out, NULL, in, n, ad, ad_len,
        final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
}

int mc_stream_pull_init(struct mc_stream *s, const uint8_t header[MC_STREAM_HEADER_BYTES],
                        const uint8_t key[MC_DATAKEY_BYTES]) {
    if (crypto_secretstream_xchacha20poly1305_init_pull(&s->st, header, key) != 0)
        return mc_err_set(MC_ERR_CRYPTO, "attachment stream header is invalid");
    return 0;
}

int mc_stream_pull(struct mc_stream *s, uint8_t *out, const uint8_t *ct, size_t ct_len, const void *ad,
                   size_t ad_len, bool final) {
    if (ct_len < MC_STREAM_ABYTES || ct_len > MC_STREAM_MSG_BYTES)
        return mc_err_set(MC_ERR_CRYPTO, "attachment message of %zu bytes is outside its layout", ct_len);
    unsigned char tag = 0;
    /* secretstream authenticates before it writes the plaintext */
    if (crypto_secretstream_xchacha20poly1305_pull(&s->st, out, NULL, &tag, ct, ct_len, ad, ad_len) != 0)
        return mc_err_set(MC_ERR_CRYPTO, "an attachment chunk does not open (altered, reordered or "
                                         "from another record)");
    bool is_final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    if (is_final != final) {
        sodium_memzero(out, ct_len - MC_STREAM_ABYTES);
        return mc_err_set(MC_ERR_CRYPTO, is_final ? "the attachment ends early (truncated)"
                                                  : "the attachment's last chunk is not its end (truncated)");
    }
    if (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL &&
        tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
        sodium_memzero(out, ct_len - MC_STREAM_ABYTES);
        return mc_err_set(MC_ERR_CRYPTO, "an attachment chunk has a tag no encoder writes");
    }
    return 0;
}

void mc_stream_wipe(struct mc_stream *s) { sodium_memzero(s, sizeof *s); }

int mc_stream_meta_encode(uint8_t out[MC_STREAM_META_BYTES], const char *content_type) {
    size_t n = strlen(content_type);
    if (n == 0 || n > MC_ATTACHMENT_TYPE_MAX)
        return mc_err_set(MC_ERR_INVALID, "the content type must be 1 to %d characters", MC_ATTACHMENT_TYPE_MAX);
    for (size_t i = 0; i < n; i++)
        if (content_type[i] < 0x20 || content_type[i] > 0x7e)
            return mc_err_set(MC_ERR_INVALID, "the content type must be printable ASCII");
    memset(out, 0, MC_STREAM_META_BYTES);
    out[0] = (uint8_t)n;
    memcpy(out + 1, content_type, n);
    return 0;
}

int mc_stream_meta_decode(char out[MC_ATTACHMENT_TYPE_MAX + 1], const uint8_t in[MC_STREAM_META_BYTES]) {
    size_t n = in[0];
    out[0] = 0;
    if (n == 0 || n > MC_ATTACHMENT_TYPE_MAX) return mc_err_set(MC_ERR_MALFORMED, "attachment metadata is malformed");
    for (size_t i = 0; i < n; i++)
        if (in[1 + i] < 0x20 || in[1 + i] > 0x7e) return mc_err_set(MC_ERR_MALFORMED, "attachment metadata is malformed");
    for (size_t i = 1 + n; i < MC_STREAM_META_BYTES; i++)
        if (in[i]) return mc_err_set(MC_ERR_MALFORMED, "attachment metadata is malformed");
    memcpy(out, in + 1, n);
    out[n] = 0;
    return 0;
}
