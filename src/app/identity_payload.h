/* Encoders and strict structural decoders of the identity transactions
 * (types 1-4; layouts at the top of identity.c):
 *   enroll_member:    | pubkey member | u8 role | str8 name (< MC_NAME_MAX) |
 *   revoke_member:    | pubkey member | str8 reason |
 *   register_patient: | pubkey patient | sig64 patient consent |
 *   rotate_key:       | pubkey new key | sig64 proof of possession |
 * for the CLI, tests and benchmarks; the fuzz target fuzz_identity_payload
 * checks decode(encode(x)) == x. Pure functions, thread-safe. */
#ifndef MC_APP_IDENTITY_PAYLOAD_H
#define MC_APP_IDENTITY_PAYLOAD_H

#include <stdint.h>

#include "base/codec.h"
#include "base/limits.h"
#include "crypto/sign.h"

#define MC_IDENTITY_REASON_MAX 255

struct mc_identity_payload {
    uint16_t type;
    mc_pubkey key;                        /* member, patient or new key */
    uint8_t role;                         /* enroll */
    char name[MC_NAME_MAX];               /* enroll */
    char reason[MC_IDENTITY_REASON_MAX + 1]; /* revoke */
    uint8_t sig[MC_SIG_BYTES];            /* register, rotate */
};

/* Canonical bytes of p appended to b. MC_ERR_INVALID for a type that is
 * not an identity type; MC_ERR_TOO_LARGE for a name of MC_NAME_MAX bytes
 * or more (b->err is set too). */
MC_MUST_CHECK int mc_identity_payload_encode(struct mc_buf *b,
                                             const struct mc_identity_payload *p);
/* Strict decode: MC_ERR_MALFORMED / MC_ERR_TOO_LARGE / MC_ERR_INVALID. */
MC_MUST_CHECK int mc_identity_payload_decode(struct mc_identity_payload *out, uint16_t type,
                                             const uint8_t *p, size_t n);

#endif
