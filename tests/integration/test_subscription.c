/* FHIR Subscriptions against a real `medchain node`: a rest-hook receiver
 * written here (a small HTTP server on loopback, in a thread) answers
 * errors for a while, is down for a while, and the node is killed
 * (SIGKILL) and restarted mid-stream; the receiver still ends up with
 * every notification: event numbers 1..N with no gap, duplicates carrying
 * the same number and event id. The subscriber never hears of a patient
 * who gave them no access (her records, her grants to others), nor of a
 * record after its grant was revoked; no notification carries record
 * content. A subscription to an endpoint that never answers ends in
 * status "error" after the (shortened) retry window. Bounds and bad
 * requests are refused. The notification Bundles and the Subscription
 * resources go through the FHIR validator (MEDCHAIN_FHIR_CAPTURE). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"

/* --- the rest-hook receiver --- */

struct hook {
    int port;
    int fd;
    pthread_t thread;
    volatile int running;
    volatile int answer; /* HTTP status it answers */
    pthread_mutex_t lock;
    size_t n;
    char *bodies[4096];
};

static void hook_serve_one(struct hook *h, int c) {
    char *buf = malloc(1 << 20);
    size_t len = 0;
    long want = -1;
    size_t head = 0;
    for (;;) {
        ssize_t r = recv(c, buf + len, (1 << 20) - 1 - len, 0);
        if (r <= 0) break;
        len += (size_t)r;
        buf[len] = 0;
        if (!head) {
            char *e = strstr(buf, "\r\n\r\n");
            if (!e) continue;
            head = (size_t)(e - buf) + 4;
            char *cl = strcasestr(buf, "Content-Length:");
            want = cl ? atol(cl + 15) : 0;
        }
        if (head && (long)(len - head) >= want) break;
    }
    int status = h->answer;
    if (head && want >= 0 && (long)(len - head) >= want) {
        if (status == 200) {
            pthread_mutex_lock(&h->lock);
            if (h->n < 4096) h->bodies[h->n++] = strndup(buf + head, (size_t)want);
            pthread_mutex_unlock(&h->lock);
        }
        char resp[128];
        int rn = snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
        ssize_t w = send(c, resp, (size_t)rn, MSG_NOSIGNAL);
        (void)w;
    }
    free(buf);
    close(c);
}

static void *hook_run(void *arg) {
    struct hook *h = arg;
    while (h->running) {
        int c = accept(h->fd, NULL, NULL);
        if (c < 0) {
            if (!h->running) break;
            continue;
        }
        hook_serve_one(h, c);
    }
    return NULL;
}

static void hook_start(struct hook *h) {
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(h->fd, (struct sockaddr *)&a, sizeof a), 0, "bind %d: %s", h->port, strerror(errno));
    cr_assert_eq(listen(h->fd, 16), 0);
    h->running = 1;
    cr_assert_eq(pthread_create(&h->thread, NULL, hook_run, h), 0);
}

static void hook_stop(struct hook *h) {
    h->running = 0;
    shutdown(h->fd, SHUT_RDWR);
    close(h->fd);
    pthread_join(h->thread, NULL);
}

/* --- the node and the CLI --- */

struct sn {
    char *dir, *home;
    int port;
    char url[96];
    pid_t pid;
};

static char *cli(struct sn *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *cli(struct sn *n, const char *fmt, ...) {
    char args[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *out;
    int rc = tp_run(&out, "%s %s --node %s 2>&1", tp_bin(), args, n->url);
    cr_assert_eq(rc, 0, "medchain %s: exit %d\n%s", args, rc, out);
    return tu_keep(out);
}

/* Expects a refusal whose one error line contains want. */
static void cli_refused(struct sn *n, const char *want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cli_refused(struct sn *n, const char *want, const char *fmt, ...) {
    char args[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *out;
    int rc = tp_run(&out, "%s %s --node %s 2>&1", tp_bin(), args, n->url);
    cr_assert_neq(rc, 0, "medchain %s: expected a refusal\n%s", args, out);
    cr_assert(strstr(out, want), "medchain %s: the refusal lacks '%s': %s", args, want, out);
    free(out);
}

static char *pubkey(const char *keyfile) {
    char *out;
    cr_assert_eq(tp_run(&out, "sed -n 's/.*\"public_key\": *\"\\([0-9a-f]*\\)\".*/\\1/p' %s", keyfile), 0);
    out[strcspn(out, "\n")] = 0;
    cr_assert_eq(strlen(out), 64, "no public key in %s", keyfile);
    return tu_keep(out);
}

static char *add_record(struct sn *n, const char *dr, const char *patkey, const char *phex, const char *marker) {
    char *f = tu_path(n->dir, "obs.json");
    FILE *o = fopen(f, "w");
    fprintf(o, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"%s\"},"
               "\"subject\":{\"reference\":\"Patient/%s\"},\"valueString\":\"%s\"}", marker, phex, marker);
    fclose(o);
    char *out = cli(n, "record add --key %s --patient-key %s --file %s", dr, patkey, f);
    char *id = tp_field(out, "id");
    cr_assert_not_null(id);
    return tu_keep(id);
}

/* --- what the receiver got --- */

struct ev {
    unsigned long long number;
    char id[80];
    char focus[200];
};

static size_t events(struct hook *h, struct ev *out, size_t max, size_t *bodies) {
    size_t n = 0;
    pthread_mutex_lock(&h->lock);
    *bodies = h->n;
    for (size_t b = 0; b < h->n; b++) {
        json_t *j = json_loads(h->bodies[b], 0, NULL);
        cr_assert_not_null(j, "a notification is not JSON: %.200s", h->bodies[b]);
        cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "history");
        json_t *st = json_object_get(json_array_get(json_object_get(j, "entry"), 0), "resource");
        cr_assert_str_eq(json_string_value(json_object_get(st, "resourceType")), "Parameters");
        json_t *p;
        size_t i;
        json_array_foreach(json_object_get(st, "parameter"), i, p) {
            if (strcmp(json_string_value(json_object_get(p, "name")), "notification-event")) continue;
            cr_assert_lt(n, max);
            struct ev *e = &out[n++];
            memset(e, 0, sizeof *e);
            json_t *x;
            size_t k;
            json_array_foreach(json_object_get(p, "extension"), k, x)
                if (!strcmp(json_string_value(json_object_get(x, "url")), "urn:medchain:event-id"))
                    snprintf(e->id, sizeof e->id, "%s", json_string_value(json_object_get(x, "valueString")));
            json_array_foreach(json_object_get(p, "part"), k, x) {
                const char *name = json_string_value(json_object_get(x, "name"));
                if (!strcmp(name, "event-number")) e->number = strtoull(json_string_value(json_object_get(x, "valueString")), NULL, 10);
                if (!strcmp(name, "focus"))
                    snprintf(e->focus, sizeof e->focus, "%s",
                             json_string_value(json_object_get(json_object_get(x, "valueReference"), "reference")));
            }
            cr_assert(e->number > 0 && e->id[0], "an event without number or id");
        }
        json_decref(j);
    }
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* Waits until the receiver holds an event whose focus contains each of
 * want (n of them); asserts the numbering on the way. */
static void wait_events(struct hook *h, const char *const *want, size_t nwant, int seconds) {
    static struct ev ev[8192];
    uint64_t until = tp_now_ms() + (uint64_t)seconds * 1000;
    for (;;) {
        size_t bodies, n = events(h, ev, 8192, &bodies);
        size_t found = 0;
        const char *missing = NULL;
        for (size_t w = 0; w < nwant; w++) {
            bool hit = false;
            for (size_t i = 0; i < n && !hit; i++) hit = strstr(ev[i].focus, want[w]) != NULL;
            if (hit) found++;
            else if (!missing) missing = want[w];
        }
        if (found == nwant) return;
        cr_assert_lt(tp_now_ms(), until, "no notification about %s after %d s (%zu events received)", missing,
                     seconds, n);
        tp_sleep_ms(100);
    }
}

static json_t *subscription_json(struct sn *n, const char *key) {
    char *out = cli(n, "subscription list --key %s --json", key);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "%s", out);
    return j;
}

static void capture_text(const char *tag, const char *text) {
    const char *dir = getenv("MEDCHAIN_FHIR_CAPTURE");
    if (!dir || !dir[0]) return;
    static int k;
    char p[1024];
    snprintf(p, sizeof p, "%s/subscription-%ld-%s-%d.json", dir, (long)getpid(), tag, ++k);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(subscription, every_notification_arrives_and_none_leaks, .timeout = 180) {
    mc_crypto_init();
    struct sn n = {0};
    n.dir = tu_tmpdir("subs");
    n.home = tu_path(n.dir, "node");
    n.port = tp_free_port();
    snprintf(n.url, sizeof n.url, "http://127.0.0.1:%d", n.port);
    char *out;
    cr_assert_eq(tp_run(&out, "%s init --home %s --chain-id medchain-subs", tp_bin(), n.home), 0, "%s", out);
    free(out);
    {
        FILE *f = fopen(tu_path(n.home, "config.json"), "w");
        fprintf(f, "{\"api\": \"127.0.0.1:%d\", \"block_interval_ms\": 100,\n"
                   " \"subscriptions\": {\"retry_min_ms\": 50, \"retry_max_ms\": 300, \"retry_for_ms\": 6000,"
                   " \"timeout_ms\": 2000}}\n", n.port);
        fclose(f);
    }
    n.pid = tp_node_start(n.home, n.port);
    cr_assert_eq(tp_run(&out, "for k in dr dr2 dr3 aud patA patB stranger; do %s keygen --out %s/$k.json >/dev/null || exit 1; done",
                        tp_bin(), n.dir), 0, "%s", out);
    free(out);
    char *dr = tu_path(n.dir, "dr.json"), *dr2 = tu_path(n.dir, "dr2.json"), *dr3 = tu_path(n.dir, "dr3.json");
    char *patA = tu_path(n.dir, "patA.json"), *patB = tu_path(n.dir, "patB.json");
    cli(&n, "member enroll --key %s/admin_key.json --member-key %s --role clinician --name 'Dr Author'", n.home, dr);
    cli(&n, "member enroll --key %s/admin_key.json --member-key %s --role clinician --name 'Dr Subscriber'", n.home, dr2);
    cli(&n, "member enroll --key %s/admin_key.json --member-key %s --role clinician --name 'Dr Other'", n.home, dr3);
    cli(&n, "patient register --key %s --patient-key %s", dr, patA);
    cli(&n, "patient register --key %s --patient-key %s", dr, patB);
    char *ahex = pubkey(patA), *bhex = pubkey(patB), *dr3hex = pubkey(dr3);

    /* refusals: bad topic, full-resource payload, a non-loopback http
     * endpoint, an unknown signer */
    struct hook h = {.port = tp_free_port(), .answer = 200, .lock = PTHREAD_MUTEX_INITIALIZER};
    char hook_url[64];
    snprintf(hook_url, sizeof hook_url, "http://127.0.0.1:%d/hook", h.port);
    cli_refused(&n, "--topic", "subscription create --key %s --endpoint %s --topic everything", dr2, hook_url);
    cli_refused(&n, "https URL", "subscription create --key %s --endpoint http://192.0.2.1/hook", dr2);
    cli_refused(&n, "401", "subscription create --key %s/stranger.json --endpoint %s", n.dir, hook_url);
    /* a payload with record content is not offered */
    cli_refused(&n, "empty or id-only", "subscription create --key %s --endpoint %s --payload full-resource", dr2,
                hook_url);

    hook_start(&h);
    out = cli(&n, "subscription create --key %s --endpoint %s --topic all --reason 'ward round'", dr2, hook_url);
    char *sub = tp_field(out, "subscription");
    cr_assert(sub && strlen(sub) == 32, "%s", out);
    cr_assert_str_eq(tp_field(out, "status"), "active");
    /* an endpoint that never answers: its subscription ends in error
     * (consents: the grant below stays visible to its grantee, so the
     * event keeps waiting; record events would vanish with the revocation) */
    int dead = tp_free_port();
    out = cli(&n, "subscription create --key %s --endpoint http://127.0.0.1:%d/gone --topic consents", dr2, dead);
    char *dead_sub = tp_field(out, "subscription");
    /* one that ended is off; a bad end is refused */
    out = cli(&n, "subscription create --key %s --endpoint %s --topic records --end 2001-01-01T00:00:00Z", dr3, hook_url);
    char *ended = tp_field(out, "subscription");
    cli_refused(&n, "instant", "subscription create --key %s --endpoint %s --end yesterday", dr3, hook_url);
    /* someone else cannot see it */
    cli_refused(&n, "404", "subscription status %s --key %s", sub, dr3);

    /* A grants dr2; B grants dr3 (dr2 must not hear of it) */
    out = cli(&n, "grant add --key %s --to-member-key %s --no-keys", patA, dr2);
    char *grantA = tp_field(out, "id");
    out = cli(&n, "grant add --key %s --to-member-key %s --no-keys", patB, dr3);
    char *grantB = tp_field(out, "id");
    char *a1 = add_record(&n, dr, patA, ahex, "plaintext-marker-a1");
    char *b1 = add_record(&n, dr, patB, bhex, "plaintext-marker-b1");
    {
        const char *want[] = {grantA, a1};
        wait_events(&h, want, 2, 20);
    }

    /* the receiver answers 503 for a while: retries, then delivered */
    h.answer = 503;
    char *a2 = add_record(&n, dr, patA, ahex, "plaintext-marker-a2");
    char *b2 = add_record(&n, dr, patB, bhex, "plaintext-marker-b2");
    for (int i = 0;; i++) {
        out = cli(&n, "subscription status %s --key %s", sub, dr2);
        if (strstr(out, "error: the endpoint answered HTTP 503")) break;
        cr_assert_lt(i, 100, "the failing deliveries are not reported: %s", out);
        tp_sleep_ms(50);
    }
    {
        char *f = tu_path(n.dir, "amend.json");
        FILE *o = fopen(f, "w");
        fprintf(o, "{\"resourceType\":\"Observation\",\"status\":\"amended\",\"code\":{\"text\":\"a1\"},"
                   "\"subject\":{\"reference\":\"Patient/%s\"},\"valueString\":\"plaintext-marker-a1v2\"}", ahex);
        fclose(o);
        cli(&n, "record amend Observation/%s --key %s --patient %s --file %s", a1, dr, ahex, f);
    }
    tp_sleep_ms(300);
    h.answer = 200;
    {
        char a1v2[120];
        snprintf(a1v2, sizeof a1v2, "%s/_history/2", a1);
        const char *want[] = {a2, a1v2};
        wait_events(&h, want, 2, 20);
    }

    /* the receiver is down and the node is killed mid-stream */
    hook_stop(&h);
    char *a3 = add_record(&n, dr, patA, ahex, "plaintext-marker-a3");
    char *b3 = add_record(&n, dr, patB, bhex, "plaintext-marker-b3");
    char *a4 = add_record(&n, dr, patA, ahex, "plaintext-marker-a4");
    tp_sleep_ms(400);
    tp_kill(n.pid, SIGKILL);
    hook_start(&h);
    n.pid = tp_node_start(n.home, n.port);
    {
        const char *want[] = {a3, a4};
        wait_events(&h, want, 2, 20);
    }
    /* and killed again right after it may have delivered */
    char *a5 = add_record(&n, dr, patA, ahex, "plaintext-marker-a5");
    tp_sleep_ms(120);
    tp_kill(n.pid, SIGKILL);
    n.pid = tp_node_start(n.home, n.port);
    {
        const char *want[] = {a5};
        wait_events(&h, want, 1, 20);
    }

    /* A revokes: dr2 hears of the revocation, then of nothing of hers */
    cli(&n, "grant revoke %s --key %s", grantA, patA);
    {
        /* the revocation's focus is the grant too: two distinct events */
        for (int i = 0;; i++) {
            static struct ev ev[8192];
            size_t bodies, k = events(&h, ev, 8192, &bodies), hits = 0;
            const char *first = NULL;
            for (size_t e = 0; e < k; e++) {
                if (!strstr(ev[e].focus, grantA)) continue;
                if (!first) first = ev[e].id, hits = 1;
                else if (strcmp(first, ev[e].id)) hits = 2;
            }
            if (hits >= 2) break;
            cr_assert_lt(i, 200, "no notification of the revocation");
            tp_sleep_ms(100);
        }
    }
    char *a6 = add_record(&n, dr, patA, ahex, "plaintext-marker-a6");
    tp_sleep_ms(1500);

    /* What arrived: every expected event, numbered 1..N with no gap;
     * duplicates with the same number and id; nothing of B, nothing after
     * the revocation, no record content. */
    static struct ev ev[8192];
    size_t bodies, k = events(&h, ev, 8192, &bodies);
    unsigned long long max = 0;
    for (size_t i = 0; i < k; i++) max = ev[i].number > max ? ev[i].number : max;
    for (unsigned long long num = 1; num <= max; num++) {
        const struct ev *first = NULL;
        for (size_t i = 0; i < k; i++) {
            if (ev[i].number != num) continue;
            if (!first) first = &ev[i];
            else cr_assert_str_eq(ev[i].id, first->id, "event %llu sent twice as different events", num);
        }
        cr_assert_not_null(first, "event number %llu never arrived (gap)", num);
    }
    const char *never[] = {b1, b2, b3, a6, grantB, bhex, dr3hex, "plaintext-marker"};
    pthread_mutex_lock(&h.lock);
    for (size_t b = 0; b < h.n; b++) {
        for (size_t w = 0; w < sizeof never / sizeof never[0]; w++)
            cr_assert_null(strstr(h.bodies[b], never[w]), "a notification names %s: %.300s", never[w], h.bodies[b]);
        capture_text("notification", h.bodies[b]);
    }
    pthread_mutex_unlock(&h.lock);
    /* grant, a1, a2, a1 v2, a3, a4, a5, revoke */
    cr_assert_eq(max, 8, "%llu distinct events", max);
    printf("subscription: %llu events in %zu notifications (%zu event deliveries)\n", max, bodies, k);

    /* $status: the count and the failures the client can read */
    out = cli(&n, "subscription status %s --key %s", sub, dr2);
    cr_assert_str_eq(tp_field(out, "status"), "active");
    cr_assert_str_eq(tp_field(out, "events-since-subscription-start"), "8");
    /* the dead endpoint's subscription gave up after retry_for_ms */
    for (int i = 0;; i++) {
        out = cli(&n, "subscription status %s --key %s", dead_sub, dr2);
        if (strcmp(tp_field(out, "status"), "error") == 0) break;
        cr_assert_lt(i, 150, "a subscription failing past its retry window is not in error: %s", out);
        tp_sleep_ms(100);
    }
    out = cli(&n, "subscription status %s --key %s", ended, dr3);
    cr_assert_str_eq(tp_field(out, "status"), "off", "%s", out);
    json_t *list = subscription_json(&n, dr2);
    char *text = json_dumps(list, JSON_INDENT(1));
    capture_text("list", text);
    free(text);
    json_t *e;
    size_t i;
    bool saw_errors = false;
    json_array_foreach(json_object_get(list, "entry"), i, e) {
        json_t *r = json_object_get(e, "resource");
        json_t *x;
        size_t j;
        json_array_foreach(json_object_get(r, "extension"), j, x)
            if (!strcmp(json_string_value(json_object_get(x, "url")), "urn:medchain:subscription:error-count") &&
                strcmp(json_string_value(json_object_get(x, "valueString")), "0") &&
                !strcmp(json_string_value(json_object_get(r, "id")), sub))
                saw_errors = true;
    }
    cr_assert(saw_errors, "the error count of the subscription that saw 503s is 0");
    json_decref(list);

    /* bounds: eight per account */
    for (int s = 2; s < 8; s++) cli(&n, "subscription create --key %s --endpoint %s", dr2, hook_url);
    cli_refused(&n, "429", "subscription create --key %s --endpoint %s", dr2, hook_url);
    cli(&n, "subscription delete %s --key %s", dead_sub, dr2);
    cli(&n, "subscription create --key %s --endpoint %s", dr2, hook_url);
    cli_refused(&n, "404", "subscription status %s --key %s", dead_sub, dr2);
    hook_stop(&h);
    for (size_t b = 0; b < h.n; b++) free(h.bodies[b]);
    tp_kill(n.pid, SIGTERM);
}
