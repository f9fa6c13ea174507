/* Node-local rows: what a node keeps for itself in its own database and
 * never puts on the ledger (not consensus state: never hashed, never
 * replicated, never part of a state root). Today: open invitations
 * (api/routes_invite.c), an organisation's record-number index
 * (api/routes_mrn.c) and FHIR Subscriptions (node/subscription.h).
 *
 * One table in the node's database file (data/chain.db), beside the chain
 * store's tables:
 *
 *   node_local(space TEXT, key BLOB, owner BLOB, value BLOB, expires_ms)
 *     PRIMARY KEY (space, key), indexed by (space, owner)
 *
 * `space` names the use ("invite", "mrn"); `owner` groups rows for listing
 * and bounds (an inviter's key, an organisation and patient); expires_ms 0
 * never expires, otherwise a row whose time has come is invisible to every
 * read below and deleted by mc_local_expire.
 *
 * The handle has its own SQLite connection (serialized, so thread-safe
 * without the node lock); each call is one SQL transaction, so the bounds
 * and the one-time swap hold between concurrent callers and processes. */
#ifndef MC_CHAIN_LOCAL_H
#define MC_CHAIN_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"

struct mc_local;

struct mc_local_row {
    const char *space;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *owner;
    size_t owner_len;
    const uint8_t *value;
    size_t value_len;
    uint64_t expires_ms; /* 0: never */
};

struct mc_local_bounds {
    uint64_t per_owner;  /* live rows of one owner in the space; 0: no bound */
    uint64_t total;      /* live rows in the space; 0: no bound */
    /* The owner's other rows in the space are removed in the same
     * transaction (one row per owner: a new value replaces the old). */
    bool replace_owner;
};

/* Opens (creating the table when absent) the database at path. */
MC_MUST_CHECK int mc_local_open(struct mc_local **out, const char *path);
void mc_local_close(struct mc_local *l);

/* Adds a row. A live row with the same key and the same owner is replaced
 * (idempotent); with another owner MC_ERR_EXISTS. MC_ERR_FULL (detail
 * "owner" or "total") when a bound would be passed. */
MC_MUST_CHECK int mc_local_insert(struct mc_local *l, const struct mc_local_row *row, uint64_t now_ms,
                                  const struct mc_local_bounds *b);

/* The live row (space, key): value (and owner, when not NULL) appended to
 * the buffers, its expiry in *expires_ms (may be NULL). MC_ERR_NOT_FOUND. */
MC_MUST_CHECK int mc_local_get(struct mc_local *l, const char *space, const uint8_t *key, size_t key_len,
                               uint64_t now_ms, struct mc_buf *value, struct mc_buf *owner, uint64_t *expires_ms);

/* Compare and swap: sets the live row's value to val only if it is still
 * expect, byte for byte. MC_ERR_NOT_FOUND when there is no live row,
 * MC_ERR_STATE when its value is no longer expect (another caller won). */
MC_MUST_CHECK int mc_local_swap(struct mc_local *l, const char *space, const uint8_t *key, size_t key_len,
                                uint64_t now_ms, const uint8_t *expect, size_t expect_len, const uint8_t *val,
                                size_t val_len);

/* Calls fn for each live row of owner in the space (owner NULL: of every
 * owner; at most max, ordered by key); stops at fn's first non-zero
 * return, which it returns. */
typedef int (*mc_local_row_fn)(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                               size_t value_len, uint64_t expires_ms);
MC_MUST_CHECK int mc_local_list(struct mc_local *l, const char *space, const uint8_t *owner, size_t owner_len,
                                uint64_t now_ms, size_t max, mc_local_row_fn fn, void *ctx);

/* Removes the row (space, key) if present; *removed (may be NULL) tells. */
MC_MUST_CHECK int mc_local_delete(struct mc_local *l, const char *space, const uint8_t *key, size_t key_len,
                                  bool *removed);

/* Deletes every row whose expiry has come; *removed counts them. */
MC_MUST_CHECK int mc_local_expire(struct mc_local *l, uint64_t now_ms, uint64_t *removed);

#endif
