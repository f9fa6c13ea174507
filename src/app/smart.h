/* SMART Backend Services on the ledger: system clients registered by
 * members, the tokens a node issues to them, and the check of an access
 * entry made with such a token (docs/SMART.md).
 *
 * Transactions (payload codec: app/smart_payload.h):
 *
 *   smart_client (60, signed by an active member of an organisation)
 *     | str8 client id | u8 alg | bytes8 public key | str8 name |
 *     alg 1 EdDSA: an Ed25519 key (32 bytes); alg 2 ES384: a P-384 point,
 *     uncompressed (0x04 || X || Y, 97 bytes).
 *     registers a system client acting for its sender (the owner). The
 *     client id is new on the chain ([A-Za-z0-9._-]{1,64}).
 *   smart_client_revoke (61, signed by the owner or an admin of the
 *     owner's organisation)
 *     | str8 client id |
 *     the client's tokens and assertions are refused from the next block.
 *   smart_token (62, node-signed)
 *     | str8 client id | str16 client assertion (compact JWS) |
 *     | str16 granted scope | u64 token expiry ms |
 *     the node issued a token to the client: the assertion is the client's
 *     own signed JWT (iss = sub = client id, a jti, exp), re-verified here
 *     under the registered key; its jti is used once chain-wide; the
 *     granted scopes are system read scopes the owner's role allows
 *     (mc_smart_role_allows); the block time is at most
 *     MC_SMART_LEDGER_SLACK_MS after the assertion's exp, and the token's
 *     expiry at most MC_SMART_TOKEN_TTL_MS after it.
 *
 * State keys and rows:
 *   "kc/" client id       | pubkey owner | u8 alg | bytes8 key | str8 name |
 *                         | u64 height | u64 revoked_height (0 active) |
 *   "kt/" token tx id     | str8 client id | pubkey owner | str8 jti |
 *                         | str16 scope | u64 expiry ms | hash32 SHA-256 of the assertion |
 *                         | u64 height |
 *   "kj/" SHA-256(str8 client id || str8 jti)   | u64 height |: used once
 *
 * An access entry (records.h, record_access) served through a token
 * carries, instead of an RFC 9421 signature base and signature, the bearer
 * text of mc_smart_bearer_format (no signature): the ledger checks it names
 * a token row of the requester, with its jti and assertion hash, of an
 * active client, and that the block time is within MC_SMART_LEDGER_SLACK_MS
 * of the token's expiry. The assertion itself is in the smart_token
 * transaction the text names. */
#ifndef MC_APP_SMART_H
#define MC_APP_SMART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "app/state.h"
#include "base/err.h"
#include "base/limits.h"
#include "crypto/hash.h"
#include "crypto/sign.h"

enum mc_smart_alg { MC_SMART_ALG_EDDSA = 1, MC_SMART_ALG_ES384 = 2 };

/* The key bytes of each algorithm (a fact of its format): 32, 97; the
 * largest. 0 for an unknown algorithm. */
#define MC_SMART_KEY_MAX 97
size_t mc_smart_alg_key_len(uint8_t alg);
/* Whether key (len bytes) is a valid public key of alg. */
bool mc_smart_key_valid(uint8_t alg, const uint8_t *key, size_t len);

/* "EdDSA", "ES384", else NULL. */
const char *mc_smart_alg_name(uint8_t alg);

/* A client id: 1..MC_SMART_CLIENT_ID_MAX of [A-Za-z0-9._-]. */
bool mc_smart_client_id_valid(const char *id);

struct mc_smart_client {
    char id[MC_SMART_CLIENT_ID_MAX + 1];
    mc_pubkey owner;
    uint8_t alg;
    uint8_t key[MC_SMART_KEY_MAX]; /* mc_smart_alg_key_len(alg) bytes */
    size_t key_len;
    char name[MC_SMART_CLIENT_NAME_MAX + 1];
    uint64_t height, revoked_height;
};

/* The client row; MC_ERR_NOT_FOUND when absent. */
MC_MUST_CHECK int mc_smart_get_client(struct mc_state *st, const char *id, struct mc_smart_client *out);

struct mc_smart_token {
    mc_hash tx;
    char client[MC_SMART_CLIENT_ID_MAX + 1];
    mc_pubkey owner;
    char jti[MC_SMART_JTI_MAX + 1];
    char scope[MC_SMART_SCOPE_MAX + 1];
    uint64_t expiry_ms;
    mc_hash assertion;
    uint64_t height;
};

/* The token row of the smart_token transaction tx; MC_ERR_NOT_FOUND. */
MC_MUST_CHECK int mc_smart_get_token(struct mc_state *st, const mc_hash *tx, struct mc_smart_token *out);

/* ---- client assertions (RFC 7523 JWT, compact JWS) ---- */

struct mc_smart_assertion {
    char alg[16];
    char iss[MC_SMART_CLIENT_ID_MAX + 1], sub[MC_SMART_CLIENT_ID_MAX + 1];
    char aud[512];                      /* the first audience when a list */
    char jti[MC_SMART_JTI_MAX + 1];
    int64_t exp;                        /* seconds since the epoch */
    size_t signing_len;                 /* header.payload: the first bytes */
    uint8_t sig[96];                    /* Ed25519 64, ES384 R || S 96 */
    size_t sig_len;
};

/* Takes a compact JWS apart: header alg, the claims iss, sub, aud (a string
 * or a list of strings: the first is kept and *aud_count says how many),
 * jti, exp (an integer). Strict: base64url without padding, JSON objects
 * without duplicate keys, each claim of its type and bound. No signature is
 * checked. MC_ERR_MALFORMED with a detail sentence. Pure. */
MC_MUST_CHECK int mc_smart_assertion_parse(struct mc_smart_assertion *out, const char *jws, size_t n,
                                           size_t *aud_count);
/* Verifies the parsed assertion's signature over the first signing_len
 * bytes of jws under the client's key (alg must be the client's).
 * MC_ERR_BAD_SIGNATURE. */
MC_MUST_CHECK int mc_smart_assertion_verify(const struct mc_smart_assertion *a, const char *jws,
                                            const struct mc_smart_client *c);

/* ---- scopes ---- */

/* Whether a member of this role may hold a system read scope for the FHIR
 * type named (clinicians: the record types; auditors: AuditEvent and
 * Consent; nobody else). type "*" asks whether the role may hold any. */
bool mc_smart_role_allows(uint8_t role, const char *type);

/* One system scope: type (or "*") and its permissions (bits). */
enum { MC_SMART_PERM_READ = 1, MC_SMART_PERM_SEARCH = 2 };
struct mc_smart_scope {
    char type[40];
    uint8_t perms;
};

/* Parses a space-separated scope string into scopes (at most max):
 * "system/<Type|*>.<perms>" with SMART v2 permissions (c r u d s, in that
 * order; only r and s are kept) or v1 ".read" (r and s) and ".*"; a scope
 * of another context (patient/, user/, launch, openid ...) or with no read
 * permission left is dropped and counted in *dropped. MC_ERR_MALFORMED for
 * a scope that does not parse, MC_ERR_TOO_LARGE past the bounds. */
MC_MUST_CHECK int mc_smart_scopes_parse(const char *s, struct mc_smart_scope *out, size_t max, size_t *n,
                                        size_t *dropped);
/* The canonical text of scopes (for example "system/Observation.rs"), at
 * most MC_SMART_SCOPE_MAX characters (out holds MC_SMART_SCOPE_MAX + 1). */
void mc_smart_scopes_format(const struct mc_smart_scope *s, size_t n, char *out);

/* ---- access entries through a token ---- */

/* Whether an access entry's carried base is bearer text. */
bool mc_smart_bearer_is(const uint8_t *base, size_t n);
/* Writes the bearer text of a read through the token: out holds
 * MC_SIGBASE_MAX bytes; returns its length. */
size_t mc_smart_bearer_format(char *out, const char *client, const char *jti, const mc_hash *token_tx,
                              const mc_hash *assertion);
/* Parses bearer text (exactly as formatted). MC_ERR_MALFORMED. */
MC_MUST_CHECK int mc_smart_bearer_parse(const uint8_t *base, size_t n, char client[MC_SMART_CLIENT_ID_MAX + 1],
                                        char jti[MC_SMART_JTI_MAX + 1], mc_hash *token_tx, mc_hash *assertion);
/* The ledger's check of a successful access entry carrying bearer text
 * (see top): 0, or MC_ERR_BAD_SIGNATURE / MC_ERR_FORBIDDEN / MC_ERR_STATE
 * with a detail. */
MC_MUST_CHECK int mc_smart_bearer_check(struct mc_state *st, const uint8_t *base, size_t n,
                                        const mc_pubkey *requester, uint64_t time_ms);

/* Executes smart_client, smart_client_revoke and smart_token (app.c). */
MC_MUST_CHECK int mc_smart_execute(struct mc_exec *ex);

#endif
