/* The light client: what a holder of the genesis alone can check.
 *
 * It trusts a chain id, the genesis hash and the validator set of each
 * height (mc_light_valset_at): the genesis set, then each set it adopted
 * (mc_light_adopt_valset) as governance changed the validators. From those
 * it checks a header
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

/* Validator sets a light client keeps (the genesis set and the latest
 * adopted ones; the oldest adopted is forgotten first). */
#define MC_LIGHT_SETS_MAX 8

struct mc_light {
    char chain_id[MC_CHAIN_ID_MAX + 1];
    mc_hash genesis_hash;
    uint32_t set_count;
    struct mc_light_set {
        uint64_t from;       /* the height it was adopted at (1: genesis) */
        struct mc_valset vs;
    } sets[MC_LIGHT_SETS_MAX];
};

/* MC_ERR_INVALID for an empty set or a chain id that is too long. */
MC_MUST_CHECK int mc_light_init(struct mc_light *lc, const char *chain_id,
                                const mc_hash *genesis_hash, const struct mc_valset *vs);

/* The validator set that signs the block at height: the latest set
 * adopted at or below it. */
const struct mc_valset *mc_light_valset_at(const struct mc_light *lc, uint64_t height);

/* Adopts vs (from an untrusted source, e.g. GET /v1/validators?height=H)
 * as the set of the header's height when: the header decodes and names this
 * chain, vs hashes to its valset_hash, its certificate holds under vs (every
 * signature valid, more than 2/3 of vs), and the signers hold more than 1/3
 * of the power of the set the client trusts at that height. Under the
 * standing assumption (less than 1/3 of a trusted set is faulty) one honest
 * trusted validator vouches for the header and so for vs; governance moves
 * less than 1/3 of the power per change, so the set in force just after a
 * change always passes against the one before. MC_ERR_INVALID (with the
 * reason; "1/3" in it when the trusted signers are too few: adopt an
 * earlier set first), or the errors of mc_light_check_header. */
MC_MUST_CHECK int mc_light_adopt_valset(struct mc_light *lc, const uint8_t *header, size_t header_len,
                                        const uint8_t *commit, size_t commit_len,
                                        const struct mc_valset *vs);

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
