/* Genesis parsing, validation, JSON output and hashing (formats in genesis.h). */
#include "app/genesis.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/hex.h"

static int fail(const char *what) { return mc_err_set(MC_ERR_INVALID, "genesis: %s", what); }

static bool chain_id_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > MC_CHAIN_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
            return false;
    }
    return true;
}

static int get_key(mc_pubkey *pk, json_t *obj, const char *field) {
    const char *hex = json_string_value(json_object_get(obj, field));
    if (!hex || mc_hex_decode(pk->b, 32, hex)) return mc_err_set(MC_ERR_INVALID, "genesis: %s must be 64 hex digits", field);
    return 0;
}

int mc_genesis_parse(struct mc_genesis *g, const char *text, size_t len) {
    memset(g, 0, sizeof *g);
    if (len > MC_GENESIS_MAX) return mc_err_set(MC_ERR_TOO_LARGE, "genesis: larger than %d bytes", MC_GENESIS_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return mc_err_set(MC_ERR_MALFORMED, "genesis: JSON error at line %d: %s", jerr.line, jerr.text);
    int rc = 0;
    const char *cid = json_string_value(json_object_get(root, "chain_id"));
    json_t *t = json_object_get(root, "genesis_time_ms");
    json_t *orgs = json_object_get(root, "organisations");
    json_t *vals = json_object_get(root, "validators");
    if (!cid || !chain_id_ok(cid)) { rc = fail("chain_id must be 1-64 chars of [a-z0-9-._]"); goto out; }
    snprintf(g->chain_id, sizeof g->chain_id, "%s", cid);
    if (!json_is_integer(t) || json_integer_value(t) < 0) { rc = fail("genesis_time_ms must be a non-negative integer"); goto out; }
    g->time_ms = (uint64_t)json_integer_value(t);
    if (!json_is_array(orgs) || json_array_size(orgs) == 0 || json_array_size(orgs) > MC_GENESIS_ORGS_MAX) { rc = fail("organisations must be a non-empty array (at most 64)"); goto out; }
    if (!json_is_array(vals) || json_array_size(vals) == 0 || json_array_size(vals) > MC_VALIDATORS_MAX) { rc = fail("validators must be a non-empty array"); goto out; }
    size_t i;
    json_t *o;
    json_array_foreach(orgs, i, o) {
        struct mc_org *org = &g->orgs[i];
        json_t *id = json_object_get(o, "id");
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *kind = json_string_value(json_object_get(o, "kind"));
        const char *gln = json_string_value(json_object_get(o, "gln"));
        if (!json_is_integer(id) || json_integer_value(id) < 1 || json_integer_value(id) > UINT32_MAX) { rc = fail("organisation id must be a positive integer"); goto out; }
        org->id = (uint32_t)json_integer_value(id);
        if (!name || !*name || strlen(name) >= MC_NAME_MAX) { rc = fail("organisation name missing or too long"); goto out; }
        snprintf(org->name, sizeof org->name, "%s", name);
        if (!kind || !(org->kind = mc_org_kind_from_name(kind))) { rc = fail("organisation kind unknown"); goto out; }
        if (gln) {
            if (strlen(gln) != 13 || strspn(gln, "0123456789") != 13) { rc = fail("gln must be 13 digits"); goto out; }
            snprintf(org->gln, sizeof org->gln, "%s", gln);
        }
        if ((rc = get_key(&org->admin, o, "admin_key"))) goto out;
        for (size_t j = 0; j < i; j++) {
            if (g->orgs[j].id == org->id) { rc = fail("duplicate organisation id"); goto out; }
            if (memcmp(g->orgs[j].admin.b, org->admin.b, 32) == 0) { rc = fail("two organisations share an admin key"); goto out; }
        }
        g->org_count++;
    }
    json_array_foreach(vals, i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        json_t *org = json_object_get(o, "org"), *power = json_object_get(o, "power");
        mc_pubkey pk;
        if (!name || !*name || strlen(name) >= MC_NAME_MAX) { rc = fail("validator name missing or too long"); goto out; }
        if ((rc = get_key(&pk, o, "node_key"))) goto out;
        if (!json_is_integer(power) || json_integer_value(power) < 1 || json_integer_value(power) > 1000000) { rc = fail("validator power must be 1..1000000"); goto out; }
        if (!json_is_integer(org)) { rc = fail("validator org must be an organisation id"); goto out; }
        uint32_t oid = (uint32_t)json_integer_value(org);
        bool found = false;
        for (uint32_t j = 0; j < g->org_count; j++) {
            if (g->orgs[j].id == oid) found = true;
            if (memcmp(g->orgs[j].admin.b, pk.b, 32) == 0) { rc = fail("a node key must differ from admin keys"); goto out; }
        }
        if (!found) { rc = fail("validator names an unknown organisation"); goto out; }
        if (mc_valset_add(&g->valset, &pk, (uint64_t)json_integer_value(power), name)) { rc = fail("duplicate validator key"); goto out; }
        g->validator_org[i] = oid;
    }
    json_t *nodes = json_object_get(root, "nodes");
    if (nodes && (!json_is_array(nodes) || json_array_size(nodes) > MC_GENESIS_NODES_MAX)) { rc = fail("nodes must be an array (at most 64)"); goto out; }
    json_array_foreach(nodes, i, o) {
        struct mc_genesis_node *nd = &g->nodes[i];
        const char *name = json_string_value(json_object_get(o, "name"));
        json_t *org = json_object_get(o, "org");
        if (!name || !*name || strlen(name) >= MC_NAME_MAX) { rc = fail("node name missing or too long"); goto out; }
        snprintf(nd->name, sizeof nd->name, "%s", name);
        if ((rc = get_key(&nd->key, o, "node_key"))) goto out;
        if (!json_is_integer(org)) { rc = fail("node org must be an organisation id"); goto out; }
        nd->org = (uint32_t)json_integer_value(org);
        bool found = false;
        for (uint32_t j = 0; j < g->org_count; j++) {
            if (g->orgs[j].id == nd->org) found = true;
            if (memcmp(g->orgs[j].admin.b, nd->key.b, 32) == 0) { rc = fail("a node key must differ from admin keys"); goto out; }
        }
        if (!found) { rc = fail("node names an unknown organisation"); goto out; }
        if (mc_genesis_is_node(g, &nd->key)) { rc = fail("duplicate node key"); goto out; }
        g->node_count++;
    }
out:
    json_decref(root);
    return rc;
}

char *mc_genesis_to_json(const struct mc_genesis *g) {
    json_t *root = json_object(), *orgs = json_array(), *vals = json_array();
    char hex[65];
    json_object_set_new(root, "chain_id", json_string(g->chain_id));
    json_object_set_new(root, "genesis_time_ms", json_integer((json_int_t)g->time_ms));
    for (uint32_t i = 0; i < g->org_count; i++) {
        const struct mc_org *o = &g->orgs[i];
        json_t *jo = json_object();
        json_object_set_new(jo, "id", json_integer(o->id));
        json_object_set_new(jo, "name", json_string(o->name));
        json_object_set_new(jo, "kind", json_string(mc_org_kind_name(o->kind)));
        if (o->gln[0]) json_object_set_new(jo, "gln", json_string(o->gln));
        mc_hex_encode(hex, o->admin.b, 32);
        json_object_set_new(jo, "admin_key", json_string(hex));
        json_array_append_new(orgs, jo);
    }
    for (uint32_t i = 0; i < g->valset.count; i++) {
        const struct mc_validator *v = &g->valset.v[i];
        json_t *jv = json_object();
        json_object_set_new(jv, "name", json_string(v->name));
        json_object_set_new(jv, "org", json_integer(g->validator_org[i]));
        mc_hex_encode(hex, v->pk.b, 32);
        json_object_set_new(jv, "node_key", json_string(hex));
        json_object_set_new(jv, "power", json_integer((json_int_t)v->power));
        json_array_append_new(vals, jv);
    }
    json_object_set_new(root, "organisations", orgs);
    json_object_set_new(root, "validators", vals);
    if (g->node_count) {
        json_t *nodes = json_array();
        for (uint32_t i = 0; i < g->node_count; i++) {
            json_t *jn = json_object();
            json_object_set_new(jn, "name", json_string(g->nodes[i].name));
            json_object_set_new(jn, "org", json_integer(g->nodes[i].org));
            mc_hex_encode(hex, g->nodes[i].key.b, 32);
            json_object_set_new(jn, "node_key", json_string(hex));
            json_array_append_new(nodes, jn);
        }
        json_object_set_new(root, "nodes", nodes);
    }
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}

void mc_genesis_hash(const struct mc_genesis *g, mc_hash *out) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_enc_str8(&b, g->chain_id);
    mc_enc_u64(&b, g->time_ms);
    mc_enc_u16(&b, (uint16_t)g->org_count);
    for (uint32_t i = 0; i < g->org_count; i++) mc_org_encode(&b, &g->orgs[i]);
    mc_valset_encode(&b, &g->valset);
    mc_enc_u16(&b, (uint16_t)g->valset.count);
    for (uint32_t i = 0; i < g->valset.count; i++) mc_enc_u32(&b, g->validator_org[i]);
    mc_enc_u16(&b, (uint16_t)g->node_count);
    for (uint32_t i = 0; i < g->node_count; i++) {
        mc_enc_fixed(&b, g->nodes[i].key.b, 32);
        mc_enc_str8(&b, g->nodes[i].name);
        mc_enc_u32(&b, g->nodes[i].org);
    }
    MC_ASSERT(b.err == 0); /* a parsed genesis is within every field bound */
    mc_sha256(out, b.data, b.len);
    mc_buf_deinit(&b);
}

bool mc_genesis_is_node(const struct mc_genesis *g, const mc_pubkey *key) {
    if (mc_valset_find(&g->valset, key) >= 0) return true;
    for (uint32_t i = 0; i < g->node_count; i++)
        if (memcmp(g->nodes[i].key.b, key->b, 32) == 0) return true;
    return false;
}
