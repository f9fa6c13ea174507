/* Drug supply chain transactions and their state (see supply.h for the
 * payloads, the records and the rules). */
#include "app/row.h"
#include "app/supply.h"

#include "app/supply_payload.h"

#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/identity.h"
#include "app/txtypes.h"


/* ---- names ------------------------------------------------------------- */

static const char *const verdict_names[] = {
    NULL, "genuine", "unknown_serial", "lot_mismatch", "expiry_mismatch", "expired",
    "recalled", "already_dispensed", "decommissioned", "suspect", "illegitimate", "dispensed"};
static const char *const verdict_texts[] = {
    NULL,
    "Genuine: this pack was commissioned by its manufacturer and is in the legitimate supply chain.",
    "Unknown serial: no manufacturer commissioned this pack. It is likely counterfeit; do not use it.",
    "Lot mismatch: the serial is genuine but the lot printed on this pack is not its lot. It may be a copy.",
    "Expiry mismatch: the serial is genuine but the expiry printed on this pack is not its expiry. It may be a copy.",
    "Expired: this pack is past its expiry date.",
    "Recalled: the lot of this pack has been recalled. Do not use it; return it to a pharmacy.",
    "Already dispensed: this pack was dispensed to a patient and is back in the trade. It may be a clone of a "
    "genuine pack: do not sell or dispense it; the manufacturer and the regulator are alerted.",
    "Decommissioned: this pack was taken out of the supply chain (destroyed, stolen, sample or exported).",
    "Suspect: a regulator or the pack's owner has marked this pack as suspect. Do not use it.",
    "Illegitimate: this pack has been found illegitimate. Do not use it; report it.",
    "Dispensed: this genuine pack was dispensed to a patient by a pharmacy. If that was you, it is yours to use.",
};

const char *mc_supply_verdict_name(uint8_t v) {
    return v >= 1 && v <= MC_VERDICT_MAX ? verdict_names[v] : "unknown";
}
const char *mc_supply_verdict_text(uint8_t v) {
    return v >= 1 && v <= MC_VERDICT_MAX ? verdict_texts[v] : "Unknown verdict.";
}

const char *mc_supply_status_name(uint8_t s) {
    switch (s) {
    case MC_SUPPLY_IN_STOCK: return "in_stock";
    case MC_SUPPLY_IN_TRANSIT: return "in_transit";
    case MC_SUPPLY_DISPENSED: return "dispensed";
    case MC_SUPPLY_DECOMMISSIONED: return "decommissioned";
    default: return "unknown";
    }
}

static const char *const event_names[] = {NULL, "commission", "aggregate", "disaggregate",
                                          "ship", "receive", "dispense", "decommission", "flag"};
const char *mc_supply_event_name(uint8_t t) {
    return t >= 1 && t <= MC_SUPPLY_EV_MAX ? event_names[t] : "unknown";
}

static const char *const decommission_names[] = {NULL, "destroyed", "stolen", "sample",
                                                 "exported"};
const char *mc_supply_decommission_name(uint8_t r) {
    return r >= 1 && r <= MC_SUPPLY_DECOMMISSION_MAX ? decommission_names[r] : "unknown";
}
uint8_t mc_supply_decommission_from_name(const char *name) {
    for (uint8_t i = 1; i <= MC_SUPPLY_DECOMMISSION_MAX; i++)
        if (strcmp(decommission_names[i], name) == 0) return i;
    return 0;
}

const char *mc_supply_flag_name(uint8_t f) {
    switch (f) {
    case MC_SUPPLY_FLAG_NONE: return "clear";
    case MC_SUPPLY_FLAG_SUSPECT: return "suspect";
    case MC_SUPPLY_FLAG_ILLEGITIMATE: return "illegitimate";
    default: return "unknown";
    }
}
uint8_t mc_supply_flag_from_name(const char *name) {
    for (uint8_t i = 0; i <= MC_SUPPLY_FLAG_ILLEGITIMATE; i++)
        if (strcmp(mc_supply_flag_name(i), name) == 0) return i;
    return 0xff;
}

const char *mc_supply_alert_name(uint8_t kind) {
    return kind == MC_SUPPLY_ALERT_CLONE ? "clone"
           : kind == MC_SUPPLY_ALERT_UNKNOWN_SERIAL ? "unknown_serial" : "unknown";
}

/* ---- dates and identifiers --------------------------------------------- */

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, integers
 * only, valid far beyond any block time). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    uint64_t doe = (uint64_t)(z - era * 146097);
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yy + (*m <= 2);
}

uint32_t mc_supply_civil_from_ms(uint64_t ms, uint32_t *seconds_of_day) {
    uint64_t s = ms / 1000;
    int64_t y;
    unsigned m, d;
    civil_from_days((int64_t)(s / 86400), &y, &m, &d);
    if (seconds_of_day) *seconds_of_day = (uint32_t)(s % 86400);
    if (y > 9999) y = 9999;
    return (uint32_t)y * 10000 + m * 100 + d;
}

void mc_supply_iso8601(char out[32], uint64_t ms) {
    uint32_t sod;
    uint32_t ymd = mc_supply_civil_from_ms(ms, &sod);
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", ymd / 10000, ymd / 100 % 100, ymd % 100,
             sod / 3600, sod / 60 % 60, sod % 60);
}

bool mc_supply_date_valid(uint32_t ymd) {
    unsigned y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    if (y < 1000 || y > 9899 || m < 1 || m > 12 || d < 1) return false;
    static const unsigned len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned max = len[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
    return d <= max;
}

bool mc_sscc_valid(const char *s) {
    return s && strlen(s) == MC_SSCC_LEN && strspn(s, "0123456789") == MC_SSCC_LEN &&
           mc_gs1_check_digit_valid(s, MC_SSCC_LEN);
}

static bool gtin_valid(const char *s) {
    return s && strlen(s) == MC_GS1_GTIN_LEN && strspn(s, "0123456789") == MC_GS1_GTIN_LEN &&
           mc_gs1_check_digit_valid(s, MC_GS1_GTIN_LEN);
}

bool mc_supply_value_valid(const char *s) {
    static const char set82[] = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
                                "abcdefghijklmnopqrstuvwxyz";
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= MC_GS1_VALUE_MAX && strspn(s, set82) == n;
}

/* ---- keys and records -------------------------------------------------- */

void mc_supply_unit_key(struct mc_key *k, const char *gtin, const char *serial) {
    mc_key_init(k, "s/u/");
    mc_key_str(k, gtin);
    mc_key_str(k, serial);
}
static void event_key(struct mc_key *k, const char *gtin, const char *serial, uint32_t seq) {
    mc_key_init(k, "s/e/");
    mc_key_str(k, gtin);
    uint8_t n = (uint8_t)strlen(serial);
    mc_key_add(k, &n, 1);
    mc_key_str(k, serial);
    mc_key_u32(k, seq);
}
void mc_supply_lot_key(struct mc_key *k, const char *gtin, const char *lot) {
    mc_key_init(k, "s/l/");
    mc_key_str(k, gtin);
    mc_key_str(k, lot);
}
static void container_key(struct mc_key *k, const char *sscc) {
    mc_key_init(k, "s/c/");
    mc_key_str(k, sscc);
}
static void gtin_key(struct mc_key *k, const char *gtin) {
    mc_key_init(k, "s/g/");
    mc_key_str(k, gtin);
}

static const uint8_t ALERT_COUNT_KEY[] = "s/m/alerts";

static int row_corrupt(const char *what) {
    return mc_err_set(MC_ERR_TAMPERED, "supply: stored %s record does not decode", what);
}

static void custody_encode(struct mc_buf *b, const struct mc_supply_custody *c) {
    mc_enc_u32(b, c->owner);
    mc_enc_u8(b, c->status);
    mc_enc_u32(b, c->consignee);
    mc_enc_str8(b, c->parent);
    mc_enc_u8(b, c->flag);
    mc_enc_u8(b, c->decommission);
    mc_enc_u32(b, c->events);
}

static void custody_decode(struct mc_dec *d, struct mc_supply_custody *c) {
    c->owner = mc_dec_u32(d);
    c->status = mc_dec_u8(d);
    c->consignee = mc_dec_u32(d);
    mc_dec_str8(d, c->parent, sizeof c->parent);
    c->flag = mc_dec_u8(d);
    c->decommission = mc_dec_u8(d);
    c->events = mc_dec_u32(d);
    if (c->status < MC_SUPPLY_IN_STOCK || c->status > MC_SUPPLY_DECOMMISSIONED ||
        c->flag > MC_SUPPLY_FLAG_ILLEGITIMATE)
        mc_dec_fail(d, MC_ERR_MALFORMED);
}

int mc_supply_unit_decode(const uint8_t *p, size_t len, const char *gtin, const char *serial,
                          struct mc_supply_unit *u) {
    memset(u, 0, sizeof *u);
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    snprintf(u->gtin, sizeof u->gtin, "%s", gtin);
    snprintf(u->serial, sizeof u->serial, "%s", serial);
    mc_dec_str8(&d, u->lot, sizeof u->lot);
    u->expiry = mc_dec_u32(&d);
    u->manufacturer = mc_dec_u32(&d);
    custody_decode(&d, &u->c);
    u->scans_after_dispense = mc_dec_u32(&d);
    return mc_dec_finish(&d) ? row_corrupt("unit") : 0;
}

int mc_supply_get_unit(struct mc_state *st, const char *gtin, const char *serial,
                       struct mc_supply_unit *u) {
    memset(u, 0, sizeof *u);
    if (!gtin_valid(gtin) || !mc_supply_value_valid(serial)) return MC_ERR_NOT_FOUND;
    struct mc_key k;
    mc_supply_unit_key(&k, gtin, serial);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    rc = mc_supply_unit_decode(v.data, v.len, gtin, serial, u);
    mc_buf_deinit(&v);
    return rc;
}

static int put_unit(struct mc_state *st, const struct mc_supply_unit *u) {
    struct mc_key k;
    mc_supply_unit_key(&k, u->gtin, u->serial);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_str8(&v, u->lot);
    mc_enc_u32(&v, u->expiry);
    mc_enc_u32(&v, u->manufacturer);
    custody_encode(&v, &u->c);
    mc_enc_u32(&v, u->scans_after_dispense);
    return mc_row_put(st, &k, &v);
}

int mc_supply_lot_decode(const uint8_t *p, size_t len, struct mc_supply_lot *l) {
    memset(l, 0, sizeof *l);
    struct mc_dec d;
    mc_dec_init(&d, p, len);
    l->expiry = mc_dec_u32(&d);
    l->manufacturer = mc_dec_u32(&d);
    l->units = mc_dec_u32(&d);
    l->recalled = mc_dec_bool(&d);
    l->recall_height = mc_dec_u64(&d);
    l->recall_time_ms = mc_dec_u64(&d);
    mc_dec_fixed(&d, l->recall_tx.b, MC_HASH_BYTES);
    mc_dec_str8(&d, l->reason, sizeof l->reason);
    return mc_dec_finish(&d) ? row_corrupt("lot") : 0;
}

int mc_supply_get_lot(struct mc_state *st, const char *gtin, const char *lot,
                      struct mc_supply_lot *l) {
    memset(l, 0, sizeof *l);
    if (!gtin_valid(gtin) || !mc_supply_value_valid(lot)) return MC_ERR_NOT_FOUND;
    struct mc_key k;
    mc_supply_lot_key(&k, gtin, lot);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    rc = mc_supply_lot_decode(v.data, v.len, l);
    mc_buf_deinit(&v);
    return rc;
}

static int put_lot(struct mc_state *st, const char *gtin, const char *lot,
                   const struct mc_supply_lot *l) {
    struct mc_key k;
    mc_supply_lot_key(&k, gtin, lot);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    mc_enc_u32(&v, l->expiry);
    mc_enc_u32(&v, l->manufacturer);
    mc_enc_u32(&v, l->units);
    mc_enc_bool(&v, l->recalled);
    mc_enc_u64(&v, l->recall_height);
    mc_enc_u64(&v, l->recall_time_ms);
    mc_enc_fixed(&v, l->recall_tx.b, MC_HASH_BYTES);
    mc_enc_str8(&v, l->reason);
    return mc_row_put(st, &k, &v);
}

int mc_supply_get_gtin_owner(struct mc_state *st, const char *gtin, uint32_t *org) {
    *org = 0;
    if (!gtin_valid(gtin)) return MC_ERR_NOT_FOUND;
    struct mc_key k;
    gtin_key(&k, gtin);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    *org = mc_dec_u32(&d);
    rc = mc_dec_finish(&d);
    mc_buf_deinit(&v);
    return rc ? row_corrupt("GTIN") : 0;
}

struct item {
    uint8_t kind;
    char gtin[MC_GS1_GTIN_LEN + 1];
    char id[MC_GS1_VALUE_MAX + 1]; /* serial or SSCC */
};

struct container {
    char sscc[MC_SSCC_LEN + 1];
    struct mc_supply_custody c;
    uint32_t units;
    uint16_t n;
    struct item *items; /* n entries, malloc'd */
};

static void container_free(struct container *c) {
    free(c->items);
    c->items = NULL;
}

void mc_supply_encode_item(struct mc_buf *b, uint8_t kind, const char *gtin, const char *id) {
    mc_enc_u8(b, kind);
    mc_enc_str8(b, kind == MC_SUPPLY_ITEM_UNIT ? gtin : "");
    mc_enc_str8(b, id);
}

/* Decodes and validates one item. */
static void item_decode(struct mc_dec *d, struct item *it) {
    memset(it, 0, sizeof *it);
    it->kind = mc_dec_u8(d);
    mc_dec_str8(d, it->gtin, sizeof it->gtin);
    mc_dec_str8(d, it->id, sizeof it->id);
    if (d->err) return;
    bool ok = it->kind == MC_SUPPLY_ITEM_UNIT
                  ? gtin_valid(it->gtin) && mc_supply_value_valid(it->id)
                  : it->kind == MC_SUPPLY_ITEM_CONTAINER && it->gtin[0] == 0 && mc_sscc_valid(it->id);
    if (!ok) mc_dec_fail(d, MC_ERR_INVALID);
}

static int get_container(struct mc_state *st, const char *sscc, struct container *c) {
    memset(c, 0, sizeof *c);
    struct mc_key k;
    container_key(&k, sscc);
    struct mc_buf v;
    int rc = mc_row_get(st, &k, &v);
    if (rc) return rc;
    snprintf(c->sscc, sizeof c->sscc, "%s", sscc);
    struct mc_dec d;
    mc_dec_init(&d, v.data, v.len);
    custody_decode(&d, &c->c);
    c->units = mc_dec_u32(&d);
    c->n = mc_dec_u16(&d);
    if (!d.err && c->n > MC_SUPPLY_ITEMS_PER_TX_MAX) mc_dec_fail(&d, MC_ERR_MALFORMED);
    if (!d.err && c->n) {
        c->items = calloc(c->n, sizeof *c->items);
        if (!c->items) mc_dec_fail(&d, MC_ERR_NOMEM);
    }
    for (uint16_t i = 0; i < c->n && !d.err; i++) item_decode(&d, &c->items[i]);
    rc = mc_dec_finish(&d);
    mc_buf_deinit(&v);
    if (rc) {
        container_free(c);
        return rc == MC_ERR_NOMEM ? rc : row_corrupt("container");
    }
    return 0;
}

static int put_container(struct mc_state *st, const struct container *c) {
    struct mc_key k;
    container_key(&k, c->sscc);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    custody_encode(&v, &c->c);
    mc_enc_u32(&v, c->units);
    mc_enc_u16(&v, c->n);
    for (uint16_t i = 0; i < c->n; i++)
        mc_supply_encode_item(&v, c->items[i].kind, c->items[i].gtin, c->items[i].id);
    return mc_row_put(st, &k, &v);
}

static void event_encode(struct mc_buf *b, const struct mc_supply_event *e) {
    mc_enc_u8(b, e->type);
    mc_enc_u32(b, e->org);
    mc_enc_u32(b, e->other);
    mc_enc_u64(b, e->height);
    mc_enc_u64(b, e->time_ms);
    mc_enc_fixed(b, e->tx_id.b, MC_HASH_BYTES);
    mc_enc_u8(b, e->detail);
}

/* Appends an event to the unit's history (the caller stores the unit). */
static int add_event(struct mc_exec *ex, struct mc_supply_unit *u, uint8_t type, uint32_t org,
                     uint32_t other, uint8_t detail) {
    if (u->c.events >= MC_SUPPLY_UNIT_EVENTS_MAX)
        return mc_err_set(MC_ERR_FULL, "pack %s/%s has %d custody events, the most a pack keeps",
                          u->gtin, u->serial, MC_SUPPLY_UNIT_EVENTS_MAX);
    struct mc_supply_event e = {.type = type, .org = org, .other = other, .height = ex->height,
                                .time_ms = ex->time_ms, .tx_id = ex->tx_id, .detail = detail};
    struct mc_key k;
    event_key(&k, u->gtin, u->serial, u->c.events++);
    struct mc_buf v;
    mc_buf_init(&v, 0);
    event_encode(&v, &e);
    return mc_row_put(ex->st, &k, &v);
}

int mc_supply_get_events(struct mc_state *st, const char *gtin, const char *serial,
                         struct mc_supply_event *out, uint32_t max, uint32_t *count) {
    *count = 0;
    struct mc_supply_unit u;
    int rc = mc_supply_get_unit(st, gtin, serial, &u);
    if (rc) return rc;
    for (uint32_t i = 0; i < u.c.events && i < max; i++) {
        struct mc_key k;
        event_key(&k, gtin, serial, i);
        struct mc_buf v;
        if ((rc = mc_row_get(st, &k, &v))) return rc == MC_ERR_NOT_FOUND ? row_corrupt("event") : rc;
        struct mc_dec d;
        mc_dec_init(&d, v.data, v.len);
        struct mc_supply_event *e = &out[i];
        e->type = mc_dec_u8(&d);
        e->org = mc_dec_u32(&d);
        e->other = mc_dec_u32(&d);
        e->height = mc_dec_u64(&d);
        e->time_ms = mc_dec_u64(&d);
        mc_dec_fixed(&d, e->tx_id.b, MC_HASH_BYTES);
        e->detail = mc_dec_u8(&d);
        rc = mc_dec_finish(&d);
        mc_buf_deinit(&v);
        if (rc) return row_corrupt("event");
        *count = i + 1;
    }
    return 0;
}

/* ---- who may act ------------------------------------------------------- */

static bool is_trading_role(uint8_t role) {
    return role == MC_ROLE_MANUFACTURER || role == MC_ROLE_DISTRIBUTOR ||
           role == MC_ROLE_PHARMACY || role == MC_ROLE_PHARMACIST || role == MC_ROLE_REGULATOR;
}

static int require_trading(struct mc_exec *ex, const char *what) {
    if (!is_trading_role(ex->sender.role) || ex->sender.role == MC_ROLE_REGULATOR ||
        ex->sender.org == 0)
        return mc_err_set(MC_ERR_FORBIDDEN,
                          "only a manufacturer, distributor or pharmacy member may %s (sender is %s)",
                          what, mc_role_name(ex->sender.role));
    return 0;
}

static uint32_t today(const struct mc_exec *ex) { return mc_supply_civil_from_ms(ex->time_ms, NULL); }

/* ---- commission -------------------------------------------------------- */

int mc_supply_claim_gtin(struct mc_state *st, const char *gtin, uint32_t org) {
    uint32_t owner;
    int rc = mc_supply_get_gtin_owner(st, gtin, &owner);
    if (rc == MC_ERR_NOT_FOUND) {
        struct mc_key k;
        gtin_key(&k, gtin);
        struct mc_buf v;
        mc_buf_init(&v, 0);
        mc_enc_u32(&v, org);
        return mc_row_put(st, &k, &v);
    }
    if (rc) return rc;
    if (owner != org)
        return mc_err_set(MC_ERR_FORBIDDEN, "GTIN %s belongs to organisation %u, not %u", gtin, owner, org);
    return 0;
}

static int commission(struct mc_exec *ex, struct mc_dec *d) {
    char gtin[MC_GS1_GTIN_LEN + 1], lot[MC_GS1_VALUE_MAX + 1];
    mc_dec_str8(d, gtin, sizeof gtin);
    mc_dec_str8(d, lot, sizeof lot);
    uint32_t expiry = mc_dec_u32(d);
    uint16_t n = mc_dec_u16(d);
    if (d->err) return mc_err_set(MC_ERR_MALFORMED, "drug_commission payload does not decode");
    if (!gtin_valid(gtin))
        return mc_err_set(MC_ERR_INVALID, "GTIN '%s' is not 14 digits with a valid check digit", gtin);
    if (!mc_supply_value_valid(lot))
        return mc_err_set(MC_ERR_INVALID, "lot '%s' is not 1-20 characters of GS1 set 82", lot);
    if (!mc_supply_date_valid(expiry))
        return mc_err_set(MC_ERR_INVALID, "expiry %u is not a calendar date YYYYMMDD", expiry);
    if (n == 0 || n > MC_SUPPLY_SERIALS_PER_TX_MAX)
        return mc_err_set(MC_ERR_INVALID, "a commissioning names 1 to %d serials, not %u",
                          MC_SUPPLY_SERIALS_PER_TX_MAX, n);
    if (ex->sender.role != MC_ROLE_MANUFACTURER || ex->sender.org == 0)
        return mc_err_set(MC_ERR_FORBIDDEN, "only a manufacturer member commissions serials (sender is %s)",
                          mc_role_name(ex->sender.role));
    uint32_t org = ex->sender.org;
    int rc = mc_supply_claim_gtin(ex->st, gtin, org);
    if (rc) return rc;
    struct mc_supply_lot l;
    rc = mc_supply_get_lot(ex->st, gtin, lot, &l);
    if (rc == MC_ERR_NOT_FOUND) {
        memset(&l, 0, sizeof l);
        l.expiry = expiry;
        l.manufacturer = org;
    } else if (rc) {
        return rc;
    } else if (l.expiry != expiry) {
        return mc_err_set(MC_ERR_INVALID, "lot %s was commissioned with expiry %u, not %u", lot,
                          l.expiry, expiry);
    } else if (l.recalled) {
        return mc_err_set(MC_ERR_STATE, "lot %s is recalled; no more serials may be commissioned", lot);
    }
    for (uint16_t i = 0; i < n; i++) {
        struct mc_supply_unit u;
        memset(&u, 0, sizeof u);
        mc_dec_str8(d, u.serial, sizeof u.serial);
        if (d->err) return mc_err_set(MC_ERR_MALFORMED, "drug_commission serial %u does not decode", i);
        if (!mc_supply_value_valid(u.serial))
            return mc_err_set(MC_ERR_INVALID, "serial '%s' is not 1-20 characters of GS1 set 82", u.serial);
        struct mc_supply_unit existing;
        rc = mc_supply_get_unit(ex->st, gtin, u.serial, &existing);
        if (rc == 0)
            return mc_err_set(MC_ERR_EXISTS, "serial %s of GTIN %s is already commissioned", u.serial, gtin);
        if (rc != MC_ERR_NOT_FOUND) return rc;
        snprintf(u.gtin, sizeof u.gtin, "%s", gtin);
        snprintf(u.lot, sizeof u.lot, "%s", lot);
        u.expiry = expiry;
        u.manufacturer = org;
        u.c.owner = org;
        u.c.status = MC_SUPPLY_IN_STOCK;
        if ((rc = add_event(ex, &u, MC_SUPPLY_EV_COMMISSION, org, 0, 0))) return rc;
        if ((rc = put_unit(ex->st, &u))) return rc;
    }
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "drug_commission payload has trailing bytes");
    l.units += n;
    return put_lot(ex->st, gtin, lot, &l);
}

/* ---- custody moves over units and containers --------------------------- */

enum op { OP_SHIP, OP_RECEIVE, OP_AGGREGATE, OP_DISAGGREGATE };

struct move {
    struct mc_exec *ex;
    enum op op;
    uint32_t org;        /* acting organisation */
    uint32_t to;         /* ship: consignee */
    const char *parent;  /* aggregate: the new parent; disaggregate: "" */
};

static int check_top(const struct move *m, const struct mc_supply_custody *c, const char *what) {
    if (m->op == OP_RECEIVE) {
        if (c->status != MC_SUPPLY_IN_TRANSIT || c->consignee != m->org)
            return mc_err_set(MC_ERR_FORBIDDEN, "%s was not shipped to organisation %u (%s)", what,
                              m->org, mc_supply_status_name(c->status));
        return 0;
    }
    if (c->owner != m->org)
        return mc_err_set(MC_ERR_FORBIDDEN, "%s is held by organisation %u, not by the sender's (%u)",
                          what, c->owner, m->org);
    if (c->status != MC_SUPPLY_IN_STOCK)
        return mc_err_set(MC_ERR_STATE, "%s is %s", what, mc_supply_status_name(c->status));
    if (m->op != OP_DISAGGREGATE && c->parent[0])
        return mc_err_set(MC_ERR_STATE, "%s is packed in container %s; disaggregate it first", what,
                          c->parent);
    return 0;
}

/* Applies the move to one custody record (not the top-level checks). */
static void apply_custody(const struct move *m, struct mc_supply_custody *c, bool top) {
    switch (m->op) {
    case OP_SHIP:
        c->status = MC_SUPPLY_IN_TRANSIT;
        c->consignee = m->to;
        break;
    case OP_RECEIVE:
        c->status = MC_SUPPLY_IN_STOCK;
        c->owner = m->org;
        c->consignee = 0;
        break;
    case OP_AGGREGATE:
    case OP_DISAGGREGATE:
        if (top) snprintf(c->parent, sizeof c->parent, "%s", m->parent);
        break;
    }
}

static int move_unit(const struct move *m, const char *gtin, const char *serial, bool top,
                     uint32_t *units) {
    struct mc_supply_unit u;
    int rc = mc_supply_get_unit(m->ex->st, gtin, serial, &u);
    if (rc == MC_ERR_NOT_FOUND)
        return mc_err_set(MC_ERR_NOT_FOUND, "pack %s/%s was never commissioned", gtin, serial);
    if (rc) return rc;
    char what[64];
    snprintf(what, sizeof what, "pack %s/%s", gtin, serial);
    if (top && (rc = check_top(m, &u.c, what))) return rc;
    if (!top && u.c.status != MC_SUPPLY_IN_STOCK && u.c.status != MC_SUPPLY_IN_TRANSIT)
        return mc_err_set(MC_ERR_TAMPERED, "%s inside a container is %s", what,
                          mc_supply_status_name(u.c.status));
    if (m->op == OP_SHIP && u.c.flag)
        return mc_err_set(MC_ERR_STATE, "%s is marked %s and may not move", what,
                          mc_supply_flag_name(u.c.flag));
    if (m->op == OP_SHIP) {
        struct mc_supply_lot l;
        rc = mc_supply_get_lot(m->ex->st, gtin, u.lot, &l);
        if (rc) return rc == MC_ERR_NOT_FOUND ? row_corrupt("lot") : rc;
        if (l.recalled && m->to != u.manufacturer)
            return mc_err_set(MC_ERR_STATE, "%s belongs to recalled lot %s; it may only go back to "
                              "its manufacturer", what, u.lot);
    }
    uint32_t prev_owner = u.c.owner;
    apply_custody(m, &u.c, top);
    uint8_t ev = m->op == OP_SHIP ? MC_SUPPLY_EV_SHIP
                 : m->op == OP_RECEIVE ? MC_SUPPLY_EV_RECEIVE
                 : m->op == OP_AGGREGATE ? MC_SUPPLY_EV_AGGREGATE
                                         : MC_SUPPLY_EV_DISAGGREGATE;
    uint32_t other = m->op == OP_SHIP ? m->to : m->op == OP_RECEIVE ? prev_owner : 0;
    /* Packing changes only the packed item's parent: units deeper inside
     * keep their history unchanged. */
    if ((m->op == OP_SHIP || m->op == OP_RECEIVE || top) &&
        (rc = add_event(m->ex, &u, ev, m->org, other, 0)))
        return rc;
    if ((rc = put_unit(m->ex->st, &u))) return rc;
    (*units)++;
    return 0;
}

static int move_container(const struct move *m, const char *sscc, bool top, int depth,
                          uint32_t *units) {
    if (depth > MC_SUPPLY_NESTING_MAX)
        return mc_err_set(MC_ERR_INVALID, "containers nest deeper than %d levels", MC_SUPPLY_NESTING_MAX);
    struct container c;
    int rc = get_container(m->ex->st, sscc, &c);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_NOT_FOUND, "no container %s", sscc);
    if (rc) return rc;
    char what[48];
    snprintf(what, sizeof what, "container %s", sscc);
    if (top && (rc = check_top(m, &c.c, what))) goto out;
    apply_custody(m, &c.c, top);
    /* Packing a container only changes its own parent; ship and receive
     * move everything inside it. */
    if (m->op == OP_SHIP || m->op == OP_RECEIVE) {
        for (uint16_t i = 0; i < c.n && !rc; i++)
            rc = c.items[i].kind == MC_SUPPLY_ITEM_UNIT
                     ? move_unit(m, c.items[i].gtin, c.items[i].id, false, units)
                     : move_container(m, c.items[i].id, false, depth + 1, units);
    } else {
        *units += c.units;
    }
    if (!rc) rc = put_container(m->ex->st, &c);
out:
    container_free(&c);
    return rc;
}

static int move_item(const struct move *m, const struct item *it, uint32_t *units) {
    return it->kind == MC_SUPPLY_ITEM_UNIT ? move_unit(m, it->gtin, it->id, true, units)
                                           : move_container(m, it->id, true, 0, units);
}

static int decode_items(struct mc_dec *d, struct item **out, uint16_t *n, const char *type) {
    *out = NULL;
    *n = mc_dec_u16(d);
    if (d->err) return mc_err_set(MC_ERR_MALFORMED, "%s payload does not decode", type);
    if (*n == 0 || *n > MC_SUPPLY_ITEMS_PER_TX_MAX)
        return mc_err_set(MC_ERR_INVALID, "%s names 1 to %d items, not %u", type,
                          MC_SUPPLY_ITEMS_PER_TX_MAX, *n);
    struct item *items = calloc(*n, sizeof *items);
    if (!items) return MC_ERR_NOMEM;
    for (uint16_t i = 0; i < *n && !d->err; i++) item_decode(d, &items[i]);
    int rc = mc_dec_finish(d);
    if (rc) {
        free(items);
        return rc == MC_ERR_INVALID
                   ? mc_err_set(rc, "%s names an item that is not a valid GTIN+serial or SSCC", type)
                   : mc_err_set(MC_ERR_MALFORMED, "%s payload does not decode", type);
    }
    /* An item named twice would be moved twice: refuse. */
    for (uint16_t i = 0; i < *n; i++)
        for (uint16_t j = 0; j < i; j++)
            if (items[i].kind == items[j].kind && strcmp(items[i].gtin, items[j].gtin) == 0 &&
                strcmp(items[i].id, items[j].id) == 0) {
                rc = mc_err_set(MC_ERR_INVALID, "%s names %s twice", type, items[i].id);
                free(items);
                return rc;
            }
    *out = items;
    return 0;
}

static int ship_or_receive(struct mc_exec *ex, struct mc_dec *d, bool ship) {
    const char *type = ship ? "drug_ship" : "drug_receive";
    uint32_t to = ship ? mc_dec_u32(d) : 0;
    struct item *items;
    uint16_t n;
    int rc = decode_items(d, &items, &n, type);
    if (rc) return rc;
    if ((rc = require_trading(ex, ship ? "ship" : "receive"))) goto out;
    if (ship) {
        struct mc_org org;
        if (to == ex->sender.org) {
            rc = mc_err_set(MC_ERR_INVALID, "an organisation does not ship to itself");
            goto out;
        }
        if (mc_identity_get_org(ex->st, to, &org)) {
            rc = mc_err_set(MC_ERR_NOT_FOUND, "no organisation %u to ship to", to);
            goto out;
        }
        if (org.kind != MC_ORG_MANUFACTURER && org.kind != MC_ORG_DISTRIBUTOR &&
            org.kind != MC_ORG_PHARMACY && org.kind != MC_ORG_HOSPITAL && org.kind != MC_ORG_CLINIC) {
            rc = mc_err_set(MC_ERR_FORBIDDEN, "a %s organisation does not hold medicines",
                            mc_org_kind_name(org.kind));
            goto out;
        }
    }
    struct move m = {.ex = ex, .op = ship ? OP_SHIP : OP_RECEIVE, .org = ex->sender.org, .to = to};
    uint32_t units = 0;
    for (uint16_t i = 0; i < n && !rc; i++) rc = move_item(&m, &items[i], &units);
out:
    free(items);
    return rc;
}

static int aggregate(struct mc_exec *ex, struct mc_dec *d) {
    char sscc[MC_SSCC_LEN + 1];
    mc_dec_str8(d, sscc, sizeof sscc);
    struct item *items;
    uint16_t n;
    int rc = d->err ? mc_err_set(MC_ERR_MALFORMED, "drug_aggregate payload does not decode")
                    : decode_items(d, &items, &n, "drug_aggregate");
    if (rc) return rc;
    if (!mc_sscc_valid(sscc)) {
        rc = mc_err_set(MC_ERR_INVALID, "container id '%s' is not an SSCC (18 digits, check digit)", sscc);
        goto out;
    }
    if ((rc = require_trading(ex, "pack containers"))) goto out;
    struct container c;
    rc = get_container(ex->st, sscc, &c);
    if (rc == MC_ERR_NOT_FOUND) {
        memset(&c, 0, sizeof c);
        snprintf(c.sscc, sizeof c.sscc, "%s", sscc);
        c.c.owner = ex->sender.org;
        c.c.status = MC_SUPPLY_IN_STOCK;
        rc = 0;
    } else if (rc) {
        goto out;
    } else if ((rc = check_top(&(struct move){.op = OP_AGGREGATE, .org = ex->sender.org}, &c.c,
                               "the container"))) {
        container_free(&c);
        goto out;
    }
    if ((uint32_t)c.n + n > MC_SUPPLY_ITEMS_PER_TX_MAX) {
        rc = mc_err_set(MC_ERR_FULL, "container %s would hold more than %d items", sscc,
                        MC_SUPPLY_ITEMS_PER_TX_MAX);
        container_free(&c);
        goto out;
    }
    struct move m = {.ex = ex, .op = OP_AGGREGATE, .org = ex->sender.org, .parent = sscc};
    uint32_t units = 0;
    for (uint16_t i = 0; i < n && !rc; i++) {
        if (items[i].kind == MC_SUPPLY_ITEM_CONTAINER && strcmp(items[i].id, sscc) == 0)
            rc = mc_err_set(MC_ERR_INVALID, "a container cannot hold itself");
        else
            rc = move_item(&m, &items[i], &units);
    }
    if (!rc && c.units + units > MC_SUPPLY_CONTAINER_UNITS_MAX)
        rc = mc_err_set(MC_ERR_FULL, "container %s would hold %u packs, more than %d", sscc,
                        c.units + units, MC_SUPPLY_CONTAINER_UNITS_MAX);
    if (!rc) {
        struct item *all = realloc(c.items, ((size_t)c.n + n) * sizeof *all);
        if (!all) {
            rc = MC_ERR_NOMEM;
        } else {
            memcpy(all + c.n, items, (size_t)n * sizeof *all);
            c.items = all;
            c.n = (uint16_t)(c.n + n);
            c.units += units;
            rc = put_container(ex->st, &c);
        }
    }
    container_free(&c);
out:
    free(items);
    return rc;
}

static int disaggregate(struct mc_exec *ex, struct mc_dec *d) {
    char sscc[MC_SSCC_LEN + 1];
    mc_dec_str8(d, sscc, sizeof sscc);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "drug_disaggregate payload does not decode");
    int rc = require_trading(ex, "unpack containers");
    if (rc) return rc;
    struct container c;
    rc = get_container(ex->st, sscc, &c);
    if (rc == MC_ERR_NOT_FOUND) return mc_err_set(MC_ERR_NOT_FOUND, "no container %s", sscc);
    if (rc) return rc;
    struct move top = {.ex = ex, .op = OP_DISAGGREGATE, .org = ex->sender.org, .parent = ""};
    if ((rc = check_top(&top, &c.c, "the container"))) goto out;
    if (c.c.parent[0]) {
        rc = mc_err_set(MC_ERR_STATE, "container %s is inside container %s; unpack that first",
                        sscc, c.c.parent);
        goto out;
    }
    uint32_t units = 0;
    for (uint16_t i = 0; i < c.n && !rc; i++) {
        if (c.items[i].kind == MC_SUPPLY_ITEM_UNIT)
            rc = move_unit(&top, c.items[i].gtin, c.items[i].id, true, &units);
        else {
            struct container child;
            rc = get_container(ex->st, c.items[i].id, &child);
            if (rc) break;
            child.c.parent[0] = 0;
            rc = put_container(ex->st, &child);
            container_free(&child);
        }
    }
    if (!rc) {
        struct mc_key k;
        container_key(&k, sscc);
        rc = mc_state_del(ex->st, k.b, k.n);
    }
out:
    container_free(&c);
    return rc;
}

/* ---- unit-level transactions ------------------------------------------- */

static int load_unit_for(struct mc_exec *ex, const char *gtin, const char *serial,
                         struct mc_supply_unit *u) {
    if (!gtin_valid(gtin) || !mc_supply_value_valid(serial))
        return mc_err_set(MC_ERR_INVALID, "'%s' + '%s' is not a valid GTIN and serial", gtin, serial);
    int rc = mc_supply_get_unit(ex->st, gtin, serial, u);
    if (rc == MC_ERR_NOT_FOUND)
        return mc_err_set(MC_ERR_NOT_FOUND, "pack %s/%s was never commissioned", gtin, serial);
    return rc;
}

static int dispense(struct mc_exec *ex, struct mc_dec *d) {
    char gtin[MC_GS1_GTIN_LEN + 1], serial[MC_GS1_VALUE_MAX + 1];
    mc_dec_str8(d, gtin, sizeof gtin);
    mc_dec_str8(d, serial, sizeof serial);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "drug_dispense payload does not decode");
    struct mc_supply_unit u;
    int rc = load_unit_for(ex, gtin, serial, &u);
    if (rc) return rc;
    if (ex->sender.role != MC_ROLE_PHARMACY && ex->sender.role != MC_ROLE_PHARMACIST)
        return mc_err_set(MC_ERR_FORBIDDEN, "only a pharmacy or pharmacist dispenses (sender is %s)",
                          mc_role_name(ex->sender.role));
    if (u.c.status == MC_SUPPLY_DISPENSED)
        return mc_err_set(MC_ERR_STATE, "pack %s/%s was already dispensed", gtin, serial);
    if (u.c.owner != ex->sender.org)
        return mc_err_set(MC_ERR_FORBIDDEN, "pack %s/%s is held by organisation %u, not by the "
                          "sender's (%u)", gtin, serial, u.c.owner, ex->sender.org);
    if (u.c.status != MC_SUPPLY_IN_STOCK)
        return mc_err_set(MC_ERR_STATE, "pack %s/%s is %s", gtin, serial,
                          mc_supply_status_name(u.c.status));
    if (u.c.parent[0])
        return mc_err_set(MC_ERR_STATE, "pack %s/%s is packed in container %s", gtin, serial,
                          u.c.parent);
    if (u.c.flag)
        return mc_err_set(MC_ERR_STATE, "pack %s/%s is marked %s", gtin, serial,
                          mc_supply_flag_name(u.c.flag));
    struct mc_supply_lot l;
    rc = mc_supply_get_lot(ex->st, gtin, u.lot, &l);
    if (rc) return rc == MC_ERR_NOT_FOUND ? row_corrupt("lot") : rc;
    if (l.recalled)
        return mc_err_set(MC_ERR_STATE, "lot %s of pack %s/%s is recalled", u.lot, gtin, serial);
    if (u.expiry < today(ex))
        return mc_err_set(MC_ERR_STATE, "pack %s/%s expired on %u", gtin, serial, u.expiry);
    u.c.status = MC_SUPPLY_DISPENSED;
    if ((rc = add_event(ex, &u, MC_SUPPLY_EV_DISPENSE, ex->sender.org, 0, 0))) return rc;
    return put_unit(ex->st, &u);
}

static int decommission(struct mc_exec *ex, struct mc_dec *d) {
    uint8_t reason = mc_dec_u8(d);
    char gtin[MC_GS1_GTIN_LEN + 1], serial[MC_GS1_VALUE_MAX + 1];
    mc_dec_str8(d, gtin, sizeof gtin);
    mc_dec_str8(d, serial, sizeof serial);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "drug_decommission payload does not decode");
    if (reason < 1 || reason > MC_SUPPLY_DECOMMISSION_MAX)
        return mc_err_set(MC_ERR_INVALID, "decommission reason %u is unknown", reason);
    int rc = require_trading(ex, "decommission packs");
    if (rc) return rc;
    struct mc_supply_unit u;
    if ((rc = load_unit_for(ex, gtin, serial, &u))) return rc;
    char what[64];
    snprintf(what, sizeof what, "pack %s/%s", gtin, serial);
    struct move m = {.op = OP_SHIP, .org = ex->sender.org};
    if ((rc = check_top(&m, &u.c, what))) return rc;
    u.c.status = MC_SUPPLY_DECOMMISSIONED;
    u.c.decommission = reason;
    if ((rc = add_event(ex, &u, MC_SUPPLY_EV_DECOMMISSION, ex->sender.org, 0, reason))) return rc;
    return put_unit(ex->st, &u);
}

static int recall(struct mc_exec *ex, struct mc_dec *d) {
    char gtin[MC_GS1_GTIN_LEN + 1], lot[MC_GS1_VALUE_MAX + 1], reason[MC_SUPPLY_REASON_MAX + 1];
    mc_dec_str8(d, gtin, sizeof gtin);
    mc_dec_str8(d, lot, sizeof lot);
    mc_dec_str8(d, reason, sizeof reason);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "drug_recall payload does not decode");
    struct mc_supply_lot l;
    int rc = mc_supply_get_lot(ex->st, gtin, lot, &l);
    if (rc == MC_ERR_NOT_FOUND)
        return mc_err_set(MC_ERR_NOT_FOUND, "lot %s of GTIN %s was never commissioned", lot, gtin);
    if (rc) return rc;
    bool allowed = ex->sender.role == MC_ROLE_REGULATOR ||
                   (ex->sender.role == MC_ROLE_MANUFACTURER && ex->sender.org == l.manufacturer);
    if (!allowed)
        return mc_err_set(MC_ERR_FORBIDDEN, "only the lot's manufacturer or a regulator recalls it");
    if (l.recalled) return mc_err_set(MC_ERR_STATE, "lot %s is already recalled", lot);
    if (reason[0] == 0) return mc_err_set(MC_ERR_INVALID, "a recall needs a reason");
    l.recalled = true;
    l.recall_height = ex->height;
    l.recall_time_ms = ex->time_ms;
    l.recall_tx = ex->tx_id;
    snprintf(l.reason, sizeof l.reason, "%s", reason);
    return put_lot(ex->st, gtin, lot, &l);
}

static int flag(struct mc_exec *ex, struct mc_dec *d) {
    char gtin[MC_GS1_GTIN_LEN + 1], serial[MC_GS1_VALUE_MAX + 1], reason[MC_SUPPLY_REASON_MAX + 1];
    mc_dec_str8(d, gtin, sizeof gtin);
    mc_dec_str8(d, serial, sizeof serial);
    uint8_t f = mc_dec_u8(d);
    mc_dec_str8(d, reason, sizeof reason);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "drug_flag payload does not decode");
    if (f > MC_SUPPLY_FLAG_ILLEGITIMATE) return mc_err_set(MC_ERR_INVALID, "flag %u is unknown", f);
    if (reason[0] == 0) return mc_err_set(MC_ERR_INVALID, "marking or clearing a pack needs a reason");
    struct mc_supply_unit u;
    int rc = load_unit_for(ex, gtin, serial, &u);
    if (rc) return rc;
    bool owner = is_trading_role(ex->sender.role) && ex->sender.org == u.c.owner &&
                 u.c.status != MC_SUPPLY_IN_TRANSIT;
    if (ex->sender.role != MC_ROLE_REGULATOR && !owner)
        return mc_err_set(MC_ERR_FORBIDDEN, "only a regulator or the pack's owner marks it");
    /* Only a regulator lifts "illegitimate": an owner may not clear its own
     * stock of a finding that concerns it. */
    if (u.c.flag == MC_SUPPLY_FLAG_ILLEGITIMATE && ex->sender.role != MC_ROLE_REGULATOR)
        return mc_err_set(MC_ERR_FORBIDDEN, "only a regulator changes an illegitimate finding");
    if (u.c.flag == f) return mc_err_set(MC_ERR_STATE, "pack is already %s", mc_supply_flag_name(f));
    u.c.flag = f;
    if ((rc = add_event(ex, &u, MC_SUPPLY_EV_FLAG, ex->sender.org, 0, f))) return rc;
    return put_unit(ex->st, &u);
}

static int add_alert(struct mc_exec *ex, uint8_t kind, const char *gtin, const char *serial,
                     const char *lot, uint32_t manufacturer, uint32_t holder, uint32_t scans) {
    uint64_t seq = 0;
    struct mc_buf v;
    mc_buf_init(&v, 0);
    int rc = mc_state_get(ex->st, ALERT_COUNT_KEY, sizeof ALERT_COUNT_KEY - 1, &v);
    if (rc == 0) {
        struct mc_dec d;
        mc_dec_init(&d, v.data, v.len);
        seq = mc_dec_u64(&d);
        if (mc_dec_finish(&d)) rc = row_corrupt("alert counter");
    } else if (rc == MC_ERR_NOT_FOUND) {
        rc = 0;
    }
    mc_buf_deinit(&v);
    if (rc) return rc;
    mc_buf_init(&v, 0);
    mc_enc_u64(&v, seq + 1);
    if ((rc = v.err ? v.err : mc_state_put(ex->st, ALERT_COUNT_KEY, sizeof ALERT_COUNT_KEY - 1,
                                           v.data, v.len))) {
        mc_buf_deinit(&v);
        return rc;
    }
    mc_buf_deinit(&v);
    struct mc_key k;
    mc_key_init(&k, "s/a/");
    mc_key_u64(&k, seq);
    mc_buf_init(&v, 0);
    mc_enc_u8(&v, kind);
    mc_enc_str8(&v, gtin);
    mc_enc_str8(&v, serial);
    mc_enc_str8(&v, lot);
    mc_enc_u32(&v, manufacturer);
    mc_enc_u32(&v, holder);
    mc_enc_u64(&v, ex->height);
    mc_enc_u64(&v, ex->time_ms);
    mc_enc_u32(&v, scans);
    mc_enc_fixed(&v, ex->tx_id.b, MC_HASH_BYTES);
    return mc_row_put(ex->st, &k, &v);
}

static int scan(struct mc_exec *ex, struct mc_dec *d) {
    char gtin[MC_GS1_GTIN_LEN + 1], serial[MC_GS1_VALUE_MAX + 1];
    mc_dec_str8(d, gtin, sizeof gtin);
    mc_dec_str8(d, serial, sizeof serial);
    uint8_t verdict = mc_dec_u8(d);
    uint8_t seen = mc_dec_u8(d);
    if (mc_dec_finish(d)) return mc_err_set(MC_ERR_MALFORMED, "drug_scan payload does not decode");
    if (seen > MC_SUPPLY_DECOMMISSIONED)
        return mc_err_set(MC_ERR_INVALID, "status %u is unknown", seen);
    if (verdict < 1 || verdict > MC_VERDICT_MAX)
        return mc_err_set(MC_ERR_INVALID, "verdict %u is unknown", verdict);
    if (ex->sender.role != MC_ROLE_NODE)
        return mc_err_set(MC_ERR_FORBIDDEN, "only a node records scans (sender is %s)",
                          mc_role_name(ex->sender.role));
    if (!gtin_valid(gtin) || !mc_supply_value_valid(serial))
        return mc_err_set(MC_ERR_INVALID, "a scan names a valid GTIN and serial");
    struct mc_supply_unit u;
    int rc = mc_supply_get_unit(ex->st, gtin, serial, &u);
    if (rc == MC_ERR_NOT_FOUND) {
        /* An unknown serial of a GTIN someone commissioned: tell its owner.
         * An unknown GTIN has nobody to tell; the scan leaves no state. */
        uint32_t owner;
        rc = mc_supply_get_gtin_owner(ex->st, gtin, &owner);
        if (rc == MC_ERR_NOT_FOUND) return 0;
        if (rc) return rc;
        return add_alert(ex, MC_SUPPLY_ALERT_UNKNOWN_SERIAL, gtin, serial, "", owner, 0, 1);
    }
    if (rc) return rc;
    /* Only a scan that saw the pack dispensed counts: a scan made before
     * the dispensing may land in the same block after it. */
    if (u.c.status != MC_SUPPLY_DISPENSED || seen != MC_SUPPLY_DISPENSED) return 0;
    u.scans_after_dispense++;
    if ((rc = put_unit(ex->st, &u))) return rc;
    /* The patient (or anyone of the public) checking her pack is calm,
     * however often; a trading partner verifying a dispensed pack means its
     * code is back in the supply chain: a possible clone. */
    if (verdict != MC_VERDICT_ALREADY_DISPENSED) return 0;
    struct mc_supply_event e[MC_SUPPLY_UNIT_EVENTS_MAX];
    uint32_t n = 0;
    if ((rc = mc_supply_get_events(ex->st, gtin, serial, e, MC_SUPPLY_UNIT_EVENTS_MAX, &n))) return rc;
    uint32_t holder = u.c.owner;
    for (uint32_t i = n; i-- > 0;)
        if (e[i].type == MC_SUPPLY_EV_DISPENSE) {
            holder = e[i].org;
            break;
        }
    return add_alert(ex, MC_SUPPLY_ALERT_CLONE, gtin, serial, u.lot, u.manufacturer, holder,
                     u.scans_after_dispense);
}

int mc_supply_execute(struct mc_exec *ex) {
    struct mc_dec d;
    mc_dec_init(&d, ex->tx->payload, ex->tx->payload_len);
    switch (ex->tx->type) {
    case MC_TX_DRUG_COMMISSION: return commission(ex, &d);
    case MC_TX_DRUG_AGGREGATE: return aggregate(ex, &d);
    case MC_TX_DRUG_DISAGGREGATE: return disaggregate(ex, &d);
    case MC_TX_DRUG_SHIP: return ship_or_receive(ex, &d, true);
    case MC_TX_DRUG_RECEIVE: return ship_or_receive(ex, &d, false);
    case MC_TX_DRUG_DISPENSE: return dispense(ex, &d);
    case MC_TX_DRUG_DECOMMISSION: return decommission(ex, &d);
    case MC_TX_DRUG_RECALL: return recall(ex, &d);
    case MC_TX_DRUG_FLAG: return flag(ex, &d);
    case MC_TX_DRUG_SCAN: return scan(ex, &d);
    default: return mc_err_set(MC_ERR_INVALID, "not a supply transaction");
    }
}

/* ---- strict decoding without state (fuzzing, views) -------------------- */

int mc_supply_payload_check(uint16_t type, const uint8_t *p, size_t len) {
    /* One decoder for the layouts: supply_payload.c. */
    struct mc_supply_payload *out = malloc(sizeof *out);
    if (!out) return MC_ERR_NOMEM;
    int rc = mc_supply_payload_decode(out, type, p, len);
    free(out);
    return rc;
}

/* ---- queries ----------------------------------------------------------- */

struct alert_scan {
    uint32_t org;
    bool all;
    struct mc_supply_alert *ring; /* the newest `max`, circular */
    uint32_t max, seen;
};

static int alert_cb(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    struct alert_scan *s = ctx;
    if (klen != 12) return 0;
    struct mc_supply_alert a;
    memset(&a, 0, sizeof a);
    for (int i = 0; i < 8; i++) a.seq = a.seq << 8 | key[4 + i];
    struct mc_dec d;
    mc_dec_init(&d, val, vlen);
    a.kind = mc_dec_u8(&d);
    mc_dec_str8(&d, a.gtin, sizeof a.gtin);
    mc_dec_str8(&d, a.serial, sizeof a.serial);
    mc_dec_str8(&d, a.lot, sizeof a.lot);
    a.manufacturer = mc_dec_u32(&d);
    a.holder = mc_dec_u32(&d);
    a.height = mc_dec_u64(&d);
    a.time_ms = mc_dec_u64(&d);
    a.scans = mc_dec_u32(&d);
    mc_dec_fixed(&d, a.tx_id.b, MC_HASH_BYTES);
    if (mc_dec_finish(&d)) return row_corrupt("alert");
    if (!s->all && a.manufacturer != s->org && a.holder != s->org) return 0;
    s->ring[s->seen % s->max] = a;
    s->seen++;
    return 0;
}

int mc_supply_list_alerts(struct mc_state *st, uint32_t org, bool is_regulator,
                          struct mc_supply_alert *out, uint32_t max, uint32_t *count) {
    *count = 0;
    if (max == 0) return 0;
    struct mc_supply_alert *ring = calloc(max, sizeof *ring);
    if (!ring) return MC_ERR_NOMEM;
    struct alert_scan s = {.org = org, .all = is_regulator, .ring = ring, .max = max};
    int rc = mc_state_scan(st, "s/a/", 4, alert_cb, &s);
    if (!rc) {
        uint32_t n = s.seen < max ? s.seen : max;
        for (uint32_t i = 0; i < n; i++) out[i] = ring[(s.seen - 1 - i) % max];
        *count = n;
    }
    free(ring);
    return rc;
}

uint8_t mc_supply_trade_verdict(uint8_t verdict) {
    return verdict == MC_VERDICT_DISPENSED ? MC_VERDICT_ALREADY_DISPENSED : verdict;
}

int mc_supply_verify(struct mc_state *st, const struct mc_gs1_id *id, uint64_t now_ms,
                     struct mc_supply_verification *v, struct mc_supply_event *events,
                     uint32_t max) {
    memset(v, 0, sizeof *v);
    if (!id->gtin[0] || !id->serial[0])
        return mc_err_set(MC_ERR_INVALID, "verification needs a GTIN (AI 01) and a serial (AI 21)");
    int rc = mc_supply_get_gtin_owner(st, id->gtin, &v->gtin_owner);
    if (rc && rc != MC_ERR_NOT_FOUND) return rc;
    rc = mc_supply_get_unit(st, id->gtin, id->serial, &v->unit);
    if (rc == MC_ERR_NOT_FOUND) {
        v->verdict = MC_VERDICT_UNKNOWN_SERIAL;
        return 0;
    }
    if (rc) return rc;
    v->unit_found = true;
    rc = mc_supply_get_lot(st, id->gtin, v->unit.lot, &v->lot);
    if (rc) return rc == MC_ERR_NOT_FOUND ? row_corrupt("lot") : rc;
    v->lot_found = true;
    if ((rc = mc_supply_get_events(st, id->gtin, id->serial, events, max, &v->event_count)))
        return rc;
    const struct mc_supply_unit *u = &v->unit;
    uint32_t today_ymd = mc_supply_civil_from_ms(now_ms, NULL);
    if (u->c.flag == MC_SUPPLY_FLAG_ILLEGITIMATE) v->verdict = MC_VERDICT_ILLEGITIMATE;
    else if (u->c.flag == MC_SUPPLY_FLAG_SUSPECT) v->verdict = MC_VERDICT_SUSPECT;
    else if (id->lot[0] && strcmp(id->lot, u->lot) != 0) v->verdict = MC_VERDICT_LOT_MISMATCH;
    else if ((id->present & MC_GS1_HAS_EXPIRY) && mc_gs1_date_yyyymmdd(&id->expiry) != u->expiry)
        v->verdict = MC_VERDICT_EXPIRY_MISMATCH;
    else if (v->lot.recalled) v->verdict = MC_VERDICT_RECALLED;
    else if (u->c.status == MC_SUPPLY_DECOMMISSIONED) v->verdict = MC_VERDICT_DECOMMISSIONED;
    else if (u->c.status == MC_SUPPLY_DISPENSED) v->verdict = MC_VERDICT_DISPENSED;
    else if (u->expiry < today_ymd) v->verdict = MC_VERDICT_EXPIRED;
    else v->verdict = MC_VERDICT_GENUINE;
    return 0;
}
