/* Bulk Data export outputs in the node's home (see exports.h). */
#include "node/exports.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/node.h"

static bool job_valid(const char *job) {
    size_t n = 0;
    for (; job[n]; n++)
        if (!((job[n] >= '0' && job[n] <= '9') || (job[n] >= 'a' && job[n] <= 'f'))) return false;
    return n == 32;
}

static bool file_valid(const char *f) {
    size_t n = 0;
    while ((f[n] >= 'A' && f[n] <= 'Z') || (f[n] >= 'a' && f[n] <= 'z')) n++;
    return n >= 1 && n <= 40 && strcmp(f + n, ".ndjson") == 0;
}

static int dir_of(struct mc_node *n, const char *job, char *out, size_t cap) {
    if (job && !job_valid(job)) return mc_err_set(MC_ERR_INVALID, "not an export job id");
    int k = job ? snprintf(out, cap, "%s/exports/%s", mc_node_home(n), job)
                : snprintf(out, cap, "%s/exports", mc_node_home(n));
    return k > 0 && (size_t)k < cap ? 0 : mc_err_set(MC_ERR_TOO_LARGE, "the export path is too long");
}

static int mkdir_0700(const char *p) {
    if (mkdir(p, 0700) == 0) return 0;
    if (errno != EEXIST) return mc_err_set(MC_ERR_IO, "cannot create %s: %s", p, strerror(errno));
    struct stat st;
    if (lstat(p, &st) || !S_ISDIR(st.st_mode)) return mc_err_set(MC_ERR_IO, "%s is not a folder", p);
    if ((st.st_mode & 0077) && chmod(p, 0700)) return mc_err_set(MC_ERR_IO, "cannot restrict %s", p);
    return 0;
}

int mc_exports_begin(struct mc_node *n, const char *job) {
    char p[4096];
    int rc = dir_of(n, NULL, p, sizeof p);
    if (rc || (rc = mkdir_0700(p))) return rc;
    if ((rc = dir_of(n, job, p, sizeof p))) return rc;
    return mkdir_0700(p);
}

static int file_path(struct mc_node *n, const char *job, const char *file, char *out, size_t cap) {
    if (!file_valid(file)) return mc_err_set(MC_ERR_INVALID, "not an export file name");
    char d[4096];
    int rc = dir_of(n, job, d, sizeof d);
    if (rc) return rc;
    int k = snprintf(out, cap, "%s/%s", d, file);
    return k > 0 && (size_t)k < cap ? 0 : mc_err_set(MC_ERR_TOO_LARGE, "the export path is too long");
}

int mc_exports_append(struct mc_node *n, const char *job, const char *file, const void *p, size_t len) {
    char path[4200];
    int rc = file_path(n, job, file, path, sizeof path);
    if (rc) return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return mc_err_set(MC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    const char *b = p;
    while (len > 0) {
        ssize_t w = write(fd, b, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            return mc_err_set(MC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        }
        b += w;
        len -= (size_t)w;
    }
    return close(fd) == 0 ? 0 : mc_err_set(MC_ERR_IO, "cannot close %s", path);
}

struct mc_exports_reader {
    int fd;
};

int mc_exports_open(struct mc_node *n, const char *job, const char *file, struct mc_exports_reader **out,
                    uint64_t *size) {
    *out = NULL;
    char path[4200];
    int rc = file_path(n, job, file, path, sizeof path);
    if (rc) return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno == ENOENT ? MC_ERR_NOT_FOUND : mc_err_set(MC_ERR_IO, "cannot open %s", path);
    struct stat st;
    struct mc_exports_reader *r = malloc(sizeof *r);
    if (fstat(fd, &st) || !r) {
        close(fd);
        free(r);
        return MC_ERR_IO;
    }
    r->fd = fd;
    *size = (uint64_t)st.st_size;
    *out = r;
    return 0;
}

long mc_exports_read(struct mc_exports_reader *r, char *buf, size_t max) {
    for (;;) {
        ssize_t k = read(r->fd, buf, max);
        if (k < 0 && errno == EINTR) continue;
        return k < 0 ? -1 : (long)k;
    }
}

void mc_exports_close(struct mc_exports_reader *r) {
    if (!r) return;
    close(r->fd);
    free(r);
}

static void remove_dir(const char *d) {
    DIR *dir = opendir(d);
    if (!dir) return;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", d, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) remove_dir(p);
        else unlink(p);
    }
    closedir(dir);
    rmdir(d);
}

void mc_exports_remove(struct mc_node *n, const char *job) {
    char d[4096];
    if (dir_of(n, job, d, sizeof d) == 0) remove_dir(d);
}

void mc_exports_clear(struct mc_node *n) {
    char d[4096];
    if (dir_of(n, NULL, d, sizeof d) == 0) remove_dir(d);
}
