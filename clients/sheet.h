/*
 * sheet.h - what every import of a CSV file shares: the file read whole and its rows by
 * column, errors reported by line, the progress bar, tables of ids, questions to the
 * ledger, and the puts sent many at a time.
 *
 * `nanti import units|people` (import.c), `nanti household import` (households.c) and
 * `nanti pair import` (pairing.c) all work the same way: check the whole file first, with
 * the ledger's side of it asked of the daemon, report every bad row with its physical line,
 * send nothing if there is any, then send the puts through a window of requests in flight.
 * This module is that way of working; each command keeps only its columns, its rules and
 * what it sends.
 */
#ifndef SHEET_H
#define SHEET_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd.h"
#include "csv.h"
#include "pipeline.h"

#define SHEET_MAX_COLS	12	/* columns a kind of file may have */
#define SHEET_Q		80	/* a value quoted in a message, with its quotes */
#define SHEET_MSG	512	/* a message */
#define SHEET_PAGE	1000	/* items a list request asks for */

/* What the ledger said of an id (struct sheet_id's kind), besides the caller's codes. */
#define SHEET_ABSENT	(-1)	/* the daemon said not_found */
#define SHEET_UNASKED	(-2)	/* not asked (yet) */

/* A kind of file: its columns and its bounds. */
struct sheet_spec {
	const char *records;		/* "units": in messages and the JSON summary */
	const char *command;		/* "import units": what its messages start with */
	const char *const *cols;	/* column names, NULL-terminated */
	unsigned optional;		/* bits of the columns that may be left out */
	size_t max_bytes;		/* of the file */
	size_t max_rows;		/* rows of the file, syntax errors included */
};

struct sheet_syntax {
	uint32_t line;
	char why[CSV_WHY];
};

struct sheet_bar {
	bool on;		/* stderr is a terminal */
	const char *doing;	/* "checking", "applying" */
	size_t done, total, sent;	/* sent: requests sent, when it is not done */
	int64_t start_ms;	/* for the rate */
	int64_t next_ms;	/* when to draw again; 0: nothing drawn */
};

/* A file being imported. The buffer holds the file; fields point into it. */
struct sheet {
	const struct sheet_spec *k;
	struct run *r;
	const char *path;	/* as given; "-" is stdin */
	char *buf;
	size_t len;
	int col[SHEET_MAX_COLS];	/* the field of each column, -1 if absent */
	size_t nfields;		/* in the header */
	size_t nrows;		/* data rows */
	struct sheet_syntax *syn;	/* syntax errors, in line order */
	size_t nsyn, capsyn, syn_said;
	size_t errors;
	bool json_errors;	/* the JSON error list is open */
	struct sheet_bar bar;
	int64_t t0;
};

/* Start s on the file named path for the command run r. */
void sheet_init(struct sheet *s, const struct sheet_spec *k, struct run *r, const char *path);
void sheet_fini(struct sheet *s);

/* Monotonic milliseconds, and the seconds since sheet_init(). */
int64_t sheet_now_ms(void);
double sheet_seconds(const struct sheet *s);

/* "out of memory" on stderr; returns CLI_LOCAL. */
int sheet_oom(void);

/*
 * sheet_read - the file (stdin for "-") into s->buf, at most k->max_bytes. Returns CLI_OK,
 * CLI_USAGE (cannot read it: said), CLI_REFUSED (too large: said as an error of the file),
 * CLI_LOCAL.
 */
int sheet_read(struct sheet *s);

/*
 * sheet_parse - the header, then each data row in order: row(arg, line, v, n) with v the
 * fields by column (v[c] empty for a column the file leaves out), or v NULL for a row
 * whose n fields are not as many as the header's. The fields point into s->buf. Blank
 * rows are skipped; syntax errors are kept for sheet_syntax_until(). Returns CLI_OK, what
 * row() returned if not CLI_OK, CLI_REFUSED (no or a bad header, too many rows: said),
 * CLI_LOCAL.
 */
typedef int (*sheet_row_fn)(void *arg, uint32_t line, const proto_str *v, size_t n);
int sheet_parse(struct sheet *s, sheet_row_fn row, void *arg);

/* Report the syntax errors on lines before line (UINT32_MAX: all that are left), so that a
 * check walking its rows in order reports everything in line order. */
void sheet_syntax_until(struct sheet *s, uint32_t line);

/* An error of the file: "FILE:LINE: message" on stderr (line 0: "FILE: message"), and an
 * item of the JSON error list with --json. */
void sheet_error(struct sheet *s, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sheet_verror(struct sheet *s, uint32_t line, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* The file is invalid: close the JSON error list, say how many errors and that nothing
 * was sent. Returns CLI_REFUSED. */
int sheet_invalid(struct sheet *s);

/* "N field(s), and the header names M": the error of a row of the wrong width. */
void sheet_misfit(struct sheet *s, uint32_t line, size_t n);

/*
 * s for a message, in quotes: at most about 70 bytes (cut at a character, "..." added),
 * control characters and bytes that are not UTF-8 as '?'. The result is valid UTF-8 and
 * safe on a terminal and in JSON. Returns out.
 */
const char *sheet_q(char out[SHEET_Q], proto_str s);

/* s as a JSON string; bytes that are not UTF-8 as '?'. */
void sheet_json_str(FILE *f, const char *s);

/* s as a CSV field (RFC 4180, as csv.c reads it): quoted when it holds a comma, a quote or
 * a line break, a quote doubled. */
void sheet_csv_field(FILE *f, proto_str s);

/* The start of the JSON summary object: {"ok":ok,"records":...,"file":... */
void sheet_json_head(const struct sheet *s, bool ok);

/* Is the field empty? Equal? A C string as a field. */
bool sheet_eq(proto_str a, proto_str b);
proto_str sheet_cstr(const char *s);

/* The index of s in names (NULL-terminated), or -1. */
int sheet_enum(const char *const *names, proto_str s);

/* s without the spaces and tabs around it. */
proto_str sheet_trim(proto_str s);

/*
 * sheet_item - the next item of a list field separated by ';' (spaces around each item
 * dropped): *pos starts at 0; returns false once the items are done. An empty field has
 * no items; "a;;b" has an empty one.
 */
bool sheet_item(proto_str list, uint32_t *pos, proto_str *item);

/* ---- the progress bar (on a terminal only) ---- */

void sheet_bar_start(struct sheet *s, const char *doing, size_t total);
void sheet_bar_step(struct sheet *s);
void sheet_bar_sent(struct sheet *s);
void sheet_bar_clear(struct sheet *s);

/* ---- tables of ids ---- */

/* An id the import knows of: from the file, the ledger, or both. */
struct sheet_id {
	proto_str id;		/* into the file's buffer, or into a copy that owned holds */
	char *owned;
	int32_t row;		/* the first row of the file that defines it; -1 none */
	int32_t kind;		/* what the ledger said: the caller's code, SHEET_ABSENT or
				 * SHEET_UNASKED */
	uint32_t flags;		/* the caller's */
};

/* An open-addressing hash table of ids; cap is a power of two, at least twice n. */
struct sheet_ids {
	struct sheet_id *e;
	size_t cap, n;
};

/* The entry of id in t, or NULL. */
struct sheet_id *sheet_id_find(const struct sheet_ids *t, proto_str id);
/* The entry of id in t, added (row -1, kind SHEET_UNASKED) if new; NULL when out of
 * memory. Pointers into t are valid until the next sheet_id_add(). */
struct sheet_id *sheet_id_add(struct sheet_ids *t, proto_str id);
/* The entry of id in t, added as a copy that t owns if new; NULL when out of memory. */
struct sheet_id *sheet_id_add_dup(struct sheet_ids *t, proto_str id);
/* sheet_id_add_dup() of the string under key in map; NULL when out of memory or when
 * there is no such string (*bad set). */
struct sheet_id *sheet_id_add_copy(struct sheet_ids *t, const msgpack_object *map,
				   const char *key, bool *bad);
void sheet_ids_fini(struct sheet_ids *t);

/* ---- asking the ledger ---- */

/* A key of a list request: a string, or (s NULL) a boolean. */
struct sheet_kv {
	const char *key;
	const char *s;
	bool b;
};

/*
 * sheet_list - page through a list op (unit.list, person.list, household.list) with the
 * filters kv[0..n), limit items a page, over r's REQ connection (opened by the caller),
 * calling each(arg, item) for every item until it returns false or the list ends. `next`
 * must be an id past `after`. Returns an exit status (a refusal said on stderr).
 */
int sheet_list(struct run *r, const char *op, const struct sheet_kv *kv, size_t n,
	       uint32_t limit, bool (*each)(void *arg, const msgpack_object *item), void *arg);

/*
 * sheet_lookup - ask op {key: id} (unit.get, person.get, household.get) about every id of
 * t not asked yet (kind SHEET_UNASKED), many at a time over pl, calling reply(arg, e, rc, rep) for each answer (rc CLI_OK or
 * CLI_REFUSED; e is the entry asked about); reply returns CLI_OK or a status that stops.
 * Steps the bar. Returns an exit status.
 */
typedef int (*sheet_reply_fn)(void *arg, struct sheet_id *e, int rc,
			      const struct pipeline_reply *rep);
int sheet_lookup(struct sheet *s, struct pipeline *pl, struct sheet_ids *t, const char *op,
		 const char *key, sheet_reply_fn reply, void *arg);

/* "nanti: OP: CODE: MESSAGE" for a refused read. */
void sheet_refused_read(const char *op, proto_str code, proto_str message);

/* ---- sending ---- */

/* What an apply sends. */
struct sheet_puts {
	size_t nrows;
	int phases;	/* rows are sent a phase at a time, each confirmed before the next */
	/* The phase in which row i is sent (0 .. phases - 1), or -1: it is not sent. */
	int (*phase)(void *arg, size_t i);
	/* Pack row i's put, with request id id, into out. */
	void (*pack)(void *arg, size_t i, const char *id, proto_out *out);
	/* Was row i's record in the ledger before (a success is "updated", not "created")? */
	bool (*existed)(void *arg, size_t i);
	void *arg;
	/* The order to send the rows of a phase in: order[0..nrows) (NULL: line order). The
	 * daemon's indexes are B-trees: rows sent in key order land on few pages a commit. */
	const uint32_t *order;
};

/* What the puts did. */
struct sheet_tally {
	size_t sent;
	size_t created, updated, unchanged;	/* unchanged: the daemon said changed: false */
	uint64_t seq;		/* the highest seq a put replied */
	bool stop;		/* a put was refused: send no more */
	size_t refused_row;
	char refused_code[64], refused_msg[SHEET_MSG];
	size_t also_refused;	/* refusals of puts in flight after the first */
};

/*
 * sheet_apply - send the puts over pl, window permitting, and count the replies into t.
 * The first refusal stops the sending (t->stop; the puts in flight are waited for).
 * Returns CLI_OK (also after a refusal) or the status of a transport failure.
 */
int sheet_apply(struct sheet *s, struct pipeline *pl, const struct sheet_puts *p,
		struct sheet_tally *t);

/*
 * sheet_refusal - after a refusal during the apply: "FILE:LINE: refused by the daemon:
 * CODE: MESSAGE", what was applied of rows rows (skipped: rows not sent because the
 * ledger already held them so), and with --json the summary object. Returns CLI_REFUSED.
 */
int sheet_refusal(struct sheet *s, const struct sheet_tally *t, uint32_t line, size_t rows,
		  size_t skipped);

/* ,"rows":N,"created":..,"updated":..,"unchanged":..,"applied":.. of the JSON summary
 * (unchanged counts skipped rows too: skipped). */
void sheet_json_counts(const struct sheet_tally *t, size_t rows, size_t skipped);

#endif
