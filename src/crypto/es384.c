/* ES384 verification over OpenSSL 3 (see es384.h). */
#include "crypto/es384.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

static EVP_PKEY *pkey_of(const uint8_t key[MC_ES384_KEY_BYTES]) {
    if (key[0] != 0x04) return NULL;
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (b && ctx && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, key, MC_ES384_KEY_BYTES) &&
        (params = OSSL_PARAM_BLD_to_param(b)) && EVP_PKEY_fromdata_init(ctx) > 0 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(ctx);
    if (!pkey) return NULL;
    /* fromdata decodes the point; check it lies on the curve */
    EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = chk && EVP_PKEY_public_check(chk) == 1;
    EVP_PKEY_CTX_free(chk);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

bool mc_es384_key_valid(const uint8_t key[MC_ES384_KEY_BYTES]) {
    EVP_PKEY *p = pkey_of(key);
    EVP_PKEY_free(p);
    return p != NULL;
}

int mc_es384_verify(const uint8_t key[MC_ES384_KEY_BYTES], const uint8_t *msg, size_t n,
                    const uint8_t sig[MC_ES384_SIG_BYTES]) {
    EVP_PKEY *pkey = pkey_of(key);
    if (!pkey) return MC_ERR_BAD_SIGNATURE;
    /* R || S to the DER form libcrypto verifies */
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 48, NULL), *s = BN_bin2bn(sig + 48, 48, NULL);
    unsigned char *der = NULL;
    int der_len = -1;
    if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL; /* owned by es now */
        der_len = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    int ok = 0;
    EVP_MD_CTX *md = der_len > 0 ? EVP_MD_CTX_new() : NULL;
    if (md && EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pkey) == 1)
        ok = EVP_DigestVerify(md, der, (size_t)der_len, msg, n) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
    return ok ? 0 : MC_ERR_BAD_SIGNATURE;
}
