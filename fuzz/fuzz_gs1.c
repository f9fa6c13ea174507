/* libFuzzer target for the GS1 parsers (src/app/gs1.c).
 *
 * Every input goes to both parsers; neither may crash. Whatever parses must
 * survive a round trip: the canonical Digital Link and the raw element
 * string of the result parse again to an equal identifier, and the
 * Digital Link written from that is byte-identical (a fixed point). A
 * broken property aborts, which libFuzzer reports as a crash.
 *
 * The first byte also picks the reference year (1990..2109), so the
 * two-digit-year rule is exercised across century boundaries. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/gs1.h"

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_gs1: property broken: %s\n", what);
        abort();
    }
}

static void round_trip(const struct mc_gs1_id *id, unsigned ref) {
    char dl[MC_GS1_DIGITAL_LINK_MAX], dl2[MC_GS1_DIGITAL_LINK_MAX];
    char es[MC_GS1_ELEMENT_STRING_MAX];
    struct mc_gs1_id back;
    struct mc_gs1_error err;

    check(mc_gs1_encode_digital_link(dl, sizeof dl, NULL, id, "https://id.example") == 0,
          "encode Digital Link of a parsed id");
    check(mc_gs1_parse_digital_link(&back, &err, dl, strlen(dl), ref) == 0,
          "re-parse canonical Digital Link");
    check(mc_gs1_id_equal(id, &back), "Digital Link round trip changes the id");
    check(memcmp(id, &back, sizeof back) == 0, "Digital Link round trip changes the bytes");
    check(mc_gs1_encode_digital_link(dl2, sizeof dl2, NULL, &back, "https://id.example") == 0,
          "encode again");
    check(strcmp(dl, dl2) == 0, "canonical Digital Link is not a fixed point");

    check(mc_gs1_encode_element_string(es, sizeof es, NULL, id, false) == 0,
          "encode element string of a parsed id");
    check(mc_gs1_parse_element_string(&back, &err, es, strlen(es), ref) == 0,
          "re-parse element string");
    check(mc_gs1_id_equal(id, &back), "element string round trip changes the id");

    /* The human-readable form is only checked not to crash: a value may
     * itself contain "(21)" and so read back differently. */
    check(mc_gs1_encode_element_string(es, sizeof es, NULL, id, true) == 0,
          "encode human-readable element string");
    (void)mc_gs1_parse_element_string(&back, &err, es, strlen(es), ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned ref = 1990u + (size ? data[0] : 0u) % 120u;
    const char *in = (const char *)data;
    struct mc_gs1_id id;
    struct mc_gs1_error err;

    if (mc_gs1_parse_digital_link(&id, &err, in, size, ref) == 0) {
        check(err.fault == MC_GS1_FAULT_NONE, "success leaves a fault");
        round_trip(&id, ref);
    } else {
        check(err.fault != MC_GS1_FAULT_NONE && err.message[0] != 0, "error without detail");
        check(err.offset <= size || err.fault == MC_GS1_FAULT_INPUT_TOO_LONG, "offset past input");
    }
    if (mc_gs1_parse_element_string(&id, &err, in, size, ref) == 0) {
        round_trip(&id, ref);
    } else {
        check(err.fault != MC_GS1_FAULT_NONE && err.message[0] != 0, "error without detail");
        check(err.offset <= size || err.fault == MC_GS1_FAULT_INPUT_TOO_LONG, "offset past input");
    }
    return 0;
}
