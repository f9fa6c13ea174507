/* Integration-test process and HTTP helpers (see proc.h). */
#include "proc.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *tp_bin(void) {
    const char *b = getenv("MEDCHAIN_BIN");
    return b ? b : "build/medchain";
}

int tp_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

bool tp_ports_free(int base, int n) {
    for (int p = base; p < base + n; p++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (!ok) return false;
    }
    return true;
}

int tp_free_run(int n, int region) {
    for (int base = 12000 + region * 20; base < 32000; base += 400)
        if (tp_ports_free(base, n)) return base;
    cr_assert_fail("no free ports");
    return 0;
}

static size_t collect(char *p, size_t sz, size_t n, void *ud) {
    struct tp_resp *r = ud;
    size_t k = sz * n;
    char *nb = realloc(r->body, r->len + k + 1);
    if (!nb) return 0;
    r->body = nb;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = 0;
    return k;
}

struct tp_resp tp_http(const char *method, const char *url, const void *body, size_t len,
                       const char *content_type) {
    struct tp_resp r = {0};
    r.body = calloc(1, 1);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char ct[128];
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type ? content_type : "application/json");
    h = curl_slist_append(h, ct);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

void tp_resp_free(struct tp_resp *r) {
    free(r->body);
    r->body = NULL;
}

pid_t tp_node_start(const char *home, int port) { return tp_node_start_bin(tp_bin(), home, port); }

const char *tp_bin_next(void) {
    const char *b = getenv("MEDCHAIN_BIN_NEXT");
    return b ? b : "build/medchain-next";
}

bool tp_wait_exit(pid_t pid, int seconds, int *status) {
    for (int i = 0; i < seconds * 20; i++) {
        if (waitpid(pid, status, WNOHANG) == pid) return true;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

pid_t tp_node_start_bin(const char *bin, const char *home, int port) {
    char api[64], log[1024];
    snprintf(api, sizeof api, "127.0.0.1:%d", port);
    snprintf(log, sizeof log, "%s/node.log", home);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        /* a test that fails (and exits) takes its nodes with it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(bin, bin, "node", "--home", home, "--api", api, (char *)NULL);
        _exit(127);
    }
    char url[128];
    snprintf(url, sizeof url, "http://%s/v1/status", api);
    for (int i = 0; i < 200; i++) {
        struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
        long st = r.status;
        tp_resp_free(&r);
        if (st == 200) return pid;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) cr_assert_fail("node exited early, see %s", log);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    cr_assert_fail("node did not answer on %s within 10 s (log %s)", api, log);
    return -1;
}

void tp_kill(pid_t pid, int sig) {
    if (pid <= 0) return;
    kill(pid, sig);
    int status;
    waitpid(pid, &status, 0);
}

int tp_run(char **out, const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[4200];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 1024) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(p);
    if (out) *out = buf;
    else free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void tp_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

uint64_t tp_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

char *tp_keygen(const char *dir, const char *name) {
    char *p = tu_path(dir, name);
    char *out;
    cr_assert_eq(tp_run(&out, "%s keygen --out %s", tp_bin(), p), 0, "%s", out);
    free(out);
    return p;
}

char *tp_pubkey_hex(const char *keyfile) {
    json_t *j = json_load_file(keyfile, 0, NULL);
    cr_assert_not_null(j, "%s", keyfile);
    const char *pk = json_string_value(json_object_get(j, "public_key"));
    cr_assert_not_null(pk, "%s has no public_key", keyfile);
    char *copy = tu_keep(strdup(pk));
    json_decref(j);
    return copy;
}

char *tp_field(const char *out, const char *key) {
    size_t kn = strlen(key);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kn) == 0 && p[kn] == ':' && p[kn + 1] == ' ') {
            size_t vn = strcspn(p + kn + 2, "\n");
            char *v = malloc(vn + 1);
            memcpy(v, p + kn + 2, vn);
            v[vn] = 0;
            return tu_keep(v);
        }
    }
    return NULL;
}
