/* `medchain light`: the light client. It trusts only a genesis file (the
 * chain id and the validator set) and checks what a node answers
 * (chain/light.h):
 *
 *   light pack CODE   the public medicine check: the header by its commit
 *                     certificate (every signature), the pack's row and its
 *                     lot's row (a recall, or the proof that there is none)
 *                     against the header's state root, with keys computed
 *                     here from the scanned code, and every custody
 *                     transaction's bytes in the ledger log of that header;
 *   light state       one state row, or its absence, by key or account.
 *
 * It prints one "key: value" line per check and exits 0 only when every
 * check held; a refused answer exits 1 naming the check that failed. With
 * --answer FILE the resolver's answer is read from a file (an answer saved
 * earlier, or one being audited) instead of fetched. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/genesis.h"
#include "app/gs1.h"
#include "app/identity.h"
#include "app/supply.h"
#include "base/hex.h"
#include "base/limits.h"
#include "chain/commit.h"
#include "chain/light.h"
#include "chain/stateproof.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "node/node.h"

/* Bytes of a hex field (malloc'd, *len set); NULL when absent or not hex. */
static uint8_t *hex_field(json_t *o, const char *name, size_t *len, size_t max) {
    const char *s = json_string_value(json_object_get(o, name));
    if (!s) return NULL;
    size_t n = strlen(s);
    if (n % 2 || n / 2 > max) return NULL;
    uint8_t *b = malloc(n / 2 ? n / 2 : 1);
    if (!b) return NULL;
    if (mc_hex_decode(b, n / 2, s)) {
        free(b);
        return NULL;
    }
    *len = n / 2;
    return b;
}

struct trust {
    struct mc_light lc;
    char genesis_hex[65];
};

static int load_trust(struct trust *t, const char *path) {
    struct mc_genesis *g = sodium_malloc(sizeof *g);
    if (!g) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    mc_err_clear();
    int rc = mc_node_genesis_load(g, path);
    if (rc) {
        sodium_free(g);
        return mc_cli_error(MC_CLI_USAGE, "cannot read the trusted genesis %s: %s", path, mc_cli_detail(rc));
    }
    mc_hash gh;
    mc_genesis_hash(g, &gh);
    rc = mc_light_init(&t->lc, g->chain_id, &gh, &g->valset);
    sodium_free(g);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "the genesis cannot be trusted: %s", mc_cli_detail(rc));
    mc_hex_encode(t->genesis_hex, gh.b, 32);
    printf("trusted: genesis %.16s of chain %s, %u validators\n", t->genesis_hex, t->lc.chain_id,
           t->lc.sets[0].vs.count);
    return 0;
}

/* Follows every change of validators the node lists: each one's header by
 * the set already trusted, then the new set's row by its proof. */
static int follow_valsets(struct trust *t, struct mc_client *c) {
    json_t *j = NULL;
    mc_err_clear();
    int rc = mc_client_get_json(c, "/v1/state/valsets", &j);
    if (rc) return mc_cli_api_error(rc, "cannot fetch the validator set changes");
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(j, "transitions"), i, tr) {
        size_t hl = 0, cl = 0, rl = 0, pl = 0;
        uint8_t *hb = hex_field(tr, "header_hex", &hl, MC_BLOCK_BYTES_MAX);
        uint8_t *cb = hex_field(tr, "commit_hex", &cl, MC_BLOCK_BYTES_MAX);
        uint8_t *row = hex_field(tr, "row_hex", &rl, MC_STATE_VALUE_MAX);
        uint8_t *pf = hex_field(tr, "proof_hex", &pl, MC_STATEPROOF_MAX);
        struct mc_header h;
        mc_hash hash;
        mc_err_clear();
        if (!hb || !cb || !row || !pf) rc = mc_cli_error(MC_CLI_FAIL, "refused: validator set change %zu is incomplete", i);
        else if (mc_light_check_header(&t->lc, hb, hl, cb, cl, &h, &hash) ||
                 mc_light_add_valset(&t->lc, &h, row, rl, pf, pl))
            rc = mc_cli_error(MC_CLI_FAIL, "refused: validator set change %zu: %s", i, mc_err_detail());
        free(hb);
        free(cb);
        free(row);
        free(pf);
        if (rc) break;
        const struct mc_light_valset *n = &t->lc.sets[t->lc.count - 1];
        printf("validators: from height %llu, %u validators, proven at header %llu certified by the previous set\n",
               (unsigned long long)n->from, n->vs.count, (unsigned long long)h.height);
    }
    json_decref(j);
    return rc;
}

/* Checks the answer's anchor: the header bytes by the certificate bytes. */
static int check_anchor(const struct trust *t, json_t *anchor, struct mc_header *h) {
    size_t hl = 0, cl = 0;
    uint8_t *hb = hex_field(anchor, "header_hex", &hl, MC_BLOCK_BYTES_MAX);
    uint8_t *cb = hex_field(anchor, "commit_hex", &cl, MC_BLOCK_BYTES_MAX);
    int rc;
    if (!hb || !cb) {
        rc = mc_cli_error(MC_CLI_FAIL, "refused: the answer carries no header or certificate bytes");
        goto out;
    }
    mc_hash hash;
    mc_err_clear();
    if (mc_light_check_header(&t->lc, hb, hl, cb, cl, h, &hash)) {
        rc = mc_cli_error(MC_CLI_FAIL, "refused: header: %s", mc_err_detail());
        goto out;
    }
    struct mc_commit *c = malloc(sizeof *c);
    uint64_t power = 0;
    unsigned n = 0;
    if (c && mc_commit_decode(c, cb, cl) == 0) {
        const struct mc_valset *vs = mc_light_valset_at(&t->lc, h->height);
        for (unsigned i = 0; i < c->count; i++) power += vs->v[c->sigs[i].validator].power;
        n = c->count;
    }
    free(c);
    char hx[65];
    mc_hex_encode(hx, hash.b, 32);
    printf("header: height %llu hash %.16s: certificate holds, %u signatures all valid, power %llu of %llu\n",
           (unsigned long long)h->height, hx, n, (unsigned long long)power,
           (unsigned long long)mc_light_valset_at(&t->lc, h->height)->total_power);
    rc = 0;
out:
    free(hb);
    free(cb);
    return rc;
}

/* Checks a proven row for exactly `key` (computed by the caller): gives the
 * value (malloc'd) or NULL for a proven absence. *rc set on refusal. */
static uint8_t *check_row(const struct mc_header *h, json_t *row, const uint8_t *key, size_t klen,
                          const char *what, size_t *vlen, int *rc) {
    *rc = 0;
    *vlen = 0;
    if (!json_is_object(row)) {
        *rc = mc_cli_error(MC_CLI_FAIL, "refused: the answer proves nothing about the %s", what);
        return NULL;
    }
    size_t kl = 0, pl = 0;
    uint8_t *k = hex_field(row, "key_hex", &kl, MC_STATE_KEY_MAX);
    uint8_t *p = hex_field(row, "proof_hex", &pl, MC_STATEPROOF_MAX);
    uint8_t *v = NULL;
    bool present = json_is_true(json_object_get(row, "present"));
    if (present) v = hex_field(row, "value_hex", vlen, MC_STATE_VALUE_MAX);
    if (!k || kl != klen || memcmp(k, key, klen) != 0) {
        *rc = mc_cli_error(MC_CLI_FAIL, "refused: the %s proof is about another key", what);
    } else if (!p || (present && !v)) {
        *rc = mc_cli_error(MC_CLI_FAIL, "refused: the %s proof is incomplete", what);
    } else {
        mc_err_clear();
        if (mc_light_check_state(h, key, klen, present ? v : NULL, *vlen, p, pl))
            *rc = mc_cli_error(MC_CLI_FAIL, "refused: %s %s: %s", what,
                               present ? "row" : "absence", mc_err_detail());
    }
    free(k);
    free(p);
    if (*rc || !present) {
        free(v);
        return NULL;
    }
    return v;
}

static unsigned current_year(void) {
    return mc_supply_civil_from_ms((uint64_t)time(NULL) * 1000, NULL) / 10000;
}

/* Every custody transaction: its bytes (fetched) are leaf i of the log. */
static int check_custody(struct mc_client *c, const struct mc_header *h, json_t *answer) {
    json_t *proofs = json_object_get(answer, "proofs");
    size_t i, n = 0;
    json_t *p;
    json_array_foreach(proofs, i, p) {
        const char *id = json_string_value(json_object_get(p, "tx_id"));
        json_t *ap = json_object_get(p, "audit_path");
        if (!id || strlen(id) != 64 || !json_is_array(ap) || json_array_size(ap) > MC_MERKLE_PATH_MAX)
            return mc_cli_error(MC_CLI_FAIL, "refused: custody proof %zu is malformed", i);
        char path[100];
        snprintf(path, sizeof path, "/v1/tx/%s", id);
        json_t *tx = NULL;
        mc_err_clear();
        int rc = mc_client_get_json(c, path, &tx);
        if (rc) return mc_cli_api_error(rc, "cannot fetch a custody transaction");
        size_t len = 0;
        uint8_t *bytes = hex_field(tx, "tx_hex", &len, MC_TX_MAX);
        json_decref(tx);
        mc_hash want, got, hp[MC_MERKLE_PATH_MAX];
        bool ok = bytes && mc_hex_decode(want.b, 32, id) == 0;
        if (ok) {
            mc_sha256(&got, bytes, len);
            ok = memcmp(got.b, want.b, 32) == 0;
        }
        for (size_t k = 0; ok && k < json_array_size(ap); k++)
            ok = mc_hex_decode(hp[k].b, 32, json_string_value(json_array_get(ap, k)) ? json_string_value(json_array_get(ap, k)) : "") == 0;
        json_int_t li = json_integer_value(json_object_get(p, "leaf_index"));
        mc_err_clear();
        if (!ok || li < 0 || mc_light_check_tx(h, bytes, len, (uint64_t)li, hp, json_array_size(ap))) {
            free(bytes);
            return mc_cli_error(MC_CLI_FAIL, "refused: custody transaction %.16s is not proven in the log: %s",
                                id, ok ? mc_err_detail() : "its bytes do not hash to its id");
        }
        free(bytes);
        n++;
    }
    printf("custody: %zu transactions, each one's bytes hash to its id and are in the ledger log of that header\n", n);
    return 0;
}

int mc_cli_cmd_light_pack(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}, {"genesis", true}, {"answer", true}};
    static const char words[] = "light pack";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (mc_cli_require(&a, words, "genesis")) return MC_CLI_USAGE;
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "give the scanned code: a Digital Link or a GS1 element string");
    struct mc_gs1_id id;
    struct mc_gs1_error e;
    if (mc_gs1_parse(&id, &e, a.positional[0], strlen(a.positional[0]), current_year()))
        return mc_cli_error(MC_CLI_USAGE, "cannot read the code: %s", e.message);
    if (!id.serial[0]) return mc_cli_error(MC_CLI_USAGE, "the code carries no serial number");
    struct trust t;
    int rc = load_trust(&t, mc_cli_arg(&a, "genesis"));
    if (rc) return rc;
    struct mc_client c;
    if ((rc = mc_cli_client_open(&c, &a))) return rc;
    json_t *ans = NULL;
    const char *file = mc_cli_arg(&a, "answer");
    if (file) {
        json_error_t je;
        ans = json_load_file(file, 0, &je);
        if (!ans) rc = mc_cli_error(MC_CLI_USAGE, "cannot read the answer %s: %s", file, je.text);
    } else {
        char target[MC_GS1_DIGITAL_LINK_MAX + 16];
        if ((rc = mc_cli_gs1_target(target, sizeof target - 10, a.positional[0])) == 0) {
            strcat(target, strchr(target, '?') ? "&proofs=1" : "?proofs=1");
            mc_err_clear();
            int r = mc_client_get_json(&c, target, &ans);
            if (r) rc = mc_cli_api_error(r, "the node did not answer the check");
        }
    }
    uint8_t *unit_row = NULL, *lot_row = NULL;
    if (rc) goto out;
    if ((rc = follow_valsets(&t, &c))) goto out;
    printf("verdict_said: %s\n", json_string_value(json_object_get(ans, "verdict")) ?: "(none)");
    json_t *sp = json_object_get(ans, "state_proofs");
    struct mc_header h;
    if ((rc = check_anchor(&t, json_object_get(sp, "anchor"), &h))) goto out;
    struct mc_key k;
    size_t ul = 0, ll = 0;
    mc_supply_unit_key(&k, id.gtin, id.serial);
    unit_row = check_row(&h, json_object_get(sp, "unit"), k.b, k.n, "pack", &ul, &rc);
    if (rc) goto out;
    struct mc_supply_unit u;
    char lot[MC_GS1_VALUE_MAX + 1];
    snprintf(lot, sizeof lot, "%s", id.lot);
    if (unit_row) {
        if (mc_supply_unit_decode(unit_row, ul, id.gtin, id.serial, &u)) {
            rc = mc_cli_error(MC_CLI_FAIL, "refused: the proven pack row does not decode");
            goto out;
        }
        printf("pack: proven present: status %s, holder organisation %u, lot %s\n",
               mc_supply_status_name(u.c.status), u.c.owner, u.lot);
        snprintf(lot, sizeof lot, "%s", u.lot);
    } else {
        printf("pack: proven absent: no pack %s with serial %s was ever commissioned\n", id.gtin, id.serial);
    }
    if (lot[0]) {
        mc_supply_lot_key(&k, id.gtin, lot);
        lot_row = check_row(&h, json_object_get(sp, "lot"), k.b, k.n, "lot", &ll, &rc);
        if (rc) goto out;
        struct mc_supply_lot l;
        if (lot_row && mc_supply_lot_decode(lot_row, ll, &l)) {
            rc = mc_cli_error(MC_CLI_FAIL, "refused: the proven lot row does not decode");
            goto out;
        }
        if (!lot_row) printf("lot: proven absent: lot %s has no row, so no recall\n", lot);
        else if (l.recalled)
            printf("lot: proven present: RECALLED at height %llu (%s)\n", (unsigned long long)l.recall_height, l.reason);
        else printf("lot: proven present: not recalled\n");
    }
    if ((rc = check_custody(&c, &h, ans))) goto out;
    printf("light: verified against header %llu\n", (unsigned long long)h.height);
out:
    free(unit_row);
    free(lot_row);
    json_decref(ans);
    mc_client_deinit(&c);
    return rc ? rc : MC_CLI_OK;
}

int mc_cli_cmd_light_state(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}, {"genesis", true}, {"key", true}, {"account", true}};
    static const char words[] = "light state";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "genesis")) return MC_CLI_USAGE;
    const char *khex = mc_cli_arg(&a, "key"), *acct = mc_cli_arg(&a, "account");
    if (!khex == !acct) return mc_cli_error(MC_CLI_USAGE, "give exactly one of --key HEX or --account KEY");
    uint8_t key[MC_STATE_KEY_MAX];
    size_t klen = 0;
    if (khex) {
        if (mc_hex_decode_var(key, sizeof key, &klen, khex) || klen == 0 || key[0] == 0)
            return mc_cli_error(MC_CLI_USAGE, "--key: a state key in hex (1 to %d bytes, not starting 00)", MC_STATE_KEY_MAX);
    } else {
        if (strlen(acct) != 64 || mc_hex_decode(key + 2, 32, acct))
            return mc_cli_error(MC_CLI_USAGE, "--account: 64 hex digits");
        memcpy(key, "a/", 2);
        klen = 34;
    }
    struct trust t;
    int rc = load_trust(&t, mc_cli_arg(&a, "genesis"));
    if (rc) return rc;
    struct mc_client c;
    if ((rc = mc_cli_client_open(&c, &a))) return rc;
    char path[32 + 2 * MC_STATE_KEY_MAX];
    char hx[2 * MC_STATE_KEY_MAX + 1];
    mc_hex_encode(hx, key, klen);
    snprintf(path, sizeof path, "/v1/state?key=%s", hx);
    json_t *ans = NULL;
    mc_err_clear();
    int r = mc_client_get_json(&c, path, &ans);
    uint8_t *v = NULL;
    if (r) {
        rc = mc_cli_api_error(r, "the node did not answer");
        goto out;
    }
    struct mc_header h;
    if ((rc = follow_valsets(&t, &c))) goto out;
    if ((rc = check_anchor(&t, json_object_get(ans, "anchor"), &h))) goto out;
    size_t vl = 0;
    v = check_row(&h, json_object_get(ans, "row"), key, klen, "row", &vl, &rc);
    if (rc) goto out;
    if (!v) {
        printf("row: proven absent\n");
    } else {
        char *vx = malloc(2 * vl + 1);
        if (vx) mc_hex_encode(vx, v, vl);
        printf("row: proven present, %zu bytes: %s\n", vl, vx ? vx : "");
        free(vx);
        struct mc_account acc;
        mc_pubkey pk;
        memcpy(pk.b, key + 2, 32);
        if (acct && mc_identity_account_decode(v, vl, &pk, &acc) == 0)
            printf("account: role %s, status %s, organisation %u\n", mc_role_name(acc.role),
                   mc_account_status_name(acc.status), acc.org);
    }
    printf("light: verified against header %llu\n", (unsigned long long)h.height);
out:
    free(v);
    json_decref(ans);
    mc_client_deinit(&c);
    return rc ? rc : MC_CLI_OK;
}
