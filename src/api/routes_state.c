/* Proofs of current state (GET /v1/state/...): a state row, or the absence
 * of a key, proven against the latest header's state root
 * (chain/stateproof.h), with that header's bytes and its commit certificate,
 * so a client holding only the genesis (the validator set) checks the answer
 * itself (`medchain light`, the web pages).
 *
 * Everything is read under the node lock in one read transaction, so the
 * rows, the state tree and the header are those of one height; and every
 * proof is checked against the header before it is served: a store whose
 * tree no longer matches what the validators signed answers 500 "tampered".
 *
 * The rows served are derived from transactions that GET /v1/tx already
 * serves to anyone, so these routes expose nothing new. A proof covers the
 * rows it names: a list of rows under a prefix (a patient's grants) is
 * proven row by row, not as complete (the tree is keyed by key hashes, so it
 * has no order to prove a range with); a client that wants one row's absence
 * asks for that key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/reply.h"
#include "api/routes.h"
#include "base/hex.h"
#include "chain/light.h"
#include "chain/smt.h"
#include "chain/stateproof.h"
#include "chain/store.h"

int mc__state_anchor_load(struct mc_store *store, struct mc__state_anchor *a) {
    memset(a, 0, sizeof *a);
    int rc = mc_store_height(store, &a->height);
    if (rc) return rc;
    if (a->height == 0)
        return mc_err_set(MC_ERR_NOT_FOUND, "no block is committed yet: state is proven against a header");
    rc = mc_store_get_header(store, a->height, &a->h, &a->hash);
    if (rc) return rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc;
    return 0;
}

json_t *mc__state_anchor_view(struct mc_store *store, struct mc_app *app,
                              const struct mc__state_anchor *a, int *err) {
    struct mc_buf hb, cb;
    mc_buf_init(&hb, MC_BLOCK_BYTES_MAX);
    mc_buf_init(&cb, MC_BLOCK_BYTES_MAX);
    json_t *o = NULL;
    struct mc_gov_valset *vs = NULL;
    mc_hash hash;
    int rc = mc_store_get_block_raw(store, a->height, &hash, &hb, NULL, &cb);
    if (!rc) rc = hb.err ? hb.err : cb.err;
    if (rc == MC_ERR_NOT_FOUND || (!rc && cb.len == 0)) rc = MC_ERR_TAMPERED;
    struct mc_commit *c = rc ? NULL : malloc(sizeof *c);
    if (!rc && !c) rc = MC_ERR_NOMEM;
    if (!rc && mc_commit_decode(c, cb.data, cb.len)) rc = MC_ERR_TAMPERED;
    if (rc) {
        *err = rc;
        goto out;
    }
    /* The certificate's signers are named from the ledger's set of its own
     * height (a governance change takes effect at a later height). */
    vs = mc__reply_valset_at(app, a->height);
    o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "height", mc_api_json_u64(a->height),
                  "hash", mc_api_json_hash(&a->hash), "state_root", mc_api_json_hash(&a->h.state_hash),
                  "header", mc_api_json_header(&a->h), "header_hex", mc_api_json_hex(hb.data, hb.len),
                  "commit", mc_api_json_commit(c, vs ? &vs->vs : NULL), "commit_hex", mc_api_json_hex(cb.data, cb.len));
    if (!o) *err = MC_ERR_NOMEM;
out:
    free(vs);
    free(c);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    return o;
}

static json_t *proof_view(const struct mc_stateproof *p) {
    json_t *sib = json_array();
    for (unsigned i = 0; sib && i < p->depth; i++)
        if (json_array_append_new(sib, mc_api_json_hash(&p->sib[i]))) {
            json_decref(sib);
            sib = NULL;
        }
    if (!sib) return NULL;
    json_t *leaf = p->leaf ? json_pack("{s:o, s:o}", "key_hash", mc_api_json_hash(&p->leaf_key),
                                       "value_hash", mc_api_json_hash(&p->leaf_value))
                           : json_null();
    return json_pack("{s:I, s:o, s:o}", "depth", (json_int_t)p->depth, "siblings", sib, "leaf", leaf);
}

json_t *mc__state_proof(struct mc_store *store, const struct mc__state_anchor *a, const void *key,
                        size_t klen, int *err) {
    struct mc_buf val, pb;
    mc_buf_init(&val, 0);
    mc_buf_init(&pb, 0);
    json_t *o = NULL;
    struct mc_stateproof *p = malloc(sizeof *p);
    if (!p) {
        *err = MC_ERR_NOMEM;
        goto out;
    }
    struct mc_kv *kv = mc_store_kv(store);
    int rc = mc_kv_get(kv, key, klen, &val);
    bool present = rc == 0;
    if (rc == MC_ERR_NOT_FOUND) rc = 0;
    if (!rc && val.err) rc = val.err;
    mc_hash kh;
    mc_sha256(&kh, key, klen);
    struct mc_smt_io io;
    mc_smt_io_kv(&io, kv);
    if (!rc) rc = mc_smt_prove(&io, &kh, p);
    if (rc) {
        *err = rc;
        goto out;
    }
    /* Never serve a proof that does not check against the signed header. */
    if (mc_stateproof_verify(p, &a->h.state_hash, key, klen, present ? val.data : NULL, val.len)) {
        *err = mc_err_set(MC_ERR_TAMPERED,
                          "the stored state does not match header %llu's state root: %s",
                          (unsigned long long)a->height, mc_err_detail());
        goto out;
    }
    mc_stateproof_encode(&pb, p);
    if (pb.err) {
        *err = pb.err;
        goto out;
    }
    o = json_pack("{s:o, s:b, s:o, s:o, s:o}", "key_hex", mc_api_json_hex(key, klen), "present",
                  present, "value_hex", present ? mc_api_json_hex(val.data, val.len) : json_null(),
                  "proof_hex", mc_api_json_hex(pb.data, pb.len), "proof", proof_view(p));
    if (!o) *err = MC_ERR_NOMEM;
out:
    free(p);
    mc_buf_deinit(&val);
    mc_buf_deinit(&pb);
    return o;
}

/* ---- GET /v1/state/{key hex}, /v1/state/account/{key},
 *      /v1/state/patient/{key} ---- */

enum { Q_RAW, Q_ACCOUNT, Q_PATIENT };

struct sq {
    struct mc_node *node;
    struct mc__api_response *res;
    int kind;
    uint8_t key[MC_STATE_KEY_MAX];
    size_t klen;
    mc_pubkey pk;
};

struct collect {
    struct mc_store *store;
    const struct mc__state_anchor *a;
    json_t *list;
    int err;
    unsigned n;
};

static int add_row(void *ctx, const uint8_t *key, size_t klen, const uint8_t *v, size_t vlen) {
    struct collect *c = ctx;
    if (c->n >= MC_API_STATE_ROWS_MAX) return 1;
    json_t *p = mc__state_proof(c->store, c->a, key, klen, &c->err);
    if (!p) return c->err ? c->err : MC_ERR_NOMEM;
    if (json_array_append_new(c->list, p)) return c->err = MC_ERR_NOMEM;
    c->n++;
    return 0;
}

static int add_prefix(struct collect *c, const char *name, const uint8_t *prefix, size_t plen,
                      json_t *o) {
    c->list = json_array();
    c->n = 0;
    if (!c->list) return MC_ERR_NOMEM;
    int rc = mc_kv_scan(mc_store_kv(c->store), prefix, plen, add_row, c);
    if (rc) {
        json_decref(c->list);
        return rc;
    }
    json_object_set_new(o, name, c->list);
    if (c->n >= MC_API_STATE_ROWS_MAX) json_object_set_new(o, "truncated", json_true());
    return 0;
}

static int q_state(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct sq *q = ctx;
    struct mc__api_response *res = q->res;
    mc_err_clear();
    int rc = mc_store_read_begin(store);
    if (rc) {
        mc__reply_node_error(res, rc, "cannot read the store");
        return 0;
    }
    struct mc__state_anchor a;
    json_t *o = NULL;
    rc = mc__state_anchor_load(store, &a);
    if (rc) {
        mc__reply_node_error(res, rc, "cannot load the latest header");
        goto out;
    }
    int err = 0;
    json_t *anchor = mc__state_anchor_view(store, app, &a, &err);
    if (!anchor) {
        mc__reply_node_error(res, err, "cannot load the latest header and its certificate");
        goto out;
    }
    o = json_pack("{s:o}", "anchor", anchor);
    if (q->kind == Q_RAW) {
        json_t *p = mc__state_proof(store, &a, q->key, q->klen, &err);
        if (!p) {
            mc__reply_node_error(res, err, "cannot prove the row");
            goto out;
        }
        json_object_set_new(o, "row", p);
    } else {
        uint8_t k[2 + 32];
        memcpy(k, "a/", 2);
        memcpy(k + 2, q->pk.b, 32);
        json_t *p = mc__state_proof(store, &a, k, sizeof k, &err);
        if (!p) {
            mc__reply_node_error(res, err, "cannot prove the account row");
            goto out;
        }
        json_object_set_new(o, "account", p);
        if (q->kind == Q_PATIENT) {
            struct collect c = {.store = store, .a = &a};
            uint8_t pre[3 + 32];
            memcpy(pre, "rg/", 3);
            memcpy(pre + 3, q->pk.b, 32);
            rc = add_prefix(&c, "grants", pre, sizeof pre, o);
            memcpy(pre, "yh/", 3);
            if (!rc) rc = add_prefix(&c, "consents", pre, sizeof pre, o);
            if (rc) {
                mc__reply_node_error(res, rc, "cannot prove the patient's rows");
                goto out;
            }
        }
    }
    mc__reply_ok(res, 200, o);
    o = NULL;
out:
    json_decref(o);
    mc_store_read_end(store);
    return 0;
}

static void run(struct sq *q) {
    mc_err_clear();
    int rc = mc_node_query(q->node, q_state, q);
    if (rc && !q->res->body) mc__reply_node_error(q->res, rc, "the node could not run the query");
}

MC__API_HANDLER(mc__api_state) {
    struct sq *q = calloc(1, sizeof *q);
    if (!q) {
        mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
        return;
    }
    q->node = node;
    q->res = res;
    q->kind = Q_RAW;
    if (!param || !param[0]) param = req->arg ? req->arg(req->arg_ctx, "key") : NULL;
    size_t n = param ? strlen(param) : 0;
    if (n == 0 || n % 2 || n / 2 > MC_STATE_KEY_MAX ||
        mc_hex_decode_var(q->key, sizeof q->key, &q->klen, param)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "a state key is 1 to %d bytes in hex", MC_STATE_KEY_MAX);
    } else if (q->key[0] == MC_SMT_KEY_PREFIX) {
        mc__api_fail(res, 0, MC_ERR_INVALID, "keys starting with 00 are the state tree's own nodes");
    } else {
        run(q);
    }
    free(q);
}

static void by_key(struct mc_node *node, const char *param, struct mc__api_response *res, int kind) {
    struct sq *q = calloc(1, sizeof *q);
    if (!q) {
        mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
        return;
    }
    q->node = node;
    q->res = res;
    q->kind = kind;
    if (!param || mc_api_parse_pubkey(&q->pk, param))
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "an account key is 64 hex digits");
    else run(q);
    free(q);
}

MC__API_HANDLER(mc__api_state_account) { by_key(node, param, res, Q_ACCOUNT); }
MC__API_HANDLER(mc__api_state_patient) { by_key(node, param, res, Q_PATIENT); }

/* ---- GET /v1/state/valsets: how a light client follows the validators ---- */

static int q_valsets(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct sq *q = ctx;
    struct mc__api_response *res = q->res;
    mc_err_clear();
    struct mc_buf b, hb, cb;
    mc_buf_init(&b, 0);
    mc_buf_init(&hb, MC_BLOCK_BYTES_MAX);
    mc_buf_init(&cb, MC_BLOCK_BYTES_MAX);
    json_t *list = json_array();
    int rc = mc_store_read_begin(store);
    if (rc) {
        mc__reply_node_error(res, rc, "cannot read the store");
        goto done;
    }
    uint32_t n = 0;
    rc = mc_store_meta_get(store, "valset_proofs", &b);
    if (!rc && b.len == 4) n = (uint32_t)b.data[0] << 24 | (uint32_t)b.data[1] << 16 | (uint32_t)b.data[2] << 8 | b.data[3];
    rc = rc == MC_ERR_NOT_FOUND ? 0 : rc;
    for (uint32_t i = 0; !rc && i < n && i < MC_LIGHT_VALSETS_MAX; i++) {
        char name[48];
        snprintf(name, sizeof name, "valset_proof/%u", i);
        mc_buf_reset(&b);
        if ((rc = mc_store_meta_get(store, name, &b))) break;
        struct mc_dec d;
        mc_dec_init(&d, b.data, b.len);
        uint64_t height = mc_dec_u64(&d), from = mc_dec_u64(&d);
        size_t rl = 0, pl = 0;
        const uint8_t *row = mc_dec_bytes32(&d, &rl, MC_STATE_VALUE_MAX);
        const uint8_t *proof = mc_dec_bytes32(&d, &pl, MC_STATEPROOF_MAX);
        if (mc_dec_finish(&d) || !row || !proof) {
            rc = mc_err_set(MC_ERR_TAMPERED, "a stored validator set proof does not decode");
            break;
        }
        mc_buf_reset(&hb);
        mc_buf_reset(&cb);
        mc_hash hash;
        rc = mc_store_get_block_raw(store, height, &hash, &hb, NULL, &cb);
        if (rc == MC_ERR_NOT_FOUND) {
            /* below a state-synced node's first block: the header and
             * certificate its state sync certified (node/statesync.c) */
            char hn[64];
            snprintf(hn, sizeof hn, "statesync_header/%llu", (unsigned long long)height);
            struct mc_buf sb;
            mc_buf_init(&sb, 0);
            rc = mc_store_meta_get(store, hn, &sb);
            struct mc_dec sd;
            mc_dec_init(&sd, sb.data, sb.len);
            size_t hl = 0, cl = 0;
            const uint8_t *hp = mc_dec_bytes32(&sd, &hl, MC_HEADER_BYTES_MAX);
            const uint8_t *cp = mc_dec_bytes32(&sd, &cl, MC_COMMIT_BYTES_MAX);
            if (!rc && (mc_dec_finish(&sd) || !hp || !cp))
                rc = mc_err_set(MC_ERR_TAMPERED, "a stored validator set header does not decode");
            if (!rc) {
                mc_buf_append(&hb, hp, hl);
                mc_buf_append(&cb, cp, cl);
            }
            mc_buf_deinit(&sb);
        }
        if (rc) break;
        json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "from", mc_api_json_u64(from), "height",
                              mc_api_json_u64(height), "header_hex", mc_api_json_hex(hb.data, hb.len),
                              "commit_hex", mc_api_json_hex(cb.data, cb.len), "row_hex",
                              mc_api_json_hex(row, rl), "proof_hex", mc_api_json_hex(proof, pl));
        if (!o || json_array_append_new(list, o)) rc = MC_ERR_NOMEM;
    }
    mc_store_read_end(store);
    if (rc) {
        mc__reply_node_error(res, rc, "cannot list the validator set changes");
        goto done;
    }
    mc__reply_ok(res, 200, json_pack("{s:o}", "transitions", list));
    list = NULL;
done:
    json_decref(list);
    mc_buf_deinit(&b);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    return 0;
}

MC__API_HANDLER(mc__api_state_valsets) {
    struct sq q = {.node = node, .res = res};
    mc_err_clear();
    int rc = mc_node_query(node, q_valsets, &q);
    if (rc && !res->body) mc__reply_node_error(res, rc, "the node could not run the query");
}
