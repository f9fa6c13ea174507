/* RFC 6962 / RFC 9162 Merkle trees: Certificate Transparency reference tree
 * heads, the transparency-dev proof vectors under
 * $MEDCHAIN_TESTDATA/rfc6962, exhaustive generated proofs for small trees,
 * and the frontier's incremental root and strict encoding. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"

static void init(void) { mc_crypto_init(); }
TestSuite(merkle, .init = init);

/* The eight leaves of the CT reference tests, and MTH of their first n. */
static const char *ct_leaves_hex[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *ct_roots_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void ct_leaf_hashes(mc_hash out[8]) {
    for (int i = 0; i < 8; i++) {
        uint8_t data[16];
        size_t n;
        cr_assert_eq(mc_hex_decode_var(data, sizeof data, &n, ct_leaves_hex[i]), 0);
        mc_merkle_leaf_hash(&out[i], data, n);
    }
}

static mc_hash from_hex(const char *hex) {
    mc_hash h;
    cr_assert_eq(mc_hex_decode(h.b, 32, hex), 0);
    return h;
}

static bool eq(const mc_hash *a, const mc_hash *b) { return memcmp(a->b, b->b, 32) == 0; }

static int array_leaf(void *ctx, uint64_t index, mc_hash *out) {
    *out = ((const mc_hash *)ctx)[index];
    return 0;
}

Test(merkle, ct_reference_roots) {
    mc_hash leaves[8];
    ct_leaf_hashes(leaves);
    struct mc_merkle_frontier f;
    mc_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= 8; n++) {
        mc_hash want = from_hex(ct_roots_hex[n]), got;
        mc_merkle_root_array(&got, leaves, n);
        cr_assert(eq(&got, &want), "array root of size %llu", (unsigned long long)n);
        cr_assert_eq(mc_merkle_root(&got, n, array_leaf, leaves), 0);
        cr_assert(eq(&got, &want), "callback root of size %llu", (unsigned long long)n);
        mc_merkle_frontier_root(&f, &got);
        cr_assert(eq(&got, &want), "frontier root of size %llu", (unsigned long long)n);
        if (n < 8) mc_merkle_frontier_append(&f, &leaves[n]);
    }
}

Test(merkle, ct_known_proofs) {
    /* Published CT proofs over the same leaves: inclusion of leaf 5 in 8,
     * consistency 6 -> 8. */
    mc_hash leaves[8], path[MC_MERKLE_PATH_MAX];
    size_t len;
    ct_leaf_hashes(leaves);
    cr_assert_eq(mc_merkle_inclusion_proof(path, &len, 5, 8, array_leaf, leaves), 0);
    cr_assert_eq(len, 3);
    mc_hash w0 = from_hex("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
    mc_hash w1 = from_hex("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0");
    mc_hash w2 = from_hex("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
    cr_assert(eq(&path[0], &w0) && eq(&path[1], &w1) && eq(&path[2], &w2));
    cr_assert_eq(mc_merkle_consistency_proof(path, &len, 6, 8, array_leaf, leaves), 0);
    cr_assert_eq(len, 3);
    mc_hash c0 = from_hex("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a");
    cr_assert(eq(&path[0], &c0) && eq(&path[1], &w1) && eq(&path[2], &w2));
}

/* ---- transparency-dev JSON vectors ------------------------------------- */

/* Vectors carry some deliberately ill-sized "hashes" (empty strings, short
 * placeholders). Our API takes 32-byte hashes, so a root or proof element
 * of any other length is mapped injectively to SHA-256(tag || bytes): equal
 * fields stay equal and none can equal a real tree hash, exactly as the
 * reference verifier's byte comparisons behave. An ill-sized leaf hash is
 * refused outright by the reference verifier; here it cannot even be
 * expressed as an mc_hash, so such a case counts as rejected at the type
 * boundary (sized_out reports it). */
static mc_hash field_hash_sized(json_t *v, bool *sized_out) {
    mc_hash h;
    cr_assert(json_is_string(v), "hash field is not a string");
    const char *s = json_string_value(v);
    uint8_t buf[256];
    size_t n;
    cr_assert_eq(sodium_base642bin(buf, sizeof buf, s, strlen(s), NULL, &n, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0, "bad base64 %s", s);
    if (n == 32) {
        memcpy(h.b, buf, 32);
    } else {
        mc_sha256_ctx ctx;
        mc_sha256_init(&ctx);
        mc_sha256_update(&ctx, "medchain-test/ill-sized-hash", 28);
        mc_sha256_update(&ctx, buf, n);
        mc_sha256_final(&ctx, &h);
    }
    if (sized_out) *sized_out = n == 32;
    return h;
}

static mc_hash field_hash(json_t *v) { return field_hash_sized(v, NULL); }

static size_t field_proof(json_t *v, mc_hash *out, size_t cap) {
    if (json_is_null(v)) return 0;
    cr_assert(json_is_array(v));
    size_t n = json_array_size(v);
    cr_assert(n <= cap);
    for (size_t i = 0; i < n; i++) out[i] = field_hash(json_array_get(v, i));
    return n;
}

/* Some vectors hold 2^64 - 1, beyond jansson's signed integers, so sizes
 * and indexes are read from the file's text (files are loaded with
 * JSON_DECODE_INT_AS_REAL only to get past them). */
static uint64_t field_u64(const char *text, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(text, pat);
    cr_assert_not_null(p, "field %s missing", key);
    p += strlen(pat);
    while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t') p++;
    cr_assert(*p >= '0' && *p <= '9', "field %s is not an unsigned integer", key);
    errno = 0;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    cr_assert(errno == 0 && (*end == ',' || *end == '\n' || *end == ' ' || *end == '}'),
              "field %s out of range", key);
    return v;
}

struct tally {
    int cases, accepted, rejected;
};

typedef void (*case_fn)(json_t *c, const char *text, const char *path, struct tally *t);

static void walk(const char *dir, case_fn fn, struct tally *t) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len = strlen(e->d_name);
        DIR *sub = opendir(path);
        if (sub) {
            closedir(sub);
            walk(path, fn, t);
        } else if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0) {
            FILE *fp = fopen(path, "rb");
            cr_assert_not_null(fp, "cannot open %s", path);
            char text[16384];
            size_t n = fread(text, 1, sizeof text - 1, fp);
            cr_assert(feof(fp), "%s is too large", path);
            fclose(fp);
            text[n] = 0;
            json_error_t err;
            json_t *c = json_loadb(text, n, JSON_DECODE_INT_AS_REAL, &err);
            cr_assert_not_null(c, "%s: %s", path, err.text);
            fn(c, text, path, t);
            json_decref(c);
        }
    }
    closedir(d);
}

static const char *testdata(void) {
    const char *p = getenv("MEDCHAIN_TESTDATA");
    return p && *p ? p : "testdata";
}

static void inclusion_case(json_t *c, const char *text, const char *path, struct tally *t) {
    mc_hash proof[64];
    uint64_t index = field_u64(text, "leafIdx"), size = field_u64(text, "treeSize");
    mc_hash root = field_hash(json_object_get(c, "root"));
    bool leaf_sized;
    mc_hash leaf = field_hash_sized(json_object_get(c, "leafHash"), &leaf_sized);
    size_t n = field_proof(json_object_get(c, "proof"), proof, 64);
    bool want_err = json_is_true(json_object_get(c, "wantErr"));
    int rc = leaf_sized ? mc_merkle_verify_inclusion(&leaf, index, size, proof, n, &root)
                        : MC_ERR_INVALID;
    if (want_err) cr_assert_neq(rc, 0, "%s: tampered proof accepted", path);
    else cr_assert_eq(rc, 0, "%s: valid proof rejected (%s)", path, mc_err_detail());
    if (want_err) cr_assert(rc == MC_ERR_INVALID || rc == MC_ERR_TAMPERED, "%s: rc %d", path, rc);
    t->cases++;
    if (rc) t->rejected++;
    else t->accepted++;
}

static void consistency_case(json_t *c, const char *text, const char *path,
                             struct tally *t) {
    mc_hash proof[64];
    uint64_t size1 = field_u64(text, "size1"), size2 = field_u64(text, "size2");
    mc_hash root1 = field_hash(json_object_get(c, "root1"));
    mc_hash root2 = field_hash(json_object_get(c, "root2"));
    size_t n = field_proof(json_object_get(c, "proof"), proof, 64);
    bool want_err = json_is_true(json_object_get(c, "wantErr"));
    int rc = mc_merkle_verify_consistency(size1, size2, &root1, &root2, proof, n);
    if (want_err) cr_assert_neq(rc, 0, "%s: tampered proof accepted", path);
    else cr_assert_eq(rc, 0, "%s: valid proof rejected (%s)", path, mc_err_detail());
    if (want_err) cr_assert(rc == MC_ERR_INVALID || rc == MC_ERR_TAMPERED, "%s: rc %d", path, rc);
    t->cases++;
    if (rc) t->rejected++;
    else t->accepted++;
}

Test(merkle, rfc6962_inclusion_vectors) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/rfc6962/inclusion", testdata());
    struct tally t = {0};
    walk(dir, inclusion_case, &t);
    cr_log_info("inclusion vectors: %d cases, %d accepted, %d rejected", t.cases, t.accepted,
                t.rejected);
    cr_assert_gt(t.cases, 0, "no inclusion vectors under %s", dir);
    cr_assert_gt(t.accepted, 0);
    cr_assert_gt(t.rejected, 0);
}

Test(merkle, rfc6962_consistency_vectors) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/rfc6962/consistency", testdata());
    struct tally t = {0};
    walk(dir, consistency_case, &t);
    cr_log_info("consistency vectors: %d cases, %d accepted, %d rejected", t.cases, t.accepted,
                t.rejected);
    cr_assert_gt(t.cases, 0, "no consistency vectors under %s", dir);
    cr_assert_gt(t.accepted, 0);
    cr_assert_gt(t.rejected, 0);
}

/* ---- generated proofs -------------------------------------------------- */

#define GEN_MAX 64

/* Bits of a proof hash to flip: all 256 for trees up to 16 leaves; above
 * that one bit in each byte (rotating with k) keeps the run short while
 * every byte of every proof hash is still exercised. */
static bool flip_this(uint64_t size, size_t k, int bit) {
    return size <= 16 || bit % 8 == (int)(k + (size_t)bit / 8) % 8;
}

static void gen_leaves(mc_hash *leaves, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t data[8];
        for (int b = 0; b < 8; b++) data[b] = (uint8_t)(i >> (8 * b));
        mc_merkle_leaf_hash(&leaves[i], data, sizeof data);
    }
}

Test(merkle, inclusion_generated_all_pairs) {
    mc_hash leaves[GEN_MAX], roots[GEN_MAX + 1], path[MC_MERKLE_PATH_MAX];
    gen_leaves(leaves, GEN_MAX);
    for (uint64_t n = 0; n <= GEN_MAX; n++) mc_merkle_root_array(&roots[n], leaves, n);
    for (uint64_t size = 1; size <= GEN_MAX; size++) {
        for (uint64_t i = 0; i < size; i++) {
            size_t len;
            cr_assert_eq(mc_merkle_inclusion_proof(path, &len, i, size, array_leaf, leaves), 0);
            const mc_hash *root = &roots[size];
            cr_assert_eq(mc_merkle_verify_inclusion(&leaves[i], i, size, path, len, root), 0,
                         "leaf %llu of %llu", (unsigned long long)i, (unsigned long long)size);
            /* Every bit of every hash in the proof matters. */
            for (size_t k = 0; k < len; k++)
                for (int bit = 0; bit < 256; bit++) {
                    if (!flip_this(size, k, bit)) continue;
                    path[k].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    cr_assert_neq(
                        mc_merkle_verify_inclusion(&leaves[i], i, size, path, len, root), 0);
                    path[k].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            /* Wrong leaf, index, size, length, root. */
            cr_assert_neq(mc_merkle_verify_inclusion(&leaves[(i + 1) % GEN_MAX], i, size, path,
                                                     len, root), 0);
            if (size > 1)
                cr_assert_neq(mc_merkle_verify_inclusion(&leaves[i], (i + 1) % size, size,
                                                         path, len, root), 0);
            /* (The size is bound to its own root: a proof for size n checked
             * against size n + 1 and that tree's root fails.) */
            if (size < GEN_MAX)
                cr_assert_neq(mc_merkle_verify_inclusion(&leaves[i], i, size + 1, path, len,
                                                         &roots[size + 1]), 0);
            cr_assert_neq(mc_merkle_verify_inclusion(&leaves[i], i, size, path, len,
                                                     &roots[size - 1]), 0);
            if (len > 0)
                cr_assert_neq(
                    mc_merkle_verify_inclusion(&leaves[i], i, size, path, len - 1, root), 0);
            path[len] = leaves[0];
            cr_assert_neq(mc_merkle_verify_inclusion(&leaves[i], i, size, path, len + 1, root),
                          0);
        }
        size_t len;
        cr_assert_eq(mc_merkle_inclusion_proof(path, &len, size, size, array_leaf, leaves),
                     MC_ERR_INVALID);
        cr_assert_eq(mc_merkle_verify_inclusion(&leaves[0], size, size, path, 0, &roots[size]),
                     MC_ERR_INVALID);
    }
}

Test(merkle, consistency_generated_all_pairs) {
    mc_hash leaves[GEN_MAX], roots[GEN_MAX + 1], path[MC_MERKLE_PATH_MAX];
    gen_leaves(leaves, GEN_MAX);
    for (uint64_t n = 0; n <= GEN_MAX; n++) mc_merkle_root_array(&roots[n], leaves, n);
    for (uint64_t s2 = 1; s2 <= GEN_MAX; s2++) {
        for (uint64_t s1 = 1; s1 <= s2; s1++) {
            size_t len;
            const mc_hash *r1 = &roots[s1], *r2 = &roots[s2];
            cr_assert_eq(mc_merkle_consistency_proof(path, &len, s1, s2, array_leaf, leaves), 0);
            cr_assert_eq(mc_merkle_verify_consistency(s1, s2, r1, r2, path, len), 0,
                         "%llu -> %llu: %s", (unsigned long long)s1, (unsigned long long)s2,
                         mc_err_detail());
            if (s1 == s2) cr_assert_eq(len, 0);
            for (size_t k = 0; k < len; k++)
                for (int bit = 0; bit < 256; bit++) {
                    if (!flip_this(s2, k, bit)) continue;
                    path[k].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                    cr_assert_neq(mc_merkle_verify_consistency(s1, s2, r1, r2, path, len), 0);
                    path[k].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                }
            /* Swapped or wrong roots, wrong sizes, altered length. */
            if (s1 != s2) {
                cr_assert_neq(mc_merkle_verify_consistency(s1, s2, r2, r1, path, len), 0);
                cr_assert_neq(mc_merkle_verify_consistency(s1, s2, &roots[s1 - 1], r2, path,
                                                           len), 0);
                cr_assert_neq(mc_merkle_verify_consistency(s1, s2, r1, &roots[s2 - 1], path,
                                                           len), 0);
                if (s2 < GEN_MAX)
                    cr_assert_neq(mc_merkle_verify_consistency(s1, s2 + 1, r1, &roots[s2 + 1],
                                                               path, len), 0);
                cr_assert_neq(mc_merkle_verify_consistency(s1, s2, r1, r2, path, len - 1), 0);
            }
            cr_assert_neq(mc_merkle_verify_consistency(s2, s1 - 1, r1, r2, path, len), 0);
            path[len] = *r1;
            cr_assert_neq(mc_merkle_verify_consistency(s1, s2, r1, r2, path, len + 1), 0);
        }
    }
    size_t len;
    cr_assert_eq(mc_merkle_consistency_proof(path, &len, 0, 5, array_leaf, leaves),
                 MC_ERR_INVALID);
    cr_assert_eq(mc_merkle_consistency_proof(path, &len, 6, 5, array_leaf, leaves),
                 MC_ERR_INVALID);
    cr_assert_eq(mc_merkle_verify_consistency(0, 0, &roots[0], &roots[0], path, 0),
                 MC_ERR_INVALID);
}

static int failing_leaf(void *ctx, uint64_t index, mc_hash *out) {
    if (index == *(uint64_t *)ctx) return MC_ERR_IO;
    memset(out, 0, sizeof *out);
    return 0;
}

Test(merkle, callback_errors_propagate) {
    uint64_t bad = 3;
    mc_hash root, path[MC_MERKLE_PATH_MAX];
    size_t len;
    cr_assert_eq(mc_merkle_root(&root, 10, failing_leaf, &bad), MC_ERR_IO);
    cr_assert_eq(mc_merkle_root(&root, 3, failing_leaf, &bad), 0);
    cr_assert_eq(mc_merkle_inclusion_proof(path, &len, 0, 10, failing_leaf, &bad), MC_ERR_IO);
    cr_assert_eq(mc_merkle_consistency_proof(path, &len, 2, 10, failing_leaf, &bad), MC_ERR_IO);
}

/* ---- frontier ---------------------------------------------------------- */

Test(merkle, frontier_matches_full_root) {
    enum { N = 200 };
    mc_hash leaves[N];
    gen_leaves(leaves, N);
    struct mc_merkle_frontier f;
    mc_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= N; n++) {
        mc_hash want, got;
        mc_merkle_root_array(&want, leaves, n);
        mc_merkle_frontier_root(&f, &got);
        cr_assert(eq(&want, &got), "size %llu", (unsigned long long)n);
        cr_assert_eq(f.size, n);
        if (n < N) mc_merkle_frontier_append(&f, &leaves[n]);
    }
}

Test(merkle, frontier_encoding_round_trip) {
    enum { N = 200 };
    mc_hash leaves[N];
    gen_leaves(leaves, N);
    struct mc_merkle_frontier f, g;
    mc_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= N; n++) {
        struct mc_buf b;
        mc_buf_init(&b, 0);
        mc_merkle_frontier_encode(&b, &f);
        cr_assert_eq(b.err, 0);
        cr_assert_eq(b.len, 8 + 32 * (size_t)__builtin_popcountll(n));
        cr_assert_eq(mc_merkle_frontier_decode(&g, b.data, b.len), 0);
        cr_assert_eq(memcmp(&f, &g, sizeof f), 0, "size %llu", (unsigned long long)n);
        /* Every truncation and any trailing byte is rejected. */
        for (size_t cut = 0; cut < b.len; cut++)
            cr_assert_eq(mc_merkle_frontier_decode(&g, b.data, cut), MC_ERR_MALFORMED);
        mc_enc_u8(&b, 0);
        cr_assert_eq(mc_merkle_frontier_decode(&g, b.data, b.len), MC_ERR_MALFORMED);
        mc_buf_deinit(&b);
        if (n < N) mc_merkle_frontier_append(&f, &leaves[n]);
    }
}

Test(merkle, frontier_rejects_node_count_mismatch) {
    struct mc_merkle_frontier g;
    uint8_t buf[8 + 3 * 32] = {0};
    /* size 3 needs two nodes: one or three are wrong. */
    buf[7] = 3;
    cr_assert_eq(mc_merkle_frontier_decode(&g, buf, 8 + 32), MC_ERR_MALFORMED);
    cr_assert_eq(mc_merkle_frontier_decode(&g, buf, 8 + 96), MC_ERR_MALFORMED);
    cr_assert_eq(mc_merkle_frontier_decode(&g, buf, 8 + 64), 0);
    cr_assert_eq(g.size, 3);
    /* size 0 takes no node at all. */
    buf[7] = 0;
    cr_assert_eq(mc_merkle_frontier_decode(&g, buf, 8), 0);
    cr_assert_eq(mc_merkle_frontier_decode(&g, buf, 8 + 32), MC_ERR_MALFORMED);
    /* The largest size needs 64 nodes; a short buffer must not be overread. */
    memset(buf, 0xff, 8);
    cr_assert_eq(mc_merkle_frontier_decode(&g, buf, sizeof buf), MC_ERR_MALFORMED);
    cr_assert_eq(mc_merkle_frontier_decode(&g, buf, 0), MC_ERR_MALFORMED);
    cr_assert_eq(mc_merkle_frontier_decode(&g, buf, 7), MC_ERR_MALFORMED);
}

/* ---- perfect-subtree (node) callbacks ----------------------------------
 *
 * The _nodes generators must return exactly what the leaf generators
 * return, and fetch O(log n) nodes. The node table here is built by pairing
 * leaves level by level, independently of the library's walks. */

#define NODES_MAX 5000

struct node_table {
    mc_hash *level[14];    /* level[l][j]: subtree of 2^l leaves at j; 2^13 > 5000 */
    uint64_t count[14];
    uint64_t size;         /* the tree being proved: fetches must lie inside it */
    uint64_t fetches;
};

static void node_table_init(struct node_table *t, const mc_hash *leaves, uint64_t n) {
    memset(t, 0, sizeof *t);
    t->level[0] = malloc(sizeof(mc_hash) * n);
    memcpy(t->level[0], leaves, sizeof(mc_hash) * n);
    t->count[0] = n;
    for (unsigned l = 1; l < 14; l++) {
        t->count[l] = t->count[l - 1] / 2;
        t->level[l] = malloc(sizeof(mc_hash) * (t->count[l] ? t->count[l] : 1));
        for (uint64_t j = 0; j < t->count[l]; j++)
            mc_merkle_node_hash(&t->level[l][j], &t->level[l - 1][2 * j],
                                &t->level[l - 1][2 * j + 1]);
    }
}

static void node_table_deinit(struct node_table *t) {
    for (unsigned l = 0; l < 14; l++) free(t->level[l]);
}

static int table_node(void *ctx, unsigned level, uint64_t index, mc_hash *out) {
    struct node_table *t = ctx;
    /* The documented contract: only subtrees wholly inside the tree. */
    cr_assert(level < 14 && ((index + 1) << level) <= t->size,
              "fetch (%u, %llu) outside a tree of %llu", level, (unsigned long long)index,
              (unsigned long long)t->size);
    t->fetches++;
    *out = t->level[level][index];
    return 0;
}

/* At most two fetches per level of the tree, plus one: one per perfect
 * sibling and, once per walk, the set bits of the incomplete right edge. */
static uint64_t fetch_bound(uint64_t size) {
    return 2 * (uint64_t)(64 - __builtin_clzll(size)) + 1;
}

static void check_inclusion_same(struct node_table *t, const mc_hash *leaves,
                                 const mc_hash *root, uint64_t i, uint64_t size) {
    mc_hash slow[MC_MERKLE_PATH_MAX], fast[MC_MERKLE_PATH_MAX];
    size_t slow_len, fast_len;
    cr_assert_eq(mc_merkle_inclusion_proof(slow, &slow_len, i, size, array_leaf,
                                           (void *)leaves), 0);
    t->size = size;
    t->fetches = 0;
    cr_assert_eq(mc_merkle_inclusion_proof_nodes(fast, &fast_len, i, size, table_node, t), 0);
    cr_assert_leq(t->fetches, fetch_bound(size), "%llu fetches for leaf %llu of %llu",
                  (unsigned long long)t->fetches, (unsigned long long)i,
                  (unsigned long long)size);
    cr_assert_eq(fast_len, slow_len);
    cr_assert_eq(memcmp(fast, slow, sizeof(mc_hash) * slow_len), 0, "leaf %llu of %llu",
                 (unsigned long long)i, (unsigned long long)size);
    cr_assert_eq(mc_merkle_verify_inclusion(&leaves[i], i, size, fast, fast_len, root), 0);
}

static void check_consistency_same(struct node_table *t, const mc_hash *leaves,
                                   const mc_hash *r1, const mc_hash *r2, uint64_t s1,
                                   uint64_t s2) {
    mc_hash slow[MC_MERKLE_PATH_MAX], fast[MC_MERKLE_PATH_MAX];
    size_t slow_len, fast_len;
    cr_assert_eq(mc_merkle_consistency_proof(slow, &slow_len, s1, s2, array_leaf,
                                             (void *)leaves), 0);
    t->size = s2;
    t->fetches = 0;
    cr_assert_eq(mc_merkle_consistency_proof_nodes(fast, &fast_len, s1, s2, table_node, t), 0);
    cr_assert_leq(t->fetches, fetch_bound(s2), "%llu fetches for %llu -> %llu",
                  (unsigned long long)t->fetches, (unsigned long long)s1,
                  (unsigned long long)s2);
    cr_assert_eq(fast_len, slow_len);
    cr_assert_eq(memcmp(fast, slow, sizeof(mc_hash) * slow_len), 0, "%llu -> %llu",
                 (unsigned long long)s1, (unsigned long long)s2);
    cr_assert_eq(mc_merkle_verify_consistency(s1, s2, r1, r2, fast, fast_len), 0);
}

#define SMALL_MAX 300
#define RANDOM_TREES 100

/* xorshift64*: the test's own seeded generator, so a failure replays. */
static uint64_t rng_state;
static void rng_seed(uint64_t seed) { rng_state = seed; }
static uint64_t rng_next(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

Test(merkle, nodes_root_equals_leaf_root) {
    mc_hash *leaves = malloc(sizeof(mc_hash) * NODES_MAX);
    gen_leaves(leaves, NODES_MAX);
    struct node_table t;
    node_table_init(&t, leaves, NODES_MAX);
    /* The frontier is the reference for every size (it equals the leaf
     * callback root, see frontier_matches_full_root); the leaf callback
     * itself for the sizes up to SMALL_MAX. */
    struct mc_merkle_frontier f;
    mc_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= NODES_MAX; n++) {
        mc_hash want, got;
        mc_merkle_frontier_root(&f, &want);
        if (n <= SMALL_MAX) {
            cr_assert_eq(mc_merkle_root(&got, n, array_leaf, leaves), 0);
            cr_assert(eq(&want, &got), "leaf root of size %llu", (unsigned long long)n);
        }
        t.size = n;
        t.fetches = 0;
        cr_assert_eq(mc_merkle_root_nodes(&got, n, table_node, &t), 0);
        cr_assert(eq(&want, &got), "size %llu", (unsigned long long)n);
        cr_assert_eq(t.fetches, (uint64_t)__builtin_popcountll(n));
        if (n < NODES_MAX) mc_merkle_frontier_append(&f, &leaves[n]);
    }
    node_table_deinit(&t);
    free(leaves);
}

Test(merkle, nodes_inclusion_equals_leaf_inclusion, .timeout = 30) {
    mc_hash *leaves = malloc(sizeof(mc_hash) * NODES_MAX);
    mc_hash *roots = malloc(sizeof(mc_hash) * (NODES_MAX + 1));
    gen_leaves(leaves, NODES_MAX);
    struct mc_merkle_frontier f;
    mc_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= NODES_MAX; n++) {
        mc_merkle_frontier_root(&f, &roots[n]);
        if (n < NODES_MAX) mc_merkle_frontier_append(&f, &leaves[n]);
    }
    struct node_table t;
    node_table_init(&t, leaves, NODES_MAX);
    /* Every leaf of every tree up to SMALL_MAX. */
    for (uint64_t size = 1; size <= SMALL_MAX; size++)
        for (uint64_t i = 0; i < size; i++)
            check_inclusion_same(&t, leaves, &roots[size], i, size);
    /* Random trees up to NODES_MAX, seeded so a failure replays. */
    rng_seed(0x6d65726b6c65ULL);
    for (int k = 0; k < RANDOM_TREES; k++) {
        uint64_t size = 1 + rng_next() % NODES_MAX, i = rng_next() % size;
        check_inclusion_same(&t, leaves, &roots[size], i, size);
        /* The edges: first and last leaf. */
        check_inclusion_same(&t, leaves, &roots[size], 0, size);
        check_inclusion_same(&t, leaves, &roots[size], size - 1, size);
    }
    size_t len;
    mc_hash path[MC_MERKLE_PATH_MAX];
    t.size = 10;
    cr_assert_eq(mc_merkle_inclusion_proof_nodes(path, &len, 10, 10, table_node, &t),
                 MC_ERR_INVALID);
    cr_assert_eq(len, 0);
    node_table_deinit(&t);
    free(roots);
    free(leaves);
}

Test(merkle, nodes_consistency_equals_leaf_consistency, .timeout = 30) {
    mc_hash *leaves = malloc(sizeof(mc_hash) * NODES_MAX);
    mc_hash *roots = malloc(sizeof(mc_hash) * (NODES_MAX + 1));
    gen_leaves(leaves, NODES_MAX);
    struct mc_merkle_frontier f;
    mc_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= NODES_MAX; n++) {
        mc_merkle_frontier_root(&f, &roots[n]);
        if (n < NODES_MAX) mc_merkle_frontier_append(&f, &leaves[n]);
    }
    struct node_table t;
    node_table_init(&t, leaves, NODES_MAX);
    for (uint64_t s2 = 1; s2 <= SMALL_MAX; s2++)
        for (uint64_t s1 = 1; s1 <= s2; s1++)
            check_consistency_same(&t, leaves, &roots[s1], &roots[s2], s1, s2);
    rng_seed(0x636f6e73697374ULL);
    for (int k = 0; k < RANDOM_TREES; k++) {
        uint64_t s2 = 1 + rng_next() % NODES_MAX, s1 = 1 + rng_next() % s2;
        check_consistency_same(&t, leaves, &roots[s1], &roots[s2], s1, s2);
        check_consistency_same(&t, leaves, &roots[1], &roots[s2], 1, s2);
        check_consistency_same(&t, leaves, &roots[s2], &roots[s2], s2, s2);
    }
    size_t len;
    mc_hash path[MC_MERKLE_PATH_MAX];
    t.size = 5;
    cr_assert_eq(mc_merkle_consistency_proof_nodes(path, &len, 0, 5, table_node, &t),
                 MC_ERR_INVALID);
    cr_assert_eq(mc_merkle_consistency_proof_nodes(path, &len, 6, 5, table_node, &t),
                 MC_ERR_INVALID);
    node_table_deinit(&t);
    free(roots);
    free(leaves);
}

static int failing_node(void *ctx, unsigned level, uint64_t index, mc_hash *out) {
    if (level == 1 && index == *(uint64_t *)ctx) return MC_ERR_IO;
    memset(out, 0, sizeof *out);
    return 0;
}

Test(merkle, node_callback_errors_propagate) {
    uint64_t bad = 1; /* the subtree of leaves 2 and 3 */
    mc_hash root, path[MC_MERKLE_PATH_MAX];
    size_t len;
    cr_assert_eq(mc_merkle_root_nodes(&root, 7, failing_node, &bad), 0); /* 4 + 2 + 1 */
    cr_assert_eq(mc_merkle_inclusion_proof_nodes(path, &len, 0, 4, failing_node, &bad),
                 MC_ERR_IO);
    cr_assert_eq(mc_merkle_consistency_proof_nodes(path, &len, 2, 4, failing_node, &bad),
                 MC_ERR_IO);
    cr_assert_eq(mc_merkle_root_nodes(&root, 6, failing_node, &bad), 0);
    cr_assert_eq(mc_merkle_inclusion_proof_nodes(path, &len, 5, 6, failing_node, &bad), 0);
}
