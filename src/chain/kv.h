/* The key-value interface the application's state is kept in.
 *
 * The application (src/app) never sees SQLite: it reads and writes its
 * state through this table of functions, which the chain store implements
 * over its `state` table (mc_store_kv) and a test implements in memory
 * (tests/support/memkv.c), the way consensus runs over fakes in the
 * simulator. Keys and values are byte strings; keys are compared bytewise
 * (memcmp, a shorter key first on a tie), which is the order of a scan.
 *
 * Contract every implementation keeps:
 *   get      appends the committed value of key to out; MC_ERR_NOT_FOUND
 *            when absent.
 *   scan     calls fn for every committed row whose key starts with prefix,
 *            in key order. fn returns 0 to go on, a positive value to stop
 *            early (scan returns 0), or a negative mc_err to stop with that
 *            error, which scan returns. Rows written by an open batch may
 *            or may not be seen, so callers scan only between batches.
 *   begin    opens the write batch of one block; put and del are valid only
 *            inside it.
 *   commit   makes every put and del of the batch durable at once, or none
 *            of them (on error the batch is rolled back).
 *   rollback discards the batch.
 *   read_begin / read_end (optional, NULL: nothing to do) bracket a group
 *            of gets so they share one snapshot and one acquisition of the
 *            store's read lock (the state tree reads a few nodes per changed
 *            row); they nest, and a read_begin that succeeded is matched by
 *            one read_end.
 * Errors are negative mc_err codes (MC_ERR_DB, MC_ERR_NOMEM ...), with a
 * detail sentence in mc_err_detail(). One thread uses a handle at a time. */
#ifndef MC_CHAIN_KV_H
#define MC_CHAIN_KV_H

#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"

typedef int (*mc_kv_row_fn)(void *ctx, const uint8_t *key, size_t key_len,
                            const uint8_t *value, size_t value_len);

struct mc_kv_ops {
    int (*get)(void *impl, const void *key, size_t key_len, struct mc_buf *out);
    int (*scan)(void *impl, const void *prefix, size_t prefix_len, mc_kv_row_fn fn, void *ctx);
    int (*begin)(void *impl);
    int (*put)(void *impl, const void *key, size_t key_len, const void *value,
               size_t value_len);
    int (*del)(void *impl, const void *key, size_t key_len);
    int (*commit)(void *impl);
    void (*rollback)(void *impl);
    int (*read_begin)(void *impl);
    void (*read_end)(void *impl);
};

/* A key-value store: its functions and the implementation's handle. */
struct mc_kv {
    const struct mc_kv_ops *ops;
    void *impl;
};

MC_MUST_CHECK static inline int mc_kv_get(struct mc_kv *kv, const void *key, size_t key_len,
                                          struct mc_buf *out) {
    return kv->ops->get(kv->impl, key, key_len, out);
}

MC_MUST_CHECK static inline int mc_kv_scan(struct mc_kv *kv, const void *prefix,
                                           size_t prefix_len, mc_kv_row_fn fn, void *ctx) {
    return kv->ops->scan(kv->impl, prefix, prefix_len, fn, ctx);
}

MC_MUST_CHECK static inline int mc_kv_begin(struct mc_kv *kv) { return kv->ops->begin(kv->impl); }

MC_MUST_CHECK static inline int mc_kv_put(struct mc_kv *kv, const void *key, size_t key_len,
                                          const void *value, size_t value_len) {
    return kv->ops->put(kv->impl, key, key_len, value, value_len);
}

MC_MUST_CHECK static inline int mc_kv_del(struct mc_kv *kv, const void *key, size_t key_len) {
    return kv->ops->del(kv->impl, key, key_len);
}

MC_MUST_CHECK static inline int mc_kv_commit(struct mc_kv *kv) { return kv->ops->commit(kv->impl); }

static inline void mc_kv_rollback(struct mc_kv *kv) { kv->ops->rollback(kv->impl); }

MC_MUST_CHECK static inline int mc_kv_read_begin(struct mc_kv *kv) {
    return kv->ops->read_begin ? kv->ops->read_begin(kv->impl) : 0;
}

static inline void mc_kv_read_end(struct mc_kv *kv) {
    if (kv->ops->read_end) kv->ops->read_end(kv->impl);
}

#endif
