/* Private to src/api: reads of the records state shared by the FHIR routes
 * and /v1/records: one record version with its policy decision and the key
 * sealed to this node, a patient's record ids, the Provenance generated
 * from the anchors, and the parsing of patients and FHIR paths.
 *
 * The mc__records_view_query_* functions are mc_node_query callbacks (they run
 * under the node lock and call no mc_node_* function). */
#ifndef MC_API_RECORDS_VIEW_H
#define MC_API_RECORDS_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/limits.h"
#include "api/routes.h"
#include "app/records.h"
#include "crypto/envelope.h"


/* The block time of the committed head (the policy's clock). */
uint64_t mc__records_view_block_time_ms(struct mc_node *node);
/* The signed X-Purpose-Of-Use of a request (0: none). */
uint8_t mc__records_view_purpose(const struct mc__api_request *req);
/* "HEX" or "Patient/HEX" -> key; MC_ERR_NOT_FOUND when v is NULL. */
MC_MUST_CHECK int mc__records_view_parse_patient(mc_pubkey *out, const char *v);

/* The patient a FHIR reference names: the account key (HEX, Patient/HEX)
 * or a Patient record (Patient/<id>, <id>, or an absolute URL ending in
 * /Patient/<id>). Returns 0 with *found telling whether it names a known
 * patient, MC_ERR_MALFORMED when ref is no reference to a Patient, or the
 * node query's error. */
MC_MUST_CHECK int mc__records_view_resolve_patient(struct mc_node *node, const char *ref,
                                                   mc_pubkey *out, bool *found);
/* The id of the patient's Patient record (the first one stored that is not
 * erased) into id; false when there is none. Call under the node lock
 * (inside an mc_node_query callback). */
bool mc__records_view_patient_record(struct mc_state *st, const mc_pubkey *patient,
                                     char id[MC_RECORD_ID_MAX + 1]);
/* The Reference to the patient every FHIR resource the node generates
 * carries: {"reference": "Patient/<record id>"} when the patient has a
 * Patient record, always with the account key as identifier
 * (urn:medchain:account). */
json_t *mc__records_view_patient_reference(const mc_pubkey *patient, const char *record_id);

/* A /fhir path: Type[/id[/$op | /_history[/v]]]. */
struct mc__records_view_path {
    char type[40];
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version; /* 0: current */
    char op[24];      /* "$everything", or "_history" (the instance's history) */
    int parts;
};
/* MC_ERR_NOT_FOUND when param is not such a path. */
MC_MUST_CHECK int mc__records_view_parse_path(struct mc__records_view_path *fp, const char *param);

/* One record version to read. */
struct mc__records_view_read {
    /* in */
    const char *id;
    uint32_t version;              /* 0: current */
    const mc_pubkey *requester;
    uint8_t purpose;
    const char *btg;
    uint64_t now_ms;
    const mc_pubkey *node_key;     /* whose sealed key to find */
    bool skip_policy;
    /* out */
    int rc;
    struct mc_record_head head;
    struct mc_record_version ver;
    struct mc_access_decision d;
    bool have_batch_key;           /* the batch key sealed to node_key found */
    bool via_grant;                /* a data key granted to node_key found */
    uint8_t sealed[MC_SEALED_KEY_BYTES];
    /* when this node holds no key: where to read it instead (a node that
     * holds one, of the requester's organisation when there is one) */
    char elsewhere[200];
};
/* mc_node_query callback: head, policy decision, version, sealed key. */
int mc__records_view_query_read(void *ctx, struct mc_store *store, struct mc_app *app);
/* Decrypts the version read into plain through the node's vault (peer
 * repair of a bad ciphertext included). Errors as mc_vault_open_record. */
MC_MUST_CHECK int mc__records_view_open(struct mc_node *node, const struct mc__records_view_read *r,
                                   struct mc_buf *plain);

/* Collects a patient's record ids (mc_records_scan_patient callback). */
struct mc__records_view_collect {
    uint16_t type;     /* 0: all */
    bool include_erased;
    size_t n;
    char (*ids)[MC_RECORD_ID_MAX + 1];   /* MC_API_RECORDS_SEARCH_MAX of them */
};
int mc__records_view_collect_row(void *ctx, const struct mc_record_head *h);

/* Provenance generated from the anchors of one record: every version, or
 * one. Resources are appended to list. */
struct mc__records_view_provenance {
    const char *id;
    uint32_t version;   /* 0: every version */
    json_t *list;       /* Provenance resources out */
    int rc;
};
int mc__records_view_query_provenance(void *ctx, struct mc_store *store, struct mc_app *app);

#endif
