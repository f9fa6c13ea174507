/* Delivery of FHIR Subscription notifications (rest-hook), node-side.
 *
 * One thread, off the consensus path. Each pass lists the node's
 * subscriptions (chain/local.h, node/subscription.h); for each active one
 * whose retry time has come it asks, under the node lock and for bounded
 * work (mc_subscription_next: at most MC_SUB_SCAN_TXS transactions), for
 * the next events the subscriber may see, then outside the lock POSTs them
 * as one notification (at most MC_SUB_BATCH_MAX events) to the endpoint.
 * A 2xx answer acknowledges it: the subscription's cursor and event count
 * move, written by compare-and-swap in the node's database (SQLite,
 * synchronous=FULL) before the next notification. Anything else is a
 * failure: the same events are sent again after a backoff doubling from
 * retry_min_ms up to retry_max_ms, for retry_for_ms (24 hours by default)
 * since the first failure; then the subscription's status becomes "error"
 * and deliveries stop. At-least-once: a notification acknowledged but not
 * yet recorded when the node stops is sent again, with the same event
 * numbers and event ids.
 *
 * A notification (Subscriptions Backport IG, R4) is a Bundle of type
 * history whose first entry is the subscription status (Parameters,
 * backport-subscription-status-r4): subscription, topic, status, type
 * event-notification, events-since-subscription-start and one
 * notification-event per event (event-number, timestamp, focus for id-only
 * payloads, and the event's stable id in the extension urn:medchain:event-id
 * = "<transaction id>/<entry>"). The payload is id-only (the focus names
 * the record, Type/id, or the grant, Consent/id) or empty (no focus): never
 * resource content.
 *
 * Configuration, config.json (all optional):
 *   "subscriptions": {"retry_min_ms": 1000, "retry_max_ms": 300000,
 *                     "retry_for_ms": 86400000, "timeout_ms": 10000,
 *                     "ca_file": "..."  (trust for https endpoints; default the system's)} */
#ifndef MC_NODE_NOTIFY_H
#define MC_NODE_NOTIFY_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "node/subscription.h"

struct mc_node;
struct mc_notify;

/* Reads "subscriptions" from HOME/config.json and starts the thread. A bad
 * configuration is MC_ERR_INVALID with the reason. */
MC_MUST_CHECK int mc_notify_start(struct mc_notify **out, struct mc_node *node);
/* Stops the thread (after its current delivery, bounded by the timeout)
 * and frees. NULL is fine. */
void mc_notify_stop(struct mc_notify *x);

/* The subscription status Parameters (backport-subscription-status-r4) of
 * s: type is "event-notification", "query-status" or "handshake"; events
 * (n of them, numbered from s->events + 1) become notification-event
 * parameters. */
json_t *mc_notify_status_parameters(const struct mc_subscription *s, const char *type,
                                    const struct mc_sub_event *events, size_t n);
/* The whole notification Bundle for events. */
json_t *mc_notify_bundle(const struct mc_subscription *s, const struct mc_sub_event *events, size_t n,
                         uint64_t now_ms);
/* Whether a rest-hook endpoint is acceptable: https://, or http:// to a
 * loopback host (127.0.0.0/8, localhost, [::1]); printable ASCII, at most
 * MC_SUB_ENDPOINT_MAX bytes. */
bool mc_notify_endpoint_ok(const char *url);

#endif
