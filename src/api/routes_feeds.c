/* The status of the node's outbound feeds (the audit syslog exporter) in
 * GET /v1/status ("audit_export") and GET /metrics. */
#include "api/routes.h"

#include <stdio.h>
#include <string.h>

#include "api/json_view.h"
#include "node/auditexport.h"

json_t *mc__feeds_status_json(struct mc_node *node) {
    struct mc_auditexport_status a;
    mc_node_audit_status(node, &a);
    if (!a.enabled) return json_pack("{s:b}", "enabled", 0);
    return json_pack("{s:b, s:b, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "enabled", 1,
                     "delivering", (int)a.delivering, "next_height", mc_api_json_u64(a.next_height),
                     "next_index", (json_int_t)a.next_index, "chain_height", mc_api_json_u64(a.chain_height),
                     "lag_blocks", mc_api_json_u64(a.lag_blocks), "exported", mc_api_json_u64(a.exported),
                     "batches", mc_api_json_u64(a.batches), "failures", mc_api_json_u64(a.failures),
                     "skipped_pruned", mc_api_json_u64(a.skipped_pruned), "last_ok_ms", mc_api_json_u64(a.last_ok_ms),
                     "last_error_ms", mc_api_json_u64(a.last_error_ms), "last_error", mc_api_json_text(a.last_error));
}

void mc__feeds_metrics(struct mc_node *node, struct mc_buf *b) {
    struct mc_auditexport_status a;
    mc_node_audit_status(node, &a);
    if (!a.enabled) return;
    mc_buf_printf(b, "# HELP medchain_audit_export_lag_blocks Committed blocks the audit exporter has not finished.\n"
                     "# TYPE medchain_audit_export_lag_blocks gauge\nmedchain_audit_export_lag_blocks %llu\n"
                     "# HELP medchain_audit_export_messages_total Audit messages the receiver acknowledged.\n"
                     "# TYPE medchain_audit_export_messages_total counter\nmedchain_audit_export_messages_total %llu\n"
                     "# HELP medchain_audit_export_failures_total Batches that were not delivered (and are retried).\n"
                     "# TYPE medchain_audit_export_failures_total counter\nmedchain_audit_export_failures_total %llu\n"
                     "# HELP medchain_audit_export_skipped_total Transactions pruned before they were exported.\n"
                     "# TYPE medchain_audit_export_skipped_total counter\nmedchain_audit_export_skipped_total %llu\n"
                     "# HELP medchain_audit_export_up 1 when the last batch was acknowledged.\n"
                     "# TYPE medchain_audit_export_up gauge\nmedchain_audit_export_up %d\n",
                  (unsigned long long)a.lag_blocks, (unsigned long long)a.exported, (unsigned long long)a.failures,
                  (unsigned long long)a.skipped_pruned, a.delivering ? 1 : 0);
}
