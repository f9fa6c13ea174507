/* `medchain mrn set|find`: an organisation's record numbers of its
 * patients (src/api/routes_mrn.c), kept on its node only. `mrn set MRN`
 * files the number for a registered patient (a clinician or admin of a
 * provider organisation); `mrn find MRN` names the patient it stands for
 * in the signer's organisation; `mrn find --patient HEX` gives her number.
 *
 * Output: "key: value" lines; every failure one error line. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "crypto/keyfile.h"
#include "crypto/sign.h"

#define OPTS {"node", true}, {"key", true}, {"passphrase-file", true}

/* The record number as the node keeps it: 1 to MC_MRN_MAX letters, digits,
 * '-' or '.', upper case; percent-encoding is never needed for it. */
static int mrn_arg(char out[MC_MRN_MAX + 1], const char *s) {
    size_t n = 0;
    for (; s && *s; s++) {
        char c = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.') || n == MC_MRN_MAX)
            return mc_cli_error(MC_CLI_USAGE, "a record number is 1 to %d letters, digits, '-' or '.'", MC_MRN_MAX);
        out[n++] = c;
    }
    out[n] = 0;
    return n ? MC_CLI_OK : mc_cli_error(MC_CLI_USAGE, "name the record number");
}

static const char *jstr(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* One signed request; prints the answer's fields, or one error line. */
static int signed_call(const struct mc_cli_args *a, const char *what, const char *method, const char *path,
                       const char *body) {
    struct mc_keypair *kp = NULL;
    int rc = mc_cli_key_load(&kp, mc_cli_arg(a, "key"), mc_cli_arg(a, "passphrase-file"), what);
    if (rc) return rc;
    struct mc_client c;
    if ((rc = mc_cli_client_open(&c, a))) {
        mc_cli_key_free(kp);
        return rc;
    }
    struct mc_client_response r;
    size_t n = body ? strlen(body) : 0;
    int crc = mc_client_request_signed(&c, method, path, body ? "application/json" : NULL, body, n, kp, NULL, 0, &r);
    if (crc) {
        rc = mc_cli_api_error(crc, "cannot reach the record numbers");
    } else if (r.status < 200 || r.status > 299 || !json_is_object(r.json)) {
        char text[600];
        mc_client_error_text(&r, text, sizeof text);
        rc = mc_cli_error(MC_CLI_FAIL, "HTTP %ld: %s", r.status, text);
    } else {
        printf("mrn: %s\npatient: %s\norganisation: %s\n", json_is_null(json_object_get(r.json, "mrn")) ? "(none)"
               : jstr(r.json, "mrn"), jstr(r.json, "patient"), jstr(r.json, "org_name"));
    }
    mc_client_response_deinit(&r);
    mc_client_deinit(&c);
    mc_cli_key_free(kp);
    return rc;
}

int mc_cli_cmd_mrn_set(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {OPTS, {"patient", true}, {"patient-key", true}};
    static const char words[] = "mrn set";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (mc_cli_require(&a, words, "key")) return MC_CLI_USAGE;
    char mrn[MC_MRN_MAX + 1];
    int rc = mrn_arg(mrn, a.positional_count == 1 ? a.positional[0] : NULL);
    if (rc) return rc;
    const char *hex = mc_cli_arg(&a, "patient"), *file = mc_cli_arg(&a, "patient-key");
    if (!!hex == !!file) return mc_cli_error(MC_CLI_USAGE, "name her: --patient HEX or --patient-key FILE");
    mc_pubkey pk;
    if (hex && mc_hex_decode(pk.b, 32, hex)) return mc_cli_error(MC_CLI_USAGE, "--patient must be 64 hex digits");
    if (file && (rc = mc_keyfile_read_public(&pk, file)))
        return mc_cli_error(MC_CLI_FAIL, "cannot read patient key %s: %s", file, mc_cli_detail(rc));
    char ph[65], path[64], body[100];
    mc_hex_encode(ph, pk.b, 32);
    snprintf(path, sizeof path, "/v1/mrn/%s", mrn);
    snprintf(body, sizeof body, "{\"patient\":\"%s\"}", ph);
    return signed_call(&a, "clinician", "PUT", path, body);
}

int mc_cli_cmd_mrn_find(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {OPTS, {"patient", true}};
    static const char words[] = "mrn find";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (mc_cli_require(&a, words, "key")) return MC_CLI_USAGE;
    const char *hex = mc_cli_arg(&a, "patient");
    if (!!hex == (a.positional_count == 1))
        return mc_cli_error(MC_CLI_USAGE, "name a record number, or --patient HEX for her number");
    char path[120];
    if (hex) {
        mc_pubkey pk;
        if (mc_hex_decode(pk.b, 32, hex)) return mc_cli_error(MC_CLI_USAGE, "--patient must be 64 hex digits");
        char ph[65];
        mc_hex_encode(ph, pk.b, 32);
        snprintf(path, sizeof path, "/v1/mrn?patient=%s", ph);
    } else {
        char mrn[MC_MRN_MAX + 1];
        int rc = mrn_arg(mrn, a.positional[0]);
        if (rc) return rc;
        snprintf(path, sizeof path, "/v1/mrn/%s", mrn);
    }
    return signed_call(&a, "member", "GET", path, NULL);
}
