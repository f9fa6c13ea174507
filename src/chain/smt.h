/* The sparse Merkle tree of the state, kept in a key-value store.
 *
 * Hash rules and proofs are chain/stateproof.h. The tree stores only its
 * non-empty subtrees of two rows or more (internal nodes) and one leaf per
 * row, each at its position: a subtree holding one row is that row's leaf,
 * stored where the subtree starts. The shape depends only on the set of
 * rows, never on the order they were written in, so two nodes that executed
 * the same blocks hold the same node rows.
 *
 * Node rows live in the same store as the state rows, under keys that start
 * with a zero byte, which no state key does (app/state.c refuses them):
 *   key   | 0x00 | 32 bytes: the path, bits past depth zero | u16 depth |
 *         (path first, so the nodes below a subtree are neighbours in the
 *         store's key order and a changed row rewrites few of its pages)
 *   value | u8 kind | hash | hash |  kind 0: leaf (key hash, value hash);
 *                                    kind 1: internal (left, right hash)
 * An update of n changed rows reads and writes O(n log N) nodes for a tree
 * of N rows; a proof reads one node per level. */
#ifndef MC_CHAIN_SMT_H
#define MC_CHAIN_SMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"
#include "chain/kv.h"
#include "chain/stateproof.h"
#include "crypto/hash.h"

/* First byte of every node key. */
#define MC_SMT_KEY_PREFIX 0x00
/* Bytes of a node key at most. */
#define MC_SMT_NODE_KEY_MAX (1 + MC_SMT_DEPTH / 8 + 2)

/* Where the nodes are read and written: get as mc_kv_get (MC_ERR_NOT_FOUND
 * when absent); put and del may be NULL for a read-only walk. */
struct mc_smt_io {
    void *ctx;
    int (*get)(void *ctx, const uint8_t *key, size_t klen, struct mc_buf *out);
    int (*put)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
    int (*del)(void *ctx, const uint8_t *key, size_t klen);
};

/* One changed row: its key hash and, when present, its value hash. */
struct mc_smt_change {
    mc_hash key_hash;
    mc_hash value_hash;
    bool present;
};

/* Reads from a committed key-value store (no writes). */
void mc_smt_io_kv(struct mc_smt_io *io, struct mc_kv *kv);

/* The root over the stored nodes (32 zero bytes for an empty tree). */
MC_MUST_CHECK int mc_smt_root(const struct mc_smt_io *io, mc_hash *root);

/* Applies the changes (sorted by key hash, each key hash once: MC_ERR_INVALID
 * otherwise), writing and deleting nodes through io, and gives the new root.
 * A deletion of an absent row changes nothing. MC_ERR_TAMPERED when a stored
 * node does not decode or contradicts the tree's shape. */
MC_MUST_CHECK int mc_smt_update(const struct mc_smt_io *io, const struct mc_smt_change *ch,
                                size_t n, mc_hash *root);

/* The proof for the row whose key hashes to kh (presence or absence). */
MC_MUST_CHECK int mc_smt_prove(const struct mc_smt_io *io, const mc_hash *kh,
                               struct mc_stateproof *p);

/* Root of the tree holding exactly these rows (present ones, sorted by key
 * hash, each once), computed from nothing stored: the independent check of a
 * stored tree and of a snapshot's rows. */
MC_MUST_CHECK int mc_smt_root_of(const struct mc_smt_change *rows, size_t n, mc_hash *root);

/* Sorts changes by key hash (in place). */
void mc_smt_sort(struct mc_smt_change *ch, size_t n);

#endif
