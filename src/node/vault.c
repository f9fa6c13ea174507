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
#include "base/log.h"
#include "crypto/keyfile.h"
#include "crypto/stream.h"
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
        return mc_err_set(MC_ERR_MISDIRECTED, "this node holds no key for the record (authored "
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

/* --- large attachments --- */

struct mc_vault_upload {
    struct mc_vault *v;
    struct mc_blob_writer *w;
    uint8_t *batch;                 /* sodium_malloc: the batch key */
    struct mc_stream st;
    uint8_t ad[69];
    size_t adn;
    uint8_t plain[MC_STREAM_CHUNK]; /* the chunk being filled */
    size_t fill;
    uint8_t ct[MC_STREAM_MSG_BYTES];
    uint64_t total;
};

static void upload_free(struct mc_vault_upload *u) {
    mc_stream_wipe(&u->st);
    if (u->batch) sodium_free(u->batch);
    sodium_memzero(u, sizeof *u);
    free(u);
}

int mc_vault_upload_begin(struct mc_vault *v, struct mc_vault_upload **out, const char *id, uint32_t version,
                          const char *content_type) {
    *out = NULL;
    uint8_t meta[MC_STREAM_META_BYTES];
    int rc = mc_stream_meta_encode(meta, content_type);
    if (rc) return rc;
    struct mc_vault_upload *u = calloc(1, sizeof *u);
    if (!u) return MC_ERR_NOMEM;
    u->v = v;
    u->batch = sodium_malloc(MC_DATAKEY_BYTES);
    if (!u->batch) {
        free(u);
        return mc_err_set(MC_ERR_NOMEM, "no guarded memory for a batch key");
    }
    mc_envelope_keygen(u->batch);
    uint8_t key[MC_DATAKEY_BYTES];
    mc_record_data_key(key, u->batch, id, version);
    u->adn = mc_record_ad(u->ad, id, version);
    /* pending until the anchor commits (blob.h) */
    rc = mc_blob_writer_open(mc_node_blobs(v->node), &u->w, true);
    if (!rc) {
        uint8_t header[MC_STREAM_HEADER_BYTES];
        mc_stream_push_init(&u->st, header, key);
        mc_stream_push(&u->st, u->ct, meta, sizeof meta, u->ad, u->adn, false);
        rc = mc_blob_writer_append(u->w, header, sizeof header);
        if (!rc) rc = mc_blob_writer_append(u->w, u->ct, sizeof meta + MC_STREAM_ABYTES);
    }
    sodium_memzero(key, sizeof key);
    if (rc) {
        mc_blob_writer_abort(u->w);
        upload_free(u);
        return rc;
    }
    *out = u;
    return 0;
}

static int push_chunk(struct mc_vault_upload *u, bool final) {
    mc_stream_push(&u->st, u->ct, u->plain, u->fill, u->ad, u->adn, final);
    sodium_memzero(u->plain, u->fill);
    int rc = mc_blob_writer_append(u->w, u->ct, u->fill + MC_STREAM_ABYTES);
    u->fill = 0;
    return rc;
}

int mc_vault_upload_write(struct mc_vault_upload *u, const void *plain, size_t len) {
    if (len > MC_ATTACHMENT_MAX - u->total)
        return mc_err_set(MC_ERR_TOO_LARGE, "an attachment exceeds %u bytes", MC_ATTACHMENT_MAX);
    u->total += len;
    const uint8_t *p = plain;
    while (len) {
        /* a full chunk goes out once more bytes follow: the final message
         * (finish) holds the remainder, possibly none */
        if (u->fill == MC_STREAM_CHUNK) {
            int rc = push_chunk(u, false);
            if (rc) return rc;
        }
        size_t k = MC_STREAM_CHUNK - u->fill < len ? MC_STREAM_CHUNK - u->fill : len;
        memcpy(u->plain + u->fill, p, k);
        u->fill += k;
        p += k;
        len -= k;
    }
    return 0;
}

void mc_vault_upload_abort(struct mc_vault_upload *u) {
    if (!u) return;
    mc_blob_writer_abort(u->w);
    upload_free(u);
}

int mc_vault_upload_finish(struct mc_vault_upload *u, const mc_pubkey *patient,
                           uint8_t sealed_patient[MC_SEALED_KEY_BYTES], uint8_t sealed_node[MC_SEALED_KEY_BYTES],
                           mc_hash *ciphertext, uint32_t *size, uint64_t *plain_size) {
    int rc = 0;
    /* a full last chunk is sent as a message, then an empty final one */
    if (u->fill == MC_STREAM_CHUNK) rc = push_chunk(u, false);
    if (!rc) rc = push_chunk(u, true);
    if (!rc) rc = mc_envelope_seal_key(sealed_patient, u->batch, patient);
    if (!rc) rc = mc_envelope_seal_key(sealed_node, u->batch, &u->v->kp->pk);
    if (rc) {
        mc_vault_upload_abort(u);
        return rc;
    }
    uint64_t n = 0;
    struct mc_blob_store *bs = mc_node_blobs(u->v->node);
    rc = mc_blob_writer_finish(u->w, ciphertext, &n, NULL);
    u->w = NULL;
    if (!rc) {
        /* the layout fixes the size, which the anchor records */
        MC_ASSERT(n == mc_stream_ct_size(u->total) && n <= UINT32_MAX);
        *size = (uint32_t)n;
        *plain_size = u->total;
    }
    (void)bs;
    upload_free(u);
    return rc;
}

struct mc_vault_download {
    struct mc_vault *v;
    struct mc_blob_reader *r;
    struct mc_stream st;
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version;
    mc_hash ciphertext;
    uint8_t ad[69];
    size_t adn;
    uint64_t left;                   /* ciphertext bytes not yet read */
    uint8_t ct[MC_STREAM_MSG_BYTES];
    uint8_t plain[MC_STREAM_CHUNK];  /* the chunk being returned */
    size_t plen, used;
    bool failed;
};

/* Exactly n bytes from the blob reader. */
static int read_exact(struct mc_vault_download *d, uint8_t *out, size_t n) {
    size_t got = 0;
    while (got < n) {
        size_t k;
        int rc = mc_blob_reader_read(d->r, out + got, n - got, &k);
        if (rc) return rc;
        if (k == 0) return mc_err_set(MC_ERR_TAMPERED, "stored ciphertext is shorter than its anchor");
        got += k;
    }
    d->left -= n;
    return 0;
}

/* A stored copy found bad: logged, and a good one asked of a peer. */
static int bad_copy(struct mc_vault_download *d, int rc) {
    d->failed = true;
    if (rc != MC_ERR_TAMPERED && rc != MC_ERR_NOT_FOUND && rc != MC_ERR_CRYPTO) return rc;
    char why[200];
    snprintf(why, sizeof why, "%s", mc_err_detail());
    mc_log_warn("vault", "attachment %s v%u: %s", d->id, d->version, why);
    int code = rc == MC_ERR_NOT_FOUND ? MC_ERR_NOT_FOUND : MC_ERR_TAMPERED;
    if (mc_node_request_blob(d->v->node, d->id, d->version, &d->ciphertext) == 0)
        return mc_err_set(code, "%s; a good copy is being fetched from a peer (retry shortly)", why);
    return mc_err_set(code, "%s; a good copy cannot be fetched (%s)", why, mc_err_detail());
}

int mc_vault_download_open(struct mc_vault *v, struct mc_vault_download **out, const char *id, uint32_t version,
                           const mc_hash *ciphertext, uint32_t size, const uint8_t *sealed, bool grant_key,
                           char content_type[MC_ATTACHMENT_TYPE_MAX + 1], uint64_t *plain_size) {
    *out = NULL;
    if (!sealed)
        return mc_err_set(MC_ERR_MISDIRECTED, "this node holds no key for the record (authored "
                                              "elsewhere, not granted to it)");
    if (mc_stream_plain_size(size, plain_size))
        return mc_err_set(MC_ERR_TAMPERED, "the anchored size is not an attachment's");
    struct mc_vault_download *d = calloc(1, sizeof *d);
    if (!d) return MC_ERR_NOMEM;
    d->v = v;
    snprintf(d->id, sizeof d->id, "%s", id);
    d->version = version;
    d->ciphertext = *ciphertext;
    d->adn = mc_record_ad(d->ad, id, version);
    uint64_t stored;
    int rc = mc_blob_reader_open(mc_node_blobs(v->node), &d->r, ciphertext, true, &stored);
    if (!rc && stored != size) rc = mc_err_set(MC_ERR_TAMPERED, "stored ciphertext is not its anchored size");
    if (rc) {
        rc = bad_copy(d, rc);
        mc_vault_download_close(d);
        return rc;
    }
    d->left = size;
    uint8_t key[MC_DATAKEY_BYTES], batch[MC_DATAKEY_BYTES];
    rc = mc_envelope_open_key(grant_key ? key : batch, sealed, v->kp);
    if (!rc && !grant_key) mc_record_data_key(key, batch, id, version);
    uint8_t header[MC_STREAM_HEADER_BYTES], meta[MC_STREAM_META_BYTES];
    if (!rc && (rc = read_exact(d, header, sizeof header))) rc = bad_copy(d, rc);
    if (!rc && (rc = mc_stream_pull_init(&d->st, header, key))) rc = bad_copy(d, rc);
    if (!rc && (rc = read_exact(d, d->ct, sizeof meta + MC_STREAM_ABYTES))) rc = bad_copy(d, rc);
    if (!rc && (rc = mc_stream_pull(&d->st, meta, d->ct, sizeof meta + MC_STREAM_ABYTES, d->ad, d->adn, false)))
        rc = bad_copy(d, rc);
    if (!rc && (rc = mc_stream_meta_decode(content_type, meta))) rc = bad_copy(d, MC_ERR_TAMPERED);
    sodium_memzero(key, sizeof key);
    sodium_memzero(batch, sizeof batch);
    if (rc) {
        mc_vault_download_close(d);
        return rc;
    }
    *out = d;
    return 0;
}

int mc_vault_download_read(struct mc_vault_download *d, uint8_t *out, size_t cap, size_t *n) {
    *n = 0;
    if (d->failed) return mc_err_set(MC_ERR_TAMPERED, "the attachment failed its checks");
    if (d->used == d->plen) {
        if (d->left == 0) return 0;
        size_t k = d->left > MC_STREAM_MSG_BYTES ? MC_STREAM_MSG_BYTES : (size_t)d->left;
        bool final = k == d->left;
        int rc = read_exact(d, d->ct, k);
        if (!rc) rc = mc_stream_pull(&d->st, d->plain, d->ct, k, d->ad, d->adn, final);
        if (rc) return bad_copy(d, rc == MC_ERR_CRYPTO ? mc_err_set(MC_ERR_TAMPERED, "%s", mc_err_detail()) : rc);
        if (final) {
            /* the hash is checked once the reader passed the end */
            size_t z;
            uint8_t extra;
            if ((rc = mc_blob_reader_read(d->r, &extra, 1, &z)) || z) {
                sodium_memzero(d->plain, sizeof d->plain);
                return bad_copy(d, rc ? rc : mc_err_set(MC_ERR_TAMPERED, "stored ciphertext is longer than its anchor"));
            }
        }
        d->plen = k - MC_STREAM_ABYTES;
        d->used = 0;
        if (d->plen == 0) return 0;
    }
    size_t k = d->plen - d->used < cap ? d->plen - d->used : cap;
    memcpy(out, d->plain + d->used, k);
    d->used += k;
    *n = k;
    return 0;
}

void mc_vault_download_close(struct mc_vault_download *d) {
    if (!d) return;
    mc_blob_reader_close(d->r);
    mc_stream_wipe(&d->st);
    sodium_memzero(d, sizeof *d);
    free(d);
}
