/* Encoders and strict structural decoders of the records transactions
 * (types 50-55; layouts in app/records.h), beside the ledger's own
 * execution in records.c. Builders (the API, the CLI, tests, benchmarks)
 * encode through these so each layout is written once; the fuzz target
 * fuzz_records_payload checks decode(encode(x)) == x.
 *
 * Decoding checks structure only (lengths, counts, no trailing bytes);
 * whether the values are allowed is judged by execution, which decodes
 * through mc_records_payload_decode_progress: these are the only decoders
 * of the layouts. Pure functions,
 * thread-safe. */
#ifndef MC_APP_RECORDS_PAYLOAD_H
#define MC_APP_RECORDS_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "app/records.h"
#include "base/codec.h"

/* One record version of an anchor. */
struct mc_records_anchor_entry {
    char id[MC_RECORD_ID_MAX + 1];
    uint16_t type;
    uint32_t version;
    mc_hash ciphertext;
    uint32_t size;
};

/* One data key a grant carries. */
struct mc_records_grant_key {
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version;
    mc_pubkey to;
    uint8_t sealed[MC_SEALED_KEY_BYTES];
};

/* Structural form of every records payload (fields by type). Large: heap
 * it. base and sig point into the caller's bytes (decode) or memory
 * (encode). */
struct mc_records_payload {
    uint16_t type;
    /* anchor, access */
    mc_pubkey patient;
    mc_pubkey author;                  /* anchor */
    const uint8_t *base;               /* anchor, access: request signature base */
    size_t base_len;
    const uint8_t *sig;                /* anchor: 64 bytes; access: 0 or 64 */
    size_t sig_len;
    uint8_t sealed_patient[MC_SEALED_KEY_BYTES], sealed_node[MC_SEALED_KEY_BYTES];
    uint16_t count;                    /* anchor entries, grant keys, erase ids */
    struct mc_records_anchor_entry entries[MC_RECORDS_BATCH_MAX];
    /* access */
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version;
    mc_pubkey requester;
    uint8_t action, purpose, outcome;
    uint16_t status;
    char reason[MC_REASON_MAX + 1];    /* access reason, review note */
    /* grant */
    uint8_t kind;
    mc_pubkey member;
    uint32_t org;
    uint8_t categories;
    uint64_t expiry_ms;
    struct mc_records_grant_key keys[MC_GRANT_TX_KEYS_MAX];
    /* revoke (grant id), review (access tx id) */
    mc_hash ref;
    /* erase */
    char erase_ids[MC_RECORDS_BATCH_MAX][MC_RECORD_ID_MAX + 1];
};

/* Canonical bytes of p (by p->type) appended to b. MC_ERR_INVALID for a
 * type that is not a records type, MC_ERR_TOO_LARGE past a count or
 * length bound (b->err is set too). */
MC_MUST_CHECK int mc_records_payload_encode(struct mc_buf *b, const struct mc_records_payload *p);
/* Strict structural decode of a payload of the given type. MC_ERR_MALFORMED
 * / MC_ERR_TOO_LARGE, MC_ERR_INVALID (not a records type). */
MC_MUST_CHECK int mc_records_payload_decode(struct mc_records_payload *out, uint16_t type,
                                            const uint8_t *p, size_t n);

/* How far a decode got. The ledger's execution (records.c) judges the
 * fixed fields before a list (anchor entries, grant keys, erase ids) and
 * then each item in turn, so a payload whose item k does not decode is
 * refused for whatever items 0..k-1 break first: it needs to know which
 * parts decoded even when the whole did not. */
struct mc_records_payload_progress {
    bool head;      /* the fields up to and including the list's count decoded */
    uint16_t items; /* leading list items that decoded whole */
};

/* mc_records_payload_decode, and *pr says how far it got (anchor, grant,
 * erase; on success head is true and items == count). */
MC_MUST_CHECK int mc_records_payload_decode_progress(struct mc_records_payload *out, uint16_t type,
                                                     const uint8_t *p, size_t n,
                                                     struct mc_records_payload_progress *pr);

#endif
