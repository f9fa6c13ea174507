/* The gate of the private routes and their refusal path (see gate.h). */
#include "api/gate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fhir_reply.h"
#include "app/records_payload.h"
#include "app/research.h"
#include "app/txtypes.h"
#include "base/hex.h"

const char *const mc__gate_records_headers[MC__GATE_RECORDS_HEADERS] = {"x-purpose-of-use",
                                                                       "x-break-glass-reason"};

const char *mc__gate_header(const struct mc__api_request *req, const char *name) {
    return req->header ? req->header(req->header_ctx, name) : NULL;
}

static bool covered(const struct mc_httpsig_params *p, const char *c) {
    for (size_t i = 0; i < p->ncomp; i++)
        if (strcmp(p->comp[i], c) == 0) return true;
    return false;
}

static void deny(struct mc__gate *g, int rc, unsigned status, const char *why) {
    g->rc = rc;
    g->status = status;
    snprintf(g->why, sizeof g->why, "%s", why);
}

void mc__gate_check(struct mc__gate *g, const struct mc__api_request *req,
                    const char *const *must_cover, size_t n) {
    memset(g, 0, sizeof *g);
    mc_buf_init(&g->v.base, 0);
    mc_err_clear();
    if (!req->secure) {
        deny(g, MC_ERR_FORBIDDEN, 403, "private data is served only over TLS (or on loopback)");
        return;
    }
    if (!req->target_uri) {
        deny(g, MC_ERR_MALFORMED, 400, "the request has no Host header");
        return;
    }
    mc_buf_deinit(&g->v.base);
    struct mc_httpsig_message m = {.method = req->method, .target_uri = req->target_uri,
                                   .header = req->header, .header_ctx = req->header_ctx};
    int64_t now_s = (int64_t)time(NULL);
    g->rc = mc_httpsig_verify_request(&g->v, &m, req->body, req->body_len, now_s);
    g->have_sig = g->rc != MC_ERR_MALFORMED || !sodium_is_zero(g->v.sig, sizeof g->v.sig);
    if (g->rc) {
        g->status = 401;
        snprintf(g->why, sizeof g->why, "%s", mc_err_detail());
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (mc__gate_header(req, must_cover[i]) && !covered(&g->v.params, must_cover[i])) {
            char why[120];
            snprintf(why, sizeof why, "header %s must be covered by the signature", must_cover[i]);
            deny(g, MC_ERR_MALFORMED, 401, why);
            return;
        }
    }
    if (g->v.base.len > MC_SIGBASE_MAX) {
        char why[80];
        snprintf(why, sizeof why, "the signature base exceeds %d bytes", MC_SIGBASE_MAX);
        deny(g, MC_ERR_TOO_LARGE, 413, why);
        return;
    }
    int r = mc_httpsig_replay_check(&g->v.key, g->v.params.nonce, now_s);
    if (r == MC_ERR_EXISTS)
        deny(g, MC_ERR_BAD_SIGNATURE, 401, "replayed request: this signature's nonce was already used");
    else if (r)
        deny(g, MC_ERR_FULL, 503, "too many signed requests in the window; retry");
}

void mc__gate_release(struct mc__gate *g) { mc_buf_deinit(&g->v.base); }

/* The requester's signature base and signature as the ledger carries them:
 * the base cut at MC_SIGBASE_MAX (a refusal for an overlong base is still
 * logged, with its first MC_SIGBASE_MAX bytes), the signature only when it
 * decoded. */
static void carried(const struct mc__gate *g, const uint8_t **base, size_t *base_len,
                    const uint8_t **sig, size_t *sig_len) {
    *base = g->v.base.data;
    *base_len = g->v.base.len > MC_SIGBASE_MAX ? MC_SIGBASE_MAX : g->v.base.len;
    *sig = g->v.sig;
    *sig_len = g->have_sig ? MC_SIG_BYTES : 0;
}

/* Submits an encoded log entry signed by the node; frees b. */
static int submit(struct mc_node *node, uint16_t type, struct mc_buf *b, int encoded,
                  mc_hash *txid) {
    int rc = encoded ? encoded : mc_node_submit_signed(node, type, b->data, b->len, txid);
    mc_buf_deinit(b);
    return rc;
}

int mc__gate_log_access(struct mc_node *node, const struct mc__gate *g,
                        const struct mc__gate_access *a, mc_hash *txid) {
    struct mc_records_payload *p = calloc(1, sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    p->type = MC_TX_RECORD_ACCESS;
    if (a->patient) p->patient = *a->patient;
    if (a->id && mc_record_id_valid(a->id)) snprintf(p->id, sizeof p->id, "%s", a->id);
    p->version = a->version;
    p->requester = g->v.key;
    p->action = a->action;
    p->purpose = a->purpose;
    p->outcome = a->outcome;
    p->status = a->status;
    snprintf(p->reason, sizeof p->reason, "%s", a->reason ? a->reason : "");
    carried(g, &p->base, &p->base_len, &p->sig, &p->sig_len);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = mc_records_payload_encode(&b, p);
    free(p);
    return submit(node, MC_TX_RECORD_ACCESS, &b, rc, txid);
}

void mc__gate_refuse_access(struct mc_node *node, struct mc__api_response *res,
                            const struct mc__gate *g, struct mc__gate_access *a, bool fhir,
                            int err, const char *why) {
    mc_hash txid;
    a->reason = why;
    if (a->status == 0) a->status = (uint16_t)(g->status ? g->status : mc_api_http_status(err));
    if (mc__gate_log_access(node, g, a, &txid) == 0) mc_hex_encode(res->access_tx, txid.b, 32);
    if (fhir) mc__fhir_reply_fail(res, a->status, err, "%s", why);
    else mc__api_fail(res, a->status, err, "%s", why);
}

int mc__gate_log_query(struct mc_node *node, const struct mc__gate *g,
                       const struct mc__gate_query *q, mc_hash *txid) {
    struct mc_research_payload *p = calloc(1, sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    p->type = MC_TX_RESEARCH_QUERY;
    if (q->study && mc_study_id_valid(q->study)) snprintf(p->study, sizeof p->study, "%s", q->study);
    p->requester = g->v.key;
    p->outcome = q->outcome;
    p->status = q->status;
    snprintf(p->reason, sizeof p->reason, "%s", q->reason ? q->reason : "");
    p->hash = q->dataset;
    p->patients = q->patients;
    p->records = q->records;
    p->as_of_height = q->as_of;
    carried(g, &p->base, &p->base_len, &p->sig, &p->sig_len);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_research_encode(&b, p);
    free(p);
    return submit(node, MC_TX_RESEARCH_QUERY, &b, b.err, txid);
}

void mc__gate_refuse_query(struct mc_node *node, struct mc__api_response *res,
                           const struct mc__gate *g, const char *study, uint8_t outcome,
                           unsigned status, int err, const char *why) {
    struct mc__gate_query q = {.study = study, .outcome = outcome, .status = (uint16_t)status,
                               .reason = why};
    mc_hash txid;
    if (mc__gate_log_query(node, g, &q, &txid) == 0) mc_hex_encode(res->access_tx, txid.b, 32);
    mc__api_fail(res, status, err, "%s", why);
}
