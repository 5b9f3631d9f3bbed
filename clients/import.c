/*
 * import.c - `nanti import units FILE.csv` and `nanti import people FILE.csv`.
 *
 * An operator sets a county up from a spreadsheet: hundreds of units, thousands of people.
 * What matters is that a file with mistakes changes nothing, that a good file goes in
 * quickly, and that importing the same file again is harmless.
 *
 * All or nothing, by checking first. The daemon applies each put on its own, so a file
 * sent row by row would stop halfway at its first bad row. Instead the whole file is
 * checked before anything is sent, against every rule the daemon would apply: the form of
 * each field, a row repeated in the file, and the references and the rules of the tree,
 * with the ledger's side of them asked of the daemon first (unit.get, person.get, and
 * lists of the county and the admins). Every mistake is reported, each with the physical
 * line of the file it is on, and if there is any, no write is sent. Only a change made
 * to the ledger by someone else between the check and the puts can make the daemon refuse
 * a row now; then the import stops, says what was applied, and running it again finishes.
 *
 * The work splits as the house style wants: the checks are functions of the file and of
 * what the ledger said (struct import_id), with no I/O but their report, run in two
 * passes: the first, silent, learns every id, kind and role so that a row may name a
 * parent that comes later in the file; the second, after the lookups, checks each row in
 * line order and prints its errors, so the report comes out sorted without being stored.
 * Around them sit the file, the daemon and the terminal.
 *
 * Speed: lookups and puts go over one DEALER socket with a window of requests in flight
 * (pipeline.c), so the daemon folds them into few group commits. The puts go in the order
 * of the tree, one level at a time (the county; townships, streets and organs; villages),
 * each level waiting for the level above to be confirmed. People go in an order that keeps
 * the admin rules (protocol.md section 9) true at every step: during the bootstrap, the
 * actor's own row first; rows that take the admin role away after those that give it, and
 * the actor's own last.
 *
 * Bounds: a file of at most IMPORT_MAX_BYTES, read whole into memory, and at most
 * IMPORT_MAX_ROWS rows; fields point into the file's buffer (csv.c unescapes in place).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csv.h"
#include "import.h"
#include "proto.h"
#include "pipeline.h"
#include "render.h"

#define IMPORT_MAX_BYTES (64u << 20)	/* a file; far beyond a county's units and people */
#define IMPORT_MAX_ROWS	100000		/* rows of a file */
#define IMPORT_WINDOW	128		/* requests in flight */
#define IMPORT_NAME_MAX	100		/* bytes in a name (the daemon's MODEL_MAX_NAME) */
#define IMPORT_COLS	5		/* columns of a file, at most */
#define IMPORT_Q	80		/* a value quoted in a message, with its quotes */
#define IMPORT_MSG	512		/* a message */
#define IMPORT_PAGE	1000		/* items a list request asks for */

/* The kind of a unit in the ledger, or one of these. */
#define IMPORT_ABSENT	(-1)		/* the daemon said not_found */
#define IMPORT_UNASKED	(-2)		/* not asked (yet) */

/* Unit kinds and roles, as the daemon names them (daemon/model.c): a kind is its index,
 * a role its bit. */
static const char *const import_kinds[] = {
	"county", "township", "street", "village", "organ", NULL
};
enum { KIND_COUNTY, KIND_TOWNSHIP, KIND_STREET, KIND_VILLAGE, KIND_ORGAN };
static const char *const import_roles[] = {
	"cadre", "resident_cadre", "leader", "unit_head", "county_leader", "theme_office",
	"supervision", "admin", NULL
};
#define ROLE_RESIDENT	(1u << 1)
#define ROLE_ADMIN	(1u << 7)

/* Columns: the id and the name come first in both kinds. */
enum { C_ID, C_NAME, C_KIND = 2, C_PARENT = 3, C_UNIT = 2, C_ROLES = 3, C_VILLAGE = 4 };

struct import_kind {
	bool people;
	const char *what;	/* "units" */
	const char *record;	/* "unit": the put's key, and the column of the id */
	const char *put, *get;	/* the ops */
	const char *cols[IMPORT_COLS + 1];	/* column names, NULL-terminated */
	unsigned optional;	/* bits of the columns that may be left out */
	int phases;		/* of the apply (import_phase_*) */
};

const struct import_kind import_units = {
	false, "units", "unit", "unit.put", "unit.get",
	{ "unit", "name", "kind", "parent", NULL }, 1u << C_PARENT, 3
};
const struct import_kind import_people = {
	true, "people", "person", "person.put", "person.get",
	{ "person", "name", "unit", "roles", "village", NULL }, 1u << C_VILLAGE, 4
};

const struct args_spec import_spec[IMPORT_NSPEC] = {
	{ "FILE", ARGS_STR, NULL, "the CSV file (UTF-8, a header row naming the columns; "
	  "'-': stdin)", { .key = NULL } },
	{ "--check", ARGS_FLAG, NULL, "check the file against itself and the ledger, and send "
	  "nothing", { .key = NULL } },
};

struct import_row {
	uint32_t line;			/* the physical line it starts on */
	proto_str v[IMPORT_COLS];	/* by column; an absent column is empty */
	int8_t kind;			/* units: the kind, -1 if it is not one */
	int16_t roles;			/* people: the role bits, -1 if they are not roles */
	uint8_t phase;			/* when it is sent */
	bool existed;			/* the ledger had the record before */
	bool misfit;			/* not as many fields as the header: no values */
	uint16_t nfields;		/* then, how many it has */
};

/* An id the import knows of: from the file, the ledger, or both. */
struct import_id {
	proto_str id;		/* into the file's buffer, or into a copy that owned holds */
	char *owned;
	int32_t row;		/* the first row of the file that defines it; -1 none */
	int8_t kind;		/* units: its kind in the ledger, IMPORT_ABSENT, IMPORT_UNASKED;
				 * people: IMPORT_ABSENT or 0 (the person exists) */
	bool admin;		/* people: holds admin in the ledger */
};

/* An open-addressing hash table of ids; cap is a power of two, at least twice n. */
struct import_ids {
	struct import_id *e;
	size_t cap, n;
};

struct import_syntax {
	uint32_t line;
	char why[CSV_WHY];
};

struct import_bar {
	bool on;		/* stderr is a terminal */
	const char *doing;
	size_t done, total;
	int64_t next_ms;	/* when to draw again */
};

struct import {
	struct run *r;
	const struct import_kind *k;
	const char *path;
	proto_str actor;
	char *buf;
	size_t len;

	struct import_row *row;
	size_t nrows, caprows;
	struct import_syntax *syn;	/* syntax errors, in line order */
	size_t nsyn, capsyn;
	int col[IMPORT_COLS];		/* the field of each column, -1 if absent */
	size_t nfields;			/* in the header */
	int32_t county_row;		/* units: the file's first county row, -1 none */

	struct import_ids ids;		/* units: units; people: persons */
	struct import_ids units;	/* people: the units and villages rows name */
	struct import_ids admins;	/* the ledger's admins */
	char *county;			/* the ledger's county, or NULL */
	bool bootstrap;			/* the ledger has no admin */
	bool oom;			/* a copy of what the ledger said failed */
	bool no_admin_left;		/* people: the file takes admin from every admin */
	const struct import_row *admin_first;	/* people: see import_admin_facts() */

	size_t errors;
	bool json_errors;		/* the JSON error list is open */
	struct import_bar bar;
	int64_t t0;

	struct pipeline pl;
	size_t created, updated, unchanged;
	uint64_t seq;			/* the highest seq a put replied */
	bool stop;			/* a put was refused: send no more */
	int32_t refused_row;
	char refused_code[64], refused_msg[IMPORT_MSG];
	size_t also_refused;
};

static int64_t import_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool import_eq(proto_str a, proto_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static proto_str import_cstr(const char *s)
{
	return (proto_str){ s, (uint32_t)strlen(s) };
}

/* ---- messages ---- */

/* The length of the UTF-8 sequence at s[0..n), or 0 if it is not a valid one. */
static size_t import_utf8_len(const char *s, size_t n)
{
	unsigned char b = (unsigned char)s[0];
	size_t k = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3
		   : (b & 0xf8) == 0xf0 ? 4 : 0;

	return k > 0 && k <= n && proto_utf8_valid(s, k) ? k : 0;
}

/*
 * s for a message, in quotes: at most about 70 bytes (cut at a character, "..." added),
 * control characters and bytes that are not UTF-8 as '?'. The result is valid UTF-8 and
 * safe on a terminal and in JSON (after escaping quotes and backslashes).
 */
static const char *import_q(char out[IMPORT_Q], proto_str s)
{
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t i = 0, o = 0;

	out[o++] = '\'';
	while (i < s.len && o < IMPORT_Q - 8) {
		size_t k = import_utf8_len(s.ptr + i, s.len - i);

		if (k == 0) {
			out[o++] = '?';
			i++;
		} else if (k == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
			out[o++] = '?';
			i++;
		} else {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		}
	}
	if (i < s.len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

/* s as a JSON string; bytes that are not UTF-8 as '?'. */
static void import_json_str(FILE *f, const char *s)
{
	size_t n = strlen(s);

	fputc('"', f);
	for (size_t i = 0, k; i < n; i += k) {
		unsigned char c = (unsigned char)s[i];

		if ((k = import_utf8_len(s + i, n - i)) == 0) {
			fputc('?', f);
			k = 1;
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else {
			fwrite(s + i, 1, k, f);
		}
	}
	fputc('"', f);
}

static void import_bar_clear(struct import *im);

/* The start of the JSON summary object: {"ok":ok,"records":...,"file":... */
static void import_json_head(struct import *im, bool ok)
{
	printf("{\"ok\":%s,\"records\":\"%s\",\"file\":", ok ? "true" : "false", im->k->what);
	import_json_str(stdout, im->path);
}

/* An error: "FILE:LINE: message" on stderr (line 0: "FILE: message"), and an item of the
 * JSON error list with --json. */
static void import_error(struct import *im, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void import_error(struct import *im, uint32_t line, const char *fmt, ...)
{
	char msg[IMPORT_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	import_bar_clear(im);
	fflush(stdout);
	if (line > 0)
		fprintf(stderr, "%s:%" PRIu32 ": %s\n", im->path, line, msg);
	else
		fprintf(stderr, "%s: %s\n", im->path, msg);
	im->errors++;
	if (!im->r->conf->json)
		return;
	if (!im->json_errors) {
		import_json_head(im, false);
		fputs(",\"errors\":[", stdout);
	} else {
		fputc(',', stdout);
	}
	im->json_errors = true;
	if (line > 0)
		printf("{\"line\":%" PRIu32 ",\"message\":", line);
	else
		fputs("{\"message\":", stdout);
	import_json_str(stdout, msg);
	fputc('}', stdout);
}

/* ---- the progress bar (a terminal only) ---- */

static void import_bar_draw(struct import *im)
{
	struct import_bar *b = &im->bar;
	size_t width = 30, fill = b->total > 0 ? b->done * width / b->total : width;
	char bar[32];

	memset(bar, '#', fill);
	memset(bar + fill, '.', width - fill);
	bar[width] = '\0';
	fprintf(stderr, "\r\033[Knanti: import %s: %s [%s] %zu/%zu", im->k->what, b->doing, bar,
		b->done, b->total);
	fflush(stderr);
}

static void import_bar_start(struct import *im, const char *doing, size_t total)
{
	im->bar.doing = doing;
	im->bar.done = 0;
	im->bar.total = total;
	im->bar.next_ms = 0;
}

static void import_bar_step(struct import *im)
{
	int64_t now;

	im->bar.done++;
	if (!im->bar.on)
		return;
	now = import_now_ms();
	if (now < im->bar.next_ms && im->bar.done < im->bar.total)
		return;
	im->bar.next_ms = now + 100;
	import_bar_draw(im);
}

static void import_bar_clear(struct import *im)
{
	if (!im->bar.on || im->bar.next_ms == 0)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	im->bar.next_ms = 0;
}

/* ---- the id tables ---- */

static uint64_t import_hash(proto_str s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (uint32_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.ptr[i]) * 0x100000001b3ULL;
	return h;
}

/* The slot of id in t: its entry, or the empty slot where it belongs. */
static struct import_id *import_slot(const struct import_ids *t, proto_str id)
{
	size_t i = (size_t)import_hash(id) & (t->cap - 1);

	while (t->e[i].id.ptr != NULL && !import_eq(t->e[i].id, id))
		i = (i + 1) & (t->cap - 1);
	return &t->e[i];
}

static struct import_id *import_find(const struct import_ids *t, proto_str id)
{
	struct import_id *e;

	if (t->cap == 0)
		return NULL;
	e = import_slot(t, id);
	return e->id.ptr != NULL ? e : NULL;
}

/* The entry of id in t, added (row -1, kind unasked) if new; NULL when out of memory.
 * Pointers into t are valid until the next import_add(). */
static struct import_id *import_add(struct import_ids *t, proto_str id)
{
	struct import_id *e;

	if ((t->n + 1) * 2 > t->cap) {
		struct import_ids grown = { NULL, t->cap ? t->cap * 2 : 64, 0 };

		if ((grown.e = calloc(grown.cap, sizeof *grown.e)) == NULL)
			return NULL;
		for (size_t i = 0; i < t->cap; i++)
			if (t->e[i].id.ptr != NULL)
				*import_slot(&grown, t->e[i].id) = t->e[i];
		grown.n = t->n;
		free(t->e);
		*t = grown;
	}
	e = import_slot(t, id);
	if (e->id.ptr == NULL) {
		e->id = id;
		e->row = -1;
		e->kind = IMPORT_UNASKED;
		t->n++;
	}
	return e;
}

static void import_ids_fini(struct import_ids *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->e[i].owned);
	free(t->e);
	memset(t, 0, sizeof *t);
}

/* ---- reading the file ---- */

static int import_oom(void)
{
	cli_warn("out of memory");
	return CLI_LOCAL;
}

/* The file (or stdin for "-") into im->buf. Returns CLI_OK, CLI_USAGE (cannot read it),
 * CLI_REFUSED (too large: said as an error of the file), CLI_LOCAL; said on stderr. */
static int import_read(struct import *im)
{
	bool std = strcmp(im->path, "-") == 0;
	size_t cap = 1 << 16;
	struct stat st;
	int fd = std ? STDIN_FILENO : open(im->path, O_RDONLY | O_CLOEXEC), rc = CLI_OK;

	if (fd < 0) {
		cli_warn("import %s: cannot open %s: %s", im->k->what, im->path, strerror(errno));
		return CLI_USAGE;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_warn("import %s: %s is a directory", im->k->what, im->path);
		rc = CLI_USAGE;
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		cap = (uint64_t)st.st_size < IMPORT_MAX_BYTES ? (size_t)st.st_size + 1
			: IMPORT_MAX_BYTES + 1;
	if ((im->buf = malloc(cap)) == NULL) {
		rc = import_oom();
		goto out;
	}
	for (;;) {
		ssize_t got;

		if (im->len == cap) {
			char *grown;

			if (cap > IMPORT_MAX_BYTES) {
				import_error(im, 0, "the file is more than the %u MiB an import "
					     "takes: split it", IMPORT_MAX_BYTES >> 20);
				rc = CLI_REFUSED;
				goto out;
			}
			cap = cap * 2 > IMPORT_MAX_BYTES + 1 ? IMPORT_MAX_BYTES + 1 : cap * 2;
			if ((grown = realloc(im->buf, cap)) == NULL) {
				rc = import_oom();
				goto out;
			}
			im->buf = grown;
		}
		got = read(fd, im->buf + im->len, cap - im->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cli_warn("import %s: cannot read %s: %s", im->k->what, im->path,
				 strerror(errno));
			rc = CLI_USAGE;
			goto out;
		}
		if (got == 0)
			break;
		im->len += (size_t)got;
	}
out:
	if (!std)
		close(fd);
	return rc;
}

/* Is the record blank: no field, or only empty unquoted ones (a spreadsheet's empty row)? */
static bool import_blank(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		if (rec->f[i].len > 0 || rec->f[i].quoted)
			return false;
	return true;
}

/* The column names of the kind, for messages: "unit, name, kind, parent". */
static const char *import_colnames(const struct import_kind *k, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; k->cols[i] != NULL && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", k->cols[i]);
	return buf;
}

/* The header record: which field holds which column. Errors said; returns their count. */
static size_t import_header(struct import *im, const struct csv_record *rec)
{
	const struct import_kind *k = im->k;
	size_t before = im->errors;
	char names[128], q[IMPORT_Q];

	for (size_t c = 0; c < IMPORT_COLS; c++)
		im->col[c] = -1;
	im->nfields = rec->n;
	for (size_t i = 0; i < rec->n; i++) {
		proto_str name = { rec->f[i].ptr, (uint32_t)rec->f[i].len };
		size_t c;

		while (name.len > 0 && (name.ptr[0] == ' ' || name.ptr[0] == '\t'))
			name.ptr++, name.len--;
		while (name.len > 0 && (name.ptr[name.len - 1] == ' ' ||
					name.ptr[name.len - 1] == '\t'))
			name.len--;
		for (c = 0; k->cols[c] != NULL && !import_eq(name, import_cstr(k->cols[c])); c++)
			;
		if (k->cols[c] == NULL) {
			import_error(im, rec->line, "unknown column %s: the columns of a %s file "
				     "are %s", import_q(q, name), k->what,
				     import_colnames(k, names, sizeof names));
		} else if (im->col[c] >= 0) {
			import_error(im, rec->line, "the column %s is named twice", k->cols[c]);
		} else {
			im->col[c] = (int)i;
		}
	}
	for (size_t c = 0; k->cols[c] != NULL; c++)
		if (im->col[c] < 0 && !(k->optional & (1u << c)))
			import_error(im, rec->line, "no column '%s': the header names the columns "
				     "(%s)", k->cols[c], import_colnames(k, names, sizeof names));
	return im->errors - before;
}

/* Parse the file into rows and syntax errors. Returns CLI_OK, CLI_REFUSED (the header is
 * wrong or there are too many rows: said), CLI_LOCAL. */
static int import_parse(struct import *im)
{
	struct csv_record rec;
	char why[CSV_WHY], names[128];
	bool header = false;
	enum csv_result res;
	struct csv c;

	csv_init(&c, im->buf, im->len);
	while ((res = csv_next(&c, &rec, why, sizeof why)) != CSV_END) {
		struct import_row *w;

		if (res == CSV_BAD && !header) {
			import_error(im, rec.line, "%s", why);
			return CLI_REFUSED;
		}
		if (header && im->nrows + im->nsyn == IMPORT_MAX_ROWS) {
			import_error(im, rec.line, "more than %d rows: split the file",
				     IMPORT_MAX_ROWS);
			return CLI_REFUSED;
		}
		if (res == CSV_BAD) {
			if (im->nsyn == im->capsyn) {
				size_t cap = im->capsyn ? im->capsyn * 2 : 16;
				struct import_syntax *grown = realloc(im->syn, cap * sizeof *grown);

				if (grown == NULL)
					return import_oom();
				im->syn = grown;
				im->capsyn = cap;
			}
			im->syn[im->nsyn].line = rec.line;
			snprintf(im->syn[im->nsyn++].why, CSV_WHY, "%s", why);
			continue;
		}
		if (import_blank(&rec))
			continue;
		if (!header) {
			header = true;
			if (import_header(im, &rec) > 0)
				return CLI_REFUSED;
			continue;
		}
		if (im->nrows == im->caprows) {
			size_t cap = im->caprows ? im->caprows * 2 : 256;
			struct import_row *grown = realloc(im->row, cap * sizeof *grown);

			if (grown == NULL)
				return import_oom();
			im->row = grown;
			im->caprows = cap;
		}
		w = &im->row[im->nrows++];
		memset(w, 0, sizeof *w);
		w->line = rec.line;
		w->kind = -1;
		w->roles = -1;
		if (rec.n != im->nfields) {
			/* kept with no values, for the check to say so in line order */
			w->misfit = true;
			w->nfields = (uint16_t)rec.n;
			continue;
		}
		for (size_t col = 0; col < IMPORT_COLS; col++)
			if (im->col[col] >= 0)
				w->v[col] = (proto_str){ rec.f[im->col[col]].ptr,
							 (uint32_t)rec.f[im->col[col]].len };
	}
	if (!header) {
		import_error(im, 1, "no header: the first line names the columns (%s)",
			     import_colnames(im->k, names, sizeof names));
		return CLI_REFUSED;
	}
	return CLI_OK;
}

/* ---- checking: pure functions of the row and of what is known ---- */

static int import_enum(const char *const *names, proto_str s)
{
	for (int i = 0; names[i] != NULL; i++)
		if (import_eq(s, import_cstr(names[i])))
			return i;
	return -1;
}

/*
 * The role bits of "cadre;leader" (items separated by ';', spaces around them ignored,
 * an item twice counted once), or -1. With emit, each mistake is reported on the row.
 */
static int import_roles_of(struct import *im, const struct import_row *w, bool emit)
{
	proto_str s = w->v[C_ROLES];
	char q[IMPORT_Q];
	int bits = 0;
	bool bad = false;
	uint32_t i = 0;

	if (s.len == 0) {
		if (emit)
			import_error(im, w->line, "no roles: give one or more of cadre, "
				     "resident_cadre, leader, unit_head, county_leader, theme_office, "
				     "supervision, admin, separated by ';'");
		return -1;
	}
	while (i <= s.len) {
		uint32_t j = i;
		proto_str item;
		int bit;

		while (j < s.len && s.ptr[j] != ';')
			j++;
		item = (proto_str){ s.ptr + i, j - i };
		while (item.len > 0 && (item.ptr[0] == ' ' || item.ptr[0] == '\t'))
			item.ptr++, item.len--;
		while (item.len > 0 && (item.ptr[item.len - 1] == ' ' ||
					item.ptr[item.len - 1] == '\t'))
			item.len--;
		if (item.len == 0) {
			if (emit)
				import_error(im, w->line, "an empty role in %s: roles are separated "
					     "by ';'", import_q(q, s));
			bad = true;
		} else if ((bit = import_enum(import_roles, item)) < 0) {
			if (emit)
				import_error(im, w->line, "unknown role %s: the roles are cadre, "
					     "resident_cadre, leader, unit_head, county_leader, "
					     "theme_office, supervision, admin", import_q(q, item));
			bad = true;
		} else {
			bits |= 1 << bit;
		}
		i = j + 1;
	}
	return bad ? -1 : bits;
}

/* Check an id field (what: "the unit", "the parent"); true if it is one. */
static bool import_check_id(struct import *im, const struct import_row *w, proto_str s,
			    const char *what)
{
	char q[IMPORT_Q];

	if (s.len == 0) {
		import_error(im, w->line, "%s is empty", what);
		return false;
	}
	if (!proto_id_valid(s)) {
		import_error(im, w->line, "%s %s is not an id: 1 to 64 letters, digits, '.', '_' "
			     "or '-', beginning with a letter or digit", what, import_q(q, s));
		return false;
	}
	return true;
}

static void import_check_name(struct import *im, const struct import_row *w)
{
	proto_str s = w->v[C_NAME];

	if (s.len == 0) {
		import_error(im, w->line, "the name is empty");
	} else if (s.len > IMPORT_NAME_MAX) {
		import_error(im, w->line, "the name is %" PRIu32 " bytes, more than %d", s.len,
			     IMPORT_NAME_MAX);
	} else if (!proto_utf8_valid(s.ptr, s.len)) {
		import_error(im, w->line, "the name is not valid UTF-8");
	} else {
		for (uint32_t i = 0; i < s.len; i++) {
			if ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7f) {
				import_error(im, w->line, "the name holds a control character (a "
					     "line break, a tab, ...)");
				break;
			}
		}
	}
}

/* The row defining the record's id again: say so (the first definition counts). */
static bool import_check_again(struct import *im, const struct import_row *w,
			       const struct import_id *e)
{
	char q[IMPORT_Q];

	if (e == NULL || e->row < 0 || &im->row[e->row] == w)
		return false;
	import_error(im, w->line, "%s %s again: it is on line %" PRIu32 " already; a file "
		     "names each %s once", im->k->record, import_q(q, w->v[C_ID]),
		     im->row[e->row].line, im->k->record);
	return true;
}

/* "a" or "an" before the name of a kind. */
static const char *import_a(int kind)
{
	return kind == KIND_ORGAN ? "an" : "a";
}

/* Which kinds a unit of kind hangs under (daemon/core.c, parent_fits()). */
static bool import_fits(int kind, int parent)
{
	if (kind == KIND_VILLAGE)
		return parent == KIND_TOWNSHIP || parent == KIND_STREET;
	return parent == KIND_COUNTY;
}

static void import_check_unit(struct import *im, struct import_row *w)
{
	proto_str id = w->v[C_ID], parent = w->v[C_PARENT];
	bool id_ok = import_check_id(im, w, id, "the unit"), parent_ok;
	struct import_id *e = id_ok ? import_find(&im->ids, id) : NULL;
	char q[IMPORT_Q], q2[IMPORT_Q];

	import_check_name(im, w);
	if (w->kind < 0)
		import_error(im, w->line, "unknown kind %s: the kinds are county, township, "
			     "street, village, organ", import_q(q, w->v[C_KIND]));
	parent_ok = parent.len == 0 || import_check_id(im, w, parent, "the parent");
	if (import_check_again(im, w, e) || w->kind < 0)
		return;
	if (e != NULL && e->kind >= 0 && e->kind != w->kind)
		import_error(im, w->line, "unit %s is %s %s in the ledger: a unit's kind never "
			     "changes", import_q(q, id), import_a(e->kind), import_kinds[e->kind]);
	if (w->kind == KIND_COUNTY) {
		if (parent.len > 0)
			import_error(im, w->line, "the county is the root of the tree: leave its "
				     "parent empty");
		if (!id_ok)
			return;
		if (im->county_row >= 0 && &im->row[im->county_row] != w)
			import_error(im, w->line, "a second county: the county is %s (line %"
				     PRIu32 ")", import_q(q, im->row[im->county_row].v[C_ID]),
				     im->row[im->county_row].line);
		else if (im->county != NULL && !import_eq(import_cstr(im->county), id))
			import_error(im, w->line, "the ledger's county is %s, and there is only "
				     "one county", import_q(q, import_cstr(im->county)));
		return;
	}
	if (parent.len == 0) {
		import_error(im, w->line, "%s %s needs a parent: %s", import_a(w->kind),
			     import_kinds[w->kind],
			     w->kind == KIND_VILLAGE ? "a township or a street" : "the county");
		return;
	}
	if (!parent_ok)
		return;		/* said above */
	if (import_eq(parent, id)) {
		import_error(im, w->line, "a unit cannot be its own parent");
		return;
	}
	e = import_find(&im->ids, parent);
	{
		int pkind = e == NULL ? IMPORT_ABSENT : e->row >= 0 ? im->row[e->row].kind : e->kind;

		if (e != NULL && e->row >= 0 && pkind < 0)
			return;		/* the parent's row has a bad kind: said there */
		if (pkind < 0) {
			import_error(im, w->line, "no unit %s in the file or the ledger (the parent)",
				     import_q(q, parent));
		} else if (!import_fits(w->kind, pkind)) {
			import_error(im, w->line, "%s %s hangs under %s, and %s is %s %s",
				     import_a(w->kind), import_kinds[w->kind],
				     w->kind == KIND_VILLAGE ? "a township or a street" : "the county",
				     import_q(q2, parent), import_a(pkind), import_kinds[pkind]);
		}
	}
}

/* Is the row's person an admin in the ledger who loses the role by it? */
static bool import_revokes(const struct import *im, const struct import_row *w)
{
	const struct import_id *e = proto_id_valid(w->v[C_ID]) ?
				    import_find(&im->ids, w->v[C_ID]) : NULL;

	return e != NULL && e->admin && w->roles >= 0 && !(w->roles & ROLE_ADMIN);
}

/* Check a unit that a person's row names (the unit or the village) against the ledger:
 * true if it is there (*kind set). */
static bool import_check_ledger_unit(struct import *im, const struct import_row *w,
				     proto_str s, int *kind)
{
	const struct import_id *e = import_find(&im->units, s);
	char q[IMPORT_Q];

	if (e == NULL || e->kind < 0) {
		import_error(im, w->line, "no unit %s in the ledger (import the units first)",
			     import_q(q, s));
		return false;
	}
	*kind = e->kind;
	return true;
}

static void import_check_person(struct import *im, struct import_row *w)
{
	proto_str id = w->v[C_ID], village = w->v[C_VILLAGE];
	bool id_ok = import_check_id(im, w, id, "the person");
	bool resident = w->roles >= 0 && (w->roles & ROLE_RESIDENT);
	char q[IMPORT_Q], q2[IMPORT_Q];
	int kind;

	import_check_name(im, w);
	if (import_check_id(im, w, w->v[C_UNIT], "the unit"))
		import_check_ledger_unit(im, w, w->v[C_UNIT], &kind);
	import_roles_of(im, w, true);
	if (village.len > 0 && import_check_id(im, w, village, "the village")) {
		if (w->roles >= 0 && !resident)
			import_error(im, w->line, "a village is only for a resident_cadre (the "
				     "village they are stationed in): leave it empty");
		else if (import_check_ledger_unit(im, w, village, &kind) && kind != KIND_VILLAGE)
			import_error(im, w->line, "%s is %s %s, not a village", import_q(q, village),
				     import_a(kind), import_kinds[kind]);
	} else if (village.len == 0 && resident) {
		import_error(im, w->line, "a resident_cadre needs a village: the village they are "
			     "stationed in");
	}
	if (id_ok)
		import_check_again(im, w, import_find(&im->ids, id));
	if (im->no_admin_left && import_revokes(im, w))
		import_error(im, w->line, "%s would lose the role admin, and the ledger would have "
			     "no admin left: make someone else an admin first", import_q(q, id));
	if (im->admin_first == w)
		import_error(im, w->line, "%s becomes an admin here, and from then on only admins "
			     "may register people; the actor %s is not one of the admins this file "
			     "makes: import as one of them (--actor)", import_q(q, id),
			     import_q(q2, im->actor));
}

/*
 * The rules on admins that hold across the rows of a people file (protocol.md 9), worked
 * out before the rows are checked so that their errors come out in line order: would the
 * file leave the ledger without an admin (im->no_admin_left), and, during the bootstrap,
 * does it make admins without making the actor one (im->admin_first: its first such row).
 */
static void import_admin_facts(struct import *im)
{
	size_t after = 0;
	const struct import_row *first = NULL;
	bool actor_granted = false;

	for (size_t i = 0; i < im->admins.cap; i++) {
		const struct import_id *a = &im->admins.e[i], *e;

		if (a->id.ptr == NULL)
			continue;
		e = import_find(&im->ids, a->id);
		if (e == NULL || e->row < 0 || im->row[e->row].roles < 0 ||
		    (im->row[e->row].roles & ROLE_ADMIN))
			after++;
	}
	for (size_t i = 0; i < im->nrows; i++) {
		const struct import_row *w = &im->row[i];
		const struct import_id *e;

		if (w->roles < 0 || !(w->roles & ROLE_ADMIN) || !proto_id_valid(w->v[C_ID]))
			continue;
		e = import_find(&im->ids, w->v[C_ID]);
		if (e->row >= 0 && &im->row[e->row] != w)
			continue;	/* repeated: said on its line */
		after += !e->admin;
		first = first != NULL ? first : w;
		actor_granted = actor_granted || import_eq(w->v[C_ID], im->actor);
	}
	im->no_admin_left = im->admins.n > 0 && after == 0;
	im->admin_first = im->bootstrap && !actor_granted ? first : NULL;
}

/* The first pass: learn every id, kind and role, silently, and the ids to ask about. */
static int import_learn(struct import *im)
{
	for (size_t i = 0; i < im->nrows; i++) {
		struct import_row *w = &im->row[i];
		struct import_id *e;

		if (w->misfit)
			continue;
		if (!im->k->people)
			w->kind = (int8_t)import_enum(import_kinds, w->v[C_KIND]);
		else
			w->roles = (int16_t)import_roles_of(im, w, false);
		if (proto_id_valid(w->v[C_ID])) {
			if ((e = import_add(&im->ids, w->v[C_ID])) == NULL)
				return import_oom();
			if (e->row < 0)
				e->row = (int32_t)i;
		}
		if (!im->k->people) {
			if (w->kind == KIND_COUNTY && im->county_row < 0)
				im->county_row = (int32_t)i;
			if (proto_id_valid(w->v[C_PARENT]) && import_add(&im->ids, w->v[C_PARENT]) == NULL)
				return import_oom();
			continue;
		}
		if (proto_id_valid(w->v[C_UNIT]) && import_add(&im->units, w->v[C_UNIT]) == NULL)
			return import_oom();
		if (proto_id_valid(w->v[C_VILLAGE]) && import_add(&im->units, w->v[C_VILLAGE]) == NULL)
			return import_oom();
	}
	return CLI_OK;
}

/* The phase in which each row is sent (after the lookups: it needs the ledger's admins). */
static void import_phases(struct import *im)
{
	for (size_t i = 0; i < im->nrows; i++) {
		struct import_row *w = &im->row[i];

		if (!im->k->people) {
			w->phase = w->kind == KIND_COUNTY ? 0 : w->kind == KIND_VILLAGE ? 2 : 1;
		} else if (im->bootstrap && import_eq(w->v[C_ID], im->actor) &&
			   (w->roles & ROLE_ADMIN)) {
			w->phase = 0;	/* the bootstrap's first admin: the actor, first */
		} else if (!import_revokes(im, w)) {
			w->phase = 1;
		} else {
			w->phase = import_eq(w->v[C_ID], im->actor) ? 3 : 2;
		}
	}
}

/* The second pass: every row in line order, with the syntax errors in between. */
static void import_check(struct import *im)
{
	size_t s = 0;

	if (im->k->people)
		import_admin_facts(im);
	for (size_t i = 0; i <= im->nrows; i++) {
		struct import_row *w = i < im->nrows ? &im->row[i] : NULL;

		while (s < im->nsyn && (w == NULL || im->syn[s].line < w->line)) {
			import_error(im, im->syn[s].line, "%s", im->syn[s].why);
			s++;
		}
		if (w == NULL)
			break;
		if (w->misfit)
			import_error(im, w->line, "%u field%s, and the header names %zu",
				     w->nfields, w->nfields == 1 ? "" : "s", im->nfields);
		else if (im->k->people)
			import_check_person(im, w);
		else
			import_check_unit(im, w);
	}
}

/* ---- asking the ledger ---- */

/* "nanti: CODE: MESSAGE" for a refused read. */
static void import_refused_read(const char *op, proto_str code, proto_str message)
{
	fflush(stdout);
	fprintf(stderr, "nanti: %s: ", op);
	render_text(stderr, code, 64);
	fputs(": ", stderr);
	render_text(stderr, message, 0);
	fputc('\n', stderr);
}

/* Is the id n past after (an empty after: anything is) in the daemon's byte order? */
static bool import_past(const char *after, proto_str n)
{
	size_t alen = strlen(after);
	int c = memcmp(after, n.ptr, alen < n.len ? alen : n.len);

	return n.len > 0 && (c < 0 || (c == 0 && n.len > alen));
}

/*
 * Page through a list op (unit.list, person.list) with the filter key=value over the REQ
 * connection, calling each(im, item) for every item until it returns false or the list
 * ends. Returns an exit status.
 */
static int import_list(struct import *im, const char *op, const char *key, const char *value,
		       uint32_t limit, bool (*each)(struct import *, const msgpack_object *))
{
	char after[PROTO_MAX_NAME_ID + 1] = "";
	bool go_on = true;
	proto_out out;
	int rc = CLI_OK;

	proto_out_init(&out);
	while (go_on && rc == CLI_OK) {
		struct conn_reply rep = { .root = NULL };
		const msgpack_object *items, *next;
		proto_str n;

		proto_out_reset(&out);
		msgpack_pack_map(&out.pk, after[0] ? 4 : 3);
		proto_kv_cstr(&out, "op", op);
		proto_kv_cstr(&out, key, value);
		proto_kv_u64(&out, "limit", limit);
		if (after[0])
			proto_kv_cstr(&out, "after", after);
		if (out.oom) {
			rc = import_oom();
			break;
		}
		rc = conn_call(&im->r->conn, &out, PROTO_STR_NULL, &rep);
		if (rc == CLI_REFUSED)
			import_refused_read(op, rep.code, rep.message);
		if (rc == CLI_OK) {
			items = proto_map_get(rep.root, "items");
			next = proto_map_get(rep.root, "next");
			if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY || next == NULL ||
			    (next->type != MSGPACK_OBJECT_NIL &&
			     (!proto_obj_str(next, &n) || n.len > PROTO_MAX_NAME_ID ||
			      !import_past(after, n)))) {
				rc = conn_bad_reply(&im->r->conn, "a page without 'items' and a "
						    "'next' past 'after'");
			} else {
				for (uint32_t i = 0; i < items->via.array.size && go_on; i++)
					go_on = each(im, &items->via.array.ptr[i]);
				if (next->type == MSGPACK_OBJECT_NIL)
					go_on = false;
				else
					snprintf(after, sizeof after, "%.*s", (int)n.len, n.ptr);
			}
		}
		conn_reply_fini(&rep);
	}
	proto_out_fini(&out);
	return rc;
}

/* A copy of the string under key in map, or NULL (out of memory, or not there). */
static char *import_dup(const msgpack_object *map, const char *key)
{
	proto_str s;

	if (!proto_obj_str(proto_map_get(map, key), &s))
		return NULL;
	return strndup(s.ptr, s.len);
}

/* unit.list: the county is the first item. */
static bool import_county_item(struct import *im, const msgpack_object *item)
{
	if ((im->county = import_dup(item, "unit")) == NULL)
		im->oom = true;
	return false;
}

/* person.list: every admin goes into im->admins. */
static bool import_admin_item(struct import *im, const msgpack_object *item)
{
	char *id = import_dup(item, "person");
	struct import_id *e;

	if (id == NULL || (e = import_add(&im->admins, import_cstr(id))) == NULL) {
		free(id);
		im->oom = true;
		return false;
	}
	if (e->owned != NULL)
		free(id);	/* listed twice */
	else
		e->owned = id;
	return true;
}

/* The reply to a lookup (unit.get, person.get): what the ledger holds under the id. */
static int import_lookup_reply(struct import *im, struct import_ids *t, bool units, int rc,
			       const struct pipeline_reply *rep)
{
	struct import_id *e;
	proto_str kind;

	if (rc != CLI_OK && rc != CLI_REFUSED)
		return rc;
	e = &t->e[rep->tag];
	import_bar_step(im);
	if (rc == CLI_REFUSED && proto_str_eq(rep->code, "not_found")) {
		e->kind = IMPORT_ABSENT;
		return CLI_OK;
	}
	if (rc == CLI_REFUSED) {
		import_bar_clear(im);
		import_refused_read(units ? "unit.get" : "person.get", rep->code, rep->message);
		return rc;
	}
	if (!units) {
		e->kind = 0;
		return CLI_OK;
	}
	if (!proto_obj_str(proto_map_get(proto_map_get(rep->root, "unit"), "kind"), &kind) ||
	    (e->kind = (int8_t)import_enum(import_kinds, kind)) < 0)
		return conn_bad_reply(&im->r->conn, "unit.get: a unit without a known 'kind'");
	return CLI_OK;
}

/* Ask the ledger about every id of t (unit.get, or person.get), many at a time. */
static int import_lookup(struct import *im, struct import_ids *t, bool units)
{
	const char *op = units ? "unit.get" : "person.get";
	struct pipeline_reply rep;
	char id[PROTO_ID_BUF];
	proto_out out;
	int rc = CLI_OK;

	proto_out_init(&out);
	for (size_t i = 0; i <= t->cap && rc == CLI_OK; i++) {
		while (rc == CLI_OK && im->pl.inflight > 0 &&
		       (i == t->cap || pipeline_full(&im->pl))) {
			int got = pipeline_recv(&im->pl, &rep);

			rc = import_lookup_reply(im, t, units, got, &rep);
			pipeline_reply_fini(&rep);
		}
		if (i == t->cap || rc != CLI_OK || t->e[i].id.ptr == NULL)
			continue;
		proto_new_id(id);
		proto_out_reset(&out);
		msgpack_pack_map(&out.pk, 3);
		proto_kv_cstr(&out, "op", op);
		proto_kv_cstr(&out, "id", id);
		proto_kv_str(&out, units ? "unit" : "person", t->e[i].id);
		rc = out.oom ? import_oom() : pipeline_send(&im->pl, &out, id, i);
	}
	proto_out_fini(&out);
	return rc;
}

/* Everything the check needs from the ledger. */
static int import_ask(struct import *im)
{
	int rc;

	if ((rc = pipeline_open(&im->pl, &im->r->conn, IMPORT_WINDOW)) != CLI_OK)
		return rc;
	if ((rc = import_list(im, "person.list", "role", "admin", IMPORT_PAGE,
			      import_admin_item)) != CLI_OK)
		return rc;
	if (im->oom)
		return import_oom();
	im->bootstrap = im->admins.n == 0;
	for (size_t i = 0; i < im->admins.cap && im->k->people; i++) {
		struct import_id *e;

		if (im->admins.e[i].id.ptr != NULL &&
		    (e = import_find(&im->ids, im->admins.e[i].id)) != NULL)
			e->admin = true;	/* a person of the file who is an admin now */
	}
	if (!im->k->people &&
	    (rc = import_list(im, "unit.list", "kind", "county", 1, import_county_item)) != CLI_OK)
		return rc;
	if (im->oom)
		return import_oom();
	import_bar_start(im, "checking", im->ids.n + im->units.n);
	if ((rc = import_lookup(im, &im->ids, !im->k->people)) != CLI_OK)
		return rc;
	if (im->k->people && (rc = import_lookup(im, &im->units, true)) != CLI_OK)
		return rc;
	import_bar_clear(im);
	for (size_t i = 0; i < im->nrows; i++) {
		struct import_id *e = proto_id_valid(im->row[i].v[C_ID]) ?
				      import_find(&im->ids, im->row[i].v[C_ID]) : NULL;

		im->row[i].existed = e != NULL && e->kind >= 0;
	}
	return CLI_OK;
}

/* ---- applying ---- */

static void import_pack_put(struct import *im, const struct import_row *w, const char *id,
			    proto_out *out)
{
	bool people = im->k->people;
	proto_str opt = w->v[people ? C_VILLAGE : C_PARENT];

	proto_out_reset(out);
	msgpack_pack_map(&out->pk, (people ? 7 : 6) + (opt.len > 0));
	proto_kv_cstr(out, "op", im->k->put);
	proto_kv_cstr(out, "id", id);
	proto_kv_str(out, "actor", im->actor);
	proto_kv_str(out, im->k->record, w->v[C_ID]);
	proto_kv_str(out, "name", w->v[C_NAME]);
	if (!people) {
		proto_kv_cstr(out, "kind", import_kinds[w->kind]);
	} else {
		int n = 0;

		proto_kv_str(out, "unit", w->v[C_UNIT]);
		for (int b = 0; import_roles[b] != NULL; b++)
			n += (w->roles >> b) & 1;
		proto_pack_cstr(out, "roles");
		msgpack_pack_array(&out->pk, (size_t)n);
		for (int b = 0; import_roles[b] != NULL; b++)
			if ((w->roles >> b) & 1)
				proto_pack_cstr(out, import_roles[b]);
	}
	if (opt.len > 0)
		proto_kv_str(out, people ? "village" : "parent", opt);
}

/* Wait for one put's reply and count it. Returns CLI_OK (also for a refusal, which is
 * kept and stops the sending) or the status of a transport failure. */
static int import_put_reply(struct import *im)
{
	struct pipeline_reply rep;
	int rc = pipeline_recv(&im->pl, &rep);
	bool changed = true;

	if (rc == CLI_OK) {
		const struct import_row *w = &im->row[rep.tag];

		import_bar_step(im);
		if (proto_map_get(rep.root, "changed") != NULL &&
		    !proto_obj_bool(proto_map_get(rep.root, "changed"), &changed))
			rc = conn_bad_reply(&im->r->conn, "'changed' is not a boolean");
		else if (!changed)
			im->unchanged++;
		else if (w->existed)
			im->updated++;
		else
			im->created++;
		im->seq = rep.seq > im->seq ? rep.seq : im->seq;
	} else if (rc == CLI_REFUSED) {
		import_bar_step(im);
		if (!im->stop) {
			im->refused_row = (int32_t)rep.tag;
			snprintf(im->refused_code, sizeof im->refused_code, "%.*s",
				 (int)rep.code.len, rep.code.ptr);
			snprintf(im->refused_msg, sizeof im->refused_msg, "%.*s",
				 (int)rep.message.len, rep.message.ptr);
		} else {
			im->also_refused++;
		}
		im->stop = true;
		rc = CLI_OK;
	}
	pipeline_reply_fini(&rep);
	return rc;
}

/* Send every row, a phase at a time, each phase confirmed before the next starts. */
static int import_apply(struct import *im)
{
	char id[PROTO_ID_BUF];
	proto_out out;
	int rc = CLI_OK;

	proto_out_init(&out);
	import_bar_start(im, "applying", im->nrows);
	for (int phase = 0; phase < im->k->phases && !im->stop && rc == CLI_OK; phase++) {
		for (size_t i = 0; i < im->nrows && !im->stop && rc == CLI_OK; i++) {
			if (im->row[i].phase != phase)
				continue;
			while (rc == CLI_OK && !im->stop && pipeline_full(&im->pl))
				rc = import_put_reply(im);
			if (rc != CLI_OK || im->stop)
				break;
			proto_new_id(id);
			import_pack_put(im, &im->row[i], id, &out);
			rc = out.oom ? import_oom() : pipeline_send(&im->pl, &out, id, i);
		}
		while (rc == CLI_OK && im->pl.inflight > 0)
			rc = import_put_reply(im);
	}
	import_bar_clear(im);
	proto_out_fini(&out);
	return rc;
}

/* ---- the command ---- */

static double import_seconds(const struct import *im)
{
	return (double)(import_now_ms() - im->t0) / 1000.0;
}

/* "312 rows: 300 created, 10 updated, 2 unchanged" */
static void import_counts(const struct import *im, FILE *f)
{
	fprintf(f, "%zu rows: %zu created, %zu updated, %zu unchanged", im->nrows, im->created,
		im->updated, im->unchanged);
}

static void import_json_counts(const struct import *im)
{
	printf(",\"rows\":%zu,\"created\":%zu,\"updated\":%zu,\"unchanged\":%zu,\"applied\":%zu",
	       im->nrows, im->created, im->updated, im->unchanged,
	       im->created + im->updated + im->unchanged);
}

/* After a refusal during the apply: what was refused, what was applied. */
static int import_report_refusal(struct import *im)
{
	const struct import_row *w = &im->row[im->refused_row];
	size_t applied = im->created + im->updated + im->unchanged;

	fflush(stdout);
	fprintf(stderr, "%s:%" PRIu32 ": refused by the daemon: ", im->path, w->line);
	render_text(stderr, import_cstr(im->refused_code), 64);
	fputs(": ", stderr);
	render_text(stderr, import_cstr(im->refused_msg), 0);
	fputc('\n', stderr);
	fprintf(stderr, "nanti: import %s: stopped: %zu of %zu rows applied before the refusal",
		im->k->what, applied, im->nrows);
	if (im->also_refused > 0)
		fprintf(stderr, " (%zu more in flight refused too)", im->also_refused);
	fprintf(stderr, ", the rest not sent. The file was checked first, so the ledger changed "
		"meanwhile; once that is sorted out, importing the file again finishes it\n");
	if (im->r->conf->json) {
		import_json_head(im, false);
		import_json_counts(im);
		printf(",\"refused\":{\"line\":%" PRIu32 ",\"code\":", w->line);
		import_json_str(stdout, im->refused_code);
		fputs(",\"message\":", stdout);
		import_json_str(stdout, im->refused_msg);
		printf("},\"seq\":%" PRIu64 "}\n", im->seq);
	}
	return CLI_REFUSED;
}

/* Only an admin imports, except during the bootstrap. True if the actor may; else said
 * on stderr (and with --json in the summary, unless the file has errors to list). */
static bool import_may(struct import *im)
{
	char q[IMPORT_Q], msg[IMPORT_MSG];

	if (im->bootstrap || import_find(&im->admins, im->actor) != NULL)
		return true;
	snprintf(msg, sizeof msg, "only an admin imports %s, and the actor %s is not one "
		 "(--actor names who imports)", im->k->what, import_q(q, im->actor));
	cli_warn("import %s: %s; nothing was sent", im->k->what, msg);
	if (im->r->conf->json && im->errors == 0) {
		import_json_head(im, false);
		printf(",\"rows\":%zu,\"applied\":0,\"refused\":{\"code\":\"forbidden\","
		       "\"message\":", im->nrows);
		import_json_str(stdout, msg);
		fputs("}}\n", stdout);
	}
	return false;
}

static void import_fini(struct import *im)
{
	pipeline_close(&im->pl);
	import_ids_fini(&im->ids);
	import_ids_fini(&im->units);
	import_ids_fini(&im->admins);
	free(im->county);
	free(im->row);
	free(im->syn);
	free(im->buf);
}

/* The file is invalid: close the JSON error list, say so. */
static int import_invalid(struct import *im)
{
	if (im->r->conf->json && im->json_errors)
		printf("],\"rows\":%zu,\"applied\":0}\n", im->nrows);
	cli_warn("import %s: %zu error%s in %s; nothing was sent", im->k->what, im->errors,
		 im->errors == 1 ? "" : "s", im->path);
	return CLI_REFUSED;
}

int import_run(struct run *r)
{
	struct import im;
	int rc;

	memset(&im, 0, sizeof im);
	im.r = r;
	im.k = r->cmd->data;
	im.path = args_find(r->t, "FILE")->s;
	im.county_row = -1;
	im.refused_row = -1;
	im.t0 = import_now_ms();
	im.bar.on = isatty(STDERR_FILENO) == 1;
	if (r->conf->actor == NULL || r->conf->actor[0] == '\0') {
		cli_warn("%s: no actor: give --actor NAME or set NANTI_ACTOR", r->cmd->name);
		return CLI_USAGE;
	}
	im.actor = import_cstr(r->conf->actor);
	if (im.actor.len > PROTO_MAX_ACTOR) {
		cli_warn("%s: the actor is longer than %d bytes", r->cmd->name, PROTO_MAX_ACTOR);
		return CLI_USAGE;
	}
	if ((rc = import_read(&im)) != CLI_OK || (rc = import_parse(&im)) != CLI_OK ||
	    (rc = import_learn(&im)) != CLI_OK || (rc = import_ask(&im)) != CLI_OK)
		goto out;
	import_check(&im);
	if (!import_may(&im) || im.errors > 0) {
		rc = CLI_REFUSED;
		goto out;
	}
	import_phases(&im);
	if (args_find(r->t, "--check")->set) {
		size_t existing = 0;

		for (size_t i = 0; i < im.nrows; i++)
			existing += im.row[i].existed;
		if (r->conf->json) {
			import_json_head(&im, true);
			printf(",\"check\":true,\"rows\":%zu,\"new\":%zu,\"existing\":%zu}\n",
			       im.nrows, im.nrows - existing, existing);
		} else {
			printf("%s: %zu rows, all valid: %zu new, %zu already in the ledger (checked "
			       "only: nothing sent)\n", im.k->what, im.nrows, im.nrows - existing,
			       existing);
		}
		goto out;
	}
	if ((rc = import_apply(&im)) != CLI_OK) {
		cli_warn("import %s: %zu of %zu rows confirmed applied; the others may or may not "
			 "be: importing the file again is safe and finishes it", im.k->what,
			 im.created + im.updated + im.unchanged, im.nrows);
		goto out;
	}
	if (im.stop) {
		rc = import_report_refusal(&im);
		goto out;
	}
	if (r->conf->json) {
		import_json_head(&im, true);
		import_json_counts(&im);
		printf(",\"seq\":%" PRIu64 ",\"seconds\":%.3f}\n", im.seq, import_seconds(&im));
	} else {
		printf("%s: ", im.k->what);
		import_counts(&im, stdout);
		printf(" (%.2f s)\n", import_seconds(&im));
	}
out:
	import_bar_clear(&im);
	if (im.errors > 0 && rc == CLI_REFUSED && im.refused_row < 0)
		rc = import_invalid(&im);
	import_fini(&im);
	return rc;
}
