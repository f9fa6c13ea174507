/* Backup and restore of a node's home (see backup.h). */
#include "node/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hex.h"
#include "chain/store.h"
#include "node/node.h"

#define PATH_BYTES 1024
#define MANIFEST "backup.json"
#define BACKUP_FORMAT 1
/* SQLITE_BUSY retries of the online copy (the node holds the write lock
 * only while a block commits). */
#define COPY_RETRIES 200

/* Files besides the database, as (path in the home, secret). */
static const struct {
    const char *path;
    bool secret;
    bool optional;
} FILES[] = {
    {"genesis.json", false, false},
    {"config.json", false, true},
    {"node_key.json", true, false},
    {"data/mempool.journal", false, true},
};

static int join(char out[PATH_BYTES], const char *dir, const char *name) {
    if ((size_t)snprintf(out, PATH_BYTES, "%s/%s", dir, name) >= PATH_BYTES)
        return mc_err_set(MC_ERR_TOO_LARGE, "path too long: %s/%s", dir, name);
    return 0;
}

/* Copies src to dst (created exclusively, mode), hashing what it wrote. */
static int copy_file(const char *src, const char *dst, mode_t mode, mc_hash *hash, uint64_t *size) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return mc_err_set(errno == ENOENT ? MC_ERR_NOT_FOUND : MC_ERR_IO, "cannot read %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (out < 0) {
        int e = errno;
        close(in);
        return mc_err_set(MC_ERR_IO, "cannot create %s: %s", dst, strerror(e));
    }
    mc_sha256_ctx ctx;
    mc_sha256_init(&ctx);
    uint8_t buf[65536];
    int rc = 0;
    *size = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = mc_err_set(MC_ERR_IO, "cannot read %s: %s", src, strerror(errno));
            break;
        }
        if (n == 0) break;
        mc_sha256_update(&ctx, buf, (size_t)n);
        for (ssize_t off = 0; off < n && !rc;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) rc = mc_err_set(MC_ERR_IO, "cannot write %s: %s", dst, strerror(errno));
            else off += w;
        }
        if (rc) break;
        *size += (uint64_t)n;
    }
    if (!rc && fsync(out) != 0) rc = mc_err_set(MC_ERR_IO, "cannot sync %s: %s", dst, strerror(errno));
    close(in);
    if (close(out) != 0 && !rc) rc = mc_err_set(MC_ERR_IO, "cannot close %s", dst);
    mc_sha256_final(&ctx, hash);
    return rc;
}

static int hash_file(const char *path, mc_hash *hash, uint64_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return mc_err_set(MC_ERR_NOT_FOUND, "%s is missing: %s", path, strerror(errno));
    mc_sha256_ctx ctx;
    mc_sha256_init(&ctx);
    uint8_t buf[65536];
    size_t n;
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        mc_sha256_update(&ctx, buf, n);
        *size += n;
    }
    int rc = ferror(f) ? mc_err_set(MC_ERR_IO, "cannot read %s", path) : 0;
    fclose(f);
    mc_sha256_final(&ctx, hash);
    return rc;
}

/* The online copy of the database: one backup step over the whole file,
 * so it reads one snapshot. */
static int copy_db(const char *src_path, const char *dst_path) {
    sqlite3 *src = NULL, *dst = NULL;
    int rc = 0;
    if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = mc_err_set(MC_ERR_DB, "cannot open %s: %s", src_path, src ? sqlite3_errmsg(src) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(src, 5000);
    if (sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE, NULL) !=
        SQLITE_OK) {
        rc = mc_err_set(MC_ERR_IO, "cannot create %s: %s", dst_path, dst ? sqlite3_errmsg(dst) : "out of memory");
        goto out;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = mc_err_set(MC_ERR_DB, "cannot start the copy: %s", sqlite3_errmsg(dst));
        goto out;
    }
    int step = SQLITE_OK;
    for (int i = 0; i < COPY_RETRIES; i++) {
        step = sqlite3_backup_step(b, -1);
        if (step != SQLITE_BUSY && step != SQLITE_LOCKED) break;
        sqlite3_sleep(25);
    }
    if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE)
        rc = mc_err_set(MC_ERR_DB, "the copy of the database failed: %s", sqlite3_errstr(step));
    /* One file, no -wal beside it: the copy stands alone. */
    if (!rc && sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
        rc = mc_err_set(MC_ERR_DB, "cannot finish the copy: %s", sqlite3_errmsg(dst));
out:
    sqlite3_close(src);
    if (sqlite3_close(dst) != SQLITE_OK && !rc) rc = mc_err_set(MC_ERR_DB, "cannot close the copy");
    return rc;
}

/* Height, block hash and state root the database at path holds. */
static int db_tip(const char *path, struct mc_backup_info *info) {
    struct mc_store *s = NULL;
    int rc = mc_store_open(&s, path, true);
    if (rc) return rc;
    rc = mc_store_height(s, &info->height);
    if (!rc && info->height) {
        struct mc_header h;
        rc = mc_store_get_header(s, info->height, &h, &info->block_hash);
        if (!rc) info->state_root = h.state_hash;
    } else if (!rc) {
        struct mc_buf b;
        mc_buf_init(&b, 64);
        if (mc_store_meta_get(s, "genesis_state_hash", &b) == 0 && b.len == 32)
            memcpy(info->state_root.b, b.data, 32);
        mc_buf_deinit(&b);
    }
    mc_store_close(s);
    return rc;
}

static json_t *file_entry(const char *path, const mc_hash *h, uint64_t size) {
    char hx[65];
    mc_hex_encode(hx, h->b, 32);
    return json_pack("{s:s, s:s, s:I}", "path", path, "sha256", hx, "bytes", (json_int_t)size);
}

int mc_backup_take(const char *home, const char *out_dir, bool with_key,
                   struct mc_backup_info *info) {
    memset(info, 0, sizeof *info);
    info->with_key = with_key;
    char src[PATH_BYTES], dst[PATH_BYTES];
    struct stat st;
    if (stat(out_dir, &st) == 0) return mc_err_set(MC_ERR_EXISTS, "%s already exists: a backup goes into a new folder", out_dir);
    if (mkdir(out_dir, 0700) != 0) return mc_err_set(MC_ERR_IO, "cannot create %s: %s", out_dir, strerror(errno));
    int rc = join(dst, out_dir, "data");
    if (!rc && mkdir(dst, 0700) != 0) rc = mc_err_set(MC_ERR_IO, "cannot create %s: %s", dst, strerror(errno));
    json_t *files = json_array();
    if (!files) return MC_ERR_NOMEM;
    if (!rc) rc = join(src, home, "data/chain.db");
    if (!rc) rc = join(dst, out_dir, "data/chain.db");
    if (!rc) rc = copy_db(src, dst);
    if (!rc) rc = db_tip(dst, info);
    mc_hash h;
    uint64_t size = 0;
    if (!rc) rc = hash_file(dst, &h, &size);
    if (!rc) {
        json_array_append_new(files, file_entry("data/chain.db", &h, size));
        info->bytes += size;
        info->files++;
    }
    for (size_t i = 0; !rc && i < sizeof FILES / sizeof FILES[0]; i++) {
        if (FILES[i].secret && !with_key) continue;
        if ((rc = join(src, home, FILES[i].path)) || (rc = join(dst, out_dir, FILES[i].path))) break;
        rc = copy_file(src, dst, FILES[i].secret ? 0600 : 0644, &h, &size);
        if (rc == MC_ERR_NOT_FOUND && FILES[i].optional) {
            rc = 0;
            continue;
        }
        if (!rc) {
            json_array_append_new(files, file_entry(FILES[i].path, &h, size));
            info->bytes += size;
            info->files++;
        }
    }
    if (!rc) {
        char bh[65], sr[65];
        mc_hex_encode(bh, info->block_hash.b, 32);
        mc_hex_encode(sr, info->state_root.b, 32);
        json_t *m = json_pack("{s:i, s:I, s:s, s:s, s:b, s:o}", "medchain_backup", BACKUP_FORMAT, "height",
                              (json_int_t)info->height, "block_hash", bh, "state_root", sr, "with_key",
                              with_key, "files", files);
        files = NULL;
        if (!m) rc = MC_ERR_NOMEM;
        if (!rc) rc = join(dst, out_dir, MANIFEST);
        if (!rc && json_dump_file(m, dst, JSON_INDENT(2)) != 0)
            rc = mc_err_set(MC_ERR_IO, "cannot write %s", dst);
        json_decref(m);
    }
    json_decref(files);
    return rc;
}

/* Checks every file of the manifest; fills info from it. */
static int check_manifest(const char *dir, json_t *m, struct mc_backup_info *info) {
    if (json_integer_value(json_object_get(m, "medchain_backup")) != BACKUP_FORMAT)
        return mc_err_set(MC_ERR_INVALID, "%s/%s is not a medchain backup of format %d", dir, MANIFEST, BACKUP_FORMAT);
    json_t *files = json_object_get(m, "files");
    size_t i;
    json_t *f;
    bool have_db = false, have_genesis = false;
    json_array_foreach(files, i, f) {
        const char *path = json_string_value(json_object_get(f, "path"));
        const char *want = json_string_value(json_object_get(f, "sha256"));
        bool known = path && strcmp(path, "data/chain.db") == 0;
        for (size_t k = 0; path && k < sizeof FILES / sizeof FILES[0]; k++) known = known || strcmp(path, FILES[k].path) == 0;
        if (!known || !want) return mc_err_set(MC_ERR_TAMPERED, "the manifest names an unknown file");
        char p[PATH_BYTES];
        int rc = join(p, dir, path);
        mc_hash h;
        uint64_t size;
        if (!rc) rc = hash_file(p, &h, &size);
        if (rc) return mc_err_set(MC_ERR_TAMPERED, "backup file %s: %s", path, mc_err_detail());
        char hx[65];
        mc_hex_encode(hx, h.b, 32);
        if (strcmp(hx, want) != 0) return mc_err_set(MC_ERR_TAMPERED, "backup file %s does not match its manifest", path);
        have_db = have_db || strcmp(path, "data/chain.db") == 0;
        have_genesis = have_genesis || strcmp(path, "genesis.json") == 0;
        info->bytes += size;
        info->files++;
        if (strcmp(path, "node_key.json") == 0) info->with_key = true;
    }
    if (!have_db || !have_genesis) return mc_err_set(MC_ERR_TAMPERED, "the backup lacks its database or genesis");
    return 0;
}

/* Removes what a failed restore wrote into the new home. */
static void remove_home(const char *home, json_t *files) {
    char p[PATH_BYTES];
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) {
        const char *path = json_string_value(json_object_get(f, "path"));
        if (path && join(p, home, path) == 0) unlink(p);
    }
    const char *side[] = {"data/chain.db-wal", "data/chain.db-shm", "data/chain.db-journal"};
    for (size_t k = 0; k < sizeof side / sizeof side[0]; k++)
        if (join(p, home, side[k]) == 0) unlink(p);
    if (join(p, home, "data") == 0) rmdir(p);
    rmdir(home);
}

int mc_backup_restore(const char *dir, const char *home, struct mc_backup_info *info,
                      struct mc_verify_report *report) {
    memset(info, 0, sizeof *info);
    memset(report, 0, sizeof *report);
    char p[PATH_BYTES], q[PATH_BYTES];
    int rc = join(p, dir, MANIFEST);
    if (rc) return rc;
    json_error_t je;
    json_t *m = json_load_file(p, 0, &je);
    if (!m) return mc_err_set(MC_ERR_NOT_FOUND, "%s: %s", p, je.text);
    rc = check_manifest(dir, m, info);
    uint64_t want_height = (uint64_t)json_integer_value(json_object_get(m, "height"));
    json_t *files = json_object_get(m, "files");
    /* The new home: every file copied and checked against the manifest. */
    struct stat st;
    bool made = false;
    if (!rc && stat(home, &st) == 0 && rmdir(home) != 0)
        rc = mc_err_set(MC_ERR_EXISTS, "%s exists and is not empty: restore makes a new home", home);
    if (!rc && mkdir(home, 0700) != 0) rc = mc_err_set(MC_ERR_IO, "cannot create %s: %s", home, strerror(errno));
    if (!rc) made = true;
    if (!rc && !(rc = join(p, home, "data")) && mkdir(p, 0700) != 0)
        rc = mc_err_set(MC_ERR_IO, "cannot create %s: %s", p, strerror(errno));
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) {
        if (rc) break;
        const char *path = json_string_value(json_object_get(f, "path"));
        if ((rc = join(p, dir, path)) || (rc = join(q, home, path))) break;
        bool secret = strcmp(path, "node_key.json") == 0 || strcmp(path, "data/chain.db") == 0;
        mc_hash h;
        uint64_t size;
        rc = copy_file(p, q, secret ? 0600 : 0644, &h, &size);
        char hx[65];
        mc_hex_encode(hx, h.b, 32);
        if (!rc && strcmp(hx, json_string_value(json_object_get(f, "sha256"))) != 0)
            rc = mc_err_set(MC_ERR_TAMPERED, "backup file %s changed while it was restored", path);
    }
    /* Then the whole chain verified in its new place, before anything runs
     * on it; a chain that does not verify leaves no home behind. */
    struct mc_genesis *g = rc ? NULL : sodium_malloc(sizeof *g);
    if (!rc && !g) rc = MC_ERR_NOMEM;
    if (!rc && !(rc = join(p, home, "genesis.json"))) rc = mc_node_genesis_load(g, p);
    if (!rc && !(rc = join(p, home, "data/chain.db"))) {
        struct mc_store *s = NULL;
        rc = mc_store_open(&s, p, true);
        if (!rc) rc = mc_verify_chain(s, g, report);
        mc_store_close(s);
        if (!rc) rc = db_tip(p, info);
        if (!rc && !report->ok)
            rc = mc_err_set(MC_ERR_TAMPERED, "the backup's chain does not verify at height %llu (%s): %s",
                            (unsigned long long)report->bad_height, report->object, report->detail);
        if (!rc && info->height != want_height)
            rc = mc_err_set(MC_ERR_TAMPERED, "the backup holds height %llu, its manifest says %llu",
                            (unsigned long long)info->height, (unsigned long long)want_height);
    }
    if (g) sodium_free(g);
    if (rc && made) {
        char why[512];
        snprintf(why, sizeof why, "%s", mc_err_detail());
        remove_home(home, files);
        mc_err_set(rc, "%s", why);
    }
    json_decref(m);
    return rc;
}
