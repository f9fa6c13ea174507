/* Consortium governance at the application: proposals and votes by
 * organisation admins, the 2/3 rule, activation heights, the validator set
 * of every height, the power rule, removal of an organisation, parameters,
 * admin key replacement and upgrade plans. Every refusal the rules name is
 * tried and its reason checked. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/memkv.h"
#include "../support/testutil.h"
#include "app/app.h"
#include "app/governance.h"
#include "app/governance_payload.h"
#include "app/identity_payload.h"

#define CHAIN "medchain-gov"
#define T0 1764201600000ULL

struct person {
    struct mc_keypair kp;
    uint64_t nonce;
};

struct gw {
    struct mc_genesis *g;
    struct tu_memkv *mem;
    struct mc_app *app;
    uint64_t height;     /* last committed */
    bool open;
    struct person admin[6], node[6], nurse;
};

static const uint8_t kinds[5] = {0, MC_ORG_HOSPITAL, MC_ORG_PHARMACY, MC_ORG_DISTRIBUTOR,
                                 MC_ORG_LABORATORY};

static void start(struct gw *w) {
    memset(w, 0, sizeof *w);
    mc_crypto_init();
    struct mc_genesis g;
    memset(&g, 0, sizeof g);
    snprintf(g.chain_id, sizeof g.chain_id, CHAIN);
    g.time_ms = T0;
    for (uint32_t i = 1; i <= 4; i++) {
        mc_keypair_generate(&w->admin[i].kp);
        mc_keypair_generate(&w->node[i].kp);
        struct mc_org *o = &g.orgs[g.org_count++];
        o->id = i;
        snprintf(o->name, sizeof o->name, "Org %u", i);
        o->kind = kinds[i];
        o->admin = w->admin[i].kp.pk;
        char name[16];
        snprintf(name, sizeof name, "node%u", i);
        cr_assert_eq(mc_valset_add(&g.valset, &w->node[i].kp.pk, 10, name), 0);
        g.validator_org[i - 1] = i;
    }
    mc_keypair_generate(&w->admin[5].kp);
    mc_keypair_generate(&w->node[5].kp);
    mc_keypair_generate(&w->nurse.kp);
    char *json = mc_genesis_to_json(&g);
    w->g = tu_keep(calloc(1, sizeof *w->g));
    cr_assert_eq(mc_genesis_parse(w->g, json, strlen(json)), 0, "%s", mc_err_detail());
    free(json);
    w->mem = tu_memkv_create();
    struct mc_app_tip tip = {.time_ms = T0};
    cr_assert_eq(mc_app_write_genesis(tu_memkv_kv(w->mem), w->g, &tip.state_hash), 0);
    static const uint8_t key[MC_STATE_HASH_KEY_BYTES] = {7};
    cr_assert_eq(mc_app_open(&w->app, tu_memkv_kv(w->mem), w->g, &tip, key), 0);
}

static void stop(struct gw *w) {
    mc_app_close(w->app);
    tu_memkv_destroy(w->mem);
}

static void begin(struct gw *w) {
    cr_assert(!w->open);
    cr_assert_eq(mc_app_begin_block(w->app, w->height + 1, T0 + (w->height + 1) * 1000), 0, "%s",
                 mc_err_detail());
    w->open = true;
}

static void end(struct gw *w) {
    cr_assert(w->open);
    mc_hash s, r;
    uint64_t n;
    cr_assert_eq(mc_app_end_block(w->app, &s, &n, &r), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_app_commit_block(w->app), 0, "%s", mc_err_detail());
    w->height++;
    w->open = false;
}

/* Runs empty blocks until `height` is committed. */
static void until(struct gw *w, uint64_t height) {
    while (w->height < height) {
        begin(w);
        end(w);
    }
}

/* Delivers one transaction in the open block (opening one if needed);
 * returns its result, the nonce given back on failure. */
static int send(struct gw *w, struct person *p, uint16_t type, const struct mc_buf *payload) {
    cr_assert_eq(payload->err, 0);
    bool opened = false;
    if (!w->open) {
        begin(w);
        opened = true;
    }
    size_t len;
    uint8_t *tx = tu_tx(&len, CHAIN, type, &p->kp, ++p->nonce, payload->data, payload->len);
    int rc = mc_app_deliver(w->app, tx, len, true);
    if (rc) p->nonce--;
    free(tx);
    if (opened) end(w);
    return rc;
}

static int propose(struct gw *w, struct person *p, uint64_t deadline, uint64_t activation,
                   const struct mc_gov_change *c) {
    struct mc_gov_payload pl = {.type = MC_TX_GOV_PROPOSE, .deadline = deadline,
                                .activation = activation, .change = *c};
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_gov_payload_encode(&b, &pl), 0);
    int rc = send(w, p, MC_TX_GOV_PROPOSE, &b);
    mc_buf_deinit(&b);
    return rc;
}

static int vote(struct gw *w, struct person *p, uint64_t id, bool approve) {
    struct mc_gov_payload pl = {.type = MC_TX_GOV_VOTE, .proposal = id, .approve = approve};
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_gov_payload_encode(&b, &pl), 0);
    int rc = send(w, p, MC_TX_GOV_VOTE, &b);
    mc_buf_deinit(&b);
    return rc;
}

static struct mc_gov_proposal proposal(struct gw *w, uint64_t id) {
    struct mc_gov_proposal p;
    cr_assert_eq(mc_governance_get_proposal(mc_app_state(w->app), id, &p), 0, "%s", mc_err_detail());
    return p;
}

static struct mc_gov_valset valset_at(struct gw *w, uint64_t h) {
    struct mc_gov_valset s;
    cr_assert_eq(mc_app_valset_at(w->app, h, &s), 0, "%s", mc_err_detail());
    return s;
}

static struct mc_gov_change add_validator(struct gw *w, uint32_t org, struct person *node,
                                          uint64_t power) {
    struct mc_gov_change c = {.kind = MC_GOV_ADD_VALIDATOR, .org = org, .key = node->kp.pk,
                              .power = power};
    snprintf(c.name, sizeof c.name, "validator of %u", org);
    return c;
}

static void yes(struct gw *w, uint64_t id, int from, int to) {
    for (int i = from; i <= to; i++)
        cr_assert_eq(vote(w, &w->admin[i], id, true), 0, "vote of org %d: %s", i, mc_err_detail());
}

Test(governance, add_org_passes_with_two_thirds_and_takes_effect_at_activation) {
    struct gw w;
    start(&w);
    struct mc_gov_change c = {.kind = MC_GOV_ADD_ORG, .org_kind = MC_ORG_CLINIC,
                              .key = w.admin[5].kp.pk};
    snprintf(c.name, sizeof c.name, "Riverside Clinic");
    cr_assert_eq(propose(&w, &w.admin[1], 10, 12, &c), 0, "%s", mc_err_detail());
    cr_assert_eq(proposal(&w, 1).status, MC_GOV_OPEN);
    yes(&w, 1, 1, 2);
    /* 2 of 4 is not more than 2/3. */
    cr_assert_eq(proposal(&w, 1).status, MC_GOV_OPEN);
    yes(&w, 1, 3, 3);
    struct mc_gov_proposal p = proposal(&w, 1);
    cr_assert_eq(p.status, MC_GOV_PASSED);
    cr_assert_eq(p.yes, 3);
    cr_assert_eq(p.electorate, 4);
    /* Not before its activation height. */
    struct mc_org o;
    until(&w, 11);
    cr_assert_eq(mc_identity_get_org(mc_app_state(w.app), 5, &o), MC_ERR_NOT_FOUND);
    until(&w, 12);
    cr_assert_eq(mc_identity_get_org(mc_app_state(w.app), 5, &o), 0);
    cr_assert_str_eq(o.name, "Riverside Clinic");
    cr_assert_eq(proposal(&w, 1).status, MC_GOV_APPLIED);
    cr_assert_eq(proposal(&w, 1).decided, 12);
    uint32_t active;
    cr_assert_eq(mc_governance_active_orgs(mc_app_state(w.app), w.g, &active), 0);
    cr_assert_eq(active, 5);
    /* The new admin governs: its node joins the set two heights later. */
    struct mc_gov_change v = add_validator(&w, 5, &w.node[5], 10);
    cr_assert_eq(propose(&w, &w.admin[5], 20, 21, &v), 0, "%s", mc_err_detail());
    yes(&w, 2, 1, 3);
    /* 3 of 5 is not more than 2/3 of five organisations. */
    cr_assert_eq(proposal(&w, 2).status, MC_GOV_OPEN);
    yes(&w, 2, 5, 5);
    cr_assert_eq(proposal(&w, 2).status, MC_GOV_PASSED);
    until(&w, 21);
    cr_assert_eq(valset_at(&w, 22).vs.count, 4, "the set decided at 21 is not in force at 22");
    struct mc_gov_valset s = valset_at(&w, 23);
    cr_assert_eq(s.vs.count, 5);
    cr_assert_eq(s.vs.total_power, 50);
    cr_assert_eq(s.org[4], 5);
    cr_assert_eq(s.from, 21 + MC_GOV_VALSET_LEAD);
    /* Earlier heights keep their own set. */
    cr_assert_eq(valset_at(&w, 5).vs.count, 4);
    cr_assert(mc_governance_node_active(mc_app_state(w.app), &w.node[5].kp.pk));
    stop(&w);
}

Test(governance, a_proposal_by_a_non_admin_is_refused) {
    struct gw w;
    start(&w);
    struct mc_gov_change c = {.kind = MC_GOV_REMOVE_ORG, .org = 2};
    /* A validator node is an account, but not an admin. */
    cr_assert_eq(propose(&w, &w.node[1], 10, 12, &c), MC_ERR_FORBIDDEN);
    cr_assert(strstr(mc_err_detail(), "only an organisation admin"), "%s", mc_err_detail());
    /* Nor may it vote. */
    cr_assert_eq(propose(&w, &w.admin[1], 10, 12, &c), 0, "%s", mc_err_detail());
    cr_assert_eq(vote(&w, &w.node[2], 1, true), MC_ERR_FORBIDDEN);
    /* Admission refuses it the same way. */
    struct mc_gov_payload pl = {.type = MC_TX_GOV_PROPOSE, .deadline = 10, .activation = 12,
                                .change = c};
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_gov_payload_encode(&b, &pl), 0);
    size_t len;
    uint8_t *bytes = tu_tx(&len, CHAIN, MC_TX_GOV_PROPOSE, &w.node[3].kp, 1, b.data, b.len);
    struct mc_tx tx;
    cr_assert_eq(mc_tx_decode(&tx, bytes, len), 0);
    uint64_t next;
    cr_assert_eq(mc_app_check_tx(w.app, &tx, bytes, len, &next), MC_ERR_FORBIDDEN);
    free(bytes);
    mc_buf_deinit(&b);
    stop(&w);
}

Test(governance, a_second_vote_by_the_same_organisation_is_refused) {
    struct gw w;
    start(&w);
    struct mc_gov_change c = {.kind = MC_GOV_SET_PARAM, .param = MC_GOV_PARAM_BLOCK_TXS, .value = 500};
    cr_assert_eq(propose(&w, &w.admin[1], 10, 12, &c), 0, "%s", mc_err_detail());
    cr_assert_eq(vote(&w, &w.admin[2], 1, false), 0);
    cr_assert_eq(vote(&w, &w.admin[2], 1, true), MC_ERR_EXISTS);
    cr_assert(strstr(mc_err_detail(), "organisation 2 already voted on proposal 1"), "%s", mc_err_detail());
    struct mc_gov_proposal p = proposal(&w, 1);
    cr_assert_eq(p.yes, 0);
    cr_assert_eq(p.no, 1);
    uint32_t n;
    struct mc_gov_vote votes[4];
    cr_assert_eq(mc_governance_votes(mc_app_state(w.app), 1, votes, 4, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(votes[0].org, 2);
    cr_assert(!votes[0].approve);
    stop(&w);
}

Test(governance, a_vote_after_the_deadline_is_refused) {
    struct gw w;
    start(&w);
    struct mc_gov_change c = {.kind = MC_GOV_SET_PARAM, .param = MC_GOV_PARAM_BLOCK_TXS, .value = 500};
    cr_assert_eq(propose(&w, &w.admin[1], 5, 8, &c), 0, "%s", mc_err_detail());
    yes(&w, 1, 1, 2);
    until(&w, 5);
    cr_assert_eq(vote(&w, &w.admin[3], 1, true), MC_ERR_STATE);
    cr_assert(strstr(mc_err_detail(), "closed at height 5"), "%s", mc_err_detail());
    stop(&w);
}

Test(governance, a_proposal_without_two_thirds_never_takes_effect) {
    struct gw w;
    start(&w);
    struct mc_gov_change c = {.kind = MC_GOV_REMOVE_ORG, .org = 4};
    cr_assert_eq(propose(&w, &w.admin[1], 6, 8, &c), 0, "%s", mc_err_detail());
    yes(&w, 1, 1, 2);
    cr_assert_eq(vote(&w, &w.admin[3], 1, false), 0);
    until(&w, 20);
    struct mc_gov_proposal p = proposal(&w, 1);
    cr_assert_eq(p.status, MC_GOV_OPEN);
    cr_assert_str_eq(mc_gov_status_name(&p, w.height), "expired");
    uint8_t st;
    cr_assert_eq(mc_governance_org_status(mc_app_state(w.app), 4, &st, NULL), 0);
    cr_assert_eq(st, MC_ORG_ACTIVE);
    cr_assert_eq(valset_at(&w, 21).vs.count, 4);
    stop(&w);
}

Test(governance, a_change_moving_a_third_of_the_power_is_refused) {
    struct gw w;
    start(&w);
    /* 4 x 10: adding 14 is 14/40 >= 1/3; 13 is 13/40 < 1/3. */
    struct mc_gov_change big = add_validator(&w, 1, &w.node[5], 14);
    cr_assert_eq(propose(&w, &w.admin[1], 10, 12, &big), MC_ERR_INVALID);
    cr_assert(strstr(mc_err_detail(), "moves 1/3 or more of the voting power"), "%s", mc_err_detail());
    struct mc_gov_change power = {.kind = MC_GOV_SET_POWER, .key = w.node[2].kp.pk, .power = 24};
    cr_assert_eq(propose(&w, &w.admin[1], 10, 12, &power), MC_ERR_INVALID);
    cr_assert(strstr(mc_err_detail(), "1/3"), "%s", mc_err_detail());
    struct mc_gov_change ok = add_validator(&w, 1, &w.node[5], 13);
    cr_assert_eq(propose(&w, &w.admin[1], 10, 12, &ok), 0, "%s", mc_err_detail());
    /* Two changes that take effect together are judged as one: each adds
     * 10 of 40, together 20 of 40. */
    struct person extra;
    mc_keypair_generate(&extra.kp);
    struct mc_gov_change a = add_validator(&w, 2, &extra, 7);
    cr_assert_eq(propose(&w, &w.admin[2], 10, 12, &a), 0, "%s", mc_err_detail());
    yes(&w, 1, 1, 3);
    yes(&w, 2, 1, 3);
    until(&w, 12);
    cr_assert_eq(proposal(&w, 1).status, MC_GOV_APPLIED);
    struct mc_gov_proposal p = proposal(&w, 2);
    cr_assert_eq(p.status, MC_GOV_FAILED);
    cr_assert(strstr(p.note, "1/3"), "%s", p.note);
    struct mc_gov_valset s = valset_at(&w, 14);
    cr_assert_eq(s.vs.count, 5);
    cr_assert_eq(s.vs.total_power, 53);
    /* The failed change left no trace: its node has no account. */
    struct mc_account acc;
    cr_assert_eq(mc_identity_get_account(mc_app_state(w.app), &extra.kp.pk, &acc), MC_ERR_NOT_FOUND);
    stop(&w);
}

Test(governance, removing_an_organisation_deactivates_its_members_and_nodes) {
    struct gw w;
    start(&w);
    /* Org 1 (a hospital) enrolls a member first. */
    struct mc_identity_payload en = {.type = MC_TX_ENROLL_MEMBER, .key = w.nurse.kp.pk,
                                     .role = MC_ROLE_CLINICIAN};
    snprintf(en.name, sizeof en.name, "nurse");
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_identity_payload_encode(&b, &en), 0);
    cr_assert_eq(send(&w, &w.admin[1], MC_TX_ENROLL_MEMBER, &b), 0, "%s", mc_err_detail());
    mc_buf_deinit(&b);
    struct mc_gov_change c = {.kind = MC_GOV_REMOVE_ORG, .org = 1};
    cr_assert_eq(propose(&w, &w.admin[2], 6, 8, &c), 0, "%s", mc_err_detail());
    yes(&w, 1, 2, 4);
    cr_assert(mc_governance_node_active(mc_app_state(w.app), &w.node[1].kp.pk));
    until(&w, 8);
    cr_assert_eq(proposal(&w, 1).status, MC_GOV_APPLIED, "%s", proposal(&w, 1).note);
    cr_assert(!mc_governance_node_active(mc_app_state(w.app), &w.node[1].kp.pk));
    cr_assert(mc_governance_node_active(mc_app_state(w.app), &w.node[2].kp.pk));
    /* Its members' transactions are refused; the accounts stay. */
    struct mc_identity_payload rv = {.type = MC_TX_REVOKE_MEMBER, .key = w.nurse.kp.pk};
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_identity_payload_encode(&b, &rv), 0);
    cr_assert_eq(send(&w, &w.admin[1], MC_TX_REVOKE_MEMBER, &b), MC_ERR_REVOKED);
    cr_assert(strstr(mc_err_detail(), "organisation 1 is removed"), "%s", mc_err_detail());
    mc_buf_deinit(&b);
    struct mc_account acc;
    cr_assert_eq(mc_identity_get_account(mc_app_state(w.app), &w.nurse.kp.pk, &acc), 0);
    cr_assert_eq(acc.status, MC_ACCOUNT_ACTIVE);
    /* Its validator leaves the set at 8 + 2; three organisations vote now. */
    cr_assert_eq(valset_at(&w, 9).vs.count, 4);
    struct mc_gov_valset s = valset_at(&w, 10);
    cr_assert_eq(s.vs.count, 3);
    cr_assert_eq(mc_valset_find(&s.vs, &w.node[1].kp.pk), -1);
    uint32_t active;
    cr_assert_eq(mc_governance_active_orgs(mc_app_state(w.app), w.g, &active), 0);
    cr_assert_eq(active, 3);
    /* Its admin can no longer propose or vote. */
    struct mc_gov_change again = {.kind = MC_GOV_SET_PARAM, .param = MC_GOV_PARAM_BLOCK_TXS, .value = 9};
    cr_assert_eq(propose(&w, &w.admin[1], 20, 22, &again), MC_ERR_REVOKED);
    /* A removed organisation cannot be reinstated. */
    struct mc_gov_change back = {.kind = MC_GOV_REINSTATE_ORG, .org = 1};
    cr_assert_eq(propose(&w, &w.admin[2], 20, 22, &back), MC_ERR_STATE);
    stop(&w);
}

Test(governance, parameters_stay_within_the_hard_limits) {
    struct gw w;
    start(&w);
    struct mc_gov_change c = {.kind = MC_GOV_SET_PARAM, .param = MC_GOV_PARAM_TX_BYTES, .value = 100};
    cr_assert_eq(propose(&w, &w.admin[1], 6, 8, &c), MC_ERR_INVALID);
    cr_assert(strstr(mc_err_detail(), "hard limits"), "%s", mc_err_detail());
    c.value = MC_TX_MAX + 1;
    cr_assert_eq(propose(&w, &w.admin[1], 6, 8, &c), MC_ERR_INVALID);
    c.value = 2048;
    cr_assert_eq(propose(&w, &w.admin[1], 6, 8, &c), 0, "%s", mc_err_detail());
    yes(&w, 1, 1, 3);
    until(&w, 8);
    uint64_t v;
    cr_assert_eq(mc_app_param(w.app, MC_GOV_PARAM_TX_BYTES, &v), 0);
    cr_assert_eq(v, 2048);
    /* A transaction over the new bound is refused for its size (before,
     * the same bytes failed only as a malformed payload). */
    struct mc_buf b;
    mc_buf_init(&b, 0);
    for (int i = 0; i < 2500; i++) mc_enc_u8(&b, 0xee);
    cr_assert_eq(send(&w, &w.admin[2], MC_TX_RECORD_ERASE, &b), MC_ERR_TOO_LARGE);
    cr_assert(strstr(mc_err_detail(), "tx_bytes is 2048"), "%s", mc_err_detail());
    mc_buf_deinit(&b);
    stop(&w);
}

Test(governance, without_governance_rows_the_ledger_is_its_genesis) {
    struct gw w;
    start(&w);
    uint64_t v;
    cr_assert_eq(mc_app_param(w.app, MC_GOV_PARAM_TX_BYTES, &v), 0);
    cr_assert_eq(v, MC_TX_MAX);
    struct mc_gov_valset s = valset_at(&w, 1000);
    cr_assert_eq(s.vs.count, 4);
    mc_hash a, b;
    mc_valset_hash(&s.vs, &a);
    mc_valset_hash(&w.g->valset, &b);
    cr_assert_eq(memcmp(a.b, b.b, 32), 0);
    stop(&w);
}

Test(governance, timing_rules_of_a_proposal) {
    struct gw w;
    start(&w);
    struct mc_gov_change c = {.kind = MC_GOV_SET_PARAM, .param = MC_GOV_PARAM_BLOCK_TXS, .value = 9};
    cr_assert_eq(propose(&w, &w.admin[1], 1, 3, &c), MC_ERR_INVALID, "deadline at this block");
    cr_assert_eq(propose(&w, &w.admin[1], 5, 5, &c), MC_ERR_INVALID, "activation at the deadline");
    cr_assert_eq(propose(&w, &w.admin[1], 5, 5 + MC_GOV_HORIZON_MAX, &c), MC_ERR_INVALID);
    cr_assert_eq(vote(&w, &w.admin[1], 77, true), MC_ERR_NOT_FOUND);
    stop(&w);
}

Test(governance, a_lost_admin_key_is_replaced_by_vote) {
    struct gw w;
    start(&w);
    struct person fresh;
    mc_keypair_generate(&fresh.kp);
    fresh.nonce = 0;
    struct mc_gov_change c = {.kind = MC_GOV_REPLACE_ADMIN, .org = 3, .key = fresh.kp.pk};
    cr_assert_eq(propose(&w, &w.admin[3], 6, 8, &c), MC_ERR_INVALID, "own key: rotate_key");
    cr_assert_eq(propose(&w, &w.admin[1], 6, 8, &c), 0, "%s", mc_err_detail());
    yes(&w, 1, 1, 2);
    yes(&w, 1, 4, 4);
    until(&w, 8);
    struct mc_account old;
    cr_assert_eq(mc_identity_get_account(mc_app_state(w.app), &w.admin[3].kp.pk, &old), 0);
    cr_assert_eq(old.status, MC_ACCOUNT_REVOKED);
    struct mc_org o;
    cr_assert_eq(mc_identity_get_org(mc_app_state(w.app), 3, &o), 0);
    cr_assert_eq(memcmp(o.admin.b, fresh.kp.pk.b, 32), 0);
    struct mc_gov_change p2 = {.kind = MC_GOV_SET_PARAM, .param = MC_GOV_PARAM_BLOCK_TXS, .value = 9};
    cr_assert_eq(propose(&w, &fresh, 20, 22, &p2), 0, "%s", mc_err_detail());
    cr_assert_eq(propose(&w, &w.admin[3], 20, 22, &p2), MC_ERR_REVOKED);
    stop(&w);
}

Test(governance, an_upgrade_plan_names_its_version_and_height) {
    struct gw w;
    start(&w);
    struct mc_gov_change c = {.kind = MC_GOV_UPGRADE, .height = 30};
    snprintf(c.name, sizeof c.name, "records index");
    snprintf(c.version, sizeof c.version, "0.2");
    cr_assert_eq(propose(&w, &w.admin[1], 6, 8, &c), MC_ERR_INVALID);
    snprintf(c.version, sizeof c.version, "99.0.0");
    c.height = 8;
    cr_assert_eq(propose(&w, &w.admin[1], 6, 8, &c), MC_ERR_INVALID, "upgrade at activation");
    c.height = 30;
    cr_assert_eq(propose(&w, &w.admin[1], 6, 8, &c), 0, "%s", mc_err_detail());
    yes(&w, 1, 1, 3);
    until(&w, 8);
    char name[MC_GOV_UPGRADE_NAME_MAX + 1], version[MC_GOV_VERSION_MAX + 1];
    uint64_t at;
    struct mc_state *st = mc_app_state(w.app);
    cr_assert_eq(mc_governance_upgrade_needed(st, 29, "0.2.0", name, version, &at), MC_ERR_NOT_FOUND);
    cr_assert_eq(mc_governance_upgrade_needed(st, 30, "0.2.0", name, version, &at), 0);
    cr_assert_str_eq(version, "99.0.0");
    cr_assert_str_eq(name, "records index");
    cr_assert_eq(at, 30);
    cr_assert_eq(mc_governance_upgrade_needed(st, 31, "99.0.0", name, version, &at), MC_ERR_NOT_FOUND);
    cr_assert_eq(mc_governance_upgrade_needed(st, 31, "100.0.0", name, version, &at), MC_ERR_NOT_FOUND);
    stop(&w);
}

Test(governance, versions_parse_strictly) {
    uint64_t a[3], b[3];
    cr_assert(mc_governance_version_parse("0.2.0", a));
    cr_assert(mc_governance_version_parse("10.20.300", b));
    cr_assert_lt(mc_governance_version_cmp(a, b), 0);
    cr_assert(!mc_governance_version_parse("0.2", a));
    cr_assert(!mc_governance_version_parse("0.02.0", a));
    cr_assert(!mc_governance_version_parse("1.2.3-rc1", a));
    cr_assert(!mc_governance_version_parse("", a));
    cr_assert(!mc_governance_version_parse("1234567890.0.0", a));
}

Test(governance, payloads_round_trip_and_decode_strictly) {
    for (uint8_t k = 1; k <= MC_GOV_KIND_MAX; k++) {
        struct mc_gov_payload p = {.type = MC_TX_GOV_PROPOSE, .deadline = 5, .activation = 9};
        p.change.kind = k;
        p.change.org = 3;
        p.change.power = 7;
        p.change.param = 2;
        p.change.value = 99;
        p.change.height = 44;
        memset(p.change.key.b, k, 32);
        snprintf(p.change.name, sizeof p.change.name, "n%u", k);
        snprintf(p.change.version, sizeof p.change.version, "1.2.3");
        p.change.org_kind = 2;
        struct mc_buf b;
        mc_buf_init(&b, 0);
        cr_assert_eq(mc_gov_payload_encode(&b, &p), 0);
        cr_assert_leq(b.len, mc_txtypes_payload_max(MC_TX_GOV_PROPOSE));
        struct mc_gov_payload q;
        cr_assert_eq(mc_gov_payload_decode(&q, MC_TX_GOV_PROPOSE, b.data, b.len), 0, "kind %u", k);
        struct mc_buf b2;
        mc_buf_init(&b2, 0);
        cr_assert_eq(mc_gov_payload_encode(&b2, &q), 0);
        cr_assert_eq(b.len, b2.len);
        cr_assert_eq(memcmp(b.data, b2.data, b.len), 0, "kind %u re-encodes differently", k);
        /* Truncated and trailing bytes are refused. */
        cr_assert_neq(mc_gov_payload_decode(&q, MC_TX_GOV_PROPOSE, b.data, b.len - 1), 0);
        mc_buf_append(&b, "x", 1);
        cr_assert_neq(mc_gov_payload_decode(&q, MC_TX_GOV_PROPOSE, b.data, b.len), 0);
        mc_buf_deinit(&b);
        mc_buf_deinit(&b2);
    }
    uint8_t bad[18] = {0};
    bad[16] = 99; /* unknown kind */
    struct mc_gov_payload q;
    cr_assert_neq(mc_gov_payload_decode(&q, MC_TX_GOV_PROPOSE, bad, 17), 0);
    uint8_t v[9] = {0, 0, 0, 0, 0, 0, 0, 1, 2}; /* approve must be 0 or 1 */
    cr_assert_neq(mc_gov_payload_decode(&q, MC_TX_GOV_VOTE, v, 9), 0);
}

static int rotate_node(struct gw *w, struct person *admin, const mc_pubkey *node,
                       const struct mc_keypair *new_key, uint64_t at, bool good_proof) {
    struct mc_gov_payload pl = {.type = MC_TX_NODE_ROTATE, .node = *node, .new_key = new_key->pk,
                                .at_height = at};
    mc_governance_rotation_sign(pl.sig, new_key, CHAIN, node);
    if (!good_proof) pl.sig[5] ^= 1;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_gov_payload_encode(&b, &pl), 0);
    int rc = send(w, admin, MC_TX_NODE_ROTATE, &b);
    mc_buf_deinit(&b);
    return rc;
}

Test(governance, a_node_key_rotates_at_a_height) {
    struct gw w;
    start(&w);
    struct mc_keypair fresh;
    mc_keypair_generate(&fresh);
    uint64_t at = 10;
    const mc_pubkey *node2 = &w.node[2].kp.pk;
    cr_assert_eq(rotate_node(&w, &w.admin[1], node2, &fresh, at, true), MC_ERR_FORBIDDEN);
    cr_assert(strstr(mc_err_detail(), "belongs to organisation 2"), "%s", mc_err_detail());
    cr_assert_eq(rotate_node(&w, &w.node[2], node2, &fresh, at, true), MC_ERR_FORBIDDEN);
    cr_assert_eq(rotate_node(&w, &w.admin[2], node2, &fresh, w.height + 1 + MC_GOV_VALSET_LEAD, true),
                 MC_ERR_INVALID, "too soon for the set of its height");
    cr_assert_eq(rotate_node(&w, &w.admin[2], node2, &fresh, at, false), MC_ERR_BAD_SIGNATURE);
    cr_assert_eq(rotate_node(&w, &w.admin[2], node2, &w.node[3].kp, at, true), MC_ERR_EXISTS,
                 "the new key is an account already");
    cr_assert_eq(rotate_node(&w, &w.admin[2], node2, &fresh, at, true), 0, "%s", mc_err_detail());
    struct mc_keypair other;
    mc_keypair_generate(&other);
    cr_assert_eq(rotate_node(&w, &w.admin[2], node2, &other, at + 1, true), MC_ERR_EXISTS);
    cr_assert(strstr(mc_err_detail(), "already pending (at height 10)"), "%s", mc_err_detail());
    /* Until at - LEAD nothing moves. */
    until(&w, at - MC_GOV_VALSET_LEAD - 1);
    struct mc_state *st = mc_app_state(w.app);
    cr_assert(mc_governance_node_active(st, node2));
    cr_assert(!mc_governance_node_active(st, &fresh.pk));
    until(&w, at - MC_GOV_VALSET_LEAD);
    /* The account moved; the old key is rotated away, its history kept. */
    struct mc_account old, moved;
    cr_assert_eq(mc_identity_get_account(st, node2, &old), 0);
    cr_assert_eq(old.status, MC_ACCOUNT_ROTATED);
    cr_assert_eq(memcmp(old.successor.b, fresh.pk.b, 32), 0);
    cr_assert_eq(mc_identity_get_account(st, &fresh.pk, &moved), 0);
    cr_assert_eq(moved.role, MC_ROLE_NODE);
    cr_assert_eq(moved.org, 2);
    cr_assert(mc_governance_node_active(st, &fresh.pk));
    cr_assert(!mc_governance_node_active(st, node2));
    /* Heights before `at` keep the old key; `at` has the new one, same power. */
    struct mc_gov_valset before = valset_at(&w, at - 1), after = valset_at(&w, at);
    cr_assert_eq(mc_valset_find(&before.vs, &fresh.pk), -1);
    int i = mc_valset_find(&after.vs, &fresh.pk);
    cr_assert_eq(i, mc_valset_find(&before.vs, node2), "same index");
    cr_assert_eq(after.vs.v[i].power, 10);
    cr_assert_eq(after.vs.total_power, before.vs.total_power);
    cr_assert_eq(after.org[i], 2);
    uint64_t pend;
    mc_pubkey o;
    cr_assert_eq(mc_governance_rotation_pending(st, node2, &pend, &o), MC_ERR_NOT_FOUND);
    /* The old key can no longer send. */
    struct mc_gov_change c = {.kind = MC_GOV_SET_PARAM, .param = MC_GOV_PARAM_BLOCK_TXS, .value = 9};
    struct mc_gov_payload pl = {.type = MC_TX_GOV_PROPOSE, .deadline = 40, .activation = 42, .change = c};
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_gov_payload_encode(&b, &pl), 0);
    cr_assert_eq(send(&w, &w.node[2], MC_TX_GOV_PROPOSE, &b), MC_ERR_REVOKED);
    mc_buf_deinit(&b);
    stop(&w);
}
