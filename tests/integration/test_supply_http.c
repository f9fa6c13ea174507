/* The supply chain through a real node process, driven only by the CLI and
 * HTTP: the journey manufacturer -> distributor -> pharmacy -> patient with
 * the public resolver at each step, clone alerts, HTML vs JSON, proofs that
 * check against the header, no personal data in answers, the signed VRS
 * (401/403/200), and labels that decode back to their Digital Link. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "base/hex.h"
#include "crypto/keyfile.h"
#include "crypto/merkle.h"

#define GTIN "09506000134352"

struct net {
    char *dir;
    char home[512];
    pid_t pid;
    char url[64];
};

static char *cli(struct net *n, int want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Runs `medchain ARGS --node URL` (for commands with --node) and checks the
 * exit status; returns the output (malloc'd). */
static char *cli(struct net *n, int want, const char *fmt, ...) {
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *out;
    int rc = tp_run(&out, "cd %s && %s %s", n->dir, tp_bin(), args);
    cr_assert_eq(rc, want, "medchain %s: exit %d, expected %d:\n%s", args, rc, want, out);
    return out;
}

static void cli_ok(struct net *n, const char *fmt, const char *a, const char *b) {
    char line[1024];
    snprintf(line, sizeof line, fmt, a, b);
    char full[1200];
    snprintf(full, sizeof full, "%s --node %s", line, n->url);
    free(cli(n, 0, "%s", full));
}

/* The node of the running test, stopped by fini even when an assertion
 * ends the test early. */
static pid_t live_pid;

static void net_start(struct net *n) {
    mc_crypto_init();
    memset(n, 0, sizeof *n);
    n->dir = tu_tmpdir("supply-http");
    snprintf(n->home, sizeof n->home, "%s/node", n->dir);
    free(cli(n, 0, "init --home node --chain-id medchain-sc --org 'St Mary' --gln 5412345000013"));
    free(cli(n, 0, "genesis add-org --home node --id 2 --name 'Acme Pharma' --kind manufacturer "
                   "--gln 0950600000002 --admin-key-out mfr_admin.json"));
    free(cli(n, 0, "genesis add-org --home node --id 3 --name MedDistrib --kind distributor "
                   "--gln 4012345000009 --admin-key-out dist_admin.json"));
    free(cli(n, 0, "genesis add-org --home node --id 4 --name 'Corner Pharmacy' --kind pharmacy "
                   "--gln 5412345000020 --admin-key-out ph_admin.json"));
    free(cli(n, 0, "genesis add-org --home node --id 5 --name 'Medicines Agency' --kind regulator "
                   "--gln 5412345000037 --admin-key-out reg_admin.json"));
    int port = tp_free_port();
    snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d", port);
    n->pid = tp_node_start(n->home, port);
    live_pid = n->pid;
    const char *who[][4] = {{"mfr", "mfr_admin", "manufacturer", "Line One Operator"},
                            {"dist", "dist_admin", "distributor", "Depot Clerk Jones"},
                            {"ph", "ph_admin", "pharmacist", "Pharmacist Alice Smith"},
                            {"reg", "reg_admin", "regulator", "Inspector Bob"},
                            {"doc", "node/admin_key", "clinician", "Dr Carol"}};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        free(cli(n, 0, "keygen --out %s.json", who[i][0]));
        free(cli(n, 0, "member enroll --key %s.json --member-key %s.json --role %s --name '%s' --node %s",
                 who[i][1], who[i][0], who[i][2], who[i][3], n->url));
    }
}

static void net_stop(struct net *n) {
    tp_kill(n->pid, SIGTERM);
    live_pid = 0;
}

static void net_fini(void) {
    if (live_pid > 0) tp_kill(live_pid, SIGKILL);
}

static json_t *get(struct net *n, const char *path, const char *accept, long want, char **ctype) {
    char *out;
    int rc = tp_run(&out, "curl -s -w '\\n%%{http_code} %%{content_type}' -H 'Accept: %s' '%s%s'",
                    accept, n->url, path);
    cr_assert_eq(rc, 0);
    char *tail = strrchr(out, '\n');
    cr_assert_not_null(tail);
    *tail++ = 0;
    long status = strtol(tail, &tail, 10);
    cr_assert_eq(status, want, "GET %s: %ld, expected %ld: %s", path, status, want, out);
    if (ctype) *ctype = strdup(tail + 1);
    json_t *j = json_loads(out, 0, NULL);
    if (!j) {
        j = json_string(out); /* HTML: returned as a string */
    }
    free(out);
    return j;
}

static const char *verdict_of(json_t *j) { return json_string_value(json_object_get(j, "verdict")); }

/* Waits until the node has no pending transaction (scan records land). */
static void settle(struct net *n) {
    for (int i = 0; i < 100; i++) {
        json_t *s = get(n, "/v1/status", "application/json", 200, NULL);
        json_int_t pending = json_integer_value(json_object_get(s, "mempool_size"));
        json_decref(s);
        if (pending == 0) {
            usleep(150 * 1000);
            return;
        }
        usleep(50 * 1000);
    }
    cr_assert_fail("the node did not commit its pending transactions");
}

static void expect(struct net *n, const char *path, const char *verdict, size_t custody) {
    json_t *j = get(n, path, "application/json", 200, NULL);
    cr_assert_str_eq(verdict_of(j), verdict, "%s", path);
    cr_assert_eq(json_array_size(json_object_get(j, "custody")), custody, "%s custody", path);
    /* Each custody event comes with an inclusion proof that checks
     * against the header the answer names. */
    json_t *proofs = json_object_get(j, "proofs");
    cr_assert_eq(json_array_size(proofs), custody + (json_is_object(json_object_get(j, "recall")) ? 1 : 0));
    json_t *checked = json_object_get(j, "checked_at");
    size_t i;
    json_t *p;
    json_array_foreach(proofs, i, p) {
        mc_hash leaf, root, path_h[64];
        json_t *ap = json_object_get(p, "audit_path");
        cr_assert_eq(mc_hex_decode(leaf.b, 32, json_string_value(json_object_get(p, "leaf_hash"))), 0);
        cr_assert_eq(mc_hex_decode(root.b, 32, json_string_value(json_object_get(checked, "log_root"))), 0);
        for (size_t k = 0; k < json_array_size(ap); k++)
            cr_assert_eq(mc_hex_decode(path_h[k].b, 32, json_string_value(json_array_get(ap, k))), 0);
        cr_assert_eq(mc_merkle_verify_inclusion(&leaf, (uint64_t)json_integer_value(json_object_get(p, "leaf_index")),
                                                (uint64_t)json_integer_value(json_object_get(checked, "log_size")),
                                                path_h, json_array_size(ap), &root), 0);
        /* ... and the leaf is the transaction the custody event names. */
        char tx[200];
        snprintf(tx, sizeof tx, "/v1/tx/%s", json_string_value(json_object_get(p, "tx_id")));
        json_t *t = get(n, tx, "application/json", 200, NULL);
        const char *hex = json_string_value(json_object_get(t, "tx_hex"));
        size_t len = strlen(hex) / 2;
        uint8_t *bytes = malloc(len);
        cr_assert_eq(mc_hex_decode(bytes, len, hex), 0);
        mc_hash l2;
        mc_merkle_leaf_hash(&l2, bytes, len);
        cr_assert_eq(memcmp(l2.b, leaf.b, 32), 0);
        free(bytes);
        json_decref(t);
    }
    json_decref(j);
}

static const char *LINK = "/01/" GTIN "/10/LOT7/21/P1?17=300630";

Test(supply_http, journey_alerts_html_privacy_vrs_labels, .timeout = 120, .fini = net_fini) {
    struct net n;
    net_start(&n);
    cli_ok(&n, "drug commission --key mfr.json --gtin %s --lot LOT7 --expiry 2030-06-30 --count 4 --prefix %s",
           GTIN, "P");
    expect(&n, LINK, "genuine", 1);
    /* Product master data: registered by the GTIN's manufacturer, shown in every verdict. */
    free(cli(&n, 0, "drug product --key mfr.json --gtin %s --name 'Salbutamol inhaler' --strength '100 microgram' "
                    "--form 'pressurised inhalation' --pack-size 200 --node %s", GTIN, n.url));
    char *pout = cli(&n, 1, "drug product --key dist.json --gtin %s --name X --form tablet --pack-size 1 --node %s",
                     GTIN, n.url);
    cr_assert(strstr(pout, "manufacturer"), "only a manufacturer registers products: %s", pout);
    free(pout);
    pout = cli(&n, 2, "drug product --key mfr.json --gtin %s --name X --form tablet --pack-size 0 --node %s", GTIN,
               n.url);
    cr_assert(strstr(pout, "--pack-size"), "%s", pout);
    free(pout);
    json_t *pj = get(&n, LINK, "application/json", 200, NULL);
    json_t *prod = json_object_get(pj, "product");
    cr_assert_str_eq(json_string_value(json_object_get(prod, "name")), "Salbutamol inhaler");
    cr_assert_str_eq(json_string_value(json_object_get(prod, "strength")), "100 microgram");
    cr_assert_str_eq(json_string_value(json_object_get(prod, "form")), "pressurised inhalation");
    cr_assert_eq(json_integer_value(json_object_get(prod, "pack_size")), 200);
    json_decref(pj);
    pj = get(&n, "/01/" GTIN "/21/P1", "text/html", 200, NULL);
    cr_assert(strstr(json_string_value(pj), "Salbutamol inhaler") && strstr(json_string_value(pj), "Units in the pack"));
    json_decref(pj);
    /* The product by GTIN (the explorer's search), its registration decoded, its block by hash. */
    pj = get(&n, "/v1/product/" GTIN, "application/json", 200, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(pj, "manufacturer")), "Acme Pharma");
    cr_assert_eq(json_integer_value(json_object_get(pj, "pack_size")), 200);
    char txpath[100];
    snprintf(txpath, sizeof txpath, "/v1/tx/%s", json_string_value(json_object_get(pj, "tx_id")));
    json_decref(pj);
    json_t *tj = get(&n, txpath, "application/json", 200, NULL);
    json_t *pl = json_object_get(json_object_get(tj, "tx"), "payload");
    cr_assert_str_eq(json_string_value(json_object_get(pl, "name")), "Salbutamol inhaler", "decoded content");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(tj, "tx"), "type")), "drug_product");
    char bpath[120];
    snprintf(bpath, sizeof bpath, "/v1/block/%lld", (long long)json_integer_value(json_object_get(tj, "height")));
    json_decref(tj);
    json_t *bj = get(&n, bpath, "application/json", 200, NULL);
    snprintf(bpath, sizeof bpath, "/v1/block/%s", json_string_value(json_object_get(bj, "hash")));
    json_t *bh = get(&n, bpath, "application/json", 200, NULL);
    cr_assert(json_equal(json_object_get(bj, "header"), json_object_get(bh, "header")), "the same block by its hash");
    json_decref(bj);
    json_decref(bh);
    json_decref(get(&n, "/v1/block/00000000000000000000000000000000000000000000000000000000000000ab", "application/json",
                    404, NULL));
    json_decref(get(&n, "/v1/block/zz000000000000000000000000000000000000000000000000000000000000ab", "application/json",
                    400, NULL));
    json_decref(get(&n, "/v1/product/09506000134369", "application/json", 404, NULL));
    json_decref(get(&n, "/v1/product/12345", "application/json", 400, NULL));
    cli_ok(&n, "drug ship --key mfr.json --to 3 --gtin %s --serials %s", GTIN, "P1,P2,P3");
    expect(&n, LINK, "genuine", 2);
    cli_ok(&n, "drug receive --key dist.json --gtin %s --serials %s", GTIN, "P1,P2,P3");
    expect(&n, LINK, "genuine", 3);
    cli_ok(&n, "drug ship --key dist.json --to 4 --gtin %s --serials %s", GTIN, "P1,P2");
    cli_ok(&n, "drug receive --key ph.json --gtin %s --serials %s", GTIN, "P1,P2");
    expect(&n, LINK, "genuine", 5);
    cli_ok(&n, "drug dispense --key ph.json --gtin %s --serial %s", GTIN, "P1");
    {
        /* every supply transaction has decoded content: the dispense */
        json_t *jv = get(&n, LINK, "application/json", 200, NULL);
        json_t *last = json_array_get(json_object_get(jv, "custody"), json_array_size(json_object_get(jv, "custody")) - 1);
        char tp[100];
        snprintf(tp, sizeof tp, "/v1/tx/%s", json_string_value(json_object_get(last, "tx_id")));
        json_decref(jv);
        json_t *tx = get(&n, tp, "application/json", 200, NULL);
        json_t *pl2 = json_object_get(json_object_get(tx, "tx"), "payload");
        cr_assert_str_eq(json_string_value(json_object_get(pl2, "serial")), "P1", "%s", tp);
        cr_assert_str_eq(json_string_value(json_object_get(pl2, "gtin")), GTIN);
        json_decref(tx);
        settle(&n);
    }
    /* The patient's scan: calm ("dispensed"), with the whole custody chain. */
    char *out = cli(&n, 0, "drug verify 'https://id.example/01/%s/10/LOT7/21/P1?17=300630' --node %s",
                    GTIN, n.url);
    cr_assert(strstr(out, "verdict: dispensed"), "%s", out);
    cr_assert(strstr(out, "ship Acme Pharma -> MedDistrib"), "%s", out);
    cr_assert(strstr(out, "receive Corner Pharmacy <- MedDistrib"), "%s", out);
    cr_assert(strstr(out, "dispense Corner Pharmacy"), "%s", out);
    free(out);
    settle(&n);
    /* She scans it again, and again: still calm, with when and where it was
     * dispensed, and no alert. */
    for (int i = 0; i < 2; i++) {
        expect(&n, LINK, "dispensed", 6);
        settle(&n);
    }
    json_t *jd = get(&n, LINK, "application/json", 200, NULL);
    json_t *disp = json_object_get(jd, "dispensed");
    cr_assert_str_eq(json_string_value(json_object_get(disp, "by")), "Corner Pharmacy");
    cr_assert_eq(strlen(json_string_value(json_object_get(disp, "time"))), 20);
    json_decref(jd);
    jd = get(&n, "/01/" GTIN "/21/P1", "text/html", 200, NULL);
    cr_assert(strstr(json_string_value(jd), "Dispensed on ") && strstr(json_string_value(jd), "by Corner Pharmacy"),
              "%s", json_string_value(jd));
    cr_assert_null(strstr(json_string_value(jd), "Do not use"), "the patient's answer is calm");
    json_decref(jd);
    settle(&n);
    json_t *none = get(&n, "/v1/supply/alerts?org=2", "application/json", 200, NULL);
    cr_assert_eq(json_array_size(json_object_get(none, "alerts")), 0, "a patient's scans raise no alert");
    json_decref(none);
    /* Inside the supply chain the same code is a possible clone: the
     * distributor verifying it (VRS) is told so and the alert is raised. */
    out = cli(&n, 0, "drug vrs --key dist.json --gtin %s --serial P1 --lot LOT7 --expiry 300630 "
                     "--gln 4012345000009 --node %s", GTIN, n.url);
    cr_assert(strstr(out, "\"verdict\":\"already_dispensed\"") && strstr(out, "\"verified\":false") &&
              strstr(out, "\"scan_recorded\":true"), "%s", out);
    free(out);
    settle(&n);
    json_t *a = get(&n, "/v1/supply/alerts?org=2", "application/json", 200, NULL);
    cr_assert_eq(json_array_size(json_object_get(a, "alerts")), 1, "manufacturer sees the clone");
    json_t *first = json_array_get(json_object_get(a, "alerts"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(first, "kind")), "clone");
    cr_assert_str_eq(json_string_value(json_object_get(first, "dispensed_by")), "Corner Pharmacy");
    json_decref(a);
    a = get(&n, "/v1/supply/alerts?org=5", "application/json", 200, NULL);
    cr_assert_eq(json_array_size(json_object_get(a, "alerts")), 1, "the regulator sees it");
    json_decref(a);
    a = get(&n, "/v1/supply/alerts?org=3", "application/json", 200, NULL);
    cr_assert_eq(json_array_size(json_object_get(a, "alerts")), 0, "the distributor does not");
    json_decref(a);

    /* A counterfeit: an element string as a scanner sends it (with GS). */
    out = cli(&n, 1, "drug verify \"$(printf ']d201%s1730063010LOT7\\03521FAKE9')\" --node %s", GTIN, n.url);
    cr_assert(strstr(out, "verdict: unknown_serial"), "%s", out);
    free(out);
    json_t *j = get(&n, "/01/" GTIN "/10/LOT8/21/P2", "application/json", 200, NULL);
    cr_assert_str_eq(verdict_of(j), "lot_mismatch");
    json_decref(j);

    /* HTML for a phone, JSON for machines; bad links answered in kind. */
    char *ctype;
    j = get(&n, "/01/" GTIN "/21/P2", "text/html,application/xhtml+xml,*/*;q=0.8", 200, &ctype);
    cr_assert(strstr(ctype, "text/html"), "%s", ctype);
    const char *html = json_string_value(j);
    cr_assert(strstr(html, "<h1>") && strstr(html, "Genuine") && strstr(html, "Corner Pharmacy"));
    cr_assert_null(strstr(html, "http://"), "no external resources");
    cr_assert_null(strstr(html, "https://"), "no external resources");
    cr_assert_null(strstr(html, "<script"), "no scripts");
    free(ctype);
    json_decref(j);
    j = get(&n, "/01/" GTIN "/21/P2", "application/json", 200, &ctype);
    cr_assert(strstr(ctype, "application/json"), "%s", ctype);
    free(ctype);
    json_decref(j);
    j = get(&n, "/01/09506000134353/21/P2", "application/json", 400, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(j, "fault")), "bad_check_digit");
    json_decref(j);
    j = get(&n, "/01/09506000134353/21/P2", "text/html", 400, &ctype);
    cr_assert(strstr(ctype, "text/html"));
    cr_assert(strstr(json_string_value(j), "check digit"));
    free(ctype);
    json_decref(j);

    /* No personal data: no member names, no keys, no reasons. */
    char *raw;
    cr_assert_eq(tp_run(&raw, "curl -s '%s%s'", n.url, LINK), 0);
    const char *names[] = {"Alice", "Smith", "Depot Clerk", "Line One", "Inspector", "Dr Carol"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert_null(strstr(raw, names[i]), "verify answer names a person (%s)", names[i]);
    const char *keys[] = {"ph.json", "dist.json", "mfr.json"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *path = tu_path(n.dir, keys[i]);
        mc_pubkey pk;
        cr_assert_eq(mc_keyfile_read_public(&pk, path), 0);
        char hex[65];
        mc_hex_encode(hex, pk.b, 32);
        cr_assert_null(strstr(raw, hex), "verify answer holds a member key");
        free(path);
    }
    free(raw);

    /* VRS: trading partners only, with a valid signature. */
    out = cli(&n, 0, "drug vrs --key dist.json --gtin %s --serial P3 --lot LOT7 --expiry 300630 "
                     "--gln 4012345000009 --corr c-1 --context dscsaSaleableReturn --node %s", GTIN, n.url);
    cr_assert(strstr(out, "\"verified\":true") && strstr(out, "\"corrUUID\":\"c-1\"") &&
              strstr(out, "\"responderGLN\":\"0950600000002\""), "%s", out);
    free(out);
    out = cli(&n, 0, "drug vrs --key dist.json --gtin %s --serial P3 --lot LOT7 --expiry 300629 "
                     "--gln 4012345000009 --node %s", GTIN, n.url);
    cr_assert(strstr(out, "No_match_GTIN_Serial_Expiry"), "%s", out);
    free(out);
    out = cli(&n, 0, "drug vrs --key ph.json --gtin %s --serial NOPE --lot LOT7 --expiry 300630 "
                     "--gln 5412345000020 --node %s", GTIN, n.url);
    cr_assert(strstr(out, "No_match_GTIN_Serial\""), "%s", out);
    free(out);
    out = cli(&n, 0, "drug vrs --key ph.json --gtin %s --serial P1 --lot LOT7 --expiry 300630 "
                     "--gln 5412345000020 --node %s", GTIN, n.url);
    cr_assert(strstr(out, "\"verified\":false") && strstr(out, "Not_for_re-distribution") &&
              strstr(out, "already_dispensed"), "%s", out);
    free(out);
    free(cli(&n, 0, "keygen --out stranger.json"));
    out = cli(&n, 1, "drug vrs --key stranger.json --gtin %s --serial P3 --lot LOT7 --expiry 300630 "
                     "--gln 4012345000009 --node %s", GTIN, n.url);
    cr_assert(strstr(out, "HTTP 401"), "%s", out);
    free(out);
    out = cli(&n, 1, "drug vrs --key doc.json --gtin %s --serial P3 --lot LOT7 --expiry 300630 "
                     "--gln 5412345000013 --node %s", GTIN, n.url);
    cr_assert(strstr(out, "HTTP 403") && strstr(out, "trading partners"), "%s", out);
    free(out);
    out = cli(&n, 1, "drug vrs --key dist.json --gtin %s --serial P3 --lot LOT7 --expiry 300630 "
                     "--gln 5412345000020 --node %s", GTIN, n.url);
    cr_assert(strstr(out, "HTTP 403"), "a GLN of another organisation: %s", out);
    free(out);
    /* A forged signature (right key, wrong bytes): 401. */
    mc_pubkey dk;
    char *dpath = tu_path(n.dir, "dist.json");
    cr_assert_eq(mc_keyfile_read_public(&dk, dpath), 0);
    free(dpath);
    char dhex[65], sig[129];
    mc_hex_encode(dhex, dk.b, 32);
    memset(sig, 'a', 128);
    sig[128] = 0;
    cr_assert_eq(tp_run(&raw, "curl -s -o /dev/null -w '%%{http_code}' -H 'Medchain-Key: %s' "
                              "-H 'Medchain-Signature: %s' -d '{}' %s/v1/vrs", dhex, sig, n.url), 0);
    cr_assert_str_eq(raw, "401");
    free(raw);
    cr_assert_eq(tp_run(&raw, "curl -s -o /dev/null -w '%%{http_code}' -d '{}' %s/v1/vrs", n.url), 0);
    cr_assert_str_eq(raw, "401", "unsigned");
    free(raw);

    /* Labels decode back to the same Digital Link. */
    out = cli(&n, 0, "drug label --gtin %s --lot LOT7 --serial P4 --expiry 2030-06-30 "
                     "--base %s --png p4.png --svg p4.svg", GTIN, n.url);
    char *l = strstr(out, "link: ");
    cr_assert_not_null(l);
    l += 6;
    *strchr(l, '\n') = 0;
    char expect_link[256];
    snprintf(expect_link, sizeof expect_link, "%s/01/%s/10/LOT7/21/P4?17=300630", n.url, GTIN);
    cr_assert_str_eq(l, expect_link);
    char *dec;
    if (tp_run(NULL, "command -v zbarimg") != 0) {
        cr_log_warn("zbarimg not installed (Debian package zbar-tools): label decode not checked");
        free(out);
        net_stop(&n);
        return;
    }
    int zrc = tp_run(&dec, "cd %s && (zbarimg --quiet --raw p4.png 2>/dev/null)", n.dir);
    cr_assert_eq(zrc, 0, "zbarimg: %s", dec);
    dec[strcspn(dec, "\n")] = 0;
    cr_assert_str_eq(dec, expect_link);
    free(dec);
    free(out);
    /* ... and the link the label carries verifies on the node. */
    out = cli(&n, 0, "drug verify '%s' --node %s", expect_link, n.url);
    cr_assert(strstr(out, "verdict: genuine"), "%s", out);
    free(out);
    net_stop(&n);
}

Test(supply_http, refusals_over_http, .timeout = 60, .fini = net_fini) {
    struct net n;
    net_start(&n);
    cli_ok(&n, "drug commission --key mfr.json --gtin %s --lot L1 --expiry 2030-01-31 --serials %s",
           GTIN, "A,B");
    /* non-owner ship, wrong receiver, double dispense, dispense after recall */
    char *out = cli(&n, 1, "drug ship --key dist.json --to 4 --gtin %s --serials A --node %s", GTIN, n.url);
    cr_assert(strstr(out, "held by organisation 2"), "%s", out);
    free(out);
    cli_ok(&n, "drug ship --key mfr.json --to 4 --gtin %s --serials %s", GTIN, "A,B");
    out = cli(&n, 1, "drug receive --key dist.json --gtin %s --serials A --node %s", GTIN, n.url);
    cr_assert(strstr(out, "not shipped to"), "%s", out);
    free(out);
    cli_ok(&n, "drug receive --key ph.json --gtin %s --serials %s", GTIN, "A,B");
    cli_ok(&n, "drug dispense --key ph.json --gtin %s --serial %s", GTIN, "A");
    out = cli(&n, 1, "drug dispense --key ph.json --gtin %s --serial A --node %s", GTIN, n.url);
    cr_assert(strstr(out, "already dispensed"), "%s", out);
    free(out);
    out = cli(&n, 1, "drug recall --key ph.json --gtin %s --lot L1 --reason x --node %s", GTIN, n.url);
    cr_assert(strstr(out, "forbidden"), "%s", out);
    free(out);
    cli_ok(&n, "drug recall --key reg.json --gtin %s --lot L1 --reason '%s'", GTIN, "sterility");
    out = cli(&n, 1, "drug dispense --key ph.json --gtin %s --serial B --node %s", GTIN, n.url);
    cr_assert(strstr(out, "recalled"), "%s", out);
    free(out);
    expect(&n, "/01/" GTIN "/21/B", "recalled", 3);
    net_stop(&n);
}
