/* A disk that fills up and empties again, for a real `medchain node`
 * process (tests/integration/test_store_resume.c): preloaded with
 * LD_PRELOAD, it makes every write, sync and truncation of a file whose name
 * contains "chain.db" (the node's SQLite database, its WAL and journals)
 * fail with ENOSPC for as long as the file named by MEDCHAIN_DISKFULL_FLAG
 * exists. Everything else (logs, the mempool journal, sockets) is left
 * alone, so the node can report the fault and keep what clients submit.
 * Built as a shared object by the Makefile, never linked into medchain. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int full_for(int fd) {
    const char *flag = getenv("MEDCHAIN_DISKFULL_FLAG");
    if (!flag || access(flag, F_OK) != 0) return 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return strstr(path, "chain.db") != NULL;
}

/* Each wrapper finds the C library's function once (dlsym RTLD_NEXT). */
#define WRAP(ret, name, params, args)                                   \
    ret name params {                                                   \
        static ret(*real) params;                                       \
        if (!real) *(void **)&real = dlsym(RTLD_NEXT, #name);           \
        if (full_for(fd)) {                                             \
            errno = ENOSPC;                                             \
            return -1;                                                  \
        }                                                               \
        return real args;                                               \
    }

WRAP(ssize_t, write, (int fd, const void *buf, size_t len), (fd, buf, len))
WRAP(ssize_t, pwrite, (int fd, const void *buf, size_t len, off_t off), (fd, buf, len, off))
WRAP(ssize_t, pwrite64, (int fd, const void *buf, size_t len, off_t off), (fd, buf, len, off))
WRAP(int, fsync, (int fd), (fd))
WRAP(int, fdatasync, (int fd), (fd))
WRAP(int, ftruncate, (int fd, off_t len), (fd, len))
WRAP(int, ftruncate64, (int fd, off_t len), (fd, len))
WRAP(int, fallocate, (int fd, int mode, off_t off, off_t len), (fd, mode, off, len))
