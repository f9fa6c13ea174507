/* Sealed frames (format in frame.h). */
#include "net/frame.h"

#include <sodium.h>
#include <string.h>

static void nonce_of(uint8_t n[12], uint64_t counter) {
    memset(n, 0, 4);
    for (int i = 0; i < 8; i++) n[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

int mc_frame_seal(struct mc_frame_key *k, struct mc_buf *out, const void *msg, size_t len) {
    if (len > UINT32_MAX - MC_FRAME_TAG_BYTES) return MC_ERR_TOO_LARGE;
    if (k->counter == UINT64_MAX) return mc_err_set(MC_ERR_STATE, "frame counter exhausted");
    uint32_t sealed = (uint32_t)(len + MC_FRAME_TAG_BYTES);
    uint8_t hdr[4] = {(uint8_t)(sealed >> 24), (uint8_t)(sealed >> 16), (uint8_t)(sealed >> 8),
                      (uint8_t)sealed};
    mc_buf_append(out, hdr, 4);
    uint8_t *dst = mc_buf_extend(out, sealed);
    if (!dst) return out->err;
    uint8_t nonce[12];
    nonce_of(nonce, k->counter);
    unsigned long long clen;
    crypto_aead_chacha20poly1305_ietf_encrypt(dst, &clen, msg, len, hdr, 4, NULL, nonce, k->key);
    k->counter++;
    return 0;
}

void mc_frame_reader_init(struct mc_frame_reader *r, size_t max_plain) {
    mc_buf_init(&r->in, max_plain + MC_FRAME_TAG_BYTES + 2 * MC_FRAME_HEADER_BYTES + 65536);
    r->max_plain = max_plain;
}

void mc_frame_reader_deinit(struct mc_frame_reader *r) { mc_buf_deinit(&r->in); }

int mc_frame_reader_feed(struct mc_frame_reader *r, const void *p, size_t n) {
    mc_buf_append(&r->in, p, n);
    return r->in.err ? MC_ERR_TOO_LARGE : 0;
}

int mc_frame_reader_next(struct mc_frame_reader *r, struct mc_frame_key *k, struct mc_buf *msg) {
    if (r->in.len < 4) return 0;
    const uint8_t *p = r->in.data;
    uint32_t sealed = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    if (sealed < MC_FRAME_TAG_BYTES || sealed - MC_FRAME_TAG_BYTES > r->max_plain)
        return mc_err_set(MC_ERR_TOO_LARGE, "peer frame declares %u bytes", sealed);
    if (r->in.len < 4 + (size_t)sealed) return 0;
    size_t plain = sealed - MC_FRAME_TAG_BYTES;
    size_t at = msg->len;
    uint8_t *dst = mc_buf_extend(msg, plain);
    if (!dst) return msg->err;
    uint8_t nonce[12];
    nonce_of(nonce, k->counter);
    unsigned long long mlen;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(dst, &mlen, NULL, p + 4, sealed, p, 4, nonce,
                                                  k->key) != 0) {
        msg->len = at;
        return mc_err_set(MC_ERR_CRYPTO, "peer frame does not authenticate");
    }
    k->counter++;
    size_t rest = r->in.len - 4 - sealed;
    memmove(r->in.data, r->in.data + 4 + sealed, rest);
    r->in.len = rest;
    return 1;
}
