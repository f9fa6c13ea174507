/* libFuzzer target: the decoders of chain objects that arrive from clients,
 * peers and the disk: transactions, block headers, block bodies, genesis
 * JSON and identity payload execution.
 *
 * Input: | u8 selector | bytes |. Canonical objects must re-encode to the
 * exact input bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/genesis.h"
#include "base/codec.h"
#include "chain/block.h"
#include "chain/tx.h"
#include "crypto/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect_same(struct mc_buf *b, const uint8_t *p, size_t len) {
    if (b->err || b->len != len || (len && memcmp(b->data, p, len) != 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static int inited;
    if (!inited) {
        mc_crypto_init();
        inited = 1;
    }
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    switch (data[0] % 4) {
    case 0: {
        struct mc_tx tx;
        if (mc_tx_decode(&tx, p, len) == 0) {
            mc_tx_encode(&b, &tx);
            expect_same(&b, p, len);
            if (mc_tx_verify_signature(&tx, p, len) == 0) {
                /* a random input with a valid signature would be a finding */
                abort();
            }
        }
        break;
    }
    case 1: {
        struct mc_header h;
        if (mc_header_decode(&h, p, len) == 0) {
            mc_header_encode(&b, &h);
            expect_same(&b, p, len);
        }
        break;
    }
    case 2: {
        struct mc_block_body body;
        if (mc_block_body_decode(&body, p, len) == 0) {
            mc_block_body_encode(&b, body.txs, body.count,
                                 body.has_last_commit ? &body.last_commit : NULL);
            expect_same(&b, p, len);
            mc_hash root;
            mc_block_tx_root(&root, body.txs, body.count);
            mc_block_body_deinit(&body);
        }
        break;
    }
    case 3: {
        static struct mc_genesis g;
        if (mc_genesis_parse(&g, (const char *)p, len) == 0) {
            char *json = mc_genesis_to_json(&g);
            static struct mc_genesis g2;
            if (!json || mc_genesis_parse(&g2, json, strlen(json)) != 0) abort();
            mc_hash h1, h2;
            mc_genesis_hash(&g, &h1);
            mc_genesis_hash(&g2, &h2);
            if (memcmp(h1.b, h2.b, 32) != 0) abort();
            free(json);
        }
        break;
    }
    }
    mc_buf_deinit(&b);
    return 0;
}
