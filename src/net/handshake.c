/* Station-to-station handshake (protocol in handshake.h). */
#include "net/handshake.h"

#include "base/limits.h"
#include "net/frame.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Before the peer is authenticated a connection buffers at most
 * MC_NET_PREAUTH_BYTES: a hello and the first sealed auth frame must fit. */
_Static_assert(MC_HS_HELLO_BYTES + MC_FRAME_HEADER_BYTES + MC_HS_AUTH_BYTES + MC_FRAME_TAG_BYTES <=
                   MC_NET_PREAUTH_BYTES,
               "the handshake fits the pre-authentication bound");

static const uint8_t MAGIC[4] = {'M', 'C', 'N', '1'};

/* HKDF-SHA256 (RFC 5869) for up to 64 bytes of output. */
static void hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
                        const uint8_t *ikm, size_t ikm_len, const char *info) {
    uint8_t prk[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, salt, salt_len);
    crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
    crypto_auth_hmacsha256_final(&st, prk);
    uint8_t t[32];
    size_t done = 0;
    for (uint8_t i = 1; done < out_len; i++) {
        crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
        if (i > 1) crypto_auth_hmacsha256_update(&st, t, sizeof t);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)info, strlen(info));
        crypto_auth_hmacsha256_update(&st, &i, 1);
        crypto_auth_hmacsha256_final(&st, t);
        size_t n = out_len - done < 32 ? out_len - done : 32;
        memcpy(out + done, t, n);
        done += n;
    }
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
}

void mc_hs_init(struct mc_handshake *hs, uint8_t role, const char *chain_id,
                const struct mc_keypair *node_key, const uint8_t eph_sk[32]) {
    memset(hs, 0, sizeof *hs);
    hs->role = role;
    snprintf(hs->chain_id, sizeof hs->chain_id, "%s", chain_id);
    mc_sha256(&hs->chain_hash, chain_id, strlen(chain_id));
    hs->node_key = node_key;
    memcpy(hs->eph_sk, eph_sk, 32);
    crypto_scalarmult_base(hs->eph_pk, hs->eph_sk);
    memcpy(hs->hello, MAGIC, 4);
    hs->hello[4] = 1;
    hs->hello[5] = role;
    memcpy(hs->hello + 6, hs->eph_pk, 32);
    memcpy(hs->hello + 38, hs->chain_hash.b, 32);
}

int mc_hs_on_hello(struct mc_handshake *hs, const uint8_t *hello, size_t len) {
    if (len != MC_HS_HELLO_BYTES || memcmp(hello, MAGIC, 4) != 0 || hello[4] != 1)
        return mc_err_set(MC_ERR_MALFORMED, "peer hello is not a medchain v1 hello");
    if (hello[5] != (hs->role == MC_HS_INITIATOR ? MC_HS_RESPONDER : MC_HS_INITIATOR))
        return mc_err_set(MC_ERR_MALFORMED, "peer hello claims the wrong role");
    if (sodium_memcmp(hello + 38, hs->chain_hash.b, 32) != 0)
        return mc_err_set(MC_ERR_WRONG_CHAIN, "peer is on another chain");
    memcpy(hs->peer_hello, hello, MC_HS_HELLO_BYTES);
    uint8_t shared[32];
    if (crypto_scalarmult(shared, hs->eph_sk, hello + 6) != 0)
        return mc_err_set(MC_ERR_CRYPTO, "peer ephemeral key is degenerate");
    const uint8_t *ih = hs->role == MC_HS_INITIATOR ? hs->hello : hs->peer_hello;
    const uint8_t *rh = hs->role == MC_HS_INITIATOR ? hs->peer_hello : hs->hello;
    mc_sha256_ctx ctx;
    mc_sha256_init(&ctx);
    mc_sha256_update(&ctx, "medchain/v1/hs-transcript", 25);
    mc_sha256_update(&ctx, ih, MC_HS_HELLO_BYTES);
    mc_sha256_update(&ctx, rh, MC_HS_HELLO_BYTES);
    mc_sha256_final(&ctx, &hs->transcript);
    uint8_t keys[64];
    hkdf_sha256(keys, sizeof keys, hs->transcript.b, 32, shared, sizeof shared,
                "medchain/v1/hs-keys");
    const uint8_t *i2r = keys, *r2i = keys + 32;
    memcpy(hs->send_key, hs->role == MC_HS_INITIATOR ? i2r : r2i, 32);
    memcpy(hs->recv_key, hs->role == MC_HS_INITIATOR ? r2i : i2r, 32);
    hs->have_keys = true;
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(keys, sizeof keys);
    sodium_memzero(hs->eph_sk, sizeof hs->eph_sk);
    return 0;
}

static void signed_bytes(uint8_t out[33], const mc_hash *t, uint8_t role) {
    memcpy(out, t->b, 32);
    out[32] = role;
}

void mc_hs_auth(const struct mc_handshake *hs, uint8_t out[MC_HS_AUTH_BYTES]) {
    uint8_t m[33];
    signed_bytes(m, &hs->transcript, hs->role);
    memcpy(out, hs->node_key->pk.b, 32);
    mc_sign(out + 32, hs->node_key, MC_SIGN_HANDSHAKE, hs->chain_id, m, sizeof m);
}

int mc_hs_on_auth(struct mc_handshake *hs, const uint8_t *auth, size_t len) {
    if (!hs->have_keys || len != MC_HS_AUTH_BYTES)
        return mc_err_set(MC_ERR_MALFORMED, "peer authentication has the wrong size");
    mc_pubkey pk;
    memcpy(pk.b, auth, 32);
    uint8_t m[33];
    signed_bytes(m, &hs->transcript, hs->role == MC_HS_INITIATOR ? MC_HS_RESPONDER : MC_HS_INITIATOR);
    if (mc_sign_verify(auth + 32, &pk, MC_SIGN_HANDSHAKE, hs->chain_id, m, sizeof m) != 0)
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "peer's handshake signature does not verify");
    hs->peer_key = pk;
    return 0;
}

void mc_hs_wipe(struct mc_handshake *hs) {
    sodium_memzero(hs->eph_sk, sizeof hs->eph_sk);
    sodium_memzero(hs->send_key, sizeof hs->send_key);
    sodium_memzero(hs->recv_key, sizeof hs->recv_key);
}
