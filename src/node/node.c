/* The running node: opens the home folder (config, genesis, node key,
 * store, application, blob store), admits transactions into the mempool
 * (signature checks outside the node lock), queues the node's own
 * transactions (outbox) and admitted ones for gossip, answers the API's
 * thread-safe queries, and runs the event loop in which the consensus
 * driver (driver.c) and ciphertext replication (replicate.c) live. Blocks
 * are decided by consensus among the genesis validators; a node that is the
 * only validator can also cut and certify a block on its own
 * (mc_node_commit_pending, for tests and tools).
 *
 * Commit path for block h (all under the node lock, in blockexec.c):
 * execute the decided block against the application, check that it
 * reproduces the header, then one SQL transaction: state rows, block,
 * transactions, log leaves. A crash before that commits loses nothing that
 * was reported committed; a failure of the store stops the node (it starts
 * again from the last committed block rather than run with memory that
 * disagrees with its disk: `medchain node` reopens the home by itself,
 * mc_node_store_failed).
 *
 * Admission: a submitted transaction passes the stateless checks, then the
 * committed-state checks (mc_app_check_tx), then takes its place from the
 * check state (node_internal.h): ready when its nonce is the sender's next
 * there, queued when there is a gap. The node's own transactions must also
 * execute on the check state, so one its block would reject is refused
 * before it takes a nonce. After every commit the check state is rebuilt
 * from the new committed state and the remaining pending transactions
 * (demoting ones whose predecessor vanished, re-signing the node's own
 * whose nonce moved, promoting queued ones whose gap closed). Admitted
 * transactions are journaled (journal.h) and re-admitted at start. */
#include "node/node.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "app/identity.h"
#include "app/records.h"
#include "app/records_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "blob/blob.h"
#include "base/log.h"
#include "chain/block.h"
#include "chain/local.h"
#include "crypto/keyfile.h"
#include "node/journal.h"
#include "node/mempool.h"
#include "node/auditexport.h"
#include "node/node_internal.h"
#include "node/snapshot.h"
#include "node/notify.h"
#include "node/wire.h"
#include "node/vault.h"
#include "consensus/consensus.h"

static _Thread_local int lock_depth;

void mc_node__lock(struct mc_node *n) {
    pthread_mutex_lock(&n->lock);
    lock_depth++;
}

void mc_node__unlock(struct mc_node *n) {
    lock_depth--;
    pthread_mutex_unlock(&n->lock);
}

bool mc_node__locked_here(void) { return lock_depth > 0; }

uint64_t mc_node__now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
#define now_ms mc_node__now_ms

static int path_join(char *out, size_t n, const char *home, const char *name) {
    int k = snprintf(out, n, "%s/%s", home, name);
    return k < 0 || (size_t)k >= n ? mc_err_set(MC_ERR_TOO_LARGE, "path too long") : 0;
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wx");
    if (!f) return mc_err_set(errno == EEXIST ? MC_ERR_EXISTS : MC_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n && fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : MC_ERR_IO;
    fclose(f);
    return rc ? mc_err_set(rc, "cannot write %s", path) : 0;
}

int mc_node_init_home(const struct mc_init_options *opt) {
    char p[PATH_MAX];
    if (mkdir(opt->home, 0700) != 0 && errno != EEXIST)
        return mc_err_set(MC_ERR_IO, "cannot create %s: %s", opt->home, strerror(errno));
    int rc = path_join(p, sizeof p, opt->home, "genesis.json");
    if (rc) return rc;
    struct stat sb;
    if (stat(p, &sb) == 0) return mc_err_set(MC_ERR_EXISTS, "%s already holds a node (genesis.json exists)", opt->home);

    struct mc_keypair admin, node;
    mc_keypair_generate(&admin);
    mc_keypair_generate(&node);
    struct mc_genesis g;
    memset(&g, 0, sizeof g);
    snprintf(g.chain_id, sizeof g.chain_id, "%s", opt->chain_id ? opt->chain_id : "medchain-local");
    g.time_ms = opt->genesis_time_ms ? opt->genesis_time_ms : now_ms();
    g.org_count = 1;
    struct mc_org *o = &g.orgs[0];
    o->id = 1;
    snprintf(o->name, sizeof o->name, "%s", opt->org_name ? opt->org_name : "Local Hospital");
    o->kind = mc_org_kind_from_name(opt->org_kind ? opt->org_kind : "hospital");
    if (!o->kind) return mc_err_set(MC_ERR_INVALID, "unknown organisation kind '%s'", opt->org_kind);
    if (opt->gln) snprintf(o->gln, sizeof o->gln, "%s", opt->gln);
    o->admin = admin.pk;
    if ((rc = mc_valset_add(&g.valset, &node.pk, 10, "node0"))) return rc;
    g.validator_org[0] = 1;

    /* Round-trip through the parser so init can never write a genesis that
     * the node would refuse to load. */
    char *json = mc_genesis_to_json(&g);
    if (!json) return MC_ERR_NOMEM;
    struct mc_genesis check;
    rc = mc_genesis_parse(&check, json, strlen(json));
    if (!rc) rc = write_file(p, json);
    free(json);
    if (rc) return rc;

    char kp[PATH_MAX];
    if ((rc = path_join(kp, sizeof kp, opt->home, "node_key.json"))) return rc;
    if ((rc = mc_keyfile_write(kp, &node, NULL))) return rc;
    if ((rc = path_join(kp, sizeof kp, opt->home, "admin_key.json"))) return rc;
    if ((rc = mc_keyfile_write(kp, &admin, opt->passphrase))) return rc;
    sodium_memzero(&admin, sizeof admin);
    sodium_memzero(&node, sizeof node);

    json_t *cfg = json_object();
    json_object_set_new(cfg, "api", json_string(opt->api ? opt->api : "127.0.0.1:7700"));
    json_object_set_new(cfg, "block_interval_ms", json_integer(100));
    char *cfgs = json_dumps(cfg, JSON_INDENT(2));
    json_decref(cfg);
    if ((rc = path_join(kp, sizeof kp, opt->home, "config.json"))) { free(cfgs); return rc; }
    rc = write_file(kp, cfgs);
    free(cfgs);
    if (rc) return rc;
    if ((rc = path_join(kp, sizeof kp, opt->home, "data"))) return rc;
    if (mkdir(kp, 0700) != 0 && errno != EEXIST) return mc_err_set(MC_ERR_IO, "cannot create %s", kp);
    return 0;
}

/* "host:port" with an IPv4 literal host. */
static int split_addr(const char *addr, char *host, size_t host_size, uint16_t *port) {
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= host_size || colon == addr)
        return mc_err_set(MC_ERR_INVALID, "address '%s' is not HOST:PORT", addr);
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end || p == 0 || p > 65535) return mc_err_set(MC_ERR_INVALID, "address '%s' has a bad port", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    *port = (uint16_t)p;
    return 0;
}

static int load_config(struct mc_node *n) {
    char p[PATH_MAX];
    int rc = path_join(p, sizeof p, n->home, "config.json");
    if (rc) return rc;
    snprintf(n->api_addr, sizeof n->api_addr, "127.0.0.1:7700");
    n->block_interval_ms = 100;
    n->empty_block_ms = 1000;
    n->bulk_ttl_s = MC_BULK_TTL_S_DEFAULT;
    n->key_max_age_days = MC_NODE_KEY_AGE_DAYS_DEFAULT;
    n->gap_wait_ms = MC_MEMPOOL_GAP_WAIT_MS;
    json_error_t jerr;
    json_t *cfg = json_load_file(p, JSON_REJECT_DUPLICATES, &jerr);
    if (!cfg) return 0; /* optional: defaults */
    const char *api = json_string_value(json_object_get(cfg, "api"));
    if (api) snprintf(n->api_addr, sizeof n->api_addr, "%s", api);
    rc = 0;
    const char *p2p = json_string_value(json_object_get(cfg, "p2p"));
    if (p2p && (rc = split_addr(p2p, n->p2p_host, sizeof n->p2p_host, &n->p2p_port)) == 0)
        n->has_p2p = true;
    json_t *peers = json_object_get(cfg, "peers"), *pe;
    size_t i;
    json_array_foreach(peers, i, pe) {
        if (rc || n->peer_count_cfg >= MC_NET_PEERS_MAX) break;
        struct mc_node_peer *np = &n->peers[n->peer_count_cfg];
        const char *addr = json_string_value(json_object_get(pe, "addr"));
        const char *key = json_string_value(json_object_get(pe, "node_key"));
        if (!addr || !key || split_addr(addr, np->host, sizeof np->host, &np->port) ||
            mc_hex_decode(np->key.b, 32, key))
            rc = mc_err_set(MC_ERR_INVALID, "config.json: each peer needs \"addr\": \"HOST:PORT\" and a 64-hex \"node_key\"");
        else
            n->peer_count_cfg++;
    }
    json_t *hosts = json_object_get(cfg, "api_hosts"), *hv;
    size_t hi;
    json_array_foreach(hosts, hi, hv) {
        if (rc) break;
        const char *h = json_string_value(hv);
        size_t used = strlen(n->api_hosts);
        if (!h || !h[0] || strchr(h, ',') || used + strlen(h) + 2 > sizeof n->api_hosts)
            rc = mc_err_set(MC_ERR_INVALID, "config.json: \"api_hosts\" holds host:port strings "
                                            "(at most %d bytes in all)", MC_NODE_API_HOSTS_BYTES - 1);
        else
            snprintf(n->api_hosts + used, sizeof n->api_hosts - used, "%s%s", used ? "," : "", h);
    }
    json_t *bt = json_object_get(cfg, "bulk_output_ttl_s");
    if (!rc && bt) {
        if (!json_is_integer(bt) || json_integer_value(bt) < 1 || json_integer_value(bt) > MC_BULK_TTL_S_MAX)
            rc = mc_err_set(MC_ERR_INVALID, "config.json: \"bulk_output_ttl_s\" is 1 to %d seconds", MC_BULK_TTL_S_MAX);
        else
            n->bulk_ttl_s = (uint32_t)json_integer_value(bt);
    }
    json_t *eb = json_object_get(cfg, "empty_block_ms");
    if (json_is_integer(eb) && json_integer_value(eb) >= MC_NODE_EMPTY_BLOCK_MS_MIN &&
        json_integer_value(eb) <= MC_NODE_EMPTY_BLOCK_MS_MAX)
        n->empty_block_ms = (uint32_t)json_integer_value(eb);
    json_t *gw = json_object_get(cfg, "mempool_gap_ms");
    if (json_is_integer(gw) && json_integer_value(gw) >= 100 && json_integer_value(gw) <= 3600000)
        n->gap_wait_ms = (uint32_t)json_integer_value(gw);
    json_t *kb = json_object_get(cfg, "keep_blocks");
    if (kb && !json_is_null(kb)) {
        json_int_t k = json_is_integer(kb) ? json_integer_value(kb) : -1;
        if (k != 0 && k < MC_NODE_KEEP_BLOCKS_MIN)
            rc = mc_err_set(MC_ERR_INVALID, "config.json: \"keep_blocks\" is 0 (keep everything) or at least %d",
                            MC_NODE_KEEP_BLOCKS_MIN);
        else n->keep_blocks = (uint64_t)k;
    }
    json_t *ka = json_object_get(cfg, "key_max_age_days");
    if (json_is_integer(ka) && json_integer_value(ka) >= 1 && json_integer_value(ka) <= MC_NODE_KEY_AGE_DAYS_MAX)
        n->key_max_age_days = (uint32_t)json_integer_value(ka);
    json_t *iv = json_object_get(cfg, "block_interval_ms");
    if (json_is_integer(iv) && json_integer_value(iv) >= MC_NODE_BLOCK_INTERVAL_MS_MIN &&
        json_integer_value(iv) <= MC_NODE_BLOCK_INTERVAL_MS_MAX)
        n->block_interval_ms = (uint32_t)json_integer_value(iv);
    json_decref(cfg);
    return rc;
}

static void purge_recent_erasures(struct mc_node *n);
static int admit(struct mc_node *n, const mc_hash *id, const struct mc_tx *tx, const uint8_t *bytes,
                 size_t len);
static int check_rebuild(struct mc_node *n);
static void check_close(struct mc_node *n);
static void mempool_maintain(struct mc_node *n);
static void gossip_queue(struct mc_node *n, const uint8_t *tx, size_t len);
static int journal_start(struct mc_node *n);
static void journal_append(struct mc_node *n, const uint8_t *tx, size_t len);

int mc_node_genesis_load(struct mc_genesis *g, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return mc_err_set(MC_ERR_IO, "cannot open genesis %s", path);
    char *buf = malloc(MC_GENESIS_MAX + 1);
    if (!buf) {
        fclose(f);
        return MC_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, MC_GENESIS_MAX + 1, f);
    fclose(f);
    int rc = n > MC_GENESIS_MAX ? mc_err_set(MC_ERR_TOO_LARGE, "genesis file too large")
                                : mc_genesis_parse(g, buf, n);
    free(buf);
    return rc;
}

/* Restores the in-memory view of the latest block from the store. */
static int load_head(struct mc_node *n) {
    int rc = mc_blockexec_head_load(&n->head, n->store, &n->genesis);
    if (rc) return mc_err_set(rc, "cannot load the chain head: %s", mc_err_detail());
    /* the ledger log's size, from the state's frontier: a state-synced
     * store holds no log leaf below its snapshot (statesync.c) */
    mc_hash logroot;
    mc_app_log(n->app, &n->txs_committed, &logroot);
    return 0;
}

/* Days the node key has existed, -1 when its file does not say. */
static int64_t node_key_age(const struct mc_node *n) {
    if (n->node_key_created < 0) return -1;
    int64_t today = (int64_t)(time(NULL) / 86400);
    return today > n->node_key_created ? today - n->node_key_created : 0;
}

static void node_key_age_warn(const struct mc_node *n) {
    int64_t age = node_key_age(n);
    if (age > (int64_t)n->key_max_age_days)
        mc_log_warn("node", "the node key is %lld days old, more than key_max_age_days (%u): rotate it",
                    (long long)age, n->key_max_age_days);
}

static bool node_key_follow(struct mc_node *n);

int mc_node_open(struct mc_node **out, const char *home) {
    *out = NULL;
    struct mc_node *n = calloc(1, sizeof *n);
    if (!n) return MC_ERR_NOMEM;
    snprintf(n->home, sizeof n->home, "%s", home);
    pthread_mutex_init(&n->lock, NULL);
    pthread_mutex_init(&n->gossip_lock, NULL);
    mc_buf_init(&n->gossip, MC_NODE_GOSSIP_BYTES_MAX);
    if (uv_loop_init(&n->loop)) {
        free(n);
        return mc_err_set(MC_ERR_IO, "cannot create an event loop");
    }
    char p[PATH_MAX];
    int rc = load_config(n);
    if (!rc) rc = path_join(p, sizeof p, home, "genesis.json");
    if (!rc) rc = mc_node_genesis_load(&n->genesis, p);
    if (!rc) rc = path_join(p, sizeof p, home, "node_key.json");
    if (!rc) rc = mc_vault_create(&n->vault, n, p);
    if (!rc) n->node_key = mc__vault_signer(n->vault);
    if (!rc && mc_keyfile_created(p, &n->node_key_created) != 0) n->node_key_created = -1;
    /* A prepared rotation: the key the node moves to (governance.h). */
    if (!rc) rc = path_join(p, sizeof p, home, "node_key.next.json");
    if (!rc && access(p, F_OK) == 0) rc = mc_vault_load_next(n->vault, p);
    if (!rc) node_key_age_warn(n);
    if (!rc) {
        mc_genesis_hash(&n->genesis, &n->genesis_hash);
        n->validator_index = -1;
        n->vsets = calloc(2, sizeof *n->vsets);
        rc = n->vsets ? path_join(p, sizeof p, home, "data") : MC_ERR_NOMEM;
    }
    if (!rc && mkdir(p, 0700) != 0 && errno != EEXIST) rc = mc_err_set(MC_ERR_IO, "cannot create %s", p);
    if (!rc) rc = path_join(p, sizeof p, home, "data/chain.db");
    if (!rc) rc = mc_store_open(&n->store, p, false);
    if (!rc) {
        /* The store must belong to this genesis. */
        struct mc_buf gh;
        mc_buf_init(&gh, 0);
        int have = mc_store_meta_get(n->store, "genesis_hash", &gh);
        if (have == MC_ERR_NOT_FOUND) rc = mc_store_meta_put(n->store, "genesis_hash", n->genesis_hash.b, 32);
        else if (have) rc = have;
        else if (gh.len != 32 || memcmp(gh.data, n->genesis_hash.b, 32) != 0)
            rc = mc_err_set(MC_ERR_WRONG_CHAIN, "the database belongs to another genesis");
        mc_buf_deinit(&gh);
    }
    if (!rc) rc = mc_blockexec_app_open(&n->app, n->store, &n->genesis);
    if (!rc) rc = mc_snapshots_create(n);
    if (!rc) rc = mc_statesync_run(n); /* an empty store may restore a peer's snapshot */
    if (!rc) rc = path_join(p, sizeof p, home, "data/chain.db");
    if (!rc) rc = mc_blob_open_home(&n->blobs, home, p);
    if (!rc) rc = mc_local_open(&n->local, p);
    if (!rc) rc = mc_mempool_create(&n->pool);
    if (!rc) rc = load_head(n);
    if (!rc) node_key_follow(n);
    if (!rc) rc = mc_node__valset_refresh(n);
    if (!rc) purge_recent_erasures(n);
    if (!rc) rc = mc_driver_create(n);
    if (!rc) rc = mc_repl_create(n);
    if (!rc) rc = journal_start(n);
    if (rc) {
        mc_node_close(n);
        return rc;
    }
    *out = n;
    return 0;
}

static void close_handle(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

void mc_node_close(struct mc_node *n) {
    if (!n) return;
    mc_snapshots_destroy(n);
    mc_driver_destroy(n);
    mc_repl_destroy(n);
    uv_walk(&n->loop, close_handle, NULL);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    uv_loop_close(&n->loop);
    mc_buf_deinit(&n->gossip);
    pthread_mutex_destroy(&n->gossip_lock);
    for (uint32_t i = 0; i < n->outbox_count; i++) free(n->outbox[i].payload);
    free(n->outbox);
    mc_journal_close(n->journal);
    check_close(n);
    mc_app_close(n->check);
    mc_app_close(n->app);
    mc_blob_close(n->blobs);
    mc_local_close(n->local);
    mc_store_close(n->store);
    mc_mempool_destroy(n->pool);
    mc_vault_destroy(n->vault);
    pthread_mutex_destroy(&n->lock);
    free(n->vsets);
    free(n);
}

const struct mc_genesis *mc_node_genesis(const struct mc_node *n) { return &n->genesis; }
const char *mc_node_api_addr(const struct mc_node *n) { return n->api_addr; }
const char *mc_node_api_hosts(const struct mc_node *n) { return n->api_hosts; }
const char *mc_node_home(const struct mc_node *n) { return n->home; }
uint32_t mc_node_bulk_ttl_s(const struct mc_node *n) { return n->bulk_ttl_s; }

static void gossip_queue(struct mc_node *n, const uint8_t *tx, size_t len);

static int submit(struct mc_node *n, const uint8_t *bytes, size_t len, mc_hash *id_out, bool gossip);

int mc_node_submit(struct mc_node *n, const uint8_t *bytes, size_t len, mc_hash *id_out) {
    return submit(n, bytes, len, id_out, true);
}

/* A transaction gossiped by a peer: every node is connected to every other,
 * so it is not passed on. */
int mc_node__submit_from_peer(struct mc_node *n, const uint8_t *bytes, size_t len) {
    return submit(n, bytes, len, NULL, false);
}

static int submit(struct mc_node *n, const uint8_t *bytes, size_t len, mc_hash *id_out, bool gossip) {
    mc_err_clear();
    struct mc_tx tx;
    if (len > MC_TX_MAX) return mc_err_set(MC_ERR_TOO_LARGE, "transaction is %zu bytes, the maximum is %d", len, MC_TX_MAX);
    int rc = mc_tx_decode(&tx, bytes, len);
    if (rc) return mc_err_set(rc, "transaction does not decode: %s", mc_strerror(rc));
    /* Stateless checks, including the signature, outside the lock. */
    if ((rc = mc_app_check_envelope(n->app, &tx, bytes, len, true))) return rc;
    mc_hash id;
    mc_tx_id(&id, bytes, len);
    if (id_out) *id_out = id;
    pthread_mutex_lock(&n->lock);
    uint64_t h;
    uint32_t idx;
    uint64_t next_nonce = 0;
    /* The admission's reads share one snapshot and one read lock. */
    if ((rc = mc_store_read_begin(n->store))) {
        pthread_mutex_unlock(&n->lock);
        return rc;
    }
    if (mc_store_find_tx(n->store, &id, &h, &idx, NULL) == 0)
        rc = mc_err_set(MC_ERR_EXISTS, "transaction already committed at height %llu", (unsigned long long)h);
    else if (mc_mempool_contains(n->pool, &id))
        rc = mc_err_set(MC_ERR_EXISTS, "transaction is already pending");
    else if (!(rc = mc_app_check_tx(n->app, &tx, bytes, len, &next_nonce))) {
        if (tx.nonce >= next_nonce + MC_MEMPOOL_PER_SENDER_MAX)
            rc = mc_err_set(MC_ERR_BAD_NONCE, "nonce %llu is too far ahead (next is %llu)",
                            (unsigned long long)tx.nonce, (unsigned long long)next_nonce);
        else
            rc = admit(n, &id, &tx, bytes, len);
        if (!rc) journal_append(n, bytes, len);
    }
    mc_store_read_end(n->store);
    pthread_mutex_unlock(&n->lock);
    if (rc == 0 && gossip) gossip_queue(n, bytes, len);
    return rc;
}

struct mc_blob_store *mc_node_blobs(struct mc_node *n) { return n->blobs; }
struct mc_local *mc_node_local(struct mc_node *n) { return n->local; }
struct mc_vault *mc_node_vault(struct mc_node *n) { return n->vault; }
void mc_node_audit_status(struct mc_node *n, struct mc_auditexport_status *out) {
    pthread_mutex_lock(&n->lock);
    mc_auditexport_status(n->audit, out);
    pthread_mutex_unlock(&n->lock);
}

/* ---- the check state (see node_internal.h) ----
 *
 * Invariant while check_open and check_removals equals the mempool's
 * removal count: the check application's open block holds the committed
 * state plus the ready transactions that executed, in mempool order, which
 * is the order blocks take them. All of it runs with the node lock held. */

static bool is_own(const struct mc_node *n, const mc_pubkey *pk) {
    return memcmp(pk->b, n->node_key->pk.b, 32) == 0;
}

static void check_close(struct mc_node *n) {
    if (n->check && n->check_open) mc_app_abort_block(n->check);
    n->check_open = false;
}

static int check_account(struct mc_node *n, const mc_pubkey *pk, struct mc_account *out) {
    return mc_identity_get_account(mc_app_state(n->check), pk, out);
}

/* Executes a transaction on top of the check state; on failure nothing of
 * it stays there and the reason is in mc_err_detail(). Signatures were
 * checked on admission. */
static int check_deliver(struct mc_node *n, const uint8_t *bytes, size_t len) {
    return mc_app_deliver(n->check, bytes, len, false);
}

/* Signs a node transaction with the given nonce into b (initialised here;
 * the caller frees it on success). */
static int sign_own(struct mc_node *n, struct mc_buf *b, uint16_t type, const uint8_t *payload,
                    size_t len, uint64_t nonce, mc_hash *id) {
    struct mc_tx tx = {.type = type, .sender = n->node_key->pk, .nonce = nonce, .payload = payload,
                       .payload_len = len};
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", n->genesis.chain_id);
    mc_tx_sign(&tx, n->node_key);
    mc_buf_init(b, MC_TX_MAX);
    mc_tx_encode(b, &tx);
    if (b->err) {
        int rc = b->err;
        mc_buf_deinit(b);
        return mc_err_set(rc, "node transaction of %zu bytes does not fit", len);
    }
    mc_tx_id(id, b->data, b->len);
    return 0;
}

/* Queued transactions of sender whose gap closed in the check state become
 * ready, in nonce order, each executed on top. */
static void check_promote(struct mc_node *n, const mc_pubkey *sender) {
    struct mc_account a;
    while (check_account(n, sender, &a) == 0) {
        const struct mc_mempool_tx *p = mc_mempool_promote(n->pool, sender, a.nonce + 1);
        /* One that fails here stays ready for its block to reject and
         * report; the ones behind it keep waiting for their gap. */
        if (!p || check_deliver(n, p->bytes, p->len)) break;
    }
}

static void check_promote_all(struct mc_node *n) {
    uint32_t q = mc_mempool_queued_count(n->pool);
    if (!q) return;
    const struct mc_mempool_tx **all = malloc(q * sizeof *all);
    mc_pubkey *senders = malloc(q * sizeof *senders);
    if (all && senders) {
        uint32_t k = mc_mempool_peek_queued(n->pool, all, q);
        /* Copy the senders out: promoting moves entries. */
        for (uint32_t i = 0; i < k; i++) senders[i] = all[i]->sender;
        for (uint32_t i = 0; i < k; i++) check_promote(n, &senders[i]);
    }
    free(all);
    free(senders);
}

/* A node transaction no longer executes where it stands: it is dropped
 * (and remembered as rejected) so it cannot strand the ones behind it. */
static void drop_own(struct mc_node *n, const mc_hash *id, int err, const char *why) {
    mc_log_warn("node", "dropping a node transaction that can no longer commit: %s", why);
    mc_mempool_note_rejected(n->pool, id, err, why);
    mc_mempool_remove(n->pool, id);
}

/* One of the node's own ready transactions during a rebuild: if an earlier
 * one was rejected (in a block, or dropped here), its nonce moved, so it is
 * re-signed with the nonce the check state expects (the old id is
 * remembered as replaced, for status lookups), then executed. */
static void recheck_own(struct mc_node *n, const struct mc_mempool_tx *t) {
    mc_hash id = t->id;
    struct mc_account me;
    if (check_account(n, &n->node_key->pk, &me)) {
        drop_own(n, &id, MC_ERR_UNKNOWN_ACCOUNT, "this node has no account on the ledger");
        return;
    }
    uint64_t want = me.nonce + 1;
    if (t->nonce != want) {
        struct mc_tx old;
        struct mc_buf b;
        mc_hash nid;
        int rc = mc_tx_decode(&old, t->bytes, t->len);
        if (!rc) rc = sign_own(n, &b, old.type, old.payload, old.payload_len, want, &nid);
        if (rc) {
            drop_own(n, &id, rc, "cannot re-sign the transaction");
            return;
        }
        uint64_t was = t->nonce;
        rc = mc_mempool_replace(n->pool, &id, &nid, want, b.data, b.len);
        if (!rc) {
            mc_mempool_note_replaced(n->pool, &id, &nid);
            journal_append(n, b.data, b.len);
            gossip_queue(n, b.data, b.len);
            mc_log_info("node", "re-signed a node %s transaction: nonce %llu -> %llu (an earlier one was rejected)",
                        mc_txtypes_name(old.type), (unsigned long long)was, (unsigned long long)want);
            id = nid;
        }
        mc_buf_deinit(&b);
        if (rc) {
            drop_own(n, &id, rc, "cannot re-sign the transaction");
            return;
        }
    }
    int rc = check_deliver(n, t->bytes, t->len);
    if (rc) {
        char why[256];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        drop_own(n, &id, rc, why);
    }
}

/* Rebuilds the check state from the committed state and the mempool: the
 * CheckTx-style recheck after a commit. A ready transaction whose nonce is
 * now ahead (its predecessor was rejected) goes back to the queue; the
 * node's own are renumbered; others that fail stay for their block to
 * reject and report. */
static int check_rebuild(struct mc_node *n) {
    check_close(n);
    mc_app_close(n->check);
    n->check = NULL;
    int rc = mc_blockexec_app_open(&n->check, n->store, &n->genesis);
    if (rc) {
        n->check = NULL;
        return mc_err_set(rc, "cannot open the check state: %s", mc_err_detail());
    }
    uint64_t t = now_ms();
    if (t <= n->head.time_ms) t = n->head.time_ms + 1;
    if ((rc = mc_app_begin_block(n->check, mc_app_height(n->check) + 1, t)))
        return mc_err_set(rc, "cannot open the check state's block");
    n->check_open = true;
    mc_mempool_compact(n->pool);
    uint32_t cnt = mc_mempool_size(n->pool);
    const struct mc_mempool_tx **all = malloc((cnt ? cnt : 1) * sizeof *all);
    if (!all) {
        check_close(n);
        return MC_ERR_NOMEM;
    }
    /* Entries keep their places through replace, remove and demote. */
    uint32_t k = mc_mempool_peek(n->pool, all, cnt);
    uint64_t now = now_ms();
    for (uint32_t i = 0; i < k; i++) {
        const struct mc_mempool_tx *tx = all[i];
        if (tx->dead) continue;
        if (is_own(n, &tx->sender)) {
            recheck_own(n, tx);
            continue;
        }
        int e = check_deliver(n, tx->bytes, tx->len);
        if (e == MC_ERR_BAD_NONCE && strstr(mc_err_detail(), "ahead"))
            mc_mempool_demote(n->pool, &tx->id, now);
    }
    free(all);
    check_promote_all(n);
    n->check_removals = mc_mempool_removals(n->pool);
    return 0;
}

static int check_ensure(struct mc_node *n) {
    if (n->check_open && n->check_removals == mc_mempool_removals(n->pool)) return 0;
    return check_rebuild(n);
}

/* Admits a verified transaction that passed the committed-state checks
 * (lock held). Its place follows from the check state: nonce ahead of the
 * sender's next there, it waits in the queue; otherwise it is ready. The
 * node's own transactions (back from a peer or a restart) must execute on
 * the check state to be admitted at all. */
static int admit(struct mc_node *n, const mc_hash *id, const struct mc_tx *tx, const uint8_t *bytes,
                 size_t len) {
    int rc = check_ensure(n);
    if (rc) return rc;
    struct mc_account a;
    uint64_t expected = check_account(n, &tx->sender, &a) == 0 ? a.nonce + 1 : 1;
    if (is_own(n, &tx->sender)) {
        /* Ours never wait in the gap queue: a stale copy (from the journal
         * or a peer) of one that was re-signed or dropped is refused. */
        if (tx->nonce != expected)
            return mc_err_set(MC_ERR_BAD_NONCE, "node transaction with nonce %llu, the next is %llu",
                              (unsigned long long)tx->nonce, (unsigned long long)expected);
        if ((rc = mc_mempool_can_add(n->pool, &tx->sender, tx->nonce, len))) return rc;
        if ((rc = check_deliver(n, bytes, len))) return rc;
        if ((rc = mc_mempool_add(n->pool, id, &tx->sender, tx->nonce, bytes, len)))
            n->check_removals = UINT64_MAX; /* out of step: rebuild */
        return rc;
    }
    if (tx->nonce > expected)
        return mc_mempool_add_queued(n->pool, id, &tx->sender, tx->nonce, bytes, len, now_ms());
    if ((rc = mc_mempool_add(n->pool, id, &tx->sender, tx->nonce, bytes, len))) return rc;
    /* A transaction that fails here stays admitted: its block judges it and
     * the sender learns why from the status (the behaviour for clients'
     * transactions is unchanged). */
    if (tx->nonce == expected && check_deliver(n, bytes, len) == 0) check_promote(n, &tx->sender);
    return 0;
}

/* Signs and admits one node transaction; called with the lock held. Its
 * nonce is the next one the check state expects, and it is executed there
 * first: a transaction its block would reject is refused now and takes no
 * nonce, so it cannot strand the ones after it. */
/* A served read's entry is logged only for a requester who is still an
 * active member counting what is pending here (a revocation admitted but
 * not yet in a block): the ledger keeps an entry whose requester a
 * revocation ordered first has revoked meanwhile (records.c, access), so
 * this node's own rule is the stricter one, and the read is refused
 * instead. */
static int own_access_allowed(struct mc_node *n, uint16_t type, const uint8_t *payload, size_t len) {
    if (type != MC_TX_RECORD_ACCESS) return 0;
    struct mc_records_payload *p = malloc(sizeof *p); /* 145 kB: not on a server thread's stack */
    if (!p) return MC_ERR_NOMEM;
    int rc = 0;
    struct mc_account a;
    if (mc_records_payload_decode(p, type, payload, len) == 0 && p->outcome == MC_OUTCOME_SUCCESS &&
        check_account(n, &p->requester, &a) == 0 && a.status != MC_ACCOUNT_ACTIVE)
        rc = mc_err_set(MC_ERR_REVOKED, "the requester's account is revoked (the revocation may still be pending)");
    free(p);
    return rc;
}

static int submit_local_locked(struct mc_node *n, uint16_t type, const uint8_t *payload, size_t len,
                               mc_hash *id_out) {
    int rc = check_ensure(n);
    if (rc) return rc;
    if ((rc = own_access_allowed(n, type, payload, len))) return rc;
    struct mc_account me;
    if (check_account(n, &n->node_key->pk, &me))
        return mc_err_set(MC_ERR_UNKNOWN_ACCOUNT, "this node has no account on the ledger");
    uint64_t nonce = me.nonce + 1;
    struct mc_buf b;
    mc_hash id;
    if ((rc = sign_own(n, &b, type, payload, len, nonce, &id))) return rc;
    struct mc_tx dec;
    rc = mc_tx_decode(&dec, b.data, b.len);
    if (!rc) rc = mc_app_check_envelope(n->app, &dec, b.data, b.len, false);
    if (!rc) rc = mc_mempool_can_add(n->pool, &dec.sender, dec.nonce, b.len);
    if (!rc) rc = check_deliver(n, b.data, b.len);
    if (!rc && (rc = mc_mempool_add(n->pool, &id, &dec.sender, dec.nonce, b.data, b.len)))
        n->check_removals = UINT64_MAX; /* the check state ran ahead: rebuild */
    if (!rc) {
        journal_append(n, b.data, b.len);
        gossip_queue(n, b.data, b.len);
    }
    mc_buf_deinit(&b);
    if (rc) return rc;
    if (id_out) *id_out = id;
    return 0;
}

/* ---- the mempool journal (journal.h) ---- */

static void journal_append(struct mc_node *n, const uint8_t *tx, size_t len) {
    /* A failure costs durability across a crash, not the transaction. */
    if (n->journal && mc_journal_append(n->journal, tx, len))
        mc_log_warn("node", "%s", mc_err_detail());
}

/* Rewrites the journal with exactly the pending transactions: ready ones
 * in order, then the queued ones (which replay into the queue again). */
static int journal_compact(struct mc_node *n) {
    mc_mempool_compact(n->pool);
    uint32_t r = mc_mempool_size(n->pool), q = mc_mempool_queued_count(n->pool);
    const struct mc_mempool_tx **all = malloc((r + q + 1) * sizeof *all);
    struct mc_tx_ref *refs = malloc((r + q + 1) * sizeof *refs);
    int rc = MC_ERR_NOMEM;
    if (all && refs) {
        uint32_t k = mc_mempool_peek(n->pool, all, r);
        k += mc_mempool_peek_queued(n->pool, all + k, q);
        for (uint32_t i = 0; i < k; i++) refs[i] = (struct mc_tx_ref){all[i]->bytes, all[i]->len};
        rc = mc_journal_rewrite(n->journal, refs, k);
    }
    free(all);
    free(refs);
    return rc;
}

/* Once a block: the journal is synced, and rewritten when committed
 * transactions make up most of it. */
static void journal_after_commit(struct mc_node *n) {
    if (!n->journal) return;
    uint64_t live = (uint64_t)mc_mempool_size(n->pool) + mc_mempool_queued_count(n->pool);
    uint64_t recs = mc_journal_records(n->journal);
    int rc = 0;
    if ((live == 0 && recs > 0) || recs > 4 * live + 4096) rc = journal_compact(n);
    else if (recs > 0) rc = mc_journal_sync(n->journal);
    if (rc) mc_log_warn("node", "mempool journal: %s", mc_err_detail());
}

static void replay_one(void *ctx, const uint8_t *tx, size_t len) {
    int *admitted = (int *)((void **)ctx)[1];
    if (submit(((void **)ctx)[0], tx, len, NULL, false) == 0) (*admitted)++;
}

/* Re-admits what was pending when the node last stopped (each transaction
 * checked again as if just submitted; committed or stale ones are refused),
 * then starts a fresh journal holding exactly the re-admitted ones. */
static int journal_start(struct mc_node *n) {
    char p[PATH_MAX];
    int rc = path_join(p, sizeof p, n->home, "data/mempool.journal");
    if (rc) return rc;
    int admitted = 0;
    void *ctx[2] = {n, &admitted};
    int read = mc_journal_replay(p, replay_one, ctx);
    if (read < 0) return read;
    if ((rc = mc_journal_open(&n->journal, p))) return rc;
    pthread_mutex_lock(&n->lock);
    rc = journal_compact(n);
    pthread_mutex_unlock(&n->lock);
    if (read > 0)
        mc_log_info("node", "re-admitted %d of %d transactions from the mempool journal", admitted, read);
    return rc;
}

/* Queued transactions past their wait are dropped and reported (at most a
 * few times a second). */
static void mempool_maintain(struct mc_node *n) {
    uint64_t now = now_ms();
    if (now - n->last_expire_ms < 200 || !mc_mempool_queued_count(n->pool)) return;
    n->last_expire_ms = now;
    uint64_t before = mc_mempool_removals(n->pool);
    uint32_t dropped = mc_mempool_expire(n->pool, now, n->gap_wait_ms);
    /* Queued transactions are not in the check state: it stays valid. */
    if (n->check_removals == before) n->check_removals = mc_mempool_removals(n->pool);
    if (dropped)
        mc_log_info("node", "dropped %u transaction(s) that waited %u ms for a nonce gap to close",
                    dropped, n->gap_wait_ms);
}

int mc_node_submit_signed(struct mc_node *n, uint16_t type, const uint8_t *payload, size_t len,
                          mc_hash *id_out) {
    mc_err_clear();
    pthread_mutex_lock(&n->lock);
    int rc = mc_store_read_begin(n->store);
    if (!rc) {
        rc = submit_local_locked(n, type, payload, len, id_out);
        mc_store_read_end(n->store);
    }
    pthread_mutex_unlock(&n->lock);
    return rc;
}

int mc_node_submit_signed_many(struct mc_node *n, uint16_t type, const uint8_t *const *payloads,
                              const size_t *lens, size_t count, mc_hash *ids_out, size_t *admitted) {
    mc_err_clear();
    *admitted = 0;
    int rc = 0;
    pthread_mutex_lock(&n->lock);
    if (!(rc = mc_store_read_begin(n->store))) {
        for (size_t i = 0; i < count && !rc; i++) {
            rc = submit_local_locked(n, type, payloads[i], lens[i], &ids_out[i]);
            if (!rc) (*admitted)++;
        }
        mc_store_read_end(n->store);
    }
    pthread_mutex_unlock(&n->lock);
    return rc;
}

static void purge_blob(void *ctx, const mc_hash *ct) {
    struct mc_node *n = ctx;
    if (mc_blob_purge(n->blobs, ct))
        mc_log_error("node", "cannot purge an erased blob: %s", mc_err_detail());
    mc_repl_forget(n, ct);
}

/* After a block commits (lock held): its transactions leave the mempool,
 * erasures purge their ciphertext from the blob store (the ledger keeps the
 * anchors, marked erased), metrics and the log line. */
/* An erasure purges its ciphertext from the blob store (idempotent). */
static void purge_erased(struct mc_node *n, const struct mc_tx *tx) {
    if (tx->type != MC_TX_RECORD_ERASE) return;
    if (mc_records_erased_blobs(mc_app_state(n->app), tx->payload, tx->payload_len, purge_blob, n))
        mc_log_error("node", "erase payload does not decode");
}

/* A crash between a block's commit and its purges leaves erased ciphertext
 * on disk: on start, purge again for the erasures of the latest blocks. */
static void purge_recent_erasures(struct mc_node *n) {
    uint64_t from = n->head.height > 16 ? n->head.height - 15 : 1;
    for (uint64_t h = from; h <= n->head.height; h++) {
        struct mc_header hd;
        if (mc_store_get_header(n->store, h, &hd, NULL)) continue;
        for (uint32_t i = 0; i < hd.tx_count; i++) {
            struct mc_buf b;
            mc_buf_init(&b, 0);
            struct mc_tx tx;
            if (mc_store_get_tx(n->store, h, i, &b, NULL, NULL) == 0 && mc_tx_decode(&tx, b.data, b.len) == 0)
                purge_erased(n, &tx);
            mc_buf_deinit(&b);
        }
    }
}

const struct mc_valset *mc_node__valset(const struct mc_node *n) { return &n->vsets[n->vs_slot].vs; }

/* The node's account key follows the ledger: once its key was rotated to
 * the next key the vault holds, the node signs transactions and handshakes
 * with the next key (the transport reconnects under it). Returns whether
 * it switched. */
static bool node_key_follow(struct mc_node *n) {
    /* An operator prepares a rotation by writing node_key.next.json into the
     * home folder of the running node: it is picked up at the next commit. */
    if (!mc__vault_next_signer(n->vault)) {
        char p[PATH_MAX];
        if (path_join(p, sizeof p, n->home, "node_key.next.json") == 0 && access(p, F_OK) == 0) {
            if (mc_vault_load_next(n->vault, p) == 0) mc_log_info("node", "loaded the next node key (%s)", p);
            else mc_log_warn("node", "cannot load %s: %s", p, mc_err_detail());
        }
    }
    const struct mc_keypair *next = mc__vault_next_signer(n->vault);
    if (!next || n->node_key == next) return false;
    struct mc_account a;
    if (mc_identity_get_account(mc_app_state(n->app), &n->node_key->pk, &a) != 0 ||
        a.status != MC_ACCOUNT_ROTATED || memcmp(a.successor.b, next->pk.b, 32) != 0)
        return false;
    n->node_key = next;
    char hx[17];
    mc_hex_encode(hx, next->pk.b, 8);
    mc_log_info("node", "the node key was rotated on the ledger at height %llu: signing as %s... now",
                (unsigned long long)a.since_height, hx);
    if (n->net) mc_net_set_key(n->net, next);
    return true;
}

int mc_node__valset_refresh(struct mc_node *n) {
    int other = 1 - n->vs_slot;
    int rc = mc_app_valset_at(n->app, n->head.height + 1, &n->vsets[other]);
    if (rc) return rc;
    mc_hash now, next;
    mc_valset_hash(&n->vsets[n->vs_slot].vs, &now);
    mc_valset_hash(&n->vsets[other].vs, &next);
    if (n->vs_height == 0 || memcmp(now.b, next.b, 32) != 0) {
        if (n->vs_height != 0)
            mc_log_info("node", "validator set changes at height %llu: %u validators, power %llu",
                        (unsigned long long)n->head.height + 1, n->vsets[other].vs.count,
                        (unsigned long long)n->vsets[other].vs.total_power);
        n->vs_slot = other;
    }
    n->vs_height = n->head.height + 1;
    /* Sign heights from `at` on with the next key when the set names it
     * (and heights before with the old one): never both at one height. */
    const struct mc_keypair *nk = mc__vault_next_signer(n->vault);
    n->consensus_key = nk && mc_valset_find(mc_node__valset(n), &nk->pk) >= 0 ? nk : mc__vault_signer(n->vault);
    n->validator_index = mc_valset_find(mc_node__valset(n), &n->consensus_key->pk);
    return 0;
}

void mc_node__after_commit(struct mc_node *n, const struct mc_candidate *c) {
    /* The ledger decides our key, the next height's validators and the
     * membership: peers of an organisation removed in this block go now. */
    node_key_follow(n);
    if (mc_node__valset_refresh(n))
        mc_log_error("node", "cannot load the validator set of height %llu: %s",
                     (unsigned long long)n->head.height + 1, mc_err_detail());
    if (n->net) mc_net_recheck(n->net);
    mc_snapshots_after_commit(n);
    struct mc_block_body body;
    if (mc_block_body_decode(&body, c->body_bytes.data, c->body_bytes.len) == 0) {
        for (uint32_t i = 0; i < body.count; i++) {
            mc_hash id;
            mc_tx_id(&id, body.txs[i].bytes, body.txs[i].len);
            mc_mempool_remove(n->pool, &id);
            struct mc_tx tx;
            if (mc_tx_decode(&tx, body.txs[i].bytes, body.txs[i].len)) continue;
            mc_repl_after_commit_tx(n, &tx);
            purge_erased(n, &tx);
        }
        mc_block_body_deinit(&body);
    }
    mc_mempool_compact(n->pool);
    /* Pruning: drop the transaction bytes of blocks older than the last
     * keep_blocks (headers, certificates and the log stay). */
    if (n->keep_blocks && n->head.height > n->keep_blocks &&
        mc_store_prune(n->store, n->head.height - n->keep_blocks + 1))
        mc_log_warn("node", "cannot prune below height %llu: %s",
                    (unsigned long long)(n->head.height - n->keep_blocks + 1), mc_err_detail());
    /* Recheck what is left against the new committed state. */
    if (check_rebuild(n)) mc_log_warn("node", "cannot rebuild the check state: %s", mc_err_detail());
    mempool_maintain(n);
    journal_after_commit(n);
    n->txs_committed += c->header.tx_count;
    uint64_t now = now_ms();
    uint64_t latency = now > c->header.time_ms ? now - c->header.time_ms : 0;
    static const uint64_t bounds[MC_NODE_LATENCY_BUCKETS] = MC_NODE_LATENCY_BOUNDS;
    int b = 0;
    while (b < MC_NODE_LATENCY_BUCKETS && latency > bounds[b]) b++;
    n->latency_buckets[b]++;
    n->latency_sum_ms += latency;
    n->latency_count++;
    char hx[65];
    mc_hex_encode(hx, c->hash.b, 32);
    mc_log_info("node", "committed block %llu: %u txs, hash %.16s, log size %llu, %llu ms after its proposal, round %u",
                (unsigned long long)c->header.height, c->header.tx_count, hx,
                (unsigned long long)c->header.log_size, (unsigned long long)latency, n->round);
}

bool mc_node__verified(void *ctx, const mc_hash *tx_id) {
    struct mc_node *n = ctx;
    return mc_mempool_contains(n->pool, tx_id);
}

static int tx_status_one(struct mc_node *n, const mc_hash *id, struct mc_tx_status *out,
                         struct mc_buf *tx_bytes) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&n->lock);
    int rc = mc_store_find_tx(n->store, id, &out->height, &out->index, &out->log_index);
    if (rc == 0) {
        out->state = MC_TX_COMMITTED;
        if (tx_bytes) rc = mc_store_get_tx(n->store, out->height, out->index, tx_bytes, NULL, NULL);
        uint64_t below = 0;
        if (rc == MC_ERR_NOT_FOUND && mc_store_pruned_below(n->store, &below) == 0 && out->height < below)
            rc = 0; /* committed; its bytes were pruned (tx_bytes left empty) */
    } else if (rc == MC_ERR_NOT_FOUND) {
        rc = 0;
        const struct mc_mempool_tx *p = mc_mempool_get(n->pool, id);
        if (p) {
            out->state = MC_TX_PENDING;
            if (tx_bytes) mc_buf_append(tx_bytes, p->bytes, p->len);
        } else if (mc_mempool_rejected(n->pool, id, &out->err, out->reason, sizeof out->reason) == 0) {
            out->state = MC_TX_REJECTED;
        } else {
            out->state = MC_TX_UNKNOWN;
        }
    }
    pthread_mutex_unlock(&n->lock);
    return rc;
}

int mc_node_tx_status(struct mc_node *n, const mc_hash *id, struct mc_tx_status *out,
                      struct mc_buf *tx_bytes) {
    /* A node transaction re-signed after a rejection moved its nonce is
     * followed to its replacement (a bounded chain of them). */
    mc_hash cur = *id, by;
    int rc = 0;
    for (int hop = 0; hop < 8; hop++) {
        rc = tx_status_one(n, &cur, out, tx_bytes);
        if (rc || out->state != MC_TX_UNKNOWN) return rc;
        pthread_mutex_lock(&n->lock);
        int missing = mc_mempool_replaced(n->pool, &cur, &by);
        pthread_mutex_unlock(&n->lock);
        if (missing) return 0; /* unknown */
        cur = by;
    }
    return rc;
}

void mc_node_status(struct mc_node *n, struct mc_node_status *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&n->lock);
    snprintf(out->chain_id, sizeof out->chain_id, "%s", n->genesis.chain_id);
    out->height = mc_app_height(n->app);
    out->latest_hash = n->head.hash;
    out->latest_time_ms = n->head.time_ms;
    out->peers = n->peers_up;
    out->is_validator = n->validator_index >= 0;
    out->node_key = n->node_key->pk;
    out->mempool_size = mc_mempool_size(n->pool) + mc_mempool_queued_count(n->pool);
    mc_app_log(n->app, &out->log_size, &out->log_root);
    out->txs_committed = n->txs_committed;
    out->state_synced_from = n->state_synced_from;
    pthread_mutex_unlock(&n->lock);
}

void mc_node_metrics(struct mc_node *n, struct mc_node_metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_lock(&n->lock);
    m->height = n->head.height;
    m->round = n->round;
    m->peers = n->peers_up;
    m->mempool_size = mc_mempool_size(n->pool) + mc_mempool_queued_count(n->pool);
    m->txs_committed = n->txs_committed;
    memcpy(m->latency_buckets, n->latency_buckets, sizeof m->latency_buckets);
    m->latency_sum_ms = n->latency_sum_ms;
    m->latency_count = n->latency_count;
    m->evidence_seen = n->evidence_seen;
    m->is_validator = n->validator_index >= 0;
    m->node_key_age_days = node_key_age(n);
    m->key_max_age_days = n->key_max_age_days;
    m->store_recoveries = n->store_recoveries;
    mc_driver_timeouts(n, m->timeout_ms);
    pthread_mutex_unlock(&n->lock);
    m->signature_verifications = mc_sign_verify_count();
}

bool mc_node_store_failed(const struct mc_node *n) {
    return n->fatal == MC_ERR_DB || n->fatal == MC_ERR_IO;
}

void mc_node_set_store_recoveries(struct mc_node *n, uint32_t count) {
    pthread_mutex_lock(&n->lock);
    n->store_recoveries = count;
    pthread_mutex_unlock(&n->lock);
}

int mc_node_query(struct mc_node *n, int (*fn)(void *, struct mc_store *, struct mc_app *),
                  void *ctx) {
    pthread_mutex_lock(&n->lock);
    /* one snapshot and one read lock for all the query's reads */
    int rc = mc_store_read_begin(n->store);
    if (!rc) {
        rc = fn(ctx, n->store, n->app);
        mc_store_read_end(n->store);
    }
    pthread_mutex_unlock(&n->lock);
    return rc;
}

int mc_node__queue_local(struct mc_node *n, uint16_t type, const uint8_t *payload, size_t len) {
    size_t max = mc_txtypes_payload_max(type);
    if (max == 0) return mc_err_set(MC_ERR_INVALID, "unknown transaction type %u", type);
    if (len > max) return mc_err_set(MC_ERR_TOO_LARGE, "payload of %zu bytes exceeds %zu", len, max);
    if (!n->outbox) n->outbox = calloc(MC_NODE_OUTBOX_MAX, sizeof *n->outbox);
    if (!n->outbox) return MC_ERR_NOMEM;
    if (n->outbox_count >= MC_NODE_OUTBOX_MAX)
        return mc_err_set(MC_ERR_FULL, "the node's own transaction queue is full");
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return MC_ERR_NOMEM;
    if (len) memcpy(copy, payload, len);
    n->outbox[n->outbox_count++] = (struct outbox_tx){type, copy, len};
    return 0;
}

int mc_node_submit_local(struct mc_node *n, uint16_t type, const uint8_t *payload, size_t len) {
    pthread_mutex_lock(&n->lock);
    int rc = mc_node__queue_local(n, type, payload, len);
    pthread_mutex_unlock(&n->lock);
    return rc;
}

/* Signs the queued local transactions and admits them to the mempool
 * (lock held, between blocks), each checked against the check state like
 * mc_node_submit_signed; one that would be rejected is dropped with a
 * warning and takes no nonce. Also expires gapped transactions. */
void mc_node__flush_outbox(struct mc_node *n) {
    mempool_maintain(n);
    if (n->outbox_count == 0) return;
    struct mc_account acc;
    if (check_ensure(n) || check_account(n, &n->node_key->pk, &acc) ||
        acc.status != MC_ACCOUNT_ACTIVE) {
        mc_log_warn("node", "dropping %u local transactions: the node key has no active account",
                    n->outbox_count);
        goto drop;
    }
    for (uint32_t i = 0; i < n->outbox_count; i++)
        if (submit_local_locked(n, n->outbox[i].type, n->outbox[i].payload, n->outbox[i].len, NULL))
            mc_log_warn("node", "dropping a local %s transaction: %s",
                        mc_txtypes_name(n->outbox[i].type), mc_err_detail());
drop:
    for (uint32_t i = 0; i < n->outbox_count; i++) free(n->outbox[i].payload);
    n->outbox_count = 0;
}

/* Tests and tools drive a single validator without its event loop: cut a
 * block from what is pending now, certify it with our own precommit and
 * commit it. No block when nothing pending can go in. */
static int produce_block(struct mc_node *n) {
    if (n->validator_index < 0 || mc_node__valset(n)->count != 1)
        return mc_err_set(MC_ERR_STATE, "only a single validator cuts blocks on its own");
    if (mc_node__upgrade_halt(n, n->head.height + 1)) return mc_err_set(MC_ERR_STATE, "%s", n->halt_reason);
    mc_node__flush_outbox(n);
    mc_mempool_compact(n->pool);
    uint32_t pending = mc_mempool_size(n->pool);
    if (pending == 0) return 0;
    uint32_t max = pending < MC_BLOCK_TXS_MAX ? pending : MC_BLOCK_TXS_MAX;
    const struct mc_mempool_tx **cand = malloc(max * sizeof *cand);
    struct mc_tx_ref *txs = malloc(max * sizeof *txs);
    if (!cand || !txs) {
        free(cand);
        free(txs);
        return MC_ERR_NOMEM;
    }
    uint32_t k = mc_mempool_peek(n->pool, cand, max);
    for (uint32_t i = 0; i < k; i++) txs[i] = (struct mc_tx_ref){cand[i]->bytes, cand[i]->len};
    struct { struct mc_node *n; const struct mc_mempool_tx **cand; } bc = {n, cand};
    struct mc_candidate c;
    int rc = mc_blockexec_build(n->app, &n->genesis, &n->head, &n->consensus_key->pk, now_ms(), txs, k,
                            mc_node__rejected, &bc, &c);
    free(txs);
    free(cand);
    if (rc) return rc;
    if (c.header.tx_count == 0) {
        mc_mempool_compact(n->pool);
        mc_blockexec_candidate_deinit(&c);
        return 0;
    }
    struct mc_vote v = {.type = MC_VOTE_PRECOMMIT, .height = c.header.height, .round = 0,
                        .has_block = true, .block_hash = c.hash,
                        .validator = (uint16_t)n->validator_index};
    mc_vote_sign(&v, n->consensus_key, n->genesis.chain_id);
    struct mc_commit cert;
    mc_commit_init(&cert, c.header.height, 0, &c.hash);
    rc = mc_commit_add(&cert, &v);
    if (!rc) {
        rc = mc_blockexec_commit(n->store, n->app, &n->genesis, &n->head, &c, &cert, mc_node__verified, n);
        /* as in the driver: a store that failed under a commit stops the
         * node (its memory may disagree with its disk); it restarts from
         * the last committed block */
        if (rc == MC_ERR_DB || rc == MC_ERR_IO) {
            mc_log_error("node", "cannot commit block %llu: %s; the node stops",
                         (unsigned long long)c.header.height, mc_err_detail());
            n->fatal = rc;
        }
    }
    if (!rc) mc_node__after_commit(n, &c);
    mc_blockexec_candidate_deinit(&c);
    return rc;
}

void mc_node__rejected(void *ctx, uint32_t index, int err, const char *reason) {
    struct { struct mc_node *n; const struct mc_mempool_tx **cand; } *bc = ctx;
    mc_log_info("node", "left out a transaction: %s", reason);
    mc_mempool_note_rejected(bc->n->pool, &bc->cand[index]->id, err, reason);
    mc_mempool_remove(bc->n->pool, &bc->cand[index]->id);
}

int mc_node_commit_pending(struct mc_node *n) {
    pthread_mutex_lock(&n->lock);
    int rc = n->fatal ? mc_err_set(n->fatal, "%s", n->halt_reason[0] ? n->halt_reason
                                                    : "the node stopped after a store failure; restart it")
                      : produce_block(n);
    pthread_mutex_unlock(&n->lock);
    return rc;
}

/* The node is the hub of its loop: the peer network's callbacks and the
 * tick come here and go to the consensus driver (driver.c) or to
 * ciphertext replication (replicate.c), which never call each other. */

static void on_tick(uv_timer_t *t) {
    struct mc_node *n = t->data;
    mc_driver_tick(n);
    mc_node__lock(n);
    if (!n->fatal) mc_repl_tick(n);
    mc_node__unlock(n);
    if (n->fatal) uv_stop(&n->loop);
}

static void on_net_message(void *ctx, const mc_pubkey *from, const uint8_t *msg, size_t len) {
    struct mc_node *n = ctx;
    if (len >= 1 && (msg[0] == MC_WIRE_GET_BLOB || msg[0] == MC_WIRE_BLOB || msg[0] == MC_WIRE_GET_BLOB_PART ||
                     msg[0] == MC_WIRE_BLOB_PART)) {
        mc_node__lock(n);
        mc_repl_on_wire(n, from, msg, len);
        mc_node__unlock(n);
        return;
    }
    if (len >= 1 && mc_wire_is_snap(msg[0])) {
        mc_node__lock(n);
        mc_snapshots_on_wire(n, from, msg, len);
        mc_node__unlock(n);
        return;
    }
    mc_driver_on_message(ctx, from, msg, len);
}

static void on_net_peer(void *ctx, const mc_pubkey *key, bool up) {
    struct mc_node *n = ctx;
    mc_driver_on_peer(ctx, key, up);
    bool held = mc_node__locked_here(); /* a peer dropped by our own handler */
    if (!held) mc_node__lock(n);
    mc_repl_on_peer(n, key, up);
    if (!held) mc_node__unlock(n);
}

/* API threads queue admitted transactions for gossip; the loop sends them. */
static void gossip_queue(struct mc_node *n, const uint8_t *tx, size_t len) {
    if (!n->running || !n->net) return;
    pthread_mutex_lock(&n->gossip_lock);
    if (n->gossip_count < MC_MEMPOOL_TXS_MAX) {
        mc_enc_bytes32(&n->gossip, tx, len);
        if (!n->gossip.err) n->gossip_count++;
        else n->gossip.err = 0; /* full: the transaction still commits here */
    }
    pthread_mutex_unlock(&n->gossip_lock);
    uv_async_send(&n->wake_async);
}

static void on_wake(uv_async_t *a) {
    struct mc_node *n = a->data;
    pthread_mutex_lock(&n->gossip_lock);
    struct mc_buf q = n->gossip;
    mc_buf_init(&n->gossip, MC_NODE_GOSSIP_BYTES_MAX);
    n->gossip_count = 0;
    pthread_mutex_unlock(&n->gossip_lock);
    struct mc_dec d;
    mc_dec_init(&d, q.data, q.len);
    struct mc_buf w;
    mc_buf_init(&w, 0);
    while (n->net && d.pos < d.len && !d.err) {
        size_t len;
        const uint8_t *tx = mc_dec_bytes32(&d, &len, MC_TX_MAX);
        if (!tx) break;
        mc_buf_reset(&w);
        mc_enc_u8(&w, 3 /* MC_WIRE_TX */);
        mc_enc_fixed(&w, tx, len);
        if (!w.err) mc_net_broadcast(n->net, w.data, w.len);
    }
    mc_buf_deinit(&w);
    mc_buf_deinit(&q);
    mc_driver_tick(n); /* a waiting proposer may build now */
}

static void on_signal(uv_signal_t *s, int signum) {
    struct mc_node *n = s->data;
    mc_log_info("node", "signal %d: stopping", signum);
    uv_stop(&n->loop);
}

static void on_stop(uv_async_t *a) { uv_stop(a->loop); }

void mc_node_stop(struct mc_node *n) {
    if (n->running) uv_async_send(&n->stop_async);
}

int mc_node_run(struct mc_node *n) {
    /* A peer that vanishes mid-write must not kill the node: libuv writes
     * to sockets with write(2), so a closed peer raises SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    uv_timer_init(&n->loop, &n->tick);
    uv_signal_init(&n->loop, &n->sigint);
    uv_signal_init(&n->loop, &n->sigterm);
    uv_async_init(&n->loop, &n->stop_async, on_stop);
    uv_async_init(&n->loop, &n->wake_async, on_wake);
    n->tick.data = n->sigint.data = n->sigterm.data = n->stop_async.data = n->wake_async.data = n;
    uv_signal_start(&n->sigint, on_signal, SIGINT);
    uv_signal_start(&n->sigterm, on_signal, SIGTERM);
    int rc = 0;
    if (n->has_p2p) {
        struct mc_net_config cfg = {.chain_id = n->genesis.chain_id, .node_key = n->node_key,
                                    .listen_host = n->p2p_host, .listen_port = n->p2p_port,
                                    .is_member = mc_driver_is_member,
                                    .on_message = on_net_message,
                                    .on_peer = on_net_peer, .ctx = n};
        rc = mc_net_start(&n->net, &n->loop, &cfg);
        for (uint32_t i = 0; !rc && i < n->peer_count_cfg; i++)
            rc = mc_net_dial(n->net, n->peers[i].host, n->peers[i].port);
    }
    n->running = true;
    /* Off the consensus path, each on its own thread: the audit exporter
     * (config.json "audit_syslog") and the Subscription deliveries. */
    struct mc_auditexport *audit = NULL;
    if (!rc) rc = mc_auditexport_start(&audit, n->home);
    pthread_mutex_lock(&n->lock);
    n->audit = audit;
    pthread_mutex_unlock(&n->lock);
    if (!rc) rc = mc_notify_start(&n->notify, n);
    if (!rc) {
        mc_node__lock(n);
        rc = mc_driver_start(n);
        mc_node__unlock(n);
    }
    if (!rc) {
        uv_timer_start(&n->tick, on_tick, 20, 20);
        char hx[65];
        mc_hex_encode(hx, n->node_key->pk.b, 32);
        mc_log_info("node", "chain %s at height %llu, node key %.16s, %s, %u peers configured%s%s",
                    n->genesis.chain_id, (unsigned long long)n->head.height, hx,
                    n->validator_index >= 0 ? "validator" : "not a validator", n->peer_count_cfg,
                    n->has_p2p ? ", peer port " : "", n->has_p2p ? n->p2p_host : "");
        uv_run(&n->loop, UV_RUN_DEFAULT);
    }
    n->running = false;
    mc_notify_stop(n->notify);
    n->notify = NULL;
    pthread_mutex_lock(&n->lock);
    n->audit = NULL;
    pthread_mutex_unlock(&n->lock);
    mc_auditexport_stop(audit);
    if (n->net) {
        mc_net_stop(n->net);
        n->net = NULL;
    }
    uv_timer_stop(&n->tick);
    uv_run(&n->loop, UV_RUN_NOWAIT);
    if (rc) return rc;
    if (n->fatal) return mc_err_set(n->fatal, "%s", n->halt_reason[0] ? n->halt_reason
                                                   : "node stopped after a store failure");
    return 0;
}
