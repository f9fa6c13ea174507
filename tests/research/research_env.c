/* Research test helpers (see research_env.h). */
#include "research_env.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "app/identity.h"

int rs_tx(struct env *e, const struct mc_keypair *kp, uint64_t *nonce,
          const struct mc_research_payload *p, mc_hash *id) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_research_encode(&b, p);
    cr_assert_eq(b.err, 0);
    size_t len;
    uint8_t *tx = tu_tx(&len, e->t.chain_id, p->type, kp, *nonce + 1, b.data, b.len);
    mc_hash tmp;
    int rc = mc_node_submit(e->t.node, tx, len, id ? id : &tmp);
    if (rc == 0) ++*nonce;
    free(tx);
    mc_buf_deinit(&b);
    return rc;
}

mc_hash rs_tx_ok(struct env *e, const struct mc_keypair *kp, uint64_t *nonce,
                 const struct mc_research_payload *p) {
    mc_hash id;
    int rc = rs_tx(e, kp, nonce, p, &id);
    cr_assert_eq(rc, 0, "%s refused: %s (%s)", mc_txtypes_name(p->type), mc_err_name(rc), mc_err_detail());
    return id;
}

struct mc_research_payload *rs_study(const char *id, const char *purpose, uint8_t cats, uint16_t k,
                                     const char *const *outcomes, const mc_pubkey *const *researchers) {
    struct mc_research_payload *p = tu_keep(calloc(1, sizeof *p));
    p->type = MC_TX_STUDY_REGISTER;
    snprintf(p->study, sizeof p->study, "%s", id);
    snprintf(p->title, sizeof p->title, "Study %s", id);
    snprintf(p->sponsor, sizeof p->sponsor, "Acme Pharma");
    snprintf(p->registry_id, sizeof p->registry_id, "NCT0%s", id);
    mc_sha256(&p->hash, id, strlen(id));
    snprintf(p->purpose, sizeof p->purpose, "%s", purpose ? purpose : "");
    p->categories = cats;
    p->k = k;
    for (size_t i = 0; outcomes && outcomes[i]; i++) {
        p->outcomes[i].kind = outcomes[i][0] == 'P' ? MC_OUTCOME_PRIMARY : MC_OUTCOME_SECONDARY;
        snprintf(p->outcomes[i].text, sizeof p->outcomes[i].text, "%s", outcomes[i] + 2);
        p->outcome_count++;
    }
    for (size_t i = 0; researchers && researchers[i]; i++) p->researchers[p->researcher_count++] = *researchers[i];
    return p;
}

struct mc_research_payload rs_consent(uint8_t scope, const char *target, uint32_t version,
                                      uint8_t action, uint8_t cats, uint64_t expiry_ms) {
    struct mc_research_payload p;
    memset(&p, 0, sizeof p);
    p.type = MC_TX_RESEARCH_CONSENT;
    p.scope = scope;
    snprintf(p.study, sizeof p.study, "%s", target);
    p.version = version;
    p.action = action;
    p.categories = cats;
    p.expiry_ms = expiry_ms;
    return p;
}

struct mc_keypair rs_patient(struct env *e, uint64_t *doc_nonce) {
    struct mc_keypair pat;
    mc_keypair_generate(&pat);
    uint8_t p[96];
    memcpy(p, pat.pk.b, 32);
    mc_identity_patient_consent_sign(p + 32, &pat, e->t.chain_id, &e->doc.pk);
    env_tx(e, &e->doc, doc_nonce, MC_TX_REGISTER_PATIENT, p, 96);
    return pat;
}

struct mc_keypair rs_member(struct env *e, uint8_t role, const char *name) {
    struct mc_keypair m;
    mc_keypair_generate(&m);
    uint8_t p[256];
    size_t pl = tu_enroll_payload(p, &m.pk, role, name);
    env_tx(e, &e->t.admin, &e->admin_nonce, MC_TX_ENROLL_MEMBER, p, pl);
    return m;
}

uint64_t rs_now_ms(struct env *e) {
    struct mc_node_status s;
    mc_node_status(e->t.node, &s);
    return s.latest_time_ms;
}
