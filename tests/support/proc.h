/* Helpers for integration tests that drive real medchain processes:
 * spawning and killing, free loopback ports, HTTP via libcurl, running the
 * CLI and capturing its output. */
#ifndef MC_TESTS_PROC_H
#define MC_TESTS_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Path of the medchain binary under test ($MEDCHAIN_BIN). */
const char *tp_bin(void);
/* A currently free TCP port on 127.0.0.1. */
int tp_free_port(void);
/* Whether TCP ports base..base+n-1 are all free on 127.0.0.1 now. */
bool tp_ports_free(int base, int n);
/* n consecutive free ports in a test's own region (a small number, two per
 * cluster: one for API ports, one for peer ports), below the
 * kernel's ephemeral range (which tp_free_port draws from), so tests that
 * run in parallel do not pick the same ports. Asserts some exist. */
int tp_free_run(int n, int region);
/* Starts `medchain node --home HOME --api 127.0.0.1:PORT`, output appended
 * to HOME/node.log; waits until /v1/status answers (asserts within 10 s). */
pid_t tp_node_start(const char *home, int port);
/* The same with another binary (e.g. tp_bin_next()). */
pid_t tp_node_start_bin(const char *bin, const char *home, int port);
/* The build of the next release ($MEDCHAIN_BIN_NEXT, build/medchain-next). */
const char *tp_bin_next(void);
/* Waits up to `seconds` for the process to exit by itself and reaps it. */
bool tp_wait_exit(pid_t pid, int seconds, int *status);
/* Sends sig and reaps the process. */
void tp_kill(pid_t pid, int sig);

struct tp_resp {
    long status;   /* HTTP status, 0 when the request failed */
    char *body;    /* NUL-terminated, malloc'd */
    size_t len;
};
/* One HTTP request; body may be NULL. content_type NULL means JSON. */
struct tp_resp tp_http(const char *method, const char *url, const void *body, size_t len,
                       const char *content_type);
void tp_resp_free(struct tp_resp *r);

/* Runs a shell command line, capturing stdout+stderr (malloc'd into *out);
 * returns the exit status (or -1). */
int tp_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sleeps ms milliseconds. */
void tp_sleep_ms(long ms);
/* The monotonic clock, in milliseconds. */
uint64_t tp_now_ms(void);
/* Runs `medchain keygen` into dir/name (asserts it succeeds); returns the
 * path. */
char *tp_keygen(const char *dir, const char *name);
/* The "public_key" (hex) of a key file (asserts it is there). */
char *tp_pubkey_hex(const char *keyfile);
/* The value of the first "key: value" line of CLI output, or NULL. */
char *tp_field(const char *out, const char *key);

#endif
