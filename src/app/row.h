/* State keys and rows shared by the ledger modules (records, research,
 * supply): a bounded key builder and the put/get/decode-check of one row.
 *
 * Keys are a module prefix ("rr/", "s/u/", ...) followed by big-endian
 * integers and strings; every module documents its own layout. A key never
 * grows past MC_STATE_KEY_MAX: callers validate lengths first, so
 * overflowing is a bug and aborts. */
#ifndef MC_APP_ROW_H
#define MC_APP_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "app/state.h"
#include "base/codec.h"
#include "crypto/hash.h"

struct mc_key {
    uint8_t b[MC_STATE_KEY_MAX];
    size_t n;
};

void mc_key_init(struct mc_key *k, const char *prefix);
void mc_key_add(struct mc_key *k, const void *p, size_t n);
void mc_key_str(struct mc_key *k, const char *s);
void mc_key_u8(struct mc_key *k, uint8_t v);
void mc_key_u32(struct mc_key *k, uint32_t v);
void mc_key_u64(struct mc_key *k, uint64_t v);

/* Writes v (consumed: deinit'ed) under k. */
MC_MUST_CHECK int mc_row_put(struct mc_state *st, const struct mc_key *k, struct mc_buf *v);
/* Loads the row under k into v (initialised here; deinit'ed on failure).
 * MC_ERR_NOT_FOUND when absent. */
MC_MUST_CHECK int mc_row_get(struct mc_state *st, const struct mc_key *k, struct mc_buf *v);
/* Ends decoding a row loaded by mc_row_get: frees v and turns a decoding
 * failure (or trailing bytes) into MC_ERR_TAMPERED naming `what`. */
MC_MUST_CHECK int mc_row_finish(struct mc_dec *d, struct mc_buf *v, const char *what);

/* Records that the item with this hash (e.g. a request signature) was used
 * at height, under prefix || hash: 0 the first time, MC_ERR_EXISTS (a
 * replay) when it was used before. */
MC_MUST_CHECK int mc_row_use_once(struct mc_state *st, const char *prefix, const mc_hash *hash,
                                  uint64_t height);

#endif
