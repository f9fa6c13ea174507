/* Supply chain routes: the public GS1 Digital Link resolver (scan to
 * verify), clone alerts, and the GS1 Lightweight Messaging verification
 * (VRS) for trading partners. See docs/SUPPLY.md.
 *
 * What the public resolver shows, and nothing more: product (GTIN and its
 * manufacturer's name), lot, expiry, serial, the verdict, the custody chain
 * as organisation names, event types and block times, the height and
 * header it was checked against, and RFC 6962 inclusion proofs of the
 * transactions behind it. No account keys, names of people, reasons typed
 * by members, or anything about patients: a dispense names the pharmacy.
 *
 * Expiry is judged against the block time of the latest header (the
 * ledger's clock), never the server's wall clock, so every node answers the
 * same at the same height. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/routes.h"

#include "api/reply.h"
#include "base/limits.h"
#include "app/supply.h"
#include "app/supply_payload.h"
#include "app/supply_product.h"
#include "app/txtypes.h"
#include "base/hex.h"

#define ORG_CACHE 16
#define VRS_PURPOSE "vrs-request"

/* ---- small helpers ----------------------------------------------------- */

static void respond(struct mc__api_response *res, unsigned status, json_t *body) {
    json_decref(res->body);
    res->status = status;
    res->body = body;
}

static json_t *text_or_null(const char *s) { return s && s[0] ? mc_api_json_text(s) : json_null(); }

static void date_text(char out[11], uint32_t ymd) {
    snprintf(out, 11, "%04u-%02u-%02u", ymd / 10000 % 10000, ymd / 100 % 100, ymd % 100);
}

struct org_cache {
    uint32_t id[ORG_CACHE];
    struct mc_org org[ORG_CACHE];
    unsigned n;
};

/* Organisation name (and GLN) for an id, from the state; "organisation N"
 * when unknown. */
static const struct mc_org *org_of(struct org_cache *c, struct mc_state *st, uint32_t id) {
    for (unsigned i = 0; i < c->n; i++)
        if (c->id[i] == id) return &c->org[i];
    unsigned slot = c->n < ORG_CACHE ? c->n++ : ORG_CACHE - 1;
    c->id[slot] = id;
    if (mc_identity_get_org(st, id, &c->org[slot])) {
        memset(&c->org[slot], 0, sizeof c->org[slot]);
        c->org[slot].id = id;
        snprintf(c->org[slot].name, sizeof c->org[slot].name, "organisation %u", id);
    }
    c->org[slot].name[sizeof c->org[slot].name - 1] = 0;
    return &c->org[slot];
}

/* ---- verification under the node lock --------------------------------- */

struct vq {
    struct mc_node *node;
    struct mc_gs1_id id;
    bool proofs;
    bool trade;           /* asked by a trading partner (VRS): mc_supply_trade_verdict */
    json_t *out;          /* the answer */
    int err;              /* failure to answer */
    uint8_t verdict;
    bool have_serial_record;
    struct mc_supply_verification v;
    struct mc_supply_event ev[MC_SUPPLY_UNIT_EVENTS_MAX];
    char responder_gln[MC_GLN_MAX + 1];
    uint64_t height, time_ms;
};

static json_t *proof_of(struct mc_store *store, const mc_hash *tx_id, const struct mc_header *h,
                        int *err) {
    uint64_t height, log_index;
    uint32_t index;
    int rc = mc_store_find_tx(store, tx_id, &height, &index, &log_index);
    if (rc) {
        *err = rc == MC_ERR_NOT_FOUND ? MC_ERR_TAMPERED : rc;
        return NULL;
    }
    json_t *p = mc__api_log_inclusion(store, log_index, h, err);
    if (p && json_object_set_new(p, "tx_id", mc_api_json_hash(tx_id))) {
        json_decref(p);
        *err = MC_ERR_NOMEM;
        return NULL;
    }
    if (p) json_object_set_new(p, "height", mc_api_json_u64(height));
    return p;
}

static int q_verify(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct vq *q = ctx;
    struct mc_state *st = mc_app_state(app);
    struct mc_header h;
    mc_hash hash;
    memset(&h, 0, sizeof h);
    memset(&hash, 0, sizeof hash);
    int rc = mc_store_height(store, &q->height);
    if (!rc && q->height) rc = mc_store_get_header(store, q->height, &h, &hash);
    if (rc) return q->err = rc;
    q->time_ms = q->height ? h.time_ms : mc_app_genesis(app)->time_ms;
    rc = mc_supply_verify(st, &q->id, q->time_ms, &q->v, q->ev, MC_SUPPLY_UNIT_EVENTS_MAX);
    if (rc) return q->err = rc;
    q->verdict = q->trade ? mc_supply_trade_verdict(q->v.verdict) : q->v.verdict;
    q->have_serial_record = q->v.unit_found;
    struct org_cache orgs = {.n = 0};
    const struct mc_org *maker = q->v.gtin_owner ? org_of(&orgs, st, q->v.gtin_owner) : NULL;
    if (maker) snprintf(q->responder_gln, sizeof q->responder_gln, "%s", maker->gln);

    char iso[32], d[11];
    json_t *o = json_object();
    json_object_set_new(o, "verdict", json_string(mc_supply_verdict_name(q->verdict)));
    json_object_set_new(o, "verdict_text", json_string(mc_supply_verdict_text(q->verdict)));
    json_object_set_new(o, "genuine", json_boolean(q->verdict == MC_VERDICT_GENUINE));
    json_t *product = json_pack("{s:s, s:o}", "gtin", q->id.gtin, "manufacturer",
                                maker ? mc_api_json_text(maker->name) : json_null());
    /* master data the GTIN's manufacturer registered (app/supply_product.h) */
    struct mc_supply_product pm;
    rc = mc_supply_get_product(st, q->id.gtin, &pm);
    if (rc && rc != MC_ERR_NOT_FOUND) return q->err = rc;
    if (!rc) {
        json_object_set_new(product, "name", mc_api_json_text(pm.name));
        json_object_set_new(product, "strength", mc_api_json_text(pm.strength));
        json_object_set_new(product, "form", mc_api_json_text(pm.form));
        json_object_set_new(product, "pack_size", json_integer(pm.pack_size));
    }
    json_object_set_new(o, "product", product);
    json_object_set_new(o, "serial", mc_api_json_text(q->id.serial));
    json_object_set_new(o, "lot", text_or_null(q->v.unit_found ? q->v.unit.lot : NULL));
    if (q->v.unit_found) {
        date_text(d, q->v.unit.expiry);
        json_object_set_new(o, "expiry", json_string(d));
        json_object_set_new(o, "status", json_string(mc_supply_status_name(q->v.unit.c.status)));
        json_object_set_new(o, "holder", mc_api_json_text(org_of(&orgs, st, q->v.unit.c.owner)->name));
    } else {
        json_object_set_new(o, "expiry", json_null());
        json_object_set_new(o, "status", json_null());
        json_object_set_new(o, "holder", json_null());
    }
    json_t *scanned = json_object();
    json_object_set_new(scanned, "lot", text_or_null(q->id.lot));
    if (q->id.present & MC_GS1_HAS_EXPIRY) {
        date_text(d, mc_gs1_date_yyyymmdd(&q->id.expiry));
        json_object_set_new(scanned, "expiry", json_string(d));
    } else {
        json_object_set_new(scanned, "expiry", json_null());
    }
    json_object_set_new(o, "scanned", scanned);

    json_t *custody = json_array();
    json_t *proofs = json_array();
    int perr = 0;
    for (uint32_t i = 0; i < q->v.event_count; i++) {
        const struct mc_supply_event *e = &q->ev[i];
        mc_supply_iso8601(iso, e->time_ms);
        json_t *item = json_pack("{s:s, s:o, s:s, s:o, s:o, s:o}", "event",
                                 mc_supply_event_name(e->type), "org",
                                 mc_api_json_text(org_of(&orgs, st, e->org)->name), "time", iso,
                                 "time_ms", mc_api_json_u64(e->time_ms), "height",
                                 mc_api_json_u64(e->height), "tx_id", mc_api_json_hash(&e->tx_id));
        if (e->type == MC_SUPPLY_EV_SHIP)
            json_object_set_new(item, "to", mc_api_json_text(org_of(&orgs, st, e->other)->name));
        if (e->type == MC_SUPPLY_EV_RECEIVE)
            json_object_set_new(item, "from", mc_api_json_text(org_of(&orgs, st, e->other)->name));
        if (e->type == MC_SUPPLY_EV_DECOMMISSION)
            json_object_set_new(item, "reason", json_string(mc_supply_decommission_name(e->detail)));
        if (e->type == MC_SUPPLY_EV_FLAG)
            json_object_set_new(item, "flag", json_string(mc_supply_flag_name(e->detail)));
        json_array_append_new(custody, item);
        if (q->proofs && q->height && !perr) {
            json_t *p = proof_of(store, &e->tx_id, &h, &perr);
            if (p) json_array_append_new(proofs, p);
        }
    }
    json_object_set_new(o, "custody", custody);
    /* Dispensed: when and by which pharmacy, for the calm answer. */
    json_t *disp = json_null();
    for (uint32_t i = q->v.event_count; q->v.unit_found && q->v.unit.c.status == MC_SUPPLY_DISPENSED && i-- > 0;)
        if (q->ev[i].type == MC_SUPPLY_EV_DISPENSE) {
            mc_supply_iso8601(iso, q->ev[i].time_ms);
            json_decref(disp);
            disp = json_pack("{s:s, s:o, s:o, s:o}", "time", iso, "time_ms", mc_api_json_u64(q->ev[i].time_ms), "by",
                             mc_api_json_text(org_of(&orgs, st, q->ev[i].org)->name), "tx_id",
                             mc_api_json_hash(&q->ev[i].tx_id));
            break;
        }
    json_object_set_new(o, "dispensed", disp);
    if (q->v.lot_found && q->v.lot.recalled) {
        mc_supply_iso8601(iso, q->v.lot.recall_time_ms);
        json_object_set_new(o, "recall", json_pack("{s:s, s:o, s:o}", "time", iso, "height",
                                                   mc_api_json_u64(q->v.lot.recall_height),
                                                   "tx_id", mc_api_json_hash(&q->v.lot.recall_tx)));
        if (q->proofs && q->height && !perr) {
            json_t *p = proof_of(store, &q->v.lot.recall_tx, &h, &perr);
            if (p) json_array_append_new(proofs, p);
        }
    } else {
        json_object_set_new(o, "recall", json_null());
    }
    /* The current facts, proven against the same header: the pack's row
     * (status, holder) and its lot's row (a recall, or the proof that the
     * lot has no row at all). */
    json_t *sp = NULL;
    if (q->proofs && q->height && !perr) {
        struct mc__state_anchor a = {.height = q->height, .h = h, .hash = hash};
        sp = json_object();
        json_t *anchor = sp ? mc__state_anchor_view(store, app, &a, &perr) : NULL;
        if (anchor) json_object_set_new(sp, "anchor", anchor);
        struct mc_key k;
        mc_supply_unit_key(&k, q->id.gtin, q->id.serial);
        json_t *unit = perr ? NULL : mc__state_proof(store, &a, k.b, k.n, &perr);
        if (unit) {
            json_object_set_new(unit, "gtin", json_string(q->id.gtin));
            json_object_set_new(unit, "serial", mc_api_json_text(q->id.serial));
            json_object_set_new(sp, "unit", unit);
        }
        const char *lot = q->v.unit_found ? q->v.unit.lot : q->id.lot;
        if (!perr && lot[0]) {
            mc_supply_lot_key(&k, q->id.gtin, lot);
            json_t *lp = mc__state_proof(store, &a, k.b, k.n, &perr);
            if (lp) {
                json_object_set_new(lp, "gtin", json_string(q->id.gtin));
                json_object_set_new(lp, "lot", mc_api_json_text(lot));
                json_object_set_new(sp, "lot", lp);
            }
        }
        if (!sp && !perr) perr = MC_ERR_NOMEM;
    }
    if (perr) {
        json_decref(sp);
        json_decref(proofs);
        json_decref(o);
        return q->err = perr;
    }
    json_object_set_new(o, "state_proofs", sp ? sp : json_null());
    mc_supply_iso8601(iso, q->time_ms);
    json_t *checked = json_pack("{s:o, s:s, s:o}", "height", mc_api_json_u64(q->height), "time",
                                iso, "time_ms", mc_api_json_u64(q->time_ms));
    if (q->height) {
        json_object_set_new(checked, "header_hash", mc_api_json_hash(&hash));
        json_object_set_new(checked, "log_size", mc_api_json_u64(h.log_size));
        json_object_set_new(checked, "log_root", mc_api_json_hash(&h.log_root));
    }
    json_object_set_new(o, "checked_at", checked);
    json_object_set_new(o, "proofs", q->proofs ? proofs : json_null());
    if (!q->proofs) json_decref(proofs);
    q->out = o;
    return 0;
}

/* Records a verification as a scan transaction signed by this node: the
 * verdict given (a trading partner's "already dispensed" raises the clone
 * alert, app/supply.h) and the status seen. False when it was not queued. */
static bool record_scan(struct mc_node *node, const struct vq *q) {
    bool recorded = false;
    struct mc_supply_payload *scan = calloc(1, sizeof *scan);
    if (scan) {
        scan->type = MC_TX_DRUG_SCAN;
        snprintf(scan->gtin, sizeof scan->gtin, "%s", q->id.gtin);
        snprintf(scan->serial, sizeof scan->serial, "%s", q->id.serial);
        scan->code = q->verdict;
        scan->status = q->v.unit_found ? q->v.unit.c.status : 0;
        struct mc_buf p;
        mc_buf_init(&p, 0);
        recorded = mc_supply_payload_encode(&p, scan) == 0 &&
                   mc_node_submit_local(node, MC_TX_DRUG_SCAN, p.data, p.len) == 0;
        mc_buf_deinit(&p);
        free(scan);
    }
    return recorded;
}

/* Reference year for two-digit GS1 years: the year of the latest block. */
static unsigned reference_year(struct mc_node *node) {
    struct mc_node_status s;
    mc_node_status(node, &s);
    uint64_t t = s.height ? s.latest_time_ms : mc_node_genesis(node)->time_ms;
    unsigned y = mc_supply_civil_from_ms(t, NULL) / 10000;
    return y < 1000 ? 1000 : y > 9899 ? 9899 : y;
}

/* ---- HTML --------------------------------------------------------------- */

static void html_escape(struct mc_buf *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': mc_buf_append(b, "&lt;", 4); break;
        case '>': mc_buf_append(b, "&gt;", 4); break;
        case '&': mc_buf_append(b, "&amp;", 5); break;
        case '"': mc_buf_append(b, "&quot;", 6); break;
        case '\'': mc_buf_append(b, "&#39;", 5); break;
        default: mc_buf_append(b, s, 1);
        }
    }
}

static void html_printf(struct mc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Formats, then escapes the result (for text that may hold user data). */
static void html_printf(struct mc_buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    html_escape(b, tmp);
}

static const char *jstr(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static const char PAGE_HEAD[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>%s</title><style>"
    "body{font-family:system-ui,sans-serif;font-size:1.25rem;line-height:1.5;margin:0;"
    "padding:1rem;max-width:40rem;color:#111;background:#fff}"
    ".v{padding:1.25rem;border-radius:.5rem;margin:0 0 1rem;border:4px solid}"
    ".ok{background:#e6f4ea;border-color:#137333}.bad{background:#fce8e6;border-color:#a50e0e}"
    "h1{font-size:2.25rem;margin:0 0 .5rem}table{border-collapse:collapse;width:100%%}"
    "th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ccc;vertical-align:top}"
    "small{color:#444}</style></head><body><main>";

static char *render_html(json_t *o, size_t *len) {
    struct mc_buf b;
    mc_buf_init(&b, 1024 * 1024);
    const char *verdict = jstr(o, "verdict");
    bool ok = json_is_true(json_object_get(o, "genuine"));
    /* a dispensed pack is calm news for the patient who collected it */
    bool dispensed = strcmp(verdict, "dispensed") == 0;
    char title[128];
    snprintf(title, sizeof title, "%s - medicine check",
             ok ? "Genuine" : dispensed ? "Dispensed" : strcmp(verdict, "unknown_serial") == 0 ? "Not found" : "Warning");
    mc_buf_printf(&b, PAGE_HEAD, title);
    mc_buf_printf(&b, "<section class=\"v %s\" role=\"status\" aria-live=\"polite\"><h1>",
                  ok || dispensed ? "ok" : "bad");
    html_escape(&b, ok ? "\u2714 Genuine" : dispensed ? "\u2714 Dispensed" : "\u26a0 Do not use");
    mc_buf_printf(&b, "</h1><p>");
    json_t *disp = json_object_get(o, "dispensed");
    if (dispensed && json_is_object(disp)) {
        char day[11];
        snprintf(day, sizeof day, "%s", jstr(disp, "time"));
        html_printf(&b, "Dispensed on %s by %s. ", day, jstr(disp, "by"));
    }
    html_escape(&b, jstr(o, "verdict_text"));
    mc_buf_printf(&b, "</p><p><small>Verdict code: ");
    html_escape(&b, verdict);
    mc_buf_printf(&b, "</small></p></section><h2>Pack</h2><table>");
    json_t *product = json_object_get(o, "product");
    char pack[16] = "";
    if (json_integer_value(json_object_get(product, "pack_size")))
        snprintf(pack, sizeof pack, "%lld", (long long)json_integer_value(json_object_get(product, "pack_size")));
    const char *rows[][2] = {{"Medicine", jstr(product, "name")},
                             {"Strength", jstr(product, "strength")},
                             {"Form", jstr(product, "form")},
                             {"Units in the pack", pack},
                             {"Product (GTIN)", jstr(product, "gtin")},
                             {"Manufacturer", jstr(product, "manufacturer")},
                             {"Serial", jstr(o, "serial")},
                             {"Lot", jstr(o, "lot")},
                             {"Expiry", jstr(o, "expiry")},
                             {"Status", jstr(o, "status")},
                             {"Held by", jstr(o, "holder")}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (!rows[i][1][0]) continue;
        mc_buf_printf(&b, "<tr><th scope=\"row\">%s</th><td>", rows[i][0]);
        html_escape(&b, rows[i][1]);
        mc_buf_printf(&b, "</td></tr>");
    }
    mc_buf_printf(&b, "</table>");
    json_t *custody = json_object_get(o, "custody");
    if (json_array_size(custody)) {
        mc_buf_printf(&b, "<h2>Where it has been</h2><table><tr><th scope=\"col\">Date (UTC)</th>"
                          "<th scope=\"col\">Event</th><th scope=\"col\">Organisation</th></tr>");
        size_t i;
        json_t *e;
        json_array_foreach(custody, i, e) {
            char when[11];
            snprintf(when, sizeof when, "%s", jstr(e, "time"));
            mc_buf_printf(&b, "<tr><td>");
            html_escape(&b, when);
            mc_buf_printf(&b, "</td><td>");
            html_escape(&b, jstr(e, "event"));
            if (json_object_get(e, "to")) html_printf(&b, " to %s", jstr(e, "to"));
            if (json_object_get(e, "from")) html_printf(&b, " from %s", jstr(e, "from"));
            mc_buf_printf(&b, "</td><td>");
            html_escape(&b, jstr(e, "org"));
            mc_buf_printf(&b, "</td></tr>");
        }
        mc_buf_printf(&b, "</table>");
    }
    json_t *checked = json_object_get(o, "checked_at");
    mc_buf_printf(&b, "<p><small>Checked against the medchain ledger at block ");
    html_printf(&b, "%lld (%s)", (long long)json_integer_value(json_object_get(checked, "height")),
                jstr(checked, "time"));
    mc_buf_printf(&b, ". Ask for <code>application/json</code> to get the transactions and their "
                      "inclusion proofs.</small></p></main></body></html>\n");
    if (b.err) {
        mc_buf_deinit(&b);
        return NULL;
    }
    return (char *)mc_buf_take(&b, len);
}

static char *render_error_html(const char *message, size_t *len) {
    struct mc_buf b;
    mc_buf_init(&b, 64 * 1024);
    mc_buf_printf(&b, PAGE_HEAD, "Cannot read this code - medicine check");
    mc_buf_printf(&b, "<section class=\"v bad\" role=\"alert\"><h1>Cannot check this code</h1><p>");
    html_escape(&b, message);
    mc_buf_printf(&b, "</p></section></main></body></html>\n");
    if (b.err) {
        mc_buf_deinit(&b);
        return NULL;
    }
    return (char *)mc_buf_take(&b, len);
}

/* HTML when the client asks for it (a browser that followed a QR code):
 * ?format=html|json decides; else text/html listed in Accept before any
 * JSON type. */
static bool wants_html(const struct mc__api_request *req) {
    const char *f = req->arg ? req->arg(req->arg_ctx, "format") : NULL;
    if (f) return strcmp(f, "html") == 0;
    const char *accept = req->header ? req->header(req->header_ctx, "Accept") : NULL;
    if (!accept) return false;
    const char *html = strcasestr(accept, "text/html");
    const char *json = strcasestr(accept, "application/json");
    return html && (!json || html < json);
}

static void set_html(struct mc__api_response *res, unsigned status, char *page, size_t len) {
    if (!page) {
        mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
        return;
    }
    json_decref(res->body);
    res->body = NULL;
    res->status = status;
    res->raw = page;
    res->raw_len = len;
    res->raw_type = "text/html; charset=utf-8";
}

/* ---- GET /01/... -------------------------------------------------------- */

void mc__api_supply_resolve(struct mc_node *node, const char *param,
                            const struct mc__api_request *req, struct mc__api_response *res) {
    bool html = wants_html(req);
    res->vary_accept = true;
    const char *uri = req->raw_uri ? req->raw_uri : req->path;
    struct vq *q = calloc(1, sizeof *q);
    if (!q) {
        mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
        return;
    }
    q->node = node;
    const char *pr = req->arg ? req->arg(req->arg_ctx, "proofs") : NULL;
    /* The page for a phone shows no proofs, so it does not pay for them. */
    q->proofs = !html && !(pr && strcmp(pr, "0") == 0);
    struct mc_gs1_error gerr;
    mc_err_clear();
    int rc = mc_gs1_parse_digital_link(&q->id, &gerr, uri, strlen(uri), reference_year(node));
    if (!rc && !q->id.serial[0]) {
        rc = MC_ERR_INVALID;
        snprintf(gerr.message, sizeof gerr.message,
                 "a pack is verified by its serial: the link needs /21/{serial} after the GTIN");
        gerr.fault = MC_GS1_FAULT_NONE;
    }
    if (rc) {
        if (html) {
            size_t len = 0;
            char *page = render_error_html(gerr.message, &len);
            set_html(res, 400, page, len);
        } else {
            mc__api_fail(res, 400, rc, "%s", gerr.message);
            if (res->body && gerr.fault != MC_GS1_FAULT_NONE)
                json_object_set_new(res->body, "fault", json_string(mc_gs1_fault_name(gerr.fault)));
            if (res->body && gerr.ai[0])
                json_object_set_new(res->body, "ai", json_string(gerr.ai));
        }
        free(q);
        return;
    }
    mc_err_clear();
    rc = mc_node_query(node, q_verify, q);
    if (rc || !q->out) {
        mc__api_fail(res, 0, q->err ? q->err : rc ? rc : MC_ERR_STATE, "%s",
                     mc_err_detail()[0] ? mc_err_detail() : "verification failed");
        free(q);
        return;
    }
    /* Record the scan on the ledger (signed by this node at the next
     * block); a full queue drops the record, never the answer. */
    bool recorded = record_scan(node, q);
    json_object_set_new(q->out, "scan_recorded", json_boolean(recorded));
    if (html) {
        size_t len = 0;
        char *page = render_html(q->out, &len);
        json_decref(q->out);
        set_html(res, 200, page, len);
    } else {
        respond(res, 200, q->out);
    }
    free(q);
}

/* ---- GET /v1/supply/alerts?org=ID -------------------------------------- */

struct aq {
    uint32_t org;
    json_t *out;
    int err;
};

static int q_alerts(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct aq *q = ctx;
    struct mc_state *st = mc_app_state(app);
    struct mc_org org;
    int rc = mc_identity_get_org(st, q->org, &org);
    if (rc) return q->err = rc;
    struct mc_supply_alert *a = calloc(MC_SUPPLY_ALERTS_LIST_MAX, sizeof *a);
    if (!a) return q->err = MC_ERR_NOMEM;
    uint32_t n = 0;
    rc = mc_supply_list_alerts(st, q->org, org.kind == MC_ORG_REGULATOR, a,
                               MC_SUPPLY_ALERTS_LIST_MAX, &n);
    if (rc) {
        free(a);
        return q->err = rc;
    }
    struct org_cache orgs = {.n = 0};
    json_t *list = json_array();
    for (uint32_t i = 0; i < n; i++) {
        char iso[32];
        mc_supply_iso8601(iso, a[i].time_ms);
        json_t *item = json_pack(
            "{s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:I, s:o}", "seq",
            mc_api_json_u64(a[i].seq), "kind", mc_supply_alert_name(a[i].kind), "gtin", a[i].gtin,
            "serial", mc_api_json_text(a[i].serial), "lot", text_or_null(a[i].lot), "manufacturer",
            mc_api_json_text(org_of(&orgs, st, a[i].manufacturer)->name), "dispensed_by",
            a[i].holder ? mc_api_json_text(org_of(&orgs, st, a[i].holder)->name) : json_null(),
            "height", mc_api_json_u64(a[i].height), "time", iso, "time_ms",
            mc_api_json_u64(a[i].time_ms), "scans_after_dispense", (json_int_t)a[i].scans, "tx_id",
            mc_api_json_hash(&a[i].tx_id));
        json_array_append_new(list, item);
    }
    free(a);
    org.name[sizeof org.name - 1] = 0;
    q->out = json_pack("{s:I, s:o, s:b, s:o}", "org", (json_int_t)q->org, "org_name",
                       mc_api_json_text(org.name), "all_alerts", org.kind == MC_ORG_REGULATOR,
                       "alerts", list);
    return 0;
}

void mc__api_supply_alerts(struct mc_node *node, const char *param,
                           const struct mc__api_request *req, struct mc__api_response *res) {
    const char *v = req->arg ? req->arg(req->arg_ctx, "org") : NULL;
    uint64_t org;
    if (!v || mc_api_parse_u64(&org, v) || org == 0 || org > UINT32_MAX) {
        mc__api_fail(res, 0, MC_ERR_MALFORMED, "query parameter 'org' (an organisation id) is required");
        return;
    }
    struct aq q = {.org = (uint32_t)org};
    mc_err_clear();
    int rc = mc_node_query(node, q_alerts, &q);
    if (q.err == MC_ERR_NOT_FOUND) {
        mc__api_fail(res, 0, MC_ERR_NOT_FOUND, "no organisation with id %llu", (unsigned long long)org);
        return;
    }
    if (rc || q.err || !q.out) {
        mc__api_fail(res, 0, q.err ? q.err : rc ? rc : MC_ERR_NOMEM, "cannot list the alerts");
        return;
    }
    respond(res, 200, q.out);
}

/* ---- POST /v1/vrs -------------------------------------------------------
 *
 * Requester authentication (swappable for RFC 9421 signatures later): the
 * headers Medchain-Key (hex public key of an enrolled member) and
 * Medchain-Signature (hex Ed25519 signature, purpose "vrs-request", over
 * the body bytes under this chain's id). No or bad signature, or a key the
 * ledger does not know: 401. A known key whose account is revoked, or
 * whose role is not a trading role, or whose organisation's GLN is not the
 * requestorGLN: 403. */

struct vrs_auth {
    mc_pubkey key;
    struct mc_account acc;
    struct mc_org org;
    int rc;
};

static int q_auth(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct vrs_auth *a = ctx;
    a->rc = mc_identity_get_account(mc_app_state(app), &a->key, &a->acc);
    if (!a->rc && a->acc.org) a->rc = mc_identity_get_org(mc_app_state(app), a->acc.org, &a->org);
    return 0;
}

static bool trading_role(uint8_t role) {
    return role == MC_ROLE_MANUFACTURER || role == MC_ROLE_DISTRIBUTOR ||
           role == MC_ROLE_PHARMACY || role == MC_ROLE_PHARMACIST || role == MC_ROLE_REGULATOR;
}

static const char *field(json_t *doc, const char *a, const char *b) {
    const char *v = json_string_value(json_object_get(doc, a));
    if (!v && b) v = json_string_value(json_object_get(doc, b));
    return v;
}

void mc__api_supply_vrs(struct mc_node *node, const char *param,
                        const struct mc__api_request *req, struct mc__api_response *res) {
    const char *key_hex = req->header ? req->header(req->header_ctx, "Medchain-Key") : NULL;
    const char *sig_hex = req->header ? req->header(req->header_ctx, "Medchain-Signature") : NULL;
    struct vrs_auth auth;
    memset(&auth, 0, sizeof auth);
    uint8_t sig[MC_SIG_BYTES];
    if (!key_hex || !sig_hex || mc_api_parse_pubkey(&auth.key, key_hex) ||
        strlen(sig_hex) != 2 * MC_SIG_BYTES || mc_hex_decode(sig, sizeof sig, sig_hex)) {
        mc__api_fail(res, 401, MC_ERR_BAD_SIGNATURE,
                     "sign the request: headers Medchain-Key (hex public key) and "
                     "Medchain-Signature (hex Ed25519 signature, purpose \"%s\", over the body)",
                     VRS_PURPOSE);
        return;
    }
    const char *chain_id = mc_node_genesis(node)->chain_id;
    if (mc_sign_verify(sig, &auth.key, VRS_PURPOSE, chain_id, req->body ? req->body : (const uint8_t *)"",
                  req->body_len)) {
        mc__api_fail(res, 401, MC_ERR_BAD_SIGNATURE, "the request signature does not verify");
        return;
    }
    int qrc = mc_node_query(node, q_auth, &auth);
    if (qrc) {
        mc__api_fail(res, mc__reply_query_status(qrc), qrc, "the node could not run the query");
        return;
    }
    if (auth.rc == MC_ERR_NOT_FOUND && auth.acc.role == 0) {
        mc__api_fail(res, 401, MC_ERR_UNKNOWN_ACCOUNT, "the requester's key is not enrolled on this ledger");
        return;
    }
    if (auth.rc) {
        mc__api_fail(res, 0, auth.rc, "cannot read the requester's account");
        return;
    }
    if (auth.acc.status != MC_ACCOUNT_ACTIVE) {
        mc__api_fail(res, 403, MC_ERR_REVOKED, "the requester's account is %s",
                     mc_account_status_name(auth.acc.status));
        return;
    }
    if (!trading_role(auth.acc.role)) {
        mc__api_fail(res, 403, MC_ERR_FORBIDDEN,
                     "only trading partners (manufacturer, distributor, pharmacy, pharmacist, "
                     "regulator) may verify; the requester is a %s", mc_role_name(auth.acc.role));
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "the body must be a JSON object");
        return;
    }
    const char *gtin = field(doc, "gtin", NULL), *serial = field(doc, "serialNumber", "serial"),
               *lot = field(doc, "lotNumber", "lot"), *exp = field(doc, "expirationDate", "expiry"),
               *gln = field(doc, "requestorGLN", "requesterGLN"), *corr = field(doc, "corrUUID", NULL),
               *context = field(doc, "context", NULL);
    if (!gtin || !serial || !lot || !exp || !gln || !corr) {
        json_decref(doc);
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "the request needs gtin, serialNumber, lotNumber, "
                     "expirationDate (YYMMDD), requestorGLN and corrUUID");
        return;
    }
    if (strlen(corr) > MC_API_VRS_CORR_MAX || (context && strlen(context) > MC_API_VRS_CONTEXT_MAX)) {
        json_decref(doc);
        mc__api_fail(res, 400, MC_ERR_TOO_LARGE, "corrUUID or context is too long");
        return;
    }
    if (strcmp(gln, auth.org.gln) != 0) {
        mc__api_fail(res, 403, MC_ERR_FORBIDDEN, "requestorGLN %.20s is not the GLN of the "
                     "requester's organisation", gln);
        json_decref(doc);
        return;
    }
    /* The four identifiers as the element string a scanner would send, so
     * they get exactly the checks of a scan. */
    char g14[MC_GS1_GTIN_LEN + 1];
    struct mc_gs1_error gerr;
    memset(&gerr, 0, sizeof gerr);
    struct vq *q = calloc(1, sizeof *q);
    int rc = q ? mc_gs1_gtin_normalize(g14, &gerr, gtin, strlen(gtin)) : MC_ERR_NOMEM;
    if (!rc) {
        char es[160];
        int n = snprintf(es, sizeof es, "01%s17%s10%s\x1d" "21%s", g14, exp, lot, serial);
        rc = n < 0 || (size_t)n >= sizeof es
                 ? MC_ERR_TOO_LARGE
                 : mc_gs1_parse_element_string(&q->id, &gerr, es, (size_t)n, reference_year(node));
    }
    if (rc) {
        json_decref(doc);
        free(q);
        mc__api_fail(res, 400, rc, "%s", gerr.message[0] ? gerr.message : "invalid identifiers");
        return;
    }
    q->node = node;
    q->proofs = false;
    q->trade = true;
    rc = mc_node_query(node, q_verify, q);
    if (rc || !q->out) {
        json_decref(doc);
        mc__api_fail(res, 0, q->err ? q->err : rc ? rc : MC_ERR_STATE, "verification failed");
        free(q);
        return;
    }
    json_decref(q->out);
    /* A trading partner's verification is a scan too: of a dispensed pack,
     * the clone alert (app/supply.h). */
    bool scan_recorded = record_scan(node, q);
    bool verified = true;
    const char *reason = NULL, *info = NULL;
    switch (q->verdict) {
    case MC_VERDICT_UNKNOWN_SERIAL: verified = false; reason = "No_match_GTIN_Serial"; break;
    case MC_VERDICT_LOT_MISMATCH: verified = false; reason = "No_match_GTIN_Serial_Lot"; break;
    case MC_VERDICT_EXPIRY_MISMATCH: verified = false; reason = "No_match_GTIN_Serial_Expiry"; break;
    case MC_VERDICT_RECALLED: info = "Recalled"; break;
    case MC_VERDICT_EXPIRED: info = "Expired"; break;
    case MC_VERDICT_SUSPECT: verified = false; reason = "Not_for_re-distribution"; info = "Suspect"; break;
    case MC_VERDICT_ILLEGITIMATE:
        verified = false; reason = "Not_for_re-distribution"; info = "Illegitimate"; break;
    case MC_VERDICT_ALREADY_DISPENSED:
    case MC_VERDICT_DECOMMISSIONED: verified = false; reason = "Not_for_re-distribution"; break;
    default: break;
    }
    /* A dispensed or decommissioned pack has left the supply chain: its
     * identifiers match, but it is not saleable. */
    if (q->v.unit_found && (q->v.unit.c.status == MC_SUPPLY_DISPENSED ||
                            q->v.unit.c.status == MC_SUPPLY_DECOMMISSIONED) && verified) {
        verified = false;
        reason = "Not_for_re-distribution";
    }
    char iso[32];
    mc_supply_iso8601(iso, q->time_ms);
    json_t *data = json_pack("{s:b}", "verified", verified);
    if (reason) json_object_set_new(data, "verificationFailureReason", json_string(reason));
    if (info) json_object_set_new(data, "additionalInfo", json_string(info));
    const char *responder = q->responder_gln[0] ? q->responder_gln : NULL;
    json_t *out = json_pack("{s:s, s:o, s:o, s:o, s:o, s:{s:s, s:o}}", "verificationTimestamp", iso,
                            "responderGLN", responder ? json_string(responder) : json_null(),
                            "corrUUID", mc_api_json_text(corr), "context", text_or_null(context),
                            "data", data, "medchain", "verdict", mc_supply_verdict_name(q->verdict),
                            "height", mc_api_json_u64(q->height));
    if (out) json_object_set_new(json_object_get(out, "medchain"), "scan_recorded", json_boolean(scan_recorded));
    json_decref(doc);
    free(q);
    if (!out) mc__api_fail(res, 0, MC_ERR_NOMEM, NULL);
    else respond(res, 200, out);
}

/* ---- GET /v1/product/{gtin} ----------------------------------------------
 *
 * Public: the master data a GTIN's manufacturer registered
 * (app/supply_product.h), with the manufacturer's name. A GTIN-8/12/13 is
 * read as its GTIN-14. 404 when nothing is registered. */

struct pq {
    char gtin[MC_GS1_GTIN_LEN + 1];
    struct mc_supply_product p;
    struct mc_org org;
    uint32_t owner;
    int rc;
};

static int q_product(void *ctx, struct mc_store *store, struct mc_app *app) {
    struct pq *q = ctx;
    struct mc_state *st = mc_app_state(app);
    q->rc = mc_supply_get_product(st, q->gtin, &q->p);
    int orc = mc_supply_get_gtin_owner(st, q->gtin, &q->owner);
    if (orc == 0 && mc_identity_get_org(st, q->owner, &q->org) == 0) q->org.name[sizeof q->org.name - 1] = 0;
    else memset(&q->org, 0, sizeof q->org);
    return 0;
}

void mc__api_supply_product(struct mc_node *node, const char *param, const struct mc__api_request *req,
                            struct mc__api_response *res) {
    struct pq q;
    memset(&q, 0, sizeof q);
    struct mc_gs1_error gerr;
    memset(&gerr, 0, sizeof gerr);
    if (!param || mc_gs1_gtin_normalize(q.gtin, &gerr, param, strlen(param))) {
        mc__api_fail(res, 400, MC_ERR_MALFORMED, "%s", gerr.message[0] ? gerr.message : "a GTIN is 8, 12, 13 or 14 digits");
        return;
    }
    int rc = mc_node_query(node, q_product, &q);
    if (rc) {
        mc__api_fail(res, mc__reply_query_status(rc), rc, "%s", "the node could not run the query");
        return;
    }
    if (q.rc == MC_ERR_NOT_FOUND) {
        mc__api_fail(res, 404, MC_ERR_NOT_FOUND, "no product is registered for GTIN %s%s", q.gtin,
                     q.owner ? " (its manufacturer commissioned packs but registered no name)" : "");
        return;
    }
    if (q.rc) {
        mc__api_fail(res, 0, q.rc, "%s", "cannot read the product");
        return;
    }
    respond(res, 200, json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:o, s:o, s:o}", "gtin", q.gtin, "name", q.p.name,
                                "strength", q.p.strength, "form", q.p.form, "pack_size", (int)q.p.pack_size,
                                "org", (json_int_t)q.p.org, "manufacturer", mc_api_json_text(q.org.name[0] ? q.org.name : NULL),
                                "height", mc_api_json_u64(q.p.height), "tx_id", mc_api_json_hash(&q.p.tx_id)));
}
