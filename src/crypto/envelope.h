/* Envelope encryption of record payloads.
 *
 * A payload is encrypted once with a fresh random 32-byte data key using
 * XChaCha20-Poly1305 (IETF). Ciphertext layout:
 *
 *   | nonce (24) | AEAD ciphertext incl. 16-byte tag |
 *
 * The associated data (e.g. the record id) binds the ciphertext to its
 * anchor. The data key is then sealed separately to each reader: an
 * anonymous crypto_box_seal to the reader's X25519 key, which is derived
 * from the reader's Ed25519 account key, so one account key serves both
 * signing and receiving. */
#ifndef MC_CRYPTO_ENVELOPE_H
#define MC_CRYPTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"
#include "crypto/sign.h"

#define MC_DATAKEY_BYTES 32
#define MC_ENVELOPE_OVERHEAD (24 + 16)
#define MC_SEALED_KEY_BYTES (32 + 48) /* crypto_box_SEALBYTES + key */

/* Generates a fresh data key into datakey and appends the ciphertext to ct. */
MC_MUST_CHECK int mc_envelope_encrypt(struct mc_buf *ct, uint8_t datakey[MC_DATAKEY_BYTES],
                                      const void *plain, size_t plain_len, const void *ad,
                                      size_t ad_len);
/* The same layout under a key the caller chose (a key derived from a batch
 * key, see app/records.h): a fresh random nonce, then the ciphertext and
 * tag appended to ct. On failure ct is left as it was (its new bytes
 * wiped) and the error returned. */
MC_MUST_CHECK int mc_envelope_encrypt_with(struct mc_buf *ct,
                                           const uint8_t datakey[MC_DATAKEY_BYTES],
                                           const void *plain, size_t plain_len, const void *ad,
                                           size_t ad_len);
/* A fresh random data key (or batch key). */
void mc_envelope_keygen(uint8_t datakey[MC_DATAKEY_BYTES]);
/* Appends the plaintext to plain; MC_ERR_CRYPTO if the key, AD or bytes are wrong. */
MC_MUST_CHECK int mc_envelope_decrypt(struct mc_buf *plain,
                                      const uint8_t datakey[MC_DATAKEY_BYTES], const void *ct,
                                      size_t ct_len, const void *ad, size_t ad_len);

/* Seals a data key to the holder of an Ed25519 public key. MC_ERR_CRYPTO if
 * the public key is not a valid curve point. */
MC_MUST_CHECK int mc_envelope_seal_key(uint8_t sealed[MC_SEALED_KEY_BYTES],
                                       const uint8_t datakey[MC_DATAKEY_BYTES],
                                       const mc_pubkey *recipient);
/* Opens a sealed data key with the recipient's key pair. */
MC_MUST_CHECK int mc_envelope_open_key(uint8_t datakey[MC_DATAKEY_BYTES],
                                       const uint8_t sealed[MC_SEALED_KEY_BYTES],
                                       const struct mc_keypair *kp);

#endif
