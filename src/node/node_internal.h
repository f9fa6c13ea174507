/* Private to src/node: the node structure shared by node.c (life cycle and
 * the thread-safe API) and the consensus driver (driver*.c). */
#ifndef MC_NODE_INTERNAL_H
#define MC_NODE_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "app/app.h"
#include "blob/blob.h"
#include "chain/store.h"
#include "net/transport.h"
#include "node/blockexec.h"
#include "node/mempool.h"
#include "node/node.h"

struct mc_auditexport;
struct mc_driver;
struct mc_notify;
struct mc_journal;
struct mc_repl;
struct mc_snapshots;
struct mc_tx;
struct mc_vault;

/* The vault's key pair, for signing inside src/node only (vault.c). */
const struct mc_keypair *mc__vault_next_signer(const struct mc_vault *v);
const struct mc_keypair *mc__vault_signer(const struct mc_vault *v);

struct mc_node_peer {
    char host[64];
    uint16_t port;
    mc_pubkey key;
};

/* Commit latency histogram buckets (ms, upper bounds). */
#define MC_NODE_LATENCY_BUCKETS 10

struct mc_node {
    char home[PATH_MAX];
    char api_addr[128];
    /* config.json "api_hosts": the authorities (host:port) clients address
     * this node by, comma-separated; "" when not configured. */
    char api_hosts[MC_NODE_API_HOSTS_BYTES];
    uint32_t bulk_ttl_s; /* config.json "bulk_output_ttl_s" (api/bulk.c) */
    char p2p_host[64];
    uint16_t p2p_port;
    bool has_p2p;
    uint32_t block_interval_ms;   /* pause between a commit and the next height */
    uint64_t keep_blocks;         /* config "keep_blocks": 0 keeps every tx's bytes */
    uint32_t empty_block_ms;      /* how long a proposer waits for transactions */
    uint32_t peer_count_cfg;
    struct mc_node_peer peers[MC_NET_PEERS_MAX];

    struct mc_genesis genesis;
    mc_hash genesis_hash;
    /* The node's key pair, owned by the vault (guarded, read-only memory):
     * signing stays inside src/node. */
    struct mc_vault *vault;
    const struct mc_keypair *node_key;
    int64_t node_key_created;      /* days since 1970 (node_key.json "created"), -1 unknown */
    uint32_t key_max_age_days;     /* keys older than this draw a warning */
    uint32_t store_recoveries;     /* mc_node_set_store_recoveries */
    /* The validator set of the height consensus runs at (head + 1), from
     * the ledger (mc_app_valset_at), reloaded after every commit; our index
     * in it or -1. Two slots: the engine borrows the current one while the
     * next height's set is loaded into the other. */
    struct mc_gov_valset *vsets;   /* [2] */
    int vs_slot;
    uint64_t vs_height;
    int validator_index;
    /* The key consensus signs with at head + 1: the one of the two in the
     * vault (node key, next key) that the set of that height names. */
    const struct mc_keypair *consensus_key;

    struct mc_store *store;
    struct mc_app *app;
    struct mc_mempool *pool;
    struct mc_blob_store *blobs;
    struct mc_local *local;        /* node-local rows (chain/local.h) */
    struct mc_auditexport *audit;  /* the audit syslog exporter while running (auditexport.h) */
    struct mc_notify *notify;      /* Subscription deliveries while running (notify.h) */
    pthread_mutex_t lock;          /* store, app, mempool, head, driver */
    struct mc_chain_head head;
    uint64_t txs_committed;

    /* the node's own transactions (queued by mc_node_submit_local) */
    struct outbox_tx { uint16_t type; uint8_t *payload; size_t len; } *outbox;
    uint32_t outbox_count;

    /* The check state (node.c): a second application over the same store
     * with a block open, holding the committed state plus every ready
     * mempool transaction in block order. Node-signed transactions are
     * executed against it before they are admitted, so one that its block
     * would reject is refused at once and never takes a nonce. Rebuilt
     * after each commit and whenever the mempool lost a transaction behind
     * its back (check_removals). Never flushed to the store. */
    struct mc_app *check;
    bool check_open;
    uint64_t check_removals;
    uint32_t gap_wait_ms;          /* how long a gapped transaction waits */
    struct mc_journal *journal;    /* admitted transactions, for restarts */
    uint64_t last_expire_ms;

    /* transactions admitted through the API, to be gossiped by the loop */
    pthread_mutex_t gossip_lock;
    struct mc_buf gossip;          /* | u32 len | tx |* */
    uint32_t gossip_count;

    /* event loop */
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_async_t stop_async, wake_async;
    uv_timer_t tick;
    bool running;
    int fatal;
    char halt_reason[320];         /* why the node stopped on its own (upgrade.c) */
    struct mc_net *net;
    struct mc_driver *drv;
    struct mc_repl *repl;          /* blob replication (replicate.c) */
    struct mc_snapshots *snaps;    /* snapshots written and served (snapshot.c) */
    uint64_t state_synced_from;    /* the height state sync restored, 0: none (statesync.c) */

    /* metrics */
    uint64_t latency_buckets[MC_NODE_LATENCY_BUCKETS + 1];
    uint64_t latency_sum_ms, latency_count;
    uint32_t round;
    uint64_t evidence_seen;
    uint32_t peers_up;             /* kept by the driver under the lock: the
                                    * transport itself is loop-thread only */
};

/* The node lock as taken on the loop thread. The transport calls back into
 * the driver synchronously (a peer dropped, or a send that overflows, while
 * the lock is held), so the driver's callbacks ask whether this thread
 * already holds it instead of locking twice. */
void mc_node__lock(struct mc_node *n);
void mc_node__unlock(struct mc_node *n);
bool mc_node__locked_here(void);

/* driver.c */
MC_MUST_CHECK int mc_driver_create(struct mc_node *n);
void mc_driver_destroy(struct mc_node *n);
/* Starts consensus at head.height + 1 (lock held). */
MC_MUST_CHECK int mc_driver_start(struct mc_node *n);
/* Periodic work on the loop thread (lock not held). */
void mc_driver_tick(struct mc_node *n);
/* The base timeouts (ms: propose, prevote, precommit) the engine uses now. */
void mc_driver_timeouts(const struct mc_node *n, uint32_t out[3]);
/* Transport callbacks (loop thread, lock not held). */
void mc_driver_on_message(void *ctx, const mc_pubkey *from, const uint8_t *msg, size_t len);
void mc_driver_on_peer(void *ctx, const mc_pubkey *key, bool up);
bool mc_driver_is_member(void *ctx, const mc_pubkey *key);
/* A transaction was admitted: a waiting proposer may build now. */
void mc_driver_tx_arrived(struct mc_node *n);

/* replicate.c: ciphertext of anchored records fetched from peers. All but
 * mc_node_request_blob (node.h) run on the loop thread with the lock held. */
MC_MUST_CHECK int mc_repl_create(struct mc_node *n);
void mc_repl_destroy(struct mc_node *n);
/* A committed transaction: the blobs its anchors name that this node lacks
 * (or holds damaged) are wanted. */
void mc_repl_after_commit_tx(struct mc_node *n, const struct mc_tx *tx);
/* The blob was purged (erasure): stop wanting it. */
void mc_repl_forget(struct mc_node *n, const mc_hash *ct);
void mc_repl_on_peer(struct mc_node *n, const mc_pubkey *key, bool up);
/* A GET_BLOB or BLOB message from a peer (node.c routes them here; the
 * consensus driver never sees them). Lock held. */
void mc_repl_on_wire(struct mc_node *n, const mc_pubkey *from, const uint8_t *msg, size_t len);
/* Repair requests in, timeouts, requests out. */
void mc_repl_tick(struct mc_node *n);
void mc_repl_on_get_blob(struct mc_node *n, const mc_pubkey *from, const mc_hash *id);
void mc_repl_on_get_blob_part(struct mc_node *n, const mc_pubkey *from, const mc_hash *id, uint64_t offset);
void mc_repl_on_blob_part(struct mc_node *n, const mc_pubkey *from, const mc_hash *id, uint64_t offset,
                          uint64_t total, const uint8_t *bytes, size_t len);
void mc_repl_on_blob(struct mc_node *n, const mc_pubkey *from, const mc_hash *id,
                     const uint8_t *bytes, size_t len);

/* node.c, used by the driver (lock held) */
void mc_node__after_commit(struct mc_node *n, const struct mc_candidate *c);
/* Whether this build may not run `height` (a passed upgrade plan requires
 * a newer version): then the reason is logged and kept in halt_reason,
 * n->fatal is set and the loop stops (upgrade.c). */
bool mc_node__upgrade_halt(struct mc_node *n, uint64_t height);
/* Loads the validator set of head + 1 (and our index in it). */
MC_MUST_CHECK int mc_node__valset_refresh(struct mc_node *n);
/* The validator set of head + 1, as last loaded. */
const struct mc_valset *mc_node__valset(const struct mc_node *n);
void mc_node__flush_outbox(struct mc_node *n);
/* mc_node_submit_local with the lock already held. */
MC_MUST_CHECK int mc_node__queue_local(struct mc_node *n, uint16_t type, const uint8_t *payload, size_t len);
bool mc_node__verified(void *ctx, const mc_hash *tx_id);
void mc_node__rejected(void *ctx, uint32_t index, int err, const char *reason);
uint64_t mc_node__now_ms(void);
/* Admits a transaction gossiped by a peer (lock not held; no re-gossip). */
MC_MUST_CHECK int mc_node__submit_from_peer(struct mc_node *n, const uint8_t *bytes, size_t len);

#endif
