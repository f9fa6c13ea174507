/* Peer transport over libuv (contract in transport.h).
 *
 * Connection life cycle:
 *   connect/accept -> send HELLO -> HELLO received (keys derived) ->
 *   send AUTH frame -> AUTH received, signature and membership checked ->
 *   READY (messages flow) -> closed (redialed if we dialed it).
 * Transport messages are | u8 kind | payload |: kind 0 keep-alive, kind 1
 * an application message handed to on_message. */
#include "net/transport.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "net/frame.h"
#include "net/handshake.h"

enum conn_state { C_HELLO, C_AUTH, C_READY, C_CLOSING };
enum { KIND_KEEPALIVE = 0, KIND_APP = 1 };

struct dialer;

struct conn {
    struct mc_net *net;
    uv_tcp_t tcp;
    uv_timer_t timer;
    int handles_open;
    enum conn_state state;
    bool initiator;
    struct dialer *dialer;
    struct mc_handshake hs;
    uint8_t hello[MC_HS_HELLO_BYTES];
    size_t hello_got;
    struct mc_frame_key send, recv;
    struct mc_frame_reader reader;
    size_t queued;
    uint64_t started_ms, last_rx_ms, last_tx_ms, ready_ms;
    mc_pubkey peer;
    char addr[96];
    char ip[48];      /* inbound: the remote address, for the pre-auth caps */
    struct conn *next;
};

struct dialer {
    struct mc_net *net;
    char host[64];
    uint16_t port;
    bool knows_key;   /* the key answered at this address last time */
    mc_pubkey key;
    uint32_t backoff_ms;
    uv_timer_t timer;
    struct conn *conn;
    bool closing;
    struct dialer *next;
};

struct mc_net {
    uv_loop_t *loop;
    struct mc_net_config cfg;
    char chain_id[65];
    uv_tcp_t listener;
    bool listening;
    uint16_t port;
    struct conn *conns;
    struct dialer *dialers;
    int handles_open;
    bool stopping;
};

static uint64_t now_ms(struct mc_net *n) { return uv_now(n->loop); }

static void maybe_free_net(struct mc_net *n) {
    if (n->stopping && n->handles_open == 0 && !n->conns) free(n);
}

/* ---- writing ---- */

struct write_req {
    uv_write_t req;
    struct conn *c;
    size_t len;
    uint8_t bytes[];
};

static void conn_close(struct conn *c, const char *why);
static int ready_count(const struct mc_net *n);

static void on_written(uv_write_t *req, int status) {
    struct write_req *w = (struct write_req *)req;
    w->c->queued -= w->len;
    if (status < 0 && w->c->state != C_CLOSING) conn_close(w->c, uv_strerror(status));
    free(w);
}

static int write_raw(struct conn *c, const uint8_t *p, size_t len) {
    if (c->state == C_CLOSING) return MC_ERR_STATE;
    if (c->queued + len > MC_NET_SENDQ_BYTES) {
        conn_close(c, "send queue full (peer does not read)");
        return MC_ERR_FULL;
    }
    struct write_req *w = malloc(sizeof *w + len);
    if (!w) return MC_ERR_NOMEM;
    w->c = c;
    w->len = len;
    memcpy(w->bytes, p, len);
    uv_buf_t b = uv_buf_init((char *)w->bytes, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc < 0) {
        free(w);
        conn_close(c, uv_strerror(rc));
        return MC_ERR_IO;
    }
    c->queued += len;
    c->last_tx_ms = now_ms(c->net);
    return 0;
}

static int send_frame(struct conn *c, uint8_t kind, const void *msg, size_t len) {
    struct mc_buf plain, wire;
    mc_buf_init(&plain, 0);
    mc_buf_init(&wire, 0);
    mc_buf_append(&plain, &kind, 1);
    mc_buf_append(&plain, msg, len);
    int rc = plain.err ? plain.err : mc_frame_seal(&c->send, &wire, plain.data, plain.len);
    if (!rc) rc = write_raw(c, wire.data, wire.len);
    mc_buf_deinit(&plain);
    mc_buf_deinit(&wire);
    return rc;
}

/* ---- closing ---- */

static void dialer_schedule(struct dialer *d);

static void on_conn_handle_closed(uv_handle_t *h) {
    struct conn *c = h->data;
    if (--c->handles_open > 0) return;
    struct mc_net *n = c->net;
    for (struct conn **pp = &n->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    mc_frame_reader_deinit(&c->reader);
    sodium_memzero(c, sizeof *c);
    free(c);
    n->handles_open--;
    maybe_free_net(n);
}

/* Is another connection to the same peer ready? Then closing this one
 * (a duplicate) does not take the peer down. */
static bool other_ready(const struct conn *c) {
    for (const struct conn *o = c->net->conns; o; o = o->next)
        if (o != c && o->state == C_READY && memcmp(o->peer.b, c->peer.b, 32) == 0) return true;
    return false;
}

static void conn_close(struct conn *c, const char *why) {
    if (c->state == C_CLOSING) return;
    bool was_ready = c->state == C_READY;
    c->state = C_CLOSING;
    mc_hs_wipe(&c->hs);
    if (why) mc_log_info("net", "closing %s: %s", c->addr, why);
    if (was_ready && c->net->cfg.on_peer && !c->net->stopping && !other_ready(c))
        c->net->cfg.on_peer(c->net->cfg.ctx, &c->peer, false);
    if (c->dialer) {
        /* A connection that held for a while resets the backoff; one that is
         * refused or dropped at once keeps backing off. */
        if (was_ready && now_ms(c->net) - c->ready_ms > 10000) c->dialer->backoff_ms = 100;
        c->dialer->conn = NULL;
        if (!c->dialer->closing) dialer_schedule(c->dialer);
        c->dialer = NULL;
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

/* ---- reading ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    buf->base = malloc(65536);
    buf->len = buf->base ? 65536 : 0;
}

static bool is_initiator_key_smaller(const struct mc_net *n, const struct conn *c) {
    const uint8_t *own = n->cfg.node_key->pk.b;
    const uint8_t *ini = c->initiator ? own : c->peer.b;
    const uint8_t *res = c->initiator ? c->peer.b : own;
    return memcmp(ini, res, 32) < 0;
}

/* Two connections to one peer: both sides keep the same one. */
static bool resolve_duplicate(struct conn *c) {
    struct mc_net *n = c->net;
    for (struct conn *o = n->conns; o; o = o->next) {
        if (o == c || o->state != C_READY || memcmp(o->peer.b, c->peer.b, 32) != 0) continue;
        if (o->initiator == c->initiator) {
            conn_close(o, "replaced by a newer connection");
            return true;
        }
        if (is_initiator_key_smaller(n, c)) {
            conn_close(o, "duplicate connection");
            return true;
        }
        conn_close(c, "duplicate connection");
        return false;
    }
    return true;
}

static void on_auth(struct conn *c, const uint8_t *m, size_t len) {
    struct mc_net *n = c->net;
    if (mc_hs_on_auth(&c->hs, m, len) != 0) {
        conn_close(c, mc_err_detail());
        return;
    }
    c->peer = c->hs.peer_key;
    if (memcmp(c->peer.b, n->cfg.node_key->pk.b, 32) == 0) {
        conn_close(c, "connected to ourselves");
        return;
    }
    if (!n->cfg.is_member || !n->cfg.is_member(n->cfg.ctx, &c->peer)) {
        char hx[17];
        for (int i = 0; i < 8; i++) snprintf(hx + 2 * i, 3, "%02x", c->peer.b[i]);
        mc_log_warn("net", "refused %s: node key %s... is not in the membership", c->addr, hx);
        conn_close(c, NULL);
        return;
    }
    if (ready_count(n) >= MC_NET_PEERS_MAX) {
        conn_close(c, "too many peers");
        return;
    }
    c->state = C_READY;
    if (c->dialer) {
        c->dialer->knows_key = true;
        c->dialer->key = c->peer;
    }
    c->reader.max_plain = MC_NET_MESSAGE_MAX + 1;
    c->reader.in.max = MC_NET_MESSAGE_MAX + 1 + MC_FRAME_TAG_BYTES + 2 * MC_FRAME_HEADER_BYTES + 65536;
    c->ready_ms = now_ms(n);
    if (!resolve_duplicate(c)) return;
    if (n->cfg.on_peer) n->cfg.on_peer(n->cfg.ctx, &c->peer, true);
}

static void on_frames(struct conn *c) {
    struct mc_buf msg;
    mc_buf_init(&msg, 0);
    int rc = 0;
    while (c->state != C_CLOSING && (rc = mc_frame_reader_next(&c->reader, &c->recv, &msg)) == 1) {
        if (c->state == C_AUTH) {
            on_auth(c, msg.data, msg.len);
        } else if (msg.len >= 1 && msg.data[0] == KIND_APP) {
            if (c->net->cfg.on_message) c->net->cfg.on_message(c->net->cfg.ctx, &c->peer, msg.data + 1, msg.len - 1);
        } else if (!(msg.len == 1 && msg.data[0] == KIND_KEEPALIVE)) {
            conn_close(c, "unknown message kind");
        }
        mc_buf_reset(&msg);
    }
    if (c->state != C_CLOSING && rc < 0) conn_close(c, mc_err_detail());
    mc_buf_deinit(&msg);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    struct conn *c = s->data;
    if (nread < 0) {
        free(buf->base);
        conn_close(c, nread == UV_EOF ? "peer closed" : uv_strerror((int)nread));
        return;
    }
    const uint8_t *p = (const uint8_t *)buf->base;
    size_t n = (size_t)nread;
    c->last_rx_ms = now_ms(c->net);
    if (c->state == C_HELLO && n > 0) {
        size_t take = MC_HS_HELLO_BYTES - c->hello_got;
        if (take > n) take = n;
        memcpy(c->hello + c->hello_got, p, take);
        c->hello_got += take;
        p += take;
        n -= take;
        if (c->hello_got == MC_HS_HELLO_BYTES) {
            if (mc_hs_on_hello(&c->hs, c->hello, MC_HS_HELLO_BYTES) != 0) {
                free(buf->base);
                conn_close(c, mc_err_detail());
                return;
            }
            memcpy(c->send.key, c->hs.send_key, 32);
            memcpy(c->recv.key, c->hs.recv_key, 32);
            c->state = C_AUTH;
            uint8_t auth[MC_HS_AUTH_BYTES];
            mc_hs_auth(&c->hs, auth);
            struct mc_buf wire;
            mc_buf_init(&wire, 0);
            if (mc_frame_seal(&c->send, &wire, auth, sizeof auth) == 0) (void)write_raw(c, wire.data, wire.len);
            mc_buf_deinit(&wire);
        }
    }
    /* Before AUTH the reader holds at most the pre-authentication bound; a
     * peer's first messages may arrive in the same read as its AUTH, so the
     * bytes go in no faster than the reader has room, and the AUTH is
     * opened (which lifts the bound) before the rest is fed. */
    while (c->state != C_CLOSING && c->state != C_HELLO && n > 0) {
        size_t room = c->reader.in.max > c->reader.in.len ? c->reader.in.max - c->reader.in.len : 0;
        size_t take = c->state == C_AUTH && n > room ? room : n;
        if (take == 0 || mc_frame_reader_feed(&c->reader, p, take) != 0) {
            conn_close(c, "peer sent more than allowed");
            break;
        }
        p += take;
        n -= take;
        on_frames(c);
    }
    free(buf->base);
}

static void on_tick(uv_timer_t *t) {
    struct conn *c = t->data;
    struct mc_net *n = c->net;
    uint64_t now = now_ms(n);
    if (c->state != C_READY && now - c->started_ms > n->cfg.handshake_timeout_ms) {
        conn_close(c, "handshake timed out");
        return;
    }
    if (now - c->last_rx_ms > n->cfg.idle_timeout_ms) {
        conn_close(c, "peer idle too long");
        return;
    }
    if (c->state == C_READY && now - c->last_tx_ms >= n->cfg.idle_timeout_ms / 3)
        (void)send_frame(c, KIND_KEEPALIVE, NULL, 0);
}

/* Authenticated peers, not counting ones being closed. */
static int ready_count(const struct mc_net *n) {
    int k = 0;
    for (const struct conn *c = n->conns; c; c = c->next) k += c->state == C_READY;
    return k;
}

/* The oldest inbound handshake of the address with the most of them. */
static struct conn *preauth_victim(struct mc_net *n, const struct conn *except) {
    struct conn *victim = NULL;
    int victim_addr_count = 0;
    for (struct conn *c = n->conns; c; c = c->next) {
        if (c == except || c->initiator || (c->state != C_HELLO && c->state != C_AUTH)) continue;
        int k = 0;
        for (const struct conn *o = n->conns; o; o = o->next)
            k += o != except && !o->initiator && (o->state == C_HELLO || o->state == C_AUTH) &&
                 strcmp(o->ip, c->ip) == 0;
        if (k > victim_addr_count || (k == victim_addr_count && victim && c->started_ms < victim->started_ms)) {
            victim = c;
            victim_addr_count = k;
        }
    }
    return victim;
}

/* Inbound connections still in their handshake (other than except), in
 * all and from ip. */
static void preauth_count(const struct mc_net *n, const struct conn *except, const char *ip,
                          int *all, int *same_addr) {
    *all = *same_addr = 0;
    for (const struct conn *c = n->conns; c; c = c->next) {
        if (c == except || c->initiator || (c->state != C_HELLO && c->state != C_AUTH)) continue;
        (*all)++;
        if (ip[0] && strcmp(c->ip, ip) == 0) (*same_addr)++;
    }
}

static struct conn *conn_new(struct mc_net *n, bool initiator) {
    struct conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->net = n;
    c->initiator = initiator;
    c->state = C_HELLO;
    uv_tcp_init(n->loop, &c->tcp);
    uv_timer_init(n->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    n->handles_open++;
    mc_frame_reader_init(&c->reader, MC_HS_AUTH_BYTES);
    c->reader.in.max = MC_NET_PREAUTH_BYTES;
    c->started_ms = c->last_rx_ms = c->last_tx_ms = now_ms(n);
    snprintf(c->addr, sizeof c->addr, "peer");
    c->next = n->conns;
    n->conns = c;
    return c;
}

/* Both sides start by sending HELLO. */
static void conn_begin(struct conn *c) {
    uint8_t eph[32];
    randombytes_buf(eph, sizeof eph);
    mc_hs_init(&c->hs, c->initiator ? MC_HS_INITIATOR : MC_HS_RESPONDER, c->net->chain_id,
               c->net->cfg.node_key, eph);
    sodium_memzero(eph, sizeof eph);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    uint32_t tick = c->net->cfg.handshake_timeout_ms / 4;
    if (tick > 1000) tick = 1000;
    if (tick < 10) tick = 10;
    uv_timer_start(&c->timer, on_tick, tick, tick);
    (void)write_raw(c, c->hs.hello, MC_HS_HELLO_BYTES);
}

static void on_accept(uv_stream_t *server, int status) {
    struct mc_net *n = server->data;
    if (status < 0) return;
    struct conn *c = conn_new(n, false);
    if (!c) return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c, "accept failed");
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET) {
        char ip[32];
        uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
        snprintf(c->addr, sizeof c->addr, "%s:%d (in)", ip, ntohs(((struct sockaddr_in *)&ss)->sin_port));
        snprintf(c->ip, sizeof c->ip, "%s", ip);
    }
    /* Unauthenticated sockets have caps of their own and a short deadline
     * (handshake_timeout_ms); peers are counted once authenticated. */
    int all, same;
    preauth_count(n, c, c->ip, &all, &same);
    if (same >= MC_NET_PREAUTH_PER_ADDR_MAX) {
        conn_close(c, "too many unauthenticated connections from this address");
        return;
    }
    /* Full: the newcomer (perhaps a member) gets the place of the oldest
     * handshake of the address holding the most, so sockets that never
     * authenticate cannot keep a member out for their whole deadline. */
    if (all >= MC_NET_PREAUTH_CONNS_MAX) {
        struct conn *victim = preauth_victim(n, c);
        if (victim) conn_close(victim, "unauthenticated connection evicted by a newer one");
    }
    conn_begin(c);
}

/* ---- dialing ---- */

struct connect_req {
    uv_connect_t req;
    struct conn *c;
};

static void on_connected(uv_connect_t *req, int status) {
    struct connect_req *cr = (struct connect_req *)req;
    struct conn *c = cr->c;
    free(cr);
    if (c->state == C_CLOSING) return;
    if (status < 0) {
        conn_close(c, NULL); /* quiet: the dialer retries with backoff */
        return;
    }
    conn_begin(c);
}

static struct conn *ready_conn(struct mc_net *n, const mc_pubkey *key);
static void on_dial_timer_fwd(uv_timer_t *t);

static void dial_now(struct dialer *d) {
    struct mc_net *n = d->net;
    if (d->closing || n->stopping || d->conn) return;
    /* Already connected to that node the other way round (it dialed us and
     * that connection won): look again later instead of churning. */
    if (d->knows_key && ready_conn(n, &d->key)) {
        uv_timer_start(&d->timer, on_dial_timer_fwd, 5000, 0);
        return;
    }
    struct sockaddr_in addr;
    if (uv_ip4_addr(d->host, d->port, &addr) != 0) return;
    struct conn *c = conn_new(n, true);
    if (!c) return;
    snprintf(c->addr, sizeof c->addr, "%s:%u", d->host, d->port);
    c->dialer = d;
    d->conn = c;
    struct connect_req *cr = malloc(sizeof *cr);
    if (!cr) {
        conn_close(c, "out of memory");
        return;
    }
    cr->c = c;
    if (uv_tcp_connect(&cr->req, &c->tcp, (const struct sockaddr *)&addr, on_connected) != 0) {
        free(cr);
        conn_close(c, NULL);
    }
}

static void on_dial_timer(uv_timer_t *t) { dial_now(t->data); }
static void on_dial_timer_fwd(uv_timer_t *t) { on_dial_timer(t); }

static void dialer_schedule(struct dialer *d) {
    if (d->closing || d->net->stopping) return;
    uv_timer_start(&d->timer, on_dial_timer, d->backoff_ms, 0);
    d->backoff_ms = d->backoff_ms * 2 > 5000 ? 5000 : d->backoff_ms * 2;
}

int mc_net_dial(struct mc_net *n, const char *host, uint16_t port) {
    struct sockaddr_in addr;
    if (uv_ip4_addr(host, port, &addr) != 0) return mc_err_set(MC_ERR_INVALID, "not an IPv4 address: %s", host);
    struct dialer *d = calloc(1, sizeof *d);
    if (!d) return MC_ERR_NOMEM;
    d->net = n;
    snprintf(d->host, sizeof d->host, "%s", host);
    d->port = port;
    d->backoff_ms = 100;
    uv_timer_init(n->loop, &d->timer);
    d->timer.data = d;
    n->handles_open++;
    d->next = n->dialers;
    n->dialers = d;
    dial_now(d);
    return 0;
}

/* ---- public ---- */

static void free_on_close(uv_handle_t *h) { free(h->data); }

int mc_net_start(struct mc_net **out, uv_loop_t *loop, const struct mc_net_config *cfg) {
    *out = NULL;
    struct mc_net *n = calloc(1, sizeof *n);
    if (!n) return MC_ERR_NOMEM;
    n->loop = loop;
    n->cfg = *cfg;
    if (!n->cfg.handshake_timeout_ms) n->cfg.handshake_timeout_ms = 3000;
    if (!n->cfg.idle_timeout_ms) n->cfg.idle_timeout_ms = 15000;
    snprintf(n->chain_id, sizeof n->chain_id, "%s", cfg->chain_id);
    if (cfg->listen_host) {
        struct sockaddr_in addr;
        if (uv_ip4_addr(cfg->listen_host, cfg->listen_port, &addr) != 0) {
            free(n);
            return mc_err_set(MC_ERR_INVALID, "not an IPv4 address: %s", cfg->listen_host);
        }
        uv_tcp_init(loop, &n->listener);
        n->listener.data = n;
        n->handles_open++;
        int rc = uv_tcp_bind(&n->listener, (const struct sockaddr *)&addr, 0);
        if (!rc) rc = uv_listen((uv_stream_t *)&n->listener, 128, on_accept);
        if (rc) {
            /* the transport is freed when the loop runs the close */
            uv_close((uv_handle_t *)&n->listener, free_on_close);
            return mc_err_set(MC_ERR_IO, "cannot listen on %s:%u: %s", cfg->listen_host,
                              cfg->listen_port, uv_strerror(rc));
        }
        struct sockaddr_in bound;
        int len = sizeof bound;
        uv_tcp_getsockname(&n->listener, (struct sockaddr *)&bound, &len);
        n->port = ntohs(bound.sin_port);
        n->listening = true;
    }
    *out = n;
    return 0;
}

uint16_t mc_net_port(const struct mc_net *n) { return n->port; }

static void on_simple_closed(uv_handle_t *h) {
    struct mc_net *n = h->data;
    if (h != (uv_handle_t *)&n->listener) {
        /* a dialer's timer: free the dialer */
        struct dialer *d = (struct dialer *)((char *)h - offsetof(struct dialer, timer));
        n = d->net;
        free(d);
    }
    n->handles_open--;
    maybe_free_net(n);
}

void mc_net_stop(struct mc_net *n) {
    if (!n) return;
    n->stopping = true;
    for (struct dialer *d = n->dialers, *next; d; d = next) {
        next = d->next;
        d->closing = true;
        d->timer.data = n;
        uv_close((uv_handle_t *)&d->timer, on_simple_closed);
    }
    n->dialers = NULL;
    for (struct conn *c = n->conns; c; c = c->next) {
        c->dialer = NULL;
        conn_close(c, NULL);
    }
    if (n->listening) uv_close((uv_handle_t *)&n->listener, on_simple_closed);
    maybe_free_net(n);
}

static struct conn *ready_conn(struct mc_net *n, const mc_pubkey *key) {
    for (struct conn *c = n->conns; c; c = c->next)
        if (c->state == C_READY && memcmp(c->peer.b, key->b, 32) == 0) return c;
    return NULL;
}

int mc_net_send(struct mc_net *n, const mc_pubkey *to, const void *msg, size_t len) {
    if (len > MC_NET_MESSAGE_MAX) return MC_ERR_TOO_LARGE;
    struct conn *c = ready_conn(n, to);
    if (!c) return MC_ERR_NOT_FOUND;
    return send_frame(c, KIND_APP, msg, len);
}

uint32_t mc_net_broadcast(struct mc_net *n, const void *msg, size_t len) {
    if (len > MC_NET_MESSAGE_MAX) return 0;
    uint32_t k = 0;
    for (struct conn *c = n->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == C_READY && send_frame(c, KIND_APP, msg, len) == 0) k++;
    }
    return k;
}

uint32_t mc_net_peer_count(const struct mc_net *n) {
    uint32_t k = 0;
    for (const struct conn *c = n->conns; c; c = c->next) k += c->state == C_READY;
    return k;
}

void mc_net_set_key(struct mc_net *n, const struct mc_keypair *key) {
    n->cfg.node_key = key;
    /* Every connection was authenticated under the old key: close them
     * all; dialed peers are redialed and the others dial us again. */
    struct conn *next;
    for (struct conn *c = n->conns; c; c = next) {
        next = c->next;
        conn_close(c, "our node key changed");
    }
}

uint32_t mc_net_recheck(struct mc_net *n) {
    if (!n->cfg.is_member) return 0;
    mc_pubkey gone[MC_NET_PEERS_MAX];
    uint32_t k = 0;
    for (struct conn *c = n->conns; c && k < MC_NET_PEERS_MAX; c = c->next)
        if (c->state == C_READY && !n->cfg.is_member(n->cfg.ctx, &c->peer)) gone[k++] = c->peer;
    for (uint32_t i = 0; i < k; i++) mc_net_drop(n, &gone[i], "no longer in the membership");
    return k;
}

void mc_net_drop(struct mc_net *n, const mc_pubkey *key, const char *why) {
    struct conn *c = ready_conn(n, key);
    if (c) conn_close(c, why);
}
