/* One access entry for a listing: many record versions served by one
 * request are logged as one record_access entry that names exactly what
 * was served.
 *
 * The entry's reason carries the count and an RFC 6962 Merkle root over
 * the versions served, in the order served (record id ascending), each leaf
 *
 *   SHA-256(0x00 || str8 id || u32 version || hash32 ciphertext hash)
 *
 * so an auditor holding the served list (the answer, or the chain's record
 * rows at the entry's height) recomputes the root and knows which records,
 * at which versions and with which ciphertexts, were shown; a list with one
 * record more, less or swapped gives another root. The reason reads
 *
 *   "listing: N of M records served; root <64 hex>"
 *
 * (M: the patient's records the listing looked at). One rule, one place:
 * the API formats it with mc_records_listing_reason and tools read it back
 * with mc_records_listing_parse. */
#ifndef MC_APP_RECORDS_LISTING_H
#define MC_APP_RECORDS_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "app/records.h"
#include "base/err.h"
#include "crypto/hash.h"

/* May requester be served the ciphertexts of the patient's records in one
 * listing? Only the patient herself (she holds the batch keys sealed to
 * her); everyone else reads record by record, each read its own entry.
 * Refusals as mc_records_decide_patient_view. */
void mc_records_decide_listing(struct mc_state *st, const mc_pubkey *requester, const mc_pubkey *patient,
                               struct mc_access_decision *out);

/* One record version served. */
struct mc_records_served {
    const char *id;
    uint32_t version;
    mc_hash ciphertext;
};

/* Leaf hash of one served version (see above). */
void mc_records_listing_leaf(mc_hash *out, const struct mc_records_served *s);
/* RFC 6962 root over the n served versions (the empty tree's root when n is 0). */
void mc_records_listing_root(mc_hash *out, const struct mc_records_served *s, size_t n);

/* Longest reason this module writes, with its terminator. */
#define MC_RECORDS_LISTING_REASON_MAX 128
/* Writes the entry's reason for served of total versions under root. */
void mc_records_listing_reason(char out[MC_RECORDS_LISTING_REASON_MAX], size_t served, size_t total,
                               const mc_hash *root);
/* Reads a listing reason back: MC_ERR_MALFORMED when reason is not one. */
MC_MUST_CHECK int mc_records_listing_parse(const char *reason, size_t *served, size_t *total, mc_hash *root);

#endif
