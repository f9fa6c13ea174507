/* The browser tests of the web application as one Criterion test, so that
 * `make test` runs them: tests/web/web.test.mjs drives Debian's chromium
 * (headless, through playwright-core) against a real node it starts. Its
 * report is printed whole. Skipped, with one message, only when chromium is
 * not installed; a missing npm install is a failure that names its fix. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void print_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) fputs(line, stderr);
    fclose(f);
}

Test(web, browser, .timeout = 1200) {
    const char *root = getenv("MEDCHAIN_ROOT");
    const char *chromium = getenv("MEDCHAIN_CHROMIUM");
    if (!chromium) chromium = "/usr/bin/chromium";
    if (access(chromium, X_OK) != 0)
        cr_skip_test("web: browser tests SKIPPED: chromium is not installed (make deps installs it)");
    cr_assert(root && root[0], "MEDCHAIN_ROOT is not set (run through make test)");
    char path[1024];
    snprintf(path, sizeof path, "%s/web/node_modules/playwright-core/package.json", root);
    cr_assert(access(path, R_OK) == 0, "web: %s is missing: run make deps (npm ci in web/)", path);
    snprintf(path, sizeof path, "%s/web/vendor/libsodium-wrappers.mjs", root);
    cr_assert(access(path, R_OK) == 0, "web: %s is missing: run make deps (web/vendor.mjs)", path);

    char log[] = "/tmp/medchain-web-test-XXXXXX";
    int fd = mkstemp(log);
    cr_assert(fd >= 0, "cannot create a log file");
    close(fd);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && node --test --test-reporter=spec tests/web/ >'%s' 2>&1", root,
             log);
    int rc = system(cmd);
    fprintf(stderr, "---- browser tests (tests/web) ----\n");
    print_file(log);
    unlink(log);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
              "web: the browser tests failed (report above; screenshots in build/screenshots)");
}
