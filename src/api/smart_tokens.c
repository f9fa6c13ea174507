/* The node's SMART tokens and seen assertion ids (see smart_tokens.h). */
#include "api/smart_tokens.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "base/codec.h"

static struct {
    pthread_mutex_t lock;
    struct jti_slot {
        mc_hash h; /* SHA-256(str8 client || str8 jti); zero: free */
        int64_t until_s;
    } jtis[MC_SMART_JTI_SLOTS];
    struct mc__smart_token tokens[MC_SMART_TOKENS_MAX]; /* node NULL: free */
} st = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void jti_hash(mc_hash *h, const char *client, const char *jti) {
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_enc_str8(&b, client);
    mc_enc_str8(&b, jti);
    mc_sha256(h, b.data, b.len);
    mc_buf_deinit(&b);
}

int mc__smart_jti_use(const char *client, const char *jti, int64_t exp_s, int64_t now_s) {
    mc_hash h;
    jti_hash(&h, client, jti);
    pthread_mutex_lock(&st.lock);
    struct jti_slot *free_slot = NULL;
    int rc = 0;
    for (size_t i = 0; i < MC_SMART_JTI_SLOTS; i++) {
        struct jti_slot *s = &st.jtis[i];
        bool live = s->until_s >= now_s && !sodium_is_zero(s->h.b, 32);
        if (live && memcmp(s->h.b, h.b, 32) == 0) {
            rc = MC_ERR_EXISTS;
            break;
        }
        if (!live && !free_slot) free_slot = s;
    }
    if (rc == 0) {
        if (!free_slot) rc = MC_ERR_FULL;
        else {
            free_slot->h = h;
            free_slot->until_s = exp_s;
        }
    }
    pthread_mutex_unlock(&st.lock);
    return rc;
}

int mc__smart_token_put(const struct mc__smart_token *t, int64_t now_ms) {
    pthread_mutex_lock(&st.lock);
    struct mc__smart_token *free_slot = NULL;
    size_t of_client = 0;
    for (size_t i = 0; i < MC_SMART_TOKENS_MAX; i++) {
        struct mc__smart_token *s = &st.tokens[i];
        if (s->node && s->expiry_ms < now_ms) memset(s, 0, sizeof *s);
        if (!s->node) {
            if (!free_slot) free_slot = s;
        } else if (s->node == t->node && strcmp(s->client, t->client) == 0) {
            of_client++;
        }
    }
    int rc = 0;
    if (!free_slot || of_client >= MC_SMART_TOKENS_PER_CLIENT) rc = MC_ERR_FULL;
    else *free_slot = *t;
    pthread_mutex_unlock(&st.lock);
    return rc;
}

int mc__smart_token_find(const struct mc_node *node, const char *token, int64_t now_ms,
                         struct mc__smart_token *out) {
    mc_hash h;
    mc_sha256(&h, token, strlen(token));
    int rc = MC_ERR_NOT_FOUND;
    pthread_mutex_lock(&st.lock);
    for (size_t i = 0; i < MC_SMART_TOKENS_MAX; i++) {
        struct mc__smart_token *s = &st.tokens[i];
        if (s->node != node || sodium_memcmp(s->token_hash.b, h.b, 32) != 0) continue;
        if (s->expiry_ms < now_ms) {
            memset(s, 0, sizeof *s);
            break;
        }
        *out = *s;
        rc = 0;
        break;
    }
    pthread_mutex_unlock(&st.lock);
    return rc;
}

void mc__smart_forget_node(const struct mc_node *node) {
    pthread_mutex_lock(&st.lock);
    for (size_t i = 0; i < MC_SMART_TOKENS_MAX; i++)
        if (st.tokens[i].node == node) memset(&st.tokens[i], 0, sizeof st.tokens[i]);
    pthread_mutex_unlock(&st.lock);
}

bool mc__smart_token_covers(const struct mc__smart_token *t, const char *type, uint8_t perm) {
    for (size_t i = 0; i < t->nscopes; i++) {
        const struct mc_smart_scope *s = &t->scopes[i];
        if ((strcmp(s->type, "*") == 0 || strcmp(s->type, type) == 0) && (s->perms & perm) == perm) return true;
    }
    return false;
}
