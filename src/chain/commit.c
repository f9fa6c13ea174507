/* Commit certificates: building, encoding and offline verification. */
#include "chain/commit.h"

#include <string.h>

#include "base/assert.h"
#include "crypto/hash.h"

/* The canonical form (commit.h) of a certificate signed by every validator
 * is the bound decoders apply. */
_Static_assert(MC_COMMIT_BYTES_MAX ==
                   8 + 4 + MC_HASH_BYTES + 2 + MC_VALIDATORS_MAX * (2 + MC_SIG_BYTES),
               "MC_COMMIT_BYTES_MAX is a full certificate");

void mc_commit_init(struct mc_commit *c, uint64_t height, uint32_t round,
                    const mc_hash *block_hash) {
    memset(c, 0, sizeof *c);
    c->height = height;
    c->round = round;
    c->block_hash = *block_hash;
}

int mc_commit_add(struct mc_commit *c, const struct mc_vote *v) {
    if (v->type != MC_VOTE_PRECOMMIT || !v->has_block || v->height != c->height ||
        v->round != c->round || memcmp(v->block_hash.b, c->block_hash.b, 32) != 0)
        return MC_ERR_INVALID;
    if (c->count >= MC_VALIDATORS_MAX) return MC_ERR_FULL;
    uint16_t i = 0;
    while (i < c->count && c->sigs[i].validator < v->validator) i++;
    if (i < c->count && c->sigs[i].validator == v->validator) return MC_ERR_EXISTS;
    memmove(&c->sigs[i + 1], &c->sigs[i], (size_t)(c->count - i) * sizeof c->sigs[0]);
    c->sigs[i].validator = v->validator;
    memcpy(c->sigs[i].sig, v->sig, MC_SIG_BYTES);
    c->count++;
    return 0;
}

void mc_commit_encode(struct mc_buf *b, const struct mc_commit *c) {
    mc_enc_u64(b, c->height);
    mc_enc_u32(b, c->round);
    mc_enc_fixed(b, c->block_hash.b, 32);
    mc_enc_u16(b, c->count);
    for (uint16_t i = 0; i < c->count; i++) {
        mc_enc_u16(b, c->sigs[i].validator);
        mc_enc_fixed(b, c->sigs[i].sig, MC_SIG_BYTES);
    }
}

int mc_commit_decode(struct mc_commit *c, const void *p, size_t len) {
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    memset(c, 0, sizeof *c);
    c->height = mc_dec_u64(&d);
    c->round = mc_dec_u32(&d);
    mc_dec_fixed(&d, c->block_hash.b, 32);
    uint16_t n = mc_dec_u16(&d);
    if (n > MC_VALIDATORS_MAX) return MC_ERR_TOO_LARGE;
    for (uint16_t i = 0; i < n && !d.err; i++) {
        c->sigs[i].validator = mc_dec_u16(&d);
        mc_dec_fixed(&d, c->sigs[i].sig, MC_SIG_BYTES);
        /* strictly increasing: one canonical order, no duplicates */
        if (i > 0 && c->sigs[i].validator <= c->sigs[i - 1].validator)
            mc_dec_fail(&d, MC_ERR_MALFORMED);
    }
    c->count = n;
    return mc_dec_finish(&d);
}

int mc_commit_verify(const struct mc_commit *c, const struct mc_valset *vs, const char *chain_id,
                     uint64_t height, const mc_hash *block_hash) {
    if (c->height != height)
        return mc_err_set(MC_ERR_INVALID, "certificate is for height %llu, expected %llu",
                          (unsigned long long)c->height, (unsigned long long)height);
    if (block_hash && memcmp(c->block_hash.b, block_hash->b, 32) != 0)
        return mc_err_set(MC_ERR_INVALID, "certificate is for another block");
    uint64_t power = 0;
    struct mc_vote v = {.type = MC_VOTE_PRECOMMIT, .height = c->height, .round = c->round,
                        .has_block = true, .block_hash = c->block_hash};
    for (uint16_t i = 0; i < c->count; i++) {
        if (i > 0 && c->sigs[i].validator <= c->sigs[i - 1].validator)
            return mc_err_set(MC_ERR_INVALID, "certificate signatures out of order");
        v.validator = c->sigs[i].validator;
        if (v.validator >= vs->count)
            return mc_err_set(MC_ERR_INVALID, "certificate names validator %u outside the set",
                              v.validator);
        memcpy(v.sig, c->sigs[i].sig, MC_SIG_BYTES);
        if (mc_vote_verify(&v, vs, chain_id) != 0)
            return mc_err_set(MC_ERR_BAD_SIGNATURE, "precommit of validator %u does not verify",
                              v.validator);
        power += vs->v[v.validator].power;
    }
    if (!mc_valset_is_quorum(vs, power))
        return mc_err_set(MC_ERR_INVALID, "certificate holds %llu of %llu voting power, not 2/3+",
                          (unsigned long long)power, (unsigned long long)vs->total_power);
    return 0;
}

void mc_commit_hash(const struct mc_commit *c, mc_hash *out) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_commit_encode(&b, c);
    MC_ASSERT(b.err == 0); /* at most MC_VALIDATORS_MAX votes */
    mc_sha256(out, b.data, b.len);
    mc_buf_deinit(&b);
}
