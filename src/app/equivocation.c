/* Evidence of equivocation on the ledger (record layout in equivocation.h). */
#include "app/equivocation.h"

#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/governance.h"
#include "consensus/evidence.h"

int mc_equivocation_execute(struct mc_exec *ex) {
    if (ex->sender.role != MC_ROLE_NODE)
        return mc_err_set(MC_ERR_FORBIDDEN, "only a consortium node records evidence");
    struct mc_evidence e;
    if (mc_evidence_decode(&e, ex->tx->payload, ex->tx->payload_len))
        return mc_err_set(MC_ERR_MALFORMED, "evidence does not decode");
    /* Judged against the validator set of the votes' own height. */
    if (e.a.height > ex->height)
        return mc_err_set(MC_ERR_INVALID, "evidence is for height %llu, after this block",
                          (unsigned long long)e.a.height);
    struct mc_gov_valset *vs = malloc(sizeof *vs);
    if (!vs) return MC_ERR_NOMEM;
    int vrc = mc_governance_valset_at(ex->st, ex->genesis, e.a.height, vs);
    if (vrc) {
        free(vs);
        return vrc;
    }
    if (mc_evidence_verify(&e, &vs->vs, ex->chain_id)) {
        free(vs);
        return mc_err_set(MC_ERR_INVALID, "evidence does not verify: %s", mc_err_detail());
    }
    mc_pubkey offender = vs->vs.v[e.a.validator].pk;
    free(vs);
    uint8_t key[3 + 32];
    memcpy(key, "ev/", 3);
    mc_sha256((mc_hash *)(key + 3), ex->tx->payload, ex->tx->payload_len);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    int have = mc_state_get(ex->st, key, sizeof key, &v);
    mc_buf_reset(&v);
    int rc;
    if (have == 0) {
        rc = mc_err_set(MC_ERR_EXISTS, "this evidence is already recorded");
    } else if (have != MC_ERR_NOT_FOUND) {
        rc = have;
    } else {
        mc_enc_u16(&v, e.a.validator);
        mc_enc_fixed(&v, offender.b, 32);
        mc_enc_u64(&v, e.a.height);
        mc_enc_u32(&v, e.a.round);
        mc_enc_u8(&v, e.a.type);
        mc_enc_fixed(&v, ex->sender.key.b, 32);
        mc_enc_u64(&v, ex->height);
        rc = v.err ? v.err : mc_state_put(ex->st, key, sizeof key, v.data, v.len);
    }
    mc_buf_deinit(&v);
    return rc;
}

struct list_ctx {
    int (*fn)(void *, const struct mc_equivocation_record *);
    void *ctx;
};

static int on_row(void *ctx, const uint8_t *k, size_t kn, const uint8_t *val, size_t vn) {
    struct list_ctx *l = ctx;
    struct mc_equivocation_record r;
    struct mc_dec d;
    mc_dec_init(&d, val, vn);
    r.validator = mc_dec_u16(&d);
    mc_dec_fixed(&d, r.validator_key.b, 32);
    r.height = mc_dec_u64(&d);
    r.round = mc_dec_u32(&d);
    r.type = mc_dec_u8(&d);
    mc_dec_fixed(&d, r.reporter.b, 32);
    r.recorded_height = mc_dec_u64(&d);
    if (mc_dec_finish(&d)) return 0;
    return l->fn(l->ctx, &r) != 0;
}

int mc_equivocation_list(struct mc_state *st, int (*fn)(void *, const struct mc_equivocation_record *),
                     void *ctx) {
    struct list_ctx l = {fn, ctx};
    return mc_state_scan(st, "ev/", 3, on_row, &l);
}
