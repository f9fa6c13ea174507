/* The node's own transactions (access entries, refusal entries) never
 * block each other: one its block would reject is refused at once and
 * takes no nonce; one rejected anyway (a proposer that ordered the block
 * differently) does not strand the nonces behind it. And a nonce gap waits
 * apart from the executable transactions, so it cannot make a proposer cut
 * blocks. Driven in-process through the node's API. */
#include <criterion/criterion.h>
#include <string.h>

#include "../support/testutil.h"
#include "app/records.h"
#include "base/codec.h"
#include "node/mempool.h"
#include "node/node_internal.h"

/* An access entry: outcome REFUSED is always loggable; outcome SUCCESS
 * without the requester's signature is one its block rejects. */
static size_t access_payload(uint8_t *out, size_t cap, const mc_pubkey *requester, uint8_t outcome,
                             const char *reason) {
    static const mc_pubkey zero;
    struct mc_buf p;
    mc_buf_init(&p, 0);
    mc_enc_fixed(&p, zero.b, 32);
    mc_enc_str8(&p, "");
    mc_enc_u32(&p, 0);
    mc_enc_fixed(&p, requester->b, 32);
    mc_enc_u8(&p, MC_ACTION_READ);
    mc_enc_u8(&p, 0);
    mc_enc_u8(&p, outcome);
    mc_enc_u16(&p, outcome == MC_OUTCOME_SUCCESS ? 200 : 403);
    mc_enc_str16(&p, reason);
    mc_enc_bytes16(&p, (const uint8_t *)"", 0);
    mc_enc_bytes8(&p, (const uint8_t *)"", 0);
    cr_assert(!p.err && p.len <= cap);
    memcpy(out, p.data, p.len);
    size_t n = p.len;
    mc_buf_deinit(&p);
    return n;
}

static enum mc_tx_state state_of(struct tu_node *t, const mc_hash *id) {
    struct mc_tx_status st;
    cr_assert_eq(mc_node_tx_status(t->node, id, &st, NULL), 0);
    return st.state;
}

static uint32_t ready_count(struct tu_node *t) {
    mc_node__lock(t->node);
    uint32_t k = mc_mempool_size(t->node->pool);
    mc_node__unlock(t->node);
    return k;
}

/* Node transactions pending back to back: the one that cannot execute is
 * refused when submitted (a read that needed it is then refused), and the
 * ones before and after it commit. Today's failure: it was admitted without
 * execution, rejected in its block, and every later node nonce stranded. */
Test(node_txs, rejected_entry_refused_and_later_ones_commit, .timeout = 60) {
    struct tu_node t;
    tu_node_start(&t, "nodetx");
    struct mc_keypair reader;
    mc_keypair_generate(&reader);
    uint8_t ok1[512], bad[512], ok2[512], ok3[512];
    size_t l1 = access_payload(ok1, sizeof ok1, &reader.pk, MC_OUTCOME_REFUSED, "first");
    size_t lb = access_payload(bad, sizeof bad, &reader.pk, MC_OUTCOME_SUCCESS, "unsigned read");
    size_t l2 = access_payload(ok2, sizeof ok2, &reader.pk, MC_OUTCOME_REFUSED, "second");
    size_t l3 = access_payload(ok3, sizeof ok3, &reader.pk, MC_OUTCOME_REFUSED, "third");
    mc_hash id1, idb, id2, id3;
    cr_assert_eq(mc_node_submit_signed(t.node, MC_TX_RECORD_ACCESS, ok1, l1, &id1), 0, "%s", mc_err_detail());
    int rc = mc_node_submit_signed(t.node, MC_TX_RECORD_ACCESS, bad, lb, &idb);
    cr_expect_neq(rc, 0, "an entry its block would reject is refused at once");
    cr_assert_eq(mc_node_submit_signed(t.node, MC_TX_RECORD_ACCESS, ok2, l2, &id2), 0, "%s", mc_err_detail());
    tu_commit(&t);
    cr_expect_eq(state_of(&t, &id1), MC_TX_COMMITTED);
    cr_expect_eq(state_of(&t, &id2), MC_TX_COMMITTED, "the entry after the bad one is not stranded");
    cr_assert_eq(mc_node_submit_signed(t.node, MC_TX_RECORD_ACCESS, ok3, l3, &id3), 0,
                 "later entries are still admitted: %s", mc_err_detail());
    tu_commit(&t);
    cr_expect_eq(state_of(&t, &id3), MC_TX_COMMITTED);
    struct mc_node_status st;
    mc_node_status(t.node, &st);
    cr_expect_eq(st.mempool_size, 0, "nothing left behind");
    tu_node_stop(&t);
}

/* A node transaction rejected by its block anyway (here the proposer drops
 * it the way a block build does; in a cluster another proposer may order a
 * block so that it fails): the node's later transactions are re-signed
 * with the freed nonces and commit, and a status lookup of a re-signed one
 * follows it to its replacement. */
Test(node_txs, rejection_in_block_does_not_strand_later_nonces, .timeout = 60) {
    struct tu_node t;
    tu_node_start(&t, "nodetx-strand");
    struct mc_keypair reader;
    mc_keypair_generate(&reader);
    uint8_t p[3][512];
    size_t l[3];
    mc_hash id[3];
    for (int i = 0; i < 3; i++) {
        char why[32];
        snprintf(why, sizeof why, "entry %d", i);
        l[i] = access_payload(p[i], sizeof p[i], &reader.pk, MC_OUTCOME_REFUSED, why);
        cr_assert_eq(mc_node_submit_signed(t.node, MC_TX_RECORD_ACCESS, p[i], l[i], &id[i]), 0, "%s",
                     mc_err_detail());
    }
    /* What a block build does with a transaction that fails in it. */
    mc_node__lock(t.node);
    mc_mempool_note_rejected(t.node->pool, &id[1], MC_ERR_INVALID, "rejected by its block");
    mc_mempool_remove(t.node->pool, &id[1]);
    mc_node__unlock(t.node);
    tu_commit(&t);
    tu_commit(&t);
    cr_expect_eq(state_of(&t, &id[0]), MC_TX_COMMITTED);
    cr_expect_eq(state_of(&t, &id[1]), MC_TX_REJECTED);
    cr_expect_eq(state_of(&t, &id[2]), MC_TX_COMMITTED,
                 "the entry behind the rejected one commits (re-signed)");
    mc_hash id4;
    cr_assert_eq(mc_node_submit_signed(t.node, MC_TX_RECORD_ACCESS, p[1], l[1], &id4), 0,
                 "the node can still log: %s", mc_err_detail());
    tu_commit(&t);
    cr_expect_eq(state_of(&t, &id4), MC_TX_COMMITTED);
    struct mc_node_status st;
    mc_node_status(t.node, &st);
    cr_expect_eq(st.mempool_size, 0);
    tu_node_stop(&t);
}

/* A transaction with a nonce gap is pending but not executable: the block
 * producer is not handed it (so a validator has nothing to cut a block
 * for), and once the gap closes both commit in nonce order. */
Test(node_txs, gapped_transaction_is_not_executable, .timeout = 60) {
    struct tu_node t;
    tu_node_start(&t, "nodetx-gap");
    struct mc_keypair a, b;
    mc_keypair_generate(&a);
    mc_keypair_generate(&b);
    uint8_t p1[256], p3[256];
    size_t l1 = tu_enroll_payload(p1, &a.pk, MC_ROLE_AUDITOR, "A");
    size_t l3 = tu_enroll_payload(p3, &b.pk, MC_ROLE_AUDITOR, "B");
    size_t n1, n3;
    uint8_t *t1 = tu_tx(&n1, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, 1, p1, l1);
    uint8_t *t3 = tu_tx(&n3, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, 3, p3, l3);
    mc_hash i3 = tu_submit_ok(&t, t3, n3);
    cr_expect_eq(state_of(&t, &i3), MC_TX_PENDING);
    cr_expect_eq(ready_count(&t), 0, "a gapped transaction is not offered to the block producer");
    mc_hash i1 = tu_submit_ok(&t, t1, n1);
    cr_expect_eq(ready_count(&t), 1, "the gap (nonce 2) is still open");
    tu_commit(&t);
    cr_expect_eq(state_of(&t, &i1), MC_TX_COMMITTED);
    cr_expect_eq(state_of(&t, &i3), MC_TX_PENDING);
    free(t1);
    free(t3);
    tu_node_stop(&t);
}
