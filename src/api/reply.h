/* Private to src/api: how the /v1 JSON routes answer and run their reads.
 *
 * Every /v1 failure is {"error": "<mc_err_name>", "message": "<sentence>"}
 * (mc__api_fail, routes.h); reads of the store and the application state
 * run inside mc_node_query, under the node lock, and call no other
 * mc_node_* function (the lock is not recursive). */
#ifndef MC_API_REPLY_H
#define MC_API_REPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/routes.h"
#include "chain/block.h"

/* An error returned by the node: its detail is this thread's message,
 * else what. */
void mc__reply_node_error(struct mc__api_response *res, int err, const char *what);
/* HTTP status for a node query that failed (mc_node_query's result): the
 * node could not answer, so 503 when it ran out of room, else 500; never
 * a 4xx, which would blame the request. */
unsigned mc__reply_query_status(int err);
/* Replaces res's body (owned) and status. */
void mc__reply_ok(struct mc__api_response *res, unsigned status, json_t *body);
/* Sets key on an object, dropping the whole object (NULL) if that fails. */
json_t *mc__reply_with(json_t *o, const char *key, json_t *v);
/* Query argument by name, NULL when absent. */
const char *mc__reply_arg(const struct mc__api_request *req, const char *name);
/* Optional u64 query argument: 1 when present and valid, 0 when absent,
 * negative (with res filled) when present but not a number. */
int mc__reply_arg_u64(const struct mc__api_request *req, struct mc__api_response *res,
                      const char *name, uint64_t *out);

/* Block height from a path segment: a number or "latest". */
MC_MUST_CHECK int mc__reply_height_param(const char *param, uint64_t *height, bool *latest);
/* The validator set of a stored height (the one that signed its
 * certificate), malloc'd; NULL when it cannot be read. */
struct mc_gov_valset *mc__reply_valset_at(struct mc_app *app, uint64_t height);
/* The height a state-synced node restored its state at (meta "state_sync",
 * node/statesync.c): it holds no block below it, and that one without its
 * transactions. 0 for a node that holds every block. */
uint64_t mc__reply_state_synced_from(struct mc_store *store);
/* Loads a stored header: 404 for a height not stored (saying so when it
 * lies below a state-synced node's snapshot), 500 otherwise.
 * Returns 0 or the error (res filled). */
int mc__reply_load_header(struct mc_store *store, struct mc__api_response *res, uint64_t height,
                          struct mc_header *h, mc_hash *hash);
/* Resolves a requested height (explicit or latest) against the store;
 * 404 beyond the latest block or at 0 (genesis holds no block). */
int mc__reply_resolve_height(struct mc_store *store, struct mc__api_response *res, bool latest,
                             uint64_t *height);

/* The header state proofs are given against: the latest one, whose state
 * the node holds (routes_state.c). Load and prove under the node lock, in
 * one read transaction. */
struct mc__state_anchor {
    uint64_t height;
    struct mc_header h;
    mc_hash hash;
};
/* MC_ERR_NOT_FOUND before the first block. */
MC_MUST_CHECK int mc__state_anchor_load(struct mc_store *store, struct mc__state_anchor *a);
/* {"height","hash","state_root","header","header_hex","commit","commit_hex"}:
 * the header's canonical bytes and its own commit certificate's. */
json_t *mc__state_anchor_view(struct mc_store *store, struct mc_app *app,
                              const struct mc__state_anchor *a, int *err);
/* {"key_hex","present","value_hex"|null,"proof_hex","proof":{"depth",
 * "siblings","leaf"}}: the row under key (or its absence) with its proof,
 * checked against the anchor's state root before it is returned
 * (MC_ERR_TAMPERED when it does not check). NULL with *err set. */
json_t *mc__state_proof(struct mc_store *store, const struct mc__state_anchor *a, const void *key,
                        size_t klen, int *err);

/* The context of one /v1 read run under the node lock. */
struct mc__reply_query {
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
void mc__reply_run(struct mc__reply_query *q, int (*fn)(void *, struct mc_store *, struct mc_app *));

#endif
