/* GET /v1/directory: members by name, never patients, never revoked keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/directory.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "records_env.h"

static json_t *members(struct env *e, const char *query, long want) {
    struct rq r = env_req(e, &e->stranger, "GET", query, NULL, &(struct rq_opt){.unsigned_request = true});
    cr_assert_eq(r.status, want, "%s: %ld %s", query, r.status, r.body);
    json_t *m = json_incref(json_object_get(r.json, want == 200 ? "members" : "error"));
    rq_free(&r);
    return m;
}

static bool lists_key(json_t *list, const mc_pubkey *k) {
    char hx[65];
    mc_hex_encode(hx, k->b, 32);
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it) if (strcmp(json_string_value(json_object_get(it, "key")), hx) == 0) return true;
    return false;
}

Test(directory, members_by_name_never_patients, .timeout = 60) {
    struct env e;
    env_start(&e, "directory");
    json_t *all = members(&e, "/v1/directory", 200);
    cr_assert(lists_key(all, &e.doc.pk) && lists_key(all, &e.doc2.pk) && lists_key(all, &e.auditor.pk));
    cr_assert(!lists_key(all, &e.patient.pk) && !lists_key(all, &e.patient2.pk), "patients are never listed");
    /* name order */
    const char *prev = "";
    size_t i;
    json_t *it;
    json_array_foreach(all, i, it) {
        const char *n = json_string_value(json_object_get(it, "name"));
        cr_assert(strcasecmp(prev, n) <= 0, "%s before %s", prev, n);
        cr_assert_str_neq(json_string_value(json_object_get(it, "role")), "node");
        prev = n;
    }
    json_decref(all);

    /* words, any case, in the name or the organisation's name */
    json_t *ada = members(&e, "/v1/directory?q=dr%20ADA", 200);
    cr_assert_eq(json_array_size(ada), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ada, 0), "name")), "Dr Ada");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ada, 0), "role")), "clinician");
    cr_assert_not_null(json_string_value(json_object_get(json_array_get(ada, 0), "org_name")));
    json_decref(ada);
    json_t *clin = members(&e, "/v1/directory?role=clinician&org=1", 200);
    cr_assert_eq(json_array_size(clin), 2);
    json_decref(clin);
    json_t *none = members(&e, "/v1/directory?q=nobody-by-this-name", 200);
    cr_assert_eq(json_array_size(none), 0);
    json_decref(none);

    /* a revoked member leaves the directory */
    uint8_t p[256];
    size_t pl = tu_revoke_payload(p, &e.doc2.pk, "left");
    size_t len;
    uint8_t *tx = tu_tx(&len, e.t.chain_id, MC_TX_REVOKE_MEMBER, &e.t.admin, ++e.admin_nonce, p, pl);
    tu_submit_ok(&e.t, tx, len);
    free(tx);
    tu_commit(&e.t);
    json_t *after = members(&e, "/v1/directory?q=dr", 200);
    cr_assert(lists_key(after, &e.doc.pk) && !lists_key(after, &e.doc2.pk), "a revoked key is not offered");
    json_decref(after);

    /* a patient's code to scan: her key only */
    char qpath[120];
    snprintf(qpath, sizeof qpath, "/v1/account/%s/qr.svg", e.patient_hex);
    struct rq qr = env_req(&e, &e.stranger, "GET", qpath, NULL, &(struct rq_opt){.unsigned_request = true});
    cr_assert_eq(qr.status, 200, "%s", qr.body);
    char want[120];
    snprintf(want, sizeof want, "<title>medchain:account:%s</title>", e.patient_hex);
    cr_assert_not_null(strstr(qr.body, want));
    rq_free(&qr);
    char stranger_hex[65];
    mc_hex_encode(stranger_hex, e.stranger.pk.b, 32);
    snprintf(qpath, sizeof qpath, "/v1/account/%s/qr.svg", stranger_hex);
    qr = env_req(&e, &e.stranger, "GET", qpath, NULL, &(struct rq_opt){.unsigned_request = true});
    cr_assert_eq(qr.status, 404, "not an account: %s", qr.body);
    rq_free(&qr);

    /* bad input: a clear error */
    const char *bad[] = {"/v1/directory?role=patient", "/v1/directory?role=wizard", "/v1/directory?org=x",
                         "/v1/directory?org=0",
                         "/v1/directory?q=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                         "/v1/directory?q=a%20b%20c%20d%20e%20f%20g%20h%20i", NULL};
    for (int k = 0; bad[k]; k++) {
        json_t *err = members(&e, bad[k], 400);
        cr_assert(json_is_string(err), "%s", bad[k]);
        json_decref(err);
    }
    env_stop(&e);
}

Test(directory, at_most_the_bound_in_name_order) {
    /* mc_directory_listed: the rule itself */
    struct mc_account a = {.status = MC_ACCOUNT_ACTIVE, .org = 1, .role = MC_ROLE_CLINICIAN};
    cr_assert(mc_directory_listed(&a));
    a.role = MC_ROLE_PATIENT;
    cr_assert(!mc_directory_listed(&a));
    a.role = MC_ROLE_NODE;
    cr_assert(!mc_directory_listed(&a));
    a.role = MC_ROLE_AUDITOR;
    a.status = MC_ACCOUNT_ROTATED;
    cr_assert(!mc_directory_listed(&a));
    a.status = MC_ACCOUNT_ACTIVE;
    a.org = 0;
    cr_assert(!mc_directory_listed(&a));
}
