/* The deterministic ledger application.
 *
 * The application turns committed transactions into state. It is pure: the
 * block height and time come in as inputs, there is no clock, randomness or
 * unordered iteration in anything that reaches the state or its hash.
 *
 * Storage is passed in: the state lives in a key-value store (chain/kv.h)
 * that the caller opens, the chain store's on a node, memory in a test;
 * the caller also says which committed block that state reflects.
 *
 * Block life cycle (mc_app_commit_block writes the block's state in one
 * write batch of the key-value store; a node nests it inside the store's
 * SQL transaction for the block):
 *   mc_app_begin_block(h, time) -> mc_app_deliver(tx)* -> mc_app_end_block()
 *     -> mc_app_commit_block()  or  mc_app_abort_block()
 *
 * mc_app_deliver either applies a transaction completely or not at all and
 * returns an error naming the reason (mc_err_detail()). Committed
 * transactions are appended to the ledger-wide log, whose frontier lives in
 * the state under "m/log". */
#ifndef MC_APP_APP_H
#define MC_APP_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "app/genesis.h"
#include "app/governance.h"
#include "app/identity.h"
#include "app/state.h"
#include "chain/kv.h"
#include "chain/tx.h"
#include "crypto/merkle.h"

/* Context handed to each transaction handler. */
struct mc_exec {
    struct mc_state *st;
    const struct mc_genesis *genesis;
    const char *chain_id;
    uint64_t height;
    uint64_t time_ms;
    const struct mc_tx *tx;
    const uint8_t *tx_bytes;
    size_t tx_len;
    mc_hash tx_id;
    struct mc_account sender; /* loaded and checked before the handler runs */
};

struct mc_app;

/* The last committed block whose state a key-value store holds. */
struct mc_app_tip {
    uint64_t height;   /* 0: only the genesis state */
    uint64_t time_ms;  /* that block's time; the genesis time at height 0 */
    mc_hash state_hash; /* S_height (S_0 from mc_app_write_genesis) */
};

/* Writes the genesis state (organisations, their admins, node accounts,
 * the empty ledger log) into kv in one write batch and gives its state
 * hash S_0. MC_ERR_EXISTS, writing nothing, when kv already holds a
 * genesis state. */
MC_MUST_CHECK int mc_app_write_genesis(struct mc_kv *kv, const struct mc_genesis *g,
                                       mc_hash *state_hash);

/* Opens the application over kv, which holds the state after tip (kv must
 * outlive the application). hash_key is the state's overlay hash key
 * (mc_state_create): random, drawn by the caller. MC_ERR_TAMPERED when the
 * state lacks the ledger log. */
MC_MUST_CHECK int mc_app_open(struct mc_app **out, struct mc_kv *kv, const struct mc_genesis *g,
                              const struct mc_app_tip *tip,
                              const uint8_t hash_key[MC_STATE_HASH_KEY_BYTES]);
void mc_app_close(struct mc_app *app);

const struct mc_genesis *mc_app_genesis(const struct mc_app *app);
struct mc_state *mc_app_state(struct mc_app *app);
/* Last committed height and its state hash / log. */
uint64_t mc_app_height(const struct mc_app *app);
void mc_app_state_hash(const struct mc_app *app, mc_hash *out);
void mc_app_log(const struct mc_app *app, uint64_t *size, mc_hash *root);
/* The ledger log's frontier as the state in kv holds it (a state restored
 * from a snapshot seeds the store's log with it). */
struct mc_merkle_frontier;
MC_MUST_CHECK int mc_app_log_frontier(struct mc_kv *kv, struct mc_merkle_frontier *f);

/* The validator set of `height` (governance.h) from committed state: the
 * set that proposes, votes on and certifies that block. Valid for heights
 * up to mc_app_height() + MC_GOV_VALSET_LEAD. */
MC_MUST_CHECK int mc_app_valset_at(struct mc_app *app, uint64_t height, struct mc_gov_valset *out);
/* A ledger parameter now (governance.h, mc_governance_param). */
MC_MUST_CHECK int mc_app_param(struct mc_app *app, uint8_t param, uint64_t *value);

/* Stateless checks: chain id, known type, payload size, signature (when
 * verify_sig). */
MC_MUST_CHECK int mc_app_check_envelope(const struct mc_app *app, const struct mc_tx *tx,
                                        const uint8_t *bytes, size_t len, bool verify_sig);
/* Stateful admission check against committed state, without writing:
 * sender known and active, nonce not already used; *next_nonce receives the
 * next nonce the ledger expects from the sender. Runs the handler in a
 * throw-away overlay so a transaction that would fail is refused now. Only
 * valid between blocks (not while a block is open). */
MC_MUST_CHECK int mc_app_check_tx(struct mc_app *app, const struct mc_tx *tx,
                                  const uint8_t *bytes, size_t len, uint64_t *next_nonce);

MC_MUST_CHECK int mc_app_begin_block(struct mc_app *app, uint64_t height, uint64_t time_ms);
MC_MUST_CHECK int mc_app_deliver(struct mc_app *app, const uint8_t *bytes, size_t len,
                                 bool verify_sig);
/* Finishes the block: computes the state root and the log after it.
 * Fails (MC_ERR_TAMPERED, MC_ERR_DB ...) only when the stored state tree
 * cannot be read; the block must then be aborted. */
MC_MUST_CHECK int mc_app_end_block(struct mc_app *app, mc_hash *state_hash, uint64_t *log_size,
                                   mc_hash *log_root);
/* Writes the block's state to the key-value store in one write batch. */
MC_MUST_CHECK int mc_app_commit_block(struct mc_app *app);
void mc_app_abort_block(struct mc_app *app);

#endif
