/* What a blob-store backend provides to the front (blob.c). Internal to
 * src/blob. The front checks sizes, computes ids and re-hashes every read;
 * a backend stores and returns raw bytes and keeps the states (pending,
 * live, purged) of blob.h. */
#ifndef MC_BLOB_BACKEND_H
#define MC_BLOB_BACKEND_H

#include "blob/blob.h"

struct mc_blob_ops {
    const char *name;
    int (*put)(void *be, const mc_hash *id, const void *bytes, size_t len, bool pending);
    /* raw bytes (no hash check); anchored: a pending blob is committed */
    int (*get)(void *be, const mc_hash *id, struct mc_buf *out, bool anchored);
    bool (*needed)(void *be, const mc_hash *id);
    int (*commit)(void *be, const mc_hash *id);
    int (*purge)(void *be, const mc_hash *id);
    int (*count)(void *be, uint64_t *live, uint64_t *purged);
    void (*status)(void *be, struct mc_blob_status *st);
    int (*sweep)(void *be, const struct mc_blob_sweep *sw, uint64_t *found);
    void (*close)(void *be);

    /* Streamed blobs (blob.h). The front hashes, buffers and bounds; an
     * upload (up) gets its pieces in order, each put_piece bytes but the
     * last (which is non-empty), then exactly one of wfinish or wabort,
     * which free it. A reader (rd) is asked for get_piece bytes at a time
     * at offsets that are multiples of get_piece (one more byte for the
     * last, so a longer copy shows): rget appends what the store holds
     * there, at most len bytes. get of a streamed blob is MC_ERR_TOO_LARGE. */
    size_t put_piece, get_piece;
    int (*wopen)(void *be, void **up);
    int (*wput)(void *be, void *up, uint32_t seq, const void *bytes, size_t len);
    int (*wfinish)(void *be, void *up, const mc_hash *id, uint64_t size, bool pending);
    void (*wabort)(void *be, void *up);
    int (*ropen)(void *be, const mc_hash *id, bool anchored, void **rd, uint64_t *size);
    int (*rget)(void *be, void *rd, uint64_t off, size_t len, struct mc_buf *out);
    void (*rclose)(void *be, void *rd);
};

/* Wraps an opened backend into a store (closing be on failure). */
MC_MUST_CHECK int mc__blob_wrap(struct mc_blob_store **out, const struct mc_blob_ops *ops, void *be);

/* Backends. */
MC_MUST_CHECK int mc__blob_sqlite_open(void **out, const char *path);
extern const struct mc_blob_ops mc__blob_sqlite_ops;
MC_MUST_CHECK int mc__blob_s3_open(void **out, const char *db_path, const struct mc_s3_config *cfg,
                                   const char *prefix);
extern const struct mc_blob_ops mc__blob_s3_ops;

/* Wall clock seconds (for the sweep's grace; never hashed). */
uint64_t mc__blob_now_s(void);

#endif
