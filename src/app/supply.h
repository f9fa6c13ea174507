/* Drug supply chain: serialised packs from manufacture to dispensing.
 *
 * Each saleable pack (unit) is identified by GTIN-14 + serial (GS1 AI 01 +
 * 21) and carries its lot (AI 10) and expiry (AI 17). Units may be packed
 * into containers (cases, pallets) identified by an SSCC (AI 00, 18 digits).
 * Custody is held by organisations: a member's transaction acts for the
 * member's organisation. Every custody rule is enforced here, by the ledger:
 *
 *   commission     manufacturer     creates units of one lot (GTIN owned by
 *                                   the first organisation to commission it)
 *   aggregate      owner            packs top-level units/containers into a
 *                                   container (created when new)
 *   disaggregate   owner            unpacks a container (it ceases to exist)
 *   ship           owner            to a named organisation; a container moves
 *                                   everything inside it
 *   receive        consignee only   takes custody of what was shipped to it
 *   dispense       pharmacy role    once, never after recall, never expired,
 *                                   never suspect/illegitimate
 *   decommission   owner            destroyed, stolen, sample, exported
 *   recall         GTIN's manufacturer or a regulator, per lot
 *   flag           regulator or owner: suspect, illegitimate, or cleared
 *   scan           node             a verification was made: by the public
 *                                   (a dispensed pack is "dispensed", calmly,
 *                                   however often its patient scans it) or by
 *                                   a trading partner (a dispensed pack seen
 *                                   in the trade again is "already
 *                                   dispensed" and raises a clone alert);
 *                                   scans of unknown serials of a known GTIN
 *                                   raise a counterfeit alert
 *
 * Payloads (canonical, strictly decoded; gtin is always the 14-digit form,
 * serial and lot 1..20 characters of GS1 set 82, sscc 18 digits with a
 * valid check digit, expiry a calendar date as u32 YYYYMMDD):
 *
 *   item:          | u8 kind (1 unit, 2 container) | str8 gtin (unit) or "" |
 *                  | str8 serial (unit) or sscc (container) |
 *   commission:    | str8 gtin | str8 lot | u32 expiry | u16 n | n x str8 serial |
 *   aggregate:     | str8 sscc | u16 n | n x item |
 *   disaggregate:  | str8 sscc |
 *   ship:          | u32 to org | u16 n | n x item |
 *   receive:       | u16 n | n x item |
 *   dispense:      | str8 gtin | str8 serial |
 *   decommission:  | u8 reason | str8 gtin | str8 serial |
 *   recall:        | str8 gtin | str8 lot | str8 reason |
 *   flag:          | str8 gtin | str8 serial | u8 flag (0 clear) | str8 reason |
 *   scan:          | str8 gtin | str8 serial | u8 verdict seen | u8 status seen (0 unknown) |
 *
 * State keys and records (all integers big-endian):
 *
 *   "s/g/" gtin14                   | u32 manufacturer org |
 *   "s/l/" gtin14 lot               lot record:
 *        | u32 expiry | u32 manufacturer | u32 units | u8 recalled |
 *        | u64 recall height | u64 recall time_ms | hash recall tx | str8 reason |
 *   "s/u/" gtin14 serial            unit record:
 *        | str8 lot | u32 expiry | u32 manufacturer | custody | u32 scans after dispense |
 *   "s/c/" sscc18                   container record:
 *        | custody | u32 units inside (all levels) | u16 n | n x item |
 *   custody:
 *        | u32 owner org | u8 status | u32 consignee org | str8 parent sscc |
 *        | u8 flag | u8 decommission reason | u32 event count |
 *   "s/e/" gtin14 u8 len serial u32 seq   event of a unit:
 *        | u8 type | u32 org | u32 other org | u64 height | u64 time_ms |
 *        | hash tx id | u8 detail |
 *   "s/a/" u64 seq                  alert:
 *        | u8 kind | str8 gtin | str8 serial | str8 lot | u32 manufacturer |
 *        | u32 holder org | u64 height | u64 time_ms | u32 scans | hash tx id |
 *   "s/m/alerts"                    | u64 alerts so far |
 *
 * Everything is deterministic: time is the block's time, the reference year
 * for two-digit GS1 years comes from it (mc_supply_civil_from_ms), no
 * floating point, no unordered iteration. Reasons given in recall and flag
 * transactions stay on the ledger but are never shown by the public verify
 * endpoint (they are free text and might name a person). */
#ifndef MC_APP_SUPPLY_H
#define MC_APP_SUPPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "app/gs1.h"
#include "app/row.h"
#include "app/state.h"
#include "base/limits.h"
#include "crypto/hash.h"

#define MC_SSCC_LEN 18

enum mc_supply_item_kind { MC_SUPPLY_ITEM_UNIT = 1, MC_SUPPLY_ITEM_CONTAINER = 2 };

enum mc_supply_status {
    MC_SUPPLY_IN_STOCK = 1,     /* held by its owner */
    MC_SUPPLY_IN_TRANSIT = 2,   /* shipped, awaiting receipt by the consignee */
    MC_SUPPLY_DISPENSED = 3,
    MC_SUPPLY_DECOMMISSIONED = 4,
};

enum mc_supply_decommission {
    MC_SUPPLY_DESTROYED = 1,
    MC_SUPPLY_STOLEN = 2,
    MC_SUPPLY_SAMPLE = 3,
    MC_SUPPLY_EXPORTED = 4,
    MC_SUPPLY_DECOMMISSION_MAX = MC_SUPPLY_EXPORTED
};

enum mc_supply_flag { MC_SUPPLY_FLAG_NONE = 0, MC_SUPPLY_FLAG_SUSPECT = 1,
                      MC_SUPPLY_FLAG_ILLEGITIMATE = 2 };

enum mc_supply_event_type {
    MC_SUPPLY_EV_COMMISSION = 1,
    MC_SUPPLY_EV_AGGREGATE,
    MC_SUPPLY_EV_DISAGGREGATE,
    MC_SUPPLY_EV_SHIP,
    MC_SUPPLY_EV_RECEIVE,
    MC_SUPPLY_EV_DISPENSE,
    MC_SUPPLY_EV_DECOMMISSION,
    MC_SUPPLY_EV_FLAG,
    MC_SUPPLY_EV_MAX = MC_SUPPLY_EV_FLAG
};

/* Verdicts of a verification, from worst to best as checked. */
enum mc_supply_verdict {
    MC_VERDICT_GENUINE = 1,
    MC_VERDICT_UNKNOWN_SERIAL,     /* likely counterfeit */
    MC_VERDICT_LOT_MISMATCH,
    MC_VERDICT_EXPIRY_MISMATCH,
    MC_VERDICT_EXPIRED,
    MC_VERDICT_RECALLED,
    MC_VERDICT_ALREADY_DISPENSED,  /* a dispensed pack scanned in the trade: possible clone */
    MC_VERDICT_DECOMMISSIONED,
    MC_VERDICT_SUSPECT,
    MC_VERDICT_ILLEGITIMATE,
    MC_VERDICT_DISPENSED,          /* dispensed to a patient: the calm public verdict */
    MC_VERDICT_MAX = MC_VERDICT_DISPENSED
};

enum mc_supply_alert_kind { MC_SUPPLY_ALERT_CLONE = 1, MC_SUPPLY_ALERT_UNKNOWN_SERIAL = 2 };

struct mc_supply_custody {
    uint32_t owner;
    uint8_t status;
    uint32_t consignee;
    char parent[MC_SSCC_LEN + 1];
    uint8_t flag;
    uint8_t decommission;
    uint32_t events;
};

struct mc_supply_unit {
    char gtin[MC_GS1_GTIN_LEN + 1];
    char serial[MC_GS1_VALUE_MAX + 1];
    char lot[MC_GS1_VALUE_MAX + 1];
    uint32_t expiry;         /* YYYYMMDD */
    uint32_t manufacturer;
    struct mc_supply_custody c;
    uint32_t scans_after_dispense;
};

struct mc_supply_lot {
    uint32_t expiry;
    uint32_t manufacturer;
    uint32_t units;
    bool recalled;
    uint64_t recall_height, recall_time_ms;
    mc_hash recall_tx;
    char reason[MC_SUPPLY_REASON_MAX + 1];
};

struct mc_supply_event {
    uint8_t type;
    uint32_t org;
    uint32_t other;      /* ship: consignee; receive: shipper */
    uint64_t height;
    uint64_t time_ms;
    mc_hash tx_id;
    uint8_t detail;      /* decommission reason or flag */
};

struct mc_supply_alert {
    uint64_t seq;
    uint8_t kind;
    char gtin[MC_GS1_GTIN_LEN + 1];
    char serial[MC_GS1_VALUE_MAX + 1];
    char lot[MC_GS1_VALUE_MAX + 1];
    uint32_t manufacturer;
    uint32_t holder;     /* clone: the dispensing organisation */
    uint64_t height, time_ms;
    uint32_t scans;
    mc_hash tx_id;
};

/* The state keys of a unit and of a lot, and their rows' decoders: what a
 * light client needs to read a proven row (chain/stateproof.h). The
 * decoders give MC_ERR_TAMPERED for bytes that are not such a row. */
void mc_supply_unit_key(struct mc_key *k, const char *gtin, const char *serial);
void mc_supply_lot_key(struct mc_key *k, const char *gtin, const char *lot);
MC_MUST_CHECK int mc_supply_unit_decode(const uint8_t *p, size_t len, const char *gtin,
                                        const char *serial, struct mc_supply_unit *u);
MC_MUST_CHECK int mc_supply_lot_decode(const uint8_t *p, size_t len, struct mc_supply_lot *l);

/* Result of mc_supply_verify. events points to caller memory. */
struct mc_supply_verification {
    uint8_t verdict;
    bool unit_found;
    bool lot_found;
    struct mc_supply_unit unit;
    struct mc_supply_lot lot;
    uint32_t gtin_owner;          /* 0 when nobody commissioned the GTIN */
    uint32_t event_count;         /* events written to the caller's array */
};

/* Names (stable, snake_case) and human sentences. */
const char *mc_supply_verdict_name(uint8_t verdict);
const char *mc_supply_verdict_text(uint8_t verdict);
const char *mc_supply_status_name(uint8_t status);
const char *mc_supply_event_name(uint8_t type);
const char *mc_supply_decommission_name(uint8_t reason);
uint8_t mc_supply_decommission_from_name(const char *name); /* 0 if unknown */
const char *mc_supply_flag_name(uint8_t flag);
uint8_t mc_supply_flag_from_name(const char *name);         /* 0xff if unknown */
const char *mc_supply_alert_name(uint8_t kind);

/* Civil date (proleptic Gregorian, UTC) of ms since the Unix epoch, as
 * YYYYMMDD, and the time of day; pure integer arithmetic. */
uint32_t mc_supply_civil_from_ms(uint64_t ms, uint32_t *seconds_of_day);
/* True for a YYYYMMDD that is a real calendar date in years 1000..9899. */
bool mc_supply_date_valid(uint32_t yyyymmdd);
/* "2026-12-31T08:00:00Z" (ISO 8601, UTC, 21 bytes with the NUL). */
void mc_supply_iso8601(char out[32], uint64_t ms);
/* True for 18 digits with a valid GS1 check digit. */
bool mc_sscc_valid(const char *s);
/* True for 1..20 characters of GS1 AI encodable character set 82. */
bool mc_supply_value_valid(const char *s);

/* Reads (MC_ERR_NOT_FOUND when absent; MC_ERR_TAMPERED when a record does
 * not decode). */
MC_MUST_CHECK int mc_supply_get_unit(struct mc_state *st, const char *gtin, const char *serial,
                                     struct mc_supply_unit *out);
MC_MUST_CHECK int mc_supply_get_lot(struct mc_state *st, const char *gtin, const char *lot,
                                    struct mc_supply_lot *out);
MC_MUST_CHECK int mc_supply_get_gtin_owner(struct mc_state *st, const char *gtin, uint32_t *org);
/* The GTIN ownership rule (commission and drug_product): the first
 * organisation to commission or register a GTIN owns it; anyone else is
 * refused (MC_ERR_FORBIDDEN). Claims an unowned GTIN for org. */
MC_MUST_CHECK int mc_supply_claim_gtin(struct mc_state *st, const char *gtin, uint32_t org);
/* Events [0, max) of a unit into out; *count gets how many were read. */
MC_MUST_CHECK int mc_supply_get_events(struct mc_state *st, const char *gtin, const char *serial,
                                       struct mc_supply_event *out, uint32_t max,
                                       uint32_t *count);
/* Alerts (committed state only) that concern org: all of them for a
 * regulator (is_regulator), else those whose manufacturer or holder is org;
 * the newest first, at most max. */
MC_MUST_CHECK int mc_supply_list_alerts(struct mc_state *st, uint32_t org, bool is_regulator,
                                        struct mc_supply_alert *out, uint32_t max,
                                        uint32_t *count);

/* The verdict for a scanned identifier at a block time (ms): see
 * docs/SUPPLY.md for the order in which the checks apply. id must hold a
 * GTIN and a serial (MC_ERR_INVALID otherwise); lot and expiry are compared
 * when present. events (max entries) receives the unit's custody events. */
MC_MUST_CHECK int mc_supply_verify(struct mc_state *st, const struct mc_gs1_id *id,
                                   uint64_t now_ms, struct mc_supply_verification *out,
                                   struct mc_supply_event *events, uint32_t max);

/* The verdict a trading partner (manufacturer, distributor, pharmacy,
 * regulator) gets for what the public is told `verdict`: a dispensed pack
 * has left the supply chain, so one seen in the trade again is a possible
 * clone (MC_VERDICT_ALREADY_DISPENSED); every other verdict is the same.
 * A scan recorded with MC_VERDICT_ALREADY_DISPENSED raises the clone
 * alert; a public scan of a dispensed pack never does. */
uint8_t mc_supply_trade_verdict(uint8_t verdict);

/* Payload builders for clients and tests (append to b; the codec's sticky
 * error reports overflow). Items are (kind, gtin or "", serial or sscc). */
void mc_supply_encode_item(struct mc_buf *b, uint8_t kind, const char *gtin, const char *id);

struct mc_exec;
/* Executes a supply transaction (types 20-30). See app.h for the contract. */
MC_MUST_CHECK int mc_supply_execute(struct mc_exec *ex);

/* Strict decoding of any supply payload without executing it (fuzzing and
 * the API's transaction views): 0 when the payload is canonical. */
MC_MUST_CHECK int mc_supply_payload_check(uint16_t type, const uint8_t *payload, size_t len);

#endif
