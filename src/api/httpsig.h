/* HTTP Message Signatures (RFC 9421) with Ed25519, and Content-Digest
 * (RFC 9530, sha-256), for the records API and its clients.
 *
 * medchain's profile (what mc_httpsig_verify_request demands):
 *   - one signature, the first member of Signature-Input, with the same
 *     label in Signature; alg="ed25519"; keyid = the signer's public key in
 *     64 lower-case hex digits;
 *   - created within MC_HTTPSIG_WINDOW_S seconds of the server's clock
 *     (either side), and expires, when present, not past;
 *   - a nonce of 8 to 128 characters (the replay cache keys on it);
 *   - covered components include "@method" and "@target-uri", and
 *     "content-digest" whenever the request has a body (the digest header
 *     must then match the body); any other covered header must be present.
 * The signature base is built exactly as RFC 9421 section 2.5 says, and
 * the @signature-params line re-serialises the parsed parameters in their
 * received order (RFC 8941 serialisation), so the base is canonical.
 *
 * Pure functions: no clock (now comes in), no allocation beyond the
 * caller's buffers, thread-safe. */
#ifndef MC_API_HTTPSIG_H
#define MC_API_HTTPSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/codec.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

/* Allowed clock difference for `created`. */
#define MC_HTTPSIG_WINDOW_S 300

/* The request as the server (or the signing client) sees it. */
struct mc_httpsig_message {
    const char *method;
    const char *target_uri;  /* absolute: scheme://authority/path?query */
    /* Field value by lower-case name, NULL when absent. */
    const char *(*header)(void *ctx, const char *name);
    void *header_ctx;
};

struct mc_httpsig_params {
    char label[MC_HTTPSIG_NAME_MAX + 1];
    size_t ncomp;
    char comp[MC_HTTPSIG_COMPONENTS_MAX][MC_HTTPSIG_NAME_MAX + 1];
    /* Parameters in received order, each with its RFC 8941 serialised value. */
    size_t nparam;
    char pname[MC_HTTPSIG_PARAMS_MAX][MC_HTTPSIG_NAME_MAX + 1];
    char pvalue[MC_HTTPSIG_PARAMS_MAX][MC_HTTPSIG_VALUE_MAX + 1];
    /* Decoded well-known parameters. */
    bool has_created, has_expires;
    int64_t created, expires;
    char keyid[MC_HTTPSIG_VALUE_MAX + 1];
    char alg[MC_HTTPSIG_VALUE_MAX + 1];
    char nonce[MC_HTTPSIG_VALUE_MAX + 1];
};

/* Parses the member `label` (NULL: the first member) of a Signature-Input
 * dictionary. MC_ERR_MALFORMED on syntax errors or unsupported forms
 * (component parameters), MC_ERR_TOO_LARGE past the bounds above,
 * MC_ERR_NOT_FOUND when the label is absent. */
MC_MUST_CHECK int mc_httpsig_parse_input(struct mc_httpsig_params *out, const char *header,
                                         const char *label);
/* Decodes the member `label` of a Signature dictionary (a byte sequence of
 * exactly 64 bytes). */
MC_MUST_CHECK int mc_httpsig_parse_signature(uint8_t sig[MC_SIG_BYTES], const char *header,
                                             const char *label);
/* Appends the serialised inner list with parameters, e.g.
 * ("@method" "@target-uri");created=1;keyid="k". */
void mc_httpsig_serialize_params(struct mc_buf *b, const struct mc_httpsig_params *p);
/* Appends the signature base (RFC 9421 section 2.5, no trailing newline).
 * MC_ERR_NOT_FOUND when a covered header is absent, MC_ERR_MALFORMED for
 * an unknown derived component or a target URI that does not parse, or a
 * component named twice. */
MC_MUST_CHECK int mc_httpsig_base(struct mc_buf *out, const struct mc_httpsig_params *p,
                                  const struct mc_httpsig_message *m);

/* Content-Digest value "sha-256=:<base64>:" of body; out needs 56 bytes. */
#define MC_CONTENT_DIGEST_LEN 56
void mc_httpsig_content_digest(char out[MC_CONTENT_DIGEST_LEN], const void *body, size_t len);
/* 0 when the header holds a sha-256 member matching body,
 * MC_ERR_BAD_SIGNATURE when it does not match, MC_ERR_MALFORMED otherwise. */
MC_MUST_CHECK int mc_httpsig_check_digest(const char *header, const void *body, size_t len);

/* The sha-256 member of a Content-Digest header; MC_ERR_MALFORMED when
 * there is none or it is not 32 bytes. */
MC_MUST_CHECK int mc_httpsig_digest_parse(const char *header, mc_hash *out);

struct mc_httpsig_verified {
    struct mc_httpsig_params params;
    mc_pubkey key;
    uint8_t sig[MC_SIG_BYTES];
    struct mc_buf base;   /* the signature base; owned: mc_buf_deinit */
};

/* Verifies a request under medchain's profile (see top), now_s being the
 * server's Unix time. On success fills out (out->base must be deinit'd by
 * the caller, also on failure: it may hold a partial base). Errors (detail
 * in mc_err_detail()): MC_ERR_MALFORMED (missing/garbled headers, profile
 * not met), MC_ERR_INVALID (created outside the window, expired),
 * MC_ERR_BAD_SIGNATURE (digest or signature mismatch). When the headers
 * parse far enough, out->params.keyid and out->key hold the claimed key
 * even on failure (for the access log). */
MC_MUST_CHECK int mc_httpsig_verify_request(struct mc_httpsig_verified *out,
                                            const struct mc_httpsig_message *m, const void *body,
                                            size_t len, int64_t now_s);

/* The same for a body that is not in memory (streamed): body_sha256 is its
 * SHA-256, or for a body still arriving the digest the request declares
 * (mc_httpsig_digest_parse), which the caller then compares with the
 * body's once it has arrived. */
MC_MUST_CHECK int mc_httpsig_verify_request_hashed(struct mc_httpsig_verified *out,
                                                   const struct mc_httpsig_message *m,
                                                   const mc_hash *body_sha256, int64_t now_s);

/* Client side: the three headers' values for a request. */
struct mc_httpsig_signed {
    char signature_input[MC_HTTPSIG_HEADER_MAX];
    char signature[128];
    char content_digest[MC_CONTENT_DIGEST_LEN];
};

/* Signs a request under medchain's profile: covers @method, @target-uri,
 * content-digest, and the extra header names given (lower-case; their
 * values through m->header). m->header must also answer
 * "content-digest" with out->content_digest - the function installs a
 * wrapper for that, so callers only supply their extra headers (or NULL). */
MC_MUST_CHECK int mc_httpsig_sign_request(struct mc_httpsig_signed *out,
                                          const struct mc_keypair *kp,
                                          const struct mc_httpsig_message *m, const void *body,
                                          size_t len, const char *const *extra, size_t nextra,
                                          int64_t created, const char *nonce);

/* The same for a body that is not in memory: body_sha256 is its SHA-256
 * (a streamed upload). */
MC_MUST_CHECK int mc_httpsig_sign_request_hashed(struct mc_httpsig_signed *out,
                                                 const struct mc_keypair *kp,
                                                 const struct mc_httpsig_message *m,
                                                 const mc_hash *body_sha256, const char *const *extra,
                                                 size_t nextra, int64_t created, const char *nonce);

/* Remembers (key, nonce) of accepted signed requests for twice the
 * `created` window, for every private route alike: 0 when new (and now
 * remembered), MC_ERR_EXISTS for a replay, MC_ERR_FULL when the bounded
 * cache has no room (the request is refused, never let through).
 * Thread-safe. */
MC_MUST_CHECK int mc_httpsig_replay_check(const mc_pubkey *key, const char *nonce, int64_t now_s);

#endif
