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
    lc->set_count = 1;
    return 0;
}

const struct mc_valset *mc_light_valset_at(const struct mc_light *lc, uint64_t height) {
    for (uint32_t i = lc->set_count; i-- > 1;)
        if (lc->sets[i].from <= height) return &lc->sets[i].vs;
    return &lc->sets[0].vs;
}

int mc_light_adopt_valset(struct mc_light *lc, const uint8_t *header, size_t header_len,
                          const uint8_t *commit, size_t commit_len, const struct mc_valset *vs) {
    struct mc_header h;
    mc_hash hash;
    if (mc_header_decode(&h, header, header_len))
        return mc_err_set(MC_ERR_MALFORMED, "the header does not decode");
    mc_sha256(&hash, header, header_len);
    if (strcmp(h.chain_id, lc->chain_id) != 0)
        return mc_err_set(MC_ERR_WRONG_CHAIN, "the header is of chain '%s', not '%s'", h.chain_id, lc->chain_id);
    if (h.height <= lc->sets[lc->set_count - 1].from)
        return mc_err_set(MC_ERR_INVALID, "sets are adopted in height order (the latest is from %llu)",
                          (unsigned long long)lc->sets[lc->set_count - 1].from);
    if (vs->count == 0 || vs->total_power == 0) return mc_err_set(MC_ERR_INVALID, "the set is empty");
    mc_hash vh;
    mc_valset_hash(vs, &vh);
    if (memcmp(vh.b, h.valset_hash.b, 32) != 0)
        return mc_err_set(MC_ERR_INVALID, "the set offered is not the one header %llu names",
                          (unsigned long long)h.height);
    struct mc_commit *c = malloc(sizeof *c);
    if (!c) return MC_ERR_NOMEM;
    int rc = mc_commit_decode(c, commit, commit_len);
    if (rc) rc = mc_err_set(MC_ERR_MALFORMED, "the certificate does not decode");
    if (!rc && mc_commit_verify(c, vs, lc->chain_id, h.height, &hash)) {
        char why[200];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        rc = mc_err_set(MC_ERR_INVALID, "the certificate of header %llu does not hold under the set offered: %s",
                        (unsigned long long)h.height, why);
    }
    const struct mc_valset *trusted = mc_light_valset_at(lc, h.height);
    uint64_t vouch = 0;
    for (uint32_t i = 0; !rc && i < c->count; i++) {
        int j = mc_valset_find(trusted, &vs->v[c->sigs[i].validator].pk);
        if (j >= 0) vouch += trusted->v[j].power;
    }
    /* both totals are bounded far below 2^62 */
    if (!rc && vouch * 3 <= trusted->total_power)
        rc = mc_err_set(MC_ERR_INVALID, "validators the client trusts signed header %llu with %llu of their %llu "
                                        "power, not more than 1/3",
                        (unsigned long long)h.height, (unsigned long long)vouch,
                        (unsigned long long)trusted->total_power);
    free(c);
    if (rc) return rc;
    if (lc->set_count == MC_LIGHT_SETS_MAX) {
        memmove(&lc->sets[1], &lc->sets[2], (MC_LIGHT_SETS_MAX - 2) * sizeof lc->sets[0]);
        lc->set_count--;
    }
    lc->sets[lc->set_count].from = h.height;
    lc->sets[lc->set_count].vs = *vs;
    lc->set_count++;
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
