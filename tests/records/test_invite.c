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
