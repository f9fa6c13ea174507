/* Consortium governance with real node processes on loopback: four
 * validators (one organisation each) admit a fifth organisation by a 2/3
 * vote; its node, refused at first, is admitted once the ledger names it,
 * syncs from genesis across the set change and votes (the chain commits
 * with a founding validator down, which needs its vote); then a founding
 * organisation is removed and its node is dropped and refused at the
 * handshake. Transactions commit throughout, every node agrees on every
 * block hash, and `medchain verify` passes on every node. And an upgrade
 * plan stops the old binary at its height while the next release carries on. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "app/governance_payload.h"
#include "app/identity.h"
#include "base/hex.h"
#include "crypto/keyfile.h"

#define NODES 5
/* port regions (test_cluster.c 0..7, _blobs 8, _lock 11, _s3 12) */
#define REGION_JOIN 13
#define REGION_UPGRADE 14
#define REGION_ROTATE 15
#define REGION_TIMEOUTS 19
#define REGION_STATESYNC 23
#define CHAIN "medchain-gov"

struct net {
    char *dir;
    pid_t pid[NODES];
    int api[NODES], p2p[NODES];
    char url[NODES][64];
    struct mc_keypair admin[NODES + 1]; /* admin[o]: admin of organisation o (1..5) */
    uint64_t nonce[NODES + 1];
    mc_pubkey node_key[NODES];
};

static char *home_of(struct net *c, int i) {
    char h[600];
    snprintf(h, sizeof h, "%s/node%d", c->dir, i);
    return tu_keep(strdup(h));
}

static void put_config(struct net *c, int i, const char *key, json_t *v) {
    char path[700];
    snprintf(path, sizeof path, "%s/config.json", home_of(c, i));
    json_t *cfg = json_load_file(path, 0, NULL);
    cr_assert_not_null(cfg);
    json_object_set_new(cfg, key, v);
    cr_assert_eq(json_dump_file(cfg, path, JSON_INDENT(2)), 0);
    json_decref(cfg);
}

/* Rewrites a plain key file's creation date (as if written that day). */
static void backdate_key(const char *path, const char *date) {
    json_t *k = json_load_file(path, 0, NULL);
    cr_assert_not_null(k, "%s", path);
    json_object_set_new(k, "created", json_string(date));
    char *out;
    cr_assert_eq(tp_run(&out, "chmod 600 %s", path), 0);
    free(out);
    cr_assert_eq(json_dump_file(k, path, JSON_COMPACT), 0);
    json_decref(k);
}

static void net_create(struct net *c, const char *tag, int region) {
    mc_crypto_init();
    memset(c, 0, sizeof *c);
    c->dir = tu_path(tu_tmpdir(tag), "net");
    int api = tp_free_run(NODES, 2 * region), p2p = tp_free_run(NODES, 2 * region + 1);
    char *out;
    cr_assert_eq(tp_run(&out, "%s testnet --validators 4 --dir %s --api-port %d --p2p-port %d "
                              "--chain-id " CHAIN, tp_bin(), c->dir, api, p2p), 0, "%s", out);
    free(out);
    for (int i = 0; i < NODES; i++) {
        c->api[i] = api + i;
        c->p2p[i] = p2p + i;
        snprintf(c->url[i], sizeof c->url[i], "http://127.0.0.1:%d", c->api[i]);
    }
    for (int i = 0; i < 4; i++) {
        char kp[700];
        snprintf(kp, sizeof kp, "%s/admin_key.json", home_of(c, i));
        cr_assert_eq(mc_keyfile_read(&c->admin[i + 1], kp, NULL), 0);
        struct mc_keypair nk;
        snprintf(kp, sizeof kp, "%s/node_key.json", home_of(c, i));
        cr_assert_eq(mc_keyfile_read(&nk, kp, NULL), 0);
        c->node_key[i] = nk.pk;
        put_config(c, i, "empty_block_ms", json_integer(300));
    }
    /* The fifth organisation's admin and node: a home with the same
     * genesis, its own key, and the four founders as peers. */
    mc_keypair_generate(&c->admin[5]);
    char *h4 = home_of(c, 4);
    cr_assert_eq(tp_run(&out, "mkdir -p %s && cp %s/genesis.json %s/ && %s keygen --out %s/node_key.json",
                        h4, home_of(c, 0), h4, tp_bin(), h4), 0, "%s", out);
    free(out);
    char kp[700];
    snprintf(kp, sizeof kp, "%s/node_key.json", h4);
    struct mc_keypair nk;
    cr_assert_eq(mc_keyfile_read(&nk, kp, NULL), 0);
    c->node_key[4] = nk.pk;
    /* The newcomer's key is old: its /metrics says so. */
    backdate_key(kp, "2020-01-01");
    json_t *peers = json_array();
    for (int i = 0; i < 4; i++) {
        char addr[64], hex[65];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", c->p2p[i]);
        mc_hex_encode(hex, c->node_key[i].b, 32);
        json_array_append_new(peers, json_pack("{s:s, s:s}", "addr", addr, "node_key", hex));
    }
    char api_addr[64], p2p_addr[64];
    snprintf(api_addr, sizeof api_addr, "127.0.0.1:%d", c->api[4]);
    snprintf(p2p_addr, sizeof p2p_addr, "127.0.0.1:%d", c->p2p[4]);
    json_t *cfg = json_pack("{s:s, s:s, s:i, s:i, s:o}", "api", api_addr, "p2p", p2p_addr,
                            "block_interval_ms", 100, "empty_block_ms", 300, "peers", peers);
    char path[700];
    snprintf(path, sizeof path, "%s/config.json", h4);
    cr_assert_eq(json_dump_file(cfg, path, JSON_INDENT(2)), 0);
    json_decref(cfg);
}

static char *metrics(struct net *c, int i) {
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", c->url[i]);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    char *body = tu_keep(strdup(r.body));
    tp_resp_free(&r);
    return body;
}

static void start(struct net *c, int i) { c->pid[i] = tp_node_start(home_of(c, i), c->api[i]); }
static void stop(struct net *c, int i) {
    if (c->pid[i] > 0) tp_kill(c->pid[i], SIGTERM);
    c->pid[i] = 0;
}

static json_t *get(struct net *c, int i, const char *path) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", c->url[i], path);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
    tp_resp_free(&r);
    return j;
}

static uint64_t status_u64(struct net *c, int i, const char *field) {
    json_t *j = get(c, i, "/v1/status");
    uint64_t v = j ? (uint64_t)json_integer_value(json_object_get(j, field)) : 0;
    json_decref(j);
    return v;
}

static uint64_t height(struct net *c, int i) { return status_u64(c, i, "height"); }

static bool wait_height(struct net *c, int i, uint64_t h, int seconds) {
    for (int k = 0; k < seconds * 10; k++) {
        if (height(c, i) >= h) return true;
        usleep(100000);
    }
    return false;
}

static char *post_tx(struct net *c, int via, int org, uint16_t type, const struct mc_buf *b) {
    size_t len;
    uint8_t *tx = tu_tx(&len, CHAIN, type, &c->admin[org], ++c->nonce[org], b->data, b->len);
    char url[128];
    snprintf(url, sizeof url, "%s/v1/tx", c->url[via]);
    struct tp_resp r = tp_http("POST", url, tx, len, "application/octet-stream");
    free(tx);
    cr_assert_eq(r.status, 202, "%s via node %d: %s", mc_txtypes_name(type), via, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    char *id = tu_keep(strdup(json_string_value(json_object_get(j, "id"))));
    json_decref(j);
    tp_resp_free(&r);
    return id;
}

static void wait_committed(struct net *c, int i, const char *id, int seconds) {
    char path[128];
    snprintf(path, sizeof path, "/v1/tx/%s", id);
    for (int k = 0; k < seconds * 10; k++) {
        json_t *j = get(c, i, path);
        const char *s = j ? json_string_value(json_object_get(j, "status")) : NULL;
        bool ok = s && strcmp(s, "committed") == 0;
        bool bad = s && strcmp(s, "rejected") == 0;
        char why[256] = "";
        if (bad) snprintf(why, sizeof why, "%s", json_string_value(json_object_get(j, "reason")) ?: "");
        json_decref(j);
        cr_assert(!bad, "transaction %s rejected: %s", id, why);
        if (ok) return;
        usleep(100000);
    }
    cr_assert_fail("transaction %s not committed on node %d within %d s", id, i, seconds);
}

/* Load: an enrollment by organisation 1's admin. */
static char *load_tx(struct net *c, int via) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Governance Auditor");
    struct mc_buf b = {.data = p, .len = pl};
    return post_tx(c, via, 1, MC_TX_ENROLL_MEMBER, &b);
}

/* Proposes through node `via` and has the organisations in `voters`
 * approve; returns the activation height. */
static uint64_t decide(struct net *c, int via, int proposer, const struct mc_gov_change *ch,
                       const int *voters, int nvoters, uint64_t *id_out) {
    uint64_t h = height(c, via);
    struct mc_gov_payload p = {.type = MC_TX_GOV_PROPOSE, .deadline = h + 12, .activation = h + 14,
                               .change = *ch};
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_gov_payload_encode(&b, &p), 0);
    char *id = post_tx(c, via, proposer, MC_TX_GOV_PROPOSE, &b);
    mc_buf_deinit(&b);
    wait_committed(c, via, id, 30);
    json_t *list = get(c, via, "/v1/gov/proposals");
    cr_assert_not_null(list);
    uint64_t pid = (uint64_t)json_integer_value(json_object_get(list, "count"));
    json_decref(list);
    char *last = NULL;
    for (int k = 0; k < nvoters; k++) {
        struct mc_gov_payload v = {.type = MC_TX_GOV_VOTE, .proposal = pid, .approve = true};
        mc_buf_init(&b, 0);
        cr_assert_eq(mc_gov_payload_encode(&b, &v), 0);
        last = post_tx(c, via, voters[k], MC_TX_GOV_VOTE, &b);
        mc_buf_deinit(&b);
        load_tx(c, via);
    }
    wait_committed(c, via, last, 30);
    char path[64];
    snprintf(path, sizeof path, "/v1/gov/proposals/%llu", (unsigned long long)pid);
    json_t *j = get(c, via, path);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "passed");
    cr_assert_eq(json_array_size(json_object_get(j, "votes")), (size_t)nvoters);
    json_decref(j);
    *id_out = pid;
    return p.activation;
}

static void assert_applied(struct net *c, int i, uint64_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/v1/gov/proposals/%llu", (unsigned long long)pid);
    json_t *j = get(c, i, path);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "applied", "%s",
                     json_string_value(json_object_get(j, "note")));
    json_decref(j);
}

static size_t validators_at(struct net *c, int i, uint64_t h) {
    char path[64];
    snprintf(path, sizeof path, "/v1/validators?height=%llu", (unsigned long long)h);
    json_t *j = get(c, i, path);
    cr_assert_not_null(j, "node %d knows the set of height %llu", i, (unsigned long long)h);
    size_t n = json_array_size(json_object_get(j, "validators"));
    json_decref(j);
    return n;
}

static void block_hash(struct net *c, int i, uint64_t h, char out[65]) {
    char path[64];
    snprintf(path, sizeof path, "/v1/block/%llu", (unsigned long long)h);
    json_t *j = get(c, i, path);
    cr_assert_not_null(j, "node %d has block %llu", i, (unsigned long long)h);
    snprintf(out, 65, "%s", json_string_value(json_object_get(j, "hash")));
    json_decref(j);
}

static bool log_has(struct net *c, int i, const char *what) {
    char *out;
    int rc = tp_run(&out, "grep -c '%s' %s/node.log", what, home_of(c, i));
    free(out);
    return rc == 0;
}

Test(cluster_gov, a_fifth_organisation_joins_and_a_founder_leaves, .timeout = 300) {
    struct net c;
    net_create(&c, "gov", REGION_JOIN);
    for (int i = 0; i < 4; i++) start(&c, i);
    cr_assert(wait_height(&c, 0, 2, 30));
    /* Before the vote the fifth node is a stranger: refused. */
    start(&c, 4);
    sleep(2);
    cr_assert_eq(status_u64(&c, 4, "peers"), 0, "nobody admits a node the ledger does not name");
    cr_assert_eq(height(&c, 4), 0);
    /* Key age: node4's key file says 2020-01-01, node0's is new. */
    cr_assert(strstr(metrics(&c, 4), "medchain_node_key_too_old 1\n"), "%s", metrics(&c, 4));
    cr_assert(strstr(metrics(&c, 0), "medchain_node_key_age_days 0\n") ||
              strstr(metrics(&c, 0), "medchain_node_key_age_days 1\n"));
    cr_assert(strstr(metrics(&c, 0), "medchain_node_key_too_old 0\n"));
    cr_assert(log_has(&c, 4, "more than key_max_age_days (365): rotate it"));

    /* 1. The consortium admits Riverside Clinic (3 of 4 approve). */
    struct mc_gov_change add = {.kind = MC_GOV_ADD_ORG, .org_kind = MC_ORG_CLINIC, .key = c.admin[5].pk};
    snprintf(add.name, sizeof add.name, "Riverside Clinic");
    int founders3[] = {1, 2, 3};
    uint64_t pid;
    uint64_t a1 = decide(&c, 0, 1, &add, founders3, 3, &pid);
    cr_assert(wait_height(&c, 0, a1, 60));
    assert_applied(&c, 0, pid);
    json_t *org = get(&c, 1, "/v1/org/5");
    cr_assert_not_null(org, "organisation 5 exists");
    cr_assert_str_eq(json_string_value(json_object_get(org, "status")), "active");
    json_decref(org);

    /* 2. Its admin proposes its node as a validator; 4 of 5 approve. */
    struct mc_gov_change val = {.kind = MC_GOV_ADD_VALIDATOR, .org = 5, .key = c.node_key[4], .power = 10};
    snprintf(val.name, sizeof val.name, "riverside-node");
    int four[] = {5, 1, 2, 3};
    uint64_t a2 = decide(&c, 1, 5, &val, four, 4, &pid);
    cr_assert(wait_height(&c, 1, a2 + 1, 60));
    assert_applied(&c, 1, pid);
    cr_assert_eq(validators_at(&c, 0, a2 + 1), 4, "the set decided at %llu is not in force at +1", (unsigned long long)a2);
    cr_assert_eq(validators_at(&c, 0, a2 + 2), 5);
    /* The node is admitted on its next dial, syncs from genesis across the
     * change and keeps up. */
    uint64_t target = height(&c, 0) + 2;
    cr_assert(wait_height(&c, 4, target, 60), "the new node syncs to %llu (is at %llu)",
              (unsigned long long)target, (unsigned long long)height(&c, 4));
    /* It votes: with a founder down, four of five validators (40 of 50)
     * commit only with its precommits. */
    stop(&c, 3);
    uint64_t h0 = height(&c, 0);
    char *id = load_tx(&c, 0);
    wait_committed(&c, 0, id, 40);
    cr_assert(wait_height(&c, 0, h0 + 3, 40), "the chain commits with the new validator's votes");
    start(&c, 3);

    /* 3. National Medicines Agency (organisation 4, node3) is removed. */
    struct mc_gov_change rm = {.kind = MC_GOV_REMOVE_ORG, .org = 4};
    int voters[] = {1, 2, 3, 5};
    uint64_t a3 = decide(&c, 0, 2, &rm, voters, 4, &pid);
    cr_assert(wait_height(&c, 0, a3 + 3, 60));
    assert_applied(&c, 0, pid);
    cr_assert_eq(validators_at(&c, 0, a3 + 2), 4);
    /* Its node was dropped within a block and is refused when it comes back. */
    stop(&c, 3);
    start(&c, 3);
    sleep(3);
    cr_assert_eq(status_u64(&c, 3, "peers"), 0, "the removed organisation's node is refused");
    char hx[17], what[64];
    mc_hex_encode(hx, c.node_key[3].b, 8);
    snprintf(what, sizeof what, "node key %s... is not in the membership", hx);
    cr_assert(log_has(&c, 0, what), "the refusal of node3 is logged");
    /* The others carry on. */
    id = load_tx(&c, 4);
    for (int i = 0; i < 3; i++) wait_committed(&c, i, id, 40);
    wait_committed(&c, 4, id, 40);
    uint64_t h = height(&c, 0);
    for (int i = 1; i < NODES; i++)
        if (i != 3) cr_assert(wait_height(&c, i, h, 20));
    uint64_t h3 = height(&c, 3);
    cr_assert_geq(h3, a3, "the removed node followed the chain until its removal");
    for (uint64_t k = 1; k <= h; k++) {
        char ref[65], got[65];
        block_hash(&c, 0, k, ref);
        for (int i = 1; i < NODES; i++) {
            if (i == 3 && k > h3) continue;
            block_hash(&c, i, k, got);
            cr_assert_str_eq(got, ref, "node %d disagrees at height %llu", i, (unsigned long long)k);
        }
    }
    /* A light client holding only the genesis follows both changes of
     * validators by their proofs and checks the latest header and a row. */
    {
        char *out;
        cr_assert_eq(tp_run(&out, "%s light state --genesis %s/genesis.json --key 672f6f726773 --node %s",
                            tp_bin(), home_of(&c, 0), c.url[4]), 0, "%s", out);
        cr_assert(strstr(out, "validators: from height") && strstr(out, "row: proven present"), "%s", out);
        const char *second = strstr(out, "validators: from height");
        cr_assert(second && strstr(second + 1, "validators: from height"), "two changes followed: %s", out);
        free(out);
    }
    for (int i = 0; i < NODES; i++) stop(&c, i);
    for (int i = 0; i < NODES; i++) {
        char *out;
        cr_assert_eq(tp_run(&out, "%s verify --home %s", tp_bin(), home_of(&c, i)), 0,
                     "verify on node %d: %s", i, out);
        free(out);
    }
}

/* An upgrade plan stops the old binary before its height, with the
 * version it needs; the next release (build/medchain-next, the same source
 * as version 999.0.0) carries on, and a replaced node resumes where it
 * stopped. */
Test(cluster_gov, an_upgrade_plan_stops_old_binaries_and_new_ones_carry_on, .timeout = 300) {
    cr_assert_eq(access(tp_bin_next(), X_OK), 0, "%s is missing: make builds it (make %s)", tp_bin_next(),
                 "build/medchain-next");
    struct net c;
    net_create(&c, "upgrade", REGION_UPGRADE);
    for (int i = 0; i < 4; i++) start(&c, i);
    cr_assert(wait_height(&c, 0, 2, 30));
    uint64_t u = height(&c, 0) + 26;
    struct mc_gov_change up = {.kind = MC_GOV_UPGRADE, .height = u};
    snprintf(up.name, sizeof up.name, "next release");
    snprintf(up.version, sizeof up.version, "999.0.0");
    int three[] = {1, 2, 3};
    uint64_t pid;
    uint64_t act = decide(&c, 0, 1, &up, three, 3, &pid);
    cr_assert_lt(act, u);
    /* Nodes 2 and 3 move to the next release before the height. */
    for (int i = 2; i < 4; i++) {
        stop(&c, i);
        c.pid[i] = tp_node_start_bin(tp_bin_next(), home_of(&c, i), c.api[i]);
    }
    cr_assert(wait_height(&c, 2, act + 1, 60));
    assert_applied(&c, 2, pid);
    /* Nodes 0 and 1 still run 0.2.0: they stop by themselves before u. */
    for (int i = 0; i < 2; i++) {
        int status = 0;
        cr_assert(tp_wait_exit(c.pid[i], 90, &status), "node %d stops at the upgrade height", i);
        c.pid[i] = 0;
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "and says it failed (status %d)", status);
        char what[160];
        snprintf(what, sizeof what, "requires medchain 999.0.0 from height %llu", (unsigned long long)u);
        cr_assert(log_has(&c, i, what), "node %d names the required version", i);
    }
    /* Two of four cannot commit u: the chain waits at u - 1. */
    sleep(2);
    cr_assert_eq(height(&c, 2), u - 1, "nothing is committed at the upgrade height without a quorum");
    /* Node 0's binary is replaced: it resumes at u and, with 3 of 4, so does the chain. */
    c.pid[0] = tp_node_start_bin(tp_bin_next(), home_of(&c, 0), c.api[0]);
    cr_assert(wait_height(&c, 2, u + 2, 60), "the new release carries on past %llu", (unsigned long long)u);
    c.pid[1] = tp_node_start_bin(tp_bin_next(), home_of(&c, 1), c.api[1]);
    char *id = load_tx(&c, 1);
    for (int i = 0; i < 4; i++) wait_committed(&c, i, id, 40);
    uint64_t h = height(&c, 1);
    for (uint64_t k = 1; k <= h; k++) {
        char ref[65], got[65];
        block_hash(&c, 0, k, ref);
        for (int i = 1; i < 4; i++) {
            if (!wait_height(&c, i, k, 20)) cr_assert_fail("node %d reaches %llu", i, (unsigned long long)k);
            block_hash(&c, i, k, got);
            cr_assert_str_eq(got, ref, "node %d disagrees at height %llu", i, (unsigned long long)k);
        }
    }
    for (int i = 0; i < 4; i++) stop(&c, i);
    for (int i = 0; i < 4; i++) {
        char *out;
        cr_assert_eq(tp_run(&out, "%s verify --home %s", tp_bin_next(), home_of(&c, i)), 0,
                     "verify on node %d: %s", i, out);
        free(out);
    }
}

/* The CLI warns about a key older than the allowed age when it signs with
 * it (the node need not be reachable for the warning). */
Test(cluster_gov, the_cli_warns_about_an_old_key) {
    mc_crypto_init();
    char *dir = tu_tmpdir("oldkey"), *out;
    char *k = tu_path(dir, "old.json");
    cr_assert_eq(tp_run(&out, "%s keygen --out %s", tp_bin(), k), 0, "%s", out);
    free(out);
    int rc = tp_run(&out, "%s gov vote 1 --yes --key %s --node http://127.0.0.1:9", tp_bin(), k);
    cr_assert_neq(rc, 0);
    cr_assert_null(strstr(out, "warning"), "a new key draws no warning: %s", out);
    free(out);
    backdate_key(k, "2021-06-01");
    rc = tp_run(&out, "%s gov vote 1 --yes --key %s --node http://127.0.0.1:9", tp_bin(), k);
    cr_assert_neq(rc, 0, "the node is not there");
    cr_assert(strstr(out, "medchain: warning: sender key") && strstr(out, "days ago, more than 365"), "%s", out);
    free(out);
    rc = tp_run(&out, "MEDCHAIN_KEY_MAX_AGE_DAYS=36500 %s gov vote 1 --yes --key %s --node http://127.0.0.1:9",
                tp_bin(), k);
    cr_assert_null(strstr(out, "warning"), "within the configured age: %s", out);
    free(out);
}

static bool cert_signed_by(struct net *c, int via, uint64_t h, const char *key_hex) {
    char path[64];
    snprintf(path, sizeof path, "/v1/block/%llu", (unsigned long long)h);
    json_t *b = get(c, via, path);
    cr_assert_not_null(b);
    json_t *sigs = json_object_get(json_object_get(b, "commit"), "signatures");
    bool found = false;
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        const char *k = json_string_value(json_object_get(json_array_get(sigs, i), "node_key"));
        if (k && strcmp(k, key_hex) == 0) found = true;
    }
    json_decref(b);
    return found;
}

static void validator_key_at(struct net *c, int via, uint64_t h, int index, char out[65]) {
    char path[64];
    snprintf(path, sizeof path, "/v1/validators?height=%llu", (unsigned long long)h);
    json_t *v = get(c, via, path);
    cr_assert_not_null(v);
    snprintf(out, 65, "%s", json_string_value(json_object_get(json_array_get(json_object_get(v, "validators"),
                                                                              (size_t)index), "node_key")));
    json_decref(v);
}

/* A validator moves to a new key under load, without a restart: its
 * admin's node_rotate names the height, the operator drops the new key
 * into the running node's home. With another validator down, every height
 * needs its precommit, so the chain committing straight through the
 * rotation height shows it signed each one, with the old key below it and
 * the new key from it; no evidence of a double signature appears. */
Test(cluster_gov, a_validator_rotates_its_key_under_load, .timeout = 300) {
    struct net c;
    net_create(&c, "rotate", REGION_ROTATE);
    for (int i = 0; i < 4; i++) start(&c, i);
    cr_assert(wait_height(&c, 0, 2, 30));
    char *h2 = home_of(&c, 2), *out;
    cr_assert_eq(tp_run(&out, "%s keygen --out %s/node_key.next.json", tp_bin(), h2), 0, "%s", out);
    free(out);
    char nk_path[700];
    snprintf(nk_path, sizeof nk_path, "%s/node_key.next.json", h2);
    mc_pubkey next;
    cr_assert_eq(mc_keyfile_read_public(&next, nk_path), 0);
    char old_hex[65], new_hex[65];
    mc_hex_encode(old_hex, c.node_key[2].b, 32);
    mc_hex_encode(new_hex, next.b, 32);
    cr_assert_eq(tp_run(&out, "%s gov rotate-node --node-key %s/node_key.json --new-key %s --key %s/admin_key.json "
                              "--at +14 --node %s", tp_bin(), h2, nk_path, h2, c.url[0]), 0, "%s", out);
    char *at_s = strstr(out, "at: ");
    cr_assert_not_null(at_s, "%s", out);
    uint64_t at = strtoull(at_s + 4, NULL, 10);
    free(out);
    /* node0 goes down: 3 of 4 validators are needed for every height. */
    cr_assert(wait_height(&c, 1, at - 5, 60));
    stop(&c, 0);
    char *last = NULL;
    for (int k = 0; height(&c, 1) < at + 4 && k < 600; k++) {
        last = load_tx(&c, 1);
        usleep(100000);
    }
    wait_committed(&c, 1, last, 40);
    cr_assert_geq(height(&c, 1), at + 4, "the chain committed through the rotation height");
    char key[65];
    validator_key_at(&c, 1, at - 1, 2, key);
    cr_assert_str_eq(key, old_hex, "heights before the rotation keep the old key");
    validator_key_at(&c, 1, at, 2, key);
    cr_assert_str_eq(key, new_hex, "the rotation height names the new key");
    for (uint64_t h = at - 3; h <= at + 3; h++)
        cr_assert(cert_signed_by(&c, 1, h, h < at ? old_hex : new_hex), "node2 signed height %llu with the %s key",
                  (unsigned long long)h, h < at ? "old" : "new");
    json_t *st = get(&c, 2, "/v1/status");
    cr_assert_str_eq(json_string_value(json_object_get(st, "node_key")), new_hex, "node2 now speaks as its new key");
    json_decref(st);
    json_t *ev = get(&c, 1, "/v1/evidence");
    cr_assert_not_null(ev);
    cr_assert_eq(json_array_size(json_object_get(ev, "evidence")), 0, "no double signature");
    json_decref(ev);
    start(&c, 0);
    uint64_t h = height(&c, 1);
    cr_assert(wait_height(&c, 0, h, 40));
    for (int i = 0; i < 4; i++) stop(&c, i);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(tp_run(&out, "%s verify --home %s", tp_bin(), home_of(&c, i)), 0, "verify on node %d: %s", i, out);
        free(out);
    }
}

static uint64_t block_time_ms(struct net *c, int i, uint64_t h) {
    char path[64];
    snprintf(path, sizeof path, "/v1/block/%llu", (unsigned long long)h);
    json_t *j = get(c, i, path);
    cr_assert_not_null(j, "node %d has block %llu", i, (unsigned long long)h);
    json_t *t = json_object_get(json_object_get(j, "header"), "time_ms");
    if (!t) t = json_object_get(j, "time_ms");
    cr_assert(json_is_integer(t), "block %llu has a time", (unsigned long long)h);
    uint64_t v = (uint64_t)json_integer_value(t);
    json_decref(j);
    return v;
}

/* A consensus timeout set by vote paces the rounds of every node from its
 * activation height: with one validator of four down, each height it would
 * propose waits the whole propose timeout before another round commits it,
 * so a gap between block times of at least the new timeout (7 s, where the
 * default is 3 s) shows the nodes use it. /metrics reports it too. */
Test(cluster_gov, a_consensus_timeout_set_by_vote_paces_the_rounds, .timeout = 300) {
    struct net c;
    net_create(&c, "timeouts", REGION_TIMEOUTS);
    for (int i = 0; i < 4; i++) start(&c, i);
    cr_assert(wait_height(&c, 0, 2, 30));
    cr_assert_not_null(strstr(metrics(&c, 0), "medchain_consensus_timeout_ms{step=\"propose\"} 3000\n"),
                       "the default propose timeout first");
    struct mc_gov_change ch = {.kind = MC_GOV_SET_PARAM, .param = MC_GOV_PARAM_TIMEOUT_PROPOSE, .value = 7000};
    int three[] = {1, 2, 3};
    uint64_t pid;
    uint64_t act = decide(&c, 0, 1, &ch, three, 3, &pid);
    cr_assert(wait_height(&c, 0, act + 1, 60));
    assert_applied(&c, 0, pid);
    for (int i = 0; i < 4; i++) {
        cr_assert(wait_height(&c, i, act + 1, 30));
        cr_assert_not_null(strstr(metrics(&c, i), "medchain_consensus_timeout_ms{step=\"propose\"} 7000\n"),
                           "node %d paces its rounds with the ledger's timeout", i);
    }
    stop(&c, 3);
    uint64_t from = height(&c, 0);
    cr_assert(wait_height(&c, 0, from + 6, 120), "three validators of four go on committing");
    uint64_t widest = 0;
    for (uint64_t h = from + 1; h <= from + 6; h++) {
        uint64_t a = block_time_ms(&c, 0, h - 1), b = block_time_ms(&c, 0, h);
        if (b > a && b - a > widest) widest = b - a;
    }
    cr_assert_geq(widest, 6900, "a height proposed by the stopped validator waits the 7 s timeout "
                                "(widest gap between blocks %llu ms)", (unsigned long long)widest);
    for (int i = 0; i < 3; i++) stop(&c, i);
}

/* State sync across a change of validators (docs/STATE.md): the
 * consortium adds a fifth validator, then a founding validator loses its
 * store and restores a snapshot taken after the change. Its light client
 * follows the change by proof from the genesis to certify the snapshot's
 * header (signed by the new set); it then commits with the others, and a
 * light client trusting only the genesis follows the change through it. */
Test(cluster_gov, a_wiped_validator_state_syncs_across_a_change_of_validators, .timeout = 300) {
    struct net c;
    net_create(&c, "gov-ss", REGION_STATESYNC);
    for (int i = 0; i < 4; i++) put_config(&c, i, "snapshot_interval", json_integer(5));
    for (int i = 0; i < 4; i++) start(&c, i);
    cr_assert(wait_height(&c, 0, 2, 30));
    struct mc_gov_change add = {.kind = MC_GOV_ADD_ORG, .org_kind = MC_ORG_CLINIC, .key = c.admin[5].pk};
    snprintf(add.name, sizeof add.name, "Riverside Clinic");
    int founders3[] = {1, 2, 3};
    uint64_t pid;
    uint64_t a1 = decide(&c, 0, 1, &add, founders3, 3, &pid);
    cr_assert(wait_height(&c, 0, a1, 60));
    struct mc_gov_change val = {.kind = MC_GOV_ADD_VALIDATOR, .org = 5, .key = c.node_key[4], .power = 10};
    snprintf(val.name, sizeof val.name, "riverside-node");
    int four[] = {5, 1, 2, 3};
    uint64_t a2 = decide(&c, 1, 5, &val, four, 4, &pid);
    start(&c, 4);
    cr_assert(wait_height(&c, 4, a2 + 8, 90), "the fifth validator joins");
    /* a snapshot signed by the new set */
    uint64_t snap = ((a2 + 2) / 5 + 1) * 5;
    cr_assert(wait_height(&c, 0, snap + 2, 60));
    sleep(1);
    /* node2 loses its store */
    stop(&c, 2);
    char *out;
    cr_assert_eq(tp_run(&out, "rm -rf %s/data %s/snapshots", home_of(&c, 2), home_of(&c, 2)), 0);
    free(out);
    put_config(&c, 2, "state_sync", json_true());
    start(&c, 2);
    uint64_t from = status_u64(&c, 2, "state_synced_from");
    cr_assert_geq(from, snap, "restored a snapshot after the change (%llu)", (unsigned long long)from);
    cr_assert(log_has(&c, 2, "certified the header of height"), "the header was certified");
    /* it votes: with node3 down, 4 of 5 validators commit only with node2 */
    uint64_t h0 = height(&c, 0);
    cr_assert(wait_height(&c, 2, h0, 60));
    stop(&c, 3);
    char *id = load_tx(&c, 2);
    wait_committed(&c, 0, id, 40);
    wait_committed(&c, 2, id, 40);
    uint64_t h = height(&c, 0);
    cr_assert(wait_height(&c, 2, h, 30));
    for (uint64_t k = from + 1; k <= h; k++) {
        char ref[65], got[65];
        block_hash(&c, 0, k, ref);
        block_hash(&c, 2, k, got);
        cr_assert_str_eq(got, ref, "the restored node disagrees at height %llu", (unsigned long long)k);
    }
    cr_assert_eq(tp_run(&out, "%s light state --genesis %s/genesis.json --key 672f6f726773 --node %s", tp_bin(),
                        home_of(&c, 0), c.url[2]), 0, "%s", out);
    cr_assert(strstr(out, "validators: from height") && strstr(out, "row: proven present"),
              "a light client follows the change through the restored node: %s", out);
    free(out);
    for (int i = 0; i < NODES; i++)
        if (c.pid[i] > 0) stop(&c, i);
    cr_assert_eq(tp_run(&out, "%s verify --home %s", tp_bin(), home_of(&c, 2)), 0, "%s", out);
    cr_assert(strstr(out, "state-synced at height"), "%s", out);
    free(out);
}
