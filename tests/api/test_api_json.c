/* The API's pure helpers, without a node: parsing of path ids and query
 * numbers, the mapping of mc_err codes to HTTP statuses and error bodies,
 * the JSON views of headers, certificates, transactions, accounts and
 * organisations, and the router (404, 405 with Allow, 414, parameters). */
#include <criterion/criterion.h>

#include <jansson.h>
#include <string.h>

#include "api/json_view.h"
#include "api/routes.h"
#include "app/identity.h"
#include "app/txtypes.h"
#include "base/codec.h"
#include "base/hex.h"
#include "chain/tx.h"

#define CHAIN "medchain-test"

static void setup(void) { mc_crypto_init(); }

TestSuite(api_json, .init = setup);

static const char *str(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static long long num(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

static void hex_of(char *out, const void *p, size_t n) { mc_hex_encode(out, p, n); }

/* --- parsing --- */

Test(api_json, parse_hash) {
    mc_hash h;
    const char *lower = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    cr_assert_eq(mc_api_parse_hash(&h, lower), 0);
    cr_assert_eq(h.b[0], 0x00);
    cr_assert_eq(h.b[5], 0x55);
    cr_assert_eq(h.b[31], 0xff);
    cr_assert_eq(mc_api_parse_hash(&h, "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"), 0);
    cr_assert_eq(h.b[31], 0xff);
    /* Wrong length, odd length, non-hex, empty, NULL. */
    cr_assert_eq(mc_api_parse_hash(&h, "0011"), MC_ERR_MALFORMED);
    cr_assert_eq(mc_api_parse_hash(&h, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00"),
                 MC_ERR_MALFORMED);
    cr_assert_eq(mc_api_parse_hash(&h, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef"),
                 MC_ERR_MALFORMED);
    cr_assert_eq(mc_api_parse_hash(&h, "g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
                 MC_ERR_MALFORMED);
    cr_assert_eq(mc_api_parse_hash(&h, ""), MC_ERR_MALFORMED);
    cr_assert_eq(mc_api_parse_hash(&h, NULL), MC_ERR_MALFORMED);
    mc_pubkey pk;
    cr_assert_eq(mc_api_parse_pubkey(&pk, lower), 0);
    cr_assert_eq(mc_api_parse_pubkey(&pk, "zz"), MC_ERR_MALFORMED);
}

Test(api_json, parse_u64) {
    uint64_t v = 7;
    cr_assert_eq(mc_api_parse_u64(&v, "0"), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(mc_api_parse_u64(&v, "42"), 0);
    cr_assert_eq(v, 42);
    cr_assert_eq(mc_api_parse_u64(&v, "18446744073709551615"), 0);
    cr_assert_eq(v, UINT64_MAX);
    const char *bad[] = {"", "-1", "+1", " 1", "1 ", "01", "1a", "0x10", "1.5",
                         "18446744073709551616", "99999999999999999999", "000000000000000000001",
                         "123456789012345678901"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        cr_assert_eq(mc_api_parse_u64(&v, bad[i]), MC_ERR_MALFORMED, "accepted '%s'", bad[i]);
        cr_assert_eq(v, 7, "'%s' changed the output", bad[i]);
    }
    cr_assert_eq(mc_api_parse_u64(&v, NULL), MC_ERR_MALFORMED);
}

/* --- errors --- */

Test(api_json, http_status_mapping) {
    cr_assert_eq(mc_api_http_status(MC_ERR_MALFORMED), 400);
    cr_assert_eq(mc_api_http_status(MC_ERR_INVALID), 400);
    cr_assert_eq(mc_api_http_status(MC_ERR_WRONG_CHAIN), 400);
    cr_assert_eq(mc_api_http_status(MC_ERR_TOO_LARGE), 413);
    cr_assert_eq(mc_api_http_status(MC_ERR_BAD_NONCE), 409);
    cr_assert_eq(mc_api_http_status(MC_ERR_EXISTS), 409);
    cr_assert_eq(mc_api_http_status(MC_ERR_BAD_SIGNATURE), 401);
    cr_assert_eq(mc_api_http_status(MC_ERR_UNKNOWN_ACCOUNT), 401);
    cr_assert_eq(mc_api_http_status(MC_ERR_FORBIDDEN), 403);
    cr_assert_eq(mc_api_http_status(MC_ERR_REVOKED), 403);
    cr_assert_eq(mc_api_http_status(MC_ERR_NOT_FOUND), 404);
    cr_assert_eq(mc_api_http_status(MC_ERR_FULL), 503);
    cr_assert_eq(mc_api_http_status(MC_ERR_DB), 500);
    cr_assert_eq(mc_api_http_status(MC_ERR_IO), 500);
    cr_assert_eq(mc_api_http_status(MC_ERR_TAMPERED), 500);
    cr_assert_eq(mc_api_http_status(-9999), 500);
}

Test(api_json, error_body) {
    json_t *e = mc_api_json_error(MC_ERR_BAD_NONCE, "expected nonce 3, got 2");
    cr_assert_not_null(e);
    cr_assert_str_eq(str(e, "error"), "bad_nonce");
    cr_assert_str_eq(str(e, "message"), "Expected nonce 3, got 2.");
    cr_assert_eq(json_object_size(e), 2);
    json_decref(e);

    e = mc_api_json_error(MC_ERR_NOT_FOUND, NULL);
    cr_assert_str_eq(str(e, "error"), "not_found");
    cr_assert_str_eq(str(e, "message"), "Not found.");
    json_decref(e);

    /* A detail that is not UTF-8 still gives a valid error body. */
    e = mc_api_json_error(MC_ERR_MALFORMED, "bad \xff\xfe bytes.");
    cr_assert_not_null(e);
    cr_assert_str_eq(str(e, "message"), "Bad ?? bytes.");
    json_decref(e);
}

/* --- scalars --- */

Test(api_json, scalars) {
    json_t *v = mc_api_json_u64(123);
    cr_assert(json_is_integer(v));
    cr_assert_eq(json_integer_value(v), 123);
    json_decref(v);
    v = mc_api_json_u64(UINT64_MAX);
    cr_assert(json_is_string(v));
    cr_assert_str_eq(json_string_value(v), "18446744073709551615");
    json_decref(v);

    uint8_t big[300];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)i;
    v = mc_api_json_hex(big, sizeof big);
    cr_assert_eq(json_string_length(v), 600);
    cr_assert_eq(strncmp(json_string_value(v), "000102", 6), 0);
    json_decref(v);
    v = mc_api_json_hex(big, 0);
    cr_assert_str_eq(json_string_value(v), "");
    json_decref(v);

    v = mc_api_json_text(NULL);
    cr_assert(json_is_null(v));
    json_decref(v);
    v = mc_api_json_text("caf\xc3\xa9");
    cr_assert_str_eq(json_string_value(v), "caf\xc3\xa9");
    json_decref(v);
    v = mc_api_json_text("a\x80z");
    cr_assert_str_eq(json_string_value(v), "a?z");
    json_decref(v);

    mc_hash hs[3];
    memset(hs, 0xab, sizeof hs);
    v = mc_api_json_hash_array(hs, 3);
    cr_assert_eq(json_array_size(v), 3);
    cr_assert_eq(json_string_length(json_array_get(v, 2)), 64);
    json_decref(v);
    v = mc_api_json_hash_array(hs, 0);
    cr_assert_eq(json_array_size(v), 0);
    json_decref(v);
}

/* --- ledger objects --- */

Test(api_json, header_view) {
    struct mc_header h;
    memset(&h, 0, sizeof h);
    strcpy(h.chain_id, CHAIN);
    h.height = 9;
    h.time_ms = 1764201600123ULL;
    memset(h.prev.b, 0x11, 32);
    memset(h.tx_root.b, 0x22, 32);
    h.tx_count = 3;
    h.log_size = 17;
    memset(h.log_root.b, 0x33, 32);
    memset(h.proposer.b, 0x44, 32);
    json_t *j = mc_api_json_header(&h);
    cr_assert_not_null(j);
    cr_assert_str_eq(str(j, "chain_id"), CHAIN);
    cr_assert_eq(num(j, "height"), 9);
    cr_assert_eq(num(j, "time_ms"), 1764201600123LL);
    cr_assert_eq(num(j, "tx_count"), 3);
    cr_assert_eq(num(j, "log_size"), 17);
    char hex[65];
    hex_of(hex, h.prev.b, 32);
    cr_assert_str_eq(str(j, "prev"), hex);
    hex_of(hex, h.log_root.b, 32);
    cr_assert_str_eq(str(j, "log_root"), hex);
    hex_of(hex, h.proposer.b, 32);
    cr_assert_str_eq(str(j, "proposer"), hex);
    const char *keys[] = {"chain_id", "height", "time_ms", "prev", "tx_root", "tx_count",
                          "log_size", "log_root", "state_hash", "valset_hash", "proposer",
                          "last_commit_hash"};
    cr_assert_eq(json_object_size(j), sizeof keys / sizeof keys[0]);
    /* Keys come in the documented order. */
    size_t i = 0;
    for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it), i++)
        cr_assert_str_eq(json_object_iter_key(it), keys[i]);
    json_decref(j);
}

Test(api_json, commit_view) {
    struct mc_valset vs;
    memset(&vs, 0, sizeof vs);
    struct mc_keypair kp;
    uint8_t seed[MC_SEED_BYTES] = {1};
    mc_keypair_from_seed(&kp, seed);
    cr_assert_eq(mc_valset_add(&vs, &kp.pk, 10, "node0"), 0);

    struct mc_commit *c = calloc(1, sizeof *c);
    c->height = 5;
    c->round = 2;
    memset(c->block_hash.b, 0x5a, 32);
    c->count = 2;
    c->sigs[0].validator = 0;
    memset(c->sigs[0].sig, 0xcd, 64);
    c->sigs[1].validator = 7; /* out of the set: no name, no key */
    json_t *j = mc_api_json_commit(c, &vs);
    cr_assert_not_null(j);
    cr_assert_eq(num(j, "height"), 5);
    cr_assert_eq(num(j, "round"), 2);
    json_t *sigs = json_object_get(j, "signatures");
    cr_assert_eq(json_array_size(sigs), 2);
    json_t *s0 = json_array_get(sigs, 0);
    cr_assert_eq(num(s0, "validator"), 0);
    cr_assert_eq(json_string_length(json_object_get(s0, "signature")), 128);
    cr_assert_str_eq(str(s0, "name"), "node0");
    char hex[65];
    hex_of(hex, kp.pk.b, 32);
    cr_assert_str_eq(str(s0, "node_key"), hex);
    json_t *s1 = json_array_get(sigs, 1);
    cr_assert_eq(num(s1, "validator"), 7);
    cr_assert_null(json_object_get(s1, "name"));
    json_decref(j);

    j = mc_api_json_commit(c, NULL);
    cr_assert_null(json_object_get(json_array_get(json_object_get(j, "signatures"), 0), "name"));
    json_decref(j);
    free(c);
}

/* A signed transaction of `type` with `payload`, encoded into b. */
static void make_tx(struct mc_buf *b, const struct mc_keypair *kp, uint16_t type,
                    const struct mc_buf *payload, uint64_t nonce) {
    struct mc_tx tx;
    memset(&tx, 0, sizeof tx);
    strcpy(tx.chain_id, CHAIN);
    tx.type = type;
    tx.sender = kp->pk;
    tx.nonce = nonce;
    tx.payload = payload->data;
    tx.payload_len = payload->len;
    mc_tx_sign(&tx, kp);
    mc_buf_init(b, 0);
    mc_tx_encode(b, &tx);
    cr_assert_eq(b->err, 0);
}

Test(api_json, tx_view_enroll) {
    struct mc_keypair admin, member;
    uint8_t s1[MC_SEED_BYTES] = {1}, s2[MC_SEED_BYTES] = {2};
    mc_keypair_from_seed(&admin, s1);
    mc_keypair_from_seed(&member, s2);
    struct mc_buf p, b;
    mc_buf_init(&p, 0);
    mc_enc_fixed(&p, member.pk.b, 32);
    mc_enc_u8(&p, MC_ROLE_CLINICIAN);
    mc_enc_str8(&p, "Dr. Grey");
    make_tx(&b, &admin, MC_TX_ENROLL_MEMBER, &p, 1);

    int err = 0;
    json_t *j = mc_api_json_tx(b.data, b.len, &err);
    cr_assert_not_null(j);
    cr_assert_eq(err, 0);
    cr_assert_str_eq(str(j, "chain_id"), CHAIN);
    cr_assert_str_eq(str(j, "type"), "enroll_member");
    cr_assert_eq(num(j, "type_code"), MC_TX_ENROLL_MEMBER);
    cr_assert_eq(num(j, "nonce"), 1);
    char hex[129];
    hex_of(hex, admin.pk.b, 32);
    cr_assert_str_eq(str(j, "sender"), hex);
    cr_assert_eq(json_string_length(json_object_get(j, "signature")), 128);
    cr_assert_eq(json_string_length(json_object_get(j, "payload_hex")), 2 * p.len);
    json_t *pl = json_object_get(j, "payload");
    hex_of(hex, member.pk.b, 32);
    cr_assert_str_eq(str(pl, "member"), hex);
    cr_assert_str_eq(str(pl, "role"), "clinician");
    cr_assert_eq(num(pl, "role_code"), MC_ROLE_CLINICIAN);
    cr_assert_str_eq(str(pl, "name"), "Dr. Grey");
    json_decref(j);

    /* Truncated or trailing bytes do not decode. */
    err = 0;
    cr_assert_null(mc_api_json_tx(b.data, b.len - 1, &err));
    cr_assert_neq(err, 0);
    uint8_t *longer = malloc(b.len + 1);
    memcpy(longer, b.data, b.len);
    longer[b.len] = 0;
    err = 0;
    cr_assert_null(mc_api_json_tx(longer, b.len + 1, &err));
    cr_assert_neq(err, 0);
    cr_assert_null(mc_api_json_tx((const uint8_t *)"", 0, NULL));
    free(longer);
    mc_buf_deinit(&p);
    mc_buf_deinit(&b);
}

Test(api_json, tx_payload_views) {
    mc_pubkey pk;
    memset(pk.b, 0x42, 32);
    uint8_t sig[64];
    memset(sig, 0x77, 64);
    char pk_hex[65];
    hex_of(pk_hex, pk.b, 32);

    struct mc_buf p;
    mc_buf_init(&p, 0);
    mc_enc_fixed(&p, pk.b, 32);
    mc_enc_str8(&p, "left the hospital");
    json_t *j = mc_api_json_tx_payload(MC_TX_REVOKE_MEMBER, p.data, p.len);
    cr_assert_str_eq(str(j, "member"), pk_hex);
    cr_assert_str_eq(str(j, "reason"), "left the hospital");
    json_decref(j);

    mc_buf_reset(&p);
    mc_enc_fixed(&p, pk.b, 32);
    mc_enc_fixed(&p, sig, 64);
    j = mc_api_json_tx_payload(MC_TX_REGISTER_PATIENT, p.data, p.len);
    cr_assert_str_eq(str(j, "patient"), pk_hex);
    cr_assert_eq(json_string_length(json_object_get(j, "patient_signature")), 128);
    json_decref(j);
    j = mc_api_json_tx_payload(MC_TX_ROTATE_KEY, p.data, p.len);
    cr_assert_str_eq(str(j, "new_key"), pk_hex);
    cr_assert_eq(json_string_length(json_object_get(j, "proof_signature")), 128);
    json_decref(j);

    /* Truncated, trailing, unknown type: null, never a crash. */
    j = mc_api_json_tx_payload(MC_TX_ROTATE_KEY, p.data, p.len - 1);
    cr_assert(json_is_null(j));
    json_decref(j);
    mc_enc_u8(&p, 0);
    j = mc_api_json_tx_payload(MC_TX_ROTATE_KEY, p.data, p.len);
    cr_assert(json_is_null(j));
    json_decref(j);
    j = mc_api_json_tx_payload(999, p.data, p.len);
    cr_assert(json_is_null(j));
    json_decref(j);
    j = mc_api_json_tx_payload(MC_TX_ENROLL_MEMBER, NULL, 0);
    cr_assert(json_is_null(j));
    json_decref(j);
    mc_buf_deinit(&p);
}

Test(api_json, tx_view_unknown_type_and_huge_nonce) {
    struct mc_keypair kp;
    uint8_t s[MC_SEED_BYTES] = {3};
    mc_keypair_from_seed(&kp, s);
    struct mc_buf p, b;
    mc_buf_init(&p, 0);
    mc_enc_u8(&p, 1);
    make_tx(&b, &kp, 4242, &p, UINT64_MAX);
    json_t *j = mc_api_json_tx(b.data, b.len, NULL);
    cr_assert_not_null(j);
    cr_assert(json_is_null(json_object_get(j, "type")));
    cr_assert_eq(num(j, "type_code"), 4242);
    cr_assert_str_eq(str(j, "nonce"), "18446744073709551615");
    cr_assert(json_is_null(json_object_get(j, "payload")));
    cr_assert_str_eq(str(j, "payload_hex"), "01");
    json_decref(j);
    mc_buf_deinit(&p);
    mc_buf_deinit(&b);
}

Test(api_json, account_view) {
    struct mc_account a;
    memset(&a, 0, sizeof a);
    memset(a.key.b, 0x01, 32);
    a.role = MC_ROLE_PHARMACIST;
    a.status = MC_ACCOUNT_ACTIVE;
    a.org = 3;
    a.nonce = 12;
    strcpy(a.name, "Ann");
    a.since_height = 4;
    struct mc_org o;
    memset(&o, 0, sizeof o);
    o.id = 3;
    strcpy(o.name, "Corner Pharmacy");
    o.kind = MC_ORG_PHARMACY;

    json_t *j = mc_api_json_account(&a, &o);
    cr_assert_str_eq(str(j, "role"), "pharmacist");
    cr_assert_str_eq(str(j, "status"), "active");
    cr_assert_eq(num(j, "org"), 3);
    cr_assert_str_eq(str(j, "org_name"), "Corner Pharmacy");
    cr_assert_eq(num(j, "nonce"), 12);
    cr_assert_str_eq(str(j, "name"), "Ann");
    cr_assert_eq(num(j, "since_height"), 4);
    cr_assert_null(json_object_get(j, "successor"));
    json_decref(j);

    a.status = MC_ACCOUNT_ROTATED;
    memset(a.successor.b, 0xee, 32);
    j = mc_api_json_account(&a, NULL);
    cr_assert_str_eq(str(j, "status"), "rotated");
    cr_assert(json_is_null(json_object_get(j, "org_name")));
    cr_assert_eq(json_string_length(json_object_get(j, "successor")), 64);
    json_decref(j);
}

Test(api_json, org_view) {
    struct mc_org o;
    memset(&o, 0, sizeof o);
    o.id = 1;
    strcpy(o.name, "St Mary's Hospital");
    o.kind = MC_ORG_HOSPITAL;
    memset(o.admin.b, 0x99, 32);
    json_t *j = mc_api_json_org(&o);
    cr_assert_eq(num(j, "id"), 1);
    cr_assert_str_eq(str(j, "name"), "St Mary's Hospital");
    cr_assert_str_eq(str(j, "kind"), "hospital");
    cr_assert(json_is_null(json_object_get(j, "gln")));
    cr_assert_eq(json_string_length(json_object_get(j, "admin_key")), 64);
    json_decref(j);
    strcpy(o.gln, "5412345000013");
    j = mc_api_json_org(&o);
    cr_assert_str_eq(str(j, "gln"), "5412345000013");
    json_decref(j);
}

/* --- router --- */

static int lookup(struct mc__api_match *m, struct mc__api_response *res, const char *method,
                  const char *path) {
    memset(res, 0, sizeof *res);
    return mc__api_lookup(m, res, method, path);
}

Test(api_json, router) {
    struct mc__api_match m;
    struct mc__api_response res;

    cr_assert_eq(lookup(&m, &res, "GET", "/"), 0);
    cr_assert_eq(lookup(&m, &res, "GET", "/v1/status"), 0);
    cr_assert_eq(lookup(&m, &res, "GET", "/v1/status/"), 0);
    cr_assert_eq(lookup(&m, &res, "HEAD", "/v1/status"), 0);
    cr_assert_eq(m.body_max, 0);

    cr_assert_eq(lookup(&m, &res, "POST", "/v1/tx"), 0);
    cr_assert_eq(m.body_max, MC_HTTP_TX_BODY_MAX);
    cr_assert_leq(m.body_max, MC_HTTP_BODY_MAX);

    cr_assert_eq(lookup(&m, &res, "GET", "/v1/block/latest"), 0);
    cr_assert_str_eq(m.param, "latest");
    cr_assert_eq(lookup(&m, &res, "GET", "/v1/tx/abcd"), 0);
    cr_assert_str_eq(m.param, "abcd");

    /* Unknown paths: 404 JSON. */
    const char *unknown[] = {"/v2/status", "/v1", "/v1/tx/a/b", "/v1//status", "//",
                             "/v1/status/x", "relative", ""};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        cr_assert_eq(lookup(&m, &res, "GET", unknown[i]), MC_ERR_NOT_FOUND, "%s", unknown[i]);
        cr_assert_eq(res.status, 404);
        cr_assert_str_eq(str(res.body, "error"), "not_found");
        json_decref(res.body);
    }

    /* Wrong method: 405 with Allow. */
    cr_assert_neq(lookup(&m, &res, "DELETE", "/v1/status"), 0);
    cr_assert_eq(res.status, 405);
    cr_assert_str_eq(res.allow, "GET, HEAD");
    json_decref(res.body);
    cr_assert_neq(lookup(&m, &res, "GET", "/v1/tx"), 0);
    cr_assert_eq(res.status, 405);
    cr_assert_str_eq(res.allow, "POST");
    json_decref(res.body);
    cr_assert_neq(lookup(&m, &res, "POST", "/v1/tx/abcd"), 0);
    cr_assert_eq(res.status, 405);
    json_decref(res.body);

    /* Overlong segment or path: 414. */
    char seg[MC_API_SEGMENT_MAX + 16] = "/v1/tx/";
    memset(seg + 7, 'a', MC_API_SEGMENT_MAX + 1);
    seg[7 + MC_API_SEGMENT_MAX + 1] = 0;
    cr_assert_eq(lookup(&m, &res, "GET", seg), MC_ERR_TOO_LARGE);
    cr_assert_eq(res.status, 414);
    cr_assert_str_eq(str(res.body, "error"), "too_large");
    json_decref(res.body);
    seg[7 + MC_API_SEGMENT_MAX] = 0; /* exactly the maximum is fine */
    cr_assert_eq(lookup(&m, &res, "GET", seg), 0);
    cr_assert_eq(strlen(m.param), MC_API_SEGMENT_MAX);

    char *path = malloc(MC_API_PATH_MAX + 10);
    memset(path, '/', MC_API_PATH_MAX + 9);
    path[MC_API_PATH_MAX + 9] = 0;
    cr_assert_eq(lookup(&m, &res, "GET", path), MC_ERR_TOO_LARGE);
    cr_assert_eq(res.status, 414);
    json_decref(res.body);
    free(path);
}
