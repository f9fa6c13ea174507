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
#include "base/limits.h"
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
 * true); NULL when the node holds none. Errors: MC_ERR_MISDIRECTED (no
 * key: another node must serve it), MC_ERR_CRYPTO (a key or ciphertext
 * that does not open), those of mc_vault_load_ciphertext. */
MC_MUST_CHECK int mc_vault_open_record(struct mc_vault *v, struct mc_buf *plain, const char *id,
                                       uint32_t version, const mc_hash *ciphertext,
                                       const uint8_t *sealed, bool grant_key, bool repair);

/* --- large attachments (FHIR Binary), sealed and opened chunk by chunk ---
 *
 * The ciphertext layout is crypto/stream.h's, under the version's data key
 * (so grants work as for any record) with the record's associated data;
 * it goes to the blob store as a streamed blob (blob.h), pending until its
 * anchor commits. Memory per upload or read: one chunk of plaintext and
 * the blob store's piece or part, whatever the attachment's size. */
struct mc_vault_upload;
/* Starts sealing a new record version (id, version) of content_type: draws
 * its batch key and opens a streamed upload. MC_ERR_INVALID for a content
 * type stream.h refuses; store errors. */
MC_MUST_CHECK int mc_vault_upload_begin(struct mc_vault *v, struct mc_vault_upload **out, const char *id,
                                        uint32_t version, const char *content_type);
/* Encrypts and stores the next plaintext bytes (any split).
 * MC_ERR_TOO_LARGE past MC_ATTACHMENT_MAX; store errors (then only abort). */
MC_MUST_CHECK int mc_vault_upload_write(struct mc_vault_upload *u, const void *plain, size_t len);
/* Ends the stream, completes the upload and seals the batch key to the
 * patient and to this node; ciphertext and size receive what the anchor
 * records. Frees u; on error nothing stays stored. */
MC_MUST_CHECK int mc_vault_upload_finish(struct mc_vault_upload *u, const mc_pubkey *patient,
                                         uint8_t sealed_patient[MC_SEALED_KEY_BYTES],
                                         uint8_t sealed_node[MC_SEALED_KEY_BYTES], mc_hash *ciphertext,
                                         uint32_t *size, uint64_t *plain_size);
/* Drops an upload and what it stored (a client that went away); frees u.
 * NULL does nothing. */
void mc_vault_upload_abort(struct mc_vault_upload *u);

struct mc_vault_download;
/* Opens a stored attachment (ciphertext and size from its anchor; sealed
 * and grant_key as in mc_vault_open_record) and authenticates its first
 * message: content_type and plain_size are known before any plaintext is
 * read. Errors: those of mc_vault_open_record; MC_ERR_TAMPERED when the
 * stored bytes are not the anchored layout. */
MC_MUST_CHECK int mc_vault_download_open(struct mc_vault *v, struct mc_vault_download **out, const char *id,
                                         uint32_t version, const mc_hash *ciphertext, uint32_t size,
                                         const uint8_t *sealed, bool grant_key,
                                         char content_type[MC_ATTACHMENT_TYPE_MAX + 1], uint64_t *plain_size);
/* The next plaintext bytes, at most cap (*n; 0 at the end). Each chunk is
 * authenticated before any of it is returned, and the last only once the
 * whole ciphertext hashed to its anchor. A chunk that does not open, or
 * bytes that do not hash to the anchor, are MC_ERR_TAMPERED: logged, a
 * good copy is fetched from a peer, and nothing more is returned. */
MC_MUST_CHECK int mc_vault_download_read(struct mc_vault_download *d, uint8_t *out, size_t cap, size_t *n);
/* Wipes and frees; NULL does nothing. */
void mc_vault_download_close(struct mc_vault_download *d);

/* The node's research secret: keys the per-study pseudonyms of research
 * datasets (api/deid.h). BLAKE2b keyed by the node's seed over the domain
 * "medchain/v1/research-secret": stable for the node, unlinkable to
 * anything public. The caller wipes out. */
void mc_vault_research_secret(const struct mc_vault *v, uint8_t out[32]);

#endif
