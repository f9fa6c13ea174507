/* The BALP renderer and the syslog framing (node/balp.h, node/syslog.h),
 * pure: what a signature base says about the request, the pattern each
 * action follows, refusals without a pattern, an RFC 5425 frame whose
 * length prefix counts exactly the message, and the size bound. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/balp.h"
#include "node/syslog.h"

static void entry(struct mc_balp_access *a, uint8_t action, uint8_t outcome) {
    memset(a, 0, sizeof *a);
    memset(a->e.tx_id.b, 0xab, 32);
    memset(a->e.patient.b, 0x11, 32);
    memset(a->e.requester.b, 0x22, 32);
    a->has_observer = true;
    memset(a->observer.b, 0x33, 32);
    a->e.action = action;
    a->e.outcome = outcome;
    a->e.purpose = MC_PURPOSE_TREAT;
    a->e.time_ms = 1764201600123ULL;
    snprintf(a->e.id, sizeof a->e.id, "obs-1");
    a->e.version = 2;
    if (outcome) snprintf(a->e.reason, sizeof a->e.reason, "no grant");
}

Test(balp, sigbase_gives_method_host_and_target) {
    struct mc_balp_access a;
    entry(&a, MC_ACTION_READ, 0);
    const char *base = "\"@method\": GET\n\"@target-uri\": https://node.example:7443/fhir/Observation?patient=x\n"
                       "\"@signature-params\": (\"@method\" \"@target-uri\");keyid=\"k\"";
    mc_balp_parse_sigbase(&a, (const uint8_t *)base, strlen(base));
    cr_assert_str_eq(a.method, "GET");
    cr_assert_str_eq(a.host, "node.example");
    cr_assert_str_eq(a.target, "/fhir/Observation?patient=x");
    const char *v6 = "\"@target-uri\": http://[::1]:7700/fhir/Patient/1";
    mc_balp_parse_sigbase(&a, (const uint8_t *)v6, strlen(v6));
    cr_assert_str_eq(a.host, "[::1]");
    cr_assert_str_eq(a.method, "");
    /* a control character in a line: nothing of that line is taken */
    const char *bad = "\"@method\": GE\x01T\n\"@target-uri\": http://h/\x7f";
    mc_balp_parse_sigbase(&a, (const uint8_t *)bad, strlen(bad));
    cr_assert_str_eq(a.method, "");
    cr_assert_str_eq(a.host, "");
    mc_balp_parse_sigbase(&a, NULL, 0);
    cr_assert_str_eq(a.target, "");
}

static const char *code_at(json_t *ev, const char *field) {
    json_t *v = json_object_get(ev, field);
    if (json_is_array(v)) v = json_array_get(v, 0);
    return json_string_value(json_object_get(v, "code"));
}

Test(balp, patterns_by_action) {
    struct mc_balp_access a;
    entry(&a, MC_ACTION_READ, 0);
    snprintf(a.host, sizeof a.host, "10.0.0.5");
    json_t *ev = mc_balp_audit_event(&a, "p-1");
    cr_assert_str_eq(code_at(ev, "type"), "rest");
    cr_assert_str_eq(code_at(ev, "subtype"), "read");
    cr_assert_str_eq(json_string_value(json_object_get(ev, "action")), "R");
    cr_assert_str_eq(json_string_value(json_object_get(ev, "outcome")), "0");
    cr_assert_str_eq(json_string_value(json_object_get(ev, "recorded")), "2025-11-27T00:00:00.123Z");
    json_t *tag = json_array_get(json_object_get(json_object_get(ev, "meta"), "tag"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(tag, "code")), "PatientRead");
    /* the patient entity names her Patient record and her key */
    json_t *pat = json_array_get(json_object_get(ev, "entity"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(pat, "what"), "reference")), "Patient/p-1");
    /* the server agent (Source Role ID for a read) has the address */
    json_t *server = json_array_get(json_object_get(ev, "agent"), 2);
    cr_assert_str_eq(code_at(json_object_get(server, "type"), "coding"), "110153");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(server, "network"), "type")), "2");
    json_decref(ev);

    entry(&a, MC_ACTION_SEARCH, 0);
    snprintf(a.target, sizeof a.target, "/fhir/Observation?patient=x");
    ev = mc_balp_audit_event(&a, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(ev, "action")), "E");
    cr_assert_str_eq(code_at(ev, "subtype"), "search-type");
    tag = json_array_get(json_object_get(json_object_get(ev, "meta"), "tag"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(tag, "code")), "PatientQuery");
    json_t *q = json_array_get(json_object_get(ev, "entity"), 2);
    cr_assert_str_eq(code_at(q, "role"), "24");
    /* base64 of the target */
    cr_assert_str_eq(json_string_value(json_object_get(q, "query")), "L2ZoaXIvT2JzZXJ2YXRpb24/cGF0aWVudD14");
    /* without a Patient record the patient is named by identifier only */
    pat = json_array_get(json_object_get(ev, "entity"), 1);
    cr_assert_null(json_object_get(json_object_get(pat, "what"), "reference"));
    json_decref(ev);

    /* a refusal: same shape, the reason, no pattern */
    entry(&a, MC_ACTION_READ, MC_OUTCOME_REFUSED);
    ev = mc_balp_audit_event(&a, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(ev, "outcome")), "4");
    cr_assert_str_eq(json_string_value(json_object_get(ev, "outcomeDesc")), "no grant");
    cr_assert_null(json_object_get(ev, "meta"));
    json_decref(ev);

    /* break-glass: BTG on the user, the event and the security label */
    entry(&a, MC_ACTION_READ, 0);
    a.e.purpose = MC_PURPOSE_BTG;
    ev = mc_balp_audit_event(&a, NULL);
    cr_assert_str_eq(code_at(json_array_get(json_object_get(ev, "purposeOfEvent"), 0), "coding"), "BTG");
    json_t *user = json_array_get(json_object_get(ev, "agent"), 0);
    cr_assert_str_eq(code_at(json_array_get(json_object_get(user, "purposeOfUse"), 0), "coding"), "BTG");
    cr_assert_str_eq(code_at(json_object_get(ev, "meta"), "security"), "BTG");
    json_decref(ev);
}

Test(balp, syslog_frame_counts_its_octets) {
    struct mc_balp_access a;
    entry(&a, MC_ACTION_READ, 0);
    struct mc_buf b;
    mc_buf_init(&b, 0);
    cr_assert_eq(mc_syslog_frame(&b, &a, 7, 3, "node-1"), 0);
    size_t len = 0;
    int off = 0;
    cr_assert_eq(sscanf((const char *)b.data, "%zu %n", &len, &off), 1);
    cr_assert_eq((size_t)off + len, b.len, "the length prefix counts the message exactly");
    const char *msg = (const char *)b.data + off;
    cr_assert(strncmp(msg, "<85>1 2025-11-27T00:00:00.123Z node-1 medchain - AuditEvent [medchain@32473 id=\"abab", 82) == 0,
              "%.*s", 100, msg);
    static const char sd[] = "height=\"7\" index=\"3\" pattern=\"PatientRead\"] \xef\xbb\xbf{";
    cr_assert(memmem(msg, len, sd, sizeof sd - 1));
    /* a refusal is a warning */
    mc_buf_reset(&b);
    entry(&a, MC_ACTION_READ, MC_OUTCOME_SECURITY);
    cr_assert_eq(mc_syslog_frame(&b, &a, 7, 3, ""), 0);
    cr_assert(strstr((const char *)b.data, " <84>1 ") && strstr((const char *)b.data, " - medchain - "));
    /* a maximal target and reason still fit the bound */
    mc_buf_reset(&b);
    entry(&a, MC_ACTION_SEARCH, 0);
    memset(a.target, 'q', MC_SIGBASE_MAX);
    a.target[0] = '/';
    a.target[MC_SIGBASE_MAX] = 0;
    memset(a.e.reason, 'r', MC_REASON_MAX);
    a.e.reason[MC_REASON_MAX] = 0;
    cr_assert_eq(mc_syslog_frame(&b, &a, 1, 0, "h"), 0);
    cr_assert_leq(b.len, MC_SYSLOG_MSG_MAX + 8);
    mc_buf_deinit(&b);
}
