/* State sync between real node processes (docs/STATE.md, "Snapshots and
 * state sync"): three validators of four write snapshots; the fourth, an
 * empty home with "state_sync": true, restores one, then agrees with the
 * others on every later block (so on every later state root) and helps
 * them commit. A peer serving corrupted chunks is caught and another
 * peer's chunk taken; a snapshot whose manifest names another state root
 * than the certified header's is refused (the older one is restored); with
 * no snapshot anywhere the node falls back to block sync and says so. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "app/identity.h"
#include "crypto/keyfile.h"

#define NODES 4
#define REGION_RESTORE 20 /* port regions of this file (others use 0..15) */
#define REGION_TAMPER 21
#define REGION_NONE 22

struct net {
    char *dir;
    pid_t pid[NODES];
    int api[NODES];
    char url[NODES][64];
    struct mc_keypair admin;
    uint64_t nonce;
    const char *bin[NODES]; /* the binary a node runs; NULL: the one under test */
};

static struct net *live;

static void fini(void) {
    if (!live) return;
    for (int i = 0; i < NODES; i++)
        if (live->pid[i] > 0) tp_kill(live->pid[i], SIGKILL);
}

static char *home_of(struct net *c, int i) {
    char h[600];
    snprintf(h, sizeof h, "%s/node%d", c->dir, i);
    return tu_keep(strdup(h));
}

static void config_set(struct net *c, int i, const char *key, json_t *v) {
    char path[700];
    snprintf(path, sizeof path, "%s/config.json", home_of(c, i));
    json_t *cfg = json_load_file(path, 0, NULL);
    cr_assert_not_null(cfg);
    json_object_set_new(cfg, key, v);
    cr_assert_eq(json_dump_file(cfg, path, JSON_INDENT(2)), 0);
    json_decref(cfg);
}

static void net_create(struct net *c, const char *tag, int region) {
    mc_crypto_init();
    memset(c, 0, sizeof *c);
    live = c;
    c->dir = tu_path(tu_tmpdir(tag), "net");
    int api = tp_free_run(NODES, 2 * region), p2p = tp_free_run(NODES, 2 * region + 1);
    char *out;
    int rc = tp_run(&out, "%s testnet --validators %d --dir %s --api-port %d --p2p-port %d "
                    "--chain-id medchain-statesync", tp_bin(), NODES, c->dir, api, p2p);
    cr_assert_eq(rc, 0, "testnet: %s", out);
    free(out);
    for (int i = 0; i < NODES; i++) {
        c->api[i] = api + i;
        snprintf(c->url[i], sizeof c->url[i], "http://127.0.0.1:%d", c->api[i]);
    }
    char kp[700];
    snprintf(kp, sizeof kp, "%s/node0/admin_key.json", c->dir);
    cr_assert_eq(mc_keyfile_read(&c->admin, kp, NULL), 0);
}

static void start(struct net *c, int i) {
    c->pid[i] = tp_node_start_bin(c->bin[i] ? c->bin[i] : tp_bin(), home_of(c, i), c->api[i]);
}

/* A build whose snapshot server changes a byte of every chunk it sends (a
 * dishonest peer; src/node/snapshot.c, MC_TEST_CORRUPT_SNAPSHOTS), built by
 * make test and named by $MEDCHAIN_BIN_CORRUPT_SNAPSHOTS. */
static const char *corrupt_bin(void) {
    const char *b = getenv("MEDCHAIN_BIN_CORRUPT_SNAPSHOTS");
    cr_assert(b && access(b, X_OK) == 0, "MEDCHAIN_BIN_CORRUPT_SNAPSHOTS names the corrupting build (make test builds it)");
    return b;
}

static void stop(struct net *c, int i) {
    tp_kill(c->pid[i], SIGTERM); /* waits for it */
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

static uint64_t height(struct net *c, int i) {
    json_t *j = get(c, i, "/v1/status");
    uint64_t h = j ? (uint64_t)json_integer_value(json_object_get(j, "height")) : 0;
    json_decref(j);
    return h;
}

static void wait_height(struct net *c, int i, uint64_t h, int seconds) {
    for (int k = 0; k < seconds * 20; k++) {
        if (height(c, i) >= h) return;
        usleep(50000);
    }
    cr_assert_fail("node %d did not reach height %llu (at %llu)", i, (unsigned long long)h,
                   (unsigned long long)height(c, i));
}

static void submit(struct net *c, int i) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Sync Auditor");
    size_t len;
    uint8_t *tx = tu_tx(&len, "medchain-statesync", MC_TX_ENROLL_MEMBER, &c->admin, ++c->nonce, p, pl);
    char url[128];
    snprintf(url, sizeof url, "%s/v1/tx", c->url[i]);
    struct tp_resp r = tp_http("POST", url, tx, len, "application/octet-stream");
    cr_assert_eq(r.status, 202, "submit via node %d: %s", i, r.body);
    tp_resp_free(&r);
}

/* Snapshots (directories of 20 digits) in node i's home. */
static int snapshots_on(struct net *c, int i, uint64_t *latest) {
    char p[700];
    snprintf(p, sizeof p, "%s/snapshots", home_of(c, i));
    DIR *d = opendir(p);
    int n = 0;
    if (latest) *latest = 0;
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strlen(e->d_name) == 20 && strspn(e->d_name, "0123456789") == 20) {
            n++;
            uint64_t h = strtoull(e->d_name, NULL, 10);
            if (latest && h > *latest) *latest = h;
        }
    closedir(d);
    return n;
}

static void wait_snapshots(struct net *c, int i, int want) {
    for (int k = 0; k < 600 && snapshots_on(c, i, NULL) < want; k++) usleep(50000);
    cr_assert_geq(snapshots_on(c, i, NULL), want, "node %d wrote %d snapshots", i, want);
}

static char *node_log(struct net *c, int i) {
    char p[700];
    snprintf(p, sizeof p, "%s/node.log", home_of(c, i));
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f);
    char *buf = calloc(1, 4 << 20);
    size_t n = fread(buf, 1, (4 << 20) - 1, f);
    buf[n] = 0;
    fclose(f);
    return tu_keep(buf);
}

static void block_hash(struct net *c, int i, uint64_t h, char out[65], char state[65]) {
    char path[64];
    snprintf(path, sizeof path, "/v1/block/%llu", (unsigned long long)h);
    json_t *j = get(c, i, path);
    cr_assert_not_null(j, "node %d has block %llu", i, (unsigned long long)h);
    snprintf(out, 65, "%s", json_string_value(json_object_get(j, "hash")));
    const char *sh = json_string_value(json_object_get(json_object_get(j, "header"), "state_hash"));
    snprintf(state, 65, "%s", sh ? sh : "");
    json_decref(j);
}

static uint64_t synced_from(struct net *c, int i) {
    json_t *j = get(c, i, "/v1/status");
    cr_assert_not_null(j);
    json_t *v = json_object_get(j, "state_synced_from");
    cr_assert_not_null(v, "the status tells whether the node state-synced");
    uint64_t h = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    json_decref(j);
    return h;
}

/* Nodes 0..2 with snapshots every 5 heights, a few transactions, until
 * each holds `snaps` snapshots. */
static void grow(struct net *c, int snaps) {
    for (int i = 0; i < 3; i++) config_set(c, i, "snapshot_interval", json_integer(5));
    for (int i = 0; i < 3; i++) start(c, i);
    for (int k = 0; k < 12; k++) submit(c, k % 3);
    wait_height(c, 0, 5ull * (uint64_t)snaps + 1, 90);
    for (int i = 0; i < 3; i++) wait_snapshots(c, i, snaps);
}

/* The restored node agrees with the others on every block from its
 * snapshot on, and with them commits new ones (its vote is needed once
 * another validator stops). */
static void assert_agrees_after(struct net *c, uint64_t from) {
    for (int k = 0; k < 6; k++) submit(c, 3);
    uint64_t top = height(c, 0) + 3;
    wait_height(c, 3, top, 60);
    stop(c, 2); /* 3 of 4 validators left: node3's votes are needed */
    submit(c, 3);
    uint64_t more = height(c, 0) + 3;
    wait_height(c, 0, more, 60);
    wait_height(c, 3, more, 60);
    for (uint64_t h = from + 1; h <= more; h++) {
        char ref[65], rs[65], got[65], gs[65];
        block_hash(c, 0, h, ref, rs);
        block_hash(c, 3, h, got, gs);
        cr_assert_str_eq(got, ref, "the restored node disagrees at height %llu", (unsigned long long)h);
        cr_assert_str_eq(gs, rs, "state roots differ at height %llu", (unsigned long long)h);
        cr_assert(rs[0], "blocks carry their state root");
    }
    /* proofs of transactions committed since are served (the log goes on
     * from the frontier the snapshot held) and are the same as node0's */
    int proven = 0;
    for (uint64_t h = from + 1; h <= more && !proven; h++) {
        char bp[64];
        snprintf(bp, sizeof bp, "/v1/block/%llu", (unsigned long long)h);
        json_t *blk = get(c, 3, bp);
        cr_assert_not_null(blk);
        json_t *txs = json_object_get(blk, "txs");
        if (json_array_size(txs) > 0) {
            char pp[128];
            snprintf(pp, sizeof pp, "/v1/proof/%s", json_string_value(json_array_get(txs, 0)));
            json_t *p3 = get(c, 3, pp), *p0 = get(c, 0, pp);
            cr_assert_not_null(p3, "the restored node proves a transaction committed after its snapshot");
            cr_assert_not_null(p0);
            json_t *k3 = json_pack("{s:O, s:O, s:O}", "block", json_object_get(p3, "block"), "leaf_index",
                                   json_object_get(p3, "leaf_index"), "leaf_hash", json_object_get(p3, "leaf_hash"));
            json_t *k0 = json_pack("{s:O, s:O, s:O}", "block", json_object_get(p0, "block"), "leaf_index",
                                   json_object_get(p0, "leaf_index"), "leaf_hash", json_object_get(p0, "leaf_hash"));
            cr_assert_gt(json_array_size(json_object_get(p3, "audit_path")) + json_integer_value(json_object_get(p3, "tree_size")), 1);
            char *a3 = json_dumps(k3, JSON_SORT_KEYS | JSON_COMPACT);
            char *a0 = json_dumps(k0, JSON_SORT_KEYS | JSON_COMPACT);
            json_decref(k3);
            json_decref(k0);
            cr_assert(a3 && a0 && strcmp(a3, a0) == 0, "the same log proof: %s vs %s", a3, a0);
            free(a3);
            free(a0);
            json_decref(p3);
            json_decref(p0);
            proven = 1;
        }
        json_decref(blk);
    }
    cr_assert(proven, "a transaction was committed after the snapshot");
    /* blocks below the snapshot are not held and not served */
    char path[64];
    snprintf(path, sizeof path, "/v1/block/%llu", (unsigned long long)(from - 1));
    json_t *j = get(c, 3, path);
    cr_assert_null(j, "a block below the snapshot is not served");
    char url[256];
    snprintf(url, sizeof url, "%s%s", c->url[3], path);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 404);
    cr_assert(strstr(r.body, "state-synced at height"), "it says why: %s", r.body);
    tp_resp_free(&r);
    /* a log consistency proof from a height it does not hold: refused, saying why */
    snprintf(url, sizeof url, "%s/v1/consistency?first=1&second=%llu", c->url[3], (unsigned long long)more);
    r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    cr_assert(strstr(r.body, "state-synced at height"), "%s", r.body);
    tp_resp_free(&r);
    /* the snapshot's own block: header and certificate only */
    snprintf(url, sizeof url, "%s/v1/block/%llu", c->url[3], (unsigned long long)from);
    r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert(r.status == 200 || r.status == 404, "%d %s", r.status, r.body);
    if (r.status == 404) cr_assert(strstr(r.body, "not its transactions"), "%s", r.body);
    tp_resp_free(&r);
}

static void verify_says_synced(struct net *c, uint64_t from) {
    char *out;
    int rc = tp_run(&out, "%s verify --home %s", tp_bin(), home_of(c, 3));
    cr_assert_eq(rc, 0, "verify of the state-synced node: %s", out);
    char want[128];
    snprintf(want, sizeof want, "state-synced at height %llu", (unsigned long long)from);
    cr_assert(strstr(out, want), "verify says what it checked: %s", out);
    cr_assert(strstr(out, "verify: OK"), "%s", out);
    free(out);
}

Test(statesync, restores_from_a_peer_snapshot_despite_a_corrupting_peer, .timeout = 300, .fini = fini) {
    struct net c;
    net_create(&c, "ss-restore", REGION_RESTORE);
    /* node0, the first peer node3 asks, changes a byte of every chunk it serves */
    c.bin[0] = corrupt_bin();
    grow(&c, 2);
    uint64_t latest;
    snapshots_on(&c, 1, &latest);
    config_set(&c, 3, "state_sync", json_true());
    start(&c, 3);
    uint64_t from = synced_from(&c, 3);
    cr_assert_geq(from, latest, "restored the latest snapshot (%llu), got %llu", (unsigned long long)latest,
                  (unsigned long long)from);
    char *log = node_log(&c, 3);
    cr_assert(strstr(log, "is refused (snapshot chunk 0 does not hash to the manifest's hash): asking another peer"),
              "the corrupted chunk is detected:\n%s", log);
    cr_assert(strstr(log, "hash to the certified state root: installing"), "%s", log);
    cr_assert(strstr(log, "state-synced at height"), "%s", log);
    assert_agrees_after(&c, from);
    stop(&c, 3);
    verify_says_synced(&c, from);
    /* the blob sweep needs every anchor: refused on a node without the early blocks */
    char *out;
    int rc = tp_run(&out, "%s blobs sweep --home %s", tp_bin(), home_of(&c, 3));
    cr_assert_neq(rc, 0, "%s", out);
    cr_assert(strstr(out, "state-synced at height"), "the sweep says why it refuses: %s", out);
    free(out);
    /* restarted, it stays a state-synced node and goes on */
    start(&c, 3);
    cr_assert_eq(synced_from(&c, 3), from);
    wait_height(&c, 3, height(&c, 0), 60);
    fini();
    live = NULL;
}

Test(statesync, a_manifest_naming_another_state_root_is_refused, .timeout = 300, .fini = fini) {
    struct net c;
    net_create(&c, "ss-tamper", REGION_TAMPER);
    grow(&c, 2);
    /* every peer's latest manifest now names another state root (bytes 45..76) */
    uint64_t latest = 0;
    for (int i = 0; i < 3; i++) {
        stop(&c, i);
        snapshots_on(&c, i, &latest);
        char p[800];
        snprintf(p, sizeof p, "%s/snapshots/%020llu/manifest", home_of(&c, i), (unsigned long long)latest);
        FILE *f = fopen(p, "r+b");
        cr_assert_not_null(f);
        cr_assert_eq(fseek(f, 50, SEEK_SET), 0);
        int ch = fgetc(f);
        cr_assert_eq(fseek(f, 50, SEEK_SET), 0);
        fputc(ch ^ 0x40, f);
        fclose(f);
        config_set(&c, i, "snapshot_interval", json_integer(100000)); /* no newer honest one */
    }
    for (int i = 0; i < 3; i++) start(&c, i);
    config_set(&c, 3, "state_sync", json_true());
    start(&c, 3);
    char *log = node_log(&c, 3);
    char want[200];
    snprintf(want, sizeof want, "refusing the snapshot of height %llu: its manifest's state root is not the "
             "certified header's state root", (unsigned long long)latest);
    cr_assert(strstr(log, want), "the lying manifest is refused:\n%s", log);
    uint64_t from = synced_from(&c, 3);
    cr_assert(from > 0 && from < latest, "the older, honest snapshot is restored (%llu)", (unsigned long long)from);
    assert_agrees_after(&c, from);
    fini();
    live = NULL;
}

Test(statesync, without_snapshots_the_node_falls_back_to_block_sync, .timeout = 300, .fini = fini) {
    struct net c;
    net_create(&c, "ss-none", REGION_NONE);
    for (int i = 0; i < 3; i++) start(&c, i);
    for (int k = 0; k < 6; k++) submit(&c, k % 3);
    wait_height(&c, 0, 8, 60);
    config_set(&c, 3, "state_sync", json_true());
    start(&c, 3);
    wait_height(&c, 3, height(&c, 0), 60);
    char *log = node_log(&c, 3);
    cr_assert(strstr(log, "no state sync: no peer offers a snapshot; falling back to block sync from genesis"),
              "the fallback is logged:\n%s", log);
    cr_assert_eq(synced_from(&c, 3), 0, "the node did not state-sync");
    char a[65], as[65], b[65], bs[65];
    block_hash(&c, 0, 1, a, as);
    block_hash(&c, 3, 1, b, bs);
    cr_assert_str_eq(a, b, "block-synced from block 1");
    fini();
    live = NULL;
}
