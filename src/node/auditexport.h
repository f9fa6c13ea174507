/* The audit exporter: every committed access entry of the ledger, in
 * commit order, as an IHE ATNA syslog message (node/syslog.h: a BALP
 * AuditEvent, RFC 5424 over TLS per RFC 5425) to a hospital's Audit
 * Record Repository or SIEM.
 *
 * Off the consensus path: its own thread and its own read-only connection
 * to the node's database, never the node lock; the node's commits never
 * wait for it. It reads blocks the store already holds, so it can only lag.
 *
 * Delivery: a batch (at most MC_AUDIT_BATCH_MAX messages) is written on a
 * fresh TLS connection that is then closed with close_notify; the batch
 * counts as delivered once the receiver has closed its side too (RFC 5425
 * has no acknowledgement; a receiver that closes has read everything sent
 * before). Only then does the cursor move: (height, index) of the next
 * transaction to look at, written to HOME/data/audit_cursor (temporary
 * file, fsync, rename, fsync of the folder). After a restart, an outage of
 * the receiver or a failed batch the exporter resends from the cursor: no
 * gap, and duplicates carry the same id (the access transaction id).
 * Failures retry with exponential backoff (retry_min_ms doubling up to
 * retry_max_ms), never giving up.
 *
 * Configuration, config.json (absent: no exporter):
 *   "audit_syslog": {"host": "arr.hospital.example", "port": 6514,
 *                    "ca_file": "/etc/medchain/arr-ca.pem",
 *                    "cert_file": "...", "key_file": "...",  (optional, mutual TLS)
 *                    "server_name": "...",  (optional: the name the certificate carries)
 *                    "hostname": "...",     (optional: syslog HOSTNAME, default the machine's)
 *                    "retry_min_ms": 500, "retry_max_ms": 60000, "timeout_ms": 10000}
 * Relative paths are relative to the home folder. */
#ifndef MC_NODE_AUDITEXPORT_H
#define MC_NODE_AUDITEXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct mc_auditexport;

struct mc_auditexport_status {
    bool enabled;
    bool delivering;          /* the last batch was acknowledged */
    uint64_t next_height;     /* the cursor: next transaction to export */
    uint32_t next_index;
    uint64_t chain_height;    /* the store's height when last looked at */
    uint64_t lag_blocks;      /* chain_height + 1 - next_height (0: caught up) */
    uint64_t exported;        /* messages acknowledged since start */
    uint64_t batches;
    uint64_t failures;        /* failed batches since start */
    uint64_t skipped_pruned;  /* access entries whose bytes were pruned before export */
    uint64_t last_ok_ms;      /* wall clock of the last acknowledged batch */
    uint64_t last_error_ms;
    char last_error[256];
};

/* Reads the configuration from HOME/config.json and, when "audit_syslog"
 * is there, starts the exporter thread (*out NULL otherwise). A bad
 * configuration is MC_ERR_INVALID with the reason. */
MC_MUST_CHECK int mc_auditexport_start(struct mc_auditexport **out, const char *home);
/* Stops the thread (after its current batch or wait, bounded by the
 * timeout) and frees. NULL is fine. */
void mc_auditexport_stop(struct mc_auditexport *x);
/* A consistent copy of the status; disabled when x is NULL. */
void mc_auditexport_status(struct mc_auditexport *x, struct mc_auditexport_status *out);

#endif
