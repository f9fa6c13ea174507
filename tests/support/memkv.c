/* In-memory key-value store (see memkv.h). */
#include "memkv.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct row {
    uint8_t *key, *val;
    size_t klen, vlen;
    bool present; /* in a batch: false = delete */
};

struct tu_memkv {
    struct mc_kv kv;
    struct row *rows; /* sorted by key */
    size_t n, cap;
    struct row *batch;
    size_t batch_n, batch_cap;
    bool open;
    size_t fail_after, puts;
};

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c) return c;
    return an < bn ? -1 : an > bn;
}

/* Index of the first row whose key is >= key. */
static size_t lower_bound(const struct tu_memkv *m, const uint8_t *key, size_t klen) {
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(m->rows[mid].key, m->rows[mid].klen, key, klen) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static struct row make_row(const void *key, size_t klen, const void *val, size_t vlen,
                           bool present) {
    struct row r = {.key = malloc(klen ? klen : 1), .val = malloc(vlen ? vlen : 1),
                    .klen = klen, .vlen = vlen, .present = present};
    cr_assert(r.key && r.val, "memkv: out of memory");
    if (klen) memcpy(r.key, key, klen);
    if (vlen) memcpy(r.val, val, vlen);
    return r;
}

static void free_row(struct row *r) {
    free(r->key);
    free(r->val);
}

static int mem_get(void *impl, const void *key, size_t klen, struct mc_buf *out) {
    struct tu_memkv *m = impl;
    size_t i = lower_bound(m, key, klen);
    if (i == m->n || key_cmp(m->rows[i].key, m->rows[i].klen, key, klen) != 0)
        return MC_ERR_NOT_FOUND;
    mc_buf_append(out, m->rows[i].val, m->rows[i].vlen);
    return out->err;
}

static int mem_scan(void *impl, const void *prefix, size_t plen, mc_kv_row_fn fn, void *ctx) {
    struct tu_memkv *m = impl;
    for (size_t i = lower_bound(m, prefix, plen); i < m->n; i++) {
        const struct row *r = &m->rows[i];
        if (r->klen < plen || memcmp(r->key, prefix, plen) != 0) break;
        int stop = fn(ctx, r->key, r->klen, r->val, r->vlen);
        if (stop) return stop < 0 ? stop : 0;
    }
    return 0;
}

static int mem_begin(void *impl) {
    struct tu_memkv *m = impl;
    if (m->open) return mc_err_set(MC_ERR_STATE, "memkv: a batch is already open");
    m->open = true;
    m->puts = 0;
    return 0;
}

static int batch_add(struct tu_memkv *m, struct row r) {
    if (!m->open) {
        free_row(&r);
        return mc_err_set(MC_ERR_STATE, "memkv: write outside a batch");
    }
    if (m->batch_n == m->batch_cap) {
        m->batch_cap = m->batch_cap ? 2 * m->batch_cap : 64;
        m->batch = realloc(m->batch, m->batch_cap * sizeof *m->batch);
        cr_assert(m->batch, "memkv: out of memory");
    }
    m->batch[m->batch_n++] = r;
    return 0;
}

static int mem_put(void *impl, const void *key, size_t klen, const void *val, size_t vlen) {
    struct tu_memkv *m = impl;
    if (m->fail_after && ++m->puts >= m->fail_after)
        return mc_err_set(MC_ERR_IO, "memkv: injected write failure");
    return batch_add(m, make_row(key, klen, val, vlen, true));
}

static int mem_del(void *impl, const void *key, size_t klen) {
    return batch_add(impl, make_row(key, klen, NULL, 0, false));
}

static void mem_rollback(void *impl) {
    struct tu_memkv *m = impl;
    for (size_t i = 0; i < m->batch_n; i++) free_row(&m->batch[i]);
    m->batch_n = 0;
    m->open = false;
}

static void apply(struct tu_memkv *m, struct row *w) {
    size_t i = lower_bound(m, w->key, w->klen);
    bool found = i < m->n && key_cmp(m->rows[i].key, m->rows[i].klen, w->key, w->klen) == 0;
    if (!w->present) {
        if (found) {
            free_row(&m->rows[i]);
            memmove(&m->rows[i], &m->rows[i + 1], (m->n - i - 1) * sizeof *m->rows);
            m->n--;
        }
        free_row(w);
        return;
    }
    if (found) {
        free_row(&m->rows[i]);
        m->rows[i] = *w;
        return;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->rows = realloc(m->rows, m->cap * sizeof *m->rows);
        cr_assert(m->rows, "memkv: out of memory");
    }
    memmove(&m->rows[i + 1], &m->rows[i], (m->n - i) * sizeof *m->rows);
    m->rows[i] = *w;
    m->n++;
}

static int mem_commit(void *impl) {
    struct tu_memkv *m = impl;
    if (!m->open) return mc_err_set(MC_ERR_STATE, "memkv: commit without a batch");
    for (size_t i = 0; i < m->batch_n; i++) apply(m, &m->batch[i]);
    m->batch_n = 0;
    m->open = false;
    return 0;
}

static const struct mc_kv_ops mem_ops = {
    .get = mem_get, .scan = mem_scan, .begin = mem_begin, .put = mem_put, .del = mem_del,
    .commit = mem_commit, .rollback = mem_rollback,
};

struct tu_memkv *tu_memkv_create(void) {
    struct tu_memkv *m = calloc(1, sizeof *m);
    cr_assert(m, "memkv: out of memory");
    m->kv.ops = &mem_ops;
    m->kv.impl = m;
    return m;
}

void tu_memkv_destroy(struct tu_memkv *m) {
    if (!m) return;
    mem_rollback(m);
    for (size_t i = 0; i < m->n; i++) free_row(&m->rows[i]);
    free(m->rows);
    free(m->batch);
    free(m);
}

struct mc_kv *tu_memkv_kv(struct tu_memkv *m) { return &m->kv; }
size_t tu_memkv_rows(const struct tu_memkv *m) { return m->n; }
void tu_memkv_fail_put_after(struct tu_memkv *m, size_t n) { m->fail_after = n; }
