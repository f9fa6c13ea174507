/* Pack labels: the PNG decodes back to the same Digital Link (zbarimg, from
 * Debian's zbar-tools), the SVG is well-formed and draws exactly the
 * modules libqrencode computed, and bad arguments are refused. */
#include <criterion/criterion.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/label.h"
#include "app/gs1.h"

static char dir[64];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/mc-label-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(label, .init = make_dir, .fini = remove_dir);

static bool have_tool(const char *name) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Runs cmd and returns its standard output (trailing newline removed). */
static void run_capture(const char *cmd, char *out, size_t out_size) {
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    size_t n = fread(out, 1, out_size - 1, p);
    out[n] = 0;
    int status = pclose(p);
    cr_assert_eq(status, 0, "%s exited with %d, output '%s'", cmd, status, out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = 0;
}

static const char *const links[] = {
    "https://id.example/01/09506000134352/10/ABC/21/123?17=201225",
    "https://id.gs1.org/01/09521234543213",
    ("https://example.com/products/01/04006381333931/22/2A/10/AB%2FC%25"
     "/21/a%26b%3Dc%3Fd%28e%29_-.?11=200100&15=261130&16=261031&17=261231"),
};

Test(label, png_decodes_to_the_same_digital_link) {
    if (!have_tool("zbarimg"))
        cr_skip_test("zbarimg not installed (Debian package zbar-tools): PNG decode check "
                     "skipped");
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        for (unsigned px = 3; px <= 8; px += 5) {
            char path[128], cmd[256], decoded[1024];
            snprintf(path, sizeof path, "%s/label-%zu-%u.png", dir, i, px);
            cr_assert_eq(mc_label_write_png(path, links[i], px), 0, "%s", mc_err_detail());
            snprintf(cmd, sizeof cmd, "zbarimg --raw -q '%s' 2>/dev/null", path);
            run_capture(cmd, decoded, sizeof decoded);
            cr_assert_str_eq(decoded, links[i]);
        }
    }
}

Test(label, png_of_a_parsed_identifier) {
    if (!have_tool("zbarimg"))
        cr_skip_test("zbarimg not installed (Debian package zbar-tools): PNG decode check "
                     "skipped");
    /* scanned element string -> canonical Digital Link -> label -> scan */
    const char scan[] = "]d2" "01095060001343521726123110L0T-7" "\x1d" "21SN/001";
    struct mc_gs1_id id, back;
    cr_assert_eq(mc_gs1_parse_element_string(&id, NULL, scan, strlen(scan), 2025), 0);
    char dl[MC_GS1_DIGITAL_LINK_MAX];
    cr_assert_eq(mc_gs1_encode_digital_link(dl, sizeof dl, NULL, &id, "https://id.example"), 0);
    char path[128], cmd[256], decoded[1024];
    snprintf(path, sizeof path, "%s/pack.png", dir);
    cr_assert_eq(mc_label_write_png(path, dl, 6), 0);
    snprintf(cmd, sizeof cmd, "zbarimg --raw -q '%s' 2>/dev/null", path);
    run_capture(cmd, decoded, sizeof decoded);
    cr_assert_str_eq(decoded, dl);
    cr_assert_eq(mc_gs1_parse_digital_link(&back, NULL, decoded, strlen(decoded), 2025), 0);
    cr_assert(mc_gs1_id_equal(&id, &back));
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

Test(label, png_layout) {
    uint8_t *png;
    size_t n;
    cr_assert_eq(mc_label_encode_png(&png, &n, links[0], 5), 0);
    QRcode *qr = QRcode_encodeString(links[0], 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    cr_assert_not_null(qr);
    uint32_t side = (uint32_t)(qr->width + 2 * MC_LABEL_QUIET_MODULES) * 5;
    cr_assert(n > 8 + 25 + 12 + 12);
    cr_assert_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
    cr_assert_eq(be32(png + 8), 13);
    cr_assert_eq(memcmp(png + 12, "IHDR", 4), 0);
    cr_assert_eq(be32(png + 16), side);
    cr_assert_eq(be32(png + 20), side);
    cr_assert_eq(png[24], 1); /* bit depth */
    cr_assert_eq(png[25], 0); /* greyscale */
    /* chunks tile the file exactly and it ends with IEND */
    size_t pos = 8, chunks = 0;
    while (pos + 12 <= n) {
        pos += 12 + be32(png + pos);
        chunks++;
    }
    cr_assert_eq(pos, n);
    cr_assert_eq(chunks, 3);
    cr_assert_eq(memcmp(png + n - 8, "IEND", 4), 0);
    /* stored deflate: the IDAT holds every scanline uncompressed */
    size_t raw = (size_t)side * (1 + (side + 7) / 8);
    uint32_t idat = be32(png + 33);
    cr_assert_eq(idat, 2 + 5 * ((raw + 65534) / 65535) + raw + 4);
    QRcode_free(qr);
    free(png);
}

/* Reads every <rect x= y= width= height="1"/> of the SVG into a module grid
 * (in symbol coordinates, quiet zone removed). */
static void svg_grid(const char *svg, uint8_t *grid, int width, size_t *rects) {
    memset(grid, 0, (size_t)width * (size_t)width);
    *rects = 0;
    const char *p = svg;
    while ((p = strstr(p, "<rect x=\"")) != NULL) {
        int x, y, w;
        cr_assert_eq(sscanf(p, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"1\"/>", &x, &y, &w),
                     3);
        x -= MC_LABEL_QUIET_MODULES;
        y -= MC_LABEL_QUIET_MODULES;
        cr_assert(x >= 0 && y >= 0 && w >= 1 && x + w <= width && y < width);
        for (int i = 0; i < w; i++) {
            cr_assert_eq(grid[y * width + x + i], 0, "module drawn twice");
            grid[y * width + x + i] = 1;
        }
        (*rects)++;
        p++;
    }
}

Test(label, svg_draws_exactly_the_qr_modules) {
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        char *svg;
        size_t n;
        cr_assert_eq(mc_label_encode_svg(&svg, &n, links[i], 4), 0);
        cr_assert_eq(strlen(svg), n);
        QRcode *qr = QRcode_encodeString(links[i], 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        cr_assert_not_null(qr);
        int w = qr->width;
        uint8_t *grid = malloc((size_t)w * (size_t)w);
        size_t rects, dark = 0, drawn = 0;
        svg_grid(svg, grid, w, &rects);
        for (int k = 0; k < w * w; k++) {
            dark += qr->data[k] & 1;
            drawn += grid[k];
            cr_assert_eq(grid[k], qr->data[k] & 1, "module (%d,%d)", k % w, k / w);
        }
        cr_assert_eq(drawn, dark);
        cr_assert(rects > 0 && rects <= dark);
        /* size and viewBox */
        char head[256];
        int modules = w + 2 * MC_LABEL_QUIET_MODULES;
        snprintf(head, sizeof head, "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"",
                 modules * 4, modules * 4, modules, modules);
        cr_assert_not_null(strstr(svg, head), "%s", head);
        free(grid);
        QRcode_free(qr);
        free(svg);
    }
}

Test(label, svg_is_well_formed) {
    char path[128];
    snprintf(path, sizeof path, "%s/label.svg", dir);
    /* links[2] has '&' in its query: it must be escaped in the <title> */
    cr_assert_eq(mc_label_write_svg(path, links[2], 8), 0, "%s", mc_err_detail());
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    static char svg[1 << 20];
    size_t n = fread(svg, 1, sizeof svg - 1, f);
    fclose(f);
    svg[n] = 0;
    cr_assert_not_null(strstr(svg, "&amp;15=261130"));
    cr_assert_null(strstr(svg, "&15"));
    /* structure: one svg element, tags balance */
    cr_assert_eq(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44), 0);
    cr_assert_not_null(strstr(svg, "</svg>\n"));
    size_t opens = 0, closes = 0, selfclose = 0;
    for (const char *p = svg; (p = strchr(p, '<')) != NULL; p++) {
        if (p[1] == '?') continue;
        if (p[1] == '/') closes++;
        else opens++;
        const char *gt = strchr(p, '>');
        cr_assert_not_null(gt);
        if (gt[-1] == '/') selfclose++;
    }
    cr_assert_eq(opens, closes + selfclose, "unbalanced tags");
    char cmd[256], out[4096];
    if (have_tool("xmllint")) {
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s' 2>&1", path);
        run_capture(cmd, out, sizeof out);
        cr_assert_str_eq(out, "");
    } else if (have_tool("python3")) {
        snprintf(cmd, sizeof cmd,
                 "python3 -c 'import sys,xml.etree.ElementTree as E; "
                 "r=E.parse(sys.argv[1]).getroot(); print(r.tag)' '%s'", path);
        run_capture(cmd, out, sizeof out);
        cr_assert_str_eq(out, "{http://www.w3.org/2000/svg}svg");
    } else {
        cr_log_warn("neither xmllint nor python3: XML parser check skipped");
    }
}

Test(label, deterministic) {
    uint8_t *a, *b;
    size_t na, nb;
    cr_assert_eq(mc_label_encode_png(&a, &na, links[0], 4), 0);
    cr_assert_eq(mc_label_encode_png(&b, &nb, links[0], 4), 0);
    cr_assert_eq(na, nb);
    cr_assert_eq(memcmp(a, b, na), 0);
    free(a);
    free(b);
}

Test(label, refuses_bad_arguments) {
    uint8_t *png = (uint8_t *)1;
    size_t n = 1;
    cr_assert_eq(mc_label_encode_png(&png, &n, links[0], 0), MC_ERR_INVALID);
    cr_assert_null(png);
    cr_assert_eq(n, 0);
    cr_assert_eq(mc_label_encode_png(&png, &n, links[0], MC_LABEL_MODULE_PX_MAX + 1),
                 MC_ERR_INVALID);
    cr_assert_eq(mc_label_encode_png(&png, &n, "", 4), MC_ERR_INVALID);
    char *svg;
    cr_assert_eq(mc_label_encode_svg(&svg, &n, "", 4), MC_ERR_INVALID);
    cr_assert_null(svg);
    static char big[MC_LABEL_TEXT_MAX + 2];
    memset(big, 'A', sizeof big - 1);
    cr_assert_eq(mc_label_encode_png(&png, &n, big, 4), MC_ERR_TOO_LARGE);
    cr_assert_eq(mc_label_encode_svg(&svg, &n, big, 4), MC_ERR_TOO_LARGE);
    /* exactly the maximum still fits a QR code */
    big[MC_LABEL_TEXT_MAX] = 0;
    cr_assert_eq(mc_label_encode_svg(&svg, &n, big, 1), 0);
    free(svg);
    /* a directory that does not exist */
    char path[128];
    snprintf(path, sizeof path, "%s/no/such/dir/x.png", dir);
    cr_assert_eq(mc_label_write_png(path, links[0], 4), MC_ERR_IO);
    cr_assert_not_null(strstr(mc_err_detail(), "x.png"), "%s", mc_err_detail());
    snprintf(path, sizeof path, "%s/no/such/dir/x.svg", dir);
    cr_assert_eq(mc_label_write_svg(path, links[0], 4), MC_ERR_IO);
}

Test(label, write_replaces_the_file) {
    char path[128];
    snprintf(path, sizeof path, "%s/replace.png", dir);
    cr_assert_eq(mc_label_write_png(path, links[1], 2), 0);
    struct stat st1, st2;
    cr_assert_eq(stat(path, &st1), 0);
    cr_assert_eq(mc_label_write_png(path, links[2], 2), 0);
    cr_assert_eq(stat(path, &st2), 0);
    cr_assert_neq(st1.st_size, st2.st_size);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cr_assert_neq(access(tmp, F_OK), 0, "temporary file left behind");
}

/* ---- the caption: the human-readable text under the code ---------------- */

#include "api/label_font.h"

/* Raw 1-bit rows of a PNG written by mc_label_encode_png (stored deflate
 * blocks): returns the bitmap (row_bytes per row, filter byte dropped). */
static uint8_t *png_rows(const uint8_t *png, size_t n, size_t *w, size_t *h, size_t *row_bytes) {
    cr_assert(n > 33 && memcmp(png + 12, "IHDR", 4) == 0);
    *w = (size_t)png[16] << 24 | (size_t)png[17] << 16 | (size_t)png[18] << 8 | png[19];
    *h = (size_t)png[20] << 24 | (size_t)png[21] << 16 | (size_t)png[22] << 8 | png[23];
    *row_bytes = (*w + 7) / 8;
    const uint8_t *p = png + 33;
    uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    cr_assert(memcmp(p + 4, "IDAT", 4) == 0);
    const uint8_t *z = p + 8 + 2, *zend = p + 8 + len - 4;
    size_t raw_len = (1 + *row_bytes) * *h, got = 0;
    uint8_t *raw = malloc(raw_len);
    while (z < zend) {
        size_t bl = (size_t)z[1] | (size_t)z[2] << 8;
        cr_assert(got + bl <= raw_len);
        memcpy(raw + got, z + 5, bl);
        got += bl;
        z += 5 + bl;
    }
    cr_assert_eq(got, raw_len);
    uint8_t *rows = malloc(*row_bytes * *h);
    for (size_t y = 0; y < *h; y++) {
        cr_assert_eq(raw[y * (1 + *row_bytes)], 0, "filter none");
        memcpy(rows + y * *row_bytes, raw + y * (1 + *row_bytes) + 1, *row_bytes);
    }
    free(raw);
    return rows;
}

static bool black(const uint8_t *rows, size_t rb, size_t x, size_t y) {
    return !(rows[y * rb + x / 8] & (0x80u >> (x % 8)));
}

Test(label, caption_is_printed_under_the_code_glyph_by_glyph) {
    const char *caption = "(01) 09506000134352\n(17) 300630\n(10) LOT2026A\n(21) PK3";
    unsigned px = 8, s = 2, adv = 12, line_h = 18;
    uint8_t *png;
    size_t n;
    cr_assert_eq(mc_label_encode_png_captioned(&png, &n, links[0], caption, px), 0, "%s", mc_err_detail());
    size_t w, h, rb;
    uint8_t *rows = png_rows(png, n, &w, &h, &rb);
    QRcode *qr = QRcode_encodeString(links[0], 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    size_t side = (size_t)(qr->width + 2 * MC_LABEL_QUIET_MODULES) * px;
    QRcode_free(qr);
    cr_assert_eq(h, side + 4 * line_h + 2 * s, "four lines under the symbol");
    cr_assert(w >= side);
    const char *lines[] = {"(01) 09506000134352", "(17) 300630", "(10) LOT2026A", "(21) PK3"};
    for (size_t li = 0; li < 4; li++) {
        size_t len = strlen(lines[li]), x0 = (w - len * adv) / 2;
        for (size_t ci = 0; ci < len; ci++) {
            const uint8_t *g = mc_label_glyph(lines[li][ci]);
            for (size_t gy = 0; gy < MC_LABEL_FONT_H; gy++)
                for (size_t gx = 0; gx < MC_LABEL_FONT_W; gx++) {
                    bool want = g[gy] & (0x10u >> gx);
                    for (size_t k = 0; k < s * s; k++)
                        cr_assert_eq(black(rows, rb, x0 + ci * adv + gx * s + k % s, side + li * line_h + gy * s + k / s),
                                     want, "line %zu char '%c' row %zu col %zu", li, lines[li][ci], gy, gx);
                }
        }
    }
    free(rows);
    /* the code still reads back (zbarimg, when installed) */
    if (have_tool("zbarimg")) {
        char path[128], cmd[256], decoded[1024];
        snprintf(path, sizeof path, "%s/captioned.png", dir);
        FILE *f = fopen(path, "wb");
        cr_assert_eq(fwrite(png, 1, n, f), n);
        fclose(f);
        snprintf(cmd, sizeof cmd, "zbarimg --quiet --raw '%s'", path);
        run_capture(cmd, decoded, sizeof decoded);
        cr_assert_str_eq(decoded, links[0]);
    }
    free(png);
    /* the SVG carries the same lines as text */
    char *svg;
    cr_assert_eq(mc_label_encode_svg_captioned(&svg, &n, links[0], caption, 4), 0);
    for (size_t li = 0; li < 4; li++) cr_assert_not_null(strstr(svg, lines[li]), "%s", lines[li]);
    free(svg);
    cr_assert_eq(mc_label_encode_svg_captioned(&svg, &n, links[0], "a<b&c", 4), 0);
    cr_assert_not_null(strstr(svg, ">a&lt;b&amp;c</text>"));
    free(svg);
}

Test(label, caption_bounds_refused_and_font_complete) {
    uint8_t *png;
    size_t n;
    char big[64];
    memset(big, 'A', 41);
    big[41] = 0;
    cr_assert_eq(mc_label_encode_png_captioned(&png, &n, links[0], big, 4), MC_ERR_INVALID, "41 columns");
    cr_assert_eq(mc_label_encode_png_captioned(&png, &n, links[0], "a\nb\nc\nd\ne\nf\ng", 4), MC_ERR_INVALID, "7 lines");
    cr_assert_eq(mc_label_encode_png_captioned(&png, &n, links[0], "tab\there", 4), MC_ERR_INVALID);
    cr_assert_eq(mc_label_encode_png_captioned(&png, &n, links[0], "caf\xc3\xa9", 4), MC_ERR_INVALID);
    cr_assert_null(png);
    /* every printable character has a glyph of its own; only the space is blank */
    for (int a = 0x20; a < 0x7f; a++) {
        const uint8_t *ga = mc_label_glyph((char)a);
        cr_assert_not_null(ga);
        bool blank = true;
        for (int r = 0; r < MC_LABEL_FONT_H; r++) {
            cr_assert_eq(ga[r] & ~0x1fu, 0, "5 columns");
            if (ga[r]) blank = false;
        }
        cr_assert_eq(blank, a == ' ', "'%c'", a);
        for (int b = a + 1; b < 0x7f; b++)
            cr_assert_neq(memcmp(ga, mc_label_glyph((char)b), MC_LABEL_FONT_H), 0, "'%c' and '%c'", a, b);
    }
    cr_assert_null(mc_label_glyph('\n'));
    cr_assert_null(mc_label_glyph((char)0x7f));
}
