/* GET /v1/verify: the node's own full-chain verification, for the explorer.
 *
 * Runs `medchain verify` over the node's database through one node call
 * (mc_verify_node: a separate read-only connection, one read transaction,
 * the node lock not taken, so block production goes on).
 *
 * Bounded rate: at most one verification runs at a time in the process, and
 * a new one starts only after a pause of VERIFY_INTERVAL_S seconds or
 * VERIFY_DUTY_FACTOR times the last run's duration, whichever is longer;
 * until then every client gets the last report with "cached": true. A
 * verification re-executes the chain from genesis, so its cost grows with
 * the chain: the pause caps the share of one core that verification can
 * take at 1/VERIFY_DUTY_FACTOR however many clients ask and however long
 * the chain grows (the bound is global, so it holds per client too). The
 * answer says when it ran, at which height, how long it took and when the
 * next run may start (next_run_at_ms). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/routes.h"
#include "node/verify.h"

#define VERIFY_INTERVAL_S 30
#define VERIFY_DUTY_FACTOR 20

static pthread_mutex_t verify_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const struct mc_node *node; /* whose report this is (tests run several) */
    bool have;
    struct mc_verify_report report;
    uint64_t height;            /* the chain height when it started */
    int64_t ran_at_ms;          /* wall clock, for the reader */
    struct timespec ran_mono;
    int64_t duration_ms;
} last;

static int64_t mono_ms_since(const struct timespec *t) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Milliseconds after the last run's start before the next may start. */
static int64_t pause_ms(void) {
    int64_t p = (int64_t)VERIFY_DUTY_FACTOR * last.duration_ms;
    return p > VERIFY_INTERVAL_S * 1000 ? p : VERIFY_INTERVAL_S * 1000;
}

static json_t *report_view(bool cached) {
    const struct mc_verify_report *r = &last.report;
    return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:b, s:I, s:I}",
                     "ok", r->ok == 1, "height", (json_int_t)last.height,
                     "heights_checked", (json_int_t)r->heights_checked,
                     "txs_checked", (json_int_t)r->txs_checked,
                     "state_rows_checked", (json_int_t)r->state_rows_checked,
                     "bad_height", (json_int_t)r->bad_height, "object", r->object,
                     "detail", r->detail, "checked_at_ms", (json_int_t)last.ran_at_ms,
                     "duration_ms", (json_int_t)last.duration_ms, "cached", cached,
                     "interval_s", (json_int_t)VERIFY_INTERVAL_S,
                     "next_run_at_ms", (json_int_t)(last.ran_at_ms + pause_ms()));
}

/* Runs the verification; called with verify_lock held. */
static int run_verify(struct mc_node *node, struct mc__api_response *res) {
    struct mc_verify_report report;
    memset(&report, 0, sizeof report);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t height = 0;
    int rc = mc_verify_node(node, &report, &height);
    if (rc) {
        mc__api_fail(res, rc == MC_ERR_STATE ? 503 : 500, rc, "%s", mc_err_detail());
        return rc;
    }
    last.node = node;
    last.have = true;
    last.report = report;
    last.report.object[sizeof last.report.object - 1] = 0;
    last.report.detail[sizeof last.report.detail - 1] = 0;
    last.height = height;
    last.ran_mono = start;
    last.ran_at_ms = (int64_t)time(NULL) * 1000 - mono_ms_since(&start);
    last.duration_ms = mono_ms_since(&start);
    return 0;
}

void mc__api_chain_verify(struct mc_node *node, const char *param,
                          const struct mc__api_request *req, struct mc__api_response *res) {
    if (pthread_mutex_trylock(&verify_lock) != 0) {
        mc__api_fail(res, 503, MC_ERR_FULL, "a verification is running; retry in a moment");
        return;
    }
    bool fresh = last.have && last.node == node && mono_ms_since(&last.ran_mono) < pause_ms();
    if (fresh || run_verify(node, res) == 0) {
        json_decref(res->body);
        res->status = 200;
        res->body = report_view(fresh);
    }
    pthread_mutex_unlock(&verify_lock);
}
