/* A throwaway Ceph RADOS Gateway for tests: scripts/rgw.sh in a temporary
 * folder, on a free loopback port, stopped by its pid files. */
#ifndef MC_TESTS_RGW_H
#define MC_TESTS_RGW_H

#include <stdbool.h>

#include "blob/s3.h"

#define TP_RGW_ACCESS "MEDCHAINTESTACCESS"
#define TP_RGW_SECRET "medchain-test-secret-key-0123456789"

struct tp_rgw {
    char dir[512];
    int port;
    char endpoint[64];   /* http://127.0.0.1:PORT */
};

/* Starts one (asserts it answers S3 within the script's bounds). */
void tp_rgw_start(struct tp_rgw *r);
/* Stops every daemon; safe to call twice. */
void tp_rgw_stop(struct tp_rgw *r);
/* Stops or restarts only radosgw (the cluster and its data stay). */
void tp_rgw_gateway_stop(struct tp_rgw *r);
void tp_rgw_gateway_start(struct tp_rgw *r);
/* Pauses (SIGSTOP) or resumes radosgw: connections open, nothing answers. */
void tp_rgw_gateway_pause(struct tp_rgw *r, bool paused);
/* A client configuration for bucket on r (short timeouts, 1 retry). */
void tp_rgw_config(const struct tp_rgw *r, struct mc_s3_config *c, const char *bucket);
/* Writes HOME/s3-credentials.json (mode 0600) and adds an S3 "blob_store"
 * for bucket to HOME/config.json. */
void tp_rgw_configure_node(const struct tp_rgw *r, const char *home, const char *bucket);

#endif
