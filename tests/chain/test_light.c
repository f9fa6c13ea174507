/* The light client (chain/light.h): a header is believed only with a
 * certificate of more than 2/3 of the trusted validators' power whose every
 * signature verifies, and a state answer only with a proof that leads to
 * that header's state root. A node that hides a recall row cannot make the
 * light client accept "not recalled": not with the honest header (the
 * proof leads elsewhere), not with a header of its own (it cannot gather the
 * signatures). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/state.h"
#include "app/supply.h"
#include "chain/commit.h"
#include "chain/light.h"
#include "chain/smt.h"
#include "chain/stateproof.h"
#include "../support/memkv.h"

#define CHAIN "medchain-light"
#define NV 4

static struct mc_keypair keys[NV];
static struct mc_valset vs;
static struct mc_light lc;
static mc_hash genesis;

static void setup(void) {
    mc_crypto_init();
    memset(&vs, 0, sizeof vs);
    for (int i = 0; i < NV; i++) {
        uint8_t seed[MC_SEED_BYTES];
        memset(seed, 0x40 + i, sizeof seed);
        mc_keypair_from_seed(&keys[i], seed);
        char name[16];
        snprintf(name, sizeof name, "v%d", i);
        cr_assert_eq(mc_valset_add(&vs, &keys[i].pk, 10, name), 0);
    }
    memset(genesis.b, 0x99, 32);
    cr_assert_eq(mc_light_init(&lc, CHAIN, &genesis, &vs), 0);
}

TestSuite(light, .init = setup);

/* A state with a recalled lot and a pack, over memory. */
struct world {
    struct tu_memkv *mem;
    struct mc_state *st;
    mc_hash root;
    struct mc_key lot_key, unit_key;
    struct mc_buf lot_row;
};

static void world_init(struct world *w, bool with_recall) {
    memset(w, 0, sizeof *w);
    w->mem = tu_memkv_create();
    static const uint8_t hk[MC_STATE_HASH_KEY_BYTES] = {1};
    cr_assert_eq(mc_state_create(&w->st, tu_memkv_kv(w->mem), hk), 0);
    for (int i = 0; i < 50; i++) {
        char k[32];
        snprintf(k, sizeof k, "x/filler/%d", i);
        cr_assert_eq(mc_state_put(w->st, k, strlen(k), k, strlen(k)), 0);
    }
    mc_supply_lot_key(&w->lot_key, "09506000134352", "LOT7");
    mc_supply_unit_key(&w->unit_key, "09506000134352", "SN1");
    mc_buf_init(&w->lot_row, 0);
    mc_enc_u32(&w->lot_row, 20991231);
    mc_enc_u32(&w->lot_row, 1);
    mc_enc_u32(&w->lot_row, 10);
    mc_enc_bool(&w->lot_row, true); /* recalled */
    mc_enc_u64(&w->lot_row, 7);
    mc_enc_u64(&w->lot_row, 1700000000000ull);
    uint8_t tx[32] = {5};
    mc_enc_fixed(&w->lot_row, tx, 32);
    mc_enc_str8(&w->lot_row, "contamination");
    if (with_recall)
        cr_assert_eq(mc_state_put(w->st, w->lot_key.b, w->lot_key.n, w->lot_row.data, w->lot_row.len), 0);
    cr_assert_eq(mc_state_put(w->st, w->unit_key.b, w->unit_key.n, "unit", 4), 0);
    mc_state_tx_commit(w->st);
    cr_assert_eq(mc_state_block_root(w->st, &w->root), 0);
    cr_assert_eq(mc_state_block_flush(w->st), 0);
}

static void world_deinit(struct world *w) {
    mc_buf_deinit(&w->lot_row);
    mc_state_destroy(w->st);
    tu_memkv_destroy(w->mem);
}

static void prove(struct world *w, const struct mc_key *k, struct mc_buf *out) {
    mc_hash kh;
    mc_sha256(&kh, k->b, k->n);
    struct mc_smt_io io;
    mc_smt_io_kv(&io, tu_memkv_kv(w->mem));
    struct mc_stateproof p;
    cr_assert_eq(mc_smt_prove(&io, &kh, &p), 0);
    mc_buf_init(out, 0);
    mc_stateproof_encode(out, &p);
}

/* Header at height 5 with this state root; its bytes and a certificate
 * signed by the validators in `signers` (bit i: validator i). */
static void certify(const mc_hash *root, unsigned signers, struct mc_buf *hb, struct mc_buf *cb) {
    struct mc_header h;
    memset(&h, 0, sizeof h);
    snprintf(h.chain_id, sizeof h.chain_id, CHAIN);
    h.height = 5;
    h.time_ms = 1700000005000ull;
    memset(h.prev.b, 3, 32);
    h.state_hash = *root;
    mc_valset_hash(&vs, &h.valset_hash);
    h.proposer = keys[0].pk;
    mc_buf_init(hb, 0);
    mc_header_encode(hb, &h);
    mc_hash hash;
    mc_sha256(&hash, hb->data, hb->len);
    struct mc_commit *c = calloc(1, sizeof *c);
    mc_commit_init(c, 5, 0, &hash);
    for (int i = 0; i < NV; i++) {
        if (!(signers & (1u << i))) continue;
        struct mc_vote v = {.type = MC_VOTE_PRECOMMIT, .height = 5, .round = 0, .has_block = true,
                            .block_hash = hash, .validator = (uint16_t)i};
        mc_vote_sign(&v, &keys[i], CHAIN);
        cr_assert_eq(mc_commit_add(c, &v), 0);
    }
    mc_buf_init(cb, 0);
    mc_commit_encode(cb, c);
    free(c);
}

Test(light, honest_answers_are_accepted) {
    struct world w;
    world_init(&w, true);
    struct mc_buf hb, cb, pb;
    certify(&w.root, 0xf, &hb, &cb);
    struct mc_header h;
    mc_hash hash;
    cr_assert_eq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0, "%s",
                 mc_err_detail());
    prove(&w, &w.lot_key, &pb);
    cr_assert_eq(mc_light_check_state(&h, w.lot_key.b, w.lot_key.n, w.lot_row.data, w.lot_row.len,
                                      pb.data, pb.len), 0, "%s", mc_err_detail());
    struct mc_supply_lot lot;
    cr_assert_eq(mc_supply_lot_decode(w.lot_row.data, w.lot_row.len, &lot), 0);
    cr_assert(lot.recalled);
    /* the same proof does not pass for "absent" */
    cr_assert_neq(mc_light_check_state(&h, w.lot_key.b, w.lot_key.n, NULL, 0, pb.data, pb.len), 0);
    mc_buf_deinit(&pb);
    /* three of four signatures are a quorum */
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    certify(&w.root, 0x7, &hb, &cb);
    cr_assert_eq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    world_deinit(&w);
}

Test(light, certificate_below_two_thirds_or_with_a_bad_signature_is_refused) {
    struct world w;
    world_init(&w, true);
    struct mc_buf hb, cb;
    struct mc_header h;
    mc_hash hash;
    /* two of four: half the power */
    certify(&w.root, 0x3, &hb, &cb);
    cr_assert_eq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash), MC_ERR_INVALID);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    /* four signatures, one of them broken: 3 valid would be a quorum, but
     * every signature is checked */
    certify(&w.root, 0xf, &hb, &cb);
    size_t last_sig = cb.len - 1; /* last byte of the last signature */
    cb.data[last_sig] ^= 1;
    cr_assert_eq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash),
                 MC_ERR_BAD_SIGNATURE);
    /* four signatures, two broken: fewer than 2/3 valid */
    cb.data[last_sig] ^= 1;
    cb.data[cb.len - 1 - 66] ^= 1;
    cb.data[cb.len - 1] ^= 1;
    cr_assert_neq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    world_deinit(&w);
}

Test(light, any_changed_header_or_certificate_byte_is_refused) {
    struct world w;
    world_init(&w, true);
    struct mc_buf hb, cb, pb;
    certify(&w.root, 0xf, &hb, &cb);
    prove(&w, &w.lot_key, &pb);
    struct mc_header h;
    mc_hash hash;
    for (size_t i = 0; i < hb.len; i++) {
        hb.data[i] ^= 0x01;
        int rc = mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash);
        cr_assert_neq(rc, 0, "header byte %zu changed and still accepted", i);
        hb.data[i] ^= 0x01;
    }
    for (size_t i = 0; i < cb.len; i++) {
        cb.data[i] ^= 0x80;
        int rc = mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash);
        cr_assert_neq(rc, 0, "certificate byte %zu changed and still accepted", i);
        cb.data[i] ^= 0x80;
    }
    cr_assert_eq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0);
    /* a header under another validator set or chain is refused too */
    struct mc_light other;
    cr_assert_eq(mc_light_init(&other, "another-chain", &genesis, &vs), 0);
    cr_assert_eq(mc_light_check_header(&other, hb.data, hb.len, cb.data, cb.len, &h, &hash),
                 MC_ERR_WRONG_CHAIN);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    mc_buf_deinit(&pb);
    world_deinit(&w);
}

/* The dishonest node: its own state lacks the recall row. */
Test(light, a_node_hiding_a_recall_cannot_prove_not_recalled) {
    struct world honest, liar;
    world_init(&honest, true);
    world_init(&liar, false);
    cr_assert_neq(memcmp(honest.root.b, liar.root.b, 32), 0);
    struct mc_buf hb, cb, pb;
    struct mc_header h;
    mc_hash hash;
    /* 1. the certified header, with the liar's proof of absence */
    certify(&honest.root, 0xf, &hb, &cb);
    cr_assert_eq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0);
    prove(&liar, &liar.lot_key, &pb);
    cr_assert_eq(mc_light_check_state(&h, liar.lot_key.b, liar.lot_key.n, NULL, 0, pb.data, pb.len),
                 MC_ERR_TAMPERED, "an absence proof from another state passed");
    mc_buf_deinit(&pb);
    /* ... nor can it turn the honest proof into an absence: the honest
     * proof shows the row */
    prove(&honest, &honest.lot_key, &pb);
    cr_assert_neq(mc_light_check_state(&h, honest.lot_key.b, honest.lot_key.n, NULL, 0, pb.data, pb.len), 0);
    mc_buf_deinit(&pb);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    /* 2. a header of its own (its state root), signed by itself, then with
     * one accomplice: never 2/3 */
    unsigned colluders[] = {0x1, 0x3};
    for (size_t i = 0; i < 2; i++) {
        certify(&liar.root, colluders[i], &hb, &cb);
        cr_assert_neq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0);
        mc_buf_deinit(&hb);
        mc_buf_deinit(&cb);
    }
    world_deinit(&honest);
    world_deinit(&liar);
}

Test(light, header_one_must_follow_the_trusted_genesis) {
    struct mc_header h0;
    memset(&h0, 0, sizeof h0);
    snprintf(h0.chain_id, sizeof h0.chain_id, CHAIN);
    h0.height = 1;
    mc_valset_hash(&vs, &h0.valset_hash);
    struct mc_buf hb;
    mc_buf_init(&hb, 0);
    mc_header_encode(&hb, &h0);
    struct mc_header h;
    mc_hash hash;
    cr_assert_eq(mc_light_check_header(&lc, hb.data, hb.len, (const uint8_t *)"", 0, &h, &hash),
                 MC_ERR_INVALID);
    mc_buf_deinit(&hb);
}

/* A header of height `height` naming set `s`, certified by the members of
 * s whose keys are in `ks` and whose bit is set in `signers`. */
static void certify_set(uint64_t height, const struct mc_valset *s, const struct mc_keypair *ks, int nk,
                        unsigned signers, struct mc_buf *hb, struct mc_buf *cb) {
    struct mc_header h;
    memset(&h, 0, sizeof h);
    snprintf(h.chain_id, sizeof h.chain_id, CHAIN);
    h.height = height;
    h.time_ms = 1700000000000ull + height;
    memset(h.prev.b, 3, 32);
    mc_valset_hash(s, &h.valset_hash);
    h.proposer = s->v[0].pk;
    mc_buf_init(hb, 0);
    mc_header_encode(hb, &h);
    mc_hash hash;
    mc_sha256(&hash, hb->data, hb->len);
    struct mc_commit *c = calloc(1, sizeof *c);
    mc_commit_init(c, height, 0, &hash);
    for (int i = 0; i < nk; i++) {
        int idx = mc_valset_find(s, &ks[i].pk);
        if (idx < 0 || !(signers & (1u << i))) continue;
        struct mc_vote v = {.type = MC_VOTE_PRECOMMIT, .height = height, .round = 0, .has_block = true,
                            .block_hash = hash, .validator = (uint16_t)idx};
        mc_vote_sign(&v, &ks[i], CHAIN);
        cr_assert_eq(mc_commit_add(c, &v), 0);
    }
    mc_buf_init(cb, 0);
    mc_commit_encode(cb, c);
    free(c);
}

/* Governance changed the validators: the client adopts a new set when its
 * first header is certified by it and more than 1/3 of the set it trusts
 * signed; it refuses a set its trusted validators did not vouch for, a set
 * that is not the one the header names, and sets out of height order; a
 * set far from the trusted one is reached through the one between. */
Test(light, validator_sets_are_followed_when_the_trusted_set_vouches) {
    struct mc_keypair all[NV + 3];
    memcpy(all, keys, sizeof keys);
    for (int i = NV; i < NV + 3; i++) {
        uint8_t seed[MC_SEED_BYTES];
        memset(seed, 0x70 + i, sizeof seed);
        mc_keypair_from_seed(&all[i], seed);
    }
    /* S1: v0..v3 and a newcomer v4 (10 each). */
    struct mc_valset s1 = vs;
    cr_assert_eq(mc_valset_add(&s1, &all[NV].pk, 10, "v4"), 0);
    struct mc_buf hb, cb;
    /* Before adoption, a header naming S1 is refused. */
    certify_set(20, &s1, all, NV + 3, 0x1f, &hb, &cb);
    struct mc_header h;
    mc_hash hash;
    cr_assert_eq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash), MC_ERR_INVALID);
    /* A set other than the header's is refused. */
    struct mc_valset wrong = s1;
    wrong.v[4].power = 11;
    wrong.total_power++;
    cr_assert_eq(mc_light_adopt_valset(&lc, hb.data, hb.len, cb.data, cb.len, &wrong), MC_ERR_INVALID);
    cr_assert(strstr(mc_err_detail(), "not the one header 20 names"), "%s", mc_err_detail());
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    /* Signed by v1, v4 and... only v1 of the trusted set (10 of 40): the
     * newcomers alone cannot vouch, even with 2/3 of S1 they would need. */
    struct mc_valset s_evil;
    memset(&s_evil, 0, sizeof s_evil);
    for (int i = NV; i < NV + 3; i++) cr_assert_eq(mc_valset_add(&s_evil, &all[i].pk, 10, "x"), 0);
    cr_assert_eq(mc_valset_add(&s_evil, &all[1].pk, 10, "v1"), 0);
    certify_set(20, &s_evil, all, NV + 3, 0x72, &hb, &cb);
    cr_assert_eq(mc_light_adopt_valset(&lc, hb.data, hb.len, cb.data, cb.len, &s_evil), MC_ERR_INVALID);
    cr_assert(strstr(mc_err_detail(), "not more than 1/3"), "%s", mc_err_detail());
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    /* The honest S1 header, signed by v0, v1, v2, v4: adopted. */
    certify_set(20, &s1, all, NV + 3, 0x17, &hb, &cb);
    cr_assert_eq(mc_light_adopt_valset(&lc, hb.data, hb.len, cb.data, cb.len, &s1), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_light_check_header(&lc, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_light_valset_at(&lc, 19)->count, NV, "heights before keep the genesis set");
    cr_assert_eq(mc_light_valset_at(&lc, 20)->count, NV + 1);
    /* Not again at or below the latest adoption. */
    cr_assert_eq(mc_light_adopt_valset(&lc, hb.data, hb.len, cb.data, cb.len, &s1), MC_ERR_INVALID);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    /* S2 drops v0 and adds v5, v6: from S1 it is vouched for by v1, v2, v4. */
    struct mc_valset s2;
    memset(&s2, 0, sizeof s2);
    for (int i = 1; i < NV + 3; i++) cr_assert_eq(mc_valset_add(&s2, &all[i].pk, 10, "s2"), 0);
    certify_set(30, &s2, all, NV + 3, 0x7e, &hb, &cb);
    cr_assert_eq(mc_light_adopt_valset(&lc, hb.data, hb.len, cb.data, cb.len, &s2), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_light_valset_at(&lc, 31)->count, NV + 2);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
}
