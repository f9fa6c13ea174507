/* `medchain blobs sweep`: lists (and with --remove deletes) the orphans of
 * a stopped node's blob store (node.h, mc_node_blob_sweep). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/hex.h"
#include "cli/cli.h"
#include "node/node.h"

#define SWEEP_GRACE_DEFAULT_S 3600

static void print_orphan(void *ctx, const mc_hash *id, const char *what, bool removed) {
    (void)ctx;
    char hx[65];
    mc_hex_encode(hx, id->b, 32);
    printf("orphan: %s %s%s\n", hx, what, removed ? " removed" : "");
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
    char lock_path[4096];
    if (snprintf(lock_path, sizeof lock_path, "%s/node.pid", home) >= (int)sizeof lock_path)
        return mc_cli_error(MC_CLI_USAGE, "home path is too long");
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return mc_cli_error(MC_CLI_FAIL, "cannot open %s", lock_path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return mc_cli_error(MC_CLI_FAIL, "the node on %s is running; stop it before sweeping", home);
    }
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
