/* Messages between nodes (carried by the transport of net/transport.h).
 *
 * Every message is | u8 type | body |, strictly decoded:
 *
 *   PROPOSAL  1  | proposal (MC_PROPOSAL_WIRE_BYTES) | u32 len | block |
 *   VOTE      2  | vote (MC_VOTE_WIRE_BYTES) |
 *   TX        3  | transaction bytes (at most MC_TX_MAX) |
 *   STATUS    4  | u64 height | block hash 32 |
 *   GET_BLOCK 5  | u64 height |
 *   BLOCK     6  | u64 height | u32 len | block | u32 len | commit certificate |
 *   EVIDENCE  7  | evidence (MC_EVIDENCE_WIRE_BYTES) |
 *   NO_BLOCK  8  | u64 height |                      (answer: not stored here)
 *   GET_BLOB  9  | blob id 32 |                        (ask for a record's ciphertext)
 *   BLOB     10  | blob id 32 | u32 len | ciphertext | (1..MC_BLOB_MAX bytes)
 *   GET_BLOB_PART 11  | blob id 32 | u64 offset |     (a piece of a streamed blob)
 *   BLOB_PART     12  | blob id 32 | u64 offset | u64 total | u32 len | bytes |
 *                     (1..MC_BLOB_PIECE bytes at offset, a multiple of
 *                     MC_BLOB_PIECE, of a blob of total bytes)
 *
 * State sync (node/snapshot.c serves, node/statesync.c asks; decoded by
 * mc_wire_snap_decode, wire_snapshot.c; formats of manifests and chunks in
 * chain/snapshot.h):
 *   GET_SNAPSHOTS 13  | (empty) |
 *   SNAPSHOTS     14  | u8 count (<= MC_SNAPSHOT_KEEP_MAX) | count x bytes32 manifest |
 *   GET_CHUNK     15  | u64 height | u32 index |
 *   CHUNK         16  | u64 height | u32 index | bytes32 chunk (1..MC_SNAPSHOT_CHUNK_MAX) |
 *   NO_CHUNK      17  | u64 height | u32 index |        (answer: not held here)
 *   GET_VALSETS   18  | (empty) |
 *   VALSETS       19  | u8 count (<= MC_SNAPSHOT_VALSETS_MAX) | count x
 *                     ( u64 height | u64 from | bytes32 row | bytes32 proof |
 *                       bytes32 header | bytes32 commit certificate | )
 *                     (each change of validators: its row's proof against
 *                     the header of `height`, as GET /v1/state/valsets)
 *
 * where block is | u32 len | header | u32 len | body | (chain/block.h). */
#ifndef MC_NODE_WIRE_H
#define MC_NODE_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/limits.h"
#include "chain/block.h"
#include "consensus/evidence.h"
#include "consensus/proposal.h"

enum mc_wire_type {
    MC_WIRE_PROPOSAL = 1,
    MC_WIRE_VOTE = 2,
    MC_WIRE_TX = 3,
    MC_WIRE_STATUS = 4,
    MC_WIRE_GET_BLOCK = 5,
    MC_WIRE_BLOCK = 6,
    MC_WIRE_EVIDENCE = 7,
    MC_WIRE_NO_BLOCK = 8,
    MC_WIRE_GET_BLOB = 9,
    MC_WIRE_BLOB = 10,
    MC_WIRE_GET_BLOB_PART = 11,
    MC_WIRE_BLOB_PART = 12,
    MC_WIRE_GET_SNAPSHOTS = 13,
    MC_WIRE_SNAPSHOTS = 14,
    MC_WIRE_GET_CHUNK = 15,
    MC_WIRE_CHUNK = 16,
    MC_WIRE_NO_CHUNK = 17,
    MC_WIRE_GET_VALSETS = 18,
    MC_WIRE_VALSETS = 19,
};

/* A block as exchanged: header and body bytes (borrowed when decoded). */
struct mc_wire_block {
    const uint8_t *header;
    size_t header_len;
    const uint8_t *body;
    size_t body_len;
};

struct mc_wire_msg {
    uint8_t type;
    struct mc_proposal proposal;   /* PROPOSAL */
    struct mc_vote vote;           /* VOTE */
    struct mc_evidence evidence;   /* EVIDENCE */
    uint64_t height;               /* STATUS, GET_BLOCK, BLOCK, NO_BLOCK */
    mc_hash hash;                  /* STATUS; the blob id of GET_BLOB, BLOB */
    struct mc_wire_block block;    /* PROPOSAL, BLOCK */
    const uint8_t *bytes;          /* TX bytes, BLOCK commit bytes, BLOB ciphertext */
    size_t len;
    uint64_t offset, total;        /* GET_BLOB_PART, BLOB_PART */
};

/* Strict decode; pointers borrow from p. */
MC_MUST_CHECK int mc_wire_decode(struct mc_wire_msg *m, const void *p, size_t len);

void mc_wire_block_encode(struct mc_buf *b, const struct mc_wire_block *blk);
void mc_wire_encode_proposal(struct mc_buf *b, const struct mc_proposal *p,
                             const struct mc_wire_block *blk);
void mc_wire_encode_vote(struct mc_buf *b, const struct mc_vote *v);
void mc_wire_encode_tx(struct mc_buf *b, const uint8_t *tx, size_t len);
void mc_wire_encode_status(struct mc_buf *b, uint64_t height, const mc_hash *hash);
void mc_wire_encode_get_block(struct mc_buf *b, uint64_t height);
void mc_wire_encode_no_block(struct mc_buf *b, uint64_t height);
void mc_wire_encode_block(struct mc_buf *b, uint64_t height, const struct mc_wire_block *blk,
                          const uint8_t *commit, size_t commit_len);
void mc_wire_encode_evidence(struct mc_buf *b, const struct mc_evidence *e);
void mc_wire_encode_get_blob(struct mc_buf *b, const mc_hash *id);
void mc_wire_encode_blob(struct mc_buf *b, const mc_hash *id, const uint8_t *bytes, size_t len);
void mc_wire_encode_get_blob_part(struct mc_buf *b, const mc_hash *id, uint64_t offset);
void mc_wire_encode_blob_part(struct mc_buf *b, const mc_hash *id, uint64_t offset, uint64_t total,
                              const uint8_t *bytes, size_t len);

/* ---- state sync messages (13..19) ---- */

static inline bool mc_wire_is_snap(uint8_t type) {
    return type >= MC_WIRE_GET_SNAPSHOTS && type <= MC_WIRE_VALSETS;
}

struct mc_wire_valset_change {
    uint64_t height, from;
    const uint8_t *row, *proof, *header, *commit;
    size_t row_len, proof_len, header_len, commit_len;
};

struct mc_wire_snap {
    uint8_t type;
    uint64_t height;                 /* GET_CHUNK, CHUNK, NO_CHUNK */
    uint32_t index;
    const uint8_t *bytes;            /* CHUNK */
    size_t len;
    uint32_t count;                  /* SNAPSHOTS, VALSETS */
    const uint8_t *manifest[MC_SNAPSHOT_KEEP_MAX];
    size_t manifest_len[MC_SNAPSHOT_KEEP_MAX];
    struct mc_wire_valset_change vs[MC_SNAPSHOT_VALSETS_MAX];
};

/* Strict decode of a state sync message; pointers borrow from p. */
MC_MUST_CHECK int mc_wire_snap_decode(struct mc_wire_snap *m, const void *p, size_t len);
void mc_wire_encode_get_snapshots(struct mc_buf *b);
/* manifests: count encoded manifests (chain/snapshot.h). */
void mc_wire_encode_snapshots(struct mc_buf *b, uint32_t count, const struct mc_buf *manifests);
void mc_wire_encode_get_chunk(struct mc_buf *b, uint64_t height, uint32_t index);
void mc_wire_encode_chunk(struct mc_buf *b, uint64_t height, uint32_t index, const uint8_t *chunk,
                          size_t len);
void mc_wire_encode_no_chunk(struct mc_buf *b, uint64_t height, uint32_t index);
void mc_wire_encode_get_valsets(struct mc_buf *b);
void mc_wire_encode_valsets(struct mc_buf *b, uint32_t count, const struct mc_wire_valset_change *vs);

#endif
