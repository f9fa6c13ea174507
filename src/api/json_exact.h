/* JSON whose numbers keep their text: what a FHIR resource needs, since R4
 * requires a decimal's precision to be kept (1.50 is not 1.5, 0.010 is not
 * 0.01, 123456789.123456789 is beyond a double).
 *
 * jansson turns every number into a double or an int64. Here a number is
 * instead held, inside an ordinary jansson tree, as a "number string": a
 * jansson string whose first byte is NUL followed by the number's text as
 * it was written. mc_json_exact_load makes them (and refuses a genuine
 * string holding U+0000, so no client string can pass for one);
 * mc_json_exact_dump writes each back as the bare number it was, digit for
 * digit, and everything else as jansson does. Code that walks such a tree
 * tells a number string from a string with mc_json_exact_number and
 * mc_json_exact_is_string.
 *
 * Pure functions; thread-safe. */
#ifndef MC_API_JSON_EXACT_H
#define MC_API_JSON_EXACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Parses text (len bytes, no NUL needed) as one JSON value, numbers kept as
 * number strings; duplicate object keys are refused. NULL on any error,
 * with err (when not NULL) saying what and where; a string containing
 * \u0000 is an error. */
json_t *mc_json_exact_load(const char *text, size_t len, json_error_t *err);

/* Serialises v like json_dumps(v, flags | JSON_ENCODE_ANY) with every
 * number string written as its bare number text. Returns a malloc'd,
 * NUL-terminated string (length in *len when len is not NULL), or NULL when
 * out of memory or when v holds a NUL-led string that is not a JSON number
 * (never made by mc_json_exact_load). */
char *mc_json_exact_dump(const json_t *v, size_t flags, size_t *len);

/* The number text of a number string (e.g. "1.50"), else NULL. */
const char *mc_json_exact_number(const json_t *v);
/* v is a string and not a number string. */
bool mc_json_exact_is_string(const json_t *v);
/* A number string for text, which must be a JSON number; NULL otherwise. */
json_t *mc_json_exact_number_new(const char *text);

/* Whether text[0..n) is exactly one JSON number (RFC 8259 grammar). */
bool mc_json_exact_number_valid(const char *text, size_t n);

#endif
