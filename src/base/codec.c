/* Canonical binary codec: see codec.h for the rules. */
#include "base/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mc_buf_init(struct mc_buf *b, size_t max) {
    memset(b, 0, sizeof *b);
    b->max = max;
}

void mc_buf_deinit(struct mc_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void mc_buf_reset(struct mc_buf *b) {
    b->len = 0;
    b->err = 0;
}

static int reserve(struct mc_buf *b, size_t extra) {
    if (b->err) return b->err;
    size_t max = b->max ? b->max : SIZE_MAX / 2;
    if (extra > max || b->len > max - extra) return b->err = MC_ERR_TOO_LARGE;
    size_t need = b->len + extra + 1; /* room for a NUL terminator */
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) return b->err = MC_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

void mc_buf_append(struct mc_buf *b, const void *p, size_t n) {
    if (reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

uint8_t *mc_buf_extend(struct mc_buf *b, size_t n) {
    if (reserve(b, n)) return NULL;
    uint8_t *p = b->data + b->len;
    memset(p, 0, n);
    b->len += n;
    b->data[b->len] = 0;
    return p;
}

void mc_buf_printf(struct mc_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

uint8_t *mc_buf_take(struct mc_buf *b, size_t *len_out) {
    if (reserve(b, 0)) return NULL;
    uint8_t *p = b->data;
    p[b->len] = 0;
    if (len_out) *len_out = b->len;
    memset(b, 0, sizeof *b);
    return p;
}

void mc_enc_u8(struct mc_buf *b, uint8_t v) { mc_buf_append(b, &v, 1); }

void mc_enc_u16(struct mc_buf *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    mc_buf_append(b, x, 2);
}

void mc_enc_u32(struct mc_buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    mc_buf_append(b, x, 4);
}

void mc_enc_u64(struct mc_buf *b, uint64_t v) {
    mc_enc_u32(b, (uint32_t)(v >> 32));
    mc_enc_u32(b, (uint32_t)v);
}

void mc_enc_bool(struct mc_buf *b, bool v) { mc_enc_u8(b, v ? 1 : 0); }
void mc_enc_fixed(struct mc_buf *b, const void *p, size_t n) { mc_buf_append(b, p, n); }

void mc_enc_bytes8(struct mc_buf *b, const void *p, size_t n) {
    if (n > UINT8_MAX) { if (!b->err) b->err = MC_ERR_TOO_LARGE; return; }
    mc_enc_u8(b, (uint8_t)n);
    mc_buf_append(b, p, n);
}

void mc_enc_bytes16(struct mc_buf *b, const void *p, size_t n) {
    if (n > UINT16_MAX) { if (!b->err) b->err = MC_ERR_TOO_LARGE; return; }
    mc_enc_u16(b, (uint16_t)n);
    mc_buf_append(b, p, n);
}

void mc_enc_bytes32(struct mc_buf *b, const void *p, size_t n) {
    if (n > UINT32_MAX) { if (!b->err) b->err = MC_ERR_TOO_LARGE; return; }
    mc_enc_u32(b, (uint32_t)n);
    mc_buf_append(b, p, n);
}

void mc_enc_str8(struct mc_buf *b, const char *s) { mc_enc_bytes8(b, s, strlen(s)); }
void mc_enc_str16(struct mc_buf *b, const char *s) { mc_enc_bytes16(b, s, strlen(s)); }

void mc_dec_init(struct mc_dec *d, const void *p, size_t len) {
    d->p = p;
    d->len = len;
    d->pos = 0;
    d->err = 0;
}

void mc_dec_fail(struct mc_dec *d, int err) {
    if (!d->err) d->err = err;
}

static const uint8_t *take(struct mc_dec *d, size_t n) {
    if (d->err) return NULL;
    if (n > d->len - d->pos) {
        d->err = MC_ERR_MALFORMED;
        return NULL;
    }
    const uint8_t *p = d->p + d->pos;
    d->pos += n;
    return p;
}

uint8_t mc_dec_u8(struct mc_dec *d) {
    const uint8_t *p = take(d, 1);
    return p ? p[0] : 0;
}

uint16_t mc_dec_u16(struct mc_dec *d) {
    const uint8_t *p = take(d, 2);
    return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t mc_dec_u32(struct mc_dec *d) {
    const uint8_t *p = take(d, 4);
    return p ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3] : 0;
}

uint64_t mc_dec_u64(struct mc_dec *d) {
    uint64_t hi = mc_dec_u32(d);
    uint64_t lo = mc_dec_u32(d);
    return (hi << 32) | lo;
}

bool mc_dec_bool(struct mc_dec *d) {
    uint8_t v = mc_dec_u8(d);
    if (v > 1) mc_dec_fail(d, MC_ERR_MALFORMED);
    return v == 1;
}

void mc_dec_fixed(struct mc_dec *d, void *out, size_t n) {
    const uint8_t *p = take(d, n);
    if (p) memcpy(out, p, n);
    else memset(out, 0, n);
}

static const uint8_t *dec_bytes(struct mc_dec *d, size_t n, size_t *len_out, size_t max) {
    *len_out = 0;
    if (d->err) return NULL;
    if (n > max) {
        d->err = MC_ERR_TOO_LARGE;
        return NULL;
    }
    const uint8_t *p = take(d, n);
    if (p) *len_out = n;
    return p;
}

const uint8_t *mc_dec_bytes8(struct mc_dec *d, size_t *len_out, size_t max) {
    size_t n = mc_dec_u8(d);
    return dec_bytes(d, n, len_out, max);
}

const uint8_t *mc_dec_bytes16(struct mc_dec *d, size_t *len_out, size_t max) {
    size_t n = mc_dec_u16(d);
    return dec_bytes(d, n, len_out, max);
}

const uint8_t *mc_dec_bytes32(struct mc_dec *d, size_t *len_out, size_t max) {
    size_t n = mc_dec_u32(d);
    return dec_bytes(d, n, len_out, max);
}

static void copy_str(struct mc_dec *d, const uint8_t *p, size_t n, char *out, size_t out_size) {
    out[0] = 0;
    if (!p) return;
    if (memchr(p, 0, n)) { mc_dec_fail(d, MC_ERR_MALFORMED); return; }
    memcpy(out, p, n);
    out[n] = 0;
}

void mc_dec_str8(struct mc_dec *d, char *out, size_t out_size) {
    size_t n;
    const uint8_t *p = mc_dec_bytes8(d, &n, out_size - 1);
    copy_str(d, p, n, out, out_size);
}

void mc_dec_str16(struct mc_dec *d, char *out, size_t out_size) {
    size_t n;
    const uint8_t *p = mc_dec_bytes16(d, &n, out_size - 1);
    copy_str(d, p, n, out, out_size);
}

int mc_dec_finish(struct mc_dec *d) {
    if (d->err) return d->err;
    if (d->pos != d->len) return d->err = MC_ERR_MALFORMED;
    return 0;
}
