/* A loopback TCP proxy for partition tests: each link forwards a listening
 * port to a target port, and can be cut (existing connections closed, new
 * ones refused) and healed. One thread serves all links with poll(). */
#ifndef MC_TESTS_PROXY_H
#define MC_TESTS_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct tproxy;

struct tproxy *tproxy_start(void);
/* Adds a link listening on a free port (returned) forwarding to target. */
int tproxy_link(struct tproxy *p, uint16_t target_port);
void tproxy_cut(struct tproxy *p, int port, bool cut); /* port: the link's listening port */
/* Connections being forwarded now (for diagnostics). */
int tproxy_pair_count(struct tproxy *p);
void tproxy_dump(struct tproxy *p, FILE *out);
void tproxy_stop(struct tproxy *p);

#endif
