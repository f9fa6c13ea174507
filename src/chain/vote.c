/* Vote encoding and signatures. */
#include "chain/vote.h"

#include <string.h>

void mc_vote_signed_bytes(uint8_t out[MC_VOTE_SIGNED_BYTES], const struct mc_vote *v) {
    size_t n = 0;
    out[n++] = v->type;
    for (int i = 7; i >= 0; i--) out[n++] = (uint8_t)(v->height >> (8 * i));
    for (int i = 3; i >= 0; i--) out[n++] = (uint8_t)(v->round >> (8 * i));
    out[n++] = v->has_block ? 1 : 0;
    if (v->has_block) memcpy(out + n, v->block_hash.b, 32);
    else memset(out + n, 0, 32);
}

void mc_vote_sign(struct mc_vote *v, const struct mc_keypair *kp, const char *chain_id) {
    uint8_t m[MC_VOTE_SIGNED_BYTES];
    mc_vote_signed_bytes(m, v);
    mc_sign(v->sig, kp, MC_SIGN_VOTE, chain_id, m, sizeof m);
}

int mc_vote_verify(const struct mc_vote *v, const struct mc_valset *vs, const char *chain_id) {
    if (v->validator >= vs->count) return MC_ERR_INVALID;
    if (v->type != MC_VOTE_PREVOTE && v->type != MC_VOTE_PRECOMMIT) return MC_ERR_INVALID;
    uint8_t m[MC_VOTE_SIGNED_BYTES];
    mc_vote_signed_bytes(m, v);
    return mc_sign_verify(v->sig, &vs->v[v->validator].pk, MC_SIGN_VOTE, chain_id, m, sizeof m);
}

void mc_vote_encode(struct mc_buf *b, const struct mc_vote *v) {
    uint8_t m[MC_VOTE_SIGNED_BYTES];
    mc_vote_signed_bytes(m, v);
    mc_enc_fixed(b, m, sizeof m);
    mc_enc_u16(b, v->validator);
    mc_enc_fixed(b, v->sig, MC_SIG_BYTES);
}

void mc_vote_decode_from(struct mc_dec *d, struct mc_vote *v) {
    memset(v, 0, sizeof *v);
    v->type = mc_dec_u8(d);
    if (v->type != MC_VOTE_PREVOTE && v->type != MC_VOTE_PRECOMMIT) mc_dec_fail(d, MC_ERR_MALFORMED);
    v->height = mc_dec_u64(d);
    v->round = mc_dec_u32(d);
    v->has_block = mc_dec_bool(d);
    mc_dec_fixed(d, v->block_hash.b, 32);
    if (!v->has_block) {
        static const uint8_t zero[32];
        if (memcmp(v->block_hash.b, zero, 32) != 0) mc_dec_fail(d, MC_ERR_MALFORMED);
    }
    v->validator = mc_dec_u16(d);
    mc_dec_fixed(d, v->sig, MC_SIG_BYTES);
}

int mc_vote_decode(struct mc_vote *v, const void *p, size_t len) {
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    mc_vote_decode_from(&d, v);
    return mc_dec_finish(&d);
}
