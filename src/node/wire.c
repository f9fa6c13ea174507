/* Node-to-node message encoding (formats in wire.h). */
#include "node/wire.h"

#include <string.h>

#include "base/limits.h"
#include "blob/blob.h"


void mc_wire_block_encode(struct mc_buf *b, const struct mc_wire_block *blk) {
    mc_enc_bytes32(b, blk->header, blk->header_len);
    mc_enc_bytes32(b, blk->body, blk->body_len);
}

static void block_decode(struct mc_dec *d, struct mc_wire_block *blk) {
    size_t total;
    const uint8_t *p = mc_dec_bytes32(d, &total, MC_BLOCK_BYTES_MAX + MC_HEADER_BYTES_MAX + 8);
    if (!p) return;
    struct mc_dec in;
    mc_dec_init(&in, p, total);
    blk->header = mc_dec_bytes32(&in, &blk->header_len, MC_HEADER_BYTES_MAX);
    blk->body = mc_dec_bytes32(&in, &blk->body_len, MC_BLOCK_BYTES_MAX);
    if (mc_dec_finish(&in)) mc_dec_fail(d, MC_ERR_MALFORMED);
}

static void block_put(struct mc_buf *b, const struct mc_wire_block *blk) {
    mc_enc_u32(b, (uint32_t)(8 + blk->header_len + blk->body_len));
    mc_wire_block_encode(b, blk);
}

int mc_wire_decode(struct mc_wire_msg *m, const void *p, size_t len) {
    memset(m, 0, sizeof *m);
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    m->type = mc_dec_u8(&d);
    switch (m->type) {
    case MC_WIRE_PROPOSAL: {
        uint8_t pb[MC_PROPOSAL_WIRE_BYTES];
        mc_dec_fixed(&d, pb, sizeof pb);
        if (!d.err && mc_proposal_decode(&m->proposal, pb, sizeof pb)) mc_dec_fail(&d, MC_ERR_MALFORMED);
        block_decode(&d, &m->block);
        break;
    }
    case MC_WIRE_VOTE: {
        uint8_t vb[MC_VOTE_WIRE_BYTES];
        mc_dec_fixed(&d, vb, sizeof vb);
        if (!d.err && mc_vote_decode(&m->vote, vb, sizeof vb)) mc_dec_fail(&d, MC_ERR_MALFORMED);
        break;
    }
    case MC_WIRE_TX:
        m->bytes = d.p + d.pos;
        m->len = d.len - d.pos;
        if (m->len == 0 || m->len > MC_TX_MAX) mc_dec_fail(&d, MC_ERR_MALFORMED);
        else d.pos = d.len;
        break;
    case MC_WIRE_STATUS:
        m->height = mc_dec_u64(&d);
        mc_dec_fixed(&d, m->hash.b, 32);
        break;
    case MC_WIRE_GET_BLOCK:
    case MC_WIRE_NO_BLOCK:
        m->height = mc_dec_u64(&d);
        break;
    case MC_WIRE_BLOCK:
        m->height = mc_dec_u64(&d);
        block_decode(&d, &m->block);
        m->bytes = mc_dec_bytes32(&d, &m->len, MC_COMMIT_BYTES_MAX);
        break;
    case MC_WIRE_EVIDENCE: {
        uint8_t eb[MC_EVIDENCE_WIRE_BYTES];
        mc_dec_fixed(&d, eb, sizeof eb);
        if (!d.err && mc_evidence_decode(&m->evidence, eb, sizeof eb)) mc_dec_fail(&d, MC_ERR_MALFORMED);
        break;
    }
    case MC_WIRE_GET_BLOB:
        mc_dec_fixed(&d, m->hash.b, 32);
        break;
    case MC_WIRE_BLOB:
        mc_dec_fixed(&d, m->hash.b, 32);
        m->bytes = mc_dec_bytes32(&d, &m->len, MC_BLOB_MAX);
        if (!d.err && m->len == 0) mc_dec_fail(&d, MC_ERR_MALFORMED);
        break;
    case MC_WIRE_GET_BLOB_PART:
        mc_dec_fixed(&d, m->hash.b, 32);
        m->offset = mc_dec_u64(&d);
        if (!d.err && (m->offset % MC_BLOB_PIECE || m->offset >= MC_ATTACHMENT_CT_MAX)) mc_dec_fail(&d, MC_ERR_MALFORMED);
        break;
    case MC_WIRE_BLOB_PART:
        mc_dec_fixed(&d, m->hash.b, 32);
        m->offset = mc_dec_u64(&d);
        m->total = mc_dec_u64(&d);
        m->bytes = mc_dec_bytes32(&d, &m->len, MC_BLOB_PIECE);
        if (!d.err && (m->len == 0 || m->offset % MC_BLOB_PIECE || m->total > MC_ATTACHMENT_CT_MAX ||
                       m->offset + m->len > m->total))
            mc_dec_fail(&d, MC_ERR_MALFORMED);
        break;
    default:
        mc_dec_fail(&d, MC_ERR_MALFORMED);
    }
    return mc_dec_finish(&d);
}

void mc_wire_encode_proposal(struct mc_buf *b, const struct mc_proposal *p,
                             const struct mc_wire_block *blk) {
    mc_enc_u8(b, MC_WIRE_PROPOSAL);
    mc_proposal_encode(b, p);
    block_put(b, blk);
}

void mc_wire_encode_vote(struct mc_buf *b, const struct mc_vote *v) {
    mc_enc_u8(b, MC_WIRE_VOTE);
    mc_vote_encode(b, v);
}

void mc_wire_encode_tx(struct mc_buf *b, const uint8_t *tx, size_t len) {
    mc_enc_u8(b, MC_WIRE_TX);
    mc_enc_fixed(b, tx, len);
}

void mc_wire_encode_status(struct mc_buf *b, uint64_t height, const mc_hash *hash) {
    mc_enc_u8(b, MC_WIRE_STATUS);
    mc_enc_u64(b, height);
    mc_enc_fixed(b, hash->b, 32);
}

void mc_wire_encode_get_block(struct mc_buf *b, uint64_t height) {
    mc_enc_u8(b, MC_WIRE_GET_BLOCK);
    mc_enc_u64(b, height);
}

void mc_wire_encode_no_block(struct mc_buf *b, uint64_t height) {
    mc_enc_u8(b, MC_WIRE_NO_BLOCK);
    mc_enc_u64(b, height);
}

void mc_wire_encode_block(struct mc_buf *b, uint64_t height, const struct mc_wire_block *blk,
                          const uint8_t *commit, size_t commit_len) {
    mc_enc_u8(b, MC_WIRE_BLOCK);
    mc_enc_u64(b, height);
    block_put(b, blk);
    mc_enc_bytes32(b, commit, commit_len);
}

void mc_wire_encode_evidence(struct mc_buf *b, const struct mc_evidence *e) {
    mc_enc_u8(b, MC_WIRE_EVIDENCE);
    mc_evidence_encode(b, e);
}

void mc_wire_encode_get_blob(struct mc_buf *b, const mc_hash *id) {
    mc_enc_u8(b, MC_WIRE_GET_BLOB);
    mc_enc_fixed(b, id->b, 32);
}

void mc_wire_encode_blob(struct mc_buf *b, const mc_hash *id, const uint8_t *bytes, size_t len) {
    mc_enc_u8(b, MC_WIRE_BLOB);
    mc_enc_fixed(b, id->b, 32);
    mc_enc_bytes32(b, bytes, len);
}

void mc_wire_encode_get_blob_part(struct mc_buf *b, const mc_hash *id, uint64_t offset) {
    mc_enc_u8(b, MC_WIRE_GET_BLOB_PART);
    mc_enc_fixed(b, id->b, 32);
    mc_enc_u64(b, offset);
}

void mc_wire_encode_blob_part(struct mc_buf *b, const mc_hash *id, uint64_t offset, uint64_t total,
                              const uint8_t *bytes, size_t len) {
    mc_enc_u8(b, MC_WIRE_BLOB_PART);
    mc_enc_fixed(b, id->b, 32);
    mc_enc_u64(b, offset);
    mc_enc_u64(b, total);
    mc_enc_bytes32(b, bytes, len);
}
