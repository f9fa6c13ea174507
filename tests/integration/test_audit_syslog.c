/* The audit exporter against a real rsyslog (Debian's rsyslogd with its
 * GnuTLS stream driver) started by the test: its own configuration, pid
 * file and loopback port, a test CA and certificates made with openssl,
 * mutual TLS (rsyslog asks for the node's client certificate). A real
 * `medchain node` logs reads, break-glass, refusals and audit reads; the
 * receiver is stopped and restarted, and the node is killed (SIGKILL) and
 * restarted mid-stream: rsyslog still ends up with every committed access
 * entry (duplicates allowed, recognised by their id), each a BALP-shaped
 * AuditEvent that goes through the independent FHIR validator
 * (MEDCHAIN_FHIR_CAPTURE). A receiver whose certificate does not chain to
 * the configured CA gets nothing and the status says why. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"

struct as {
    char *dir, *home, *rsdir;
    int api_port, rs_port;
    char url[96];
    pid_t node, rs;
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

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *out;
    int rc = tp_run(&out, "%s", cmd);
    cr_assert_eq(rc, 0, "%s\n%s", cmd, out);
    free(out);
}

/* `medchain ARGS --node URL`: stdout (kept), asserting success. */
static char *cli(struct as *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *cli(struct as *a, const char *fmt, ...) {
    char args[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *out;
    int rc = tp_run(&out, "%s %s --node %s 2>&1", tp_bin(), args, a->url);
    cr_assert_eq(rc, 0, "medchain %s: exit %d\n%s", args, rc, out);
    return tu_keep(out);
}

/* The same, expecting a refusal. */
static void cli_refused(struct as *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cli_refused(struct as *a, const char *fmt, ...) {
    char args[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *out;
    int rc = tp_run(&out, "%s %s --node %s 2>&1", tp_bin(), args, a->url);
    cr_assert_neq(rc, 0, "medchain %s: expected a refusal\n%s", args, out);
    free(out);
}

static char *pubkey(const char *keyfile) {
    char *s = slurp(keyfile);
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    cr_assert_not_null(j);
    char *pk = tu_keep(strdup(json_string_value(json_object_get(j, "public_key"))));
    json_decref(j);
    return pk;
}

/* A CA, a server certificate for localhost / 127.0.0.1 and a client
 * certificate, all P-256, under dir (prefix names the CA's files). */
static void make_pki(const char *dir) {
    sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
       "-out ca.pem -days 2 -subj /CN=medchain-test-ca 2>&1 && "
       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other-ca.key "
       "-out other-ca.pem -days 2 -subj /CN=another-ca 2>&1 && "
       "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext && "
       "printf 'extendedKeyUsage=clientAuth\\n' > client.ext && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr "
       "-subj /CN=localhost 2>&1 && "
       "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
       "-extfile server.ext 2>&1 && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout client.key -out client.csr "
       "-subj /CN=medchain-node 2>&1 && "
       "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 "
       "-extfile client.ext 2>&1",
       dir);
}

/* Debian installs it in /usr/sbin, which a user's PATH may lack. */
static const char *rsyslogd(void) {
    return access("/usr/sbin/rsyslogd", X_OK) == 0 ? "/usr/sbin/rsyslogd" : "rsyslogd";
}

static void rs_config(struct as *a) {
    char *conf = tu_path(a->rsdir, "rsyslog.conf");
    FILE *f = fopen(conf, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "global(workDirectory=\"%s/work\" maxMessageSize=\"64k\"\n"
            "  DefaultNetstreamDriver=\"gtls\"\n"
            "  DefaultNetstreamDriverCAFile=\"%s/ca.pem\"\n"
            "  DefaultNetstreamDriverCertFile=\"%s/server.pem\"\n"
            "  DefaultNetstreamDriverKeyFile=\"%s/server.key\")\n"
            "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\"\n"
            "       StreamDriver.Authmode=\"x509/certvalid\")\n"
            "input(type=\"imtcp\" port=\"%d\" address=\"127.0.0.1\")\n"
            "template(name=\"audit\" type=\"string\" string=\"%%msgid%% %%structured-data%% %%msg%%\\n\")\n"
            "action(type=\"omfile\" file=\"%s/audit.log\" template=\"audit\")\n",
            a->rsdir, a->rsdir, a->rsdir, a->rsdir, a->rs_port, a->rsdir);
    fclose(f);
    sh("mkdir -p %s/work && %s -N1 -f %s 2>&1", a->rsdir, rsyslogd(), conf);
}

static void rs_start(struct as *a) {
    char conf[1024], pidf[1024], log[1024];
    snprintf(conf, sizeof conf, "%s/rsyslog.conf", a->rsdir);
    snprintf(pidf, sizeof pidf, "%s/rsyslog.pid", a->rsdir);
    snprintf(log, sizeof log, "%s/rsyslogd.out", a->rsdir);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        FILE *o = freopen(log, "a", stdout);
        (void)o;
        dup2(1, 2);
        execlp(rsyslogd(), "rsyslogd", "-n", "-f", conf, "-i", pidf, (char *)NULL);
        _exit(127);
    }
    a->rs = pid;
    /* listening? */
    for (int i = 0; i < 100; i++) {
        if (!tp_ports_free(a->rs_port, 1)) return;
        int st;
        cr_assert_neq(waitpid(pid, &st, WNOHANG), pid, "rsyslogd exited: %s", slurp(log));
        tp_sleep_ms(50);
    }
    cr_assert_fail("rsyslogd does not listen on %d: %s", a->rs_port, slurp(log));
}

static void rs_stop(struct as *a) {
    tp_kill(a->rs, SIGTERM);
    a->rs = 0;
}

static void node_config(struct as *a, const char *ca) {
    char *p = tu_path(a->home, "config.json");
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "{\"api\": \"127.0.0.1:%d\", \"block_interval_ms\": 100,\n"
            " \"audit_syslog\": {\"host\": \"127.0.0.1\", \"port\": %d, \"server_name\": \"localhost\",\n"
            "   \"ca_file\": \"%s/%s\", \"cert_file\": \"%s/client.pem\", \"key_file\": \"%s/client.key\",\n"
            "   \"hostname\": \"node-1\", \"retry_min_ms\": 50, \"retry_max_ms\": 400, \"timeout_ms\": 3000}}\n",
            a->api_port, a->rs_port, a->rsdir, ca, a->rsdir, a->rsdir);
    fclose(f);
}

static json_t *status(struct as *a) {
    char u[160];
    snprintf(u, sizeof u, "%s/v1/status", a->url);
    struct tp_resp r = tp_http("GET", u, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    tp_resp_free(&r);
    cr_assert_not_null(j);
    return j;
}

/* What rsyslog wrote: one line per message received. */
struct got {
    size_t lines, distinct;
    char (*ids)[65];
    uint64_t *heights;
    uint32_t *indexes;
    json_t **events; /* distinct, in first-arrival order */
};

static void got_free(struct got *g) {
    for (size_t i = 0; i < g->distinct; i++) json_decref(g->events[i]);
    free(g->ids);
    free(g->heights);
    free(g->indexes);
    free(g->events);
    memset(g, 0, sizeof *g);
}

static long got_find(const struct got *g, const char *id) {
    for (size_t i = 0; i < g->distinct; i++)
        if (strcmp(g->ids[i], id) == 0) return (long)i;
    return -1;
}

static void got_read(struct as *a, struct got *g) {
    got_free(g);
    char *p = tu_path(a->rsdir, "audit.log");
    char *text = slurp(p);
    size_t cap = 16;
    g->ids = malloc(cap * sizeof *g->ids);
    g->heights = malloc(cap * sizeof *g->heights);
    g->indexes = malloc(cap * sizeof *g->indexes);
    g->events = malloc(cap * sizeof *g->events);
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = 0;
        else break; /* a line still being written */
        char id[65];
        unsigned long long h;
        unsigned idx;
        int off = 0;
        cr_assert_eq(sscanf(line, "AuditEvent [medchain@32473 id=\"%64[0-9a-f]\" height=\"%llu\" index=\"%u\"%n", id,
                            &h, &idx, &off),
                     3, "not an audit message: %.300s", line);
        char *js = strstr(line, "] ");
        cr_assert_not_null(js);
        js += 2;
        cr_assert(memcmp(js, "\xef\xbb\xbf", 3) == 0, "the message does not start with a BOM");
        js += 3;
        g->lines++;
        long k = got_find(g, id);
        if (k >= 0) {
            /* a duplicate says the same */
            cr_assert_eq(g->heights[k], h, "duplicate %s with another height", id);
            cr_assert_eq(g->indexes[k], idx, "duplicate %s with another index", id);
            continue;
        }
        if (g->distinct == cap) {
            cap *= 2;
            g->ids = realloc(g->ids, cap * sizeof *g->ids);
            g->heights = realloc(g->heights, cap * sizeof *g->heights);
            g->indexes = realloc(g->indexes, cap * sizeof *g->indexes);
            g->events = realloc(g->events, cap * sizeof *g->events);
        }
        json_error_t je;
        json_t *ev = json_loads(js, 0, &je);
        cr_assert_not_null(ev, "message %s is not JSON: %s", id, je.text);
        cr_assert_str_eq(json_string_value(json_object_get(ev, "id")), id);
        snprintf(g->ids[g->distinct], 65, "%s", id);
        g->heights[g->distinct] = h;
        g->indexes[g->distinct] = idx;
        g->events[g->distinct] = ev;
        g->distinct++;
    }
    free(text);
}

/* The committed access log as the auditor's FHIR search lists it (its
 * own entry is logged after the answer). */
static size_t listed_ids(struct as *a, const char *aud, char (**ids)[65]) {
    char *out = cli(a, "access log --key %s --all", aud);
    size_t n = 0, cap = 64;
    *ids = malloc(cap * sizeof **ids);
    for (char *p = strstr(out, " tx="); p; p = strstr(p + 4, " tx=")) {
        if (n == cap) *ids = realloc(*ids, (cap *= 2) * sizeof **ids);
        cr_assert_eq(sscanf(p + 4, "%64[0-9a-f]", (*ids)[n]), 1);
        n++;
    }
    return n;
}

/* Waits until rsyslog holds every listed id; returns what it holds. */
static void wait_all(struct as *a, char (*ids)[65], size_t n, struct got *g, int seconds) {
    uint64_t until = tp_now_ms() + (uint64_t)seconds * 1000;
    for (;;) {
        got_read(a, g);
        size_t missing = 0;
        const char *first = NULL;
        for (size_t i = 0; i < n; i++)
            if (got_find(g, ids[i]) < 0) {
                if (!first) first = ids[i];
                missing++;
            }
        if (!missing) return;
        if (tp_now_ms() > until) {
            json_t *s = status(a);
            char *st = json_dumps(json_object_get(s, "audit_export"), JSON_COMPACT);
            cr_assert_fail("%zu of %zu access entries never reached rsyslog (first %s); exporter: %s", missing, n,
                           first, st);
        }
        tp_sleep_ms(100);
    }
}

static const char *coding_code(json_t *c) { return json_string_value(json_object_get(c, "code")); }

static json_t *agent_of_type(json_t *ev, const char *code) {
    json_t *ag, *agents = json_object_get(ev, "agent");
    size_t i;
    json_array_foreach(agents, i, ag) {
        json_t *c = json_array_get(json_object_get(json_object_get(ag, "type"), "coding"), 0);
        if (c && strcmp(coding_code(c), code) == 0) return ag;
    }
    return NULL;
}

static json_t *entity_of_role(json_t *ev, const char *role) {
    json_t *en, *ents = json_object_get(ev, "entity");
    size_t i;
    json_array_foreach(ents, i, en) {
        const char *r = coding_code(json_object_get(en, "role"));
        if (r && strcmp(r, role) == 0) return en;
    }
    return NULL;
}

/* The elements IHE BALP requires of its RESTful patterns. */
static void check_balp(json_t *ev, const char *node_hex) {
    const char *id = json_string_value(json_object_get(ev, "id"));
    cr_assert_str_eq(json_string_value(json_object_get(ev, "resourceType")), "AuditEvent");
    json_t *type = json_object_get(ev, "type");
    cr_assert(json_string_value(json_object_get(type, "system")) && coding_code(type), "%s: type", id);
    json_t *sub = json_array_get(json_object_get(ev, "subtype"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(sub, "system")), "http://hl7.org/fhir/restful-interaction",
                     "%s: subtype", id);
    const char *action = json_string_value(json_object_get(ev, "action"));
    cr_assert(action && strchr("CRE", action[0]), "%s: action", id);
    cr_assert_not_null(json_object_get(ev, "recorded"), "%s: recorded", id);
    const char *outcome = json_string_value(json_object_get(ev, "outcome"));
    cr_assert(outcome && (!strcmp(outcome, "0") || !strcmp(outcome, "4") || !strcmp(outcome, "8")), "%s: outcome", id);
    if (strcmp(outcome, "0")) cr_assert_not_null(json_object_get(ev, "outcomeDesc"), "%s: a refusal says why", id);
    /* agents: the user (requestor), the client and the server roles */
    json_t *user = agent_of_type(ev, "IRCP");
    cr_assert_not_null(user, "%s: no user agent", id);
    cr_assert(json_is_true(json_object_get(user, "requestor")), "%s: user is the requestor", id);
    json_t *uid = json_object_get(json_object_get(user, "who"), "identifier");
    /* a node's summary of refusals without a known signer names nobody and
     * carries no request; every other entry names its requester */
    bool summary = uid == NULL;
    if (summary)
        cr_assert(strstr(json_string_value(json_object_get(ev, "outcomeDesc")), "summary"), "%s: who", id);
    else
        cr_assert_eq(strlen(json_string_value(json_object_get(uid, "value"))), 64, "%s: who", id);
    json_t *src = agent_of_type(ev, "110153"), *dst = agent_of_type(ev, "110152");
    cr_assert(src && dst, "%s: Source and Destination Role ID agents", id);
    bool query = !strcmp(action, "E");
    json_t *server = query ? dst : src;
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(server, "who"), "identifier"), "value")),
                     node_hex, "%s: the server is the node", id);
    json_t *net = json_object_get(server, "network");
    if (!summary) {
        cr_assert_str_eq(json_string_value(json_object_get(net, "address")), "127.0.0.1", "%s: server network", id);
        cr_assert_str_eq(json_string_value(json_object_get(net, "type")), "2", "%s", id);
    }
    /* source */
    json_t *source = json_object_get(ev, "source");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(source, "observer"), "identifier"), "value")),
                     node_hex, "%s: source.observer", id);
    cr_assert_str_eq(coding_code(json_array_get(json_object_get(source, "type"), 0)), "4", "%s: source type", id);
    /* entities */
    json_t *data = entity_of_role(ev, "4") ?: entity_of_role(ev, "13");
    cr_assert_not_null(data, "%s: the data entity", id);
    cr_assert_str_eq(coding_code(json_object_get(data, "type")), "2", "%s", id);
    json_t *tag = json_array_get(json_object_get(json_object_get(ev, "meta"), "tag"), 0);
    const char *pattern = tag ? coding_code(tag) : NULL;
    if (pattern && strncmp(pattern, "Patient", 7) == 0) {
        json_t *pat = entity_of_role(ev, "1");
        cr_assert_not_null(pat, "%s: %s names the patient", id, pattern);
        cr_assert_str_eq(coding_code(json_object_get(pat, "type")), "1", "%s", id);
        cr_assert_not_null(json_object_get(pat, "what"), "%s", id);
        cr_assert_str_eq(outcome, "0", "%s: a pattern only for successes", id);
    }
    if (query) {
        json_t *q = entity_of_role(ev, "24");
        cr_assert_not_null(q, "%s: a query names its query entity", id);
        cr_assert(json_string_value(json_object_get(q, "query")), "%s: the query (base64)", id);
    }
}

static void capture(json_t *ev) {
    const char *dir = getenv("MEDCHAIN_FHIR_CAPTURE");
    if (!dir || !dir[0]) return;
    char p[1024];
    snprintf(p, sizeof p, "%s/audit-syslog-%ld-%.16s.json", dir, (long)getpid(),
             json_string_value(json_object_get(ev, "id")));
    cr_assert_eq(json_dump_file(ev, p, 0), 0);
}

/* A few reads of every kind: allowed, granted, break-glass, refused. */
static void traffic(struct as *a, const char *id, const char *pat, const char *dr, const char *dr2,
                    const char *stranger, const char *aud, int round) {
    cli(a, "record get Observation/%s --key %s", id, pat);
    cli(a, "record get Observation/%s --key %s --purpose TREAT", id, dr);
    cli(a, "record get Observation/%s --key %s --break-glass 'round %d: unconscious in the ER'", id, dr2, round);
    cli_refused(a, "record get Observation/%s --key %s", id, stranger); /* unknown key: summarised */
    cli_refused(a, "record get Observation/%s --key %s", id, aud);      /* policy: one entry each */
    cli(a, "record list --key %s", pat);
}

Test(audit_syslog, every_entry_reaches_rsyslog_across_restarts, .timeout = 180) {
    mc_crypto_init();
    struct as a = {0};
    a.dir = tu_tmpdir("auditsys");
    a.home = tu_path(a.dir, "node");
    a.rsdir = tu_path(a.dir, "arr");
    sh("mkdir -p %s", a.rsdir);
    make_pki(a.rsdir);
    a.api_port = tp_free_port();
    a.rs_port = tp_free_port();
    snprintf(a.url, sizeof a.url, "http://127.0.0.1:%d", a.api_port);
    rs_config(&a);
    rs_start(&a);
    sh("%s init --home %s --chain-id medchain-audit", tp_bin(), a.home);

    /* A receiver whose certificate does not chain to the configured CA
     * receives nothing: the exporter refuses it and says so. */
    node_config(&a, "other-ca.pem");
    a.node = tp_node_start(a.home, a.api_port);
    char *node_hex;
    {
        json_t *s = status(&a);
        node_hex = tu_keep(strdup(json_string_value(json_object_get(s, "node_key"))));
        json_decref(s);
    }
    char *dr = tu_path(a.dir, "dr.json"), *dr2 = tu_path(a.dir, "dr2.json"), *aud = tu_path(a.dir, "aud.json");
    char *pat = tu_path(a.dir, "pat.json"), *stranger = tu_path(a.dir, "stranger.json");
    sh("for k in dr dr2 aud pat stranger; do %s keygen --out %s/$k.json >/dev/null || exit 1; done", tp_bin(), a.dir);
    cli(&a, "member enroll --key %s/admin_key.json --member-key %s --role clinician --name 'Dr A'", a.home, dr);
    cli(&a, "member enroll --key %s/admin_key.json --member-key %s --role clinician --name 'Dr B'", a.home, dr2);
    cli(&a, "member enroll --key %s/admin_key.json --member-key %s --role auditor --name 'Ann Auditor'", a.home, aud);
    cli(&a, "patient register --key %s --patient-key %s", dr, pat);
    char *phex = pubkey(pat);
    char *obs = tu_path(a.dir, "obs.json");
    {
        FILE *f = fopen(obs, "w");
        fprintf(f, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"glucose\"},"
                   "\"subject\":{\"reference\":\"Patient/%s\"},\"valueString\":\"5.1 mmol/L\"}", phex);
        fclose(f);
    }
    char *out = cli(&a, "record add --key %s --patient-key %s --file %s", dr, pat, obs);
    char *id = tp_field(out, "id");
    cr_assert_not_null(id);
    traffic(&a, id, pat, dr, dr2, stranger, aud, 1);
    for (int i = 0;; i++) {
        json_t *s = status(&a);
        json_t *ax = json_object_get(s, "audit_export");
        const char *err = json_string_value(json_object_get(ax, "last_error"));
        bool seen = err && strstr(err, "does not verify");
        if (seen) cr_assert_eq(json_integer_value(json_object_get(ax, "exported")), 0);
        json_decref(s);
        if (seen) break;
        cr_assert_lt(i, 100, "the exporter did not refuse a receiver outside its CA");
        tp_sleep_ms(100);
    }
    struct got g = {0};
    got_read(&a, &g);
    cr_assert_eq(g.lines, 0, "a receiver outside the CA received %zu messages", g.lines);
    tp_kill(a.node, SIGTERM);

    /* The right CA: everything logged so far arrives. */
    node_config(&a, "ca.pem");
    a.node = tp_node_start(a.home, a.api_port);
    char(*ids)[65];
    size_t n = listed_ids(&a, aud, &ids);
    cr_assert_geq(n, 5);
    wait_all(&a, ids, n, &g, 30);
    free(ids);

    /* The receiver goes away: entries keep being committed; the exporter
     * fails, retries, and delivers once rsyslog is back. */
    rs_stop(&a);
    traffic(&a, id, pat, dr, dr2, stranger, aud, 2);
    for (int i = 0;; i++) {
        json_t *s = status(&a);
        json_t *ax = json_object_get(s, "audit_export");
        bool failing = json_integer_value(json_object_get(ax, "failures")) > 0 &&
                       json_integer_value(json_object_get(ax, "lag_blocks")) > 0;
        json_decref(s);
        if (failing) break;
        cr_assert_lt(i, 100, "the exporter does not report the receiver's outage");
        tp_sleep_ms(100);
    }
    rs_start(&a);
    n = listed_ids(&a, aud, &ids);
    wait_all(&a, ids, n, &g, 30);
    free(ids);

    /* Receiver down again, more entries, then the node is killed before it
     * could export them; both come back: nothing is lost. */
    rs_stop(&a);
    traffic(&a, id, pat, dr, dr2, stranger, aud, 3);
    n = listed_ids(&a, aud, &ids);
    tp_sleep_ms(300); /* the listing's own entry commits */
    tp_kill(a.node, SIGKILL);
    rs_start(&a);
    a.node = tp_node_start(a.home, a.api_port);
    wait_all(&a, ids, n, &g, 30);
    free(ids);

    /* Killed again right after a batch may have been sent: the entries of
     * a fourth round arrive too, whatever was resent. */
    traffic(&a, id, pat, dr, dr2, stranger, aud, 4);
    tp_sleep_ms(150);
    tp_kill(a.node, SIGKILL);
    a.node = tp_node_start(a.home, a.api_port);
    char(*all)[65];
    size_t total = listed_ids(&a, aud, &all);
    char(*again)[65];
    size_t total2 = listed_ids(&a, aud, &again); /* includes the first listing's own entry */
    cr_assert_gt(total2, total);
    wait_all(&a, again, total2, &g, 30);

    /* Nothing rsyslog holds is foreign: every id is an entry of the log
     * (or a listing's own entry committed since). */
    size_t foreign = 0;
    for (size_t i = 0; i < g.distinct; i++) {
        bool found = false;
        for (size_t k = 0; k < total2 && !found; k++) found = !strcmp(again[k], g.ids[i]);
        if (!found) foreign++;
    }
    cr_assert_leq(foreign, 2, "%zu messages name no access entry", foreign);
    cr_assert_geq(g.distinct, 20);
    /* commit order: first arrivals never go back in (height, index) */
    for (size_t i = 1; i < g.distinct; i++)
        cr_assert(g.heights[i] > g.heights[i - 1] ||
                      (g.heights[i] == g.heights[i - 1] && g.indexes[i] > g.indexes[i - 1]),
                  "message %zu arrived out of commit order", i);

    /* Every message is a BALP-shaped AuditEvent; break-glass and refusals
     * are among them. */
    size_t btg = 0, refused = 0, reads = 0, queries = 0;
    for (size_t i = 0; i < g.distinct; i++) {
        json_t *ev = g.events[i];
        check_balp(ev, node_hex);
        capture(ev);
        json_t *sec = json_array_get(json_object_get(json_object_get(ev, "meta"), "security"), 0);
        if (sec && !strcmp(coding_code(sec), "BTG")) {
            btg++;
            json_t *user = agent_of_type(ev, "IRCP");
            cr_assert_str_eq(coding_code(json_array_get(json_object_get(json_array_get(json_object_get(user, "purposeOfUse"), 0), "coding"), 0)),
                             "BTG");
        }
        if (strcmp(json_string_value(json_object_get(ev, "outcome")), "0")) refused++;
        const char *sub = coding_code(json_array_get(json_object_get(ev, "subtype"), 0));
        if (!strcmp(sub, "read")) reads++;
        if (!strcmp(sub, "search-type")) queries++;
    }
    cr_assert_geq(btg, 4, "break-glass reads: %zu", btg);
    cr_assert_geq(refused, 4, "refusals: %zu", refused);
    cr_assert_geq(reads, 12);
    cr_assert_geq(queries, 4);
    printf("audit_syslog: %zu entries, %zu messages received (%zu duplicates)\n", g.distinct, g.lines,
           g.lines - g.distinct);
    free(all);
    free(again);
    got_free(&g);
    tp_kill(a.node, SIGTERM);
    rs_stop(&a);
}
