/* The Tendermint consensus algorithm as a pure state machine.
 *
 * This implements Algorithm 1 of "The latest gossip on BFT consensus"
 * (Buchman, Kwon, Milosevic, 2018) for a validator set with voting power:
 * "2f+1" reads "more than 2/3 of the total power" and "f+1" reads "more than
 * 1/3". One engine runs one validator (or an observer, with no key) through
 * one height at a time.
 *
 * Purity. mc_consensus_step() takes the engine and ONE input (a proposal, a
 * vote, a timeout expiry, an answer from the application) and fills an
 * output with actions (messages to broadcast, timers to set, questions for
 * the application) and at most one decision. It reads no clock, opens no
 * socket, draws no randomness, uses no floating point, never allocates and
 * never iterates over an unordered structure: the same inputs in the same
 * order give the same outputs, byte for byte. The one side effect is the
 * persistence hook below, called before anything is signed.
 *
 * Driving the engine (the caller's contract):
 *   1. mc_consensus_init(), then mc_consensus_start() for the first height.
 *   2. Feed every proposal and vote received for the engine's height;
 *      the engine verifies their signatures itself. Messages for other
 *      heights return MC_ERR_STATE (buffer future ones if you like).
 *   3. Perform the output actions in order:
 *      - MC_CONSENSUS_OUT_PROPOSAL / _VOTE: broadcast (already persisted
 *        through the hook and signed). Deliver the block bytes of a proposal
 *        alongside it.
 *      - MC_CONSENSUS_OUT_TIMEOUT: after duration_ms of the caller's clock,
 *        feed MC_CONSENSUS_IN_TIMEOUT with the same kind/height/round.
 *        Stale timeouts are harmless: the engine ignores them.
 *      - MC_CONSENSUS_OUT_GET_VALUE: this validator proposes in (height,
 *        round) and has no valid value; build a block and feed
 *        MC_CONSENSUS_IN_VALUE with its hash.
 *      - MC_CONSENSUS_OUT_VALIDATE: check the block with this hash (its bytes
 *        came with the proposal) and feed MC_CONSENSUS_IN_VALIDITY.
 *      - MC_CONSENSUS_OUT_EVIDENCE: a validator equivocated; gossip the
 *        evidence and submit it to the ledger.
 *   4. When out->decided is set: store the block with out->commit (a
 *      certificate mc_commit_verify accepts), then call
 *      mc_consensus_next_height(). Until then the engine ignores inputs.
 *   A node that falls behind feeds MC_CONSENSUS_IN_COMMIT (a certificate for
 *   its current height learned from a peer) to decide without the rounds.
 *
 * Persistence (double-sign protection). Before signing a proposal or a vote
 * the engine builds the new mc_consensus_signed_state and calls
 * persist.save(); only when save returns 0 does it sign and emit. save must
 * make the record durable (fsync / SQLite synchronous=FULL) before it
 * returns. After a restart the caller passes the last saved record to
 * mc_consensus_init(); the engine then resumes at that round with the saved
 * lock, and never signs a (height, round, step) lower than the saved one, nor
 * a different message at the same one (it re-emits an identical one). If
 * save fails the engine halts signing (returns MC_ERR_IO) and stays halted.
 *
 * Persisting others' votes (liveness after a restart). The record's lock
 * and valid value are justified by 2/3+ prevotes received from others, and
 * its round by the votes that moved the engine there; the engine cannot
 * re-derive them, and a peer that never saw them cannot accept a
 * re-proposal of the valid value (L28) or follow to that round without
 * them. save() may call mc_consensus_relay_votes() on the engine (it
 * already holds the record's round, lock and valid value; the result
 * includes the proof-of-lock) and should store those votes in the same
 * durable write. After a restart, feed them back as MC_CONSENSUS_IN_VOTE
 * right after mc_consensus_start(), together with the node's own messages
 * of the height, and keep gossiping mc_consensus_relay_votes(). Without
 * this, a validator that crashes while locked can hold a lock nobody can
 * ever justify again and, with 1/3+ of the power locked, the height stalls.
 *
 * Bounds. Votes are kept for MC_CONSENSUS_ROUND_SLOTS rounds of the current
 * height; when a round needs a slot and none is free, the round farthest from
 * the current one is forgotten (never the current, locked or valid round).
 * Forgetting votes can only make rules fire later (liveness), never unsafely.
 * One step emits at most MC_CONSENSUS_ACTIONS_MAX actions.
 *
 * Threads: an engine belongs to one thread; distinct engines are independent. */
#ifndef MC_CONSENSUS_CONSENSUS_H
#define MC_CONSENSUS_CONSENSUS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"
#include "chain/commit.h"
#include "chain/valset.h"
#include "chain/vote.h"
#include "consensus/evidence.h"
#include "consensus/proposal.h"

/* Rounds of one height whose votes are kept (see Bounds above). */
#define MC_CONSENSUS_ROUND_SLOTS 16
/* Actions one step may emit: a whole cascade (skip to a round, propose,
 * prevote, precommit, timers, evidence) stays well below this. */
#define MC_CONSENSUS_ACTIONS_MAX 32
/* Highest round accepted; keeps round + 1 and timeout arithmetic exact. */
#define MC_CONSENSUS_ROUND_MAX (1u << 24)
/* Total voting power accepted (proposer priorities stay inside int64). */
#define MC_CONSENSUS_POWER_MAX (UINT64_C(1) << 60)

enum mc_consensus_step {
    MC_CONSENSUS_STEP_PROPOSE = 1,
    MC_CONSENSUS_STEP_PREVOTE = 2,
    MC_CONSENSUS_STEP_PRECOMMIT = 3,
};

enum mc_consensus_timeout_kind {
    MC_CONSENSUS_TIMEOUT_PROPOSE = 1,
    MC_CONSENSUS_TIMEOUT_PREVOTE = 2,
    MC_CONSENSUS_TIMEOUT_PRECOMMIT = 3,
};

/* Timeouts grow linearly with the round: base + round * delta (ms). */
struct mc_consensus_config {
    char chain_id[MC_CHAIN_ID_MAX + 1];
    uint32_t propose_timeout_ms, propose_timeout_delta_ms;
    uint32_t prevote_timeout_ms, prevote_timeout_delta_ms;
    uint32_t precommit_timeout_ms, precommit_timeout_delta_ms;
};

/* Fills sensible defaults (3 s / +500 ms propose, 1 s / +500 ms votes). */
void mc_consensus_config_default(struct mc_consensus_config *cfg, const char *chain_id);

/* The record persisted before every signature. step = 0 means nothing
 * signed yet. msg_hash is SHA-256 of the signed bytes of the last signed
 * message and sig its signature, so an identical message can be re-emitted.
 * The lock and valid value are saved with it so a restart keeps them.
 *
 * Canonical form (MC_CONSENSUS_SIGNED_STATE_BYTES):
 *   | u64 height | u32 round | u8 step | msg_hash 32 | sig 64 |
 *   | u8 has_locked | u32 locked_round | locked_value 32 |
 *   | u8 has_valid  | u32 valid_round  | valid_value 32 |
 * with absent fields all zero. */
struct mc_consensus_signed_state {
    uint64_t height;
    uint32_t round;
    uint8_t step;
    mc_hash msg_hash;
    uint8_t sig[MC_SIG_BYTES];
    bool has_locked;
    uint32_t locked_round;
    mc_hash locked_value;
    bool has_valid;
    uint32_t valid_round;
    mc_hash valid_value;
    /* Transient, not encoded: the bytes being signed (a vote's or a
     * proposal's signed bytes) while save() runs, so the caller can keep
     * the whole message in the same durable write. NULL otherwise. */
    const uint8_t *signed_bytes;
    size_t signed_len;
};

#define MC_CONSENSUS_SIGNED_STATE_BYTES (8 + 4 + 1 + 32 + 64 + 2 * (1 + 4 + 32))

void mc_consensus_signed_state_encode(struct mc_buf *b, const struct mc_consensus_signed_state *s);
MC_MUST_CHECK int mc_consensus_signed_state_decode(struct mc_consensus_signed_state *s,
                                                   const void *p, size_t len);

/* The persistence hook. save returns 0 once s is durable, or an error. */
struct mc_consensus_persist {
    int (*save)(void *ctx, const struct mc_consensus_signed_state *s);
    void *ctx;
};

enum mc_consensus_input_kind {
    MC_CONSENSUS_IN_PROPOSAL = 1,
    MC_CONSENSUS_IN_VOTE = 2,
    MC_CONSENSUS_IN_TIMEOUT = 3,
    MC_CONSENSUS_IN_VALIDITY = 4, /* answer to OUT_VALIDATE */
    MC_CONSENSUS_IN_VALUE = 5,    /* answer to OUT_GET_VALUE */
    MC_CONSENSUS_IN_COMMIT = 6,   /* a certificate for the current height */
};

struct mc_consensus_timeout {
    uint8_t kind; /* enum mc_consensus_timeout_kind */
    uint64_t height;
    uint32_t round;
};

struct mc_consensus_input {
    int kind;
    union {
        struct mc_proposal proposal;
        struct mc_vote vote;
        struct mc_consensus_timeout timeout;
        struct {
            uint64_t height;
            mc_hash block_hash;
            bool valid;
        } validity;
        struct {
            uint64_t height;
            uint32_t round;
            mc_hash block_hash;
        } value;
        const struct mc_commit *commit; /* borrowed for the call */
    } u;
};

enum mc_consensus_action_kind {
    MC_CONSENSUS_OUT_PROPOSAL = 1,
    MC_CONSENSUS_OUT_VOTE = 2,
    MC_CONSENSUS_OUT_TIMEOUT = 3,
    MC_CONSENSUS_OUT_GET_VALUE = 4,
    MC_CONSENSUS_OUT_VALIDATE = 5,
    MC_CONSENSUS_OUT_EVIDENCE = 6,
};

struct mc_consensus_action {
    int kind;
    union {
        struct mc_proposal proposal;
        struct mc_vote vote;
        struct {
            struct mc_consensus_timeout timeout;
            uint64_t duration_ms;
        } timer;
        struct {
            uint64_t height;
            uint32_t round;
        } get_value;
        struct {
            uint64_t height;
            mc_hash block_hash;
        } validate;
        struct mc_evidence evidence;
    } u;
};

struct mc_consensus_output {
    uint32_t count;
    struct mc_consensus_action actions[MC_CONSENSUS_ACTIONS_MAX];
    bool decided;
    struct mc_commit commit; /* when decided: height, round, block hash, 2/3+ precommits */
};

/* Private state; callers read it only through the accessors below. */
struct mc_consensus_vote_value {
    bool present;
    bool has_block;
    mc_hash block_hash;
    uint8_t sig[MC_SIG_BYTES];
};

/* One validator's vote of one type in one round. An equivocating validator
 * signed several; each signed vote counts for its value (the paper counts
 * messages per value), but only the first and one conflicting vote are kept
 * (bounded memory): the conflicting one is replaced by a later vote for the
 * round's proposal, the value that matters for progress. */
struct mc_consensus_vote_entry {
    struct mc_consensus_vote_value first, alt;
    bool equivocated; /* evidence already emitted */
};

struct mc_consensus_round {
    bool used;
    uint32_t round;
    bool has_proposal;
    uint8_t validity; /* 0 unknown, 1 asked, 2 valid, 3 invalid */
    struct mc_proposal proposal;
    bool timeout_prevote_done, timeout_precommit_done, lock_rule_done;
    uint64_t prevote_power, precommit_power, seen_power;
    bool seen[MC_VALIDATORS_MAX];
    struct mc_consensus_vote_entry prevotes[MC_VALIDATORS_MAX];
    struct mc_consensus_vote_entry precommits[MC_VALIDATORS_MAX];
};

struct mc_consensus_stats {
    uint64_t refused_signatures; /* double-sign guard refusals */
    uint64_t evidence_emitted;
    uint64_t votes_dropped;      /* no round slot */
};

struct mc_consensus {
    struct mc_consensus_config cfg;
    const struct mc_valset *vs;
    const struct mc_keypair *key; /* NULL: observer */
    int self;                     /* index in vs or -1 */
    struct mc_consensus_persist persist;
    struct mc_consensus_signed_state signed_state;
    bool halted;   /* persistence failed: never sign again */
    bool started;
    bool decided;

    uint64_t height;
    uint32_t round;
    uint8_t step;
    bool awaiting_value;
    bool has_locked, has_valid;
    uint32_t locked_round, valid_round;
    mc_hash locked_value, valid_value;

    /* Proposer schedule: priorities after (height mod total) steps. */
    int64_t prio_base[MC_VALIDATORS_MAX];
    uint64_t prio_base_index;

    struct mc_consensus_stats stats;
    struct mc_consensus_round rounds[MC_CONSENSUS_ROUND_SLOTS];
};

/* Prepares an engine for `height`. vs (borrowed; must outlive the height)
 * must have total power <= MC_CONSENSUS_POWER_MAX. key (borrowed) is this
 * validator's key or NULL for an observer. restored is the last record
 * saved through persist, or NULL on first start. MC_ERR_INVALID for an
 * unusable set or a restored record from a later height. */
MC_MUST_CHECK int mc_consensus_init(struct mc_consensus *c, const struct mc_consensus_config *cfg,
                                    const struct mc_valset *vs, const struct mc_keypair *key,
                                    uint64_t height,
                                    const struct mc_consensus_signed_state *restored,
                                    const struct mc_consensus_persist *persist);
/* Enters the first round of the height (the restored round after restart). */
MC_MUST_CHECK int mc_consensus_start(struct mc_consensus *c, struct mc_consensus_output *out);
/* Replaces the base and delta timeouts (cfg's chain id is ignored); the
 * timers the engine asks for from then on use them. Timeouts only pace the
 * rounds, never what is decided, so nodes may differ in them safely. */
void mc_consensus_set_timeouts(struct mc_consensus *c, const struct mc_consensus_config *cfg);
/* After a decision: moves to height + 1 with validator set vs (borrowed). */
MC_MUST_CHECK int mc_consensus_next_height(struct mc_consensus *c, struct mc_consensus_output *out,
                                           const struct mc_valset *vs);
/* Applies one input. out is reset first. Returns 0, or an error saying why
 * the input was rejected (MC_ERR_STATE wrong height or already decided,
 * MC_ERR_BAD_SIGNATURE, MC_ERR_INVALID wrong proposer / malformed,
 * MC_ERR_FULL no round slot, MC_ERR_EXISTS conflicting proposal,
 * MC_ERR_IO persistence failed); a rejected input changes nothing. */
MC_MUST_CHECK int mc_consensus_step(struct mc_consensus *c, struct mc_consensus_output *out,
                                    const struct mc_consensus_input *in);

/* Gossip helper: copies into out (at most max) the stored prevotes of this
 * height's valid round for the valid value, i.e. the proof-of-lock a
 * proposal with pol_round = valid round relies on. A peer that missed those
 * prevotes (it crashed, or they were lost) cannot accept such a proposal
 * until it gets them, so the caller re-gossips them with its own messages.
 * Returns the count (0 when there is no valid value or its round was
 * forgotten). */
uint32_t mc_consensus_pol_votes(const struct mc_consensus *c, struct mc_vote *out, uint32_t max);

/* Votes received from others that the caller should re-gossip at every
 * gossip tick (own messages are re-gossiped from the caller's WAL):
 *   1. the proof-of-lock of the valid value (mc_consensus_pol_votes), which
 *      a re-proposal of it relies on;
 *   2. the prevotes of the current round's proposal's pol_round for its
 *      value, when held: a peer that lacks the proof a proposal cites gets
 *      it from any node that has it, not only from the proposer;
 *   3. every vote held for the current round (one per validator and type),
 *      so a vote that reached only some nodes (lost, partitioned, or sent
 *      selectively by a Byzantine validator) reaches them all;
 *   4. the precommits held for the previous round: the 2/3+ that moved us
 *      on, so a peer still in that round moves on too (it skips to the
 *      previous round on f+1 of them, then times out on 2/3+).
 * This is the gossip property the paper's liveness proof assumes ("a
 * message a correct process receives, every correct process eventually
 * receives"). Returns the count written to out (at most max; never more
 * than MC_CONSENSUS_RELAY_MAX(n) for n validators), in a fixed order. */
#define MC_CONSENSUS_RELAY_MAX(n) (5u * (uint32_t)(n))
uint32_t mc_consensus_relay_votes(const struct mc_consensus *c, struct mc_vote *out, uint32_t max);

/* Proposer of (height, round) in vs: weighted round robin with integer
 * priorities (each turn every validator gains its power, the highest
 * priority, lowest index on ties, proposes and loses the total power).
 * Turn number is (height mod total) + round. O((height mod total + round)·n);
 * the engine caches per height. */
uint16_t mc_consensus_proposer(const struct mc_valset *vs, uint64_t height, uint32_t round);

/* Timeout of a kind in a round, from the config. */
uint64_t mc_consensus_timeout_ms(const struct mc_consensus_config *cfg, uint8_t kind,
                                 uint32_t round);

#endif
