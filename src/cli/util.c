/* Shared helpers of the `medchain` command: the one-line error, passphrases,
 * key files and whole-file reads. Secrets (passphrases, secret keys) live in
 * sodium_malloc'd memory and are wiped when freed. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "base/err.h"
#include "cli/client.h"
#include "crypto/keyfile.h"

int mc_cli_error(int code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One line, whatever the server or the library put in the message. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
    fprintf(stderr, "medchain: error: %s\n", msg);
    return code;
}

const char *mc_cli_detail(int rc) {
    const char *d = mc_err_detail();
    return d && d[0] ? d : mc_strerror(rc);
}

int mc_cli_passphrase_read(char **out, const char *file) {
    *out = NULL;
    const char *env = getenv("MEDCHAIN_PASSPHRASE");
    if (!file && !env) return MC_CLI_OK;
    char *p = sodium_malloc(MC_CLI_PASSPHRASE_MAX + 1);
    if (!p) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    if (file) {
        FILE *f = fopen(file, "rb");
        if (!f) {
            sodium_free(p);
            return mc_cli_error(MC_CLI_FAIL, "cannot read passphrase file %s: %s", file,
                                strerror(errno));
        }
        size_t n = fread(p, 1, MC_CLI_PASSPHRASE_MAX, f);
        bool longer = n == MC_CLI_PASSPHRASE_MAX && fgetc(f) != EOF;
        fclose(f);
        if (longer) {
            sodium_free(p);
            return mc_cli_error(MC_CLI_FAIL, "passphrase file %s is longer than %d bytes", file,
                                MC_CLI_PASSPHRASE_MAX);
        }
        p[n] = 0;
        /* The passphrase is the first line, without its line ending. */
        p[strcspn(p, "\r\n")] = 0;
    } else {
        size_t n = strlen(env);
        if (n > MC_CLI_PASSPHRASE_MAX) {
            sodium_free(p);
            return mc_cli_error(MC_CLI_FAIL, "MEDCHAIN_PASSPHRASE is longer than %d bytes",
                                MC_CLI_PASSPHRASE_MAX);
        }
        memcpy(p, env, n + 1);
    }
    if (p[0] == 0) {
        sodium_free(p);
        return mc_cli_error(MC_CLI_FAIL, "the passphrase is empty");
    }
    *out = p;
    return MC_CLI_OK;
}

void mc_cli_passphrase_free(char *p) {
    if (p) sodium_free(p); /* sodium_free wipes before releasing */
}

int mc_cli_key_load(struct mc_keypair **out, const char *path, const char *passphrase_file,
                    const char *what) {
    *out = NULL;
    char *pass = NULL;
    if (mc_cli_passphrase_read(&pass, passphrase_file)) return MC_CLI_FAIL;
    struct mc_keypair *kp = sodium_malloc(sizeof *kp);
    if (!kp) {
        mc_cli_passphrase_free(pass);
        return mc_cli_error(MC_CLI_FAIL, "out of memory");
    }
    mc_err_clear();
    int rc = mc_keyfile_read(kp, path, pass);
    mc_cli_passphrase_free(pass);
    if (rc) {
        sodium_free(kp);
        if (rc == MC_ERR_PASSPHRASE)
            return mc_cli_error(MC_CLI_FAIL, "cannot read %s key %s: %s (use --passphrase-file "
                                "or MEDCHAIN_PASSPHRASE)", what, path, mc_cli_detail(rc));
        return mc_cli_error(MC_CLI_FAIL, "cannot read %s key %s: %s", what, path,
                            mc_cli_detail(rc));
    }
    *out = kp;
    mc_cli_key_age_warn(path, what);
    return MC_CLI_OK;
}

void mc_cli_key_age_warn(const char *path, const char *what) {
    int64_t created;
    mc_err_clear();
    if (mc_keyfile_created(path, &created)) return; /* an older file: no date */
    int64_t max = MC_NODE_KEY_AGE_DAYS_DEFAULT;
    const char *env = getenv("MEDCHAIN_KEY_MAX_AGE_DAYS");
    uint64_t v;
    if (env && mc_cli_parse_u64(env, &v) && v >= 1 && v <= MC_NODE_KEY_AGE_DAYS_MAX) max = (int64_t)v;
    int64_t age = (int64_t)(time(NULL) / 86400) - created;
    if (age > max)
        fprintf(stderr, "medchain: warning: %s key %s was created %lld days ago, more than %lld "
                        "($MEDCHAIN_KEY_MAX_AGE_DAYS): rotate it\n",
                what, path, (long long)age, (long long)max);
}

void mc_cli_key_free(struct mc_keypair *kp) {
    if (kp) sodium_free(kp);
}

int mc_cli_file_read(uint8_t **out, size_t *len, const char *path, size_t max) {
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return mc_cli_error(MC_CLI_FAIL, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap > max) break;
            cap *= 2;
            uint8_t *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
        if (n > max) break;
    }
    bool read_error = ferror(f);
    fclose(f);
    if (!buf) return mc_cli_error(MC_CLI_FAIL, "out of memory reading %s", path);
    if (read_error) {
        free(buf);
        return mc_cli_error(MC_CLI_FAIL, "cannot read %s", path);
    }
    if (n > max) {
        free(buf);
        return mc_cli_error(MC_CLI_FAIL, "%s is larger than %zu bytes", path, max);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return MC_CLI_OK;
}

int mc_cli_parse(struct mc_cli_args *a, const char *words, const struct mc_cli_opt *spec,
                 size_t spec_count, int positional_max, int argc, char **argv) {
    char err[256];
    if (mc_cli_args_parse(a, spec, spec_count, positional_max, argc, argv, err, sizeof err))
        return mc_cli_error(MC_CLI_USAGE, "%s (see 'medchain %s --help')", err, words);
    if (a->help) {
        mc_cli_usage(words);
        return MC_CLI_HELP_SHOWN;
    }
    return 0;
}

int mc_cli_require(const struct mc_cli_args *a, const char *words, const char *name) {
    if (mc_cli_arg(a, name)) return 0;
    return mc_cli_error(MC_CLI_USAGE, "missing --%s (see 'medchain %s --help')", name, words);
}

int mc_cli_client_open(struct mc_client *c, const struct mc_cli_args *a) {
    const char *url = mc_cli_arg(a, "node");
    if (!url) url = getenv("MEDCHAIN_NODE");
    if (!url || !*url) url = MC_CLI_DEFAULT_NODE;
    mc_err_clear();
    int rc = mc_client_init(c, url);
    if (rc) {
        mc_client_deinit(c);
        return mc_cli_error(rc == MC_ERR_INVALID ? MC_CLI_USAGE : MC_CLI_FAIL, "%s",
                            mc_cli_detail(rc));
    }
    /* --cacert FILE (commands whose spec has it), else $MEDCHAIN_CACERT. */
    const char *ca = NULL;
    for (size_t i = 0; i < a->spec_count; i++)
        if (strcmp(a->spec[i].name, "cacert") == 0) ca = a->value[i];
    if (!ca) ca = getenv("MEDCHAIN_CACERT");
    if (ca && *ca) {
        mc_err_clear();
        rc = mc_client_set_cacert(c, ca);
        if (rc) {
            mc_client_deinit(c);
            return mc_cli_error(MC_CLI_FAIL, "%s", mc_cli_detail(rc));
        }
    }
    return MC_CLI_OK;
}

int mc_cli_api_error(int rc, const char *context) {
    if (rc == MC_ERR_IO) return mc_cli_error(MC_CLI_FAIL, "%s", mc_cli_detail(rc));
    return mc_cli_error(MC_CLI_FAIL, "%s: %s", context, mc_cli_detail(rc));
}
