/* The snapshot codec and its checks (chain/snapshot.h).
 *
 * What a restoring node relies on: a snapshot of a set of rows, cut into
 * chunks, gives back exactly those rows and their state root; any byte
 * changed in a chunk is refused by its hash before it is decoded; a chunk
 * whose hash was made to match (a manifest that lies) is refused by the
 * root; a manifest that does not decode strictly is refused. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/smt.h"
#include "chain/snapshot.h"

struct chunks {
    uint8_t *data[64];
    size_t len[64];
    uint32_t n;
};

static int emit(void *ctx, const uint8_t *chunk, size_t len) {
    struct chunks *c = ctx;
    cr_assert_lt(c->n, 64);
    c->data[c->n] = malloc(len);
    memcpy(c->data[c->n], chunk, len);
    c->len[c->n++] = len;
    return 0;
}

/* rows key "k/<i>" value of vsize bytes; builds chunks and a manifest */
static void build(struct chunks *c, struct mc_snapshot_manifest *m, int rows, size_t vsize) {
    memset(c, 0, sizeof *c);
    struct mc_snapshot_chunker ch;
    mc_snapshot_chunker_init(&ch, emit, c);
    struct mc_smt_change *rs = calloc((size_t)rows, sizeof *rs);
    uint8_t *val = calloc(1, vsize + 1);
    char keys[4096][16];
    int nk = rows;
    /* keys in byte order */
    for (int i = 0; i < nk; i++) snprintf(keys[i], sizeof keys[i], "k/%06d", i);
    for (int i = 0; i < rows; i++) {
        memset(val, 'a' + i % 26, vsize);
        cr_assert_eq(mc_snapshot_chunker_add(&ch, (const uint8_t *)keys[i], strlen(keys[i]), val, vsize), 0);
        mc_sha256(&rs[i].key_hash, keys[i], strlen(keys[i]));
        mc_sha256(&rs[i].value_hash, val, vsize);
        rs[i].present = true;
    }
    cr_assert_eq(mc_snapshot_chunker_finish(&ch), 0);
    mc_snapshot_chunker_deinit(&ch);
    memset(m, 0, sizeof *m);
    m->version = MC_SNAPSHOT_VERSION;
    m->height = 42;
    m->rows = (uint64_t)rows;
    m->chunk_count = c->n;
    m->chunks = calloc(c->n, sizeof *m->chunks);
    for (uint32_t i = 0; i < c->n; i++) mc_sha256(&m->chunks[i], c->data[i], c->len[i]);
    mc_smt_sort(rs, (size_t)rows);
    cr_assert_eq(mc_smt_root_of(rs, (size_t)rows, &m->state_root), 0);
    free(rs);
    free(val);
}

static void chunks_free(struct chunks *c) {
    for (uint32_t i = 0; i < c->n; i++) free(c->data[i]);
}

static int check_all(const struct mc_snapshot_manifest *m, struct chunks *c) {
    struct mc_snapshot_check k;
    mc_snapshot_check_init(&k, m);
    int rc = 0;
    for (uint32_t i = 0; i < c->n && !rc; i++) rc = mc_snapshot_check_add(&k, i, c->data[i], c->len[i]);
    mc_hash root;
    if (!rc) rc = mc_snapshot_check_finish(&k, &root);
    mc_snapshot_check_deinit(&k);
    return rc;
}

Test(snapshot, rows_round_trip_in_bounded_chunks_with_their_root) {
    struct chunks c;
    struct mc_snapshot_manifest m;
    build(&c, &m, 3000, 1000); /* about 3 MB: several chunks */
    cr_assert_gt(c.n, 2);
    for (uint32_t i = 0; i < c.n; i++) cr_assert_leq(c.len[i], MC_SNAPSHOT_CHUNK_MAX);
    cr_assert_eq(check_all(&m, &c), 0);
    /* the manifest round-trips */
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_snapshot_manifest_encode(&b, &m);
    struct mc_snapshot_manifest d;
    cr_assert_eq(mc_snapshot_manifest_decode(&d, b.data, b.len), 0);
    cr_assert_eq(d.height, 42);
    cr_assert_eq(d.chunk_count, m.chunk_count);
    cr_assert_eq(memcmp(d.chunks, m.chunks, 32 * m.chunk_count), 0);
    cr_assert_eq(memcmp(d.state_root.b, m.state_root.b, 32), 0);
    /* strict: a trailing byte, a truncation, another version */
    mc_enc_u8(&b, 0);
    cr_assert_neq(mc_snapshot_manifest_decode(&d, b.data, b.len), 0);
    cr_assert_neq(mc_snapshot_manifest_decode(&d, b.data, b.len - 2), 0);
    b.data[4] = 2;
    cr_assert_neq(mc_snapshot_manifest_decode(&d, b.data, b.len - 1), 0);
    mc_snapshot_manifest_deinit(&d);
    mc_buf_deinit(&b);
    mc_snapshot_manifest_deinit(&m);
    chunks_free(&c);
}

Test(snapshot, a_changed_byte_in_any_chunk_is_refused_by_its_hash) {
    struct chunks c;
    struct mc_snapshot_manifest m;
    build(&c, &m, 2000, 900);
    for (uint32_t i = 0; i < c.n; i++) {
        size_t pos = c.len[i] / 2 + i;
        c.data[i][pos] ^= 1;
        struct mc_snapshot_check k;
        mc_snapshot_check_init(&k, &m);
        int rc = 0;
        for (uint32_t j = 0; j < c.n && !rc; j++) rc = mc_snapshot_check_add(&k, j, c.data[j], c.len[j]);
        cr_assert_eq(rc, MC_ERR_TAMPERED, "chunk %u with a flipped byte is refused", i);
        cr_assert_eq(k.next, i, "the chunks before it were taken, not it");
        /* the good chunk from another peer is then taken */
        c.data[i][pos] ^= 1;
        cr_assert_eq(mc_snapshot_check_add(&k, i, c.data[i], c.len[i]), 0);
        mc_snapshot_check_deinit(&k);
    }
    mc_snapshot_manifest_deinit(&m);
    chunks_free(&c);
}

Test(snapshot, a_manifest_that_lies_about_a_chunk_is_refused_by_the_root) {
    struct chunks c;
    struct mc_snapshot_manifest m;
    build(&c, &m, 500, 100);
    /* change a value byte and make the manifest's chunk hash match it */
    c.data[0][c.len[0] - 1] ^= 0x20;
    mc_sha256(&m.chunks[0], c.data[0], c.len[0]);
    cr_assert_eq(check_all(&m, &c), MC_ERR_TAMPERED);
    c.data[0][c.len[0] - 1] ^= 0x20;
    mc_sha256(&m.chunks[0], c.data[0], c.len[0]);
    cr_assert_eq(check_all(&m, &c), 0);
    /* another root, or another row count */
    m.state_root.b[5] ^= 1;
    cr_assert_eq(check_all(&m, &c), MC_ERR_TAMPERED);
    m.state_root.b[5] ^= 1;
    m.rows++;
    cr_assert_eq(check_all(&m, &c), MC_ERR_TAMPERED);
    m.rows -= 2;
    cr_assert_neq(check_all(&m, &c), 0);
    mc_snapshot_manifest_deinit(&m);
    chunks_free(&c);
}

static int count_row(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
    (void)k, (void)kl, (void)v, (void)vl;
    ++*(int *)ctx;
    return 0;
}

Test(snapshot, chunks_decode_strictly) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_enc_u32(&b, 2);
    mc_enc_bytes16(&b, "b", 1);
    mc_enc_bytes32(&b, "x", 1);
    mc_enc_bytes16(&b, "a", 1); /* out of order */
    mc_enc_bytes32(&b, "y", 1);
    int n = 0;
    cr_assert_eq(mc_snapshot_chunk_decode(b.data, b.len, count_row, &n), MC_ERR_MALFORMED);
    mc_buf_reset(&b);
    mc_enc_u32(&b, 1);
    mc_enc_bytes16(&b, "\0n", 2); /* a tree node's key */
    mc_enc_bytes32(&b, "y", 1);
    cr_assert_eq(mc_snapshot_chunk_decode(b.data, b.len, count_row, &n), MC_ERR_MALFORMED);
    mc_buf_reset(&b);
    mc_enc_u32(&b, 1);
    mc_enc_bytes16(&b, "a", 1);
    mc_enc_bytes32(&b, "y", 1);
    n = 0;
    cr_assert_eq(mc_snapshot_chunk_decode(b.data, b.len, count_row, &n), 0);
    cr_assert_eq(n, 1);
    mc_enc_u8(&b, 0); /* trailing */
    cr_assert_eq(mc_snapshot_chunk_decode(b.data, b.len, count_row, &n), MC_ERR_MALFORMED);
    cr_assert_eq(mc_snapshot_chunk_decode(b.data, 5, count_row, &n), MC_ERR_MALFORMED);
    /* the chunker refuses a node key */
    struct chunks c = {0};
    struct mc_snapshot_chunker ch;
    mc_snapshot_chunker_init(&ch, emit, &c);
    cr_assert_eq(mc_snapshot_chunker_add(&ch, (const uint8_t *)"\0x", 2, (const uint8_t *)"v", 1), MC_ERR_INVALID);
    mc_snapshot_chunker_deinit(&ch);
    mc_buf_deinit(&b);
}
