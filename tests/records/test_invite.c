/* Invitations: a patient registers without a key file changing hands, and
 * the ledger's rule (the clinician's transaction with the patient's consent
 * signature) stays the only way in. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/identity.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "chain/local.h"
#include "crypto/sign.h"
#include "records_env.h"

static const struct rq_opt anon = {.unsigned_request = true};

static char *accept_body(const struct mc_keypair *p, const uint8_t sig[64]) {
    char pk[65], sh[129];
    mc_hex_encode(pk, p->pk.b, 32);
    mc_hex_encode(sh, sig, 64);
    char *b = malloc(300);
    snprintf(b, 300, "{\"patient\":\"%s\",\"consent\":\"%s\"}", pk, sh);
    return b;
}

static char *create(struct env *e, const struct mc_keypair *kp) {
    struct rq r = env_req(e, kp, "POST", "/v1/invitations", "", NULL);
    cr_assert_eq(r.status, 201, "%s", r.body);
    const char *code = json_string_value(json_object_get(r.json, "code"));
    cr_assert_eq(strlen(code), 14, "XXXX-XXXX-XXXX: %s", code);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "link")) + strlen("/patient#invite="), code);
    char *c = strdup(code);
    rq_free(&r);
    return c;
}

Test(invite, patient_joins_by_invitation_ledger_rule_intact, .timeout = 60) {
    struct env e;
    env_start(&e, "invite");
    char *code = create(&e, &e.doc);

    /* who may invite: those who may register */
    struct rq r = env_req(&e, &e.researcher, "POST", "/v1/invitations", "", NULL);
    cr_assert_eq(r.status, 403, "%s", r.body);
    rq_free(&r);
    r = env_req(&e, &e.stranger, "POST", "/v1/invitations", "", NULL);
    cr_assert_eq(r.status, 401, "%s", r.body);
    rq_free(&r);
    r = env_req(&e, &e.doc, "POST", "/v1/invitations", "", &anon);
    cr_assert_eq(r.status, 401, "unsigned: %s", r.body);
    rq_free(&r);

    /* the patient's page reads who invites her (any case, no dashes) */
    char path[200], lower[20];
    size_t k = 0;
    for (const char *c = code; *c; c++)
        if (*c != '-') lower[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    lower[k] = 0;
    snprintf(path, sizeof path, "/v1/invitations/%s", lower);
    r = env_req(&e, &e.stranger, "GET", path, NULL, &anon);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "inviter_name")), "Dr Ada");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "state")), "pending");
    cr_assert_null(json_object_get(r.json, "patient"));
    rq_free(&r);

    /* the link as a QR code for her phone's camera; only a bare origin */
    char qr[300];
    snprintf(qr, sizeof qr, "/v1/invitations/%s/qr.svg?origin=http://127.0.0.1:%u", code, (unsigned)e.port);
    r = env_req(&e, &e.stranger, "GET", qr, NULL, &anon);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char want[200];
    snprintf(want, sizeof want, "<title>http://127.0.0.1:%u/patient#invite=%s</title>", (unsigned)e.port, code);
    cr_assert_not_null(strstr(r.body, want), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "<rect x="), "modules drawn");
    rq_free(&r);
    const char *bad_origin[] = {"javascript:alert(1)", "http://evil.example/path", "ftp://x", "http://a%20b", NULL};
    for (int i = 0; bad_origin[i]; i++) {
        snprintf(qr, sizeof qr, "/v1/invitations/%s/qr.svg?origin=%s", code, bad_origin[i]);
        r = env_req(&e, &e.stranger, "GET", qr, NULL, &anon);
        cr_assert_eq(r.status, 400, "%s: %s", bad_origin[i], r.body);
        rq_free(&r);
    }

    /* she makes her key and consents to be registered by Dr Ada */
    struct mc_keypair jane;
    mc_keypair_generate(&jane);
    uint8_t sig[64];
    mc_identity_patient_consent_sign(sig, &jane, e.t.chain_id, &e.doc.pk);
    /* a consent to someone else, a known key, bad bodies: refused */
    uint8_t other[64];
    mc_identity_patient_consent_sign(other, &jane, e.t.chain_id, &e.doc2.pk);
    snprintf(path, sizeof path, "/v1/invitations/%s/accept", code);
    char *b = accept_body(&jane, other);
    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 401, "a consent naming another clinician: %s", r.body);
    rq_free(&r);
    free(b);
    uint8_t known[64];
    mc_identity_patient_consent_sign(known, &e.patient, e.t.chain_id, &e.doc.pk);
    b = accept_body(&e.patient, known);
    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 409, "an existing account: %s", r.body);
    rq_free(&r);
    free(b);
    const char *bad[] = {"", "{}", "[1]", "{\"patient\":\"00\",\"consent\":\"00\"}", NULL};
    for (int i = 0; bad[i]; i++) {
        r = env_req(&e, &e.stranger, "POST", path, bad[i], &anon);
        cr_assert_eq(r.status, 400, "%s: %s", bad[i], r.body);
        cr_assert_not_null(json_object_get(r.json, "message"));
        rq_free(&r);
    }
    b = accept_body(&jane, sig);
    r = env_req(&e, &e.stranger, "POST", "/v1/invitations/AAAA-BBBB-CCCC/accept", b, &anon);
    cr_assert_eq(r.status, 404, "%s", r.body);
    rq_free(&r);
    free(b);

    b = accept_body(&jane, sig);
    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char match[7];
    snprintf(match, sizeof match, "%s", json_string_value(json_object_get(r.json, "match_code")));
    cr_assert_eq(strlen(match), 6);
    rq_free(&r);
    /* one-time; no QR code for a used invitation */
    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 409, "%s", r.body);
    rq_free(&r);
    snprintf(qr, sizeof qr, "/v1/invitations/%s/qr.svg?origin=http://127.0.0.1:1", code);
    r = env_req(&e, &e.stranger, "GET", qr, NULL, &anon);
    cr_assert_eq(r.status, 404, "%s", r.body);
    rq_free(&r);
    free(b);

    /* the inviter sees it with the same match code, and registers her */
    r = env_req(&e, &e.doc, "GET", "/v1/invitations", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *inv = json_array_get(json_object_get(r.json, "invitations"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(inv, "state")), "accepted");
    cr_assert_str_eq(json_string_value(json_object_get(inv, "match_code")), match);
    cr_assert(json_is_false(json_object_get(inv, "registered")));
    uint8_t p[96];
    memcpy(p, jane.pk.b, 32);
    cr_assert_eq(mc_hex_decode(p + 32, 64, json_string_value(json_object_get(inv, "consent"))), 0);
    rq_free(&r);
    /* another clinician cannot use her consent: the ledger refuses it */
    r = env_req(&e, &e.doc2, "GET", "/v1/invitations", NULL, NULL);
    cr_assert_eq(json_array_size(json_object_get(r.json, "invitations")), 0, "only the inviter sees it");
    rq_free(&r);
    uint64_t n2 = 0;
    size_t len;
    uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_REGISTER_PATIENT, &e.doc2, ++n2, p, 96);
    int src = mc_node_submit(e.t.node, tx, len, NULL);
    free(tx);
    cr_assert_neq(src, 0, "the consent names Dr Ada: Dr Bob's registration is refused");
    uint64_t dn = 2; /* env registered two patients with Dr Ada's nonces 1 and 2 */
    tx = tu_tx(&len, e.t.chain_id, MC_TX_REGISTER_PATIENT, &e.doc, ++dn, p, 96);
    tu_submit_ok(&e.t, tx, len);
    free(tx);
    tu_commit(&e.t);
    r = env_req(&e, &e.doc, "GET", "/v1/invitations", NULL, NULL);
    cr_assert(json_is_true(json_object_get(json_array_get(json_object_get(r.json, "invitations"), 0), "registered")));
    rq_free(&r);
    /* she is a patient now: she reads her (empty) record list */
    char jhex[65];
    mc_hex_encode(jhex, jane.pk.b, 32);
    snprintf(path, sizeof path, "/v1/records?patient=%s", jhex);
    r = env_req(&e, &jane, "GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rq_free(&r);
    free(code);

    /* bounded: at most 32 open invitations per inviter */
    int made = 1;
    for (; made < 40; made++) {
        r = env_req(&e, &e.doc, "POST", "/v1/invitations", "", NULL);
        long st = r.status;
        rq_free(&r);
        if (st != 201) {
            cr_assert_eq(st, 503);
            break;
        }
    }
    cr_assert_eq(made, 32, "the 33rd open invitation is refused (%d)", made);
    env_stop(&e);
}

/* A member joins by her admin's invitation: the admin names her and her
 * role, her key is made on her side and signs the acceptance; the
 * invitation is kept in the node's database, so a restart between any two
 * steps loses nothing; it is one-time and expires. */
static char *member_body(const char *field, const struct mc_keypair *k, const uint8_t sig[64]) {
    char pk[65], sh[129];
    mc_hex_encode(pk, k->pk.b, 32);
    mc_hex_encode(sh, sig, 64);
    char *b = malloc(300);
    snprintf(b, 300, "{\"%s\":\"%s\",\"consent\":\"%s\"}", field, pk, sh);
    return b;
}

static void member_sign(uint8_t sig[64], const struct mc_keypair *k, const char *cid, const mc_pubkey *inviter,
                        const char *purpose) {
    uint8_t m[64];
    memcpy(m, inviter->b, 32);
    memcpy(m + 32, k->pk.b, 32);
    mc_sign(sig, k, purpose, cid, m, sizeof m);
}

Test(invite, member_joins_by_invitation_across_restarts, .timeout = 90) {
    struct env e;
    env_start(&e, "invite-member");
    const char *body = "{\"for\":\"member\",\"role\":\"clinician\",\"name\":\"Dr Grace Hopper\"}";
    /* only the organisation's admin invites members, with a role it may hold */
    struct rq r = env_req(&e, &e.doc, "POST", "/v1/invitations", body, NULL);
    cr_assert_eq(r.status, 403, "a clinician: %s", r.body);
    rq_free(&r);
    const char *bad[] = {"{\"for\":\"member\",\"role\":\"manufacturer\",\"name\":\"X\"}",
                         "{\"for\":\"member\",\"role\":\"admin\",\"name\":\"X\"}",
                         "{\"for\":\"member\",\"role\":\"patient\",\"name\":\"X\"}",
                         "{\"for\":\"member\",\"role\":\"clinician\",\"name\":\"  \"}",
                         "{\"for\":\"member\",\"role\":\"clinician\"}", "{\"for\":\"robot\"}", "[]",
                         "{\"for\":\"member\",\"role\":\"clinician\",\"name\":\"Dr\\nX\"}", NULL};
    for (int i = 0; bad[i]; i++) {
        r = env_req(&e, &e.t.admin, "POST", "/v1/invitations", bad[i], NULL);
        cr_assert_eq(r.status, 400, "%s: %s", bad[i], r.body);
        cr_assert_not_null(json_object_get(r.json, "message"));
        rq_free(&r);
    }
    r = env_req(&e, &e.t.admin, "POST", "/v1/invitations", body, NULL);
    cr_assert_eq(r.status, 201, "%s", r.body);
    char code[16];
    snprintf(code, sizeof code, "%s", json_string_value(json_object_get(r.json, "code")));
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "for")), "member");
    cr_assert_eq(strncmp(json_string_value(json_object_get(r.json, "link")), "/join#invite=", 13), 0);
    rq_free(&r);

    env_restart(&e); /* between create and accept */

    char path[200];
    snprintf(path, sizeof path, "/v1/invitations/%s", code);
    r = env_req(&e, &e.stranger, "GET", path, NULL, &anon);
    cr_assert_eq(r.status, 200, "the invitation survived the restart: %s", r.body);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "for")), "member");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "role")), "clinician");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "Dr Grace Hopper");
    rq_free(&r);
    char qr[300];
    snprintf(qr, sizeof qr, "/v1/invitations/%s/qr.svg?origin=http://127.0.0.1:8080", code);
    r = env_req(&e, &e.stranger, "GET", qr, NULL, &anon);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char want[100];
    snprintf(want, sizeof want, "<title>http://127.0.0.1:8080/join#invite=%s</title>", code);
    cr_assert_not_null(strstr(r.body, want), "%s", r.body);
    rq_free(&r);

    struct mc_keypair grace;
    mc_keypair_generate(&grace);
    uint8_t sig[64], wrong[64];
    member_sign(sig, &grace, e.t.chain_id, &e.t.admin.pk, MC_SIGN_MEMBER);
    snprintf(path, sizeof path, "/v1/invitations/%s/accept", code);
    /* a patient's consent is not a member's acceptance; the patient field
     * is not the member's; a signature naming another inviter fails */
    mc_identity_patient_consent_sign(wrong, &grace, e.t.chain_id, &e.t.admin.pk);
    char *b = member_body("member", &grace, wrong);
    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 401, "%s", r.body);
    rq_free(&r);
    free(b);
    b = member_body("patient", &grace, sig);
    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 400, "%s", r.body);
    cr_assert_not_null(strstr(json_string_value(json_object_get(r.json, "message")), "member"));
    rq_free(&r);
    free(b);
    member_sign(wrong, &grace, e.t.chain_id, &e.doc.pk, MC_SIGN_MEMBER);
    b = member_body("member", &grace, wrong);
    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 401, "%s", r.body);
    rq_free(&r);
    free(b);
    b = member_body("member", &grace, sig);
    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char match[7];
    snprintf(match, sizeof match, "%s", json_string_value(json_object_get(r.json, "match_code")));
    rq_free(&r);

    env_restart(&e); /* between accept and register: still used up */

    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 409, "one-time, after a restart too: %s", r.body);
    rq_free(&r);
    free(b);
    r = env_req(&e, &e.t.admin, "GET", "/v1/invitations", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *inv = json_array_get(json_object_get(r.json, "invitations"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(inv, "state")), "accepted");
    cr_assert_str_eq(json_string_value(json_object_get(inv, "match_code")), match);
    char gh[65];
    mc_hex_encode(gh, grace.pk.b, 32);
    cr_assert_str_eq(json_string_value(json_object_get(inv, "member")), gh);
    cr_assert(json_is_false(json_object_get(inv, "registered")));
    uint8_t got[64];
    cr_assert_eq(mc_hex_decode(got, 64, json_string_value(json_object_get(inv, "consent"))), 0);
    cr_assert_eq(memcmp(got, sig, 64), 0);
    rq_free(&r);
    /* the admin enrolls her with the invitation's name and role */
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &grace.pk, MC_ROLE_CLINICIAN, "Dr Grace Hopper");
    size_t len;
    uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_ENROLL_MEMBER, &e.t.admin, ++e.admin_nonce, p, pl);
    tu_submit_ok(&e.t, tx, len);
    free(tx);
    tu_commit(&e.t);
    r = env_req(&e, &e.t.admin, "GET", "/v1/invitations", NULL, NULL);
    cr_assert(json_is_true(json_object_get(json_array_get(json_object_get(r.json, "invitations"), 0), "registered")));
    rq_free(&r);
    /* she signs in as a clinician: she may now invite patients herself */
    r = env_req(&e, &grace, "POST", "/v1/invitations", "", NULL);
    cr_assert_eq(r.status, 201, "%s", r.body);
    rq_free(&r);

    /* expiry is enforced: an invitation past its time is gone */
    r = env_req(&e, &e.t.admin, "POST", "/v1/invitations", body, NULL);
    cr_assert_eq(r.status, 201, "%s", r.body);
    char code2[16], raw[13];
    snprintf(code2, sizeof code2, "%s", json_string_value(json_object_get(r.json, "code")));
    rq_free(&r);
    snprintf(raw, sizeof raw, "%.4s%.4s%.4s", code2, code2 + 5, code2 + 10);
    struct mc_buf val;
    mc_buf_init(&val, 0);
    cr_assert_eq(mc_local_get(mc_node_local(e.t.node), "invite", (const uint8_t *)raw, 12, 1, &val, NULL, NULL), 0);
    const struct mc_local_row aged = {.space = "invite", .key = (const uint8_t *)raw, .key_len = 12,
                                      .owner = e.t.admin.pk.b, .owner_len = 32, .value = val.data,
                                      .value_len = val.len, .expires_ms = 1000};
    cr_assert_eq(mc_local_insert(mc_node_local(e.t.node), &aged, 1, NULL), 0);
    mc_buf_deinit(&val);
    snprintf(path, sizeof path, "/v1/invitations/%s", code2);
    r = env_req(&e, &e.stranger, "GET", path, NULL, &anon);
    cr_assert_eq(r.status, 404, "expired: %s", r.body);
    rq_free(&r);
    struct mc_keypair late;
    mc_keypair_generate(&late);
    member_sign(sig, &late, e.t.chain_id, &e.t.admin.pk, MC_SIGN_MEMBER);
    b = member_body("member", &late, sig);
    snprintf(path, sizeof path, "/v1/invitations/%s/accept", code2);
    r = env_req(&e, &e.stranger, "POST", path, b, &anon);
    cr_assert_eq(r.status, 404, "an expired invitation is not accepted: %s", r.body);
    rq_free(&r);
    free(b);
    env_stop(&e);
}
