/* The governance routes of the /v1 JSON API: organisations with their
 * status, the validator set of any height, proposals with their votes.
 * Public: governance is the consortium's own record. Reads only; proposals
 * and votes are transactions (POST /v1/tx, gov_propose and gov_vote). */
#include "api/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/reply.h"
#include "app/governance.h"
#include "app/identity.h"
#include "base/hex.h"

/* --- GET /v1/orgs, GET /v1/org/{id} --- */

static json_t *org_view(struct mc_state *st, const struct mc_gov_valset *vs, const struct mc_org *o) {
    json_t *j = mc_api_json_org(o);
    json_int_t validators = 0;
    for (uint32_t i = 0; vs && i < vs->vs.count; i++)
        if (vs->org[i] == o->id) validators++;
    uint8_t status = 0;
    uint64_t since = 0;
    if (mc_governance_org_status(st, o->id, &status, &since)) status = 0;
    j = mc__reply_with(j, "validators", json_integer(validators));
    j = mc__reply_with(j, "status", json_string(status ? mc_org_status_name(status) : "unknown"));
    return mc__reply_with(j, "status_since", mc_api_json_u64(since));
}

struct orgs_ctx {
    struct mc_state *st;
    const struct mc_gov_valset *vs;
    json_t *list;
};

static int org_row(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    struct orgs_ctx *c = ctx;
    if (klen != 6) return 0; /* "o/" || u32 id */
    struct mc_org o;
    struct mc_dec d;
    mc_dec_init(&d, val, vlen);
    if (mc_org_decode_from(&d, &o) || mc_dec_finish(&d)) return MC_ERR_TAMPERED;
    if (c->list && json_array_append_new(c->list, org_view(c->st, c->vs, &o))) {
        json_decref(c->list);
        c->list = NULL;
    }
    return 0;
}

static int q_orgs(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    struct mc_gov_valset *vs = mc__reply_valset_at(app, mc_app_height(app) + 1);
    struct orgs_ctx c = {mc_app_state(app), vs, json_array()};
    mc_err_clear();
    int rc = mc_state_scan(c.st, "o/", 2, org_row, &c);
    free(vs);
    if (rc) {
        json_decref(c.list);
        mc__reply_node_error(q->res, rc, "cannot read the organisations");
        return 0;
    }
    mc__reply_ok(q->res, 200, json_pack("{s:o}", "organisations", c.list));
    return 0;
}

void mc__api_orgs(struct mc_node *node, const char *param, const struct mc__api_request *req,
                  struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res};
    mc__reply_run(&q, q_orgs);
}

static int q_org(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    struct mc_org o;
    mc_err_clear();
    int rc = mc_identity_get_org(mc_app_state(app), (uint32_t)q->a, &o);
    if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(q->res, 0, rc, "no organisation with id %llu", (unsigned long long)q->a);
        return 0;
    }
    if (rc) {
        mc__reply_node_error(q->res, rc, "cannot read the organisation");
        return 0;
    }
    struct mc_gov_valset *vs = mc__reply_valset_at(app, mc_app_height(app) + 1);
    mc__reply_ok(q->res, 200, org_view(mc_app_state(app), vs, &o));
    free(vs);
    return 0;
}

void mc__api_org(struct mc_node *node, const char *param, const struct mc__api_request *req,
                 struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res, .param = param};
    if (mc_api_parse_u64(&q.a, param) || q.a > UINT32_MAX) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "an organisation id is a decimal integer below 2^32");
        return;
    }
    mc__reply_run(&q, q_org);
}

/* --- GET /v1/validators[?height=H] --- */

static int q_validators(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    uint64_t next = mc_app_height(app) + 1;
    uint64_t h = q->a_set ? q->a : next;
    if (h == 0 || h > next + MC_GOV_VALSET_LEAD - 1) {
        mc__api_fail(q->res, 0, MC_ERR_NOT_FOUND,
                     "the validator set is known for heights 1..%llu (the ledger is at %llu)",
                     (unsigned long long)(next + MC_GOV_VALSET_LEAD - 1),
                     (unsigned long long)next - 1);
        return 0;
    }
    struct mc_gov_valset *vs = mc__reply_valset_at(app, h);
    if (!vs) {
        mc__reply_node_error(q->res, MC_ERR_NOMEM, "cannot read the validator set");
        return 0;
    }
    struct mc_state *st = mc_app_state(app);
    json_t *list = json_array();
    for (uint32_t i = 0; list && i < vs->vs.count; i++) {
        const struct mc_validator *v = &vs->vs.v[i];
        struct mc_org o;
        bool have = mc_identity_get_org(st, vs->org[i], &o) == 0;
        json_t *item = json_pack("{s:I, s:o, s:o, s:o, s:I, s:o}", "index", (json_int_t)i, "name",
                                 mc_api_json_text(v->name), "node_key", mc_api_json_pubkey(&v->pk),
                                 "power", mc_api_json_u64(v->power), "org", (json_int_t)vs->org[i],
                                 "org_name", mc_api_json_text(have ? o.name : NULL));
        if (json_array_append_new(list, item)) {
            json_decref(list);
            list = NULL;
        }
    }
    mc_hash vh;
    mc_valset_hash(&vs->vs, &vh);
    mc__reply_ok(q->res, 200,
                 json_pack("{s:o, s:o, s:o, s:o, s:o}", "height", mc_api_json_u64(h), "from",
                           mc_api_json_u64(vs->from), "valset_hash", mc_api_json_hash(&vh),
                           "total_power", mc_api_json_u64(vs->vs.total_power), "validators", list));
    free(vs);
    return 0;
}

void mc__api_validators(struct mc_node *node, const char *param, const struct mc__api_request *req,
                        struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res};
    int have = mc__reply_arg_u64(req, res, "height", &q.a);
    if (have < 0) return;
    q.a_set = have == 1;
    mc__reply_run(&q, q_validators);
}

/* --- GET /v1/gov/proposals, GET /v1/gov/proposals/{id} --- */

static json_t *change_view(const struct mc_gov_change *c) {
    json_t *j = json_pack("{s:s}", "kind", mc_gov_kind_name(c->kind));
    switch (c->kind) {
    case MC_GOV_ADD_ORG:
        j = mc__reply_with(j, "name", mc_api_json_text(c->name));
        j = mc__reply_with(j, "org_kind", json_string(mc_org_kind_name(c->org_kind)));
        j = mc__reply_with(j, "gln", mc_api_json_text(c->gln));
        j = mc__reply_with(j, "admin_key", mc_api_json_pubkey(&c->key));
        break;
    case MC_GOV_SUSPEND_ORG:
    case MC_GOV_REMOVE_ORG:
    case MC_GOV_REINSTATE_ORG: j = mc__reply_with(j, "org", json_integer(c->org)); break;
    case MC_GOV_ADD_VALIDATOR:
    case MC_GOV_ADD_NODE:
        j = mc__reply_with(j, "org", json_integer(c->org));
        j = mc__reply_with(j, "node_key", mc_api_json_pubkey(&c->key));
        j = mc__reply_with(j, "name", mc_api_json_text(c->name));
        if (c->kind == MC_GOV_ADD_VALIDATOR) j = mc__reply_with(j, "power", mc_api_json_u64(c->power));
        break;
    case MC_GOV_REMOVE_VALIDATOR: j = mc__reply_with(j, "node_key", mc_api_json_pubkey(&c->key)); break;
    case MC_GOV_SET_POWER:
        j = mc__reply_with(j, "node_key", mc_api_json_pubkey(&c->key));
        j = mc__reply_with(j, "power", mc_api_json_u64(c->power));
        break;
    case MC_GOV_SET_PARAM:
        j = mc__reply_with(j, "param", json_string(mc_gov_param_name(c->param)));
        j = mc__reply_with(j, "value", mc_api_json_u64(c->value));
        break;
    case MC_GOV_REPLACE_ADMIN:
        j = mc__reply_with(j, "org", json_integer(c->org));
        j = mc__reply_with(j, "admin_key", mc_api_json_pubkey(&c->key));
        break;
    case MC_GOV_UPGRADE:
        j = mc__reply_with(j, "name", mc_api_json_text(c->name));
        j = mc__reply_with(j, "version", mc_api_json_text(c->version));
        j = mc__reply_with(j, "height", mc_api_json_u64(c->height));
        break;
    default: break;
    }
    return j;
}

static json_t *proposal_view(const struct mc_gov_proposal *p, uint64_t height) {
    return json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:s, s:I, s:I, s:I, s:o, s:o, s:o}", "id",
                     mc_api_json_u64(p->id), "org", (json_int_t)p->org, "proposer",
                     mc_api_json_pubkey(&p->proposer), "height", mc_api_json_u64(p->height),
                     "deadline", mc_api_json_u64(p->deadline), "activation",
                     mc_api_json_u64(p->activation), "status", mc_gov_status_name(p, height), "yes",
                     (json_int_t)p->yes, "no", (json_int_t)p->no, "electorate",
                     (json_int_t)p->electorate, "decided", mc_api_json_u64(p->decided), "note",
                     mc_api_json_text(p->note), "change", change_view(&p->change));
}

static int q_proposals(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    struct mc_state *st = mc_app_state(app);
    uint64_t last;
    mc_err_clear();
    int rc = mc_governance_last_id(st, &last);
    json_t *list = json_array();
    /* newest first, at most MC_GOV_LIST_MAX */
    for (uint64_t id = last, k = 0; !rc && list && id >= 1 && k < MC_GOV_LIST_MAX; id--, k++) {
        struct mc_gov_proposal p;
        if ((rc = mc_governance_get_proposal(st, id, &p))) break;
        if (json_array_append_new(list, proposal_view(&p, mc_app_height(app)))) {
            json_decref(list);
            list = NULL;
        }
    }
    if (rc) {
        json_decref(list);
        mc__reply_node_error(q->res, rc, "cannot read the proposals");
        return 0;
    }
    mc__reply_ok(q->res, 200, json_pack("{s:o, s:o, s:o}", "height", mc_api_json_u64(mc_app_height(app)),
                                        "count", mc_api_json_u64(last), "proposals", list));
    return 0;
}

void mc__api_gov_proposals(struct mc_node *node, const char *param,
                           const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res};
    mc__reply_run(&q, q_proposals);
}

static int q_proposal(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__reply_query *q = ctx;
    struct mc_state *st = mc_app_state(app);
    struct mc_gov_proposal p;
    mc_err_clear();
    int rc = mc_governance_get_proposal(st, q->a, &p);
    if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(q->res, 0, rc, "no proposal %llu", (unsigned long long)q->a);
        return 0;
    }
    struct mc_gov_vote *votes = malloc(MC_GOV_VOTES_MAX * sizeof *votes);
    uint32_t n = 0;
    if (!rc) rc = votes ? mc_governance_votes(st, q->a, votes, MC_GOV_VOTES_MAX, &n) : MC_ERR_NOMEM;
    if (rc) {
        free(votes);
        mc__reply_node_error(q->res, rc, "cannot read the proposal");
        return 0;
    }
    json_t *list = json_array();
    for (uint32_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, json_pack("{s:I, s:b, s:o, s:o}", "org", (json_int_t)votes[i].org,
                                                  "approve", votes[i].approve, "height",
                                                  mc_api_json_u64(votes[i].height), "voter",
                                                  mc_api_json_pubkey(&votes[i].voter)))) {
            json_decref(list);
            list = NULL;
        }
    free(votes);
    mc__reply_ok(q->res, 200, mc__reply_with(proposal_view(&p, mc_app_height(app)), "votes", list));
    return 0;
}

void mc__api_gov_proposal(struct mc_node *node, const char *param,
                          const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__reply_query q = {.node = node, .req = req, .res = res, .param = param};
    if (mc_api_parse_u64(&q.a, param)) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "a proposal id is a decimal integer");
        return;
    }
    mc__reply_run(&q, q_proposal);
}
