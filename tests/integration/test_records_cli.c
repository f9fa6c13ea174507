/* The records commands of the real `medchain` binary against a real node
 * process: add, import, get, list, grant (with resealed keys), revoke,
 * expiry, access log, break-glass and its review, amendment, Provenance,
 * export, erasure; every refusal is one "medchain: error:" line on stderr
 * with a non-zero exit. Also the Provenance resources and the
 * CapabilityStatement as a FHIR client sees them, and HTTPS with --cacert. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"

struct rnode {
    char *dir, *home;
    pid_t pid;
    char url[96];
    const char *env;   /* prefix of every command (e.g. MEDCHAIN_CACERT=...) */
};

struct run {
    int rc;
    char *out;  /* stdout */
    char *err;  /* stderr */
};

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return calloc(1, 1);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return b;
}

/* Runs `medchain ARGS --node URL`, stdout and stderr apart. */
static struct run cli(struct rnode *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct run cli(struct rnode *n, const char *fmt, ...) {
    char args[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *errf = tu_path(n->dir, "stderr.txt");
    struct run r;
    r.rc = tp_run(&r.out, "{ %s %s %s --node %s 2>%s; }", n->env ? n->env : "", tp_bin(), args,
                  n->url, errf);
    r.err = slurp(errf);
    free(errf);
    return r;
}

static void run_free(struct run *r) {
    free(r->out);
    free(r->err);
}

/* Asserts success and returns stdout (kept until exit). */
static char *ok(struct run r, const char *what) {
    cr_assert_eq(r.rc, 0, "%s: exit %d\nstdout: %.800s\nstderr: %s", what, r.rc, r.out, r.err);
    free(r.err);
    return tu_keep(r.out);
}

/* Asserts a refusal: non-zero exit, exactly one error line containing want. */
static void refused(struct run r, const char *want, const char *what) {
    cr_assert_neq(r.rc, 0, "%s: expected a refusal, got exit 0: %.400s", what, r.out);
    cr_assert(strncmp(r.err, "medchain: error: ", 17) == 0, "%s: stderr is not an error line: %s", what, r.err);
    char *nl = strchr(r.err, '\n');
    cr_assert(nl && nl[1] == 0, "%s: the error is not one line: %s", what, r.err);
    if (want) cr_assert(strstr(r.err, want), "%s: error lacks '%s': %s", what, want, r.err);
    run_free(&r);
}

static size_t count_lines(const char *out, const char *prefix) {
    size_t n = 0, pn = strlen(prefix);
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, prefix, pn) == 0) n++;
    return n;
}

static void node_init(struct rnode *n, const char *tag) {
    mc_crypto_init();
    memset(n, 0, sizeof *n);
    n->dir = tu_tmpdir(tag);
    n->home = tu_path(n->dir, "node");
    char *out;
    int rc = tp_run(&out, "%s init --home %s --chain-id medchain-rc", tp_bin(), n->home);
    cr_assert_eq(rc, 0, "init: %s", out);
    free(out);
}

static void node_start(struct rnode *n, const char *tag) {
    node_init(n, tag);
    int port = tp_free_port();
    snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d", port);
    n->pid = tp_node_start(n->home, port);
}

static char *key(struct rnode *n, const char *name) {
    char file[64];
    snprintf(file, sizeof file, "%s.json", name);
    for (char *c = file; *c; c++)
        if (*c == ' ') *c = '-';
    char *p = tu_path(n->dir, file);
    char *out;
    cr_assert_eq(tp_run(&out, "%s keygen --out %s", tp_bin(), p), 0, "%s", out);
    free(out);
    return p;
}

static char *member(struct rnode *n, const char *name, const char *role) {
    char *k = key(n, name);
    ok(cli(n, "member enroll --key %s/admin_key.json --member-key %s --role %s --name '%s'", n->home, k,
           role, name), "enroll");
    return k;
}

static char *pubkey(const char *keyfile) {
    char *s = slurp(keyfile);
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    char *pk = tu_keep(strdup(json_string_value(json_object_get(j, "public_key"))));
    json_decref(j);
    return pk;
}

static char *write_text(struct rnode *n, const char *name, const char *text) {
    char *p = tu_path(n->dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static char *observation(struct rnode *n, const char *name, const char *patient_hex, const char *marker,
                         bool with_status) {
    char body[1024];
    snprintf(body, sizeof body,
             "{\"resourceType\":\"Observation\",%s\"code\":{\"text\":\"%s\"},"
             "\"subject\":{\"reference\":\"Patient/%s\"},\"valueString\":\"%s\","
             "\"component\":[{\"code\":{\"text\":\"a\"},\"valueQuantity\":{\"value\":0.010}},"
             "{\"code\":{\"text\":\"b\"},\"valueQuantity\":{\"value\":123456789.123456789}}]}",
             with_status ? "\"status\":\"final\"," : "", marker, patient_hex, marker);
    return write_text(n, name, body);
}

Test(records_cli, patient_clinician_auditor_journey, .timeout = 60) {
    struct rnode n;
    node_start(&n, "rcli");
    char *dr = member(&n, "Dr Author", "clinician"), *dr2 = member(&n, "Dr Other", "clinician");
    char *aud = member(&n, "Ann Auditor", "auditor"), *res = member(&n, "Rex Research", "researcher");
    char *pat = key(&n, "patient"), *stranger = key(&n, "stranger");
    ok(cli(&n, "patient register --key %s --patient-key %s", dr, pat), "register");
    char *phex = pubkey(pat), *dr2hex = pubkey(dr2);

    /* add */
    char *obs = observation(&n, "obs.json", phex, "glucose-marker-1", true);
    char *out = ok(cli(&n, "record add --key %s --patient-key %s --file %s --purpose TREAT", dr, pat, obs), "add");
    char *id = tp_field(out, "id");
    cr_assert_not_null(id, "%s", out);
    cr_assert_str_eq(tp_field(out, "type"), "Observation");
    cr_assert_str_eq(tp_field(out, "version"), "1");
    cr_assert_str_eq(tp_field(out, "status"), "committed");
    cr_assert_eq(strlen(tp_field(out, "anchor")), 64);

    /* refusals of writes */
    refused(cli(&n, "record add --key %s --patient-key %s --file %s", aud, pat, obs), "403", "auditor adds");
    char *bad = observation(&n, "bad.json", phex, "no-status", false);
    refused(cli(&n, "record add --key %s --patient %s --file %s", dr, phex, bad), "422", "invalid FHIR");
    char *mr = write_text(&n, "mr.json", "{\"resourceType\":\"MedicationRequest\",\"status\":\"active\"}");
    refused(cli(&n, "record add --key %s --patient %s --file %s", dr, phex, mr), "404", "unlisted type");
    refused(cli(&n, "record add --key %s --file %s", dr, obs), "--patient", "no patient");

    /* import a Synthea Bundle from the repository's test data */
    const char *td = getenv("MEDCHAIN_TESTDATA");
    size_t imported = 0;
    {
        char *ls;
        tp_run(&ls, "ls %s/synthea/*.json | head -1", td && *td ? td : "testdata");
        ls[strcspn(ls, "\n")] = 0;
        cr_assert(strstr(ls, ".json"), "no Synthea bundle in the test data (%s)", ls);
        out = ok(cli(&n, "record import --key %s --patient-key %s --bundle %s", dr, pat, ls), "import");
        imported = (size_t)atol(tp_field(out, "imported"));
        cr_assert_gt(imported, 200);
        cr_assert_eq(count_lines(out, "record: "), imported);
        cr_assert_str_eq(tp_field(out, "status"), "committed");
        free(ls);
    }

    /* list: the patient and an auditor; nobody else */
    out = ok(cli(&n, "record list --key %s", pat), "list");
    cr_assert_eq((size_t)atol(tp_field(out, "records")), 1 + imported);
    cr_assert(strstr(out, id));
    ok(cli(&n, "record list --key %s --patient %s", aud, phex), "auditor list");
    refused(cli(&n, "record list --key %s --patient %s", dr2, phex), "403", "clinician lists");

    /* reads: patient, author allowed; ungranted clinician, researcher, stranger refused */
    out = ok(cli(&n, "record get %s --key %s", id, pat), "patient get (bare id)");
    cr_assert(strstr(out, "glucose-marker-1"));
    /* decimals come back as they were written, through the node and the CLI */
    cr_assert(strstr(out, "\"value\": 0.010") && strstr(out, "\"value\": 123456789.123456789"), "%s", out);
    out = ok(cli(&n, "record get Observation/%s --key %s", id, dr), "author get");
    cr_assert(strstr(out, "\"resourceType\": \"Observation\""));
    refused(cli(&n, "record get Observation/%s --key %s", id, dr2), "403", "ungranted clinician");
    refused(cli(&n, "record get Observation/%s --key %s", id, res), "403", "researcher");
    refused(cli(&n, "record get Observation/%s --key %s", id, stranger), "401", "stranger");
    refused(cli(&n, "record get Observation/not_an_id! --key %s", pat), NULL, "bad id");

    /* grant to the member, with resealed keys; read; revoke; refused again */
    out = ok(cli(&n, "grant add --key %s --to-member-key %s --categories results,problems", pat, dr2), "grant");
    cr_assert_geq(atol(tp_field(out, "keys")), 1);
    char *grant = tp_field(out, "id");
    cr_assert_str_eq(tp_field(out, "status"), "committed");
    out = ok(cli(&n, "record get Observation/%s --key %s --purpose TREAT --out %s/read.json", id, dr2, n.dir), "granted get");
    cr_assert_eq(strlen(tp_field(out, "access_tx")), 64);
    out = ok(cli(&n, "grant list --key %s", pat), "grant list");
    cr_assert(strstr(out, grant) && strstr(out, " active member=") && strstr(out, dr2hex), "%s", out);
    out = ok(cli(&n, "grant revoke %s --key %s", grant, pat), "revoke");
    cr_assert_str_eq(tp_field(out, "revoked"), grant);
    refused(cli(&n, "record get Observation/%s --key %s", id, dr2), "403", "revoked grantee");
    refused(cli(&n, "grant revoke %s --key %s", grant, pat), "already revoked", "revoke twice");
    refused(cli(&n, "grant add --key %s --to-member-key %s", dr, dr2), "patient", "clinician grants");

    /* an organisation grant that expires */
    out = ok(cli(&n, "grant add --key %s --to-org 1 --until +1s", pat), "org grant");
    ok(cli(&n, "record get Observation/%s --key %s", id, dr2), "org-granted get");
    tp_sleep_ms(1300);
    ok(cli(&n, "record list --key %s", pat), "a block after the expiry");
    tp_sleep_ms(250);
    refused(cli(&n, "record get Observation/%s --key %s", id, dr2), "403", "expired grant");
    refused(cli(&n, "grant add --key %s --to-org 1 --until tomorrow", pat), "--until", "bad --until");

    /* break-glass, then the auditor's review */
    out = ok(cli(&n, "record get Observation/%s --key %s --break-glass 'unconscious in the ER' --out %s/bg.json",
                 id, dr2, n.dir), "break-glass");
    cr_assert_str_eq(tp_field(out, "break_glass"), "yes");
    char *bg = tp_field(out, "access_tx");
    refused(cli(&n, "record get Observation/%s --key %s --break-glass 'x'", id, res), "break-glass", "researcher break-glass");
    /* The access entry is admitted before the read is served and committed
     * with the next block (at most ~100 ms later). */
    for (int i = 0; i < 40; i++) {
        out = ok(cli(&n, "breakglass list --key %s --open", aud), "bg list");
        if (strcmp(tp_field(out, "open"), "0") != 0) break;
        tp_sleep_ms(50);
    }
    cr_assert(strstr(out, bg) && strstr(out, "unconscious in the ER"), "%s", out);
    cr_assert_str_eq(tp_field(out, "open"), "1");
    refused(cli(&n, "breakglass list --key %s", dr2), "403", "clinician lists break-glass");
    ok(cli(&n, "breakglass close %s --key %s --note 'ER admission confirmed'", bg, aud), "close");
    out = ok(cli(&n, "breakglass list --key %s", aud), "bg list after");
    cr_assert_str_eq(tp_field(out, "open"), "0");
    refused(cli(&n, "breakglass close %s --key %s --note again", bg, aud), "already reviewed", "close twice");

    /* the access log: every read and refusal, for the patient and auditors */
    out = ok(cli(&n, "access log --key %s", pat), "access log");
    cr_assert_geq(count_lines(out, "access: "), 8);
    cr_assert(strstr(out, " BTG read record=") && strstr(out, "reason=unconscious in the ER"), "%s", out);
    char want[200];
    snprintf(want, sizeof want, " refused TREAT read record=%s by=%s", id, dr2hex);
    cr_assert(strstr(out, want), "%s", out);
    out = ok(cli(&n, "access log --key %s --patient %s --agent %s", aud, phex, dr2hex), "auditor log");
    cr_assert_eq(count_lines(out, "access: "), (size_t)atol(tp_field(out, "entries")));
    refused(cli(&n, "access log --key %s --patient %s", dr2, phex), "403", "clinician reads the log");

    /* amendment: a new version; history and Provenance */
    char *obs2 = observation(&n, "obs2.json", phex, "glucose-marker-2", true);
    out = ok(cli(&n, "record amend Observation/%s --key %s --patient-key %s --file %s", id, dr, pat, obs2), "amend");
    cr_assert_str_eq(tp_field(out, "version"), "2");
    out = ok(cli(&n, "record get Observation/%s --version 1 --key %s", id, pat), "vread");
    cr_assert(strstr(out, "glucose-marker-1"));
    out = ok(cli(&n, "record get Observation/%s --key %s", id, pat), "read v2");
    cr_assert(strstr(out, "glucose-marker-2"));
    out = ok(cli(&n, "record provenance Observation/%s --key %s", id, pat), "provenance");
    cr_assert_str_eq(tp_field(out, "versions"), "2");
    cr_assert(strstr(out, " CREATE target=Observation/") && strstr(out, " UPDATE target=Observation/"), "%s", out);
    refused(cli(&n, "record provenance Observation/%s --key %s", id, stranger), "401", "stranger provenance");

    /* export: every record and its Provenance */
    char *exp = tu_path(n.dir, "export.json");
    out = ok(cli(&n, "record export --key %s --out %s", pat, exp), "export");
    cr_assert_eq((size_t)atol(tp_field(out, "records")), 1 + imported);
    cr_assert_eq((size_t)atol(tp_field(out, "provenance")), 2 + imported);
    json_t *b = json_load_file(exp, 0, NULL);
    cr_assert_not_null(b);
    cr_assert_str_eq(json_string_value(json_object_get(b, "resourceType")), "Bundle");
    cr_assert_eq(json_array_size(json_object_get(b, "entry")), 3 + 2 * imported);
    json_decref(b);
    refused(cli(&n, "record export --key %s --patient %s --out %s/x.json", dr, phex, n.dir), "403",
            "clinician exports");

    /* erasure */
    refused(cli(&n, "record erase %s --key %s", id, pat), "--yes", "erase without --yes");
    refused(cli(&n, "record erase %s --key %s --yes", id, dr), NULL, "clinician erases");
    ok(cli(&n, "record erase %s --key %s --yes", id, pat), "erase");
    refused(cli(&n, "record get Observation/%s --key %s", id, pat), "410", "read erased");
    out = ok(cli(&n, "record list --key %s", pat), "list after erase");
    cr_assert(strstr(out, " erased "));
    tp_sleep_ms(300); /* the refusal's entry commits with the next block */
    out = ok(cli(&n, "access log --key %s", pat), "log after erase");
    snprintf(want, sizeof want, " refused TREAT read record=%s by=%s", id, phex);
    cr_assert(strstr(out, want), "%s", out);

    /* the node gone: one line */
    tp_kill(n.pid, SIGTERM);
    refused(cli(&n, "record list --key %s", pat), "cannot reach node", "node down");
    char *vout;
    int vrc = tp_run(&vout, "%s verify --home %s", tp_bin(), n.home);
    cr_assert_eq(vrc, 0, "verify: %s", vout);
    free(vout);
}

/* Required elements of the Provenance the facade generates (R4: target
 * 1..*, recorded 1..1, agent 1..* with who 1..1), and the
 * CapabilityStatement against what answers. */
Test(records_cli, provenance_and_capability_statement, .timeout = 40) {
    struct rnode n;
    node_start(&n, "rcli-prov");
    char *dr = member(&n, "Dr Author", "clinician"), *pat = key(&n, "patient");
    ok(cli(&n, "patient register --key %s --patient-key %s", dr, pat), "register");
    char *phex = pubkey(pat);
    char *obs = observation(&n, "obs.json", phex, "m1", true);
    char *id = tp_field(ok(cli(&n, "record add --key %s --patient %s --file %s", dr, phex, obs), "add"), "id");
    ok(cli(&n, "record amend Observation/%s --key %s --patient %s --file %s", id, dr, phex, obs), "amend");
    char *out = ok(cli(&n, "record provenance Observation/%s --key %s --json", id, pat), "provenance");
    json_t *b = json_loads(out, 0, NULL);
    cr_assert_not_null(b, "%s", out);
    json_t *entries = json_object_get(b, "entry");
    cr_assert_eq(json_array_size(entries), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *p = json_object_get(json_array_get(entries, i), "resource");
        cr_assert_str_eq(json_string_value(json_object_get(p, "resourceType")), "Provenance");
        char want_id[100], want_target[160];
        snprintf(want_id, sizeof want_id, "%s.%zu", id, i + 1);
        snprintf(want_target, sizeof want_target, "Observation/%s/_history/%zu", id, i + 1);
        cr_assert_str_eq(json_string_value(json_object_get(p, "id")), want_id);
        json_t *target = json_object_get(p, "target");
        cr_assert(json_is_array(target) && json_array_size(target) >= 1);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(target, 0), "reference")), want_target);
        const char *rec = json_string_value(json_object_get(p, "recorded"));
        cr_assert(rec && strlen(rec) == 24 && rec[4] == '-' && rec[10] == 'T' && rec[23] == 'Z', "recorded %s", rec);
        json_t *agents = json_object_get(p, "agent");
        cr_assert(json_is_array(agents) && json_array_size(agents) >= 1);
        for (size_t k = 0; k < json_array_size(agents); k++) {
            json_t *who = json_object_get(json_array_get(agents, k), "who");
            cr_assert(json_is_object(who) && (json_object_get(who, "reference") || json_object_get(who, "identifier")));
        }
        json_t *a0 = json_array_get(agents, 0);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(a0, "type"), "coding"), 0), "code")), "author");
        const char *act = json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(p, "activity"), "coding"), 0), "code"));
        cr_assert_str_eq(act, i == 0 ? "CREATE" : "UPDATE");
        /* an amendment names the version it revises */
        bool revision = false;
        json_t *ents = json_object_get(p, "entity");
        for (size_t k = 0; k < json_array_size(ents); k++) {
            json_t *e = json_array_get(ents, k);
            const char *role = json_string_value(json_object_get(e, "role"));
            cr_assert(role && (!strcmp(role, "source") || !strcmp(role, "revision")), "entity.role %s", role);
            cr_assert_not_null(json_object_get(e, "what"));
            revision |= strcmp(role, "revision") == 0;
        }
        cr_assert_eq(revision, i == 1);
    }
    json_decref(b);
    /* read by id, as the CapabilityStatement says */
    out = ok(cli(&n, "record get Provenance/%s.2 --key %s", id, pat), "read Provenance");
    cr_assert(strstr(out, "\"resourceType\": \"Provenance\""));
    refused(cli(&n, "record get Provenance/%s.3 --key %s", id, pat), "404", "no such version");

    /* CapabilityStatement */
    char url[160];
    snprintf(url, sizeof url, "%s/fhir/metadata", n.url);
    struct tp_resp r = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    json_t *cs = json_loads(r.body, 0, NULL);
    tp_resp_free(&r);
    cr_assert_str_eq(json_string_value(json_object_get(cs, "resourceType")), "CapabilityStatement");
    cr_assert_str_eq(json_string_value(json_object_get(cs, "fhirVersion")), "4.0.1");
    json_t *resources = json_object_get(json_array_get(json_object_get(cs, "rest"), 0), "resource");
    bool prov_seen = false;
    for (size_t i = 0; i < json_array_size(resources); i++) {
        json_t *res = json_array_get(resources, i);
        const char *type = json_string_value(json_object_get(res, "type"));
        bool create = false, read = false, target = false;
        json_t *inter = json_object_get(res, "interaction");
        for (size_t k = 0; k < json_array_size(inter); k++) {
            const char *c = json_string_value(json_object_get(json_array_get(inter, k), "code"));
            create |= strcmp(c, "create") == 0;
            read |= strcmp(c, "read") == 0;
        }
        json_t *sp = json_object_get(res, "searchParam");
        for (size_t k = 0; k < json_array_size(sp); k++)
            target |= strcmp(json_string_value(json_object_get(json_array_get(sp, k), "name")), "target") == 0;
        if (strcmp(type, "Provenance") == 0) {
            prov_seen = true;
            cr_assert(read && target && !create, "Provenance: read and search by target, no create");
        } else {
            cr_assert(!target, "%s lists a target search it does not have", type);
        }
        /* Each listed type answers the patient's signed search through the CLI's client. */
        if (strcmp(type, "AuditEvent") && strcmp(type, "Consent")) continue;
        out = ok(cli(&n, "%s --key %s", strcmp(type, "AuditEvent") ? "grant list" : "access log", pat), type);
    }
    cr_assert(prov_seen);
    json_decref(cs);
    tp_kill(n.pid, SIGTERM);
}

/* --node https:// with --cacert for a node serving a self-signed certificate. */
Test(records_cli, https_with_cacert, .timeout = 40) {
    struct rnode n;
    node_init(&n, "rcli-tls");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
             n.dir, n.dir);
    if (system(cmd) != 0) cr_skip_test("openssl is not installed");
    int port = tp_free_port();
    snprintf(n.url, sizeof n.url, "https://127.0.0.1:%d", port);
    char api[64], log[512], cert[512], keyf[512];
    snprintf(api, sizeof api, "127.0.0.1:%d", port);
    snprintf(log, sizeof log, "%s/node.log", n.home);
    snprintf(cert, sizeof cert, "%s/cert.pem", n.dir);
    snprintf(keyf, sizeof keyf, "%s/key.pem", n.dir);
    n.pid = fork();
    cr_assert_neq(n.pid, -1);
    if (n.pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(tp_bin(), tp_bin(), "node", "--home", n.home, "--api", api, "--tls-cert", cert, "--tls-key",
              keyf, (char *)NULL);
        _exit(127);
    }
    char env[600];
    snprintf(env, sizeof env, "MEDCHAIN_CACERT=%s", cert);
    n.env = env;
    int up = 1;
    for (int i = 0; i < 100 && up; i++) {
        struct run r = cli(&n, "status");
        up = r.rc;
        run_free(&r);
        if (up) tp_sleep_ms(100);
    }
    cr_assert_eq(up, 0, "the TLS node did not answer (log %s)", log);
    char *dr = member(&n, "Dr Author", "clinician"), *pat = key(&n, "patient");
    ok(cli(&n, "patient register --key %s --patient-key %s", dr, pat), "register over https");
    char *phex = pubkey(pat);
    char *obs = observation(&n, "obs.json", phex, "tls-marker", true);
    n.env = NULL; /* from here --cacert on the command line */
    char *id = tp_field(ok(cli(&n, "record add --key %s --patient %s --file %s --cacert %s", dr, phex, obs, cert),
                        "add over https"), "id");
    char *out = ok(cli(&n, "record get Observation/%s --key %s --cacert %s", id, pat, cert), "get over https");
    cr_assert(strstr(out, "tls-marker"));
    /* Without the CA the certificate is not trusted: one line, exit 1. */
    refused(cli(&n, "record get Observation/%s --key %s", id, pat), NULL, "untrusted certificate");
    refused(cli(&n, "record list --key %s --cacert %s/missing.pem", pat, n.dir), "missing.pem", "missing CA file");
    tp_kill(n.pid, SIGTERM);
}
