/* Evidence of equivocation: two votes signed by one validator for the same
 * (height, round, type) but different values (a block hash, another block
 * hash, or nil).
 *
 * Anyone holding the validator set of that height verifies evidence offline;
 * the ledger can record it. There is exactly one encoding per pair: the vote
 * whose signed bytes sort first (memcmp) comes first.
 *
 *   | vote a (MC_VOTE_WIRE_BYTES) | vote b (MC_VOTE_WIRE_BYTES) |
 *
 * with a's signed bytes < b's signed bytes, a.validator == b.validator. */
#ifndef MC_CONSENSUS_EVIDENCE_H
#define MC_CONSENSUS_EVIDENCE_H

#include "base/codec.h"
#include "chain/valset.h"
#include "chain/vote.h"

struct mc_evidence {
    struct mc_vote a;
    struct mc_vote b;
};

#define MC_EVIDENCE_WIRE_BYTES (2 * MC_VOTE_WIRE_BYTES)

/* Builds evidence from two votes in any order, putting them in canonical
 * order. MC_ERR_INVALID if they do not conflict (different validator,
 * height, round or type, or the same value). Signatures are not checked. */
MC_MUST_CHECK int mc_evidence_init(struct mc_evidence *e, const struct mc_vote *x,
                                   const struct mc_vote *y);
/* Checks canonical order, that the votes conflict and that both signatures
 * are the named validator's in vs. MC_ERR_INVALID or MC_ERR_BAD_SIGNATURE. */
MC_MUST_CHECK int mc_evidence_verify(const struct mc_evidence *e, const struct mc_valset *vs,
                                     const char *chain_id);
void mc_evidence_encode(struct mc_buf *b, const struct mc_evidence *e);
/* Strict decode; rejects a non-canonical order or votes that do not
 * conflict (MC_ERR_MALFORMED). Signatures are checked by verify. */
MC_MUST_CHECK int mc_evidence_decode(struct mc_evidence *e, const void *p, size_t len);

#endif
