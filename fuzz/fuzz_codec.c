/* libFuzzer target: the canonical decoders of consensus objects.
 *
 * Input: | u8 selector | encoded object |. The selector picks the decoder
 * (validator set, vote, commit certificate, Merkle frontier). Beyond "does
 * not crash", it checks canonicality: whatever decodes must re-encode to
 * exactly the input bytes, since every object has one encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "chain/commit.h"
#include "chain/valset.h"
#include "chain/vote.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"

/* Aborts (a finding) unless b holds exactly p[0..len). */
static void expect_same(struct mc_buf *b, const uint8_t *p, size_t len) {
    if (b->err || b->len != len || (len && memcmp(b->data, p, len) != 0)) abort();
    mc_buf_deinit(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static bool inited;
    if (!inited) {
        mc_crypto_init();
        inited = true;
    }
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    switch (data[0] % 4) {
    case 0: {
        static struct mc_valset vs;
        if (mc_valset_decode(&vs, p, len) == 0) {
            mc_valset_encode(&b, &vs);
            expect_same(&b, p, len);
            mc_hash h;
            mc_valset_hash(&vs, &h);
            (void)mc_valset_is_quorum(&vs, vs.total_power);
        }
        break;
    }
    case 1: {
        struct mc_vote v;
        if (mc_vote_decode(&v, p, len) == 0) {
            mc_vote_encode(&b, &v);
            expect_same(&b, p, len);
        }
        break;
    }
    case 2: {
        static struct mc_commit c;
        if (mc_commit_decode(&c, p, len) == 0) {
            mc_commit_encode(&b, &c);
            expect_same(&b, p, len);
        }
        break;
    }
    case 3: {
        struct mc_merkle_frontier f;
        if (mc_merkle_frontier_decode(&f, p, len) == 0) {
            mc_merkle_frontier_encode(&b, &f);
            expect_same(&b, p, len);
            mc_hash root;
            mc_merkle_frontier_root(&f, &root);
            if (f.size < UINT64_MAX) mc_merkle_frontier_append(&f, &root);
        }
        break;
    }
    }
    mc_buf_deinit(&b);
    return 0;
}
