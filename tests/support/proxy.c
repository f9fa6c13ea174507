/* Loopback TCP proxy (see proxy.h). */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define LINKS_MAX 64
#define PAIRS_MAX 256

struct link {
    int listen_fd;
    uint16_t port, target;
    atomic_bool cut;
};

struct pair {
    int a, b; /* a: accepted client side, b: connection to the target */
    int link;
};

struct tproxy {
    pthread_t th;
    atomic_bool stop;
    pthread_mutex_t mu;
    struct link links[LINKS_MAX];
    int nlinks;
    struct pair pairs[PAIRS_MAX];
    int npairs;
};

static int listen_any(uint16_t *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16)) {
        close(fd);
        return -1;
    }
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

static int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A target that stops reading (a paused process) must not freeze the proxy:
 * writes give up after this, and the pair is dropped like a closed one. */
static void bound_writes(int fd) {
    struct timeval tv = {0, 300 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void drop_pair(struct tproxy *p, int i) {
    close(p->pairs[i].a);
    close(p->pairs[i].b);
    p->pairs[i] = p->pairs[--p->npairs];
}

static void *serve(void *arg) {
    struct tproxy *p = arg;
    struct pollfd fds[LINKS_MAX + 2 * PAIRS_MAX];
    char buf[65536];
    while (!atomic_load(&p->stop)) {
        pthread_mutex_lock(&p->mu);
        /* cut links: close their connections */
        for (int i = 0; i < p->npairs;)
            if (atomic_load(&p->links[p->pairs[i].link].cut)) drop_pair(p, i);
            else i++;
        int n = 0;
        for (int i = 0; i < p->nlinks; i++) fds[n++] = (struct pollfd){p->links[i].listen_fd, POLLIN, 0};
        int base = n;
        for (int i = 0; i < p->npairs; i++) {
            fds[n++] = (struct pollfd){p->pairs[i].a, POLLIN, 0};
            fds[n++] = (struct pollfd){p->pairs[i].b, POLLIN, 0};
        }
        int nl = p->nlinks, np = p->npairs;
        pthread_mutex_unlock(&p->mu);
        if (poll(fds, (nfds_t)n, 20) <= 0) continue;
        pthread_mutex_lock(&p->mu);
        /* forward; iterate the pairs that existed when polled, backwards so
         * dropping one does not disturb the ones not yet visited */
        for (int i = np - 1; i >= 0; i--) {
            if (i >= p->npairs) continue;
            for (int side = 0; side < 2; side++) {
                short re = fds[base + 2 * i + side].revents;
                if (!re) continue;
                int from = side ? p->pairs[i].b : p->pairs[i].a;
                int to = side ? p->pairs[i].a : p->pairs[i].b;
                ssize_t k = read(from, buf, sizeof buf);
                if (k <= 0 || send(to, buf, (size_t)k, MSG_NOSIGNAL) != k) {
                    drop_pair(p, i);
                    break;
                }
            }
        }
        /* then new connections (after forwarding, which works on the pairs
         * as polled) */
        for (int i = 0; i < nl; i++) {
            if (!(fds[i].revents & POLLIN)) continue;
            int c = accept(p->links[i].listen_fd, NULL, NULL);
            if (c < 0) continue;
            int t = atomic_load(&p->links[i].cut) ? -1 : connect_to(p->links[i].target);
            if (t < 0) {
                close(c);
                continue;
            }
            /* full: the oldest connection gives way to the new one (a
             * redial replaces a connection its peer has given up on) */
            if (p->npairs == PAIRS_MAX) drop_pair(p, 0);
            bound_writes(c);
            bound_writes(t);
            p->pairs[p->npairs++] = (struct pair){c, t, i};
        }
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

struct tproxy *tproxy_start(void) {
    struct tproxy *p = calloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_create(&p->th, NULL, serve, p);
    return p;
}

int tproxy_link(struct tproxy *p, uint16_t target_port) {
    pthread_mutex_lock(&p->mu);
    struct link *l = &p->links[p->nlinks];
    l->listen_fd = listen_any(&l->port);
    l->target = target_port;
    atomic_store(&l->cut, false);
    int port = l->port;
    p->nlinks++;
    pthread_mutex_unlock(&p->mu);
    return port;
}

void tproxy_cut(struct tproxy *p, int port, bool cut) {
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nlinks; i++)
        if (p->links[i].port == port) atomic_store(&p->links[i].cut, cut);
    pthread_mutex_unlock(&p->mu);
}

void tproxy_dump(struct tproxy *p, FILE *out) {
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nlinks; i++)
        fprintf(out, "proxy link %u -> %u%s\n", p->links[i].port, p->links[i].target,
                atomic_load(&p->links[i].cut) ? " (cut)" : "");
    pthread_mutex_unlock(&p->mu);
}

int tproxy_pair_count(struct tproxy *p) {
    pthread_mutex_lock(&p->mu);
    int n = p->npairs;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void tproxy_stop(struct tproxy *p) {
    atomic_store(&p->stop, true);
    pthread_join(p->th, NULL);
    for (int i = 0; i < p->npairs; i++) {
        close(p->pairs[i].a);
        close(p->pairs[i].b);
    }
    for (int i = 0; i < p->nlinks; i++) close(p->links[i].listen_fd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
