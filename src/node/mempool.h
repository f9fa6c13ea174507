/* Mempool: transactions admitted but not yet committed.
 *
 * Bounded by MC_MEMPOOL_TXS_MAX transactions and MC_MEMPOOL_BYTES_MAX
 * bytes; when full, submissions are refused with MC_ERR_FULL (the client
 * retries) rather than evicting admitted work. Deduplicated by transaction
 * id, and at most one pending transaction per (sender, nonce). Order is
 * arrival order; the block producer retries a transaction whose nonce is
 * ahead after its predecessors ran. Recently rejected ids are remembered
 * (a bounded ring) so clients can learn why. Not thread-safe: the node
 * lock protects it. */
#ifndef MC_NODE_MEMPOOL_H
#define MC_NODE_MEMPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

struct mc_mempool;

struct mc_mempool_tx {
    mc_hash id;
    mc_pubkey sender;
    uint64_t nonce;
    uint64_t seq; /* arrival order */
    uint8_t *bytes;
    size_t len;
    bool dead; /* removed, awaiting mc_mempool_compact */
};

MC_MUST_CHECK int mc_mempool_create(struct mc_mempool **out);
void mc_mempool_destroy(struct mc_mempool *mp);

/* Takes a copy of bytes. MC_ERR_EXISTS (same id), MC_ERR_BAD_NONCE (another
 * transaction with this sender and nonce is pending), MC_ERR_FULL. */
MC_MUST_CHECK int mc_mempool_add(struct mc_mempool *mp, const mc_hash *id, const mc_pubkey *sender,
                                 uint64_t nonce, const uint8_t *bytes, size_t len);
bool mc_mempool_contains(const struct mc_mempool *mp, const mc_hash *id);
/* The pending transaction with this id, or NULL. */
const struct mc_mempool_tx *mc_mempool_get(const struct mc_mempool *mp, const mc_hash *id);
uint32_t mc_mempool_size(const struct mc_mempool *mp);
/* Pointers to up to max pending transactions in arrival order (valid until
 * the next add/remove). Returns the count. */
uint32_t mc_mempool_peek(const struct mc_mempool *mp, const struct mc_mempool_tx **out,
                         uint32_t max);
/* Marks a transaction removed; mc_mempool_compact drops marked entries
 * (one pass for a whole block's worth of removals). */
void mc_mempool_remove(struct mc_mempool *mp, const mc_hash *id);
void mc_mempool_compact(struct mc_mempool *mp);

/* Rejection memory. */
void mc_mempool_note_rejected(struct mc_mempool *mp, const mc_hash *id, int err,
                              const char *reason);
/* 0 and the reason when id was recently rejected, else MC_ERR_NOT_FOUND. */
MC_MUST_CHECK int mc_mempool_rejected(const struct mc_mempool *mp, const mc_hash *id, int *err,
                                      char *reason, size_t reason_size);

#endif
