/* The node's vault (see vault.h): the node key in guarded memory, and the
 * sealing and opening of record versions. */
#include "node/vault.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "base/assert.h"
#include "blob/blob.h"
#include "crypto/keyfile.h"
#include "node/node.h"
#include "node/node_internal.h"

struct mc_vault {
    struct mc_node *node;
    struct mc_keypair *kp;   /* sodium_malloc, read-only once loaded */
    struct mc_keypair *next; /* node_key.next.json, when a rotation is prepared */
};

int mc_vault_load_next(struct mc_vault *v, const char *key_path) {
    if (v->next) return mc_err_set(MC_ERR_EXISTS, "the vault holds a next key already");
    struct mc_keypair *kp = sodium_malloc(sizeof *kp);
    if (!kp) return mc_err_set(MC_ERR_NOMEM, "no guarded memory for the next node key");
    int rc = mc_keyfile_read(kp, key_path, NULL);
    if (rc) {
        sodium_free(kp);
        return rc;
    }
    MC_ASSERT(sodium_mprotect_readonly(kp) == 0);
    v->next = kp;
    return 0;
}

const struct mc_keypair *mc__vault_next_signer(const struct mc_vault *v) { return v->next; }

int mc_vault_create(struct mc_vault **out, struct mc_node *node, const char *key_path) {
    *out = NULL;
    struct mc_vault *v = calloc(1, sizeof *v);
    if (!v) return MC_ERR_NOMEM;
    v->node = node;
    v->kp = sodium_malloc(sizeof *v->kp);
    if (!v->kp) {
        free(v);
        return mc_err_set(MC_ERR_NOMEM, "no guarded memory for the node key");
    }
    int rc = mc_keyfile_read(v->kp, key_path, NULL);
    if (rc) {
        mc_vault_destroy(v);
        return rc;
    }
    /* Read-only from here: a stray write through a bug faults instead of
     * corrupting the key. */
    MC_ASSERT(sodium_mprotect_readonly(v->kp) == 0);
    *out = v;
    return 0;
}

void mc_vault_destroy(struct mc_vault *v) {
    if (!v) return;
    if (v->kp) {
        (void)sodium_mprotect_readwrite(v->kp);
        sodium_free(v->kp); /* wipes before freeing */
    }
    if (v->next) {
        (void)sodium_mprotect_readwrite(v->next);
        sodium_free(v->next);
    }
    free(v);
}

const mc_pubkey *mc_vault_public_key(const struct mc_vault *v) { return &v->kp->pk; }

const struct mc_keypair *mc__vault_signer(const struct mc_vault *v) { return v->kp; }

int mc_vault_seal_batch(struct mc_vault *v, uint8_t sealed_patient[MC_SEALED_KEY_BYTES],
                        uint8_t sealed_node[MC_SEALED_KEY_BYTES], struct mc_vault_record *recs,
                        size_t n, const mc_pubkey *patient) {
    struct mc_blob_store *bs = mc_node_blobs(v->node);
    uint8_t batch[MC_DATAKEY_BYTES];
    mc_envelope_keygen(batch);
    int rc = 0;
    size_t stored = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        uint8_t key[MC_DATAKEY_BYTES];
        mc_record_data_key(key, batch, recs[i].id, recs[i].version);
        uint8_t ad[69];
        size_t adn = mc_record_ad(ad, recs[i].id, recs[i].version);
        struct mc_buf ct;
        mc_buf_init(&ct, 0);
        rc = mc_envelope_encrypt_with(&ct, key, recs[i].plain, recs[i].plain_len, ad, adn);
        sodium_memzero(key, sizeof key);
        /* The envelope layout is what the anchor's size records. */
        MC_ASSERT(rc || ct.len == recs[i].plain_len + MC_ENVELOPE_OVERHEAD);
        /* pending until the anchor commits: a crash before leaves nothing
         * that is served (blob.h) */
        if (!rc) rc = mc_blob_put_pending(bs, &recs[i].ciphertext, ct.data, ct.len);
        recs[i].size = (uint32_t)ct.len;
        mc_buf_deinit(&ct);
        if (!rc) stored++;
    }
    if (!rc) rc = mc_envelope_seal_key(sealed_patient, batch, patient);
    if (!rc) rc = mc_envelope_seal_key(sealed_node, batch, &v->kp->pk);
    sodium_memzero(batch, sizeof batch);
    if (rc) {
        int saved = rc;
        char why[300];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        mc_vault_drop_batch(v, recs, stored);
        rc = mc_err_set(saved, "%s", why);
    }
    return rc;
}

void mc_vault_drop_batch(struct mc_vault *v, const struct mc_vault_record *recs, size_t n) {
    struct mc_blob_store *bs = mc_node_blobs(v->node);
    for (size_t i = 0; i < n; i++)
        if (mc_blob_purge(bs, &recs[i].ciphertext)) break;
}

int mc_vault_load_ciphertext(struct mc_vault *v, struct mc_buf *ct, const char *id,
                             uint32_t version, const mc_hash *ciphertext, bool repair) {
    /* ciphertext comes from a committed anchor: a pending copy is ours */
    int rc = mc_blob_get_anchored(mc_node_blobs(v->node), ciphertext, ct);
    if (!repair || (rc != MC_ERR_TAMPERED && rc != MC_ERR_NOT_FOUND)) return rc;
    char why[200];
    snprintf(why, sizeof why, "%s", mc_err_detail());
    if (mc_node_request_blob(v->node, id, version, ciphertext) == 0)
        return mc_err_set(rc, "%s; a good copy is being fetched from a peer (retry shortly)", why);
    return mc_err_set(rc, "%s; a good copy cannot be fetched (%s)", why, mc_err_detail());
}

int mc_vault_open_record(struct mc_vault *v, struct mc_buf *plain, const char *id,
                         uint32_t version, const mc_hash *ciphertext, const uint8_t *sealed,
                         bool grant_key, bool repair) {
    if (!sealed)
        return mc_err_set(MC_ERR_CRYPTO, "this node holds no key for the record (authored "
                                         "elsewhere, not granted to it)");
    struct mc_buf ct;
    mc_buf_init(&ct, 0);
    int rc = mc_vault_load_ciphertext(v, &ct, id, version, ciphertext, repair);
    if (rc) {
        mc_buf_deinit(&ct);
        return rc;
    }
    uint8_t key[MC_DATAKEY_BYTES], batch[MC_DATAKEY_BYTES];
    rc = mc_envelope_open_key(grant_key ? key : batch, sealed, v->kp);
    /* sealed to the node's next key (a rotation under way or done) */
    if (rc && v->next) rc = mc_envelope_open_key(grant_key ? key : batch, sealed, v->next);
    if (!rc && !grant_key) mc_record_data_key(key, batch, id, version);
    uint8_t ad[69];
    size_t adn = mc_record_ad(ad, id, version);
    if (!rc) rc = mc_envelope_decrypt(plain, key, ct.data, ct.len, ad, adn);
    sodium_memzero(key, sizeof key);
    sodium_memzero(batch, sizeof batch);
    mc_buf_deinit(&ct);
    return rc;
}

void mc_vault_research_secret(const struct mc_vault *v, uint8_t out[32]) {
    static const char domain[] = "medchain/v1/research-secret";
    /* libsodium's secret key is seed || public key: the seed keys the hash. */
    crypto_generichash(out, 32, (const uint8_t *)domain, sizeof domain - 1, v->kp->sk, 32);
}
