/* Proposal encoding and signatures (layout in proposal.h). */
#include "consensus/proposal.h"

#include "base/assert.h"

#include <stdlib.h>
#include <string.h>

static void put_be(uint8_t *out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) out[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

void mc_proposal_signed_bytes(uint8_t out[MC_PROPOSAL_SIGNED_BYTES], const struct mc_proposal *p) {
    MC_ASSERT(p->has_pol_round || p->pol_round == 0); /* misuse: non-canonical */
    size_t n = 0;
    put_be(out + n, p->height, 8);
    n += 8;
    put_be(out + n, p->round, 4);
    n += 4;
    out[n++] = p->has_pol_round ? 1 : 0;
    put_be(out + n, p->pol_round, 4);
    n += 4;
    memcpy(out + n, p->block_hash.b, MC_HASH_BYTES);
    n += MC_HASH_BYTES;
    put_be(out + n, p->proposer, 2);
    n += 2;
    MC_ASSERT(n == MC_PROPOSAL_SIGNED_BYTES);
}

void mc_proposal_sign(struct mc_proposal *p, const struct mc_keypair *kp, const char *chain_id) {
    uint8_t m[MC_PROPOSAL_SIGNED_BYTES];
    mc_proposal_signed_bytes(m, p);
    mc_sign(p->sig, kp, MC_SIGN_PROPOSAL, chain_id, m, sizeof m);
}

int mc_proposal_verify(const struct mc_proposal *p, const struct mc_valset *vs,
                       const char *chain_id) {
    if (p->proposer >= vs->count) return MC_ERR_INVALID;
    if (!p->has_pol_round && p->pol_round != 0) return MC_ERR_INVALID;
    if (p->has_pol_round && p->pol_round >= p->round) return MC_ERR_INVALID;
    uint8_t m[MC_PROPOSAL_SIGNED_BYTES];
    mc_proposal_signed_bytes(m, p);
    return mc_sign_verify(p->sig, &vs->v[p->proposer].pk, MC_SIGN_PROPOSAL, chain_id, m, sizeof m);
}

void mc_proposal_encode(struct mc_buf *b, const struct mc_proposal *p) {
    uint8_t m[MC_PROPOSAL_SIGNED_BYTES];
    mc_proposal_signed_bytes(m, p);
    mc_enc_fixed(b, m, sizeof m);
    mc_enc_fixed(b, p->sig, MC_SIG_BYTES);
}

int mc_proposal_decode(struct mc_proposal *p, const void *bytes, size_t len) {
    struct mc_dec d;
    mc_dec_init(&d, bytes, len);
    memset(p, 0, sizeof *p);
    p->height = mc_dec_u64(&d);
    p->round = mc_dec_u32(&d);
    p->has_pol_round = mc_dec_bool(&d);
    p->pol_round = mc_dec_u32(&d);
    mc_dec_fixed(&d, p->block_hash.b, MC_HASH_BYTES);
    p->proposer = mc_dec_u16(&d);
    mc_dec_fixed(&d, p->sig, MC_SIG_BYTES);
    if (!d.err) {
        if (!p->has_pol_round && p->pol_round != 0) mc_dec_fail(&d, MC_ERR_MALFORMED);
        if (p->has_pol_round && p->pol_round >= p->round) mc_dec_fail(&d, MC_ERR_MALFORMED);
    }
    int rc = mc_dec_finish(&d);
    if (rc) memset(p, 0, sizeof *p);
    return rc;
}
