/* Private to the consensus driver: the state shared by driver.c (the
 * engine on the loop: inputs, timers, building and validating values,
 * outputs, gossip), driver_wal.c (the consensus WAL: what we signed and
 * the votes that justify it, stored before anything is signed and
 * replayed after a restart) and driver_sync.c (block sync from peers).
 * Everything here runs on the loop thread with the node lock held. */
#ifndef MC_DRIVER_INTERNAL_H
#define MC_DRIVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "consensus/consensus.h"
#include "node/node_internal.h"
#include "node/wire.h"

#define CANDIDATES_MAX 8
#define TIMERS_MAX 24
#define OWN_MSGS_MAX 64
#define FUTURE_MAX 512
#define QUEUE_MAX 128
#define GOSSIP_EVERY_MS 1000
#define SYNC_TIMEOUT_MS 5000

struct cand_slot {
    bool used;
    bool built_here;   /* we built it from the same head: valid by construction */
    struct mc_candidate c;
    uint64_t seq;
};

struct timer_slot {
    uv_timer_t t;
    bool armed;
    struct mc_consensus_timeout to;
    struct mc_node *n;
};

struct future_msg {
    uint8_t *bytes;
    size_t len;
};

struct peer_state {
    mc_pubkey key;
    bool up;
    uint64_t height;
};

struct mc_driver {
    struct mc_consensus *cs;
    struct mc_consensus_config cfg;
    struct mc_consensus_output out;
    bool started;
    bool paused;               /* decided; next height pending */
    uint64_t next_height_at_ms;
    bool waiting_value;
    uint64_t wv_height;
    uint32_t wv_round;
    uint64_t wv_since_ms;
    struct cand_slot cands[CANDIDATES_MAX];
    uint64_t cand_seq;
    struct timer_slot timers[TIMERS_MAX];
    struct mc_buf own[OWN_MSGS_MAX];
    uint32_t own_count;
    struct future_msg future[FUTURE_MAX];
    uint32_t future_count;
    struct mc_consensus_input queue[QUEUE_MAX];
    uint32_t q_head, q_len;
    struct peer_state peers[MC_NET_PEERS_MAX];
    bool syncing;
    uint64_t sync_height, sync_deadline_ms;
    mc_pubkey sync_peer;
    uint64_t last_gossip_ms;
    /* the value we last fed for (height, round): persisted with the signed
     * state so a restarted proposer re-proposes the same block */
    bool has_value;
    uint64_t value_height;
    uint32_t value_round;
    mc_hash value_hash;
    mc_hash evidence_seen[64];
    uint32_t evidence_n;
};

/* The height consensus runs at: the one after the committed head. */
static inline uint64_t mc_driver__height(const struct mc_node *n) { return n->head.height + 1; }

/* driver.c */
void mc_driver__broadcast(struct mc_node *n, const struct mc_buf *b);
void mc_driver__send_to(struct mc_node *n, const mc_pubkey *to, const struct mc_buf *b);
struct cand_slot *mc_driver__cand_find(struct mc_driver *d, const mc_hash *h);
/* Takes ownership of c; NULL (c freed) when no slot can be had. */
struct cand_slot *mc_driver__cand_put(struct mc_driver *d, struct mc_candidate *c);
/* One wire message from a peer (from NULL: our own, replayed). */
void mc_driver__handle_wire(struct mc_node *n, const mc_pubkey *from, const uint8_t *msg, size_t len,
                            bool from_future);
/* After the head moved under the engine (a synced block): forgets the
 * height's candidates, timers, own messages and buffered messages and
 * restarts the engine at the new height. */
void mc_driver__restart_at_head(struct mc_node *n);

/* driver_wal.c */
void mc_driver__own_add(struct mc_node *n, const struct mc_buf *msg);
void mc_driver__own_clear(struct mc_node *n);
/* The engine's persistence hook (consensus.h: struct mc_consensus_persist). */
int mc_driver__save_signed(void *ctx, const struct mc_consensus_signed_state *s);
/* Before the engine starts: the value we proposed at this height. */
void mc_driver__restore_value(struct mc_node *n);
/* After it started: our own messages and the kept votes of others. */
void mc_driver__wal_replay(struct mc_node *n);

/* driver_sync.c */
struct peer_state *mc_driver__peer_of(struct mc_driver *d, const mc_pubkey *k);
void mc_driver__sync_request(struct mc_node *n);
/* Asks again when the request timed out and a peer is ahead. */
void mc_driver__sync_tick(struct mc_node *n, uint64_t now_ms);
void mc_driver__on_status(struct mc_node *n, const mc_pubkey *from, uint64_t height);
void mc_driver__on_get_block(struct mc_node *n, const mc_pubkey *from, uint64_t height);
void mc_driver__on_block(struct mc_node *n, const mc_pubkey *from, const struct mc_wire_msg *m);
void mc_driver__on_no_block(struct mc_node *n, const mc_pubkey *from);

#endif
