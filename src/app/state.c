/* Application state with transaction and block overlays (see state.h). */
#include "app/state.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "chain/smt.h"

struct entry {
    uint8_t *key; /* key and value in one allocation */
    size_t klen;
    uint8_t *val;
    size_t vlen;
    int present; /* 0 = deletion */
};

/* Open-addressing map from key bytes to the latest write. Iteration order
 * is never observable: everything hashed or written is sorted first. */
struct overlay {
    struct entry *slots;
    size_t cap; /* power of two */
    size_t used;
};

struct mc_state {
    struct mc_kv *kv;
    struct overlay tx, block;
    struct overlay tree; /* the state tree's nodes after the block (chain/smt.h) */
    uint8_t hkey[crypto_shorthash_KEYBYTES];
};

_Static_assert(MC_STATE_HASH_KEY_BYTES == crypto_shorthash_KEYBYTES,
               "the overlay hash key is a SipHash key");

static uint64_t key_hash(const struct mc_state *st, const void *k, size_t n) {
    uint8_t out[8];
    crypto_shorthash(out, k, n, st->hkey);
    uint64_t h;
    memcpy(&h, out, 8);
    return h;
}

static void overlay_clear(struct overlay *o) {
    for (size_t i = 0; i < o->cap; i++) free(o->slots[i].key);
    free(o->slots);
    memset(o, 0, sizeof *o);
}

static struct entry *overlay_find(const struct mc_state *st, const struct overlay *o,
                                  const void *k, size_t n) {
    if (!o->cap) return NULL;
    size_t i = key_hash(st, k, n) & (o->cap - 1);
    while (o->slots[i].key) {
        struct entry *e = &o->slots[i];
        if (e->klen == n && memcmp(e->key, k, n) == 0) return e;
        i = (i + 1) & (o->cap - 1);
    }
    return NULL;
}

static int overlay_grow(const struct mc_state *st, struct overlay *o) {
    size_t cap = o->cap ? o->cap * 2 : 64;
    struct entry *slots = calloc(cap, sizeof *slots);
    if (!slots) return MC_ERR_NOMEM;
    for (size_t j = 0; j < o->cap; j++) {
        if (!o->slots[j].key) continue;
        size_t i = key_hash(st, o->slots[j].key, o->slots[j].klen) & (cap - 1);
        while (slots[i].key) i = (i + 1) & (cap - 1);
        slots[i] = o->slots[j];
    }
    free(o->slots);
    o->slots = slots;
    o->cap = cap;
    return 0;
}

static int overlay_set(const struct mc_state *st, struct overlay *o, const void *k, size_t kn,
                       const void *v, size_t vn, int present) {
    uint8_t *mem = malloc(kn + vn + 1);
    if (!mem) return MC_ERR_NOMEM;
    memcpy(mem, k, kn);
    if (vn) memcpy(mem + kn, v, vn);
    struct entry *e = overlay_find(st, o, k, kn);
    if (!e) {
        if ((o->used + 1) * 4 > o->cap * 3 && overlay_grow(st, o)) {
            free(mem);
            return MC_ERR_NOMEM;
        }
        size_t i = key_hash(st, k, kn) & (o->cap - 1);
        while (o->slots[i].key) i = (i + 1) & (o->cap - 1);
        e = &o->slots[i];
        o->used++;
    } else {
        free(e->key);
    }
    e->key = mem;
    e->klen = kn;
    e->val = mem + kn;
    e->vlen = vn;
    e->present = present;
    return 0;
}

int mc_state_create(struct mc_state **out, struct mc_kv *kv,
                    const uint8_t hash_key[MC_STATE_HASH_KEY_BYTES]) {
    struct mc_state *st = calloc(1, sizeof *st);
    if (!st) return MC_ERR_NOMEM;
    st->kv = kv;
    memcpy(st->hkey, hash_key, sizeof st->hkey);
    *out = st;
    return 0;
}

void mc_state_destroy(struct mc_state *st) {
    if (!st) return;
    overlay_clear(&st->tx);
    overlay_clear(&st->block);
    overlay_clear(&st->tree);
    sodium_memzero(st->hkey, sizeof st->hkey);
    free(st);
}

int mc_state_get(struct mc_state *st, const void *key, size_t klen, struct mc_buf *out) {
    if (klen > MC_STATE_KEY_MAX) return MC_ERR_TOO_LARGE;
    const struct entry *e = overlay_find(st, &st->tx, key, klen);
    if (!e) e = overlay_find(st, &st->block, key, klen);
    if (e) {
        if (!e->present) return MC_ERR_NOT_FOUND;
        mc_buf_append(out, e->val, e->vlen);
        return out->err;
    }
    return mc_kv_get(st->kv, key, klen, out);
}

/* Keys starting with a zero byte belong to the state tree's nodes. */
static bool tree_key(const void *key, size_t klen) {
    return klen > 0 && ((const uint8_t *)key)[0] == MC_SMT_KEY_PREFIX;
}

int mc_state_put(struct mc_state *st, const void *key, size_t klen, const void *val,
                 size_t vlen) {
    if (klen == 0 || klen > MC_STATE_KEY_MAX || vlen > MC_STATE_VALUE_MAX) return MC_ERR_TOO_LARGE;
    if (tree_key(key, klen))
        return mc_err_set(MC_ERR_INVALID, "state keys starting with a zero byte are the state tree's");
    return overlay_set(st, &st->tx, key, klen, val, vlen, 1);
}

int mc_state_del(struct mc_state *st, const void *key, size_t klen) {
    if (klen == 0 || klen > MC_STATE_KEY_MAX) return MC_ERR_TOO_LARGE;
    if (tree_key(key, klen))
        return mc_err_set(MC_ERR_INVALID, "state keys starting with a zero byte are the state tree's");
    return overlay_set(st, &st->tx, key, klen, NULL, 0, 0);
}

void mc_state_tx_commit(struct mc_state *st) {
    for (size_t i = 0; i < st->tx.cap; i++) {
        struct entry *e = &st->tx.slots[i];
        if (!e->key) continue;
        /* Out of memory here would lose a committed write: treat as fatal. */
        int rc = overlay_set(st, &st->block, e->key, e->klen, e->val, e->vlen, e->present);
        MC_ASSERT(rc == 0);
    }
    overlay_clear(&st->tx);
}

void mc_state_tx_abort(struct mc_state *st) { overlay_clear(&st->tx); }

static int cmp_entry(const void *a, const void *b) {
    const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* The block overlay's entries sorted by key; caller frees the array. */
static struct entry **sorted_block(struct mc_state *st, size_t *n_out) {
    struct entry **v = malloc((st->block.used + 1) * sizeof *v);
    MC_ASSERT(v != NULL); /* a block's worth of pointers: out of memory is fatal */
    size_t n = 0;
    for (size_t i = 0; i < st->block.cap; i++)
        if (st->block.slots[i].key) v[n++] = &st->block.slots[i];
    qsort(v, n, sizeof *v, cmp_entry);
    /* The overlay holds each key once, so the order is strict: the state
     * hash and the flush depend on it. O(n) more per block, debug only. */
    for (size_t i = 1; i < n; i++) MC_VERIFY(cmp_entry(&v[i - 1], &v[i]) < 0);
    MC_VERIFY(n == st->block.used);
    *n_out = n;
    return v;
}

/* The state tree's node reads see the nodes the pending block rewrote. */
static int tree_get(void *ctx, const uint8_t *key, size_t klen, struct mc_buf *out) {
    struct mc_state *st = ctx;
    const struct entry *e = overlay_find(st, &st->tree, key, klen);
    if (e) {
        if (!e->present) return MC_ERR_NOT_FOUND;
        mc_buf_append(out, e->val, e->vlen);
        return out->err;
    }
    return mc_kv_get(st->kv, key, klen, out);
}

static int tree_put(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    struct mc_state *st = ctx;
    return overlay_set(st, &st->tree, key, klen, val, vlen, 1);
}

static int tree_del(void *ctx, const uint8_t *key, size_t klen) {
    struct mc_state *st = ctx;
    return overlay_set(st, &st->tree, key, klen, NULL, 0, 0);
}

int mc_state_block_root(struct mc_state *st, mc_hash *out) {
    overlay_clear(&st->tree);
    struct mc_smt_change *ch = malloc((st->block.used + 1) * sizeof *ch);
    if (!ch) return MC_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < st->block.cap; i++) {
        const struct entry *e = &st->block.slots[i];
        if (!e->key) continue;
        mc_sha256(&ch[n].key_hash, e->key, e->klen);
        ch[n].present = e->present;
        if (e->present) mc_sha256(&ch[n].value_hash, e->val, e->vlen);
        else memset(&ch[n].value_hash, 0, sizeof ch[n].value_hash);
        n++;
    }
    mc_smt_sort(ch, n);
    struct mc_smt_io io = {.ctx = st, .get = tree_get, .put = tree_put, .del = tree_del};
    /* One read transaction for every node the update reads. */
    int rc = mc_kv_read_begin(st->kv);
    if (!rc) {
        rc = mc_smt_update(&io, ch, n, out);
        mc_kv_read_end(st->kv);
    }
    free(ch);
    if (rc) overlay_clear(&st->tree);
    return rc;
}

/* The tree overlay's entries sorted by key; caller frees the array. */
static struct entry **sorted_tree(struct mc_state *st, size_t *n_out) {
    struct entry **v = malloc((st->tree.used + 1) * sizeof *v);
    MC_ASSERT(v != NULL);
    size_t n = 0;
    for (size_t i = 0; i < st->tree.cap; i++)
        if (st->tree.slots[i].key) v[n++] = &st->tree.slots[i];
    qsort(v, n, sizeof *v, cmp_entry);
    *n_out = n;
    return v;
}

int mc_state_read_begin(struct mc_state *st) { return mc_kv_read_begin(st->kv); }
void mc_state_read_end(struct mc_state *st) { mc_kv_read_end(st->kv); }

int mc_state_block_flush(struct mc_state *st) {
    size_t n, tn;
    struct entry **v = sorted_block(st, &n);
    struct entry **t = sorted_tree(st, &tn);
    int ret = mc_kv_begin(st->kv);
    for (size_t i = 0; i < n && !ret; i++)
        ret = v[i]->present ? mc_kv_put(st->kv, v[i]->key, v[i]->klen, v[i]->val, v[i]->vlen)
                            : mc_kv_del(st->kv, v[i]->key, v[i]->klen);
    for (size_t i = 0; i < tn && !ret; i++)
        ret = t[i]->present ? mc_kv_put(st->kv, t[i]->key, t[i]->klen, t[i]->val, t[i]->vlen)
                            : mc_kv_del(st->kv, t[i]->key, t[i]->klen);
    if (!ret) ret = mc_kv_commit(st->kv);
    else mc_kv_rollback(st->kv);
    free(v);
    free(t);
    if (!ret) {
        overlay_clear(&st->block);
        overlay_clear(&st->tree);
    }
    return ret;
}

void mc_state_block_abort(struct mc_state *st) {
    overlay_clear(&st->tx);
    overlay_clear(&st->block);
    overlay_clear(&st->tree);
}

int mc_state_scan(struct mc_state *st, const void *prefix, size_t plen,
                  int (*fn)(void *, const uint8_t *, size_t, const uint8_t *, size_t),
                  void *ctx) {
    return mc_kv_scan(st->kv, prefix, plen, fn, ctx);
}
