/* IHE ATNA audit messages as syslog: RFC 5424 messages in RFC 5425
 * octet-counting frames ("MSG-LEN SP SYSLOG-MSG"), pure formatting.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME medchain - AuditEvent [medchain@32473 id="TX"
 *   height="H" index="I" pattern="P"] BOM {AuditEvent JSON}
 *
 * PRI: facility 10 (security/authorization), severity 5 (notice) for a
 * success, 4 (warning) for a refusal. TIMESTAMP is the entry's block time,
 * so a message sent twice is byte for byte the same; `id` (the access
 * transaction id, also the AuditEvent id) is the stable id a receiver
 * deduplicates by. 32473 is the enterprise number RFC 5612 reserves for
 * examples. */
#ifndef MC_NODE_SYSLOG_H
#define MC_NODE_SYSLOG_H

#include <stdint.h>

#include "base/codec.h"
#include "base/err.h"
#include "node/balp.h"

/* Largest syslog message the exporter sends: RFC 5425 receivers must take
 * 2048 octets and should take 8192; an AuditEvent with a maximal reason
 * and query fits this (the query is dropped beyond it). Receivers are
 * configured for it (docs/AUDIT.md). */
#define MC_SYSLOG_MSG_MAX (16 * 1024)
/* The HOSTNAME field (RFC 5424: 255 printable US-ASCII). */
#define MC_SYSLOG_HOSTNAME_MAX 255

/* Appends one frame for the entry (at height, index of its block) to out.
 * hostname: printable ASCII without spaces ("-" when empty). MC_ERR_TOO_LARGE
 * if even without its query the message passes MC_SYSLOG_MSG_MAX. */
MC_MUST_CHECK int mc_syslog_frame(struct mc_buf *out, const struct mc_balp_access *a, uint64_t height,
                                  uint32_t index, const char *hostname);

#endif
