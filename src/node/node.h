/* The running node: home folder, store, application, mempool and the block
 * producer, with a thread-safe interface for the HTTP API.
 *
 * Home folder layout (written by mc_node_init_home):
 *   DIR/genesis.json        the consortium's genesis
 *   DIR/node_key.json       this node's Ed25519 key (0600)
 *   DIR/admin_key.json      the genesis organisation's admin key (init only)
 *   DIR/config.json         {"api": "127.0.0.1:7700", "block_interval_ms": 100}
 *   DIR/data/chain.db       the SQLite store
 *   DIR/data/mempool.journal  pending transactions, replayed at start
 *
 * Threads: mc_node_run drives block production on the calling thread (a
 * libuv loop with a timer); the HTTP server's threads call the mc_node_*
 * query and submit functions, which take the node lock around store access.
 * Signature checks of submitted transactions run outside the lock so they
 * use every core. */
#ifndef MC_NODE_NODE_H
#define MC_NODE_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"
#include "base/codec.h"
#include "chain/store.h"
#include "crypto/hash.h"

struct mc_node;

struct mc_init_options {
    const char *home;
    const char *chain_id;      /* default "medchain-local" */
    const char *org_name;      /* default "Local Hospital" */
    const char *org_kind;      /* default "hospital" */
    const char *gln;           /* optional, 13 digits */
    const char *api;           /* default "127.0.0.1:7700" */
    const char *passphrase;    /* protects the admin key when set */
    uint64_t genesis_time_ms;  /* 0: now */
};

/* Reads and parses a genesis file (at most MC_GENESIS_MAX bytes); the
 * application only ever sees the parsed struct (mc_genesis_parse). */
MC_MUST_CHECK int mc_node_genesis_load(struct mc_genesis *g, const char *path);

/* Creates a single-validator home folder. Prints nothing; paths are
 * derivable from home. MC_ERR_EXISTS if genesis.json is already there. */
MC_MUST_CHECK int mc_node_init_home(const struct mc_init_options *opt);

/* Opens a node from its home folder. */
MC_MUST_CHECK int mc_node_open(struct mc_node **out, const char *home);
void mc_node_close(struct mc_node *n);

/* Produces blocks until SIGINT or SIGTERM (or mc_node_stop). Returns 0 on a
 * clean stop. The node layer does not serve HTTP (api/ sits below node/ in
 * the layering): the `medchain node` command starts the API with
 * mc_api_start(node, host, port) before calling this, using
 * mc_node_api_addr() unless --api overrides it, and stops it after. */
MC_MUST_CHECK int mc_node_run(struct mc_node *n);
/* Cuts a block from the pending transactions now (what the timer does).
 * For tests and tools that drive a node without its event loop. */
MC_MUST_CHECK int mc_node_commit_pending(struct mc_node *n);
/* Asks a running node to stop (async-signal-safe). */
void mc_node_stop(struct mc_node *n);
/* The API address from config.json ("127.0.0.1:7700"). */
const char *mc_node_api_addr(const struct mc_node *n);
/* The authorities (host:port, comma-separated) config.json's "api_hosts"
 * names for this node: a signed request must address one of them. "" when
 * not configured (then the API's own bind address and port decide). */
const char *mc_node_api_hosts(const struct mc_node *n);
/* The node's home folder. */
const char *mc_node_home(const struct mc_node *n);
/* How long a Bulk Data export's output files stay (config.json
 * "bulk_output_ttl_s", 1 to MC_BULK_TTL_S_MAX; default MC_BULK_TTL_S_DEFAULT). */
uint32_t mc_node_bulk_ttl_s(const struct mc_node *n);

/* --- thread-safe interface used by the API --- */

enum mc_tx_state { MC_TX_UNKNOWN = 0, MC_TX_PENDING, MC_TX_COMMITTED, MC_TX_REJECTED };

struct mc_tx_status {
    enum mc_tx_state state;
    uint64_t height;       /* committed: block height */
    uint32_t index;        /* committed: position in the block */
    uint64_t log_index;    /* committed: position in the ledger log */
    int err;               /* rejected: error code */
    char reason[256];      /* rejected: why */
};

/* Verifies and admits a transaction to the mempool (and its journal, so it
 * survives a restart). On refusal returns the error code with the reason in
 * mc_err_detail() (this thread). A verbatim resubmission of a pending or
 * committed transaction returns MC_ERR_EXISTS. A nonce ahead of the
 * sender's next one (counting its pending transactions) is admitted to the
 * gap queue: pending, not yet executable, dropped and reported as rejected
 * after mempool_gap_ms (config.json, default 30 s) unless the gap closes. */
MC_MUST_CHECK int mc_node_submit(struct mc_node *n, const uint8_t *bytes, size_t len,
                                 mc_hash *id_out);
/* Status of a transaction; its bytes appended to tx_bytes when known. */
MC_MUST_CHECK int mc_node_tx_status(struct mc_node *n, const mc_hash *id,
                                    struct mc_tx_status *out, struct mc_buf *tx_bytes);

struct mc_node_status {
    char chain_id[MC_CHAIN_ID_MAX + 1];
    uint64_t height;
    mc_hash latest_hash;
    uint64_t latest_time_ms;
    uint32_t peers;
    bool is_validator;
    mc_pubkey node_key;
    uint32_t mempool_size;
    uint64_t log_size;
    mc_hash log_root;
    uint64_t txs_committed;
    uint64_t state_synced_from;   /* the height state sync restored (0: none) */
};
void mc_node_status(struct mc_node *n, struct mc_node_status *out);

/* Runs fn with the node lock held and the store and app available, for
 * read-only queries (blocks, proofs, accounts), and returns fn's result.
 * fn must not write and must not call other mc_node_* functions (the lock
 * is not recursive). */
MC_MUST_CHECK int mc_node_query(struct mc_node *n, int (*fn)(void *ctx, struct mc_store *store,
                                                              struct mc_app *app),
                                void *ctx);

/* This build's version (MC_VERSION): what upgrade plans are checked against. */
const char *mc_node_version(void);
const struct mc_genesis *mc_node_genesis(const struct mc_node *n);

/* Counters for /metrics. Commit latency is the time from a block's
 * proposal (its header time) to its commit on this node. */
#define MC_NODE_LATENCY_BOUNDS {25, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000}
struct mc_node_metrics {
    uint64_t height;
    uint32_t round;
    uint32_t peers;
    uint32_t mempool_size;
    uint64_t txs_committed;
    uint64_t latency_buckets[11];  /* per bound above, last = +Inf (not cumulative) */
    uint64_t latency_sum_ms, latency_count;
    uint64_t signature_verifications;
    uint64_t evidence_seen;
    bool is_validator;
    int64_t node_key_age_days;     /* -1: the key file carries no creation date */
    uint32_t key_max_age_days;     /* config.json "key_max_age_days" (default 365) */
    uint32_t store_recoveries;     /* times this process reopened the home after a store fault */
    uint32_t timeout_ms[3];        /* consensus base timeouts now: propose, prevote, precommit */
};
void mc_node_metrics(struct mc_node *n, struct mc_node_metrics *out);

/* Whether mc_node_run ended because the store failed under the node (a
 * write, sync or read of the database failed: a full disk, an I/O error),
 * as opposed to a stop, an upgrade halt or a bad configuration. The node
 * cannot go on from its memory then, but a reopen of the home (a new
 * mc_node_open) can, once the fault clears. */
bool mc_node_store_failed(const struct mc_node *n);
/* Tells the node how often its process has reopened the home after a store
 * fault (reported in /metrics). */
void mc_node_set_store_recoveries(struct mc_node *n, uint32_t count);

/* --- records support (issue 5) --- */

struct mc_blob_store;
/* The node's blob store (ciphertext of records, in data/chain.db). Valid
 * until mc_node_close; thread-safe on its own (no node lock needed). */
struct mc_blob_store *mc_node_blobs(struct mc_node *n);
/* Asks the node to fetch a good copy of a record version's ciphertext from
 * a peer (its stored copy is missing or altered). Thread-safe and
 * non-blocking: the request is queued for the loop, which asks the peers;
 * the good copy (hash checked against the anchor) replaces the bad one when
 * it arrives, so a later read succeeds. MC_ERR_NOT_FOUND when the node has
 * no peer network; MC_ERR_FULL when too many repairs are waiting. */
MC_MUST_CHECK int mc_node_request_blob(struct mc_node *n, const char *record_id, uint32_t version,
                                       const mc_hash *ciphertext);
/* The orphan sweep (blob/blob.h): blobs this node stores that no committed
 * anchor of a live record names, older than grace_s seconds; report is
 * called for each (what: "pending", "unanchored", "unindexed", "erased"),
 * and with remove they are deleted (every version, in a bucket). *found
 * counts them. Errors of the store (MC_ERR_UNAVAILABLE, MC_ERR_DB). */
MC_MUST_CHECK int mc_node_blob_sweep(struct mc_node *n, bool remove, uint64_t grace_s,
                                     void (*report)(void *ctx, const mc_hash *id, const char *what,
                                                    bool removed),
                                     void *ctx, uint64_t *found);
struct mc_local;
/* The node's own rows that are not ledger state (chain/local.h: open
 * invitations, an organisation's record-number index), in data/chain.db.
 * Valid until mc_node_close; thread-safe on its own (no node lock). */
struct mc_local *mc_node_local(struct mc_node *n);
struct mc_vault;
/* The node's vault (node/vault.h): seals and opens record versions and
 * derives the research secret; the node's secret key never leaves it.
 * Valid until mc_node_close; thread-safe. */
struct mc_vault *mc_node_vault(struct mc_node *n);
struct mc_auditexport_status;
/* The status of the audit syslog exporter (node/auditexport.h), which
 * mc_node_run starts from config.json and stops before it returns;
 * "disabled" when not configured or not running. */
void mc_node_audit_status(struct mc_node *n, struct mc_auditexport_status *out);
/* Builds a transaction of the given type signed by the node's key, with
 * the node account's next nonce, and admits it now, like mc_node_submit
 * (same errors; the detail in mc_err_detail()); *id_out gets its id. Unlike
 * mc_node_submit_local (queued until the next block), the caller learns at
 * once whether the transaction was admitted.
 *
 * Guarantee (the records API serves a read only on success): 0 means the
 * transaction executed successfully against the state it will commit on
 * here, the committed state plus every pending transaction ahead of it in
 * block order; one that its block would reject is refused with the
 * application's reason, so a read whose access entry cannot be logged is
 * refused. A refused transaction takes no nonce. If a block rejects a node
 * transaction anyway (another proposer ordered a block differently, or a
 * time-dependent rule changed by block time), the node re-signs its later
 * pending transactions with the freed nonces, so none is stranded; a status
 * lookup of a re-signed id follows it to its replacement. In a cluster the
 * guarantee is as strong as this node's view of the pending transactions:
 * one that reaches the proposer first but this node later can still get
 * ahead of the entry. */
MC_MUST_CHECK int mc_node_submit_signed(struct mc_node *n, uint16_t type, const uint8_t *payload,
                                        size_t len, mc_hash *id_out);
/* Submits several node-signed transactions under one hold of the node lock
 * so that they enter the mempool back to back (and so the same block, up
 * to its limits). Stops at the first refusal, returning its error; ids of
 * the admitted ones are in ids_out[0..*admitted). */
MC_MUST_CHECK int mc_node_submit_signed_many(struct mc_node *n, uint16_t type,
                                             const uint8_t *const *payloads, const size_t *lens,
                                             size_t count, mc_hash *ids_out, size_t *admitted);
/* Transactions the node sends itself (scan records of the public verify
 * endpoint), signed with the node key, whose account has role node.
 * mc_node_submit_local queues a copy of the payload; the next block
 * production signs the queued transactions with consecutive nonces and
 * admits them ahead of the block (each checked like mc_node_submit_signed;
 * one that would be rejected is dropped with a warning), so they commit in
 * that block. At most MC_NODE_OUTBOX_MAX wait; beyond that MC_ERR_FULL
 * (the caller drops the record: the node never queues without bound).
 * MC_ERR_TOO_LARGE for a payload above the type's maximum. Thread-safe. */
MC_MUST_CHECK int mc_node_submit_local(struct mc_node *n, uint16_t type, const uint8_t *payload,
                                       size_t len);

#endif
