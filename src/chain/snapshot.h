/* Snapshots of the application state: the canonical bytes of a manifest
 * and of its chunks, and their checks. Node-local (a node writes them when
 * it likes, node/snapshot.c); nothing here is part of consensus: what a
 * restoring node trusts is the state root of a header it certified itself
 * (chain/light.h), and a snapshot only counts when its rows hash to it.
 *
 * A snapshot holds the state rows (never the tree's node rows, whose keys
 * start with a zero byte: the restoring node rebuilds the tree from the
 * rows) at one committed height, in key order, cut into chunks of whole
 * rows, each at most MC_SNAPSHOT_CHUNK_MAX bytes:
 *
 *   chunk     | u32 count (>= 1) | count x row |
 *   row       | u16 key length (1..MC_STATE_KEY_MAX) | key |
 *             | u32 value length (<= MC_STATE_VALUE_MAX) | value |
 *   manifest  | "MCSN" | u8 version (1) | u64 height | hash block |
 *             | hash state root | u64 rows | u32 chunks (1..MC_SNAPSHOT_CHUNKS_MAX) |
 *             | chunks x hash: SHA-256 of each chunk's bytes |
 *
 * Keys are strictly increasing across the whole snapshot (chunk i's last
 * key below chunk i+1's first), none starts with a zero byte. A restoring
 * node checks each chunk's hash against the manifest before it decodes it
 * (mc_snapshot_check_add), then that the rows are as many as the manifest
 * says and that their sparse Merkle root (mc_smt_root_of) is the manifest's
 * state root (mc_snapshot_check_finish), which the caller compares with the
 * certified header's. */
#ifndef MC_CHAIN_SNAPSHOT_H
#define MC_CHAIN_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/limits.h"
#include "chain/smt.h"
#include "crypto/hash.h"

#define MC_SNAPSHOT_VERSION 1

struct mc_snapshot_manifest {
    uint8_t version;
    uint64_t height;
    mc_hash block_hash;
    mc_hash state_root;
    uint64_t rows;
    uint32_t chunk_count;
    mc_hash *chunks; /* chunk_count hashes, owned (NULL when none) */
};

void mc_snapshot_manifest_deinit(struct mc_snapshot_manifest *m);
void mc_snapshot_manifest_encode(struct mc_buf *b, const struct mc_snapshot_manifest *m);
/* Strict (magic, version, counts within bounds, no trailing bytes);
 * allocates m->chunks. MC_ERR_MALFORMED, MC_ERR_TOO_LARGE, MC_ERR_NOMEM. */
MC_MUST_CHECK int mc_snapshot_manifest_decode(struct mc_snapshot_manifest *m, const void *p,
                                              size_t len);
/* SHA-256 of the manifest's canonical bytes: the snapshot's name. */
void mc_snapshot_manifest_id(const struct mc_snapshot_manifest *m, mc_hash *id);

/* Cuts rows (given in key order) into chunks; emit is called with each full
 * chunk's bytes (valid during the call) and its returned error stops. */
typedef int (*mc_snapshot_emit_fn)(void *ctx, const uint8_t *chunk, size_t len);
struct mc_snapshot_chunker {
    struct mc_buf buf;
    uint32_t count;
    uint64_t rows;
    mc_snapshot_emit_fn emit;
    void *ctx;
};
void mc_snapshot_chunker_init(struct mc_snapshot_chunker *c, mc_snapshot_emit_fn emit, void *ctx);
void mc_snapshot_chunker_deinit(struct mc_snapshot_chunker *c);
/* MC_ERR_INVALID for a key or value out of bounds or a node key. */
MC_MUST_CHECK int mc_snapshot_chunker_add(struct mc_snapshot_chunker *c, const uint8_t *key,
                                          size_t klen, const uint8_t *value, size_t vlen);
/* Emits the last chunk (if it holds a row). */
MC_MUST_CHECK int mc_snapshot_chunker_finish(struct mc_snapshot_chunker *c);

/* Decodes one chunk strictly, calling fn for each row in order (fn's
 * negative return stops and is returned). Checks bounds and that keys
 * increase within the chunk. */
MC_MUST_CHECK int mc_snapshot_chunk_decode(const uint8_t *chunk, size_t len, mc_kv_row_fn fn,
                                           void *ctx);

/* Checks a snapshot chunk by chunk against its manifest, keeping each row's
 * key hash and value hash for the root. */
struct mc_snapshot_check {
    const struct mc_snapshot_manifest *m;
    uint32_t next;                          /* chunks are added in order */
    uint8_t last_key[MC_STATE_KEY_MAX];
    size_t last_len;
    struct mc_smt_change *rows;
    size_t n, cap;
};
void mc_snapshot_check_init(struct mc_snapshot_check *k, const struct mc_snapshot_manifest *m);
void mc_snapshot_check_deinit(struct mc_snapshot_check *k);
/* MC_ERR_TAMPERED (with a detail sentence) when chunk `index`'s bytes do
 * not hash to the manifest's; MC_ERR_INVALID when index is not the next;
 * the decoder's errors; MC_ERR_TOO_LARGE past the manifest's row count.
 * A refused chunk leaves the check as it was, so the same chunk can be
 * added again from another peer. */
MC_MUST_CHECK int mc_snapshot_check_chunk(const struct mc_snapshot_manifest *m, uint32_t index,
                                          const uint8_t *chunk, size_t len);
MC_MUST_CHECK int mc_snapshot_check_add(struct mc_snapshot_check *k, uint32_t index,
                                        const uint8_t *chunk, size_t len);
/* After the last chunk: the row count and the root of the rows must be the
 * manifest's (MC_ERR_TAMPERED otherwise); gives the root. */
MC_MUST_CHECK int mc_snapshot_check_finish(struct mc_snapshot_check *k, mc_hash *root);

#endif
