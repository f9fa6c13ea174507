/* `medchain load`: a bounded load generator for a running consortium.
 *
 * It enrolls its own clinicians with an organisation admin key (the one
 * the testnet wrote), then, for --duration seconds, has them register
 * patients at --rate transactions per second in total, spread over the
 * given nodes (each clinician talks to one node; batches of the 10 ms
 * slice go through POST /v1/txs). Transactions are built and signed
 * before the clock starts, so the client's own signing does not compete
 * with the nodes for CPU during the measurement.
 *
 * A monitor thread polls the first node's height every 10 ms and notes
 * when each height was first seen committed; at the end every accepted
 * transaction's height is looked up, so its latency is (first seen
 * committed - submitted). Prints committed transactions per second and
 * latency percentiles. Everything is bounded: at most 100000 transactions,
 * at most 600 s. */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/identity.h"

#include "base/limits.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "chain/tx.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/txbuild.h"
#include "crypto/keyfile.h"

#define LOAD_WORKERS 8

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct load_tx {
    struct mc_buf bytes;
    char id[65];
    uint64_t sent_ms;
    bool accepted;
    uint64_t height;
};

struct worker {
    int index;
    const char *node;
    struct mc_keypair key;
    struct load_tx *txs;
    uint32_t count;
    double rate; /* tx/s for this worker */
    uint64_t start_ms, duration_ms;
    uint32_t sent, accepted, refused;
    char last_error[256];
};

struct monitor {
    const char *node;
    atomic_int stop;
    uint64_t *seen_ms; /* index = height */
    uint64_t max_height;
    uint64_t base_height;
};

static void *monitor_main(void *arg) {
    struct monitor *m = arg;
    struct mc_client c;
    if (mc_client_init(&c, m->node)) return NULL;
    while (!atomic_load(&m->stop)) {
        json_t *st;
        if (mc_client_get_json(&c, "/v1/status", &st) == 0) {
            uint64_t h = (uint64_t)json_integer_value(json_object_get(st, "height"));
            json_decref(st);
            uint64_t now = mono_ms();
            while (m->max_height < h && m->max_height + 1 < MC_CLI_LOAD_HEIGHTS_MAX) m->seen_ms[++m->max_height] = now;
        }
        usleep(10000);
    }
    mc_client_deinit(&c);
    return NULL;
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct mc_client c;
    if (mc_client_init(&c, w->node)) return NULL;
    struct mc_buf batch;
    mc_buf_init(&batch, 0);
    uint32_t next = 0;
    while (next < w->count) {
        uint64_t now = mono_ms();
        if (now >= w->start_ms + w->duration_ms) break;
        /* how many should have gone by now */
        uint32_t due = (uint32_t)((double)(now - w->start_ms) / 1000.0 * w->rate) + 1;
        if (due > w->count) due = w->count;
        if (due <= next) {
            usleep(2000);
            continue;
        }
        uint32_t n = due - next;
        if (n > 500) n = 500;
        mc_buf_reset(&batch);
        mc_enc_u32(&batch, n);
        for (uint32_t i = 0; i < n; i++) mc_enc_bytes32(&batch, w->txs[next + i].bytes.data, w->txs[next + i].bytes.len);
        struct mc_client_response r;
        int rc = mc_client_request(&c, "POST", "/v1/txs", "application/octet-stream", batch.data, batch.len, &r);
        uint64_t sent = mono_ms();
        if (rc == 0 && r.status == 200 && r.json) {
            json_t *res = json_object_get(r.json, "results");
            for (uint32_t i = 0; i < n; i++) {
                json_t *e = json_array_get(res, i);
                const char *status = json_string_value(json_object_get(e, "status"));
                struct load_tx *t = &w->txs[next + i];
                t->sent_ms = sent;
                if (status && strcmp(status, "pending") == 0) {
                    t->accepted = true;
                    w->accepted++;
                } else {
                    w->refused++;
                    snprintf(w->last_error, sizeof w->last_error, "%s",
                             json_string_value(json_object_get(e, "message")) ?: "refused");
                }
            }
        } else {
            w->refused += n;
            snprintf(w->last_error, sizeof w->last_error, "%s", rc ? mc_err_detail() : "batch refused");
        }
        if (rc == 0) mc_client_response_deinit(&r);
        w->sent += n;
        next += n;
    }
    mc_buf_deinit(&batch);
    mc_client_deinit(&c);
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Submits one signed transaction and waits (up to 20 s) for its commit. */
static int submit_wait(struct mc_client *c, const struct mc_buf *tx, char *why, size_t why_n) {
    struct mc_client_response r;
    int rc = mc_client_request(c, "POST", "/v1/tx", "application/octet-stream", tx->data, tx->len, &r);
    if (rc) {
        snprintf(why, why_n, "%s", mc_err_detail());
        return rc;
    }
    bool ok = r.status == 202;
    if (!ok) mc_client_error_text(&r, why, why_n);
    mc_client_response_deinit(&r);
    if (!ok) return MC_ERR_INVALID;
    mc_hash id;
    mc_tx_id(&id, tx->data, tx->len);
    char hx[65], path[128];
    mc_hex_encode(hx, id.b, 32);
    snprintf(path, sizeof path, "/v1/tx/%s", hx);
    for (int i = 0; i < 400; i++) {
        json_t *st;
        if (mc_client_get_json(c, path, &st) == 0) {
            const char *s = json_string_value(json_object_get(st, "status"));
            bool done = s && strcmp(s, "committed") == 0, bad = s && strcmp(s, "rejected") == 0;
            if (bad) snprintf(why, why_n, "%s", json_string_value(json_object_get(st, "reason")) ?: "rejected");
            json_decref(st);
            if (done) return 0;
            if (bad) return MC_ERR_INVALID;
        }
        usleep(50000);
    }
    snprintf(why, why_n, "not committed within 20 s");
    return MC_ERR_STATE;
}

static int sign_tx(struct mc_buf *out, const char *chain_id, uint16_t type, const struct mc_keypair *kp,
                   uint64_t nonce, const struct mc_buf *payload) {
    struct mc_tx tx = {.type = type, .sender = kp->pk, .nonce = nonce, .payload = payload->data,
                       .payload_len = payload->len};
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain_id);
    mc_tx_sign(&tx, kp);
    mc_buf_init(out, 0);
    mc_tx_encode(out, &tx);
    return out->err;
}

int mc_cli_cmd_load(int argc, char **argv) {
    /* --node may repeat: collect those first, parse the rest. */
    const char *nodes[MC_CLI_LOAD_NODES_MAX];
    int node_count = 0;
    char *rest[64];
    int rest_count = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--node") == 0 && i + 1 < argc) {
            if (node_count == MC_CLI_LOAD_NODES_MAX) return mc_cli_error(MC_CLI_USAGE, "at most %d --node", MC_CLI_LOAD_NODES_MAX);
            nodes[node_count++] = argv[++i];
        } else if (rest_count < 64) {
            rest[rest_count++] = argv[i];
        }
    }
    static const struct mc_cli_opt spec[] = {{"rate", true}, {"duration", true}, {"key", true},
                                             {"passphrase-file", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "load", spec, 0, rest_count, rest);
    if (node_count == 0) nodes[node_count++] = MC_CLI_DEFAULT_NODE;
    if (mc_cli_require(&a, "load", "rate") || mc_cli_require(&a, "load", "duration") ||
        mc_cli_require(&a, "load", "key"))
        return MC_CLI_USAGE;
    char *end;
    double rate = strtod(mc_cli_arg(&a, "rate"), &end);
    if (*end || rate <= 0 || rate > 20000) return mc_cli_error(MC_CLI_USAGE, "--rate must be 1 to 20000 transactions per second");
    double duration = strtod(mc_cli_arg(&a, "duration"), &end);
    if (*end || duration <= 0 || duration > 600) return mc_cli_error(MC_CLI_USAGE, "--duration must be 1 to 600 seconds");
    uint32_t total = (uint32_t)(rate * duration + 0.5);
    if (total > MC_CLI_LOAD_TXS_MAX) return mc_cli_error(MC_CLI_USAGE, "rate x duration must stay under %d transactions", MC_CLI_LOAD_TXS_MAX);
    if (total < LOAD_WORKERS) total = LOAD_WORKERS;

    struct mc_keypair *admin = NULL;
    if (mc_cli_key_load(&admin, mc_cli_arg(&a, "key"), mc_cli_arg(&a, "passphrase-file"), "admin"))
        return MC_CLI_FAIL;
    struct mc_client c;
    if (mc_client_init(&c, nodes[0])) {
        mc_cli_key_free(admin);
        return mc_cli_error(MC_CLI_USAGE, "%s", mc_err_detail());
    }
    json_t *st = NULL, *acct = NULL;
    char hx[65], path[128], why[256];
    mc_hex_encode(hx, admin->pk.b, 32);
    snprintf(path, sizeof path, "/v1/account/%s", hx);
    if (mc_client_get_json(&c, "/v1/status", &st) || mc_client_get_json(&c, path, &acct)) {
        json_decref(st);
        mc_client_deinit(&c);
        mc_cli_key_free(admin);
        return mc_cli_error(MC_CLI_FAIL, "%s", mc_err_detail());
    }
    char chain_id[MC_CHAIN_ID_MAX + 1];
    snprintf(chain_id, sizeof chain_id, "%s", json_string_value(json_object_get(st, "chain_id")) ?: "");
    uint64_t admin_nonce = (uint64_t)json_integer_value(json_object_get(acct, "nonce"));
    json_decref(st);
    json_decref(acct);

    /* 1. our clinicians, enrolled by the admin (the last one waited for) */
    static struct worker workers[LOAD_WORKERS];
    memset(workers, 0, sizeof workers);
    int rc = 0;
    for (int i = 0; i < LOAD_WORKERS && !rc; i++) {
        struct worker *w = &workers[i];
        w->index = i;
        w->node = nodes[i % node_count];
        mc_keypair_generate(&w->key);
        struct mc_buf payload, tx;
        mc_buf_init(&payload, 0);
        char name[64];
        snprintf(name, sizeof name, "Load Clinician %d", i);
        if (mc_txbuild_enroll(&payload, &w->key.pk, MC_ROLE_CLINICIAN, name) ||
            sign_tx(&tx, chain_id, MC_TX_ENROLL_MEMBER, admin, ++admin_nonce, &payload)) {
            rc = mc_cli_error(MC_CLI_FAIL, "cannot build an enrollment");
        } else if (i < LOAD_WORKERS - 1) {
            struct mc_client_response r;
            if (mc_client_request(&c, "POST", "/v1/tx", "application/octet-stream", tx.data, tx.len, &r) == 0) {
                if (r.status != 202) rc = mc_cli_error(MC_CLI_FAIL, "enrollment refused: %s", mc_client_error_text(&r, why, sizeof why));
                mc_client_response_deinit(&r);
            } else {
                rc = mc_cli_error(MC_CLI_FAIL, "%s", mc_err_detail());
            }
        } else if (submit_wait(&c, &tx, why, sizeof why)) {
            rc = mc_cli_error(MC_CLI_FAIL, "enrolling the load accounts failed: %s", why);
        }
        mc_buf_deinit(&payload);
        mc_buf_deinit(&tx);
    }
    mc_cli_key_free(admin);
    if (rc) {
        mc_client_deinit(&c);
        return rc;
    }
    /* 2. every transaction signed before the clock starts */
    uint32_t per = total / LOAD_WORKERS;
    for (int i = 0; i < LOAD_WORKERS; i++) {
        struct worker *w = &workers[i];
        w->count = per;
        w->rate = rate / LOAD_WORKERS;
        w->txs = calloc(per, sizeof *w->txs);
        if (!w->txs) return mc_cli_error(MC_CLI_FAIL, "out of memory");
        for (uint32_t k = 0; k < per; k++) {
            struct mc_keypair patient;
            mc_keypair_generate(&patient);
            struct mc_buf payload;
            mc_buf_init(&payload, 0);
            if (mc_txbuild_register_patient(&payload, &patient, chain_id, &w->key.pk) ||
                sign_tx(&w->txs[k].bytes, chain_id, MC_TX_REGISTER_PATIENT, &w->key, k + 1, &payload))
                return mc_cli_error(MC_CLI_FAIL, "cannot build a transaction");
            mc_buf_deinit(&payload);
            mc_hash id;
            mc_tx_id(&id, w->txs[k].bytes.data, w->txs[k].bytes.len);
            mc_hex_encode(w->txs[k].id, id.b, 32);
        }
    }
    /* 3. run */
    struct monitor mon = {.node = nodes[0]};
    mon.seen_ms = calloc(MC_CLI_LOAD_HEIGHTS_MAX, sizeof *mon.seen_ms);
    json_t *st0;
    if (mc_client_get_json(&c, "/v1/status", &st0) == 0) {
        mon.base_height = mon.max_height = (uint64_t)json_integer_value(json_object_get(st0, "height"));
        json_decref(st0);
    }
    pthread_t mt, wt[LOAD_WORKERS];
    pthread_create(&mt, NULL, monitor_main, &mon);
    uint64_t start = mono_ms(), dur = (uint64_t)(duration * 1000);
    for (int i = 0; i < LOAD_WORKERS; i++) {
        workers[i].start_ms = start;
        workers[i].duration_ms = dur;
        pthread_create(&wt[i], NULL, worker_main, &workers[i]);
    }
    for (int i = 0; i < LOAD_WORKERS; i++) pthread_join(wt[i], NULL);
    uint32_t accepted = 0, sent = 0, refused = 0;
    const char *last_error = NULL;
    for (int i = 0; i < LOAD_WORKERS; i++) {
        accepted += workers[i].accepted;
        sent += workers[i].sent;
        refused += workers[i].refused;
        if (workers[i].last_error[0]) last_error = workers[i].last_error;
    }
    /* let what was accepted commit (bounded) */
    uint64_t wait_until = mono_ms() + 30000;
    uint32_t committed = 0;
    uint64_t *lat = calloc(accepted ? accepted : 1, sizeof *lat);
    uint64_t last_commit_ms = start;
    for (int i = 0; i < LOAD_WORKERS; i++) {
        struct worker *w = &workers[i];
        for (uint32_t k = 0; k < w->sent; k++) {
            struct load_tx *t = &w->txs[k];
            if (!t->accepted) continue;
            snprintf(path, sizeof path, "/v1/tx/%s", t->id);
            for (;;) {
                json_t *s;
                bool done = false, gone = false;
                if (mc_client_get_json(&c, path, &s) == 0) {
                    const char *status = json_string_value(json_object_get(s, "status"));
                    done = status && strcmp(status, "committed") == 0;
                    gone = status && strcmp(status, "rejected") == 0;
                    if (done) t->height = (uint64_t)json_integer_value(json_object_get(s, "height"));
                    json_decref(s);
                }
                if (done || gone || mono_ms() > wait_until) break;
                usleep(20000);
            }
            if (t->height && t->height < MC_CLI_LOAD_HEIGHTS_MAX) {
                while (t->height > mon.max_height && mono_ms() < wait_until) usleep(10000);
                uint64_t seen = mon.seen_ms[t->height];
                if (seen) {
                    lat[committed++] = seen > t->sent_ms ? seen - t->sent_ms : 0;
                    if (seen > last_commit_ms) last_commit_ms = seen;
                }
            }
        }
    }
    atomic_store(&mon.stop, 1);
    pthread_join(mt, NULL);
    qsort(lat, committed, sizeof *lat, cmp_u64);
    double secs = (double)(last_commit_ms - start) / 1000.0;
    if (secs < duration) secs = duration;
    printf("load: %u nodes, %d clients, target %.0f tx/s for %.0f s\n", node_count, LOAD_WORKERS, rate, duration);
    printf("load: submitted %u, accepted %u, refused %u, committed %u\n", sent, accepted, refused, committed);
    printf("load: committed %.1f tx/s\n", committed / secs);
    if (committed)
        printf("load: latency p50 %llu ms, p90 %llu ms, p99 %llu ms, max %llu ms\n",
               (unsigned long long)lat[committed / 2], (unsigned long long)lat[committed * 9 / 10],
               (unsigned long long)lat[committed * 99 / 100], (unsigned long long)lat[committed - 1]);
    if (refused && last_error) printf("load: last refusal: %s\n", last_error);
    for (int i = 0; i < LOAD_WORKERS; i++) {
        for (uint32_t k = 0; k < workers[i].count; k++) mc_buf_deinit(&workers[i].txs[k].bytes);
        free(workers[i].txs);
    }
    free(lat);
    free(mon.seen_ms);
    mc_client_deinit(&c);
    return committed > 0 ? MC_CLI_OK : mc_cli_error(MC_CLI_FAIL, "nothing was committed");
}
