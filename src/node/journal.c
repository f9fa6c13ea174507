/* The mempool journal (contract and record format in journal.h). */
#include "node/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/limits.h"
#include "crypto/hash.h"

struct mc_journal {
    int fd;
    char path[PATH_MAX];
    uint64_t records;
};

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return mc_err_set(MC_ERR_IO, "cannot write the mempool journal: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* One record in one write(2), so a crash tears at most the last record. */
static int write_record(int fd, const uint8_t *tx, size_t len) {
    if (len == 0 || len > MC_TX_MAX) return mc_err_set(MC_ERR_TOO_LARGE, "journal record of %zu bytes", len);
    uint8_t *rec = malloc(len + 12);
    if (!rec) return MC_ERR_NOMEM;
    put_u32(rec, (uint32_t)len);
    memcpy(rec + 4, tx, len);
    mc_hash h;
    mc_sha256(&h, tx, len);
    memcpy(rec + 4 + len, h.b, 8);
    int rc = write_all(fd, rec, len + 12);
    free(rec);
    return rc;
}

int mc_journal_open(struct mc_journal **out, const char *path) {
    *out = NULL;
    struct mc_journal *j = calloc(1, sizeof *j);
    if (!j) return MC_ERR_NOMEM;
    snprintf(j->path, sizeof j->path, "%s", path);
    j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (j->fd < 0) {
        int e = errno;
        free(j);
        return mc_err_set(MC_ERR_IO, "cannot open %s: %s", path, strerror(e));
    }
    *out = j;
    return 0;
}

void mc_journal_close(struct mc_journal *j) {
    if (!j) return;
    close(j->fd);
    free(j);
}

int mc_journal_replay(const char *path, void (*fn)(void *, const uint8_t *, size_t), void *ctx) {
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? 0 : mc_err_set(MC_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    uint8_t *buf = malloc(MC_TX_MAX + 8);
    if (!buf) {
        fclose(f);
        return MC_ERR_NOMEM;
    }
    int count = 0;
    for (;;) {
        uint8_t hdr[4];
        if (fread(hdr, 1, 4, f) != 4) break;
        uint32_t len = get_u32(hdr);
        if (len == 0 || len > MC_TX_MAX || fread(buf, 1, len + 8, f) != len + 8) break;
        mc_hash h;
        mc_sha256(&h, buf, len);
        if (memcmp(h.b, buf + len, 8) != 0) break;
        fn(ctx, buf, len);
        count++;
    }
    free(buf);
    fclose(f);
    return count;
}

int mc_journal_append(struct mc_journal *j, const uint8_t *tx, size_t len) {
    int rc = write_record(j->fd, tx, len);
    if (!rc) j->records++;
    return rc;
}

int mc_journal_sync(struct mc_journal *j) {
    return fdatasync(j->fd) == 0 ? 0 : mc_err_set(MC_ERR_IO, "cannot sync the mempool journal: %s", strerror(errno));
}

int mc_journal_rewrite(struct mc_journal *j, const struct mc_tx_ref *txs, uint32_t count) {
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", j->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return mc_err_set(MC_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    int rc = 0;
    for (uint32_t i = 0; i < count && !rc; i++) rc = write_record(fd, txs[i].bytes, txs[i].len);
    if (!rc && fsync(fd) != 0) rc = mc_err_set(MC_ERR_IO, "cannot sync %s", tmp);
    if (rc) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, j->path) != 0) {
        rc = mc_err_set(MC_ERR_IO, "cannot replace %s: %s", j->path, strerror(errno));
        close(fd);
        unlink(tmp);
        return rc;
    }
    /* The rename itself is durable once the folder is synced. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", j->path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    close(j->fd);
    j->fd = fd; /* the new file, positioned at its end; later writes append */
    j->records = count;
    return 0;
}

uint64_t mc_journal_records(const struct mc_journal *j) { return j->records; }
