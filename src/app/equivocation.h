/* Evidence of equivocation recorded on the ledger.
 *
 * A node (role node) submits the evidence its consensus engine produced:
 * payload = the evidence's canonical form (consensus/evidence.h). The
 * ledger checks both votes against the genesis validator set and records
 *
 *   "ev/" || SHA-256(evidence) -> | u16 validator | pubkey validator |
 *                                 | u64 height | u32 round | u8 vote type |
 *                                 | pubkey reporter | u64 recorded at height |
 *
 * once; the same evidence again is refused (MC_ERR_EXISTS). */
#ifndef MC_APP_EQUIVOCATION_H
#define MC_APP_EQUIVOCATION_H

#include "app/app.h"

MC_MUST_CHECK int mc_equivocation_execute(struct mc_exec *ex);

struct mc_equivocation_record {
    uint16_t validator;
    mc_pubkey validator_key;
    uint64_t height;
    uint32_t round;
    uint8_t type;
    mc_pubkey reporter;
    uint64_t recorded_height;
};

/* Calls fn for every recorded evidence in key order (committed state). */
MC_MUST_CHECK int mc_equivocation_list(struct mc_state *st,
                                   int (*fn)(void *ctx, const struct mc_equivocation_record *r),
                                   void *ctx);

#endif
