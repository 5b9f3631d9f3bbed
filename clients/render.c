/*
 * render.c - how the nanti client shows replies and log entries to people.
 *
 * Output for people is aligned and short: times in local time to the minute
 * ("2026-06-08 14:03"), tables whose columns fit their contents, one line per log entry.
 * Alignment counts terminal columns, not bytes: the data is full of Chinese names (安岭乡
 * is 9 bytes and 6 columns), so a small table of East Asian wide ranges and zero-width
 * marks stands in for wcwidth(), which would depend on the user's locale being UTF-8
 * while the protocol's strings are UTF-8 whatever the locale.
 *
 * Everything shown comes from the daemon and is treated as untrusted: control characters,
 * C1 controls and bidirectional overrides are shown as '?', so a crafted title cannot move
 * the cursor or disguise text. Fields that are missing or of the wrong type print as "-";
 * what a script needs verbatim it gets from --json.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "render.h"

#define RENDER_CELL_MAX	24	/* columns of a table cell (the last column is not cut) */
#define RENDER_WHAT_MAX	80	/* columns of the WHAT of a log line */
#define RENDER_NUM_BUF	24

struct render_range {
	uint32_t lo, hi;
};

static const struct render_range render_wide[] = {
	{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff }, { 0x3400, 0x4dbf },
	{ 0x4e00, 0x9fff }, { 0xa000, 0xa4cf }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff },
	{ 0xfe30, 0xfe4f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f },
	{ 0x1f900, 0x1f9ff }, { 0x20000, 0x3fffd },
};

static const struct render_range render_zero[] = {
	{ 0x0300, 0x036f }, { 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x200b, 0x200f },
	{ 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f },
};

static const struct render_range render_hidden[] = {
	{ 0x00, 0x1f }, { 0x7f, 0x9f }, { 0x202a, 0x202e }, { 0x2066, 0x2069 },
};

enum render_class { RC_NORMAL, RC_WIDE, RC_ZERO, RC_SPACE, RC_HIDDEN };

static bool render_in(const struct render_range *r, size_t n, uint32_t cp)
{
	for (size_t i = 0; i < n; i++)
		if (cp >= r[i].lo && cp <= r[i].hi)
			return true;
	return false;
}

#define RENDER_IN(table, cp) render_in(table, sizeof table / sizeof table[0], cp)

static enum render_class render_classify(uint32_t cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r')
		return RC_SPACE;
	if (RENDER_IN(render_hidden, cp))
		return RC_HIDDEN;
	if (RENDER_IN(render_zero, cp))
		return RC_ZERO;
	return RENDER_IN(render_wide, cp) ? RC_WIDE : RC_NORMAL;
}

/* Decode the character at s[0..n), n >= 1, into *cp; returns its length in bytes.
 * A malformed sequence is one byte long and decodes to UINT32_MAX. */
static size_t render_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t k;

	*cp = UINT32_MAX;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	k = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
	if (k == 0 || k >= n)
		return 1;
	c &= 0x3fu >> k;
	for (size_t j = 1; j <= k; j++) {
		if ((s[j] & 0xc0) != 0x80)
			return 1;
		c = (c << 6) | (s[j] & 0x3f);
	}
	*cp = c;
	return k + 1;
}

static size_t render_cols(enum render_class c)
{
	return c == RC_WIDE ? 2 : c == RC_ZERO ? 0 : 1;
}

/* Terminal columns of s as render_out() writes it on one line. */
static size_t render_width(proto_str s)
{
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t cols = 0, k;
	uint32_t cp;

	for (size_t i = 0; i < s.len; i += k) {
		k = render_decode(p + i, s.len - i, &cp);
		cols += cp == UINT32_MAX ? 1 : render_cols(render_classify(cp));
	}
	return cols;
}

/*
 * Write s to f for a terminal. indent NULL: on one line, at most max columns (0: no
 * limit), ending in "…" when cut; tabs and newlines become spaces. indent not NULL: newlines
 * are kept and each is followed by indent. Hidden characters are written as '?'.
 */
static void render_out(FILE *f, proto_str s, size_t max, const char *indent)
{
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t cols = 0, limit = SIZE_MAX, k;
	uint32_t cp;

	if (max > 0 && render_width(s) > max)
		limit = max - 1;
	for (size_t i = 0; i < s.len; i += k) {
		enum render_class c;

		k = render_decode(p + i, s.len - i, &cp);
		c = cp == UINT32_MAX ? RC_HIDDEN : render_classify(cp);
		if (cols + render_cols(c) > limit) {
			fputs("…", f);
			return;
		}
		cols += render_cols(c);
		if (cp == '\n' && indent != NULL) {
			fputc('\n', f);
			fputs(indent, f);
		} else if (c == RC_SPACE) {
			fputc(' ', f);
		} else if (c == RC_HIDDEN) {
			fputc('?', f);
		} else {
			fwrite(p + i, 1, k, f);
		}
	}
}

void render_text(FILE *f, proto_str s, size_t max)
{
	render_out(f, s, max, NULL);
}

/* s cut to cap columns, padded with spaces to width columns (on the left if right). */
static void render_pad(FILE *f, proto_str s, size_t width, size_t cap, bool right)
{
	size_t w = render_width(s);

	w = w > cap ? cap : w;
	if (right)
		fprintf(f, "%*s", (int)(width > w ? width - w : 0), "");
	render_out(f, s, cap, NULL);
	if (!right)
		fprintf(f, "%*s", (int)(width > w ? width - w : 0), "");
}

static proto_str render_cstr(const char *s)
{
	return (proto_str){ s, (uint32_t)strlen(s) };
}

/* The string under key in map, or "-". */
static proto_str render_str(const msgpack_object *map, const char *key)
{
	proto_str s;

	return proto_obj_str(proto_map_get(map, key), &s) ? s : render_cstr("-");
}

/* The non-negative integer in o as text, or "-". */
static const char *render_uint(char buf[RENDER_NUM_BUF], const msgpack_object *o)
{
	uint64_t u;

	if (!proto_obj_u64(o, &u))
		return "-";
	snprintf(buf, RENDER_NUM_BUF, "%" PRIu64, u);
	return buf;
}

void render_time(char buf[RENDER_TIME_BUF], const msgpack_object *o, bool seconds)
{
	struct tm tm;
	int64_t ms;
	time_t t;

	if (!proto_obj_i64(o, &ms)) {
		snprintf(buf, RENDER_TIME_BUF, "-");
		return;
	}
	t = (time_t)(ms / 1000);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, RENDER_TIME_BUF, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M",
		     &tm) == 0)
		snprintf(buf, RENDER_TIME_BUF, "%" PRId64, ms);
}

void render_json(FILE *f, const msgpack_object *o)
{
	proto_json(f, o);
	fputc('\n', f);
}

/* ---- log entries ---- */

void render_entry_header(FILE *f)
{
	fprintf(f, "%7s  %-16s  %-12s  %5s  %-16s  %s\n",
		"SEQ", "AT", "TOPIC", "CASE", "ACTOR", "WHAT");
}

/* What an entry did, in a few words: its title for an opening, its text for a note. */
static void render_what(FILE *f, const msgpack_object *e)
{
	char num[RENDER_NUM_BUF];
	proto_str s;

	if (proto_obj_str(proto_map_get(e, "title"), &s)) {
		fputc('[', f);
		render_out(f, render_str(e, "kind"), RENDER_CELL_MAX, NULL);
		fputs("] ", f);
		render_out(f, s, RENDER_WHAT_MAX, NULL);
	} else if (proto_obj_str(proto_map_get(e, "text"), &s)) {
		fprintf(f, "note %s: ", render_uint(num, proto_map_get(e, "note")));
		render_out(f, s, RENDER_WHAT_MAX, NULL);
	}
}

void render_entry(FILE *f, const msgpack_object *e)
{
	char at[RENDER_TIME_BUF], seq[RENDER_NUM_BUF], cs[RENDER_NUM_BUF];

	render_time(at, proto_map_get(e, "at"), false);
	fprintf(f, "%7s  %-16s  ", render_uint(seq, proto_map_get(e, "seq")), at);
	render_pad(f, render_str(e, "topic"), 12, RENDER_CELL_MAX, false);
	fprintf(f, "  %5s  ", render_uint(cs, proto_map_get(e, "case")));
	render_pad(f, render_str(e, "actor"), 16, 16, false);
	fputs("  ", f);
	render_what(f, e);
	fputc('\n', f);
}

/* ---- one case ---- */

/* A field of a case as shown: its label (or column title), its key, how to show it. */
struct render_field {
	const char *label;
	const char *key;
	int how;		/* enum render_row or enum render_cell */
};

enum render_row { ROW_STR, ROW_TAGS, ROW_OPENED, ROW_UPDATED, ROW_TEXT };

static const struct render_field render_case_rows[] = {
	{ "kind", "kind", ROW_STR },
	{ "status", "status", ROW_STR },
	{ "unit", "unit", ROW_STR },
	{ "lead", "lead", ROW_STR },
	{ "tags", "tags", ROW_TAGS },
	{ "opened", "opened_at", ROW_OPENED },
	{ "updated", "updated_at", ROW_UPDATED },
	{ "description", "description", ROW_TEXT },
};

#define RENDER_LABEL "  %-12s "
#define RENDER_LABEL_INDENT "               "	/* as wide as RENDER_LABEL */

static void render_case_row(FILE *f, const msgpack_object *c, size_t i)
{
	const msgpack_object *v = proto_map_get(c, render_case_rows[i].key);
	char at[RENDER_TIME_BUF], num[RENDER_NUM_BUF];

	if (v == NULL || (v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 0))
		return;
	fprintf(f, RENDER_LABEL, render_case_rows[i].label);
	switch (render_case_rows[i].how) {
	case ROW_STR:
		render_out(f, render_str(c, render_case_rows[i].key), 0, NULL);
		break;
	case ROW_TAGS:
		if (v->type != MSGPACK_OBJECT_ARRAY) {
			fputc('-', f);
			break;
		}
		for (uint32_t j = 0; j < v->via.array.size; j++) {
			proto_str tag;

			fputs(j > 0 ? ", " : "", f);
			render_out(f, proto_obj_str(&v->via.array.ptr[j], &tag) ? tag
				   : render_cstr("-"), 0, NULL);
		}
		break;
	case ROW_OPENED:
		render_time(at, v, false);
		fprintf(f, "%s by ", at);
		render_out(f, render_str(c, "opened_by"), 0, NULL);
		fprintf(f, " (seq %s)", render_uint(num, proto_map_get(c, "opened_seq")));
		break;
	case ROW_UPDATED:
		render_time(at, v, false);
		fprintf(f, "%s (seq %s)", at, render_uint(num, proto_map_get(c, "updated_seq")));
		break;
	case ROW_TEXT:
		render_out(f, render_str(c, render_case_rows[i].key), 0, RENDER_LABEL_INDENT);
		break;
	}
	fputc('\n', f);
}

static void render_note(FILE *f, const msgpack_object *n)
{
	char at[RENDER_TIME_BUF], num[RENDER_NUM_BUF], seq[RENDER_NUM_BUF];

	render_time(at, proto_map_get(n, "at"), false);
	fprintf(f, "  #%s  %s  ", render_uint(num, proto_map_get(n, "note")), at);
	render_out(f, render_str(n, "actor"), 0, NULL);
	fprintf(f, "  (seq %s)\n      ", render_uint(seq, proto_map_get(n, "seq")));
	render_out(f, render_str(n, "text"), 0, "      ");
	fputc('\n', f);
}

void render_case(FILE *f, const msgpack_object *c)
{
	const msgpack_object *notes = proto_map_get(c, "notes");
	uint32_t shown = notes != NULL && notes->type == MSGPACK_OBJECT_ARRAY ?
			 notes->via.array.size : 0;
	char num[RENDER_NUM_BUF];
	uint64_t count = shown;

	fprintf(f, "case %s  ", render_uint(num, proto_map_get(c, "id")));
	render_out(f, render_str(c, "title"), 0, NULL);
	fputc('\n', f);
	for (size_t i = 0; i < sizeof render_case_rows / sizeof render_case_rows[0]; i++)
		render_case_row(f, c, i);
	proto_obj_u64(proto_map_get(c, "note_count"), &count);
	if (shown == 0) {
		fputs("\nno notes\n", f);
		return;
	}
	if (count > shown)
		fprintf(f, "\nnotes (the last %u of %" PRIu64 "):\n", shown, count);
	else
		fprintf(f, "\nnotes (%u):\n", shown);
	for (uint32_t i = 0; i < shown; i++)
		render_note(f, &notes->via.array.ptr[i]);
}

/* ---- case tables ---- */

enum render_cell { CELL_UINT, CELL_STR, CELL_TIME };

static const struct render_field render_case_cols[] = {
	{ "ID", "id", CELL_UINT },
	{ "KIND", "kind", CELL_STR },
	{ "STATUS", "status", CELL_STR },
	{ "LEAD", "lead", CELL_STR },
	{ "UNIT", "unit", CELL_STR },
	{ "NOTES", "note_count", CELL_UINT },
	{ "UPDATED", "updated_at", CELL_TIME },
	{ "TITLE", "title", CELL_STR },
};

#define RENDER_NCOLS (sizeof render_case_cols / sizeof render_case_cols[0])

/* The text of column col for row; buf holds it when it is made up. */
static proto_str render_cell(size_t col, const msgpack_object *row, char buf[RENDER_TIME_BUF])
{
	const msgpack_object *v = proto_map_get(row, render_case_cols[col].key);

	switch (render_case_cols[col].how) {
	case CELL_UINT:
		return render_cstr(render_uint(buf, v));
	case CELL_TIME:
		render_time(buf, v, false);
		return render_cstr(buf);
	case CELL_STR:
		break;
	}
	return render_str(row, render_case_cols[col].key);
}

void render_cases(FILE *f, const msgpack_object *const *rows, size_t n)
{
	size_t width[RENDER_NCOLS];
	char buf[RENDER_TIME_BUF];

	for (size_t c = 0; c < RENDER_NCOLS; c++) {
		width[c] = strlen(render_case_cols[c].label);
		for (size_t r = 0; r < n; r++) {
			size_t w = render_width(render_cell(c, rows[r], buf));

			w = w > RENDER_CELL_MAX ? RENDER_CELL_MAX : w;
			width[c] = w > width[c] ? w : width[c];
		}
	}
	for (size_t r = 0; r <= n; r++) {
		for (size_t c = 0; c < RENDER_NCOLS; c++) {
			proto_str s = r == 0 ? render_cstr(render_case_cols[c].label)
				      : render_cell(c, rows[r - 1], buf);

			if (c + 1 == RENDER_NCOLS) {
				render_out(f, s, 0, NULL);
				break;
			}
			render_pad(f, s, width[c], RENDER_CELL_MAX,
				   render_case_cols[c].how == CELL_UINT);
			fputs("  ", f);
		}
		fputc('\n', f);
	}
}
