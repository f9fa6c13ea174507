/* Throwaway RADOS Gateway for tests (see rgw.h). */
#include "rgw.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "testutil.h"

static const char *script(void) {
    const char *root = getenv("MEDCHAIN_ROOT");
    static char p[1024];
    snprintf(p, sizeof p, "%s/scripts/rgw.sh", root ? root : ".");
    return p;
}

void tp_rgw_start(struct tp_rgw *r) {
    /* A free port can be taken before radosgw binds it: a few tries, each
     * on a fresh folder and port. */
    char *out = NULL;
    int rc = -1;
    for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
        memset(r, 0, sizeof r[0]);
        snprintf(r->dir, sizeof r->dir, "%s", tu_path(tu_tmpdir("rgw"), "ceph"));
        r->port = tp_free_port();
        snprintf(r->endpoint, sizeof r->endpoint, "http://127.0.0.1:%d", r->port);
        free(out);
        /* the script's watchdog stops the daemons when this process ends,
         * also when an assertion or the timeout ends the test first */
        rc = tp_run(&out, "bash %s start %s %d %s %s %ld 2>&1", script(), r->dir, r->port, TP_RGW_ACCESS,
                    TP_RGW_SECRET, (long)getpid());
        if (rc != 0) {
            char *o2;
            (void)tp_run(&o2, "bash %s stop %s 2>&1", script(), r->dir);
            free(o2);
        }
    }
    cr_assert_eq(rc, 0, "rgw.sh start: %s", out);
    free(out);
}

void tp_rgw_stop(struct tp_rgw *r) {
    if (!r->dir[0]) return;
    char *out;
    (void)tp_run(&out, "bash %s stop %s 2>&1", script(), r->dir);
    free(out);
    r->dir[0] = 0;
}

void tp_rgw_gateway_stop(struct tp_rgw *r) {
    char *out;
    int rc = tp_run(&out, "bash %s stop-gateway %s 2>&1", script(), r->dir);
    cr_assert_eq(rc, 0, "rgw.sh stop-gateway: %s", out);
    free(out);
}

void tp_rgw_gateway_start(struct tp_rgw *r) {
    char *out;
    int rc = tp_run(&out, "bash %s start-gateway %s 2>&1", script(), r->dir);
    cr_assert_eq(rc, 0, "rgw.sh start-gateway: %s", out);
    free(out);
}

void tp_rgw_gateway_pause(struct tp_rgw *r, bool paused) {
    char *out;
    int rc = tp_run(&out, "bash %s %s-gateway %s 2>&1", script(), paused ? "pause" : "resume", r->dir);
    cr_assert_eq(rc, 0, "rgw.sh pause/resume: %s", out);
    free(out);
}

void tp_rgw_config(const struct tp_rgw *r, struct mc_s3_config *c, const char *bucket) {
    memset(c, 0, sizeof *c);
    snprintf(c->endpoint, sizeof c->endpoint, "%s", r->endpoint);
    snprintf(c->region, sizeof c->region, "us-east-1");
    snprintf(c->bucket, sizeof c->bucket, "%s", bucket);
    snprintf(c->access_key, sizeof c->access_key, "%s", TP_RGW_ACCESS);
    snprintf(c->secret_key, sizeof c->secret_key, "%s", TP_RGW_SECRET);
    c->tls_verify = true;
    c->connect_timeout_ms = 1000;
    c->timeout_ms = 5000;
    c->retries = 1;
}

void tp_rgw_configure_node(const struct tp_rgw *r, const char *home, const char *bucket) {
    char *cred = tu_path(home, "s3-credentials.json");
    FILE *f = fopen(cred, "w");
    cr_assert_not_null(f);
    fprintf(f, "{\"access_key\": \"%s\", \"secret_key\": \"%s\"}\n", TP_RGW_ACCESS, TP_RGW_SECRET);
    fclose(f);
    cr_assert_eq(chmod(cred, 0600), 0);
    char *cfgp = tu_path(home, "config.json");
    json_t *cfg = json_load_file(cfgp, 0, NULL);
    if (!cfg) cfg = json_object();
    json_object_set_new(cfg, "blob_store",
                        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "backend", "s3", "endpoint",
                                  r->endpoint, "region", "us-east-1", "bucket", bucket, "credentials",
                                  "s3-credentials.json", "connect_timeout_ms", 1000, "timeout_ms", 5000,
                                  "retries", 1));
    cr_assert_eq(json_dump_file(cfg, cfgp, JSON_INDENT(2)), 0);
    json_decref(cfg);
}
