/* Ledger benchmark (issue 2): prints, in one run,
 *   - Ed25519 verifications per second on this machine, all cores (the bound);
 *   - committed transactions per second of one validator node (a real
 *     process) under many concurrent HTTP clients;
 *   - the ratio of the two.
 * Each admitted transaction costs one signature verification, so the bound
 * is the verification rate. Figures are rates measured in this run, never
 * bare absolute times. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/genesis.h"
#include "app/identity.h"
#include "app/identity_payload.h"
#include "app/txtypes.h"
#include "base/codec.h"
#include "base/hex.h"
#include "chain/tx.h"
#include "crypto/keyfile.h"
#include "node/node.h"
#include "bench_bound.h"

#define CLIENTS 16
#define PRESIGNED 4000
#define SECONDS 4

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


struct client {
    int id;
    char url[96];
    const char *chain_id;
    struct mc_keypair admin;
    uint64_t nonce;
    uint64_t accepted, refused;
    int batch; /* transactions per request; 1 = POST /v1/tx */
};

static atomic_int load_stop;

static size_t sink(char *p, size_t s, size_t n, void *u) { return s * n; }

static pthread_barrier_t ready;

/* Signs PRESIGNED transactions first (clients sign on their own machines;
 * here they share the node's cores, so signing is kept out of the measured
 * window), then submits them over one keep-alive connection. */
static void *client_main(void *arg) {
    struct client *c = arg;
    struct mc_buf *txs = calloc(PRESIGNED, sizeof *txs);
    for (int i = 0; i < PRESIGNED; i++) {
        struct mc_keypair m;
        uint8_t seed[32] = {0};
        memcpy(seed, &i, sizeof i);
        seed[8] = (uint8_t)c->id;
        seed[9] = 0x5a;
        mc_keypair_from_seed(&m, seed);
        struct mc_identity_payload ep = {.type = MC_TX_ENROLL_MEMBER, .key = m.pk,
                                         .role = MC_ROLE_AUDITOR, .name = "bench auditor"};
        struct mc_buf p;
        mc_buf_init(&p, 0);
        if (mc_identity_payload_encode(&p, &ep)) abort();
        struct mc_tx tx = {.type = MC_TX_ENROLL_MEMBER, .sender = c->admin.pk,
                           .nonce = (uint64_t)i + 1, .payload = p.data, .payload_len = p.len};
        snprintf(tx.chain_id, sizeof tx.chain_id, "%s", c->chain_id);
        mc_tx_sign(&tx, &c->admin);
        mc_buf_init(&txs[i], 0);
        mc_tx_encode(&txs[i], &tx);
        mc_buf_deinit(&p);
    }
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    hdr = curl_slist_append(hdr, "Expect:");
    char url[160];
    snprintf(url, sizeof url, "%s/v1/tx%s", c->url, c->batch > 1 ? "s" : "");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    pthread_barrier_wait(&ready);
    int i = 0;
    struct mc_buf body;
    mc_buf_init(&body, 0);
    while (!atomic_load(&load_stop) && i < PRESIGNED) {
        int n = 1;
        if (c->batch > 1) {
            n = PRESIGNED - i < c->batch ? PRESIGNED - i : c->batch;
            mc_buf_reset(&body);
            mc_enc_u32(&body, (uint32_t)n);
            for (int k = 0; k < n; k++) mc_enc_bytes32(&body, txs[i + k].data, txs[i + k].len);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body.len);
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, txs[i].data);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)txs[i].len);
        }
        long status = 0;
        if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status == 202 || status == 409 || (status == 200 && c->batch > 1)) {
            c->accepted += (uint64_t)n;
            i += n;
        } else {
            c->refused++;
            usleep(2000); /* mempool full or sender cap: back off */
        }
    }
    mc_buf_deinit(&body);
    for (int k = 0; k < PRESIGNED; k++) mc_buf_deinit(&txs[k]);
    free(txs);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

/* A port the kernel reports free on loopback right now. */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &l)) {
        perror("bench: free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static json_t *get_status(const char *base) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "curl -s %s/v1/status", base);
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    json_t *j = json_loadf(p, 0, NULL);
    pclose(p);
    return j;
}

/* Runs a fresh node under CLIENTS concurrent clients submitting `batch`
 * transactions per request; returns committed transactions per second. */
static double measure(const char *bin, int batch) {
    atomic_store(&load_stop, 0);
    /* A node whose genesis has one organisation per client, so every client
     * has its own admin key and nonce stream. */
    char dir[] = "/tmp/medchain-bench-XXXXXX";
    if (!mkdtemp(dir)) return -1;
    char home[256];
    snprintf(home, sizeof home, "%s/node", dir);
    struct mc_init_options opt = {.home = home, .chain_id = "medchain-bench"};
    if (mc_node_init_home(&opt)) { fprintf(stderr, "init: %s\n", mc_err_detail()); return -1; }
    char gpath[300];
    snprintf(gpath, sizeof gpath, "%s/genesis.json", home);
    struct mc_genesis g;
    if (mc_node_genesis_load(&g, gpath)) return -1;
    static struct client clients[CLIENTS];
    memset(clients, 0, sizeof clients);
    for (int i = 0; i < CLIENTS; i++) {
        mc_keypair_generate(&clients[i].admin);
        struct mc_org *o = &g.orgs[g.org_count++];
        memset(o, 0, sizeof *o);
        o->id = (uint32_t)(100 + i);
        snprintf(o->name, sizeof o->name, "Bench Hospital %d", i);
        o->kind = MC_ORG_HOSPITAL;
        o->admin = clients[i].admin.pk;
    }
    char *json = mc_genesis_to_json(&g);
    FILE *f = fopen(gpath, "w");
    fputs(json, f);
    fclose(f);
    free(json);

    int port = free_port();
    char api[64], base[96];
    snprintf(api, sizeof api, "127.0.0.1:%d", port);
    snprintf(base, sizeof base, "http://%s", api);
    pid_t pid = fork();
    if (pid == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/node.log", home);
        if (!freopen(log, "w", stderr)) _exit(126);
        execl(bin, bin, "node", "--home", home, "--api", api, (char *)NULL);
        _exit(127);
    }
    json_t *st = NULL;
    for (int i = 0; i < 100 && !st; i++) {
        usleep(100000);
        st = get_status(base);
    }
    if (!st) { fprintf(stderr, "bench: node did not start\n"); kill(pid, SIGKILL); return -1; }
    json_decref(st);

    pthread_t th[CLIENTS];
    pthread_barrier_init(&ready, NULL, CLIENTS + 1);
    for (int i = 0; i < CLIENTS; i++) {
        clients[i].id = i;
        snprintf(clients[i].url, sizeof clients[i].url, "%s", base);
        clients[i].chain_id = "medchain-bench";
        clients[i].batch = batch;
        clients[i].accepted = clients[i].refused = 0;
        pthread_create(&th[i], NULL, client_main, &clients[i]);
    }
    pthread_barrier_wait(&ready);
    usleep(500000); /* warm up */
    st = get_status(base);
    uint64_t c0 = (uint64_t)json_integer_value(json_object_get(st, "txs_committed"));
    json_decref(st);
    double t0 = now_s();
    usleep(SECONDS * 1000000);
    st = get_status(base);
    uint64_t c1 = (uint64_t)json_integer_value(json_object_get(st, "txs_committed"));
    json_decref(st);
    double t1 = now_s();
    atomic_store(&load_stop, 1);
    for (int i = 0; i < CLIENTS; i++) pthread_join(th[i], NULL);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    char rm[300];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    if (system(rm) != 0) fprintf(stderr, "bench: could not remove %s\n", dir);
    return (double)(c1 - c0) / (t1 - t0);
}

int main(void) {
    mc_crypto_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *bin = getenv("MEDCHAIN_BIN") ? getenv("MEDCHAIN_BIN") : "build/medchain";
    double bound = bench_ed25519_bound(0);
    double single = measure(bin, 1);
    double batched = measure(bin, 100);
    if (single < 0 || batched < 0) return 1;
    printf("bench ledger: ed25519 verifications/s (all %ld cores): %.0f\n",
           sysconf(_SC_NPROCESSORS_ONLN), bound);
    printf("bench ledger: committed tx/s, 1 validator, %d clients, one tx per request: %.0f (%.1f%% of bound)\n",
           CLIENTS, single, 100.0 * single / bound);
    printf("bench ledger: committed tx/s, 1 validator, %d clients, 100 txs per request (POST /v1/txs): %.0f (%.1f%% of bound)\n",
           CLIENTS, batched, 100.0 * batched / bound);
    return 0;
}
