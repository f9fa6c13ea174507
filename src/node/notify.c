/* The Subscription delivery thread and the notification resources (see
 * notify.h). */
#include "node/notify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hex.h"
#include "base/log.h"
#include "chain/block.h"
#include "chain/local.h"
#include "node/balp.h"
#include "node/node.h"

#define BACKPORT "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"

struct mc_notify {
    struct mc_node *node;
    uint32_t retry_min_ms, retry_max_ms, timeout_ms;
    uint64_t retry_for_ms;
    char ca[PATH_MAX];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    CURL *curl;
};

static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- resources --- */

bool mc_notify_endpoint_ok(const char *url) {
    size_t n = url ? strlen(url) : 0;
    if (!n || n > MC_SUB_ENDPOINT_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (url[i] < 0x21 || url[i] > 0x7e) return false;
    if (strncmp(url, "https://", 8) == 0) return n > 8 && url[8] != '/';
    if (strncmp(url, "http://", 7) != 0) return false;
    const char *h = url + 7;
    size_t hl = strcspn(h, ":/?#");
    if (h[0] == '[') return strncmp(h, "[::1]", 5) == 0 && (h[5] == 0 || strchr(":/?", h[5]));
    if (hl == 9 && strncmp(h, "localhost", 9) == 0) return true;
    unsigned a, b, c, d;
    char tail;
    char host[64];
    if (hl >= sizeof host) return false;
    memcpy(host, h, hl);
    host[hl] = 0;
    return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 && c < 256 && d < 256;
}

static const char *event_code(uint8_t kind) {
    switch (kind) {
    case MC_SUB_EV_RECORD_CREATED: return "record-created";
    case MC_SUB_EV_RECORD_AMENDED: return "record-amended";
    case MC_SUB_EV_GRANT: return "grant-given";
    default: return "grant-revoked";
    }
}

static void event_focus(char *out, size_t cap, const struct mc_sub_event *e) {
    if (e->kind == MC_SUB_EV_GRANT || e->kind == MC_SUB_EV_REVOKE) {
        char g[65];
        mc_hex_encode(g, e->grant_id.b, 32);
        snprintf(out, cap, "Consent/%s", g);
    } else {
        const char *t = mc_records_type_name(e->record_type);
        snprintf(out, cap, "%s/%s/_history/%u", t ? t : "Basic", e->record_id, e->version);
    }
}

json_t *mc_notify_status_parameters(const struct mc_subscription *s, const char *type,
                                    const struct mc_sub_event *events, size_t n) {
    char id[33], ref[64], count[24];
    mc_hex_encode(id, s->id, 16);
    snprintf(ref, sizeof ref, "Subscription/%s", id);
    snprintf(count, sizeof count, "%llu", (unsigned long long)(s->events + n));
    json_t *params = json_array();
    json_array_append_new(params, json_pack("{s:s, s:{s:s}}", "name", "subscription", "valueReference", "reference", ref));
    json_array_append_new(params, json_pack("{s:s, s:s}", "name", "topic", "valueCanonical",
                                            mc_subscription_topic_url(s->topics)));
    json_array_append_new(params, json_pack("{s:s, s:s}", "name", "status", "valueCode",
                                            mc_subscription_status_code(s->status)));
    json_array_append_new(params, json_pack("{s:s, s:s}", "name", "type", "valueCode", type));
    json_array_append_new(params, json_pack("{s:s, s:s}", "name", "events-since-subscription-start", "valueString", count));
    for (size_t i = 0; i < n; i++) {
        const struct mc_sub_event *e = &events[i];
        char num[24], t[32], tx[65], eid[80], focus[160];
        snprintf(num, sizeof num, "%llu", (unsigned long long)(s->events + i + 1));
        mc_balp_instant(t, e->time_ms);
        mc_hex_encode(tx, e->tx_id.b, 32);
        snprintf(eid, sizeof eid, "%s/%u", tx, e->entry);
        json_t *parts = json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "event-number", "valueString", num, "name",
                                  "timestamp", "valueInstant", t);
        if (s->payload == MC_SUB_ID_ONLY) {
            event_focus(focus, sizeof focus, e);
            json_array_append_new(parts, json_pack("{s:s, s:{s:s}}", "name", "focus", "valueReference", "reference", focus));
        }
        json_array_append_new(params, json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:o}", "name", "notification-event",
                                                "extension", "url", "urn:medchain:event-id", "valueString", eid,
                                                "url", "urn:medchain:event-code", "valueString", event_code(e->kind),
                                                "part", parts));
    }
    if (s->last_error[0] && strcmp(type, "event-notification") != 0)
        json_array_append_new(params, json_pack("{s:s, s:{s:s}}", "name", "error", "valueCodeableConcept", "text", s->last_error));
    return json_pack("{s:s, s:{s:[s]}, s:o}", "resourceType", "Parameters", "meta", "profile",
                     BACKPORT "backport-subscription-status-r4", "parameter", params);
}

json_t *mc_notify_bundle(const struct mc_subscription *s, const struct mc_sub_event *events, size_t n, uint64_t now_ms) {
    char t[32], id[33], first[80];
    mc_balp_instant(t, now_ms);
    mc_hex_encode(id, s->id, 16);
    /* the status entry's full URL names the subscription and the first
     * event number: the same notification sent again has the same one */
    snprintf(first, sizeof first, "urn:medchain:notification:%s:%llu", id, (unsigned long long)(s->events + 1));
    json_t *entries = json_array();
    json_array_append_new(entries, json_pack("{s:s, s:o, s:{s:s, s:s}, s:{s:s}}", "fullUrl", first, "resource",
                                             mc_notify_status_parameters(s, "event-notification", events, n), "request",
                                             "method", "GET", "url", "Subscription/$status", "response", "status", "200"));
    if (s->payload == MC_SUB_ID_ONLY) {
        for (size_t i = 0; i < n; i++) {
            char focus[160];
            event_focus(focus, sizeof focus, &events[i]);
            bool created = events[i].kind == MC_SUB_EV_RECORD_CREATED || events[i].kind == MC_SUB_EV_GRANT;
            json_array_append_new(entries, json_pack("{s:s, s:{s:s, s:s}, s:{s:s}}", "fullUrl", focus, "request",
                                                     "method", created ? "POST" : "PUT", "url", focus, "response",
                                                     "status", created ? "201" : "200"));
        }
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "resourceType", "Bundle", "type", "history", "timestamp", t, "entry",
                     entries);
}

/* --- configuration --- */

static int u32_opt(json_t *o, const char *name, uint32_t *out, uint32_t def, uint32_t lo, uint32_t hi) {
    json_t *v = json_object_get(o, name);
    *out = def;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return mc_err_set(MC_ERR_INVALID, "config.json: \"subscriptions\".\"%s\" is an integer in %u..%u", name, lo, hi);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

static int load_config(struct mc_notify *x, const char *home) {
    x->retry_min_ms = 1000, x->retry_max_ms = 300000, x->timeout_ms = 10000;
    x->retry_for_ms = 86400000ULL;
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/config.json", home) >= (int)sizeof p) return mc_err_set(MC_ERR_INVALID, "home path too long");
    json_t *cfg = json_load_file(p, JSON_REJECT_DUPLICATES, NULL);
    json_t *c = cfg ? json_object_get(cfg, "subscriptions") : NULL;
    int rc = 0;
    if (c && !json_is_object(c)) rc = mc_err_set(MC_ERR_INVALID, "config.json: \"subscriptions\" is an object");
    uint32_t rf = 86400;
    if (!rc && c) {
        rc = u32_opt(c, "retry_min_ms", &x->retry_min_ms, 1000, 10, 3600000);
        if (!rc) rc = u32_opt(c, "retry_max_ms", &x->retry_max_ms, 300000, 10, 86400000);
        if (!rc) rc = u32_opt(c, "timeout_ms", &x->timeout_ms, 10000, 100, 600000);
        uint32_t rfm = 0;
        if (!rc) rc = u32_opt(c, "retry_for_ms", &rfm, 0, 100, 2000000000);
        if (!rc && rfm) x->retry_for_ms = rfm, rf = 0;
        /* longer than a u32 of ms: in seconds */
        if (!rc && json_object_get(c, "retry_for_s")) {
            rc = u32_opt(c, "retry_for_s", &rf, 86400, 1, 30u * 86400);
            if (!rc) x->retry_for_ms = (uint64_t)rf * 1000;
        }
        const char *ca = json_string_value(json_object_get(c, "ca_file"));
        if (!rc && ca) {
            int n = ca[0] == '/' ? snprintf(x->ca, sizeof x->ca, "%s", ca) : snprintf(x->ca, sizeof x->ca, "%s/%s", home, ca);
            if (n < 0 || (size_t)n >= sizeof x->ca) rc = mc_err_set(MC_ERR_INVALID, "config.json: \"subscriptions\".\"ca_file\" is too long");
        }
        if (!rc && x->retry_max_ms < x->retry_min_ms)
            rc = mc_err_set(MC_ERR_INVALID, "config.json: \"subscriptions\": retry_max_ms < retry_min_ms");
    }
    json_decref(cfg);
    return rc;
}

/* --- the thread --- */

static bool nap(struct mc_notify *x, uint32_t ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&x->lock);
    while (!x->stop && pthread_cond_timedwait(&x->cond, &x->lock, &ts) == 0) {
    }
    bool s = x->stop;
    pthread_mutex_unlock(&x->lock);
    return s;
}

struct q_next {
    const struct mc_subscription *s;
    struct mc_sub_event ev[MC_SUB_BATCH_MAX];
    size_t n;
    struct mc_sub_cursor next;
    uint64_t pruned;
};

static int q_next(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_next *q = ctx;
    uint64_t top = 0, now = 0;
    struct mc_header hd;
    if (mc_store_height(store, &top) == 0 && top && mc_store_get_header(store, top, &hd, NULL) == 0) now = hd.time_ms;
    return mc_subscription_next(store, mc_app_state(app), q->s, now, q->ev, MC_SUB_BATCH_MAX, &q->n, &q->next, &q->pruned);
}

static size_t discard(char *p, size_t s, size_t n, void *ctx) { return s * n; }

/* POSTs the notification; 0 on a 2xx answer. */
static int post(struct mc_notify *x, const char *url, const char *body, char *why, size_t why_cap) {
    if (!x->curl) x->curl = curl_easy_init();
    CURL *h = x->curl;
    if (!h) return snprintf(why, why_cap, "out of memory"), MC_ERR_NOMEM;
    curl_easy_reset(h);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/fhir+json");
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)x->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)x->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (x->ca[0]) curl_easy_setopt(h, CURLOPT_CAINFO, x->ca);
    CURLcode c = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    if (c != CURLE_OK) {
        snprintf(why, why_cap, "%s", curl_easy_strerror(c));
        return MC_ERR_IO;
    }
    if (status < 200 || status > 299) {
        snprintf(why, why_cap, "the endpoint answered HTTP %ld", status);
        return MC_ERR_IO;
    }
    return 0;
}

/* Writes s back over old (compare-and-swap: a subscription deleted
 * meanwhile stays deleted). */
static void save(struct mc_notify *x, const struct mc_buf *old, const struct mc_subscription *s) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_subscription_encode(&b, s);
    int rc = b.err ? MC_ERR_NOMEM
                   : mc_local_swap(mc_node_local(x->node), MC_SUB_SPACE, s->id, 16, wall_ms(), old->data, old->len,
                                   b.data, b.len);
    if (rc && rc != MC_ERR_NOT_FOUND && rc != MC_ERR_STATE)
        mc_log_error("notify", "cannot record a subscription's progress: %s", mc_err_detail());
    mc_buf_deinit(&b);
}

/* One subscription's turn: at most one notification. */
static void serve(struct mc_notify *x, const uint8_t *val, size_t len) {
    struct mc_subscription s;
    if (mc_subscription_decode(&s, val, len)) return;
    struct mc_buf old = {.data = (uint8_t *)val, .len = len};
    uint64_t now = wall_ms();
    if (s.status != MC_SUB_ACTIVE || now < s.next_attempt_ms) return;
    if (s.end_ms && now >= s.end_ms) {
        s.status = MC_SUB_OFF;
        save(x, &old, &s);
        return;
    }
    struct q_next *q = calloc(1, sizeof *q);
    if (!q) return;
    q->s = &s;
    int rc = mc_node_query(x->node, q_next, q);
    if (rc) {
        mc_log_warn("notify", "cannot read the events of a subscription: %s", mc_err_detail());
        free(q);
        return;
    }
    if (q->pruned) {
        /* the ledger no longer has those transactions' bytes */
        snprintf(s.last_error, sizeof s.last_error, "%llu transactions were pruned before they were notified",
                 (unsigned long long)q->pruned);
    }
    if (q->n == 0) {
        bool moved = q->next.height != s.next_height || q->next.tx != s.next_tx || q->next.entry != s.next_entry;
        /* nothing for this subscriber: the cursor moves on disk at most
         * every 2 s (a restart looks through those blocks again) */
        if (moved && now - s.saved_ms >= 2000) {
            s.next_height = q->next.height, s.next_tx = q->next.tx, s.next_entry = q->next.entry;
            s.saved_ms = now;
            save(x, &old, &s);
        }
        free(q);
        return;
    }
    json_t *bundle = mc_notify_bundle(&s, q->ev, q->n, now);
    char *body = bundle ? json_dumps(bundle, JSON_COMPACT) : NULL;
    json_decref(bundle);
    char why[200] = "";
    rc = body ? post(x, s.endpoint, body, why, sizeof why) : (snprintf(why, sizeof why, "out of memory"), MC_ERR_NOMEM);
    free(body);
    now = wall_ms();
    if (!rc) {
        s.events += q->n;
        s.next_height = q->next.height, s.next_tx = q->next.tx, s.next_entry = q->next.entry;
        s.failing_since_ms = 0;
        s.backoff_ms = 0;
        s.next_attempt_ms = 0;
        s.saved_ms = now;
        if (!q->pruned) s.last_error[0] = 0;
    } else {
        s.errors++;
        if (!s.failing_since_ms) s.failing_since_ms = now;
        s.backoff_ms = !s.backoff_ms ? x->retry_min_ms
                       : s.backoff_ms > x->retry_max_ms / 2 ? x->retry_max_ms : s.backoff_ms * 2;
        s.next_attempt_ms = now + s.backoff_ms;
        snprintf(s.last_error, sizeof s.last_error, "%s", why);
        if (now - s.failing_since_ms >= x->retry_for_ms) {
            s.status = MC_SUB_ERROR;
            mc_log_warn("notify", "a subscription failed for %llu ms: now in error (%s)",
                        (unsigned long long)(now - s.failing_since_ms), why);
        }
    }
    save(x, &old, &s);
    free(q);
}

struct listing {
    struct mc_notify *x;
    size_t n;
    struct { uint8_t *v; size_t len; } rows[MC_SUBS_MAX];
};

static int list_row(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    uint64_t expires_ms) {
    struct listing *l = ctx;
    if (l->n >= MC_SUBS_MAX) return 1;
    uint8_t *v = malloc(value_len ? value_len : 1);
    if (!v) return MC_ERR_NOMEM;
    memcpy(v, value, value_len);
    l->rows[l->n].v = v;
    l->rows[l->n].len = value_len;
    l->n++;
    return 0;
}

static void *run(void *arg) {
    struct mc_notify *x = arg;
    struct listing *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->x = x;
    for (;;) {
        l->n = 0;
        int rc = mc_local_list(mc_node_local(x->node), MC_SUB_SPACE, NULL, 0, wall_ms(), MC_SUBS_MAX, list_row, l);
        if (rc < 0) mc_log_warn("notify", "cannot list the subscriptions: %s", mc_err_detail());
        for (size_t i = 0; i < l->n; i++) {
            pthread_mutex_lock(&x->lock);
            bool stop = x->stop;
            pthread_mutex_unlock(&x->lock);
            if (!stop) serve(x, l->rows[i].v, l->rows[i].len);
            free(l->rows[i].v);
        }
        if (nap(x, 100)) break;
    }
    free(l);
    return NULL;
}

int mc_notify_start(struct mc_notify **out, struct mc_node *node) {
    *out = NULL;
    struct mc_notify *x = calloc(1, sizeof *x);
    if (!x) return MC_ERR_NOMEM;
    x->node = node;
    int rc = load_config(x, mc_node_home(node));
    if (rc) {
        free(x);
        return rc;
    }
    pthread_mutex_init(&x->lock, NULL);
    pthread_cond_init(&x->cond, NULL);
    if (pthread_create(&x->thread, NULL, run, x) != 0) {
        pthread_cond_destroy(&x->cond);
        pthread_mutex_destroy(&x->lock);
        free(x);
        return mc_err_set(MC_ERR_IO, "cannot start the subscription thread");
    }
    *out = x;
    return 0;
}

void mc_notify_stop(struct mc_notify *x) {
    if (!x) return;
    pthread_mutex_lock(&x->lock);
    x->stop = true;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->lock);
    pthread_join(x->thread, NULL);
    if (x->curl) curl_easy_cleanup(x->curl);
    pthread_cond_destroy(&x->cond);
    pthread_mutex_destroy(&x->lock);
    free(x);
}
