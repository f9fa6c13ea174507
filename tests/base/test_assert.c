/* MC_ASSERT stops the process with file, line and expression; MC_VERIFY
 * does so only in debug builds (-DMC_DEBUG, `make test-debug`). */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/assert.h"

/* Runs fn in a child with stderr on a pipe; gives what it printed and how
 * it ended. */
static int run_child(void (*fn)(void), char *out, size_t cap) {
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        fn();
        _exit(0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd[0], out + n, cap - 1 - n)) > 0) n += (size_t)r;
    out[n] = 0;
    close(fd[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static void holds(void) {
    int x = 2;
    MC_ASSERT(x == 2);
}

static void broken(void) {
    int x = 1;
    MC_ASSERT(x == 2);
}

static void verify_broken(void) {
    int x = 1;
    MC_VERIFY(x == 2);
    (void)x;
}

Test(assert, a_holding_assertion_does_nothing) {
    char out[256];
    int status = run_child(holds, out, sizeof out);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_str_empty(out);
}

Test(assert, a_broken_assertion_aborts_naming_file_line_and_expression) {
    char out[256];
    int status = run_child(broken, out, sizeof out);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    cr_assert(strstr(out, "medchain: assertion failed: "), "%s", out);
    cr_assert(strstr(out, "test_assert.c:"), "%s", out);
    cr_assert(strstr(out, ": x == 2"), "%s", out);
}

Test(assert, verify_runs_only_in_debug_builds) {
    char out[256];
    int status = run_child(verify_broken, out, sizeof out);
#ifdef MC_DEBUG
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %d", status);
    cr_assert(strstr(out, ": x == 2"), "%s", out);
#else
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_str_empty(out);
#endif
}
