/* libFuzzer target for the bytes the audit export and the Subscriptions
 * read back: a stored subscription (node-local rows, from disk:
 * node/subscription.h), the signature base an access entry carries (from
 * the ledger: node/balp.h) and the rest-hook endpoint a client names.
 *
 * The first byte picks the parser. Properties: nothing crashes; a
 * subscription that decodes re-encodes to the same bytes (one encoding);
 * what a signature base gives is printable ASCII and fits its fields; an
 * AuditEvent rendered from it frames within the syslog bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "node/balp.h"
#include "node/notify.h"
#include "node/subscription.h"
#include "node/syslog.h"

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_notify: property broken: %s\n", what);
        abort();
    }
}

static void printable(const char *s) {
    for (; *s; s++) check(*s >= 0x20 && *s <= 0x7e, "a field of the signature base is not printable");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mc_crypto_init();
    if (size < 1 || size > 16 * 1024) return 0;
    switch (data[0] % 3) {
    case 0: {
        struct mc_subscription s;
        if (mc_subscription_decode(&s, data + 1, size - 1) == 0) {
            struct mc_buf b;
            mc_buf_init(&b, 0);
            mc_subscription_encode(&b, &s);
            check(b.len == size - 1 && memcmp(b.data, data + 1, b.len) == 0, "re-encoding differs");
            mc_buf_deinit(&b);
        }
        break;
    }
    case 1: {
        struct mc_balp_access *a = calloc(1, sizeof *a);
        mc_balp_parse_sigbase(a, data + 1, size - 1);
        printable(a->method);
        printable(a->host);
        printable(a->target);
        a->e.action = MC_ACTION_SEARCH;
        struct mc_buf b;
        mc_buf_init(&b, 0);
        check(mc_syslog_frame(&b, a, 1, 0, "h") == 0, "an entry does not frame");
        check(b.len <= MC_SYSLOG_MSG_MAX + 8, "a frame passes the bound");
        mc_buf_deinit(&b);
        free(a);
        break;
    }
    default: {
        char *s = malloc(size);
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;
        (void)mc_notify_endpoint_ok(s);
        free(s);
        break;
    }
    }
    return 0;
}
