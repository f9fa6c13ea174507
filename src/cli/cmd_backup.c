/* `medchain backup` and `medchain restore` (node/backup.h). */
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "cli/cli.h"
#include "node/backup.h"

int mc_cli_cmd_backup(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"home", true}, {"out", true}, {"no-key", false}};
    static const char words[] = "backup";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "home") || mc_cli_require(&a, words, "out")) return MC_CLI_USAGE;
    struct mc_backup_info info;
    mc_err_clear();
    int rc = mc_backup_take(mc_cli_arg(&a, "home"), mc_cli_arg(&a, "out"), !mc_cli_flag(&a, "no-key"), &info);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "backup failed: %s", mc_cli_detail(rc));
    char hx[65];
    mc_hex_encode(hx, info.block_hash.b, 32);
    printf("backup: %s\nheight: %llu\nblock_hash: %s\n", mc_cli_arg(&a, "out"), (unsigned long long)info.height, hx);
    mc_hex_encode(hx, info.state_root.b, 32);
    printf("state_root: %s\nfiles: %u\nbytes: %llu\nnode_key: %s\n", hx, info.files,
           (unsigned long long)info.bytes, info.with_key ? "included (keep this backup secret)" : "left out");
    return MC_CLI_OK;
}

int mc_cli_cmd_restore(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"from", true}, {"home", true}};
    static const char words[] = "restore";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "from") || mc_cli_require(&a, words, "home")) return MC_CLI_USAGE;
    struct mc_backup_info info;
    struct mc_verify_report r;
    mc_err_clear();
    int rc = mc_backup_restore(mc_cli_arg(&a, "from"), mc_cli_arg(&a, "home"), &info, &r);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "restore failed: %s", mc_cli_detail(rc));
    char hx[65];
    mc_hex_encode(hx, info.block_hash.b, 32);
    printf("restored: %s\nheight: %llu\nblock_hash: %s\n", mc_cli_arg(&a, "home"), (unsigned long long)info.height, hx);
    printf("verified: %llu heights, %llu transactions, %llu state rows\n", (unsigned long long)r.heights_checked,
           (unsigned long long)r.txs_checked, (unsigned long long)r.state_rows_checked);
    printf("node_key: %s\n", info.with_key ? "restored" : "not in the backup: put this node's node_key.json in the home");
    printf("next: start the node; it fetches the blocks committed since from its peers\n");
    return MC_CLI_OK;
}
