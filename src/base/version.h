/* The software version of this build of medchain.
 *
 * MC_VERSION is the release this source tree is (semantic versioning:
 * major.minor.patch). It is what `medchain --version` prints and what an
 * operator compares with a planned upgrade. The wire and signing domains
 * carry their own protocol version ("medchain/v1/..."), which changes only
 * when old and new nodes could no longer agree. */
#ifndef MC_BASE_VERSION_H
#define MC_BASE_VERSION_H

#define MC_VERSION "0.2.0"
#define MC_PROTOCOL_VERSION 1

#endif
