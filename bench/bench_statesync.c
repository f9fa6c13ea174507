/* State sync benchmark (docs/STATE.md, "Snapshots and state sync"): how
 * long a new node takes to join a chain of many transactions by state sync
 * against replaying every block (block sync), real `medchain node`
 * processes on loopback.
 *
 * One validator (node0) takes MEDCHAIN_BENCH_STATESYNC_TXS transactions
 * (default 20,000; `make bench-statesync-long` runs 1,000,000) through
 * `medchain load` and writes a snapshot every 10 heights. Then a member
 * node (node1) joins twice, from an empty home: by block sync, and by
 * state sync; each time until it reaches the height node0 had when it
 * started. Printed next to bounds measured in this run on the same
 * machine: the time to read node0's state rows from SQLite (what any
 * restore must at least do) and SHA-256 throughput (every restored byte is
 * hashed about twice: its chunk and its row). */
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/hash.h"

static const char *bin;
static char dir[128];
static int api0, api1, p2p0;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *why) {
    fprintf(stderr, "bench_statesync: %s\n", why);
    exit(1);
}

static void run(const char *cmd) {
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_statesync: failed: %s\n", cmd);
        exit(1);
    }
}

static pid_t start_node(int i, int api) {
    char home[256], apis[64], log[300];
    snprintf(home, sizeof home, "%s/node%d", dir, i);
    snprintf(apis, sizeof apis, "127.0.0.1:%d", api);
    snprintf(log, sizeof log, "%s/node.log", home);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        if (!freopen(log, "a", stdout) || !freopen(log, "a", stderr)) _exit(127);
        execl(bin, bin, "node", "--home", home, "--api", apis, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void stop_node(pid_t pid) {
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
}

static json_t *status(int api) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "curl -s --max-time 2 http://127.0.0.1:%d/v1/status", api);
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    pclose(p);
    return json_loads(buf, 0, NULL);
}

static uint64_t height_of(int api) {
    json_t *j = status(api);
    uint64_t h = j ? (uint64_t)json_integer_value(json_object_get(j, "height")) : 0;
    json_decref(j);
    return h;
}

/* Until the API answers: a state-syncing node opens it once restored. */
static void wait_up(int api) {
    double t0 = now_s();
    while (now_s() - t0 < 1800) {
        json_t *j = status(api);
        if (j) {
            json_decref(j);
            return;
        }
        usleep(20000);
    }
    die("a node did not start");
}

static void config_set(int i, const char *key, json_t *v) {
    char path[256];
    snprintf(path, sizeof path, "%s/node%d/config.json", dir, i);
    json_t *cfg = json_load_file(path, 0, NULL);
    if (!cfg) die("config.json");
    json_object_set_new(cfg, key, v);
    if (json_dump_file(cfg, path, JSON_INDENT(2))) die("config.json");
    json_decref(cfg);
}

static uint64_t latest_snapshot(void) {
    char p[256];
    snprintf(p, sizeof p, "%s/node0/snapshots", dir);
    DIR *d = opendir(p);
    uint64_t best = 0;
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strlen(e->d_name) == 20 && strspn(e->d_name, "0123456789") == 20) {
            uint64_t h = strtoull(e->d_name, NULL, 10);
            if (h > best) best = h;
        }
    closedir(d);
    return best;
}

/* node1 from an empty home until it holds `target`; seconds taken. */
static double join(uint64_t target, int state_sync) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s/node1/data %s/node1/snapshots %s/node1/node.log", dir, dir, dir);
    run(cmd);
    config_set(1, "state_sync", json_boolean(state_sync));
    double t0 = now_s();
    pid_t pid = start_node(1, api1);
    wait_up(api1);
    while (height_of(api1) < target) usleep(20000);
    double t = now_s() - t0;
    json_t *j = status(api1);
    json_t *from = j ? json_object_get(j, "state_synced_from") : NULL;
    if (state_sync && !json_is_integer(from)) die("node1 did not state-sync");
    if (!state_sync && json_is_integer(from)) die("node1 state-synced when it should not");
    json_decref(j);
    stop_node(pid);
    return t;
}

/* Reads node0's state rows once (key, value) and gives their count, bytes
 * and the seconds taken. */
static double read_rows(uint64_t *rows, uint64_t *bytes) {
    char path[256];
    snprintf(path, sizeof path, "%s/node0/data/chain.db", dir);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die("open chain.db");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT key, value FROM state WHERE key >= x'01' ORDER BY key", -1, &st, NULL))
        die("prepare");
    double t0 = now_s();
    *rows = *bytes = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        (void)sqlite3_column_blob(st, 0);
        (void)sqlite3_column_blob(st, 1);
        *bytes += (uint64_t)sqlite3_column_bytes(st, 0) + (uint64_t)sqlite3_column_bytes(st, 1);
        (*rows)++;
    }
    double t = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return t;
}

static double sha256_mb_s(void) {
    static uint8_t buf[1 << 20];
    memset(buf, 7, sizeof buf);
    mc_hash h;
    double t0 = now_s();
    int n = 0;
    while (now_s() - t0 < 1.0) {
        mc_sha256(&h, buf, sizeof buf);
        buf[0] = h.b[0];
        n++;
    }
    return n / (now_s() - t0);
}

int main(void) {
    bin = getenv("MEDCHAIN_BIN");
    if (!bin) bin = "build/medchain";
    const char *e = getenv("MEDCHAIN_BENCH_STATESYNC_TXS");
    long txs = e ? atol(e) : 20000;
    if (txs < 1000) txs = 1000;
    mc_crypto_init();
    snprintf(dir, sizeof dir, "/tmp/medchain-bench-statesync-XXXXXX");
    if (!mkdtemp(dir)) die("mkdtemp");
    srand((unsigned)getpid());
    api0 = 24000 + (rand() % 2000) * 4;
    api1 = api0 + 1;
    p2p0 = api0 + 2;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s testnet --validators 1 --members --dir %s/net --api-port %d --p2p-port %d "
             "--chain-id medchain-bench-ss > /dev/null", bin, dir, api0, p2p0);
    run(cmd);
    strncat(dir, "/net", sizeof dir - strlen(dir) - 1);
    /* node1 (the pharmacy's member node) peers with node0 only */
    char path[256];
    snprintf(path, sizeof path, "%s/node1/config.json", dir);
    json_t *cfg = json_load_file(path, 0, NULL);
    json_t *peers = json_object_get(cfg, "peers");
    while (json_array_size(peers) > 1) json_array_remove(peers, json_array_size(peers) - 1);
    json_dump_file(cfg, path, JSON_INDENT(2));
    json_decref(cfg);
    config_set(0, "snapshot_interval", json_integer(10));

    pid_t p0 = start_node(0, api0);
    wait_up(api0);
    /* the chain: `medchain load` at most 100,000 transactions a run */
    long left = txs;
    double tb = now_s();
    while (left > 0) {
        long n = left > 90000 ? 90000 : left;
        long rate = 1500, secs = (n + rate - 1) / rate;
        snprintf(cmd, sizeof cmd, "%s load --node http://127.0.0.1:%d --key %s/node0/admin_key.json --rate %ld "
                 "--duration %ld > /dev/null", bin, api0, dir, rate, secs);
        run(cmd);
        left -= rate * secs;
    }
    json_t *st = status(api0);
    uint64_t committed = st ? (uint64_t)json_integer_value(json_object_get(st, "txs_committed")) : 0;
    json_decref(st);
    double build_s = now_s() - tb;
    uint64_t loaded_at = height_of(api0);
    while (latest_snapshot() <= loaded_at) usleep(100000);
    uint64_t target = height_of(api0);
    uint64_t rows, bytes;
    double read_s = read_rows(&rows, &bytes);
    double sha = sha256_mb_s();
    double replay_s = join(target, 0);
    double sync_s = join(target, 1);
    stop_node(p0);
    /* the validator's last snapshot write (on its own thread: consensus went on) */
    char line[512] = "", last[512] = "";
    snprintf(path, sizeof path, "%s/node0/node.log", dir);
    FILE *lf = fopen(path, "r");
    while (lf && fgets(line, sizeof line, lf))
        if (strstr(line, "wrote the snapshot of height")) snprintf(last, sizeof last, "%s", line);
    if (lf) fclose(lf);
    const char *w = strstr(last, "wrote the snapshot");
    printf("state sync: a chain of %llu transactions (built in %.0f s), %llu blocks, %llu state rows, %.1f MB\n",
           (unsigned long long)committed, build_s, (unsigned long long)target, (unsigned long long)rows,
           (double)bytes / 1e6);
    if (w) printf("  %s", w);
    printf("  block sync (replay every block)   %8.2f s\n", replay_s);
    printf("  state sync (snapshot, then blocks) %7.2f s   %.1fx faster\n", sync_s, replay_s / sync_s);
    printf("  bound: reading the state rows from SQLite %.3f s; SHA-256 %.0f MB/s (the rows hashed twice: %.3f s)\n",
           read_s, sha, 2.0 * (double)bytes / 1e6 / sha);
    snprintf(cmd, sizeof cmd, "rm -rf %.*s", (int)(strlen(dir) - 4), dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}
