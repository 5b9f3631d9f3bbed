/*
 * test_report.c - the reports' arithmetic alone (daemon/report.c): a unit tree and log
 * entries made here, fed in order, and the figures they must give.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "../tap.h"

#define DAY0 20600		/* a day (2026-05-27): the period begins */
#define MS(day) ((int64_t)(day) * 86400000 - 8 * 3600000 + 10 * 3600000)	/* 10:00 UTC+8 */

/* The entries of one test; each kept until the report is freed. */
static proto_out entries[64];
static size_t nentries;
static uint64_t seq;

static void fresh(void)
{
	for (size_t i = 0; i < nentries; i++)
		proto_out_fini(&entries[i]);
	nentries = 0;
	seq = 0;
}

/*
 * An entry of topic on `day` about case k (0: none), with further pairs given as
 * key, type, value: 's' a string, 'u' an unsigned, 'n' nil; ending with NULL.
 */
static const proto_out *entry(int64_t day, const char *topic, uint64_t k, ...)
{
	proto_out *o = &entries[nentries++];
	const char *key;
	uint32_t n = 4 + (k != 0);
	va_list ap;

	va_start(ap, k);
	while ((key = va_arg(ap, const char *)) != NULL) {
		int type = va_arg(ap, int);

		n++;
		if (type == 's')
			(void)va_arg(ap, const char *);
		else if (type == 'u')
			(void)va_arg(ap, uint64_t);
	}
	va_end(ap);
	proto_out_init(o);
	msgpack_pack_map(&o->pk, n);
	proto_kv_u64(o, "seq", ++seq);
	proto_kv_cstr(o, "topic", topic);
	proto_kv_i64(o, "at", MS(day));
	if (k != 0)
		proto_kv_u64(o, "case", k);
	proto_kv_cstr(o, "actor", "someone");
	va_start(ap, k);
	while ((key = va_arg(ap, const char *)) != NULL) {
		int type = va_arg(ap, int);

		if (type == 's')
			proto_kv_cstr(o, key, va_arg(ap, const char *));
		else if (type == 'u')
			proto_kv_u64(o, key, va_arg(ap, uint64_t));
		else
			proto_kv_nil(o, key);
	}
	va_end(ap);
	return o;
}

static proto_str S(const char *s)
{
	return (proto_str){ s, (uint32_t)strlen(s) };
}

static struct report *county(int64_t from, int64_t to)
{
	struct report *r;

	CHECK(report_new(&r, from, to, 480) == NT_OK);
	/* in no particular order: the report sorts them */
	CHECK(report_add_unit(r, S("xiaxi"), S("下溪村"), UNIT_VILLAGE, S("anling")) == NT_OK);
	CHECK(report_add_unit(r, S("county"), S("示范县"), UNIT_COUNTY, S("")) == NT_OK);
	CHECK(report_add_unit(r, S("anling"), S("安岭乡"), UNIT_TOWNSHIP, S("county")) == NT_OK);
	CHECK(report_add_unit(r, S("tianshi"), S("田市镇"), UNIT_TOWNSHIP, S("county")) == NT_OK);
	CHECK(report_units_done(r) == NT_OK);
	return r;
}

static bool feed(struct report *r, const proto_out *e)
{
	bool past = false;

	CHECK(report_feed(r, e->sb.data, e->sb.size, &past) == NT_OK);
	return past;
}

static void opened(struct report *r, int64_t day, uint64_t k, const char *unit,
		   const char *lead, const char *deadline)
{
	if (deadline)
		feed(r, entry(day, "case.opened", k, "unit", 's', unit, "lead", 's', lead, "kind",
			      's', "problem", "step", 's', "identified", "deadline", 's', deadline,
			      NULL));
	else
		feed(r, entry(day, "case.opened", k, "unit", 's', unit, "lead", 's', lead, "kind",
			      's', "problem", "step", 's', "identified", NULL));
}

static void a_case_resolved_by_its_deadline_is_on_time_and_after_it_late(void)
{
	struct report *r = county(DAY0, DAY0 + 10);
	struct report_fig *figs = calloc(report_nunits(r), sizeof *figs);
	int anling = report_unit_find(r, S("anling")), county_ = report_unit_find(r, S("county"));

	opened(r, DAY0, 1, "xiaxi", "wang.li", "2026-05-30");		/* DAY0 + 3 */
	opened(r, DAY0, 2, "tianshi", "chen.jie", NULL);
	feed(r, entry(DAY0 + 1, "case.planned", 2, "new_deadline", 's', "2026-05-29",
		      "step", 's', "planned", NULL));			/* DAY0 + 2 */
	feed(r, entry(DAY0 + 3, "case.resolved", 1, "step", 's', "resolved", NULL));
	feed(r, entry(DAY0 + 5, "case.resolved", 2, "step", 's', "resolved", NULL));
	CHECK(report_end(r) == NT_OK);
	CHECK(report_unit_figures(r, figs) == NT_OK);
	CHECK(figs[anling].v[RF_CASES] == 1 && figs[anling].v[RF_ON_TIME] == 1);
	CHECK(figs[anling].v[RF_LATE] == 0 && figs[anling].v[RF_DAYS_OVERDUE] == 0);
	CHECK(figs[county_].v[RF_RESOLVED] == 2 && figs[county_].v[RF_LATE] == 1);
	CHECK(figs[county_].v[RF_DAYS_OVERDUE] == 3);
	CHECK(report_on_time_rate(&figs[county_]) == 50);
	CHECK(report_progress(&figs[county_]) == 100);
	CHECK(figs[county_].steps[STEP_RESOLVED] == 2);
	free(figs);
	report_free(&r);
	fresh();
}

static void a_case_past_its_deadline_and_not_resolved_is_overdue_until_resolved(void)
{
	struct report *r = county(DAY0, DAY0 + 6);
	struct report_fig f = { 0 };
	struct report_explain x = { 0 };
	size_t n;
	const struct report_point *p;

	CHECK(report_series(r, report_unit_find(r, S("county"))) == NT_OK);
	opened(r, DAY0, 1, "xiaxi", "wang.li", "2026-05-28");		/* DAY0 + 1 */
	feed(r, entry(DAY0 + 4, "case.resolved", 1, "step", 's', "resolved", NULL));
	CHECK(report_end(r) == NT_OK);
	p = report_points(r, &n);
	CHECK(n == 7);
	CHECK(p[0].day == DAY0 && p[0].open == 1 && p[0].overdue == 0);
	CHECK(p[1].overdue == 0);	/* the deadline day itself */
	CHECK(p[2].overdue == 1 && p[3].overdue == 1);
	CHECK(p[4].overdue == 0 && p[4].resolved == 1 && p[4].open == 0);
	CHECK(p[6].day == DAY0 + 6);
	/* as of the end: resolved late, three days, traced to the resolution */
	CHECK(report_scope_figures(r, -1, S("wang.li"), &f, &x) == NT_OK);
	CHECK(f.v[RF_LATE] == 1 && f.v[RF_DAYS_OVERDUE] == 3 && f.v[RF_OVERDUE] == 0);
	CHECK(x.n[RF_DAYS_OVERDUE] == 1 && x.items[RF_DAYS_OVERDUE][0].seq == 2);
	CHECK(x.items[RF_DAYS_OVERDUE][0].count == 3);
	CHECK(proto_str_eq(x.items[RF_LATE][0].topic, "case.resolved"));
	report_explain_fini(&x);
	report_free(&r);
	fresh();
}

static void a_report_ends_with_its_last_day_and_reads_nothing_after(void)
{
	struct report *r = county(DAY0, DAY0 + 2);
	struct report_fig f = { 0 };

	opened(r, DAY0, 1, "xiaxi", "wang.li", "2026-05-28");
	CHECK(feed(r, entry(DAY0 + 3, "case.resolved", 1, "step", 's', "resolved", NULL)));
	CHECK(report_last_seq(r) == 1);
	CHECK(report_end(r) == NT_OK);
	CHECK(report_scope_figures(r, report_unit_find(r, S("county")), PROTO_STR_NULL, &f,
				   NULL) == NT_OK);
	CHECK(f.v[RF_RESOLVED] == 0 && f.v[RF_OVERDUE] == 1 && f.v[RF_DAYS_OVERDUE] == 1);
	report_free(&r);
	fresh();
}

static void an_extension_moves_the_deadline_from_the_day_it_is_granted(void)
{
	struct report *r = county(DAY0, DAY0 + 5);
	struct report_fig f = { 0 };

	opened(r, DAY0, 1, "xiaxi", "wang.li", "2026-05-28");
	feed(r, entry(DAY0, "case.extension_requested", 1, "until", 's', "2026-06-10", "step",
		      's', "identified", NULL));
	/* an older entry without new_deadline: the date asked for */
	feed(r, entry(DAY0 + 4, "case.extended", 1, "step", 's', "identified", NULL));
	CHECK(report_end(r) == NT_OK);
	CHECK(report_scope_figures(r, -1, S("wang.li"), &f, NULL) == NT_OK);
	CHECK(f.v[RF_OVERDUE] == 0 && f.v[RF_EXTENSIONS] == 1);
	report_free(&r);
	fresh();
}

static void a_reassigned_case_counts_for_its_new_lead_and_journals_count_residents(void)
{
	struct report *r = county(DAY0, DAY0 + 3);
	struct report_fig f = { 0 }, g = { 0 };

	opened(r, DAY0, 1, "xiaxi", "wang.li", NULL);
	feed(r, entry(DAY0, "case.journaled", 1, "satisfied", 'u', (uint64_t)3,
		      "basically_satisfied", 'u', (uint64_t)1, "dissatisfied", 'u', (uint64_t)0,
		      "step", 's', "journaled", NULL));
	feed(r, entry(DAY0 + 1, "case.redo", 1, "satisfied", 'u', (uint64_t)1,
		      "basically_satisfied", 'u', (uint64_t)0, "dissatisfied", 'u', (uint64_t)3,
		      "step", 's', "committed", NULL));
	feed(r, entry(DAY0 + 2, "case.reassigned", 1, "lead", 's', "li.ming", "from", 's',
		      "wang.li", "step", 's', "committed", NULL));
	CHECK(report_end(r) == NT_OK);
	CHECK(report_scope_figures(r, -1, S("wang.li"), &f, NULL) == NT_OK);
	CHECK(f.v[RF_CASES] == 0);
	CHECK(report_scope_figures(r, -1, S("li.ming"), &g, NULL) == NT_OK);
	CHECK(g.v[RF_CASES] == 1 && g.v[RF_REDOS] == 1 && g.v[RF_JOURNALS] == 1);
	CHECK(g.v[RF_SATISFIED] == 1 && g.v[RF_DISSATISFIED] == 3);	/* the latest journal */
	CHECK(report_satisfaction(&g) == 25);
	report_free(&r);
	fresh();
}

static void a_household_visited_twice_counts_once_in_each_unit_above_it(void)
{
	struct report *r = county(DAY0, DAY0 + 3);
	struct report_fig *figs = calloc(report_nunits(r), sizeof *figs);
	int xiaxi = report_unit_find(r, S("xiaxi")), county_ = report_unit_find(r, S("county"));

	feed(r, entry(DAY0, "household.visited", 0, "household", 's', "x-1", "village", 's',
		      "xiaxi", NULL));
	feed(r, entry(DAY0 + 1, "household.visited", 0, "household", 's', "x-1", "village", 's',
		      "xiaxi", "support", 's', "rice", NULL));
	feed(r, entry(DAY0 + 1, "household.visited", 0, "household", 's', "x-2", "village", 's',
		      "xiaxi", "support", 's', "", NULL));
	feed(r, entry(DAY0 + 2, "household.consulted", 0, "village", 's', "xiaxi", NULL));
	CHECK(report_end(r) == NT_OK);
	CHECK(report_unit_figures(r, figs) == NT_OK);
	CHECK(figs[xiaxi].v[RF_VISITED] == 2 && figs[xiaxi].v[RF_SUPPORTED] == 1);
	CHECK(figs[county_].v[RF_VISITED] == 2 && figs[county_].v[RF_SUPPORTED] == 1);
	CHECK(figs[county_].v[RF_CONSULTATIONS] == 1);
	free(figs);
	report_free(&r);
	fresh();
}

static void an_entry_it_cannot_read_is_refused_and_changes_nothing(void)
{
	struct report *r = county(DAY0, DAY0 + 3);
	static const uint8_t junk[][12] = {
		{ 0x81 },					/* a map, cut short */
		{ 0x93, 1, 2, 3 },				/* not a map */
		{ 0xdf, 0xff, 0xff, 0xff, 0xff },		/* a map that claims 4 G pairs */
	};
	struct report_fig f = { 0 };
	bool past;

	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		CHECK(report_feed(r, junk[i], sizeof junk[i], &past) == NT_ECORRUPT);
	/* a case id beyond its own seq would make the report allocate for it: refused */
	seq = 4;
	{
		const proto_out *e = entry(DAY0, "case.opened", 1000000000, "unit", 's', "xiaxi",
					   "lead", 's', "wang.li", NULL);

		CHECK(report_feed(r, e->sb.data, e->sb.size, &past) == NT_ECORRUPT);
	}
	/* a bad date in new_deadline */
	opened(r, DAY0, 6, "xiaxi", "wang.li", NULL);
	{
		const proto_out *e = entry(DAY0, "case.planned", 6, "new_deadline", 's', "2026-13-01",
					   NULL);

		CHECK(report_feed(r, e->sb.data, e->sb.size, &past) == NT_ECORRUPT);
	}
	CHECK(report_end(r) == NT_OK);
	CHECK(report_scope_figures(r, -1, S("wang.li"), &f, NULL) == NT_OK);
	CHECK(f.v[RF_CASES] == 1 && f.v[RF_OVERDUE] == 0);
	report_free(&r);
	fresh();
}

int main(void)
{
	RUN(a_case_resolved_by_its_deadline_is_on_time_and_after_it_late);
	RUN(a_case_past_its_deadline_and_not_resolved_is_overdue_until_resolved);
	RUN(a_report_ends_with_its_last_day_and_reads_nothing_after);
	RUN(an_extension_moves_the_deadline_from_the_day_it_is_granted);
	RUN(a_reassigned_case_counts_for_its_new_lead_and_journals_count_residents);
	RUN(a_household_visited_twice_counts_once_in_each_unit_above_it);
	RUN(an_entry_it_cannot_read_is_refused_and_changes_nothing);
	return tap_done();
}
