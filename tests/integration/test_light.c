/* The light client against a real node: `medchain light` trusts only the
 * genesis file and accepts the public medicine check only when the header's
 * certificate, the pack's and lot's rows (or their absence) and the custody
 * transactions all check. Answers doctored the ways a dishonest node would
 * (a recall left out, another lot's absence proof, a certificate without
 * its signatures, another state root) are refused; a node whose own store
 * lost the recall row refuses to answer rather than serve a proof that
 * does not hold. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "../support/proc.h"
#include "../support/testutil.h"

#define GTIN "09506000134352"

static pid_t live_pid;
static char *dir;
static char url[64];
static char home[512];

static void fini(void) {
    if (live_pid > 0) tp_kill(live_pid, SIGKILL);
}

static char *cli(int want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *cli(int want, const char *fmt, ...) {
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *out;
    int rc = tp_run(&out, "cd %s && %s %s", dir, tp_bin(), args);
    cr_assert_eq(rc, want, "medchain %s: exit %d, expected %d:\n%s", args, rc, want, out);
    return out;
}

/* Waits until the node has no pending transaction. */
static void settle(void) {
    for (int i = 0; i < 100; i++) {
        char *out;
        cr_assert_eq(tp_run(&out, "curl -s '%s/v1/status'", url), 0);
        json_t *s = json_loads(out, 0, NULL);
        free(out);
        json_int_t pending = json_integer_value(json_object_get(s, "mempool_size"));
        json_decref(s);
        if (pending == 0) return;
        usleep(50 * 1000);
    }
    cr_assert_fail("the node did not commit its pending transactions");
}

static void start(void) {
    mc_crypto_init();
    dir = tu_tmpdir("light");
    snprintf(home, sizeof home, "%s/node", dir);
    free(cli(0, "init --home node --chain-id medchain-light --org 'St Mary' --gln 5412345000013"));
    free(cli(0, "genesis add-org --home node --id 2 --name 'Acme Pharma' --kind manufacturer "
                "--gln 0950600000002 --admin-key-out mfr_admin.json"));
    int port = tp_free_port();
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    live_pid = tp_node_start(home, port);
    free(cli(0, "keygen --out mfr.json"));
    free(cli(0, "member enroll --key mfr_admin.json --member-key mfr.json --role manufacturer "
                "--name 'Line One' --node %s", url));
    free(cli(0, "drug commission --key mfr.json --gtin %s --lot LOT7 --expiry 2030-06-30 --count 2 "
                "--prefix P --node %s", GTIN, url));
    settle();
}

static char *light(int want, const char *code, const char *answer) {
    char extra[600] = "";
    if (answer) snprintf(extra, sizeof extra, "--answer %s", answer);
    return cli(want, "light pack '%s' --genesis node/genesis.json --node %s %s", code, url, extra);
}

/* The resolver's answer with proofs. */
static json_t *answer(const char *path) {
    char *out;
    cr_assert_eq(tp_run(&out, "curl -s -H 'Accept: application/json' '%s%s'", url, path), 0);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "%s", out);
    free(out);
    return j;
}

static void save(json_t *j, const char *name) {
    char *p = tu_path(dir, name);
    cr_assert_eq(json_dump_file(j, p, 0), 0);
    free(p);
}

#define LINK "/01/" GTIN "/10/LOT7/21/P1?17=300630"

Test(light_cli, pack_checks_and_doctored_answers_are_refused, .timeout = 120, .fini = fini) {
    start();
    char *out = light(0, LINK, NULL);
    cr_assert(strstr(out, "certificate holds, 1 signatures all valid"), "%s", out);
    cr_assert(strstr(out, "pack: proven present: status in_stock"), "%s", out);
    cr_assert(strstr(out, "lot: proven present: not recalled"), "%s", out);
    cr_assert(strstr(out, "custody: 1 transactions"), "%s", out);
    cr_assert(strstr(out, "light: verified"), "%s", out);
    free(out);
    /* a pack nobody commissioned, in a lot that does not exist: both proven absent */
    out = light(0, "/01/" GTIN "/10/LOT9/21/FAKE1", NULL);
    cr_assert(strstr(out, "pack: proven absent") && strstr(out, "lot: proven absent"), "%s", out);
    free(out);
    /* The recall, and the light client sees it. */
    free(cli(0, "drug recall --key mfr.json --gtin %s --lot LOT7 --reason contamination --node %s", GTIN, url));
    settle();
    out = light(0, LINK, NULL);
    cr_assert(strstr(out, "lot: proven present: RECALLED"), "%s", out);
    free(out);

    json_t *honest = answer(LINK "&proofs=1");
    json_t *other = answer("/01/" GTIN "/10/LOT9/21/FAKE1?proofs=1");
    save(honest, "honest.json");
    out = light(0, LINK, "honest.json");
    cr_assert(strstr(out, "RECALLED"), "the saved answer checks offline: %s", out);
    free(out);
    /* 1. the recall left out: the lot claimed absent with the real proof */
    json_t *j = json_deep_copy(honest);
    json_t *lot = json_object_get(json_object_get(j, "state_proofs"), "lot");
    json_object_set_new(lot, "present", json_false());
    json_object_set_new(lot, "value_hex", json_null());
    json_object_set_new(j, "recall", json_null());
    save(j, "doctored1.json");
    json_decref(j);
    out = light(1, LINK, "doctored1.json");
    cr_assert(strstr(out, "refused: lot absence"), "%s", out);
    free(out);
    /* 2. a true absence proof of another lot, relabelled as this lot's */
    j = json_deep_copy(honest);
    json_t *sp = json_object_get(j, "state_proofs");
    json_t *fake = json_deep_copy(json_object_get(json_object_get(other, "state_proofs"), "lot"));
    json_object_set(fake, "key_hex",
                    json_object_get(json_object_get(json_object_get(honest, "state_proofs"), "lot"), "key_hex"));
    json_object_set_new(sp, "lot", fake);
    save(j, "doctored2.json");
    json_decref(j);
    out = light(1, LINK, "doctored2.json");
    cr_assert(strstr(out, "refused: lot"), "%s", out);
    free(out);
    /* 3. ... or kept with its own key */
    j = json_deep_copy(honest);
    json_object_set(json_object_get(j, "state_proofs"), "lot",
                    json_object_get(json_object_get(other, "state_proofs"), "lot"));
    save(j, "doctored3.json");
    json_decref(j);
    out = light(1, LINK, "doctored3.json");
    cr_assert(strstr(out, "refused: the lot proof is about another key"), "%s", out);
    free(out);
    /* 4. a certificate stripped of its signatures */
    j = json_deep_copy(honest);
    json_t *anchor = json_object_get(json_object_get(j, "state_proofs"), "anchor");
    const char *ch = json_string_value(json_object_get(anchor, "commit_hex"));
    /* u64 height | u32 round | hash | u16 count: keep the prefix, count 0 */
    char stripped[200];
    snprintf(stripped, sizeof stripped, "%.*s0000", (int)(2 * (8 + 4 + 32)), ch);
    json_object_set_new(anchor, "commit_hex", json_string(stripped));
    save(j, "doctored4.json");
    json_decref(j);
    out = light(1, LINK, "doctored4.json");
    cr_assert(strstr(out, "refused: header"), "%s", out);
    free(out);
    /* 5. a header whose state root was changed (byte 100 of its bytes) */
    j = json_deep_copy(honest);
    anchor = json_object_get(json_object_get(j, "state_proofs"), "anchor");
    char *hh = strdup(json_string_value(json_object_get(anchor, "header_hex")));
    hh[strlen(hh) - 200] = hh[strlen(hh) - 200] == '0' ? '1' : '0';
    json_object_set_new(anchor, "header_hex", json_string(hh));
    free(hh);
    save(j, "doctored5.json");
    json_decref(j);
    out = light(1, LINK, "doctored5.json");
    cr_assert(strstr(out, "refused: header"), "%s", out);
    free(out);
    json_decref(honest);
    json_decref(other);

    /* A member's status, proven. */
    char *pk;
    cr_assert_eq(tp_run(&pk, "cd %s && sed -n 's/.*\"public_key\": *\"\\([0-9a-f]*\\)\".*/\\1/p' mfr.json", dir), 0);
    pk[strcspn(pk, "\n")] = 0;
    out = cli(0, "light state --genesis node/genesis.json --account %s --node %s", pk, url);
    cr_assert(strstr(out, "account: role manufacturer, status active"), "%s", out);
    free(out);
    free(pk);
    out = cli(0, "light state --genesis node/genesis.json --key 782f6e6f6e65 --node %s", url);
    cr_assert(strstr(out, "row: proven absent"), "%s", out);
    free(out);

    /* The node's own store loses the recall row (a node built to hide it):
     * it refuses to answer, since its proof would not check. */
    tp_kill(live_pid, SIGTERM);
    live_pid = 0;
    char *db = tu_path(home, "data/chain.db");
    char *o2;
    cr_assert_eq(tp_run(&o2, "sqlite3 '%s' \"DELETE FROM state WHERE key = CAST('s/l/' || '%s' || 'LOT7' AS BLOB)\" "
                             "&& sqlite3 '%s' \"SELECT changes()\"", db, GTIN, db), 0, "%s", o2);
    free(o2);
    int port = atoi(strrchr(url, ':') + 1);
    live_pid = tp_node_start(home, port);
    out = light(1, LINK, NULL);
    cr_assert(strstr(out, "tampered") || strstr(out, "does not match"), "%s", out);
    free(out);
    free(db);
}
