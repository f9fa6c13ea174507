/* Bulk Data export outputs (api/bulk.c, docs/SMART.md): node-local files,
 * never on the ledger, in HOME/exports/<job>/ (folders 0700, files 0600,
 * owned by the node's account). They hold plaintext health data: they are
 * deleted when their job is cancelled or expires, when the API stops, and
 * any left from an earlier run when it starts. Job ids are 32 lower-case
 * hex digits; file names [A-Za-z]{1,40}.ndjson. Thread-safe (each call
 * opens what it needs). */
#ifndef MC_NODE_EXPORTS_H
#define MC_NODE_EXPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct mc_node;

/* Creates the job's folder (and HOME/exports). */
MC_MUST_CHECK int mc_exports_begin(struct mc_node *n, const char *job);
/* Appends bytes to a file of the job (created 0600). */
MC_MUST_CHECK int mc_exports_append(struct mc_node *n, const char *job, const char *file, const void *p,
                                    size_t len);

struct mc_exports_reader;
/* Opens a file of the job for reading; *size its length.
 * MC_ERR_NOT_FOUND when it does not exist. */
MC_MUST_CHECK int mc_exports_open(struct mc_node *n, const char *job, const char *file,
                                  struct mc_exports_reader **out, uint64_t *size);
/* The next bytes (> 0), 0 at the end, -1 on an error. */
long mc_exports_read(struct mc_exports_reader *r, char *buf, size_t max);
void mc_exports_close(struct mc_exports_reader *r);

/* Deletes the job's files and folder (nothing when absent). */
void mc_exports_remove(struct mc_node *n, const char *job);
/* Deletes every job's files: HOME/exports emptied. */
void mc_exports_clear(struct mc_node *n);

#endif
