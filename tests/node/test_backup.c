/* Backup and restore (node/backup.h) of an open node: the copy restores to
 * a home that verifies at the backed-up height; a backup whose database
 * was changed and whose manifest was made to match is still refused by the
 * chain's verification, and leaves no home behind; a second backup into an
 * existing folder is refused. (The cluster test backs up a validator under
 * load and rejoins it.) */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "app/identity.h"
#include "base/hex.h"
#include "node/backup.h"

TestSuite(backup);

Test(backup, restores_verified_and_refuses_a_changed_chain, .timeout = 60) {
    struct tu_node t;
    tu_node_start(&t, "backup");
    uint64_t nonce = 0;
    for (int b = 0; b < 5; b++) {
        struct mc_keypair m;
        mc_keypair_generate(&m);
        uint8_t p[256];
        size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Auditor");
        size_t len;
        uint8_t *tx = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, ++nonce, p, pl);
        tu_submit_ok(&t, tx, len);
        free(tx);
        tu_commit(&t);
    }
    char *bk = tu_path(t.home, "../bk");
    struct mc_backup_info info;
    cr_assert_eq(mc_backup_take(t.home, bk, true, &info), 0, "%s", mc_err_detail());
    cr_assert_eq(info.height, 5);
    cr_assert(info.with_key);
    cr_assert_eq(mc_backup_take(t.home, bk, true, &info), MC_ERR_EXISTS);
    tu_node_stop(&t);

    char *home2 = tu_path(t.home, "../restored");
    struct mc_verify_report r;
    cr_assert_eq(mc_backup_restore(bk, home2, &info, &r), 0, "%s", mc_err_detail());
    cr_assert(r.ok);
    cr_assert_eq(info.height, 5);
    cr_assert_eq(r.heights_checked, 5);
    struct mc_node *n;
    cr_assert_eq(mc_node_open(&n, home2), 0, "the restored home opens: %s", mc_err_detail());
    mc_node_close(n);

    /* A changed state row, with the manifest rewritten to match. */
    char *out;
    cr_assert_eq(tp_run(&out, "cd %s && sqlite3 data/chain.db \"UPDATE state SET value = value || x'00' "
                              "WHERE key = (SELECT max(key) FROM state)\"", bk), 0, "%s", out);
    free(out);
    cr_assert_eq(tp_run(&out, "cd %s && sha256sum data/chain.db | cut -c1-64", bk), 0);
    out[64] = 0;
    char *mp = tu_path(bk, "backup.json");
    json_t *m = json_load_file(mp, 0, NULL);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(m, "files"), i, f)
        if (strcmp(json_string_value(json_object_get(f, "path")), "data/chain.db") == 0)
            json_object_set_new(f, "sha256", json_string(out));
    cr_assert_eq(json_dump_file(m, mp, 0), 0);
    json_decref(m);
    free(out);
    char *home3 = tu_path(t.home, "../refused");
    cr_assert_eq(mc_backup_restore(bk, home3, &info, &r), MC_ERR_TAMPERED);
    cr_assert(strstr(mc_err_detail(), "does not verify"), "%s", mc_err_detail());
    struct stat st;
    cr_assert_neq(stat(home3, &st), 0, "a refused restore leaves no home");
    free(home3);
    free(mp);
    free(home2);
    free(bk);
}
