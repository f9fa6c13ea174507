/* Key files (format in keyfile.h).
 *
 * Guarantees:
 *  - A key file is created, never replaced: open(O_CREAT|O_EXCL) with mode
 *    0600 (also refusing a symlink at the path), written in full, fsync'd,
 *    and removed again if any of that fails, so a crash or error never
 *    leaves a half-written key where a good one was expected.
 *  - Reading trusts nothing in the file: its size is bounded by
 *    MC_KEYFILE_MAX before it is parsed, every field is checked for type and
 *    exact length, unknown or duplicate fields are refused, the KDF cost is
 *    bounded (a hostile file cannot make us allocate gigabytes), and the
 *    seed must derive the stated public key.
 *  - Our own copies of the seed, the derived key and the JSON text live in
 *    sodium_malloc'd memory and are wiped; jansson's copy of a plain-form
 *    seed is wiped before it is freed. (jansson's parser keeps transient
 *    token buffers we cannot reach: the plain form is for tests and local
 *    networks, where the seed sits unencrypted on disk anyway.)
 *
 * Callers must have called mc_crypto_init(). */
#include "crypto/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/hex.h"
#include "base/limits.h"

#define KEYFILE_VERSION 1
#define KDF_NAME "argon2id13"
#define SALT_BYTES crypto_pwhash_SALTBYTES
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEALED_BYTES (MC_SEED_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define AEAD_KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES

_Static_assert(SALT_BYTES == 16, "keyfile.h documents a 16-byte salt");
_Static_assert(NONCE_BYTES == 24, "keyfile.h documents a 24-byte nonce");
_Static_assert(SEALED_BYTES == 48, "keyfile.h documents a 48-byte sealed seed");

/* The most KDF work a file we read may demand (base/limits.h). Writing is
 * held to the same bounds so we never write a file we would refuse to
 * read. */
#define KDF_OPS_MAX MC_KEYFILE_KDF_OPS_MAX
#define KDF_MEM_MAX MC_KEYFILE_KDF_MEM_MAX
_Static_assert(MC_KEYFILE_KDF_OPS_MAX == 4ULL * crypto_pwhash_OPSLIMIT_SENSITIVE,
               "four times libsodium's SENSITIVE passes");
_Static_assert(MC_KEYFILE_KDF_MEM_MAX == (size_t)crypto_pwhash_MEMLIMIT_SENSITIVE,
               "libsodium's SENSITIVE memory");

/* Process-wide KDF cost for new files; set at start-up, before threads. */
static unsigned long long kdf_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static size_t kdf_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

void mc_keyfile_set_kdf_limits(unsigned long long opslimit, size_t memlimit) {
    /* Misuse: a cost we would refuse when reading. */
    MC_ASSERT(opslimit >= crypto_pwhash_OPSLIMIT_MIN && opslimit <= KDF_OPS_MAX &&
              memlimit >= crypto_pwhash_MEMLIMIT_MIN && memlimit <= KDF_MEM_MAX);
    kdf_ops = opslimit;
    kdf_mem = memlimit;
}

/* Every secret of one operation, in one guarded allocation that
 * sodium_free wipes. */
struct secrets {
    uint8_t seed[MC_SEED_BYTES];
    uint8_t key[AEAD_KEY_BYTES];
    char seed_hex[2 * MC_SEED_BYTES + 1];
    struct mc_keypair check;
    char text[MC_KEYFILE_MAX + 1]; /* the file's bytes, NUL-terminated */
};

/* Wipes the text of a jansson string we put a secret in, before it is freed. */
static void wipe_json_string(json_t *s) {
    if (json_is_string(s)) sodium_memzero((char *)json_string_value(s), json_string_length(s));
}

static int derive_key(uint8_t key[AEAD_KEY_BYTES], const char *passphrase,
                      const uint8_t salt[SALT_BYTES], unsigned long long ops, size_t mem) {
    if (crypto_pwhash(key, AEAD_KEY_BYTES, passphrase, strlen(passphrase), salt, ops, mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return mc_err_set(MC_ERR_NOMEM, "key derivation could not get %zu bytes", mem);
    return 0;
}

/* ---- writing ----------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes the new directory entry durable; best effort, as the file itself
 * is already complete and synced. */
static void sync_parent(const char *path) {
    char copy[4096];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy) return;
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    (void)fsync(dfd);
    close(dfd);
}

static int create_file(const char *path, const char *text, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return mc_err_set(MC_ERR_EXISTS, "%s already exists; not overwriting a key", path);
        return mc_err_set(MC_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    /* The umask can only narrow 0600; fchmod makes it exactly 0600. */
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return mc_err_set(MC_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(path);
        return mc_err_set(MC_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    sync_parent(path);
    return 0;
}

int mc_keyfile_write(const char *path, const struct mc_keypair *kp, const char *passphrase) {
    struct secrets *s = sodium_malloc(sizeof *s);
    if (!s) return mc_err_set(MC_ERR_NOMEM, "no memory for key material");
    int rc = 0;
    json_t *doc = NULL;
    char *dump = NULL;
    char pk_hex[2 * MC_PUBKEY_BYTES + 1];
    mc_hex_encode(pk_hex, kp->pk.b, MC_PUBKEY_BYTES);
    char created[11];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%d", &tm);

    crypto_sign_ed25519_sk_to_seed(s->seed, kp->sk);
    crypto_sign_seed_keypair(s->check.pk.b, s->check.sk, s->seed);
    if (memcmp(s->check.pk.b, kp->pk.b, MC_PUBKEY_BYTES) != 0) {
        rc = mc_err_set(MC_ERR_INVALID, "key pair is inconsistent: not writing %s", path);
        goto out;
    }

    if (!passphrase || !*passphrase) {
        mc_hex_encode(s->seed_hex, s->seed, MC_SEED_BYTES);
        doc = json_pack("{s:i, s:s, s:s, s:s}", "medchain_key", KEYFILE_VERSION, "public_key",
                        pk_hex, "created", created, "secret_seed", s->seed_hex);
    } else {
        uint8_t salt[SALT_BYTES], nonce[NONCE_BYTES], sealed[SEALED_BYTES];
        char salt_hex[2 * SALT_BYTES + 1], nonce_hex[2 * NONCE_BYTES + 1],
            sealed_hex[2 * SEALED_BYTES + 1];
        randombytes_buf(salt, sizeof salt);
        randombytes_buf(nonce, sizeof nonce);
        rc = derive_key(s->key, passphrase, salt, kdf_ops, kdf_mem);
        if (rc) goto out;
        crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, NULL, s->seed, MC_SEED_BYTES,
                                                   kp->pk.b, MC_PUBKEY_BYTES, NULL, nonce,
                                                   s->key);
        mc_hex_encode(salt_hex, salt, sizeof salt);
        mc_hex_encode(nonce_hex, nonce, sizeof nonce);
        mc_hex_encode(sealed_hex, sealed, sizeof sealed);
        doc = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "medchain_key",
                        KEYFILE_VERSION, "public_key", pk_hex, "created", created, "kdf", KDF_NAME, "opslimit",
                        (json_int_t)kdf_ops, "memlimit", (json_int_t)kdf_mem, "salt", salt_hex,
                        "nonce", nonce_hex, "sealed_seed", sealed_hex);
    }
    if (!doc) {
        rc = mc_err_set(MC_ERR_NOMEM, "cannot build key file JSON");
        goto out;
    }
    dump = json_dumps(doc, JSON_COMPACT);
    wipe_json_string(json_object_get(doc, "secret_seed"));
    if (!dump) {
        rc = mc_err_set(MC_ERR_NOMEM, "cannot serialise key file JSON");
        goto out;
    }
    size_t len = strlen(dump);
    MC_ASSERT(len + 1 <= MC_KEYFILE_MAX); /* fixed-size fields: cannot happen */
    memcpy(s->text, dump, len);
    s->text[len++] = '\n';
    sodium_memzero(dump, len - 1);
    rc = create_file(path, s->text, len);
out:
    free(dump);
    json_decref(doc);
    sodium_free(s);
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

/* A decoded key file; the secret parts are in struct secrets. */
struct keyfile {
    mc_pubkey pk;
    bool encrypted;
    unsigned long long ops;
    size_t mem;
    uint8_t salt[SALT_BYTES];
    uint8_t nonce[NONCE_BYTES];
    uint8_t sealed[SEALED_BYTES];
    bool has_created;
    int64_t created_days;
};

static int load_text(struct secrets *s, size_t *len_out, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mc_err_set(MC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mc_err_set(MC_ERR_IO, "%s is not a regular file", path);
    }
    /* Read at most one byte past the limit, whatever fstat said: the file
     * may change under us. */
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, s->text + len, MC_KEYFILE_MAX + 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return mc_err_set(MC_ERR_IO, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0) break;
        len += (size_t)r;
        if (len > MC_KEYFILE_MAX) {
            close(fd);
            return mc_err_set(MC_ERR_TOO_LARGE, "%s exceeds %d bytes", path, MC_KEYFILE_MAX);
        }
    }
    close(fd);
    *len_out = len;
    return 0;
}

static int hex_field(json_t *doc, const char *key, uint8_t *out, size_t n, const char *path) {
    json_t *v = json_object_get(doc, key);
    if (!json_is_string(v) || json_string_length(v) != 2 * n ||
        mc_hex_decode(out, n, json_string_value(v)) != 0)
        return mc_err_set(MC_ERR_MALFORMED, "%s: \"%s\" must be %zu hex digits", path, key,
                          2 * n);
    return 0;
}

static int uint_field(json_t *doc, const char *key, unsigned long long lo,
                      unsigned long long hi, unsigned long long *out, const char *path) {
    json_t *v = json_object_get(doc, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) < lo ||
        (unsigned long long)json_integer_value(v) > hi)
        return mc_err_set(MC_ERR_MALFORMED, "%s: \"%s\" must be an integer in [%llu, %llu]",
                          path, key, lo, hi);
    *out = (unsigned long long)json_integer_value(v);
    return 0;
}

/* Only the fields of the file's own form may appear. */
static int check_fields(json_t *doc, bool encrypted, const char *path) {
    static const char *plain[] = {"medchain_key", "public_key", "created", "secret_seed", NULL};
    static const char *sealed[] = {"medchain_key", "public_key", "created", "kdf",
                                   "opslimit",     "memlimit",   "salt",    "nonce",
                                   "sealed_seed",  NULL};
    const char **allowed = encrypted ? sealed : plain;
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        bool ok = false;
        for (const char **a = allowed; *a && !ok; a++) ok = strcmp(*a, key) == 0;
        if (!ok) return mc_err_set(MC_ERR_MALFORMED, "%s: unexpected field \"%s\"", path, key);
    }
    return 0;
}

/* Parses and checks the text in s. For the plain form the seed lands in
 * s->seed and is checked against the public key; for the sealed form the
 * KDF parameters and ciphertext land in kf. */
static int parse(struct keyfile *kf, struct secrets *s, size_t len, const char *path) {
    memset(kf, 0, sizeof *kf);
    json_error_t jerr;
    json_t *doc = json_loadb(s->text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return mc_err_set(MC_ERR_MALFORMED, "%s: not valid JSON (line %d: %s)", path,
                          jerr.line, jerr.text);
    int rc = 0;
    unsigned long long version, ops, mem;
    if (!json_is_object(doc)) {
        rc = mc_err_set(MC_ERR_MALFORMED, "%s: not a JSON object", path);
        goto out;
    }
    if ((rc = uint_field(doc, "medchain_key", KEYFILE_VERSION, KEYFILE_VERSION, &version,
                         path)))
        goto out;
    bool has_plain = json_object_get(doc, "secret_seed") != NULL;
    bool has_sealed = json_object_get(doc, "sealed_seed") != NULL;
    if (has_plain == has_sealed) {
        rc = mc_err_set(MC_ERR_MALFORMED, "%s: needs exactly one of secret_seed, sealed_seed",
                        path);
        goto out;
    }
    kf->encrypted = has_sealed;
    if ((rc = check_fields(doc, kf->encrypted, path))) goto out;
    json_t *cr = json_object_get(doc, "created");
    if (cr && (!json_is_string(cr) || !mc_keyfile_date_days(json_string_value(cr), &kf->created_days))) {
        rc = mc_err_set(MC_ERR_MALFORMED, "%s: \"created\" must be a date YYYY-MM-DD", path);
        goto out;
    }
    kf->has_created = cr != NULL;
    if ((rc = hex_field(doc, "public_key", kf->pk.b, MC_PUBKEY_BYTES, path))) goto out;

    if (!kf->encrypted) {
        rc = hex_field(doc, "secret_seed", s->seed, MC_SEED_BYTES, path);
        if (rc) goto out;
        crypto_sign_seed_keypair(s->check.pk.b, s->check.sk, s->seed);
        if (memcmp(s->check.pk.b, kf->pk.b, MC_PUBKEY_BYTES) != 0)
            rc = mc_err_set(MC_ERR_TAMPERED, "%s: the seed does not derive the public key",
                            path);
        goto out;
    }
    json_t *kdf = json_object_get(doc, "kdf");
    if (!json_is_string(kdf) || strcmp(json_string_value(kdf), KDF_NAME) != 0) {
        rc = mc_err_set(MC_ERR_MALFORMED, "%s: \"kdf\" must be \"" KDF_NAME "\"", path);
        goto out;
    }
    if ((rc = uint_field(doc, "opslimit", crypto_pwhash_OPSLIMIT_MIN, KDF_OPS_MAX, &ops, path)) ||
        (rc = uint_field(doc, "memlimit", crypto_pwhash_MEMLIMIT_MIN, KDF_MEM_MAX, &mem, path)) ||
        (rc = hex_field(doc, "salt", kf->salt, SALT_BYTES, path)) ||
        (rc = hex_field(doc, "nonce", kf->nonce, NONCE_BYTES, path)) ||
        (rc = hex_field(doc, "sealed_seed", kf->sealed, SEALED_BYTES, path)))
        goto out;
    kf->ops = ops;
    kf->mem = (size_t)mem;
out:
    wipe_json_string(json_object_get(doc, "secret_seed"));
    json_decref(doc);
    return rc;
}

static int read_file(struct keyfile *kf, struct secrets *s, const char *path) {
    size_t len = 0;
    int rc = load_text(s, &len, path);
    return rc ? rc : parse(kf, s, len, path);
}

int mc_keyfile_read(struct mc_keypair *kp, const char *path, const char *passphrase) {
    sodium_memzero(kp, sizeof *kp);
    struct secrets *s = sodium_malloc(sizeof *s);
    if (!s) return mc_err_set(MC_ERR_NOMEM, "no memory for key material");
    struct keyfile kf;
    int rc = read_file(&kf, s, path);
    if (rc) goto out;
    if (kf.encrypted) {
        if (!passphrase || !*passphrase) {
            rc = mc_err_set(MC_ERR_PASSPHRASE, "%s is encrypted: a passphrase is needed", path);
            goto out;
        }
        if ((rc = derive_key(s->key, passphrase, kf.salt, kf.ops, kf.mem))) goto out;
        /* The public key is the associated data, so a file whose public key
         * was swapped fails here exactly like a wrong passphrase. */
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(s->seed, NULL, NULL, kf.sealed,
                                                       SEALED_BYTES, kf.pk.b, MC_PUBKEY_BYTES,
                                                       kf.nonce, s->key) != 0) {
            rc = mc_err_set(MC_ERR_PASSPHRASE, "%s: wrong passphrase, or the file was altered",
                            path);
            goto out;
        }
        crypto_sign_seed_keypair(s->check.pk.b, s->check.sk, s->seed);
        if (memcmp(s->check.pk.b, kf.pk.b, MC_PUBKEY_BYTES) != 0) {
            rc = mc_err_set(MC_ERR_TAMPERED, "%s: the seed does not derive the public key",
                            path);
            goto out;
        }
    }
    /* parse() or the branch above left the checked key pair in s->check. */
    memcpy(kp, &s->check, sizeof *kp);
out:
    sodium_free(s);
    return rc;
}

bool mc_keyfile_date_days(const char *s, int64_t *days) {
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap) return false;
    /* days from the civil date (proleptic Gregorian), 1970-01-01 = 0 */
    int yy = m <= 2 ? y - 1 : y;
    int era = yy / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = (int64_t)era * 146097 + doe - 719468;
    return true;
}

int mc_keyfile_created(const char *path, int64_t *days) {
    struct secrets *s = sodium_malloc(sizeof *s);
    if (!s) return mc_err_set(MC_ERR_NOMEM, "no memory for key material");
    struct keyfile kf;
    int rc = read_file(&kf, s, path);
    if (!rc && !kf.has_created) rc = mc_err_set(MC_ERR_NOT_FOUND, "%s does not say when it was created", path);
    if (!rc) *days = kf.created_days;
    sodium_free(s);
    return rc;
}

int mc_keyfile_read_public(mc_pubkey *pk, const char *path) {
    memset(pk, 0, sizeof *pk);
    struct secrets *s = sodium_malloc(sizeof *s);
    if (!s) return mc_err_set(MC_ERR_NOMEM, "no memory for key material");
    struct keyfile kf;
    int rc = read_file(&kf, s, path);
    if (!rc) *pk = kf.pk;
    sodium_free(s);
    return rc;
}
