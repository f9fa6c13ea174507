/* A 5x7 bitmap font for the human-readable text printed under a pack's
 * code (label.h), drawn for this project: one glyph per printable ASCII
 * character (0x20..0x7e), seven rows from the top, bit 4 the leftmost of
 * five columns. */
#ifndef MC_API_LABEL_FONT_H
#define MC_API_LABEL_FONT_H

#include <stdint.h>

#define MC_LABEL_FONT_W 5
#define MC_LABEL_FONT_H 7

/* The seven rows of c's glyph; NULL when c is not printable ASCII. */
const uint8_t *mc_label_glyph(char c);

#endif
