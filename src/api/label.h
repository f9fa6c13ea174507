/* Pack labels: a GS1 Digital Link as a QR code, in PNG and SVG.
 *
 * The symbol is made by libqrencode with error correction level M, the
 * smallest version that fits, the whole text in 8-bit byte mode, and a quiet
 * zone of MC_LABEL_QUIET_MODULES light modules on every side (ISO/IEC 18004
 * asks for 4). Each module is module_px x module_px pixels in the PNG and
 * module_px user units in the SVG's width/height (the SVG's viewBox counts
 * modules).
 *
 * The PNG is written here, without zlib: 1-bit greyscale, one IDAT made of
 * stored (uncompressed) deflate blocks, with our own CRC-32 and Adler-32.
 * A label of a typical Digital Link at 8 px per module is about 15 KB.
 *
 * The text is not checked to be a Digital Link; the caller makes it with
 * mc_gs1_encode_digital_link(). Output is a deterministic function of the
 * arguments. Thread-safe (libqrencode is built with pthread on Debian). */
#ifndef MC_API_LABEL_H
#define MC_API_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/err.h"

/* Light modules around the symbol. */
#define MC_LABEL_QUIET_MODULES 4

/* Encodes text as a PNG into a malloc'ed buffer: *png_out (free() it),
 * *png_len. Returns 0; MC_ERR_INVALID if text is empty or module_px is not
 * 1..MC_LABEL_MODULE_PX_MAX; MC_ERR_TOO_LARGE if text is longer than
 * MC_LABEL_TEXT_MAX; MC_ERR_NOMEM. On error *png_out is NULL. */
MC_MUST_CHECK int mc_label_encode_png(uint8_t **png_out, size_t *png_len, const char *text,
                                      unsigned module_px);

/* Encodes text as a standalone SVG document (NUL-terminated, malloc'ed:
 * free() it). The document holds a <title> with the text, a white
 * background <rect> and, inside one <g>, one <rect> per horizontal run of
 * dark modules (height 1, in module units). Errors as mc_label_encode_png. */
MC_MUST_CHECK int mc_label_encode_svg(char **svg_out, size_t *svg_len, const char *text,
                                      unsigned module_px);

/* Human-readable text under the symbol (a caption: the GS1 element string
 * in parentheses form, one AI a line): lines separated by '\n', at most
 * MC_LABEL_CAPTION_LINES of at most MC_LABEL_CAPTION_COLS printable ASCII
 * characters (MC_ERR_INVALID otherwise). In the PNG it is drawn with the
 * 5x7 font of label_font.h, a font pixel being module_px / 4 pixels (at
 * least 1), centred below the quiet zone; the image is widened (the symbol
 * centred) when a line is wider than the symbol. In the SVG it is <text>
 * in a monospace font. caption NULL or "": none (the functions above). */
#define MC_LABEL_CAPTION_LINES 6
#define MC_LABEL_CAPTION_COLS 40
MC_MUST_CHECK int mc_label_encode_png_captioned(uint8_t **png_out, size_t *png_len, const char *text,
                                                const char *caption, unsigned module_px);
MC_MUST_CHECK int mc_label_encode_svg_captioned(char **svg_out, size_t *svg_len, const char *text,
                                                const char *caption, unsigned module_px);

/* Writes the PNG / SVG label for text to path (replacing it: written to
 * path + ".tmp", then renamed). Errors as the encoders, plus MC_ERR_IO with
 * mc_err_detail() naming the file and the reason. */
MC_MUST_CHECK int mc_label_write_png(const char *path, const char *text, unsigned module_px);
MC_MUST_CHECK int mc_label_write_svg(const char *path, const char *text, unsigned module_px);
/* The same with a caption (see above). */
MC_MUST_CHECK int mc_label_write_png_captioned(const char *path, const char *text, const char *caption,
                                               unsigned module_px);
MC_MUST_CHECK int mc_label_write_svg_captioned(const char *path, const char *text, const char *caption,
                                               unsigned module_px);

#endif
