/* Deterministic simulator of the consensus engine.
 *
 * n validators run mc_consensus engines in one process over a simulated
 * network driven by a seeded PRNG and a virtual clock (milliseconds). The
 * network drops, delays, duplicates and reorders messages; partitions form
 * and heal; honest nodes crash and restart from their fake durable store;
 * up to f Byzantine validators equivocate (as proposer and voter), vote for
 * everything they see, propose invalid blocks or stay silent.
 *
 * After every event the checker verifies agreement (no two honest nodes
 * decide different blocks at one height), validity (only valid blocks are
 * decided, every certificate verifies), that no honest validator signs two
 * conflicting messages, and that evidence only ever names a Byzantine
 * validator. When the fault period ends (partitions heal, crashed nodes
 * restart, the network becomes reliable) every honest node must decide
 * `heights_after` more heights within `liveness_ms` of virtual time.
 *
 * The validator set changes during a run (unless fixed_valset): from the
 * seed, on a stream of its own, up to four changes at heights 2..14 remove
 * an honest validator, add one back or change its power, each under the
 * ledger's rule (less than 1/3 of the previous set's power added or taken
 * away, the Byzantine power below 1/3 of every set). The set of height H
 * is the one every node runs H with; the checker judges each height's
 * votes, certificates and evidence against its own set.
 *
 * Everything, including the trace, is a function of the config: the same
 * seed gives the same trace hash. Nothing here is thread-safe; distinct runs
 * share nothing. */
#ifndef MC_TESTS_SIM_H
#define MC_TESTS_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/hash.h"

enum sim_mix {
    SIM_MIX_CLEAN = 0,     /* reliable network, no faults */
    SIM_MIX_LOSSY = 1,     /* drops, duplicates, long delays (reordering) */
    SIM_MIX_PARTITION = 2, /* partitions forming and healing, light loss */
    SIM_MIX_CRASH = 3,     /* crashes and restarts, light loss */
    SIM_MIX_BYZANTINE = 4, /* f Byzantine validators, light loss */
    SIM_MIX_ALL = 5,       /* all of the above */
    SIM_MIX_COUNT = 6,
};

struct sim_config {
    uint64_t seed;
    /* 0 = derive from the seed (n in {4, 7, 10}, mix in 0..5, powers). */
    uint32_t n;
    int mix;              /* -1 = derive from the seed */
    int weighted;         /* -1 = derive, 0 = equal power, 1 = random powers */
    bool too_many_byzantine; /* let 1/3+ of the power be Byzantine (must fail) */
    /* the node design before vote relay: a node keeps and re-gossips only
     * its own messages and its valid value's proof-of-lock, keeps no votes
     * of others with its record (must stall on the regression seeds) */
    bool own_messages_only;
    /* keep the first validator set for the whole run (the runs before sets
     * could change; the regression seeds replay as they failed) */
    bool fixed_valset;
    uint32_t heights_after;  /* heights to decide after the faults; 0 = 3 */
    uint64_t fault_ms;       /* length of the fault period; 0 = derive */
    uint64_t liveness_ms;    /* bound after the faults; 0 = 120 s */
    FILE *trace;             /* optional human-readable trace */
    bool quiet;              /* no report on stderr */
    const char *program;     /* binary named in the replay line; NULL = medchain-sim */
};

struct sim_result {
    uint32_t violations;
    char first_violation[256];
    mc_hash trace_hash;
    uint64_t events;
    uint64_t end_ms;
    uint64_t heights;          /* lowest height decided by every honest node */
    uint64_t verifications;    /* signature verifications during the run */
    uint64_t evidence;         /* evidence objects produced by honest nodes */
    uint32_t n;
    int mix;
    uint32_t byzantine;
    uint32_t valset_changes;   /* set changes scheduled in the run */
};

/* Runs one simulation. Returns 0 when it ran (violations are in res),
 * a negative mc_err code when it could not (no memory). */
int sim_run(const struct sim_config *cfg, struct sim_result *res);

/* The one-line command that replays cfg with the standalone binary. */
void sim_replay_command(char *buf, size_t size, const struct sim_config *cfg);

const char *sim_mix_name(int mix);

#endif
