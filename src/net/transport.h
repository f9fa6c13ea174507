/* Peer transport: authenticated, encrypted TCP connections between member
 * nodes, on a libuv loop.
 *
 * Each connection runs the handshake of handshake.h, then carries sealed
 * frames (frame.h). A peer whose node key the membership callback refuses
 * is disconnected right after its AUTH, before any message is accepted.
 * Limits protect the node from slow or hostile peers:
 *   - before authentication only a HELLO and one AUTH frame are accepted
 *     (MC_NET_PREAUTH_BYTES), within handshake_timeout_ms (3 s unless
 *     configured: a member's handshake takes two round trips);
 *   - inbound connections that have not authenticated yet are capped on
 *     their own, MC_NET_PREAUTH_CONNS_MAX in all and
 *     MC_NET_PREAUTH_PER_ADDR_MAX from one address, apart from the peers:
 *     sockets that never authenticate cannot take a member's place;
 *   - an authenticated peer's frames are bounded by MC_NET_MESSAGE_MAX;
 *   - each peer's send queue is bounded by MC_NET_SENDQ_BYTES: a peer that
 *     does not read is disconnected rather than buffered without end;
 *   - a peer silent for idle_timeout_ms is disconnected (the transport
 *     sends a keep-alive every idle_timeout_ms / 3);
 *   - at most MC_NET_PEERS_MAX authenticated peers.
 * Dialed addresses are redialed with exponential backoff (100 ms .. 5 s).
 * When two nodes end up with two connections, both keep the one whose
 * initiator has the smaller key, so they agree without talking.
 *
 * Single-threaded: every function must be called on the loop's thread. */
#ifndef MC_NET_TRANSPORT_H
#define MC_NET_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"
#include "base/limits.h"
#include "crypto/sign.h"

/* MC_NET_MESSAGE_MAX, MC_NET_SENDQ_BYTES, MC_NET_PREAUTH_BYTES,
 * MC_NET_PEERS_MAX and the pre-authentication connection caps are in
 * base/limits.h. */

struct mc_net;

struct mc_net_config {
    const char *chain_id;
    const struct mc_keypair *node_key;   /* borrowed, outlives the transport */
    const char *listen_host;             /* NULL: do not listen */
    uint16_t listen_port;                /* 0: any free port */
    uint32_t handshake_timeout_ms;       /* 0: 3000 */
    uint32_t idle_timeout_ms;            /* 0: 15000 */
    /* May a node with this key connect? */
    bool (*is_member)(void *ctx, const mc_pubkey *key);
    /* An authenticated message from a peer. The bytes are valid during the call. */
    void (*on_message)(void *ctx, const mc_pubkey *from, const uint8_t *msg, size_t len);
    /* A peer became ready (up) or went away. */
    void (*on_peer)(void *ctx, const mc_pubkey *key, bool up);
    void *ctx;
};

MC_MUST_CHECK int mc_net_start(struct mc_net **out, uv_loop_t *loop,
                               const struct mc_net_config *cfg);
/* Closes every connection and frees the transport once the loop has run
 * the close callbacks. */
void mc_net_stop(struct mc_net *n);
/* The port actually listened on. */
uint16_t mc_net_port(const struct mc_net *n);
/* Dials host:port now and whenever the connection drops. */
MC_MUST_CHECK int mc_net_dial(struct mc_net *n, const char *host, uint16_t port);
/* Queues msg for the peer with this key. MC_ERR_NOT_FOUND if not connected;
 * MC_ERR_FULL if its queue is full (the peer is then disconnected). */
MC_MUST_CHECK int mc_net_send(struct mc_net *n, const mc_pubkey *to, const void *msg,
                              size_t len);
/* Queues msg for every ready peer; returns how many got it. */
uint32_t mc_net_broadcast(struct mc_net *n, const void *msg, size_t len);
uint32_t mc_net_peer_count(const struct mc_net *n);
/* From now on the handshake signs with key (borrowed, outlives the
 * transport): a node key rotation. Closes every connection; they are made
 * again under the new key. */
void mc_net_set_key(struct mc_net *n, const struct mc_keypair *key);
/* Asks the membership callback again about every authenticated peer and
 * disconnects the ones it now refuses (the membership changed); returns
 * how many were dropped. */
uint32_t mc_net_recheck(struct mc_net *n);
/* Disconnects a peer (e.g. one that served a bad block). */
void mc_net_drop(struct mc_net *n, const mc_pubkey *key, const char *why);

#endif
