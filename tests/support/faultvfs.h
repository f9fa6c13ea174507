/* A SQLite VFS for storage-fault tests: it wraps the default VFS and, once
 * armed, makes the k-th write from now (counting every xWrite, xTruncate and
 * xSync on any file) and those after it fail in one of three ways:
 *
 *   FV_IOERR  the operation returns SQLITE_IOERR (a failing disk), for
 *             `count` operations, then everything works again
 *   FV_FULL   writes return SQLITE_FULL (a full disk) until cleared
 *   FV_CRASH  the process "dies" at that write: it and every later write
 *             and sync are silently dropped (never reach the file) and
 *             return SQLITE_IOERR, so what is on disk is exactly what a
 *             kill at that instant leaves; with `torn`, the crashing write
 *             lands half-written
 *
 * fv_install() registers it as the default VFS for this process (each
 * Criterion test runs in its own process), so every database opened
 * afterwards goes through it. */
#ifndef MC_TESTS_FAULTVFS_H
#define MC_TESTS_FAULTVFS_H

#include <stdbool.h>
#include <stdint.h>

enum fv_mode { FV_OFF, FV_IOERR, FV_FULL, FV_CRASH };

void fv_install(void);
/* Arms a fault at the k-th write-type operation from now (k = 0: the next). */
void fv_arm(enum fv_mode mode, uint64_t k, uint64_t count, bool torn);
/* Disarms: every later operation goes through. */
void fv_clear(void);
/* Write-type operations seen since install. */
uint64_t fv_ops(void);
/* Operations that failed or were dropped since the last arm. */
uint64_t fv_faults(void);

#endif
