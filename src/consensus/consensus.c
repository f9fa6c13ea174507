/* Tendermint Algorithm 1 as a pure step function (contract in consensus.h).
 *
 * Line numbers in comments ("L22") refer to Algorithm 1 of the paper. Every
 * rule is a function that checks its guard against the current state and,
 * when it fires, changes the state so that the same guard cannot fire again;
 * evaluate() runs the rules in a fixed order until none fires. */
#include "consensus/consensus.h"

#include "base/assert.h"

#include <stdlib.h>
#include <string.h>

enum { VALIDITY_UNKNOWN = 0, VALIDITY_ASKED = 1, VALIDITY_VALID = 2, VALIDITY_INVALID = 3 };

/* A step never cascades through more rule firings than this (each rule
 * fires at most once per round, and a step enters at most one new round). */
#define RULE_FIRINGS_MAX 64

void mc_consensus_config_default(struct mc_consensus_config *cfg, const char *chain_id) {
    memset(cfg, 0, sizeof *cfg);
    MC_ASSERT(strlen(chain_id) <= MC_CHAIN_ID_MAX);
    memcpy(cfg->chain_id, chain_id, strlen(chain_id));
    cfg->propose_timeout_ms = 3000;
    cfg->propose_timeout_delta_ms = 500;
    cfg->prevote_timeout_ms = 1000;
    cfg->prevote_timeout_delta_ms = 500;
    cfg->precommit_timeout_ms = 1000;
    cfg->precommit_timeout_delta_ms = 500;
}

void mc_consensus_set_timeouts(struct mc_consensus *c, const struct mc_consensus_config *cfg) {
    c->cfg.propose_timeout_ms = cfg->propose_timeout_ms;
    c->cfg.propose_timeout_delta_ms = cfg->propose_timeout_delta_ms;
    c->cfg.prevote_timeout_ms = cfg->prevote_timeout_ms;
    c->cfg.prevote_timeout_delta_ms = cfg->prevote_timeout_delta_ms;
    c->cfg.precommit_timeout_ms = cfg->precommit_timeout_ms;
    c->cfg.precommit_timeout_delta_ms = cfg->precommit_timeout_delta_ms;
}

uint64_t mc_consensus_timeout_ms(const struct mc_consensus_config *cfg, uint8_t kind,
                                 uint32_t round) {
    uint64_t base, delta;
    switch (kind) {
    case MC_CONSENSUS_TIMEOUT_PROPOSE:
        base = cfg->propose_timeout_ms, delta = cfg->propose_timeout_delta_ms;
        break;
    case MC_CONSENSUS_TIMEOUT_PREVOTE:
        base = cfg->prevote_timeout_ms, delta = cfg->prevote_timeout_delta_ms;
        break;
    case MC_CONSENSUS_TIMEOUT_PRECOMMIT:
        base = cfg->precommit_timeout_ms, delta = cfg->precommit_timeout_delta_ms;
        break;
    default:
        MC_ASSERT(!"a timeout kind the engine does not have"); /* misuse */
    }
    /* round <= 2^24 and delta < 2^32: exact in 64 bits. */
    return base + (uint64_t)round * delta;
}

/* ---- signed state record ------------------------------------------------ */

void mc_consensus_signed_state_encode(struct mc_buf *b, const struct mc_consensus_signed_state *s) {
    mc_enc_u64(b, s->height);
    mc_enc_u32(b, s->round);
    mc_enc_u8(b, s->step);
    mc_enc_fixed(b, s->msg_hash.b, MC_HASH_BYTES);
    mc_enc_fixed(b, s->sig, MC_SIG_BYTES);
    mc_enc_bool(b, s->has_locked);
    mc_enc_u32(b, s->locked_round);
    mc_enc_fixed(b, s->locked_value.b, MC_HASH_BYTES);
    mc_enc_bool(b, s->has_valid);
    mc_enc_u32(b, s->valid_round);
    mc_enc_fixed(b, s->valid_value.b, MC_HASH_BYTES);
}

static bool is_zero(const void *p, size_t n) {
    const uint8_t *b = p;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc |= b[i];
    return acc == 0;
}

int mc_consensus_signed_state_decode(struct mc_consensus_signed_state *s, const void *p,
                                     size_t len) {
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    memset(s, 0, sizeof *s);
    s->height = mc_dec_u64(&d);
    s->round = mc_dec_u32(&d);
    s->step = mc_dec_u8(&d);
    mc_dec_fixed(&d, s->msg_hash.b, MC_HASH_BYTES);
    mc_dec_fixed(&d, s->sig, MC_SIG_BYTES);
    s->has_locked = mc_dec_bool(&d);
    s->locked_round = mc_dec_u32(&d);
    mc_dec_fixed(&d, s->locked_value.b, MC_HASH_BYTES);
    s->has_valid = mc_dec_bool(&d);
    s->valid_round = mc_dec_u32(&d);
    mc_dec_fixed(&d, s->valid_value.b, MC_HASH_BYTES);
    if (!d.err) {
        bool ok = s->step <= MC_CONSENSUS_STEP_PRECOMMIT;
        if (!s->has_locked)
            ok = ok && s->locked_round == 0 && is_zero(s->locked_value.b, MC_HASH_BYTES);
        if (!s->has_valid)
            ok = ok && s->valid_round == 0 && is_zero(s->valid_value.b, MC_HASH_BYTES);
        if (s->step == 0)
            ok = ok && s->height == 0 && s->round == 0 && is_zero(s->msg_hash.b, MC_HASH_BYTES) &&
                 is_zero(s->sig, MC_SIG_BYTES);
        if (!ok) mc_dec_fail(&d, MC_ERR_MALFORMED);
    }
    int rc = mc_dec_finish(&d);
    if (rc) memset(s, 0, sizeof *s);
    return rc;
}

/* ---- proposer schedule -------------------------------------------------- */

/* One turn of weighted round robin; returns the index chosen. */
static uint16_t prio_turn(int64_t *prio, const struct mc_valset *vs) {
    uint32_t best = 0;
    for (uint32_t i = 0; i < vs->count; i++) {
        prio[i] += (int64_t)vs->v[i].power;
        if (prio[i] > prio[best]) best = i;
    }
    prio[best] -= (int64_t)vs->total_power;
    return (uint16_t)best;
}

/* Priorities before turn (height mod total). */
static void prio_at_height(int64_t *prio, const struct mc_valset *vs, uint64_t height) {
    memset(prio, 0, sizeof(int64_t) * MC_VALIDATORS_MAX);
    uint64_t k = height % vs->total_power;
    for (uint64_t i = 0; i < k; i++) (void)prio_turn(prio, vs);
}

static uint16_t proposer_from(const int64_t *base, const struct mc_valset *vs, uint32_t round) {
    int64_t prio[MC_VALIDATORS_MAX];
    memcpy(prio, base, sizeof prio);
    /* The schedule repeats every total_power turns (each validator is chosen
     * exactly power times per period and priorities return to zero). */
    uint64_t turns = round % vs->total_power;
    for (uint64_t i = 0; i < turns; i++) (void)prio_turn(prio, vs);
    return prio_turn(prio, vs);
}

uint16_t mc_consensus_proposer(const struct mc_valset *vs, uint64_t height, uint32_t round) {
    /* misuse: an empty or oversized validator set */
    MC_ASSERT(vs->count != 0 && vs->total_power != 0 && vs->total_power <= MC_CONSENSUS_POWER_MAX);
    int64_t prio[MC_VALIDATORS_MAX];
    prio_at_height(prio, vs, height);
    return proposer_from(prio, vs, round);
}

static uint16_t proposer_of(const struct mc_consensus *c, uint32_t round) {
    return proposer_from(c->prio_base, c->vs, round);
}

/* ---- round slots -------------------------------------------------------- */

static struct mc_consensus_round *slot_find(struct mc_consensus *c, uint32_t round) {
    for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++)
        if (c->rounds[i].used && c->rounds[i].round == round) return &c->rounds[i];
    return NULL;
}

/* How far a round is from the current one; past rounds count slightly more
 * than future ones at the same distance. Unique per round. */
static uint64_t slot_distance(const struct mc_consensus *c, uint32_t round) {
    if (round >= c->round) return 2 * (uint64_t)(round - c->round);
    return 2 * (uint64_t)(c->round - round) + 1;
}

static bool slot_protected(const struct mc_consensus *c, uint32_t round) {
    return round == c->round || (c->has_locked && round == c->locked_round) ||
           (c->has_valid && round == c->valid_round);
}

static void slot_clear(struct mc_consensus_round *s) { memset(s, 0, sizeof *s); }

/* Finds or makes the slot of a round; NULL when every slot holds a round
 * nearer to the current one (the caller drops the message). */
static struct mc_consensus_round *slot_get(struct mc_consensus *c, uint32_t round) {
    struct mc_consensus_round *s = slot_find(c, round);
    if (s) return s;
    int victim = -1;
    for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++) {
        if (!c->rounds[i].used) {
            victim = i;
            break;
        }
    }
    if (victim < 0) {
        uint64_t worst = 0;
        for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++) {
            uint32_t r = c->rounds[i].round;
            if (slot_protected(c, r)) continue;
            uint64_t d = slot_distance(c, r);
            if (victim < 0 || d > worst) victim = i, worst = d;
        }
        if (victim < 0 || worst <= slot_distance(c, round)) return NULL;
    }
    s = &c->rounds[victim];
    slot_clear(s);
    s->used = true;
    s->round = round;
    return s;
}

/* ---- tallies ------------------------------------------------------------ */

static bool value_is(const struct mc_consensus_vote_value *x, bool has_block,
                     const mc_hash *hash) {
    if (!x->present || x->has_block != has_block) return false;
    return !has_block || memcmp(x->block_hash.b, hash->b, MC_HASH_BYTES) == 0;
}

/* The stored vote of an entry for a value (nil when has_block is false). */
static const struct mc_consensus_vote_value *entry_match(const struct mc_consensus_vote_entry *e,
                                                         bool has_block, const mc_hash *hash) {
    if (value_is(&e->first, has_block, hash)) return &e->first;
    if (value_is(&e->alt, has_block, hash)) return &e->alt;
    return NULL;
}

static uint64_t power_for(const struct mc_consensus *c, const struct mc_consensus_vote_entry *e,
                          bool has_block, const mc_hash *hash) {
    uint64_t power = 0;
    for (uint32_t i = 0; i < c->vs->count; i++)
        if (entry_match(&e[i], has_block, hash)) power += c->vs->v[i].power;
    return power;
}

static bool quorum(const struct mc_consensus *c, uint64_t power) {
    return mc_valset_is_quorum(c->vs, power);
}

/* More than a third of the power: at least one honest validator. */
static bool one_third(const struct mc_consensus *c, uint64_t power) {
    return power * 3 > c->vs->total_power;
}

static bool hash_eq(const mc_hash *a, const mc_hash *b) {
    return memcmp(a->b, b->b, MC_HASH_BYTES) == 0;
}

static void mark_seen(struct mc_consensus *c, struct mc_consensus_round *s, uint16_t validator) {
    if (s->seen[validator]) return;
    s->seen[validator] = true;
    s->seen_power += c->vs->v[validator].power;
}

/* ---- outputs ------------------------------------------------------------ */

static struct mc_consensus_action *push(struct mc_consensus_output *out, int kind) {
    MC_ASSERT(out->count < MC_CONSENSUS_ACTIONS_MAX); /* the actions bound holds */
    struct mc_consensus_action *a = &out->actions[out->count++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    return a;
}

static void schedule(struct mc_consensus *c, struct mc_consensus_output *out, uint8_t kind) {
    struct mc_consensus_action *a = push(out, MC_CONSENSUS_OUT_TIMEOUT);
    a->u.timer.timeout.kind = kind;
    a->u.timer.timeout.height = c->height;
    a->u.timer.timeout.round = c->round;
    a->u.timer.duration_ms = mc_consensus_timeout_ms(&c->cfg, kind, c->round);
}

/* ---- the double-sign guard ---------------------------------------------- */

static int cmp_hrs(uint64_t h1, uint32_t r1, uint8_t s1, uint64_t h2, uint32_t r2, uint8_t s2) {
    if (h1 != h2) return h1 < h2 ? -1 : 1;
    if (r1 != r2) return r1 < r2 ? -1 : 1;
    if (s1 != s2) return s1 < s2 ? -1 : 1;
    return 0;
}

/* Decides whether this validator may sign msg at (height, round, step).
 * On yes, persists the new record first and writes the signature to sig.
 * Returns 1 to emit, 0 when refused (conflict with what was signed before,
 * or no key), MC_ERR_IO when the hook failed (the engine halts). */
static int guarded_sign(struct mc_consensus *c, uint8_t sig[MC_SIG_BYTES], const char *purpose,
                        uint32_t round, uint8_t step, const uint8_t *msg, size_t len) {
    if (!c->key || c->self < 0 || c->halted) return 0;
    mc_hash mh;
    mc_sha256(&mh, msg, len);
    const struct mc_consensus_signed_state *last = &c->signed_state;
    if (last->step != 0) {
        int cmp = cmp_hrs(c->height, round, step, last->height, last->round, last->step);
        if (cmp < 0 || (cmp == 0 && !hash_eq(&mh, &last->msg_hash))) {
            c->stats.refused_signatures++;
            return 0;
        }
        if (cmp == 0) { /* the very same message: re-emit it */
            memcpy(sig, last->sig, MC_SIG_BYTES);
            return 1;
        }
    }
    struct mc_consensus_signed_state next;
    memset(&next, 0, sizeof next);
    next.height = c->height;
    next.round = round;
    next.step = step;
    next.msg_hash = mh;
    mc_sign(next.sig, c->key, purpose, c->cfg.chain_id, msg, len);
    next.has_locked = c->has_locked;
    if (c->has_locked) next.locked_round = c->locked_round, next.locked_value = c->locked_value;
    next.has_valid = c->has_valid;
    if (c->has_valid) next.valid_round = c->valid_round, next.valid_value = c->valid_value;
    next.signed_bytes = msg;
    next.signed_len = len;
    if (c->persist.save) {
        int rc = c->persist.save(c->persist.ctx, &next);
        if (rc) {
            c->halted = true;
            return MC_ERR_IO;
        }
    }
    next.signed_bytes = NULL;
    next.signed_len = 0;
    c->signed_state = next;
    memcpy(sig, next.sig, MC_SIG_BYTES);
    return 1;
}

/* ---- storing messages --------------------------------------------------- */

static void vote_from_entry(struct mc_vote *v, const struct mc_consensus *c, uint8_t type,
                            uint32_t round, uint16_t validator,
                            const struct mc_consensus_vote_value *e) {
    memset(v, 0, sizeof *v);
    v->type = type;
    v->height = c->height;
    v->round = round;
    v->has_block = e->has_block;
    if (e->has_block) v->block_hash = e->block_hash;
    v->validator = validator;
    memcpy(v->sig, e->sig, MC_SIG_BYTES);
}

static void value_set(struct mc_consensus_vote_value *x, const struct mc_vote *v) {
    x->present = true;
    x->has_block = v->has_block;
    x->block_hash = v->block_hash;
    memcpy(x->sig, v->sig, MC_SIG_BYTES);
}

/* Adds a vote for the current height. verify = false only for our own. */
static int add_vote(struct mc_consensus *c, struct mc_consensus_output *out,
                    const struct mc_vote *v, bool verify) {
    if (v->type != MC_VOTE_PREVOTE && v->type != MC_VOTE_PRECOMMIT) return MC_ERR_INVALID;
    if (v->validator >= c->vs->count || v->round > MC_CONSENSUS_ROUND_MAX) return MC_ERR_INVALID;
    if (!v->has_block && !is_zero(v->block_hash.b, MC_HASH_BYTES)) return MC_ERR_INVALID;
    struct mc_consensus_round *s = slot_find(c, v->round);
    if (s) {
        struct mc_consensus_vote_entry *e =
            v->type == MC_VOTE_PREVOTE ? &s->prevotes[v->validator] : &s->precommits[v->validator];
        if (e->first.present) {
            /* a duplicate (Ed25519 signatures are unique per message) */
            if (entry_match(e, v->has_block, &v->block_hash)) return 0;
            if (verify) {
                int rc = mc_vote_verify(v, c->vs, c->cfg.chain_id);
                if (rc) return rc;
            }
            if (!e->equivocated) {
                struct mc_vote first;
                vote_from_entry(&first, c, v->type, v->round, v->validator, &e->first);
                struct mc_consensus_action *a = push(out, MC_CONSENSUS_OUT_EVIDENCE);
                int erc = mc_evidence_init(&a->u.evidence, &first, v);
                MC_ASSERT(erc == 0); /* they conflict */
                e->equivocated = true;
                c->stats.evidence_emitted++;
            }
            const mc_hash *ph = s->has_proposal ? &s->proposal.block_hash : NULL;
            bool for_proposal = ph && v->has_block && hash_eq(&v->block_hash, ph);
            bool alt_for_proposal = ph && value_is(&e->alt, true, ph);
            if (!e->alt.present || (for_proposal && !alt_for_proposal)) value_set(&e->alt, v);
            return 0;
        }
    }
    if (verify) {
        int rc = mc_vote_verify(v, c->vs, c->cfg.chain_id);
        if (rc) return rc;
    }
    if (!s) s = slot_get(c, v->round);
    if (!s) {
        c->stats.votes_dropped++;
        return MC_ERR_FULL;
    }
    struct mc_consensus_vote_entry *e =
        v->type == MC_VOTE_PREVOTE ? &s->prevotes[v->validator] : &s->precommits[v->validator];
    value_set(&e->first, v);
    if (v->type == MC_VOTE_PREVOTE) s->prevote_power += c->vs->v[v->validator].power;
    else s->precommit_power += c->vs->v[v->validator].power;
    mark_seen(c, s, v->validator);
    return 0;
}

/* What is already known about a block's validity at this height. */
static uint8_t known_validity(const struct mc_consensus *c, const mc_hash *hash) {
    if (c->has_locked && hash_eq(&c->locked_value, hash)) return VALIDITY_VALID;
    if (c->has_valid && hash_eq(&c->valid_value, hash)) return VALIDITY_VALID;
    uint8_t best = VALIDITY_UNKNOWN;
    for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++) {
        const struct mc_consensus_round *s = &c->rounds[i];
        if (!s->used || !s->has_proposal || !hash_eq(&s->proposal.block_hash, hash)) continue;
        if (s->validity > best) best = s->validity;
    }
    return best;
}

static void store_proposal(struct mc_consensus *c, struct mc_consensus_output *out,
                           struct mc_consensus_round *s, const struct mc_proposal *p,
                           uint8_t validity) {
    s->has_proposal = true;
    s->proposal = *p;
    mark_seen(c, s, p->proposer);
    if (validity == VALIDITY_UNKNOWN) validity = known_validity(c, &p->block_hash);
    if (validity == VALIDITY_UNKNOWN) {
        struct mc_consensus_action *a = push(out, MC_CONSENSUS_OUT_VALIDATE);
        a->u.validate.height = c->height;
        a->u.validate.block_hash = p->block_hash;
        validity = VALIDITY_ASKED;
    }
    s->validity = validity;
}

static bool proposal_eq(const struct mc_proposal *a, const struct mc_proposal *b) {
    return a->height == b->height && a->round == b->round &&
           a->has_pol_round == b->has_pol_round && a->pol_round == b->pol_round &&
           hash_eq(&a->block_hash, &b->block_hash) && a->proposer == b->proposer &&
           memcmp(a->sig, b->sig, MC_SIG_BYTES) == 0;
}

static int add_proposal(struct mc_consensus *c, struct mc_consensus_output *out,
                        const struct mc_proposal *p) {
    if (p->round > MC_CONSENSUS_ROUND_MAX) return MC_ERR_INVALID;
    /* Proposals far ahead are dropped (the proposer check costs O(round)). */
    if (p->round > c->round + MC_CONSENSUS_ROUND_SLOTS) return MC_ERR_STATE;
    if (p->has_pol_round ? p->pol_round >= p->round : p->pol_round != 0) return MC_ERR_INVALID;
    struct mc_consensus_round *s = slot_find(c, p->round);
    if (s && s->has_proposal) {
        if (proposal_eq(&s->proposal, p)) return 0; /* duplicate */
        return MC_ERR_EXISTS; /* the first proposal of a round stands */
    }
    if (p->proposer != proposer_of(c, p->round)) return MC_ERR_INVALID;
    int rc = mc_proposal_verify(p, c->vs, c->cfg.chain_id);
    if (rc) return rc;
    if (!s) s = slot_get(c, p->round);
    if (!s) return MC_ERR_FULL;
    store_proposal(c, out, s, p, VALIDITY_UNKNOWN);
    return 0;
}

/* ---- casting our own messages ------------------------------------------- */

static int cast_vote(struct mc_consensus *c, struct mc_consensus_output *out, uint8_t type,
                     const mc_hash *block_hash /* NULL = nil */) {
    if (c->self < 0) return 0;
    struct mc_vote v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = c->height;
    v.round = c->round;
    v.has_block = block_hash != NULL;
    if (block_hash) v.block_hash = *block_hash;
    v.validator = (uint16_t)c->self;
    uint8_t m[MC_VOTE_SIGNED_BYTES];
    mc_vote_signed_bytes(m, &v);
    uint8_t step = type == MC_VOTE_PREVOTE ? MC_CONSENSUS_STEP_PREVOTE : MC_CONSENSUS_STEP_PRECOMMIT;
    int rc = guarded_sign(c, v.sig, MC_SIGN_VOTE, c->round, step, m, sizeof m);
    if (rc <= 0) return rc;
    (void)add_vote(c, out, &v, false); /* our own slot is current: always stored */
    push(out, MC_CONSENSUS_OUT_VOTE)->u.vote = v;
    return 0;
}

static int cast_proposal(struct mc_consensus *c, struct mc_consensus_output *out,
                         const mc_hash *block_hash, bool has_pol, uint32_t pol_round) {
    struct mc_proposal p;
    memset(&p, 0, sizeof p);
    p.height = c->height;
    p.round = c->round;
    p.has_pol_round = has_pol;
    p.pol_round = has_pol ? pol_round : 0;
    p.block_hash = *block_hash;
    p.proposer = (uint16_t)c->self;
    uint8_t m[MC_PROPOSAL_SIGNED_BYTES];
    mc_proposal_signed_bytes(m, &p);
    int rc = guarded_sign(c, p.sig, MC_SIGN_PROPOSAL, c->round, MC_CONSENSUS_STEP_PROPOSE, m,
                          sizeof m);
    if (rc <= 0) return rc;
    struct mc_consensus_round *s = slot_get(c, c->round);
    MC_ASSERT(s != NULL); /* the current round always has a slot */
    if (!s->has_proposal) store_proposal(c, out, s, &p, VALIDITY_VALID);
    push(out, MC_CONSENSUS_OUT_PROPOSAL)->u.proposal = p;
    return 0;
}

/* StartRound (L11-L21). */
static int start_round(struct mc_consensus *c, struct mc_consensus_output *out, uint32_t round) {
    c->round = round;
    c->step = MC_CONSENSUS_STEP_PROPOSE;
    c->awaiting_value = false;
    MC_ASSERT(slot_get(c, round) != NULL); /* protected, so always available */
    int rc = 0;
    if (c->self >= 0 && proposer_of(c, round) == (uint16_t)c->self) {
        if (c->has_valid) {
            /* After a restart valid_round may equal the round: propose
             * without a proof-of-lock round then (any value may be proposed). */
            bool pol = c->valid_round < round;
            rc = cast_proposal(c, out, &c->valid_value, pol, c->valid_round);
        } else {
            c->awaiting_value = true;
            struct mc_consensus_action *a = push(out, MC_CONSENSUS_OUT_GET_VALUE);
            a->u.get_value.height = c->height;
            a->u.get_value.round = round;
        }
    }
    /* The paper sets this timer only for non-proposers; setting it always is
     * harmless (it acts only while still in the propose step) and lets a
     * proposer whose application never answers GET_VALUE move on. */
    schedule(c, out, MC_CONSENSUS_TIMEOUT_PROPOSE);
    return rc;
}

/* ---- the rules ---------------------------------------------------------- */

/* L49: a proposal of some round r and 2/3+ precommits for it in r. */
static bool rule_decide(struct mc_consensus *c, struct mc_consensus_output *out) {
    for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++) {
        struct mc_consensus_round *s = &c->rounds[i];
        if (!s->used || !s->has_proposal || s->validity != VALIDITY_VALID) continue;
        const mc_hash *h = &s->proposal.block_hash;
        if (!quorum(c, power_for(c, s->precommits, true, h))) continue;
        mc_commit_init(&out->commit, c->height, s->round, h);
        for (uint32_t v = 0; v < c->vs->count; v++) {
            const struct mc_consensus_vote_value *e = entry_match(&s->precommits[v], true, h);
            if (!e) continue;
            struct mc_vote vote;
            vote_from_entry(&vote, c, MC_VOTE_PRECOMMIT, s->round, (uint16_t)v, e);
            int crc = mc_commit_add(&out->commit, &vote);
            MC_ASSERT(crc == 0);
        }
        out->decided = true;
        c->decided = true;
        return true;
    }
    return false;
}

/* L55: f+1 power has sent messages for a later round: skip to it. */
static bool rule_skip(struct mc_consensus *c, struct mc_consensus_output *out, int *err) {
    bool found = false;
    uint32_t target = 0;
    for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++) {
        const struct mc_consensus_round *s = &c->rounds[i];
        if (!s->used || s->round <= c->round || !one_third(c, s->seen_power)) continue;
        if (!found || s->round > target) target = s->round, found = true;
    }
    if (!found) return false;
    int rc = start_round(c, out, target);
    if (rc && !*err) *err = rc;
    return true;
}

/* L22 and L28: prevote on the proposal of the current round. */
static bool rule_prevote(struct mc_consensus *c, struct mc_consensus_output *out, int *err) {
    if (c->step != MC_CONSENSUS_STEP_PROPOSE) return false;
    struct mc_consensus_round *s = slot_find(c, c->round);
    if (!s || !s->has_proposal) return false;
    if (s->validity != VALIDITY_VALID && s->validity != VALIDITY_INVALID) return false;
    const struct mc_proposal *p = &s->proposal;
    bool valid = s->validity == VALIDITY_VALID;
    bool ok;
    if (!p->has_pol_round) { /* L22 */
        ok = valid && (!c->has_locked || hash_eq(&c->locked_value, &p->block_hash));
#ifdef MC_MUTANT_IGNORE_LOCK
        ok = valid;
#endif
    } else { /* L28 */
        struct mc_consensus_round *pol = slot_find(c, p->pol_round);
        bool polka = pol && quorum(c, power_for(c, pol->prevotes, true, &p->block_hash));
#ifdef MC_MUTANT_NO_POLKA_CHECK
        polka = true;
#endif
        if (!polka) return false; /* wait for the prevotes or the timeout */
        ok = valid && (!c->has_locked || c->locked_round <= p->pol_round ||
                       hash_eq(&c->locked_value, &p->block_hash));
#ifdef MC_MUTANT_IGNORE_LOCK
        ok = valid;
#endif
    }
    c->step = MC_CONSENSUS_STEP_PREVOTE;
    c->awaiting_value = false;
    mc_hash h = p->block_hash;
    int rc = cast_vote(c, out, MC_VOTE_PREVOTE, ok ? &h : NULL);
    if (rc && !*err) *err = rc;
    return true;
}

/* L34: 2/3+ prevotes for anything: start the prevote timer. */
static bool rule_timeout_prevote(struct mc_consensus *c, struct mc_consensus_output *out) {
    if (c->step != MC_CONSENSUS_STEP_PREVOTE) return false;
    struct mc_consensus_round *s = slot_find(c, c->round);
    if (!s || s->timeout_prevote_done || !quorum(c, s->prevote_power)) return false;
    s->timeout_prevote_done = true;
    schedule(c, out, MC_CONSENSUS_TIMEOUT_PREVOTE);
    return true;
}

/* L36: a valid proposal with 2/3+ prevotes in the current round: lock and
 * precommit it (if still in the prevote step), and remember it as valid. */
static bool rule_lock(struct mc_consensus *c, struct mc_consensus_output *out, int *err) {
    if (c->step < MC_CONSENSUS_STEP_PREVOTE) return false;
    struct mc_consensus_round *s = slot_find(c, c->round);
    if (!s || s->lock_rule_done || !s->has_proposal || s->validity != VALIDITY_VALID) return false;
    mc_hash h = s->proposal.block_hash;
    bool polka = quorum(c, power_for(c, s->prevotes, true, &h));
#ifdef MC_MUTANT_NO_POLKA_CHECK
    polka = true;
#endif
    if (!polka) return false;
    s->lock_rule_done = true;
    c->has_valid = true;
    c->valid_value = h;
    c->valid_round = c->round;
    if (c->step == MC_CONSENSUS_STEP_PREVOTE) {
        c->has_locked = true;
        c->locked_value = h;
        c->locked_round = c->round;
        c->step = MC_CONSENSUS_STEP_PRECOMMIT;
        int rc = cast_vote(c, out, MC_VOTE_PRECOMMIT, &h);
        if (rc && !*err) *err = rc;
    }
    return true;
}

/* L44: 2/3+ prevotes for nil: precommit nil. */
static bool rule_precommit_nil(struct mc_consensus *c, struct mc_consensus_output *out, int *err) {
    if (c->step != MC_CONSENSUS_STEP_PREVOTE) return false;
    struct mc_consensus_round *s = slot_find(c, c->round);
    if (!s || !quorum(c, power_for(c, s->prevotes, false, NULL))) return false;
    c->step = MC_CONSENSUS_STEP_PRECOMMIT;
    int rc = cast_vote(c, out, MC_VOTE_PRECOMMIT, NULL);
    if (rc && !*err) *err = rc;
    return true;
}

/* L47: 2/3+ precommits for anything: start the precommit timer. */
static bool rule_timeout_precommit(struct mc_consensus *c, struct mc_consensus_output *out) {
    struct mc_consensus_round *s = slot_find(c, c->round);
    if (!s || s->timeout_precommit_done || !quorum(c, s->precommit_power)) return false;
    s->timeout_precommit_done = true;
    schedule(c, out, MC_CONSENSUS_TIMEOUT_PRECOMMIT);
    return true;
}

static int evaluate(struct mc_consensus *c, struct mc_consensus_output *out) {
    int err = 0;
    for (int n = 0; n < RULE_FIRINGS_MAX; n++) {
        if (c->decided) return err;
        if (rule_decide(c, out)) return err;
        if (rule_skip(c, out, &err)) continue;
        if (rule_prevote(c, out, &err)) continue;
        if (rule_timeout_prevote(c, out)) continue;
        if (rule_lock(c, out, &err)) continue;
        if (rule_precommit_nil(c, out, &err)) continue;
        if (rule_timeout_precommit(c, out)) continue;
        return err;
    }
    MC_ASSERT(!"the rule cascade ended within its bound"); /* an invariant */
    return MC_ERR_STATE;
}

/* ---- timeouts (L57-L66) --------------------------------------------------- */

static int on_timeout(struct mc_consensus *c, struct mc_consensus_output *out,
                      const struct mc_consensus_timeout *t) {
    if (t->height != c->height || t->round != c->round) return 0; /* stale */
    switch (t->kind) {
    case MC_CONSENSUS_TIMEOUT_PROPOSE:
        if (c->step != MC_CONSENSUS_STEP_PROPOSE) return 0;
        c->step = MC_CONSENSUS_STEP_PREVOTE;
        c->awaiting_value = false;
        return cast_vote(c, out, MC_VOTE_PREVOTE, NULL);
    case MC_CONSENSUS_TIMEOUT_PREVOTE:
        if (c->step != MC_CONSENSUS_STEP_PREVOTE) return 0;
        c->step = MC_CONSENSUS_STEP_PRECOMMIT;
        return cast_vote(c, out, MC_VOTE_PRECOMMIT, NULL);
    case MC_CONSENSUS_TIMEOUT_PRECOMMIT:
        if (c->round >= MC_CONSENSUS_ROUND_MAX) return 0;
        return start_round(c, out, c->round + 1);
    default:
        return MC_ERR_INVALID;
    }
}

uint32_t mc_consensus_pol_votes(const struct mc_consensus *c, struct mc_vote *out, uint32_t max) {
    if (!c->has_valid) return 0;
    const struct mc_consensus_round *s = NULL;
    for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++)
        if (c->rounds[i].used && c->rounds[i].round == c->valid_round) s = &c->rounds[i];
    if (!s) return 0;
    uint32_t n = 0;
    for (uint32_t v = 0; v < c->vs->count && n < max; v++) {
        const struct mc_consensus_vote_value *e = entry_match(&s->prevotes[v], true, &c->valid_value);
        if (!e) continue;
        vote_from_entry(&out[n++], c, MC_VOTE_PREVOTE, s->round, (uint16_t)v, e);
    }
    return n;
}

/* Appends the stored votes of one round and type matching a value (any
 * value when match is false) to out; returns the new count. */
static uint32_t collect_votes(const struct mc_consensus *c, const struct mc_consensus_round *s,
                              uint8_t type, bool match, const mc_hash *value,
                              struct mc_vote *out, uint32_t n, uint32_t max) {
    const struct mc_consensus_vote_entry *e = type == MC_VOTE_PREVOTE ? s->prevotes : s->precommits;
    for (uint32_t v = 0; v < c->vs->count && n < max; v++) {
        const struct mc_consensus_vote_value *x =
            match ? entry_match(&e[v], true, value) : (e[v].first.present ? &e[v].first : NULL);
        if (!x) continue;
        vote_from_entry(&out[n++], c, type, s->round, (uint16_t)v, x);
    }
    return n;
}

static const struct mc_consensus_round *slot_find_const(const struct mc_consensus *c,
                                                        uint32_t round) {
    for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++)
        if (c->rounds[i].used && c->rounds[i].round == round) return &c->rounds[i];
    return NULL;
}

uint32_t mc_consensus_relay_votes(const struct mc_consensus *c, struct mc_vote *out, uint32_t max) {
    if (!c->started || c->decided) return 0;
    uint32_t n = mc_consensus_pol_votes(c, out, max);
    const struct mc_consensus_round *cur = slot_find_const(c, c->round);
    if (!cur) return n;
    if (cur->has_proposal && cur->proposal.has_pol_round &&
        !(c->has_valid && c->valid_round == cur->proposal.pol_round &&
          hash_eq(&c->valid_value, &cur->proposal.block_hash))) {
        const struct mc_consensus_round *pol = slot_find_const(c, cur->proposal.pol_round);
        if (pol)
            n = collect_votes(c, pol, MC_VOTE_PREVOTE, true, &cur->proposal.block_hash, out, n, max);
    }
    n = collect_votes(c, cur, MC_VOTE_PREVOTE, false, NULL, out, n, max);
    n = collect_votes(c, cur, MC_VOTE_PRECOMMIT, false, NULL, out, n, max);
    const struct mc_consensus_round *prev = c->round > 0 ? slot_find_const(c, c->round - 1) : NULL;
    if (prev) n = collect_votes(c, prev, MC_VOTE_PRECOMMIT, false, NULL, out, n, max);
    return n;
}

/* ---- public entry points -------------------------------------------------- */

static void reset_height(struct mc_consensus *c) {
    c->round = 0;
    c->step = MC_CONSENSUS_STEP_PROPOSE;
    c->decided = false;
    c->awaiting_value = false;
    c->has_locked = c->has_valid = false;
    c->locked_round = c->valid_round = 0;
    memset(&c->locked_value, 0, sizeof c->locked_value);
    memset(&c->valid_value, 0, sizeof c->valid_value);
    for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++)
        if (c->rounds[i].used) slot_clear(&c->rounds[i]);
}

static int check_valset(const struct mc_valset *vs) {
    if (!vs || vs->count == 0 || vs->total_power == 0)
        return mc_err_set(MC_ERR_INVALID, "empty validator set");
    if (vs->total_power > MC_CONSENSUS_POWER_MAX)
        return mc_err_set(MC_ERR_INVALID, "total voting power %llu exceeds %llu",
                          (unsigned long long)vs->total_power,
                          (unsigned long long)MC_CONSENSUS_POWER_MAX);
    return 0;
}

int mc_consensus_init(struct mc_consensus *c, const struct mc_consensus_config *cfg,
                      const struct mc_valset *vs, const struct mc_keypair *key, uint64_t height,
                      const struct mc_consensus_signed_state *restored,
                      const struct mc_consensus_persist *persist) {
    int rc = check_valset(vs);
    if (rc) return rc;
    if (restored && restored->step != 0 && restored->height > height)
        return mc_err_set(MC_ERR_INVALID, "signed state is for height %llu, beyond %llu",
                          (unsigned long long)restored->height, (unsigned long long)height);
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->cfg.chain_id[MC_CHAIN_ID_MAX] = 0;
    c->vs = vs;
    c->key = key;
    c->self = key ? mc_valset_find(vs, &key->pk) : -1;
    if (persist) c->persist = *persist;
    c->height = height;
    reset_height(c);
    prio_at_height(c->prio_base, vs, height);
    c->prio_base_index = height % vs->total_power;
    if (restored && restored->step != 0) {
        c->signed_state = *restored;
        if (restored->height == height) {
            c->round = restored->round;
            c->has_locked = restored->has_locked;
            c->locked_round = restored->locked_round;
            c->locked_value = restored->locked_value;
            c->has_valid = restored->has_valid;
            c->valid_round = restored->valid_round;
            c->valid_value = restored->valid_value;
        }
    }
    return 0;
}

int mc_consensus_start(struct mc_consensus *c, struct mc_consensus_output *out) {
    out->count = 0;
    out->decided = false;
    if (c->started) return MC_ERR_STATE;
    c->started = true;
    int rc = start_round(c, out, c->round);
    int rc2 = evaluate(c, out);
    return rc ? rc : rc2;
}

int mc_consensus_next_height(struct mc_consensus *c, struct mc_consensus_output *out,
                             const struct mc_valset *vs) {
    out->count = 0;
    out->decided = false;
    if (!c->started || !c->decided) return MC_ERR_STATE;
    int rc = check_valset(vs);
    if (rc) return rc;
    c->height++;
    if (vs == c->vs && c->prio_base_index + 1 < vs->total_power) {
        (void)prio_turn(c->prio_base, vs);
        c->prio_base_index++;
    } else {
        c->vs = vs;
        prio_at_height(c->prio_base, vs, c->height);
        c->prio_base_index = c->height % vs->total_power;
    }
    c->self = c->key ? mc_valset_find(vs, &c->key->pk) : -1;
    reset_height(c);
    rc = start_round(c, out, 0);
    int rc2 = evaluate(c, out);
    return rc ? rc : rc2;
}

int mc_consensus_step(struct mc_consensus *c, struct mc_consensus_output *out,
                      const struct mc_consensus_input *in) {
    out->count = 0;
    out->decided = false;
    if (!c->started || c->decided) return MC_ERR_STATE;
    int rc;
    switch (in->kind) {
    case MC_CONSENSUS_IN_PROPOSAL:
        if (in->u.proposal.height != c->height) return MC_ERR_STATE;
        rc = add_proposal(c, out, &in->u.proposal);
        break;
    case MC_CONSENSUS_IN_VOTE:
        if (in->u.vote.height != c->height) return MC_ERR_STATE;
        rc = add_vote(c, out, &in->u.vote, true);
        break;
    case MC_CONSENSUS_IN_TIMEOUT:
        rc = on_timeout(c, out, &in->u.timeout);
        break;
    case MC_CONSENSUS_IN_VALIDITY: {
        if (in->u.validity.height != c->height) return MC_ERR_STATE;
        uint8_t v = in->u.validity.valid ? VALIDITY_VALID : VALIDITY_INVALID;
        for (int i = 0; i < MC_CONSENSUS_ROUND_SLOTS; i++) {
            struct mc_consensus_round *s = &c->rounds[i];
            if (s->used && s->has_proposal && s->validity == VALIDITY_ASKED &&
                hash_eq(&s->proposal.block_hash, &in->u.validity.block_hash))
                s->validity = v;
        }
        rc = 0;
        break;
    }
    case MC_CONSENSUS_IN_VALUE:
        if (in->u.value.height != c->height || in->u.value.round != c->round ||
            !c->awaiting_value || c->step != MC_CONSENSUS_STEP_PROPOSE)
            return MC_ERR_STATE;
        c->awaiting_value = false;
        rc = cast_proposal(c, out, &in->u.value.block_hash, false, 0);
        break;
    case MC_CONSENSUS_IN_COMMIT: {
        const struct mc_commit *cm = in->u.commit;
        if (cm->height != c->height) return MC_ERR_STATE;
        rc = mc_commit_verify(cm, c->vs, c->cfg.chain_id, c->height, NULL);
        if (rc) return rc;
        out->commit = *cm;
        out->decided = true;
        c->decided = true;
        return 0;
    }
    default:
        return MC_ERR_INVALID;
    }
    if (rc && rc != MC_ERR_IO) return rc;
    int rc2 = evaluate(c, out);
    return rc ? rc : rc2;
}
