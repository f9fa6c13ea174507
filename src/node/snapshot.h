/* Private to src/node: snapshots of the state a node writes and serves
 * (snapshot.c), and state sync from them (statesync.c). Formats of the
 * manifest and chunks in chain/snapshot.h, messages in wire.h.
 *
 * Configuration (config.json):
 *   "snapshot_interval": N   write a snapshot every N heights (0, the
 *                            default, writes none)
 *   "snapshot_keep": K       keep the latest K on disk (1..MC_SNAPSHOT_KEEP_MAX,
 *                            default 2)
 *   "state_sync": true       a node whose store holds no block restores the
 *                            state from a peer's snapshot before it starts
 *                            (statesync.c), then block-syncs from there
 *   A test build (-DMC_TEST_CORRUPT_SNAPSHOTS, make test's
 *   medchain-corrupt-snapshots) serves every chunk with one byte changed:
 *   the dishonest peer of tests/integration/test_statesync.c.
 *
 * Snapshots are node-local and never part of consensus. The writer runs on
 * its own thread with its own read-only connection to the database, in one
 * read transaction (WAL gives it one committed height's state while the
 * node goes on committing), and checks that the rows it read hash to that
 * height's state root before it publishes the snapshot:
 *   HOME/snapshots/<height, 20 digits>/manifest, chunk-<i>
 * written under HOME/snapshots/.tmp-<height> and renamed. */
#ifndef MC_NODE_SNAPSHOT_H
#define MC_NODE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/sign.h"

struct mc_node;

struct mc_snapshot_config {
    uint64_t interval;
    uint32_t keep;
    bool state_sync;
    bool test_corrupt;              /* MC_TEST_CORRUPT_SNAPSHOTS builds only */
};

/* Reads the keys above from HOME/config.json (MC_ERR_INVALID with a detail
 * sentence for a bad value). */
MC_MUST_CHECK int mc_snapshot_config_load(struct mc_snapshot_config *c, const char *home);

/* The node's snapshots: lists those on disk (n->snaps). */
MC_MUST_CHECK int mc_snapshots_create(struct mc_node *n);
/* Waits for a snapshot being written, then frees. */
void mc_snapshots_destroy(struct mc_node *n);
/* After a commit (lock held): starts writing a snapshot when the height is
 * a multiple of the interval and none is being written. */
void mc_snapshots_after_commit(struct mc_node *n);
/* Waits until no snapshot is being written (tests, benchmarks). */
void mc_snapshots_wait(struct mc_node *n);
/* A state sync request from a peer (GET_SNAPSHOTS, GET_CHUNK, GET_VALSETS;
 * answers ignored): lock held. */
void mc_snapshots_on_wire(struct mc_node *n, const mc_pubkey *from, const uint8_t *msg, size_t len);

/* statesync.c: when configured and the store holds no block, restores the
 * state from the peers' snapshots (see statesync.c). 0 also when it fell
 * back to block sync; an error only when the store failed. Run by
 * mc_node_open before anything else uses the application. */
MC_MUST_CHECK int mc_statesync_run(struct mc_node *n);

#endif
