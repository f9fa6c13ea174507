/* Canonical binary codec.
 *
 * One deterministic form per object: big-endian fixed-width integers,
 * byte strings prefixed by a fixed-width length, booleans as exactly 0 or 1,
 * no padding, no optional fields. The decoder is strict: it rejects
 * truncation, lengths above the caller's bound, booleans other than 0/1,
 * and (via mc_dec_finish) trailing bytes.
 *
 * Both sides use a sticky error: after the first failure every further call
 * is a no-op and the error is reported once at the end, so encoders and
 * decoders read as straight-line code. */
#ifndef MC_BASE_CODEC_H
#define MC_BASE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "base/err.h"

/* Growable byte buffer. Zero-initialise; mc_buf_deinit frees. */
struct mc_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int err;            /* sticky: MC_ERR_NOMEM or MC_ERR_TOO_LARGE */
    size_t max;         /* 0 = unbounded (SIZE_MAX/2) */
};

void mc_buf_init(struct mc_buf *b, size_t max);
void mc_buf_deinit(struct mc_buf *b);
void mc_buf_reset(struct mc_buf *b);
void mc_buf_append(struct mc_buf *b, const void *p, size_t n);
/* Appends n bytes of room and returns a pointer to them (zeroed), or NULL
 * when the buffer has failed. The pointer is valid until the next append. */
uint8_t *mc_buf_extend(struct mc_buf *b, size_t n);
void mc_buf_printf(struct mc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands ownership of the bytes to the caller (NUL-terminated). */
uint8_t *mc_buf_take(struct mc_buf *b, size_t *len_out);

/* Encoder appending to a buffer. */
void mc_enc_u8(struct mc_buf *b, uint8_t v);
void mc_enc_u16(struct mc_buf *b, uint16_t v);
void mc_enc_u32(struct mc_buf *b, uint32_t v);
void mc_enc_u64(struct mc_buf *b, uint64_t v);
void mc_enc_bool(struct mc_buf *b, bool v);
void mc_enc_fixed(struct mc_buf *b, const void *p, size_t n);
/* Length-prefixed byte strings: u8, u16 or u32 length. */
void mc_enc_bytes8(struct mc_buf *b, const void *p, size_t n);
void mc_enc_bytes16(struct mc_buf *b, const void *p, size_t n);
void mc_enc_bytes32(struct mc_buf *b, const void *p, size_t n);
void mc_enc_str8(struct mc_buf *b, const char *s);
void mc_enc_str16(struct mc_buf *b, const char *s);

/* Decoder over a borrowed byte range. */
struct mc_dec {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int err;
};

void mc_dec_init(struct mc_dec *d, const void *p, size_t len);
uint8_t mc_dec_u8(struct mc_dec *d);
uint16_t mc_dec_u16(struct mc_dec *d);
uint32_t mc_dec_u32(struct mc_dec *d);
uint64_t mc_dec_u64(struct mc_dec *d);
bool mc_dec_bool(struct mc_dec *d);
void mc_dec_fixed(struct mc_dec *d, void *out, size_t n);
/* Returns a pointer into the input (not copied) and its length; fails with
 * MC_ERR_TOO_LARGE when the declared length exceeds max. */
const uint8_t *mc_dec_bytes8(struct mc_dec *d, size_t *len_out, size_t max);
const uint8_t *mc_dec_bytes16(struct mc_dec *d, size_t *len_out, size_t max);
const uint8_t *mc_dec_bytes32(struct mc_dec *d, size_t *len_out, size_t max);
/* Copies a string into out (size out_size incl. NUL). Rejects embedded NUL
 * and strings that do not fit. */
void mc_dec_str8(struct mc_dec *d, char *out, size_t out_size);
void mc_dec_str16(struct mc_dec *d, char *out, size_t out_size);
/* Marks the decoder failed with err unless it has already failed. */
void mc_dec_fail(struct mc_dec *d, int err);
/* 0 if everything decoded and no bytes remain, else the error. */
MC_MUST_CHECK int mc_dec_finish(struct mc_dec *d);

#endif
