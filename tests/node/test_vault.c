/* The node's vault: record versions sealed by a node open with the batch
 * key sealed to it and with a data key granted to it, and with nothing
 * else; an altered ciphertext does not open (the AEAD tag); the research
 * secret is stable and the node's own; and the key pair lives in read-only
 * guarded memory, so a write to it is refused instead of changing it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "../support/testutil.h"
#include "app/records.h"
#include "blob/blob.h"
#include "node/node_internal.h"
#include "node/vault.h"

static const char doc[] = "{\"resourceType\":\"Observation\",\"status\":\"final\"}";

static void seal_one(struct mc_vault *v, struct mc_vault_record *r, uint8_t sp[MC_SEALED_KEY_BYTES],
                     uint8_t sn[MC_SEALED_KEY_BYTES], const mc_pubkey *patient) {
    *r = (struct mc_vault_record){.id = "obs-1", .version = 1, .plain = doc, .plain_len = sizeof doc - 1};
    cr_assert_eq(mc_vault_seal_batch(v, sp, sn, r, 1, patient), 0, "%s", mc_err_detail());
    cr_assert_eq(r->size, sizeof doc - 1 + MC_ENVELOPE_OVERHEAD);
}

Test(vault, seal_and_open_a_batch) {
    struct tu_node t;
    tu_node_start(&t, "vault-open");
    struct mc_vault *v = mc_node_vault(t.node);
    struct mc_keypair patient;
    mc_keypair_generate(&patient);
    struct mc_vault_record r;
    uint8_t sp[MC_SEALED_KEY_BYTES], sn[MC_SEALED_KEY_BYTES];
    seal_one(v, &r, sp, sn, &patient.pk);

    struct mc_buf plain;
    mc_buf_init(&plain, 0);
    cr_assert_eq(mc_vault_open_record(v, &plain, "obs-1", 1, &r.ciphertext, sn, false, false), 0);
    cr_assert_eq(plain.len, sizeof doc - 1);
    cr_assert(memcmp(plain.data, doc, plain.len) == 0);
    mc_buf_reset(&plain);

    /* The patient's sealed key is not this node's; another version's
     * associated data does not open; no key at all is refused (another node must serve it). */
    cr_assert_eq(mc_vault_open_record(v, &plain, "obs-1", 1, &r.ciphertext, sp, false, false), MC_ERR_CRYPTO);
    cr_assert_eq(mc_vault_open_record(v, &plain, "obs-1", 2, &r.ciphertext, sn, false, false), MC_ERR_CRYPTO);
    cr_assert_eq(mc_vault_open_record(v, &plain, "obs-1", 1, &r.ciphertext, NULL, false, false), MC_ERR_MISDIRECTED);

    /* The patient opens the batch key and grants the version's data key
     * back to the node: the grant path opens too. */
    uint8_t batch[MC_DATAKEY_BYTES], dk[MC_DATAKEY_BYTES], granted[MC_SEALED_KEY_BYTES];
    cr_assert_eq(mc_envelope_open_key(batch, sp, &patient), 0);
    mc_record_data_key(dk, batch, "obs-1", 1);
    cr_assert_eq(mc_envelope_seal_key(granted, dk, mc_vault_public_key(v)), 0);
    cr_assert_eq(mc_vault_open_record(v, &plain, "obs-1", 1, &r.ciphertext, granted, true, false), 0);
    cr_assert(memcmp(plain.data, doc, plain.len) == 0);
    /* ... but not when taken for a batch key. */
    mc_buf_reset(&plain);
    cr_assert_eq(mc_vault_open_record(v, &plain, "obs-1", 1, &r.ciphertext, granted, false, false), MC_ERR_CRYPTO);
    mc_buf_deinit(&plain);

    /* Dropping the batch (its anchor was not admitted) purges the ciphertext. */
    mc_vault_drop_batch(v, &r, 1);
    struct mc_buf ct;
    mc_buf_init(&ct, 0);
    cr_assert_neq(mc_vault_load_ciphertext(v, &ct, "obs-1", 1, &r.ciphertext, false), 0);
    mc_buf_deinit(&ct);
    tu_node_stop(&t);
}

Test(vault, altered_ciphertext_does_not_open) {
    struct tu_node t;
    tu_node_start(&t, "vault-tamper");
    struct mc_vault *v = mc_node_vault(t.node);
    struct mc_keypair patient;
    mc_keypair_generate(&patient);
    struct mc_vault_record r;
    uint8_t sp[MC_SEALED_KEY_BYTES], sn[MC_SEALED_KEY_BYTES];
    seal_one(v, &r, sp, sn, &patient.pk);
    /* One bit of the ciphertext body flipped, stored under its own id (a
     * copy altered under the anchor's id is refused by the blob store's
     * hash check; tests/records covers that and the peer repair). */
    struct mc_buf ct;
    mc_buf_init(&ct, 0);
    cr_assert_eq(mc_vault_load_ciphertext(v, &ct, "obs-1", 1, &r.ciphertext, false), 0);
    ct.data[30] ^= 1;
    mc_hash wrong;
    cr_assert_eq(mc_blob_put(mc_node_blobs(t.node), &wrong, ct.data, ct.len), 0);
    struct mc_buf plain;
    mc_buf_init(&plain, 0);
    cr_assert_eq(mc_vault_open_record(v, &plain, "obs-1", 1, &wrong, sn, false, false), MC_ERR_CRYPTO);
    cr_assert_eq(plain.len, 0, "nothing is decrypted from altered bytes");
    mc_buf_deinit(&plain);
    mc_buf_deinit(&ct);
    tu_node_stop(&t);
}

Test(vault, research_secret_is_stable_and_per_node) {
    struct tu_node a, b;
    tu_node_start(&a, "vault-secret-a");
    tu_node_start(&b, "vault-secret-b");
    uint8_t s1[32], s2[32], s3[32];
    mc_vault_research_secret(mc_node_vault(a.node), s1);
    mc_vault_research_secret(mc_node_vault(a.node), s2);
    mc_vault_research_secret(mc_node_vault(b.node), s3);
    cr_assert(memcmp(s1, s2, 32) == 0, "stable for one node");
    cr_assert(memcmp(s1, s3, 32) != 0, "another node's secret differs");
    cr_assert(!sodium_is_zero(s1, 32));
    /* Not the key: the secret is derived from it, not a copy of it. */
    cr_assert(memcmp(s1, mc__vault_signer(mc_node_vault(a.node))->sk, 32) != 0);
    tu_node_stop(&a);
    tu_node_stop(&b);
}

/* The node key is read-only once loaded: the kernel refuses to write into
 * it (EFAULT), as it would fault a stray write from our own code; a
 * writable buffer beside it takes the same write. */
Test(vault, key_memory_is_read_only) {
    struct tu_node t;
    tu_node_start(&t, "vault-ro");
    const struct mc_keypair *kp = mc__vault_signer(mc_node_vault(t.node));
    int fd = open("/dev/zero", O_RDONLY);
    cr_assert_geq(fd, 0);
    uint8_t before = kp->sk[0], writable[1] = {1};
    errno = 0;
    cr_assert_eq(read(fd, (void *)kp->sk, 1), -1, "the key memory took a write");
    cr_assert_eq(errno, EFAULT);
    cr_assert_eq(kp->sk[0], before);
    cr_assert_eq(read(fd, writable, 1), 1, "the probe writes where writing is allowed");
    cr_assert_eq(writable[0], 0);
    close(fd);
    tu_node_stop(&t);
}
