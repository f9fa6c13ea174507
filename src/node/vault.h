/* The node's vault: the only code that touches the node's long-lived secret
 * key and the record keys it opens.
 *
 * The node's Ed25519 key pair (its X25519 key is derived from it) is read
 * from node_key.json into sodium_malloc memory (guard pages, locked, never
 * swapped), made read-only once loaded, and wiped and freed at close. No
 * function here hands the secret out: callers get the public key, a
 * sealed batch, an opened record version or the research secret, never
 * the key itself. Signing with it (transactions, votes, the transport
 * handshake) stays inside src/node (node_internal.h).
 *
 * Plain arguments only (no HTTP types); thread-safe (the key is read-only;
 * the blob store serialises its own writes).
 *
 * Record keys (app/records.h): a batch of record versions anchored in one
 * transaction shares a random batch key; each version is encrypted under
 * mc_record_data_key(batch key, id, version) with the record's associated
 * data mc_record_ad(id, version), in the layout of crypto/envelope.h. The
 * batch key is sealed to the patient and to this node; a grant seals a
 * version's data key to a grantee (or to a node). */
#ifndef MC_NODE_VAULT_H
#define MC_NODE_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

struct mc_node;
struct mc_vault;

/* Reads the key file at key_path into guarded memory. node is the owner
 * (its blob store and peers serve the ciphertext); it may be NULL for a
 * vault that only derives secrets (tests). Errors of mc_keyfile_read,
 * MC_ERR_NOMEM. */
MC_MUST_CHECK int mc_vault_create(struct mc_vault **out, struct mc_node *node,
                                  const char *key_path);
/* Loads the key a rotation moves the node to (node_key.next.json) into
 * guarded memory beside the first: the node signs with it from the height
 * the ledger names (governance.h, node_rotate), and records sealed to
 * either key open. */
MC_MUST_CHECK int mc_vault_load_next(struct mc_vault *v, const char *key_path);
/* Wipes and frees the key; NULL does nothing. */
void mc_vault_destroy(struct mc_vault *v);

/* The node's public (account) key. */
const mc_pubkey *mc_vault_public_key(const struct mc_vault *v);

/* One record version of a batch to seal: id, version and plaintext in;
 * the ciphertext's hash (its blob id) and size out. */
struct mc_vault_record {
    const char *id;
    uint32_t version;
    const void *plain;
    size_t plain_len;
    mc_hash ciphertext;   /* out */
    uint32_t size;        /* out */
};

/* Seals a batch: draws a batch key, encrypts each version under its data
 * key, stores each ciphertext in the node's blob store, and seals the
 * batch key to the patient (sealed_patient) and to this node
 * (sealed_node). On failure nothing stays stored and the error is
 * returned (MC_ERR_CRYPTO: the patient key is not a curve point; store
 * errors). */
MC_MUST_CHECK int mc_vault_seal_batch(struct mc_vault *v,
                                      uint8_t sealed_patient[MC_SEALED_KEY_BYTES],
                                      uint8_t sealed_node[MC_SEALED_KEY_BYTES],
                                      struct mc_vault_record *recs, size_t n,
                                      const mc_pubkey *patient);
/* Purges the ciphertext of a sealed batch whose anchor was not admitted. */
void mc_vault_drop_batch(struct mc_vault *v, const struct mc_vault_record *recs, size_t n);

/* A record version's ciphertext from this node's blob store (its hash
 * checked). When the stored copy is missing or altered it is not served:
 * with repair set, the node fetches a good copy from a peer (hash checked
 * against the anchor), so a later read succeeds; the error says which.
 * Errors: MC_ERR_TAMPERED, MC_ERR_NOT_FOUND, MC_ERR_STATE (purged). */
MC_MUST_CHECK int mc_vault_load_ciphertext(struct mc_vault *v, struct mc_buf *ct, const char *id,
                                           uint32_t version, const mc_hash *ciphertext,
                                           bool repair);

/* Fetches, checks and decrypts a record version into plain (the caller
 * wipes plain when done). sealed is the key sealed to this node: the batch
 * key (grant_key false) or the version's granted data key (grant_key
 * true); NULL when the node holds none. Errors: MC_ERR_CRYPTO (no key, or
 * a key or ciphertext that does not open), those of
 * mc_vault_load_ciphertext. */
MC_MUST_CHECK int mc_vault_open_record(struct mc_vault *v, struct mc_buf *plain, const char *id,
                                       uint32_t version, const mc_hash *ciphertext,
                                       const uint8_t *sealed, bool grant_key, bool repair);

/* The node's research secret: keys the per-study pseudonyms of research
 * datasets (api/deid.h). BLAKE2b keyed by the node's seed over the domain
 * "medchain/v1/research-secret": stable for the node, unlinkable to
 * anything public. The caller wipes out. */
void mc_vault_research_secret(const struct mc_vault *v, uint8_t out[32]);

#endif
