/* ECDSA over P-384 with SHA-384 (JWS "ES384", RFC 7518 section 3.4), for
 * SMART client assertions (app/smart.h): verification only, through
 * OpenSSL's libcrypto. Keys are uncompressed points (0x04 || X || Y, 97
 * bytes), signatures the JWS form R || S (96 bytes). Pure, deterministic,
 * thread-safe. */
#ifndef MC_CRYPTO_ES384_H
#define MC_CRYPTO_ES384_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define MC_ES384_KEY_BYTES 97
#define MC_ES384_SIG_BYTES 96

/* Whether key is a point of P-384 (not the point at infinity). */
bool mc_es384_key_valid(const uint8_t key[MC_ES384_KEY_BYTES]);
/* 0 when sig is key's signature of msg, else MC_ERR_BAD_SIGNATURE. */
MC_MUST_CHECK int mc_es384_verify(const uint8_t key[MC_ES384_KEY_BYTES], const uint8_t *msg, size_t n,
                                  const uint8_t sig[MC_ES384_SIG_BYTES]);

#endif
