/* The consensus driver: runs the Tendermint engine (consensus/consensus.h)
 * for the node on its libuv loop, with real timers and the peer transport.
 *
 *   engine outputs          what the driver does
 *   PROPOSAL / VOTE         broadcast, remember as our own message of the
 *                           height (WAL in the store, re-gossiped every
 *                           second), and feed back into our own engine
 *   TIMEOUT                 arm a libuv timer that feeds IN_TIMEOUT
 *   GET_VALUE               build a block from the mempool as soon as it
 *                           holds transactions, or an empty block after
 *                           empty_block_ms, and feed IN_VALUE
 *   VALIDATE                validate the proposed block against the
 *                           application (blockexec.h) and feed IN_VALIDITY
 *   EVIDENCE                gossip it and record it on the ledger
 *   decided                 commit the block with its certificate, then
 *                           start the next height after block_interval_ms
 *
 * Vote relay: every second, and to a peer that (re)connects, the driver
 * also sends the votes of others the engine says peers may lack
 * (mc_consensus_relay_votes: proofs-of-lock, the current round, the
 * previous round's precommits), so a vote one node received reaches all.
 *
 * The consensus WAL lives in driver_wal.c and block sync in
 * driver_sync.c (driver_internal.h holds what the three share).
 *
 * Everything here runs on the loop thread with the node lock held around
 * any use of the engine, store, application or mempool. */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/governance_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "base/log.h"
#include "node/driver_internal.h"

/* ---- sending ---- */

void mc_driver__broadcast(struct mc_node *n, const struct mc_buf *b) {
    if (n->net && !b->err) mc_net_broadcast(n->net, b->data, b->len);
}

void mc_driver__send_to(struct mc_node *n, const mc_pubkey *to, const struct mc_buf *b) {
    if (n->net && !b->err && mc_net_send(n->net, to, b->data, b->len) != 0)
        mc_log_debug("driver", "send failed: peer gone or queue full");
}

/* Sends the votes of others peers may lack (consensus.h) to one peer, or
 * to every peer when to is NULL. */
static void relay_votes(struct mc_node *n, const mc_pubkey *to) {
    uint32_t max = MC_CONSENSUS_RELAY_MAX(mc_node__valset(n)->count);
    struct mc_vote *relay = malloc((max ? max : 1) * sizeof *relay);
    if (!relay) return; /* the next tick tries again */
    uint32_t k = mc_consensus_relay_votes(n->drv->cs, relay, max);
    for (uint32_t i = 0; i < k; i++) {
        struct mc_buf w;
        mc_buf_init(&w, 0);
        mc_wire_encode_vote(&w, &relay[i]);
        if (to) mc_driver__send_to(n, to, &w);
        else mc_driver__broadcast(n, &w);
        mc_buf_deinit(&w);
    }
    free(relay);
}

/* ---- candidates ---- */

struct cand_slot *mc_driver__cand_find(struct mc_driver *d, const mc_hash *h) {
    for (int i = 0; i < CANDIDATES_MAX; i++)
        if (d->cands[i].used && memcmp(d->cands[i].c.hash.b, h->b, 32) == 0) return &d->cands[i];
    return NULL;
}

static void cand_clear(struct mc_driver *d) {
    for (int i = 0; i < CANDIDATES_MAX; i++)
        if (d->cands[i].used) {
            mc_blockexec_candidate_deinit(&d->cands[i].c);
            d->cands[i].used = false;
        }
}

/* Takes ownership of c. Evicts the oldest candidate that is neither the
 * locked nor the valid value when full. */
struct cand_slot *mc_driver__cand_put(struct mc_driver *d, struct mc_candidate *c) {
    struct cand_slot *s = mc_driver__cand_find(d, &c->hash);
    if (s) {
        mc_blockexec_candidate_deinit(c);
        return s;
    }
    struct cand_slot *victim = NULL;
    for (int i = 0; i < CANDIDATES_MAX; i++) {
        struct cand_slot *x = &d->cands[i];
        if (!x->used) { victim = x; break; }
        bool keep = (d->cs->has_locked && memcmp(x->c.hash.b, d->cs->locked_value.b, 32) == 0) ||
                    (d->cs->has_valid && memcmp(x->c.hash.b, d->cs->valid_value.b, 32) == 0);
        if (!keep && (!victim || x->seq < victim->seq)) victim = x;
    }
    if (!victim) {
        mc_blockexec_candidate_deinit(c);
        return NULL;
    }
    if (victim->used) mc_blockexec_candidate_deinit(&victim->c);
    victim->used = true;
    victim->built_here = false;
    victim->c = *c;
    victim->seq = ++d->cand_seq;
    return victim;
}
/* ---- engine input queue ---- */

static void enqueue(struct mc_driver *d, const struct mc_consensus_input *in) {
    if (d->q_len == QUEUE_MAX) {
        mc_log_warn("driver", "consensus input queue full; dropping an input");
        return;
    }
    d->queue[(d->q_head + d->q_len++) % QUEUE_MAX] = *in;
}

static void process_output(struct mc_node *n);

/* Runs queued inputs through the engine until none is left. */
static void drain(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    while (d->q_len > 0 && !n->fatal) {
        struct mc_consensus_input in = d->queue[d->q_head];
        d->q_head = (d->q_head + 1) % QUEUE_MAX;
        d->q_len--;
        if (d->paused) continue; /* decided: inputs wait for the next height */
        int rc = mc_consensus_step(d->cs, &d->out, &in);
        if (rc && rc != MC_ERR_STATE && rc != MC_ERR_EXISTS)
            mc_log_debug("driver", "engine refused input %d: %s", in.kind, mc_err_name(rc));
        if (rc == MC_ERR_IO) {
            mc_log_error("driver", "cannot persist what we sign: stopping");
            n->fatal = MC_ERR_IO;
            uv_stop(&n->loop);
            return;
        }
        process_output(n);
    }
}

static void feed(struct mc_node *n, const struct mc_consensus_input *in) {
    enqueue(n->drv, in);
    drain(n);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t) {
    struct timer_slot *s = t->data;
    struct mc_node *n = s->n;
    s->armed = false;
    struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_TIMEOUT};
    in.u.timeout = s->to;
    static const char *const kinds[] = {"", "propose", "prevote", "precommit"};
    mc_log_debug("driver", "%s timeout at height %llu round %u", s->to.kind <= 3 ? kinds[s->to.kind] : "?",
                 (unsigned long long)s->to.height, s->to.round);
    mc_node__lock(n);
    if (n->drv && n->drv->started) feed(n, &in);
    mc_node__unlock(n);
}

static void arm_timer(struct mc_node *n, const struct mc_consensus_timeout *to, uint64_t ms) {
    struct mc_driver *d = n->drv;
    struct timer_slot *s = NULL;
    for (int i = 0; i < TIMERS_MAX && !s; i++)
        if (!d->timers[i].armed) s = &d->timers[i];
    if (!s) {
        /* all busy: the oldest-height/round timer is the stalest */
        s = &d->timers[0];
        for (int i = 1; i < TIMERS_MAX; i++) {
            const struct mc_consensus_timeout *a = &d->timers[i].to, *b = &s->to;
            if (a->height < b->height || (a->height == b->height && a->round < b->round)) s = &d->timers[i];
        }
        uv_timer_stop(&s->t);
    }
    s->armed = true;
    s->to = *to;
    uv_timer_start(&s->t, on_timer, ms, 0);
}

/* ---- building a value ---- */

struct build_ctx {
    struct mc_node *n;
    const struct mc_mempool_tx **cand;
};

static void on_rejected(void *ctx, uint32_t index, int err, const char *reason) {
    struct build_ctx *b = ctx;
    mc_log_info("driver", "left out a transaction: %s", reason);
    mc_mempool_note_rejected(b->n->pool, &b->cand[index]->id, err, reason);
    mc_mempool_remove(b->n->pool, &b->cand[index]->id);
}

static void build_value(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    mc_node__flush_outbox(n);
    mc_mempool_compact(n->pool);
    uint32_t pending = mc_mempool_size(n->pool);
    uint32_t max = pending < MC_BLOCK_TXS_MAX ? pending : MC_BLOCK_TXS_MAX;
    const struct mc_mempool_tx **cand = malloc((max ? max : 1) * sizeof *cand);
    struct mc_tx_ref *txs = malloc((max ? max : 1) * sizeof *txs);
    if (!cand || !txs) {
        free(cand);
        free(txs);
        return;
    }
    uint32_t k = mc_mempool_peek(n->pool, cand, max);
    for (uint32_t i = 0; i < k; i++) {
        txs[i].bytes = cand[i]->bytes;
        txs[i].len = cand[i]->len;
    }
    struct build_ctx bc = {n, cand};
    struct mc_candidate c;
    int rc = mc_blockexec_build(n->app, &n->genesis, &n->head, &n->consensus_key->pk, mc_node__now_ms(), txs,
                            k, on_rejected, &bc, &c);
    free(txs);
    free(cand);
    if (rc) {
        mc_log_error("driver", "cannot build a block: %s", mc_err_detail());
        return;
    }
    mc_hash h = c.hash;
    struct cand_slot *slot = mc_driver__cand_put(d, &c);
    if (!slot) return;
    slot->built_here = true;
    d->has_value = true;
    d->value_height = d->wv_height;
    d->value_round = d->wv_round;
    d->value_hash = h;
    d->waiting_value = false;
    struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VALUE};
    in.u.value.height = d->wv_height;
    in.u.value.round = d->wv_round;
    in.u.value.block_hash = h;
    feed(n, &in);
}

/* ---- engine outputs ---- */

static void submit_evidence(struct mc_node *n, const struct mc_evidence *e) {
    struct mc_driver *d = n->drv;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_evidence_encode(&b, e);
    mc_hash h;
    mc_sha256(&h, b.data, b.len);
    for (uint32_t i = 0; i < d->evidence_n; i++)
        if (memcmp(d->evidence_seen[i].b, h.b, 32) == 0) {
            mc_buf_deinit(&b);
            return;
        }
    d->evidence_seen[d->evidence_n++ % 64] = h;
    if (d->evidence_n > 64) d->evidence_n = 64;
    n->evidence_seen++;
    mc_log_warn("driver", "validator %u equivocated at height %llu round %u: recording evidence",
                e->a.validator, (unsigned long long)e->a.height, e->a.round);
    struct mc_buf w;
    mc_buf_init(&w, 0);
    mc_wire_encode_evidence(&w, e);
    mc_driver__broadcast(n, &w);
    mc_buf_deinit(&w);
    if (mc_node__queue_local(n, MC_TX_EVIDENCE, b.data, b.len) != 0)
        mc_log_warn("driver", "cannot queue the evidence transaction: %s", mc_err_detail());
    mc_buf_deinit(&b);
}

static void on_decided(struct mc_node *n, const struct mc_commit *cert) {
    struct mc_driver *d = n->drv;
    struct cand_slot *s = mc_driver__cand_find(d, &cert->block_hash);
    if (!s) {
        mc_log_error("driver", "decided block %llu is not held here; waiting for sync",
                     (unsigned long long)cert->height);
        d->paused = true;
        d->next_height_at_ms = UINT64_MAX;
        return;
    }
    int rc = mc_blockexec_commit(n->store, n->app, &n->genesis, &n->head, &s->c, cert,
                             mc_node__verified, n);
    if (rc) {
        mc_log_error("driver", "cannot commit decided block %llu: %s", (unsigned long long)cert->height,
                     mc_err_detail());
        n->fatal = rc;
        uv_stop(&n->loop);
        return;
    }
    mc_node__after_commit(n, &s->c);
    mc_driver__own_clear(n);
    cand_clear(d);
    d->waiting_value = false;
    d->paused = true;
    d->next_height_at_ms = mc_node__now_ms() + n->block_interval_ms;
    struct mc_buf st;
    mc_buf_init(&st, 0);
    mc_wire_encode_status(&st, n->head.height, &n->head.hash);
    mc_driver__broadcast(n, &st);
    mc_buf_deinit(&st);
}

static void process_output(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    struct mc_consensus_output *out = &d->out;
    /* Copy: feeding our own messages back queues inputs; out is reused. */
    uint32_t count = out->count;
    for (uint32_t i = 0; i < count; i++) {
        const struct mc_consensus_action *a = &out->actions[i];
        switch (a->kind) {
        case MC_CONSENSUS_OUT_PROPOSAL: {
            struct cand_slot *s = mc_driver__cand_find(d, &a->u.proposal.block_hash);
            if (!s) {
                mc_log_error("driver", "proposing a block we do not hold");
                break;
            }
            struct mc_wire_block blk = {s->c.header_bytes.data, s->c.header_bytes.len,
                                        s->c.body_bytes.data, s->c.body_bytes.len};
            struct mc_buf w;
            mc_buf_init(&w, 0);
            mc_wire_encode_proposal(&w, &a->u.proposal, &blk);
            mc_driver__broadcast(n, &w);
            mc_driver__own_add(n, &w);
            mc_buf_deinit(&w);
            struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_PROPOSAL};
            in.u.proposal = a->u.proposal;
            enqueue(d, &in);
            n->round = a->u.proposal.round;
            break;
        }
        case MC_CONSENSUS_OUT_VOTE: {
            struct mc_buf w;
            mc_buf_init(&w, 0);
            mc_wire_encode_vote(&w, &a->u.vote);
            mc_driver__broadcast(n, &w);
            mc_driver__own_add(n, &w);
            mc_buf_deinit(&w);
#ifdef MC_TEST_EQUIVOCATE
            /* Test build only: a second, conflicting prevote signed
             * directly (past the engine's guard), so honest nodes must
             * catch this validator. */
            if (a->u.vote.type == MC_VOTE_PREVOTE && getenv("MEDCHAIN_TEST_EQUIVOCATE")) {
                struct mc_vote evil = a->u.vote;
                evil.has_block = !evil.has_block;
                if (evil.has_block) memset(evil.block_hash.b, 0xEE, 32);
                else memset(evil.block_hash.b, 0, 32);
                mc_vote_sign(&evil, n->consensus_key, n->genesis.chain_id);
                struct mc_buf e;
                mc_buf_init(&e, 0);
                mc_wire_encode_vote(&e, &evil);
                mc_driver__broadcast(n, &e);
                mc_buf_deinit(&e);
            }
#endif
            struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VOTE};
            in.u.vote = a->u.vote;
            enqueue(d, &in);
            n->round = a->u.vote.round;
            break;
        }
        case MC_CONSENSUS_OUT_TIMEOUT:
            arm_timer(n, &a->u.timer.timeout, a->u.timer.duration_ms);
            break;
        case MC_CONSENSUS_OUT_GET_VALUE: {
            d->wv_height = a->u.get_value.height;
            d->wv_round = a->u.get_value.round;
            d->wv_since_ms = mc_node__now_ms();
            /* After a restart, the block we already signed a proposal for
             * in this round: propose it again, identically. */
            if (d->has_value && d->value_height == d->wv_height && d->value_round == d->wv_round &&
                mc_driver__cand_find(d, &d->value_hash)) {
                struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VALUE};
                in.u.value.height = d->wv_height;
                in.u.value.round = d->wv_round;
                in.u.value.block_hash = d->value_hash;
                enqueue(d, &in);
                break;
            }
            d->waiting_value = true;
            break;
        }
        case MC_CONSENSUS_OUT_VALIDATE: {
            struct cand_slot *s = mc_driver__cand_find(d, &a->u.validate.block_hash);
            bool valid = s && s->built_here;
            if (s && !valid) {
                int rc = mc_blockexec_validate(n->app, &n->genesis, &n->head, &s->c, mc_node__now_ms(),
                                           mc_node__verified, n);
                valid = rc == 0;
                if (rc) mc_log_warn("driver", "proposed block %llu is invalid: %s",
                                    (unsigned long long)s->c.header.height, mc_err_detail());
            }
            struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VALIDITY};
            in.u.validity.height = a->u.validate.height;
            in.u.validity.block_hash = a->u.validate.block_hash;
            in.u.validity.valid = valid;
            enqueue(d, &in);
            break;
        }
        case MC_CONSENSUS_OUT_EVIDENCE:
            submit_evidence(n, &a->u.evidence);
            break;
        default:
            break;
        }
    }
    if (out->decided) {
        struct mc_commit cert = out->commit;
        on_decided(n, &cert);
    }
}
/* ---- life cycle ---- */

int mc_driver_create(struct mc_node *n) {
    struct mc_driver *d = calloc(1, sizeof *d);
    if (!d) return MC_ERR_NOMEM;
    d->cs = calloc(1, sizeof *d->cs);
    if (!d->cs) {
        free(d);
        return MC_ERR_NOMEM;
    }
    mc_consensus_config_default(&d->cfg, n->genesis.chain_id);
    for (int i = 0; i < TIMERS_MAX; i++) {
        uv_timer_init(&n->loop, &d->timers[i].t);
        d->timers[i].t.data = &d->timers[i];
        d->timers[i].n = n;
    }
    for (uint32_t i = 0; i < n->peer_count_cfg && i < MC_NET_PEERS_MAX; i++) d->peers[i].key = n->peers[i].key;
    n->drv = d;
    return 0;
}

static void close_timer(uv_handle_t *h) { (void)h; }

void mc_driver_destroy(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    if (!d) return;
    for (int i = 0; i < TIMERS_MAX; i++)
        if (!uv_is_closing((uv_handle_t *)&d->timers[i].t)) uv_close((uv_handle_t *)&d->timers[i].t, close_timer);
    cand_clear(d);
    mc_driver__own_clear(n);
    for (uint32_t i = 0; i < d->future_count; i++) free(d->future[i].bytes);
    free(d->cs);
    free(d);
    n->drv = NULL;
}

static void replay_future(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    uint32_t count = d->future_count;
    struct future_msg *msgs = malloc((count ? count : 1) * sizeof *msgs);
    if (!msgs) return;
    memcpy(msgs, d->future, count * sizeof *msgs);
    d->future_count = 0;
    for (uint32_t i = 0; i < count; i++) {
        mc_driver__handle_wire(n, NULL, msgs[i].bytes, msgs[i].len, true);
        free(msgs[i].bytes);
    }
    free(msgs);
}

/* The consensus timeouts of the height about to start: the engine's
 * defaults, with the base of each step replaced by its ledger parameter
 * where governance set one (timeout_propose, _prevote, _precommit; 0 means
 * not set). Read from the committed state, so every node paces the height
 * alike. Logs a change. */
static void ledger_timeouts(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    struct mc_consensus_config cfg;
    mc_consensus_config_default(&cfg, n->genesis.chain_id);
    static const uint8_t params[3] = {MC_GOV_PARAM_TIMEOUT_PROPOSE, MC_GOV_PARAM_TIMEOUT_PREVOTE,
                                      MC_GOV_PARAM_TIMEOUT_PRECOMMIT};
    uint32_t *base[3] = {&cfg.propose_timeout_ms, &cfg.prevote_timeout_ms, &cfg.precommit_timeout_ms};
    for (int i = 0; i < 3; i++) {
        uint64_t v = 0;
        if (mc_app_param(n->app, params[i], &v) == 0 && v > 0 && v <= UINT32_MAX) *base[i] = (uint32_t)v;
    }
    if (cfg.propose_timeout_ms != d->cfg.propose_timeout_ms || cfg.prevote_timeout_ms != d->cfg.prevote_timeout_ms ||
        cfg.precommit_timeout_ms != d->cfg.precommit_timeout_ms)
        mc_log_info("driver", "height %llu: consensus timeouts propose %u ms, prevote %u ms, precommit %u ms",
                    (unsigned long long)mc_driver__height(n), cfg.propose_timeout_ms, cfg.prevote_timeout_ms,
                    cfg.precommit_timeout_ms);
    d->cfg = cfg;
}

void mc_driver_timeouts(const struct mc_node *n, uint32_t out[3]) {
    struct mc_consensus_config cfg;
    if (n->drv) cfg = n->drv->cfg;
    else mc_consensus_config_default(&cfg, n->genesis.chain_id);
    out[0] = cfg.propose_timeout_ms, out[1] = cfg.prevote_timeout_ms, out[2] = cfg.precommit_timeout_ms;
}

/* (Re)starts the engine at head.height + 1 from the persisted record. */
static int engine_start(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    struct mc_consensus_signed_state restored, *rp = NULL;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    if (mc_store_meta_get(n->store, "consensus_signed", &b) == 0 &&
        mc_consensus_signed_state_decode(&restored, b.data, b.len) == 0 &&
        restored.height <= mc_driver__height(n))
        rp = &restored;
    mc_buf_deinit(&b);
    struct mc_consensus_persist persist = {mc_driver__save_signed, n};
    if (mc_node__upgrade_halt(n, mc_driver__height(n)))
        return mc_err_set(MC_ERR_STATE, "%s", n->halt_reason);
    memset(d->cs, 0, sizeof *d->cs);
    ledger_timeouts(n);
    int rc = mc_node__valset_refresh(n);
    if (rc) return mc_err_set(rc, "no validator set for height %llu: %s",
                              (unsigned long long)mc_driver__height(n), mc_err_detail());
    rc = mc_consensus_init(d->cs, &d->cfg, mc_node__valset(n),
                               n->validator_index >= 0 ? n->consensus_key : NULL, mc_driver__height(n), rp,
                               &persist);
    if (rc) return mc_err_set(rc, "consensus cannot start at height %llu", (unsigned long long)mc_driver__height(n));
    d->started = true;
    d->paused = false;
    d->waiting_value = false;
    d->q_len = 0;
    if ((rc = mc_consensus_start(d->cs, &d->out))) return rc;
    process_output(n);
    drain(n);
    return 0;
}

int mc_driver_start(struct mc_node *n) {
    mc_driver__restore_value(n);
    int rc = engine_start(n);
    if (rc) return rc;
    mc_driver__wal_replay(n);
    return 0;
}

void mc_driver__restart_at_head(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    mc_driver__own_clear(n);
    cand_clear(d);
    for (uint32_t i = 0; i < TIMERS_MAX; i++) {
        uv_timer_stop(&d->timers[i].t);
        d->timers[i].armed = false;
    }
    /* drop buffered messages of heights now behind us */
    for (uint32_t i = 0; i < d->future_count; i++) free(d->future[i].bytes);
    d->future_count = 0;
    if (engine_start(n)) mc_log_error("driver", "cannot restart consensus: %s", mc_err_detail());
}

static void next_height(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    if (mc_node__upgrade_halt(n, mc_driver__height(n))) return; /* the loop stops */
    d->paused = false;
    d->q_len = 0;
    /* This node joins or leaves the set, or its key rotation takes effect
     * at this height: a fresh engine signs with the key of this height (the
     * record of what it signed, at lower heights, carries over). */
    const struct mc_keypair *key = n->validator_index >= 0 ? n->consensus_key : NULL;
    if (key != d->cs->key) {
        char hx[17] = "none";
        if (key) mc_hex_encode(hx, key->pk.b, 8);
        mc_log_info("driver", "height %llu: consensus signs with key %s (validator set or key changed)",
                    (unsigned long long)mc_driver__height(n), hx);
        if (engine_start(n)) mc_log_error("driver", "cannot restart consensus: %s", mc_err_detail());
        replay_future(n);
        return;
    }
    ledger_timeouts(n);
    mc_consensus_set_timeouts(d->cs, &d->cfg);
    int rc = mc_consensus_next_height(d->cs, &d->out, mc_node__valset(n));
    if (rc && rc != MC_ERR_IO) {
        mc_log_warn("driver", "engine would not move on (%s); restarting it", mc_err_name(rc));
        if (engine_start(n)) return;
    } else {
        process_output(n);
        drain(n);
    }
    replay_future(n);
}
/* ---- incoming messages ---- */

static void buffer_future(struct mc_driver *d, const uint8_t *msg, size_t len) {
    if (d->future_count == FUTURE_MAX) return;
    uint8_t *copy = malloc(len);
    if (!copy) return;
    memcpy(copy, msg, len);
    d->future[d->future_count++] = (struct future_msg){copy, len};
}

/* Called with the lock held. from is NULL for our own replayed messages. */
void mc_driver__handle_wire(struct mc_node *n, const mc_pubkey *from, const uint8_t *msg, size_t len,
                        bool from_future) {
    struct mc_driver *d = n->drv;
    struct mc_wire_msg m;
    if (mc_wire_decode(&m, msg, len) != 0) {
        if (from && n->net) mc_net_drop(n->net, from, "malformed message");
        return;
    }
    uint64_t h = mc_driver__height(n);
    switch (m.type) {
    case MC_WIRE_PROPOSAL: {
        if (m.proposal.height == h + 1 || (m.proposal.height == h && d->paused)) {
            if (!from_future) buffer_future(d, msg, len);
            return;
        }
        if (m.proposal.height != h) return;
        struct mc_candidate c;
        if (mc_blockexec_candidate_from_bytes(&c, m.block.header, m.block.header_len, m.block.body, m.block.body_len) != 0)
            return;
        if (memcmp(c.hash.b, m.proposal.block_hash.b, 32) != 0) {
            mc_blockexec_candidate_deinit(&c);
            if (from && n->net) mc_net_drop(n->net, from, "proposal's block does not match its hash");
            return;
        }
        if (!mc_driver__cand_put(d, &c)) return;
        struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_PROPOSAL};
        in.u.proposal = m.proposal;
        feed(n, &in);
        return;
    }
    case MC_WIRE_VOTE: {
        if (m.vote.height == h + 1 || (m.vote.height == h && d->paused)) {
            if (!from_future) buffer_future(d, msg, len);
            return;
        }
        if (m.vote.height != h) return;
        struct mc_consensus_input in = {.kind = MC_CONSENSUS_IN_VOTE};
        in.u.vote = m.vote;
        feed(n, &in);
        return;
    }
    case MC_WIRE_STATUS:
        if (from) mc_driver__on_status(n, from, m.height);
        return;
    case MC_WIRE_GET_BLOCK:
        if (from) mc_driver__on_get_block(n, from, m.height);
        return;
    case MC_WIRE_BLOCK:
        if (from) mc_driver__on_block(n, from, &m);
        return;
    case MC_WIRE_NO_BLOCK:
        if (from) mc_driver__on_no_block(n, from);
        return;
    case MC_WIRE_EVIDENCE: {
        /* judged against the set of the votes' own height */
        struct mc_gov_valset *vs = malloc(sizeof *vs);
        if (vs && m.evidence.a.height <= h &&
            mc_app_valset_at(n->app, m.evidence.a.height, vs) == 0 &&
            mc_evidence_verify(&m.evidence, &vs->vs, n->genesis.chain_id) == 0)
            submit_evidence(n, &m.evidence);
        free(vs);
        return;
    }
    default:
        return;
    }
}

void mc_driver_on_message(void *ctx, const mc_pubkey *from, const uint8_t *msg, size_t len) {
    struct mc_node *n = ctx;
    if (len >= 1 && msg[0] == MC_WIRE_TX) {
        /* admission takes the lock itself; gossip is one hop (full mesh) */
        if (mc_node__submit_from_peer(n, msg + 1, len - 1) == 0) mc_driver_tx_arrived(n);
        return;
    }
    mc_node__lock(n);
    if (n->drv && n->drv->started) mc_driver__handle_wire(n, from, msg, len, false);
    mc_node__unlock(n);
}

void mc_driver_on_peer(void *ctx, const mc_pubkey *key, bool up) {
    struct mc_node *n = ctx;
    bool held = mc_node__locked_here(); /* a peer dropped by our own handler */
    if (!held) mc_node__lock(n);
    struct mc_driver *d = n->drv;
    if (d) {
        for (int i = 0; i < MC_NET_PEERS_MAX; i++)
            if (memcmp(d->peers[i].key.b, key->b, 32) == 0) {
                d->peers[i].up = up;
                if (!up) d->peers[i].height = 0;
            }
        n->peers_up = 0;
        for (int i = 0; i < MC_NET_PEERS_MAX; i++) n->peers_up += d->peers[i].up;
        if (up) {
            /* tell the newcomer where we are, and re-send our messages */
            struct mc_buf w;
            mc_buf_init(&w, 0);
            mc_wire_encode_status(&w, n->head.height, &n->head.hash);
            mc_driver__send_to(n, key, &w);
            mc_buf_deinit(&w);
            for (uint32_t i = 0; i < d->own_count; i++) mc_driver__send_to(n, key, &d->own[i]);
            if (d->started && !d->paused) relay_votes(n, key);
        }
    }
    char hx[17];
    mc_hex_encode(hx, key->b, 8);
    mc_log_info("driver", "peer %s %s", hx, up ? "connected" : "disconnected");
    if (!held) mc_node__unlock(n);
}

/* The ledger's membership at the committed head: an active node account
 * of an active organisation (genesis or governance). */
bool mc_driver_is_member(void *ctx, const mc_pubkey *key) {
    struct mc_node *n = ctx;
    bool held = mc_node__locked_here();
    if (!held) mc_node__lock(n);
    bool member = mc_governance_node_active(mc_app_state(n->app), key);
    if (!held) mc_node__unlock(n);
    return member;
}

void mc_driver_tx_arrived(struct mc_node *n) { uv_async_send(&n->wake_async); }

void mc_driver_tick(struct mc_node *n) {
    mc_node__lock(n);
    struct mc_driver *d = n->drv;
    uint64_t now = mc_node__now_ms();
    if (d && d->started && !n->fatal) {
        if (d->paused && now >= d->next_height_at_ms) next_height(n);
        if (d->waiting_value && !d->paused) {
            mc_node__flush_outbox(n);
            if (mc_mempool_size(n->pool) > 0 || now - d->wv_since_ms >= n->empty_block_ms)
                build_value(n);
        }
        if (now - d->last_gossip_ms >= GOSSIP_EVERY_MS) {
            d->last_gossip_ms = now;
            if (!d->paused) {
                for (uint32_t i = 0; i < d->own_count; i++) mc_driver__broadcast(n, &d->own[i]);
                relay_votes(n, NULL);
            }
            struct mc_buf st;
            mc_buf_init(&st, 0);
            mc_wire_encode_status(&st, n->head.height, &n->head.hash);
            mc_driver__broadcast(n, &st);
            mc_buf_deinit(&st);
        }
        mc_driver__sync_tick(n, now);
    }
    mc_node__unlock(n);
}

