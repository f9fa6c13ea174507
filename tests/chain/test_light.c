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

/* Header at `height` with this state root under validator set `set` (keys
 * ks), its bytes and a certificate signed by the validators in `signers`
 * (bit i: validator i). */
static void certify_at(const mc_hash *root, uint64_t height, const struct mc_valset *set,
                       const struct mc_keypair *ks, unsigned signers, struct mc_buf *hb,
                       struct mc_buf *cb) {
    struct mc_header h;
    memset(&h, 0, sizeof h);
    snprintf(h.chain_id, sizeof h.chain_id, CHAIN);
    h.height = height;
    h.time_ms = 1700000000000ull + height;
    memset(h.prev.b, 3, 32);
    h.state_hash = *root;
    mc_valset_hash(set, &h.valset_hash);
    h.proposer = ks[0].pk;
    mc_buf_init(hb, 0);
    mc_header_encode(hb, &h);
    mc_hash hash;
    mc_sha256(&hash, hb->data, hb->len);
    struct mc_commit *c = calloc(1, sizeof *c);
    mc_commit_init(c, height, 0, &hash);
    for (uint32_t i = 0; i < set->count; i++) {
        if (!(signers & (1u << i))) continue;
        struct mc_vote v = {.type = MC_VOTE_PRECOMMIT, .height = height, .round = 0, .has_block = true,
                            .block_hash = hash, .validator = (uint16_t)i};
        mc_vote_sign(&v, &ks[i], CHAIN);
        cr_assert_eq(mc_commit_add(c, &v), 0);
    }
    mc_buf_init(cb, 0);
    mc_commit_encode(cb, c);
    free(c);
}

static void certify(const mc_hash *root, unsigned signers, struct mc_buf *hb, struct mc_buf *cb) {
    certify_at(root, 5, &vs, keys, signers, hb, cb);
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

/* Governance replaced the validators from height 100 on: the client trusts
 * the new set only through its row, proven at a header the old set
 * certified; then headers from 100 on need the new set's signatures. */
Test(light, follows_a_change_of_validators_only_by_proof) {
    struct mc_keypair nk[NV];
    struct mc_valset nvs;
    memset(&nvs, 0, sizeof nvs);
    for (int i = 0; i < NV; i++) {
        uint8_t seed[MC_SEED_BYTES];
        memset(seed, 0x70 + i, sizeof seed);
        mc_keypair_from_seed(&nk[i], seed);
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        cr_assert_eq(mc_valset_add(&nvs, &nk[i].pk, 10, name), 0);
    }
    /* the row as app/governance.c writes it */
    struct mc_buf row, vb;
    mc_buf_init(&row, 0);
    mc_buf_init(&vb, 0);
    mc_valset_encode(&vb, &nvs);
    mc_enc_u64(&row, 100);
    mc_enc_bytes32(&row, vb.data, vb.len);
    mc_enc_u16(&row, NV);
    for (int i = 0; i < NV; i++) mc_enc_u32(&row, 1);
    uint8_t key[MC_LIGHT_VALSET_KEY_BYTES];
    mc_light_valset_key(key, 100);
    struct world w;
    world_init(&w, true);
    cr_assert_eq(mc_state_put(w.st, key, sizeof key, row.data, row.len), 0);
    mc_state_tx_commit(w.st);
    cr_assert_eq(mc_state_block_root(w.st, &w.root), 0);
    cr_assert_eq(mc_state_block_flush(w.st), 0);
    struct mc_smt_io io;
    mc_smt_io_kv(&io, tu_memkv_kv(w.mem));
    mc_hash kh;
    mc_sha256(&kh, key, sizeof key);
    struct mc_stateproof p;
    cr_assert_eq(mc_smt_prove(&io, &kh, &p), 0);
    struct mc_buf pb;
    mc_buf_init(&pb, 0);
    mc_stateproof_encode(&pb, &p);

    struct mc_light l;
    cr_assert_eq(mc_light_init(&l, CHAIN, &genesis, &vs), 0);
    struct mc_buf hb, cb;
    struct mc_header h;
    mc_hash hash;
    /* before: a header at 100 signed by the new set is refused */
    certify_at(&w.root, 100, &nvs, nk, 0xf, &hb, &cb);
    cr_assert_neq(mc_light_check_header(&l, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    /* the row proven at a header of 98 certified by the new set: not yet trusted */
    certify_at(&w.root, 98, &nvs, nk, 0xf, &hb, &cb);
    cr_assert_neq(mc_light_check_header(&l, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    /* the row at 98 certified by the old set */
    certify_at(&w.root, 98, &vs, keys, 0xf, &hb, &cb);
    cr_assert_eq(mc_light_check_header(&l, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0, "%s", mc_err_detail());
    /* a changed byte of the row (the set inside) does not prove */
    row.data[row.len - 1] ^= 1;
    cr_assert_neq(mc_light_add_valset(&l, &h, row.data, row.len, pb.data, pb.len), 0);
    row.data[row.len - 1] ^= 1;
    cr_assert_eq(mc_light_add_valset(&l, &h, row.data, row.len, pb.data, pb.len), 0, "%s", mc_err_detail());
    cr_assert_eq(l.count, 2);
    /* the same change again is out of order */
    cr_assert_eq(mc_light_add_valset(&l, &h, row.data, row.len, pb.data, pb.len), MC_ERR_INVALID);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    /* 99 is still the old set's, 100 the new set's */
    certify_at(&w.root, 99, &vs, keys, 0xf, &hb, &cb);
    cr_assert_eq(mc_light_check_header(&l, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    certify_at(&w.root, 100, &nvs, nk, 0xf, &hb, &cb);
    cr_assert_eq(mc_light_check_header(&l, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0, "%s", mc_err_detail());
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    certify_at(&w.root, 100, &vs, keys, 0xf, &hb, &cb);
    cr_assert_neq(mc_light_check_header(&l, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0,
                  "the old set no longer certifies");
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    /* a row proven at or after its own height is refused */
    struct mc_light l2;
    cr_assert_eq(mc_light_init(&l2, CHAIN, &genesis, &vs), 0);
    certify_at(&w.root, 100, &vs, keys, 0xf, &hb, &cb);
    cr_assert_eq(mc_light_check_header(&l2, hb.data, hb.len, cb.data, cb.len, &h, &hash), 0);
    cr_assert_eq(mc_light_add_valset(&l2, &h, row.data, row.len, pb.data, pb.len), MC_ERR_INVALID);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    mc_buf_deinit(&pb);
    mc_buf_deinit(&row);
    mc_buf_deinit(&vb);
    world_deinit(&w);
}
