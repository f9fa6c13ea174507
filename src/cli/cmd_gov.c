/* Consortium governance from the command line:
 *   medchain gov propose KIND [fields] --key ADMIN_KEY [--deadline H|+N] [--activation H|+N]
 *   medchain gov vote ID (--yes | --no) --key ADMIN_KEY
 *   medchain gov rotate-node (--node-pub HEX | --node-key F) --new-key F --key ADMIN_KEY [--at H|+N]
 *   medchain gov show ID | gov list | gov validators [--height H]
 * Proposals and votes are gov_propose and gov_vote transactions signed by an
 * organisation admin (app/governance.h); the reads are GET /v1/gov/... and
 * /v1/validators. Heights written +N are relative to the node's height. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/governance.h"
#include "app/governance_payload.h"
#include "app/identity.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "crypto/keyfile.h"

#define SIGNER_SPEC                                                                         \
    {"node", true}, {"key", true}, {"passphrase-file", true}, {"nonce", true},              \
        {"no-wait", false}, {"timeout", true}

/* Deadline and activation by default: 20 and 22 blocks ahead. */
#define DEFAULT_DEADLINE 20
#define DEFAULT_LEAD 2

static int node_height(const struct mc_cli_args *a, uint64_t *height) {
    struct mc_client c;
    int rc = mc_cli_client_open(&c, a);
    if (rc) return rc;
    json_t *j = NULL;
    mc_err_clear();
    rc = mc_client_get_json(&c, "/v1/status", &j);
    mc_client_deinit(&c);
    if (rc) return mc_cli_api_error(rc, "cannot get the node's height");
    *height = (uint64_t)json_integer_value(json_object_get(j, "height"));
    json_decref(j);
    return MC_CLI_OK;
}

/* "H" or "+N" (relative to now); fallback when absent. */
static int height_arg(const struct mc_cli_args *a, const char *name, uint64_t now, uint64_t fallback,
                      uint64_t *out) {
    const char *v = mc_cli_arg(a, name);
    if (!v) {
        *out = fallback;
        return MC_CLI_OK;
    }
    uint64_t n;
    bool rel = v[0] == '+';
    if (!mc_cli_parse_u64(rel ? v + 1 : v, &n) || (rel && n > UINT64_MAX - now))
        return mc_cli_error(MC_CLI_USAGE, "--%s must be a height or +N blocks", name);
    *out = rel ? now + n : n;
    return MC_CLI_OK;
}

/* A key from --NAME-pub HEX or --NAME-key FILE (exactly one). */
static int key_arg(const struct mc_cli_args *a, const char *name, mc_pubkey *pk) {
    char fopt[32], hopt[32];
    snprintf(fopt, sizeof fopt, "%s-key", name);
    snprintf(hopt, sizeof hopt, "%s-pub", name);
    const char *file = mc_cli_arg(a, fopt), *hex = mc_cli_arg(a, hopt);
    if (!!file == !!hex)
        return mc_cli_error(MC_CLI_USAGE, "give exactly one of --%s FILE or --%s HEX", fopt, hopt);
    if (hex) {
        if (mc_hex_decode(pk->b, MC_PUBKEY_BYTES, hex))
            return mc_cli_error(MC_CLI_USAGE, "--%s must be 64 hex digits", hopt);
        return MC_CLI_OK;
    }
    mc_err_clear();
    int rc = mc_keyfile_read_public(pk, file);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "cannot read %s: %s", file, mc_cli_detail(rc));
    return MC_CLI_OK;
}

static int u64_arg(const struct mc_cli_args *a, const char *name, uint64_t *out) {
    const char *v = mc_cli_arg(a, name);
    if (!v) return mc_cli_error(MC_CLI_USAGE, "missing --%s", name);
    if (!mc_cli_parse_u64(v, out)) return mc_cli_error(MC_CLI_USAGE, "--%s must be a number", name);
    return MC_CLI_OK;
}

static int text_arg(const struct mc_cli_args *a, const char *name, char *out, size_t size) {
    const char *v = mc_cli_arg(a, name);
    if (!v) return mc_cli_error(MC_CLI_USAGE, "missing --%s", name);
    if (v[0] == 0 || strlen(v) >= size)
        return mc_cli_error(MC_CLI_USAGE, "--%s must be 1 to %zu bytes", name, size - 1);
    snprintf(out, size, "%s", v);
    return MC_CLI_OK;
}

static int org_arg(const struct mc_cli_args *a, struct mc_gov_change *c) {
    uint64_t org;
    int rc = u64_arg(a, "org", &org);
    if (rc) return rc;
    if (org == 0 || org > UINT32_MAX) return mc_cli_error(MC_CLI_USAGE, "--org must be an organisation id");
    c->org = (uint32_t)org;
    return MC_CLI_OK;
}

/* The change a proposal's kind and options describe. */
static int change_from_args(const struct mc_cli_args *a, struct mc_gov_change *c) {
    int rc = MC_CLI_OK;
    uint64_t v;
    switch (c->kind) {
    case MC_GOV_ADD_ORG: {
        const char *kind = mc_cli_arg(a, "org-kind");
        if (!kind || !(c->org_kind = mc_org_kind_from_name(kind)))
            return mc_cli_error(MC_CLI_USAGE, "--org-kind must be hospital, clinic, laboratory, pharmacy, "
                                              "manufacturer, distributor, research or regulator");
        const char *gln = mc_cli_arg(a, "gln");
        if (gln && strlen(gln) > MC_GLN_MAX) return mc_cli_error(MC_CLI_USAGE, "--gln is 13 digits");
        snprintf(c->gln, sizeof c->gln, "%s", gln ? gln : "");
        if ((rc = text_arg(a, "name", c->name, sizeof c->name))) return rc;
        return key_arg(a, "admin", &c->key);
    }
    case MC_GOV_SUSPEND_ORG:
    case MC_GOV_REMOVE_ORG:
    case MC_GOV_REINSTATE_ORG: return org_arg(a, c);
    case MC_GOV_ADD_VALIDATOR:
    case MC_GOV_ADD_NODE:
        if ((rc = org_arg(a, c)) || (rc = text_arg(a, "name", c->name, sizeof c->name)) ||
            (rc = key_arg(a, "node", &c->key)))
            return rc;
        if (c->kind == MC_GOV_ADD_VALIDATOR) return u64_arg(a, "power", &c->power);
        return MC_CLI_OK;
    case MC_GOV_REMOVE_VALIDATOR: return key_arg(a, "node", &c->key);
    case MC_GOV_SET_POWER:
        if ((rc = key_arg(a, "node", &c->key))) return rc;
        return u64_arg(a, "power", &c->power);
    case MC_GOV_SET_PARAM: {
        const char *p = mc_cli_arg(a, "param");
        if (!p || !(c->param = mc_gov_param_from_name(p)))
            return mc_cli_error(MC_CLI_USAGE, "--param must be block_txs, block_bytes, tx_bytes, "
                                              "timeout_propose, timeout_prevote or timeout_precommit");
        return u64_arg(a, "value", &c->value);
    }
    case MC_GOV_REPLACE_ADMIN:
        if ((rc = org_arg(a, c))) return rc;
        return key_arg(a, "admin", &c->key);
    case MC_GOV_UPGRADE:
        if ((rc = text_arg(a, "name", c->name, MC_GOV_UPGRADE_NAME_MAX + 1)) ||
            (rc = text_arg(a, "version", c->version, sizeof c->version)) ||
            (rc = u64_arg(a, "height", &v)))
            return rc;
        uint64_t parsed[3];
        if (!mc_governance_version_parse(c->version, parsed))
            return mc_cli_error(MC_CLI_USAGE, "--version must be major.minor.patch");
        c->height = v;
        return MC_CLI_OK;
    default: return mc_cli_error(MC_CLI_USAGE, "unknown proposal kind");
    }
}

int mc_cli_cmd_gov_propose(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        SIGNER_SPEC,         {"deadline", true}, {"activation", true}, {"name", true},
        {"org-kind", true},  {"gln", true},      {"admin-pub", true},  {"admin-key", true},
        {"org", true},       {"node-pub", true}, {"node-key", true},   {"power", true},
        {"param", true},     {"value", true},    {"version", true},    {"height", true},
    };
    static const char words[] = "gov propose";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "name the kind of proposal (see 'medchain gov propose --help')");
    char kind[32];
    snprintf(kind, sizeof kind, "%s", a.positional[0]);
    for (char *p = kind; *p; p++)
        if (*p == '-') *p = '_';
    struct mc_gov_payload p = {.type = MC_TX_GOV_PROPOSE};
    p.change.kind = mc_gov_kind_from_name(kind);
    if (!p.change.kind)
        return mc_cli_error(MC_CLI_USAGE, "unknown proposal kind '%s' (see 'medchain gov propose --help')",
                            a.positional[0]);
    int rc = change_from_args(&a, &p.change);
    if (rc) return rc;
    uint64_t now = 0;
    if ((rc = node_height(&a, &now))) return rc;
    if ((rc = height_arg(&a, "deadline", now, now + DEFAULT_DEADLINE, &p.deadline))) return rc;
    if ((rc = height_arg(&a, "activation", now, p.deadline + DEFAULT_LEAD, &p.activation))) return rc;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    if (mc_gov_payload_encode(&b, &p)) rc = mc_cli_error(MC_CLI_USAGE, "a field is too long for the proposal");
    else rc = mc_cli_sign_submit(&a, words, MC_TX_GOV_PROPOSE, &b);
    mc_buf_deinit(&b);
    if (rc == MC_CLI_OK) {
        printf("deadline: %llu\nactivation: %llu\n", (unsigned long long)p.deadline,
               (unsigned long long)p.activation);
    }
    return rc;
}

int mc_cli_cmd_gov_vote(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"yes", false}, {"no", false}};
    static const char words[] = "gov vote";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    uint64_t id;
    if (a.positional_count != 1 || !mc_cli_parse_u64(a.positional[0], &id))
        return mc_cli_error(MC_CLI_USAGE, "give the proposal's id (see 'medchain gov list')");
    if (mc_cli_flag(&a, "yes") == mc_cli_flag(&a, "no"))
        return mc_cli_error(MC_CLI_USAGE, "give exactly one of --yes or --no");
    struct mc_gov_payload p = {.type = MC_TX_GOV_VOTE, .proposal = id, .approve = mc_cli_flag(&a, "yes")};
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = mc_gov_payload_encode(&b, &p) ? mc_cli_error(MC_CLI_FAIL, "cannot encode the vote")
                                            : mc_cli_sign_submit(&a, words, MC_TX_GOV_VOTE, &b);
    mc_buf_deinit(&b);
    return rc;
}

int mc_cli_cmd_gov_rotate_node(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        SIGNER_SPEC, {"node-pub", true}, {"node-key", true}, {"new-key", true},
        {"new-passphrase-file", true}, {"at", true},
    };
    static const char words[] = "gov rotate-node";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "new-key")) return MC_CLI_USAGE;
    struct mc_gov_payload p = {.type = MC_TX_NODE_ROTATE};
    int rc = key_arg(&a, "node", &p.node);
    if (rc) return rc;
    uint64_t now = 0;
    if ((rc = node_height(&a, &now))) return rc;
    if ((rc = height_arg(&a, "at", now, now + 10, &p.at_height))) return rc;
    struct mc_keypair *nk;
    if ((rc = mc_cli_key_load(&nk, mc_cli_arg(&a, "new-key"), mc_cli_arg(&a, "new-passphrase-file"), "new node")))
        return rc;
    p.new_key = nk->pk;
    /* The new key proves possession: it signs old || new. The chain id is
     * the node's (GET /v1/status). */
    struct mc_client c;
    json_t *j = NULL;
    if ((rc = mc_cli_client_open(&c, &a))) {
        mc_cli_key_free(nk);
        return rc;
    }
    mc_err_clear();
    rc = mc_client_get_json(&c, "/v1/status", &j);
    mc_client_deinit(&c);
    if (rc) {
        mc_cli_key_free(nk);
        return mc_cli_api_error(rc, "cannot get the chain id");
    }
    mc_governance_rotation_sign(p.sig, nk, json_string_value(json_object_get(j, "chain_id")), &p.node);
    json_decref(j);
    mc_cli_key_free(nk);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    rc = mc_gov_payload_encode(&b, &p) ? mc_cli_error(MC_CLI_FAIL, "cannot encode the rotation")
                                       : mc_cli_sign_submit(&a, words, MC_TX_NODE_ROTATE, &b);
    mc_buf_deinit(&b);
    if (rc == MC_CLI_OK) printf("at: %llu\n", (unsigned long long)p.at_height);
    return rc;
}

static int print_get(const struct mc_cli_args *a, const char *path, const char *what) {
    struct mc_client c;
    int rc = mc_cli_client_open(&c, a);
    if (rc) return rc;
    json_t *j = NULL;
    mc_err_clear();
    rc = mc_client_get_json(&c, path, &j);
    mc_client_deinit(&c);
    if (rc) return mc_cli_api_error(rc, what);
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    printf("%s\n", s);
    free(s);
    return MC_CLI_OK;
}

int mc_cli_cmd_gov_show(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "gov show", spec, 1, argc, argv);
    uint64_t id;
    if (a.positional_count != 1 || !mc_cli_parse_u64(a.positional[0], &id))
        return mc_cli_error(MC_CLI_USAGE, "give the proposal's id (see 'medchain gov list')");
    char path[64], what[64];
    snprintf(path, sizeof path, "/v1/gov/proposals/%llu", (unsigned long long)id);
    snprintf(what, sizeof what, "proposal %llu", (unsigned long long)id);
    return print_get(&a, path, what);
}

int mc_cli_cmd_gov_list(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "gov list", spec, 0, argc, argv);
    return print_get(&a, "/v1/gov/proposals", "cannot list the proposals");
}

int mc_cli_cmd_gov_validators(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}, {"height", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "gov validators", spec, 0, argc, argv);
    const char *h = mc_cli_arg(&a, "height");
    uint64_t height;
    if (h && !mc_cli_parse_u64(h, &height)) return mc_cli_error(MC_CLI_USAGE, "--height must be a number");
    char path[64];
    if (h) snprintf(path, sizeof path, "/v1/validators?height=%llu", (unsigned long long)height);
    else snprintf(path, sizeof path, "/v1/validators");
    return print_get(&a, path, "cannot get the validator set");
}
