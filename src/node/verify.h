/* Full-chain verification of a node's files (`medchain verify`).
 *
 * Re-checks everything on disk from genesis: every header decodes and hashes
 * to its stored hash, every prev link, every certificate (against the
 * validator set), the previous certificate each block carries, every
 * transaction's id, signature and Merkle root, every ledger log leaf and
 * the log size/root of each header, and every cached perfect-subtree hash
 * of the log (the log_nodes table proofs are served from) against the
 * leaves; re-executes the application from
 * genesis into a scratch database and compares each header's state hash,
 * and at the end compares the scratch state with the stored state row by
 * row. Stops at the first mismatch and reports its height and object. */
#ifndef MC_NODE_VERIFY_H
#define MC_NODE_VERIFY_H

#include <stdint.h>

#include "app/genesis.h"
#include "chain/store.h"

struct mc_verify_report {
    uint64_t heights_checked;
    uint64_t txs_checked;
    uint64_t state_rows_checked;
    uint64_t log_nodes_checked; /* cached subtree hashes recomputed from leaves */
    /* A state-synced store holds no block below this height (0: checked
     * from genesis): its blocks are checked from there (that block's header
     * and certificate, then each later block), its state against the
     * latest header's state root, and the log's cached subtrees not at all
     * (their leaves below the snapshot are not held). */
    uint64_t from_height;
    int ok;                 /* 1 when everything matched */
    uint64_t bad_height;    /* first height that failed (0: genesis/state) */
    char object[64];        /* "header", "certificate", "tx 3", "state row", ... */
    char detail[512];       /* what did not match */
};

/* Verifies the store against genesis. Returns 0 when verification ran (see
 * report->ok for the verdict) or an error if it could not run at all. */
MC_MUST_CHECK int mc_verify_chain(struct mc_store *store, const struct mc_genesis *g,
                                  struct mc_verify_report *report);

struct mc_node;
/* Verifies a running node's own chain (GET /v1/verify): opens its database
 * read-only on a second connection and runs mc_verify_chain inside one read
 * transaction, so blocks committed meanwhile are not seen half-way (WAL
 * gives the snapshot); the node lock is not taken. *height is the chain
 * height the snapshot holds. Errors: MC_ERR_STATE (the node has no files),
 * MC_ERR_TOO_LARGE (home path), the store's errors; detail in
 * mc_err_detail(). */
MC_MUST_CHECK int mc_verify_node(struct mc_node *n, struct mc_verify_report *report,
                                 uint64_t *height);

#endif
