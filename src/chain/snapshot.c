/* Snapshot manifest and chunk codec and checks (formats in snapshot.h). */
#include "chain/snapshot.h"

#include "base/assert.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t MAGIC[4] = {'M', 'C', 'S', 'N'};

void mc_snapshot_manifest_deinit(struct mc_snapshot_manifest *m) {
    free(m->chunks);
    memset(m, 0, sizeof *m);
}

void mc_snapshot_manifest_encode(struct mc_buf *b, const struct mc_snapshot_manifest *m) {
    mc_enc_fixed(b, MAGIC, 4);
    mc_enc_u8(b, m->version);
    mc_enc_u64(b, m->height);
    mc_enc_fixed(b, m->block_hash.b, 32);
    mc_enc_fixed(b, m->state_root.b, 32);
    mc_enc_u64(b, m->rows);
    mc_enc_u32(b, m->chunk_count);
    for (uint32_t i = 0; i < m->chunk_count; i++) mc_enc_fixed(b, m->chunks[i].b, 32);
}

int mc_snapshot_manifest_decode(struct mc_snapshot_manifest *m, const void *p, size_t len) {
    memset(m, 0, sizeof *m);
    if (len > MC_SNAPSHOT_MANIFEST_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "a snapshot manifest of %zu bytes is over the limit", len);
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    uint8_t magic[4];
    mc_dec_fixed(&d, magic, 4);
    m->version = mc_dec_u8(&d);
    m->height = mc_dec_u64(&d);
    mc_dec_fixed(&d, m->block_hash.b, 32);
    mc_dec_fixed(&d, m->state_root.b, 32);
    m->rows = mc_dec_u64(&d);
    m->chunk_count = mc_dec_u32(&d);
    if (d.err) return mc_err_set(MC_ERR_MALFORMED, "the snapshot manifest is truncated");
    if (memcmp(magic, MAGIC, 4) || m->version != MC_SNAPSHOT_VERSION)
        return mc_err_set(MC_ERR_MALFORMED, "not a snapshot manifest of version %d", MC_SNAPSHOT_VERSION);
    if (m->height == 0 || m->chunk_count == 0 || m->chunk_count > MC_SNAPSHOT_CHUNKS_MAX ||
        m->rows < m->chunk_count || m->rows > MC_SNAPSHOT_ROWS_MAX)
        return mc_err_set(MC_ERR_MALFORMED, "the snapshot manifest's height or counts are out of bounds");
    if ((size_t)m->chunk_count * 32 != d.len - d.pos)
        return mc_err_set(MC_ERR_MALFORMED, "the snapshot manifest does not hold its %u chunk hashes",
                          m->chunk_count);
    m->chunks = malloc((size_t)m->chunk_count * sizeof *m->chunks);
    if (!m->chunks) return MC_ERR_NOMEM;
    for (uint32_t i = 0; i < m->chunk_count; i++) mc_dec_fixed(&d, m->chunks[i].b, 32);
    int rc = mc_dec_finish(&d);
    if (rc) {
        mc_snapshot_manifest_deinit(m);
        return mc_err_set(MC_ERR_MALFORMED, "the snapshot manifest does not decode");
    }
    return 0;
}

void mc_snapshot_manifest_id(const struct mc_snapshot_manifest *m, mc_hash *id) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_snapshot_manifest_encode(&b, m);
    mc_sha256(id, b.data, b.len);
    mc_buf_deinit(&b);
}

/* ---- chunker ---- */

void mc_snapshot_chunker_init(struct mc_snapshot_chunker *c, mc_snapshot_emit_fn emit, void *ctx) {
    memset(c, 0, sizeof *c);
    mc_buf_init(&c->buf, MC_SNAPSHOT_CHUNK_MAX);
    c->emit = emit;
    c->ctx = ctx;
}

void mc_snapshot_chunker_deinit(struct mc_snapshot_chunker *c) { mc_buf_deinit(&c->buf); }

static int chunker_flush(struct mc_snapshot_chunker *c) {
    if (c->count == 0) return 0;
    MC_ASSERT(c->buf.len >= 4 && c->buf.len <= MC_SNAPSHOT_CHUNK_MAX);
    c->buf.data[0] = (uint8_t)(c->count >> 24);
    c->buf.data[1] = (uint8_t)(c->count >> 16);
    c->buf.data[2] = (uint8_t)(c->count >> 8);
    c->buf.data[3] = (uint8_t)c->count;
    int rc = c->emit(c->ctx, c->buf.data, c->buf.len);
    mc_buf_reset(&c->buf);
    c->count = 0;
    return rc;
}

int mc_snapshot_chunker_add(struct mc_snapshot_chunker *c, const uint8_t *key, size_t klen,
                            const uint8_t *value, size_t vlen) {
    if (klen == 0 || klen > MC_STATE_KEY_MAX || vlen > MC_STATE_VALUE_MAX || key[0] == MC_SMT_KEY_PREFIX)
        return mc_err_set(MC_ERR_INVALID, "a state row of key %zu and value %zu bytes cannot go into a snapshot",
                          klen, vlen);
    size_t need = 2 + klen + 4 + vlen;
    if (c->count > 0 && c->buf.len + need > MC_SNAPSHOT_CHUNK_MAX) {
        int rc = chunker_flush(c);
        if (rc) return rc;
    }
    if (c->count == 0) mc_enc_u32(&c->buf, 0); /* patched at flush */
    mc_enc_bytes16(&c->buf, key, klen);
    mc_enc_bytes32(&c->buf, value, vlen);
    if (c->buf.err) return c->buf.err;
    c->count++;
    c->rows++;
    return 0;
}

int mc_snapshot_chunker_finish(struct mc_snapshot_chunker *c) { return chunker_flush(c); }

/* ---- decoding and checks ---- */

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

int mc_snapshot_chunk_decode(const uint8_t *chunk, size_t len, mc_kv_row_fn fn, void *ctx) {
    if (len > MC_SNAPSHOT_CHUNK_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "a snapshot chunk of %zu bytes is over the limit", len);
    struct mc_dec d;
    mc_dec_init(&d, chunk, len);
    uint32_t count = mc_dec_u32(&d);
    if (d.err || count == 0 || count > len / 7)
        return mc_err_set(MC_ERR_MALFORMED, "the snapshot chunk's row count is out of bounds");
    const uint8_t *prev = NULL;
    size_t prev_len = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t kl = 0, vl = 0;
        const uint8_t *k = mc_dec_bytes16(&d, &kl, MC_STATE_KEY_MAX);
        const uint8_t *v = mc_dec_bytes32(&d, &vl, MC_STATE_VALUE_MAX);
        if (d.err || !k || kl == 0)
            return mc_err_set(MC_ERR_MALFORMED, "row %u of the snapshot chunk does not decode", i);
        if (k[0] == MC_SMT_KEY_PREFIX)
            return mc_err_set(MC_ERR_MALFORMED, "row %u of the snapshot chunk has a tree node's key", i);
        if (prev && key_cmp(prev, prev_len, k, kl) >= 0)
            return mc_err_set(MC_ERR_MALFORMED, "the snapshot chunk's keys are not in increasing order");
        prev = k;
        prev_len = kl;
        int rc = fn(ctx, k, kl, v ? v : (const uint8_t *)"", vl);
        if (rc < 0) return rc;
    }
    if (mc_dec_finish(&d)) return mc_err_set(MC_ERR_MALFORMED, "the snapshot chunk has trailing bytes");
    return 0;
}

void mc_snapshot_check_init(struct mc_snapshot_check *k, const struct mc_snapshot_manifest *m) {
    memset(k, 0, sizeof *k);
    k->m = m;
}

void mc_snapshot_check_deinit(struct mc_snapshot_check *k) {
    free(k->rows);
    memset(k, 0, sizeof *k);
}

int mc_snapshot_check_chunk(const struct mc_snapshot_manifest *m, uint32_t index, const uint8_t *chunk,
                            size_t len) {
    if (index >= m->chunk_count)
        return mc_err_set(MC_ERR_INVALID, "the snapshot has no chunk %u", index);
    if (len > MC_SNAPSHOT_CHUNK_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "snapshot chunk %u is over the size limit", index);
    mc_hash h;
    mc_sha256(&h, chunk, len);
    if (memcmp(h.b, m->chunks[index].b, 32))
        return mc_err_set(MC_ERR_TAMPERED, "snapshot chunk %u does not hash to the manifest's hash", index);
    return 0;
}

struct add_ctx {
    struct mc_snapshot_check *k;
    size_t start;
    bool first;
};

static int add_row(void *ctx, const uint8_t *key, size_t kl, const uint8_t *value, size_t vl) {
    struct add_ctx *a = ctx;
    struct mc_snapshot_check *k = a->k;
    if (a->first && k->last_len && key_cmp(k->last_key, k->last_len, key, kl) >= 0)
        return mc_err_set(MC_ERR_MALFORMED, "the snapshot's keys do not increase across chunks");
    a->first = false;
    if (k->n >= k->m->rows)
        return mc_err_set(MC_ERR_TOO_LARGE, "the snapshot holds more rows than its manifest's %llu",
                          (unsigned long long)k->m->rows);
    if (k->n == k->cap) {
        size_t nc = k->cap ? k->cap * 2 : 1024;
        if (nc > k->m->rows) nc = (size_t)k->m->rows;
        struct mc_smt_change *r = realloc(k->rows, nc * sizeof *r);
        if (!r) return MC_ERR_NOMEM;
        k->rows = r;
        k->cap = nc;
    }
    struct mc_smt_change *c = &k->rows[k->n++];
    mc_sha256(&c->key_hash, key, kl);
    mc_sha256(&c->value_hash, value, vl);
    c->present = true;
    memcpy(k->last_key, key, kl);
    k->last_len = kl;
    return 0;
}

int mc_snapshot_check_add(struct mc_snapshot_check *k, uint32_t index, const uint8_t *chunk, size_t len) {
    if (index != k->next)
        return mc_err_set(MC_ERR_INVALID, "snapshot chunk %u added out of order (%u expected)", index, k->next);
    int rc = mc_snapshot_check_chunk(k->m, index, chunk, len);
    if (rc) return rc;
    uint8_t saved_key[MC_STATE_KEY_MAX];
    size_t saved_len = k->last_len, saved_n = k->n;
    memcpy(saved_key, k->last_key, saved_len);
    struct add_ctx a = {k, k->n, true};
    rc = mc_snapshot_chunk_decode(chunk, len, add_row, &a);
    if (rc) {
        k->n = saved_n;
        memcpy(k->last_key, saved_key, saved_len);
        k->last_len = saved_len;
        return rc;
    }
    k->next++;
    return 0;
}

int mc_snapshot_check_finish(struct mc_snapshot_check *k, mc_hash *root) {
    if (k->next != k->m->chunk_count)
        return mc_err_set(MC_ERR_INVALID, "the snapshot lacks chunks (%u of %u)", k->next, k->m->chunk_count);
    if (k->n != k->m->rows)
        return mc_err_set(MC_ERR_TAMPERED, "the snapshot holds %zu rows, its manifest says %llu", k->n,
                          (unsigned long long)k->m->rows);
    mc_smt_sort(k->rows, k->n);
    int rc = mc_smt_root_of(k->rows, k->n, root);
    if (rc) return mc_err_set(MC_ERR_TAMPERED, "two rows of the snapshot share a key hash");
    if (memcmp(root->b, k->m->state_root.b, 32))
        return mc_err_set(MC_ERR_TAMPERED, "the snapshot's rows do not hash to its manifest's state root");
    return 0;
}
