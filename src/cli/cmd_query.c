/* Query commands: `status`, `tx show`, `block show`, `account show` print
 * the API's JSON pretty-printed; `proof` also verifies the inclusion proof
 * locally, trusting nothing the node says but the root:
 *
 *   1. the transaction's canonical bytes (raw, or rebuilt from the JSON
 *      view) must hash to the requested id;
 *   2. their RFC 6962 leaf hash, the leaf index, the tree size and the
 *      audit path must lead to the returned root (mc_merkle_verify_inclusion).
 *
 * On success it prints "proof: verified (leaf L of tree size N)". */
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "base/hex.h"
#include "base/limits.h"
#include "chain/tx.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "crypto/keyfile.h"
#include "crypto/merkle.h"

static int print_json(const json_t *j) {
    if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        return mc_cli_error(MC_CLI_FAIL, "cannot print the answer");
    fputc('\n', stdout);
    fflush(stdout);
    return MC_CLI_OK;
}

/* GET path, print the JSON or the one-line error. */
static int show(const struct mc_cli_args *a, const char *path, const char *what) {
    struct mc_client c;
    int rc = mc_cli_client_open(&c, a);
    if (rc) return rc;
    json_t *j = NULL;
    mc_err_clear();
    rc = mc_client_get_json(&c, path, &j);
    mc_client_deinit(&c);
    if (rc) return mc_cli_api_error(rc, what);
    rc = print_json(j);
    json_decref(j);
    return rc;
}

static bool is_hex64(const char *s) {
    return strlen(s) == 64 && strspn(s, "0123456789abcdefABCDEF") == 64;
}

static const struct mc_cli_opt node_only[] = {{"node", true}};

int mc_cli_cmd_status(int argc, char **argv) {
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "status", node_only, 0, argc, argv);
    return show(&a, "/v1/status", "cannot get the node's status");
}

int mc_cli_cmd_tx_show(int argc, char **argv) {
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "tx show", node_only, 1, argc, argv);
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "missing transaction id (see 'medchain tx show --help')");
    const char *id = a.positional[0];
    if (!is_hex64(id)) return mc_cli_error(MC_CLI_USAGE, "a transaction id is 64 hex digits");
    char path[128], what[128];
    snprintf(path, sizeof path, "/v1/tx/%s", id);
    snprintf(what, sizeof what, "transaction %s", id);
    return show(&a, path, what);
}

static int latest_height(struct mc_client *c, uint64_t *height) {
    json_t *st = NULL;
    mc_err_clear();
    int rc = mc_client_get_json(c, "/v1/status", &st);
    if (rc) return mc_cli_api_error(rc, "cannot get the node's status");
    json_t *h = json_object_get(st, "height");
    bool ok = json_is_integer(h) && json_integer_value(h) >= 0;
    if (ok) *height = (uint64_t)json_integer_value(h);
    json_decref(st);
    if (!ok) return mc_cli_error(MC_CLI_FAIL, "the node's status has no valid height");
    return MC_CLI_OK;
}

int mc_cli_cmd_block_show(int argc, char **argv) {
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "block show", node_only, 1, argc, argv);
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "missing block height (see 'medchain block show --help')");
    uint64_t height = 0;
    bool latest = strcmp(a.positional[0], "latest") == 0;
    if (!latest && !mc_cli_parse_u64(a.positional[0], &height))
        return mc_cli_error(MC_CLI_USAGE, "a block height is a number or 'latest'");
    struct mc_client c;
    int rc = mc_cli_client_open(&c, &a);
    if (rc) return rc;
    if (latest && (rc = latest_height(&c, &height))) {
        mc_client_deinit(&c);
        return rc;
    }
    char path[64];
    snprintf(path, sizeof path, "/v1/block/%llu", (unsigned long long)height);
    json_t *j = NULL;
    mc_err_clear();
    rc = mc_client_get_json(&c, path, &j);
    mc_client_deinit(&c);
    if (rc) {
        char what[64];
        snprintf(what, sizeof what, "block %llu", (unsigned long long)height);
        return mc_cli_api_error(rc, what);
    }
    rc = print_json(j);
    json_decref(j);
    return rc;
}

int mc_cli_cmd_account_show(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}, {"key", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "account show", spec, 1, argc, argv);
    const char *file = mc_cli_arg(&a, "key");
    if ((a.positional_count == 1) == (file != NULL))
        return mc_cli_error(MC_CLI_USAGE, "give a public key in hex or --key FILE (see 'medchain account show --help')");
    char hex[2 * MC_PUBKEY_BYTES + 1];
    if (file) {
        mc_pubkey pk;
        mc_err_clear();
        int rc = mc_keyfile_read_public(&pk, file);
        if (rc) return mc_cli_error(MC_CLI_FAIL, "cannot read key %s: %s", file, mc_cli_detail(rc));
        mc_hex_encode(hex, pk.b, sizeof pk.b);
    } else {
        if (!is_hex64(a.positional[0])) return mc_cli_error(MC_CLI_USAGE, "a public key is 64 hex digits");
        memcpy(hex, a.positional[0], sizeof hex);
    }
    char path[128], what[128];
    snprintf(path, sizeof path, "/v1/account/%s", hex);
    snprintf(what, sizeof what, "account %s", hex);
    return show(&a, path, what);
}

/* --- proof --- */

/* Field of the proof object: first in its "proof" member, then at top level. */
static json_t *field(const json_t *j, const char *const *names) {
    const json_t *scopes[2] = {json_object_get(j, "proof"), j};
    for (int s = 0; s < 2; s++) {
        if (!json_is_object(scopes[s])) continue;
        for (const char *const *n = names; *n; n++) {
            json_t *v = json_object_get(scopes[s], *n);
            if (v) return v;
        }
    }
    return NULL;
}

static bool get_u64(const json_t *v, uint64_t *out) {
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    return json_is_string(v) && mc_cli_parse_u64(json_string_value(v), out);
}

static bool get_hash(const json_t *v, mc_hash *out) {
    return json_is_string(v) && mc_hex_decode(out->b, MC_HASH_BYTES, json_string_value(v)) == 0;
}

/* Rebuilds a transaction's canonical bytes from the API's JSON view
 * (chain_id, type_code, sender, nonce, payload_hex, signature). */
static int tx_from_view(const json_t *v, struct mc_buf *out) {
    const json_t *chain = json_object_get(v, "chain_id"), *sender = json_object_get(v, "sender"),
                 *payload = json_object_get(v, "payload_hex"), *sig = json_object_get(v, "signature");
    uint64_t type, nonce;
    if (!json_is_string(chain) || strlen(json_string_value(chain)) > MC_CHAIN_ID_MAX ||
        !get_u64(json_object_get(v, "type_code"), &type) || type > UINT16_MAX ||
        !get_u64(json_object_get(v, "nonce"), &nonce) || !json_is_string(sender) ||
        !json_is_string(payload) || !json_is_string(sig))
        return MC_ERR_MALFORMED;
    struct mc_tx tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.chain_id, json_string_value(chain), strlen(json_string_value(chain)) + 1);
    tx.type = (uint16_t)type;
    tx.nonce = nonce;
    if (mc_hex_decode(tx.sender.b, MC_PUBKEY_BYTES, json_string_value(sender)) ||
        mc_hex_decode(tx.sig, MC_SIG_BYTES, json_string_value(sig)))
        return MC_ERR_MALFORMED;
    const char *ph = json_string_value(payload);
    size_t hl = strlen(ph);
    if (hl % 2 || hl / 2 > MC_TX_PAYLOAD_MAX) return MC_ERR_MALFORMED;
    uint8_t *p = malloc(hl / 2 + 1);
    size_t plen = 0;
    if (!p) return MC_ERR_NOMEM;
    if (hl && mc_hex_decode_var(p, hl / 2, &plen, ph)) {
        free(p);
        return MC_ERR_MALFORMED;
    }
    tx.payload = p;
    tx.payload_len = plen;
    mc_tx_encode(out, &tx);
    free(p);
    return out->err;
}

/* Canonical bytes of the transaction from a JSON answer: a hex string
 * ("tx_hex", "tx", "bytes", "raw") or a view object ("tx" or the answer). */
static int tx_bytes_from(const json_t *j, struct mc_buf *out) {
    static const char *const hex_names[] = {"tx_hex", "tx", "bytes", "raw", NULL};
    json_t *v = field(j, hex_names);
    if (json_is_string(v)) {
        const char *h = json_string_value(v);
        size_t hl = strlen(h);
        if (hl % 2 || hl / 2 > MC_TX_MAX) return MC_ERR_MALFORMED;
        uint8_t *p = malloc(hl / 2 + 1);
        size_t n = 0;
        if (!p) return MC_ERR_NOMEM;
        int rc = mc_hex_decode_var(p, hl / 2, &n, h);
        if (!rc) mc_buf_append(out, p, n);
        free(p);
        return rc ? rc : out->err;
    }
    if (json_is_object(v) && tx_from_view(v, out) == 0) return MC_OK;
    mc_buf_reset(out);
    if (json_is_object(j) && tx_from_view(j, out) == 0) return MC_OK;
    mc_buf_reset(out);
    return MC_ERR_NOT_FOUND;
}

int mc_cli_cmd_proof(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}, {"height", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "proof", spec, 1, argc, argv);
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "missing transaction id (see 'medchain proof --help')");
    const char *id_hex = a.positional[0];
    mc_hash id;
    if (!is_hex64(id_hex) || mc_hex_decode(id.b, sizeof id.b, id_hex))
        return mc_cli_error(MC_CLI_USAGE, "a transaction id is 64 hex digits");
    const char *height_arg = mc_cli_arg(&a, "height");
    uint64_t height = 0;
    if (height_arg && !mc_cli_parse_u64(height_arg, &height))
        return mc_cli_error(MC_CLI_USAGE, "--height must be a block height");

    char path[160];
    if (height_arg)
        snprintf(path, sizeof path, "/v1/proof/%s?height=%llu", id_hex, (unsigned long long)height);
    else
        snprintf(path, sizeof path, "/v1/proof/%s", id_hex);
    struct mc_client c;
    int rc = mc_cli_client_open(&c, &a);
    if (rc) return rc;
    json_t *j = NULL;
    mc_err_clear();
    rc = mc_client_get_json(&c, path, &j);
    if (rc) {
        mc_client_deinit(&c);
        char what[128];
        snprintf(what, sizeof what, "proof of %s", id_hex);
        return mc_cli_api_error(rc, what);
    }
    if ((rc = print_json(j))) goto out;

    static const char *const index_names[] = {"leaf_index", "index", "log_index", NULL};
    static const char *const size_names[] = {"tree_size", "size", "log_size", NULL};
    static const char *const path_names[] = {"audit_path", "path", "inclusion_path", NULL};
    static const char *const root_names[] = {"root", "root_hash", "log_root", NULL};
    static const char *const leaf_names[] = {"leaf_hash", NULL};
    uint64_t index, size;
    mc_hash root;
    json_t *audit = field(j, path_names);
    if (!get_u64(field(j, index_names), &index) || !get_u64(field(j, size_names), &size) ||
        !get_hash(field(j, root_names), &root) || !json_is_array(audit)) {
        rc = mc_cli_error(MC_CLI_FAIL, "proof: the answer lacks a leaf index, tree size, audit path or root");
        goto out;
    }
    size_t path_len = json_array_size(audit);
    if (path_len > MC_MERKLE_PATH_MAX) {
        rc = mc_cli_error(MC_CLI_FAIL, "proof: audit path of %zu hashes is longer than %d", path_len,
                          MC_MERKLE_PATH_MAX);
        goto out;
    }
    mc_hash hashes[MC_MERKLE_PATH_MAX];
    for (size_t i = 0; i < path_len; i++) {
        if (!get_hash(json_array_get(audit, i), &hashes[i])) {
            rc = mc_cli_error(MC_CLI_FAIL, "proof: audit path entry %zu is not a 64-digit hex hash", i);
            goto out;
        }
    }

    /* The leaf: the transaction's own bytes, bound to the id asked for. */
    struct mc_buf tx;
    mc_buf_init(&tx, MC_TX_MAX);
    if (tx_bytes_from(j, &tx) != 0) {
        char tx_path[128];
        snprintf(tx_path, sizeof tx_path, "/v1/tx/%s", id_hex);
        json_t *tj = NULL;
        mc_err_clear();
        int trc = mc_client_get_json(&c, tx_path, &tj);
        if (trc || tx_bytes_from(tj, &tx) != 0) {
            json_decref(tj);
            mc_buf_deinit(&tx);
            rc = mc_cli_error(MC_CLI_FAIL, "proof: cannot get the bytes of transaction %s%s%s", id_hex,
                              trc ? ": " : "", trc ? mc_cli_detail(trc) : "");
            goto out;
        }
        json_decref(tj);
    }
    mc_hash got;
    mc_tx_id(&got, tx.data, tx.len);
    if (sodium_memcmp(got.b, id.b, sizeof id.b) != 0) {
        mc_buf_deinit(&tx);
        rc = mc_cli_error(MC_CLI_FAIL, "proof: the node's transaction bytes do not hash to %s", id_hex);
        goto out;
    }
    mc_hash leaf;
    mc_merkle_leaf_hash(&leaf, tx.data, tx.len);
    mc_buf_deinit(&tx);
    mc_hash stated;
    json_t *leaf_field = field(j, leaf_names);
    if (leaf_field && (!get_hash(leaf_field, &stated) || sodium_memcmp(stated.b, leaf.b, sizeof leaf.b))) {
        rc = mc_cli_error(MC_CLI_FAIL, "proof: the stated leaf hash is not the transaction's leaf hash");
        goto out;
    }
    int vrc = mc_merkle_verify_inclusion(&leaf, index, size, hashes, path_len, &root);
    if (vrc) {
        rc = mc_cli_error(MC_CLI_FAIL, "proof: does not verify (%s): leaf %llu of tree size %llu",
                          vrc == MC_ERR_TAMPERED ? "root mismatch" : "malformed proof",
                          (unsigned long long)index, (unsigned long long)size);
        goto out;
    }
    /* The header the proof names must carry the same log root. */
    json_t *header = json_object_get(j, "header");
    mc_hash header_root;
    if (json_is_object(header) && json_object_get(header, "log_root") &&
        (!get_hash(json_object_get(header, "log_root"), &header_root) ||
         sodium_memcmp(header_root.b, root.b, sizeof root.b) != 0)) {
        rc = mc_cli_error(MC_CLI_FAIL, "proof: the root is not the header's log_root");
        goto out;
    }
    printf("proof: verified (leaf %llu of tree size %llu)\n", (unsigned long long)index,
           (unsigned long long)size);
    /* When the answer also proves the transaction's place in its block,
     * check that against the block's tx_root too. */
    json_t *block = json_object_get(j, "block");
    if (json_is_object(block)) {
        uint64_t b_height, b_index, b_count;
        mc_hash tx_root;
        json_t *b_path = json_object_get(block, "audit_path");
        size_t bn = json_array_size(b_path);
        bool ok = get_u64(json_object_get(block, "height"), &b_height) &&
                  get_u64(json_object_get(block, "index"), &b_index) &&
                  get_u64(json_object_get(block, "tx_count"), &b_count) &&
                  get_hash(json_object_get(block, "tx_root"), &tx_root) && json_is_array(b_path) &&
                  bn <= MC_MERKLE_PATH_MAX;
        for (size_t i = 0; ok && i < bn; i++) ok = get_hash(json_array_get(b_path, i), &hashes[i]);
        if (!ok || mc_merkle_verify_inclusion(&leaf, b_index, b_count, hashes, bn, &tx_root)) {
            rc = mc_cli_error(MC_CLI_FAIL, "proof: the block part of the proof does not verify");
            goto out;
        }
        printf("block: verified (tx %llu of %llu in block %llu)\n", (unsigned long long)b_index,
               (unsigned long long)b_count, (unsigned long long)b_height);
    }
    rc = MC_CLI_OK;
out:
    json_decref(j);
    mc_client_deinit(&c);
    return rc;
}
