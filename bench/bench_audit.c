/* Audit export benchmark: access entries rendered as BALP AuditEvents and
 * framed as RFC 5425 syslog messages per second (what the exporter does
 * for each committed entry before it writes to TLS), on one core, next to
 * the bound measured in the same run: half the Ed25519 verifications per
 * second of one core. Every access entry costs the node at least two
 * verifications on its way to the ledger (the request's signature at the
 * gate, the node's own signature on the entry when it is admitted), so an
 * exporter that formats faster than that keeps up, on a core of its own,
 * with any rate the node can log entries at. Also the Subscription notification Bundle per
 * second for a full batch (MC_SUB_BATCH_MAX events). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_bound.h"
#include "crypto/hash.h"
#include "node/balp.h"
#include "node/notify.h"
#include "node/syslog.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
    mc_crypto_init();
    struct mc_balp_access a;
    memset(&a, 0, sizeof a);
    memset(a.e.tx_id.b, 0xab, 32);
    memset(a.e.patient.b, 0x11, 32);
    memset(a.e.requester.b, 0x22, 32);
    a.has_observer = true;
    memset(a.observer.b, 0x33, 32);
    a.e.action = MC_ACTION_SEARCH;
    a.e.purpose = MC_PURPOSE_TREAT;
    a.e.time_ms = 1764201600123ULL;
    snprintf(a.e.id, sizeof a.e.id, "0123456789abcdef0123456789abcdef");
    snprintf(a.e.reason, sizeof a.e.reason, "12 of 12 matching records served");
    snprintf(a.host, sizeof a.host, "node-1.hospital.example");
    snprintf(a.target, sizeof a.target, "/fhir/Observation?patient=%064d&_count=100", 0);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    double t0 = now_s();
    long n = 0;
    size_t bytes = 0;
    while (now_s() - t0 < 1.0) {
        for (int i = 0; i < 100; i++) {
            mc_buf_reset(&b);
            if (mc_syslog_frame(&b, &a, 1000 + (uint64_t)n, (uint32_t)i, "node-1")) return 1;
            bytes += b.len;
        }
        n += 100;
    }
    double rate = n / (now_s() - t0);
    mc_buf_deinit(&b);

    struct mc_subscription s;
    memset(&s, 0, sizeof s);
    s.topics = 3;
    s.payload = MC_SUB_ID_ONLY;
    s.status = MC_SUB_ACTIVE;
    struct mc_sub_event ev[MC_SUB_BATCH_MAX];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < MC_SUB_BATCH_MAX; i++) {
        ev[i].kind = MC_SUB_EV_RECORD_CREATED;
        ev[i].record_type = MC_FHIR_OBSERVATION;
        ev[i].version = 1;
        snprintf(ev[i].record_id, sizeof ev[i].record_id, "rec-%d", i);
    }
    t0 = now_s();
    long bn = 0;
    while (now_s() - t0 < 0.5) {
        json_t *bundle = mc_notify_bundle(&s, ev, MC_SUB_BATCH_MAX, 1764201600123ULL);
        char *text = json_dumps(bundle, JSON_COMPACT);
        if (!text) return 1;
        free(text);
        json_decref(bundle);
        bn++;
    }
    double brate = bn / (now_s() - t0);
    double bound = bench_ed25519_bound(1) / 2;
    printf("audit export: %.0f access entries rendered and framed/s on one core (%.0f bytes each); "
           "bound: %.0f entries/s (two Ed25519 verifications an entry, one core) (%s)\n",
           rate, (double)bytes / n, bound, rate > bound ? "faster than the node can log entries" : "SLOWER than the bound");
    printf("subscriptions: %.0f notification Bundles of %d events built/s on one core (%.0f events/s)\n", brate,
           MC_SUB_BATCH_MAX, brate * MC_SUB_BATCH_MAX);
    return rate > bound ? 0 : 1;
}
