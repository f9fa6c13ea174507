/* Node-local rows (chain/local.h): kept across a reopen, invisible once
 * expired, bounded per owner and in all, one owner per key, and a swap
 * that exactly one caller wins. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/local.h"
#include "chain/store.h"

static char dir[64], path[96];

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/medchain-test-local-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/chain.db", dir);
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(local, .init = setup, .fini = teardown);

static struct mc_local_row row(const char *key, const char *owner, const char *val, uint64_t exp) {
    return (struct mc_local_row){.space = "t", .key = (const uint8_t *)key, .key_len = strlen(key),
                                 .owner = (const uint8_t *)owner, .owner_len = strlen(owner),
                                 .value = (const uint8_t *)val, .value_len = strlen(val), .expires_ms = exp};
}

static int get(struct mc_local *l, const char *key, uint64_t now, char *out, size_t n) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    int rc = mc_local_get(l, "t", (const uint8_t *)key, strlen(key), now, &b, NULL, NULL);
    if (!rc) snprintf(out, n, "%.*s", (int)b.len, (const char *)b.data);
    mc_buf_deinit(&b);
    return rc;
}

Test(local, survives_reopen_beside_the_chain_store) {
    struct mc_store *s;
    cr_assert_eq(mc_store_open(&s, path, false), 0);
    struct mc_local *l;
    cr_assert_eq(mc_local_open(&l, path), 0, "%s", mc_err_detail());
    struct mc_local_row r = row("code1", "alice", "pending", 2000);
    cr_assert_eq(mc_local_insert(l, &r, 1000, NULL), 0, "%s", mc_err_detail());
    mc_local_close(l);
    mc_store_close(s);
    cr_assert_eq(mc_local_open(&l, path), 0);
    char v[32];
    cr_assert_eq(get(l, "code1", 1500, v, sizeof v), 0);
    cr_assert_str_eq(v, "pending");
    /* the chain store still opens the same file */
    cr_assert_eq(mc_store_open(&s, path, false), 0);
    mc_store_close(s);
    mc_local_close(l);
}

Test(local, expired_rows_are_gone) {
    struct mc_local *l;
    cr_assert_eq(mc_local_open(&l, path), 0);
    struct mc_local_row r = row("k", "o", "v", 2000), never = row("n", "o", "v", 0);
    cr_assert_eq(mc_local_insert(l, &r, 1000, NULL), 0);
    cr_assert_eq(mc_local_insert(l, &never, 1000, NULL), 0);
    char v[8];
    cr_assert_eq(get(l, "k", 1999, v, sizeof v), 0);
    cr_assert_eq(get(l, "k", 2000, v, sizeof v), MC_ERR_NOT_FOUND, "expired at its time");
    cr_assert_eq(mc_local_swap(l, "t", (const uint8_t *)"k", 1, 2000, (const uint8_t *)"v", 1,
                               (const uint8_t *)"w", 1),
                 MC_ERR_NOT_FOUND, "no swap on an expired row");
    /* the key is free again for another owner once expired */
    struct mc_local_row other = row("k", "p", "x", 9000);
    cr_assert_eq(mc_local_insert(l, &other, 2000, NULL), 0);
    uint64_t gone = 0;
    cr_assert_eq(mc_local_expire(l, 9000, &gone), 0);
    cr_assert_eq(gone, 1);
    cr_assert_eq(get(l, "n", UINT64_MAX / 2, v, sizeof v), 0, "expires_ms 0 never expires");
    mc_local_close(l);
}

static int count_rows(void *ctx, const uint8_t *key, size_t kn, const uint8_t *val, size_t vn, uint64_t exp) {
    (*(int *)ctx)++;
    return 0;
}

Test(local, bounds_and_owners) {
    struct mc_local *l;
    cr_assert_eq(mc_local_open(&l, path), 0);
    const struct mc_local_bounds b = {.per_owner = 2, .total = 3};
    struct mc_local_row a1 = row("a1", "alice", "v", 0), a2 = row("a2", "alice", "v", 0),
                        a3 = row("a3", "alice", "v", 0), b1 = row("b1", "bob", "v", 0), c1 = row("c1", "carol", "v", 0);
    cr_assert_eq(mc_local_insert(l, &a1, 1, &b), 0);
    cr_assert_eq(mc_local_insert(l, &a2, 1, &b), 0);
    cr_assert_eq(mc_local_insert(l, &a3, 1, &b), MC_ERR_FULL, "per owner");
    cr_assert_str_eq(mc_err_detail(), "owner");
    cr_assert_eq(mc_local_insert(l, &a2, 1, &b), 0, "the same row again is no new row");
    cr_assert_eq(mc_local_insert(l, &b1, 1, &b), 0);
    cr_assert_eq(mc_local_insert(l, &c1, 1, &b), MC_ERR_FULL, "in all");
    cr_assert_str_eq(mc_err_detail(), "total");
    struct mc_local_row steal = row("a1", "bob", "mine", 0);
    cr_assert_eq(mc_local_insert(l, &steal, 1, NULL), MC_ERR_EXISTS, "a key keeps its owner");
    int n = 0;
    cr_assert_eq(mc_local_list(l, "t", (const uint8_t *)"alice", 5, 1, 10, count_rows, &n), 0);
    cr_assert_eq(n, 2);
    n = 0;
    cr_assert_eq(mc_local_list(l, "t", (const uint8_t *)"alice", 5, 1, 1, count_rows, &n), 0);
    cr_assert_eq(n, 1, "at most max");
    /* one row per owner: a new key replaces the owner's old one */
    const struct mc_local_bounds one = {.replace_owner = true};
    struct mc_local_row m1 = row("MRN-1", "org1/pat", "pat", 0), m2 = row("MRN-2", "org1/pat", "pat", 0);
    cr_assert_eq(mc_local_insert(l, &m1, 1, &one), 0);
    cr_assert_eq(mc_local_insert(l, &m2, 1, &one), 0);
    char v[8];
    cr_assert_eq(get(l, "MRN-1", 1, v, sizeof v), MC_ERR_NOT_FOUND, "replaced");
    cr_assert_eq(get(l, "MRN-2", 1, v, sizeof v), 0);
    bool removed = false;
    cr_assert_eq(mc_local_delete(l, "t", (const uint8_t *)"MRN-2", 5, &removed), 0);
    cr_assert(removed);
    mc_local_close(l);
}

Test(local, swap_is_won_once) {
    struct mc_local *l, *l2;
    cr_assert_eq(mc_local_open(&l, path), 0);
    cr_assert_eq(mc_local_open(&l2, path), 0, "a second connection, as a second process would");
    struct mc_local_row r = row("code", "inviter", "pending", 0);
    cr_assert_eq(mc_local_insert(l, &r, 1, NULL), 0);
    const uint8_t *k = (const uint8_t *)"code";
    cr_assert_eq(mc_local_swap(l, "t", k, 4, 1, (const uint8_t *)"pending", 7, (const uint8_t *)"accepted:A", 10), 0);
    cr_assert_eq(mc_local_swap(l2, "t", k, 4, 1, (const uint8_t *)"pending", 7, (const uint8_t *)"accepted:B", 10),
                 MC_ERR_STATE, "the second acceptance loses");
    char v[16];
    cr_assert_eq(get(l2, "code", 1, v, sizeof v), 0);
    cr_assert_str_eq(v, "accepted:A");
    mc_local_close(l2);
    mc_local_close(l);
}
