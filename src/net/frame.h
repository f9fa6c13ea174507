/* Sealed frames of the peer transport.
 *
 * After the handshake each direction has its own 32-byte key and a 64-bit
 * frame counter starting at 0. A frame on the wire:
 *
 *   | u32 length of the sealed part (big-endian) | ChaCha20-Poly1305 (IETF)
 *     ciphertext of the message, with its 16-byte tag |
 *
 * nonce = 4 zero bytes || u64 counter (big-endian); the length prefix is the
 * associated data, so it cannot be altered. A frame that fails to open, or
 * declares a length above the limit, ends the connection: counters never
 * repeat and are never skipped. */
#ifndef MC_NET_FRAME_H
#define MC_NET_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"

#define MC_FRAME_TAG_BYTES 16
#define MC_FRAME_HEADER_BYTES 4

struct mc_frame_key {
    uint8_t key[32];
    uint64_t counter;
};

/* Appends the sealed frame for msg to out and advances the counter. */
MC_MUST_CHECK int mc_frame_seal(struct mc_frame_key *k, struct mc_buf *out, const void *msg,
                                size_t len);

/* Incremental reader: feed bytes as they arrive, take whole messages. */
struct mc_frame_reader {
    struct mc_buf in;       /* unread bytes */
    size_t max_plain;       /* largest message accepted */
};

void mc_frame_reader_init(struct mc_frame_reader *r, size_t max_plain);
void mc_frame_reader_deinit(struct mc_frame_reader *r);
/* Appends received bytes. MC_ERR_TOO_LARGE if the buffered bytes would
 * exceed one maximal frame plus one header. */
MC_MUST_CHECK int mc_frame_reader_feed(struct mc_frame_reader *r, const void *p, size_t n);
/* Opens the next complete frame into msg (appended). Returns 1 when a
 * message was produced, 0 when more bytes are needed, or a negative error:
 * MC_ERR_TOO_LARGE (declared length above the limit), MC_ERR_CRYPTO (does
 * not authenticate). */
MC_MUST_CHECK int mc_frame_reader_next(struct mc_frame_reader *r, struct mc_frame_key *k, struct mc_buf *msg);

#endif
