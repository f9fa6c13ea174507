/* Building, validating and committing blocks against the application.
 *
 * A candidate block is its header and body bytes. Building and validating
 * execute the transactions in the application's block overlay and then
 * discard it, so the committed state never sees a block that was not
 * decided; committing executes the decided block again, checks that it
 * reproduces the header (state hash, log), and writes block, transactions,
 * log leaves and state in one SQL transaction.
 *
 * Validity of block h on top of the chain head (h-1):
 *   - the header decodes, names this chain, height h, the head's hash as
 *     prev, a later time than the head (and not more than 60 s ahead of the
 *     local clock, when a clock is given), the hash of the validator set
 *     of height h (mc_app_valset_at: genesis or governance) and one of its
 *     validators as proposer;
 *   - the body decodes; its transaction count and Merkle root match the
 *     header, and it stays within the ledger's block_txs and block_bytes
 *     parameters; it carries a certificate for h-1 that verifies against
 *     the validator set of h-1 and hashes to the header's last_commit_hash
 *     (none at height 1);
 *   - every transaction verifies and executes, and the state hash and
 *     ledger log after the block equal the header's.
 * All functions run with the node lock held. */
#ifndef MC_NODE_BLOCKEXEC_H
#define MC_NODE_BLOCKEXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"
#include "chain/block.h"
#include "chain/commit.h"
#include "chain/store.h"

/* What the node knows of the latest committed block. */
struct mc_chain_head {
    uint64_t height;          /* 0 before the first block */
    mc_hash hash;             /* genesis hash at height 0 */
    uint64_t time_ms;
    bool has_commit;          /* the certificate of `height` (not at 0) */
    struct mc_commit commit;
};

struct mc_candidate {
    mc_hash hash;
    struct mc_header header;
    struct mc_buf header_bytes;
    struct mc_buf body_bytes;
};

void mc_blockexec_candidate_deinit(struct mc_candidate *c);
/* Copies header and body bytes into c and decodes the header (strictly). */
MC_MUST_CHECK int mc_blockexec_candidate_from_bytes(struct mc_candidate *c, const uint8_t *header,
                                          size_t header_len, const uint8_t *body,
                                          size_t body_len);

/* Asks whether a transaction's signature was already checked (mempool). */
typedef bool (*mc_verified_fn)(void *ctx, const mc_hash *tx_id);

/* Builds block head.height+1 from txs in order; a transaction that fails is
 * left out and reported through rejected(ctx, index, err, reason). */
MC_MUST_CHECK int mc_blockexec_build(struct mc_app *app, const struct mc_genesis *g,
                                 const struct mc_chain_head *head, const mc_pubkey *proposer,
                                 uint64_t time_ms, const struct mc_tx_ref *txs, uint32_t count,
                                 void (*rejected)(void *ctx, uint32_t index, int err,
                                                  const char *reason),
                                 void *ctx, struct mc_candidate *out);

/* Validates a candidate (rules above). now_ms 0 skips the clock check.
 * Returns 0 or an error with the reason in mc_err_detail(). */
MC_MUST_CHECK int mc_blockexec_validate(struct mc_app *app, const struct mc_genesis *g,
                                    const struct mc_chain_head *head,
                                    const struct mc_candidate *c, uint64_t now_ms,
                                    mc_verified_fn verified, void *ctx);

/* Re-executes a decided block and stores it with its certificate; on
 * success head moves to it. A failure here leaves the store at the head
 * (the SQL transaction is rolled back) and is fatal for the node only when
 * the store itself failed (MC_ERR_DB / MC_ERR_IO). */
MC_MUST_CHECK int mc_blockexec_commit(struct mc_store *store, struct mc_app *app,
                                  const struct mc_genesis *g, struct mc_chain_head *head,
                                  const struct mc_candidate *c, const struct mc_commit *cert,
                                  mc_verified_fn verified, void *ctx);

/* Opens the application over the store's state (mc_store_kv) at the
 * store's latest block. On a store without state it first writes the
 * genesis state and records S_0 as meta "genesis_state_hash", both in one
 * SQL transaction; a store with genesis state but no recorded S_0 is
 * MC_ERR_TAMPERED. Draws the state's random overlay hash key. */
MC_MUST_CHECK int mc_blockexec_app_open(struct mc_app **out, struct mc_store *store,
                                        const struct mc_genesis *g);

/* Loads the head from the store (the genesis head on an empty store). */
MC_MUST_CHECK int mc_blockexec_head_load(struct mc_chain_head *head, struct mc_store *store,
                                     const struct mc_genesis *g);

/* Header and body bytes of stored block `height` (for serving peers). */
MC_MUST_CHECK int mc_blockexec_load(struct mc_store *store, uint64_t height, struct mc_buf *header,
                                struct mc_buf *body, struct mc_buf *commit);

#endif
