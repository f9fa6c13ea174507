/* An organisation's own record numbers (MRN): a clinician finds a patient
 * of her organisation by the number her hospital gives her, never by
 * typing a key.
 *
 *   PUT /v1/mrn/{mrn} {"patient": KEY}   a clinician or admin of a provider
 *       organisation files the number for a registered patient (when she
 *       registers her, or later); a patient has one number per
 *       organisation (a new one replaces the old), a number names one
 *       patient (another patient's number is refused).
 *   GET /v1/mrn/{mrn}                   any active member of the
 *       organisation: the patient it names in her organisation.
 *   GET /v1/mrn?patient=KEY             the patient's number in the
 *       signer's organisation ("mrn": null when she has none).
 *
 * The mapping is the organisation's private index: it is kept on its node
 * only (chain/local.h, space "mrn", key u32 org || number, owner u32 org ||
 * patient key), never on the ledger, and each organisation sees only its
 * own. Every request is RFC 9421-signed by an active member; lookups are
 * limited to MC_MRN_LOOKUPS_PER_MIN per member a minute so nobody walks
 * the index. Numbers are compared in upper case, 1 to MC_MRN_MAX
 * letters, digits, '-' and '.'. */
#include "api/routes.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/gate.h"
#include "api/reply.h"
#include "app/identity.h"
#include "base/hex.h"
#include "chain/local.h"

#define SPACE "mrn"
#define FORMAT 1

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "  ab-123 " -> "AB-123"; false when it is not a record number. */
static bool normalize(char out[MC_MRN_MAX + 1], const char *in) {
    while (in && *in == ' ') in++;
    size_t n = 0;
    for (; in && *in; in++) {
        char c = *in >= 'a' && *in <= 'z' ? (char)(*in - 'a' + 'A') : *in;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (c == ' ') {
            const char *rest = in;
            while (*rest == ' ') rest++;
            if (*rest) return false;
            break;
        }
        if (!ok || n == MC_MRN_MAX) return false;
        out[n++] = c;
    }
    out[n] = 0;
    return n > 0;
}

static size_t row_key(uint8_t out[4 + MC_MRN_MAX], uint32_t org, const char *mrn) {
    out[0] = (uint8_t)(org >> 24), out[1] = (uint8_t)(org >> 16), out[2] = (uint8_t)(org >> 8), out[3] = (uint8_t)org;
    size_t n = strlen(mrn);
    memcpy(out + 4, mrn, n);
    return 4 + n;
}

static void row_owner(uint8_t out[36], uint32_t org, const mc_pubkey *patient) {
    out[0] = (uint8_t)(org >> 24), out[1] = (uint8_t)(org >> 16), out[2] = (uint8_t)(org >> 8), out[3] = (uint8_t)org;
    memcpy(out + 4, patient->b, 32);
}

/* --- who asks, under the node lock --- */

struct q_member {
    mc_pubkey key, patient;
    bool member, may_file, patient_ok;
    struct mc_account a;
    char org_name[MC_NAME_MAX];
};

static int q_member(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct q_member *q = ctx;
    struct mc_state *st = mc_app_state(app);
    struct mc_org org;
    bool found = mc_identity_get_account(st, &q->key, &q->a) == 0;
    q->member = found && q->a.status == MC_ACCOUNT_ACTIVE && q->a.org != 0 && q->a.role != MC_ROLE_PATIENT &&
                q->a.role != MC_ROLE_NODE && mc_identity_get_org(st, q->a.org, &org) == 0;
    if (q->member) snprintf(q->org_name, sizeof q->org_name, "%s", org.name);
    q->may_file = q->member && mc_identity_may_register_patients(st, &q->a);
    struct mc_account p;
    q->patient_ok = mc_identity_get_account(st, &q->patient, &p) == 0 && p.role == MC_ROLE_PATIENT &&
                    p.status == MC_ACCOUNT_ACTIVE;
    return 0;
}

/* The signer, verified and an active member of an organisation; false
 * (answered) otherwise. */
static bool member_of_org(struct q_member *q, struct mc_node *node, const struct mc__api_request *req,
                          struct mc__api_response *res) {
    struct mc__gate g;
    mc__gate_check(&g, node, req, NULL, 0);
    if (g.rc) {
        mc__api_fail(res, g.status, g.rc, "%s", g.why);
        mc__gate_release(&g);
        return false;
    }
    q->key = g.v.key;
    mc__gate_release(&g);
    int rc = mc_node_query(node, q_member, q);
    if (rc) {
        mc__api_fail(res, mc__reply_query_status(rc), rc, "%s", "the node could not run the query");
        return false;
    }
    if (!q->member) {
        mc__api_fail(res, 403, MC_ERR_FORBIDDEN, "%s",
                     "only an active member of an organisation uses its record numbers");
        return false;
    }
    return true;
}

/* --- lookups per member a minute --- */

/* Counted per node (by its home, which outlives a reopen) and member:
 * SHA-256(home || 0 || member key). */
static struct {
    pthread_mutex_t lock;
    struct slot { uint8_t id[32]; uint64_t window; uint32_t n; } s[MC_MRN_RATE_SLOTS];
} rate = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool rate_ok(struct mc_node *node, const mc_pubkey *key, uint64_t t) {
    uint64_t window = t / 60000;
    uint8_t id[32];
    crypto_hash_sha256_state h;
    const char *home = mc_node_home(node);
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)home, strlen(home) + 1);
    crypto_hash_sha256_update(&h, key->b, 32);
    crypto_hash_sha256_final(&h, id);
    pthread_mutex_lock(&rate.lock);
    struct slot *hit = NULL, *free_slot = NULL, *oldest = &rate.s[0];
    for (size_t i = 0; i < MC_MRN_RATE_SLOTS; i++) {
        struct slot *s = &rate.s[i];
        if (s->n && memcmp(s->id, id, 32) == 0) {
            hit = s;
            break;
        }
        if (!free_slot && (s->n == 0 || s->window != window)) free_slot = s;
        if (s->window < oldest->window) oldest = s;
    }
    if (!hit) {
        hit = free_slot ? free_slot : oldest;
        memcpy(hit->id, id, 32);
        hit->window = window;
        hit->n = 0;
    }
    if (hit->window != window) hit->window = window, hit->n = 0;
    bool ok = hit->n < MC_MRN_LOOKUPS_PER_MIN;
    if (ok) hit->n++;
    pthread_mutex_unlock(&rate.lock);
    return ok;
}

/* Stored value: | u8 format | pubkey patient | pubkey filed by | u64 filed_ms | */
static int decode(const uint8_t *p, size_t n, mc_pubkey *patient, mc_pubkey *by, uint64_t *at) {
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    uint8_t f = mc_dec_u8(&d);
    mc_dec_fixed(&d, patient->b, 32);
    mc_dec_fixed(&d, by->b, 32);
    *at = mc_dec_u64(&d);
    int rc = mc_dec_finish(&d);
    return rc ? rc : f == FORMAT ? 0 : MC_ERR_TAMPERED;
}

static json_t *entry_json(const char *mrn, uint32_t org, const char *org_name, const mc_pubkey *patient,
                          const mc_pubkey *by) {
    return json_pack("{s:s, s:I, s:o, s:o, s:o}", "mrn", mrn, "org", (json_int_t)org, "org_name",
                     mc_api_json_text(org_name), "patient", mc_api_json_pubkey(patient), "filed_by",
                     mc_api_json_pubkey(by));
}

static void store_fail(struct mc__api_response *res, int rc) {
    mc__api_fail(res, 500, rc, "the node cannot read or write its record numbers: %s", mc_err_detail());
}

static const char bad_mrn[] = "a record number is 1 to 32 letters, digits, '-' or '.'";

/* PUT /v1/mrn/{mrn} {"patient": KEY} */
void mc__api_mrn_put(struct mc_node *node, const char *param, const struct mc__api_request *req,
                     struct mc__api_response *res) {
    char mrn[MC_MRN_MAX + 1];
    if (!normalize(mrn, param)) {
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s", bad_mrn);
        return;
    }
    json_error_t jerr;
    json_t *doc = req->body ? json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    struct q_member q;
    memset(&q, 0, sizeof q);
    const char *pk = json_string_value(json_object_get(doc, "patient"));
    bool ok = json_is_object(doc) && json_object_size(doc) == 1 && pk && mc_api_parse_pubkey(&q.patient, pk) == 0;
    json_decref(doc);
    if (!ok) {
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s", "the body is {\"patient\": \"<her account key, hex>\"}");
        return;
    }
    if (!member_of_org(&q, node, req, res)) return;
    if (!q.may_file) {
        mc__api_fail(res, 403, MC_ERR_FORBIDDEN, "%s",
                     "only a clinician or admin of a provider organisation files its record numbers");
        return;
    }
    if (!q.patient_ok) {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "%s", "this key is not a registered patient: register her first");
        return;
    }
    uint8_t key[4 + MC_MRN_MAX], owner[36];
    size_t kn = row_key(key, q.a.org, mrn);
    row_owner(owner, q.a.org, &q.patient);
    struct mc_buf val;
    mc_buf_init(&val, 0);
    mc_enc_u8(&val, FORMAT);
    mc_enc_fixed(&val, q.patient.b, 32);
    mc_enc_fixed(&val, q.key.b, 32);
    mc_enc_u64(&val, now_ms());
    const struct mc_local_row row = {.space = SPACE, .key = key, .key_len = kn, .owner = owner, .owner_len = 36,
                                     .value = val.data, .value_len = val.len};
    const struct mc_local_bounds one = {.replace_owner = true};
    int rc = val.err ? val.err : mc_local_insert(mc_node_local(node), &row, now_ms(), &one);
    mc_buf_deinit(&val);
    if (rc == MC_ERR_EXISTS) {
        mc__api_fail(res, 409, MC_ERR_EXISTS, "record number %s already names another patient of %s", mrn, q.org_name);
        return;
    }
    if (rc) {
        store_fail(res, rc);
        return;
    }
    mc__reply_ok(res, 200, entry_json(mrn, q.a.org, q.org_name, &q.patient, &q.key));
}

/* GET /v1/mrn/{mrn} */
void mc__api_mrn_get(struct mc_node *node, const char *param, const struct mc__api_request *req,
                     struct mc__api_response *res) {
    char mrn[MC_MRN_MAX + 1];
    if (!normalize(mrn, param)) {
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s", bad_mrn);
        return;
    }
    struct q_member q;
    memset(&q, 0, sizeof q);
    if (!member_of_org(&q, node, req, res)) return;
    uint64_t t = now_ms();
    if (!rate_ok(node, &q.key, t)) {
        mc__api_fail(res, 429, MC_ERR_FULL, "too many record-number lookups: at most %d a minute; wait a minute",
                     MC_MRN_LOOKUPS_PER_MIN);
        return;
    }
    uint8_t key[4 + MC_MRN_MAX];
    size_t kn = row_key(key, q.a.org, mrn);
    struct mc_buf val;
    mc_buf_init(&val, 256);
    int rc = mc_local_get(mc_node_local(node), SPACE, key, kn, t, &val, NULL, NULL);
    mc_pubkey patient, by;
    uint64_t at = 0;
    if (!rc) rc = decode(val.data, val.len, &patient, &by, &at);
    mc_buf_deinit(&val);
    if (rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "no patient of %s has record number %s", q.org_name, mrn);
        return;
    }
    if (rc) {
        store_fail(res, rc);
        return;
    }
    mc__reply_ok(res, 200, entry_json(mrn, q.a.org, q.org_name, &patient, &by));
}

struct found {
    char mrn[MC_MRN_MAX + 1];
    mc_pubkey by;
    bool have;
};

static int one_row(void *ctx, const uint8_t *key, size_t kn, const uint8_t *value, size_t vn, uint64_t exp) {
    struct found *f = ctx;
    mc_pubkey patient;
    uint64_t at;
    if (kn < 5 || kn > 4 + MC_MRN_MAX || decode(value, vn, &patient, &f->by, &at)) return MC_ERR_TAMPERED;
    memcpy(f->mrn, key + 4, kn - 4);
    f->mrn[kn - 4] = 0;
    f->have = true;
    return 0;
}

/* GET /v1/mrn?patient=KEY */
void mc__api_mrn_of(struct mc_node *node, const char *param, const struct mc__api_request *req,
                    struct mc__api_response *res) {
    struct q_member q;
    memset(&q, 0, sizeof q);
    const char *pk = mc__reply_arg(req, "patient");
    if (!pk || mc_api_parse_pubkey(&q.patient, pk)) {
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s", "patient=<her account key, hex>");
        return;
    }
    if (!member_of_org(&q, node, req, res)) return;
    uint64_t t = now_ms();
    if (!rate_ok(node, &q.key, t)) {
        mc__api_fail(res, 429, MC_ERR_FULL, "too many record-number lookups: at most %d a minute; wait a minute",
                     MC_MRN_LOOKUPS_PER_MIN);
        return;
    }
    uint8_t owner[36];
    row_owner(owner, q.a.org, &q.patient);
    struct found f = {.have = false};
    int rc = mc_local_list(mc_node_local(node), SPACE, owner, sizeof owner, t, 1, one_row, &f);
    if (rc) {
        store_fail(res, rc);
        return;
    }
    json_t *o = f.have ? entry_json(f.mrn, q.a.org, q.org_name, &q.patient, &f.by)
                       : json_pack("{s:n, s:I, s:o, s:o}", "mrn", "org", (json_int_t)q.a.org, "org_name",
                                   mc_api_json_text(q.org_name), "patient", mc_api_json_pubkey(&q.patient));
    mc__reply_ok(res, 200, o);
}
