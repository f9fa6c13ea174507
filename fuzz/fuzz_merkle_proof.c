/* libFuzzer target: RFC 9162 proof verifiers on arbitrary bytes, plus a
 * property check of generation against verification.
 *
 * Input:
 *   | u8 mode | u64 a | u64 b | hash x 32 | hash y 32 | proof: n x hash 32 |
 * Every input goes through both verifiers as
 *   inclusion(leaf x, index a, size b, proof, root y) and
 *   consistency(size1 a, size2 b, root1 x, root2 y, proof),
 * which must return without crashing whatever the bytes (the proof may be
 * longer than MC_MERKLE_PATH_MAX). With bit 0 of mode set, a tree of up to
 * 200 leaves chosen by a and b is built; its generated proofs must verify,
 * and a proof altered by the first byte of x (when non-zero) must not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/merkle.h"

#define HEADER (1 + 8 + 8 + 32 + 32)
#define PROOF_CAP (MC_MERKLE_PATH_MAX + 8)
#define TREE_MAX 200

static uint64_t be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

static mc_hash leaves[TREE_MAX];

static int leaf_at(void *ctx, uint64_t index, mc_hash *out) {
    *out = leaves[index];
    return 0;
}

static void property(uint64_t a, uint64_t b, uint8_t flip, size_t flip_at) {
    uint64_t n = b % TREE_MAX + 1, i = a % n, m = a % n + 1;
    mc_hash root, root_m, path[MC_MERKLE_PATH_MAX];
    size_t len;
    mc_merkle_root_array(&root, leaves, n);
    mc_merkle_root_array(&root_m, leaves, m);

    if (mc_merkle_inclusion_proof(path, &len, i, n, leaf_at, NULL) != 0) abort();
    if (mc_merkle_verify_inclusion(&leaves[i], i, n, path, len, &root) != 0) abort();
    if (flip && len) {
        path[flip_at % len].b[flip_at % 32] ^= flip;
        if (mc_merkle_verify_inclusion(&leaves[i], i, n, path, len, &root) == 0) abort();
    }
    if (mc_merkle_consistency_proof(path, &len, m, n, leaf_at, NULL) != 0) abort();
    if (mc_merkle_verify_consistency(m, n, &root_m, &root, path, len) != 0) abort();
    if (flip && len) {
        path[flip_at % len].b[flip_at % 32] ^= flip;
        if (mc_merkle_verify_consistency(m, n, &root_m, &root, path, len) == 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool inited;
    if (!inited) {
        mc_crypto_init();
        for (uint64_t k = 0; k < TREE_MAX; k++) mc_merkle_leaf_hash(&leaves[k], &k, sizeof k);
        inited = true;
    }
    if (size < HEADER) return 0;
    uint8_t mode = data[0];
    uint64_t a = be64(data + 1), b = be64(data + 9);
    mc_hash x, y, proof[PROOF_CAP];
    memcpy(x.b, data + 17, 32);
    memcpy(y.b, data + 49, 32);
    size_t n = (size - HEADER) / 32;
    if (n > PROOF_CAP) n = PROOF_CAP;
    for (size_t k = 0; k < n; k++) memcpy(proof[k].b, data + HEADER + 32 * k, 32);

    (void)mc_merkle_verify_inclusion(&x, a, b, proof, n, &y);
    (void)mc_merkle_verify_consistency(a, b, &x, &y, proof, n);
    if (mode & 1) property(a, b, x.b[0], (size_t)y.b[0]);
    return 0;
}
