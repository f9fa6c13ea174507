/* GnuTLS client connections (see tls_client.h). */
#include "node/tls_client.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct mc_tls_client {
    int fd;
    gnutls_session_t s;
    gnutls_certificate_credentials_t cred;
    bool has_session, has_cred;
    uint32_t timeout_ms;
};

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for the socket until the deadline; false on timeout. */
static bool wait_fd(int fd, short ev, uint64_t deadline) {
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= deadline) return false;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, (int)(deadline - now));
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return false;
    }
}

static int connect_tcp(const char *host, uint16_t port, uint32_t timeout_ms, int *fd_out) {
    char ps[8];
    snprintf(ps, sizeof ps, "%u", (unsigned)port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(host, ps, &hints, &res);
    if (g) return mc_err_set(MC_ERR_IO, "cannot resolve %s: %s", host, gai_strerror(g));
    int rc = mc_err_set(MC_ERR_IO, "cannot connect to %s:%u", host, (unsigned)port);
    uint64_t deadline = mono_ms() + timeout_ms;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int c = connect(fd, a->ai_addr, a->ai_addrlen);
        if (c != 0 && errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline)) {
            int err = 0;
            socklen_t el = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
            c = err ? -1 : 0;
            if (err) errno = err;
        }
        if (c == 0) {
            *fd_out = fd;
            rc = 0;
            break;
        }
        rc = mc_err_set(MC_ERR_IO, "cannot connect to %s:%u: %s", host, (unsigned)port, strerror(errno));
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

void mc_tls_client_close(struct mc_tls_client *c) {
    if (!c) return;
    if (c->has_session) gnutls_deinit(c->s);
    if (c->has_cred) gnutls_certificate_free_credentials(c->cred);
    if (c->fd >= 0) close(c->fd);
    free(c);
}

int mc_tls_client_open(struct mc_tls_client **out, const struct mc_tls_client_config *cfg) {
    *out = NULL;
    if (!cfg->ca_file || !cfg->host) return mc_err_set(MC_ERR_INVALID, "TLS needs a host and a CA file");
    struct mc_tls_client *c = calloc(1, sizeof *c);
    if (!c) return MC_ERR_NOMEM;
    c->fd = -1;
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
    int rc = 0;
    if (gnutls_certificate_allocate_credentials(&c->cred) != GNUTLS_E_SUCCESS) rc = MC_ERR_NOMEM;
    else c->has_cred = true;
    if (!rc && gnutls_certificate_set_x509_trust_file(c->cred, cfg->ca_file, GNUTLS_X509_FMT_PEM) <= 0)
        rc = mc_err_set(MC_ERR_IO, "cannot read a CA certificate from %s", cfg->ca_file);
    if (!rc && cfg->cert_file) {
        int g = gnutls_certificate_set_x509_key_file(c->cred, cfg->cert_file, cfg->key_file ? cfg->key_file : cfg->cert_file,
                                                     GNUTLS_X509_FMT_PEM);
        if (g < 0) rc = mc_err_set(MC_ERR_IO, "cannot load the client certificate %s: %s", cfg->cert_file, gnutls_strerror(g));
    }
    if (!rc) rc = connect_tcp(cfg->host, cfg->port, c->timeout_ms, &c->fd);
    if (!rc && gnutls_init(&c->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK) != GNUTLS_E_SUCCESS) rc = MC_ERR_NOMEM;
    else if (!rc) c->has_session = true;
    const char *name = cfg->server_name && cfg->server_name[0] ? cfg->server_name : cfg->host;
    if (!rc && (gnutls_set_default_priority(c->s) != GNUTLS_E_SUCCESS ||
                gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, c->cred) != GNUTLS_E_SUCCESS))
        rc = mc_err_set(MC_ERR_IO, "cannot set up the TLS session");
    if (!rc) {
        gnutls_server_name_set(c->s, GNUTLS_NAME_DNS, name, strlen(name));
        gnutls_session_set_verify_cert(c->s, name, 0);
        gnutls_transport_set_int(c->s, c->fd);
        uint64_t deadline = mono_ms() + c->timeout_ms;
        int g;
        do {
            g = gnutls_handshake(c->s);
            if (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED) {
                if (!wait_fd(c->fd, gnutls_record_get_direction(c->s) ? POLLOUT : POLLIN, deadline)) {
                    rc = mc_err_set(MC_ERR_IO, "TLS handshake with %s:%u timed out", cfg->host, (unsigned)cfg->port);
                    break;
                }
            }
        } while (g < 0 && gnutls_error_is_fatal(g) == 0);
        if (!rc && g < 0) {
            if (g == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
                gnutls_datum_t why = {0};
                unsigned st = gnutls_session_get_verify_cert_status(c->s);
                gnutls_certificate_verification_status_print(st, gnutls_certificate_type_get(c->s), &why, 0);
                rc = mc_err_set(MC_ERR_IO, "the certificate of %s:%u does not verify: %s", cfg->host,
                                (unsigned)cfg->port, why.data ? (const char *)why.data : "?");
                gnutls_free(why.data);
            } else {
                rc = mc_err_set(MC_ERR_IO, "TLS handshake with %s:%u failed: %s", cfg->host, (unsigned)cfg->port,
                                gnutls_strerror(g));
            }
        }
    }
    if (rc) {
        mc_tls_client_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int mc_tls_client_write(struct mc_tls_client *c, const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t deadline = mono_ms() + c->timeout_ms;
    while (n) {
        ssize_t w = gnutls_record_send(c->s, b, n);
        if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
            /* a non-blocking send that stalled is resumed with no data */
            if (!wait_fd(c->fd, POLLOUT, deadline)) return mc_err_set(MC_ERR_IO, "TLS write timed out");
            w = gnutls_record_send(c->s, NULL, 0);
            if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) continue;
        }
        if (w < 0) return mc_err_set(MC_ERR_IO, "TLS write failed: %s", gnutls_strerror((int)w));
        b += w;
        n -= (size_t)w;
        deadline = mono_ms() + c->timeout_ms;
    }
    return 0;
}

int mc_tls_client_finish(struct mc_tls_client *c) {
    uint64_t deadline = mono_ms() + c->timeout_ms;
    int g;
    /* our close_notify */
    while ((g = gnutls_bye(c->s, GNUTLS_SHUT_WR)) == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED)
        if (!wait_fd(c->fd, POLLOUT, deadline)) return mc_err_set(MC_ERR_IO, "TLS close timed out");
    if (g < 0) return mc_err_set(MC_ERR_IO, "TLS close failed: %s", gnutls_strerror(g));
    /* then read until the peer closes: it has read all we sent */
    uint8_t buf[512];
    for (;;) {
        ssize_t r = gnutls_record_recv(c->s, buf, sizeof buf);
        if (r == 0) return 0;
        if (r == GNUTLS_E_PREMATURE_TERMINATION) return 0; /* end of stream after our close_notify */
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
            if (!wait_fd(c->fd, POLLIN, deadline))
                return mc_err_set(MC_ERR_IO, "the receiver did not close the connection in time");
            continue;
        }
        if (r > 0) continue; /* a syslog receiver sends nothing; ignore it */
        return mc_err_set(MC_ERR_IO, "TLS read failed: %s", gnutls_strerror((int)r));
    }
}
