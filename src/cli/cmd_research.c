/* Research consent and clinical-trial commands:
 *   study register, research consent, research withdraw,
 *   trial enrol / amend / close / lock / results, trial verify.
 * Transactions are built with mc_research_encode (app/research.h) and
 * submitted like every signed command (mc_cli_sign_submit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "app/research.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "cli/cli.h"
#include "cli/client.h"

#define SIGNER_SPEC                                                                         \
    {"node", true}, {"key", true}, {"passphrase-file", true}, {"nonce", true},              \
        {"no-wait", false}, {"timeout", true}

static int submit(const struct mc_cli_args *a, const char *words, struct mc_research_payload *p) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_research_encode(&b, p);
    int rc = b.err ? mc_cli_error(MC_CLI_USAGE, "a value is too long for the payload")
                   : mc_cli_sign_submit(a, words, p->type, &b);
    mc_buf_deinit(&b);
    free(p);
    return rc;
}

static struct mc_research_payload *payload(uint16_t type) {
    struct mc_research_payload *p = calloc(1, sizeof *p);
    if (p) p->type = type;
    return p;
}

static int copy_arg(char *out, size_t size, const char *v, const char *name) {
    if (!v) return mc_cli_error(MC_CLI_USAGE, "missing --%s", name);
    if (strlen(v) >= size) return mc_cli_error(MC_CLI_USAGE, "--%s is longer than %zu bytes", name, size - 1);
    snprintf(out, size, "%s", v);
    return 0;
}

/* --hash HEX or --file F (SHA-256 of its bytes). */
static int hash_arg(mc_hash *out, const struct mc_cli_args *a, const char *hex_name, const char *file_name) {
    const char *hx = mc_cli_arg(a, hex_name);
    const char *f = file_name ? mc_cli_arg(a, file_name) : NULL;
    if (hx) {
        if (strlen(hx) != 64 || mc_hex_decode(out->b, 32, hx))
            return mc_cli_error(MC_CLI_USAGE, "--%s must be 64 hex digits", hex_name);
        return 0;
    }
    if (f) {
        uint8_t *bytes;
        size_t len;
        int rc = mc_cli_file_read(&bytes, &len, f, 256u * 1024 * 1024);
        if (rc) return rc;
        mc_sha256(out, bytes, len);
        free(bytes);
        return 0;
    }
    return mc_cli_error(MC_CLI_USAGE, "missing --%s%s%s", hex_name, file_name ? " or --" : "", file_name ? file_name : "");
}

/* 64 hex digits at the start of s into a key. 0 on success. */
static int hex_prefix(uint8_t out[32], const char *s) {
    char one[65];
    memcpy(one, s, 64);
    one[64] = 0;
    return mc_hex_decode(out, 32, one);
}

/* Outcomes separated by ';' appended with kind. */
static int outcomes_arg(struct mc_research_payload *p, const char *list, uint8_t kind) {
    if (!list) return 0;
    const char *s = list;
    while (*s) {
        const char *semi = strchr(s, ';');
        size_t n = semi ? (size_t)(semi - s) : strlen(s);
        if (n == 0 || n > MC_RESEARCH_TEXT_MAX) return mc_cli_error(MC_CLI_USAGE, "an outcome is empty or too long");
        if (p->outcome_count == MC_RESEARCH_OUTCOMES_MAX) return mc_cli_error(MC_CLI_USAGE, "too many outcomes");
        p->outcomes[p->outcome_count].kind = kind;
        snprintf(p->outcomes[p->outcome_count].text, sizeof p->outcomes[0].text, "%.*s", (int)n, s);
        p->outcome_count++;
        if (!semi) break;
        s = semi + 1;
    }
    return 0;
}

static int categories_arg(uint8_t *out, const char *v) {
    if (!v) return mc_cli_error(MC_CLI_USAGE, "missing --categories");
    *out = mc_categories_parse(v);
    if (!*out) return mc_cli_error(MC_CLI_USAGE, "--categories: a comma list of demographics, encounters, problems, results, medications, documents, financial, provenance, or all");
    return 0;
}

int mc_cli_cmd_study_register(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"id", true}, {"title", true}, {"sponsor", true},
                                             {"registry-id", true}, {"protocol-file", true},
                                             {"protocol-hash", true}, {"purpose", true},
                                             {"categories", true}, {"k", true}, {"primary", true},
                                             {"secondary", true}, {"researchers", true}};
    static const char words[] = "study register";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    struct mc_research_payload *p = payload(MC_TX_STUDY_REGISTER);
    if (!p) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    uint64_t k = 5;
    int rc = copy_arg(p->study, sizeof p->study, mc_cli_arg(&a, "id"), "id");
    if (!rc) rc = copy_arg(p->title, sizeof p->title, mc_cli_arg(&a, "title"), "title");
    if (!rc) rc = copy_arg(p->sponsor, sizeof p->sponsor, mc_cli_arg(&a, "sponsor"), "sponsor");
    if (!rc) rc = copy_arg(p->registry_id, sizeof p->registry_id, mc_cli_arg(&a, "registry-id"), "registry-id");
    if (!rc) rc = hash_arg(&p->hash, &a, "protocol-hash", "protocol-file");
    if (!rc && mc_cli_arg(&a, "purpose")) rc = copy_arg(p->purpose, sizeof p->purpose, mc_cli_arg(&a, "purpose"), "purpose");
    if (!rc) rc = categories_arg(&p->categories, mc_cli_arg(&a, "categories"));
    if (!rc && mc_cli_arg(&a, "k") && (!mc_cli_parse_u64(mc_cli_arg(&a, "k"), &k) || k == 0 || k > MC_RESEARCH_K_MAX))
        rc = mc_cli_error(MC_CLI_USAGE, "--k is 1 to %d", MC_RESEARCH_K_MAX);
    p->k = (uint16_t)k;
    if (!rc && !mc_cli_arg(&a, "primary")) rc = mc_cli_error(MC_CLI_USAGE, "missing --primary (outcomes separated by ';')");
    if (!rc) rc = outcomes_arg(p, mc_cli_arg(&a, "primary"), MC_OUTCOME_PRIMARY);
    if (!rc) rc = outcomes_arg(p, mc_cli_arg(&a, "secondary"), MC_OUTCOME_SECONDARY);
    const char *rs = mc_cli_arg(&a, "researchers");
    while (!rc && rs && *rs) {
        if (p->researcher_count == MC_RESEARCH_RESEARCHERS_MAX) rc = mc_cli_error(MC_CLI_USAGE, "too many researchers");
        else if (strlen(rs) < 64 || (rs[64] && rs[64] != ',') ||
                 hex_prefix(p->researchers[p->researcher_count].b, rs))
            rc = mc_cli_error(MC_CLI_USAGE, "--researchers: public keys (64 hex digits) separated by ','");
        else {
            p->researcher_count++;
            rs += rs[64] ? 65 : 64;
        }
    }
    if (rc) {
        free(p);
        return rc;
    }
    return submit(&a, words, p);
}

static int consent_common(int argc, char **argv, const char *words, bool withdraw) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"study", true}, {"purpose", true},
                                             {"version", true}, {"categories", true}, {"expiry-ms", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    struct mc_research_payload *p = payload(MC_TX_RESEARCH_CONSENT);
    if (!p) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    int rc = 0;
    const char *study = mc_cli_arg(&a, "study"), *purpose = mc_cli_arg(&a, "purpose");
    if (!!study == !!purpose) rc = mc_cli_error(MC_CLI_USAGE, "give exactly one of --study ID or --purpose TOKEN");
    else {
        p->scope = study ? MC_CONSENT_STUDY : MC_CONSENT_PURPOSE;
        rc = copy_arg(p->study, sizeof p->study, study ? study : purpose, study ? "study" : "purpose");
    }
    uint64_t v = 0;
    if (!rc && (!mc_cli_arg(&a, "version") || !mc_cli_parse_u64(mc_cli_arg(&a, "version"), &v) || v == 0 || v > UINT32_MAX))
        rc = mc_cli_error(MC_CLI_USAGE, "--version N: the next consent version for this study or purpose (1 for the first)");
    p->version = (uint32_t)v;
    p->action = withdraw ? MC_CONSENT_WITHDRAW : MC_CONSENT_PERMIT;
    if (!rc && !withdraw) rc = categories_arg(&p->categories, mc_cli_arg(&a, "categories"));
    if (!rc && !withdraw && mc_cli_arg(&a, "expiry-ms") && !mc_cli_parse_u64(mc_cli_arg(&a, "expiry-ms"), &p->expiry_ms))
        rc = mc_cli_error(MC_CLI_USAGE, "--expiry-ms: Unix time in milliseconds");
    if (rc) {
        free(p);
        return rc;
    }
    return submit(&a, words, p);
}

int mc_cli_cmd_research_consent(int argc, char **argv) {
    return consent_common(argc, argv, "research consent", false);
}
int mc_cli_cmd_research_withdraw(int argc, char **argv) {
    return consent_common(argc, argv, "research withdraw", true);
}

/* trial enrol/amend/close/lock/results share "--study". */
static int trial_common(int argc, char **argv, const char *words, uint16_t type) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"study", true}, {"patient", true},
                                             {"protocol-file", true}, {"protocol-hash", true},
                                             {"reason", true}, {"primary", true}, {"secondary", true},
                                             {"dataset-file", true}, {"dataset-hash", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    struct mc_research_payload *p = payload(type);
    if (!p) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    int rc = copy_arg(p->study, sizeof p->study, mc_cli_arg(&a, "study"), "study");
    if (!rc && type == MC_TX_TRIAL_ENROL) {
        const char *pk = mc_cli_arg(&a, "patient");
        if (!pk || strlen(pk) != 64 || mc_hex_decode(p->patient.b, 32, pk))
            rc = mc_cli_error(MC_CLI_USAGE, "--patient: the patient's public key (64 hex digits)");
    }
    if (!rc && type == MC_TX_TRIAL_AMEND) {
        rc = hash_arg(&p->hash, &a, "protocol-hash", "protocol-file");
        if (!rc) rc = copy_arg(p->reason, sizeof p->reason, mc_cli_arg(&a, "reason"), "reason");
    }
    if (!rc && (type == MC_TX_TRIAL_LOCK || type == MC_TX_TRIAL_RESULTS))
        rc = hash_arg(&p->hash, &a, "dataset-hash", "dataset-file");
    if (!rc && (type == MC_TX_TRIAL_AMEND || type == MC_TX_TRIAL_RESULTS)) {
        rc = outcomes_arg(p, mc_cli_arg(&a, "primary"), MC_OUTCOME_PRIMARY);
        if (!rc) rc = outcomes_arg(p, mc_cli_arg(&a, "secondary"), MC_OUTCOME_SECONDARY);
    }
    if (rc) {
        free(p);
        return rc;
    }
    return submit(&a, words, p);
}

int mc_cli_cmd_trial_enrol(int argc, char **argv) { return trial_common(argc, argv, "trial enrol", MC_TX_TRIAL_ENROL); }
int mc_cli_cmd_trial_amend(int argc, char **argv) { return trial_common(argc, argv, "trial amend", MC_TX_TRIAL_AMEND); }
int mc_cli_cmd_trial_close(int argc, char **argv) { return trial_common(argc, argv, "trial close", MC_TX_TRIAL_CLOSE); }
int mc_cli_cmd_trial_lock(int argc, char **argv) { return trial_common(argc, argv, "trial lock", MC_TX_TRIAL_LOCK); }
int mc_cli_cmd_trial_results(int argc, char **argv) {
    return trial_common(argc, argv, "trial results", MC_TX_TRIAL_RESULTS);
}

int mc_cli_cmd_trial_verify(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}, {"json", false}};
    static const char words[] = "trial verify";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (a.positional_count != 1) return mc_cli_error(MC_CLI_USAGE, "usage: medchain trial verify STUDY");
    const char *study = a.positional[0];
    if (!mc_study_id_valid(study)) return mc_cli_error(MC_CLI_USAGE, "STUDY must be a study id ([A-Za-z0-9-.]{1,64})");
    struct mc_client c;
    int rc = mc_cli_client_open(&c, &a);
    if (rc) return rc;
    char path[128];
    snprintf(path, sizeof path, "/v1/research/verify/%s", study);
    json_t *j = NULL;
    mc_err_clear();
    rc = mc_client_get_json(&c, path, &j);
    mc_client_deinit(&c);
    if (rc) return mc_cli_api_error(rc, "cannot verify the trial");
    bool clean = json_is_true(json_object_get(j, "clean"));
    if (mc_cli_flag(&a, "json")) {
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (text) puts(text);
        free(text);
    } else {
        printf("study: %s\n", study);
        printf("phase: %s\n", json_string_value(json_object_get(j, "phase")));
        printf("enrolled: %lld\n", (long long)json_integer_value(json_object_get(j, "enrolled")));
        printf("amendments: %lld\n", (long long)json_integer_value(json_object_get(j, "amendments")));
        const char *lh = json_string_value(json_object_get(j, "locked_dataset_sha256"));
        const char *rh = json_string_value(json_object_get(j, "results_dataset_sha256"));
        if (lh) printf("locked_dataset: %s\n", lh);
        if (rh) printf("results_dataset: %s\n", rh);
        json_t *f = json_object_get(j, "findings");
        for (size_t i = 0; i < json_array_size(f); i++) {
            json_t *x = json_array_get(f, i);
            printf("finding: %s: %s\n", json_string_value(json_object_get(x, "kind")),
                   json_string_value(json_object_get(x, "detail")));
        }
        printf("verdict: %s\n", json_string_value(json_object_get(j, "verdict")));
    }
    json_decref(j);
    return clean ? MC_CLI_OK : MC_CLI_FAIL;
}
