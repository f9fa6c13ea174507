/* kill -9 of a node while it commits under load, many times: after each
 * restart every transaction that was reported committed is still there at
 * the same height, the chain verifies, and the node goes on committing. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "app/identity.h"
#include "base/hex.h"
#include "crypto/keyfile.h"

#define MAX_IDS 20000

struct loader {
    char url[64];
    char chain_id[MC_CHAIN_ID_MAX + 1];
    struct mc_keypair admin;
    uint64_t next_nonce;
    atomic_int stop;
    /* committed ids as reported by the node, with their heights */
    char (*committed)[65];
    uint64_t *committed_height;
    int n_committed;
    char (*pending)[65];
    int n_pending;
};

static long post_enroll(struct loader *L, char id_out[65]) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Load Auditor");
    size_t len;
    uint8_t *tx = tu_tx(&len, L->chain_id, MC_TX_ENROLL_MEMBER, &L->admin, L->next_nonce, p, pl);
    char hex[2 * 512 + 1];
    mc_hex_encode(hex, tx, len);
    free(tx);
    char body[1100], url[128];
    snprintf(body, sizeof body, "{\"tx\":\"%s\"}", hex);
    snprintf(url, sizeof url, "%s/v1/tx", L->url);
    struct tp_resp r = tp_http("POST", url, body, strlen(body), NULL);
    long st = r.status;
    if (st == 202) {
        json_t *j = json_loads(r.body, 0, NULL);
        snprintf(id_out, 65, "%s", json_string_value(json_object_get(j, "id")));
        json_decref(j);
        L->next_nonce++;
    }
    tp_resp_free(&r);
    return st;
}

/* Polls pending ids once; moves committed ones to the committed list. */
static int poll_pending(struct loader *L) {
    int w = 0;
    for (int i = 0; i < L->n_pending; i++) {
        char url[200];
        snprintf(url, sizeof url, "%s/v1/tx/%s", L->url, L->pending[i]);
        struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
        if (r.status == 0) {
            tp_resp_free(&r);
            return -1;
        }
        json_t *j = json_loads(r.body, 0, NULL);
        const char *st = json_string_value(json_object_get(j, "status"));
        if (st && strcmp(st, "committed") == 0 && L->n_committed < MAX_IDS) {
            memcpy(L->committed[L->n_committed], L->pending[i], 65);
            L->committed_height[L->n_committed] = (uint64_t)json_integer_value(json_object_get(j, "height"));
            L->n_committed++;
        } else {
            memcpy(L->pending[w++], L->pending[i], 65);
        }
        json_decref(j);
        tp_resp_free(&r);
    }
    L->n_pending = w;
    return 0;
}

static void *load_thread(void *arg) {
    struct loader *L = arg;
    while (!atomic_load(&L->stop)) {
        for (int k = 0; k < 10 && !atomic_load(&L->stop); k++) {
            char id[65];
            long st = post_enroll(L, id);
            if (st == 0) return NULL; /* node is gone */
            if (st == 202 && L->n_pending < MAX_IDS) memcpy(L->pending[L->n_pending++], id, 65);
        }
        if (poll_pending(L) < 0) return NULL;
    }
    return NULL;
}

static uint64_t account_nonce(const char *url, const mc_pubkey *pk) {
    char hx[65], u[200];
    mc_hex_encode(hx, pk->b, 32);
    snprintf(u, sizeof u, "%s/v1/account/%s", url, hx);
    struct tp_resp r = tp_http("GET", u, NULL, 0, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "nonce"));
    json_decref(j);
    tp_resp_free(&r);
    return n;
}

Test(crash, kill9_under_load_loses_nothing_committed, .timeout = 240) {
    mc_crypto_init();
    char *dir = tu_tmpdir("crash");
    char *home = tu_path(dir, "node");
    char *out;
    cr_assert_eq(tp_run(&out, "%s init --home %s --chain-id medchain-crash", tp_bin(), home), 0, "%s", out);
    free(out);
    struct loader *L = tu_keep(calloc(1, sizeof *L));
    L->committed = tu_keep(calloc(MAX_IDS, 65));
    L->committed_height = tu_keep(calloc(MAX_IDS, sizeof(uint64_t)));
    L->pending = tu_keep(calloc(MAX_IDS, 65));
    char *kp = tu_path(home, "admin_key.json");
    cr_assert_eq(mc_keyfile_read(&L->admin, kp, NULL), 0);
    snprintf(L->chain_id, sizeof L->chain_id, "medchain-crash");
    int port = tp_free_port();
    snprintf(L->url, sizeof L->url, "http://127.0.0.1:%d", port);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    const int rounds = 8;
    for (int round = 0; round < rounds; round++) {
        pid_t pid = tp_node_start(home, port);
        /* Everything reported committed before is still there, unchanged. */
        for (int i = 0; i < L->n_committed; i++) {
            char path[200];
            snprintf(path, sizeof path, "%s/v1/tx/%s", L->url, L->committed[i]);
            struct tp_resp r = tp_http("GET", path, NULL, 0, NULL);
            json_t *j = json_loads(r.body, 0, NULL);
            const char *st = json_string_value(json_object_get(j, "status"));
            cr_assert(st && strcmp(st, "committed") == 0,
                      "round %d: tx %s reported committed before the crash is now %s", round,
                      L->committed[i], st ? st : "missing");
            cr_assert_eq((uint64_t)json_integer_value(json_object_get(j, "height")), L->committed_height[i]);
            json_decref(j);
            tp_resp_free(&r);
        }
        L->n_pending = 0; /* pending ones may or may not have made it */
        L->next_nonce = account_nonce(L->url, &L->admin.pk) + 1;
        atomic_store(&L->stop, 0);
        pthread_t th;
        pthread_create(&th, NULL, load_thread, L);
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
        struct timespec ts = {0, (long)(300 + seed % 700) * 1000000L};
        nanosleep(&ts, NULL);
        tp_kill(pid, SIGKILL);
        atomic_store(&L->stop, 1);
        pthread_join(th, NULL);
        cr_log_info("round %d: %d committed so far", round, L->n_committed);
    }
    cr_assert_gt(L->n_committed, 20, "load committed transactions (%d)", L->n_committed);
    /* After the last crash: verify the files, then the node goes on. */
    int rc = tp_run(&out, "%s verify --home %s", tp_bin(), home);
    cr_assert_eq(rc, 0, "verify after crashes: %s", out);
    free(out);
    pid_t pid = tp_node_start(home, port);
    L->next_nonce = account_nonce(L->url, &L->admin.pk) + 1;
    char id[65];
    cr_assert_eq(post_enroll(L, id), 202);
    L->n_pending = 0;
    memcpy(L->pending[L->n_pending++], id, 65);
    for (int i = 0; i < 200 && L->n_pending; i++) {
        poll_pending(L);
        usleep(50000);
    }
    cr_assert_eq(L->n_pending, 0, "the node commits again after the crashes");
    tp_kill(pid, SIGTERM);
    rc = tp_run(&out, "%s verify --home %s", tp_bin(), home);
    cr_assert_eq(rc, 0, "final verify: %s", out);
    free(out);
}
