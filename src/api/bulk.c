/* FHIR Bulk Data Access v2 export (docs/SMART.md):
 *   GET    /fhir/$export, /fhir/Patient/$export, /fhir/Group/{id}/$export
 *          kick-off (Prefer: respond-async): 202 with Content-Location;
 *   GET    /fhir/$export-status/{job}  202 with X-Progress while running,
 *          200 with the manifest when complete, 500 when it failed;
 *   DELETE /fhir/$export-status/{job}  cancel: the outputs are deleted;
 *   GET    /fhir/$export-file/{job}-{Type}.ndjson  an output file.
 *
 * Authorization is a SMART Backend Services bearer token (the Bulk Data IG
 * requires it): every request of a job carries a token of the client that
 * started it, and the types exported are those its scopes (within its
 * owner's role) cover. What is exported is what the client's owner may
 * read under the records policy, record by record, never as break-glass:
 *   system   every patient's records on this node (also the Practitioner,
 *            Organization and Location copies);
 *   Patient  the same patients, the Patient compartment types only;
 *   Group    Group/granted: the patients with an active grant naming the
 *            owner (or the owner's organisation, for a clinician).
 * Each patient whose records are exported is one access entry on the
 * ledger (action export, the listing reason of app/records_listing.h: the
 * count and the Merkle root of the versions served), admitted before her
 * lines are written ("no log, no data"). Output files are node-local
 * (node/exports.h), deleted after config.json "bulk_output_ttl_s", on
 * cancel and when the API stops. One thread a job; at most
 * MC_BULK_JOBS_MAX jobs on a node, and a client holds at most
 * MC_BULK_JOBS_PER_CLIENT (running, or with outputs not yet expired: the
 * bound is on its disk use too; DELETE one to start another). */
#include "api/routes.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/fhir.h"
#include "api/fhir_reply.h"
#include "api/gate.h"
#include "api/json_exact.h"
#include "api/records_view.h"
#include "api/reply.h"
#include "app/identity.h"
#include "app/records.h"
#include "app/records_listing.h"
#include "app/smart.h"
#include "base/hex.h"
#include "base/log.h"
#include "node/exports.h"
#include "node/vault.h"

enum { LEVEL_SYSTEM = 1, LEVEL_PATIENT, LEVEL_GROUP };
enum { JOB_RUNNING = 1, JOB_DONE, JOB_FAILED };

struct job {
    bool used, cancel;
    int state;
    struct mc_node *node;
    char id[33];
    struct mc__smart_token token; /* the kick-off token: owner, client, bearer text */
    int level;
    uint32_t types;               /* bit 1 << MC_FHIR_* */
    bool has_since;
    uint64_t since_ms;
    uint8_t purpose;
    char request[600], base[300];
    uint64_t tx_time_ms;
    size_t patients, done, logged;
    size_t counts[MC_FHIR_TYPE_MAX + 1], errors;
    uint64_t bytes;
    char why[300];
    int64_t expires_ms;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job jobs[MC_BULK_JOBS_MAX];
    size_t threads; /* live job threads */
} bulk = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The types each level may export (Binary never: attachments are read one
 * by one). */
static uint32_t level_types(int level) {
    uint32_t all = 0;
    for (uint16_t t = 1; t <= MC_FHIR_TYPE_MAX; t++)
        if (t != MC_FHIR_BINARY) all |= 1u << t;
    if (level != LEVEL_SYSTEM)
        all &= ~((1u << MC_FHIR_PRACTITIONER) | (1u << MC_FHIR_ORGANIZATION) | (1u << MC_FHIR_LOCATION));
    return all;
}

/* ---- the job's thread ---- */

struct patient_list {
    mc_pubkey *v;
    size_t n, cap;
    int rc;
};

static int list_add(void *ctx, const mc_pubkey *p) {
    struct patient_list *l = ctx;
    if (l->n && memcmp(l->v[l->n - 1].b, p->b, 32) == 0) return 0;
    if (l->n == MC_BULK_PATIENTS_MAX) {
        l->rc = mc_err_set(MC_ERR_TOO_LARGE, "more than %d patients", MC_BULK_PATIENTS_MAX);
        return 1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        mc_pubkey *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->rc = MC_ERR_NOMEM;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *p;
    return 0;
}

struct q_patients {
    int level;
    const mc_pubkey *owner;
    uint64_t now_ms;
    struct mc_account acct;
    struct patient_list *l;
};

static int grant_row(void *ctx, const mc_pubkey *patient, const struct mc_grant *g) {
    struct q_patients *q = ctx;
    bool active = g->revoked_height == 0 && (g->expiry_ms == 0 || g->expiry_ms > q->now_ms);
    bool names = (g->kind == MC_GRANTEE_MEMBER && memcmp(g->member.b, q->owner->b, 32) == 0) ||
                 (g->kind == MC_GRANTEE_ORG && q->acct.role == MC_ROLE_CLINICIAN && g->org == q->acct.org);
    return active && names ? list_add(q->l, patient) : 0;
}

static int q_patients(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_patients *q = ctx;
    struct mc_state *st = mc_app_state(app);
    if (q->level != LEVEL_GROUP) return mc_records_scan_patients(st, list_add, q->l);
    if (mc_identity_get_account(st, q->owner, &q->acct)) return 0;
    return mc_records_scan_grants(st, NULL, grant_row, q);
}

struct q_ids {
    const mc_pubkey *patient;
    struct mc__records_view_collect c;
    int rc;
};

static int q_ids(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_ids *q = ctx;
    q->rc = mc_records_scan_patient(mc_app_state(app), q->patient, mc__records_view_collect_row, &q->c);
    return 0;
}

/* Logs one patient's export as the token owner's access entry. */
static int log_patient(struct job *j, const mc_pubkey *patient, uint8_t purpose, const char *reason, mc_hash *txid) {
    struct mc__gate g;
    memset(&g, 0, sizeof g);
    mc_buf_init(&g.v.base, 0);
    char text[MC_SIGBASE_MAX];
    size_t tn = mc_smart_bearer_format(text, j->token.client, j->token.jti, &j->token.tx, &j->token.assertion);
    mc_buf_append(&g.v.base, text, tn);
    g.v.key = j->token.owner;
    g.known = true;
    g.bearer = true;
    struct mc__gate_access a = {.patient = patient, .action = MC_ACTION_EXPORT, .purpose = purpose,
                                .outcome = MC_OUTCOME_SUCCESS, .status = 200, .reason = reason};
    int rc = mc__gate_log_access(j->node, &g, &a, txid);
    mc_buf_deinit(&g.v.base);
    return rc;
}

static void job_error(struct job *j, const char *text) {
    json_t *oo = mc_fhir_outcome("error", "processing", text);
    char *line = oo ? json_dumps(oo, JSON_COMPACT) : NULL;
    json_decref(oo);
    if (line && (mc_exports_append(j->node, j->id, "OperationOutcome.ndjson", line, strlen(line)) ||
                 mc_exports_append(j->node, j->id, "OperationOutcome.ndjson", "\n", 1)))
        mc_log_warn("api", "bulk export %s: cannot write its error file: %s", j->id, mc_err_detail());
    free(line);
    pthread_mutex_lock(&bulk.lock);
    j->errors++;
    pthread_mutex_unlock(&bulk.lock);
}

/* Exports one patient: her records the owner may read, of the job's
 * types, since _since; one access entry; then her lines. */
static int export_patient(struct job *j, const mc_pubkey *patient, char (*ids)[MC_RECORD_ID_MAX + 1]) {
    struct q_ids q = {.patient = patient, .c = {.ids = ids}};
    int rc = mc_node_query(j->node, q_ids, &q);
    if (rc || q.rc) return rc ? rc : q.rc;
    if (q.c.n == MC_API_RECORDS_SEARCH_MAX) {
        char hx[65], why[200];
        mc_hex_encode(hx, patient->b, 32);
        snprintf(why, sizeof why, "patient %s has more than %d records: only the first %d (in id order) are exported", hx,
                 MC_API_RECORDS_SEARCH_MAX, MC_API_RECORDS_SEARCH_MAX);
        job_error(j, why);
    }
    struct mc_buf lines[MC_FHIR_TYPE_MAX + 1];
    size_t counts[MC_FHIR_TYPE_MAX + 1];
    for (int t = 0; t <= MC_FHIR_TYPE_MAX; t++) {
        mc_buf_init(&lines[t], 0);
        counts[t] = 0;
    }
    struct mc_records_served *served = calloc(q.c.n ? q.c.n : 1, sizeof *served);
    if (!served) return MC_ERR_NOMEM;
    size_t ns = 0;
    uint64_t bytes = 0;
    uint8_t purpose = j->purpose;
    uint64_t now = mc__records_view_block_time_ms(j->node);
    for (size_t i = 0; i < q.c.n && !rc; i++) {
        struct mc__records_view_read r = {.id = ids[i], .requester = &j->token.owner, .purpose = j->purpose,
                                          .now_ms = now, .node_key = mc_vault_public_key(mc_node_vault(j->node))};
        if ((rc = mc_node_query(j->node, mc__records_view_query_read, &r))) break;
        if (r.rc || !r.d.allowed || r.d.break_glass || !(j->types & (1u << r.head.type))) continue;
        if (j->has_since && r.ver.time_ms < j->since_ms) continue;
        struct mc_buf plain;
        mc_buf_init(&plain, 0);
        int orc = mc__records_view_open(j->node, &r, &plain);
        json_t *one = orc ? NULL : mc__fhir_reply_with_meta(plain.data, plain.len, r.version, r.ver.time_ms);
        sodium_memzero(plain.data, plain.cap);
        mc_buf_deinit(&plain);
        if (!one) {
            char why[400];
            snprintf(why, sizeof why, "%s/%s was not exported: %s", mc_records_type_name(r.head.type), r.id,
                     orc ? mc_err_detail() : "it does not parse");
            job_error(j, why);
            continue;
        }
        char *text = mc_json_exact_dump(one, JSON_COMPACT, NULL);
        json_decref(one);
        if (!text) {
            rc = MC_ERR_NOMEM;
            break;
        }
        size_t tl = strlen(text);
        mc_buf_append(&lines[r.head.type], text, tl);
        mc_buf_append(&lines[r.head.type], "\n", 1);
        sodium_memzero(text, tl);
        free(text);
        bytes += tl + 1;
        counts[r.head.type]++;
        if (!purpose) purpose = r.d.purpose;
        served[ns].id = ids[i];
        served[ns].version = r.version;
        served[ns].ciphertext = r.ver.ciphertext;
        ns++;
    }
    if (!rc && ns) {
        pthread_mutex_lock(&bulk.lock);
        bool too_big = j->bytes + bytes > MC_BULK_OUTPUT_MAX;
        pthread_mutex_unlock(&bulk.lock);
        if (too_big) rc = mc_err_set(MC_ERR_TOO_LARGE, "the export exceeds %llu bytes; narrow it with _type or _since",
                                     (unsigned long long)MC_BULK_OUTPUT_MAX);
    }
    if (!rc && ns) {
        mc_hash root, txid;
        mc_records_listing_root(&root, served, ns);
        char reason[MC_RECORDS_LISTING_REASON_MAX];
        mc_records_listing_reason(reason, ns, q.c.n, &root);
        int lrc = log_patient(j, patient, purpose ? purpose : MC_PURPOSE_TREAT, reason, &txid);
        if (lrc) {
            char hx[65], why[400];
            mc_hex_encode(hx, patient->b, 32);
            snprintf(why, sizeof why, "the records of patient %s were not exported: their access could not be logged: %s",
                     hx, mc_err_detail());
            job_error(j, why);
        } else {
            for (int t = 1; t <= MC_FHIR_TYPE_MAX && !rc; t++) {
                if (!lines[t].len) continue;
                char file[64];
                snprintf(file, sizeof file, "%s.ndjson", mc_records_type_name((uint16_t)t));
                if (lines[t].err) rc = lines[t].err;
                else rc = mc_exports_append(j->node, j->id, file, lines[t].data, lines[t].len);
            }
            pthread_mutex_lock(&bulk.lock);
            for (int t = 1; t <= MC_FHIR_TYPE_MAX; t++) j->counts[t] += counts[t];
            j->bytes += bytes;
            j->logged++;
            pthread_mutex_unlock(&bulk.lock);
        }
    }
    for (int t = 0; t <= MC_FHIR_TYPE_MAX; t++) {
        if (lines[t].data) sodium_memzero(lines[t].data, lines[t].cap);
        mc_buf_deinit(&lines[t]);
    }
    free(served);
    return rc;
}

static void *job_run(void *arg) {
    struct job *j = arg;
    struct patient_list l = {0};
    char (*ids)[MC_RECORD_ID_MAX + 1] = calloc(MC_API_RECORDS_SEARCH_MAX, sizeof *ids);
    struct q_patients qp = {.level = j->level, .owner = &j->token.owner,
                            .now_ms = mc__records_view_block_time_ms(j->node), .l = &l};
    int rc = ids ? mc_exports_begin(j->node, j->id) : MC_ERR_NOMEM;
    if (!rc) rc = mc_node_query(j->node, q_patients, &qp);
    if (!rc) rc = l.rc;
    pthread_mutex_lock(&bulk.lock);
    j->patients = l.n;
    pthread_mutex_unlock(&bulk.lock);
    for (size_t i = 0; i < l.n && !rc; i++) {
        pthread_mutex_lock(&bulk.lock);
        bool cancel = j->cancel;
        pthread_mutex_unlock(&bulk.lock);
        if (cancel) break;
        rc = export_patient(j, &l.v[i], ids);
        pthread_mutex_lock(&bulk.lock);
        j->done = i + 1;
        pthread_mutex_unlock(&bulk.lock);
    }
    free(l.v);
    free(ids);
    pthread_mutex_lock(&bulk.lock);
    if (rc) snprintf(j->why, sizeof j->why, "the export failed: %s", mc_err_detail());
    j->state = rc ? JOB_FAILED : JOB_DONE;
    j->expires_ms = wall_ms() + (int64_t)mc_node_bulk_ttl_s(j->node) * 1000;
    /* the outputs stay until they expire, the client cancels, or the API stops */
    while (!j->cancel && wall_ms() < j->expires_ms) {
        struct timespec until = {.tv_sec = (time_t)(j->expires_ms / 1000), .tv_nsec = (long)(j->expires_ms % 1000) * 1000000};
        pthread_cond_timedwait(&bulk.cond, &bulk.lock, &until);
    }
    pthread_mutex_unlock(&bulk.lock);
    mc_exports_remove(j->node, j->id);
    pthread_mutex_lock(&bulk.lock);
    memset(j, 0, sizeof *j);
    bulk.threads--;
    pthread_cond_broadcast(&bulk.cond);
    pthread_mutex_unlock(&bulk.lock);
    return NULL;
}

void mc__api_bulk_stop(struct mc_node *node) {
    pthread_mutex_lock(&bulk.lock);
    for (size_t i = 0; i < MC_BULK_JOBS_MAX; i++)
        if (bulk.jobs[i].used && bulk.jobs[i].node == node) bulk.jobs[i].cancel = true;
    pthread_cond_broadcast(&bulk.cond);
    for (;;) {
        bool live = false;
        for (size_t i = 0; i < MC_BULK_JOBS_MAX; i++)
            if (bulk.jobs[i].used && bulk.jobs[i].node == node) live = true;
        if (!live) break;
        pthread_cond_wait(&bulk.cond, &bulk.lock);
    }
    pthread_mutex_unlock(&bulk.lock);
    mc_exports_clear(node);
}

/* ---- requests ---- */

/* The gate for every bulk request: a bearer token is required. Returns
 * true when the request may go on; otherwise res holds the (logged)
 * refusal. Release g afterwards. */
static bool bulk_gate(struct mc__gate *g, struct mc_node *node, const struct mc__api_request *req,
                      struct mc__api_response *res) {
    mc__gate_check(g, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__gate_access a = {.action = MC_ACTION_EXPORT, .purpose = mc__records_view_purpose(req),
                                .outcome = MC_OUTCOME_SECURITY};
    if (g->rc) {
        mc__gate_refuse_access(node, res, g, &a, true, g->rc, g->why);
        return false;
    }
    if (!g->bearer) {
        a.status = 401;
        a.outcome = MC_OUTCOME_REFUSED;
        mc__gate_refuse_access(node, res, g, &a, true, MC_ERR_BAD_SIGNATURE,
                               "a bulk export is authorised by a SMART Backend Services bearer token (see "
                               "/.well-known/smart-configuration)");
        return false;
    }
    return true;
}

static void refuse(struct mc_node *node, struct mc__api_response *res, const struct mc__gate *g, unsigned status,
                   int err, const char *why) {
    struct mc__gate_access a = {.action = MC_ACTION_EXPORT, .outcome = MC_OUTCOME_REFUSED, .status = (uint16_t)status};
    mc__gate_refuse_access(node, res, g, &a, true, err, why);
}

struct q_role {
    const mc_pubkey *key;
    struct mc_account a;
    bool found;
};

static int q_role(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_role *q = ctx;
    q->found = mc_identity_get_account(mc_app_state(app), q->key, &q->a) == 0;
    return 0;
}

static void kickoff(struct mc_node *node, int level, const struct mc__api_request *req, struct mc__api_response *res) {
    struct mc__gate g;
    if (!bulk_gate(&g, node, req, res)) goto out;
    const char *prefer = mc__gate_header(req, "prefer");
    if (!prefer || !strstr(prefer, "respond-async")) {
        refuse(node, res, &g, 400, MC_ERR_INVALID, "a bulk export needs Prefer: respond-async");
        goto out;
    }
    static const char *const unsupported[] = {"_typeFilter", "_elements", "patient", "includeAssociatedData", NULL};
    for (size_t i = 0; unsupported[i]; i++)
        if (req->arg && req->arg(req->arg_ctx, unsupported[i])) {
            char why[120];
            snprintf(why, sizeof why, "the parameter %s is not supported", unsupported[i]);
            refuse(node, res, &g, 400, MC_ERR_INVALID, why);
            goto out;
        }
    const char *fmt = req->arg ? req->arg(req->arg_ctx, "_outputFormat") : NULL;
    if (fmt && strcmp(fmt, "application/fhir+ndjson") && strcmp(fmt, "application/ndjson") && strcmp(fmt, "ndjson")) {
        refuse(node, res, &g, 400, MC_ERR_INVALID, "_outputFormat must be application/fhir+ndjson");
        goto out;
    }
    struct q_role qr = {.key = &g.token.owner};
    if (mc_node_query(node, q_role, &qr) || !qr.found) {
        refuse(node, res, &g, 503, MC_ERR_UNAVAILABLE, "the node could not run the query");
        goto out;
    }
    uint32_t allowed = 0, types = 0, level_set = level_types(level);
    for (uint16_t t = 1; t <= MC_FHIR_TYPE_MAX; t++) {
        const char *name = mc_records_type_name(t);
        if ((level_set & (1u << t)) && mc__smart_token_covers(&g.token, name, MC_SMART_PERM_READ) &&
            mc_smart_role_allows(qr.a.role, name))
            allowed |= 1u << t;
    }
    const char *tl = req->arg ? req->arg(req->arg_ctx, "_type") : NULL;
    if (tl) {
        if (strlen(tl) > MC_BULK_TYPES_ARG_MAX) {
            refuse(node, res, &g, 400, MC_ERR_TOO_LARGE, "_type is too long");
            goto out;
        }
        for (const char *p = tl; *p;) {
            size_t n = strcspn(p, ",");
            char name[40];
            snprintf(name, sizeof name, "%.*s", (int)(n < 39 ? n : 39), p);
            uint16_t t = n < 39 ? mc_records_type_from_name(name) : 0;
            char why[160];
            if (!t || !(level_set & (1u << t))) {
                snprintf(why, sizeof why, "_type names %s, which this export does not serve", name);
                refuse(node, res, &g, 400, MC_ERR_INVALID, why);
                goto out;
            }
            if (!(allowed & (1u << t))) {
                snprintf(why, sizeof why, "the token's scopes do not cover %s", name);
                refuse(node, res, &g, 403, MC_ERR_FORBIDDEN, why);
                goto out;
            }
            types |= 1u << t;
            p += n;
            if (*p == ',') p++;
        }
    } else {
        types = allowed;
    }
    if (!types) {
        refuse(node, res, &g, 403, MC_ERR_FORBIDDEN, "the token's scopes cover no type this export serves");
        goto out;
    }
    const char *since = req->arg ? req->arg(req->arg_ctx, "_since") : NULL;
    uint64_t since_ms = 0;
    if (since && mc_fhir_parse_date(&since_ms, since)) {
        refuse(node, res, &g, 400, MC_ERR_INVALID, "_since is not a FHIR instant");
        goto out;
    }
    char base[300];
    mc__fhir_reply_base(req, base, sizeof base);
    pthread_mutex_lock(&bulk.lock);
    struct job *slot = NULL;
    size_t running = 0; /* the client's live jobs */
    for (size_t i = 0; i < MC_BULK_JOBS_MAX; i++) {
        struct job *j = &bulk.jobs[i];
        if (!j->used) {
            if (!slot) slot = j;
        } else if (j->node == node && !j->cancel &&
                   memcmp(j->token.owner.b, g.token.owner.b, 32) == 0 && strcmp(j->token.client, g.token.client) == 0) {
            running++;
        }
    }
    if (!slot || running >= MC_BULK_JOBS_PER_CLIENT) {
        pthread_mutex_unlock(&bulk.lock);
        refuse(node, res, &g, 429, MC_ERR_FULL,
               running >= MC_BULK_JOBS_PER_CLIENT ? "this client holds its share of exports; delete one (DELETE its status URL) or wait for it to expire"
                                                  : "the node runs as many exports as it can; retry later");
        goto out;
    }
    memset(slot, 0, sizeof *slot);
    slot->used = true;
    slot->state = JOB_RUNNING;
    slot->node = node;
    uint8_t rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    mc_hex_encode(slot->id, rnd, sizeof rnd);
    slot->token = g.token;
    slot->level = level;
    slot->types = types;
    slot->has_since = since != NULL;
    slot->since_ms = since_ms;
    slot->purpose = mc__records_view_purpose(req);
    snprintf(slot->request, sizeof slot->request, "%s", req->target_uri ? req->target_uri : "");
    snprintf(slot->base, sizeof slot->base, "%s", base);
    slot->tx_time_ms = (uint64_t)wall_ms();
    char id[33];
    memcpy(id, slot->id, sizeof id);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int trc = pthread_create(&th, &attr, job_run, slot);
    pthread_attr_destroy(&attr);
    if (trc) memset(slot, 0, sizeof *slot);
    else bulk.threads++;
    pthread_mutex_unlock(&bulk.lock);
    if (trc) {
        refuse(node, res, &g, 503, MC_ERR_FULL, "cannot start the export; retry later");
        goto out;
    }
    snprintf(res->content_location, sizeof res->content_location, "%s/$export-status/%s", base, id);
    mc__fhir_reply_set(res, 202, mc_fhir_outcome("information", "informational", "the export was accepted; poll its Content-Location"));
out:
    mc__gate_release(&g);
}

void mc__api_bulk_export(struct mc_node *node, const char *param, const struct mc__api_request *req,
                         struct mc__api_response *res) {
    kickoff(node, LEVEL_SYSTEM, req, res);
}

void mc__api_bulk_export_patient(struct mc_node *node, const char *param, const struct mc__api_request *req,
                                 struct mc__api_response *res) {
    kickoff(node, LEVEL_PATIENT, req, res);
}

void mc__api_bulk_export_group(struct mc_node *node, const char *param, const struct mc__api_request *req,
                               struct mc__api_response *res) {
    if (strcmp(param, "granted") != 0) {
        mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND,
                            "no such Group: Group/granted is the patients who granted the token's owner access");
        return;
    }
    kickoff(node, LEVEL_GROUP, req, res);
}

/* The job of the client behind g (copied into out); false when none. */
static bool job_of(struct mc_node *node, const struct mc__gate *g, const char *id, struct job *out) {
    bool found = false;
    pthread_mutex_lock(&bulk.lock);
    for (size_t i = 0; i < MC_BULK_JOBS_MAX && !found; i++) {
        struct job *j = &bulk.jobs[i];
        if (j->used && !j->cancel && j->node == node && strcmp(j->id, id) == 0 &&
            memcmp(j->token.owner.b, g->token.owner.b, 32) == 0 && strcmp(j->token.client, g->token.client) == 0) {
            *out = *j;
            found = true;
        }
    }
    pthread_mutex_unlock(&bulk.lock);
    return found;
}

void mc__api_bulk_status(struct mc_node *node, const char *param, const struct mc__api_request *req,
                         struct mc__api_response *res) {
    struct mc__gate g;
    struct job *j = malloc(sizeof *j);
    if (!j) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        return;
    }
    if (!bulk_gate(&g, node, req, res)) goto out;
    if (!job_of(node, &g, param, j)) {
        refuse(node, res, &g, 404, MC_ERR_NOT_FOUND, "no such export of this client (it may have expired or been cancelled)");
        goto out;
    }
    if (j->state == JOB_RUNNING) {
        snprintf(res->progress, sizeof res->progress, "%zu of %zu patients", j->done, j->patients);
        mc__fhir_reply_set(res, 202, mc_fhir_outcome("information", "informational", "the export is running"));
        goto out;
    }
    if (j->state == JOB_FAILED) {
        mc__fhir_reply_fail(res, 500, MC_ERR_IO, "%s", j->why);
        goto out;
    }
    char t[32];
    mc_fhir_instant(t, j->tx_time_ms);
    json_t *output = json_array(), *error = json_array();
    for (uint16_t k = 1; k <= MC_FHIR_TYPE_MAX; k++) {
        if (!j->counts[k]) continue;
        char url[500];
        snprintf(url, sizeof url, "%s/$export-file/%s-%s.ndjson", j->base, j->id, mc_records_type_name(k));
        json_array_append_new(output, json_pack("{s:s, s:s, s:I}", "type", mc_records_type_name(k), "url", url, "count",
                                                (json_int_t)j->counts[k]));
    }
    if (j->errors) {
        char url[500];
        snprintf(url, sizeof url, "%s/$export-file/%s-OperationOutcome.ndjson", j->base, j->id);
        json_array_append_new(error, json_pack("{s:s, s:s, s:I}", "type", "OperationOutcome", "url", url, "count",
                                               (json_int_t)j->errors));
    }
    json_t *m = json_pack("{s:s, s:s, s:b, s:o, s:o, s:{s:I, s:I}}", "transactionTime", t, "request", j->request,
                          "requiresAccessToken", 1, "output", output, "error", error, "extension", "patients",
                          (json_int_t)j->patients, "patientsExported", (json_int_t)j->logged);
    mc__reply_ok(res, 200, m);
out:
    free(j);
    mc__gate_release(&g);
}

void mc__api_bulk_cancel(struct mc_node *node, const char *param, const struct mc__api_request *req,
                         struct mc__api_response *res) {
    struct mc__gate g;
    if (!bulk_gate(&g, node, req, res)) goto out;
    bool found = false;
    pthread_mutex_lock(&bulk.lock);
    for (size_t i = 0; i < MC_BULK_JOBS_MAX && !found; i++) {
        struct job *j = &bulk.jobs[i];
        if (j->used && !j->cancel && j->node == node && strcmp(j->id, param) == 0 &&
            memcmp(j->token.owner.b, g.token.owner.b, 32) == 0 && strcmp(j->token.client, g.token.client) == 0) {
            j->cancel = true;
            found = true;
        }
    }
    pthread_cond_broadcast(&bulk.cond);
    pthread_mutex_unlock(&bulk.lock);
    if (!found) {
        refuse(node, res, &g, 404, MC_ERR_NOT_FOUND, "no such export of this client");
        goto out;
    }
    mc__fhir_reply_set(res, 202, mc_fhir_outcome("information", "informational", "the export was cancelled and its files are deleted"));
out:
    mc__gate_release(&g);
}

struct file_stream {
    struct mc_exports_reader *r;
};

static long file_read(void *ctx, char *buf, size_t max) {
    struct file_stream *s = ctx;
    long k = mc_exports_read(s->r, buf, max);
    return k == 0 ? -1 : k; /* the size is known: 0 bytes early is an error */
}

static void file_free(void *ctx) {
    struct file_stream *s = ctx;
    mc_exports_close(s->r);
    free(s);
}

void mc__api_bulk_file(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res) {
    struct mc__gate g;
    struct job *j = malloc(sizeof *j);
    if (!j) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        return;
    }
    if (!bulk_gate(&g, node, req, res)) goto out;
    char id[33], file[64];
    const char *dash = strchr(param, '-');
    if (!dash || dash - param != 32 || strlen(dash + 1) >= sizeof file) {
        refuse(node, res, &g, 404, MC_ERR_NOT_FOUND, "no such export file");
        goto out;
    }
    memcpy(id, param, 32);
    id[32] = 0;
    snprintf(file, sizeof file, "%s", dash + 1);
    if (!job_of(node, &g, id, j) || j->state != JOB_DONE) {
        refuse(node, res, &g, 404, MC_ERR_NOT_FOUND, "no such export file of this client");
        goto out;
    }
    struct file_stream *s = malloc(sizeof *s);
    uint64_t size = 0;
    int rc = s ? mc_exports_open(node, id, file, &s->r, &size) : MC_ERR_NOMEM;
    if (rc || size == 0) {
        if (rc == 0) mc_exports_close(s->r);
        free(s);
        refuse(node, res, &g, 404, MC_ERR_NOT_FOUND, "no such export file");
        goto out;
    }
    res->status = 200;
    res->stream_read = file_read;
    res->stream_free = file_free;
    res->stream_ctx = s;
    res->stream_size = size;
    snprintf(res->stream_type, sizeof res->stream_type, "application/fhir+ndjson");
out:
    free(j);
    mc__gate_release(&g);
}
