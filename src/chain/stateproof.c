/* State proofs: hash rules, canonical form, verifier (see stateproof.h). */
#include "chain/stateproof.h"

#include <string.h>

void mc_smt_leaf_hash(mc_hash *out, const mc_hash *key_hash, const mc_hash *value_hash) {
    uint8_t buf[1 + 2 * MC_HASH_BYTES];
    buf[0] = 0x00;
    memcpy(buf + 1, key_hash->b, MC_HASH_BYTES);
    memcpy(buf + 1 + MC_HASH_BYTES, value_hash->b, MC_HASH_BYTES);
    mc_sha256(out, buf, sizeof buf);
}

void mc_smt_node_hash(mc_hash *out, const mc_hash *left, const mc_hash *right) {
    uint8_t buf[1 + 2 * MC_HASH_BYTES];
    buf[0] = 0x01;
    memcpy(buf + 1, left->b, MC_HASH_BYTES);
    memcpy(buf + 1 + MC_HASH_BYTES, right->b, MC_HASH_BYTES);
    mc_sha256(out, buf, sizeof buf);
}

bool mc_smt_hash_is_empty(const mc_hash *h) {
    static const uint8_t zero[MC_HASH_BYTES];
    return memcmp(h->b, zero, MC_HASH_BYTES) == 0;
}

void mc_stateproof_encode(struct mc_buf *b, const struct mc_stateproof *p) {
    mc_enc_u16(b, p->depth);
    for (unsigned i = 0; i < p->depth && i < MC_SMT_DEPTH; i++) mc_enc_fixed(b, p->sib[i].b, 32);
    mc_enc_u8(b, p->leaf ? 1 : 0);
    if (p->leaf) {
        mc_enc_fixed(b, p->leaf_key.b, 32);
        mc_enc_fixed(b, p->leaf_value.b, 32);
    }
}

int mc_stateproof_decode(struct mc_stateproof *p, const void *data, size_t len) {
    memset(p, 0, sizeof *p);
    struct mc_dec d;
    mc_dec_init(&d, data, len);
    uint16_t depth = mc_dec_u16(&d);
    if (depth > MC_SMT_DEPTH) return mc_err_set(MC_ERR_INVALID, "state proof deeper than %d", MC_SMT_DEPTH);
    p->depth = depth;
    for (unsigned i = 0; i < depth; i++) mc_dec_fixed(&d, p->sib[i].b, 32);
    uint8_t end = mc_dec_u8(&d);
    if (end > 1) return mc_err_set(MC_ERR_INVALID, "state proof ends in an unknown kind %u", end);
    p->leaf = end == 1;
    if (p->leaf) {
        mc_dec_fixed(&d, p->leaf_key.b, 32);
        mc_dec_fixed(&d, p->leaf_value.b, 32);
    }
    int rc = mc_dec_finish(&d);
    if (rc) return mc_err_set(rc, "state proof does not decode");
    return 0;
}

int mc_stateproof_root(const struct mc_stateproof *p, const mc_hash *kh, mc_hash *root) {
    if (p->depth > MC_SMT_DEPTH) return mc_err_set(MC_ERR_INVALID, "state proof too deep");
    mc_hash h;
    memset(&h, 0, sizeof h);
    if (p->leaf) {
        /* The leaf found must sit on kh's path: it shares the first depth
         * bits, else it proves nothing about kh. */
        for (unsigned i = 0; i < p->depth; i++)
            if (mc_smt_bit(&p->leaf_key, i) != mc_smt_bit(kh, i))
                return mc_err_set(MC_ERR_INVALID, "the proof's leaf is off the key's path at bit %u", i);
        mc_smt_leaf_hash(&h, &p->leaf_key, &p->leaf_value);
    }
    for (unsigned i = p->depth; i-- > 0;) {
        if (mc_smt_bit(kh, i)) mc_smt_node_hash(&h, &p->sib[i], &h);
        else mc_smt_node_hash(&h, &h, &p->sib[i]);
    }
    *root = h;
    return 0;
}

int mc_stateproof_verify(const struct mc_stateproof *p, const mc_hash *root, const void *key,
                         size_t key_len, const void *value, size_t value_len) {
    mc_hash kh;
    mc_sha256(&kh, key, key_len);
    bool own = p->leaf && memcmp(p->leaf_key.b, kh.b, 32) == 0;
    if (value && !own) return mc_err_set(MC_ERR_INVALID, "the proof shows the key absent");
    if (!value && own) return mc_err_set(MC_ERR_INVALID, "the proof shows the key present");
    if (value) {
        mc_hash vh;
        mc_sha256(&vh, value, value_len);
        if (memcmp(vh.b, p->leaf_value.b, 32) != 0)
            return mc_err_set(MC_ERR_TAMPERED, "the row's value does not hash to the proof's leaf");
    }
    mc_hash got;
    int rc = mc_stateproof_root(p, &kh, &got);
    if (rc) return rc;
    if (memcmp(got.b, root->b, 32) != 0)
        return mc_err_set(MC_ERR_TAMPERED, "the state proof does not lead to the header's state root");
    return 0;
}
