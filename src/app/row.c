/* State keys and rows (see row.h). */
#include "app/row.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

void mc_key_init(struct mc_key *k, const char *prefix) {
    k->n = 0;
    mc_key_str(k, prefix);
}

void mc_key_add(struct mc_key *k, const void *p, size_t n) {
    MC_ASSERT(k->n + n <= sizeof k->b); /* bounded by construction */
    memcpy(k->b + k->n, p, n);
    k->n += n;
}

void mc_key_str(struct mc_key *k, const char *s) { mc_key_add(k, s, strlen(s)); }
void mc_key_u8(struct mc_key *k, uint8_t v) { mc_key_add(k, &v, 1); }

void mc_key_u32(struct mc_key *k, uint32_t v) {
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    mc_key_add(k, b, 4);
}

void mc_key_u64(struct mc_key *k, uint64_t v) {
    mc_key_u32(k, (uint32_t)(v >> 32));
    mc_key_u32(k, (uint32_t)v);
}

int mc_row_put(struct mc_state *st, const struct mc_key *k, struct mc_buf *v) {
    int rc = v->err ? v->err : mc_state_put(st, k->b, k->n, v->data, v->len);
    mc_buf_deinit(v);
    return rc;
}

int mc_row_get(struct mc_state *st, const struct mc_key *k, struct mc_buf *v) {
    mc_buf_init(v, 0);
    int rc = mc_state_get(st, k->b, k->n, v);
    if (rc) mc_buf_deinit(v);
    return rc;
}

int mc_row_finish(struct mc_dec *d, struct mc_buf *v, const char *what) {
    int rc = mc_dec_finish(d);
    mc_buf_deinit(v);
    return rc ? mc_err_set(MC_ERR_TAMPERED, "%s row does not decode", what) : 0;
}

int mc_row_use_once(struct mc_state *st, const char *prefix, const mc_hash *hash, uint64_t height) {
    struct mc_key k;
    mc_key_init(&k, prefix);
    mc_key_add(&k, hash->b, 32);
    struct mc_buf probe;
    int rc = mc_row_get(st, &k, &probe);
    if (rc == 0) {
        mc_buf_deinit(&probe);
        return mc_err_set(MC_ERR_EXISTS, "this request signature was already used (replay)");
    }
    if (rc != MC_ERR_NOT_FOUND) return rc;
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u64(&v, height);
    return mc_row_put(st, &k, &v);
}
