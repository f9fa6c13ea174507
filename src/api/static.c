/* Static files of the web application (see static.h).
 *
 * Loading walks the tree with openat/fstatat relative to directory handles
 * and never follows a symbolic link (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW), so
 * what is served is exactly the regular files under the root. The table is
 * sorted by path and searched with bsearch. */
#include "api/static.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hex.h"
#include "base/log.h"
#include "crypto/hash.h"

struct mc_static {
    struct mc_static_file *files;
    size_t count;
    size_t total;
};

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

static const char *type_for(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    return NULL;
}

static bool skipped_dir(const char *name) {
    return strcmp(name, "node_modules") == 0 || strcmp(name, "tests") == 0;
}

int mc_static_default_root(char *out, size_t size) {
    struct stat st;
    const char *env = getenv("MEDCHAIN_WEB_ROOT");
    if (env && env[0]) {
        snprintf(out, size, "%s", env);
        return stat(out, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : MC_ERR_NOT_FOUND;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0; /* the executable's folder, e.g. <repo>/build */
            slash = strrchr(exe, '/');
            if (slash) {
                *slash = 0;
                if ((size_t)snprintf(out, size, "%s/web", exe[0] ? exe : "") < size &&
                    stat(out, &st) == 0 && S_ISDIR(st.st_mode))
                    return 0;
            }
        }
    }
    snprintf(out, size, "/usr/share/medchain/web");
    return stat(out, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : MC_ERR_NOT_FOUND;
}

/* Reads one regular file (already checked with fstatat) into memory. */
static int read_file(int dirfd, const char *name, size_t len, uint8_t **out) {
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return MC_ERR_IO;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        close(fd);
        return MC_ERR_NOMEM;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != len) { /* changed under us: skip it */
        free(buf);
        return MC_ERR_IO;
    }
    *out = buf;
    return 0;
}

static int add_file(struct mc_static *s, const char *path, uint8_t *data, size_t len,
                    const char *type) {
    struct mc_static_file *f = &s->files[s->count++];
    snprintf(f->path, sizeof f->path, "%s", path);
    f->data = data;
    f->len = len;
    f->content_type = type;
    f->cache_control = strncmp(path, "/vendor/", 8) == 0 ? "public, max-age=86400"
                                                         : "no-cache";
    mc_hash h;
    mc_sha256(&h, data, len);
    char hex[33];
    mc_hex_encode(hex, h.b, 16);
    snprintf(f->etag, sizeof f->etag, "\"%s\"", hex);
    s->total += len;
    return 0;
}

static int walk(struct mc_static *s, int dirfd, const char *prefix, int depth) {
    int fd = dup(dirfd);
    if (fd < 0) return MC_ERR_IO;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return MC_ERR_IO;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (name[0] == '.') continue;
        char path[MC_STATIC_PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", prefix, name) >= sizeof path) {
            mc_log_warn("web", "skipping %s/%s: path too long", prefix, name);
            continue;
        }
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth >= MC_STATIC_DEPTH_MAX || skipped_dir(name)) continue;
            int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) continue;
            rc = walk(s, sub, path, depth + 1);
            close(sub);
            continue;
        }
        if (!S_ISREG(st.st_mode)) continue; /* symbolic links, devices, sockets */
        const char *type = type_for(name);
        if (!type) continue;
        if ((uint64_t)st.st_size > MC_STATIC_FILE_MAX) {
            mc_log_warn("web", "skipping %s: %lld bytes exceed %u", path, (long long)st.st_size,
                        MC_STATIC_FILE_MAX);
            continue;
        }
        if (s->count == MC_STATIC_FILES_MAX || s->total + (size_t)st.st_size > MC_STATIC_TOTAL_MAX) {
            mc_log_warn("web", "stopping at %s: more than %d files or %u bytes", path,
                        MC_STATIC_FILES_MAX, MC_STATIC_TOTAL_MAX);
            break;
        }
        uint8_t *data = NULL;
        int r = read_file(dirfd, name, (size_t)st.st_size, &data);
        if (r == MC_ERR_NOMEM) rc = r;
        if (r) continue;
        rc = add_file(s, path, data, (size_t)st.st_size, type);
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b) {
    return strcmp(((const struct mc_static_file *)a)->path,
                  ((const struct mc_static_file *)b)->path);
}

int mc_static_load(struct mc_static **out, const char *root) {
    *out = NULL;
    struct mc_static *s = calloc(1, sizeof *s);
    if (!s) return mc_err_set(MC_ERR_NOMEM, "out of memory loading the web files");
    s->files = calloc(MC_STATIC_FILES_MAX, sizeof *s->files);
    if (!s->files) {
        free(s);
        return mc_err_set(MC_ERR_NOMEM, "out of memory loading the web files");
    }
    int dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        int e = errno;
        mc_static_destroy(s);
        return mc_err_set(MC_ERR_IO, "cannot open the web folder %s: %s", root, strerror(e));
    }
    int rc = walk(s, dirfd, "", 1);
    close(dirfd);
    if (rc) {
        mc_static_destroy(s);
        return mc_err_set(rc, "cannot load the web folder %s", root);
    }
    qsort(s->files, s->count, sizeof *s->files, by_path);
    *out = s;
    return 0;
}

void mc_static_destroy(struct mc_static *s) {
    if (!s) return;
    for (size_t i = 0; i < s->count; i++) free((void *)s->files[i].data);
    free(s->files);
    free(s);
}

size_t mc_static_count(const struct mc_static *s) { return s ? s->count : 0; }

static const struct mc_static_file *lookup(const struct mc_static *s, const char *path) {
    struct mc_static_file key;
    if (strlen(path) >= sizeof key.path) return NULL;
    memcpy(key.path, path, strlen(path) + 1);
    return bsearch(&key, s->files, s->count, sizeof *s->files, by_path);
}

const struct mc_static_file *mc_static_find(const struct mc_static *s, const char *path) {
    if (!s || !path || path[0] != '/') return NULL;
    size_t n = strnlen(path, MC_STATIC_PATH_MAX);
    if (n >= MC_STATIC_PATH_MAX - 6) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x21 || c == 0x7f || c == '\\') return NULL;
    }
    if (strstr(path, "..") || strstr(path, "//")) return NULL;
    if (strcmp(path, "/") == 0) return lookup(s, "/index.html");
    const struct mc_static_file *f = lookup(s, path);
    if (f) return f;
    /* "/patient" -> "/patient.html" (only for names without an extension). */
    const char *last = strrchr(path, '/');
    if (!strchr(last, '.')) {
        char html[MC_STATIC_PATH_MAX];
        snprintf(html, sizeof html, "%s.html", path);
        return lookup(s, html);
    }
    return NULL;
}

bool mc_static_wants_html(const char *accept) {
    return accept && strstr(accept, "text/html") != NULL;
}

bool mc_static_not_modified(const struct mc_static_file *f, const char *inm) {
    if (!f || !inm) return false;
    /* A list of entity tags, possibly weak (W/"..."): compare the opaque part. */
    const char *p = inm;
    size_t tag_len = strlen(f->etag);
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        if (*p == '*') return true;
        if (strncmp(p, "W/", 2) == 0) p += 2;
        if (strncmp(p, f->etag, tag_len) == 0) return true;
        while (*p && *p != ',') p++;
    }
    return false;
}
