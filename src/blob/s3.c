/* S3 client over libcurl with its built-in SigV4 signing (see s3.h). */
#include "blob/s3.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/assert.h"
#include "base/hex.h"
#include "base/log.h"

/* SHA-256 of the empty body: the payload hash of GET, HEAD and DELETE. */
static const char EMPTY_SHA256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct mc_s3 {
    struct mc_s3_config cfg;
    char sigv4[96];
    pthread_mutex_t lock;
    CURL *pool[MC_S3_POOL];
    uint32_t pooled;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static bool bucket_name_ok(const char *b) {
    size_t n = strlen(b);
    if (n < 3 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
    }
    return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

static bool region_ok(const char *r) {
    if (!r[0]) return false;
    for (const char *p = r; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) return false;
    return true;
}

int mc_s3_open(struct mc_s3 **out, const struct mc_s3_config *cfg) {
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    const char *ep = cfg->endpoint;
    size_t epn = strlen(ep);
    if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)
        return mc_err_set(MC_ERR_INVALID, "the S3 endpoint must start with http:// or https://");
    if (epn < 9 || ep[epn - 1] == '/' || strchr(ep + 8, '/') || strpbrk(ep, " ?#\"\\"))
        return mc_err_set(MC_ERR_INVALID, "the S3 endpoint is scheme://host[:port] with no path");
    if (!bucket_name_ok(cfg->bucket))
        return mc_err_set(MC_ERR_INVALID, "the S3 bucket name must be 3 to 63 of a-z, 0-9, '-', '.'");
    if (!region_ok(cfg->region))
        return mc_err_set(MC_ERR_INVALID, "the S3 region must be a-z, 0-9 and '-' (e.g. us-east-1)");
    if (!cfg->access_key[0] || !cfg->secret_key[0] || strchr(cfg->access_key, ':'))
        return mc_err_set(MC_ERR_INVALID, "the S3 credentials need an access key (no ':') and a secret key");
    if (cfg->connect_timeout_ms == 0 || cfg->timeout_ms == 0 ||
        cfg->connect_timeout_ms > MC_S3_TIMEOUT_MS_MAX || cfg->timeout_ms > MC_S3_TIMEOUT_MS_MAX ||
        cfg->retries > MC_S3_RETRIES_MAX)
        return mc_err_set(MC_ERR_INVALID, "S3 timeouts must be 1..%d ms and retries at most %d",
                          MC_S3_TIMEOUT_MS_MAX, MC_S3_RETRIES_MAX);
    struct mc_s3 *s = calloc(1, sizeof *s);
    if (!s) return MC_ERR_NOMEM;
    s->cfg = *cfg;
    snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", cfg->region);
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void mc_s3_close(struct mc_s3 *s) {
    if (!s) return;
    for (uint32_t i = 0; i < s->pooled; i++) curl_easy_cleanup(s->pool[i]);
    sodium_memzero(s->cfg.secret_key, sizeof s->cfg.secret_key);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static CURL *take(struct mc_s3 *s) {
    pthread_mutex_lock(&s->lock);
    CURL *h = s->pooled ? s->pool[--s->pooled] : NULL;
    pthread_mutex_unlock(&s->lock);
    return h ? h : curl_easy_init();
}

static void give(struct mc_s3 *s, CURL *h) {
    curl_easy_reset(h);
    pthread_mutex_lock(&s->lock);
    if (s->pooled < MC_S3_POOL) {
        s->pool[s->pooled++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (h) curl_easy_cleanup(h);
}

struct sink {
    struct mc_buf *buf;
    size_t max;
    bool over;
};

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud) {
    struct sink *k = ud;
    size_t n = size * nmemb;
    if (k->buf->len + n > k->max) {
        k->over = true;
        return 0;
    }
    mc_buf_append(k->buf, p, n);
    return k->buf->err ? 0 : n;
}

static void sleep_ms(uint32_t ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The <Code> of an S3 error document, or "". */
static void error_code(char out[64], const struct mc_buf *b) {
    out[0] = 0;
    if (!b->len) return;
    const char *d = (const char *)b->data;
    const char *end = d + b->len;
    for (const char *p = d; p + 6 < end; p++)
        if (memcmp(p, "<Code>", 6) == 0) {
            p += 6;
            size_t n = 0;
            while (p + n < end && p[n] != '<' && n < 63) n++;
            memcpy(out, p, n);
            out[n] = 0;
            return;
        }
}

/* One signed request, with retries. path_query is "/bucket/key?sorted"
 * (already escaped). body may be NULL (no body). The answer's body goes
 * to out (capped at max) when the status is 2xx; *status gets the final
 * HTTP status. */
struct extra {
    const char *range;   /* "a-b": a ranged GET */
    char *etag;          /* receives the ETag answered (quotes kept) */
    size_t etag_cap;
};

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
    struct extra *x = ud;
    size_t n = size * nmemb;
    if (x && x->etag && n > 5 && strncasecmp(p, "etag:", 5) == 0) {
        const char *v = p + 5;
        size_t k = n - 5;
        while (k && (*v == ' ' || *v == '\t')) v++, k--;
        while (k && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' ')) k--;
        if (k < x->etag_cap) {
            memcpy(x->etag, v, k);
            x->etag[k] = 0;
        }
    }
    return n;
}

static int request_x(struct mc_s3 *s, const char *method, const char *path_query, const void *body,
                     size_t body_len, const char *payload_sha, struct mc_buf *out, size_t max,
                     long *status, struct extra *x);

static int request(struct mc_s3 *s, const char *method, const char *path_query, const void *body,
                   size_t body_len, const char *payload_sha, struct mc_buf *out, size_t max,
                   long *status) {
    return request_x(s, method, path_query, body, body_len, payload_sha, out, max, status, NULL);
}

static int request_x(struct mc_s3 *s, const char *method, const char *path_query, const void *body,
                     size_t body_len, const char *payload_sha, struct mc_buf *out, size_t max,
                     long *status, struct extra *x) {
    char url[MC_S3_URL_MAX + 1024];
    int un = snprintf(url, sizeof url, "%s%s", s->cfg.endpoint, path_query);
    if (un < 0 || (size_t)un >= sizeof url) return mc_err_set(MC_ERR_INVALID, "S3 request URL too long");
    char sha_hdr[128];
    snprintf(sha_hdr, sizeof sha_hdr, "x-amz-content-sha256: %s", payload_sha);
    int rc = 0;
    uint32_t backoff = MC_S3_BACKOFF_MS;
    for (uint32_t attempt = 0;; attempt++) {
        CURL *h = take(s);
        if (!h) return mc_err_set(MC_ERR_NOMEM, "cannot create a curl handle");
        struct curl_slist *hdr = NULL;
        hdr = curl_slist_append(hdr, sha_hdr);
        /* No "Expect:" to suppress 100-continue: libcurl's SigV4 would sign
         * the emptied header that is then not sent. */
        if (body) hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
        size_t out_len0 = out ? out->len : 0;
        struct mc_buf scratch;
        mc_buf_init(&scratch, 0);
        struct sink k = {out ? out : &scratch, out ? out_len0 + max : MC_S3_PAGE_BYTES, false};
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)s->cfg.connect_timeout_ms);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->cfg.timeout_ms);
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
        curl_easy_setopt(h, CURLOPT_USERNAME, s->cfg.access_key);
        curl_easy_setopt(h, CURLOPT_PASSWORD, s->cfg.secret_key);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, s->cfg.tls_verify ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, s->cfg.tls_verify ? 2L : 0L);
        if (s->cfg.ca_file[0]) curl_easy_setopt(h, CURLOPT_CAINFO, s->cfg.ca_file);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
        if (x && x->etag) {
            x->etag[0] = 0;
            curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
            curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
        }
        if (x && x->range) curl_easy_setopt(h, CURLOPT_RANGE, x->range);
        if (strcmp(method, "PUT") == 0 || (strcmp(method, "POST") == 0 && body)) {
            /* The body as "post fields" under PUT: a Content-Length, and no
             * 100-continue round trip for bodies under 1 MiB (an upload
             * would wait for it on every request). */
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        } else if (strcmp(method, "HEAD") == 0) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (strcmp(method, "GET") != 0) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        }
        CURLcode cc = curl_easy_perform(h);
        long st = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
        curl_slist_free_all(hdr);
        give(s, h);
        *status = st;
        bool retry = false;
        if (cc == CURLE_WRITE_ERROR && k.over) {
            rc = mc_err_set(MC_ERR_TOO_LARGE, "S3 %s answer exceeds %zu bytes", method, max);
        } else if (cc != CURLE_OK) {
            rc = mc_err_set(MC_ERR_UNAVAILABLE, "object store %s: %s", s->cfg.endpoint,
                            curl_easy_strerror(cc));
            retry = true;
        } else if (st >= 200 && st < 300) {
            rc = 0;
        } else {
            /* the body collected is the error document */
            struct mc_buf *eb = out ? out : &scratch;
            struct mc_buf tail = {0};
            tail.data = eb->data ? eb->data + out_len0 : NULL;
            tail.len = eb->len - out_len0;
            char code[64];
            error_code(code, &tail);
            if (out) out->len = out_len0;
            if (st == 404) rc = mc_err_set(MC_ERR_NOT_FOUND, "S3: %s", code[0] ? code : "not found");
            else if (st == 416) rc = mc_err_set(MC_ERR_MALFORMED, "S3: the range is outside the object");
            else if (st == 401 || st == 403)
                rc = mc_err_set(MC_ERR_FORBIDDEN, "object store refused the credentials or "
                                                  "signature (%ld %s)", st, code);
            else if (st >= 500 || st == 429) {
                rc = mc_err_set(MC_ERR_UNAVAILABLE, "object store answered %ld %s", st, code);
                retry = true;
            } else rc = mc_err_set(MC_ERR_IO, "object store answered %ld %s", st, code);
        }
        mc_buf_deinit(&scratch);
        if (!retry || attempt >= s->cfg.retries) break;
        if (out) out->len = out_len0;
        sleep_ms(backoff);
        backoff *= 2;
    }
    return rc;
}

/* "/bucket/" + escaped key (keys are ours: [A-Za-z0-9/._-] need no
 * escaping; anything else is refused). */
static int object_path(char *out, size_t cap, const struct mc_s3 *s, const char *key,
                       const char *query) {
    for (const char *p = key; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '.' || c == '_' || c == '-'))
            return mc_err_set(MC_ERR_INVALID, "S3 object key has a character outside [A-Za-z0-9/._-]");
    }
    int n = snprintf(out, cap, "/%s/%s%s%s", s->cfg.bucket, key, query ? "?" : "", query ? query : "");
    if (n < 0 || (size_t)n >= cap) return mc_err_set(MC_ERR_INVALID, "S3 object key too long");
    return 0;
}

int mc_s3_bucket_create(struct mc_s3 *s) {
    char path[128];
    snprintf(path, sizeof path, "/%s", s->cfg.bucket);
    long st;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = request(s, "PUT", path, "", 0, EMPTY_SHA256, &b, 65536, &st);
    mc_buf_deinit(&b);
    if (rc == MC_ERR_IO && st == 409) return 0; /* BucketAlreadyOwnedByYou / exists */
    return rc;
}

int mc_s3_bucket_versioning(struct mc_s3 *s, bool on) {
    char body[256];
    int n = snprintf(body, sizeof body,
                     "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                     "<Status>%s</Status></VersioningConfiguration>",
                     on ? "Enabled" : "Suspended");
    mc_hash h;
    mc_sha256(&h, body, (size_t)n);
    char hx[65];
    mc_hex_encode(hx, h.b, 32);
    char path[128];
    snprintf(path, sizeof path, "/%s?versioning=", s->cfg.bucket);
    long st;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = request(s, "PUT", path, body, (size_t)n, hx, &b, 65536, &st);
    mc_buf_deinit(&b);
    return rc;
}

int mc_s3_put(struct mc_s3 *s, const char *key, const void *bytes, size_t len, const mc_hash *sha256) {
    char path[512];
    int rc = object_path(path, sizeof path, s, key, NULL);
    if (rc) return rc;
    char hx[65];
    mc_hex_encode(hx, sha256->b, 32);
    long st;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    rc = request(s, "PUT", path, bytes ? bytes : "", len, hx, &b, 65536, &st);
    mc_buf_deinit(&b);
    return rc;
}

int mc_s3_get(struct mc_s3 *s, const char *key, struct mc_buf *out, size_t max) {
    char path[512];
    int rc = object_path(path, sizeof path, s, key, NULL);
    if (rc) return rc;
    long st;
    return request(s, "GET", path, NULL, 0, EMPTY_SHA256, out, max, &st);
}

/* Query values: unreserved characters as they are, the rest %XX (SigV4's
 * canonical form, which libcurl signs as written). */
static int q_escape(char *out, size_t cap, const char *v) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (n + 4 >= cap) return mc_err_set(MC_ERR_TOO_LARGE, "S3 query value too long");
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", *p);
    }
    out[n] = 0;
    return 0;
}

int mc_s3_delete(struct mc_s3 *s, const char *key, const char *version_id) {
    char q[512] = "", path[1024];
    if (version_id) {
        char ev[400];
        int rc = q_escape(ev, sizeof ev, version_id);
        if (rc) return rc;
        snprintf(q, sizeof q, "versionId=%s", ev);
    }
    int rc = object_path(path, sizeof path, s, key, version_id ? q : NULL);
    if (rc) return rc;
    long st;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    rc = request(s, "DELETE", path, NULL, 0, EMPTY_SHA256, &b, 65536, &st);
    mc_buf_deinit(&b);
    return rc == MC_ERR_NOT_FOUND ? 0 : rc;
}

/* The text of the first <tag>...</tag> in [p, end) into out (XML entities
 * decoded); NULL when absent, else a pointer past the closing tag. */
static const char *xml_text(const char *p, const char *end, const char *tag, char *out, size_t cap) {
    char open[48], close[48];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    size_t on = strlen(open), cn = strlen(close);
    const char *a = NULL;
    for (const char *q = p; q + on <= end; q++)
        if (memcmp(q, open, on) == 0) {
            a = q + on;
            break;
        }
    if (!a) return NULL;
    const char *b = NULL;
    for (const char *q = a; q + cn <= end; q++)
        if (memcmp(q, close, cn) == 0) {
            b = q;
            break;
        }
    if (!b) return NULL;
    size_t n = 0;
    for (const char *q = a; q < b && n + 1 < cap;) {
        static const struct { const char *ent; char c; } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        if (*q == '&')
            for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++) {
                size_t en = strlen(ents[i].ent);
                if ((size_t)(b - q) >= en && memcmp(q, ents[i].ent, en) == 0) {
                    out[n++] = ents[i].c;
                    q += en;
                    done = true;
                    break;
                }
            }
        if (!done) out[n++] = *q++;
    }
    out[n] = 0;
    return b + cn;
}

/* The span of the next <tag>...</tag> element at or after p. */
static bool xml_element(const char *p, const char *end, const char *tag, const char **a, const char **b) {
    char open[48], close[48];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    size_t on = strlen(open), cn = strlen(close);
    *a = NULL;
    for (const char *q = p; q + on <= end; q++)
        if (memcmp(q, open, on) == 0) {
            *a = q + on;
            break;
        }
    if (!*a) return false;
    for (const char *q = *a; q + cn <= end; q++)
        if (memcmp(q, close, cn) == 0) {
            *b = q;
            return true;
        }
    return false;
}

int mc_s3_list(struct mc_s3 *s, const char *prefix, int (*fn)(void *ctx, const char *key), void *ctx) {
    char token[1024] = "", eprefix[400], etoken[3100];
    int rc = q_escape(eprefix, sizeof eprefix, prefix);
    if (rc) return rc;
    uint64_t seen = 0;
    for (;;) {
        char path[4096];
        if (token[0]) {
            if ((rc = q_escape(etoken, sizeof etoken, token))) return rc;
            snprintf(path, sizeof path, "/%s?continuation-token=%s&list-type=2&prefix=%s", s->cfg.bucket,
                     etoken, eprefix);
        } else {
            snprintf(path, sizeof path, "/%s?list-type=2&prefix=%s", s->cfg.bucket, eprefix);
        }
        struct mc_buf b;
        mc_buf_init(&b, 0);
        long st;
        rc = request(s, "GET", path, NULL, 0, EMPTY_SHA256, &b, MC_S3_PAGE_BYTES, &st);
        if (rc) {
            mc_buf_deinit(&b);
            return rc;
        }
        const char *p = (const char *)b.data, *end = p + b.len;
        const char *a, *e;
        while (!rc && p && xml_element(p, end, "Contents", &a, &e)) {
            char key[1024];
            if (xml_text(a, e, "Key", key, sizeof key)) {
                if (++seen > MC_S3_LIST_MAX) rc = mc_err_set(MC_ERR_TOO_LARGE, "more than %d keys", MC_S3_LIST_MAX);
                else rc = fn(ctx, key);
            }
            p = e;
        }
        char trunc[16] = "";
        const char *d = (const char *)b.data;
        (void)xml_text(d, d + b.len, "IsTruncated", trunc, sizeof trunc);
        bool more = strcmp(trunc, "true") == 0 &&
                    xml_text(d, d + b.len, "NextContinuationToken", token, sizeof token) && token[0];
        mc_buf_deinit(&b);
        if (rc || !more) return rc;
    }
}

/* A listing paged by key marker and a second marker (object versions,
 * multipart uploads): every element of the given names with its Key and
 * its id child goes to fn, pages followed until the listing ends. */
struct marked_listing {
    const char *query;       /* "versions" or "uploads" */
    const char *marker;      /* the second marker's query parameter */
    const char *next_marker; /* ... and the element naming its next value */
    const char *const *elements;
    int n_elements;
    const char *id;          /* the child element holding the id */
    const char *what;
};

static int list_marked(struct mc_s3 *s, const struct marked_listing *l, const char *prefix,
                       int (*fn)(void *ctx, const char *key, const char *id), void *ctx) {
    char kmark[1024] = "", imark[1024] = "", eprefix[400], ek[3100], ei[3100];
    int rc = q_escape(eprefix, sizeof eprefix, prefix);
    if (rc) return rc;
    uint64_t seen = 0;
    for (;;) {
        char path[8192];
        if (kmark[0]) {
            if ((rc = q_escape(ek, sizeof ek, kmark)) || (rc = q_escape(ei, sizeof ei, imark))) return rc;
            snprintf(path, sizeof path, "/%s?key-marker=%s&prefix=%s&%s=%s&%s=", s->cfg.bucket, ek, eprefix,
                     l->marker, ei, l->query);
        } else {
            snprintf(path, sizeof path, "/%s?prefix=%s&%s=", s->cfg.bucket, eprefix, l->query);
        }
        struct mc_buf b;
        mc_buf_init(&b, 0);
        long st;
        rc = request(s, "GET", path, NULL, 0, EMPTY_SHA256, &b, MC_S3_PAGE_BYTES, &st);
        if (rc) {
            mc_buf_deinit(&b);
            return rc;
        }
        for (int k = 0; k < l->n_elements && !rc; k++) {
            const char *p = (const char *)b.data, *end = p + b.len, *a, *e;
            while (!rc && xml_element(p, end, l->elements[k], &a, &e)) {
                char key[1024], id[1024];
                if (xml_text(a, e, "Key", key, sizeof key) && xml_text(a, e, l->id, id, sizeof id)) {
                    if (++seen > MC_S3_LIST_MAX) rc = mc_err_set(MC_ERR_TOO_LARGE, "more than %d %s", MC_S3_LIST_MAX, l->what);
                    else rc = fn(ctx, key, id);
                }
                p = e;
            }
        }
        char trunc[16] = "";
        const char *d = (const char *)b.data;
        (void)xml_text(d, d + b.len, "IsTruncated", trunc, sizeof trunc);
        bool more = strcmp(trunc, "true") == 0 &&
                    xml_text(d, d + b.len, "NextKeyMarker", kmark, sizeof kmark) && kmark[0];
        if (more && !xml_text(d, d + b.len, l->next_marker, imark, sizeof imark)) imark[0] = 0;
        mc_buf_deinit(&b);
        if (rc || !more) return rc;
    }
}

int mc_s3_list_versions(struct mc_s3 *s, const char *prefix,
                        int (*fn)(void *ctx, const char *key, const char *version), void *ctx) {
    static const char *const kinds[] = {"Version", "DeleteMarker"};
    static const struct marked_listing l = {"versions", "version-id-marker", "NextVersionIdMarker", kinds, 2,
                                            "VersionId", "versions"};
    return list_marked(s, &l, prefix, fn, ctx);
}

/* --- multipart upload and ranged reads --- */

int mc_s3_get_range(struct mc_s3 *s, const char *key, uint64_t off, size_t len, struct mc_buf *out) {
    char path[512];
    int rc = object_path(path, sizeof path, s, key, NULL);
    if (rc) return rc;
    if (len == 0) return 0;
    char range[64];
    snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)off, (unsigned long long)(off + len - 1));
    struct extra x = {.range = range};
    long st;
    size_t before = out->len;
    rc = request_x(s, "GET", path, NULL, 0, EMPTY_SHA256, out, len, &st, &x);
    /* a server that ignores Range answers 200 with the whole object: only
     * a partial answer is the range asked for */
    if (!rc && st != 206 && !(st == 200 && off == 0)) {
        out->len = before;
        rc = mc_err_set(MC_ERR_IO, "object store answered %ld to a ranged GET", st);
    }
    return rc;
}

int mc_s3_multipart_create(struct mc_s3 *s, const char *key, char upload_id[MC_S3_UPLOAD_ID_MAX + 1]) {
    char path[512];
    upload_id[0] = 0;
    int rc = object_path(path, sizeof path, s, key, "uploads=");
    if (rc) return rc;
    long st;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    rc = request(s, "POST", path, "", 0, EMPTY_SHA256, &b, 65536, &st);
    if (!rc) {
        const char *d = (const char *)b.data;
        if (!d || !xml_text(d, d + b.len, "UploadId", upload_id, MC_S3_UPLOAD_ID_MAX + 1) || !upload_id[0])
            rc = mc_err_set(MC_ERR_IO, "object store answered CreateMultipartUpload without an UploadId");
    }
    mc_buf_deinit(&b);
    return rc;
}

static int upload_query(char *q, size_t cap, uint32_t part, const char *upload_id) {
    char ev[MC_S3_UPLOAD_ID_MAX * 3 + 1];
    int rc = q_escape(ev, sizeof ev, upload_id);
    if (rc) return rc;
    if (part) snprintf(q, cap, "partNumber=%u&uploadId=%s", part, ev);
    else snprintf(q, cap, "uploadId=%s", ev);
    return 0;
}

int mc_s3_multipart_put(struct mc_s3 *s, const char *key, const char *upload_id, uint32_t part,
                        const void *bytes, size_t len, const mc_hash *sha256, char etag[MC_S3_ETAG_MAX + 1]) {
    char q[MC_S3_UPLOAD_ID_MAX * 3 + 64], path[1024];
    if (part == 0 || part > MC_S3_PARTS_MAX) return mc_err_set(MC_ERR_INVALID, "S3 part numbers are 1..%d", MC_S3_PARTS_MAX);
    int rc = upload_query(q, sizeof q, part, upload_id);
    if (!rc) rc = object_path(path, sizeof path, s, key, q);
    if (rc) return rc;
    char hx[65];
    mc_hex_encode(hx, sha256->b, 32);
    struct extra x = {.etag = etag, .etag_cap = MC_S3_ETAG_MAX + 1};
    long st;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    rc = request_x(s, "PUT", path, bytes, len, hx, &b, 65536, &st, &x);
    mc_buf_deinit(&b);
    if (!rc && !etag[0]) rc = mc_err_set(MC_ERR_IO, "object store answered UploadPart without an ETag");
    return rc;
}

int mc_s3_multipart_complete(struct mc_s3 *s, const char *key, const char *upload_id,
                             const char (*etags)[MC_S3_ETAG_MAX + 1], uint32_t n) {
    char q[MC_S3_UPLOAD_ID_MAX * 3 + 64], path[1024];
    int rc = upload_query(q, sizeof q, 0, upload_id);
    if (!rc) rc = object_path(path, sizeof path, s, key, q);
    if (rc) return rc;
    struct mc_buf body;
    mc_buf_init(&body, 0);
    static const char head[] = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    mc_buf_append(&body, head, sizeof head - 1);
    for (uint32_t i = 0; i < n; i++) {
        char part[MC_S3_ETAG_MAX * 6 + 96];
        size_t k = (size_t)snprintf(part, sizeof part, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
        for (const char *p = etags[i]; *p && k + 8 < sizeof part; p++) {
            if (*p == '"') k += (size_t)snprintf(part + k, sizeof part - k, "&quot;");
            else if (*p == '&') k += (size_t)snprintf(part + k, sizeof part - k, "&amp;");
            else if (*p == '<') k += (size_t)snprintf(part + k, sizeof part - k, "&lt;");
            else part[k++] = *p;
        }
        k += (size_t)snprintf(part + k, sizeof part - k, "</ETag></Part>");
        mc_buf_append(&body, part, k);
    }
    static const char tail[] = "</CompleteMultipartUpload>";
    mc_buf_append(&body, tail, sizeof tail - 1);
    if (body.err) {
        rc = body.err;
    } else {
        mc_hash h;
        mc_sha256(&h, body.data, body.len);
        char hx[65];
        mc_hex_encode(hx, h.b, 32);
        long st;
        struct mc_buf b;
        mc_buf_init(&b, 0);
        rc = request(s, "POST", path, body.data, body.len, hx, &b, 65536, &st);
        /* S3 may answer 200 and still fail: the error is then the body */
        if (!rc) {
            char code[64];
            error_code(code, &b);
            const char *d = (const char *)b.data;
            char etag[MC_S3_ETAG_MAX + 1];
            if (code[0]) rc = mc_err_set(MC_ERR_IO, "object store could not complete the upload (%s)", code);
            else if (!d || !xml_text(d, d + b.len, "ETag", etag, sizeof etag))
                rc = mc_err_set(MC_ERR_IO, "object store answered CompleteMultipartUpload without a result");
        }
        mc_buf_deinit(&b);
    }
    mc_buf_deinit(&body);
    return rc;
}

int mc_s3_multipart_abort(struct mc_s3 *s, const char *key, const char *upload_id) {
    char q[MC_S3_UPLOAD_ID_MAX * 3 + 64], path[1024];
    int rc = upload_query(q, sizeof q, 0, upload_id);
    if (!rc) rc = object_path(path, sizeof path, s, key, q);
    if (rc) return rc;
    long st;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    rc = request(s, "DELETE", path, NULL, 0, EMPTY_SHA256, &b, 65536, &st);
    mc_buf_deinit(&b);
    return rc == MC_ERR_NOT_FOUND ? 0 : rc; /* NoSuchUpload: already gone */
}

int mc_s3_list_uploads(struct mc_s3 *s, const char *prefix,
                       int (*fn)(void *ctx, const char *key, const char *upload_id), void *ctx) {
    static const char *const kinds[] = {"Upload"};
    static const struct marked_listing l = {"uploads", "upload-id-marker", "NextUploadIdMarker", kinds, 1,
                                            "UploadId", "uploads"};
    return list_marked(s, &l, prefix, fn, ctx);
}
