/* The storage-fault VFS (see faultvfs.h). */
#include "faultvfs.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fv_file {
    sqlite3_file base;   /* our methods */
    sqlite3_file *real;  /* the wrapped file, allocated right after us */
    char tag[8];         /* "db", "wal", "journal": for FV_TRACE */
};

static sqlite3_vfs fv_vfs;
static sqlite3_vfs *real_vfs;
static sqlite3_io_methods fv_methods;

static atomic_int mode = FV_OFF;
static atomic_uint_fast64_t ops, armed_at, fault_count, faults;
static atomic_bool torn_write;
static atomic_bool crashed;

/* What happens to the operation about to run: 0 go through, else the
 * SQLite error to return (after a torn write when asked). */
static int decide(struct fv_file *f, char kind, bool is_write, bool *tear) {
    uint64_t n = atomic_fetch_add(&ops, 1);
    if (getenv("FV_TRACE")) fprintf(stderr, "fv op %llu: %c %s\n", (unsigned long long)n, kind, f->tag);
    *tear = false;
    int m = atomic_load(&mode);
    if (m == FV_OFF || n < atomic_load(&armed_at)) return 0;
    switch (m) {
    case FV_IOERR:
        if (n >= atomic_load(&armed_at) + atomic_load(&fault_count)) return 0;
        atomic_fetch_add(&faults, 1);
        return SQLITE_IOERR;
    case FV_FULL:
        atomic_fetch_add(&faults, 1);
        return is_write ? SQLITE_FULL : SQLITE_IOERR;
    case FV_CRASH:
        if (!atomic_exchange(&crashed, true)) *tear = is_write && atomic_load(&torn_write);
        atomic_fetch_add(&faults, 1);
        return SQLITE_IOERR;
    }
    return 0;
}

static int fv_close(sqlite3_file *f) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xClose(p->real);
}
static int fv_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xRead(p->real, buf, n, off);
}
static int fv_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off) {
    struct fv_file *p = (struct fv_file *)f;
    bool tear;
    int rc = decide(p, 'w', true, &tear);
    if (tear && n > 1) p->real->pMethods->xWrite(p->real, buf, n / 2, off);
    return rc ? rc : p->real->pMethods->xWrite(p->real, buf, n, off);
}
static int fv_truncate(sqlite3_file *f, sqlite3_int64 size) {
    struct fv_file *p = (struct fv_file *)f;
    bool tear;
    int rc = decide(p, 't', false, &tear);
    return rc ? rc : p->real->pMethods->xTruncate(p->real, size);
}
static int fv_sync(sqlite3_file *f, int flags) {
    struct fv_file *p = (struct fv_file *)f;
    bool tear;
    int rc = decide(p, 's', false, &tear);
    return rc ? rc : p->real->pMethods->xSync(p->real, flags);
}
static int fv_size(sqlite3_file *f, sqlite3_int64 *out) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xFileSize(p->real, out);
}
static int fv_lock(sqlite3_file *f, int l) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xLock(p->real, l);
}
static int fv_unlock(sqlite3_file *f, int l) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xUnlock(p->real, l);
}
static int fv_check(sqlite3_file *f, int *out) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xCheckReservedLock(p->real, out);
}
static int fv_control(sqlite3_file *f, int op, void *arg) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xFileControl(p->real, op, arg);
}
static int fv_sector(sqlite3_file *f) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xSectorSize(p->real);
}
static int fv_dev(sqlite3_file *f) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xDeviceCharacteristics(p->real);
}
static int fv_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **out) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xShmMap(p->real, pg, sz, extend, out);
}
static int fv_shm_lock(sqlite3_file *f, int off, int n, int flags) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xShmLock(p->real, off, n, flags);
}
static void fv_shm_barrier(sqlite3_file *f) {
    struct fv_file *p = (struct fv_file *)f;
    p->real->pMethods->xShmBarrier(p->real);
}
static int fv_shm_unmap(sqlite3_file *f, int del) {
    struct fv_file *p = (struct fv_file *)f;
    return p->real->pMethods->xShmUnmap(p->real, del);
}

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
    struct fv_file *p = (struct fv_file *)f;
    p->real = (sqlite3_file *)(p + 1);
    const char *suffix = name ? strrchr(name, '-') : NULL;
    snprintf(p->tag, sizeof p->tag, "%s", !name ? "temp" : suffix && strcmp(suffix, "-wal") == 0 ? "wal"
                                           : suffix && strcmp(suffix, "-journal") == 0 ? "journal" : "db");
    int rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
    /* SQLite calls xClose only when pMethods is set */
    p->base.pMethods = rc == SQLITE_OK && p->real->pMethods ? &fv_methods : NULL;
    return rc;
}

static int fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    /* a dead process deletes nothing */
    if (atomic_load(&mode) == FV_CRASH && atomic_load(&crashed)) return SQLITE_IOERR_DELETE;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

void fv_install(void) {
    if (real_vfs) return;
    real_vfs = sqlite3_vfs_find(NULL);
    fv_vfs = *real_vfs;
    fv_vfs.zName = "medchain-faults";
    fv_vfs.szOsFile = (int)sizeof(struct fv_file) + real_vfs->szOsFile;
    fv_vfs.xOpen = fv_open;
    fv_vfs.xDelete = fv_delete;
    fv_vfs.pNext = NULL;
    fv_methods = (sqlite3_io_methods){
        .iVersion = 2,
        .xClose = fv_close,
        .xRead = fv_read,
        .xWrite = fv_write,
        .xTruncate = fv_truncate,
        .xSync = fv_sync,
        .xFileSize = fv_size,
        .xLock = fv_lock,
        .xUnlock = fv_unlock,
        .xCheckReservedLock = fv_check,
        .xFileControl = fv_control,
        .xSectorSize = fv_sector,
        .xDeviceCharacteristics = fv_dev,
        .xShmMap = fv_shm_map,
        .xShmLock = fv_shm_lock,
        .xShmBarrier = fv_shm_barrier,
        .xShmUnmap = fv_shm_unmap,
    };
    sqlite3_vfs_register(&fv_vfs, 1);
}

void fv_arm(enum fv_mode m, uint64_t k, uint64_t count, bool torn) {
    atomic_store(&faults, 0);
    atomic_store(&crashed, false);
    atomic_store(&torn_write, torn);
    atomic_store(&fault_count, count);
    atomic_store(&armed_at, atomic_load(&ops) + k);
    atomic_store(&mode, m);
}

void fv_clear(void) {
    atomic_store(&mode, FV_OFF);
    atomic_store(&crashed, false);
}

uint64_t fv_ops(void) { return atomic_load(&ops); }
uint64_t fv_faults(void) { return atomic_load(&faults); }
