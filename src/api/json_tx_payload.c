/* JSON views of the supply, product, records and research payloads, for
 * GET /v1/tx/{id} and the explorer (json_view.h mc_api_json_tx_payload).
 * Each decodes with the one structural decoder of its layouts; what the
 * payload holds is already public bytes on the chain (no health data:
 * record transactions carry ids, pseudonymous keys, hashes and sealed
 * keys), so nothing is hidden here, only made readable. Sealed keys and
 * signature bases are shown by size, not repeated. */
#include "api/json_view.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "app/records_payload.h"
#include "app/research.h"
#include "app/smart.h"
#include "app/smart_payload.h"
#include "app/supply.h"
#include "app/supply_payload.h"
#include "app/supply_product.h"
#include "app/txtypes.h"

static json_t *items(const struct mc_supply_payload *p) {
    json_t *a = json_array();
    for (uint16_t i = 0; i < p->count && a; i++)
        json_array_append_new(a, p->items[i].kind == MC_SUPPLY_ITEM_UNIT
                                     ? json_pack("{s:s, s:s, s:s}", "kind", "pack", "gtin", p->items[i].gtin, "serial",
                                                 p->items[i].id)
                                     : json_pack("{s:s, s:s}", "kind", "container", "sscc", p->items[i].id));
    return a;
}

static json_t *supply_view(uint16_t type, const uint8_t *payload, size_t len) {
    if (type == MC_TX_DRUG_PRODUCT) {
        struct mc_supply_product pr;
        if (mc_supply_product_decode(&pr, payload, len)) return json_null();
        return json_pack("{s:s, s:s, s:s, s:s, s:i}", "gtin", pr.gtin, "name", pr.name, "strength", pr.strength,
                         "form", pr.form, "pack_size", (int)pr.pack_size);
    }
    struct mc_supply_payload *p = malloc(sizeof *p);
    if (!p) return NULL;
    json_t *o = json_null();
    if (mc_supply_payload_decode(p, type, payload, len) == 0) {
        switch (type) {
        case MC_TX_DRUG_COMMISSION: {
            json_t *s = json_array();
            for (uint16_t i = 0; i < p->count; i++) json_array_append_new(s, json_string(p->serials[i]));
            char exp[32];
            snprintf(exp, sizeof exp, "%04u-%02u-%02u", p->expiry / 10000, p->expiry / 100 % 100, p->expiry % 100);
            o = json_pack("{s:s, s:s, s:s, s:o}", "gtin", p->gtin, "lot", p->lot, "expiry", exp, "serials", s);
            break;
        }
        case MC_TX_DRUG_AGGREGATE: o = json_pack("{s:s, s:o}", "into", p->sscc, "items", items(p)); break;
        case MC_TX_DRUG_DISAGGREGATE: o = json_pack("{s:s}", "sscc", p->sscc); break;
        case MC_TX_DRUG_SHIP: o = json_pack("{s:I, s:o}", "to_org", (json_int_t)p->to_org, "items", items(p)); break;
        case MC_TX_DRUG_RECEIVE: o = json_pack("{s:o}", "items", items(p)); break;
        case MC_TX_DRUG_DISPENSE: o = json_pack("{s:s, s:s}", "gtin", p->gtin, "serial", p->serial); break;
        case MC_TX_DRUG_DECOMMISSION:
            o = json_pack("{s:s, s:s, s:s}", "gtin", p->gtin, "serial", p->serial, "reason",
                          mc_supply_decommission_name(p->code));
            break;
        case MC_TX_DRUG_RECALL: o = json_pack("{s:s, s:s}", "gtin", p->gtin, "lot", p->lot); break;
        case MC_TX_DRUG_FLAG:
            o = json_pack("{s:s, s:s, s:s}", "gtin", p->gtin, "serial", p->serial, "flag", mc_supply_flag_name(p->code));
            break;
        case MC_TX_DRUG_SCAN:
            o = json_pack("{s:s, s:s, s:s, s:s}", "gtin", p->gtin, "serial", p->serial, "verdict",
                          mc_supply_verdict_name(p->code), "status_seen",
                          p->status ? mc_supply_status_name(p->status) : "unknown");
            break;
        default: break;
        }
    }
    free(p);
    return o ? o : json_null();
}

static json_t *records_view(uint16_t type, const uint8_t *payload, size_t len) {
    struct mc_records_payload *p = malloc(sizeof *p);
    if (!p) return NULL;
    json_t *o = json_null();
    if (mc_records_payload_decode(p, type, payload, len) == 0) {
        switch (type) {
        case MC_TX_RECORD_ANCHOR: {
            json_t *es = json_array();
            for (uint16_t i = 0; i < p->count; i++)
                json_array_append_new(es, json_pack("{s:s, s:s, s:I, s:o, s:I}", "id", p->entries[i].id, "type",
                                                    mc_records_type_name(p->entries[i].type)
                                                        ? mc_records_type_name(p->entries[i].type) : "unknown",
                                                    "version", (json_int_t)p->entries[i].version, "ciphertext",
                                                    mc_api_json_hash(&p->entries[i].ciphertext), "size",
                                                    (json_int_t)p->entries[i].size));
            o = json_pack("{s:o, s:o, s:o}", "patient", mc_api_json_pubkey(&p->patient), "author",
                          mc_api_json_pubkey(&p->author), "records", es);
            break;
        }
        case MC_TX_RECORD_ACCESS:
            o = json_pack("{s:o, s:s, s:I, s:o, s:s, s:s, s:s, s:I, s:s}", "patient", mc_api_json_pubkey(&p->patient),
                          "record", p->id, "version", (json_int_t)p->version, "requester",
                          mc_api_json_pubkey(&p->requester), "action",
                          mc_action_name(p->action) ? mc_action_name(p->action) : "unknown", "purpose",
                          mc_purpose_code(p->purpose) ? mc_purpose_code(p->purpose) : "", "outcome",
                          p->outcome == MC_OUTCOME_SUCCESS ? "allowed" : "refused", "status", (json_int_t)p->status,
                          "reason", p->reason);
            if (o && mc_smart_bearer_is(p->base, p->base_len)) {
                /* a read through a SMART token: which token, which assertion */
                char client[MC_SMART_CLIENT_ID_MAX + 1], jti[MC_SMART_JTI_MAX + 1];
                mc_hash tx, ah;
                if (mc_smart_bearer_parse(p->base, p->base_len, client, jti, &tx, &ah) == 0)
                    json_object_set_new(o, "bearer",
                                        json_pack("{s:s, s:s, s:o, s:o}", "client", client, "jti", jti, "token_tx",
                                                  mc_api_json_hash(&tx), "assertion_sha256", mc_api_json_hash(&ah)));
            }
            break;
        case MC_TX_RECORD_GRANT: {
            json_t *cats = json_array();
            for (int b = 0; b < 8; b++)
                if (p->categories & (1 << b)) json_array_append_new(cats, json_string(mc_category_name((uint8_t)(1 << b))));
            o = json_pack("{s:s, s:o, s:I, s:o, s:I, s:I}", "to", p->kind == MC_GRANTEE_MEMBER ? "member" : "organisation",
                          "member", mc_api_json_pubkey(&p->member), "org", (json_int_t)p->org, "categories", cats,
                          "expiry_ms", (json_int_t)p->expiry_ms, "keys", (json_int_t)p->count);
            break;
        }
        case MC_TX_RECORD_REVOKE: o = json_pack("{s:o}", "grant", mc_api_json_hash(&p->ref)); break;
        case MC_TX_RECORD_ERASE: o = json_pack("{s:I}", "records", (json_int_t)p->count); break;
        case MC_TX_RECORD_REVIEW:
            o = json_pack("{s:o, s:s}", "access", mc_api_json_hash(&p->ref), "note", p->reason);
            break;
        default: break;
        }
    }
    free(p);
    return o ? o : json_null();
}

static json_t *research_view(uint16_t type, const uint8_t *payload, size_t len) {
    struct mc_research_payload *p = malloc(sizeof *p);
    if (!p) return NULL;
    json_t *o = json_null();
    if (mc_research_decode(p, type, payload, len) == 0) {
        switch (type) {
        case MC_TX_STUDY_REGISTER:
            o = json_pack("{s:s, s:s, s:s, s:o}", "study", p->study, "title", p->title, "sponsor", p->sponsor,
                          "protocol", mc_api_json_hash(&p->hash));
            break;
        case MC_TX_RESEARCH_CONSENT:
            o = json_pack("{s:s, s:I, s:s}", "target", p->study, "version", (json_int_t)p->version, "action",
                          p->action == 1 ? "permit" : "withdraw");
            break;
        case MC_TX_RESEARCH_QUERY:
            o = json_pack("{s:s, s:o, s:I, s:I, s:o}", "study", p->study, "requester", mc_api_json_pubkey(&p->requester),
                          "patients", (json_int_t)p->patients, "records", (json_int_t)p->records, "dataset",
                          mc_api_json_hash(&p->hash));
            break;
        case MC_TX_TRIAL_ENROL: o = json_pack("{s:s, s:o}", "study", p->study, "patient", mc_api_json_pubkey(&p->patient)); break;
        case MC_TX_TRIAL_AMEND:
            o = json_pack("{s:s, s:o, s:s}", "study", p->study, "protocol", mc_api_json_hash(&p->hash), "reason", p->reason);
            break;
        case MC_TX_TRIAL_CLOSE: o = json_pack("{s:s}", "study", p->study); break;
        case MC_TX_TRIAL_LOCK:
        case MC_TX_TRIAL_RESULTS:
            o = json_pack("{s:s, s:o}", "study", p->study, "dataset", mc_api_json_hash(&p->hash));
            break;
        default: break;
        }
    }
    free(p);
    return o ? o : json_null();
}

static json_t *smart_view(uint16_t type, const uint8_t *payload, size_t len) {
    struct mc_smart_payload *p = malloc(sizeof *p);
    if (!p) return NULL;
    json_t *o = json_null();
    if (mc_smart_payload_decode(p, type, payload, len) == 0) {
        switch (type) {
        case MC_TX_SMART_CLIENT: {
            /* the key as a public JWK (RFC 8037 OKP, RFC 7518 EC) */
            char x[96] = "", y[96] = "";
            json_t *jwk = json_null();
            if (p->alg == MC_SMART_ALG_EDDSA && p->key_len == 32) {
                sodium_bin2base64(x, sizeof x, p->key, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
                jwk = json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", x);
            } else if (p->alg == MC_SMART_ALG_ES384 && p->key_len == 97) {
                sodium_bin2base64(x, sizeof x, p->key + 1, 48, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
                sodium_bin2base64(y, sizeof y, p->key + 49, 48, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
                jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-384", "x", x, "y", y);
            }
            o = json_pack("{s:s, s:s, s:o, s:s}", "client", p->client, "alg",
                          mc_smart_alg_name(p->alg) ? mc_smart_alg_name(p->alg) : "unknown", "jwk", jwk ? jwk : json_null(),
                          "name", p->name);
            break;
        }
        case MC_TX_SMART_CLIENT_REVOKE: o = json_pack("{s:s}", "client", p->client); break;
        case MC_TX_SMART_TOKEN: {
            /* the client's signed assertion, whole: the evidence behind every
             * read made with the token */
            mc_hash ah;
            mc_sha256(&ah, p->assertion, p->assertion_len);
            o = json_pack("{s:s, s:s#, s:o, s:s, s:I}", "client", p->client, "assertion", (const char *)p->assertion,
                          p->assertion_len, "assertion_sha256", mc_api_json_hash(&ah), "scope", p->scope, "expiry_ms",
                          (json_int_t)p->expiry_ms);
            break;
        }
        default: break;
        }
    }
    free(p);
    return o ? o : json_null();
}

json_t *mc__api_json_domain_payload(uint16_t type, const uint8_t *payload, size_t len) {
    if (type >= MC_TX_SMART_CLIENT && type <= MC_TX_SMART_TOKEN) return smart_view(type, payload, len);
    if ((type >= MC_TX_DRUG_COMMISSION && type <= MC_TX_DRUG_SCAN) || type == MC_TX_DRUG_PRODUCT)
        return supply_view(type, payload, len);
    if (type >= MC_TX_RECORD_ANCHOR && type <= MC_TX_RECORD_REVIEW) return records_view(type, payload, len);
    if (type >= MC_TX_STUDY_REGISTER && type <= MC_TX_TRIAL_RESULTS) return research_view(type, payload, len);
    return json_null();
}
