/* An in-memory key-value store behind the application's kv interface
 * (chain/kv.h), so the application runs without SQLite the way consensus
 * runs over fakes in the simulator. Rows are kept sorted by key; a write
 * batch is a list of pending puts and deletes applied at commit. */
#ifndef MC_TESTS_MEMKV_H
#define MC_TESTS_MEMKV_H

#include <stddef.h>

#include "chain/kv.h"

struct tu_memkv;

/* Aborts the test on out of memory. */
struct tu_memkv *tu_memkv_create(void);
void tu_memkv_destroy(struct tu_memkv *m);
struct mc_kv *tu_memkv_kv(struct tu_memkv *m);
/* Committed rows. */
size_t tu_memkv_rows(const struct tu_memkv *m);
/* Makes the next n-th put of a batch fail with MC_ERR_IO (0: never), to
 * show that a failed batch leaves nothing behind. */
void tu_memkv_fail_put_after(struct tu_memkv *m, size_t n);

#endif
