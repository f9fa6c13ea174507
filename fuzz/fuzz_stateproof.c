/* libFuzzer target: the state proof decoder and verifier (chain/stateproof.h)
 * and the light client's header check (chain/light.h) on arbitrary bytes,
 * which is what a light client receives from a node it does not trust.
 *
 * Input: | u8 key len | key | u8 flags | u16 value len | value | rest |
 *   the rest is a state proof's bytes; with flags bit 0 the value is
 *   claimed present, else absent; with bit 1 the rest is instead split in
 *   half and checked as (header bytes, certificate bytes).
 * Checks (abort on violation): whatever decodes re-encodes to the same
 * bytes (one encoding per proof); verification answers without crashing;
 * a proof that verifies against the root it folds to still verifies, and
 * against that root with one bit changed does not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/light.h"
#include "chain/stateproof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct mc_stateproof p;
    static struct mc_light lc;
    static int ready;
    if (!ready) {
        mc_crypto_init();
        struct mc_valset vs = {0};
        mc_pubkey pk = {{1}};
        if (mc_valset_add(&vs, &pk, 1, "v") != 0) abort();
        mc_hash g = {{2}};
        if (mc_light_init(&lc, "medchain-fuzz", &g, &vs) != 0) abort();
        ready = 1;
    }
    if (size < 4) return 0;
    size_t kl = data[0];
    if (size < 1 + kl + 3) return 0;
    const uint8_t *key = data + 1;
    uint8_t flags = data[1 + kl];
    size_t vl = (size_t)data[2 + kl] << 8 | data[3 + kl];
    const uint8_t *val = data + 4 + kl;
    if (size < 4 + kl + vl) return 0;
    const uint8_t *rest = val + vl;
    size_t rl = size - 4 - kl - vl;
    if (flags & 2) {
        struct mc_header h;
        mc_hash hash;
        (void)mc_light_check_header(&lc, rest, rl / 2, rest + rl / 2, rl - rl / 2, &h, &hash);
        return 0;
    }
    if (mc_stateproof_decode(&p, rest, rl) != 0) return 0;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_stateproof_encode(&b, &p);
    if (b.err || b.len != rl || memcmp(b.data, rest, rl) != 0) abort();
    mc_buf_deinit(&b);
    mc_hash kh, root;
    mc_sha256(&kh, key, kl);
    if (mc_stateproof_root(&p, &kh, &root) != 0) return 0;
    const void *v = (flags & 1) ? val : NULL;
    if (mc_stateproof_verify(&p, &root, key, kl, v, vl) == 0) {
        root.b[rl % 32] ^= (uint8_t)(1u << (rl % 8));
        if (mc_stateproof_verify(&p, &root, key, kl, v, vl) == 0) abort();
    }
    return 0;
}
