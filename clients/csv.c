/*
 * csv.c - a strict RFC 4180 reader for `nanti import` (csv.h).
 *
 * Strict because a CSV file that a program misreads fails quietly: a stray quote that one
 * reader takes literally and another takes as the start of a quoted field shifts every
 * field after it. So the reader accepts exactly RFC 4180 (with LF as well as CRLF line
 * endings, since most tools write LF) and calls everything else a syntax error with its
 * line: a quote inside an unquoted field, text after a closing quote, a quoted field never
 * closed, a lone CR. After an error it resumes at the next line, so that one bad line does
 * not hide the errors of the lines after it.
 *
 * Zero-copy: the buffer is the caller's and is modified in place. Unescaping a quoted field
 * writes each byte at or before where it was read (a doubled quote shrinks to one), so a
 * field never overtakes the text still to be read. Fields are not NUL-terminated.
 */
#include <stdio.h>
#include <string.h>

#include "csv.h"

void csv_init(struct csv *c, char *buf, size_t len)
{
	c->p = buf;
	c->end = buf + len;
	c->line = 1;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c->p += 3;
}

/* After a syntax error: go on after the next line feed (or at the end). */
static void csv_skip_line(struct csv *c)
{
	char *lf = memchr(c->p, '\n', (size_t)(c->end - c->p));

	if (lf == NULL) {
		c->p = c->end;
		return;
	}
	c->p = lf + 1;
	c->line++;
}

static enum csv_result csv_bad(struct csv *c, struct csv_record *r, uint32_t line,
			       char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
	r->line = line;
	csv_skip_line(c);
	return CSV_BAD;
}

/* The quoted field at c->p (on its opening quote) into f, unescaped in place. */
static enum csv_result csv_quoted(struct csv *c, struct csv_record *r, struct csv_field *f,
				  char *why, size_t whylen)
{
	uint32_t opened = c->line;
	char *in = c->p + 1, *out = in;

	f->ptr = in;
	f->quoted = true;
	for (;;) {
		if (in >= c->end) {
			snprintf(why, whylen, "a quoted field is not closed: it opens on this line "
				 "and runs to the end of the file");
			r->line = opened;
			c->p = c->end;
			return CSV_BAD;
		}
		if (*in == '"') {
			if (in + 1 < c->end && in[1] == '"') {
				*out++ = '"';
				in += 2;
				continue;
			}
			in++;
			break;
		}
		if (*in == '\n')
			c->line++;
		*out++ = *in++;
	}
	f->len = (size_t)(out - f->ptr);
	c->p = in;
	return CSV_RECORD;
}

enum csv_result csv_next(struct csv *c, struct csv_record *r, char *why, size_t whylen)
{
	r->n = 0;
	if (c->p >= c->end)
		return CSV_END;
	r->line = c->line;
	for (;;) {
		struct csv_field *f = &r->f[r->n];
		enum csv_result res;

		if (r->n == CSV_MAX_FIELDS) {
			char what[64];

			snprintf(what, sizeof what, "more than %d fields in a record",
				 CSV_MAX_FIELDS);
			return csv_bad(c, r, c->line, why, whylen, what);
		}
		if (c->p < c->end && *c->p == '"') {
			if ((res = csv_quoted(c, r, f, why, whylen)) != CSV_RECORD)
				return res;
		} else {
			f->ptr = c->p;
			f->quoted = false;
			while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
				if (*c->p == '"')
					return csv_bad(c, r, c->line, why, whylen,
						       "a quote inside an unquoted field: quote the "
						       "whole field and double the quote (\"a \"\"b\"\"\")");
				c->p++;
			}
			f->len = (size_t)(c->p - f->ptr);
		}
		r->n++;
		if (c->p >= c->end)
			return CSV_RECORD;
		switch (*c->p) {
		case ',':
			c->p++;
			continue;
		case '\n':
			c->p++;
			c->line++;
			return CSV_RECORD;
		case '\r':
			if (c->p + 1 < c->end && c->p[1] == '\n') {
				c->p += 2;
				c->line++;
				return CSV_RECORD;
			}
			return csv_bad(c, r, c->line, why, whylen,
				       "a carriage return without a line feed (lines end in LF or "
				       "CRLF)");
		default:
			return csv_bad(c, r, c->line, why, whylen,
				       "text after the closing quote of a field (a quote inside a "
				       "quoted field is written twice: \"\")");
		}
	}
}

