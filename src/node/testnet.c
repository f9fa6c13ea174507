/* Testnet generation (layout in testnet.h). */
#include "node/testnet.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/genesis.h"
#include "app/gs1.h"
#include "base/hex.h"
#include "crypto/keyfile.h"

static const struct { const char *name, *kind; } validator_orgs[] = {
    {"St Mary's Hospital", "hospital"},
    {"City General Hospital", "hospital"},
    {"Acme Pharmaceuticals", "manufacturer"},
    {"National Medicines Agency", "regulator"},
};
static const struct { const char *name, *kind, *node; } member_orgs[] = {
    {"Corner Pharmacy", "pharmacy", "pharmacy"},
    {"Institute for Clinical Research", "research", "research"},
    {"MedDistrib Wholesale", "distributor", "distributor"},
};

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wx");
    if (!f) return mc_err_set(errno == EEXIST ? MC_ERR_EXISTS : MC_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n && fflush(f) == 0;
    fclose(f);
    return ok ? 0 : mc_err_set(MC_ERR_IO, "cannot write %s", path);
}

/* A 13-digit GLN with a valid check digit from a company prefix and index. */
static void make_gln(char out[14], uint32_t index) {
    snprintf(out, 14, "541234500%03u", index % 1000);
    int cd = mc_gs1_check_digit_compute(out, 12);
    out[12] = (char)('0' + (cd < 0 ? 0 : cd));
    out[13] = 0;
}

int mc_testnet_create(const struct mc_testnet_options *opt, struct mc_testnet *out) {
    memset(out, 0, sizeof *out);
    if (opt->validators < 1 || opt->validators > 16)
        return mc_err_set(MC_ERR_INVALID, "--validators must be 1 to 16");
    const char *host = opt->host ? opt->host : "127.0.0.1";
    uint16_t api0 = opt->api_port ? opt->api_port : 7700, p2p0 = opt->p2p_port ? opt->p2p_port : 26600;
    uint32_t members = opt->members ? 3 : 0;
    uint32_t total = opt->validators + members;
    if (mkdir(opt->dir, 0700) != 0 && errno != EEXIST)
        return mc_err_set(MC_ERR_IO, "cannot create %s: %s", opt->dir, strerror(errno));
    char path[1024];
    snprintf(path, sizeof path, "%s/genesis.json", opt->dir);
    struct stat sb;
    if (stat(path, &sb) == 0) return mc_err_set(MC_ERR_EXISTS, "%s already holds a testnet", opt->dir);

    struct mc_keypair *admins = calloc(total, sizeof *admins), *nodes = calloc(total, sizeof *nodes);
    struct mc_genesis *g = calloc(1, sizeof *g);
    if (!admins || !nodes || !g) {
        free(admins); free(nodes); free(g);
        return MC_ERR_NOMEM;
    }
    snprintf(g->chain_id, sizeof g->chain_id, "%s", opt->chain_id ? opt->chain_id : "medchain-testnet");
    if (opt->genesis_time_ms) g->time_ms = opt->genesis_time_ms;
    else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        g->time_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    }
    int rc = 0;
    for (uint32_t i = 0; i < total && !rc; i++) {
        mc_keypair_generate(&admins[i]);
        mc_keypair_generate(&nodes[i]);
        struct mc_org *o = &g->orgs[g->org_count++];
        o->id = i + 1;
        struct mc_testnet_node *tn = &out->nodes[out->count++];
        const char *kind;
        if (i < opt->validators) {
            if (i < 4) {
                snprintf(o->name, sizeof o->name, "%s", validator_orgs[i].name);
                kind = validator_orgs[i].kind;
            } else {
                snprintf(o->name, sizeof o->name, "Regional Hospital %u", i - 3);
                kind = "hospital";
            }
            snprintf(tn->name, sizeof tn->name, "node%u", i);
            tn->validator = true;
            rc = mc_valset_add(&g->valset, &nodes[i].pk, 10, tn->name);
            g->validator_org[i] = o->id;
        } else {
            uint32_t m = i - opt->validators;
            snprintf(o->name, sizeof o->name, "%s", member_orgs[m].name);
            kind = member_orgs[m].kind;
            snprintf(tn->name, sizeof tn->name, "node%u", i);
            struct mc_genesis_node *nd = &g->nodes[g->node_count++];
            nd->key = nodes[i].pk;
            snprintf(nd->name, sizeof nd->name, "%s-%s", tn->name, member_orgs[m].node);
            nd->org = o->id;
        }
        o->kind = mc_org_kind_from_name(kind);
        make_gln(o->gln, i + 1);
        o->admin = admins[i].pk;
        snprintf(tn->org, sizeof tn->org, "%s", o->name);
        snprintf(tn->home, sizeof tn->home, "%s/%s", opt->dir, tn->name);
        snprintf(tn->api, sizeof tn->api, "%s:%u", host, api0 + i);
        snprintf(tn->p2p, sizeof tn->p2p, "%s:%u", host, p2p0 + i);
    }
    char *gjson = rc ? NULL : mc_genesis_to_json(g);
    struct mc_genesis check;
    if (!rc && (!gjson || mc_genesis_parse(&check, gjson, strlen(gjson)))) rc = mc_err_set(MC_ERR_INVALID, "generated genesis does not parse: %s", mc_err_detail());
    if (!rc) rc = write_text(path, gjson);
    for (uint32_t i = 0; i < total && !rc; i++) {
        struct mc_testnet_node *tn = &out->nodes[i];
        if (mkdir(tn->home, 0700) != 0 && errno != EEXIST) { rc = mc_err_set(MC_ERR_IO, "cannot create %s", tn->home); break; }
        snprintf(path, sizeof path, "%s/data", tn->home);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/genesis.json", tn->home);
        if ((rc = write_text(path, gjson))) break;
        snprintf(path, sizeof path, "%s/node_key.json", tn->home);
        if ((rc = mc_keyfile_write(path, &nodes[i], NULL))) break;
        snprintf(path, sizeof path, "%s/admin_key.json", tn->home);
        if ((rc = mc_keyfile_write(path, &admins[i], NULL))) break;
        json_t *cfg = json_object(), *peers = json_array();
        json_object_set_new(cfg, "api", json_string(tn->api));
        json_object_set_new(cfg, "p2p", json_string(tn->p2p));
        json_object_set_new(cfg, "block_interval_ms", json_integer(100));
        for (uint32_t j = 0; j < total; j++) {
            if (j == i) continue;
            char hx[65];
            mc_hex_encode(hx, nodes[j].pk.b, 32);
            json_array_append_new(peers, json_pack("{s:s, s:s}", "addr", out->nodes[j].p2p, "node_key", hx));
        }
        json_object_set_new(cfg, "peers", peers);
        char *cs = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(cfg);
        snprintf(path, sizeof path, "%s/config.json", tn->home);
        rc = cs ? write_text(path, cs) : MC_ERR_NOMEM;
        free(cs);
    }
    free(gjson);
    sodium_memzero(admins, total * sizeof *admins);
    sodium_memzero(nodes, total * sizeof *nodes);
    free(admins);
    free(nodes);
    free(g);
    return rc;
}
