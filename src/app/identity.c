/* Identity transactions: enroll, revoke, register patient, rotate key.
 *
 * Payloads (canonical, strictly decoded by identity_payload.c, their one
 * decoder):
 *   enroll_member:    | pubkey member | u8 role | str8 name |
 *   revoke_member:    | pubkey member | str8 reason |
 *   register_patient: | pubkey patient | sig64 patient consent |
 *   rotate_key:       | pubkey new key | sig64 proof of possession |
 *
 * Rules:
 *   - Only an organisation's admin enrolls and revokes, and only members of
 *     that organisation; the role must fit the organisation's kind.
 *   - A patient is registered by an active member of a provider organisation
 *     (hospital, clinic, laboratory) holding a clinical role, and only with
 *     the patient's own signature over (member key, patient key).
 *   - A key is rotated by its holder; the new key signs (old key, new key)
 *     to prove possession. The old key stops working; the account, its role,
 *     organisation and nonce move to the new key. */
#include "app/identity.h"

#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/identity_payload.h"
#include "app/txtypes.h"

static const char *const role_names[] = {NULL, "admin", "clinician", "pharmacist", "researcher",
                                         "auditor", "manufacturer", "distributor", "pharmacy",
                                         "regulator", "patient", "node"};
static const char *const kind_names[] = {NULL, "hospital", "clinic", "laboratory", "pharmacy",
                                         "manufacturer", "distributor", "research", "regulator"};

const char *mc_role_name(uint8_t role) {
    return role >= 1 && role <= MC_ROLE_MAX ? role_names[role] : "unknown";
}

uint8_t mc_role_from_name(const char *name) {
    for (uint8_t i = 1; i <= MC_ROLE_MAX; i++)
        if (strcmp(role_names[i], name) == 0) return i;
    return 0;
}

const char *mc_org_kind_name(uint8_t kind) {
    return kind >= 1 && kind <= MC_ORG_KIND_MAX ? kind_names[kind] : "unknown";
}

uint8_t mc_org_kind_from_name(const char *name) {
    for (uint8_t i = 1; i <= MC_ORG_KIND_MAX; i++)
        if (strcmp(kind_names[i], name) == 0) return i;
    return 0;
}

const char *mc_account_status_name(uint8_t status) {
    switch (status) {
    case MC_ACCOUNT_ACTIVE: return "active";
    case MC_ACCOUNT_REVOKED: return "revoked";
    case MC_ACCOUNT_ROTATED: return "rotated";
    default: return "unknown";
    }
}

bool mc_org_is_provider(uint8_t kind) {
    return kind == MC_ORG_HOSPITAL || kind == MC_ORG_CLINIC || kind == MC_ORG_LABORATORY;
}

bool mc_role_allowed_in(uint8_t role, uint8_t kind) {
    if (role == MC_ROLE_AUDITOR) return kind >= 1 && kind <= MC_ORG_KIND_MAX;
    switch (kind) {
    case MC_ORG_HOSPITAL:
    case MC_ORG_CLINIC:
        return role == MC_ROLE_CLINICIAN || role == MC_ROLE_PHARMACIST ||
               role == MC_ROLE_RESEARCHER || role == MC_ROLE_PHARMACY;
    case MC_ORG_LABORATORY: return role == MC_ROLE_CLINICIAN || role == MC_ROLE_RESEARCHER;
    case MC_ORG_PHARMACY: return role == MC_ROLE_PHARMACIST || role == MC_ROLE_PHARMACY;
    case MC_ORG_MANUFACTURER: return role == MC_ROLE_MANUFACTURER;
    case MC_ORG_DISTRIBUTOR: return role == MC_ROLE_DISTRIBUTOR;
    case MC_ORG_RESEARCH: return role == MC_ROLE_RESEARCHER;
    case MC_ORG_REGULATOR: return role == MC_ROLE_REGULATOR;
    default: return false;
    }
}

void mc_org_encode(struct mc_buf *b, const struct mc_org *o) {
    mc_enc_u32(b, o->id);
    mc_enc_str8(b, o->name);
    mc_enc_u8(b, o->kind);
    mc_enc_str8(b, o->gln);
    mc_enc_fixed(b, o->admin.b, 32);
}

int mc_org_decode_from(struct mc_dec *d, struct mc_org *o) {
    memset(o, 0, sizeof *o);
    o->id = mc_dec_u32(d);
    mc_dec_str8(d, o->name, sizeof o->name);
    o->kind = mc_dec_u8(d);
    if (o->kind < 1 || o->kind > MC_ORG_KIND_MAX) mc_dec_fail(d, MC_ERR_MALFORMED);
    mc_dec_str8(d, o->gln, sizeof o->gln);
    mc_dec_fixed(d, o->admin.b, 32);
    return d->err;
}

static void account_key(uint8_t k[34], const mc_pubkey *pk) {
    k[0] = 'a';
    k[1] = '/';
    memcpy(k + 2, pk->b, 32);
}

static void org_key(uint8_t k[6], uint32_t id) {
    k[0] = 'o';
    k[1] = '/';
    k[2] = (uint8_t)(id >> 24);
    k[3] = (uint8_t)(id >> 16);
    k[4] = (uint8_t)(id >> 8);
    k[5] = (uint8_t)id;
}

int mc_identity_account_decode(const uint8_t *p, size_t len, const mc_pubkey *key,
                               struct mc_account *a) {
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    memset(a, 0, sizeof *a);
    a->key = *key;
    a->role = mc_dec_u8(&d);
    a->status = mc_dec_u8(&d);
    a->org = mc_dec_u32(&d);
    a->nonce = mc_dec_u64(&d);
    mc_dec_str8(&d, a->name, sizeof a->name);
    a->since_height = mc_dec_u64(&d);
    mc_dec_fixed(&d, a->successor.b, 32);
    return mc_dec_finish(&d) ? mc_err_set(MC_ERR_TAMPERED, "account record does not decode") : 0;
}

int mc_identity_get_account(struct mc_state *st, const mc_pubkey *key, struct mc_account *a) {
    uint8_t k[34];
    account_key(k, key);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    int rc = mc_state_get(st, k, sizeof k, &v);
    if (!rc) rc = mc_identity_account_decode(v.data, v.len, key, a);
    mc_buf_deinit(&v);
    return rc;
}

int mc_identity_put_account(struct mc_state *st, const struct mc_account *a) {
    uint8_t k[34];
    account_key(k, &a->key);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u8(&v, a->role);
    mc_enc_u8(&v, a->status);
    mc_enc_u32(&v, a->org);
    mc_enc_u64(&v, a->nonce);
    mc_enc_str8(&v, a->name);
    mc_enc_u64(&v, a->since_height);
    mc_enc_fixed(&v, a->successor.b, 32);
    int rc = v.err ? v.err : mc_state_put(st, k, sizeof k, v.data, v.len);
    mc_buf_deinit(&v);
    return rc;
}

int mc_identity_get_org(struct mc_state *st, uint32_t id, struct mc_org *o) {
    uint8_t k[6];
    org_key(k, id);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    int rc = mc_state_get(st, k, sizeof k, &v);
    if (!rc) {
        struct mc_dec d;
        mc_dec_init(&d, v.data, v.len);
        rc = mc_org_decode_from(&d, o);
        if (!rc) rc = mc_dec_finish(&d);
        if (rc) rc = mc_err_set(MC_ERR_TAMPERED, "organisation record does not decode");
    }
    mc_buf_deinit(&v);
    return rc;
}

int mc_identity_put_org(struct mc_state *st, const struct mc_org *o) {
    uint8_t k[6];
    org_key(k, o->id);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_org_encode(&v, o);
    int rc = v.err ? v.err : mc_state_put(st, k, sizeof k, v.data, v.len);
    mc_buf_deinit(&v);
    return rc;
}

void mc_identity_patient_consent_sign(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *patient,
                                      const char *chain_id, const mc_pubkey *member) {
    uint8_t m[64];
    memcpy(m, member->b, 32);
    memcpy(m + 32, patient->pk.b, 32);
    mc_sign(sig, patient, MC_SIGN_PATIENT, chain_id, m, sizeof m);
}

void mc_identity_rotation_sign(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *new_key,
                               const char *chain_id, const mc_pubkey *old_key) {
    uint8_t m[64];
    memcpy(m, old_key->b, 32);
    memcpy(m + 32, new_key->pk.b, 32);
    mc_sign(sig, new_key, MC_SIGN_ROTATE, chain_id, m, sizeof m);
}

static int require_admin(struct mc_exec *ex, struct mc_org *org) {
    if (ex->sender.role != MC_ROLE_ADMIN)
        return mc_err_set(MC_ERR_FORBIDDEN, "only an organisation admin may do this (sender is %s)",
                          mc_role_name(ex->sender.role));
    if (mc_identity_get_org(ex->st, ex->sender.org, org))
        return mc_err_set(MC_ERR_INVALID, "admin's organisation %u is unknown", ex->sender.org);
    return 0;
}

static int key_is_free(struct mc_exec *ex, const mc_pubkey *pk) {
    struct mc_account existing;
    int rc = mc_identity_get_account(ex->st, pk, &existing);
    if (rc == 0) return mc_err_set(MC_ERR_EXISTS, "key already belongs to an account (%s, %s)",
                                   mc_role_name(existing.role), mc_account_status_name(existing.status));
    return rc == MC_ERR_NOT_FOUND ? 0 : rc;
}

static int enroll(struct mc_exec *ex, const struct mc_identity_payload *p) {
    const mc_pubkey pk = p->key;
    const uint8_t role = p->role;
    const char *name = p->name;
    struct mc_org org;
    int rc = require_admin(ex, &org);
    if (rc) return rc;
    if (role == MC_ROLE_ADMIN || role == MC_ROLE_PATIENT || role == MC_ROLE_NODE || role < 1 ||
        role > MC_ROLE_MAX)
        return mc_err_set(MC_ERR_INVALID, "role %u cannot be enrolled by an admin", role);
    if (!mc_role_allowed_in(role, org.kind))
        return mc_err_set(MC_ERR_FORBIDDEN, "a %s organisation cannot enroll a %s",
                          mc_org_kind_name(org.kind), mc_role_name(role));
    if (name[0] == 0) return mc_err_set(MC_ERR_INVALID, "member name is empty");
    if ((rc = key_is_free(ex, &pk))) return rc;
    struct mc_account a = {.key = pk, .role = role, .status = MC_ACCOUNT_ACTIVE,
                           .org = org.id, .since_height = ex->height};
    snprintf(a.name, sizeof a.name, "%s", name);
    return mc_identity_put_account(ex->st, &a);
}

static int revoke(struct mc_exec *ex, const struct mc_identity_payload *p) {
    const mc_pubkey pk = p->key;
    struct mc_org org;
    int rc = require_admin(ex, &org);
    if (rc) return rc;
    struct mc_account a;
    rc = mc_identity_get_account(ex->st, &pk, &a);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_NOT_FOUND, "no such member");
    if (rc) return rc;
    if (a.org != org.id || a.role == MC_ROLE_PATIENT)
        return mc_err_set(MC_ERR_FORBIDDEN, "member does not belong to the admin's organisation");
    if (a.role == MC_ROLE_ADMIN) return mc_err_set(MC_ERR_FORBIDDEN, "an admin cannot revoke an admin");
    if (a.status != MC_ACCOUNT_ACTIVE) return mc_err_set(MC_ERR_STATE, "member is already %s",
                                                        mc_account_status_name(a.status));
    a.status = MC_ACCOUNT_REVOKED;
    a.since_height = ex->height;
    return mc_identity_put_account(ex->st, &a);
}

bool mc_identity_may_register_patients(struct mc_state *st, const struct mc_account *a) {
    struct mc_org org;
    return a->status == MC_ACCOUNT_ACTIVE && a->org != 0 && mc_identity_get_org(st, a->org, &org) == 0 &&
           mc_org_is_provider(org.kind) && (a->role == MC_ROLE_CLINICIAN || a->role == MC_ROLE_ADMIN);
}

bool mc_identity_patient_consent_valid(const uint8_t sig[MC_SIG_BYTES], const mc_pubkey *patient,
                                       const char *chain_id, const mc_pubkey *member) {
    uint8_t m[64];
    memcpy(m, member->b, 32);
    memcpy(m + 32, patient->b, 32);
    return mc_sign_verify(sig, patient, MC_SIGN_PATIENT, chain_id, m, sizeof m) == 0;
}

static int register_patient(struct mc_exec *ex, const struct mc_identity_payload *p) {
    const mc_pubkey pk = p->key;
    const uint8_t *sig = p->sig;
    if (!mc_identity_may_register_patients(ex->st, &ex->sender))
        return mc_err_set(MC_ERR_FORBIDDEN,
                          "only a clinician or admin of a provider organisation registers patients");
    if (!mc_identity_patient_consent_valid(sig, &pk, ex->chain_id, &ex->sender.key))
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "the patient's signature over the registration does not verify");
    int rc = key_is_free(ex, &pk);
    if (rc) return rc;
    struct mc_account a = {.key = pk, .role = MC_ROLE_PATIENT, .status = MC_ACCOUNT_ACTIVE,
                           .org = 0, .since_height = ex->height};
    snprintf(a.name, sizeof a.name, "patient");
    return mc_identity_put_account(ex->st, &a);
}

static int rotate(struct mc_exec *ex, const struct mc_identity_payload *p) {
    const mc_pubkey pk = p->key;
    const uint8_t *sig = p->sig;
    uint8_t m[64];
    memcpy(m, ex->sender.key.b, 32);
    memcpy(m + 32, pk.b, 32);
    if (mc_sign_verify(sig, &pk, MC_SIGN_ROTATE, ex->chain_id, m, sizeof m))
        return mc_err_set(MC_ERR_BAD_SIGNATURE, "the new key's proof of possession does not verify");
    int rc = key_is_free(ex, &pk);
    if (rc) return rc;
    struct mc_account moved = ex->sender;
    moved.key = pk;
    memset(moved.successor.b, 0, 32);
    moved.since_height = ex->height;
    struct mc_account old = ex->sender;
    old.status = MC_ACCOUNT_ROTATED;
    old.successor = pk;
    old.since_height = ex->height;
    if ((rc = mc_identity_put_account(ex->st, &old))) return rc;
    if ((rc = mc_identity_put_account(ex->st, &moved))) return rc;
    /* An admin's key is also named by its organisation record. */
    if (ex->sender.role == MC_ROLE_ADMIN) {
        struct mc_org org;
        if ((rc = mc_identity_get_org(ex->st, ex->sender.org, &org))) return rc;
        org.admin = pk;
        if ((rc = mc_identity_put_org(ex->st, &org))) return rc;
    }
    return 0;
}

int mc_identity_execute(struct mc_exec *ex) {
    uint16_t type = ex->tx->type;
    if (type != MC_TX_ENROLL_MEMBER && type != MC_TX_REVOKE_MEMBER &&
        type != MC_TX_REGISTER_PATIENT && type != MC_TX_ROTATE_KEY)
        return mc_err_set(MC_ERR_INVALID, "not an identity transaction");
    /* The one decoder of these layouts (identity_payload.c). Every payload
     * decodes whole before any rule is judged, so any structural failure
     * is the payload's: MC_ERR_MALFORMED, as it always was. */
    struct mc_identity_payload p;
    if (mc_identity_payload_decode(&p, type, ex->tx->payload, ex->tx->payload_len))
        return mc_err_set(MC_ERR_MALFORMED, "%s payload does not decode", mc_txtypes_name(type));
    switch (type) {
    case MC_TX_ENROLL_MEMBER: return enroll(ex, &p);
    case MC_TX_REVOKE_MEMBER: return revoke(ex, &p);
    case MC_TX_REGISTER_PATIENT: return register_patient(ex, &p);
    default: return rotate(ex, &p);
    }
}
