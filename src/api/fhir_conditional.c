/* Conditional references of a transaction Bundle (see fhir_conditional.h). */
#include "api/fhir_conditional.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fhir.h"
#include "api/json_exact.h"
#include "app/records.h"

#define COND_PARAMS_MAX 4
#define COND_VALUE_MAX 256

struct cond {
    uint16_t type;
    size_t n;
    struct {
        bool is_id;
        bool has_system;
        char system[COND_VALUE_MAX];
        char value[COND_VALUE_MAX];
    } p[COND_PARAMS_MAX];
};

static int hexval(char c) {
    return isdigit((unsigned char)c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

/* Percent-decodes s[0..n) into out (size bytes); false when malformed. */
static bool decode(char *out, size_t size, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return false;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return false;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0 || o + 1 >= size) return false;
        out[o++] = c;
    }
    out[o] = 0;
    return true;
}

static int parse(struct cond *c, const char *ref, char *why, size_t why_size) {
    memset(c, 0, sizeof *c);
    const char *q = strchr(ref, '?');
    char type[48];
    size_t tn = (size_t)(q - ref);
    if (tn == 0 || tn >= sizeof type) goto bad;
    memcpy(type, ref, tn);
    type[tn] = 0;
    if (!(c->type = mc_records_type_from_name(type))) {
        snprintf(why, why_size, "conditional reference %.120s: type %s is not held here", ref, type);
        return MC_ERR_NOT_FOUND;
    }
    const char *p = q + 1;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq || c->n == COND_PARAMS_MAX) goto bad;
        size_t kn = (size_t)(eq - p);
        char val[COND_VALUE_MAX];
        if (!decode(val, sizeof val, eq + 1, n - kn - 1) || !val[0]) goto bad;
        if (kn == 10 && strncmp(p, "identifier", 10) == 0) {
            char *bar = strchr(val, '|');
            if (bar) {
                *bar = 0;
                c->p[c->n].has_system = true;
                snprintf(c->p[c->n].system, COND_VALUE_MAX, "%s", val);
                snprintf(c->p[c->n].value, COND_VALUE_MAX, "%s", bar + 1);
            } else {
                snprintf(c->p[c->n].value, COND_VALUE_MAX, "%s", val);
            }
            if (!c->p[c->n].value[0]) goto bad;
        } else if (kn == 3 && strncmp(p, "_id", 3) == 0) {
            c->p[c->n].is_id = true;
            snprintf(c->p[c->n].value, COND_VALUE_MAX, "%s", val);
        } else {
            snprintf(why, why_size, "conditional reference %.120s: only identifier= and _id= are supported", ref);
            return MC_ERR_MALFORMED;
        }
        c->n++;
        if (!amp) break;
        p = amp + 1;
    }
    if (c->n == 0) goto bad;
    return 0;
bad:
    snprintf(why, why_size, "conditional reference %.120s is malformed", ref);
    return MC_ERR_MALFORMED;
}

static bool matches(const struct cond *c, const json_t *res, const char *id) {
    for (size_t k = 0; k < c->n; k++) {
        if (c->p[k].is_id) {
            if (!id || strcmp(id, c->p[k].value)) return false;
            continue;
        }
        const json_t *ids = json_object_get(res, "identifier");
        bool any = false;
        for (size_t i = 0; !any && json_is_array(ids) && i < json_array_size(ids); i++) {
            const json_t *one = json_array_get(ids, i);
            const json_t *sys = json_object_get(one, "system"), *val = json_object_get(one, "value");
            if (!mc_json_exact_is_string(val) || strcmp(json_string_value(val), c->p[k].value)) continue;
            if (c->p[k].has_system) {
                bool has = mc_json_exact_is_string(sys);
                if (c->p[k].system[0] ? !has || strcmp(json_string_value(sys), c->p[k].system) : has) continue;
            }
            any = true;
        }
        if (!any) return false;
    }
    return true;
}

/* Collects the distinct conditional reference strings into set. */
static void collect(const json_t *v, json_t *set) {
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (strcmp(k, "reference") == 0 && mc_json_exact_is_string(x)) {
                const char *r = json_string_value(x);
                const char *q = strchr(r, '?');
                const char *slash = strchr(r, '/');
                /* Type?... : a '?' before any '/' or ':' (no URL, no urn) */
                const char *colon = strchr(r, ':');
                if (q && (!slash || slash > q) && (!colon || colon > q)) json_object_set_new(set, r, json_null());
            } else {
                collect(x, set);
            }
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) collect(json_array_get(v, i), set);
    }
}

int mc__fhir_conditional_resolve(struct mc__fhir_cond_entry *entries, size_t n, mc__fhir_cond_stored stored,
                                 void *ctx, size_t *resolved, const char **issue, char *why, size_t why_size) {
    *resolved = 0;
    *issue = "processing";
    why[0] = 0;
    json_t *set = json_object(), *cache = json_object();
    int rc = set && cache ? 0 : MC_ERR_NOMEM;
    for (size_t i = 0; i < n && !rc; i++) collect(entries[i].resource, set);
    const char *ref;
    json_t *unused;
    json_object_foreach(set, ref, unused) {
        if (rc) break;
        struct cond c;
        if ((rc = parse(&c, ref, why, why_size))) {
            *issue = rc == MC_ERR_NOT_FOUND ? "not-found" : "not-supported";
            break;
        }
        size_t found = 0;
        char to[64 + MC_RECORD_ID_MAX] = "";
        for (size_t i = 0; i < n; i++)
            if (entries[i].type == c.type && matches(&c, entries[i].resource, entries[i].id)) {
                if (!found++) snprintf(to, sizeof to, "%s/%s", mc_records_type_name(c.type), entries[i].id);
            }
        /* the Bundle's own entries first; the stored records only when
         * none of them matches */
        char key[8];
        snprintf(key, sizeof key, "%u", (unsigned)c.type);
        json_t *list = found ? NULL : json_object_get(cache, key);
        if (!found && !list) {
            int src = 0;
            list = stored(ctx, c.type, &src);
            if (!list) {
                rc = src ? src : MC_ERR_NOMEM;
                snprintf(why, why_size, "the node could not look up the stored %s records", mc_records_type_name(c.type));
                break;
            }
            json_object_set_new(cache, key, list);
        }
        for (size_t i = 0; i < json_array_size(list); i++) {
            const json_t *one = json_array_get(list, i);
            const char *id = json_string_value(json_object_get(one, "id"));
            if (id && matches(&c, json_object_get(one, "resource"), id))
                if (!found++) snprintf(to, sizeof to, "%s/%s", mc_records_type_name(c.type), id);
        }
        if (found != 1) {
            rc = found ? MC_ERR_EXISTS : MC_ERR_NOT_FOUND;
            *issue = found ? "multiple-matches" : "not-found";
            snprintf(why, why_size, "conditional reference %.160s matches %s", ref,
                     found ? "more than one resource" : "no resource in the Bundle or held for the patient");
            break;
        }
        for (size_t i = 0; i < n; i++) *resolved += mc_fhir_rewrite_refs(entries[i].resource, ref, to);
    }
    json_decref(set);
    json_decref(cache);
    return rc;
}
