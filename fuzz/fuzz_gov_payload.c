/* libFuzzer target for the governance payload codec (governance_payload.h:
 * gov_propose, gov_vote, node_rotate).
 *
 * The first byte picks the type. Properties: nothing crashes; a payload
 * that decodes re-encodes to exactly the input bytes (one canonical form);
 * decoding that encoding gives the same structure again; and every decoded
 * payload fits its type's maximum size. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/governance_payload.h"
#include "app/txtypes.h"

static void check(int ok, const char *what, uint16_t type) {
    if (!ok) {
        fprintf(stderr, "fuzz_gov_payload: property broken for type %u: %s\n", type, what);
        abort();
    }
}

static const uint16_t types[] = {MC_TX_GOV_PROPOSE, MC_TX_GOV_VOTE, MC_TX_NODE_ROTATE};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint16_t type = types[data[0] % (sizeof types / sizeof types[0])];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct mc_gov_payload *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    if (!a || !b) abort();
    if (mc_gov_payload_decode(a, type, p, n) == 0) {
        check(n <= mc_txtypes_payload_max(type), "a decoded payload exceeds the type's maximum", type);
        struct mc_buf e;
        mc_buf_init(&e, 0);
        check(mc_gov_payload_encode(&e, a) == 0, "a decoded payload does not encode", type);
        check(e.len == n && memcmp(e.data, p, n) == 0, "re-encoding differs from the input", type);
        check(mc_gov_payload_decode(b, type, e.data, e.len) == 0, "the encoding does not decode", type);
        struct mc_buf e2;
        mc_buf_init(&e2, 0);
        check(mc_gov_payload_encode(&e2, b) == 0, "second encoding fails", type);
        check(e2.len == e.len && memcmp(e2.data, e.data, e.len) == 0, "decode(encode(x)) != x", type);
        mc_buf_deinit(&e);
        mc_buf_deinit(&e2);
    }
    free(a);
    free(b);
    return 0;
}
