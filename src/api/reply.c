/* How the /v1 JSON routes answer and run their reads (see reply.h). */
#include "api/reply.h"

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

void mc__reply_node_error(struct mc__api_response *res, int err, const char *what) {
    const char *detail = mc_err_detail();
    if (detail && detail[0]) mc__api_fail(res, 0, err, "%s", detail);
    else mc__api_fail(res, 0, err, "%s", what);
}

unsigned mc__reply_query_status(int err) {
    return err == MC_ERR_NOMEM || err == MC_ERR_FULL ? 503 : 500;
}

void mc__reply_ok(struct mc__api_response *res, unsigned status, json_t *body) {
    json_decref(res->body);
    res->status = status;
    res->body = body;
}

/* Sets key on an object, dropping the whole object if that fails. */
json_t *mc__reply_with(json_t *o, const char *key, json_t *v) {
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

const char *mc__reply_arg(const struct mc__api_request *req, const char *name) {
    return req->arg ? req->arg(req->arg_ctx, name) : NULL;
}

/* Optional u64 query argument: 1 when present and valid, 0 when absent,
 * negative (with res filled) when present but not a number. */
int mc__reply_arg_u64(const struct mc__api_request *req, struct mc__api_response *res,
                   const char *name, uint64_t *out) {
    const char *v = mc__reply_arg(req, name);
    if (!v) return 0;
    if (mc_api_parse_u64(out, v)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED,
                     "query parameter '%s' must be a non-negative decimal integer", name);
        return MC_ERR_MALFORMED;
    }
    return 1;
}

/* --- shared query helpers (run under the node lock) --- */

/* Block height from a path segment: a number or "latest". */
int mc__reply_height_param(const char *param, uint64_t *height, bool *latest) {
    *latest = strcmp(param, "latest") == 0;
    if (*latest) return 0;
    return mc_api_parse_u64(height, param);
}

/* The validator set of a stored height, to name the signers of its
 * certificate: the ledger's set of that height (genesis or governance),
 * or NULL when it cannot be read. */
struct mc_gov_valset *mc__reply_valset_at(struct mc_app *app, uint64_t height) {
    struct mc_gov_valset *vs = malloc(sizeof *vs);
    if (vs && mc_app_valset_at(app, height, vs)) {
        free(vs);
        vs = NULL;
    }
    return vs;
}

/* Loads a stored header, answering 404 for a height not stored and 500
 * for anything else. Returns 0 or the error (res filled). */
uint64_t mc__reply_state_synced_from(struct mc_store *store) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    uint64_t h = 0;
    if (mc_store_meta_get(store, "state_sync", &b) == 0 && b.len == 40)
        for (int i = 0; i < 8; i++) h = h << 8 | b.data[i];
    mc_buf_deinit(&b);
    return h;
}

int mc__reply_load_header(struct mc_store *store, struct mc__api_response *res, uint64_t height,
                       struct mc_header *h, mc_hash *hash) {
    mc_err_clear();
    int rc = mc_store_get_header(store, height, h, hash);
    uint64_t synced = rc == MC_ERR_NOT_FOUND ? mc__reply_state_synced_from(store) : 0;
    if (rc == MC_ERR_NOT_FOUND && height < synced) {
        mc__api_fail(res, 0, rc, "this node state-synced at height %llu and holds no block below it "
                     "(height %llu): ask a node that holds every block", (unsigned long long)synced,
                     (unsigned long long)height);
    } else if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(res, 0, rc, "no block at height %llu", (unsigned long long)height);
    } else if (rc) {
        mc__reply_node_error(res, rc == MC_ERR_MALFORMED ? MC_ERR_TAMPERED : rc,
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
int mc__reply_resolve_height(struct mc_store *store, struct mc__api_response *res, bool latest,
                          uint64_t *height) {
    uint64_t top;
    int rc = mc_store_height(store, &top);
    if (rc) {
        mc__reply_node_error(res, rc, "cannot read the chain height");
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


/* Runs fn under the node lock; answers 500/503 if the node could not run it. */
void mc__reply_run(struct mc__reply_query *q, int (*fn)(void *, struct mc_store *, struct mc_app *)) {
    mc_err_clear();
    int rc = mc_node_query(q->node, fn, q);
    if (rc && !q->res->body) mc__reply_node_error(q->res, rc, "the node could not run the query");
    if (!rc && !q->res->body && q->res->status == 0)
        mc__api_fail(q->res, 500, MC_ERR_STATE, "the query produced no answer");
}

/* --- GET /v1/block/{height|latest} --- */
