/* Private to src/api: the route table of the JSON API and its handlers.
 *
 * The routes know nothing of libmicrohttpd: server.c hands them a request
 * (method, path, query accessor, bounded body) and sends the response they
 * fill in. Routing happens in two steps so that the server can refuse a
 * request (404, 405, 414, 413) from its headers alone, before it reads or
 * buffers any of the body. */
#ifndef MC_API_ROUTES_H
#define MC_API_ROUTES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/json_view.h"
#include "base/limits.h"
#include "node/node.h"



struct mc__api_request {
    const char *method;
    const char *path;
    const char *content_type;   /* NULL when absent */
    const uint8_t *body;        /* NULL when none */
    size_t body_len;
    /* A streamed body (not in body): the SHA-256 the signature is checked
     * against (the digest the request declares, while the body arrives;
     * see mc__api_stream). NULL otherwise. */
    const mc_hash *body_sha256;
    /* Query argument by name, NULL when absent. */
    const char *(*arg)(void *ctx, const char *name);
    void *arg_ctx;
    /* Calls fn(cls, name, value) for every query argument in the order
     * sent (value NULL for a bare name) until fn returns non-zero; NULL
     * when the arguments cannot be listed. */
    void (*each_arg)(void *ctx, int (*fn)(void *cls, const char *name, const char *value), void *cls);
    /* The request target as sent, before percent-decoding (NULL when
     * unknown or longer than MC_API_RAW_URI_MAX): the Digital Link
     * resolver needs the undecoded path and query. */
    const char *raw_uri;
    /* Request header by name (case-insensitive), NULL when absent. */
    const char *(*header)(void *ctx, const char *name);
    void *header_ctx;
    /* The absolute target URI as the client addressed it
     * (scheme://Host/path?query), for RFC 9421 @target-uri. */
    const char *target_uri;
    /* The connection is TLS, or its peer is on loopback: private data may
     * be served (DESIGN: private data only over TLS except on loopback). */
    bool secure;
    /* The numeric address the client connected from ("" when unknown): the
     * key of per-client limits. */
    char client_addr[64];
    /* This server's own bind host and port: a signed request must address
     * this node (gate.h). */
    const char *local_host;
    uint16_t local_port;
};

struct mc__api_response {
    unsigned status;
    json_t *body;         /* owned; NULL means "out of memory" to the sender */
    const char *allow;    /* Allow header for 405, static */
    /* A non-JSON answer (HTML): when raw is set it is sent instead of body
     * with Content-Type raw_type; raw is malloc'd and owned. */
    char *raw;
    size_t raw_len;
    const char *raw_type;
    bool vary_accept;     /* the answer depends on the Accept header */
    const char *content_type; /* static; NULL means application/json */
    char location[192];   /* Location header when non-empty */
    char etag[32];        /* ETag header when non-empty */
    char access_tx[65];   /* X-Medchain-Access-Tx: the access entry logged */
    /* Bulk Data (bulk.c): Content-Location of an accepted export, and
     * X-Progress (with Retry-After) of one still running; "" when none. */
    char content_location[400];
    char progress[64];
    /* A streamed answer of stream_size bytes (an attachment) instead of
     * body: stream_read(ctx, buf, max) fills buf with the next bytes and
     * returns their count (> 0), or -1 on an error, which ends the
     * response early (the client sees fewer bytes than Content-Length);
     * stream_free(ctx) runs when the response is done. The server holds
     * one block (MC_STREAM_CHUNK) at a time. */
    long (*stream_read)(void *ctx, char *buf, size_t max);
    void (*stream_free)(void *ctx);
    void *stream_ctx;
    uint64_t stream_size;
    char stream_type[MC_ATTACHMENT_TYPE_MAX + 1];
};

/* A route whose request body is streamed to it instead of buffered (an
 * attachment upload, up to MC_ATTACHMENT_MAX bytes):
 *   begin  with the headers (req has no body; body_sha256 is the declared
 *          Content-Digest, NULL when there is none): 0 to take the body,
 *          with its state in *ctx; else res holds the answer;
 *   data   each piece of the body as it arrives; non-zero stops feeding
 *          (the rest of the body is read and discarded; end answers);
 *   end    the body is complete: body_sha256 is the SHA-256 of every byte
 *          received, body_len their count; frees ctx;
 *   cancel the client went away before the end: drop everything; frees
 *          ctx. */
struct mc__api_stream {
    int (*begin)(struct mc_node *node, const char *param, const struct mc__api_request *req, void **ctx,
                 struct mc__api_response *res);
    int (*data)(void *ctx, const uint8_t *bytes, size_t len);
    void (*end)(struct mc_node *node, void *ctx, const struct mc__api_request *req, const mc_hash *body_sha256,
                uint64_t body_len, struct mc__api_response *res);
    void (*cancel)(void *ctx);
};

typedef void (*mc__api_handler)(struct mc_node *node, const char *param,
                                const struct mc__api_request *req,
                                struct mc__api_response *res);

struct mc__api_match {
    mc__api_handler handler;
    const struct mc__api_stream *stream; /* a streamed-body route (handler NULL) */
    size_t body_max;      /* 0: the route takes no body */
    char param[MC_API_SEGMENT_MAX + 1];
};

/* Finds the route for method and path. Returns 0 with m filled, or a
 * negative mc_err code with res holding the error response (404 unknown
 * route, 405 wrong method with Allow, 414 overlong path or segment). */
int mc__api_lookup(struct mc__api_match *m, struct mc__api_response *res, const char *method,
                   const char *path);

/* Fills res with an error response: status from mc_api_http_status(err)
 * unless status is non-zero, message from the printf-style detail
 * (router.c). */
void mc__api_fail(struct mc__api_response *res, unsigned status, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* RFC 6962 inclusion proof of ledger log leaf log_index against header h,
 * checked before it is returned: {"leaf_index","tree_size","leaf_hash",
 * "audit_path","root"}. Returns NULL with *err set (MC_ERR_TAMPERED when
 * the stored log disagrees with the header, MC_ERR_NOMEM). Call under the
 * node lock (inside mc_node_query). Shared by GET /v1/proof and the
 * Digital Link resolver (routes_proof.c). */
json_t *mc__api_log_inclusion(struct mc_store *store, uint64_t log_index,
                              const struct mc_header *h, int *err);

/* Handlers are named mc__api_<area>... and declared here; router.c holds
 * the table that maps method and path to them. */
#define MC__API_HANDLER(name)                                                          \
    void name(struct mc_node *node, const char *param, const struct mc__api_request *req, \
              struct mc__api_response *res)

/* SMART Backend Services (routes_smart.c). */
MC__API_HANDLER(mc__api_smart_configuration); /* GET /.well-known/smart-configuration */
MC__API_HANDLER(mc__api_smart_token);         /* POST /auth/token */

/* Bulk Data export (bulk.c). */
MC__API_HANDLER(mc__api_bulk_export);         /* GET /fhir/$export */
MC__API_HANDLER(mc__api_bulk_export_patient); /* GET /fhir/Patient/$export */
MC__API_HANDLER(mc__api_bulk_export_group);   /* GET /fhir/Group/{id}/$export */
MC__API_HANDLER(mc__api_bulk_status);         /* GET /fhir/$export-status/{job} */
MC__API_HANDLER(mc__api_bulk_cancel);         /* DELETE /fhir/$export-status/{job} */
MC__API_HANDLER(mc__api_bulk_file);           /* GET /fhir/$export-file/{job}-{Type}.ndjson */
/* Cancels the node's exports, waits for their threads, deletes every
 * output (the API stopping). */
void mc__api_bulk_stop(struct mc_node *node);

/* Chain routes (routes_chain.c). */
MC__API_HANDLER(mc__api_status);       /* GET /v1/status */
MC__API_HANDLER(mc__api_submit);       /* POST /v1/tx */
MC__API_HANDLER(mc__api_submit_batch); /* POST /v1/txs */
MC__API_HANDLER(mc__api_tx);           /* GET /v1/tx/{id} */
MC__API_HANDLER(mc__api_block);        /* GET /v1/block/{height|latest} */
MC__API_HANDLER(mc__api_blocks);       /* GET /v1/blocks?from=H&limit=N */
MC__API_HANDLER(mc__api_evidence);     /* GET /v1/evidence */
MC__API_HANDLER(mc__api_metrics);      /* GET /metrics */
/* FHIR Subscriptions (routes_fhir_subscription.c). */
MC__API_HANDLER(mc__api_subscription_create);
MC__API_HANDLER(mc__api_subscription_search);
MC__API_HANDLER(mc__api_subscription_read);
MC__API_HANDLER(mc__api_subscription_delete);
MC__API_HANDLER(mc__api_subscription_status);
/* The outbound feeds' status (routes_feeds.c): the "audit_export" object
 * of /v1/status and the lines of /metrics. */
json_t *mc__feeds_status_json(struct mc_node *node);
void mc__feeds_metrics(struct mc_node *node, struct mc_buf *b);
/* Proof routes (routes_proof.c). */
MC__API_HANDLER(mc__api_proof);        /* GET /v1/proof/{id}?height=H */
MC__API_HANDLER(mc__api_consistency);  /* GET /v1/consistency?first=H1&second=H2 */
/* State proof routes (routes_state.c). */
MC__API_HANDLER(mc__api_state);         /* GET /v1/state?key=HEX, /v1/state/{key hex} */
MC__API_HANDLER(mc__api_state_account); /* GET /v1/state/account/{key} */
MC__API_HANDLER(mc__api_state_patient); /* GET /v1/state/patient/{key} */
MC__API_HANDLER(mc__api_state_valsets); /* GET /v1/state/valsets */
/* Membership routes (routes_identity.c). */
MC__API_HANDLER(mc__api_account);      /* GET /v1/account/{key} */
MC__API_HANDLER(mc__api_account_qr);   /* GET /v1/account/{key}/qr.svg */
MC__API_HANDLER(mc__api_orgs);         /* GET /v1/orgs */
MC__API_HANDLER(mc__api_access_log);   /* GET /v1/access?kind=&patient=&member=&org=&from=&to=&limit=&before= */
/* An organisation's record numbers (routes_mrn.c). */
MC__API_HANDLER(mc__api_mrn_put);      /* PUT /v1/mrn/{mrn} */
MC__API_HANDLER(mc__api_mrn_get);      /* GET /v1/mrn/{mrn} */
MC__API_HANDLER(mc__api_mrn_of);       /* GET /v1/mrn?patient=KEY */
/* Invitations (routes_invite.c). */
MC__API_HANDLER(mc__api_invite_create); /* POST /v1/invitations */
MC__API_HANDLER(mc__api_invite_list);   /* GET /v1/invitations */
MC__API_HANDLER(mc__api_invite_show);   /* GET /v1/invitations/{code} */
MC__API_HANDLER(mc__api_invite_accept); /* POST /v1/invitations/{code}/accept */
MC__API_HANDLER(mc__api_invite_qr);     /* GET /v1/invitations/{code}/qr.svg?origin= */
MC__API_HANDLER(mc__api_supply_product); /* GET /v1/product/{gtin} */
MC__API_HANDLER(mc__api_directory);    /* GET /v1/directory?q=&org=&role= */
MC__API_HANDLER(mc__api_org);          /* GET /v1/org/{id} */
MC__API_HANDLER(mc__api_validators);   /* GET /v1/validators (routes_gov.c) */
MC__API_HANDLER(mc__api_gov_proposals); /* GET /v1/gov/proposals */
MC__API_HANDLER(mc__api_gov_proposal);  /* GET /v1/gov/proposals/{id} */

/* Supply chain routes (routes_supply.c). */
/* GET /01/{gtin}[/22/..][/10/{lot}]/21/{serial}[?17=YYMMDD]: the public
 * scan-to-verify resolver (JSON or HTML by Accept). */
void mc__api_supply_resolve(struct mc_node *node, const char *param,
                            const struct mc__api_request *req, struct mc__api_response *res);
/* GET /v1/supply/alerts?org=ID */
void mc__api_supply_alerts(struct mc_node *node, const char *param,
                           const struct mc__api_request *req, struct mc__api_response *res);
/* POST /v1/vrs: GS1 Lightweight Messaging verification request. */
void mc__api_supply_vrs(struct mc_node *node, const char *param,
                        const struct mc__api_request *req, struct mc__api_response *res);
/* --- the FHIR facade (routes_fhir_read.c, routes_fhir_write.c) and the
 * signed /v1/records routes (routes_records.c) --- */
void mc__api_fhir_root(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res);
void mc__api_fhir_metadata(struct mc_node *node, const char *param,
                           const struct mc__api_request *req, struct mc__api_response *res);
/* param is the rest of the path after /fhir/ ("Observation/abc/_history/2"). */
void mc__api_fhir_get(struct mc_node *node, const char *param, const struct mc__api_request *req,
                      struct mc__api_response *res);
void mc__api_fhir_post(struct mc_node *node, const char *param, const struct mc__api_request *req,
                       struct mc__api_response *res);
void mc__api_fhir_put(struct mc_node *node, const char *param, const struct mc__api_request *req,
                      struct mc__api_response *res);
/* POST /fhir/Binary?patient=KEY: an attachment's raw bytes, streamed
 * (routes_fhir_binary.c). */
extern const struct mc__api_stream mc__api_fhir_binary_upload;
/* GET /fhir/Binary/{id}[/_history/{v}]: the attachment streamed back, for
 * a read the policy allowed and the log admitted (called by fhir_read with
 * the record version read and the gate passed; routes_fhir_binary.c). */
struct mc__records_view_read;
struct mc__gate;
struct mc__gate_access;
void mc__api_fhir_binary_read(struct mc_node *node, const struct mc__records_view_read *r,
                              const struct mc__gate *g, struct mc__gate_access *a, const struct mc__api_request *req,
                              struct mc__api_response *res);
/* The authoring rule for a write of the gate's signer for patient (the
 * record amended: amend_id; NULL for a new one), a refusal logged and
 * answered as an OperationOutcome (routes_fhir_write.c). 0: go on. */
MC_MUST_CHECK int mc__api_fhir_authorise(struct mc_node *node, struct mc__api_response *res,
                                         const struct mc__gate *g, struct mc__gate_access *a,
                                         const mc_pubkey *patient);

/* GET /fhir/AuditEvent (audit true) or /fhir/Consent searches
 * (routes_fhir_audit.c), dispatched by mc__api_fhir_get. */
void mc__api_fhir_audit_view(struct mc_node *node, bool audit, const struct mc__api_request *req,
                             struct mc__api_response *res);
/* GET /v1/records?patient=HEX: signed; metadata of the patient's records
 * with their sealed batch keys (what the patient's client reseals). */
void mc__api_records_list(struct mc_node *node, const char *param,
                          const struct mc__api_request *req, struct mc__api_response *res);
/* GET /v1/records/{id}/sealed[?version=N]: signed; the same policy and access
 * log as a FHIR read; the version's ciphertext (base64), its associated data
 * and the record key sealed to the signer: the batch key for the patient
 * ("batch"), a granted data key ("data") for a grantee. */
void mc__api_records_sealed(struct mc_node *node, const char *param,
                            const struct mc__api_request *req, struct mc__api_response *res);
/* GET /v1/breakglass: signed by an auditor; open and closed break-glass accesses. */
void mc__api_records_break_glass(struct mc_node *node, const char *param,
                                 const struct mc__api_request *req, struct mc__api_response *res);

/* --- research consent and trials (routes_research.c) --- */
/* GET /v1/research/study/{id}: the study and its dataset query log. */
void mc__api_research_study(struct mc_node *node, const char *param,
                            const struct mc__api_request *req, struct mc__api_response *res);
/* GET /v1/research/dataset/{id}: signed by a researcher of the study. */
void mc__api_research_dataset(struct mc_node *node, const char *param,
                              const struct mc__api_request *req, struct mc__api_response *res);
/* GET /v1/research/consents?patient=KEY: signed by the patient or an auditor. */
void mc__api_research_consents(struct mc_node *node, const char *param,
                               const struct mc__api_request *req, struct mc__api_response *res);
/* GET /v1/research/verify/{id}: the trial verification report. */
void mc__api_research_verify(struct mc_node *node, const char *param,
                             const struct mc__api_request *req, struct mc__api_response *res);

/* GET /v1/verify: the node's full-chain verification report, run on
 * demand at a bounded rate (routes_verify.c). */
void mc__api_chain_verify(struct mc_node *node, const char *param,
                          const struct mc__api_request *req, struct mc__api_response *res);

#endif
