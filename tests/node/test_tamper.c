/* Tamper detection: `medchain verify` must catch a single flipped byte in
 * any stored block, certificate, transaction, log leaf, cached log subtree
 * hash or state row, and a
 * chain whose link is broken even when everything else (hash, certificate)
 * was made consistent by someone holding the validator key. */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../support/testutil.h"
#include "app/identity.h"
#include "chain/block.h"
#include "crypto/keyfile.h"
#include "node/verify.h"

static char *home;
static struct mc_genesis genesis;

/* A chain of 8 blocks with 16 transactions of every identity type. */
static void build_chain(void) {
    struct tu_node t;
    tu_node_start(&t, "tamper");
    home = tu_keep(strdup(t.home));
    uint64_t an = 0;
    struct mc_keypair docs[8];
    for (int b = 0; b < 8; b++) {
        mc_keypair_generate(&docs[b]);
        uint8_t p[256];
        char name[32];
        snprintf(name, sizeof name, "Dr %d", b);
        size_t pl = tu_enroll_payload(p, &docs[b].pk, MC_ROLE_CLINICIAN, name);
        size_t len;
        uint8_t *tx = tu_tx(&len, t.chain_id, MC_TX_ENROLL_MEMBER, &t.admin, ++an, p, pl);
        tu_submit_ok(&t, tx, len);
        free(tx);
        if (b > 0) {
            struct mc_keypair pat;
            mc_keypair_generate(&pat);
            uint8_t pp[96];
            memcpy(pp, pat.pk.b, 32);
            mc_identity_patient_consent_sign(pp + 32, &pat, t.chain_id, &docs[b - 1].pk);
            tx = tu_tx(&len, t.chain_id, MC_TX_REGISTER_PATIENT, &docs[b - 1], 1, pp, 96);
            tu_submit_ok(&t, tx, len);
            free(tx);
        }
        tu_commit(&t);
    }
    cr_assert_eq(tu_height(&t), 8);
    tu_node_stop(&t);
    char *gp = tu_path(home, "genesis.json");
    cr_assert_eq(mc_node_genesis_load(&genesis, gp), 0);
    free(gp);
}

static struct mc_verify_report verify_db(const char *path) {
    struct mc_store *s;
    cr_assert_eq(mc_store_open(&s, path, true), 0, "%s", mc_err_detail());
    struct mc_verify_report r;
    cr_assert_eq(mc_verify_chain(s, &genesis, &r), 0, "verify could not run: %s", mc_err_detail());
    mc_store_close(s);
    return r;
}

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n);
    cr_assert_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void write_all(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* xorshift64*: the test's own seeded generator, so failures replay. */
static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

struct target { const char *table, *col, *pk; };
static const struct target targets[] = {
    {"blocks", "hash", "height"},   {"blocks", "header", "height"},
    {"blocks", "last_commit", "height"}, {"blocks", "commit_cert", "height"},
    {"txs", "bytes", "height*100000+idx"}, {"txs", "id", "height*100000+idx"},
    {"log", "leaf", "idx"},         {"log_nodes", "hash", "level*4294967296+idx"},
    {"state", "key", "key"},        {"state", "value", "key"},
};

/* Flips one random byte of one random non-null blob in the target column;
 * false when the flipped key already exists (the update changed nothing:
 * the state tree's node keys are short and dense, so that happens).
 * Fills a description for failure messages. */
static bool try_flip(sqlite3 *db, const struct target *t, char *desc, size_t desc_n) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s, %s FROM %s WHERE %s IS NOT NULL ORDER BY 1", t->pk,
             t->col, t->table, t->col);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) rows++;
    cr_assert_gt(rows, 0, "no rows in %s.%s", t->table, t->col);
    sqlite3_reset(st);
    int pick = (int)(rnd() % (uint64_t)rows);
    for (int i = 0; i <= pick; i++) cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_bytes(st, 1);
    uint8_t *blob = malloc((size_t)n);
    memcpy(blob, sqlite3_column_blob(st, 1), (size_t)n);
    sqlite3_value *pk = sqlite3_value_dup(sqlite3_column_value(st, 0));
    sqlite3_finalize(st);
    int pos = (int)(rnd() % (uint64_t)n);
    uint8_t mask = (uint8_t)(1 + rnd() % 255);
    blob[pos] ^= mask;
    snprintf(desc, desc_n, "%s.%s row %d byte %d ^ 0x%02x", t->table, t->col, pick, pos, mask);
    if (strcmp(t->table, "txs") == 0)
        snprintf(sql, sizeof sql, "UPDATE txs SET %s=? WHERE height*100000+idx=?", t->col);
    else
        snprintf(sql, sizeof sql, "UPDATE %s SET %s=? WHERE %s=?", t->table, t->col, t->pk);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob, n, SQLITE_TRANSIENT);
    sqlite3_bind_value(st, 2, pk);
    int rc = sqlite3_step(st);
    cr_assert(rc == SQLITE_DONE || rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT,
              "update: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_value_free(pk);
    free(blob);
    return rc == SQLITE_DONE && sqlite3_changes(db) == 1;
}

static void flip_one(sqlite3 *db, const struct target *t, char *desc, size_t desc_n) {
    for (int attempt = 0; attempt < 64; attempt++)
        if (try_flip(db, t, desc, desc_n)) return;
    cr_assert_fail("64 flips of %s.%s all collided with existing keys", t->table, t->col);
}

Test(tamper, every_flipped_byte_is_caught, .timeout = 120) {
    build_chain();
    char *db = tu_path(home, "data/chain.db");
    struct mc_verify_report r = verify_db(db);
    cr_assert(r.ok, "pristine chain verifies: %s %s", r.object, r.detail);
    cr_assert_eq(r.heights_checked, 8);
    cr_assert_eq(r.txs_checked, 15);
    cr_assert_eq(r.log_nodes_checked, 15 - 4); /* n - popcount(n) subtrees of 15 leaves */
    size_t n;
    uint8_t *pristine = read_all(db, &n);
    char *copy = tu_path(home, "tampered.db");
    rng_state = 0x6d656463686169ULL;
    int caught[sizeof targets / sizeof targets[0]] = {0};
    const int rounds = 360;
    for (int i = 0; i < rounds; i++) {
        const struct target *t = &targets[i % (sizeof targets / sizeof targets[0])];
        write_all(copy, pristine, n);
        sqlite3 *h;
        cr_assert_eq(sqlite3_open(copy, &h), SQLITE_OK);
        char desc[160];
        flip_one(h, t, desc, sizeof desc);
        sqlite3_close(h);
        struct mc_verify_report tr = verify_db(copy);
        cr_assert_not(tr.ok, "round %d: flip of %s went unnoticed", i, desc);
        caught[i % (sizeof targets / sizeof targets[0])]++;
    }
    for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++)
        cr_assert_eq(caught[k], rounds / (int)(sizeof targets / sizeof targets[0]));
    free(pristine);
}

/* Someone with the validator key rewrites the last block's previous-hash
 * and makes its hash and certificate consistent: only the link check can
 * catch it, and it does. */
Test(tamper, broken_link_is_caught) {
    build_chain();
    char *db = tu_path(home, "data/chain.db");
    struct mc_keypair node_key;
    char *kp = tu_path(home, "node_key.json");
    cr_assert_eq(mc_keyfile_read(&node_key, kp, NULL), 0);
    struct mc_store *s;
    cr_assert_eq(mc_store_open(&s, db, false), 0);
    struct mc_header h;
    mc_hash old;
    cr_assert_eq(mc_store_get_header(s, 8, &h, &old), 0);
    h.prev.b[0] ^= 0x80;
    mc_hash hash;
    mc_header_hash(&h, &hash);
    struct mc_vote v = {.type = MC_VOTE_PRECOMMIT, .height = 8, .round = 0, .has_block = true,
                        .block_hash = hash, .validator = 0};
    mc_vote_sign(&v, &node_key, genesis.chain_id);
    struct mc_commit c;
    mc_commit_init(&c, 8, 0, &hash);
    cr_assert_eq(mc_commit_add(&c, &v), 0);
    struct mc_buf hb, cb;
    mc_buf_init(&hb, 0);
    mc_buf_init(&cb, 0);
    mc_header_encode(&hb, &h);
    mc_commit_encode(&cb, &c);
    sqlite3 *raw = mc_store_db(s);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(raw, "UPDATE blocks SET hash=?, header=?, commit_cert=? WHERE height=8", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, hash.b, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hb.data, (int)hb.len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, cb.data, (int)cb.len, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    mc_store_close(s);
    mc_buf_deinit(&hb);
    mc_buf_deinit(&cb);
    struct mc_verify_report r = verify_db(db);
    cr_assert_not(r.ok);
    cr_assert_eq(r.bad_height, 8);
    cr_assert_str_eq(r.object, "prev link");
}

Test(tamper, missing_block_is_caught) {
    build_chain();
    char *db = tu_path(home, "data/chain.db");
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "DELETE FROM blocks WHERE height=4", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    struct mc_verify_report r = verify_db(db);
    cr_assert_not(r.ok);
}
