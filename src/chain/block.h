/* Block header and block.
 *
 * Header, canonical form:
 *
 *   | u8  version (=1)          |
 *   | str8 chain id             |
 *   | u64 height                |  1 for the first block after genesis
 *   | u64 time_ms               |  proposer's time, strictly increasing
 *   | hash prev                 |  previous block hash; genesis hash at height 1
 *   | hash tx_root              |  RFC 6962 root over this block's transactions
 *   | u32 tx_count              |
 *   | u64 log_size              |  ledger-wide transaction log after this block
 *   | hash log_root             |
 *   | hash state_hash           |  application state after this block
 *   | hash valset_hash          |  validator set that signs this block
 *   | pubkey proposer           |
 *   | hash last_commit_hash     |  SHA-256 of the previous block's certificate
 *                                  (zero at height 1)
 *
 * The block hash is SHA-256 of the header's canonical form.
 *
 * Block body, canonical form:
 *   | u32 count | count x (u32 len | tx bytes) | u8 has_last_commit | [u32 len | commit] |
 */
#ifndef MC_CHAIN_BLOCK_H
#define MC_CHAIN_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/limits.h"
#include "chain/commit.h"
#include "chain/tx.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

#define MC_BLOCK_VERSION 1

struct mc_header {
    char chain_id[MC_CHAIN_ID_MAX + 1];
    uint64_t height;
    uint64_t time_ms;
    mc_hash prev;
    mc_hash tx_root;
    uint32_t tx_count;
    uint64_t log_size;
    mc_hash log_root;
    mc_hash state_hash;
    mc_hash valset_hash;
    mc_pubkey proposer;
    mc_hash last_commit_hash;
};

void mc_header_encode(struct mc_buf *b, const struct mc_header *h);
MC_MUST_CHECK int mc_header_decode(struct mc_header *h, const void *p, size_t len);
void mc_header_hash(const struct mc_header *h, mc_hash *out);

/* A transaction inside a block: borrowed bytes. */
struct mc_tx_ref {
    const uint8_t *bytes;
    size_t len;
};

/* Decoded block body. txs points into the decoded bytes. */
struct mc_block_body {
    uint32_t count;
    struct mc_tx_ref *txs; /* malloc'd array; free with mc_block_body_deinit */
    bool has_last_commit;
    struct mc_commit last_commit;
};

void mc_block_body_encode(struct mc_buf *b, const struct mc_tx_ref *txs, uint32_t count,
                          const struct mc_commit *last_commit /* NULL at height 1 */);
MC_MUST_CHECK int mc_block_body_decode(struct mc_block_body *body, const void *p, size_t len);
void mc_block_body_deinit(struct mc_block_body *body);

/* Root of the RFC 6962 tree over the given transactions. */
void mc_block_tx_root(mc_hash *out, const struct mc_tx_ref *txs, uint32_t count);

#endif
