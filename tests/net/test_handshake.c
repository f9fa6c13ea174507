/* The peer transport's handshake and sealed frames: a fixed test vector,
 * and every way the exchange must refuse (another chain, wrong role,
 * reflected or forged authentication, altered, replayed, reordered or
 * oversized frames). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "vector.h"
#include "net/frame.h"
#include "net/handshake.h"

static void seeded(struct mc_keypair *kp, uint8_t b) {
    uint8_t seed[32];
    memset(seed, b, sizeof seed);
    mc_keypair_from_seed(kp, seed);
}

struct pair {
    struct mc_keypair ka, kb;
    struct mc_handshake a, b;
};

static void run_hellos(struct pair *p, const char *chain_a, const char *chain_b) {
    mc_crypto_init();
    seeded(&p->ka, 0x01);
    seeded(&p->kb, 0x02);
    uint8_t ea[32], eb[32];
    memset(ea, 0x11, 32);
    memset(eb, 0x22, 32);
    mc_hs_init(&p->a, MC_HS_INITIATOR, chain_a, &p->ka, ea);
    mc_hs_init(&p->b, MC_HS_RESPONDER, chain_b, &p->kb, eb);
}

static void hexeq(const uint8_t *p, size_t n, const char *want, const char *what) {
    char got[2 * 128 + 1];
    mc_hex_encode(got, p, n);
    cr_assert_str_eq(got, want, "%s", what);
}

/* The vector documented in docs/NET.md: node keys from seeds 01..01 and
 * 02..02, ephemeral secrets 11..11 and 22..22, chain "medchain-vector". */
Test(handshake, test_vector) {
    struct pair p;
    run_hellos(&p, "medchain-vector", "medchain-vector");
    cr_assert_eq(mc_hs_on_hello(&p.a, p.b.hello, MC_HS_HELLO_BYTES), 0);
    cr_assert_eq(mc_hs_on_hello(&p.b, p.a.hello, MC_HS_HELLO_BYTES), 0);
    cr_assert_eq(memcmp(p.a.transcript.b, p.b.transcript.b, 32), 0);
    cr_assert_eq(memcmp(p.a.send_key, p.b.recv_key, 32), 0);
    cr_assert_eq(memcmp(p.a.recv_key, p.b.send_key, 32), 0);
    cr_assert_neq(memcmp(p.a.send_key, p.a.recv_key, 32), 0, "one key per direction");
    uint8_t auth_a[MC_HS_AUTH_BYTES], auth_b[MC_HS_AUTH_BYTES];
    mc_hs_auth(&p.a, auth_a);
    mc_hs_auth(&p.b, auth_b);
    cr_assert_eq(mc_hs_on_auth(&p.b, auth_a, sizeof auth_a), 0);
    cr_assert_eq(mc_hs_on_auth(&p.a, auth_b, sizeof auth_b), 0);
    cr_assert_eq(memcmp(p.b.peer_key.b, p.ka.pk.b, 32), 0);
    cr_assert_eq(memcmp(p.a.peer_key.b, p.kb.pk.b, 32), 0);
    hexeq(p.a.hello, MC_HS_HELLO_BYTES, MC_TEST_HELLO_I, "initiator hello");
    hexeq(p.b.hello, MC_HS_HELLO_BYTES, MC_TEST_HELLO_R, "responder hello");
    hexeq(p.a.transcript.b, 32, MC_TEST_TRANSCRIPT, "transcript");
    hexeq(p.a.send_key, 32, MC_TEST_K_I2R, "initiator-to-responder key");
    hexeq(p.a.recv_key, 32, MC_TEST_K_R2I, "responder-to-initiator key");
    hexeq(auth_a, MC_HS_AUTH_BYTES, MC_TEST_AUTH_I, "initiator auth");
    /* First sealed frame of the initiator: its AUTH. */
    struct mc_frame_key k = {.counter = 0};
    memcpy(k.key, p.a.send_key, 32);
    struct mc_buf f;
    mc_buf_init(&f, 0);
    cr_assert_eq(mc_frame_seal(&k, &f, auth_a, sizeof auth_a), 0);
    hexeq(f.data, f.len, MC_TEST_FRAME0, "first frame");
    mc_buf_deinit(&f);
}

Test(handshake, refuses_another_chain) {
    struct pair p;
    run_hellos(&p, "medchain-a", "medchain-b");
    cr_assert_eq(mc_hs_on_hello(&p.a, p.b.hello, MC_HS_HELLO_BYTES), MC_ERR_WRONG_CHAIN);
}

Test(handshake, refuses_wrong_role_and_garbage) {
    struct pair p;
    run_hellos(&p, "c", "c");
    cr_assert_eq(mc_hs_on_hello(&p.a, p.a.hello, MC_HS_HELLO_BYTES), MC_ERR_MALFORMED, "own hello reflected");
    uint8_t bad[MC_HS_HELLO_BYTES];
    memcpy(bad, p.b.hello, sizeof bad);
    bad[0] = 'X';
    cr_assert_eq(mc_hs_on_hello(&p.a, bad, sizeof bad), MC_ERR_MALFORMED);
    cr_assert_eq(mc_hs_on_hello(&p.a, p.b.hello, MC_HS_HELLO_BYTES - 1), MC_ERR_MALFORMED);
}

Test(handshake, refuses_reflected_and_forged_auth) {
    struct pair p;
    run_hellos(&p, "c", "c");
    cr_assert_eq(mc_hs_on_hello(&p.a, p.b.hello, MC_HS_HELLO_BYTES), 0);
    cr_assert_eq(mc_hs_on_hello(&p.b, p.a.hello, MC_HS_HELLO_BYTES), 0);
    uint8_t auth_a[MC_HS_AUTH_BYTES];
    mc_hs_auth(&p.a, auth_a);
    /* Reflection: A's own authentication sent back to A. */
    cr_assert_eq(mc_hs_on_auth(&p.a, auth_a, sizeof auth_a), MC_ERR_BAD_SIGNATURE);
    /* A third party claims A's key but cannot sign: flip one signature bit. */
    auth_a[40] ^= 1;
    cr_assert_eq(mc_hs_on_auth(&p.b, auth_a, sizeof auth_a), MC_ERR_BAD_SIGNATURE);
    /* An authentication from another session (other transcript) fails. */
    struct pair q;
    run_hellos(&q, "c", "c");
    uint8_t e[32];
    memset(e, 0x33, 32);
    mc_hs_init(&q.b, MC_HS_RESPONDER, "c", &q.kb, e);
    cr_assert_eq(mc_hs_on_hello(&q.a, q.b.hello, MC_HS_HELLO_BYTES), 0);
    uint8_t other[MC_HS_AUTH_BYTES];
    mc_hs_auth(&q.a, other);
    cr_assert_eq(mc_hs_on_auth(&p.b, other, sizeof other), MC_ERR_BAD_SIGNATURE);
}

static void keys(struct mc_frame_key *s, struct mc_frame_key *r) {
    memset(s, 0, sizeof *s);
    memset(s->key, 7, 32);
    *r = *s;
}

Test(frame, round_trip_in_pieces) {
    mc_crypto_init();
    struct mc_frame_key s, r;
    keys(&s, &r);
    struct mc_buf wire, msg;
    mc_buf_init(&wire, 0);
    mc_buf_init(&msg, 0);
    const char *texts[] = {"", "vote", "a longer block part with some bytes in it"};
    for (int i = 0; i < 3; i++) cr_assert_eq(mc_frame_seal(&s, &wire, texts[i], strlen(texts[i])), 0);
    struct mc_frame_reader rd;
    mc_frame_reader_init(&rd, 1024);
    int got = 0;
    for (size_t i = 0; i < wire.len; i++) { /* one byte at a time */
        cr_assert_eq(mc_frame_reader_feed(&rd, wire.data + i, 1), 0);
        int rc;
        while ((rc = mc_frame_reader_next(&rd, &r, &msg)) == 1) {
            cr_assert_eq(msg.len, strlen(texts[got]));
            cr_assert_eq(memcmp(msg.data, texts[got], msg.len), 0);
            mc_buf_reset(&msg);
            got++;
        }
        cr_assert_eq(rc, 0);
    }
    cr_assert_eq(got, 3);
    mc_frame_reader_deinit(&rd);
    mc_buf_deinit(&wire);
    mc_buf_deinit(&msg);
}

static int open_one(struct mc_buf *wire, struct mc_frame_key *r, size_t max) {
    struct mc_frame_reader rd;
    mc_frame_reader_init(&rd, max);
    struct mc_buf msg;
    mc_buf_init(&msg, 0);
    int rc = mc_frame_reader_feed(&rd, wire->data, wire->len);
    if (!rc) rc = mc_frame_reader_next(&rd, r, &msg);
    mc_frame_reader_deinit(&rd);
    mc_buf_deinit(&msg);
    return rc;
}

Test(frame, refuses_altered_replayed_reordered_oversized) {
    mc_crypto_init();
    struct mc_frame_key s, r;
    keys(&s, &r);
    struct mc_buf f0, f1;
    mc_buf_init(&f0, 0);
    mc_buf_init(&f1, 0);
    cr_assert_eq(mc_frame_seal(&s, &f0, "first", 5), 0);
    cr_assert_eq(mc_frame_seal(&s, &f1, "second", 6), 0);
    struct mc_frame_key rr = r;
    cr_assert_eq(open_one(&f1, &rr, 1024), MC_ERR_CRYPTO, "reordered: frame 1 with counter 0");
    rr = r;
    cr_assert_eq(open_one(&f0, &rr, 1024), 1);
    cr_assert_eq(open_one(&f0, &rr, 1024), MC_ERR_CRYPTO, "replayed frame 0 at counter 1");
    for (size_t i = 0; i < f0.len; i++) {
        f0.data[i] ^= 0x20;
        rr = r;
        int rc = open_one(&f0, &rr, 1024);
        cr_assert(rc == MC_ERR_CRYPTO || rc == MC_ERR_TOO_LARGE || rc == 0,
                  "flip at %zu: %d", i, rc);
        cr_assert_neq(rc, 1, "altered byte %zu accepted", i);
        f0.data[i] ^= 0x20;
    }
    rr = r;
    cr_assert_eq(open_one(&f1, &rr, 3), MC_ERR_TOO_LARGE, "declared length above the limit");
    mc_buf_deinit(&f0);
    mc_buf_deinit(&f1);
}

/* The vector's hellos, transcript and keys agree with a second
 * implementation written from the RFCs in Python (tests/net/xcheck_vector.py). */
Test(handshake, vector_matches_independent_implementation) {
    const char *root = getenv("MEDCHAIN_ROOT");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "python3 %s/tests/net/xcheck_vector.py", root ? root : ".");
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[512];
    int matched = 0;
    struct { const char *name, *want; } rows[] = {
        {"hello_i", MC_TEST_HELLO_I}, {"hello_r", MC_TEST_HELLO_R},
        {"transcript", MC_TEST_TRANSCRIPT}, {"k_i2r", MC_TEST_K_I2R}, {"k_r2i", MC_TEST_K_R2I}};
    while (fgets(line, sizeof line, p)) {
        char name[32], hex[300];
        if (sscanf(line, "%31s %299s", name, hex) != 2) continue;
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            if (strcmp(name, rows[i].name) == 0) {
                cr_assert_str_eq(hex, rows[i].want, "%s", name);
                matched++;
            }
    }
    cr_assert_eq(pclose(p), 0, "python3 cross-check ran");
    cr_assert_eq(matched, 5);
}
