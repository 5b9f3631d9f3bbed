/*
 * html.c - self-contained HTML pages and inline SVG charts (html.h), for the reports'
 * dashboard and the public commitment notice (dashboard.c).
 *
 * A page is one file that a browser shows and prints the same way with no network and no
 * script: the stylesheet is inline, the charts are SVG elements written here, and the
 * fonts are whatever the reader's machine has for Chinese (a list of the usual ones, then
 * sans-serif). The print stylesheet sets A4, starts each section on a new page and keeps
 * the background colours of bars and swatches (print-color-adjust: exact), so a print of
 * the dashboard is the dashboard.
 *
 * The charts are drawn in a fixed coordinate system (a viewBox 960 wide) that the page
 * scales to its width. Every number a chart shows is an SVG <text> element, not a
 * picture of one: it can be found in the DOM, copied, and read in a PDF's text. Labels
 * from the ledger are escaped like every other string (html_text()) and cut by display
 * width, measured as the terminal output measures it (render_columns(): a Chinese
 * character is two columns), which at the charts' font size is close enough to pixels.
 */
#include <inttypes.h>
#include <string.h>

#include "html.h"
#include "render.h"

#define HTML_W		960	/* the charts' viewBox width */
#define HTML_LABEL_X	200	/* the right edge of the row labels */
#define HTML_BAR_X	210	/* where bars start */
#define HTML_TEXT_W	120	/* room after the longest bar for its text */
#define HTML_BAR_W	(HTML_W - HTML_BAR_X - HTML_TEXT_W)
#define HTML_LABEL_MAX	26	/* display columns of a row label */
#define HTML_REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

/* The length of the UTF-8 character at s[0..n), n >= 1, and its code point; 0 if the
 * bytes there are not one (overlong, a surrogate, past U+10FFFF, cut short). */
static size_t html_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t least[4] = { 0, 0x80, 0x800, 0x10000 };
	size_t k = s[0] < 0x80 ? 0 : (s[0] & 0xe0) == 0xc0 ? 1 : (s[0] & 0xf0) == 0xe0 ? 2 :
		   (s[0] & 0xf8) == 0xf0 ? 3 : 4;
	uint32_t c;

	if (k == 4 || k >= n)
		return 0;
	c = s[0] & (0x7fu >> k);
	for (size_t j = 1; j <= k; j++) {
		if ((s[j] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[j] & 0x3f);
	}
	if (c < least[k] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return k + 1;
}

/* Characters that are not shown as they are: controls (but tab and line feed, which
 * HTML treats as spaces or, in a pre-line cell, as a line break), C1 controls, and the
 * bidirectional overrides that could disguise text. */
static bool html_hidden(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp <= 0x9f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void html_text(FILE *f, proto_str s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t cols = 0, limit = SIZE_MAX, k;
	uint32_t cp = 0;

	if (max > 0 && render_columns(s) > max)
		limit = max - 1;
	for (size_t i = 0; i < s.len; i += k) {
		size_t w;

		if ((k = html_char(p + i, s.len - i, &cp)) == 0) {
			k = 1;
			cp = UINT32_MAX;
		}
		w = cp == UINT32_MAX ? 1 : render_columns((proto_str){ s.ptr + i, (uint32_t)k });
		if (cols + w > limit) {
			fputs("…", f);
			return;
		}
		cols += w;
		if (cp == UINT32_MAX || html_hidden(cp))
			fputs(HTML_REPLACEMENT, f);
		else if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&#39;", f);
		else
			fwrite(p + i, 1, k, f);
	}
}

void html_cstr(FILE *f, const char *s)
{
	html_text(f, (proto_str){ s, (uint32_t)strlen(s) }, 0);
}

/* ---- the page ---- */

static const char html_css[] =
	":root { --ink: #1d2733; --muted: #5f6b7a; --rule: #c9d2dc; --head: #e8eef6; }\n"
	"* { box-sizing: border-box; -webkit-print-color-adjust: exact; "
	"print-color-adjust: exact; }\n"
	"body { font-family: \"WenQuanYi Zen Hei\", \"Noto Sans CJK SC\", \"Source Han Sans SC\", "
	"\"Microsoft YaHei\", \"PingFang SC\", sans-serif; color: var(--ink); margin: 24px auto; "
	"max-width: 1100px; padding: 0 16px; line-height: 1.4; }\n"
	"h1 { font-size: 24px; margin: 0 0 4px; }\n"
	"h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid #1976d2; "
	"padding-bottom: 3px; }\n"
	".meta { color: var(--muted); font-size: 13px; margin: 0 0 12px; }\n"
	".bigs { display: flex; flex-wrap: wrap; gap: 10px; }\n"
	".big { background: #f0f5fb; border-left: 5px solid #1976d2; padding: 8px 14px; "
	"min-width: 160px; flex: 1 1 160px; }\n"
	".big .n { display: block; font-size: 34px; font-weight: bold; }\n"
	".big .l { display: block; font-size: 13px; color: var(--muted); }\n"
	"figure { margin: 8px 0 18px; }\n"
	"figcaption { font-weight: bold; margin-bottom: 4px; }\n"
	".legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; "
	"margin: 0 0 6px; padding: 0; list-style: none; }\n"
	".sw { display: inline-block; width: 11px; height: 11px; margin-right: 4px; "
	"vertical-align: -1px; }\n"
	"svg.chart { width: 100%; height: auto; display: block; }\n"
	"svg text { font-size: 12px; fill: var(--ink); }\n"
	"svg text.id { fill: var(--muted); font-size: 10px; }\n"
	"svg text.in { fill: #fff; font-size: 10px; }\n"
	"svg .axis { stroke: #8895a4; stroke-width: 1; }\n"
	"svg .grid { stroke: #e3e8ee; stroke-width: 1; }\n"
	"table { border-collapse: collapse; width: 100%; font-size: 12px; }\n"
	"th, td { border: 1px solid var(--rule); padding: 3px 6px; vertical-align: top; }\n"
	"thead th { background: var(--head); text-align: left; }\n"
	"td.num, th.num { text-align: right; white-space: nowrap; }\n"
	"td.text { white-space: pre-line; }\n"
	".gap, .nw { white-space: nowrap; }\n"
	"tr.sub td:first-child { padding-left: 22px; }\n"
	"tr.total td { font-weight: bold; background: #f6f8fa; }\n"
	".id { color: var(--muted); font-size: 11px; }\n"
	".note { color: var(--muted); font-size: 12px; }\n"
	"@page { size: A4; margin: 12mm; }\n"
	"@media print {\n"
	"  body { margin: 0; max-width: none; padding: 0; }\n"
	"  section + section { break-before: page; page-break-before: always; }\n"
	"  figure, .big, tr { break-inside: avoid; page-break-inside: avoid; }\n"
	"  thead { display: table-header-group; }\n"
	"}\n";

void html_begin(FILE *f, proto_str title, bool landscape)
{
	fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"nanti\">\n<title>", f);
	html_text(f, title, 0);
	fputs("</title>\n<style>\n", f);
	fputs(html_css, f);
	if (landscape)
		fputs("@page { size: A4 landscape; margin: 10mm; }\n", f);
	fputs("</style>\n</head>\n<body>\n", f);
}

void html_end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}

/* ---- charts ---- */

static void html_legend(FILE *f, const struct html_key *keys, size_t nkeys,
			const char *const *extra)
{
	fputs("<ul class=\"legend\">", f);
	for (size_t k = 0; k < nkeys; k++) {
		fprintf(f, "<li><span class=\"sw\" style=\"background:%s\"></span>", keys[k].color);
		html_cstr(f, keys[k].name);
		if (extra != NULL && extra[k] != NULL) {
			fputc(' ', f);
			html_cstr(f, extra[k]);
		}
		fputs("</li>", f);
	}
	fputs("</ul>\n", f);
}

/* A chart's opening: the figure, its caption and legend, then the SVG of height h; or,
 * when empty is given, that note and the figure's end (false: nothing more to draw). */
static bool html_chart_open(FILE *f, const char *title, const struct html_key *keys,
			    size_t nkeys, const char *const *extra, const char *empty,
			    const char *data, int h)
{
	fputs("<figure>\n<figcaption>", f);
	html_cstr(f, title);
	fputs("</figcaption>\n", f);
	html_legend(f, keys, nkeys, extra);
	if (empty != NULL) {
		fprintf(f, "<p class=\"note\">%s</p>\n</figure>\n", empty);
		return false;
	}
	fprintf(f, "<svg class=\"chart\" data-chart=\"%s\" viewBox=\"0 0 %d %d\" "
		"role=\"img\">\n", data, HTML_W, h);
	return true;
}

/* The row's label, right-aligned before the bars, its id smaller after it. */
static void html_row_label(FILE *f, const struct html_row *r, int y)
{
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", HTML_LABEL_X, y);
	html_text(f, r->label, r->id.len > 0 ? HTML_LABEL_MAX - 8 : HTML_LABEL_MAX);
	if (r->id.len > 0) {
		fputs(" <tspan class=\"id\">", f);
		html_text(f, r->id, 12);
		fputs("</tspan>", f);
	}
	fputs("</text>\n", f);
}

/* The width of value v on a scale where max is the full bar, in viewBox units. */
static double html_scale(int64_t v, int64_t max)
{
	if (v <= 0 || max <= 0)
		return 0.0;
	return (double)(v > max ? max : v) * HTML_BAR_W / (double)max;
}

static int64_t html_total(const struct html_row *r, size_t nkeys)
{
	int64_t t = 0;

	for (size_t k = 0; k < nkeys; k++)
		t += r->value[k] > 0 ? r->value[k] : 0;
	return t;
}

void html_bars(FILE *f, const char *title, const char *data, const struct html_key *keys,
	       size_t nkeys, const struct html_row *rows, size_t n, int64_t max, bool stacked)
{
	int row_h, h;

	nkeys = nkeys > HTML_BARS ? HTML_BARS : nkeys;
	row_h = stacked ? 24 : (int)nkeys * 16 + 10;
	h = (int)n * row_h + 8;
	if (max <= 0) {
		for (size_t i = 0; i < n; i++) {
			for (size_t k = 0; !stacked && k < nkeys; k++)
				max = rows[i].value[k] > max ? rows[i].value[k] : max;
			if (stacked && html_total(&rows[i], nkeys) > max)
				max = html_total(&rows[i], nkeys);
		}
	}
	max = max > 0 ? max : 1;
	if (!html_chart_open(f, title, keys, nkeys, NULL, n == 0 ? "nothing to show" : NULL,
			     data, h))
		return;
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\"/>\n",
		HTML_BAR_X, HTML_BAR_X, h);
	for (size_t i = 0; i < n; i++) {
		const struct html_row *r = &rows[i];
		int y = (int)i * row_h + 6;
		double x = HTML_BAR_X;

		html_row_label(f, r, y + row_h / 2);
		if (stacked) {
			for (size_t k = 0; k < nkeys; k++) {
				double w = html_scale(r->value[k], max);

				if (w <= 0.0)
					continue;
				fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" "
					"fill=\"%s\"><title>", x, y, w, keys[k].color);
				html_cstr(f, keys[k].name);
				fprintf(f, ": %" PRId64 "</title></rect>\n", r->value[k]);
				if (w >= 7.0 * (double)strlen(r->text[k]) + 4.0)
					fprintf(f, "<text class=\"in\" x=\"%.1f\" y=\"%d\" "
						"text-anchor=\"middle\">%s</text>\n", x + w / 2,
						y + 12, r->text[k]);
				x += w;
			}
			fprintf(f, "<text x=\"%.1f\" y=\"%d\">%" PRId64 "</text>\n", x + 6, y + 12,
				html_total(r, nkeys));
			continue;
		}
		for (size_t k = 0; k < nkeys; k++) {
			double w = r->value[k] == HTML_NIL ? 0.0 : html_scale(r->value[k], max);
			int yb = y + (int)k * 16;

			if (w > 0.0)
				fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"13\" "
					"fill=\"%s\"/>\n", HTML_BAR_X, yb, w, keys[k].color);
			fprintf(f, "<text x=\"%.1f\" y=\"%d\">", HTML_BAR_X + w + 5, yb + 11);
			html_cstr(f, r->text[k]);
			fputs("</text>\n", f);
		}
	}
	fputs("</svg>\n</figure>\n", f);
}

/* The step between the four grid lines of a scale that holds max: 1, 2 or 5 times a
 * power of ten, so that every line is at a round number. */
static int64_t html_step(int64_t max)
{
	int64_t want = max <= 4 ? 1 : (max + 3) / 4, p = 1;

	while (p <= INT64_MAX / 10 && p * 10 <= want)
		p *= 10;
	return want <= p ? p : want <= 2 * p ? 2 * p : want <= 5 * p ? 5 * p : 10 * p;
}

void html_lines(FILE *f, const char *title, const char *data, const struct html_key *keys,
		size_t nkeys, const proto_str *x, const int64_t *v, size_t n)
{
	enum { L = 60, R = 150, T = 14, B = 36, H = 300 };
	const int pw = HTML_W - L - R, ph = H - T - B;
	char extra[HTML_BARS][64];
	const char *ex[HTML_BARS];
	int64_t top = 0, last_y[HTML_BARS];

	nkeys = nkeys > HTML_BARS ? HTML_BARS : nkeys;
	for (size_t k = 0; k < nkeys; k++) {
		int64_t hi = 0;

		for (size_t i = 0; i < n; i++)
			hi = v[k * n + i] > hi ? v[k * n + i] : hi;
		top = hi > top ? hi : top;
		snprintf(extra[k], sizeof extra[k], "(last %" PRId64 ", highest %" PRId64 ")",
			 n > 0 ? v[k * n + n - 1] : 0, hi);
		ex[k] = extra[k];
	}
	top = html_step(top) * 4;
	if (!html_chart_open(f, title, keys, nkeys, ex, n == 0 ? "no days to show" : NULL, data,
			     H))
		return;
	for (int g = 0; g <= 4; g++) {
		int y = T + ph - g * ph / 4;

		fprintf(f, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
			g == 0 ? "axis" : "grid", L, y, L + pw, y);
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRId64 "</text>\n",
			L - 6, y + 4, top * g / 4);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", L, T, L,
		T + ph);
	for (size_t j = 0; j < 3; j++) {
		size_t i = j == 0 ? 0 : j == 1 ? n / 2 : n - 1;
		double px = n > 1 ? L + (double)pw * (double)i / (double)(n - 1) : L + pw / 2.0;

		if ((j == 1 && (i == 0 || i == n - 1)) || (j == 2 && n == 1))
			continue;
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">", px, T + ph + 18,
			j == 0 && n > 1 ? "start" : j == 2 ? "end" : "middle");
		html_text(f, x[i], 10);
		fputs("</text>\n", f);
	}
	for (size_t k = 0; k < nkeys; k++) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			keys[k].color);
		for (size_t i = 0; i < n; i++) {
			double px = n > 1 ? L + (double)pw * (double)i / (double)(n - 1) :
				    L + pw / 2.0;
			int64_t val = v[k * n + i] < 0 ? 0 : v[k * n + i];

			fprintf(f, "%s%.1f,%.1f", i > 0 ? " " : "", px,
				T + ph - (double)ph * (double)val / (double)top);
		}
		fputs("\"/>\n", f);
		/* the last value at the line's end, moved clear of the labels above it */
		last_y[k] = T + ph - (int64_t)((double)ph * (double)(v[k * n + n - 1] < 0 ? 0 :
					       v[k * n + n - 1]) / (double)top);
		for (size_t j = 0; j < k; j++)
			if (last_y[k] > last_y[j] - 14 && last_y[k] < last_y[j] + 14)
				last_y[k] = last_y[j] + 14;
		fprintf(f, "<text x=\"%d\" y=\"%" PRId64 "\">", L + pw + 6, last_y[k] + 4);
		html_cstr(f, keys[k].name);
		fprintf(f, " %" PRId64 "</text>\n", v[k * n + n - 1]);
	}
	fputs("</svg>\n</figure>\n", f);
}
