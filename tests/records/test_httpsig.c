/* RFC 9421 signature bases and verification, RFC 9530 digests: published
 * vectors, then medchain's profile (stale, future, altered, wrong key). */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "api/httpsig.h"
#include "base/hex.h"
#include "crypto/hash.h"

struct hdrs {
    const char *names[8];
    const char *values[8];
};

static const char *lookup(void *ctx, const char *name) {
    struct hdrs *h = ctx;
    for (int i = 0; i < 8 && h->names[i]; i++)
        if (strcmp(h->names[i], name) == 0) return h->values[i];
    return NULL;
}

/* RFC 9421 Appendix B.2.6 (ed25519) with the B.1.4 test key. */
Test(httpsig, rfc9421_b26_base_and_signature) {
    mc_crypto_init();
    struct hdrs h = {{"date", "content-type", "content-length"},
                     {"Tue, 20 Apr 2021 02:07:55 GMT", "application/json", "18"}};
    struct mc_httpsig_params p;
    cr_assert_eq(mc_httpsig_parse_input(&p,
                                        "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" "
                                        "\"content-type\" \"content-length\");created=1618884473"
                                        ";keyid=\"test-key-ed25519\"",
                                        "sig-b26"),
                 0, "%s", mc_err_detail());
    struct mc_httpsig_message m = {.method = "POST", .target_uri = "https://example.com/foo?param=Value&Pet=dog",
                                   .header = lookup, .header_ctx = &h};
    struct mc_buf base;
    mc_buf_init(&base, 0);
    cr_assert_eq(mc_httpsig_base(&base, &p, &m), 0);
    const char *want = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
                       "\"@method\": POST\n"
                       "\"@path\": /foo\n"
                       "\"@authority\": example.com\n"
                       "\"content-type\": application/json\n"
                       "\"content-length\": 18\n"
                       "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" "
                       "\"content-type\" \"content-length\");created=1618884473"
                       ";keyid=\"test-key-ed25519\"";
    cr_assert_eq(base.len, strlen(want));
    cr_assert_eq(memcmp(base.data, want, base.len), 0);

    /* The key of B.1.4 (JWK d, base64url) signs the base to the published
     * signature (Ed25519 is deterministic). */
    uint8_t seed[32];
    size_t n;
    cr_assert_eq(sodium_base642bin(seed, 32, "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU", 43, NULL,
                                   &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
    struct mc_keypair kp;
    mc_keypair_from_seed(&kp, seed);
    uint8_t x[32];
    cr_assert_eq(sodium_base642bin(x, 32, "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs", 43, NULL, &n,
                                   NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
    cr_assert_eq(memcmp(x, kp.pk.b, 32), 0);
    uint8_t sig[64];
    cr_assert_eq(mc_httpsig_parse_signature(
                     sig,
                     "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
                     "sig-b26"),
                 0);
    uint8_t mine[64];
    mc_ed25519_sign_raw(mine, &kp, base.data, base.len);
    cr_assert_eq(memcmp(mine, sig, 64), 0);
    cr_assert_eq(mc_ed25519_verify_raw(sig, &kp.pk, base.data, base.len), 0);
    mc_buf_deinit(&base);
}

/* RFC 9530 / RFC 9421 digest examples. */
Test(httpsig, content_digest_vectors) {
    mc_crypto_init();
    char d[MC_CONTENT_DIGEST_LEN];
    mc_httpsig_content_digest(d, "{\"hello\": \"world\"}\n", 19);
    cr_assert_str_eq(d, "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:");
    mc_httpsig_content_digest(d, "{\"hello\": \"world\"}", 18);
    cr_assert_str_eq(d, "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
    cr_assert_eq(mc_httpsig_check_digest(d, "{\"hello\": \"world\"}", 18), 0);
    cr_assert_eq(mc_httpsig_check_digest(d, "{\"hello\": \"World\"}", 18), MC_ERR_BAD_SIGNATURE);
    cr_assert_eq(mc_httpsig_check_digest("sha-256=:@@@:", "x", 1), MC_ERR_MALFORMED);
    cr_assert_eq(mc_httpsig_check_digest("md5=:AA==:", "x", 1), MC_ERR_MALFORMED);
}

Test(httpsig, parser_rejects_garbage) {
    struct mc_httpsig_params p;
    const char *bad[] = {"", "sig1", "sig1=(@method)", "sig1=(\"@method\";req)", "Sig=(\"@method\")",
                         "sig1=(\"@method\" \"@method\")", "sig1=(\"a\";created=1",
                         "sig1=(\"@method\");created=1.5", "sig1=(\"@method\");created=-1",
                         "sig1=(\"@METHOD\")"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_neq(mc_httpsig_parse_input(&p, bad[i], NULL), 0, "accepted '%s'", bad[i]);
    cr_assert_eq(mc_httpsig_parse_input(&p, "a=(\"@method\");keyid=\"x\", b=(\"@path\");keyid=\"y\"", "b"), 0);
    cr_assert_str_eq(p.keyid, "y");
    cr_assert_str_eq(p.comp[0], "@path");
    uint8_t sig[64];
    cr_assert_neq(mc_httpsig_parse_signature(sig, "sig1=:QUJDRA==:", "sig1"), 0);
    cr_assert_neq(mc_httpsig_parse_signature(sig, "sig1=abc", "sig1"), 0);
}

/* A signed request round trip, and each way of breaking it. */
struct req {
    struct hdrs h;
    struct mc_httpsig_signed s;
    struct mc_httpsig_message m;
};

static void make(struct req *r, const struct mc_keypair *kp, const char *method, const char *uri,
                 const char *body, int64_t created, const char *nonce) {
    memset(r, 0, sizeof *r);
    r->m.method = method;
    r->m.target_uri = uri;
    r->m.header = lookup;
    r->m.header_ctx = &r->h;
    cr_assert_eq(mc_httpsig_sign_request(&r->s, kp, &r->m, body, strlen(body), NULL, 0, created, nonce), 0);
    r->h.names[0] = "signature-input";
    r->h.values[0] = r->s.signature_input;
    r->h.names[1] = "signature";
    r->h.values[1] = r->s.signature;
    r->h.names[2] = "content-digest";
    r->h.values[2] = r->s.content_digest;
}

Test(httpsig, profile) {
    mc_crypto_init();
    struct mc_keypair kp, other;
    mc_keypair_generate(&kp);
    mc_keypair_generate(&other);
    int64_t now = 1764201600;
    const char *uri = "https://node.example:7700/fhir/Observation?patient=ab";
    const char *body = "{\"resourceType\":\"Observation\"}";
    struct req r;
    make(&r, &kp, "POST", uri, body, now, "nonce-0001");
    struct mc_httpsig_verified v;
    cr_assert_eq(mc_httpsig_verify_request(&v, &r.m, body, strlen(body), now), 0, "%s", mc_err_detail());
    cr_assert_eq(memcmp(v.key.b, kp.pk.b, 32), 0);
    cr_assert_str_eq(v.params.nonce, "nonce-0001");
    mc_buf_deinit(&v.base);

    /* body altered after signing */
    cr_assert_eq(mc_httpsig_verify_request(&v, &r.m, "{\"resourceType\":\"Observatiom\"}", strlen(body), now),
                 MC_ERR_BAD_SIGNATURE);
    mc_buf_deinit(&v.base);
    /* stale and future */
    cr_assert_eq(mc_httpsig_verify_request(&v, &r.m, body, strlen(body), now + MC_HTTPSIG_WINDOW_S + 1),
                 MC_ERR_INVALID);
    mc_buf_deinit(&v.base);
    cr_assert_eq(mc_httpsig_verify_request(&v, &r.m, body, strlen(body), now - MC_HTTPSIG_WINDOW_S - 1),
                 MC_ERR_INVALID);
    mc_buf_deinit(&v.base);
    /* another method or URI */
    r.m.method = "GET";
    cr_assert_eq(mc_httpsig_verify_request(&v, &r.m, body, strlen(body), now), MC_ERR_BAD_SIGNATURE);
    mc_buf_deinit(&v.base);
    r.m.method = "POST";
    r.m.target_uri = "https://node.example:7700/fhir/Observation?patient=cd";
    cr_assert_eq(mc_httpsig_verify_request(&v, &r.m, body, strlen(body), now), MC_ERR_BAD_SIGNATURE);
    mc_buf_deinit(&v.base);
    r.m.target_uri = uri;
    /* wrong key: keyid names another key than the one that signed */
    char hx[65];
    mc_hex_encode(hx, other.pk.b, 32);
    char forged[MC_HTTPSIG_HEADER_MAX];
    char mine[65];
    mc_hex_encode(mine, kp.pk.b, 32);
    snprintf(forged, sizeof forged, "%s", r.s.signature_input);
    char *k = strstr(forged, mine);
    cr_assert_not_null(k);
    memcpy(k, hx, 64);
    r.h.values[0] = forged;
    cr_assert_eq(mc_httpsig_verify_request(&v, &r.m, body, strlen(body), now), MC_ERR_BAD_SIGNATURE);
    cr_assert_eq(memcmp(v.key.b, other.pk.b, 32), 0, "the claimed key is reported");
    mc_buf_deinit(&v.base);
    /* unsigned */
    r.h.names[0] = NULL;
    cr_assert_eq(mc_httpsig_verify_request(&v, &r.m, body, strlen(body), now), MC_ERR_MALFORMED);
    mc_buf_deinit(&v.base);
}
