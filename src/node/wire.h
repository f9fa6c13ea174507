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
 * where block is | u32 len | header | u32 len | body | (chain/block.h). */
#ifndef MC_NODE_WIRE_H
#define MC_NODE_WIRE_H

#include <stdint.h>

#include "base/codec.h"
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

#endif
