/* libFuzzer target for the records parsers that take outside bytes:
 * RFC 9421 Signature-Input / Signature (src/api/httpsig.c), Content-Digest,
 * and the FHIR validator over any JSON (src/api/fhir.c).
 *
 * The first byte picks the parser. Properties: nothing crashes; a
 * Signature-Input that parses re-serialises to a form that parses again to
 * the same components and parameters (a fixed point). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fhir.h"
#include "api/httpsig.h"
#include "crypto/hash.h"

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_records: property broken: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mc_crypto_init();
    if (size < 1 || size > 64 * 1024) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    switch (data[0] % 4) {
    case 0: {
        struct mc_httpsig_params p, q;
        if (mc_httpsig_parse_input(&p, s, NULL) == 0) {
            struct mc_buf b;
            mc_buf_init(&b, 0);
            mc_buf_append(&b, p.label, strlen(p.label));
            mc_buf_append(&b, "=", 1);
            mc_httpsig_serialize_params(&b, &p);
            mc_buf_append(&b, "", 1);
            check(!b.err, "serialise");
            check(mc_httpsig_parse_input(&q, (const char *)b.data, NULL) == 0, "reparse");
            check(p.ncomp == q.ncomp && p.nparam == q.nparam, "same shape");
            for (size_t i = 0; i < p.nparam; i++)
                check(strcmp(p.pvalue[i], q.pvalue[i]) == 0, "same parameter values");
            mc_buf_deinit(&b);
        }
        break;
    }
    case 1: {
        uint8_t sig[64];
        (void)!mc_httpsig_parse_signature(sig, s, "sig1");
        break;
    }
    case 2: (void)!mc_httpsig_check_digest(s, data, size); break;
    case 3: {
        json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
        if (j) {
            uint16_t type;
            char why[256];
            if (mc_fhir_validate(j, &type, why, sizeof why) == 0) {
                const char *refs[8];
                (void)mc_fhir_patient_refs(j, type, refs, 8);
                (void)mc_fhir_rewrite_refs(j, "urn:uuid:x", "Patient/y");
            }
            json_decref(j);
        }
        break;
    }
    }
    free(s);
    return 0;
}
