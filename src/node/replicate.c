/* Replication of record ciphertext between the nodes of the consortium.
 *
 * After a block commits, every record anchor in it names blobs (ciphertext
 * hash and size); a node that does not hold one (or holds a copy that no
 * longer hashes to its id) puts it on a bounded list of wanted blobs and
 * asks one peer at a time with GET_BLOB: first the node that anchored the
 * record (it stored the ciphertext), then the other connected peers in turn,
 * each for REPL_TIMEOUT_MS; after MC_REPL_TRIES_MAX tries the blob is given up
 * and logged. A BLOB answer is stored only when SHA-256(bytes) is the id,
 * its length is the anchored size and the anchor on the chain still names
 * it and is not erased; a peer whose answer does not hash to the id asked
 * for is dropped. Peers are served from the local blob store, which never
 * returns a purged blob or bytes that do not hash to their id.
 *
 * Repair: an API thread that finds a stored copy altered calls
 * mc_node_request_blob, which queues the request under repl->qlock and
 * wakes the loop (wake_async); the loop moves it to the wanted list, and the
 * good copy replaces the bad one when it arrives.
 *
 * Store access runs on a worker thread, never on the loop: with an object
 * store (blob_s3.c) a read or write can take up to its timeouts, and the
 * loop also runs consensus. The loop queues jobs (serve a peer's GET_BLOB,
 * store a fetched blob that passed its checks, re-read a copy a read found
 * bad) on a bounded queue; the worker runs them without the node lock and
 * puts the results on a done list, which the tick drains (sends the BLOB
 * answer, counts, adds the wanted blob). A full queue drops a serve (the
 * peer asks another after its timeout) and keeps a fetch wanted.
 *
 * Streamed blobs (attachments above MC_BLOB_MAX, blob.h) travel piece by
 * piece: GET_BLOB_PART asks for the MC_BLOB_PIECE bytes at an offset, and
 * each BLOB_PART answer (offset and total as anchored) is appended by the
 * worker to a streamed upload that the want keeps; the next piece is asked
 * once the worker stored this one, of the same peer while it answers (a
 * timeout moves on to another peer, at the same offset: the pieces of a
 * blob are the same everywhere). The upload is completed only when the
 * whole hashes to the anchored id; otherwise it is aborted and the blob
 * fetched again from the start, from another peer. Memory per streamed
 * want: one piece in flight and the store's own piece or part.
 *
 * Everything else runs on the loop thread with the node lock held. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "app/records.h"
#include "base/hex.h"
#include "base/log.h"
#include "app/txtypes.h"
#include "chain/tx.h"
#include "node/node_internal.h"
#include "node/wire.h"

#include <sodium.h>

#define REPL_TIMEOUT_MS 1500    /* a peer that has not answered: ask the next */

struct want {
    mc_hash ct;
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version;
    uint32_t size;             /* 0: unknown (a repair: taken from the chain on arrival) */
    mc_pubkey origin;          /* the anchoring node: asked first */
    bool has_origin;
    bool in_flight;
    mc_pubkey asked;
    uint64_t deadline_ms;
    uint32_t tries;
    uint32_t next_peer;        /* round-robin position among connected peers */
    /* streamed (size > MC_BLOB_MAX): fetched piece by piece */
    bool streamed;
    bool storing;              /* a piece is with the worker */
    bool moved_on;             /* the last peer timed out: the next piece of another */
    uint64_t offset;           /* the next piece to ask for */
    struct mc_blob_writer *writer; /* the upload so far (NULL before the first piece) */
};

struct repair_req {
    mc_hash ct;
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version;
};

enum job_kind { JOB_SERVE, JOB_STORE, JOB_REPAIR, JOB_SERVE_PART, JOB_STORE_PART, JOB_ABORT };

struct job {
    enum job_kind kind;
    mc_pubkey peer;               /* SERVE: who asked */
    mc_hash ct;
    char id[MC_RECORD_ID_MAX + 1];
    uint32_t version;
    struct mc_buf bytes;          /* SERVE: out; STORE: in */
    int rc;
    char why[200];
    /* parts of streamed blobs */
    uint64_t offset, total;       /* SERVE_PART: in (total out); STORE_PART: in */
    struct mc_blob_writer *writer;/* STORE_PART: in and out (NULL once finished or aborted); ABORT: in */
    bool finished;                /* STORE_PART: the blob is complete and stored */
    bool streamed;                /* REPAIR: the blob is a streamed one */
};

struct mc_repl {
    struct want *want;
    uint32_t count;
    uint32_t in_flight;
    mc_pubkey peers[MC_NET_PEERS_MAX];
    uint32_t peer_count;
    bool overflow_logged;

    pthread_mutex_t qlock;
    struct repair_req repair[MC_REPL_REPAIR_MAX];
    uint32_t repair_count;

    uint64_t fetched, given_up, served, bad_peers;

    /* the store worker (see the top of the file) */
    pthread_t worker;
    bool worker_started, worker_stop;
    pthread_cond_t wcond;         /* with qlock */
    struct job *todo[MC_REPL_JOBS_MAX], *done[MC_REPL_JOBS_MAX];
    uint32_t todo_count, done_count, jobs;   /* jobs: queued + running + done */
};

static void job_free(struct job *j) {
    if (!j) return;
    mc_blob_writer_abort(j->writer); /* only a job never run holds one here */
    mc_buf_deinit(&j->bytes);
    free(j);
}

/* One piece of a streamed blob at j->offset into j->bytes (unchecked: the
 * receiver checks the whole against the anchor). */
static int serve_part(struct mc_blob_store *bs, struct job *j) {
    struct mc_blob_reader *r;
    uint64_t size;
    /* not anchored: a pending upload is never served */
    int rc = mc_blob_reader_open(bs, &r, &j->ct, false, &size);
    if (rc) return rc;
    j->total = size;
    if (size <= MC_BLOB_MAX || j->offset >= size) rc = mc_err_set(MC_ERR_NOT_FOUND, "no such piece");
    if (!rc) rc = mc_blob_reader_seek(r, j->offset);
    uint64_t want = size - j->offset < MC_BLOB_PIECE ? size - j->offset : MC_BLOB_PIECE;
    uint8_t buf[16384];
    while (!rc && j->bytes.len < want) {
        size_t n, cap = want - j->bytes.len < sizeof buf ? (size_t)(want - j->bytes.len) : sizeof buf;
        rc = mc_blob_reader_read(r, buf, cap, &n);
        if (!rc && n == 0) rc = mc_err_set(MC_ERR_TAMPERED, "stored blob is shorter than recorded");
        if (!rc) mc_buf_append(&j->bytes, buf, n);
        if (!rc) rc = j->bytes.err;
    }
    mc_blob_reader_close(r);
    return rc;
}

/* Appends a fetched piece; at the end, completes the upload if the whole
 * hashes to the id asked for. On any failure the upload is aborted. */
static int store_part(struct mc_blob_store *bs, struct job *j) {
    int rc = 0;
    if (!j->writer) rc = mc_blob_writer_open(bs, &j->writer, false);
    if (!rc) rc = mc_blob_writer_append(j->writer, j->bytes.data, j->bytes.len);
    if (!rc && j->offset + j->bytes.len == j->total) {
        mc_hash got;
        uint64_t size;
        rc = mc_blob_writer_finish(j->writer, &got, &size, &j->ct);
        j->writer = NULL;
        j->finished = rc == 0;
    }
    if (rc && j->writer) {
        mc_blob_writer_abort(j->writer);
        j->writer = NULL;
    }
    return rc;
}

/* Whether a streamed blob's stored copy reads whole and hashes to its id. */
static int reread_streamed(struct mc_blob_store *bs, const mc_hash *id) {
    struct mc_blob_reader *r;
    uint64_t size;
    int rc = mc_blob_reader_open(bs, &r, id, true, &size);
    if (rc) return rc;
    uint8_t *buf = malloc(MC_BLOB_PIECE);
    if (!buf) rc = MC_ERR_NOMEM;
    for (size_t n = 1; !rc && n;) rc = mc_blob_reader_read(r, buf, MC_BLOB_PIECE, &n);
    free(buf);
    mc_blob_reader_close(r);
    return rc;
}

/* A small attachment (within MC_BLOB_MAX) is stored streamed where it
 * was uploaded, and asked for whole (GET_BLOB) by peers: read it through,
 * hash checked (a pending one is not served). */
static int read_small_streamed(struct mc_blob_store *bs, const mc_hash *id, struct mc_buf *out) {
    struct mc_blob_reader *r;
    uint64_t size;
    int rc = mc_blob_reader_open(bs, &r, id, false, &size);
    if (rc) return rc;
    if (size > MC_BLOB_MAX) rc = mc_err_set(MC_ERR_TOO_LARGE, "asked whole, stored as a stream");
    uint8_t buf[16384];
    for (size_t n = 1; !rc && n;) {
        rc = mc_blob_reader_read(r, buf, sizeof buf, &n);
        if (!rc) mc_buf_append(out, buf, n);
        if (!rc) rc = out->err;
    }
    mc_blob_reader_close(r);
    if (rc) out->len = 0;
    return rc;
}

static void run_job(struct mc_blob_store *bs, struct job *j) {
    if (j->kind == JOB_SERVE_PART) {
        j->rc = serve_part(bs, j);
    } else if (j->kind == JOB_STORE_PART) {
        j->rc = store_part(bs, j);
    } else if (j->kind == JOB_ABORT) {
        mc_blob_writer_abort(j->writer);
        j->writer = NULL;
        j->rc = 0;
    } else if (j->kind == JOB_SERVE) {
        /* mc_blob_get refuses purged blobs, pending uploads and bytes that
         * do not hash to id: none is ever served */
        j->rc = mc_blob_get(bs, &j->ct, &j->bytes);
        if (j->rc == MC_ERR_TOO_LARGE) j->rc = read_small_streamed(bs, &j->ct, &j->bytes);
    } else if (j->kind == JOB_STORE) {
        mc_hash stored;
        j->rc = mc_blob_put(bs, &stored, j->bytes.data, j->bytes.len);
    } else {
        /* a read found the copy missing or altered; an object store's copy
         * is only known good by reading it again */
        struct mc_buf b;
        mc_buf_init(&b, 0);
        j->rc = mc_blob_get_anchored(bs, &j->ct, &b);
        mc_buf_deinit(&b);
        if (j->rc == MC_ERR_TOO_LARGE) { /* a streamed blob: read it through */
            j->streamed = true;
            j->rc = reread_streamed(bs, &j->ct);
        }
    }
    if (j->rc) snprintf(j->why, sizeof j->why, "%s", mc_err_detail());
}

static void *worker_main(void *arg) {
    struct mc_node *n = arg;
    struct mc_repl *r = n->repl;
    pthread_mutex_lock(&r->qlock);
    for (;;) {
        while (!r->worker_stop && r->todo_count == 0) pthread_cond_wait(&r->wcond, &r->qlock);
        if (r->worker_stop) break;
        struct job *j = r->todo[0];
        memmove(r->todo, r->todo + 1, --r->todo_count * sizeof r->todo[0]);
        pthread_mutex_unlock(&r->qlock);
        run_job(n->blobs, j);
        pthread_mutex_lock(&r->qlock);
        r->done[r->done_count++] = j; /* room: jobs <= MC_REPL_JOBS_MAX */
    }
    pthread_mutex_unlock(&r->qlock);
    return NULL;
}

/* Queues a job (the loop thread); false when the queue is full (j is freed). */
static bool enqueue(struct mc_repl *r, struct job *j) {
    pthread_mutex_lock(&r->qlock);
    bool ok = r->worker_started && r->jobs < MC_REPL_JOBS_MAX;
    if (ok) {
        r->todo[r->todo_count++] = j;
        r->jobs++;
        pthread_cond_signal(&r->wcond);
    }
    pthread_mutex_unlock(&r->qlock);
    if (!ok) {
        j->writer = NULL; /* the caller keeps it (or leaves it to the sweep) */
        job_free(j);
    }
    return ok;
}

static struct job *job_new(enum job_kind kind, const mc_hash *ct) {
    struct job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->kind = kind;
    j->ct = *ct;
    mc_buf_init(&j->bytes, 0);
    return j;
}

int mc_repl_create(struct mc_node *n) {
    struct mc_repl *r = calloc(1, sizeof *r);
    if (!r) return MC_ERR_NOMEM;
    r->want = calloc(MC_REPL_WANT_MAX, sizeof *r->want);
    if (!r->want) {
        free(r);
        return MC_ERR_NOMEM;
    }
    pthread_mutex_init(&r->qlock, NULL);
    pthread_cond_init(&r->wcond, NULL);
    n->repl = r;
    if (pthread_create(&r->worker, NULL, worker_main, n) == 0) r->worker_started = true;
    else mc_log_warn("repl", "cannot start the blob-store worker: blobs are not replicated");
    return 0;
}

void mc_repl_destroy(struct mc_node *n) {
    struct mc_repl *r = n->repl;
    if (!r) return;
    if (r->worker_started) {
        pthread_mutex_lock(&r->qlock);
        r->worker_stop = true;
        pthread_cond_signal(&r->wcond);
        pthread_mutex_unlock(&r->qlock);
        pthread_join(r->worker, NULL);
    }
    for (uint32_t i = 0; i < r->todo_count; i++) job_free(r->todo[i]);
    for (uint32_t i = 0; i < r->done_count; i++) job_free(r->done[i]);
    pthread_cond_destroy(&r->wcond);
    pthread_mutex_destroy(&r->qlock);
    free(r->want);
    free(r);
    n->repl = NULL;
}

static void short_hex(char out[17], const mc_hash *h) { mc_hex_encode(out, h->b, 8); }

static struct want *find(struct mc_repl *r, const mc_hash *ct) {
    for (uint32_t i = 0; i < r->count; i++)
        if (memcmp(r->want[i].ct.b, ct->b, 32) == 0) return &r->want[i];
    return NULL;
}

static bool enqueue(struct mc_repl *r, struct job *j);
static struct job *job_new(enum job_kind kind, const mc_hash *ct);

static void remove_want(struct mc_repl *r, struct want *w) {
    if (w->in_flight && r->in_flight) r->in_flight--;
    if (w->writer) {
        /* the partial upload is dropped by the worker (a full queue leaves
         * it to the sweep: never served either way) */
        struct job *j = job_new(JOB_ABORT, &w->ct);
        if (j) {
            j->writer = w->writer;
            if (!enqueue(r, j)) mc_log_warn("repl", "cannot drop a partial download now: the sweep removes it");
        }
        w->writer = NULL;
    }
    *w = r->want[--r->count];
}

static void add_want(struct mc_node *n, const mc_hash *ct, const char *id, uint32_t version,
                     uint32_t size, const mc_pubkey *origin) {
    struct mc_repl *r = n->repl;
    if (find(r, ct)) return;
    if (r->count == MC_REPL_WANT_MAX) {
        if (!r->overflow_logged)
            mc_log_warn("repl", "too many blobs wanted (%d): later ones are not fetched", MC_REPL_WANT_MAX);
        r->overflow_logged = true;
        return;
    }
    struct want *w = &r->want[r->count++];
    memset(w, 0, sizeof *w);
    w->ct = *ct;
    snprintf(w->id, sizeof w->id, "%s", id);
    w->version = version;
    w->size = size;
    w->streamed = size > MC_BLOB_MAX;
    if (origin && memcmp(origin->b, n->node_key->pk.b, 32) != 0) {
        w->origin = *origin;
        w->has_origin = true;
    }
}

/* Does this node need the blob? Missing or damaged: yes; held or purged: no. */
static bool needed(struct mc_node *n, const mc_hash *ct) { return mc_blob_needed(n->blobs, ct); }


struct anchor_ctx {
    struct mc_node *n;
    const mc_pubkey *sender;
};

static void on_anchored(void *ctx, const char *id, uint32_t version, const mc_hash *ct, uint32_t size) {
    struct anchor_ctx *a = ctx;
    /* our own upload of this anchor: from now on it is served */
    if (mc_blob_commit(a->n->blobs, ct))
        mc_log_warn("repl", "cannot mark an anchored blob committed: %s", mc_err_detail());
    if (!a->n->repl || !a->n->has_p2p) return;
    if (size == 0 || size > MC_ATTACHMENT_CT_MAX || !needed(a->n, ct)) return;
    add_want(a->n, ct, id, version, size, a->sender);
}

void mc_repl_after_commit_tx(struct mc_node *n, const struct mc_tx *tx) {
    if (tx->type == MC_TX_RECORD_ANCHOR) {
        struct anchor_ctx a = {n, &tx->sender};
        if (mc_records_anchored_blobs(tx->payload, tx->payload_len, on_anchored, &a))
            mc_log_warn("repl", "a committed anchor does not decode: %s", mc_err_detail());
    }
}

void mc_repl_forget(struct mc_node *n, const mc_hash *ct) {
    if (!n->repl) return;
    struct want *w = find(n->repl, ct);
    if (w) remove_want(n->repl, w);
}

void mc_repl_on_peer(struct mc_node *n, const mc_pubkey *key, bool up) {
    struct mc_repl *r = n->repl;
    if (!r) return;
    for (uint32_t i = 0; i < r->peer_count; i++)
        if (memcmp(r->peers[i].b, key->b, 32) == 0) {
            if (!up) r->peers[i] = r->peers[--r->peer_count];
            goto asked;
        }
    if (up && r->peer_count < MC_NET_PEERS_MAX) r->peers[r->peer_count++] = *key;
asked:
    if (!up) /* whatever we asked it will not come: ask someone else now */
        for (uint32_t i = 0; i < r->count; i++)
            if (r->want[i].in_flight && memcmp(r->want[i].asked.b, key->b, 32) == 0)
                r->want[i].deadline_ms = 0;
}

static bool peer_up(const struct mc_repl *r, const mc_pubkey *k) {
    for (uint32_t i = 0; i < r->peer_count; i++)
        if (memcmp(r->peers[i].b, k->b, 32) == 0) return true;
    return false;
}

static void ask(struct mc_node *n, struct want *w) {
    struct mc_repl *r = n->repl;
    if (r->peer_count == 0 || !n->net) return;
    mc_pubkey to;
    if (w->streamed && w->offset > 0 && !w->moved_on && peer_up(r, &w->asked)) {
        to = w->asked; /* the next piece, of the peer that served the last */
    } else if (w->tries == 0 && w->has_origin && peer_up(r, &w->origin)) {
        to = w->origin;
    } else {
        to = r->peers[w->next_peer++ % r->peer_count];
        /* not the same peer twice in a row when there is another */
        if (w->tries > 0 && r->peer_count > 1 && memcmp(to.b, w->asked.b, 32) == 0)
            to = r->peers[w->next_peer++ % r->peer_count];
    }
    struct mc_buf b;
    mc_buf_init(&b, 0);
    if (w->streamed) mc_wire_encode_get_blob_part(&b, &w->ct, w->offset);
    else mc_wire_encode_get_blob(&b, &w->ct);
    if (!b.err && mc_net_send(n->net, &to, b.data, b.len) != 0) {
        /* the peer is gone or its queue is full: the timeout moves on */
    }
    mc_buf_deinit(&b);
    bool next_piece = w->streamed && w->offset > 0 && !w->moved_on && memcmp(to.b, w->asked.b, 32) == 0;
    w->asked = to;
    w->in_flight = true;
    if (!next_piece) w->tries++; /* a try is a peer asked, not a piece */
    w->deadline_ms = mc_node__now_ms() + REPL_TIMEOUT_MS;
    r->in_flight++;
}

/* Results of the worker's jobs (loop thread, lock held). */
static void drain_done(struct mc_node *n) {
    struct mc_repl *r = n->repl;
    struct job *d[MC_REPL_JOBS_MAX];
    pthread_mutex_lock(&r->qlock);
    uint32_t dn = r->done_count;
    memcpy(d, r->done, dn * sizeof d[0]);
    r->done_count = 0;
    r->jobs -= dn;
    pthread_mutex_unlock(&r->qlock);
    for (uint32_t i = 0; i < dn; i++) {
        struct job *j = d[i];
        char hx[17];
        short_hex(hx, &j->ct);
        if (j->kind == JOB_ABORT) {
        } else if (j->kind == JOB_SERVE_PART) {
            struct mc_buf w;
            mc_buf_init(&w, 0);
            if (j->rc == 0) {
                mc_wire_encode_blob_part(&w, &j->ct, j->offset, j->total, j->bytes.data, j->bytes.len);
                if (!w.err && n->net && mc_net_send(n->net, &j->peer, w.data, w.len) == 0 &&
                    j->offset + j->bytes.len == j->total)
                    r->served++;
            }
            mc_buf_deinit(&w);
        } else if (j->kind == JOB_STORE_PART) {
            struct want *w = find(r, &j->ct);
            if (!w) { /* forgotten meanwhile (an erasure): drop what was stored */
                if (j->writer) {
                    struct job *a = job_new(JOB_ABORT, &j->ct);
                    if (a) {
                        a->writer = j->writer;
                        j->writer = NULL;
                        if (!enqueue(r, a)) mc_log_warn("repl", "cannot drop a partial download now");
                    }
                }
            } else if (j->rc) {
                mc_log_warn("repl", "streamed blob %s (record %s v%u): %s; fetching it again from another peer", hx,
                            w->id, w->version, j->why);
                if (j->rc == MC_ERR_TAMPERED) r->bad_peers++;
                w->writer = NULL; /* aborted by the worker */
                w->offset = 0;
                w->storing = false;
                w->in_flight = false;
                if (r->in_flight) r->in_flight--;
                w->asked = (mc_pubkey){{0}};
            } else if (j->finished) {
                r->fetched++;
                mc_log_info("repl", "stored streamed blob %s (record %s v%u, %llu bytes) from a peer", hx, w->id,
                            w->version, (unsigned long long)j->total);
                w->storing = false;
                remove_want(r, w);
            } else {
                w->writer = j->writer;
                j->writer = NULL;
                w->moved_on = false;
                w->offset = j->offset + j->bytes.len;
                w->storing = false;
                w->in_flight = false;
                if (r->in_flight) r->in_flight--;
            }
        } else if (j->kind == JOB_SERVE) {
            /* unknown blobs get no answer (the asker tries another peer) */
            struct mc_buf w;
            mc_buf_init(&w, 0);
            if (j->rc == 0) {
                mc_wire_encode_blob(&w, &j->ct, j->bytes.data, j->bytes.len);
                if (!w.err && n->net && mc_net_send(n->net, &j->peer, w.data, w.len) == 0) r->served++;
            }
            mc_buf_deinit(&w);
        } else if (j->kind == JOB_STORE) {
            if (j->rc) {
                mc_log_warn("repl", "cannot store blob %s: %s", hx, j->why);
            } else {
                r->fetched++;
                mc_log_info("repl", "stored blob %s (record %s v%u, %zu bytes) from a peer", hx, j->id,
                            j->version, j->bytes.len);
            }
        } else if (j->rc == MC_ERR_NOT_FOUND || j->rc == MC_ERR_TAMPERED) {
            mc_log_info("repl", "fetching a good copy of blob %s (record %s v%u) from a peer", hx, j->id,
                        j->version);
            /* a streamed blob is asked piece by piece: its size from the chain */
            uint32_t size = 0;
            struct mc_record_version v;
            if (j->streamed && mc_records_get_version(mc_app_state(n->app), j->id, j->version, &v) == 0 &&
                memcmp(v.ciphertext.b, j->ct.b, 32) == 0)
                size = v.size;
            if (!j->streamed || size) add_want(n, &j->ct, j->id, j->version, size, NULL);
        }
        job_free(j);
    }
}

void mc_repl_tick(struct mc_node *n) {
    struct mc_repl *r = n->repl;
    if (!r) return;
    /* repair requests from the API threads */
    struct repair_req q[MC_REPL_REPAIR_MAX];
    pthread_mutex_lock(&r->qlock);
    uint32_t qn = r->repair_count;
    memcpy(q, r->repair, qn * sizeof q[0]);
    r->repair_count = 0;
    pthread_mutex_unlock(&r->qlock);
    for (uint32_t i = 0; i < qn; i++) {
        /* already being fetched, or already being re-read: once is enough
         * (a streamed blob's re-read is a whole read) */
        if (find(r, &q[i].ct)) continue;
        bool queued = false;
        pthread_mutex_lock(&r->qlock);
        for (uint32_t k = 0; k < r->todo_count && !queued; k++)
            queued = r->todo[k]->kind == JOB_REPAIR && memcmp(r->todo[k]->ct.b, q[i].ct.b, 32) == 0;
        pthread_mutex_unlock(&r->qlock);
        if (queued) continue;
        struct job *j = job_new(JOB_REPAIR, &q[i].ct);
        if (!j) break;
        snprintf(j->id, sizeof j->id, "%s", q[i].id);
        j->version = q[i].version;
        (void)enqueue(r, j); /* full: the next read asks again */
    }
    drain_done(n);
    uint64_t now = mc_node__now_ms();
    for (uint32_t i = 0; i < r->count;) {
        struct want *w = &r->want[i];
        if (w->storing) { /* a piece is with the worker */
            i++;
            continue;
        }
        if (w->in_flight && now >= w->deadline_ms) {
            w->in_flight = false;
            r->in_flight--;
            w->moved_on = true;
            if (w->tries >= MC_REPL_TRIES_MAX) {
                char hx[17];
                short_hex(hx, &w->ct);
                mc_log_warn("repl", "giving up blob %s (record %s v%u) after %u requests: no peer served it",
                            hx, w->id, w->version, w->tries);
                r->given_up++;
                remove_want(r, w);
                continue;
            }
        }
        if (!w->in_flight && r->in_flight < MC_REPL_IN_FLIGHT_MAX) ask(n, w);
        i++;
    }
}

void mc_repl_on_get_blob(struct mc_node *n, const mc_pubkey *from, const mc_hash *id) {
    if (!n->repl) return;
    /* read by the worker (the tick sends the answer); a full queue drops
     * the request and the asker tries another peer after its timeout */
    struct job *j = job_new(JOB_SERVE, id);
    if (!j) return;
    j->peer = *from;
    (void)enqueue(n->repl, j);
}

void mc_repl_on_blob(struct mc_node *n, const mc_pubkey *from, const mc_hash *id,
                     const uint8_t *bytes, size_t len) {
    struct mc_repl *r = n->repl;
    if (!r) return;
    struct want *w = find(r, id);
    if (!w) return; /* not wanted (a late answer to a request already served) */
    char hx[17];
    short_hex(hx, id);
    mc_hash h;
    mc_sha256(&h, bytes, len);
    if (sodium_memcmp(h.b, id->b, 32) != 0) {
        mc_log_warn("repl", "peer sent bytes that do not hash to blob %s: dropping it", hx);
        r->bad_peers++;
        if (w->in_flight) {
            w->in_flight = false;
            r->in_flight--;
        }
        if (n->net) mc_net_drop(n->net, from, "sent a blob that does not match its hash");
        return;
    }
    /* the chain must still name it: the anchor exists, is this blob, and is
     * not erased (an erasure may have committed since it was asked for) */
    struct mc_state *st = mc_app_state(n->app);
    struct mc_record_head head;
    struct mc_record_version v;
    if (mc_records_get_head(st, w->id, &head) || head.erased ||
        mc_records_get_version(st, w->id, w->version, &v) ||
        memcmp(v.ciphertext.b, id->b, 32) != 0 || v.size != len) {
        mc_log_info("repl", "blob %s is no longer anchored live (record %s erased?): not stored", hx, w->id);
        remove_want(r, w);
        return;
    }
    /* stored by the worker; an erasure committing meanwhile wins (the
     * store refuses a purged id, and re-deletes one purged mid-upload) */
    struct job *j = job_new(JOB_STORE, id);
    if (j) {
        snprintf(j->id, sizeof j->id, "%s", w->id);
        j->version = w->version;
        mc_buf_append(&j->bytes, bytes, len);
    }
    if (!j || j->bytes.err) {
        job_free(j);
        return; /* still wanted: asked again after the timeout */
    }
    if (!enqueue(r, j)) {
        if (w->in_flight) {
            w->in_flight = false;
            r->in_flight--;
        }
        w->deadline_ms = 0; /* the queue is full: ask again on a later tick */
        return;
    }
    remove_want(r, w);
}

void mc_repl_on_get_blob_part(struct mc_node *n, const mc_pubkey *from, const mc_hash *id, uint64_t offset) {
    if (!n->repl) return;
    struct job *j = job_new(JOB_SERVE_PART, id);
    if (!j) return;
    j->peer = *from;
    j->offset = offset;
    (void)enqueue(n->repl, j);
}

void mc_repl_on_blob_part(struct mc_node *n, const mc_pubkey *from, const mc_hash *id, uint64_t offset,
                          uint64_t total, const uint8_t *bytes, size_t len) {
    struct mc_repl *r = n->repl;
    if (!r) return;
    struct want *w = find(r, id);
    /* only the piece asked for, of the peer asked, of the size anchored */
    if (!w || !w->streamed || !w->in_flight || w->storing || offset != w->offset || total != w->size ||
        memcmp(from->b, w->asked.b, 32) != 0)
        return;
    uint64_t want = total - offset < MC_BLOB_PIECE ? total - offset : MC_BLOB_PIECE;
    char hx[17];
    short_hex(hx, id);
    if (len != want) {
        mc_log_warn("repl", "peer sent a piece of blob %s of the wrong length: dropping it", hx);
        r->bad_peers++;
        if (n->net) mc_net_drop(n->net, from, "sent a blob piece of the wrong length");
        w->in_flight = false;
        r->in_flight--;
        return;
    }
    if (offset == 0) { /* the chain must still name it live (see mc_repl_on_blob) */
        struct mc_state *st = mc_app_state(n->app);
        struct mc_record_head head;
        struct mc_record_version v;
        if (mc_records_get_head(st, w->id, &head) || head.erased ||
            mc_records_get_version(st, w->id, w->version, &v) || memcmp(v.ciphertext.b, id->b, 32) != 0 ||
            v.size != total) {
            mc_log_info("repl", "blob %s is no longer anchored live (record %s erased?): not stored", hx, w->id);
            remove_want(r, w);
            return;
        }
    }
    struct job *j = job_new(JOB_STORE_PART, id);
    if (j) {
        snprintf(j->id, sizeof j->id, "%s", w->id);
        j->version = w->version;
        j->offset = offset;
        j->total = total;
        j->writer = w->writer;
        mc_buf_append(&j->bytes, bytes, len);
    }
    if (!j || j->bytes.err) {
        if (j) j->writer = NULL;
        job_free(j);
        return; /* asked again after the timeout */
    }
    if (!enqueue(r, j)) {
        w->deadline_ms = 0; /* the queue is full: ask again on a later tick */
        return;
    }
    w->writer = NULL; /* with the job; back in drain_done */
    w->storing = true;
}

int mc_node_request_blob(struct mc_node *n, const char *record_id, uint32_t version,
                         const mc_hash *ct) {
    struct mc_repl *r = n->repl;
    if (!r || !n->has_p2p || !n->running)
        return mc_err_set(MC_ERR_NOT_FOUND, "this node has no peers to fetch a good copy from");
    pthread_mutex_lock(&r->qlock);
    bool queued = false;
    for (uint32_t i = 0; i < r->repair_count; i++)
        if (memcmp(r->repair[i].ct.b, ct->b, 32) == 0) queued = true;
    if (!queued && r->repair_count < MC_REPL_REPAIR_MAX) {
        struct repair_req *q = &r->repair[r->repair_count++];
        q->ct = *ct;
        snprintf(q->id, sizeof q->id, "%s", record_id);
        q->version = version;
        queued = true;
    }
    pthread_mutex_unlock(&r->qlock);
    if (!queued) return mc_err_set(MC_ERR_FULL, "too many repairs waiting");
    uv_async_send(&n->wake_async);
    return 0;
}

void mc_repl_on_wire(struct mc_node *n, const mc_pubkey *from, const uint8_t *msg, size_t len) {
    struct mc_wire_msg m;
    if (mc_wire_decode(&m, msg, len) != 0) {
        if (n->net) mc_net_drop(n->net, from, "malformed message");
        return;
    }
    if (m.type == MC_WIRE_GET_BLOB) mc_repl_on_get_blob(n, from, &m.hash);
    else if (m.type == MC_WIRE_BLOB) mc_repl_on_blob(n, from, &m.hash, m.bytes, m.len);
    else if (m.type == MC_WIRE_GET_BLOB_PART) mc_repl_on_get_blob_part(n, from, &m.hash, m.offset);
    else if (m.type == MC_WIRE_BLOB_PART) mc_repl_on_blob_part(n, from, &m.hash, m.offset, m.total, m.bytes, m.len);
}
