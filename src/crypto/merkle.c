/* RFC 6962 / RFC 9162 Merkle trees: hashing, roots, proofs, verification
 * and the incremental frontier (see merkle.h for the hash definitions).
 *
 * Guarantees:
 *  - Roots and proofs are exactly those of RFC 9162 2.1.1, 2.1.3.1 and
 *    2.1.4.1, so any RFC 6962/9162 verifier accepts our proofs and we accept
 *    theirs.
 *  - The verifiers never read past path_len, never loop more than path_len
 *    times, and reject (never assert on) any input: they are safe on bytes
 *    from the network.
 *  - Generation fetches what it needs through the caller's callback and
 *    propagates the callback's error unchanged. With a leaf callback it
 *    costs O(size) leaf fetches and hashes (each sibling subtree is
 *    recomputed from leaves); with a node callback, which serves perfect
 *    subtrees whole, O(log size) fetches and hashes. Both walk the same
 *    RFC 9162 recursion (inclusion_walk, consistency_walk), so they return
 *    the same proofs.
 *
 * Consistency proofs are defined for 0 < size1 <= size2 (RFC 9162 2.1.4):
 * a proof from the empty tree proves nothing, so size1 == 0 is rejected by
 * both the generator and the verifier. */
#include "crypto/merkle.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

void mc_merkle_leaf_hash(mc_hash *out, const void *data, size_t len) {
    static const uint8_t prefix = 0x00;
    mc_sha256_ctx ctx;
    mc_sha256_init(&ctx);
    mc_sha256_update(&ctx, &prefix, 1);
    mc_sha256_update(&ctx, data, len);
    mc_sha256_final(&ctx, out);
}

void mc_merkle_node_hash(mc_hash *out, const mc_hash *left, const mc_hash *right) {
    uint8_t buf[1 + 2 * MC_HASH_BYTES];
    buf[0] = 0x01;
    memcpy(buf + 1, left->b, MC_HASH_BYTES);
    memcpy(buf + 1 + MC_HASH_BYTES, right->b, MC_HASH_BYTES);
    mc_sha256(out, buf, sizeof buf); /* out may alias left or right */
}

static void empty_root(mc_hash *out) { mc_sha256(out, "", 0); }

/* ---- frontier ---------------------------------------------------------- */

void mc_merkle_frontier_init(struct mc_merkle_frontier *f) { memset(f, 0, sizeof *f); }

void mc_merkle_frontier_append(struct mc_merkle_frontier *f, const mc_hash *leaf_hash) {
    /* A tree of 2^64 - 1 leaves cannot be reached by any real log; growing
     * past it would wrap the size, so treat it as a broken invariant. */
    MC_ASSERT(f->size != UINT64_MAX);
    mc_hash carry = *leaf_hash;
    unsigned i = 0;
    /* Adding one leaf is binary increment: every set low bit merges its
     * perfect subtree (on the left) with the carry (on the right). */
    while (f->size >> i & 1) {
        mc_merkle_node_hash(&carry, &f->nodes[i], &carry);
        memset(&f->nodes[i], 0, sizeof f->nodes[i]);
        i++;
    }
    f->nodes[i] = carry;
    f->size++;
}

void mc_merkle_frontier_root(const struct mc_merkle_frontier *f, mc_hash *out) {
    if (f->size == 0) {
        empty_root(out);
        return;
    }
    /* MTH splits off the largest perfect subtree on the left, so the root
     * folds the subtrees from the smallest (rightmost) up. */
    bool have = false;
    mc_hash r = {{0}};
    for (unsigned i = 0; i < 64; i++) {
        if (!(f->size >> i & 1)) continue;
        if (!have) r = f->nodes[i];
        else mc_merkle_node_hash(&r, &f->nodes[i], &r);
        have = true;
    }
    *out = r;
}

/* Encoding:
 *   | u64 size | popcount(size) x node 32, from the lowest set bit up |
 * No other bytes: the size alone says which nodes are present. */
void mc_merkle_frontier_encode(struct mc_buf *b, const struct mc_merkle_frontier *f) {
    mc_enc_u64(b, f->size);
    for (unsigned i = 0; i < 64; i++)
        if (f->size >> i & 1) mc_enc_fixed(b, f->nodes[i].b, MC_HASH_BYTES);
}

int mc_merkle_frontier_decode(struct mc_merkle_frontier *f, const void *p, size_t len) {
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    mc_merkle_frontier_init(f);
    f->size = mc_dec_u64(&d);
    for (unsigned i = 0; i < 64 && !d.err; i++)
        if (f->size >> i & 1) mc_dec_fixed(&d, f->nodes[i].b, MC_HASH_BYTES);
    int rc = mc_dec_finish(&d);
    if (rc) mc_merkle_frontier_init(f);
    return rc;
}

/* ---- roots and proof generation --------------------------------------- */

/* MTH of leaves [lo, hi), by streaming them through a frontier. */
static int range_root(mc_hash *out, uint64_t lo, uint64_t hi, mc_merkle_leaf_fn leaf,
                      void *ctx) {
    struct mc_merkle_frontier f;
    mc_merkle_frontier_init(&f);
    for (uint64_t i = lo; i < hi; i++) {
        mc_hash h;
        int rc = leaf(ctx, i, &h);
        if (rc) return rc < 0 ? rc : MC_ERR_INVALID;
        mc_merkle_frontier_append(&f, &h);
    }
    mc_merkle_frontier_root(&f, out);
    return 0;
}

/* MTH of leaves [lo, hi) from perfect-subtree hashes. The range must be
 * aligned as every range of the RFC 9162 recursion is: lo a multiple of
 * the largest power of two <= hi - lo. Then MTH(D[lo:hi]) is the fold,
 * right to left, of one aligned perfect subtree per set bit of hi - lo
 * (largest on the left), exactly as for the frontier; each is one fetch. */
static int range_root_nodes(mc_hash *out, uint64_t lo, uint64_t hi, mc_merkle_node_fn node,
                            void *ctx) {
    uint64_t n = hi - lo;
    if (n == 0) {
        empty_root(out);
        return 0;
    }
    unsigned top = 63u - (unsigned)__builtin_clzll(n);
    /* Broken invariant of the walks below, never input. */
    MC_ASSERT(hi >= lo && (lo & (((uint64_t)1 << top) - 1)) == 0);
    bool have = false;
    mc_hash r = {{0}};
    for (unsigned b = 0; b <= top; b++) {
        if (!(n >> b & 1)) continue;
        /* The subtree for bit b follows all the larger ones. */
        uint64_t start = lo + (b == 63 ? 0 : (n >> (b + 1)) << (b + 1));
        mc_hash h;
        int rc = node(ctx, b, start >> b, &h);
        if (rc) return rc < 0 ? rc : MC_ERR_INVALID;
        if (!have) r = h;
        else mc_merkle_node_hash(&r, &h, &r);
        have = true;
    }
    *out = r;
    return 0;
}

/* Where the hashes come from: exactly one of leaf and node is set. The
 * proof walks are shared, so both sources give identical proofs. */
struct source {
    mc_merkle_leaf_fn leaf;
    mc_merkle_node_fn node;
    void *ctx;
};

static int source_root(const struct source *src, mc_hash *out, uint64_t lo, uint64_t hi) {
    if (src->node) return range_root_nodes(out, lo, hi, src->node, src->ctx);
    return range_root(out, lo, hi, src->leaf, src->ctx);
}

int mc_merkle_root(mc_hash *out, uint64_t size, mc_merkle_leaf_fn leaf, void *ctx) {
    return range_root(out, 0, size, leaf, ctx);
}

int mc_merkle_root_nodes(mc_hash *out, uint64_t size, mc_merkle_node_fn node, void *ctx) {
    return range_root_nodes(out, 0, size, node, ctx);
}

static int array_leaf(void *ctx, uint64_t index, mc_hash *out) {
    *out = ((const mc_hash *)ctx)[index];
    return 0;
}

void mc_merkle_root_array(mc_hash *out, const mc_hash *leaves, uint64_t size) {
    /* array_leaf cannot fail. */
    int rc = range_root(out, 0, size, array_leaf, (void *)leaves);
    MC_ASSERT(rc == 0);
}

/* Largest power of two strictly less than n (n >= 2): RFC 9162's k. */
static uint64_t split_point(uint64_t n) { return (uint64_t)1 << (63 - __builtin_clzll(n - 1)); }

/* Proofs are built top-down (root first) and returned bottom-up. */
static void reverse_into(mc_hash *path, size_t *path_len, const mc_hash *top_down, size_t n) {
    for (size_t i = 0; i < n; i++) path[i] = top_down[n - 1 - i];
    *path_len = n;
}

/* Every range below is [lo, lo + n) with lo a multiple of a power of two
 * >= n (true of [0, size); a left half is a perfect subtree, a right half
 * starts at lo + k with n - k <= k), so range_root_nodes accepts it. Each
 * walk meets at most one incomplete sibling: after stepping left, n is a
 * power of two and every later sibling is perfect. */
static int inclusion_walk(mc_hash *path, size_t *path_len, uint64_t index, uint64_t size,
                          const struct source *src) {
    *path_len = 0;
    if (index >= size)
        return mc_err_set(MC_ERR_INVALID, "leaf %llu is outside a tree of %llu",
                          (unsigned long long)index, (unsigned long long)size);
    mc_hash nodes[MC_MERKLE_PATH_MAX];
    size_t count = 0;
    uint64_t lo = 0, n = size, m = index;
    /* Each step halves into [lo, lo+k) and [lo+k, lo+n) and keeps the side
     * holding the leaf; at most 64 steps since n < 2^64. */
    while (n > 1) {
        uint64_t k = split_point(n);
        int rc;
        if (m < k) {
            rc = source_root(src, &nodes[count], lo + k, lo + n);
            n = k;
        } else {
            rc = source_root(src, &nodes[count], lo, lo + k);
            lo += k;
            m -= k;
            n -= k;
        }
        if (rc) return rc;
        count++;
    }
    reverse_into(path, path_len, nodes, count);
    return 0;
}

int mc_merkle_inclusion_proof(mc_hash *path, size_t *path_len, uint64_t index, uint64_t size,
                              mc_merkle_leaf_fn leaf, void *ctx) {
    const struct source src = {.leaf = leaf, .ctx = ctx};
    return inclusion_walk(path, path_len, index, size, &src);
}

int mc_merkle_inclusion_proof_nodes(mc_hash *path, size_t *path_len, uint64_t index,
                                    uint64_t size, mc_merkle_node_fn node, void *ctx) {
    const struct source src = {.node = node, .ctx = ctx};
    return inclusion_walk(path, path_len, index, size, &src);
}

static int consistency_walk(mc_hash *path, size_t *path_len, uint64_t size1, uint64_t size2,
                            const struct source *src) {
    *path_len = 0;
    if (size1 == 0 || size1 > size2)
        return mc_err_set(MC_ERR_INVALID, "no consistency proof from size %llu to %llu",
                          (unsigned long long)size1, (unsigned long long)size2);
    /* RFC 9162 SUBPROOF(m, D[lo:lo+n], whole): `whole` stays true while
     * the old tree is a left-aligned complete subtree of the walk, whose
     * root the verifier already holds. Up to 64 splits plus the final node;
     * one more than MC_MERKLE_PATH_MAX only for trees beyond 2^63 leaves. */
    mc_hash nodes[MC_MERKLE_PATH_MAX + 1];
    size_t count = 0;
    uint64_t lo = 0, n = size2, m = size1;
    bool whole = true;
    while (m != n) {
        uint64_t k = split_point(n);
        int rc;
        if (m <= k) {
            rc = source_root(src, &nodes[count], lo + k, lo + n);
            n = k;
        } else {
            rc = source_root(src, &nodes[count], lo, lo + k);
            lo += k;
            m -= k;
            n -= k;
            whole = false;
        }
        if (rc) return rc;
        count++;
    }
    if (!whole) {
        int rc = source_root(src, &nodes[count], lo, lo + n);
        if (rc) return rc;
        count++;
    }
    if (count > MC_MERKLE_PATH_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "consistency proof exceeds %d hashes",
                          MC_MERKLE_PATH_MAX);
    reverse_into(path, path_len, nodes, count);
    return 0;
}

int mc_merkle_consistency_proof(mc_hash *path, size_t *path_len, uint64_t size1, uint64_t size2,
                                mc_merkle_leaf_fn leaf, void *ctx) {
    const struct source src = {.leaf = leaf, .ctx = ctx};
    return consistency_walk(path, path_len, size1, size2, &src);
}

int mc_merkle_consistency_proof_nodes(mc_hash *path, size_t *path_len, uint64_t size1,
                                      uint64_t size2, mc_merkle_node_fn node, void *ctx) {
    const struct source src = {.node = node, .ctx = ctx};
    return consistency_walk(path, path_len, size1, size2, &src);
}

/* ---- verification ------------------------------------------------------ */

static bool hash_eq(const mc_hash *a, const mc_hash *b) {
    return memcmp(a->b, b->b, MC_HASH_BYTES) == 0; /* public values */
}

/* Shifts fn and sn right together until fn's lowest bit is set or fn is 0. */
static void shift_to_set_bit(uint64_t *fn, uint64_t *sn) {
    while (*fn != 0 && !(*fn & 1)) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

int mc_merkle_verify_inclusion(const mc_hash *leaf_hash, uint64_t index, uint64_t size,
                               const mc_hash *path, size_t path_len, const mc_hash *root) {
    if (index >= size)
        return mc_err_set(MC_ERR_INVALID, "leaf %llu is outside a tree of %llu",
                          (unsigned long long)index, (unsigned long long)size);
    if (path_len > MC_MERKLE_PATH_MAX)
        return mc_err_set(MC_ERR_INVALID, "inclusion proof of %zu hashes", path_len);
    /* RFC 9162 2.1.3.2. */
    uint64_t fn = index, sn = size - 1;
    mc_hash r = *leaf_hash;
    for (size_t i = 0; i < path_len; i++) {
        if (sn == 0) return mc_err_set(MC_ERR_INVALID, "inclusion proof too long");
        if ((fn & 1) || fn == sn) {
            mc_merkle_node_hash(&r, &path[i], &r);
            if (!(fn & 1)) shift_to_set_bit(&fn, &sn);
        } else {
            mc_merkle_node_hash(&r, &r, &path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) return mc_err_set(MC_ERR_INVALID, "inclusion proof too short");
    if (!hash_eq(&r, root))
        return mc_err_set(MC_ERR_TAMPERED, "inclusion proof does not lead to the root");
    return 0;
}

int mc_merkle_verify_consistency(uint64_t size1, uint64_t size2, const mc_hash *root1,
                                 const mc_hash *root2, const mc_hash *path, size_t path_len) {
    if (size1 > size2)
        return mc_err_set(MC_ERR_INVALID, "size1 %llu exceeds size2 %llu",
                          (unsigned long long)size1, (unsigned long long)size2);
    if (size1 == 0)
        return mc_err_set(MC_ERR_INVALID, "consistency with the empty tree proves nothing");
    if (size1 == size2) {
        if (path_len != 0)
            return mc_err_set(MC_ERR_INVALID, "equal sizes need an empty proof");
        if (!hash_eq(root1, root2))
            return mc_err_set(MC_ERR_TAMPERED, "equal sizes with different roots");
        return 0;
    }
    if (path_len == 0) return mc_err_set(MC_ERR_INVALID, "empty consistency proof");
    if (path_len > MC_MERKLE_PATH_MAX)
        return mc_err_set(MC_ERR_INVALID, "consistency proof of %zu hashes", path_len);

    /* RFC 9162 2.1.4.2. When size1 is a power of two the old root is the
     * proof's implicit first element (step 2); index i then walks a virtual
     * array of path_len + 1 hashes. */
    bool prepend = (size1 & (size1 - 1)) == 0;
    size_t total = path_len + (prepend ? 1 : 0);
#define AT(i) (prepend ? ((i) == 0 ? root1 : &path[(i) - 1]) : &path[(i)])
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    mc_hash fr = *AT(0), sr = *AT(0);
    for (size_t i = 1; i < total; i++) {
        const mc_hash *c = AT(i);
        if (sn == 0) return mc_err_set(MC_ERR_INVALID, "consistency proof too long");
        if ((fn & 1) || fn == sn) {
            mc_merkle_node_hash(&fr, c, &fr);
            mc_merkle_node_hash(&sr, c, &sr);
            if (!(fn & 1)) shift_to_set_bit(&fn, &sn);
        } else {
            mc_merkle_node_hash(&sr, &sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
#undef AT
    if (sn != 0) return mc_err_set(MC_ERR_INVALID, "consistency proof too short");
    if (!hash_eq(&fr, root1))
        return mc_err_set(MC_ERR_TAMPERED, "consistency proof does not lead to root1");
    if (!hash_eq(&sr, root2))
        return mc_err_set(MC_ERR_TAMPERED, "consistency proof does not lead to root2");
    return 0;
}
