/* The orphan sweep of the node's blob store (see node.h,
 * mc_node_blob_sweep): which ciphertext the chain still names. Every
 * committed record anchor names its blobs; those of records that are not
 * erased are kept, everything else the store holds past the grace is an
 * orphan (blob.h, mc_blob_sweep). */
#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "app/txtypes.h"
#include "blob/blob.h"
#include "chain/store.h"
#include "chain/tx.h"
#include "node/node_internal.h"

struct anchored_set {
    mc_hash *h;
    size_t n, cap;
    int rc;
    struct mc_state *st;
};

static void on_blob(void *ctx, const char *id, uint32_t version, const mc_hash *ct, uint32_t size) {
    struct anchored_set *a = ctx;
    (void)size;
    if (a->rc) return;
    struct mc_record_head head;
    struct mc_record_version v;
    /* named by a live version of a record that is not erased */
    if (mc_records_get_head(a->st, id, &head) || head.erased ||
        mc_records_get_version(a->st, id, version, &v) || memcmp(v.ciphertext.b, ct->b, 32) != 0)
        return;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 1024;
        void *p = realloc(a->h, nc * sizeof *a->h);
        if (!p) {
            a->rc = MC_ERR_NOMEM;
            return;
        }
        a->h = p;
        a->cap = nc;
    }
    a->h[a->n++] = *ct;
}

static int cmp_hash(const void *x, const void *y) { return memcmp(x, y, 32); }

struct sweep_ctx {
    struct anchored_set *set;
    void (*report)(void *ctx, const mc_hash *id, const char *what, bool removed);
    void *ctx;
};

static bool is_anchored(void *ctx, const mc_hash *id) {
    const struct anchored_set *a = ((struct sweep_ctx *)ctx)->set;
    return a->n && bsearch(id, a->h, a->n, sizeof *a->h, cmp_hash) != NULL;
}

static void on_report(void *ctx, const mc_hash *id, const char *what, bool removed) {
    struct sweep_ctx *s = ctx;
    if (s->report) s->report(s->ctx, id, what, removed);
}

int mc_node_blob_sweep(struct mc_node *n, bool remove, uint64_t grace_s,
                       void (*report)(void *ctx, const mc_hash *id, const char *what, bool removed),
                       void *ctx, uint64_t *found) {
    *found = 0;
    struct anchored_set a = {0};
    pthread_mutex_lock(&n->lock);
    uint64_t pruned = 0;
    a.rc = mc_store_pruned_below(n->store, &pruned);
    if (!a.rc && pruned)
        a.rc = mc_err_set(MC_ERR_STATE, "this node pruned the transactions below height %llu; the sweep "
                          "needs every anchor to know which ciphertext is referenced",
                          (unsigned long long)pruned);
    if (!a.rc && n->state_synced_from)
        a.rc = mc_err_set(MC_ERR_STATE, "this node state-synced at height %llu and holds no earlier "
                          "transaction; the sweep needs every anchor to know which ciphertext is referenced",
                          (unsigned long long)n->state_synced_from);
    a.st = mc_app_state(n->app);
    for (uint64_t h = 1; h <= n->head.height && !a.rc; h++) {
        struct mc_header hd;
        if ((a.rc = mc_store_get_header(n->store, h, &hd, NULL))) break;
        for (uint32_t i = 0; i < hd.tx_count && !a.rc; i++) {
            struct mc_buf b;
            mc_buf_init(&b, 0);
            struct mc_tx tx;
            a.rc = mc_store_get_tx(n->store, h, i, &b, NULL, NULL);
            if (!a.rc && mc_tx_decode(&tx, b.data, b.len) == 0 && tx.type == MC_TX_RECORD_ANCHOR &&
                mc_records_anchored_blobs(tx.payload, tx.payload_len, on_blob, &a))
                a.rc = mc_err_set(MC_ERR_TAMPERED, "the anchor at height %llu #%u does not decode",
                                  (unsigned long long)h, i);
            mc_buf_deinit(&b);
        }
    }
    pthread_mutex_unlock(&n->lock);
    int rc = a.rc;
    if (!rc) {
        qsort(a.h, a.n, sizeof *a.h, cmp_hash);
        struct sweep_ctx s = {&a, report, ctx};
        struct mc_blob_sweep sw = {is_anchored, on_report, &s, remove, grace_s};
        rc = mc_blob_sweep(n->blobs, &sw, found);
    }
    free(a.h);
    return rc;
}
