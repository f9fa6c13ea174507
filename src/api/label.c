/* QR code labels in PNG and SVG: see label.h.
 *
 * PNG layout written here (PNG specification, ISO/IEC 15948):
 *
 *   signature   89 50 4E 47 0D 0A 1A 0A
 *   IHDR        width, height (u32 BE), bit depth 1, colour type 0 (grey),
 *               compression 0, filter 0, interlace 0
 *   IDAT        zlib stream: 78 01, stored deflate blocks, Adler-32 (BE)
 *   IEND
 *
 * each chunk being length (u32 BE), type, data, CRC-32 of type and data.
 * Each stored deflate block (RFC 1951 3.2.4) is one byte BFINAL/BTYPE=00,
 * LEN and NLEN (u16 LE), then LEN raw bytes. Scanlines are filter byte 0
 * then ceil(side/8) bytes, most significant bit first, 1 = white. */
#include "api/label.h"

#include <errno.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/codec.h"
#include "api/label_font.h"

#define DEFLATE_STORED_MAX 65535u

static int qr_encode(QRcode **out, const char *text, unsigned module_px) {
    *out = NULL;
    if (module_px < 1 || module_px > MC_LABEL_MODULE_PX_MAX)
        return mc_err_set(MC_ERR_INVALID, "label: module size %u px is not 1..%d", module_px,
                          MC_LABEL_MODULE_PX_MAX);
    size_t n = strnlen(text, MC_LABEL_TEXT_MAX + 1);
    if (n == 0) return mc_err_set(MC_ERR_INVALID, "label: empty text");
    if (n > MC_LABEL_TEXT_MAX)
        return mc_err_set(MC_ERR_TOO_LARGE, "label: text longer than %d bytes", MC_LABEL_TEXT_MAX);
    errno = 0;
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        if (errno == ENOMEM) return mc_err_set(MC_ERR_NOMEM, "label: out of memory");
        if (errno == ERANGE) return mc_err_set(MC_ERR_TOO_LARGE, "label: text too long for a QR code");
        return mc_err_set(MC_ERR_INVALID, "label: libqrencode refused the text (errno %d)", errno);
    }
    if (qr->width < 21 || qr->width > 177) { /* versions 1..40 */
        int width = qr->width;
        QRcode_free(qr);
        return mc_err_set(MC_ERR_INVALID, "label: libqrencode returned width %d", width);
    }
    *out = qr;
    return MC_OK;
}

static bool dark(const QRcode *qr, int x, int y) {
    if (x < 0 || y < 0 || x >= qr->width || y >= qr->width) return false;
    return qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1;
}

/* ---- PNG ---------------------------------------------------------------- */

/* CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), bit by bit: no
 * shared table to initialise, and fast enough for a label (a typical one is
 * 15 KB; the largest allowed about 4.4 MB). */
static uint32_t crc32_of(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static uint32_t adler32_of(const uint8_t *p, size_t n) {
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

static void put_chunk(struct mc_buf *b, const char type[4], const uint8_t *data, size_t n) {
    mc_enc_u32(b, (uint32_t)n);
    size_t start = b->len;
    mc_buf_append(b, type, 4);
    mc_buf_append(b, data, n);
    if (b->err) return;
    mc_enc_u32(b, crc32_of(b->data + start, n + 4));
}

/* ---- the caption (human-readable text under the symbol) ---------------- */

struct caption {
    const char *line[MC_LABEL_CAPTION_LINES];
    size_t len[MC_LABEL_CAPTION_LINES];
    size_t lines, cols;
};

static int caption_split(struct caption *c, const char *text) {
    memset(c, 0, sizeof *c);
    if (!text || !*text) return 0;
    const char *p = text;
    for (;;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (c->lines == MC_LABEL_CAPTION_LINES)
            return mc_err_set(MC_ERR_INVALID, "label: a caption has at most %d lines", MC_LABEL_CAPTION_LINES);
        if (n > MC_LABEL_CAPTION_COLS)
            return mc_err_set(MC_ERR_INVALID, "label: a caption line has at most %d characters", MC_LABEL_CAPTION_COLS);
        for (size_t i = 0; i < n; i++)
            if (!mc_label_glyph(p[i]))
                return mc_err_set(MC_ERR_INVALID, "label: a caption is printable ASCII (byte 0x%02x)",
                                  (unsigned char)p[i]);
        c->line[c->lines] = p;
        c->len[c->lines++] = n;
        if (n > c->cols) c->cols = n;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* Caption geometry in pixels: font pixel s, glyph advance 6 s, line 9 s. */
static unsigned font_px(unsigned module_px) { return module_px >= 4 ? module_px / 4 : 1; }

int mc_label_encode_png(uint8_t **png_out, size_t *png_len, const char *text,
                        unsigned module_px) {
    return mc_label_encode_png_captioned(png_out, png_len, text, NULL, module_px);
}

int mc_label_encode_png_captioned(uint8_t **png_out, size_t *png_len, const char *text, const char *caption_text,
                                  unsigned module_px) {
    *png_out = NULL;
    *png_len = 0;
    QRcode *qr;
    int rc = qr_encode(&qr, text, module_px);
    if (rc) return rc;
    struct caption cap;
    if ((rc = caption_split(&cap, caption_text))) {
        QRcode_free(qr);
        return rc;
    }

    size_t modules = (size_t)qr->width + 2 * MC_LABEL_QUIET_MODULES;
    size_t side = modules * module_px;
    size_t s = font_px(module_px), adv = 6 * s, line_h = 9 * s;
    size_t text_w = cap.cols * adv + 8 * s;
    size_t width = cap.lines && text_w > side ? text_w : side;
    size_t height = side + (cap.lines ? cap.lines * line_h + 2 * s : 0);
    size_t qx = (width - side) / 2;
    size_t row_bytes = 1 + (width + 7) / 8;
    size_t raw_len = row_bytes * height;
    uint8_t *raw = malloc(raw_len);
    if (!raw) {
        QRcode_free(qr);
        return mc_err_set(MC_ERR_NOMEM, "label: out of memory");
    }
    memset(raw, 0xFF, raw_len);
    for (size_t y = 0; y < height; y++) {
        uint8_t *row = raw + y * row_bytes;
        row[0] = 0; /* filter: none */
        if (y < side) {
            int my = (int)(y / module_px) - MC_LABEL_QUIET_MODULES;
            for (size_t x = qx; x < qx + side; x++) {
                int mx = (int)((x - qx) / module_px) - MC_LABEL_QUIET_MODULES;
                if (dark(qr, mx, my)) row[1 + x / 8] &= (uint8_t)~(0x80u >> (x % 8));
            }
            continue;
        }
        size_t cy = y - side;
        size_t li = cy / line_h, gy = (cy % line_h) / s;
        if (li >= cap.lines || gy >= MC_LABEL_FONT_H) continue;
        size_t x0 = (width - cap.len[li] * adv) / 2;
        for (size_t ci = 0; ci < cap.len[li]; ci++) {
            uint8_t bits = mc_label_glyph(cap.line[li][ci])[gy];
            for (size_t gx = 0; gx < MC_LABEL_FONT_W; gx++) {
                if (!(bits & (0x10u >> gx))) continue;
                for (size_t k = 0; k < s; k++) {
                    size_t x = x0 + ci * adv + gx * s + k;
                    row[1 + x / 8] &= (uint8_t)~(0x80u >> (x % 8));
                }
            }
        }
    }
    QRcode_free(qr);

    /* zlib stream of stored blocks */
    size_t blocks = (raw_len + DEFLATE_STORED_MAX - 1) / DEFLATE_STORED_MAX;
    size_t z_len = 2 + blocks * 5 + raw_len + 4;
    uint8_t *z = malloc(z_len);
    if (!z) {
        free(raw);
        return mc_err_set(MC_ERR_NOMEM, "label: out of memory");
    }
    size_t zi = 0;
    z[zi++] = 0x78; /* CM 8 (deflate), CINFO 7 (32 KiB window) */
    z[zi++] = 0x01; /* FCHECK: 0x7801 is a multiple of 31; no dictionary, level 0 */
    for (size_t off = 0; off < raw_len; off += DEFLATE_STORED_MAX) {
        size_t len = raw_len - off < DEFLATE_STORED_MAX ? raw_len - off : DEFLATE_STORED_MAX;
        z[zi++] = off + len == raw_len ? 1 : 0; /* BFINAL, BTYPE 00 */
        z[zi++] = (uint8_t)len;
        z[zi++] = (uint8_t)(len >> 8);
        z[zi++] = (uint8_t)~len;
        z[zi++] = (uint8_t)(~len >> 8);
        memcpy(z + zi, raw + off, len);
        zi += len;
    }
    uint32_t adler = adler32_of(raw, raw_len);
    free(raw);
    z[zi++] = (uint8_t)(adler >> 24);
    z[zi++] = (uint8_t)(adler >> 16);
    z[zi++] = (uint8_t)(adler >> 8);
    z[zi++] = (uint8_t)adler;
    MC_ASSERT(zi == z_len); /* the size computed above is the layout written */

    struct mc_buf b;
    mc_buf_init(&b, 0);
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    mc_buf_append(&b, signature, sizeof signature);
    uint8_t ihdr[13] = {
        (uint8_t)(width >> 24), (uint8_t)(width >> 16), (uint8_t)(width >> 8), (uint8_t)width,
        (uint8_t)(height >> 24), (uint8_t)(height >> 16), (uint8_t)(height >> 8), (uint8_t)height,
        1, 0, 0, 0, 0};
    put_chunk(&b, "IHDR", ihdr, sizeof ihdr);
    put_chunk(&b, "IDAT", z, z_len);
    put_chunk(&b, "IEND", NULL, 0);
    free(z);
    if (b.err) {
        rc = b.err;
        mc_buf_deinit(&b);
        return mc_err_set(rc, "label: cannot build the PNG");
    }
    *png_out = mc_buf_take(&b, png_len);
    return MC_OK;
}

/* ---- SVG ---------------------------------------------------------------- */

static void put_xml_escaped(struct mc_buf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': mc_buf_printf(b, "&amp;"); break;
        case '<': mc_buf_printf(b, "&lt;"); break;
        case '>': mc_buf_printf(b, "&gt;"); break;
        case '"': mc_buf_printf(b, "&quot;"); break;
        case '\'': mc_buf_printf(b, "&apos;"); break;
        default:
            /* Control characters are not allowed in XML 1.0 text. */
            if ((unsigned char)*s < 0x20) mc_buf_printf(b, "?");
            else mc_buf_append(b, s, 1);
        }
    }
}

int mc_label_encode_svg(char **svg_out, size_t *svg_len, const char *text, unsigned module_px) {
    return mc_label_encode_svg_captioned(svg_out, svg_len, text, NULL, module_px);
}

int mc_label_encode_svg_captioned(char **svg_out, size_t *svg_len, const char *text, const char *caption_text,
                                  unsigned module_px) {
    *svg_out = NULL;
    *svg_len = 0;
    QRcode *qr;
    int rc = qr_encode(&qr, text, module_px);
    if (rc) return rc;
    struct caption cap;
    if ((rc = caption_split(&cap, caption_text))) {
        QRcode_free(qr);
        return rc;
    }
    int modules = qr->width + 2 * MC_LABEL_QUIET_MODULES;
    /* the caption in module units: lines 2 modules apart, monospace text
     * about 1.6 modules high, the label widened when a line is longer */
    int cap_h = cap.lines ? (int)cap.lines * 2 + 1 : 0;
    int width = modules;
    if (cap.lines && (int)cap.cols + 2 > width) width = (int)cap.cols + 2;
    int height = modules + cap_h;
    struct mc_buf b;
    mc_buf_init(&b, 0);
    mc_buf_printf(&b,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%u\" "
                  "height=\"%u\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">\n"
                  "<title>",
                  (unsigned)width * module_px, (unsigned)height * module_px, width, height);
    put_xml_escaped(&b, text);
    mc_buf_printf(&b, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);
    for (size_t i = 0; i < cap.lines; i++) {
        char line[MC_LABEL_CAPTION_COLS + 1];
        memcpy(line, cap.line[i], cap.len[i]);
        line[cap.len[i]] = 0;
        mc_buf_printf(&b, "<text x=\"%d\" y=\"%d.6\" font-family=\"monospace\" font-size=\"1.6\" "
                          "text-anchor=\"middle\" fill=\"#000000\">", width / 2,
                      modules + 1 + (int)i * 2);
        put_xml_escaped(&b, line);
        mc_buf_printf(&b, "</text>\n");
    }
    mc_buf_printf(&b, "<g fill=\"#000000\" transform=\"translate(%d 0)\">\n", (width - modules) / 2);
    for (int y = 0; y < qr->width; y++) {
        for (int x = 0; x < qr->width;) {
            if (!dark(qr, x, y)) {
                x++;
                continue;
            }
            int run = 1;
            while (dark(qr, x + run, y)) run++;
            mc_buf_printf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"1\"/>\n",
                          x + MC_LABEL_QUIET_MODULES, y + MC_LABEL_QUIET_MODULES, run);
            x += run;
        }
    }
    mc_buf_printf(&b, "</g>\n</svg>\n");
    QRcode_free(qr);
    if (b.err) {
        rc = b.err;
        mc_buf_deinit(&b);
        return mc_err_set(rc, "label: cannot build the SVG");
    }
    *svg_out = (char *)mc_buf_take(&b, svg_len);
    return MC_OK;
}

/* ---- files -------------------------------------------------------------- */

static int write_file(const char *path, const void *data, size_t n) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) return mc_err_set(MC_ERR_NOMEM, "label: out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int e = errno;
        free(tmp);
        return mc_err_set(MC_ERR_IO, "label: cannot create %s.tmp: %s", path, strerror(e));
    }
    bool ok = fwrite(data, 1, n, f) == n;
    int e = errno;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok) {
        remove(tmp);
        free(tmp);
        return mc_err_set(MC_ERR_IO, "label: cannot write %s: %s", path, strerror(e));
    }
    free(tmp);
    return MC_OK;
}

int mc_label_write_png(const char *path, const char *text, unsigned module_px) {
    return mc_label_write_png_captioned(path, text, NULL, module_px);
}

int mc_label_write_svg(const char *path, const char *text, unsigned module_px) {
    return mc_label_write_svg_captioned(path, text, NULL, module_px);
}

int mc_label_write_png_captioned(const char *path, const char *text, const char *caption, unsigned module_px) {
    uint8_t *png;
    size_t n;
    int rc = mc_label_encode_png_captioned(&png, &n, text, caption, module_px);
    if (rc) return rc;
    rc = write_file(path, png, n);
    free(png);
    return rc;
}

int mc_label_write_svg_captioned(const char *path, const char *text, const char *caption, unsigned module_px) {
    char *svg;
    size_t n;
    int rc = mc_label_encode_svg_captioned(&svg, &n, text, caption, module_px);
    if (rc) return rc;
    rc = write_file(path, svg, n);
    free(svg);
    return rc;
}
