/* The chain routes of the /v1 JSON API: node status, transaction
 * submission (POST /v1/tx, /v1/txs, handed to mc_node_submit; bad input
 * never reaches the node), a transaction and its state, blocks and their
 * certificates, recorded equivocations and the Prometheus metrics.
 *
 * Reads are bounded (a block holds at most MC_BLOCK_TXS_MAX transactions,
 * /v1/blocks returns at most MC_API_BLOCKS_LIMIT_MAX headers). */
#include "api/routes.h"

#include "base/limits.h"

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
#include "blob/blob.h"

#define BLOCKS_LIMIT_DEFAULT 20

/* --- GET /v1/status --- */

void mc__api_status(struct mc_node *node, const char *param, const struct mc__api_request *req,
                     struct mc__api_response *res) {
    struct mc_node_status s;
    memset(&s, 0, sizeof s);
    mc_node_status(node, &s);
    s.chain_id[sizeof s.chain_id - 1] = 0;
    /* the blob store: which backend, and whether it answers (an
     * unreachable object store makes record reads answer 503) */
    struct mc_blob_status bst;
    mc_blob_status(mc_node_blobs(node), &bst);
    json_t *blobs = json_pack("{s:s, s:b, s:o, s:o, s:o}", "backend", bst.backend, "available",
                              (int)bst.available, "errors", mc_api_json_u64(bst.errors),
                              "erasures_pending", mc_api_json_u64(bst.purges_pending),
                              "last_error", mc_api_json_text(bst.last_error));
    json_t *st =
       json_pack("{s:o, s:o, s:o, s:o, s:I, s:b, s:o, s:I, s:o, s:o, s:o}",
                 "chain_id", mc_api_json_text(s.chain_id),
                 "height", mc_api_json_u64(s.height),
                 "latest_block_hash", mc_api_json_hash(&s.latest_hash),
                 "latest_block_time_ms", mc_api_json_u64(s.latest_time_ms),
                 "peers", (json_int_t)s.peers,
                 "is_validator", (int)s.is_validator,
                 "node_key", mc_api_json_pubkey(&s.node_key),
                 "mempool_size", (json_int_t)s.mempool_size,
                 "log_size", mc_api_json_u64(s.log_size),
                 "log_root", mc_api_json_hash(&s.log_root),
                 "txs_committed", mc_api_json_u64(s.txs_committed));
    /* a state-synced node holds no block below this height (docs/STATE.md) */
    if (st) json_object_set_new(st, "state_synced_from",
                                s.state_synced_from ? mc_api_json_u64(s.state_synced_from) : json_null());
    mc__reply_ok(res, 200, mc__reply_with(mc__reply_with(st, "blob_store", blobs), "audit_export",
                                          mc__feeds_status_json(node)));
}

/* --- POST /v1/tx --- */

/* Media type of a Content-Type header, parameters ignored, case-insensitive. */
static bool media_is(const char *content_type, const char *type) {
    if (!content_type) return false;
    while (*content_type == ' ' || *content_type == '\t') content_type++;
    size_t n = strlen(type);
    if (strncasecmp(content_type, type, n) != 0) return false;
    char c = content_type[n];
    return c == 0 || c == ';' || c == ' ' || c == '\t';
}

void mc__api_submit(struct mc_node *node, const char *param, const struct mc__api_request *req,
                     struct mc__api_response *res) {
    const uint8_t *bytes = NULL;
    size_t len = 0;
    uint8_t *decoded = NULL;
    json_t *doc = NULL;

    if (media_is(req->content_type, "application/json")) {
        json_error_t jerr;
        doc = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc) {
            mc__api_fail(res, 0, MC_ERR_MALFORMED, "the body is not valid JSON (%s at line %d)",
                         jerr.text, jerr.line);
            return;
        }
        json_t *tx = json_object_get(doc, "tx");
        if (!json_is_object(doc) || !json_is_string(tx)) {
            mc__api_fail(res, 0, MC_ERR_MALFORMED,
                         "the JSON body must be an object {\"tx\": \"<hex of the transaction>\"}");
            goto out;
        }
        size_t hex_len = json_string_length(tx);
        if (hex_len > 2 * (size_t)MC_TX_MAX) {
            mc__api_fail(res, 0, MC_ERR_TOO_LARGE, "the transaction exceeds %d bytes", MC_TX_MAX);
            goto out;
        }
        if (hex_len == 0 || hex_len % 2 || strlen(json_string_value(tx)) != hex_len) {
            mc__api_fail(res, 0, MC_ERR_MALFORMED, "\"tx\" must be a non-empty even-length hex string");
            goto out;
        }
        decoded = malloc(hex_len / 2);
        if (!decoded) {
            mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
            goto out;
        }
        if (mc_hex_decode(decoded, hex_len / 2, json_string_value(tx))) {
            mc__api_fail(res, 0, MC_ERR_MALFORMED, "\"tx\" contains a character that is not hex");
            goto out;
        }
        bytes = decoded;
        len = hex_len / 2;
    } else if (media_is(req->content_type, "application/octet-stream")) {
        bytes = req->body;
        len = req->body_len;
    } else {
        mc__api_fail(res, 415, MC_ERR_INVALID,
                     "send the transaction as application/octet-stream (raw bytes) or as "
                     "application/json {\"tx\": \"<hex>\"}");
        return;
    }
    if (!bytes || len == 0) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "the body holds no transaction");
        goto out;
    }
    if (len > MC_TX_MAX) {
        mc__api_fail(res, 0, MC_ERR_TOO_LARGE, "the transaction has %zu bytes, the limit is %d",
                     len, MC_TX_MAX);
        goto out;
    }

    mc_hash id;
    mc_tx_id(&id, bytes, len);
    mc_err_clear();
    mc_hash node_id;
    int rc = mc_node_submit(node, bytes, len, &node_id);
    if (rc == 0) {
        mc__reply_ok(res, 202, json_pack("{s:o, s:s}", "id", mc_api_json_hash(&id), "status", "pending"));
    } else {
        mc__reply_node_error(res, rc, "the node refused the transaction");
        /* The id lets a client look its transaction up (a resubmission
         * finds the original); bytes that are no transaction have none. */
        if (res->body && rc != MC_ERR_MALFORMED && rc != MC_ERR_TOO_LARGE)
            res->body = mc__reply_with(res->body, "id", mc_api_json_hash(&id));
    }
out:
    free(decoded);
    json_decref(doc);
}

/* --- POST /v1/txs ---
 *
 * A batch for clients that submit many transactions: the body
 * (application/octet-stream) is | u32 count | count x (u32 len | tx) |,
 * at most MC_HTTP_BATCH_TXS_MAX transactions. Each transaction is admitted
 * or refused on its own (a batch is not atomic); the answer lists, in
 * order, each one's id and status or error. A body that does not decode as
 * a batch is refused whole and nothing is submitted. */
void mc__api_submit_batch(struct mc_node *node, const char *param,
                           const struct mc__api_request *req, struct mc__api_response *res) {
    if (!media_is(req->content_type, "application/octet-stream")) {
        mc__api_fail(res, 415, MC_ERR_INVALID, "send the batch as application/octet-stream: "
                     "u32 count, then each transaction as u32 length and bytes");
        return;
    }
    struct mc_dec d;
    mc_dec_init(&d, req->body, req->body_len);
    uint32_t count = mc_dec_u32(&d);
    if (d.err || count == 0 || count > MC_HTTP_BATCH_TXS_MAX) {
        mc__api_fail(res, 0, d.err ? MC_ERR_MALFORMED : MC_ERR_TOO_LARGE,
                     "a batch holds 1 to %d transactions", MC_HTTP_BATCH_TXS_MAX);
        return;
    }
    struct mc_tx_ref *txs = calloc(count, sizeof *txs);
    if (!txs) {
        mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
        return;
    }
    for (uint32_t i = 0; i < count && !d.err; i++)
        txs[i].bytes = mc_dec_bytes32(&d, &txs[i].len, MC_TX_MAX);
    if (mc_dec_finish(&d)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "the batch does not decode (truncated, an "
                     "oversized transaction, or trailing bytes)");
        free(txs);
        return;
    }
    json_t *results = json_array();
    uint32_t accepted = 0;
    for (uint32_t i = 0; i < count; i++) {
        mc_hash id;
        mc_tx_id(&id, txs[i].bytes, txs[i].len);
        mc_err_clear();
        int rc = mc_node_submit(node, txs[i].bytes, txs[i].len, NULL);
        json_t *r;
        if (rc == 0) {
            accepted++;
            r = json_pack("{s:o, s:s}", "id", mc_api_json_hash(&id), "status", "pending");
        } else {
            const char *detail = mc_err_detail();
            r = json_pack("{s:o, s:s, s:s, s:s}", "id", mc_api_json_hash(&id), "status",
                          "refused", "error", mc_err_name(rc), "message",
                          detail && detail[0] ? detail : mc_strerror(rc));
        }
        json_array_append_new(results, r);
    }
    free(txs);
    mc__reply_ok(res, 200, json_pack("{s:I, s:I, s:o}", "accepted", (json_int_t)accepted, "refused",
                           (json_int_t)(count - accepted), "results", results));
}

/* --- GET /v1/tx/{id} --- */

static const char *tx_state_name(enum mc_tx_state s) {
    switch (s) {
    case MC_TX_PENDING: return "pending";
    case MC_TX_COMMITTED: return "committed";
    case MC_TX_REJECTED: return "rejected";
    default: return "unknown";
    }
}

void mc__api_tx(struct mc_node *node, const char *param, const struct mc__api_request *req,
                 struct mc__api_response *res) {
    mc_hash id;
    if (mc_api_parse_hash(&id, param)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "a transaction id is 64 hex digits");
        return;
    }
    struct mc_tx_status st;
    memset(&st, 0, sizeof st);
    struct mc_buf bytes;
    mc_buf_init(&bytes, MC_TX_MAX);
    mc_err_clear();
    int rc = mc_node_tx_status(node, &id, &st, &bytes);
    if (rc == MC_ERR_NOT_FOUND || (rc == 0 && st.state == MC_TX_UNKNOWN)) {
        mc__api_fail(res, 0, MC_ERR_NOT_FOUND, "no transaction %s is known to this node", param);
        goto out;
    }
    if (rc) {
        mc__reply_node_error(res, rc, "cannot read the transaction's status");
        goto out;
    }
    if (bytes.err) {
        mc__api_fail(res, 0, bytes.err, "cannot hold the transaction's bytes");
        goto out;
    }
    st.reason[sizeof st.reason - 1] = 0;
    json_t *o = json_pack("{s:o, s:s}", "id", mc_api_json_hash(&id), "status",
                          tx_state_name(st.state));
    if (st.state == MC_TX_COMMITTED) {
        o = mc__reply_with(o, "height", mc_api_json_u64(st.height));
        o = mc__reply_with(o, "index", json_integer((json_int_t)st.index));
        o = mc__reply_with(o, "log_index", mc_api_json_u64(st.log_index));
    } else if (st.state == MC_TX_REJECTED) {
        o = mc__reply_with(o, "error", json_string(mc_err_name(st.err)));
        o = mc__reply_with(o, "reason", mc_api_json_text(st.reason[0] ? st.reason : mc_strerror(st.err)));
    }
    if (bytes.len) {
        json_t *view = mc_api_json_tx(bytes.data, bytes.len, NULL);
        o = mc__reply_with(o, "tx", view ? view : json_null());
        o = mc__reply_with(o, "tx_hex", mc_api_json_hex(bytes.data, bytes.len));
    } else {
        o = mc__reply_with(o, "tx", json_null());
        if (st.state == MC_TX_COMMITTED) o = mc__reply_with(o, "pruned", json_true());
    }
    mc__reply_ok(res, 200, o);
out:
    mc_buf_deinit(&bytes);
}

/* --- GET /v1/block/{height|latest} --- */


static json_t *commit_view(const uint8_t *p, size_t len, const struct mc_valset *vs, int *err) {
    if (len == 0) return json_null();
    struct mc_commit *c = malloc(sizeof *c);
    if (!c) {
        *err = MC_ERR_NOMEM;
        return NULL;
    }
    int rc = mc_commit_decode(c, p, len);
    json_t *j = NULL;
    if (rc) *err = MC_ERR_TAMPERED;
    else if (!(j = mc_api_json_commit(c, vs))) *err = MC_ERR_NOMEM;
    free(c);
    return j;
}

static int q_block(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    struct mc__api_response *res = q->res;
    uint64_t height = q->a;
    if (mc__reply_resolve_height(store, res, !q->a_set, &height)) return 0;

    struct mc_buf hb, lcb, cb, txb;
    mc_buf_init(&hb, MC_BLOCK_BYTES_MAX);
    mc_buf_init(&lcb, MC_BLOCK_BYTES_MAX);
    mc_buf_init(&cb, MC_BLOCK_BYTES_MAX);
    mc_buf_init(&txb, MC_TX_MAX);
    json_t *o = NULL, *txs = NULL;
    mc_hash hash;
    struct mc_header h;
    mc_err_clear();
    int rc = mc_store_get_block_raw(store, height, &hash, &hb, &lcb, &cb);
    if (rc == MC_ERR_NOT_FOUND) {
        uint64_t synced = mc__reply_state_synced_from(store);
        if (height < synced)
            mc__api_fail(res, 0, rc, "this node state-synced at height %llu and holds no block below it",
                         (unsigned long long)synced);
        else
            mc__api_fail(res, 0, rc, "no block at height %llu", (unsigned long long)height);
        goto out;
    }
    if (!rc) rc = hb.err ? hb.err : lcb.err ? lcb.err : cb.err;
    if (rc) {
        mc__reply_node_error(res, rc, "cannot read the block");
        goto out;
    }
    if (mc_header_decode(&h, hb.data, hb.len) || h.height != height) {
        mc__api_fail(res, 0, MC_ERR_TAMPERED, "the stored header of block %llu does not decode",
                     (unsigned long long)height);
        goto out;
    }
    struct mc_gov_valset *vs = mc__reply_valset_at(app, height);
    struct mc_gov_valset *vs_last = height > 1 ? mc__reply_valset_at(app, height - 1) : NULL;
    int err = 0;
    json_t *commit = commit_view(cb.data, cb.len, vs ? &vs->vs : NULL, &err);
    json_t *last = commit_view(lcb.data, lcb.len, vs_last ? &vs_last->vs : NULL, &err);
    free(vs);
    free(vs_last);
    if (err) {
        json_decref(commit);
        json_decref(last);
        mc__api_fail(res, 0, err, err == MC_ERR_TAMPERED
                                      ? "a stored certificate of block %llu does not decode"
                                      : "out of memory viewing block %llu",
                     (unsigned long long)height);
        goto out;
    }
    if (h.tx_count && height == mc__reply_state_synced_from(store)) {
        json_decref(commit);
        json_decref(last);
        mc__api_fail(res, 0, MC_ERR_NOT_FOUND, "this node state-synced at height %llu: it holds that "
                     "block's header and certificate, not its transactions", (unsigned long long)height);
        goto out;
    }
    txs = json_array();
    for (uint32_t i = 0; txs && i < h.tx_count; i++) {
        mc_hash id;
        uint64_t log_index;
        mc_buf_reset(&txb);
        rc = mc_store_get_tx(store, height, i, NULL, &id, &log_index);
        if (rc) {
            json_decref(commit);
            json_decref(last);
            mc__reply_node_error(res, rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc,
                      "a transaction the header counts is missing from the store");
            goto out;
        }
        if (json_array_append_new(txs, mc_api_json_hash(&id))) {
            json_decref(txs);
            txs = NULL;
        }
    }
    o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                  "height", mc_api_json_u64(height),
                  "hash", mc_api_json_hash(&hash),
                  "header", mc_api_json_header(&h),
                  "header_hex", mc_api_json_hex(hb.data, hb.len),
                  "txs", txs,
                  "commit", commit,
                  "commit_hex", cb.len ? mc_api_json_hex(cb.data, cb.len) : json_null(),
                  "last_commit", last);
    txs = NULL; /* stolen by json_pack, even on failure */
    mc__reply_ok(res, 200, o);
out:
    json_decref(txs);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&lcb);
    mc_buf_deinit(&cb);
    mc_buf_deinit(&txb);
    return 0;
}

/* A block by its hash: the height it is stored at. */
static int q_block_hash(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    int rc = mc_store_find_block(store, &q->hash, &q->a);
    if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(q->res, 0, rc, "no block with hash %s on this node", q->param);
        return 0;
    }
    if (rc) {
        mc__reply_node_error(q->res, rc, "cannot look the block up");
        return 0;
    }
    q->a_set = true;
    return q_block(ctx, store, app);
}

void mc__api_block(struct mc_node *node, const char *param, const struct mc__api_request *req,
                    struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res, .param = param};
    if (param && strlen(param) == 64) {
        if (mc_api_parse_hash(&q.hash, param)) {
            mc__api_fail(res, 0, MC_ERR_MALFORMED, "a block hash is 64 hex digits");
            return;
        }
        mc__reply_run(&q, q_block_hash);
        return;
    }
    bool latest;
    if (mc__reply_height_param(param, &q.a, &latest)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED,
                     "a block height is a non-negative decimal integer or \"latest\"");
        return;
    }
    q.a_set = !latest;
    mc__reply_run(&q, q_block);
}

/* --- GET /v1/blocks?from=H&limit=N --- */

static int q_blocks(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    uint64_t top;
    int rc = mc_store_height(store, &top);
    if (rc) {
        mc__reply_node_error(q->res, rc, "cannot read the chain height");
        return 0;
    }
    uint64_t limit = q->b;
    json_t *list = json_array();
    /* From a height: ascending from it. Without: newest first. */
    uint64_t h = q->a_set ? q->a : top;
    for (uint64_t n = 0; list && n < limit && h >= 1 && h <= top; n++) {
        struct mc_header hdr;
        mc_hash hash;
        if (mc__reply_load_header(store, q->res, h, &hdr, &hash)) {
            json_decref(list);
            return 0;
        }
        json_t *item = json_pack("{s:o, s:o, s:o, s:I, s:o}", "height", mc_api_json_u64(h), "hash",
                                 mc_api_json_hash(&hash), "time_ms", mc_api_json_u64(hdr.time_ms),
                                 "tx_count", (json_int_t)hdr.tx_count, "log_size",
                                 mc_api_json_u64(hdr.log_size));
        if (json_array_append_new(list, item)) {
            json_decref(list);
            list = NULL;
        }
        h = q->a_set ? h + 1 : h - 1;
    }
    mc__reply_ok(q->res, 200,
       json_pack("{s:o, s:s, s:o}", "latest", mc_api_json_u64(top), "order",
                 q->a_set ? "ascending" : "descending", "blocks", list));
    return 0;
}

void mc__api_blocks(struct mc_node *node, const char *param, const struct mc__api_request *req,
                     struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res};
    int r = mc__reply_arg_u64(req, res, "from", &q.a);
    if (r < 0) return;
    q.a_set = r == 1;
    if (q.a_set && q.a == 0) {
        mc__api_fail(res, 0, MC_ERR_INVALID, "'from' must be at least 1 (blocks start at height 1)");
        return;
    }
    q.b = BLOCKS_LIMIT_DEFAULT;
    if ((r = mc__reply_arg_u64(req, res, "limit", &q.b)) < 0) return;
    if (q.b < 1 || q.b > MC_API_BLOCKS_LIMIT_MAX) {
        mc__api_fail(res, 0, MC_ERR_INVALID, "'limit' must be between 1 and %d", MC_API_BLOCKS_LIMIT_MAX);
        return;
    }
    mc__reply_run(&q, q_blocks);
}


/* --- GET /metrics (Prometheus text format 0.0.4) --- */

void mc__api_metrics(struct mc_node *node, const char *param, const struct mc__api_request *req,
                      struct mc__api_response *res) {
    struct mc_node_metrics m;
    mc_node_metrics(node, &m);
    static const uint64_t bounds[] = MC_NODE_LATENCY_BOUNDS;
    struct mc_buf b;
    mc_buf_init(&b, 65536);
    mc_buf_printf(&b, "# HELP medchain_height Height of the latest committed block.\n"
                      "# TYPE medchain_height gauge\nmedchain_height %llu\n",
                  (unsigned long long)m.height);
    mc_buf_printf(&b, "# HELP medchain_round Consensus round of the height in progress.\n"
                      "# TYPE medchain_round gauge\nmedchain_round %u\n", m.round);
    mc_buf_printf(&b, "# HELP medchain_peers Connected, authenticated peers.\n"
                      "# TYPE medchain_peers gauge\nmedchain_peers %u\n", m.peers);
    mc_buf_printf(&b, "# HELP medchain_mempool_size Transactions waiting in the mempool.\n"
                      "# TYPE medchain_mempool_size gauge\nmedchain_mempool_size %u\n",
                  m.mempool_size);
    mc_buf_printf(&b, "# HELP medchain_transactions_committed_total Transactions in the ledger log.\n"
                      "# TYPE medchain_transactions_committed_total counter\n"
                      "medchain_transactions_committed_total %llu\n",
                  (unsigned long long)m.txs_committed);
    mc_buf_printf(&b, "# HELP medchain_signature_verifications_total Ed25519 verifications by this process.\n"
                      "# TYPE medchain_signature_verifications_total counter\n"
                      "medchain_signature_verifications_total %llu\n",
                  (unsigned long long)m.signature_verifications);
    mc_buf_printf(&b, "# HELP medchain_node_key_age_days Days since the node key file was created (-1: the file does not say).\n"
                      "# TYPE medchain_node_key_age_days gauge\nmedchain_node_key_age_days %lld\n"
                      "# HELP medchain_node_key_too_old 1 when the node key is older than key_max_age_days: rotate it.\n"
                      "# TYPE medchain_node_key_too_old gauge\nmedchain_node_key_too_old %d\n",
                  (long long)m.node_key_age_days, m.node_key_age_days > (int64_t)m.key_max_age_days);
    mc_buf_printf(&b, "# HELP medchain_consensus_timeout_ms Base timeout of a consensus step now (the engine's default or the ledger parameter).\n"
                      "# TYPE medchain_consensus_timeout_ms gauge\n"
                      "medchain_consensus_timeout_ms{step=\"propose\"} %u\n"
                      "medchain_consensus_timeout_ms{step=\"prevote\"} %u\n"
                      "medchain_consensus_timeout_ms{step=\"precommit\"} %u\n",
                  m.timeout_ms[0], m.timeout_ms[1], m.timeout_ms[2]);
    mc_buf_printf(&b, "# HELP medchain_store_recoveries_total Times this node process reopened its home after a store fault (a full disk, an I/O error).\n"
                      "# TYPE medchain_store_recoveries_total counter\nmedchain_store_recoveries_total %u\n",
                  m.store_recoveries);
    mc_buf_printf(&b, "# HELP medchain_evidence_total Equivocations this node has seen.\n"
                      "# TYPE medchain_evidence_total counter\nmedchain_evidence_total %llu\n",
                  (unsigned long long)m.evidence_seen);
    mc_buf_printf(&b, "# HELP medchain_commit_latency_seconds Time from a block's proposal to its commit here.\n"
                      "# TYPE medchain_commit_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        cum += m.latency_buckets[i];
        mc_buf_printf(&b, "medchain_commit_latency_seconds_bucket{le=\"%llu.%03llu\"} %llu\n",
                      (unsigned long long)(bounds[i] / 1000), (unsigned long long)(bounds[i] % 1000),
                      (unsigned long long)cum);
    }
    cum += m.latency_buckets[sizeof bounds / sizeof bounds[0]];
    mc_buf_printf(&b, "medchain_commit_latency_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    mc_buf_printf(&b, "medchain_commit_latency_seconds_sum %llu.%03llu\n",
                  (unsigned long long)(m.latency_sum_ms / 1000), (unsigned long long)(m.latency_sum_ms % 1000));
    mc_buf_printf(&b, "medchain_commit_latency_seconds_count %llu\n", (unsigned long long)m.latency_count);
    struct mc_blob_status bs;
    mc_blob_status(mc_node_blobs(node), &bs);
    mc_buf_printf(&b, "# HELP medchain_blob_store_up Whether the blob store answered its last request.\n"
                      "# TYPE medchain_blob_store_up gauge\nmedchain_blob_store_up{backend=\"%s\"} %d\n"
                      "# HELP medchain_blob_store_errors_total Failed requests to the blob store.\n"
                      "# TYPE medchain_blob_store_errors_total counter\nmedchain_blob_store_errors_total %llu\n"
                      "# HELP medchain_blob_store_requests_total Object reads and writes sent to a remote store.\n"
                      "# TYPE medchain_blob_store_requests_total counter\nmedchain_blob_store_requests_total %llu\n"
                      "# HELP medchain_blob_store_request_seconds_total Time those requests took.\n"
                      "# TYPE medchain_blob_store_request_seconds_total counter\n"
                      "medchain_blob_store_request_seconds_total %llu.%03llu\n"
                      "# HELP medchain_blob_store_erasures_pending Erasures whose object deletes are outstanding.\n"
                      "# TYPE medchain_blob_store_erasures_pending gauge\nmedchain_blob_store_erasures_pending %llu\n",
                  bs.backend, bs.available ? 1 : 0, (unsigned long long)bs.errors, (unsigned long long)bs.requests,
                  (unsigned long long)(bs.request_ms / 1000), (unsigned long long)(bs.request_ms % 1000),
                  (unsigned long long)bs.purges_pending);
    mc__feeds_metrics(node, &b);
    if (b.err) {
        mc_buf_deinit(&b);
        mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
        return;
    }
    size_t len;
    res->raw = (char *)mc_buf_take(&b, &len);
    res->raw_len = len;
    res->raw_type = "text/plain; version=0.0.4; charset=utf-8";
    res->status = 200;
}

/* --- GET /v1/evidence: equivocations recorded on the ledger --- */

static int evidence_row(void *ctx, const struct mc_equivocation_record *r) {
    json_t *list = ctx;
    json_array_append_new(list, json_pack("{s:I, s:o, s:o, s:I, s:s, s:o, s:o}", "validator",
                                          (json_int_t)r->validator, "validator_key",
                                          mc_api_json_pubkey(&r->validator_key), "height",
                                          mc_api_json_u64(r->height), "round", (json_int_t)r->round,
                                          "vote_type", r->type == MC_VOTE_PREVOTE ? "prevote" : "precommit",
                                          "reported_by", mc_api_json_pubkey(&r->reporter),
                                          "recorded_at_height", mc_api_json_u64(r->recorded_height)));
    return 0;
}

static int q_evidence(void *ctx, struct mc_store *store, struct mc_app *app) {
    return mc_equivocation_list(mc_app_state(app), evidence_row, ctx);
}

void mc__api_evidence(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res) {
    json_t *list = json_array();
    int rc = mc_node_query(node, q_evidence, list);
    if (rc) {
        json_decref(list);
        mc__api_fail(res, 0, rc, "cannot list evidence");
        return;
    }
    mc__reply_ok(res, 200, json_pack("{s:o}", "evidence", list));
}

