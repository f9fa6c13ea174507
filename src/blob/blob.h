/* The off-chain encrypted store: content-addressed ciphertext, on one of
 * two backends chosen in the node's config.json ("blob_store", see
 * blob_config.c and docs/BLOBS.md):
 *
 *   sqlite  (default) the bytes in the node's SQLite database
 *           (data/chain.db), table blobs(id, bytes, purged, size, pending,
 *           since), which the ledger never hashes;
 *   s3      the bytes as objects "<prefix><64 hex of the id>" in a bucket
 *           of an S3-compatible object store (Ceph RADOS Gateway, ...),
 *           with a local index s3_blobs(id, state, size, since) in
 *           data/chain.db holding each blob's state and the tombstones.
 *
 * Guarantees, the same on both backends:
 *   - put stores exactly the bytes whose SHA-256 is the id it returns; it
 *     returns once the bytes are durably stored (for S3: the PUT answered
 *     2xx, the server having checked x-amz-content-sha256); storing the
 *     same bytes twice is a no-op (content addressing), and re-storing
 *     repairs a damaged copy.
 *   - get re-hashes every blob it reads: bytes that no longer match their id
 *     (altered on disk or in the bucket) are MC_ERR_TAMPERED and never
 *     returned.
 *   - a blob put as pending (an upload whose anchor is not committed yet)
 *     is not served by mc_blob_get until mc_blob_commit, or a read that
 *     names it from a committed anchor (mc_blob_get_anchored); a crash
 *     between upload and commit leaves only such pending blobs, which the
 *     sweep lists and removes.
 *   - purge keeps a tombstone first (a purged blob answers MC_ERR_STATE,
 *     "erased", and is never stored again), then erases the bytes: SQLite
 *     overwrites them (secure_delete, WAL checkpointed); S3 deletes every
 *     version of the object (and delete markers) in a background thread
 *     that retries until the bucket holds none, also across restarts.
 *   - a store that cannot be reached answers MC_ERR_UNAVAILABLE (bounded
 *     by timeouts and retries, s3.h); mc_blob_status says so.
 *
 * Thread-safe: API threads use the store without the node lock. */
#ifndef MC_BLOB_BLOB_H
#define MC_BLOB_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/limits.h"
#include "crypto/hash.h"

/* The largest blob put or got whole is MC_BLOB_MAX (base/limits.h); larger
 * ones (attachments) are streamed (see "streamed blobs" below). */

struct mc_blob_store;
struct mc_s3_config;

/* Opens (creating the table when needed) the SQLite store in the file at
 * path. */
MC_MUST_CHECK int mc_blob_open(struct mc_blob_store **out, const char *path);
/* Opens the S3 store: index in the SQLite file at db_path, objects under
 * prefix (may be "") in cfg's bucket, which is created when missing. */
MC_MUST_CHECK int mc_blob_open_s3(struct mc_blob_store **out, const char *db_path,
                                  const struct mc_s3_config *cfg, const char *prefix);
/* Opens the store a node's config.json chooses (blob_config.c): db_path is
 * the node's data/chain.db, home its folder. MC_ERR_INVALID for a bad
 * configuration or a credentials file others can read. */
MC_MUST_CHECK int mc_blob_open_home(struct mc_blob_store **out, const char *home,
                                    const char *db_path);
/* NULL does nothing. */
void mc_blob_close(struct mc_blob_store *bs);

/* Stores bytes; *id receives their SHA-256. MC_ERR_TOO_LARGE above
 * MC_BLOB_MAX; MC_ERR_STATE when the id was purged (erased content is not
 * brought back); MC_ERR_DB; MC_ERR_UNAVAILABLE. */
MC_MUST_CHECK int mc_blob_put(struct mc_blob_store *bs, mc_hash *id, const void *bytes,
                              size_t len);
/* The same, marked pending: not served until committed (see above). */
MC_MUST_CHECK int mc_blob_put_pending(struct mc_blob_store *bs, mc_hash *id, const void *bytes,
                                      size_t len);
/* A committed anchor names the blob: pending becomes live. Unknown or
 * purged ids are left as they are. */
MC_MUST_CHECK int mc_blob_commit(struct mc_blob_store *bs, const mc_hash *id);

/* Appends the blob's bytes to out after checking their hash. Errors:
 * MC_ERR_NOT_FOUND (never stored here, pending, or missing from the
 * bucket), MC_ERR_STATE (purged), MC_ERR_TAMPERED (stored bytes do not
 * hash to id; nothing appended), MC_ERR_UNAVAILABLE. */
MC_MUST_CHECK int mc_blob_get(struct mc_blob_store *bs, const mc_hash *id, struct mc_buf *out);
/* The same for a caller that read id from a committed anchor: a pending
 * blob is committed and served. */
MC_MUST_CHECK int mc_blob_get_anchored(struct mc_blob_store *bs, const mc_hash *id,
                                       struct mc_buf *out);
/* Whether replication should fetch the blob: not held (or damaged, where
 * the backend can tell without a download); purged blobs are not needed. */
bool mc_blob_needed(struct mc_blob_store *bs, const mc_hash *id);

/* Erases the bytes, keeping a tombstone. Purging an unknown id records the
 * tombstone anyway (a later replication must not bring it back). */
MC_MUST_CHECK int mc_blob_purge(struct mc_blob_store *bs, const mc_hash *id);

/* Counts for status and tests: live blobs and purged tombstones. */
MC_MUST_CHECK int mc_blob_count(struct mc_blob_store *bs, uint64_t *live, uint64_t *purged);

struct mc_blob_status {
    const char *backend;      /* "sqlite" or "s3" */
    bool available;           /* the last request to the store succeeded */
    uint64_t errors;          /* failed requests since start */
    uint64_t requests;        /* object reads and writes sent to a remote store */
    uint64_t request_ms;      /* their total time */
    uint64_t purges_pending;  /* erasures whose bucket deletes are outstanding */
    char last_error[200];     /* "" when none */
};
void mc_blob_status(struct mc_blob_store *bs, struct mc_blob_status *st);

/* Orphans: stored blobs no committed live anchor names, older than
 * grace_s seconds (an upload in flight is not one). anchored(ctx, id) says
 * whether the chain names id; pending blobs it names are committed
 * instead. report is called for each orphan (what: "pending", "unindexed",
 * "erased" for bytes left behind by an erasure, "partial" for a streamed
 * upload left unfinished, whose id is then all zero); with remove the orphan's
 * bytes (every version) and index entry are deleted. *found counts them. */
struct mc_blob_sweep {
    bool (*anchored)(void *ctx, const mc_hash *id);
    void (*report)(void *ctx, const mc_hash *id, const char *what, bool removed);
    void *ctx;
    bool remove;
    uint64_t grace_s;
};
MC_MUST_CHECK int mc_blob_sweep(struct mc_blob_store *bs, const struct mc_blob_sweep *sw,
                                uint64_t *found);

/* Moves the SQLite backend's blobs (the table in sqlite_path) into dst,
 * in id order: live blobs are put and read back (verified), pending ones
 * stay pending, tombstones become tombstones; a blob already live in dst
 * is skipped, so an interrupted run resumes where it stopped. A local copy
 * that does not hash to its id is not moved (reported "damaged"; a read
 * on dst fetches a good copy from a peer). With drop_local, once every
 * live blob is in dst, the local table is emptied. report may be NULL. */
struct mc_blob_migration {
    uint64_t moved, present, erased, damaged;
    bool dropped;
};
MC_MUST_CHECK int mc_blob_migrate(struct mc_blob_store *dst, const char *sqlite_path, bool drop_local,
                                  void (*report)(void *ctx, const mc_hash *id, const char *what),
                                  void *ctx, struct mc_blob_migration *m);

/* --- streamed blobs (large attachments) ---
 *
 * A blob of any size up to MC_ATTACHMENT_CT_MAX, written and read in
 * order without ever being whole in memory: the SQLite backend stores it
 * as rows of MC_BLOB_PIECE bytes (table blob_pieces), the S3 backend as
 * one object made by a multipart upload of MC_S3_PART_BYTES parts. The
 * id is the SHA-256 of all its bytes, computed as they pass; states
 * (pending, live, purged), erasure and the sweep are those of any blob.
 * A writer holds at most one piece or part; a reader one piece.
 *
 * An upload that fails or is abandoned (mc_blob_writer_abort, or a crash)
 * leaves nothing servable: pieces written so far are deleted (the S3
 * multipart upload aborted), and what a crash left is listed and removed
 * by the sweep ("partial"). */
struct mc_blob_writer;
/* Starts an upload; pending as in mc_blob_put_pending. */
MC_MUST_CHECK int mc_blob_writer_open(struct mc_blob_store *bs, struct mc_blob_writer **out, bool pending);
/* Appends bytes (MC_ERR_TOO_LARGE past MC_ATTACHMENT_CT_MAX in all);
 * store errors as mc_blob_put. After an error only abort is allowed. */
MC_MUST_CHECK int mc_blob_writer_append(struct mc_blob_writer *w, const void *bytes, size_t len);
/* Completes the upload and frees w: *id receives the SHA-256 of every byte
 * appended and *size their count. With expect non-NULL, bytes that do not
 * hash to *expect are not stored (MC_ERR_TAMPERED). MC_ERR_STATE when the
 * id was purged; MC_ERR_INVALID for an empty upload. On any error nothing
 * of the upload stays stored. */
MC_MUST_CHECK int mc_blob_writer_finish(struct mc_blob_writer *w, mc_hash *id, uint64_t *size,
                                        const mc_hash *expect);
/* Drops the upload and everything it stored; frees w. NULL does nothing. */
void mc_blob_writer_abort(struct mc_blob_writer *w);

struct mc_blob_reader;
/* Opens a blob (streamed or not) for reading in order; *size receives its
 * length. anchored as in mc_blob_get_anchored. Errors as mc_blob_get. */
MC_MUST_CHECK int mc_blob_reader_open(struct mc_blob_store *bs, struct mc_blob_reader **out,
                                      const mc_hash *id, bool anchored, uint64_t *size);
/* Reads up to cap bytes at the reader's position into buf (*n of them;
 * 0 at the end). The SHA-256 of the bytes is checked as they pass: the
 * read that reaches the end returns MC_ERR_TAMPERED (and none of its
 * bytes) when they do not hash to the id, and a blob shorter or longer
 * than its recorded size is MC_ERR_TAMPERED too, so a caller that holds
 * back what it has not seen checked releases only verified bytes.
 * MC_ERR_UNAVAILABLE when the store fails midway. */
MC_MUST_CHECK int mc_blob_reader_read(struct mc_blob_reader *r, void *buf, size_t cap, size_t *n);
/* Moves to offset (a multiple of MC_BLOB_PIECE, at most the size) without
 * reading what is skipped; the hash is then not checked (replication
 * serves pieces this way; the receiver checks the whole). */
MC_MUST_CHECK int mc_blob_reader_seek(struct mc_blob_reader *r, uint64_t offset);
/* NULL does nothing. */
void mc_blob_reader_close(struct mc_blob_reader *r);

/* Replication (fetching missing or damaged blobs from peers, hash
 * checked, then mc_blob_put) lives in the node: src/node/replicate.c. */

#endif
