/* libFuzzer target: state sync from a hostile peer (docs/STATE.md).
 *
 * Input: | u8 selector | bytes |. Selector % 3 == 0: a state sync message
 * (node/wire.h, 13..19) decoded strictly; a CHUNK, GET_CHUNK or NO_CHUNK
 * re-encodes to exactly the input. 1: a snapshot manifest decoded
 * strictly, re-encoding to the input. 2: a snapshot chunk checked against
 * a manifest naming its own hash (so the decoder and the row check run on
 * it) and then finished: never a crash, and a chunk that passes holds
 * rows in order within the bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "chain/snapshot.h"
#include "node/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect_same(struct mc_buf *b, const uint8_t *p, size_t len) {
    if (b->err || b->len != len || (len && memcmp(b->data, p, len) != 0)) abort();
}

static int on_row(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
    (void)v;
    if (kl == 0 || kl > MC_STATE_KEY_MAX || vl > MC_STATE_VALUE_MAX || k[0] == 0) abort();
    (*(size_t *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static int inited;
    if (!inited) {
        mc_crypto_init();
        inited = 1;
    }
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    if (data[0] % 3 == 0) {
        static struct mc_wire_snap m;
        if (mc_wire_snap_decode(&m, p, len) == 0) {
            if (m.type == MC_WIRE_CHUNK) mc_wire_encode_chunk(&b, m.height, m.index, m.bytes, m.len);
            else if (m.type == MC_WIRE_GET_CHUNK) mc_wire_encode_get_chunk(&b, m.height, m.index);
            else if (m.type == MC_WIRE_NO_CHUNK) mc_wire_encode_no_chunk(&b, m.height, m.index);
            else if (m.type == MC_WIRE_VALSETS) mc_wire_encode_valsets(&b, m.count, m.vs);
            if (b.len) expect_same(&b, p, len);
            if (m.type == MC_WIRE_SNAPSHOTS)
                for (uint32_t i = 0; i < m.count; i++) {
                    struct mc_snapshot_manifest mf;
                    if (mc_snapshot_manifest_decode(&mf, m.manifest[i], m.manifest_len[i]) == 0)
                        mc_snapshot_manifest_deinit(&mf);
                }
        }
    } else if (data[0] % 3 == 1) {
        struct mc_snapshot_manifest m;
        if (mc_snapshot_manifest_decode(&m, p, len) == 0) {
            mc_snapshot_manifest_encode(&b, &m);
            expect_same(&b, p, len);
            mc_snapshot_manifest_deinit(&m);
        }
    } else {
        mc_hash h;
        mc_sha256(&h, p, len);
        struct mc_snapshot_manifest m = {.version = MC_SNAPSHOT_VERSION, .height = 1, .rows = 1 << 20,
                                         .chunk_count = 1, .chunks = &h};
        struct mc_snapshot_check k;
        mc_snapshot_check_init(&k, &m);
        if (mc_snapshot_check_add(&k, 0, p, len) == 0) {
            size_t rows = 0;
            if (mc_snapshot_chunk_decode(p, len, on_row, &rows) != 0 || rows != k.n) abort();
            mc_hash root;
            if (mc_snapshot_check_finish(&k, &root) == 0) abort(); /* rows < manifest's count */
        }
        mc_snapshot_check_deinit(&k);
    }
    mc_buf_deinit(&b);
    return 0;
}
