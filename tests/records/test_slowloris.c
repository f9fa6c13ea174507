/* 600 slow connections from one client (slowloris: each sends part of a
 * request and never finishes it) do not take the API down: a signed read
 * from another client address is still served promptly. The per-client
 * connection cap keeps the slow client to its share of the global cap. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "records_env.h"

#define SLOW 600

static int slow_connection(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.2", &src.sin_addr); /* another client address on loopback */
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
        close(fd);
        return -1;
    }
    static const char part[] = "GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    (void)send(fd, part, sizeof part - 1, MSG_NOSIGNAL);
    return fd;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

Test(records_slowloris, signed_read_served_despite_600_slow_connections, .timeout = 90) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 4 * SLOW && rl.rlim_max >= 4 * SLOW) {
        rl.rlim_cur = 4 * SLOW;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct env e;
    env_start(&e, "rec-slowloris");
    char *obs = env_observation(e.patient_hex, "slow-marker");
    char *id = env_create(&e, &e.doc, "Observation", obs);
    free(obs);
    tu_commit(&e.t);
    char path[160];
    snprintf(path, sizeof path, "/fhir/Observation/%s", id);

    static int fds[SLOW];
    int opened = 0;
    for (int i = 0; i < SLOW; i++) {
        fds[i] = slow_connection(e.port);
        opened += fds[i] >= 0;
    }
    cr_assert_gt(opened, 0, "no slow connection could be opened");
    usleep(300 * 1000);
    /* Trickle a byte on each, the way a slowloris client keeps them open. */
    for (int i = 0; i < SLOW; i++)
        if (fds[i] >= 0) (void)send(fds[i], "x", 1, MSG_NOSIGNAL);

    double t0 = now_s();
    struct rq r = env_req(&e, &e.patient, "GET", path, NULL, NULL);
    double took = now_s() - t0;
    cr_expect_eq(r.status, 200, "signed read during the slowloris: %ld %s", r.status,
                 r.body ? r.body : "(no answer)");
    cr_expect_lt(took, 5.0, "the read took %.1f s", took);
    rq_free(&r);
    for (int i = 0; i < SLOW; i++)
        if (fds[i] >= 0) close(fds[i]);
    free(id);
    env_stop(&e);
}
