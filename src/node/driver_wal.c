/* The consensus WAL of the driver (driver_internal.h). Before the engine
 * signs anything the store keeps, in one durable SQL transaction (meta
 * rows):
 *   consensus_signed  the engine's signed-state record (consensus.h)
 *   consensus_own     our signed messages of the height, re-gossiped
 *                     every second and replayed into the engine after a
 *                     restart (it cannot count votes it no longer holds)
 *   consensus_votes   the votes of others that justify our lock and round
 *                     (the relay set, proof-of-lock included), so a
 *                     validator that crashes while locked can still
 *                     justify its lock and round to its peers
 *   consensus_value   the block we proposed, so a restarted proposer
 *                     re-proposes the same one */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/driver_internal.h"

/* ---- own messages of the height: the consensus WAL ---- */

/* Our signed messages of the height, as stored beside the signed state:
 * | u64 height | (u32 len | wire message)* |. They are written together
 * with each new signed-state record (one fsync); the newest message is
 * covered by that record itself, which the engine re-emits after a
 * restart. Entries of an older height are ignored on replay. */
static void own_encode(struct mc_node *n, struct mc_buf *b) {
    struct mc_driver *d = n->drv;
    mc_enc_u64(b, mc_driver__height(n));
    for (uint32_t i = 0; i < d->own_count; i++) mc_enc_bytes32(b, d->own[i].data, d->own[i].len);
}

void mc_driver__own_clear(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    for (uint32_t i = 0; i < d->own_count; i++) mc_buf_deinit(&d->own[i]);
    d->own_count = 0;
}

void mc_driver__own_add(struct mc_node *n, const struct mc_buf *msg) {
    struct mc_driver *d = n->drv;
    for (uint32_t i = 0; i < d->own_count; i++)
        if (d->own[i].len == msg->len && memcmp(d->own[i].data, msg->data, msg->len) == 0) return;
    if (d->own_count == OWN_MSGS_MAX) {
        /* keep the newest: the oldest rounds matter least for progress */
        mc_buf_deinit(&d->own[0]);
        memmove(&d->own[0], &d->own[1], (OWN_MSGS_MAX - 1) * sizeof d->own[0]);
        d->own_count--;
    }
    struct mc_buf *b = &d->own[d->own_count++];
    mc_buf_init(b, 0);
    mc_buf_append(b, msg->data, msg->len);
}

/* The votes of others that justify our lock and round (the relay set,
 * proof-of-lock included), as stored beside the signed state:
 * | u64 height | (u32 len | wire vote)* |. */
static void kept_encode(struct mc_node *n, struct mc_buf *b) {
    uint32_t max = MC_CONSENSUS_RELAY_MAX(mc_node__valset(n)->count);
    struct mc_vote *kept = malloc((max ? max : 1) * sizeof *kept);
    if (!kept) {
        b->err = MC_ERR_NOMEM; /* the save fails: nothing is signed */
        return;
    }
    uint32_t k = mc_consensus_relay_votes(n->drv->cs, kept, max);
    mc_enc_u64(b, mc_driver__height(n));
    for (uint32_t i = 0; i < k; i++) {
        struct mc_buf w;
        mc_buf_init(&w, 0);
        mc_wire_encode_vote(&w, &kept[i]);
        mc_enc_bytes32(b, w.data, w.len);
        mc_buf_deinit(&w);
    }
    free(kept);
}

/* ---- persistence hook ---- */

/* The engine's persistence hook: the record (and our messages so far) in
 * one durable SQL transaction before anything is signed. */
int mc_driver__save_signed(void *ctx, const struct mc_consensus_signed_state *s) {
    struct mc_node *n = ctx;
    /* The message being signed joins our messages first, so one write
     * holds the record and every message it covers: a restart replays
     * them all even when the engine signed several in one step. */
    if (s->signed_bytes && s->signed_len == MC_VOTE_SIGNED_BYTES) {
        struct mc_buf w;
        mc_buf_init(&w, 0);
        mc_enc_u8(&w, MC_WIRE_VOTE);
        mc_enc_fixed(&w, s->signed_bytes, s->signed_len);
        mc_enc_u16(&w, (uint16_t)n->validator_index);
        mc_enc_fixed(&w, s->sig, MC_SIG_BYTES);
        mc_driver__own_add(n, &w);
        mc_buf_deinit(&w);
    } else if (s->signed_bytes && s->signed_len == MC_PROPOSAL_SIGNED_BYTES) {
        mc_hash bh;
        memcpy(bh.b, s->signed_bytes + 17, 32);
        struct cand_slot *cs = mc_driver__cand_find(n->drv, &bh);
        uint8_t wire[MC_PROPOSAL_WIRE_BYTES];
        memcpy(wire, s->signed_bytes, s->signed_len);
        memcpy(wire + s->signed_len, s->sig, MC_SIG_BYTES);
        struct mc_proposal p;
        if (cs && mc_proposal_decode(&p, wire, sizeof wire) == 0) {
            struct mc_wire_block blk = {cs->c.header_bytes.data, cs->c.header_bytes.len,
                                        cs->c.body_bytes.data, cs->c.body_bytes.len};
            struct mc_buf w;
            mc_buf_init(&w, 0);
            mc_wire_encode_proposal(&w, &p, &blk);
            mc_driver__own_add(n, &w);
            mc_buf_deinit(&w);
        }
    }
    struct mc_buf b, own, kept;
    mc_buf_init(&b, 0);
    mc_buf_init(&own, 0);
    mc_buf_init(&kept, 0);
    mc_consensus_signed_state_encode(&b, s);
    own_encode(n, &own);
    kept_encode(n, &kept);
    struct mc_buf val;
    mc_buf_init(&val, 0);
    struct mc_driver *d = n->drv;
    struct cand_slot *vs = d->has_value && d->value_height == s->height ? mc_driver__cand_find(d, &d->value_hash) : NULL;
    if (s->step == MC_CONSENSUS_STEP_PROPOSE && vs) {
        mc_enc_u64(&val, d->value_height);
        mc_enc_u32(&val, d->value_round);
        mc_enc_bytes32(&val, vs->c.header_bytes.data, vs->c.header_bytes.len);
        mc_enc_bytes32(&val, vs->c.body_bytes.data, vs->c.body_bytes.len);
    }
    int rc = b.err ? b.err : own.err ? own.err : kept.err ? kept.err : val.err;
    if (!rc) rc = mc_store_begin(n->store);
    if (!rc) {
        rc = mc_store_meta_put(n->store, "consensus_signed", b.data, b.len);
        if (!rc) rc = mc_store_meta_put(n->store, "consensus_own", own.data, own.len);
        if (!rc) rc = mc_store_meta_put(n->store, "consensus_votes", kept.data, kept.len);
        if (!rc && val.len) rc = mc_store_meta_put(n->store, "consensus_value", val.data, val.len);
        if (!rc) rc = mc_store_commit(n->store);
        else mc_store_rollback(n->store);
    }
    mc_buf_deinit(&b);
    mc_buf_deinit(&own);
    mc_buf_deinit(&kept);
    mc_buf_deinit(&val);
    return rc;
}

/* Restores the value we proposed at this height before a restart. */
void mc_driver__restore_value(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    if (mc_store_meta_get(n->store, "consensus_value", &b) == 0) {
        struct mc_dec dec;
        mc_dec_init(&dec, b.data, b.len);
        uint64_t h = mc_dec_u64(&dec);
        uint32_t r = mc_dec_u32(&dec);
        size_t hl, bl;
        const uint8_t *hp = mc_dec_bytes32(&dec, &hl, 4096);
        const uint8_t *bp = mc_dec_bytes32(&dec, &bl, MC_BLOCK_BYTES_MAX);
        struct mc_candidate c;
        if (mc_dec_finish(&dec) == 0 && h == mc_driver__height(n) &&
            mc_blockexec_candidate_from_bytes(&c, hp, hl, bp, bl) == 0) {
            mc_hash hash = c.hash;
            struct cand_slot *slot = mc_driver__cand_put(d, &c);
            if (slot) {
                slot->built_here = true;
                d->has_value = true;
                d->value_height = h;
                d->value_round = r;
                d->value_hash = hash;
            }
        }
    }
    mc_buf_deinit(&b);
}
void mc_driver__wal_replay(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    /* WAL replay: our own messages of this height go back into the engine
     * (it cannot count votes it no longer holds) and are re-gossiped. */
    struct mc_buf b;
    mc_buf_init(&b, 0);
    if (mc_store_meta_get(n->store, "consensus_own", &b) == 0) {
        struct mc_dec dec;
        mc_dec_init(&dec, b.data, b.len);
        uint64_t h = mc_dec_u64(&dec);
        while (!dec.err && h == mc_driver__height(n) && dec.pos < dec.len) {
            size_t len;
            const uint8_t *p = mc_dec_bytes32(&dec, &len, MC_NET_MESSAGE_MAX);
            if (!p) break;
            struct mc_buf m;
            mc_buf_init(&m, 0);
            mc_buf_append(&m, p, len);
            if (d->own_count < OWN_MSGS_MAX) d->own[d->own_count++] = m;
            else mc_buf_deinit(&m);
            mc_driver__handle_wire(n, NULL, p, len, false);
        }
        if (d->own_count) mc_log_info("driver", "replayed %u of our own messages at height %llu",
                                      d->own_count, (unsigned long long)mc_driver__height(n));
    }
    mc_buf_deinit(&b);
    /* and the votes of others stored with the record: the engine holds the
     * prevotes behind its restored lock, and what justified its round,
     * again and relays them */
    mc_buf_init(&b, 0);
    if (mc_store_meta_get(n->store, "consensus_votes", &b) == 0) {
        struct mc_dec dec;
        mc_dec_init(&dec, b.data, b.len);
        uint64_t h = mc_dec_u64(&dec);
        uint32_t k = 0;
        uint32_t max = MC_CONSENSUS_RELAY_MAX(mc_node__valset(n)->count);
        while (!dec.err && h == mc_driver__height(n) && dec.pos < dec.len && k < max) {
            size_t len;
            const uint8_t *p = mc_dec_bytes32(&dec, &len, MC_NET_MESSAGE_MAX);
            if (!p) break;
            mc_driver__handle_wire(n, NULL, p, len, false);
            k++;
        }
        if (k) mc_log_info("driver", "replayed %u kept votes of others at height %llu", k,
                           (unsigned long long)mc_driver__height(n));
    }
    mc_buf_deinit(&b);
}
