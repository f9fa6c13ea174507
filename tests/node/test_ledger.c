/* The single-validator ledger driven in-process: identity rules, the
 * rejection matrix (every refusal names its reason and changes nothing),
 * and commits that verify. */
#include <criterion/criterion.h>
#include <string.h>

#include "../support/testutil.h"
#include "app/identity.h"
#include "base/hex.h"
#include "node/verify.h"

static struct mc_account account_of(struct tu_node *t, const mc_pubkey *pk, int *rc_out);

struct acct_q { const mc_pubkey *pk; struct mc_account a; int rc; };
static int q_account(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct acct_q *q = ctx;
    q->rc = mc_identity_get_account(mc_app_state(app), q->pk, &q->a);
    return 0;
}
static struct mc_account account_of(struct tu_node *t, const mc_pubkey *pk, int *rc_out) {
    struct acct_q q = {.pk = pk};
    cr_assert_eq(mc_node_query(t->node, q_account, &q), 0);
    *rc_out = q.rc;
    return q.a;
}

static void state_fingerprint(struct tu_node *t, mc_hash *out, uint64_t *height) {
    struct mc_node_status st;
    mc_node_status(t->node, &st);
    *out = st.latest_hash;
    *height = st.height;
}

/* Enrolls a member with the admin key; returns its key pair. */
static struct mc_keypair enroll(struct tu_node *t, uint64_t *admin_nonce, uint8_t role, const char *name) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, role, name);
    size_t len;
    uint8_t *tx = tu_tx(&len, t->chain_id, MC_TX_ENROLL_MEMBER, &t->admin, ++*admin_nonce, p, pl);
    tu_submit_ok(t, tx, len);
    free(tx);
    return m;
}

Test(ledger, enroll_register_rotate_revoke) {
    struct tu_node t;
    tu_node_start(&t, "ledger");
    uint64_t an = 0;
    struct mc_keypair doc = enroll(&t, &an, MC_ROLE_CLINICIAN, "Dr Ada Lovelace");
    tu_commit(&t);
    cr_assert_eq(tu_height(&t), 1);
    int rc;
    struct mc_account a = account_of(&t, &doc.pk, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(a.role, MC_ROLE_CLINICIAN);
    cr_assert_eq(a.status, MC_ACCOUNT_ACTIVE);
    cr_assert_eq(a.org, 1);

    /* The clinician registers a patient, who co-signs. */
    struct mc_keypair pat;
    mc_keypair_generate(&pat);
    uint8_t p[96];
    memcpy(p, pat.pk.b, 32);
    mc_identity_patient_consent_sign(p + 32, &pat, t.chain_id, &doc.pk);
    size_t len;
    uint8_t *tx = tu_tx(&len, t.chain_id, MC_TX_REGISTER_PATIENT, &doc, 1, p, 96);
    tu_submit_ok(&t, tx, len);
    free(tx);
    tu_commit(&t);
    a = account_of(&t, &pat.pk, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(a.role, MC_ROLE_PATIENT);

    /* The clinician rotates to a new key: the old key stops working. */
    struct mc_keypair doc2;
    mc_keypair_generate(&doc2);
    memcpy(p, doc2.pk.b, 32);
    mc_identity_rotation_sign(p + 32, &doc2, t.chain_id, &doc.pk);
    tx = tu_tx(&len, t.chain_id, MC_TX_ROTATE_KEY, &doc, 2, p, 96);
    tu_submit_ok(&t, tx, len);
    free(tx);
    tu_commit(&t);
    a = account_of(&t, &doc2.pk, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(a.role, MC_ROLE_CLINICIAN);
    cr_assert_eq(a.nonce, 2, "nonce carries over to the new key");
    a = account_of(&t, &doc.pk, &rc);
    cr_assert_eq(a.status, MC_ACCOUNT_ROTATED);

    /* Old key refused. */
    struct mc_keypair pat2;
    mc_keypair_generate(&pat2);
    memcpy(p, pat2.pk.b, 32);
    mc_identity_patient_consent_sign(p + 32, &pat2, t.chain_id, &doc.pk);
    tx = tu_tx(&len, t.chain_id, MC_TX_REGISTER_PATIENT, &doc, 3, p, 96);
    cr_assert_eq(mc_node_submit(t.node, tx, len, NULL), MC_ERR_REVOKED);
    free(tx);

    /* The admin revokes the clinician (new key); the clinician is refused. */
    uint8_t rp[300];
    size_t rpl = tu_revoke_payload(rp, &doc2.pk, "left the hospital");
    tx = tu_tx(&len, t.chain_id, MC_TX_REVOKE_MEMBER, &t.admin, ++an, rp, rpl);
    tu_submit_ok(&t, tx, len);
    free(tx);
    tu_commit(&t);
    memcpy(p, pat2.pk.b, 32);
    mc_identity_patient_consent_sign(p + 32, &pat2, t.chain_id, &doc2.pk);
    tx = tu_tx(&len, t.chain_id, MC_TX_REGISTER_PATIENT, &doc2, 3, p, 96);
    cr_assert_eq(mc_node_submit(t.node, tx, len, NULL), MC_ERR_REVOKED);
    cr_assert(strstr(mc_err_detail(), "revoked"), "reason names revocation: %s", mc_err_detail());
    free(tx);

    tu_node_stop(&t);
    /* The whole chain verifies. */
    char *db = tu_path(t.home, "data/chain.db");
    struct mc_store *s;
    cr_assert_eq(mc_store_open(&s, db, true), 0);
    struct mc_genesis g;
    char *gp = tu_path(t.home, "genesis.json");
    cr_assert_eq(mc_node_genesis_load(&g, gp), 0);
    struct mc_verify_report r;
    cr_assert_eq(mc_verify_chain(s, &g, &r), 0);
    cr_assert(r.ok, "verify: %s at %llu: %s", r.object, (unsigned long long)r.bad_height, r.detail);
    cr_assert_eq(r.heights_checked, 4);
    cr_assert_eq(r.txs_checked, 4);
    mc_store_close(s);
}

struct bad_case { const char *what; int want; uint8_t *bytes; size_t len; };

/* Each bad transaction is refused with its own reason and changes nothing. */
Test(ledger, rejection_matrix) {
    struct tu_node t;
    tu_node_start(&t, "reject");
    uint64_t an = 0;
    struct mc_keypair doc = enroll(&t, &an, MC_ROLE_CLINICIAN, "Dr B");
    struct mc_keypair gone = enroll(&t, &an, MC_ROLE_CLINICIAN, "Dr Gone");
    tu_commit(&t);
    uint8_t rp[300];
    size_t rpl = tu_revoke_payload(rp, &gone.pk, "test");
    size_t len;
    uint8_t *tx = tu_tx(&len, t.chain_id, MC_TX_REVOKE_MEMBER, &t.admin, ++an, rp, rpl);
    tu_submit_ok(&t, tx, len);
    free(tx);
    tu_commit(&t);

    mc_hash before;
    uint64_t h0;
    state_fingerprint(&t, &before, &h0);

    struct mc_keypair stranger, newm;
    mc_keypair_generate(&stranger);
    mc_keypair_generate(&newm);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &newm.pk, MC_ROLE_CLINICIAN, "New");

    struct bad_case cases[16];
    int n = 0;
    /* malformed: truncated */
    tx = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, an + 1, p, pl);
    cases[n++] = (struct bad_case){"truncated", MC_ERR_MALFORMED, tx, len - 1};
    /* malformed: trailing byte */
    uint8_t *tr = malloc(len + 1);
    memcpy(tr, tx, len);
    tr[len] = 0;
    cases[n++] = (struct bad_case){"trailing", MC_ERR_MALFORMED, tr, len + 1};
    /* oversized payload for the type */
    uint8_t big[1000] = {0};
    uint8_t *ov = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, an + 1, big, sizeof big);
    cases[n++] = (struct bad_case){"oversized", MC_ERR_TOO_LARGE, ov, len};
    /* unsigned (zero signature) and badly signed (one bit flipped) */
    uint8_t *us = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, an + 1, p, pl);
    memset(us + len - 64, 0, 64);
    cases[n++] = (struct bad_case){"unsigned", MC_ERR_BAD_SIGNATURE, us, len};
    uint8_t *bs = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, an + 1, p, pl);
    bs[len - 70] ^= 1; /* a payload byte: the signature no longer covers it */
    cases[n++] = (struct bad_case){"bad signature", MC_ERR_BAD_SIGNATURE, bs, len};
    /* another chain */
    uint8_t *wc = tu_tx(&len, "medchain-other", MC_TX_ENROLL_MEMBER, &t.admin, an + 1, p, pl);
    cases[n++] = (struct bad_case){"wrong chain", MC_ERR_WRONG_CHAIN, wc, len};
    /* unknown account */
    uint8_t *uk = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &stranger, 1, p, pl);
    cases[n++] = (struct bad_case){"unknown account", MC_ERR_UNKNOWN_ACCOUNT, uk, len};
    /* revoked account */
    struct mc_keypair pat;
    mc_keypair_generate(&pat);
    uint8_t pp[96];
    memcpy(pp, pat.pk.b, 32);
    mc_identity_patient_consent_sign(pp + 32, &pat, t.chain_id, &gone.pk);
    uint8_t *rv = tu_tx(&len, t.chain_id, MC_TX_REGISTER_PATIENT, &gone, 1, pp, 96);
    cases[n++] = (struct bad_case){"revoked", MC_ERR_REVOKED, rv, len};
    /* replay: a nonce already used by the admin */
    uint8_t *rpl_tx = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, an, p, pl);
    cases[n++] = (struct bad_case){"replayed nonce", MC_ERR_BAD_NONCE, rpl_tx, len};
    /* forbidden: a clinician cannot enroll */
    uint8_t *fb = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &doc, 1, p, pl);
    cases[n++] = (struct bad_case){"clinician enrolls", MC_ERR_FORBIDDEN, fb, len};
    /* unknown type */
    uint8_t *ut = tu_tx(&len, t.chain_id, 999, &t.admin, an + 1, p, pl);
    cases[n++] = (struct bad_case){"unknown type", MC_ERR_INVALID, ut, len};
    /* patient registration without the patient's own signature */
    memcpy(pp, pat.pk.b, 32);
    memset(pp + 32, 7, 64);
    uint8_t *ns = tu_tx(&len, t.chain_id, MC_TX_REGISTER_PATIENT, &doc, 1, pp, 96);
    cases[n++] = (struct bad_case){"patient did not sign", MC_ERR_BAD_SIGNATURE, ns, len};

    for (int i = 0; i < n; i++) {
        mc_err_clear();
        int rc = mc_node_submit(t.node, cases[i].bytes, cases[i].len, NULL);
        cr_expect_eq(rc, cases[i].want, "%s: got %s (%s), want %s", cases[i].what, mc_err_name(rc),
                     mc_err_detail(), mc_err_name(cases[i].want));
        cr_expect(strlen(mc_err_detail()) > 0, "%s: refusal names a reason", cases[i].what);
        free(cases[i].bytes);
    }
    tu_commit(&t);
    mc_hash after;
    uint64_t h1;
    state_fingerprint(&t, &after, &h1);
    cr_assert_eq(h1, h0, "no block was cut from refused transactions");
    cr_assert_eq(memcmp(after.b, before.b, 32), 0);
    tu_node_stop(&t);
}

/* A transaction resubmitted verbatim changes state once only. */
Test(ledger, verbatim_resubmission_applies_once) {
    struct tu_node t;
    tu_node_start(&t, "dup");
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "Auditor");
    size_t len;
    uint8_t *tx = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, 1, p, pl);
    tu_submit_ok(&t, tx, len);
    cr_assert_eq(mc_node_submit(t.node, tx, len, NULL), MC_ERR_EXISTS, "pending duplicate");
    tu_commit(&t);
    cr_assert_eq(mc_node_submit(t.node, tx, len, NULL), MC_ERR_EXISTS, "committed duplicate");
    tu_commit(&t);
    cr_assert_eq(tu_height(&t), 1);
    free(tx);
    tu_node_stop(&t);
}

/* Out-of-order nonces from one sender still commit in nonce order. */
Test(ledger, nonce_gap_waits_for_predecessor) {
    struct tu_node t;
    tu_node_start(&t, "gap");
    struct mc_keypair a, b;
    mc_keypair_generate(&a);
    mc_keypair_generate(&b);
    uint8_t p1[256], p2[256];
    size_t l1 = tu_enroll_payload(p1, &a.pk, MC_ROLE_AUDITOR, "A");
    size_t l2 = tu_enroll_payload(p2, &b.pk, MC_ROLE_AUDITOR, "B");
    size_t n1, n2;
    uint8_t *t1 = tu_tx(&n1, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, 1, p1, l1);
    uint8_t *t2 = tu_tx(&n2, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, 2, p2, l2);
    tu_submit_ok(&t, t2, n2);
    tu_commit(&t);
    cr_assert_eq(tu_height(&t), 0, "nonce 2 waits for nonce 1");
    tu_submit_ok(&t, t1, n1);
    tu_commit(&t);
    cr_assert_eq(tu_height(&t), 1);
    struct mc_node_status st;
    mc_node_status(t.node, &st);
    cr_assert_eq(st.log_size, 2);
    cr_assert_eq(st.mempool_size, 0);
    free(t1);
    free(t2);
    tu_node_stop(&t);
}
