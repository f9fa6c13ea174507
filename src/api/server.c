/* HTTP server of the JSON API over libmicrohttpd; see server.h.
 *
 * Request life cycle (libmicrohttpd calls on_request several times):
 *   1. headers read: route the request (404/405/414 answered at once), and
 *      refuse a declared Content-Length above the route's bound with 413
 *      before any body byte is read;
 *   2. body chunks: appended to a buffer capped at the route's bound; a
 *      chunked body that grows past it is counted but no longer stored
 *      (answered 413 at the end), and one that passes MC_HTTP_BODY_MAX
 *      drops the connection;
 *   3. end of request: the route's handler runs and its JSON is sent.
 * Memory per connection is thus at most the route's body bound plus
 * libmicrohttpd's per-connection pool (MEMORY_PER_CONNECTION). */
#include "api/server.h"
#include "api/smart_tokens.h"
#include "node/exports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <sodium.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/fhir_reply.h"
#include "api/json_exact.h"
#include "api/httpsig.h"
#include "api/json_view.h"
#include "api/routes.h"
#include "api/static.h"
#include "base/log.h"

/* Request line and headers of one connection (libmicrohttpd answers 414
 * or 431 itself beyond it). */
#define MEMORY_PER_CONNECTION (64 * 1024)
/* Threads: the handlers block on the node (signature checks run outside
 * its lock), so use the cores, within reason. */
#define THREADS_MIN 8
#define THREADS_MAX 32

struct mc_api {
    struct MHD_Daemon *daemon;
    struct mc_node *node;
    char host[64];          /* the bind host as given */
    uint16_t port;
    bool tls;
    struct mc_static *web;  /* the web application (web/), NULL when absent */
};

/* The raw request target is bounded by MC_API_RAW_URI_MAX (routes.h). */

struct request {
    bool started;           /* headers seen and routed */
    void *sctx;             /* a streamed-body route's state until its end */
    crypto_hash_sha256_state sh; /* of the streamed body */
    mc_hash declared;       /* its declared Content-Digest */
    bool has_declared;
    char *raw_uri;          /* as sent, before percent-decoding (or NULL) */
    char *target_uri;       /* scheme://Host + raw_uri, for RFC 9421 */
    struct mc__api_match match;
    struct mc_buf body;
    uint64_t received;      /* body bytes seen, stored or not */
    bool too_large;         /* the body passed the route's bound */
    unsigned status;        /* sent status, for the log */
    struct timespec start;
    char method[12];
    char path[100];         /* truncated, printable copy for the log */
};

static const char oom_body[] = "{\"error\":\"nomem\",\"message\":\"Out of memory.\"}\n";

static enum MHD_Result send_raw(struct request *r, struct MHD_Connection *conn,
                                struct mc__api_response *res) {
    unsigned status = res->status ? res->status : 500;
    json_decref(res->body);
    res->body = NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(res->raw_len, res->raw, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(res->raw);
        res->raw = NULL;
        return MHD_NO;
    }
    res->raw = NULL;
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, res->raw_type);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* Pages carry no scripts and load nothing from elsewhere. */
    (void)MHD_add_response_header(resp, "Content-Security-Policy",
                                  "default-src 'none'; style-src 'unsafe-inline'");
    if (res->vary_accept) (void)MHD_add_response_header(resp, "Vary", "Accept");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    if (r) r->status = status;
    return ret;
}

struct stream_resp {
    long (*read)(void *ctx, char *buf, size_t max);
    void (*free)(void *ctx);
    void *ctx;
};

static ssize_t on_stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    struct stream_resp *sr = cls;
    long n = sr->read(sr->ctx, buf, max);
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void on_stream_free(void *cls) {
    struct stream_resp *sr = cls;
    sr->free(sr->ctx);
    free(sr);
}

/* A streamed answer (an attachment): its bytes with their own type, never
 * rendered by a browser as a page of this origin. */
static enum MHD_Result send_stream(struct request *r, struct MHD_Connection *conn,
                                   struct mc__api_response *res) {
    json_decref(res->body);
    res->body = NULL;
    struct stream_resp *sr = malloc(sizeof *sr);
    struct MHD_Response *resp = NULL;
    if (sr) {
        *sr = (struct stream_resp){res->stream_read, res->stream_free, res->stream_ctx};
        resp = MHD_create_response_from_callback(res->stream_size, MC_STREAM_CHUNK, on_stream_read, sr,
                                                 on_stream_free);
        if (!resp) free(sr);
    }
    if (!resp) {
        res->stream_free(res->stream_ctx);
        res->stream_read = NULL;
        return MHD_NO;
    }
    res->stream_read = NULL;
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, res->stream_type);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; sandbox");
    (void)MHD_add_response_header(resp, "Content-Disposition", "attachment");
    if (res->etag[0]) (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, res->etag);
    if (res->access_tx[0]) (void)MHD_add_response_header(resp, "X-Medchain-Access-Tx", res->access_tx);
    enum MHD_Result ret = MHD_queue_response(conn, res->status ? res->status : 200, resp);
    MHD_destroy_response(resp);
    if (r) r->status = res->status ? res->status : 200;
    return ret;
}

static enum MHD_Result send_json(struct request *r, struct MHD_Connection *conn,
                                 struct mc__api_response *res) {
    if (res->stream_read) return send_stream(r, conn, res);
    if (res->raw) return send_raw(r, conn, res);
    /* Every error on a FHIR route is an OperationOutcome, also the ones
     * this layer answers before a FHIR handler runs (404, 405, 413, 414). */
    if (r && mc__fhir_reply_is_path(r->path)) mc__fhir_reply_from_error(res);
    unsigned status = res->status ? res->status : 500;
    /* Numbers a FHIR resource came with are written as they were
     * (json_exact.h); any other body dumps as jansson does. */
    char *text = res->body ? mc_json_exact_dump(res->body, JSON_COMPACT, NULL) : NULL;
    json_decref(res->body);
    res->body = NULL;
    struct MHD_Response *resp = NULL;
    if (text) {
        size_t n = strlen(text);
        char *t = realloc(text, n + 2);
        if (t) {
            text = t;
            text[n++] = '\n';
            text[n] = 0;
        }
        resp = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
        if (!resp) free(text);
    }
    if (!resp) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        resp = MHD_create_response_from_buffer(sizeof oom_body - 1, (void *)oom_body,
                                               MHD_RESPMEM_PERSISTENT);
        if (!resp) return MHD_NO;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                  res->content_type ? res->content_type : "application/json");
    if (res->location[0]) (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, res->location);
    if (res->etag[0]) (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, res->etag);
    if (res->access_tx[0]) (void)MHD_add_response_header(resp, "X-Medchain-Access-Tx", res->access_tx);
    if (res->content_location[0]) (void)MHD_add_response_header(resp, "Content-Location", res->content_location);
    if (res->progress[0]) {
        (void)MHD_add_response_header(resp, "X-Progress", res->progress);
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (res->allow) (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, res->allow);
    if (res->vary_accept) (void)MHD_add_response_header(resp, "Vary", "Accept");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    if (r) r->status = status;
    return ret;
}

/* A file of the web application (static.h): immutable memory owned by the
 * API, with its caching and security headers; 304 when the client's copy
 * is current. */
static enum MHD_Result send_static(struct request *r, struct MHD_Connection *conn,
                                   const struct mc_static_file *f) {
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool fresh = mc_static_not_modified(f, inm);
    unsigned status = fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        fresh ? 0 : f->len, fresh ? NULL : (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    if (!fresh) (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, f->content_type);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, f->etag);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, f->cache_control);
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(resp, "Content-Security-Policy", MC_STATIC_CSP);
    (void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    (void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    (void)MHD_add_response_header(resp, "Permissions-Policy", "camera=(self), microphone=()");
    if (strcmp(r->path, "/") == 0) (void)MHD_add_response_header(resp, "Vary", "Accept");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    return ret;
}

/* The web file for a GET/HEAD, or NULL: never for the API's own prefixes,
 * and "/" only for a client that asks for HTML (the JSON route index stays
 * at "/" for everyone else). */
static const struct mc_static_file *web_file(const struct mc_api *api, struct MHD_Connection *conn,
                                             const char *method, const char *url) {
    if (!api->web || !url) return NULL;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return NULL;
    if (strncmp(url, "/v1/", 4) == 0 || strncmp(url, "/fhir", 5) == 0 || strncmp(url, "/01/", 4) == 0)
        return NULL;
    if (strcmp(url, "/") == 0 &&
        !mc_static_wants_html(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT)))
        return NULL;
    return mc_static_find(api->web, url);
}

static const char *query_arg(void *ctx, const char *name) {
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

struct arg_walk {
    int (*fn)(void *cls, const char *name, const char *value);
    void *cls;
    bool stop;
};

static enum MHD_Result arg_visit(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    struct arg_walk *w = cls;
    if (w->stop) return MHD_NO;
    if (w->fn(w->cls, key, value)) w->stop = true;
    return w->stop ? MHD_NO : MHD_YES;
}

static void each_arg(void *ctx, int (*fn)(void *cls, const char *name, const char *value), void *cls) {
    struct arg_walk w = {fn, cls, false};
    (void)MHD_get_connection_values(ctx, MHD_GET_ARGUMENT_KIND, arg_visit, &w);
}

static const char *header_value(void *ctx, const char *name) {
    return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

/* Called once per request before anything else, with the request target
 * as sent: keep it (bounded) for handlers that must see it undecoded. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
    struct request *r = calloc(1, sizeof *r);
    if (r && uri && strnlen(uri, MC_API_RAW_URI_MAX + 1) <= MC_API_RAW_URI_MAX)
        r->raw_uri = strdup(uri);
    return r;
}

static bool peer_is_loopback(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return false;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a)) return true;
        if (IN6_IS_ADDR_V4MAPPED(a)) return a->s6_addr[12] == 127;
    }
    return false;
}

/* The client's numeric address, "" when unknown. */
static void client_addr(struct MHD_Connection *conn, char *out, size_t size) {
    out[0] = 0;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size);
}

static void copy_printable(char *out, size_t size, const char *in) {
    size_t i = 0;
    for (; in && in[i] && i + 1 < size; i++)
        out[i] = (in[i] > 0x20 && in[i] < 0x7f) ? in[i] : '?';
    out[i] = 0;
}

static void fill_request(struct mc_api *api, struct MHD_Connection *conn, struct request *r, const char *method,
                         const char *url, struct mc__api_request *out);

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    struct mc_api *api = cls;
    struct request *r = *req_cls;
    struct mc__api_response res = {0};

    if (!r || !r->started) { /* 1. headers */
        if (!r) r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *req_cls = r;
        r->started = true;
        clock_gettime(CLOCK_MONOTONIC, &r->start);
        copy_printable(r->method, sizeof r->method, method);
        copy_printable(r->path, sizeof r->path, url);
        const struct mc_static_file *sf = web_file(api, conn, method, url);
        if (sf) return send_static(r, conn, sf);
        if (mc__api_lookup(&r->match, &res, method, url)) return send_json(r, conn, &res);
        if (r->match.stream) {
            const char *cl =
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            uint64_t declared;
            if (cl && (mc_api_parse_u64(&declared, cl) || declared > r->match.body_max)) {
                mc__api_fail(&res, 0, MC_ERR_TOO_LARGE, "the body exceeds %zu bytes", r->match.body_max);
                return send_json(r, conn, &res);
            }
            const char *cd = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Digest");
            r->has_declared = cd && mc_httpsig_digest_parse(cd, &r->declared) == 0;
            crypto_hash_sha256_init(&r->sh);
            /* a stalled or vanished uploader frees its upload soon (the
             * connection is closed when no byte came for this long) */
            (void)MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)MC_API_UPLOAD_IDLE_S);
            struct mc__api_request req;
            fill_request(api, conn, r, method, url, &req);
            if (r->match.stream->begin(api->node, r->match.param, &req, &r->sctx, &res)) {
                r->sctx = NULL;
                return send_json(r, conn, &res);
            }
            return MHD_YES;
        }
        if (r->match.body_max) {
            const char *cl =
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            uint64_t declared;
            if (cl && (mc_api_parse_u64(&declared, cl) || declared > r->match.body_max)) {
                mc__api_fail(&res, 0, MC_ERR_TOO_LARGE, "the body exceeds %zu bytes",
                             r->match.body_max);
                return send_json(r, conn, &res);
            }
            mc_buf_init(&r->body, r->match.body_max);
        }
        return MHD_YES;
    }

    if (*upload_data_size && r->match.stream) { /* 2. a streamed body */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        r->received += n;
        if (r->received > r->match.body_max) {
            r->too_large = true;
            return r->received > r->match.body_max + MC_HTTP_BODY_MAX ? MHD_NO : MHD_YES;
        }
        crypto_hash_sha256_update(&r->sh, (const uint8_t *)upload_data, n);
        if (r->sctx && r->match.stream->data(r->sctx, (const uint8_t *)upload_data, n)) {
            /* the route failed (its end answers): the rest is discarded */
        }
        return MHD_YES;
    }
    if (*upload_data_size) { /* 2. body */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        r->received += n;
        if (r->received > MC_HTTP_BODY_MAX) return MHD_NO;
        if (!r->match.body_max || r->too_large) return MHD_YES;
        if (n > r->match.body_max - r->body.len) {
            r->too_large = true;
            mc_buf_deinit(&r->body);
            return MHD_YES;
        }
        mc_buf_append(&r->body, upload_data, n);
        return MHD_YES;
    }

    /* 3. complete */
    if (r->match.stream) {
        struct mc__api_request req;
        fill_request(api, conn, r, method, url, &req);
        void *ctx = r->sctx;
        r->sctx = NULL;
        if (!ctx) return MHD_YES; /* refused at the headers: answered then */
        if (r->too_large) {
            r->match.stream->cancel(ctx);
            mc__api_fail(&res, 0, MC_ERR_TOO_LARGE, "the body exceeds %zu bytes", r->match.body_max);
            return send_json(r, conn, &res);
        }
        mc_hash h;
        crypto_hash_sha256_final(&r->sh, h.b);
        r->match.stream->end(api->node, ctx, &req, &h, r->received, &res);
        return send_json(r, conn, &res);
    }
    if (r->too_large) {
        mc__api_fail(&res, 0, MC_ERR_TOO_LARGE, "the body exceeds %zu bytes", r->match.body_max);
        return send_json(r, conn, &res);
    }
    if (r->body.err) {
        mc__api_fail(&res, 0, r->body.err, "cannot hold the body");
        return send_json(r, conn, &res);
    }
    struct mc__api_request req;
    fill_request(api, conn, r, method, url, &req);
    r->match.handler(api->node, r->match.param, &req, &res);
    return send_json(r, conn, &res);
}

static void fill_request(struct mc_api *api, struct MHD_Connection *conn, struct request *r, const char *method,
                         const char *url, struct mc__api_request *out) {
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!r->target_uri && r->raw_uri && host && strlen(host) < 256) {
        size_t n = strlen(r->raw_uri) + strlen(host) + 16;
        r->target_uri = malloc(n);
        if (r->target_uri)
            snprintf(r->target_uri, n, "%s://%s%s", api->tls ? "https" : "http", host, r->raw_uri);
    }
    struct mc__api_request req = {
        .header = header_value,
        .header_ctx = conn,
        .target_uri = r->target_uri,
        .secure = api->tls || peer_is_loopback(conn),
        .method = method,
        .path = url,
        .content_type =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = r->body.len ? r->body.data : NULL,
        .body_len = r->body.len,
        .arg = query_arg,
        .each_arg = each_arg,
        .arg_ctx = conn,
        .raw_uri = r->raw_uri,
        .local_host = api->host,
        .local_port = api->port,
    };
    client_addr(conn, req.client_addr, sizeof req.client_addr);
    if (r->match.stream) req.body_sha256 = r->has_declared ? &r->declared : NULL;
    *out = req;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    struct request *r = *req_cls;
    if (!r) return;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long us = (long long)(end.tv_sec - r->start.tv_sec) * 1000000 +
                   (end.tv_nsec - r->start.tv_nsec) / 1000;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        mc_log_debug("api", "%s %s %u %lld us", r->method, r->path, r->status, us);
    else
        mc_log_debug("api", "%s %s %u aborted (%d) after %lld us", r->method, r->path, r->status,
                     (int)toe, us);
    if (r->sctx) r->match.stream->cancel(r->sctx); /* the client went away mid-upload */
    r->sctx = NULL;
    mc_buf_deinit(&r->body);
    free(r->raw_uri);
    free(r->target_uri);
    free(r);
    *req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    mc_log_warn("api", "%s", line);
}

/* Parses an IPv4 or IPv6 literal (IPv6 optionally in brackets). */
static int parse_host(struct sockaddr_storage *ss, socklen_t *len, bool *v6, const char *host,
                      uint16_t port) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        *len = sizeof *a4;
        *v6 = false;
        return 0;
    }
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = 0;
        host = buf;
    }
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        *len = sizeof *a6;
        *v6 = true;
        return 0;
    }
    return MC_ERR_INVALID;
}

int mc_api_start(struct mc_api **out, struct mc_node *node, const char *host, uint16_t port) {
    return mc_api_start_tls(out, node, host, port, NULL, NULL);
}

int mc_api_start_tls(struct mc_api **out, struct mc_node *node, const char *host, uint16_t port,
                     const char *cert_pem, const char *key_pem) {
    *out = NULL;
    bool tls = cert_pem && key_pem;
    if ((cert_pem != NULL) != (key_pem != NULL))
        return mc_err_set(MC_ERR_INVALID, "TLS needs both a certificate and a key");
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return mc_err_set(MC_ERR_INVALID, "this libmicrohttpd has no TLS support");
    struct sockaddr_storage ss;
    socklen_t ss_len;
    bool v6;
    if (!host || parse_host(&ss, &ss_len, &v6, host, port))
        return mc_err_set(MC_ERR_INVALID, "API host '%.64s' is not an IPv4 or IPv6 address",
                          host ? host : "(null)");
    struct mc_api *api = calloc(1, sizeof *api);
    if (!api) return mc_err_set(MC_ERR_NOMEM, "out of memory starting the API");
    api->node = node;
    mc_exports_clear(node); /* outputs of exports from an earlier run */
    api->tls = tls;
    char web_root[512];
    if (mc_static_default_root(web_root, sizeof web_root) == 0 &&
        mc_static_load(&api->web, web_root) == 0)
        mc_log_info("api", "serving the web application from %s (%zu files)", web_root,
                    mc_static_count(api->web));
    else
        mc_log_info("api", "no web application found (%s); set MEDCHAIN_WEB_ROOT", web_root);

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cpus < THREADS_MIN ? THREADS_MIN
                       : cpus > THREADS_MAX ? THREADS_MAX
                                            : (unsigned)cpus;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (v6) flags |= MHD_USE_IPv6;
    if (tls) flags |= MHD_USE_TLS;
    errno = 0;
    /* TLS key and certificate (PEM in memory) ride in an option array,
     * empty without TLS. */
    struct MHD_OptionItem tls_opts[3] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    api->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, api,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api, /* first, so it sees every message */
        MHD_OPTION_ARRAY, tls ? tls_opts : &tls_opts[2],
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, api,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MC_API_CONNECTIONS_MAX,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MC_API_CONNECTIONS_PER_CLIENT_MAX,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)MC_API_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_PER_CONNECTION,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)256,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
        MHD_OPTION_END);
    if (!api->daemon) {
        int e = errno;
        mc_static_destroy(api->web);
        free(api);
        return mc_err_set(MC_ERR_IO, "cannot serve the API on %s:%u%s%s", host, (unsigned)port,
                          e ? ": " : " (address in use or not local?)", e ? strerror(e) : "");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
    api->port = info && info->port ? info->port : port;
    snprintf(api->host, sizeof api->host, "%s", host);
    char shown[INET6_ADDRSTRLEN] = "?";
    if (v6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, shown, sizeof shown);
    else inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, shown, sizeof shown);
    mc_log_info("api", "serving the JSON API on %s://%s%s%s:%u/ (%u threads)", tls ? "https" : "http", v6 ? "[" : "",
                shown, v6 ? "]" : "", (unsigned)api->port, threads);
    *out = api;
    return 0;
}

uint16_t mc_api_port(const struct mc_api *api) { return api ? api->port : 0; }

void mc_api_stop(struct mc_api *api) {
    if (!api) return;
    if (api->daemon) MHD_stop_daemon(api->daemon);
    /* what was refused since the last summary is written before the end */
    if (api->node) mc_api_flush_refusal_summaries(api->node);
    if (api->node) mc__api_bulk_stop(api->node);     /* exports end, their files deleted */
    if (api->node) mc__smart_forget_node(api->node); /* its tokens end with it */
    mc_static_destroy(api->web);
    free(api);
}
