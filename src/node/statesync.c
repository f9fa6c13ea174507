/* State sync (snapshot.h): a node whose store holds no block, configured
 * with "state_sync": true, restores the state of a peer's snapshot instead
 * of replaying every block, before it starts.
 *
 * On its own event loop and transport (the node's are not started yet):
 *   1. asks every peer for its snapshots (GET_SNAPSHOTS) and its changes of
 *      validators (GET_VALSETS), until every configured peer answered or a
 *      few seconds passed;
 *   2. takes the latest snapshot offered and asks a peer holding it for the
 *      block of that height (GET_BLOCK): the header is certified by the
 *      light client (chain/light.h) trusting only the genesis: the changes
 *      of validators are followed by proof, and every signature of the
 *      header's certificate is checked against that height's set. The
 *      manifest must name that header's hash and state root, or the
 *      snapshot is refused;
 *   3. fetches the chunks from the peers holding the snapshot in turn; each
 *      is checked against the manifest's hash before it is decoded, and a
 *      peer that served a bad one is not asked again: the chunk comes from
 *      another peer;
 *   4. checks that the rows, all of them, hash to the certified state root
 *      (mc_smt_root_of), and only then installs, in one SQL transaction:
 *      the rows, the state tree rebuilt from them, the block row of that
 *      height (header and certificate), the ledger log's frontier, the
 *      proven changes of validators and meta "state_sync" (u64 height |
 *      block hash).
 * Then the node opens as usual at that height and block-syncs the rest.
 * With no snapshot offered, or none that checks, it logs that it falls
 * back to block sync and opens at genesis. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/governance.h"
#include "base/hex.h"
#include "base/log.h"
#include "chain/light.h"
#include "chain/smt.h"
#include "chain/snapshot.h"
#include "crypto/merkle.h"
#include "node/node_internal.h"
#include "node/snapshot.h"
#include "node/wire.h"

#define SS_OFFERS 16
#define TICK_MS 100
#define DISCOVER_MS 3000   /* after the first answer, for the others */
#define CONNECT_MS 15000   /* with no answer at all: fall back */
#define REQUEST_MS 10000   /* a request unanswered: ask another peer */

enum phase { DISCOVER, HEADER, CHUNKS, DONE };

struct ss_peer {
    mc_pubkey key;
    bool up, got_list, got_valsets;
    uint8_t *valsets;   /* its VALSETS message */
    size_t valsets_len;
};

struct ss_offer {
    struct mc_snapshot_manifest m;
    mc_hash id;
    bool from[MC_NET_PEERS_MAX];
    bool bad[MC_NET_PEERS_MAX];
    bool refused;
};

struct ss {
    struct mc_node *n;
    uv_loop_t loop;
    uv_timer_t timer;
    struct mc_net *net;
    enum phase phase;
    uint64_t start_ms, first_answer_ms;
    uint32_t peer_count;
    struct ss_peer peers[MC_NET_PEERS_MAX];
    struct ss_offer offers[SS_OFFERS];
    uint32_t offer_count;
    int cur;                       /* the offer being restored */
    int req_peer;
    uint64_t req_deadline;
    bool header_tried[MC_NET_PEERS_MAX];
    struct mc_header header;
    mc_hash header_hash;
    struct mc_buf header_bytes, commit_bytes;
    int valset_peer;               /* whose changes of validators certified it */
    struct mc_snapshot_check check;
    uint8_t **chunks;
    size_t *chunk_len;
    uint32_t next;
    bool installed;
    int fatal;
};

static char *peer_hex(const struct ss *s, int i, char out[17]) {
    mc_hex_encode(out, s->peers[i].key.b, 8);
    return out;
}

static int peer_index(struct ss *s, const mc_pubkey *k) {
    for (uint32_t i = 0; i < s->peer_count; i++)
        if (!memcmp(s->peers[i].key.b, k->b, 32)) return (int)i;
    return -1;
}

static void send_to(struct ss *s, int i, const struct mc_buf *b) {
    if (!b->err && mc_net_send(s->net, &s->peers[i].key, b->data, b->len) != 0) mc_err_clear();
}

static void chunks_free(struct ss *s) {
    if (s->chunks)
        for (uint32_t i = 0; i < s->next; i++) free(s->chunks[i]);
    free(s->chunks);
    free(s->chunk_len);
    s->chunks = NULL;
    s->chunk_len = NULL;
    s->next = 0;
    mc_snapshot_check_deinit(&s->check);
}

static void finish(struct ss *s) {
    s->phase = DONE;
    uv_stop(&s->loop);
}

static void fall_back(struct ss *s, const char *why) {
    mc_log_warn("statesync", "no state sync: %s; falling back to block sync from genesis", why);
    finish(s);
}

static void choose(struct ss *s);

static void refuse(struct ss *s, const char *fmt, const char *detail) {
    struct ss_offer *o = &s->offers[s->cur];
    mc_log_warn("statesync", "refusing the snapshot of height %" PRIu64 ": %s%s%s", o->m.height, fmt,
                detail ? ": " : "", detail ? detail : "");
    o->refused = true;
    chunks_free(s);
    choose(s);
}

/* ---- certifying the header ---- */

static int certify(struct ss *s, int q, const uint8_t *hb, size_t hl, const uint8_t *cb, size_t cl,
                   struct mc_header *out, mc_hash *hash) {
    struct mc_node *n = s->n;
    struct mc_light *lc = malloc(sizeof *lc);
    struct mc_wire_snap *vm = malloc(sizeof *vm);
    int rc = lc && vm ? 0 : MC_ERR_NOMEM;
    if (!rc) rc = mc_light_init(lc, n->genesis.chain_id, &n->genesis_hash, &n->genesis.valset);
    if (!rc && s->peers[q].valsets) rc = mc_wire_snap_decode(vm, s->peers[q].valsets, s->peers[q].valsets_len);
    else if (vm) vm->count = 0;
    /* follow each change of validators below the snapshot's height */
    struct mc_header th;
    if (!rc && mc_header_decode(&th, hb, hl)) rc = mc_err_set(MC_ERR_MALFORMED, "the header does not decode");
    for (uint32_t i = 0; !rc && i < vm->count; i++) {
        const struct mc_wire_valset_change *v = &vm->vs[i];
        if (v->height >= th.height) break;
        struct mc_header vh;
        mc_hash vhash;
        rc = mc_light_check_header(lc, v->header, v->header_len, v->commit, v->commit_len, &vh, &vhash);
        if (!rc && vh.height != v->height) rc = mc_err_set(MC_ERR_INVALID, "a change of validators names another height");
        if (!rc) rc = mc_light_add_valset(lc, &vh, v->row, v->row_len, v->proof, v->proof_len);
    }
    if (!rc) rc = mc_light_check_header(lc, hb, hl, cb, cl, out, hash);
    free(lc);
    free(vm);
    return rc;
}

static void request_header(struct ss *s) {
    struct ss_offer *o = &s->offers[s->cur];
    for (uint32_t i = 0; i < s->peer_count; i++) {
        if (!o->from[i] || !s->peers[i].up || s->header_tried[i]) continue;
        struct mc_buf w;
        mc_buf_init(&w, 0);
        mc_wire_encode_get_block(&w, o->m.height);
        send_to(s, (int)i, &w);
        mc_buf_deinit(&w);
        s->req_peer = (int)i;
        s->req_deadline = mc_node__now_ms() + REQUEST_MS;
        return;
    }
    refuse(s, "no peer holding it served its header with a certificate that checks", NULL);
}

static void request_chunk(struct ss *s);

static void on_header(struct ss *s, int p, const struct mc_wire_msg *m) {
    struct ss_offer *o = &s->offers[s->cur];
    s->header_tried[p] = true;
    char hx[17];
    struct mc_header h;
    mc_hash hash;
    int rc = MC_ERR_INVALID, q = -1;
    char why[256] = "";
    /* the serving peer's account of the validators first, then the others' */
    for (int k = -1; k < (int)s->peer_count && rc; k++) {
        int cand = k < 0 ? p : k;
        if (k >= 0 && k == p) continue;
        if (!s->peers[cand].got_valsets && cand != p) continue;
        mc_err_clear();
        rc = certify(s, cand, m->block.header, m->block.header_len, m->bytes, m->len, &h, &hash);
        if (rc && !why[0]) snprintf(why, sizeof why, "%s", mc_err_detail());
        if (!rc) q = cand;
    }
    if (rc) {
        mc_log_warn("statesync", "the header of height %" PRIu64 " from peer %s does not certify (%s): asking another peer",
                    o->m.height, peer_hex(s, p, hx), why);
        request_header(s);
        return;
    }
    if (h.height != o->m.height || memcmp(hash.b, o->m.block_hash.b, 32)) {
        refuse(s, "its manifest names another block than the certified header of its height", NULL);
        return;
    }
    if (memcmp(h.state_hash.b, o->m.state_root.b, 32)) {
        refuse(s, "its manifest's state root is not the certified header's state root", NULL);
        return;
    }
    mc_log_info("statesync", "certified the header of height %" PRIu64 " from the genesis (peer %s)", h.height,
                peer_hex(s, p, hx));
    s->header = h;
    s->header_hash = hash;
    s->valset_peer = q;
    mc_buf_reset(&s->header_bytes);
    mc_buf_reset(&s->commit_bytes);
    mc_buf_append(&s->header_bytes, m->block.header, m->block.header_len);
    mc_buf_append(&s->commit_bytes, m->bytes, m->len);
    s->phase = CHUNKS;
    mc_snapshot_check_init(&s->check, &o->m);
    s->chunks = calloc(o->m.chunk_count, sizeof *s->chunks);
    s->chunk_len = calloc(o->m.chunk_count, sizeof *s->chunk_len);
    if (!s->chunks || !s->chunk_len) {
        s->fatal = MC_ERR_NOMEM;
        finish(s);
        return;
    }
    s->next = 0;
    request_chunk(s);
}

/* ---- chunks ---- */

static void request_chunk(struct ss *s) {
    struct ss_offer *o = &s->offers[s->cur];
    int holders[MC_NET_PEERS_MAX], h = 0;
    for (uint32_t i = 0; i < s->peer_count; i++)
        if (o->from[i] && !o->bad[i] && s->peers[i].up) holders[h++] = (int)i;
    if (h == 0) {
        refuse(s, "no peer holding it is left that served good chunks", NULL);
        return;
    }
    int p = holders[s->next % (uint32_t)h];
    struct mc_buf w;
    mc_buf_init(&w, 0);
    mc_wire_encode_get_chunk(&w, o->m.height, s->next);
    send_to(s, p, &w);
    mc_buf_deinit(&w);
    s->req_peer = p;
    s->req_deadline = mc_node__now_ms() + REQUEST_MS;
}

static int install(struct ss *s);

static void on_chunk(struct ss *s, int p, const uint8_t *bytes, size_t len) {
    struct ss_offer *o = &s->offers[s->cur];
    char hx[17];
    mc_err_clear();
    int rc = mc_snapshot_check_add(&s->check, s->next, bytes, len);
    if (rc) {
        mc_log_warn("statesync", "chunk %u of the snapshot of height %" PRIu64 " from peer %s is refused (%s): "
                    "asking another peer", s->next, o->m.height, peer_hex(s, p, hx), mc_err_detail());
        o->bad[p] = true;
        request_chunk(s);
        return;
    }
    s->chunks[s->next] = malloc(len);
    if (!s->chunks[s->next]) {
        s->fatal = MC_ERR_NOMEM;
        finish(s);
        return;
    }
    memcpy(s->chunks[s->next], bytes, len);
    s->chunk_len[s->next] = len;
    s->next++;
    if (s->next < o->m.chunk_count) {
        request_chunk(s);
        return;
    }
    mc_hash root;
    mc_err_clear();
    rc = mc_snapshot_check_finish(&s->check, &root);
    if (!rc && memcmp(root.b, s->header.state_hash.b, 32))
        rc = mc_err_set(MC_ERR_TAMPERED, "the rows do not hash to the certified state root");
    if (rc) {
        refuse(s, "its rows do not check against the certified state root", mc_err_detail());
        return;
    }
    mc_log_info("statesync", "the %" PRIu64 " rows of the snapshot of height %" PRIu64
                " hash to the certified state root: installing", o->m.rows, o->m.height);
    rc = install(s);
    if (rc) {
        if (rc == MC_ERR_DB || rc == MC_ERR_IO || rc == MC_ERR_NOMEM) {
            s->fatal = rc;
            finish(s);
            return;
        }
        refuse(s, "it cannot be installed", mc_err_detail());
        return;
    }
    s->installed = true;
    finish(s);
}

/* ---- install: one SQL transaction ---- */

static int io_get(void *ctx, const uint8_t *k, size_t kl, struct mc_buf *out) { return mc_kv_get(ctx, k, kl, out); }
static int io_put(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
    return mc_kv_put(ctx, k, kl, v, vl);
}
static int io_del(void *ctx, const uint8_t *k, size_t kl) { return mc_kv_del(ctx, k, kl); }

static int put_row(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
    return mc_kv_put(ctx, k, kl, v, vl);
}

static int put_valsets(struct ss *s) {
    struct mc_store *st = s->n->store;
    if (s->valset_peer < 0 || !s->peers[s->valset_peer].valsets) return 0;
    struct mc_wire_snap *vm = malloc(sizeof *vm);
    if (!vm) return MC_ERR_NOMEM;
    int rc = mc_wire_snap_decode(vm, s->peers[s->valset_peer].valsets, s->peers[s->valset_peer].valsets_len);
    uint32_t k = 0;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    for (uint32_t i = 0; !rc && i < vm->count && vm->vs[i].height < s->header.height; i++, k++) {
        const struct mc_wire_valset_change *v = &vm->vs[i];
        char name[64];
        mc_buf_reset(&b);
        mc_enc_u64(&b, v->height);
        mc_enc_u64(&b, v->from);
        mc_enc_bytes32(&b, v->row, v->row_len);
        mc_enc_bytes32(&b, v->proof, v->proof_len);
        snprintf(name, sizeof name, "valset_proof/%u", k);
        rc = b.err ? b.err : mc_store_meta_put(st, name, b.data, b.len);
        mc_buf_reset(&b);
        mc_enc_bytes32(&b, v->header, v->header_len);
        mc_enc_bytes32(&b, v->commit, v->commit_len);
        snprintf(name, sizeof name, "statesync_header/%" PRIu64, v->height);
        if (!rc) rc = b.err ? b.err : mc_store_meta_put(st, name, b.data, b.len);
    }
    uint8_t cnt[4] = {(uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
    if (!rc && k) rc = mc_store_meta_put(st, "valset_proofs", cnt, 4);
    mc_buf_deinit(&b);
    free(vm);
    return rc;
}

static int install(struct ss *s) {
    struct mc_store *st = s->n->store;
    struct mc_kv *kv = mc_store_kv(st);
    int rc = mc_store_begin(st);
    if (rc) return rc;
    bool kv_open = false;
    if (sqlite3_exec(mc_store_db(st), "DELETE FROM state", NULL, NULL, NULL) != SQLITE_OK)
        rc = mc_err_set(MC_ERR_DB, "cannot clear the state: %s", mc_store_errmsg(st));
    if (!rc && !(rc = mc_kv_begin(kv))) kv_open = true;
    for (uint32_t i = 0; !rc && i < s->next; i++) rc = mc_snapshot_chunk_decode(s->chunks[i], s->chunk_len[i], put_row, kv);
    /* the tree, rebuilt from the rows (sorted by key hash by the check) */
    mc_hash root;
    struct mc_smt_io io = {.ctx = kv, .get = io_get, .put = io_put, .del = io_del};
    if (!rc) rc = mc_smt_update(&io, s->check.rows, s->check.n, &root);
    if (!rc && memcmp(root.b, s->header.state_hash.b, 32))
        rc = mc_err_set(MC_ERR_TAMPERED, "the rebuilt state tree's root is not the certified state root");
    if (!rc) {
        kv_open = false;
        rc = mc_kv_commit(kv);
    }
    struct mc_commit cert;
    if (!rc && mc_commit_decode(&cert, s->commit_bytes.data, s->commit_bytes.len))
        rc = mc_err_set(MC_ERR_MALFORMED, "the certificate does not decode");
    if (!rc) rc = mc_store_put_block(st, &s->header, NULL, 0, NULL, &cert, 0);
    /* the ledger log continues from the frontier the state holds */
    struct mc_merkle_frontier f;
    if (!rc) rc = mc_app_log_frontier(kv, &f);
    mc_hash lr;
    if (!rc) {
        mc_merkle_frontier_root(&f, &lr);
        if (f.size != s->header.log_size || memcmp(lr.b, s->header.log_root.b, 32))
            rc = mc_err_set(MC_ERR_TAMPERED, "the state's ledger log is not the certified header's");
    }
    if (!rc) rc = mc_store_log_seed(st, &f);
    if (!rc) rc = put_valsets(s);
    uint8_t mark[40];
    for (int i = 0; i < 8; i++) mark[i] = (uint8_t)(s->header.height >> (56 - 8 * i));
    memcpy(mark + 8, s->header_hash.b, 32);
    if (!rc) rc = mc_store_meta_put(st, "state_sync", mark, sizeof mark);
    if (kv_open) mc_kv_rollback(kv);
    if (!rc) rc = mc_store_commit(st);
    else mc_store_rollback(st);
    return rc;
}

/* ---- the transport ---- */

static bool ss_is_member(void *ctx, const mc_pubkey *key) {
    struct ss *s = ctx;
    return mc_governance_node_active(mc_app_state(s->n->app), key);
}

static void request_chunk(struct ss *s);
static void request_header(struct ss *s);

static void ss_on_peer(void *ctx, const mc_pubkey *key, bool up) {
    struct ss *s = ctx;
    int i = peer_index(s, key);
    if (i < 0) return;
    s->peers[i].up = up;
    if (!up && i == s->req_peer && (s->phase == HEADER || s->phase == CHUNKS)) {
        /* the peer asked went away: ask another now */
        if (s->phase == HEADER) {
            s->header_tried[i] = true;
            request_header(s);
        } else {
            s->offers[s->cur].bad[i] = true;
            request_chunk(s);
        }
        return;
    }
    if (!up || s->phase == DONE) return;
    struct mc_buf w;
    mc_buf_init(&w, 0);
    mc_wire_encode_get_snapshots(&w);
    send_to(s, i, &w);
    mc_buf_reset(&w);
    mc_wire_encode_get_valsets(&w);
    send_to(s, i, &w);
    mc_buf_deinit(&w);
}

static void add_offer(struct ss *s, int p, const uint8_t *bytes, size_t len) {
    struct mc_snapshot_manifest m;
    if (mc_snapshot_manifest_decode(&m, bytes, len)) return;
    mc_hash id;
    mc_sha256(&id, bytes, len);
    for (uint32_t i = 0; i < s->offer_count; i++)
        if (!memcmp(s->offers[i].id.b, id.b, 32)) {
            s->offers[i].from[p] = true;
            mc_snapshot_manifest_deinit(&m);
            return;
        }
    if (s->offer_count == SS_OFFERS) {
        mc_snapshot_manifest_deinit(&m);
        return;
    }
    struct ss_offer *o = &s->offers[s->offer_count++];
    memset(o, 0, sizeof *o);
    o->m = m;
    o->id = id;
    o->from[p] = true;
}

static void ss_on_message(void *ctx, const mc_pubkey *from, const uint8_t *msg, size_t len) {
    struct ss *s = ctx;
    int p = peer_index(s, from);
    if (p < 0 || len < 1 || s->phase == DONE) return;
    if (mc_wire_is_snap(msg[0])) {
        struct mc_wire_snap *m = malloc(sizeof *m);
        if (!m) return;
        if (mc_wire_snap_decode(m, msg, len)) {
            mc_net_drop(s->net, from, "malformed state sync message");
        } else if (m->type == MC_WIRE_SNAPSHOTS && s->phase == DISCOVER) {
            for (uint32_t i = 0; i < m->count; i++) add_offer(s, p, m->manifest[i], m->manifest_len[i]);
            s->peers[p].got_list = true;
            if (!s->first_answer_ms) s->first_answer_ms = mc_node__now_ms();
        } else if (m->type == MC_WIRE_VALSETS && !s->peers[p].valsets) {
            s->peers[p].valsets = malloc(len);
            if (s->peers[p].valsets) {
                memcpy(s->peers[p].valsets, msg, len);
                s->peers[p].valsets_len = len;
            }
            s->peers[p].got_valsets = true;
        } else if (s->phase == CHUNKS && p == s->req_peer && m->height == s->offers[s->cur].m.height &&
                   m->index == s->next) {
            if (m->type == MC_WIRE_CHUNK) {
                on_chunk(s, p, m->bytes, m->len);
            } else if (m->type == MC_WIRE_NO_CHUNK) {
                s->offers[s->cur].bad[p] = true;
                request_chunk(s);
            }
        }
        free(m);
        return;
    }
    if (s->phase != HEADER || p != s->req_peer) return;
    if (msg[0] != MC_WIRE_BLOCK && msg[0] != MC_WIRE_NO_BLOCK) return;
    struct mc_wire_msg *m = malloc(sizeof *m);
    if (!m) return;
    if (mc_wire_decode(m, msg, len) == 0 && m->height == s->offers[s->cur].m.height) {
        if (m->type == MC_WIRE_BLOCK) {
            on_header(s, p, m);
        } else {
            s->header_tried[p] = true;
            request_header(s);
        }
    }
    free(m);
}

static void choose(struct ss *s) {
    int best = -1;
    for (uint32_t i = 0; i < s->offer_count; i++)
        if (!s->offers[i].refused && (best < 0 || s->offers[i].m.height > s->offers[best].m.height)) best = (int)i;
    if (best < 0) {
        fall_back(s, s->offer_count ? "every snapshot the peers offered was refused" : "no peer offers a snapshot");
        return;
    }
    s->cur = best;
    memset(s->header_tried, 0, sizeof s->header_tried);
    s->phase = HEADER;
    mc_log_info("statesync", "restoring the snapshot of height %" PRIu64 " (%u chunks, %" PRIu64 " rows)",
                s->offers[best].m.height, s->offers[best].m.chunk_count, s->offers[best].m.rows);
    request_header(s);
}

static void ss_tick(uv_timer_t *t) {
    struct ss *s = t->data;
    uint64_t now = mc_node__now_ms();
    if (s->phase == DISCOVER) {
        bool all = s->peer_count > 0;
        for (uint32_t i = 0; i < s->peer_count; i++)
            if (!s->peers[i].got_list || !s->peers[i].got_valsets) all = false;
        if (all || (s->first_answer_ms && now - s->first_answer_ms >= DISCOVER_MS)) choose(s);
        else if (!s->first_answer_ms && now - s->start_ms >= CONNECT_MS) fall_back(s, "no peer answered");
        return;
    }
    if ((s->phase == HEADER || s->phase == CHUNKS) && now >= s->req_deadline) {
        char hx[17];
        mc_log_warn("statesync", "peer %s did not answer in time: asking another peer", peer_hex(s, s->req_peer, hx));
        if (s->phase == HEADER) {
            s->header_tried[s->req_peer] = true;
            request_header(s);
        } else {
            s->offers[s->cur].bad[s->req_peer] = true;
            request_chunk(s);
        }
    }
}

static void close_cb(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static int run(struct ss *s) {
    struct mc_node *n = s->n;
    if (uv_loop_init(&s->loop)) return mc_err_set(MC_ERR_IO, "cannot create an event loop");
    struct mc_net_config cfg = {.chain_id = n->genesis.chain_id, .node_key = n->node_key,
                                .is_member = ss_is_member, .on_message = ss_on_message,
                                .on_peer = ss_on_peer, .ctx = s};
    int rc = mc_net_start(&s->net, &s->loop, &cfg);
    for (uint32_t i = 0; !rc && i < n->peer_count_cfg; i++) rc = mc_net_dial(s->net, n->peers[i].host, n->peers[i].port);
    if (!rc) {
        uv_timer_init(&s->loop, &s->timer);
        s->timer.data = s;
        uv_timer_start(&s->timer, ss_tick, TICK_MS, TICK_MS);
        s->start_ms = mc_node__now_ms();
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_timer_stop(&s->timer);
    }
    if (s->net) mc_net_stop(s->net);
    uv_walk(&s->loop, close_cb, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&s->loop);
    return rc;
}

int mc_statesync_run(struct mc_node *n) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    if (mc_store_meta_get(n->store, "state_sync", &b) == 0 && b.len == 40)
        for (int i = 0; i < 8; i++) n->state_synced_from = n->state_synced_from << 8 | b.data[i];
    mc_buf_deinit(&b);
    struct mc_snapshot_config cfg;
    int rc = mc_snapshot_config_load(&cfg, n->home);
    if (rc || !cfg.state_sync) return rc;
    uint64_t height = 0;
    if ((rc = mc_store_height(n->store, &height))) return rc;
    if (height > 0) return 0; /* a store with blocks block-syncs */
    if (!n->has_p2p || n->peer_count_cfg == 0) {
        mc_log_warn("statesync", "no state sync: no peer is configured; falling back to block sync from genesis");
        return 0;
    }
    struct ss *s = calloc(1, sizeof *s);
    if (!s) return MC_ERR_NOMEM;
    s->n = n;
    s->cur = -1;
    s->valset_peer = -1;
    mc_buf_init(&s->header_bytes, MC_HEADER_BYTES_MAX);
    mc_buf_init(&s->commit_bytes, MC_COMMIT_BYTES_MAX);
    for (uint32_t i = 0; i < n->peer_count_cfg && s->peer_count < MC_NET_PEERS_MAX; i++)
        if (peer_index(s, &n->peers[i].key) < 0) s->peers[s->peer_count++].key = n->peers[i].key;
    mc_log_info("statesync", "the store holds no block: asking %u peers for a snapshot", s->peer_count);
    rc = run(s);
    if (!rc) rc = s->fatal;
    if (!rc && s->installed) {
        /* the application, reopened over the restored state */
        mc_app_close(n->app);
        n->app = NULL;
        rc = mc_blockexec_app_open(&n->app, n->store, &n->genesis);
        if (!rc) {
            n->state_synced_from = s->header.height;
            mc_log_info("statesync", "state-synced at height %" PRIu64 " from a snapshot: block sync goes on from there",
                        s->header.height);
        }
    }
    chunks_free(s);
    for (uint32_t i = 0; i < s->offer_count; i++) mc_snapshot_manifest_deinit(&s->offers[i].m);
    for (uint32_t i = 0; i < s->peer_count; i++) free(s->peers[i].valsets);
    mc_buf_deinit(&s->header_bytes);
    mc_buf_deinit(&s->commit_bytes);
    free(s);
    return rc;
}
