/* Block header and body encoding (layouts in block.h). */
#include "chain/block.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "crypto/merkle.h"

void mc_header_encode(struct mc_buf *b, const struct mc_header *h) {
    mc_enc_u8(b, MC_BLOCK_VERSION);
    mc_enc_str8(b, h->chain_id);
    mc_enc_u64(b, h->height);
    mc_enc_u64(b, h->time_ms);
    mc_enc_fixed(b, h->prev.b, 32);
    mc_enc_fixed(b, h->tx_root.b, 32);
    mc_enc_u32(b, h->tx_count);
    mc_enc_u64(b, h->log_size);
    mc_enc_fixed(b, h->log_root.b, 32);
    mc_enc_fixed(b, h->state_hash.b, 32);
    mc_enc_fixed(b, h->valset_hash.b, 32);
    mc_enc_fixed(b, h->proposer.b, 32);
    mc_enc_fixed(b, h->last_commit_hash.b, 32);
}

int mc_header_decode(struct mc_header *h, const void *p, size_t len) {
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    memset(h, 0, sizeof *h);
    if (mc_dec_u8(&d) != MC_BLOCK_VERSION) mc_dec_fail(&d, MC_ERR_MALFORMED);
    mc_dec_str8(&d, h->chain_id, sizeof h->chain_id);
    h->height = mc_dec_u64(&d);
    h->time_ms = mc_dec_u64(&d);
    mc_dec_fixed(&d, h->prev.b, 32);
    mc_dec_fixed(&d, h->tx_root.b, 32);
    h->tx_count = mc_dec_u32(&d);
    h->log_size = mc_dec_u64(&d);
    mc_dec_fixed(&d, h->log_root.b, 32);
    mc_dec_fixed(&d, h->state_hash.b, 32);
    mc_dec_fixed(&d, h->valset_hash.b, 32);
    mc_dec_fixed(&d, h->proposer.b, 32);
    mc_dec_fixed(&d, h->last_commit_hash.b, 32);
    if (h->tx_count > MC_BLOCK_TXS_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
    return mc_dec_finish(&d);
}

void mc_header_hash(const struct mc_header *h, mc_hash *out) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_header_encode(&b, h);
    MC_ASSERT(b.err == 0); /* fixed-size fields */
    mc_sha256(out, b.data, b.len);
    mc_buf_deinit(&b);
}

void mc_block_body_encode(struct mc_buf *b, const struct mc_tx_ref *txs, uint32_t count,
                          const struct mc_commit *last_commit) {
    mc_enc_u32(b, count);
    for (uint32_t i = 0; i < count; i++) mc_enc_bytes32(b, txs[i].bytes, txs[i].len);
    mc_enc_bool(b, last_commit != NULL);
    if (last_commit) {
        struct mc_buf c;
        mc_buf_init(&c, 0);
        mc_commit_encode(&c, last_commit);
        MC_ASSERT(c.err == 0); /* at most MC_VALIDATORS_MAX votes */
        mc_enc_bytes32(b, c.data, c.len);
        mc_buf_deinit(&c);
    }
}

int mc_block_body_decode(struct mc_block_body *body, const void *p, size_t len) {
    memset(body, 0, sizeof *body);
    if (len > MC_BLOCK_BYTES_MAX) return MC_ERR_TOO_LARGE;
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    uint32_t n = mc_dec_u32(&d);
    if (d.err) return d.err;
    if (n > MC_BLOCK_TXS_MAX) return MC_ERR_TOO_LARGE;
    body->txs = calloc(n ? n : 1, sizeof *body->txs);
    if (!body->txs) return MC_ERR_NOMEM;
    body->count = n;
    for (uint32_t i = 0; i < n && !d.err; i++)
        body->txs[i].bytes = mc_dec_bytes32(&d, &body->txs[i].len, MC_TX_MAX);
    body->has_last_commit = mc_dec_bool(&d);
    if (body->has_last_commit) {
        size_t cl;
        const uint8_t *c = mc_dec_bytes32(&d, &cl, MC_COMMIT_BYTES_MAX);
        if (c && mc_commit_decode(&body->last_commit, c, cl) != 0) mc_dec_fail(&d, MC_ERR_MALFORMED);
    }
    int rc = mc_dec_finish(&d);
    if (rc) mc_block_body_deinit(body);
    return rc;
}

void mc_block_body_deinit(struct mc_block_body *body) {
    free(body->txs);
    body->txs = NULL;
    body->count = 0;
}

void mc_block_tx_root(mc_hash *out, const struct mc_tx_ref *txs, uint32_t count) {
    mc_hash *leaves = malloc((count ? count : 1) * sizeof *leaves);
    MC_ASSERT(leaves != NULL); /* at most MC_BLOCK_TXS_MAX hashes */
    for (uint32_t i = 0; i < count; i++) mc_merkle_leaf_hash(&leaves[i], txs[i].bytes, txs[i].len);
    mc_merkle_root_array(out, leaves, count);
    free(leaves);
}
