/* Hexadecimal encoding. */
#include "base/hex.h"

#include <string.h>

void mc_hex_encode(char *out, const void *in, size_t n) {
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int mc_hex_decode_var(uint8_t *out, size_t out_max, size_t *out_len, const char *hex) {
    size_t n = strlen(hex);
    if (n % 2) return MC_ERR_MALFORMED;
    if (n / 2 > out_max) return MC_ERR_TOO_LARGE;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return MC_ERR_MALFORMED;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = n / 2;
    return 0;
}

int mc_hex_decode(uint8_t *out, size_t out_len, const char *hex) {
    if (strlen(hex) != 2 * out_len) return MC_ERR_MALFORMED;
    size_t got;
    return mc_hex_decode_var(out, out_len, &got, hex);
}
