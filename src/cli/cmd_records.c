/* Medical-record commands: `record add|import|get|list|export|erase`,
 * `grant add|revoke|list`, `access log`, `breakglass list|close`.
 *
 * Reads and writes of records go to the node's FHIR facade as HTTP
 * requests signed per RFC 9421 with the user's key (client.h,
 * mc_client_request_signed); grants, revocations, erasures and reviews are
 * ledger transactions signed with the user's key and submitted like the
 * identity commands (mc_cli_sign_submit).
 *
 * A grant carries resealed data keys: the patient's client fetches its
 * record list with the batch keys sealed to the patient (GET /v1/records),
 * opens each batch key with the patient's secret key, derives the data key
 * of every record version the grant covers (app/records.h) and seals it to
 * each recipient: the member (member grant) and the nodes of the grantee's
 * organisation that do not already hold the batch key (they serve the
 * grantee's reads). At most MC_GRANT_TX_KEYS_MAX keys go in one grant
 * transaction; more are split over further grants of the same scope (each
 * printed; revoke each).
 *
 * Output: "key: value" lines (one line per record, grant, access entry or
 * break-glass access), except `record get`, which prints the FHIR resource
 * as JSON unless --out is given. Every failure is one error line. */
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/fhir.h"
#include "api/json_exact.h"
#include "app/records.h"

#include "base/limits.h"
#include "app/records_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "crypto/envelope.h"
#include "crypto/keyfile.h"

#define FHIR_JSON "application/fhir+json"
#define WAIT_DEFAULT_S 10
#define POLL_MS 50

/* Options every command that talks to a node with the user's key shares. */
#define READER_SPEC {"node", true}, {"cacert", true}, {"key", true}, {"passphrase-file", true}
/* Options of commands that submit a signed transaction (mc_cli_sign_submit). */
#define SUBMIT_SPEC                                                                           \
    READER_SPEC, {"nonce", true}, {"no-wait", false}, {"timeout", true}

/* --- small helpers --- */

static void sleep_ms(unsigned ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *jstr(const json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The reason of a refused FHIR or JSON answer: OperationOutcome
 * issue[0].diagnostics, else the /v1 error text. */
static const char *answer_error(const struct mc_client_response *r, char *buf, size_t size) {
    json_t *issue = json_array_get(json_object_get(r->json, "issue"), 0);
    const char *d = jstr(issue, "diagnostics");
    if (d) {
        snprintf(buf, size, "HTTP %ld: %s", r->status, d);
        return buf;
    }
    char text[600];
    mc_client_error_text(r, text, sizeof text);
    snprintf(buf, size, "HTTP %ld: %s", r->status, text);
    return buf;
}

/* A signed request; on a transport failure or a non-2xx answer prints the
 * error (context first) and returns MC_CLI_FAIL with r released. */
static int signed_call(struct mc_client *c, const struct mc_keypair *kp, const char *method,
                       const char *path, const void *body, size_t len,
                       const struct mc_client_header *extra, size_t nextra,
                       struct mc_client_response *r, const char *context) {
    mc_err_clear();
    int rc = mc_client_request_signed(c, method, path, body ? FHIR_JSON : NULL, body, len, kp,
                                      extra, nextra, r);
    if (rc) {
        mc_client_response_deinit(r);
        return mc_cli_api_error(rc, context);
    }
    if (r->status < 200 || r->status > 299) {
        char why[800];
        answer_error(r, why, sizeof why);
        mc_client_response_deinit(r);
        return mc_cli_error(MC_CLI_FAIL, "%s: %s", context, why);
    }
    if (!r->json) {
        mc_client_response_deinit(r);
        return mc_cli_error(MC_CLI_FAIL, "%s: the node's answer is not JSON", context);
    }
    return MC_CLI_OK;
}

/* Waits until transaction txhex is committed (prints "height: N"). */
static int wait_committed(struct mc_client *c, const char *txhex, unsigned timeout_s) {
    char path[128];
    snprintf(path, sizeof path, "/v1/tx/%s", txhex);
    unsigned waited = 0;
    for (;;) {
        struct mc_client_response q;
        mc_err_clear();
        int rc = mc_client_request(c, "GET", path, NULL, NULL, 0, &q);
        if (rc) {
            mc_client_response_deinit(&q);
            return mc_cli_api_error(rc, "cannot follow the anchor transaction");
        }
        const char *st = q.status == 200 ? jstr(q.json, "status") : NULL;
        if (st && strcmp(st, "committed") == 0) {
            json_t *h = json_object_get(q.json, "height");
            printf("status: committed\n");
            if (json_is_integer(h)) printf("height: %lld\n", (long long)json_integer_value(h));
            mc_client_response_deinit(&q);
            return MC_CLI_OK;
        }
        if (st && strcmp(st, "rejected") == 0) {
            const char *why = jstr(q.json, "reason");
            int code = mc_cli_error(MC_CLI_FAIL, "anchor %s rejected: %s", txhex, why ? why : "?");
            mc_client_response_deinit(&q);
            return code;
        }
        mc_client_response_deinit(&q);
        if (waited >= timeout_s * 1000) break;
        sleep_ms(POLL_MS);
        waited += POLL_MS;
    }
    return mc_cli_error(MC_CLI_FAIL, "anchor %s not committed within %u s", txhex, timeout_s);
}

static int parse_timeout(const struct mc_cli_args *a, unsigned *out) {
    *out = WAIT_DEFAULT_S;
    const char *t = mc_cli_arg(a, "timeout");
    uint64_t v;
    if (t && (!mc_cli_parse_u64(t, &v) || v == 0 || v > 3600))
        return mc_cli_error(MC_CLI_USAGE, "--timeout must be whole seconds (1 to 3600)");
    if (t) *out = (unsigned)v;
    return MC_CLI_OK;
}

/* --patient HEX or --patient-key FILE (exactly one), or, when neither is
 * given and self_ok, the signer's own key (a patient acting for themself). */
static int patient_arg(mc_pubkey *out, const struct mc_cli_args *a, const char *words,
                       const struct mc_keypair *self) {
    const char *hex = mc_cli_arg(a, "patient"), *file = mc_cli_arg(a, "patient-key");
    if (hex && file)
        return mc_cli_error(MC_CLI_USAGE, "give one of --patient HEX or --patient-key FILE "
                            "(see 'medchain %s --help')", words);
    if (hex) {
        const char *h = strncmp(hex, "Patient/", 8) == 0 ? hex + 8 : hex;
        if (strlen(h) != 64 || mc_hex_decode(out->b, 32, h))
            return mc_cli_error(MC_CLI_USAGE, "--patient must be the patient's key (64 hex digits)");
        return MC_CLI_OK;
    }
    if (file) {
        mc_err_clear();
        int rc = mc_keyfile_read_public(out, file);
        if (rc) return mc_cli_error(MC_CLI_FAIL, "cannot read patient key %s: %s", file, mc_cli_detail(rc));
        return MC_CLI_OK;
    }
    if (self) {
        *out = self->pk;
        return MC_CLI_OK;
    }
    return mc_cli_error(MC_CLI_USAGE, "missing --patient HEX or --patient-key FILE (see 'medchain %s --help')",
                        words);
}

/* Client and key of a reader/writer command. */
struct session {
    struct mc_client client;
    struct mc_keypair *kp;
    bool client_open;
};

static void session_close(struct session *s) {
    if (s->client_open) mc_client_deinit(&s->client);
    mc_cli_key_free(s->kp);
    memset(s, 0, sizeof *s);
}

static int session_open(struct session *s, const struct mc_cli_args *a, const char *words,
                        const char *what) {
    memset(s, 0, sizeof *s);
    if (mc_cli_require(a, words, "key")) return MC_CLI_USAGE;
    int rc = mc_cli_client_open(&s->client, a);
    if (rc) return rc;
    s->client_open = true;
    rc = mc_cli_key_load(&s->kp, mc_cli_arg(a, "key"), mc_cli_arg(a, "passphrase-file"), what);
    if (rc) session_close(s);
    return rc;
}

/* Writes decrypted health data: the file is created (or truncated) with mode
 * 0600 whatever the umask, and a symbolic link at path is refused, so a
 * record export never lands world-readable or somewhere else. */
static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", path, strerror(errno));
    FILE *f = fchmod(fd, 0600) == 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        close(fd);
        return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", path, strerror(e));
    }
    size_t n = strlen(text);
    bool ok = fwrite(text, 1, n, f) == n;
    ok &= fputc('\n', f) != EOF;
    ok &= fclose(f) == 0;
    if (!ok) return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", path, strerror(errno));
    return MC_CLI_OK;
}

/* The answer's JSON as the node sent it, numbers digit for digit (FHIR
 * decimals keep their precision), indented; NULL when it is not JSON. */
static char *exact_text(const struct mc_client_response *r, size_t indent) {
    json_t *v = mc_json_exact_load((const char *)r->body.data, r->body.len, NULL);
    char *text = v ? mc_json_exact_dump(v, JSON_INDENT(indent), NULL) : NULL;
    json_decref(v);
    return text;
}

/* --- record add / import --- */

static int post_records(const struct mc_cli_args *a, const char *words, bool bundle,
                        const char *amend_ref) {
    struct session s;
    int rc = session_open(&s, a, words, "clinician");
    if (rc) return rc;
    unsigned timeout_s;
    if ((rc = parse_timeout(a, &timeout_s))) goto out;
    mc_pubkey patient;
    if ((rc = patient_arg(&patient, a, words, NULL))) goto out;
    const char *file = mc_cli_arg(a, bundle ? "bundle" : "file");
    if (!file) {
        rc = mc_cli_error(MC_CLI_USAGE, "missing --%s (see 'medchain %s --help')",
                          bundle ? "bundle" : "file", words);
        goto out;
    }
    uint8_t *body = NULL;
    size_t len = 0;
    if ((rc = mc_cli_file_read(&body, &len, file, MC_CLI_RECORD_FILE_MAX))) goto out;
    json_error_t jerr;
    /* numbers keep their text (a resource is sent as it was written) */
    json_t *doc = mc_json_exact_load((const char *)body, len, &jerr);
    char type[40];
    snprintf(type, sizeof type, "%s", jstr(doc, "resourceType") ? jstr(doc, "resourceType") : "");
    if (!type[0]) {
        rc = mc_cli_error(MC_CLI_FAIL, "%s is not a FHIR resource (JSON with resourceType)%s%s", file,
                          doc ? "" : ": ", doc ? "" : jerr.text);
        json_decref(doc);
        free(body);
        goto out;
    }
    if (bundle != (strcmp(type, "Bundle") == 0)) {
        rc = mc_cli_error(MC_CLI_USAGE, "%s holds a %s; use %s", file, type,
                          bundle ? "'medchain record add --file'" : "'medchain record import --bundle'");
        json_decref(doc);
        free(body);
        goto out;
    }
    char phex[65], path[200];
    mc_hex_encode(phex, patient.b, 32);
    if (amend_ref) {
        /* An amendment names the record: TYPE/ID, its id set in the body. */
        const char *slash = strchr(amend_ref, '/');
        const char *aid = slash ? slash + 1 : amend_ref;
        if (!mc_record_id_valid(aid) || (slash && ((size_t)(slash - amend_ref) != strlen(type) ||
                                                   strncmp(amend_ref, type, strlen(type))))) {
            rc = mc_cli_error(MC_CLI_USAGE, "'%s' is not a %s record id", amend_ref, type);
            json_decref(doc);
            free(body);
            goto out;
        }
        json_object_set_new(doc, "id", json_string(aid));
        free(body);
        body = (uint8_t *)mc_json_exact_dump(doc, JSON_COMPACT, &len);
        if (!body) {
            rc = mc_cli_error(MC_CLI_FAIL, "out of memory");
            json_decref(doc);
            goto out;
        }
        snprintf(path, sizeof path, "/fhir/%s/%s?patient=%s", type, aid, phex);
    } else if (bundle) {
        /* The practitioners, organisations and locations the Bundle's
         * conditional references name travel with it, so each resolves in
         * the Bundle (Synthea keeps them in files of their own). */
        json_t *dir = mc_fhir_directory_entries(doc);
        json_t *entries = json_object_get(doc, "entry");
        if (dir && json_array_size(dir) && json_is_array(entries)) {
            json_array_extend(entries, dir);
            free(body);
            body = (uint8_t *)mc_json_exact_dump(doc, JSON_COMPACT, &len);
            if (!body) {
                rc = mc_cli_error(MC_CLI_FAIL, "out of memory");
                json_decref(dir);
                json_decref(doc);
                goto out;
            }
        }
        json_decref(dir);
        snprintf(path, sizeof path, "/fhir?patient=%s", phex);
    } else {
        snprintf(path, sizeof path, "/fhir/%s?patient=%s", type, phex);
    }
    struct mc_client_header extra[1];
    size_t nextra = 0;
    const char *purpose = mc_cli_arg(a, "purpose");
    if (purpose) {
        if (!mc_purpose_from_code(purpose)) {
            rc = mc_cli_error(MC_CLI_USAGE, "--purpose must be TREAT, ETREAT, BTG, HRESCH, PATRQT or HOPERAT");
            json_decref(doc);
            free(body);
            goto out;
        }
        extra[nextra++] = (struct mc_client_header){"x-purpose-of-use", purpose};
    }
    struct mc_client_response r;
    rc = signed_call(&s.client, s.kp, amend_ref ? "PUT" : "POST", path, body, len, extra, nextra, &r,
                     bundle ? "the Bundle was refused" : "the record was refused");
    free(body);
    json_decref(doc);
    if (rc) goto out;
    if (bundle) {
        json_t *entries = json_object_get(r.json, "entry");
        for (size_t i = 0; i < json_array_size(entries); i++) {
            const char *loc = jstr(json_object_get(json_array_get(entries, i), "response"), "location");
            if (loc) printf("record: %s\n", loc);
        }
        printf("imported: %zu\n", json_array_size(entries));
    } else {
        printf("id: %s\n", jstr(r.json, "id") ? jstr(r.json, "id") : "?");
        printf("type: %s\n", type);
        const char *v = jstr(json_object_get(r.json, "meta"), "versionId");
        printf("version: %s\n", v ? v : "1");
        if (r.location[0]) printf("location: %s\n", r.location);
    }
    printf("patient: %s\n", phex);
    char anchor[65];
    snprintf(anchor, sizeof anchor, "%s", r.access_tx);
    mc_client_response_deinit(&r);
    if (strlen(anchor) != 64) {
        rc = mc_cli_error(MC_CLI_FAIL, "the node did not name the anchor transaction");
        goto out;
    }
    printf("anchor: %s\n", anchor);
    fflush(stdout);
    rc = mc_cli_flag(a, "no-wait") ? MC_CLI_OK : wait_committed(&s.client, anchor, timeout_s);
out:
    session_close(&s);
    return rc;
}

#define WRITE_SPEC                                                                            \
    READER_SPEC, {"patient", true}, {"patient-key", true}, {"purpose", true},               \
        {"no-wait", false}, {"timeout", true}

int mc_cli_cmd_record_add(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {WRITE_SPEC, {"file", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "record add", spec, 0, argc, argv);
    return post_records(&a, "record add", false, NULL);
}

int mc_cli_cmd_record_amend(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {WRITE_SPEC, {"file", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "record amend", spec, 1, argc, argv);
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "give the record as TYPE/ID (see 'medchain record amend --help')");
    return post_records(&a, "record amend", false, a.positional[0]);
}

int mc_cli_cmd_record_import(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {WRITE_SPEC, {"bundle", true}};
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, "record import", spec, 0, argc, argv);
    return post_records(&a, "record import", true, NULL);
}

/* --- record get --- */

/* ID may be "Type/id" or a bare id (the type is then looked up). */
static int record_type_of(struct session *s, const char *id, const mc_pubkey *patient, char *type,
                          size_t size);

/* An attachment's bytes, streamed into out (created 0600, no symbolic
 * link); an answer cut short (a chunk the node found altered) leaves no
 * file behind. */
static int get_attachment(struct session *s, const char *path, const char *id, const char *out) {
    if (!out) return mc_cli_error(MC_CLI_USAGE, "an attachment is written to a file: give --out F");
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 && fchmod(fd, 0600) == 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) close(fd);
        return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", out, strerror(e));
    }
    struct mc_client_response r;
    uint64_t written = 0;
    mc_err_clear();
    int rc = mc_client_transfer_signed(&s->client, "GET", path, NULL, NULL, 0, NULL, f, &written, s->kp, &r);
    bool ok = fclose(f) == 0;
    if (!rc && (r.status < 200 || r.status > 299)) {
        char why[800];
        answer_error(&r, why, sizeof why);
        rc = mc_cli_error(MC_CLI_FAIL, "read of Binary/%s refused: %s", id, why);
    } else if (rc) {
        rc = mc_cli_api_error(rc, "read of the attachment failed");
    } else if (!ok) {
        rc = mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", out, strerror(errno));
    }
    if (rc) {
        unlink(out);
    } else {
        printf("id: %s\ntype: Binary\nsize: %llu\naccess_tx: %s\nout: %s\n", id, (unsigned long long)written,
               r.access_tx, out);
    }
    mc_client_response_deinit(&r);
    return rc;
}

/* --- record attach: an attachment streamed to POST /fhir/Binary --- */

int mc_cli_cmd_record_attach(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        READER_SPEC, {"patient", true}, {"patient-key", true}, {"file", true}, {"content-type", true},
        {"no-wait", false}, {"timeout", true},
    };
    static const char words[] = "record attach";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (mc_cli_require(&a, words, "file") || mc_cli_require(&a, words, "content-type")) return MC_CLI_USAGE;
    unsigned timeout_s;
    int rc = parse_timeout(&a, &timeout_s);
    if (rc) return rc;
    mc_pubkey patient;
    if ((rc = patient_arg(&patient, &a, words, NULL))) return rc;
    const char *file = mc_cli_arg(&a, "file"), *type = mc_cli_arg(&a, "content-type");
    FILE *f = fopen(file, "rb");
    if (!f) return mc_cli_error(MC_CLI_FAIL, "cannot read %s: %s", file, strerror(errno));
    /* its digest first (the signature covers it), then the bytes as they are sent */
    crypto_hash_sha256_state hs;
    crypto_hash_sha256_init(&hs);
    uint64_t size = 0;
    static uint8_t buf[1 << 16];
    for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) {
        crypto_hash_sha256_update(&hs, buf, n);
        size += n;
    }
    uint8_t sha[32];
    crypto_hash_sha256_final(&hs, sha);
    if (ferror(f) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return mc_cli_error(MC_CLI_FAIL, "cannot read %s: %s", file, strerror(errno));
    }
    if (size == 0 || size > MC_ATTACHMENT_MAX) {
        fclose(f);
        return mc_cli_error(MC_CLI_USAGE, "an attachment is 1 to %u bytes (%s has %llu)", MC_ATTACHMENT_MAX, file,
                            (unsigned long long)size);
    }
    struct session s;
    if ((rc = session_open(&s, &a, words, "author"))) {
        fclose(f);
        return rc;
    }
    char phex[65], path[200];
    mc_hex_encode(phex, patient.b, 32);
    snprintf(path, sizeof path, "/fhir/Binary?patient=%s", phex);
    struct mc_client_response r;
    mc_err_clear();
    rc = mc_client_transfer_signed(&s.client, "POST", path, type, f, size, sha, NULL, NULL, s.kp, &r);
    fclose(f);
    if (rc) {
        rc = mc_cli_api_error(rc, "the upload failed");
    } else if (r.status != 201) {
        char why[800];
        answer_error(&r, why, sizeof why);
        rc = mc_cli_error(MC_CLI_FAIL, "attachment refused: %s", why);
    } else {
        printf("id: %s\ntype: Binary\ncontent_type: %s\nsize: %llu\nanchor: %s\n", jstr(r.json, "id") ? jstr(r.json, "id") : "?",
               type, (unsigned long long)size, r.access_tx);
        fflush(stdout);
        if (!mc_cli_flag(&a, "no-wait") && r.access_tx[0]) rc = wait_committed(&s.client, r.access_tx, timeout_s);
    }
    mc_client_response_deinit(&r);
    session_close(&s);
    return rc;
}

int mc_cli_cmd_record_get(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        READER_SPEC, {"version", true}, {"purpose", true}, {"break-glass", true},
        {"type", true}, {"out", true}, {"patient", true}, {"patient-key", true},
    };
    static const char words[] = "record get";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "give the record as TYPE/ID or ID (see 'medchain record get --help')");
    const char *arg = a.positional[0];
    char type[40] = "", id[MC_RECORD_ID_MAX + 1];
    const char *slash = strchr(arg, '/');
    if (slash) {
        size_t tn = (size_t)(slash - arg);
        if (tn >= sizeof type) return mc_cli_error(MC_CLI_USAGE, "unknown resource type in %s", arg);
        memcpy(type, arg, tn);
        type[tn] = 0;
        arg = slash + 1;
    } else if (mc_cli_arg(&a, "type")) {
        snprintf(type, sizeof type, "%s", mc_cli_arg(&a, "type"));
    }
    if (!mc_record_id_valid(arg)) return mc_cli_error(MC_CLI_USAGE, "'%s' is not a record id", arg);
    snprintf(id, sizeof id, "%s", arg);
    if (type[0] && !mc_records_type_from_name(type))
        return mc_cli_error(MC_CLI_USAGE, "unknown resource type '%s'", type);
    uint64_t version = 0;
    const char *vs = mc_cli_arg(&a, "version");
    if (vs && (!mc_cli_parse_u64(vs, &version) || version == 0 || version > UINT32_MAX))
        return mc_cli_error(MC_CLI_USAGE, "--version must be a positive number");
    const char *purpose = mc_cli_arg(&a, "purpose"), *btg = mc_cli_arg(&a, "break-glass");
    if (purpose && !mc_purpose_from_code(purpose))
        return mc_cli_error(MC_CLI_USAGE, "--purpose must be TREAT, ETREAT, BTG, HRESCH, PATRQT or HOPERAT");
    if (btg && !btg[0]) return mc_cli_error(MC_CLI_USAGE, "--break-glass needs a reason");
    struct session s;
    int rc = session_open(&s, &a, words, "reader");
    if (rc) return rc;
    if (!type[0]) {
        mc_pubkey patient;
        bool have_patient = mc_cli_arg(&a, "patient") || mc_cli_arg(&a, "patient-key");
        if (have_patient && (rc = patient_arg(&patient, &a, words, NULL))) goto out;
        if ((rc = record_type_of(&s, id, have_patient ? &patient : &s.kp->pk, type, sizeof type)))
            goto out;
    }
    char path[200];
    if (version) snprintf(path, sizeof path, "/fhir/%s/%s/_history/%llu", type, id, (unsigned long long)version);
    else snprintf(path, sizeof path, "/fhir/%s/%s", type, id);
    if (strcmp(type, "Binary") == 0) {
        rc = get_attachment(&s, path, id, mc_cli_arg(&a, "out"));
        goto out;
    }
    struct mc_client_header extra[2];
    size_t nextra = 0;
    if (purpose) extra[nextra++] = (struct mc_client_header){"x-purpose-of-use", purpose};
    if (btg) extra[nextra++] = (struct mc_client_header){"x-break-glass-reason", btg};
    struct mc_client_response r;
    char ctx[160];
    snprintf(ctx, sizeof ctx, "read of %s/%s refused", type, id);
    if ((rc = signed_call(&s.client, s.kp, "GET", path, NULL, 0, extra, nextra, &r, ctx))) goto out;
    char *text = exact_text(&r, 2);
    const char *out_path = mc_cli_arg(&a, "out");
    if (!text) {
        rc = mc_cli_error(MC_CLI_FAIL, "out of memory");
    } else if (out_path) {
        rc = write_file(out_path, text);
        if (!rc) {
            printf("id: %s\ntype: %s\n", id, type);
            const char *v = jstr(json_object_get(r.json, "meta"), "versionId");
            if (v) printf("version: %s\n", v);
            if (btg) printf("break_glass: yes\n");
            printf("access_tx: %s\nout: %s\n", r.access_tx, out_path);
        }
    } else {
        printf("%s\n", text);
    }
    free(text);
    mc_client_response_deinit(&r);
out:
    session_close(&s);
    return rc;
}

/* --- the patient's record list (GET /v1/records) --- */

static int fetch_list(struct session *s, const mc_pubkey *patient, json_t **out) {
    char phex[65], path[120];
    mc_hex_encode(phex, patient->b, 32);
    snprintf(path, sizeof path, "/v1/records?patient=%s", phex);
    struct mc_client_response r;
    int rc = signed_call(&s->client, s->kp, "GET", path, NULL, 0, NULL, 0, &r,
                         "the record list was refused");
    if (rc) return rc;
    *out = json_incref(r.json);
    mc_client_response_deinit(&r);
    return MC_CLI_OK;
}

static int record_type_of(struct session *s, const char *id, const mc_pubkey *patient, char *type,
                          size_t size) {
    /* Only the patient and auditors see the list; anyone else names the type. */
    json_t *list = NULL;
    int rc = fetch_list(s, patient, &list);
    if (rc) {
        fprintf(stderr, "medchain: hint: give the record as TYPE/ID (or --type)\n");
        return rc;
    }
    json_t *recs = json_object_get(list, "records");
    for (size_t i = 0; i < json_array_size(recs); i++) {
        json_t *r = json_array_get(recs, i);
        if (jstr(r, "id") && strcmp(jstr(r, "id"), id) == 0 && jstr(r, "type")) {
            snprintf(type, size, "%s", jstr(r, "type"));
            json_decref(list);
            return MC_CLI_OK;
        }
    }
    json_decref(list);
    return mc_cli_error(MC_CLI_FAIL, "the patient has no record %s", id);
}

int mc_cli_cmd_record_list(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {READER_SPEC, {"patient", true}, {"patient-key", true},
                                             {"type", true}};
    static const char words[] = "record list";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    struct session s;
    int rc = session_open(&s, &a, words, "reader");
    if (rc) return rc;
    mc_pubkey patient;
    json_t *list = NULL;
    if ((rc = patient_arg(&patient, &a, words, s.kp)) || (rc = fetch_list(&s, &patient, &list))) goto out;
    const char *want = mc_cli_arg(&a, "type");
    json_t *recs = json_object_get(list, "records");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        json_t *r = json_array_get(recs, i);
        if (want && (!jstr(r, "type") || strcmp(jstr(r, "type"), want))) continue;
        json_t *hist = json_object_get(r, "history");
        json_t *last = json_array_get(hist, json_array_size(hist) - 1);
        printf("record: %s %s %s versions=%lld %s author=%s\n", jstr(r, "id") ?: "?",
               jstr(r, "type") ?: "?", jstr(r, "category") ?: "?",
               (long long)json_integer_value(json_object_get(r, "versions")),
               json_is_true(json_object_get(r, "erased")) ? "erased" : "live",
               jstr(last, "author") ?: "?");
        n++;
    }
    char phex[65];
    mc_hex_encode(phex, patient.b, 32);
    printf("patient: %s\nrecords: %zu\n", phex, n);
out:
    json_decref(list);
    session_close(&s);
    return rc;
}

/* --- record export --- */

int mc_cli_cmd_record_export(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {READER_SPEC, {"out", true}, {"patient", true},
                                             {"patient-key", true}};
    static const char words[] = "record export";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "out")) return MC_CLI_USAGE;
    struct session s;
    int rc = session_open(&s, &a, words, "patient");
    if (rc) return rc;
    /* Only the patient may export; --patient names whom (default: the signer). */
    mc_pubkey patient;
    if ((rc = patient_arg(&patient, &a, words, s.kp))) goto out;
    char phex[65], path[160];
    mc_hex_encode(phex, patient.b, 32);
    snprintf(path, sizeof path, "/fhir/Patient/%s/$everything", phex);
    struct mc_client_response r;
    if ((rc = signed_call(&s.client, s.kp, "GET", path, NULL, 0, NULL, 0, &r, "export refused")))
        goto out;
    json_t *entries = json_object_get(r.json, "entry");
    size_t records = 0, provenance = 0;
    for (size_t i = 0; i < json_array_size(entries); i++) {
        const char *mode = jstr(json_object_get(json_array_get(entries, i), "search"), "mode");
        if (mode && strcmp(mode, "include") == 0) provenance++;
        else records++;
    }
    char *text = exact_text(&r, 1);
    rc = text ? write_file(mc_cli_arg(&a, "out"), text) : mc_cli_error(MC_CLI_FAIL, "out of memory");
    if (text) {
        sodium_memzero(text, strlen(text));
        free(text);
    }
    if (!rc)
        printf("patient: %s\nrecords: %zu\nprovenance: %zu\naccess_tx: %s\nout: %s\n", phex, records,
               provenance, r.access_tx, mc_cli_arg(&a, "out"));
    mc_client_response_deinit(&r);
out:
    session_close(&s);
    return rc;
}

/* --- access log --- */

int mc_cli_cmd_access_log(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {READER_SPEC, {"patient", true}, {"patient-key", true},
                                             {"agent", true}, {"date", true}, {"all", false},
                                             {"json", false}};
    static const char words[] = "access log";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    struct session s;
    int rc = session_open(&s, &a, words, "reader");
    if (rc) return rc;
    char path[400];
    int n = snprintf(path, sizeof path, "/fhir/AuditEvent?");
    if (!mc_cli_flag(&a, "all")) {
        mc_pubkey patient;
        if ((rc = patient_arg(&patient, &a, words, s.kp))) goto out;
        char phex[65];
        mc_hex_encode(phex, patient.b, 32);
        n += snprintf(path + n, sizeof path - (size_t)n, "patient=%s&", phex);
    }
    const char *agent = mc_cli_arg(&a, "agent"), *date = mc_cli_arg(&a, "date");
    if (agent && (strlen(agent) != 64 || strspn(agent, "0123456789abcdefABCDEF") != 64)) {
        rc = mc_cli_error(MC_CLI_USAGE, "--agent must be an account key (64 hex digits)");
        goto out;
    }
    if (date && (strlen(date) > 12 || strspn(date, "0123456789-gelt") != strlen(date))) {
        rc = mc_cli_error(MC_CLI_USAGE, "--date must be [ge|lt]YYYY[-MM[-DD]]");
        goto out;
    }
    if (agent) n += snprintf(path + n, sizeof path - (size_t)n, "agent=%s&", agent);
    if (date) n += snprintf(path + n, sizeof path - (size_t)n, "date=%s&", date);
    path[n - 1] = 0; /* the trailing '&' or '?' */
    struct mc_client_response r;
    if ((rc = signed_call(&s.client, s.kp, "GET", path, NULL, 0, NULL, 0, &r, "the access log was refused")))
        goto out;
    json_t *entries = json_object_get(r.json, "entry");
    if (mc_cli_flag(&a, "json")) {
        char *text = json_dumps(r.json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text) printf("%s\n", text);
        free(text);
        mc_client_response_deinit(&r);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *ev = json_object_get(json_array_get(entries, i), "resource");
        json_t *agent0 = json_array_get(json_object_get(ev, "agent"), 0);
        const char *who = jstr(json_object_get(json_object_get(agent0, "who"), "identifier"), "value");
        const char *purpose = jstr(json_array_get(json_object_get(json_array_get(
                                       json_object_get(agent0, "purposeOfUse"), 0), "coding"), 0), "code");
        json_t *ent0 = json_array_get(json_object_get(ev, "entity"), 0);
        const char *what = jstr(json_object_get(json_object_get(ent0, "what"), "identifier"), "value");
        if (what && strcmp(what, "(none)") == 0) what = NULL;
        const char *oc = jstr(ev, "outcome");
        const char *verdict = !oc ? "?" : strcmp(oc, "0") == 0 ? "allowed" : strcmp(oc, "4") == 0 ? "refused" : "security";
        const char *action = jstr(json_array_get(json_object_get(ev, "subtype"), 0), "code");
        printf("access: %s %s %s %s record=%s by=%s tx=%s reason=%s\n", jstr(ev, "recorded") ?: "?",
               verdict, purpose ?: "?", action ?: "?", what ?: "-", who ?: "?", jstr(ev, "id") ?: "?",
               jstr(ev, "outcomeDesc") ?: "");
    }
    printf("entries: %zu\n", json_array_size(entries));
    mc_client_response_deinit(&r);
out:
    session_close(&s);
    return rc;
}

/* --- break-glass review --- */

int mc_cli_cmd_breakglass_list(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {READER_SPEC, {"open", false}};
    static const char words[] = "breakglass list";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    struct session s;
    int rc = session_open(&s, &a, words, "auditor");
    if (rc) return rc;
    struct mc_client_response r;
    if ((rc = signed_call(&s.client, s.kp, "GET", "/v1/breakglass", NULL, 0, NULL, 0, &r,
                          "the break-glass list was refused")))
        goto out;
    json_t *list = json_object_get(r.json, "break_glass");
    size_t open = 0, shown = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *b = json_array_get(list, i);
        bool is_open = json_is_true(json_object_get(b, "open"));
        open += is_open;
        if (mc_cli_flag(&a, "open") && !is_open) continue;
        shown++;
        printf("breakglass: %s %s %s record=%s requester=%s patient=%s reason=%s%s%s\n",
               jstr(b, "access_tx") ?: "?", is_open ? "open" : "closed", jstr(b, "time") ?: "?",
               jstr(b, "record") ?: "?", jstr(b, "requester") ?: "?", jstr(b, "patient") ?: "?",
               jstr(b, "reason") ?: "", is_open ? "" : " note=", is_open ? "" : (jstr(b, "note") ?: ""));
    }
    printf("listed: %zu\nopen: %zu\n", shown, open);
    mc_client_response_deinit(&r);
out:
    session_close(&s);
    return rc;
}

static int parse_hash_arg(mc_hash *out, const char *hex, const char *what) {
    if (!hex || strlen(hex) != 64 || mc_hex_decode(out->b, 32, hex))
        return mc_cli_error(MC_CLI_USAGE, "%s must be a transaction id (64 hex digits)", what);
    return MC_CLI_OK;
}

/* Encodes a records payload (app/records_payload.h), signs and submits
 * it; frees p. */
static int submit_payload(const struct mc_cli_args *a, const char *words,
                          struct mc_records_payload *p) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = mc_records_payload_encode(&b, p) ? mc_cli_error(MC_CLI_FAIL, "out of memory")
                                              : mc_cli_sign_submit(a, words, p->type, &b);
    mc_buf_deinit(&b);
    free(p);
    return rc;
}

static struct mc_records_payload *new_payload(uint16_t type) {
    struct mc_records_payload *p = calloc(1, sizeof *p);
    if (p) p->type = type;
    return p;
}

int mc_cli_cmd_breakglass_close(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SUBMIT_SPEC, {"note", true}};
    static const char words[] = "breakglass close";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    mc_hash id;
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "give the break-glass access id (see 'medchain %s --help')", words);
    if (parse_hash_arg(&id, a.positional[0], "the break-glass access id")) return MC_CLI_USAGE;
    if (mc_cli_require(&a, words, "note")) return MC_CLI_USAGE;
    const char *note = mc_cli_arg(&a, "note");
    if (strlen(note) > 255) return mc_cli_error(MC_CLI_USAGE, "--note is at most 255 bytes");
    struct mc_records_payload *p = new_payload(MC_TX_RECORD_REVIEW);
    if (!p) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    p->ref = id;
    snprintf(p->reason, sizeof p->reason, "%s", note);
    return submit_payload(&a, words, p);
}

/* --- erase --- */

int mc_cli_cmd_record_erase(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SUBMIT_SPEC, {"yes", false}};
    static const char words[] = "record erase";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, MC_CLI_POSITIONAL_MAX, argc, argv);
    if (a.positional_count < 1)
        return mc_cli_error(MC_CLI_USAGE, "give the id(s) of the record(s) to erase (see 'medchain %s --help')", words);
    if (!mc_cli_flag(&a, "yes"))
        return mc_cli_error(MC_CLI_USAGE, "erasure cannot be undone: add --yes to confirm");
    struct mc_records_payload *p = new_payload(MC_TX_RECORD_ERASE);
    if (!p) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    p->count = (uint16_t)a.positional_count;
    for (int i = 0; i < a.positional_count; i++) {
        const char *id = a.positional[i];
        const char *slash = strchr(id, '/');
        if (slash) id = slash + 1;
        if (!mc_record_id_valid(id)) {
            free(p);
            return mc_cli_error(MC_CLI_USAGE, "'%s' is not a record id", a.positional[i]);
        }
        snprintf(p->erase_ids[i], sizeof p->erase_ids[i], "%s", id);
    }
    int rc = submit_payload(&a, words, p);
    if (!rc) printf("erased: %d\n", a.positional_count);
    return rc;
}

/* --- grants --- */

int mc_cli_cmd_grant_revoke(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SUBMIT_SPEC};
    static const char words[] = "grant revoke";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "give the grant id (see 'medchain %s --help')", words);
    mc_hash id;
    if (parse_hash_arg(&id, a.positional[0], "the grant id")) return MC_CLI_USAGE;
    struct mc_records_payload *p = new_payload(MC_TX_RECORD_REVOKE);
    if (!p) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    p->ref = id;
    int rc = submit_payload(&a, words, p);
    if (!rc) printf("revoked: %s\n", a.positional[0]);
    return rc;
}

/* "2026-01-31", "2026-01-31T12:00:00Z" (UTC), or "+N" with s, m, h or d. */
static int parse_until(const char *s, uint64_t *ms) {
    if (s[0] == '+') {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s + 1, &end, 10);
        if (errno || end == s + 1 || v == 0 || v > 100000000ULL) return -1;
        uint64_t unit = *end == 's' ? 1000 : *end == 'm' ? 60000 : *end == 'h' ? 3600000 : *end == 'd' ? 86400000 : 0;
        if (!unit || end[1]) return -1;
        *ms = now_ms() + v * unit;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (!rest) return -1;
    if (*rest == 'T') {
        rest = strptime(rest + 1, "%H:%M", &tm);
        if (!rest) return -1;
        if (*rest == ':') {
            rest = strptime(rest + 1, "%S", &tm);
            if (!rest) return -1;
        }
        if (*rest == 'Z') rest++;
    }
    if (*rest) return -1;
    time_t t = timegm(&tm);
    if (t <= 0) return -1;
    *ms = (uint64_t)t * 1000u;
    return 0;
}


/* Node keys of organisation org from /v1/validators. */
static int org_nodes(struct mc_client *c, uint32_t org, mc_pubkey *out, size_t max, size_t *n) {
    *n = 0;
    json_t *v = NULL;
    mc_err_clear();
    int rc = mc_client_get_json(c, "/v1/validators", &v);
    if (rc) return mc_cli_api_error(rc, "cannot list the validators");
    json_t *list = json_object_get(v, "validators");
    for (size_t i = 0; i < json_array_size(list) && *n < max; i++) {
        json_t *e = json_array_get(list, i);
        const char *k = jstr(e, "node_key");
        if (json_integer_value(json_object_get(e, "org")) == (json_int_t)org && k &&
            mc_hex_decode(out[*n].b, 32, k) == 0)
            (*n)++;
    }
    json_decref(v);
    return MC_CLI_OK;
}

int mc_cli_cmd_grant_add(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SUBMIT_SPEC,           {"to-org", true},
                                             {"to-member", true},   {"to-member-key", true},
                                             {"categories", true},  {"until", true},
                                             {"no-keys", false}};
    static const char words[] = "grant add";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    const char *org_s = mc_cli_arg(&a, "to-org"), *mem_s = mc_cli_arg(&a, "to-member"),
               *mem_f = mc_cli_arg(&a, "to-member-key");
    if ((!!org_s + !!mem_s + !!mem_f) != 1)
        return mc_cli_error(MC_CLI_USAGE, "give exactly one of --to-org ID, --to-member HEX or "
                            "--to-member-key FILE (see 'medchain %s --help')", words);
    uint8_t kind;
    mc_pubkey member;
    memset(&member, 0, sizeof member);
    uint64_t org = 0;
    if (org_s) {
        kind = MC_GRANTEE_ORG;
        if (!mc_cli_parse_u64(org_s, &org) || org == 0 || org > UINT32_MAX)
            return mc_cli_error(MC_CLI_USAGE, "--to-org must be an organisation id");
    } else {
        kind = MC_GRANTEE_MEMBER;
        if (mem_s && (strlen(mem_s) != 64 || mc_hex_decode(member.b, 32, mem_s)))
            return mc_cli_error(MC_CLI_USAGE, "--to-member must be the member's key (64 hex digits)");
        if (mem_f) {
            mc_err_clear();
            int rc = mc_keyfile_read_public(&member, mem_f);
            if (rc) return mc_cli_error(MC_CLI_FAIL, "cannot read member key %s: %s", mem_f, mc_cli_detail(rc));
        }
    }
    const char *cats_s = mc_cli_arg(&a, "categories");
    uint8_t cats = cats_s ? mc_categories_parse(cats_s) : MC_CAT_ALL;
    if (!cats)
        return mc_cli_error(MC_CLI_USAGE, "--categories is a list of demographics, encounters, problems, "
                            "results, medications, documents, financial, provenance (or all)");
    uint64_t until = 0;
    if (mc_cli_arg(&a, "until") && parse_until(mc_cli_arg(&a, "until"), &until))
        return mc_cli_error(MC_CLI_USAGE, "--until must be YYYY-MM-DD[THH:MM[:SS]Z] (UTC) or +N(s|m|h|d)");

    struct session s;
    int rc = session_open(&s, &a, words, "patient");
    if (rc) return rc;
    json_t *list = NULL;
    struct mc_records_grant_key *keys = NULL;
    size_t nkeys = 0;
    /* Recipients: the member and the nodes serving the grantee's organisation. */
    mc_pubkey to[MC_CLI_GRANT_RECIPIENTS_MAX];
    size_t nto = 0;
    if (kind == MC_GRANTEE_MEMBER) {
        to[nto++] = member;
        char mhex[65], path[120];
        mc_hex_encode(mhex, member.b, 32);
        snprintf(path, sizeof path, "/v1/account/%s", mhex);
        json_t *acc = NULL;
        mc_err_clear();
        rc = mc_client_get_json(&s.client, path, &acc);
        if (rc) {
            rc = mc_cli_api_error(rc, "the grantee is not an account on this ledger");
            goto out;
        }
        org = (uint64_t)json_integer_value(json_object_get(acc, "org"));
        json_decref(acc);
    }
    size_t nn = 0;
    if (!mc_cli_flag(&a, "no-keys") && org &&
        (rc = org_nodes(&s.client, (uint32_t)org, to + nto, MC_CLI_GRANT_RECIPIENTS_MAX - nto, &nn)))
        goto out;
    nto += nn;
    if (!mc_cli_flag(&a, "no-keys")) {
        if ((rc = fetch_list(&s, &s.kp->pk, &list))) goto out;
        json_t *recs = json_object_get(list, "records"), *batches = json_object_get(list, "batches");
        size_t cap = 0;
        for (size_t i = 0; i < json_array_size(recs); i++)
            cap += json_array_size(json_object_get(json_array_get(recs, i), "history"));
        keys = calloc(cap * nto + 1, sizeof *keys);
        if (!keys) {
            rc = mc_cli_error(MC_CLI_FAIL, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < json_array_size(recs) && !rc; i++) {
            json_t *r = json_array_get(recs, i);
            const char *id = jstr(r, "id"), *cat = jstr(r, "category");
            if (!id || !cat || json_is_true(json_object_get(r, "erased")) ||
                !(mc_categories_parse(cat) & cats) || !mc_record_id_valid(id))
                continue;
            json_t *hist = json_object_get(r, "history");
            for (size_t k = 0; k < json_array_size(hist) && !rc; k++) {
                json_t *h = json_array_get(hist, k);
                const char *bid = jstr(h, "batch");
                json_t *b = bid ? json_object_get(batches, bid) : NULL;
                const char *sealed_hex = jstr(b, "sealed_patient"), *node_hex = jstr(b, "node");
                uint8_t sealed[MC_SEALED_KEY_BYTES], batch[MC_DATAKEY_BYTES], dk[MC_DATAKEY_BYTES];
                mc_pubkey holder;
                if (!json_is_true(json_object_get(b, "has_keys")) || !sealed_hex || !node_hex ||
                    mc_hex_decode(sealed, sizeof sealed, sealed_hex) || mc_hex_decode(holder.b, 32, node_hex)) {
                    rc = mc_cli_error(MC_CLI_FAIL, "record %s: the node gave no sealed batch key", id);
                    break;
                }
                if (mc_envelope_open_key(batch, sealed, s.kp)) {
                    rc = mc_cli_error(MC_CLI_FAIL, "record %s: the batch key does not open with this patient's key", id);
                    break;
                }
                uint32_t ver = (uint32_t)json_integer_value(json_object_get(h, "version"));
                mc_record_data_key(dk, batch, id, ver);
                sodium_memzero(batch, sizeof batch);
                for (size_t t = 0; t < nto && !rc; t++) {
                    /* The anchoring node holds the batch key already. */
                    if (sodium_memcmp(to[t].b, holder.b, 32) == 0) continue;
                    struct mc_records_grant_key *g = &keys[nkeys];
                    snprintf(g->id, sizeof g->id, "%s", id);
                    g->version = ver;
                    g->to = to[t];
                    if (mc_envelope_seal_key(g->sealed, dk, &to[t]))
                        rc = mc_cli_error(MC_CLI_FAIL, "cannot seal the data key of %s", id);
                    else nkeys++;
                }
                sodium_memzero(dk, sizeof dk);
            }
        }
        if (rc) goto out;
    }
    size_t chunks = nkeys ? (nkeys + MC_GRANT_TX_KEYS_MAX - 1) / MC_GRANT_TX_KEYS_MAX : 1;
    if (chunks > 1 && mc_cli_arg(&a, "nonce")) {
        rc = mc_cli_error(MC_CLI_USAGE, "--nonce cannot be used when the grant needs %zu transactions", chunks);
        goto out;
    }
    printf("keys: %zu\nrecipients: %zu\ntransactions: %zu\n", nkeys, nto, chunks);
    fflush(stdout);
    for (size_t c = 0; c < chunks && !rc; c++) {
        size_t from = c * MC_GRANT_TX_KEYS_MAX;
        size_t count = nkeys - from < MC_GRANT_TX_KEYS_MAX ? nkeys - from : MC_GRANT_TX_KEYS_MAX;
        struct mc_records_payload *p = new_payload(MC_TX_RECORD_GRANT);
        if (!p) {
            rc = mc_cli_error(MC_CLI_FAIL, "out of memory");
            break;
        }
        p->kind = kind;
        p->member = member;
        p->org = kind == MC_GRANTEE_ORG ? (uint32_t)org : 0;
        p->categories = cats;
        p->expiry_ms = until;
        p->count = (uint16_t)count;
        if (count) memcpy(p->keys, keys + from, count * sizeof *keys); /* --no-keys: none */
        rc = submit_payload(&a, words, p);
    }
out:
    free(keys);
    json_decref(list);
    session_close(&s);
    return rc;
}

int mc_cli_cmd_grant_list(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {READER_SPEC, {"patient", true}, {"patient-key", true},
                                             {"json", false}};
    static const char words[] = "grant list";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    struct session s;
    int rc = session_open(&s, &a, words, "reader");
    if (rc) return rc;
    mc_pubkey patient;
    if ((rc = patient_arg(&patient, &a, words, s.kp))) goto out;
    char phex[65], path[120];
    mc_hex_encode(phex, patient.b, 32);
    snprintf(path, sizeof path, "/fhir/Consent?patient=%s", phex);
    struct mc_client_response r;
    if ((rc = signed_call(&s.client, s.kp, "GET", path, NULL, 0, NULL, 0, &r, "the grants were refused")))
        goto out;
    json_t *entries = json_object_get(r.json, "entry");
    if (mc_cli_flag(&a, "json")) {
        char *text = json_dumps(r.json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text) printf("%s\n", text);
        free(text);
        mc_client_response_deinit(&r);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *c = json_object_get(json_array_get(entries, i), "resource");
        json_t *prov = json_object_get(c, "provision");
        json_t *ident = json_object_get(json_object_get(json_array_get(json_object_get(prov, "actor"), 0),
                                                        "reference"), "identifier");
        const char *sys = jstr(ident, "system");
        char cats[200] = "";
        json_t *cl = json_object_get(prov, "class");
        for (size_t k = 0; k < json_array_size(cl); k++) {
            size_t used = strlen(cats);
            snprintf(cats + used, sizeof cats - used, "%s%s", k ? "," : "",
                     jstr(json_array_get(cl, k), "code") ?: "?");
        }
        printf("grant: %s %s %s=%s categories=%s until=%s\n", jstr(c, "id") ?: "?", jstr(c, "status") ?: "?",
               sys && strstr(sys, "org") ? "org" : "member", jstr(ident, "value") ?: "?", cats,
               jstr(json_object_get(prov, "period"), "end") ?: "-");
    }
    printf("grants: %zu\n", json_array_size(entries));
    mc_client_response_deinit(&r);
out:
    session_close(&s);
    return rc;
}

/* --- provenance --- */

int mc_cli_cmd_record_provenance(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {READER_SPEC, {"json", false}};
    static const char words[] = "record provenance";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "give the record as TYPE/ID[/_history/V] (see 'medchain %s --help')", words);
    const char *target = a.positional[0];
    if (strlen(target) > 150 || strspn(target, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./_") != strlen(target))
        return mc_cli_error(MC_CLI_USAGE, "'%s' is not a record reference", target);
    struct session s;
    int rc = session_open(&s, &a, words, "reader");
    if (rc) return rc;
    char path[220];
    snprintf(path, sizeof path, "/fhir/Provenance?target=%s", target);
    struct mc_client_response r;
    if ((rc = signed_call(&s.client, s.kp, "GET", path, NULL, 0, NULL, 0, &r, "provenance refused")))
        goto out;
    json_t *entries = json_object_get(r.json, "entry");
    if (mc_cli_flag(&a, "json")) {
        char *text = json_dumps(r.json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text) printf("%s\n", text);
        free(text);
    } else {
        for (size_t i = 0; i < json_array_size(entries); i++) {
            json_t *p = json_object_get(json_array_get(entries, i), "resource");
            json_t *ag = json_array_get(json_object_get(p, "agent"), 0);
            printf("provenance: %s %s %s target=%s author=%s\n", jstr(p, "id") ?: "?",
                   jstr(p, "recorded") ?: "?",
                   jstr(json_array_get(json_object_get(json_object_get(p, "activity"), "coding"), 0), "code") ?: "?",
                   jstr(json_array_get(json_object_get(p, "target"), 0), "reference") ?: "?",
                   jstr(json_object_get(json_object_get(ag, "who"), "identifier"), "value") ?: "?");
        }
        printf("versions: %zu\n", json_array_size(entries));
    }
    mc_client_response_deinit(&r);
out:
    session_close(&s);
    return rc;
}
