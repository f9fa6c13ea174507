/* Genesis: the consortium's founding document.
 *
 * JSON form (the file operators exchange):
 *   {"chain_id": "medchain-demo",
 *    "genesis_time_ms": 1764201600000,
 *    "organisations": [{"id": 1, "name": "St Mary's Hospital", "kind": "hospital",
 *                       "gln": "5412345000013", "admin_key": "<hex32>"}, ...],
 *    "validators": [{"name": "node0", "org": 1, "node_key": "<hex32>", "power": 10}, ...],
 *    "nodes": [{"name": "pharmacy-node", "org": 5, "node_key": "<hex32>"}, ...]}
 * "nodes" (optional) lists the member nodes that are not validators: they
 * may connect to the consortium and follow the chain, but do not vote.
 *
 * Canonical form (hashed; block 1's prev is this hash):
 *   | str8 chain_id | u64 genesis_time_ms | u16 n_orgs | n x org record |
 *   | valset | u16 n | n x u32 validator org |
 *   | u16 m | m x ( pubkey | str8 name | u32 org ) |        member nodes
 * where org record is identity.h's canonical org encoding. */
#ifndef MC_APP_GENESIS_H
#define MC_APP_GENESIS_H

#include <stdint.h>

#include "app/identity.h"
#include "base/limits.h"
#include "chain/valset.h"

struct mc_genesis {
    char chain_id[MC_CHAIN_ID_MAX + 1];
    uint64_t time_ms;
    uint32_t org_count;
    struct mc_org orgs[MC_GENESIS_ORGS_MAX];
    struct mc_valset valset;
    uint32_t validator_org[MC_VALIDATORS_MAX];
    uint32_t node_count;                   /* member nodes that do not vote */
    struct mc_genesis_node {
        mc_pubkey key;
        char name[MC_NAME_MAX];
        uint32_t org;
    } nodes[MC_GENESIS_NODES_MAX];
};

/* Is key a node of the consortium (validator or member node)? */
bool mc_genesis_is_node(const struct mc_genesis *g, const mc_pubkey *key);

/* Parses and validates the JSON form (unique ids and keys, known kinds,
 * validators' orgs exist, chain id charset [a-z0-9-._]). */
MC_MUST_CHECK int mc_genesis_parse(struct mc_genesis *g, const char *json, size_t len);
/* Writes the JSON form (malloc'd, NUL-terminated; caller frees). */
char *mc_genesis_to_json(const struct mc_genesis *g);
void mc_genesis_hash(const struct mc_genesis *g, mc_hash *out);

#endif
