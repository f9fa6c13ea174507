/* The /v1 JSON API: route table and handlers.
 *
 * Every handler answers with a JSON object and a status; every failure is
 * {"error": "<mc_err_name>", "message": "<sentence>"} (see json_view.h for
 * the status of each error). Handlers only read, except POST /v1/tx which
 * hands the transaction to mc_node_submit; bad input never reaches the
 * node and changes nothing.
 *
 * Reads of the store and the application state run inside mc_node_query,
 * under the node lock; they are bounded (a block holds at most
 * MC_BLOCK_TXS_MAX transactions, /v1/blocks returns at most
 * BLOCKS_LIMIT_MAX headers). Handlers never call another mc_node_*
 * function from inside a query callback: the node lock is not recursive. */
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

#define BLOCKS_LIMIT_DEFAULT 20
#define BLOCKS_LIMIT_MAX 100
#define PATH_SEGMENTS_MAX 6

/* --- responses --- */

void mc__api_fail(struct mc__api_response *res, unsigned status, int err, const char *fmt, ...) {
    char detail[512];
    detail[0] = 0;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    json_decref(res->body);
    res->status = status ? status : mc_api_http_status(err);
    res->body = mc_api_json_error(err, detail);
}

/* An error returned by the node: its detail is this thread's message. */
static void fail_node(struct mc__api_response *res, int err, const char *what) {
    const char *detail = mc_err_detail();
    if (detail && detail[0]) mc__api_fail(res, 0, err, "%s", detail);
    else mc__api_fail(res, 0, err, "%s", what);
}

static void ok(struct mc__api_response *res, unsigned status, json_t *body) {
    json_decref(res->body);
    res->status = status;
    res->body = body;
}

/* Sets key on an object, dropping the whole object if that fails. */
static json_t *with(json_t *o, const char *key, json_t *v) {
    if (!o) {
        json_decref(v);
        return NULL;
    }
    if (json_object_set_new(o, key, v)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *arg(const struct mc__api_request *req, const char *name) {
    return req->arg ? req->arg(req->arg_ctx, name) : NULL;
}

/* Optional u64 query argument: 1 when present and valid, 0 when absent,
 * negative (with res filled) when present but not a number. */
static int arg_u64(const struct mc__api_request *req, struct mc__api_response *res,
                   const char *name, uint64_t *out) {
    const char *v = arg(req, name);
    if (!v) return 0;
    if (mc_api_parse_u64(out, v)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED,
                     "query parameter '%s' must be a non-negative decimal integer", name);
        return MC_ERR_MALFORMED;
    }
    return 1;
}

/* --- GET /v1/status --- */

static void h_status(struct mc_node *node, const char *param, const struct mc__api_request *req,
                     struct mc__api_response *res) {
    struct mc_node_status s;
    memset(&s, 0, sizeof s);
    mc_node_status(node, &s);
    s.chain_id[sizeof s.chain_id - 1] = 0;
    ok(res, 200,
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
                 "txs_committed", mc_api_json_u64(s.txs_committed)));
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

static void h_submit(struct mc_node *node, const char *param, const struct mc__api_request *req,
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
        ok(res, 202, json_pack("{s:o, s:s}", "id", mc_api_json_hash(&id), "status", "pending"));
    } else {
        fail_node(res, rc, "the node refused the transaction");
        /* The id lets a client look its transaction up (a resubmission
         * finds the original); bytes that are no transaction have none. */
        if (res->body && rc != MC_ERR_MALFORMED && rc != MC_ERR_TOO_LARGE)
            res->body = with(res->body, "id", mc_api_json_hash(&id));
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
static void h_submit_batch(struct mc_node *node, const char *param,
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
    ok(res, 200, json_pack("{s:I, s:I, s:o}", "accepted", (json_int_t)accepted, "refused",
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

static void h_tx(struct mc_node *node, const char *param, const struct mc__api_request *req,
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
        fail_node(res, rc, "cannot read the transaction's status");
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
        o = with(o, "height", mc_api_json_u64(st.height));
        o = with(o, "index", json_integer((json_int_t)st.index));
        o = with(o, "log_index", mc_api_json_u64(st.log_index));
    } else if (st.state == MC_TX_REJECTED) {
        o = with(o, "error", json_string(mc_err_name(st.err)));
        o = with(o, "reason", mc_api_json_text(st.reason[0] ? st.reason : mc_strerror(st.err)));
    }
    if (bytes.len) {
        json_t *view = mc_api_json_tx(bytes.data, bytes.len, NULL);
        o = with(o, "tx", view ? view : json_null());
        o = with(o, "tx_hex", mc_api_json_hex(bytes.data, bytes.len));
    } else {
        o = with(o, "tx", json_null());
    }
    ok(res, 200, o);
out:
    mc_buf_deinit(&bytes);
}

/* --- shared query helpers (run under the node lock) --- */

/* Block height from a path segment: a number or "latest". */
static int parse_height_param(const char *param, uint64_t *height, bool *latest) {
    *latest = strcmp(param, "latest") == 0;
    if (*latest) return 0;
    return mc_api_parse_u64(height, param);
}

/* Validator set to name the signers of a header's certificates: the
 * genesis set when the header says it signed (sets change only later, by
 * governance), else none. */
static const struct mc_valset *valset_for(const struct mc_genesis *g, const mc_hash *valset_hash) {
    if (!g) return NULL;
    mc_hash h;
    mc_valset_hash(&g->valset, &h);
    return memcmp(h.b, valset_hash->b, sizeof h.b) == 0 ? &g->valset : NULL;
}

/* Loads a stored header, answering 404 for a height not stored and 500
 * for anything else. Returns 0 or the error (res filled). */
static int load_header(struct mc_store *store, struct mc__api_response *res, uint64_t height,
                       struct mc_header *h, mc_hash *hash) {
    mc_err_clear();
    int rc = mc_store_get_header(store, height, h, hash);
    if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(res, 0, rc, "no block at height %llu", (unsigned long long)height);
    } else if (rc) {
        fail_node(res, rc == MC_ERR_MALFORMED ? MC_ERR_TAMPERED : rc,
                  "the stored header does not decode");
    } else if (h->height != height) {
        rc = MC_ERR_TAMPERED;
        mc__api_fail(res, 0, rc, "the header stored at height %llu says height %llu",
                     (unsigned long long)height, (unsigned long long)h->height);
    }
    return rc;
}

/* Resolves a requested height (explicit or latest) against the store;
 * answers 404 beyond the latest block or at 0 (genesis holds no block). */
static int resolve_height(struct mc_store *store, struct mc__api_response *res, bool latest,
                          uint64_t *height) {
    uint64_t top;
    int rc = mc_store_height(store, &top);
    if (rc) {
        fail_node(res, rc, "cannot read the chain height");
        return rc;
    }
    if (latest) {
        if (top == 0) {
            mc__api_fail(res, 0, MC_ERR_NOT_FOUND, "no block has been committed yet");
            return MC_ERR_NOT_FOUND;
        }
        *height = top;
        return 0;
    }
    if (*height == 0) {
        mc__api_fail(res, 0, MC_ERR_NOT_FOUND,
                     "blocks start at height 1; height 0 is the genesis (see /v1/orgs and "
                     "/v1/validators)");
        return MC_ERR_NOT_FOUND;
    }
    if (*height > top) {
        mc__api_fail(res, 0, MC_ERR_NOT_FOUND, "no block at height %llu; the latest is %llu",
                     (unsigned long long)*height, (unsigned long long)top);
        return MC_ERR_NOT_FOUND;
    }
    return 0;
}

struct query {
    struct mc_node *node;
    const struct mc__api_request *req;
    struct mc__api_response *res;
    const char *param;
    uint64_t a, b;       /* heights or ids, per handler */
    bool a_set, b_set;
    mc_hash hash;
    mc_pubkey key;
    bool tx_not_found;   /* proof: the id is not committed */
};

/* Runs fn under the node lock; answers 500/503 if the node could not run it. */
static void run_query(struct query *q, int (*fn)(void *, struct mc_store *, struct mc_app *)) {
    mc_err_clear();
    int rc = mc_node_query(q->node, fn, q);
    if (rc && !q->res->body) fail_node(q->res, rc, "the node could not run the query");
    if (!rc && !q->res->body && q->res->status == 0)
        mc__api_fail(q->res, 500, MC_ERR_STATE, "the query produced no answer");
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
    struct query *q = ctx;
    struct mc__api_response *res = q->res;
    uint64_t height = q->a;
    if (resolve_height(store, res, !q->a_set, &height)) return 0;

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
        mc__api_fail(res, 0, rc, "no block at height %llu", (unsigned long long)height);
        goto out;
    }
    if (!rc) rc = hb.err ? hb.err : lcb.err ? lcb.err : cb.err;
    if (rc) {
        fail_node(res, rc, "cannot read the block");
        goto out;
    }
    if (mc_header_decode(&h, hb.data, hb.len) || h.height != height) {
        mc__api_fail(res, 0, MC_ERR_TAMPERED, "the stored header of block %llu does not decode",
                     (unsigned long long)height);
        goto out;
    }
    const struct mc_valset *vs = valset_for(mc_node_genesis(q->node), &h.valset_hash);
    int err = 0;
    json_t *commit = commit_view(cb.data, cb.len, vs, &err);
    json_t *last = commit_view(lcb.data, lcb.len, vs, &err);
    if (err) {
        json_decref(commit);
        json_decref(last);
        mc__api_fail(res, 0, err, err == MC_ERR_TAMPERED
                                      ? "a stored certificate of block %llu does not decode"
                                      : "out of memory viewing block %llu",
                     (unsigned long long)height);
        goto out;
    }
    txs = json_array();
    for (uint32_t i = 0; txs && i < h.tx_count; i++) {
        mc_hash id;
        uint64_t log_index;
        mc_buf_reset(&txb);
        rc = mc_store_get_tx(store, height, i, &txb, &id, &log_index);
        if (rc) {
            json_decref(commit);
            json_decref(last);
            fail_node(res, rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc,
                      "a transaction the header counts is missing from the store");
            goto out;
        }
        if (json_array_append_new(txs, mc_api_json_hash(&id))) {
            json_decref(txs);
            txs = NULL;
        }
    }
    o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                  "height", mc_api_json_u64(height),
                  "hash", mc_api_json_hash(&hash),
                  "header", mc_api_json_header(&h),
                  "header_hex", mc_api_json_hex(hb.data, hb.len),
                  "txs", txs,
                  "commit", commit,
                  "last_commit", last);
    txs = NULL; /* stolen by json_pack, even on failure */
    ok(res, 200, o);
out:
    json_decref(txs);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&lcb);
    mc_buf_deinit(&cb);
    mc_buf_deinit(&txb);
    return 0;
}

static void h_block(struct mc_node *node, const char *param, const struct mc__api_request *req,
                    struct mc__api_response *res) {
    struct query q = {.node = node, .req = req, .res = res, .param = param};
    bool latest;
    if (parse_height_param(param, &q.a, &latest)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED,
                     "a block height is a non-negative decimal integer or \"latest\"");
        return;
    }
    q.a_set = !latest;
    run_query(&q, q_block);
}

/* --- GET /v1/blocks?from=H&limit=N --- */

static int q_blocks(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct query *q = ctx;
    uint64_t top;
    int rc = mc_store_height(store, &top);
    if (rc) {
        fail_node(q->res, rc, "cannot read the chain height");
        return 0;
    }
    uint64_t limit = q->b;
    json_t *list = json_array();
    /* From a height: ascending from it. Without: newest first. */
    uint64_t h = q->a_set ? q->a : top;
    for (uint64_t n = 0; list && n < limit && h >= 1 && h <= top; n++) {
        struct mc_header hdr;
        mc_hash hash;
        if (load_header(store, q->res, h, &hdr, &hash)) {
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
    ok(q->res, 200,
       json_pack("{s:o, s:s, s:o}", "latest", mc_api_json_u64(top), "order",
                 q->a_set ? "ascending" : "descending", "blocks", list));
    return 0;
}

static void h_blocks(struct mc_node *node, const char *param, const struct mc__api_request *req,
                     struct mc__api_response *res) {
    struct query q = {.node = node, .req = req, .res = res};
    int r = arg_u64(req, res, "from", &q.a);
    if (r < 0) return;
    q.a_set = r == 1;
    if (q.a_set && q.a == 0) {
        mc__api_fail(res, 0, MC_ERR_INVALID, "'from' must be at least 1 (blocks start at height 1)");
        return;
    }
    q.b = BLOCKS_LIMIT_DEFAULT;
    if ((r = arg_u64(req, res, "limit", &q.b)) < 0) return;
    if (q.b < 1 || q.b > BLOCKS_LIMIT_MAX) {
        mc__api_fail(res, 0, MC_ERR_INVALID, "'limit' must be between 1 and %d", BLOCKS_LIMIT_MAX);
        return;
    }
    run_query(&q, q_blocks);
}

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
    if (load_header(store, res, height, &h, &hash)) return NULL;
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
    for (uint32_t i = 0; i < h.tx_count; i++) {
        mc_hash id;
        uint64_t li;
        mc_buf_reset(&txb);
        int rc = mc_store_get_tx(store, height, i, &txb, &id, &li);
        if (!rc && txb.err) rc = txb.err;
        if (rc) {
            fail_node(res, rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc,
                      "a transaction of the block is missing from the store");
            goto done;
        }
        mc_merkle_leaf_hash(&leaves[i], txb.data, txb.len);
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
    struct query *q = ctx;
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
        fail_node(res, rc, "cannot look the transaction up");
        return 0;
    }
    uint64_t height = q->a;
    if (resolve_height(store, res, !q->a_set, &height)) return 0;
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
    if (load_header(store, res, height, &h, &hash)) return 0;
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
        fail_node(res, perr, "cannot build the proof from the stored log");
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
    if (rc) {
        json_decref(log_proof);
        json_decref(block);
        mc_buf_deinit(&txb);
        fail_node(res, rc, "cannot read the transaction");
        return 0;
    }
    ok(res, 200,
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
                 "tx_hex", mc_api_json_hex(txb.data, txb.len)));
    json_decref(log_proof);
    mc_buf_deinit(&txb);
    return 0;
}

static void h_proof(struct mc_node *node, const char *param, const struct mc__api_request *req,
                    struct mc__api_response *res) {
    struct query q = {.node = node, .req = req, .res = res, .param = param};
    if (mc_api_parse_hash(&q.hash, param)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "a transaction id is 64 hex digits");
        return;
    }
    int r = arg_u64(req, res, "height", &q.a);
    if (r < 0) return;
    q.a_set = r == 1;
    run_query(&q, q_proof);
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
    struct query *q = ctx;
    struct mc__api_response *res = q->res;
    uint64_t h1 = q->a, h2 = q->b;
    if (resolve_height(store, res, false, &h1) || resolve_height(store, res, false, &h2))
        return 0;
    struct mc_header a, b;
    mc_hash ha, hb;
    if (load_header(store, res, h1, &a, &ha) || load_header(store, res, h2, &b, &hb)) return 0;
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
            fail_node(res, rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc,
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
    ok(res, 200,
       json_pack("{s:{s:o, s:o, s:o, s:o}, s:{s:o, s:o, s:o, s:o}, s:o}",
                 "first", "height", mc_api_json_u64(h1), "hash", mc_api_json_hash(&ha),
                 "log_size", mc_api_json_u64(a.log_size), "log_root", mc_api_json_hash(&a.log_root),
                 "second", "height", mc_api_json_u64(h2), "hash", mc_api_json_hash(&hb),
                 "log_size", mc_api_json_u64(b.log_size), "log_root", mc_api_json_hash(&b.log_root),
                 "proof", mc_api_json_hash_array(path, n)));
    return 0;
}

static void h_consistency(struct mc_node *node, const char *param,
                          const struct mc__api_request *req, struct mc__api_response *res) {
    struct query q = {.node = node, .req = req, .res = res};
    int r1 = arg_u64(req, res, "first", &q.a);
    if (r1 < 0) return;
    int r2 = arg_u64(req, res, "second", &q.b);
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
    run_query(&q, q_consistency);
}

/* --- GET /v1/account/{pubkey} --- */

static int q_account(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct query *q = ctx;
    struct mc_state *st = mc_app_state(app);
    struct mc_account a;
    mc_err_clear();
    int rc = mc_identity_get_account(st, &q->key, &a);
    if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(q->res, 0, rc, "no account with key %s", q->param);
        return 0;
    }
    if (rc) {
        fail_node(q->res, rc, "cannot read the account");
        return 0;
    }
    a.name[sizeof a.name - 1] = 0;
    struct mc_org org;
    bool have_org = a.org != 0 && mc_identity_get_org(st, a.org, &org) == 0;
    if (have_org) org.name[sizeof org.name - 1] = 0;
    ok(q->res, 200, mc_api_json_account(&a, have_org ? &org : NULL));
    return 0;
}

static void h_account(struct mc_node *node, const char *param, const struct mc__api_request *req,
                      struct mc__api_response *res) {
    struct query q = {.node = node, .req = req, .res = res, .param = param};
    if (mc_api_parse_pubkey(&q.key, param)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "an account key is 64 hex digits");
        return;
    }
    run_query(&q, q_account);
}

/* --- GET /v1/orgs, GET /v1/org/{id} --- */

/* Number of validators the organisation runs, per genesis. */
static json_t *org_view(const struct mc_genesis *g, const struct mc_org *o) {
    json_t *j = mc_api_json_org(o);
    json_int_t validators = 0;
    for (uint32_t i = 0; g && i < g->valset.count && i < MC_VALIDATORS_MAX; i++)
        if (g->validator_org[i] == o->id) validators++;
    return with(j, "validators", json_integer(validators));
}

static int q_orgs(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct query *q = ctx;
    const struct mc_genesis *g = mc_node_genesis(q->node);
    struct mc_state *st = mc_app_state(app);
    json_t *list = json_array();
    uint32_t count = g ? g->org_count : 0;
    if (count > MC_GENESIS_ORGS_MAX) count = MC_GENESIS_ORGS_MAX;
    for (uint32_t i = 0; list && i < count; i++) {
        /* The state holds the current record (a new admin key after
         * governance); genesis is the fallback. */
        struct mc_org o;
        if (mc_identity_get_org(st, g->orgs[i].id, &o)) o = g->orgs[i];
        if (json_array_append_new(list, org_view(g, &o))) {
            json_decref(list);
            list = NULL;
        }
    }
    ok(q->res, 200, json_pack("{s:o}", "organisations", list));
    return 0;
}

static void h_orgs(struct mc_node *node, const char *param, const struct mc__api_request *req,
                   struct mc__api_response *res) {
    struct query q = {.node = node, .req = req, .res = res};
    run_query(&q, q_orgs);
}

static int q_org(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct query *q = ctx;
    struct mc_org o;
    mc_err_clear();
    int rc = mc_identity_get_org(mc_app_state(app), (uint32_t)q->a, &o);
    if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(q->res, 0, rc, "no organisation with id %llu", (unsigned long long)q->a);
        return 0;
    }
    if (rc) {
        fail_node(q->res, rc, "cannot read the organisation");
        return 0;
    }
    ok(q->res, 200, org_view(mc_node_genesis(q->node), &o));
    return 0;
}

static void h_org(struct mc_node *node, const char *param, const struct mc__api_request *req,
                  struct mc__api_response *res) {
    struct query q = {.node = node, .req = req, .res = res, .param = param};
    if (mc_api_parse_u64(&q.a, param) || q.a > UINT32_MAX) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "an organisation id is a decimal integer below 2^32");
        return;
    }
    run_query(&q, q_org);
}

/* --- GET /v1/validators --- */

static void h_validators(struct mc_node *node, const char *param,
                         const struct mc__api_request *req, struct mc__api_response *res) {
    const struct mc_genesis *g = mc_node_genesis(node);
    if (!g) {
        mc__api_fail(res, 0, MC_ERR_STATE, "the node has no genesis loaded");
        return;
    }
    json_t *list = json_array();
    uint32_t count = g->valset.count <= MC_VALIDATORS_MAX ? g->valset.count : MC_VALIDATORS_MAX;
    for (uint32_t i = 0; list && i < count; i++) {
        const struct mc_validator *v = &g->valset.v[i];
        const char *org_name = NULL;
        for (uint32_t k = 0; k < g->org_count && k < MC_GENESIS_ORGS_MAX; k++)
            if (g->orgs[k].id == g->validator_org[i]) org_name = g->orgs[k].name;
        json_t *item = json_pack("{s:I, s:o, s:o, s:o, s:I, s:o}", "index", (json_int_t)i, "name",
                                 mc_api_json_text(v->name), "node_key", mc_api_json_pubkey(&v->pk),
                                 "power", mc_api_json_u64(v->power), "org",
                                 (json_int_t)g->validator_org[i], "org_name",
                                 mc_api_json_text(org_name));
        if (json_array_append_new(list, item)) {
            json_decref(list);
            list = NULL;
        }
    }
    mc_hash vh;
    mc_valset_hash(&g->valset, &vh);
    ok(res, 200,
       json_pack("{s:o, s:o, s:o}", "valset_hash", mc_api_json_hash(&vh), "total_power",
                 mc_api_json_u64(g->valset.total_power), "validators", list));
}

/* --- GET /metrics (Prometheus text format 0.0.4) --- */

static void h_metrics(struct mc_node *node, const char *param, const struct mc__api_request *req,
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

static void h_evidence(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res) {
    json_t *list = json_array();
    int rc = mc_node_query(node, q_evidence, list);
    if (rc) {
        json_decref(list);
        mc__api_fail(res, 0, rc, "cannot list evidence");
        return;
    }
    ok(res, 200, json_pack("{s:o}", "evidence", list));
}

/* --- route table --- */

static void h_index(struct mc_node *node, const char *param, const struct mc__api_request *req,
                    struct mc__api_response *res);

#define P "*" /* a path parameter */
#define REST "**" /* the rest of the path (one or more segments) as the parameter */

static const struct route {
    const char *method;
    const char *seg[PATH_SEGMENTS_MAX];
    mc__api_handler handler;
    size_t body_max;
    const char *doc_path;
    const char *doc;
} routes[] = {
    {"GET", {NULL}, h_index, 0, "/", "this index"},
    {"GET", {"v1", "status"}, h_status, 0, "/v1/status", "node status"},
    {"POST", {"v1", "tx"}, h_submit, MC_HTTP_TX_BODY_MAX, "/v1/tx",
     "submit a transaction: raw bytes (application/octet-stream) or {\"tx\": \"<hex>\"}"},
    {"POST", {"v1", "txs"}, h_submit_batch, MC_HTTP_BODY_MAX, "/v1/txs",
     "submit a batch of transactions (octet-stream: u32 count, u32-length-prefixed txs)"},
    {"GET", {"v1", "tx", P}, h_tx, 0, "/v1/tx/{id}", "transaction and its status"},
    {"GET", {"v1", "block", P}, h_block, 0, "/v1/block/{height|latest}",
     "block header, transaction ids and certificates"},
    {"GET", {"v1", "blocks"}, h_blocks, 0, "/v1/blocks?from=H&limit=N",
     "block summaries (newest first without from)"},
    {"GET", {"v1", "proof", P}, h_proof, 0, "/v1/proof/{id}?height=H",
     "RFC 6962 inclusion proof of a transaction against a header"},
    {"GET", {"v1", "consistency"}, h_consistency, 0, "/v1/consistency?first=H1&second=H2",
     "RFC 6962 consistency proof between two headers' logs"},
    {"GET", {"v1", "account", P}, h_account, 0, "/v1/account/{key}", "account by public key"},
    {"GET", {"v1", "orgs"}, h_orgs, 0, "/v1/orgs", "organisations"},
    {"GET", {"v1", "org", P}, h_org, 0, "/v1/org/{id}", "organisation by id"},
    {"GET", {"v1", "validators"}, h_validators, 0, "/v1/validators", "validator set"},
    {"GET", {"v1", "evidence"}, h_evidence, 0, "/v1/evidence", "equivocations recorded on the ledger"},
    {"GET", {"metrics"}, h_metrics, 0, "/metrics", "Prometheus metrics"},
    {"GET", {"v1", "verify"}, mc__api_chain_verify, 0, "/v1/verify",
     "full-chain verification of this node's files (medchain verify), at most every 30 s"},
    /* Records (docs/RECORDS.md); private routes need RFC 9421 signatures. */
    {"GET", {"v1", "records"}, mc__api_records_list, 0, "/v1/records?patient=KEY",
     "the patient's records with sealed batch keys (signed: patient or auditor)"},
    {"GET", {"v1", "records", P, "sealed"}, mc__api_records_sealed, 0, "/v1/records/{id}/sealed?version=N",
     "a record version's ciphertext and its key sealed to the signer, to decrypt client-side (signed; logged)"},
    {"GET", {"v1", "breakglass"}, mc__api_records_break_glass, 0, "/v1/breakglass",
     "break-glass accesses to review (signed: auditor)"},
    {"GET", {"fhir", "metadata"}, mc__api_fhir_metadata, 0, "/fhir/metadata",
     "FHIR R4 CapabilityStatement"},
    {"POST", {"fhir"}, mc__api_fhir_root, MC_HTTP_BODY_MAX, "/fhir",
     "FHIR transaction Bundle: every entry becomes a record, atomically (signed)"},
    {"GET", {"fhir", REST}, mc__api_fhir_get, 0, "/fhir/{type}[/{id}[/_history/{vid}]]",
     "FHIR read, vread, search (signed)"},
    {"POST", {"fhir", REST}, mc__api_fhir_post, MC_FHIR_RESOURCE_MAX, "/fhir/{type}",
     "FHIR create (signed)"},
    {"PUT", {"fhir", REST}, mc__api_fhir_put, MC_FHIR_RESOURCE_MAX, "/fhir/{type}/{id}",
     "FHIR update: a new version of the record (signed)"},
    {"GET", {"01", P}, mc__api_supply_resolve, 0, "/01/{gtin}/10/{lot}/21/{serial}?17=YYMMDD",
     "GS1 Digital Link: public verification of a medicine pack (JSON, or HTML for Accept: text/html)"},
    {"GET", {"v1", "supply", "alerts"}, mc__api_supply_alerts, 0, "/v1/supply/alerts?org=ID",
     "clone and counterfeit alerts concerning an organisation (all for a regulator)"},
    {"POST", {"v1", "vrs"}, mc__api_supply_vrs, MC_HTTP_VRS_BODY_MAX, "/v1/vrs",
     "GS1 Lightweight Messaging verification request of an enrolled trading partner (signed)"},
    /* Research consent and trials (docs/RESEARCH.md). */
    {"GET", {"v1", "research", "study", P}, mc__api_research_study, 0, "/v1/research/study/{id}",
     "a registered study (ResearchStudy), its outcomes, phase and dataset query log"},
    {"GET", {"v1", "research", "dataset", P}, mc__api_research_dataset, 0, "/v1/research/dataset/{id}",
     "de-identified dataset of consenting patients (signed: a researcher of the study)"},
    {"GET", {"v1", "research", "consents"}, mc__api_research_consents, 0, "/v1/research/consents?patient=KEY",
     "a patient's research consent history as FHIR Consent (signed: patient or auditor)"},
    {"GET", {"v1", "research", "verify", P}, mc__api_research_verify, 0, "/v1/research/verify/{id}",
     "trial verification: outcome switching, dataset changes, enrolment without consent"},
};

#define ROUTE_COUNT (sizeof routes / sizeof routes[0])

static void h_index(struct mc_node *node, const char *param, const struct mc__api_request *req,
                    struct mc__api_response *res) {
    json_t *list = json_array();
    for (size_t i = 0; list && i < ROUTE_COUNT; i++) {
        json_t *item = json_pack("{s:s, s:s, s:s}", "method", routes[i].method, "path",
                                 routes[i].doc_path, "description", routes[i].doc);
        if (json_array_append_new(list, item)) {
            json_decref(list);
            list = NULL;
        }
    }
    ok(res, 200, json_pack("{s:s, s:s, s:o}", "service", "medchain", "api", "v1", "routes", list));
}

static size_t seg_count(const struct route *r) {
    size_t n = 0;
    while (n < PATH_SEGMENTS_MAX && r->seg[n]) n++;
    return n;
}

int mc__api_lookup(struct mc__api_match *m, struct mc__api_response *res, const char *method,
                   const char *path) {
    memset(m, 0, sizeof *m);
    if (!path || path[0] != '/') {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "the path must begin with '/'");
        return MC_ERR_NOT_FOUND;
    }
    size_t path_len = strnlen(path, MC__API_PATH_MAX + 1);
    if (path_len > MC__API_PATH_MAX) {
        mc__api_fail(res, 414, MC_ERR_TOO_LARGE, "the path exceeds %d characters",
                     MC__API_PATH_MAX);
        return MC_ERR_TOO_LARGE;
    }
    /* A GS1 Digital Link (/01/{gtin}/...) has more segments than any
     * route; its resolver parses the whole path itself. */
    if (strncmp(path, "/01/", 4) == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            res->allow = "GET, HEAD";
            mc__api_fail(res, 405, MC_ERR_INVALID, "method %.16s is not allowed here; use GET",
                         method);
            return MC_ERR_INVALID;
        }
        m->handler = mc__api_supply_resolve;
        return 0;
    }
    /* Split into segments; one trailing '/' is tolerated. */
    const char *seg[PATH_SEGMENTS_MAX];
    size_t seg_len[PATH_SEGMENTS_MAX];
    size_t n = 0;
    const char *p = path + 1;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || n == PATH_SEGMENTS_MAX) goto not_found;
        if (len > MC_API_SEGMENT_MAX) {
            mc__api_fail(res, 414, MC_ERR_TOO_LARGE, "a path segment exceeds %d characters",
                         MC_API_SEGMENT_MAX);
            return MC_ERR_TOO_LARGE;
        }
        seg[n] = p;
        seg_len[n] = len;
        n++;
        if (!slash) break;
        p = slash + 1;
    }
    const char *allow = NULL;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const struct route *r = &routes[i];
        const char *param = NULL;
        size_t param_len = 0;
        bool match = true;
        size_t rn = seg_count(r);
        bool rest = rn > 0 && strcmp(r->seg[rn - 1], REST) == 0;
        if (rest ? n < rn : rn != n) continue;
        for (size_t k = 0; k < rn && match; k++) {
            if (strcmp(r->seg[k], REST) == 0) {
                param = seg[k];
                param_len = strlen(seg[k]);
                if (param_len > MC_API_SEGMENT_MAX) match = false;
            } else if (strcmp(r->seg[k], P) == 0) {
                param = seg[k];
                param_len = seg_len[k];
            } else {
                match = strlen(r->seg[k]) == seg_len[k] &&
                        memcmp(r->seg[k], seg[k], seg_len[k]) == 0;
            }
        }
        if (!match) continue;
        bool is_get = strcmp(r->method, "GET") == 0;
        if (strcmp(method, r->method) != 0 && !(is_get && strcmp(method, "HEAD") == 0)) {
            /* Each path has one route, so its method is the Allow value. */
            allow = is_get ? "GET, HEAD" : r->method;
            continue;
        }
        m->handler = r->handler;
        m->body_max = r->body_max;
        if (param) {
            memcpy(m->param, param, param_len);
            m->param[param_len] = 0;
        }
        return 0;
    }
    if (allow) {
        res->allow = allow;
        mc__api_fail(res, 405, MC_ERR_INVALID, "method %.16s is not allowed here; use %s", method,
                     allow);
        return MC_ERR_INVALID;
    }
not_found:
    mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "no route for this path; GET / lists the routes");
    return MC_ERR_NOT_FOUND;
}
