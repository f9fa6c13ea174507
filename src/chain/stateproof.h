/* Proofs of the state: a row's presence or absence under a state root.
 *
 * The state root (a header's state_hash) is the root of a sparse Merkle tree
 * over SHA-256 of every state key (chain/smt.h keeps it). This file is the
 * pure part: the hash rules, the proof's canonical form and its verifier,
 * which need nothing but the bytes (a light client, a test, the web page).
 *
 * Position of a key: the bits of kh = SHA-256(key), most significant bit of
 * kh[0] first; bit 0 goes left. Hashes of a subtree:
 *   empty                     32 zero bytes (at every depth)
 *   exactly one row (k, v)    leaf = SHA-256(0x00 || SHA-256(k) || SHA-256(v))
 *   two rows or more          node = SHA-256(0x01 || left || right)
 * So a subtree holding one row is that row's leaf, wherever it sits: a row
 * lives at the shallowest depth where its key hash parts from every other.
 *
 * A proof for key k is the path from the root to where k's position ends:
 * the siblings from the root down (depth of them), then what is there:
 * nothing (k absent), k's own leaf (present), or another row's leaf whose key
 * hash shares the first `depth` bits with kh (k absent).
 *
 * Canonical form:
 *   | u16 depth (<= 256) | depth x hash sibling | u8 end (0 empty, 1 leaf) |
 *   [ hash leaf key hash | hash leaf value hash ]                 (end == 1)
 */
#ifndef MC_CHAIN_STATEPROOF_H
#define MC_CHAIN_STATEPROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"
#include "crypto/hash.h"

/* Bits of a key hash: the deepest a row can sit. */
#define MC_SMT_DEPTH 256
/* Bytes of a proof's canonical form at most (a full-depth path). */
#define MC_STATEPROOF_MAX (2 + MC_SMT_DEPTH * MC_HASH_BYTES + 1 + 2 * MC_HASH_BYTES)

struct mc_stateproof {
    uint16_t depth;
    mc_hash sib[MC_SMT_DEPTH]; /* sib[i]: the other child at depth i + 1 */
    bool leaf;                 /* the path ends at a row's leaf */
    mc_hash leaf_key;          /* that row's key hash */
    mc_hash leaf_value;        /* and value hash */
};

/* Bit i of a key hash (0 = left). */
static inline unsigned mc_smt_bit(const mc_hash *kh, unsigned i) {
    return (kh->b[i / 8] >> (7 - i % 8)) & 1u;
}

void mc_smt_leaf_hash(mc_hash *out, const mc_hash *key_hash, const mc_hash *value_hash);
void mc_smt_node_hash(mc_hash *out, const mc_hash *left, const mc_hash *right);
bool mc_smt_hash_is_empty(const mc_hash *h);

void mc_stateproof_encode(struct mc_buf *b, const struct mc_stateproof *p);
/* Strict: depth within bounds, end exactly 0 or 1, no trailing bytes. */
MC_MUST_CHECK int mc_stateproof_decode(struct mc_stateproof *p, const void *data, size_t len);

/* The root the proof gives for the key whose hash is kh. MC_ERR_INVALID for
 * a proof that cannot be about kh (its end leaf does not share the path). */
MC_MUST_CHECK int mc_stateproof_root(const struct mc_stateproof *p, const mc_hash *kh,
                                     mc_hash *root);

/* Checks that under root, key holds exactly value (present) or no row
 * (value == NULL). MC_ERR_TAMPERED when the proof, the row or the root do
 * not agree (with a detail sentence), MC_ERR_INVALID for a proof of the
 * other answer (a presence proof offered for absence and back). */
MC_MUST_CHECK int mc_stateproof_verify(const struct mc_stateproof *p, const mc_hash *root,
                                       const void *key, size_t key_len, const void *value,
                                       size_t value_len);

#endif
