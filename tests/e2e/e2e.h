/* Fault injection for real clusters: a testnet of medchain node processes on
 * loopback, every peer link through a proxy the harness can cut, under client
 * load, with a seeded random schedule of perturbations:
 *
 *   kill     kill -9 a node, restart it later
 *   pause    SIGSTOP a node, SIGCONT it later
 *   isolate  cut every link of one node, heal later
 *   split    cut the network in two halves, heal later
 *   wal      kill -9 a node, truncate its consensus WAL (its own messages of
 *            the height) at a random byte, restart it
 *   clock    restart a node with its wall clock offset by a few seconds
 *            (faketime), later restart it with the true time
 *   crash    kill -9 every node at once, restart them all (a power cut)
 *
 * At most one perturbation is active at a time, so with four validators no
 * more than one is ever down (f = 1) besides network partitions, which heal.
 *
 * The checker records every client operation's outcome and afterwards, once
 * the perturbations have stopped and everything is healed, proves:
 *   - recovery: a new transaction commits on every node within a bound;
 *   - every transaction a node reported committed is committed on every
 *     node, at the same height;
 *   - all nodes hold the same block hash at every height (and the hashes
 *     seen during the run never change);
 *   - no validator signed two different votes for one height and round
 *     (no evidence on any node's ledger or in its counters);
 *   - grants and revocations take effect in commit order: once a revocation
 *     is committed, no node at or past that height serves the grantee a read;
 *   - every read a node served has its access entry committed on every node.
 *
 * The schedule and the client's choices come from the seed; the timing is
 * real, so a seed gives the same schedule, not the same interleaving. A
 * failing run prints its seed and the command that replays its schedule. */
#ifndef MC_TESTS_E2E_H
#define MC_TESTS_E2E_H

#include <stdbool.h>
#include <stdint.h>

#define E2E_NODES_MAX 7

enum e2e_fault {
    E2E_KILL = 1 << 0,
    E2E_PAUSE = 1 << 1,
    E2E_ISOLATE = 1 << 2,
    E2E_SPLIT = 1 << 3,
    E2E_WAL = 1 << 4,
    E2E_CLOCK = 1 << 5,
    E2E_CRASH = 1 << 6,
};
#define E2E_FAULTS_ALL 0x7f

struct e2e_options {
    uint64_t seed;
    int validators;        /* 4..7 */
    int seconds;           /* perturbation phase length */
    unsigned faults;       /* enum e2e_fault bits */
    const char *bin;       /* medchain binary for every node */
    const char *bin_node0; /* other binary for node 0 (a test build), or NULL */
    int fault_target;      /* the node every perturbation concerns, or -1 for any */
    int acl_percent;       /* share of client operations in the access-control cycle (0: 25) */
    bool verbose;          /* print each perturbation and op outcome */
    bool keep_failed;      /* keep a failing run's cluster folder to look at */
};

struct e2e_report {
    int perturbations;
    int tx_committed, tx_rejected, tx_unknown;
    int granted_reads_served;     /* reads while a grant was committed */
    int revocations_checked;      /* reads checked after a committed revocation */
    int revoked_reads_served, revoked_reads_refused, revoked_reads_inconclusive;
    uint64_t final_height;
    int violations;
    char violation[1024]; /* the first one, in words */
};

/* Runs one schedule; returns 0 when it ran (violations are in the report),
 * non-zero when the harness itself could not run (detail in violation). */
int e2e_run(const struct e2e_options *o, struct e2e_report *r);

#endif
