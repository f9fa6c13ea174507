/* SHA-256 through libsodium. */
#include "crypto/hash.h"

#include <stdlib.h>

#include "base/assert.h"

void mc_crypto_init(void) {
    /* Without a working libsodium nothing can be signed or checked. */
    int rc = sodium_init();
    MC_ASSERT(rc >= 0);
}

void mc_sha256(mc_hash *out, const void *in, size_t len) {
    crypto_hash_sha256(out->b, in, len);
}

void mc_sha256_init(mc_sha256_ctx *ctx) { crypto_hash_sha256_init(ctx); }
void mc_sha256_update(mc_sha256_ctx *ctx, const void *in, size_t len) {
    crypto_hash_sha256_update(ctx, in, len);
}
void mc_sha256_final(mc_sha256_ctx *ctx, mc_hash *out) { crypto_hash_sha256_final(ctx, out->b); }
