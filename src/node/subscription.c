/* Subscriptions: the stored record, the events of committed blocks and
 * who may see them (see subscription.h). */
#include "node/subscription.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/identity.h"
#include "app/records_payload.h"
#include "app/txtypes.h"
#include "chain/block.h"
#include "chain/tx.h"

#define FORMAT 1

void mc_subscription_encode(struct mc_buf *b, const struct mc_subscription *s) {
    mc_enc_u8(b, FORMAT);
    mc_enc_fixed(b, s->id, 16);
    mc_enc_fixed(b, s->owner.b, 32);
    mc_enc_u8(b, s->topics);
    mc_enc_bool(b, s->has_patient);
    mc_enc_fixed(b, s->patient.b, 32);
    mc_enc_u8(b, s->payload);
    mc_enc_str16(b, s->endpoint);
    mc_enc_str16(b, s->reason);
    mc_enc_u64(b, s->created_ms);
    mc_enc_u64(b, s->end_ms);
    mc_enc_u8(b, s->status);
    mc_enc_u64(b, s->next_height);
    mc_enc_u32(b, s->next_tx);
    mc_enc_u32(b, s->next_entry);
    mc_enc_u64(b, s->events);
    mc_enc_u64(b, s->errors);
    mc_enc_u64(b, s->failing_since_ms);
    mc_enc_u64(b, s->next_attempt_ms);
    mc_enc_u32(b, s->backoff_ms);
    mc_enc_u64(b, s->saved_ms);
    mc_enc_str8(b, s->last_error);
}

int mc_subscription_decode(struct mc_subscription *s, const uint8_t *p, size_t n) {
    memset(s, 0, sizeof *s);
    struct mc_dec d;
    mc_dec_init(&d, p, n);
    uint8_t f = mc_dec_u8(&d);
    mc_dec_fixed(&d, s->id, 16);
    mc_dec_fixed(&d, s->owner.b, 32);
    s->topics = mc_dec_u8(&d);
    s->has_patient = mc_dec_bool(&d);
    mc_dec_fixed(&d, s->patient.b, 32);
    s->payload = mc_dec_u8(&d);
    mc_dec_str16(&d, s->endpoint, sizeof s->endpoint);
    mc_dec_str16(&d, s->reason, sizeof s->reason);
    s->created_ms = mc_dec_u64(&d);
    s->end_ms = mc_dec_u64(&d);
    s->status = mc_dec_u8(&d);
    s->next_height = mc_dec_u64(&d);
    s->next_tx = mc_dec_u32(&d);
    s->next_entry = mc_dec_u32(&d);
    s->events = mc_dec_u64(&d);
    s->errors = mc_dec_u64(&d);
    s->failing_since_ms = mc_dec_u64(&d);
    s->next_attempt_ms = mc_dec_u64(&d);
    s->backoff_ms = mc_dec_u32(&d);
    s->saved_ms = mc_dec_u64(&d);
    mc_dec_str8(&d, s->last_error, sizeof s->last_error);
    int rc = mc_dec_finish(&d);
    if (rc) return rc;
    if (f != FORMAT || !s->topics || s->topics > 3 || (s->payload != MC_SUB_EMPTY && s->payload != MC_SUB_ID_ONLY) ||
        s->status < MC_SUB_ACTIVE || s->status > MC_SUB_OFF)
        return mc_err_set(MC_ERR_TAMPERED, "a stored subscription is not one this node wrote");
    return 0;
}

const char *mc_subscription_topic_url(uint8_t topics) {
    switch (topics) {
    case MC_SUB_TOPIC_RECORDS: return "urn:medchain:topic:records";
    case MC_SUB_TOPIC_CONSENTS: return "urn:medchain:topic:consents";
    case MC_SUB_TOPIC_RECORDS | MC_SUB_TOPIC_CONSENTS: return "urn:medchain:topic:all";
    default: return NULL;
    }
}

uint8_t mc_subscription_topic_parse(const char *url) {
    for (uint8_t t = 1; t <= 3; t++)
        if (url && strcmp(url, mc_subscription_topic_url(t)) == 0) return t;
    return 0;
}

const char *mc_subscription_status_code(uint8_t status) {
    return status == MC_SUB_ACTIVE ? "active" : status == MC_SUB_ERROR ? "error" : "off";
}

/* --- who may see an event --- */

struct find_grant {
    const mc_hash *id;
    struct mc_grant g;
    bool found;
};

static int find_grant_row(void *ctx, const mc_pubkey *patient, const struct mc_grant *g) {
    struct find_grant *f = ctx;
    if (memcmp(g->id.b, f->id->b, 32) != 0) return 0;
    f->g = *g;
    f->found = true;
    return 1;
}

static bool grantee(struct mc_state *st, const mc_pubkey *who, const struct mc_grant *g) {
    if (g->kind == MC_GRANTEE_MEMBER) return memcmp(g->member.b, who->b, 32) == 0;
    struct mc_account a;
    return mc_identity_get_account(st, who, &a) == 0 && a.status == MC_ACCOUNT_ACTIVE &&
           a.role == MC_ROLE_CLINICIAN && a.org == g->org;
}

bool mc_subscription_visible(struct mc_state *st, const struct mc_subscription *s, const struct mc_sub_event *e,
                             uint64_t now_ms) {
    if (s->has_patient && memcmp(s->patient.b, e->patient.b, 32) != 0) return false;
    /* a subscriber revoked or rotated away hears of nothing */
    struct mc_account me;
    if (mc_identity_get_account(st, &s->owner, &me) || me.status != MC_ACCOUNT_ACTIVE) return false;
    if (e->kind == MC_SUB_EV_RECORD_CREATED || e->kind == MC_SUB_EV_RECORD_AMENDED) {
        if (!(s->topics & MC_SUB_TOPIC_RECORDS)) return false;
        struct mc_record_head h;
        if (mc_records_get_head(st, e->record_id, &h)) return false;
        struct mc_access_decision d;
        mc_records_decide(st, &s->owner, &h, 0, NULL, now_ms, &d);
        return d.allowed && !d.break_glass;
    }
    if (!(s->topics & MC_SUB_TOPIC_CONSENTS)) return false;
    struct mc_access_decision d;
    mc_records_decide_patient_view(st, &s->owner, &e->patient, &d);
    if (d.allowed) return true;
    struct find_grant f = {.id = &e->grant_id};
    if (mc_records_scan_grants(st, &e->patient, find_grant_row, &f) < 0 || !f.found) return false;
    return grantee(st, &s->owner, &f.g);
}

/* --- events of committed blocks --- */

int mc_subscription_next(struct mc_store *store, struct mc_state *st, const struct mc_subscription *s,
                         uint64_t now_ms, struct mc_sub_event *out, size_t max, size_t *n,
                         struct mc_sub_cursor *next, uint64_t *pruned) {
    *n = 0;
    *pruned = 0;
    next->height = s->next_height ? s->next_height : 1;
    next->tx = s->next_tx;
    next->entry = s->next_entry;
    uint64_t top;
    int rc = mc_store_height(store, &top);
    if (rc) return rc;
    struct mc_buf raw;
    mc_buf_init(&raw, MC_TX_MAX);
    struct mc_records_payload *p = malloc(sizeof *p);
    if (!p) return MC_ERR_NOMEM;
    uint32_t looked = 0;
    while (!rc && next->height <= top && *n < max && looked < MC_SUB_SCAN_TXS) {
        struct mc_header hd;
        rc = mc_store_get_header(store, next->height, &hd, NULL);
        if (rc) break;
        while (!rc && next->tx < hd.tx_count && *n < max && looked < MC_SUB_SCAN_TXS) {
            looked++;
            mc_buf_reset(&raw);
            mc_hash id;
            int g = mc_store_get_tx(store, next->height, next->tx, &raw, &id, NULL);
            struct mc_tx tx;
            if (g == MC_ERR_NOT_FOUND) {
                (*pruned)++;
            } else if (g) {
                rc = g;
                break;
            } else if (mc_tx_decode(&tx, raw.data, raw.len) == 0 &&
                       (tx.type == MC_TX_RECORD_ANCHOR || tx.type == MC_TX_RECORD_GRANT ||
                        tx.type == MC_TX_RECORD_REVOKE) &&
                       mc_records_payload_decode(p, tx.type, tx.payload, tx.payload_len) == 0) {
                struct mc_sub_event e = {.tx_id = id, .height = next->height, .tx_index = next->tx,
                                         .time_ms = hd.time_ms};
                if (tx.type == MC_TX_RECORD_ANCHOR) {
                    e.patient = p->patient;
                    /* one event per anchored version; a pass may stop inside */
                    while (next->entry < p->count && *n < max) {
                        const struct mc_records_anchor_entry *en = &p->entries[next->entry];
                        e.entry = next->entry;
                        e.kind = en->version == 1 ? MC_SUB_EV_RECORD_CREATED : MC_SUB_EV_RECORD_AMENDED;
                        snprintf(e.record_id, sizeof e.record_id, "%s", en->id);
                        e.record_type = en->type;
                        e.version = en->version;
                        if (mc_subscription_visible(st, s, &e, now_ms)) out[(*n)++] = e;
                        next->entry++;
                    }
                    if (next->entry < p->count) break; /* full: resume inside this anchor */
                } else {
                    e.patient = tx.sender;
                    e.kind = tx.type == MC_TX_RECORD_GRANT ? MC_SUB_EV_GRANT : MC_SUB_EV_REVOKE;
                    e.grant_id = tx.type == MC_TX_RECORD_GRANT ? id : p->ref;
                    if (mc_subscription_visible(st, s, &e, now_ms)) out[(*n)++] = e;
                }
            }
            next->tx++;
            next->entry = 0;
        }
        if (!rc && next->tx >= hd.tx_count) {
            next->height++;
            next->tx = 0;
            next->entry = 0;
        }
    }
    free(p);
    mc_buf_deinit(&raw);
    return rc;
}
