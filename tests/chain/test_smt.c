/* The state tree (chain/smt.h) and its proofs (chain/stateproof.h).
 *
 * What users rely on: the header's state root commits to exactly the set of
 * rows (incremental updates give the root and the very node rows a tree
 * built from scratch gives, whatever the order of writes); every row's
 * presence and every absent key's absence is proven, and the proofs are
 * checked here by a verifier written in this file from the rules in
 * stateproof.h, not by the code under test; changing any byte of a proof,
 * of the row or of the root makes it fail; a damaged node row is reported,
 * never used. */
#include <criterion/criterion.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/state.h"
#include "chain/smt.h"
#include "chain/stateproof.h"
#include "../support/memkv.h"

/* ---- an independent verifier: SHA-256 from libsodium and the rules ---- */

static void h256(uint8_t out[32], const uint8_t *p, size_t n) { crypto_hash_sha256(out, p, n); }

static void h_pair(uint8_t out[32], uint8_t tag, const uint8_t a[32], const uint8_t b[32]) {
    uint8_t buf[65];
    buf[0] = tag;
    memcpy(buf + 1, a, 32);
    memcpy(buf + 33, b, 32);
    h256(out, buf, sizeof buf);
}

static int bit_of(const uint8_t kh[32], unsigned i) { return (kh[i / 8] >> (7 - i % 8)) & 1; }

/* Parses the canonical proof bytes itself and answers whether they show
 * key -> value (value NULL: absent) under root. */
static bool indep_verify(const uint8_t *proof, size_t plen, const uint8_t root[32],
                         const void *key, size_t klen, const void *value, size_t vlen) {
    if (plen < 3) return false;
    unsigned depth = (unsigned)proof[0] << 8 | proof[1];
    if (depth > 256 || plen < 2 + 32u * depth + 1) return false;
    const uint8_t *sib = proof + 2;
    uint8_t end = proof[2 + 32 * depth];
    size_t want = 2 + 32u * depth + 1 + (end == 1 ? 64 : 0);
    if (end > 1 || plen != want) return false;
    uint8_t kh[32], cur[32];
    h256(kh, key, klen);
    if (end == 0) {
        if (value) return false;
        memset(cur, 0, 32);
    } else {
        const uint8_t *lk = proof + 2 + 32 * depth + 1, *lv = lk + 32;
        for (unsigned i = 0; i < depth; i++)
            if (bit_of(lk, i) != bit_of(kh, i)) return false;
        bool own = memcmp(lk, kh, 32) == 0;
        if (value) {
            uint8_t vh[32];
            h256(vh, value, vlen);
            if (!own || memcmp(vh, lv, 32)) return false;
        } else if (own) {
            return false;
        }
        h_pair(cur, 0x00, lk, lv);
    }
    for (unsigned i = depth; i-- > 0;) {
        if (bit_of(kh, i)) h_pair(cur, 0x01, sib + 32 * i, cur);
        else h_pair(cur, 0x01, cur, sib + 32 * i);
    }
    return memcmp(cur, root, 32) == 0;
}

/* ---- a world: rows kept in the test, the state over memory ---- */

#define NKEYS 400

struct world {
    struct tu_memkv *mem;
    struct mc_state *st;
    bool present[NKEYS];
    uint32_t val[NKEYS];
    mc_hash root;
};

static void key_of(unsigned i, char out[24]) { snprintf(out, 24, "t/key/%u", i); }

static void world_init(struct world *w) {
    memset(w, 0, sizeof *w);
    mc_crypto_init();
    w->mem = tu_memkv_create();
    static const uint8_t hk[MC_STATE_HASH_KEY_BYTES] = {7};
    cr_assert_eq(mc_state_create(&w->st, tu_memkv_kv(w->mem), hk), 0);
}

static void world_deinit(struct world *w) {
    mc_state_destroy(w->st);
    tu_memkv_destroy(w->mem);
}

static void set_row(struct world *w, unsigned i, bool present, uint32_t v) {
    char k[24];
    key_of(i, k);
    if (present) cr_assert_eq(mc_state_put(w->st, k, strlen(k), &v, sizeof v), 0);
    else cr_assert_eq(mc_state_del(w->st, k, strlen(k)), 0);
    w->present[i] = present;
    w->val[i] = v;
}

static void commit(struct world *w) {
    mc_state_tx_commit(w->st);
    cr_assert_eq(mc_state_block_root(w->st, &w->root), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_state_block_flush(w->st), 0);
}

/* The root of the rows the test holds, from scratch. */
static void expected_root(const struct world *w, mc_hash *root) {
    struct mc_smt_change *rows = calloc(NKEYS, sizeof *rows);
    size_t n = 0;
    for (unsigned i = 0; i < NKEYS; i++) {
        if (!w->present[i]) continue;
        char k[24];
        key_of(i, k);
        mc_sha256(&rows[n].key_hash, k, strlen(k));
        mc_sha256(&rows[n].value_hash, &w->val[i], sizeof w->val[i]);
        rows[n++].present = true;
    }
    mc_smt_sort(rows, n);
    cr_assert_eq(mc_smt_root_of(rows, n, root), 0);
    free(rows);
}

struct dump {
    struct mc_buf b;
    size_t n;
};

static int dump_row(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct dump *d = ctx;
    mc_enc_bytes16(&d->b, k, kn);
    mc_enc_bytes32(&d->b, v, vn);
    d->n++;
    return 0;
}

static void dump_tree(struct world *w, struct dump *d) {
    mc_buf_init(&d->b, 0);
    d->n = 0;
    static const uint8_t zero = 0;
    cr_assert_eq(mc_kv_scan(tu_memkv_kv(w->mem), &zero, 1, dump_row, d), 0);
}

static struct mc_smt_io kv_io(struct world *w) {
    struct mc_smt_io io;
    mc_smt_io_kv(&io, tu_memkv_kv(w->mem));
    return io;
}

static void prove(struct world *w, unsigned i, struct mc_buf *out) {
    char k[24];
    key_of(i, k);
    mc_hash kh;
    mc_sha256(&kh, k, strlen(k));
    struct mc_smt_io io = kv_io(w);
    struct mc_stateproof p;
    cr_assert_eq(mc_smt_prove(&io, &kh, &p), 0, "%s", mc_err_detail());
    mc_buf_init(out, 0);
    mc_stateproof_encode(out, &p);
    cr_assert_eq(out->err, 0);
}

TestSuite(smt);

Test(smt, empty_tree_root_is_zero_and_proves_absence) {
    struct world w;
    world_init(&w);
    struct mc_smt_io io = kv_io(&w);
    mc_hash r;
    cr_assert_eq(mc_smt_root(&io, &r), 0);
    cr_assert(mc_smt_hash_is_empty(&r));
    struct mc_buf pb;
    prove(&w, 1, &pb);
    char k[24];
    key_of(1, k);
    cr_assert(indep_verify(pb.data, pb.len, r.b, k, strlen(k), NULL, 0));
    mc_buf_deinit(&pb);
    world_deinit(&w);
}

Test(smt, one_row_root_is_its_leaf) {
    struct world w;
    world_init(&w);
    set_row(&w, 5, true, 99);
    commit(&w);
    char k[24];
    key_of(5, k);
    uint32_t v = 99;
    uint8_t kh[32], vh[32], leaf[32];
    h256(kh, (const uint8_t *)k, strlen(k));
    h256(vh, (const uint8_t *)&v, sizeof v);
    h_pair(leaf, 0x00, kh, vh);
    cr_assert_eq(memcmp(leaf, w.root.b, 32), 0, "a tree of one row is that row's leaf");
    world_deinit(&w);
}

/* Random blocks of inserts, updates and deletes: after each one the root is
 * the from-scratch root, and at the end the node rows are exactly those of
 * the same rows written in one block into an empty store. */
Test(smt, incremental_equals_from_scratch) {
    struct world w;
    world_init(&w);
    uint64_t seed = 0x5eed;
    for (int blk = 0; blk < 60; blk++) {
        int ops = 1 + (int)(seed % 23);
        for (int o = 0; o < ops; o++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned i = (unsigned)(seed >> 33) % NKEYS;
            bool put = (seed >> 20) % 4 != 0 || blk < 5;
            set_row(&w, i, put, (uint32_t)(seed >> 40));
        }
        commit(&w);
        mc_hash want;
        expected_root(&w, &want);
        cr_assert_eq(memcmp(want.b, w.root.b, 32), 0, "root after block %d", blk);
        struct mc_smt_io io = kv_io(&w);
        mc_hash stored;
        cr_assert_eq(mc_smt_root(&io, &stored), 0);
        cr_assert_eq(memcmp(stored.b, w.root.b, 32), 0);
    }
    /* delete everything in the last block but a few, then compare shapes */
    struct world fresh;
    world_init(&fresh);
    for (unsigned i = 0; i < NKEYS; i++)
        if (w.present[i]) set_row(&fresh, i, true, w.val[i]);
    commit(&fresh);
    cr_assert_eq(memcmp(fresh.root.b, w.root.b, 32), 0);
    struct dump a, b;
    dump_tree(&w, &a);
    dump_tree(&fresh, &b);
    cr_assert_eq(a.n, b.n, "node rows: %zu incremental, %zu from scratch", a.n, b.n);
    cr_assert_eq(a.b.len, b.b.len);
    cr_assert_eq(memcmp(a.b.data, b.b.data, a.b.len), 0, "the tree's shape depends on its rows only");
    mc_buf_deinit(&a.b);
    mc_buf_deinit(&b.b);
    /* deleting every row leaves no node at all */
    for (unsigned i = 0; i < NKEYS; i++)
        if (w.present[i]) set_row(&w, i, false, 0);
    commit(&w);
    cr_assert(mc_smt_hash_is_empty(&w.root));
    dump_tree(&w, &a);
    cr_assert_eq(a.n, 0, "%zu node rows left in an empty tree", a.n);
    mc_buf_deinit(&a.b);
    world_deinit(&fresh);
    world_deinit(&w);
}

static void fill(struct world *w, unsigned every) {
    for (unsigned i = 0; i < NKEYS; i += every) set_row(w, i, true, i * 7 + 1);
    commit(w);
}

Test(smt, every_presence_and_absence_verifies_independently) {
    struct world w;
    world_init(&w);
    fill(&w, 3);
    for (unsigned i = 0; i < NKEYS; i++) {
        struct mc_buf pb;
        prove(&w, i, &pb);
        char k[24];
        key_of(i, k);
        uint32_t v = w.val[i];
        const void *val = w.present[i] ? &v : NULL;
        cr_assert(indep_verify(pb.data, pb.len, w.root.b, k, strlen(k), val, sizeof v),
                  "key %u (%s)", i, w.present[i] ? "present" : "absent");
        /* and the code's own verifier agrees */
        struct mc_stateproof p;
        cr_assert_eq(mc_stateproof_decode(&p, pb.data, pb.len), 0);
        cr_assert_eq(mc_stateproof_verify(&p, &w.root, k, strlen(k), val, sizeof v), 0, "%s",
                     mc_err_detail());
        /* the opposite claim never verifies */
        uint32_t other = v + 1;
        cr_assert(!indep_verify(pb.data, pb.len, w.root.b, k, strlen(k),
                                w.present[i] ? NULL : &other, sizeof other));
        cr_assert_neq(mc_stateproof_verify(&p, &w.root, k, strlen(k), w.present[i] ? NULL : &other,
                                           sizeof other), 0);
        mc_buf_deinit(&pb);
    }
    world_deinit(&w);
}

/* Flips each byte of a proof, of the value, of the key and of the root in
 * turn: not one altered version verifies. */
Test(smt, any_changed_byte_fails) {
    struct world w;
    world_init(&w);
    fill(&w, 2);
    unsigned cases[] = {0, 1, 2, 4, 10}; /* present and absent keys */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned i = cases[c];
        struct mc_buf pb;
        prove(&w, i, &pb);
        char k[24];
        key_of(i, k);
        size_t kl = strlen(k);
        uint32_t v = w.val[i];
        const void *val = w.present[i] ? &v : NULL;
        cr_assert(indep_verify(pb.data, pb.len, w.root.b, k, kl, val, sizeof v));
        cr_assert_gt(pb.len, 3, "a proof in a tree of %d rows has siblings", NKEYS / 2);
        for (size_t j = 0; j < pb.len; j++) {
            for (int bit = 0; bit < 8; bit += 7) {
                pb.data[j] ^= (uint8_t)(1u << bit);
                cr_assert(!indep_verify(pb.data, pb.len, w.root.b, k, kl, val, sizeof v),
                          "proof byte %zu bit %d of key %u", j, bit, i);
                struct mc_stateproof p;
                if (mc_stateproof_decode(&p, pb.data, pb.len) == 0)
                    cr_assert_neq(mc_stateproof_verify(&p, &w.root, k, kl, val, sizeof v), 0);
                pb.data[j] ^= (uint8_t)(1u << bit);
            }
        }
        for (size_t j = 0; j < 32; j++) {
            mc_hash r = w.root;
            r.b[j] ^= 0x10;
            cr_assert(!indep_verify(pb.data, pb.len, r.b, k, kl, val, sizeof v), "root byte %zu", j);
        }
        if (val) {
            for (size_t j = 0; j < sizeof v; j++) {
                uint32_t x = v;
                ((uint8_t *)&x)[j] ^= 1;
                cr_assert(!indep_verify(pb.data, pb.len, w.root.b, k, kl, &x, sizeof x));
            }
            /* a present row's key changed anywhere no longer verifies */
            for (size_t j = 0; j < kl; j++) {
                k[j] ^= 1;
                cr_assert(!indep_verify(pb.data, pb.len, w.root.b, k, kl, val, sizeof v), "key byte %zu", j);
                k[j] ^= 1;
            }
        }
        /* truncated and extended proofs */
        cr_assert(!indep_verify(pb.data, pb.len - 1, w.root.b, k, kl, val, sizeof v));
        struct mc_stateproof p;
        cr_assert_neq(mc_stateproof_decode(&p, pb.data, pb.len - 1), 0);
        mc_buf_append(&pb, "x", 1);
        cr_assert_neq(mc_stateproof_decode(&p, pb.data, pb.len), 0);
        mc_buf_deinit(&pb);
    }
    world_deinit(&w);
}

/* A node row changed in the store is caught: proofs and updates refuse it
 * (MC_ERR_TAMPERED) instead of building on it. */
Test(smt, damaged_node_row_is_reported) {
    struct world w;
    world_init(&w);
    fill(&w, 2);
    struct dump d;
    dump_tree(&w, &d);
    cr_assert_gt(d.n, 10);
    /* take the 4th node row and flip a byte of its value */
    struct mc_dec dec;
    mc_dec_init(&dec, d.b.data, d.b.len);
    size_t kn = 0, vn = 0;
    const uint8_t *k = NULL, *v = NULL;
    for (int i = 0; i < 4; i++) {
        k = mc_dec_bytes16(&dec, &kn, 64);
        v = mc_dec_bytes32(&dec, &vn, 128);
    }
    uint8_t key[64], val[128];
    memcpy(key, k, kn);
    memcpy(val, v, vn);
    val[vn - 1] ^= 1;
    struct mc_kv *kv = tu_memkv_kv(w.mem);
    cr_assert_eq(mc_kv_begin(kv), 0);
    cr_assert_eq(mc_kv_put(kv, key, kn, val, vn), 0);
    cr_assert_eq(mc_kv_commit(kv), 0);
    mc_buf_deinit(&d.b);
    /* some key's proof walks through that node */
    struct mc_smt_io io = kv_io(&w);
    int tampered = 0;
    for (unsigned i = 0; i < NKEYS; i++) {
        char ks[24];
        key_of(i, ks);
        mc_hash kh;
        mc_sha256(&kh, ks, strlen(ks));
        struct mc_stateproof p;
        int rc = mc_smt_prove(&io, &kh, &p);
        if (rc) {
            cr_assert_eq(rc, MC_ERR_TAMPERED);
            tampered++;
        }
    }
    cr_assert_gt(tampered, 0, "no proof noticed the damaged node");
    /* writing every row again runs through the damaged node too */
    for (unsigned i = 0; i < NKEYS; i += 2) set_row(&w, i, true, 1);
    mc_state_tx_commit(w.st);
    mc_hash r;
    cr_assert_eq(mc_state_block_root(w.st, &r), MC_ERR_TAMPERED);
    mc_state_block_abort(w.st);
    world_deinit(&w);
}

Test(smt, state_refuses_tree_keys) {
    struct world w;
    world_init(&w);
    uint8_t k[3] = {0, 0, 0};
    cr_assert_eq(mc_state_put(w.st, k, sizeof k, "x", 1), MC_ERR_INVALID);
    cr_assert_eq(mc_state_del(w.st, k, sizeof k), MC_ERR_INVALID);
    world_deinit(&w);
}

Test(smt, update_refuses_unsorted_changes) {
    struct world w;
    world_init(&w);
    struct mc_smt_change ch[2];
    memset(ch, 0, sizeof ch);
    ch[0].key_hash.b[0] = 2;
    ch[1].key_hash.b[0] = 1;
    ch[0].present = ch[1].present = true;
    struct mc_smt_io io = kv_io(&w);
    mc_hash r;
    cr_assert_eq(mc_smt_update(&io, ch, 2, &r), MC_ERR_INVALID);
    ch[1] = ch[0];
    cr_assert_eq(mc_smt_root_of(ch, 2, &r), MC_ERR_INVALID);
    world_deinit(&w);
}
