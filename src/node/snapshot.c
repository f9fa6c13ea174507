/* Snapshots a node writes and serves (snapshot.h). */
#include "node/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "chain/snapshot.h"
#include "node/node_internal.h"
#include "node/wire.h"

struct snap_entry {
    uint64_t height;
    struct mc_buf manifest;        /* encoded */
    uint32_t chunk_count;
};

struct mc_snapshots {
    struct mc_snapshot_config cfg;
    char dir[PATH_MAX];
    char db_path[PATH_MAX];
    pthread_mutex_t mu;            /* list, busy */
    struct snap_entry list[MC_SNAPSHOT_KEEP_MAX]; /* ascending height */
    uint32_t count;
    bool busy;
    bool have_thread;
    pthread_t thread;
    atomic_bool stop;              /* the node is closing: the writer gives up */
};

int mc_snapshot_config_load(struct mc_snapshot_config *c, const char *home) {
    memset(c, 0, sizeof *c);
    c->keep = 2;
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof p, "%s/config.json", home) >= sizeof p)
        return mc_err_set(MC_ERR_TOO_LARGE, "path too long");
    json_error_t e;
    json_t *cfg = json_load_file(p, 0, &e);
    if (!cfg) return 0; /* node.c reports a missing or bad config */
    int rc = 0;
    json_t *v = json_object_get(cfg, "snapshot_interval");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            rc = mc_err_set(MC_ERR_INVALID, "config.json: \"snapshot_interval\" is 0 (no snapshots) or a number of heights");
        else c->interval = (uint64_t)json_integer_value(v);
    }
    v = json_object_get(cfg, "snapshot_keep");
    if (!rc && v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > MC_SNAPSHOT_KEEP_MAX)
            rc = mc_err_set(MC_ERR_INVALID, "config.json: \"snapshot_keep\" is 1..%d", MC_SNAPSHOT_KEEP_MAX);
        else c->keep = (uint32_t)json_integer_value(v);
    }
    v = json_object_get(cfg, "state_sync");
    if (!rc && v && !json_is_null(v)) {
        if (!json_is_boolean(v)) rc = mc_err_set(MC_ERR_INVALID, "config.json: \"state_sync\" is true or false");
        else c->state_sync = json_is_true(v);
    }
#ifdef MC_TEST_CORRUPT_SNAPSHOTS
    c->test_corrupt = true; /* a test build only: a dishonest peer (Makefile) */
#endif
    json_decref(cfg);
    return rc;
}

/* ---- files ---- */

static int read_file(const char *path, struct mc_buf *out, size_t max) {
    FILE *f = fopen(path, "rb");
    if (!f) return mc_err_set(MC_ERR_NOT_FOUND, "cannot open %s", path);
    uint8_t tmp[65536];
    size_t k;
    int rc = 0;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (out->len + k > max) {
            rc = mc_err_set(MC_ERR_TOO_LARGE, "%s is over its size limit", path);
            break;
        }
        mc_buf_append(out, tmp, k);
    }
    if (!rc && ferror(f)) rc = mc_err_set(MC_ERR_IO, "cannot read %s", path);
    fclose(f);
    return rc ? rc : out->err;
}

static int write_file(const char *path, const uint8_t *p, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return mc_err_set(MC_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    bool ok = fwrite(p, 1, len, f) == len;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : mc_err_set(MC_ERR_IO, "cannot write %s", path);
}

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[PATH_MAX + 300];
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void snap_path(char *out, size_t n, const struct mc_snapshots *s, uint64_t height, const char *file) {
    snprintf(out, n, "%s/%020" PRIu64 "%s%s", s->dir, height, file ? "/" : "", file ? file : "");
}

/* Loads the snapshots on disk (caller holds mu or is alone). */
static void list_load(struct mc_snapshots *s) {
    DIR *d = opendir(s->dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != 20 || strspn(e->d_name, "0123456789") != 20) {
            if (!strncmp(e->d_name, ".tmp-", 5)) { /* an interrupted writer */
                char p[PATH_MAX + 300];
                snprintf(p, sizeof p, "%s/%s", s->dir, e->d_name);
                remove_tree(p);
            }
            continue;
        }
        uint64_t h = strtoull(e->d_name, NULL, 10);
        char p[PATH_MAX + 64];
        snap_path(p, sizeof p, s, h, "manifest");
        struct snap_entry ent = {.height = h};
        mc_buf_init(&ent.manifest, MC_SNAPSHOT_MANIFEST_MAX);
        struct mc_snapshot_manifest m;
        if (read_file(p, &ent.manifest, MC_SNAPSHOT_MANIFEST_MAX) ||
            mc_snapshot_manifest_decode(&m, ent.manifest.data, ent.manifest.len) || m.height != h) {
            mc_log_warn("snapshot", "ignoring the snapshot at height %" PRIu64 ": its manifest does not read", h);
            mc_buf_deinit(&ent.manifest);
            continue;
        }
        ent.chunk_count = m.chunk_count;
        mc_snapshot_manifest_deinit(&m);
        /* insert sorted, dropping the oldest when full */
        uint32_t at = 0;
        while (at < s->count && s->list[at].height < h) at++;
        if (s->count == MC_SNAPSHOT_KEEP_MAX) {
            if (at == 0) {
                mc_buf_deinit(&ent.manifest);
                continue;
            }
            mc_buf_deinit(&s->list[0].manifest);
            memmove(&s->list[0], &s->list[1], (s->count - 1) * sizeof s->list[0]);
            s->count--;
            at--;
        }
        memmove(&s->list[at + 1], &s->list[at], (s->count - at) * sizeof s->list[0]);
        s->list[at] = ent;
        s->count++;
    }
    closedir(d);
}

/* Drops the oldest snapshots beyond `keep` (mu held). */
static void list_prune(struct mc_snapshots *s) {
    while (s->count > s->cfg.keep) {
        char p[PATH_MAX + 64];
        snap_path(p, sizeof p, s, s->list[0].height, NULL);
        remove_tree(p);
        mc_buf_deinit(&s->list[0].manifest);
        memmove(&s->list[0], &s->list[1], (s->count - 1) * sizeof s->list[0]);
        s->count--;
    }
}

int mc_snapshots_create(struct mc_node *n) {
    struct mc_snapshots *s = calloc(1, sizeof *s);
    if (!s) return MC_ERR_NOMEM;
    pthread_mutex_init(&s->mu, NULL);
    int rc = mc_snapshot_config_load(&s->cfg, n->home);
    if (!rc && ((size_t)snprintf(s->dir, sizeof s->dir, "%s/snapshots", n->home) >= sizeof s->dir ||
                (size_t)snprintf(s->db_path, sizeof s->db_path, "%s/data/chain.db", n->home) >= sizeof s->db_path))
        rc = mc_err_set(MC_ERR_TOO_LARGE, "the home path is too long");
    if (rc) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return rc;
    }
    list_load(s);
    list_prune(s); /* "snapshot_keep" may have been lowered */
    n->snaps = s;
    return 0;
}

void mc_snapshots_wait(struct mc_node *n) {
    struct mc_snapshots *s = n->snaps;
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    bool join = s->have_thread;
    s->have_thread = false;
    pthread_mutex_unlock(&s->mu);
    if (join) pthread_join(s->thread, NULL);
}

void mc_snapshots_destroy(struct mc_node *n) {
    struct mc_snapshots *s = n->snaps;
    if (!s) return;
    atomic_store(&s->stop, true);
    mc_snapshots_wait(n);
    for (uint32_t i = 0; i < s->count; i++) mc_buf_deinit(&s->list[i].manifest);
    pthread_mutex_destroy(&s->mu);
    free(s);
    n->snaps = NULL;
}

/* ---- the writer (its own thread and database connection) ---- */

struct writer {
    struct mc_snapshots *s;
    char tmp[PATH_MAX + 64];
    mc_hash *hashes;
    uint32_t chunks;
    struct mc_smt_change *rows;
    size_t n, cap;
};

static int writer_emit(void *ctx, const uint8_t *chunk, size_t len) {
    struct writer *w = ctx;
    if (w->chunks == MC_SNAPSHOT_CHUNKS_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "the state needs more than %d snapshot chunks", MC_SNAPSHOT_CHUNKS_MAX);
    mc_hash *nh = realloc(w->hashes, (w->chunks + 1) * sizeof *nh);
    if (!nh) return MC_ERR_NOMEM;
    w->hashes = nh;
    mc_sha256(&w->hashes[w->chunks], chunk, len);
    char p[PATH_MAX + 100];
    snprintf(p, sizeof p, "%s/chunk-%u", w->tmp, w->chunks);
    int rc = write_file(p, chunk, len);
    if (!rc) w->chunks++;
    return rc;
}

static int writer_row(struct writer *w, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 4096;
        struct mc_smt_change *r = realloc(w->rows, nc * sizeof *r);
        if (!r) return MC_ERR_NOMEM;
        w->rows = r;
        w->cap = nc;
    }
    struct mc_smt_change *c = &w->rows[w->n++];
    mc_sha256(&c->key_hash, k, kl);
    mc_sha256(&c->value_hash, v, vl);
    c->present = true;
    return 0;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_snapshot(struct mc_snapshots *s, uint64_t *height_out) {
    double t0 = mono_s(); /* node-local: logged, never hashed */
    struct mc_store *st = NULL;
    int rc = mc_store_open(&st, s->db_path, true);
    if (rc) return rc;
    sqlite3 *db = mc_store_db(st);
    struct writer w = {.s = s};
    struct mc_snapshot_chunker ch;
    mc_snapshot_chunker_init(&ch, writer_emit, &w);
    struct mc_snapshot_manifest m = {.version = MC_SNAPSHOT_VERSION};
    sqlite3_stmt *q = NULL;
    bool in_txn = false, made_tmp = false;
    struct mc_header hd;
    /* one read transaction: one committed height's blocks and state */
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = mc_err_set(MC_ERR_DB, "cannot begin a read transaction: %s", sqlite3_errmsg(db));
        goto out;
    }
    in_txn = true;
    if ((rc = mc_store_height(st, &m.height))) goto out;
    if (m.height == 0) {
        rc = mc_err_set(MC_ERR_STATE, "no block is committed yet");
        goto out;
    }
    if ((rc = mc_store_get_header(st, m.height, &hd, &m.block_hash))) goto out;
    m.state_root = hd.state_hash;
    *height_out = m.height;
    char final[PATH_MAX + 64];
    snap_path(final, sizeof final, s, m.height, NULL);
    struct stat sb;
    if (stat(final, &sb) == 0) {
        rc = MC_ERR_EXISTS;
        goto out;
    }
    snprintf(w.tmp, sizeof w.tmp, "%s/.tmp-%020" PRIu64, s->dir, m.height);
    remove_tree(w.tmp);
    if (mkdir(s->dir, 0700) && errno != EEXIST) {
        rc = mc_err_set(MC_ERR_IO, "cannot create %s", s->dir);
        goto out;
    }
    if (mkdir(w.tmp, 0700)) {
        rc = mc_err_set(MC_ERR_IO, "cannot create %s", w.tmp);
        goto out;
    }
    made_tmp = true;
    /* the state rows, never the tree's nodes (keys from 0x01 on) */
    if (sqlite3_prepare_v2(db, "SELECT key, value FROM state WHERE key >= x'01' ORDER BY key", -1, &q, NULL) !=
        SQLITE_OK) {
        rc = mc_err_set(MC_ERR_DB, "cannot read the state: %s", sqlite3_errmsg(db));
        goto out;
    }
    int step;
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        if (atomic_load(&s->stop)) {
            rc = mc_err_set(MC_ERR_STATE, "the node is stopping");
            break;
        }
        const uint8_t *k = sqlite3_column_blob(q, 0), *v = sqlite3_column_blob(q, 1);
        size_t kl = (size_t)sqlite3_column_bytes(q, 0), vl = (size_t)sqlite3_column_bytes(q, 1);
        rc = mc_snapshot_chunker_add(&ch, k, kl, v ? v : (const uint8_t *)"", vl);
        if (!rc) rc = writer_row(&w, k, kl, v ? v : (const uint8_t *)"", vl);
    }
    if (!rc && step != SQLITE_DONE) rc = mc_err_set(MC_ERR_DB, "reading the state: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    q = NULL;
    (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    in_txn = false;
    if (!rc) rc = mc_snapshot_chunker_finish(&ch);
    if (rc) goto out;
    /* what we publish must hash to the header's root */
    mc_hash root;
    mc_smt_sort(w.rows, w.n);
    if (mc_smt_root_of(w.rows, w.n, &root) || memcmp(root.b, m.state_root.b, 32)) {
        rc = mc_err_set(MC_ERR_TAMPERED, "the stored state rows do not hash to block %" PRIu64 "'s state root",
                        m.height);
        goto out;
    }
    m.rows = ch.rows;
    m.chunk_count = w.chunks;
    m.chunks = w.hashes;
    struct mc_buf mb;
    mc_buf_init(&mb, MC_SNAPSHOT_MANIFEST_MAX);
    mc_snapshot_manifest_encode(&mb, &m);
    m.chunks = NULL;
    char p[PATH_MAX + 100];
    snprintf(p, sizeof p, "%s/manifest", w.tmp);
    rc = mb.err ? mb.err : write_file(p, mb.data, mb.len);
    if (!rc && rename(w.tmp, final)) rc = mc_err_set(MC_ERR_IO, "cannot rename %s: %s", w.tmp, strerror(errno));
    if (!rc) {
        made_tmp = false;
        pthread_mutex_lock(&s->mu);
        if (s->count == MC_SNAPSHOT_KEEP_MAX) {
            char old[PATH_MAX + 64];
            snap_path(old, sizeof old, s, s->list[0].height, NULL);
            remove_tree(old);
            mc_buf_deinit(&s->list[0].manifest);
            memmove(&s->list[0], &s->list[1], (s->count - 1) * sizeof s->list[0]);
            s->count--;
        }
        s->list[s->count++] = (struct snap_entry){.height = m.height, .manifest = mb, .chunk_count = w.chunks};
        list_prune(s);
        pthread_mutex_unlock(&s->mu);
        mc_log_info("snapshot", "wrote the snapshot of height %" PRIu64 ": %" PRIu64 " rows in %u chunks in %.2f s",
                    m.height, ch.rows, w.chunks, mono_s() - t0);
    } else {
        mc_buf_deinit(&mb);
    }
out:
    if (q) sqlite3_finalize(q);
    if (in_txn) (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (made_tmp) remove_tree(w.tmp);
    mc_snapshot_chunker_deinit(&ch);
    free(w.hashes);
    free(w.rows);
    mc_store_close(st);
    return rc;
}

static void *writer_main(void *arg) {
    struct mc_snapshots *s = arg;
    uint64_t h = 0;
    mc_err_clear();
    int rc = write_snapshot(s, &h);
    if (rc && rc != MC_ERR_EXISTS)
        mc_log_warn("snapshot", "no snapshot at height %" PRIu64 ": %s", h, mc_err_detail());
    pthread_mutex_lock(&s->mu);
    s->busy = false;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void mc_snapshots_after_commit(struct mc_node *n) {
    struct mc_snapshots *s = n->snaps;
    if (!s || !s->cfg.interval || n->head.height % s->cfg.interval) return;
    pthread_mutex_lock(&s->mu);
    bool busy = s->busy, join = s->have_thread && !busy;
    pthread_mutex_unlock(&s->mu);
    if (busy) {
        mc_log_warn("snapshot", "height %llu: the previous snapshot is still being written, skipping this one",
                    (unsigned long long)n->head.height);
        return;
    }
    if (join) pthread_join(s->thread, NULL); /* finished: reap it */
    pthread_mutex_lock(&s->mu);
    s->have_thread = false;
    s->busy = true;
    if (pthread_create(&s->thread, NULL, writer_main, s) == 0) {
        s->have_thread = true;
    } else {
        s->busy = false;
        mc_log_warn("snapshot", "cannot start the snapshot writer");
    }
    pthread_mutex_unlock(&s->mu);
}

/* ---- serving peers ---- */

static void send_to(struct mc_node *n, const mc_pubkey *to, const struct mc_buf *b) {
    if (n->net && !b->err && mc_net_send(n->net, to, b->data, b->len) != 0) mc_err_clear();
}

static void serve_list(struct mc_node *n, const mc_pubkey *from) {
    struct mc_snapshots *s = n->snaps;
    struct mc_buf w;
    mc_buf_init(&w, MC_NET_MESSAGE_MAX);
    pthread_mutex_lock(&s->mu);
    struct mc_buf list[MC_SNAPSHOT_KEEP_MAX];
    uint32_t k = 0;
    for (uint32_t i = s->count; i-- > 0;) list[k++] = s->list[i].manifest; /* latest first */
    mc_wire_encode_snapshots(&w, k, list);
    pthread_mutex_unlock(&s->mu);
    send_to(n, from, &w);
    mc_buf_deinit(&w);
}

static void serve_chunk(struct mc_node *n, const mc_pubkey *from, uint64_t height, uint32_t index) {
    struct mc_snapshots *s = n->snaps;
    bool have = false;
    pthread_mutex_lock(&s->mu);
    for (uint32_t i = 0; i < s->count; i++)
        if (s->list[i].height == height && index < s->list[i].chunk_count) have = true;
    pthread_mutex_unlock(&s->mu);
    struct mc_buf c, w;
    mc_buf_init(&c, MC_SNAPSHOT_CHUNK_MAX);
    mc_buf_init(&w, MC_NET_MESSAGE_MAX);
    char name[32], p[PATH_MAX + 64];
    snprintf(name, sizeof name, "chunk-%u", index);
    snap_path(p, sizeof p, s, height, name);
    if (have && read_file(p, &c, MC_SNAPSHOT_CHUNK_MAX) == 0 && c.len > 0) {
        if (s->cfg.test_corrupt) c.data[c.len / 2] ^= 0x01; /* for tests: a dishonest peer */
        mc_wire_encode_chunk(&w, height, index, c.data, c.len);
    } else {
        mc_wire_encode_no_chunk(&w, height, index);
    }
    send_to(n, from, &w);
    mc_buf_deinit(&c);
    mc_buf_deinit(&w);
}

/* The changes of validators with their proofs (blockexec.c keeps them in
 * metadata) and the header and certificate of each one's block: from the
 * blocks table, or, below a state-synced node's first block, from the
 * metadata the state sync stored ("statesync_header/<height>"). */
static void serve_valsets(struct mc_node *n, const mc_pubkey *from) {
    struct mc_buf items[MC_SNAPSHOT_VALSETS_MAX], hbs[MC_SNAPSHOT_VALSETS_MAX], cbs[MC_SNAPSHOT_VALSETS_MAX];
    struct mc_wire_valset_change vs[MC_SNAPSHOT_VALSETS_MAX];
    uint32_t count = 0, k = 0;
    struct mc_buf b, w;
    mc_buf_init(&b, 0);
    mc_buf_init(&w, MC_NET_MESSAGE_MAX);
    if (mc_store_meta_get(n->store, "valset_proofs", &b) == 0 && b.len == 4)
        count = (uint32_t)b.data[0] << 24 | (uint32_t)b.data[1] << 16 | (uint32_t)b.data[2] << 8 | b.data[3];
    if (count > MC_SNAPSHOT_VALSETS_MAX) count = MC_SNAPSHOT_VALSETS_MAX;
    for (uint32_t i = 0; i < count; i++) {
        mc_buf_init(&items[i], 0);
        mc_buf_init(&hbs[i], 0);
        mc_buf_init(&cbs[i], 0);
    }
    int rc = 0;
    for (; k < count && !rc; k++) {
        char name[64];
        snprintf(name, sizeof name, "valset_proof/%u", k);
        if ((rc = mc_store_meta_get(n->store, name, &items[k]))) break;
        struct mc_dec d;
        mc_dec_init(&d, items[k].data, items[k].len);
        struct mc_wire_valset_change *v = &vs[k];
        v->height = mc_dec_u64(&d);
        v->from = mc_dec_u64(&d);
        v->row = mc_dec_bytes32(&d, &v->row_len, MC_STATE_VALUE_MAX);
        v->proof = mc_dec_bytes32(&d, &v->proof_len, MC_STATEPROOF_MAX);
        if (mc_dec_finish(&d) || !v->row || !v->proof) {
            rc = MC_ERR_TAMPERED;
            break;
        }
        rc = mc_store_get_block_raw(n->store, v->height, NULL, &hbs[k], NULL, &cbs[k]);
        if (rc == MC_ERR_NOT_FOUND) {
            mc_buf_reset(&b);
            snprintf(name, sizeof name, "statesync_header/%" PRIu64, v->height);
            rc = mc_store_meta_get(n->store, name, &b);
            mc_dec_init(&d, b.data, b.len);
            size_t hl = 0, cl = 0;
            const uint8_t *hp = mc_dec_bytes32(&d, &hl, MC_HEADER_BYTES_MAX);
            const uint8_t *cp = mc_dec_bytes32(&d, &cl, MC_COMMIT_BYTES_MAX);
            if (!rc && (mc_dec_finish(&d) || !hp || !cp)) rc = MC_ERR_TAMPERED;
            if (!rc) {
                mc_buf_append(&hbs[k], hp, hl);
                mc_buf_append(&cbs[k], cp, cl);
            }
        }
        v->header = hbs[k].data;
        v->header_len = hbs[k].len;
        v->commit = cbs[k].data;
        v->commit_len = cbs[k].len;
    }
    if (rc) {
        mc_log_warn("snapshot", "cannot list the changes of validators for a peer: %s", mc_err_detail());
        count = 0;
    }
    mc_wire_encode_valsets(&w, count, vs);
    send_to(n, from, &w);
    for (uint32_t i = 0; i < count; i++) {
        mc_buf_deinit(&items[i]);
        mc_buf_deinit(&hbs[i]);
        mc_buf_deinit(&cbs[i]);
    }
    mc_buf_deinit(&b);
    mc_buf_deinit(&w);
}

void mc_snapshots_on_wire(struct mc_node *n, const mc_pubkey *from, const uint8_t *msg, size_t len) {
    struct mc_wire_snap *m = malloc(sizeof *m);
    if (!m) return;
    if (mc_wire_snap_decode(m, msg, len) != 0) {
        if (n->net) mc_net_drop(n->net, from, "malformed state sync message");
    } else if (n->snaps) {
        if (m->type == MC_WIRE_GET_SNAPSHOTS) serve_list(n, from);
        else if (m->type == MC_WIRE_GET_CHUNK) serve_chunk(n, from, m->height, m->index);
        else if (m->type == MC_WIRE_GET_VALSETS) serve_valsets(n, from);
    }
    free(m);
}
