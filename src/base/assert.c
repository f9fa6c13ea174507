/* The failure path of MC_ASSERT (see assert.h). */
#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void mc_assert_fail(const char *file, int line, const char *expr) {
    fprintf(stderr, "medchain: assertion failed: %s:%d: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}
