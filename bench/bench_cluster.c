/* Consortium benchmark (issue 4): a 4-validator testnet of real node
 * processes on this machine, driven by `medchain load`:
 *   - committed transactions per second under saturation;
 *   - finality latency p50/p99 at half that load;
 * next to the bound measured in the same run: Ed25519 verifications per
 * second on this machine (all cores) divided by the number of validators,
 * since every validator verifies every transaction once. (Each load
 * transaction, a patient registration, carries two signatures: the
 * clinician's and the patient's.) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_bound.h"
#include "crypto/hash.h"

#define VALIDATORS 4

static pid_t start_node(const char *bin, const char *home) {
    pid_t pid = fork();
    if (pid == 0) {
        char log[800];
        snprintf(log, sizeof log, "%s/node.log", home);
        if (!freopen(log, "w", stderr) || !freopen(log, "a", stdout)) _exit(126);
        execl(bin, bin, "node", "--home", home, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Runs the load command; fills committed tx/s and p50/p99 (ms). */
static int run_load(const char *bin, const char *dir, int api0, double rate, double secs,
                    double *tps, double *p50, double *p99) {
    char cmd[2048];
    int n = snprintf(cmd, sizeof cmd, "%s load --key %s/node0/admin_key.json --rate %.0f --duration %.0f",
                     bin, dir, rate, secs);
    for (int i = 0; i < VALIDATORS; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " --node http://127.0.0.1:%d", api0 + i);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512];
    *tps = *p50 = *p99 = 0;
    while (fgets(line, sizeof line, p)) {
        double a, b;
        if (sscanf(line, "load: committed %lf tx/s", &a) == 1) *tps = a;
        if (sscanf(line, "load: latency p50 %lf ms, p90 %*f ms, p99 %lf ms", &a, &b) == 2) {
            *p50 = a;
            *p99 = b;
        }
    }
    return pclose(p) == 0 ? 0 : -1;
}

int main(void) {
    mc_crypto_init();
    const char *bin = getenv("MEDCHAIN_BIN") ? getenv("MEDCHAIN_BIN") : "build/medchain";
    double bound_all = bench_ed25519_bound(0);
    char dir[] = "/tmp/medchain-bench-cluster-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    int api0 = 14700 + (int)(getpid() % 100) * 10, p2p0 = api0 + 5000;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s testnet --validators %d --dir %s/net --api-port %d --p2p-port %d > /dev/null",
             bin, VALIDATORS, dir, api0, p2p0);
    if (system(cmd) != 0) return 1;
    char net[600];
    snprintf(net, sizeof net, "%s/net", dir);
    pid_t pids[VALIDATORS];
    for (int i = 0; i < VALIDATORS; i++) {
        char home[700];
        snprintf(home, sizeof home, "%s/node%d", net, i);
        pids[i] = start_node(bin, home);
    }
    sleep(2);
    double sat, p50s, p99s, half_tps, p50, p99;
    int rc = run_load(bin, net, api0, 3000, 6, &sat, &p50s, &p99s);
    if (!rc) rc = run_load(bin, net, api0, sat / 2 > 10 ? sat / 2 : 10, 6, &half_tps, &p50, &p99);
    for (int i = 0; i < VALIDATORS; i++) kill(pids[i], SIGTERM);
    for (int i = 0; i < VALIDATORS; i++) waitpid(pids[i], NULL, 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", dir);
    if (rc) {
        fprintf(stderr, "bench cluster: the load run failed\n");
        return 1;
    }
    double bound = bound_all / VALIDATORS;
    printf("bench cluster: ed25519 verifications/s (all cores) / %d validators: %.0f\n", VALIDATORS, bound);
    printf("bench cluster: committed tx/s at saturation: %.0f (%.1f%% of bound; 2 signatures per tx: %.1f%% of the verification budget)\n",
           sat, 100.0 * sat / bound, 200.0 * sat / bound);
    printf("bench cluster: finality at half load (%.0f tx/s): p50 %.0f ms, p99 %.0f ms (saturated: p50 %.0f ms, p99 %.0f ms)\n",
           half_tps, p50, p99, p50s, p99s);
    return 0;
}
