/* The node's SQLite store: blocks, transactions, the ledger log, the
 * application state and node metadata, in one database file.
 *
 * The database runs in WAL mode with synchronous=FULL. A block, its
 * transactions, its log entries and its state changes are written between
 * mc_store_begin and mc_store_commit: one SQL transaction, so a crash leaves
 * the node at the previous block or the new one, never between.
 *
 * Tables:
 *   blocks(height PK, hash, header, body_commit, commit)  header and the
 *          previous block's certificate as stored in the body, and this
 *          block's own certificate
 *   txs(height, idx, id, log_index, bytes)                 PK (height, idx)
 *   log(idx PK, leaf)                                      RFC 6962 leaf hashes
 *   log_nodes(level, idx, hash)                            PK (level, idx): the
 *          hash of every complete subtree of 2^level leaves (level >= 1) at
 *          position idx, written with the leaf that completes it
 *   state(key PK, value)                                   application state
 *   meta(key PK, value)                                    genesis, node data
 *
 * A store handle is used by one thread at a time; the caller serialises. */
#ifndef MC_CHAIN_STORE_H
#define MC_CHAIN_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/codec.h"
#include "chain/block.h"
#include "chain/commit.h"
#include "chain/kv.h"
#include "crypto/hash.h"

struct mc_store;

/* Opens (creating when absent unless read_only) the database at path. */
MC_MUST_CHECK int mc_store_open(struct mc_store **out, const char *path, bool read_only);
void mc_store_close(struct mc_store *s);
sqlite3 *mc_store_db(struct mc_store *s);
/* The application's state (the state table) as a key-value store; the
 * handle lives as long as the store. Its write batch nests inside
 * mc_store_begin/commit, so a block and its state changes stay one SQL
 * transaction. */
struct mc_kv *mc_store_kv(struct mc_store *s);

MC_MUST_CHECK int mc_store_begin(struct mc_store *s);
MC_MUST_CHECK int mc_store_commit(struct mc_store *s);
void mc_store_rollback(struct mc_store *s);

/* Brackets a group of reads (a proof, a lookup) so they share one snapshot
 * and one acquisition of the database's read lock instead of one per
 * statement. Nests inside begin/commit and inside itself; every successful
 * read_begin must be matched by one read_end. */
MC_MUST_CHECK int mc_store_read_begin(struct mc_store *s);
void mc_store_read_end(struct mc_store *s);

/* Metadata: small named blobs. MC_ERR_NOT_FOUND when absent. */
MC_MUST_CHECK int mc_store_meta_get(struct mc_store *s, const char *key, struct mc_buf *out);
MC_MUST_CHECK int mc_store_meta_put(struct mc_store *s, const char *key, const void *val,
                                    size_t len);

/* Latest stored height, 0 when no block is stored. */
MC_MUST_CHECK int mc_store_height(struct mc_store *s, uint64_t *height);

/* Appends block `header->height` (must be latest + 1) with its txs, log
 * entries (starting at log index log_start) and certificate. Must be inside
 * begin/commit. */
MC_MUST_CHECK int mc_store_put_block(struct mc_store *s, const struct mc_header *header,
                                     const struct mc_tx_ref *txs, uint32_t count,
                                     const struct mc_commit *last_commit,
                                     const struct mc_commit *commit, uint64_t log_start);

/* Raw stored rows of one block (out buffers appended to; any may be NULL). */
MC_MUST_CHECK int mc_store_get_block_raw(struct mc_store *s, uint64_t height, mc_hash *hash,
                                         struct mc_buf *header, struct mc_buf *last_commit,
                                         struct mc_buf *commit);
/* Decoded header and stored hash. */
MC_MUST_CHECK int mc_store_get_header(struct mc_store *s, uint64_t height, struct mc_header *h,
                                      mc_hash *hash);
MC_MUST_CHECK int mc_store_get_commit(struct mc_store *s, uint64_t height, struct mc_commit *c);

/* Pruning (an option of the node, default off): the bytes of every
 * transaction of the blocks below `below` are dropped (their rows keep the
 * id and log index; headers, certificates, log leaves and log subtrees
 * stay), so the chain still verifies and every proof is still served.
 * Monotonic: a lower mark than the current one does nothing.
 * mc_store_pruned_below gives the mark (0: nothing pruned). */
MC_MUST_CHECK int mc_store_prune(struct mc_store *s, uint64_t below);
MC_MUST_CHECK int mc_store_pruned_below(struct mc_store *s, uint64_t *below);

/* Transaction `index` of block `height`: bytes appended to out
 * (MC_ERR_NOT_FOUND, "pruned", when out is given and they were pruned). */
MC_MUST_CHECK int mc_store_get_tx(struct mc_store *s, uint64_t height, uint32_t index,
                                  struct mc_buf *out, mc_hash *id, uint64_t *log_index);
/* Finds a committed block by its hash (indexed). MC_ERR_NOT_FOUND when none. */
MC_MUST_CHECK int mc_store_find_block(struct mc_store *s, const mc_hash *hash, uint64_t *height);
/* Finds a committed transaction by id. */
MC_MUST_CHECK int mc_store_find_tx(struct mc_store *s, const mc_hash *id, uint64_t *height,
                                   uint32_t *index, uint64_t *log_index);

/* Ledger log leaf i (for proofs); usable as an mc_merkle_leaf_fn with the
 * store as context. */
MC_MUST_CHECK int mc_store_log_leaf(void *store, uint64_t index, mc_hash *out);
/* Hash of the complete subtree of 2^level leaves of the ledger log at
 * position index (level 0: the leaf); usable as an mc_merkle_node_fn with
 * the store as context, which makes proofs and roots O(log n) reads.
 * MC_ERR_NOT_FOUND when the subtree is not complete in the stored log (or,
 * on a read-only handle of a database written before log_nodes existed,
 * for any level > 0); MC_ERR_TAMPERED for a row of the wrong length. */
MC_MUST_CHECK int mc_store_log_node(void *store, unsigned level, uint64_t index, mc_hash *out);
/* Number of log leaves stored. */
MC_MUST_CHECK int mc_store_log_size(struct mc_store *s, uint64_t *size);

/* Seeds an empty ledger log with a frontier (crypto/merkle.h): the hashes
 * of the complete subtrees its leaves so far form, the left siblings every
 * later leaf needs. For a node restored from a state snapshot, which holds
 * no earlier leaf: leaves and subtrees below the frontier's size stay
 * absent (their proofs are NOT_FOUND), later ones are stored as usual.
 * Records meta "log_base" (u64 size). Inside begin/commit; MC_ERR_STATE
 * when the log is not empty. */
struct mc_merkle_frontier;
MC_MUST_CHECK int mc_store_log_seed(struct mc_store *s, const struct mc_merkle_frontier *f);

/* Detail of the last SQLite error on this handle. */
const char *mc_store_errmsg(struct mc_store *s);

#endif
