/* The light client: what a holder of the genesis alone can check.
 *
 * It trusts a chain id, the genesis hash and the genesis validator set, and
 * follows each change of validators (governance, app/governance.h) by a
 * proof: the row "g/vh/" || u64 from that holds the set in force from height
 * `from` on, proven in the state of a header (below `from`) that the set it
 * already trusts certified (mc_light_add_valset). mc_light_valset_at is the
 * one function that answers "the validator set of height H". A node that
 * leaves a change out only makes the later headers fail to check (their
 * valset_hash names a set the client does not hold): it cannot make a
 * header pass. From those it checks a header
 * by its commit certificate: the header decodes and names this chain, its
 * valset_hash is the hash of the set for its height, the certificate is for
 * this very header (height and hash), every signature in it is a valid
 * precommit of a validator of that set, and the signers hold more than two
 * thirds of the power. Then, against a checked header, it checks
 *   - a state row or a key's absence (chain/stateproof.h) against the
 *     header's state root,
 *   - a transaction's inclusion in the ledger-wide log (RFC 6962) against
 *     the header's log size and root,
 *   - the log's append-only growth between two checked headers (RFC 9162
 *     consistency).
 * Pure: bytes in, a verdict out; no network, no clock, no store. The CLI's
 * `medchain light` fetches the bytes over HTTP and calls these. */
#ifndef MC_CHAIN_LIGHT_H
#define MC_CHAIN_LIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"
#include "chain/block.h"
#include "chain/valset.h"
#include "crypto/hash.h"

struct mc_light_valset {
    uint64_t from; /* first height the set signs (1 for the genesis set) */
    struct mc_valset vs;
};

struct mc_light {
    char chain_id[MC_CHAIN_ID_MAX + 1];
    mc_hash genesis_hash;
    uint32_t count;                               /* sets held, from ascending */
    struct mc_light_valset sets[MC_LIGHT_VALSETS_MAX];
};

/* The state key of the validator set row from height `from` on
 * ("g/vh/" || u64 from), as app/governance.h writes it. */
#define MC_LIGHT_VALSET_KEY_BYTES 13
void mc_light_valset_key(uint8_t out[MC_LIGHT_VALSET_KEY_BYTES], uint64_t from);

/* MC_ERR_INVALID for an empty set or a chain id that is too long. */
MC_MUST_CHECK int mc_light_init(struct mc_light *lc, const char *chain_id,
                                const mc_hash *genesis_hash, const struct mc_valset *vs);

/* The validator set that signs the block at height: the trusted set with
 * the largest from <= height. */
const struct mc_valset *mc_light_valset_at(const struct mc_light *lc, uint64_t height);

/* Follows a change of validators: row (the bytes of "g/vh/" || u64 from,
 * which start | u64 from | bytes32 canonical validator set |) with its
 * state proof against header h, which the caller checked with
 * mc_light_check_header. The set is trusted from `from` on when h is below
 * `from`, `from` is above every set held, and the proof holds.
 * MC_ERR_INVALID (out of order, too many, a header at or past from),
 * MC_ERR_MALFORMED (the row), or the proof's error. */
MC_MUST_CHECK int mc_light_add_valset(struct mc_light *lc, const struct mc_header *h,
                                      const uint8_t *row, size_t row_len, const uint8_t *proof,
                                      size_t proof_len);

/* Checks header bytes by their certificate's bytes (see above) and gives
 * the decoded header and its hash. MC_ERR_MALFORMED (does not decode),
 * MC_ERR_WRONG_CHAIN, MC_ERR_INVALID (another validator set, a certificate
 * for another block, no quorum), MC_ERR_BAD_SIGNATURE (any one signature
 * that does not verify), each with a detail sentence. */
MC_MUST_CHECK int mc_light_check_header(const struct mc_light *lc, const uint8_t *header,
                                        size_t header_len, const uint8_t *commit,
                                        size_t commit_len, struct mc_header *out, mc_hash *hash);

/* Checks that under the checked header h, key holds value (present) or
 * nothing (value NULL), by the proof's canonical bytes. */
MC_MUST_CHECK int mc_light_check_state(const struct mc_header *h, const void *key, size_t key_len,
                                       const void *value, size_t value_len, const uint8_t *proof,
                                       size_t proof_len);

/* Checks that tx (its bytes) is leaf `index` of the ledger-wide log of the
 * checked header h, by its audit path. */
MC_MUST_CHECK int mc_light_check_tx(const struct mc_header *h, const uint8_t *tx, size_t tx_len,
                                    uint64_t index, const mc_hash *path, size_t path_len);

/* Checks that the log of checked header b extends the log of checked
 * header a (a's height <= b's), by the consistency path. */
MC_MUST_CHECK int mc_light_check_consistency(const struct mc_header *a, const struct mc_header *b,
                                             const mc_hash *path, size_t path_len);

#endif
