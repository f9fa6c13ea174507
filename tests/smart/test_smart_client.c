/* SMART Backend Services through third-party libraries: a member's system
 * client registered on the ledger, then tests/smart/client.test.mjs signs
 * its client assertion with jose (npm) and reads with fhir-kit-client
 * (npm) using the bearer token; the script checks through the API that the
 * read's access entry names the token's jti. A missing npm install is a
 * failure that names its fix. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/records.h"
#include "app/smart.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "smart_util.h"

struct committer {
    struct env *e;
    atomic_bool stop;
};

static void *commit_loop(void *arg) {
    struct committer *c = arg;
    for (int i = 0; i < 3000 && !atomic_load(&c->stop); i++) {
        if (mc_node_commit_pending(c->e->t.node)) { /* retried on the next turn */ }
        usleep(100 * 1000);
    }
    return NULL;
}

Test(smart_client, jose_and_fhir_kit_client_read_with_a_bearer_token, .timeout = 300) {
    const char *root = getenv("MEDCHAIN_ROOT");
    cr_assert(root && root[0], "MEDCHAIN_ROOT is not set (run through make test)");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/smart/node_modules/jose/package.json", root);
    cr_assert(access(path, R_OK) == 0, "smart: %s is missing: run make deps (npm ci in tests/smart/)", path);
    struct env e;
    env_start(&e, "smart-client");
    char *obs = env_create(&e, &e.doc, "Observation", env_observation(e.patient_hex, "for the system client"));
    uint8_t g[256];
    size_t gl = env_grant_payload(g, MC_GRANTEE_MEMBER, &e.doc2.pk, 0, MC_CAT_RESULTS | MC_CAT_DEMOGRAPHICS, 0);
    env_tx(&e, &e.patient, &e.patient_nonce, MC_TX_RECORD_GRANT, g, gl);
    struct mc_keypair ck;
    mc_keypair_generate(&ck);
    uint64_t n2 = 0;
    su_register(&e, &e.doc2, &n2, "lab-integration", &ck.pk);
    uint8_t ec_pub[97], ec_d[48];
    void *ec = su_es384_keygen(ec_pub, ec_d);
    su_register_alg(&e, &e.doc2, &n2, "lab-integration-ec", MC_SMART_ALG_ES384, ec_pub, sizeof ec_pub);
    char ex[80], ey[80], ed[80];
    sodium_bin2base64(ex, sizeof ex, ec_pub + 1, 48, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(ey, sizeof ey, ec_pub + 49, 48, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(ed, sizeof ed, ec_d, 48, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(ec_d, sizeof ec_d);
    su_es384_free(ec);
    tu_commit(&e.t);
    char d[64], x[64];
    sodium_bin2base64(d, sizeof d, ck.sk, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(x, sizeof x, ck.pk.b, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char log[] = "/tmp/medchain-smart-client-XXXXXX";
    int fd = mkstemp(log);
    cr_assert(fd >= 0);
    close(fd);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && MEDCHAIN_SMART_BASE=http://127.0.0.1:%u MEDCHAIN_SMART_CLIENT_ID=lab-integration "
             "MEDCHAIN_SMART_CLIENT_JWK='{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"%s\",\"x\":\"%s\"}' "
             "MEDCHAIN_SMART_EC_CLIENT_ID=lab-integration-ec "
             "MEDCHAIN_SMART_EC_JWK='{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"}' "
             "MEDCHAIN_SMART_OBSERVATION=%s MEDCHAIN_SMART_PATIENT_KEY=%s "
             "node --test --test-reporter=spec tests/smart/client.test.mjs >'%s' 2>&1",
             root, (unsigned)e.port, d, x, ex, ey, ed, obs, e.patient_hex, log);
    sodium_memzero(d, sizeof d);
    sodium_memzero(ed, sizeof ed);
    struct committer c = {.e = &e};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, commit_loop, &c), 0);
    int rc = system(cmd);
    atomic_store(&c.stop, true);
    pthread_join(th, NULL);
    fprintf(stderr, "---- SMART client (tests/smart/client.test.mjs) ----\n");
    FILE *f = fopen(log, "r");
    if (f) {
        char line[1024];
        while (fgets(line, sizeof line, f)) fputs(line, stderr);
        fclose(f);
    }
    unlink(log);
    free(obs);
    env_stop(&e);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "smart: the SMART client test failed (report above)");
}
