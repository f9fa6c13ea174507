/* Local commands that work on files, not through the API:
 * `medchain init`, `node`, `keygen` and `verify`. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "api/server.h"
#include "app/genesis.h"
#include "base/hex.h"
#include "base/log.h"
#include "chain/store.h"
#include "cli/cli.h"
#include "crypto/keyfile.h"
#include "node/node.h"
#include "node/testnet.h"
#include "node/verify.h"

#define PATH_BYTES 4096
/* The pause before the home is opened again after a store fault: doubles
 * from the first to the last, then stays there. */
#define MC_NODE_STORE_RETRY_FIRST_MS 1000L
#define MC_NODE_STORE_RETRY_MAX_MS 30000L

static int home_path(char *out, const char *home, const char *name) {
    int n = snprintf(out, PATH_BYTES, "%s/%s", home, name);
    if (n < 0 || n >= PATH_BYTES) return mc_cli_error(MC_CLI_USAGE, "home path is too long");
    return 0;
}

/* One node per home folder: two processes on one home would sign with the
 * same validator key from two copies of its consensus state (a double-sign
 * waiting to happen). `medchain node` holds an exclusive lock on
 * HOME/node.pid for as long as it runs and writes its process id there, so
 * operators and scripts (make demo-stop) find the process that serves a home,
 * however it was started. The lock goes with the process, also on kill -9.
 * Returns the open descriptor (kept open, never closed) or -1 after printing
 * the error. */
static int home_lock(const char *home) {
    char path[PATH_BYTES];
    if (home_path(path, home, "node.pid")) return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        mc_cli_error(MC_CLI_FAIL, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char held[32] = {0};
        ssize_t r = pread(fd, held, sizeof held - 1, 0);
        held[r > 0 ? strcspn(held, "\n") : 0] = 0;
        mc_cli_error(MC_CLI_FAIL, "another node is already running on %s (pid %s); stop it first",
                     home, held[0] ? held : "unknown");
        close(fd);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

#ifdef MC_TEST_FORGET_LAST_TXS
#include <sqlite3.h>
/* Test build only (mk/e2e.mk): a node that loses the transactions of its
 * latest block when it starts, as a store that acknowledged writes it did
 * not keep would. The fault-injection harness must catch it. */
static void forget_last_txs(const char *home) {
    char path[PATH_BYTES];
    if (home_path(path, home, "data/chain.db")) return;
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) == SQLITE_OK)
        sqlite3_exec(db, "DELETE FROM txs WHERE height = (SELECT max(height) FROM txs)", NULL, NULL, NULL);
    sqlite3_close(db);
}
#endif

int mc_cli_cmd_init(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        {"home", true}, {"chain-id", true}, {"org", true}, {"kind", true},
        {"gln", true},  {"api", true},      {"passphrase-file", true},
    };
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "init", spec, 0, argc, argv);
    if (mc_cli_require(&a, "init", "home")) return MC_CLI_USAGE;
    const char *home = mc_cli_arg(&a, "home");
    const char *kind = mc_cli_arg(&a, "kind");
    if (kind && mc_org_kind_from_name(kind) == 0)
        return mc_cli_error(MC_CLI_USAGE, "unknown organisation kind '%s' (hospital, clinic, "
                            "laboratory, pharmacy, manufacturer, distributor, research, regulator)",
                            kind);
    const char *gln = mc_cli_arg(&a, "gln");
    if (gln && (strlen(gln) != 13 || strspn(gln, "0123456789") != 13))
        return mc_cli_error(MC_CLI_USAGE, "--gln must be 13 digits");
    char genesis_path[PATH_BYTES], admin_path[PATH_BYTES], node_key_path[PATH_BYTES];
    if (home_path(genesis_path, home, "genesis.json") ||
        home_path(admin_path, home, "admin_key.json") ||
        home_path(node_key_path, home, "node_key.json"))
        return MC_CLI_USAGE;

    char *pass = NULL;
    if (mc_cli_passphrase_read(&pass, mc_cli_arg(&a, "passphrase-file"))) return MC_CLI_FAIL;
    struct mc_init_options opt = {
        .home = home,
        .chain_id = mc_cli_arg(&a, "chain-id"),
        .org_name = mc_cli_arg(&a, "org"),
        .org_kind = kind,
        .gln = gln,
        .api = mc_cli_arg(&a, "api"),
        .passphrase = pass,
        .genesis_time_ms = 0,
    };
    mc_err_clear();
    int rc = mc_node_init_home(&opt);
    mc_cli_passphrase_free(pass);
    if (rc == MC_ERR_EXISTS)
        return mc_cli_error(MC_CLI_FAIL, "%s is already initialised (%s exists)", home,
                            genesis_path);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "cannot initialise %s: %s", home, mc_cli_detail(rc));

    struct mc_genesis *g = sodium_malloc(sizeof *g); /* large; keep it off the stack */
    if (!g) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    mc_err_clear();
    rc = mc_node_genesis_load(g, genesis_path);
    if (rc) {
        sodium_free(g);
        return mc_cli_error(MC_CLI_FAIL, "initialised %s but cannot read back %s: %s", home,
                            genesis_path, mc_cli_detail(rc));
    }
    mc_pubkey admin;
    char admin_hex[2 * MC_PUBKEY_BYTES + 1] = "?";
    if (mc_keyfile_read_public(&admin, admin_path) == 0)
        mc_hex_encode(admin_hex, admin.b, sizeof admin.b);
    printf("home: %s\n", home);
    printf("chain_id: %s\n", g->chain_id);
    printf("genesis: %s\n", genesis_path);
    printf("admin_key: %s\n", admin_path);
    printf("admin_pub: %s\n", admin_hex);
    printf("node_key: %s\n", node_key_path);
    printf("next: medchain node --home %s\n", home);
    sodium_free(g);
    return MC_CLI_OK;
}

/* "host:port" or "[v6]:port" into host (brackets kept) and port. */
static int split_host_port(char *host, size_t host_size, uint16_t *port, const char *addr) {
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr) return -1;
    size_t n = (size_t)(colon - addr);
    if (n >= host_size) return -1;
    /* An IPv6 literal must be bracketed so its last ':' is the port's. */
    if (memchr(addr, ':', n) && !(addr[0] == '[' && addr[n - 1] == ']')) return -1;
    uint64_t p;
    if (!mc_cli_parse_u64(colon + 1, &p) || p > 65535) return -1;
    memcpy(host, addr, n);
    host[n] = 0;
    *port = (uint16_t)p;
    return 0;
}

/* Reads a PEM file (at most 64 kB) into a malloc'd string. */
static char *read_pem(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(64 * 1024 + 1);
    size_t n = buf ? fread(buf, 1, 64 * 1024, f) : 0;
    bool more = buf && fgetc(f) != EOF;
    fclose(f);
    if (!buf || n == 0 || more) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* One life of the node in this process: open the home, serve the API,
 * run until a stop or a fault, close. *port 0 picks a port, which is then
 * kept for later lives. *store_failed says whether the run ended because
 * the store failed (mc_node_store_failed). */
static int serve(const char *home, const char *api_arg, const char *host, uint16_t *port, const char *cert,
                 const char *key, uint32_t recoveries, bool *store_failed) {
    *store_failed = false;
    struct mc_node *n = NULL;
    mc_err_clear();
    int rc = mc_node_open(&n, home);
    if (rc) {
        *store_failed = recoveries > 0 && (rc == MC_ERR_DB || rc == MC_ERR_IO);
        return mc_cli_error(MC_CLI_FAIL, "cannot open node at %s: %s", home, mc_cli_detail(rc));
    }
    mc_node_set_store_recoveries(n, recoveries);
    char hbuf[256];
    const char *addr = api_arg ? api_arg : mc_node_api_addr(n);
    if (!api_arg) {
        if (split_host_port(hbuf, sizeof hbuf, port, addr)) {
            mc_node_close(n);
            return mc_cli_error(MC_CLI_FAIL, "the api address '%s' in %s/config.json is not HOST:PORT", addr, home);
        }
        host = hbuf;
    }
    struct mc_api *api = NULL;
    mc_err_clear();
    rc = mc_api_start_tls(&api, n, host, *port, cert, key);
    if (rc) {
        mc_node_close(n);
        return mc_cli_error(MC_CLI_FAIL, "cannot serve the API on %s: %s", addr, mc_cli_detail(rc));
    }
    *port = mc_api_port(api);
    /* Machine-readable: tests wait for this line (port 0 picks one). */
    printf("node: %s\n", home);
    printf("api: %s://%s%s%s:%u\n", cert ? "https" : "http", strchr(host, ':') && host[0] != '[' ? "[" : "", host,
           strchr(host, ':') && host[0] != '[' ? "]" : "", (unsigned)*port);
    fflush(stdout);
    mc_err_clear();
    rc = mc_node_run(n);
    mc_api_stop(api);
    *store_failed = rc && mc_node_store_failed(n);
    mc_node_close(n);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "node stopped: %s", mc_cli_detail(rc));
    return MC_CLI_OK;
}

/* Waits ms milliseconds for SIGINT or SIGTERM; true when one came. */
static bool stop_signal_within(long ms) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigset_t old;
    sigprocmask(SIG_BLOCK, &set, &old);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    int sig;
    do sig = sigtimedwait(&set, NULL, &ts);
    while (sig < 0 && errno == EINTR);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return sig > 0;
}

int mc_cli_cmd_node(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"home", true}, {"api", true}, {"tls-cert", true},
                                             {"tls-key", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "node", spec, 0, argc, argv);
    if (mc_cli_require(&a, "node", "home")) return MC_CLI_USAGE;
    /* A running node logs a line per committed block; MEDCHAIN_LOG=debug
     * or warn changes how much. */
    const char *lvl = getenv("MEDCHAIN_LOG");
    mc_log_set_level(lvl && strcmp(lvl, "debug") == 0  ? MC_LOG_DEBUG
                     : lvl && strcmp(lvl, "warn") == 0 ? MC_LOG_WARN
                                                       : MC_LOG_INFO);
    const char *home = mc_cli_arg(&a, "home");
    const char *api_arg = mc_cli_arg(&a, "api");
    char host[256] = "";
    uint16_t port = 0;
    if (api_arg && split_host_port(host, sizeof host, &port, api_arg))
        return mc_cli_error(MC_CLI_USAGE, "--api must be HOST:PORT, e.g. 127.0.0.1:7700 or [::1]:7700");
    char *cert = NULL, *key = NULL;
    const char *cert_path = mc_cli_arg(&a, "tls-cert"), *key_path = mc_cli_arg(&a, "tls-key");
    if ((cert_path != NULL) != (key_path != NULL))
        return mc_cli_error(MC_CLI_USAGE, "--tls-cert and --tls-key go together");
    if (home_lock(home) < 0) return MC_CLI_FAIL;
#ifdef MC_TEST_FORGET_LAST_TXS
    forget_last_txs(home);
#endif
    if (cert_path && (!(cert = read_pem(cert_path)) || !(key = read_pem(key_path)))) {
        free(cert);
        return mc_cli_error(MC_CLI_FAIL, "cannot read the TLS certificate or key (PEM, at most 64 kB)");
    }
    /* A store that fails under the node (a full disk, an I/O error) stops
     * it: its memory may disagree with its disk (node.c). The process does
     * not exit then. It closes the node and opens the home again, as a
     * restart would, after a pause that doubles from 1 s to 30 s, until
     * the store works again; while the fault lasts the node stops again at
     * its first write. A stop signal during the pause ends the process.
     * Any other reason to stop (a signal, an upgrade halt, a bad
     * configuration) ends it as before. */
    uint32_t recoveries = 0;
    long pause_ms = MC_NODE_STORE_RETRY_FIRST_MS;
    int rc;
    for (;;) {
        bool store_failed;
        rc = serve(home, api_arg, api_arg ? host : NULL, &port, cert, key, recoveries, &store_failed);
        if (!store_failed) break;
        mc_log_error("node", "the store failed (see above); the node opens %s again in %ld ms", home, pause_ms);
        if (stop_signal_within(pause_ms)) break;
        recoveries++;
        pause_ms = pause_ms * 2 > MC_NODE_STORE_RETRY_MAX_MS ? MC_NODE_STORE_RETRY_MAX_MS : pause_ms * 2;
    }
    free(cert);
    if (key) sodium_memzero(key, strlen(key));
    free(key);
    return rc;
}

int mc_cli_cmd_keygen(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"out", true}, {"passphrase-file", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "keygen", spec, 0, argc, argv);
    if (mc_cli_require(&a, "keygen", "out")) return MC_CLI_USAGE;
    const char *out = mc_cli_arg(&a, "out");
    char *pass = NULL;
    if (mc_cli_passphrase_read(&pass, mc_cli_arg(&a, "passphrase-file"))) return MC_CLI_FAIL;
    struct mc_keypair *kp = sodium_malloc(sizeof *kp);
    if (!kp) {
        mc_cli_passphrase_free(pass);
        return mc_cli_error(MC_CLI_FAIL, "out of memory");
    }
    mc_keypair_generate(kp);
    mc_err_clear();
    int rc = mc_keyfile_write(out, kp, pass);
    mc_cli_passphrase_free(pass);
    char hex[2 * MC_PUBKEY_BYTES + 1];
    mc_hex_encode(hex, kp->pk.b, MC_PUBKEY_BYTES);
    sodium_free(kp);
    if (rc == MC_ERR_EXISTS) return mc_cli_error(MC_CLI_FAIL, "%s already exists; not overwriting it", out);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", out, mc_cli_detail(rc));
    printf("%s\n", hex);
    return MC_CLI_OK;
}

int mc_cli_cmd_verify(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"home", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "verify", spec, 0, argc, argv);
    if (mc_cli_require(&a, "verify", "home")) return MC_CLI_USAGE;
    const char *home = mc_cli_arg(&a, "home");
    char genesis_path[PATH_BYTES], db_path[PATH_BYTES];
    if (home_path(genesis_path, home, "genesis.json") ||
        home_path(db_path, home, "data/chain.db"))
        return MC_CLI_USAGE;
    if (access(db_path, R_OK) != 0)
        return mc_cli_error(MC_CLI_CANNOT_RUN, "cannot verify: %s: %s", db_path, strerror(errno));

    struct mc_genesis *g = sodium_malloc(sizeof *g);
    if (!g) return mc_cli_error(MC_CLI_CANNOT_RUN, "out of memory");
    mc_err_clear();
    int rc = mc_node_genesis_load(g, genesis_path);
    if (rc) {
        sodium_free(g);
        return mc_cli_error(MC_CLI_CANNOT_RUN, "cannot verify: genesis %s: %s", genesis_path,
                            mc_cli_detail(rc));
    }
    struct mc_store *store = NULL;
    mc_err_clear();
    rc = mc_store_open(&store, db_path, true);
    if (rc) {
        sodium_free(g);
        return mc_cli_error(MC_CLI_CANNOT_RUN, "cannot verify: cannot open %s: %s", db_path,
                            mc_cli_detail(rc));
    }
    struct mc_verify_report report;
    memset(&report, 0, sizeof report);
    mc_err_clear();
    /* One read snapshot for the whole check: a node may be committing blocks
     * meanwhile (WAL mode), and verify must see one consistent chain. */
    rc = mc_store_read_begin(store);
    if (!rc) {
        rc = mc_verify_chain(store, g, &report);
        mc_store_read_end(store);
    }
    mc_store_close(store);
    sodium_free(g);
    if (rc)
        return mc_cli_error(MC_CLI_CANNOT_RUN, "cannot verify %s: %s", db_path, mc_cli_detail(rc));
    if (report.ok != 1) {
        fflush(stdout);
        /* The verdict is the command's result: stdout, then the one error line. */
        printf("verify: FAILED at height %llu, %s: %s\n", (unsigned long long)report.bad_height,
               report.object[0] ? report.object : "?", report.detail[0] ? report.detail : "mismatch");
        fflush(stdout);
        return mc_cli_error(MC_CLI_FAIL, "verification failed at height %llu, %s: %s",
                            (unsigned long long)report.bad_height,
                            report.object[0] ? report.object : "?",
                            report.detail[0] ? report.detail : "mismatch");
    }
    if (report.from_height)
        printf("verify: state-synced at height %llu: the blocks below it are not held here and were not "
               "checked; block %llu's header and certificate, every later block and the state against the "
               "latest state root were\n",
               (unsigned long long)report.from_height, (unsigned long long)report.from_height);
    printf("verify: OK \u2014 %llu blocks, %llu transactions, %llu state rows checked\n",
           (unsigned long long)report.heights_checked, (unsigned long long)report.txs_checked,
           (unsigned long long)report.state_rows_checked);
    return MC_CLI_OK;
}

int mc_cli_cmd_testnet(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        {"validators", true}, {"dir", true}, {"members", false}, {"chain-id", true},
        {"api-port", true},   {"p2p-port", true},
    };
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "testnet", spec, 0, argc, argv);
    if (mc_cli_require(&a, "testnet", "validators") || mc_cli_require(&a, "testnet", "dir"))
        return MC_CLI_USAGE;
    char *end;
    unsigned long v = strtoul(mc_cli_arg(&a, "validators"), &end, 10);
    if (*end || v < 1 || v > 16) return mc_cli_error(MC_CLI_USAGE, "--validators must be 1 to 16");
    unsigned long api = 7700, p2p = 26600;
    if (mc_cli_arg(&a, "api-port")) {
        api = strtoul(mc_cli_arg(&a, "api-port"), &end, 10);
        if (*end || api < 1 || api > 65000) return mc_cli_error(MC_CLI_USAGE, "--api-port must be 1 to 65000");
    }
    if (mc_cli_arg(&a, "p2p-port")) {
        p2p = strtoul(mc_cli_arg(&a, "p2p-port"), &end, 10);
        if (*end || p2p < 1 || p2p > 65000) return mc_cli_error(MC_CLI_USAGE, "--p2p-port must be 1 to 65000");
    }
    struct mc_testnet_options opt = {.dir = mc_cli_arg(&a, "dir"), .validators = (uint32_t)v,
                                     .members = mc_cli_flag(&a, "members"),
                                     .chain_id = mc_cli_arg(&a, "chain-id"),
                                     .api_port = (uint16_t)api, .p2p_port = (uint16_t)p2p};
    static struct mc_testnet tn;
    mc_err_clear();
    int rc = mc_testnet_create(&opt, &tn);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "cannot create the testnet: %s", mc_cli_detail(rc));
    printf("testnet: %s (%u nodes)\n", opt.dir, tn.count);
    printf("genesis: %s/genesis.json\n", opt.dir);
    for (uint32_t i = 0; i < tn.count; i++)
        printf("%s: %-32s %-9s api http://%s  p2p %s\n   start: medchain node --home %s\n",
               tn.nodes[i].name, tn.nodes[i].org, tn.nodes[i].validator ? "validator" : "member",
               tn.nodes[i].api, tn.nodes[i].p2p, tn.nodes[i].home);
    printf("Each node's organisation admin key is in its home as admin_key.json.\n");
    return MC_CLI_OK;
}
