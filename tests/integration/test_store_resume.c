/* A disk that fills up under a running `medchain node` and empties again:
 * the node reports the store failure, stops writing, and, without a
 * restart by anyone, commits again once the fault clears; nothing that was
 * reported committed or admitted is lost, and the chain verifies. The fault
 * comes from tests/support/preload/diskfull.c (LD_PRELOAD), which fails
 * every write and sync of the node's database with ENOSPC while a flag file
 * exists. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "app/identity.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "crypto/keyfile.h"

struct node {
    char url[64];
    char chain_id[MC_CHAIN_ID_MAX + 1];
    struct mc_keypair admin;
    uint64_t nonce;
};

/* Submits an enrollment; the id of the admitted transaction. */
static void submit(struct node *N, char id[65]) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Disk Auditor");
    size_t len;
    uint8_t *tx = tu_tx(&len, N->chain_id, MC_TX_ENROLL_MEMBER, &N->admin, ++N->nonce, p, pl);
    char hex[2 * 512 + 1], body[1100], url[128];
    mc_hex_encode(hex, tx, len);
    free(tx);
    snprintf(body, sizeof body, "{\"tx\":\"%s\"}", hex);
    snprintf(url, sizeof url, "%s/v1/tx", N->url);
    struct tp_resp r = tp_http("POST", url, body, strlen(body), NULL);
    cr_assert_eq(r.status, 202, "submit: %ld %s", r.status, r.body ? r.body : "");
    json_t *j = json_loads(r.body, 0, NULL);
    snprintf(id, 65, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    tp_resp_free(&r);
}

/* The transaction's status ("committed", "pending", ...), or "" when the
 * node does not answer. */
static void tx_status(const struct node *N, const char *id, char out[32]) {
    char url[200];
    snprintf(url, sizeof url, "%s/v1/tx/%s", N->url, id);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    out[0] = 0;
    if (r.status == 200) {
        json_t *j = json_loads(r.body, 0, NULL);
        const char *st = json_string_value(json_object_get(j, "status"));
        snprintf(out, 32, "%s", st ? st : "");
        json_decref(j);
    }
    tp_resp_free(&r);
}

static bool committed_within(const struct node *N, const char *id, int seconds) {
    char st[32];
    for (int i = 0; i < seconds * 10; i++) {
        tx_status(N, id, st);
        if (strcmp(st, "committed") == 0) return true;
        tp_sleep_ms(100);
    }
    return false;
}

static bool log_has(const char *home, const char *text) {
    char *path = tu_path(home, "node.log");
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static bool alive(pid_t pid) {
    int status;
    return waitpid(pid, &status, WNOHANG) == 0;
}

Test(store_resume, a_full_disk_under_a_running_node_stops_it_and_it_resumes_by_itself, .timeout = 120) {
    mc_crypto_init();
    const char *shim = getenv("MEDCHAIN_DISKFULL_SO");
    cr_assert(shim && access(shim, R_OK) == 0, "MEDCHAIN_DISKFULL_SO names the preload shim (make test builds it)");
    char *dir = tu_tmpdir("diskfull");
    char *home = tu_path(dir, "node");
    char *flag = tu_path(dir, "disk-is-full");
    char *out;
    cr_assert_eq(tp_run(&out, "%s init --home %s --chain-id medchain-diskfull", tp_bin(), home), 0, "%s", out);
    free(out);
    struct node N = {.nonce = 0};
    snprintf(N.chain_id, sizeof N.chain_id, "medchain-diskfull");
    cr_assert_eq(mc_keyfile_read(&N.admin, tu_path(home, "admin_key.json"), NULL), 0);
    snprintf(N.url, sizeof N.url, "http://127.0.0.1:%d", tp_free_port());
    int port = atoi(strrchr(N.url, ':') + 1);

    /* only the node gets the shim: the test's own children (verify) do not */
    setenv("MEDCHAIN_DISKFULL_FLAG", flag, 1);
    setenv("LD_PRELOAD", shim, 1);
    const char *asan = getenv("ASAN_OPTIONS");
    char *asan_old = asan ? strdup(asan) : NULL;
    char asan_new[512];
    snprintf(asan_new, sizeof asan_new, "%s%sverify_asan_link_order=0", asan ? asan : "", asan ? ":" : "");
    setenv("ASAN_OPTIONS", asan_new, 1);
    pid_t pid = tp_node_start(home, port);
    unsetenv("LD_PRELOAD");
    if (asan_old) setenv("ASAN_OPTIONS", asan_old, 1);
    else unsetenv("ASAN_OPTIONS");
    free(asan_old);

    char before[65];
    submit(&N, before);
    cr_assert(committed_within(&N, before, 20), "the node commits before the fault");

    /* the disk fills up: the next block cannot be written */
    FILE *f = fopen(flag, "w");
    cr_assert_not_null(f);
    fclose(f);
    char during[65];
    submit(&N, during);
    bool reported = false;
    for (int i = 0; i < 200 && !reported; i++) {
        reported = log_has(home, "the store failed");
        if (!reported) tp_sleep_ms(50);
    }
    cr_assert(reported, "the node reports the store failure (see %s/node.log)", home);
    cr_assert(alive(pid), "the node process waits for the fault to clear instead of exiting");
    /* while the disk stays full the node does not commit */
    tp_sleep_ms(3000);
    char st[32];
    tx_status(&N, during, st);
    cr_assert_neq(strcmp(st, "committed"), 0, "nothing is committed while the disk is full");
    cr_assert(alive(pid), "the node process keeps waiting while the fault lasts");

    /* the disk empties: the same process commits again, without a restart */
    cr_assert_eq(unlink(flag), 0);
    cr_assert(committed_within(&N, during, 60), "the transaction admitted during the fault commits after it");
    cr_assert(alive(pid), "it is the same process");
    char after[65];
    submit(&N, after);
    cr_assert(committed_within(&N, after, 20), "the node goes on committing");
    tx_status(&N, before, st);
    cr_assert_str_eq(st, "committed", "what was committed before the fault is still there");

    char url[128];
    snprintf(url, sizeof url, "%s/metrics", N.url);
    struct tp_resp m = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(m.status, 200);
    const char *line = strstr(m.body, "\nmedchain_store_recoveries_total ");
    cr_assert_not_null(line, "/metrics reports store recoveries");
    cr_assert_geq(atoi(line + strlen("\nmedchain_store_recoveries_total ")), 1);
    tp_resp_free(&m);

    kill(pid, SIGTERM);
    int status;
    cr_assert(tp_wait_exit(pid, 20, &status), "the node stops on SIGTERM");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a clean stop (status %d)", status);
    int rc = tp_run(&out, "%s verify --home %s", tp_bin(), home);
    cr_assert_eq(rc, 0, "the chain verifies after the fault: %s", out);
    free(out);
}
