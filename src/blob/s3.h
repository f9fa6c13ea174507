/* A small S3 client (path-style addressing) over libcurl, signed with
 * libcurl's own AWS Signature Version 4 (CURLOPT_AWS_SIGV4): objects are
 * put, got, deleted (also by version) and listed in one bucket.
 *
 * Every request is bounded: a connect timeout, a total timeout, a cap on
 * the bytes a GET or a listing may return, and at most `retries` further
 * attempts with exponential backoff (from MC_S3_BACKOFF_MS) when the
 * transport fails or the server answers 5xx or 503 SlowDown. Errors:
 *   MC_ERR_UNAVAILABLE  the store cannot be reached or keeps failing
 *   MC_ERR_NOT_FOUND    404
 *   MC_ERR_FORBIDDEN    401/403 (credentials refused)
 *   MC_ERR_TOO_LARGE    the answer exceeds its cap
 *   MC_ERR_IO           any other answer
 * with the detail in mc_err_detail (never the credentials).
 *
 * Thread-safe: each request takes a curl handle from a small pool (kept
 * connections are reused). */
#ifndef MC_BLOB_S3_H
#define MC_BLOB_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/limits.h"
#include "crypto/hash.h"

struct mc_s3_config {
    char endpoint[MC_S3_URL_MAX + 1];   /* http(s)://host[:port], no path */
    char region[64];
    char bucket[64];                    /* 3..63 of [a-z0-9.-] */
    char access_key[MC_S3_KEY_MAX + 1];
    char secret_key[MC_S3_KEY_MAX + 1];
    char ca_file[MC_S3_URL_MAX + 1];    /* "" : the system's CAs */
    bool tls_verify;                    /* verify the peer and host (default true) */
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms;
    uint32_t retries;
};

struct mc_s3;

/* Checks the configuration (endpoint scheme, bucket name, timeouts within
 * base/limits.h) and prepares a client. MC_ERR_INVALID with the reason. */
MC_MUST_CHECK int mc_s3_open(struct mc_s3 **out, const struct mc_s3_config *cfg);
/* Wipes the credentials; NULL does nothing. */
void mc_s3_close(struct mc_s3 *s);

/* Creates the bucket; one that already exists and is ours is fine. */
MC_MUST_CHECK int mc_s3_bucket_create(struct mc_s3 *s);
/* Turns versioning of the bucket on (true) or suspends it. */
MC_MUST_CHECK int mc_s3_bucket_versioning(struct mc_s3 *s, bool on);

/* Puts bytes under key; sha256 is their SHA-256 (sent as
 * x-amz-content-sha256, so the server refuses a body altered on the way). */
MC_MUST_CHECK int mc_s3_put(struct mc_s3 *s, const char *key, const void *bytes, size_t len,
                            const mc_hash *sha256);
/* Appends the object's bytes to out; MC_ERR_TOO_LARGE beyond max bytes. */
MC_MUST_CHECK int mc_s3_get(struct mc_s3 *s, const char *key, struct mc_buf *out, size_t max);
/* Deletes the key's current object (version_id NULL) or one version of it.
 * Deleting what is not there succeeds (S3 answers 204). */
MC_MUST_CHECK int mc_s3_delete(struct mc_s3 *s, const char *key, const char *version_id);

/* Calls fn for every key under prefix (ListObjectsV2, page by page, at
 * most MC_S3_LIST_MAX keys in all); a non-zero return from fn stops the
 * walk and is returned. */
MC_MUST_CHECK int mc_s3_list(struct mc_s3 *s, const char *prefix,
                             int (*fn)(void *ctx, const char *key), void *ctx);
/* Calls fn for every version and delete marker of keys under prefix
 * (ListObjectVersions), with its version id. */
MC_MUST_CHECK int mc_s3_list_versions(struct mc_s3 *s, const char *prefix,
                                      int (*fn)(void *ctx, const char *key, const char *version),
                                      void *ctx);

/* Appends len bytes of the object from offset off (a ranged GET; the
 * answer is capped at len). MC_ERR_MALFORMED when off is past its end. */
MC_MUST_CHECK int mc_s3_get_range(struct mc_s3 *s, const char *key, uint64_t off, size_t len,
                                  struct mc_buf *out);

/* Multipart upload: create (the UploadId), put parts 1..MC_S3_PARTS_MAX
 * in order (each but the last at least 5 MiB; sha256 as in mc_s3_put; the
 * part's ETag is returned), complete with every ETag in order (the object
 * appears whole, at once), or abort (the parts are deleted; an upload
 * already gone is fine). */
#define MC_S3_UPLOAD_ID_MAX 255
#define MC_S3_ETAG_MAX 95
MC_MUST_CHECK int mc_s3_multipart_create(struct mc_s3 *s, const char *key,
                                         char upload_id[MC_S3_UPLOAD_ID_MAX + 1]);
MC_MUST_CHECK int mc_s3_multipart_put(struct mc_s3 *s, const char *key, const char *upload_id, uint32_t part,
                                      const void *bytes, size_t len, const mc_hash *sha256,
                                      char etag[MC_S3_ETAG_MAX + 1]);
MC_MUST_CHECK int mc_s3_multipart_complete(struct mc_s3 *s, const char *key, const char *upload_id,
                                           const char (*etags)[MC_S3_ETAG_MAX + 1], uint32_t n);
MC_MUST_CHECK int mc_s3_multipart_abort(struct mc_s3 *s, const char *key, const char *upload_id);
/* Calls fn for every multipart upload in progress under prefix
 * (ListMultipartUploads). */
MC_MUST_CHECK int mc_s3_list_uploads(struct mc_s3 *s, const char *prefix,
                                     int (*fn)(void *ctx, const char *key, const char *upload_id),
                                     void *ctx);

#endif
