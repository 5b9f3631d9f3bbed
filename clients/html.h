/*
 * html.h - self-contained HTML pages for the nanti client: escaped text, one page with
 * its stylesheet inline (screen and A4 print), and charts drawn as inline SVG.
 *
 * The pages are made to be read offline, printed and pinned on a notice board: nothing in
 * them refers to anything outside the file (no script, stylesheet, font or image), and
 * every figure a chart draws is also written as text, so that it is in the DOM and in a
 * print. Everything written from the ledger goes through html_text(), which escapes it.
 */
#ifndef HTML_H
#define HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

/* s as HTML text or attribute value: & < > " ' as entities; control characters and bytes
 * that are not UTF-8 as U+FFFD. max > 0: at most max display columns (render.h's
 * measure: a Chinese character is two), ending in "…" when cut. */
void html_text(FILE *f, proto_str s, size_t max);
void html_cstr(FILE *f, const char *s);

/* The page: <!DOCTYPE html> ... <body>, titled title (escaped), with the stylesheet;
 * landscape: print A4 across (a wide table). html_end() closes it. */
void html_begin(FILE *f, proto_str title, bool landscape);
void html_end(FILE *f);

#define HTML_NIL	INT64_MIN	/* a value that is nil: no bar, "—" */
#define HTML_BARS	6		/* bars (or segments) of one row, at most */
#define HTML_LABEL	48		/* bytes of a bar's label */

/* A chart's series: its name in the legend and its colour (a CSS colour, trusted). */
struct html_key {
	const char *name;
	const char *color;
};

/* One row of a bar chart: its label (a unit's or a milestone's name; id: a smaller
 * second label, may be empty) and its bars, each a value and the text shown with it. */
struct html_row {
	proto_str label, id;
	int64_t value[HTML_BARS];
	char text[HTML_BARS][HTML_LABEL];
};

/*
 * html_bars - a horizontal bar chart titled title (a C string, escaped), one row per
 * rows[0..n), a legend of keys[0..nkeys). stacked: each row is one bar of nkeys segments
 * (each labelled with its value when there is room) and the row's total at its end;
 * else each row has nkeys bars, one under the other, each followed by its text. max: the
 * value of a full bar (0: the largest value, or the largest total when stacked).
 * data: the name of the data-chart attribute of the <svg>, for tests and scripts.
 */
void html_bars(FILE *f, const char *title, const char *data, const struct html_key *keys,
	       size_t nkeys, const struct html_row *rows, size_t n, int64_t max, bool stacked);

/*
 * html_lines - a line chart titled title of nkeys series over the days x[0..n): series k
 * has the values v[k * n + i]. The axes name the first, middle and last day and the
 * scale; each line ends in its last value, and the legend names each series with its
 * last and its highest value.
 */
void html_lines(FILE *f, const char *title, const char *data, const struct html_key *keys,
		size_t nkeys, const proto_str *x, const int64_t *v, size_t n);

#endif
