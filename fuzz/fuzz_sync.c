/* libFuzzer target: block-sync responses, handled as the node's driver
 * handles the answer to GET_BLOCK (src/node/driver_sync.c, mc_driver__on_block): the wire
 * message decoded (node/wire.h), its block turned into a candidate, its
 * certificate decoded, and the block committed (node/blockexec.h) on top of
 * a fresh chain (an in-memory store with a fixed 4-validator genesis).
 *
 * Input: | u8 mode | wire message |.
 *   mode even: the message as a peer sent it (its own certificate). Without
 *              the validators' keys only a genuine certificate gets past
 *              mc_commit_verify, so the seeds hold genuine block-1 answers.
 *   mode odd:  the block of a BLOCK message with a certificate the fixed
 *              validators sign for its hash, as a Byzantine proposer's block
 *              reaches validation: this reaches the structure checks and
 *              execution. mc_blockexec_validate and mc_blockexec_commit must then
 *              agree (one accepts exactly what the other commits).
 *
 * Checks (abort on violation): a refused block leaves the chain head, the
 * application height and its state hash as they were (never half-applied);
 * a committed block has a certificate that verifies for its hash and moves
 * the head to height 1 (the chain is then rebuilt for the next input).
 *
 * MEDCHAIN_FUZZ_SEEDS=DIR writes the seed corpus (fuzz/corpus/fuzz_sync) to
 * DIR at start-up. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/genesis.h"
#include "base/codec.h"
#include "base/hex.h"
#include "chain/commit.h"
#include "chain/store.h"
#include "node/blockexec.h"
#include "node/wire.h"

#define CHAIN "fuzz-sync"
#define VALIDATORS 4
#define GENESIS_TIME_MS UINT64_C(1764201600000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct mc_keypair admin, val[VALIDATORS];
static struct mc_genesis genesis;
static struct mc_store *store;
static struct mc_app *app;
static struct mc_chain_head head;

static void chain_open(void) {
    if (mc_store_open(&store, ":memory:", false) != 0) abort();
    if (mc_blockexec_app_open(&app, store, &genesis) != 0) abort();
    if (mc_blockexec_head_load(&head, store, &genesis) != 0) abort();
}

static void chain_close(void) {
    mc_app_close(app);
    mc_store_close(store);
    app = NULL;
    store = NULL;
}

static void setup(void) {
    static int done;
    if (done) return;
    done = 1;
    mc_crypto_init();
    uint8_t seed[MC_SEED_BYTES];
    memset(seed, 0xA0, sizeof seed);
    mc_keypair_from_seed(&admin, seed);
    char hex[65], json[4096];
    mc_hex_encode(hex, admin.pk.b, 32);
    int n = snprintf(json, sizeof json,
                     "{\"chain_id\": \"%s\", \"genesis_time_ms\": %llu, \"organisations\": "
                     "[{\"id\": 1, \"name\": \"St Mary's Hospital\", \"kind\": \"hospital\", "
                     "\"gln\": \"5412345000013\", \"admin_key\": \"%s\"}], \"validators\": [",
                     CHAIN, (unsigned long long)GENESIS_TIME_MS, hex);
    for (int i = 0; i < VALIDATORS; i++) {
        memset(seed, 0xB0 + i, sizeof seed);
        mc_keypair_from_seed(&val[i], seed);
        mc_hex_encode(hex, val[i].pk.b, 32);
        n += snprintf(json + n, sizeof json - (size_t)n,
                      "%s{\"name\": \"node%d\", \"org\": 1, \"node_key\": \"%s\", \"power\": 10}",
                      i ? ", " : "", i, hex);
    }
    n += snprintf(json + n, sizeof json - (size_t)n, "]}");
    if (mc_genesis_parse(&genesis, json, (size_t)n) != 0) abort();
    chain_open();
}

/* A certificate for (height, hash) from the first `signers` validators. */
static void certify(struct mc_commit *cm, uint64_t height, const mc_hash *hash, int signers) {
    mc_commit_init(cm, height, 0, hash);
    for (int i = 0; i < signers; i++) {
        struct mc_vote v;
        memset(&v, 0, sizeof v);
        v.type = MC_VOTE_PRECOMMIT;
        v.height = height;
        v.has_block = true;
        v.block_hash = *hash;
        v.validator = (uint16_t)mc_valset_find(&genesis.valset, &val[i].pk);
        mc_vote_sign(&v, &val[i], CHAIN);
        if (mc_commit_add(cm, &v) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    if (size < 1) return 0;
    bool resign = data[0] & 1;
    struct mc_wire_msg m;
    if (mc_wire_decode(&m, data + 1, size - 1) != 0) return 0; /* the peer is dropped */
    if (m.type != MC_WIRE_BLOCK || m.height != head.height + 1) return 0; /* ignored */
    struct mc_candidate c;
    if (mc_blockexec_candidate_from_bytes(&c, m.block.header, m.block.header_len, m.block.body,
                                m.block.body_len) != 0)
        return 0;
    struct mc_commit cert;
    int valid = 0;
    if (resign) {
        certify(&cert, m.height, &c.hash, 3);
        valid = mc_blockexec_validate(app, &genesis, &head, &c, 0, NULL, NULL);
    } else if (mc_commit_decode(&cert, m.bytes, m.len) != 0) {
        mc_blockexec_candidate_deinit(&c);
        return 0;
    }
    struct mc_chain_head before = head;
    mc_hash state_before;
    mc_app_state_hash(app, &state_before);
    int rc = mc_blockexec_commit(store, app, &genesis, &head, &c, &cert, NULL, NULL);
    if (rc == MC_ERR_DB || rc == MC_ERR_IO) abort(); /* an in-memory store does not fail */
    if (rc) {
        mc_hash state_after;
        mc_app_state_hash(app, &state_after);
        if (head.height != before.height || memcmp(head.hash.b, before.hash.b, 32) != 0 ||
            head.time_ms != before.time_ms || mc_app_height(app) != before.height ||
            memcmp(state_before.b, state_after.b, 32) != 0)
            abort(); /* a refused block changed something */
        if (resign && valid == 0) abort(); /* validation accepted what commit refuses */
    } else {
        if (resign && valid != 0) abort(); /* commit accepted what validation refuses */
        if (head.height != before.height + 1 || mc_app_height(app) != head.height ||
            memcmp(head.hash.b, c.hash.b, 32) != 0 ||
            mc_commit_verify(&cert, &genesis.valset, CHAIN, head.height, &c.hash) != 0)
            abort();
        chain_close(); /* every input starts from the same empty chain */
        chain_open();
    }
    mc_blockexec_candidate_deinit(&c);
    return 0;
}

/* ---- seed corpus ---------------------------------------------------------- */

static void write_seed(const char *dir, const char *name, uint8_t mode, const struct mc_buf *w) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputc(mode, f) == EOF || fwrite(w->data, 1, w->len, f) != w->len) abort();
    fclose(f);
}

/* The BLOCK answer for block 1 with a certificate of `signers` validators. */
static void block_answer(struct mc_buf *w, const struct mc_candidate *c, uint64_t height,
                         int signers) {
    struct mc_commit cm;
    certify(&cm, c->header.height, &c->hash, signers);
    struct mc_buf cb;
    mc_buf_init(&cb, 0);
    mc_commit_encode(&cb, &cm);
    struct mc_wire_block blk = {c->header_bytes.data, c->header_bytes.len, c->body_bytes.data,
                                c->body_bytes.len};
    mc_buf_reset(w);
    mc_wire_encode_block(w, height, &blk, cb.data, cb.len);
    mc_buf_deinit(&cb);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *dir = getenv("MEDCHAIN_FUZZ_SEEDS");
    if (!dir) return 0;
    setup();
    struct mc_candidate c;
    if (mc_blockexec_build(app, &genesis, &head, &val[0].pk, GENESIS_TIME_MS + 1000, NULL, 0, NULL,
                       NULL, &c) != 0)
        abort();
    struct mc_buf w;
    mc_buf_init(&w, 0);
    block_answer(&w, &c, 1, 3);
    write_seed(dir, "block1-certified", 0, &w);
    write_seed(dir, "block1-resigned", 1, &w);
    block_answer(&w, &c, 1, 2);
    write_seed(dir, "block1-two-signatures", 0, &w);
    block_answer(&w, &c, 1, 4);
    write_seed(dir, "block1-all-signatures", 0, &w);
    mc_buf_reset(&w);
    mc_wire_encode_no_block(&w, 1);
    write_seed(dir, "no-block", 0, &w);
    mc_blockexec_candidate_deinit(&c);
    /* a block with the wrong previous hash, certified anyway */
    struct mc_chain_head wrong = head;
    memset(wrong.hash.b, 0x77, 32);
    if (mc_blockexec_build(app, &genesis, &wrong, &val[1].pk, GENESIS_TIME_MS + 2000, NULL, 0, NULL,
                       NULL, &c) != 0)
        abort();
    block_answer(&w, &c, 1, 3);
    write_seed(dir, "block1-wrong-prev", 0, &w);
    write_seed(dir, "block1-wrong-prev-resigned", 1, &w);
    mc_blockexec_candidate_deinit(&c);
    mc_buf_deinit(&w);
    exit(0);
}
