/* The `medchain` command: private interface shared by the files of src/cli.
 *
 * Conventions every command follows:
 *   - stdout carries results, one "key: value" line each (or pretty JSON for
 *     queries), so scripts and tests can grep them;
 *   - every failure is ONE line "medchain: error: <reason>" on stderr;
 *   - exit codes: MC_CLI_OK (0) success, MC_CLI_FAIL (1) a refusal or a
 *     failed operation, MC_CLI_USAGE (2) bad command line, MC_CLI_CANNOT_RUN
 *     (3) `verify` could not run at all.
 *
 * Option parsing is table-driven (struct mc_cli_opt): "--name value",
 * "--name=value" and boolean flags; each option may appear once; "--help"
 * is always accepted. Positional arguments are collected in order. */
#ifndef MC_CLI_CLI_H
#define MC_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "crypto/sign.h"

enum {
    MC_CLI_OK = 0,
    MC_CLI_FAIL = 1,
    MC_CLI_USAGE = 2,
    MC_CLI_CANNOT_RUN = 3,
};

#define MC_CLI_DEFAULT_NODE "http://127.0.0.1:7700"
#define MC_CLI_OPTS_MAX 24
#define MC_CLI_POSITIONAL_MAX 4

/* One accepted option. */
struct mc_cli_opt {
    const char *name;  /* without the leading "--" */
    bool takes_value;  /* false: a boolean flag */
};

/* Parsed command line of one command. Values point into argv. */
struct mc_cli_args {
    const struct mc_cli_opt *spec;
    size_t spec_count;
    const char *value[MC_CLI_OPTS_MAX]; /* indexed like spec; NULL when absent */
    bool present[MC_CLI_OPTS_MAX];
    const char *positional[MC_CLI_POSITIONAL_MAX];
    int positional_count;
    bool help;
};

/* Parses argv[0..argc) against spec (at most MC_CLI_OPTS_MAX entries), with
 * at most positional_max positional arguments. On failure returns
 * MC_CLI_USAGE with a one-line reason in err. */
int mc_cli_args_parse(struct mc_cli_args *a, const struct mc_cli_opt *spec, size_t spec_count,
                      int positional_max, int argc, char **argv, char *err, size_t err_size);
/* Parses a command's arguments and deals with --help and usage errors:
 * returns 0 to go on, MC_CLI_HELP_SHOWN after printing the usage of
 * `words` (the caller exits 0), or MC_CLI_USAGE after printing the error. */
#define MC_CLI_HELP_SHOWN (-1)
int mc_cli_parse(struct mc_cli_args *a, const char *words, const struct mc_cli_opt *spec,
                 size_t spec_count, int positional_max, int argc, char **argv);
#define MC_CLI_PARSE_OR_RETURN(a, words, spec, positional_max, argc, argv)                    \
    do {                                                                                      \
        int parse_rc_ = mc_cli_parse((a), (words), (spec), sizeof(spec) / sizeof((spec)[0]),   \
                                     (positional_max), (argc), (argv));                        \
        if (parse_rc_) return parse_rc_ == MC_CLI_HELP_SHOWN ? MC_CLI_OK : parse_rc_;         \
    } while (0)
/* Prints "missing --name" as a usage error when the option is absent. */
int mc_cli_require(const struct mc_cli_args *a, const char *words, const char *name);

/* Value of a value option, or NULL. Aborts if name is not in the spec (a bug). */
const char *mc_cli_arg(const struct mc_cli_args *a, const char *name);
/* Whether a flag or option was given. */
bool mc_cli_flag(const struct mc_cli_args *a, const char *name);

/* Strict unsigned decimal: digits only, no sign, no overflow. */
bool mc_cli_parse_u64(const char *s, uint64_t *out);

/* Prints "medchain: error: <message>" as one line (newlines and control
 * characters in the message become spaces). Returns code, for
 * `return mc_cli_error(MC_CLI_FAIL, ...)`. */
int mc_cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The library's detail for rc (mc_err_detail(), or mc_strerror(rc)). */
const char *mc_cli_detail(int rc);

/* Reads the passphrase: the first line of --passphrase-file (option name
 * given), else the MEDCHAIN_PASSPHRASE environment variable, else none
 * (*out = NULL). The returned string is sodium_malloc'd; free it with
 * mc_cli_passphrase_free. Returns 0 or MC_CLI_FAIL (error printed). */
int mc_cli_passphrase_read(char **out, const char *file);
void mc_cli_passphrase_free(char *p);

/* Loads a key pair into sodium_malloc'd memory (error printed on failure,
 * naming what the key is for). Free with mc_cli_key_free. */
int mc_cli_key_load(struct mc_keypair **out, const char *path, const char *passphrase_file,
                    const char *what);
void mc_cli_key_free(struct mc_keypair *kp);
/* Warns on stderr ("medchain: warning: ...") when the key file was created
 * more than $MEDCHAIN_KEY_MAX_AGE_DAYS (default 365) days ago. */
void mc_cli_key_age_warn(const char *path, const char *what);

/* Reads a whole file (at most max bytes) into malloc'd memory. */
int mc_cli_file_read(uint8_t **out, size_t *len, const char *path, size_t max);

struct mc_client;
/* Opens a client on --node (the args must have a "node" option), else
 * $MEDCHAIN_NODE, else MC_CLI_DEFAULT_NODE. Error printed on failure. */
int mc_cli_client_open(struct mc_client *c, const struct mc_cli_args *a);

/* Prints a failed API call: the client's own message alone when the node
 * could not be reached (MC_ERR_IO: "cannot reach node at URL (...)"),
 * else "<context>: <detail>". Returns MC_CLI_FAIL. */
int mc_cli_api_error(int rc, const char *context);

/* Command handlers: argv starts after the command words. */
int mc_cli_cmd_init(int argc, char **argv);
int mc_cli_cmd_node(int argc, char **argv);
int mc_cli_cmd_testnet(int argc, char **argv);
int mc_cli_cmd_load(int argc, char **argv);
int mc_cli_cmd_keygen(int argc, char **argv);
int mc_cli_cmd_verify(int argc, char **argv);
int mc_cli_cmd_backup(int argc, char **argv);
int mc_cli_cmd_restore(int argc, char **argv);
int mc_cli_cmd_blobs_sweep(int argc, char **argv);
int mc_cli_cmd_blobs_migrate(int argc, char **argv);

int mc_cli_cmd_member_enroll(int argc, char **argv);
int mc_cli_cmd_member_revoke(int argc, char **argv);
int mc_cli_cmd_smart_register(int argc, char **argv);
int mc_cli_cmd_smart_revoke(int argc, char **argv);
int mc_cli_cmd_patient_register(int argc, char **argv);
int mc_cli_cmd_invite_create(int argc, char **argv);
int mc_cli_cmd_invite_list(int argc, char **argv);
int mc_cli_cmd_invite_accept(int argc, char **argv);
int mc_cli_cmd_invite_register(int argc, char **argv);
int mc_cli_cmd_mrn_set(int argc, char **argv);
int mc_cli_cmd_mrn_find(int argc, char **argv);
int mc_cli_cmd_subscription_create(int argc, char **argv);
int mc_cli_cmd_subscription_list(int argc, char **argv);
int mc_cli_cmd_subscription_status(int argc, char **argv);
int mc_cli_cmd_subscription_delete(int argc, char **argv);
int mc_cli_cmd_key_rotate(int argc, char **argv);
int mc_cli_cmd_tx_submit(int argc, char **argv);
int mc_cli_cmd_tx_build(int argc, char **argv);

int mc_cli_cmd_status(int argc, char **argv);
int mc_cli_cmd_tx_show(int argc, char **argv);
int mc_cli_cmd_block_show(int argc, char **argv);
int mc_cli_cmd_account_show(int argc, char **argv);
int mc_cli_cmd_proof(int argc, char **argv);

/* Signs and submits a payload with the signer options of a command
 * ("node", "key", "passphrase-file", "nonce", "no-wait", "timeout"), as the
 * identity commands do (cmd_tx.c). Returns an MC_CLI_* code. */
struct mc_buf;
int mc_cli_sign_submit(const struct mc_cli_args *a, const char *words, uint16_t type,
                       const struct mc_buf *payload);

/* Drug supply chain commands (cmd_drug.c). */
int mc_cli_cmd_drug_commission(int argc, char **argv);
int mc_cli_cmd_drug_aggregate(int argc, char **argv);
int mc_cli_cmd_drug_disaggregate(int argc, char **argv);
int mc_cli_cmd_drug_ship(int argc, char **argv);
int mc_cli_cmd_drug_receive(int argc, char **argv);
int mc_cli_cmd_drug_dispense(int argc, char **argv);
int mc_cli_cmd_drug_product(int argc, char **argv);
int mc_cli_cmd_drug_decommission(int argc, char **argv);
int mc_cli_cmd_drug_recall(int argc, char **argv);
int mc_cli_cmd_drug_flag(int argc, char **argv);
int mc_cli_cmd_drug_verify(int argc, char **argv);
int mc_cli_cmd_drug_label(int argc, char **argv);
int mc_cli_cmd_drug_alerts(int argc, char **argv);
int mc_cli_cmd_drug_vrs(int argc, char **argv);
int mc_cli_cmd_genesis_add_org(int argc, char **argv);
/* What a scanner or phone read (a Digital Link or an element string) as the
 * resolver's request target ("/01/..."). Error printed on failure. */
int mc_cli_gs1_target(char *out, size_t size, const char *code);

/* The light client (cmd_light.c). */
int mc_cli_cmd_light_pack(int argc, char **argv);
int mc_cli_cmd_light_state(int argc, char **argv);

/* Research consent and trials (cmd_research.c). */
int mc_cli_cmd_study_register(int argc, char **argv);
int mc_cli_cmd_research_consent(int argc, char **argv);
int mc_cli_cmd_research_withdraw(int argc, char **argv);
int mc_cli_cmd_trial_enrol(int argc, char **argv);
int mc_cli_cmd_trial_amend(int argc, char **argv);
int mc_cli_cmd_trial_close(int argc, char **argv);
int mc_cli_cmd_trial_lock(int argc, char **argv);
int mc_cli_cmd_trial_results(int argc, char **argv);
int mc_cli_cmd_trial_verify(int argc, char **argv);
/* Medical-record commands (cmd_records.c). */
int mc_cli_cmd_record_add(int argc, char **argv);
int mc_cli_cmd_record_import(int argc, char **argv);
int mc_cli_cmd_record_amend(int argc, char **argv);
int mc_cli_cmd_record_get(int argc, char **argv);
int mc_cli_cmd_record_attach(int argc, char **argv);
int mc_cli_cmd_record_list(int argc, char **argv);
int mc_cli_cmd_record_export(int argc, char **argv);
int mc_cli_cmd_record_erase(int argc, char **argv);
int mc_cli_cmd_record_provenance(int argc, char **argv);
int mc_cli_cmd_grant_add(int argc, char **argv);
int mc_cli_cmd_grant_revoke(int argc, char **argv);
int mc_cli_cmd_grant_list(int argc, char **argv);
int mc_cli_cmd_access_log(int argc, char **argv);
int mc_cli_cmd_breakglass_list(int argc, char **argv);
int mc_cli_cmd_breakglass_close(int argc, char **argv);

/* Consortium governance (cmd_gov.c). */
int mc_cli_cmd_gov_propose(int argc, char **argv);
int mc_cli_cmd_gov_vote(int argc, char **argv);
int mc_cli_cmd_gov_rotate_node(int argc, char **argv);
int mc_cli_cmd_gov_show(int argc, char **argv);
int mc_cli_cmd_gov_list(int argc, char **argv);
int mc_cli_cmd_gov_validators(int argc, char **argv);

/* Prints a command's usage (from the command table in main.c) to stdout. */
void mc_cli_usage(const char *command_words);

#endif
