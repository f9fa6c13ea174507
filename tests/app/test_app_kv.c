/* The application over storage passed in: the same blocks executed over an
 * in-memory key-value store (tests/support/memkv.c) and over the chain
 * store's SQLite state table give the same state hash after every block,
 * the same ledger log and the same rows. The blocks carry identity,
 * records, supply and research transactions. A failed write batch leaves
 * the store as it was, and the comparison is shown to catch a divergence. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/memkv.h"
#include "../support/testutil.h"
#include "app/app.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/research.h"
#include "app/supply.h"
#include "chain/store.h"
#include "node/blockexec.h"

#define CHAIN "medchain-kv"
#define T0 1764201600000ULL
#define GTIN "09506000134352"

struct person {
    struct mc_keypair kp;
    uint64_t nonce;
};

struct world {
    struct mc_genesis *g;
    struct person admin[5], doc, mfr, dist, researcher, patient;
    /* SQLite side: the node's path (mc_blockexec_app_open). */
    struct mc_store *store;
    struct mc_app *sql;
    /* Memory side. */
    struct tu_memkv *mem;
    struct mc_app *memapp;
    uint64_t height;
};

struct block {
    uint8_t *tx[8];
    size_t len[8];
    int n;
};

static void add_org(struct mc_genesis *g, struct person *admin, uint32_t id, const char *name,
                    uint8_t kind, const char *gln) {
    mc_keypair_generate(&admin->kp);
    struct mc_org *o = &g->orgs[g->org_count++];
    memset(o, 0, sizeof *o);
    o->id = id;
    snprintf(o->name, sizeof o->name, "%s", name);
    o->kind = kind;
    snprintf(o->gln, sizeof o->gln, "%s", gln);
    o->admin = admin->kp.pk;
}

static void world_start(struct world *w) {
    memset(w, 0, sizeof *w);
    mc_crypto_init();
    struct mc_genesis *g = tu_keep(calloc(1, sizeof *g));
    snprintf(g->chain_id, sizeof g->chain_id, CHAIN);
    g->time_ms = T0;
    add_org(g, &w->admin[1], 1, "General Hospital", MC_ORG_HOSPITAL, "");
    add_org(g, &w->admin[2], 2, "Acme Pharma", MC_ORG_MANUFACTURER, "0950600000002");
    add_org(g, &w->admin[3], 3, "MedDistrib", MC_ORG_DISTRIBUTOR, "4012345000009");
    add_org(g, &w->admin[4], 4, "Research Institute", MC_ORG_RESEARCH, "");
    struct mc_keypair node;
    mc_keypair_generate(&node);
    cr_assert_eq(mc_valset_add(&g->valset, &node.pk, 1, "node-1"), 0);
    g->validator_org[0] = 1;
    /* Only a genesis that parses is one a node would run. */
    char *json = mc_genesis_to_json(g);
    cr_assert(json);
    w->g = tu_keep(calloc(1, sizeof *w->g));
    cr_assert_eq(mc_genesis_parse(w->g, json, strlen(json)), 0, "%s", mc_err_detail());
    free(json);

    char *dir = tu_tmpdir("app-kv");
    char *path = tu_keep(tu_path(dir, "chain.db"));
    cr_assert_eq(mc_store_open(&w->store, path, false), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_blockexec_app_open(&w->sql, w->store, w->g), 0, "%s", mc_err_detail());

    w->mem = tu_memkv_create();
    struct mc_app_tip tip = {.height = 0, .time_ms = T0};
    cr_assert_eq(mc_app_write_genesis(tu_memkv_kv(w->mem), w->g, &tip.state_hash), 0, "%s",
                 mc_err_detail());
    static const uint8_t key[MC_STATE_HASH_KEY_BYTES] = {1, 2, 3};
    cr_assert_eq(mc_app_open(&w->memapp, tu_memkv_kv(w->mem), w->g, &tip, key), 0, "%s",
                 mc_err_detail());
    /* A second genesis write refuses and changes nothing. */
    mc_hash again;
    size_t rows = tu_memkv_rows(w->mem);
    cr_assert_eq(mc_app_write_genesis(tu_memkv_kv(w->mem), w->g, &again), MC_ERR_EXISTS);
    cr_assert_eq(tu_memkv_rows(w->mem), rows);

    mc_hash a, b;
    mc_app_state_hash(w->sql, &a);
    mc_app_state_hash(w->memapp, &b);
    cr_assert_eq(memcmp(a.b, b.b, 32), 0, "S_0 differs between SQLite and memory");
}

static void world_stop(struct world *w) {
    mc_app_close(w->sql);
    mc_app_close(w->memapp);
    mc_store_close(w->store);
    tu_memkv_destroy(w->mem);
}

static void add(struct block *b, struct person *p, uint16_t type, const void *payload,
                size_t len) {
    cr_assert_lt(b->n, 8);
    b->tx[b->n] = tu_tx(&b->len[b->n], CHAIN, type, &p->kp, ++p->nonce, payload, len);
    b->n++;
}

static void add_buf(struct block *b, struct person *p, uint16_t type, struct mc_buf *payload) {
    cr_assert_eq(payload->err, 0);
    add(b, p, type, payload->data, payload->len);
    mc_buf_deinit(payload);
}

/* Executes one block on an application; gives its state hash and log. */
static void run(struct mc_app *app, uint64_t height, const struct block *b, mc_hash *state,
                uint64_t *log_size, mc_hash *log_root) {
    cr_assert_eq(mc_app_begin_block(app, height, T0 + height * 1000), 0);
    for (int i = 0; i < b->n; i++)
        cr_assert_eq(mc_app_deliver(app, b->tx[i], b->len[i], true), 0,
                     "block %llu tx %d: %s", (unsigned long long)height, i, mc_err_detail());
    cr_assert_eq(mc_app_end_block(app, state, log_size, log_root), 0, "%s", mc_err_detail());
}

/* The same block on both sides: equal state hash and log, then commit. */
static void both(struct world *w, const struct block *b) {
    uint64_t h = ++w->height;
    mc_hash sa, sb, la, lb;
    uint64_t na, nb;
    run(w->sql, h, b, &sa, &na, &la);
    run(w->memapp, h, b, &sb, &nb, &lb);
    cr_assert_eq(memcmp(sa.b, sb.b, 32), 0, "state hash after block %llu differs",
                 (unsigned long long)h);
    cr_assert_eq(na, nb);
    cr_assert_eq(memcmp(la.b, lb.b, 32), 0, "ledger log after block %llu differs",
                 (unsigned long long)h);
    /* As on a node: the state joins the store's SQL transaction. */
    cr_assert_eq(mc_store_begin(w->store), 0);
    cr_assert_eq(mc_app_commit_block(w->sql), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_store_commit(w->store), 0);
    cr_assert_eq(mc_app_commit_block(w->memapp), 0, "%s", mc_err_detail());
}

struct rows {
    uint8_t **k, **v;
    size_t *kn, *vn, n;
};

static int collect(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct rows *r = ctx;
    r->k = realloc(r->k, (r->n + 1) * sizeof *r->k);
    r->v = realloc(r->v, (r->n + 1) * sizeof *r->v);
    r->kn = realloc(r->kn, (r->n + 1) * sizeof *r->kn);
    r->vn = realloc(r->vn, (r->n + 1) * sizeof *r->vn);
    r->k[r->n] = malloc(kn + 1);
    r->v[r->n] = malloc(vn + 1);
    memcpy(r->k[r->n], k, kn);
    if (vn) memcpy(r->v[r->n], v, vn);
    r->kn[r->n] = kn;
    r->vn[r->n] = vn;
    r->n++;
    return 0;
}

static void rows_free(struct rows *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->k[i]);
        free(r->v[i]);
    }
    free(r->k);
    free(r->v);
    free(r->kn);
    free(r->vn);
}

/* Every committed row of both stores, in key order, compared. */
static size_t same_rows(struct world *w) {
    struct rows a = {0}, b = {0};
    cr_assert_eq(mc_kv_scan(mc_store_kv(w->store), "", 0, collect, &a), 0);
    cr_assert_eq(mc_kv_scan(tu_memkv_kv(w->mem), "", 0, collect, &b), 0);
    cr_assert_eq(a.n, b.n, "SQLite holds %zu rows, memory %zu", a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        cr_assert(a.kn[i] == b.kn[i] && memcmp(a.k[i], b.k[i], a.kn[i]) == 0, "row %zu key", i);
        cr_assert(a.vn[i] == b.vn[i] && memcmp(a.v[i], b.v[i], a.vn[i]) == 0, "row %zu value", i);
    }
    size_t n = a.n;
    rows_free(&a);
    rows_free(&b);
    return n;
}

static void enroll(struct block *b, struct person *admin, struct person *m, uint8_t role,
                   const char *name) {
    mc_keypair_generate(&m->kp);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m->kp.pk, role, name);
    add(b, admin, MC_TX_ENROLL_MEMBER, p, pl);
}

/* Blocks 1-4: members, a patient, a lot of packs, a study; a grant, a
 * shipment, a consent; a receipt, a revocation. */
static void drive(struct world *w) {
    struct block b1 = {0}, b2 = {0}, b3 = {0}, b4 = {0};
    enroll(&b1, &w->admin[1], &w->doc, MC_ROLE_CLINICIAN, "Dr Who");
    enroll(&b1, &w->admin[2], &w->mfr, MC_ROLE_MANUFACTURER, "Acme line 1");
    enroll(&b1, &w->admin[3], &w->dist, MC_ROLE_DISTRIBUTOR, "MedDistrib depot");
    enroll(&b1, &w->admin[4], &w->researcher, MC_ROLE_RESEARCHER, "Dr Data");
    both(w, &b1);

    /* Identity: a patient registered by a clinician, co-signed. */
    mc_keypair_generate(&w->patient.kp);
    uint8_t reg[96];
    memcpy(reg, w->patient.kp.pk.b, 32);
    mc_identity_patient_consent_sign(reg + 32, &w->patient.kp, CHAIN, &w->doc.kp.pk);
    add(&b2, &w->doc, MC_TX_REGISTER_PATIENT, reg, sizeof reg);
    /* Supply: three packs commissioned. */
    struct mc_buf p;
    mc_buf_init(&p, 0);
    mc_enc_str8(&p, GTIN);
    mc_enc_str8(&p, "LOT1");
    mc_enc_u32(&p, 20491231);
    mc_enc_u16(&p, 3);
    mc_enc_str8(&p, "S0");
    mc_enc_str8(&p, "S1");
    mc_enc_str8(&p, "S2");
    add_buf(&b2, &w->mfr, MC_TX_DRUG_COMMISSION, &p);
    /* Research: a study with its team. */
    struct mc_research_payload *s = tu_keep(calloc(1, sizeof *s));
    s->type = MC_TX_STUDY_REGISTER;
    snprintf(s->study, sizeof s->study, "kv1");
    snprintf(s->title, sizeof s->title, "Study kv1");
    snprintf(s->sponsor, sizeof s->sponsor, "Acme Pharma");
    snprintf(s->registry_id, sizeof s->registry_id, "NCT0kv1");
    mc_sha256(&s->hash, "kv1", 3);
    snprintf(s->purpose, sizeof s->purpose, "cardio-research");
    s->categories = MC_CAT_RESULTS;
    s->k = 1;
    s->outcomes[0].kind = MC_OUTCOME_PRIMARY;
    snprintf(s->outcomes[0].text, sizeof s->outcomes[0].text, "blood pressure at 12 weeks");
    s->outcome_count = 1;
    s->researchers[s->researcher_count++] = w->researcher.kp.pk;
    mc_buf_init(&p, 0);
    mc_research_encode(&p, s);
    add_buf(&b2, &w->researcher, MC_TX_STUDY_REGISTER, &p);
    both(w, &b2);

    /* Records: the patient grants the clinician the results. */
    mc_buf_init(&p, 0);
    mc_enc_u8(&p, MC_GRANTEE_MEMBER);
    mc_enc_fixed(&p, w->doc.kp.pk.b, 32);
    mc_enc_u32(&p, 0);
    mc_enc_u8(&p, MC_CAT_RESULTS);
    mc_enc_u64(&p, 0);
    mc_enc_u16(&p, 0);
    add_buf(&b3, &w->patient, MC_TX_RECORD_GRANT, &p);
    /* Supply: a pack shipped to the distributor. */
    mc_buf_init(&p, 0);
    mc_enc_u32(&p, 3);
    mc_enc_u16(&p, 1);
    mc_supply_encode_item(&p, MC_SUPPLY_ITEM_UNIT, GTIN, "S0");
    add_buf(&b3, &w->mfr, MC_TX_DRUG_SHIP, &p);
    /* Research: the patient consents to the study. */
    struct mc_research_payload c;
    memset(&c, 0, sizeof c);
    c.type = MC_TX_RESEARCH_CONSENT;
    c.scope = MC_CONSENT_STUDY;
    snprintf(c.study, sizeof c.study, "kv1");
    c.version = 1;
    c.action = MC_CONSENT_PERMIT;
    c.categories = MC_CAT_RESULTS;
    mc_buf_init(&p, 0);
    mc_research_encode(&p, &c);
    add_buf(&b3, &w->patient, MC_TX_RESEARCH_CONSENT, &p);
    both(w, &b3);

    mc_buf_init(&p, 0);
    mc_enc_u16(&p, 1);
    mc_supply_encode_item(&p, MC_SUPPLY_ITEM_UNIT, GTIN, "S0");
    add_buf(&b4, &w->dist, MC_TX_DRUG_RECEIVE, &p);
    uint8_t rp[256];
    size_t rpl = tu_revoke_payload(rp, &w->doc.kp.pk, "left the hospital");
    add(&b4, &w->admin[1], MC_TX_REVOKE_MEMBER, rp, rpl);
    both(w, &b4);
}

Test(app_kv, memory_and_sqlite_give_the_same_state, .timeout = 30) {
    struct world w;
    world_start(&w);
    drive(&w);
    size_t n = same_rows(&w);
    /* Every module left rows: accounts, a patient, a grant, units, a study,
     * a consent. */
    static const char *const prefixes[] = {"rg/", "ys/"};
    for (size_t i = 0; i < 2; i++) {
        struct rows r = {0};
        cr_assert_eq(mc_kv_scan(tu_memkv_kv(w.mem), prefixes[i], 3, collect, &r), 0);
        cr_assert_gt(r.n, 0, "no %s rows", prefixes[i]);
        rows_free(&r);
    }
    cr_assert_gt(n, 20);
    struct mc_supply_unit u;
    cr_assert_eq(mc_supply_get_unit(mc_app_state(w.memapp), GTIN, "S0", &u), 0);
    cr_assert_eq(u.c.owner, 3, "the distributor holds S0");
    world_stop(&w);
}

Test(app_kv, reopened_over_memory_continues_the_chain, .timeout = 30) {
    struct world w;
    world_start(&w);
    drive(&w);
    /* Reopen the memory side at its tip: it reads everything back from the
     * key-value store and stays in step with SQLite. */
    struct mc_app_tip tip = {.height = w.height, .time_ms = T0 + w.height * 1000};
    mc_app_state_hash(w.memapp, &tip.state_hash);
    mc_app_close(w.memapp);
    static const uint8_t key[MC_STATE_HASH_KEY_BYTES] = {9};
    cr_assert_eq(mc_app_open(&w.memapp, tu_memkv_kv(w.mem), w.g, &tip, key), 0);
    struct block b = {0};
    struct mc_buf p;
    mc_buf_init(&p, 0);
    mc_enc_u32(&p, 3);
    mc_enc_u16(&p, 1);
    mc_supply_encode_item(&p, MC_SUPPLY_ITEM_UNIT, GTIN, "S1");
    add_buf(&b, &w.mfr, MC_TX_DRUG_SHIP, &p);
    uint8_t rp[256];
    size_t rpl = tu_revoke_payload(rp, &w.mfr.kp.pk, "line closed");
    add(&b, &w.admin[2], MC_TX_REVOKE_MEMBER, rp, rpl);
    both(&w, &b);
    same_rows(&w);
    world_stop(&w);
}

Test(app_kv, a_failed_write_batch_leaves_nothing, .timeout = 30) {
    struct world w;
    world_start(&w);
    size_t before = tu_memkv_rows(w.mem);
    struct block b = {0};
    struct person m;
    enroll(&b, &w.admin[1], &m, MC_ROLE_CLINICIAN, "Dr Two");
    mc_hash s;
    uint64_t n;
    mc_hash root;
    run(w.memapp, 1, &b, &s, &n, &root);
    /* The second write of the batch fails: commit reports it and not one
     * row of the block reached the store. */
    tu_memkv_fail_put_after(w.mem, 2);
    cr_assert_eq(mc_app_commit_block(w.memapp), MC_ERR_IO);
    cr_assert_eq(tu_memkv_rows(w.mem), before);
    mc_app_abort_block(w.memapp);
    world_stop(&w);
}

Test(app_kv, a_divergent_block_is_caught, .timeout = 30) {
    /* The comparison is not vacuous: one transaction more on one side
     * gives another state hash. */
    struct world w;
    world_start(&w);
    struct block b = {0}, extra = {0};
    struct person m, m2;
    enroll(&b, &w.admin[1], &m, MC_ROLE_CLINICIAN, "Dr Two");
    extra.tx[0] = b.tx[0];
    extra.len[0] = b.len[0];
    extra.n = 1;
    enroll(&extra, &w.admin[2], &m2, MC_ROLE_MANUFACTURER, "Acme line 2");
    mc_hash sa, sb, la, lb;
    uint64_t na, nb;
    run(w.sql, 1, &b, &sa, &na, &la);
    run(w.memapp, 1, &extra, &sb, &nb, &lb);
    cr_assert_neq(memcmp(sa.b, sb.b, 32), 0);
    mc_app_abort_block(w.sql);
    mc_app_abort_block(w.memapp);
    world_stop(&w);
}

struct stop_ctx {
    int answer;
    int calls;
};

static int stop_at_first(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct stop_ctx *s = ctx;
    s->calls++;
    return s->answer;
}

Test(app_kv, scan_stops_early_and_carries_a_callback_error, .timeout = 30) {
    /* The kv contract both stores keep: a positive answer stops with 0, a
     * negative one stops and is the scan's result. */
    struct world w;
    world_start(&w);
    struct mc_kv *kvs[2] = {mc_store_kv(w.store), tu_memkv_kv(w.mem)};
    for (int i = 0; i < 2; i++) {
        struct stop_ctx s = {.answer = 1};
        cr_assert_eq(mc_kv_scan(kvs[i], "", 0, stop_at_first, &s), 0);
        cr_assert_eq(s.calls, 1);
        s = (struct stop_ctx){.answer = MC_ERR_TAMPERED};
        cr_assert_eq(mc_kv_scan(kvs[i], "", 0, stop_at_first, &s), MC_ERR_TAMPERED);
        cr_assert_eq(s.calls, 1);
        s = (struct stop_ctx){.answer = 0};
        cr_assert_eq(mc_kv_scan(kvs[i], "", 0, stop_at_first, &s), 0);
        cr_assert_eq((size_t)s.calls, tu_memkv_rows(w.mem), "every row visited");
    }
    world_stop(&w);
}

Test(app_kv, node_reopens_at_genesis_and_refuses_a_missing_s0, .timeout = 30) {
    /* The node's glue (mc_blockexec_app_open): reopening a store at height 0
     * gives the recorded S_0; a store whose S_0 record was removed is
     * refused as tampered rather than given a fresh genesis. */
    struct world w;
    world_start(&w);
    mc_hash s0, again;
    mc_app_state_hash(w.sql, &s0);
    mc_app_close(w.sql);
    cr_assert_eq(mc_blockexec_app_open(&w.sql, w.store, w.g), 0, "%s", mc_err_detail());
    mc_app_state_hash(w.sql, &again);
    cr_assert_eq(memcmp(s0.b, again.b, 32), 0);
    mc_app_close(w.sql);
    w.sql = NULL;
    cr_assert_eq(sqlite3_exec(mc_store_db(w.store), "DELETE FROM meta WHERE key='genesis_state_hash'",
                              NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(mc_blockexec_app_open(&w.sql, w.store, w.g), MC_ERR_TAMPERED);
    cr_assert(strstr(mc_err_detail(), "genesis state hash missing"), "%s", mc_err_detail());
    world_stop(&w);
}
