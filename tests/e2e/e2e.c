/* The fault-injection harness for real clusters (see e2e.h). */
#include "e2e.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/proxy.h"
#include "../support/testutil.h"
#include "app/identity.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "crypto/keyfile.h"

#define TX_MAX 4096           /* client transactions recorded per run */
#define BLOCKS_SEEN_MAX 4096  /* (height, hash) pairs observed during the run */
#define RECOVERY_S 60         /* the cluster must commit again within this */
/* Debian's faketime package */
#define E2E_LIBFAKETIME "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

struct node {
    pid_t pid;          /* 0 when not running */
    bool paused;
    int offset_s;       /* wall clock offset it runs with */
    int api, p2p;
    char url[64];
    char home[600];
};

struct txrec {
    char id[65];
    uint64_t height;
};

struct seen {
    uint64_t height;
    char hash[65];
};

/* The access-control cycle: a fresh grantee each time, granted, reading,
 * revoked, then checked on every node that has reached the revocation. */
enum acl_step { ACL_ENROLL, ACL_GRANT, ACL_READ, ACL_REVOKE, ACL_CHECK };

struct e2e {
    const struct e2e_options *o;
    struct e2e_report *r;
    uint64_t rng;       /* the client's choices */
    uint64_t rng_fault; /* the schedule: its own stream, so a seed always gives the same one */
    int n;
    struct node nodes[E2E_NODES_MAX];
    struct tproxy *px;
    int links[E2E_NODES_MAX][E2E_NODES_MAX];
    bool cut[E2E_NODES_MAX][E2E_NODES_MAX];
    char dir[512], chain_id[64];
    /* in-process signed transactions: org admins 1..n-1 as senders */
    struct mc_keypair admin[E2E_NODES_MAX];
    uint64_t nonce[E2E_NODES_MAX];
    bool nonce_known[E2E_NODES_MAX];
    struct txrec *txs;
    int tx_count;
    struct seen *seen;
    int seen_count;
    /* the access entries of reads the nodes served: each must commit */
    char (*served)[65];
    int served_count;
    /* the access-control cycle (CLI, org 0's admin enrolls grantees) */
    enum acl_step acl;
    int acl_k;
    char record[160], grant[65];
    uint64_t revoked_at;
    /* the active perturbation */
    int fault;   /* one enum e2e_fault bit, or 0 */
    int target;  /* the node it concerns, or the first half for a split */
    double fault_end, next_fault;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: the schedule and the client's choices come from the seed. */
static uint64_t rnd(struct e2e *e) {
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    return e->rng * 0x2545F4914F6CDD1DULL;
}
static int rnd_in(struct e2e *e, int lo, int hi) { return lo + (int)(rnd(e) % (uint64_t)(hi - lo + 1)); }

/* The same generator over the schedule's stream. */
static uint64_t frnd(struct e2e *e) {
    uint64_t keep = e->rng;
    e->rng = e->rng_fault;
    uint64_t v = rnd(e);
    e->rng_fault = e->rng;
    e->rng = keep;
    return v;
}
static int frnd_in(struct e2e *e, int lo, int hi) { return lo + (int)(frnd(e) % (uint64_t)(hi - lo + 1)); }

static void note(struct e2e *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct e2e *e, const char *fmt, ...) {
    if (!e->o->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "e2e[%llu] ", (unsigned long long)e->o->seed);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void violation(struct e2e *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(struct e2e *e, const char *fmt, ...) {
    e->r->violations++;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "e2e[%llu] VIOLATION: %s\n", (unsigned long long)e->o->seed, line);
    if (!e->r->violation[0]) snprintf(e->r->violation, sizeof e->r->violation, "%s", line);
}

/* A node the client may talk to now. */
static bool reachable(struct e2e *e, int i) { return e->nodes[i].pid > 0 && !e->nodes[i].paused; }

static int pick_reachable(struct e2e *e) {
    int cand[E2E_NODES_MAX], k = 0;
    for (int i = 0; i < e->n; i++)
        if (reachable(e, i)) cand[k++] = i;
    return k ? cand[rnd(e) % (uint64_t)k] : -1;
}

static json_t *get_json(struct e2e *e, int i, const char *path) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", e->nodes[i].url, path);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
    tp_resp_free(&r);
    return j;
}

static uint64_t json_u64(json_t *v) {
    if (json_is_integer(v)) return (uint64_t)json_integer_value(v);
    if (json_is_string(v)) return strtoull(json_string_value(v), NULL, 10);
    return 0;
}

static uint64_t height_of(struct e2e *e, int i) {
    json_t *j = get_json(e, i, "/v1/status");
    uint64_t h = j ? json_u64(json_object_get(j, "height")) : 0;
    json_decref(j);
    return h;
}

static bool block_hash(struct e2e *e, int i, uint64_t h, char out[65]) {
    char path[64];
    snprintf(path, sizeof path, "/v1/block/%llu", (unsigned long long)h);
    json_t *j = get_json(e, i, path);
    const char *s = j ? json_string_value(json_object_get(j, "hash")) : NULL;
    bool ok = s && strlen(s) == 64;
    if (ok) memcpy(out, s, 65);
    json_decref(j);
    return ok;
}

/* --- processes --- */

/* Starts node i (with its wall clock offset, through faketime, when set)
 * and waits until its API answers. false when it exits or stays silent. */
static bool node_spawn(struct e2e *e, int i) {
    struct node *nd = &e->nodes[i];
    const char *bin = i == 0 && e->o->bin_node0 ? e->o->bin_node0 : e->o->bin;
    char api[64], log[600];
    snprintf(api, sizeof api, "127.0.0.1:%d", nd->api);
    snprintf(log, sizeof log, "%s/node.log", nd->home);
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nd->offset_s) {
            /* libfaketime preloaded into the node itself (not the faketime
             * wrapper, which would run it as a child with another pid);
             * timers run on the true monotonic clock, only the wall clock
             * (block times, request dates) is off */
            char spec[32];
            snprintf(spec, sizeof spec, "%+ds", nd->offset_s);
            setenv("LD_PRELOAD", E2E_LIBFAKETIME, 1);
            setenv("FAKETIME", spec, 1);
            setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1", 1);
        }
        execl(bin, bin, "node", "--home", nd->home, "--api", api, (char *)NULL);
        _exit(127);
    }
    nd->pid = pid;
    nd->paused = false;
    char url[128];
    snprintf(url, sizeof url, "%s/v1/status", nd->url);
    for (int k = 0; k < 300; k++) {
        struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
        long st = r.status;
        tp_resp_free(&r);
        if (st == 200) return true;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            nd->pid = 0;
            return false;
        }
        tp_sleep_ms(50);
    }
    return false;
}

static void node_kill9(struct e2e *e, int i) {
    struct node *nd = &e->nodes[i];
    if (nd->pid <= 0) return;
    kill(nd->pid, SIGKILL);
    int status;
    waitpid(nd->pid, &status, 0);
    nd->pid = 0;
    nd->paused = false;
}

static void node_restart(struct e2e *e, int i) {
    if (e->nodes[i].pid > 0) return;
    if (!node_spawn(e, i)) {
        char *out;
        tp_run(&out, "tail -3 '%s/node.log'", e->nodes[i].home);
        violation(e, "node %d did not restart: %s", i, out);
        free(out);
    }
}

/* Truncates every consensus WAL row of a stopped node except the record of
 * what it last signed (which protects it from signing twice) at a random
 * byte: the node must restart from what is left. */
static void wal_truncate(struct e2e *e, int i) {
    char *out;
    int rc = tp_run(&out, "sqlite3 '%s/data/chain.db' \"SELECT key, length(value) FROM meta WHERE "
                          "key LIKE 'consensus%%' AND key <> 'consensus_signed'\"",
                    e->nodes[i].home);
    if (rc != 0) {
        violation(e, "cannot read node %d's WAL rows: %s", i, out);
        free(out);
        return;
    }
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *bar = strchr(line, '|');
        if (!bar) continue;
        *bar = 0;
        long len = atol(bar + 1);
        if (len <= 1) continue;
        long keep = (long)(frnd(e) % (uint64_t)len);
        char *o2;
        tp_run(&o2, "sqlite3 '%s/data/chain.db' \"UPDATE meta SET value = substr(value, 1, %ld) "
                    "WHERE key = '%s'\"",
               e->nodes[i].home, keep, line);
        note(e, "node %d: WAL row %s truncated from %ld to %ld bytes", i, line, len, keep);
        free(o2);
    }
    free(out);
}

/* --- links --- */

static void link_cut(struct e2e *e, int a, int b, bool cut) {
    if (a == b || e->cut[a][b] == cut) return;
    note(e, "link %d-%d %s (ports %d, %d)", a, b, cut ? "cut" : "healed", e->links[a][b], e->links[b][a]);
    tproxy_cut(e->px, e->links[a][b], cut);
    tproxy_cut(e->px, e->links[b][a], cut);
    e->cut[a][b] = e->cut[b][a] = cut;
}

static void heal_all(struct e2e *e) {
    for (int a = 0; a < e->n; a++)
        for (int b = 0; b < e->n; b++) link_cut(e, a, b, false);
}

/* --- perturbations --- */

static const char *fault_name(int f) {
    switch (f) {
    case E2E_KILL: return "kill";
    case E2E_PAUSE: return "pause";
    case E2E_ISOLATE: return "isolate";
    case E2E_SPLIT: return "split";
    case E2E_WAL: return "wal";
    case E2E_CLOCK: return "clock";
    case E2E_CRASH: return "crash";
    }
    return "?";
}

static void fault_start(struct e2e *e) {
    int kinds[8], k = 0;
    for (int b = 0; b < 7; b++)
        if (e->o->faults & (1u << b)) kinds[k++] = 1 << b;
    if (!k) return;
    int f = kinds[frnd(e) % (uint64_t)k];
    int t = frnd_in(e, 0, e->n - 1);
    if (e->o->fault_target >= 0 && e->o->fault_target < e->n) t = e->o->fault_target;
    double d = 1.0 + (double)frnd_in(e, 0, 2000) / 1000.0;
    switch (f) {
    case E2E_KILL:
    case E2E_WAL:
        node_kill9(e, t);
        if (f == E2E_WAL) wal_truncate(e, t);
        break;
    case E2E_PAUSE:
        kill(e->nodes[t].pid, SIGSTOP);
        e->nodes[t].paused = true;
        break;
    case E2E_ISOLATE:
        for (int b = 0; b < e->n; b++) link_cut(e, t, b, true);
        d += 1.0;
        break;
    case E2E_SPLIT:
        /* nodes t, t+1, ... (half of them, wrapping) against the rest */
        for (int a = 0; a < e->n; a++)
            for (int b = 0; b < e->n; b++) {
                bool ina = (a - t + e->n) % e->n < e->n / 2, inb = (b - t + e->n) % e->n < e->n / 2;
                if (ina != inb) link_cut(e, a, b, true);
            }
        d += 1.0;
        break;
    case E2E_CLOCK:
        node_kill9(e, t);
        e->nodes[t].offset_s = (frnd(e) & 1 ? 1 : -1) * frnd_in(e, 1, 3);
        node_restart(e, t);
        d += 2.0;
        break;
    case E2E_CRASH:
        for (int i = 0; i < e->n; i++) node_kill9(e, i);
        d = 0.5;
        break;
    }
    e->fault = f;
    e->target = t;
    e->fault_end = now_s() + d;
    e->r->perturbations++;
    note(e, "fault %s on node %d for %.1f s%s", fault_name(f), t, d,
         f == E2E_CLOCK ? (e->nodes[t].offset_s > 0 ? " (clock ahead)" : " (clock behind)") : "");
}

static void fault_end(struct e2e *e) {
    int f = e->fault, t = e->target;
    switch (f) {
    case E2E_KILL:
    case E2E_WAL:
        node_restart(e, t);
        break;
    case E2E_PAUSE:
        kill(e->nodes[t].pid, SIGCONT);
        e->nodes[t].paused = false;
        break;
    case E2E_ISOLATE:
    case E2E_SPLIT:
        heal_all(e);
        break;
    case E2E_CLOCK:
        node_kill9(e, t);
        e->nodes[t].offset_s = 0;
        node_restart(e, t);
        break;
    case E2E_CRASH:
        for (int i = 0; i < e->n; i++) node_restart(e, i);
        break;
    }
    if (f) note(e, "fault %s on node %d over", fault_name(f), t);
    e->fault = 0;
    e->next_fault = now_s() + 0.5 + (double)frnd_in(e, 0, 1500) / 1000.0;
}

/* --- client: signed transactions (enrollments by the org admins) --- */

static void remember_block(struct e2e *e, int i, uint64_t h) {
    for (int k = 0; k < e->seen_count; k++)
        if (e->seen[k].height == h) return;
    if (e->seen_count == BLOCKS_SEEN_MAX) return;
    if (block_hash(e, i, h, e->seen[e->seen_count].hash)) e->seen[e->seen_count++].height = h;
}

/* The status of transaction id on node i: 1 committed (height set), -1
 * rejected, 0 pending or unknown. */
static int tx_status(struct e2e *e, int i, const char *id, uint64_t *height) {
    char path[128];
    snprintf(path, sizeof path, "/v1/tx/%s", id);
    json_t *j = get_json(e, i, path);
    const char *s = j ? json_string_value(json_object_get(j, "status")) : NULL;
    int st = s && strcmp(s, "committed") == 0 ? 1 : s && strcmp(s, "rejected") == 0 ? -1 : 0;
    if (st == 1 && height) *height = json_u64(json_object_get(j, "height"));
    json_decref(j);
    return st;
}

static void record_committed(struct e2e *e, int node, const char *id, uint64_t h) {
    if (e->tx_count < TX_MAX) {
        snprintf(e->txs[e->tx_count].id, 65, "%s", id);
        e->txs[e->tx_count++].height = h;
    }
    e->r->tx_committed++;
    remember_block(e, node, h);
}

static void op_tx(struct e2e *e) {
    int i = pick_reachable(e);
    if (i < 0 || e->n < 2) return;
    int s = rnd_in(e, 1, e->n - 1);
    if (!e->nonce_known[s]) {
        char path[128], hex[65];
        mc_hex_encode(hex, e->admin[s].pk.b, 32);
        snprintf(path, sizeof path, "/v1/account/%s", hex);
        json_t *j = get_json(e, i, path);
        if (!j) return;
        e->nonce[s] = json_u64(json_object_get(j, "nonce"));
        e->nonce_known[s] = true;
        json_decref(j);
    }
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, MC_ROLE_AUDITOR, "E2E Auditor");
    size_t len;
    uint8_t *tx = tu_tx(&len, e->chain_id, MC_TX_ENROLL_MEMBER, &e->admin[s], e->nonce[s] + 1, p, pl);
    char url[128];
    snprintf(url, sizeof url, "%s/v1/tx", e->nodes[i].url);
    struct tp_resp r = tp_http("POST", url, tx, len, "application/octet-stream");
    free(tx);
    if (r.status != 202) {
        if (e->r->tx_rejected + e->r->tx_unknown < 5)
            note(e, "submit via node %d: HTTP %ld %.200s", i, r.status, r.body ? r.body : "");
        tp_sleep_ms(25); /* a refusing node is not hammered */
        e->r->tx_rejected += r.status >= 400 && r.status < 500;
        e->r->tx_unknown += !(r.status >= 400 && r.status < 500);
        e->nonce_known[s] = false;
        tp_resp_free(&r);
        return;
    }
    json_t *j = json_loads(r.body, 0, NULL);
    tp_resp_free(&r);
    char id[65] = "";
    const char *ids = j ? json_string_value(json_object_get(j, "id")) : NULL;
    if (ids) snprintf(id, sizeof id, "%s", ids);
    json_decref(j);
    if (strlen(id) != 64) return;
    e->nonce[s]++;
    for (int k = 0; k < 60 && reachable(e, i); k++) {
        uint64_t h = 0;
        int st = tx_status(e, i, id, &h);
        if (st == 1) {
            record_committed(e, i, id, h);
            return;
        }
        if (st == -1) {
            e->r->tx_rejected++;
            e->nonce_known[s] = false;
            return;
        }
        tp_sleep_ms(50);
    }
    /* not seen committed in time: it may still commit, or be lost with a
     * killed node's mempool; either is allowed, a lie is not */
    e->r->tx_unknown++;
    e->nonce_known[s] = false;
}

/* --- client: the access-control cycle through the CLI --- */

static int cli(struct e2e *e, char **out, int node, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int cli(struct e2e *e, char **out, int node, const char *fmt, ...) {
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return tp_run(out, "%s %s --node %s", e->o->bin, args, e->nodes[node].url);
}

static const char *field(const char *out, const char *name, char *buf, size_t cap) {
    char key[64];
    snprintf(key, sizeof key, "%s: ", name);
    for (const char *p = out; p && *p;) {
        if (strncmp(p, key, strlen(key)) == 0) {
            p += strlen(key);
            size_t n = strcspn(p, "\n");
            if (n >= cap) n = cap - 1;
            memcpy(buf, p, n);
            buf[n] = 0;
            return buf;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    buf[0] = 0;
    return NULL;
}

/* Remembers the access entry the CLI reported for a served read. */
static void served_entry(struct e2e *e, const char *out) {
    char tx[128];
    if (!field(out, "access_tx", tx, sizeof tx) || strlen(tx) != 64) {
        violation(e, "a read was served without naming its access entry: %.200s", out);
        return;
    }
    if (e->served_count < TX_MAX) {
        memcpy(e->served[e->served_count], tx, 64);
        e->served[e->served_count++][64] = 0;
    }
}

static bool acl_setup(struct e2e *e) {
    char *out;
    int rc = tp_run(&out, "cd '%s' && %s keygen --out dr.json && %s keygen --out pat.json", e->dir,
                    e->o->bin, e->o->bin);
    if (rc) fprintf(stderr, "e2e: keygen: %s\n", out);
    free(out);
    if (rc) return false;
    rc = cli(e, &out, 0, "member enroll --key %s/net/node0/admin_key.json --member-key %s/dr.json "
                         "--role clinician --name 'E2E Author' --timeout 10",
             e->dir, e->dir);
    bool ok = rc == 0 && strstr(out, "status: committed");
    if (!ok) fprintf(stderr, "e2e: member enroll: %s\n", out);
    free(out);
    if (!ok) return false;
    rc = cli(e, &out, 0, "patient register --key %s/dr.json --patient-key %s/pat.json --timeout 10", e->dir,
             e->dir);
    ok = rc == 0 && strstr(out, "status: committed");
    if (!ok) fprintf(stderr, "e2e: patient register: %s\n", out);
    free(out);
    if (!ok) return false;
    struct mc_keypair pat;
    char kp[700], phex[65];
    snprintf(kp, sizeof kp, "%s/pat.json", e->dir);
    if (mc_keyfile_read(&pat, kp, NULL)) return false;
    mc_hex_encode(phex, pat.pk.b, 32);
    sodium_memzero(&pat, sizeof pat);
    char obs[700];
    snprintf(obs, sizeof obs, "%s/obs.json", e->dir);
    FILE *f = fopen(obs, "w");
    if (!f) return false;
    fprintf(f, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"e2e glucose\"},"
               "\"subject\":{\"reference\":\"Patient/%s\"},\"valueString\":\"e2e-marker\"}",
            phex);
    fclose(f);
    rc = cli(e, &out, 0, "record add --key %s/dr.json --patient-key %s/pat.json --file %s --timeout 10", e->dir,
             e->dir, obs);
    char id[128];
    ok = rc == 0 && strstr(out, "status: committed") && field(out, "id", id, sizeof id);
    if (ok) snprintf(e->record, sizeof e->record, "Observation/%s", id);
    if (!ok) fprintf(stderr, "e2e: record add: %s\n", out);
    free(out);
    return ok;
}

static void op_acl(struct e2e *e) {
    int i = pick_reachable(e);
    if (i < 0) return;
    char *out = NULL, buf[128];
    int rc;
    switch (e->acl) {
    case ACL_ENROLL:
        e->acl_k++;
        rc = tp_run(&out, "%s keygen --out %s/g%d.json", e->o->bin, e->dir, e->acl_k);
        free(out);
        if (rc) return;
        rc = cli(e, &out, i, "member enroll --key %s/net/node0/admin_key.json --member-key %s/g%d.json "
                             "--role clinician --name 'E2E Grantee %d' --timeout 5",
                 e->dir, e->dir, e->acl_k, e->acl_k);
        if (rc == 0 && strstr(out, "status: committed")) e->acl = ACL_GRANT;
        break;
    case ACL_GRANT:
        rc = cli(e, &out, i, "grant add --key %s/pat.json --to-member-key %s/g%d.json --categories results "
                             "--timeout 5",
                 e->dir, e->dir, e->acl_k);
        if (rc == 0 && strstr(out, "status: committed") && field(out, "id", e->grant, sizeof e->grant))
            e->acl = ACL_READ;
        else
            e->acl = ACL_ENROLL; /* an unclear grant is never checked: start over with a new grantee */
        break;
    case ACL_READ:
        /* the grant reseals the record key to the grantee organisation's
         * node (node 0), which is the one that can serve it */
        if (reachable(e, 0)) i = 0;
        rc = cli(e, &out, i, "record get %s --key %s/g%d.json --out %s/read.json", e->record, e->dir,
                 e->acl_k, e->dir);
        if (rc == 0) {
            e->r->granted_reads_served++;
            served_entry(e, out);
        } else {
            note(e, "granted read via node %d refused: %.200s", i, out);
        }
        e->acl = ACL_REVOKE;
        break;
    case ACL_REVOKE:
        rc = cli(e, &out, i, "grant revoke %s --key %s/pat.json --timeout 5", e->grant, e->dir);
        if (rc == 0 && strstr(out, "status: committed") && field(out, "height", buf, sizeof buf)) {
            e->revoked_at = strtoull(buf, NULL, 10);
            e->acl = ACL_CHECK;
        } else {
            e->acl = ACL_ENROLL; /* outcome unclear: this grantee is not checked */
        }
        break;
    case ACL_CHECK:
        for (int k = 0; k < e->n; k++) {
            if (!reachable(e, k) || height_of(e, k) < e->revoked_at) continue;
            free(out);
            out = NULL;
            rc = cli(e, &out, k, "record get %s --key %s/g%d.json --out %s/read.json", e->record, e->dir,
                     e->acl_k, e->dir);
            e->r->revocations_checked++;
            if (rc == 0) {
                e->r->revoked_reads_served++;
                served_entry(e, out);
                violation(e, "node %d served %s to grantee %d after the revocation committed at height %llu",
                          k, e->record, e->acl_k, (unsigned long long)e->revoked_at);
            } else if (strstr(out, "403")) {
                e->r->revoked_reads_refused++;
            } else {
                e->r->revoked_reads_inconclusive++;
            }
        }
        e->acl = ACL_ENROLL;
        break;
    }
    free(out);
}

/* --- set-up, checks --- */

static int port_run(struct e2e *e, int n) {
    for (int k = 0; k < 100; k++) {
        int base = 13000 + rnd_in(e, 0, 1800) * 10; /* below the ephemeral range */
        if (tp_ports_free(base, n)) return base;
    }
    return -1;
}

static bool cluster_create(struct e2e *e) {
    snprintf(e->dir, sizeof e->dir, "%s", tu_tmpdir("e2e"));
    snprintf(e->chain_id, sizeof e->chain_id, "medchain-e2e");
    int api = port_run(e, e->n), p2p = port_run(e, e->n);
    if (api < 0 || p2p < 0 || abs(api - p2p) < e->n) return false;
    char *out;
    int rc = tp_run(&out, "%s testnet --validators %d --dir %s/net --api-port %d --p2p-port %d --chain-id %s",
                    e->o->bin, e->n, e->dir, api, p2p, e->chain_id);
    free(out);
    if (rc) return false;
    e->px = tproxy_start();
    for (int i = 0; i < e->n; i++) {
        struct node *nd = &e->nodes[i];
        nd->api = api + i;
        nd->p2p = p2p + i;
        snprintf(nd->url, sizeof nd->url, "http://127.0.0.1:%d", nd->api);
        snprintf(nd->home, sizeof nd->home, "%s/net/node%d", e->dir, i);
        char kp[700];
        snprintf(kp, sizeof kp, "%s/admin_key.json", nd->home);
        if (mc_keyfile_read(&e->admin[i], kp, NULL)) return false;
    }
    /* every peer address through its own proxy link (i -> j) */
    for (int i = 0; i < e->n; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/config.json", e->nodes[i].home);
        json_t *cfg = json_load_file(path, 0, NULL);
        if (!cfg) return false;
        size_t k;
        json_t *pe;
        json_array_foreach(json_object_get(cfg, "peers"), k, pe) {
            const char *addr = json_string_value(json_object_get(pe, "addr"));
            int port = atoi(strrchr(addr, ':') + 1);
            int j = port - p2p;
            if (j < 0 || j >= e->n) return false;
            e->links[i][j] = tproxy_link(e->px, (uint16_t)port);
            char na[64];
            snprintf(na, sizeof na, "127.0.0.1:%d", e->links[i][j]);
            json_object_set_new(pe, "addr", json_string(na));
        }
        if (json_dump_file(cfg, path, JSON_INDENT(2))) return false;
        json_decref(cfg);
    }
    for (int i = 0; i < e->n; i++)
        if (!node_spawn(e, i)) return false;
    return true;
}

/* After the perturbations: every node up and linked, and a new transaction
 * commits everywhere within RECOVERY_S. */
static void check_recovery(struct e2e *e) {
    if (e->fault) fault_end(e);
    heal_all(e);
    for (int i = 0; i < e->n; i++) {
        if (e->nodes[i].paused) {
            kill(e->nodes[i].pid, SIGCONT);
            e->nodes[i].paused = false;
        }
        if (e->nodes[i].offset_s) {
            node_kill9(e, i);
            e->nodes[i].offset_s = 0;
        }
        node_restart(e, i);
    }
    double deadline = now_s() + RECOVERY_S;
    int before = e->r->tx_committed;
    while (now_s() < deadline && e->r->tx_committed == before) op_tx(e);
    if (e->r->tx_committed == before) {
        violation(e, "no transaction committed within %d s after the perturbations stopped", RECOVERY_S);
        return;
    }
    const struct txrec *last = &e->txs[e->tx_count - 1];
    for (int i = 0; i < e->n; i++) {
        bool ok = false;
        while (!ok && now_s() < deadline + 10) {
            ok = height_of(e, i) >= last->height;
            if (!ok) tp_sleep_ms(100);
        }
        if (!ok) violation(e, "node %d did not catch up to height %llu after the perturbations", i,
                           (unsigned long long)last->height);
    }
}

static void check_ledgers(struct e2e *e) {
    uint64_t hmin = UINT64_MAX;
    for (int i = 0; i < e->n; i++) {
        uint64_t h = height_of(e, i);
        if (h < hmin) hmin = h;
    }
    e->r->final_height = hmin;
    /* one chain: the same block hash at every height on every node */
    for (uint64_t h = 1; h <= hmin && e->r->violations < 20; h++) {
        char ref[65] = "";
        for (int i = 0; i < e->n; i++) {
            char got[65];
            if (!block_hash(e, i, h, got)) {
                violation(e, "node %d has no block %llu", i, (unsigned long long)h);
                continue;
            }
            if (!ref[0]) memcpy(ref, got, 65);
            else if (strcmp(ref, got) != 0)
                violation(e, "nodes 0 and %d disagree at height %llu", i, (unsigned long long)h);
        }
        for (int k = 0; k < e->seen_count; k++)
            if (e->seen[k].height == h && ref[0] && strcmp(e->seen[k].hash, ref) != 0)
                violation(e, "block %llu changed after it was seen committed", (unsigned long long)h);
    }
    /* every transaction reported committed is committed everywhere */
    for (int t = 0; t < e->tx_count && e->r->violations < 20; t++)
        for (int i = 0; i < e->n; i++) {
            uint64_t h = 0;
            int st = tx_status(e, i, e->txs[t].id, &h);
            if (st != 1)
                violation(e, "transaction %.16s reported committed at height %llu is %s on node %d", e->txs[t].id,
                          (unsigned long long)e->txs[t].height, st == -1 ? "rejected" : "missing", i);
            else if (h != e->txs[t].height)
                violation(e, "transaction %.16s is at height %llu on node %d, reported at %llu", e->txs[t].id,
                          (unsigned long long)h, i, (unsigned long long)e->txs[t].height);
        }
    /* every served read is on the ledger: its access entry committed
     * everywhere, at one height */
    for (int t = 0; t < e->served_count && e->r->violations < 20; t++) {
        uint64_t h0 = 0;
        for (int i = 0; i < e->n; i++) {
            uint64_t h = 0;
            int st = tx_status(e, i, e->served[t], &h);
            if (st != 1)
                violation(e, "a served read's access entry %.16s is %s on node %d", e->served[t],
                          st == -1 ? "rejected" : "missing", i);
            else if (i == 0)
                h0 = h;
            else if (h != h0)
                violation(e, "access entry %.16s is at height %llu on node %d, %llu on node 0", e->served[t],
                          (unsigned long long)h, i, (unsigned long long)h0);
        }
    }
    /* nobody signed twice: no evidence recorded, none seen */
    for (int i = 0; i < e->n; i++) {
        json_t *j = get_json(e, i, "/v1/evidence");
        size_t n = j ? json_array_size(json_object_get(j, "evidence")) : 0;
        if (!j) violation(e, "node %d does not answer /v1/evidence", i);
        else if (n) violation(e, "node %d holds %zu evidence records of a double-sign", i, n);
        json_decref(j);
        char url[128];
        snprintf(url, sizeof url, "%s/metrics", e->nodes[i].url);
        struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
        const char *m = r.body ? strstr(r.body, "\nmedchain_evidence_total ") : NULL;
        if (m && atol(m + strlen("\nmedchain_evidence_total ")) != 0)
            violation(e, "node %d saw an equivocation: %s", i, m + 1);
        tp_resp_free(&r);
    }
}

int e2e_run(const struct e2e_options *o, struct e2e_report *r) {
    memset(r, 0, sizeof *r);
    struct e2e *e = calloc(1, sizeof *e);
    e->o = o;
    e->r = r;
    e->n = o->validators;
    e->rng = o->seed * 0x9E3779B97F4A7C15ULL + 1;
    e->rng_fault = o->seed * 0xD1B54A32D192ED03ULL + 7;
    e->txs = calloc(TX_MAX, sizeof *e->txs);
    e->seen = calloc(BLOCKS_SEEN_MAX, sizeof *e->seen);
    e->served = calloc(TX_MAX, sizeof *e->served);
    mc_crypto_init();
    int rc = 0;
    if (e->n < 4 || e->n > E2E_NODES_MAX || !cluster_create(e)) {
        snprintf(r->violation, sizeof r->violation, "cannot create the cluster in %s", e->dir);
        rc = -1;
        goto out;
    }
    if (!acl_setup(e)) {
        snprintf(r->violation, sizeof r->violation, "cannot set up the access-control client in %s", e->dir);
        rc = -1;
        goto out;
    }
    double end = now_s() + o->seconds;
    e->next_fault = now_s() + 1.0;
    while (now_s() < end) {
        double t = now_s();
        if (e->fault && t >= e->fault_end) fault_end(e);
        else if (!e->fault && t >= e->next_fault) fault_start(e);
        if ((int)(rnd(e) % 100) < (o->acl_percent ? o->acl_percent : 25)) op_acl(e);
        else op_tx(e);
    }
    check_recovery(e);
    check_ledgers(e);
    note(e, "proxy forwarding %d connections at the end", tproxy_pair_count(e->px));
    if (r->violations && o->verbose) tproxy_dump(e->px, stderr);
    if (r->violations)
        fprintf(stderr, "e2e: seed %llu failed (%d violations); cluster in %s\n"
                        "e2e: replay its schedule: make e2e E2E_SEEDS=%llu E2E_SECONDS=%d\n",
                (unsigned long long)o->seed, r->violations, e->dir, (unsigned long long)o->seed, o->seconds);
out:
    for (int i = 0; i < e->n; i++) {
        if (e->nodes[i].paused) kill(e->nodes[i].pid, SIGCONT);
        if (e->nodes[i].pid > 0) {
            kill(e->nodes[i].pid, SIGTERM);
            int status;
            waitpid(e->nodes[i].pid, &status, 0);
        }
    }
    if (e->px) tproxy_stop(e->px);
    if (e->dir[0] && (!o->keep_failed || (!rc && !r->violations))) {
        char *out;
        tp_run(&out, "rm -rf '%s'", e->dir);
        free(out);
    }
    free(e->txs);
    free(e->seen);
    free(e->served);
    free(e);
    return rc;
}
