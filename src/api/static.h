/* Static files of the web application (web/), served by the API at "/".
 *
 * The whole tree is read into memory once, when the API starts, and every
 * answer comes from that table: a request path is looked up by exact name,
 * so no request can reach a file outside the tree (no "..", no symbolic
 * links followed, no percent-decoding games), and a file changed on disk is
 * served only after a restart.
 *
 * What is loaded: regular files whose extension has a known content type
 * (html, css, js, mjs, wasm, svg, png, ico, txt, webmanifest), in folders
 * at most MC_STATIC_DEPTH_MAX deep; names beginning with "." and the
 * folders node_modules and tests are skipped, as are symbolic links.
 * Bounds: MC_STATIC_FILES_MAX files, MC_STATIC_FILE_MAX bytes per file,
 * MC_STATIC_TOTAL_MAX bytes in all; a file over its bound is skipped with a
 * warning, and loading stops at the total.
 *
 * Names: "/" is "/index.html"; "/patient" finds "/patient.html". Each file
 * has a strong ETag (the first 16 bytes of its SHA-256, hex) and a cache
 * policy: files under /vendor/ (third-party builds, changed only with
 * their pinned versions) may be cached for a day, everything else must be
 * revalidated (no-cache + ETag, answered 304 when unchanged).
 *
 * Thread safety: load and destroy from one thread; lookups from any number
 * of threads once loaded (the table is immutable). */
#ifndef MC_API_STATIC_H
#define MC_API_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/err.h"


struct mc_static_file {
    char path[MC_STATIC_PATH_MAX]; /* "/css/app.css" */
    const uint8_t *data;
    size_t len;
    const char *content_type;      /* static string */
    const char *cache_control;     /* static string */
    char etag[36];                 /* "\"<32 hex>\"" */
};

struct mc_static;

/* The folder to serve: $MEDCHAIN_WEB_ROOT when set, else "web" beside the
 * folder of the running executable (build/medchain -> web/), else
 * /usr/share/medchain/web. Writes it to out; MC_ERR_NOT_FOUND when none
 * exists (out then holds the last candidate tried). */
MC_MUST_CHECK int mc_static_default_root(char *out, size_t size);

/* Loads the tree under root. MC_ERR_IO when root cannot be read,
 * MC_ERR_NOMEM. Files skipped for their size are logged. On success *out
 * owns everything; free it with mc_static_destroy. */
MC_MUST_CHECK int mc_static_load(struct mc_static **out, const char *root);
/* NULL does nothing. */
void mc_static_destroy(struct mc_static *s);
/* Files loaded. */
size_t mc_static_count(const struct mc_static *s);

/* The file for a request path (already percent-decoded by the server, no
 * query), or NULL. Paths with "..", "//", a backslash, a NUL or a control
 * character never match. */
const struct mc_static_file *mc_static_find(const struct mc_static *s, const char *path);

/* True when an Accept header asks for HTML (a browser navigating to "/"),
 * so "/" serves the application instead of the JSON route index. */
bool mc_static_wants_html(const char *accept);

/* True when an If-None-Match header matches the file's ETag (or is "*"). */
bool mc_static_not_modified(const struct mc_static_file *f, const char *if_none_match);

/* Content-Security-Policy and the other security headers every static
 * answer carries: scripts only from this origin (WebAssembly allowed for
 * the vendored crypto and barcode decoders), nothing framed, no referrer. */
#define MC_STATIC_CSP                                                                      \
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "         \
    "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; " \
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

#endif
