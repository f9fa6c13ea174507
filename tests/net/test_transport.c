/* The peer transport on loopback: members connect and exchange messages;
 * a node outside the membership is refused; garbage, silence and
 * oversized frames end the connection without harming the node. */
#include <arpa/inet.h>
#include <errno.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "base/limits.h"
#include "crypto/hash.h"
#include "net/frame.h"
#include "net/handshake.h"
#include "net/transport.h"

struct node {
    struct mc_keypair key;
    struct mc_net *net;
    int peers_up;
    int messages;
    char last[256];
    const mc_pubkey *members[4];
};

static bool is_member(void *ctx, const mc_pubkey *k) {
    struct node *n = ctx;
    for (int i = 0; i < 4 && n->members[i]; i++)
        if (memcmp(n->members[i]->b, k->b, 32) == 0) return true;
    return false;
}
static void on_message(void *ctx, const mc_pubkey *from, const uint8_t *m, size_t len) {
    struct node *n = ctx;
    n->messages++;
    snprintf(n->last, sizeof n->last, "%.*s", (int)len, (const char *)m);
}
static void on_peer(void *ctx, const mc_pubkey *k, bool up) {
    struct node *n = ctx;
    n->peers_up += up ? 1 : -1;
}

static uv_loop_t loop;

static void start(struct node *n, uint8_t seed, bool listen, uint32_t hs_timeout) {
    uint8_t s[32];
    memset(s, seed, 32);
    mc_keypair_from_seed(&n->key, s);
    struct mc_net_config cfg = {.chain_id = "medchain-net-test", .node_key = &n->key,
                                .listen_host = listen ? "127.0.0.1" : NULL, .listen_port = 0,
                                .handshake_timeout_ms = hs_timeout, .idle_timeout_ms = 3000,
                                .is_member = is_member, .on_message = on_message,
                                .on_peer = on_peer, .ctx = n};
    cr_assert_eq(mc_net_start(&n->net, &loop, &cfg), 0, "%s", mc_err_detail());
}

/* Runs the loop until cond() or about max_ms. */
static bool run_until(bool (*cond)(void *), void *arg, int max_ms) {
    for (int i = 0; i < max_ms / 5; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (cond(arg)) return true;
        usleep(5000);
    }
    return cond(arg);
}

static bool both_up(void *arg) {
    struct node **p = arg;
    return p[0]->peers_up == 1 && p[1]->peers_up == 1;
}
static bool got_message(void *arg) { return ((struct node *)arg)->messages > 0; }

static void shutdown_all(struct node **nodes, int k) {
    for (int i = 0; i < k; i++) mc_net_stop(nodes[i]->net);
    for (int i = 0; i < 50; i++) uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
}

Test(transport, members_connect_and_exchange_messages) {
    mc_crypto_init();
    uv_loop_init(&loop);
    static struct node a, b;
    start(&a, 1, true, 2000);
    start(&b, 2, true, 2000);
    a.members[0] = &b.key.pk;
    b.members[0] = &a.key.pk;
    /* both dial each other: the duplicate is resolved to one connection */
    cr_assert_eq(mc_net_dial(b.net, "127.0.0.1", mc_net_port(a.net)), 0);
    cr_assert_eq(mc_net_dial(a.net, "127.0.0.1", mc_net_port(b.net)), 0);
    struct node *pair[2] = {&a, &b};
    cr_assert(run_until(both_up, pair, 3000), "peers up: a=%d b=%d", a.peers_up, b.peers_up);
    run_until(both_up, pair, 300); /* let duplicate resolution settle */
    cr_assert_eq(mc_net_peer_count(a.net), 1);
    cr_assert_eq(mc_net_peer_count(b.net), 1);
    cr_assert_eq(mc_net_send(b.net, &a.key.pk, "prevote", 7), 0);
    cr_assert(run_until(got_message, &a, 2000));
    cr_assert_str_eq(a.last, "prevote");
    cr_assert_eq(mc_net_broadcast(a.net, "proposal", 8), 1);
    cr_assert(run_until(got_message, &b, 2000));
    cr_assert_str_eq(b.last, "proposal");
    struct node *all[2] = {&a, &b};
    shutdown_all(all, 2);
}

static bool a_has_peer(void *arg) { return ((struct node *)arg)->peers_up > 0; }

Test(transport, non_member_is_refused) {
    mc_crypto_init();
    uv_loop_init(&loop);
    static struct node a, c;
    start(&a, 1, true, 2000);
    start(&c, 9, false, 2000);
    c.members[0] = &a.key.pk; /* c thinks a is fine; a does not know c */
    cr_assert_eq(mc_net_dial(c.net, "127.0.0.1", mc_net_port(a.net)), 0);
    cr_assert_not(run_until(a_has_peer, &a, 1000), "a accepted a non-member");
    cr_assert_eq(c.peers_up, 0);
    cr_assert_eq(mc_net_peer_count(a.net), 0);
    /* and it cannot deliver anything */
    cr_assert_eq(a.messages, 0);
    struct node *all[2] = {&a, &c};
    shutdown_all(all, 2);
}

struct raw { uint16_t port; const void *send; size_t len; int closed_by_peer; };

/* A raw TCP client: sends bytes, then waits (up to 3 s) for the node to
 * close the connection. */
static void *raw_client(void *arg) {
    struct raw *r = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(r->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return NULL;
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (r->len) {
        ssize_t w = write(fd, r->send, r->len);
        (void)w;
    }
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            r->closed_by_peer = 1;
            break;
        }
        if (n < 0) break; /* timed out: still open */
    }
    close(fd);
    return NULL;
}

static bool thread_done(void *arg) { return ((struct raw *)arg)->closed_by_peer; }

static void expect_closed(struct node *a, const void *bytes, size_t len, const char *what) {
    struct raw r = {.port = mc_net_port(a->net), .send = bytes, .len = len};
    pthread_t th;
    pthread_create(&th, NULL, raw_client, &r);
    run_until(thread_done, &r, 3500);
    pthread_join(th, NULL);
    cr_assert(r.closed_by_peer, "%s: the node kept the connection open", what);
}

Test(transport, garbage_silence_and_oversize_end_the_connection, .timeout = 30) {
    mc_crypto_init();
    uv_loop_init(&loop);
    static struct node a;
    start(&a, 1, true, 400);
    static uint8_t garbage[8192];
    memset(garbage, 0x5a, sizeof garbage);
    expect_closed(&a, garbage, sizeof garbage, "garbage hello");
    expect_closed(&a, NULL, 0, "silent client");
    /* A proper-looking hello then a frame declaring 1 GiB before auth. */
    uint8_t hello[70 + 4];
    memcpy(hello, "MCN1\x01\x00", 6);
    memset(hello + 6, 9, 32);
    mc_hash ch;
    mc_sha256(&ch, "medchain-net-test", strlen("medchain-net-test"));
    memcpy(hello + 38, ch.b, 32);
    hello[70] = 0x40; hello[71] = 0; hello[72] = 0; hello[73] = 0;
    expect_closed(&a, hello, sizeof hello, "oversized frame before auth");
    cr_assert_eq(mc_net_peer_count(a.net), 0);
    struct node *all[1] = {&a};
    shutdown_all(all, 1);
}

/* A raw socket from another loopback address that never authenticates. */
static int idle_socket(uint16_t port, const char *from) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, from, &src.sin_addr);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether the node closed the socket (EOF or reset), without blocking. */
static bool closed_by_node(int fd) {
    char b[256];
    ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
    while (n > 0) n = recv(fd, b, sizeof b, MSG_DONTWAIT); /* the node's HELLO */
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Sockets that connect and never authenticate are capped apart from the
 * peers and time out: 80 of them from several addresses do not keep a
 * member out, no more than MC_NET_PREAUTH_CONNS_MAX (and
 * MC_NET_PREAUTH_PER_ADDR_MAX from one address) are kept, and those are
 * closed once the handshake deadline passes. */
Test(transport, unauthenticated_sockets_capped_apart_from_peers, .timeout = 30) {
    mc_crypto_init();
    uv_loop_init(&loop);
    static struct node a, b;
    start(&a, 1, true, 3000);
    start(&b, 2, false, 3000);
    a.members[0] = &b.key.pk;
    b.members[0] = &a.key.pk;
    enum { IDLE = 80 };
    static int fds[IDLE];
    for (int i = 0; i < IDLE; i++) {
        char from[32];
        snprintf(from, sizeof from, "127.0.0.%d", 2 + i / 10); /* 10 per address */
        fds[i] = idle_socket(mc_net_port(a.net), from);
        cr_assert_geq(fds[i], 0, "socket %d: %s", i, strerror(errno));
    }
    for (int i = 0; i < 60; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(5000);
    }
    /* A member dials while they are all open (well before the deadline). */
    cr_assert_eq(mc_net_dial(b.net, "127.0.0.1", mc_net_port(a.net)), 0);
    struct node *pair[2] = {&a, &b};
    cr_expect(run_until(both_up, pair, 1200), "the member was kept out: a=%d b=%d", a.peers_up,
              b.peers_up);
    int open = 0, per_addr[8] = {0};
    for (int i = 0; i < IDLE; i++)
        if (!closed_by_node(fds[i])) {
            open++;
            per_addr[i / 10]++;
        }
    cr_expect_leq(open, MC_NET_PREAUTH_CONNS_MAX, "%d unauthenticated sockets kept", open);
    for (int k = 0; k < 8; k++) cr_expect_leq(per_addr[k], MC_NET_PREAUTH_PER_ADDR_MAX);
    /* Past the handshake deadline none is left. */
    for (int i = 0; i < 700; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(5000);
    }
    open = 0;
    for (int i = 0; i < IDLE; i++) open += !closed_by_node(fds[i]);
    cr_expect_eq(open, 0, "%d unauthenticated sockets outlived the handshake deadline", open);
    cr_expect_eq(mc_net_peer_count(a.net), 1, "the member stays connected");
    for (int i = 0; i < IDLE; i++) close(fds[i]);
    struct node *all[2] = {&a, &b};
    shutdown_all(all, 2);
}

/* A member that sends its AUTH and its first messages in one write: a burst
 * well past the pre-authentication bound arrives in one read, and the node
 * must open the AUTH (which lifts the bound) before taking the rest, not
 * close the connection as "sent more than allowed". */
struct burst { uint16_t port; struct mc_keypair key; int sent, ok; };

enum { BURST_MESSAGES = 24, BURST_BYTES = 100 };

static bool read_full(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static void *burst_client(void *arg) {
    struct burst *b = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(b->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) goto out;
    struct mc_handshake hs;
    uint8_t eph[32];
    memset(eph, 0x33, sizeof eph);
    mc_hs_init(&hs, MC_HS_INITIATOR, "medchain-net-test", &b->key, eph);
    uint8_t peer_hello[MC_HS_HELLO_BYTES];
    if (write(fd, hs.hello, sizeof hs.hello) != (ssize_t)sizeof hs.hello) goto out;
    if (!read_full(fd, peer_hello, sizeof peer_hello)) goto out;
    if (mc_hs_on_hello(&hs, peer_hello, sizeof peer_hello) != 0) goto out;
    struct mc_frame_key send = {.counter = 0};
    memcpy(send.key, hs.send_key, sizeof send.key);
    struct mc_buf wire;
    mc_buf_init(&wire, 0);
    uint8_t auth[MC_HS_AUTH_BYTES];
    mc_hs_auth(&hs, auth);
    int rc = mc_frame_seal(&send, &wire, auth, sizeof auth);
    for (int i = 0; rc == 0 && i < BURST_MESSAGES; i++) {
        uint8_t m[1 + BURST_BYTES];
        m[0] = 1; /* an application message */
        memset(m + 1, 'a' + i % 26, BURST_BYTES);
        rc = mc_frame_seal(&send, &wire, m, sizeof m);
    }
    if (rc == 0 && wire.len > MC_NET_PREAUTH_BYTES &&
        write(fd, wire.data, wire.len) == (ssize_t)wire.len) {
        b->sent = (int)wire.len;
        /* Stay connected while the node reads; a close by the node shows as
         * EOF before the timeout. */
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) {}
        b->ok = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    mc_buf_deinit(&wire);
    mc_hs_wipe(&hs);
out:
    close(fd);
    return NULL;
}

static bool got_burst(void *arg) { return ((struct node *)arg)->messages >= BURST_MESSAGES; }

Test(transport, auth_and_first_messages_in_one_read_are_kept, .timeout = 30) {
    mc_crypto_init();
    uv_loop_init(&loop);
    static struct node a;
    start(&a, 1, true, 2000);
    static struct burst b;
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    mc_keypair_from_seed(&b.key, seed);
    b.port = mc_net_port(a.net);
    a.members[0] = &b.key.pk;
    pthread_t th;
    pthread_create(&th, NULL, burst_client, &b);
    bool all = run_until(got_burst, &a, 3000);
    int up = a.peers_up;
    run_until(got_burst, &a, 3500); /* until the client's read times out */
    pthread_join(th, NULL);
    cr_assert_gt(b.sent, MC_NET_PREAUTH_BYTES, "the client could not send its burst");
    cr_assert(all, "%d of %d messages delivered", a.messages, BURST_MESSAGES);
    cr_assert_eq(up, 1, "the member was not admitted");
    cr_assert(b.ok, "the node closed the connection of a member that sent a burst with its AUTH");
    struct node *nodes[1] = {&a};
    shutdown_all(nodes, 1);
}
