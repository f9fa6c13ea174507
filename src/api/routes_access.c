/* GET /v1/access: the access log for auditors, filtered and paged by the
 * node (signed; auditors only, app/records.h mc_records_decide_audit).
 *
 *   kind=all|treatment|break_glass|refused|patient|audit   (default all)
 *   patient=KEY  member=KEY (the requester)  org=ID (the requester's org)
 *   from=MS to=MS (block time, from inclusive, to exclusive)
 *   limit=1..200 (default 50)  before=HEIGHT-TXID (the next page's cursor)
 *
 * Entries newest first (block height, then transaction id, descending),
 * each with the requester's name and organisation and the record's type;
 * next_before names the cursor of the next page when more matched. The
 * query itself is an access (to every matching patient's log): one entry,
 * action audit, naming the filter and the count. */
#include "api/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fhir.h"
#include "api/gate.h"
#include "api/reply.h"
#include "app/identity.h"
#include "app/records.h"
#include "base/hex.h"

#define ACCESS_LIMIT_MAX 200
#define ACCESS_LIMIT_DEFAULT 50

enum kind { K_ALL, K_TREATMENT, K_BREAK_GLASS, K_REFUSED, K_PATIENT, K_AUDIT };
static const char *const kind_names[] = {"all", "treatment", "break_glass", "refused", "patient", "audit"};

/* The kind of an entry, as an auditor sorts them. */
static bool is_kind(const struct mc_access_entry *e, enum kind k) {
    switch (k) {
    case K_ALL: return true;
    case K_TREATMENT:
        return e->outcome == MC_OUTCOME_SUCCESS && (e->purpose == MC_PURPOSE_TREAT || e->purpose == MC_PURPOSE_ETREAT);
    case K_BREAK_GLASS: return e->purpose == MC_PURPOSE_BTG;
    case K_REFUSED: return e->outcome != MC_OUTCOME_SUCCESS;
    case K_PATIENT: return e->outcome == MC_OUTCOME_SUCCESS && memcmp(e->patient.b, e->requester.b, 32) == 0;
    case K_AUDIT: return e->action == MC_ACTION_AUDIT;
    }
    return false;
}

struct q_access {
    const mc_pubkey *requester;
    bool have_patient, have_member, have_before;
    mc_pubkey patient, member;
    uint32_t org;
    enum kind kind;
    uint64_t from_ms, to_ms;       /* to 0: no bound */
    uint64_t before_height;
    mc_hash before_tx;
    size_t limit;
    struct mc_state *st;
    struct mc_access_decision d;
    struct mc_access_entry *top;   /* limit + 1 newest, sorted newest first */
    size_t n;
    size_t matched;
    int err;
};

/* a newer than b */
static bool newer(const struct mc_access_entry *a, uint64_t h, const mc_hash *tx) {
    if (a->height != h) return a->height > h;
    return memcmp(a->tx_id.b, tx->b, 32) > 0;
}

static int row(void *ctx, const struct mc_access_entry *e) {
    struct q_access *q = ctx;
    if (!is_kind(e, q->kind)) return 0;
    if (q->have_member && memcmp(e->requester.b, q->member.b, 32)) return 0;
    if (e->time_ms < q->from_ms || (q->to_ms && e->time_ms >= q->to_ms)) return 0;
    if (q->have_before && !newer(&(struct mc_access_entry){.height = q->before_height, .tx_id = q->before_tx},
                                 e->height, &e->tx_id))
        return 0;
    if (q->org) {
        struct mc_account a;
        if (mc_identity_get_account(q->st, &e->requester, &a) || a.org != q->org) return 0;
    }
    q->matched++;
    /* keep the limit + 1 newest (one more tells whether a next page exists) */
    size_t cap = q->limit + 1, at = q->n;
    while (at > 0 && newer(e, q->top[at - 1].height, &q->top[at - 1].tx_id)) at--;
    if (at == cap) return 0;
    if (q->n == cap) q->n--;
    memmove(&q->top[at + 1], &q->top[at], (q->n - at) * sizeof *q->top);
    q->top[at] = *e;
    q->n++;
    return 0;
}

static int q_run(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_access *q = ctx;
    q->st = mc_app_state(app);
    mc_records_decide_audit(q->st, q->requester, &q->d);
    if (!q->d.allowed) return 0;
    q->err = mc_records_scan_access(q->st, q->have_patient ? &q->patient : NULL, row, q);
    return 0;
}

/* The page as JSON (names looked up under the lock). */
struct q_view {
    struct q_access *q;
    json_t *list;
};

static int q_names(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_view *v = ctx;
    struct mc_state *st = mc_app_state(app);
    size_t n = v->q->n < v->q->limit ? v->q->n : v->q->limit;
    for (size_t i = 0; i < n; i++) {
        const struct mc_access_entry *e = &v->q->top[i];
        struct mc_account a;
        struct mc_org o;
        bool have_a = mc_identity_get_account(st, &e->requester, &a) == 0;
        if (have_a) a.name[sizeof a.name - 1] = 0;
        bool have_o = have_a && a.org && mc_identity_get_org(st, a.org, &o) == 0;
        if (have_o) o.name[sizeof o.name - 1] = 0;
        struct mc_record_head h;
        bool have_h = e->id[0] && mc_records_get_head(st, e->id, &h) == 0;
        char t[32];
        mc_fhir_instant(t, e->time_ms);
        const char *kind = e->purpose == MC_PURPOSE_BTG ? "break_glass"
                           : e->outcome != MC_OUTCOME_SUCCESS ? "refused"
                           : e->action == MC_ACTION_AUDIT ? "audit"
                           : memcmp(e->patient.b, e->requester.b, 32) == 0 ? "patient"
                           : is_kind(e, K_TREATMENT) ? "treatment" : "other";
        json_t *item = json_pack(
            "{s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:o, s:s, s:o, s:I, s:s, s:s, s:s, s:I, s:I, s:s}",
            "tx_id", mc_api_json_hash(&e->tx_id), "height", mc_api_json_u64(e->height), "time", t, "time_ms",
            mc_api_json_u64(e->time_ms), "patient", mc_api_json_pubkey(&e->patient), "requester",
            mc_api_json_pubkey(&e->requester), "requester_name", mc_api_json_text(have_a ? a.name : NULL),
            "requester_org", (json_int_t)(have_a ? a.org : 0), "requester_org_name",
            mc_api_json_text(have_o ? o.name : NULL), "record", e->id, "record_type",
            have_h ? json_string(mc_records_type_name(h.type)) : json_null(), "version", (json_int_t)e->version,
            "action", mc_action_name(e->action) ? mc_action_name(e->action) : "unknown", "purpose",
            mc_purpose_code(e->purpose) ? mc_purpose_code(e->purpose) : "", "outcome",
            e->outcome == MC_OUTCOME_SUCCESS ? "allowed" : e->outcome == MC_OUTCOME_REFUSED ? "refused" : "security",
            "status", (json_int_t)e->status, "outcome_code", (json_int_t)e->outcome, "kind", kind);
        if (item) json_object_set_new(item, "reason", mc_api_json_text(e->reason));
        if (json_array_append_new(v->list, item)) return MC_ERR_NOMEM;
    }
    return 0;
}

static int parse_cursor(struct q_access *q, const char *s) {
    const char *dash = strchr(s, '-');
    if (!dash || dash - s > 20 || strlen(dash + 1) != 64) return MC_ERR_MALFORMED;
    char h[21];
    memcpy(h, s, (size_t)(dash - s));
    h[dash - s] = 0;
    if (mc_api_parse_u64(&q->before_height, h) || mc_hex_decode(q->before_tx.b, 32, dash + 1)) return MC_ERR_MALFORMED;
    q->have_before = true;
    return 0;
}

void mc__api_access_log(struct mc_node *node, const char *param, const struct mc__api_request *req,
                        struct mc__api_response *res) {
#define ARG(n) (req->arg ? req->arg(req->arg_ctx, n) : NULL)
    struct q_access q = {.limit = ACCESS_LIMIT_DEFAULT};
    const char *kind = ARG("kind"), *patient = ARG("patient"), *member = ARG("member"), *org = ARG("org"),
               *from = ARG("from"), *to = ARG("to"), *limit = ARG("limit"), *before = ARG("before");
#undef ARG
    const char *bad = NULL;
    if (kind) {
        size_t k = 0;
        while (k < sizeof kind_names / sizeof kind_names[0] && strcmp(kind_names[k], kind)) k++;
        if (k == sizeof kind_names / sizeof kind_names[0]) bad = "kind is all, treatment, break_glass, refused, patient or audit";
        else q.kind = (enum kind)k;
    }
    uint64_t v = 0;
    if (!bad && patient && (mc_api_parse_pubkey(&q.patient, patient) || !(q.have_patient = true)))
        bad = "patient is an account key (64 hex digits)";
    if (!bad && member && (mc_api_parse_pubkey(&q.member, member) || !(q.have_member = true)))
        bad = "member is an account key (64 hex digits)";
    if (!bad && org && (mc_api_parse_u64(&v, org) || v == 0 || v > UINT32_MAX)) bad = "org is an organisation id";
    else if (org) q.org = (uint32_t)v;
    if (!bad && from && mc_api_parse_u64(&q.from_ms, from)) bad = "from is a time in ms since 1970";
    if (!bad && to && (mc_api_parse_u64(&q.to_ms, to) || q.to_ms == 0)) bad = "to is a time in ms since 1970";
    if (!bad && limit && (mc_api_parse_u64(&v, limit) || v == 0 || v > ACCESS_LIMIT_MAX))
        bad = "limit is 1 to 200";
    else if (limit) q.limit = (size_t)v;
    if (!bad && before && parse_cursor(&q, before)) bad = "before is the next_before cursor of a previous page";
    struct mc__gate s;
    mc__gate_check(&s, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    struct mc__gate_access a = {.patient = q.have_patient ? &q.patient : NULL, .action = MC_ACTION_AUDIT,
                                .purpose = MC_PURPOSE_HOPERAT, .outcome = MC_OUTCOME_SECURITY};
    if (s.rc) {
        mc__gate_refuse_access(node, res, &s, &a, false, s.rc, s.why);
        mc__gate_release(&s);
        return;
    }
    a.outcome = MC_OUTCOME_REFUSED;
    if (bad) {
        a.status = 400;
        mc__gate_refuse_access(node, res, &s, &a, false, MC_ERR_MALFORMED, bad);
        mc__gate_release(&s);
        return;
    }
    q.requester = &s.v.key;
    q.top = calloc(q.limit + 1, sizeof *q.top);
    json_t *list = json_array();
    int qrc = q.top && list ? mc_node_query(node, q_run, &q) : MC_ERR_NOMEM;
    if (!qrc && q.err) qrc = q.err;
    if (!qrc && !q.d.allowed) {
        a.status = (uint16_t)q.d.status;
        mc__gate_refuse_access(node, res, &s, &a, false, MC_ERR_FORBIDDEN, q.d.reason);
        goto out;
    }
    struct q_view view = {.q = &q, .list = list};
    if (!qrc) qrc = mc_node_query(node, q_names, &view);
    if (qrc) {
        a.status = (uint16_t)mc__reply_query_status(qrc);
        mc__gate_refuse_access(node, res, &s, &a, false, qrc, "the node could not run the query");
        goto out;
    }
    char why[200];
    snprintf(why, sizeof why, "access log query (kind %s%s%s%s): %zu of %zu matching entries", kind_names[q.kind],
             q.have_member ? ", one member" : "", q.org ? ", one organisation" : "",
             q.from_ms || q.to_ms ? ", a time range" : "", json_array_size(list), q.matched);
    a.outcome = MC_OUTCOME_SUCCESS;
    a.status = 200;
    a.reason = why;
    mc_hash txid;
    int lrc = mc__gate_log_access(node, &s, &a, &txid);
    if (lrc) {
        mc__gate_refuse_unlogged(node, res, &s, &a, false, lrc);
        goto out;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    json_decref(res->body);
    res->status = 200;
    res->body = json_pack("{s:o, s:I}", "entries", list, "matched", (json_int_t)q.matched);
    list = NULL;
    if (q.n > q.limit && res->body) {
        const struct mc_access_entry *last = &q.top[q.limit - 1];
        char cur[100], hx[65];
        mc_hex_encode(hx, last->tx_id.b, 32);
        snprintf(cur, sizeof cur, "%llu-%s", (unsigned long long)last->height, hx);
        json_object_set_new(res->body, "next_before", json_string(cur));
    }
out:
    json_decref(list);
    free(q.top);
    mc__gate_release(&s);
}
