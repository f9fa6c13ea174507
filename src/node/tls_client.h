/* A TLS client connection (GnuTLS) for the node's outbound feeds: the
 * audit syslog exporter (RFC 5425). The server's certificate must chain to
 * the configured CA file and name the host (or the configured server name);
 * a client certificate and key are presented when given (mutual TLS, as an
 * IHE ATNA Audit Record Repository asks). Connect, handshake, writes and
 * the closing exchange are each bounded by the timeout. Not thread-safe:
 * one connection belongs to one thread. */
#ifndef MC_NODE_TLS_CLIENT_H
#define MC_NODE_TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct mc_tls_client;

struct mc_tls_client_config {
    const char *host;         /* name or address to connect to */
    uint16_t port;
    const char *server_name;  /* name the certificate must carry; NULL: host */
    const char *ca_file;      /* PEM trust anchors (required) */
    const char *cert_file;    /* PEM client certificate, or NULL */
    const char *key_file;     /* PEM client key, with cert_file */
    uint32_t timeout_ms;
};

/* Connects and completes the handshake (certificate verified). Errors:
 * MC_ERR_IO (connect, handshake, verification; the detail says which). */
MC_MUST_CHECK int mc_tls_client_open(struct mc_tls_client **out, const struct mc_tls_client_config *cfg);
/* Writes all n bytes. MC_ERR_IO on failure. */
MC_MUST_CHECK int mc_tls_client_write(struct mc_tls_client *c, const void *p, size_t n);
/* Sends close_notify and waits for the peer to close its side (its
 * close_notify or an orderly end of stream): only then has the peer read
 * everything written before. MC_ERR_IO when it did not happen in time. */
MC_MUST_CHECK int mc_tls_client_finish(struct mc_tls_client *c);
/* Closes the socket and frees (no closing exchange). NULL is fine. */
void mc_tls_client_close(struct mc_tls_client *c);

#endif
