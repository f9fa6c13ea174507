/* `medchain subscription create|list|status|delete`: FHIR Subscriptions
 * of the signer (src/api/routes_fhir_subscription.c), rest-hook, kept on
 * the node that answers.
 *
 *   subscription create --key K --endpoint URL [--topic records|consents|all]
 *                       [--patient HEX] [--payload id-only|empty] [--reason TEXT]
 *                       [--end INSTANT]   (after it the subscription is off)
 *   subscription list   --key K [--json]   (--json: the searchset Bundle as served)
 *   subscription status ID --key K     ($status: status, events delivered, last error)
 *   subscription delete ID --key K
 *
 * Output: "key: value" lines; every failure one error line. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "cli/cli.h"
#include "cli/client.h"

#define OPTS {"node", true}, {"key", true}, {"passphrase-file", true}

static const char *jstr(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static const char *ext_value(json_t *res, const char *url) {
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(res, "extension"), i, e)
        if (strcmp(jstr(e, "url"), url) == 0) return jstr(e, "valueString");
    return "";
}

static void print_subscription(json_t *s) {
    printf("subscription: %s\nstatus: %s\ntopic: %s\nendpoint: %s\nevents: %s\nerrors: %s\n", jstr(s, "id"),
           jstr(s, "status"), jstr(s, "criteria"), jstr(json_object_get(s, "channel"), "endpoint"),
           ext_value(s, "urn:medchain:subscription:events-delivered"), ext_value(s, "urn:medchain:subscription:error-count"));
    if (json_object_get(s, "error")) printf("error: %s\n", jstr(s, "error"));
}

static int call(const struct mc_cli_args *a, const char *method, const char *path, const char *body,
                struct mc_client_response *r) {
    struct mc_keypair *kp = NULL;
    int rc = mc_cli_key_load(&kp, mc_cli_arg(a, "key"), mc_cli_arg(a, "passphrase-file"), "subscriber");
    if (rc) return rc;
    struct mc_client c;
    if ((rc = mc_cli_client_open(&c, a))) {
        mc_cli_key_free(kp);
        return rc;
    }
    size_t n = body ? strlen(body) : 0;
    int crc = mc_client_request_signed(&c, method, path, body ? "application/fhir+json" : NULL, body, n, kp, NULL, 0, r);
    if (crc) {
        rc = mc_cli_api_error(crc, "cannot reach the node");
    } else if (r->status < 200 || r->status > 299 || !json_is_object(r->json)) {
        char text[600];
        mc_client_error_text(r, text, sizeof text);
        rc = mc_cli_error(MC_CLI_FAIL, "HTTP %ld: %s", r->status, text);
        mc_client_response_deinit(r);
    }
    mc_client_deinit(&c);
    mc_cli_key_free(kp);
    return rc;
}

static int id_arg(const struct mc_cli_args *a, char out[33]) {
    uint8_t b[16];
    if (a->positional_count != 1 || strlen(a->positional[0]) != 32 || mc_hex_decode(b, 16, a->positional[0]))
        return mc_cli_error(MC_CLI_USAGE, "name the subscription (32 hex digits)");
    mc_hex_encode(out, b, 16);
    return MC_CLI_OK;
}

int mc_cli_cmd_subscription_create(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {OPTS, {"endpoint", true}, {"topic", true}, {"patient", true},
                                             {"payload", true}, {"reason", true}, {"end", true}};
    static const char words[] = "subscription create";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "key") || mc_cli_require(&a, words, "endpoint")) return MC_CLI_USAGE;
    const char *topic = mc_cli_arg(&a, "topic") ? mc_cli_arg(&a, "topic") : "all";
    if (strcmp(topic, "records") && strcmp(topic, "consents") && strcmp(topic, "all"))
        return mc_cli_error(MC_CLI_USAGE, "--topic is records, consents or all");
    /* the node judges the payload content (id-only or empty) */
    const char *payload = mc_cli_arg(&a, "payload") ? mc_cli_arg(&a, "payload") : "id-only";
    char url[40];
    snprintf(url, sizeof url, "urn:medchain:topic:%s", topic);
    json_t *sub = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}}", "resourceType",
                            "Subscription", "status", "requested", "reason",
                            mc_cli_arg(&a, "reason") ? mc_cli_arg(&a, "reason") : "medchain notifications", "criteria",
                            url, "channel", "type", "rest-hook", "endpoint", mc_cli_arg(&a, "endpoint"), "payload",
                            "application/fhir+json", "_payload", "extension", "url",
                            "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content",
                            "valueCode", payload);
    /* the node checks the instant */
    if (mc_cli_arg(&a, "end")) json_object_set_new(sub, "end", json_string(mc_cli_arg(&a, "end")));
    const char *ph = mc_cli_arg(&a, "patient");
    if (ph) {
        uint8_t k[32];
        if (strlen(ph) != 64 || mc_hex_decode(k, 32, ph)) {
            json_decref(sub);
            return mc_cli_error(MC_CLI_USAGE, "--patient must be 64 hex digits");
        }
        char f[80];
        snprintf(f, sizeof f, "patient=%s", ph);
        json_object_set_new(sub, "_criteria", json_pack("{s:[{s:s, s:s}]}", "extension", "url",
                                                        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria",
                                                        "valueString", f));
    }
    char *body = json_dumps(sub, JSON_COMPACT);
    json_decref(sub);
    if (!body) return mc_cli_error(MC_CLI_FAIL, "out of memory");
    struct mc_client_response r;
    int rc = call(&a, "POST", "/fhir/Subscription", body, &r);
    free(body);
    if (rc) return rc;
    print_subscription(r.json);
    mc_client_response_deinit(&r);
    return MC_CLI_OK;
}

int mc_cli_cmd_subscription_list(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {OPTS, {"json", false}};
    static const char words[] = "subscription list";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 0, argc, argv);
    if (mc_cli_require(&a, words, "key")) return MC_CLI_USAGE;
    struct mc_client_response r;
    int rc = call(&a, "GET", "/fhir/Subscription", NULL, &r);
    if (rc) return rc;
    json_t *e;
    size_t i;
    json_t *entries = json_object_get(r.json, "entry");
    if (mc_cli_flag(&a, "json")) {
        char *text = json_dumps(r.json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text) printf("%s\n", text);
        free(text);
    } else {
        json_array_foreach(entries, i, e) print_subscription(json_object_get(e, "resource"));
        printf("subscriptions: %zu\n", json_array_size(entries));
    }
    mc_client_response_deinit(&r);
    return MC_CLI_OK;
}

int mc_cli_cmd_subscription_status(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {OPTS};
    static const char words[] = "subscription status";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (mc_cli_require(&a, words, "key")) return MC_CLI_USAGE;
    char id[33], path[80];
    int rc = id_arg(&a, id);
    if (rc) return rc;
    snprintf(path, sizeof path, "/fhir/Subscription/%s/$status", id);
    struct mc_client_response r;
    if ((rc = call(&a, "GET", path, NULL, &r))) return rc;
    json_t *p;
    size_t i;
    json_array_foreach(json_object_get(r.json, "parameter"), i, p) {
        const char *name = jstr(p, "name");
        const char *v = json_string_value(json_object_get(p, "valueCode")) ?: json_string_value(json_object_get(p, "valueString"))
                        ?: json_string_value(json_object_get(p, "valueCanonical"))
                        ?: json_string_value(json_object_get(json_object_get(p, "valueReference"), "reference"))
                        ?: json_string_value(json_object_get(json_object_get(p, "valueCodeableConcept"), "text"));
        if (v) printf("%s: %s\n", name, v);
    }
    mc_client_response_deinit(&r);
    return MC_CLI_OK;
}

int mc_cli_cmd_subscription_delete(int argc, char **argv) {
    static const struct mc_cli_opt spec[] = {OPTS};
    static const char words[] = "subscription delete";
    struct mc_cli_args a;
    MC_CLI_PARSE_OR_RETURN(&a, words, spec, 1, argc, argv);
    if (mc_cli_require(&a, words, "key")) return MC_CLI_USAGE;
    char id[33], path[80];
    int rc = id_arg(&a, id);
    if (rc) return rc;
    snprintf(path, sizeof path, "/fhir/Subscription/%s", id);
    struct mc_client_response r;
    if ((rc = call(&a, "DELETE", path, NULL, &r))) return rc;
    printf("deleted: %s\n", id);
    mc_client_response_deinit(&r);
    return MC_CLI_OK;
}
