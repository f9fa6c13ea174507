/* A consortium of real node processes on loopback (issue 4):
 * agreement under load, kill -9 and catch-up, quorum loss and recovery, a
 * wiped database restored from peers, a node outside the membership
 * refused, a 2/2 partition that commits nothing until healed, and an
 * equivocating validator caught with evidence on the ledger. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/proxy.h"
#include "../support/testutil.h"
#include "app/identity.h"
#include "base/hex.h"
#include "crypto/keyfile.h"

#define NODES 4

struct cluster {
    char *dir;
    int n;
    pid_t pid[NODES + 1];
    int api[NODES + 1], p2p[NODES + 1];
    char url[NODES + 1][64];
    struct mc_keypair admin;  /* St Mary's Hospital (node0's organisation) */
    uint64_t nonce;
    char chain_id[MC_CHAIN_ID_MAX + 1];
};

static void cluster_create(struct cluster *c, const char *tag, int region) {
    mc_crypto_init();
    memset(c, 0, sizeof *c);
    c->n = NODES;
    c->dir = tu_path(tu_tmpdir(tag), "net");
    int api = tp_free_run(NODES, 2 * region), p2p = tp_free_run(NODES, 2 * region + 1);
    char *out;
    int rc = tp_run(&out, "%s testnet --validators %d --dir %s --api-port %d --p2p-port %d "
                    "--chain-id medchain-cluster", tp_bin(), NODES, c->dir, api, p2p);
    cr_assert_eq(rc, 0, "testnet: %s", out);
    free(out);
    for (int i = 0; i < NODES; i++) {
        c->api[i] = api + i;
        c->p2p[i] = p2p + i;
        snprintf(c->url[i], sizeof c->url[i], "http://127.0.0.1:%d", c->api[i]);
    }
    char kp[600];
    snprintf(kp, sizeof kp, "%s/node0/admin_key.json", c->dir);
    cr_assert_eq(mc_keyfile_read(&c->admin, kp, NULL), 0);
    snprintf(c->chain_id, sizeof c->chain_id, "medchain-cluster");
}

static char *home_of(struct cluster *c, int i) {
    char h[600];
    snprintf(h, sizeof h, "%s/node%d", c->dir, i);
    return tu_keep(strdup(h));
}

static void start(struct cluster *c, int i) { c->pid[i] = tp_node_start(home_of(c, i), c->api[i]); }
static void kill9(struct cluster *c, int i) { tp_kill(c->pid[i], SIGKILL); c->pid[i] = 0; }
static void stop_all(struct cluster *c) {
    for (int i = 0; i <= NODES; i++)
        if (c->pid[i] > 0) tp_kill(c->pid[i], SIGTERM);
}

static json_t *get(struct cluster *c, int i, const char *path) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", c->url[i], path);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
    tp_resp_free(&r);
    return j;
}

static uint64_t height(struct cluster *c, int i) {
    json_t *j = get(c, i, "/v1/status");
    uint64_t h = j ? (uint64_t)json_integer_value(json_object_get(j, "height")) : 0;
    json_decref(j);
    return h;
}

static bool wait_height(struct cluster *c, int i, uint64_t h, int seconds) {
    for (int k = 0; k < seconds * 20; k++) {
        if (height(c, i) >= h) return true;
        usleep(50000);
    }
    return false;
}

static void block_hash(struct cluster *c, int i, uint64_t h, char out[65]) {
    char path[64];
    snprintf(path, sizeof path, "/v1/block/%llu", (unsigned long long)h);
    json_t *j = get(c, i, path);
    cr_assert_not_null(j, "node %d has block %llu", i, (unsigned long long)h);
    snprintf(out, 65, "%s", json_string_value(json_object_get(j, "hash")));
    json_decref(j);
}

/* Every running node holds the same blocks 1..h. */
static void assert_agree(struct cluster *c, uint64_t h) {
    for (uint64_t k = 1; k <= h; k++) {
        char ref[65] = "";
        for (int i = 0; i < NODES; i++) {
            if (c->pid[i] <= 0) continue;
            char got[65];
            block_hash(c, i, k, got);
            if (!ref[0]) memcpy(ref, got, 65);
            cr_assert_str_eq(got, ref, "node %d disagrees at height %llu", i, (unsigned long long)k);
        }
    }
}

/* Submits an enrollment through node i; returns its id (kept). */
static char *submit(struct cluster *c, int i) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Cluster Auditor");
    size_t len;
    uint8_t *tx = tu_tx(&len, c->chain_id, MC_TX_ENROLL_MEMBER, &c->admin, ++c->nonce, p, pl);
    char url[128];
    snprintf(url, sizeof url, "%s/v1/tx", c->url[i]);
    struct tp_resp r = tp_http("POST", url, tx, len, "application/octet-stream");
    cr_assert_eq(r.status, 202, "submit via node %d: %s", i, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    char *id = tu_keep(strdup(json_string_value(json_object_get(j, "id"))));
    json_decref(j);
    tp_resp_free(&r);
    return id;
}

static bool committed_on(struct cluster *c, int i, const char *id) {
    char path[128];
    snprintf(path, sizeof path, "/v1/tx/%s", id);
    json_t *j = get(c, i, path);
    const char *s = j ? json_string_value(json_object_get(j, "status")) : NULL;
    bool ok = s && strcmp(s, "committed") == 0;
    json_decref(j);
    return ok;
}

static void wait_committed(struct cluster *c, int i, const char *id, int seconds) {
    for (int k = 0; k < seconds * 20; k++) {
        if (committed_on(c, i, id)) return;
        usleep(50000);
    }
    cr_assert_fail("transaction %s not committed on node %d within %d s", id, i, seconds);
}

Test(cluster, four_validators_agree_under_load, .timeout = 90) {
    struct cluster c;
    cluster_create(&c, "agree", 0);
    for (int i = 0; i < NODES; i++) start(&c, i);
    char *last = NULL;
    for (int k = 0; k < 40; k++) last = submit(&c, k % NODES);
    for (int i = 0; i < NODES; i++) wait_committed(&c, i, last, 30);
    uint64_t h = height(&c, 0);
    for (int i = 1; i < NODES; i++) cr_assert(wait_height(&c, i, h, 10));
    assert_agree(&c, h);
    json_t *st = get(&c, 1, "/v1/status");
    cr_assert_eq(json_integer_value(json_object_get(st, "peers")), NODES - 1);
    cr_assert_eq(json_integer_value(json_object_get(st, "log_size")), 40);
    json_decref(st);
    /* metrics are served in Prometheus form */
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", c.url[2]);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "medchain_height ") && strstr(r.body, "medchain_commit_latency_seconds_bucket"));
    tp_resp_free(&r);
    stop_all(&c);
}

Test(cluster, kill9_a_validator_then_it_catches_up, .timeout = 120) {
    struct cluster c;
    cluster_create(&c, "kill1", 1);
    for (int i = 0; i < NODES; i++) start(&c, i);
    int victims[2] = {3, 1};
    for (int v = 0; v < 2; v++) {
        int victim = victims[v], live = victim == 0 ? 1 : 0;
        for (int k = 0; k < 5; k++) submit(&c, live);
        kill9(&c, victim);
        uint64_t h0 = height(&c, live);
        char *id = NULL;
        for (int k = 0; k < 10; k++) id = submit(&c, live);
        /* the other three keep committing */
        wait_committed(&c, live, id, 30);
        cr_assert(wait_height(&c, live, h0 + 2, 30), "three validators commit without node %d", victim);
        start(&c, victim);
        uint64_t h1 = height(&c, live);
        cr_assert(wait_height(&c, victim, h1, 30), "node %d catches up to %llu (is at %llu)", victim,
                  (unsigned long long)h1, (unsigned long long)height(&c, victim));
        wait_committed(&c, victim, id, 10);
    }
    /* and it takes part again: a transaction through it commits everywhere */
    char *id = submit(&c, 1);
    for (int i = 0; i < NODES; i++) wait_committed(&c, i, id, 30);
    assert_agree(&c, height(&c, 0) < height(&c, 1) ? height(&c, 0) : height(&c, 1));
    stop_all(&c);
}

Test(cluster, two_of_four_down_stops_commits_until_one_returns, .timeout = 120) {
    struct cluster c;
    cluster_create(&c, "kill2", 2);
    for (int i = 0; i < NODES; i++) start(&c, i);
    char *before = NULL;
    for (int k = 0; k < 10; k++) before = submit(&c, 0);
    wait_committed(&c, 0, before, 30);
    kill9(&c, 2);
    kill9(&c, 3);
    sleep(1);
    uint64_t h0 = height(&c, 0);
    char *during = submit(&c, 0);
    sleep(5);
    cr_assert_eq(height(&c, 0), h0, "nothing commits without a quorum");
    cr_assert_eq(height(&c, 1), h0);
    cr_assert_not(committed_on(&c, 0, during));
    assert_agree(&c, h0);
    start(&c, 2);
    wait_committed(&c, 0, during, 40);
    wait_committed(&c, 2, before, 20);
    cr_assert(committed_on(&c, 1, before), "nothing committed before is lost");
    assert_agree(&c, height(&c, 2));
    stop_all(&c);
}

Test(cluster, wiped_database_is_restored_from_peers, .timeout = 120) {
    struct cluster c;
    cluster_create(&c, "wipe", 3);
    for (int i = 0; i < NODES; i++) start(&c, i);
    char *id = NULL;
    for (int k = 0; k < 20; k++) id = submit(&c, k % 3);
    wait_committed(&c, 3, id, 30);
    kill9(&c, 3);
    char *out;
    cr_assert_eq(tp_run(&out, "rm -rf %s/data/*", home_of(&c, 3)), 0);
    free(out);
    start(&c, 3);
    uint64_t h = height(&c, 0);
    cr_assert(wait_height(&c, 3, h, 40), "the wiped node restores itself from its peers");
    cr_assert(committed_on(&c, 3, id));
    assert_agree(&c, h);
    stop_all(&c);
    cr_assert_eq(tp_run(&out, "%s verify --home %s", tp_bin(), home_of(&c, 3)), 0, "%s", out);
    free(out);
}

Test(cluster, a_key_outside_the_membership_cannot_connect, .timeout = 90) {
    struct cluster c;
    cluster_create(&c, "intruder", 4);
    for (int i = 0; i < 3; i++) start(&c, i);
    /* an impostor: node3's home and ports, but its own key */
    char *home = home_of(&c, 3), *out;
    cr_assert_eq(tp_run(&out, "rm %s/node_key.json && %s keygen --out %s/node_key.json", home, tp_bin(), home), 0, "%s", out);
    free(out);
    start(&c, 3);
    sleep(3);
    json_t *st = get(&c, 3, "/v1/status");
    cr_assert_eq(json_integer_value(json_object_get(st, "peers")), 0, "nobody accepts the impostor");
    cr_assert_eq(json_integer_value(json_object_get(st, "height")), 0, "it learns no blocks");
    json_decref(st);
    st = get(&c, 0, "/v1/status");
    cr_assert_eq(json_integer_value(json_object_get(st, "peers")), 2, "members see each other only");
    json_decref(st);
    char log[700];
    snprintf(log, sizeof log, "%s/node.log", home_of(&c, 0));
    cr_assert_eq(tp_run(&out, "grep -c 'not in the membership' %s", log), 0, "refusal logged: %s", out);
    free(out);
    /* the three members still commit (3 of 4 is a quorum) */
    char *id = submit(&c, 1);
    wait_committed(&c, 0, id, 30);
    stop_all(&c);
}

/* Rewrites every node's peer addresses to go through the proxy, link
 * (i -> j) on its own port. */
static void route_through_proxy(struct cluster *c, struct tproxy *px, int links[NODES][NODES]) {
    for (int i = 0; i < NODES; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/config.json", home_of(c, i));
        json_t *cfg = json_load_file(path, 0, NULL);
        json_t *peers = json_object_get(cfg, "peers");
        size_t k;
        json_t *pe;
        json_array_foreach(peers, k, pe) {
            const char *addr = json_string_value(json_object_get(pe, "addr"));
            int port = atoi(strrchr(addr, ':') + 1);
            int j = port - c->p2p[0];
            links[i][j] = tproxy_link(px, (uint16_t)port);
            char na[64];
            snprintf(na, sizeof na, "127.0.0.1:%d", links[i][j]);
            json_object_set_new(pe, "addr", json_string(na));
        }
        cr_assert_eq(json_dump_file(cfg, path, JSON_INDENT(2)), 0);
        json_decref(cfg);
    }
}

static void cut_between(struct tproxy *px, int links[NODES][NODES], const int *ga, const int *gb,
                        bool cut) {
    for (int x = 0; x < 2; x++)
        for (int y = 0; y < 2; y++) {
            tproxy_cut(px, links[ga[x]][gb[y]], cut);
            tproxy_cut(px, links[gb[y]][ga[x]], cut);
        }
}

Test(cluster, partition_two_two_commits_nothing_until_healed, .timeout = 120) {
    struct cluster c;
    cluster_create(&c, "partition", 5);
    struct tproxy *px = tproxy_start();
    int links[NODES][NODES] = {{0}};
    route_through_proxy(&c, px, links);
    for (int i = 0; i < NODES; i++) start(&c, i);
    char *id = submit(&c, 0);
    for (int i = 0; i < NODES; i++) wait_committed(&c, i, id, 30);
    int ga[2] = {0, 1}, gb[2] = {2, 3};
    cut_between(px, links, ga, gb, true);
    sleep(2);
    uint64_t h[NODES];
    for (int i = 0; i < NODES; i++) h[i] = height(&c, i);
    char *during = submit(&c, 0);
    submit(&c, 2);
    sleep(5);
    for (int i = 0; i < NODES; i++)
        cr_assert(height(&c, i) <= h[i] + 1, "node %d commits during the partition", i);
    cr_assert_not(committed_on(&c, 0, during));
    cut_between(px, links, ga, gb, false);
    for (int i = 0; i < NODES; i++) wait_committed(&c, i, during, 60);
    uint64_t top = height(&c, 0);
    for (int i = 1; i < NODES; i++) if (height(&c, i) < top) top = height(&c, i);
    assert_agree(&c, top);
    stop_all(&c);
    tproxy_stop(px);
}

Test(cluster, an_equivocating_validator_is_caught, .timeout = 120) {
    const char *evil = getenv("MEDCHAIN_EQUIVOCATOR");
    if (!evil) cr_skip_test("MEDCHAIN_EQUIVOCATOR not set (run through make test)");
    struct cluster c;
    cluster_create(&c, "equivocate", 6);
    for (int i = 0; i < 3; i++) start(&c, i);
    setenv("MEDCHAIN_TEST_EQUIVOCATE", "1", 1);
    setenv("MEDCHAIN_BIN", evil, 1);
    start(&c, 3);
    unsetenv("MEDCHAIN_TEST_EQUIVOCATE");
    json_t *ev = NULL;
    for (int k = 0; k < 600; k++) {
        json_decref(ev);
        ev = get(&c, 0, "/v1/evidence");
        if (ev && json_array_size(json_object_get(ev, "evidence")) > 0) break;
        usleep(50000);
    }
    json_t *list = json_object_get(ev, "evidence");
    cr_assert_gt(json_array_size(list), 0, "evidence is recorded on the ledger");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(list, 0), "validator")), 3,
                 "it names the equivocator");
    json_decref(ev);
    /* honest nodes are unaffected: they commit and agree */
    char *id = submit(&c, 0);
    for (int i = 0; i < 3; i++) wait_committed(&c, i, id, 30);
    uint64_t top = height(&c, 0) < height(&c, 1) ? height(&c, 0) : height(&c, 1);
    for (uint64_t k = 1; k <= top; k++) {
        char a[65], b[65], d[65];
        block_hash(&c, 0, k, a);
        block_hash(&c, 1, k, b);
        block_hash(&c, 2, k, d);
        cr_assert_str_eq(a, b);
        cr_assert_str_eq(a, d);
    }
    stop_all(&c);
}

/* A member that serves a bad block during sync is dropped. The "peer" is
 * this test itself: node3's key on the transport, claiming to be ahead and
 * answering GET_BLOCK with a block whose certificate holds one signature
 * out of four. */
#include <uv.h>

#include "chain/block.h"
#include "net/transport.h"
#include "node/wire.h"

struct fake {
    struct mc_net *net;
    struct mc_keypair key;
    struct cluster *c;
    int ups, downs, asked;
};

static bool fake_member(void *ctx, const mc_pubkey *k) { return true; }

static void fake_msg(void *ctx, const mc_pubkey *from, const uint8_t *m, size_t len) {
    struct fake *f = ctx;
    struct mc_wire_msg w;
    if (mc_wire_decode(&w, m, len) != 0 || w.type != MC_WIRE_GET_BLOCK) return;
    f->asked++;
    struct mc_header h;
    memset(&h, 0, sizeof h);
    snprintf(h.chain_id, sizeof h.chain_id, "%s", f->c->chain_id);
    h.height = w.height;
    h.time_ms = 2000000000000ULL;
    h.proposer = f->key.pk;
    struct mc_buf hb, body, cert, out;
    mc_buf_init(&hb, 0);
    mc_buf_init(&body, 0);
    mc_buf_init(&cert, 0);
    mc_buf_init(&out, 0);
    mc_header_encode(&hb, &h);
    mc_block_body_encode(&body, NULL, 0, NULL);
    mc_hash hash;
    mc_header_hash(&h, &hash);
    struct mc_vote v = {.type = MC_VOTE_PRECOMMIT, .height = w.height, .has_block = true,
                        .block_hash = hash, .validator = 3};
    mc_vote_sign(&v, &f->key, f->c->chain_id);
    struct mc_commit cm;
    mc_commit_init(&cm, w.height, 0, &hash);
    if (mc_commit_add(&cm, &v) == 0) mc_commit_encode(&cert, &cm);
    struct mc_wire_block blk = {hb.data, hb.len, body.data, body.len};
    mc_wire_encode_block(&out, w.height, &blk, cert.data, cert.len);
    if (mc_net_send(f->net, from, out.data, out.len) != 0) f->asked += 100;
    mc_buf_deinit(&hb);
    mc_buf_deinit(&body);
    mc_buf_deinit(&cert);
    mc_buf_deinit(&out);
}

static void fake_peer(void *ctx, const mc_pubkey *k, bool up) {
    struct fake *f = ctx;
    if (!up) {
        f->downs++;
        return;
    }
    f->ups++;
    mc_hash any;
    memset(any.b, 0x42, 32);
    struct mc_buf st;
    mc_buf_init(&st, 0);
    mc_wire_encode_status(&st, 50, &any); /* "I am far ahead" */
    if (mc_net_send(f->net, k, st.data, st.len) != 0) f->asked += 100;
    mc_buf_deinit(&st);
}

Test(cluster, a_peer_serving_a_bad_block_is_dropped, .timeout = 60) {
    struct cluster c;
    cluster_create(&c, "badblock", 7);
    start(&c, 0); /* alone: it cannot commit, so it wants blocks from peers */
    struct fake f = {.c = &c};
    char kp[700];
    snprintf(kp, sizeof kp, "%s/node_key.json", home_of(&c, 3));
    cr_assert_eq(mc_keyfile_read(&f.key, kp, NULL), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct mc_net_config cfg = {.chain_id = c.chain_id, .node_key = &f.key,
                                .is_member = fake_member, .on_message = fake_msg,
                                .on_peer = fake_peer, .ctx = &f};
    cr_assert_eq(mc_net_start(&f.net, &loop, &cfg), 0);
    cr_assert_eq(mc_net_dial(f.net, "127.0.0.1", (uint16_t)c.p2p[0]), 0);
    for (int i = 0; i < 2000 && !f.asked; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(5000);
    }
    cr_assert_gt(f.ups, 0, "the fake member connected");
    cr_assert_gt(f.asked, 0, "the node asked it for a block");
    cr_assert_lt(f.asked, 100);
    /* the node drops it: its peer count falls back to zero */
    int64_t peers = 1;
    for (int i = 0; i < 200 && peers != 0; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        json_t *st = get(&c, 0, "/v1/status");
        peers = json_integer_value(json_object_get(st, "peers"));
        json_decref(st);
        usleep(10000);
    }
    cr_assert_eq(peers, 0, "the node dropped the peer that served a bad block");
    cr_assert_eq(height(&c, 0), 0, "the bad block was not stored");
    char *out;
    char log[700];
    snprintf(log, sizeof log, "%s/node.log", home_of(&c, 0));
    cr_assert_eq(tp_run(&out, "grep -c 'served a bad block' %s", log), 0, "%s", out);
    free(out);
    mc_net_stop(f.net);
    uv_run(&loop, UV_RUN_DEFAULT); /* runs the close callbacks */
    cr_assert_eq(uv_loop_close(&loop), 0);
    stop_all(&c);
}

/* A backup of a running validator taken while a load runs restores (every
 * file checked against its manifest, the chain verified) into a new home;
 * started there, the node catches up from its peers and agrees with them,
 * and every transaction reported committed before the backup is in it. */
Test(cluster, a_backup_under_load_restores_verified_and_rejoins, .timeout = 150) {
    struct cluster c;
    cluster_create(&c, "backup", 9);
    for (int i = 0; i < NODES; i++) start(&c, i);
    char *ids[30];
    for (int k = 0; k < 30; k++) ids[k] = submit(&c, k % NODES);
    for (int k = 0; k < 30; k++) wait_committed(&c, 3, ids[k], 30);
    /* the load: clinicians registering patients through nodes 0 and 3 */
    char *out;
    pid_t load = fork();
    cr_assert_geq(load, 0);
    if (load == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "%s load --key %s/node0/admin_key.json --rate 40 --duration 6 --node %s --node %s "
                 "> %s/load.out 2>&1", tp_bin(), c.dir, c.url[0], c.url[3], c.dir);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    sleep(3);
    uint64_t before = height(&c, 3);
    cr_assert_eq(tp_run(&out, "%s backup --home %s --out %s/backup3", tp_bin(), home_of(&c, 3), c.dir), 0, "%s", out);
    cr_assert(strstr(out, "node_key: included"), "%s", out);
    free(out);
    int status;
    cr_assert_eq(waitpid(load, &status, 0), load);
    kill9(&c, 3);
    /* the machine is lost: a new home from the backup */
    cr_assert_eq(tp_run(&out, "rm -rf %s", home_of(&c, 3)), 0);
    free(out);
    /* a damaged backup is refused, writing nothing */
    cr_assert_eq(tp_run(&out, "cp -r %s/backup3 %s/backup-bad && printf x >> %s/backup-bad/genesis.json",
                        c.dir, c.dir, c.dir), 0);
    free(out);
    cr_assert_eq(tp_run(&out, "%s restore --from %s/backup-bad --home %s", tp_bin(), c.dir, home_of(&c, 3)), 1, "%s", out);
    cr_assert(strstr(out, "does not match its manifest"), "%s", out);
    free(out);
    cr_assert_eq(tp_run(&out, "test ! -e %s", home_of(&c, 3)), 0, "a refused restore writes no home");
    free(out);
    cr_assert_eq(tp_run(&out, "%s restore --from %s/backup3 --home %s", tp_bin(), c.dir, home_of(&c, 3)), 0, "%s", out);
    cr_assert(strstr(out, "verified: "), "%s", out);
    uint64_t restored = 0;
    const char *hl = strstr(out, "height: ");
    cr_assert_not_null(hl);
    restored = strtoull(hl + 8, NULL, 10);
    cr_assert_geq(restored, before, "the backup holds at least what was committed when it started");
    free(out);
    start(&c, 3);
    uint64_t h = height(&c, 0);
    cr_assert(wait_height(&c, 3, h, 40), "the restored node catches up from its peers");
    for (int k = 0; k < 30; k++) cr_assert(committed_on(&c, 3, ids[k]), "transaction %d kept", k);
    assert_agree(&c, h);
    cr_assert(wait_height(&c, 3, h + 3, 30), "it goes on committing with the others");
    assert_agree(&c, h + 3);
    stop_all(&c);
    cr_assert_eq(tp_run(&out, "%s verify --home %s", tp_bin(), home_of(&c, 3)), 0, "%s", out);
    free(out);
}
