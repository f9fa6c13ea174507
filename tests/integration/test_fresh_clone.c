/* A fresh clone works on its own: nothing in the repository reaches outside
 * it, and `make demo` in a clone placed in an empty temporary folder builds,
 * starts the 7-node demo consortium with its sample data, prints commands
 * that run as printed, stops with `make demo-stop` (leaving no process), and
 * starts again with its data kept.
 *
 * The demo's data is checked through the nodes' API (HTTP and the CLI's
 * signed requests), not by reading what the demo printed. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"

static const char *root(void) {
    const char *r = getenv("MEDCHAIN_ROOT");
    return r && *r ? r : ".";
}

/* The tracked files of the git repository at dir that name a path which
 * exists only on the developers' machines or outside any clone (malloc'd
 * grep output, empty when none). The patterns are built from pieces so this
 * file does not match itself. */
static char *outside_references(const char *dir) {
    char pattern[256];
    snprintf(pattern, sizeof pattern, "-e '%s' -e '%s' -e '%s'", "\\.\\./" "shared", "/wo" "rk/",
             "/ro" "ot/");
    char *out;
    tp_run(&out, "cd '%s' && git ls-files -z | xargs -0 grep -I -n %s -- 2>/dev/null", dir, pattern);
    return out;
}

Test(fresh_clone, no_tracked_file_reaches_outside_the_repository) {
    char *out = outside_references(root());
    cr_assert_eq(out[0], 0, "tracked files refer to paths outside the repository:\n%s", out);
    free(out);
    /* The test data the tests and the demo read is in the repository. */
    int rc = tp_run(&out, "cd '%s' && git ls-files testdata | grep -c '\\.json$'", root());
    cr_assert_eq(rc, 0);
    cr_assert_gt(atoi(out), 50, "testdata/ holds %s JSON files", out);
    free(out);
}

/* The check above can fail: a repository whose Makefile reads the shared
 * test data beside it is caught, and so is a script with a home path. */
Test(fresh_clone, outside_reference_check_catches_one) {
    char *dir = tu_tmpdir("outside");
    char *out;
    int rc = tp_run(&out, "cd '%s' && git init -q . && printf 'TESTDATA ?= ../%s/testdata\\n' >Makefile && "
                          "printf 'cp /%s/x .\\n' >run.sh && printf 'fine\\n' >ok.txt && "
                          "git add Makefile run.sh ok.txt",
                    dir, "shared", "root");
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    out = outside_references(dir);
    cr_assert(strstr(out, "Makefile:1:"), "not caught: %s", out);
    cr_assert(strstr(out, "run.sh:1:"), "not caught: %s", out);
    cr_assert_null(strstr(out, "ok.txt"), "%s", out);
    free(out);
    tp_run(&out, "rm -rf '%s'", dir);
    free(out);
}

static int spare_ports(unsigned salt) {
    srand((unsigned)time(NULL) ^ (unsigned)getpid() ^ salt);
    for (int i = 0; i < 200; i++) {
        /* below the ports the cluster tests search (12000-32000): this test
         * holds its ports only after building the clone, a long window */
        int base = 8000 + (rand() % 390) * 10;
        if (tp_ports_free(base, 7)) return base;
    }
    cr_assert_fail("no 7 consecutive free ports");
    return 0;
}

struct clone {
    char *dir;      /* the clone */
    char env[512];  /* environment for make in the clone */
    int api, p2p;
};

__attribute__((noinline)) static char *make_in(struct clone *c, int *rc, const char *target) {
    char *out;
    *rc = tp_run(&out, "cd '%s' && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u BUILD -u MEDCHAIN_TESTDATA "
                       "-u MEDCHAIN_BIN %s make -j2 --no-print-directory %s 2>&1",
                 c->dir, c->env, target);
    return out;
}

/* The pids of the demo's nodes, from each node's own lock file. */
static int demo_pids(struct clone *c, pid_t pids[7]) {
    int n = 0;
    for (int i = 0; i < 7; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/demo/net/node%d/node.pid", c->dir, i);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        long pid = 0;
        if (fscanf(f, "%ld", &pid) == 1 && pid > 0) pids[n++] = (pid_t)pid;
        fclose(f);
    }
    return n;
}

/* No process at all runs a program from the clone or on its demo folder. */
static void assert_no_process_of(struct clone *c) {
    DIR *d = opendir("/proc");
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], cmd[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            if (!cmd[i]) cmd[i] = ' ';
        cmd[n] = 0;
        if (strstr(cmd, "medchain node --home") && strstr(cmd, c->dir))
            cr_assert_fail("demo process %s left running: %s", e->d_name, cmd);
    }
    closedir(d);
}

static long count_lines_with(const char *text, const char *prefix) {
    long n = 0;
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) n++;
        p = strchr(p, '\n');
        if (p) p++;
    }
    return n;
}

/* Runs every command the demo printed under "In a shell" that only reads
 * (not the fault and load lines): each must run as printed. A line that
 * says "# exit 1" must exit 1 (a "do not use" medicine verdict). */
__attribute__((noinline)) static void run_printed_commands(const char *demo_out) {
    const char *start = strstr(demo_out, "In a shell");
    const char *end = strstr(demo_out, "Faults (");
    cr_assert(start && end && start < end, "the demo printed no command list:\n%s", demo_out);
    char *section = strndup(start, (size_t)(end - start));
    char *cmd_out = NULL, *save = NULL;
    int ran = 0;
    for (char *line = strtok_r(section, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "  /", 3) != 0 && strncmp(line, "  curl ", 7) != 0) continue;
        int want = strstr(line, "# exit 1") ? 1 : 0;
        char *hash = strstr(line, "  #");
        if (hash) *hash = 0;
        int rc = tp_run(&cmd_out, "%s", line);
        cr_assert_eq(rc, want, "printed command exits %d, not %d: %s\n%s", rc, want, line, cmd_out);
        cr_assert_neq(cmd_out[0], 0, "printed command printed nothing: %s", line);
        free(cmd_out);
        ran++;
    }
    free(section);
    cr_assert_geq(ran, 20, "only %d printed commands found", ran);
}

Test(fresh_clone, make_demo_in_a_clone_with_nothing_beside_it, .timeout = 900) {
    struct clone c = {0};
    char *tmp = tu_tmpdir("clone");
    c.dir = tu_path(tmp, "medchain");
    char *out;
    int rc = tp_run(&out, "git clone -q '%s' '%s'", root(), c.dir);
    cr_assert_eq(rc, 0, "git clone: %s", out);
    free(out);
    c.api = spare_ports(1);
    do c.p2p = spare_ports(2); while (abs(c.p2p - c.api) < 10);
    snprintf(c.env, sizeof c.env, "MEDCHAIN_DEMO_API_PORT=%d MEDCHAIN_DEMO_P2P_PORT=%d", c.api, c.p2p);

    char *demo = make_in(&c, &rc, "demo");
    cr_assert_eq(rc, 0, "make demo failed:\n%s", demo);
    cr_assert(strstr(demo, "medchain demo is running"), "%s", demo);
    cr_assert_null(strstr(demo, "<id>"), "a placeholder in the hints:\n%s", demo);
    /* Each web page with the exact key file to open there. */
    cr_assert(strstr(demo, "/patient.html") && strstr(demo, "/keys/patient-"), "%s", demo);
    cr_assert(strstr(demo, "/clinician.html") && strstr(demo, "dr-grace-hopper-2025.json"), "%s", demo);
    cr_assert(strstr(demo, "/auditor.html") && strstr(demo, "ada-audit.json"), "%s", demo);
    cr_assert(strstr(demo, "/verify.html") && strstr(demo, "corner-pharmacist.json"), "%s", demo);
    cr_assert(strstr(demo, "/research.html") && strstr(demo, "dr-rosalind-franklin.json"), "%s", demo);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", c.api);
    /* Patients: every Synthea bundle gave a registered patient whose records
     * are on the chain (the patient's own signed list, through the API). */
    rc = tp_run(&out, "ls '%s'/demo/keys/patient-*.json | wc -l", c.dir);
    cr_assert_eq(atoi(out), 4, "patients: %s", out);
    free(out);
    char *keys;
    tp_run(&keys, "ls '%s'/demo/keys/patient-*.json", c.dir);
    long total = 0;
    for (char *k = strtok(keys, "\n"); k; k = strtok(NULL, "\n")) {
        rc = tp_run(&out, "'%s/build/medchain' account show --key '%s' --node %s", c.dir, k, url);
        cr_assert_eq(rc, 0, "%s", out);
        cr_assert(strstr(out, "\"patient\""), "not a patient account: %s", out);
        free(out);
        rc = tp_run(&out, "'%s/build/medchain' record list --key '%s' --node %s", c.dir, k, url);
        cr_assert_eq(rc, 0, "%s", out);
        long n = count_lines_with(out, "record: ");
        cr_assert_gt(n, 200, "%s has %ld records", k, n);
        total += n;
        free(out);
    }
    free(keys);
    cr_assert_gt(total, 900);
    /* The drug journey, as the public resolver answers it on a member node. */
    char path[256];
    struct {
        const char *serial, *lot, *exp, *verdict;
    } packs[] = {{"PK2", "LOT2026A", "280630", "\"genuine\""},
                 {"FAKE42", "LOT2026A", "280630", "\"unknown_serial\""},
                 {"RC1", "LOT2025Z", "270131", "\"recalled\""}};
    for (size_t i = 0; i < sizeof packs / sizeof packs[0]; i++) {
        snprintf(path, sizeof path, "http://127.0.0.1:%d/01/09506000134352/10/%s/21/%s?17=%s",
                 c.api + 4, packs[i].lot, packs[i].serial, packs[i].exp);
        struct tp_resp r = tp_http("GET", path, NULL, 0, NULL);
        cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
        cr_assert(strstr(r.body, packs[i].verdict), "%s: %s", packs[i].serial, r.body);
        tp_resp_free(&r);
    }
    /* The trial: registered, locked, results posted, verifying clean. */
    snprintf(path, sizeof path, "http://127.0.0.1:%d/v1/research/study/HIV-VL-1", c.api + 5);
    struct tp_resp r = tp_http("GET", path, NULL, 0, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"completed\""), "%s", r.body);
    tp_resp_free(&r);
    rc = tp_run(&out, "'%s/build/medchain' trial verify HIV-VL-1 --node %s", c.dir, url);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "verdict: clean"), "%s", out);
    free(out);

    run_printed_commands(demo);
    /* Files the CLI wrote with decrypted health data are the user's alone. */
    rc = tp_run(&out, "cd '%s/demo' && stat -c '%%a %%n' export-patient-*.json read-by-grace.json "
                      "read-break-glass.json keys/*.json",
                c.dir);
    cr_assert_eq(rc, 0, "%s", out);
    for (char *l = out; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
        cr_assert(strncmp(l, "600 ", 4) == 0, "not mode 0600: %.80s", l);
    cr_assert(strstr(out, "export-patient-"), "%s", out);
    free(out);
    rc = tp_run(&out, "'%s/build/medchain' --version", c.dir);
    cr_assert_eq(rc, 0);
    cr_assert(strncmp(out, "medchain 0.", 11) == 0, "%s", out);
    free(out);

    /* A node restarted by hand, as the hints suggest, is stopped too. */
    pid_t pids[7];
    cr_assert_eq(demo_pids(&c, pids), 7);
    rc = tp_run(&out, "kill -9 $(cat '%s/demo/net/node3/node.pid') && sleep 0.3 && "
                      "(nohup '%s/build/medchain' node --home '%s/demo/net/node3' "
                      ">>'%s/demo/net/node3/node.log' 2>&1 </dev/null &) && sleep 1",
                c.dir, c.dir, c.dir, c.dir);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    cr_assert_eq(demo_pids(&c, pids), 7);
    char *stop = make_in(&c, &rc, "demo-stop");
    cr_assert_eq(rc, 0, "%s", stop);
    cr_assert(strstr(stop, "7 running node(s) stopped"), "%s", stop);
    free(stop);
    for (int i = 0; i < 7; i++) cr_assert_neq(kill(pids[i], 0), 0, "node pid %d still runs", pids[i]);
    assert_no_process_of(&c);

    /* make demo again: the same chain, the data kept, nothing reloaded. */
    char *again = make_in(&c, &rc, "demo");
    cr_assert_eq(rc, 0, "%s", again);
    cr_assert(strstr(again, "data kept"), "%s", again);
    cr_assert_null(strstr(again, "loading sample data"), "%s", again);
    rc = tp_run(&out, "'%s/build/medchain' trial verify HIV-VL-1 --node %s", c.dir, url);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    free(again);
    stop = make_in(&c, &rc, "demo-stop");
    cr_assert_eq(rc, 0, "%s", stop);
    free(stop);
    assert_no_process_of(&c);
    free(demo);
    tp_run(&out, "rm -rf '%s'", tmp);
    free(out);
}
