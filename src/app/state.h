/* Application state: a key/value map over the store's `state` table, with
 * two write overlays so that a block and each transaction in it apply
 * atomically.
 *
 *   reads:  tx overlay -> block overlay -> SQLite
 *   mc_state_tx_commit()   moves the tx overlay into the block overlay
 *   mc_state_tx_abort()    drops the tx overlay (a failed tx leaves nothing)
 *   mc_state_block_hash()  the state hash after the pending block
 *   mc_state_block_flush() writes the block overlay to SQLite (caller holds
 *                          the SQL transaction) and clears it
 *
 * State hash after block h (deterministic; keys sorted bytewise):
 *
 *   S_h = SHA-256("medchain/v1/state" || S_{h-1} || u64 h ||
 *                 for each key changed in h: bytes16 key || u8 present ||
 *                                             [bytes32 value])
 *
 * Keys are at most MC_STATE_KEY_MAX bytes, values MC_STATE_VALUE_MAX. */
#ifndef MC_APP_STATE_H
#define MC_APP_STATE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "crypto/hash.h"

#define MC_STATE_KEY_MAX 256
#define MC_STATE_VALUE_MAX (256 * 1024)

struct mc_state;

MC_MUST_CHECK int mc_state_create(struct mc_state **out, sqlite3 *db);
void mc_state_destroy(struct mc_state *st);

/* Appends the value to out. MC_ERR_NOT_FOUND when absent or deleted. */
MC_MUST_CHECK int mc_state_get(struct mc_state *st, const void *key, size_t klen,
                               struct mc_buf *out);
MC_MUST_CHECK int mc_state_put(struct mc_state *st, const void *key, size_t klen,
                               const void *val, size_t vlen);
MC_MUST_CHECK int mc_state_del(struct mc_state *st, const void *key, size_t klen);

void mc_state_tx_commit(struct mc_state *st);
void mc_state_tx_abort(struct mc_state *st);

/* Hash after applying the block overlay on top of prev at height. */
void mc_state_block_hash(struct mc_state *st, const mc_hash *prev, uint64_t height,
                         mc_hash *out);
MC_MUST_CHECK int mc_state_block_flush(struct mc_state *st);
void mc_state_block_abort(struct mc_state *st);

/* Iterates the committed SQLite rows whose key starts with prefix, in key
 * order (pending overlays are not included). fn returns non-zero to stop. */
MC_MUST_CHECK int mc_state_scan(struct mc_state *st, const void *prefix, size_t plen,
                                int (*fn)(void *ctx, const uint8_t *key, size_t klen,
                                          const uint8_t *val, size_t vlen),
                                void *ctx);

#endif
