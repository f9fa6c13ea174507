/* Mempool (contract in mempool.h). Pending transactions, ready and queued,
 * sit in one array kept in the order they became ready (a promoted one is
 * moved to the end); lookups by id and by (sender, nonce) go through
 * open-addressing indexes over it. */
#include "node/mempool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"

#define REJECT_RING 4096
#define INDEX_BITS 17 /* 131072 slots >= 2 * MC_MEMPOOL_TXS_MAX */

_Static_assert((1u << INDEX_BITS) >= 2 * MC_MEMPOOL_TXS_MAX, "index must stay half empty");

struct rejection {
    mc_hash id;
    int err;
    char reason[200];
    bool used;
    bool replaced; /* re-signed as `by`, not rejected */
    mc_hash by;
};

struct mc_mempool {
    struct mc_mempool_tx *txs;
    uint32_t count;
    size_t bytes;
    uint64_t next_seq;
    /* open-addressing sets: slot holds index+1 into txs, 0 = empty */
    uint32_t *index;        /* by id */
    uint32_t *sn_index;     /* by (sender, nonce) */
    /* pending count per sender */
    struct sender_count { mc_pubkey pk; uint32_t count; } *senders;
    struct rejection *rejected;
    uint32_t rejected_next;
    uint32_t queued;      /* entries flagged queued, dead or not, until compaction */
    uint32_t queued_live; /* queued and not removed */
    uint32_t dead;        /* entries removed, awaiting compaction */
    uint32_t stale_slots; /* index slots left by re-signed entries */
    uint64_t removals;
};

static uint32_t slot_of(const mc_hash *id) {
    uint32_t h;
    memcpy(&h, id->b, 4); /* ids are SHA-256 outputs: uniformly distributed */
    return h & ((1u << INDEX_BITS) - 1);
}

#define MASK ((1u << INDEX_BITS) - 1)

/* Keys are Ed25519 public keys: their bytes are as good as random. */
static uint32_t sn_slot(const mc_pubkey *pk, uint64_t nonce) {
    uint64_t h;
    memcpy(&h, pk->b, 8);
    h ^= nonce * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h ^ (h >> 32)) & MASK;
}

static uint32_t sender_slot(const struct mc_mempool *mp, const mc_pubkey *pk) {
    uint32_t h;
    memcpy(&h, pk->b + 8, 4);
    uint32_t s = h & MASK;
    while (mp->senders[s].count && memcmp(mp->senders[s].pk.b, pk->b, 32) != 0) s = (s + 1) & MASK;
    return s;
}

/* Slots for entry i's id and (sender, nonce). */
static void index_insert_keys(struct mc_mempool *mp, uint32_t i) {
    uint32_t s = slot_of(&mp->txs[i].id);
    while (mp->index[s]) s = (s + 1) & MASK;
    mp->index[s] = i + 1;
    s = sn_slot(&mp->txs[i].sender, mp->txs[i].nonce);
    while (mp->sn_index[s]) s = (s + 1) & MASK;
    mp->sn_index[s] = i + 1;
}

static void index_insert(struct mc_mempool *mp, uint32_t i) {
    index_insert_keys(mp, i);
    uint32_t k = sender_slot(mp, &mp->txs[i].sender);
    mp->senders[k].pk = mp->txs[i].sender;
    mp->senders[k].count++;
}

static void index_rebuild(struct mc_mempool *mp) {
    mp->stale_slots = 0;
    memset(mp->index, 0, sizeof(uint32_t) << INDEX_BITS);
    memset(mp->sn_index, 0, sizeof(uint32_t) << INDEX_BITS);
    memset(mp->senders, 0, sizeof(*mp->senders) << INDEX_BITS);
    for (uint32_t i = 0; i < mp->count; i++) index_insert(mp, i);
}

static int find_sender_nonce(const struct mc_mempool *mp, const mc_pubkey *pk, uint64_t nonce) {
    uint32_t s = sn_slot(pk, nonce);
    while (mp->sn_index[s]) {
        const struct mc_mempool_tx *t = &mp->txs[mp->sn_index[s] - 1];
        if (t->nonce == nonce && memcmp(t->sender.b, pk->b, 32) == 0 && !t->dead)
            return (int)(mp->sn_index[s] - 1);
        s = (s + 1) & MASK;
    }
    return -1;
}

static int find(const struct mc_mempool *mp, const mc_hash *id) {
    uint32_t s = slot_of(id);
    while (mp->index[s]) {
        uint32_t i = mp->index[s] - 1;
        /* A promoted or re-signed transaction leaves a dead copy behind
         * until compaction: only the live one counts. */
        if (!mp->txs[i].dead && memcmp(mp->txs[i].id.b, id->b, 32) == 0) return (int)i;
        s = (s + 1) & ((1u << INDEX_BITS) - 1);
    }
    return -1;
}

int mc_mempool_create(struct mc_mempool **out) {
    struct mc_mempool *mp = calloc(1, sizeof *mp);
    if (!mp) return MC_ERR_NOMEM;
    mp->txs = calloc(MC_MEMPOOL_TXS_MAX, sizeof *mp->txs);
    mp->index = calloc(1u << INDEX_BITS, sizeof *mp->index);
    mp->sn_index = calloc(1u << INDEX_BITS, sizeof *mp->sn_index);
    mp->senders = calloc(1u << INDEX_BITS, sizeof *mp->senders);
    mp->rejected = calloc(REJECT_RING, sizeof *mp->rejected);
    if (!mp->txs || !mp->index || !mp->sn_index || !mp->senders || !mp->rejected) {
        mc_mempool_destroy(mp);
        return MC_ERR_NOMEM;
    }
    *out = mp;
    return 0;
}

void mc_mempool_destroy(struct mc_mempool *mp) {
    if (!mp) return;
    for (uint32_t i = 0; i < mp->count; i++) free(mp->txs[i].bytes);
    free(mp->txs);
    free(mp->index);
    free(mp->sn_index);
    free(mp->senders);
    free(mp->rejected);
    free(mp);
}

static int check_add(const struct mc_mempool *mp, const mc_hash *id, const mc_pubkey *sender,
                     uint64_t nonce, size_t len) {
    if (id && find(mp, id) >= 0) return mc_err_set(MC_ERR_EXISTS, "transaction is already pending");
    if (find_sender_nonce(mp, sender, nonce) >= 0)
        return mc_err_set(MC_ERR_BAD_NONCE, "another transaction with nonce %llu from this sender is pending",
                          (unsigned long long)nonce);
    /* Counts include entries removed but not yet compacted: a slight
     * overestimate, corrected at the next compaction. */
    uint32_t from_sender = mp->senders[sender_slot(mp, sender)].count;
    if (from_sender >= MC_MEMPOOL_PER_SENDER_MAX)
        return mc_err_set(MC_ERR_FULL, "this sender already has %u transactions pending; retry after they commit",
                          from_sender);
    if (mp->count - mp->dead >= MC_MEMPOOL_TXS_MAX ||
        mp->bytes + len > MC_MEMPOOL_BYTES_MAX)
        return mc_err_set(MC_ERR_FULL, "mempool is full; retry shortly");
    return 0;
}

int mc_mempool_can_add(const struct mc_mempool *mp, const mc_pubkey *sender, uint64_t nonce,
                       size_t len) {
    return check_add(mp, NULL, sender, nonce, len);
}

/* Appends an entry taking ownership of bytes; compacts first when the
 * array is full of removed entries. */
static int append(struct mc_mempool *mp, const mc_hash *id, const mc_pubkey *sender,
                  uint64_t nonce, uint8_t *bytes, size_t len, bool queued, uint64_t now_ms) {
    if (mp->count >= MC_MEMPOOL_TXS_MAX) mc_mempool_compact(mp);
    if (mp->count >= MC_MEMPOOL_TXS_MAX) return mc_err_set(MC_ERR_FULL, "mempool is full; retry shortly");
    struct mc_mempool_tx *t = &mp->txs[mp->count];
    t->id = *id;
    t->sender = *sender;
    t->nonce = nonce;
    t->seq = mp->next_seq++;
    t->bytes = bytes;
    t->len = len;
    t->dead = false;
    t->queued = queued;
    t->queued_at_ms = now_ms;
    index_insert(mp, mp->count);
    mp->count++;
    mp->bytes += len;
    if (queued) {
        mp->queued++;
        mp->queued_live++;
    }
    return 0;
}

static int add(struct mc_mempool *mp, const mc_hash *id, const mc_pubkey *sender, uint64_t nonce,
               const uint8_t *bytes, size_t len, bool queued, uint64_t now_ms) {
    int rc = check_add(mp, id, sender, nonce, len);
    if (rc) return rc;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return MC_ERR_NOMEM;
    memcpy(copy, bytes, len);
    if ((rc = append(mp, id, sender, nonce, copy, len, queued, now_ms))) free(copy);
    return rc;
}

int mc_mempool_add(struct mc_mempool *mp, const mc_hash *id, const mc_pubkey *sender,
                   uint64_t nonce, const uint8_t *bytes, size_t len) {
    return add(mp, id, sender, nonce, bytes, len, false, 0);
}

int mc_mempool_add_queued(struct mc_mempool *mp, const mc_hash *id, const mc_pubkey *sender,
                          uint64_t nonce, const uint8_t *bytes, size_t len, uint64_t now_ms) {
    if (mp->queued_live >= MC_MEMPOOL_QUEUED_MAX)
        return mc_err_set(MC_ERR_FULL, "%u transactions already wait for missing nonces; retry later",
                          mp->queued_live);
    uint32_t mine = 0;
    for (uint32_t i = 0; i < mp->count && mine < MC_MEMPOOL_QUEUED_PER_SENDER_MAX; i++)
        mine += mp->txs[i].queued && !mp->txs[i].dead && memcmp(mp->txs[i].sender.b, sender->b, 32) == 0;
    if (mine >= MC_MEMPOOL_QUEUED_PER_SENDER_MAX)
        return mc_err_set(MC_ERR_FULL, "this sender already has %u transactions waiting for missing nonces; submit those first",
                          mine);
    return add(mp, id, sender, nonce, bytes, len, true, now_ms);
}

const struct mc_mempool_tx *mc_mempool_promote(struct mc_mempool *mp, const mc_pubkey *sender,
                                               uint64_t nonce) {
    int i = find_sender_nonce(mp, sender, nonce);
    if (i < 0 || !mp->txs[i].queued) return NULL;
    if (mp->count >= MC_MEMPOOL_TXS_MAX) {
        mc_mempool_compact(mp);
        if ((i = find_sender_nonce(mp, sender, nonce)) < 0) return NULL;
        if (mp->count >= MC_MEMPOOL_TXS_MAX) return NULL; /* stays queued */
    }
    /* Move to the end: the old slot becomes a dead shell without bytes. */
    struct mc_mempool_tx old = mp->txs[i];
    mp->txs[i].dead = true;
    mp->txs[i].bytes = NULL;
    mp->txs[i].len = 0;
    mp->dead++;
    mp->bytes -= old.len;
    mp->queued_live--;
    if (append(mp, &old.id, &old.sender, old.nonce, old.bytes, old.len, false, 0)) {
        /* Cannot happen (room was checked); keep the bytes owned. */
        free(old.bytes);
        return NULL;
    }
    return &mp->txs[mp->count - 1];
}

void mc_mempool_demote(struct mc_mempool *mp, const mc_hash *id, uint64_t now_ms) {
    int i = find(mp, id);
    if (i < 0 || mp->txs[i].queued) return;
    mp->txs[i].queued = true;
    mp->txs[i].queued_at_ms = now_ms;
    mp->queued++;
    mp->queued_live++;
}

const struct mc_mempool_tx *mc_mempool_find(const struct mc_mempool *mp, const mc_pubkey *sender,
                                            uint64_t nonce) {
    int i = find_sender_nonce(mp, sender, nonce);
    return i >= 0 ? &mp->txs[i] : NULL;
}

int mc_mempool_replace(struct mc_mempool *mp, const mc_hash *id, const mc_hash *new_id,
                       uint64_t nonce, const uint8_t *bytes, size_t len) {
    int i = find(mp, id);
    if (i < 0) return mc_err_set(MC_ERR_NOT_FOUND, "transaction is not pending");
    if (mp->bytes - mp->txs[i].len + len > MC_MEMPOOL_BYTES_MAX)
        return mc_err_set(MC_ERR_FULL, "mempool is full; retry shortly");
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return MC_ERR_NOMEM;
    memcpy(copy, bytes, len);
    struct mc_mempool_tx *t = &mp->txs[i];
    mp->bytes = mp->bytes - t->len + len;
    free(t->bytes);
    t->bytes = copy;
    t->len = len;
    t->id = *new_id;
    t->nonce = nonce;
    /* The old slots stay behind and no longer match (lookups compare the
     * entry's id and nonce); rebuild once they could crowd the index. */
    index_insert_keys(mp, (uint32_t)i);
    mp->stale_slots += 2;
    if (mp->stale_slots > MC_MEMPOOL_TXS_MAX / 2) index_rebuild(mp);
    return 0;
}

uint32_t mc_mempool_expire(struct mc_mempool *mp, uint64_t now_ms, uint64_t wait_ms) {
    uint32_t dropped = 0;
    for (uint32_t i = 0; i < mp->count && mp->queued_live; i++) {
        struct mc_mempool_tx *t = &mp->txs[i];
        if (!t->queued || t->dead || now_ms < t->queued_at_ms + wait_ms) continue;
        char why[200];
        snprintf(why, sizeof why,
                 "nonce %llu waited %llu ms for the sender's earlier nonces, which never arrived; "
                 "dropped: submit the missing nonces, then resubmit",
                 (unsigned long long)t->nonce, (unsigned long long)(now_ms - t->queued_at_ms));
        mc_mempool_note_rejected(mp, &t->id, MC_ERR_BAD_NONCE, why);
        mc_mempool_remove(mp, &t->id);
        dropped++;
    }
    return dropped;
}

uint32_t mc_mempool_peek_queued(const struct mc_mempool *mp, const struct mc_mempool_tx **out,
                                uint32_t max) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < mp->count && n < max; i++)
        if (mp->txs[i].queued && !mp->txs[i].dead) out[n++] = &mp->txs[i];
    return n;
}

uint32_t mc_mempool_queued_count(const struct mc_mempool *mp) { return mp->queued_live; }
uint64_t mc_mempool_removals(const struct mc_mempool *mp) { return mp->removals; }

bool mc_mempool_contains(const struct mc_mempool *mp, const mc_hash *id) {
    int i = find(mp, id);
    return i >= 0 && !mp->txs[i].dead;
}
const struct mc_mempool_tx *mc_mempool_get(const struct mc_mempool *mp, const mc_hash *id) {
    int i = find(mp, id);
    return i >= 0 && !mp->txs[i].dead ? &mp->txs[i] : NULL;
}

uint32_t mc_mempool_size(const struct mc_mempool *mp) { return mp->count - mp->queued; }

uint32_t mc_mempool_peek(const struct mc_mempool *mp, const struct mc_mempool_tx **out,
                         uint32_t max) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < mp->count && n < max; i++)
        if (!mp->txs[i].queued) out[n++] = &mp->txs[i];
    return n;
}

void mc_mempool_remove(struct mc_mempool *mp, const mc_hash *id) {
    int i = find(mp, id);
    if (i < 0) return;
    mp->txs[i].dead = true;
    if (mp->txs[i].queued) mp->queued_live--;
    mp->dead++;
    mp->removals++;
}

void mc_mempool_compact(struct mc_mempool *mp) {
    uint32_t w = 0, queued = 0;
    for (uint32_t r = 0; r < mp->count; r++) {
        if (mp->txs[r].dead) {
            mp->bytes -= mp->txs[r].len;
            free(mp->txs[r].bytes);
            continue;
        }
        queued += mp->txs[r].queued;
        mp->txs[w++] = mp->txs[r];
    }
    mp->queued = mp->queued_live = queued;
    mp->dead = 0;
    if (w == mp->count) return;
    mp->count = w;
    index_rebuild(mp);
}

void mc_mempool_note_rejected(struct mc_mempool *mp, const mc_hash *id, int err,
                              const char *reason) {
    struct rejection *r = &mp->rejected[mp->rejected_next++ % REJECT_RING];
    r->id = *id;
    r->err = err;
    r->used = true;
    r->replaced = false;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
}

void mc_mempool_note_replaced(struct mc_mempool *mp, const mc_hash *id, const mc_hash *by) {
    struct rejection *r = &mp->rejected[mp->rejected_next++ % REJECT_RING];
    memset(r, 0, sizeof *r);
    r->id = *id;
    r->used = r->replaced = true;
    r->by = *by;
}

int mc_mempool_replaced(const struct mc_mempool *mp, const mc_hash *id, mc_hash *by) {
    for (uint32_t i = 0; i < REJECT_RING; i++) {
        const struct rejection *r = &mp->rejected[i];
        if (r->used && r->replaced && memcmp(r->id.b, id->b, 32) == 0) {
            *by = r->by;
            return 0;
        }
    }
    return MC_ERR_NOT_FOUND;
}

int mc_mempool_rejected(const struct mc_mempool *mp, const mc_hash *id, int *err, char *reason,
                        size_t reason_size) {
    for (uint32_t i = 0; i < REJECT_RING; i++) {
        const struct rejection *r = &mp->rejected[i];
        if (r->used && !r->replaced && memcmp(r->id.b, id->b, 32) == 0) {
            *err = r->err;
            snprintf(reason, reason_size, "%s", r->reason);
            return 0;
        }
    }
    return MC_ERR_NOT_FOUND;
}
