/* The membership routes of the /v1 JSON API: an account by key, the
 * organisations and the validator set. Public: they hold no personal data
 * (patients appear only as keys). */
#include "api/routes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/fhir.h"
#include "api/label.h"
#include "app/directory.h"
#include "app/equivocation.h"
#include "app/identity.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "chain/tx.h"
#include "crypto/merkle.h"
#include "api/reply.h"

/* --- GET /v1/account/{pubkey} --- */

static int q_account(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    struct mc_state *st = mc_app_state(app);
    struct mc_account a;
    mc_err_clear();
    int rc = mc_identity_get_account(st, &q->key, &a);
    if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(q->res, 0, rc, "no account with key %s", q->param);
        return 0;
    }
    if (rc) {
        mc__reply_node_error(q->res, rc, "cannot read the account");
        return 0;
    }
    a.name[sizeof a.name - 1] = 0;
    struct mc_org org;
    bool have_org = a.org != 0 && mc_identity_get_org(st, a.org, &org) == 0;
    if (have_org) org.name[sizeof org.name - 1] = 0;
    mc__reply_ok(q->res, 200, mc_api_json_account(&a, have_org ? &org : NULL));
    return 0;
}

void mc__api_account(struct mc_node *node, const char *param, const struct mc__api_request *req,
                      struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res, .param = param};
    if (mc_api_parse_pubkey(&q.key, param)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "an account key is 64 hex digits");
        return;
    }
    mc__reply_run(&q, q_account);
}

/* --- GET /v1/directory?q=TEXT&org=ID&role=NAME --- */

/* Public, like /v1/account: active members with their display names and
 * organisations, never patients (app/directory.h). */
struct q_dir {
    struct mc__api_response *res;
    struct mc_directory_query q;
    struct mc_directory_entry *out;
};

static int q_directory(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_dir *d = ctx;
    size_t n = 0;
    bool more = false;
    mc_err_clear();
    int rc = mc_directory_search(mc_app_state(app), &d->q, d->out, &n, &more);
    if (rc == MC_ERR_INVALID) {
        mc__api_fail(d->res, 400, rc, "%s", mc_err_detail());
        return 0;
    }
    if (rc) {
        mc__reply_node_error(d->res, rc, "cannot read the directory");
        return 0;
    }
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        const struct mc_directory_entry *e = &d->out[i];
        json_t *item = json_pack("{s:o, s:o, s:s, s:I, s:o, s:s}", "key", mc_api_json_pubkey(&e->account.key),
                                 "name", mc_api_json_text(e->account.name), "role", mc_role_name(e->account.role),
                                 "org", (json_int_t)e->account.org, "org_name", mc_api_json_text(e->org.name),
                                 "org_kind", mc_org_kind_name(e->org.kind));
        if (json_array_append_new(list, item)) {
            json_decref(list);
            list = NULL;
        }
    }
    mc__reply_ok(d->res, 200, json_pack("{s:o, s:b}", "members", list, "more", more));
    return 0;
}

void mc__api_directory(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res) {
    struct q_dir d = {.res = res};
    const char *text = req->arg ? req->arg(req->arg_ctx, "q") : NULL;
    const char *org = req->arg ? req->arg(req->arg_ctx, "org") : NULL;
    const char *role = req->arg ? req->arg(req->arg_ctx, "role") : NULL;
    uint64_t org_id = 0;
    if (org && (mc_api_parse_u64(&org_id, org) || org_id == 0 || org_id > UINT32_MAX)) {
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s", "org is an organisation id (a decimal integer)");
        return;
    }
    if (role) {
        d.q.role = mc_role_from_name(role);
        if (!d.q.role || d.q.role == MC_ROLE_PATIENT || d.q.role == MC_ROLE_NODE) {
            mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s",
                         "role is a member role (clinician, pharmacist, auditor, ...); patients are not listed");
            return;
        }
    }
    d.q.text = text;
    d.q.org = (uint32_t)org_id;
    d.out = calloc(MC_DIRECTORY_MAX, sizeof *d.out);
    if (!d.out) {
        mc__api_fail(res, 500, MC_ERR_NOMEM, "%s", "out of memory");
        return;
    }
    int rc = mc_node_query(node, q_directory, &d);
    if (rc) mc__api_fail(res, mc__reply_query_status(rc), rc, "%s", "the node could not run the query");
    free(d.out);
}

/* --- GET /v1/account/{key}/qr.svg: an account's code to scan --- */

/* "medchain:account:<key hex>" as a QR code: a patient shows it to her
 * clinician, whose page reads it instead of anyone typing hex. Only for
 * an account on the ledger (the key is public; nothing else is in it). */
static int q_exists(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    struct mc_account a;
    q->a_set = mc_identity_get_account(mc_app_state(app), &q->key, &a) == 0;
    return 0;
}

void mc__api_account_qr(struct mc_node *node, const char *param, const struct mc__api_request *req,
                        struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res, .param = param};
    if (mc_api_parse_pubkey(&q.key, param)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "an account key is 64 hex digits");
        return;
    }
    int rc = mc_node_query(node, q_exists, &q);
    if (rc || !q.a_set) {
        mc__api_fail(res, rc ? mc__reply_query_status(rc) : 404, rc ? rc : MC_ERR_NOT_FOUND, "%s",
                     rc ? "the node could not run the query" : "no account with this key");
        return;
    }
    char text[100], hx[65];
    mc_hex_encode(hx, q.key.b, 32);
    snprintf(text, sizeof text, "medchain:account:%s", hx);
    char *svg = NULL;
    size_t len = 0;
    if ((rc = mc_label_encode_svg(&svg, &len, text, 6))) {
        mc__api_fail(res, 0, rc, "%s", "cannot draw the code");
        return;
    }
    json_decref(res->body);
    res->body = NULL;
    res->status = 200;
    res->raw = svg;
    res->raw_len = len;
    res->raw_type = "image/svg+xml";
}
