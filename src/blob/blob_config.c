/* Which blob store a node uses: the "blob_store" object of its
 * config.json (see blob.h, docs/BLOBS.md).
 *
 *   "blob_store": {"backend": "sqlite"}                       (the default)
 *   "blob_store": {"backend": "s3",
 *                  "endpoint": "https://rgw.example.org:7480",
 *                  "region": "us-east-1", "bucket": "medchain-node1",
 *                  "prefix": "blobs/",                           optional
 *                  "credentials": "s3-credentials.json",         from home
 *                  "ca_file": "rgw-ca.pem",                      optional
 *                  "tls_verify": true,                           default
 *                  "connect_timeout_ms": 2000, "timeout_ms": 10000,
 *                  "retries": 2}
 *
 * The credentials file holds {"access_key": "...", "secret_key": "..."}
 * and must be a regular file owned by the node's user and readable by no
 * one else (mode 0600 or 0400): anything else is refused. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/backend.h"
#include "blob/s3.h"

#define CRED_FILE_MAX 4096

static int rel_path(char *out, size_t cap, const char *home, const char *p) {
    int n = p[0] == '/' ? snprintf(out, cap, "%s", p) : snprintf(out, cap, "%s/%s", home, p);
    if (n < 0 || (size_t)n >= cap) return mc_err_set(MC_ERR_INVALID, "config.json: blob_store path too long");
    return 0;
}

static int copy_str(char *dst, size_t cap, json_t *o, const char *name, const char *dflt, bool required) {
    json_t *v = json_object_get(o, name);
    if (!v) {
        if (required) return mc_err_set(MC_ERR_INVALID, "config.json: blob_store needs \"%s\"", name);
        snprintf(dst, cap, "%s", dflt);
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s || strlen(s) >= cap)
        return mc_err_set(MC_ERR_INVALID, "config.json: blob_store \"%s\" must be a string of at most %zu bytes",
                          name, cap - 1);
    snprintf(dst, cap, "%s", s);
    return 0;
}

static int copy_u32(uint32_t *dst, json_t *o, const char *name, uint32_t dflt, uint32_t min, uint32_t max) {
    json_t *v = json_object_get(o, name);
    if (!v) {
        *dst = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return mc_err_set(MC_ERR_INVALID, "config.json: blob_store \"%s\" must be an integer %u..%u", name, min, max);
    *dst = (uint32_t)json_integer_value(v);
    return 0;
}

/* Reads the credentials, refusing a file others could read. */
static int read_credentials(struct mc_s3_config *c, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return mc_err_set(MC_ERR_INVALID, "cannot open the S3 credentials %s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = mc_err_set(MC_ERR_INVALID, "the S3 credentials %s are not a regular file", path);
    } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        rc = mc_err_set(MC_ERR_INVALID, "the S3 credentials %s are readable by others (mode %03o): "
                                        "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
    } else if (st.st_uid != geteuid()) {
        rc = mc_err_set(MC_ERR_INVALID, "the S3 credentials %s belong to another user", path);
    } else if (st.st_size > CRED_FILE_MAX) {
        rc = mc_err_set(MC_ERR_INVALID, "the S3 credentials %s exceed %d bytes", path, CRED_FILE_MAX);
    }
    char buf[CRED_FILE_MAX + 1];
    ssize_t n = 0;
    if (!rc) {
        n = read(fd, buf, CRED_FILE_MAX);
        if (n < 0) rc = mc_err_set(MC_ERR_INVALID, "cannot read %s", path);
    }
    close(fd);
    if (rc) return rc;
    json_error_t je;
    json_t *j = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    sodium_memzero(buf, sizeof buf);
    if (!j) return mc_err_set(MC_ERR_INVALID, "the S3 credentials %s are not JSON", path);
    rc = copy_str(c->access_key, sizeof c->access_key, j, "access_key", "", true);
    if (!rc) rc = copy_str(c->secret_key, sizeof c->secret_key, j, "secret_key", "", true);
    json_t *sk = json_object_get(j, "secret_key");
    if (json_is_string(sk)) sodium_memzero((void *)json_string_value(sk), strlen(json_string_value(sk)));
    json_decref(j);
    if (rc) return mc_err_set(rc, "the S3 credentials %s need \"access_key\" and \"secret_key\" strings", path);
    return 0;
}

int mc_blob_open_home(struct mc_blob_store **out, const char *home, const char *db_path) {
    *out = NULL;
    char p[PATH_MAX];
    int rc = rel_path(p, sizeof p, home, "config.json");
    if (rc) return rc;
    json_error_t je;
    json_t *cfg = json_load_file(p, JSON_REJECT_DUPLICATES, &je);
    json_t *bsj = cfg ? json_object_get(cfg, "blob_store") : NULL;
    const char *backend = bsj ? json_string_value(json_object_get(bsj, "backend")) : NULL;
    if (bsj && (!json_is_object(bsj) || !backend)) {
        json_decref(cfg);
        return mc_err_set(MC_ERR_INVALID, "config.json: \"blob_store\" is an object with a \"backend\" "
                                          "(\"sqlite\" or \"s3\")");
    }
    if (!backend || strcmp(backend, "sqlite") == 0) {
        json_decref(cfg);
        return mc_blob_open(out, db_path);
    }
    if (strcmp(backend, "s3") != 0) {
        /* the message before the document that holds backend goes */
        rc = mc_err_set(MC_ERR_INVALID, "config.json: blob_store backend \"%.32s\" is not sqlite or s3", backend);
        json_decref(cfg);
        return rc;
    }
    struct mc_s3_config *c = sodium_malloc(sizeof *c);
    if (!c) {
        json_decref(cfg);
        return MC_ERR_NOMEM;
    }
    memset(c, 0, sizeof *c);
    char prefix[MC_S3_KEY_MAX + 1], cred[PATH_MAX], cred_rel[PATH_MAX], ca_rel[PATH_MAX];
    rc = copy_str(c->endpoint, sizeof c->endpoint, bsj, "endpoint", "", true);
    if (!rc) rc = copy_str(c->region, sizeof c->region, bsj, "region", "us-east-1", false);
    if (!rc) rc = copy_str(c->bucket, sizeof c->bucket, bsj, "bucket", "", true);
    if (!rc) rc = copy_str(prefix, sizeof prefix, bsj, "prefix", "", false);
    if (!rc) rc = copy_str(cred_rel, sizeof cred_rel, bsj, "credentials", "", true);
    if (!rc) rc = copy_str(ca_rel, sizeof ca_rel, bsj, "ca_file", "", false);
    if (!rc) rc = copy_u32(&c->connect_timeout_ms, bsj, "connect_timeout_ms", 2000, 1, MC_S3_TIMEOUT_MS_MAX);
    if (!rc) rc = copy_u32(&c->timeout_ms, bsj, "timeout_ms", 10000, 1, MC_S3_TIMEOUT_MS_MAX);
    if (!rc) rc = copy_u32(&c->retries, bsj, "retries", 2, 0, MC_S3_RETRIES_MAX);
    json_t *tv = json_object_get(bsj, "tls_verify");
    if (!rc && tv && !json_is_boolean(tv))
        rc = mc_err_set(MC_ERR_INVALID, "config.json: blob_store \"tls_verify\" is true or false");
    c->tls_verify = tv ? json_is_true(tv) : true;
    for (const char *q = prefix; !rc && *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '/' || *q == '-' || *q == '_' ||
              *q == '.'))
            rc = mc_err_set(MC_ERR_INVALID, "config.json: blob_store \"prefix\" is a-z, 0-9, '/', '-', '_', '.'");
    if (!rc && ca_rel[0]) rc = rel_path(c->ca_file, sizeof c->ca_file, home, ca_rel);
    if (!rc) rc = rel_path(cred, sizeof cred, home, cred_rel);
    if (!rc) rc = read_credentials(c, cred);
    json_decref(cfg);
    if (!rc) rc = mc_blob_open_s3(out, db_path, c, prefix);
    sodium_free(c); /* wipes the secret */
    return rc;
}
