/* Envelope encryption (layout and key model in envelope.h).
 *
 * Guarantees:
 *  - A ciphertext opens only with its data key and the same associated
 *    data; any altered byte fails with MC_ERR_CRYPTO and appends nothing.
 *  - Plaintext is never written to the output buffer of a failed decryption:
 *    the tag is checked before anything is decrypted, and the buffer is cut
 *    back to its previous length on any error.
 *  - X25519 secrets derived from the Ed25519 key are wiped after use.
 *
 * Callers must have called mc_crypto_init(). */
#include "crypto/envelope.h"

#include <sodium.h>
#include <string.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert(MC_ENVELOPE_OVERHEAD == NONCE_BYTES + TAG_BYTES, "envelope layout");
_Static_assert(MC_DATAKEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "data key size");
_Static_assert(MC_SEALED_KEY_BYTES == crypto_box_SEALBYTES + MC_DATAKEY_BYTES, "sealed key size");

int mc_envelope_encrypt_with(struct mc_buf *ct, const uint8_t datakey[MC_DATAKEY_BYTES],
                             const void *plain, size_t plain_len, const void *ad, size_t ad_len) {
    if (plain_len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
        plain_len > SIZE_MAX - MC_ENVELOPE_OVERHEAD)
        return mc_err_set(MC_ERR_TOO_LARGE, "payload of %zu bytes is too large to encrypt",
                          plain_len);
    if (ct->err) return ct->err;
    size_t start = ct->len;
    uint8_t nonce[NONCE_BYTES];
    randombytes_buf(nonce, sizeof nonce);

    /* Append nonce and plaintext, then encrypt the plaintext in place and
     * append the tag: any reallocation happens before or after the
     * plaintext is in the buffer, never copying it to freed memory later. */
    mc_buf_append(ct, nonce, sizeof nonce);
    mc_buf_append(ct, plain, plain_len);
    if (ct->err) goto fail;
    uint8_t tag[TAG_BYTES];
    uint8_t *body = ct->data + start + NONCE_BYTES;
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(body, tag, NULL, body, plain_len, ad,
                                                        ad_len, NULL, nonce, datakey);
    mc_buf_append(ct, tag, sizeof tag);
    if (ct->err) goto fail;
    return 0;
fail:
    if (ct->data && ct->cap > start) sodium_memzero(ct->data + start, ct->cap - start);
    ct->len = start;
    return ct->err;
}

int mc_envelope_encrypt(struct mc_buf *ct, uint8_t datakey[MC_DATAKEY_BYTES], const void *plain,
                        size_t plain_len, const void *ad, size_t ad_len) {
    mc_envelope_keygen(datakey);
    int rc = mc_envelope_encrypt_with(ct, datakey, plain, plain_len, ad, ad_len);
    if (rc) sodium_memzero(datakey, MC_DATAKEY_BYTES);
    return rc;
}

void mc_envelope_keygen(uint8_t datakey[MC_DATAKEY_BYTES]) {
    crypto_aead_xchacha20poly1305_ietf_keygen(datakey);
}

int mc_envelope_decrypt(struct mc_buf *plain, const uint8_t datakey[MC_DATAKEY_BYTES],
                        const void *ct, size_t ct_len, const void *ad, size_t ad_len) {
    if (ct_len < MC_ENVELOPE_OVERHEAD)
        return mc_err_set(MC_ERR_CRYPTO, "ciphertext of %zu bytes is shorter than its overhead",
                          ct_len);
    if (plain->err) return plain->err;
    const uint8_t *nonce = ct;
    const uint8_t *body = nonce + NONCE_BYTES;
    size_t body_len = ct_len - MC_ENVELOPE_OVERHEAD;
    const uint8_t *tag = body + body_len;
    size_t start = plain->len;

    /* Copy the ciphertext to the output and open it there: the detached
     * form verifies the tag before it decrypts. */
    mc_buf_append(plain, body, body_len);
    if (plain->err) {
        plain->len = start;
        return plain->err;
    }
    uint8_t *out = plain->data + start;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out, NULL, out, body_len, tag, ad,
                                                            ad_len, nonce, datakey) != 0) {
        sodium_memzero(out, body_len);
        plain->len = start;
        plain->data[start] = 0;
        return mc_err_set(MC_ERR_CRYPTO, "ciphertext does not open with this key and data");
    }
    return 0;
}

int mc_envelope_seal_key(uint8_t sealed[MC_SEALED_KEY_BYTES],
                         const uint8_t datakey[MC_DATAKEY_BYTES], const mc_pubkey *recipient) {
    uint8_t xpk[crypto_box_PUBLICKEYBYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(xpk, recipient->b) != 0)
        return mc_err_set(MC_ERR_CRYPTO, "recipient key is not a valid Ed25519 point");
    if (crypto_box_seal(sealed, datakey, MC_DATAKEY_BYTES, xpk) != 0)
        return mc_err_set(MC_ERR_CRYPTO, "cannot seal the data key");
    return 0;
}

int mc_envelope_open_key(uint8_t datakey[MC_DATAKEY_BYTES],
                         const uint8_t sealed[MC_SEALED_KEY_BYTES], const struct mc_keypair *kp) {
    uint8_t xpk[crypto_box_PUBLICKEYBYTES], xsk[crypto_box_SECRETKEYBYTES];
    int rc = 0;
    if (crypto_sign_ed25519_pk_to_curve25519(xpk, kp->pk.b) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(xsk, kp->sk) != 0) {
        rc = mc_err_set(MC_ERR_CRYPTO, "key pair cannot be converted to X25519");
    } else if (crypto_box_seal_open(datakey, sealed, MC_SEALED_KEY_BYTES, xpk, xsk) != 0) {
        rc = mc_err_set(MC_ERR_CRYPTO, "sealed key does not open with this key pair");
    }
    sodium_memzero(xsk, sizeof xsk);
    if (rc) sodium_memzero(datakey, MC_DATAKEY_BYTES);
    return rc;
}
