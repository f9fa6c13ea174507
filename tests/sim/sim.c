/* The deterministic consensus simulator (see sim.h).
 *
 * One event queue ordered by (virtual time, sequence number) holds message
 * deliveries, timer expiries, application answers, gossip ticks and fault
 * changes. Every random choice comes from one splitmix64 stream seeded by
 * the config, drawn in event order, so a run is a pure function of its
 * config. Every processed event is folded into a SHA-256 trace hash. */
#include "sim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "chain/commit.h"
#include "consensus/consensus.h"

#define CHAIN "sim-chain"
#define NODES_MAX 16
#define HEIGHTS_MAX 512           /* decided heights a node can store */
#define EVENTS_MAX (1u << 17)     /* queue capacity; a full queue drops messages */
#define EVENT_BUDGET 4000000      /* processed events before a run is a liveness failure */
#define SENT_MAX 32               /* own messages of the current height kept for gossip */
#define TICK_MS 400               /* gossip period */
#define COMMIT_PAUSE_MS 800       /* time between a decision and the next height */

/* ---- PRNG: splitmix64 -------------------------------------------------- */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r) {
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform enough in [0, n) for a simulator; n > 0. */
static uint64_t rng_below(struct rng *r, uint64_t n) { return rng_next(r) % n; }
static bool rng_permille(struct rng *r, uint32_t pm) { return rng_below(r, 1000) < pm; }

/* ---- messages and events ----------------------------------------------- */

/* MSG_COMMIT hands a lagging peer the certificate of its height;
 * MSG_BEHIND asks a peer seen at a later height for it. */
enum { MSG_PROPOSAL = 1, MSG_VOTE = 2, MSG_COMMIT = 3, MSG_BEHIND = 4 };

#define WIRE_MAX MC_PROPOSAL_WIRE_BYTES
_Static_assert(MC_VOTE_WIRE_BYTES <= WIRE_MAX, "a vote fits the message buffer");

struct msg {
    uint8_t kind;
    uint8_t len;
    uint64_t commit_height; /* MSG_COMMIT: read from the sender's store */
    uint8_t wire[WIRE_MAX];
};

enum { EV_DELIVER = 1, EV_TIMER, EV_VALUE, EV_VALIDITY, EV_TICK, EV_NEXT_HEIGHT,
       EV_FAULT_TICK, EV_RESTART, EV_HEAL, EV_FAULTS_END };

struct event {
    uint64_t time;
    uint64_t seq;
    uint8_t kind;
    uint16_t node;
    uint16_t from;
    uint32_t epoch; /* node incarnation the event belongs to */
    union {
        struct msg msg;
        struct mc_consensus_timeout timeout;
        struct {
            uint64_t height;
            uint32_t round;
            mc_hash hash;
            bool valid;
        } app;
    } u;
};

/* ---- nodes --------------------------------------------------------------- */

enum { HONEST = 0, BYZ_SILENT = 1, BYZ_EQUIVOCATE = 2 };

struct node {
    int behaviour;
    bool crashed;
    uint32_t epoch;
    struct mc_consensus *eng;
    bool in_pause; /* decided, waiting COMMIT_PAUSE_MS for the next height */
    /* durable (survives crashes) */
    bool has_durable;
    struct mc_consensus_signed_state durable;
    uint64_t decided_count; /* heights 1..decided_count are decided */
    mc_hash decided[HEIGHTS_MAX];
    struct mc_commit *commits; /* HEIGHTS_MAX entries */
    /* own signed messages of the current height: the node's consensus WAL,
     * durable too, re-gossiped after a restart */
    uint32_t sent_count;
    struct msg sent[SENT_MAX];
    /* others' votes kept with every durable record (mc_consensus_relay_votes:
     * the proof-of-lock and what justifies the round), replayed after a
     * restart */
    bool keep_votes; /* false: the design before relay (sim_config.own_messages_only) */
    uint64_t kept_height;
    uint32_t kept_count;
    struct msg kept[MC_CONSENSUS_RELAY_MAX(NODES_MAX)];
    /* volatile */
    uint64_t last_commit_reply[NODES_MAX];
    uint64_t last_behind_request[NODES_MAX];
    /* Byzantine equivocator: proposals already voted for (a small ring) */
    mc_hash byz_voted[16];
    uint32_t byz_voted_next;
};

struct signed_record { /* the checker's view of each honest validator's last signature */
    bool any;
    uint64_t height;
    uint32_t round;
    uint8_t step;
    mc_hash msg_hash;
};

/* The omniscient view: every vote signed by anyone (honest or not) at the
 * recent heights, to check quorum-level invariants no single node sees. */
#define REG_HEIGHTS 4
#define REG_ROUNDS 32
#define REG_VALUES 8

struct reg_key {
    uint64_t height; /* 0 = unused */
    bool overflow;   /* someone signed more than REG_VALUES values: skip checks */
    uint8_t count[NODES_MAX];
    bool has_block[NODES_MAX][REG_VALUES];
    mc_hash value[NODES_MAX][REG_VALUES];
};

struct reg_commit {
    uint64_t height;
    uint32_t round;
    mc_hash value;
};

/* The validator set from height `from` on, with the node behind each
 * index (and each node's index, -1 when it is not a validator). */
#define EPOCHS_MAX 5
struct epoch {
    uint64_t from;
    struct mc_valset vs;
    uint16_t node[NODES_MAX];
    int16_t idx[NODES_MAX];
};

struct sim {
    const struct sim_config *cfg;
    struct sim_result *res;
    struct rng rng;
    uint64_t now;
    uint64_t seq;
    mc_sha256_ctx trace;
    uint32_t n;
    int mix;
    struct epoch epochs[EPOCHS_MAX];
    uint32_t epoch_count;
    struct mc_keypair keys[NODES_MAX];
    struct node nodes[NODES_MAX];
    struct signed_record signed_by[NODES_MAX];
    struct mc_consensus_output out, out2;
    mc_hash agreed[HEIGHTS_MAX + 1];
    bool has_agreed[HEIGHTS_MAX + 1];
    uint64_t value_counter;
    /* network */
    bool faults;
    uint32_t drop_pm, dup_pm, long_pm;
    bool partitioned;
    uint8_t side[NODES_MAX];
    bool crashes_enabled, partitions_enabled;
    uint64_t faults_end_ms;
    uint64_t target_height;
    bool stop;
    struct reg_key reg[REG_HEIGHTS][REG_ROUNDS][2];
    struct reg_commit reg_commit[REG_HEIGHTS];
    /* event heap */
    struct event *heap;
    uint32_t heap_len;
    uint64_t queue_drops;
};

static void violation(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The validator set of height h. */
static const struct epoch *epoch_at(const struct sim *s, uint64_t h) {
    for (uint32_t i = s->epoch_count; i-- > 1;)
        if (s->epochs[i].from <= h) return &s->epochs[i];
    return &s->epochs[0];
}

/* The set a node runs height h with. The mutant takes a change one height
 * early on the odd-numbered nodes. */
static const struct mc_valset *node_valset(const struct sim *s, uint16_t who, uint64_t h) {
#ifdef MC_MUTANT_EARLY_VALSET
    if (who % 2 == 1) return &epoch_at(s, h + 1)->vs;
#else
    (void)who;
#endif
    return &epoch_at(s, h)->vs;
}

static void violation(struct sim *s, const char *fmt, ...) {
    s->res->violations++;
    if (s->res->violations > 1) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->res->first_violation, sizeof s->res->first_violation, fmt, ap);
    va_end(ap);
    s->stop = true; /* the first violation ends the run: it is what gets replayed */
}

/* ---- trace --------------------------------------------------------------- */

static void trace_u64(struct sim *s, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (56 - 8 * i));
    mc_sha256_update(&s->trace, b, 8);
}

static void trace_text(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void trace_text(struct sim *s, const char *fmt, ...) {
    if (!s->cfg->trace) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(s->cfg->trace, "%8llu ", (unsigned long long)s->now);
    vfprintf(s->cfg->trace, fmt, ap);
    fputc('\n', s->cfg->trace);
    va_end(ap);
}

/* ---- the event heap (ordered by time, then insertion) -------------------- */

static bool ev_less(const struct event *a, const struct event *b) {
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

static struct event *schedule(struct sim *s, uint64_t at, uint8_t kind, uint16_t node) {
    if (s->heap_len >= EVENTS_MAX) {
        s->queue_drops++;
        return NULL;
    }
    uint32_t i = s->heap_len++;
    struct event e;
    memset(&e, 0, sizeof e);
    e.time = at;
    e.seq = s->seq++;
    e.kind = kind;
    e.node = node;
    e.epoch = s->nodes[node].epoch;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!ev_less(&e, &s->heap[parent])) break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = e;
    return &s->heap[i];
}

static void pop(struct sim *s, struct event *out) {
    *out = s->heap[0];
    struct event last = s->heap[--s->heap_len];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const struct event *best = &last;
        if (l < s->heap_len && ev_less(&s->heap[l], best)) m = l, best = &s->heap[l];
        if (r < s->heap_len && ev_less(&s->heap[r], best)) m = r;
        if (m == i) break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->heap_len > 0) s->heap[i] = last;
}

/* ---- values and the validity oracle ------------------------------------- */

/* A block is a 32-byte id; byte 0 says whether the application accepts it. */
static mc_hash new_value(struct sim *s, bool valid) {
    mc_hash h;
    h.b[0] = valid ? 'V' : 'I';
    uint64_t c = ++s->value_counter;
    for (int i = 1; i < 32; i++) h.b[i] = (uint8_t)(rng_next(&s->rng) ^ (c >> (8 * (i % 8))));
    return h;
}

static bool oracle_valid(const mc_hash *h) { return h->b[0] == 'V'; }

/* ---- network ------------------------------------------------------------- */

static bool can_talk(const struct sim *s, uint16_t a, uint16_t b) {
    return !s->partitioned || s->side[a] == s->side[b];
}

static void send_one(struct sim *s, uint16_t from, uint16_t to, const struct msg *m) {
    if (from == to) return;
    int copies = 1;
    if (s->faults) {
        if (rng_permille(&s->rng, s->drop_pm)) return;
        if (rng_permille(&s->rng, s->dup_pm)) copies = 2;
    }
    for (int c = 0; c < copies; c++) {
        uint64_t delay = 2 + rng_below(&s->rng, 40);
        if (s->faults && rng_permille(&s->rng, s->long_pm)) delay += rng_below(&s->rng, 3000);
        struct event *e = schedule(s, s->now + delay, EV_DELIVER, to);
        if (!e) return;
        e->from = from;
        e->u.msg = *m;
    }
}

static void broadcast(struct sim *s, uint16_t from, const struct msg *m) {
    for (uint16_t j = 0; j < s->n; j++) send_one(s, from, j, m);
}

static void msg_from_vote(struct msg *m, const struct mc_vote *v) {
    memset(m, 0, sizeof *m);
    m->kind = MSG_VOTE;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_vote_encode(&b, v);
    if (b.err || b.len != MC_VOTE_WIRE_BYTES) abort();
    memcpy(m->wire, b.data, b.len);
    m->len = (uint8_t)b.len;
    mc_buf_deinit(&b);
}

static void msg_from_proposal(struct msg *m, const struct mc_proposal *p) {
    memset(m, 0, sizeof *m);
    m->kind = MSG_PROPOSAL;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_proposal_encode(&b, p);
    if (b.err || b.len != MC_PROPOSAL_WIRE_BYTES) abort();
    memcpy(m->wire, b.data, b.len);
    m->len = (uint8_t)b.len;
    mc_buf_deinit(&b);
}

static void remember_sent(struct node *nd, const struct msg *m) {
    if (nd->sent_count == SENT_MAX) { /* keep the newest: drop the oldest */
        memmove(&nd->sent[0], &nd->sent[1], (SENT_MAX - 1) * sizeof nd->sent[0]);
        nd->sent_count--;
    }
    nd->sent[nd->sent_count++] = *m;
}

/* ---- checks ---------------------------------------------------------------- */

static int cmp_hrs(uint64_t h1, uint32_t r1, uint8_t s1, const struct signed_record *r) {
    if (h1 != r->height) return h1 < r->height ? -1 : 1;
    if (r1 != r->round) return r1 < r->round ? -1 : 1;
    if (s1 != r->step) return s1 < r->step ? -1 : 1;
    return 0;
}

/* An honest validator's signatures only ever move forward in
 * (height, round, step), or repeat the very same message. */
static void check_signed(struct sim *s, uint16_t who, uint64_t h, uint32_t r, uint8_t step,
                         const uint8_t *signed_bytes, size_t len) {
    if (s->nodes[who].behaviour != HONEST) return;
    mc_hash mh;
    mc_sha256(&mh, signed_bytes, len);
    struct signed_record *rec = &s->signed_by[who];
    if (rec->any) {
        int c = cmp_hrs(h, r, step, rec);
        if (c < 0 || (c == 0 && memcmp(mh.b, rec->msg_hash.b, 32) != 0)) {
            violation(s, "double-sign: honest validator %u signed (h=%llu r=%u step=%u) after "
                         "(h=%llu r=%u step=%u)",
                      who, (unsigned long long)h, r, step, (unsigned long long)rec->height,
                      rec->round, rec->step);
            return;
        }
    }
    rec->any = true;
    rec->height = h;
    rec->round = r;
    rec->step = step;
    rec->msg_hash = mh;
}

static void check_decision(struct sim *s, uint16_t who, const struct mc_commit *c) {
    uint64_t h = c->height;
    if (h == 0 || h > HEIGHTS_MAX) abort();
    if (mc_commit_verify(c, &epoch_at(s, h)->vs, CHAIN, h, &c->block_hash) != 0)
        violation(s, "certificate: node %u decided h=%llu with a certificate that fails: %s", who,
                  (unsigned long long)h, mc_err_detail());
    if (s->nodes[who].behaviour != HONEST) return;
    if (!oracle_valid(&c->block_hash))
        violation(s, "validity: honest node %u decided an invalid block at h=%llu", who,
                  (unsigned long long)h);
    if (!s->has_agreed[h]) {
        s->has_agreed[h] = true;
        s->agreed[h] = c->block_hash;
    } else if (memcmp(s->agreed[h].b, c->block_hash.b, 32) != 0) {
        violation(s, "agreement: honest node %u decided another block at h=%llu (round %u)", who,
                  (unsigned long long)h, c->round);
    }
}

/* ---- quorum-level invariants -------------------------------------------- */

static struct reg_key *reg_get(struct sim *s, uint64_t h, uint32_t r, uint8_t type, bool make) {
    if (r >= REG_ROUNDS) return NULL;
    struct reg_key *k = &s->reg[h % REG_HEIGHTS][r][type - 1];
    if (k->height == h) return k;
    if (!make || k->height > h) return NULL;
    memset(k, 0, sizeof *k);
    k->height = h;
    return k;
}

/* The registry is indexed by node; power is that of the height's set. */
static uint64_t reg_power(const struct sim *s, const struct reg_key *k, const mc_hash *v) {
    const struct epoch *e = epoch_at(s, k->height);
    uint64_t p = 0;
    for (uint32_t i = 0; i < s->n; i++)
        for (uint8_t j = 0; j < k->count[i]; j++)
            if (k->has_block[i][j] && memcmp(k->value[i][j].b, v->b, 32) == 0) {
                if (e->idx[i] >= 0) p += e->vs.v[e->idx[i]].power;
                break;
            }
    return p;
}

/* Quorum intersection: once 2/3+ precommitted v in round r, no other value
 * may gather 2/3+ prevotes in a later round (nor 2/3+ precommits in any). */
static void reg_check_commit(struct sim *s, uint64_t h) {
    struct reg_commit *c = &s->reg_commit[h % REG_HEIGHTS];
    if (c->height != h) return;
    for (uint32_t r = 0; r < REG_ROUNDS; r++) {
        for (uint8_t type = 1; type <= 2; type++) {
            if (type == MC_VOTE_PREVOTE && r <= c->round) continue;
            struct reg_key *k = reg_get(s, h, r, type, false);
            if (!k || k->overflow) continue;
            for (uint32_t i = 0; i < s->n; i++)
                for (uint8_t j = 0; j < k->count[i]; j++) {
                    const mc_hash *v = &k->value[i][j];
                    if (!k->has_block[i][j] || memcmp(v->b, c->value.b, 32) == 0) continue;
                    if (mc_valset_is_quorum(&epoch_at(s, h)->vs, reg_power(s, k, v))) {
                        violation(s, "quorum safety: h=%llu: 2/3+ precommitted a block in round "
                                     "%u, yet another block has 2/3+ %s in round %u",
                                  (unsigned long long)h, c->round,
                                  type == MC_VOTE_PREVOTE ? "prevotes" : "precommits", r);
                        return;
                    }
                }
        }
    }
}

static void reg_vote(struct sim *s, const struct mc_vote *v) {
    const struct epoch *ep = epoch_at(s, v->height);
    if (v->validator >= ep->vs.count) {
        violation(s, "a vote names validator %u of a set of %u at h=%llu", v->validator,
                  ep->vs.count, (unsigned long long)v->height);
        return;
    }
    const struct mc_valset *vset = &ep->vs;
    struct reg_key *k = reg_get(s, v->height, v->round, v->type, true);
    if (!k) return;
    uint16_t i = ep->node[v->validator];
    for (uint8_t j = 0; j < k->count[i]; j++)
        if (k->has_block[i][j] == v->has_block &&
            (!v->has_block || memcmp(k->value[i][j].b, v->block_hash.b, 32) == 0))
            return;
    if (k->count[i] == REG_VALUES) {
        k->overflow = true;
        return;
    }
    k->has_block[i][k->count[i]] = v->has_block;
    k->value[i][k->count[i]] = v->block_hash;
    k->count[i]++;
    if (!v->has_block) return;
    if (v->type == MC_VOTE_PREVOTE && s->nodes[i].behaviour == HONEST) {
        /* The lock: an honest validator that precommitted block b in round r
         * prevotes another block in a later round only on a polka for it in
         * a round in [r, now) (L22/L28). Its lock is its latest precommit. */
        int lock_round = -1;
        mc_hash lock;
        for (uint32_t r = 0; r < v->round; r++) {
            const struct reg_key *pc = &s->reg[v->height % REG_HEIGHTS][r][1];
            if (pc->height != v->height) continue;
            for (uint8_t j = 0; j < pc->count[i]; j++)
                if (pc->has_block[i][j]) lock_round = (int)r, lock = pc->value[i][j];
        }
        if (lock_round >= 0 && memcmp(lock.b, v->block_hash.b, 32) != 0) {
            bool justified = false;
            for (uint32_t r = (uint32_t)lock_round; r < v->round && !justified; r++) {
                const struct reg_key *pv = &s->reg[v->height % REG_HEIGHTS][r][0];
                if (pv->height != v->height || pv->overflow) {
                    justified = true; /* not tracked: give the benefit of the doubt */
                    break;
                }
                justified = mc_valset_is_quorum(vset, reg_power(s, pv, &v->block_hash));
            }
            if (!justified) {
                violation(s, "lock: honest validator %u locked in round %d prevoted another "
                             "block at h=%llu r=%u without a later polka for it",
                          i, lock_round, (unsigned long long)v->height, v->round);
                return;
            }
        }
    }
    if (v->type == MC_VOTE_PRECOMMIT) {
        /* an honest precommit needs a polka: 2/3+ prevotes signed for it in its round */
        const struct reg_key *pk = &s->reg[v->height % REG_HEIGHTS][v->round][0];
        bool tracked = pk->height == v->height && !pk->overflow; /* else: forgotten */
        if (s->nodes[i].behaviour == HONEST && tracked &&
            !mc_valset_is_quorum(vset, reg_power(s, pk, &v->block_hash))) {
            violation(s, "polka: honest validator %u precommitted at h=%llu r=%u without 2/3+ "
                         "prevotes for the block",
                      i, (unsigned long long)v->height, v->round);
            return;
        }
        struct reg_commit *c = &s->reg_commit[v->height % REG_HEIGHTS];
        if (c->height != v->height && !k->overflow &&
            mc_valset_is_quorum(vset, reg_power(s, k, &v->block_hash))) {
            c->height = v->height;
            c->round = v->round;
            c->value = v->block_hash;
        }
    }
    reg_check_commit(s, v->height);
}

/* ---- Byzantine behaviour ------------------------------------------------ */

/* A Byzantine equivocator signs whatever it likes, bypassing its guard. */
static void byz_vote(struct sim *s, uint16_t who, uint8_t type, uint64_t h, uint32_t r,
                     const mc_hash *value, uint16_t to_mask_side, bool all) {
    int idx = epoch_at(s, h)->idx[who];
    if (idx < 0) return; /* not a validator at h */
    struct mc_vote v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = h;
    v.round = r;
    v.has_block = value != NULL;
    if (value) v.block_hash = *value;
    v.validator = (uint16_t)idx;
    mc_vote_sign(&v, &s->keys[who], CHAIN);
    reg_vote(s, &v);
    struct msg m;
    msg_from_vote(&m, &v);
    for (uint16_t j = 0; j < s->n; j++)
        if (all || (j % 2) == to_mask_side) send_one(s, who, j, &m);
}

/* Sends an honest engine's message from a Byzantine node, twisted: half of
 * the peers get the real one, the other half a conflicting one. */
static void byz_send(struct sim *s, uint16_t who, const struct mc_consensus_action *a) {
    struct node *nd = &s->nodes[who];
    if (nd->behaviour == BYZ_SILENT) return;
    uint16_t side = (uint16_t)rng_below(&s->rng, 2);
    if (a->kind == MC_CONSENSUS_OUT_PROPOSAL) {
        struct mc_proposal p = a->u.proposal, q = p;
        q.block_hash = new_value(s, rng_permille(&s->rng, 500));
        if (q.round > 0 && rng_permille(&s->rng, 500)) { /* claim a proof-of-lock it lacks */
            q.has_pol_round = true;
            q.pol_round = q.round - 1;
        }
        mc_proposal_sign(&q, &s->keys[who], CHAIN);
        struct msg mp, mq;
        msg_from_proposal(&mp, &p);
        msg_from_proposal(&mq, &q);
        for (uint16_t j = 0; j < s->n; j++) send_one(s, who, j, (j % 2) == side ? &mp : &mq);
        /* the Byzantine validators collude: each side gets prevotes and
         * precommits from all of them for the block that side was shown */
        for (uint16_t k = 0; k < s->n; k++) {
            if (s->nodes[k].behaviour != BYZ_EQUIVOCATE) continue;
            for (uint8_t type = MC_VOTE_PREVOTE; type <= MC_VOTE_PRECOMMIT; type++) {
                byz_vote(s, k, type, p.height, p.round, &p.block_hash, side, false);
                byz_vote(s, k, type, p.height, p.round, &q.block_hash, (uint16_t)(1 - side),
                         false);
            }
        }
        return;
    }
    if (a->kind == MC_CONSENSUS_OUT_VOTE) {
        const struct mc_vote *v = &a->u.vote;
        struct msg m;
        msg_from_vote(&m, v);
        for (uint16_t j = 0; j < s->n; j++)
            if ((j % 2) == side) send_one(s, who, j, &m);
        mc_hash other = new_value(s, rng_permille(&s->rng, 500));
        byz_vote(s, who, v->type, v->height, v->round, v->has_block ? NULL : &other,
                 (uint16_t)(1 - side), false);
    }
}

/* On seeing a proposal a Byzantine equivocator prevotes and precommits it. */
static void byz_on_proposal(struct sim *s, uint16_t who, const struct mc_proposal *p) {
    struct node *nd = &s->nodes[who];
    if (nd->behaviour != BYZ_EQUIVOCATE) return;
    uint8_t sb[MC_PROPOSAL_SIGNED_BYTES];
    mc_proposal_signed_bytes(sb, p);
    mc_hash key;
    mc_sha256(&key, sb, sizeof sb);
    for (int i = 0; i < 16; i++)
        if (memcmp(nd->byz_voted[i].b, key.b, 32) == 0) return;
    nd->byz_voted[nd->byz_voted_next++ % 16] = key;
    /* prevote it to everyone, but precommit it to one side only: some honest
     * nodes may then decide while the others move to the next round, the
     * situation in which locks matter */
    byz_vote(s, who, MC_VOTE_PREVOTE, p->height, p->round, &p->block_hash, 0, true);
    byz_vote(s, who, MC_VOTE_PRECOMMIT, p->height, p->round, &p->block_hash,
             (uint16_t)rng_below(&s->rng, 2), s->cfg->too_many_byzantine);
}

/* ---- driving a node ------------------------------------------------------ */

static void handle_output(struct sim *s, uint16_t who, struct mc_consensus_output *out);

/* The durable write before a signature: the record and, in the same
 * write, the votes of others that justify its lock and round (consensus.h). */
static int save_hook(void *ctx, const struct mc_consensus_signed_state *st) {
    struct node *nd = ctx;
    nd->durable = *st;
    nd->has_durable = true;
    if (!nd->keep_votes) return 0;
    struct mc_vote kept[MC_CONSENSUS_RELAY_MAX(NODES_MAX)];
    uint32_t nk = mc_consensus_relay_votes(nd->eng, kept, MC_CONSENSUS_RELAY_MAX(NODES_MAX));
    nd->kept_height = st->height;
    nd->kept_count = nk;
    for (uint32_t k = 0; k < nk; k++) msg_from_vote(&nd->kept[k], &kept[k]);
    return 0;
}

static void node_step(struct sim *s, uint16_t who, const struct mc_consensus_input *in) {
    struct node *nd = &s->nodes[who];
    int rc = mc_consensus_step(nd->eng, &s->out, in);
    if (rc == MC_ERR_IO) violation(s, "node %u: persistence failed", who);
    (void)rc; /* other rejections (stale, duplicate, forged) are normal here */
    handle_output(s, who, &s->out);
}

static void node_start(struct sim *s, uint16_t who) {
    struct node *nd = &s->nodes[who];
    struct mc_consensus_config cfg;
    mc_consensus_config_default(&cfg, CHAIN);
    cfg.propose_timeout_ms = 1000;
    cfg.propose_timeout_delta_ms = 300;
    cfg.prevote_timeout_ms = 500;
    cfg.prevote_timeout_delta_ms = 300;
    cfg.precommit_timeout_ms = 500;
    cfg.precommit_timeout_delta_ms = 300;
    struct mc_consensus_persist persist = {save_hook, nd};
    memset(nd->eng, 0, sizeof *nd->eng);
    if (mc_consensus_init(nd->eng, &cfg, node_valset(s, who, nd->decided_count + 1), &s->keys[who],
                          nd->decided_count + 1,
                          nd->has_durable ? &nd->durable : NULL, &persist) != 0)
        abort();
    nd->in_pause = false;
    memset(nd->last_commit_reply, 0, sizeof nd->last_commit_reply);
    memset(nd->last_behind_request, 0, sizeof nd->last_behind_request);
    if (mc_consensus_start(nd->eng, &s->out) != 0) violation(s, "node %u failed to start", who);
    handle_output(s, who, &s->out);
    /* WAL replay: our own messages of this height go back into the engine,
     * so its tallies count what we signed before the crash, and so do the
     * kept votes of others, so the lock and round can be justified again. */
    uint32_t replay = nd->sent_count;
    if (nd->kept_height == nd->decided_count + 1) replay += nd->kept_count;
    for (uint32_t k = 0; k < replay && !s->stop; k++) {
        struct mc_consensus_input in;
        memset(&in, 0, sizeof in);
        const struct msg *m = k < nd->sent_count ? &nd->sent[k] : &nd->kept[k - nd->sent_count];
        if (m->kind == MSG_VOTE) {
            in.kind = MC_CONSENSUS_IN_VOTE;
            if (mc_vote_decode(&in.u.vote, m->wire, m->len) != 0) abort();
        } else {
            in.kind = MC_CONSENSUS_IN_PROPOSAL;
            if (mc_proposal_decode(&in.u.proposal, m->wire, m->len) != 0) abort();
        }
        node_step(s, who, &in);
    }
}

static void on_decide(struct sim *s, uint16_t who, const struct mc_commit *c) {
    struct node *nd = &s->nodes[who];
    check_decision(s, who, c);
    if (c->height != nd->decided_count + 1) abort();
    if (nd->decided_count >= HEIGHTS_MAX) {
        violation(s, "node %u ran out of simulated block store", who);
        return;
    }
    nd->decided[nd->decided_count] = c->block_hash;
    nd->commits[nd->decided_count] = *c;
    nd->decided_count++;
    nd->in_pause = true;
    nd->sent_count = 0;
    trace_u64(s, 0xDEC1DE);
    trace_u64(s, who);
    trace_u64(s, c->height);
    mc_sha256_update(&s->trace, c->block_hash.b, 32);
    trace_text(s, "node %u decides h=%llu r=%u %02x%02x%02x%02x", who,
               (unsigned long long)c->height, c->round, c->block_hash.b[0], c->block_hash.b[1],
               c->block_hash.b[2], c->block_hash.b[3]);
    schedule(s, s->now + COMMIT_PAUSE_MS, EV_NEXT_HEIGHT, who);
}

static void handle_output(struct sim *s, uint16_t who, struct mc_consensus_output *out) {
    struct node *nd = &s->nodes[who];
    for (uint32_t i = 0; i < out->count && !s->stop; i++) {
        const struct mc_consensus_action *a = &out->actions[i];
        switch (a->kind) {
        case MC_CONSENSUS_OUT_PROPOSAL: {
            uint8_t sb[MC_PROPOSAL_SIGNED_BYTES];
            mc_proposal_signed_bytes(sb, &a->u.proposal);
            check_signed(s, who, a->u.proposal.height, a->u.proposal.round,
                         MC_CONSENSUS_STEP_PROPOSE, sb, sizeof sb);
            trace_text(s, "node %u proposes h=%llu r=%u", who,
                       (unsigned long long)a->u.proposal.height, a->u.proposal.round);
            if (nd->behaviour != HONEST) {
                byz_send(s, who, a);
                break;
            }
            struct msg m;
            msg_from_proposal(&m, &a->u.proposal);
            remember_sent(nd, &m);
            broadcast(s, who, &m);
            break;
        }
        case MC_CONSENSUS_OUT_VOTE: {
            uint8_t sb[MC_VOTE_SIGNED_BYTES];
            mc_vote_signed_bytes(sb, &a->u.vote);
            check_signed(s, who, a->u.vote.height, a->u.vote.round,
                         a->u.vote.type == MC_VOTE_PREVOTE ? MC_CONSENSUS_STEP_PREVOTE
                                                           : MC_CONSENSUS_STEP_PRECOMMIT,
                         sb, sizeof sb);
            reg_vote(s, &a->u.vote);
            if (s->stop) break;
            if (nd->behaviour != HONEST) {
                byz_send(s, who, a);
                break;
            }
            struct msg m;
            msg_from_vote(&m, &a->u.vote);
            remember_sent(nd, &m);
            broadcast(s, who, &m);
            break;
        }
        case MC_CONSENSUS_OUT_TIMEOUT: {
            struct event *e = schedule(s, s->now + a->u.timer.duration_ms, EV_TIMER, who);
            if (e) e->u.timeout = a->u.timer.timeout;
            break;
        }
        case MC_CONSENSUS_OUT_GET_VALUE: {
            struct event *e = schedule(s, s->now + 1, EV_VALUE, who);
            if (!e) break;
            e->u.app.height = a->u.get_value.height;
            e->u.app.round = a->u.get_value.round;
            /* Byzantine proposers sometimes build invalid blocks. */
            bool valid = nd->behaviour == HONEST || rng_permille(&s->rng, 500);
            e->u.app.hash = new_value(s, valid);
            break;
        }
        case MC_CONSENSUS_OUT_VALIDATE: {
            struct event *e = schedule(s, s->now + 1 + rng_below(&s->rng, 5), EV_VALIDITY, who);
            if (!e) break;
            e->u.app.height = a->u.validate.height;
            e->u.app.hash = a->u.validate.block_hash;
            e->u.app.valid = oracle_valid(&a->u.validate.block_hash);
            break;
        }
        case MC_CONSENSUS_OUT_EVIDENCE: {
            const struct mc_evidence *ev = &a->u.evidence;
            const struct epoch *ep = epoch_at(s, ev->a.height);
            if (mc_evidence_verify(ev, &ep->vs, CHAIN) != 0)
                violation(s, "evidence: node %u produced evidence that does not verify", who);
            else if (s->nodes[ep->node[ev->a.validator]].behaviour == HONEST)
                violation(s, "evidence: node %u accuses honest validator %u", who,
                          ep->node[ev->a.validator]);
            if (nd->behaviour == HONEST) s->res->evidence++;
            break;
        }
        default:
            abort();
        }
    }
    if (out->decided && !s->stop) on_decide(s, who, &out->commit);
}

/* Sends peer `to` the certificate of height h if we have it (rate-limited). */
static void send_commit(struct sim *s, uint16_t from, uint16_t to, uint64_t h) {
    struct node *nd = &s->nodes[from];
    if (h == 0 || h > nd->decided_count || s->now < nd->last_commit_reply[to] + TICK_MS) return;
    nd->last_commit_reply[to] = s->now;
    struct msg c;
    memset(&c, 0, sizeof c);
    c.kind = MSG_COMMIT;
    c.commit_height = h;
    send_one(s, from, to, &c);
}

static void deliver(struct sim *s, const struct event *e) {
    struct node *nd = &s->nodes[e->node];
    const struct msg *m = &e->u.msg;
    if (!can_talk(s, e->from, e->node)) return;
    if (m->kind == MSG_COMMIT) {
        const struct node *src = &s->nodes[e->from];
        if (nd->in_pause || m->commit_height != nd->decided_count + 1) return;
        if (m->commit_height > src->decided_count) abort();
        struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_COMMIT};
        in.u.commit = &src->commits[m->commit_height - 1];
        node_step(s, e->node, &in);
        return;
    }
    if (m->kind == MSG_BEHIND) {
        send_commit(s, e->node, e->from, m->commit_height);
        return;
    }
    struct mc_consensus_input in;
    memset(&in, 0, sizeof in);
    uint64_t h;
    if (m->kind == MSG_VOTE) {
        in.kind = MC_CONSENSUS_IN_VOTE;
        if (mc_vote_decode(&in.u.vote, m->wire, m->len) != 0) abort();
        h = in.u.vote.height;
    } else {
        in.kind = MC_CONSENSUS_IN_PROPOSAL;
        if (mc_proposal_decode(&in.u.proposal, m->wire, m->len) != 0) abort();
        h = in.u.proposal.height;
        if (h == nd->decided_count + 1) byz_on_proposal(s, e->node, &in.u.proposal);
    }
    /* a peer behind us: hand it the certificate of its height */
    if (h <= nd->decided_count) {
        send_commit(s, e->node, e->from, h);
        return;
    }
    /* a peer ahead of us: ask it for the certificate of our height */
    if (h > nd->decided_count + 1 && s->now >= nd->last_behind_request[e->from] + TICK_MS) {
        nd->last_behind_request[e->from] = s->now;
        struct msg b;
        memset(&b, 0, sizeof b);
        b.kind = MSG_BEHIND;
        b.commit_height = nd->decided_count + 1;
        send_one(s, e->node, e->from, &b);
        return;
    }
    if (nd->in_pause) return;
    node_step(s, e->node, &in);
}

/* ---- faults ---------------------------------------------------------------- */

static uint32_t honest_crashed(const struct sim *s) {
    uint32_t c = 0;
    for (uint32_t i = 0; i < s->n; i++) c += s->nodes[i].crashed;
    return c;
}

static void crash(struct sim *s, uint16_t who) {
    struct node *nd = &s->nodes[who];
    nd->crashed = true;
    nd->epoch++; /* pending timers and answers of this incarnation die */
    trace_text(s, "node %u crashes", who);
    schedule(s, s->now + 500 + rng_below(&s->rng, 6000), EV_RESTART, who);
}

static void restart(struct sim *s, uint16_t who) {
    struct node *nd = &s->nodes[who];
    if (!nd->crashed) return;
    nd->crashed = false;
    nd->epoch++;
    trace_text(s, "node %u restarts at h=%llu", who, (unsigned long long)nd->decided_count + 1);
    node_start(s, who);
    schedule(s, s->now + TICK_MS, EV_TICK, who);
}

static void fault_tick(struct sim *s) {
    if (!s->faults) return;
    if (s->partitions_enabled && !s->partitioned && rng_permille(&s->rng, 300)) {
        s->partitioned = true;
        for (uint32_t i = 0; i < s->n; i++) s->side[i] = (uint8_t)rng_below(&s->rng, 2);
        trace_text(s, "partition forms");
        schedule(s, s->now + 500 + rng_below(&s->rng, 8000), EV_HEAL, 0);
    }
    if (s->crashes_enabled && rng_permille(&s->rng, 250)) {
        uint16_t who = (uint16_t)rng_below(&s->rng, s->n);
        uint32_t f = (s->n - 1) / 3;
        if (s->nodes[who].behaviour == HONEST && !s->nodes[who].crashed &&
            honest_crashed(s) < f + 1)
            crash(s, who);
    }
    schedule(s, s->now + 1000, EV_FAULT_TICK, 0);
}

static void faults_end(struct sim *s) {
    s->faults = false;
    s->partitioned = false;
    s->target_height = 0;
    for (uint16_t i = 0; i < s->n; i++) {
        restart(s, i);
        if (s->nodes[i].decided_count > s->target_height)
            s->target_height = s->nodes[i].decided_count;
    }
    s->target_height += s->cfg->heights_after ? s->cfg->heights_after : 3;
    if (s->target_height > HEIGHTS_MAX - 1) s->target_height = HEIGHTS_MAX - 1;
    trace_text(s, "faults end; every honest node must reach h=%llu",
               (unsigned long long)s->target_height);
}

static bool all_honest_reached(const struct sim *s) {
    for (uint32_t i = 0; i < s->n; i++)
        if (s->nodes[i].behaviour == HONEST && s->nodes[i].decided_count < s->target_height)
            return false;
    return true;
}

/* ---- setup ------------------------------------------------------------------ */

const char *sim_mix_name(int mix) {
    static const char *names[] = {"clean", "lossy", "partition", "crash", "byzantine", "all"};
    return mix >= 0 && mix < SIM_MIX_COUNT ? names[mix] : "?";
}

void sim_replay_command(char *buf, size_t size, const struct sim_config *cfg) {
    int n = snprintf(buf, size, "%s --seed %llu",
                     cfg->program ? cfg->program : "build/sim/medchain-sim",
                     (unsigned long long)cfg->seed);
    if (n < 0 || (size_t)n >= size) return;
    if (cfg->n) n += snprintf(buf + n, size - (size_t)n, " --n %u", cfg->n);
    if (cfg->mix >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " --mix %s", sim_mix_name(cfg->mix));
    if (cfg->weighted >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " --weighted %d", cfg->weighted);
    if (cfg->too_many_byzantine && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " --too-many-byzantine");
    if (cfg->own_messages_only && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " --own-messages-only");
    if (cfg->fixed_valset && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " --fixed-valset");
    if ((size_t)n < size) snprintf(buf + n, size - (size_t)n, " --trace /dev/stdout");
}

static void choose_byzantine(struct sim *s, bool too_many) {
    /* Byzantine power stays below a third of the total, at most f nodes;
     * with too_many it reaches a third or more (the protocol cannot cope). */
    uint32_t f = (s->n - 1) / 3;
    uint32_t want = too_many ? s->n : f;
    uint64_t power = 0;
    uint32_t count = 0;
    uint16_t order[NODES_MAX];
    for (uint16_t i = 0; i < s->n; i++) order[i] = i;
    for (uint32_t i = s->n - 1; i > 0; i--) { /* Fisher-Yates */
        uint32_t j = (uint32_t)rng_below(&s->rng, i + 1);
        uint16_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint32_t k = 0; k < s->n && count < want; k++) {
        uint16_t i = order[k];
        const struct mc_valset *vs0 = &s->epochs[0].vs;
        uint64_t p = vs0->v[i].power;
        if (!too_many && (power + p) * 3 >= vs0->total_power) continue;
        if (too_many && power * 3 >= vs0->total_power) break;
        power += p;
        count++;
        s->nodes[i].behaviour =
            too_many || rng_permille(&s->rng, 700) ? BYZ_EQUIVOCATE : BYZ_SILENT;
    }
    s->res->byzantine = count;
}

/* Rebuilds the node <-> index maps of a set. */
static void epoch_index(struct sim *s, struct epoch *e) {
    for (uint16_t i = 0; i < NODES_MAX; i++) e->idx[i] = -1;
    for (uint32_t k = 0; k < e->vs.count; k++)
        for (uint16_t i = 0; i < s->n; i++)
            if (memcmp(e->vs.v[k].pk.b, s->keys[i].pk.b, 32) == 0) {
                e->idx[i] = (int16_t)k;
                e->node[k] = i;
            }
}

/* The set changes of a run, from a stream of their own (the rest of the
 * run draws from the main stream as before). Each change obeys the
 * ledger's rule (governance.h): less than 1/3 of the previous total added
 * or removed; and the Byzantine power stays under 1/3 of every set. */
static void plan_valset_changes(struct sim *s) {
    struct rng r = {s->cfg->seed ^ UINT64_C(0x5e7c4a9e0b1d2f37)};
    uint32_t want = 1 + (uint32_t)rng_below(&r, EPOCHS_MAX - 1);
    uint64_t h = 1;
    for (uint32_t attempt = 0; attempt < 40 && s->epoch_count <= want; attempt++) {
        const struct epoch *prev = &s->epochs[s->epoch_count - 1];
        struct epoch next = *prev;
        uint16_t who = (uint16_t)rng_below(&r, s->n);
        if (s->nodes[who].behaviour != HONEST) continue;
        int idx = prev->idx[who];
        uint64_t power = 1 + rng_below(&r, 4);
        struct mc_valset vs;
        memset(&vs, 0, sizeof vs);
        for (uint32_t k = 0; k < prev->vs.count; k++) {
            const struct mc_validator *v = &prev->vs.v[k];
            if ((int)k == idx && rng_permille(&r, 500)) continue; /* removed */
            uint64_t p = (int)k == idx ? power : v->power;
            if (mc_valset_add(&vs, &v->pk, p, v->name) != 0) abort();
        }
        if (idx < 0) {
            char name[16];
            snprintf(name, sizeof name, "val%u", who);
            if (mc_valset_add(&vs, &s->keys[who].pk, power, name) != 0) abort();
        }
        uint64_t added = 0, removed = 0, byz = 0;
        for (uint32_t k = 0; k < prev->vs.count; k++) {
            int j = mc_valset_find(&vs, &prev->vs.v[k].pk);
            uint64_t now = j < 0 ? 0 : vs.v[j].power;
            if (now < prev->vs.v[k].power) removed += prev->vs.v[k].power - now;
        }
        for (uint32_t k = 0; k < vs.count; k++) {
            int j = mc_valset_find(&prev->vs, &vs.v[k].pk);
            uint64_t was = j < 0 ? 0 : prev->vs.v[j].power;
            if (vs.v[k].power > was) added += vs.v[k].power - was;
            for (uint16_t i = 0; i < s->n; i++)
                if (s->nodes[i].behaviour != HONEST &&
                    memcmp(s->keys[i].pk.b, vs.v[k].pk.b, 32) == 0)
                    byz += vs.v[k].power;
        }
        if (vs.count == 0 || added + removed == 0 || added * 3 >= prev->vs.total_power ||
            removed * 3 >= prev->vs.total_power || byz * 3 >= vs.total_power)
            continue;
        h += 1 + rng_below(&r, 4);
        next.vs = vs;
        next.from = h;
        epoch_index(s, &next);
        s->epochs[s->epoch_count++] = next;
        trace_u64(s, h);
        trace_u64(s, vs.total_power);
        trace_text(s, "validator set from h=%llu: %u validators, power %llu",
                   (unsigned long long)h, vs.count, (unsigned long long)vs.total_power);
        if (s->epoch_count == EPOCHS_MAX) break;
    }
    s->res->valset_changes = s->epoch_count - 1;
}

int sim_run(const struct sim_config *cfg, struct sim_result *res) {
    memset(res, 0, sizeof *res);
    struct sim *s = calloc(1, sizeof *s);
    if (!s) return MC_ERR_NOMEM;
    s->heap = calloc(EVENTS_MAX, sizeof *s->heap);
    if (!s->heap) {
        free(s);
        return MC_ERR_NOMEM;
    }
    mc_crypto_init();
    uint64_t verify_before = mc_sign_verify_count();
    s->cfg = cfg;
    s->res = res;
    s->rng.s = cfg->seed;
    mc_sha256_init(&s->trace);
    static const uint32_t sizes[3] = {4, 7, 10};
    uint64_t derive = rng_next(&s->rng);
    s->n = cfg->n ? cfg->n : sizes[derive % 3];
    if (s->n < 1 || s->n > NODES_MAX) abort(); /* misuse */
    s->mix = cfg->mix >= 0 ? cfg->mix : (int)((derive / 3) % SIM_MIX_COUNT);
    bool weighted = cfg->weighted >= 0 ? cfg->weighted != 0 : ((derive / 18) % 2) == 1;
    res->n = s->n;
    res->mix = s->mix;

    int rc = 0;
    for (uint16_t i = 0; i < s->n; i++) {
        uint8_t seed[MC_SEED_BYTES];
        for (int k = 0; k < MC_SEED_BYTES; k++) seed[k] = (uint8_t)rng_next(&s->rng);
        mc_keypair_from_seed(&s->keys[i], seed);
        char name[16];
        snprintf(name, sizeof name, "val%u", i);
        uint64_t power = weighted ? 1 + rng_below(&s->rng, 4) : 1;
        if (mc_valset_add(&s->epochs[0].vs, &s->keys[i].pk, power, name) != 0) abort();
        s->epochs[0].node[i] = i;
        s->epochs[0].idx[i] = (int16_t)i;
        s->nodes[i].keep_votes = !cfg->own_messages_only;
        s->nodes[i].eng = calloc(1, sizeof *s->nodes[i].eng);
        s->nodes[i].commits = calloc(HEIGHTS_MAX, sizeof *s->nodes[i].commits);
        if (!s->nodes[i].eng || !s->nodes[i].commits) {
            rc = MC_ERR_NOMEM;
            goto done;
        }
    }

    bool lossy = s->mix == SIM_MIX_LOSSY || s->mix == SIM_MIX_ALL;
    s->faults = s->mix != SIM_MIX_CLEAN;
    s->drop_pm = lossy ? 100 + (uint32_t)rng_below(&s->rng, 250) : 20;
    s->dup_pm = lossy ? 100 : 20;
    s->long_pm = lossy ? 100 : 10;
    s->partitions_enabled = s->mix == SIM_MIX_PARTITION || s->mix == SIM_MIX_ALL;
    s->crashes_enabled = s->mix == SIM_MIX_CRASH || s->mix == SIM_MIX_ALL;
    if (s->mix == SIM_MIX_BYZANTINE || s->mix == SIM_MIX_ALL || cfg->too_many_byzantine)
        choose_byzantine(s, cfg->too_many_byzantine);
    s->epochs[0].from = 1;
    s->epoch_count = 1;
    if (!cfg->fixed_valset) plan_valset_changes(s);
    uint64_t fault_ms = cfg->fault_ms ? cfg->fault_ms : 8000 + rng_below(&s->rng, 12000);
    s->faults_end_ms = fault_ms;
    uint64_t liveness_ms = cfg->liveness_ms ? cfg->liveness_ms : 120000;

    trace_text(s, "seed %llu n=%u mix=%s weighted=%d byzantine=%u faults until %llu ms",
               (unsigned long long)cfg->seed, s->n, sim_mix_name(s->mix), weighted,
               res->byzantine, (unsigned long long)fault_ms);

    for (uint16_t i = 0; i < s->n; i++) {
        node_start(s, i);
        schedule(s, s->now + TICK_MS + i, EV_TICK, i);
    }
    schedule(s, 1000, EV_FAULT_TICK, 0);
    schedule(s, fault_ms, EV_FAULTS_END, 0);

    struct event e;
    bool after = false;
    while (!s->stop && s->heap_len > 0) {
        pop(s, &e);
        s->now = e.time;
        res->events++;
        if (after && s->now > s->faults_end_ms + liveness_ms) {
            violation(s, "liveness: honest nodes did not reach h=%llu within %llu ms after the "
                         "faults",
                      (unsigned long long)s->target_height, (unsigned long long)liveness_ms);
            break;
        }
        if (res->events > EVENT_BUDGET) {
            violation(s, "liveness: event budget exhausted at %llu ms", (unsigned long long)s->now);
            break;
        }
        trace_u64(s, e.time);
        trace_u64(s, ((uint64_t)e.kind << 32) | ((uint64_t)e.node << 16) | e.from);
        struct node *nd = &s->nodes[e.node];
        bool stale = nd->crashed || e.epoch != nd->epoch;
        switch (e.kind) {
        case EV_DELIVER:
            if (!nd->crashed) {
                mc_sha256_update(&s->trace, e.u.msg.wire, e.u.msg.len);
                deliver(s, &e);
            }
            break;
        case EV_TIMER:
            if (!stale && !nd->in_pause) {
                struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_TIMEOUT};
                in.u.timeout = e.u.timeout;
                node_step(s, e.node, &in);
            }
            break;
        case EV_VALUE:
            if (!stale && !nd->in_pause) {
                struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VALUE};
                in.u.value.height = e.u.app.height;
                in.u.value.round = e.u.app.round;
                in.u.value.block_hash = e.u.app.hash;
                node_step(s, e.node, &in);
            }
            break;
        case EV_VALIDITY:
            if (!stale && !nd->in_pause) {
                struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VALIDITY};
                in.u.validity.height = e.u.app.height;
                in.u.validity.block_hash = e.u.app.hash;
                in.u.validity.valid = e.u.app.valid;
                node_step(s, e.node, &in);
            }
            break;
        case EV_NEXT_HEIGHT:
            if (!stale && nd->in_pause) {
                nd->in_pause = false;
                int r2 = mc_consensus_next_height(nd->eng, &s->out2,
                                                  node_valset(s, e.node, nd->decided_count + 1));
                if (r2 && r2 != MC_ERR_IO) abort();
                handle_output(s, e.node, &s->out2);
            }
            break;
        case EV_TICK:
            if (!stale) {
                if (nd->behaviour == HONEST && !nd->in_pause) {
                    for (uint32_t k = 0; k < nd->sent_count; k++)
                        broadcast(s, e.node, &nd->sent[k]);
                    /* and the votes of others we hold that peers may lack:
                     * proofs-of-lock and the current round (consensus.h) */
                    struct mc_vote relay[MC_CONSENSUS_RELAY_MAX(NODES_MAX)];
                    uint32_t nr = nd->keep_votes
                                      ? mc_consensus_relay_votes(nd->eng, relay,
                                                                 MC_CONSENSUS_RELAY_MAX(NODES_MAX))
                                      : mc_consensus_pol_votes(nd->eng, relay, NODES_MAX);
                    for (uint32_t k = 0; k < nr; k++) {
                        struct msg m;
                        msg_from_vote(&m, &relay[k]);
                        broadcast(s, e.node, &m);
                    }
                }
                schedule(s, s->now + TICK_MS, EV_TICK, e.node);
            }
            break;
        case EV_FAULT_TICK:
            fault_tick(s);
            break;
        case EV_RESTART:
            if (s->faults) restart(s, e.node);
            break;
        case EV_HEAL:
            if (s->partitioned) trace_text(s, "partition heals");
            s->partitioned = false;
            break;
        case EV_FAULTS_END:
            faults_end(s);
            after = true;
            break;
        default:
            abort();
        }
        if (after && !s->stop && all_honest_reached(s)) break;
    }
    if (!s->stop && !after) violation(s, "simulation ended before the faults did");

    for (uint16_t i = 0; i < s->n; i++) {
        const struct mc_consensus *c = s->nodes[i].eng;
        trace_text(s, "end: node %u %s h=%llu r=%u step=%u locked=%d@%u valid=%d@%u refused=%llu",
                   i, s->nodes[i].behaviour == HONEST ? "honest" : "byzantine",
                   (unsigned long long)c->height, c->round, c->step, c->has_locked,
                   c->locked_round, c->has_valid, c->valid_round,
                   (unsigned long long)c->stats.refused_signatures);
        for (int k = 0; k < MC_CONSENSUS_ROUND_SLOTS; k++)
            if (c->rounds[k].used)
                trace_text(s, "       round %u: prevote power %llu precommit power %llu "
                              "seen %llu proposal %d validity %u (total %llu) sent %u",
                           c->rounds[k].round, (unsigned long long)c->rounds[k].prevote_power,
                           (unsigned long long)c->rounds[k].precommit_power,
                           (unsigned long long)c->rounds[k].seen_power,
                           c->rounds[k].has_proposal, c->rounds[k].validity,
                           (unsigned long long)epoch_at(s, c->height)->vs.total_power,
                           s->nodes[i].sent_count);
    }
    res->end_ms = s->now;
    res->heights = UINT64_MAX;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->nodes[i].behaviour == HONEST && s->nodes[i].decided_count < res->heights)
            res->heights = s->nodes[i].decided_count;
    res->verifications = mc_sign_verify_count() - verify_before;
    mc_sha256_final(&s->trace, &res->trace_hash);
    if (res->violations && !cfg->quiet) {
        char cmd[256];
        sim_replay_command(cmd, sizeof cmd, cfg);
        fprintf(stderr, "sim: seed %llu n=%u mix=%s: VIOLATION %s\n  replay: %s\n",
                (unsigned long long)cfg->seed, s->n, sim_mix_name(s->mix),
                res->first_violation, cmd);
    }
done:
    for (uint32_t i = 0; i < NODES_MAX; i++) {
        free(s->nodes[i].eng);
        free(s->nodes[i].commits);
    }
    free(s->heap);
    free(s);
    return rc;
}
