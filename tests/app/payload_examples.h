/* One example payload of every records, supply and identity transaction
 * type, shared by the payload round-trip tests (test_payload.c). Each
 * example fills every field its type encodes, with values that are
 * distinct from zero so that a field dropped by an encoder or decoder
 * shows. */
#ifndef MC_TESTS_PAYLOAD_EXAMPLES_H
#define MC_TESTS_PAYLOAD_EXAMPLES_H

#include <stdio.h>
#include <string.h>

#include "app/identity_payload.h"
#include "app/records_payload.h"
#include "app/supply_payload.h"
#include "app/txtypes.h"

static const uint8_t example_base[] = "\"@method\": GET\n\"@signature-params\": (\"@method\");keyid=\"k\"";
static const uint8_t example_sig[MC_SIG_BYTES] = {7, 7, 7, 1, 2, 3};

static void example_records(struct mc_records_payload *p, uint16_t type) {
    memset(p, 0, sizeof *p);
    p->type = type;
    switch (type) {
    case MC_TX_RECORD_ANCHOR:
        memset(p->patient.b, 0x11, 32);
        memset(p->author.b, 0x22, 32);
        p->base = example_base;
        p->base_len = sizeof example_base - 1;
        p->sig = example_sig;
        p->sig_len = MC_SIG_BYTES;
        memset(p->sealed_patient, 0x33, MC_SEALED_KEY_BYTES);
        memset(p->sealed_node, 0x44, MC_SEALED_KEY_BYTES);
        p->count = 3;
        for (uint16_t i = 0; i < p->count; i++) {
            snprintf(p->entries[i].id, sizeof p->entries[i].id, "rec-%u", i);
            p->entries[i].type = (uint16_t)(1 + i);
            p->entries[i].version = 1 + i;
            memset(p->entries[i].ciphertext.b, 0x50 + i, 32);
            p->entries[i].size = 1000 + i;
        }
        break;
    case MC_TX_RECORD_ACCESS:
        memset(p->patient.b, 0x11, 32);
        snprintf(p->id, sizeof p->id, "abc-1");
        p->version = 2;
        memset(p->requester.b, 0x66, 32);
        p->action = 1;
        p->purpose = 2;
        p->outcome = 4;
        p->status = 403;
        snprintf(p->reason, sizeof p->reason, "no grant covers this record");
        p->base = example_base;
        p->base_len = sizeof example_base - 1;
        p->sig = example_sig;
        p->sig_len = MC_SIG_BYTES;
        break;
    case MC_TX_RECORD_GRANT:
        p->kind = 1;
        memset(p->member.b, 0x77, 32);
        p->org = 3;
        p->categories = 0x05;
        p->expiry_ms = 1700000000000ULL;
        p->count = 2;
        for (uint16_t i = 0; i < p->count; i++) {
            snprintf(p->keys[i].id, sizeof p->keys[i].id, "rec-%u", i);
            p->keys[i].version = 1 + i;
            memset(p->keys[i].to.b, 0x80 + i, 32);
            memset(p->keys[i].sealed, 0x90 + i, MC_SEALED_KEY_BYTES);
        }
        break;
    case MC_TX_RECORD_REVOKE:
        memset(p->ref.b, 0xa1, 32);
        break;
    case MC_TX_RECORD_ERASE:
        p->count = 2;
        snprintf(p->erase_ids[0], sizeof p->erase_ids[0], "rec-0");
        snprintf(p->erase_ids[1], sizeof p->erase_ids[1], "rec-1");
        break;
    case MC_TX_RECORD_REVIEW:
        memset(p->ref.b, 0xb2, 32);
        snprintf(p->reason, sizeof p->reason, "reviewed: emergency confirmed");
        break;
    }
}

#define EX_GTIN "09506000134352"
#define EX_SSCC "106141411234567897"

static void example_supply(struct mc_supply_payload *p, uint16_t type) {
    memset(p, 0, sizeof *p);
    p->type = type;
    snprintf(p->gtin, sizeof p->gtin, EX_GTIN);
    switch (type) {
    case MC_TX_DRUG_COMMISSION:
        snprintf(p->lot, sizeof p->lot, "LOT42");
        p->expiry = 20301231;
        p->count = 3;
        for (uint16_t i = 0; i < p->count; i++) snprintf(p->serials[i], sizeof p->serials[i], "SN%u", i);
        break;
    case MC_TX_DRUG_AGGREGATE:
    case MC_TX_DRUG_SHIP:
    case MC_TX_DRUG_RECEIVE:
        memset(p->gtin, 0, sizeof p->gtin);
        if (type == MC_TX_DRUG_AGGREGATE) snprintf(p->sscc, sizeof p->sscc, EX_SSCC);
        if (type == MC_TX_DRUG_SHIP) p->to_org = 4;
        p->count = 2;
        p->items[0].kind = MC_SUPPLY_ITEM_UNIT;
        snprintf(p->items[0].gtin, sizeof p->items[0].gtin, EX_GTIN);
        snprintf(p->items[0].id, sizeof p->items[0].id, "SN1");
        p->items[1].kind = MC_SUPPLY_ITEM_CONTAINER;
        snprintf(p->items[1].id, sizeof p->items[1].id, EX_SSCC);
        break;
    case MC_TX_DRUG_DISAGGREGATE:
        memset(p->gtin, 0, sizeof p->gtin);
        snprintf(p->sscc, sizeof p->sscc, EX_SSCC);
        break;
    case MC_TX_DRUG_DECOMMISSION:
        p->code = 2;
        /* fall through */
    case MC_TX_DRUG_DISPENSE:
        snprintf(p->serial, sizeof p->serial, "SN1");
        break;
    case MC_TX_DRUG_RECALL:
        snprintf(p->lot, sizeof p->lot, "LOT42");
        snprintf(p->reason, sizeof p->reason, "contamination");
        break;
    case MC_TX_DRUG_FLAG:
        snprintf(p->serial, sizeof p->serial, "SN1");
        p->code = 1;
        snprintf(p->reason, sizeof p->reason, "suspect");
        break;
    case MC_TX_DRUG_SCAN:
        snprintf(p->serial, sizeof p->serial, "SN1");
        p->code = 3;
        p->status = 5;
        break;
    }
}

static void example_identity(struct mc_identity_payload *p, uint16_t type) {
    memset(p, 0, sizeof *p);
    p->type = type;
    memset(p->key.b, 0xc3, 32);
    if (type == MC_TX_ENROLL_MEMBER) {
        p->role = 2;
        snprintf(p->name, sizeof p->name, "Dr. Ada");
    } else if (type == MC_TX_REVOKE_MEMBER) {
        snprintf(p->reason, sizeof p->reason, "left the hospital");
    } else {
        memcpy(p->sig, example_sig, MC_SIG_BYTES);
    }
}

static const uint16_t example_records_types[] = {MC_TX_RECORD_ANCHOR, MC_TX_RECORD_ACCESS,
                                                 MC_TX_RECORD_GRANT,  MC_TX_RECORD_REVOKE,
                                                 MC_TX_RECORD_ERASE,  MC_TX_RECORD_REVIEW};
static const uint16_t example_supply_types[] = {
    MC_TX_DRUG_COMMISSION, MC_TX_DRUG_AGGREGATE,    MC_TX_DRUG_DISAGGREGATE, MC_TX_DRUG_SHIP,
    MC_TX_DRUG_RECEIVE,    MC_TX_DRUG_DISPENSE,     MC_TX_DRUG_DECOMMISSION, MC_TX_DRUG_RECALL,
    MC_TX_DRUG_FLAG,       MC_TX_DRUG_SCAN};
static const uint16_t example_identity_types[] = {MC_TX_ENROLL_MEMBER, MC_TX_REVOKE_MEMBER,
                                                  MC_TX_REGISTER_PATIENT, MC_TX_ROTATE_KEY};

#endif
