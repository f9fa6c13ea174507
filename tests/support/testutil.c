/* Test helpers (see testutil.h). */
#include "testutil.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/codec.h"
#include "base/hex.h"
#include "blob/s3.h"
#include "rgw.h"
#include "crypto/keyfile.h"
#include "app/identity_payload.h"
#include "app/txtypes.h"

void *tu_keep(void *p) {
    static void *kept[4096];
    static size_t n;
    if (n < sizeof kept / sizeof kept[0]) kept[n++] = p;
    return p;
}

char *tu_tmpdir(const char *tag) {
    char *p = malloc(256);
    snprintf(p, 256, "/tmp/medchain-test-%s-XXXXXX", tag);
    cr_assert_not_null(mkdtemp(p));
    return tu_keep(p);
}

char *tu_path(const char *dir, const char *name) {
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return tu_keep(p);
}

uint8_t *tu_tx(size_t *len, const char *chain_id, uint16_t type, const struct mc_keypair *kp,
               uint64_t nonce, const void *payload, size_t payload_len) {
    struct mc_tx tx = {.type = type, .sender = kp->pk, .nonce = nonce, .payload = payload,
                       .payload_len = payload_len};
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain_id);
    mc_tx_sign(&tx, kp);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_tx_encode(&b, &tx);
    cr_assert_eq(b.err, 0);
    return tu_keep(mc_buf_take(&b, len));
}

size_t tu_enroll_payload(uint8_t *out, const mc_pubkey *member, uint8_t role, const char *name) {
    struct mc_identity_payload p = {.type = MC_TX_ENROLL_MEMBER, .key = *member, .role = role};
    snprintf(p.name, sizeof p.name, "%s", name);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_identity_payload_encode(&b, &p), 0);
    memcpy(out, b.data, b.len);
    size_t n = b.len;
    mc_buf_deinit(&b);
    return n;
}

size_t tu_revoke_payload(uint8_t *out, const mc_pubkey *member, const char *reason) {
    struct mc_identity_payload p = {.type = MC_TX_REVOKE_MEMBER, .key = *member};
    snprintf(p.reason, sizeof p.reason, "%s", reason);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_identity_payload_encode(&b, &p), 0);
    memcpy(out, b.data, b.len);
    size_t n = b.len;
    mc_buf_deinit(&b);
    return n;
}

/* The gateway of this test process in S3 mode (see testutil.h); its
 * watchdog stops it when the process ends. */
static struct tp_rgw test_rgw;

void tu_node_start(struct tu_node *t, const char *tag) {
    mc_crypto_init();
    memset(t, 0, sizeof *t);
    t->home = tu_tmpdir(tag);
    char *home = tu_path(t->home, "node");
    free(t->home);
    t->home = home;
    struct mc_init_options opt = {.home = t->home, .chain_id = "medchain-test",
                                  .genesis_time_ms = 1764201600000ULL};
    cr_assert_eq(mc_node_init_home(&opt), 0, "init: %s", mc_err_detail());
    char *kp = tu_path(t->home, "admin_key.json");
    cr_assert_eq(mc_keyfile_read(&t->admin, kp, NULL), 0);
    free(kp);
    const char *be = getenv("MEDCHAIN_TEST_BLOBS");
    if (be && strcmp(be, "s3") == 0) {
        static int nodes;
        if (!test_rgw.dir[0]) tp_rgw_start(&test_rgw);
        snprintf(t->s3_bucket, sizeof t->s3_bucket, "node-%ld-%d", (long)getpid(), nodes++);
        tp_rgw_configure_node(&test_rgw, t->home, t->s3_bucket);
    }
    cr_assert_eq(mc_node_open(&t->node, t->home), 0, "open: %s", mc_err_detail());
    snprintf(t->chain_id, sizeof t->chain_id, "medchain-test");
}

void tu_blob_corrupt(struct tu_node *t) {
    char *db = tu_path(t->home, "data/chain.db");
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(db, &s), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    free(db);
    if (!t->s3_bucket[0]) {
        cr_assert_eq(sqlite3_exec(s, "UPDATE blobs SET bytes = CAST(substr(bytes,1,30) || "
                                     "CASE WHEN substr(bytes,31,1)=x'00' THEN x'01' ELSE x'00' END || "
                                     "substr(bytes,32) AS BLOB) WHERE purged=0", NULL, NULL, NULL),
                     SQLITE_OK);
        sqlite3_close(s);
        return;
    }
    struct mc_s3_config cfg;
    tp_rgw_config(&test_rgw, &cfg, t->s3_bucket);
    struct mc_s3 *s3;
    cr_assert_eq(mc_s3_open(&s3, &cfg), 0);
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_prepare_v2(s, "SELECT id FROM s3_blobs WHERE state IN (0, 1)", -1, &q, NULL), SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
        char key[65];
        mc_hex_encode(key, sqlite3_column_blob(q, 0), 32);
        struct mc_buf b;
        mc_buf_init(&b, 0);
        cr_assert_eq(mc_s3_get(s3, key, &b, MC_BLOB_MAX), 0, "%s", mc_err_detail());
        cr_assert_gt(b.len, 31);
        b.data[30] ^= 1;
        mc_hash h;
        mc_sha256(&h, b.data, b.len);
        cr_assert_eq(mc_s3_put(s3, key, b.data, b.len, &h), 0, "%s", mc_err_detail());
        mc_buf_deinit(&b);
    }
    sqlite3_finalize(q);
    sqlite3_close(s);
    mc_s3_close(s3);
}

void tu_node_stop(struct tu_node *t) {
    mc_node_close(t->node);
    t->node = NULL;
}

mc_hash tu_submit_ok(struct tu_node *t, const uint8_t *bytes, size_t len) {
    mc_hash id;
    int rc = mc_node_submit(t->node, bytes, len, &id);
    cr_assert_eq(rc, 0, "submit refused: %s (%s)", mc_err_name(rc), mc_err_detail());
    return id;
}

void tu_commit(struct tu_node *t) {
    cr_assert_eq(mc_node_commit_pending(t->node), 0, "commit: %s", mc_err_detail());
}

uint64_t tu_height(struct tu_node *t) {
    struct mc_node_status st;
    mc_node_status(t->node, &st);
    return st.height;
}
