/* Equivocation evidence (format in evidence.h). */
#include "consensus/evidence.h"

#include <string.h>

/* -1, 0, 1 like memcmp, over the signed bytes of two votes. */
static int order(const struct mc_vote *x, const struct mc_vote *y) {
    uint8_t mx[MC_VOTE_SIGNED_BYTES], my[MC_VOTE_SIGNED_BYTES];
    mc_vote_signed_bytes(mx, x);
    mc_vote_signed_bytes(my, y);
    return memcmp(mx, my, sizeof mx);
}

static bool conflicting(const struct mc_vote *x, const struct mc_vote *y) {
    if (x->validator != y->validator || x->height != y->height || x->round != y->round ||
        x->type != y->type)
        return false;
    return order(x, y) != 0; /* same slot, different value (signed bytes differ) */
}

int mc_evidence_init(struct mc_evidence *e, const struct mc_vote *x, const struct mc_vote *y) {
    if (!conflicting(x, y)) return MC_ERR_INVALID;
    if (order(x, y) < 0) {
        e->a = *x;
        e->b = *y;
    } else {
        e->a = *y;
        e->b = *x;
    }
    return 0;
}

int mc_evidence_verify(const struct mc_evidence *e, const struct mc_valset *vs,
                       const char *chain_id) {
    if (!conflicting(&e->a, &e->b) || order(&e->a, &e->b) >= 0)
        return mc_err_set(MC_ERR_INVALID, "evidence votes do not conflict or are out of order");
    int rc = mc_vote_verify(&e->a, vs, chain_id);
    if (rc == 0) rc = mc_vote_verify(&e->b, vs, chain_id);
    if (rc) return mc_err_set(rc, "evidence vote of validator %u does not verify", e->a.validator);
    return 0;
}

void mc_evidence_encode(struct mc_buf *b, const struct mc_evidence *e) {
    mc_vote_encode(b, &e->a);
    mc_vote_encode(b, &e->b);
}

int mc_evidence_decode(struct mc_evidence *e, const void *p, size_t len) {
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    memset(e, 0, sizeof *e);
    mc_vote_decode_from(&d, &e->a);
    mc_vote_decode_from(&d, &e->b);
    int rc = mc_dec_finish(&d);
    if (rc == 0 && (!conflicting(&e->a, &e->b) || order(&e->a, &e->b) >= 0)) rc = MC_ERR_MALFORMED;
    if (rc) memset(e, 0, sizeof *e);
    return rc;
}
