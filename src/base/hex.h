/* Lower-case hexadecimal encoding. */
#ifndef MC_BASE_HEX_H
#define MC_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>
#include "base/err.h"

/* Writes 2*n hex digits and a NUL to out (size >= 2*n+1). */
void mc_hex_encode(char *out, const void *in, size_t n);
/* Decodes exactly out_len bytes from a string of 2*out_len hex digits
 * (either case). MC_ERR_MALFORMED on wrong length or a non-hex digit. */
MC_MUST_CHECK int mc_hex_decode(uint8_t *out, size_t out_len, const char *hex);
/* Decodes a hex string of any even length up to out_max bytes. */
MC_MUST_CHECK int mc_hex_decode_var(uint8_t *out, size_t out_max, size_t *out_len, const char *hex);

#endif
