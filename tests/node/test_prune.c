/* Pruning ("keep_blocks" in config.json): a node keeps only the last K
 * blocks' transaction bytes. Its chain still verifies (certificates, links,
 * transaction roots from the kept log leaves, and its state against the
 * latest header's state root), every proof is still served (inclusion in
 * the log and in a pruned block's own tree, from the leaves), a pruned
 * block is answered "no block" to a syncing peer, the blob sweep refuses to
 * guess, and a changed byte is still caught. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "api/server.h"
#include "app/identity.h"
#include "base/hex.h"
#include "crypto/merkle.h"
#include "node/blockexec.h"
#include "node/verify.h"

#define KEEP 16
#define BLOCKS 24

static void set_keep(const char *home, int keep) {
    char *p = tu_path(home, "config.json");
    json_t *cfg = json_load_file(p, 0, NULL);
    cr_assert_not_null(cfg);
    json_object_set_new(cfg, "keep_blocks", json_integer(keep));
    cr_assert_eq(json_dump_file(cfg, p, JSON_INDENT(2)), 0);
    json_decref(cfg);
    free(p);
}

static struct mc_verify_report verify_db(const char *home, const struct mc_genesis *g) {
    char *db = tu_path(home, "data/chain.db");
    struct mc_store *s;
    cr_assert_eq(mc_store_open(&s, db, true), 0);
    struct mc_verify_report r;
    cr_assert_eq(mc_verify_chain(s, g, &r), 0, "%s", mc_err_detail());
    mc_store_close(s);
    free(db);
    return r;
}

TestSuite(prune);

Test(prune, pruned_node_verifies_and_serves_every_proof, .timeout = 120) {
    struct tu_node t;
    tu_node_start(&t, "prune");
    /* a value below the minimum is refused */
    tu_node_stop(&t);
    set_keep(t.home, 3);
    cr_assert_eq(mc_node_open(&t.node, t.home), MC_ERR_INVALID);
    set_keep(t.home, KEEP);
    cr_assert_eq(mc_node_open(&t.node, t.home), 0, "%s", mc_err_detail());
    mc_hash first = {{0}};
    uint64_t nonce = 0;
    for (int b = 0; b < BLOCKS; b++) {
        struct mc_keypair m;
        mc_keypair_generate(&m);
        uint8_t p[256];
        size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Auditor");
        size_t len;
        uint8_t *tx = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, ++nonce, p, pl);
        mc_hash id = tu_submit_ok(&t, tx, len);
        if (b == 0) first = id;
        free(tx);
        tu_commit(&t);
    }
    cr_assert_eq(tu_height(&t), BLOCKS);
    /* the bytes of blocks 1..8 are gone, their rows and leaves are not */
    char *db = tu_path(t.home, "data/chain.db");
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT count(*), sum(length(bytes) = 0) FROM txs WHERE height < ?", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int(st, 1, BLOCKS - KEEP + 1);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), BLOCKS - KEEP);
    cr_assert_eq(sqlite3_column_int(st, 1), BLOCKS - KEEP, "every transaction below the kept blocks is pruned");
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM txs WHERE height >= ? AND length(bytes) > 0", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int(st, 1, BLOCKS - KEEP + 1);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), KEEP, "the last %d blocks keep their bytes", KEEP);
    sqlite3_finalize(st);
    sqlite3_close(h);

    /* proofs over HTTP: the first (pruned) transaction and the last */
    struct mc_api *api;
    cr_assert_eq(mc_api_start(&api, t.node, "127.0.0.1", 0), 0, "%s", mc_err_detail());
    char url[256], hx[65];
    mc_hex_encode(hx, first.b, 32);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/proof/%s", mc_api_port(api), hx);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    tp_resp_free(&r);
    cr_assert(json_is_null(json_object_get(j, "tx_hex")), "a pruned transaction's bytes are not served");
    json_t *blk = json_object_get(j, "block");
    cr_assert_not_null(blk, "the proof in its own block's tree is still served");
    mc_hash leaf, root, path[64];
    cr_assert_eq(mc_hex_decode(leaf.b, 32, json_string_value(json_object_get(j, "leaf_hash"))), 0);
    cr_assert_eq(mc_hex_decode(root.b, 32, json_string_value(json_object_get(j, "root"))), 0);
    json_t *ap = json_object_get(j, "audit_path");
    for (size_t k = 0; k < json_array_size(ap); k++)
        cr_assert_eq(mc_hex_decode(path[k].b, 32, json_string_value(json_array_get(ap, k))), 0);
    cr_assert_eq(mc_merkle_verify_inclusion(&leaf, (uint64_t)json_integer_value(json_object_get(j, "leaf_index")),
                                            (uint64_t)json_integer_value(json_object_get(j, "tree_size")), path,
                                            json_array_size(ap), &root), 0, "the log proof of a pruned tx checks");
    json_decref(j);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/tx/%s", mc_api_port(api), hx);
    r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "\"pruned\": true") || strstr(r.body, "\"pruned\":true"), "%s", r.body);
    tp_resp_free(&r);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/block/2", mc_api_port(api));
    r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 200, "a pruned block's header and certificate are served: %s", r.body);
    tp_resp_free(&r);
    mc_api_stop(api);

    /* a syncing peer asking for a pruned block gets none */
    struct mc_buf hb, bb, cb;
    mc_buf_init(&hb, 0);
    mc_buf_init(&bb, MC_BLOCK_BYTES_MAX);
    mc_buf_init(&cb, 0);
    struct mc_store *s;
    cr_assert_eq(mc_store_open(&s, db, true), 0);
    cr_assert_eq(mc_blockexec_load(s, 2, &hb, &bb, &cb), MC_ERR_NOT_FOUND);
    mc_buf_reset(&hb);
    mc_buf_reset(&bb);
    mc_buf_reset(&cb);
    cr_assert_eq(mc_blockexec_load(s, BLOCKS, &hb, &bb, &cb), 0);
    mc_store_close(s);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&bb);
    mc_buf_deinit(&cb);
    /* the sweep will not guess which ciphertext the pruned anchors held */
    uint64_t found;
    cr_assert_eq(mc_node_blob_sweep(t.node, false, 0, NULL, NULL, &found), MC_ERR_STATE);

    struct mc_genesis g = *mc_node_genesis(t.node);
    tu_node_stop(&t);
    struct mc_verify_report vr = verify_db(t.home, &g);
    cr_assert(vr.ok, "a pruned chain verifies: %s %s", vr.object, vr.detail);
    cr_assert_eq(vr.heights_checked, BLOCKS);
    cr_assert_gt(vr.state_rows_checked, 0);
    /* ... and still catches a changed state row or a changed log leaf */
    const char *flips[] = {"UPDATE state SET value = value || x'00' WHERE key = (SELECT max(key) FROM state)",
                           "UPDATE log SET leaf = zeroblob(32) WHERE idx = 1"};
    for (size_t k = 0; k < 2; k++) {
        char *copy = tu_path(t.home, "copy.db");
        char *out;
        cr_assert_eq(tp_run(&out, "cp %s %s && sqlite3 %s \"%s\"", db, copy, copy, flips[k]), 0, "%s", out);
        free(out);
        cr_assert_eq(mc_store_open(&s, copy, true), 0);
        cr_assert_eq(mc_verify_chain(s, &g, &vr), 0);
        mc_store_close(s);
        cr_assert_not(vr.ok, "flip %zu went unnoticed on a pruned chain", k);
        cr_assert_eq(tp_run(&out, "rm -f %s %s-wal %s-shm", copy, copy, copy), 0);
        free(out);
        free(copy);
    }
    free(db);
}
