/*
 * csv.h - a strict RFC 4180 reader over a buffer in memory, for `nanti import`.
 *
 * Records come out one at a time, their fields pointing into the buffer: a quoted field
 * is unescaped in place (a doubled quote becomes one), which only ever shrinks it, so the
 * reader allocates nothing and a record costs no copy. Every record knows the physical
 * line it starts on, which is what error messages name.
 */
#ifndef CSV_H
#define CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSV_MAX_FIELDS 16	/* fields in one record; more is a syntax error */
#define CSV_WHY 160		/* size of the buffer that receives a syntax error */

struct csv {
	char *p, *end;		/* the cursor and the end of the buffer */
	uint32_t line;		/* the physical line of the cursor, from 1 */
};

struct csv_field {
	char *ptr;		/* into the buffer; not NUL-terminated */
	size_t len;
	bool quoted;
};

struct csv_record {
	uint32_t line;		/* the physical line the record starts on */
	size_t n;		/* fields */
	struct csv_field f[CSV_MAX_FIELDS];
};

/* Start reading buf[0..len), which the reader modifies (quoted fields are unescaped in
 * place) and which must outlive every record read from it. A UTF-8 byte order mark at the
 * start is skipped. */
void csv_init(struct csv *c, char *buf, size_t len);

enum csv_result {
	CSV_END = 0,		/* no more records */
	CSV_RECORD,		/* *r holds the next record */
	CSV_BAD,		/* a syntax error: why says what, *r->line where; reading goes on
				 * at the next line */
};

/*
 * csv_next - read the next record into r. Records end at LF or CRLF (outside quotes) or at
 * the end of the buffer; a final line ending does not start an empty record. A field is
 * quoted if it starts with '"'; inside, '""' is a quote and line endings are data. It is
 * a syntax error for a quote to appear inside an unquoted field, for anything but a comma
 * or a line ending to follow a closing quote, for a quoted field not to be closed, for a
 * CR to come without its LF, and for a record to hold more than CSV_MAX_FIELDS fields.
 * After CSV_BAD the reader skips to the next line (past an unclosed quote: to the end).
 */
enum csv_result csv_next(struct csv *c, struct csv_record *r, char *why, size_t whylen);

#endif
