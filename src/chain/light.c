/* The light client's checks (see light.h). */
#include "chain/light.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/commit.h"
#include "chain/stateproof.h"
#include "crypto/merkle.h"

int mc_light_init(struct mc_light *lc, const char *chain_id, const mc_hash *genesis_hash,
                  const struct mc_valset *vs) {
    memset(lc, 0, sizeof *lc);
    if (!chain_id || strlen(chain_id) > MC_CHAIN_ID_MAX)
        return mc_err_set(MC_ERR_INVALID, "chain id too long");
    if (vs->count == 0 || vs->total_power == 0)
        return mc_err_set(MC_ERR_INVALID, "the trusted validator set is empty");
    snprintf(lc->chain_id, sizeof lc->chain_id, "%s", chain_id);
    lc->genesis_hash = *genesis_hash;
    lc->sets[0].from = 1;
    lc->sets[0].vs = *vs;
    lc->count = 1;
    return 0;
}

const struct mc_valset *mc_light_valset_at(const struct mc_light *lc, uint64_t height) {
    uint32_t i = lc->count;
    while (i > 1 && lc->sets[i - 1].from > height) i--;
    return &lc->sets[i - 1].vs;
}

void mc_light_valset_key(uint8_t out[MC_LIGHT_VALSET_KEY_BYTES], uint64_t from) {
    memcpy(out, "g/vh/", 5);
    for (int i = 0; i < 8; i++) out[5 + i] = (uint8_t)(from >> (56 - 8 * i));
}

int mc_light_add_valset(struct mc_light *lc, const struct mc_header *h, const uint8_t *row,
                        size_t row_len, const uint8_t *proof, size_t proof_len) {
    struct mc_dec d;
    mc_dec_init(&d, row, row_len);
    uint64_t from = mc_dec_u64(&d);
    size_t vl = 0;
    const uint8_t *vb = mc_dec_bytes32(&d, &vl, MC_VALSET_BYTES_MAX);
    if (d.err || !vb) return mc_err_set(MC_ERR_MALFORMED, "the validator set row does not decode");
    if (lc->count >= MC_LIGHT_VALSETS_MAX)
        return mc_err_set(MC_ERR_INVALID, "more than %d validator set changes: start from a newer trusted point",
                          MC_LIGHT_VALSETS_MAX);
    if (from <= lc->sets[lc->count - 1].from)
        return mc_err_set(MC_ERR_INVALID, "validator set from height %llu is not after the last one held",
                          (unsigned long long)from);
    if (h->height >= from)
        return mc_err_set(MC_ERR_INVALID, "the set from %llu must be proven at a header before it, not %llu",
                          (unsigned long long)from, (unsigned long long)h->height);
    uint8_t key[MC_LIGHT_VALSET_KEY_BYTES];
    mc_light_valset_key(key, from);
    int rc = mc_light_check_state(h, key, sizeof key, row, row_len, proof, proof_len);
    if (rc) return rc;
    struct mc_light_valset *n = &lc->sets[lc->count];
    if (mc_valset_decode(&n->vs, vb, vl) || n->vs.count == 0)
        return mc_err_set(MC_ERR_MALFORMED, "the validator set in the row does not decode");
    n->from = from;
    lc->count++;
    return 0;
}

int mc_light_check_header(const struct mc_light *lc, const uint8_t *header, size_t header_len,
                          const uint8_t *commit, size_t commit_len, struct mc_header *out,
                          mc_hash *hash) {
    if (mc_header_decode(out, header, header_len))
        return mc_err_set(MC_ERR_MALFORMED, "the header does not decode");
    mc_sha256(hash, header, header_len);
    if (strcmp(out->chain_id, lc->chain_id) != 0)
        return mc_err_set(MC_ERR_WRONG_CHAIN, "the header is of chain '%s', not '%s'", out->chain_id,
                          lc->chain_id);
    if (out->height == 0) return mc_err_set(MC_ERR_INVALID, "a header has height 1 or more");
    if (out->height == 1 && memcmp(out->prev.b, lc->genesis_hash.b, 32) != 0)
        return mc_err_set(MC_ERR_INVALID, "header 1 does not follow the trusted genesis");
    const struct mc_valset *vs = mc_light_valset_at(lc, out->height);
    mc_hash vh;
    mc_valset_hash(vs, &vh);
    if (memcmp(vh.b, out->valset_hash.b, 32) != 0)
        return mc_err_set(MC_ERR_INVALID, "header %llu names a validator set other than the trusted one",
                          (unsigned long long)out->height);
    struct mc_commit *c = malloc(sizeof *c);
    if (!c) return MC_ERR_NOMEM;
    int rc = mc_commit_decode(c, commit, commit_len);
    if (rc) rc = mc_err_set(MC_ERR_MALFORMED, "the certificate does not decode");
    /* mc_commit_verify checks every signature, not just enough of them:
     * one bad signature refuses the certificate. */
    if (!rc) rc = mc_commit_verify(c, vs, lc->chain_id, out->height, hash);
    if (rc && rc != MC_ERR_MALFORMED && rc != MC_ERR_NOMEM) {
        char why[200];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        rc = mc_err_set(rc, "the certificate of header %llu does not hold: %s",
                        (unsigned long long)out->height, why);
    }
    free(c);
    return rc;
}

int mc_light_check_state(const struct mc_header *h, const void *key, size_t key_len,
                         const void *value, size_t value_len, const uint8_t *proof,
                         size_t proof_len) {
    struct mc_stateproof *p = malloc(sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    int rc = mc_stateproof_decode(p, proof, proof_len);
    if (!rc) rc = mc_stateproof_verify(p, &h->state_hash, key, key_len, value, value_len);
    free(p);
    return rc;
}

int mc_light_check_tx(const struct mc_header *h, const uint8_t *tx, size_t tx_len, uint64_t index,
                      const mc_hash *path, size_t path_len) {
    mc_hash leaf;
    mc_merkle_leaf_hash(&leaf, tx, tx_len);
    if (index >= h->log_size)
        return mc_err_set(MC_ERR_INVALID, "log index %llu is outside header %llu's log of %llu",
                          (unsigned long long)index, (unsigned long long)h->height,
                          (unsigned long long)h->log_size);
    if (mc_merkle_verify_inclusion(&leaf, index, h->log_size, path, path_len, &h->log_root))
        return mc_err_set(MC_ERR_TAMPERED, "the audit path does not lead to header %llu's log root",
                          (unsigned long long)h->height);
    return 0;
}

int mc_light_check_consistency(const struct mc_header *a, const struct mc_header *b,
                               const mc_hash *path, size_t path_len) {
    if (a->log_size > b->log_size)
        return mc_err_set(MC_ERR_INVALID, "the first header's log is the larger");
    if (mc_merkle_verify_consistency(a->log_size, b->log_size, &a->log_root, &b->log_root, path,
                                     path_len))
        return mc_err_set(MC_ERR_TAMPERED, "the logs of headers %llu and %llu are not consistent",
                          (unsigned long long)a->height, (unsigned long long)b->height);
    return 0;
}
