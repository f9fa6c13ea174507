/* The mempool of a real node process: a sender's nonce gap neither makes
 * the chain cut blocks nor stalls the sender for ever (the gapped
 * transaction waits, bounded, then is dropped and reported), and a
 * transaction answered 202 "pending" survives kill -9 of the node. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "base/hex.h"
#include "crypto/keyfile.h"

struct live {
    char *home;
    pid_t pid;
    int port;
    char url[64];
    struct mc_keypair admin;
    char chain_id[MC_CHAIN_ID_MAX + 1];
};

/* A node whose config.json gets extra settings (a JSON object's members). */
static void live_init(struct live *l, const char *tag, const char *extra_json) {
    mc_crypto_init();
    memset(l, 0, sizeof *l);
    l->home = tu_path(tu_tmpdir(tag), "node");
    char *out;
    int rc = tp_run(&out, "%s init --home %s --chain-id medchain-mp", tp_bin(), l->home);
    cr_assert_eq(rc, 0, "init failed: %s", out);
    free(out);
    char *kp = tu_path(l->home, "admin_key.json");
    cr_assert_eq(mc_keyfile_read(&l->admin, kp, NULL), 0);
    free(kp);
    snprintf(l->chain_id, sizeof l->chain_id, "medchain-mp");
    if (extra_json) {
        char *cp = tu_path(l->home, "config.json");
        json_t *cfg = json_load_file(cp, 0, NULL);
        json_t *more = json_loads(extra_json, 0, NULL);
        cr_assert(cfg && more);
        json_object_update(cfg, more);
        cr_assert_eq(json_dump_file(cfg, cp, JSON_INDENT(2)), 0);
        json_decref(cfg);
        json_decref(more);
        free(cp);
    }
    l->port = tp_free_port();
    snprintf(l->url, sizeof l->url, "http://127.0.0.1:%d", l->port);
    l->pid = tp_node_start(l->home, l->port);
}

static json_t *get_json(struct live *l, const char *path, long *status) {
    char url[512];
    snprintf(url, sizeof url, "%s%s", l->url, path);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    *status = r.status;
    json_t *j = json_loads(r.body ? r.body : "", 0, NULL);
    tp_resp_free(&r);
    return j;
}

static uint64_t height_of(struct live *l) {
    long s;
    json_t *j = get_json(l, "/v1/status", &s);
    cr_assert_eq(s, 200);
    uint64_t h = (uint64_t)json_integer_value(json_object_get(j, "height"));
    json_decref(j);
    return h;
}

static char *submit(struct live *l, uint64_t nonce, const char *name) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, name);
    size_t len;
    uint8_t *tx = tu_tx(&len, l->chain_id, MC_TX_ENROLL_MEMBER, &l->admin, nonce, p, pl);
    char *hex = malloc(2 * len + 1);
    mc_hex_encode(hex, tx, len);
    char *body = malloc(2 * len + 32);
    sprintf(body, "{\"tx\":\"%s\"}", hex);
    char url[128];
    snprintf(url, sizeof url, "%s/v1/tx", l->url);
    struct tp_resp r = tp_http("POST", url, body, strlen(body), NULL);
    cr_assert_eq(r.status, 202, "submit nonce %llu: %ld %s", (unsigned long long)nonce, r.status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    char *id = tu_keep(strdup(json_string_value(json_object_get(j, "id"))));
    json_decref(j);
    tp_resp_free(&r);
    free(hex);
    free(body);
    free(tx);
    return id;
}

/* The status word of a transaction ("unknown" for a 404); reason copied. */
static void status_of(struct live *l, const char *id, char *st, size_t st_size, char *why, size_t why_size) {
    char path[128];
    snprintf(path, sizeof path, "/v1/tx/%s", id);
    long s;
    json_t *j = get_json(l, path, &s);
    const char *v = s == 200 ? json_string_value(json_object_get(j, "status")) : "unknown";
    snprintf(st, st_size, "%s", v ? v : "?");
    const char *r = json_string_value(json_object_get(j, "reason"));
    if (why) snprintf(why, why_size, "%s", r ? r : "");
    json_decref(j);
}

static void wait_status(struct live *l, const char *id, const char *want, int seconds) {
    char st[32] = "", why[300];
    for (int i = 0; i < seconds * 20; i++) {
        status_of(l, id, st, sizeof st, why, sizeof why);
        if (strcmp(st, want) == 0) return;
        usleep(50 * 1000);
    }
    cr_assert_fail("transaction %s is %s (%s), not %s after %d s", id, st, why, want, seconds);
}

Test(mempool, nonce_gap_cuts_no_blocks_and_expires, .timeout = 90) {
    struct live l;
    live_init(&l, "mp-gap", "{\"mempool_gap_ms\": 2500}");
    usleep(300 * 1000);
    /* `member enroll --nonce next+3`: nonces 1 and 2 were never sent. */
    char *gapped = submit(&l, 3, "gapped");
    uint64_t h0 = height_of(&l);
    sleep(2);
    uint64_t h1 = height_of(&l);
    /* An idle node cuts about one empty block a second; a proposer that
     * sees the gapped transaction as work would cut ~10 a second. */
    cr_expect_leq(h1 - h0, 4, "%llu blocks in 2 s with only a gapped transaction pending",
                  (unsigned long long)(h1 - h0));
    char st[32], why[300];
    status_of(&l, gapped, st, sizeof st, why, sizeof why);
    cr_expect_str_eq(st, "pending", "the gapped transaction waits (for a bounded time)");
    /* Past mempool_gap_ms it is dropped, and its sender told why. */
    wait_status(&l, gapped, "rejected", 5);
    status_of(&l, gapped, st, sizeof st, why, sizeof why);
    cr_expect(strstr(why, "nonce"), "the reason names the nonce gap: %s", why);
    /* The sender is not stalled: its next transactions commit, and a gap
     * that closes in time promotes the waiting one. */
    char *t1 = submit(&l, 1, "one");
    char *t3 = submit(&l, 3, "three");
    char *t2 = submit(&l, 2, "two");
    wait_status(&l, t1, "committed", 10);
    wait_status(&l, t2, "committed", 10);
    wait_status(&l, t3, "committed", 10);
    tp_kill(l.pid, SIGTERM);
}

Test(mempool, pending_transaction_survives_kill_9, .timeout = 90) {
    struct live l;
    live_init(&l, "mp-crash", NULL);
    /* Pending for certain: its predecessor has not been sent yet. */
    char *t2 = submit(&l, 2, "two");
    char st[32];
    status_of(&l, t2, st, sizeof st, NULL, 0);
    cr_assert_str_eq(st, "pending");
    tp_kill(l.pid, SIGKILL);
    l.pid = tp_node_start(l.home, l.port);
    status_of(&l, t2, st, sizeof st, NULL, 0);
    cr_expect_str_eq(st, "pending", "a transaction answered 202 is still pending after kill -9");
    char *t1 = submit(&l, 1, "one");
    wait_status(&l, t1, "committed", 10);
    wait_status(&l, t2, "committed", 10);
    tp_kill(l.pid, SIGTERM);
}
