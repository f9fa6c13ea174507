/* Chunked encryption of large attachments (FHIR Binary), so that neither
 * an upload nor a read holds a whole object in memory.
 *
 * libsodium's crypto_secretstream_xchacha20poly1305 under the record
 * version's data key (the same key hierarchy as crypto/envelope.h and
 * app/records.h: a grant hands out the same data key). Ciphertext layout:
 *
 *   | header 24 |
 *   | metadata message: MC_STREAM_META_BYTES plaintext + 17 |
 *   | data message: MC_STREAM_CHUNK plaintext + 17 |  ... (every full chunk)
 *   | final message: 0..MC_STREAM_CHUNK-1 plaintext + 17, tagged FINAL |
 *
 * The metadata plaintext is | u8 n | content type (n bytes) | zeros |.
 * Every message carries the record's associated data (str8 id || u32
 * version), so a ciphertext opens only as the record version it was made
 * for. Each message is authenticated before its plaintext is released;
 * the stream's own counter refuses chunks reordered, repeated or taken
 * from another stream, and the FINAL tag (only on the last message, which
 * must end the ciphertext) refuses a truncated or extended one. The sizes
 * of the layout are fixed by the plaintext length (mc_stream_ct_size), so
 * the anchor's ciphertext size tells a reader where each message ends.
 *
 * The states hold key material: mc_stream_wipe when done. Callers must
 * have called mc_crypto_init(). */
#ifndef MC_CRYPTO_STREAM_H
#define MC_CRYPTO_STREAM_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"
#include "crypto/envelope.h"

#define MC_STREAM_HEADER_BYTES 24
#define MC_STREAM_ABYTES 17
#define MC_STREAM_META_BYTES 128
/* Ciphertext bytes of one full data message. */
#define MC_STREAM_MSG_BYTES (MC_STREAM_CHUNK + MC_STREAM_ABYTES)
/* Ciphertext before the first data message. */
#define MC_STREAM_PREFIX_BYTES (MC_STREAM_HEADER_BYTES + MC_STREAM_META_BYTES + MC_STREAM_ABYTES)

_Static_assert(MC_ATTACHMENT_TYPE_MAX + 1 <= MC_STREAM_META_BYTES, "a content type fits the metadata");

struct mc_stream {
    crypto_secretstream_xchacha20poly1305_state st;
};

/* Ciphertext size of a plaintext of plain bytes. */
uint64_t mc_stream_ct_size(uint64_t plain);
/* Plaintext size of a well-formed ciphertext of ct bytes; MC_ERR_MALFORMED
 * when no plaintext length gives that size. */
MC_MUST_CHECK int mc_stream_plain_size(uint64_t ct, uint64_t *plain);

/* Starts encrypting: writes the header. */
void mc_stream_push_init(struct mc_stream *s, uint8_t header[MC_STREAM_HEADER_BYTES],
                         const uint8_t key[MC_DATAKEY_BYTES]);
/* Encrypts one message of n <= MC_STREAM_CHUNK (or MC_STREAM_META_BYTES)
 * bytes into out (n + MC_STREAM_ABYTES bytes); final tags the last one. */
void mc_stream_push(struct mc_stream *s, uint8_t *out, const void *in, size_t n, const void *ad,
                    size_t ad_len, bool final);
/* Starts decrypting from the header; MC_ERR_CRYPTO for a bad header. */
MC_MUST_CHECK int mc_stream_pull_init(struct mc_stream *s, const uint8_t header[MC_STREAM_HEADER_BYTES],
                                      const uint8_t key[MC_DATAKEY_BYTES]);
/* Authenticates and decrypts one message of ct_len bytes (at least
 * MC_STREAM_ABYTES) into out (ct_len - MC_STREAM_ABYTES bytes). final must
 * say whether this is the last message of the ciphertext: a FINAL tag
 * elsewhere, or none on the last, is MC_ERR_CRYPTO (truncated, extended or
 * altered); nothing is written to out on any error. */
MC_MUST_CHECK int mc_stream_pull(struct mc_stream *s, uint8_t *out, const uint8_t *ct, size_t ct_len,
                                 const void *ad, size_t ad_len, bool final);
void mc_stream_wipe(struct mc_stream *s);

/* The metadata plaintext for a content type (at most MC_ATTACHMENT_TYPE_MAX
 * printable ASCII bytes; MC_ERR_INVALID otherwise). */
MC_MUST_CHECK int mc_stream_meta_encode(uint8_t out[MC_STREAM_META_BYTES], const char *content_type);
/* Its content type; MC_ERR_MALFORMED for a metadata block that no encoder
 * makes. */
MC_MUST_CHECK int mc_stream_meta_decode(char out[MC_ATTACHMENT_TYPE_MAX + 1],
                                        const uint8_t in[MC_STREAM_META_BYTES]);

#endif
