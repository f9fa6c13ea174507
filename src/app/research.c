/* Research consent, studies, dataset-query log and the trial life cycle
 * (formats and rules in research.h). Deterministic: block height and time
 * from struct mc_exec, key-ordered scans, no floats, no randomness. */
#include "app/row.h"
#include "app/research.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/txtypes.h"
#include "base/hex.h"

/* --- names and tokens --- */

const char *mc_consent_scope_name(uint8_t s) {
    return s == MC_CONSENT_STUDY ? "study" : s == MC_CONSENT_PURPOSE ? "purpose" : "unknown";
}
const char *mc_consent_action_name(uint8_t a) {
    return a == MC_CONSENT_PERMIT ? "permit" : a == MC_CONSENT_WITHDRAW ? "withdraw" : "unknown";
}
const char *mc_outcome_kind_name(uint8_t k) {
    return k == MC_OUTCOME_PRIMARY ? "primary" : k == MC_OUTCOME_SECONDARY ? "secondary" : "unknown";
}
const char *mc_study_phase_name(uint8_t p) {
    static const char *const names[] = {"unknown", "enrolling", "closed", "locked", "reported"};
    return p <= MC_STUDY_REPORTED ? names[p] : "unknown";
}

bool mc_study_id_valid(const char *id) { return mc_record_id_valid(id); }

bool mc_research_purpose_token_valid(const char *p) {
    size_t n = 0;
    for (; p && p[n]; n++) {
        char c = p[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
        if (n >= MC_PURPOSE_TOKEN_MAX) return false;
    }
    return n >= 1;
}

/* Printable text without control characters, 1..MC_RESEARCH_TEXT_MAX bytes. */
static bool text_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > MC_RESEARCH_TEXT_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

/* --- keys --- */

/* prefix || id || 0x00: ids hold no NUL, so one study's rows never prefix
 * another's. */
static void key_study(struct mc_key *k, const char *prefix, const char *id) {
    mc_key_init(k, prefix);
    mc_key_add(k, id, strlen(id));
    mc_key_u8(k, 0);
}
/* scope || str8 target */
static void key_target(struct mc_key *k, uint8_t scope, const char *target) {
    size_t n = strlen(target);
    mc_key_u8(k, scope);
    mc_key_u8(k, (uint8_t)n);
    mc_key_add(k, target, n);
}




/* --- study rows --- */

static void study_encode(struct mc_buf *v, const struct mc_study *s) {
    mc_enc_str8(v, s->title);
    mc_enc_str8(v, s->sponsor);
    mc_enc_str8(v, s->registry_id);
    mc_enc_fixed(v, s->protocol.b, 32);
    mc_enc_str8(v, s->purpose);
    mc_enc_u8(v, s->categories);
    mc_enc_u16(v, s->k);
    mc_enc_u32(v, s->org);
    mc_enc_fixed(v, s->registrant.b, 32);
    mc_enc_u64(v, s->height);
    mc_enc_u64(v, s->time_ms);
    mc_enc_u8(v, s->phase);
    mc_enc_u32(v, s->amendments);
    mc_enc_u32(v, s->enrolled);
    mc_enc_fixed(v, s->locked.b, 32);
    mc_enc_u64(v, s->locked_height);
    mc_enc_u16(v, s->outcome_count);
    for (uint16_t i = 0; i < s->outcome_count; i++) {
        mc_enc_u8(v, s->outcomes[i].kind);
        mc_enc_u32(v, s->outcomes[i].amendment);
        mc_enc_str8(v, s->outcomes[i].text);
    }
    mc_enc_u8(v, s->researcher_count);
    for (uint8_t i = 0; i < s->researcher_count; i++) mc_enc_fixed(v, s->researchers[i].b, 32);
}

static int study_decode(struct mc_study *s, const uint8_t *p, size_t n) {
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    mc_dec_str8(&d, s->title, sizeof s->title);
    mc_dec_str8(&d, s->sponsor, sizeof s->sponsor);
    mc_dec_str8(&d, s->registry_id, sizeof s->registry_id);
    mc_dec_fixed(&d, s->protocol.b, 32);
    mc_dec_str8(&d, s->purpose, sizeof s->purpose);
    s->categories = mc_dec_u8(&d);
    s->k = mc_dec_u16(&d);
    s->org = mc_dec_u32(&d);
    mc_dec_fixed(&d, s->registrant.b, 32);
    s->height = mc_dec_u64(&d);
    s->time_ms = mc_dec_u64(&d);
    s->phase = mc_dec_u8(&d);
    s->amendments = mc_dec_u32(&d);
    s->enrolled = mc_dec_u32(&d);
    mc_dec_fixed(&d, s->locked.b, 32);
    s->locked_height = mc_dec_u64(&d);
    s->outcome_count = mc_dec_u16(&d);
    if (s->outcome_count > MC_RESEARCH_OUTCOMES_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
    for (uint16_t i = 0; i < s->outcome_count && !d.err; i++) {
        s->outcomes[i].kind = mc_dec_u8(&d);
        s->outcomes[i].amendment = mc_dec_u32(&d);
        mc_dec_str8(&d, s->outcomes[i].text, sizeof s->outcomes[i].text);
    }
    s->researcher_count = mc_dec_u8(&d);
    if (s->researcher_count > MC_RESEARCH_RESEARCHERS_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
    for (uint8_t i = 0; i < s->researcher_count && !d.err; i++)
        mc_dec_fixed(&d, s->researchers[i].b, 32);
    return mc_dec_finish(&d) ? mc_err_set(MC_ERR_TAMPERED, "study row does not decode") : 0;
}

int mc_research_get_study(struct mc_state *st, const char *id, struct mc_study *out) {
    if (!mc_study_id_valid(id)) return mc_err_set(MC_ERR_NOT_FOUND, "no such study");
    struct mc_key k;
    key_study(&k, "ys/", id);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_NOT_FOUND, "study '%s' is not registered", id);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", id);
    rc = study_decode(out, v.data, v.len);
    mc_buf_deinit(&v);
    return rc;
}

static int put_study(struct mc_state *st, const struct mc_study *s) {
    struct mc_key k;
    key_study(&k, "ys/", s->id);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    study_encode(&v, s);
    return mc_row_put(st, &k, &v);
}

/* --- consent rows --- */

static void consent_head_key(struct mc_key *k, const mc_pubkey *patient, uint8_t scope,
                             const char *target) {
    mc_key_init(k, "yh/");
    mc_key_add(k, patient->b, 32);
    key_target(k, scope, target);
}

static void consent_version_key(struct mc_key *k, const mc_pubkey *patient, uint8_t scope,
                                const char *target, uint32_t version) {
    mc_key_init(k, "yc/");
    mc_key_add(k, patient->b, 32);
    key_target(k, scope, target);
    mc_key_u32(k, version);
}

int mc_research_get_consent(struct mc_state *st, const mc_pubkey *patient, uint8_t scope,
                            const char *target, struct mc_consent_version *out) {
    if (strlen(target) > MC_STUDY_ID_MAX) return MC_ERR_NOT_FOUND;
    struct mc_key k;
    consent_head_key(&k, patient, scope, target);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    out->scope = scope;
    snprintf(out->target, sizeof out->target, "%s", target);
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    out->version = mc_dec_u32(&d);
    out->action = mc_dec_u8(&d);
    out->categories = mc_dec_u8(&d);
    out->expiry_ms = mc_dec_u64(&d);
    out->height = mc_dec_u64(&d);
    out->time_ms = mc_dec_u64(&d);
    return mc_row_finish(&d, &v, "consent head");
}

static int consent_history_decode(struct mc_consent_version *c, const uint8_t *p, size_t n) {
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    c->action = mc_dec_u8(&d);
    c->categories = mc_dec_u8(&d);
    c->expiry_ms = mc_dec_u64(&d);
    c->height = mc_dec_u64(&d);
    c->time_ms = mc_dec_u64(&d);
    mc_dec_fixed(&d, c->tx_id.b, 32);
    return mc_dec_finish(&d) ? mc_err_set(MC_ERR_TAMPERED, "consent row does not decode") : 0;
}

int mc_research_get_consent_version(struct mc_state *st, const mc_pubkey *patient, uint8_t scope,
                                    const char *target, uint32_t version,
                                    struct mc_consent_version *out) {
    if (strlen(target) > MC_STUDY_ID_MAX) return MC_ERR_NOT_FOUND;
    struct mc_key k;
    consent_version_key(&k, patient, scope, target, version);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    out->scope = scope;
    snprintf(out->target, sizeof out->target, "%s", target);
    out->version = version;
    rc = consent_history_decode(out, v.data, v.len);
    mc_buf_deinit(&v);
    return rc;
}

static bool consent_active(const struct mc_consent_version *c, uint8_t study_cats, uint64_t now_ms) {
    return c->action == MC_CONSENT_PERMIT && (c->expiry_ms == 0 || c->expiry_ms > now_ms) &&
           (c->categories & study_cats) == study_cats;
}

bool mc_research_consent_covers(struct mc_state *st, const mc_pubkey *patient,
                                const struct mc_study *study, uint64_t now_ms,
                                struct mc_consent_version *basis) {
    struct mc_consent_version c;
    memset(&c, 0, sizeof c);
    int rc = mc_research_get_consent(st, patient, MC_CONSENT_STUDY, study->id, &c);
    if (rc == MC_ERR_NOT_FOUND && study->purpose[0])
        rc = mc_research_get_consent(st, patient, MC_CONSENT_PURPOSE, study->purpose, &c);
    if (rc) memset(&c, 0, sizeof c);
    if (basis) *basis = c;
    return rc == 0 && consent_active(&c, study->categories, now_ms);
}

/* --- results rows --- */

int mc_research_get_results(struct mc_state *st, const char *id, mc_hash *dataset, uint64_t *height,
                            struct mc_study_outcome *outcomes, uint8_t *count) {
    if (!mc_study_id_valid(id)) return MC_ERR_NOT_FOUND;
    struct mc_key k;
    key_study(&k, "yr/", id);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    mc_dec_fixed(&d, dataset->b, 32);
    *height = mc_dec_u64(&d);
    *count = mc_dec_u8(&d);
    if (*count > MC_RESEARCH_OUTCOMES_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
    for (uint8_t i = 0; i < *count && !d.err; i++) {
        memset(&outcomes[i], 0, sizeof outcomes[i]);
        outcomes[i].kind = mc_dec_u8(&d);
        mc_dec_str8(&d, outcomes[i].text, sizeof outcomes[i].text);
    }
    return mc_row_finish(&d, &v, "results");
}

/* --- scans --- */

struct cand_scan {
    size_t prefix_len;
    int (*fn)(void *ctx, const mc_pubkey *patient);
    void *ctx;
    struct mc_state *st;
    const struct mc_study *study;
    bool second;            /* the purpose index: skip patients seen in the study's */
};

static int cand_row(void *c, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct cand_scan *s = c;
    if (kn != s->prefix_len + 32) return 0;
    mc_pubkey p;
    memcpy(p.b, k + s->prefix_len, 32);
    if (s->second) {
        struct mc_consent_version cv;
        if (mc_research_get_consent(s->st, &p, MC_CONSENT_STUDY, s->study->id, &cv) == 0) return 0;
    }
    return s->fn(s->ctx, &p) != 0;
}

int mc_research_scan_candidates(struct mc_state *st, const struct mc_study *study,
                                int (*fn)(void *ctx, const mc_pubkey *patient), void *ctx) {
    struct mc_key k;
    mc_key_init(&k, "yi/");
    key_target(&k, MC_CONSENT_STUDY, study->id);
    struct cand_scan s = {.prefix_len = k.n, .fn = fn, .ctx = ctx, .st = st, .study = study};
    int rc = mc_state_scan(st, k.b, k.n, cand_row, &s);
    if (rc || !study->purpose[0]) return rc;
    mc_key_init(&k, "yi/");
    key_target(&k, MC_CONSENT_PURPOSE, study->purpose);
    s.prefix_len = k.n;
    s.second = true;
    return mc_state_scan(st, k.b, k.n, cand_row, &s);
}

struct consent_scan {
    int (*fn)(void *ctx, const struct mc_consent_version *c);
    void *ctx;
};

static int consent_row(void *c, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct consent_scan *s = c;
    /* "yc/" patient(32) scope len target u32 */
    if (kn < 3 + 32 + 2 + 4) return 0;
    size_t tl = k[36];
    if (kn != 3 + 32 + 2 + tl + 4 || tl > MC_STUDY_ID_MAX) return 0;
    struct mc_consent_version cv;
    memset(&cv, 0, sizeof cv);
    cv.scope = k[35];
    memcpy(cv.target, k + 37, tl);
    cv.target[tl] = 0;
    const uint8_t *vp = k + 37 + tl;
    cv.version = (uint32_t)vp[0] << 24 | (uint32_t)vp[1] << 16 | (uint32_t)vp[2] << 8 | vp[3];
    int rc = consent_history_decode(&cv, v, vn);
    if (rc) return rc;
    return s->fn(s->ctx, &cv) != 0;
}

int mc_research_scan_consents(struct mc_state *st, const mc_pubkey *patient,
                              int (*fn)(void *ctx, const struct mc_consent_version *c), void *ctx) {
    struct mc_key k;
    mc_key_init(&k, "yc/");
    mc_key_add(&k, patient->b, 32);
    struct consent_scan s = {.fn = fn, .ctx = ctx};
    return mc_state_scan(st, k.b, k.n, consent_row, &s);
}

struct enrol_scan {
    size_t prefix_len;
    int (*fn)(void *ctx, const struct mc_enrolment *e);
    void *ctx;
};

static int enrolment_decode(struct mc_enrolment *e, const uint8_t *v, size_t vn) {
    struct mc_dec d;
    mc_dec_init(&d, v, vn);
    e->height = mc_dec_u64(&d);
    e->time_ms = mc_dec_u64(&d);
    e->consent_scope = mc_dec_u8(&d);
    e->consent_version = mc_dec_u32(&d);
    mc_dec_fixed(&d, e->enrolled_by.b, 32);
    return mc_dec_finish(&d) ? mc_err_set(MC_ERR_TAMPERED, "enrolment row does not decode") : 0;
}

static int enrol_row(void *c, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct enrol_scan *s = c;
    if (kn != s->prefix_len + 32) return 0;
    struct mc_enrolment e;
    memset(&e, 0, sizeof e);
    memcpy(e.patient.b, k + s->prefix_len, 32);
    int rc = enrolment_decode(&e, v, vn);
    if (rc) return rc;
    return s->fn(s->ctx, &e) != 0;
}

int mc_research_scan_enrolments(struct mc_state *st, const char *study,
                                int (*fn)(void *ctx, const struct mc_enrolment *e), void *ctx) {
    if (!mc_study_id_valid(study)) return MC_ERR_NOT_FOUND;
    struct mc_key k;
    key_study(&k, "ye/", study);
    struct enrol_scan s = {.prefix_len = k.n, .fn = fn, .ctx = ctx};
    return mc_state_scan(st, k.b, k.n, enrol_row, &s);
}

struct query_scan {
    size_t prefix_len;
    int (*fn)(void *ctx, const struct mc_research_query *q);
    void *ctx;
};

static int query_row(void *c, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn) {
    struct query_scan *s = c;
    if (kn != s->prefix_len + 8 + 32) return 0;
    struct mc_research_query q;
    memset(&q, 0, sizeof q);
    for (int i = 0; i < 8; i++) q.height = q.height << 8 | k[s->prefix_len + (size_t)i];
    memcpy(q.tx_id.b, k + s->prefix_len + 8, 32);
    struct mc_dec d;
    mc_dec_init(&d, v, vn);
    mc_dec_fixed(&d, q.requester.b, 32);
    q.outcome = mc_dec_u8(&d);
    q.status = mc_dec_u16(&d);
    mc_dec_str16(&d, q.reason, sizeof q.reason);
    mc_dec_fixed(&d, q.dataset.b, 32);
    q.patients = mc_dec_u32(&d);
    q.records = mc_dec_u32(&d);
    q.as_of_height = mc_dec_u64(&d);
    q.time_ms = mc_dec_u64(&d);
    mc_dec_fixed(&d, q.signature_hash.b, 32);
    if (mc_dec_finish(&d)) return mc_err_set(MC_ERR_TAMPERED, "query row does not decode");
    return s->fn(s->ctx, &q) != 0;
}

int mc_research_scan_queries(struct mc_state *st, const char *study,
                             int (*fn)(void *ctx, const struct mc_research_query *q), void *ctx) {
    struct mc_key k;
    key_study(&k, "yq/", study);
    struct query_scan s = {.prefix_len = k.n, .fn = fn, .ctx = ctx};
    return mc_state_scan(st, k.b, k.n, query_row, &s);
}

/* --- execution helpers --- */

static int require_role(struct mc_exec *ex, uint8_t role, const char *what) {
    if (ex->sender.role != role)
        return mc_err_set(MC_ERR_FORBIDDEN, "%s must be signed by a %s (sender is %s)", what,
                          mc_role_name(role), mc_role_name(ex->sender.role));
    return 0;
}

/* Outcome list entry: | u8 kind | str8 text |. */
static int decode_outcome(struct mc_dec *d, struct mc_study_outcome *o, uint16_t i) {
    memset(o, 0, sizeof *o);
    o->kind = mc_dec_u8(d);
    mc_dec_str8(d, o->text, sizeof o->text);
    if (d->err) return mc_err_set(MC_ERR_MALFORMED, "outcome %u does not decode", i);
    if (o->kind != MC_OUTCOME_PRIMARY && o->kind != MC_OUTCOME_SECONDARY)
        return mc_err_set(MC_ERR_INVALID, "outcome %u: kind %u is neither primary (1) nor secondary (2)",
                          i, o->kind);
    if (!text_valid(o->text)) return mc_err_set(MC_ERR_INVALID, "outcome %u: empty or not printable", i);
    return 0;
}

static int find_outcome(const struct mc_study *s, const char *text) {
    for (uint16_t i = 0; i < s->outcome_count; i++)
        if (strcmp(s->outcomes[i].text, text) == 0) return i;
    return -1;
}

/* Loads the study named first in the payload and checks the sender is on
 * its team (registrant, listed researcher, admin of its organisation). */
static int load_team_study(struct mc_exec *ex, struct mc_dec *d, struct mc_study *s,
                           const char *what) {
    char id[MC_STUDY_ID_MAX + 1];
    mc_dec_str8(d, id, sizeof id);
    if (d->err) return mc_err_set(MC_ERR_MALFORMED, "%s payload does not decode", what);
    int rc = mc_research_get_study(ex->st, id, s);
    if (rc) return rc;
    bool team = memcmp(ex->sender.key.b, s->registrant.b, 32) == 0 ||
                (ex->sender.role == MC_ROLE_ADMIN && ex->sender.org == s->org);
    for (uint8_t i = 0; i < s->researcher_count && !team; i++)
        team = memcmp(ex->sender.key.b, s->researchers[i].b, 32) == 0;
    if (!team)
        return mc_err_set(MC_ERR_FORBIDDEN, "%s must be signed by the study team of '%s'", what, id);
    return 0;
}

/* --- transactions --- */

static int study_register(struct mc_exec *ex, struct mc_dec *d, struct mc_study *s) {
    memset(s, 0, sizeof *s);
    mc_dec_str8(d, s->id, sizeof s->id);
    mc_dec_str8(d, s->title, sizeof s->title);
    mc_dec_str8(d, s->sponsor, sizeof s->sponsor);
    mc_dec_str8(d, s->registry_id, sizeof s->registry_id);
    mc_dec_fixed(d, s->protocol.b, 32);
    mc_dec_str8(d, s->purpose, sizeof s->purpose);
    s->categories = mc_dec_u8(d);
    s->k = mc_dec_u16(d);
    uint8_t n = mc_dec_u8(d);
    if (d->err) return mc_err_set(MC_ERR_MALFORMED, "study_register payload does not decode");
    if (n > MC_RESEARCH_OUTCOMES_MAX) return mc_err_set(MC_ERR_TOO_LARGE, "at most %d outcomes", MC_RESEARCH_OUTCOMES_MAX);
    bool primary = false;
    for (uint8_t i = 0; i < n; i++) {
        int rc = decode_outcome(d, &s->outcomes[i], i);
        if (rc) return rc;
        if (find_outcome(s, s->outcomes[i].text) >= 0)
            return mc_err_set(MC_ERR_INVALID, "outcome '%s' is listed twice", s->outcomes[i].text);
        s->outcome_count = (uint16_t)(i + 1);
        primary |= s->outcomes[i].kind == MC_OUTCOME_PRIMARY;
    }
    s->researcher_count = mc_dec_u8(d);
    if (s->researcher_count > MC_RESEARCH_RESEARCHERS_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "at most %d researchers", MC_RESEARCH_RESEARCHERS_MAX);
    for (uint8_t i = 0; i < s->researcher_count; i++) mc_dec_fixed(d, s->researchers[i].b, 32);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "study_register payload does not decode");
    if (ex->sender.role != MC_ROLE_ADMIN && ex->sender.role != MC_ROLE_RESEARCHER)
        return mc_err_set(MC_ERR_FORBIDDEN, "a study is registered by an organisation admin or researcher (sender is %s)",
                          mc_role_name(ex->sender.role));
    if (!mc_study_id_valid(s->id)) return mc_err_set(MC_ERR_INVALID, "study id '%s' is not a FHIR id", s->id);
    if (!text_valid(s->title) || !text_valid(s->sponsor) || !text_valid(s->registry_id))
        return mc_err_set(MC_ERR_INVALID, "title, sponsor and registry id are printable, non-empty texts");
    if (s->purpose[0] && !mc_research_purpose_token_valid(s->purpose))
        return mc_err_set(MC_ERR_INVALID, "purpose '%s' is not [a-z0-9-]{1,64}", s->purpose);
    if (s->categories == 0) return mc_err_set(MC_ERR_INVALID, "a study names at least one record category");
    if (s->k < 1 || s->k > MC_RESEARCH_K_MAX)
        return mc_err_set(MC_ERR_INVALID, "k is 1 to %d, not %u", MC_RESEARCH_K_MAX, s->k);
    if (!primary) return mc_err_set(MC_ERR_INVALID, "a study pre-specifies at least one primary outcome");
    for (uint8_t i = 0; i < s->researcher_count; i++) {
        struct mc_account a;
        if (mc_identity_get_account(ex->st, &s->researchers[i], &a) || a.role != MC_ROLE_RESEARCHER ||
            a.status != MC_ACCOUNT_ACTIVE)
            return mc_err_set(MC_ERR_INVALID, "researcher %u is not an active researcher account", i);
        for (uint8_t j = 0; j < i; j++)
            if (memcmp(s->researchers[i].b, s->researchers[j].b, 32) == 0)
                return mc_err_set(MC_ERR_INVALID, "researcher %u is listed twice", i);
    }
    struct mc_buf probe;
    struct mc_key k;
    key_study(&k, "ys/", s->id);
    int rc = mc_row_get(ex->st, &k, &probe);
    if (rc == 0) {
        mc_buf_deinit(&probe);
        return mc_err_set(MC_ERR_EXISTS, "study '%s' is already registered", s->id);
    }
    if (rc != MC_ERR_NOT_FOUND) return rc;
    s->org = ex->sender.org;
    s->registrant = ex->sender.key;
    s->height = ex->height;
    s->time_ms = ex->time_ms;
    s->phase = MC_STUDY_ENROLLING;
    return put_study(ex->st, s);
}

static int consent(struct mc_exec *ex, struct mc_dec *d) {
    struct mc_consent_version c;
    memset(&c, 0, sizeof c);
    c.scope = mc_dec_u8(d);
    mc_dec_str8(d, c.target, sizeof c.target);
    c.version = mc_dec_u32(d);
    c.action = mc_dec_u8(d);
    c.categories = mc_dec_u8(d);
    c.expiry_ms = mc_dec_u64(d);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "research_consent payload does not decode");
    int rc = require_role(ex, MC_ROLE_PATIENT, "a research consent");
    if (rc) return rc;
    if (c.scope == MC_CONSENT_STUDY) {
        struct mc_study *s = malloc(sizeof *s);
        if (!s) return MC_ERR_NOMEM;
        rc = mc_research_get_study(ex->st, c.target, s);
        free(s);
        if (rc) return rc;
    } else if (c.scope == MC_CONSENT_PURPOSE) {
        if (!mc_research_purpose_token_valid(c.target))
            return mc_err_set(MC_ERR_INVALID, "purpose '%s' is not [a-z0-9-]{1,64}", c.target);
    } else {
        return mc_err_set(MC_ERR_INVALID, "consent scope %u is neither study (1) nor purpose (2)", c.scope);
    }
    if (c.action == MC_CONSENT_PERMIT) {
        if (c.categories == 0) return mc_err_set(MC_ERR_INVALID, "a consent names at least one category");
        if (c.expiry_ms && c.expiry_ms <= ex->time_ms)
            return mc_err_set(MC_ERR_INVALID, "the consent's expiry is already past");
    } else if (c.action == MC_CONSENT_WITHDRAW) {
        if (c.categories || c.expiry_ms)
            return mc_err_set(MC_ERR_MALFORMED, "a withdrawal carries no categories and no expiry");
    } else {
        return mc_err_set(MC_ERR_INVALID, "consent action %u is neither permit (1) nor withdraw (2)", c.action);
    }
    struct mc_consent_version head;
    rc = mc_research_get_consent(ex->st, &ex->sender.key, c.scope, c.target, &head);
    uint32_t current = 0;
    if (rc == 0) current = head.version;
    else if (rc != MC_ERR_NOT_FOUND) return rc;
    if (c.version <= current)
        return mc_err_set(MC_ERR_STATE, "consent version %u is stale: version %u is on the chain", c.version, current);
    if (c.version != current + 1)
        return mc_err_set(MC_ERR_INVALID, "consent version %u skips ahead: the next is %u", c.version, current + 1);
    if (c.action == MC_CONSENT_WITHDRAW && (current == 0 || head.action == MC_CONSENT_WITHDRAW))
        return mc_err_set(MC_ERR_STATE, "there is no consent in force to withdraw");
    c.height = ex->height;
    c.time_ms = ex->time_ms;
    struct mc_key k;
    consent_head_key(&k, &ex->sender.key, c.scope, c.target);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u32(&v, c.version);
    mc_enc_u8(&v, c.action);
    mc_enc_u8(&v, c.categories);
    mc_enc_u64(&v, c.expiry_ms);
    mc_enc_u64(&v, c.height);
    mc_enc_u64(&v, c.time_ms);
    if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    consent_version_key(&k, &ex->sender.key, c.scope, c.target, c.version);
    mc_buf_init(&v, 0);
    mc_enc_u8(&v, c.action);
    mc_enc_u8(&v, c.categories);
    mc_enc_u64(&v, c.expiry_ms);
    mc_enc_u64(&v, c.height);
    mc_enc_u64(&v, c.time_ms);
    mc_enc_fixed(&v, ex->tx_id.b, 32);
    if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    mc_key_init(&k, "yi/");
    key_target(&k, c.scope, c.target);
    mc_key_add(&k, ex->sender.key.b, 32);
    mc_buf_init(&v, 0);
    mc_enc_u8(&v, 1);
    return mc_row_put(ex->st, &k, &v);
}

/* The keyid parameter of the base's @signature-params line names key, and
 * the base's @target-uri is the study's dataset route. */
static bool base_binds(const uint8_t *base, size_t n, const mc_pubkey *key, const char *study) {
    static const char tag[] = "\"@signature-params\": ";
    char want[96];
    size_t start = n;
    while (start > 0 && base[start - 1] != '\n') start--;
    if (n - start < sizeof tag - 1 || memcmp(base + start, tag, sizeof tag - 1) != 0) return false;
    if (!mc_records_sigbase_names_key(base, n, key)) return false;
    size_t wn;
    /* "@target-uri": scheme://host/v1/research/dataset/<study>[?...] */
    static const char turi[] = "\"@target-uri\": ";
    snprintf(want, sizeof want, "/v1/research/dataset/%s", study);
    wn = strlen(want);
    size_t i = 0;
    while (i < start) {
        size_t e = i;
        while (e < start && base[e] != '\n') e++;
        if (e - i > sizeof turi - 1 && memcmp(base + i, turi, sizeof turi - 1) == 0) {
            /* the path ends the line or precedes '?' */
            for (size_t j = i + sizeof turi - 1; j + wn <= e; j++)
                if (memcmp(base + j, want, wn) == 0 && (j + wn == e || base[j + wn] == '?'))
                    return true;
            return false;
        }
        i = e + 1;
    }
    return false;
}

static int query(struct mc_exec *ex, struct mc_dec *d, struct mc_study *s) {
    char id[MC_STUDY_ID_MAX + 1];
    mc_pubkey requester;
    char reason[MC_RESEARCH_REASON_MAX + 1];
    mc_hash dataset;
    mc_dec_str8(d, id, sizeof id);
    mc_dec_fixed(d, requester.b, 32);
    uint8_t outcome = mc_dec_u8(d);
    uint16_t status = mc_dec_u16(d);
    mc_dec_str16(d, reason, sizeof reason);
    mc_dec_fixed(d, dataset.b, 32);
    uint32_t patients = mc_dec_u32(d);
    uint32_t records = mc_dec_u32(d);
    uint64_t as_of = mc_dec_u64(d);
    size_t base_len, sig_len;
    const uint8_t *base = mc_dec_bytes16(d, &base_len, MC_SIGBASE_MAX);
    const uint8_t *sig = mc_dec_bytes8(d, &sig_len, MC_SIG_BYTES);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "research_query payload does not decode");
    int rc = require_role(ex, MC_ROLE_NODE, "a research query entry");
    if (rc) return rc;
    if ((outcome != MC_OUTCOME_SUCCESS && outcome != MC_OUTCOME_REFUSED &&
         outcome != MC_OUTCOME_SECURITY) ||
        (sig_len != 0 && sig_len != MC_SIG_BYTES) || (id[0] && !mc_study_id_valid(id)) ||
        as_of > ex->height)
        return mc_err_set(MC_ERR_INVALID, "research query fields out of range");
    mc_hash sig_hash = {{0}};
    if (sig_len) mc_sha256(&sig_hash, sig, sig_len);
    if (outcome == MC_OUTCOME_SUCCESS) {
        /* A served dataset must be provably asked for by a researcher of
         * the study, with a request used once. */
        if ((rc = mc_research_get_study(ex->st, id, s))) return rc;
        enum mc_research_dataset_verdict who = mc_research_dataset_check(ex->st, s, &requester, NULL);
        if (who == MC_DATASET_NOT_LISTED)
            return mc_err_set(MC_ERR_FORBIDDEN, "the researcher is not on the study");
        if (who != MC_DATASET_ALLOWED)
            return mc_err_set(MC_ERR_FORBIDDEN, "a served dataset needs an active researcher");
        if (as_of == 0) return mc_err_set(MC_ERR_INVALID, "a served dataset names its height");
        if (sig_len != MC_SIG_BYTES || !base_binds(base, base_len, &requester, id) ||
            mc_ed25519_verify_raw(sig, &requester, base, base_len))
            return mc_err_set(MC_ERR_BAD_SIGNATURE, "the researcher's signature does not verify for this study");
        if ((rc = mc_row_use_once(ex->st, "yz/", &sig_hash, ex->height))) return rc;
    }
    struct mc_key k;
    key_study(&k, "yq/", id);
    mc_key_u64(&k, ex->height);
    mc_key_add(&k, ex->tx_id.b, 32);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_fixed(&v, requester.b, 32);
    mc_enc_u8(&v, outcome);
    mc_enc_u16(&v, status);
    mc_enc_str16(&v, reason);
    mc_enc_fixed(&v, dataset.b, 32);
    mc_enc_u32(&v, patients);
    mc_enc_u32(&v, records);
    mc_enc_u64(&v, as_of);
    mc_enc_u64(&v, ex->time_ms);
    mc_enc_fixed(&v, sig_hash.b, 32);
    return mc_row_put(ex->st, &k, &v);
}

static int enrol(struct mc_exec *ex, struct mc_dec *d, struct mc_study *s) {
    int rc = load_team_study(ex, d, s, "an enrolment");
    if (rc) return rc;
    mc_pubkey patient;
    mc_dec_fixed(d, patient.b, 32);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "trial_enrol payload does not decode");
    if (s->phase != MC_STUDY_ENROLLING)
        return mc_err_set(MC_ERR_STATE, "study '%s' is %s, not enrolling", s->id, mc_study_phase_name(s->phase));
    struct mc_account pa;
    if (mc_identity_get_account(ex->st, &patient, &pa) || pa.role != MC_ROLE_PATIENT ||
        pa.status != MC_ACCOUNT_ACTIVE)
        return mc_err_set(MC_ERR_INVALID, "the subject is not a registered, active patient");
    struct mc_consent_version basis;
    if (!mc_research_consent_covers(ex->st, &patient, s, ex->time_ms, &basis))
        return mc_err_set(MC_ERR_FORBIDDEN, "the patient's research consent does not cover study '%s'", s->id);
    struct mc_key k;
    key_study(&k, "ye/", s->id);
    mc_key_add(&k, patient.b, 32);
    struct mc_buf v;
    rc = mc_row_get(ex->st, &k, &v);
    if (rc == 0) {
        mc_buf_deinit(&v);
        return mc_err_set(MC_ERR_EXISTS, "the patient is already enrolled in '%s'", s->id);
    }
    if (rc != MC_ERR_NOT_FOUND) return rc;
    mc_buf_init(&v, 0);
    mc_enc_u64(&v, ex->height);
    mc_enc_u64(&v, ex->time_ms);
    mc_enc_u8(&v, basis.scope);
    mc_enc_u32(&v, basis.version);
    mc_enc_fixed(&v, ex->sender.key.b, 32);
    if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    s->enrolled++;
    return put_study(ex->st, s);
}

static int amend(struct mc_exec *ex, struct mc_dec *d, struct mc_study *s) {
    int rc = load_team_study(ex, d, s, "an amendment");
    if (rc) return rc;
    mc_hash protocol;
    char reason[MC_RESEARCH_REASON_MAX + 1];
    mc_dec_fixed(d, protocol.b, 32);
    mc_dec_str16(d, reason, sizeof reason);
    uint8_t n = mc_dec_u8(d);
    if (d->err) return mc_err_set(MC_ERR_MALFORMED, "trial_amend payload does not decode");
    if (s->phase >= MC_STUDY_LOCKED)
        return mc_err_set(MC_ERR_STATE, "study '%s' is %s: its protocol can no longer be amended", s->id,
                          mc_study_phase_name(s->phase));
    if (!reason[0]) return mc_err_set(MC_ERR_INVALID, "an amendment states its reason");
    if (n > MC_RESEARCH_OUTCOMES_MAX) return mc_err_set(MC_ERR_TOO_LARGE, "too many outcomes");
    uint32_t seq = s->amendments + 1;
    for (uint8_t i = 0; i < n; i++) {
        struct mc_study_outcome o;
        if ((rc = decode_outcome(d, &o, i))) return rc;
        if (find_outcome(s, o.text) >= 0)
            return mc_err_set(MC_ERR_EXISTS, "outcome '%s' is already registered", o.text);
        if (s->outcome_count == MC_RESEARCH_OUTCOMES_MAX)
            return mc_err_set(MC_ERR_FULL, "the study has %d outcomes already", MC_RESEARCH_OUTCOMES_MAX);
        o.amendment = seq;
        s->outcomes[s->outcome_count++] = o;
    }
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "trial_amend has trailing bytes");
    s->amendments = seq;
    s->protocol = protocol;
    struct mc_key k;
    key_study(&k, "ya/", s->id);
    mc_key_u32(&k, seq);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_fixed(&v, protocol.b, 32);
    mc_enc_str16(&v, reason);
    mc_enc_u64(&v, ex->height);
    mc_enc_u64(&v, ex->time_ms);
    if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    return put_study(ex->st, s);
}

static int close_enrolment(struct mc_exec *ex, struct mc_dec *d, struct mc_study *s) {
    int rc = load_team_study(ex, d, s, "closing enrolment");
    if (rc) return rc;
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "trial_close payload does not decode");
    if (s->phase != MC_STUDY_ENROLLING)
        return mc_err_set(MC_ERR_STATE, "study '%s' is %s, not enrolling", s->id, mc_study_phase_name(s->phase));
    s->phase = MC_STUDY_CLOSED;
    return put_study(ex->st, s);
}

static int lock(struct mc_exec *ex, struct mc_dec *d, struct mc_study *s) {
    int rc = load_team_study(ex, d, s, "a database lock");
    if (rc) return rc;
    mc_hash h;
    mc_dec_fixed(d, h.b, 32);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "trial_lock payload does not decode");
    if (s->phase != MC_STUDY_CLOSED)
        return mc_err_set(MC_ERR_STATE, "study '%s' is %s: the database is locked after enrolment closes",
                          s->id, mc_study_phase_name(s->phase));
    s->phase = MC_STUDY_LOCKED;
    s->locked = h;
    s->locked_height = ex->height;
    return put_study(ex->st, s);
}

static int results(struct mc_exec *ex, struct mc_dec *d, struct mc_study *s) {
    int rc = load_team_study(ex, d, s, "results");
    if (rc) return rc;
    mc_hash h;
    mc_dec_fixed(d, h.b, 32);
    uint8_t n = mc_dec_u8(d);
    if (d->err) return mc_err_set(MC_ERR_MALFORMED, "trial_results payload does not decode");
    if (s->phase != MC_STUDY_LOCKED)
        return mc_err_set(MC_ERR_STATE, "study '%s' is %s: results follow the database lock", s->id,
                          mc_study_phase_name(s->phase));
    if (n == 0 || n > MC_RESEARCH_OUTCOMES_MAX)
        return mc_err_set(MC_ERR_INVALID, "results report 1 to %d outcomes", MC_RESEARCH_OUTCOMES_MAX);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_fixed(&v, h.b, 32);
    mc_enc_u64(&v, ex->height);
    mc_enc_u8(&v, n);
    char seen[MC_RESEARCH_OUTCOMES_MAX][MC_RESEARCH_TEXT_MAX + 1];
    for (uint8_t i = 0; i < n; i++) {
        struct mc_study_outcome o;
        if ((rc = decode_outcome(d, &o, i))) {
            mc_buf_deinit(&v);
            return rc;
        }
        for (uint8_t j = 0; j < i; j++)
            if (strcmp(seen[j], o.text) == 0) {
                mc_buf_deinit(&v);
                return mc_err_set(MC_ERR_INVALID, "outcome '%s' is reported twice", o.text);
            }
        snprintf(seen[i], sizeof seen[i], "%s", o.text);
        mc_enc_u8(&v, o.kind);
        mc_enc_str8(&v, o.text);
    }
    if (mc_dec_finish(d)) {
        mc_buf_deinit(&v);
        return mc_err_set(MC_ERR_MALFORMED, "trial_results has trailing bytes");
    }
    struct mc_key k;
    key_study(&k, "yr/", s->id);
    if ((rc = mc_row_put(ex->st, &k, &v))) return rc;
    s->phase = MC_STUDY_REPORTED;
    return put_study(ex->st, s);
}

int mc_research_execute(struct mc_exec *ex) {
    struct mc_dec d;
    mc_dec_init(&d, ex->tx->payload, ex->tx->payload_len);
    struct mc_study *s = malloc(sizeof *s);
    if (!s) return MC_ERR_NOMEM;
    int rc;
    switch (ex->tx->type) {
    case MC_TX_STUDY_REGISTER: rc = study_register(ex, &d, s); break;
    case MC_TX_RESEARCH_CONSENT: rc = consent(ex, &d); break;
    case MC_TX_RESEARCH_QUERY: rc = query(ex, &d, s); break;
    case MC_TX_TRIAL_ENROL: rc = enrol(ex, &d, s); break;
    case MC_TX_TRIAL_AMEND: rc = amend(ex, &d, s); break;
    case MC_TX_TRIAL_CLOSE: rc = close_enrolment(ex, &d, s); break;
    case MC_TX_TRIAL_LOCK: rc = lock(ex, &d, s); break;
    case MC_TX_TRIAL_RESULTS: rc = results(ex, &d, s); break;
    default: rc = mc_err_set(MC_ERR_INVALID, "not a research transaction"); break;
    }
    free(s);
    return rc;
}

/* --- structural codec --- */

static void enc_outcomes(struct mc_buf *b, const struct mc_research_payload *p) {
    mc_enc_u8(b, p->outcome_count);
    for (uint8_t i = 0; i < p->outcome_count && i < MC_RESEARCH_OUTCOMES_MAX; i++) {
        mc_enc_u8(b, p->outcomes[i].kind);
        mc_enc_str8(b, p->outcomes[i].text);
    }
}

void mc_research_encode(struct mc_buf *b, const struct mc_research_payload *p) {
    switch (p->type) {
    case MC_TX_STUDY_REGISTER:
        mc_enc_str8(b, p->study);
        mc_enc_str8(b, p->title);
        mc_enc_str8(b, p->sponsor);
        mc_enc_str8(b, p->registry_id);
        mc_enc_fixed(b, p->hash.b, 32);
        mc_enc_str8(b, p->purpose);
        mc_enc_u8(b, p->categories);
        mc_enc_u16(b, p->k);
        enc_outcomes(b, p);
        mc_enc_u8(b, p->researcher_count);
        for (uint8_t i = 0; i < p->researcher_count && i < MC_RESEARCH_RESEARCHERS_MAX; i++)
            mc_enc_fixed(b, p->researchers[i].b, 32);
        break;
    case MC_TX_RESEARCH_CONSENT:
        mc_enc_u8(b, p->scope);
        mc_enc_str8(b, p->study);
        mc_enc_u32(b, p->version);
        mc_enc_u8(b, p->action);
        mc_enc_u8(b, p->categories);
        mc_enc_u64(b, p->expiry_ms);
        break;
    case MC_TX_RESEARCH_QUERY:
        mc_enc_str8(b, p->study);
        mc_enc_fixed(b, p->requester.b, 32);
        mc_enc_u8(b, p->outcome);
        mc_enc_u16(b, p->status);
        mc_enc_str16(b, p->reason);
        mc_enc_fixed(b, p->hash.b, 32);
        mc_enc_u32(b, p->patients);
        mc_enc_u32(b, p->records);
        mc_enc_u64(b, p->as_of_height);
        mc_enc_bytes16(b, p->base, p->base_len);
        mc_enc_bytes8(b, p->sig, p->sig_len);
        break;
    case MC_TX_TRIAL_ENROL:
        mc_enc_str8(b, p->study);
        mc_enc_fixed(b, p->patient.b, 32);
        break;
    case MC_TX_TRIAL_AMEND:
        mc_enc_str8(b, p->study);
        mc_enc_fixed(b, p->hash.b, 32);
        mc_enc_str16(b, p->reason);
        enc_outcomes(b, p);
        break;
    case MC_TX_TRIAL_CLOSE: mc_enc_str8(b, p->study); break;
    case MC_TX_TRIAL_LOCK:
        mc_enc_str8(b, p->study);
        mc_enc_fixed(b, p->hash.b, 32);
        break;
    case MC_TX_TRIAL_RESULTS:
        mc_enc_str8(b, p->study);
        mc_enc_fixed(b, p->hash.b, 32);
        enc_outcomes(b, p);
        break;
    default: b->err = MC_ERR_INVALID; break;
    }
}

static void dec_outcomes(struct mc_dec *d, struct mc_research_payload *p) {
    p->outcome_count = mc_dec_u8(d);
    if (p->outcome_count > MC_RESEARCH_OUTCOMES_MAX) mc_dec_fail(d, MC_ERR_TOO_LARGE);
    for (uint8_t i = 0; i < p->outcome_count && !d->err; i++) {
        p->outcomes[i].kind = mc_dec_u8(d);
        mc_dec_str8(d, p->outcomes[i].text, sizeof p->outcomes[i].text);
    }
}

int mc_research_decode(struct mc_research_payload *p, uint16_t type, const uint8_t *bytes, size_t n) {
    memset(p, 0, sizeof *p);
    p->type = type;
    struct mc_dec d;
    mc_dec_init(&d, bytes, n);
    switch (type) {
    case MC_TX_STUDY_REGISTER:
        mc_dec_str8(&d, p->study, sizeof p->study);
        mc_dec_str8(&d, p->title, sizeof p->title);
        mc_dec_str8(&d, p->sponsor, sizeof p->sponsor);
        mc_dec_str8(&d, p->registry_id, sizeof p->registry_id);
        mc_dec_fixed(&d, p->hash.b, 32);
        mc_dec_str8(&d, p->purpose, sizeof p->purpose);
        p->categories = mc_dec_u8(&d);
        p->k = mc_dec_u16(&d);
        dec_outcomes(&d, p);
        p->researcher_count = mc_dec_u8(&d);
        if (p->researcher_count > MC_RESEARCH_RESEARCHERS_MAX) mc_dec_fail(&d, MC_ERR_TOO_LARGE);
        for (uint8_t i = 0; i < p->researcher_count && !d.err; i++) mc_dec_fixed(&d, p->researchers[i].b, 32);
        break;
    case MC_TX_RESEARCH_CONSENT:
        p->scope = mc_dec_u8(&d);
        mc_dec_str8(&d, p->study, sizeof p->study);
        p->version = mc_dec_u32(&d);
        p->action = mc_dec_u8(&d);
        p->categories = mc_dec_u8(&d);
        p->expiry_ms = mc_dec_u64(&d);
        break;
    case MC_TX_RESEARCH_QUERY:
        mc_dec_str8(&d, p->study, sizeof p->study);
        mc_dec_fixed(&d, p->requester.b, 32);
        p->outcome = mc_dec_u8(&d);
        p->status = mc_dec_u16(&d);
        mc_dec_str16(&d, p->reason, sizeof p->reason);
        mc_dec_fixed(&d, p->hash.b, 32);
        p->patients = mc_dec_u32(&d);
        p->records = mc_dec_u32(&d);
        p->as_of_height = mc_dec_u64(&d);
        p->base = mc_dec_bytes16(&d, &p->base_len, MC_SIGBASE_MAX);
        p->sig = mc_dec_bytes8(&d, &p->sig_len, MC_SIG_BYTES);
        break;
    case MC_TX_TRIAL_ENROL:
        mc_dec_str8(&d, p->study, sizeof p->study);
        mc_dec_fixed(&d, p->patient.b, 32);
        break;
    case MC_TX_TRIAL_AMEND:
        mc_dec_str8(&d, p->study, sizeof p->study);
        mc_dec_fixed(&d, p->hash.b, 32);
        mc_dec_str16(&d, p->reason, sizeof p->reason);
        dec_outcomes(&d, p);
        break;
    case MC_TX_TRIAL_CLOSE: mc_dec_str8(&d, p->study, sizeof p->study); break;
    case MC_TX_TRIAL_LOCK:
        mc_dec_str8(&d, p->study, sizeof p->study);
        mc_dec_fixed(&d, p->hash.b, 32);
        break;
    case MC_TX_TRIAL_RESULTS:
        mc_dec_str8(&d, p->study, sizeof p->study);
        mc_dec_fixed(&d, p->hash.b, 32);
        dec_outcomes(&d, p);
        break;
    default: return mc_err_set(MC_ERR_INVALID, "type %u is not a research transaction", type);
    }
    int rc = mc_dec_finish(&d);
    return rc ? mc_err_set(rc, "%s payload does not decode", mc_txtypes_name(type)) : 0;
}

/* --- trial verification --- */

static void finding(struct mc_trial_report *r, uint8_t kind, const char *text, const mc_pubkey *patient) {
    if (r->count == MC_RESEARCH_FINDINGS_MAX) {
        r->truncated = true;
        return;
    }
    struct mc_trial_finding *f = &r->findings[r->count++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    snprintf(f->text, sizeof f->text, "%s", text);
    if (patient) f->patient = *patient;
}

struct verify_ctx {
    struct mc_state *st;
    const struct mc_study *study;
    struct mc_trial_report *r;
};

/* Was the enrolment covered by a consent, judged from the history rows? */
static bool enrolment_consented(struct mc_state *st, const struct mc_study *s,
                                const struct mc_enrolment *e, char *why, size_t why_size) {
    const char *target = e->consent_scope == MC_CONSENT_STUDY ? s->id
                         : e->consent_scope == MC_CONSENT_PURPOSE ? s->purpose : NULL;
    struct mc_consent_version c, next;
    if (!target || !target[0] || e->consent_version == 0 ||
        mc_research_get_consent_version(st, &e->patient, e->consent_scope, target,
                                        e->consent_version, &c)) {
        snprintf(why, why_size, "no consent on the chain backs the enrolment");
        return false;
    }
    if (c.height > e->height) {
        snprintf(why, why_size, "the consent named was given after the enrolment");
        return false;
    }
    if (!consent_active(&c, s->categories, e->time_ms)) {
        snprintf(why, why_size, "the consent in force at enrolment did not cover the study");
        return false;
    }
    if (mc_research_get_consent_version(st, &e->patient, e->consent_scope, target,
                                        e->consent_version + 1, &next) == 0 &&
        next.height < e->height) {
        snprintf(why, why_size, "the consent had been superseded before the enrolment");
        return false;
    }
    if (e->consent_scope == MC_CONSENT_PURPOSE &&
        mc_research_get_consent_version(st, &e->patient, MC_CONSENT_STUDY, s->id, 1, &next) == 0 &&
        next.height < e->height) {
        snprintf(why, why_size, "a study-specific consent took precedence over the purpose consent");
        return false;
    }
    return true;
}

static int verify_enrolment(void *ctx, const struct mc_enrolment *e) {
    struct verify_ctx *v = ctx;
    v->r->enrolled++;
    char why[160];
    if (!enrolment_consented(v->st, v->study, e, why, sizeof why)) {
        char hx[65], text[MC_RESEARCH_TEXT_MAX + 1];
        mc_hex_encode(hx, e->patient.b, 32);
        snprintf(text, sizeof text, "subject %.16s... enrolled at height %llu: %.120s", hx,
                 (unsigned long long)e->height, why);
        finding(v->r, MC_FINDING_ENROLLED_WITHOUT_CONSENT, text, &e->patient);
    }
    return 0;
}

int mc_trial_verify(struct mc_state *st, const char *id, struct mc_trial_report *r) {
    memset(r, 0, sizeof *r);
    struct mc_study *s = malloc(sizeof *s);
    struct mc_study_outcome *reported = malloc(MC_RESEARCH_OUTCOMES_MAX * sizeof *reported);
    int rc = s && reported ? 0 : MC_ERR_NOMEM;
    if (!rc) rc = mc_research_get_study(st, id, s);
    if (rc) goto out;
    r->phase = s->phase;
    r->amendments = s->amendments;
    r->locked = s->phase >= MC_STUDY_LOCKED;
    r->locked_hash = s->locked;
    struct verify_ctx vc = {.st = st, .study = s, .r = r};
    if ((rc = mc_research_scan_enrolments(st, id, verify_enrolment, &vc))) goto out;
    uint64_t rh;
    uint8_t n = 0;
    rc = mc_research_get_results(st, id, &r->results_hash, &rh, reported, &n);
    if (rc == MC_ERR_NOT_FOUND) {
        rc = 0;
        goto out;
    }
    if (rc) goto out;
    r->results_posted = true;
    if (!r->locked || memcmp(r->results_hash.b, s->locked.b, 32) != 0) {
        char a[65], b[65], text[MC_RESEARCH_TEXT_MAX + 1];
        mc_hex_encode(a, r->results_hash.b, 32);
        mc_hex_encode(b, s->locked.b, 32);
        snprintf(text, sizeof text, "results dataset %.16s... differs from the locked dataset %.16s...", a, b);
        finding(r, MC_FINDING_RESULTS_HASH_MISMATCH, text, NULL);
    }
    /* Outcomes: the study row holds every registered and amended-in
     * outcome; amendments are refused after the lock, so all precede the
     * results. */
    for (uint8_t i = 0; i < n; i++) {
        int at = find_outcome(s, reported[i].text);
        if (at < 0) {
            finding(r, MC_FINDING_UNREGISTERED_OUTCOME, reported[i].text, NULL);
        } else if (s->outcomes[at].kind != reported[i].kind) {
            char text[MC_RESEARCH_TEXT_MAX + 1];
            snprintf(text, sizeof text, "%s", reported[i].text);
            finding(r, MC_FINDING_RECLASSIFIED_OUTCOME, text, NULL);
        }
    }
    for (uint16_t i = 0; i < s->outcome_count; i++) {
        bool found = false;
        for (uint8_t j = 0; j < n && !found; j++) found = strcmp(reported[j].text, s->outcomes[i].text) == 0;
        if (!found) finding(r, MC_FINDING_UNREPORTED_OUTCOME, s->outcomes[i].text, NULL);
    }
out:
    free(s);
    free(reported);
    return rc;
}

/* --- rules shared by the ledger and the API --- */

enum mc_research_dataset_verdict mc_research_dataset_check(struct mc_state *st,
                                                           const struct mc_study *s,
                                                           const mc_pubkey *requester,
                                                           struct mc_account *account_out) {
    struct mc_account a;
    memset(&a, 0, sizeof a);
    int found = mc_identity_get_account(st, requester, &a);
    if (account_out) *account_out = a;
    if (found) return MC_DATASET_NO_ACCOUNT;
    if (a.status != MC_ACCOUNT_ACTIVE) return MC_DATASET_INACTIVE;
    if (a.role != MC_ROLE_RESEARCHER) return MC_DATASET_NOT_RESEARCHER;
    for (uint8_t i = 0; i < s->researcher_count; i++)
        if (memcmp(s->researchers[i].b, requester->b, 32) == 0) return MC_DATASET_ALLOWED;
    return MC_DATASET_NOT_LISTED;
}
