/* `medchain drug ...`: the supply chain commands (payloads in
 * src/app/supply.h), the public verification, pack labels and the VRS
 * request; and `medchain genesis add-org`, which adds an organisation to a
 * home folder's genesis before its first block (how a demo or a test
 * consortium gets its manufacturer, distributor, pharmacy and regulator
 * until governance transactions exist). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include <time.h>

#include "api/label.h"
#include "app/genesis.h"
#include "app/gs1.h"
#include "app/supply.h"
#include "app/supply_payload.h"
#include "app/supply_product.h"
#include "app/txtypes.h"
#include "base/codec.h"
#include "base/hex.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "crypto/keyfile.h"
#include "node/node.h"

#define SIGNER_SPEC                                                                         \
    {"node", true}, {"key", true}, {"passphrase-file", true}, {"nonce", true},              \
        {"no-wait", false}, {"timeout", true}
#define LIST_MAX MC_SUPPLY_ITEMS_PER_TX_MAX

static unsigned current_year(void) {
    return mc_supply_civil_from_ms((uint64_t)time(NULL) * 1000, NULL) / 10000;
}

/* A GTIN-8/12/13/14 into its 14-digit form. */
static int gtin_arg(char out[MC_GS1_GTIN_LEN + 1], const char *s) {
    struct mc_gs1_error e;
    if (!s) return mc_cli_error(MC_CLI_USAGE, "missing --gtin");
    if (mc_gs1_gtin_normalize(out, &e, s, strlen(s)))
        return mc_cli_error(MC_CLI_USAGE, "--gtin: %s", e.message);
    return 0;
}

/* Expiry as YYYY-MM-DD, YYYYMMDD or GS1 YYMMDD (day 00 = end of month). */
static int expiry_arg(uint32_t *out, const char *s) {
    if (!s) return mc_cli_error(MC_CLI_USAGE, "missing --expiry");
    char digits[9];
    size_t n = 0;
    for (const char *p = s; *p && n < 8; p++)
        if (*p != '-') digits[n++] = *p;
    digits[n] = 0;
    uint64_t v;
    if (n == 6) {
        char es[32];
        snprintf(es, sizeof es, "0109506000134352" "17%s", digits);
        struct mc_gs1_id id;
        struct mc_gs1_error e;
        if (mc_gs1_parse_element_string(&id, &e, es, strlen(es), current_year()))
            return mc_cli_error(MC_CLI_USAGE, "--expiry: %s", e.message);
        *out = mc_gs1_date_yyyymmdd(&id.expiry);
        return 0;
    }
    if (n != 8 || !mc_cli_parse_u64(digits, &v) || !mc_supply_date_valid((uint32_t)v))
        return mc_cli_error(MC_CLI_USAGE, "--expiry must be a date YYYY-MM-DD or YYMMDD");
    *out = (uint32_t)v;
    return 0;
}

/* Splits a comma-separated list in place. */
static int split_list(char *s, char **items, int max) {
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max) return -1;
        items[n++] = tok;
    }
    return n;
}

/* Payloads are built as app/supply_payload.h structures (large: heap). */
static struct mc_supply_payload *new_payload(uint16_t type) {
    struct mc_supply_payload *p = calloc(1, sizeof *p);
    if (p) p->type = type;
    return p;
}

/* Copies a text argument; false when it cannot be carried (longer than a
 * str8), which finish() reports like any value too long for the payload. */
static bool text(char *dst, const char *src, bool *too_long) {
    size_t n = strlen(src ? src : "");
    if (n > MC_SUPPLY_PAYLOAD_TEXT_MAX) {
        *too_long = true;
        return false;
    }
    memcpy(dst, src ? src : "", n + 1);
    return true;
}

/* Items from --serials (with --gtin) and --sscc into p->items. */
static int items_arg(struct mc_supply_payload *p, const struct mc_cli_args *a, bool *too_long) {
    const char *serials = mc_cli_arg(a, "serials"), *ssccs = mc_cli_arg(a, "sscc");
    if (!serials && !ssccs) return mc_cli_error(MC_CLI_USAGE, "name packs with --gtin G --serials "
                                                "S1,S2,... and/or containers with --sscc X,Y");
    char *s1 = serials ? strdup(serials) : NULL, *s2 = ssccs ? strdup(ssccs) : NULL;
    static char *list[LIST_MAX];
    int n1 = 0, n2 = 0, rc = 0;
    char gtin[MC_GS1_GTIN_LEN + 1] = "";
    if (s1) {
        if ((rc = gtin_arg(gtin, mc_cli_arg(a, "gtin")))) goto out;
        n1 = split_list(s1, list, LIST_MAX);
        for (int i = 0; i < n1; i++) {
            p->items[i].kind = MC_SUPPLY_ITEM_UNIT;
            memcpy(p->items[i].gtin, gtin, sizeof gtin);
            (void)text(p->items[i].id, list[i], too_long);
        }
    }
    if (s2 && n1 >= 0) {
        n2 = split_list(s2, list, LIST_MAX);
        for (int i = 0; i < n2; i++) {
            if (!mc_sscc_valid(list[i])) {
                rc = mc_cli_error(MC_CLI_USAGE, "--sscc %s is not 18 digits with a valid check digit", list[i]);
                goto out;
            }
            if (n1 + i < LIST_MAX) {
                p->items[n1 + i].kind = MC_SUPPLY_ITEM_CONTAINER;
                (void)text(p->items[n1 + i].id, list[i], too_long);
            }
        }
    }
    if (n1 < 0 || n2 < 0 || n1 + n2 > LIST_MAX) {
        rc = mc_cli_error(MC_CLI_USAGE, "at most %d items per transaction", LIST_MAX);
        goto out;
    }
    p->count = (uint16_t)(n1 + n2);
out:
    free(s1);
    free(s2);
    return rc;
}

/* Encodes p, then signs and submits it; frees p. */
static int finish(const struct mc_cli_args *a, const char *words, struct mc_supply_payload *p,
                  bool too_long) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = too_long || mc_supply_payload_encode(&b, p)
                 ? mc_cli_error(MC_CLI_USAGE, "a value is too long for the payload")
                 : mc_cli_sign_submit(a, words, p->type, &b);
    mc_buf_deinit(&b);
    free(p);
    return rc;
}

#define NEW_PAYLOAD_OR_RETURN(p, type)                                          \
    struct mc_supply_payload *p = new_payload(type);                          \
    if (!p) return mc_cli_error(MC_CLI_FAIL, "out of memory");                \
    bool too_long = false

int mc_cli_cmd_drug_commission(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"gtin", true}, {"lot", true},
                                             {"expiry", true}, {"serials", true},
                                             {"count", true}, {"prefix", true}};
    static const char words[] = "drug commission";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    char gtin[MC_GS1_GTIN_LEN + 1];
    uint32_t expiry;
    int rc;
    if ((rc = gtin_arg(gtin, mc_cli_arg(&a, "gtin"))) || (rc = expiry_arg(&expiry, mc_cli_arg(&a, "expiry"))))
        return rc;
    if (mc_cli_require(&a, words, "lot")) return MC_CLI_USAGE;
    const char *serials = mc_cli_arg(&a, "serials"), *count = mc_cli_arg(&a, "count");
    if (!!serials == !!count)
        return mc_cli_error(MC_CLI_USAGE, "give --serials S1,S2,... or --count N [--prefix P]");
    NEW_PAYLOAD_OR_RETURN(p, MC_TX_DRUG_COMMISSION);
    memcpy(p->gtin, gtin, sizeof gtin);
    (void)text(p->lot, mc_cli_arg(&a, "lot"), &too_long);
    p->expiry = expiry;
    if (serials) {
        static char *list[MC_SUPPLY_SERIALS_PER_TX_MAX];
        char *s = strdup(serials);
        int n = split_list(s, list, MC_SUPPLY_SERIALS_PER_TX_MAX);
        if (n <= 0) {
            free(s);
            free(p);
            return mc_cli_error(MC_CLI_USAGE, "--serials names 1 to %d serials", MC_SUPPLY_SERIALS_PER_TX_MAX);
        }
        p->count = (uint16_t)n;
        for (int i = 0; i < n; i++) (void)text(p->serials[i], list[i], &too_long);
        for (int i = 0; i < n; i++) printf("serial: %s\n", list[i]);
        free(s);
    } else {
        uint64_t n;
        const char *prefix = mc_cli_arg(&a, "prefix");
        if (!mc_cli_parse_u64(count, &n) || n == 0 || n > MC_SUPPLY_SERIALS_PER_TX_MAX) {
            free(p);
            return mc_cli_error(MC_CLI_USAGE, "--count must be 1 to %d", MC_SUPPLY_SERIALS_PER_TX_MAX);
        }
        p->count = (uint16_t)n;
        for (uint64_t i = 0; i < n; i++) {
            char sn[MC_SUPPLY_PAYLOAD_TEXT_MAX + 40];
            snprintf(sn, sizeof sn, "%s%llu", prefix ? prefix : "", (unsigned long long)i + 1);
            (void)text(p->serials[i], sn, &too_long);
        }
    }
    return finish(&a, words, p, too_long);
}

int mc_cli_cmd_drug_aggregate(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"into", true}, {"gtin", true},
                                             {"serials", true}, {"sscc", true}};
    static const char words[] = "drug aggregate";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "into")) return MC_CLI_USAGE;
    if (!mc_sscc_valid(mc_cli_arg(&a, "into")))
        return mc_cli_error(MC_CLI_USAGE, "--into must be an SSCC (18 digits, valid check digit)");
    NEW_PAYLOAD_OR_RETURN(p, MC_TX_DRUG_AGGREGATE);
    (void)text(p->sscc, mc_cli_arg(&a, "into"), &too_long);
    int rc = items_arg(p, &a, &too_long);
    if (rc) {
        free(p);
        return rc;
    }
    return finish(&a, words, p, too_long);
}

int mc_cli_cmd_drug_disaggregate(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"sscc", true}};
    static const char words[] = "drug disaggregate";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "sscc")) return MC_CLI_USAGE;
    NEW_PAYLOAD_OR_RETURN(p, MC_TX_DRUG_DISAGGREGATE);
    (void)text(p->sscc, mc_cli_arg(&a, "sscc"), &too_long);
    return finish(&a, words, p, too_long);
}

static int ship_receive(int argc, char **argv, bool ship) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"to", true}, {"gtin", true},
                                             {"serials", true}, {"sscc", true}};
    const char *words = ship ? "drug ship" : "drug receive";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    uint64_t to = 0;
    if (ship) {
        if (mc_cli_require(&a, words, "to")) return MC_CLI_USAGE;
        if (!mc_cli_parse_u64(mc_cli_arg(&a, "to"), &to) || to == 0 || to > UINT32_MAX)
            return mc_cli_error(MC_CLI_USAGE, "--to must be an organisation id");
    } else if (mc_cli_arg(&a, "to")) {
        return mc_cli_error(MC_CLI_USAGE, "--to is for 'drug ship'");
    }
    NEW_PAYLOAD_OR_RETURN(p, ship ? MC_TX_DRUG_SHIP : MC_TX_DRUG_RECEIVE);
    p->to_org = (uint32_t)to;
    int rc = items_arg(p, &a, &too_long);
    if (rc) {
        free(p);
        return rc;
    }
    return finish(&a, words, p, too_long);
}

int mc_cli_cmd_drug_ship(int argc, char **argv) { return ship_receive(argc, argv, true); }
int mc_cli_cmd_drug_receive(int argc, char **argv) { return ship_receive(argc, argv, false); }

/* --gtin and --serial into p. */
static int pack_arg(struct mc_supply_payload *p, const struct mc_cli_args *a, const char *words,
                    bool *too_long) {
    char gtin[MC_GS1_GTIN_LEN + 1];
    int rc = gtin_arg(gtin, mc_cli_arg(a, "gtin"));
    if (rc) return rc;
    if (mc_cli_require(a, words, "serial")) return MC_CLI_USAGE;
    memcpy(p->gtin, gtin, sizeof gtin);
    (void)text(p->serial, mc_cli_arg(a, "serial"), too_long);
    return 0;
}

int mc_cli_cmd_drug_dispense(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"gtin", true}, {"serial", true}};
    static const char words[] = "drug dispense";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    NEW_PAYLOAD_OR_RETURN(p, MC_TX_DRUG_DISPENSE);
    int rc = pack_arg(p, &a, words, &too_long);
    if (rc) {
        free(p);
        return rc;
    }
    return finish(&a, words, p, too_long);
}

int mc_cli_cmd_drug_decommission(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"gtin", true}, {"serial", true},
                                             {"reason", true}};
    static const char words[] = "drug decommission";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "reason")) return MC_CLI_USAGE;
    uint8_t reason = mc_supply_decommission_from_name(mc_cli_arg(&a, "reason"));
    if (!reason)
        return mc_cli_error(MC_CLI_USAGE, "--reason is destroyed, stolen, sample or exported");
    NEW_PAYLOAD_OR_RETURN(p, MC_TX_DRUG_DECOMMISSION);
    p->code = reason;
    int rc = pack_arg(p, &a, words, &too_long);
    if (rc) {
        free(p);
        return rc;
    }
    return finish(&a, words, p, too_long);
}

int mc_cli_cmd_drug_product(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"gtin", true}, {"name", true}, {"strength", true},
                                             {"form", true}, {"pack-size", true}};
    static const char words[] = "drug product";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    struct mc_supply_product p;
    memset(&p, 0, sizeof p);
    int rc = gtin_arg(p.gtin, mc_cli_arg(&a, "gtin"));
    if (rc) return rc;
    if (mc_cli_require(&a, words, "name") || mc_cli_require(&a, words, "form") ||
        mc_cli_require(&a, words, "pack-size"))
        return MC_CLI_USAGE;
    const char *name = mc_cli_arg(&a, "name"), *strength = mc_cli_arg(&a, "strength"), *form = mc_cli_arg(&a, "form");
    if (strlen(name) > MC_PRODUCT_NAME_MAX || (strength && strlen(strength) > MC_PRODUCT_FIELD_MAX) ||
        strlen(form) > MC_PRODUCT_FIELD_MAX)
        return mc_cli_error(MC_CLI_USAGE, "--name is at most %d characters, --strength and --form at most %d",
                            MC_PRODUCT_NAME_MAX, MC_PRODUCT_FIELD_MAX);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.strength, sizeof p.strength, "%s", strength ? strength : "");
    snprintf(p.form, sizeof p.form, "%s", form);
    char *end = NULL;
    unsigned long n = strtoul(mc_cli_arg(&a, "pack-size"), &end, 10);
    if (!end || *end || n == 0 || n > 65535)
        return mc_cli_error(MC_CLI_USAGE, "--pack-size is the number of units in a pack, 1 to 65535");
    p.pack_size = (uint16_t)n;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_supply_product_encode(&b, &p);
    /* the ledger's own checks, before anything is signed */
    struct mc_supply_product back;
    rc = b.err ? b.err : mc_supply_product_decode(&back, b.data, b.len);
    rc = rc ? mc_cli_error(MC_CLI_USAGE, "%s", mc_err_detail()) : mc_cli_sign_submit(&a, words, MC_TX_DRUG_PRODUCT, &b);
    mc_buf_deinit(&b);
    return rc;
}

int mc_cli_cmd_drug_recall(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"gtin", true}, {"lot", true},
                                             {"reason", true}};
    static const char words[] = "drug recall";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    char gtin[MC_GS1_GTIN_LEN + 1];
    int rc = gtin_arg(gtin, mc_cli_arg(&a, "gtin"));
    if (rc) return rc;
    if (mc_cli_require(&a, words, "lot") || mc_cli_require(&a, words, "reason")) return MC_CLI_USAGE;
    NEW_PAYLOAD_OR_RETURN(p, MC_TX_DRUG_RECALL);
    memcpy(p->gtin, gtin, sizeof gtin);
    (void)text(p->lot, mc_cli_arg(&a, "lot"), &too_long);
    (void)text(p->reason, mc_cli_arg(&a, "reason"), &too_long);
    return finish(&a, words, p, too_long);
}

int mc_cli_cmd_drug_flag(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {SIGNER_SPEC, {"gtin", true}, {"serial", true},
                                             {"flag", true}, {"reason", true}};
    static const char words[] = "drug flag";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "flag") || mc_cli_require(&a, words, "reason")) return MC_CLI_USAGE;
    uint8_t f = mc_supply_flag_from_name(mc_cli_arg(&a, "flag"));
    if (f == 0xff) return mc_cli_error(MC_CLI_USAGE, "--flag is suspect, illegitimate or clear");
    NEW_PAYLOAD_OR_RETURN(p, MC_TX_DRUG_FLAG);
    int rc = pack_arg(p, &a, words, &too_long);
    if (rc) {
        free(p);
        return rc;
    }
    p->code = f;
    (void)text(p->reason, mc_cli_arg(&a, "reason"), &too_long);
    return finish(&a, words, p, too_long);
}

/* ---- requests with headers (verify, vrs) ------------------------------- */

static size_t collect(char *p, size_t sz, size_t n, void *ud) {
    struct mc_buf *b = ud;
    if (b->len + sz * n > MC_CLIENT_BODY_MAX) return 0;
    mc_buf_append(b, p, sz * n);
    return b->err ? 0 : sz * n;
}

static int http(const char *method, const char *url, struct curl_slist *headers, const void *body,
                size_t len, long *status, struct mc_buf *out) {
    CURL *c = curl_easy_init();
    if (!c) return mc_cli_error(MC_CLI_FAIL, "cannot start an HTTP client");
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, MC_CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, MC_CLIENT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    if (cc != CURLE_OK)
        return mc_cli_error(MC_CLI_FAIL, "cannot reach %s (%s)", url,
                            errbuf[0] ? errbuf : curl_easy_strerror(cc));
    mc_buf_append(out, "", 1);
    out->len--;
    return 0;
}

static const char *node_url(const struct mc_cli_args *a) {
    const char *u = mc_cli_arg(a, "node");
    if (!u) u = getenv("MEDCHAIN_NODE");
    return u ? u : MC_CLI_DEFAULT_NODE;
}

/* Turns what a scanner or phone read into the request target on the node:
 * a Digital Link keeps its path and query; an element string is parsed
 * here and written as the canonical Digital Link. */
int mc_cli_gs1_target(char *out, size_t size, const char *code) {
    struct mc_gs1_id id;
    struct mc_gs1_error e;
    if (mc_gs1_parse(&id, &e, code, strlen(code), current_year()))
        return mc_cli_error(MC_CLI_USAGE, "cannot read the code: %s", e.message);
    size_t len;
    char link[MC_GS1_DIGITAL_LINK_MAX];
    if (mc_gs1_encode_digital_link(link, sizeof link, &len, &id, "x"))
        return mc_cli_error(MC_CLI_USAGE, "cannot write the Digital Link");
    /* The canonical link of what parsed, without its (placeholder) base. */
    snprintf(out, size, "%s", link + 1);
    return 0;
}

int mc_cli_cmd_drug_verify(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}, {"html", false}, {"json", false}};
    static const char words[] = "drug verify";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (a.positional_count != 1)
        return mc_cli_error(MC_CLI_USAGE, "give the scanned code: a Digital Link or a GS1 element string");
    char target[MC_GS1_DIGITAL_LINK_MAX];
    int rc = mc_cli_gs1_target(target, sizeof target, a.positional[0]);
    if (rc) return rc;
    char url[MC_CLIENT_URL_MAX + MC_GS1_DIGITAL_LINK_MAX];
    snprintf(url, sizeof url, "%s%s", node_url(&a), target);
    bool html = mc_cli_flag(&a, "html");
    struct curl_slist *h = curl_slist_append(NULL, html ? "Accept: text/html" : "Accept: application/json");
    struct mc_buf body;
    mc_buf_init(&body, 0);
    long status = 0;
    rc = http("GET", url, h, NULL, 0, &status, &body);
    curl_slist_free_all(h);
    if (rc) {
        mc_buf_deinit(&body);
        return rc;
    }
    if (html || mc_cli_flag(&a, "json")) {
        fwrite(body.data, 1, body.len, stdout);
        mc_buf_deinit(&body);
        return status == 200 ? MC_CLI_OK : MC_CLI_FAIL;
    }
    json_t *j = json_loadb((const char *)body.data, body.len, 0, NULL);
    mc_buf_deinit(&body);
    if (status != 200 || !json_is_object(j)) {
        const char *m = json_string_value(json_object_get(j, "message"));
        rc = mc_cli_error(MC_CLI_FAIL, "verification failed (HTTP %ld): %s", status, m ? m : "no answer");
        json_decref(j);
        return rc;
    }
    json_t *product = json_object_get(j, "product");
    printf("url: %s\n", url);
    printf("verdict: %s\n", json_string_value(json_object_get(j, "verdict")));
    printf("text: %s\n", json_string_value(json_object_get(j, "verdict_text")));
    printf("gtin: %s\n", json_string_value(json_object_get(product, "gtin")));
    json_t *prod = json_object_get(j, "product");
    const char *pfields[] = {"name", "strength", "form"};
    for (size_t i = 0; i < sizeof pfields / sizeof pfields[0]; i++) {
        const char *v = json_string_value(json_object_get(prod, pfields[i]));
        if (v && *v) printf("product_%s: %s\n", pfields[i], v);
    }
    if (json_integer_value(json_object_get(prod, "pack_size")))
        printf("product_pack_size: %lld\n", (long long)json_integer_value(json_object_get(prod, "pack_size")));
    const char *fields[] = {"serial", "lot", "expiry", "status", "holder"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = json_string_value(json_object_get(j, fields[i]));
        if (v) printf("%s: %s\n", fields[i], v);
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "custody"), i, e) {
        const char *to = json_string_value(json_object_get(e, "to"));
        const char *from = json_string_value(json_object_get(e, "from"));
        printf("custody: %s %s %s%s%s%s%s\n", json_string_value(json_object_get(e, "time")),
               json_string_value(json_object_get(e, "event")),
               json_string_value(json_object_get(e, "org")), to ? " -> " : "", to ? to : "",
               from ? " <- " : "", from ? from : "");
    }
    json_t *checked = json_object_get(j, "checked_at");
    printf("checked_at_height: %lld\n", (long long)json_integer_value(json_object_get(checked, "height")));
    printf("proofs: %zu\n", json_array_size(json_object_get(j, "proofs")));
    json_t *disp = json_object_get(j, "dispensed");
    if (json_is_object(disp))
        printf("dispensed: %s by %s\n", json_string_value(json_object_get(disp, "time")),
               json_string_value(json_object_get(disp, "by")));
    /* a pack dispensed to a patient is genuine news for her, not a failure */
    const char *verdict = json_string_value(json_object_get(j, "verdict"));
    bool ok = json_is_true(json_object_get(j, "genuine")) || (verdict && strcmp(verdict, "dispensed") == 0);
    json_decref(j);
    return ok ? MC_CLI_OK : MC_CLI_FAIL;
}

int mc_cli_cmd_drug_label(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"gtin", true}, {"lot", true}, {"serial", true},
                                             {"expiry", true}, {"base", true}, {"link", true},
                                             {"png", true}, {"svg", true}, {"module-px", true}};
    static const char words[] = "drug label";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    const char *png = mc_cli_arg(&a, "png"), *svg = mc_cli_arg(&a, "svg");
    if (!png && !svg) return mc_cli_error(MC_CLI_USAGE, "give --png FILE and/or --svg FILE");
    uint64_t px = 8;
    const char *pxs = mc_cli_arg(&a, "module-px");
    if (pxs && (!mc_cli_parse_u64(pxs, &px) || px < 1 || px > MC_LABEL_MODULE_PX_MAX))
        return mc_cli_error(MC_CLI_USAGE, "--module-px must be 1 to %d", MC_LABEL_MODULE_PX_MAX);
    char link[MC_GS1_DIGITAL_LINK_MAX];
    size_t len;
    struct mc_gs1_id id;
    struct mc_gs1_error e;
    if (mc_cli_arg(&a, "link")) {
        const char *l = mc_cli_arg(&a, "link");
        if (mc_gs1_parse_digital_link(&id, &e, l, strlen(l), current_year()))
            return mc_cli_error(MC_CLI_USAGE, "--link: %s", e.message);
    } else {
        memset(&id, 0, sizeof id);
        int rc = gtin_arg(id.gtin, mc_cli_arg(&a, "gtin"));
        if (rc) return rc;
        if (mc_cli_require(&a, words, "serial") || mc_cli_require(&a, words, "lot")) return MC_CLI_USAGE;
        uint32_t exp;
        if ((rc = expiry_arg(&exp, mc_cli_arg(&a, "expiry")))) return rc;
        snprintf(id.serial, sizeof id.serial, "%s", mc_cli_arg(&a, "serial"));
        snprintf(id.lot, sizeof id.lot, "%s", mc_cli_arg(&a, "lot"));
        if (!mc_supply_value_valid(id.serial) || !mc_supply_value_valid(id.lot))
            return mc_cli_error(MC_CLI_USAGE, "lot and serial are 1-20 characters of GS1 set 82");
        id.present = MC_GS1_HAS_EXPIRY;
        id.expiry = (struct mc_gs1_date){.year = (uint16_t)(exp / 10000),
                                         .month = (uint8_t)(exp / 100 % 100),
                                         .day = (uint8_t)(exp % 100)};
    }
    const char *base = mc_cli_arg(&a, "base");
    if (base && (strlen(base) >= MC_GS1_BASE_MAX || strchr(base, '?') || strchr(base, '#')))
        return mc_cli_error(MC_CLI_USAGE, "--base is scheme://host[/prefix], no query");
    char trimmed[MC_GS1_BASE_MAX];
    if (base) {
        snprintf(trimmed, sizeof trimmed, "%s", base);
        size_t n = strlen(trimmed);
        while (n && trimmed[n - 1] == '/') trimmed[--n] = 0;
        base = trimmed;
    }
    if (mc_gs1_encode_digital_link(link, sizeof link, &len, &id, base))
        return mc_cli_error(MC_CLI_FAIL, "cannot write the Digital Link: %s", mc_err_detail());
    /* what is printed under the code: the element string, one AI a line */
    char caption[4 * (MC_LABEL_CAPTION_COLS + 1)];
    size_t cn = (size_t)snprintf(caption, sizeof caption, "(01) %s", id.gtin);
    if (id.present & MC_GS1_HAS_EXPIRY)
        cn += (size_t)snprintf(caption + cn, sizeof caption - cn, "\n(17) %02u%02u%02u", id.expiry.year % 100u,
                               id.expiry.month, id.expiry.day_unspecified ? 0u : id.expiry.day);
    if (id.lot[0]) cn += (size_t)snprintf(caption + cn, sizeof caption - cn, "\n(10) %s", id.lot);
    if (id.serial[0]) snprintf(caption + cn, sizeof caption - cn, "\n(21) %s", id.serial);
    mc_err_clear();
    if (png && mc_label_write_png_captioned(png, link, caption, (unsigned)px))
        return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", png, mc_err_detail());
    if (svg && mc_label_write_svg_captioned(svg, link, caption, (unsigned)px))
        return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", svg, mc_err_detail());
    printf("link: %s\n", link);
    for (char *l = caption, *nl; l; l = nl ? nl + 1 : NULL) {
        nl = strchr(l, '\n');
        printf("printed: %.*s\n", nl ? (int)(nl - l) : (int)strlen(l), l);
    }
    if (png) printf("png: %s\n", png);
    if (svg) printf("svg: %s\n", svg);
    return MC_CLI_OK;
}

int mc_cli_cmd_drug_alerts(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"node", true}, {"org", true}};
    static const char words[] = "drug alerts";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "org")) return MC_CLI_USAGE;
    uint64_t org;
    if (!mc_cli_parse_u64(mc_cli_arg(&a, "org"), &org))
        return mc_cli_error(MC_CLI_USAGE, "--org must be an organisation id");
    struct mc_client c;
    int rc = mc_cli_client_open(&c, &a);
    if (rc) return rc;
    char path[64];
    snprintf(path, sizeof path, "/v1/supply/alerts?org=%llu", (unsigned long long)org);
    json_t *j = NULL;
    mc_err_clear();
    rc = mc_client_get_json(&c, path, &j);
    mc_client_deinit(&c);
    if (rc) return mc_cli_api_error(rc, "cannot list alerts");
    char *text = json_dumps(j, JSON_INDENT(2));
    if (text) puts(text);
    free(text);
    json_decref(j);
    return MC_CLI_OK;
}

int mc_cli_cmd_drug_vrs(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {
        {"node", true},   {"key", true},    {"passphrase-file", true}, {"gtin", true},
        {"serial", true}, {"lot", true},    {"expiry", true},          {"gln", true},
        {"corr", true},   {"context", true}};
    static const char words[] = "drug vrs";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    const char *need[] = {"key", "gtin", "serial", "lot", "expiry", "gln"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (mc_cli_require(&a, words, need[i])) return MC_CLI_USAGE;
    struct mc_keypair *kp = NULL;
    int rc = mc_cli_key_load(&kp, mc_cli_arg(&a, "key"), mc_cli_arg(&a, "passphrase-file"), "requester");
    if (rc) return rc;
    char corr[64];
    if (mc_cli_arg(&a, "corr")) snprintf(corr, sizeof corr, "%s", mc_cli_arg(&a, "corr"));
    else snprintf(corr, sizeof corr, "medchain-%ld", (long)time(NULL));
    json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "gtin", mc_cli_arg(&a, "gtin"),
                            "serialNumber", mc_cli_arg(&a, "serial"), "lotNumber",
                            mc_cli_arg(&a, "lot"), "expirationDate", mc_cli_arg(&a, "expiry"),
                            "requestorGLN", mc_cli_arg(&a, "gln"), "corrUUID", corr);
    if (mc_cli_arg(&a, "context"))
        json_object_set_new(req, "context", json_string(mc_cli_arg(&a, "context")));
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    /* The chain id is part of the signed message. */
    struct mc_client c;
    json_t *st = NULL;
    if ((rc = mc_cli_client_open(&c, &a))) goto out;
    mc_err_clear();
    rc = mc_client_get_json(&c, "/v1/status", &st);
    mc_client_deinit(&c);
    if (rc) {
        rc = mc_cli_api_error(rc, "cannot get the node's status");
        goto out;
    }
    uint8_t sig[MC_SIG_BYTES];
    mc_sign(sig, kp, "vrs-request", json_string_value(json_object_get(st, "chain_id")), body,
            strlen(body));
    char kh[2 * MC_PUBKEY_BYTES + 1], sh[2 * MC_SIG_BYTES + 1], hk[160], hs[200], url[600];
    mc_hex_encode(kh, kp->pk.b, MC_PUBKEY_BYTES);
    mc_hex_encode(sh, sig, MC_SIG_BYTES);
    snprintf(hk, sizeof hk, "Medchain-Key: %s", kh);
    snprintf(hs, sizeof hs, "Medchain-Signature: %s", sh);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, hk);
    h = curl_slist_append(h, hs);
    snprintf(url, sizeof url, "%s/v1/vrs", node_url(&a));
    struct mc_buf out;
    mc_buf_init(&out, 0);
    long status = 0;
    rc = http("POST", url, h, body, strlen(body), &status, &out);
    curl_slist_free_all(h);
    if (!rc) {
        fwrite(out.data, 1, out.len, stdout);
        rc = status == 200 ? MC_CLI_OK : mc_cli_error(MC_CLI_FAIL, "VRS request refused (HTTP %ld)", status);
    }
    mc_buf_deinit(&out);
out:
    json_decref(st);
    free(body);
    mc_cli_key_free(kp);
    return rc;
}

/* ---- genesis add-org ---------------------------------------------------- */

int mc_cli_cmd_genesis_add_org(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {{"home", true}, {"id", true}, {"name", true},
                                             {"kind", true}, {"gln", true}, {"admin-key-out", true}};
    static const char words[] = "genesis add-org";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    const char *need[] = {"home", "id", "name", "kind", "admin-key-out"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (mc_cli_require(&a, words, need[i])) return MC_CLI_USAGE;
    uint64_t id;
    if (!mc_cli_parse_u64(mc_cli_arg(&a, "id"), &id) || id == 0 || id > UINT32_MAX)
        return mc_cli_error(MC_CLI_USAGE, "--id must be a positive organisation id");
    uint8_t kind = mc_org_kind_from_name(mc_cli_arg(&a, "kind"));
    if (!kind) return mc_cli_error(MC_CLI_USAGE, "unknown organisation kind '%s'", mc_cli_arg(&a, "kind"));
    const char *gln = mc_cli_arg(&a, "gln");
    if (gln && (strlen(gln) != 13 || strspn(gln, "0123456789") != 13 ||
                !mc_gs1_check_digit_valid(gln, 13)))
        return mc_cli_error(MC_CLI_USAGE, "--gln must be 13 digits with a valid check digit");
    const char *name = mc_cli_arg(&a, "name");
    if (!name[0] || strlen(name) >= MC_NAME_MAX) return mc_cli_error(MC_CLI_USAGE, "--name is 1 to %d bytes", MC_NAME_MAX - 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/data/chain.db", mc_cli_arg(&a, "home"));
    struct stat sb;
    if (stat(path, &sb) == 0)
        return mc_cli_error(MC_CLI_FAIL, "%s has started (its database exists): the genesis is fixed "
                            "once the chain runs", mc_cli_arg(&a, "home"));
    snprintf(path, sizeof path, "%s/genesis.json", mc_cli_arg(&a, "home"));
    struct mc_genesis *g = calloc(1, sizeof *g);
    if (!g) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    mc_err_clear();
    int rc = mc_node_genesis_load(g, path);
    if (rc) {
        free(g);
        return mc_cli_error(MC_CLI_FAIL, "cannot read %s: %s", path, mc_cli_detail(rc));
    }
    if (g->org_count >= MC_GENESIS_ORGS_MAX) {
        free(g);
        return mc_cli_error(MC_CLI_FAIL, "the genesis already holds %d organisations", MC_GENESIS_ORGS_MAX);
    }
    struct mc_keypair kp;
    mc_keypair_generate(&kp);
    struct mc_org *o = &g->orgs[g->org_count++];
    memset(o, 0, sizeof *o);
    o->id = (uint32_t)id;
    snprintf(o->name, sizeof o->name, "%s", name);
    o->kind = kind;
    if (gln) snprintf(o->gln, sizeof o->gln, "%s", gln);
    o->admin = kp.pk;
    char hex[2 * MC_PUBKEY_BYTES + 1];
    mc_hex_encode(hex, kp.pk.b, MC_PUBKEY_BYTES);
    char *json = mc_genesis_to_json(g);
    struct mc_genesis *check = calloc(1, sizeof *check);
    rc = json && check ? mc_genesis_parse(check, json, strlen(json)) : MC_ERR_NOMEM;
    free(check);
    free(g);
    if (rc) {
        free(json);
        return mc_cli_error(MC_CLI_FAIL, "the organisation does not fit the genesis: %s", mc_cli_detail(rc));
    }
    rc = mc_keyfile_write(mc_cli_arg(&a, "admin-key-out"), &kp, NULL);
    sodium_memzero(&kp, sizeof kp);
    if (rc) {
        free(json);
        return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", mc_cli_arg(&a, "admin-key-out"), mc_cli_detail(rc));
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(json, f) >= 0;
    if (f) ok = fclose(f) == 0 && ok;
    free(json);
    if (!ok || rename(tmp, path) != 0)
        return mc_cli_error(MC_CLI_FAIL, "cannot write %s: %s", path, strerror(errno));
    printf("org: %llu\nname: %s\nadmin_key: %s\nadmin_pub: %s\n", (unsigned long long)id, name,
           mc_cli_arg(&a, "admin-key-out"), hex);
    return MC_CLI_OK;
}
