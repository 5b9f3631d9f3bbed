/*
 * sheet.c - what every import of a CSV file shares (sheet.h).
 *
 * An operator loads a county from spreadsheets: units, people, then the household register
 * (hundreds of thousands of rows) and the pairings. Every such import must change nothing
 * when the file has a mistake, go in quickly when it has none, and be harmless when run
 * twice. The daemon applies each put on its own, so a file sent row by row would stop
 * halfway at its first bad row; instead an import checks the whole file first, against the
 * file itself and the ledger, reports every bad row with the physical line it starts on,
 * and sends nothing if there is any. This module is that machinery; the commands supply
 * their columns, their rules and their puts.
 *
 * The file is read whole into one buffer (bounded by the kind's max_bytes), and the CSV
 * reader (csv.c) unescapes quoted fields in place, so a row's fields are pointers into the
 * buffer and a row costs no copy. Syntax errors are kept aside and reported, in line
 * order, between the errors of the rows that the command's check reports as it walks them
 * (sheet_syntax_until()), so the report comes out sorted without being stored.
 *
 * Questions to the ledger go over the command's connection: lists a page at a time over
 * REQ (each page needs the previous one's `next`), and one get per id over a DEALER with
 * many in flight (pipeline.c). The puts go the same way, a phase at a time; the daemon
 * folds the window into few group commits. A refusal during the puts (only a change made
 * to the ledger meanwhile can cause one, since the file was checked) stops the sending;
 * the command says what was applied, and running it again finishes it.
 *
 * The progress bar is drawn on stderr only when stderr is a terminal, at most ten times a
 * second, and erased before anything else is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "render.h"
#include "sheet.h"

#define SHEET_BAR_WIDTH	30	/* characters of the bar */
#define SHEET_BAR_MS	100	/* between two drawings */

void sheet_init(struct sheet *s, const struct sheet_spec *k, struct run *r, const char *path)
{
	memset(s, 0, sizeof *s);
	s->k = k;
	s->r = r;
	s->path = path;
	s->t0 = sheet_now_ms();
	s->bar.on = isatty(STDERR_FILENO) == 1;
	for (size_t c = 0; c < SHEET_MAX_COLS; c++)
		s->col[c] = -1;
}

void sheet_fini(struct sheet *s)
{
	sheet_bar_clear(s);
	free(s->buf);
	free(s->syn);
	s->buf = NULL;
	s->syn = NULL;
}

int64_t sheet_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double sheet_seconds(const struct sheet *s)
{
	return (double)(sheet_now_ms() - s->t0) / 1000.0;
}

int sheet_oom(void)
{
	cli_warn("out of memory");
	return CLI_LOCAL;
}

bool sheet_eq(proto_str a, proto_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

proto_str sheet_cstr(const char *s)
{
	return (proto_str){ s, (uint32_t)strlen(s) };
}

int sheet_enum(const char *const *names, proto_str s)
{
	for (int i = 0; names[i] != NULL; i++)
		if (sheet_eq(s, sheet_cstr(names[i])))
			return i;
	return -1;
}

proto_str sheet_trim(proto_str s)
{
	while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t'))
		s.ptr++, s.len--;
	while (s.len > 0 && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

bool sheet_item(proto_str list, uint32_t *pos, proto_str *item)
{
	uint32_t j = *pos;

	if (list.len == 0 || *pos > list.len)
		return false;
	while (j < list.len && list.ptr[j] != ';')
		j++;
	*item = sheet_trim((proto_str){ list.ptr + *pos, j - *pos });
	*pos = j + 1;
	return true;
}

/* ---- messages ---- */

/* The length of the UTF-8 sequence at s[0..n), or 0 if it is not a valid one. */
static size_t sheet_utf8_len(const char *s, size_t n)
{
	unsigned char b = (unsigned char)s[0];
	size_t k = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3
		   : (b & 0xf8) == 0xf0 ? 4 : 0;

	return k > 0 && k <= n && proto_utf8_valid(s, k) ? k : 0;
}

const char *sheet_q(char out[SHEET_Q], proto_str s)
{
	const unsigned char *p = (const unsigned char *)s.ptr;
	size_t i = 0, o = 0;

	out[o++] = '\'';
	while (i < s.len && o < SHEET_Q - 8) {
		size_t k = sheet_utf8_len(s.ptr + i, s.len - i);

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

void sheet_json_str(FILE *f, const char *s)
{
	size_t n = strlen(s);

	fputc('"', f);
	for (size_t i = 0, k; i < n; i += k) {
		unsigned char c = (unsigned char)s[i];

		if ((k = sheet_utf8_len(s + i, n - i)) == 0) {
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

void sheet_csv_field(FILE *f, proto_str s)
{
	bool quote = false;

	for (uint32_t i = 0; i < s.len && !quote; i++)
		quote = s.ptr[i] == ',' || s.ptr[i] == '"' || s.ptr[i] == '\n' || s.ptr[i] == '\r';
	if (!quote) {
		fwrite(s.ptr, 1, s.len, f);
		return;
	}
	fputc('"', f);
	for (uint32_t i = 0; i < s.len; i++) {
		if (s.ptr[i] == '"')
			fputc('"', f);
		fputc(s.ptr[i], f);
	}
	fputc('"', f);
}

void sheet_json_head(const struct sheet *s, bool ok)
{
	printf("{\"ok\":%s,\"records\":\"%s\",\"file\":", ok ? "true" : "false", s->k->records);
	sheet_json_str(stdout, s->path);
}

void sheet_error(struct sheet *s, uint32_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sheet_verror(s, line, fmt, ap);
	va_end(ap);
}

void sheet_verror(struct sheet *s, uint32_t line, const char *fmt, va_list ap)
{
	char msg[SHEET_MSG];

	vsnprintf(msg, sizeof msg, fmt, ap);
	sheet_bar_clear(s);
	fflush(stdout);
	if (line > 0)
		fprintf(stderr, "%s:%" PRIu32 ": %s\n", s->path, line, msg);
	else
		fprintf(stderr, "%s: %s\n", s->path, msg);
	s->errors++;
	if (!s->r->conf->json)
		return;
	if (!s->json_errors) {
		sheet_json_head(s, false);
		fputs(",\"errors\":[", stdout);
	} else {
		fputc(',', stdout);
	}
	s->json_errors = true;
	if (line > 0)
		printf("{\"line\":%" PRIu32 ",\"message\":", line);
	else
		fputs("{\"message\":", stdout);
	sheet_json_str(stdout, msg);
	fputc('}', stdout);
}

int sheet_invalid(struct sheet *s)
{
	if (s->r->conf->json && s->json_errors)
		printf("],\"rows\":%zu,\"applied\":0}\n", s->nrows);
	cli_warn("%s: %zu error%s in %s; nothing was sent", s->k->command, s->errors,
		 s->errors == 1 ? "" : "s", s->path);
	return CLI_REFUSED;
}

void sheet_misfit(struct sheet *s, uint32_t line, size_t n)
{
	sheet_error(s, line, "%zu field%s, and the header names %zu", n, n == 1 ? "" : "s",
		    s->nfields);
}

void sheet_refused_read(const char *op, proto_str code, proto_str message)
{
	fflush(stdout);
	fprintf(stderr, "nanti: %s: ", op);
	render_text(stderr, code, 64);
	fputs(": ", stderr);
	render_text(stderr, message, 0);
	fputc('\n', stderr);
}

/* ---- the progress bar ---- */

static void sheet_bar_draw(struct sheet *s)
{
	struct sheet_bar *b = &s->bar;
	size_t fill = b->total > 0 ? b->done * SHEET_BAR_WIDTH / b->total : SHEET_BAR_WIDTH;
	int64_t ms = sheet_now_ms() - b->start_ms;
	char bar[SHEET_BAR_WIDTH + 1];

	fill = fill > SHEET_BAR_WIDTH ? SHEET_BAR_WIDTH : fill;
	memset(bar, '#', fill);
	memset(bar + fill, '.', SHEET_BAR_WIDTH - fill);
	bar[SHEET_BAR_WIDTH] = '\0';
	fprintf(stderr, "\r\033[Knanti: %s: %s [%s] %zu/%zu", s->k->command, b->doing, bar,
		b->done, b->total);
	if (b->sent > b->done)
		fprintf(stderr, " (%zu sent)", b->sent);
	if (ms >= 500)
		fprintf(stderr, " %.0f/s", (double)b->done * 1000.0 / (double)ms);
	fflush(stderr);
}

void sheet_bar_start(struct sheet *s, const char *doing, size_t total)
{
	s->bar.doing = doing;
	s->bar.done = s->bar.sent = 0;
	s->bar.total = total;
	s->bar.start_ms = sheet_now_ms();
	s->bar.next_ms = 0;
}

/* Draw when it is time (or at the end). */
static void sheet_bar_tick(struct sheet *s)
{
	int64_t now;

	if (!s->bar.on)
		return;
	now = sheet_now_ms();
	if (now < s->bar.next_ms && s->bar.done < s->bar.total)
		return;
	s->bar.next_ms = now + SHEET_BAR_MS;
	sheet_bar_draw(s);
}

void sheet_bar_step(struct sheet *s)
{
	s->bar.done++;
	sheet_bar_tick(s);
}

void sheet_bar_sent(struct sheet *s)
{
	s->bar.sent++;
	if (s->bar.on && sheet_now_ms() >= s->bar.next_ms)
		sheet_bar_tick(s);
}

void sheet_bar_clear(struct sheet *s)
{
	if (!s->bar.on || s->bar.next_ms == 0)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	s->bar.next_ms = 0;
}

/* ---- reading the file ---- */

int sheet_read(struct sheet *s)
{
	bool std = strcmp(s->path, "-") == 0;
	size_t cap = 1 << 16, max = s->k->max_bytes;
	struct stat st;
	int fd = std ? STDIN_FILENO : open(s->path, O_RDONLY | O_CLOEXEC), rc = CLI_OK;

	if (fd < 0) {
		cli_warn("%s: cannot open %s: %s", s->k->command, s->path, strerror(errno));
		return CLI_USAGE;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_warn("%s: %s is a directory", s->k->command, s->path);
		rc = CLI_USAGE;
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		cap = (uint64_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	if ((s->buf = malloc(cap)) == NULL) {
		rc = sheet_oom();
		goto out;
	}
	for (;;) {
		ssize_t got;

		if (s->len == cap) {
			char *grown;

			if (cap > max) {
				sheet_error(s, 0, "the file is more than the %zu MiB an import "
					    "takes: split it", max >> 20);
				rc = CLI_REFUSED;
				goto out;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if ((grown = realloc(s->buf, cap)) == NULL) {
				rc = sheet_oom();
				goto out;
			}
			s->buf = grown;
		}
		got = read(fd, s->buf + s->len, cap - s->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cli_warn("%s: cannot read %s: %s", s->k->command, s->path, strerror(errno));
			rc = CLI_USAGE;
			goto out;
		}
		if (got == 0)
			break;
		s->len += (size_t)got;
	}
out:
	if (!std)
		close(fd);
	return rc;
}

/* Is the record blank: no field, or only empty unquoted ones (a spreadsheet's empty row)? */
static bool sheet_blank(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		if (rec->f[i].len > 0 || rec->f[i].quoted)
			return false;
	return true;
}

/* The column names, for messages: "unit, name, kind, parent". */
static const char *sheet_colnames(const struct sheet_spec *k, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; k->cols[i] != NULL && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", k->cols[i]);
	return buf;
}

/* The header record: which field holds which column. Errors said; returns their count. */
static size_t sheet_header(struct sheet *s, const struct csv_record *rec)
{
	const struct sheet_spec *k = s->k;
	size_t before = s->errors;
	char names[256], q[SHEET_Q];

	s->nfields = rec->n;
	for (size_t i = 0; i < rec->n; i++) {
		proto_str name = sheet_trim((proto_str){ rec->f[i].ptr, (uint32_t)rec->f[i].len });
		int c = sheet_enum(k->cols, name);

		if (c < 0) {
			sheet_error(s, rec->line, "unknown column %s: the columns of a %s file are "
				    "%s", sheet_q(q, name), k->records,
				    sheet_colnames(k, names, sizeof names));
		} else if (s->col[c] >= 0) {
			sheet_error(s, rec->line, "the column %s is named twice", k->cols[c]);
		} else {
			s->col[c] = (int)i;
		}
	}
	for (size_t c = 0; k->cols[c] != NULL; c++)
		if (s->col[c] < 0 && !(k->optional & (1u << c)))
			sheet_error(s, rec->line, "no column '%s': the header names the columns "
				    "(%s)", k->cols[c], sheet_colnames(k, names, sizeof names));
	return s->errors - before;
}

/* Keep a syntax error for sheet_syntax_until(). */
static int sheet_keep_syntax(struct sheet *s, uint32_t line, const char *why)
{
	if (s->nsyn == s->capsyn) {
		size_t cap = s->capsyn ? s->capsyn * 2 : 16;
		struct sheet_syntax *grown = realloc(s->syn, cap * sizeof *grown);

		if (grown == NULL)
			return sheet_oom();
		s->syn = grown;
		s->capsyn = cap;
	}
	s->syn[s->nsyn].line = line;
	snprintf(s->syn[s->nsyn++].why, CSV_WHY, "%s", why);
	return CLI_OK;
}

int sheet_parse(struct sheet *s, sheet_row_fn row, void *arg)
{
	struct csv_record rec;
	char why[CSV_WHY], names[256];
	proto_str v[SHEET_MAX_COLS];
	bool header = false;
	enum csv_result res;
	struct csv c;
	int rc;

	csv_init(&c, s->buf, s->len);
	while ((res = csv_next(&c, &rec, why, sizeof why)) != CSV_END) {
		if (res == CSV_BAD && !header) {
			sheet_error(s, rec.line, "%s", why);
			return CLI_REFUSED;
		}
		if (header && s->nrows + s->nsyn == s->k->max_rows) {
			sheet_error(s, rec.line, "more than %zu rows: split the file",
				    s->k->max_rows);
			return CLI_REFUSED;
		}
		if (res == CSV_BAD) {
			if ((rc = sheet_keep_syntax(s, rec.line, why)) != CLI_OK)
				return rc;
			continue;
		}
		if (sheet_blank(&rec))
			continue;
		if (!header) {
			header = true;
			if (sheet_header(s, &rec) > 0)
				return CLI_REFUSED;
			continue;
		}
		s->nrows++;
		if (rec.n != s->nfields) {
			/* passed on with no values, for the check to say so in line order */
			if ((rc = row(arg, rec.line, NULL, rec.n)) != CLI_OK)
				return rc;
			continue;
		}
		for (size_t col = 0; s->k->cols[col] != NULL; col++)
			v[col] = s->col[col] < 0 ? PROTO_STR_NULL
				 : (proto_str){ rec.f[s->col[col]].ptr,
						(uint32_t)rec.f[s->col[col]].len };
		if ((rc = row(arg, rec.line, v, rec.n)) != CLI_OK)
			return rc;
	}
	if (!header) {
		sheet_error(s, 1, "no header: the first line names the columns (%s)",
			    sheet_colnames(s->k, names, sizeof names));
		return CLI_REFUSED;
	}
	return CLI_OK;
}

void sheet_syntax_until(struct sheet *s, uint32_t line)
{
	while (s->syn_said < s->nsyn && s->syn[s->syn_said].line < line) {
		sheet_error(s, s->syn[s->syn_said].line, "%s", s->syn[s->syn_said].why);
		s->syn_said++;
	}
}

/* ---- tables of ids ---- */

static uint64_t sheet_hash(proto_str s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (uint32_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.ptr[i]) * 0x100000001b3ULL;
	return h;
}

/* The slot of id in t: its entry, or the empty slot where it belongs. */
static struct sheet_id *sheet_slot(const struct sheet_ids *t, proto_str id)
{
	size_t i = (size_t)sheet_hash(id) & (t->cap - 1);

	while (t->e[i].id.ptr != NULL && !sheet_eq(t->e[i].id, id))
		i = (i + 1) & (t->cap - 1);
	return &t->e[i];
}

struct sheet_id *sheet_id_find(const struct sheet_ids *t, proto_str id)
{
	struct sheet_id *e;

	if (t->cap == 0)
		return NULL;
	e = sheet_slot(t, id);
	return e->id.ptr != NULL ? e : NULL;
}

struct sheet_id *sheet_id_add(struct sheet_ids *t, proto_str id)
{
	struct sheet_id *e;

	if ((t->n + 1) * 2 > t->cap) {
		struct sheet_ids grown = { NULL, t->cap ? t->cap * 2 : 64, 0 };

		if ((grown.e = calloc(grown.cap, sizeof *grown.e)) == NULL)
			return NULL;
		for (size_t i = 0; i < t->cap; i++)
			if (t->e[i].id.ptr != NULL)
				*sheet_slot(&grown, t->e[i].id) = t->e[i];
		grown.n = t->n;
		free(t->e);
		*t = grown;
	}
	e = sheet_slot(t, id);
	if (e->id.ptr == NULL) {
		e->id = id;
		e->row = -1;
		e->kind = SHEET_UNASKED;
		t->n++;
	}
	return e;
}

struct sheet_id *sheet_id_add_dup(struct sheet_ids *t, proto_str id)
{
	struct sheet_id *e;
	char *copy;

	if ((e = sheet_id_find(t, id)) != NULL)
		return e;
	if ((copy = strndup(id.ptr, id.len)) == NULL)
		return NULL;
	if ((e = sheet_id_add(t, (proto_str){ copy, id.len })) == NULL) {
		free(copy);
		return NULL;
	}
	e->owned = copy;
	return e;
}

struct sheet_id *sheet_id_add_copy(struct sheet_ids *t, const msgpack_object *map,
				   const char *key, bool *bad)
{
	proto_str s;

	*bad = !proto_obj_str(proto_map_get(map, key), &s);
	return *bad ? NULL : sheet_id_add_dup(t, s);
}

void sheet_ids_fini(struct sheet_ids *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->e[i].owned);
	free(t->e);
	memset(t, 0, sizeof *t);
}

/* ---- asking the ledger ---- */

/* Is the id n past after (an empty after: anything is) in the daemon's byte order? */
static bool sheet_past(const char *after, proto_str n)
{
	size_t alen = strlen(after);
	int c = memcmp(after, n.ptr, alen < n.len ? alen : n.len);

	return n.len > 0 && (c < 0 || (c == 0 && n.len > alen));
}

int sheet_list(struct run *r, const char *op, const struct sheet_kv *kv, size_t n,
	       uint32_t limit, bool (*each)(void *arg, const msgpack_object *item), void *arg)
{
	char after[PROTO_MAX_NAME_ID + 1] = "";
	bool go_on = true;
	proto_out out;
	int rc = CLI_OK;

	proto_out_init(&out);
	while (go_on && rc == CLI_OK) {
		struct conn_reply rep = { .root = NULL };
		const msgpack_object *items, *next;
		proto_str id;

		proto_out_reset(&out);
		msgpack_pack_map(&out.pk, 2 + n + (after[0] != '\0'));
		proto_kv_cstr(&out, "op", op);
		for (size_t i = 0; i < n; i++) {
			if (kv[i].s != NULL)
				proto_kv_cstr(&out, kv[i].key, kv[i].s);
			else
				proto_kv_bool(&out, kv[i].key, kv[i].b);
		}
		proto_kv_u64(&out, "limit", limit);
		if (after[0])
			proto_kv_cstr(&out, "after", after);
		if (out.oom) {
			rc = sheet_oom();
			break;
		}
		rc = conn_call(&r->conn, &out, PROTO_STR_NULL, &rep);
		if (rc == CLI_REFUSED)
			sheet_refused_read(op, rep.code, rep.message);
		if (rc == CLI_OK) {
			items = proto_map_get(rep.root, "items");
			next = proto_map_get(rep.root, "next");
			if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY || next == NULL ||
			    (next->type != MSGPACK_OBJECT_NIL &&
			     (!proto_obj_str(next, &id) || id.len > PROTO_MAX_NAME_ID ||
			      !sheet_past(after, id)))) {
				rc = conn_bad_reply(&r->conn, "a page without 'items' and a "
						    "'next' past 'after'");
			} else {
				for (uint32_t i = 0; i < items->via.array.size && go_on; i++)
					go_on = each(arg, &items->via.array.ptr[i]);
				if (next->type == MSGPACK_OBJECT_NIL)
					go_on = false;
				else
					snprintf(after, sizeof after, "%.*s", (int)id.len, id.ptr);
			}
		}
		conn_reply_fini(&rep);
	}
	proto_out_fini(&out);
	return rc;
}

int sheet_lookup(struct sheet *s, struct pipeline *pl, struct sheet_ids *t, const char *op,
		 const char *key, sheet_reply_fn reply, void *arg)
{
	struct pipeline_reply rep;
	char id[PROTO_ID_BUF];
	proto_out out;
	int rc = CLI_OK;

	proto_out_init(&out);
	for (size_t i = 0; i <= t->cap && rc == CLI_OK; i++) {
		while (rc == CLI_OK && pl->inflight > 0 && (i == t->cap || pipeline_full(pl))) {
			int got = pipeline_recv(pl, &rep);

			if (got == CLI_OK || got == CLI_REFUSED) {
				sheet_bar_step(s);
				rc = reply(arg, &t->e[rep.tag], got, &rep);
			} else {
				rc = got;
			}
			pipeline_reply_fini(&rep);
		}
		if (i == t->cap || rc != CLI_OK || t->e[i].id.ptr == NULL ||
		    t->e[i].kind != SHEET_UNASKED)
			continue;
		proto_new_id(id);
		proto_out_reset(&out);
		msgpack_pack_map(&out.pk, 3);
		proto_kv_cstr(&out, "op", op);
		proto_kv_cstr(&out, "id", id);
		proto_kv_str(&out, key, t->e[i].id);
		rc = out.oom ? sheet_oom() : pipeline_send(pl, &out, id, i);
	}
	proto_out_fini(&out);
	return rc;
}

/* ---- sending ---- */

/* Wait for one put's reply and count it. Returns CLI_OK (also for a refusal, which is
 * kept and stops the sending) or the status of a transport failure. */
static int sheet_put_reply(struct sheet *s, struct pipeline *pl, const struct sheet_puts *p,
			   struct sheet_tally *t)
{
	struct pipeline_reply rep;
	int rc = pipeline_recv(pl, &rep);
	bool changed = true;

	if (rc == CLI_OK) {
		sheet_bar_step(s);
		if (proto_map_get(rep.root, "changed") != NULL &&
		    !proto_obj_bool(proto_map_get(rep.root, "changed"), &changed))
			rc = conn_bad_reply(pl->conn, "'changed' is not a boolean");
		else if (!changed)
			t->unchanged++;
		else if (p->existed(p->arg, rep.tag))
			t->updated++;
		else
			t->created++;
		t->seq = rep.seq > t->seq ? rep.seq : t->seq;
	} else if (rc == CLI_REFUSED) {
		sheet_bar_step(s);
		if (!t->stop) {
			t->refused_row = rep.tag;
			snprintf(t->refused_code, sizeof t->refused_code, "%.*s",
				 (int)rep.code.len, rep.code.ptr);
			snprintf(t->refused_msg, sizeof t->refused_msg, "%.*s",
				 (int)rep.message.len, rep.message.ptr);
		} else {
			t->also_refused++;
		}
		t->stop = true;
		rc = CLI_OK;
	}
	pipeline_reply_fini(&rep);
	return rc;
}

int sheet_apply(struct sheet *s, struct pipeline *pl, const struct sheet_puts *p,
		struct sheet_tally *t)
{
	char id[PROTO_ID_BUF];
	proto_out out;
	int rc = CLI_OK;

	proto_out_init(&out);
	for (int phase = 0; phase < p->phases && !t->stop && rc == CLI_OK; phase++) {
		for (size_t k = 0; k < p->nrows && !t->stop && rc == CLI_OK; k++) {
			size_t i = p->order != NULL ? p->order[k] : k;

			if (p->phase(p->arg, i) != phase)
				continue;
			while (rc == CLI_OK && !t->stop && pipeline_full(pl))
				rc = sheet_put_reply(s, pl, p, t);
			if (rc != CLI_OK || t->stop)
				break;
			proto_new_id(id);
			p->pack(p->arg, i, id, &out);
			rc = out.oom ? sheet_oom() : pipeline_send(pl, &out, id, i);
			if (rc == CLI_OK) {
				t->sent++;
				sheet_bar_sent(s);
			}
		}
		while (rc == CLI_OK && pl->inflight > 0)
			rc = sheet_put_reply(s, pl, p, t);
	}
	sheet_bar_clear(s);
	proto_out_fini(&out);
	return rc;
}

void sheet_json_counts(const struct sheet_tally *t, size_t rows, size_t skipped)
{
	printf(",\"rows\":%zu,\"created\":%zu,\"updated\":%zu,\"unchanged\":%zu,\"applied\":%zu",
	       rows, t->created, t->updated, t->unchanged + skipped,
	       t->created + t->updated + t->unchanged + skipped);
}

int sheet_refusal(struct sheet *s, const struct sheet_tally *t, uint32_t line, size_t rows,
		  size_t skipped)
{
	size_t applied = t->created + t->updated + t->unchanged + skipped;

	fflush(stdout);
	fprintf(stderr, "%s:%" PRIu32 ": refused by the daemon: ", s->path, line);
	render_text(stderr, sheet_cstr(t->refused_code), 64);
	fputs(": ", stderr);
	render_text(stderr, sheet_cstr(t->refused_msg), 0);
	fputc('\n', stderr);
	fprintf(stderr, "nanti: %s: stopped: %zu of %zu rows applied before the refusal",
		s->k->command, applied, rows);
	if (t->also_refused > 0)
		fprintf(stderr, " (%zu more in flight refused too)", t->also_refused);
	fprintf(stderr, ", the rest not sent. The file was checked first, so the ledger changed "
		"meanwhile; once that is sorted out, importing the file again finishes it\n");
	if (s->r->conf->json) {
		sheet_json_head(s, false);
		sheet_json_counts(t, rows, skipped);
		printf(",\"refused\":{\"line\":%" PRIu32 ",\"code\":", line);
		sheet_json_str(stdout, t->refused_code);
		fputs(",\"message\":", stdout);
		sheet_json_str(stdout, t->refused_msg);
		printf("},\"seq\":%" PRIu64 "}\n", t->seq);
	}
	return CLI_REFUSED;
}
