/* `medchain testnet`: writes a ready consortium on this machine.
 *
 * DIR/genesis.json               the consortium's genesis
 * DIR/nodeI/                     one home per node (validators first, then
 *                                member nodes), each with genesis.json,
 *                                node_key.json, its organisation's
 *                                admin_key.json and config.json naming its
 *                                own loopback API and peer ports and every
 *                                other node as a peer.
 *
 * Organisations, in order: two hospitals, a manufacturer and a regulator
 * (the first four validators; more validators get further hospitals), then
 * with members: a pharmacy, a research institute and a distributor, each
 * with a member node that does not vote. Every organisation gets a valid
 * GLN. */
#ifndef MC_NODE_TESTNET_H
#define MC_NODE_TESTNET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"

struct mc_testnet_options {
    const char *dir;
    uint32_t validators;          /* 1 .. 16 */
    bool members;                 /* add pharmacy, research, distributor nodes */
    const char *chain_id;         /* default "medchain-testnet" */
    const char *host;             /* default "127.0.0.1" */
    uint16_t api_port;            /* first API port, default 7700 */
    uint16_t p2p_port;            /* first peer port, default 26600 */
    uint64_t genesis_time_ms;     /* 0: now */
};

struct mc_testnet_node {
    char name[64];
    char org[MC_NAME_MAX];
    char home[512];
    char api[64];
    char p2p[64];
    bool validator;
};

struct mc_testnet {
    uint32_t count;
    struct mc_testnet_node nodes[MC_TESTNET_NODES_MAX];
};

MC_MUST_CHECK int mc_testnet_create(const struct mc_testnet_options *opt, struct mc_testnet *out);

#endif
