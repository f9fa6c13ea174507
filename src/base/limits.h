/* Every size limit of medchain, with the reason for it.
 *
 * Anything that arrives from outside (network, client, disk) is checked
 * against one of these before memory is allocated for it. */
#ifndef MC_BASE_LIMITS_H
#define MC_BASE_LIMITS_H

#include <stdint.h>

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
/* Transactions whose nonce is ahead of their sender's next executable one
 * (a gap) wait in the mempool's queue, apart from the executable ones, so
 * they never make a proposer cut a block. The queue is bounded in count,
 * per sender and in time (MC_MEMPOOL_GAP_WAIT_MS, configurable); beyond
 * that a gapped transaction is dropped and reported as rejected. */
#define MC_MEMPOOL_QUEUED_MAX 1024
#define MC_MEMPOOL_QUEUED_PER_SENDER_MAX 64
#define MC_MEMPOOL_GAP_WAIT_MS 30000
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
/* Organisations and member (non-voting) nodes named in a genesis file. */
#define MC_GENESIS_ORGS_MAX 64
#define MC_GENESIS_NODES_MAX 64

/* Chain objects (src/chain, src/node/wire.c). A block header's canonical
 * form is fixed-width apart from its chain id: well under this. */
#define MC_HEADER_BYTES_MAX 1024
/* A commit certificate: height, round, block hash and one (index,
 * signature) pair per validator. */
#define MC_COMMIT_BYTES_MAX (8 + 4 + 32 + 2 + MC_VALIDATORS_MAX * (2 + 64))
/* Room a proposer leaves in the block body for the previous block's
 * certificate and the body's own framing: a full certificate and slack. */
#define MC_BLOCK_BODY_RESERVE_BYTES (MC_COMMIT_BYTES_MAX + 4096)
/* A proposer's clock may run ahead of ours by at most this much: a block
 * time further in the future is refused (clocks of a consortium are NTP
 * synchronised; a minute absorbs any honest skew). */
#define MC_BLOCK_TIME_AHEAD_MAX_MS 60000

/* Node configuration (config.json). A block waits at most this long for
 * transactions (empty blocks keep an idle chain's round trip short), and
 * blocks are cut at most this often. */
#define MC_NODE_EMPTY_BLOCK_MS_MIN 100
#define MC_NODE_EMPTY_BLOCK_MS_MAX 60000
/* Keys (node and CLI) older than this many days draw a warning; config.json
 * "key_max_age_days" and $MEDCHAIN_KEY_MAX_AGE_DAYS set it, up to a century. */
#define MC_NODE_KEY_AGE_DAYS_DEFAULT 365
#define MC_NODE_KEY_AGE_DAYS_MAX 36500
#define MC_NODE_BLOCK_INTERVAL_MS_MIN 10
#define MC_NODE_BLOCK_INTERVAL_MS_MAX 60000
/* Transactions the node queues for its own signature (scan records of the
 * public verify endpoint); beyond this the record is dropped. */
#define MC_NODE_OUTBOX_MAX 1024
/* The audit syslog exporter (node/auditexport.h): messages in one batch
 * (one TLS connection, acknowledged as a whole), and blocks one pass looks
 * through (so a long run of blocks without access entries still moves the
 * cursor in bounded steps). */
#define MC_AUDIT_BATCH_MAX 256
#define MC_AUDIT_BLOCKS_PER_PASS 1000
/* FHIR Subscriptions (node/subscription.h, node/notify.h), node-local:
 * subscriptions of one account and of the whole node (each is one row and
 * one cursor the delivery thread walks); the rest-hook URL; the client's
 * reason text; events in one notification; transactions one pass of one
 * subscription looks through (bounded work under the node lock); the
 * create request's body. Nothing is queued in memory: the ledger is the
 * queue and each subscription keeps a cursor into it. */
#define MC_SUBS_PER_ACCOUNT 8
#define MC_SUBS_MAX 1024
#define MC_SUB_ENDPOINT_MAX 512
#define MC_SUB_REASON_MAX 256
#define MC_SUB_BATCH_MAX 16
#define MC_SUB_SCAN_TXS 500
#define MC_SUB_BODY_MAX 8192
_Static_assert(MC_SUBS_PER_ACCOUNT <= MC_SUBS_MAX, "one account's subscriptions fit the node's");
/* Bytes of admitted transactions waiting to be gossiped to peers. */
#define MC_NODE_GOSSIP_BYTES_MAX (16 * 1024 * 1024)
/* Nodes of one generated test network (`medchain testnet`). */
#define MC_TESTNET_NODES_MAX 32

/* config.json "api_hosts": the names one node is addressed by, in all. */
#define MC_NODE_API_HOSTS_BYTES 1024

/* Peer connections (src/net). The largest message is a full block with
 * its header and certificate; a peer's send queue holds several; before
 * the handshake authenticates a peer it may send only this much. */
#define MC_NET_MESSAGE_MAX (9 * 1024 * 1024)
#define MC_NET_SENDQ_BYTES (64 * 1024 * 1024)
#define MC_NET_PREAUTH_BYTES 512
/* Peers of one node: every node connects to every other. */
#define MC_NET_PEERS_MAX 64
/* Sockets that have not completed the handshake, counted apart from the
 * authenticated peers: in all, and from one address. A newcomer beyond the
 * cap evicts the oldest handshake of the address holding the most. */
#define MC_NET_PREAUTH_CONNS_MAX 32
#define MC_NET_PREAUTH_PER_ADDR_MAX 8
_Static_assert(MC_NET_PREAUTH_PER_ADDR_MAX * 4 <= MC_NET_PREAUTH_CONNS_MAX,
               "several addresses at their limit still fit");

/* Record ciphertext (src/blob): an encrypted FHIR resource with the
 * envelope overhead fits with room to spare. */
#define MC_BLOB_MAX (2 * 1024 * 1024)
/* Large attachments (FHIR Binary: a scanned PDF, an image), streamed
 * rather than held in memory (crypto/stream.h, blob.h's writer and reader):
 *   MC_STREAM_CHUNK      plaintext bytes per encrypted chunk (secretstream
 *                        message): what one step of an upload or a read
 *                        decrypts, and the granularity at which a tampered
 *                        chunk is refused;
 *   MC_ATTACHMENT_MAX    the largest attachment (plaintext): a 100 MB scan
 *                        fits ten times; its ciphertext size is a u32 of the
 *                        anchor;
 *   MC_ATTACHMENT_TYPE_MAX  length of its content type (a MIME type);
 *   MC_BLOB_PIECE        bytes of one stored piece of a streamed blob: one
 *                        SQLite row, one ranged GET of a read on S3, one
 *                        replication message between nodes;
 *   MC_S3_PART_BYTES     bytes of one part of an S3 multipart upload (S3
 *                        demands at least 5 MiB for every part but the
 *                        last): the one part an upload holds in memory;
 *   MC_S3_PARTS_MAX      S3's limit on the parts of one upload. */
#define MC_STREAM_CHUNK (64 * 1024)
#define MC_ATTACHMENT_MAX (1024u * 1024 * 1024)
#define MC_ATTACHMENT_TYPE_MAX 127
#define MC_BLOB_PIECE (1024 * 1024)
#define MC_S3_PART_BYTES (8 * 1024 * 1024)
#define MC_S3_PARTS_MAX 10000
/* The ciphertext of a maximal attachment: header, the metadata message and
 * one 17-byte tag per chunk, the last one possibly empty. */
#define MC_ATTACHMENT_CT_MAX                                                          \
    ((uint64_t)MC_ATTACHMENT_MAX + 24 + (128 + 17) +                                 \
     17 * ((uint64_t)MC_ATTACHMENT_MAX / MC_STREAM_CHUNK + 1))

/* Ciphertext replication (src/node/replicate.c): blobs wanted from peers
 * (a resync of a long chain overflows: logged), repair requests waiting
 * for the loop, requests outstanding at once, and requests for one blob
 * before it is given up. */
#define MC_REPL_WANT_MAX 4096
#define MC_REPL_REPAIR_MAX 256
#define MC_REPL_IN_FLIGHT_MAX 16
#define MC_REPL_TRIES_MAX 8
/* Blob-store work replication hands to its worker thread (serving a peer,
 * storing a fetched blob, re-reading a copy to repair), each holding at
 * most one blob: so the loop never waits on a remote store. */
#define MC_REPL_JOBS_MAX 16

/* The S3 blob store (src/blob/s3.h, blob_s3.c): lengths of the endpoint
 * (and CA file path) and of each credential, the bytes one listing page may
 * answer, the keys a walk visits, the retries a request may make and the
 * first backoff (doubled each retry), the ceiling of the configurable
 * timeouts, curl handles kept for reuse, and how long after a failure the
 * store answers "unavailable" at once instead of asking again. */
#define MC_S3_URL_MAX 255
#define MC_S3_KEY_MAX 127
#define MC_S3_PAGE_BYTES (4 * 1024 * 1024)
#define MC_S3_LIST_MAX 10000000
#define MC_S3_RETRIES_MAX 5
#define MC_S3_BACKOFF_MS 50
#define MC_S3_TIMEOUT_MS_MAX 60000
#define MC_S3_POOL 4
#define MC_S3_COOLDOWN_MS 500

/* Key files (src/crypto/keyfile.c): the most Argon2id work a file we read
 * may demand, libsodium's SENSITIVE memory (1 GiB) and four times its
 * SENSITIVE passes (4); writing keeps to the same bounds. */
#define MC_KEYFILE_KDF_OPS_MAX 16ULL
#define MC_KEYFILE_KDF_MEM_MAX ((size_t)1024 * 1024 * 1024)

/* GS1 identifiers (src/app/gs1.h). Lot (AI 10), serial (AI 21) and
 * consumer product variant (AI 22) are 1..20 characters of GS1 AI
 * encodable character set 82. */
#define MC_GS1_VALUE_MAX 20
/* The longest value any application identifier of the table takes (AI 99
 * and friends: 90 characters). */
#define MC_GS1_AI_VALUE_MAX 90
/* Longest input either parser looks at. A GS1 DataMatrix holds at most
 * 2335 alphanumeric characters; a Digital Link with every percent-encoded
 * value at its maximum is far below this. Longer input is rejected
 * (MC_GS1_INPUT_TOO_LONG) before it is read. */
#define MC_GS1_INPUT_MAX 4096
/* Output sizes, NUL included, for the canonical forms of any mc_gs1_id:
 * 4 dates, GTIN and three values of up to 20 characters, each character
 * percent-encoded (3 bytes) in the Digital Link, plus the base. */
#define MC_GS1_ELEMENT_STRING_MAX 160
#define MC_GS1_BASE_MAX 256
#define MC_GS1_DIGITAL_LINK_MAX (MC_GS1_BASE_MAX + 320)
/* Path segments of a Digital Link the parser keeps: /01/gtin and three
 * qualifiers, each a code and a value. */
#define MC_GS1_DL_PATH_SEGMENTS_MAX 8

/* Identity (src/app/identity.h): a GLN is 13 digits. */
#define MC_GLN_MAX 13

/* Medical records (src/app/records.h). Records in one anchor (a Bundle):
 * each entry is at most 107 bytes, so a full anchor stays under the
 * payload maximum. */
#define MC_RECORDS_BATCH_MAX 512
/* FHIR logical id: [A-Za-z0-9-.]{1,64}. */
#define MC_RECORD_ID_MAX 64
/* An RFC 9421 signature base as carried on chain. */
#define MC_SIGBASE_MAX 2048
/* Reasons (refusals, break-glass) and review notes. */
#define MC_REASON_MAX 512
/* Sealed keys one grant transaction carries (181 bytes each, which keeps
 * it under the payload maximum); more go in further grants. */
#define MC_GRANT_TX_KEYS_MAX 320
/* Recipients of grant keys per record version. */
#define MC_GRANT_KEYS_MAX 32

_Static_assert(MC_GENESIS_ORGS_MAX <= MC_ORGS_MAX, "genesis organisations are organisations");
_Static_assert(MC_TESTNET_NODES_MAX <= MC_VALIDATORS_MAX, "every testnet node is a validator");
_Static_assert(MC_TESTNET_NODES_MAX <= MC_NET_PEERS_MAX + 1,
               "every testnet node connects to every other");
_Static_assert(MC_HEADER_BYTES_MAX + MC_BLOCK_BYTES_MAX + MC_COMMIT_BYTES_MAX + 64 <=
                   MC_NET_MESSAGE_MAX,
               "a full block with its header and certificate fits one peer message");
_Static_assert(MC_NET_MESSAGE_MAX <= MC_NET_SENDQ_BYTES, "a send queue holds a maximal message");
_Static_assert(MC_BLOB_MAX + 1024 <= MC_NET_MESSAGE_MAX, "a blob fits one peer message");
_Static_assert(MC_BLOB_PIECE + 1024 <= MC_NET_MESSAGE_MAX, "a piece of a streamed blob fits one peer message");
_Static_assert(MC_S3_PART_BYTES >= 5 * 1024 * 1024, "S3 refuses parts under 5 MiB but the last");
_Static_assert(MC_S3_PART_BYTES % MC_BLOB_PIECE == 0 && MC_BLOB_PIECE % MC_STREAM_CHUNK == 0,
               "pieces and parts are whole multiples of each other");
_Static_assert(MC_ATTACHMENT_CT_MAX / MC_S3_PART_BYTES + 1 <= MC_S3_PARTS_MAX,
               "a maximal attachment fits S3's part count");
_Static_assert(MC_ATTACHMENT_CT_MAX <= 0xffffffffu, "an attachment's ciphertext size is a u32 of the anchor");
_Static_assert(MC_ATTACHMENT_MAX > MC_BLOB_MAX, "attachments are what a single blob cannot hold");
_Static_assert(MC_BLOCK_BODY_RESERVE_BYTES + MC_TX_MAX <= MC_BLOCK_BYTES_MAX,
               "a block with its reserve holds a maximal transaction");
_Static_assert(MC_NODE_GOSSIP_BYTES_MAX >= MC_TX_MAX + 4, "the gossip queue holds a transaction");
/* anchor: patient, author, sigbase, signature, two sealed keys, count,
 * entries of str8 id (1 + 64), type, version, ciphertext hash, size */
_Static_assert(32 + 32 + (2 + MC_SIGBASE_MAX) + 64 + 2 * 80 + 2 +
                   MC_RECORDS_BATCH_MAX * ((1 + MC_RECORD_ID_MAX) + 2 + 4 + 32 + 4) <=
                   MC_TX_PAYLOAD_MAX,
               "a maximal record anchor fits a transaction");
/* grant: kind, member, org, categories, expiry, count, keys of str8 id,
 * version, recipient, sealed key */
_Static_assert(1 + 32 + 4 + 1 + 8 + 2 +
                   MC_GRANT_TX_KEYS_MAX * ((1 + MC_RECORD_ID_MAX) + 4 + 32 + 80) <=
                   MC_TX_PAYLOAD_MAX,
               "a maximal grant fits a transaction");
_Static_assert(MC_GS1_VALUE_MAX <= MC_GS1_AI_VALUE_MAX, "lot and serial are AI values");
_Static_assert(MC_GS1_ELEMENT_STRING_MAX < MC_GS1_INPUT_MAX &&
                   MC_GS1_DIGITAL_LINK_MAX < MC_GS1_INPUT_MAX,
               "every canonical form parses back");
/* GTIN-14, three values, four YYMMDD dates: in parentheses form each
 * behind its (AI), in a Digital Link each percent-encoded behind /ai/ or
 * ai= with 64 bytes for separators. */
_Static_assert(4 + 14 + 3 * (4 + MC_GS1_VALUE_MAX) + 4 * (4 + 6) + 1 <= MC_GS1_ELEMENT_STRING_MAX,
               "the element string of maximal values fits its buffer");
_Static_assert(MC_GS1_BASE_MAX + 14 + 3 * 3 * MC_GS1_VALUE_MAX + 4 * 6 + 64 <=
                   MC_GS1_DIGITAL_LINK_MAX,
               "a Digital Link of maximal values fits its buffer");

/* Governance (src/app/governance.h). A proposal's deadline and activation
 * lie at most this many blocks ahead (about a month at one block a second),
 * so nothing waits forever and the pending-activation index stays small. */
#define MC_GOV_HORIZON_MAX 3000000
/* An upgrade plan's name ("v0.3 records index") and required version
 * ("0.3.0", major.minor.patch with up to 9 digits each). */
#define MC_GOV_UPGRADE_NAME_MAX 64
#define MC_GOV_VERSION_MAX 32
/* The reason kept on a proposal that could not take effect. */
#define MC_GOV_NOTE_MAX 200
/* Proposals returned by one GET /v1/gov/proposals (the newest). */
#define MC_GOV_LIST_MAX 100
/* Votes returned by one read of a proposal (one per organisation). */
#define MC_GOV_VOTES_MAX MC_ORGS_MAX
/* Ledger parameters governance may change, within these hard bounds: a
 * transaction of at least 1 KB, a block of at least one maximal
 * transaction, consensus timeouts between 100 ms and 60 s. */
#define MC_GOV_TX_BYTES_MIN 1024
#define MC_GOV_TIMEOUT_MS_MIN 100
#define MC_GOV_TIMEOUT_MS_MAX 60000

_Static_assert(MC_GOV_TX_BYTES_MIN <= MC_TX_MAX, "the smallest transaction bound admits a transaction");
_Static_assert(MC_GOV_UPGRADE_NAME_MAX < MC_NAME_MAX, "an upgrade name is a name");

/* Drug supply chain (src/app/supply.h). A commissioning transaction names at
 * most this many serials (a production run is committed in batches). */
#define MC_SUPPLY_SERIALS_PER_TX_MAX 1000
/* Items (units or containers) named by one ship, receive or aggregate. */
#define MC_SUPPLY_ITEMS_PER_TX_MAX 1000
/* Containers nest (pallet > case > unit); deeper nesting is refused so the
 * recursion over a container is bounded. */
#define MC_SUPPLY_NESTING_MAX 4
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
_Static_assert(MC_MEMPOOL_QUEUED_MAX < MC_MEMPOOL_TXS_MAX, "the gap queue is a small part of the pool");
_Static_assert(MC_MEMPOOL_QUEUED_PER_SENDER_MAX <= MC_MEMPOOL_PER_SENDER_MAX, "per-sender bounds nest");
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
/* Study ids are FHIR ids; purposes are [a-z0-9-] tokens. */
#define MC_STUDY_ID_MAX 64
#define MC_PURPOSE_TOKEN_MAX 64
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

/* ======================================================================
 * api: the HTTP server, the JSON and FHIR routes, and the CLI (src/api,
 * src/cli). Bounds on what clients send and on what the CLI reads.
 * ====================================================================== */

/* Simultaneous HTTP connections; beyond it new connections are refused by
 * the server (the kernel's backlog holds them briefly). */
#define MC_API_CONNECTIONS_MAX 512
/* Longest request path the router looks at. */
#define MC_API_PATH_MAX 512
/* Longest path segment the API accepts (a hex key or id is 64 characters). */
#define MC_API_SEGMENT_MAX 128
/* Longest raw request target kept for handlers (a Digital Link). */
#define MC_API_RAW_URI_MAX 4096
/* Headers of one /v1/blocks answer. */
#define MC_API_BLOCKS_LIMIT_MAX 100
/* Fewest blocks whose transaction bytes a pruning node keeps: a restart
 * re-purges the erasures of the latest 16 blocks (node.c) and a peer a few
 * blocks behind syncs from any node. */
#define MC_NODE_KEEP_BLOCKS_MIN 16
/* Validator sets a light client follows from its trusted genesis (each
 * change of validators is one; a longer history needs a newer trusted
 * starting point), and the transitions one /v1/state/valsets answer lists. */
#define MC_LIGHT_VALSETS_MAX 64
/* A validator set's canonical bytes at most (chain/valset.h: u16 count, each
 * pubkey, u64 power, str8 name). */
#define MC_VALSET_BYTES_MAX (2 + MC_VALIDATORS_MAX * (32 + 8 + 1 + MC_NAME_MAX))
/* State rows one GET /v1/state/patient answer proves per list (grants,
 * consents): each costs a proof of up to 256 hashes under the node lock. */
#define MC_API_STATE_ROWS_MAX 256
/* FHIR search parameters (src/api/fhir_search.h): values of one token
 * list (code=a,b,c), date or _lastUpdated parameters of one search (two
 * bound a range), _sort keys, bytes of one value (a system|code or a
 * reference), bytes of the applied parameters the links repeat (within a
 * URI a client can send, MC_API_RAW_URI_MAX), and the page size (_count). */
#define MC_FHIR_SEARCH_VALUES_MAX 16
#define MC_FHIR_SEARCH_DATES_MAX 4
#define MC_FHIR_SEARCH_SORT_MAX 4
#define MC_FHIR_SEARCH_VALUE_MAX 200
#define MC_FHIR_SEARCH_LINK_MAX 2048
#define MC_FHIR_SEARCH_COUNT_DEFAULT 100
#define MC_FHIR_SEARCH_COUNT_MAX 1000
/* A conditional reference of a transaction Bundle (src/api/
 * fhir_conditional.h): its parameters and the bytes of one value. */
#define MC_FHIR_COND_PARAMS_MAX 4
#define MC_FHIR_COND_VALUE_MAX 256
/* Records one FHIR search or /v1/records list looks at. */
#define MC_API_RECORDS_SEARCH_MAX 1024
/* Ciphertext bytes one listing page serves (GET /v1/records?content=1); the
 * rest follows with after=<last id>, each page one access entry. */
#define MC_API_LISTING_BYTES_MAX (8u * 1024 * 1024)
/* GS1 Lightweight Messaging verification request: context and
 * correlation id strings. */
#define MC_API_VRS_CONTEXT_MAX 64
#define MC_API_VRS_CORR_MAX 128
/* Largest single FHIR resource accepted (a Synthea resource is < 20 kB;
 * a DocumentReference with an inline attachment may be large); a whole
 * transaction Bundle is bounded by MC_HTTP_BODY_MAX. */
#define MC_FHIR_RESOURCE_MAX (1024 * 1024)

/* RFC 9421 signatures (api/httpsig.h): covered components, their names,
 * signature parameters and their values. */
#define MC_HTTPSIG_COMPONENTS_MAX 16
#define MC_HTTPSIG_NAME_MAX 64
#define MC_HTTPSIG_PARAMS_MAX 8
#define MC_HTTPSIG_VALUE_MAX 256
/* Longest Signature-Input / Signature header the parser accepts. */
#define MC_HTTPSIG_HEADER_MAX 2048
/* A nonce of 8 to 128 characters (the replay cache keys on it). */
#define MC_HTTPSIG_NONCE_MIN 8
#define MC_HTTPSIG_NONCE_MAX 128

/* Pack labels (api/label.h). Pixels per module: 1..32. At 32 the largest
 * symbol (version 40, 177 modules) is 5920 px square, about 4.4 MB raw;
 * more serves no printer. */
#define MC_LABEL_MODULE_PX_MAX 32
/* Longest text encoded: a canonical Digital Link is at most
 * MC_GS1_DIGITAL_LINK_MAX (576) bytes; this leaves room for longer URIs
 * and stays well inside version 40-M (2331 bytes). */
#define MC_LABEL_TEXT_MAX 1024

/* The web application served from disk (api/static.h): files, one file,
 * all files, folder depth, path length. */
#define MC_STATIC_FILES_MAX 512
#define MC_STATIC_FILE_MAX (4u * 1024 * 1024)
#define MC_STATIC_TOTAL_MAX (24u * 1024 * 1024)
#define MC_STATIC_DEPTH_MAX 4
#define MC_STATIC_PATH_MAX 160

/* The CLI's HTTP client: an answer body and a node URL. */
#define MC_CLIENT_BODY_MAX (16u * 1024 * 1024)
#define MC_CLIENT_URL_MAX 512
/* Passphrase files hold one line; anything longer is a mistake. */
#define MC_CLI_PASSPHRASE_MAX 1024
/* A resource file or Bundle the CLI sends (the node's bound is lower). */
#define MC_CLI_RECORD_FILE_MAX (8u * 1024 * 1024)
/* tx build/submit read files this large, so tests can send oversized
 * transactions and see the node refuse them. */
#define MC_CLI_TX_FILE_MAX (2 * MC_HTTP_BODY_MAX + 64)
/* Recipients (member keys and organisation nodes) of one grant. */
#define MC_CLI_GRANT_RECIPIENTS_MAX 16
/* medchain load: nodes, transactions and heights of one run. */
#define MC_CLI_LOAD_NODES_MAX 16
#define MC_CLI_LOAD_TXS_MAX 100000
#define MC_CLI_LOAD_HEIGHTS_MAX 200000

_Static_assert(MC_FHIR_SEARCH_COUNT_DEFAULT <= MC_FHIR_SEARCH_COUNT_MAX &&
                   MC_FHIR_SEARCH_COUNT_MAX <= MC_API_RECORDS_SEARCH_MAX,
               "a page holds at most what one search looks at");
_Static_assert(MC_FHIR_SEARCH_LINK_MAX <= MC_API_RAW_URI_MAX, "the links repeat what a request carried");
_Static_assert(MC_FHIR_SEARCH_VALUE_MAX < MC_FHIR_SEARCH_LINK_MAX, "one value fits the applied parameters");
_Static_assert(MC_FHIR_RESOURCE_MAX <= MC_HTTP_BODY_MAX,
               "a single resource fits the body of a request");
_Static_assert(MC_API_SEGMENT_MAX >= 64 && MC_API_SEGMENT_MAX <= MC_API_PATH_MAX,
               "a segment holds a 64-hex key or id and fits a path");
_Static_assert(MC_API_RAW_URI_MAX >= MC_API_PATH_MAX, "a raw target holds any routed path");
_Static_assert(MC_HTTPSIG_NONCE_MIN <= MC_HTTPSIG_NONCE_MAX &&
                   MC_HTTPSIG_NONCE_MAX <= MC_HTTPSIG_VALUE_MAX,
               "a nonce fits a parameter value");
_Static_assert(MC_HTTPSIG_VALUE_MAX <= MC_HTTPSIG_HEADER_MAX, "a value fits its header");
_Static_assert(MC_LABEL_TEXT_MAX >= 576 && MC_LABEL_TEXT_MAX <= 2331,
               "a canonical Digital Link fits, and so does a version 40-M symbol's capacity");
_Static_assert((177 + 2 * 4) * MC_LABEL_MODULE_PX_MAX <= 5920,
               "the largest label is at most 5920 px square");
_Static_assert(MC_STATIC_FILE_MAX <= MC_STATIC_TOTAL_MAX, "one file fits the total");
_Static_assert(MC_CLI_RECORD_FILE_MAX > MC_HTTP_BODY_MAX,
               "the CLI reads more than the node accepts, so the node's refusal shows");
_Static_assert(MC_CLI_TX_FILE_MAX > MC_HTTP_TX_BODY_MAX,
               "tx files may exceed what the node accepts, so tests see it refuse");
_Static_assert(MC_CLIENT_BODY_MAX >= MC_HTTP_BODY_MAX, "the CLI reads any answer a node sends");

/* Requests refused without a known signer (api/gate.c): at most one
 * summary ledger entry per this interval, and a token bucket per client
 * address (burst, refill per second) in a table of this many buckets. */
#define MC_API_UNAUTH_SUMMARY_MS 10000
#define MC_API_UNAUTH_BURST 100
#define MC_API_UNAUTH_PER_S 20
#define MC_API_UNAUTH_BUCKETS 4096
/* Subjects (patients, studies) with a pending refusal summary at once;
 * beyond, refusals join the summary of nobody. */
#define MC_API_UNAUTH_SUBJECTS 64

/* The replay cache of signed requests (api/httpsig.c): regions of slots,
 * a key's entries all in one region, and at most so many live entries per
 * key (within twice the signature window): a busy integration signs a
 * request every half second for ten minutes. */
#define MC_HTTPSIG_REPLAY_REGIONS 64
#define MC_HTTPSIG_REPLAY_REGION_SLOTS 4096
#define MC_HTTPSIG_REPLAY_PER_KEY 1024
_Static_assert(MC_HTTPSIG_REPLAY_PER_KEY * 4 <= MC_HTTPSIG_REPLAY_REGION_SLOTS,
               "one key fills at most a quarter of its region");

/* Invitations (api/routes_invite.c, kept in the node's database): open ones
 * on one node, per inviter, and how long one stays valid. */
#define MC_INVITES_MAX 1024
#define MC_INVITES_PER_MEMBER 32
#define MC_INVITE_TTL_MS (24ull * 3600 * 1000)
_Static_assert(MC_INVITES_PER_MEMBER <= MC_INVITES_MAX, "one inviter fits the node's table");

/* An organisation's own record numbers (api/routes_mrn.c, node-local): at
 * most this many characters (letters, digits, '-', '.'), and at most
 * MC_MRN_LOOKUPS_PER_MIN lookups per member per minute (a table of
 * MC_MRN_RATE_SLOTS members): a clinician finds a patient, nobody walks
 * the index. */
#define MC_MRN_MAX 32
#define MC_MRN_LOOKUPS_PER_MIN 60
#define MC_MRN_RATE_SLOTS 1024
_Static_assert(MC_MRN_MAX < MC_NAME_MAX, "a record number is shorter than a name");


/* Snapshots of the state (chain/snapshot.h, node/snapshot.c, node/statesync.c).
 * A chunk holds whole state rows and at most MC_SNAPSHOT_CHUNK_MAX bytes (a
 * peer sends it in one message, the receiver hashes it before it decodes
 * it); a manifest names at most MC_SNAPSHOT_CHUNKS_MAX chunks (16 GiB of
 * state); a node keeps at most MC_SNAPSHOT_KEEP_MAX snapshots on disk and
 * lists them all in one answer. MC_SNAPSHOT_ROWS_MAX bounds the rows a
 * restoring node holds in memory to check them against the root. */
#define MC_SNAPSHOT_CHUNK_MAX (1024 * 1024)
#define MC_SNAPSHOT_CHUNKS_MAX 16384
#define MC_SNAPSHOT_KEEP_MAX 4
#define MC_SNAPSHOT_ROWS_MAX (64ull * 1024 * 1024)
#define MC_SNAPSHOT_MANIFEST_MAX (4 + 1 + 8 + 32 + 32 + 8 + 4 + MC_SNAPSHOT_CHUNKS_MAX * 32)
_Static_assert(4 + 2 + MC_STATE_KEY_MAX + 4 + MC_STATE_VALUE_MAX <= MC_SNAPSHOT_CHUNK_MAX,
               "a maximal state row fits one snapshot chunk");
_Static_assert(MC_SNAPSHOT_CHUNK_MAX + 64 <= MC_NET_MESSAGE_MAX, "a snapshot chunk fits one peer message");
_Static_assert(1 + 1 + MC_SNAPSHOT_KEEP_MAX * (4 + MC_SNAPSHOT_MANIFEST_MAX) <= MC_NET_MESSAGE_MAX,
               "the list of a node's snapshots fits one peer message");
/* Validator set changes one VALSETS answer carries: those a light client follows. */
#define MC_SNAPSHOT_VALSETS_MAX MC_LIGHT_VALSETS_MAX

/* SMART Backend Services (app/smart.h, api/smart_tokens.c, docs/SMART.md).
 *   MC_SMART_CLIENT_ID_MAX   a client id: letters, digits, '-', '.', '_';
 *   MC_SMART_CLIENT_NAME_MAX a client's display name;
 *   MC_SMART_ASSERTION_MAX   a client assertion (compact JWS): a signed
 *                            EdDSA JWT of the five claims is ~400 bytes;
 *   MC_SMART_JTI_MAX         an assertion's jti (a UUID is 36);
 *   MC_SMART_SCOPE_MAX       a scope string, asked or granted;
 *   MC_SMART_SCOPES_MAX      scopes in one token;
 *   MC_SMART_FORM_MAX        the token request body (form-encoded: the
 *                            assertion, the scope and the fixed fields);
 *   MC_SMART_ASSERTION_TTL_S an assertion's exp is at most this far ahead
 *                            of the node's clock (SMART: five minutes);
 *   MC_SMART_TOKEN_TTL_MS    a token's lifetime;
 *   MC_SMART_LEDGER_SLACK_MS how much later than the assertion's exp (the
 *                            token's issue) or the token's expiry (a read)
 *                            a block may carry the entry: block times lag
 *                            the node's clock by a block or two;
 *   MC_SMART_TOKENS_MAX      live tokens one node holds (a full table
 *                            refuses new tokens: 503), per client too;
 *   MC_SMART_JTI_SLOTS       the node's replay store of assertion ids, kept
 *                            for the assertion lifetime (a full store
 *                            refuses: 503, never "let through"); the ledger
 *                            also refuses a jti used before, chain-wide. */
#define MC_SMART_CLIENT_ID_MAX 64
#define MC_SMART_CLIENT_NAME_MAX 128
#define MC_SMART_ASSERTION_MAX 2048
#define MC_SMART_JTI_MAX 128
#define MC_SMART_SCOPE_MAX 512
#define MC_SMART_SCOPES_MAX 32
#define MC_SMART_FORM_MAX (3 * MC_SMART_ASSERTION_MAX + 3 * MC_SMART_SCOPE_MAX + 512)
#define MC_SMART_ASSERTION_TTL_S 300
#define MC_SMART_TOKEN_TTL_MS (300ull * 1000)
#define MC_SMART_LEDGER_SLACK_MS (120ull * 1000)
#define MC_SMART_TOKENS_MAX 4096
#define MC_SMART_TOKENS_PER_CLIENT 64
#define MC_SMART_JTI_SLOTS 16384
_Static_assert(MC_SMART_TOKENS_PER_CLIENT * 16 <= MC_SMART_TOKENS_MAX,
               "one client fills at most a sixteenth of the token table");
_Static_assert(2 + MC_SMART_CLIENT_ID_MAX + 2 + MC_SMART_ASSERTION_MAX + 2 + MC_SMART_SCOPE_MAX + 8 <=
                   MC_TX_PAYLOAD_MAX,
               "a token entry fits a transaction");
/* The text an access entry by bearer token carries instead of a request
 * signature base (app/smart.h) fits the base's bound. */
_Static_assert(22 + 9 + MC_SMART_CLIENT_ID_MAX + 6 + MC_SMART_JTI_MAX + 11 + 64 + 19 + 64 + 4 <=
                   MC_SIGBASE_MAX,
               "a bearer access base fits an access entry");

/* Bulk Data export (api/bulk.c, docs/SMART.md): jobs at once on one node
 * and per client, output bytes of one job (every file), and the default
 * time an output stays before it is deleted (config.json
 * "bulk_output_ttl_s", at most MC_BULK_TTL_S_MAX). */
#define MC_BULK_JOBS_MAX 16
#define MC_BULK_JOBS_PER_CLIENT 2
#define MC_BULK_OUTPUT_MAX (256ull * 1024 * 1024)
#define MC_BULK_TTL_S_DEFAULT 3600
#define MC_BULK_TTL_S_MAX (7 * 24 * 3600)
#define MC_BULK_TYPES_ARG_MAX 512
/* Patients one export walks (a node's whole population at most). */
#define MC_BULK_PATIENTS_MAX 1000000
_Static_assert(MC_BULK_JOBS_PER_CLIENT <= MC_BULK_JOBS_MAX, "one client fits the job table");

#endif
