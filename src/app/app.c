/* The ledger application: envelope checks, the sender/nonce rules shared by
 * every transaction, dispatch to the module that owns the type, and the
 * block life cycle (see app.h). */
#include "app/app.h"

#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "app/smart.h"
#include "app/research.h"
#include "app/supply.h"
#include "app/supply_product.h"
#include "app/equivocation.h"
#include "app/governance.h"
#include "app/txtypes.h"
#include "base/assert.h"

static const uint8_t LOG_KEY[] = "m/log";

struct mc_app {
    struct mc_state *st;
    struct mc_genesis genesis;
    uint64_t height;                       /* last committed */
    uint64_t time_ms;                      /* its block time (genesis time at 0) */
    mc_hash state_hash;                    /* after `height` */
    struct mc_merkle_frontier log;         /* after `height` */
    bool in_block;
    uint64_t block_height, block_time_ms;
    struct mc_merkle_frontier block_log;   /* log while the block is open */
    mc_hash block_state_hash;
};

const struct mc_genesis *mc_app_genesis(const struct mc_app *app) { return &app->genesis; }
struct mc_state *mc_app_state(struct mc_app *app) { return app->st; }
uint64_t mc_app_height(const struct mc_app *app) { return app->height; }
void mc_app_state_hash(const struct mc_app *app, mc_hash *out) { *out = app->state_hash; }

void mc_app_log(const struct mc_app *app, uint64_t *size, mc_hash *root) {
    *size = app->log.size;
    mc_merkle_frontier_root(&app->log, root);
}

/* Writes the genesis organisations, admins and validator node accounts. */
static int put_genesis(struct mc_state *st, const struct mc_genesis *g) {
    int rc = 0;
    for (uint32_t i = 0; i < g->org_count && !rc; i++) {
        const struct mc_org *o = &g->orgs[i];
        rc = mc_identity_put_org(st, o);
        struct mc_account admin = {.key = o->admin, .role = MC_ROLE_ADMIN,
                                   .status = MC_ACCOUNT_ACTIVE, .org = o->id};
        snprintf(admin.name, sizeof admin.name, "admin of %s", o->name);
        if (!rc) rc = mc_identity_put_account(st, &admin);
    }
    for (uint32_t i = 0; i < g->valset.count && !rc; i++) {
        struct mc_account node = {.key = g->valset.v[i].pk, .role = MC_ROLE_NODE,
                                  .status = MC_ACCOUNT_ACTIVE, .org = g->validator_org[i]};
        snprintf(node.name, sizeof node.name, "%s", g->valset.v[i].name);
        rc = mc_identity_put_account(st, &node);
    }
    for (uint32_t i = 0; i < g->node_count && !rc; i++) {
        struct mc_account node = {.key = g->nodes[i].key, .role = MC_ROLE_NODE,
                                  .status = MC_ACCOUNT_ACTIVE, .org = g->nodes[i].org};
        snprintf(node.name, sizeof node.name, "%s", g->nodes[i].name);
        rc = mc_identity_put_account(st, &node);
    }
    struct mc_merkle_frontier empty;
    mc_merkle_frontier_init(&empty);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_merkle_frontier_encode(&b, &empty);
    if (!rc) rc = b.err ? b.err : mc_state_put(st, LOG_KEY, sizeof LOG_KEY - 1, b.data, b.len);
    mc_buf_deinit(&b);
    return rc;
}

static int load_log(struct mc_app *app) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = mc_state_get(app->st, LOG_KEY, sizeof LOG_KEY - 1, &b);
    if (!rc) rc = mc_merkle_frontier_decode(&app->log, b.data, b.len);
    if (rc) rc = mc_err_set(MC_ERR_TAMPERED, "ledger log frontier missing or corrupt in state");
    mc_buf_deinit(&b);
    return rc;
}

int mc_app_log_frontier(struct mc_kv *kv, struct mc_merkle_frontier *f) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = mc_kv_get(kv, LOG_KEY, sizeof LOG_KEY - 1, &b);
    if (!rc) rc = mc_merkle_frontier_decode(f, b.data, b.len);
    if (rc) rc = mc_err_set(MC_ERR_TAMPERED, "ledger log frontier missing or corrupt in state");
    mc_buf_deinit(&b);
    return rc;
}

int mc_app_write_genesis(struct mc_kv *kv, const struct mc_genesis *g, mc_hash *state_hash) {
    struct mc_buf probe;
    mc_buf_init(&probe, 0);
    int have = mc_kv_get(kv, LOG_KEY, sizeof LOG_KEY - 1, &probe);
    mc_buf_deinit(&probe);
    if (have == 0) return mc_err_set(MC_ERR_EXISTS, "the store already holds a genesis state");
    if (have != MC_ERR_NOT_FOUND) return have;
    /* The overlay's hash key only spreads keys over its table; the genesis
     * is the operator's own file, so a fixed key is safe here. */
    static const uint8_t fixed_key[MC_STATE_HASH_KEY_BYTES];
    struct mc_state *st;
    int rc = mc_state_create(&st, kv, fixed_key);
    if (rc) return rc;
    rc = put_genesis(st, g);
    if (!rc) {
        /* S_0 is the state root over the genesis rows. */
        mc_state_tx_commit(st);
        rc = mc_state_block_root(st, state_hash);
        if (!rc) rc = mc_state_block_flush(st);
    }
    mc_state_destroy(st);
    return rc;
}

int mc_app_open(struct mc_app **out, struct mc_kv *kv, const struct mc_genesis *g,
                const struct mc_app_tip *tip, const uint8_t hash_key[MC_STATE_HASH_KEY_BYTES]) {
    *out = NULL;
    struct mc_app *app = calloc(1, sizeof *app);
    if (!app) return MC_ERR_NOMEM;
    app->genesis = *g;
    app->height = tip->height;
    app->time_ms = tip->time_ms;
    app->state_hash = tip->state_hash;
    int rc = mc_state_create(&app->st, kv, hash_key);
    if (!rc) rc = load_log(app);
    if (rc) {
        mc_app_close(app);
        return rc;
    }
    *out = app;
    return 0;
}

void mc_app_close(struct mc_app *app) {
    if (!app) return;
    mc_state_destroy(app->st);
    free(app);
}

int mc_app_check_envelope(const struct mc_app *app, const struct mc_tx *tx, const uint8_t *bytes,
                          size_t len, bool verify_sig) {
    if (strcmp(tx->chain_id, app->genesis.chain_id) != 0)
        return mc_err_set(MC_ERR_WRONG_CHAIN, "transaction is for chain '%s', this is '%s'",
                          tx->chain_id, app->genesis.chain_id);
    size_t max = mc_txtypes_payload_max(tx->type);
    if (max == 0) return mc_err_set(MC_ERR_INVALID, "unknown transaction type %u", tx->type);
    if (tx->payload_len > max)
        return mc_err_set(MC_ERR_TOO_LARGE, "%s payload is %zu bytes, the maximum is %zu",
                          mc_txtypes_name(tx->type), tx->payload_len, max);
    if (tx->nonce == 0) return mc_err_set(MC_ERR_BAD_NONCE, "nonce must start at 1");
    if (verify_sig && mc_tx_verify_signature(tx, bytes, len))
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "transaction signature does not verify");
    return 0;
}

/* Sender and nonce rules, then the type's handler. Leaves its writes in the
 * tx overlay; the caller commits or aborts them. */
static int execute(struct mc_app *app, struct mc_exec *ex) {
    int rc = mc_identity_get_account(app->st, &ex->tx->sender, &ex->sender);
    if (rc == MC_ERR_NOT_FOUND)
        return mc_err_set(MC_ERR_UNKNOWN_ACCOUNT, "sender is not an account on this ledger");
    if (rc) return rc;
    if (ex->sender.status == MC_ACCOUNT_REVOKED)
        return mc_err_set(MC_ERR_REVOKED, "sender's account was revoked at height %llu",
                          (unsigned long long)ex->sender.since_height);
    if (ex->sender.status == MC_ACCOUNT_ROTATED)
        return mc_err_set(MC_ERR_REVOKED, "sender's key was rotated away at height %llu",
                          (unsigned long long)ex->sender.since_height);
    if (ex->tx->nonce <= ex->sender.nonce)
        return mc_err_set(MC_ERR_BAD_NONCE, "nonce %llu already used (replay); next is %llu",
                          (unsigned long long)ex->tx->nonce,
                          (unsigned long long)ex->sender.nonce + 1);
    if (ex->tx->nonce != ex->sender.nonce + 1)
        return mc_err_set(MC_ERR_BAD_NONCE, "nonce %llu is ahead; next is %llu",
                          (unsigned long long)ex->tx->nonce,
                          (unsigned long long)ex->sender.nonce + 1);
    /* A suspended or removed organisation's members and nodes are
     * inactive: their accounts stay (history), their transactions do not. */
    if (ex->sender.org != 0) {
        uint8_t standing;
        if ((rc = mc_governance_org_standing(app->st, ex->sender.org, &standing))) return rc;
        if (standing != MC_ORG_ACTIVE)
            return mc_err_set(MC_ERR_REVOKED, "sender's organisation %u is %s", ex->sender.org,
                              mc_org_status_name(standing));
    }
    uint64_t tx_max;
    if ((rc = mc_governance_param(app->st, MC_GOV_PARAM_TX_BYTES, &tx_max))) return rc;
    if (ex->tx_len > tx_max)
        return mc_err_set(MC_ERR_TOO_LARGE, "transaction is %zu bytes, the ledger's tx_bytes is %llu",
                          ex->tx_len, (unsigned long long)tx_max);
    ex->sender.nonce = ex->tx->nonce;
    if ((rc = mc_identity_put_account(app->st, &ex->sender))) return rc;
    switch (ex->tx->type) {
    case MC_TX_ENROLL_MEMBER:
    case MC_TX_REVOKE_MEMBER:
    case MC_TX_REGISTER_PATIENT:
    case MC_TX_ROTATE_KEY: return mc_identity_execute(ex);
    case MC_TX_EVIDENCE: return mc_equivocation_execute(ex);
    case MC_TX_GOV_PROPOSE:
    case MC_TX_GOV_VOTE:
    case MC_TX_NODE_ROTATE: return mc_governance_execute(ex);
    case MC_TX_RECORD_ANCHOR:
    case MC_TX_RECORD_ACCESS:
    case MC_TX_RECORD_GRANT:
    case MC_TX_RECORD_REVOKE:
    case MC_TX_RECORD_ERASE:
    case MC_TX_RECORD_REVIEW: return mc_records_execute(ex);
    case MC_TX_SMART_CLIENT:
    case MC_TX_SMART_CLIENT_REVOKE:
    case MC_TX_SMART_TOKEN: return mc_smart_execute(ex);
    case MC_TX_DRUG_COMMISSION:
    case MC_TX_DRUG_AGGREGATE:
    case MC_TX_DRUG_DISAGGREGATE:
    case MC_TX_DRUG_SHIP:
    case MC_TX_DRUG_RECEIVE:
    case MC_TX_DRUG_DISPENSE:
    case MC_TX_DRUG_DECOMMISSION:
    case MC_TX_DRUG_RECALL:
    case MC_TX_DRUG_FLAG:
    case MC_TX_DRUG_SCAN: return mc_supply_execute(ex);
    case MC_TX_DRUG_PRODUCT: return mc_supply_product_execute(ex);
    case MC_TX_STUDY_REGISTER:
    case MC_TX_RESEARCH_CONSENT:
    case MC_TX_RESEARCH_QUERY:
    case MC_TX_TRIAL_ENROL:
    case MC_TX_TRIAL_AMEND:
    case MC_TX_TRIAL_CLOSE:
    case MC_TX_TRIAL_LOCK:
    case MC_TX_TRIAL_RESULTS: return mc_research_execute(ex);
    default: return mc_err_set(MC_ERR_INVALID, "unknown transaction type %u", ex->tx->type);
    }
}

int mc_app_valset_at(struct mc_app *app, uint64_t height, struct mc_gov_valset *out) {
    return mc_governance_valset_at(app->st, &app->genesis, height, out);
}

int mc_app_param(struct mc_app *app, uint8_t param, uint64_t *value) {
    return mc_governance_param(app->st, param, value);
}

int mc_app_check_tx(struct mc_app *app, const struct mc_tx *tx, const uint8_t *bytes, size_t len,
                    uint64_t *next_nonce) {
    if (app->in_block) return MC_ERR_STATE;
    struct mc_exec ex = {.st = app->st, .genesis = &app->genesis, .chain_id = app->genesis.chain_id,
                         /* Admission judges time-dependent rules (expiry)
                          * at the last block's time; the block re-checks. */
                         .height = app->height + 1, .time_ms = app->time_ms, .tx = tx,
                         .tx_bytes = bytes, .tx_len = len};
    mc_tx_id(&ex.tx_id, bytes, len);
    int rc = mc_identity_get_account(app->st, &tx->sender, &ex.sender);
    if (rc == MC_ERR_NOT_FOUND)
        return mc_err_set(MC_ERR_UNKNOWN_ACCOUNT, "sender is not an account on this ledger");
    if (rc) return rc;
    *next_nonce = ex.sender.nonce + 1;
    if (tx->nonce < *next_nonce)
        return mc_err_set(MC_ERR_BAD_NONCE, "nonce %llu already used (replay); next is %llu",
                          (unsigned long long)tx->nonce, (unsigned long long)*next_nonce);
    /* A transaction ahead of the committed nonce waits in the mempool for its
     * predecessors; only the next one can be run against committed state. */
    if (tx->nonce != *next_nonce) {
        if (ex.sender.status != MC_ACCOUNT_ACTIVE)
            return mc_err_set(MC_ERR_REVOKED, "sender's account is %s",
                              mc_account_status_name(ex.sender.status));
        return 0;
    }
    rc = execute(app, &ex);
    mc_state_tx_abort(app->st);
    return rc;
}

int mc_app_begin_block(struct mc_app *app, uint64_t height, uint64_t time_ms) {
    if (app->in_block || height != app->height + 1) return MC_ERR_STATE;
    /* Passed proposals take effect before the block's transactions. */
    int rc = mc_governance_begin_block(app->st, &app->genesis, height);
    if (rc) {
        mc_state_tx_abort(app->st);
        mc_state_block_abort(app->st);
        return rc;
    }
    mc_state_tx_commit(app->st);
    app->in_block = true;
    app->block_height = height;
    app->block_time_ms = time_ms;
    app->block_log = app->log;
    return 0;
}

int mc_app_deliver(struct mc_app *app, const uint8_t *bytes, size_t len, bool verify_sig) {
    if (!app->in_block) return MC_ERR_STATE;
    struct mc_tx tx;
    int rc = mc_tx_decode(&tx, bytes, len);
    if (rc) return mc_err_set(rc, "transaction does not decode (%s)", mc_err_name(rc));
    if ((rc = mc_app_check_envelope(app, &tx, bytes, len, verify_sig))) return rc;
    struct mc_exec ex = {.st = app->st, .genesis = &app->genesis, .chain_id = app->genesis.chain_id,
                         .height = app->block_height, .time_ms = app->block_time_ms, .tx = &tx,
                         .tx_bytes = bytes, .tx_len = len};
    mc_tx_id(&ex.tx_id, bytes, len);
    rc = execute(app, &ex);
    if (rc) {
        mc_state_tx_abort(app->st);
        return rc;
    }
    mc_state_tx_commit(app->st);
    mc_hash leaf;
    mc_merkle_leaf_hash(&leaf, bytes, len);
    mc_merkle_frontier_append(&app->block_log, &leaf);
    return 0;
}

int mc_app_end_block(struct mc_app *app, mc_hash *state_hash, uint64_t *log_size,
                     mc_hash *log_root) {
    if (!app->in_block) return MC_ERR_STATE;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_merkle_frontier_encode(&b, &app->block_log);
    /* A frontier is at most 64 hashes, far inside the state's bounds. */
    MC_ASSERT(b.err == 0);
    int rc = mc_state_put(app->st, LOG_KEY, sizeof LOG_KEY - 1, b.data, b.len);
    MC_ASSERT(rc == 0);
    mc_buf_deinit(&b);
    mc_state_tx_commit(app->st);
    rc = mc_state_block_root(app->st, &app->block_state_hash);
    if (rc) return rc;
    *state_hash = app->block_state_hash;
    *log_size = app->block_log.size;
    mc_merkle_frontier_root(&app->block_log, log_root);
    return 0;
}

int mc_app_commit_block(struct mc_app *app) {
    if (!app->in_block) return MC_ERR_STATE;
    int rc = mc_state_block_flush(app->st);
    if (rc) return rc;
    app->in_block = false;
    app->height = app->block_height;
    app->time_ms = app->block_time_ms;
    app->state_hash = app->block_state_hash;
    app->log = app->block_log;
    return 0;
}

void mc_app_abort_block(struct mc_app *app) {
    mc_state_block_abort(app->st);
    app->in_block = false;
}
