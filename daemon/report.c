/*
 * report.c - the reports' arithmetic (report.h): a replay of the log's case and household
 * entries, then the figures of a set of cases.
 *
 * Why a replay: the figures of a period (what was resolved in it, on time or not, the
 * state of each case at its end, overdue over time) are facts about moments, and the case
 * records only hold the present. The log holds every moment, and each figure can name the
 * entries behind it. A replay keeps one small state per case (its unit, lead, step and the
 * deadline in force, with the entries that set them) and a list of the period's events
 * that count on their own (extensions, redos, consultations, visits). Nothing is copied:
 * strings point into the entries.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *const report_fig_names[RF__N] = {
	[RF_CASES] = "cases", [RF_OPENED] = "opened", [RF_OVERDUE] = "overdue",
	[RF_RESOLVED] = "resolved", [RF_ON_TIME] = "on_time",
	[RF_LATE] = "late", [RF_NO_DEADLINE] = "no_deadline",
	[RF_DAYS_OVERDUE] = "days_overdue", [RF_EXTENSIONS] = "extensions",
	[RF_REDOS] = "redos", [RF_CROSSED_OFF] = "crossed_off",
	[RF_CONSULTATIONS] = "consultations", [RF_JOURNALS] = "journals",
	[RF_SATISFIED] = "satisfied", [RF_BASIC] = "basically_satisfied",
	[RF_DISSATISFIED] = "dissatisfied", [RF_VISITED] = "households_visited",
	[RF_SUPPORTED] = "households_supported",
};

struct unit {
	proto_str id, name, parent_id;	/* id first: id_cmp() */
	uint32_t kind;
	int parent;
};

/* An entry that set something, for the explanation. */
struct mark {
	uint64_t seq;
	proto_str topic;
	int64_t day;
};

struct rcase {
	bool known;		/* its case.opened was fed */
	int unit;		/* -1: a unit not in the tree */
	proto_str lead;
	uint32_t kind, step;
	int64_t deadline, pending;	/* the deadline in force; an extension asked for */
	struct mark opened, deadline_set, resolved, crossed, journal;
	int64_t resolved_deadline;	/* the deadline in force at the latest resolution */
	uint64_t satisfied, basic, dissatisfied;	/* the latest journal in the period */
	bool in_series;
};

enum ev_kind { EV_EXTENDED, EV_REDO, EV_CONSULTED, EV_HH_CONSULTED, EV_VISITED };

struct event {
	struct mark m;
	enum ev_kind kind;
	uint64_t case_id;	/* 0: a household event */
	int unit;		/* a household event's village (-1: not in the tree) */
	proto_str actor, household;
	bool support;
};

struct report {
	int64_t from, to;
	int off_min;
	struct unit *units;
	size_t nunits, unitcap;
	struct rcase *cases;	/* by case id - 1 */
	size_t ncases, casecap;
	struct event *ev;
	size_t nev, evcap;
	uint64_t last_seq;
	int64_t first_day, last_day;
	/* the series */
	int series_unit;	/* -1: none */
	struct report_point *points;
	size_t npoints;
	int64_t next_point, every;
};

int report_rate(uint64_t x, uint64_t y)
{
	return y == 0 ? -1 : (int)(x * 100 / y);
}

int report_progress(const struct report_fig *f)
{
	uint64_t done = 0;

	for (int s = STEP_RESOLVED; s < STEP__N; s++)
		done += f->steps[s];
	return report_rate(done, f->v[RF_CASES]);
}

int report_on_time_rate(const struct report_fig *f)
{
	return report_rate(f->v[RF_ON_TIME],
			   f->v[RF_ON_TIME] + f->v[RF_LATE] + f->v[RF_OVERDUE]);
}

int report_satisfaction(const struct report_fig *f)
{
	return report_rate(f->v[RF_SATISFIED] + f->v[RF_BASIC],
			   f->v[RF_SATISFIED] + f->v[RF_BASIC] + f->v[RF_DISSATISFIED]);
}

/* Grow *p (of *cap elements of size sz) to hold n; false when memory runs out. */
static bool grow(void *p, size_t *cap, size_t n, size_t sz)
{
	void **pp = p;
	size_t c = *cap ? *cap : 64;
	void *q;

	if (n <= *cap)
		return true;
	while (c < n)
		c *= 2;
	if ((q = realloc(*pp, c * sz)) == NULL)
		return false;
	memset((char *)q + *cap * sz, 0, (c - *cap) * sz);
	*pp = q;
	*cap = c;
	return true;
}

nt_err report_new(struct report **out, int64_t from, int64_t to, int utc_offset_min)
{
	struct report *r = calloc(1, sizeof *r);

	*out = r;
	if (r == NULL)
		return NT_ENOMEM;
	r->from = from;
	r->to = to;
	r->off_min = utc_offset_min;
	r->series_unit = -1;
	return NT_OK;
}

void report_free(struct report **rp)
{
	struct report *r = *rp;

	if (r == NULL)
		return;
	free(r->units);
	free(r->cases);
	free(r->ev);
	free(r->points);
	free(r);
	*rp = NULL;
}

/* ---- the unit tree ---- */

nt_err report_add_unit(struct report *r, proto_str id, proto_str name, uint32_t kind,
		       proto_str parent)
{
	if (!grow(&r->units, &r->unitcap, r->nunits + 1, sizeof *r->units))
		return NT_ENOMEM;
	r->units[r->nunits++] = (struct unit){ id, name, parent, kind, -1 };
	return NT_OK;
}

static int unit_cmp(const void *a, const void *b)
{
	return proto_str_cmp(((const struct unit *)a)->id, ((const struct unit *)b)->id);
}

/* bsearch()'s comparison of an id with an element that begins with its id (a proto_str
 * array, struct unit). */
static int id_cmp(const void *key, const void *elem)
{
	return proto_str_cmp(*(const proto_str *)key, *(const proto_str *)elem);
}

int report_unit_find(const struct report *r, proto_str id)
{
	const struct unit *u = r->nunits > 0 ?
			       bsearch(&id, r->units, r->nunits, sizeof *r->units, id_cmp) : NULL;

	return u != NULL ? (int)(u - r->units) : -1;
}

nt_err report_units_done(struct report *r)
{
	if (r->nunits > 0)
		qsort(r->units, r->nunits, sizeof *r->units, unit_cmp);
	for (size_t i = 0; i < r->nunits; i++) {
		int p = r->units[i].parent_id.len ? report_unit_find(r, r->units[i].parent_id) : -1;

		r->units[i].parent = p == (int)i ? -1 : p;
	}
	return NT_OK;
}

size_t report_nunits(const struct report *r)
{
	return r->nunits;
}

void report_unit(const struct report *r, int i, proto_str *id, proto_str *name, uint32_t *kind,
		 int *parent)
{
	const struct unit *u = &r->units[i];

	*id = u->id;
	*name = u->name;
	*kind = u->kind;
	*parent = u->parent;
}

bool report_unit_within(const struct report *r, int u, int above)
{
	/* the tree is bounded in depth; a cycle (a ledger edited by hand) ends the walk */
	for (int depth = 0; u >= 0 && depth <= UNIT_MAX_DEPTH; depth++, u = r->units[u].parent)
		if (u == above)
			return true;
	return false;
}

/* ---- the series ---- */

nt_err report_series(struct report *r, int unit)
{
	int64_t days = r->to - r->from + 1;

	r->series_unit = unit;
	r->every = days <= REPORT_SERIES_MAX ? 1 : (days + REPORT_SERIES_MAX - 1) / REPORT_SERIES_MAX;
	r->next_point = r->from;
	r->points = calloc(REPORT_SERIES_MAX + 1, sizeof *r->points);
	return r->points == NULL ? NT_ENOMEM : NT_OK;
}

static void snapshot(struct report *r, int64_t day)
{
	struct report_point *p = &r->points[r->npoints++];

	p->day = day;
	for (size_t i = 0; i < r->ncases; i++) {
		const struct rcase *c = &r->cases[i];

		if (!c->in_series)
			continue;
		if (c->step >= STEP_RESOLVED)
			p->resolved++;
		else
			p->open++;
		if (c->deadline != 0 && c->deadline < day && c->step < STEP_RESOLVED)
			p->overdue++;
	}
}

/* Take the points of the days before `day`: their state is final. */
static void points_before(struct report *r, int64_t day)
{
	while (r->series_unit >= 0 && r->next_point < day && r->next_point <= r->to &&
	       r->npoints <= REPORT_SERIES_MAX) {
		snapshot(r, r->next_point);
		if (r->next_point == r->to)
			r->next_point = r->to + 1;
		else if (r->next_point + r->every > r->to)
			r->next_point = r->to;
		else
			r->next_point += r->every;
	}
}

const struct report_point *report_points(const struct report *r, size_t *n)
{
	*n = r->npoints;
	return r->points;
}

/* ---- the replay ---- */

/* The keys of an entry the replay reads. */
struct entry {
	uint64_t seq, case_id;
	int64_t at;
	proto_str topic, actor, step, unit, lead, kind, household, village, until;
	proto_str deadline, new_deadline;
	bool has_deadline, has_new_deadline, has_support, has_until;
	uint64_t satisfied, basic, dissatisfied;
};

static bool rd_nil(proto_rd *r)
{
	if (r->p < r->end && *r->p == 0xc0) {
		r->p++;
		return true;
	}
	return false;
}

/* A str, or nil (s empty). */
static bool rd_str_or_nil(proto_rd *r, proto_str *s)
{
	*s = PROTO_STR_NULL;
	return rd_nil(r) || proto_rd_str(r, s);
}

static bool key_is(proto_str k, const char *c)
{
	return proto_str_eq(k, c);
}

static bool topic_wanted(proto_str t)
{
	return (t.len > 5 && memcmp(t.ptr, "case.", 5) == 0) ||
	       key_is(t, "deadline.moved") || key_is(t, "household.visited") ||
	       key_is(t, "household.consulted");
}

/* The keys the replay reads; compared by length first (most keys of an entry are not). */
enum ekey { K_SEQ, K_TOPIC, K_AT, K_CASE, K_ACTOR, K_STEP, K_UNIT, K_LEAD, K_KIND,
	    K_HOUSEHOLD, K_VILLAGE, K_DEADLINE, K_NEW_DEADLINE, K_UNTIL, K_SUPPORT,
	    K_SATISFIED, K_BASIC, K_DISSATISFIED, K__N };
static const struct { const char *name; uint32_t len; } ekeys[K__N] = {
#define EK(k, s) [k] = { s, sizeof s - 1 }
	EK(K_SEQ, "seq"), EK(K_TOPIC, "topic"), EK(K_AT, "at"), EK(K_CASE, "case"),
	EK(K_ACTOR, "actor"), EK(K_STEP, "step"), EK(K_UNIT, "unit"), EK(K_LEAD, "lead"),
	EK(K_KIND, "kind"), EK(K_HOUSEHOLD, "household"), EK(K_VILLAGE, "village"),
	EK(K_DEADLINE, "deadline"), EK(K_NEW_DEADLINE, "new_deadline"), EK(K_UNTIL, "until"),
	EK(K_SUPPORT, "support"), EK(K_SATISFIED, "satisfied"),
	EK(K_BASIC, "basically_satisfied"), EK(K_DISSATISFIED, "dissatisfied"),
#undef EK
};

static int ekey_of(proto_str k)
{
	for (int i = 0; i < K__N; i++)
		if (ekeys[i].len == k.len && memcmp(ekeys[i].name, k.ptr, k.len) == 0)
			return i;
	return -1;
}

/* Read what the replay needs of an entry; the rest is skipped. */
static bool entry_read(const void *buf, size_t len, struct entry *e)
{
	proto_rd r;
	uint32_t n;

	memset(e, 0, sizeof *e);
	proto_rd_init(&r, buf, len);
	if (!proto_rd_map(&r, &n))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		proto_str k, v;
		bool ok = true;

		if (!proto_rd_str(&r, &k))
			return false;
		switch (ekey_of(k)) {
		case K_SEQ: ok = proto_rd_u64(&r, &e->seq); break;
		case K_TOPIC: ok = proto_rd_str(&r, &e->topic); break;
		case K_AT:
			ok = proto_rd_i64(&r, &e->at);
			/* an entry the replay does not use: seq, topic and at are enough */
			if (ok && e->topic.len > 0 && !topic_wanted(e->topic))
				return e->seq != 0;
			break;
		case K_CASE: ok = proto_rd_u64(&r, &e->case_id); break;
		case K_ACTOR: ok = proto_rd_str(&r, &e->actor); break;
		case K_STEP: ok = proto_rd_str(&r, &e->step); break;
		case K_UNIT: ok = proto_rd_str(&r, &e->unit); break;
		case K_LEAD: ok = proto_rd_str(&r, &e->lead); break;
		case K_KIND: ok = proto_rd_str(&r, &e->kind); break;
		case K_HOUSEHOLD: ok = proto_rd_str(&r, &e->household); break;
		case K_VILLAGE: ok = proto_rd_str(&r, &e->village); break;
		case K_DEADLINE:
			ok = rd_str_or_nil(&r, &e->deadline);
			e->has_deadline = true;
			break;
		case K_NEW_DEADLINE:
			ok = rd_str_or_nil(&r, &e->new_deadline);
			e->has_new_deadline = true;
			break;
		case K_UNTIL:
			ok = proto_rd_str(&r, &e->until);
			e->has_until = true;
			break;
		case K_SUPPORT:
			ok = rd_str_or_nil(&r, &v);
			e->has_support = v.len > 0;
			break;
		case K_SATISFIED: ok = proto_rd_u64(&r, &e->satisfied); break;
		case K_BASIC: ok = proto_rd_u64(&r, &e->basic); break;
		case K_DISSATISFIED: ok = proto_rd_u64(&r, &e->dissatisfied); break;
		default: ok = proto_rd_skip(&r); break;
		}
		if (!ok)
			return false;
	}
	return e->seq != 0 && e->topic.len > 0;
}

/* A date string, or nil/empty (0, no date). False: not a date. */
static bool day_of(proto_str s, int64_t *day)
{
	*day = 0;
	return s.len == 0 || proto_date_parse(s, day);
}

static int name_index(const char *const *names, proto_str s)
{
	for (int i = 0; names[i] != NULL; i++)
		if (proto_str_eq(s, names[i]))
			return i;
	return -1;
}

static bool in_period(const struct report *r, int64_t day)
{
	return day >= r->from && day <= r->to;
}

static nt_err add_event(struct report *r, const struct entry *e, const struct mark *m,
			enum ev_kind kind)
{
	struct event *ev;

	if (!grow(&r->ev, &r->evcap, r->nev + 1, sizeof *r->ev))
		return NT_ENOMEM;
	ev = &r->ev[r->nev++];
	ev->m = *m;
	ev->kind = kind;
	ev->case_id = kind == EV_HH_CONSULTED || kind == EV_VISITED ? 0 : e->case_id;
	ev->unit = e->village.len ? report_unit_find(r, e->village) : -1;
	ev->actor = e->actor;
	ev->household = e->household;
	ev->support = e->has_support;
	return NT_OK;
}

static nt_err case_opened(struct report *r, const struct entry *e, const struct mark *m)
{
	struct rcase *c;
	int kind;

	/* ids are given in order of opening, each after its entry's seq: bounded by the log */
	if (e->case_id == 0 || e->case_id > e->seq)
		return NT_ECORRUPT;
	if (e->case_id > r->ncases) {
		if (!grow(&r->cases, &r->casecap, e->case_id, sizeof *r->cases))
			return NT_ENOMEM;
		r->ncases = e->case_id;
	}
	c = &r->cases[e->case_id - 1];
	memset(c, 0, sizeof *c);
	c->known = true;
	c->unit = report_unit_find(r, e->unit);
	c->lead = e->lead;
	kind = name_index(case_kinds, e->kind);
	c->kind = kind < 0 ? 0 : (uint32_t)kind;
	c->step = STEP_IDENTIFIED;
	c->opened = *m;
	if (e->has_deadline && day_of(e->deadline, &c->deadline) && c->deadline != 0)
		c->deadline_set = *m;
	c->in_series = r->series_unit >= 0 && c->unit >= 0 &&
		       report_unit_within(r, c->unit, r->series_unit);
	return NT_OK;
}

static void set_deadline(struct rcase *c, int64_t day, const struct mark *m)
{
	c->deadline = day;
	c->deadline_set = *m;
}

/* An entry about an existing case. */
static nt_err case_event(struct report *r, struct rcase *c, const struct entry *e,
			 const struct mark *m)
{
	const proto_str t = e->topic;
	int64_t day;
	int step;

	if (e->has_new_deadline) {
		if (!day_of(e->new_deadline, &day))
			return NT_ECORRUPT;
		set_deadline(c, day, m);
	} else if (key_is(t, "case.planned") && e->has_deadline && e->deadline.len > 0) {
		/* a ledger from before new_deadline: a plan's date as given */
		if (day_of(e->deadline, &day))
			set_deadline(c, day, m);
	} else if (key_is(t, "case.extended") && c->pending != 0) {
		set_deadline(c, c->pending, m);
	} else if (key_is(t, "deadline.moved") && e->has_deadline) {
		if (!day_of(e->deadline, &day))
			return NT_ECORRUPT;
		set_deadline(c, day, m);
	}
	if (key_is(t, "case.extension_requested") && e->has_until)
		(void)day_of(e->until, &c->pending);
	if (key_is(t, "case.extended") || key_is(t, "case.extension_refused"))
		c->pending = 0;
	if (key_is(t, "case.reassigned") && e->lead.len > 0)
		c->lead = e->lead;
	/* a case entry ends with the step the case is at */
	if (t.len > 5 && memcmp(t.ptr, "case.", 5) == 0 && e->step.len > 0 &&
	    (step = name_index(case_steps, e->step)) >= 0)
		c->step = (uint32_t)step;

	if (key_is(t, "case.resolved")) {
		c->resolved = *m;
		c->resolved_deadline = c->deadline;
	} else if (key_is(t, "case.crossed_off")) {
		c->crossed = *m;
	} else if ((key_is(t, "case.journaled") || key_is(t, "case.redo")) &&
		   in_period(r, m->day)) {
		c->journal = *m;
		c->satisfied = e->satisfied;
		c->basic = e->basic;
		c->dissatisfied = e->dissatisfied;
	}
	if (!in_period(r, m->day))
		return NT_OK;
	if (key_is(t, "case.extended"))
		return add_event(r, e, m, EV_EXTENDED);
	if (key_is(t, "case.redo") || key_is(t, "case.returned"))
		return add_event(r, e, m, EV_REDO);
	if (key_is(t, "case.consulted"))
		return add_event(r, e, m, EV_CONSULTED);
	return NT_OK;
}

nt_err report_feed(struct report *r, const void *buf, size_t len, bool *past)
{
	struct entry e;
	struct mark m;

	*past = false;
	if (!entry_read(buf, len, &e))
		return NT_ECORRUPT;
	m = (struct mark){ e.seq, e.topic, proto_day_of(e.at, r->off_min) };
	if (m.day > r->to) {
		*past = true;
		return NT_OK;
	}
	if (r->first_day == 0)
		r->first_day = m.day;
	r->last_seq = e.seq;
	points_before(r, m.day);
	if (!topic_wanted(e.topic))
		return NT_OK;
	if (key_is(e.topic, "household.visited"))
		return in_period(r, m.day) ? add_event(r, &e, &m, EV_VISITED) : NT_OK;
	if (key_is(e.topic, "household.consulted"))
		return in_period(r, m.day) ? add_event(r, &e, &m, EV_HH_CONSULTED) : NT_OK;
	if (key_is(e.topic, "case.opened"))
		return case_opened(r, &e, &m);
	if (e.case_id == 0 || e.case_id > r->ncases || !r->cases[e.case_id - 1].known)
		return NT_OK;	/* a case opened before the log began (an import): not replayed */
	return case_event(r, &r->cases[e.case_id - 1], &e, &m);
}

nt_err report_end(struct report *r)
{
	points_before(r, r->to + 1);
	return NT_OK;
}

uint64_t report_last_seq(const struct report *r)
{
	return r->last_seq;
}

int64_t report_first_day(const struct report *r)
{
	return r->first_day;
}

/* ---- the figures ---- */

/* Where a contribution goes: the figures it adds to, and what explains it. */
struct sink {
	struct report_fig **figs;
	size_t nfigs;
	struct report_explain *x;
};

static void add(struct sink *s, enum report_figure f, uint64_t n, const struct mark *m,
		uint64_t case_id, proto_str household)
{
	struct report_explain *x = s->x;

	if (n == 0)
		return;
	for (size_t i = 0; i < s->nfigs; i++)
		s->figs[i]->v[f] += n;
	if (x == NULL)
		return;
	if (x->n[f] >= REPORT_EXPLAIN_MAX || x->items[f] == NULL) {
		x->more[f]++;
		return;
	}
	x->items[f][x->n[f]++] = (struct report_why){ m->seq, m->topic, case_id, household,
						      m->day, n };
}

static void add_case(const struct report *r, struct sink *s, uint64_t id, const struct rcase *c)
{
	const proto_str none = PROTO_STR_NULL;
	/* the work not done by its deadline: what the chase chases (docs/deadlines.md) */
	bool overdue = c->deadline != 0 && c->deadline < r->to && c->step < STEP_RESOLVED;

	for (size_t i = 0; i < s->nfigs; i++)
		s->figs[i]->steps[c->step < STEP__N ? c->step : 0]++;
	add(s, RF_CASES, 1, &c->opened, id, none);
	add(s, RF_OPENED, in_period(r, c->opened.day), &c->opened, id, none);
	add(s, RF_OVERDUE, overdue, &c->deadline_set, id, none);
	if (overdue)
		add(s, RF_DAYS_OVERDUE, (uint64_t)(r->to - c->deadline), &c->deadline_set, id,
		    none);
	if (c->step >= STEP_RESOLVED && c->resolved.seq != 0 && in_period(r, c->resolved.day)) {
		int64_t dl = c->resolved_deadline;

		add(s, RF_RESOLVED, 1, &c->resolved, id, none);
		if (dl == 0) {
			add(s, RF_NO_DEADLINE, 1, &c->resolved, id, none);
		} else if (c->resolved.day <= dl) {
			add(s, RF_ON_TIME, 1, &c->resolved, id, none);
		} else {
			add(s, RF_LATE, 1, &c->resolved, id, none);
			add(s, RF_DAYS_OVERDUE, (uint64_t)(c->resolved.day - dl), &c->resolved, id,
			    none);
		}
	}
	add(s, RF_CROSSED_OFF, c->step == STEP_CROSSED_OFF && c->crossed.seq != 0 &&
	    in_period(r, c->crossed.day), &c->crossed, id, none);
	if (c->journal.seq != 0) {
		add(s, RF_JOURNALS, 1, &c->journal, id, none);
		add(s, RF_SATISFIED, c->satisfied, &c->journal, id, none);
		add(s, RF_BASIC, c->basic, &c->journal, id, none);
		add(s, RF_DISSATISFIED, c->dissatisfied, &c->journal, id, none);
	}
}

static void add_case_event(struct sink *s, const struct event *ev)
{
	enum report_figure f = ev->kind == EV_EXTENDED ? RF_EXTENSIONS :
			       ev->kind == EV_REDO ? RF_REDOS : RF_CONSULTATIONS;

	add(s, f, 1, &ev->m, ev->case_id, PROTO_STR_NULL);
}

/* Visits by household, then seq: each household counts once, at its first visit of the
 * period (and, if supported, at its first visit with support). */
static int visit_cmp(const void *pa, const void *pb)
{
	const struct event *a = *(const struct event *const *)pa, *b = *(const struct event *const *)pb;
	int c = proto_str_cmp(a->household, b->household);

	if (c != 0)
		return c;
	return a->m.seq < b->m.seq ? -1 : a->m.seq > b->m.seq;
}

/* The period's visits that pass keep(), one run per household, in household order. */
static nt_err visits_of(const struct report *r, const struct event ***out, size_t *n)
{
	const struct event **v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if ((v = malloc((r->nev + 1) * sizeof *v)) == NULL)
		return NT_ENOMEM;
	for (size_t i = 0; i < r->nev; i++)
		if (r->ev[i].kind == EV_VISITED)
			v[k++] = &r->ev[i];
	qsort(v, k, sizeof *v, visit_cmp);
	*out = v;
	*n = k;
	return NT_OK;
}

/* Count the visits v[0..n) (sorted) into s, by household; keep(): the visits that count. */
static void add_visits(struct sink *s, const struct event **v, size_t n,
		       bool (*keep)(const struct report *, const struct event *, const void *),
		       const struct report *r, const void *arg)
{
	for (size_t i = 0, j; i < n; i = j) {
		const struct event *first = NULL, *support = NULL;

		for (j = i; j < n && proto_str_same(v[j]->household, v[i]->household); j++) {
			if (!keep(r, v[j], arg))
				continue;
			if (first == NULL)
				first = v[j];
			if (support == NULL && v[j]->support)
				support = v[j];
		}
		if (first != NULL)
			add(s, RF_VISITED, 1, &first->m, 0, first->household);
		if (support != NULL)
			add(s, RF_SUPPORTED, 1, &support->m, 0, support->household);
	}
}

/*
 * Where the contributions of a case (c), or of a household event (c NULL: its village unit
 * and its actor), go: into out, at most UNIT_MAX_DEPTH + 1 figures; returns how many (0:
 * not counted). One per way of setting cases together: every unit's, one scope's, every
 * person's.
 */
typedef size_t (*route_fn)(const struct report *r, void *arg, const struct rcase *c,
			   int unit, proto_str actor, struct report_fig **out);

/* Every case, and every event of the period but the visits (add_visits()), where route
 * sends them. */
static void add_all(const struct report *r, route_fn route, void *arg,
		    struct report_explain *x)
{
	struct report_fig *to[UNIT_MAX_DEPTH + 1];
	struct sink s = { to, 0, x };

	for (size_t i = 0; i < r->ncases; i++) {
		const struct rcase *c = &r->cases[i];

		if (c->known && (s.nfigs = route(r, arg, c, c->unit, PROTO_STR_NULL, to)) > 0)
			add_case(r, &s, i + 1, c);
	}
	for (size_t i = 0; i < r->nev; i++) {
		const struct event *ev = &r->ev[i];
		const struct rcase *c = ev->case_id ? &r->cases[ev->case_id - 1] : NULL;

		if (ev->kind == EV_VISITED || (c != NULL && !c->known))
			continue;
		if ((s.nfigs = route(r, arg, c, c != NULL ? c->unit : ev->unit, ev->actor, to)) > 0)
			add_case_event(&s, ev);
	}
}

/* Every unit's figures at once: each contribution goes to its unit and every unit above. */
static size_t chain(const struct report *r, int u, struct report_fig *figs,
		    struct report_fig *out[UNIT_MAX_DEPTH + 1])
{
	size_t n = 0;

	for (; u >= 0 && n <= UNIT_MAX_DEPTH; u = r->units[u].parent)
		out[n++] = &figs[u];
	return n;
}

static size_t route_units(const struct report *r, void *arg, const struct rcase *c,
			  int unit, proto_str actor, struct report_fig **out)
{
	(void)c, (void)actor;
	return chain(r, unit, arg, out);
}

static bool visit_in_unit(const struct report *r, const struct event *ev, const void *arg)
{
	(void)r, (void)arg;
	return ev->unit == *(const int *)arg;
}

nt_err report_unit_figures(const struct report *r, struct report_fig *figs)
{
	struct report_fig *up[UNIT_MAX_DEPTH + 1];
	struct sink s = { up, 0, NULL };
	const struct event **v;
	size_t nv;
	nt_err rc;

	add_all(r, route_units, figs, NULL);
	if ((rc = visits_of(r, &v, &nv)) != NT_OK)
		return rc;
	/* a household counts once in each unit above its village: per village, then up */
	for (size_t i = 0, j; i < nv; i = j) {
		for (j = i; j < nv && proto_str_same(v[j]->household, v[i]->household); j++)
			;
		/* the village of its latest visit */
		if (v[j - 1]->unit >= 0 && (s.nfigs = chain(r, v[j - 1]->unit, figs, up)) > 0)
			add_visits(&s, v + i, j - i, visit_in_unit, r, &v[j - 1]->unit);
	}
	free(v);
	return NT_OK;
}

/* One scope: the cases of a unit and those under it (unit >= 0), or the cases a person
 * leads; only one kind of case when kind >= 0; its figures in f. */
struct scope {
	int unit;
	proto_str person;
	int kind;
	struct report_fig *f;
};

/* A household event of the scope: for a unit, in a village under it; for a person, theirs. */
static bool hh_in(const struct report *r, const struct scope *sc, int unit, proto_str actor)
{
	if (sc->unit >= 0)
		return unit >= 0 && report_unit_within(r, unit, sc->unit);
	return proto_str_same(actor, sc->person);
}

static size_t route_scope(const struct report *r, void *arg, const struct rcase *c,
			  int unit, proto_str actor, struct report_fig **out)
{
	const struct scope *sc = arg;
	bool in;

	if (c == NULL)
		in = sc->kind < 0 && hh_in(r, sc, unit, actor);
	else if (sc->kind >= 0 && c->kind != (uint32_t)sc->kind)
		in = false;
	else if (sc->unit >= 0)
		in = c->unit >= 0 && report_unit_within(r, c->unit, sc->unit);
	else
		in = proto_str_same(c->lead, sc->person);
	out[0] = sc->f;
	return in;
}

static bool visit_in_scope(const struct report *r, const struct event *ev, const void *arg)
{
	return hh_in(r, arg, ev->unit, ev->actor);
}

nt_err report_scope_figures(const struct report *r, int unit, proto_str person,
			    struct report_fig *f, struct report_explain *x)
{
	struct report_fig *one[1] = { f };
	struct sink s = { one, 1, x };
	struct scope sc = { unit, person, -1, f };
	const struct event **v;
	size_t nv;
	nt_err rc;

	for (int i = 0; x != NULL && i < RF__N; i++)
		if (x->items[i] == NULL &&
		    (x->items[i] = calloc(REPORT_EXPLAIN_MAX, sizeof *x->items[i])) == NULL)
			return NT_ENOMEM;
	add_all(r, route_scope, &sc, x);
	if ((rc = visits_of(r, &v, &nv)) != NT_OK)
		return rc;
	add_visits(&s, v, nv, visit_in_scope, r, &sc);
	free(v);
	return NT_OK;
}

nt_err report_kind_figures(const struct report *r, int unit, uint32_t kind, struct report_fig *f)
{
	struct scope sc = { unit, PROTO_STR_NULL, (int)kind, f };

	add_all(r, route_scope, &sc, NULL);
	return NT_OK;
}

void report_explain_fini(struct report_explain *x)
{
	for (int i = 0; i < RF__N; i++) {
		free(x->items[i]);
		x->items[i] = NULL;
	}
}

/* ---- packing ---- */

static void kv_rate(proto_out *o, const char *key, int rate)
{
	if (rate < 0)
		proto_kv_nil(o, key);
	else
		proto_kv_u64(o, key, (uint64_t)rate);
}

uint32_t report_pack_figures(proto_out *o, const struct report_fig *f)
{
	uint32_t n = 0, ngaps = 0;

	for (int i = 0; i < RF__N; i++, n++)
		proto_kv_u64(o, report_fig_names[i], f->v[i]);
	proto_pack_cstr(o, "steps");
	msgpack_pack_map(&o->pk, STEP__N);
	for (int s = 0; s < STEP__N; s++)
		proto_kv_u64(o, case_steps[s], f->steps[s]);
	kv_rate(o, "progress", report_progress(f));
	kv_rate(o, "on_time_rate", report_on_time_rate(f));
	kv_rate(o, "satisfaction", report_satisfaction(f));
	n += 4;
	for (int m = 0; m < MS__N; m++)
		ngaps += f->has_gap[m];
	proto_pack_cstr(o, "gaps");
	msgpack_pack_map(&o->pk, ngaps);
	for (int m = 0; m < MS__N; m++)
		if (f->has_gap[m])
			proto_kv_u64(o, milestone_names[m], f->gaps[m]);
	return n + 1;
}

uint32_t report_pack_explain(proto_out *o, const struct report_explain *x)
{
	uint32_t nmore = 0;

	proto_pack_cstr(o, "explain");
	msgpack_pack_map(&o->pk, RF__N);
	for (int f = 0; f < RF__N; f++) {
		proto_pack_cstr(o, report_fig_names[f]);
		msgpack_pack_array(&o->pk, x->n[f]);
		for (size_t i = 0; i < x->n[f]; i++) {
			const struct report_why *w = &x->items[f][i];
			char d[11];

			proto_date_format(w->day, d);
			msgpack_pack_map(&o->pk, w->case_id ? 5 : 6);
			proto_kv_u64(o, "seq", w->seq);
			proto_kv_str(o, "topic", w->topic);
			if (w->case_id) {
				proto_kv_u64(o, "case", w->case_id);
			} else {
				proto_kv_nil(o, "case");
				if (w->household.len > 0)
					proto_kv_str(o, "household", w->household);
				else	/* a household consultation: its households are in it */
					proto_kv_nil(o, "household");
			}
			proto_kv_cstr(o, "day", d);
			proto_kv_u64(o, "count", w->count);
		}
		nmore += x->more[f] > 0;
	}
	if (nmore == 0)
		return 1;
	proto_pack_cstr(o, "explain_more");
	msgpack_pack_map(&o->pk, nmore);
	for (int f = 0; f < RF__N; f++)
		if (x->more[f] > 0)
			proto_kv_u64(o, report_fig_names[f], x->more[f]);
	return 2;
}

/* ---- every person's figures in one pass ---- */

static int person_find(const proto_str *ids, size_t n, proto_str id)
{
	const proto_str *p = n > 0 ? bsearch(&id, ids, n, sizeof *ids, id_cmp) : NULL;

	return p != NULL ? (int)(p - ids) : -1;
}

/* Visits by actor, then household, then seq. */
static int actor_visit_cmp(const void *pa, const void *pb)
{
	const struct event *a = *(const struct event *const *)pa, *b = *(const struct event *const *)pb;
	int c = proto_str_cmp(a->actor, b->actor);

	return c != 0 ? c : visit_cmp(pa, pb);
}

static bool keep_all(const struct report *r, const struct event *ev, const void *arg)
{
	(void)r, (void)ev, (void)arg;
	return true;
}

/* Every person's: the sorted ids and their figures. */
struct people {
	const proto_str *ids;
	size_t n;
	struct report_fig *figs;
};

static size_t route_people(const struct report *r, void *arg, const struct rcase *c,
			   int unit, proto_str actor, struct report_fig **out)
{
	const struct people *pp = arg;
	int p = person_find(pp->ids, pp->n, c != NULL ? c->lead : actor);

	(void)r, (void)unit;
	if (p < 0)
		return 0;
	out[0] = &pp->figs[p];
	return 1;
}

nt_err report_people_figures(const struct report *r, const proto_str *ids, size_t n,
			     struct report_fig *figs)
{
	struct people pp = { ids, n, figs };
	struct report_fig *one[1];
	struct sink s = { one, 1, NULL };
	const struct event **v;
	size_t nv;
	nt_err rc;
	int p;

	add_all(r, route_people, &pp, NULL);
	if ((rc = visits_of(r, &v, &nv)) != NT_OK)
		return rc;
	qsort(v, nv, sizeof *v, actor_visit_cmp);
	for (size_t i = 0, j; i < nv; i = j) {
		for (j = i; j < nv && proto_str_same(v[j]->actor, v[i]->actor); j++)
			;
		if ((p = person_find(ids, n, v[i]->actor)) >= 0) {
			one[0] = &figs[p];
			add_visits(&s, v + i, j - i, keep_all, r, NULL);
		}
	}
	free(v);
	return NT_OK;
}
