/* Station-to-station handshake of the peer transport.
 *
 * Both sides hold a long-term Ed25519 node key listed in the membership.
 * The handshake is symmetric except for a role byte:
 *
 *   1. each side sends HELLO (plaintext, fixed size, 70 bytes):
 *        | "MCN1" | u8 version (=1) | u8 role (0 initiator, 1 responder) |
 *        | ephemeral X25519 public key 32 | chain-id hash 32 (SHA-256) |
 *      A HELLO for another chain, version or role is refused.
 *   2. shared = X25519(own ephemeral secret, peer ephemeral public);
 *      transcript T = SHA-256("medchain/v1/hs-transcript" ||
 *                             initiator HELLO || responder HELLO)
 *      keys: k_i2r || k_r2i = HKDF-SHA256(ikm = shared, salt = T,
 *                                          info = "medchain/v1/hs-keys", 64)
 *   3. each side sends AUTH as the first sealed frame of its direction:
 *        | node public key 32 | Ed25519 signature 64 |
 *      signature = mc_sign(MC_SIGN_HANDSHAKE, chain_id, T || u8 role):
 *      both sides sign the same transcript, each with its own role, so a
 *      signature cannot be reflected back. The receiver checks the
 *      signature and asks the membership whether the key may connect.
 *
 * Everything here is pure (ephemeral keys are inputs), so the exchange has
 * a fixed test vector (tests/net/test_handshake.c, docs/NET.md). */
#ifndef MC_NET_HANDSHAKE_H
#define MC_NET_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

#define MC_HS_HELLO_BYTES 70
#define MC_HS_AUTH_BYTES (32 + 64)
#define MC_HS_KEY_BYTES 32

enum mc_hs_role { MC_HS_INITIATOR = 0, MC_HS_RESPONDER = 1 };

struct mc_handshake {
    uint8_t role;
    char chain_id[65];
    mc_hash chain_hash;
    const struct mc_keypair *node_key;   /* borrowed */
    uint8_t eph_pk[32], eph_sk[32];
    uint8_t hello[MC_HS_HELLO_BYTES];    /* ours */
    uint8_t peer_hello[MC_HS_HELLO_BYTES];
    mc_hash transcript;
    uint8_t send_key[MC_HS_KEY_BYTES], recv_key[MC_HS_KEY_BYTES];
    bool have_keys;
    mc_pubkey peer_key;
};

/* Starts a handshake with the given ephemeral secret (32 random bytes in
 * production, fixed in test vectors); writes our HELLO into hs->hello. */
void mc_hs_init(struct mc_handshake *hs, uint8_t role, const char *chain_id,
                const struct mc_keypair *node_key, const uint8_t eph_sk[32]);
/* Takes the peer's HELLO: derives the transcript and direction keys.
 * MC_ERR_MALFORMED (bad magic/version/role), MC_ERR_WRONG_CHAIN,
 * MC_ERR_CRYPTO (degenerate shared secret). */
MC_MUST_CHECK int mc_hs_on_hello(struct mc_handshake *hs, const uint8_t *hello, size_t len);
/* Our AUTH plaintext (to be sealed as the first frame). */
void mc_hs_auth(const struct mc_handshake *hs, uint8_t out[MC_HS_AUTH_BYTES]);
/* Checks the peer's AUTH plaintext; on success hs->peer_key is set (the
 * caller then checks membership). MC_ERR_BAD_SIGNATURE or MC_ERR_MALFORMED. */
MC_MUST_CHECK int mc_hs_on_auth(struct mc_handshake *hs, const uint8_t *auth, size_t len);
/* Wipes secrets. */
void mc_hs_wipe(struct mc_handshake *hs);

#endif
