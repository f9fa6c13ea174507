/* Mempool: transactions admitted but not yet committed.
 *
 * Bounded by MC_MEMPOOL_TXS_MAX transactions and MC_MEMPOOL_BYTES_MAX
 * bytes; when full, submissions are refused with MC_ERR_FULL (the client
 * retries) rather than evicting admitted work. Deduplicated by transaction
 * id, and at most one pending transaction per (sender, nonce).
 *
 * Two classes, kept apart:
 *   ready   executable once the ready ones ahead of it ran; order is the
 *           order they became ready, which is the order blocks take them;
 *   queued  the sender's nonce has a gap before it. Queued transactions are
 *           never handed to the block producer (peek skips them, size does
 *           not count them), so a gap cannot make a proposer cut blocks;
 *           they wait bounded (MC_MEMPOOL_QUEUED_MAX, per sender
 *           MC_MEMPOOL_QUEUED_PER_SENDER_MAX, and a time limit the node
 *           enforces with mc_mempool_expire) until promoted.
 * Recently rejected ids are remembered (a bounded ring) so clients can
 * learn why, and so are ids of transactions the node re-signed (its own,
 * after a rejection moved their nonces), so a status lookup can follow
 * them. Not thread-safe: the node lock protects it. */
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
    bool dead;   /* removed, awaiting mc_mempool_compact */
    bool queued; /* waiting for a nonce gap to close */
    uint64_t queued_at_ms;
};

MC_MUST_CHECK int mc_mempool_create(struct mc_mempool **out);
void mc_mempool_destroy(struct mc_mempool *mp);

/* Takes a copy of bytes. MC_ERR_EXISTS (same id), MC_ERR_BAD_NONCE (another
 * transaction with this sender and nonce is pending), MC_ERR_FULL. */
MC_MUST_CHECK int mc_mempool_add(struct mc_mempool *mp, const mc_hash *id, const mc_pubkey *sender,
                                 uint64_t nonce, const uint8_t *bytes, size_t len);
/* Admits a transaction to the queue (a gap before its nonce). Same errors
 * as mc_mempool_add, and MC_ERR_FULL when the queue or the sender's share
 * of it is full. */
MC_MUST_CHECK int mc_mempool_add_queued(struct mc_mempool *mp, const mc_hash *id,
                                        const mc_pubkey *sender, uint64_t nonce,
                                        const uint8_t *bytes, size_t len, uint64_t now_ms);
/* 0 when a transaction of len bytes from sender would be admitted now
 * (ready), else the error mc_mempool_add would return; changes nothing. */
MC_MUST_CHECK int mc_mempool_can_add(const struct mc_mempool *mp, const mc_pubkey *sender,
                                     uint64_t nonce, size_t len);
/* The queued transaction (sender, nonce) becomes ready, last in order;
 * returns it, or NULL when no such queued transaction is pending. The
 * pointer is valid until the next add/promote/remove. */
const struct mc_mempool_tx *mc_mempool_promote(struct mc_mempool *mp, const mc_pubkey *sender,
                                               uint64_t nonce);
/* A ready transaction goes back to the queue (its predecessor is gone). */
void mc_mempool_demote(struct mc_mempool *mp, const mc_hash *id, uint64_t now_ms);
/* The live pending transaction of sender with nonce, or NULL. */
const struct mc_mempool_tx *mc_mempool_find(const struct mc_mempool *mp, const mc_pubkey *sender,
                                            uint64_t nonce);
/* Replaces a pending transaction in place (same position and class) by a
 * re-signed one with another id and nonce; takes a copy of bytes. */
MC_MUST_CHECK int mc_mempool_replace(struct mc_mempool *mp, const mc_hash *id,
                                     const mc_hash *new_id, uint64_t nonce, const uint8_t *bytes,
                                     size_t len);
/* Drops queued transactions that waited longer than wait_ms, remembering
 * each as rejected with the reason; returns how many. */
uint32_t mc_mempool_expire(struct mc_mempool *mp, uint64_t now_ms, uint64_t wait_ms);
/* Queued (live) transactions, up to max, in arrival order. */
uint32_t mc_mempool_peek_queued(const struct mc_mempool *mp, const struct mc_mempool_tx **out,
                                uint32_t max);
uint32_t mc_mempool_queued_count(const struct mc_mempool *mp);
/* Counts removals so far: a caller that keeps state derived from the
 * pending set (the node's check state) learns it changed under it. */
uint64_t mc_mempool_removals(const struct mc_mempool *mp);
bool mc_mempool_contains(const struct mc_mempool *mp, const mc_hash *id);
/* The pending transaction with this id, or NULL. */
const struct mc_mempool_tx *mc_mempool_get(const struct mc_mempool *mp, const mc_hash *id);
/* Ready transactions (including ones removed and not yet compacted); the
 * queued ones are not counted. */
uint32_t mc_mempool_size(const struct mc_mempool *mp);
/* Pointers to up to max ready transactions in order (valid until the next
 * add/remove). Returns the count. */
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
/* Re-signing memory: id was replaced by by. */
void mc_mempool_note_replaced(struct mc_mempool *mp, const mc_hash *id, const mc_hash *by);
/* 0 and the replacement when id was re-signed, else MC_ERR_NOT_FOUND. */
MC_MUST_CHECK int mc_mempool_replaced(const struct mc_mempool *mp, const mc_hash *id, mc_hash *by);

#endif
