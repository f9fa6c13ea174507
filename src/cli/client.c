/* HTTP client on libcurl (see client.h). */
#include "cli/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <time.h>

#include "api/httpsig.h"
#include "base/hex.h"
#include "crypto/sign.h"

_Static_assert(sizeof(((struct mc_client *)0)->errbuf) >= CURL_ERROR_SIZE,
               "errbuf must hold a curl error message");

static bool curl_ready;

int mc_client_init(struct mc_client *c, const char *base_url) {
    memset(c, 0, sizeof *c);
    if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0)
        return mc_err_set(MC_ERR_INVALID, "node URL must start with http:// or https:// (got '%s')",
                          base_url);
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/') n--;
    if (n >= sizeof c->base) return mc_err_set(MC_ERR_INVALID, "node URL is too long");
    memcpy(c->base, base_url, n);
    c->base[n] = 0;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return mc_err_set(MC_ERR_IO, "libcurl failed to initialise");
        curl_ready = true;
    }
    c->curl = curl_easy_init();
    if (!c->curl) return mc_err_set(MC_ERR_NOMEM, "libcurl failed to create a handle");
    return MC_OK;
}

void mc_client_deinit(struct mc_client *c) {
    if (c->curl) curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

void mc_client_response_deinit(struct mc_client_response *r) {
    mc_buf_deinit(&r->body);
    if (r->json) json_decref(r->json);
    r->json = NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx) {
    struct mc_buf *b = ctx;
    mc_buf_append(b, p, n); /* size is always 1 for write callbacks */
    (void)size;
    return b->err ? 0 : n; /* 0 aborts the transfer: body too large */
}

/* Keeps the headers of the answer a caller may want (access tx, Location). */
static size_t on_header(char *p, size_t size, size_t n, void *ctx) {
    struct mc_client_response *r = ctx;
    size_t len = n * size;
    struct {
        const char *name;
        char *dst;
        size_t cap;
    } keep[] = {{"x-medchain-access-tx:", r->access_tx, sizeof r->access_tx},
                {"location:", r->location, sizeof r->location}};
    for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
        size_t nl = strlen(keep[k].name);
        if (len <= nl || strncasecmp(p, keep[k].name, nl) != 0) continue;
        size_t i = nl, end = len;
        while (i < end && (p[i] == ' ' || p[i] == '\t')) i++;
        while (end > i && (p[end - 1] == '\r' || p[end - 1] == '\n' || p[end - 1] == ' ')) end--;
        size_t vn = end - i < keep[k].cap - 1 ? end - i : keep[k].cap - 1;
        memcpy(keep[k].dst, p + i, vn);
        keep[k].dst[vn] = 0;
    }
    return len;
}

static int perform(struct mc_client *c, const char *method, const char *path,
                   const char *content_type, const void *body, size_t body_len,
                   struct curl_slist *extra_lines, struct mc_client_response *r);

int mc_client_request(struct mc_client *c, const char *method, const char *path,
                      const char *content_type, const void *body, size_t body_len,
                      struct mc_client_response *r) {
    return perform(c, method, path, content_type, body, body_len, NULL, r);
}

int mc_client_set_cacert(struct mc_client *c, const char *path) {
    if (strlen(path) >= sizeof c->cacert)
        return mc_err_set(MC_ERR_INVALID, "CA certificate path is too long");
    FILE *f = fopen(path, "rb");
    if (!f) return mc_err_set(MC_ERR_IO, "cannot open CA certificate %s: %s", path, strerror(errno));
    fclose(f);
    snprintf(c->cacert, sizeof c->cacert, "%s", path);
    return MC_OK;
}

/* Header values of a signed request, by lower-case name. */
struct signed_headers {
    const struct mc_client_header *h;
    size_t n;
};

static const char *signed_header(void *ctx, const char *name) {
    const struct signed_headers *s = ctx;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->h[i].name, name) == 0) return s->h[i].value;
    return NULL;
}

int mc_client_request_signed(struct mc_client *c, const char *method, const char *path,
                             const char *content_type, const void *body, size_t body_len,
                             const struct mc_keypair *kp, const struct mc_client_header *extra,
                             size_t nextra, struct mc_client_response *r) {
    memset(r, 0, sizeof *r);
    mc_buf_init(&r->body, MC_CLIENT_BODY_MAX);
    if (nextra > MC_CLIENT_SIGNED_HEADERS_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "too many signed headers");
    const char *names[MC_CLIENT_SIGNED_HEADERS_MAX];
    for (size_t i = 0; i < nextra; i++) {
        for (const char *p = extra[i].value; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                return mc_err_set(MC_ERR_INVALID, "header %s must be printable ASCII on one line",
                                  extra[i].name);
        for (const char *p = extra[i].name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                return mc_err_set(MC_ERR_INVALID, "header name %s must be lower-case", extra[i].name);
        names[i] = extra[i].name;
    }
    char url[MC_CLIENT_URL_MAX + 512];
    int un = snprintf(url, sizeof url, "%s%s", c->base, path);
    if (un < 0 || (size_t)un >= sizeof url) return mc_err_set(MC_ERR_INVALID, "URL too long");
    uint8_t rnd[16];
    char nonce[33];
    randombytes_buf(rnd, sizeof rnd);
    mc_hex_encode(nonce, rnd, sizeof rnd);
    struct signed_headers sh = {.h = extra, .n = nextra};
    struct mc_httpsig_message m = {.method = method, .target_uri = url, .header = signed_header,
                                   .header_ctx = &sh};
    struct mc_httpsig_signed sig;
    int rc = mc_httpsig_sign_request(&sig, kp, &m, body ? body : "", body ? body_len : 0, names,
                                     nextra, (int64_t)time(NULL), nonce);
    if (rc) return mc_err_set(rc, "cannot sign the request (%s)", mc_strerror(rc));
    struct curl_slist *lines = NULL;
    char line[MC_HTTPSIG_HEADER_MAX + 64];
    snprintf(line, sizeof line, "Signature-Input: %s", sig.signature_input);
    lines = curl_slist_append(lines, line);
    snprintf(line, sizeof line, "Signature: %s", sig.signature);
    lines = curl_slist_append(lines, line);
    snprintf(line, sizeof line, "Content-Digest: %s", sig.content_digest);
    lines = curl_slist_append(lines, line);
    for (size_t i = 0; i < nextra; i++) {
        snprintf(line, sizeof line, "%s: %s", extra[i].name, extra[i].value);
        lines = curl_slist_append(lines, line);
    }
    mc_buf_deinit(&r->body);
    rc = perform(c, method, path, content_type, body, body_len, lines, r);
    curl_slist_free_all(lines);
    return rc;
}

static int perform(struct mc_client *c, const char *method, const char *path,
                   const char *content_type, const void *body, size_t body_len,
                   struct curl_slist *extra_lines, struct mc_client_response *r) {
    memset(r, 0, sizeof *r);
    mc_buf_init(&r->body, MC_CLIENT_BODY_MAX);
    char url[MC_CLIENT_URL_MAX + 512];
    int un = snprintf(url, sizeof url, "%s%s", c->base, path);
    if (un < 0 || (size_t)un >= sizeof url) return mc_err_set(MC_ERR_INVALID, "URL too long");

    CURL *h = c->curl;
    curl_easy_reset(h);
    c->errbuf[0] = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, MC_CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, MC_CLIENT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MC_CLIENT_BODY_MAX);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "medchain-cli/1");
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    if (c->cacert[0]) curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);

    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    for (struct curl_slist *l = extra_lines; l; l = l->next)
        headers = curl_slist_append(headers, l->data);
    char ct[128];
    if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        if (strcmp(method, "PUT") == 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type ? content_type
                                                                  : "application/octet-stream");
        headers = curl_slist_append(headers, ct);
        /* No "Expect: 100-continue" round trip for large bodies. */
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        /* DELETE and the like: no body, their own method */
        if (strcmp(method, "GET") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    if (cc != CURLE_OK) {
        const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
        switch (cc) {
        case CURLE_COULDNT_CONNECT: {
            long os_errno = 0;
            curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
            if (os_errno == ECONNREFUSED || strstr(why, "refused"))
                return mc_err_set(MC_ERR_IO, "cannot reach node at %s (connection refused)", c->base);
            return mc_err_set(MC_ERR_IO, "cannot reach node at %s (%s)", c->base,
                              os_errno ? strerror((int)os_errno) : why);
        }
        case CURLE_COULDNT_RESOLVE_HOST:
            return mc_err_set(MC_ERR_IO, "cannot reach node at %s (unknown host)", c->base);
        case CURLE_OPERATION_TIMEDOUT:
            return mc_err_set(MC_ERR_IO, "node at %s did not answer in time (%s)", c->base, why);
        case CURLE_WRITE_ERROR:
        case CURLE_FILESIZE_EXCEEDED:
            if (r->body.err == MC_ERR_TOO_LARGE || cc == CURLE_FILESIZE_EXCEEDED)
                return mc_err_set(MC_ERR_TOO_LARGE, "answer from %s exceeds %u bytes", c->base,
                                  MC_CLIENT_BODY_MAX);
            return mc_err_set(MC_ERR_NOMEM, "out of memory reading the answer from %s", c->base);
        default:
            return mc_err_set(MC_ERR_IO, "request to %s failed (%s)", c->base, why);
        }
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->body.err) return mc_err_set(r->body.err, "cannot hold the answer from %s", c->base);
    if (r->body.len > 0) {
        size_t i = 0;
        while (i < r->body.len && (r->body.data[i] == ' ' || r->body.data[i] == '\n' ||
                                   r->body.data[i] == '\r' || r->body.data[i] == '\t'))
            i++;
        if (i < r->body.len && (r->body.data[i] == '{' || r->body.data[i] == '[')) {
            json_error_t jerr;
            r->json = json_loadb((const char *)r->body.data, r->body.len, 0, &jerr);
        }
    }
    return MC_OK;
}

static const char *json_str(const json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *mc_client_error_text(const struct mc_client_response *r, char *buf, size_t size) {
    const char *name = NULL, *message = NULL;
    if (json_is_object(r->json)) {
        json_t *e = json_object_get(r->json, "error");
        if (json_is_object(e)) {
            name = json_str(e, "code");
            if (!name) name = json_str(e, "name");
            message = json_str(e, "message");
        } else if (json_is_string(e)) {
            name = json_string_value(e);
        }
        if (!message) message = json_str(r->json, "message");
        if (!message) message = json_str(r->json, "reason");
        if (!message) message = json_str(r->json, "detail");
    }
    if (message && name && strcmp(name, message) != 0)
        snprintf(buf, size, "%s: %s", name, message);
    else if (message || name)
        snprintf(buf, size, "%s", message ? message : name);
    else if (r->body.len > 0)
        snprintf(buf, size, "HTTP %ld: %.200s", r->status, (const char *)r->body.data);
    else
        snprintf(buf, size, "HTTP %ld", r->status);
    return buf;
}

int mc_client_error_code(const struct mc_client_response *r) {
    const char *name = NULL;
    if (json_is_object(r->json)) {
        json_t *e = json_object_get(r->json, "error");
        if (json_is_object(e)) {
            name = json_str(e, "code");
            if (!name) name = json_str(e, "name");
        } else if (json_is_string(e)) {
            name = json_string_value(e);
        }
    }
    if (name) {
        for (int code = -1; code >= -64; code--) {
            const char *n = mc_err_name(code);
            if (strcmp(n, "unknown_error") == 0) break;
            if (strcmp(n, name) == 0) return code;
        }
    }
    switch (r->status) {
    case 404: return MC_ERR_NOT_FOUND;
    case 409: return MC_ERR_EXISTS;
    case 413: return MC_ERR_TOO_LARGE;
    case 401:
    case 403: return MC_ERR_FORBIDDEN;
    default: return r->status >= 500 ? MC_ERR_STATE : MC_ERR_INVALID;
    }
}

int mc_client_get_json(struct mc_client *c, const char *path, json_t **out) {
    *out = NULL;
    struct mc_client_response r;
    int rc = mc_client_request(c, "GET", path, NULL, NULL, 0, &r);
    if (rc) {
        mc_client_response_deinit(&r);
        return rc;
    }
    if (r.status < 200 || r.status > 299) {
        char text[512];
        mc_client_error_text(&r, text, sizeof text);
        rc = mc_err_set(mc_client_error_code(&r), "%s", text);
        mc_client_response_deinit(&r);
        return rc;
    }
    if (!json_is_object(r.json) && !json_is_array(r.json)) {
        rc = mc_err_set(MC_ERR_MALFORMED, "node at %s answered %s with something that is not JSON",
                        c->base, path);
        mc_client_response_deinit(&r);
        return rc;
    }
    *out = json_incref(r.json);
    mc_client_response_deinit(&r);
    return MC_OK;
}

/* --- transfers too large to hold --- */

struct xfer {
    FILE *up;
    FILE *down;
    CURL *h;
    uint64_t written;
    struct mc_buf *body;   /* a non-2xx answer */
    bool write_failed;
};

static size_t xfer_read(char *buf, size_t size, size_t n, void *ctx) {
    struct xfer *x = ctx;
    size_t got = fread(buf, 1, size * n, x->up);
    return got == 0 && ferror(x->up) ? CURL_READFUNC_ABORT : got;
}

static size_t xfer_write(char *p, size_t size, size_t n, void *ctx) {
    struct xfer *x = ctx;
    size_t len = size * n;
    long st = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &st);
    if (x->down && st >= 200 && st < 300) {
        if (fwrite(p, 1, len, x->down) != len) {
            x->write_failed = true;
            return 0;
        }
        x->written += len;
        return len;
    }
    mc_buf_append(x->body, p, len);
    return x->body->err ? 0 : len;
}

int mc_client_transfer_signed(struct mc_client *c, const char *method, const char *path, const char *content_type,
                              FILE *upload, uint64_t upload_len, const uint8_t upload_sha[32], FILE *download,
                              uint64_t *written, const struct mc_keypair *kp, struct mc_client_response *r) {
    memset(r, 0, sizeof *r);
    mc_buf_init(&r->body, MC_CLIENT_BODY_MAX);
    if (written) *written = 0;
    char url[MC_CLIENT_URL_MAX + 512];
    int un = snprintf(url, sizeof url, "%s%s", c->base, path);
    if (un < 0 || (size_t)un >= sizeof url) return mc_err_set(MC_ERR_INVALID, "URL too long");
    uint8_t rnd[16];
    char nonce[33];
    randombytes_buf(rnd, sizeof rnd);
    mc_hex_encode(nonce, rnd, sizeof rnd);
    struct mc_httpsig_message m = {.method = method, .target_uri = url};
    mc_hash h;
    if (upload) memcpy(h.b, upload_sha, 32);
    else mc_sha256(&h, "", 0);
    struct mc_httpsig_signed sig;
    int rc = mc_httpsig_sign_request_hashed(&sig, kp, &m, &h, NULL, 0, (int64_t)time(NULL), nonce);
    if (rc) return mc_err_set(rc, "cannot sign the request (%s)", mc_strerror(rc));
    char line[MC_HTTPSIG_HEADER_MAX + 64], ct[200];
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: */*");
    snprintf(line, sizeof line, "Signature-Input: %s", sig.signature_input);
    headers = curl_slist_append(headers, line);
    snprintf(line, sizeof line, "Signature: %s", sig.signature);
    headers = curl_slist_append(headers, line);
    snprintf(line, sizeof line, "Content-Digest: %s", sig.content_digest);
    headers = curl_slist_append(headers, line);
    CURL *ch = c->curl;
    curl_easy_reset(ch);
    c->errbuf[0] = 0;
    struct xfer x = {.up = upload, .down = download, .h = ch, .body = &r->body};
    curl_easy_setopt(ch, CURLOPT_URL, url);
    curl_easy_setopt(ch, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ch, CURLOPT_CONNECTTIMEOUT_MS, MC_CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(ch, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(ch, CURLOPT_LOW_SPEED_TIME, (long)MC_CLIENT_STALL_S);
    curl_easy_setopt(ch, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(ch, CURLOPT_USERAGENT, "medchain-cli/1");
    curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, xfer_write);
    curl_easy_setopt(ch, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(ch, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(ch, CURLOPT_HEADERDATA, r);
    if (c->cacert[0]) curl_easy_setopt(ch, CURLOPT_CAINFO, c->cacert);
    if (upload) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type ? content_type : "application/octet-stream");
        headers = curl_slist_append(headers, ct);
        curl_easy_setopt(ch, CURLOPT_POST, 1L);
        curl_easy_setopt(ch, CURLOPT_READFUNCTION, xfer_read);
        curl_easy_setopt(ch, CURLOPT_READDATA, &x);
        curl_easy_setopt(ch, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)upload_len);
    } else {
        curl_easy_setopt(ch, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(ch, CURLOPT_HTTPHEADER, headers);
    CURLcode cc = curl_easy_perform(ch);
    curl_slist_free_all(headers);
    curl_easy_setopt(ch, CURLOPT_HTTPHEADER, NULL);
    curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &r->status);
    if (written) *written = x.written;
    if (cc != CURLE_OK) {
        const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
        if (x.write_failed) return mc_err_set(MC_ERR_IO, "cannot write what %s sends: %s", c->base, strerror(errno));
        if (cc == CURLE_PARTIAL_FILE || (r->status >= 200 && r->status < 300))
            return mc_err_set(MC_ERR_IO, "the answer from %s ended early (%s): the node refused the rest", c->base,
                              why);
        return mc_err_set(MC_ERR_IO, "transfer with %s failed (%s)", c->base, why);
    }
    if (r->body.err) return mc_err_set(r->body.err, "cannot hold the answer from %s", c->base);
    if (r->body.len) r->json = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
    return MC_OK;
}
