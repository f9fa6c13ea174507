/* The bound every benchmark prints its figures against: Ed25519
 * signature verifications per second on this machine, on all cores,
 * measured in the same run. Raw libsodium verification (no cache, no
 * domain prefix) of a 200-byte message, each thread with its own key. */
#ifndef MC_BENCH_BOUND_H
#define MC_BENCH_BOUND_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "crypto/sign.h"

static atomic_uint_fast64_t bench_bound_count;
static atomic_int bench_bound_stop;

static void *bench_bound_worker(void *arg) {
    (void)arg;
    struct mc_keypair kp;
    mc_keypair_generate(&kp);
    uint8_t msg[200] = {1, 2, 3}, sig[MC_SIG_BYTES];
    mc_ed25519_sign_raw(sig, &kp, msg, sizeof msg);
    uint64_t n = 0;
    while (!atomic_load_explicit(&bench_bound_stop, memory_order_relaxed)) {
        if (mc_ed25519_verify_raw(sig, &kp.pk, msg, sizeof msg) != 0) abort();
        n++;
    }
    atomic_fetch_add(&bench_bound_count, n);
    return NULL;
}

/* Verifications per second with `threads` threads (0: all cores) for about
 * two seconds. */
static double bench_ed25519_bound(int threads) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (threads <= 0) threads = cores > 0 ? (int)cores : 1;
    if (threads > 64) threads = 64;
    pthread_t th[64];
    atomic_store(&bench_bound_count, 0);
    atomic_store(&bench_bound_stop, 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, bench_bound_worker, NULL);
    usleep(2000000);
    atomic_store(&bench_bound_stop, 1);
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    return (double)atomic_load(&bench_bound_count) / secs;
}

#endif
