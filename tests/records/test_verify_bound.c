/* GET /v1/verify re-executes the whole chain, so nobody can start it at
 * will: one run at a time, then every client gets the cached report (with
 * its height) until a pause of at least 30 s and 20 times the run's
 * duration has passed, which the answer announces in next_run_at_ms. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "records_env.h"

static struct env e;
static const struct rq_opt plain = {.unsigned_request = true};

static void *ask(void *arg) {
    struct rq *r = arg;
    *r = env_req(&e, &e.stranger, "GET", "/v1/verify", NULL, &plain);
    return NULL;
}

static json_int_t num(const struct rq *r, const char *k) {
    return json_integer_value(json_object_get(r->json, k));
}

Test(verify_bound, one_run_then_cached_for_the_pause, .timeout = 60) {
    env_start(&e, "verify-bound");
    struct rq first = env_req(&e, &e.stranger, "GET", "/v1/verify", NULL, &plain);
    cr_assert_eq(first.status, 200, "%s", first.body);
    cr_assert_not_null(first.json);
    cr_expect(json_is_true(json_object_get(first.json, "ok")), "%s", first.body);
    cr_expect(json_is_false(json_object_get(first.json, "cached")));
    json_int_t at = num(&first, "checked_at_ms"), took = num(&first, "duration_ms");
    json_int_t pause = 20 * took > 30000 ? 20 * took : 30000;
    cr_expect(json_object_get(first.json, "next_run_at_ms") != NULL, "the answer says when the next run may start");
    cr_expect_geq(num(&first, "next_run_at_ms"), at + pause, "next run at %lld, checked at %lld, took %lld ms",
                  (long long)num(&first, "next_run_at_ms"), (long long)at, (long long)took);
    cr_expect(json_object_get(first.json, "height") != NULL);

    /* Many clients at once, and again: nobody starts another run. */
    enum { K = 8 };
    static struct rq rs[K];
    pthread_t th[K];
    for (int i = 0; i < K; i++) pthread_create(&th[i], NULL, ask, &rs[i]);
    for (int i = 0; i < K; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < K; i++) {
        cr_expect(rs[i].status == 200 || rs[i].status == 503, "%ld", rs[i].status);
        if (rs[i].status == 200) {
            cr_expect(json_is_true(json_object_get(rs[i].json, "cached")));
            cr_expect_eq(num(&rs[i], "checked_at_ms"), at, "the same report");
        }
        rq_free(&rs[i]);
    }
    rq_free(&first);
    env_stop(&e);
}
