/* Blocks and certificates are judged against the validator set of their
 * own height (node/blockexec.h): a consortium of four validators admits a
 * fifth by governance; from the height the new set is in force, a block
 * that names the old set is refused, and a certificate that would have been
 * a quorum of the old set but is not one of the new set is refused, while
 * the honest block and certificate commit. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/testutil.h"
#include "app/governance_payload.h"
#include "chain/store.h"
#include "node/blockexec.h"

#define CHAIN "medchain-bx"
#define T0 1764201600000ULL

struct bx {
    struct mc_genesis *g;
    struct mc_store *store;
    struct mc_app *app;
    struct mc_chain_head head;
    struct mc_keypair admin[5], val[5];
    uint64_t nonce[5];
};

static void bx_start(struct bx *b) {
    memset(b, 0, sizeof *b);
    mc_crypto_init();
    struct mc_genesis *g = calloc(1, sizeof *g);
    snprintf(g->chain_id, sizeof g->chain_id, CHAIN);
    g->time_ms = T0;
    for (uint32_t i = 0; i < 4; i++) {
        mc_keypair_generate(&b->admin[i]);
        mc_keypair_generate(&b->val[i]);
        struct mc_org *o = &g->orgs[g->org_count++];
        o->id = i + 1;
        snprintf(o->name, sizeof o->name, "Org %u", i + 1);
        o->kind = MC_ORG_HOSPITAL;
        o->admin = b->admin[i].pk;
        char name[16];
        snprintf(name, sizeof name, "val%u", i);
        cr_assert_eq(mc_valset_add(&g->valset, &b->val[i].pk, 10, name), 0);
        g->validator_org[i] = i + 1;
    }
    mc_keypair_generate(&b->val[4]);
    char *json = mc_genesis_to_json(g);
    b->g = tu_keep(calloc(1, sizeof *b->g));
    cr_assert_eq(mc_genesis_parse(b->g, json, strlen(json)), 0, "%s", mc_err_detail());
    free(json);
    free(g);
    char *path = tu_path(tu_tmpdir("bx"), "chain.db");
    cr_assert_eq(mc_store_open(&b->store, path, false), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_blockexec_app_open(&b->app, b->store, b->g), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_blockexec_head_load(&b->head, b->store, b->g), 0);
}

static void bx_stop(struct bx *b) {
    mc_app_close(b->app);
    mc_store_close(b->store);
}

/* A certificate for candidate c signed by the validators whose key is in
 * val[] and bit set in who, indexed in set vs. */
static void certify(struct bx *b, const struct mc_valset *vs, const struct mc_candidate *c, unsigned who,
                    struct mc_commit *cert) {
    mc_commit_init(cert, c->header.height, 0, &c->hash);
    for (int i = 0; i < 5; i++) {
        int idx = mc_valset_find(vs, &b->val[i].pk);
        if (idx < 0 || !(who & (1u << i))) continue;
        struct mc_vote v = {.type = MC_VOTE_PRECOMMIT, .height = c->header.height, .round = 0,
                            .has_block = true, .block_hash = c->hash, .validator = (uint16_t)idx};
        mc_vote_sign(&v, &b->val[i], CHAIN);
        cr_assert_eq(mc_commit_add(cert, &v), 0);
    }
}

/* Builds the next block from the given transactions, certifies it by all
 * validators of its height and commits it. */
static void next_block(struct bx *b, uint8_t **txs, size_t *lens, uint32_t n) {
    struct mc_gov_valset vs;
    cr_assert_eq(mc_app_valset_at(b->app, b->head.height + 1, &vs), 0);
    struct mc_tx_ref refs[8];
    for (uint32_t i = 0; i < n; i++) refs[i] = (struct mc_tx_ref){txs[i], lens[i]};
    struct mc_candidate c;
    cr_assert_eq(mc_blockexec_build(b->app, b->g, &b->head, &vs.vs.v[0].pk, T0 + (b->head.height + 1) * 1000,
                                    refs, n, NULL, NULL, &c), 0, "%s", mc_err_detail());
    cr_assert_eq(c.header.tx_count, n, "every transaction went in");
    struct mc_commit *cert = calloc(1, sizeof *cert);
    certify(b, &vs.vs, &c, 0x1f, cert);
    cr_assert_eq(mc_blockexec_commit(b->store, b->app, b->g, &b->head, &c, cert, NULL, NULL), 0, "%s",
                 mc_err_detail());
    free(cert);
    mc_blockexec_candidate_deinit(&c);
    for (uint32_t i = 0; i < n; i++) free(txs[i]);
}

static uint8_t *gov_tx(struct bx *b, int admin, const struct mc_gov_payload *p, size_t *len) {
    struct mc_buf buf;
    mc_buf_init(&buf, 0);
    cr_assert_eq(mc_gov_payload_encode(&buf, p), 0);
    uint8_t *tx = tu_tx(len, CHAIN, p->type, &b->admin[admin], ++b->nonce[admin], buf.data, buf.len);
    mc_buf_deinit(&buf);
    return tx;
}

Test(blockexec_valset, blocks_and_certificates_are_judged_by_the_set_of_their_height) {
    struct bx b;
    bx_start(&b);
    /* Block 1: org 1 proposes val4 (power 10) for org 1; block 2: three votes. */
    struct mc_gov_payload p = {.type = MC_TX_GOV_PROPOSE, .deadline = 3, .activation = 4};
    p.change.kind = MC_GOV_ADD_VALIDATOR;
    p.change.org = 1;
    p.change.key = b.val[4].pk;
    p.change.power = 10;
    snprintf(p.change.name, sizeof p.change.name, "val4");
    uint8_t *txs[4];
    size_t lens[4];
    txs[0] = gov_tx(&b, 0, &p, &lens[0]);
    next_block(&b, txs, lens, 1);
    for (int i = 0; i < 3; i++) {
        struct mc_gov_payload v = {.type = MC_TX_GOV_VOTE, .proposal = 1, .approve = true};
        txs[i] = gov_tx(&b, i, &v, &lens[i]);
    }
    next_block(&b, txs, lens, 3);
    /* Blocks 3, 4 (activation), 5: the old set; 6: the new one. */
    for (int h = 3; h <= 5; h++) next_block(&b, txs, lens, 0);
    struct mc_gov_valset old_set, new_set;
    cr_assert_eq(mc_app_valset_at(b.app, 5, &old_set), 0);
    cr_assert_eq(mc_app_valset_at(b.app, 6, &new_set), 0);
    cr_assert_eq(old_set.vs.count, 4);
    cr_assert_eq(new_set.vs.count, 5);

    /* A block 6 naming the old set is refused. */
    struct mc_candidate c;
    cr_assert_eq(mc_blockexec_build(b.app, b.g, &b.head, &b.val[0].pk, T0 + 6000, NULL, 0, NULL, NULL, &c), 0);
    struct mc_header forged = c.header;
    mc_valset_hash(&old_set.vs, &forged.valset_hash);
    struct mc_buf hb;
    mc_buf_init(&hb, 0);
    mc_header_encode(&hb, &forged);
    struct mc_candidate bad;
    cr_assert_eq(mc_blockexec_candidate_from_bytes(&bad, hb.data, hb.len, c.body_bytes.data, c.body_bytes.len), 0);
    mc_buf_deinit(&hb);
    cr_assert_eq(mc_blockexec_validate(b.app, b.g, &b.head, &bad, 0, NULL, NULL), MC_ERR_INVALID);
    cr_assert(strstr(mc_err_detail(), "another validator set than the one of height 6"), "%s", mc_err_detail());
    mc_blockexec_candidate_deinit(&bad);
    cr_assert_eq(mc_blockexec_validate(b.app, b.g, &b.head, &c, 0, NULL, NULL), 0, "%s", mc_err_detail());

    /* Three old validators: 30 of 40 was a quorum, 30 of 50 is not. */
    struct mc_commit *cert = calloc(1, sizeof *cert);
    certify(&b, &new_set.vs, &c, 0x07, cert);
    cr_assert_eq(mc_blockexec_commit(b.store, b.app, b.g, &b.head, &c, cert, NULL, NULL), MC_ERR_INVALID);
    cr_assert_eq(b.head.height, 5, "nothing was stored");
    /* With the newcomer's precommit (40 of 50) it commits. */
    certify(&b, &new_set.vs, &c, 0x17, cert);
    cr_assert_eq(mc_blockexec_commit(b.store, b.app, b.g, &b.head, &c, cert, NULL, NULL), 0, "%s", mc_err_detail());
    cr_assert_eq(b.head.height, 6);
    mc_blockexec_candidate_deinit(&c);

    /* Block 7 carries block 6's certificate: judged by the set of 6. */
    cr_assert_eq(mc_blockexec_build(b.app, b.g, &b.head, &b.val[4].pk, T0 + 7000, NULL, 0, NULL, NULL, &c), 0);
    cr_assert_eq(mc_blockexec_validate(b.app, b.g, &b.head, &c, 0, NULL, NULL), 0, "%s", mc_err_detail());
    mc_blockexec_candidate_deinit(&c);
    free(cert);
    bx_stop(&b);
}
