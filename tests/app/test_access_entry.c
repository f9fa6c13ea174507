/* The ledger's rule for a served read's access entry (app/records.c,
 * access): the requester's signature over the request must verify and
 * name the requester's key, and the requester must be an account of the
 * ledger, but need not be active any more. In a consortium a revocation
 * can reach the block's proposer before the serving node's entry does and
 * be ordered first; the read was served all the same, and refusing its
 * entry would leave it on no ledger. The checks that remain are shown to
 * refuse (an unknown requester, a signature that does not verify, one that
 * names another key, a replay). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/memkv.h"
#include "../support/testutil.h"
#include "app/app.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/records_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "crypto/sign.h"

#define CHAIN "medchain-access"
#define T0 1764201600000ULL

struct ledger {
    struct mc_genesis *g;
    struct mc_keypair admin, node;
    uint64_t admin_nonce, node_nonce;
    struct tu_memkv *mem;
    struct mc_app *app;
    uint64_t height;
};

static void ledger_start(struct ledger *L) {
    memset(L, 0, sizeof *L);
    mc_crypto_init();
    struct mc_genesis *g = tu_keep(calloc(1, sizeof *g));
    snprintf(g->chain_id, sizeof g->chain_id, CHAIN);
    g->time_ms = T0;
    mc_keypair_generate(&L->admin);
    struct mc_org *o = &g->orgs[g->org_count++];
    o->id = 1;
    snprintf(o->name, sizeof o->name, "General Hospital");
    o->kind = MC_ORG_HOSPITAL;
    o->admin = L->admin.pk;
    mc_keypair_generate(&L->node);
    cr_assert_eq(mc_valset_add(&g->valset, &L->node.pk, 1, "node-1"), 0);
    g->validator_org[0] = 1;
    char *json = mc_genesis_to_json(g);
    L->g = tu_keep(calloc(1, sizeof *L->g));
    cr_assert_eq(mc_genesis_parse(L->g, json, strlen(json)), 0, "%s", mc_err_detail());
    free(json);
    L->mem = tu_memkv_create();
    struct mc_app_tip tip = {.height = 0, .time_ms = T0};
    cr_assert_eq(mc_app_write_genesis(tu_memkv_kv(L->mem), L->g, &tip.state_hash), 0, "%s", mc_err_detail());
    static const uint8_t key[MC_STATE_HASH_KEY_BYTES] = {7};
    cr_assert_eq(mc_app_open(&L->app, tu_memkv_kv(L->mem), L->g, &tip, key), 0, "%s", mc_err_detail());
}

static void ledger_stop(struct ledger *L) {
    mc_app_close(L->app);
    tu_memkv_destroy(L->mem);
}

/* One block of the given transactions; the result of each in rcs. */
static void block(struct ledger *L, uint8_t *const *tx, const size_t *len, int n, int *rcs) {
    uint64_t h = ++L->height;
    cr_assert_eq(mc_app_begin_block(L->app, h, T0 + h * 1000), 0);
    for (int i = 0; i < n; i++) rcs[i] = mc_app_deliver(L->app, tx[i], len[i], true);
    mc_hash s, lr;
    uint64_t ls;
    cr_assert_eq(mc_app_end_block(L->app, &s, &ls, &lr), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_app_commit_block(L->app), 0, "%s", mc_err_detail());
}

/* A request signature base as the gate keeps it (its last line the
 * @signature-params line naming keyid), signed by `signer`. */
static void signed_base(char *base, size_t cap, uint8_t sig[MC_SIG_BYTES], const mc_pubkey *named,
                        const struct mc_keypair *signer, int created) {
    char hx[65];
    mc_hex_encode(hx, named->b, 32);
    snprintf(base, cap,
             "\"@method\": GET\n\"@target-uri\": http://node-1/fhir/Observation?patient=x\n"
             "\"@signature-params\": (\"@method\" \"@target-uri\");created=%d;keyid=\"%s\"", created, hx);
    mc_ed25519_sign_raw(sig, signer, (const uint8_t *)base, strlen(base));
}

/* The node's entry of a served search (no single record) by `requester`. */
static uint8_t *entry(struct ledger *L, size_t *len, const mc_pubkey *patient, const mc_pubkey *requester,
                      const char *base, const uint8_t sig[MC_SIG_BYTES]) {
    struct mc_records_payload *p = tu_keep(calloc(1, sizeof *p));
    p->type = MC_TX_RECORD_ACCESS;
    p->patient = *patient;
    p->requester = *requester;
    p->action = MC_ACTION_SEARCH;
    p->purpose = MC_PURPOSE_TREAT;
    p->outcome = MC_OUTCOME_SUCCESS;
    p->status = 200;
    p->base = (const uint8_t *)base;
    p->base_len = strlen(base);
    p->sig = sig;
    p->sig_len = MC_SIG_BYTES;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_records_payload_encode(&b, p), 0);
    uint8_t *tx = tu_tx(len, CHAIN, MC_TX_RECORD_ACCESS, &L->node, ++L->node_nonce, b.data, b.len);
    mc_buf_deinit(&b);
    return tx;
}

struct count {
    const mc_pubkey *requester;
    int served;
};

static int count_served(void *ctx, const struct mc_access_entry *e) {
    struct count *c = ctx;
    if (e->outcome == MC_OUTCOME_SUCCESS && memcmp(e->requester.b, c->requester->b, 32) == 0) c->served++;
    return 0;
}

static int served_entries(struct ledger *L, const mc_pubkey *patient, const mc_pubkey *requester) {
    struct count c = {.requester = requester};
    cr_assert_eq(mc_records_scan_access(mc_app_state(L->app), patient, count_served, &c), 0);
    return c.served;
}

Test(access_entry, a_served_read_stays_logged_when_a_revocation_is_ordered_ahead_of_its_entry) {
    struct ledger L;
    ledger_start(&L);
    struct mc_keypair doc, patient, stranger;
    mc_keypair_generate(&doc);
    mc_keypair_generate(&patient);
    mc_keypair_generate(&stranger);
    uint8_t p[300];
    size_t pl = tu_enroll_payload(p, &doc.pk, MC_ROLE_CLINICIAN, "Dr Ada");
    size_t len[4];
    uint8_t *tx[4];
    int rcs[4];
    tx[0] = tu_tx(&len[0], CHAIN, MC_TX_ENROLL_MEMBER, &L.admin, ++L.admin_nonce, p, pl);
    block(&L, tx, len, 1, rcs);
    cr_assert_eq(rcs[0], 0, "%s", mc_err_detail());

    /* The doctor's read was served by a node; before its entry reaches the
     * proposer, the admin's revocation of the doctor does. */
    char base[600];
    uint8_t sig[MC_SIG_BYTES];
    signed_base(base, sizeof base, sig, &doc.pk, &doc, 1);
    pl = tu_revoke_payload(p, &doc.pk, "left the hospital");
    tx[0] = tu_tx(&len[0], CHAIN, MC_TX_REVOKE_MEMBER, &L.admin, ++L.admin_nonce, p, pl);
    tx[1] = entry(&L, &len[1], &patient.pk, &doc.pk, base, sig);
    block(&L, tx, len, 2, rcs);
    cr_assert_eq(rcs[0], 0, "the revocation: %s", mc_err_detail());
    cr_assert_eq(rcs[1], 0, "the served read's entry is kept after the revocation: %s", mc_err_detail());
    cr_assert_eq(served_entries(&L, &patient.pk, &doc.pk), 1, "the read is on the ledger");
    struct mc_account a;
    cr_assert_eq(mc_identity_get_account(mc_app_state(L.app), &doc.pk, &a), 0);
    cr_assert_eq(a.status, MC_ACCOUNT_REVOKED, "and so is the revocation, beside it");

    /* What still refuses an entry. The nonce of a refused entry is not
     * used, so each next one reuses it. */
    char b2[600];
    uint8_t s2[MC_SIG_BYTES];
    /* the same request again: a replay */
    tx[0] = entry(&L, &len[0], &patient.pk, &doc.pk, base, sig);
    /* a requester the ledger never knew */
    signed_base(b2, sizeof b2, s2, &stranger.pk, &stranger, 2);
    L.node_nonce--;
    tx[1] = entry(&L, &len[1], &patient.pk, &stranger.pk, b2, s2);
    /* a signature that does not verify (one byte of the base changed after signing) */
    char b3[600];
    uint8_t s3[MC_SIG_BYTES];
    signed_base(b3, sizeof b3, s3, &doc.pk, &doc, 3);
    b3[2] ^= 1;
    L.node_nonce--;
    tx[2] = entry(&L, &len[2], &patient.pk, &doc.pk, b3, s3);
    /* a base that names another key than the requester's */
    char b4[600];
    uint8_t s4[MC_SIG_BYTES];
    signed_base(b4, sizeof b4, s4, &stranger.pk, &doc, 4);
    L.node_nonce--;
    tx[3] = entry(&L, &len[3], &patient.pk, &doc.pk, b4, s4);
    block(&L, tx, len, 4, rcs);
    cr_expect_neq(rcs[0], 0, "a replayed request is refused");
    cr_expect_eq(rcs[1], MC_ERR_FORBIDDEN, "an unknown requester is refused");
    cr_expect_eq(rcs[2], MC_ERR_BAD_SIGNATURE, "a signature that does not verify is refused");
    cr_expect_eq(rcs[3], MC_ERR_BAD_SIGNATURE, "a base naming another key is refused");
    cr_assert_eq(served_entries(&L, &patient.pk, &doc.pk), 1, "none of them is on the ledger");
    ledger_stop(&L);
}
