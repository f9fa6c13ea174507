/* The audit syslog exporter's thread (see auditexport.h). */
#include "node/auditexport.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/txtypes.h"
#include "base/limits.h"
#include "base/log.h"
#include "chain/block.h"
#include "chain/store.h"
#include "chain/tx.h"
#include "node/balp.h"
#include "node/syslog.h"
#include "node/tls_client.h"

struct mc_auditexport {
    char home[PATH_MAX];
    char db[PATH_MAX], cursor_path[PATH_MAX];
    char host[256], server_name[256], hostname[MC_SYSLOG_HOSTNAME_MAX + 1];
    char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
    uint16_t port;
    uint32_t retry_min_ms, retry_max_ms, timeout_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    struct mc_auditexport_status st; /* under lock */
};

static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- configuration --- */

static int path_in_home(char *out, size_t cap, const char *home, const char *p) {
    int n = p[0] == '/' ? snprintf(out, cap, "%s", p) : snprintf(out, cap, "%s/%s", home, p);
    if (n < 0 || (size_t)n >= cap) return mc_err_set(MC_ERR_INVALID, "config.json: a path in \"audit_syslog\" is too long");
    return 0;
}

static bool printable_token(const char *s) {
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e) return false;
    return true;
}

static int str_field(json_t *o, const char *name, char *out, size_t cap, bool required) {
    json_t *v = json_object_get(o, name);
    if (!v) {
        if (required) return mc_err_set(MC_ERR_INVALID, "config.json: \"audit_syslog\" needs \"%s\"", name);
        out[0] = 0;
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s || !s[0] || strlen(s) >= cap)
        return mc_err_set(MC_ERR_INVALID, "config.json: \"audit_syslog\".\"%s\" is a string of 1-%zu bytes", name, cap - 1);
    snprintf(out, cap, "%s", s);
    return 0;
}

static int u32_field(json_t *o, const char *name, uint32_t *out, uint32_t def, uint32_t lo, uint32_t hi) {
    json_t *v = json_object_get(o, name);
    *out = def;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return mc_err_set(MC_ERR_INVALID, "config.json: \"audit_syslog\".\"%s\" is an integer in %u..%u", name, lo, hi);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

static int load_config(struct mc_auditexport *x, json_t *c) {
    if (!json_is_object(c)) return mc_err_set(MC_ERR_INVALID, "config.json: \"audit_syslog\" is an object");
    char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
    uint32_t port;
    int rc = str_field(c, "host", x->host, sizeof x->host, true);
    if (!rc) rc = u32_field(c, "port", &port, 6514, 1, 65535);
    if (!rc) rc = str_field(c, "ca_file", ca, sizeof ca, true);
    if (!rc) rc = str_field(c, "cert_file", cert, sizeof cert, false);
    if (!rc) rc = str_field(c, "key_file", key, sizeof key, false);
    if (!rc) rc = str_field(c, "server_name", x->server_name, sizeof x->server_name, false);
    if (!rc) rc = str_field(c, "hostname", x->hostname, sizeof x->hostname, false);
    if (!rc) rc = u32_field(c, "retry_min_ms", &x->retry_min_ms, 500, 10, 3600000);
    if (!rc) rc = u32_field(c, "retry_max_ms", &x->retry_max_ms, 60000, 10, 86400000);
    if (!rc) rc = u32_field(c, "timeout_ms", &x->timeout_ms, 10000, 100, 600000);
    if (rc) return rc;
    if (x->retry_max_ms < x->retry_min_ms) return mc_err_set(MC_ERR_INVALID, "config.json: \"audit_syslog\": retry_max_ms < retry_min_ms");
    if ((cert[0] != 0) != (key[0] != 0))
        return mc_err_set(MC_ERR_INVALID, "config.json: \"audit_syslog\": cert_file and key_file go together");
    x->port = (uint16_t)port;
    rc = path_in_home(x->ca, sizeof x->ca, x->home, ca);
    if (!rc && cert[0]) rc = path_in_home(x->cert, sizeof x->cert, x->home, cert);
    if (!rc && key[0]) rc = path_in_home(x->key, sizeof x->key, x->home, key);
    if (rc) return rc;
    if (access(x->ca, R_OK) != 0) return mc_err_set(MC_ERR_INVALID, "config.json: \"audit_syslog\": cannot read %s", x->ca);
    if (!x->hostname[0]) {
        if (gethostname(x->hostname, sizeof x->hostname) != 0) snprintf(x->hostname, sizeof x->hostname, "-");
        x->hostname[sizeof x->hostname - 1] = 0;
    }
    if (!printable_token(x->hostname))
        return mc_err_set(MC_ERR_INVALID, "config.json: \"audit_syslog\".\"hostname\" is printable ASCII without spaces");
    return 0;
}

/* --- the cursor file --- */

static int cursor_read(const char *path, uint64_t *h, uint32_t *i) {
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? MC_ERR_NOT_FOUND : mc_err_set(MC_ERR_IO, "cannot read %s", path);
    unsigned long long hh;
    unsigned ii;
    char extra;
    int n = fscanf(f, "medchain-audit-cursor 1 height %llu index %u %c", &hh, &ii, &extra);
    fclose(f);
    if (n != 2 || hh == 0) return mc_err_set(MC_ERR_MALFORMED, "%s is not a cursor file", path);
    *h = hh;
    *i = ii;
    return 0;
}

static int cursor_write(const char *path, uint64_t h, uint32_t i) {
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return mc_err_set(MC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    char line[96];
    int n = snprintf(line, sizeof line, "medchain-audit-cursor 1 height %llu index %u\n", (unsigned long long)h, i);
    bool ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) return mc_err_set(MC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    /* the rename itself reaches the disk with its folder */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        int s = fsync(dfd);
        close(dfd);
        if (s != 0) return mc_err_set(MC_ERR_IO, "cannot sync %s", dir);
    }
    return 0;
}

/* --- the thread --- */

static void set_error(struct mc_auditexport *x, const char *what) {
    pthread_mutex_lock(&x->lock);
    snprintf(x->st.last_error, sizeof x->st.last_error, "%s", what);
    x->st.last_error_ms = wall_ms();
    x->st.failures++;
    x->st.delivering = false;
    pthread_mutex_unlock(&x->lock);
}

/* Sleeps ms or until stopped; true when stopped. */
static bool nap(struct mc_auditexport *x, uint32_t ms) {
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

struct batch {
    struct mc_buf frames;
    uint32_t count;
    uint64_t h;      /* position after the batch */
    uint32_t i;
    uint64_t skipped;
};

/* Collects the next batch from (h, i) on, up to the store's height. */
static int collect(struct mc_auditexport *x, struct mc_store *s, uint64_t top, struct batch *b) {
    struct mc_buf raw;
    mc_buf_init(&raw, MC_TX_MAX);
    struct mc_balp_access *a = malloc(sizeof *a);
    int rc = a ? 0 : MC_ERR_NOMEM;
    uint32_t blocks = 0;
    while (!rc && b->h <= top && b->count < MC_AUDIT_BATCH_MAX && blocks < MC_AUDIT_BLOCKS_PER_PASS) {
        struct mc_header hd;
        rc = mc_store_get_header(s, b->h, &hd, NULL);
        if (rc) break;
        while (!rc && b->i < hd.tx_count && b->count < MC_AUDIT_BATCH_MAX) {
            mc_buf_reset(&raw);
            mc_hash id;
            int g = mc_store_get_tx(s, b->h, b->i, &raw, &id, NULL);
            if (g == MC_ERR_NOT_FOUND) {
                /* pruned (keep_blocks) before it was exported: whether it
                 * was an access entry cannot be known any more */
                b->skipped++;
            } else if (g) {
                rc = g;
                break;
            } else {
                struct mc_tx tx;
                if (mc_tx_decode(&tx, raw.data, raw.len) == 0 && tx.type == MC_TX_RECORD_ACCESS &&
                    mc_balp_from_tx(a, &tx, &id, b->h, hd.time_ms) == 0) {
                    rc = mc_syslog_frame(&b->frames, a, b->h, b->i, x->hostname);
                    if (rc) break;
                    b->count++;
                }
            }
            b->i++;
        }
        if (!rc && b->i >= hd.tx_count) {
            b->h++;
            b->i = 0;
            blocks++;
        }
    }
    free(a);
    mc_buf_deinit(&raw);
    return rc;
}

static int send_batch(struct mc_auditexport *x, const struct batch *b) {
    struct mc_tls_client_config cfg = {.host = x->host, .port = x->port,
                                       .server_name = x->server_name[0] ? x->server_name : NULL,
                                       .ca_file = x->ca, .cert_file = x->cert[0] ? x->cert : NULL,
                                       .key_file = x->key[0] ? x->key : NULL, .timeout_ms = x->timeout_ms};
    struct mc_tls_client *c;
    int rc = mc_tls_client_open(&c, &cfg);
    if (rc) return rc;
    rc = mc_tls_client_write(c, b->frames.data, b->frames.len);
    if (!rc) rc = mc_tls_client_finish(c);
    mc_tls_client_close(c);
    return rc;
}

static void *run(void *arg) {
    struct mc_auditexport *x = arg;
    struct mc_store *s = NULL;
    uint64_t h = 1;
    uint32_t i = 0;
    int crc = cursor_read(x->cursor_path, &h, &i);
    if (crc == MC_ERR_MALFORMED || (crc && crc != MC_ERR_NOT_FOUND)) {
        /* no gap: start again from the first block (duplicates are detectable) */
        mc_log_error("audit", "%s; exporting again from height 1", mc_err_detail());
        h = 1, i = 0;
    }
    uint64_t persisted_h = h;
    uint32_t persisted_i = i;
    uint64_t last_persist = 0;
    uint32_t backoff = x->retry_min_ms;
    for (;;) {
        pthread_mutex_lock(&x->lock);
        bool stop = x->stop;
        x->st.next_height = h;
        x->st.next_index = i;
        pthread_mutex_unlock(&x->lock);
        if (stop) break;
        if (!s && mc_store_open(&s, x->db, true)) {
            set_error(x, mc_err_detail());
            s = NULL;
            if (nap(x, backoff)) break;
            continue;
        }
        uint64_t top = 0;
        if (mc_store_height(s, &top)) {
            set_error(x, mc_err_detail());
            mc_store_close(s);
            s = NULL;
            if (nap(x, backoff)) break;
            continue;
        }
        pthread_mutex_lock(&x->lock);
        x->st.chain_height = top;
        x->st.lag_blocks = top + 1 > h ? top + 1 - h : 0;
        pthread_mutex_unlock(&x->lock);
        struct batch b = {.h = h, .i = i};
        mc_buf_init(&b.frames, 0);
        int rc = collect(x, s, top, &b);
        if (rc) {
            char why[300];
            snprintf(why, sizeof why, "reading height %llu: %s", (unsigned long long)b.h, mc_err_detail());
            set_error(x, why);
            mc_buf_deinit(&b.frames);
            mc_store_close(s);
            s = NULL;
            if (nap(x, backoff)) break;
            continue;
        }
        if (b.skipped) {
            mc_log_error("audit", "%llu transactions below height %llu were pruned before export",
                         (unsigned long long)b.skipped, (unsigned long long)b.h);
            pthread_mutex_lock(&x->lock);
            x->st.skipped_pruned += b.skipped;
            pthread_mutex_unlock(&x->lock);
        }
        if (b.count) {
            rc = send_batch(x, &b);
            if (!rc) rc = cursor_write(x->cursor_path, b.h, b.i);
            mc_buf_deinit(&b.frames);
            if (rc) {
                mc_log_warn("audit", "batch of %u messages from height %llu not delivered: %s (retry in %u ms)",
                            b.count, (unsigned long long)h, mc_err_detail(), backoff);
                set_error(x, mc_err_detail());
                if (nap(x, backoff)) break;
                backoff = backoff > x->retry_max_ms / 2 ? x->retry_max_ms : backoff * 2;
                continue;
            }
            backoff = x->retry_min_ms;
            h = b.h, i = b.i;
            persisted_h = h, persisted_i = i;
            last_persist = wall_ms();
            pthread_mutex_lock(&x->lock);
            x->st.exported += b.count;
            x->st.batches++;
            x->st.delivering = true;
            x->st.last_ok_ms = last_persist;
            pthread_mutex_unlock(&x->lock);
            continue; /* more may be waiting */
        }
        mc_buf_deinit(&b.frames);
        h = b.h, i = b.i;
        /* blocks without access entries: the cursor moves on disk at most
         * once a second (a restart looks through them again, harmlessly) */
        if ((h != persisted_h || i != persisted_i) && wall_ms() - last_persist >= 1000) {
            if (cursor_write(x->cursor_path, h, i) == 0) persisted_h = h, persisted_i = i;
            else set_error(x, mc_err_detail());
            last_persist = wall_ms();
        }
        if (h <= top) continue; /* a pass ended at its block bound */
        if (nap(x, 100)) break;
    }
    if (h != persisted_h || i != persisted_i) (void)cursor_write(x->cursor_path, h, i);
    mc_store_close(s);
    return NULL;
}

int mc_auditexport_start(struct mc_auditexport **out, const char *home) {
    *out = NULL;
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/config.json", home) >= (int)sizeof p) return mc_err_set(MC_ERR_INVALID, "home path too long");
    json_t *cfg = json_load_file(p, JSON_REJECT_DUPLICATES, NULL);
    json_t *c = cfg ? json_object_get(cfg, "audit_syslog") : NULL;
    if (!c || json_is_null(c)) {
        json_decref(cfg);
        return 0;
    }
    struct mc_auditexport *x = calloc(1, sizeof *x);
    if (!x) {
        json_decref(cfg);
        return MC_ERR_NOMEM;
    }
    snprintf(x->home, sizeof x->home, "%s", home);
    int rc = load_config(x, c);
    json_decref(cfg);
    if (!rc && (snprintf(x->db, sizeof x->db, "%s/data/chain.db", home) >= (int)sizeof x->db ||
                snprintf(x->cursor_path, sizeof x->cursor_path, "%s/data/audit_cursor", home) >= (int)sizeof x->cursor_path))
        rc = mc_err_set(MC_ERR_INVALID, "home path too long");
    if (rc) {
        free(x);
        return rc;
    }
    pthread_mutex_init(&x->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&x->cond, &ca);
    pthread_condattr_destroy(&ca);
    x->st.enabled = true;
    x->st.next_height = 1;
    if (pthread_create(&x->thread, NULL, run, x) != 0) {
        pthread_cond_destroy(&x->cond);
        pthread_mutex_destroy(&x->lock);
        free(x);
        return mc_err_set(MC_ERR_IO, "cannot start the audit exporter thread");
    }
    mc_log_info("audit", "exporting the access log to %s:%u (syslog over TLS)", x->host, (unsigned)x->port);
    *out = x;
    return 0;
}

void mc_auditexport_stop(struct mc_auditexport *x) {
    if (!x) return;
    pthread_mutex_lock(&x->lock);
    x->stop = true;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->lock);
    pthread_join(x->thread, NULL);
    pthread_cond_destroy(&x->cond);
    pthread_mutex_destroy(&x->lock);
    free(x);
}

void mc_auditexport_status(struct mc_auditexport *x, struct mc_auditexport_status *out) {
    memset(out, 0, sizeof *out);
    if (!x) return;
    pthread_mutex_lock(&x->lock);
    *out = x->st;
    pthread_mutex_unlock(&x->lock);
}
