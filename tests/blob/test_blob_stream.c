/* Streamed blobs (blob.h) on the SQLite backend: an upload in pieces
 * hashes to its id and reads back in any step; a piece altered, removed or
 * lengthened in the database is refused when the read reaches the end;
 * an aborted upload and one a crash left leave nothing servable (the
 * sweep lists and removes the latter); pending uploads are not served;
 * erasure deletes every piece. The same on S3 is in test_blob_s3.c. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/testutil.h"
#include "blob/blob.h"
#include "crypto/hash.h"

/* Deterministic bytes: position-dependent, so a moved piece shows. */
static void fill(uint8_t *p, size_t n, uint64_t off) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)((off + i) * 2654435761u >> 13);
}

static mc_hash upload(struct mc_blob_store *bs, uint64_t total, bool pending) {
    struct mc_blob_writer *w;
    cr_assert_eq(mc_blob_writer_open(bs, &w, pending), 0, "%s", mc_err_detail());
    uint8_t *buf = malloc(300001);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    uint64_t off = 0;
    while (off < total) {
        size_t k = total - off < 300001 ? (size_t)(total - off) : 300001; /* odd steps across pieces */
        fill(buf, k, off);
        crypto_hash_sha256_update(&h, buf, k);
        cr_assert_eq(mc_blob_writer_append(w, buf, k), 0, "%s", mc_err_detail());
        off += k;
    }
    mc_hash id, want;
    crypto_hash_sha256_final(&h, want.b);
    uint64_t size;
    cr_assert_eq(mc_blob_writer_finish(w, &id, &size, &want), 0, "%s", mc_err_detail());
    cr_assert_eq(size, total);
    cr_assert_eq(memcmp(id.b, want.b, 32), 0, "the id is the SHA-256 of every byte");
    free(buf);
    return id;
}

static bool check_bytes = true;

/* Reads the whole blob in steps of step bytes; returns the first error and
 * checks the bytes it got against fill() (unless check_bytes is off: the
 * pieces before the last are passed on before the hash is known, and the
 * layer above authenticates them chunk by chunk, crypto/stream.h). */
static int read_all(struct mc_blob_store *bs, const mc_hash *id, bool anchored, size_t step, uint64_t *got) {
    struct mc_blob_reader *r;
    uint64_t size;
    *got = 0;
    int rc = mc_blob_reader_open(bs, &r, id, anchored, &size);
    if (rc) return rc;
    uint8_t *buf = malloc(step), *exp = malloc(step);
    for (;;) {
        size_t n;
        rc = mc_blob_reader_read(r, buf, step, &n);
        if (rc || n == 0) break;
        fill(exp, n, *got);
        if (check_bytes) cr_assert_eq(memcmp(buf, exp, n), 0, "bytes at %llu", (unsigned long long)*got);
        *got += n;
    }
    mc_blob_reader_close(r);
    free(buf);
    free(exp);
    return rc;
}

static sqlite3 *raw(const char *db) {
    sqlite3 *d;
    cr_assert_eq(sqlite3_open(db, &d), SQLITE_OK);
    sqlite3_busy_timeout(d, 5000);
    return d;
}

static int64_t count(sqlite3 *d, const char *sql) {
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(d, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(d));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

static bool anchored_none(void *ctx, const mc_hash *id) { (void)ctx; (void)id; return false; }
static void note(void *ctx, const mc_hash *id, const char *what, bool removed) {
    (void)id;
    (void)removed;
    if (strcmp(what, "partial") == 0) (*(int *)ctx)++;
}

Test(blob_stream, sqlite_round_trip_tamper_abort_sweep_and_erasure, .timeout = 60) {
    mc_crypto_init();
    char *db = tu_path(tu_tmpdir("blob-stream"), "chain.db");
    struct mc_blob_store *bs;
    cr_assert_eq(mc_blob_open(&bs, db), 0);
    uint64_t total = 5 * MC_BLOB_PIECE + 777; /* five whole pieces and a short one */
    mc_hash id = upload(bs, total, false);
    uint64_t got;
    cr_assert_eq(read_all(bs, &id, false, 65536, &got), 0, "%s", mc_err_detail());
    cr_assert_eq(got, total);
    cr_assert_eq(read_all(bs, &id, false, 4093, &got), 0, "any read step");
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_blob_get(bs, &id, &b), MC_ERR_TOO_LARGE, "a streamed blob is never got whole");
    cr_assert_not(mc_blob_needed(bs, &id), "held");
    sqlite3 *d = raw(db);
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_pieces"), 6);
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_uploads"), 0, "a finished upload is no upload");

    /* a byte of the third piece altered in the database: the read that
     * reaches the end refuses, so the last piece is never released */
    cr_assert_eq(sqlite3_exec(d, "UPDATE blob_pieces SET bytes=zeroblob(1048576) WHERE seq=2", NULL, NULL, NULL),
                 SQLITE_OK);
    check_bytes = false;
    cr_assert_eq(read_all(bs, &id, false, 65536, &got), MC_ERR_TAMPERED);
    cr_assert_eq(got, 5 * MC_BLOB_PIECE, "the last piece is not served");
    check_bytes = true;
    /* repaired by storing the good bytes again (replication does this) */
    mc_hash again = upload(bs, total, false);
    cr_assert_eq(memcmp(again.b, id.b, 32), 0);
    cr_assert_eq(read_all(bs, &id, false, 65536, &got), 0, "repaired: %s", mc_err_detail());
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_pieces"), 6, "the damaged copy's pieces are gone");
    /* a piece missing, or the last one longer: refused */
    cr_assert_eq(sqlite3_exec(d, "DELETE FROM blob_pieces WHERE seq=4", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(read_all(bs, &id, false, 65536, &got), MC_ERR_TAMPERED, "a piece missing");
    (void)upload(bs, total, false);
    cr_assert_eq(sqlite3_exec(d, "UPDATE blob_pieces SET bytes=bytes||x'00' WHERE seq=5", NULL, NULL, NULL),
                 SQLITE_OK);
    cr_assert_eq(read_all(bs, &id, false, 65536, &got), MC_ERR_TAMPERED, "longer than recorded");
    (void)upload(bs, total, false);

    /* a wrong expected hash stores nothing */
    struct mc_blob_writer *w;
    cr_assert_eq(mc_blob_writer_open(bs, &w, true), 0);
    uint8_t buf[4096];
    fill(buf, sizeof buf, 0);
    for (int i = 0; i < 600; i++) cr_assert_eq(mc_blob_writer_append(w, buf, sizeof buf), 0);
    mc_hash wrong;
    memset(wrong.b, 7, 32);
    mc_hash out;
    uint64_t size;
    cr_assert_eq(mc_blob_writer_finish(w, &out, &size, &wrong), MC_ERR_TAMPERED);
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_pieces"), 6, "nothing of it stays");
    /* an aborted upload leaves nothing */
    cr_assert_eq(mc_blob_writer_open(bs, &w, true), 0);
    for (int i = 0; i < 600; i++) cr_assert_eq(mc_blob_writer_append(w, buf, sizeof buf), 0);
    mc_blob_writer_abort(w);
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_pieces"), 6);
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_uploads"), 0);

    /* an upload in flight is left alone by the sweep within its grace; one
     * a crash left (here: still open, older than the grace) is removed */
    cr_assert_eq(mc_blob_writer_open(bs, &w, true), 0);
    for (int i = 0; i < 600; i++) cr_assert_eq(mc_blob_writer_append(w, buf, sizeof buf), 0);
    int partial = 0;
    struct mc_blob_sweep sw = {anchored_none, note, &partial, true, 3600};
    uint64_t found;
    /* the live blob is unanchored here too: keep it out of this sweep by
     * anchoring nothing but counting only partial uploads */
    cr_assert_eq(mc_blob_sweep(bs, &sw, &found), 0, "%s", mc_err_detail());
    cr_assert_eq(partial, 0, "in flight");
    sw.grace_s = 0;
    cr_assert_eq(mc_blob_sweep(bs, &sw, &found), 0, "%s", mc_err_detail());
    cr_assert_eq(partial, 1, "left by a crash");
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_uploads"), 0);
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_pieces"), 0, "its pieces, and the unanchored blob's, are gone");
    mc_blob_writer_abort(w);

    /* pending: not served until anchored; erasure deletes every piece */
    mc_hash pend = upload(bs, 2 * MC_BLOB_PIECE + 1, true);
    cr_assert_eq(read_all(bs, &pend, false, 65536, &got), MC_ERR_NOT_FOUND, "pending is not served");
    cr_assert_eq(read_all(bs, &pend, true, 65536, &got), 0, "a committed anchor names it");
    cr_assert_eq(read_all(bs, &pend, false, 65536, &got), 0, "live from then on");
    cr_assert_eq(mc_blob_purge(bs, &pend), 0);
    cr_assert_eq(read_all(bs, &pend, true, 65536, &got), MC_ERR_STATE, "erased");
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_pieces"), 0, "every piece deleted");
    cr_assert_eq(mc_blob_writer_open(bs, &w, false), 0);
    for (uint64_t off = 0; off < 2 * MC_BLOB_PIECE + 1;) {
        size_t k = 2 * MC_BLOB_PIECE + 1 - off < sizeof buf ? (size_t)(2 * MC_BLOB_PIECE + 1 - off) : sizeof buf;
        fill(buf, k, off);
        cr_assert_eq(mc_blob_writer_append(w, buf, k), 0);
        off += k;
    }
    cr_assert_eq(mc_blob_writer_finish(w, &out, &size, NULL), MC_ERR_STATE, "erased content is not stored again");
    cr_assert_eq(count(d, "SELECT count(*) FROM blob_pieces"), 0);
    sqlite3_close(d);
    mc_buf_deinit(&b);
    mc_blob_close(bs);
}
