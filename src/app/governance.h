/* Consortium governance: organisations and validators join and leave by a
 * vote of more than two thirds of the active organisations, ledger
 * parameters change within hard limits, lost admin keys are replaced,
 * upgrades are planned at a height, and nodes move to new keys at a height.
 *
 * Proposals (gov_propose, payloads in governance_payload.h):
 *   - Only the admin of an active organisation proposes and votes.
 *   - height < deadline < activation <= height + MC_GOV_HORIZON_MAX.
 *   - Each active organisation votes yes or no once (a second vote by the
 *     same organisation is refused), at a height <= the deadline.
 *   - A proposal passes at the vote that makes its yes votes more than two
 *     thirds of the organisations active at that height; one that never
 *     gets there is expired after its deadline and never takes effect.
 *   - A passed proposal takes effect at the start of its activation block
 *     (mc_governance_begin_block), before that block's transactions. Its
 *     change is checked again there; if it no longer holds (the key was
 *     taken meanwhile, the power rule now fails) the proposal is marked
 *     failed with the reason and nothing changes.
 *   - Removing or suspending an organisation deactivates its members and
 *     nodes (their transactions are refused, their nodes are refused at the
 *     handshake) and takes its validators out of the set; their history
 *     stays on the chain. A suspended organisation can be reinstated; a
 *     removed one cannot.
 *
 * Node keys (node_rotate): an organisation admin moves one of its nodes to
 * a new key taking effect at height `at` (at least MC_GOV_VALSET_LEAD + 1
 * blocks ahead; the new key proves possession by signing old || new). At
 * the start of block at - MC_GOV_VALSET_LEAD the node's account moves to
 * the new key (the old one is "rotated", its history stays) and, for a
 * validator, the set of height `at` names the new key with the same power
 * (no power moves, so the 1/3 rule does not apply): the validator signs up
 * to at - 1 with the old key and from `at` with the new one, never both at
 * one height. The network admits the new key from at - LEAD on.
 *
 * Validator sets per height. A set decided in block h (a change applied at
 * its activation height h) is the set of heights h + MC_GOV_VALSET_LEAD on:
 * block h+1 is already being agreed by the old set when h commits, so the
 * new set starts one full height later, and every node, syncing or live,
 * derives the set of height H from the state committed at H-2. One change
 * (or all changes taking effect together) may not add 1/3 or more of the
 * previous set's power, nor take 1/3 or more of it away; nor leave the set
 * empty.
 *
 * State keys:
 *   "g/seq"                          -> u64 last proposal id
 *   "g/p/" || u64 id                 -> proposal record (below)
 *   "g/v/" || u64 id || u32 org      -> | u8 approve | u64 height | pubkey voter |
 *   "g/a/" || u64 height || u64 id   -> | u8 1 |     passed, to apply at height
 *   "g/o/" || u32 org                -> | u8 org status | u64 since |  (absent: active)
 *   "g/orgs"                         -> | u32 active orgs | u32 next org id |
 *                                       (absent: the genesis organisations)
 *   "g/vs"                           -> the latest decided validator set row
 *   "g/vh/" || u64 from              -> the validator set row from that height
 *   "g/pa/" || u8 param              -> u64 value (absent: the built-in default)
 *   "g/up/" || u64 height || u64 id  -> | str8 name | str8 version |
 *   "g/nr/" || u64 height || pubkey  -> | pubkey new key |   rotations due at height
 *   "g/nk/" || pubkey                -> | u64 at | pubkey other key |   pending (both keys)
 * Validator set row: | u64 from | bytes32 valset | u16 n | n x u32 org |
 * Proposal record:   | u64 id | u32 org | pubkey proposer | u64 height |
 *                    | u64 deadline | u64 activation | u8 status | u32 yes |
 *                    | u32 no | u32 electorate | u64 decided | str8 note |
 *                    | change (governance_payload.h) |
 * Without any "g/" row the ledger is exactly its genesis, so chains from
 * before governance keep their state hashes. */
#ifndef MC_APP_GOVERNANCE_H
#define MC_APP_GOVERNANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "app/genesis.h"
#include "app/governance_payload.h"
#include "app/state.h"
#include "chain/valset.h"

#define MC_GOV_VALSET_LEAD 2

enum mc_gov_status { MC_GOV_OPEN = 1, MC_GOV_PASSED = 2, MC_GOV_APPLIED = 3, MC_GOV_FAILED = 4 };
enum mc_org_status { MC_ORG_ACTIVE = 1, MC_ORG_SUSPENDED = 2, MC_ORG_REMOVED = 3 };

struct mc_gov_proposal {
    uint64_t id;
    uint32_t org;
    mc_pubkey proposer;
    uint64_t height, deadline, activation;
    uint8_t status;
    uint32_t yes, no, electorate;
    uint64_t decided;                     /* height it passed, took effect or failed */
    char note[MC_GOV_NOTE_MAX + 1];       /* why it failed */
    struct mc_gov_change change;
};

struct mc_gov_vote {
    uint32_t org;
    bool approve;
    uint64_t height;
    mc_pubkey voter;
};

/* A validator set with the organisation of each validator, in force from
 * height `from` (1 for the genesis set). */
struct mc_gov_valset {
    uint64_t from;
    struct mc_valset vs;
    uint32_t org[MC_VALIDATORS_MAX];
};

/* "open", "passed", "applied", "failed", or "expired" (open past its
 * deadline at `height`). */
const char *mc_gov_status_name(const struct mc_gov_proposal *p, uint64_t height);
const char *mc_org_status_name(uint8_t status);

/* The validator set of `height` from committed state (the overlays are not
 * read: the set of H was decided at most at H - MC_GOV_VALSET_LEAD). */
MC_MUST_CHECK int mc_governance_valset_at(struct mc_state *st, const struct mc_genesis *g,
                                          uint64_t height, struct mc_gov_valset *out);
/* The latest decided set (perhaps not yet in force), overlays included. */
MC_MUST_CHECK int mc_governance_valset_latest(struct mc_state *st, const struct mc_genesis *g,
                                              struct mc_gov_valset *out);

/* An organisation's status; MC_ERR_NOT_FOUND for an unknown one. */
MC_MUST_CHECK int mc_governance_org_status(struct mc_state *st, uint32_t org, uint8_t *status,
                                           uint64_t *since);
/* The status row alone (no lookup of the organisation itself): the check
 * every transaction's sender passes. */
MC_MUST_CHECK int mc_governance_org_standing(struct mc_state *st, uint32_t org, uint8_t *status);
/* Organisations active now. */
MC_MUST_CHECK int mc_governance_active_orgs(struct mc_state *st, const struct mc_genesis *g,
                                            uint32_t *count);
/* Whether key is an active node of an active organisation (peer admission). */
bool mc_governance_node_active(struct mc_state *st, const mc_pubkey *key);

MC_MUST_CHECK int mc_governance_get_proposal(struct mc_state *st, uint64_t id,
                                             struct mc_gov_proposal *out);
/* Proposal ids run 1..last. */
MC_MUST_CHECK int mc_governance_last_id(struct mc_state *st, uint64_t *last);
/* The votes of a proposal in organisation order (committed state), at most
 * max; *count is how many were written. */
MC_MUST_CHECK int mc_governance_votes(struct mc_state *st, uint64_t id, struct mc_gov_vote *out,
                                      uint32_t max, uint32_t *count);

/* A ledger parameter's value now, and its default and hard bounds. */
MC_MUST_CHECK int mc_governance_param(struct mc_state *st, uint8_t param, uint64_t *value);
void mc_governance_param_bounds(uint8_t param, uint64_t *def, uint64_t *min, uint64_t *max);

/* Versions "major.minor.patch": parse (false when malformed) and compare. */
bool mc_governance_version_parse(const char *s, uint64_t v[3]);
int mc_governance_version_cmp(const uint64_t a[3], const uint64_t b[3]);
/* The upgrade plan in force at `height` that requires a version newer than
 * `mine` (committed state): 0 and the plan's name, version and height in
 * the out arguments; MC_ERR_NOT_FOUND when this build may run `height`. */
MC_MUST_CHECK int mc_governance_upgrade_needed(struct mc_state *st, uint64_t height,
                                               const char *mine, char name[MC_GOV_UPGRADE_NAME_MAX + 1],
                                               char version[MC_GOV_VERSION_MAX + 1],
                                               uint64_t *plan_height);

/* Signed proof a new node key gives the organisation admin: old || new,
 * purpose MC_SIGN_ROTATE (the same proof rotate_key uses). */
void mc_governance_rotation_sign(uint8_t sig[MC_SIG_BYTES], const struct mc_keypair *new_key,
                                 const char *chain_id, const mc_pubkey *old_key);

/* A pending rotation of (or to) key: its height and the other key;
 * MC_ERR_NOT_FOUND when there is none. */
MC_MUST_CHECK int mc_governance_rotation_pending(struct mc_state *st, const mc_pubkey *key,
                                                 uint64_t *at, mc_pubkey *other);

/* At the start of block `height`: applies the passed proposals and the
 * node key rotations due at it (writes in the transaction overlay; the
 * caller commits it). Fails only when the store does. */
MC_MUST_CHECK int mc_governance_begin_block(struct mc_state *st, const struct mc_genesis *g,
                                            uint64_t height);

struct mc_exec;
/* Executes gov_propose, gov_vote and node_rotate. See app.h. */
MC_MUST_CHECK int mc_governance_execute(struct mc_exec *ex);

#endif
