/* Test helpers (see testutil.h). */
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
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
    cr_assert_eq(mc_node_open(&t->node, t->home), 0, "open: %s", mc_err_detail());
    snprintf(t->chain_id, sizeof t->chain_id, "medchain-test");
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
