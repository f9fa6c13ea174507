/* Helpers of the SMART tests: client registration on the records fixture,
 * client assertions (compact JWS, EdDSA) made with libsodium, the token
 * request and bearer reads. */
#ifndef MC_TESTS_SMART_UTIL_H
#define MC_TESTS_SMART_UTIL_H

#include "../records/records_env.h"

/* Registers client id with key pk, signed by owner (nonce: the owner's). */
void su_register(struct env *e, const struct mc_keypair *owner, uint64_t *nonce, const char *id, const mc_pubkey *pk);
/* Submits a smart_client_revoke; asserts admission. */
void su_revoke(struct env *e, const struct mc_keypair *by, uint64_t *nonce, const char *id);
/* An ES384 (P-384) client key made with libcrypto: pub gets the
 * uncompressed point (97 bytes), d (when not NULL) the private scalar (48
 * bytes). Free with su_es384_free. */
void *su_es384_keygen(uint8_t pub[97], uint8_t d[48]);
void su_es384_free(void *key);
/* A compact JWS (malloc'd) signed with ES384 (R || S) by key. */
char *su_jws_es384(void *key, const char *header, const char *claims);
/* su_register with an algorithm and key of any length. */
void su_register_alg(struct env *e, const struct mc_keypair *owner, uint64_t *nonce, const char *id, uint8_t alg,
                     const uint8_t *key, size_t key_len);
/* A compact JWS (malloc'd) of header and claims (JSON text) signed by kp. */
char *su_jws(const struct mc_keypair *kp, const char *header, const char *claims);
/* A client assertion: iss = sub = client, aud, exp = now + exp_in_s, jti. */
char *su_assertion(const struct mc_keypair *kp, struct env *e, const char *client, int64_t exp_in_s,
                   const char *jti);
/* The token endpoint URL of the env. */
void su_token_url(struct env *e, char *out, size_t cap);
/* POST /auth/token with the assertion and scope. */
struct rq su_token(struct env *e, const char *assertion, const char *scope);
/* GET path with Authorization: Bearer token. */
struct rq su_bearer(struct env *e, const char *token, const char *path);
/* GET /v1/tx/{hex}: the transaction view (asserts 200). */
struct rq su_tx(struct env *e, const char *hex);

#endif
