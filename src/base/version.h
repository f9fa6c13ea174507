/* The software version of this build of medchain.
 *
 * MC_VERSION is the release this source tree is (semantic versioning:
 * major.minor.patch). It is what `medchain --version` prints and what an
 * operator compares with a planned upgrade. The wire and signing domains
 * carry their own protocol version ("medchain/v1/..."), which changes only
 * when old and new nodes could no longer agree. A build may define
 * MC_VERSION itself: the upgrade test builds build/medchain-next as a later
 * release (MC_NEXT_VERSION in the Makefile) from the same source. */
#ifndef MC_BASE_VERSION_H
#define MC_BASE_VERSION_H

#ifndef MC_VERSION
#define MC_VERSION "0.2.0"
#endif
#define MC_PROTOCOL_VERSION 1

#endif
