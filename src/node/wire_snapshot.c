/* State sync messages between nodes (formats in wire.h). */
#include <string.h>

#include "base/assert.h"

#include "base/limits.h"
#include "chain/stateproof.h"
#include "node/wire.h"

_Static_assert(2 + MC_SNAPSHOT_VALSETS_MAX * (16 + 4 + MC_VALSET_BYTES_MAX + 64 + 4 + MC_STATEPROOF_MAX + 4 +
                                              MC_HEADER_BYTES_MAX + 4 + MC_COMMIT_BYTES_MAX) <=
                   MC_NET_MESSAGE_MAX,
               "every change of validators a light client follows fits one VALSETS message");

int mc_wire_snap_decode(struct mc_wire_snap *m, const void *p, size_t len) {
    memset(m, 0, sizeof *m);
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    m->type = mc_dec_u8(&d);
    switch (m->type) {
    case MC_WIRE_GET_SNAPSHOTS:
    case MC_WIRE_GET_VALSETS:
        break;
    case MC_WIRE_SNAPSHOTS:
        m->count = mc_dec_u8(&d);
        if (m->count > MC_SNAPSHOT_KEEP_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
        for (uint32_t i = 0; i < m->count && !d.err; i++) {
            m->manifest[i] = mc_dec_bytes32(&d, &m->manifest_len[i], MC_SNAPSHOT_MANIFEST_MAX);
            if (!d.err && m->manifest_len[i] == 0) mc_dec_fail(&d, MC_ERR_MALFORMED);
        }
        break;
    case MC_WIRE_GET_CHUNK:
    case MC_WIRE_NO_CHUNK:
        m->height = mc_dec_u64(&d);
        m->index = mc_dec_u32(&d);
        break;
    case MC_WIRE_CHUNK:
        m->height = mc_dec_u64(&d);
        m->index = mc_dec_u32(&d);
        m->bytes = mc_dec_bytes32(&d, &m->len, MC_SNAPSHOT_CHUNK_MAX);
        if (!d.err && m->len == 0) mc_dec_fail(&d, MC_ERR_MALFORMED);
        break;
    case MC_WIRE_VALSETS:
        m->count = mc_dec_u8(&d);
        if (m->count > MC_SNAPSHOT_VALSETS_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
        for (uint32_t i = 0; i < m->count && !d.err; i++) {
            struct mc_wire_valset_change *v = &m->vs[i];
            v->height = mc_dec_u64(&d);
            v->from = mc_dec_u64(&d);
            v->row = mc_dec_bytes32(&d, &v->row_len, MC_STATE_VALUE_MAX);
            v->proof = mc_dec_bytes32(&d, &v->proof_len, MC_STATEPROOF_MAX);
            v->header = mc_dec_bytes32(&d, &v->header_len, MC_HEADER_BYTES_MAX);
            v->commit = mc_dec_bytes32(&d, &v->commit_len, MC_COMMIT_BYTES_MAX);
            if (!d.err && (!v->row_len || !v->proof_len || !v->header_len || !v->commit_len))
                mc_dec_fail(&d, MC_ERR_MALFORMED);
        }
        break;
    default:
        mc_dec_fail(&d, MC_ERR_MALFORMED);
    }
    int rc = mc_dec_finish(&d);
    return rc ? MC_ERR_MALFORMED : 0;
}

void mc_wire_encode_get_snapshots(struct mc_buf *b) { mc_enc_u8(b, MC_WIRE_GET_SNAPSHOTS); }

void mc_wire_encode_snapshots(struct mc_buf *b, uint32_t count, const struct mc_buf *manifests) {
    MC_ASSERT(count <= MC_SNAPSHOT_KEEP_MAX);
    mc_enc_u8(b, MC_WIRE_SNAPSHOTS);
    mc_enc_u8(b, (uint8_t)count);
    for (uint32_t i = 0; i < count; i++) mc_enc_bytes32(b, manifests[i].data, manifests[i].len);
}

void mc_wire_encode_get_chunk(struct mc_buf *b, uint64_t height, uint32_t index) {
    mc_enc_u8(b, MC_WIRE_GET_CHUNK);
    mc_enc_u64(b, height);
    mc_enc_u32(b, index);
}

void mc_wire_encode_chunk(struct mc_buf *b, uint64_t height, uint32_t index, const uint8_t *chunk,
                          size_t len) {
    mc_enc_u8(b, MC_WIRE_CHUNK);
    mc_enc_u64(b, height);
    mc_enc_u32(b, index);
    mc_enc_bytes32(b, chunk, len);
}

void mc_wire_encode_no_chunk(struct mc_buf *b, uint64_t height, uint32_t index) {
    mc_enc_u8(b, MC_WIRE_NO_CHUNK);
    mc_enc_u64(b, height);
    mc_enc_u32(b, index);
}

void mc_wire_encode_get_valsets(struct mc_buf *b) { mc_enc_u8(b, MC_WIRE_GET_VALSETS); }

void mc_wire_encode_valsets(struct mc_buf *b, uint32_t count, const struct mc_wire_valset_change *vs) {
    MC_ASSERT(count <= MC_SNAPSHOT_VALSETS_MAX);
    mc_enc_u8(b, MC_WIRE_VALSETS);
    mc_enc_u8(b, (uint8_t)count);
    for (uint32_t i = 0; i < count; i++) {
        mc_enc_u64(b, vs[i].height);
        mc_enc_u64(b, vs[i].from);
        mc_enc_bytes32(b, vs[i].row, vs[i].row_len);
        mc_enc_bytes32(b, vs[i].proof, vs[i].proof_len);
        mc_enc_bytes32(b, vs[i].header, vs[i].header_len);
        mc_enc_bytes32(b, vs[i].commit, vs[i].commit_len);
    }
}
