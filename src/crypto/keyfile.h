/* Key files: one Ed25519 key pair per file, JSON, written with mode 0600.
 *
 * Plain form:
 *   {"medchain_key":1,"public_key":"<hex32>","created":"YYYY-MM-DD","secret_seed":"<hex32>"}
 * Passphrase form (Argon2id; INTERACTIVE limits unless
 * mc_keyfile_set_kdf_limits says otherwise; the seed sealed with
 * XChaCha20-Poly1305, the public key as associated data):
 *   {"medchain_key":1,"public_key":"<hex32>","created":"YYYY-MM-DD","kdf":"argon2id13",
 *    "opslimit":N,"memlimit":N,"salt":"<hex16>","nonce":"<hex24>",
 *    "sealed_seed":"<hex48>"}
 *
 * "created" is the UTC date the file was written (files from before it
 * existed lack it and still read); the CLI and a node's /metrics warn about
 * keys older than a configured age, so they get rotated.
 *
 * Reading checks that the seed really derives the stated public key. */
#ifndef MC_CRYPTO_KEYFILE_H
#define MC_CRYPTO_KEYFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/sign.h"

/* Writes the key; refuses to overwrite an existing file (MC_ERR_EXISTS).
 * passphrase NULL or "" writes the plain form. */
MC_MUST_CHECK int mc_keyfile_write(const char *path, const struct mc_keypair *kp,
                                   const char *passphrase);
/* Reads a key. An encrypted file without passphrase, or with a wrong one,
 * gives MC_ERR_PASSPHRASE; a malformed file MC_ERR_MALFORMED; a missing one
 * MC_ERR_IO; one over MC_KEYFILE_MAX bytes MC_ERR_TOO_LARGE; a seed that
 * does not derive the stated public key MC_ERR_TAMPERED (in the encrypted
 * form an altered public key fails authentication: MC_ERR_PASSPHRASE).
 * On failure kp is zeroed. Detail via mc_err_detail(). */
MC_MUST_CHECK int mc_keyfile_read(struct mc_keypair *kp, const char *path,
                                  const char *passphrase);
/* Reads only the public key (no passphrase needed). */
MC_MUST_CHECK int mc_keyfile_read_public(mc_pubkey *pk, const char *path);

/* The file's creation date as days since 1970-01-01 (no passphrase
 * needed); MC_ERR_NOT_FOUND for a file that does not carry one. */
MC_MUST_CHECK int mc_keyfile_created(const char *path, int64_t *days);
/* Parses a strict YYYY-MM-DD date (1970 on) into days since 1970-01-01. */
bool mc_keyfile_date_days(const char *s, int64_t *days);

/* KDF cost used when writing; tests lower it to stay fast. Not
 * thread-safe: set it at start-up. Aborts (misuse) outside the bounds that
 * reading enforces: crypto_pwhash_*_MIN up to 4 x OPSLIMIT_SENSITIVE and
 * MEMLIMIT_SENSITIVE. */
void mc_keyfile_set_kdf_limits(unsigned long long opslimit, size_t memlimit);

#endif
