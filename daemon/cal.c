/*
 * cal.c - the working-day calendar (see cal.h).
 *
 * A day is a working day if it is Monday to Friday, unless a calendar file makes it a
 * holiday; a Saturday or Sunday is not, unless a file makes it an adjusted working day.
 * The calendar keeps only the exceptions to the weekday rule, sorted by day, each with
 * +1 (a working weekend day) or -1 (a weekday holiday), and the running total of those
 * deltas. Then
 *
 *     working days in [a, b) = weekdays in [a, b) + the deltas of the exceptions in [a, b)
 *
 * where the first term is arithmetic and the second two binary searches. Finding the n-th
 * working day searches the smallest b whose count reaches n: a doubling search, then a
 * bisection, each step one count. Nothing here is bounded by a horizon or a table size.
 *
 * A file (docs/calendar.md):
 *
 *     # comments and blank lines are ignored
 *     year 2025
 *     source 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号)
 *     holiday 2025-01-28 2025-02-04 春节       a day, or a first and last day, then a name
 *     workday 2025-01-26 春节调休              a Saturday or Sunday worked
 *
 * A file is checked whole before any of it is added: every date in its year, a workday
 * on a weekend, no day listed twice.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cal.h"
#include "proto.h"

#define CAL_MAX_FILE (1 << 20)	/* a year's file is a few kilobytes */

struct cal_exc {
	int64_t day;
	int64_t before;		/* the sum of the deltas of the exceptions before this one */
	int delta;		/* +1: a working Saturday or Sunday; -1: a weekday holiday */
};

struct cal_year {
	int year;
	char *source;
	char *name;		/* where it was read from */
};

struct cal {
	struct cal_exc *exc;
	size_t nexc;
	struct cal_year *years;
	size_t nyears;
};

nt_err cal_new(struct cal **out)
{
	*out = calloc(1, sizeof **out);
	return *out != NULL ? NT_OK : NT_ENOMEM;
}

void cal_free(struct cal **c)
{
	if (c == NULL || *c == NULL)
		return;
	for (size_t i = 0; i < (*c)->nyears; i++) {
		free((*c)->years[i].source);
		free((*c)->years[i].name);
	}
	free((*c)->years);
	free((*c)->exc);
	free(*c);
	*c = NULL;
}

/* ---- arithmetic ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int cal_weekday(int64_t day)
{
	/* 1970-01-01 was a Thursday (3) */
	return (int)(day + 3 - 7 * floor_div(day + 3, 7));
}

/* Weekdays (Monday to Friday) in [M, x), M the Monday 1969-12-29 (day -3). */
static int64_t weekdays_to(int64_t x)
{
	int64_t y = x + 3, weeks = floor_div(y, 7), rest = y - 7 * weeks;

	return 5 * weeks + (rest < 5 ? rest : 5);
}

/* The index of the first exception on or after day. */
static size_t exc_lower(const struct cal *c, int64_t day)
{
	size_t lo = 0, hi = c->nexc;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->exc[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The sum of the deltas of the exceptions before day. */
static int64_t deltas_to(const struct cal *c, int64_t day)
{
	size_t i;

	if (c == NULL)
		return 0;	/* no calendar: weekends only */
	i = exc_lower(c, day);
	if (i == c->nexc)
		return c->nexc == 0 ? 0 : c->exc[c->nexc - 1].before + c->exc[c->nexc - 1].delta;
	return c->exc[i].before;
}

int64_t cal_working_between(const struct cal *c, int64_t a, int64_t b)
{
	if (b <= a)
		return 0;
	return weekdays_to(b) - weekdays_to(a) + deltas_to(c, b) - deltas_to(c, a);
}

bool cal_is_working(const struct cal *c, int64_t day)
{
	return cal_working_between(c, day, day + 1) == 1;
}

int64_t cal_add_working(const struct cal *c, int64_t day, int64_t n)
{
	int64_t lo, hi, span = 8;

	if (n == 0)
		return day;
	if (n > 0) {
		/* the smallest b > day with n working days in (day, b] */
		while (cal_working_between(c, day + 1, day + span + 1) < n)
			span *= 2;
		lo = day + 1;
		hi = day + span;
		while (lo < hi) {
			int64_t mid = lo + (hi - lo) / 2;

			if (cal_working_between(c, day + 1, mid + 1) >= n)
				hi = mid;
			else
				lo = mid + 1;
		}
		return lo;
	}
	/* the largest b < day with -n working days in [b, day) */
	while (cal_working_between(c, day - span, day) < -n)
		span *= 2;
	lo = day - span;
	hi = day - 1;
	while (lo < hi) {
		int64_t mid = hi - (hi - lo) / 2;

		if (cal_working_between(c, mid, day) >= -n)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* ---- years ---- */

bool cal_covers(const struct cal *c, int year)
{
	return cal_source(c, year) != NULL;
}

const char *cal_source(const struct cal *c, int year)
{
	for (size_t i = 0; i < c->nyears; i++)
		if (c->years[i].year == year)
			return c->years[i].source;
	return NULL;
}

/* ---- parsing ---- */

enum mark { M_NONE, M_HOLIDAY, M_WORKDAY };

struct parse {
	const char *name;
	int line;
	char *why;
	size_t whylen;
	int year;		/* 0 until the year line */
	int64_t first;		/* day of January 1st */
	int64_t ndays;		/* 365 or 366 */
	char *source;
	unsigned char mark[366];
};

static nt_err bad(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static nt_err bad(struct parse *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->why, p->whylen, "%s:%d: %s", p->name, p->line, msg);
	return NT_EBADCONF;
}

/* The next token of [*s, end), separated by spaces or tabs; false at the end. */
static bool token(const char **s, const char *end, proto_str *t)
{
	const char *p = *s;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return false;
	t->ptr = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	t->len = (uint32_t)(p - t->ptr);
	*s = p;
	return true;
}

static nt_err take_day(struct parse *p, proto_str t, int64_t *day)
{
	if (!proto_date_parse(t, day))
		return bad(p, "'%.*s' is not a date written YYYY-MM-DD", (int)t.len, t.ptr);
	if (*day < p->first || *day >= p->first + p->ndays)
		return bad(p, "%.*s is not in %d, the year of this file", (int)t.len, t.ptr,
			   p->year);
	return NT_OK;
}

static nt_err mark_day(struct parse *p, int64_t day, enum mark m)
{
	unsigned char *x = &p->mark[day - p->first];
	char d[11];

	if (*x != M_NONE) {
		proto_date_format(day, d);
		return bad(p, "%s is listed twice%s", d,
			   *x != m ? " (as a holiday and as a working day)" : "");
	}
	*x = (unsigned char)m;
	return NT_OK;
}

static nt_err parse_line(struct parse *p, const char *s, const char *end)
{
	proto_str kw, t;
	int64_t a, b;
	nt_err rc;

	if (!token(&s, end, &kw) || kw.ptr[0] == '#')
		return NT_OK;
	if (proto_str_eq(kw, "year")) {
		int64_t jan1, next;
		char buf[16];

		if (p->year != 0)
			return bad(p, "a second 'year' line");
		if (!token(&s, end, &t) || t.len != 4)
			return bad(p, "'year' needs a year, e.g. 'year 2025'");
		snprintf(buf, sizeof buf, "%.4s-01-01", t.ptr);
		if (!proto_date_parse((proto_str){ buf, 10 }, &jan1))
			return bad(p, "'%.*s' is not a year from 1970 to 9998", (int)t.len, t.ptr);
		p->year = atoi(buf);
		if (p->year > 9998)
			return bad(p, "'%.*s' is not a year from 1970 to 9998", (int)t.len, t.ptr);
		snprintf(buf, sizeof buf, "%04d-01-01", (p->year + 1) % 10000);
		if (!proto_date_parse((proto_str){ buf, 10 }, &next))
			return bad(p, "'%.*s' is not a year from 1970 to 9998", (int)t.len, t.ptr);
		p->first = jan1;
		p->ndays = next - jan1;
		return token(&s, end, &t) ? bad(p, "unexpected text after the year") : NT_OK;
	}
	if (proto_str_eq(kw, "source")) {
		size_t n;

		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (p->source != NULL)
			return bad(p, "a second 'source' line");
		if (s == end)
			return bad(p, "'source' needs the text of the source: the notice it follows");
		n = (size_t)(end - s);
		if ((p->source = malloc(n + 1)) == NULL)
			return NT_ENOMEM;
		memcpy(p->source, s, n);
		p->source[n] = '\0';
		return NT_OK;
	}
	if (!proto_str_eq(kw, "holiday") && !proto_str_eq(kw, "workday"))
		return bad(p, "unknown line '%.*s': lines are year, source, holiday, workday",
			   (int)kw.len, kw.ptr);
	if (p->year == 0)
		return bad(p, "'%.*s' before the 'year' line", (int)kw.len, kw.ptr);
	if (!token(&s, end, &t))
		return bad(p, "'%.*s' needs a date", (int)kw.len, kw.ptr);
	if ((rc = take_day(p, t, &a)) != NT_OK)
		return rc;
	b = a;
	if (proto_str_eq(kw, "holiday")) {
		const char *rest = s;
		int64_t e;

		/* an optional last day, then the name */
		if (token(&rest, end, &t) && proto_date_parse(t, &e)) {
			if ((rc = take_day(p, t, &b)) != NT_OK)
				return rc;
			if (b < a)
				return bad(p, "the holiday ends before it begins");
		}
		for (int64_t d = a; d <= b; d++)
			if ((rc = mark_day(p, d, M_HOLIDAY)) != NT_OK)
				return rc;
		return NT_OK;
	}
	if (cal_weekday(a) < 5)
		return bad(p, "%.*s is a weekday, already a working day: an adjusted working day "
			   "is a Saturday or a Sunday", (int)t.len, t.ptr);
	return mark_day(p, a, M_WORKDAY);
}

static int exc_cmp(const void *x, const void *y)
{
	const struct cal_exc *a = x, *b = y;

	return a->day < b->day ? -1 : a->day > b->day;
}

/* Add p's year to c: its exceptions merged into the sorted array, the totals redone. */
static nt_err add_year(struct cal *c, struct parse *p)
{
	size_t add = 0, n;
	struct cal_exc *exc;
	struct cal_year *years;
	int64_t sum = 0;

	for (int64_t i = 0; i < p->ndays; i++)
		add += (p->mark[i] == M_HOLIDAY && cal_weekday(p->first + i) < 5) ||
		       p->mark[i] == M_WORKDAY;
	exc = realloc(c->exc, (c->nexc + add + 1) * sizeof *exc);
	if (exc == NULL)
		return NT_ENOMEM;
	c->exc = exc;
	years = realloc(c->years, (c->nyears + 1) * sizeof *years);
	if (years == NULL)
		return NT_ENOMEM;
	c->years = years;

	n = c->nexc;
	for (int64_t i = 0; i < p->ndays; i++) {
		int64_t day = p->first + i;

		if (p->mark[i] == M_HOLIDAY && cal_weekday(day) < 5)
			c->exc[n++] = (struct cal_exc){ day, 0, -1 };
		else if (p->mark[i] == M_WORKDAY)
			c->exc[n++] = (struct cal_exc){ day, 0, +1 };
	}
	c->nexc = n;
	qsort(c->exc, c->nexc, sizeof *c->exc, exc_cmp);
	for (size_t i = 0; i < c->nexc; i++) {
		c->exc[i].before = sum;
		sum += c->exc[i].delta;
	}
	c->years[c->nyears].year = p->year;
	c->years[c->nyears].source = p->source;
	c->years[c->nyears].name = strdup(p->name);
	c->nyears++;
	p->source = NULL;
	return NT_OK;
}

nt_err cal_parse(struct cal *c, const char *name, const char *text, size_t len, char *why,
		 size_t whylen)
{
	struct parse p = { .name = name, .why = why, .whylen = whylen };
	const char *s = text, *end = text + len;
	nt_err rc = NT_OK;

	if (!proto_utf8_valid(text, len)) {
		snprintf(why, whylen, "%s: not valid UTF-8", name);
		return NT_EBADCONF;
	}
	while (rc == NT_OK && s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		const char *stop = eol != NULL ? eol : end;

		p.line++;
		if (stop > s && stop[-1] == '\r')
			stop--;
		rc = parse_line(&p, s, stop);
		s = eol != NULL ? eol + 1 : end;
	}
	p.line++;
	if (rc == NT_OK && p.year == 0)
		rc = bad(&p, "no 'year' line");
	if (rc == NT_OK && p.source == NULL)
		rc = bad(&p, "no 'source' line: a calendar names the notice it follows");
	if (rc == NT_OK && cal_covers(c, p.year)) {
		for (size_t i = 0; i < c->nyears; i++)
			if (c->years[i].year == p.year)
				rc = bad(&p, "%d is already in the calendar, from %s", p.year,
					 c->years[i].name);
	}
	if (rc == NT_OK)
		rc = add_year(c, &p);
	free(p.source);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static nt_err load_file(struct cal *c, const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	nt_err rc;

	if (f == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return NT_EIO;
	}
	if ((buf = malloc(CAL_MAX_FILE)) == NULL) {
		fclose(f);
		return NT_ENOMEM;
	}
	n = fread(buf, 1, CAL_MAX_FILE, f);
	if (ferror(f) || n == CAL_MAX_FILE) {
		snprintf(why, whylen, "%s: %s", path, ferror(f) ? "cannot be read" : "too large");
		rc = NT_EBADCONF;
	} else {
		rc = cal_parse(c, path, buf, n, why, whylen);
	}
	free(buf);
	fclose(f);
	return rc;
}

nt_err cal_load_dir(struct cal *c, const char *dir, char *why, size_t whylen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	nt_err rc = NT_OK;

	if (d == NULL) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return NT_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".cal") != 0 || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);

			if (more == NULL) {
				rc = NT_ENOMEM;
				break;
			}
			names = more;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = NT_ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == NT_OK)
		qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; rc == NT_OK && i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		rc = load_file(c, path, why, whylen);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

uint64_t cal_fingerprint(const struct cal *c)
{
	uint64_t h = PROTO_HASH_SEED;

	for (size_t i = 0; c != NULL && i < c->nexc; i++) {
		int64_t v[2] = { c->exc[i].day, c->exc[i].delta };

		h = proto_hash(v, sizeof v, h);
	}
	return h;
}
