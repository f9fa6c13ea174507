/* The blob store's front (see blob.h): limits, content addressing and the
 * hash check of every read, over the backend the store was opened with. */
#include "blob/blob.h"

#include <sodium.h>
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
    if (rc == MC_ERR_TOO_LARGE) rc = 0; /* more than any blob: cannot hash to id */
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
