/* Upgrades at a height: a passed upgrade plan (app/governance.h) names the
 * version every node needs from its height on. A node whose own version
 * (MC_VERSION, base/version.h) is older stops before it signs, proposes or
 * commits anything at that height, saying which version is required; its
 * store stays at the block before, so the replaced binary resumes there.
 * This is the one file of src/node that reads MC_VERSION, so a build of the
 * next release differs from this one only here (and in the CLI's
 * --version). */
#include <stdio.h>

#include "app/governance.h"
#include "base/log.h"
#include "base/version.h"
#include "node/node_internal.h"

const char *mc_node_version(void) { return MC_VERSION; }

bool mc_node__upgrade_halt(struct mc_node *n, uint64_t height) {
    char name[MC_GOV_UPGRADE_NAME_MAX + 1], version[MC_GOV_VERSION_MAX + 1];
    uint64_t at;
    int rc = mc_governance_upgrade_needed(mc_app_state(n->app), height, MC_VERSION, name, version, &at);
    if (rc == MC_ERR_NOT_FOUND) return false;
    if (rc) {
        /* The plans cannot be read: the store failed, which stops the node. */
        snprintf(n->halt_reason, sizeof n->halt_reason, "cannot read the upgrade plans: %s",
                 mc_err_detail());
    } else {
        snprintf(n->halt_reason, sizeof n->halt_reason,
                 "upgrade \"%s\" requires medchain %s from height %llu; this is medchain %s, "
                 "which stops before height %llu: install %s or later and start the node again",
                 name, version, (unsigned long long)at, MC_VERSION, (unsigned long long)height,
                 version);
    }
    mc_log_error("node", "%s", n->halt_reason);
    n->fatal = rc ? rc : MC_ERR_STATE;
    return true;
}
