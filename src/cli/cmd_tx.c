/* Commands that build, sign and submit transactions:
 * `member enroll|revoke`, `patient register`, `key rotate`, `smart register|revoke`
 * (SMART system clients, docs/SMART.md), `tx submit`, `tx build`.
 *
 * A signed command runs the same steps: read the sender's key, ask the node
 * for the chain id (GET /v1/status) and the sender's last nonce (GET
 * /v1/account/{key}; an unknown account starts at 0 so the node itself
 * names the refusal), build the payload, sign, POST /v1/tx, then poll GET
 * /v1/tx/{id} every 50 ms until the transaction is committed or rejected,
 * or --timeout seconds pass. Output on success:
 *   id: <hex>
 *   status: committed
 *   height: <n>
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/identity.h"
#include "app/smart_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "base/limits.h"
#include "chain/tx.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/txbuild.h"
#include "crypto/keyfile.h"

#define POLL_INTERVAL_MS 50
#define DEFAULT_TIMEOUT_S 10.0

#define SIGNER_SPEC                                                                         \
    {"node", true}, {"key", true}, {"passphrase-file", true}, {"nonce", true},              \
        {"no-wait", false}, {"timeout", true}

struct submit_opts {
    bool wait;
    double timeout_s;
    bool raw;
};

static int parse_submit_opts(struct submit_opts *o, const struct mc_cli_args *a) {
    o->wait = !mc_cli_flag(a, "no-wait");
    o->timeout_s = DEFAULT_TIMEOUT_S;
    o->raw = false;
    const char *t = mc_cli_arg(a, "timeout");
    if (t) {
        char *end = NULL;
        errno = 0;
        double v = strtod(t, &end);
        if (errno || end == t || *end || !isfinite(v) || v <= 0 || v > 86400)
            return mc_cli_error(MC_CLI_USAGE, "--timeout must be a number of seconds (0 < S <= 86400)");
        o->timeout_s = v;
    }
    return 0;
}

static uint64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A JSON value as u64: a non-negative integer or a decimal string. */
static bool json_u64(const json_t *v, uint64_t *out) {
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0) return false;
        *out = (uint64_t)i;
        return true;
    }
    if (json_is_string(v)) return mc_cli_parse_u64(json_string_value(v), out);
    return false;
}

static int fetch_chain_id(struct mc_client *c, char out[MC_CHAIN_ID_MAX + 1]) {
    json_t *st = NULL;
    mc_err_clear();
    int rc = mc_client_get_json(c, "/v1/status", &st);
    if (rc) return mc_cli_api_error(rc, "cannot get the node's status");
    json_t *v = json_object_get(st, "chain_id");
    const char *id = json_is_string(v) ? json_string_value(v) : NULL;
    if (!id || strlen(id) > MC_CHAIN_ID_MAX) {
        json_decref(st);
        return mc_cli_error(MC_CLI_FAIL, "the node's status has no valid chain_id");
    }
    memcpy(out, id, strlen(id) + 1);
    json_decref(st);
    return MC_CLI_OK;
}

/* Next nonce of the account: its "nonce" (the last one used) + 1. */
static int fetch_next_nonce(struct mc_client *c, const mc_pubkey *pk, uint64_t *next) {
    char path[128], hex[2 * MC_PUBKEY_BYTES + 1];
    mc_hex_encode(hex, pk->b, MC_PUBKEY_BYTES);
    snprintf(path, sizeof path, "/v1/account/%s", hex);
    json_t *acc = NULL;
    mc_err_clear();
    int rc = mc_client_get_json(c, path, &acc);
    if (rc == MC_ERR_NOT_FOUND || rc == MC_ERR_UNKNOWN_ACCOUNT) {
        /* Unknown to the ledger: submit anyway, the node names the refusal. */
        *next = 1;
        return MC_CLI_OK;
    }
    if (rc) {
        char what[128];
        snprintf(what, sizeof what, "cannot get account %s", hex);
        return mc_cli_api_error(rc, what);
    }
    uint64_t last = 0;
    json_t *v = json_object_get(acc, "nonce");
    bool ok = json_u64(v, &last) && last < UINT64_MAX;
    json_decref(acc);
    if (!ok) return mc_cli_error(MC_CLI_FAIL, "account %s has no valid nonce in the node's answer", hex);
    *next = last + 1;
    return MC_CLI_OK;
}

static const char *json_text(const json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Posts the transaction and, unless told not to, waits for its fate. */
static int submit(struct mc_client *c, const uint8_t *tx, size_t len, const struct submit_opts *o) {
    mc_hash id;
    mc_tx_id(&id, tx, len);
    char id_hex[2 * MC_HASH_BYTES + 1];
    mc_hex_encode(id_hex, id.b, sizeof id.b);

    struct mc_buf body;
    mc_buf_init(&body, 0);
    const char *content_type;
    if (o->raw) {
        mc_buf_append(&body, tx, len);
        content_type = "application/octet-stream";
    } else {
        char *hex = malloc(2 * len + 1);
        if (!hex) {
            mc_buf_deinit(&body);
            return mc_cli_error(MC_CLI_FAIL, "out of memory");
        }
        mc_hex_encode(hex, tx, len);
        mc_buf_append(&body, "{\"tx\":\"", 7);
        mc_buf_append(&body, hex, 2 * len);
        mc_buf_append(&body, "\"}", 2);
        free(hex);
        content_type = "application/json";
    }
    if (body.err) {
        mc_buf_deinit(&body);
        return mc_cli_error(MC_CLI_FAIL, "out of memory");
    }
    struct mc_client_response r;
    mc_err_clear();
    int rc = mc_client_request(c, "POST", "/v1/tx", content_type, body.data, body.len, &r);
    mc_buf_deinit(&body);
    if (rc) {
        mc_client_response_deinit(&r);
        return mc_cli_error(MC_CLI_FAIL, "%s", mc_cli_detail(rc));
    }
    if (r.status < 200 || r.status > 299) {
        char text[768];
        mc_client_error_text(&r, text, sizeof text);
        mc_client_response_deinit(&r);
        return mc_cli_error(MC_CLI_FAIL, "transaction refused: %s", text);
    }
    /* The node's id must be the one computed here: same bytes, same hash. */
    const char *server_id = json_is_object(r.json) ? json_text(r.json, "id") : NULL;
    if (server_id && strcasecmp(server_id, id_hex) != 0) {
        mc_client_response_deinit(&r);
        return mc_cli_error(MC_CLI_FAIL, "node accepted the transaction under another id (%s, "
                            "expected %s)", server_id, id_hex);
    }
    mc_client_response_deinit(&r);
    printf("id: %s\n", id_hex);
    fflush(stdout);
    if (!o->wait) return MC_CLI_OK;

    char path[128];
    snprintf(path, sizeof path, "/v1/tx/%s", id_hex);
    uint64_t deadline = monotonic_ms() + (uint64_t)llround(o->timeout_s * 1000.0);
    char last_status[32] = "unknown";
    for (;;) {
        struct mc_client_response q;
        mc_err_clear();
        rc = mc_client_request(c, "GET", path, NULL, NULL, 0, &q);
        if (rc) {
            mc_client_response_deinit(&q);
            return mc_cli_error(MC_CLI_FAIL, "transaction %s submitted, but polling failed: %s",
                                id_hex, mc_cli_detail(rc));
        }
        if (q.status >= 200 && q.status <= 299 && json_is_object(q.json)) {
            const char *status = json_text(q.json, "status");
            if (status) snprintf(last_status, sizeof last_status, "%s", status);
            if (status && strcmp(status, "committed") == 0) {
                uint64_t height = 0;
                bool have_height = json_u64(json_object_get(q.json, "height"), &height);
                printf("status: committed\n");
                if (have_height) printf("height: %llu\n", (unsigned long long)height);
                uint64_t v;
                if (json_u64(json_object_get(q.json, "index"), &v))
                    printf("index: %llu\n", (unsigned long long)v);
                if (json_u64(json_object_get(q.json, "log_index"), &v))
                    printf("log_index: %llu\n", (unsigned long long)v);
                mc_client_response_deinit(&q);
                return MC_CLI_OK;
            }
            if (status && strcmp(status, "rejected") == 0) {
                const char *reason = json_text(q.json, "reason");
                const char *err = json_text(q.json, "error");
                char text[768];
                if (!reason) reason = mc_client_error_text(&q, text, sizeof text);
                printf("status: rejected\n");
                fflush(stdout);
                int code = mc_cli_error(MC_CLI_FAIL, "transaction %s rejected: %s%s%s", id_hex,
                                        err ? err : "", err ? ": " : "", reason);
                mc_client_response_deinit(&q);
                return code;
            }
        } else if (q.status != 404) {
            char text[768];
            mc_client_error_text(&q, text, sizeof text);
            mc_client_response_deinit(&q);
            return mc_cli_error(MC_CLI_FAIL, "transaction %s submitted, but polling failed: %s",
                                id_hex, text);
        }
        mc_client_response_deinit(&q);
        if (monotonic_ms() >= deadline) break;
        sleep_ms(POLL_INTERVAL_MS);
    }
    printf("status: %s\n", last_status);
    fflush(stdout);
    return mc_cli_error(MC_CLI_FAIL, "transaction %s not committed within %g s (status: %s)",
                        id_hex, o->timeout_s, last_status);
}

/* What every signed command shares: client, key, chain id, nonce. */
struct signer {
    struct mc_client client;
    struct mc_keypair *kp;
    char chain_id[MC_CHAIN_ID_MAX + 1];
    uint64_t nonce;
    struct submit_opts opts;
};

static void signer_deinit(struct signer *s) {
    mc_client_deinit(&s->client);
    mc_cli_key_free(s->kp);
    s->kp = NULL;
}

static int signer_open(struct signer *s, const struct mc_cli_args *a, const char *words) {
    memset(s, 0, sizeof *s);
    if (mc_cli_require(a, words, "key")) return MC_CLI_USAGE;
    int rc = parse_submit_opts(&s->opts, a);
    if (rc) return rc;
    const char *nonce = mc_cli_arg(a, "nonce");
    if (nonce && !mc_cli_parse_u64(nonce, &s->nonce))
        return mc_cli_error(MC_CLI_USAGE, "--nonce must be an unsigned decimal number");
    if ((rc = mc_cli_client_open(&s->client, a))) return rc;
    if ((rc = mc_cli_key_load(&s->kp, mc_cli_arg(a, "key"), mc_cli_arg(a, "passphrase-file"),
                              "sender"))) {
        signer_deinit(s);
        return rc;
    }
    if ((rc = fetch_chain_id(&s->client, s->chain_id))) {
        signer_deinit(s);
        return rc;
    }
    if (!nonce && (rc = fetch_next_nonce(&s->client, &s->kp->pk, &s->nonce))) {
        signer_deinit(s);
        return rc;
    }
    return MC_CLI_OK;
}

static int sign_and_submit(struct signer *s, uint16_t type, const struct mc_buf *payload) {
    struct mc_buf tx;
    mc_buf_init(&tx, 0);
    mc_hash id;
    int rc = mc_txbuild_sign(&tx, &id, s->chain_id, type, s->kp, s->nonce, payload->data,
                             payload->len);
    if (rc) {
        mc_buf_deinit(&tx);
        return mc_cli_error(MC_CLI_FAIL, "cannot build the transaction: %s", mc_strerror(rc));
    }
    rc = submit(&s->client, tx.data, tx.len, &s->opts);
    mc_buf_deinit(&tx);
    return rc;
}

/* --member-key FILE or --member-pub HEX, exactly one. */
static int member_key(mc_pubkey *pk, const struct mc_cli_args *a, const char *words) {
    const char *file = mc_cli_arg(a, "member-key"), *hex = mc_cli_arg(a, "member-pub");
    if (!!file == !!hex)
        return mc_cli_error(MC_CLI_USAGE, "give exactly one of --member-key FILE or --member-pub HEX "
                            "(see 'medchain %s --help')", words);
    if (hex) {
        if (mc_hex_decode(pk->b, MC_PUBKEY_BYTES, hex))
            return mc_cli_error(MC_CLI_USAGE, "--member-pub must be 64 hex digits");
        return MC_CLI_OK;
    }
    mc_err_clear();
    int rc = mc_keyfile_read_public(pk, file);
    if (rc) return mc_cli_error(MC_CLI_FAIL, "cannot read member key %s: %s", file, mc_cli_detail(rc));
    return MC_CLI_OK;
}

int mc_cli_cmd_member_enroll(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        SIGNER_SPEC, {"member-key", true}, {"member-pub", true}, {"role", true}, {"name", true},
    };
    static const char words[] = "member enroll";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "role") || mc_cli_require(&a, words, "name")) return MC_CLI_USAGE;
    const char *role_name = mc_cli_arg(&a, "role"), *name = mc_cli_arg(&a, "name");
    uint8_t role = mc_role_from_name(role_name);
    if (role == 0)
        return mc_cli_error(MC_CLI_USAGE, "unknown role '%s' (clinician, pharmacist, researcher, "
                            "auditor, manufacturer, distributor, pharmacy, regulator)", role_name);
    if (name[0] == 0 || strlen(name) >= MC_NAME_MAX)
        return mc_cli_error(MC_CLI_USAGE, "--name must be 1 to %d bytes", MC_NAME_MAX - 1);
    mc_pubkey member;
    int rc = member_key(&member, &a, words);
    if (rc) return rc;
    struct signer s;
    if ((rc = signer_open(&s, &a, words))) return rc;
    struct mc_buf payload;
    mc_buf_init(&payload, 0);
    if (mc_txbuild_enroll(&payload, &member, role, name))
        rc = mc_cli_error(MC_CLI_FAIL, "cannot encode the enrollment");
    else
        rc = sign_and_submit(&s, MC_TX_ENROLL_MEMBER, &payload);
    mc_buf_deinit(&payload);
    signer_deinit(&s);
    return rc;
}

int mc_cli_cmd_member_revoke(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        SIGNER_SPEC, {"member-key", true}, {"member-pub", true}, {"reason", true},
    };
    static const char words[] = "member revoke";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    const char *reason = mc_cli_arg(&a, "reason");
    if (!reason) reason = "";
    if (strlen(reason) > 255) return mc_cli_error(MC_CLI_USAGE, "--reason must be at most 255 bytes");
    mc_pubkey member;
    int rc = member_key(&member, &a, words);
    if (rc) return rc;
    struct signer s;
    if ((rc = signer_open(&s, &a, words))) return rc;
    struct mc_buf payload;
    mc_buf_init(&payload, 0);
    if (mc_txbuild_revoke(&payload, &member, reason))
        rc = mc_cli_error(MC_CLI_FAIL, "cannot encode the revocation");
    else
        rc = sign_and_submit(&s, MC_TX_REVOKE_MEMBER, &payload);
    mc_buf_deinit(&payload);
    signer_deinit(&s);
    return rc;
}

/* base64url without padding of exactly n bytes into out. */
static bool b64url_exact(uint8_t *out, size_t n, const char *s) {
    size_t got = 0;
    const char *end = NULL;
    return s && sodium_base642bin(out, n, s, strlen(s), NULL, &got, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
           got == n && end == s + strlen(s);
}

/* The public key of a SMART client: --client-pub HEX (Ed25519), or --jwk
 * FILE holding its public JWK: OKP Ed25519 (x) or EC P-384 (x, y); a
 * private JWK's "d" is ignored. */
static int client_key(uint8_t *alg, uint8_t key[MC_SMART_KEY_MAX], size_t *key_len, const struct mc_cli_args *a,
                      const char *words) {
    const char *hex = mc_cli_arg(a, "client-pub"), *file = mc_cli_arg(a, "jwk");
    if (!hex == !file) return mc_cli_error(MC_CLI_USAGE, "%s: give --jwk FILE or --client-pub HEX", words);
    if (hex) {
        if (strlen(hex) != 64 || mc_hex_decode(key, 32, hex))
            return mc_cli_error(MC_CLI_USAGE, "--client-pub must be 64 hex digits (an Ed25519 key)");
        *alg = MC_SMART_ALG_EDDSA;
        *key_len = 32;
        return 0;
    }
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = mc_cli_file_read(&text, &len, file, MC_KEYFILE_MAX);
    if (rc) return rc;
    json_t *j = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    const char *kty = json_string_value(json_object_get(j, "kty")), *crv = json_string_value(json_object_get(j, "crv"));
    const char *x = json_string_value(json_object_get(j, "x")), *y = json_string_value(json_object_get(j, "y"));
    rc = 0;
    if (kty && crv && !strcmp(kty, "OKP") && !strcmp(crv, "Ed25519") && b64url_exact(key, 32, x)) {
        *alg = MC_SMART_ALG_EDDSA;
        *key_len = 32;
    } else if (kty && crv && !strcmp(kty, "EC") && !strcmp(crv, "P-384") && b64url_exact(key + 1, 48, x) &&
               b64url_exact(key + 49, 48, y)) {
        key[0] = 0x04;
        *alg = MC_SMART_ALG_ES384;
        *key_len = 97;
    } else {
        rc = mc_cli_error(MC_CLI_FAIL, "%s is not an Ed25519 (OKP) or P-384 (EC) public JWK", file);
    }
    json_decref(j);
    return rc;
}

int mc_cli_cmd_smart_register(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        SIGNER_SPEC, {"client-id", true}, {"jwk", true}, {"client-pub", true}, {"name", true},
    };
    static const char words[] = "smart register";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "client-id")) return MC_CLI_USAGE;
    struct mc_smart_payload p;
    memset(&p, 0, sizeof p);
    p.type = MC_TX_SMART_CLIENT;
    const char *id = mc_cli_arg(&a, "client-id"), *name = mc_cli_arg(&a, "name");
    if (!mc_smart_client_id_valid(id))
        return mc_cli_error(MC_CLI_USAGE, "--client-id is 1 to %d of letters, digits, '-', '.', '_'", MC_SMART_CLIENT_ID_MAX);
    if (name && strlen(name) > MC_SMART_CLIENT_NAME_MAX)
        return mc_cli_error(MC_CLI_USAGE, "--name must be at most %d bytes", MC_SMART_CLIENT_NAME_MAX);
    uint8_t key[MC_SMART_KEY_MAX];
    int rc = client_key(&p.alg, key, &p.key_len, &a, words);
    if (rc) return rc;
    snprintf(p.client, sizeof p.client, "%s", id);
    snprintf(p.name, sizeof p.name, "%s", name ? name : "");
    p.key = key;
    struct signer s;
    if ((rc = signer_open(&s, &a, words))) return rc;
    struct mc_buf payload;
    mc_buf_init(&payload, 0);
    if (mc_smart_payload_encode(&payload, &p)) rc = mc_cli_error(MC_CLI_FAIL, "cannot encode the registration");
    else rc = sign_and_submit(&s, MC_TX_SMART_CLIENT, &payload);
    mc_buf_deinit(&payload);
    signer_deinit(&s);
    return rc;
}

int mc_cli_cmd_smart_revoke(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"client-id", true}};
    static const char words[] = "smart revoke";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "client-id")) return MC_CLI_USAGE;
    const char *id = mc_cli_arg(&a, "client-id");
    if (!mc_smart_client_id_valid(id)) return mc_cli_error(MC_CLI_USAGE, "--client-id is not a client id");
    struct mc_smart_payload p;
    memset(&p, 0, sizeof p);
    p.type = MC_TX_SMART_CLIENT_REVOKE;
    snprintf(p.client, sizeof p.client, "%s", id);
    struct signer s;
    int rc = signer_open(&s, &a, words);
    if (rc) return rc;
    struct mc_buf payload;
    mc_buf_init(&payload, 0);
    if (mc_smart_payload_encode(&payload, &p)) rc = mc_cli_error(MC_CLI_FAIL, "cannot encode the revocation");
    else rc = sign_and_submit(&s, MC_TX_SMART_CLIENT_REVOKE, &payload);
    mc_buf_deinit(&payload);
    signer_deinit(&s);
    return rc;
}

/* Both patient registration and key rotation carry a second key's
 * signature: load that key, build the payload with it, submit, and print
 * the second key's public half under `label`. */
typedef int (*second_key_builder)(struct mc_buf *payload, const struct mc_keypair *second,
                                  const char *chain_id, const mc_pubkey *sender);

static int submit_with_second_key(struct mc_cli_args *a, const char *words, const char *key_opt,
                                  const char *pass_opt, const char *role, uint16_t type,
                                  second_key_builder build, const char *label) {
    if (mc_cli_require(a, words, key_opt)) return MC_CLI_USAGE;
    struct signer s;
    int rc = signer_open(&s, a, words);
    if (rc) return rc;
    struct mc_keypair *second = NULL;
    if ((rc = mc_cli_key_load(&second, mc_cli_arg(a, key_opt), mc_cli_arg(a, pass_opt), role))) {
        signer_deinit(&s);
        return rc;
    }
    struct mc_buf payload;
    mc_buf_init(&payload, 0);
    if (build(&payload, second, s.chain_id, &s.kp->pk)) {
        rc = mc_cli_error(MC_CLI_FAIL, "cannot encode the %s", mc_txtypes_name(type));
    } else {
        char hex[2 * MC_PUBKEY_BYTES + 1];
        mc_hex_encode(hex, second->pk.b, MC_PUBKEY_BYTES);
        rc = sign_and_submit(&s, type, &payload);
        if (rc == MC_CLI_OK) printf("%s: %s\n", label, hex);
    }
    mc_buf_deinit(&payload);
    mc_cli_key_free(second);
    signer_deinit(&s);
    return rc;
}

int mc_cli_cmd_patient_register(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        SIGNER_SPEC, {"patient-key", true}, {"patient-passphrase-file", true},
    };
    static const char words[] = "patient register";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    return submit_with_second_key(&a, words, "patient-key", "patient-passphrase-file", "patient",
                                  MC_TX_REGISTER_PATIENT, mc_txbuild_register_patient, "patient");
}

int mc_cli_cmd_key_rotate(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        SIGNER_SPEC, {"new-key", true}, {"new-passphrase-file", true},
    };
    static const char words[] = "key rotate";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    return submit_with_second_key(&a, words, "new-key", "new-passphrase-file", "new",
                                  MC_TX_ROTATE_KEY, mc_txbuild_rotate_key, "new_key");
}

/* Whether the whole text (ignoring surrounding whitespace) is hex. */
static bool trim_hex(const uint8_t *p, size_t len, size_t *start, size_t *n) {
    size_t b = 0, e = len;
    while (b < e && (p[b] == ' ' || p[b] == '\n' || p[b] == '\r' || p[b] == '\t')) b++;
    while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\n' || p[e - 1] == '\r' || p[e - 1] == '\t')) e--;
    if (e == b || (e - b) % 2) return false;
    for (size_t i = b; i < e; i++) {
        uint8_t ch = p[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return false;
    }
    *start = b;
    *n = e - b;
    return true;
}

/* Reads a file holding bytes either raw or as hex. The version byte of a
 * transaction (0x01) is not a hex digit, so the two never mix up. */
static int read_bytes_or_hex(uint8_t **out, size_t *len, const char *path) {
    uint8_t *data;
    size_t n;
    int rc = mc_cli_file_read(&data, &n, path, MC_CLI_TX_FILE_MAX);
    if (rc) return rc;
    if (n == 0) {
        free(data);
        return mc_cli_error(MC_CLI_FAIL, "%s is empty; it should hold a transaction", path);
    }
    size_t start, hex_len;
    if (trim_hex(data, n, &start, &hex_len)) {
        data[start + hex_len] = 0;
        size_t got = 0;
        uint8_t *bin = malloc(hex_len / 2 + 1);
        if (!bin || mc_hex_decode_var(bin, hex_len / 2, &got, (const char *)data + start)) {
            free(bin);
            free(data);
            return mc_cli_error(MC_CLI_FAIL, "cannot decode the hex in %s", path);
        }
        free(data);
        *out = bin;
        *len = got;
        return MC_CLI_OK;
    }
    *out = data;
    *len = n;
    return MC_CLI_OK;
}

int mc_cli_cmd_tx_submit(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        {"file", true}, {"raw", false}, {"node", true}, {"no-wait", false}, {"timeout", true},
    };
    static const char words[] = "tx submit";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "file")) return MC_CLI_USAGE;
    struct submit_opts o;
    int rc = parse_submit_opts(&o, &a);
    if (rc) return rc;
    o.raw = mc_cli_flag(&a, "raw");
    uint8_t *tx = NULL;
    size_t len = 0;
    if ((rc = read_bytes_or_hex(&tx, &len, mc_cli_arg(&a, "file")))) return rc;
    struct mc_client c;
    if ((rc = mc_cli_client_open(&c, &a))) {
        free(tx);
        return rc;
    }
    rc = submit(&c, tx, len, &o);
    mc_client_deinit(&c);
    free(tx);
    return rc;
}

int mc_cli_cmd_tx_build(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        {"type", true},  {"payload-hex", true}, {"payload-file", true},    {"nonce", true},
        {"chain-id", true}, {"key", true},      {"passphrase-file", true}, {"out", true},
        {"node", true},
    };
    static const char words[] = "tx build";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "type") || mc_cli_require(&a, words, "key") ||
        mc_cli_require(&a, words, "out"))
        return MC_CLI_USAGE;
    const char *type_arg = mc_cli_arg(&a, "type");
    uint64_t type_num = 0;
    uint16_t type = mc_txtypes_from_name(type_arg);
    if (type == 0) {
        /* A number allows unknown types on purpose (tests of refusal). */
        if (!mc_cli_parse_u64(type_arg, &type_num) || type_num > UINT16_MAX)
            return mc_cli_error(MC_CLI_USAGE, "unknown transaction type '%s' (enroll_member, "
                                "revoke_member, register_patient, rotate_key, or a number)", type_arg);
        type = (uint16_t)type_num;
    }
    const char *payload_hex = mc_cli_arg(&a, "payload-hex"), *payload_file = mc_cli_arg(&a, "payload-file");
    if (payload_hex && payload_file)
        return mc_cli_error(MC_CLI_USAGE, "give --payload-hex or --payload-file, not both");
    if (!payload_hex && !payload_file)
        return mc_cli_error(MC_CLI_USAGE, "missing --payload-hex or --payload-file (see 'medchain tx build --help')");
    uint64_t nonce = 0;
    const char *nonce_arg = mc_cli_arg(&a, "nonce");
    if (nonce_arg && !mc_cli_parse_u64(nonce_arg, &nonce))
        return mc_cli_error(MC_CLI_USAGE, "--nonce must be an unsigned decimal number");
    const char *chain_arg = mc_cli_arg(&a, "chain-id");
    if (chain_arg && strlen(chain_arg) > MC_CHAIN_ID_MAX)
        return mc_cli_error(MC_CLI_USAGE, "--chain-id must be at most %d bytes", MC_CHAIN_ID_MAX);

    uint8_t *payload = NULL;
    size_t payload_len = 0;
    int rc;
    if (payload_file) {
        if ((rc = mc_cli_file_read(&payload, &payload_len, payload_file, MC_CLI_TX_FILE_MAX))) return rc;
    } else {
        size_t hl = strlen(payload_hex);
        payload = malloc(hl / 2 + 1);
        if (!payload) return mc_cli_error(MC_CLI_FAIL, "out of memory");
        if (hl % 2 || (hl && mc_hex_decode_var(payload, hl / 2, &payload_len, payload_hex))) {
            free(payload);
            return mc_cli_error(MC_CLI_USAGE, "--payload-hex is not an even number of hex digits");
        }
    }
    struct mc_keypair *kp = NULL;
    if ((rc = mc_cli_key_load(&kp, mc_cli_arg(&a, "key"), mc_cli_arg(&a, "passphrase-file"),
                              "sender"))) {
        free(payload);
        return rc;
    }
    char chain_id[MC_CHAIN_ID_MAX + 1] = "";
    if (chain_arg) memcpy(chain_id, chain_arg, strlen(chain_arg) + 1);
    if (!chain_arg || !nonce_arg) {
        struct mc_client c;
        rc = mc_cli_client_open(&c, &a);
        if (!rc && !chain_arg) rc = fetch_chain_id(&c, chain_id);
        if (!rc && !nonce_arg) rc = fetch_next_nonce(&c, &kp->pk, &nonce);
        mc_client_deinit(&c);
        if (rc) {
            mc_cli_key_free(kp);
            free(payload);
            return rc;
        }
    }
    struct mc_buf tx;
    mc_buf_init(&tx, 0);
    mc_hash id;
    rc = mc_txbuild_sign(&tx, &id, chain_id, type, kp, nonce, payload, payload_len);
    mc_cli_key_free(kp);
    free(payload);
    if (rc) {
        mc_buf_deinit(&tx);
        return mc_cli_error(MC_CLI_FAIL, "cannot build the transaction: %s", mc_strerror(rc));
    }
    const char *out = mc_cli_arg(&a, "out");
    char *hex = malloc(2 * tx.len + 1);
    FILE *f = hex ? fopen(out, "w") : NULL;
    if (!f) {
        int e = errno;
        free(hex);
        mc_buf_deinit(&tx);
        return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", out, strerror(e));
    }
    mc_hex_encode(hex, tx.data, tx.len);
    bool ok = fputs(hex, f) >= 0 && fputc('\n', f) != EOF;
    ok = (fclose(f) == 0) && ok;
    free(hex);
    size_t tx_len = tx.len;
    mc_buf_deinit(&tx);
    if (!ok) return mc_cli_error(MC_CLI_FAIL, "cannot write %s", out);
    char id_hex[2 * MC_HASH_BYTES + 1];
    mc_hex_encode(id_hex, id.b, sizeof id.b);
    printf("id: %s\n", id_hex);
    printf("chain_id: %s\n", chain_id);
    printf("nonce: %llu\n", (unsigned long long)nonce);
    printf("bytes: %zu\n", tx_len);
    printf("out: %s\n", out);
    return MC_CLI_OK;
}

/* For the other command files (cmd_drug.c): opens the signer of the
 * command's arguments (which must include the SIGNER_SPEC options), signs
 * the payload as a transaction of `type`, submits it and waits as the
 * options say. Returns an MC_CLI_* code (errors printed). */
int mc_cli_sign_submit(const struct mc_cli_args *a, const char *words, uint16_t type,
                       const struct mc_buf *payload) {
    struct signer s;
    int rc = signer_open(&s, a, words);
    if (rc) return rc;
    rc = sign_and_submit(&s, type, payload);
    signer_deinit(&s);
    return rc;
}
