/* `medchain invite create|list|accept|register`: a patient joins by a
 * clinician's invitation (src/api/routes_invite.c) without a key file
 * changing hands. The patient's side (accept) signs her consent to be
 * registered by the inviter with her own key; the clinician's side
 * (register) checks that consent and submits register_patient signed with
 * the clinician's key, as `patient register` does.
 *
 * Output: "key: value" lines; every failure one error line. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/identity.h"
#include "app/txtypes.h"
#include "base/codec.h"
#include "base/hex.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "crypto/sign.h"

#define SIGNER_OPTS \
    {"node", true}, {"key", true}, {"passphrase-file", true}, {"nonce", true}, {"no-wait", false}, {"timeout", true}

static int fail_answer(struct mc_client_response *r, const char *context) {
    char text[600];
    mc_client_error_text(r, text, sizeof text);
    int rc = mc_cli_error(MC_CLI_FAIL, "%s: HTTP %ld: %s", context, r->status, text);
    mc_client_response_deinit(r);
    return rc;
}

/* A request (signed by kp when given) whose 2xx JSON answer is left in r. */
static int call(struct mc_client *c, const struct mc_keypair *kp, const char *method, const char *path,
                const char *body, struct mc_client_response *r, const char *context) {
    size_t n = body ? strlen(body) : 0;
    int rc = kp ? mc_client_request_signed(c, method, path, body ? "application/json" : NULL, body, n, kp, NULL, 0, r)
                : mc_client_request(c, method, path, body ? "application/json" : NULL, body, n, r);
    if (rc) {
        mc_client_response_deinit(r);
        return mc_cli_api_error(rc, context);
    }
    if (r->status < 200 || r->status > 299 || !json_is_object(r->json)) return fail_answer(r, context);
    return MC_CLI_OK;
}

static const char *jstr(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int chain_id(struct mc_client *c, char out[MC_CHAIN_ID_MAX + 1]) {
    json_t *st = NULL;
    int rc = mc_client_get_json(c, "/v1/status", &st);
    if (rc) return mc_cli_api_error(rc, "cannot read the node's status");
    snprintf(out, MC_CHAIN_ID_MAX + 1, "%s", jstr(st, "chain_id"));
    json_decref(st);
    return MC_CLI_OK;
}

/* A code as the node prints it, from what the user typed. */
static int code_arg(char out[16], const struct mc_cli_args *a) {
    if (a->positional_count != 1) return mc_cli_error(MC_CLI_USAGE, "name the invitation code (like ABCD-EFGH-JKMN)");
    const char *s = a->positional[0];
    size_t n = 0;
    char raw[13];
    for (; *s; s++) {
        if (*s == '-' || *s == ' ') continue;
        char ch = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '2' && ch <= '9')) || n == 12)
            return mc_cli_error(MC_CLI_USAGE, "an invitation code is 12 letters and digits, like ABCD-EFGH-JKMN");
        raw[n++] = ch;
    }
    if (n != 12) return mc_cli_error(MC_CLI_USAGE, "an invitation code is 12 letters and digits, like ABCD-EFGH-JKMN");
    snprintf(out, 16, "%.4s-%.4s-%.4s", raw, raw + 4, raw + 8);
    return MC_CLI_OK;
}

int mc_cli_cmd_invite_create(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_OPTS};
    static const char words[] = "invite create";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "key")) return MC_CLI_USAGE;
    struct mc_keypair *kp = NULL;
    int rc = mc_cli_key_load(&kp, mc_cli_arg(&a, "key"), mc_cli_arg(&a, "passphrase-file"), "clinician");
    if (rc) return rc;
    struct mc_client c;
    if ((rc = mc_cli_client_open(&c, &a))) {
        mc_cli_key_free(kp);
        return rc;
    }
    struct mc_client_response r;
    rc = call(&c, kp, "POST", "/v1/invitations", "", &r, "cannot create the invitation");
    if (!rc) {
        printf("code: %s\nexpires: %s\nlink: %s%s\n", jstr(r.json, "code"), jstr(r.json, "expires"), c.base,
               jstr(r.json, "link"));
        mc_client_response_deinit(&r);
    }
    mc_client_deinit(&c);
    mc_cli_key_free(kp);
    return rc;
}

/* The signer's invitations (printed when print), the one named code in *found. */
static int my_invitations(struct mc_client *c, const struct mc_keypair *kp, const char *code, json_t **found,
                          bool print) {
    struct mc_client_response r;
    int rc = call(c, kp, "GET", "/v1/invitations", NULL, &r, "cannot list the invitations");
    if (rc) return rc;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r.json, "invitations"), i, it) {
        if (print) {
            printf("invitation: %s %s", jstr(it, "code"), jstr(it, "state"));
            if (json_object_get(it, "match_code"))
                printf(" match_code %s patient %s%s", jstr(it, "match_code"), jstr(it, "patient"),
                       json_is_true(json_object_get(it, "registered")) ? " registered" : "");
            printf(" expires %s\n", jstr(it, "expires"));
        }
        if (code && found && strcmp(jstr(it, "code"), code) == 0) *found = json_incref(it);
    }
    mc_client_response_deinit(&r);
    return MC_CLI_OK;
}

int mc_cli_cmd_invite_list(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_OPTS};
    static const char words[] = "invite list";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "key")) return MC_CLI_USAGE;
    struct mc_keypair *kp = NULL;
    int rc = mc_cli_key_load(&kp, mc_cli_arg(&a, "key"), mc_cli_arg(&a, "passphrase-file"), "clinician");
    if (rc) return rc;
    struct mc_client c;
    if (!(rc = mc_cli_client_open(&c, &a))) {
        rc = my_invitations(&c, kp, NULL, NULL, true);
        mc_client_deinit(&c);
    }
    mc_cli_key_free(kp);
    return rc;
}

int mc_cli_cmd_invite_accept(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}, {"patient-key", true}, {"patient-passphrase-file", true}};
    static const char words[] = "invite accept";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    char code[16];
    int rc = code_arg(code, &a);
    if (rc) return rc;
    if (mc_cli_require(&a, words, "patient-key")) return MC_CLI_USAGE;
    struct mc_keypair *kp = NULL;
    if ((rc = mc_cli_key_load(&kp, mc_cli_arg(&a, "patient-key"), mc_cli_arg(&a, "patient-passphrase-file"),
                              "patient")))
        return rc;
    struct mc_client c;
    if ((rc = mc_cli_client_open(&c, &a))) {
        mc_cli_key_free(kp);
        return rc;
    }
    char path[96], cid[MC_CHAIN_ID_MAX + 1];
    snprintf(path, sizeof path, "/v1/invitations/%s", code);
    struct mc_client_response r;
    mc_pubkey inviter;
    rc = chain_id(&c, cid);
    if (!rc) rc = call(&c, NULL, "GET", path, NULL, &r, "cannot read the invitation");
    if (!rc) {
        printf("inviter: %s\norganisation: %s\n", jstr(r.json, "inviter_name"), jstr(r.json, "org_name"));
        if (mc_hex_decode(inviter.b, 32, jstr(r.json, "inviter")))
            rc = mc_cli_error(MC_CLI_FAIL, "the node's answer names no inviter key");
        mc_client_response_deinit(&r);
    }
    if (!rc) {
        uint8_t sig[MC_SIG_BYTES];
        mc_identity_patient_consent_sign(sig, kp, cid, &inviter);
        char pk[65], sh[129], body[256];
        mc_hex_encode(pk, kp->pk.b, 32);
        mc_hex_encode(sh, sig, sizeof sig);
        snprintf(body, sizeof body, "{\"patient\":\"%s\",\"consent\":\"%s\"}", pk, sh);
        snprintf(path, sizeof path, "/v1/invitations/%s/accept", code);
        rc = call(&c, NULL, "POST", path, body, &r, "cannot accept the invitation");
        if (!rc) {
            printf("patient: %s\nmatch_code: %s\n", pk, jstr(r.json, "match_code"));
            mc_client_response_deinit(&r);
        }
    }
    mc_client_deinit(&c);
    mc_cli_key_free(kp);
    return rc;
}

int mc_cli_cmd_invite_register(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_OPTS};
    static const char words[] = "invite register";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    char code[16];
    int rc = code_arg(code, &a);
    if (rc) return rc;
    if (mc_cli_require(&a, words, "key")) return MC_CLI_USAGE;
    struct mc_keypair *kp = NULL;
    if ((rc = mc_cli_key_load(&kp, mc_cli_arg(&a, "key"), mc_cli_arg(&a, "passphrase-file"), "clinician")))
        return rc;
    struct mc_client c;
    if ((rc = mc_cli_client_open(&c, &a))) {
        mc_cli_key_free(kp);
        return rc;
    }
    json_t *inv = NULL;
    char cid[MC_CHAIN_ID_MAX + 1];
    rc = chain_id(&c, cid);
    if (!rc) rc = my_invitations(&c, kp, code, &inv, false);
    mc_client_deinit(&c);
    mc_pubkey patient;
    uint8_t consent[MC_SIG_BYTES];
    if (!rc && !inv) rc = mc_cli_error(MC_CLI_FAIL, "you have no invitation %s on this node (expired?)", code);
    else if (!rc && strcmp(jstr(inv, "state"), "accepted"))
        rc = mc_cli_error(MC_CLI_FAIL, "invitation %s is not accepted yet: the patient accepts it first", code);
    else if (!rc && (mc_hex_decode(patient.b, 32, jstr(inv, "patient")) ||
                     mc_hex_decode(consent, sizeof consent, jstr(inv, "consent")) ||
                     !mc_identity_patient_consent_valid(consent, &patient, cid, &kp->pk)))
        rc = mc_cli_error(MC_CLI_FAIL, "the patient's consent in invitation %s does not verify for you", code);
    if (!rc) {
        printf("match_code: %s\n", jstr(inv, "match_code"));
        struct mc_buf p;
        mc_buf_init(&p, 0);
        mc_enc_fixed(&p, patient.b, 32);
        mc_enc_fixed(&p, consent, sizeof consent);
        rc = mc_cli_sign_submit(&a, words, MC_TX_REGISTER_PATIENT, &p);
        mc_buf_deinit(&p);
        char hx[65];
        mc_hex_encode(hx, patient.b, 32);
        if (!rc) printf("registered: %s\n", hx);
    }
    json_decref(inv);
    mc_cli_key_free(kp);
    return rc;
}
