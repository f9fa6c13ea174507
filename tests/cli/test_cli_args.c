/* The CLI's pure helpers: option parsing (src/cli/args.c) and the payload
 * builders and transaction signing (src/cli/txbuild.c).
 *
 * The CLI's objects are linked only into build/medchain, not into
 * libmedchain.a, so this file compiles the two pure sources in directly.
 * Each builder's output is decoded back with the layout identity.c
 * documents, and each signature is checked with the chain's own verifier. */
#include <criterion/criterion.h>

#include <string.h>

#include "../../src/cli/args.c"
#include "../../src/cli/txbuild.c"

#include "app/txtypes.h"
#include "base/limits.h"

#define CHAIN "medchain-test"

static void setup(void) { mc_crypto_init(); }

TestSuite(cli_args, .init = setup);

static const struct mc_cli_opt spec[] = {
    {"key", true}, {"name", true}, {"no-wait", false}, {"nonce", true},
};
#define SPEC_COUNT (sizeof spec / sizeof spec[0])

static int parse(struct mc_cli_args *a, int positional_max, char *err, int argc, char **argv) {
    return mc_cli_args_parse(a, spec, SPEC_COUNT, positional_max, argc, argv, err, 256);
}

Test(cli_args, values_flags_and_positionals) {
    char *argv[] = {"--key", "k.json", "--name=Dr Who", "pos1", "--no-wait", "--", "--pos2"};
    struct mc_cli_args a;
    char err[256];
    cr_assert_eq(parse(&a, 2, err, 7, argv), MC_CLI_OK, "%s", err);
    cr_assert_str_eq(mc_cli_arg(&a, "key"), "k.json");
    cr_assert_str_eq(mc_cli_arg(&a, "name"), "Dr Who");
    cr_assert(mc_cli_flag(&a, "no-wait"));
    cr_assert_null(mc_cli_arg(&a, "nonce"));
    cr_assert(!mc_cli_flag(&a, "nonce"));
    cr_assert_eq(a.positional_count, 2);
    cr_assert_str_eq(a.positional[0], "pos1");
    cr_assert_str_eq(a.positional[1], "--pos2");
    cr_assert(!a.help);
}

Test(cli_args, help_is_always_accepted) {
    char *argv[] = {"--key", "x", "--help"};
    struct mc_cli_args a;
    char err[256];
    cr_assert_eq(parse(&a, 0, err, 3, argv), MC_CLI_OK);
    cr_assert(a.help);
}

Test(cli_args, refusals_name_the_problem) {
    struct {
        int argc;
        char *argv[3];
        const char *expect;
    } cases[] = {
        {1, {"--bogus"}, "unknown option '--bogus'"},
        {1, {"-x"}, "unknown option '-x'"},
        {1, {"--key"}, "needs a value"},
        {4, {"--key", "a", "--key"}, "given twice"},
        {1, {"--no-wait=1"}, "takes no value"},
        {1, {"stray"}, "unexpected argument 'stray'"},
        {1, {"--keys=a"}, "unknown option '--keys'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[4] = {cases[i].argv[0], cases[i].argv[1], cases[i].argv[2], "b"};
        struct mc_cli_args a;
        char err[256];
        cr_assert_eq(parse(&a, 0, err, cases[i].argc, argv), MC_CLI_USAGE, "case %zu", i);
        cr_assert(strstr(err, cases[i].expect), "case %zu: '%s' lacks '%s'", i, err,
                  cases[i].expect);
    }
}

Test(cli_args, strict_u64) {
    uint64_t v = 7;
    cr_assert(mc_cli_parse_u64("0", &v) && v == 0);
    cr_assert(mc_cli_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
    const char *bad[] = {"", "18446744073709551616", "-1", "+1", " 1", "1 ", "0x10", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!mc_cli_parse_u64(bad[i], &v), "'%s' accepted", bad[i]);
    cr_assert(!mc_cli_parse_u64(NULL, &v));
}

static void keypair(struct mc_keypair *kp, uint8_t seed_byte) {
    uint8_t seed[MC_SEED_BYTES];
    memset(seed, seed_byte, sizeof seed);
    mc_keypair_from_seed(kp, seed);
}

Test(cli_args, enroll_and_revoke_payloads_follow_identity_layout) {
    struct mc_keypair m;
    keypair(&m, 1);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_txbuild_enroll(&b, &m.pk, MC_ROLE_CLINICIAN, "Dr Who"), 0);
    struct mc_dec d;
    mc_dec_init(&d, b.data, b.len);
    mc_pubkey pk;
    mc_dec_fixed(&d, pk.b, 32);
    cr_assert_eq(mc_dec_u8(&d), MC_ROLE_CLINICIAN);
    char name[MC_NAME_MAX];
    mc_dec_str8(&d, name, sizeof name);
    cr_assert_eq(mc_dec_finish(&d), 0);
    cr_assert_arr_eq(pk.b, m.pk.b, 32);
    cr_assert_str_eq(name, "Dr Who");
    cr_assert_leq(b.len, mc_txtypes_payload_max(MC_TX_ENROLL_MEMBER));

    char long_name[MC_NAME_MAX + 1];
    memset(long_name, 'a', MC_NAME_MAX);
    long_name[MC_NAME_MAX] = 0;
    mc_buf_reset(&b);
    cr_assert_eq(mc_txbuild_enroll(&b, &m.pk, MC_ROLE_CLINICIAN, long_name), MC_ERR_TOO_LARGE);

    mc_buf_reset(&b);
    cr_assert_eq(mc_txbuild_revoke(&b, &m.pk, "left the hospital"), 0);
    mc_dec_init(&d, b.data, b.len);
    mc_dec_fixed(&d, pk.b, 32);
    char reason[256];
    mc_dec_str8(&d, reason, sizeof reason);
    cr_assert_eq(mc_dec_finish(&d), 0);
    cr_assert_str_eq(reason, "left the hospital");
    mc_buf_deinit(&b);
}

Test(cli_args, patient_and_rotation_signatures_verify) {
    struct mc_keypair member, patient, fresh;
    keypair(&member, 2);
    keypair(&patient, 3);
    keypair(&fresh, 4);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_txbuild_register_patient(&b, &patient, CHAIN, &member.pk), 0);
    cr_assert_eq(b.len, 32 + 64);
    cr_assert_arr_eq(b.data, patient.pk.b, 32);
    uint8_t msg[64];
    memcpy(msg, member.pk.b, 32);
    memcpy(msg + 32, patient.pk.b, 32);
    cr_assert_eq(mc_sign_verify(b.data + 32, &patient.pk, MC_SIGN_PATIENT, CHAIN, msg, 64), 0);
    cr_assert_neq(mc_sign_verify(b.data + 32, &patient.pk, MC_SIGN_PATIENT, "other", msg, 64), 0);

    mc_buf_reset(&b);
    cr_assert_eq(mc_txbuild_rotate_key(&b, &fresh, CHAIN, &member.pk), 0);
    cr_assert_arr_eq(b.data, fresh.pk.b, 32);
    memcpy(msg, member.pk.b, 32);
    memcpy(msg + 32, fresh.pk.b, 32);
    cr_assert_eq(mc_sign_verify(b.data + 32, &fresh.pk, MC_SIGN_ROTATE, CHAIN, msg, 64), 0);
    mc_buf_deinit(&b);
}

Test(cli_args, signed_transaction_decodes_and_verifies) {
    struct mc_keypair sender;
    keypair(&sender, 5);
    const uint8_t payload[] = {1, 2, 3};
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_hash id;
    cr_assert_eq(mc_txbuild_sign(&b, &id, CHAIN, MC_TX_ENROLL_MEMBER, &sender, 42, payload,
                                 sizeof payload), 0);
    struct mc_tx tx;
    cr_assert_eq(mc_tx_decode(&tx, b.data, b.len), 0);
    cr_assert_str_eq(tx.chain_id, CHAIN);
    cr_assert_eq(tx.type, MC_TX_ENROLL_MEMBER);
    cr_assert_eq(tx.nonce, 42);
    cr_assert_eq(tx.payload_len, sizeof payload);
    cr_assert_arr_eq(tx.sender.b, sender.pk.b, 32);
    cr_assert_eq(mc_tx_verify_signature(&tx, b.data, b.len), 0);
    mc_hash expect;
    mc_sha256(&expect, b.data, b.len);
    cr_assert_arr_eq(id.b, expect.b, 32);

    char long_chain[MC_CHAIN_ID_MAX + 2];
    memset(long_chain, 'c', sizeof long_chain - 1);
    long_chain[sizeof long_chain - 1] = 0;
    mc_buf_reset(&b);
    cr_assert_eq(mc_txbuild_sign(&b, &id, long_chain, 1, &sender, 1, payload, 3), MC_ERR_INVALID);
    mc_buf_deinit(&b);
}

/* An oversized payload is still signed correctly, so the node's refusal
 * names the size, not the signature. */
Test(cli_args, oversized_transaction_is_signed_like_any_other) {
    struct mc_keypair sender;
    keypair(&sender, 6);
    size_t n = MC_TX_PAYLOAD_MAX + 1;
    uint8_t *payload = calloc(1, n);
    cr_assert_not_null(payload);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_hash id;
    cr_assert_eq(mc_txbuild_sign(&b, &id, CHAIN, MC_TX_ENROLL_MEMBER, &sender, 1, payload, n), 0);
    struct mc_tx tx;
    cr_assert_eq(mc_tx_decode(&tx, b.data, b.len), MC_ERR_TOO_LARGE);
    /* Check the signature by hand: everything before the last 64 bytes. */
    cr_assert_eq(mc_sign_verify(b.data + b.len - MC_SIG_BYTES, &sender.pk, MC_SIGN_TX, CHAIN, b.data,
                           b.len - MC_SIG_BYTES), 0);
    mc_buf_deinit(&b);
    free(payload);
}
