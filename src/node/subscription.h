/* FHIR Subscriptions (R4, in the topic-based form of the Subscriptions
 * Backport IG): the node-local record of one subscription, and the events
 * it is told about, derived from committed blocks.
 *
 * A subscription belongs to the account that signed its creation. Topics:
 *   urn:medchain:topic:records   a record created (version 1) or amended
 *   urn:medchain:topic:consents  a grant given or revoked
 *   urn:medchain:topic:all       both
 * with an optional filter to one patient ("patient=KEY"). An event is
 * delivered only when the subscriber may see it under the read policy at
 * delivery time (the latest committed state), her account still active: a
 * record event when
 * mc_records_decide allows the subscriber to read that record (without
 * break-glass); a grant or revocation when the subscriber is the patient,
 * an auditor (mc_records_decide_patient_view) or the grantee (the member
 * named, or a clinician of the organisation named). So a subscriber never
 * hears of a patient who gave them no access.
 *
 * Stored in chain/local.h, space "subscription", key = the 16-byte id,
 * owner = the subscriber's key (at most MC_SUBS_PER_ACCOUNT each,
 * MC_SUBS_MAX in all); the value is the record below, which the delivery
 * thread rewrites by compare-and-swap as its cursor moves. */
#ifndef MC_NODE_SUBSCRIPTION_H
#define MC_NODE_SUBSCRIPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/records.h"
#include "app/state.h"
#include "base/codec.h"
#include "base/limits.h"
#include "chain/store.h"

#define MC_SUB_SPACE "subscription"
#define MC_SUB_TOPIC_RECORDS 1
#define MC_SUB_TOPIC_CONSENTS 2

enum mc_sub_status { MC_SUB_ACTIVE = 1, MC_SUB_ERROR = 2, MC_SUB_OFF = 3 };
enum mc_sub_payload { MC_SUB_EMPTY = 1, MC_SUB_ID_ONLY = 2 };

struct mc_subscription {
    uint8_t id[16];
    mc_pubkey owner;
    uint8_t topics;            /* MC_SUB_TOPIC_* bits */
    bool has_patient;
    mc_pubkey patient;
    uint8_t payload;           /* mc_sub_payload */
    char endpoint[MC_SUB_ENDPOINT_MAX + 1];
    char reason[MC_SUB_REASON_MAX + 1];
    uint64_t created_ms, end_ms; /* end 0: none */
    uint8_t status;            /* mc_sub_status */
    /* the cursor: the next transaction and anchor entry to look at */
    uint64_t next_height;
    uint32_t next_tx, next_entry;
    uint64_t events;           /* events delivered: the last event number */
    uint64_t errors;           /* failed deliveries in all */
    uint64_t failing_since_ms; /* first failure of the current run; 0 when delivering */
    uint64_t next_attempt_ms;
    uint32_t backoff_ms;
    uint64_t saved_ms;         /* when the cursor was last written */
    char last_error[200];
};

/* The canonical bytes of a subscription (appended to b). */
void mc_subscription_encode(struct mc_buf *b, const struct mc_subscription *s);
/* Strict decode: MC_ERR_MALFORMED / MC_ERR_TAMPERED (unknown format). */
MC_MUST_CHECK int mc_subscription_decode(struct mc_subscription *out, const uint8_t *p, size_t n);

/* The topic's canonical URL and back (0 for an unknown one). */
const char *mc_subscription_topic_url(uint8_t topics);
uint8_t mc_subscription_topic_parse(const char *url);
const char *mc_subscription_status_code(uint8_t status);

enum mc_sub_event_kind {
    MC_SUB_EV_RECORD_CREATED = 1,
    MC_SUB_EV_RECORD_AMENDED,
    MC_SUB_EV_GRANT,
    MC_SUB_EV_REVOKE,
};

struct mc_sub_event {
    uint8_t kind;
    mc_hash tx_id;
    uint64_t height;
    uint32_t tx_index, entry;
    uint64_t time_ms;            /* block time */
    mc_pubkey patient;
    char record_id[MC_RECORD_ID_MAX + 1];
    uint16_t record_type;
    uint32_t version;
    mc_hash grant_id;            /* grant: its tx id; revoke: the grant revoked */
};

/* The cursor after a pass. */
struct mc_sub_cursor {
    uint64_t height;
    uint32_t tx, entry;
};

/* From s's cursor, the next events s may see (at most max into out, *n of
 * them), looking through at most MC_SUB_SCAN_TXS transactions of the
 * blocks up to the store's height; *next is where the following pass
 * starts. now_ms: the latest block time (grant expiry). Reads the store
 * and the committed state (call under the node lock). A block whose
 * transactions were pruned is passed over (*pruned counts them). */
MC_MUST_CHECK int mc_subscription_next(struct mc_store *store, struct mc_state *st, const struct mc_subscription *s,
                                       uint64_t now_ms, struct mc_sub_event *out, size_t max, size_t *n,
                                       struct mc_sub_cursor *next, uint64_t *pruned);

/* Whether the subscriber may see the event (rules at the top). */
bool mc_subscription_visible(struct mc_state *st, const struct mc_subscription *s, const struct mc_sub_event *e,
                             uint64_t now_ms);

#endif
