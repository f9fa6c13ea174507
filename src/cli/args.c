/* Table-driven option parsing for the `medchain` commands (see cli.h).
 *
 * Pure: no I/O, no allocation, so tests/cli exercises it directly. */
#include "cli/cli.h"

#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find_opt(const struct mc_cli_opt *spec, size_t count, const char *name, size_t len) {
    for (size_t i = 0; i < count; i++)
        if (strlen(spec[i].name) == len && memcmp(spec[i].name, name, len) == 0) return (int)i;
    return -1;
}

int mc_cli_args_parse(struct mc_cli_args *a, const struct mc_cli_opt *spec, size_t spec_count,
                      int positional_max, int argc, char **argv, char *err, size_t err_size) {
    MC_ASSERT(spec_count <= MC_CLI_OPTS_MAX); /* a command table bug */
    memset(a, 0, sizeof *a);
    a->spec = spec;
    a->spec_count = spec_count;
    if (err_size) err[0] = 0;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (options_done || s[0] != '-' || s[1] == 0) {
            if (a->positional_count >= positional_max || a->positional_count >= MC_CLI_POSITIONAL_MAX) {
                snprintf(err, err_size, "unexpected argument '%s'", s);
                return MC_CLI_USAGE;
            }
            a->positional[a->positional_count++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            options_done = true;
            continue;
        }
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            a->help = true;
            continue;
        }
        if (s[1] != '-') {
            snprintf(err, err_size, "unknown option '%s'", s);
            return MC_CLI_USAGE;
        }
        const char *name = s + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        int k = find_opt(spec, spec_count, name, name_len);
        if (k < 0) {
            snprintf(err, err_size, "unknown option '--%.*s'", (int)name_len, name);
            return MC_CLI_USAGE;
        }
        if (a->present[k]) {
            snprintf(err, err_size, "option '--%s' given twice", spec[k].name);
            return MC_CLI_USAGE;
        }
        a->present[k] = true;
        if (!spec[k].takes_value) {
            if (eq) {
                snprintf(err, err_size, "option '--%s' takes no value", spec[k].name);
                return MC_CLI_USAGE;
            }
            continue;
        }
        if (eq) {
            a->value[k] = eq + 1;
        } else {
            if (i + 1 >= argc) {
                snprintf(err, err_size, "option '--%s' needs a value", spec[k].name);
                return MC_CLI_USAGE;
            }
            a->value[k] = argv[++i];
        }
    }
    return MC_CLI_OK;
}

static int lookup(const struct mc_cli_args *a, const char *name) {
    int k = find_opt(a->spec, a->spec_count, name, strlen(name));
    if (k < 0) {
        fprintf(stderr, "medchain: bug: option '--%s' is not in the command's table\n", name);
        MC_ASSERT(k >= 0);
    }
    return k;
}

const char *mc_cli_arg(const struct mc_cli_args *a, const char *name) {
    return a->value[lookup(a, name)];
}

bool mc_cli_flag(const struct mc_cli_args *a, const char *name) {
    return a->present[lookup(a, name)];
}

bool mc_cli_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}
