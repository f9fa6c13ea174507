/* The node's HTTP server: the JSON API under /v1 (routes listed by GET /).
 *
 * Runs libmicrohttpd with its own threads (a pool of epoll threads); every
 * request is answered with JSON, every failure with
 * {"error": "<mc_err_name>", "message": "<sentence>"} and a fitting status.
 * Bounds: at most MC_API_CONNECTIONS_MAX connections, an idle connection
 * is closed after MC_API_TIMEOUT_S seconds, request headers are capped by
 * libmicrohttpd's per-connection memory, and a body larger than its route
 * allows (never more than MC_HTTP_BODY_MAX) is refused with 413 before it
 * is buffered. */
#ifndef MC_API_SERVER_H
#define MC_API_SERVER_H

#include <stdint.h>

#include "base/limits.h"
#include "base/err.h"

/* Simultaneous connections; beyond it new connections are refused by the
 * server (the kernel's backlog holds them briefly). */
#define MC_API_CONNECTIONS_MAX 512
/* Simultaneous connections from one client address: a single client that
 * opens connections and trickles bytes (slowloris) holds at most this many,
 * so it cannot fill MC_API_CONNECTIONS_MAX and lock others out. Generous
 * for an integration gateway behind one address (browsers use six). */
#define MC_API_CONNECTIONS_PER_CLIENT_MAX 64
_Static_assert(MC_API_CONNECTIONS_PER_CLIENT_MAX * 4 <= MC_API_CONNECTIONS_MAX,
               "several clients at their limit still fit");
/* Seconds an idle connection is kept (a slow client's slots free up). */
#define MC_API_TIMEOUT_S 30
/* Seconds a streamed upload (an attachment) may send nothing before it is
 * dropped with everything it stored: a client that went away mid-upload
 * frees the store's pieces (or aborts the multipart upload) this soon. */
#define MC_API_UPLOAD_IDLE_S 5
_Static_assert(MC_API_UPLOAD_IDLE_S <= MC_API_TIMEOUT_S, "uploads are not kept longer than idle connections");

struct mc_node;
struct mc_api;

/* Starts serving the node's API on host:port. host is an IPv4 or IPv6
 * literal ("127.0.0.1", "::1" or "[::1]"), bound exactly; port 0 picks a
 * free port (see mc_api_port). Errors: MC_ERR_INVALID for a host that is
 * not an address literal, MC_ERR_IO when the address cannot be bound (in
 * use, not local, not permitted), MC_ERR_NOMEM; the detail is in
 * mc_err_detail(). On success *out is the running server, which the caller
 * stops with mc_api_stop before closing the node. Call from one thread. */
MC_MUST_CHECK int mc_api_start(struct mc_api **out, struct mc_node *node, const char *host,
                               uint16_t port);
/* The same over TLS (libmicrohttpd with GnuTLS): cert_pem and key_pem are
 * the PEM texts (not paths); both NULL means plain HTTP. The strings must
 * stay valid until mc_api_stop. Private data (records) is served only over
 * TLS or to loopback peers. MC_ERR_INVALID when only one is given or the
 * library lacks TLS; MC_ERR_IO when the key/certificate is refused. */
MC_MUST_CHECK int mc_api_start_tls(struct mc_api **out, struct mc_node *node, const char *host,
                                   uint16_t port, const char *cert_pem, const char *key_pem);
/* The port the server listens on (the chosen one when started with 0). */
uint16_t mc_api_port(const struct mc_api *api);
/* Stops accepting, waits for the requests in flight, frees the server.
 * NULL does nothing. */
void mc_api_stop(struct mc_api *api);

/* Writes every pending summary of refusals without a known signer (the
 * gate writes them at most every MC_API_UNAUTH_SUMMARY_MS); mc_api_stop
 * calls it. Thread-safe. */
void mc_api_flush_refusal_summaries(struct mc_node *node);

#endif
