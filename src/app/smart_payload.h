/* Encoder and strict structural decoder of the SMART transactions
 * (types 60-62; layouts in app/smart.h), beside their execution in
 * smart.c. Builders (the API, the CLI, tests) encode through these; the
 * execution decodes through mc_smart_payload_decode; tests/smart checks
 * decode(encode(x)) == x. Decoding checks structure only (lengths, no
 * trailing bytes); execution judges the values. Pure, thread-safe. */
#ifndef MC_APP_SMART_PAYLOAD_H
#define MC_APP_SMART_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "app/smart.h"
#include "base/codec.h"

struct mc_smart_payload {
    uint16_t type;
    char client[MC_SMART_CLIENT_ID_MAX + 1];   /* every type */
    /* smart_client */
    uint8_t alg;
    const uint8_t *key;                        /* points into the caller's bytes */
    size_t key_len;
    char name[MC_SMART_CLIENT_NAME_MAX + 1];
    /* smart_token */
    const uint8_t *assertion;                  /* compact JWS, not NUL-terminated */
    size_t assertion_len;
    char scope[MC_SMART_SCOPE_MAX + 1];
    uint64_t expiry_ms;
};

/* Canonical bytes of p (by p->type) appended to b. MC_ERR_INVALID for
 * another type, MC_ERR_TOO_LARGE past a bound. */
MC_MUST_CHECK int mc_smart_payload_encode(struct mc_buf *b, const struct mc_smart_payload *p);
/* Strict decode of a payload of the given type. MC_ERR_MALFORMED,
 * MC_ERR_TOO_LARGE, MC_ERR_INVALID (not a SMART type). */
MC_MUST_CHECK int mc_smart_payload_decode(struct mc_smart_payload *out, uint16_t type, const uint8_t *p,
                                          size_t n);

#endif
