/* SMART test helpers (see smart_util.h). */
#include "smart_util.h"

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/smart_payload.h"
#include "app/txtypes.h"

void su_register(struct env *e, const struct mc_keypair *owner, uint64_t *nonce, const char *id, const mc_pubkey *pk) {
    su_register_alg(e, owner, nonce, id, MC_SMART_ALG_EDDSA, pk->b, 32);
}

void su_register_alg(struct env *e, const struct mc_keypair *owner, uint64_t *nonce, const char *id, uint8_t alg,
                     const uint8_t *key, size_t key_len) {
    struct mc_smart_payload p;
    memset(&p, 0, sizeof p);
    p.type = MC_TX_SMART_CLIENT;
    snprintf(p.client, sizeof p.client, "%s", id);
    p.alg = alg;
    p.key = key;
    p.key_len = key_len;
    snprintf(p.name, sizeof p.name, "test client %s", id);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_smart_payload_encode(&b, &p), 0);
    env_tx(e, owner, nonce, MC_TX_SMART_CLIENT, b.data, b.len);
    mc_buf_deinit(&b);
}

void su_revoke(struct env *e, const struct mc_keypair *by, uint64_t *nonce, const char *id) {
    struct mc_smart_payload p;
    memset(&p, 0, sizeof p);
    p.type = MC_TX_SMART_CLIENT_REVOKE;
    snprintf(p.client, sizeof p.client, "%s", id);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_smart_payload_encode(&b, &p), 0);
    env_tx(e, by, nonce, MC_TX_SMART_CLIENT_REVOKE, b.data, b.len);
    mc_buf_deinit(&b);
}

static void b64url(char *out, size_t cap, const void *in, size_t n) {
    sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

char *su_jws(const struct mc_keypair *kp, const char *header, const char *claims) {
    size_t cap = 4 * (strlen(header) + strlen(claims)) + 256;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    char *h = malloc(cap), *c = malloc(cap);
    b64url(h, cap, header, strlen(header));
    b64url(c, cap, claims, strlen(claims));
    snprintf(out, cap, "%s.%s", h, c);
    uint8_t sig[MC_SIG_BYTES];
    mc_ed25519_sign_raw(sig, kp, (const uint8_t *)out, strlen(out));
    char s[128];
    b64url(s, sizeof s, sig, sizeof sig);
    strcat(out, ".");
    strcat(out, s);
    free(h);
    free(c);
    return out;
}

void su_token_url(struct env *e, char *out, size_t cap) {
    snprintf(out, cap, "http://127.0.0.1:%u/auth/token", (unsigned)e->port);
}

char *su_assertion(const struct mc_keypair *kp, struct env *e, const char *client, int64_t exp_in_s,
                   const char *jti) {
    char aud[128], claims[1024];
    su_token_url(e, aud, sizeof aud);
    snprintf(claims, sizeof claims, "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"%s\"}",
             client, client, aud, (long long)time(NULL) + exp_in_s, jti);
    return su_jws(kp, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", claims);
}

struct rq su_token(struct env *e, const char *assertion, const char *scope) {
    char *form = malloc(8192);
    cr_assert_not_null(form);
    char sc[1024];
    size_t k = 0;
    for (const char *p = scope; *p && k + 4 < sizeof sc; p++) {
        if (*p == ' ') sc[k++] = '+';
        else if (*p == '*' || *p == '/') k += (size_t)snprintf(sc + k, sizeof sc - k, "%%%02X", (unsigned char)*p);
        else sc[k++] = *p;
    }
    sc[k] = 0;
    snprintf(form, 8192,
             "grant_type=client_credentials&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-bearer"
             "&client_assertion=%s&scope=%s",
             assertion, sc);
    struct rq_opt o = {.unsigned_request = true, .content_type = "application/x-www-form-urlencoded"};
    struct rq r = env_req(e, &e->stranger, "POST", "/auth/token", form, &o);
    free(form);
    return r;
}

struct rq su_bearer(struct env *e, const char *token, const char *path) {
    char h[256];
    snprintf(h, sizeof h, "Authorization: Bearer %s", token);
    struct rq_opt o = {.unsigned_request = true, .headers = {h}};
    return env_req(e, &e->stranger, "GET", path, NULL, &o);
}

struct rq su_tx(struct env *e, const char *hex) {
    char path[128];
    snprintf(path, sizeof path, "/v1/tx/%s", hex);
    struct rq_opt o = {.unsigned_request = true};
    struct rq r = env_req(e, &e->stranger, "GET", path, NULL, &o);
    cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status, r.body);
    return r;
}

void *su_es384_keygen(uint8_t pub[97], uint8_t d[48]) {
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    cr_assert_not_null(k);
    size_t n = 0;
    cr_assert_eq(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, 97, &n), 1);
    cr_assert_eq(n, 97);
    cr_assert_eq(pub[0], 4);
    if (d) {
        BIGNUM *bn = NULL;
        cr_assert_eq(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bn), 1);
        cr_assert_eq(BN_bn2binpad(bn, d, 48), 48);
        BN_clear_free(bn);
    }
    return k;
}

void su_es384_free(void *key) { EVP_PKEY_free(key); }

char *su_jws_es384(void *key, const char *header, const char *claims) {
    size_t cap = 4 * (strlen(header) + strlen(claims)) + 256;
    char *out = malloc(cap), *h = malloc(cap), *c = malloc(cap);
    cr_assert(out && h && c);
    b64url(h, cap, header, strlen(header));
    b64url(c, cap, claims, strlen(claims));
    snprintf(out, cap, "%s.%s", h, c);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[160];
    size_t dl = sizeof der;
    cr_assert_eq(EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key), 1);
    cr_assert_eq(EVP_DigestSign(md, der, &dl, (const unsigned char *)out, strlen(out)), 1);
    EVP_MD_CTX_free(md);
    const unsigned char *dp = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
    cr_assert_not_null(es);
    uint8_t rs[96];
    cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 48), 48);
    cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 48, 48), 48);
    ECDSA_SIG_free(es);
    char s[160];
    b64url(s, sizeof s, rs, sizeof rs);
    strcat(out, ".");
    strcat(out, s);
    free(h);
    free(c);
    return out;
}
