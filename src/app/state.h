/* Application state: a key/value map over a key-value store passed in
 * (chain/kv.h: the chain store's `state` table on a node, memory in a
 * test), with two write overlays so that a block and each transaction in it
 * apply atomically.
 *
 *   reads:  tx overlay -> block overlay -> the key-value store
 *   mc_state_tx_commit()   moves the tx overlay into the block overlay
 *   mc_state_tx_abort()    drops the tx overlay (a failed tx leaves nothing)
 *   mc_state_block_root()  the state root after the pending block
 *   mc_state_block_flush() writes the block overlay to the store in one
 *                          write batch (begin .. commit) and clears it
 *
 * The state root after a block is the root of the sparse Merkle tree over
 * every row (chain/smt.h, chain/stateproof.h): it proves the presence or
 * absence of any key against a header. The tree's nodes live in the same
 * store under keys starting with a zero byte, which put and del refuse;
 * mc_state_block_root computes the block's new nodes into a third overlay
 * that mc_state_block_flush writes in the same batch as the rows.
 *
 * Keys are at most MC_STATE_KEY_MAX bytes, values MC_STATE_VALUE_MAX. */
#ifndef MC_APP_STATE_H
#define MC_APP_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/limits.h"
#include "chain/kv.h"
#include "crypto/hash.h"

/* Bytes of the key of the overlays' keyed hash (SipHash). */
#define MC_STATE_HASH_KEY_BYTES 16

struct mc_state;

/* Opens the state over kv (which must outlive it). hash_key keys the
 * overlays' hash table; the caller draws it at random so that transaction
 * authors cannot choose keys that collide. It never reaches the state or
 * its hash, which are the same for every key. */
MC_MUST_CHECK int mc_state_create(struct mc_state **out, struct mc_kv *kv,
                                  const uint8_t hash_key[MC_STATE_HASH_KEY_BYTES]);
void mc_state_destroy(struct mc_state *st);

/* Appends the value to out. MC_ERR_NOT_FOUND when absent or deleted. */
MC_MUST_CHECK int mc_state_get(struct mc_state *st, const void *key, size_t klen,
                               struct mc_buf *out);
MC_MUST_CHECK int mc_state_put(struct mc_state *st, const void *key, size_t klen,
                               const void *val, size_t vlen);
MC_MUST_CHECK int mc_state_del(struct mc_state *st, const void *key, size_t klen);

void mc_state_tx_commit(struct mc_state *st);
void mc_state_tx_abort(struct mc_state *st);

/* The state root after the block overlay (reads the tree's nodes from the
 * store: MC_ERR_TAMPERED when they are damaged). Call it once, after the
 * last transaction of the block and before mc_state_block_flush. */
MC_MUST_CHECK int mc_state_block_root(struct mc_state *st, mc_hash *out);
MC_MUST_CHECK int mc_state_block_flush(struct mc_state *st);
/* Bracket a group of reads (a block's execution, an admission check) so
 * they share one snapshot of the store and its read lock (kv.h read_begin):
 * they nest, a read_begin that succeeded is matched by one read_end, and
 * none may be open when the block is flushed. */
MC_MUST_CHECK int mc_state_read_begin(struct mc_state *st);
void mc_state_read_end(struct mc_state *st);
void mc_state_block_abort(struct mc_state *st);

/* Iterates the committed rows whose key starts with prefix, in key
 * order (pending overlays are not included). fn returns 0 to go on, a
 * positive value to stop (the scan returns 0) or a negative mc_err, which
 * stops the scan and is its result (mc_kv_scan's contract). */
MC_MUST_CHECK int mc_state_scan(struct mc_state *st, const void *prefix, size_t plen,
                                int (*fn)(void *ctx, const uint8_t *key, size_t klen,
                                          const uint8_t *val, size_t vlen),
                                void *ctx);

#endif
