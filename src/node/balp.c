/* Access entries as BALP AuditEvents (see balp.h). */
#include "node/balp.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/records_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"

#define SYS_DCM "http://dicom.nema.org/resources/ontology/DCM"
#define SYS_EVENT_TYPE "http://terminology.hl7.org/CodeSystem/audit-event-type"
#define SYS_REST "http://hl7.org/fhir/restful-interaction"
#define SYS_ENTITY_TYPE "http://terminology.hl7.org/CodeSystem/audit-entity-type"
#define SYS_OBJECT_ROLE "http://terminology.hl7.org/CodeSystem/object-role"
#define SYS_ACT_REASON "http://terminology.hl7.org/CodeSystem/v3-ActReason"
#define SYS_PARTICIPATION "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
#define SYS_SOURCE_TYPE "http://terminology.hl7.org/CodeSystem/security-source-type"
#define BALP "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."

void mc_balp_instant(char out[32], uint64_t time_ms) {
    time_t s = (time_t)(time_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, (unsigned)(time_ms % 1000));
    memcpy(out, tmp, 25);
    out[24] = 0;
}

/* The value of the base's line `"NAME": VALUE` into out (cap bytes). */
static bool sigbase_line(const uint8_t *base, size_t n, const char *name, char *out, size_t cap) {
    char pat[32];
    int pl = snprintf(pat, sizeof pat, "\"%s\": ", name);
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && base[e] != '\n') e++;
        if (e - i >= (size_t)pl && memcmp(base + i, pat, (size_t)pl) == 0) {
            size_t vl = e - i - (size_t)pl;
            if (vl >= cap) return false;
            memcpy(out, base + i + pl, vl);
            out[vl] = 0;
            /* printable ASCII only: it goes into JSON and a syslog line */
            for (size_t k = 0; k < vl; k++)
                if ((unsigned char)out[k] < 0x20 || (unsigned char)out[k] > 0x7e) {
                    out[0] = 0;
                    return false;
                }
            return true;
        }
        i = e + 1;
    }
    return false;
}

void mc_balp_parse_sigbase(struct mc_balp_access *a, const uint8_t *base, size_t n) {
    a->method[0] = a->host[0] = a->target[0] = 0;
    if (!base || !n) return;
    if (!sigbase_line(base, n, "@method", a->method, sizeof a->method)) a->method[0] = 0;
    char uri[MC_SIGBASE_MAX + 1];
    if (!sigbase_line(base, n, "@target-uri", uri, sizeof uri)) return;
    const char *p = strstr(uri, "://");
    if (!p) return;
    p += 3;
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    /* drop the port; keep a bracketed IPv6 literal whole */
    const char *colon = NULL;
    if (p[0] == '[') {
        const char *rb = memchr(p, ']', hl);
        if (rb) hl = (size_t)(rb - p) + 1;
    } else {
        colon = memchr(p, ':', hl);
        if (colon) hl = (size_t)(colon - p);
    }
    if (hl && hl < sizeof a->host) {
        memcpy(a->host, p, hl);
        a->host[hl] = 0;
    }
    snprintf(a->target, sizeof a->target, "%s", slash ? slash : "/");
}

int mc_balp_from_tx(struct mc_balp_access *out, const struct mc_tx *tx, const mc_hash *tx_id,
                    uint64_t height, uint64_t time_ms) {
    memset(out, 0, sizeof *out);
    if (tx->type != MC_TX_RECORD_ACCESS) return mc_err_set(MC_ERR_INVALID, "not an access entry");
    struct mc_records_payload *p = malloc(sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    int rc = mc_records_payload_decode(p, tx->type, tx->payload, tx->payload_len);
    if (rc) {
        free(p);
        return rc;
    }
    struct mc_access_entry *e = &out->e;
    e->tx_id = *tx_id;
    e->patient = p->patient;
    e->height = height;
    snprintf(e->id, sizeof e->id, "%s", p->id);
    e->version = p->version;
    e->requester = p->requester;
    e->action = p->action;
    e->purpose = p->purpose;
    e->outcome = p->outcome;
    e->status = p->status;
    snprintf(e->reason, sizeof e->reason, "%s", p->reason);
    e->time_ms = time_ms;
    if (p->sig_len) crypto_hash_sha256(e->signature_hash.b, p->sig, p->sig_len);
    out->has_observer = true;
    out->observer = tx->sender;
    mc_balp_parse_sigbase(out, p->base, p->base_len);
    free(p);
    return 0;
}

static bool pubkey_zero(const mc_pubkey *k) {
    static const uint8_t z[32];
    return memcmp(k->b, z, 32) == 0;
}

static bool is_query(uint8_t action) {
    return action == MC_ACTION_SEARCH || action == MC_ACTION_EXPORT || action == MC_ACTION_AUDIT;
}

const char *mc_balp_profile(const struct mc_access_entry *e) {
    if (e->outcome != MC_OUTCOME_SUCCESS) return NULL;
    bool pat = !pubkey_zero(&e->patient);
    switch (e->action) {
    case MC_ACTION_READ:
    case MC_ACTION_VREAD: return pat ? BALP "PatientRead" : BALP "Read";
    case MC_ACTION_SEARCH:
    case MC_ACTION_EXPORT: return pat ? BALP "PatientQuery" : BALP "Query";
    case MC_ACTION_CREATE: return pat ? BALP "PatientCreate" : BALP "Create";
    default: return NULL; /* reading the audit log: no BALP profile for it */
    }
}

static json_t *coding(const char *system, const char *code, const char *display) {
    json_t *c = json_pack("{s:s, s:s}", "system", system, "code", code);
    if (c && display) json_object_set_new(c, "display", json_string(display));
    return c;
}

static json_t *concept(const char *system, const char *code, const char *display) {
    return json_pack("{s:[o]}", "coding", coding(system, code, display));
}

static json_t *identifier_ref(const char *system, const char *value) {
    return json_pack("{s:{s:s, s:s}}", "identifier", "system", system, "value", value);
}

/* A host name or an IP literal: FHIR AuditEvent network types 1 (machine
 * name) and 2 (IP address). */
static const char *network_type(const char *host) {
    if (host[0] == '[') return "2";
    for (const char *c = host; *c; c++)
        if (!(*c == '.' || (*c >= '0' && *c <= '9'))) return "1";
    return "2";
}

json_t *mc_balp_audit_event(const struct mc_balp_access *a, const char *patient_record) {
    const struct mc_access_entry *e = &a->e;
    char tx[65], who[65], node[65], t[32];
    mc_hex_encode(tx, e->tx_id.b, 32);
    mc_hex_encode(who, e->requester.b, 32);
    if (a->has_observer) mc_hex_encode(node, a->observer.b, 32);
    else snprintf(node, sizeof node, "unknown");
    mc_balp_instant(t, e->time_ms);
    bool query = is_query(e->action);
    const char *subtype = e->action == MC_ACTION_VREAD ? "vread"
                          : e->action == MC_ACTION_CREATE ? "create"
                          : e->action == MC_ACTION_EXPORT ? "operation"
                          : e->action == MC_ACTION_SEARCH || e->action == MC_ACTION_AUDIT ? "search-type"
                                                                                           : "read";
    const char *action = e->action == MC_ACTION_CREATE ? "C" : query ? "E" : "R";
    char outcome[4];
    snprintf(outcome, sizeof outcome, "%u", e->outcome == MC_OUTCOME_SUCCESS ? 0u
                                             : e->outcome == MC_OUTCOME_REFUSED ? 4u : 8u);
    json_t *ev = json_object();
    if (!ev) return NULL;
    json_object_set_new(ev, "resourceType", json_string("AuditEvent"));
    json_object_set_new(ev, "id", json_string(tx));
    json_t *meta = json_object();
    /* The BALP pattern the entry follows, as a tag rather than a profile
     * claim: the ledger does not hold the client's network address, which
     * BALP requires of the client agent (docs/AUDIT.md). */
    const char *profile = mc_balp_profile(e);
    if (profile)
        json_object_set_new(meta, "tag", json_pack("[{s:s, s:s}]", "system", "urn:medchain:balp-pattern", "code",
                                                   profile + strlen(BALP)));
    if (e->purpose == MC_PURPOSE_BTG)
        json_object_set_new(meta, "security", json_pack("[o]", coding(SYS_ACT_REASON, "BTG", "break the glass")));
    if (json_object_size(meta)) json_object_set_new(ev, "meta", meta);
    else json_decref(meta);
    if (e->action == MC_ACTION_AUDIT)
        json_object_set_new(ev, "type", coding(SYS_DCM, "110101", "Audit Log Used"));
    else
        json_object_set_new(ev, "type", coding(SYS_EVENT_TYPE, "rest", "Restful Operation"));
    json_object_set_new(ev, "subtype", json_pack("[o]", coding(SYS_REST, subtype, subtype)));
    json_object_set_new(ev, "action", json_string(action));
    json_object_set_new(ev, "recorded", json_string(t));
    json_object_set_new(ev, "outcome", json_string(outcome));
    /* FHIR strings are never empty */
    if (e->reason[0]) json_object_set_new(ev, "outcomeDesc", json_string(e->reason));
    const char *purpose = e->purpose ? mc_purpose_code(e->purpose) : NULL;
    if (purpose) json_object_set_new(ev, "purposeOfEvent", json_pack("[o]", concept(SYS_ACT_REASON, purpose, NULL)));

    /* Agents. DICOM's convention (BALP follows it): for a read the server
     * is the Source Role ID (110153) and the client the Destination
     * (110152); for a query or a create the client is the source. */
    const char *client_role = query || e->action == MC_ACTION_CREATE ? "110153" : "110152";
    const char *server_role = query || e->action == MC_ACTION_CREATE ? "110152" : "110153";
    json_t *agents = json_array();
    /* A node's summary of refusals without a known signer has no requester. */
    bool anonymous = pubkey_zero(&e->requester);
    json_t *user = json_pack("{s:o, s:o, s:b}", "type", concept(SYS_PARTICIPATION, "IRCP", "information recipient"),
                             "who", anonymous ? json_pack("{s:s}", "display", "unknown requester")
                                              : identifier_ref("urn:medchain:account", who), "requestor", 1);
    if (user && purpose) json_object_set_new(user, "purposeOfUse", json_pack("[o]", concept(SYS_ACT_REASON, purpose, NULL)));
    json_array_append_new(agents, user);
    /* The client: requests are signed by the member's own key, which is
     * all the ledger knows of the software that sent them. */
    json_array_append_new(agents, json_pack("{s:o, s:o, s:b}", "type", concept(SYS_DCM, client_role, NULL), "who",
                                            anonymous ? json_pack("{s:s}", "display", "unknown requester")
                                                      : identifier_ref("urn:medchain:account", who), "requestor", 0));
    json_t *server = json_pack("{s:o, s:o, s:b}", "type", concept(SYS_DCM, server_role, NULL), "who",
                               identifier_ref("urn:medchain:node", node), "requestor", 0);
    if (server && a->host[0])
        json_object_set_new(server, "network", json_pack("{s:s, s:s}", "address", a->host, "type", network_type(a->host)));
    json_array_append_new(agents, server);
    json_object_set_new(ev, "agent", agents);

    json_object_set_new(ev, "source",
                        json_pack("{s:s, s:o, s:[o]}", "site", "medchain", "observer",
                                  identifier_ref("urn:medchain:node", node), "type",
                                  coding(SYS_SOURCE_TYPE, "4", "Application Server")));

    json_t *entities = json_array();
    /* The data: the record read (or the access log itself), with the
     * ledger transaction that is this entry. */
    json_t *data = json_pack("{s:o, s:o, s:[{s:s, s:s}]}", "type", coding(SYS_ENTITY_TYPE, "2", "System Object"),
                             "role", coding(SYS_OBJECT_ROLE, e->action == MC_ACTION_AUDIT ? "13" : "4",
                                            e->action == MC_ACTION_AUDIT ? "Security Resource" : "Domain Resource"),
                             "detail", "type", "ledger-transaction", "valueString", tx);
    if (data && e->id[0]) {
        json_object_set_new(data, "what", identifier_ref("urn:medchain:record", e->id));
        if (e->version) {
            char v[16];
            snprintf(v, sizeof v, "%u", e->version);
            json_array_append_new(json_object_get(data, "detail"), json_pack("{s:s, s:s}", "type", "version", "valueString", v));
        }
    }
    if (data) json_array_append_new(entities, data);
    if (!pubkey_zero(&e->patient)) {
        char ph[65];
        mc_hex_encode(ph, e->patient.b, 32);
        json_t *what = identifier_ref("urn:medchain:account", ph);
        if (what && patient_record && patient_record[0]) {
            char ref[MC_RECORD_ID_MAX + 16];
            snprintf(ref, sizeof ref, "Patient/%s", patient_record);
            json_object_set_new(what, "reference", json_string(ref));
        }
        json_array_append_new(entities, json_pack("{s:o, s:o, s:o}", "what", what, "type",
                                                  coding(SYS_ENTITY_TYPE, "1", "Person"), "role",
                                                  coding(SYS_OBJECT_ROLE, "1", "Patient")));
    }
    if (query || e->action == MC_ACTION_AUDIT) {
        json_t *q = json_pack("{s:o, s:o}", "type", coding(SYS_ENTITY_TYPE, "2", "System Object"), "role",
                              coding(SYS_OBJECT_ROLE, "24", "Query"));
        if (q && a->target[0]) {
            size_t tl = strlen(a->target);
            size_t cap = sodium_base64_ENCODED_LEN(tl, sodium_base64_VARIANT_ORIGINAL);
            char *b64 = malloc(cap);
            if (b64) {
                sodium_bin2base64(b64, cap, (const unsigned char *)a->target, tl, sodium_base64_VARIANT_ORIGINAL);
                json_object_set_new(q, "query", json_string(b64));
                free(b64);
            }
        }
        if (q && e->reason[0]) json_object_set_new(q, "description", json_string(e->reason));
        if (q) json_array_append_new(entities, q);
    }
    json_object_set_new(ev, "entity", entities);
    return ev;
}
