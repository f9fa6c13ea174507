/* libFuzzer target: the bytes a peer sends before it is authenticated
 * (net/handshake.h, net/frame.h), read exactly as the transport reads them:
 * a 70-byte HELLO, then sealed frames through a frame reader limited to
 * one AUTH message (MC_HS_AUTH_BYTES) and MC_NET_PREAUTH_BYTES buffered,
 * the first opened frame going to mc_hs_on_auth. We are the responder with
 * fixed keys, so a run is deterministic.
 *
 * Input: | u8 mode | u8 chunk | rest |. The stream is fed to the reader in
 * pieces of 1 + chunk % 64 bytes (TCP delivers arbitrary splits).
 *   mode even: rest is the raw stream from an unknown peer (HELLO, frames).
 *   mode odd:  a genuine initiator (fixed key) completes the HELLO
 *              exchange, and rest is a list of | u16 len | plaintext |
 *              messages it seals with the real key, so the fuzzer reaches
 *              mc_hs_on_auth with arbitrary plaintext; mode & 2 flips one
 *              byte of the sealed stream (at chunk * 7 mod its length).
 *
 * Checks (abort on violation): an honest HELLO pair always derives keys;
 * AUTH succeeds only for the genuine peer's key and always for its genuine
 * AUTH; the reader never buffers more than the pre-auth limit; a corrupted
 * frame never opens.
 *
 * MEDCHAIN_FUZZ_SEEDS=DIR writes the seed corpus (fuzz/corpus/fuzz_handshake)
 * to DIR at start-up. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "net/frame.h"
#include "net/handshake.h"
#include "net/transport.h"

#define CHAIN "fuzz-chain"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct mc_keypair our_key, peer_key;
static uint8_t our_eph[32], peer_eph[32];

static void setup(void) {
    static int done;
    if (done) return;
    done = 1;
    mc_crypto_init();
    uint8_t seed[MC_SEED_BYTES];
    memset(seed, 0x11, sizeof seed);
    mc_keypair_from_seed(&our_key, seed);
    memset(seed, 0x33, sizeof seed);
    mc_keypair_from_seed(&peer_key, seed);
    memset(our_eph, 0x22, sizeof our_eph);
    memset(peer_eph, 0x44, sizeof peer_eph);
}

/* The genuine initiator, its HELLO answered by ours. */
static void genuine_peer(struct mc_handshake *peer, const struct mc_handshake *us) {
    mc_hs_init(peer, MC_HS_INITIATOR, CHAIN, &peer_key, peer_eph);
    if (mc_hs_on_hello(peer, us->hello, MC_HS_HELLO_BYTES) != 0) abort();
}

/* Feeds the stream after the HELLO to our side; returns when the
 * connection would be closed, authenticated, or the bytes run out. */
static void read_frames(struct mc_handshake *us, const uint8_t *p, size_t len, size_t chunk,
                        const uint8_t *genuine_auth, bool first_corrupted) {
    struct mc_frame_reader r;
    mc_frame_reader_init(&r, MC_HS_AUTH_BYTES);
    r.in.max = MC_NET_PREAUTH_BYTES;
    struct mc_frame_key k;
    memcpy(k.key, us->recv_key, 32);
    k.counter = 0;
    struct mc_buf msg;
    mc_buf_init(&msg, 0);
    size_t off = 0;
    bool done = false;
    while (off < len && !done) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (mc_frame_reader_feed(&r, p + off, n) != 0) break; /* "more than allowed" */
        off += n;
        if (r.in.len > MC_NET_PREAUTH_BYTES) abort();
        int rc = mc_frame_reader_next(&r, &k, &msg);
        if (rc < 0) break;
        if (rc == 0) continue;
        if (first_corrupted) abort(); /* a frame with a flipped byte must not open */
        if (msg.len > MC_HS_AUTH_BYTES) abort();
        int arc = mc_hs_on_auth(us, msg.data, msg.len);
        if (arc == 0 && memcmp(us->peer_key.b, peer_key.pk.b, 32) != 0)
            abort(); /* authenticated someone who is not the holder of the transcript key */
        if (genuine_auth && msg.len == MC_HS_AUTH_BYTES &&
            memcmp(msg.data, genuine_auth, MC_HS_AUTH_BYTES) == 0 && arc != 0)
            abort(); /* the genuine AUTH must be accepted */
        done = true; /* authenticated or closed: pre-auth reading ends */
    }
    mc_buf_deinit(&msg);
    mc_frame_reader_deinit(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    if (size < 2) return 0;
    uint8_t mode = data[0];
    size_t chunk = 1 + data[1] % 64;
    const uint8_t *p = data + 2;
    size_t len = size - 2;
    struct mc_handshake us;
    mc_hs_init(&us, MC_HS_RESPONDER, CHAIN, &our_key, our_eph);
    if (!(mode & 1)) {
        if (len < MC_HS_HELLO_BYTES) return 0;
        if (mc_hs_on_hello(&us, p, MC_HS_HELLO_BYTES) == 0)
            read_frames(&us, p + MC_HS_HELLO_BYTES, len - MC_HS_HELLO_BYTES, chunk, NULL, false);
        mc_hs_wipe(&us);
        return 0;
    }
    struct mc_handshake peer;
    genuine_peer(&peer, &us);
    if (mc_hs_on_hello(&us, peer.hello, MC_HS_HELLO_BYTES) != 0) abort();
    if (memcmp(us.recv_key, peer.send_key, 32) != 0) abort(); /* both derive the same keys */
    uint8_t auth[MC_HS_AUTH_BYTES];
    mc_hs_auth(&peer, auth);
    struct mc_frame_key send;
    memcpy(send.key, peer.send_key, 32);
    send.counter = 0;
    struct mc_buf stream;
    mc_buf_init(&stream, 0);
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    size_t first_len = 0;
    for (int i = 0; i < 8 && d.pos < d.len; i++) {
        uint16_t n = mc_dec_u16(&d);
        if (d.err || n > d.len - d.pos) break;
        if (mc_frame_seal(&send, &stream, d.p + d.pos, n) != 0) abort();
        if (i == 0) first_len = stream.len;
        d.pos += n;
    }
    bool first_corrupted = false;
    if ((mode & 2) && stream.len > 0) {
        size_t at = (chunk * 7) % stream.len;
        stream.data[at] ^= 0x01;
        first_corrupted = at < first_len;
    }
    read_frames(&us, stream.data, stream.len, chunk, auth, first_corrupted);
    mc_buf_deinit(&stream);
    mc_hs_wipe(&us);
    mc_hs_wipe(&peer);
    return 0;
}

/* ---- seed corpus ---------------------------------------------------------- */

static void write_seed(const char *dir, const char *name, const uint8_t *p, size_t len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, len, f) != len) abort();
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *dir = getenv("MEDCHAIN_FUZZ_SEEDS");
    if (!dir) return 0;
    setup();
    struct mc_handshake us, peer;
    mc_hs_init(&us, MC_HS_RESPONDER, CHAIN, &our_key, our_eph);
    genuine_peer(&peer, &us);
    uint8_t auth[MC_HS_AUTH_BYTES];
    mc_hs_auth(&peer, auth);
    uint8_t b[2 + 2 * (2 + 200)];
    /* the genuine AUTH, in one message */
    b[0] = 1, b[1] = 0x10, b[2] = 0, b[3] = MC_HS_AUTH_BYTES;
    memcpy(b + 4, auth, sizeof auth);
    write_seed(dir, "genuine-auth", b, 4 + sizeof auth);
    /* the genuine AUTH with a byte of its frame flipped */
    b[0] = 3;
    write_seed(dir, "flipped-auth", b, 4 + sizeof auth);
    /* AUTH followed by an application frame */
    b[0] = 1, b[1] = 5;
    b[4 + sizeof auth] = 0, b[5 + sizeof auth] = 3;
    memcpy(b + 6 + sizeof auth, "\x01hi", 3);
    write_seed(dir, "auth-then-message", b, 9 + sizeof auth);
    /* an over-long first message (200 > MC_HS_AUTH_BYTES) */
    b[0] = 1, b[1] = 63, b[2] = 0, b[3] = 200;
    memset(b + 4, 0xAB, 200);
    write_seed(dir, "long-auth", b, 204);
    /* an unknown peer: the genuine HELLO, then a frame header and junk */
    uint8_t raw[2 + MC_HS_HELLO_BYTES + 4 + 40];
    raw[0] = 0, raw[1] = 0;
    memcpy(raw + 2, peer.hello, MC_HS_HELLO_BYTES);
    uint8_t *q = raw + 2 + MC_HS_HELLO_BYTES;
    q[0] = 0, q[1] = 0, q[2] = 0, q[3] = 36;
    memset(q + 4, 0x5A, 40);
    write_seed(dir, "raw-hello-junk", raw, sizeof raw);
    /* a HELLO for another chain (refused) */
    struct mc_handshake other;
    mc_hs_init(&other, MC_HS_INITIATOR, "other-chain", &peer_key, peer_eph);
    memcpy(raw + 2, other.hello, MC_HS_HELLO_BYTES);
    write_seed(dir, "raw-wrong-chain", raw, 2 + MC_HS_HELLO_BYTES);
    /* a frame declaring a huge length right after the HELLO */
    memcpy(raw + 2, peer.hello, MC_HS_HELLO_BYTES);
    q[0] = 0x7F, q[1] = 0xFF, q[2] = 0xFF, q[3] = 0xFF;
    write_seed(dir, "raw-huge-frame", raw, 2 + MC_HS_HELLO_BYTES + 4);
    mc_hs_wipe(&us);
    mc_hs_wipe(&peer);
    mc_hs_wipe(&other);
    exit(0);
}
