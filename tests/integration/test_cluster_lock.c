/* A validator killed with kill -9 while locked comes back able to justify
 * its lock: after the restart it relays the prevotes of others that made
 * it lock (its proof-of-lock, kept in its consensus WAL), so a peer that
 * never saw them can accept its re-proposal. Without that, a locked
 * validator holding over a third of the power stalls its height for good
 * (the simulator's seeds 1174, 7102, 9397 and 12516).
 *
 * One real node process (node0, a validator of four); the other three
 * validators are this test, on one transport connection with node3's key,
 * signing votes with their keys. The test moves node0 to the first round
 * it proposes in (precommits for nil in the earlier rounds), prevotes its
 * block from two validators, so node0 locks and precommits it, then kills
 * and restarts node0 and waits for those two prevotes to come back from it.
 * The test never sends them again. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "../support/proc.h"
#include "../support/testutil.h"
#include "app/genesis.h"
#include "consensus/consensus.h"
#include "crypto/keyfile.h"
#include "net/transport.h"
#include "node/node.h"
#include "node/wire.h"

#define NODES 4
#define REGION 11 /* port region of this test (test_cluster.c 0..7, test_cluster_blobs.c 8) */
#define CHAIN "medchain-lock"

struct fake {
    struct mc_net *net;
    struct mc_keypair transport_key;  /* node3's node key */
    struct mc_keypair val_key[NODES]; /* by validator index; node0's unused */
    struct mc_genesis genesis;
    int me;                           /* node0's validator index */
    int others[NODES - 1];            /* the validators this test plays */
    uint32_t lock_round;              /* first round of height 1 node0 proposes in */
    bool connected;
    mc_pubkey node0;                  /* its transport key, once connected */
    bool pushed;                      /* the earlier rounds' precommits were sent */
    /* what node0 sent */
    bool proposed;
    mc_hash block;
    bool precommitted;                /* node0 precommitted the block: it is locked */
    bool relayed[NODES];              /* after the restart: others' prevotes for the block */
    bool restarted;
};

static struct mc_vote signed_vote(struct fake *f, int who, uint8_t type, uint32_t round,
                                  const mc_hash *block) {
    struct mc_vote v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = 1;
    v.round = round;
    v.has_block = block != NULL;
    if (block) v.block_hash = *block;
    v.validator = (uint16_t)who;
    mc_vote_sign(&v, &f->val_key[who], CHAIN);
    return v;
}

static void send_vote(struct fake *f, const mc_pubkey *to, const struct mc_vote *v) {
    struct mc_buf w;
    mc_buf_init(&w, 0);
    mc_wire_encode_vote(&w, v);
    cr_assert_eq(mc_net_send(f->net, to, w.data, w.len), 0);
    mc_buf_deinit(&w);
}

static bool fake_member(void *ctx, const mc_pubkey *k) { return true; }

static void fake_msg(void *ctx, const mc_pubkey *from, const uint8_t *m, size_t len) {
    struct fake *f = ctx;
    struct mc_wire_msg w;
    if (mc_wire_decode(&w, m, len) != 0) return;
    if (w.type == MC_WIRE_PROPOSAL && w.proposal.height == 1 &&
        w.proposal.round == f->lock_round && w.proposal.proposer == f->me && !f->proposed) {
        /* two of us prevote node0's block: with its own prevote, 3 of 4 */
        f->proposed = true;
        f->block = w.proposal.block_hash;
        for (int k = 0; k < 2; k++) {
            struct mc_vote v = signed_vote(f, f->others[k], MC_VOTE_PREVOTE, f->lock_round, &f->block);
            send_vote(f, from, &v);
        }
        return;
    }
    if (w.type != MC_WIRE_VOTE || w.vote.height != 1 || w.vote.round != f->lock_round ||
        !f->proposed || !w.vote.has_block || memcmp(w.vote.block_hash.b, f->block.b, 32) != 0)
        return;
    if (w.vote.type == MC_VOTE_PRECOMMIT && w.vote.validator == f->me) f->precommitted = true;
    if (w.vote.type == MC_VOTE_PREVOTE && f->restarted && w.vote.validator != f->me &&
        w.vote.validator < NODES && mc_vote_verify(&w.vote, &f->genesis.valset, CHAIN) == 0)
        f->relayed[w.vote.validator] = true;
}

static void fake_peer(void *ctx, const mc_pubkey *peer, bool up) {
    struct fake *f = ctx;
    f->connected = up;
    if (up) f->node0 = *peer;
}

/* Moves node0 to its proposer round: 2/3+ precommits for nil in every
 * earlier round (it skips ahead on f+1, then times out on 2/3+). Sent a
 * moment after the connection is up, not from the callback: the initiator
 * is up before the responder has checked its AUTH, and the responder
 * refuses more than MC_NET_PREAUTH_BYTES arriving before that. */
static void push_rounds(struct fake *f) {
    for (uint32_t r = 0; r < f->lock_round; r++)
        for (int k = 0; k < NODES - 1; k++) {
            struct mc_vote v = signed_vote(f, f->others[k], MC_VOTE_PRECOMMIT, r, NULL);
            send_vote(f, &f->node0, &v);
        }
    f->pushed = true;
}

Test(cluster, a_validator_killed_while_locked_relays_its_proof_of_lock, .timeout = 120) {
    /* the transport writes to sockets of a node this test kills */
    signal(SIGPIPE, SIG_IGN);
    mc_crypto_init();
    char *dir = tu_path(tu_tmpdir("lock"), "net");
    int api = tp_free_run(NODES, 2 * REGION), p2p = tp_free_run(NODES, 2 * REGION + 1);
    char *out;
    int rc = tp_run(&out, "%s testnet --validators %d --dir %s --api-port %d --p2p-port %d "
                    "--chain-id %s", tp_bin(), NODES, dir, api, p2p, CHAIN);
    cr_assert_eq(rc, 0, "testnet: %s", out);
    free(out);

    static struct fake f;
    memset(&f, 0, sizeof f);
    char path[700];
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    cr_assert_eq(mc_node_genesis_load(&f.genesis, path), 0);
    f.me = -1;
    for (int i = 0; i < NODES; i++) {
        struct mc_keypair k;
        snprintf(path, sizeof path, "%s/node%d/node_key.json", dir, i);
        cr_assert_eq(mc_keyfile_read(&k, path, NULL), 0);
        int idx = mc_valset_find(&f.genesis.valset, &k.pk);
        cr_assert(idx >= 0 && idx < NODES, "node%d is a validator", i);
        f.val_key[idx] = k;
        if (i == 0) f.me = idx;
        if (i == 3) f.transport_key = k;
    }
    for (int i = 0, k = 0; i < NODES; i++)
        if (i != f.me) f.others[k++] = i;
    while (mc_consensus_proposer(&f.genesis.valset, 1, f.lock_round) != (uint16_t)f.me)
        f.lock_round++;

    char home[700];
    snprintf(home, sizeof home, "%s/node0", dir);
    pid_t pid = tp_node_start(home, api);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct mc_net_config cfg = {.chain_id = CHAIN, .node_key = &f.transport_key,
                                .is_member = fake_member, .on_message = fake_msg,
                                .on_peer = fake_peer, .ctx = &f};
    cr_assert_eq(mc_net_start(&f.net, &loop, &cfg), 0);
    cr_assert_eq(mc_net_dial(f.net, "127.0.0.1", (uint16_t)p2p), 0);

    int up_for = 0;
    for (int i = 0; i < 40 * 200 && !f.precommitted; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(5000);
        up_for = f.connected ? up_for + 1 : 0;
        if (up_for == 40 && !f.pushed) push_rounds(&f);
    }
    cr_assert(f.proposed, "node0 proposed in round %u", f.lock_round);
    cr_assert(f.precommitted, "node0 locked on its block and precommitted it in round %u",
              f.lock_round);

    /* kill -9 while locked, then restart: the test sends nothing more */
    tp_kill(pid, SIGKILL);
    for (int i = 0; i < 400 && f.connected; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(5000);
    }
    f.restarted = true;
    pid = tp_node_start(home, api);
    bool both = false;
    for (int i = 0; i < 30 * 200 && !both; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(5000);
        both = f.relayed[f.others[0]] && f.relayed[f.others[1]];
    }
    cr_assert(both, "after the restart node0 relays the prevotes of validators %d and %d that "
                    "justify its lock (got %d, %d)",
              f.others[0], f.others[1], f.relayed[f.others[0]], f.relayed[f.others[1]]);

    mc_net_stop(f.net);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0);
    tp_kill(pid, SIGTERM);
}
