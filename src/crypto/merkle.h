/* RFC 6962 / RFC 9162 Merkle tree hashing, proofs and verification.
 *
 *   leaf hash  = SHA-256(0x00 || leaf data)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *
 * Proof generation works over hashes held by the caller, through a
 * callback so that a store can serve them from disk. Two kinds of callback:
 * a leaf callback (every sibling subtree is rehashed from its leaves, O(n)
 * per proof) and a node callback that serves the root of any perfect
 * subtree directly (O(log n) fetches per proof, see the _nodes variants).
 * Both produce byte-identical roots and proofs. Verification follows
 * RFC 9162 section 2.1.3.2 (inclusion) and 2.1.4.2 (consistency) and rejects
 * every malformed proof (wrong length, index out of range, size1 > size2).
 *
 * The frontier is the compact state needed to append leaves and compute the
 * root incrementally: one perfect-subtree root per set bit of the size. The
 * ledger keeps the frontier of its transaction log in the application state
 * so each block header can carry the log's size and root at O(log n) cost. */
#ifndef MC_CRYPTO_MERKLE_H
#define MC_CRYPTO_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/limits.h"
#include "crypto/hash.h"

void mc_merkle_leaf_hash(mc_hash *out, const void *data, size_t len);
void mc_merkle_node_hash(mc_hash *out, const mc_hash *left, const mc_hash *right);

/* Fetches the hash of leaf i (0-based). Returns 0 or an error. */
typedef int (*mc_merkle_leaf_fn)(void *ctx, uint64_t index, mc_hash *out);

/* Fetches the hash of the perfect subtree of 2^level leaves that starts at
 * leaf index << level: for level 0 the leaf hash, for level l > 0
 * node_hash(subtree(l-1, 2*index), subtree(l-1, 2*index + 1)). The _nodes
 * functions only ask for subtrees that lie wholly inside the tree they
 * were given ((index + 1) << level <= size, level < 64). Returns 0 or an
 * error, which is propagated unchanged. */
typedef int (*mc_merkle_node_fn)(void *ctx, unsigned level, uint64_t index, mc_hash *out);

/* Root of the tree over leaves [0, size). */
MC_MUST_CHECK int mc_merkle_root(mc_hash *out, uint64_t size, mc_merkle_leaf_fn leaf, void *ctx);
/* Convenience over an in-memory array of leaf hashes. */
void mc_merkle_root_array(mc_hash *out, const mc_hash *leaves, uint64_t size);

/* Audit path for leaf `index` in the tree of `size` leaves. path must hold
 * MC_MERKLE_PATH_MAX hashes. MC_ERR_INVALID if index >= size. */
MC_MUST_CHECK int mc_merkle_inclusion_proof(mc_hash *path, size_t *path_len, uint64_t index,
                                            uint64_t size, mc_merkle_leaf_fn leaf, void *ctx);
/* Consistency proof between sizes 0 < size1 <= size2 (RFC 9162 2.1.4.1);
 * empty when size1 == size2. MC_ERR_INVALID for size1 == 0 (a proof from
 * the empty tree proves nothing) or size1 > size2. Generation costs
 * O(size2) leaf fetches and hashes, as does the inclusion proof. */
MC_MUST_CHECK int mc_merkle_consistency_proof(mc_hash *path, size_t *path_len, uint64_t size1,
                                              uint64_t size2, mc_merkle_leaf_fn leaf, void *ctx);

/* The same root and proofs from perfect-subtree hashes: perfect subtrees
 * are fetched whole and only the incomplete right edge of the tree is
 * folded, so each call costs at most 2 * 64 node fetches and as many
 * hashes (O(log size)), independent of where the leaf is. The results are
 * identical to the leaf-callback functions above, as are their argument
 * errors. */
MC_MUST_CHECK int mc_merkle_root_nodes(mc_hash *out, uint64_t size, mc_merkle_node_fn node,
                                       void *ctx);
MC_MUST_CHECK int mc_merkle_inclusion_proof_nodes(mc_hash *path, size_t *path_len,
                                                  uint64_t index, uint64_t size,
                                                  mc_merkle_node_fn node, void *ctx);
MC_MUST_CHECK int mc_merkle_consistency_proof_nodes(mc_hash *path, size_t *path_len,
                                                    uint64_t size1, uint64_t size2,
                                                    mc_merkle_node_fn node, void *ctx);

/* 0 if the proof shows leaf_hash at index in the tree of `size` with `root`;
 * MC_ERR_INVALID for a malformed proof, MC_ERR_TAMPERED for a mismatch.
 * The consistency verifier likewise rejects size1 == 0, and for
 * size1 == size2 accepts only an empty proof with root1 == root2. Both are
 * safe on arbitrary input (any path_len, including > MC_MERKLE_PATH_MAX). */
MC_MUST_CHECK int mc_merkle_verify_inclusion(const mc_hash *leaf_hash, uint64_t index,
                                             uint64_t size, const mc_hash *path, size_t path_len,
                                             const mc_hash *root);
MC_MUST_CHECK int mc_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                               const mc_hash *root1, const mc_hash *root2,
                                               const mc_hash *path, size_t path_len);

/* Incremental append-only tree state. */
struct mc_merkle_frontier {
    uint64_t size;
    /* nodes[i] is the root of the perfect subtree of 2^i leaves that is
     * present when bit i of size is set; others are zero. */
    mc_hash nodes[64];
};

void mc_merkle_frontier_init(struct mc_merkle_frontier *f);
void mc_merkle_frontier_append(struct mc_merkle_frontier *f, const mc_hash *leaf_hash);
void mc_merkle_frontier_root(const struct mc_merkle_frontier *f, mc_hash *out);
/* Canonical form: u64 size, then the set-bit nodes from the lowest bit up. */
void mc_merkle_frontier_encode(struct mc_buf *b, const struct mc_merkle_frontier *f);
MC_MUST_CHECK int mc_merkle_frontier_decode(struct mc_merkle_frontier *f, const void *p,
                                            size_t len);

#endif
