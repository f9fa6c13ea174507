/* The mempool journal: every transaction the node admits is appended to
 * DIR/data/mempool.journal before its submitter hears "pending", and the
 * node re-admits the journal's transactions when it starts, so a pending
 * transaction survives a crash or a restart of the process (kill -9
 * included: write(2) has put it in the kernel's page cache). The file is
 * synced once a block, so a power cut loses at most the transactions of
 * about one block interval; their senders learn it from the status lookup
 * ("unknown": resubmit, which the nonce makes safe).
 *
 * Record (all integers little-endian):
 *   | u32 len | len bytes: the transaction | 8 bytes: SHA-256(tx)[0..8] |
 * Replay stops at the first record that is short, too long or whose check
 * bytes differ (a torn write at a crash). Replayed transactions go through
 * the full admission checks again, so a stale or altered one is refused.
 * Private to src/node; the node lock serialises every call. */
#ifndef MC_NODE_JOURNAL_H
#define MC_NODE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "chain/block.h"

struct mc_journal;

/* Opens (creating) the journal for appending. */
MC_MUST_CHECK int mc_journal_open(struct mc_journal **out, const char *path);
void mc_journal_close(struct mc_journal *j);
/* Calls fn for each intact record of the file at path, in order. A missing
 * file has no records. Returns how many records were read, or an error. */
int mc_journal_replay(const char *path, void (*fn)(void *ctx, const uint8_t *tx, size_t len),
                      void *ctx);
MC_MUST_CHECK int mc_journal_append(struct mc_journal *j, const uint8_t *tx, size_t len);
/* Makes appended records durable (fdatasync). */
MC_MUST_CHECK int mc_journal_sync(struct mc_journal *j);
/* Replaces the contents with exactly these transactions: written to a
 * temporary file, synced and renamed over the journal, so a crash leaves
 * the old journal or the new one. */
MC_MUST_CHECK int mc_journal_rewrite(struct mc_journal *j, const struct mc_tx_ref *txs,
                                     uint32_t count);
/* Records appended since the last rewrite (or open). */
uint64_t mc_journal_records(const struct mc_journal *j);

#endif
