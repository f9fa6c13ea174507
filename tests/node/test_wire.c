/* The blob and state sync messages of node/wire.h (GET_BLOB 9, BLOB 10, GET_BLOB_PART 11,
 * BLOB_PART 12): round trips and
 * strict decoding; and the anchor accessor replication relies on. */
#include <criterion/criterion.h>
#include <string.h>

#include "app/records.h"
#include "base/codec.h"
#include "blob/blob.h"
#include "crypto/envelope.h"
#include "node/wire.h"

static mc_hash some_id(void) {
    mc_hash h;
    for (int i = 0; i < 32; i++) h.b[i] = (uint8_t)(i * 7 + 1);
    return h;
}

Test(wire, get_blob_round_trip_and_strict) {
    mc_hash id = some_id();
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_wire_encode_get_blob(&b, &id);
    cr_assert_eq(b.len, 33);
    cr_assert_eq(b.data[0], 9);
    struct mc_wire_msg m;
    cr_assert_eq(mc_wire_decode(&m, b.data, b.len), 0);
    cr_assert_eq(m.type, MC_WIRE_GET_BLOB);
    cr_assert_eq(memcmp(m.hash.b, id.b, 32), 0);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len - 1), 0, "truncated");
    mc_buf_append(&b, "x", 1);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len), 0, "trailing byte");
    mc_buf_deinit(&b);
}

Test(wire, blob_round_trip_and_strict) {
    mc_hash id = some_id();
    const uint8_t ct[] = "ciphertext bytes";
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_wire_encode_blob(&b, &id, ct, sizeof ct);
    struct mc_wire_msg m;
    cr_assert_eq(mc_wire_decode(&m, b.data, b.len), 0);
    cr_assert_eq(m.type, MC_WIRE_BLOB);
    cr_assert_eq(memcmp(m.hash.b, id.b, 32), 0);
    cr_assert_eq(m.len, sizeof ct);
    cr_assert_eq(memcmp(m.bytes, ct, sizeof ct), 0);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len - 1), 0, "truncated");
    mc_buf_append(&b, "x", 1);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len), 0, "trailing byte");
    mc_buf_deinit(&b);

    /* an empty blob, and a length above MC_BLOB_MAX, are malformed */
    mc_buf_init(&b, 0);
    mc_wire_encode_blob(&b, &id, ct, 0);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len), 0, "empty");
    mc_buf_deinit(&b);
    mc_buf_init(&b, 0);
    mc_enc_u8(&b, MC_WIRE_BLOB);
    mc_enc_fixed(&b, id.b, 32);
    mc_enc_u32(&b, MC_BLOB_MAX + 1);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len), 0, "over the limit");
    mc_buf_deinit(&b);
    /* type 13 is unknown */
    uint8_t unknown[33] = {13};
    cr_assert_neq(mc_wire_decode(&m, unknown, sizeof unknown), 0);
}

/* The pieces of streamed blobs (GET_BLOB_PART 11, BLOB_PART 12): round
 * trips; offsets off a piece boundary, empty or oversized pieces, and a
 * piece past the total are malformed. */
Test(wire, blob_parts_round_trip_and_strict) {
    mc_hash id = some_id();
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_wire_encode_get_blob_part(&b, &id, 3 * (uint64_t)MC_BLOB_PIECE);
    struct mc_wire_msg m;
    cr_assert_eq(mc_wire_decode(&m, b.data, b.len), 0);
    cr_assert_eq(m.type, MC_WIRE_GET_BLOB_PART);
    cr_assert_eq(m.offset, 3 * (uint64_t)MC_BLOB_PIECE);
    cr_assert_eq(memcmp(m.hash.b, id.b, 32), 0);
    mc_buf_reset(&b);
    mc_wire_encode_get_blob_part(&b, &id, 12345);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len), 0, "not a piece boundary");
    mc_buf_reset(&b);
    const uint8_t piece[] = "piece bytes";
    uint64_t total = 2 * (uint64_t)MC_BLOB_PIECE + sizeof piece;
    mc_wire_encode_blob_part(&b, &id, 2 * (uint64_t)MC_BLOB_PIECE, total, piece, sizeof piece);
    cr_assert_eq(mc_wire_decode(&m, b.data, b.len), 0);
    cr_assert_eq(m.type, MC_WIRE_BLOB_PART);
    cr_assert_eq(m.offset, 2 * (uint64_t)MC_BLOB_PIECE);
    cr_assert_eq(m.total, total);
    cr_assert_eq(m.len, sizeof piece);
    cr_assert_eq(memcmp(m.bytes, piece, sizeof piece), 0);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len - 1), 0, "truncated");
    mc_buf_reset(&b);
    mc_wire_encode_blob_part(&b, &id, 2 * (uint64_t)MC_BLOB_PIECE, total - 1, piece, sizeof piece);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len), 0, "past the total");
    mc_buf_reset(&b);
    mc_wire_encode_blob_part(&b, &id, 0, total, piece, 0);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len), 0, "empty");
    mc_buf_reset(&b);
    mc_enc_u8(&b, MC_WIRE_BLOB_PART);
    mc_enc_fixed(&b, id.b, 32);
    mc_enc_u64(&b, 0);
    mc_enc_u64(&b, total);
    mc_enc_u32(&b, MC_BLOB_PIECE + 1);
    cr_assert_neq(mc_wire_decode(&m, b.data, b.len), 0, "a piece over MC_BLOB_PIECE");
    mc_buf_deinit(&b);
}

struct seen {
    int n;
    char id[2][80];
    uint32_t version[2], size[2];
    mc_hash ct[2];
};

static void on_entry(void *ctx, const char *id, uint32_t version, const mc_hash *ct, uint32_t size) {
    struct seen *s = ctx;
    if (s->n < 2) {
        snprintf(s->id[s->n], sizeof s->id[0], "%s", id);
        s->version[s->n] = version;
        s->size[s->n] = size;
        s->ct[s->n] = *ct;
    }
    s->n++;
}

Test(wire, anchored_blobs_reads_every_entry) {
    struct mc_buf p;
    mc_buf_init(&p, 0);
    uint8_t zero[2 * MC_SEALED_KEY_BYTES] = {0};
    mc_enc_fixed(&p, zero, 64);                      /* patient, author */
    mc_enc_bytes16(&p, (const uint8_t *)"base", 4);  /* signature base */
    mc_enc_fixed(&p, zero, 64);                      /* signature */
    mc_enc_fixed(&p, zero, 2 * MC_SEALED_KEY_BYTES); /* sealed batch keys */
    mc_enc_u16(&p, 2);
    mc_hash a = some_id(), b = some_id();
    b.b[0] ^= 0xff;
    mc_enc_str8(&p, "obs-1");
    mc_enc_u16(&p, 1);
    mc_enc_u32(&p, 1);
    mc_enc_fixed(&p, a.b, 32);
    mc_enc_u32(&p, 321);
    mc_enc_str8(&p, "cond-2");
    mc_enc_u16(&p, 2);
    mc_enc_u32(&p, 3);
    mc_enc_fixed(&p, b.b, 32);
    mc_enc_u32(&p, 654);
    cr_assert_eq(p.err, 0);
    struct seen s = {0};
    cr_assert_eq(mc_records_anchored_blobs(p.data, p.len, on_entry, &s), 0);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.id[0], "obs-1");
    cr_assert_str_eq(s.id[1], "cond-2");
    cr_assert_eq(s.version[1], 3);
    cr_assert_eq(s.size[0], 321);
    cr_assert_eq(memcmp(s.ct[1].b, b.b, 32), 0);
    memset(&s, 0, sizeof s);
    cr_assert_neq(mc_records_anchored_blobs(p.data, p.len - 1, on_entry, &s), 0, "truncated");
    cr_assert_eq(s.n, 1);
    mc_buf_deinit(&p);
}

/* State sync messages (13..19): round trips, and declared lengths past
 * their limits or trailing bytes refused. */
Test(wire, state_sync_messages_round_trip_and_are_bounded) {
    static struct mc_wire_snap m;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    uint8_t chunk[100];
    memset(chunk, 7, sizeof chunk);
    mc_wire_encode_chunk(&b, 42, 3, chunk, sizeof chunk);
    cr_assert_eq(mc_wire_snap_decode(&m, b.data, b.len), 0);
    cr_assert_eq(m.type, MC_WIRE_CHUNK);
    cr_assert_eq(m.height, 42);
    cr_assert_eq(m.index, 3);
    cr_assert_eq(m.len, sizeof chunk);
    mc_enc_u8(&b, 0);
    cr_assert_neq(mc_wire_snap_decode(&m, b.data, b.len), 0, "trailing byte");
    /* a chunk declared over the limit */
    mc_buf_reset(&b);
    mc_enc_u8(&b, MC_WIRE_CHUNK);
    mc_enc_u64(&b, 1);
    mc_enc_u32(&b, 0);
    mc_enc_u32(&b, MC_SNAPSHOT_CHUNK_MAX + 1);
    cr_assert_neq(mc_wire_snap_decode(&m, b.data, b.len), 0);
    /* more manifests than a node keeps */
    mc_buf_reset(&b);
    mc_enc_u8(&b, MC_WIRE_SNAPSHOTS);
    mc_enc_u8(&b, MC_SNAPSHOT_KEEP_MAX + 1);
    cr_assert_neq(mc_wire_snap_decode(&m, b.data, b.len), 0);
    /* a list of two */
    struct mc_buf man[2];
    mc_buf_init(&man[0], 0);
    mc_buf_init(&man[1], 0);
    mc_buf_append(&man[0], "abc", 3);
    mc_buf_append(&man[1], "de", 2);
    mc_buf_reset(&b);
    mc_wire_encode_snapshots(&b, 2, man);
    cr_assert_eq(mc_wire_snap_decode(&m, b.data, b.len), 0);
    cr_assert_eq(m.count, 2);
    cr_assert_eq(m.manifest_len[1], 2);
    cr_assert_eq(memcmp(m.manifest[0], "abc", 3), 0);
    /* requests */
    mc_buf_reset(&b);
    mc_wire_encode_get_chunk(&b, 9, 1);
    cr_assert_eq(mc_wire_snap_decode(&m, b.data, b.len), 0);
    cr_assert_eq(m.type, MC_WIRE_GET_CHUNK);
    cr_assert_neq(mc_wire_snap_decode(&m, b.data, b.len - 1), 0, "truncated");
    mc_buf_reset(&b);
    mc_wire_encode_get_snapshots(&b);
    cr_assert_eq(mc_wire_snap_decode(&m, b.data, b.len), 0);
    cr_assert(mc_wire_is_snap(b.data[0]));
    cr_assert(!mc_wire_is_snap(MC_WIRE_BLOCK));
    /* a change of validators with an empty proof is malformed */
    struct mc_wire_valset_change v = {.height = 3, .from = 5, .row = (const uint8_t *)"r", .row_len = 1,
                                      .proof = (const uint8_t *)"p", .proof_len = 1,
                                      .header = (const uint8_t *)"h", .header_len = 1,
                                      .commit = (const uint8_t *)"c", .commit_len = 1};
    mc_buf_reset(&b);
    mc_wire_encode_valsets(&b, 1, &v);
    cr_assert_eq(mc_wire_snap_decode(&m, b.data, b.len), 0);
    cr_assert_eq(m.vs[0].from, 5);
    v.proof_len = 0;
    mc_buf_reset(&b);
    mc_wire_encode_valsets(&b, 1, &v);
    cr_assert_neq(mc_wire_snap_decode(&m, b.data, b.len), 0);
    mc_buf_deinit(&man[0]);
    mc_buf_deinit(&man[1]);
    mc_buf_deinit(&b);
}
