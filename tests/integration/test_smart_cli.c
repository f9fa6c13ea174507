/* `medchain smart register|revoke` against a real node process: a member
 * registers a system client from its JWK, the client gets a token from
 * /auth/token with an assertion signed by its key, another member cannot
 * revoke it, its owner does, and the revoked client gets no token; every
 * refusal is one "medchain: error:" line with a non-zero exit. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../smart/smart_util.h"
#include "../support/proc.h"
#include "../support/testutil.h"

struct snode {
    char *dir, *home;
    pid_t pid;
    char url[96];
};

struct run {
    int rc;
    char *out, *err;
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

static struct run cli(struct snode *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct run cli(struct snode *n, const char *fmt, ...) {
    char args[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *errf = tu_path(n->dir, "stderr.txt");
    struct run r;
    r.rc = tp_run(&r.out, "{ %s %s --node %s 2>%s; }", tp_bin(), args, n->url, errf);
    r.err = slurp(errf);
    free(errf);
    return r;
}

static char *ok(struct run r, const char *what) {
    cr_assert_eq(r.rc, 0, "%s: exit %d\nstdout: %.800s\nstderr: %s", what, r.rc, r.out, r.err);
    free(r.err);
    return tu_keep(r.out);
}

static void refused(struct run r, const char *want, const char *what) {
    cr_assert_neq(r.rc, 0, "%s: expected a refusal, got exit 0: %.400s", what, r.out);
    cr_assert(strncmp(r.err, "medchain: error: ", 17) == 0, "%s: stderr is not an error line: %s", what, r.err);
    char *nl = strchr(r.err, '\n');
    cr_assert(nl && nl[1] == 0, "%s: the error is not one line: %s", what, r.err);
    if (want) cr_assert(strstr(r.err, want), "%s: error lacks '%s': %s", what, want, r.err);
    free(r.out);
    free(r.err);
}

static char *member(struct snode *n, const char *name, const char *role) {
    char *k = tp_keygen(n->dir, name);
    ok(cli(n, "member enroll --key %s/admin_key.json --member-key %s --role %s --name '%s'", n->home, k, role, name),
       "enroll");
    return k;
}

static struct tp_resp token(struct snode *n, const struct mc_keypair *kp, const char *client, const char *jti) {
    char aud[160], claims[600];
    snprintf(aud, sizeof aud, "%s/auth/token", n->url);
    snprintf(claims, sizeof claims, "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"jti\":\"%s\"}", client,
             client, aud, (long long)time(NULL) + 120, jti);
    char *jws = su_jws(kp, "{\"alg\":\"EdDSA\"}", claims);
    char form[4096];
    snprintf(form, sizeof form,
             "grant_type=client_credentials&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-bearer"
             "&client_assertion=%s&scope=system%%2FObservation.rs",
             jws);
    free(jws);
    return tp_http("POST", aud, form, strlen(form), "application/x-www-form-urlencoded");
}

Test(smart_cli, register_token_and_revoke_through_the_cli, .timeout = 120) {
    mc_crypto_init();
    struct snode n;
    memset(&n, 0, sizeof n);
    n.dir = tu_tmpdir("smartcli");
    n.home = tu_path(n.dir, "node");
    char *out;
    cr_assert_eq(tp_run(&out, "%s init --home %s --chain-id medchain-smart", tp_bin(), n.home), 0, "%s", out);
    free(out);
    int port = tp_free_port();
    snprintf(n.url, sizeof n.url, "http://127.0.0.1:%d", port);
    n.pid = tp_node_start(n.home, port);
    char *dr = member(&n, "dr", "clinician"), *aud = member(&n, "aud", "auditor");

    struct mc_keypair ck;
    mc_keypair_generate(&ck);
    char x[64];
    sodium_bin2base64(x, sizeof x, ck.pk.b, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *jwk = tu_path(n.dir, "client.jwk");
    FILE *f = fopen(jwk, "w");
    cr_assert_not_null(f);
    fprintf(f, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"use\":\"sig\"}", x);
    fclose(f);
    char *bad = tu_path(n.dir, "bad.jwk");
    f = fopen(bad, "w");
    fprintf(f, "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AAAA\",\"y\":\"AAAA\"}");
    fclose(f);

    out = ok(cli(&n, "smart register --key %s --client-id cli-app --jwk %s --name 'Lab feed'", dr, jwk), "register");
    cr_assert_str_eq(tp_field(out, "status"), "committed");
    char *txid = tp_field(out, "id");
    char url[300];
    snprintf(url, sizeof url, "%s/v1/tx/%s", n.url, txid);
    struct tp_resp v = tp_http("GET", url, NULL, 0, NULL);
    cr_assert_eq(v.status, 200);
    json_t *j = json_loads(v.body, 0, NULL);
    json_t *pl = json_object_get(json_object_get(j, "tx"), "payload");
    cr_assert_str_eq(json_string_value(json_object_get(pl, "client")), "cli-app");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(pl, "jwk"), "x")), x);
    json_decref(j);
    tp_resp_free(&v);

    refused(cli(&n, "smart register --key %s --client-id cli-app --jwk %s", dr, jwk), "already registered", "duplicate");
    refused(cli(&n, "smart register --key %s --client-id other --jwk %s", dr, bad), "Ed25519", "an EC key");
    refused(cli(&n, "smart register --key %s --client-id 'bad id' --jwk %s", dr, jwk), "--client-id", "bad id");
    refused(cli(&n, "smart register --key %s --client-id x", dr), "--jwk", "no key");

    struct tp_resp t = token(&n, &ck, "cli-app", "cli-1");
    cr_assert_eq(t.status, 200, "%ld %s", t.status, t.body);
    tp_resp_free(&t);

    refused(cli(&n, "smart revoke --key %s --client-id cli-app", aud), "owner", "another member revokes");
    out = ok(cli(&n, "smart revoke --key %s --client-id cli-app", dr), "revoke");
    cr_assert_str_eq(tp_field(out, "status"), "committed");
    refused(cli(&n, "smart revoke --key %s --client-id cli-app", dr), "already revoked", "twice");
    t = token(&n, &ck, "cli-app", "cli-2");
    cr_assert_eq(t.status, 401, "%ld %s", t.status, t.body);
    cr_assert(strstr(t.body, "revoked"), "%s", t.body);
    tp_resp_free(&t);
    tp_kill(n.pid, SIGTERM);
}
