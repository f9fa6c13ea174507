/* Error names and the thread-local detail message. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char detail[512];

static const struct { int code; const char *name; const char *text; } table[] = {
    {MC_OK, "ok", "success"},
    {MC_ERR_NOMEM, "nomem", "out of memory"},
    {MC_ERR_MALFORMED, "malformed", "malformed encoding"},
    {MC_ERR_TOO_LARGE, "too_large", "exceeds size limit"},
    {MC_ERR_BAD_SIGNATURE, "bad_signature", "signature does not verify"},
    {MC_ERR_WRONG_CHAIN, "wrong_chain", "object belongs to another chain"},
    {MC_ERR_UNKNOWN_ACCOUNT, "unknown_account", "account unknown to the ledger"},
    {MC_ERR_REVOKED, "revoked", "account revoked"},
    {MC_ERR_BAD_NONCE, "bad_nonce", "nonce is a replay or out of order"},
    {MC_ERR_FORBIDDEN, "forbidden", "not permitted"},
    {MC_ERR_NOT_FOUND, "not_found", "not found"},
    {MC_ERR_EXISTS, "exists", "already exists"},
    {MC_ERR_INVALID, "invalid", "invalid"},
    {MC_ERR_IO, "io", "input/output error"},
    {MC_ERR_DB, "db", "database error"},
    {MC_ERR_CRYPTO, "crypto", "cryptographic operation failed"},
    {MC_ERR_TAMPERED, "tampered", "stored data does not match its commitment"},
    {MC_ERR_FULL, "full", "capacity reached"},
    {MC_ERR_STATE, "state", "operation not valid in the current state"},
    {MC_ERR_PASSPHRASE, "passphrase", "wrong or missing passphrase"},
    {MC_ERR_UNAVAILABLE, "unavailable", "a remote store cannot be reached"},
    {MC_ERR_MISDIRECTED, "misdirected", "another node must serve this request"},
};

const char *mc_err_name(int err) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == err) return table[i].name;
    return "unknown_error";
}

const char *mc_strerror(int err) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == err) return table[i].text;
    return "unknown error";
}

int mc_err_set(int err, const char *fmt, ...) {
    /* Formatted apart, then copied: callers often wrap the detail they are
     * given ("certificate: %s", mc_err_detail()), and formatting a buffer
     * into itself is undefined. */
    char next[sizeof detail];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(next, sizeof next, fmt, ap);
    va_end(ap);
    memcpy(detail, next, sizeof detail);
    return err;
}

const char *mc_err_detail(void) { return detail; }
void mc_err_clear(void) { detail[0] = 0; }
