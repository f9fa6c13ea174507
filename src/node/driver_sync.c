/* Block sync of the driver (driver_internal.h): every node gossips STATUS
 * (height, hash) each second; a node that sees a peer ahead asks it for
 * the next block, checks its certificate and re-executes it
 * (blockexec.h), and carries on until it is level, then rejoins consensus
 * at the new height. A peer that serves a bad block is dropped. */
#include <string.h>

#include "base/log.h"
#include "node/driver_internal.h"

struct peer_state *mc_driver__peer_of(struct mc_driver *d, const mc_pubkey *k) {
    for (int i = 0; i < MC_NET_PEERS_MAX; i++)
        if (d->peers[i].up && memcmp(d->peers[i].key.b, k->b, 32) == 0) return &d->peers[i];
    return NULL;
}

void mc_driver__sync_request(struct mc_node *n) {
    struct mc_driver *d = n->drv;
    if (d->syncing && mc_node__now_ms() < d->sync_deadline_ms) return;
    d->syncing = false;
    for (int i = 0; i < MC_NET_PEERS_MAX; i++) {
        struct peer_state *p = &d->peers[i];
        if (!p->up || p->height <= n->head.height) continue;
        struct mc_buf w;
        mc_buf_init(&w, 0);
        mc_wire_encode_get_block(&w, n->head.height + 1);
        mc_driver__send_to(n, &p->key, &w);
        mc_buf_deinit(&w);
        d->syncing = true;
        d->sync_height = n->head.height + 1;
        d->sync_peer = p->key;
        d->sync_deadline_ms = mc_node__now_ms() + SYNC_TIMEOUT_MS;
        return;
    }
}

void mc_driver__on_block(struct mc_node *n, const mc_pubkey *from, const struct mc_wire_msg *m) {
    struct mc_driver *d = n->drv;
    if (!d->syncing || m->height != n->head.height + 1 || memcmp(from->b, d->sync_peer.b, 32) != 0)
        return;
    d->syncing = false;
    /* a height this build may not run: stop before it (upgrade.c) */
    if (mc_node__upgrade_halt(n, n->head.height + 1)) {
        uv_stop(&n->loop);
        return;
    }
    struct mc_candidate c;
    struct mc_commit cert;
    int rc = mc_blockexec_candidate_from_bytes(&c, m->block.header, m->block.header_len, m->block.body,
                                     m->block.body_len);
    if (rc) goto bad;
    if (mc_commit_decode(&cert, m->bytes, m->len)) {
        mc_blockexec_candidate_deinit(&c);
        rc = mc_err_set(MC_ERR_MALFORMED, "certificate does not decode");
        goto bad;
    }
    rc = mc_blockexec_commit(n->store, n->app, &n->genesis, &n->head, &c, &cert, mc_node__verified, n);
    if (rc == MC_ERR_DB || rc == MC_ERR_IO) {
        mc_blockexec_candidate_deinit(&c);
        n->fatal = rc;
        uv_stop(&n->loop);
        return;
    }
    if (rc) {
        mc_blockexec_candidate_deinit(&c);
        goto bad;
    }
    mc_log_info("driver", "synced block %llu from a peer", (unsigned long long)n->head.height);
    mc_node__after_commit(n, &c);
    mc_blockexec_candidate_deinit(&c);
    mc_driver__restart_at_head(n);
    mc_driver__sync_request(n);
    return;
bad:
    mc_log_warn("driver", "peer served a bad block %llu (%s): dropping it",
                (unsigned long long)m->height, mc_err_detail());
    if (n->net) mc_net_drop(n->net, from, "served a bad block");
}

void mc_driver__on_status(struct mc_node *n, const mc_pubkey *from, uint64_t height) {
    struct peer_state *p = mc_driver__peer_of(n->drv, from);
    if (p) p->height = height;
    if (height > n->head.height) mc_driver__sync_request(n);
}

/* A peer asks for a block: the block with its certificate, or NO_BLOCK. */
void mc_driver__on_get_block(struct mc_node *n, const mc_pubkey *from, uint64_t height) {
    struct mc_buf hb, bb, cb, w;
    mc_buf_init(&hb, 0);
    mc_buf_init(&bb, MC_BLOCK_BYTES_MAX);
    mc_buf_init(&cb, 0);
    mc_buf_init(&w, 0);
    /* a state-synced node holds no block below its snapshot's height, and
     * that one only as a header and certificate (statesync.c) */
    if (height > n->state_synced_from && height <= n->head.height && mc_blockexec_load(n->store, height, &hb, &bb, &cb) == 0) {
        struct mc_wire_block blk = {hb.data, hb.len, bb.data, bb.len};
        mc_wire_encode_block(&w, height, &blk, cb.data, cb.len);
    } else {
        mc_wire_encode_no_block(&w, height);
    }
    mc_driver__send_to(n, from, &w);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&bb);
    mc_buf_deinit(&cb);
    mc_buf_deinit(&w);
}

void mc_driver__on_no_block(struct mc_node *n, const mc_pubkey *from) {
    struct mc_driver *d = n->drv;
    if (d->syncing && memcmp(from->b, d->sync_peer.b, 32) == 0) d->syncing = false;
}

void mc_driver__sync_tick(struct mc_node *n, uint64_t now_ms) {
    struct mc_driver *d = n->drv;
    if (d->syncing && now_ms >= d->sync_deadline_ms) d->syncing = false;
    if (d->syncing) return;
    for (int i = 0; i < MC_NET_PEERS_MAX; i++)
        if (d->peers[i].up && d->peers[i].height > n->head.height) {
            mc_driver__sync_request(n);
            return;
        }
}
