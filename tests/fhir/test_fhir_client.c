/* A third-party FHIR client against a real node: tests/fhir/client.test.mjs
 * drives fhir-kit-client (npm) with no medchain-specific code besides the
 * RFC 9421 signature its request hook adds, and checks every resource it
 * receives with the independent R4 validator (tests/fhir/validate.mjs).
 * A missing npm install is a failure that names its fix. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/hex.h"
#include "../records/records_env.h"

static void print_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) fputs(line, stderr);
    fclose(f);
}

/* Commits what the client's requests admitted, as a running consortium
 * would, while the client runs. */
struct committer {
    struct env *e;
    atomic_bool stop;
};

static void *commit_loop(void *arg) {
    struct committer *c = arg;
    for (int i = 0; i < 3000 && !atomic_load(&c->stop); i++) {
        if (mc_node_commit_pending(c->e->t.node)) { /* retried on the next turn */ }
        usleep(100 * 1000);
    }
    return NULL;
}

Test(fhir_client, a_standard_client_imports_follows_pages_and_reads_a_version, .timeout = 300) {
    const char *root = getenv("MEDCHAIN_ROOT");
    cr_assert(root && root[0], "MEDCHAIN_ROOT is not set (run through make test)");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fhir/node_modules/fhir-kit-client/package.json", root);
    cr_assert(access(path, R_OK) == 0, "fhir: %s is missing: run make deps (npm ci in tests/fhir/)", path);
    struct env e;
    env_start(&e, "fhir-client");
    char doc_seed[65], pat_seed[65];
    mc_hex_encode(doc_seed, e.doc.sk, 32);
    mc_hex_encode(pat_seed, e.patient.sk, 32);
    char log[] = "/tmp/medchain-fhir-client-XXXXXX";
    int fd = mkstemp(log);
    cr_assert(fd >= 0);
    close(fd);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && MEDCHAIN_FHIR_BASE=http://127.0.0.1:%u/fhir MEDCHAIN_FHIR_CLINICIAN=%s "
             "MEDCHAIN_FHIR_PATIENT=%s MEDCHAIN_FHIR_PATIENT_KEY=%s "
             "node --test --test-reporter=spec tests/fhir/client.test.mjs >'%s' 2>&1",
             root, (unsigned)e.port, doc_seed, pat_seed, e.patient_hex, log);
    struct committer c = {.e = &e};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, commit_loop, &c), 0);
    int rc = system(cmd);
    atomic_store(&c.stop, true);
    pthread_join(th, NULL);
    fprintf(stderr, "---- FHIR client (tests/fhir/client.test.mjs) ----\n");
    print_file(log);
    unlink(log);
    env_stop(&e);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "fhir: the FHIR client test failed (report above)");
}
