/* The proof routes of the /v1 JSON API: RFC 6962 inclusion proofs of a
 * transaction (in its block's Merkle tree and in the ledger-wide log) and
 * consistency proofs between two headers' logs. Every proof is checked
 * against the header before it is returned, so a tampered store is
 * answered 500 "tampered", never with a bad proof. */
#include "api/routes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/fhir.h"
#include "app/equivocation.h"
#include "app/identity.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "chain/tx.h"
#include "crypto/merkle.h"
#include "api/reply.h"

/* --- GET /v1/proof/{tx-id}[?height=H] --- */

struct leaf_array {
    const mc_hash *leaves;
    uint64_t count;
};

static int array_leaf(void *ctx, uint64_t index, mc_hash *out) {
    const struct leaf_array *a = ctx;
    if (index >= a->count) return MC_ERR_NOT_FOUND;
    *out = a->leaves[index];
    return 0;
}

/* Inclusion of transaction `index` in its block's tx tree. Returns the
 * "block" object or NULL with res filled. */
static json_t *block_inclusion(struct mc_store *store, struct mc__api_response *res,
                               uint64_t height, uint32_t index, const mc_hash *log_leaf) {
    struct mc_header h;
    mc_hash hash;
    if (mc__reply_load_header(store, res, height, &h, &hash)) return NULL;
    if (h.tx_count == 0 || h.tx_count > MC_BLOCK_TXS_MAX || index >= h.tx_count) {
        mc__api_fail(res, 0, MC_ERR_TAMPERED,
                     "block %llu counts %u transactions, which does not hold index %u",
                     (unsigned long long)height, h.tx_count, index);
        return NULL;
    }
    mc_hash *leaves = malloc(sizeof *leaves * h.tx_count);
    struct mc_buf txb;
    mc_buf_init(&txb, MC_TX_MAX);
    json_t *out = NULL;
    if (!leaves) {
        mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
        goto done;
    }
    /* The block's leaves are its range of the ledger log, which pruning
     * keeps: no transaction bytes are needed (they are checked against
     * these leaves by `medchain verify` while they are kept). */
    uint64_t log_start = h.log_size - h.tx_count;
    if (h.log_size < h.tx_count) {
        mc__api_fail(res, 0, MC_ERR_TAMPERED, "block %llu counts more transactions than its log",
                     (unsigned long long)height);
        goto done;
    }
    for (uint32_t i = 0; i < h.tx_count; i++) {
        int rc = mc_store_log_leaf(store, log_start + i, &leaves[i]);
        if (rc) {
            mc__reply_node_error(res, rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc,
                      "a log leaf of the block is missing from the store");
            goto done;
        }
    }
    if (memcmp(leaves[index].b, log_leaf->b, MC_HASH_BYTES) != 0) {
        mc__api_fail(res, 0, MC_ERR_TAMPERED,
                     "the ledger log's leaf does not match the transaction's bytes");
        goto done;
    }
    struct leaf_array la = {leaves, h.tx_count};
    mc_hash path[MC_MERKLE_PATH_MAX];
    size_t n = 0;
    int rc = mc_merkle_inclusion_proof(path, &n, index, h.tx_count, array_leaf, &la);
    if (!rc) rc = mc_merkle_verify_inclusion(&leaves[index], index, h.tx_count, path, n,
                                             &h.tx_root);
    if (rc) {
        mc__api_fail(res, 0, MC_ERR_TAMPERED,
                     "the transactions stored for block %llu do not match its tx_root",
                     (unsigned long long)height);
        goto done;
    }
    out = json_pack("{s:o, s:o, s:I, s:I, s:o, s:o}", "height", mc_api_json_u64(height), "hash",
                    mc_api_json_hash(&hash), "index", (json_int_t)index, "tx_count",
                    (json_int_t)h.tx_count, "tx_root", mc_api_json_hash(&h.tx_root), "audit_path",
                    mc_api_json_hash_array(path, n));
    if (!out) mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
done:
    free(leaves);
    mc_buf_deinit(&txb);
    return out;
}

json_t *mc__api_log_inclusion(struct mc_store *store, uint64_t log_index,
                              const struct mc_header *h, int *err) {
    mc_hash leaf, path[MC_MERKLE_PATH_MAX];
    size_t n = 0;
    if (log_index >= h->log_size) {
        *err = mc_err_set(MC_ERR_TAMPERED, "log index %llu is outside header %llu's log of %llu",
                          (unsigned long long)log_index, (unsigned long long)h->height,
                          (unsigned long long)h->log_size);
        return NULL;
    }
    /* O(log n) reads, in one read transaction: perfect subtrees come
     * whole from the store's cache (log_nodes). */
    int rc = mc_store_read_begin(store);
    if (!rc) {
        rc = mc_store_log_leaf(store, log_index, &leaf);
        if (!rc) rc = mc_merkle_inclusion_proof_nodes(path, &n, log_index, h->log_size,
                                                      mc_store_log_node, store);
        mc_store_read_end(store);
    }
    if (rc) {
        *err = rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc;
        return NULL;
    }
    /* Never hand out a proof that does not check: it would mean the store
     * no longer matches the header the node signed. */
    if (mc_merkle_verify_inclusion(&leaf, log_index, h->log_size, path, n, &h->log_root)) {
        *err = mc_err_set(MC_ERR_TAMPERED,
                          "the stored ledger log does not match header %llu's log_root",
                          (unsigned long long)h->height);
        return NULL;
    }
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "leaf_index", mc_api_json_u64(log_index),
                          "tree_size", mc_api_json_u64(h->log_size), "leaf_hash",
                          mc_api_json_hash(&leaf), "audit_path", mc_api_json_hash_array(path, n),
                          "root", mc_api_json_hash(&h->log_root));
    if (!o) *err = MC_ERR_NOMEM;
    return o;
}

static int q_proof(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    struct mc__api_response *res = q->res;
    uint64_t tx_height, log_index;
    uint32_t index;
    mc_err_clear();
    int rc = mc_store_find_tx(store, &q->hash, &tx_height, &index, &log_index);
    if (rc == MC_ERR_NOT_FOUND) {
        q->tx_not_found = true;
        return 0;
    }
    if (rc) {
        mc__reply_node_error(res, rc, "cannot look the transaction up");
        return 0;
    }
    uint64_t height = q->a;
    if (mc__reply_resolve_height(store, res, !q->a_set, &height)) return 0;
    if (tx_height > height) {
        mc__api_fail(res, 0, MC_ERR_INVALID,
                     "the transaction was committed at height %llu, after header %llu; ask for a "
                     "proof against a header at height %llu or later",
                     (unsigned long long)tx_height, (unsigned long long)height,
                     (unsigned long long)tx_height);
        return 0;
    }
    struct mc_header h;
    mc_hash hash;
    if (mc__reply_load_header(store, res, height, &h, &hash)) return 0;
    if (log_index >= h.log_size) {
        mc__api_fail(res, 0, MC_ERR_TAMPERED,
                     "the transaction's log index %llu is outside header %llu's log of %llu",
                     (unsigned long long)log_index, (unsigned long long)height,
                     (unsigned long long)h.log_size);
        return 0;
    }
    mc_hash leaf;
    int perr = 0;
    mc_err_clear();
    json_t *log_proof = mc__api_log_inclusion(store, log_index, &h, &perr);
    if (!log_proof) {
        mc__reply_node_error(res, perr, "cannot build the proof from the stored log");
        return 0;
    }
    if (mc_api_parse_hash(&leaf, json_string_value(json_object_get(log_proof, "leaf_hash")))) {
        json_decref(log_proof);
        mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
        return 0;
    }
    json_t *block = block_inclusion(store, res, tx_height, index, &leaf);
    if (!block) {
        json_decref(log_proof);
        return 0;
    }
    struct mc_buf txb;
    mc_buf_init(&txb, MC_TX_MAX);
    mc_hash id;
    uint64_t li;
    rc = mc_store_get_tx(store, tx_height, index, &txb, &id, &li);
    if (!rc && txb.err) rc = txb.err;
    bool pruned = false;
    if (rc == MC_ERR_NOT_FOUND) {
        uint64_t below = 0;
        pruned = mc_store_pruned_below(store, &below) == 0 && tx_height < below;
        if (pruned) rc = 0;
    }
    if (rc) {
        json_decref(log_proof);
        json_decref(block);
        mc_buf_deinit(&txb);
        mc__reply_node_error(res, rc, "cannot read the transaction");
        return 0;
    }
    mc__reply_ok(res, 200,
       json_pack("{s:o, s:O, s:O, s:O, s:O, s:O, s:{s:o, s:o, s:o, s:o}, s:o, s:o}",
                 "tx_id", mc_api_json_hash(&q->hash),
                 "leaf_index", json_object_get(log_proof, "leaf_index"),
                 "tree_size", json_object_get(log_proof, "tree_size"),
                 "leaf_hash", json_object_get(log_proof, "leaf_hash"),
                 "audit_path", json_object_get(log_proof, "audit_path"),
                 "root", json_object_get(log_proof, "root"),
                 "header",
                   "height", mc_api_json_u64(height),
                   "hash", mc_api_json_hash(&hash),
                   "log_size", mc_api_json_u64(h.log_size),
                   "log_root", mc_api_json_hash(&h.log_root),
                 "block", block,
                 "tx_hex", pruned ? json_null() : mc_api_json_hex(txb.data, txb.len)));
    json_decref(log_proof);
    mc_buf_deinit(&txb);
    return 0;
}

void mc__api_proof(struct mc_node *node, const char *param, const struct mc__api_request *req,
                    struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res, .param = param};
    if (mc_api_parse_hash(&q.hash, param)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "a transaction id is 64 hex digits");
        return;
    }
    int r = mc__reply_arg_u64(req, res, "height", &q.a);
    if (r < 0) return;
    q.a_set = r == 1;
    mc__reply_run(&q, q_proof);
    if (!q.tx_not_found) return;
    /* Outside the lock: say whether the node knows it at all. */
    struct mc_tx_status st;
    memset(&st, 0, sizeof st);
    int rc = mc_node_tx_status(node, &q.hash, &st, NULL);
    if (rc == 0 && st.state == MC_TX_PENDING)
        mc__api_fail(res, 0, MC_ERR_NOT_FOUND,
                     "transaction %s is pending and not yet in a block; retry once committed",
                     param);
    else if (rc == 0 && st.state == MC_TX_REJECTED)
        mc__api_fail(res, 0, MC_ERR_NOT_FOUND, "transaction %s was rejected and has no proof",
                     param);
    else
        mc__api_fail(res, 0, MC_ERR_NOT_FOUND, "no committed transaction %s", param);
}

/* --- GET /v1/consistency?first=H1&second=H2 --- */

static int q_consistency(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    struct mc__api_response *res = q->res;
    uint64_t h1 = q->a, h2 = q->b;
    if (mc__reply_resolve_height(store, res, false, &h1) || mc__reply_resolve_height(store, res, false, &h2))
        return 0;
    struct mc_header a, b;
    mc_hash ha, hb;
    if (mc__reply_load_header(store, res, h1, &a, &ha) || mc__reply_load_header(store, res, h2, &b, &hb)) return 0;
    if (a.log_size > b.log_size) {
        mc__api_fail(res, 0, MC_ERR_TAMPERED, "the ledger log shrank between heights %llu and %llu",
                     (unsigned long long)h1, (unsigned long long)h2);
        return 0;
    }
    mc_hash path[MC_MERKLE_PATH_MAX];
    size_t n = 0;
    /* Every tree extends the empty one: that proof is empty (RFC 9162
     * defines proofs for 0 < size1 only). */
    if (a.log_size > 0) {
        mc_err_clear();
        int rc = mc_store_read_begin(store);
        if (!rc) {
            rc = mc_merkle_consistency_proof_nodes(path, &n, a.log_size, b.log_size,
                                                   mc_store_log_node, store);
            mc_store_read_end(store);
        }
        if (rc) {
            mc__reply_node_error(res, rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc,
                      "cannot build the proof from the stored log");
            return 0;
        }
        if (mc_merkle_verify_consistency(a.log_size, b.log_size, &a.log_root, &b.log_root, path,
                                         n)) {
            mc__api_fail(res, 0, MC_ERR_TAMPERED,
                         "the stored ledger log does not match the log roots of headers %llu "
                         "and %llu",
                         (unsigned long long)h1, (unsigned long long)h2);
            return 0;
        }
    }
    mc__reply_ok(res, 200,
       json_pack("{s:{s:o, s:o, s:o, s:o}, s:{s:o, s:o, s:o, s:o}, s:o}",
                 "first", "height", mc_api_json_u64(h1), "hash", mc_api_json_hash(&ha),
                 "log_size", mc_api_json_u64(a.log_size), "log_root", mc_api_json_hash(&a.log_root),
                 "second", "height", mc_api_json_u64(h2), "hash", mc_api_json_hash(&hb),
                 "log_size", mc_api_json_u64(b.log_size), "log_root", mc_api_json_hash(&b.log_root),
                 "proof", mc_api_json_hash_array(path, n)));
    return 0;
}

void mc__api_consistency(struct mc_node *node, const char *param,
                          const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res};
    int r1 = mc__reply_arg_u64(req, res, "first", &q.a);
    if (r1 < 0) return;
    int r2 = mc__reply_arg_u64(req, res, "second", &q.b);
    if (r2 < 0) return;
    if (r1 == 0 || r2 == 0) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED,
                     "both query parameters 'first' and 'second' (block heights) are required");
        return;
    }
    if (q.a > q.b) {
        mc__api_fail(res, 0, MC_ERR_INVALID, "'first' (%llu) must not exceed 'second' (%llu)",
                     (unsigned long long)q.a, (unsigned long long)q.b);
        return;
    }
    mc__reply_run(&q, q_consistency);
}

