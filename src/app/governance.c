/* Consortium governance: proposals, votes, their effect at the activation
 * height, and the validator set of every height (rules and state layout in
 * governance.h). */
#include "app/governance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/row.h"
#include "app/txtypes.h"
#include "base/assert.h"
#include "consensus/consensus.h"

const char *mc_gov_status_name(const struct mc_gov_proposal *p, uint64_t height) {
    switch (p->status) {
    case MC_GOV_OPEN: return height > p->deadline ? "expired" : "open";
    case MC_GOV_PASSED: return "passed";
    case MC_GOV_APPLIED: return "applied";
    case MC_GOV_FAILED: return "failed";
    default: return "unknown";
    }
}

const char *mc_org_status_name(uint8_t status) {
    switch (status) {
    case MC_ORG_ACTIVE: return "active";
    case MC_ORG_SUSPENDED: return "suspended";
    case MC_ORG_REMOVED: return "removed";
    default: return "unknown";
    }
}

/* A failure of the store (not of the rules): it aborts the block. */
static bool fatal(int rc) {
    return rc == MC_ERR_DB || rc == MC_ERR_IO || rc == MC_ERR_NOMEM || rc == MC_ERR_TAMPERED;
}

/* ---- validator set rows ---- */

static void valset_row_encode(struct mc_buf *b, const struct mc_gov_valset *s) {
    struct mc_buf vb;
    mc_buf_init(&vb, 0);
    mc_valset_encode(&vb, &s->vs);
    mc_enc_u64(b, s->from);
    mc_enc_bytes32(b, vb.data, vb.len);
    mc_enc_u16(b, (uint16_t)s->vs.count);
    for (uint32_t i = 0; i < s->vs.count; i++) mc_enc_u32(b, s->org[i]);
    if (vb.err) b->err = vb.err;
    mc_buf_deinit(&vb);
}

static int valset_row_decode(struct mc_gov_valset *s, const uint8_t *p, size_t n) {
    memset(s, 0, sizeof *s);
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    s->from = mc_dec_u64(&d);
    size_t vl;
    const uint8_t *v = mc_dec_bytes32(&d, &vl, MC_STATE_VALUE_MAX);
    uint16_t count = mc_dec_u16(&d);
    if (!d.err && (mc_valset_decode(&s->vs, v, vl) || count != s->vs.count))
        mc_dec_fail(&d, MC_ERR_MALFORMED);
    for (uint32_t i = 0; i < count && !d.err; i++) s->org[i] = mc_dec_u32(&d);
    return mc_dec_finish(&d) ? mc_err_set(MC_ERR_TAMPERED, "validator set row does not decode") : 0;
}

static void valset_genesis(const struct mc_genesis *g, struct mc_gov_valset *out) {
    memset(out, 0, sizeof *out);
    out->from = 1;
    out->vs = g->valset;
    memcpy(out->org, g->validator_org, sizeof out->org);
}

struct at_ctx {
    uint64_t height;
    struct mc_buf row;
    bool found;
};

static int at_fn(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    struct at_ctx *a = ctx;
    if (klen != 5 + 8) return mc_err_set(MC_ERR_TAMPERED, "validator set history key is malformed");
    uint64_t from = 0;
    for (int i = 0; i < 8; i++) from = from << 8 | key[5 + i];
    if (from > a->height) return 1; /* rows are in height order */
    a->row.len = 0;
    mc_buf_append(&a->row, val, vlen);
    a->found = true;
    return a->row.err;
}

int mc_governance_valset_at(struct mc_state *st, const struct mc_genesis *g, uint64_t height,
                            struct mc_gov_valset *out) {
    struct at_ctx a = {.height = height};
    mc_buf_init(&a.row, 0);
    int rc = mc_state_scan(st, "g/vh/", 5, at_fn, &a);
    if (!rc && a.found) rc = valset_row_decode(out, a.row.data, a.row.len);
    else if (!rc) valset_genesis(g, out);
    mc_buf_deinit(&a.row);
    return rc;
}

int mc_governance_valset_latest(struct mc_state *st, const struct mc_genesis *g,
                                struct mc_gov_valset *out) {
    struct mc_key k;
    mc_key_init(&k, "g/vs");
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc == MC_ERR_NOT_FOUND) {
        valset_genesis(g, out);
        return 0;
    }
    if (rc) return rc;
    rc = valset_row_decode(out, v.data, v.len);
    mc_buf_deinit(&v);
    return rc;
}

static int valset_put(struct mc_state *st, const struct mc_gov_valset *s) {
    struct mc_buf v;
    mc_buf_init(&v, 0);
    valset_row_encode(&v, s);
    struct mc_key k;
    mc_key_init(&k, "g/vs");
    struct mc_buf v2;
    mc_buf_init(&v2, 0);
    mc_buf_append(&v2, v.data, v.len);
    int rc = mc_row_put(st, &k, &v2);
    mc_key_init(&k, "g/vh/");
    mc_key_u64(&k, s->from);
    if (!rc) rc = mc_row_put(st, &k, &v);
    else mc_buf_deinit(&v);
    return rc;
}

/* The power a change takes away and adds, from old to new. */
static void power_moved(const struct mc_valset *old, const struct mc_valset *new_set,
                        uint64_t *removed, uint64_t *added) {
    *removed = *added = 0;
    for (uint32_t i = 0; i < old->count; i++) {
        int j = mc_valset_find(new_set, &old->v[i].pk);
        uint64_t now = j < 0 ? 0 : new_set->v[j].power;
        if (now < old->v[i].power) *removed += old->v[i].power - now;
    }
    for (uint32_t i = 0; i < new_set->count; i++) {
        int j = mc_valset_find(old, &new_set->v[i].pk);
        uint64_t was = j < 0 ? 0 : old->v[j].power;
        if (new_set->v[i].power > was) *added += new_set->v[i].power - was;
    }
}

static int check_power_rule(const struct mc_valset *old, const struct mc_valset *new_set) {
    if (new_set->count == 0)
        return mc_err_set(MC_ERR_INVALID, "the change would leave no validator");
    if (new_set->total_power > MC_CONSENSUS_POWER_MAX)
        return mc_err_set(MC_ERR_INVALID, "the change would raise the total power past %llu",
                          (unsigned long long)MC_CONSENSUS_POWER_MAX);
    uint64_t removed, added;
    power_moved(old, new_set, &removed, &added);
    /* total_power is bounded by MC_CONSENSUS_POWER_MAX (2^60): no overflow. */
    if (removed * 3 >= old->total_power || added * 3 >= old->total_power)
        return mc_err_set(MC_ERR_INVALID,
                          "the change moves 1/3 or more of the voting power at once (%llu removed, "
                          "%llu added, of %llu); split it into smaller changes",
                          (unsigned long long)removed, (unsigned long long)added,
                          (unsigned long long)old->total_power);
    return 0;
}

/* The set a change at `height` builds on (the latest decided) and the one
 * the power rule compares with: the set in force just before the new one,
 * so that several changes taking effect together are judged as one. */
static int valset_bases(struct mc_state *st, const struct mc_genesis *g, uint64_t height,
                        struct mc_gov_valset *latest, struct mc_gov_valset *before) {
    int rc = mc_governance_valset_latest(st, g, latest);
    if (rc) return rc;
    uint64_t from = height + MC_GOV_VALSET_LEAD;
    if (latest->from == from) return mc_governance_valset_at(st, g, from - 1, before);
    *before = *latest;
    return 0;
}

static void valset_remove_at(struct mc_gov_valset *s, uint32_t i) {
    s->vs.total_power -= s->vs.v[i].power;
    memmove(&s->vs.v[i], &s->vs.v[i + 1], (s->vs.count - i - 1) * sizeof s->vs.v[0]);
    memmove(&s->org[i], &s->org[i + 1], (s->vs.count - i - 1) * sizeof s->org[0]);
    s->vs.count--;
}

/* ---- organisations ---- */

static int orgs_row(struct mc_state *st, const struct mc_genesis *g, uint32_t *active,
                    uint32_t *next_id) {
    struct mc_key k;
    mc_key_init(&k, "g/orgs");
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc == MC_ERR_NOT_FOUND) {
        *active = g->org_count;
        *next_id = 1;
        for (uint32_t i = 0; i < g->org_count; i++)
            if (g->orgs[i].id >= *next_id) *next_id = g->orgs[i].id + 1;
        return 0;
    }
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    *active = mc_dec_u32(&d);
    *next_id = mc_dec_u32(&d);
    return mc_row_finish(&d, &v, "organisation count");
}

static int orgs_row_put(struct mc_state *st, uint32_t active, uint32_t next_id) {
    struct mc_key k;
    mc_key_init(&k, "g/orgs");
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u32(&v, active);
    mc_enc_u32(&v, next_id);
    return mc_row_put(st, &k, &v);
}

int mc_governance_active_orgs(struct mc_state *st, const struct mc_genesis *g, uint32_t *count) {
    uint32_t next;
    return orgs_row(st, g, count, &next);
}

int mc_governance_org_status(struct mc_state *st, uint32_t org, uint8_t *status, uint64_t *since) {
    struct mc_org o;
    int rc = mc_identity_get_org(st, org, &o);
    if (rc) return rc;
    struct mc_key k;
    mc_key_init(&k, "g/o/");
    mc_key_u32(&k, org);
    struct mc_buf v;
    rc = mc_row_get(st, &k, &v);
    if (rc == MC_ERR_NOT_FOUND) {
        *status = MC_ORG_ACTIVE;
        if (since) *since = 0;
        return 0;
    }
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    *status = mc_dec_u8(&d);
    uint64_t s = mc_dec_u64(&d);
    if (since) *since = s;
    return mc_row_finish(&d, &v, "organisation status");
}

static int org_status_put(struct mc_state *st, uint32_t org, uint8_t status, uint64_t since) {
    struct mc_key k;
    mc_key_init(&k, "g/o/");
    mc_key_u32(&k, org);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u8(&v, status);
    mc_enc_u64(&v, since);
    return mc_row_put(st, &k, &v);
}

int mc_governance_org_standing(struct mc_state *st, uint32_t org, uint8_t *status) {
    struct mc_key k;
    mc_key_init(&k, "g/o/");
    mc_key_u32(&k, org);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc == MC_ERR_NOT_FOUND) {
        *status = MC_ORG_ACTIVE;
        return 0;
    }
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    *status = mc_dec_u8(&d);
    (void)mc_dec_u64(&d);
    return mc_row_finish(&d, &v, "organisation status");
}

bool mc_governance_node_active(struct mc_state *st, const mc_pubkey *key) {
    struct mc_account a;
    uint8_t status;
    return mc_identity_get_account(st, key, &a) == 0 && a.role == MC_ROLE_NODE &&
           a.status == MC_ACCOUNT_ACTIVE && mc_governance_org_status(st, a.org, &status, NULL) == 0 &&
           status == MC_ORG_ACTIVE;
}

/* ---- parameters ---- */

void mc_governance_param_bounds(uint8_t param, uint64_t *def, uint64_t *min, uint64_t *max) {
    switch (param) {
    case MC_GOV_PARAM_BLOCK_TXS: *def = *max = MC_BLOCK_TXS_MAX, *min = 1; break;
    case MC_GOV_PARAM_BLOCK_BYTES:
        *def = *max = MC_BLOCK_BYTES_MAX - MC_BLOCK_BODY_RESERVE_BYTES;
        *min = MC_TX_MAX + 4;
        break;
    case MC_GOV_PARAM_TX_BYTES: *def = *max = MC_TX_MAX, *min = MC_GOV_TX_BYTES_MIN; break;
    case MC_GOV_PARAM_TIMEOUT_PROPOSE:
    case MC_GOV_PARAM_TIMEOUT_PREVOTE:
    case MC_GOV_PARAM_TIMEOUT_PRECOMMIT:
        /* 0: the node's own configuration. */
        *def = 0, *min = MC_GOV_TIMEOUT_MS_MIN, *max = MC_GOV_TIMEOUT_MS_MAX;
        break;
    default: *def = *min = *max = 0;
    }
}

int mc_governance_param(struct mc_state *st, uint8_t param, uint64_t *value) {
    uint64_t def, min, max;
    mc_governance_param_bounds(param, &def, &min, &max);
    if (max == 0) return mc_err_set(MC_ERR_INVALID, "unknown ledger parameter %u", param);
    struct mc_key k;
    mc_key_init(&k, "g/pa/");
    mc_key_u8(&k, param);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc == MC_ERR_NOT_FOUND) {
        *value = def;
        return 0;
    }
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    *value = mc_dec_u64(&d);
    return mc_row_finish(&d, &v, "ledger parameter");
}

/* ---- versions and upgrades ---- */

bool mc_governance_version_parse(const char *s, uint64_t v[3]) {
    for (int part = 0; part < 3; part++) {
        int digits = 0;
        v[part] = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 9 || (digits == 2 && v[part] == 0)) return false;
            v[part] = v[part] * 10 + (uint64_t)(*s++ - '0');
        }
        if (digits == 0) return false;
        if (part < 2 && *s++ != '.') return false;
    }
    return *s == 0;
}

int mc_governance_version_cmp(const uint64_t a[3], const uint64_t b[3]) {
    for (int i = 0; i < 3; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

struct up_ctx {
    uint64_t height;
    uint64_t mine[3];
    uint64_t best[3];
    bool found;
    char name[MC_GOV_UPGRADE_NAME_MAX + 1];
    char version[MC_GOV_VERSION_MAX + 1];
    uint64_t plan_height;
};

static int up_fn(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    struct up_ctx *u = ctx;
    if (klen != 5 + 16) return mc_err_set(MC_ERR_TAMPERED, "upgrade plan key is malformed");
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) h = h << 8 | key[5 + i];
    if (h > u->height) return 1;
    struct mc_dec d;
    mc_dec_init(&d, val, vlen);
    char name[MC_GOV_UPGRADE_NAME_MAX + 1], version[MC_GOV_VERSION_MAX + 1];
    mc_dec_str8(&d, name, sizeof name);
    mc_dec_str8(&d, version, sizeof version);
    uint64_t v[3];
    if (mc_dec_finish(&d) || !mc_governance_version_parse(version, v))
        return mc_err_set(MC_ERR_TAMPERED, "upgrade plan row does not decode");
    if (mc_governance_version_cmp(v, u->mine) > 0 &&
        (!u->found || mc_governance_version_cmp(v, u->best) > 0)) {
        u->found = true;
        memcpy(u->best, v, sizeof v);
        memcpy(u->name, name, sizeof name);
        memcpy(u->version, version, sizeof version);
        u->plan_height = h;
    }
    return 0;
}

int mc_governance_upgrade_needed(struct mc_state *st, uint64_t height, const char *mine,
                                 char name[MC_GOV_UPGRADE_NAME_MAX + 1],
                                 char version[MC_GOV_VERSION_MAX + 1], uint64_t *plan_height) {
    struct up_ctx u = {.height = height};
    MC_ASSERT(mc_governance_version_parse(mine, u.mine)); /* our own MC_VERSION */
    int rc = mc_state_scan(st, "g/up/", 5, up_fn, &u);
    if (rc) return rc;
    if (!u.found) return MC_ERR_NOT_FOUND;
    memcpy(name, u.name, sizeof u.name);
    memcpy(version, u.version, sizeof u.version);
    *plan_height = u.plan_height;
    return 0;
}

/* ---- proposals and votes ---- */

static void proposal_key(struct mc_key *k, uint64_t id) {
    mc_key_init(k, "g/p/");
    mc_key_u64(k, id);
}

int mc_governance_get_proposal(struct mc_state *st, uint64_t id, struct mc_gov_proposal *p) {
    struct mc_key k;
    proposal_key(&k, id);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc == MC_ERR_NOT_FOUND ? mc_err_set(rc, "no proposal %llu", (unsigned long long)id) : rc;
    memset(p, 0, sizeof *p);
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    p->id = mc_dec_u64(&d);
    p->org = mc_dec_u32(&d);
    mc_dec_fixed(&d, p->proposer.b, MC_PUBKEY_BYTES);
    p->height = mc_dec_u64(&d);
    p->deadline = mc_dec_u64(&d);
    p->activation = mc_dec_u64(&d);
    p->status = mc_dec_u8(&d);
    p->yes = mc_dec_u32(&d);
    p->no = mc_dec_u32(&d);
    p->electorate = mc_dec_u32(&d);
    p->decided = mc_dec_u64(&d);
    mc_dec_str8(&d, p->note, sizeof p->note);
    (void)mc_gov_change_decode_from(&d, &p->change);
    return mc_row_finish(&d, &v, "proposal");
}

static int proposal_put(struct mc_state *st, const struct mc_gov_proposal *p) {
    struct mc_key k;
    proposal_key(&k, p->id);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u64(&v, p->id);
    mc_enc_u32(&v, p->org);
    mc_enc_fixed(&v, p->proposer.b, MC_PUBKEY_BYTES);
    mc_enc_u64(&v, p->height);
    mc_enc_u64(&v, p->deadline);
    mc_enc_u64(&v, p->activation);
    mc_enc_u8(&v, p->status);
    mc_enc_u32(&v, p->yes);
    mc_enc_u32(&v, p->no);
    mc_enc_u32(&v, p->electorate);
    mc_enc_u64(&v, p->decided);
    mc_enc_str8(&v, p->note);
    mc_gov_change_encode(&v, &p->change);
    return mc_row_put(st, &k, &v);
}

int mc_governance_last_id(struct mc_state *st, uint64_t *last) {
    struct mc_key k;
    mc_key_init(&k, "g/seq");
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc == MC_ERR_NOT_FOUND) {
        *last = 0;
        return 0;
    }
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    *last = mc_dec_u64(&d);
    return mc_row_finish(&d, &v, "proposal sequence");
}

struct votes_ctx {
    struct mc_gov_vote *out;
    uint32_t max, n;
};

static int votes_fn(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    struct votes_ctx *c = ctx;
    if (c->n == c->max) return 1;
    if (klen != 4 + 8 + 4) return mc_err_set(MC_ERR_TAMPERED, "vote key is malformed");
    struct mc_gov_vote *v = &c->out[c->n];
    v->org = (uint32_t)key[12] << 24 | (uint32_t)key[13] << 16 | (uint32_t)key[14] << 8 | key[15];
    struct mc_dec d;
    mc_dec_init(&d, val, vlen);
    v->approve = mc_dec_bool(&d);
    v->height = mc_dec_u64(&d);
    mc_dec_fixed(&d, v->voter.b, MC_PUBKEY_BYTES);
    if (mc_dec_finish(&d)) return mc_err_set(MC_ERR_TAMPERED, "vote row does not decode");
    c->n++;
    return 0;
}

int mc_governance_votes(struct mc_state *st, uint64_t id, struct mc_gov_vote *out, uint32_t max,
                        uint32_t *count) {
    struct mc_key k;
    mc_key_init(&k, "g/v/");
    mc_key_u64(&k, id);
    struct votes_ctx c = {out, max, 0};
    int rc = mc_state_scan(st, k.b, k.n, votes_fn, &c);
    *count = c.n;
    return rc;
}

/* ---- checking and applying a change ---- */

static int key_is_free(struct mc_state *st, const mc_pubkey *pk, const char *what) {
    struct mc_account a;
    int rc = mc_identity_get_account(st, pk, &a);
    if (rc == 0)
        return mc_err_set(MC_ERR_EXISTS, "the %s key already belongs to an account (%s, %s)", what,
                          mc_role_name(a.role), mc_account_status_name(a.status));
    return rc == MC_ERR_NOT_FOUND ? 0 : rc;
}

static int org_must_be(struct mc_state *st, uint32_t org, uint8_t want) {
    uint8_t status;
    int rc = mc_governance_org_status(st, org, &status, NULL);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_NOT_FOUND, "no organisation %u", org);
    if (rc) return rc;
    if (status != want)
        return mc_err_set(MC_ERR_STATE, "organisation %u is %s, not %s", org,
                          mc_org_status_name(status), mc_org_status_name(want));
    return 0;
}

static bool gln_ok(const char *gln) {
    size_t n = strlen(gln);
    if (n != 0 && n != MC_GLN_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (gln[i] < '0' || gln[i] > '9') return false;
    return true;
}

/* The validator set after the change (for the set kinds); *changes says
 * whether the set moves at all. */
static int next_valset(struct mc_state *st, const struct mc_gov_change *c,
                       struct mc_gov_valset *s, bool *changes) {
    *changes = false;
    int i = mc_valset_find(&s->vs, &c->key);
    switch (c->kind) {
    case MC_GOV_ADD_VALIDATOR: {
        if (i >= 0) return mc_err_set(MC_ERR_EXISTS, "the node is already a validator");
        if (c->power == 0) return mc_err_set(MC_ERR_INVALID, "a validator's power must be positive");
        if (c->name[0] == 0) return mc_err_set(MC_ERR_INVALID, "the validator's name is empty");
        struct mc_account a;
        int rc = mc_identity_get_account(st, &c->key, &a);
        if (rc == 0 && (a.role != MC_ROLE_NODE || a.org != c->org || a.status != MC_ACCOUNT_ACTIVE))
            return mc_err_set(MC_ERR_EXISTS, "the key belongs to an account that is not an active node of organisation %u", c->org);
        if (rc && rc != MC_ERR_NOT_FOUND) return rc;
        uint32_t n = s->vs.count;
        rc = mc_valset_add(&s->vs, &c->key, c->power, c->name);
        if (rc == MC_ERR_FULL) return mc_err_set(rc, "the validator set is full (%d)", MC_VALIDATORS_MAX);
        if (rc) return mc_err_set(rc, "the validator cannot be added (power %llu)", (unsigned long long)c->power);
        s->org[n] = c->org;
        break;
    }
    case MC_GOV_REMOVE_VALIDATOR:
        if (i < 0) return mc_err_set(MC_ERR_NOT_FOUND, "the node is not a validator");
        valset_remove_at(s, (uint32_t)i);
        break;
    case MC_GOV_SET_POWER:
        if (i < 0) return mc_err_set(MC_ERR_NOT_FOUND, "the node is not a validator");
        if (c->power == 0) return mc_err_set(MC_ERR_INVALID, "a validator's power must be positive (remove it instead)");
        if (c->power == s->vs.v[i].power) return mc_err_set(MC_ERR_INVALID, "the validator already has power %llu", (unsigned long long)c->power);
        if (c->power > MC_CONSENSUS_POWER_MAX) return mc_err_set(MC_ERR_INVALID, "power %llu is too large", (unsigned long long)c->power);
        s->vs.total_power = s->vs.total_power - s->vs.v[i].power + c->power;
        s->vs.v[i].power = c->power;
        break;
    case MC_GOV_SUSPEND_ORG:
    case MC_GOV_REMOVE_ORG: {
        uint32_t before = s->vs.count;
        for (uint32_t j = s->vs.count; j-- > 0;)
            if (s->org[j] == c->org) valset_remove_at(s, j);
        if (s->vs.count == before) return 0;
        break;
    }
    default: return 0;
    }
    *changes = true;
    return 0;
}

/* Checks the change against the state at `height` and, when apply, makes
 * it (in the transaction overlay). */
static int change_run(struct mc_state *st, const struct mc_genesis *g, uint64_t height,
                      const struct mc_gov_proposal *p, bool apply) {
    const struct mc_gov_change *c = &p->change;
    int rc = 0;
    uint32_t active, next_id;
    if ((rc = orgs_row(st, g, &active, &next_id))) return rc;
    switch (c->kind) {
    case MC_GOV_ADD_ORG: {
        if (c->name[0] == 0) return mc_err_set(MC_ERR_INVALID, "the organisation's name is empty");
        if (c->org_kind < 1 || c->org_kind > MC_ORG_KIND_MAX)
            return mc_err_set(MC_ERR_INVALID, "organisation kind %u is unknown", c->org_kind);
        if (!gln_ok(c->gln)) return mc_err_set(MC_ERR_INVALID, "a GLN is 13 digits (or empty)");
        if ((rc = key_is_free(st, &c->key, "admin"))) return rc;
        if (next_id > MC_ORGS_MAX) return mc_err_set(MC_ERR_FULL, "the ledger holds %d organisations already", MC_ORGS_MAX);
        if (!apply) return 0;
        struct mc_org o = {.id = next_id, .kind = c->org_kind, .admin = c->key};
        snprintf(o.name, sizeof o.name, "%s", c->name);
        snprintf(o.gln, sizeof o.gln, "%s", c->gln);
        struct mc_account a = {.key = c->key, .role = MC_ROLE_ADMIN, .status = MC_ACCOUNT_ACTIVE,
                               .org = o.id, .since_height = height};
        snprintf(a.name, sizeof a.name, "admin of %.110s", o.name);
        if ((rc = mc_identity_put_org(st, &o))) return rc;
        if ((rc = mc_identity_put_account(st, &a))) return rc;
        return orgs_row_put(st, active + 1, next_id + 1);
    }
    case MC_GOV_SUSPEND_ORG:
    case MC_GOV_REMOVE_ORG:
    case MC_GOV_REINSTATE_ORG: {
        uint8_t status;
        rc = mc_governance_org_status(st, c->org, &status, NULL);
        if (rc == MC_ERR_NOT_FOUND) return mc_err_set(rc, "no organisation %u", c->org);
        if (rc) return rc;
        if (c->kind == MC_GOV_REINSTATE_ORG && status != MC_ORG_SUSPENDED)
            return mc_err_set(MC_ERR_STATE, "organisation %u is %s, not suspended", c->org, mc_org_status_name(status));
        if (c->kind == MC_GOV_SUSPEND_ORG && status != MC_ORG_ACTIVE)
            return mc_err_set(MC_ERR_STATE, "organisation %u is %s, not active", c->org, mc_org_status_name(status));
        if (c->kind == MC_GOV_REMOVE_ORG && status == MC_ORG_REMOVED)
            return mc_err_set(MC_ERR_STATE, "organisation %u was removed already", c->org);
        bool was_active = status == MC_ORG_ACTIVE;
        if (c->kind != MC_GOV_REINSTATE_ORG && was_active && active <= 1)
            return mc_err_set(MC_ERR_INVALID, "the last active organisation cannot leave");
        break;
    }
    case MC_GOV_ADD_VALIDATOR:
    case MC_GOV_ADD_NODE:
        if ((rc = org_must_be(st, c->org, MC_ORG_ACTIVE))) return rc;
        if (c->kind == MC_GOV_ADD_NODE) {
            if (c->name[0] == 0) return mc_err_set(MC_ERR_INVALID, "the node's name is empty");
            if ((rc = key_is_free(st, &c->key, "node"))) return rc;
        }
        break;
    case MC_GOV_REMOVE_VALIDATOR:
    case MC_GOV_SET_POWER: break;
    case MC_GOV_SET_PARAM: {
        uint64_t def, min, max;
        mc_governance_param_bounds(c->param, &def, &min, &max);
        if (max == 0) return mc_err_set(MC_ERR_INVALID, "ledger parameter %u is unknown", c->param);
        if (c->value < min || c->value > max)
            return mc_err_set(MC_ERR_INVALID, "%s must lie within %llu..%llu (the hard limits)",
                              mc_gov_param_name(c->param), (unsigned long long)min,
                              (unsigned long long)max);
        if (!apply) return 0;
        struct mc_key k;
        mc_key_init(&k, "g/pa/");
        mc_key_u8(&k, c->param);
        struct mc_buf v;
        mc_buf_init(&v, 0);
        mc_enc_u64(&v, c->value);
        return mc_row_put(st, &k, &v);
    }
    case MC_GOV_REPLACE_ADMIN: {
        if ((rc = org_must_be(st, c->org, MC_ORG_ACTIVE))) return rc;
        if (c->org == p->org)
            return mc_err_set(MC_ERR_INVALID, "an admin replaces its own key with rotate_key");
        if ((rc = key_is_free(st, &c->key, "new admin"))) return rc;
        if (!apply) return 0;
        struct mc_org o;
        if ((rc = mc_identity_get_org(st, c->org, &o))) return rc;
        struct mc_account old;
        rc = mc_identity_get_account(st, &o.admin, &old);
        if (rc == 0) {
            old.status = MC_ACCOUNT_REVOKED;
            old.since_height = height;
            if ((rc = mc_identity_put_account(st, &old))) return rc;
        } else if (rc != MC_ERR_NOT_FOUND) {
            return rc;
        }
        struct mc_account a = {.key = c->key, .role = MC_ROLE_ADMIN, .status = MC_ACCOUNT_ACTIVE,
                               .org = o.id, .since_height = height};
        snprintf(a.name, sizeof a.name, "admin of %.110s", o.name);
        o.admin = c->key;
        if ((rc = mc_identity_put_account(st, &a))) return rc;
        return mc_identity_put_org(st, &o);
    }
    case MC_GOV_UPGRADE: {
        uint64_t v[3];
        if (c->name[0] == 0) return mc_err_set(MC_ERR_INVALID, "the upgrade's name is empty");
        if (!mc_governance_version_parse(c->version, v))
            return mc_err_set(MC_ERR_INVALID, "version '%s' is not major.minor.patch", c->version);
        if (c->height <= p->activation || c->height - p->activation > MC_GOV_HORIZON_MAX)
            return mc_err_set(MC_ERR_INVALID, "the upgrade height must follow the activation height, by at most %d blocks", MC_GOV_HORIZON_MAX);
        if (!apply) return 0;
        struct mc_key k;
        mc_key_init(&k, "g/up/");
        mc_key_u64(&k, c->height);
        mc_key_u64(&k, p->id);
        struct mc_buf b;
        mc_buf_init(&b, 0);
        mc_enc_str8(&b, c->name);
        mc_enc_str8(&b, c->version);
        return mc_row_put(st, &k, &b);
    }
    default: return mc_err_set(MC_ERR_INVALID, "proposal kind %u is unknown", c->kind);
    }

    /* The kinds that may change the validator set. */
    struct mc_gov_valset *latest = malloc(sizeof *latest), *before = malloc(sizeof *before);
    if (!latest || !before) {
        free(latest);
        free(before);
        return MC_ERR_NOMEM;
    }
    bool changes = false;
    rc = valset_bases(st, g, height, latest, before);
    if (!rc) rc = next_valset(st, c, latest, &changes);
    if (!rc && changes) rc = check_power_rule(&before->vs, &latest->vs);
    if (!rc && apply) {
        if (changes) {
            latest->from = height + MC_GOV_VALSET_LEAD;
            rc = valset_put(st, latest);
        }
        if (!rc && (c->kind == MC_GOV_ADD_NODE || c->kind == MC_GOV_ADD_VALIDATOR)) {
            struct mc_account a;
            int have = mc_identity_get_account(st, &c->key, &a);
            if (have == MC_ERR_NOT_FOUND) {
                a = (struct mc_account){.key = c->key, .role = MC_ROLE_NODE,
                                        .status = MC_ACCOUNT_ACTIVE, .org = c->org,
                                        .since_height = height};
                snprintf(a.name, sizeof a.name, "%s", c->name);
                rc = mc_identity_put_account(st, &a);
            } else if (have) {
                rc = have;
            }
        }
        if (!rc && (c->kind == MC_GOV_SUSPEND_ORG || c->kind == MC_GOV_REMOVE_ORG ||
                    c->kind == MC_GOV_REINSTATE_ORG)) {
            uint8_t status;
            rc = mc_governance_org_status(st, c->org, &status, NULL);
            uint8_t to = c->kind == MC_GOV_SUSPEND_ORG  ? MC_ORG_SUSPENDED
                         : c->kind == MC_GOV_REMOVE_ORG ? MC_ORG_REMOVED
                                                        : MC_ORG_ACTIVE;
            uint32_t now_active = active;
            if (status == MC_ORG_ACTIVE && to != MC_ORG_ACTIVE) now_active--;
            if (status != MC_ORG_ACTIVE && to == MC_ORG_ACTIVE) now_active++;
            if (!rc) rc = org_status_put(st, c->org, to, height);
            if (!rc) rc = orgs_row_put(st, now_active, next_id);
        }
    }
    free(latest);
    free(before);
    return rc;
}

static int rotations_due(struct mc_state *st, const struct mc_genesis *g, uint64_t height);

struct due_ctx {
    uint64_t *ids;
    uint32_t n, cap;
};

static int due_fn(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    struct due_ctx *c = ctx;
    if (klen != 4 + 16) return mc_err_set(MC_ERR_TAMPERED, "activation key is malformed");
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? 2 * c->cap : 16;
        uint64_t *ids = realloc(c->ids, cap * sizeof *ids);
        if (!ids) return MC_ERR_NOMEM;
        c->ids = ids;
        c->cap = cap;
    }
    uint64_t id = 0;
    for (int i = 0; i < 8; i++) id = id << 8 | key[12 + i];
    c->ids[c->n++] = id;
    return 0;
}

int mc_governance_begin_block(struct mc_state *st, const struct mc_genesis *g, uint64_t height) {
    struct mc_key k;
    mc_key_init(&k, "g/a/");
    mc_key_u64(&k, height);
    /* The index rows were committed in earlier blocks: a proposal passes by
     * its deadline, before its activation. Each one took a transaction, so
     * the list is as long as the chain let it be. */
    struct due_ctx due = {0};
    int rc = mc_state_scan(st, k.b, k.n, due_fn, &due);
    for (uint32_t i = 0; !rc && i < due.n; i++) {
        struct mc_key ak = k;
        mc_key_u64(&ak, due.ids[i]);
        struct mc_gov_proposal p;
        if ((rc = mc_governance_get_proposal(st, due.ids[i], &p))) break;
        int r = change_run(st, g, height, &p, true);
        if (r && fatal(r)) {
            rc = r;
            break;
        }
        if (r) {
            /* The change's own writes go too: only the record stays. */
            mc_state_tx_abort(st);
            p.status = MC_GOV_FAILED;
            snprintf(p.note, sizeof p.note, "%s", mc_err_detail());
        } else {
            p.status = MC_GOV_APPLIED;
        }
        p.decided = height;
        if (!rc) rc = proposal_put(st, &p);
        if (!rc) rc = mc_state_del(st, ak.b, ak.n);
        if (!rc) mc_state_tx_commit(st);
    }
    free(due.ids);
    if (!rc) rc = rotations_due(st, g, height);
    return rc;
}

/* ---- node key rotations ---- */

/* The rotations due at `height` (committed index rows "g/nr/" || u64 height
 * || pubkey old -> pubkey new): the node's account moves to the new key now
 * and the validator set of height + MC_GOV_VALSET_LEAD names the new key
 * with the same power. One that can no longer happen (the node left, the
 * key was taken) is dropped. Runs after the proposals of the block. */
struct nr_ctx {
    uint8_t (*keys)[64];
    uint32_t n, cap;
};

static int nr_fn(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    struct nr_ctx *c = ctx;
    if (klen != 5 + 8 + 32 || vlen != 32) return mc_err_set(MC_ERR_TAMPERED, "rotation row is malformed");
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? 2 * c->cap : 8;
        uint8_t(*k)[64] = realloc(c->keys, cap * sizeof *k);
        if (!k) return MC_ERR_NOMEM;
        c->keys = k;
        c->cap = cap;
    }
    memcpy(c->keys[c->n], key + 13, 32);
    memcpy(c->keys[c->n] + 32, val, 32);
    c->n++;
    return 0;
}

static void nk_key(struct mc_key *k, const mc_pubkey *pk) {
    mc_key_init(k, "g/nk/");
    mc_key_add(k, pk->b, MC_PUBKEY_BYTES);
}

static int rotate_one(struct mc_state *st, const struct mc_genesis *g, uint64_t height,
                      const mc_pubkey *old, const mc_pubkey *new_key) {
    struct mc_account a;
    int rc = mc_identity_get_account(st, old, &a);
    if (rc == MC_ERR_NOT_FOUND) return 1;
    if (rc) return rc;
    uint8_t standing;
    if ((rc = mc_governance_org_standing(st, a.org, &standing))) return rc;
    if (a.role != MC_ROLE_NODE || a.status != MC_ACCOUNT_ACTIVE || standing != MC_ORG_ACTIVE) return 1;
    struct mc_account taken;
    rc = mc_identity_get_account(st, new_key, &taken);
    if (rc == 0) return 1;
    if (rc != MC_ERR_NOT_FOUND) return rc;
    struct mc_account moved = a;
    moved.key = *new_key;
    moved.since_height = height;
    memset(moved.successor.b, 0, sizeof moved.successor.b);
    a.status = MC_ACCOUNT_ROTATED;
    a.successor = *new_key;
    a.since_height = height;
    if ((rc = mc_identity_put_account(st, &a)) || (rc = mc_identity_put_account(st, &moved))) return rc;
    struct mc_gov_valset *vs = malloc(sizeof *vs);
    if (!vs) return MC_ERR_NOMEM;
    rc = mc_governance_valset_latest(st, g, vs);
    int i = rc ? -1 : mc_valset_find(&vs->vs, old);
    if (i >= 0) {
        vs->vs.v[i].pk = *new_key;
        vs->from = height + MC_GOV_VALSET_LEAD;
        rc = valset_put(st, vs);
    }
    free(vs);
    return rc;
}

static int rotations_due(struct mc_state *st, const struct mc_genesis *g, uint64_t height) {
    struct mc_key k;
    mc_key_init(&k, "g/nr/");
    mc_key_u64(&k, height);
    struct nr_ctx c = {0};
    int rc = mc_state_scan(st, k.b, k.n, nr_fn, &c);
    for (uint32_t i = 0; !rc && i < c.n; i++) {
        mc_pubkey old, new_key;
        memcpy(old.b, c.keys[i], 32);
        memcpy(new_key.b, c.keys[i] + 32, 32);
        int r = rotate_one(st, g, height, &old, &new_key);
        if (r < 0) {
            rc = r;
            break;
        }
        struct mc_key row = k, a, b;
        mc_key_add(&row, old.b, 32);
        nk_key(&a, &old);
        nk_key(&b, &new_key);
        if ((rc = mc_state_del(st, row.b, row.n)) || (rc = mc_state_del(st, a.b, a.n)) ||
            (rc = mc_state_del(st, b.b, b.n)))
            break;
    }
    free(c.keys);
    return rc;
}

void mc_governance_rotation_sign(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *new_key,
                                 const char *chain_id, const mc_pubkey *old_key) {
    uint8_t m[64];
    memcpy(m, old_key->b, 32);
    memcpy(m + 32, new_key->pk.b, 32);
    mc_sign(sig, new_key, MC_SIGN_ROTATE, chain_id, m, sizeof m);
}

int mc_governance_rotation_pending(struct mc_state *st, const mc_pubkey *key, uint64_t *at,
                                   mc_pubkey *other) {
    struct mc_key k;
    nk_key(&k, key);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    *at = mc_dec_u64(&d);
    mc_dec_fixed(&d, other->b, 32);
    return mc_row_finish(&d, &v, "pending rotation");
}

/* ---- transactions ---- */

static int require_admin(struct mc_exec *ex) {
    if (ex->sender.role != MC_ROLE_ADMIN)
        return mc_err_set(MC_ERR_FORBIDDEN, "only an organisation admin may propose or vote (sender is %s)",
                          mc_role_name(ex->sender.role));
    return org_must_be(ex->st, ex->sender.org, MC_ORG_ACTIVE);
}

static int propose(struct mc_exec *ex, const struct mc_gov_payload *pl) {
    int rc = require_admin(ex);
    if (rc) return rc;
    if (pl->deadline <= ex->height)
        return mc_err_set(MC_ERR_INVALID, "the deadline %llu is not after this block (%llu)",
                          (unsigned long long)pl->deadline, (unsigned long long)ex->height);
    if (pl->activation <= pl->deadline)
        return mc_err_set(MC_ERR_INVALID, "the activation height must follow the deadline");
    if (pl->activation - ex->height > MC_GOV_HORIZON_MAX)
        return mc_err_set(MC_ERR_INVALID, "the activation height is more than %d blocks ahead", MC_GOV_HORIZON_MAX);
    uint64_t last;
    if ((rc = mc_governance_last_id(ex->st, &last))) return rc;
    struct mc_gov_proposal p = {.id = last + 1, .org = ex->sender.org, .proposer = ex->sender.key,
                                .height = ex->height, .deadline = pl->deadline,
                                .activation = pl->activation, .status = MC_GOV_OPEN,
                                .change = pl->change};
    /* Refuse now what could not take effect now (it is checked again at
     * its activation height). */
    if ((rc = change_run(ex->st, ex->genesis, ex->height, &p, false))) return rc;
    if ((rc = mc_governance_active_orgs(ex->st, ex->genesis, &p.electorate))) return rc;
    struct mc_key k;
    mc_key_init(&k, "g/seq");
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u64(&v, p.id);
    if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    return proposal_put(ex->st, &p);
}

static int vote(struct mc_exec *ex, const struct mc_gov_payload *pl) {
    int rc = require_admin(ex);
    if (rc) return rc;
    struct mc_gov_proposal p;
    if ((rc = mc_governance_get_proposal(ex->st, pl->proposal, &p))) return rc;
    if (ex->height > p.deadline)
        return mc_err_set(MC_ERR_STATE, "voting on proposal %llu closed at height %llu",
                          (unsigned long long)p.id, (unsigned long long)p.deadline);
    if (p.status != MC_GOV_OPEN && p.status != MC_GOV_PASSED)
        return mc_err_set(MC_ERR_STATE, "proposal %llu is %s", (unsigned long long)p.id,
                          mc_gov_status_name(&p, ex->height));
    struct mc_key k;
    mc_key_init(&k, "g/v/");
    mc_key_u64(&k, p.id);
    mc_key_u32(&k, ex->sender.org);
    struct mc_buf v;
    rc = mc_row_get(ex->st, &k, &v);
    if (rc == 0) {
        struct mc_dec d;
        mc_dec_init(&d, v.data, v.len);
        (void)mc_dec_u8(&d);
        uint64_t at = mc_dec_u64(&d);
        mc_buf_deinit(&v);
        return mc_err_set(MC_ERR_EXISTS, "organisation %u already voted on proposal %llu (at height %llu)",
                          ex->sender.org, (unsigned long long)p.id, (unsigned long long)at);
    }
    if (rc != MC_ERR_NOT_FOUND) return rc;
    mc_buf_init(&v, 0);
    mc_enc_bool(&v, pl->approve);
    mc_enc_u64(&v, ex->height);
    mc_enc_fixed(&v, ex->sender.key.b, MC_PUBKEY_BYTES);
    if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    if (pl->approve) p.yes++;
    else p.no++;
    if ((rc = mc_governance_active_orgs(ex->st, ex->genesis, &p.electorate))) return rc;
    if (p.status == MC_GOV_OPEN && (uint64_t)p.yes * 3 > (uint64_t)p.electorate * 2) {
        p.status = MC_GOV_PASSED;
        p.decided = ex->height;
        mc_key_init(&k, "g/a/");
        mc_key_u64(&k, p.activation);
        mc_key_u64(&k, p.id);
        mc_buf_init(&v, 0);
        mc_enc_u8(&v, 1);
        if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    }
    return proposal_put(ex->st, &p);
}

static int node_rotate(struct mc_exec *ex, const struct mc_gov_payload *pl) {
    if (ex->sender.role != MC_ROLE_ADMIN)
        return mc_err_set(MC_ERR_FORBIDDEN, "only an organisation admin rotates its nodes' keys (sender is %s)",
                          mc_role_name(ex->sender.role));
    int rc = org_must_be(ex->st, ex->sender.org, MC_ORG_ACTIVE);
    if (rc) return rc;
    struct mc_account node;
    rc = mc_identity_get_account(ex->st, &pl->node, &node);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(rc, "no node has that key");
    if (rc) return rc;
    if (node.role != MC_ROLE_NODE) return mc_err_set(MC_ERR_INVALID, "the key is a %s's, not a node's", mc_role_name(node.role));
    if (node.org != ex->sender.org)
        return mc_err_set(MC_ERR_FORBIDDEN, "the node belongs to organisation %u, not the admin's (%u)",
                          node.org, ex->sender.org);
    if (node.status != MC_ACCOUNT_ACTIVE)
        return mc_err_set(MC_ERR_STATE, "the node's key is %s", mc_account_status_name(node.status));
    /* Decided at least one block before at - LEAD, so every node reads the
     * set of `at` (with the new key) from committed state. */
    if (pl->at_height < ex->height + MC_GOV_VALSET_LEAD + 1 || pl->at_height - ex->height > MC_GOV_HORIZON_MAX)
        return mc_err_set(MC_ERR_INVALID, "a rotation takes effect %d to %d blocks ahead (height %llu or later)",
                          MC_GOV_VALSET_LEAD + 1, MC_GOV_HORIZON_MAX,
                          (unsigned long long)(ex->height + MC_GOV_VALSET_LEAD + 1));
    uint8_t m[64];
    memcpy(m, pl->node.b, 32);
    memcpy(m + 32, pl->new_key.b, 32);
    if (mc_sign_verify(pl->sig, &pl->new_key, MC_SIGN_ROTATE, ex->chain_id, m, sizeof m))
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "the new key's proof of possession does not verify");
    if ((rc = key_is_free(ex->st, &pl->new_key, "new node"))) return rc;
    uint64_t at;
    mc_pubkey other;
    for (int i = 0; i < 2; i++) {
        rc = mc_governance_rotation_pending(ex->st, i ? &pl->new_key : &pl->node, &at, &other);
        if (rc == 0)
            return mc_err_set(MC_ERR_EXISTS, "a rotation %s that key is already pending (at height %llu)",
                              i ? "to" : "of", (unsigned long long)at);
        if (rc != MC_ERR_NOT_FOUND) return rc;
    }
    struct mc_key k;
    mc_key_init(&k, "g/nr/");
    mc_key_u64(&k, pl->at_height - MC_GOV_VALSET_LEAD);
    mc_key_add(&k, pl->node.b, 32);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_fixed(&v, pl->new_key.b, 32);
    if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    for (int i = 0; i < 2; i++) {
        nk_key(&k, i ? &pl->new_key : &pl->node);
        mc_buf_init(&v, 0);
        mc_enc_u64(&v, pl->at_height);
        mc_enc_fixed(&v, (i ? pl->node : pl->new_key).b, 32);
        if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    }
    return 0;
}

int mc_governance_execute(struct mc_exec *ex) {
    uint16_t type = ex->tx->type;
    struct mc_gov_payload p;
    if (mc_gov_payload_decode(&p, type, ex->tx->payload, ex->tx->payload_len))
        return mc_err_set(MC_ERR_MALFORMED, "%s payload does not decode", mc_txtypes_name(type));
    switch (type) {
    case MC_TX_GOV_PROPOSE: return propose(ex, &p);
    case MC_TX_GOV_VOTE: return vote(ex, &p);
    case MC_TX_NODE_ROTATE: return node_rotate(ex, &p);
    default: return mc_err_set(MC_ERR_INVALID, "not a governance transaction");
    }
}
