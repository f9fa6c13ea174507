/* The state's sparse Merkle tree over a key-value store (see smt.h). */
#include "chain/smt.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

enum { K_EMPTY, K_LEAF, K_INNER, K_UNKNOWN };

struct node {
    int kind;
    mc_hash a, b; /* leaf: key hash, value hash; inner: left, right */
    mc_hash hash;
};

static void node_rehash(struct node *n) {
    if (n->kind == K_LEAF) mc_smt_leaf_hash(&n->hash, &n->a, &n->b);
    else if (n->kind == K_INNER) mc_smt_node_hash(&n->hash, &n->a, &n->b);
    else if (n->kind == K_EMPTY) memset(&n->hash, 0, sizeof n->hash);
}

/* Path-major: the nodes on one path below a depth sit next to each other in
 * the store's key order, so a changed row rewrites few pages of it. */
static size_t node_key(uint8_t out[MC_SMT_NODE_KEY_MAX], unsigned depth, const mc_hash *path) {
    MC_ASSERT(depth <= MC_SMT_DEPTH);
    out[0] = MC_SMT_KEY_PREFIX;
    size_t nb = (depth + 7) / 8;
    memcpy(out + 1, path->b, nb);
    memset(out + 1 + nb, 0, 32 - nb);
    if (depth % 8) out[1 + nb - 1] &= (uint8_t)(0xffu << (8 - depth % 8));
    out[33] = (uint8_t)(depth >> 8);
    out[34] = (uint8_t)depth;
    return MC_SMT_NODE_KEY_MAX;
}

static void set_bit(mc_hash *h, unsigned i, unsigned v) {
    uint8_t m = (uint8_t)(0x80u >> (i % 8));
    if (v) h->b[i / 8] |= m;
    else h->b[i / 8] &= (uint8_t)~m;
}

static bool shares_path(const mc_hash *a, const mc_hash *b, unsigned depth) {
    for (unsigned i = 0; i < depth; i++)
        if (mc_smt_bit(a, i) != mc_smt_bit(b, i)) return false;
    return true;
}

static int load(const struct mc_smt_io *io, unsigned depth, const mc_hash *path, struct node *n) {
    uint8_t key[MC_SMT_NODE_KEY_MAX];
    size_t klen = node_key(key, depth, path);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = io->get(io->ctx, key, klen, &b);
    if (!rc && b.err) rc = b.err;
    if (rc == MC_ERR_NOT_FOUND) {
        memset(n, 0, sizeof *n);
        n->kind = K_EMPTY;
        rc = 0;
    } else if (!rc) {
        if (b.len != 1 + 2 * MC_HASH_BYTES || b.data[0] > 1) {
            rc = mc_err_set(MC_ERR_TAMPERED, "state tree node at depth %u does not decode", depth);
        } else {
            n->kind = b.data[0] == 0 ? K_LEAF : K_INNER;
            memcpy(n->a.b, b.data + 1, 32);
            memcpy(n->b.b, b.data + 33, 32);
            if (n->kind == K_LEAF && !shares_path(&n->a, path, depth))
                rc = mc_err_set(MC_ERR_TAMPERED, "state tree leaf at depth %u is off its path", depth);
            else if (n->kind == K_INNER &&
                     (depth >= MC_SMT_DEPTH ||
                      (mc_smt_hash_is_empty(&n->a) && mc_smt_hash_is_empty(&n->b))))
                rc = mc_err_set(MC_ERR_TAMPERED, "state tree node at depth %u is not a node", depth);
            node_rehash(n);
        }
    }
    mc_buf_deinit(&b);
    return rc;
}

/* Loads the child of an inner node and checks it is what the parent says. */
static int load_child(const struct mc_smt_io *io, unsigned depth, const mc_hash *path,
                      const mc_hash *expect, struct node *n) {
    int rc = load(io, depth, path, n);
    if (!rc && memcmp(n->hash.b, expect->b, 32) != 0)
        rc = mc_err_set(MC_ERR_TAMPERED,
                        "state tree node at depth %u does not match its parent's hash", depth);
    return rc;
}

static int save(const struct mc_smt_io *io, unsigned depth, const mc_hash *path,
                const struct node *n) {
    if (!io || !io->put) return 0;
    uint8_t key[MC_SMT_NODE_KEY_MAX];
    size_t klen = node_key(key, depth, path);
    if (n->kind == K_EMPTY) return io->del(io->ctx, key, klen);
    uint8_t val[1 + 2 * MC_HASH_BYTES];
    val[0] = n->kind == K_LEAF ? 0 : 1;
    memcpy(val + 1, n->a.b, 32);
    memcpy(val + 33, n->b.b, 32);
    return io->put(io->ctx, key, klen, val, sizeof val);
}

/* Index of the first row whose bit `depth` is 1 (rows share the bits above). */
static size_t split(const struct mc_smt_change *r, size_t n, unsigned depth) {
    size_t i = 0;
    while (i < n && !mc_smt_bit(&r[i].key_hash, depth)) i++;
    return i;
}

/* The subtree at (depth, path) holding exactly rows (all present, sorted,
 * n >= 1), with nothing stored below it: writes its nodes (io may be NULL). */
static int build(const struct mc_smt_io *io, unsigned depth, const mc_hash *path,
                 const struct mc_smt_change *rows, size_t n, struct node *out) {
    memset(out, 0, sizeof *out);
    if (n == 1) {
        out->kind = K_LEAF;
        out->a = rows[0].key_hash;
        out->b = rows[0].value_hash;
    } else {
        if (depth >= MC_SMT_DEPTH) return mc_err_set(MC_ERR_INVALID, "two rows with one key hash");
        size_t mid = split(rows, n, depth);
        struct node l, r;
        memset(&l, 0, sizeof l);
        memset(&r, 0, sizeof r);
        mc_hash lp = *path, rp = *path;
        set_bit(&lp, depth, 0);
        set_bit(&rp, depth, 1);
        int rc = 0;
        if (mid > 0) rc = build(io, depth + 1, &lp, rows, mid, &l);
        if (!rc && mid < n) rc = build(io, depth + 1, &rp, rows + mid, n - mid, &r);
        if (rc) return rc;
        out->kind = K_INNER;
        out->a = l.hash;
        out->b = r.hash;
    }
    node_rehash(out);
    return save(io, depth, path, out);
}

static int cmp_hash(const mc_hash *a, const mc_hash *b) { return memcmp(a->b, b->b, 32); }

/* The subtree at (depth, path), now cur, after the changes (sorted, all on
 * this path, n >= 1): writes its nodes and gives it in out. */
static int update(const struct mc_smt_io *io, unsigned depth, const mc_hash *path,
                  const struct mc_smt_change *ch, size_t n, const struct node *cur,
                  struct node *out) {
    memset(out, 0, sizeof *out);
    if (cur->kind == K_INNER) {
        size_t mid = split(ch, n, depth);
        mc_hash cp[2] = {*path, *path};
        set_bit(&cp[0], depth, 0);
        set_bit(&cp[1], depth, 1);
        const mc_hash *was[2] = {&cur->a, &cur->b};
        struct node kid[2];
        for (unsigned s = 0; s < 2; s++) {
            const struct mc_smt_change *c = s ? ch + mid : ch;
            size_t m = s ? n - mid : mid;
            memset(&kid[s], 0, sizeof kid[s]);
            if (m == 0) {
                kid[s].kind = mc_smt_hash_is_empty(was[s]) ? K_EMPTY : K_UNKNOWN;
                kid[s].hash = *was[s];
                continue;
            }
            struct node old;
            int rc = mc_smt_hash_is_empty(was[s]) ? (old.kind = K_EMPTY, memset(&old.hash, 0, 32), 0)
                                                  : load_child(io, depth + 1, &cp[s], was[s], &old);
            if (!rc) rc = update(io, depth + 1, &cp[s], c, m, &old, &kid[s]);
            if (rc) return rc;
        }
        bool le = kid[0].kind == K_EMPTY, re = kid[1].kind == K_EMPTY;
        if (le && re) {
            out->kind = K_EMPTY;
        } else if (le || re) {
            unsigned s = le ? 1 : 0;
            if (kid[s].kind == K_UNKNOWN) {
                int rc = load_child(io, depth + 1, &cp[s], &kid[s].hash, &kid[s]);
                if (rc) return rc;
            }
            if (kid[s].kind == K_LEAF) {
                /* One row left below: it moves up to this position. */
                struct node gone = {.kind = K_EMPTY};
                int rc = save(io, depth + 1, &cp[s], &gone);
                if (rc) return rc;
                *out = kid[s];
            } else {
                out->kind = K_INNER;
                out->a = kid[0].hash;
                out->b = kid[1].hash;
            }
        } else {
            out->kind = K_INNER;
            out->a = kid[0].hash;
            out->b = kid[1].hash;
        }
        node_rehash(out);
        return save(io, depth, path, out);
    }
    /* An empty position or one row: the rows that remain here, built anew
     * (nothing is stored below a leaf). */
    struct mc_smt_change *rows = malloc((n + 1) * sizeof *rows);
    if (!rows) return MC_ERR_NOMEM;
    size_t m = 0;
    bool old_placed = cur->kind != K_LEAF;
    for (size_t i = 0; i < n; i++) {
        if (!old_placed) {
            int c = cmp_hash(&cur->a, &ch[i].key_hash);
            if (c < 0) {
                rows[m++] = (struct mc_smt_change){.key_hash = cur->a, .value_hash = cur->b,
                                                   .present = true};
                old_placed = true;
            } else if (c == 0) {
                old_placed = true; /* the change replaces or deletes it */
            }
        }
        if (ch[i].present) rows[m++] = ch[i];
    }
    if (!old_placed)
        rows[m++] = (struct mc_smt_change){.key_hash = cur->a, .value_hash = cur->b, .present = true};
    int rc;
    if (m == 0) {
        out->kind = K_EMPTY;
        node_rehash(out);
        rc = cur->kind == K_EMPTY ? 0 : save(io, depth, path, out);
    } else {
        rc = build(io, depth, path, rows, m, out);
    }
    free(rows);
    return rc;
}

static int kv_get(void *ctx, const uint8_t *key, size_t klen, struct mc_buf *out) {
    return mc_kv_get(ctx, key, klen, out);
}

void mc_smt_io_kv(struct mc_smt_io *io, struct mc_kv *kv) {
    memset(io, 0, sizeof *io);
    io->ctx = kv;
    io->get = kv_get;
}

int mc_smt_root(const struct mc_smt_io *io, mc_hash *root) {
    static const mc_hash top = {{0}};
    struct node n;
    int rc = load(io, 0, &top, &n);
    if (!rc) *root = n.hash;
    return rc;
}

int mc_smt_update(const struct mc_smt_io *io, const struct mc_smt_change *ch, size_t n,
                  mc_hash *root) {
    for (size_t i = 1; i < n; i++)
        if (cmp_hash(&ch[i - 1].key_hash, &ch[i].key_hash) >= 0)
            return mc_err_set(MC_ERR_INVALID, "state tree changes are not sorted by key hash");
    static const mc_hash top = {{0}};
    struct node cur, out;
    int rc = load(io, 0, &top, &cur);
    if (!rc && n) rc = update(io, 0, &top, ch, n, &cur, &out);
    else out = cur;
    if (!rc) *root = out.hash;
    return rc;
}

int mc_smt_prove(const struct mc_smt_io *io, const mc_hash *kh, struct mc_stateproof *p) {
    memset(p, 0, sizeof *p);
    struct node cur;
    unsigned d = 0;
    int rc = load(io, 0, kh, &cur);
    while (!rc && cur.kind == K_INNER) {
        MC_ASSERT(d < MC_SMT_DEPTH); /* load refuses an inner node at full depth */
        unsigned bit = mc_smt_bit(kh, d);
        p->sib[d] = bit ? cur.a : cur.b;
        mc_hash next = bit ? cur.b : cur.a;
        d++;
        if (mc_smt_hash_is_empty(&next)) {
            cur.kind = K_EMPTY;
            break;
        }
        rc = load_child(io, d, kh, &next, &cur);
    }
    if (rc) return rc;
    p->depth = (uint16_t)d;
    if (cur.kind == K_LEAF) {
        p->leaf = true;
        p->leaf_key = cur.a;
        p->leaf_value = cur.b;
    }
    return 0;
}

int mc_smt_root_of(const struct mc_smt_change *rows, size_t n, mc_hash *root) {
    for (size_t i = 1; i < n; i++)
        if (cmp_hash(&rows[i - 1].key_hash, &rows[i].key_hash) >= 0)
            return mc_err_set(MC_ERR_INVALID, "state rows are not sorted by key hash");
    if (n == 0) {
        memset(root, 0, sizeof *root);
        return 0;
    }
    static const mc_hash top = {{0}};
    struct node out;
    int rc = build(NULL, 0, &top, rows, n, &out);
    if (!rc) *root = out.hash;
    return rc;
}

static int cmp_change(const void *a, const void *b) {
    return cmp_hash(&((const struct mc_smt_change *)a)->key_hash,
                    &((const struct mc_smt_change *)b)->key_hash);
}

void mc_smt_sort(struct mc_smt_change *ch, size_t n) {
    if (n > 1) qsort(ch, n, sizeof *ch, cmp_change);
}
