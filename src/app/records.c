/* Record transactions, state rows and the read policy (formats and rules in
 * records.h). Everything here is deterministic: block height and time come
 * from struct mc_exec, iteration is in key order, no randomness. */
#include "app/row.h"
#include "app/smart.h"
#include "app/records.h"

#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <ctype.h>
#include <string.h>

#include "app/app.h"
#include "app/identity.h"
#include "app/records_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"

/* --- names --- */

static const char *const type_names[] = {NULL,
                                         "Patient",
                                         "Encounter",
                                         "Condition",
                                         "Observation",
                                         "AllergyIntolerance",
                                         "MedicationStatement",
                                         "DiagnosticReport",
                                         "DocumentReference",
                                         "Immunization",
                                         "Claim",
                                         "ExplanationOfBenefit",
                                         "Provenance",
                                         "Practitioner",
                                         "Organization",
                                         "Location",
                                         "Binary"};
static const uint8_t type_category[] = {0,
                                        MC_CAT_DEMOGRAPHICS,
                                        MC_CAT_ENCOUNTERS,
                                        MC_CAT_PROBLEMS,
                                        MC_CAT_RESULTS,
                                        MC_CAT_PROBLEMS,
                                        MC_CAT_MEDICATIONS,
                                        MC_CAT_RESULTS,
                                        MC_CAT_DOCUMENTS,
                                        MC_CAT_MEDICATIONS,
                                        MC_CAT_FINANCIAL,
                                        MC_CAT_FINANCIAL,
                                        MC_CAT_PROVENANCE,
                                        MC_CAT_ENCOUNTERS,
                                        MC_CAT_ENCOUNTERS,
                                        MC_CAT_ENCOUNTERS,
                                        MC_CAT_DOCUMENTS};
_Static_assert(sizeof type_names / sizeof type_names[0] == MC_FHIR_TYPE_MAX + 1, "a name per type");
_Static_assert(sizeof type_category / sizeof type_category[0] == MC_FHIR_TYPE_MAX + 1, "a category per type");
static const char *const category_names[] = {"demographics", "encounters", "problems", "results",
                                             "medications", "documents", "financial", "provenance"};
static const char *const purpose_codes[] = {NULL, "TREAT", "ETREAT", "BTG", "HRESCH", "PATRQT",
                                            "HOPERAT"};
static const char *const action_names[] = {NULL, "read", "vread", "search", "export", "audit",
                                           "create", "token"};

const char *mc_records_type_name(uint16_t t) {
    return t >= 1 && t <= MC_FHIR_TYPE_MAX ? type_names[t] : NULL;
}

uint16_t mc_records_type_from_name(const char *name) {
    for (uint16_t t = 1; name && t <= MC_FHIR_TYPE_MAX; t++)
        if (strcmp(type_names[t], name) == 0) return t;
    return 0;
}

uint8_t mc_records_type_category(uint16_t t) {
    return t >= 1 && t <= MC_FHIR_TYPE_MAX ? type_category[t] : 0;
}

const char *mc_category_name(uint8_t bit) {
    for (int i = 0; i < 8; i++)
        if (bit == (1u << i)) return category_names[i];
    return NULL;
}

uint8_t mc_categories_parse(const char *list) {
    if (!list || !*list) return 0;
    uint8_t bits = 0;
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        bool found = false;
        if (n == 3 && strncmp(p, "all", 3) == 0) {
            bits = MC_CAT_ALL;
            found = true;
        }
        for (int i = 0; i < 8 && !found; i++) {
            if (strlen(category_names[i]) == n && strncmp(category_names[i], p, n) == 0) {
                bits |= (uint8_t)(1u << i);
                found = true;
            }
        }
        if (!found) return 0;
        if (!comma) break;
        p = comma + 1;
    }
    return bits;
}

const char *mc_purpose_code(uint8_t p) {
    return p >= 1 && p <= MC_PURPOSE_MAX ? purpose_codes[p] : "UNKNOWN";
}

uint8_t mc_purpose_from_code(const char *code) {
    for (uint8_t p = 1; code && p <= MC_PURPOSE_MAX; p++)
        if (strcmp(purpose_codes[p], code) == 0) return p;
    return 0;
}

const char *mc_action_name(uint8_t a) {
    return a >= 1 && a <= MC_ACTION_MAX ? action_names[a] : "unknown";
}

bool mc_record_id_valid(const char *id) {
    size_t n = 0;
    for (; id && id[n]; n++) {
        char c = id[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
        if (n >= MC_RECORD_ID_MAX) return false;
    }
    return n >= 1;
}

void mc_record_data_key(uint8_t out[MC_DATAKEY_BYTES], const uint8_t batch_key[MC_DATAKEY_BYTES],
                        const char *id, uint32_t version) {
    static const char domain[] = "medchain/v1/record-key";
    uint8_t ad[69];
    size_t adn = mc_record_ad(ad, id, version);
    crypto_generichash_state st;
    crypto_generichash_init(&st, batch_key, MC_DATAKEY_BYTES, MC_DATAKEY_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)domain, sizeof domain - 1);
    crypto_generichash_update(&st, ad, adn);
    crypto_generichash_final(&st, out, MC_DATAKEY_BYTES);
    sodium_memzero(&st, sizeof st);
}

size_t mc_record_ad(uint8_t out[69], const char *id, uint32_t version) {
    size_t n = strnlen(id, MC_RECORD_ID_MAX);
    out[0] = (uint8_t)n;
    memcpy(out + 1, id, n);
    out[1 + n] = (uint8_t)(version >> 24);
    out[2 + n] = (uint8_t)(version >> 16);
    out[3 + n] = (uint8_t)(version >> 8);
    out[4 + n] = (uint8_t)version;
    return n + 5;
}

/* --- keys --- */

static void key_id(struct mc_key *k, const char *prefix, const char *id) {
    mc_key_init(k, prefix);
    mc_key_add(k, id, strlen(id));
}
static void key_version(struct mc_key *k, const char *prefix, const char *id, uint32_t v) {
    key_id(k, prefix, id);
    uint8_t zero = 0;
    mc_key_add(k, &zero, 1);
    mc_key_u32(k, v);
}




/* --- rows --- */

static void head_encode(struct mc_buf *b, const struct mc_record_head *h) {
    mc_enc_u16(b, h->type);
    mc_enc_u8(b, h->category);
    mc_enc_fixed(b, h->patient.b, 32);
    mc_enc_u32(b, h->org);
    mc_enc_u32(b, h->versions);
    mc_enc_bool(b, h->erased);
    mc_enc_u64(b, h->erased_height);
}

static int head_decode(struct mc_record_head *h, const char *id, const uint8_t *p, size_t n) {
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    memset(h, 0, sizeof *h);
    snprintf(h->id, sizeof h->id, "%s", id);
    h->type = mc_dec_u16(&d);
    h->category = mc_dec_u8(&d);
    mc_dec_fixed(&d, h->patient.b, 32);
    h->org = mc_dec_u32(&d);
    h->versions = mc_dec_u32(&d);
    h->erased = mc_dec_bool(&d);
    h->erased_height = mc_dec_u64(&d);
    if (mc_dec_finish(&d)) return mc_err_set(MC_ERR_TAMPERED, "record head does not decode");
    return 0;
}

static int put_head(struct mc_state *st, const struct mc_record_head *h) {
    struct mc_key k;
    key_id(&k, "rr/", h->id);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    head_encode(&v, h);
    return mc_row_put(st, &k, &v);
}

int mc_records_get_head(struct mc_state *st, const char *id, struct mc_record_head *out) {
    if (!mc_record_id_valid(id)) return mc_err_set(MC_ERR_NOT_FOUND, "no such record");
    struct mc_key k;
    key_id(&k, "rr/", id);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    rc = head_decode(out, id, v.data, v.len);
    mc_buf_deinit(&v);
    return rc;
}

static int put_version(struct mc_state *st, const char *id, uint32_t ver,
                       const struct mc_record_version *r) {
    struct mc_key k;
    key_version(&k, "rv/", id, ver);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_fixed(&v, r->batch.b, 32);
    mc_enc_fixed(&v, r->author.b, 32);
    mc_enc_fixed(&v, r->ciphertext.b, 32);
    mc_enc_u32(&v, r->size);
    mc_enc_u64(&v, r->height);
    mc_enc_u64(&v, r->time_ms);
    return mc_row_put(st, &k, &v);
}

int mc_records_get_version(struct mc_state *st, const char *id, uint32_t ver,
                           struct mc_record_version *r) {
    if (!mc_record_id_valid(id)) return mc_err_set(MC_ERR_NOT_FOUND, "no such record");
    struct mc_key k;
    key_version(&k, "rv/", id, ver);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    mc_dec_fixed(&d, r->batch.b, 32);
    mc_dec_fixed(&d, r->author.b, 32);
    mc_dec_fixed(&d, r->ciphertext.b, 32);
    r->size = mc_dec_u32(&d);
    r->height = mc_dec_u64(&d);
    r->time_ms = mc_dec_u64(&d);
    return mc_row_finish(&d, &v, "record version");
}

static int put_batch(struct mc_state *st, const mc_hash *id, const struct mc_record_batch *b) {
    struct mc_key k;
    mc_key_init(&k, "rb/");
    mc_key_add(&k, id->b, 32);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_fixed(&v, b->patient.b, 32);
    mc_enc_u32(&v, b->org);
    mc_enc_fixed(&v, b->node.b, 32);
    mc_enc_bool(&v, b->has_keys);
    mc_enc_fixed(&v, b->sealed_patient, MC_SEALED_KEY_BYTES);
    mc_enc_fixed(&v, b->sealed_node, MC_SEALED_KEY_BYTES);
    mc_enc_u32(&v, b->live);
    return mc_row_put(st, &k, &v);
}

int mc_records_get_batch(struct mc_state *st, const mc_hash *id, struct mc_record_batch *b) {
    struct mc_key k;
    mc_key_init(&k, "rb/");
    mc_key_add(&k, id->b, 32);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    mc_dec_fixed(&d, b->patient.b, 32);
    b->org = mc_dec_u32(&d);
    mc_dec_fixed(&d, b->node.b, 32);
    b->has_keys = mc_dec_bool(&d);
    mc_dec_fixed(&d, b->sealed_patient, MC_SEALED_KEY_BYTES);
    mc_dec_fixed(&d, b->sealed_node, MC_SEALED_KEY_BYTES);
    b->live = mc_dec_u32(&d);
    return mc_row_finish(&d, &v, "record batch");
}

static void grant_encode(struct mc_buf *v, const struct mc_grant *g) {
    mc_enc_u8(v, g->kind);
    mc_enc_fixed(v, g->member.b, 32);
    mc_enc_u32(v, g->org);
    mc_enc_u8(v, g->categories);
    mc_enc_u64(v, g->expiry_ms);
    mc_enc_u64(v, g->height);
    mc_enc_u64(v, g->revoked_height);
}

static int grant_decode(struct mc_grant *g, const uint8_t *p, size_t n) {
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    g->kind = mc_dec_u8(&d);
    mc_dec_fixed(&d, g->member.b, 32);
    g->org = mc_dec_u32(&d);
    g->categories = mc_dec_u8(&d);
    g->expiry_ms = mc_dec_u64(&d);
    g->height = mc_dec_u64(&d);
    g->revoked_height = mc_dec_u64(&d);
    return mc_dec_finish(&d) ? mc_err_set(MC_ERR_TAMPERED, "grant row does not decode") : 0;
}

static void grant_key(struct mc_key *k, const mc_pubkey *patient, const mc_hash *id) {
    mc_key_init(k, "rg/");
    mc_key_add(k, patient->b, 32);
    mc_key_add(k, id->b, 32);
}

/* Grant keys row: | u8 n | n x (pubkey | sealed80) |. */
struct grant_keys {
    uint8_t n;
    mc_pubkey to[MC_GRANT_KEYS_MAX];
    uint8_t sealed[MC_GRANT_KEYS_MAX][MC_SEALED_KEY_BYTES];
};

static int get_grant_keys(struct mc_state *st, const char *id, uint32_t ver, struct grant_keys *gk) {
    memset(gk, 0, sizeof *gk);
    struct mc_key k;
    key_version(&k, "rk/", id, ver);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc == MC_ERR_NOT_FOUND) return 0;
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    gk->n = mc_dec_u8(&d);
    if (gk->n > MC_GRANT_KEYS_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
    for (uint8_t i = 0; i < gk->n && !d.err; i++) {
        mc_dec_fixed(&d, gk->to[i].b, 32);
        mc_dec_fixed(&d, gk->sealed[i], MC_SEALED_KEY_BYTES);
    }
    return mc_row_finish(&d, &v, "grant keys");
}

static int put_grant_keys(struct mc_state *st, const char *id, uint32_t ver,
                          const struct grant_keys *gk) {
    struct mc_key k;
    key_version(&k, "rk/", id, ver);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u8(&v, gk->n);
    for (uint8_t i = 0; i < gk->n; i++) {
        mc_enc_fixed(&v, gk->to[i].b, 32);
        mc_enc_fixed(&v, gk->sealed[i], MC_SEALED_KEY_BYTES);
    }
    return mc_row_put(st, &k, &v);
}

int mc_records_get_grant_recipients(struct mc_state *st, const char *id, uint32_t ver, mc_pubkey *out, size_t max,
                                    size_t *n) {
    *n = 0;
    struct grant_keys gk;
    int rc = get_grant_keys(st, id, ver, &gk);
    if (rc) return rc;
    for (uint8_t i = 0; i < gk.n && *n < max; i++) out[(*n)++] = gk.to[i];
    return 0;
}

int mc_records_get_grant_key(struct mc_state *st, const char *id, uint32_t ver,
                             const mc_pubkey *recipient, uint8_t sealed[MC_SEALED_KEY_BYTES]) {
    struct grant_keys gk;
    int rc = get_grant_keys(st, id, ver, &gk);
    if (rc) return rc;
    for (uint8_t i = 0; i < gk.n; i++) {
        if (memcmp(gk.to[i].b, recipient->b, 32) == 0) {
            memcpy(sealed, gk.sealed[i], MC_SEALED_KEY_BYTES);
            return 0;
        }
    }
    return MC_ERR_NOT_FOUND;
}

static void bg_encode(struct mc_buf *v, const struct mc_break_glass *b) {
    mc_enc_u32(v, b->org);
    mc_enc_fixed(v, b->requester.b, 32);
    mc_enc_fixed(v, b->patient.b, 32);
    mc_enc_str8(v, b->id);
    mc_enc_u64(v, b->height);
    mc_enc_u64(v, b->time_ms);
    mc_enc_str16(v, b->reason);
    mc_enc_bool(v, b->open);
    mc_enc_fixed(v, b->reviewer.b, 32);
    mc_enc_u64(v, b->closed_height);
    mc_enc_str8(v, b->note);
}

static int bg_decode(struct mc_break_glass *b, const uint8_t *p, size_t n) {
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    b->org = mc_dec_u32(&d);
    mc_dec_fixed(&d, b->requester.b, 32);
    mc_dec_fixed(&d, b->patient.b, 32);
    mc_dec_str8(&d, b->id, sizeof b->id);
    b->height = mc_dec_u64(&d);
    b->time_ms = mc_dec_u64(&d);
    mc_dec_str16(&d, b->reason, sizeof b->reason);
    b->open = mc_dec_bool(&d);
    mc_dec_fixed(&d, b->reviewer.b, 32);
    b->closed_height = mc_dec_u64(&d);
    mc_dec_str8(&d, b->note, sizeof b->note);
    return mc_dec_finish(&d) ? mc_err_set(MC_ERR_TAMPERED, "break-glass row does not decode") : 0;
}

int mc_records_get_break_glass(struct mc_state *st, const mc_hash *access_tx,
                               struct mc_break_glass *out) {
    struct mc_key k;
    mc_key_init(&k, "rx/");
    mc_key_add(&k, access_tx->b, 32);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    out->access_tx = *access_tx;
    rc = bg_decode(out, v.data, v.len);
    mc_buf_deinit(&v);
    return rc;
}

/* --- scans --- */

struct scan_ctx {
    struct mc_state *st;
    const void *fn;
    void *ctx;
    size_t prefix_len;
};

static int scan_patient_row(void *c, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct scan_ctx *s = c;
    char id[MC_RECORD_ID_MAX + 1];
    size_t n = kn - s->prefix_len;
    if (n == 0 || n > MC_RECORD_ID_MAX) return 0;
    memcpy(id, k + s->prefix_len, n);
    id[n] = 0;
    struct mc_record_head h;
    int rc = mc_records_get_head(s->st, id, &h);
    if (rc) return rc;
    int (*fn)(void *, const struct mc_record_head *) = (int (*)(void *, const struct mc_record_head *))s->fn;
    return fn(s->ctx, &h) != 0;
}

int mc_records_scan_patient(struct mc_state *st, const mc_pubkey *patient,
                            int (*fn)(void *ctx, const struct mc_record_head *h), void *ctx) {
    struct mc_key k;
    mc_key_init(&k, "rp/");
    mc_key_add(&k, patient->b, 32);
    struct scan_ctx s = {.st = st, .fn = (const void *)fn, .ctx = ctx, .prefix_len = k.n};
    return mc_state_scan(st, k.b, k.n, scan_patient_row, &s);
}

struct patients_ctx {
    mc_pubkey last;
    bool have;
    int (*fn)(void *ctx, const mc_pubkey *patient);
    void *ctx;
};

static int scan_patients_row(void *c, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct patients_ctx *s = c;
    if (kn < 3 + 32) return 0;
    if (s->have && memcmp(s->last.b, k + 3, 32) == 0) return 0;
    memcpy(s->last.b, k + 3, 32);
    s->have = true;
    return s->fn(s->ctx, &s->last) != 0;
}

int mc_records_scan_patients(struct mc_state *st, int (*fn)(void *ctx, const mc_pubkey *patient), void *ctx) {
    struct patients_ctx s = {.fn = fn, .ctx = ctx};
    return mc_state_scan(st, "rp/", 3, scan_patients_row, &s);
}

static int scan_grant_row(void *c, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct scan_ctx *s = c;
    if (kn != 3 + 32 + 32) return 0;
    mc_pubkey patient;
    memcpy(patient.b, k + 3, 32);
    struct mc_grant g;
    memset(&g, 0, sizeof g);
    memcpy(g.id.b, k + 35, 32);
    int rc = grant_decode(&g, v, vn);
    if (rc) return rc;
    int (*fn)(void *, const mc_pubkey *, const struct mc_grant *) =
        (int (*)(void *, const mc_pubkey *, const struct mc_grant *))s->fn;
    return fn(s->ctx, &patient, &g) != 0;
}

int mc_records_scan_grants(struct mc_state *st, const mc_pubkey *patient,
                           int (*fn)(void *ctx, const mc_pubkey *patient, const struct mc_grant *g),
                           void *ctx) {
    struct mc_key k;
    mc_key_init(&k, "rg/");
    if (patient) mc_key_add(&k, patient->b, 32);
    struct scan_ctx s = {.st = st, .fn = (const void *)fn, .ctx = ctx, .prefix_len = k.n};
    return mc_state_scan(st, k.b, k.n, scan_grant_row, &s);
}

static int access_decode(struct mc_access_entry *e, const uint8_t *p, size_t n) {
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    mc_dec_str8(&d, e->id, sizeof e->id);
    e->version = mc_dec_u32(&d);
    mc_dec_fixed(&d, e->requester.b, 32);
    e->action = mc_dec_u8(&d);
    e->purpose = mc_dec_u8(&d);
    e->outcome = mc_dec_u8(&d);
    e->status = mc_dec_u16(&d);
    mc_dec_str16(&d, e->reason, sizeof e->reason);
    e->time_ms = mc_dec_u64(&d);
    mc_dec_fixed(&d, e->signature_hash.b, 32);
    return mc_dec_finish(&d) ? mc_err_set(MC_ERR_TAMPERED, "access row does not decode") : 0;
}

static int scan_access_row(void *c, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct scan_ctx *s = c;
    if (kn != 3 + 32 + 8 + 32) return 0;
    struct mc_access_entry e;
    memset(&e, 0, sizeof e);
    memcpy(e.patient.b, k + 3, 32);
    for (int i = 0; i < 8; i++) e.height = (e.height << 8) | k[35 + i];
    memcpy(e.tx_id.b, k + 43, 32);
    int rc = access_decode(&e, v, vn);
    if (rc) return rc;
    int (*fn)(void *, const struct mc_access_entry *) =
        (int (*)(void *, const struct mc_access_entry *))s->fn;
    return fn(s->ctx, &e) != 0;
}

int mc_records_scan_access(struct mc_state *st, const mc_pubkey *patient,
                           int (*fn)(void *ctx, const struct mc_access_entry *e), void *ctx) {
    struct mc_key k;
    mc_key_init(&k, "rl/");
    if (patient) mc_key_add(&k, patient->b, 32);
    struct scan_ctx s = {.st = st, .fn = (const void *)fn, .ctx = ctx, .prefix_len = k.n};
    return mc_state_scan(st, k.b, k.n, scan_access_row, &s);
}

static int scan_bg_row(void *c, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct scan_ctx *s = c;
    if (kn != 3 + 32) return 0;
    struct mc_break_glass b;
    memset(&b, 0, sizeof b);
    memcpy(b.access_tx.b, k + 3, 32);
    int rc = bg_decode(&b, v, vn);
    if (rc) return rc;
    int (*fn)(void *, const struct mc_break_glass *) =
        (int (*)(void *, const struct mc_break_glass *))s->fn;
    return fn(s->ctx, &b) != 0;
}

int mc_records_scan_break_glass(struct mc_state *st,
                                int (*fn)(void *ctx, const struct mc_break_glass *b), void *ctx) {
    struct scan_ctx s = {.st = st, .fn = (const void *)fn, .ctx = ctx, .prefix_len = 3};
    return mc_state_scan(st, "rx/", 3, scan_bg_row, &s);
}

/* --- policy --- */

static void refuse(struct mc_access_decision *d, unsigned status, const char *fmt, const char *arg) {
    d->allowed = false;
    d->status = status;
    snprintf(d->reason, sizeof d->reason, fmt, arg ? arg : "");
}

struct grant_match {
    const struct mc_account *req;
    uint8_t category;
    uint64_t now_ms;
    bool found;
};

static int match_grant(void *c, const mc_pubkey *patient, const struct mc_grant *g) {
    struct grant_match *m = c;
#ifndef MC_TEST_IGNORE_REVOCATION
    if (g->revoked_height) return 0;
#else
    /* Test build only (mk/e2e.mk): revocations are recorded but never
     * obeyed. The fault-injection harness must catch it. */
#endif
    if (g->expiry_ms && g->expiry_ms <= m->now_ms) return 0;
    if (!(g->categories & m->category)) return 0;
    if (g->kind == MC_GRANTEE_MEMBER && memcmp(g->member.b, m->req->key.b, 32) == 0)
        m->found = true;
    if (g->kind == MC_GRANTEE_ORG && g->org == m->req->org && m->req->role == MC_ROLE_CLINICIAN)
        m->found = true;
    return m->found;
}

void mc_records_decide(struct mc_state *st, const mc_pubkey *requester,
                       const struct mc_record_head *rec, uint8_t purpose, const char *btg_reason,
                       uint64_t now_ms, struct mc_access_decision *out) {
    memset(out, 0, sizeof *out);
    out->purpose = purpose ? purpose : MC_PURPOSE_TREAT;
    struct mc_account a;
    if (mc_identity_get_account(st, requester, &a)) {
        refuse(out, 401, "the signer is not an account on this ledger%s", NULL);
        return;
    }
    if (a.status != MC_ACCOUNT_ACTIVE) {
        refuse(out, 403, "the signer's account is %s", mc_account_status_name(a.status));
        return;
    }
    if (rec->erased) {
        refuse(out, 410, "the record was erased at the patient's request%s", NULL);
        return;
    }
    if (memcmp(requester->b, rec->patient.b, 32) == 0) {
        out->allowed = true;
        out->purpose = MC_PURPOSE_PATRQT;
        return;
    }
    struct mc_record_version v;
    if (mc_records_get_version(st, rec->id, 1, &v) == 0 &&
        memcmp(v.author.b, requester->b, 32) == 0) {
        out->allowed = true;
        return;
    }
    struct grant_match m = {.req = &a, .category = rec->category, .now_ms = now_ms};
    if (a.role != MC_ROLE_PATIENT && mc_records_scan_grants(st, &rec->patient, match_grant, &m) == 0 &&
        m.found) {
        out->allowed = true;
        if (a.role == MC_ROLE_RESEARCHER && !purpose) out->purpose = MC_PURPOSE_HRESCH;
        return;
    }
    if (btg_reason && btg_reason[0]) {
        struct mc_org org;
        if (a.role == MC_ROLE_CLINICIAN && mc_identity_get_org(st, a.org, &org) == 0 &&
            mc_org_is_provider(org.kind)) {
            out->allowed = true;
            out->break_glass = true;
            out->purpose = MC_PURPOSE_BTG;
            return;
        }
        refuse(out, 403, "break-glass is only for clinicians of provider organisations (signer is %s)",
               mc_role_name(a.role));
        return;
    }
    refuse(out, 403, "no active grant of the patient covers this %s record for the signer",
           mc_category_name(rec->category));
}

void mc_records_decide_patient_view(struct mc_state *st, const mc_pubkey *requester,
                                    const mc_pubkey *patient, struct mc_access_decision *out) {
    memset(out, 0, sizeof *out);
    out->purpose = MC_PURPOSE_PATRQT;
    struct mc_account a;
    if (mc_identity_get_account(st, requester, &a)) {
        refuse(out, 401, "the signer is not an account on this ledger%s", NULL);
        return;
    }
    if (a.status != MC_ACCOUNT_ACTIVE) {
        refuse(out, 403, "the signer's account is %s", mc_account_status_name(a.status));
        return;
    }
    if (memcmp(requester->b, patient->b, 32) == 0) {
        out->allowed = true;
        return;
    }
    if (a.role == MC_ROLE_AUDITOR) {
        out->allowed = true;
        out->purpose = MC_PURPOSE_HOPERAT;
        return;
    }
    refuse(out, 403, "only the patient and auditors may see a patient's %s", "records and log");
}

void mc_records_decide_audit(struct mc_state *st, const mc_pubkey *requester, struct mc_access_decision *out) {
    memset(out, 0, sizeof *out);
    out->purpose = MC_PURPOSE_HOPERAT;
    struct mc_account a;
    if (mc_identity_get_account(st, requester, &a)) {
        refuse(out, 401, "the signer is not an account on this ledger%s", NULL);
        return;
    }
    if (a.status != MC_ACCOUNT_ACTIVE) {
        refuse(out, 403, "the signer's account is %s", mc_account_status_name(a.status));
        return;
    }
    if (a.role != MC_ROLE_AUDITOR) {
        refuse(out, 403, "only auditors read the whole access log and the break-glass reviews%s", NULL);
        return;
    }
    out->allowed = true;
}

/* --- execution --- */

static int require_role(struct mc_exec *ex, uint8_t role, const char *what) {
    if (ex->sender.role != role)
        return mc_err_set(MC_ERR_FORBIDDEN, "%s must be signed by a %s (sender is %s)", what,
                          mc_role_name(role), mc_role_name(ex->sender.role));
    return 0;
}

/* The keyid parameter of the base's @signature-params line must name key.
 * The hex digits compare case-insensitively: the gate accepts a keyid in
 * either case (it decodes the hex), so every request that verified there
 * names its signer here too and its access entry is never refused for it. */
bool mc_records_sigbase_names_key(const uint8_t *base, size_t n, const mc_pubkey *key) {
    static const char tag[] = "\"@signature-params\": ";
    static const char pre[] = ";keyid=\"";
    char hx[65];
    mc_hex_encode(hx, key->b, 32);
    /* The last line of the base is the @signature-params line. */
    size_t start = n;
    while (start > 0 && base[start - 1] != '\n') start--;
    size_t line = n - start;
    if (line < sizeof tag - 1 || memcmp(base + start, tag, sizeof tag - 1) != 0) return false;
    size_t wn = sizeof pre - 1 + 64 + 1;
    for (size_t i = start; i + wn <= n; i++) {
        if (memcmp(base + i, pre, sizeof pre - 1) != 0) continue;
        const uint8_t *h = base + i + sizeof pre - 1;
        bool same = h[64] == '"';
        for (size_t k = 0; same && k < 64; k++) same = tolower(h[k]) == hx[k];
        if (same) return true;
    }
    return false;
}

static int anchor(struct mc_exec *ex, const struct mc_records_payload *p, int drc,
                  const struct mc_records_payload_progress *pr) {
    const mc_pubkey patient = p->patient, author = p->author;
    const uint8_t *base = p->base, *sig = p->sig;
    const size_t base_len = p->base_len;
    const uint16_t count = p->count;
    struct mc_record_batch batch;
    memset(&batch, 0, sizeof batch);
    memcpy(batch.sealed_patient, p->sealed_patient, MC_SEALED_KEY_BYTES);
    memcpy(batch.sealed_node, p->sealed_node, MC_SEALED_KEY_BYTES);
    if (!pr->head) return mc_err_set(MC_ERR_MALFORMED, "record_anchor payload does not decode");
    int rc = require_role(ex, MC_ROLE_NODE, "a record anchor");
    if (rc) return rc;
    if (count == 0 || count > MC_RECORDS_BATCH_MAX)
        return mc_err_set(MC_ERR_INVALID, "a record anchor holds 1 to %d records, not %u",
                          MC_RECORDS_BATCH_MAX, count);
    struct mc_account au;
    switch (mc_records_author_check(ex->st, &author, &ex->sender.key, &patient, &au)) {
    case MC_AUTHOR_ALLOWED: break;
    case MC_AUTHOR_NOT_ACTIVE:
        return mc_err_set(MC_ERR_FORBIDDEN, "the author is not an active account");
    case MC_AUTHOR_NOT_CLINICIAN:
        return mc_err_set(MC_ERR_FORBIDDEN,
                          "only clinicians of provider organisations author records (author is %s)",
                          mc_role_name(au.role));
    case MC_AUTHOR_OTHER_ORG:
        return mc_err_set(MC_ERR_FORBIDDEN, "a node anchors records of its own organisation only");
    case MC_AUTHOR_BAD_PATIENT:
        return mc_err_set(MC_ERR_INVALID, "the record's patient is not a registered, active patient");
    }
    if (!mc_records_sigbase_names_key(base, base_len, &author) ||
        mc_ed25519_verify_raw(sig, &author, base, base_len))
        return mc_err_set(MC_ERR_BAD_SIGNATURE,
                          "the author's request signature does not verify over the carried base");
    batch.patient = patient;
    batch.org = au.org;
    batch.node = ex->sender.key;
    batch.has_keys = true;
    batch.live = count;
    for (uint16_t i = 0; i < count; i++) {
        if (i >= pr->items) return mc_err_set(MC_ERR_MALFORMED, "record_anchor entry %u does not decode", i);
        const struct mc_records_anchor_entry *e = &p->entries[i];
        const char *id = e->id;
        const uint16_t type = e->type;
        const uint32_t ver = e->version;
        struct mc_record_version v = {.batch = ex->tx_id, .author = author, .height = ex->height,
                                      .time_ms = ex->time_ms, .ciphertext = e->ciphertext,
                                      .size = e->size};
        if (!mc_record_id_valid(id)) return mc_err_set(MC_ERR_INVALID, "record id '%s' is not a FHIR id", id);
        if (!mc_records_type_name(type)) return mc_err_set(MC_ERR_INVALID, "unknown resource type %u", type);
        if (ver == 0) return mc_err_set(MC_ERR_INVALID, "record versions start at 1");
        struct mc_record_head h;
        rc = mc_records_get_head(ex->st, id, &h);
        if (ver == 1) {
            if (rc == 0) return mc_err_set(MC_ERR_EXISTS, "record '%s' already exists", id);
            if (rc != MC_ERR_NOT_FOUND) return rc;
            memset(&h, 0, sizeof h);
            snprintf(h.id, sizeof h.id, "%s", id);
            h.type = type;
            h.category = mc_records_type_category(type);
            h.patient = patient;
            h.org = au.org;
            struct mc_key pk;
            mc_key_init(&pk, "rp/");
            mc_key_add(&pk, patient.b, 32);
            mc_key_add(&pk, id, strlen(id));
            struct mc_buf pv;
            mc_buf_init(&pv, 0);
            mc_enc_u16(&pv, type);
            if ((rc = mc_row_put(ex->st, &pk, &pv))) return rc;
        } else {
            if (rc == MC_ERR_NOT_FOUND)
                return mc_err_set(MC_ERR_NOT_FOUND, "amended record '%s' does not exist", id);
            if (rc) return rc;
            if (h.erased) return mc_err_set(MC_ERR_STATE, "record '%s' was erased", id);
            if (memcmp(h.patient.b, patient.b, 32) || h.type != type)
                return mc_err_set(MC_ERR_INVALID, "an amendment keeps the record's patient and type");
            if (h.org != au.org)
                return mc_err_set(MC_ERR_FORBIDDEN, "only the authoring organisation amends a record");
            if (ver != h.versions + 1)
                return mc_err_set(MC_ERR_STATE, "record '%s' is at version %u; an amendment is %u",
                                  id, h.versions, h.versions + 1);
        }
        h.versions = ver;
        if ((rc = put_head(ex->st, &h))) return rc;
        if ((rc = put_version(ex->st, id, ver, &v))) return rc;
    }
    if (drc) return mc_err_set(MC_ERR_MALFORMED, "record_anchor has trailing bytes");
    return put_batch(ex->st, &ex->tx_id, &batch);
}

static int access(struct mc_exec *ex, const struct mc_records_payload *p, int drc) {
    if (drc) return mc_err_set(MC_ERR_MALFORMED, "access payload does not decode");
    const mc_pubkey patient = p->patient, requester = p->requester;
    const char *id = p->id, *reason = p->reason;
    const uint32_t ver = p->version;
    const uint8_t action = p->action, purpose = p->purpose, outcome = p->outcome;
    const uint16_t status = p->status;
    const uint8_t *base = p->base, *sig = p->sig;
    const size_t base_len = p->base_len, sig_len = p->sig_len;
    int rc = require_role(ex, MC_ROLE_NODE, "an access entry");
    if (rc) return rc;
    if (action < 1 || action > MC_ACTION_MAX || purpose > MC_PURPOSE_MAX ||
        (outcome != MC_OUTCOME_SUCCESS && outcome != MC_OUTCOME_REFUSED &&
         outcome != MC_OUTCOME_SECURITY) ||
        (sig_len != 0 && sig_len != MC_SIG_BYTES) || (id[0] && !mc_record_id_valid(id)))
        return mc_err_set(MC_ERR_INVALID, "access entry fields out of range");
    mc_hash sig_hash = {{0}};
    if (sig_len) mc_sha256(&sig_hash, sig, sig_len);
    if (outcome == MC_OUTCOME_SUCCESS) {
        /* A served request must be provably the requester's, and used once.
         * The requester must be an account of the ledger, but need not be
         * active any more: the serving node judged the read against the
         * state it knew, and a revocation that reached the proposer first
         * can land ahead of the entry in the same or an earlier block. The
         * read was served all the same, so its entry is kept (the revocation
         * is on the chain beside it for the auditor); refusing it would
         * leave a served read on no ledger. */
        struct mc_account a;
        if (mc_identity_get_account(ex->st, &requester, &a))
            return mc_err_set(MC_ERR_FORBIDDEN, "a successful access needs a requester known to the ledger");
        if (mc_smart_bearer_is(base, base_len)) {
            /* a read through a SMART token (app/smart.h): the token on the
             * ledger is the requester's, of an active client, unexpired;
             * one token serves many reads */
            if (sig_len != 0) return mc_err_set(MC_ERR_INVALID, "a bearer access entry carries no signature");
            if ((rc = mc_smart_bearer_check(ex->st, base, base_len, &requester, ex->time_ms))) return rc;
        } else {
            if (sig_len != MC_SIG_BYTES || !mc_records_sigbase_names_key(base, base_len, &requester) ||
                mc_ed25519_verify_raw(sig, &requester, base, base_len))
                return mc_err_set(MC_ERR_BAD_SIGNATURE, "the requester's signature does not verify");
            if ((rc = mc_row_use_once(ex->st, "rs/", &sig_hash, ex->height))) return rc;
        }
        if (id[0]) {
            struct mc_record_head h;
            if (mc_records_get_head(ex->st, id, &h) || memcmp(h.patient.b, patient.b, 32))
                return mc_err_set(MC_ERR_INVALID, "a successful access names an existing record of the patient");
        }
        if (purpose == MC_PURPOSE_BTG) {
            if (!reason[0]) return mc_err_set(MC_ERR_INVALID, "break-glass needs a reason");
            struct mc_break_glass b;
            memset(&b, 0, sizeof b);
            b.org = a.org;
            b.requester = requester;
            b.patient = patient;
            snprintf(b.id, sizeof b.id, "%s", id);
            b.height = ex->height;
            b.time_ms = ex->time_ms;
            snprintf(b.reason, sizeof b.reason, "%s", reason);
            b.open = true;
            struct mc_key bk;
            mc_key_init(&bk, "rx/");
            mc_key_add(&bk, ex->tx_id.b, 32);
            struct mc_buf bv;
            mc_buf_init(&bv, 0);
            bg_encode(&bv, &b);
            if ((rc = mc_row_put(ex->st, &bk, &bv))) return rc;
        }
    }
    struct mc_key lk;
    mc_key_init(&lk, "rl/");
    mc_key_add(&lk, patient.b, 32);
    mc_key_u64(&lk, ex->height);
    mc_key_add(&lk, ex->tx_id.b, 32);
    struct mc_buf lv;
    mc_buf_init(&lv, 0);
    mc_enc_str8(&lv, id);
    mc_enc_u32(&lv, ver);
    mc_enc_fixed(&lv, requester.b, 32);
    mc_enc_u8(&lv, action);
    mc_enc_u8(&lv, purpose);
    mc_enc_u8(&lv, outcome);
    mc_enc_u16(&lv, status);
    mc_enc_str16(&lv, reason);
    mc_enc_u64(&lv, ex->time_ms);
    mc_enc_fixed(&lv, sig_hash.b, 32);
    return mc_row_put(ex->st, &lk, &lv);
}

static int grant(struct mc_exec *ex, const struct mc_records_payload *p, int drc,
                 const struct mc_records_payload_progress *pr) {
    struct mc_grant g;
    memset(&g, 0, sizeof g);
    g.kind = p->kind;
    g.member = p->member;
    g.org = p->org;
    g.categories = p->categories;
    g.expiry_ms = p->expiry_ms;
    const uint16_t count = p->count;
    if (!pr->head) return mc_err_set(MC_ERR_MALFORMED, "grant payload does not decode");
    int rc = require_role(ex, MC_ROLE_PATIENT, "a grant");
    if (rc) return rc;
    if (g.categories == 0) return mc_err_set(MC_ERR_INVALID, "a grant names at least one category");
    if (g.expiry_ms && g.expiry_ms <= ex->time_ms)
        return mc_err_set(MC_ERR_INVALID, "the grant's expiry is already past");
    if (g.kind == MC_GRANTEE_MEMBER) {
        struct mc_account m;
        if (g.org != 0) return mc_err_set(MC_ERR_INVALID, "a member grant names no organisation");
        if (mc_identity_get_account(ex->st, &g.member, &m) || m.org == 0 ||
            m.role == MC_ROLE_NODE || m.status != MC_ACCOUNT_ACTIVE)
            return mc_err_set(MC_ERR_INVALID, "the grantee is not an active member of an organisation");
    } else if (g.kind == MC_GRANTEE_ORG) {
        struct mc_org o;
        static const mc_pubkey zero;
        if (memcmp(g.member.b, zero.b, 32)) return mc_err_set(MC_ERR_INVALID, "an organisation grant names no member");
        if (mc_identity_get_org(ex->st, g.org, &o))
            return mc_err_set(MC_ERR_INVALID, "organisation %u does not exist", g.org);
    } else {
        return mc_err_set(MC_ERR_INVALID, "grantee kind %u is unknown", g.kind);
    }
    if (count > MC_GRANT_TX_KEYS_MAX) return mc_err_set(MC_ERR_TOO_LARGE, "too many sealed keys");
    for (uint16_t i = 0; i < count; i++) {
        if (i >= pr->items) return mc_err_set(MC_ERR_MALFORMED, "grant key %u does not decode", i);
        const char *id = p->keys[i].id;
        const uint32_t ver = p->keys[i].version;
        const mc_pubkey to = p->keys[i].to;
        const uint8_t *sealed = p->keys[i].sealed;
        struct mc_record_head h;
        if (mc_records_get_head(ex->st, id, &h) || memcmp(h.patient.b, ex->sender.key.b, 32))
            return mc_err_set(MC_ERR_FORBIDDEN, "record '%s' is not one of the patient's", id);
        if (h.erased) return mc_err_set(MC_ERR_STATE, "record '%s' was erased", id);
        if (ver < 1 || ver > h.versions) return mc_err_set(MC_ERR_INVALID, "record '%s' has no version %u", id, ver);
        if (!(h.category & g.categories))
            return mc_err_set(MC_ERR_INVALID, "record '%s' is outside the granted categories", id);
        struct grant_keys gk;
        if ((rc = get_grant_keys(ex->st, id, ver, &gk))) return rc;
        uint8_t k = 0;
        while (k < gk.n && memcmp(gk.to[k].b, to.b, 32)) k++;
        if (k == gk.n) {
            if (gk.n == MC_GRANT_KEYS_MAX)
                return mc_err_set(MC_ERR_FULL, "record '%s' has %d grant keys already", id, MC_GRANT_KEYS_MAX);
            gk.n++;
        }
        gk.to[k] = to;
        memcpy(gk.sealed[k], sealed, MC_SEALED_KEY_BYTES);
        if ((rc = put_grant_keys(ex->st, id, ver, &gk))) return rc;
    }
    if (drc) return mc_err_set(MC_ERR_MALFORMED, "grant has trailing bytes");
    g.height = ex->height;
    struct mc_key k;
    grant_key(&k, &ex->sender.key, &ex->tx_id);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    grant_encode(&v, &g);
    return mc_row_put(ex->st, &k, &v);
}

static int revoke_grant(struct mc_exec *ex, const struct mc_records_payload *p, int drc) {
    if (drc) return mc_err_set(MC_ERR_MALFORMED, "revoke_grant payload does not decode");
    const mc_hash id = p->ref;
    int rc = require_role(ex, MC_ROLE_PATIENT, "a revocation");
    if (rc) return rc;
    struct mc_key k;
    grant_key(&k, &ex->sender.key, &id);
    struct mc_buf v;
    rc = mc_row_get(ex->st, &k, &v);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_NOT_FOUND, "the patient has no such grant");
    if (rc) return rc;
    struct mc_grant g;
    rc = grant_decode(&g, v.data, v.len);
    mc_buf_deinit(&v);
    if (rc) return rc;
    if (g.revoked_height) return mc_err_set(MC_ERR_STATE, "the grant was already revoked");
    g.revoked_height = ex->height;
    mc_buf_init(&v, 0);
    grant_encode(&v, &g);
    return mc_row_put(ex->st, &k, &v);
}

static int erase(struct mc_exec *ex, const struct mc_records_payload *p, int drc,
                 const struct mc_records_payload_progress *pr) {
    const uint16_t count = p->count;
    if (!pr->head) return mc_err_set(MC_ERR_MALFORMED, "erase payload does not decode");
    int rc = require_role(ex, MC_ROLE_PATIENT, "an erasure");
    if (rc) return rc;
    if (count == 0 || count > MC_RECORDS_BATCH_MAX)
        return mc_err_set(MC_ERR_INVALID, "an erasure names 1 to %d records", MC_RECORDS_BATCH_MAX);
    for (uint16_t i = 0; i < count; i++) {
        if (i >= pr->items) return mc_err_set(MC_ERR_MALFORMED, "erase entry %u does not decode", i);
        const char *id = p->erase_ids[i];
        struct mc_record_head h;
        if (mc_records_get_head(ex->st, id, &h) || memcmp(h.patient.b, ex->sender.key.b, 32))
            return mc_err_set(MC_ERR_FORBIDDEN, "record '%s' is not one of the patient's", id);
        if (h.erased) return mc_err_set(MC_ERR_STATE, "record '%s' was already erased", id);
        for (uint32_t ver = 1; ver <= h.versions; ver++) {
            struct mc_key k;
            key_version(&k, "rk/", id, ver);
            if ((rc = mc_state_del(ex->st, k.b, k.n))) return rc;
            struct mc_record_version v;
            if ((rc = mc_records_get_version(ex->st, id, ver, &v))) return rc;
            struct mc_record_batch b;
            if ((rc = mc_records_get_batch(ex->st, &v.batch, &b))) return rc;
            if (b.live > 0) b.live--;
            if (b.live == 0 && b.has_keys) {
                b.has_keys = false;
                memset(b.sealed_patient, 0, sizeof b.sealed_patient);
                memset(b.sealed_node, 0, sizeof b.sealed_node);
            }
            if ((rc = put_batch(ex->st, &v.batch, &b))) return rc;
        }
        h.erased = true;
        h.erased_height = ex->height;
        if ((rc = put_head(ex->st, &h))) return rc;
    }
    if (drc) return mc_err_set(MC_ERR_MALFORMED, "erase has trailing bytes");
    return 0;
}

static int review(struct mc_exec *ex, const struct mc_records_payload *p, int drc) {
    if (drc) return mc_err_set(MC_ERR_MALFORMED, "review payload does not decode");
    const mc_hash id = p->ref;
    const char *note = p->reason; /* a str8: at most 255 bytes, as the row's note */
    int rc = require_role(ex, MC_ROLE_AUDITOR, "a break-glass review");
    if (rc) return rc;
    struct mc_break_glass b;
    rc = mc_records_get_break_glass(ex->st, &id, &b);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_NOT_FOUND, "no break-glass access with this id");
    if (rc) return rc;
    if (b.org != ex->sender.org)
        return mc_err_set(MC_ERR_FORBIDDEN, "only an auditor of the requester's organisation reviews it");
    if (!b.open) return mc_err_set(MC_ERR_STATE, "the break-glass access was already reviewed");
    b.open = false;
    b.reviewer = ex->sender.key;
    b.closed_height = ex->height;
    snprintf(b.note, sizeof b.note, "%.*s", (int)sizeof b.note - 1, note);
    struct mc_key k;
    mc_key_init(&k, "rx/");
    mc_key_add(&k, id.b, 32);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    bg_encode(&v, &b);
    return mc_row_put(ex->st, &k, &v);
}

int mc_records_execute(struct mc_exec *ex) {
    const uint16_t type = ex->tx->type;
    if (type < MC_TX_RECORD_ANCHOR || type > MC_TX_RECORD_REVIEW)
        return mc_err_set(MC_ERR_INVALID, "not a record transaction");
    /* The payload is taken apart by its one decoder (records_payload.c).
     * Its result drc and progress let each handler refuse a structurally
     * broken payload at the same point, with the same code, as it judges
     * the parts that did decode: fixed fields, then item by item. */
    struct mc_records_payload *p = malloc(sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    struct mc_records_payload_progress pr;
    int drc = mc_records_payload_decode_progress(p, type, ex->tx->payload, ex->tx->payload_len, &pr);
    int rc;
    switch (type) {
    case MC_TX_RECORD_ANCHOR: rc = anchor(ex, p, drc, &pr); break;
    case MC_TX_RECORD_ACCESS: rc = access(ex, p, drc); break;
    case MC_TX_RECORD_GRANT: rc = grant(ex, p, drc, &pr); break;
    case MC_TX_RECORD_REVOKE: rc = revoke_grant(ex, p, drc); break;
    case MC_TX_RECORD_ERASE: rc = erase(ex, p, drc, &pr); break;
    default: rc = review(ex, p, drc); break;
    }
    free(p);
    return rc;
}

int mc_records_anchored_blobs(const uint8_t *payload, size_t len,
                              void (*fn)(void *ctx, const char *id, uint32_t version,
                                         const mc_hash *ciphertext, uint32_t size),
                              void *ctx) {
    struct mc_records_payload *p = malloc(sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    struct mc_records_payload_progress pr;
    int rc = mc_records_payload_decode_progress(p, MC_TX_RECORD_ANCHOR, payload, len, &pr);
    /* the entries before a fault are reported, as the header says */
    for (uint16_t i = 0; i < pr.items; i++) {
        const struct mc_records_anchor_entry *e = &p->entries[i];
        fn(ctx, e->id, e->version, &e->ciphertext, e->size);
    }
    free(p);
    return rc ? mc_err_set(MC_ERR_MALFORMED, "record_anchor payload does not decode") : 0;
}

int mc_records_erased_blobs(struct mc_state *st, const uint8_t *payload, size_t len,
                            void (*fn)(void *ctx, const mc_hash *ciphertext), void *ctx) {
    struct mc_records_payload *p = malloc(sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    struct mc_records_payload_progress pr;
    int rc = mc_records_payload_decode_progress(p, MC_TX_RECORD_ERASE, payload, len, &pr);
    for (uint16_t i = 0; i < pr.items; i++) {
        const char *id = p->erase_ids[i];
        struct mc_record_head h;
        if (mc_records_get_head(st, id, &h)) continue;
        for (uint32_t v = 1; v <= h.versions; v++) {
            struct mc_record_version rv;
            if (mc_records_get_version(st, id, v, &rv) == 0) fn(ctx, &rv.ciphertext);
        }
    }
    free(p);
    return rc ? mc_err_set(MC_ERR_MALFORMED, "erase payload does not decode") : 0;
}

/* --- rules shared by the ledger and the API --- */

enum mc_records_author_verdict mc_records_author_check(struct mc_state *st,
                                                       const mc_pubkey *author,
                                                       const mc_pubkey *node,
                                                       const mc_pubkey *patient,
                                                       struct mc_account *author_out) {
    struct mc_account au, nd, pa;
    memset(&au, 0, sizeof au);
    int found = mc_identity_get_account(st, author, &au);
    if (author_out) *author_out = au;
    if (found || au.status != MC_ACCOUNT_ACTIVE) return MC_AUTHOR_NOT_ACTIVE;
    struct mc_org org;
    if (au.role != MC_ROLE_CLINICIAN || mc_identity_get_org(st, au.org, &org) ||
        !mc_org_is_provider(org.kind))
        return MC_AUTHOR_NOT_CLINICIAN;
    if (mc_identity_get_account(st, node, &nd) || nd.org != au.org) return MC_AUTHOR_OTHER_ORG;
    if (mc_identity_get_account(st, patient, &pa) || pa.role != MC_ROLE_PATIENT ||
        pa.status != MC_ACCOUNT_ACTIVE)
        return MC_AUTHOR_BAD_PATIENT;
    return MC_AUTHOR_ALLOWED;
}
