/* libFuzzer target: the node-to-node messages (node/wire.h) and the anchor
 * accessor that replication uses on committed payloads.
 *
 * Input: | u8 selector | bytes |. Selector even: a wire message; every
 * message type whose encoder takes the decoded fields back (everything but
 * PROPOSAL and BLOCK, whose nested block is checked by fuzz_chain) must
 * re-encode to exactly the input. Selector odd: a record_anchor payload
 * walked by mc_records_anchored_blobs (no crash, ids within bounds). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "base/codec.h"
#include "blob/blob.h"
#include "node/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect_same(struct mc_buf *b, const uint8_t *p, size_t len) {
    if (b->err || b->len != len || (len && memcmp(b->data, p, len) != 0)) abort();
}

static void on_entry(void *ctx, const char *id, uint32_t version, const mc_hash *ct, uint32_t size) {
    (void)version;
    (void)ct;
    (void)size;
    if (strlen(id) > MC_RECORD_ID_MAX) abort();
    (*(size_t *)ctx)++;
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
    if (data[0] & 1) {
        size_t n = 0;
        (void)mc_records_anchored_blobs(p, len, on_entry, &n);
        if (n > 65535) abort(); /* u16 count */
        return 0;
    }
    struct mc_wire_msg m;
    if (mc_wire_decode(&m, p, len) != 0) return 0;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    bool check = true;
    switch (m.type) {
    case MC_WIRE_VOTE: mc_wire_encode_vote(&b, &m.vote); break;
    case MC_WIRE_TX: mc_wire_encode_tx(&b, m.bytes, m.len); break;
    case MC_WIRE_STATUS: mc_wire_encode_status(&b, m.height, &m.hash); break;
    case MC_WIRE_GET_BLOCK: mc_wire_encode_get_block(&b, m.height); break;
    case MC_WIRE_NO_BLOCK: mc_wire_encode_no_block(&b, m.height); break;
    case MC_WIRE_EVIDENCE: mc_wire_encode_evidence(&b, &m.evidence); break;
    case MC_WIRE_GET_BLOB: mc_wire_encode_get_blob(&b, &m.hash); break;
    case MC_WIRE_BLOB:
        if (m.len == 0 || m.len > MC_BLOB_MAX) abort();
        mc_wire_encode_blob(&b, &m.hash, m.bytes, m.len);
        break;
    case MC_WIRE_GET_BLOB_PART:
        if (m.offset % MC_BLOB_PIECE) abort();
        mc_wire_encode_get_blob_part(&b, &m.hash, m.offset);
        break;
    case MC_WIRE_BLOB_PART:
        if (m.len == 0 || m.len > MC_BLOB_PIECE || m.offset + m.len > m.total) abort();
        mc_wire_encode_blob_part(&b, &m.hash, m.offset, m.total, m.bytes, m.len);
        break;
    default: check = false;
    }
    if (check) expect_same(&b, p, len);
    mc_buf_deinit(&b);
    return 0;
}
