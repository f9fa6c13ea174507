/* Domain-separated Ed25519 (see sign.h for the signed message layout). */
#include "crypto/sign.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/limits.h"

static atomic_uint_fast64_t verifications;

void mc_keypair_generate(struct mc_keypair *kp) { crypto_sign_keypair(kp->pk.b, kp->sk); }

void mc_keypair_from_seed(struct mc_keypair *kp, const uint8_t seed[MC_SEED_BYTES]) {
    crypto_sign_seed_keypair(kp->pk.b, kp->sk, seed);
}

void mc_ed25519_sign_raw(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *kp,
                         const void *msg, size_t len) {
    crypto_sign_detached(sig, NULL, msg, len, kp->sk);
}

int mc_ed25519_verify_raw(const uint8_t sig[MC_SIG_BYTES], const mc_pubkey *pk,
                          const void *msg, size_t len) {
    atomic_fetch_add_explicit(&verifications, 1, memory_order_relaxed);
    return crypto_sign_verify_detached(sig, msg, len, pk->b) == 0 ? 0 : MC_ERR_BAD_SIGNATURE;
}

/* Builds the domain prefix; returns its length. Misuse (an over-long
 * purpose or chain id from our own code) aborts. */
static size_t domain(uint8_t *out, size_t cap, const char *purpose, const char *chain_id) {
    size_t pl = strlen(purpose), cl = strlen(chain_id);
    MC_ASSERT(pl <= 32 && cl <= MC_CHAIN_ID_MAX && 12 + pl + 2 + cl <= cap);
    size_t n = 0;
    memcpy(out + n, "medchain/v1/", 12);
    n += 12;
    memcpy(out + n, purpose, pl);
    n += pl;
    out[n++] = 0;
    out[n++] = (uint8_t)cl;
    memcpy(out + n, chain_id, cl);
    return n + cl;
}

/* Ed25519 signs the whole message, so the prefix and message are joined in
 * one buffer: on the stack for small messages, on the heap otherwise. */
#define STACK_MSG 2048

void mc_sign(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *kp, const char *purpose,
             const char *chain_id, const void *msg, size_t len) {
    uint8_t stack[STACK_MSG + 128];
    uint8_t *buf = len <= STACK_MSG ? stack : malloc(len + 128);
    MC_ASSERT(buf != NULL); /* at most MC_TX_MAX-sized messages */
    size_t n = domain(buf, 128, purpose, chain_id);
    if (len) memcpy(buf + n, msg, len);
    crypto_sign_detached(sig, NULL, buf, n + len, kp->sk);
    if (buf != stack) free(buf);
}

/* Cache of successful verifications. A signature is checked once at
 * admission, again when the block is validated, executed and committed;
 * the outcome is a pure function of (message, signature, key), so a node
 * remembers the SHA-256 of what verified and answers repeats from memory.
 * Only successes are remembered; the table is direct-mapped and bounded. */
#define VCACHE_BITS 16
static uint8_t vcache[1u << VCACHE_BITS][32];
static pthread_mutex_t vcache_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool vcache_on = true;

void mc_sign_verify_cache_enable(bool on) { atomic_store(&vcache_on, on); }

static void vcache_key(uint8_t out[32], const uint8_t *sig, const mc_pubkey *pk,
                       const uint8_t *m, size_t n) {
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, sig, MC_SIG_BYTES);
    crypto_hash_sha256_update(&st, pk->b, MC_PUBKEY_BYTES);
    crypto_hash_sha256_update(&st, m, n);
    crypto_hash_sha256_final(&st, out);
}

static size_t vcache_slot(const uint8_t key[32]) {
    return ((size_t)key[0] << 8 | key[1]) & ((1u << VCACHE_BITS) - 1);
}

int mc_sign_verify(const uint8_t sig[MC_SIG_BYTES], const mc_pubkey *pk, const char *purpose,
              const char *chain_id, const void *msg, size_t len) {
    uint8_t stack[STACK_MSG + 128];
    uint8_t *buf = len <= STACK_MSG ? stack : malloc(len + 128);
    if (!buf) return MC_ERR_NOMEM;
    size_t n = domain(buf, 128, purpose, chain_id);
    if (len) memcpy(buf + n, msg, len);
    bool use_cache = atomic_load(&vcache_on);
    uint8_t key[32];
    size_t slot = 0;
    bool hit = false;
    if (use_cache) {
        vcache_key(key, sig, pk, buf, n + len);
        slot = vcache_slot(key);
        pthread_mutex_lock(&vcache_lock);
        hit = memcmp(vcache[slot], key, 32) == 0;
        pthread_mutex_unlock(&vcache_lock);
    }
    int rc = hit ? 0 : mc_ed25519_verify_raw(sig, pk, buf, n + len);
    if (use_cache && !hit && rc == 0) {
        pthread_mutex_lock(&vcache_lock);
        memcpy(vcache[slot], key, 32);
        pthread_mutex_unlock(&vcache_lock);
    }
    if (buf != stack) free(buf);
    return rc;
}

uint64_t mc_sign_verify_count(void) { return atomic_load(&verifications); }
