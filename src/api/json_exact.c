/* JSON with numbers kept as their text (see json_exact.h).
 *
 * Loading is two steps: a scan of the text that rewrites every number token
 * N outside strings as the string "\u0000N" (and refuses \u0000 inside a
 * string), then jansson's own parser with JSON_ALLOW_NUL. Dumping is
 * jansson's dump followed by the reverse rewrite, in place: every string
 * token that begins with \u0000 becomes the bare number after it, which is
 * always shorter. The texts handled are resources with health data, so the
 * intermediate buffers are wiped before they are freed. */
#include "api/json_exact.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUL_ESC "\\u0000"
#define NUL_ESC_LEN 6

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool mc_json_exact_number_valid(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return false;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && is_digit(s[i])) i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i])) return false;
        while (i < n && is_digit(s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !is_digit(s[i])) return false;
        while (i < n && is_digit(s[i])) i++;
    }
    return i == n;
}

static bool number_char(char c) {
    return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

static void set_err(json_error_t *err, size_t pos, const char *what) {
    if (!err) return;
    memset(err, 0, sizeof *err);
    err->line = -1;
    err->column = -1;
    err->position = (int)(pos > 0x7fffffff ? 0x7fffffff : pos);
    snprintf(err->text, sizeof err->text, "%s", what);
    snprintf(err->source, sizeof err->source, "<exact>");
}

/* One pass over text: counts the number tokens (out NULL) or writes the
 * rewritten text into out. Returns the output length, or (size_t)-1 on a
 * malformed number or a \u0000 in a string (err set). */
static size_t rewrite(const char *t, size_t n, char *out, json_error_t *err) {
    size_t o = 0, count = 0;
    bool in_str = false;
    for (size_t i = 0; i < n;) {
        char c = t[i];
        if (in_str) {
            if (c == '\\' && i + 1 < n) {
                if (t[i + 1] == 'u' && i + NUL_ESC_LEN <= n && memcmp(t + i, NUL_ESC, NUL_ESC_LEN) == 0) {
                    set_err(err, i, "a string may not contain \\u0000");
                    return (size_t)-1;
                }
                if (out) memcpy(out + o, t + i, 2);
                o += 2;
                i += 2;
                continue;
            }
            if (c == '"') in_str = false;
            if (out) out[o] = c;
            o++;
            i++;
            continue;
        }
        if (c == '"') {
            in_str = true;
            if (out) out[o] = c;
            o++;
            i++;
            continue;
        }
        if (c == '-' || is_digit(c)) {
            size_t e = i;
            while (e < n && number_char(t[e])) e++;
            if (!mc_json_exact_number_valid(t + i, e - i)) {
                set_err(err, i, "invalid number");
                return (size_t)-1;
            }
            if (out) {
                out[o] = '"';
                memcpy(out + o + 1, NUL_ESC, NUL_ESC_LEN);
                memcpy(out + o + 1 + NUL_ESC_LEN, t + i, e - i);
                out[o + 1 + NUL_ESC_LEN + (e - i)] = '"';
            }
            o += (e - i) + 2 + NUL_ESC_LEN;
            count++;
            i = e;
            continue;
        }
        if (out) out[o] = c;
        o++;
        i++;
    }
    (void)count;
    return o;
}

json_t *mc_json_exact_load(const char *text, size_t len, json_error_t *err) {
    if (!text) {
        set_err(err, 0, "no text");
        return NULL;
    }
    size_t n = rewrite(text, len, NULL, err);
    if (n == (size_t)-1) return NULL;
    char *buf = malloc(n + 1);
    if (!buf) {
        set_err(err, 0, "out of memory");
        return NULL;
    }
    size_t m = rewrite(text, len, buf, err);
    json_t *v = NULL;
    if (m == n) {
        buf[n] = 0;
        v = json_loadb(buf, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, err);
    }
    sodium_memzero(buf, n + 1);
    free(buf);
    return v;
}

char *mc_json_exact_dump(const json_t *v, size_t flags, size_t *len) {
    char *s = json_dumps(v, flags | JSON_ENCODE_ANY);
    if (!s) return NULL;
    size_t n = strlen(s), o = 0;
    bool in_str = false, ok = true;
    for (size_t i = 0; i < n && ok;) {
        char c = s[i];
        if (in_str) {
            if (c == '\\' && i + 1 < n) {
                s[o++] = s[i++];
                s[o++] = s[i++];
                continue;
            }
            if (c == '"') in_str = false;
            s[o++] = s[i++];
            continue;
        }
        if (c == '"' && i + 1 + NUL_ESC_LEN <= n && memcmp(s + i + 1, NUL_ESC, NUL_ESC_LEN) == 0) {
            /* a number string: its text has no quote or backslash */
            size_t b = i + 1 + NUL_ESC_LEN, e = b;
            while (e < n && s[e] != '"' && s[e] != '\\') e++;
            if (e >= n || s[e] != '"' || !mc_json_exact_number_valid(s + b, e - b)) {
                ok = false;
                break;
            }
            memmove(s + o, s + b, e - b);
            o += e - b;
            i = e + 1;
            continue;
        }
        if (c == '"') in_str = true;
        s[o++] = s[i++];
    }
    if (!ok) {
        sodium_memzero(s, n);
        free(s);
        return NULL;
    }
    if (o < n) sodium_memzero(s + o, n - o);
    s[o] = 0;
    if (len) *len = o;
    return s;
}

const char *mc_json_exact_number(const json_t *v) {
    if (!json_is_string(v) || json_string_length(v) < 2) return NULL;
    const char *s = json_string_value(v);
    return s[0] == 0 ? s + 1 : NULL;
}

bool mc_json_exact_is_string(const json_t *v) {
    if (!json_is_string(v)) return false;
    return json_string_length(v) == 0 || json_string_value(v)[0] != 0;
}

json_t *mc_json_exact_number_new(const char *text) {
    size_t n = text ? strlen(text) : 0;
    if (!mc_json_exact_number_valid(text, n)) return NULL;
    char *b = malloc(n + 1);
    if (!b) return NULL;
    b[0] = 0;
    memcpy(b + 1, text, n);
    json_t *v = json_stringn_nocheck(b, n + 1);
    free(b);
    return v;
}
