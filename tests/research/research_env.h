/* Helpers of the research tests, over the records fixture (an in-process
 * node with its API on loopback and a signing HTTP client). */
#ifndef MC_TESTS_RESEARCH_ENV_H
#define MC_TESTS_RESEARCH_ENV_H

#include "../records/records_env.h"
#include "app/research.h"

/* Builds, signs and submits a research transaction; returns the node's
 * answer (0 admitted) without asserting. The nonce advances only when
 * admitted. */
int rs_tx(struct env *e, const struct mc_keypair *kp, uint64_t *nonce,
          const struct mc_research_payload *p, mc_hash *id);
/* Same, asserting admission. */
mc_hash rs_tx_ok(struct env *e, const struct mc_keypair *kp, uint64_t *nonce,
                 const struct mc_research_payload *p);
/* A study registration payload with the given outcomes ("P:text" primary,
 * "S:text" secondary, NULL-terminated) and researchers (NULL-terminated). */
struct mc_research_payload *rs_study(const char *id, const char *purpose, uint8_t cats, uint16_t k,
                                     const char *const *outcomes, const mc_pubkey *const *researchers);
/* A consent payload. */
struct mc_research_payload rs_consent(uint8_t scope, const char *target, uint32_t version,
                                      uint8_t action, uint8_t cats, uint64_t expiry_ms);
/* Registers a new patient (signed by e->doc; *doc_nonce advances). */
struct mc_keypair rs_patient(struct env *e, uint64_t *doc_nonce);
/* Enrolls a member of the genesis organisation. */
struct mc_keypair rs_member(struct env *e, uint8_t role, const char *name);
/* The latest block time. */
uint64_t rs_now_ms(struct env *e);

#endif
