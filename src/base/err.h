/* Error codes shared by every layer.
 *
 * Functions that can fail return int: 0 (MC_OK) on success or a negative
 * mc_err code. Detail for humans goes through mc_err_set()/mc_err_detail()
 * (a thread-local message, like sqlite3_errmsg), so callers that only need
 * the class of failure never pay for formatting. */
#ifndef MC_BASE_ERR_H
#define MC_BASE_ERR_H

#define MC_MUST_CHECK __attribute__((warn_unused_result))

enum mc_err {
    MC_OK = 0,
    MC_ERR_NOMEM = -1,        /* allocation failed */
    MC_ERR_MALFORMED = -2,    /* bytes do not decode (truncated, trailing, non-canonical) */
    MC_ERR_TOO_LARGE = -3,    /* a length exceeds its limit */
    MC_ERR_BAD_SIGNATURE = -4,/* a signature does not verify */
    MC_ERR_WRONG_CHAIN = -5,  /* object is for another chain id */
    MC_ERR_UNKNOWN_ACCOUNT = -6,
    MC_ERR_REVOKED = -7,      /* account revoked */
    MC_ERR_BAD_NONCE = -8,    /* replay or out-of-order nonce */
    MC_ERR_FORBIDDEN = -9,    /* signer lacks the role or right */
    MC_ERR_NOT_FOUND = -10,
    MC_ERR_EXISTS = -11,      /* already exists / duplicate */
    MC_ERR_INVALID = -12,     /* well-formed but semantically invalid */
    MC_ERR_IO = -13,          /* file or socket error */
    MC_ERR_DB = -14,          /* SQLite error */
    MC_ERR_CRYPTO = -15,      /* decryption / key derivation failure */
    MC_ERR_TAMPERED = -16,    /* stored data does not match its commitment */
    MC_ERR_FULL = -17,        /* a bounded queue or pool is full */
    MC_ERR_STATE = -18,       /* operation not valid in the current state */
    MC_ERR_PASSPHRASE = -19,  /* wrong passphrase or passphrase needed */
    MC_ERR_UNAVAILABLE = -20, /* a remote dependency (the object store) cannot be reached */
    MC_ERR_MISDIRECTED = -21, /* another node must serve it (this one holds no key for the record) */
};

/* Short, stable name of the error class, e.g. "bad_signature". */
const char *mc_err_name(int err);
/* Human sentence for the error class. */
const char *mc_strerror(int err);

/* Thread-local detail message for the last error set on this thread. */
int mc_err_set(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *mc_err_detail(void);
void mc_err_clear(void);

#endif
