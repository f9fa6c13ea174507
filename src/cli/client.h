/* HTTP client of the `medchain` command, on libcurl's easy interface.
 *
 * One client holds one curl handle, so successive requests (the commit
 * poll) reuse the connection. Limits: connecting takes at most 5 s, a whole
 * request at most 30 s, and a response body at most MC_CLIENT_BODY_MAX
 * bytes (a larger one fails the request rather than growing without bound).
 *
 * Errors are returned as mc_err codes with a one-line explanation in
 * mc_err_detail(), e.g. "cannot reach node at http://127.0.0.1:7700
 * (connection refused)". Not thread-safe: one client per thread. */
#ifndef MC_CLI_CLIENT_H
#define MC_CLI_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/limits.h"
#include "base/codec.h"
#include "base/err.h"

#define MC_CLIENT_CONNECT_TIMEOUT_MS 5000L
#define MC_CLIENT_TIMEOUT_MS 30000L
/* Extra headers one signed request covers (besides the three of the profile). */
#define MC_CLIENT_SIGNED_HEADERS_MAX 4

struct mc_client {
    void *curl;                      /* CURL * */
    char base[MC_CLIENT_URL_MAX];    /* scheme://host:port, no trailing '/' */
    char errbuf[256];                /* CURL_ERROR_SIZE */
    char cacert[MC_CLIENT_URL_MAX];  /* PEM file trusted for https:// ("" = system CAs) */
};

struct mc_client_response {
    long status;          /* HTTP status */
    struct mc_buf body;   /* raw body, NUL-terminated */
    json_t *json;         /* parsed body when it is JSON, else NULL (owned) */
    char access_tx[65];   /* X-Medchain-Access-Tx of the answer, "" when absent */
    char location[256];   /* Location of the answer, "" when absent */
};

/* base_url must start with http:// or https://. MC_ERR_INVALID otherwise. */
MC_MUST_CHECK int mc_client_init(struct mc_client *c, const char *base_url);
void mc_client_deinit(struct mc_client *c);

/* Sends method (GET or POST) to base + path (path starts with '/'). Returns
 * 0 when any HTTP response arrived (inspect r->status), or MC_ERR_IO /
 * MC_ERR_TOO_LARGE when none did. r is initialised in every case; release
 * it with mc_client_response_deinit. */
MC_MUST_CHECK int mc_client_request(struct mc_client *c, const char *method, const char *path,
                                    const char *content_type, const void *body, size_t body_len,
                                    struct mc_client_response *r);
void mc_client_response_deinit(struct mc_client_response *r);

/* Trusts the CA certificate(s) in the PEM file path for https:// nodes
 * (a self-signed test node), instead of the system's CAs. */
MC_MUST_CHECK int mc_client_set_cacert(struct mc_client *c, const char *path);

/* One extra request header of a signed request. name is lower-case (it is
 * covered by the signature under that name); value is one line of
 * printable ASCII. */
struct mc_client_header {
    const char *name;
    const char *value;
};

struct mc_keypair;
/* Like mc_client_request, but signed by kp per RFC 9421 under medchain's
 * profile (api/httpsig.h): Content-Digest of the body, Signature-Input and
 * Signature covering @method, @target-uri, content-digest and every extra
 * header, created now, a fresh random nonce. method is GET, POST or PUT. */
MC_MUST_CHECK int mc_client_request_signed(struct mc_client *c, const char *method,
                                           const char *path, const char *content_type,
                                           const void *body, size_t body_len,
                                           const struct mc_keypair *kp,
                                           const struct mc_client_header *extra, size_t nextra,
                                           struct mc_client_response *r);

/* A signed transfer too large to hold in memory (an attachment). With
 * upload set, its upload_len bytes (whose SHA-256 is upload_sha, which the
 * signature covers) are the body, read as they are sent; with download
 * set, a 2xx answer's body is written to it as it arrives, any size
 * (*written counts it; an answer cut short is MC_ERR_IO), and any other
 * answer lands in r as usual. No total timeout: a transfer that moves
 * nothing for MC_CLIENT_STALL_S seconds fails. method is GET or POST. */
#define MC_CLIENT_STALL_S 30
MC_MUST_CHECK int mc_client_transfer_signed(struct mc_client *c, const char *method, const char *path,
                                            const char *content_type, FILE *upload, uint64_t upload_len,
                                            const uint8_t upload_sha[32], FILE *download, uint64_t *written,
                                            const struct mc_keypair *kp, struct mc_client_response *r);

/* The server's explanation of a failed response: its "message" (with the
 * "error" name in front when there is one), else the start of the body,
 * else the HTTP status. Written to buf (always NUL-terminated). */
const char *mc_client_error_text(const struct mc_client_response *r, char *buf, size_t size);
/* The mc_err code a failed response names in its "error" field (e.g.
 * "bad_nonce"), or one derived from the HTTP status. */
int mc_client_error_code(const struct mc_client_response *r);

/* GET path and require a 2xx JSON object. On success *out holds a new
 * reference (json_decref it). On an error answer returns the server's code
 * with its text in mc_err_detail(). */
MC_MUST_CHECK int mc_client_get_json(struct mc_client *c, const char *path, json_t **out);

#endif
