/* Ed25519 keys and domain-separated signatures.
 *
 * Every medchain signature is Ed25519 over
 *
 *   "medchain/v1/" || purpose || 0x00 || u8 len(chain_id) || chain_id || message
 *
 * so a signature made for one purpose (a transaction, a vote, an HTTP
 * request) or one chain can never be replayed as another. Purposes are the
 * MC_SIGN_* strings below. */
#ifndef MC_CRYPTO_SIGN_H
#define MC_CRYPTO_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/err.h"

#define MC_PUBKEY_BYTES 32
#define MC_SECKEY_BYTES 64   /* libsodium form: seed || public key */
#define MC_SEED_BYTES 32
#define MC_SIG_BYTES 64

#define MC_SIGN_TX "tx"
#define MC_SIGN_VOTE "vote"
#define MC_SIGN_PROPOSAL "proposal"
#define MC_SIGN_HTTP "http"
#define MC_SIGN_PATIENT "patient-register"
#define MC_SIGN_ROTATE "key-rotate"
/* A new member's acceptance of an organisation admin's invitation:
 * inviter key || member key (api/routes_invite.c; proof of possession). */
#define MC_SIGN_MEMBER "member-join"
#define MC_SIGN_HANDSHAKE "handshake"

typedef struct { uint8_t b[MC_PUBKEY_BYTES]; } mc_pubkey;

/* A key pair. The secret half should live in sodium_malloc'd memory when
 * held for long (key files load into such memory). */
struct mc_keypair {
    mc_pubkey pk;
    uint8_t sk[MC_SECKEY_BYTES];
};

/* Fresh random key pair. */
void mc_keypair_generate(struct mc_keypair *kp);
/* Deterministic key pair from a 32-byte seed (tests, RFC 8032 vectors). */
void mc_keypair_from_seed(struct mc_keypair *kp, const uint8_t seed[MC_SEED_BYTES]);

/* Raw Ed25519, no domain (RFC 8032 vectors and interop only). */
void mc_ed25519_sign_raw(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *kp,
                         const void *msg, size_t len);
MC_MUST_CHECK int mc_ed25519_verify_raw(const uint8_t sig[MC_SIG_BYTES], const mc_pubkey *pk,
                                        const void *msg, size_t len);

/* Domain-separated sign/verify. chain_id may be "" for chain-independent
 * purposes; it must be at most MC_CHAIN_ID_MAX bytes. Verify returns
 * MC_ERR_BAD_SIGNATURE on mismatch. Successful verifications are
 * remembered (by SHA-256 of message, signature and key, in a bounded
 * table) so the same signature checked again, as a node does at admission,
 * validation and commit, costs a hash. Thread-safe. */
void mc_sign(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *kp, const char *purpose,
             const char *chain_id, const void *msg, size_t len);
MC_MUST_CHECK int mc_sign_verify(const uint8_t sig[MC_SIG_BYTES], const mc_pubkey *pk,
                            const char *purpose, const char *chain_id, const void *msg,
                            size_t len);

/* Turns the verification cache on (the default) or off. Benchmarks and
 * the in-process consensus simulator (many nodes in one process, which
 * must not share what each one verified) turn it off. */
void mc_sign_verify_cache_enable(bool on);

/* Ed25519 verifications actually computed in this process (metrics; cache
 * hits are not counted). */
uint64_t mc_sign_verify_count(void);

#endif
