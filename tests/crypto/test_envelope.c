/* Envelope encryption: data-key round trips, rejection of a wrong key,
 * wrong associated data or any altered byte, and data keys sealed to one
 * recipient that no one else can open. */
#include <criterion/criterion.h>

#include <string.h>

#include "crypto/envelope.h"
#include "crypto/hash.h"

static void init(void) { mc_crypto_init(); }
TestSuite(envelope, .init = init);

static const char msg[] = "{\"resourceType\":\"Observation\",\"status\":\"final\"}";
static const char ad[] = "record:42";

static void encrypt(struct mc_buf *ct, uint8_t key[MC_DATAKEY_BYTES], const void *p, size_t n) {
    mc_buf_init(ct, 0);
    cr_assert_eq(mc_envelope_encrypt(ct, key, p, n, ad, strlen(ad)), 0);
    cr_assert_eq(ct->len, n + MC_ENVELOPE_OVERHEAD);
}

Test(envelope, round_trip) {
    size_t sizes[] = {0, 1, sizeof msg, 4096};
    static uint8_t big[4096];
    memset(big, 0x5a, sizeof big);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const void *p = sizes[i] == sizeof msg ? (const void *)msg : big;
        uint8_t key[MC_DATAKEY_BYTES];
        struct mc_buf ct, pt;
        encrypt(&ct, key, p, sizes[i]);
        mc_buf_init(&pt, 0);
        cr_assert_eq(mc_envelope_decrypt(&pt, key, ct.data, ct.len, ad, strlen(ad)), 0);
        cr_assert_eq(pt.len, sizes[i]);
        cr_assert(sizes[i] == 0 || memcmp(pt.data, p, sizes[i]) == 0);
        mc_buf_deinit(&ct);
        mc_buf_deinit(&pt);
    }
}

Test(envelope, appends_after_existing_bytes) {
    uint8_t key[MC_DATAKEY_BYTES];
    struct mc_buf ct, pt;
    mc_buf_init(&ct, 0);
    mc_buf_append(&ct, "HDR", 3);
    cr_assert_eq(mc_envelope_encrypt(&ct, key, msg, sizeof msg, NULL, 0), 0);
    cr_assert_eq(ct.len, 3 + sizeof msg + MC_ENVELOPE_OVERHEAD);
    mc_buf_init(&pt, 0);
    mc_buf_append(&pt, "X", 1);
    cr_assert_eq(mc_envelope_decrypt(&pt, key, ct.data + 3, ct.len - 3, NULL, 0), 0);
    cr_assert_eq(pt.len, 1 + sizeof msg);
    cr_assert_eq(memcmp(pt.data + 1, msg, sizeof msg), 0);
    mc_buf_deinit(&ct);
    mc_buf_deinit(&pt);
}

Test(envelope, fresh_key_and_nonce_each_time) {
    uint8_t k1[MC_DATAKEY_BYTES], k2[MC_DATAKEY_BYTES];
    struct mc_buf a, b;
    encrypt(&a, k1, msg, sizeof msg);
    encrypt(&b, k2, msg, sizeof msg);
    cr_assert_neq(memcmp(k1, k2, sizeof k1), 0);
    cr_assert_neq(memcmp(a.data, b.data, 24), 0);
    mc_buf_deinit(&a);
    mc_buf_deinit(&b);
}

Test(envelope, rejects_wrong_key_ad_and_tampering) {
    uint8_t key[MC_DATAKEY_BYTES];
    struct mc_buf ct, pt;
    encrypt(&ct, key, msg, sizeof msg);
    mc_buf_init(&pt, 0);

    uint8_t wrong[MC_DATAKEY_BYTES];
    memcpy(wrong, key, sizeof wrong);
    wrong[0] ^= 1;
    cr_assert_eq(mc_envelope_decrypt(&pt, wrong, ct.data, ct.len, ad, strlen(ad)), MC_ERR_CRYPTO);
    cr_assert_eq(mc_envelope_decrypt(&pt, key, ct.data, ct.len, "record:43", 9), MC_ERR_CRYPTO);
    cr_assert_eq(mc_envelope_decrypt(&pt, key, ct.data, ct.len, NULL, 0), MC_ERR_CRYPTO);
    /* Every bit of nonce, body and tag is authenticated. */
    for (size_t i = 0; i < ct.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            ct.data[i] ^= (uint8_t)(1u << bit);
            cr_assert_eq(mc_envelope_decrypt(&pt, key, ct.data, ct.len, ad, strlen(ad)),
                         MC_ERR_CRYPTO, "byte %zu bit %d", i, bit);
            ct.data[i] ^= (uint8_t)(1u << bit);
        }
    /* Truncated or extended ciphertexts. */
    for (size_t n = 0; n < ct.len; n++)
        cr_assert_eq(mc_envelope_decrypt(&pt, key, ct.data, n, ad, strlen(ad)), MC_ERR_CRYPTO);
    mc_enc_u8(&ct, 0);
    cr_assert_eq(mc_envelope_decrypt(&pt, key, ct.data, ct.len, ad, strlen(ad)), MC_ERR_CRYPTO);
    cr_assert_eq(pt.len, 0, "failed decryptions appended bytes");
    cr_assert_eq(pt.err, 0);
    mc_buf_deinit(&ct);
    mc_buf_deinit(&pt);
}

Test(envelope, seal_and_open_for_recipient) {
    struct mc_keypair alice, bob;
    mc_keypair_generate(&alice);
    mc_keypair_generate(&bob);
    uint8_t key[MC_DATAKEY_BYTES], sealed[MC_SEALED_KEY_BYTES], got[MC_DATAKEY_BYTES];
    struct mc_buf ct, pt;
    encrypt(&ct, key, msg, sizeof msg);
    cr_assert_eq(mc_envelope_seal_key(sealed, key, &alice.pk), 0);
    cr_assert_eq(mc_envelope_open_key(got, sealed, &alice), 0);
    cr_assert_eq(memcmp(got, key, sizeof key), 0);
    mc_buf_init(&pt, 0);
    cr_assert_eq(mc_envelope_decrypt(&pt, got, ct.data, ct.len, ad, strlen(ad)), 0);
    cr_assert_eq(memcmp(pt.data, msg, sizeof msg), 0);

    /* Bob cannot open Alice's key; a flipped bit anywhere fails too. */
    cr_assert_eq(mc_envelope_open_key(got, sealed, &bob), MC_ERR_CRYPTO);
    for (size_t i = 0; i < sizeof sealed; i++) {
        sealed[i] ^= 0x80;
        cr_assert_eq(mc_envelope_open_key(got, sealed, &alice), MC_ERR_CRYPTO, "byte %zu", i);
        sealed[i] ^= 0x80;
    }
    /* Sealing is randomised: two seals of one key differ. */
    uint8_t again[MC_SEALED_KEY_BYTES];
    cr_assert_eq(mc_envelope_seal_key(again, key, &alice.pk), 0);
    cr_assert_neq(memcmp(again, sealed, sizeof again), 0);
    mc_buf_deinit(&ct);
    mc_buf_deinit(&pt);
}

Test(envelope, seal_rejects_invalid_point) {
    /* y = 2 is not on the Ed25519 curve. */
    mc_pubkey bad = {{2}};
    uint8_t key[MC_DATAKEY_BYTES] = {0}, sealed[MC_SEALED_KEY_BYTES];
    cr_assert_eq(mc_envelope_seal_key(sealed, key, &bad), MC_ERR_CRYPTO);
}

/* The caller-keyed form writes the same layout: a key derived elsewhere
 * (a batch key's per-record key) opens it, any other key does not, and a
 * fresh nonce makes two encryptions under one key differ. */
Test(envelope, encrypt_with_a_given_key) {
    uint8_t key[MC_DATAKEY_BYTES], other[MC_DATAKEY_BYTES];
    mc_envelope_keygen(key);
    mc_envelope_keygen(other);
    struct mc_buf a, b, pt;
    mc_buf_init(&a, 0);
    mc_buf_init(&b, 0);
    mc_buf_init(&pt, 0);
    cr_assert_eq(mc_envelope_encrypt_with(&a, key, msg, sizeof msg, ad, strlen(ad)), 0);
    cr_assert_eq(mc_envelope_encrypt_with(&b, key, msg, sizeof msg, ad, strlen(ad)), 0);
    cr_assert_eq(a.len, sizeof msg + MC_ENVELOPE_OVERHEAD);
    cr_assert(memcmp(a.data, b.data, 24) != 0, "a fresh nonce each time");
    cr_assert_eq(mc_envelope_decrypt(&pt, key, a.data, a.len, ad, strlen(ad)), 0);
    cr_assert_eq(pt.len, sizeof msg);
    cr_assert(memcmp(pt.data, msg, sizeof msg) == 0);
    cr_assert_eq(mc_envelope_decrypt(&pt, other, a.data, a.len, ad, strlen(ad)), MC_ERR_CRYPTO);
    mc_buf_deinit(&a);
    mc_buf_deinit(&b);
    mc_buf_deinit(&pt);
}
