/* Key files: plain and passphrase round trips, file mode, no overwrite,
 * passphrase errors, and rejection of altered, truncated or hostile files. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/limits.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"

static char dir[64];

static void setup(void) {
    mc_crypto_init();
    /* The cheapest Argon2id settings keep the suite fast. */
    mc_keyfile_set_kdf_limits(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    snprintf(dir, sizeof dir, "/tmp/medchain-keyfile-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(keyfile, .init = setup, .fini = teardown);

static const char *tmp(const char *name) {
    static char path[2][128];
    static int which;
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", dir, name);
    return path[which];
}

static void keypair(struct mc_keypair *kp, uint8_t fill) {
    uint8_t seed[MC_SEED_BYTES];
    memset(seed, fill, sizeof seed);
    mc_keypair_from_seed(kp, seed);
}

static void read_text(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
}

static void write_text(const char *path, const char *text) {
    unlink(path);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

Test(keyfile, plain_round_trip) {
    struct mc_keypair kp, got;
    keypair(&kp, 7);
    const char *p = tmp("plain.json");
    cr_assert_eq(mc_keyfile_write(p, &kp, NULL), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_keyfile_read(&got, p, NULL), 0, "%s", mc_err_detail());
    cr_assert_eq(memcmp(&kp, &got, sizeof kp), 0);
    mc_pubkey pk;
    cr_assert_eq(mc_keyfile_read_public(&pk, p), 0);
    cr_assert_eq(memcmp(pk.b, kp.pk.b, 32), 0);
    /* "" is the plain form too. */
    cr_assert_eq(mc_keyfile_write(tmp("plain2.json"), &kp, ""), 0);
    char text[MC_KEYFILE_MAX];
    read_text(tmp("plain2.json"), text, sizeof text);
    cr_assert_not_null(strstr(text, "\"secret_seed\""));
}

Test(keyfile, passphrase_round_trip) {
    struct mc_keypair kp, got;
    keypair(&kp, 9);
    const char *p = tmp("sealed.json");
    cr_assert_eq(mc_keyfile_write(p, &kp, "correct horse"), 0, "%s", mc_err_detail());
    char text[MC_KEYFILE_MAX];
    read_text(p, text, sizeof text);
    cr_assert_null(strstr(text, "secret_seed"), "passphrase file holds a plain seed");
    cr_assert_not_null(strstr(text, "\"kdf\":\"argon2id13\""));
    cr_assert_eq(mc_keyfile_read(&got, p, "correct horse"), 0, "%s", mc_err_detail());
    cr_assert_eq(memcmp(&kp, &got, sizeof kp), 0);
    mc_pubkey pk;
    cr_assert_eq(mc_keyfile_read_public(&pk, p), 0);
    cr_assert_eq(memcmp(pk.b, kp.pk.b, 32), 0);
}

Test(keyfile, mode_is_0600) {
    struct mc_keypair kp;
    keypair(&kp, 1);
    mode_t old = umask(0);
    int rc = mc_keyfile_write(tmp("k.json"), &kp, "pw");
    umask(old);
    cr_assert_eq(rc, 0);
    struct stat st;
    cr_assert_eq(stat(tmp("k.json"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
}

Test(keyfile, refuses_overwrite) {
    struct mc_keypair a, b, got;
    keypair(&a, 1);
    keypair(&b, 2);
    const char *p = tmp("k.json");
    cr_assert_eq(mc_keyfile_write(p, &a, NULL), 0);
    cr_assert_eq(mc_keyfile_write(p, &b, NULL), MC_ERR_EXISTS);
    cr_assert_eq(mc_keyfile_write(p, &b, "pw"), MC_ERR_EXISTS);
    cr_assert_eq(mc_keyfile_read(&got, p, NULL), 0);
    cr_assert_eq(memcmp(&a, &got, sizeof a), 0, "original key was replaced");
    /* A symlink at the path is refused, not followed. */
    const char *link = tmp("link.json");
    cr_assert_eq(symlink(tmp("elsewhere.json"), link), 0);
    cr_assert_eq(mc_keyfile_write(link, &a, NULL), MC_ERR_EXISTS);
    cr_assert_eq(access(tmp("elsewhere.json"), F_OK), -1);
}

Test(keyfile, wrong_or_missing_passphrase) {
    struct mc_keypair kp, got;
    keypair(&kp, 3);
    const char *p = tmp("k.json");
    cr_assert_eq(mc_keyfile_write(p, &kp, "right"), 0);
    cr_assert_eq(mc_keyfile_read(&got, p, "wrong"), MC_ERR_PASSPHRASE);
    cr_assert_eq(mc_keyfile_read(&got, p, NULL), MC_ERR_PASSPHRASE);
    cr_assert_eq(mc_keyfile_read(&got, p, ""), MC_ERR_PASSPHRASE);
    static const uint8_t zero[sizeof got] = {0};
    cr_assert_eq(memcmp(&got, zero, sizeof got), 0, "failed read left key material");
}

Test(keyfile, missing_file) {
    struct mc_keypair kp, got;
    mc_pubkey pk;
    keypair(&kp, 2);
    cr_assert_eq(mc_keyfile_read(&got, tmp("none.json"), NULL), MC_ERR_IO);
    cr_assert_eq(mc_keyfile_read_public(&pk, tmp("none.json")), MC_ERR_IO);
    cr_assert_eq(mc_keyfile_read(&got, dir, NULL), MC_ERR_IO); /* a directory */
    cr_assert_eq(mc_keyfile_write("/nonexistent-dir/k.json", &kp, NULL), MC_ERR_IO);
}

/* Replaces the first occurrence of `from` in the file with `to`. */
static void edit(const char *src, const char *dst, const char *from, const char *to) {
    char text[MC_KEYFILE_MAX * 2], out[MC_KEYFILE_MAX * 2];
    read_text(src, text, sizeof text);
    char *at = strstr(text, from);
    cr_assert_not_null(at, "%s not in %s", from, text);
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    write_text(dst, out);
}

Test(keyfile, tampered_public_key) {
    struct mc_keypair kp, other, got;
    keypair(&kp, 4);
    keypair(&other, 5);
    char kp_hex[65], other_hex[65];
    for (int i = 0; i < 32; i++) {
        sprintf(kp_hex + 2 * i, "%02x", kp.pk.b[i]);
        sprintf(other_hex + 2 * i, "%02x", other.pk.b[i]);
    }
    cr_assert_eq(mc_keyfile_write(tmp("plain.json"), &kp, NULL), 0);
    edit(tmp("plain.json"), tmp("plain-bad.json"), kp_hex, other_hex);
    cr_assert_eq(mc_keyfile_read(&got, tmp("plain-bad.json"), NULL), MC_ERR_TAMPERED);

    cr_assert_eq(mc_keyfile_write(tmp("sealed.json"), &kp, "pw"), 0);
    edit(tmp("sealed.json"), tmp("sealed-bad.json"), kp_hex, other_hex);
    /* The public key authenticates the sealed seed. */
    cr_assert_eq(mc_keyfile_read(&got, tmp("sealed-bad.json"), "pw"), MC_ERR_PASSPHRASE);
}

Test(keyfile, tampered_sealed_fields) {
    struct mc_keypair kp, got;
    keypair(&kp, 6);
    cr_assert_eq(mc_keyfile_write(tmp("s.json"), &kp, "pw"), 0);
    char text[MC_KEYFILE_MAX];
    read_text(tmp("s.json"), text, sizeof text);
    /* Flip one hex digit in the sealed seed, the nonce and the salt. */
    static const char *fields[] = {"\"sealed_seed\":\"", "\"nonce\":\"", "\"salt\":\""};
    for (int i = 0; i < 3; i++) {
        char copy[MC_KEYFILE_MAX];
        memcpy(copy, text, sizeof copy);
        char *v = strstr(copy, fields[i]);
        cr_assert_not_null(v);
        v += strlen(fields[i]);
        *v = *v == '0' ? '1' : '0';
        write_text(tmp("bad.json"), copy);
        cr_assert_eq(mc_keyfile_read(&got, tmp("bad.json"), "pw"), MC_ERR_PASSPHRASE, "%s",
                     fields[i]);
    }
}

Test(keyfile, truncated_json) {
    struct mc_keypair kp, got;
    keypair(&kp, 8);
    const char *forms[] = {NULL, "pw"};
    for (int f = 0; f < 2; f++) {
        cr_assert_eq(mc_keyfile_write(tmp(f ? "s.json" : "p.json"), &kp, forms[f]), 0);
        char text[MC_KEYFILE_MAX];
        read_text(tmp(f ? "s.json" : "p.json"), text, sizeof text);
        size_t len = strlen(text);
        /* Every cut short of the closing brace is rejected. */
        for (size_t cut = 0; cut + 1 < len; cut++) {
            char copy[MC_KEYFILE_MAX];
            memcpy(copy, text, cut);
            copy[cut] = 0;
            write_text(tmp("cut.json"), copy);
            int rc = mc_keyfile_read(&got, tmp("cut.json"), forms[f]);
            cr_assert(rc == MC_ERR_MALFORMED, "cut at %zu: rc %d", cut, rc);
        }
    }
}

Test(keyfile, malformed_documents) {
    struct mc_keypair kp, got;
    keypair(&kp, 10);
    char pk[65], seed[65];
    for (int i = 0; i < 32; i++) {
        sprintf(pk + 2 * i, "%02x", kp.pk.b[i]);
        sprintf(seed + 2 * i, "%02x", kp.sk[i]);
    }
    char good[512];
    snprintf(good, sizeof good, "{\"medchain_key\":1,\"public_key\":\"%s\",\"secret_seed\":\"%s\"}",
             pk, seed);
    write_text(tmp("good.json"), good);
    cr_assert_eq(mc_keyfile_read(&got, tmp("good.json"), NULL), 0, "%s", mc_err_detail());

    const char *bad[] = {
        "[]",
        "{}",
        "not json",
        "{\"medchain_key\":2,\"public_key\":\"%s\",\"secret_seed\":\"%s\"}",
        "{\"medchain_key\":\"1\",\"public_key\":\"%s\",\"secret_seed\":\"%s\"}",
        "{\"medchain_key\":1,\"public_key\":\"%s\",\"secret_seed\":\"%s\",\"x\":1}",
        "{\"medchain_key\":1,\"public_key\":\"%s\",\"secret_seed\":\"%s\",\"secret_seed\":\"%s\"}",
        "{\"medchain_key\":1,\"public_key\":\"%s00\",\"secret_seed\":\"%s\"}",
        "{\"medchain_key\":1,\"public_key\":\"%s\",\"secret_seed\":\"%.62s\"}",
        "{\"medchain_key\":1,\"public_key\":\"%.62szz\",\"secret_seed\":\"%s\"}",
        "{\"medchain_key\":1,\"public_key\":\"%s\"}",
        "{\"medchain_key\":1,\"public_key\":\"%s\",\"secret_seed\":\"%s\",\"sealed_seed\":\"\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, bad[i], pk, seed, seed);
        write_text(tmp("bad.json"), text);
        cr_assert_eq(mc_keyfile_read(&got, tmp("bad.json"), NULL), MC_ERR_MALFORMED, "case %zu",
                     i);
    }
}

Test(keyfile, hostile_kdf_limits_and_size) {
    struct mc_keypair kp, got;
    keypair(&kp, 11);
    cr_assert_eq(mc_keyfile_write(tmp("s.json"), &kp, "pw"), 0);
    char text[MC_KEYFILE_MAX];
    read_text(tmp("s.json"), text, sizeof text);
    char needle[64];
    snprintf(needle, sizeof needle, "\"memlimit\":%zu", (size_t)crypto_pwhash_MEMLIMIT_MIN);
    /* 1 TiB of Argon2 memory must be refused before any allocation. */
    edit(tmp("s.json"), tmp("huge.json"), needle, "\"memlimit\":1099511627776");
    cr_assert_eq(mc_keyfile_read(&got, tmp("huge.json"), "pw"), MC_ERR_MALFORMED);
    edit(tmp("s.json"), tmp("neg.json"), needle, "\"memlimit\":-1");
    cr_assert_eq(mc_keyfile_read(&got, tmp("neg.json"), "pw"), MC_ERR_MALFORMED);

    /* A file larger than MC_KEYFILE_MAX is refused unparsed. */
    char big[MC_KEYFILE_MAX + 64];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big, "{}", 2);
    write_text(tmp("big.json"), big);
    cr_assert_eq(mc_keyfile_read(&got, tmp("big.json"), NULL), MC_ERR_TOO_LARGE);
}

/* Key files carry the day they were written; the CLI and a node's /metrics
 * compare it with the allowed age. Older files without it still read; a
 * malformed date is refused like any other damaged field. */
Test(keyfile, creation_date) {
    struct mc_keypair kp, got;
    keypair(&kp, 11);
    char p[128];
    snprintf(p, sizeof p, "%s", tmp("dated.json"));
    cr_assert_eq(mc_keyfile_write(p, &kp, NULL), 0, "%s", mc_err_detail());
    int64_t days;
    cr_assert_eq(mc_keyfile_created(p, &days), 0, "%s", mc_err_detail());
    int64_t today = (int64_t)(time(NULL) / 86400);
    cr_assert(days == today || days == today - 1, "created %lld, today %lld", (long long)days, (long long)today);
    cr_assert_eq(mc_keyfile_write(tmp("dated-sealed.json"), &kp, "pw"), 0);
    cr_assert_eq(mc_keyfile_created(tmp("dated-sealed.json"), &days), 0, "no passphrase needed");
    /* An older file (no "created") reads, and says it has no date. */
    char text[MC_KEYFILE_MAX];
    read_text(p, text, sizeof text);
    char *c = strstr(text, "\"created\":\"");
    cr_assert_not_null(c);
    char old[MC_KEYFILE_MAX];
    snprintf(old, sizeof old, "%.*s%s", (int)(c - text), text, c + strlen("\"created\":\"YYYY-MM-DD\","));
    write_text(tmp("undated.json"), old);
    cr_assert_eq(mc_keyfile_read(&got, tmp("undated.json"), NULL), 0, "%s", mc_err_detail());
    cr_assert_eq(mc_keyfile_created(tmp("undated.json"), &days), MC_ERR_NOT_FOUND);
    /* A damaged date is refused. */
    snprintf(old, sizeof old, "%.*s\"created\":\"2026-02-30\",%s", (int)(c - text), text,
             c + strlen("\"created\":\"YYYY-MM-DD\","));
    write_text(tmp("baddate.json"), old);
    cr_assert_eq(mc_keyfile_read(&got, tmp("baddate.json"), NULL), MC_ERR_MALFORMED);
    /* Dates are strict and counted from 1970-01-01. */
    cr_assert(mc_keyfile_date_days("1970-01-01", &days) && days == 0);
    cr_assert(mc_keyfile_date_days("2000-03-01", &days) && days == 11017);
    cr_assert(mc_keyfile_date_days("2024-02-29", &days));
    cr_assert(!mc_keyfile_date_days("2023-02-29", &days));
    cr_assert(!mc_keyfile_date_days("2024-13-01", &days));
    cr_assert(!mc_keyfile_date_days("2024-1-01", &days));
    cr_assert(!mc_keyfile_date_days("1969-12-31", &days));
}
