/* Assertions that stay on in release builds.
 *
 * MC_ASSERT(e) checks a cheap invariant of our own code (never outside
 * input: that is checked and answered with an error). When e is false it
 * prints "medchain: assertion failed: FILE:LINE: EXPR" to stderr and
 * aborts. MC_VERIFY(e) is the same check for expensive invariants, compiled
 * only with -DMC_DEBUG. */
#ifndef MC_BASE_ASSERT_H
#define MC_BASE_ASSERT_H

_Noreturn void mc_assert_fail(const char *file, int line, const char *expr);

#define MC_ASSERT(e) ((e) ? (void)0 : mc_assert_fail(__FILE__, __LINE__, #e))

#ifdef MC_DEBUG
#define MC_VERIFY(e) MC_ASSERT(e)
#else
#define MC_VERIFY(e) ((void)0)
#endif

#endif
