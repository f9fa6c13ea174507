/* The blob store's front (see blob.h): limits, content addressing and the
 * hash check of every read, over the backend the store was opened with. */
#include "blob/blob.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "blob/backend.h"

struct mc_blob_store {
    const struct mc_blob_ops *ops;
    void *be;
};

uint64_t mc__blob_now_s(void) { return (uint64_t)time(NULL); }

int mc__blob_wrap(struct mc_blob_store **out, const struct mc_blob_ops *ops, void *be) {
    *out = NULL;
    struct mc_blob_store *bs = calloc(1, sizeof *bs);
    if (!bs) {
        ops->close(be);
        return MC_ERR_NOMEM;
    }
    bs->ops = ops;
    bs->be = be;
    *out = bs;
    return 0;
}

int mc_blob_open(struct mc_blob_store **out, const char *path) {
    *out = NULL;
    void *be = NULL;
    int rc = mc__blob_sqlite_open(&be, path);
    return rc ? rc : mc__blob_wrap(out, &mc__blob_sqlite_ops, be);
}

int mc_blob_open_s3(struct mc_blob_store **out, const char *db_path, const struct mc_s3_config *cfg,
                    const char *prefix) {
    *out = NULL;
    void *be = NULL;
    int rc = mc__blob_s3_open(&be, db_path, cfg, prefix);
    return rc ? rc : mc__blob_wrap(out, &mc__blob_s3_ops, be);
}

void mc_blob_close(struct mc_blob_store *bs) {
    if (!bs) return;
    bs->ops->close(bs->be);
    free(bs);
}

static int put(struct mc_blob_store *bs, mc_hash *id, const void *bytes, size_t len, bool pending) {
    if (len > MC_BLOB_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "blob of %zu bytes exceeds %d", len, MC_BLOB_MAX);
    mc_sha256(id, bytes, len);
    return bs->ops->put(bs->be, id, bytes, len, pending);
}

int mc_blob_put(struct mc_blob_store *bs, mc_hash *id, const void *bytes, size_t len) {
    return put(bs, id, bytes, len, false);
}

int mc_blob_put_pending(struct mc_blob_store *bs, mc_hash *id, const void *bytes, size_t len) {
    return put(bs, id, bytes, len, true);
}

int mc_blob_commit(struct mc_blob_store *bs, const mc_hash *id) { return bs->ops->commit(bs->be, id); }

static int get(struct mc_blob_store *bs, const mc_hash *id, struct mc_buf *out, bool anchored) {
    struct mc_buf raw;
    mc_buf_init(&raw, 0);
    int rc = bs->ops->get(bs->be, id, &raw, anchored);
    if (!rc) {
        mc_hash h;
        mc_sha256(&h, raw.data, raw.len);
        if (raw.len > MC_BLOB_MAX || sodium_memcmp(h.b, id->b, 32) != 0) {
            mc_log_warn("blob", "stored blob does not match its hash: altered in the %s store",
                        bs->ops->name);
            rc = mc_err_set(MC_ERR_TAMPERED, "stored ciphertext does not match its hash "
                                             "(altered in the %s store)", bs->ops->name);
        } else {
            mc_buf_append(out, raw.data, raw.len);
            rc = out->err;
        }
    }
    mc_buf_deinit(&raw);
    return rc;
}

int mc_blob_get(struct mc_blob_store *bs, const mc_hash *id, struct mc_buf *out) {
    return get(bs, id, out, false);
}

int mc_blob_get_anchored(struct mc_blob_store *bs, const mc_hash *id, struct mc_buf *out) {
    return get(bs, id, out, true);
}

bool mc_blob_needed(struct mc_blob_store *bs, const mc_hash *id) { return bs->ops->needed(bs->be, id); }

int mc_blob_purge(struct mc_blob_store *bs, const mc_hash *id) { return bs->ops->purge(bs->be, id); }

int mc_blob_count(struct mc_blob_store *bs, uint64_t *live, uint64_t *purged) {
    *live = *purged = 0;
    return bs->ops->count(bs->be, live, purged);
}

void mc_blob_status(struct mc_blob_store *bs, struct mc_blob_status *st) {
    memset(st, 0, sizeof *st);
    st->backend = bs->ops->name;
    st->available = true;
    bs->ops->status(bs->be, st);
}

int mc_blob_sweep(struct mc_blob_store *bs, const struct mc_blob_sweep *sw, uint64_t *found) {
    *found = 0;
    return bs->ops->sweep(bs->be, sw, found);
}

/* --- streamed blobs --- */

struct mc_blob_writer {
    struct mc_blob_store *bs;
    void *up;
    crypto_hash_sha256_state h;
    uint8_t *piece;
    size_t fill;
    uint32_t seq;
    uint64_t total;
    bool pending;
    int err;
};

int mc_blob_writer_open(struct mc_blob_store *bs, struct mc_blob_writer **out, bool pending) {
    *out = NULL;
    struct mc_blob_writer *w = calloc(1, sizeof *w);
    if (!w) return MC_ERR_NOMEM;
    w->piece = malloc(bs->ops->put_piece);
    if (!w->piece) {
        free(w);
        return MC_ERR_NOMEM;
    }
    w->bs = bs;
    w->pending = pending;
    crypto_hash_sha256_init(&w->h);
    int rc = bs->ops->wopen(bs->be, &w->up);
    if (rc) {
        free(w->piece);
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

static int flush_piece(struct mc_blob_writer *w) {
    int rc = w->bs->ops->wput(w->bs->be, w->up, w->seq, w->piece, w->fill);
    if (!rc) {
        w->seq++;
        w->fill = 0;
    }
    return rc;
}

int mc_blob_writer_append(struct mc_blob_writer *w, const void *bytes, size_t len) {
    if (w->err) return mc_err_set(w->err, "the upload failed before");
    if (len > MC_ATTACHMENT_CT_MAX - w->total)
        return w->err = mc_err_set(MC_ERR_TOO_LARGE, "a streamed blob exceeds %llu bytes",
                                   (unsigned long long)MC_ATTACHMENT_CT_MAX);
    crypto_hash_sha256_update(&w->h, bytes, len);
    w->total += len;
    const uint8_t *p = bytes;
    size_t cap = w->bs->ops->put_piece;
    while (len) {
        /* a full piece is sent once more bytes follow: the last piece
         * (sent by finish) is never empty */
        if (w->fill == cap) {
            int rc = flush_piece(w);
            if (rc) return w->err = rc;
        }
        size_t n = cap - w->fill < len ? cap - w->fill : len;
        memcpy(w->piece + w->fill, p, n);
        w->fill += n;
        p += n;
        len -= n;
    }
    return 0;
}

static void writer_free(struct mc_blob_writer *w) {
    free(w->piece);
    sodium_memzero(&w->h, sizeof w->h);
    free(w);
}

void mc_blob_writer_abort(struct mc_blob_writer *w) {
    if (!w) return;
    w->bs->ops->wabort(w->bs->be, w->up);
    writer_free(w);
}

int mc_blob_writer_finish(struct mc_blob_writer *w, mc_hash *id, uint64_t *size, const mc_hash *expect) {
    int rc = w->err;
    if (!rc && w->total == 0) rc = mc_err_set(MC_ERR_INVALID, "an empty upload stores nothing");
    if (!rc) {
        crypto_hash_sha256_final(&w->h, id->b);
        *size = w->total;
        if (expect && sodium_memcmp(expect->b, id->b, 32) != 0)
            rc = mc_err_set(MC_ERR_TAMPERED, "the streamed bytes do not hash to the expected id");
    }
    if (!rc) rc = flush_piece(w);
    if (rc) {
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        mc_blob_writer_abort(w);
        return mc_err_set(rc, "%s", why);
    }
    rc = w->bs->ops->wfinish(w->bs->be, w->up, id, w->total, w->pending);
    writer_free(w);
    return rc;
}

struct mc_blob_reader {
    struct mc_blob_store *bs;
    void *rd;
    mc_hash id;
    crypto_hash_sha256_state h;
    bool hashing;
    uint64_t size, fetched;   /* bytes fetched from the store so far */
    struct mc_buf piece;      /* the last fetched piece */
    size_t used;              /* of it, already returned */
};

int mc_blob_reader_open(struct mc_blob_store *bs, struct mc_blob_reader **out, const mc_hash *id,
                        bool anchored, uint64_t *size) {
    *out = NULL;
    *size = 0;
    struct mc_blob_reader *r = calloc(1, sizeof *r);
    if (!r) return MC_ERR_NOMEM;
    r->bs = bs;
    r->id = *id;
    r->hashing = true;
    crypto_hash_sha256_init(&r->h);
    mc_buf_init(&r->piece, 0);
    int rc = bs->ops->ropen(bs->be, id, anchored, &r->rd, &r->size);
    if (rc) {
        free(r);
        return rc;
    }
    *size = r->size;
    *out = r;
    return 0;
}

static int tampered(struct mc_blob_reader *r, const char *what) {
    sodium_memzero(r->piece.data, r->piece.cap);
    r->piece.len = 0;
    r->used = 0;
    mc_log_warn("blob", "stored blob does not match its hash: altered in the %s store (%s)", r->bs->ops->name, what);
    return mc_err_set(MC_ERR_TAMPERED, "stored ciphertext does not match its hash (altered in the %s store: %s)",
                      r->bs->ops->name, what);
}

static int fetch(struct mc_blob_reader *r) {
    size_t step = r->bs->ops->get_piece;
    uint64_t left = r->size - r->fetched;
    size_t want = left < step ? (size_t)left : step;
    bool last = left <= step;
    r->piece.len = 0;
    r->used = 0;
    int rc = r->bs->ops->rget(r->bs->be, r->rd, r->fetched, want + (last ? 1 : 0), &r->piece);
    if (!rc) rc = r->piece.err;
    if (rc) {
        r->piece.len = 0;
        return rc;
    }
    if (r->piece.len != want) return tampered(r, r->piece.len < want ? "shorter than recorded" : "longer than recorded");
    r->fetched += want;
    if (r->hashing) {
        crypto_hash_sha256_update(&r->h, r->piece.data, r->piece.len);
        if (last) {
            mc_hash got;
            crypto_hash_sha256_final(&r->h, got.b);
            r->hashing = false;
            if (sodium_memcmp(got.b, r->id.b, 32) != 0) return tampered(r, "hash mismatch");
        }
    }
    return 0;
}

int mc_blob_reader_read(struct mc_blob_reader *r, void *buf, size_t cap, size_t *n) {
    *n = 0;
    if (r->used == r->piece.len) {
        if (r->fetched == r->size) return 0;
        int rc = fetch(r);
        if (rc) return rc;
    }
    size_t k = r->piece.len - r->used;
    if (k > cap) k = cap;
    memcpy(buf, r->piece.data + r->used, k);
    r->used += k;
    *n = k;
    return 0;
}

int mc_blob_reader_seek(struct mc_blob_reader *r, uint64_t offset) {
    if (offset > r->size || offset % r->bs->ops->get_piece)
        return mc_err_set(MC_ERR_INVALID, "a blob is read from whole pieces");
    r->fetched = offset;
    r->piece.len = 0;
    r->used = 0;
    r->hashing = false;
    return 0;
}

void mc_blob_reader_close(struct mc_blob_reader *r) {
    if (!r) return;
    r->bs->ops->rclose(r->bs->be, r->rd);
    if (r->piece.data) sodium_memzero(r->piece.data, r->piece.cap);
    mc_buf_deinit(&r->piece);
    free(r);
}
