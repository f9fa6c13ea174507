/* FHIR Subscriptions (R4, Subscriptions Backport IG topic-based form),
 * rest-hook channel, kept node-local (node/subscription.h) and delivered by
 * the node's notification thread (node/notify.h):
 *
 *   POST   /fhir/Subscription               create (signed: the owner)
 *   GET    /fhir/Subscription               the signer's subscriptions
 *   GET    /fhir/Subscription/{id}          one of them, with its status
 *   GET    /fhir/Subscription/{id}/$status  the backport's $status
 *   DELETE /fhir/Subscription/{id}          remove it
 *
 * Every request is RFC 9421-signed by an active account (not a node);
 * only the owner sees or removes a subscription (anyone else: 404, so ids
 * are not probed). These touch no patient data, so nothing is logged on
 * the ledger; the notifications themselves follow the read policy. */
#include "api/routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fhir.h"
#include "api/fhir_reply.h"
#include "api/gate.h"
#include "api/reply.h"
#include "app/identity.h"
#include "base/hex.h"
#include "chain/local.h"
#include "node/balp.h"
#include "node/notify.h"
#include "node/subscription.h"

#define BACKPORT "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct q_who {
    mc_pubkey key;
    bool ok;
    uint64_t height;
};

static int q_who(void *ctx, struct mc_store *s, struct mc_app *app) {
    struct q_who *q = ctx;
    struct mc_account a;
    q->ok = mc_identity_get_account(mc_app_state(app), &q->key, &a) == 0 && a.status == MC_ACCOUNT_ACTIVE &&
            a.role != MC_ROLE_NODE;
    return mc_store_height(s, &q->height);
}

/* The signer, an active account; false (answered) otherwise. */
static bool signer(struct mc_node *node, const struct mc__api_request *req, struct mc__api_response *res,
                   struct q_who *q) {
    struct mc__gate g;
    mc__gate_check(&g, node, req, NULL, 0);
    if (g.rc) {
        mc__fhir_reply_fail(res, g.status, g.rc, "%s", g.why);
        mc__gate_release(&g);
        return false;
    }
    q->key = g.v.key;
    mc__gate_release(&g);
    int rc = mc_node_query(node, q_who, q);
    if (rc) {
        mc__fhir_reply_fail(res, mc__reply_query_status(rc), rc, "the node could not run the query");
        return false;
    }
    if (!q->ok) {
        mc__fhir_reply_fail(res, 403, MC_ERR_FORBIDDEN, "only an active account (member or patient) subscribes");
        return false;
    }
    return true;
}

static json_t *subscription_json(const struct mc_subscription *s) {
    char id[33], end[32];
    mc_hex_encode(id, s->id, 16);
    json_t *ch = json_pack("{s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}", "type", "rest-hook", "endpoint", s->endpoint,
                           "payload", "application/fhir+json", "_payload", "extension", "url",
                           BACKPORT "backport-payload-content", "valueCode",
                           s->payload == MC_SUB_ID_ONLY ? "id-only" : "empty");
    char events[24], errors[24];
    snprintf(events, sizeof events, "%llu", (unsigned long long)s->events);
    snprintf(errors, sizeof errors, "%llu", (unsigned long long)s->errors);
    json_t *r = json_pack("{s:s, s:s, s:{s:[s]}, s:s, s:s, s:s, s:o, s:[{s:s, s:s}, {s:s, s:s}]}",
                          "resourceType", "Subscription", "id", id, "meta", "profile", BACKPORT "backport-subscription",
                          "status", mc_subscription_status_code(s->status), "reason",
                          s->reason[0] ? s->reason : "medchain notifications", "criteria",
                          mc_subscription_topic_url(s->topics), "channel", ch, "extension", "url",
                          "urn:medchain:subscription:events-delivered", "valueString", events, "url",
                          "urn:medchain:subscription:error-count", "valueString", errors);
    if (!r) return NULL;
    if (s->has_patient) {
        char ph[65], f[80];
        mc_hex_encode(ph, s->patient.b, 32);
        snprintf(f, sizeof f, "patient=%s", ph);
        json_object_set_new(r, "_criteria", json_pack("{s:[{s:s, s:s}]}", "extension", "url",
                                                      BACKPORT "backport-filter-criteria", "valueString", f));
    }
    if (s->end_ms) {
        mc_balp_instant(end, s->end_ms);
        json_object_set_new(r, "end", json_string(end));
    }
    if (s->last_error[0]) json_object_set_new(r, "error", json_string(s->last_error));
    return r;
}

/* The extension value of url among obj's "extension" list, NULL if none. */
static json_t *extension(json_t *obj, const char *url) {
    json_t *e, *list = json_object_get(obj, "extension");
    size_t i;
    json_array_foreach(list, i, e) {
        const char *u = json_string_value(json_object_get(e, "url"));
        if (u && strcmp(u, url) == 0) return e;
    }
    return NULL;
}

static const char *const allowed_fields[] = {"resourceType", "status", "reason", "criteria", "_criteria",
                                             "channel", "end", "meta", "id", "text", NULL};
static const char *const allowed_channel[] = {"type", "endpoint", "payload", "_payload", NULL};

static bool only(json_t *o, const char *const *names, const char **bad) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        bool ok = false;
        for (size_t i = 0; names[i] && !ok; i++) ok = strcmp(names[i], k) == 0;
        if (!ok) {
            *bad = k;
            return false;
        }
    }
    return true;
}

/* Parses a client's Subscription into s; false with the reason in why. */
static bool parse(json_t *j, struct mc_subscription *s, char *why, size_t cap) {
    const char *bad = NULL;
    if (!json_is_object(j) || strcmp(json_string_value(json_object_get(j, "resourceType")) ?: "", "Subscription"))
        return snprintf(why, cap, "the body is not a Subscription"), false;
    if (!only(j, allowed_fields, &bad)) return snprintf(why, cap, "Subscription.%.64s is not supported", bad), false;
    const char *st = json_string_value(json_object_get(j, "status"));
    if (st && strcmp(st, "requested") && strcmp(st, "active"))
        return snprintf(why, cap, "a new Subscription's status is requested or active"), false;
    s->topics = mc_subscription_topic_parse(json_string_value(json_object_get(j, "criteria")));
    if (!s->topics)
        return snprintf(why, cap, "criteria names a topic: urn:medchain:topic:records, :consents or :all"), false;
    json_t *cr = json_object_get(j, "_criteria");
    if (cr) {
        json_t *f = extension(cr, BACKPORT "backport-filter-criteria");
        const char *v = f ? json_string_value(json_object_get(f, "valueString")) : NULL;
        if (!v || json_array_size(json_object_get(cr, "extension")) != 1 || strncmp(v, "patient=", 8) ||
            strlen(v + 8) != 64 || mc_hex_decode(s->patient.b, 32, v + 8))
            return snprintf(why, cap, "the one filter offered is patient=<account key, 64 hex>"), false;
        s->has_patient = true;
    }
    const char *reason = json_string_value(json_object_get(j, "reason"));
    if (json_object_get(j, "reason") && (!reason || strlen(reason) > MC_SUB_REASON_MAX))
        return snprintf(why, cap, "reason is a string of at most %d bytes", MC_SUB_REASON_MAX), false;
    snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
    const char *end = json_string_value(json_object_get(j, "end"));
    if (json_object_get(j, "end") && (!end || mc_fhir_parse_date(&s->end_ms, end)))
        return snprintf(why, cap, "end is a FHIR instant"), false;
    json_t *ch = json_object_get(j, "channel");
    if (!json_is_object(ch)) return snprintf(why, cap, "a Subscription needs a channel"), false;
    if (!only(ch, allowed_channel, &bad))
        return snprintf(why, cap, "Subscription.channel.%.64s is not supported", bad), false;
    if (strcmp(json_string_value(json_object_get(ch, "type")) ?: "", "rest-hook"))
        return snprintf(why, cap, "the channel offered is rest-hook"), false;
    const char *ep = json_string_value(json_object_get(ch, "endpoint"));
    if (!mc_notify_endpoint_ok(ep))
        return snprintf(why, cap, "channel.endpoint is an https URL (http only to a loopback host), at most %d bytes",
                        MC_SUB_ENDPOINT_MAX), false;
    snprintf(s->endpoint, sizeof s->endpoint, "%s", ep);
    const char *mime = json_string_value(json_object_get(ch, "payload"));
    if (json_object_get(ch, "payload") && (!mime || strcmp(mime, "application/fhir+json")))
        return snprintf(why, cap, "channel.payload is application/fhir+json"), false;
    s->payload = MC_SUB_ID_ONLY;
    json_t *pl = json_object_get(ch, "_payload");
    if (pl) {
        json_t *pc = extension(pl, BACKPORT "backport-payload-content");
        const char *v = pc ? json_string_value(json_object_get(pc, "valueCode")) : NULL;
        if (v && strcmp(v, "empty") == 0) s->payload = MC_SUB_EMPTY;
        else if (!v || strcmp(v, "id-only"))
            return snprintf(why, cap, "payload content is empty or id-only: notifications never carry record content"),
                   false;
    }
    return true;
}

void mc__api_subscription_create(struct mc_node *node, const char *param, const struct mc__api_request *req,
                                 struct mc__api_response *res) {
    if (!mc__fhir_reply_json_body(req, res)) return;
    struct q_who q;
    if (!signer(node, req, res, &q)) return;
    json_error_t je;
    json_t *j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "the body is not JSON: %s", je.text);
        return;
    }
    struct mc_subscription s;
    memset(&s, 0, sizeof s);
    char why[300];
    bool ok = parse(j, &s, why, sizeof why);
    json_decref(j);
    if (!ok) {
        mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "%s", why);
        return;
    }
    randombytes_buf(s.id, sizeof s.id);
    s.owner = q.key;
    s.status = MC_SUB_ACTIVE;
    s.created_ms = now_ms();
    s.saved_ms = s.created_ms;
    /* events from the next block on */
    s.next_height = q.height + 1;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_subscription_encode(&b, &s);
    struct mc_local_row row = {.space = MC_SUB_SPACE, .key = s.id, .key_len = 16, .owner = s.owner.b,
                               .owner_len = 32, .value = b.data, .value_len = b.len};
    struct mc_local_bounds bounds = {.per_owner = MC_SUBS_PER_ACCOUNT, .total = MC_SUBS_MAX};
    int rc = b.err ? MC_ERR_NOMEM : mc_local_insert(mc_node_local(node), &row, s.created_ms, &bounds);
    mc_buf_deinit(&b);
    if (rc == MC_ERR_FULL) {
        mc__fhir_reply_fail(res, 429, rc, "at most %d subscriptions per account and %d on this node",
                            MC_SUBS_PER_ACCOUNT, MC_SUBS_MAX);
        return;
    }
    if (rc) {
        mc__fhir_reply_fail(res, 500, rc, "the node cannot store the subscription: %s", mc_err_detail());
        return;
    }
    char id[33];
    mc_hex_encode(id, s.id, 16);
    snprintf(res->location, sizeof res->location, "/fhir/Subscription/%s", id);
    mc__fhir_reply_set(res, 201, subscription_json(&s));
}

/* The signer's subscription named by param; false (answered) otherwise. */
static bool owned(struct mc_node *node, const char *param, const struct mc__api_request *req,
                  struct mc__api_response *res, struct mc_subscription *s) {
    uint8_t id[16];
    if (!param || strlen(param) != 32 || mc_hex_decode(id, 16, param)) {
        mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "no such Subscription");
        return false;
    }
    struct q_who q;
    if (!signer(node, req, res, &q)) return false;
    struct mc_buf v, owner;
    mc_buf_init(&v, 0);
    mc_buf_init(&owner, 0);
    int rc = mc_local_get(mc_node_local(node), MC_SUB_SPACE, id, 16, now_ms(), &v, &owner, NULL);
    bool mine = rc == 0 && owner.len == 32 && memcmp(owner.data, q.key.b, 32) == 0;
    if (mine) rc = mc_subscription_decode(s, v.data, v.len);
    mc_buf_deinit(&v);
    mc_buf_deinit(&owner);
    if (rc == MC_ERR_NOT_FOUND || (rc == 0 && !mine)) {
        mc__fhir_reply_fail(res, 404, MC_ERR_NOT_FOUND, "no such Subscription");
        return false;
    }
    if (rc) {
        mc__fhir_reply_fail(res, 500, rc, "the node cannot read the subscription: %s", mc_err_detail());
        return false;
    }
    return true;
}

void mc__api_subscription_read(struct mc_node *node, const char *param, const struct mc__api_request *req,
                               struct mc__api_response *res) {
    struct mc_subscription s;
    if (owned(node, param, req, res, &s)) mc__fhir_reply_set(res, 200, subscription_json(&s));
}

void mc__api_subscription_status(struct mc_node *node, const char *param, const struct mc__api_request *req,
                                 struct mc__api_response *res) {
    struct mc_subscription s;
    if (owned(node, param, req, res, &s))
        mc__fhir_reply_set(res, 200, mc_notify_status_parameters(&s, "query-status", NULL, 0));
}

void mc__api_subscription_delete(struct mc_node *node, const char *param, const struct mc__api_request *req,
                                 struct mc__api_response *res) {
    struct mc_subscription s;
    if (!owned(node, param, req, res, &s)) return;
    bool removed = false;
    int rc = mc_local_delete(mc_node_local(node), MC_SUB_SPACE, s.id, 16, &removed);
    if (rc) {
        mc__fhir_reply_fail(res, 500, rc, "the node cannot remove the subscription: %s", mc_err_detail());
        return;
    }
    mc__fhir_reply_set(res, 200, mc_fhir_outcome("information", "informational", "the subscription was removed"));
}

struct listing {
    json_t *bundle;
    const char *base;
};

static int list_row(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    uint64_t expires_ms) {
    struct listing *l = ctx;
    struct mc_subscription s;
    if (mc_subscription_decode(&s, value, value_len)) return 0;
    char id[33];
    mc_hex_encode(id, s.id, 16);
    mc__fhir_reply_bundle_add(l->bundle, subscription_json(&s), l->base, "Subscription", id, "match");
    return 0;
}

void mc__api_subscription_search(struct mc_node *node, const char *param, const struct mc__api_request *req,
                                 struct mc__api_response *res) {
    struct q_who q;
    if (!signer(node, req, res, &q)) return;
    char base[300];
    mc__fhir_reply_base(req, base, sizeof base);
    struct listing l = {.bundle = mc__fhir_reply_bundle("searchset"), .base = base};
    mc__fhir_reply_bundle_link(l.bundle, "self", base, "Subscription", "");
    int rc = mc_local_list(mc_node_local(node), MC_SUB_SPACE, q.key.b, 32, now_ms(), MC_SUBS_PER_ACCOUNT, list_row, &l);
    if (rc < 0) {
        json_decref(l.bundle);
        mc__fhir_reply_fail(res, 500, rc, "the node cannot list the subscriptions: %s", mc_err_detail());
        return;
    }
    mc__fhir_reply_set(res, 200, l.bundle);
}
