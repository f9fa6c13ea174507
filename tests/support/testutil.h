/* Helpers shared by the tests: temporary folders, a node driven in-process,
 * transaction builders. */
#ifndef MC_TESTS_TESTUTIL_H
#define MC_TESTS_TESTUTIL_H

#include <stdint.h>

#include "app/txtypes.h"
#include "chain/tx.h"
#include "crypto/sign.h"
#include "node/node.h"

/* Keeps p reachable until the test process exits (so a test need not free
 * what the helpers below hand out, and LeakSanitizer still sees every leak
 * of the library under test). Returns p. */
void *tu_keep(void *p);
/* mkdtemp under /tmp; returns a malloc'd path kept by tu_keep. */
char *tu_tmpdir(const char *tag);
/* Path join into a malloc'd string. */
char *tu_path(const char *dir, const char *name);

/* Builds and signs a transaction; returns malloc'd bytes. */
uint8_t *tu_tx(size_t *len, const char *chain_id, uint16_t type, const struct mc_keypair *kp,
               uint64_t nonce, const void *payload, size_t payload_len);
/* Payload builders. */
size_t tu_enroll_payload(uint8_t *out, const mc_pubkey *member, uint8_t role, const char *name);
size_t tu_revoke_payload(uint8_t *out, const mc_pubkey *member, const char *reason);

/* An in-process node with its admin key loaded. With MEDCHAIN_TEST_BLOBS=s3
 * in the environment (make test-s3) its blob store is a bucket of its own
 * on a throwaway RADOS Gateway (one per test process, tests/support/rgw.h)
 * instead of SQLite. */
struct tu_node {
    char *home;
    struct mc_node *node;
    struct mc_keypair admin;
    char chain_id[MC_CHAIN_ID_MAX + 1];
    char s3_bucket[64];   /* "" on SQLite */
};
void tu_node_start(struct tu_node *t, const char *tag);
/* Flips a byte of every blob the node stores, in its database or bucket,
 * keeping each under its id (the store's hash check must catch it). */
void tu_blob_corrupt(struct tu_node *t);
void tu_node_stop(struct tu_node *t);
/* Submits and asserts acceptance; returns the id. */
mc_hash tu_submit_ok(struct tu_node *t, const uint8_t *bytes, size_t len);
void tu_commit(struct tu_node *t);
uint64_t tu_height(struct tu_node *t);

#endif
