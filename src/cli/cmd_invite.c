/* `medchain invite create|list|accept|register`: a patient joins by a
 * clinician's invitation, a member by her organisation admin's
 * (src/api/routes_invite.c), without a key file changing hands. The
 * newcomer's side (accept) signs with her own key: a patient her consent
 * to be registered by the inviter, a member her acceptance (MC_SIGN_MEMBER
 * over inviter key || her key); the inviter's side (register) checks that
 * signature and submits register_patient, or enroll_member with the name
 * and role of the invitation, signed with the inviter's key.
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
#include "cli/txbuild.h"
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
    static const struct mc_cli_opt spec[] = {SIGNER_OPTS, {"member", false}, {"role", true}, {"name", true}};
    static const char words[] = "invite create";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "key")) return MC_CLI_USAGE;
    bool member = mc_cli_flag(&a, "member");
    const char *role = mc_cli_arg(&a, "role"), *name = mc_cli_arg(&a, "name");
    if (member && (!role || !name || !name[0]))
        return mc_cli_error(MC_CLI_USAGE, "a member's invitation names her: --role ROLE --name NAME");
    if (!member && (role || name))
        return mc_cli_error(MC_CLI_USAGE, "--role and --name are for a member's invitation (--member)");
    if (member && (!mc_role_from_name(role) || strlen(name) >= MC_NAME_MAX))
        return mc_cli_error(MC_CLI_USAGE, "--role is a member role (clinician, pharmacist, ...), --name 1 to %d bytes",
                            MC_NAME_MAX - 1);
    char body[2 * MC_NAME_MAX + 128] = "";
    if (member) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "for", "member", "role", role, "name", name);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!text) return mc_cli_error(MC_CLI_FAIL, "out of memory");
        snprintf(body, sizeof body, "%s", text);
        free(text);
    }
    struct mc_keypair *kp = NULL;
    int rc = mc_cli_key_load(&kp, mc_cli_arg(&a, "key"), mc_cli_arg(&a, "passphrase-file"), member ? "admin" : "clinician");
    if (rc) return rc;
    struct mc_client c;
    if ((rc = mc_cli_client_open(&c, &a))) {
        mc_cli_key_free(kp);
        return rc;
    }
    struct mc_client_response r;
    rc = call(&c, kp, "POST", "/v1/invitations", body, &r, "cannot create the invitation");
    if (!rc) {
        printf("code: %s\nfor: %s\nexpires: %s\nlink: %s%s\n", jstr(r.json, "code"), jstr(r.json, "for"),
               jstr(r.json, "expires"), c.base, jstr(r.json, "link"));
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
            bool member = strcmp(jstr(it, "for"), "member") == 0;
            if (json_object_get(it, "match_code"))
                printf(" match_code %s %s %s%s", jstr(it, "match_code"), member ? "member" : "patient",
                       jstr(it, member ? "member" : "patient"),
                       json_is_true(json_object_get(it, "registered")) ? " registered" : "");
            printf(" expires %s", jstr(it, "expires"));
            if (member) printf(" for %s \"%s\"", jstr(it, "role"), jstr(it, "name"));
            printf("\n");
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
    static const struct mc_cli_opt spec[] = {{"node", true},       {"patient-key", true}, {"patient-passphrase-file", true},
                                             {"member-key", true}, {"member-passphrase-file", true}};
    static const char words[] = "invite accept";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    char code[16];
    int rc = code_arg(code, &a);
    if (rc) return rc;
    bool as_member = mc_cli_arg(&a, "member-key") != NULL;
    if (as_member == (mc_cli_arg(&a, "patient-key") != NULL))
        return mc_cli_error(MC_CLI_USAGE, "name your key: --patient-key FILE (a patient) or --member-key FILE (a member)");
    struct mc_keypair *kp = NULL;
    if ((rc = mc_cli_key_load(&kp, mc_cli_arg(&a, as_member ? "member-key" : "patient-key"),
                              mc_cli_arg(&a, as_member ? "member-passphrase-file" : "patient-passphrase-file"),
                              as_member ? "member" : "patient")))
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
        bool for_member = strcmp(jstr(r.json, "for"), "member") == 0;
        printf("inviter: %s\norganisation: %s\n", jstr(r.json, "inviter_name"), jstr(r.json, "org_name"));
        if (for_member) printf("joining as: %s \"%s\"\n", jstr(r.json, "role"), jstr(r.json, "name"));
        if (mc_hex_decode(inviter.b, 32, jstr(r.json, "inviter")))
            rc = mc_cli_error(MC_CLI_FAIL, "the node's answer names no inviter key");
        else if (for_member != as_member)
            rc = mc_cli_error(MC_CLI_USAGE, "invitation %s is for a %s: accept it with --%s-key", code,
                              for_member ? "member" : "patient", for_member ? "member" : "patient");
        mc_client_response_deinit(&r);
    }
    if (!rc) {
        uint8_t sig[MC_SIG_BYTES];
        if (as_member) {
            uint8_t m[64];
            memcpy(m, inviter.b, 32);
            memcpy(m + 32, kp->pk.b, 32);
            mc_sign(sig, kp, MC_SIGN_MEMBER, cid, m, sizeof m);
        } else {
            mc_identity_patient_consent_sign(sig, kp, cid, &inviter);
        }
        const char *field = as_member ? "member" : "patient";
        char pk[65], sh[129], body[256];
        mc_hex_encode(pk, kp->pk.b, 32);
        mc_hex_encode(sh, sig, sizeof sig);
        snprintf(body, sizeof body, "{\"%s\":\"%s\",\"consent\":\"%s\"}", field, pk, sh);
        snprintf(path, sizeof path, "/v1/invitations/%s/accept", code);
        rc = call(&c, NULL, "POST", path, body, &r, "cannot accept the invitation");
        if (!rc) {
            printf("%s: %s\nmatch_code: %s\n", field, pk, jstr(r.json, "match_code"));
            mc_client_response_deinit(&r);
        }
    }
    mc_client_deinit(&c);
    mc_cli_key_free(kp);
    return rc;
}

static bool member_acceptance_valid(const uint8_t sig[MC_SIG_BYTES], const mc_pubkey *member, const char *cid,
                                    const mc_pubkey *inviter) {
    uint8_t m[64];
    memcpy(m, inviter->b, 32);
    memcpy(m + 32, member->b, 32);
    return mc_sign_verify(sig, member, MC_SIGN_MEMBER, cid, m, sizeof m) == 0;
}

int mc_cli_cmd_invite_register(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_OPTS, {"role", true}, {"name", true}};
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
    bool member = inv && strcmp(jstr(inv, "for"), "member") == 0;
    const char *who = member ? "member" : "patient";
    if (!rc && !inv) rc = mc_cli_error(MC_CLI_FAIL, "you have no invitation %s on this node (expired?)", code);
    else if (!rc && strcmp(jstr(inv, "state"), "accepted"))
        rc = mc_cli_error(MC_CLI_FAIL, "invitation %s is not accepted yet: the %s accepts it first", code, who);
    else if (!rc && (mc_hex_decode(patient.b, 32, jstr(inv, who)) ||
                     mc_hex_decode(consent, sizeof consent, jstr(inv, "consent")) ||
                     !(member ? member_acceptance_valid(consent, &patient, cid, &kp->pk)
                              : mc_identity_patient_consent_valid(consent, &patient, cid, &kp->pk))))
        rc = mc_cli_error(MC_CLI_FAIL, "the %s's signature in invitation %s does not verify for you", who, code);
    else if (!rc && !member && (mc_cli_arg(&a, "role") || mc_cli_arg(&a, "name")))
        rc = mc_cli_error(MC_CLI_USAGE, "--role and --name are for a member's invitation");
    const char *role = mc_cli_arg(&a, "role") ? mc_cli_arg(&a, "role") : jstr(inv, "role");
    const char *name = mc_cli_arg(&a, "name") ? mc_cli_arg(&a, "name") : jstr(inv, "name");
    if (!rc && member && (!mc_role_from_name(role) || !name[0] || strlen(name) >= MC_NAME_MAX))
        rc = mc_cli_error(MC_CLI_USAGE, "--role is a member role, --name 1 to %d bytes", MC_NAME_MAX - 1);
    if (!rc) {
        printf("match_code: %s\n", jstr(inv, "match_code"));
        struct mc_buf p;
        mc_buf_init(&p, 0);
        if (member) {
            if (mc_txbuild_enroll(&p, &patient, mc_role_from_name(role), name))
                rc = mc_cli_error(MC_CLI_FAIL, "cannot encode the enrollment");
            else
                rc = mc_cli_sign_submit(&a, words, MC_TX_ENROLL_MEMBER, &p);
        } else {
            mc_enc_fixed(&p, patient.b, 32);
            mc_enc_fixed(&p, consent, sizeof consent);
            rc = mc_cli_sign_submit(&a, words, MC_TX_REGISTER_PATIENT, &p);
        }
        mc_buf_deinit(&p);
        char hx[65];
        mc_hex_encode(hx, patient.b, 32);
        if (!rc && member) printf("enrolled: %s %s \"%s\"\n", hx, role, name);
        else if (!rc) printf("registered: %s\n", hx);
    }
    json_decref(inv);
    mc_cli_key_free(kp);
    return rc;
}
