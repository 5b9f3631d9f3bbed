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
 * What is shown is written down as data, in templates: "consultation at {place} with
 * {residents} residents" names the keys of a record or log entry in braces. One small
 * expander turns them into text for the record views (a case's header, a unit, a person,
 * the campaign), for the columns of lists, for the story of a case (one template for the
 * headline of each log topic, and labelled rows for its evidence) and for the WHAT column
 * of `nanti log`, so a case's history reads the same everywhere. A new topic or field
 * is a line in a table here, not a function.
 *
 * Everything shown comes from the daemon and is treated as untrusted: control characters,
 * C1 controls and bidirectional overrides are shown as '?', so a crafted title cannot move
 * the cursor or disguise text. Fields that are missing or of the wrong type print as "-";
 * what a script needs verbatim it gets from --json.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"

#define RENDER_CELL_MAX	24	/* columns of a table cell (the last column is not cut) */
#define RENDER_WHAT_MAX	80	/* columns of the WHAT of a log line */
#define RENDER_NUM_BUF	24
#define RENDER_EV_MAX	10	/* evidence rows of one topic */
#define RENDER_MARGIN	"    "	/* the indent of a history entry's lines */

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

size_t render_columns(proto_str s)
{
	return render_width(s);
}

void render_padded(FILE *f, proto_str s, size_t width, size_t cap)
{
	render_pad(f, s, width, cap, false);
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

/* ---- templates ---- */

/*
 * A template is text with keys in braces: "{place}", "{opened_at:time}", "{satisfied:0}".
 * A key is looked up in the first map, then in the second (a case's fields, then the
 * reply around it). Values are shown by their type: strings as they are, integers in
 * decimal, booleans as yes/no, arrays joined by ", ". The modifier ":time" shows Unix ms
 * as local time; ":0" shows a missing number as 0 (records leave out zero counts).
 * A key that is missing, nil or an empty array is shown as "-" and makes the expansion
 * incomplete, which is how an optional row knows to stay away.
 */

struct render_maps {
	const msgpack_object *a, *b;	/* b may be NULL */
};

/* The value under key[0..len) in m, or NULL when missing, nil or an empty array. */
static const msgpack_object *render_lookup(const struct render_maps *m, const char *key,
					   size_t len)
{
	const msgpack_object *maps[2] = { m->a, m->b }, *o;
	char k[PROTO_MAX_KEY + 1];

	if (len == 0 || len > PROTO_MAX_KEY)
		return NULL;
	memcpy(k, key, len);
	k[len] = '\0';
	for (size_t i = 0; i < 2; i++) {
		if (maps[i] == NULL || (o = proto_map_get(maps[i], k)) == NULL)
			continue;
		if (o->type == MSGPACK_OBJECT_NIL ||
		    (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 0))
			return NULL;
		return o;
	}
	return NULL;
}

/* Write the value o, raw (render_out() neutralises it later). */
static void render_value(FILE *out, const msgpack_object *o, bool time)
{
	char at[RENDER_TIME_BUF];

	if (time) {
		render_time(at, o, false);
		fputs(at, out);
		return;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		fwrite(o->via.str.ptr, 1, o->via.str.size, out);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(out, "%" PRIu64, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(out, "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "yes" : "no", out);
		break;
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			fputs(i > 0 ? ", " : "", out);
			render_value(out, &o->via.array.ptr[i], false);
		}
		break;
	default:
		proto_json(out, o);
		break;
	}
}

/*
 * Expand tmpl with the values of m into a string the caller frees (its length in *len).
 * *complete says whether every key was there. NULL when out of memory.
 */
static char *render_expand(const char *tmpl, const struct render_maps *m, bool *complete,
			   size_t *len)
{
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len);
	const char *p = tmpl, *open, *close, *colon;

	*complete = true;
	if (out == NULL)
		return NULL;
	while ((open = strchr(p, '{')) != NULL && (close = strchr(open, '}')) != NULL) {
		const msgpack_object *o;
		size_t keylen;
		bool time = false, zero = false;

		fwrite(p, 1, (size_t)(open - p), out);
		colon = memchr(open, ':', (size_t)(close - open));
		keylen = (size_t)((colon != NULL ? colon : close) - open - 1);
		if (colon != NULL) {
			time = strncmp(colon, ":time}", 6) == 0;
			zero = strncmp(colon, ":0}", 3) == 0;
		}
		if ((o = render_lookup(m, open + 1, keylen)) != NULL)
			render_value(out, o, time);
		else if (zero)
			fputc('0', out);
		else {
			fputc('-', out);
			*complete = false;
		}
		p = close + 1;
	}
	fputs(p, out);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Write tmpl expanded: on one line of at most max columns (0: any) if indent is NULL, else
 * keeping newlines, each followed by indent. Returns whether it was complete. */
static bool render_fill(FILE *f, const char *tmpl, const struct render_maps *m, size_t max,
			const char *indent)
{
	bool complete;
	size_t len;
	char *s = render_expand(tmpl, m, &complete, &len);

	if (s == NULL) {
		fputc('-', f);
		return false;
	}
	render_out(f, (proto_str){ s, (uint32_t)len }, max, indent);
	free(s);
	return complete;
}

/* ---- records: labelled rows ---- */

/* One row of a record view: its label and template; a row whose template is incomplete
 * shows `otherwise` instead, or is left out when that is NULL. */
struct render_row {
	const char *label;
	const char *tmpl;
	const char *otherwise;
};

/* The rows rows[0..n) (or up to a NULL label), each line starting with margin and the
 * labels padded to the widest. */
static void render_rows(FILE *f, const struct render_row *rows, size_t n,
			const struct render_maps *m, const char *margin)
{
	char indent[64];
	size_t width = 0;

	for (size_t i = 0; i < n && rows[i].label != NULL; i++)
		width = strlen(rows[i].label) > width ? strlen(rows[i].label) : width;
	snprintf(indent, sizeof indent, "%s%*s", margin, (int)width + 2, "");
	for (size_t i = 0; i < n && rows[i].label != NULL; i++) {
		bool complete;
		size_t len;
		char *s = render_expand(rows[i].tmpl, m, &complete, &len);
		proto_str text = { s, (uint32_t)len };

		if (s == NULL)
			text = render_cstr("-");
		else if (!complete && rows[i].otherwise != NULL)
			text = render_cstr(rows[i].otherwise);
		if (s == NULL || complete || rows[i].otherwise != NULL) {
			fprintf(f, "%s%-*s  ", margin, (int)width, rows[i].label);
			render_out(f, text, 0, indent);
			fputc('\n', f);
		}
		free(s);
	}
}

struct render_record {
	const char *title;		/* the first line */
	const struct render_row *rows;
	size_t n;
};

#define RENDER_RECORD(title, rows) { title, rows, sizeof rows / sizeof rows[0] }

static void render_record(FILE *f, const struct render_record *r, const msgpack_object *a,
			  const msgpack_object *b)
{
	const struct render_maps m = { a, b };

	render_fill(f, r->title, &m, 0, NULL);
	fputc('\n', f);
	render_rows(f, r->rows, r->n, &m, "  ");
}

#define CREATED "{created_at:time} (seq {created_seq})"
#define UPDATED "{updated_at:time} (seq {updated_seq})"

static const struct render_row render_unit_rows[] = {
	{ "kind", "{kind}", NULL },
	{ "parent", "{parent}", "none: the root of the county" },
	{ "created", CREATED, NULL },
	{ "updated", UPDATED, NULL },
};

static const struct render_row render_person_rows[] = {
	{ "unit", "{unit}", NULL },
	{ "roles", "{roles}", NULL },
	{ "village", "{village}", NULL },
	{ "created", CREATED, NULL },
	{ "updated", UPDATED, NULL },
};

static const struct render_row render_campaign_rows[] = {
	{ "period", "{start} to {end}", NULL },
	{ "identify by", "{identify_by}", NULL },
	{ "consult by", "{consult_by}", NULL },
	{ "plan by", "{plan_by}", NULL },
	{ "commit by", "{commit_by}", NULL },
	{ "journal by", "{journal_by}", NULL },
	{ "pair by", "{pair_by}", NULL },
	{ "visit by", "{visit_by}", NULL },
	{ "threshold", "{threshold}% of the residents satisfied to cross a case off", NULL },
	{ "set", "{set_at:time} (seq {set_seq})", NULL },
};

static const struct render_row render_case_rows[] = {
	{ "kind", "{kind}", NULL },
	{ "area", "{area}", NULL },
	{ "source", "{source}", NULL },
	{ "unit", "{unit}", NULL },
	{ "lead", "{lead}", NULL },
	{ "units", "{units}", "none named yet" },
	{ "taker", "{taker}", NULL },
	{ "deadline", "{deadline}", "not set yet" },
	{ "step", "{step}", NULL },
	{ "satisfaction", "{satisfaction}% ({satisfied:0} satisfied, {basically_satisfied:0} "
	  "basically satisfied, {dissatisfied:0} dissatisfied)", "no journal yet" },
	{ "redos", "{redos}", NULL },
	{ "reopens", "{reopens}", NULL },
	{ "escalations", "{escalations}", NULL },
	{ "consultations", "{consultations}", NULL },
	{ "coordinations", "{coordinations}", NULL },
	{ "outcomes", "{outcomes}", NULL },
	{ "promise kept", "{promise_kept}", NULL },
	{ "stable", "{stable}", NULL },
	{ "repeats", "{repeats} ({skip_level_repeats:0} skipping a level)", NULL },
	{ "tags", "{tags}", NULL },
	{ "households", "{households}", NULL },
	{ "consultation", "the household consultation of seq {consultation}", NULL },
	{ "opened", "{opened_at:time} by {opened_by} (seq {opened_seq})", NULL },
	{ "updated", "{updated_at:time} (seq {updated_seq})", NULL },
	{ "description", "{description}", NULL },
};

static const struct render_record render_unit_view =
	RENDER_RECORD("unit {unit}  {name}", render_unit_rows);
static const struct render_record render_person_view =
	RENDER_RECORD("person {person}  {name}", render_person_rows);
static const struct render_record render_campaign_view =
	RENDER_RECORD("campaign {name}", render_campaign_rows);
static const struct render_record render_case_view =
	RENDER_RECORD("case {case}  {title}", render_case_rows);

/* A household: its sensitive rows are simply absent when the viewer may not see them. */
static const struct render_row render_household_rows[] = {
	{ "village", "{village}", NULL },
	{ "category", "{category}", NULL },
	{ "members", "{members}", NULL },
	{ "needs", "{needs}", NULL },
	{ "head", "{head}", NULL },
	{ "id number", "{id_number}", NULL },
	{ "phone", "{phone}", NULL },
	{ "address", "{address}", NULL },
	{ "member names", "{member_names}", NULL },
	{ "notes", "{notes}", NULL },
	{ "cadre", "{cadre}, since {paired_at:time}", "not paired" },
	{ "visits", "{visits}: the first on {first_visit}, the last on {last_visit}",
	  "none yet" },
	{ "consultations", "{consultations}", NULL },
	{ "cases", "{cases}", NULL },
	{ "created", CREATED, NULL },
	{ "updated", UPDATED, NULL },
};

static const struct render_record render_household_view =
	RENDER_RECORD("household {household}", render_household_rows);

void render_unit(FILE *f, const msgpack_object *u)
{
	render_record(f, &render_unit_view, u, NULL);
}

void render_person(FILE *f, const msgpack_object *p)
{
	render_record(f, &render_person_view, p, NULL);
}

void render_household(FILE *f, const msgpack_object *reply)
{
	const msgpack_object *h = proto_map_get(reply, "household");
	bool hidden = false;

	render_record(f, &render_household_view, h, reply);
	proto_obj_bool(proto_map_get(reply, "hidden"), &hidden);
	if (hidden)
		fputs("  (its head, identity number, phone, address, member names and notes are "
		      "not shown to you: only to its paired cadre, the village's resident cadre, "
		      "the theme and supervision offices and admins)\n", f);
}

void render_campaign(FILE *f, const msgpack_object *reply)
{
	const msgpack_object *c = proto_map_get(reply, "campaign");
	const struct render_maps m = { reply, NULL };

	if (c != NULL && c->type == MSGPACK_OBJECT_MAP) {
		render_record(f, &render_campaign_view, c, NULL);
		return;
	}
	render_fill(f, "no campaign is set: crossing a case off needs {threshold}% of the "
		    "residents satisfied (the default)", &m, 0, NULL);
	fputc('\n', f);
}

/* ---- the story of a case ---- */

/* How a log entry of one topic is told: a headline, then labelled evidence. */
struct render_story {
	const char *topic;
	const char *what;
	struct render_row ev[RENDER_EV_MAX];	/* ends at a NULL label */
};

#define RESIDENTS { "residents", "{satisfied} satisfied, {basically_satisfied} basically " \
		    "satisfied, {dissatisfied} dissatisfied", NULL }
#define ROW(label, tmpl) { label, tmpl, NULL }

static const struct render_story render_stories[] = {
	{ "case.opened", "opened: {title}",
	  { ROW("kind", "{kind} ({area})"), ROW("unit", "{unit}"), ROW("lead", "{lead}"),
	    ROW("units", "{units}"), ROW("deadline", "{deadline}"), ROW("source", "{source}"),
	    ROW("taker", "{taker}"), ROW("tags", "{tags}"), ROW("households", "{households}"),
	    ROW("consultation", "seq {consultation}") } },
	{ "case.planned", "plan filed: deadline {deadline}, units {units}",
	  { ROW("measures", "{measures}"), ROW("schedule", "{schedule}"),
	    ROW("lead", "{lead}") } },
	{ "case.consulted", "consultation at {place} with {residents} residents on {date}",
	  { ROW("summary", "{summary}"), ROW("changes", "{changes}") } },
	{ "case.committed", "commitment published on {date} in {venue}, ref {ref}",
	  { ROW("board", "{board}") } },
	{ "case.coordinated", "coordination ({form}) on {date}",
	  { ROW("units", "{units}"), ROW("summary", "{summary}") } },
	{ "case.resolved", "resolution recorded", { ROW("summary", "{summary}") } },
	{ "case.journaled", "journal filed: satisfaction {satisfaction}%, the threshold is "
	  "{threshold}%",
	  { RESIDENTS, ROW("process", "{process}"), ROW("result", "{result}") } },
	{ "case.redo", "sent back to work: satisfaction {satisfaction}% below {threshold}%",
	  { RESIDENTS, ROW("process", "{process}"), ROW("result", "{result}"),
	    ROW("redos", "{redos}") } },
	{ "case.outcome", "outcome recorded: {rule}", { ROW("summary", "{summary}") } },
	{ "case.crossed_off", "verified and crossed off", { ROW("reason", "{reason}") } },
	{ "case.returned", "sent back to work by verification: {reason}",
	  { ROW("redos", "{redos}") } },
	{ "case.reopened", "reopened, back to work: {reason}", { ROW(NULL, NULL) } },
	{ "case.reassigned", "lead handed from {from} to {lead}: {reason}", { ROW(NULL, NULL) } },
	{ "case.noted", "note: {text}", { ROW(NULL, NULL) } },
	{ "case.escalated", "escalated: {reason}", { ROW(NULL, NULL) } },
	{ "case.guarantee", "guarantees reported",
	  { ROW("promise kept", "{promise_kept}"), ROW("stable", "{stable}"),
	    ROW("note", "{note}") } },
	{ "case.repeat", "repeat petition, {repeats} so far",
	  { ROW("skip-level", "{skip_level}"), ROW("reopened", "{reopened}"),
	    ROW("summary", "{summary}") } },
	{ "case.extension_requested", "extension asked for, to {until}",
	  { ROW("reason", "{reason}") } },
	{ "case.extended", "extension granted: the deadline is now {deadline}",
	  { ROW("reason", "{reason}") } },
	{ "case.extension_refused", "extension refused", { ROW("reason", "{reason}") } },
	{ "case.acknowledged", "level {level} acknowledged", { { 0 } } },
	{ "deadline.reminder", "reminder: the deadline {deadline} is {working_days_left} "
	  "working days away", { ROW("late", "{late}") } },
	{ "deadline.overdue", "overdue: the deadline {deadline} has passed",
	  { ROW("late", "{late}"), ROW("repeat", "{repeat}") } },
	{ "escalation.1", "escalated (level 1), {working_days_late} working days late",
	  { ROW("notify", "{notify}"), ROW("repeat", "{repeat}") } },
	{ "escalation.2", "escalated (level 2), {working_days_late} working days late",
	  { ROW("notify", "{notify}"), ROW("repeat", "{repeat}") } },
	{ "escalation.3", "escalated (level 3), {working_days_late} working days late",
	  { ROW("notify", "{notify}"), ROW("repeat", "{repeat}") } },
	{ "escalation.4", "escalated (level 4), {working_days_late} working days late",
	  { ROW("notify", "{notify}"), ROW("repeat", "{repeat}") } },
	{ "step.overdue", "step overdue: {step} was due by {step_due}, {step_limit} working "
	  "days from {step_from}", { ROW("late", "{late}") } },
	{ "deadline.moved", "deadline moved to {deadline} (was {old_deadline}): {reason}",
	  { ROW("step due", "{step_due}"), ROW("step was due", "{old_step_due}") } },
	{ "campaign.missing", "milestone {milestone} ({by}) missed in {unit}, level {level}",
	  { ROW("missing", "{missing}"), ROW("more", "{more}"), ROW("cases", "{cases}"),
	    ROW("notify", "{notify}") } },
	{ "campaign.milestone", "milestone {milestone} ({by}), level {level}: {units} units "
	  "told", { ROW("next level", "{next_at}") } },
	{ "calendar.changed", "the working-day calendar changed",
	  { ROW("fingerprint", "{fingerprint}"), ROW("was", "{old_fingerprint}") } },
	{ "unit.created", "unit {unit} created: {name} ({kind})", { ROW("parent", "{parent}") } },
	{ "unit.updated", "unit {unit} updated: {name} ({kind})", { ROW("parent", "{parent}") } },
	{ "person.created", "person {person} created: {name} of {unit}",
	  { ROW("roles", "{roles}"), ROW("village", "{village}") } },
	{ "person.updated", "person {person} updated: {name} of {unit}",
	  { ROW("roles", "{roles}"), ROW("village", "{village}") } },
	{ "campaign.set", "campaign set: {name}, {start} to {end}",
	  { ROW("threshold", "{threshold}%"), ROW("identify by", "{identify_by}"),
	    ROW("consult by", "{consult_by}"), ROW("plan by", "{plan_by}"),
	    ROW("commit by", "{commit_by}"), ROW("journal by", "{journal_by}"),
	    ROW("pair by", "{pair_by}"), ROW("visit by", "{visit_by}") } },
	{ "household.created", "household {household} registered in {village}: {category}, "
	  "{members} members",
	  { ROW("needs", "{needs}"), ROW("fields", "{changed}"), ROW("cadre", "{cadre}") } },
	{ "household.updated", "household {household} of {village} updated: {changed}",
	  { ROW("moved from", "{moved_from}"), ROW("category", "{category}"),
	    ROW("members", "{members}"), ROW("needs", "{needs}"), ROW("cadre", "{cadre}") } },
	{ "household.paired", "household {household} of {village} paired with {cadre}",
	  { ROW("previously", "{previous}"), ROW("category", "{category}") } },
	{ "household.unpaired", "household {household} of {village} no longer paired with "
	  "{cadre}", { { 0 } } },
	{ "household.visited", "household {household} of {village} visited on {date}",
	  { ROW("first visit", "{first}"), ROW("done", "{done}"), ROW("support", "{support}"),
	    ROW("cadre", "{cadre}") } },
	{ "household.consulted", "household consultation in {village} on {date}: {households}",
	  { ROW("participants", "{participants}"), ROW("residents", "{residents}"),
	    ROW("summary", "{summary}") } },
};

/* Keys every log entry has, which the story shows apart. */
static const char *const render_common[] = {
	"seq", "topic", "at", "case", "actor", "id", "step", NULL
};

static const struct render_story *render_story_of(const msgpack_object *e)
{
	proto_str topic;

	if (!proto_obj_str(proto_map_get(e, "topic"), &topic))
		return NULL;
	for (size_t i = 0; i < sizeof render_stories / sizeof render_stories[0]; i++)
		if (proto_str_eq(topic, render_stories[i].topic))
			return &render_stories[i];
	return NULL;
}

/* The headline of entry e; an unknown topic is told by its name. */
static void render_what(FILE *f, const msgpack_object *e, size_t max, const char *indent)
{
	const struct render_story *s = render_story_of(e);
	const struct render_maps m = { e, NULL };

	if (s != NULL)
		render_fill(f, s->what, &m, max, indent);
	else
		render_out(f, render_str(e, "topic"), max, indent);
}

/* The evidence of an entry of a topic this client does not know: every key it has but
 * the common ones, labelled by its name, aligned in blocks of RENDER_EV_MAX rows. */
static void render_unknown(FILE *f, const msgpack_object *e)
{
	const struct render_maps m = { e, NULL };
	char key[RENDER_EV_MAX][PROTO_MAX_KEY + 1], tmpl[RENDER_EV_MAX][PROTO_MAX_KEY + 3];
	struct render_row rows[RENDER_EV_MAX];
	size_t n = 0;

	if (e->type != MSGPACK_OBJECT_MAP)
		return;
	for (uint32_t i = 0; i < e->via.map.size; i++) {
		const msgpack_object *k = &e->via.map.ptr[i].key;
		bool common = false;

		if (k->type != MSGPACK_OBJECT_STR || k->via.str.size > PROTO_MAX_KEY)
			continue;
		snprintf(key[n], sizeof key[n], "%.*s", (int)k->via.str.size, k->via.str.ptr);
		for (size_t j = 0; render_common[j] != NULL; j++)
			common = common || strcmp(key[n], render_common[j]) == 0;
		if (common)
			continue;
		snprintf(tmpl[n], sizeof tmpl[n], "{%s}", key[n]);
		rows[n] = (struct render_row){ key[n], tmpl[n], NULL };
		if (++n == RENDER_EV_MAX) {
			render_rows(f, rows, n, &m, RENDER_MARGIN);
			n = 0;
		}
	}
	render_rows(f, rows, n, &m, RENDER_MARGIN);
}

/* The story: one block per entry of entries[0..n). A case's story shows the steps it
 * moves through; a household's (many cases) names the case of each entry instead. */
static void render_story(FILE *f, const msgpack_object *const *entries, size_t n,
			 bool one_case)
{
	proto_str step = PROTO_STR_NULL, now;
	char cs[RENDER_NUM_BUF];

	for (size_t i = 0; i < n; i++) {
		const msgpack_object *e = entries[i];
		const struct render_story *s = render_story_of(e);
		const struct render_maps m = { e, NULL };
		char at[RENDER_TIME_BUF], seq[RENDER_NUM_BUF];

		render_time(at, proto_map_get(e, "at"), false);
		fprintf(f, "\n%s  seq %s  ", at, render_uint(seq, proto_map_get(e, "seq")));
		render_out(f, render_str(e, "actor"), 0, NULL);
		fputs("\n" RENDER_MARGIN, f);
		if (!one_case && proto_map_get(e, "case") != NULL)
			fprintf(f, "case %s: ", render_uint(cs, proto_map_get(e, "case")));
		render_what(f, e, 0, RENDER_MARGIN);
		/* the step, when this entry moved the case: the opening does; a story that
		 * starts later cannot tell for its first entry, so it starts from there */
		if (one_case && proto_obj_str(proto_map_get(e, "step"), &now)) {
			bool opening = s != NULL && strcmp(s->topic, "case.opened") == 0;

			if (i == 0 ? opening : step.ptr == NULL || now.len != step.len ||
			    memcmp(now.ptr, step.ptr, now.len) != 0) {
				fputs(" → ", f);
				render_out(f, now, 0, NULL);
			}
			step = now;
		}
		fputc('\n', f);
		if (s != NULL)
			render_rows(f, s->ev, RENDER_EV_MAX, &m, RENDER_MARGIN);
		else
			render_unknown(f, e);
	}
}

void render_history(FILE *f, const msgpack_object *const *entries, size_t n)
{
	render_story(f, entries, n, false);
}

void render_case(FILE *f, const msgpack_object *reply, const msgpack_object *const *history,
		 size_t n)
{
	const msgpack_object *c = proto_map_get(reply, "case");
	uint64_t events = n, first = 0;

	render_record(f, &render_case_view, c, reply);
	proto_obj_u64(proto_map_get(c, "events"), &events);
	if (n > 0)
		proto_obj_u64(proto_map_get(history[0], "seq"), &first);
	if (n == 0)
		fputs("\nno history to show\n", f);
	else if (events > n)
		fprintf(f, "\nhistory from seq %" PRIu64 " (%zu of %" PRIu64 " entries):\n",
			first, n, events);
	else
		fprintf(f, "\nhistory (%zu %s):\n", n, n == 1 ? "entry" : "entries");
	render_story(f, history, n, true);
}

/* ---- log entries ---- */

void render_entry_header(FILE *f)
{
	fprintf(f, "%7s  %-16s  %-16s  %5s  %-16s  %s\n",
		"SEQ", "AT", "TOPIC", "CASE", "ACTOR", "WHAT");
}

void render_entry(FILE *f, const msgpack_object *e)
{
	char at[RENDER_TIME_BUF], seq[RENDER_NUM_BUF], cs[RENDER_NUM_BUF];

	render_time(at, proto_map_get(e, "at"), false);
	fprintf(f, "%7s  %-16s  ", render_uint(seq, proto_map_get(e, "seq")), at);
	render_pad(f, render_str(e, "topic"), 16, RENDER_CELL_MAX, false);
	fprintf(f, "  %5s  ", render_uint(cs, proto_map_get(e, "case")));
	render_pad(f, render_str(e, "actor"), 16, 16, false);
	fputs("  ", f);
	render_what(f, e, RENDER_WHAT_MAX, NULL);
	fputc('\n', f);
}

/* ---- tables ---- */

struct render_col {
	const char *label;
	const char *tmpl;
	bool right;		/* numbers are aligned right */
};

struct render_table {
	const struct render_col *cols;
	size_t n;
	const char *none;	/* what an empty list says */
};

static const struct render_col render_case_cols[] = {
	{ "ID", "{case}", true },
	{ "KIND", "{kind}", false },
	{ "AREA", "{area}", false },
	{ "STEP", "{step}", false },
	{ "DEADLINE", "{deadline}", false },
	{ "REDOS", "{redos}", true },
	{ "LEAD", "{lead}", false },
	{ "UNIT", "{unit}", false },
	{ "TITLE", "{title}", false },
};

static const struct render_col render_unit_cols[] = {
	{ "UNIT", "{unit}", false },
	{ "KIND", "{kind}", false },
	{ "PARENT", "{parent}", false },
	{ "NAME", "{name}", false },
};

static const struct render_col render_person_cols[] = {
	{ "PERSON", "{person}", false },
	{ "UNIT", "{unit}", false },
	{ "ROLES", "{roles}", false },
	{ "VILLAGE", "{village}", false },
	{ "NAME", "{name}", false },
};

static const struct render_col render_household_cols[] = {
	{ "HOUSEHOLD", "{household}", false },
	{ "VILLAGE", "{village}", false },
	{ "CATEGORY", "{category}", false },
	{ "MEMBERS", "{members}", true },
	{ "CADRE", "{cadre}", false },
	{ "VISITS", "{visits:0}", true },
	{ "LAST VISIT", "{last_visit}", false },
	{ "NEEDS", "{needs}", false },
};

#define RENDER_TABLE(cols, none) { cols, sizeof cols / sizeof cols[0], none }
const struct render_table render_cases_table = RENDER_TABLE(render_case_cols, "no cases");
const struct render_table render_units_table = RENDER_TABLE(render_unit_cols, "no units");
const struct render_table render_people_table = RENDER_TABLE(render_person_cols, "no people");
const struct render_table render_households_table =
	RENDER_TABLE(render_household_cols, "no households");

/* The text of a cell; the caller frees it. NULL when out of memory. */
static char *render_cell(const struct render_col *col, const msgpack_object *row, size_t *len)
{
	const struct render_maps m = { row, NULL };
	bool complete;

	return render_expand(col->tmpl, &m, &complete, len);
}

void render_table(FILE *f, const struct render_table *t, const msgpack_object *const *rows,
		  size_t n)
{
	size_t width[16] = { 0 }, ncols = t->n < 16 ? t->n : 16, len;
	char *s;

	if (n == 0) {
		fprintf(f, "%s\n", t->none);
		return;
	}
	for (size_t c = 0; c < ncols; c++) {
		width[c] = strlen(t->cols[c].label);
		for (size_t r = 0; r < n; r++) {
			size_t w;

			if ((s = render_cell(&t->cols[c], rows[r], &len)) == NULL)
				continue;
			w = render_width((proto_str){ s, (uint32_t)len });
			free(s);
			w = w > RENDER_CELL_MAX ? RENDER_CELL_MAX : w;
			width[c] = w > width[c] ? w : width[c];
		}
	}
	for (size_t r = 0; r <= n; r++) {
		for (size_t c = 0; c < ncols; c++) {
			proto_str cell = render_cstr(t->cols[c].label);

			s = NULL;
			if (r > 0 && (s = render_cell(&t->cols[c], rows[r - 1], &len)) != NULL)
				cell = (proto_str){ s, (uint32_t)len };
			else if (r > 0)
				cell = render_cstr("-");
			if (c + 1 == ncols)
				render_out(f, cell, 0, NULL);
			else
				render_pad(f, cell, width[c], RENDER_CELL_MAX, t->cols[c].right);
			fputs(c + 1 == ncols ? "" : "  ", f);
			free(s);
		}
		fputc('\n', f);
	}
}
