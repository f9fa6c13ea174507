/* libFuzzer target: the RFC 9421 / RFC 8941 header parsers every signed
 * request reaches before its key is known (api/httpsig.h): Signature-Input,
 * Signature and Content-Digest values, and the signature base built from
 * what was parsed.
 *
 * Input: | u8 selector | text |. The text (NUL-terminated copy, bounded by
 * the API's header limit) is parsed as the header the selector names; what
 * parses is serialised again and must parse to the same parameters (the
 * serialiser and the parser agree), and a signature base is built from it
 * for a fixed request.
 *
 * Checks (abort on violation): no parse reads past the text; a parsed
 * Signature-Input round-trips through mc_httpsig_serialize_params. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/httpsig.h"
#include "base/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_MAX 8192

static const char *header_of(void *ctx, const char *name) {
    if (strcmp(name, "content-digest") == 0) return "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:";
    if (strcmp(name, "content-type") == 0) return "application/json";
    if (strcmp(name, "date") == 0) return "Tue, 01 Dec 2026 10:00:00 GMT";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char text[TEXT_MAX + 1];
    size_t n = size - 1 < TEXT_MAX ? size - 1 : TEXT_MAX;
    memcpy(text, data + 1, n);
    text[n] = 0;
    switch (data[0] % 3) {
    case 0: {
        struct mc_httpsig_params p;
        if (mc_httpsig_parse_input(&p, text, data[0] & 0x80 ? "sig1" : NULL) != 0) return 0;
        struct mc_buf b;
        mc_buf_init(&b, 0);
        mc_buf_append(&b, p.label, strlen(p.label));
        mc_buf_append(&b, "=", 1);
        mc_httpsig_serialize_params(&b, &p);
        mc_buf_append(&b, "", 1);
        struct mc_httpsig_params q;
        if (!b.err) {
            if (mc_httpsig_parse_input(&q, (const char *)b.data, p.label) != 0) abort();
            if (q.ncomp != p.ncomp || q.nparam != p.nparam || strcmp(q.keyid, p.keyid) != 0 ||
                q.created != p.created || q.expires != p.expires || strcmp(q.nonce, p.nonce) != 0)
                abort();
            for (size_t i = 0; i < p.ncomp; i++)
                if (strcmp(q.comp[i], p.comp[i]) != 0) abort();
        }
        mc_buf_deinit(&b);
        struct mc_httpsig_message m = {"POST", "https://node.example:7700/v1/records?x=1", header_of, NULL};
        struct mc_buf base;
        mc_buf_init(&base, 0);
        (void)mc_httpsig_base(&base, &p, &m);
        mc_buf_deinit(&base);
        break;
    }
    case 1: {
        uint8_t sig[MC_SIG_BYTES];
        (void)mc_httpsig_parse_signature(sig, text, data[0] & 0x80 ? "sig2" : "sig1");
        break;
    }
    case 2:
        (void)mc_httpsig_check_digest(text, data + 1, size - 1);
        break;
    }
    return 0;
}
