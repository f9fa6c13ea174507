/* The off-chain encrypted store: content-addressed ciphertext.
 *
 * A blob is a byte string named by its SHA-256 (the id the chain anchors).
 * Blobs live in the node's SQLite database (data/chain.db), in a table of
 * their own that the ledger never hashes:
 *
 *   blobs(id BLOB PRIMARY KEY   -- SHA-256 of the bytes, 32 bytes
 *         bytes BLOB NOT NULL   -- the ciphertext; empty once purged
 *         purged INTEGER        -- 0 live, 1 purged (erasure)
 *         size INTEGER)         -- length of the bytes as stored
 *
 * Guarantees:
 *   - put stores exactly the bytes whose SHA-256 is the id it returns;
 *     storing the same bytes twice is a no-op (content addressing).
 *   - get re-hashes every blob it reads: bytes that no longer match their id
 *     (altered on disk) are reported as MC_ERR_TAMPERED and never returned.
 *   - purge overwrites the bytes (the connection runs with secure_delete, and
 *     the WAL is checkpointed and truncated) and keeps a tombstone, so a
 *     purged blob answers MC_ERR_STATE ("erased"), not "missing".
 *
 * The store opens its own connection to the database file, serialised by
 * its own mutex, so API threads use it without taking the node lock. */
#ifndef MC_BLOB_BLOB_H
#define MC_BLOB_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/limits.h"
#include "crypto/hash.h"

/* The largest blob is MC_BLOB_MAX (base/limits.h). */

struct mc_blob_store;

/* Opens (creating the table when needed) the store in the SQLite file at
 * path. */
MC_MUST_CHECK int mc_blob_open(struct mc_blob_store **out, const char *path);
/* NULL does nothing. */
void mc_blob_close(struct mc_blob_store *bs);

/* Stores bytes; *id receives their SHA-256. MC_ERR_TOO_LARGE above
 * MC_BLOB_MAX; MC_ERR_STATE when the id was purged (erased content is not
 * brought back); MC_ERR_DB. */
MC_MUST_CHECK int mc_blob_put(struct mc_blob_store *bs, mc_hash *id, const void *bytes,
                              size_t len);
/* Appends the blob's bytes to out after checking their hash. Errors:
 * MC_ERR_NOT_FOUND (never stored here), MC_ERR_STATE (purged),
 * MC_ERR_TAMPERED (stored bytes do not hash to id; nothing appended). */
MC_MUST_CHECK int mc_blob_get(struct mc_blob_store *bs, const mc_hash *id, struct mc_buf *out);
/* Erases the bytes, keeping a tombstone. Purging an unknown id records the
 * tombstone anyway (a later replication must not bring it back). */
MC_MUST_CHECK int mc_blob_purge(struct mc_blob_store *bs, const mc_hash *id);

/* Replication (fetching missing or damaged blobs from peers, hash
 * checked, then mc_blob_put) lives in the node: src/node/replicate.c. */

/* Counts for status and tests: live blobs and purged tombstones. */
MC_MUST_CHECK int mc_blob_count(struct mc_blob_store *bs, uint64_t *live, uint64_t *purged);

#endif
