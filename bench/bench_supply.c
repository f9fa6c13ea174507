/* Supply chain benchmark (issue 7): prints, in one run,
 *   - Ed25519 verifications per second on this machine, all cores (the
 *     bound every figure is set against);
 *   - commissioning throughput of one validator node (a real process):
 *     serials committed per second, 1000 serials per transaction;
 *   - public verification lookups per second over HTTP on loopback with
 *     many concurrent keep-alive connections, with p50/p99 latency, both
 *     with the default answer (custody chain and an RFC 6962 proof per
 *     event) and without proofs (?proofs=0).
 * A lookup verifies no signature, so the bound is a scale, not a ceiling:
 * the ratio says how many lookups one signature check costs. */
#include <curl/curl.h>
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "app/genesis.h"
#include "app/identity.h"
#include "app/supply_payload.h"
#include "app/identity_payload.h"
#include "app/txtypes.h"
#include "base/codec.h"
#include "base/hex.h"
#include "chain/tx.h"
#include "crypto/keyfile.h"
#include "node/node.h"
#include "bench_bound.h"

#define GTIN "09506000134352"
#define LOTS 20           /* commissioning transactions */
#define SERIALS 1000      /* serials per transaction */
#define CONNECTIONS 64
#define SECONDS 4
#define SAMPLES_MAX 400000

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


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

static size_t sink(char *p, size_t s, size_t n, void *u) { return s * n; }

struct body { char *p; size_t n; };
static size_t keep(char *p, size_t s, size_t n, void *u) {
    struct body *b = u;
    char *q = realloc(b->p, b->n + s * n + 1);
    if (!q) return 0;
    memcpy(q + b->n, p, s * n);
    b->p = q;
    b->n += s * n;
    b->p[b->n] = 0;
    return s * n;
}

static json_t *get_json(const char *url) {
    CURL *c = curl_easy_init();
    struct body b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    json_t *j = curl_easy_perform(c) == CURLE_OK && b.p ? json_loads(b.p, 0, NULL) : NULL;
    curl_easy_cleanup(c);
    free(b.p);
    return j;
}

static long post_tx(CURL *c, const char *url, const uint8_t *tx, size_t len) {
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, tx);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static uint64_t committed(const char *base) {
    char url[128];
    snprintf(url, sizeof url, "%s/v1/status", base);
    json_t *j = get_json(url);
    uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "txs_committed"));
    json_decref(j);
    return n;
}

static void encode_tx(struct mc_buf *out, const char *chain, uint16_t type,
                      const struct mc_keypair *kp, uint64_t nonce, const struct mc_buf *p) {
    struct mc_tx tx = {.type = type, .sender = kp->pk, .nonce = nonce, .payload = p->data,
                       .payload_len = p->len};
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain);
    mc_tx_sign(&tx, kp);
    mc_buf_init(out, 0);
    mc_tx_encode(out, &tx);
}

/* ---- lookups ------------------------------------------------------------ */

struct looker {
    int id;
    const char *base;
    bool proofs;
    double *lat;
    uint64_t n, errors;
};

static atomic_int look_stop;
static pthread_barrier_t look_ready;

static void *look_main(void *arg) {
    struct looker *l = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    unsigned seed = (unsigned)l->id * 7919u + 1;
    pthread_barrier_wait(&look_ready);
    while (!atomic_load_explicit(&look_stop, memory_order_relaxed) && l->n < SAMPLES_MAX / CONNECTIONS) {
        seed = seed * 1103515245u + 12345u;
        unsigned s = (seed >> 8) % (LOTS * SERIALS);
        char url[256];
        snprintf(url, sizeof url, "%s/01/" GTIN "/10/L%u/21/S%u%s", l->base, s / SERIALS, s,
                 l->proofs ? "" : "?proofs=0");
        curl_easy_setopt(c, CURLOPT_URL, url);
        double t0 = now_s();
        long status = 0;
        if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        double dt = now_s() - t0;
        if (status == 200) l->lat[l->n++] = dt;
        else l->errors++;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void lookups(const char *base, bool proofs, double *rate, double *p50, double *p99,
                    uint64_t *errors) {
    static struct looker ls[CONNECTIONS];
    pthread_t th[CONNECTIONS];
    atomic_store(&look_stop, 0);
    pthread_barrier_init(&look_ready, NULL, CONNECTIONS + 1);
    for (int i = 0; i < CONNECTIONS; i++) {
        ls[i] = (struct looker){.id = i, .base = base, .proofs = proofs};
        ls[i].lat = malloc(sizeof(double) * (SAMPLES_MAX / CONNECTIONS));
        pthread_create(&th[i], NULL, look_main, &ls[i]);
    }
    pthread_barrier_wait(&look_ready);
    double t0 = now_s();
    usleep(SECONDS * 1000000);
    atomic_store(&look_stop, 1);
    for (int i = 0; i < CONNECTIONS; i++) pthread_join(th[i], NULL);
    double t = now_s() - t0;
    uint64_t total = 0;
    *errors = 0;
    for (int i = 0; i < CONNECTIONS; i++) total += ls[i].n, *errors += ls[i].errors;
    double *all = malloc(sizeof(double) * (total ? total : 1));
    uint64_t k = 0;
    for (int i = 0; i < CONNECTIONS; i++) {
        memcpy(all + k, ls[i].lat, ls[i].n * sizeof(double));
        k += ls[i].n;
        free(ls[i].lat);
    }
    qsort(all, total, sizeof(double), cmp_double);
    *rate = (double)total / t;
    *p50 = total ? all[total / 2] * 1000 : 0;
    *p99 = total ? all[(total * 99) / 100] * 1000 : 0;
    free(all);
    pthread_barrier_destroy(&look_ready);
}

int main(void) {
    mc_crypto_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *bin = getenv("MEDCHAIN_BIN") ? getenv("MEDCHAIN_BIN") : "build/medchain";
    double bound = bench_ed25519_bound(0);

    char dir[] = "/tmp/medchain-bench-supply-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char home[256], gpath[300];
    snprintf(home, sizeof home, "%s/node", dir);
    struct mc_init_options opt = {.home = home, .chain_id = "medchain-bench"};
    if (mc_node_init_home(&opt)) { fprintf(stderr, "init: %s\n", mc_err_detail()); return 1; }
    snprintf(gpath, sizeof gpath, "%s/genesis.json", home);
    static struct mc_genesis g;
    if (mc_node_genesis_load(&g, gpath)) return 1;
    struct mc_keypair admin, mfr;
    mc_keypair_generate(&admin);
    mc_keypair_generate(&mfr);
    struct mc_org *o = &g.orgs[g.org_count++];
    memset(o, 0, sizeof *o);
    o->id = 2;
    snprintf(o->name, sizeof o->name, "Bench Pharma");
    o->kind = MC_ORG_MANUFACTURER;
    o->admin = admin.pk;
    char *json = mc_genesis_to_json(&g);
    FILE *f = fopen(gpath, "w");
    fputs(json, f);
    fclose(f);
    free(json);

    int port = free_port();
    char api[64], base[96], txurl[128];
    snprintf(api, sizeof api, "127.0.0.1:%d", port);
    snprintf(base, sizeof base, "http://%s", api);
    snprintf(txurl, sizeof txurl, "%s/v1/tx", base);
    pid_t pid = fork();
    if (pid == 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/node.log", home);
        if (!freopen(log, "w", stderr)) _exit(126);
        execl(bin, bin, "node", "--home", home, "--api", api, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && committed(base) == 0 && !get_json(base); i++) usleep(100000);
    usleep(300000);

    /* Enroll the manufacturer's member, then presign the commissionings. */
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    struct mc_buf p, tx;
    struct mc_identity_payload ep = {.type = MC_TX_ENROLL_MEMBER, .key = mfr.pk,
                                     .role = MC_ROLE_MANUFACTURER, .name = "bench line"};
    mc_buf_init(&p, 0);
    if (mc_identity_payload_encode(&p, &ep)) goto fail;
    encode_tx(&tx, "medchain-bench", MC_TX_ENROLL_MEMBER, &admin, 1, &p);
    mc_buf_deinit(&p);
    if (post_tx(c, txurl, tx.data, tx.len) != 202) { fprintf(stderr, "bench: enroll refused\n"); goto fail; }
    mc_buf_deinit(&tx);
    for (int i = 0; i < 100 && committed(base) < 1; i++) usleep(50000);

    static struct mc_buf txs[LOTS];
    struct mc_supply_payload *cp = calloc(1, sizeof *cp);
    if (!cp) goto fail;
    for (int l = 0; l < LOTS; l++) {
        memset(cp, 0, sizeof *cp);
        cp->type = MC_TX_DRUG_COMMISSION;
        snprintf(cp->gtin, sizeof cp->gtin, "%s", GTIN);
        snprintf(cp->lot, sizeof cp->lot, "L%d", l);
        cp->expiry = 20491231;
        cp->count = SERIALS;
        for (int s = 0; s < SERIALS; s++)
            snprintf(cp->serials[s], sizeof cp->serials[s], "S%d", l * SERIALS + s);
        mc_buf_init(&p, 0);
        if (mc_supply_payload_encode(&p, cp)) {
            free(cp);
            goto fail;
        }
        encode_tx(&txs[l], "medchain-bench", MC_TX_DRUG_COMMISSION, &mfr, (uint64_t)l + 1, &p);
        mc_buf_deinit(&p);
    }
    free(cp);
    uint64_t c0 = committed(base);
    double t0 = now_s();
    for (int l = 0; l < LOTS; l++)
        if (post_tx(c, txurl, txs[l].data, txs[l].len) != 202) { fprintf(stderr, "bench: commission refused\n"); goto fail; }
    while (committed(base) < c0 + LOTS && now_s() - t0 < 60) usleep(5000);
    double commission_s = now_s() - t0;
    if (committed(base) < c0 + LOTS) { fprintf(stderr, "bench: commissioning did not finish\n"); goto fail; }
    double serials_rate = (double)LOTS * SERIALS / commission_s;

    double r1, a1, b1, r2, a2, b2;
    uint64_t e1, e2;
    lookups(base, true, &r1, &a1, &b1, &e1);
    lookups(base, false, &r2, &a2, &b2, &e2);

    printf("bench supply: ed25519 verifications/s (all %ld cores): %.0f\n",
           sysconf(_SC_NPROCESSORS_ONLN), bound);
    printf("bench supply: commissioning, 1 validator, %d serials per tx: %.0f serials/s "
           "(%.1f%% of bound)\n", SERIALS, serials_rate, 100.0 * serials_rate / bound);
    printf("bench supply: verification lookups/s over HTTP, %d connections, with proofs: %.0f "
           "(%.1f%% of bound), p50 %.2f ms, p99 %.2f ms, errors %llu\n",
           CONNECTIONS, r1, 100.0 * r1 / bound, a1, b1, (unsigned long long)e1);
    printf("bench supply: verification lookups/s over HTTP, %d connections, ?proofs=0: %.0f "
           "(%.1f%% of bound), p50 %.2f ms, p99 %.2f ms, errors %llu\n",
           CONNECTIONS, r2, 100.0 * r2 / bound, a2, b2, (unsigned long long)e2);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    char rm[300];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    if (system(rm) != 0) fprintf(stderr, "bench: could not remove %s\n", dir);
    return 0;
fail:
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 1;
}
