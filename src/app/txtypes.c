/* Transaction type table. */
#include "app/txtypes.h"

#include "consensus/evidence.h"

#include <string.h>

#include "base/codec.h"
#include "base/limits.h"

static const struct { uint16_t type; const char *name; size_t payload_max; } types[] = {
    {MC_TX_ENROLL_MEMBER, "enroll_member", 32 + 1 + 1 + 128},
    {MC_TX_REVOKE_MEMBER, "revoke_member", 32 + 1 + 255},
    {MC_TX_REGISTER_PATIENT, "register_patient", 32 + 64},
    {MC_TX_ROTATE_KEY, "rotate_key", 32 + 64},
    {MC_TX_EVIDENCE, "evidence", MC_EVIDENCE_WIRE_BYTES},
    /* Governance: deadline, activation, kind and the largest body (add_org:
     * name, kind, gln, admin key; add_validator: org, key, power, name). */
    {MC_TX_GOV_PROPOSE, "gov_propose", 8 + 8 + 1 + (1 + MC_NAME_MAX) + 1 + (1 + MC_GLN_MAX) + 32 + 8},
    {MC_TX_GOV_VOTE, "gov_vote", 8 + 1},
    {MC_TX_NODE_ROTATE, "node_rotate", 32 + 32 + 8 + 64},
    /* Records: an anchor of MC_RECORDS_BATCH_MAX entries of at most 107
     * bytes plus its fixed part (keys, signature base, sealed keys). */
    {MC_TX_RECORD_ANCHOR, "record_anchor", 32 + 32 + 2 + 2048 + 64 + 160 + 2 + 512 * 107},
    {MC_TX_RECORD_ACCESS, "record_access", 32 + 65 + 4 + 32 + 3 + 2 + 514 + 2 + 2048 + 65},
    {MC_TX_RECORD_GRANT, "record_grant", 1 + 32 + 4 + 1 + 8 + 2 + 320 * (65 + 4 + 32 + 80)},
    {MC_TX_RECORD_REVOKE, "record_revoke", 32},
    {MC_TX_RECORD_ERASE, "record_erase", 2 + 512 * 65},
    {MC_TX_RECORD_REVIEW, "record_review", 32 + 256},
    /* SMART (app/smart.h): client id str8, key bytes8, name str8; a token
     * entry's assertion and scope str16. */
    {MC_TX_SMART_CLIENT, "smart_client", (1 + MC_SMART_CLIENT_ID_MAX) + 1 + (1 + 255) + (1 + MC_SMART_CLIENT_NAME_MAX)},
    {MC_TX_SMART_CLIENT_REVOKE, "smart_client_revoke", 1 + MC_SMART_CLIENT_ID_MAX},
    {MC_TX_SMART_TOKEN, "smart_token",
     (1 + MC_SMART_CLIENT_ID_MAX) + (2 + MC_SMART_ASSERTION_MAX) + (2 + MC_SMART_SCOPE_MAX) + 8},
    /* Supply chain: strings are str8 (gtin 15, serial/lot 21, sscc 19 bytes
     * with their prefixes), items 1 + 15 + 21 bytes. */
    {MC_TX_DRUG_COMMISSION, "drug_commission", 15 + 21 + 4 + 2 + MC_SUPPLY_SERIALS_PER_TX_MAX * 21},
    {MC_TX_DRUG_AGGREGATE, "drug_aggregate", 19 + 2 + MC_SUPPLY_ITEMS_PER_TX_MAX * 37},
    {MC_TX_DRUG_DISAGGREGATE, "drug_disaggregate", 19},
    {MC_TX_DRUG_SHIP, "drug_ship", 4 + 2 + MC_SUPPLY_ITEMS_PER_TX_MAX * 37},
    {MC_TX_DRUG_RECEIVE, "drug_receive", 2 + MC_SUPPLY_ITEMS_PER_TX_MAX * 37},
    {MC_TX_DRUG_DISPENSE, "drug_dispense", 15 + 21},
    {MC_TX_DRUG_DECOMMISSION, "drug_decommission", 1 + 15 + 21},
    {MC_TX_DRUG_RECALL, "drug_recall", 15 + 21 + 1 + MC_SUPPLY_REASON_MAX},
    {MC_TX_DRUG_FLAG, "drug_flag", 15 + 21 + 1 + 1 + MC_SUPPLY_REASON_MAX},
    {MC_TX_DRUG_SCAN, "drug_scan", 15 + 21 + 1 + 1},
    {MC_TX_DRUG_PRODUCT, "drug_product", 15 + 65 + 33 + 33 + 2},
    /* Research (app/research.h): str8 texts of at most MC_RESEARCH_TEXT_MAX
     * bytes, ids and purposes of at most 64. */
    {MC_TX_STUDY_REGISTER, "study_register",
     65 + 3 * (1 + MC_RESEARCH_TEXT_MAX) + 32 + 65 + 1 + 2 +
         1 + MC_RESEARCH_OUTCOMES_MAX * (2 + MC_RESEARCH_TEXT_MAX) + 1 + MC_RESEARCH_RESEARCHERS_MAX * 32},
    {MC_TX_RESEARCH_CONSENT, "research_consent", 1 + 65 + 4 + 1 + 1 + 8},
    {MC_TX_RESEARCH_QUERY, "research_query",
     65 + 32 + 1 + 2 + 2 + MC_RESEARCH_REASON_MAX + 32 + 4 + 4 + 8 + 2 + 2048 + 65},
    {MC_TX_TRIAL_ENROL, "trial_enrol", 65 + 32},
    {MC_TX_TRIAL_AMEND, "trial_amend",
     65 + 32 + 2 + MC_RESEARCH_REASON_MAX + 1 + MC_RESEARCH_OUTCOMES_MAX * (2 + MC_RESEARCH_TEXT_MAX)},
    {MC_TX_TRIAL_CLOSE, "trial_close", 65},
    {MC_TX_TRIAL_LOCK, "trial_lock", 65 + 32},
    {MC_TX_TRIAL_RESULTS, "trial_results",
     65 + 32 + 1 + MC_RESEARCH_OUTCOMES_MAX * (2 + MC_RESEARCH_TEXT_MAX)},
};

const char *mc_txtypes_name(uint16_t type) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == type) return types[i].name;
    return NULL;
}

uint16_t mc_txtypes_from_name(const char *name) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, name) == 0) return types[i].type;
    return 0;
}

size_t mc_txtypes_payload_max(uint16_t type) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == type) return types[i].payload_max;
    return 0;
}

int mc_tx_payload_finish(struct mc_dec *d, uint16_t type) {
    int rc = mc_dec_finish(d);
    return rc ? mc_err_set(rc, "%s payload does not decode", mc_txtypes_name(type)) : 0;
}
