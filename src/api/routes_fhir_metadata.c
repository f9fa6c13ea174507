/* GET /fhir/metadata: the CapabilityStatement (kind instance) of this
 * node's FHIR R4 server, listing exactly the interactions and search
 * parameters the routes implement (the search parameters come from
 * fhir_search.h, the one table the search itself uses). Public: no
 * signature needed. */
#include "api/routes.h"

#include <stdio.h>
#include <string.h>

#include "api/fhir.h"
#include "api/fhir_reply.h"
#include "api/fhir_search.h"
#include "api/records_view.h"
#include "app/records.h"
#include "base/version.h"

static json_t *interactions(const char *const *codes) {
    json_t *a = json_array();
    for (size_t i = 0; codes[i]; i++) json_array_append_new(a, json_pack("{s:s}", "code", codes[i]));
    return a;
}

static json_t *search_params(uint16_t t) {
    struct mc__fhir_param p[16];
    size_t n = mc__fhir_search_params(t, p, 16);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *one = json_pack("{s:s, s:s}", "name", p[i].name, "type", p[i].type);
        if (!strcmp(p[i].name, "patient") || !strcmp(p[i].name, "subject"))
            json_object_set_new(one, "documentation",
                                json_string("Patient/<id>, <id>, an absolute URL of a Patient, or the "
                                            "patient's account key; every search of this type names one "
                                            "patient"));
        if (!strcmp(p[i].name, "identifier"))
            json_object_set_new(one, "documentation",
                                json_string("urn:medchain:account|<key> names the patient by her account key; "
                                            "any other system|value matches Patient.identifier among her "
                                            "Patient records; a search names the patient (_id or this)"));
        if (!strcmp(p[i].name, "date") || !strcmp(p[i].name, "_lastUpdated"))
            json_object_set_new(one, "documentation",
                                json_string("prefixes eq ne gt lt ge le sa eb; repeat to bound a range"));
        json_array_append_new(a, one);
    }
    return a;
}

static json_t *record_type(uint16_t t) {
    static const char *const records[] = {"read", "vread", "update", "create", "search-type",
                                          "history-instance", NULL};
    static const char *const provenance[] = {"read", "vread", "search-type", NULL};
    static const char *const directory[] = {"read", "vread", "update", "create", "history-instance", NULL};
    static const char *const binary[] = {"read", "vread", "create", NULL};
    const char *name = mc_records_type_name(t);
    if (t == MC_FHIR_BINARY) {
        json_t *b = json_pack("{s:s, s:o, s:s, s:b}", "type", name, "interaction", interactions(binary),
                              "versioning", "versioned", "readHistory", 1);
        if (b)
            json_object_set_new(b, "documentation",
                                json_string("An attachment's raw bytes: POST /fhir/Binary?patient=<key> with "
                                            "the attachment's own Content-Type, streamed and encrypted piece "
                                            "by piece; read back streamed, with the same Content-Type."));
        return b;
    }
    bool searched = mc__fhir_search_served(t);
    json_t *r = json_pack("{s:s, s:o, s:s, s:b, s:b, s:b}", "type", name, "interaction",
                          interactions(t == MC_FHIR_PROVENANCE ? provenance : searched ? records : directory),
                          "versioning", "versioned-update", "readHistory", 1, "updateCreate", 0,
                          "conditionalCreate", 0);
    if (!r) return NULL;
    if (!searched) {
        json_object_set_new(r, "documentation",
                            json_string("Stored for a patient (create with ?patient=<key>, or in the "
                                        "patient's transaction Bundle, where conditional references "
                                        "such as Practitioner?identifier=system|value resolve to it); "
                                        "read through the references of her records."));
        return r;
    }
    json_object_set_new(r, "searchParam", search_params(t));
    struct mc__fhir_param p[16];
    size_t n = mc__fhir_search_params(t, p, 16);
    json_t *inc = json_array();
    for (size_t i = 0; i < n; i++)
        if (!strcmp(p[i].name, "patient") || !strcmp(p[i].name, "subject")) {
            char v[80];
            snprintf(v, sizeof v, "%s:%s", name, p[i].name);
            json_array_append_new(inc, json_string(v));
        }
    if (json_array_size(inc)) json_object_set_new(r, "searchInclude", inc);
    else json_decref(inc);
    if (t == MC_FHIR_PROVENANCE) {
        json_array_append_new(json_object_get(r, "searchParam"),
                              json_pack("{s:s, s:s, s:s}", "name", "target", "type", "reference",
                                        "documentation",
                                        "Type/id or Type/id/_history/v: the ledger's provenance of "
                                        "each version (authorship, amendments), id <record id>.<version>"));
        json_object_set_new(r, "documentation",
                            json_string("Provenance stored from transaction Bundles is read, vread and "
                                        "searched by patient; Provenance generated from the record "
                                        "anchors is read as Provenance/<record id>.<version> (its one "
                                        "version is 1), searched by target, and included in "
                                        "Patient/$everything."));
    }
    if (t == MC_FHIR_PATIENT) {
        json_object_set_new(r, "operation",
                            json_pack("[{s:s, s:s}]", "name", "everything", "definition",
                                      "http://hl7.org/fhir/OperationDefinition/Patient-everything"));
        json_object_set_new(r, "documentation",
                            json_string("Patient/<id>/$everything (or the account key as id) exports "
                                        "every record of the patient to the patient herself."));
    }
    return r;
}

void mc__api_fhir_metadata(struct mc_node *node, const char *param,
                           const struct mc__api_request *req, struct mc__api_response *res) {
    json_t *resources = json_array();
    for (uint16_t t = 1; t <= MC_FHIR_TYPE_MAX; t++) json_array_append_new(resources, record_type(t));
    static const char *const search[] = {"search-type", NULL};
    json_array_append_new(
        resources,
        json_pack("{s:s, s:o, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}]}", "type", "AuditEvent",
                  "interaction", interactions(search), "searchParam", "name", "patient", "type", "reference",
                  "documentation", "the patient's access log (the patient, her grantees); without it, the whole log (auditors)",
                  "name", "agent", "type", "token", "documentation",
                  "the requester's account key (hex, or urn:medchain:account|<hex>)", "name", "date", "type",
                  "date", "documentation", "YYYY[-MM[-DD]] with prefix ge or lt, or a day"));
    json_array_append_new(resources,
                          json_pack("{s:s, s:o, s:[{s:s, s:s, s:s}]}", "type", "Consent", "interaction",
                                    interactions(search), "searchParam", "name", "patient", "type",
                                    "reference", "documentation", "the patient's grants"));
    /* Subscriptions (routes_fhir_subscription.c): the signer's own */
    static const char *const sub_ia[] = {"create", "read", "delete", NULL};
    json_t *sub = json_pack("{s:s, s:o, s:[s], s:s}", "type", "Subscription", "interaction", interactions(sub_ia),
                            "supportedProfile",
                            "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription",
                            "documentation",
                            "rest-hook, topics urn:medchain:topic:records, :consents, :all; payload id-only or "
                            "empty; Subscription/{id}/$status; GET Subscription lists the signer's own");
    if (sub)
        json_object_set_new(sub, "operation",
                            json_pack("[{s:s, s:s}]", "name", "status", "definition",
                                      "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status"));
    json_array_append_new(resources, sub);
    char t[32], base[300];
    mc_fhir_instant(t, mc__records_view_block_time_ms(node));
    mc__fhir_reply_base(req, base, sizeof base);
    json_t *cs = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s, s], s:{s:s, s:s}, s:{s:s, s:s},"
        " s:[{s:s, s:{s:[{s:[{s:s, s:s}]}], s:s}, s:o, s:[{s:s}]}]}",
        "resourceType", "CapabilityStatement", "status", "active", "date", t, "kind", "instance",
        "fhirVersion", "4.0.1", "name", "MedchainRecords", "publisher", "medchain", "format",
        "application/fhir+json", "json", "software", "name", "medchain", "version", MC_VERSION,
        "implementation", "description", "medchain node: health records on a permissioned ledger", "url", base,
        "rest", "mode", "server", "security", "service", "coding", "system",
        "http://terminology.hl7.org/CodeSystem/restful-security-service", "code", "Certificates",
        "description",
        "Every request except /fhir/metadata is signed per RFC 9421 (ed25519, keyid = account key "
        "in hex, covering @method, @target-uri, content-digest, created, nonce); private data only "
        "over TLS or loopback; every read, search and refusal is logged on the ledger. Searches "
        "take _count (at most 1000, default 100) with next/previous links, _sort, _summary=count "
        "and _include; under Prefer: handling=strict an unknown parameter is refused, otherwise "
        "it is ignored and left out of the self link.",
        "resource", resources, "interaction", "code", "transaction");
    json_t *security = json_object_get(json_array_get(json_object_get(cs, "rest"), 0), "security");
    if (security) {
        /* SMART Backend Services (routes_smart.c): the token endpoint, and
         * the service code the SMART App Launch IG defines */
        char origin[300];
        snprintf(origin, sizeof origin, "%s", base);
        size_t bl = strlen(origin);
        if (bl >= 5 && strcmp(origin + bl - 5, "/fhir") == 0) origin[bl - 5] = 0;
        char token[340];
        snprintf(token, sizeof token, "%s/auth/token", origin);
        json_array_append_new(json_object_get(security, "service"),
                              json_pack("{s:[{s:s, s:s}], s:s}", "coding", "system",
                                        "http://terminology.hl7.org/CodeSystem/restful-security-service", "code",
                                        "SMART-on-FHIR", "text", "SMART Backend Services (client_credentials, private_key_jwt)"));
        json_object_set_new(security, "extension",
                            json_pack("[{s:s, s:[{s:s, s:s}]}]", "url",
                                      "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                                      "extension", "url", "token", "valueUri", token));
        char desc[1400];
        snprintf(desc, sizeof desc, "%s Reads and searches also take Authorization: Bearer with a SMART Backend "
                 "Services token (discovery: %s/.well-known/smart-configuration; system read scopes); "
                 "such reads follow the same policy and are logged on the ledger with the token's jti.",
                 json_string_value(json_object_get(security, "description")), base);
        json_object_set_new(security, "description", json_string(desc));
    }
    mc__fhir_reply_set(res, cs ? 200 : 503, cs ? cs : mc_fhir_outcome("error", "exception", "out of memory"));
}
