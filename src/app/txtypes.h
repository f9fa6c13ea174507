/* Transaction types, their names and maximum payload sizes.
 *
 * Payload layouts are documented where each type is executed
 * (identity.c for the identity types). */
#ifndef MC_APP_TXTYPES_H
#define MC_APP_TXTYPES_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum mc_tx_type {
    MC_TX_ENROLL_MEMBER = 1,    /* org admin enrolls a member with a role */
    MC_TX_REVOKE_MEMBER = 2,    /* org admin revokes a member */
    MC_TX_REGISTER_PATIENT = 3, /* provider member registers a patient (patient co-signs) */
    MC_TX_ROTATE_KEY = 4,       /* account moves to a new key (signed by old and new) */
    MC_TX_EVIDENCE = 5,         /* a node records a validator's equivocation */
    /* Consortium governance, 10-19 (layouts in app/governance_payload.h). */
    MC_TX_GOV_PROPOSE = 10,     /* org admin proposes a change (2/3 of orgs decide) */
    MC_TX_GOV_VOTE = 11,        /* org admin votes yes or no, once */
    MC_TX_NODE_ROTATE = 12,     /* org admin moves its node to a new key at a height */
    /* Medical records, 50-89 (layouts in app/records.h). */
    MC_TX_RECORD_ANCHOR = 50,   /* node anchors encrypted FHIR records for an author */
    MC_TX_RECORD_ACCESS = 51,   /* node logs a read or a refusal */
    MC_TX_RECORD_GRANT = 52,    /* patient grants a member or organisation access */
    MC_TX_RECORD_REVOKE = 53,   /* patient revokes a grant */
    MC_TX_RECORD_ERASE = 54,    /* patient erases records (GDPR Art. 17) */
    MC_TX_RECORD_REVIEW = 55,   /* auditor closes a break-glass access */
    /* SMART Backend Services, 60-62 (layouts in app/smart.h). */
    MC_TX_SMART_CLIENT = 60,        /* member registers a system client (its public key) */
    MC_TX_SMART_CLIENT_REVOKE = 61, /* owner or org admin revokes a client */
    MC_TX_SMART_TOKEN = 62,         /* node logs a token it issued, with the client's assertion */
    /* Drug supply chain, 20-49 (payloads in app/supply.h). */
    MC_TX_DRUG_COMMISSION = 20,   /* manufacturer commissions serials of a lot */
    MC_TX_DRUG_AGGREGATE = 21,    /* owner packs units/containers into a container */
    MC_TX_DRUG_DISAGGREGATE = 22, /* owner unpacks a container */
    MC_TX_DRUG_SHIP = 23,         /* owner ships to a named organisation */
    MC_TX_DRUG_RECEIVE = 24,      /* consignee takes custody */
    MC_TX_DRUG_DISPENSE = 25,     /* pharmacy dispenses a pack (once) */
    MC_TX_DRUG_DECOMMISSION = 26, /* owner: destroyed, stolen, sample, exported */
    MC_TX_DRUG_RECALL = 27,       /* manufacturer or regulator recalls a lot */
    MC_TX_DRUG_FLAG = 28,         /* regulator or owner marks suspect/illegitimate, or clears */
    MC_TX_DRUG_SCAN = 29,         /* node records a public verification */
    MC_TX_DRUG_PRODUCT = 30,      /* manufacturer registers a GTIN's product master data (app/supply_product.h) */
    /* Research consent and clinical trials, 90-119 (layouts in app/research.h). */
    MC_TX_STUDY_REGISTER = 90,    /* organisation registers a study (ResearchStudy) */
    MC_TX_RESEARCH_CONSENT = 91,  /* patient consents to research use, or withdraws */
    MC_TX_RESEARCH_QUERY = 92,    /* node logs a dataset query with its result hash */
    MC_TX_TRIAL_ENROL = 93,       /* study team enrols a consenting patient (ResearchSubject) */
    MC_TX_TRIAL_AMEND = 94,       /* protocol amendment: new hash, reason, added outcomes */
    MC_TX_TRIAL_CLOSE = 95,       /* enrolment closed */
    MC_TX_TRIAL_LOCK = 96,        /* database lock: the dataset's hash */
    MC_TX_TRIAL_RESULTS = 97,     /* results posted: reported outcomes, results dataset hash */
};

/* Name ("enroll_member") or NULL for an unknown type. */
const char *mc_txtypes_name(uint16_t type);
/* Type for a name, or 0. */
uint16_t mc_txtypes_from_name(const char *name);
/* Maximum payload bytes for the type, 0 for an unknown type. */
size_t mc_txtypes_payload_max(uint16_t type);

struct mc_dec;
/* Ends the strict decode of a payload of the given type: 0 when every field
 * decoded and no byte is left, else the error with "<type name> payload
 * does not decode" as its detail. Shared by the payload codecs
 * (*_payload.c). */
MC_MUST_CHECK int mc_tx_payload_finish(struct mc_dec *d, uint16_t type);

#endif
