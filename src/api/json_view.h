/* JSON views of ledger objects and the small pure helpers of the HTTP API.
 *
 * JSON is only a view: the canonical bytes stay the truth, and every view
 * here is computed from decoded canonical objects. Nothing in this file
 * touches the node, the store or the network, so all of it is unit-tested
 * without starting anything (tests/api/test_api_json.c).
 *
 * Conventions of every view:
 *   - hashes, keys and signatures are lower-case hex strings;
 *   - integers are JSON numbers; a u64 above INT64_MAX (never reached by a
 *     height, time or sequential nonce, but possible in a hostile
 *     transaction's nonce) is a decimal string instead, so no value is ever
 *     silently truncated;
 *   - keys appear in a fixed, documented order.
 *
 * Memory: every function returning json_t * returns a new reference (the
 * caller json_decref()s it) or NULL when out of memory. Any thread may call
 * any function here. */
#ifndef MC_API_JSON_VIEW_H
#define MC_API_JSON_VIEW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "app/identity.h"
#include "base/err.h"
#include "chain/block.h"
#include "chain/commit.h"
#include "chain/valset.h"
#include "crypto/hash.h"
#include "crypto/sign.h"


/* --- parsing of client input (path segments, query values) --- */

/* Exactly 64 hex digits (either case) into a hash. MC_ERR_MALFORMED
 * otherwise (also for NULL). */
MC_MUST_CHECK int mc_api_parse_hash(mc_hash *out, const char *hex);
/* Exactly 64 hex digits into a public key. MC_ERR_MALFORMED otherwise. */
MC_MUST_CHECK int mc_api_parse_pubkey(mc_pubkey *out, const char *hex);
/* A decimal u64: 1 to 20 ASCII digits, no sign, no spaces, no leading zero
 * unless the value is 0, no overflow. MC_ERR_MALFORMED otherwise. */
MC_MUST_CHECK int mc_api_parse_u64(uint64_t *out, const char *text);

/* --- errors --- */

/* HTTP status for an mc_err code: 400 malformed/invalid/wrong_chain,
 * 413 too_large, 401 bad_signature/unknown_account, 403 forbidden/revoked,
 * 404 not_found, 409 exists/bad_nonce/state, 503 full/nomem, 500 for
 * internal failures (db, io, tampered, ...) and any unknown code. */
unsigned mc_api_http_status(int err);
/* {"error": mc_err_name(err), "message": "<Detail>."}: the detail as a
 * sentence (capitalised, ending with a full stop), or mc_strerror(err)
 * when detail is NULL or empty. */
json_t *mc_api_json_error(int err, const char *detail);

/* --- scalar helpers --- */

json_t *mc_api_json_u64(uint64_t v);
/* A string that may come from a hostile source: bytes that are not valid
 * UTF-8 are shown as '?'; NULL gives json null. */
json_t *mc_api_json_text(const char *s);
json_t *mc_api_json_hex(const void *p, size_t len);
json_t *mc_api_json_hash(const mc_hash *h);
json_t *mc_api_json_pubkey(const mc_pubkey *pk);
/* ["<hex>", ...] of n hashes. */
json_t *mc_api_json_hash_array(const mc_hash *hashes, size_t n);

/* --- ledger objects --- */

/* {"chain_id","height","time_ms","prev","tx_root","tx_count","log_size",
 *  "log_root","state_hash","valset_hash","proposer","last_commit_hash"} */
json_t *mc_api_json_header(const struct mc_header *h);
/* {"height","round","block_hash","signatures":[{"validator","signature"
 *  [,"node_key","name"]}]}; names and keys are added when vs is given and
 * the index is in range. */
json_t *mc_api_json_commit(const struct mc_commit *c, const struct mc_valset *vs);
/* Decoded payload of a known transaction type:
 *   enroll_member    {"member","role","role_code","name"}
 *   revoke_member    {"member","reason"}
 *   register_patient {"patient","patient_signature"}
 *   rotate_key       {"new_key","proof_signature"}
 * json null for other types or a payload that does not decode. */
json_t *mc_api_json_tx_payload(uint16_t type, const uint8_t *payload, size_t len);
/* {"chain_id","type","type_code","sender","nonce","payload_hex","payload",
 *  "signature"} from the canonical encoding. "type" is null for an unknown
 * type. Sets *err (when err is not NULL) and returns NULL when the bytes do
 * not decode (MC_ERR_MALFORMED, MC_ERR_TOO_LARGE) or on MC_ERR_NOMEM. */
json_t *mc_api_json_tx(const uint8_t *bytes, size_t len, int *err);
/* {"key","role","status","org","org_name","nonce","name","since_height"
 *  [,"successor"]}; org_name is null when org is NULL (patients); successor
 * appears only when the account was rotated (non-zero successor). */
json_t *mc_api_json_account(const struct mc_account *a, const struct mc_org *org);
/* {"id","name","kind","gln","admin_key"}; gln is null when empty. */
json_t *mc_api_json_org(const struct mc_org *o);

/* The payload view of the supply, product, records and research types
 * (json_tx_payload.c); JSON null for a payload that does not decode. */
json_t *mc__api_json_domain_payload(uint16_t type, const uint8_t *payload, size_t len);

#endif
