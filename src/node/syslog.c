/* RFC 5424 / RFC 5425 framing of audit entries (see syslog.h). */
#include "node/syslog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"

static int message(struct mc_buf *m, const struct mc_balp_access *a, uint64_t height, uint32_t index,
                   const char *hostname, bool with_query) {
    json_t *ev = mc_balp_audit_event(a, NULL);
    if (!ev) return MC_ERR_NOMEM;
    if (!with_query) {
        json_t *ents = json_object_get(ev, "entity"), *en;
        size_t i;
        json_array_foreach(ents, i, en) json_object_del(en, "query");
    }
    /* insertion order: the same entry always gives the same bytes */
    char *js = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (!js) return MC_ERR_NOMEM;
    char t[32], tx[65];
    mc_balp_instant(t, a->e.time_ms);
    mc_hex_encode(tx, a->e.tx_id.b, 32);
    unsigned pri = 10 * 8 + (a->e.outcome == MC_OUTCOME_SUCCESS ? 5 : 4);
    const char *pattern = mc_balp_profile(&a->e);
    const char *pat = pattern ? strrchr(pattern, '.') + 1 : "none";
    mc_buf_printf(m, "<%u>1 %s %s medchain - AuditEvent [medchain@32473 id=\"%s\" height=\"%llu\" index=\"%u\" pattern=\"%s\"] ",
                  pri, t, hostname && hostname[0] ? hostname : "-", tx, (unsigned long long)height, index, pat);
    static const uint8_t bom[3] = {0xef, 0xbb, 0xbf};
    mc_buf_append(m, bom, 3);
    mc_buf_append(m, js, strlen(js));
    free(js);
    return m->err ? MC_ERR_NOMEM : 0;
}

int mc_syslog_frame(struct mc_buf *out, const struct mc_balp_access *a, uint64_t height, uint32_t index,
                    const char *hostname) {
    struct mc_buf m;
    mc_buf_init(&m, 0);
    int rc = message(&m, a, height, index, hostname, true);
    if (!rc && m.len > MC_SYSLOG_MSG_MAX) {
        mc_buf_reset(&m);
        rc = message(&m, a, height, index, hostname, false);
        if (!rc && m.len > MC_SYSLOG_MSG_MAX)
            rc = mc_err_set(MC_ERR_TOO_LARGE, "an audit message of %zu bytes passes %d", m.len, MC_SYSLOG_MSG_MAX);
    }
    if (!rc) {
        mc_buf_printf(out, "%zu ", m.len);
        mc_buf_append(out, m.data, m.len);
        if (out->err) rc = MC_ERR_NOMEM;
    }
    mc_buf_deinit(&m);
    return rc;
}
