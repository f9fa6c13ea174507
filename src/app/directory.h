/* The members' directory: who a patient or a colleague can pick by name.
 *
 * Members (clinicians, pharmacists, auditors, ...) are enrolled with a
 * display name by their organisation's admin; names and organisations are
 * already public facts of the ledger (GET /v1/account/{key}). The
 * directory lists only ACTIVE MEMBERS: never patients (a patient is a
 * pseudonymous key and stays one), never node accounts, never revoked or
 * rotated keys (nobody should grant to a key that cannot read). It is a
 * read of committed state; nothing here is written.
 *
 * A query matches when every word of its text (at most 8 words, compared
 * without regard to ASCII case) occurs in the member's name or in the
 * organisation's name, and, when given, the organisation id and the role
 * agree. Results come in name order (byte order of the ASCII-folded name,
 * then key), at most MC_DIRECTORY_MAX of them. */
#ifndef MC_APP_DIRECTORY_H
#define MC_APP_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/identity.h"
#include "app/state.h"

#define MC_DIRECTORY_MAX 50
#define MC_DIRECTORY_TEXT_MAX 80

struct mc_directory_query {
    const char *text;   /* NULL or "": every member */
    uint32_t org;       /* 0: any */
    uint8_t role;       /* 0: any member role */
};

struct mc_directory_entry {
    struct mc_account account;
    struct mc_org org;
};

/* Whether the account may appear in the directory (see above). */
bool mc_directory_listed(const struct mc_account *a);

/* Fills out (MC_DIRECTORY_MAX entries) with the matching members in name
 * order; *n gets how many, *more whether more matched than fit.
 * MC_ERR_INVALID for a text over MC_DIRECTORY_TEXT_MAX bytes. */
MC_MUST_CHECK int mc_directory_search(struct mc_state *st, const struct mc_directory_query *q,
                                      struct mc_directory_entry *out, size_t *n, bool *more);

#endif
