/* Private to src/api: what the node holds of SMART Backend Services in
 * memory (docs/SMART.md): the tokens it issued, and the assertion ids it
 * has seen (the replay store). Both bounded (base/limits.h), thread-safe,
 * with times from the wall clock. A token is opaque: 32 random bytes in
 * base64url; the node keeps only its SHA-256. Tokens do not survive a
 * restart (the client asks for a new one). */
#ifndef MC_API_SMART_TOKENS_H
#define MC_API_SMART_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/smart.h"
#include "base/err.h"
#include "crypto/hash.h"

struct mc_node;

struct mc__smart_token {
    const struct mc_node *node;           /* the node that issued it */
    mc_hash token_hash;                   /* SHA-256 of the token text */
    char client[MC_SMART_CLIENT_ID_MAX + 1];
    mc_pubkey owner;
    char jti[MC_SMART_JTI_MAX + 1];
    struct mc_smart_scope scopes[MC_SMART_SCOPES_MAX];
    size_t nscopes;
    int64_t expiry_ms;                    /* wall clock */
    mc_hash tx;                           /* its smart_token transaction */
    mc_hash assertion;                    /* SHA-256 of the assertion */
};

/* Records the assertion (client, jti) as seen until exp_s (seconds).
 * MC_ERR_EXISTS when seen before and not yet past its exp; MC_ERR_FULL
 * when the store is full of live entries. */
MC_MUST_CHECK int mc__smart_jti_use(const char *client, const char *jti, int64_t exp_s, int64_t now_s);

/* Stores a token (its token_hash set by the caller). MC_ERR_FULL when the
 * table, or the client's share of it, is full of live tokens. */
MC_MUST_CHECK int mc__smart_token_put(const struct mc__smart_token *t, int64_t now_ms);
/* Finds a live token of this node by its text. MC_ERR_NOT_FOUND (unknown
 * or expired: an expired token is dropped). */
MC_MUST_CHECK int mc__smart_token_find(const struct mc_node *node, const char *token, int64_t now_ms,
                                       struct mc__smart_token *out);
/* Drops every token of node (a node stopping); seen jtis stay until their exp. */
void mc__smart_forget_node(const struct mc_node *node);

/* Whether the token's scopes cover the FHIR type (perm: MC_SMART_PERM_*). */
bool mc__smart_token_covers(const struct mc__smart_token *t, const char *type, uint8_t perm);

#endif
