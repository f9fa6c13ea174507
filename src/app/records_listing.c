/* One access entry for a listing (see records_listing.h). */
#include "app/records_listing.h"

#include <stdio.h>
#include <string.h>

#include "base/codec.h"
#include "base/hex.h"
#include "base/limits.h"
#include "crypto/merkle.h"

void mc_records_listing_leaf(mc_hash *out, const struct mc_records_served *s) {
    uint8_t buf[1 + MC_RECORD_ID_MAX + 4 + 32];
    size_t n = strnlen(s->id, MC_RECORD_ID_MAX);
    buf[0] = (uint8_t)n;
    memcpy(buf + 1, s->id, n);
    buf[1 + n] = (uint8_t)(s->version >> 24);
    buf[2 + n] = (uint8_t)(s->version >> 16);
    buf[3 + n] = (uint8_t)(s->version >> 8);
    buf[4 + n] = (uint8_t)s->version;
    memcpy(buf + 5 + n, s->ciphertext.b, 32);
    mc_merkle_leaf_hash(out, buf, 5 + n + 32);
}

struct leaves {
    const struct mc_records_served *s;
};

static int leaf_at(void *ctx, uint64_t i, mc_hash *out) {
    const struct leaves *l = ctx;
    mc_records_listing_leaf(out, &l->s[i]);
    return 0;
}

void mc_records_listing_root(mc_hash *out, const struct mc_records_served *s, size_t n) {
    struct leaves l = {.s = s};
    /* leaf_at never fails, so neither does the root */
    if (mc_merkle_root(out, n, leaf_at, &l)) memset(out->b, 0, 32);
}

void mc_records_decide_listing(struct mc_state *st, const mc_pubkey *requester, const mc_pubkey *patient,
                               struct mc_access_decision *out) {
    mc_records_decide_patient_view(st, requester, patient, out);
    if (out->allowed && memcmp(requester->b, patient->b, 32) != 0) {
        out->allowed = false;
        out->status = 403;
        snprintf(out->reason, sizeof out->reason, "%s",
                 "only the patient is served her records' ciphertexts in one listing; others read each record");
    }
}

static const char prefix[] = "listing: ";

void mc_records_listing_reason(char out[MC_RECORDS_LISTING_REASON_MAX], size_t served, size_t total,
                               const mc_hash *root) {
    char h[65];
    mc_hex_encode(h, root->b, 32);
    snprintf(out, MC_RECORDS_LISTING_REASON_MAX, "%s%zu of %zu records served; root %s", prefix, served, total, h);
}

static int count(const char **p, size_t *out) {
    const char *s = *p;
    if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9')) return MC_ERR_MALFORMED;
    size_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > 100000000) return MC_ERR_MALFORMED;
        v = v * 10 + (size_t)(*s - '0');
    }
    *out = v;
    *p = s;
    return 0;
}

int mc_records_listing_parse(const char *reason, size_t *served, size_t *total, mc_hash *root) {
    const char *p = reason;
    if (!p || strncmp(p, prefix, sizeof prefix - 1)) return MC_ERR_MALFORMED;
    p += sizeof prefix - 1;
    if (count(&p, served) || strncmp(p, " of ", 4)) return MC_ERR_MALFORMED;
    p += 4;
    if (count(&p, total) || strncmp(p, " records served; root ", 22)) return MC_ERR_MALFORMED;
    p += 22;
    if (strlen(p) != 64 || *served > *total) return MC_ERR_MALFORMED;
    for (const char *c = p; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) return MC_ERR_MALFORMED;
    return mc_hex_decode(root->b, 32, p) ? MC_ERR_MALFORMED : 0;
}
