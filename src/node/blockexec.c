/* Building, validating and committing blocks (rules in blockexec.h). */
#include "node/blockexec.h"

#include "app/state.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/merkle.h"
#include "chain/light.h"
#include "chain/smt.h"
#include "chain/stateproof.h"

void mc_blockexec_candidate_deinit(struct mc_candidate *c) {
    mc_buf_deinit(&c->header_bytes);
    mc_buf_deinit(&c->body_bytes);
}

int mc_blockexec_candidate_from_bytes(struct mc_candidate *c, const uint8_t *header, size_t header_len,
                            const uint8_t *body, size_t body_len) {
    memset(c, 0, sizeof *c);
    if (mc_header_decode(&c->header, header, header_len))
        return mc_err_set(MC_ERR_MALFORMED, "block header does not decode");
    mc_sha256(&c->hash, header, header_len);
    mc_buf_init(&c->header_bytes, 0);
    mc_buf_init(&c->body_bytes, MC_BLOCK_BYTES_MAX);
    mc_buf_append(&c->header_bytes, header, header_len);
    mc_buf_append(&c->body_bytes, body, body_len);
    int rc = c->header_bytes.err ? c->header_bytes.err : c->body_bytes.err;
    if (rc) mc_blockexec_candidate_deinit(c);
    return rc;
}

int mc_blockexec_head_load(struct mc_chain_head *head, struct mc_store *store,
                       const struct mc_genesis *g) {
    memset(head, 0, sizeof *head);
    int rc = mc_store_height(store, &head->height);
    if (rc) return rc;
    if (head->height == 0) {
        mc_genesis_hash(g, &head->hash);
        head->time_ms = g->time_ms;
        return 0;
    }
    struct mc_header h;
    if ((rc = mc_store_get_header(store, head->height, &h, &head->hash))) return rc;
    head->time_ms = h.time_ms;
    if ((rc = mc_store_get_commit(store, head->height, &head->commit))) return rc;
    head->has_commit = true;
    return 0;
}

/* The state hash at height 0. A store without genesis state gets it now,
 * with S_0 recorded in meta, in one SQL transaction; a store that has it
 * gives the S_0 recorded when it was written. */
static int genesis_tip(struct mc_store *store, const struct mc_genesis *g,
                       struct mc_app_tip *tip) {
    /* Written before (S_0 and the state go in one transaction): a read, so
     * an application can be opened inside a group of reads (the node's
     * check state at height 0, opened during an admission). */
    struct mc_buf known;
    mc_buf_init(&known, 0);
    int rc = mc_store_meta_get(store, "genesis_state_hash", &known);
    if (rc == 0 && known.len == 32) {
        memcpy(tip->state_hash.b, known.data, 32);
        mc_buf_deinit(&known);
        return 0;
    }
    mc_buf_deinit(&known);
    rc = mc_store_begin(store);
    if (rc) return rc;
    rc = mc_app_write_genesis(mc_store_kv(store), g, &tip->state_hash);
    if (rc == 0) {
        rc = mc_store_meta_put(store, "genesis_state_hash", tip->state_hash.b, 32);
    } else if (rc == MC_ERR_EXISTS) {
        struct mc_buf h;
        mc_buf_init(&h, 0);
        rc = mc_store_meta_get(store, "genesis_state_hash", &h);
        if (!rc && h.len == 32) memcpy(tip->state_hash.b, h.data, 32);
        else rc = mc_err_set(MC_ERR_TAMPERED, "genesis state hash missing");
        mc_buf_deinit(&h);
    }
    if (!rc) rc = mc_store_commit(store);
    else mc_store_rollback(store);
    return rc;
}

int mc_blockexec_app_open(struct mc_app **out, struct mc_store *store,
                          const struct mc_genesis *g) {
    *out = NULL;
    struct mc_app_tip tip = {.time_ms = g->time_ms};
    int rc = mc_store_height(store, &tip.height);
    if (!rc && tip.height == 0) {
        rc = genesis_tip(store, g, &tip);
    } else if (!rc) {
        struct mc_header h;
        rc = mc_store_get_header(store, tip.height, &h, NULL);
        if (!rc) {
            tip.state_hash = h.state_hash;
            tip.time_ms = h.time_ms;
        }
    }
    if (rc) return rc;
    uint8_t key[MC_STATE_HASH_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    rc = mc_app_open(out, mc_store_kv(store), g, &tip, key);
    sodium_memzero(key, sizeof key);
    return rc;
}

/* Executes txs on top of the head in the app's block overlay and fills the
 * header fields that depend on execution. The overlay stays open: the
 * caller commits or aborts it. */
static int execute_in(struct mc_app *app, uint64_t height, uint64_t time_ms,
                      const struct mc_tx_ref *txs, uint32_t count, mc_verified_fn verified,
                      void *ctx, struct mc_header *h);

/* The reads of a block's execution share one snapshot of the store (one
 * read lock for the block rather than one per statement); it ends before
 * the caller writes the block. */
static int execute(struct mc_app *app, uint64_t height, uint64_t time_ms,
                   const struct mc_tx_ref *txs, uint32_t count, mc_verified_fn verified,
                   void *ctx, struct mc_header *h) {
    int rc = mc_state_read_begin(mc_app_state(app));
    if (rc) return rc;
    rc = execute_in(app, height, time_ms, txs, count, verified, ctx, h);
    mc_state_read_end(mc_app_state(app));
    return rc;
}

static int execute_in(struct mc_app *app, uint64_t height, uint64_t time_ms,
                      const struct mc_tx_ref *txs, uint32_t count, mc_verified_fn verified,
                      void *ctx, struct mc_header *h) {
    int rc = mc_app_begin_block(app, height, time_ms);
    if (rc) return mc_err_set(rc, "the application cannot open block %llu", (unsigned long long)height);
    for (uint32_t i = 0; i < count; i++) {
        mc_hash id;
        mc_tx_id(&id, txs[i].bytes, txs[i].len);
        bool known = verified && verified(ctx, &id);
        if ((rc = mc_app_deliver(app, txs[i].bytes, txs[i].len, !known))) {
            char why[256];
            snprintf(why, sizeof why, "%s", mc_err_detail());
            mc_app_abort_block(app);
            return mc_err_set(rc, "transaction %u of block %llu: %s", i, (unsigned long long)height, why);
        }
    }
    if ((rc = mc_app_end_block(app, &h->state_hash, &h->log_size, &h->log_root))) {
        char why[256];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        mc_app_abort_block(app);
        return mc_err_set(rc, "the state root after block %llu: %s", (unsigned long long)height, why);
    }
    return 0;
}

static int build_in(struct mc_app *app, const struct mc_genesis *g, const struct mc_chain_head *head,
                    const mc_pubkey *proposer, uint64_t time_ms, const struct mc_tx_ref *txs, uint32_t count,
                    void (*rejected)(void *, uint32_t, int, const char *), void *ctx,
                    struct mc_candidate *out);

int mc_blockexec_build(struct mc_app *app, const struct mc_genesis *g,
                   const struct mc_chain_head *head, const mc_pubkey *proposer, uint64_t time_ms,
                   const struct mc_tx_ref *txs, uint32_t count,
                   void (*rejected)(void *, uint32_t, int, const char *), void *ctx,
                   struct mc_candidate *out) {
    memset(out, 0, sizeof *out);
    int rc = mc_state_read_begin(mc_app_state(app)); /* as in execute() */
    if (rc) return rc;
    rc = build_in(app, g, head, proposer, time_ms, txs, count, rejected, ctx, out);
    mc_state_read_end(mc_app_state(app));
    return rc;
}

static int build_in(struct mc_app *app, const struct mc_genesis *g, const struct mc_chain_head *head,
                    const mc_pubkey *proposer, uint64_t time_ms, const struct mc_tx_ref *txs, uint32_t count,
                    void (*rejected)(void *, uint32_t, int, const char *), void *ctx,
                    struct mc_candidate *out) {
    uint64_t height = head->height + 1;
    if (time_ms <= head->time_ms) time_ms = head->time_ms + 1;
    /* The block's bounds and validator set come from the state before it
     * (what validators check it against), read before the block opens. */
    uint64_t max_txs, max_bytes;
    struct mc_gov_valset *vs = malloc(sizeof *vs);
    if (!vs) return MC_ERR_NOMEM;
    int rc = mc_app_param(app, MC_GOV_PARAM_BLOCK_TXS, &max_txs);
    if (!rc) rc = mc_app_param(app, MC_GOV_PARAM_BLOCK_BYTES, &max_bytes);
    if (!rc) rc = mc_app_valset_at(app, height, vs);
    if (!rc) rc = mc_app_begin_block(app, height, time_ms);
    if (rc) {
        free(vs);
        return mc_err_set(rc, "the application cannot open block %llu", (unsigned long long)height);
    }
    struct mc_tx_ref *kept = malloc((count ? count : 1) * sizeof *kept);
    bool *done = calloc(count ? count : 1, sizeof *done);
    if (!kept || !done) {
        free(kept);
        free(done);
        free(vs);
        mc_app_abort_block(app);
        return MC_ERR_NOMEM;
    }
    uint32_t n = 0;
    size_t bytes = 0;
    /* Two passes: a transaction whose nonce is ahead gets a second chance
     * after the ones that arrived later but precede it. Signatures were
     * checked when the transactions were admitted. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < count && n < max_txs; i++) {
            if (done[i]) continue;
            if (bytes + txs[i].len + 4 > max_bytes) break;
            int err = mc_app_deliver(app, txs[i].bytes, txs[i].len, false);
            if (err == 0) {
                done[i] = true;
                kept[n++] = txs[i];
                bytes += txs[i].len + 4;
            } else if (!(err == MC_ERR_BAD_NONCE && strstr(mc_err_detail(), "ahead"))) {
                done[i] = true;
                if (rejected) rejected(ctx, i, err, mc_err_detail());
            }
        }
    }
    struct mc_header *h = &out->header;
    snprintf(h->chain_id, sizeof h->chain_id, "%s", g->chain_id);
    h->height = height;
    h->time_ms = time_ms;
    h->prev = head->hash;
    mc_block_tx_root(&h->tx_root, kept, n);
    h->tx_count = n;
    rc = mc_app_end_block(app, &h->state_hash, &h->log_size, &h->log_root);
    mc_app_abort_block(app); /* committed only once decided */
    if (rc) {
        free(kept);
        free(done);
        free(vs);
        return mc_err_set(rc, "the state root after block %llu: %s", (unsigned long long)height,
                          mc_err_detail());
    }
    mc_valset_hash(&vs->vs, &h->valset_hash);
    free(vs);
    h->proposer = *proposer;
    if (head->has_commit) mc_commit_hash(&head->commit, &h->last_commit_hash);
    mc_buf_init(&out->header_bytes, 0);
    mc_buf_init(&out->body_bytes, MC_BLOCK_BYTES_MAX);
    mc_header_encode(&out->header_bytes, h);
    mc_block_body_encode(&out->body_bytes, kept, n, head->has_commit ? &head->commit : NULL);
    rc = out->header_bytes.err ? out->header_bytes.err : out->body_bytes.err;
    if (!rc) mc_sha256(&out->hash, out->header_bytes.data, out->header_bytes.len);
    else mc_blockexec_candidate_deinit(out);
    free(kept);
    free(done);
    return rc;
}

static int structure(struct mc_app *app, const struct mc_genesis *g,
                     const struct mc_chain_head *head, const struct mc_candidate *c,
                     uint64_t now_ms, struct mc_block_body *body, struct mc_gov_valset *vs);

/* Structural checks of the rules in blockexec.h (everything but execution). */
static int check_structure(struct mc_app *app, const struct mc_genesis *g,
                           const struct mc_chain_head *head, const struct mc_candidate *c,
                           uint64_t now_ms, struct mc_block_body *body) {
    struct mc_gov_valset *vs = malloc(sizeof *vs);
    if (!vs) return MC_ERR_NOMEM;
    int rc = structure(app, g, head, c, now_ms, body, vs);
    free(vs);
    return rc;
}

static int structure(struct mc_app *app, const struct mc_genesis *g,
                     const struct mc_chain_head *head, const struct mc_candidate *c,
                     uint64_t now_ms, struct mc_block_body *body, struct mc_gov_valset *vs) {
    const struct mc_header *h = &c->header;
    if (strcmp(h->chain_id, g->chain_id) != 0)
        return mc_err_set(MC_ERR_WRONG_CHAIN, "block of chain '%s'", h->chain_id);
    if (h->height != head->height + 1)
        return mc_err_set(MC_ERR_INVALID, "block height %llu, expected %llu",
                          (unsigned long long)h->height, (unsigned long long)head->height + 1);
    if (memcmp(h->prev.b, head->hash.b, 32) != 0)
        return mc_err_set(MC_ERR_INVALID, "block does not extend the chain head");
    if (h->time_ms <= head->time_ms) return mc_err_set(MC_ERR_INVALID, "block time does not increase");
    if (now_ms && h->time_ms > now_ms + MC_BLOCK_TIME_AHEAD_MAX_MS)
        return mc_err_set(MC_ERR_INVALID, "block time is more than 60 s in the future");
    int rc = mc_app_valset_at(app, h->height, vs);
    if (rc) return rc;
    mc_hash vh;
    mc_valset_hash(&vs->vs, &vh);
    if (memcmp(vh.b, h->valset_hash.b, 32) != 0)
        return mc_err_set(MC_ERR_INVALID, "block names another validator set than the one of height %llu",
                          (unsigned long long)h->height);
    if (mc_valset_find(&vs->vs, &h->proposer) < 0)
        return mc_err_set(MC_ERR_INVALID, "block proposer is not a validator");
    uint64_t max_txs, max_bytes;
    if ((rc = mc_app_param(app, MC_GOV_PARAM_BLOCK_TXS, &max_txs)) ||
        (rc = mc_app_param(app, MC_GOV_PARAM_BLOCK_BYTES, &max_bytes)))
        return rc;
    rc = mc_block_body_decode(body, c->body_bytes.data, c->body_bytes.len);
    if (rc) return mc_err_set(rc, "block body does not decode");
    if (body->count != h->tx_count) {
        mc_block_body_deinit(body);
        return mc_err_set(MC_ERR_INVALID, "block body holds %u transactions, header says %u",
                          body->count, h->tx_count);
    }
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < body->count; i++) bytes += body->txs[i].len + 4;
    if (body->count > max_txs || bytes > max_bytes) {
        mc_block_body_deinit(body);
        return mc_err_set(MC_ERR_INVALID, "block holds %u transactions in %llu bytes; the ledger allows %llu in %llu",
                          body->count, (unsigned long long)bytes, (unsigned long long)max_txs,
                          (unsigned long long)max_bytes);
    }
    mc_hash root;
    mc_block_tx_root(&root, body->txs, body->count);
    if (memcmp(root.b, h->tx_root.b, 32) != 0) {
        mc_block_body_deinit(body);
        return mc_err_set(MC_ERR_INVALID, "transactions do not hash to the header's root");
    }
    if (h->height == 1) {
        static const uint8_t zero[32];
        if (body->has_last_commit || memcmp(h->last_commit_hash.b, zero, 32) != 0) {
            mc_block_body_deinit(body);
            return mc_err_set(MC_ERR_INVALID, "block 1 carries a previous certificate");
        }
        return 0;
    }
    mc_hash lh;
    if ((rc = mc_app_valset_at(app, head->height, vs))) {
        mc_block_body_deinit(body);
        return rc;
    }
    if (!body->has_last_commit) {
        mc_block_body_deinit(body);
        return mc_err_set(MC_ERR_INVALID, "block lacks the previous block's certificate");
    }
    mc_commit_hash(&body->last_commit, &lh);
    if (memcmp(lh.b, h->last_commit_hash.b, 32) != 0 ||
        mc_commit_verify(&body->last_commit, &vs->vs, g->chain_id, head->height, &head->hash)) {
        mc_block_body_deinit(body);
        return mc_err_set(MC_ERR_INVALID, "the previous block's certificate in the block is not valid");
    }
    return 0;
}

static int compare(const struct mc_header *want, const struct mc_header *got) {
    if (memcmp(want->state_hash.b, got->state_hash.b, 32) != 0)
        return mc_err_set(MC_ERR_INVALID, "executing the block gives another state hash");
    if (want->log_size != got->log_size || memcmp(want->log_root.b, got->log_root.b, 32) != 0)
        return mc_err_set(MC_ERR_INVALID, "executing the block gives another ledger log");
    return 0;
}

int mc_blockexec_validate(struct mc_app *app, const struct mc_genesis *g,
                      const struct mc_chain_head *head, const struct mc_candidate *c,
                      uint64_t now_ms, mc_verified_fn verified, void *ctx) {
    struct mc_block_body body;
    int rc = check_structure(app, g, head, c, now_ms, &body);
    if (rc) return rc;
    struct mc_header got = c->header;
    rc = execute(app, c->header.height, c->header.time_ms, body.txs, body.count, verified, ctx, &got);
    if (!rc) {
        rc = compare(&c->header, &got);
        mc_app_abort_block(app);
    }
    mc_block_body_deinit(&body);
    return rc;
}

/* A change of validators decided in this block: the proof of its row
 * ("g/vh/" || from) against this block's state root, kept in the store's
 * metadata, so light clients can follow the change from a header the old
 * set certified (chain/light.h, GET /v1/state/valsets). Metadata:
 *   valset_proofs      | u32 n |
 *   valset_proof/<i>   | u64 height | u64 from | bytes32 row | bytes32 proof |
 * Called inside the block's SQL transaction, after its state is written. */
static int record_valset_proof(struct mc_store *store, const struct mc_header *h) {
    struct mc_kv *kv = mc_store_kv(store);
    struct mc_buf row, b;
    mc_buf_init(&row, 0);
    mc_buf_init(&b, 0);
    int rc = mc_kv_get(kv, "g/vs", 4, &row);
    if (rc == MC_ERR_NOT_FOUND) {
        rc = 0;
        goto out;
    }
    if (rc || row.len < 8) {
        if (!rc) rc = mc_err_set(MC_ERR_TAMPERED, "the validator set row is too short");
        goto out;
    }
    uint64_t from = 0;
    for (int i = 0; i < 8; i++) from = from << 8 | row.data[i];
    uint32_t n = 0;
    rc = mc_store_meta_get(store, "valset_proofs", &b);
    if (!rc && b.len == 4) n = (uint32_t)b.data[0] << 24 | (uint32_t)b.data[1] << 16 | (uint32_t)b.data[2] << 8 | b.data[3];
    else if (rc && rc != MC_ERR_NOT_FOUND) goto out;
    rc = 0;
    char name[48];
    if (n > 0) {
        snprintf(name, sizeof name, "valset_proof/%u", n - 1);
        mc_buf_reset(&b);
        if ((rc = mc_store_meta_get(store, name, &b))) goto out;
        uint64_t last = 0;
        for (int i = 8; i < 16 && b.len >= 16; i++) last = last << 8 | b.data[i];
        if (from <= last) goto out; /* already recorded */
    }
    uint8_t key[MC_LIGHT_VALSET_KEY_BYTES];
    mc_light_valset_key(key, from);
    mc_buf_reset(&row);
    if ((rc = mc_kv_get(kv, key, sizeof key, &row))) goto out;
    struct mc_stateproof *p = malloc(sizeof *p);
    if (!p) {
        rc = MC_ERR_NOMEM;
        goto out;
    }
    mc_hash kh;
    mc_sha256(&kh, key, sizeof key);
    struct mc_smt_io io;
    mc_smt_io_kv(&io, kv);
    rc = mc_smt_prove(&io, &kh, p);
    if (!rc && mc_stateproof_verify(p, &h->state_hash, key, sizeof key, row.data, row.len))
        rc = mc_err_set(MC_ERR_TAMPERED, "the validator set row does not prove against block %llu",
                        (unsigned long long)h->height);
    mc_buf_reset(&b);
    mc_enc_u64(&b, h->height);
    mc_enc_u64(&b, from);
    mc_enc_bytes32(&b, row.data, row.len);
    struct mc_buf pb;
    mc_buf_init(&pb, 0);
    mc_stateproof_encode(&pb, p);
    mc_enc_bytes32(&b, pb.data, pb.len);
    mc_buf_deinit(&pb);
    free(p);
    if (!rc) rc = b.err;
    snprintf(name, sizeof name, "valset_proof/%u", n);
    if (!rc) rc = mc_store_meta_put(store, name, b.data, b.len);
    uint8_t cnt[4] = {(uint8_t)((n + 1) >> 24), (uint8_t)((n + 1) >> 16), (uint8_t)((n + 1) >> 8), (uint8_t)(n + 1)};
    if (!rc) rc = mc_store_meta_put(store, "valset_proofs", cnt, 4);
out:
    mc_buf_deinit(&row);
    mc_buf_deinit(&b);
    return rc;
}

int mc_blockexec_commit(struct mc_store *store, struct mc_app *app, const struct mc_genesis *g,
                    struct mc_chain_head *head, const struct mc_candidate *c,
                    const struct mc_commit *cert, mc_verified_fn verified, void *ctx) {
    struct mc_gov_valset *vs = malloc(sizeof *vs);
    if (!vs) return MC_ERR_NOMEM;
    int rc = mc_app_valset_at(app, c->header.height, vs);
    if (!rc && mc_commit_verify(cert, &vs->vs, g->chain_id, c->header.height, &c->hash))
        rc = mc_err_set(MC_ERR_INVALID, "certificate: %s", mc_err_detail());
    free(vs);
    if (rc) return rc;
    struct mc_block_body body;
    if ((rc = check_structure(app, g, head, c, 0, &body))) return rc;
    struct mc_header got = c->header;
    rc = execute(app, c->header.height, c->header.time_ms, body.txs, body.count, verified, ctx, &got);
    if (rc) goto out;
    if ((rc = compare(&c->header, &got))) {
        mc_app_abort_block(app);
        goto out;
    }
    if ((rc = mc_store_begin(store))) {
        mc_app_abort_block(app);
        goto out;
    }
    rc = mc_app_commit_block(app);
    if (!rc) rc = record_valset_proof(store, &c->header);
    if (!rc) rc = mc_store_put_block(store, &c->header, body.txs, body.count,
                                     body.has_last_commit ? &body.last_commit : NULL, cert,
                                     c->header.log_size - body.count);
    if (!rc) rc = mc_store_commit(store);
    else mc_store_rollback(store);
    if (rc) {
        rc = mc_err_set(MC_ERR_DB, "storing block %llu failed: %s",
                        (unsigned long long)c->header.height, mc_err_detail());
        goto out;
    }
    head->height = c->header.height;
    head->hash = c->hash;
    head->time_ms = c->header.time_ms;
    head->commit = *cert;
    head->has_commit = true;
out:
    mc_block_body_deinit(&body);
    return rc;
}

int mc_blockexec_load(struct mc_store *store, uint64_t height, struct mc_buf *header,
                  struct mc_buf *body, struct mc_buf *commit) {
    struct mc_buf lc;
    mc_buf_init(&lc, 0);
    int rc = mc_store_get_block_raw(store, height, NULL, header, &lc, commit);
    if (rc) {
        mc_buf_deinit(&lc);
        return rc;
    }
    struct mc_header h;
    if ((rc = mc_header_decode(&h, header->data, header->len))) {
        mc_buf_deinit(&lc);
        return mc_err_set(MC_ERR_TAMPERED, "stored header of block %llu does not decode", (unsigned long long)height);
    }
    struct mc_tx_ref *txs = calloc(h.tx_count ? h.tx_count : 1, sizeof *txs);
    struct mc_buf *bufs = calloc(h.tx_count ? h.tx_count : 1, sizeof *bufs);
    if (!txs || !bufs) rc = MC_ERR_NOMEM;
    for (uint32_t i = 0; !rc && i < h.tx_count; i++) {
        mc_buf_init(&bufs[i], 0);
        rc = mc_store_get_tx(store, height, i, &bufs[i], NULL, NULL);
        txs[i].bytes = bufs[i].data;
        txs[i].len = bufs[i].len;
    }
    struct mc_commit last;
    bool has_last = lc.len > 0;
    if (!rc && has_last && mc_commit_decode(&last, lc.data, lc.len))
        rc = mc_err_set(MC_ERR_TAMPERED, "stored certificate in block %llu does not decode", (unsigned long long)height);
    if (!rc) {
        mc_block_body_encode(body, txs, h.tx_count, has_last ? &last : NULL);
        rc = body->err;
    }
    for (uint32_t i = 0; bufs && i < h.tx_count; i++) mc_buf_deinit(&bufs[i]);
    free(bufs);
    free(txs);
    mc_buf_deinit(&lc);
    return rc;
}
