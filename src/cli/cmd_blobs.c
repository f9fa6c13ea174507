/* `medchain blobs sweep`: lists (and with --remove deletes) the orphans of
 * a stopped node's blob store (node.h, mc_node_blob_sweep).
 * `medchain blobs migrate`: moves a stopped node's ciphertext from its
 * SQLite table into the store its config.json names (blob.h,
 * mc_blob_migrate). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/hex.h"
#include "blob/blob.h"
#include "cli/cli.h"
#include "node/node.h"

#define SWEEP_GRACE_DEFAULT_S 3600

static void print_orphan(void *ctx, const mc_hash *id, const char *what, bool removed) {
    (void)ctx;
    char hx[65];
    mc_hex_encode(hx, id->b, 32);
    /* a partial upload has no id yet (all zero) */
    bool none = true;
    for (int i = 0; i < 32; i++) none = none && id->b[i] == 0;
    printf("orphan: %s %s%s\n", none ? "(upload)" : hx, what, removed ? " removed" : "");
}

/* Holds HOME/node.pid locked (the node must be stopped); the descriptor,
 * or -1 after printing the error. */
static int lock_stopped_home(const char *home, const char *what) {
    char lock_path[4096];
    if (snprintf(lock_path, sizeof lock_path, "%s/node.pid", home) >= (int)sizeof lock_path) {
        mc_cli_error(MC_CLI_USAGE, "home path is too long");
        return -1;
    }
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        mc_cli_error(MC_CLI_FAIL, "cannot open %s", lock_path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        mc_cli_error(MC_CLI_FAIL, "the node on %s is running; stop it before %s", home, what);
        return -1;
    }
    return fd;
}

static void print_migrated(void *ctx, const mc_hash *id, const char *what) {
    (void)ctx;
    char hx[65];
    mc_hex_encode(hx, id->b, 32);
    printf("blob: %s %s\n", hx, what);
}

int mc_cli_cmd_blobs_migrate(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"home", true}, {"drop-local", false}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "blobs migrate", spec, 0, argc, argv);
    if (mc_cli_require(&a, "blobs migrate", "home")) return MC_CLI_USAGE;
    const char *home = mc_cli_arg(&a, "home");
    int fd = lock_stopped_home(home, "migrating");
    if (fd < 0) return MC_CLI_FAIL;
    char db[4096];
    snprintf(db, sizeof db, "%s/data/chain.db", home);
    struct mc_blob_store *bs = NULL;
    mc_err_clear();
    int rc = mc_blob_open_home(&bs, home, db);
    if (rc) {
        close(fd);
        return mc_cli_error(MC_CLI_FAIL, "cannot open the blob store of %s: %s", home, mc_cli_detail(rc));
    }
    struct mc_blob_status st;
    mc_blob_status(bs, &st);
    if (strcmp(st.backend, "s3") != 0) {
        mc_blob_close(bs);
        close(fd);
        return mc_cli_error(MC_CLI_USAGE, "%s/config.json keeps blobs in SQLite: set \"blob_store\" to the "
                                          "S3 store first (docs/BLOBS.md)", home);
    }
    struct mc_blob_migration m;
    mc_err_clear();
    rc = mc_blob_migrate(bs, db, mc_cli_flag(&a, "drop-local"), print_migrated, NULL, &m);
    mc_blob_close(bs);
    close(fd);
    printf("moved: %llu\nalready there: %llu\nerased: %llu\ndamaged: %llu\nlocal copies: %s\n",
           (unsigned long long)m.moved, (unsigned long long)m.present, (unsigned long long)m.erased,
           (unsigned long long)m.damaged, m.dropped ? "dropped" : "kept");
    if (rc) return mc_cli_error(MC_CLI_FAIL, "migration stopped (run it again to resume): %s", mc_cli_detail(rc));
    if (m.damaged)
        return mc_cli_error(MC_CLI_FAIL, "%llu local copies do not match their hash and were not moved; the node "
                                         "fetches them from peers when read", (unsigned long long)m.damaged);
    return MC_CLI_OK;
}

int mc_cli_cmd_blobs_sweep(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"home", true}, {"remove", false}, {"grace", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "blobs sweep", spec, 0, argc, argv);
    if (mc_cli_require(&a, "blobs sweep", "home")) return MC_CLI_USAGE;
    const char *home = mc_cli_arg(&a, "home");
    uint64_t grace = SWEEP_GRACE_DEFAULT_S;
    const char *g = mc_cli_arg(&a, "grace");
    if (g && (!mc_cli_parse_u64(g, &grace) || grace > 365ull * 86400))
        return mc_cli_error(MC_CLI_USAGE, "--grace is a number of seconds (at most a year)");
    /* the node must be stopped: it holds node.pid locked while it runs */
    int fd = lock_stopped_home(home, "sweeping");
    if (fd < 0) return MC_CLI_FAIL;
    struct mc_node *n = NULL;
    mc_err_clear();
    int rc = mc_node_open(&n, home);
    if (rc) {
        close(fd);
        return mc_cli_error(MC_CLI_FAIL, "cannot open node at %s: %s", home, mc_cli_detail(rc));
    }
    uint64_t found = 0;
    bool remove = mc_cli_flag(&a, "remove");
    mc_err_clear();
    rc = mc_node_blob_sweep(n, remove, grace, print_orphan, NULL, &found);
    mc_node_close(n);
    close(fd);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "sweep stopped: %s", mc_cli_detail(rc));
    printf("orphans: %llu%s\n", (unsigned long long)found, found ? (remove ? " removed" : " (kept; --remove deletes them)") : "");
    return MC_CLI_OK;
}
