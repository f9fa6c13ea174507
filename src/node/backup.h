/* Backup and restore of a node's home, while the node runs.
 *
 * A backup is a folder:
 *   DIR/backup.json       manifest: height, block hash and state root of the
 *                         copy, and the SHA-256 and size of every file
 *   DIR/data/chain.db     a consistent copy of the database (SQLite's online
 *                         backup API inside one read transaction: blocks,
 *                         certificates, the ledger log, the state and its
 *                         tree, the consensus WAL, and the record ciphertext
 *                         of the sqlite blob backend, all as of one
 *                         committed block; the running node is not paused,
 *                         WAL mode lets it go on committing)
 *   DIR/genesis.json, DIR/config.json
 *   DIR/node_key.json     the node's key (0600), unless left out
 *   DIR/data/mempool.journal  pending transactions, when there are any
 * With the s3 blob backend the ciphertext itself lives in the bucket (its
 * index is in the database copy): back the bucket up with the object
 * store's own versioning or replication (docs/BLOBS.md).
 *
 * Restore checks every file against the manifest, copies them into a new
 * home (checking each copy again) and verifies the copied chain in full
 * (mc_verify_chain); on any failure it removes what it wrote, so a home
 * exists only when it verified. Started, the node block-syncs what its peers
 * committed since. The backup folder is only read.
 * Restoring a validator: stop its old instance for good first (two
 * instances with one key would equivocate). */
#ifndef MC_NODE_BACKUP_H
#define MC_NODE_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/hash.h"
#include "node/verify.h"

struct mc_backup_info {
    uint64_t height;     /* the copy's latest block (0: genesis only) */
    mc_hash block_hash;  /* zero at height 0 */
    mc_hash state_root;  /* the state root the copy holds */
    uint64_t bytes;      /* bytes written */
    unsigned files;
    bool with_key;
};

/* Backs up the home into out_dir, which must not exist. MC_ERR_EXISTS,
 * MC_ERR_IO, MC_ERR_DB (detail in mc_err_detail()). */
MC_MUST_CHECK int mc_backup_take(const char *home, const char *out_dir, bool with_key,
                                 struct mc_backup_info *info);

/* Restores the backup in dir into a new home (which must not exist, or be
 * an empty folder). MC_ERR_TAMPERED when a file does not match the
 * manifest or the copied chain does not verify (report says where),
 * leaving no home. */
MC_MUST_CHECK int mc_backup_restore(const char *dir, const char *home, struct mc_backup_info *info,
                                    struct mc_verify_report *report);

#endif
