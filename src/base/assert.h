/* Assertions: broken invariants of our own code stop the process loudly.
 *
 * MC_ASSERT is always on (release builds too): use it for cheap checks of
 * what our own code guarantees (a bound it sized, a state it keeps).
 * MC_VERIFY is compiled only with -DMC_DEBUG (`make test-debug`): use it for
 * checks too costly to run on every call. Neither is ever used on input from
 * the network, a client or the disk: that is checked and answered with an
 * error (see CONTRIBUTING.md). */
#ifndef MC_BASE_ASSERT_H
#define MC_BASE_ASSERT_H

/* Prints "medchain: assertion failed: FILE:LINE: EXPR" to stderr and
 * aborts. */
_Noreturn void mc_assert_fail(const char *file, int line, const char *expr);

#define MC_ASSERT(e) ((e) ? (void)0 : mc_assert_fail(__FILE__, __LINE__, #e))

#ifdef MC_DEBUG
#define MC_VERIFY(e) MC_ASSERT(e)
#else
#define MC_VERIFY(e) ((void)0)
#endif

#endif
