/* Private to src/api: the one gate of every private route, and the one
 * refusal path.
 *
 * Every route that serves or changes private data (FHIR reads, searches
 * and writes, /v1/records, /v1/breakglass, research datasets and
 * consents) passes its request through mc__gate_check first:
 *   1. the connection must be TLS or loopback (403);
 *   2. the request needs a Host (400) and a valid RFC 9421 signature under
 *      medchain's profile (httpsig.h; 401);
 *   3. headers that change the request's meaning (the route names them,
 *      e.g. X-Purpose-Of-Use) must be covered by the signature (401);
 *   4. the signature base fits the ledger's bound MC_SIGBASE_MAX (413);
 *   5. the signature's (key, nonce) was not seen before (401 replay, 503
 *      when the bounded replay cache is full).
 * Before 2, the signed target URI must address this node (401; see
 * addressed_here in gate.c), and after it the signing key must be an
 * account on the ledger (401): a refusal without a known signer (unsigned,
 * bad signature, unknown key, replay, another node's request) is counted
 * into a bounded summary entry instead of a ledger entry of its own, and a
 * client address that runs up too many of them gets 429 before its
 * signatures are checked.
 * A refusal after the gate (or by it) is logged on the ledger with the
 * requester's signature base and signature, by the node's own signed
 * transaction: a record_access entry for records routes, a research_query
 * entry for dataset queries. "No log, no data": a route serves private
 * data only once its success entry was admitted.
 *
 * Instead of a signature, a GET of a FHIR route may carry
 * "Authorization: Bearer <token>", a SMART Backend Services token this
 * node issued (routes_smart.c, docs/SMART.md): over TLS or loopback, live,
 * of a client not revoked, and with a scope (within its owner's role)
 * covering the resource type and interaction (403 otherwise, logged as the
 * owner's). An unknown or expired token counts as a request without a
 * known signer. */
#ifndef MC_API_GATE_H
#define MC_API_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "api/httpsig.h"
#include "api/routes.h"
#include "api/smart_tokens.h"
#include "crypto/hash.h"

/* The verdict of the gate on one request. */
struct mc__gate {
    int rc;                       /* 0: verified and fresh */
    unsigned status;              /* refusal status when rc != 0 */
    char why[300];
    struct mc_httpsig_verified v; /* the signer (v.key) and base; always deinit */
    bool have_sig;                /* the Signature member decoded */
    bool known;                   /* the signer is an account on the ledger */
    bool counted;                 /* a refusal without a known signer was counted */
    struct mc_node *node;         /* set by a refusal without a known signer */
    /* A SMART bearer token instead of a signature (FHIR reads only): v.key
     * is the token's owner, v.base the bearer text its access entries
     * carry (app/smart.h), token what the node holds of it. */
    bool bearer;
    struct mc__smart_token token;
};

/* Headers of the records routes that must be signed when present. */
extern const char *const mc__gate_records_headers[];
#define MC__GATE_RECORDS_HEADERS 2

/* Runs the gate (see top). must_cover names headers that must be covered
 * when present (n of them; NULL, 0 for none). Always call
 * mc__gate_release afterwards. */
void mc__gate_check(struct mc__gate *g, struct mc_node *node, const struct mc__api_request *req,
                    const char *const *must_cover, size_t n);
void mc__gate_release(struct mc__gate *g);

/* For routes outside the gate (the SMART token endpoint): whether the
 * address ran up its allowance of refusals without a known signer, and
 * counting one such refusal (into the summary of nobody). */
bool mc__gate_throttled(const char *client_addr);
void mc__gate_count_refusal(struct mc_node *node, const char *client_addr, unsigned status);

/* Request header by name, NULL when absent. */
const char *mc__gate_header(const struct mc__api_request *req, const char *name);

/* One access-log entry (app/records.h: record_access). */
struct mc__gate_access {
    const mc_pubkey *patient;  /* NULL: unknown */
    const char *id;            /* NULL or "" */
    uint32_t version;
    uint8_t action, purpose, outcome;
    uint16_t status;
    const char *reason;
};

/* Submits the access entry signed by the node; *txid receives its id. */
MC_MUST_CHECK int mc__gate_log_access(struct mc_node *node, const struct mc__gate *g,
                                      const struct mc__gate_access *a, mc_hash *txid);
/* Logs a refused access (status from a->status, else the gate's, else
 * err's) and answers it: as an OperationOutcome when fhir, else the /v1
 * JSON error. The logged entry's id goes in X-Medchain-Access-Tx. */
void mc__gate_refuse_access(struct mc_node *node, struct mc__api_response *res,
                            const struct mc__gate *g, struct mc__gate_access *a, bool fhir,
                            int err, const char *why);

/* The success entry of a served access could not be logged ("no log, no
 * data"): nothing is served, and the refusal is logged instead (a 401 for
 * a request signature already used, else 503). rc is what logging gave. */
void mc__gate_refuse_unlogged(struct mc_node *node, struct mc__api_response *res,
                              const struct mc__gate *g, struct mc__gate_access *a, bool fhir, int rc);

/* One dataset-query log entry (app/research.h: research_query). */
struct mc__gate_query {
    const char *study;
    uint8_t outcome;
    uint16_t status;
    const char *reason;
    mc_hash dataset;
    uint32_t patients, records;
    uint64_t as_of;
};

MC_MUST_CHECK int mc__gate_log_query(struct mc_node *node, const struct mc__gate *g,
                                     const struct mc__gate_query *q, mc_hash *txid);
/* Logs a refused query and answers it with the /v1 JSON error. */
void mc__gate_refuse_query(struct mc_node *node, struct mc__api_response *res,
                           const struct mc__gate *g, const char *study, uint8_t outcome,
                           unsigned status, int err, const char *why);

#endif
