/* Reads of the records state shared by the FHIR and /v1/records routes
 * (see records_view.h). */
#include "api/records_view.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fhir.h"
#include "api/fhir_reply.h"
#include "api/gate.h"
#include "app/identity.h"
#include "app/records.h"
#include "base/hex.h"
#include "node/vault.h"

uint64_t mc__records_view_block_time_ms(struct mc_node *node) {
    struct mc_node_status s;
    mc_node_status(node, &s);
    return s.latest_time_ms;
}

uint8_t mc__records_view_purpose(const struct mc__api_request *req) {
    const char *p = mc__gate_header(req, "x-purpose-of-use");
    return p ? mc_purpose_from_code(p) : 0;
}

/* "HEX" or "Patient/HEX" -> key. */
int mc__records_view_parse_patient(mc_pubkey *out, const char *v) {
    if (!v) return MC_ERR_NOT_FOUND;
    if (strncmp(v, "Patient/", 8) == 0) v += 8;
    return mc_api_parse_pubkey(out, v);
}

int mc__records_view_parse_path(struct mc__records_view_path *fp, const char *param) {
    memset(fp, 0, sizeof *fp);
    char buf[MC_API_SEGMENT_MAX + 1];
    snprintf(buf, sizeof buf, "%s", param);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '/') buf[--n] = 0;
    char *seg[5];
    int k = 0;
    for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (k == 5) return MC_ERR_NOT_FOUND;
        seg[k++] = t;
    }
    fp->parts = k;
    if (k < 1 || strlen(seg[0]) >= sizeof fp->type) return MC_ERR_NOT_FOUND;
    snprintf(fp->type, sizeof fp->type, "%s", seg[0]);
    if (k >= 2) {
        if (!mc_record_id_valid(seg[1]) && strlen(seg[1]) != 64) return MC_ERR_NOT_FOUND;
        snprintf(fp->id, sizeof fp->id, "%s", seg[1]);
    }
    if (k == 3) {
        if ((seg[2][0] != '$' && strcmp(seg[2], "_history")) || strlen(seg[2]) >= sizeof fp->op)
            return MC_ERR_NOT_FOUND;
        snprintf(fp->op, sizeof fp->op, "%s", seg[2]);
    }
    if (k == 4) {
        uint64_t v;
        if (strcmp(seg[2], "_history") || mc_api_parse_u64(&v, seg[3]) || v == 0 || v > UINT32_MAX)
            return MC_ERR_NOT_FOUND;
        fp->version = (uint32_t)v;
    }
    if (k == 5) return MC_ERR_NOT_FOUND;
    return 0;
}


int mc__records_view_query_read(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__records_view_read *r = ctx;
    struct mc_state *st = mc_app_state(app);
    r->rc = mc_records_get_head(st, r->id, &r->head);
    if (r->rc) return 0;
    if (!r->skip_policy)
        mc_records_decide(st, r->requester, &r->head, r->purpose, r->btg, r->now_ms, &r->d);
    uint32_t v = r->version ? r->version : r->head.versions;
    if (v < 1 || v > r->head.versions) {
        r->rc = MC_ERR_NOT_FOUND;
        return 0;
    }
    r->version = v;
    if ((r->rc = mc_records_get_version(st, r->id, v, &r->ver))) return 0;
    struct mc_record_batch b;
    if (mc_records_get_batch(st, &r->ver.batch, &b) == 0 && b.has_keys &&
        memcmp(b.node.b, r->node_key->b, 32) == 0) {
        memcpy(r->sealed, b.sealed_node, sizeof r->sealed);
        r->have_batch_key = true;
    } else if (mc_records_get_grant_key(st, r->id, v, r->node_key, r->sealed) == 0) {
        r->via_grant = true;
    } else {
        /* no key here: name a node that holds one, preferring one of the
         * requester's organisation (a grant to it seals keys to its nodes) */
        struct mc_account req, acc;
        uint32_t want_org = r->requester && mc_identity_get_account(st, r->requester, &req) == 0 ? req.org : 0;
        mc_pubkey holders[MC_GRANT_KEYS_MAX + 1], pick;
        size_t n = 0;
        bool found = false;
        if (mc_records_get_grant_recipients(st, r->id, v, holders, MC_GRANT_KEYS_MAX, &n)) n = 0;
        for (size_t i = 0; i < n && !found; i++)
            if (mc_identity_get_account(st, &holders[i], &acc) == 0 && acc.role == MC_ROLE_NODE &&
                acc.status == MC_ACCOUNT_ACTIVE && want_org && acc.org == want_org) {
                pick = holders[i];
                found = true;
            }
        if (!found && mc_records_get_batch(st, &r->ver.batch, &b) == 0 && b.has_keys) {
            pick = b.node;
            found = true;
        }
        struct mc_org org;
        if (found && mc_identity_get_account(st, &pick, &acc) == 0 && mc_identity_get_org(st, acc.org, &org) == 0) {
            char hx[65];
            mc_hex_encode(hx, pick.b, 32);
            snprintf(r->elsewhere, sizeof r->elsewhere, "read it through the node of %.60s (organisation %u, node key %s)",
                     org.name, (unsigned)org.id, hx);
        }
    }
    return 0;
}

/* Fetches, checks and decrypts the version's ciphertext into plain. Errors:
 * MC_ERR_TAMPERED (ciphertext altered and no good copy), MC_ERR_STATE
 * (purged), MC_ERR_CRYPTO (no key for this node). */

int mc__records_view_open(struct mc_node *node, const struct mc__records_view_read *r, struct mc_buf *plain) {
    const uint8_t *sealed = r->have_batch_key || r->via_grant ? r->sealed : NULL;
    if (r->head.type == MC_FHIR_BINARY) {
        /* in searches an attachment is its metadata (its first chunk
         * opened): the bytes are read at /fhir/Binary/{id} */
        struct mc_vault_download *d;
        char type[MC_ATTACHMENT_TYPE_MAX + 1];
        uint64_t size;
        int rc = mc_vault_download_open(mc_node_vault(node), &d, r->id, r->version, &r->ver.ciphertext, r->ver.size,
                                        sealed, r->via_grant, type, &size);
        if (rc) return rc;
        mc_vault_download_close(d);
        json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "resourceType", "Binary", "id", r->id, "contentType", type,
                              "size", (json_int_t)size);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!text) return MC_ERR_NOMEM;
        mc_buf_append(plain, text, strlen(text));
        free(text);
        return plain->err;
    }
    return mc_vault_open_record(mc_node_vault(node), plain, r->id, r->version, &r->ver.ciphertext,
                                sealed, r->via_grant, true);
}

int mc__records_view_collect_row(void *ctx, const struct mc_record_head *h) {
    struct mc__records_view_collect *c = ctx;
    if ((h->erased && !c->include_erased) || (c->type && h->type != c->type)) return 0;
    if (c->n == MC_API_RECORDS_SEARCH_MAX) return 1;
    snprintf(c->ids[c->n++], MC_RECORD_ID_MAX + 1, "%s", h->id);
    return 0;
}


/* --- Provenance generated from the anchors ---
 *
 * Every record version has an anchor on the chain: who authored it (the
 * author's key, whose RFC 9421 signature the anchor carries), for which
 * organisation, which node encrypted and anchored it, when (block time),
 * and which version it amends. Each version is served as a Provenance
 * resource with the id "<record id>.<version>" (record ids carry no '.'),
 * readable at /fhir/Provenance/<id>.<v> and found with
 * /fhir/Provenance?target=Type/id[/_history/v]; $everything includes them.
 * The policy is that of the target record. */

static json_t *provenance(const struct mc_record_head *h, uint32_t v,
                          const struct mc_record_version *rv, const mc_pubkey *node) {
    const char *type = mc_records_type_name(h->type);
    char id[MC_RECORD_ID_MAX + 16], target[160], t[32], author[65], batch[65], org[16];
    snprintf(id, sizeof id, "%s.%u", h->id, v);
    snprintf(target, sizeof target, "%s/%s/_history/%u", type, h->id, v);
    mc_fhir_instant(t, rv->time_ms);
    mc_hex_encode(author, rv->author.b, 32);
    mc_hex_encode(batch, rv->batch.b, 32);
    snprintf(org, sizeof org, "%u", h->org);
    json_t *p = json_pack(
        "{s:s, s:s, s:[{s:s}], s:s, s:{s:[{s:s, s:s, s:s}]},"
        " s:[{s:{s:[{s:s, s:s}]}, s:{s:{s:s, s:s}}, s:{s:{s:s, s:s}}}],"
        " s:[{s:s, s:{s:{s:s, s:s}}}]}",
        "resourceType", "Provenance", "id", id, "target", "reference", target, "recorded", t,
        "activity", "coding", "system", "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
        "code", v == 1 ? "CREATE" : "UPDATE", "display", v == 1 ? "create" : "revise",
        "agent", "type", "coding", "system",
        "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code", "author",
        "who", "identifier", "system", "urn:medchain:account", "value", author,
        "onBehalfOf", "identifier", "system", "urn:medchain:org", "value", org,
        "entity", "role", "source", "what", "identifier", "system",
        "urn:medchain:ledger-transaction", "value", batch);
    if (!p) return NULL;
    static const mc_pubkey zero;
    if (memcmp(node->b, zero.b, 32) != 0) {
        char nk[65];
        mc_hex_encode(nk, node->b, 32);
        json_array_append_new(json_object_get(p, "agent"),
                              json_pack("{s:{s:[{s:s, s:s}]}, s:{s:{s:s, s:s}}}", "type", "coding",
                                        "system", "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                        "code", "custodian", "who", "identifier", "system",
                                        "urn:medchain:node", "value", nk));
    }
    if (v > 1) {
        char prev[160];
        snprintf(prev, sizeof prev, "%s/%s/_history/%u", type, h->id, v - 1);
        json_array_append_new(json_object_get(p, "entity"),
                              json_pack("{s:s, s:{s:s}}", "role", "revision", "what", "reference", prev));
    }
    return p;
}


int mc__records_view_query_provenance(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct mc__records_view_provenance *q = ctx;
    struct mc_state *st = mc_app_state(app);
    struct mc_record_head h;
    if ((q->rc = mc_records_get_head(st, q->id, &h))) return 0;
    uint32_t from = q->version ? q->version : 1, to = q->version ? q->version : h.versions;
    if (to > h.versions) {
        q->rc = MC_ERR_NOT_FOUND;
        return 0;
    }
    for (uint32_t v = from; v <= to; v++) {
        struct mc_record_version rv;
        if ((q->rc = mc_records_get_version(st, q->id, v, &rv))) return 0;
        struct mc_record_batch b;
        mc_pubkey node;
        memset(&node, 0, sizeof node);
        if (mc_records_get_batch(st, &rv.batch, &b) == 0) node = b.node;
        json_t *p = provenance(&h, v, &rv, &node);
        if (p) json_array_append_new(q->list, p);
    }
    return 0;
}

/* Splits "[Type/]id[/_history/v]" or a generated Provenance id "id.v". */


/* --- the patient's identity on the FHIR routes --- */

struct q_head {
    const char *id;
    int rc;
    struct mc_record_head h;
};

static int q_head(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct q_head *q = ctx;
    q->rc = mc_records_get_head(mc_app_state(app), q->id, &q->h);
    return 0;
}

int mc__records_view_resolve_patient(struct mc_node *node, const char *ref, mc_pubkey *out, bool *found) {
    *found = false;
    if (!ref || !ref[0]) return MC_ERR_MALFORMED;
    const char *id = ref;
    const char *p = strstr(ref, "/Patient/");
    if (p) id = p + 9;
    else if (strncmp(ref, "Patient/", 8) == 0) id = ref + 8;
    else if (strchr(ref, '/')) return MC_ERR_MALFORMED; /* another type */
    if (strlen(id) == 64 && mc_api_parse_pubkey(out, id) == 0) {
        *found = true;
        return 0;
    }
    if (!mc_record_id_valid(id)) return MC_ERR_MALFORMED;
    struct q_head q = {.id = id};
    int qrc = mc_node_query(node, q_head, &q);
    if (qrc) return qrc;
    if (q.rc == 0 && q.h.type == MC_FHIR_PATIENT && !q.h.erased) {
        *out = q.h.patient;
        *found = true;
    }
    return 0;
}

struct first_patient {
    char *id;
    bool found;
};

static int first_patient_row(void *ctx, const struct mc_record_head *h) {
    struct first_patient *f = ctx;
    if (h->type != MC_FHIR_PATIENT || h->erased) return 0;
    snprintf(f->id, MC_RECORD_ID_MAX + 1, "%s", h->id);
    f->found = true;
    return 1;
}

bool mc__records_view_patient_record(struct mc_state *st, const mc_pubkey *patient,
                                     char id[MC_RECORD_ID_MAX + 1]) {
    struct first_patient f = {.id = id};
    id[0] = 0;
    int rc = mc_records_scan_patient(st, patient, first_patient_row, &f);
    return f.found && rc >= 0;
}

json_t *mc__records_view_patient_reference(const mc_pubkey *patient, const char *record_id) {
    char hx[65];
    mc_hex_encode(hx, patient->b, 32);
    json_t *r = json_pack("{s:{s:s, s:s}}", "identifier", "system", "urn:medchain:account", "value", hx);
    if (r && record_id && record_id[0]) {
        char ref[MC_RECORD_ID_MAX + 16];
        snprintf(ref, sizeof ref, "Patient/%s", record_id);
        json_object_set_new(r, "reference", json_string(ref));
    }
    return r;
}
