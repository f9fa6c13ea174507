/* RFC 9421 signature bases, a small RFC 8941 parser for Signature-Input and
 * Signature, RFC 9530 Content-Digest (see httpsig.h). */
#include "api/httpsig.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/hash.h"

/* --- RFC 8941 parsing --- */

struct sf {
    const char *p;
    int err;
};

static void ows(struct sf *s) {
    while (*s->p == ' ' || *s->p == '\t') s->p++;
}
static void sp(struct sf *s) {
    while (*s->p == ' ') s->p++;
}

static bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }

/* key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ) */
static void parse_key(struct sf *s, char *out, size_t size) {
    size_t n = 0;
    if (!(is_lcalpha(*s->p) || *s->p == '*')) {
        s->err = MC_ERR_MALFORMED;
        return;
    }
    while (is_lcalpha(*s->p) || isdigit((unsigned char)*s->p) || *s->p == '_' || *s->p == '-' ||
           *s->p == '.' || *s->p == '*') {
        if (n + 1 >= size) {
            s->err = MC_ERR_TOO_LARGE;
            return;
        }
        out[n++] = *s->p++;
    }
    out[n] = 0;
}

/* sf-string into out (unescaped); *raw gets its serialisation. */
static void parse_string(struct sf *s, char *out, size_t size) {
    if (*s->p != '"') {
        s->err = MC_ERR_MALFORMED;
        return;
    }
    s->p++;
    size_t n = 0;
    for (;;) {
        char c = *s->p;
        if (c == 0) {
            s->err = MC_ERR_MALFORMED;
            return;
        }
        s->p++;
        if (c == '"') break;
        if (c == '\\') {
            c = *s->p;
            if (c != '"' && c != '\\') {
                s->err = MC_ERR_MALFORMED;
                return;
            }
            s->p++;
        } else if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e) {
            s->err = MC_ERR_MALFORMED;
            return;
        }
        if (n + 1 >= size) {
            s->err = MC_ERR_TOO_LARGE;
            return;
        }
        out[n++] = c;
    }
    out[n] = 0;
}

static void serialize_string(char *out, size_t size, const char *v, int *err) {
    size_t n = 0;
    if (size < 3) {
        *err = MC_ERR_TOO_LARGE;
        return;
    }
    out[n++] = '"';
    for (; *v; v++) {
        if (n + 3 >= size) {
            *err = MC_ERR_TOO_LARGE;
            return;
        }
        if (*v == '"' || *v == '\\') out[n++] = '\\';
        out[n++] = *v;
    }
    out[n++] = '"';
    out[n] = 0;
}

/* A bare item as a parameter value: integer, string, token or boolean.
 * value gets the decoded text, raw the serialisation. */
static void parse_bare(struct sf *s, char *value, char *raw, size_t size, bool *is_int,
                       int64_t *ival) {
    *is_int = false;
    const char *c = s->p;
    if (*c == '"') {
        parse_string(s, value, size);
        if (!s->err) serialize_string(raw, size, value, &s->err);
        return;
    }
    if (*c == '-' || isdigit((unsigned char)*c)) {
        bool neg = *c == '-';
        if (neg) c++;
        int64_t v = 0;
        int digits = 0;
        while (isdigit((unsigned char)*c)) {
            if (++digits > 15) {
                s->err = MC_ERR_MALFORMED;
                return;
            }
            v = v * 10 + (*c - '0');
            c++;
        }
        if (!digits || *c == '.') {
            s->err = MC_ERR_MALFORMED; /* decimals are not used by RFC 9421 */
            return;
        }
        s->p = c;
        *is_int = true;
        *ival = neg ? -v : v;
        snprintf(raw, size, "%lld", (long long)*ival);
        snprintf(value, size, "%lld", (long long)*ival);
        return;
    }
    if (*c == '?') {
        if (c[1] != '0' && c[1] != '1') {
            s->err = MC_ERR_MALFORMED;
            return;
        }
        snprintf(raw, size, "?%c", c[1]);
        snprintf(value, size, "%c", c[1]);
        s->p = c + 2;
        return;
    }
    if (isalpha((unsigned char)*c) || *c == '*') {
        size_t n = 0;
        while (isalnum((unsigned char)*c) || strchr("!#$%&'*+-.^_`|~:/", *c)) {
            if (*c == 0) break;
            if (n + 1 >= size) {
                s->err = MC_ERR_TOO_LARGE;
                return;
            }
            value[n++] = *c++;
        }
        value[n] = 0;
        memcpy(raw, value, n + 1);
        s->p = c;
        return;
    }
    s->err = MC_ERR_MALFORMED;
}

/* Skips to the member after the current one (for labels we do not want):
 * respects strings and parentheses. */
static void skip_member(struct sf *s) {
    int depth = 0;
    while (*s->p) {
        char c = *s->p;
        if (c == '"') {
            s->p++;
            while (*s->p && *s->p != '"') {
                if (*s->p == '\\' && s->p[1]) s->p++;
                s->p++;
            }
            if (*s->p) s->p++;
            continue;
        }
        if (c == '(') depth++;
        if (c == ')') depth--;
        if (c == ',' && depth == 0) return;
        s->p++;
    }
}

int mc_httpsig_parse_input(struct mc_httpsig_params *out, const char *header, const char *label) {
    memset(out, 0, sizeof *out);
    if (!header) return mc_err_set(MC_ERR_MALFORMED, "no Signature-Input header");
    if (strlen(header) > MC_HTTPSIG_HEADER_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "Signature-Input exceeds %d bytes", MC_HTTPSIG_HEADER_MAX);
    struct sf s = {.p = header};
    ows(&s);
    for (;;) {
        char key[MC_HTTPSIG_NAME_MAX + 1];
        parse_key(&s, key, sizeof key);
        if (s.err) break;
        if (*s.p != '=') {
            s.err = MC_ERR_MALFORMED;
            break;
        }
        s.p++;
        if (label && strcmp(label, key) != 0) {
            skip_member(&s);
        } else {
            snprintf(out->label, sizeof out->label, "%s", key);
            if (*s.p != '(') {
                s.err = MC_ERR_MALFORMED;
                break;
            }
            s.p++;
            for (;;) {
                sp(&s);
                if (*s.p == ')') {
                    s.p++;
                    break;
                }
                if (out->ncomp == MC_HTTPSIG_COMPONENTS_MAX) {
                    s.err = MC_ERR_TOO_LARGE;
                    break;
                }
                parse_string(&s, out->comp[out->ncomp], sizeof out->comp[0]);
                if (s.err) break;
                for (size_t i = 0; i < out->ncomp; i++)
                    if (strcmp(out->comp[i], out->comp[out->ncomp]) == 0) s.err = MC_ERR_MALFORMED;
                for (const char *c = out->comp[out->ncomp]; *c; c++)
                    if (isupper((unsigned char)*c)) s.err = MC_ERR_MALFORMED;
                out->ncomp++;
                if (*s.p == ';') s.err = MC_ERR_MALFORMED; /* component parameters: unsupported */
                if (s.err) break;
                if (*s.p != ' ' && *s.p != ')') {
                    s.err = MC_ERR_MALFORMED;
                    break;
                }
            }
            while (!s.err && *s.p == ';') {
                s.p++;
                sp(&s);
                if (out->nparam == MC_HTTPSIG_PARAMS_MAX) {
                    s.err = MC_ERR_TOO_LARGE;
                    break;
                }
                size_t k = out->nparam;
                parse_key(&s, out->pname[k], sizeof out->pname[k]);
                if (s.err) break;
                for (size_t i = 0; i < k; i++)
                    if (strcmp(out->pname[i], out->pname[k]) == 0) s.err = MC_ERR_MALFORMED;
                char value[MC_HTTPSIG_VALUE_MAX + 1];
                bool is_int = false;
                int64_t iv = 0;
                if (*s.p == '=') {
                    s.p++;
                    parse_bare(&s, value, out->pvalue[k], sizeof out->pvalue[k], &is_int, &iv);
                } else {
                    snprintf(value, sizeof value, "1");
                    out->pvalue[k][0] = 0; /* boolean true: serialised as the bare key */
                }
                if (s.err) break;
                out->nparam++;
                const char *name = out->pname[k];
                if (strcmp(name, "created") == 0 || strcmp(name, "expires") == 0) {
                    if (!is_int || iv < 0) {
                        s.err = MC_ERR_MALFORMED;
                        break;
                    }
                    if (name[0] == 'c') out->has_created = true, out->created = iv;
                    else out->has_expires = true, out->expires = iv;
                } else if (strcmp(name, "keyid") == 0) {
                    snprintf(out->keyid, sizeof out->keyid, "%s", value);
                } else if (strcmp(name, "alg") == 0) {
                    snprintf(out->alg, sizeof out->alg, "%s", value);
                } else if (strcmp(name, "nonce") == 0) {
                    snprintf(out->nonce, sizeof out->nonce, "%s", value);
                }
            }
            if (s.err) break;
            ows(&s);
            if (*s.p && *s.p != ',') {
                s.err = MC_ERR_MALFORMED;
                break;
            }
            return 0;
        }
        ows(&s);
        if (*s.p != ',') break;
        s.p++;
        ows(&s);
    }
    if (s.err == MC_ERR_TOO_LARGE) return mc_err_set(MC_ERR_TOO_LARGE, "Signature-Input exceeds a bound");
    if (s.err) return mc_err_set(MC_ERR_MALFORMED, "Signature-Input is not a valid dictionary of signature parameters");
    return mc_err_set(MC_ERR_NOT_FOUND, "Signature-Input has no member '%s'", label ? label : "");
}

int mc_httpsig_parse_signature(uint8_t sig[MC_SIG_BYTES], const char *header, const char *label) {
    if (!header) return mc_err_set(MC_ERR_MALFORMED, "no Signature header");
    if (strlen(header) > MC_HTTPSIG_HEADER_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "Signature exceeds %d bytes", MC_HTTPSIG_HEADER_MAX);
    struct sf s = {.p = header};
    ows(&s);
    while (*s.p) {
        char key[MC_HTTPSIG_NAME_MAX + 1];
        parse_key(&s, key, sizeof key);
        if (s.err || *s.p != '=') break;
        s.p++;
        if (strcmp(key, label) == 0) {
            if (*s.p != ':') break;
            const char *start = ++s.p;
            const char *end = strchr(start, ':');
            if (!end) break;
            size_t bin_len = 0;
            uint8_t buf[MC_SIG_BYTES + 3];
            if (sodium_base642bin(buf, sizeof buf, start, (size_t)(end - start), NULL, &bin_len,
                                  NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
                bin_len != MC_SIG_BYTES)
                return mc_err_set(MC_ERR_MALFORMED, "the signature is not 64 bytes of base64");
            memcpy(sig, buf, MC_SIG_BYTES);
            return 0;
        }
        skip_member(&s);
        ows(&s);
        if (*s.p != ',') break;
        s.p++;
        ows(&s);
    }
    return mc_err_set(MC_ERR_MALFORMED, "the Signature header has no member '%s'", label);
}

void mc_httpsig_serialize_params(struct mc_buf *b, const struct mc_httpsig_params *p) {
    mc_buf_append(b, "(", 1);
    for (size_t i = 0; i < p->ncomp; i++) {
        int err = 0;
        char q[MC_HTTPSIG_NAME_MAX * 2 + 3];
        serialize_string(q, sizeof q, p->comp[i], &err);
        if (i) mc_buf_append(b, " ", 1);
        mc_buf_append(b, q, strlen(q));
    }
    mc_buf_append(b, ")", 1);
    for (size_t i = 0; i < p->nparam; i++) {
        mc_buf_append(b, ";", 1);
        mc_buf_append(b, p->pname[i], strlen(p->pname[i]));
        if (p->pvalue[i][0]) {
            mc_buf_append(b, "=", 1);
            mc_buf_append(b, p->pvalue[i], strlen(p->pvalue[i]));
        }
    }
}

/* --- target URI pieces --- */

struct uri {
    const char *scheme;
    size_t scheme_len;
    const char *authority;
    size_t authority_len;
    const char *path;
    size_t path_len;
    const char *query; /* after '?', NULL when none */
    size_t query_len;
};

static int parse_uri(struct uri *u, const char *s) {
    memset(u, 0, sizeof *u);
    const char *colon = strstr(s, "://");
    if (!s || !colon || colon == s) return MC_ERR_MALFORMED;
    u->scheme = s;
    u->scheme_len = (size_t)(colon - s);
    u->authority = colon + 3;
    const char *p = u->authority;
    while (*p && *p != '/' && *p != '?' && *p != '#') p++;
    u->authority_len = (size_t)(p - u->authority);
    if (!u->authority_len) return MC_ERR_MALFORMED;
    u->path = p;
    while (*p && *p != '?' && *p != '#') p++;
    u->path_len = (size_t)(p - u->path);
    if (*p == '?') {
        u->query = p + 1;
        const char *q = u->query;
        while (*q && *q != '#') q++;
        u->query_len = (size_t)(q - u->query);
    }
    return 0;
}

static void append_lower(struct mc_buf *b, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)p[i]);
        mc_buf_append(b, &c, 1);
    }
}

static void trim(const char **v, size_t *n) {
    while (*n && (**v == ' ' || **v == '\t')) (*v)++, (*n)--;
    while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t')) (*n)--;
}

int mc_httpsig_base(struct mc_buf *out, const struct mc_httpsig_params *p,
                    const struct mc_httpsig_message *m) {
    struct uri u;
    bool have_uri = m->target_uri && parse_uri(&u, m->target_uri) == 0;
    for (size_t i = 0; i < p->ncomp; i++) {
        const char *c = p->comp[i];
        mc_buf_printf(out, "\"%s\": ", c);
        if (c[0] == '@') {
            if (strcmp(c, "@method") == 0) {
                mc_buf_append(out, m->method, strlen(m->method));
            } else if (!have_uri) {
                return mc_err_set(MC_ERR_MALFORMED, "the target URI does not parse");
            } else if (strcmp(c, "@target-uri") == 0) {
                mc_buf_append(out, m->target_uri, strlen(m->target_uri));
            } else if (strcmp(c, "@authority") == 0) {
                size_t n = u.authority_len;
                /* Default ports are omitted (RFC 9421 2.2.3). */
                if (u.scheme_len == 5 && strncasecmp(u.scheme, "https", 5) == 0 && n > 4 &&
                    memcmp(u.authority + n - 4, ":443", 4) == 0)
                    n -= 4;
                if (u.scheme_len == 4 && strncasecmp(u.scheme, "http", 4) == 0 && n > 3 &&
                    memcmp(u.authority + n - 3, ":80", 3) == 0)
                    n -= 3;
                append_lower(out, u.authority, n);
            } else if (strcmp(c, "@scheme") == 0) {
                append_lower(out, u.scheme, u.scheme_len);
            } else if (strcmp(c, "@path") == 0) {
                if (u.path_len) mc_buf_append(out, u.path, u.path_len);
                else mc_buf_append(out, "/", 1);
            } else if (strcmp(c, "@query") == 0) {
                mc_buf_append(out, "?", 1);
                if (u.query) mc_buf_append(out, u.query, u.query_len);
            } else if (strcmp(c, "@request-target") == 0) {
                if (u.path_len) mc_buf_append(out, u.path, u.path_len);
                else mc_buf_append(out, "/", 1);
                if (u.query) {
                    mc_buf_append(out, "?", 1);
                    mc_buf_append(out, u.query, u.query_len);
                }
            } else {
                return mc_err_set(MC_ERR_MALFORMED, "derived component %s is not supported", c);
            }
        } else {
            const char *v = m->header ? m->header(m->header_ctx, c) : NULL;
            if (!v) return mc_err_set(MC_ERR_NOT_FOUND, "covered header '%s' is absent", c);
            size_t n = strlen(v);
            trim(&v, &n);
            for (size_t k = 0; k < n; k++)
                if (v[k] == '\n' || v[k] == '\r')
                    return mc_err_set(MC_ERR_MALFORMED, "header '%s' has a line break", c);
            mc_buf_append(out, v, n);
        }
        mc_buf_append(out, "\n", 1);
    }
    mc_buf_append(out, "\"@signature-params\": ", 21);
    mc_httpsig_serialize_params(out, p);
    return out->err;
}

/* --- Content-Digest --- */

void mc_httpsig_content_digest(char out[MC_CONTENT_DIGEST_LEN], const void *body, size_t len) {
    mc_hash h;
    mc_sha256(&h, body, len);
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, h.b, 32, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, MC_CONTENT_DIGEST_LEN, "sha-256=:%s:", b64);
}

int mc_httpsig_digest_parse(const char *header, mc_hash *out) {
    if (!header) return mc_err_set(MC_ERR_MALFORMED, "no Content-Digest header");
    const char *p = strstr(header, "sha-256=:");
    if (!p || (p != header && p[-1] != ' ' && p[-1] != ','))
        return mc_err_set(MC_ERR_MALFORMED, "Content-Digest has no sha-256 member");
    p += 9;
    const char *end = strchr(p, ':');
    if (!end) return mc_err_set(MC_ERR_MALFORMED, "Content-Digest sha-256 member is not closed");
    uint8_t got[35];
    size_t n = 0;
    if (sodium_base642bin(got, sizeof got, p, (size_t)(end - p), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != 32)
        return mc_err_set(MC_ERR_MALFORMED, "Content-Digest sha-256 is not 32 bytes of base64");
    memcpy(out->b, got, 32);
    return 0;
}

static int check_digest_hash(const char *header, const mc_hash *h) {
    mc_hash got;
    int rc = mc_httpsig_digest_parse(header, &got);
    if (rc) return rc;
    if (sodium_memcmp(h->b, got.b, 32) != 0)
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "the body does not match its Content-Digest");
    return 0;
}

int mc_httpsig_check_digest(const char *header, const void *body, size_t len) {
    mc_hash h;
    mc_sha256(&h, body, len);
    return check_digest_hash(header, &h);
}

/* --- the profile --- */

static bool covers(const struct mc_httpsig_params *p, const char *c) {
    for (size_t i = 0; i < p->ncomp; i++)
        if (strcmp(p->comp[i], c) == 0) return true;
    return false;
}

int mc_httpsig_verify_request(struct mc_httpsig_verified *out, const struct mc_httpsig_message *m,
                              const void *body, size_t len, int64_t now_s) {
    mc_hash h;
    mc_sha256(&h, body, len);
    return mc_httpsig_verify_request_hashed(out, m, &h, now_s);
}

int mc_httpsig_verify_request_hashed(struct mc_httpsig_verified *out, const struct mc_httpsig_message *m,
                                     const mc_hash *body_sha256, int64_t now_s) {
    memset(&out->key, 0, sizeof out->key);
    memset(out->sig, 0, sizeof out->sig);
    mc_buf_init(&out->base, 4 * 1024);
    const char *si = m->header ? m->header(m->header_ctx, "signature-input") : NULL;
    const char *sg = m->header ? m->header(m->header_ctx, "signature") : NULL;
    if (!si || !sg)
        return mc_err_set(MC_ERR_MALFORMED,
                          "this request must be signed (RFC 9421 Signature-Input and Signature)");
    int rc = mc_httpsig_parse_input(&out->params, si, NULL);
    if (rc) return rc;
    const struct mc_httpsig_params *p = &out->params;
    if (strlen(p->keyid) != 64 || mc_hex_decode(out->key.b, 32, p->keyid))
        return mc_err_set(MC_ERR_MALFORMED, "keyid must be the signer's public key in hex");
    if ((rc = mc_httpsig_parse_signature(out->sig, sg, p->label))) return rc;
    if (strcmp(p->alg, "ed25519") != 0)
        return mc_err_set(MC_ERR_MALFORMED, "alg must be \"ed25519\"");
    if (!p->has_created) return mc_err_set(MC_ERR_MALFORMED, "the signature has no created time");
    size_t nl = strlen(p->nonce);
    if (nl < MC_HTTPSIG_NONCE_MIN || nl > MC_HTTPSIG_NONCE_MAX)
        return mc_err_set(MC_ERR_MALFORMED, "the signature needs a nonce of %d to %d characters",
                          MC_HTTPSIG_NONCE_MIN, MC_HTTPSIG_NONCE_MAX);
    if (!covers(p, "@method") || !covers(p, "@target-uri"))
        return mc_err_set(MC_ERR_MALFORMED, "the signature must cover @method and @target-uri");
    /* medchain's profile: content-digest is covered always, also for a GET
     * (the digest of the empty body), so one check serves every request */
    if (!covers(p, "content-digest"))
        return mc_err_set(MC_ERR_MALFORMED, "the signature must cover content-digest (also for an empty body)");
    const char *cd = m->header(m->header_ctx, "content-digest");
    if ((rc = check_digest_hash(cd, body_sha256))) return rc;
    if (p->created > now_s + MC_HTTPSIG_WINDOW_S || p->created + MC_HTTPSIG_WINDOW_S < now_s)
        return mc_err_set(MC_ERR_INVALID, "the signature's created time is outside the %d s window",
                          MC_HTTPSIG_WINDOW_S);
    if (p->has_expires && p->expires < now_s)
        return mc_err_set(MC_ERR_INVALID, "the signature has expired");
    if ((rc = mc_httpsig_base(&out->base, p, m))) return rc;
    if (mc_ed25519_verify_raw(out->sig, &out->key, out->base.data, out->base.len))
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "the request signature does not verify");
    return 0;
}

/* --- signing --- */

struct sign_hdr {
    const struct mc_httpsig_message *inner;
    const char *digest;
};

static const char *sign_header(void *ctx, const char *name) {
    struct sign_hdr *h = ctx;
    if (strcmp(name, "content-digest") == 0) return h->digest;
    return h->inner->header ? h->inner->header(h->inner->header_ctx, name) : NULL;
}

int mc_httpsig_sign_request(struct mc_httpsig_signed *out, const struct mc_keypair *kp,
                            const struct mc_httpsig_message *m, const void *body, size_t len,
                            const char *const *extra, size_t nextra, int64_t created,
                            const char *nonce) {
    mc_hash h;
    mc_sha256(&h, body, len);
    return mc_httpsig_sign_request_hashed(out, kp, m, &h, extra, nextra, created, nonce);
}

int mc_httpsig_sign_request_hashed(struct mc_httpsig_signed *out, const struct mc_keypair *kp,
                                   const struct mc_httpsig_message *m, const mc_hash *body_sha256,
                                   const char *const *extra, size_t nextra, int64_t created,
                                   const char *nonce) {
    memset(out, 0, sizeof *out);
    if (nextra + 3 > MC_HTTPSIG_COMPONENTS_MAX) return MC_ERR_TOO_LARGE;
    {
        char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, body_sha256->b, 32, sodium_base64_VARIANT_ORIGINAL);
        snprintf(out->content_digest, sizeof out->content_digest, "sha-256=:%s:", b64);
    }
    struct mc_httpsig_params p;
    memset(&p, 0, sizeof p);
    snprintf(p.label, sizeof p.label, "sig1");
    snprintf(p.comp[p.ncomp++], sizeof p.comp[0], "@method");
    snprintf(p.comp[p.ncomp++], sizeof p.comp[0], "@target-uri");
    snprintf(p.comp[p.ncomp++], sizeof p.comp[0], "content-digest");
    for (size_t i = 0; i < nextra; i++) snprintf(p.comp[p.ncomp++], sizeof p.comp[0], "%s", extra[i]);
    char hx[65];
    mc_hex_encode(hx, kp->pk.b, 32);
    int err = 0;
    snprintf(p.pname[0], sizeof p.pname[0], "created");
    snprintf(p.pvalue[0], sizeof p.pvalue[0], "%lld", (long long)created);
    snprintf(p.pname[1], sizeof p.pname[1], "keyid");
    serialize_string(p.pvalue[1], sizeof p.pvalue[1], hx, &err);
    snprintf(p.pname[2], sizeof p.pname[2], "alg");
    serialize_string(p.pvalue[2], sizeof p.pvalue[2], "ed25519", &err);
    snprintf(p.pname[3], sizeof p.pname[3], "nonce");
    serialize_string(p.pvalue[3], sizeof p.pvalue[3], nonce, &err);
    if (err) return err;
    p.nparam = 4;
    struct sign_hdr sh = {.inner = m, .digest = out->content_digest};
    struct mc_httpsig_message mm = {.method = m->method, .target_uri = m->target_uri,
                                    .header = sign_header, .header_ctx = &sh};
    struct mc_buf base;
    mc_buf_init(&base, 8 * 1024);
    int rc = mc_httpsig_base(&base, &p, &mm);
    if (!rc) {
        uint8_t sig[MC_SIG_BYTES];
        mc_ed25519_sign_raw(sig, kp, base.data, base.len);
        char b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
        snprintf(out->signature, sizeof out->signature, "sig1=:%s:", b64);
        struct mc_buf in;
        mc_buf_init(&in, sizeof out->signature_input - 1);
        mc_buf_append(&in, "sig1=", 5);
        mc_httpsig_serialize_params(&in, &p);
        if (in.err) rc = in.err;
        else memcpy(out->signature_input, in.data, in.len);
        mc_buf_deinit(&in);
    }
    mc_buf_deinit(&base);
    return rc;
}

/* ---- replay cache ----
 *
 * (key, nonce) pairs seen within twice the signature window. The table is
 * cut into regions and a key's entries all live in the region its key
 * hashes to, so a key can only crowd its own region; and each key may hold
 * at most MC_HTTPSIG_REPLAY_PER_KEY live entries, so one key (even one the
 * ledger knows) cannot fill a region that others share. Full means refused
 * (503), never "let through". */

#define REPLAY_SLOTS (MC_HTTPSIG_REPLAY_REGIONS * MC_HTTPSIG_REPLAY_REGION_SLOTS)
#define REPLAY_PROBE 64
#define REPLAY_KEYS 8192

static struct {
    pthread_mutex_t lock;
    struct {
        mc_hash h;
        int64_t seen_s;
    } slot[REPLAY_SLOTS];
    struct {
        uint64_t tag;     /* the key's first 8 bytes, 0 when unused */
        uint32_t live;    /* entries added since window_s */
        int64_t window_s;
    } keys[REPLAY_KEYS];
} replay = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The key's counter (window restarted when it expired); NULL when the
 * counter table is crowded. Lock held. */
static uint32_t *key_live(const mc_pubkey *key, int64_t now_s) {
    uint64_t tag = 0;
    for (int i = 0; i < 8; i++) tag = tag << 8 | key->b[i];
    tag |= 1;
    uint32_t start = (uint32_t)(tag % REPLAY_KEYS);
    int64_t span = 2 * MC_HTTPSIG_WINDOW_S + 1;
    for (uint32_t i = 0; i < 16; i++) {
        uint32_t k = (start + i) % REPLAY_KEYS;
        bool expired = replay.keys[k].window_s + span < now_s;
        if (replay.keys[k].tag == tag || replay.keys[k].tag == 0 || expired) {
            if (replay.keys[k].tag != tag || expired) {
                replay.keys[k].tag = tag;
                replay.keys[k].live = 0;
                replay.keys[k].window_s = now_s;
            }
            return &replay.keys[k].live;
        }
    }
    return NULL;
}

int mc_httpsig_replay_check(const mc_pubkey *key, const char *nonce, int64_t now_s) {
    mc_sha256_ctx c;
    mc_sha256_init(&c);
    mc_sha256_update(&c, key->b, 32);
    mc_sha256_update(&c, nonce, strlen(nonce));
    mc_hash h;
    mc_sha256_final(&c, &h);
    uint32_t region = ((uint32_t)key->b[30] << 8 | key->b[31]) % MC_HTTPSIG_REPLAY_REGIONS;
    uint32_t base = region * MC_HTTPSIG_REPLAY_REGION_SLOTS;
    uint32_t start = ((uint32_t)h.b[0] << 8 | h.b[1]) % MC_HTTPSIG_REPLAY_REGION_SLOTS;
    int64_t horizon = now_s - 2 * MC_HTTPSIG_WINDOW_S - 1;
    int rc = MC_ERR_FULL;
    pthread_mutex_lock(&replay.lock);
    int free_slot = -1;
    for (uint32_t i = 0; i < REPLAY_PROBE; i++) {
        uint32_t k = base + (start + i) % MC_HTTPSIG_REPLAY_REGION_SLOTS;
        bool live = replay.slot[k].seen_s > horizon;
        if (live && memcmp(replay.slot[k].h.b, h.b, 32) == 0) {
            rc = MC_ERR_EXISTS;
            free_slot = -1;
            break;
        }
        if (!live && free_slot < 0) free_slot = (int)k;
        if (replay.slot[k].seen_s == 0) break;
    }
    if (free_slot >= 0) {
        uint32_t *live = key_live(key, now_s);
        if (live && *live < MC_HTTPSIG_REPLAY_PER_KEY) {
            (*live)++;
            replay.slot[free_slot].h = h;
            replay.slot[free_slot].seen_s = now_s;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&replay.lock);
    return rc;
}
