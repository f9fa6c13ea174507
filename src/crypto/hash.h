/* SHA-256 (libsodium). */
#ifndef MC_CRYPTO_HASH_H
#define MC_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#define MC_HASH_BYTES 32

typedef struct { uint8_t b[MC_HASH_BYTES]; } mc_hash;

void mc_sha256(mc_hash *out, const void *in, size_t len);

/* Streaming form. */
typedef crypto_hash_sha256_state mc_sha256_ctx;
void mc_sha256_init(mc_sha256_ctx *ctx);
void mc_sha256_update(mc_sha256_ctx *ctx, const void *in, size_t len);
void mc_sha256_final(mc_sha256_ctx *ctx, mc_hash *out);

/* Calls sodium_init() once; safe from any thread. Aborts if libsodium
 * cannot initialise (no usable random source): nothing secure can run. */
void mc_crypto_init(void);

#endif
