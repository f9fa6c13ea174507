/* Every size limit of medchain, with the reason for it.
 *
 * Anything that arrives from outside (network, client, disk) is checked
 * against one of these before memory is allocated for it. */
#ifndef MC_BASE_LIMITS_H
#define MC_BASE_LIMITS_H

/* Chain ids are short human names ("medchain-demo"). */
#define MC_CHAIN_ID_MAX 64
/* Names of organisations, members, validators. */
#define MC_NAME_MAX 128
/* A transaction's payload: the largest type (a record anchor with sealed
 * keys for many recipients) stays well under this. Per-type maxima are
 * smaller and live with each type. */
#define MC_TX_PAYLOAD_MAX (64 * 1024)
/* Encoded transaction: payload plus fixed envelope fields. */
#define MC_TX_MAX (MC_TX_PAYLOAD_MAX + 512)
/* Transactions in one block and bytes in one block. */
#define MC_BLOCK_TXS_MAX 10000
#define MC_BLOCK_BYTES_MAX (8 * 1024 * 1024)
/* Validators in one set: a consortium, not a public chain. */
#define MC_VALIDATORS_MAX 128
/* Organisations named in genesis or added later. */
#define MC_ORGS_MAX 1024
/* HTTP request body (a FHIR Bundle of a whole patient history is ~1 MB). */
#define MC_HTTP_BODY_MAX (4 * 1024 * 1024)
/* Body of POST /v1/tx: a maximal transaction as JSON {"tx": "<hex>"}
 * (two characters a byte) with room for whitespace. Each route's bound is
 * kept tight so many concurrent clients need little memory. */
#define MC_HTTP_TX_BODY_MAX (2 * MC_TX_MAX + 1024)
/* POST /v1/txs: at most this many transactions in one batch, and the body
 * within MC_HTTP_BODY_MAX. */
#define MC_HTTP_BATCH_TXS_MAX 1000
/* Pending transactions held by the mempool. */
#define MC_MEMPOOL_TXS_MAX 50000
#define MC_MEMPOOL_BYTES_MAX (64 * 1024 * 1024)
/* Pending transactions of one sender: one account cannot fill the pool
 * (with nonces far ahead that never become executable). */
#define MC_MEMPOOL_PER_SENDER_MAX 1024
/* Merkle audit paths: 64 levels cover any tree size that fits in u64. */
#define MC_MERKLE_PATH_MAX 64
/* Key files are small JSON documents. */
#define MC_KEYFILE_MAX 4096
/* Genesis file. */
#define MC_GENESIS_MAX (1024 * 1024)

/* Application state rows (src/app/state.h): keys are short structured
 * names built by app/row.c; a value is one encoded object (the largest, a
 * unit's custody history or a study, stays well under this). */
#define MC_STATE_KEY_MAX 256
#define MC_STATE_VALUE_MAX (256 * 1024)

/* Drug supply chain (src/app/supply.h). A commissioning transaction names at
 * most this many serials (a production run is committed in batches). */
#define MC_SUPPLY_SERIALS_PER_TX_MAX 1000
/* Items (units or containers) named by one ship, receive or aggregate. */
#define MC_SUPPLY_ITEMS_PER_TX_MAX 1000
/* Units inside one container at every level (a pallet of cases): shipping
 * a container rewrites each unit inside, so this bounds one transaction's
 * work and state writes. */
#define MC_SUPPLY_CONTAINER_UNITS_MAX 2000
/* Custody events kept per unit; a unit with a full history cannot move. */
#define MC_SUPPLY_UNIT_EVENTS_MAX 256
/* Free-text reasons of recalls and flags. */
#define MC_SUPPLY_REASON_MAX 128
/* Alerts returned by one GET /v1/supply/alerts. */
#define MC_SUPPLY_ALERTS_LIST_MAX 100
/* Body of POST /v1/vrs: a small JSON object. */
#define MC_HTTP_VRS_BODY_MAX 4096

_Static_assert(MC_TX_MAX <= MC_BLOCK_BYTES_MAX, "a block must hold a maximal transaction");
_Static_assert(MC_TX_MAX <= MC_HTTP_BODY_MAX, "a maximal transaction must fit an HTTP body");
_Static_assert(MC_HTTP_TX_BODY_MAX <= MC_HTTP_BODY_MAX, "a tx body must fit the HTTP bound");

_Static_assert(MC_SUPPLY_ITEMS_PER_TX_MAX * 64 + 64 <= MC_TX_PAYLOAD_MAX,
               "a maximal ship/receive/aggregate payload must fit a transaction");
_Static_assert(MC_SUPPLY_SERIALS_PER_TX_MAX * 21 + 64 <= MC_TX_PAYLOAD_MAX,
               "a maximal commissioning payload must fit a transaction");


/* Research consent and clinical trials (src/app/research.h). Outcome
 * texts, titles and sponsors are short registry-style strings (str8). */
#define MC_RESEARCH_TEXT_MAX 200
/* Pre-specified outcomes of one study, registered and amended together:
 * ClinicalTrials.gov records rarely list more than a few dozen. */
#define MC_RESEARCH_OUTCOMES_MAX 64
/* Researchers allowed to query one study (a study team, not a population). */
#define MC_RESEARCH_RESEARCHERS_MAX 64
/* Amendment reasons. */
#define MC_RESEARCH_REASON_MAX 512
/* Largest k of small-cell suppression (k-anonymity threshold). */
#define MC_RESEARCH_K_MAX 1000
/* Patients and de-identified records in one dataset response: bounds the
 * node's work and memory for one query (larger studies page by purpose). */
#define MC_RESEARCH_DATASET_PATIENTS_MAX 10000
#define MC_RESEARCH_DATASET_RECORDS_MAX 20000
/* Issues listed by one trial verification. */
#define MC_RESEARCH_FINDINGS_MAX 256

_Static_assert(MC_RESEARCH_OUTCOMES_MAX * (2 + MC_RESEARCH_TEXT_MAX) +
                   MC_RESEARCH_RESEARCHERS_MAX * 32 + 2048 <= MC_TX_PAYLOAD_MAX,
               "a maximal study registration must fit a transaction");

#endif
