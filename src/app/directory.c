/* The members' directory (see directory.h). */
#include "app/directory.h"

#include <string.h>

#include "base/err.h"

#define WORDS_MAX 8

bool mc_directory_listed(const struct mc_account *a) {
    return a->status == MC_ACCOUNT_ACTIVE && a->org != 0 && a->role != MC_ROLE_PATIENT &&
           a->role != MC_ROLE_NODE && a->role >= 1 && a->role <= MC_ROLE_MAX;
}

static char fold(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Case-folded substring test of word (length n) in s. */
static bool contains(const char *s, const char *word, size_t n) {
    size_t len = strlen(s);
    for (size_t i = 0; i + n <= len; i++) {
        size_t j = 0;
        while (j < n && fold(s[i + j]) == fold(word[j])) j++;
        if (j == n) return true;
    }
    return false;
}

static int name_cmp(const struct mc_directory_entry *a, const struct mc_directory_entry *b) {
    const char *x = a->account.name, *y = b->account.name;
    for (;; x++, y++) {
        char cx = fold(*x), cy = fold(*y);
        if (cx != cy) return (unsigned char)cx < (unsigned char)cy ? -1 : 1;
        if (!cx) break;
    }
    return memcmp(a->account.key.b, b->account.key.b, 32);
}

struct search {
    struct mc_state *st;
    const struct mc_directory_query *q;
    const char *word[WORDS_MAX];
    size_t wlen[WORDS_MAX], nwords;
    struct mc_directory_entry *out;
    size_t n;
    bool more;
    struct mc_directory_entry cand;
};

static int row(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen) {
    struct search *s = ctx;
    if (klen != 34) return 0;
    mc_pubkey pk;
    memcpy(pk.b, key + 2, 32);
    struct mc_directory_entry *c = &s->cand;
    int rc = mc_identity_get_account(s->st, &pk, &c->account);
    if (rc) return rc;
    c->account.name[sizeof c->account.name - 1] = 0;
    if (!mc_directory_listed(&c->account)) return 0;
    if (s->q->org && c->account.org != s->q->org) return 0;
    if (s->q->role && c->account.role != s->q->role) return 0;
    if (mc_identity_get_org(s->st, c->account.org, &c->org)) memset(&c->org, 0, sizeof c->org);
    c->org.name[sizeof c->org.name - 1] = 0;
    for (size_t w = 0; w < s->nwords; w++)
        if (!contains(c->account.name, s->word[w], s->wlen[w]) && !contains(c->org.name, s->word[w], s->wlen[w]))
            return 0;
    /* keep the first MC_DIRECTORY_MAX in name order */
    size_t at = s->n;
    while (at > 0 && name_cmp(c, &s->out[at - 1]) < 0) at--;
    if (at == MC_DIRECTORY_MAX) {
        s->more = true;
        return 0;
    }
    if (s->n == MC_DIRECTORY_MAX) {
        s->more = true;
        s->n--;
    }
    memmove(&s->out[at + 1], &s->out[at], (s->n - at) * sizeof *s->out);
    s->out[at] = *c;
    s->n++;
    return 0;
}

int mc_directory_search(struct mc_state *st, const struct mc_directory_query *q,
                        struct mc_directory_entry *out, size_t *n, bool *more) {
    struct search s = {.st = st, .q = q, .out = out};
    *n = 0;
    *more = false;
    const char *t = q->text ? q->text : "";
    if (strlen(t) > MC_DIRECTORY_TEXT_MAX)
        return mc_err_set(MC_ERR_INVALID, "a directory search is at most %d characters", MC_DIRECTORY_TEXT_MAX);
    while (*t) {
        while (*t == ' ') t++;
        if (!*t) break;
        const char *e = t;
        while (*e && *e != ' ') e++;
        if (s.nwords == WORDS_MAX) return mc_err_set(MC_ERR_INVALID, "a directory search has at most %d words", WORDS_MAX);
        s.word[s.nwords] = t;
        s.wlen[s.nwords++] = (size_t)(e - t);
        t = e;
    }
    int rc = mc_state_scan(st, "a/", 2, row, &s);
    if (rc) return rc;
    *n = s.n;
    *more = s.more;
    return 0;
}
