/* Validator set encoding, lookup and quorum arithmetic. */
#include "chain/valset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

int mc_valset_add(struct mc_valset *vs, const mc_pubkey *pk, uint64_t power, const char *name) {
    if (vs->count >= MC_VALIDATORS_MAX) return MC_ERR_FULL;
    if (power == 0 || power > UINT64_MAX / 4 - vs->total_power) return MC_ERR_INVALID;
    if (strlen(name) >= MC_NAME_MAX) return MC_ERR_TOO_LARGE;
    if (mc_valset_find(vs, pk) >= 0) return MC_ERR_EXISTS;
    struct mc_validator *v = &vs->v[vs->count++];
    v->pk = *pk;
    v->power = power;
    snprintf(v->name, sizeof v->name, "%s", name);
    vs->total_power += power;
    return 0;
}

int mc_valset_find(const struct mc_valset *vs, const mc_pubkey *pk) {
    for (uint32_t i = 0; i < vs->count; i++)
        if (memcmp(vs->v[i].pk.b, pk->b, MC_PUBKEY_BYTES) == 0) return (int)i;
    return -1;
}

void mc_valset_encode(struct mc_buf *b, const struct mc_valset *vs) {
    mc_enc_u16(b, (uint16_t)vs->count);
    for (uint32_t i = 0; i < vs->count; i++) {
        mc_enc_fixed(b, vs->v[i].pk.b, MC_PUBKEY_BYTES);
        mc_enc_u64(b, vs->v[i].power);
        mc_enc_str8(b, vs->v[i].name);
    }
}

int mc_valset_decode(struct mc_valset *vs, const void *p, size_t len) {
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    memset(vs, 0, sizeof *vs);
    uint16_t n = mc_dec_u16(&d);
    if (n > MC_VALIDATORS_MAX) return MC_ERR_TOO_LARGE;
    for (uint16_t i = 0; i < n && !d.err; i++) {
        mc_pubkey pk;
        char name[MC_NAME_MAX];
        mc_dec_fixed(&d, pk.b, MC_PUBKEY_BYTES);
        uint64_t power = mc_dec_u64(&d);
        mc_dec_str8(&d, name, sizeof name);
        if (d.err) break;
        int rc = mc_valset_add(vs, &pk, power, name);
        if (rc) return rc == MC_ERR_EXISTS ? MC_ERR_INVALID : rc;
    }
    return mc_dec_finish(&d);
}

void mc_valset_hash(const struct mc_valset *vs, mc_hash *out) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_valset_encode(&b, vs);
    MC_ASSERT(b.err == 0); /* at most MC_VALIDATORS_MAX fixed-size entries */
    mc_sha256(out, b.data, b.len);
    mc_buf_deinit(&b);
}

bool mc_valset_is_quorum(const struct mc_valset *vs, uint64_t power) {
    /* power > 2/3 total, in integers (total is bounded well below 2^62). */
    return power * 3 > vs->total_power * 2;
}
