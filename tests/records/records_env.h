/* Shared fixture of the records tests: an in-process node with its API on
 * a loopback port, members of each role, patients, and a signing HTTP
 * client (libcurl) that speaks RFC 9421. */
#ifndef MC_TESTS_RECORDS_ENV_H
#define MC_TESTS_RECORDS_ENV_H

#include <jansson.h>
#include <stdint.h>

#include "../support/testutil.h"
#include "api/server.h"

struct env {
    struct tu_node t;
    struct mc_api *api;
    uint16_t port;
    uint64_t admin_nonce;
    struct mc_keypair doc, doc2, researcher, auditor, stranger, patient, patient2;
    uint64_t patient_nonce, patient2_nonce, auditor_nonce;
    char patient_hex[65], patient2_hex[65];
};

void env_start(struct env *e, const char *tag);
void env_stop(struct env *e);
/* Stops the API and the node and opens both again on the same home (a
 * restart: what the node keeps on disk is all that is left). */
void env_restart(struct env *e);

struct rq {
    long status;
    char *body;
    size_t len;
    json_t *json;           /* parsed body or NULL */
    char access_tx[65];
    char etag[40];          /* ETag header, "" when none */
    char content_type[64];  /* Content-Type header, "" when none */
    char location[200];     /* Location header, "" when none */
    char content_location[400]; /* Content-Location header (Bulk Data), "" when none */
    char progress[64];      /* X-Progress header (Bulk Data), "" when none */
};
void rq_free(struct rq *r);

/* Options of one request. */
struct rq_opt {
    const char *sign_body;      /* body the signature covers, when it differs */
    int64_t created_offset_s;   /* added to now */
    const char *nonce;          /* fixed nonce (replays) */
    const char *headers[4];     /* extra "name: value" lines, also covered */
    const struct mc_keypair *keyid_of; /* claim this key in keyid (forgery) */
    bool unsigned_request;
    const char *host;           /* sign for (and send as Host) this authority */
    bool keyid_upper;           /* the keyid's hex digits in upper case */
    bool no_content_digest;     /* a signature that leaves content-digest out */
    const char *content_type;   /* instead of application/fhir+json */
};

/* A signed request to the env's API. path includes any query. Every FHIR
 * answer (Content-Type application/fhir+json) is also written to the
 * folder MEDCHAIN_FHIR_CAPTURE names, when set: `make test` runs the
 * independent R4 validator over them (tests/fhir/validate.mjs). */
struct rq env_req(struct env *e, const struct mc_keypair *kp, const char *method, const char *path,
                  const char *body, const struct rq_opt *opt);
/* Submits a transaction signed by kp with payload; asserts admission. */
void env_tx(struct env *e, const struct mc_keypair *kp, uint64_t *nonce, uint16_t type,
            const void *payload, size_t len);
/* A minimal valid Observation for the patient (hex key) with a marker value. */
char *env_observation(const char *patient_hex, const char *marker);
/* Creates a record, asserts 201 and returns its id (malloc'd). */
char *env_create(struct env *e, const struct mc_keypair *kp, const char *type, const char *json);
/* Grant payload without sealed keys. */
size_t env_grant_payload(uint8_t *out, uint8_t kind, const mc_pubkey *member, uint32_t org,
                         uint8_t cats, uint64_t expiry_ms);
/* Access-log entries (AuditEvents) of the patient read from committed state. */
size_t env_log_count(struct env *e, const mc_pubkey *patient, const mc_pubkey *requester,
                     uint8_t outcome);

/* Writes the pending refusal summaries, commits, and returns how many
 * refusals without a known signer the patient's summaries count (entries:
 * how many summary entries). patient zero: the summaries of nobody. */
size_t env_refusal_summaries(struct env *e, const mc_pubkey *patient, size_t *entries);

#endif
