/* Drug supply chain driven in-process: the journey manufacturer ->
 * distributor -> pharmacy -> patient, every custody refusal, every verdict,
 * containers, scans and clone alerts, and the pure helpers (civil dates,
 * SSCC check digits, strict payload decoding). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../support/testutil.h"
#include "app/genesis.h"
#include "app/identity.h"
#include "app/supply.h"
#include "base/codec.h"
#include "crypto/keyfile.h"

#define GTIN "09506000134352"
#define GTIN2 "04012345111118"
#define SSCC "106141411234567897"

enum { ORG_HOSP = 1, ORG_MFR = 2, ORG_DIST = 3, ORG_PHARM = 4, ORG_PHARM2 = 5, ORG_REG = 6 };

struct actor {
    struct mc_keypair kp;
    uint64_t nonce;
};

struct world {
    struct tu_node t;
    struct actor admin[7];
    struct actor mfr, dist, pharm, pharm_b, pharm2, reg, doc;
};

static void add_org(struct mc_genesis *g, struct actor *admin, uint32_t id, const char *name,
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

static mc_hash submit(struct world *w, struct actor *a, uint16_t type, const struct mc_buf *p) {
    size_t len;
    uint8_t *tx = tu_tx(&len, w->t.chain_id, type, &a->kp, ++a->nonce, p->data, p->len);
    mc_hash id = tu_submit_ok(&w->t, tx, len);
    free(tx);
    return id;
}

/* Submits and expects the node to refuse at admission with err and a
 * reason containing `why`; the nonce is not consumed. */
static void refused(struct world *w, struct actor *a, uint16_t type, const struct mc_buf *p,
                    int err, const char *why) {
    size_t len;
    uint8_t *tx = tu_tx(&len, w->t.chain_id, type, &a->kp, a->nonce + 1, p->data, p->len);
    int rc = mc_node_submit(w->t.node, tx, len, NULL);
    free(tx);
    cr_assert_eq(rc, err, "[%s] expected %s, got %s (%s)", why, mc_err_name(err), mc_err_name(rc),
                 mc_err_detail());
    cr_assert(strstr(mc_err_detail(), why), "reason '%s' should mention '%s'", mc_err_detail(), why);
}

static void enroll(struct world *w, struct actor *admin, struct actor *m, uint8_t role,
                   const char *name) {
    mc_keypair_generate(&m->kp);
    m->nonce = 0;
    struct mc_buf p;
    mc_buf_init(&p, 0);
    mc_enc_fixed(&p, m->kp.pk.b, 32);
    mc_enc_u8(&p, role);
    mc_enc_str8(&p, name);
    submit(w, admin, MC_TX_ENROLL_MEMBER, &p);
    mc_buf_deinit(&p);
}

static void world_start(struct world *w, const char *tag) {
    memset(w, 0, sizeof *w);
    mc_crypto_init();
    char *dir = tu_tmpdir(tag);
    w->t.home = tu_path(dir, "node");
    free(dir);
    struct mc_init_options opt = {.home = w->t.home, .chain_id = "medchain-test",
                                  .genesis_time_ms = 1764201600000ULL};
    cr_assert_eq(mc_node_init_home(&opt), 0, "init: %s", mc_err_detail());
    char *gp = tu_path(w->t.home, "genesis.json");
    struct mc_genesis *g = malloc(sizeof *g);
    cr_assert_eq(mc_node_genesis_load(g, gp), 0);
    add_org(g, &w->admin[ORG_MFR], ORG_MFR, "Acme Pharma", MC_ORG_MANUFACTURER, "0950600000002");
    add_org(g, &w->admin[ORG_DIST], ORG_DIST, "MedDistrib", MC_ORG_DISTRIBUTOR, "4012345000009");
    add_org(g, &w->admin[ORG_PHARM], ORG_PHARM, "Corner Pharmacy", MC_ORG_PHARMACY, "5412345000020");
    add_org(g, &w->admin[ORG_PHARM2], ORG_PHARM2, "Second Pharmacy", MC_ORG_PHARMACY, "5412345000037");
    add_org(g, &w->admin[ORG_REG], ORG_REG, "Medicines Agency", MC_ORG_REGULATOR, "5412345000044");
    char *json = mc_genesis_to_json(g);
    FILE *f = fopen(gp, "w");
    fputs(json, f);
    fclose(f);
    free(json);
    free(g);
    free(gp);
    char *kp = tu_path(w->t.home, "admin_key.json");
    cr_assert_eq(mc_keyfile_read(&w->admin[ORG_HOSP].kp, kp, NULL), 0);
    free(kp);
    w->t.admin = w->admin[ORG_HOSP].kp;
    snprintf(w->t.chain_id, sizeof w->t.chain_id, "medchain-test");
    cr_assert_eq(mc_node_open(&w->t.node, w->t.home), 0, "open: %s", mc_err_detail());
    enroll(w, &w->admin[ORG_MFR], &w->mfr, MC_ROLE_MANUFACTURER, "Acme line 1");
    enroll(w, &w->admin[ORG_DIST], &w->dist, MC_ROLE_DISTRIBUTOR, "MedDistrib depot");
    enroll(w, &w->admin[ORG_PHARM], &w->pharm, MC_ROLE_PHARMACIST, "Counter A");
    enroll(w, &w->admin[ORG_PHARM], &w->pharm_b, MC_ROLE_PHARMACIST, "Counter B");
    enroll(w, &w->admin[ORG_PHARM2], &w->pharm2, MC_ROLE_PHARMACY, "Second counter");
    enroll(w, &w->admin[ORG_REG], &w->reg, MC_ROLE_REGULATOR, "Inspector");
    enroll(w, &w->admin[ORG_HOSP], &w->doc, MC_ROLE_CLINICIAN, "Dr Who");
    tu_commit(&w->t);
}

/* --- payload builders --- */

static void p_commission(struct mc_buf *p, const char *gtin, const char *lot, uint32_t expiry,
                         int n, const char *prefix) {
    mc_buf_init(p, 0);
    mc_enc_str8(p, gtin);
    mc_enc_str8(p, lot);
    mc_enc_u32(p, expiry);
    mc_enc_u16(p, (uint16_t)n);
    for (int i = 0; i < n; i++) {
        char s[24];
        snprintf(s, sizeof s, "%s%d", prefix, i);
        mc_enc_str8(p, s);
    }
}

static void p_unit_items(struct mc_buf *p, int has_to, uint32_t to, const char *gtin,
                         const char *serial) {
    mc_buf_init(p, 0);
    if (has_to) mc_enc_u32(p, to);
    mc_enc_u16(p, 1);
    mc_supply_encode_item(p, MC_SUPPLY_ITEM_UNIT, gtin, serial);
}

static void p_pair(struct mc_buf *p, const char *gtin, const char *serial) {
    mc_buf_init(p, 0);
    mc_enc_str8(p, gtin);
    mc_enc_str8(p, serial);
}

static void do_ship(struct world *w, struct actor *a, uint32_t to, const char *serial) {
    struct mc_buf p;
    p_unit_items(&p, 1, to, GTIN, serial);
    submit(w, a, MC_TX_DRUG_SHIP, &p);
    mc_buf_deinit(&p);
}

static void do_receive(struct world *w, struct actor *a, const char *serial) {
    struct mc_buf p;
    p_unit_items(&p, 0, 0, GTIN, serial);
    submit(w, a, MC_TX_DRUG_RECEIVE, &p);
    mc_buf_deinit(&p);
}

static mc_hash do_dispense(struct world *w, struct actor *a, const char *serial) {
    struct mc_buf p;
    p_pair(&p, GTIN, serial);
    mc_hash id = submit(w, a, MC_TX_DRUG_DISPENSE, &p);
    mc_buf_deinit(&p);
    return id;
}

/* --- verification through the state --- */

struct vq {
    struct mc_gs1_id id;
    struct mc_supply_verification v;
    struct mc_supply_event ev[MC_SUPPLY_UNIT_EVENTS_MAX];
    uint64_t now;
    int rc;
};

static int q_verify(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct vq *q = ctx;
    q->rc = mc_supply_verify(mc_app_state(app), &q->id, q->now, &q->v, q->ev,
                             MC_SUPPLY_UNIT_EVENTS_MAX);
    return 0;
}

static struct vq *verify(struct world *w, const char *link) {
    static struct vq q;
    memset(&q, 0, sizeof q);
    struct mc_node_status st;
    mc_node_status(w->t.node, &st);
    q.now = st.latest_time_ms;
    uint32_t year = mc_supply_civil_from_ms(q.now, NULL) / 10000;
    struct mc_gs1_error e;
    cr_assert_eq(mc_gs1_parse(&q.id, &e, link, strlen(link), year), 0, "%s", e.message);
    cr_assert_eq(mc_node_query(w->t.node, q_verify, &q), 0);
    cr_assert_eq(q.rc, 0, "verify: %s", mc_err_detail());
    return &q;
}

static void expect_verdict(struct world *w, const char *link, uint8_t verdict) {
    struct vq *q = verify(w, link);
    cr_assert_eq(q->v.verdict, verdict, "%s: verdict %s, expected %s", link,
                 mc_supply_verdict_name(q->v.verdict), mc_supply_verdict_name(verdict));
}

static void expect_events(struct world *w, const char *serial, const uint8_t *types, uint32_t n) {
    char link[128];
    snprintf(link, sizeof link, "/01/" GTIN "/21/%s", serial);
    struct vq *q = verify(w, link);
    cr_assert_eq(q->v.event_count, n, "events: %u, expected %u", q->v.event_count, n);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(q->ev[i].type, types[i], "event %u is %s, expected %s", i,
                     mc_supply_event_name(q->ev[i].type), mc_supply_event_name(types[i]));
}

static void scan_as(struct world *w, const char *gtin, const char *serial, uint8_t seen, uint8_t verdict) {
    struct mc_buf p;
    p_pair(&p, gtin, serial);
    mc_enc_u8(&p, verdict);
    mc_enc_u8(&p, seen);
    cr_assert_eq(mc_node_submit_local(w->t.node, MC_TX_DRUG_SCAN, p.data, p.len), 0);
    mc_buf_deinit(&p);
    tu_commit(&w->t);
}
/* A public scan: the verdict the public was given. */
static void scan(struct world *w, const char *gtin, const char *serial, uint8_t seen) {
    scan_as(w, gtin, serial, seen, seen == MC_SUPPLY_DISPENSED ? MC_VERDICT_DISPENSED : MC_VERDICT_GENUINE);
}

struct aq {
    uint32_t org;
    bool reg;
    struct mc_supply_alert a[16];
    uint32_t n;
};
static int q_alerts(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct aq *q = ctx;
    return mc_supply_list_alerts(mc_app_state(app), q->org, q->reg, q->a, 16, &q->n);
}

static void commission_lot(struct world *w, const char *lot, uint32_t expiry, int n,
                           const char *prefix) {
    struct mc_buf p;
    p_commission(&p, GTIN, lot, expiry, n, prefix);
    submit(w, &w->mfr, MC_TX_DRUG_COMMISSION, &p);
    mc_buf_deinit(&p);
    tu_commit(&w->t);
}

Test(supply, journey_manufacturer_to_patient, .timeout = 30) {
    struct world w;
    world_start(&w, "supply-journey");
    commission_lot(&w, "LOT1", 20491231, 3, "S");
    const char *link = "https://id.example/01/" GTIN "/10/LOT1/21/S0?17=491231";
    expect_verdict(&w, link, MC_VERDICT_GENUINE);
    uint8_t ev[] = {MC_SUPPLY_EV_COMMISSION, MC_SUPPLY_EV_SHIP, MC_SUPPLY_EV_RECEIVE,
                    MC_SUPPLY_EV_SHIP, MC_SUPPLY_EV_RECEIVE, MC_SUPPLY_EV_DISPENSE};
    expect_events(&w, "S0", ev, 1);

    do_ship(&w, &w.mfr, ORG_DIST, "S0");
    tu_commit(&w.t);
    expect_verdict(&w, link, MC_VERDICT_GENUINE);
    cr_assert_eq(verify(&w, link)->v.unit.c.status, MC_SUPPLY_IN_TRANSIT);
    do_receive(&w, &w.dist, "S0");
    tu_commit(&w.t);
    expect_verdict(&w, link, MC_VERDICT_GENUINE);
    cr_assert_eq(verify(&w, link)->v.unit.c.owner, ORG_DIST);
    do_ship(&w, &w.dist, ORG_PHARM, "S0");
    tu_commit(&w.t);
    do_receive(&w, &w.pharm, "S0");
    tu_commit(&w.t);
    expect_verdict(&w, link, MC_VERDICT_GENUINE);
    do_dispense(&w, &w.pharm, "S0");
    tu_commit(&w.t);
    /* The patient's own scan: dispensed (calm), with the whole chain. */
    expect_verdict(&w, link, MC_VERDICT_DISPENSED);
    struct vq *q = verify(&w, link);
    cr_assert_eq(q->v.unit.c.status, MC_SUPPLY_DISPENSED);
    expect_events(&w, "S0", ev, 6);
    q = verify(&w, link);
    cr_assert_eq(q->ev[1].org, ORG_MFR);
    cr_assert_eq(q->ev[1].other, ORG_DIST);
    cr_assert_eq(q->ev[4].org, ORG_PHARM);
    cr_assert_eq(q->ev[5].org, ORG_PHARM);
    cr_assert(q->ev[5].height > q->ev[0].height);

    /* A scan made before the dispensing that lands after it does not count. */
    scan_as(&w, GTIN, "S0", MC_SUPPLY_IN_STOCK, MC_VERDICT_ALREADY_DISPENSED);
    expect_verdict(&w, link, MC_VERDICT_DISPENSED);
    struct aq a = {.org = ORG_MFR};
    cr_assert_eq(mc_node_query(w.t.node, q_alerts, &a), 0);
    cr_assert_eq(a.n, 0);
    /* The patient scans her pack as often as she likes: calm, no alert. */
    for (int i = 0; i < 3; i++) scan(&w, GTIN, "S0", MC_SUPPLY_DISPENSED);
    expect_verdict(&w, link, MC_VERDICT_DISPENSED);
    cr_assert_eq(mc_node_query(w.t.node, q_alerts, &a), 0);
    cr_assert_eq(a.n, 0, "public scans of a dispensed pack raise no alert");
    /* In the trade, the same pack is a possible clone: a trading partner's
     * scan raises an alert for the manufacturer and the regulator, not for
     * the distributor. */
    cr_assert_eq(mc_supply_trade_verdict(MC_VERDICT_DISPENSED), MC_VERDICT_ALREADY_DISPENSED);
    cr_assert_eq(mc_supply_trade_verdict(MC_VERDICT_GENUINE), MC_VERDICT_GENUINE);
    cr_assert_eq(mc_supply_trade_verdict(MC_VERDICT_RECALLED), MC_VERDICT_RECALLED);
    scan_as(&w, GTIN, "S0", MC_SUPPLY_DISPENSED, MC_VERDICT_ALREADY_DISPENSED);
    cr_assert_eq(mc_node_query(w.t.node, q_alerts, &a), 0);
    cr_assert_eq(a.n, 1);
    cr_assert_eq(a.a[0].kind, MC_SUPPLY_ALERT_CLONE);
    cr_assert_str_eq(a.a[0].serial, "S0");
    cr_assert_eq(a.a[0].holder, ORG_PHARM);
    struct aq r = {.org = ORG_REG, .reg = true};
    cr_assert_eq(mc_node_query(w.t.node, q_alerts, &r), 0);
    cr_assert_eq(r.n, 1);
    struct aq d = {.org = ORG_DIST};
    cr_assert_eq(mc_node_query(w.t.node, q_alerts, &d), 0);
    cr_assert_eq(d.n, 0);
    /* An unknown serial of Acme's GTIN alerts Acme. */
    scan(&w, GTIN, "FAKE1", 0);
    cr_assert_eq(mc_node_query(w.t.node, q_alerts, &a), 0);
    cr_assert_eq(a.n, 2);
    cr_assert_eq(a.a[0].kind, MC_SUPPLY_ALERT_UNKNOWN_SERIAL, "newest first");
    tu_node_stop(&w.t);
}

Test(supply, custody_refusals, .timeout = 30) {
    struct world w;
    world_start(&w, "supply-refuse");
    commission_lot(&w, "LOT1", 20491231, 4, "S");
    struct mc_buf p;

    /* Only a manufacturer commissions; a serial is commissioned once; the
     * GTIN belongs to its first commissioner. */
    p_commission(&p, GTIN, "LOT9", 20491231, 1, "X");
    refused(&w, &w.dist, MC_TX_DRUG_COMMISSION, &p, MC_ERR_FORBIDDEN, "manufacturer");
    mc_buf_deinit(&p);
    p_commission(&p, GTIN, "LOT1", 20491231, 1, "S");
    refused(&w, &w.mfr, MC_TX_DRUG_COMMISSION, &p, MC_ERR_EXISTS, "already commissioned");
    mc_buf_deinit(&p);
    p_commission(&p, GTIN, "LOT1", 20481231, 1, "Z");
    refused(&w, &w.mfr, MC_TX_DRUG_COMMISSION, &p, MC_ERR_INVALID, "expiry");
    mc_buf_deinit(&p);
    p_commission(&p, "09506000134353", "LOT1", 20491231, 1, "Z");
    refused(&w, &w.mfr, MC_TX_DRUG_COMMISSION, &p, MC_ERR_INVALID, "check digit");
    mc_buf_deinit(&p);
    p_commission(&p, GTIN, "LOT1", 20990230, 1, "Z");
    refused(&w, &w.mfr, MC_TX_DRUG_COMMISSION, &p, MC_ERR_INVALID, "calendar date");
    mc_buf_deinit(&p);

    /* A shipment by a non-owner. */
    p_unit_items(&p, 1, ORG_PHARM, GTIN, "S0");
    refused(&w, &w.dist, MC_TX_DRUG_SHIP, &p, MC_ERR_FORBIDDEN, "held by organisation 2");
    refused(&w, &w.doc, MC_TX_DRUG_SHIP, &p, MC_ERR_FORBIDDEN, "only a manufacturer");
    mc_buf_deinit(&p);
    p_unit_items(&p, 1, ORG_REG, GTIN, "S0");
    refused(&w, &w.mfr, MC_TX_DRUG_SHIP, &p, MC_ERR_FORBIDDEN, "does not hold medicines");
    mc_buf_deinit(&p);
    p_unit_items(&p, 1, 99, GTIN, "S0");
    refused(&w, &w.mfr, MC_TX_DRUG_SHIP, &p, MC_ERR_NOT_FOUND, "no organisation 99");
    mc_buf_deinit(&p);

    /* A receipt by the wrong party; a receipt of what was not shipped. */
    do_ship(&w, &w.mfr, ORG_DIST, "S0");
    tu_commit(&w.t);
    p_unit_items(&p, 0, 0, GTIN, "S0");
    refused(&w, &w.pharm, MC_TX_DRUG_RECEIVE, &p, MC_ERR_FORBIDDEN, "not shipped to");
    mc_buf_deinit(&p);
    p_unit_items(&p, 0, 0, GTIN, "S1");
    refused(&w, &w.dist, MC_TX_DRUG_RECEIVE, &p, MC_ERR_FORBIDDEN, "not shipped to");
    mc_buf_deinit(&p);
    /* In transit it cannot be shipped again, not even by its owner. */
    p_unit_items(&p, 1, ORG_PHARM, GTIN, "S0");
    refused(&w, &w.mfr, MC_TX_DRUG_SHIP, &p, MC_ERR_STATE, "in_transit");
    mc_buf_deinit(&p);
    do_receive(&w, &w.dist, "S0");
    do_ship(&w, &w.mfr, ORG_PHARM, "S1");
    tu_commit(&w.t);
    do_receive(&w, &w.pharm, "S1");
    do_ship(&w, &w.dist, ORG_PHARM, "S0");
    tu_commit(&w.t);
    do_receive(&w, &w.pharm, "S0");
    tu_commit(&w.t);

    /* Dispense: pharmacy roles only, only the holder, once. */
    p_pair(&p, GTIN, "S0");
    refused(&w, &w.dist, MC_TX_DRUG_DISPENSE, &p, MC_ERR_FORBIDDEN, "pharmac");
    refused(&w, &w.pharm2, MC_TX_DRUG_DISPENSE, &p, MC_ERR_FORBIDDEN, "held by organisation 4");
    mc_buf_deinit(&p);

    /* Two counters of the pharmacy dispense the same pack in one block:
     * both pass admission, exactly one commits. */
    mc_hash a = do_dispense(&w, &w.pharm, "S0");
    mc_hash b = do_dispense(&w, &w.pharm_b, "S0");
    tu_commit(&w.t);
    struct mc_tx_status sa, sb;
    cr_assert_eq(mc_node_tx_status(w.t.node, &a, &sa, NULL), 0);
    cr_assert_eq(mc_node_tx_status(w.t.node, &b, &sb, NULL), 0);
    cr_assert_eq(sa.state, MC_TX_COMMITTED);
    cr_assert_eq(sb.state, MC_TX_REJECTED);
    cr_assert(strstr(sb.reason, "already dispensed"), "%s", sb.reason);
    uint8_t ev[] = {MC_SUPPLY_EV_COMMISSION, MC_SUPPLY_EV_SHIP, MC_SUPPLY_EV_RECEIVE,
                    MC_SUPPLY_EV_SHIP, MC_SUPPLY_EV_RECEIVE, MC_SUPPLY_EV_DISPENSE};
    expect_events(&w, "S0", ev, 6);
    /* And later, by anyone. */
    p_pair(&p, GTIN, "S0");
    refused(&w, &w.pharm, MC_TX_DRUG_DISPENSE, &p, MC_ERR_STATE, "already dispensed");
    refused(&w, &w.pharm2, MC_TX_DRUG_DISPENSE, &p, MC_ERR_STATE, "already dispensed");
    mc_buf_deinit(&p);
    /* A dispensed pack is not shipped (or returned) either. */
    p_unit_items(&p, 1, ORG_DIST, GTIN, "S0");
    refused(&w, &w.pharm, MC_TX_DRUG_SHIP, &p, MC_ERR_STATE, "dispensed");
    mc_buf_deinit(&p);

    /* Recall: the manufacturer or a regulator, not a pharmacy; then no
     * dispensing, and shipping only back to the manufacturer. */
    mc_buf_init(&p, 0);
    mc_enc_str8(&p, GTIN);
    mc_enc_str8(&p, "LOT1");
    mc_enc_str8(&p, "contamination");
    refused(&w, &w.pharm, MC_TX_DRUG_RECALL, &p, MC_ERR_FORBIDDEN, "manufacturer or a regulator");
    submit(&w, &w.reg, MC_TX_DRUG_RECALL, &p);
    tu_commit(&w.t);
    refused(&w, &w.mfr, MC_TX_DRUG_RECALL, &p, MC_ERR_STATE, "already recalled");
    mc_buf_deinit(&p);
    p_pair(&p, GTIN, "S1");
    refused(&w, &w.pharm, MC_TX_DRUG_DISPENSE, &p, MC_ERR_STATE, "recalled");
    mc_buf_deinit(&p);
    p_unit_items(&p, 1, ORG_DIST, GTIN, "S1");
    refused(&w, &w.pharm, MC_TX_DRUG_SHIP, &p, MC_ERR_STATE, "back to its manufacturer");
    mc_buf_deinit(&p);
    do_ship(&w, &w.pharm, ORG_MFR, "S1");
    tu_commit(&w.t);

    /* Strict payloads: a trailing byte is refused. */
    p_pair(&p, GTIN, "S2");
    mc_enc_u8(&p, 0);
    refused(&w, &w.pharm, MC_TX_DRUG_DISPENSE, &p, MC_ERR_MALFORMED, "does not decode");
    mc_buf_deinit(&p);
    tu_node_stop(&w.t);
}

Test(supply, every_verdict, .timeout = 30) {
    struct world w;
    world_start(&w, "supply-verdicts");
    commission_lot(&w, "LOT1", 20491231, 6, "S");
    commission_lot(&w, "OLD", 20200131, 1, "E");
    commission_lot(&w, "REC", 20491231, 1, "R");
    expect_verdict(&w, "/01/" GTIN "/21/S0", MC_VERDICT_GENUINE);
    expect_verdict(&w, "/01/" GTIN "/10/LOT1/21/S0?17=491231", MC_VERDICT_GENUINE);
    expect_verdict(&w, "/01/" GTIN "/21/NOPE", MC_VERDICT_UNKNOWN_SERIAL);
    expect_verdict(&w, "/01/" GTIN2 "/21/S0", MC_VERDICT_UNKNOWN_SERIAL);
    expect_verdict(&w, "/01/" GTIN "/10/LOT2/21/S0", MC_VERDICT_LOT_MISMATCH);
    expect_verdict(&w, "/01/" GTIN "/10/LOT1/21/S0?17=491130", MC_VERDICT_EXPIRY_MISMATCH);
    expect_verdict(&w, "/01/" GTIN "/10/OLD/21/E0?17=200100", MC_VERDICT_EXPIRED);
    /* The element string a DataMatrix scanner sends works the same way. */
    expect_verdict(&w, "]d201" GTIN "17491231" "10LOT1\x1d" "21S1", MC_VERDICT_GENUINE);

    struct mc_buf p;
    mc_buf_init(&p, 0);
    mc_enc_str8(&p, GTIN);
    mc_enc_str8(&p, "REC");
    mc_enc_str8(&p, "sterility failure");
    submit(&w, &w.mfr, MC_TX_DRUG_RECALL, &p);
    mc_buf_deinit(&p);
    mc_buf_init(&p, 0);
    mc_enc_u8(&p, MC_SUPPLY_STOLEN);
    mc_enc_str8(&p, GTIN);
    mc_enc_str8(&p, "S2");
    submit(&w, &w.mfr, MC_TX_DRUG_DECOMMISSION, &p);
    mc_buf_deinit(&p);
    p_pair(&p, GTIN, "S3");
    mc_enc_u8(&p, MC_SUPPLY_FLAG_SUSPECT);
    mc_enc_str8(&p, "packaging differs");
    submit(&w, &w.reg, MC_TX_DRUG_FLAG, &p);
    mc_buf_deinit(&p);
    p_pair(&p, GTIN, "S4");
    mc_enc_u8(&p, MC_SUPPLY_FLAG_ILLEGITIMATE);
    mc_enc_str8(&p, "diverted");
    submit(&w, &w.reg, MC_TX_DRUG_FLAG, &p);
    mc_buf_deinit(&p);
    tu_commit(&w.t);
    expect_verdict(&w, "/01/" GTIN "/21/R0", MC_VERDICT_RECALLED);
    expect_verdict(&w, "/01/" GTIN "/21/S2", MC_VERDICT_DECOMMISSIONED);
    expect_verdict(&w, "/01/" GTIN "/21/S3", MC_VERDICT_SUSPECT);
    expect_verdict(&w, "/01/" GTIN "/21/S4", MC_VERDICT_ILLEGITIMATE);
    cr_assert_eq(verify(&w, "/01/" GTIN "/21/R0")->v.lot.recalled, true);

    /* A suspect pack does not move; the owner (here the manufacturer) may
     * clear a suspicion but not an illegitimate finding. */
    p_unit_items(&p, 1, ORG_DIST, GTIN, "S3");
    refused(&w, &w.mfr, MC_TX_DRUG_SHIP, &p, MC_ERR_STATE, "suspect");
    mc_buf_deinit(&p);
    p_pair(&p, GTIN, "S4");
    mc_enc_u8(&p, MC_SUPPLY_FLAG_NONE);
    mc_enc_str8(&p, "found fine");
    refused(&w, &w.mfr, MC_TX_DRUG_FLAG, &p, MC_ERR_FORBIDDEN, "only a regulator");
    mc_buf_deinit(&p);
    p_pair(&p, GTIN, "S3");
    mc_enc_u8(&p, MC_SUPPLY_FLAG_NONE);
    mc_enc_str8(&p, "checked: genuine");
    refused(&w, &w.dist, MC_TX_DRUG_FLAG, &p, MC_ERR_FORBIDDEN, "regulator or the pack's owner");
    submit(&w, &w.mfr, MC_TX_DRUG_FLAG, &p);
    mc_buf_deinit(&p);
    tu_commit(&w.t);
    expect_verdict(&w, "/01/" GTIN "/21/S3", MC_VERDICT_GENUINE);
    /* Decommissioned and expired packs cannot be dispensed. */
    do_ship(&w, &w.mfr, ORG_PHARM, "E0");
    tu_commit(&w.t);
    do_receive(&w, &w.pharm, "E0");
    tu_commit(&w.t);
    p_pair(&p, GTIN, "E0");
    refused(&w, &w.pharm, MC_TX_DRUG_DISPENSE, &p, MC_ERR_STATE, "expired");
    mc_buf_deinit(&p);
    tu_node_stop(&w.t);
}

Test(supply, cases_and_pallets, .timeout = 30) {
    struct world w;
    world_start(&w, "supply-cases");
    commission_lot(&w, "LOT1", 20491231, 4, "S");
    const char *pallet = "006141411234567890"; /* SSCC with a valid check digit */
    cr_assert(mc_sscc_valid(SSCC));
    cr_assert(mc_sscc_valid(pallet));
    cr_assert(!mc_sscc_valid("106141411234567898"));
    struct mc_buf p;
    mc_buf_init(&p, 0);
    mc_enc_str8(&p, SSCC);
    mc_enc_u16(&p, 3);
    for (int i = 0; i < 3; i++) {
        char s[16];
        snprintf(s, sizeof s, "S%d", i);
        mc_supply_encode_item(&p, MC_SUPPLY_ITEM_UNIT, GTIN, s);
    }
    refused(&w, &w.dist, MC_TX_DRUG_AGGREGATE, &p, MC_ERR_FORBIDDEN, "held by");
    submit(&w, &w.mfr, MC_TX_DRUG_AGGREGATE, &p);
    mc_buf_deinit(&p);
    tu_commit(&w.t);
    /* Case into pallet. */
    mc_buf_init(&p, 0);
    mc_enc_str8(&p, pallet);
    mc_enc_u16(&p, 1);
    mc_supply_encode_item(&p, MC_SUPPLY_ITEM_CONTAINER, "", SSCC);
    submit(&w, &w.mfr, MC_TX_DRUG_AGGREGATE, &p);
    mc_buf_deinit(&p);
    tu_commit(&w.t);
    /* A packed unit cannot travel alone. */
    p_unit_items(&p, 1, ORG_DIST, GTIN, "S0");
    refused(&w, &w.mfr, MC_TX_DRUG_SHIP, &p, MC_ERR_STATE, "packed in container");
    mc_buf_deinit(&p);
    /* The pallet ships and is received as a whole. */
    mc_buf_init(&p, 0);
    mc_enc_u32(&p, ORG_DIST);
    mc_enc_u16(&p, 1);
    mc_supply_encode_item(&p, MC_SUPPLY_ITEM_CONTAINER, "", pallet);
    submit(&w, &w.mfr, MC_TX_DRUG_SHIP, &p);
    mc_buf_deinit(&p);
    tu_commit(&w.t);
    cr_assert_eq(verify(&w, "/01/" GTIN "/21/S2")->v.unit.c.status, MC_SUPPLY_IN_TRANSIT);
    cr_assert_eq(verify(&w, "/01/" GTIN "/21/S3")->v.unit.c.status, MC_SUPPLY_IN_STOCK);
    mc_buf_init(&p, 0);
    mc_enc_u16(&p, 1);
    mc_supply_encode_item(&p, MC_SUPPLY_ITEM_CONTAINER, "", pallet);
    refused(&w, &w.pharm, MC_TX_DRUG_RECEIVE, &p, MC_ERR_FORBIDDEN, "not shipped to");
    submit(&w, &w.dist, MC_TX_DRUG_RECEIVE, &p);
    mc_buf_deinit(&p);
    tu_commit(&w.t);
    cr_assert_eq(verify(&w, "/01/" GTIN "/21/S1")->v.unit.c.owner, ORG_DIST);
    /* Unpack pallet then case; the distributor ships one unit on. */
    mc_buf_init(&p, 0);
    mc_enc_str8(&p, SSCC);
    refused(&w, &w.dist, MC_TX_DRUG_DISAGGREGATE, &p, MC_ERR_STATE, "inside container");
    mc_buf_deinit(&p);
    mc_buf_init(&p, 0);
    mc_enc_str8(&p, pallet);
    submit(&w, &w.dist, MC_TX_DRUG_DISAGGREGATE, &p);
    mc_buf_deinit(&p);
    mc_buf_init(&p, 0);
    mc_enc_str8(&p, SSCC);
    submit(&w, &w.dist, MC_TX_DRUG_DISAGGREGATE, &p);
    mc_buf_deinit(&p);
    tu_commit(&w.t);
    do_ship(&w, &w.dist, ORG_PHARM, "S1");
    tu_commit(&w.t);
    uint8_t ev[] = {MC_SUPPLY_EV_COMMISSION, MC_SUPPLY_EV_AGGREGATE, MC_SUPPLY_EV_SHIP,
                    MC_SUPPLY_EV_RECEIVE, MC_SUPPLY_EV_DISAGGREGATE, MC_SUPPLY_EV_SHIP};
    expect_events(&w, "S1", ev, 6);
    tu_node_stop(&w.t);
}

Test(supply, civil_dates_and_names) {
    cr_assert_eq(mc_supply_civil_from_ms(0, NULL), 19700101);
    cr_assert_eq(mc_supply_civil_from_ms(951782400000ULL, NULL), 20000229);
    uint32_t sod;
    cr_assert_eq(mc_supply_civil_from_ms(1764201600000ULL + 3723000, &sod), 20251127);
    cr_assert_eq(sod, 3723);
    cr_assert_eq(mc_supply_civil_from_ms(4107542399000ULL, NULL), 21000228);
    cr_assert_eq(mc_supply_civil_from_ms(4107542400000ULL, NULL), 21000301, "2100 is no leap year");
    char iso[32];
    mc_supply_iso8601(iso, 1764201600000ULL + 3723000);
    cr_assert_str_eq(iso, "2025-11-27T01:02:03Z");
    cr_assert(mc_supply_date_valid(20240229));
    cr_assert(!mc_supply_date_valid(20230229));
    cr_assert(!mc_supply_date_valid(20241301));
    cr_assert(!mc_supply_date_valid(20240431));
    cr_assert(mc_supply_value_valid("AB-1/2"));
    cr_assert(!mc_supply_value_valid("AB~1"));
    cr_assert(!mc_supply_value_valid("123456789012345678901"));
    for (uint8_t v = 1; v <= MC_VERDICT_MAX; v++) cr_assert_neq(strcmp(mc_supply_verdict_name(v), "unknown"), 0);
    cr_assert_eq(mc_supply_decommission_from_name("exported"), MC_SUPPLY_EXPORTED);
    cr_assert_eq(mc_supply_flag_from_name("clear"), MC_SUPPLY_FLAG_NONE);
    cr_assert_eq(mc_supply_flag_from_name("bogus"), 0xff);
}

Test(supply, payload_check_is_strict) {
    struct mc_buf p;
    p_commission(&p, GTIN, "L", 20491231, 2, "S");
    cr_assert_eq(mc_supply_payload_check(MC_TX_DRUG_COMMISSION, p.data, p.len), 0);
    cr_assert_neq(mc_supply_payload_check(MC_TX_DRUG_COMMISSION, p.data, p.len - 1), 0);
    mc_enc_u8(&p, 0);
    cr_assert_neq(mc_supply_payload_check(MC_TX_DRUG_COMMISSION, p.data, p.len), 0);
    mc_buf_deinit(&p);
    p_unit_items(&p, 1, 3, GTIN, "S0");
    cr_assert_eq(mc_supply_payload_check(MC_TX_DRUG_SHIP, p.data, p.len), 0);
    mc_buf_deinit(&p);
    mc_buf_init(&p, 0);
    mc_enc_u32(&p, 3);
    mc_enc_u16(&p, 1);
    mc_supply_encode_item(&p, MC_SUPPLY_ITEM_CONTAINER, "", "106141411234567898");
    cr_assert_eq(mc_supply_payload_check(MC_TX_DRUG_SHIP, p.data, p.len), MC_ERR_INVALID,
                 "an SSCC with a bad check digit");
    mc_buf_deinit(&p);
    cr_assert_eq(mc_supply_payload_check(4, (const uint8_t *)"", 0), MC_ERR_INVALID);
}
