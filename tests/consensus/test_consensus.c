/* Unit tests of the consensus engine: each rule of Algorithm 1 on a
 * hand-written message sequence, plus the proposer schedule, the signed
 * state record and the double-sign guard.
 *
 * The fixture is four validators of power 1 (f = 1, quorum 3, f+1 = 2) on
 * chain "test-chain"; the engine under test is validator `me`. */
#include <criterion/criterion.h>
#include <string.h>

#include "consensus/consensus.h"

#define CHAIN "test-chain"
#define N 4

static struct mc_valset vs;
static struct mc_keypair keys[N];
static struct mc_consensus *eng;
static struct mc_consensus_output out;
static struct mc_consensus_config cfg;

/* Persistence fake: remembers every record and can be told to fail. */
static struct mc_consensus_signed_state saved;
static int saves;
static bool fail_save;

static int save_hook(void *ctx, const struct mc_consensus_signed_state *s) {
    (void)ctx;
    if (fail_save) return MC_ERR_IO;
    saved = *s;
    saves++;
    return 0;
}

static void setup(void) {
    mc_crypto_init();
    memset(&vs, 0, sizeof vs);
    for (int i = 0; i < N; i++) {
        uint8_t seed[MC_SEED_BYTES] = {0};
        seed[0] = (uint8_t)(i + 1);
        mc_keypair_from_seed(&keys[i], seed);
        char name[16];
        snprintf(name, sizeof name, "v%d", i);
        cr_assert_eq(mc_valset_add(&vs, &keys[i].pk, 1, name), 0);
    }
    mc_consensus_config_default(&cfg, CHAIN);
    eng = calloc(1, sizeof *eng);
    memset(&saved, 0, sizeof saved);
    saves = 0;
    fail_save = false;
}

static void teardown(void) { free(eng); }

static struct mc_consensus_persist persist = {save_hook, NULL};

static void start(int me, uint64_t height) {
    cr_assert_eq(mc_consensus_init(eng, &cfg, &vs, &keys[me], height, NULL, &persist), 0);
    cr_assert_eq(mc_consensus_start(eng, &out), 0);
}

static mc_hash value(uint8_t tag) {
    mc_hash h;
    memset(h.b, tag, sizeof h.b);
    return h;
}

static struct mc_vote vote(int who, uint8_t type, uint64_t h, uint32_t r, const mc_hash *v) {
    struct mc_vote x;
    memset(&x, 0, sizeof x);
    x.type = type;
    x.height = h;
    x.round = r;
    x.has_block = v != NULL;
    if (v) x.block_hash = *v;
    x.validator = (uint16_t)who;
    mc_vote_sign(&x, &keys[who], CHAIN);
    return x;
}

static struct mc_proposal proposal(uint64_t h, uint32_t r, const mc_hash *v, int pol) {
    struct mc_proposal p;
    memset(&p, 0, sizeof p);
    p.height = h;
    p.round = r;
    p.has_pol_round = pol >= 0;
    p.pol_round = pol >= 0 ? (uint32_t)pol : 0;
    p.block_hash = *v;
    p.proposer = mc_consensus_proposer(&vs, h, r);
    mc_proposal_sign(&p, &keys[p.proposer], CHAIN);
    return p;
}

static int feed_vote(const struct mc_vote *v) {
    struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VOTE};
    in.u.vote = *v;
    return mc_consensus_step(eng, &out, &in);
}

static int feed_proposal(const struct mc_proposal *p) {
    struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_PROPOSAL};
    in.u.proposal = *p;
    return mc_consensus_step(eng, &out, &in);
}

static int feed_validity(uint64_t h, const mc_hash *v, bool valid) {
    struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VALIDITY};
    in.u.validity.height = h;
    in.u.validity.block_hash = *v;
    in.u.validity.valid = valid;
    return mc_consensus_step(eng, &out, &in);
}

static int feed_timeout(uint8_t kind, uint64_t h, uint32_t r) {
    struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_TIMEOUT};
    in.u.timeout.kind = kind;
    in.u.timeout.height = h;
    in.u.timeout.round = r;
    return mc_consensus_step(eng, &out, &in);
}

/* The index of the first action of a kind in out, or -1. */
static int find(int kind) {
    for (uint32_t i = 0; i < out.count; i++)
        if (out.actions[i].kind == kind) return (int)i;
    return -1;
}

static const struct mc_vote *find_vote(uint8_t type) {
    for (uint32_t i = 0; i < out.count; i++)
        if (out.actions[i].kind == MC_CONSENSUS_OUT_VOTE && out.actions[i].u.vote.type == type)
            return &out.actions[i].u.vote;
    return NULL;
}

static const struct mc_consensus_action *find_timer(uint8_t kind) {
    for (uint32_t i = 0; i < out.count; i++)
        if (out.actions[i].kind == MC_CONSENSUS_OUT_TIMEOUT &&
            out.actions[i].u.timer.timeout.kind == kind)
            return &out.actions[i];
    return NULL;
}

/* A validator that is not the proposer of (h, r) and not `skip`. */
static int non_proposer(uint64_t h, uint32_t r) {
    uint16_t p = mc_consensus_proposer(&vs, h, r);
    return (p + 1) % N;
}

/* Others than me, in order. */
static int other(int me, int k) {
    int n = 0;
    for (int i = 0; i < N; i++)
        if (i != me && n++ == k) return i;
    return -1;
}

TestSuite(consensus, .init = setup, .fini = teardown, .timeout = 20);

/* ---- codecs ------------------------------------------------------------- */

Test(consensus, proposal_codec_is_canonical_and_strict) {
    mc_hash v = value(7);
    struct mc_proposal p = proposal(5, 3, &v, 1), q;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_proposal_encode(&b, &p);
    cr_assert_eq(b.len, MC_PROPOSAL_WIRE_BYTES);
    cr_assert_eq(mc_proposal_decode(&q, b.data, b.len), 0);
    cr_assert_eq(q.round, 3);
    cr_assert(q.has_pol_round && q.pol_round == 1);
    cr_assert_eq(mc_proposal_verify(&q, &vs, CHAIN), 0);
    cr_assert_eq(mc_proposal_verify(&q, &vs, "other-chain"), MC_ERR_BAD_SIGNATURE);
    cr_assert_neq(mc_proposal_decode(&q, b.data, b.len - 1), 0, "truncated");
    uint8_t longer[MC_PROPOSAL_WIRE_BYTES + 1];
    memcpy(longer, b.data, b.len);
    longer[b.len] = 0;
    cr_assert_neq(mc_proposal_decode(&q, longer, sizeof longer), 0, "trailing byte");
    uint8_t bad[MC_PROPOSAL_WIRE_BYTES];
    memcpy(bad, b.data, b.len);
    bad[12] = 2; /* has_pol_round not a boolean */
    cr_assert_eq(mc_proposal_decode(&q, bad, sizeof bad), MC_ERR_MALFORMED);
    memcpy(bad, b.data, b.len);
    bad[16] = 3; /* pol_round 3 == round */
    cr_assert_eq(mc_proposal_decode(&q, bad, sizeof bad), MC_ERR_MALFORMED);
    memcpy(bad, b.data, b.len);
    bad[12] = 0; /* no pol round but a nonzero pol_round field */
    cr_assert_eq(mc_proposal_decode(&q, bad, sizeof bad), MC_ERR_MALFORMED);
    memcpy(bad, b.data, b.len);
    bad[20] ^= 1; /* block hash changed: signature breaks */
    cr_assert_eq(mc_proposal_decode(&q, bad, sizeof bad), 0);
    cr_assert_eq(mc_proposal_verify(&q, &vs, CHAIN), MC_ERR_BAD_SIGNATURE);
    mc_buf_deinit(&b);
}

Test(consensus, evidence_is_canonical_and_verifiable) {
    mc_hash a = value(1), c = value(2);
    struct mc_vote x = vote(2, MC_VOTE_PREVOTE, 9, 4, &a);
    struct mc_vote y = vote(2, MC_VOTE_PREVOTE, 9, 4, &c);
    struct mc_vote nil = vote(2, MC_VOTE_PREVOTE, 9, 4, NULL);
    struct mc_evidence e1, e2, d;
    cr_assert_eq(mc_evidence_init(&e1, &x, &y), 0);
    cr_assert_eq(mc_evidence_init(&e2, &y, &x), 0);
    struct mc_buf b1, b2;
    mc_buf_init(&b1, 0);
    mc_buf_init(&b2, 0);
    mc_evidence_encode(&b1, &e1);
    mc_evidence_encode(&b2, &e2);
    cr_assert_eq(b1.len, MC_EVIDENCE_WIRE_BYTES);
    cr_assert(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "one encoding per pair");
    cr_assert_eq(mc_evidence_decode(&d, b1.data, b1.len), 0);
    cr_assert_eq(mc_evidence_verify(&d, &vs, CHAIN), 0);
    /* swapped order is not canonical */
    uint8_t sw[MC_EVIDENCE_WIRE_BYTES];
    memcpy(sw, b1.data + MC_VOTE_WIRE_BYTES, MC_VOTE_WIRE_BYTES);
    memcpy(sw + MC_VOTE_WIRE_BYTES, b1.data, MC_VOTE_WIRE_BYTES);
    cr_assert_eq(mc_evidence_decode(&d, sw, sizeof sw), MC_ERR_MALFORMED);
    /* block vs nil conflicts too; same vote twice and different rounds do not */
    cr_assert_eq(mc_evidence_init(&e1, &x, &nil), 0);
    cr_assert_eq(mc_evidence_verify(&e1, &vs, CHAIN), 0);
    cr_assert_eq(mc_evidence_init(&e1, &x, &x), MC_ERR_INVALID);
    struct mc_vote z = vote(2, MC_VOTE_PREVOTE, 9, 5, &c);
    cr_assert_eq(mc_evidence_init(&e1, &x, &z), MC_ERR_INVALID);
    struct mc_vote w = vote(3, MC_VOTE_PREVOTE, 9, 4, &c);
    cr_assert_eq(mc_evidence_init(&e1, &x, &w), MC_ERR_INVALID);
    /* a forged signature fails verification */
    cr_assert_eq(mc_evidence_init(&e1, &x, &y), 0);
    e1.b.sig[0] ^= 1;
    cr_assert_eq(mc_evidence_verify(&e1, &vs, CHAIN), MC_ERR_BAD_SIGNATURE);
    mc_buf_deinit(&b1);
    mc_buf_deinit(&b2);
}

Test(consensus, signed_state_codec_round_trips_and_is_strict) {
    struct mc_consensus_signed_state s, t;
    memset(&s, 0, sizeof s);
    s.height = 10;
    s.round = 2;
    s.step = MC_CONSENSUS_STEP_PRECOMMIT;
    s.msg_hash = value(3);
    s.sig[5] = 9;
    s.has_locked = true;
    s.locked_round = 2;
    s.locked_value = value(4);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_consensus_signed_state_encode(&b, &s);
    cr_assert_eq(b.len, MC_CONSENSUS_SIGNED_STATE_BYTES);
    cr_assert_eq(mc_consensus_signed_state_decode(&t, b.data, b.len), 0);
    cr_assert(t.height == 10 && t.round == 2 && t.step == 3 && t.has_locked && !t.has_valid);
    cr_assert_eq(memcmp(t.locked_value.b, s.locked_value.b, 32), 0);
    b.data[12] = 4; /* step out of range */
    cr_assert_eq(mc_consensus_signed_state_decode(&t, b.data, b.len), MC_ERR_MALFORMED);
    b.data[12] = 3;
    b.data[b.len - 1] = 1; /* valid value present while has_valid = 0 */
    cr_assert_eq(mc_consensus_signed_state_decode(&t, b.data, b.len), MC_ERR_MALFORMED);
    cr_assert_neq(mc_consensus_signed_state_decode(&t, b.data, b.len - 1), 0);
    mc_buf_deinit(&b);
}

/* ---- proposer schedule -------------------------------------------------- */

Test(consensus, proposer_rotates_round_robin_with_equal_power) {
    for (uint32_t r = 0; r < 8; r++) cr_assert_eq(mc_consensus_proposer(&vs, 0, r), r % N);
    for (uint64_t h = 0; h < 8; h++) cr_assert_eq(mc_consensus_proposer(&vs, h, 1), (h + 1) % N);
}

Test(consensus, proposer_is_weighted_by_power_and_periodic) {
    struct mc_valset w;
    memset(&w, 0, sizeof w);
    uint64_t powers[5] = {5, 1, 3, 1, 2}; /* total 12 */
    for (int i = 0; i < 5; i++) {
        mc_pubkey pk;
        memset(pk.b, i + 1, sizeof pk.b);
        cr_assert_eq(mc_valset_add(&w, &pk, powers[i], "x"), 0);
    }
    int count[5] = {0};
    int run = 0, last = -1, max_run = 0;
    for (uint64_t h = 0; h < 12; h++) {
        uint16_t p = mc_consensus_proposer(&w, h, 0);
        count[p]++;
        run = p == last ? run + 1 : 1;
        last = p;
        if (run > max_run) max_run = run;
        /* one period later the schedule repeats; (h, r) and (h + r, 0) agree */
        cr_assert_eq(mc_consensus_proposer(&w, h + 12, 0), p);
        cr_assert_eq(mc_consensus_proposer(&w, h, 3), mc_consensus_proposer(&w, h + 3, 0));
    }
    for (int i = 0; i < 5; i++) cr_assert_eq(count[i], (int)powers[i], "validator %d", i);
    cr_assert_leq(max_run, 2, "turns are interleaved, not consecutive blocks");
}

/* ---- L11: StartRound ---------------------------------------------------- */

Test(consensus, start_round_as_proposer_asks_for_a_value_then_proposes) {
    int me = mc_consensus_proposer(&vs, 1, 0);
    start(me, 1);
    int g = find(MC_CONSENSUS_OUT_GET_VALUE);
    cr_assert_geq(g, 0);
    cr_assert_eq(out.actions[g].u.get_value.round, 0);
    cr_assert_not_null(find_timer(MC_CONSENSUS_TIMEOUT_PROPOSE));
    mc_hash v = value(9);
    struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VALUE};
    in.u.value.height = 1;
    in.u.value.round = 0;
    in.u.value.block_hash = v;
    cr_assert_eq(mc_consensus_step(eng, &out, &in), 0);
    int p = find(MC_CONSENSUS_OUT_PROPOSAL);
    cr_assert_geq(p, 0);
    cr_assert_eq(mc_proposal_verify(&out.actions[p].u.proposal, &vs, CHAIN), 0);
    cr_assert(!out.actions[p].u.proposal.has_pol_round);
    /* its own proposal is valid: it prevotes for it at once (L22) */
    const struct mc_vote *pv = find_vote(MC_VOTE_PREVOTE);
    cr_assert_not_null(pv);
    cr_assert(pv->has_block && memcmp(pv->block_hash.b, v.b, 32) == 0);
    cr_assert_eq(saves, 2, "proposal and prevote each persisted before emission");
    cr_assert_eq(mc_consensus_step(eng, &out, &in), MC_ERR_STATE, "only one value per round");
}

Test(consensus, start_round_as_non_proposer_sets_the_propose_timer) {
    int me = non_proposer(1, 0);
    start(me, 1);
    cr_assert_eq(find(MC_CONSENSUS_OUT_GET_VALUE), -1);
    const struct mc_consensus_action *t = find_timer(MC_CONSENSUS_TIMEOUT_PROPOSE);
    cr_assert_not_null(t);
    cr_assert_eq(t->u.timer.duration_ms, cfg.propose_timeout_ms);
}

/* ---- L22 ---------------------------------------------------------------- */

Test(consensus, L22_prevotes_a_valid_proposal) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash v = value(1);
    struct mc_proposal p = proposal(1, 0, &v, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    int a = find(MC_CONSENSUS_OUT_VALIDATE);
    cr_assert_geq(a, 0, "the application is asked");
    cr_assert_null(find_vote(MC_VOTE_PREVOTE), "no prevote before the answer");
    cr_assert_eq(feed_validity(1, &v, true), 0);
    const struct mc_vote *pv = find_vote(MC_VOTE_PREVOTE);
    cr_assert_not_null(pv);
    cr_assert(pv->has_block && memcmp(pv->block_hash.b, v.b, 32) == 0);
    cr_assert_eq(mc_vote_verify(pv, &vs, CHAIN), 0);
    cr_assert_eq(feed_proposal(&p), 0, "a duplicate is harmless");
    cr_assert_eq(out.count, 0);
}

Test(consensus, L22_prevotes_nil_for_an_invalid_proposal) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash v = value(1);
    struct mc_proposal p = proposal(1, 0, &v, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &v, false), 0);
    const struct mc_vote *pv = find_vote(MC_VOTE_PREVOTE);
    cr_assert_not_null(pv);
    cr_assert(!pv->has_block);
}

/* Drives `me` to lock on value a in round 0 (precommit a), then round 1. */
static void lock_in_round0(int me, const mc_hash *a) {
    start(me, 1);
    struct mc_proposal p = proposal(1, 0, a, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, a, true), 0);
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PREVOTE, 1, 0, a);
        cr_assert_eq(feed_vote(&v), 0);
    }
    const struct mc_vote *pc = find_vote(MC_VOTE_PRECOMMIT);
    cr_assert_not_null(pc, "L36 locks and precommits");
    cr_assert(pc->has_block);
    cr_assert(eng->has_locked && eng->locked_round == 0);
    cr_assert(saved.has_locked, "the lock is persisted with the precommit");
    /* precommits for nil from two others + own a: 2/3+ precommits for anything */
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 0, NULL);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_not_null(find_timer(MC_CONSENSUS_TIMEOUT_PRECOMMIT), "L47");
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PRECOMMIT, 1, 0), 0);
    cr_assert_eq(eng->round, 1, "L65: next round");
}

Test(consensus, L22_a_locked_validator_prevotes_nil_for_another_value) {
    mc_hash a = value(1), b = value(2);
    int me = -1;
    for (int i = 0; i < N; i++) /* not the proposer of round 0 or round 1 */
        if (i != mc_consensus_proposer(&vs, 1, 0) && i != mc_consensus_proposer(&vs, 1, 1)) me = i;
    lock_in_round0(me, &a);
    struct mc_proposal p = proposal(1, 1, &b, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &b, true), 0);
    const struct mc_vote *pv = find_vote(MC_VOTE_PREVOTE);
    cr_assert_not_null(pv);
    cr_assert(!pv->has_block, "locked on a: nil for b");
}

Test(consensus, L22_a_locked_validator_prevotes_its_locked_value) {
    mc_hash a = value(1);
    int me = -1;
    for (int i = 0; i < N; i++)
        if (i != mc_consensus_proposer(&vs, 1, 0) && i != mc_consensus_proposer(&vs, 1, 1)) me = i;
    lock_in_round0(me, &a);
    struct mc_proposal p = proposal(1, 1, &a, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(find(MC_CONSENSUS_OUT_VALIDATE), -1, "a locked value is known valid");
    const struct mc_vote *pv = find_vote(MC_VOTE_PREVOTE);
    cr_assert_not_null(pv);
    cr_assert(pv->has_block && memcmp(pv->block_hash.b, a.b, 32) == 0);
}

/* ---- L28 ---------------------------------------------------------------- */

Test(consensus, L28_a_later_polka_unlocks) {
    mc_hash a = value(1), b = value(2);
    int me = -1;
    for (int i = 0; i < N; i++)
        if (i != mc_consensus_proposer(&vs, 1, 0) && i != mc_consensus_proposer(&vs, 1, 1) &&
            i != mc_consensus_proposer(&vs, 1, 2))
            me = i;
    lock_in_round0(me, &a);
    /* round 1: everyone else prevotes b (a polka for b in round 1 that we miss in time) */
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PROPOSE, 1, 1), 0);
    /* round 2: proposer re-proposes b with pol_round 1 */
    struct mc_proposal p = proposal(1, 2, &b, 1);
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 1, NULL);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PRECOMMIT, 1, 1), 0);
    cr_assert_eq(eng->round, 2);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &b, true), 0);
    cr_assert_null(find_vote(MC_VOTE_PREVOTE), "no polka for b in round 1 yet: wait");
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PREVOTE, 1, 1, &b);
        cr_assert_eq(feed_vote(&v), 0);
        if (k == 0) cr_assert_null(find_vote(MC_VOTE_PREVOTE), "one prevote is not a polka");
    }
    cr_assert_null(find_vote(MC_VOTE_PREVOTE), "2 of 4 is not a polka");
    struct mc_vote v3 = vote(other(me, 2), MC_VOTE_PREVOTE, 1, 1, &b);
    cr_assert_eq(feed_vote(&v3), 0);
    const struct mc_vote *pv = find_vote(MC_VOTE_PREVOTE);
    cr_assert_not_null(pv, "L28 fires once the polka is complete");
    cr_assert(pv->has_block && memcmp(pv->block_hash.b, b.b, 32) == 0,
              "lockedRound 0 <= vr 1: prevote b despite the lock on a");
}

Test(consensus, L28_a_polka_older_than_the_lock_does_not_unlock) {
    mc_hash a = value(1), b = value(2);
    int me = -1;
    for (int i = 0; i < N; i++)
        if (i != mc_consensus_proposer(&vs, 1, 0) && i != mc_consensus_proposer(&vs, 1, 1) &&
            i != mc_consensus_proposer(&vs, 1, 2))
            me = i;
    start(me, 1);
    /* polka for b in round 0 (we prevoted nil by timeout) */
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PROPOSE, 1, 0), 0);
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PREVOTE, 1, 0, &b);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PREVOTE, 1, 0), 0);
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 0, NULL);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PRECOMMIT, 1, 0), 0);
    /* round 1: lock on a */
    struct mc_proposal p1 = proposal(1, 1, &a, -1);
    cr_assert_eq(feed_proposal(&p1), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0);
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PREVOTE, 1, 1, &a);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert(eng->has_locked && eng->locked_round == 1);
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 1, NULL);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PRECOMMIT, 1, 1), 0);
    /* round 2: b with pol_round 0 < lockedRound 1 */
    struct mc_proposal p2 = proposal(1, 2, &b, 0);
    cr_assert_eq(feed_proposal(&p2), 0);
    if (find(MC_CONSENSUS_OUT_VALIDATE) >= 0) cr_assert_eq(feed_validity(1, &b, true), 0);
    const struct mc_vote *pv = find_vote(MC_VOTE_PREVOTE);
    cr_assert_not_null(pv);
    cr_assert(!pv->has_block, "the lock of round 1 beats a polka of round 0");
}

/* ---- L34, L36, L44, L47 --------------------------------------------------- */

Test(consensus, L34_prevote_timer_on_any_two_thirds) {
    int me = non_proposer(1, 0);
    start(me, 1);
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PROPOSE, 1, 0), 0);
    cr_assert(!find_vote(MC_VOTE_PREVOTE)->has_block, "L57: prevote nil on propose timeout");
    mc_hash a = value(1), b = value(2);
    struct mc_vote v1 = vote(other(me, 0), MC_VOTE_PREVOTE, 1, 0, &a);
    cr_assert_eq(feed_vote(&v1), 0);
    cr_assert_null(find_timer(MC_CONSENSUS_TIMEOUT_PREVOTE));
    struct mc_vote v2 = vote(other(me, 1), MC_VOTE_PREVOTE, 1, 0, &b);
    cr_assert_eq(feed_vote(&v2), 0);
    const struct mc_consensus_action *t = find_timer(MC_CONSENSUS_TIMEOUT_PREVOTE);
    cr_assert_not_null(t, "nil, a, b: 3 of 4 for anything");
    cr_assert_null(find_vote(MC_VOTE_PRECOMMIT), "no value has 2/3+");
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PREVOTE, 1, 0), 0);
    const struct mc_vote *pc = find_vote(MC_VOTE_PRECOMMIT);
    cr_assert(pc && !pc->has_block, "L61: precommit nil on prevote timeout");
}

Test(consensus, L36_lock_precommit_and_valid_value) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    struct mc_proposal p = proposal(1, 0, &a, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0);
    struct mc_vote v1 = vote(other(me, 0), MC_VOTE_PREVOTE, 1, 0, &a);
    cr_assert_eq(feed_vote(&v1), 0);
    cr_assert_null(find_vote(MC_VOTE_PRECOMMIT));
    struct mc_vote v2 = vote(other(me, 1), MC_VOTE_PREVOTE, 1, 0, &a);
    cr_assert_eq(feed_vote(&v2), 0);
    const struct mc_vote *pc = find_vote(MC_VOTE_PRECOMMIT);
    cr_assert(pc && pc->has_block && memcmp(pc->block_hash.b, a.b, 32) == 0);
    cr_assert(eng->has_locked && eng->locked_round == 0);
    cr_assert(eng->has_valid && eng->valid_round == 0);
    cr_assert_eq(memcmp(eng->valid_value.b, a.b, 32), 0);
}

Test(consensus, L36_after_precommit_only_updates_the_valid_value) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    struct mc_proposal p = proposal(1, 0, &a, -1);
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PROPOSE, 1, 0), 0);
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PREVOTE, 1, 0, &a);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PREVOTE, 1, 0), 0);
    cr_assert_eq(eng->step, MC_CONSENSUS_STEP_PRECOMMIT);
    struct mc_vote v3 = vote(other(me, 2), MC_VOTE_PREVOTE, 1, 0, &a);
    cr_assert_eq(feed_vote(&v3), 0);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0);
    cr_assert_null(find_vote(MC_VOTE_PRECOMMIT), "already precommitted nil");
    cr_assert(!eng->has_locked, "no lock after the precommit step");
    cr_assert(eng->has_valid && eng->valid_round == 0, "but the value is remembered as valid");
}

Test(consensus, L44_precommit_nil_on_a_nil_polka) {
    int me = non_proposer(1, 0);
    start(me, 1);
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PROPOSE, 1, 0), 0);
    struct mc_vote v1 = vote(other(me, 0), MC_VOTE_PREVOTE, 1, 0, NULL);
    cr_assert_eq(feed_vote(&v1), 0);
    cr_assert_null(find_vote(MC_VOTE_PRECOMMIT));
    struct mc_vote v2 = vote(other(me, 1), MC_VOTE_PREVOTE, 1, 0, NULL);
    cr_assert_eq(feed_vote(&v2), 0);
    const struct mc_vote *pc = find_vote(MC_VOTE_PRECOMMIT);
    cr_assert(pc && !pc->has_block);
}

Test(consensus, L47_precommit_timer_and_L65_next_round) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 0, k ? &a : NULL);
        cr_assert_eq(feed_vote(&v), 0);
        cr_assert_null(find_timer(MC_CONSENSUS_TIMEOUT_PRECOMMIT));
    }
    struct mc_vote v = vote(other(me, 2), MC_VOTE_PRECOMMIT, 1, 0, &a);
    cr_assert_eq(feed_vote(&v), 0);
    const struct mc_consensus_action *t = find_timer(MC_CONSENSUS_TIMEOUT_PRECOMMIT);
    cr_assert_not_null(t, "L47 has no step guard");
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PRECOMMIT, 1, 1), 0);
    cr_assert_eq(eng->round, 0, "a timeout for another round is stale");
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PRECOMMIT, 1, 0), 0);
    cr_assert_eq(eng->round, 1);
    const struct mc_consensus_action *tp = find_timer(MC_CONSENSUS_TIMEOUT_PROPOSE);
    cr_assert_not_null(tp);
    cr_assert_eq(tp->u.timer.duration_ms, cfg.propose_timeout_ms + cfg.propose_timeout_delta_ms,
                 "timeouts grow with the round");
}

/* ---- L49 ---------------------------------------------------------------- */

Test(consensus, L49_decides_with_a_verifiable_certificate) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    struct mc_proposal p = proposal(1, 0, &a, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0);
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 0, &a);
        cr_assert_eq(feed_vote(&v), 0);
        cr_assert_eq(out.decided, k == 2);
    }
    cr_assert_eq(out.commit.count, 3);
    cr_assert_eq(mc_commit_verify(&out.commit, &vs, CHAIN, 1, &a), 0);
    struct mc_vote late = vote(other(me, 0), MC_VOTE_PREVOTE, 1, 0, &a);
    cr_assert_eq(feed_vote(&late), MC_ERR_STATE, "inputs wait for next_height");
    cr_assert_eq(mc_consensus_next_height(eng, &out, &vs), 0);
    cr_assert_eq(eng->height, 2);
    cr_assert_eq(eng->round, 0);
    cr_assert(!eng->has_locked && !eng->has_valid);
}

Test(consensus, L49_needs_a_valid_proposal) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 0, &a);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert(!out.decided, "no proposal yet");
    struct mc_proposal p = proposal(1, 0, &a, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert(!out.decided, "validity not yet known");
    cr_assert_eq(feed_validity(1, &a, true), 0);
    cr_assert(out.decided);
}

Test(consensus, L49_decides_for_an_earlier_round) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    struct mc_proposal p = proposal(1, 0, &a, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0);
    /* round skip to 3 by f+1 prevotes there */
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PREVOTE, 1, 3, NULL);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_eq(eng->round, 3, "L55");
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 0, &a);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert(out.decided);
    cr_assert_eq(out.commit.round, 0);
    cr_assert_eq(mc_commit_verify(&out.commit, &vs, CHAIN, 1, &a), 0);
}

/* ---- L55 ---------------------------------------------------------------- */

Test(consensus, L55_skips_on_f_plus_one_but_not_on_f) {
    int me = non_proposer(1, 0);
    start(me, 1);
    struct mc_vote v1 = vote(other(me, 0), MC_VOTE_PRECOMMIT, 1, 5, NULL);
    cr_assert_eq(feed_vote(&v1), 0);
    struct mc_vote v1b = vote(other(me, 0), MC_VOTE_PREVOTE, 1, 5, NULL);
    cr_assert_eq(feed_vote(&v1b), 0);
    cr_assert_eq(eng->round, 0, "one validator (f) is not enough, however many messages");
    struct mc_vote v2 = vote(other(me, 1), MC_VOTE_PREVOTE, 1, 7, NULL);
    cr_assert_eq(feed_vote(&v2), 0);
    cr_assert_eq(eng->round, 0, "f+1 must be in the same round");
    struct mc_vote v3 = vote(other(me, 1), MC_VOTE_PREVOTE, 1, 5, NULL);
    cr_assert_eq(feed_vote(&v3), 0);
    cr_assert_eq(eng->round, 5);
    cr_assert_not_null(find_timer(MC_CONSENSUS_TIMEOUT_PROPOSE));
}

/* ---- input checks and evidence ------------------------------------------ */

Test(consensus, rejects_forged_votes_and_wrong_proposers) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    struct mc_vote v = vote(other(me, 0), MC_VOTE_PREVOTE, 1, 0, &a);
    v.sig[3] ^= 0x40;
    cr_assert_eq(feed_vote(&v), MC_ERR_BAD_SIGNATURE);
    struct mc_vote w = vote(other(me, 0), MC_VOTE_PREVOTE, 2, 0, &a);
    cr_assert_eq(feed_vote(&w), MC_ERR_STATE, "another height");
    struct mc_proposal p = proposal(1, 0, &a, -1);
    p.proposer = (uint16_t)non_proposer(1, 0);
    mc_proposal_sign(&p, &keys[p.proposer], CHAIN);
    cr_assert_eq(feed_proposal(&p), MC_ERR_INVALID, "not the proposer of the round");
    struct mc_proposal q = proposal(1, 0, &a, -1);
    q.sig[0] ^= 1;
    cr_assert_eq(feed_proposal(&q), MC_ERR_BAD_SIGNATURE);
    cr_assert_eq(out.count, 0);
}

Test(consensus, equivocation_produces_evidence_once) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1), b = value(2);
    int bad = other(me, 0);
    struct mc_vote x = vote(bad, MC_VOTE_PRECOMMIT, 1, 0, &a);
    struct mc_vote y = vote(bad, MC_VOTE_PRECOMMIT, 1, 0, &b);
    struct mc_vote z = vote(bad, MC_VOTE_PRECOMMIT, 1, 0, NULL);
    cr_assert_eq(feed_vote(&x), 0);
    cr_assert_eq(feed_vote(&y), 0);
    int e = find(MC_CONSENSUS_OUT_EVIDENCE);
    cr_assert_geq(e, 0);
    cr_assert_eq(mc_evidence_verify(&out.actions[e].u.evidence, &vs, CHAIN), 0);
    cr_assert_eq(out.actions[e].u.evidence.a.validator, bad);
    cr_assert_eq(feed_vote(&z), 0);
    cr_assert_eq(find(MC_CONSENSUS_OUT_EVIDENCE), -1, "once per validator and slot");
    /* the second vote did not count twice */
    cr_assert_eq(eng->rounds[0].precommit_power, 1);
    struct mc_vote forged = y;
    forged.block_hash = value(3);
    cr_assert_eq(feed_vote(&forged), MC_ERR_BAD_SIGNATURE, "conflicting votes are verified too");
}

Test(consensus, an_equivocator_counts_for_each_value_it_signed) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    struct mc_proposal p = proposal(1, 0, &a, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0); /* we prevote a */
    int bad = other(me, 0);
    struct mc_vote nil = vote(bad, MC_VOTE_PREVOTE, 1, 0, NULL);
    struct mc_vote for_a = vote(bad, MC_VOTE_PREVOTE, 1, 0, &a);
    struct mc_vote honest = vote(other(me, 1), MC_VOTE_PREVOTE, 1, 0, &a);
    cr_assert_eq(feed_vote(&nil), 0);
    cr_assert_eq(feed_vote(&honest), 0);
    cr_assert_null(find_vote(MC_VOTE_PRECOMMIT), "me + honest: 2 of 4 for a");
    cr_assert_eq(feed_vote(&for_a), 0);
    cr_assert_geq(find(MC_CONSENSUS_OUT_EVIDENCE), 0);
    const struct mc_vote *pc = find_vote(MC_VOTE_PRECOMMIT);
    cr_assert(pc && pc->has_block, "its signed prevote for a completes the polka (paper counts messages)");
}

Test(consensus, commit_input_decides_a_lagging_node) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    struct mc_commit cm;
    mc_commit_init(&cm, 1, 4, &a);
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 4, &a);
        cr_assert_eq(mc_commit_add(&cm, &v), 0);
    }
    struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_COMMIT};
    in.u.commit = &cm;
    cr_assert_eq(mc_consensus_step(eng, &out, &in), MC_ERR_INVALID, "2 of 4 is no quorum");
    struct mc_vote v = vote(other(me, 2), MC_VOTE_PRECOMMIT, 1, 4, &a);
    cr_assert_eq(mc_commit_add(&cm, &v), 0);
    cr_assert_eq(mc_consensus_step(eng, &out, &in), 0);
    cr_assert(out.decided);
    cr_assert_eq(out.commit.round, 4);
}

/* ---- double-sign protection ---------------------------------------------- */

Test(consensus, restart_resumes_the_round_and_never_signs_lower) {
    int me = non_proposer(1, 0);
    mc_hash a = value(1), b = value(2);
    start(me, 1);
    struct mc_proposal p = proposal(1, 0, &a, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0);
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PREVOTE, 1, 0, &a);
        cr_assert_eq(feed_vote(&v), 0);
    }
    const struct mc_vote *pc = find_vote(MC_VOTE_PRECOMMIT);
    cr_assert_not_null(pc);
    uint8_t sig[MC_SIG_BYTES];
    memcpy(sig, pc->sig, sizeof sig);
    cr_assert_eq(memcmp(saved.sig, sig, MC_SIG_BYTES), 0, "persisted what it sent");
    cr_assert_eq(saved.step, MC_CONSENSUS_STEP_PRECOMMIT);

    /* crash: the restored record comes through the codec, as from disk */
    struct mc_buf buf;
    mc_buf_init(&buf, 0);
    mc_consensus_signed_state_encode(&buf, &saved);
    struct mc_consensus_signed_state restored;
    cr_assert_eq(mc_consensus_signed_state_decode(&restored, buf.data, buf.len), 0);
    mc_buf_deinit(&buf);
    memset(eng, 0xA5, sizeof *eng);
    cr_assert_eq(mc_consensus_init(eng, &cfg, &vs, &keys[me], 1, &restored, &persist), 0);
    cr_assert_eq(mc_consensus_start(eng, &out), 0);
    cr_assert(eng->has_locked, "the lock survives the crash");
    /* the round-0 proposal arrives again: prevoting now would go backwards */
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0);
    cr_assert_null(find_vote(MC_VOTE_PREVOTE), "(1,0,prevote) < (1,0,precommit): refused");
    cr_assert_geq(eng->stats.refused_signatures, 1);
    /* the same precommit again is fine and identical (our own pre-crash
     * prevote is gone from memory, so three others make the polka) */
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PREVOTE, 1, 0, &a);
        cr_assert_eq(feed_vote(&v), 0);
    }
    pc = find_vote(MC_VOTE_PRECOMMIT);
    cr_assert_not_null(pc, "an identical precommit may be re-emitted");
    cr_assert_eq(memcmp(pc->sig, sig, MC_SIG_BYTES), 0);
    /* round 1 with value b: locked on a, so nil; moving up is allowed */
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 0, NULL);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PRECOMMIT, 1, 0), 0);
    if (mc_consensus_proposer(&vs, 1, 1) != me) {
        struct mc_proposal q = proposal(1, 1, &b, -1);
        cr_assert_eq(feed_proposal(&q), 0);
        cr_assert_eq(feed_validity(1, &b, true), 0);
        const struct mc_vote *pv = find_vote(MC_VOTE_PREVOTE);
        cr_assert(pv && !pv->has_block);
        cr_assert_eq(saved.round, 1);
    }
}

Test(consensus, a_failed_save_halts_signing) {
    int me = non_proposer(1, 0);
    start(me, 1);
    fail_save = true;
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PROPOSE, 1, 0), MC_ERR_IO);
    cr_assert_null(find_vote(MC_VOTE_PREVOTE), "nothing is emitted unsaved");
    fail_save = false;
    struct mc_vote v1 = vote(other(me, 0), MC_VOTE_PREVOTE, 1, 0, NULL);
    struct mc_vote v2 = vote(other(me, 1), MC_VOTE_PREVOTE, 1, 0, NULL);
    cr_assert_eq(feed_vote(&v1), 0);
    cr_assert_eq(feed_vote(&v2), 0);
    cr_assert_null(find_vote(MC_VOTE_PRECOMMIT), "halted: still no signatures");
    cr_assert_eq(saves, 0);
}

Test(consensus, a_record_from_a_later_height_is_refused) {
    struct mc_consensus_signed_state s;
    memset(&s, 0, sizeof s);
    s.height = 5;
    s.step = MC_CONSENSUS_STEP_PREVOTE;
    cr_assert_eq(mc_consensus_init(eng, &cfg, &vs, &keys[0], 3, &s, &persist), MC_ERR_INVALID);
}

Test(consensus, same_inputs_same_outputs) {
    static struct mc_consensus_output outs[2][6];
    for (int run = 0; run < 2; run++) {
        int me = non_proposer(1, 0);
        start(me, 1);
        outs[run][0] = out;
        mc_hash a = value(1);
        struct mc_proposal p = proposal(1, 0, &a, -1);
        cr_assert_eq(feed_proposal(&p), 0);
        outs[run][1] = out;
        cr_assert_eq(feed_validity(1, &a, true), 0);
        outs[run][2] = out;
        for (int k = 0; k < 3; k++) {
            struct mc_vote v = vote(other(me, k), k < 2 ? MC_VOTE_PREVOTE : MC_VOTE_PRECOMMIT,
                                    1, 0, &a);
            cr_assert_eq(feed_vote(&v), 0);
            outs[run][3 + k] = out;
        }
    }
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(outs[0][i].count, outs[1][i].count);
        for (uint32_t j = 0; j < outs[0][i].count; j++) {
            const struct mc_consensus_action *x = &outs[0][i].actions[j], *y = &outs[1][i].actions[j];
            cr_assert_eq(x->kind, y->kind);
            if (x->kind == MC_CONSENSUS_OUT_VOTE)
                cr_assert_eq(memcmp(x->u.vote.sig, y->u.vote.sig, MC_SIG_BYTES), 0);
        }
    }
}

/* ---- proof-of-lock persistence and vote relay ----------------------------- */

/* A persistence hook that also keeps others' votes, as consensus.h asks:
 * it reads mc_consensus_relay_votes() during save. */
static struct mc_vote pol_saved[MC_CONSENSUS_RELAY_MAX(N)];
static uint32_t pol_saved_count;

static int save_with_pol(void *ctx, const struct mc_consensus_signed_state *s) {
    (void)ctx;
    saved = *s;
    saves++;
    pol_saved_count = mc_consensus_relay_votes(eng, pol_saved, MC_CONSENSUS_RELAY_MAX(N));
    return 0;
}

static bool holds_vote(const struct mc_vote *list, uint32_t n, int who, uint8_t type,
                       uint32_t round) {
    for (uint32_t i = 0; i < n; i++)
        if (list[i].validator == who && list[i].type == type && list[i].round == round)
            return true;
    return false;
}

Test(consensus, a_validator_restarted_while_locked_gets_its_proof_of_lock_back) {
    struct mc_consensus_persist pp = {save_with_pol, NULL};
    int me = non_proposer(1, 0);
    mc_hash a = value(1);
    cr_assert_eq(mc_consensus_init(eng, &cfg, &vs, &keys[me], 1, NULL, &pp), 0);
    cr_assert_eq(mc_consensus_start(eng, &out), 0);
    struct mc_proposal p = proposal(1, 0, &a, -1);
    cr_assert_eq(feed_proposal(&p), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0);
    for (int k = 0; k < 2; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PREVOTE, 1, 0, &a);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert(eng->has_locked && find_vote(MC_VOTE_PRECOMMIT), "locked and precommitted");
    cr_assert_geq(pol_saved_count, 3, "the save before the precommit holds the polka");
    cr_assert(holds_vote(pol_saved, pol_saved_count, other(me, 0), MC_VOTE_PREVOTE, 0));
    cr_assert(holds_vote(pol_saved, pol_saved_count, other(me, 1), MC_VOTE_PREVOTE, 0));

    /* crash and restart from the record alone: the lock is back, its proof is not */
    struct mc_consensus_signed_state restored = saved;
    uint32_t npol = pol_saved_count;
    struct mc_vote pol[MC_CONSENSUS_RELAY_MAX(N)];
    memcpy(pol, pol_saved, sizeof pol);
    cr_assert_eq(mc_consensus_init(eng, &cfg, &vs, &keys[me], 1, &restored, &pp), 0);
    cr_assert_eq(mc_consensus_start(eng, &out), 0);
    struct mc_vote got[MC_CONSENSUS_RELAY_MAX(N)];
    cr_assert(eng->has_locked);
    cr_assert_eq(mc_consensus_pol_votes(eng, got, N), 0, "nothing to show for the lock");
    /* the persisted proof-of-lock fed back in: the engine holds and relays it */
    for (uint32_t i = 0; i < npol; i++) cr_assert_eq(feed_vote(&pol[i]), 0);
    cr_assert_eq(mc_consensus_pol_votes(eng, got, N), 3);
    uint32_t nr = mc_consensus_relay_votes(eng, got, MC_CONSENSUS_RELAY_MAX(N));
    cr_assert(holds_vote(got, nr, other(me, 0), MC_VOTE_PREVOTE, 0));
    cr_assert(holds_vote(got, nr, other(me, 1), MC_VOTE_PREVOTE, 0));

    /* a peer in round 1 shown a re-proposal of a with pol_round 0 waits
     * (L28 needs the polka) until the relayed votes arrive, then prevotes a */
    int peer = -1;
    for (int i = 0; i < N && peer < 0; i++)
        if (i != me && i != mc_consensus_proposer(&vs, 1, 1)) peer = i;
    start(peer, 1);
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(peer, k), MC_VOTE_PRECOMMIT, 1, 0, NULL);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PRECOMMIT, 1, 0), 0);
    cr_assert_eq(eng->round, 1);
    struct mc_proposal q = proposal(1, 1, &a, 0);
    cr_assert_eq(feed_proposal(&q), 0);
    cr_assert_eq(feed_validity(1, &a, true), 0);
    cr_assert_null(find_vote(MC_VOTE_PREVOTE), "no proof yet: wait");
    const struct mc_vote *pv = NULL;
    for (uint32_t i = 0; i < nr && !pv; i++) {
        if (got[i].type != MC_VOTE_PREVOTE || got[i].round != 0) continue;
        cr_assert_eq(feed_vote(&got[i]), 0);
        pv = find_vote(MC_VOTE_PREVOTE);
    }
    cr_assert(pv && pv->round == 1 && pv->has_block && memcmp(pv->block_hash.b, a.b, 32) == 0,
              "with the relayed polka the peer prevotes the re-proposed value");
}

Test(consensus, relay_votes_cover_the_current_round_and_the_previous_precommits) {
    int me = non_proposer(1, 0);
    start(me, 1);
    mc_hash a = value(1);
    struct mc_vote pv0 = vote(other(me, 0), MC_VOTE_PREVOTE, 1, 0, &a);
    cr_assert_eq(feed_vote(&pv0), 0);
    struct mc_vote got[MC_CONSENSUS_RELAY_MAX(N)];
    uint32_t n = mc_consensus_relay_votes(eng, got, MC_CONSENSUS_RELAY_MAX(N));
    cr_assert_eq(n, 1, "round 0: the one vote held");
    cr_assert(holds_vote(got, n, other(me, 0), MC_VOTE_PREVOTE, 0));
    for (int k = 0; k < 3; k++) {
        struct mc_vote v = vote(other(me, k), MC_VOTE_PRECOMMIT, 1, 0, NULL);
        cr_assert_eq(feed_vote(&v), 0);
    }
    cr_assert_eq(feed_timeout(MC_CONSENSUS_TIMEOUT_PRECOMMIT, 1, 0), 0);
    cr_assert_eq(eng->round, 1);
    struct mc_vote pv1 = vote(other(me, 1), MC_VOTE_PREVOTE, 1, 1, NULL);
    cr_assert_eq(feed_vote(&pv1), 0);
    n = mc_consensus_relay_votes(eng, got, MC_CONSENSUS_RELAY_MAX(N));
    cr_assert_eq(n, 4, "round 1's prevote and round 0's three precommits");
    cr_assert(holds_vote(got, n, other(me, 1), MC_VOTE_PREVOTE, 1));
    for (int k = 0; k < 3; k++) cr_assert(holds_vote(got, n, other(me, k), MC_VOTE_PRECOMMIT, 0));
    cr_assert(!holds_vote(got, n, other(me, 0), MC_VOTE_PREVOTE, 0), "older prevotes stay");
    for (uint32_t i = 0; i < n; i++) cr_assert_eq(mc_vote_verify(&got[i], &vs, CHAIN), 0);
    cr_assert_eq(mc_consensus_relay_votes(eng, got, 2), 2, "max is respected");
}
