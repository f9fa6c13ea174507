/* Validator sets, votes and commit certificates: quorum arithmetic,
 * signature checks, canonical encodings and chain binding. */
#include <criterion/criterion.h>

#include <string.h>

#include "chain/commit.h"
#include "chain/valset.h"
#include "chain/vote.h"
#include "crypto/hash.h"

#define CHAIN "medchain-test"

static struct mc_keypair keys[4];
static struct mc_valset vs;
static mc_hash block;

static void setup(void) {
    mc_crypto_init();
    memset(&vs, 0, sizeof vs);
    for (int i = 0; i < 4; i++) {
        uint8_t seed[MC_SEED_BYTES] = {(uint8_t)(i + 1)};
        char name[16];
        mc_keypair_from_seed(&keys[i], seed);
        snprintf(name, sizeof name, "val%d", i);
        cr_assert_eq(mc_valset_add(&vs, &keys[i].pk, 10, name), 0);
    }
    mc_sha256(&block, "block 7", 7);
}

TestSuite(commit, .init = setup);

static struct mc_vote precommit(int validator, const char *chain) {
    struct mc_vote v = {.type = MC_VOTE_PRECOMMIT, .height = 7, .round = 1, .has_block = true,
                        .block_hash = block, .validator = (uint16_t)validator};
    mc_vote_sign(&v, &keys[validator], chain);
    return v;
}

/* A certificate signed by the given validators, added in the given order. */
static void certify(struct mc_commit *c, const int *who, int n, const char *chain) {
    mc_commit_init(c, 7, 1, &block);
    for (int i = 0; i < n; i++) {
        struct mc_vote v = precommit(who[i], chain);
        cr_assert_eq(mc_commit_add(c, &v), 0);
    }
}

Test(commit, quorum_of_three_verifies) {
    struct mc_commit c;
    certify(&c, (int[]){2, 0, 3}, 3, CHAIN);
    cr_assert_eq(c.count, 3);
    cr_assert(c.sigs[0].validator == 0 && c.sigs[1].validator == 2 && c.sigs[2].validator == 3,
              "add keeps indexes ordered");
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, NULL), 0);
    certify(&c, (int[]){0, 1, 2, 3}, 4, CHAIN);
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), 0);
}

Test(commit, two_of_four_is_no_quorum) {
    struct mc_commit c;
    certify(&c, (int[]){0, 1}, 2, CHAIN);
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), MC_ERR_INVALID);
    certify(&c, NULL, 0, CHAIN);
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), MC_ERR_INVALID);
    /* Exactly two thirds is not more than two thirds. */
    cr_assert(!mc_valset_is_quorum(&vs, 20));
    cr_assert(!mc_valset_is_quorum(&vs, 26));
    cr_assert(mc_valset_is_quorum(&vs, 27));
}

Test(commit, flipped_signature_bit_fails) {
    struct mc_commit c;
    certify(&c, (int[]){0, 1, 2}, 3, CHAIN);
    for (int s = 0; s < 3; s++)
        for (int bit = 0; bit < 512; bit += 37) {
            c.sigs[s].sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), MC_ERR_BAD_SIGNATURE);
            c.sigs[s].sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    /* A signature moved to another validator's slot fails too. */
    c.sigs[0].validator = 3;
    struct mc_commit_sig tmp = c.sigs[0];
    c.sigs[0] = c.sigs[1];
    c.sigs[1] = c.sigs[2];
    c.sigs[2] = tmp;
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), MC_ERR_BAD_SIGNATURE);
}

Test(commit, wrong_chain_height_or_block) {
    struct mc_commit c;
    certify(&c, (int[]){0, 1, 2}, 3, CHAIN);
    cr_assert_neq(mc_commit_verify(&c, &vs, "medchain-other", 7, &block), 0);
    cr_assert_neq(mc_commit_verify(&c, &vs, "", 7, &block), 0);
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 8, &block), MC_ERR_INVALID);
    mc_hash other;
    mc_sha256(&other, "block 8", 7);
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &other), MC_ERR_INVALID);
    /* Votes signed for another chain never make a valid certificate here. */
    certify(&c, (int[]){0, 1, 2, 3}, 4, "medchain-other");
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), MC_ERR_BAD_SIGNATURE);
}

Test(commit, add_rejects_foreign_and_duplicate_votes) {
    struct mc_commit c;
    mc_commit_init(&c, 7, 1, &block);
    struct mc_vote v = precommit(1, CHAIN);
    cr_assert_eq(mc_commit_add(&c, &v), 0);
    cr_assert_eq(mc_commit_add(&c, &v), MC_ERR_EXISTS);
    struct mc_vote w = v;
    w.type = MC_VOTE_PREVOTE;
    cr_assert_eq(mc_commit_add(&c, &w), MC_ERR_INVALID);
    w = v;
    w.height = 8;
    cr_assert_eq(mc_commit_add(&c, &w), MC_ERR_INVALID);
    w = v;
    w.round = 2;
    cr_assert_eq(mc_commit_add(&c, &w), MC_ERR_INVALID);
    w = v;
    w.has_block = false;
    cr_assert_eq(mc_commit_add(&c, &w), MC_ERR_INVALID);
}

Test(commit, encoding_round_trip) {
    struct mc_commit c, d;
    certify(&c, (int[]){3, 1, 0}, 3, CHAIN);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_commit_encode(&b, &c);
    cr_assert_eq(b.err, 0);
    cr_assert_eq(b.len, 8 + 4 + 32 + 2 + 3 * (2 + 64));
    cr_assert_eq(mc_commit_decode(&d, b.data, b.len), 0);
    cr_assert_eq(memcmp(&c, &d, sizeof c), 0);
    cr_assert_eq(mc_commit_verify(&d, &vs, CHAIN, 7, &block), 0);
    for (size_t cut = 0; cut < b.len; cut++)
        cr_assert_neq(mc_commit_decode(&d, b.data, cut), 0, "cut at %zu", cut);
    mc_enc_u8(&b, 0);
    cr_assert_eq(mc_commit_decode(&d, b.data, b.len), MC_ERR_MALFORMED);
    mc_buf_deinit(&b);
}

/* Offset of signature i's validator index in an encoded certificate. */
static size_t index_at(int i) { return 8 + 4 + 32 + 2 + (size_t)i * (2 + 64); }

Test(commit, decode_rejects_duplicate_and_unordered_indexes) {
    struct mc_commit c, d;
    certify(&c, (int[]){0, 1, 2}, 3, CHAIN);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_commit_encode(&b, &c);
    /* duplicate: 0, 0, 2 */
    b.data[index_at(1) + 1] = 0;
    cr_assert_eq(mc_commit_decode(&d, b.data, b.len), MC_ERR_MALFORMED);
    /* out of order: 0, 2, 1 */
    b.data[index_at(1) + 1] = 2;
    b.data[index_at(2) + 1] = 1;
    cr_assert_eq(mc_commit_decode(&d, b.data, b.len), MC_ERR_MALFORMED);
    /* a count above the validator limit */
    b.data[index_at(0) - 2] = 0xff;
    cr_assert_neq(mc_commit_decode(&d, b.data, b.len), 0);
    mc_buf_deinit(&b);

    /* verify also refuses unordered certificates built by hand */
    certify(&c, (int[]){0, 1, 2}, 3, CHAIN);
    struct mc_commit_sig tmp = c.sigs[0];
    c.sigs[0] = c.sigs[1];
    c.sigs[1] = tmp;
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), MC_ERR_INVALID);
    c.sigs[1] = c.sigs[0];
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), MC_ERR_INVALID);
}

Test(commit, index_outside_set) {
    struct mc_commit c;
    certify(&c, (int[]){0, 1, 2}, 3, CHAIN);
    c.sigs[2].validator = 4;
    cr_assert_eq(mc_commit_verify(&c, &vs, CHAIN, 7, &block), MC_ERR_INVALID);
}

Test(commit, vote_and_valset_encodings) {
    struct mc_vote v = precommit(2, CHAIN), w;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_vote_encode(&b, &v);
    cr_assert_eq(b.len, MC_VOTE_WIRE_BYTES);
    cr_assert_eq(mc_vote_decode(&w, b.data, b.len), 0);
    cr_assert_eq(memcmp(&v, &w, sizeof v), 0);
    cr_assert_eq(mc_vote_verify(&w, &vs, CHAIN), 0);
    cr_assert_eq(mc_vote_verify(&w, &vs, "medchain-other"), MC_ERR_BAD_SIGNATURE);
    b.data[0] = 3; /* unknown vote type */
    cr_assert_eq(mc_vote_decode(&w, b.data, b.len), MC_ERR_MALFORMED);
    b.data[0] = MC_VOTE_PRECOMMIT;
    b.data[13] = 0; /* nil vote with a non-zero hash */
    cr_assert_eq(mc_vote_decode(&w, b.data, b.len), MC_ERR_MALFORMED);
    b.data[13] = 2; /* has_block must be 0 or 1 */
    cr_assert_eq(mc_vote_decode(&w, b.data, b.len), MC_ERR_MALFORMED);
    mc_buf_deinit(&b);

    struct mc_valset vs2;
    mc_buf_init(&b, 0);
    mc_valset_encode(&b, &vs);
    cr_assert_eq(mc_valset_decode(&vs2, b.data, b.len), 0);
    cr_assert_eq(vs2.count, 4);
    cr_assert_eq(vs2.total_power, 40);
    cr_assert_eq(memcmp(&vs, &vs2, sizeof vs), 0);
    mc_hash h1, h2;
    mc_valset_hash(&vs, &h1);
    mc_valset_hash(&vs2, &h2);
    cr_assert_eq(memcmp(h1.b, h2.b, 32), 0);
    /* duplicate key: copy validator 0's key over validator 1's */
    memcpy(b.data + 2 + (32 + 8 + 1 + 4), b.data + 2, 32);
    cr_assert_eq(mc_valset_decode(&vs2, b.data, b.len), MC_ERR_INVALID);
    mc_buf_deinit(&b);
    cr_assert_eq(mc_valset_add(&vs2, &keys[0].pk, 1, "again"), MC_ERR_EXISTS);
    struct mc_keypair k;
    mc_keypair_generate(&k);
    cr_assert_eq(mc_valset_add(&vs2, &k.pk, 0, "zero"), MC_ERR_INVALID);
}
