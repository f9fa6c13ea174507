/* The mempool's two classes: queued (nonce gap) transactions are neither
 * counted nor handed to the block producer, are promoted to the end of the
 * ready order, and expire with a reason; a re-signed transaction replaces
 * its old self in place and every lookup follows. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/limits.h"
#include "node/mempool.h"

static mc_hash hid(uint8_t k) {
    mc_hash h;
    memset(h.b, 0, 32);
    h.b[0] = k;
    h.b[5] = (uint8_t)(k * 37);
    return h;
}

Test(mempool_unit, queued_promoted_expired_replaced) {
    struct mc_mempool *mp;
    cr_assert_eq(mc_mempool_create(&mp), 0);
    mc_pubkey a, b;
    memset(a.b, 1, 32);
    memset(b.b, 2, 32);
    const uint8_t bytes[] = "tx";
    mc_hash i1 = hid(1), i3 = hid(3), ib = hid(9), i2 = hid(2);
    cr_assert_eq(mc_mempool_add_queued(mp, &i3, &a, 3, bytes, 2, 1000), 0);
    cr_assert_eq(mc_mempool_add(mp, &ib, &b, 1, bytes, 2), 0);
    cr_assert_eq(mc_mempool_size(mp), 1, "the queued one is not counted");
    cr_assert_eq(mc_mempool_queued_count(mp), 1);
    const struct mc_mempool_tx *out[4];
    cr_assert_eq(mc_mempool_peek(mp, out, 4), 1);
    cr_assert_eq(memcmp(out[0]->id.b, ib.b, 32), 0, "only ready ones are handed out");
    cr_assert(mc_mempool_contains(mp, &i3), "queued is still pending");
    cr_assert_eq(mc_mempool_add_queued(mp, &i1, &a, 3, bytes, 2, 1000), MC_ERR_BAD_NONCE,
                 "one per (sender, nonce), queued or not");
    cr_assert_eq(mc_mempool_add(mp, &i1, &a, 2, bytes, 2), 0);
    const struct mc_mempool_tx *p = mc_mempool_promote(mp, &a, 3);
    cr_assert_not_null(p);
    cr_assert_eq(mc_mempool_size(mp), 3, "the promoted one counts as ready");
    mc_mempool_compact(mp);
    cr_assert_eq(mc_mempool_size(mp), 3);
    cr_assert_eq(mc_mempool_peek(mp, out, 4), 3);
    cr_assert_eq(memcmp(out[2]->id.b, i3.b, 32), 0, "promoted last in order");
    cr_assert_null(mc_mempool_promote(mp, &a, 3), "already ready");

    /* Re-signing in place: the old id is gone, the new one found, and the
     * (sender, nonce) index moved with it. */
    cr_assert_eq(mc_mempool_replace(mp, &i3, &i2, 7, bytes, 2), 0);
    cr_assert_not(mc_mempool_contains(mp, &i3));
    cr_assert(mc_mempool_contains(mp, &i2));
    cr_assert_null(mc_mempool_find(mp, &a, 3));
    cr_assert_not_null(mc_mempool_find(mp, &a, 7));
    cr_assert_eq(mc_mempool_peek(mp, out, 4), 3);
    cr_assert_eq(memcmp(out[2]->id.b, i2.b, 32), 0, "same place");
    mc_hash by;
    mc_mempool_note_replaced(mp, &i3, &i2);
    cr_assert_eq(mc_mempool_replaced(mp, &i3, &by), 0);
    cr_assert_eq(memcmp(by.b, i2.b, 32), 0);
    int err;
    char why[200];
    cr_assert_eq(mc_mempool_rejected(mp, &i3, &err, why, sizeof why), MC_ERR_NOT_FOUND,
                 "a replacement is not a rejection");

    /* Demoted then expired: reported with the reason. */
    mc_mempool_demote(mp, &i2, 5000);
    cr_assert_eq(mc_mempool_size(mp), 2);
    cr_assert_eq(mc_mempool_expire(mp, 5000 + 999, 1000), 0, "not yet");
    cr_assert_eq(mc_mempool_expire(mp, 5000 + 1000, 1000), 1);
    cr_assert_eq(mc_mempool_rejected(mp, &i2, &err, why, sizeof why), 0);
    cr_assert_eq(err, MC_ERR_BAD_NONCE);
    cr_assert(strstr(why, "nonce 7"), "%s", why);
    cr_assert_eq(mc_mempool_queued_count(mp), 0);
    cr_assert_not(mc_mempool_contains(mp, &i2));
    mc_mempool_destroy(mp);
}

Test(mempool_unit, gap_queue_is_bounded_per_sender) {
    struct mc_mempool *mp;
    cr_assert_eq(mc_mempool_create(&mp), 0);
    mc_pubkey a;
    memset(a.b, 4, 32);
    const uint8_t bytes[] = "tx";
    for (uint32_t k = 0; k < MC_MEMPOOL_QUEUED_PER_SENDER_MAX; k++) {
        mc_hash h = hid((uint8_t)k);
        h.b[9] = (uint8_t)(k >> 8);
        h.b[10] = 0x77;
        cr_assert_eq(mc_mempool_add_queued(mp, &h, &a, 10 + k, bytes, 2, 0), 0, "%u", k);
    }
    mc_hash h = hid(250);
    h.b[11] = 1;
    cr_assert_eq(mc_mempool_add_queued(mp, &h, &a, 5000, bytes, 2, 0), MC_ERR_FULL);
    cr_assert_eq(mc_mempool_size(mp), 0);
    mc_mempool_destroy(mp);
}
