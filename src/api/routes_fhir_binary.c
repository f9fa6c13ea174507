/* FHIR Binary: attachments (a scanned PDF, an image) uploaded and read as
 * streams, never whole in memory.
 *
 *   POST /fhir/Binary?patient=KEY   the attachment's raw bytes with their
 *        own Content-Type, signed like any write (RFC 9421; the
 *        Content-Digest is the SHA-256 of the whole body). The signature
 *        and the authoring rule are checked from the headers, before any
 *        byte is stored; each arriving piece is encrypted chunk by chunk
 *        (crypto/stream.h) into a streamed blob (blob.h: SQLite pieces, or
 *        an S3 multipart upload); at the end the body's digest is compared
 *        with the signed one, and only then is the anchor submitted
 *        (201, the Binary's metadata). A body that does not match, a
 *        store that fails, a client that goes away: nothing stays stored
 *        and no anchor is proposed.
 *   GET /fhir/Binary/{id}[/_history/{v}]   after the read path of
 *        routes_fhir_read.c (gate, policy, access log): the bytes streamed
 *        back with their content type, each chunk authenticated before it
 *        is sent and the last only once the whole ciphertext hashed to its
 *        anchor; a chunk found altered ends the response early (the client
 *        sees fewer bytes than Content-Length), is logged, and a good copy
 *        is fetched from a peer.
 * A DocumentReference points at one with content.attachment.url
 * "Binary/<id>". */
#include "api/routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/fhir.h"
#include "api/fhir_reply.h"
#include "api/gate.h"
#include "api/records_view.h"
#include "api/reply.h"
#include "app/records.h"
#include "app/records_payload.h"
#include "app/txtypes.h"
#include "base/hex.h"
#include "base/log.h"
#include "blob/blob.h"
#include "node/vault.h"

/* --- upload --- */

struct upload {
    struct mc_node *node;
    struct mc__gate g;              /* passed at the headers; its base and
                                     * signature go into the anchor */
    struct mc__gate_access a;
    mc_pubkey patient;
    char id[33];
    char type[MC_ATTACHMENT_TYPE_MAX + 1];
    struct mc_vault_upload *vu;
    int fail;
    char why[300];
};

static void upload_free(struct upload *u) {
    mc_vault_upload_abort(u->vu);
    mc__gate_release(&u->g);
    free(u);
}

static int bin_begin(struct mc_node *node, const char *param, const struct mc__api_request *req, void **ctx,
                     struct mc__api_response *res) {
    (void)param;
    *ctx = NULL;
    struct upload *u = calloc(1, sizeof *u);
    if (!u) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        return MC_ERR_NOMEM;
    }
    u->node = node;
    /* the signature is checked against the digest the request declares;
     * the body's own is compared with it at the end */
    mc__gate_check(&u->g, node, req, mc__gate_records_headers, MC__GATE_RECORDS_HEADERS);
    u->a = (struct mc__gate_access){.action = MC_ACTION_CREATE, .purpose = MC_PURPOSE_TREAT,
                                    .outcome = MC_OUTCOME_SECURITY};
    if (u->g.rc) {
        mc__gate_refuse_access(node, res, &u->g, &u->a, true, u->g.rc, u->g.why);
        goto refuse;
    }
    const char *pa = req->arg ? req->arg(req->arg_ctx, "patient") : NULL;
    if (!pa || mc__records_view_parse_patient(&u->patient, pa)) {
        mc__fhir_reply_fail(res, 422, MC_ERR_INVALID, "name the patient with ?patient=<key>");
        goto refuse;
    }
    const char *ct = req->content_type;
    if (!ct || !ct[0]) {
        mc__fhir_reply_fail(res, 415, MC_ERR_INVALID, "send the attachment with its Content-Type");
        goto refuse;
    }
    if (strncasecmp(ct, "application/fhir+json", 21) == 0 || strncasecmp(ct, "application/json", 16) == 0) {
        mc__fhir_reply_fail(res, 415, MC_ERR_INVALID,
                            "a Binary is uploaded as the attachment's raw bytes with their own Content-Type");
        goto refuse;
    }
    snprintf(u->type, sizeof u->type, "%s", ct);
    if (strlen(ct) > MC_ATTACHMENT_TYPE_MAX) {
        mc__fhir_reply_fail(res, 415, MC_ERR_INVALID, "the Content-Type exceeds %d characters", MC_ATTACHMENT_TYPE_MAX);
        goto refuse;
    }
    if (mc__api_fhir_authorise(node, res, &u->g, &u->a, &u->patient)) goto refuse;
    uint8_t r[16];
    randombytes_buf(r, sizeof r);
    mc_hex_encode(u->id, r, 16);
    int rc = mc_vault_upload_begin(mc_node_vault(node), &u->vu, u->id, 1, u->type);
    if (rc) {
        mc__fhir_reply_fail(res, rc == MC_ERR_INVALID ? 415 : 0, rc, "the attachment cannot be stored: %s",
                            mc_err_detail());
        goto refuse;
    }
    *ctx = u;
    return 0;
refuse:
    upload_free(u);
    return MC_ERR_INVALID;
}

static int bin_data(void *ctx, const uint8_t *bytes, size_t len) {
    struct upload *u = ctx;
    if (u->fail) return u->fail;
    int rc = mc_vault_upload_write(u->vu, bytes, len);
    if (rc) {
        u->fail = rc;
        snprintf(u->why, sizeof u->why, "%s", mc_err_detail());
        /* what was stored goes now, not when the rest has arrived */
        mc_vault_upload_abort(u->vu);
        u->vu = NULL;
    }
    return rc;
}

static void bin_cancel(void *ctx) {
    struct upload *u = ctx;
    mc_log_info("api", "an attachment upload (Binary/%s) was cut off by the client: nothing of it is kept", u->id);
    upload_free(u);
}

static void bin_end(struct mc_node *node, void *ctx, const struct mc__api_request *req, const mc_hash *body_sha256,
                    uint64_t body_len, struct mc__api_response *res) {
    (void)req;
    struct upload *u = ctx;
    if (u->fail) {
        mc__fhir_reply_fail(res, 0, u->fail, "the attachment was not stored: %s", u->why);
        goto out;
    }
    if (body_len == 0) {
        mc__fhir_reply_fail(res, 400, MC_ERR_MALFORMED, "the request has no body");
        goto out;
    }
    mc_hash declared;
    if (mc_httpsig_digest_parse(mc__gate_header(req, "content-digest"), &declared) ||
        sodium_memcmp(declared.b, body_sha256->b, 32) != 0) {
        u->a.patient = &u->patient;
        u->a.outcome = MC_OUTCOME_SECURITY;
        u->a.status = 401;
        mc__gate_refuse_access(node, res, &u->g, &u->a, true, MC_ERR_BAD_SIGNATURE,
                               "the body does not match its signed Content-Digest");
        goto out;
    }
    struct mc_records_payload *p = calloc(1, sizeof *p);
    if (!p) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        goto out;
    }
    uint64_t plain_size = 0;
    uint32_t size = 0;
    mc_hash ct;
    int rc = mc_vault_upload_finish(u->vu, &u->patient, p->sealed_patient, p->sealed_node, &ct, &size, &plain_size);
    u->vu = NULL;
    mc_hash txid;
    if (!rc) {
        p->type = MC_TX_RECORD_ANCHOR;
        p->patient = u->patient;
        p->author = u->g.v.key;
        p->base = u->g.v.base.data;
        p->base_len = u->g.v.base.len;
        p->sig = u->g.v.sig;
        p->sig_len = MC_SIG_BYTES;
        p->count = 1;
        snprintf(p->entries[0].id, sizeof p->entries[0].id, "%s", u->id);
        p->entries[0].type = MC_FHIR_BINARY;
        p->entries[0].version = 1;
        p->entries[0].ciphertext = ct;
        p->entries[0].size = size;
        struct mc_buf b;
        mc_buf_init(&b, 0);
        rc = mc_records_payload_encode(&b, p);
        if (!rc) rc = mc_node_submit_signed(node, MC_TX_RECORD_ANCHOR, b.data, b.len, &txid);
        mc_buf_deinit(&b);
        if (rc) {
            /* nothing anchored: the stored ciphertext is dropped */
            int saved = rc;
            char why[300];
            snprintf(why, sizeof why, "%s", mc_err_detail());
            if (mc_blob_purge(mc_node_blobs(node), &ct))
                mc_log_warn("api", "cannot drop an attachment no anchor names (the sweep removes it)");
            rc = mc_err_set(saved, "%s", why);
        }
    }
    sodium_memzero(p, sizeof *p);
    free(p);
    if (rc) {
        mc__fhir_reply_fail(res, 0, rc, "the attachment was not stored: %s", mc_err_detail());
        goto out;
    }
    char t[32];
    mc_fhir_instant(t, (uint64_t)time(NULL) * 1000);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:I}", "resourceType", "Binary", "id", u->id,
                            "contentType", u->type, "meta", "versionId", "1", "lastUpdated", t, "size",
                            (json_int_t)plain_size);
    snprintf(res->location, sizeof res->location, "/fhir/Binary/%s/_history/1", u->id);
    snprintf(res->etag, sizeof res->etag, "W/\"1\"");
    mc_hex_encode(res->access_tx, txid.b, 32);
    mc__fhir_reply_set(res, doc ? 201 : 503, doc ? doc : mc_fhir_outcome("error", "exception", "out of memory"));
out:
    upload_free(u);
}

const struct mc__api_stream mc__api_fhir_binary_upload = {
    .begin = bin_begin,
    .data = bin_data,
    .end = bin_end,
    .cancel = bin_cancel,
};

/* --- read --- */

struct download {
    struct mc_vault_download *d;
    uint64_t left;
};

static long dl_read(void *ctx, char *buf, size_t max) {
    struct download *x = ctx;
    size_t got = 0;
    while (got < max && x->left) {
        size_t n;
        if (mc_vault_download_read(x->d, (uint8_t *)buf + got, max - got, &n)) return -1; /* logged there */
        if (n == 0) break;
        got += n;
        x->left -= n;
    }
    return got ? (long)got : -1;
}

static void dl_free(void *ctx) {
    struct download *x = ctx;
    mc_vault_download_close(x->d);
    free(x);
}

void mc__api_fhir_binary_read(struct mc_node *node, const struct mc__records_view_read *r, const struct mc__gate *g,
                              struct mc__gate_access *a, const struct mc__api_request *req,
                              struct mc__api_response *res) {
    const uint8_t *sealed = r->have_batch_key || r->via_grant ? r->sealed : NULL;
    struct download *x = calloc(1, sizeof *x);
    if (!x) {
        mc__fhir_reply_fail(res, 503, MC_ERR_NOMEM, "out of memory");
        return;
    }
    char type[MC_ATTACHMENT_TYPE_MAX + 1];
    int rc = mc_vault_download_open(mc_node_vault(node), &x->d, r->id, r->version, &r->ver.ciphertext, r->ver.size,
                                    sealed, r->via_grant, type, &x->left);
    if (rc) {
        free(x);
        a->outcome = rc == MC_ERR_TAMPERED ? MC_OUTCOME_SECURITY : MC_OUTCOME_REFUSED;
        a->status = rc == MC_ERR_STATE         ? 410
                    : rc == MC_ERR_UNAVAILABLE ? 503
                    : rc == MC_ERR_MISDIRECTED ? 421
                                               : 500;
        char why[500];
        if (rc == MC_ERR_MISDIRECTED && r->elsewhere[0])
            snprintf(why, sizeof why, "%s; %s", mc_err_detail(), r->elsewhere);
        else
            snprintf(why, sizeof why, "%s", mc_err_detail());
        mc__gate_refuse_access(node, res, g, a, true, rc, why);
        return;
    }
    /* no log, no data: the success entry first */
    a->outcome = MC_OUTCOME_SUCCESS;
    a->status = 200;
    a->version = r->version;
    a->reason = r->d.break_glass ? mc__gate_header(req, "x-break-glass-reason") : "";
    mc_hash txid;
    if ((rc = mc__gate_log_access(node, g, a, &txid))) {
        dl_free(x);
        mc__gate_refuse_unlogged(node, res, g, a, true, rc);
        return;
    }
    if (x->left == 0) { /* an empty attachment: nothing to stream */
        dl_free(x);
        res->raw = malloc(1);
        res->raw_len = 0;
        res->raw_type = "application/octet-stream";
        res->status = res->raw ? 200 : 503;
        return;
    }
    mc_hex_encode(res->access_tx, txid.b, 32);
    snprintf(res->etag, sizeof res->etag, "W/\"%u\"", r->version);
    snprintf(res->stream_type, sizeof res->stream_type, "%s", type);
    res->status = 200;
    res->stream_size = x->left;
    res->stream_read = dl_read;
    res->stream_free = dl_free;
    res->stream_ctx = x;
}
