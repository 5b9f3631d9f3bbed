/*
 * coverage.c - `nanti coverage`: who has not done their part at each milestone.
 *
 *   identify  due 2026-06-08 (passed): 298 of 312 done; 14 missing
 *     every county leader, leadership member and village-resident cadre leads a case ...
 *     anling       li.ming      李明
 *   consult   due 2026-06-10 (passed): 2,901 of 3,000 done; 99 missing
 *     anling       wang.fang    王芳         cases 12, 57
 *
 *   pair      due 2026-06-20 (passed): 3,990 of 8,000 done; 4,010 missing
 *     anling       li.ming      李明
 *     xiaxi        -            -            households 330781-0012, 330781-0040
 *
 * With --by-unit, one line per unit instead of one per person:
 *     anling       3 people, 5 cases
 * (the reply lists people sorted by unit, so a unit's lines are consecutive).
 *
 * The reply is read defensively: a key missing or of another type prints as "?" rather
 * than stopping the report (the command checked the top-level keys already).
 */
#include <inttypes.h>
#include <string.h>

#include "coverage.h"
#include "proto.h"

static const msgpack_object *get(const msgpack_object *m, const char *key)
{
	return m != NULL && m->type == MSGPACK_OBJECT_MAP ? proto_map_get(m, key) : NULL;
}

static void put_str(FILE *f, const msgpack_object *o, int width)
{
	proto_str s;

	if (proto_obj_str(o, &s))
		fprintf(f, "%-*.*s", width, (int)s.len, s.ptr);
	else
		fprintf(f, "%-*s", width, o != NULL && o->type == MSGPACK_OBJECT_NIL ? "-" : "?");
}

static uint64_t u64_or0(const msgpack_object *o)
{
	uint64_t v = 0;

	proto_obj_u64(o, &v);
	return v;
}

/* What a line of "missing" lists: its cases, or for the household milestones its
 * households (an array), and what they are called. */
static const msgpack_object *items_of(const msgpack_object *p, const char **what)
{
	const msgpack_object *o = get(p, "households");

	*what = o != NULL ? "household" : "case";
	if (o == NULL)
		o = get(p, "cases");
	return o != NULL && o->type == MSGPACK_OBJECT_ARRAY ? o : NULL;
}

static bool same_unit(const msgpack_object *a, const msgpack_object *b)
{
	proto_str x = PROTO_STR_NULL, y = PROTO_STR_NULL;

	proto_obj_str(get(a, "unit"), &x);
	proto_obj_str(get(b, "unit"), &y);
	return x.len == y.len && (x.len == 0 || memcmp(x.ptr, y.ptr, x.len) == 0);
}

static void render_units(FILE *f, const msgpack_object *missing, bool count_cases)
{
	for (uint32_t i = 0; i < missing->via.array.size;) {
		const msgpack_object *first = &missing->via.array.ptr[i];
		const char *what = "case";
		uint32_t people = 0, items = 0;

		for (; i < missing->via.array.size && same_unit(first, &missing->via.array.ptr[i]);
		     i++) {
			const msgpack_object *p = &missing->via.array.ptr[i], *list = items_of(p, &what);
			const msgpack_object *person = get(p, "person");

			people += person != NULL && person->type == MSGPACK_OBJECT_STR;
			items += list != NULL ? list->via.array.size : 0;
		}
		fputs("  ", f);
		put_str(f, get(first, "unit"), 14);
		fprintf(f, " %4u %s", people, people == 1 ? "person" : "people");
		if (count_cases)
			fprintf(f, ", %u %s%s", items, what, items == 1 ? "" : "s");
		fputc('\n', f);
	}
}

static void render_milestone(FILE *f, const msgpack_object *m, bool by_unit)
{
	const msgpack_object *by = get(m, "by"), *missing = get(m, "missing");
	uint64_t done = u64_or0(get(m, "done")), expected = u64_or0(get(m, "expected"));
	uint64_t more = u64_or0(get(m, "more"));
	bool passed = false;
	proto_str s;

	proto_obj_bool(get(m, "passed"), &passed);
	put_str(f, get(m, "milestone"), 9);
	if (proto_obj_str(by, &s))
		fprintf(f, " due %.*s%s", (int)s.len, s.ptr, passed ? " (passed)" : "");
	else
		fputs(" (no date set)", f);
	fprintf(f, ": %" PRIu64 " of %" PRIu64 " done", done, expected);
	if (done < expected)
		fprintf(f, "; %" PRIu64 " missing", expected - done);
	fputc('\n', f);
	if (proto_obj_str(get(m, "rule"), &s))
		fprintf(f, "  %.*s\n", (int)s.len, s.ptr);
	if (by_unit && missing != NULL && missing->type == MSGPACK_OBJECT_ARRAY) {
		proto_obj_str(get(m, "milestone"), &s);
		render_units(f, missing, !proto_str_eq(s, "identify"));
		missing = NULL;
	}
	for (uint32_t i = 0; missing != NULL && missing->type == MSGPACK_OBJECT_ARRAY &&
			     i < missing->via.array.size; i++) {
		const msgpack_object *p = &missing->via.array.ptr[i];
		const char *what;
		const msgpack_object *list = items_of(p, &what);

		fputs("  ", f);
		put_str(f, get(p, "unit"), 14);
		fputc(' ', f);
		put_str(f, get(p, "person"), 14);
		fputc(' ', f);
		put_str(f, get(p, "name"), 0);
		if (list != NULL && list->via.array.size > 0) {
			fprintf(f, "  %s%s ", what, list->via.array.size == 1 ? "" : "s");
			for (uint32_t k = 0; k < list->via.array.size; k++) {
				const msgpack_object *x = &list->via.array.ptr[k];
				proto_str id;

				if (k > 0)
					fputs(", ", f);
				if (proto_obj_str(x, &id))
					fprintf(f, "%.*s", (int)id.len, id.ptr);
				else
					fprintf(f, "%" PRIu64, u64_or0(x));
			}
		}
		fputc('\n', f);
	}
	if (more > 0)
		fprintf(f, "  ... and %" PRIu64 " more not listed\n", more);
}

void coverage_render(FILE *f, const msgpack_object *reply, bool by_unit)
{
	const msgpack_object *ms = get(reply, "milestones");
	proto_str s;

	if (proto_obj_str(get(reply, "campaign"), &s))
		fprintf(f, "campaign %.*s", (int)s.len, s.ptr);
	else
		fputs("no campaign is set: milestones have no dates", f);
	if (proto_obj_str(get(reply, "today"), &s))
		fprintf(f, ", today %.*s", (int)s.len, s.ptr);
	fputs("\n", f);
	for (uint32_t i = 0; ms != NULL && ms->type == MSGPACK_OBJECT_ARRAY &&
			     i < ms->via.array.size; i++) {
		fputc('\n', f);
		render_milestone(f, &ms->via.array.ptr[i], by_unit);
	}
}

/* ---- nanti deadlines ---- */

/*
 *   today 2026-06-11
 *   anling
 *     2026-06-08  overdue 3 days   case 12  wang.li    escalation.1  村道破损
 *     2026-06-15  in 4 days        case 31  li.ming                 水渠
 */
void deadlines_render(FILE *f, const msgpack_object *reply)
{
	const msgpack_object *items = get(reply, "items");
	uint64_t more = u64_or0(get(reply, "more"));
	proto_str s, unit = PROTO_STR_NULL;

	if (proto_obj_str(get(reply, "today"), &s))
		fprintf(f, "today %.*s\n", (int)s.len, s.ptr);
	if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY || items->via.array.size == 0) {
		fputs("no deadline passed or coming\n", f);
		return;
	}
	/* the reply is soonest first; a unit's heading each time the unit changes would
	 * scatter it, so group: one pass per unit, in order of first appearance */
	for (uint32_t i = 0; i < items->via.array.size; i++) {
		const msgpack_object *it = &items->via.array.ptr[i];
		bool seen = false;

		if (!proto_obj_str(get(it, "unit"), &unit))
			continue;
		for (uint32_t j = 0; j < i && !seen; j++) {
			proto_str u2;

			seen = proto_obj_str(get(&items->via.array.ptr[j], "unit"), &u2) &&
			       u2.len == unit.len && memcmp(u2.ptr, unit.ptr, unit.len) == 0;
		}
		if (seen)
			continue;
		fprintf(f, "%.*s\n", (int)unit.len, unit.ptr);
		for (uint32_t j = i; j < items->via.array.size; j++) {
			const msgpack_object *x = &items->via.array.ptr[j], *lv = get(x, "level");
			proto_str u2;
			int64_t left = 0;
			uint64_t level = 0;
			char state[48], esc[40] = "";

			if (!proto_obj_str(get(x, "unit"), &u2) || u2.len != unit.len ||
			    memcmp(u2.ptr, unit.ptr, unit.len) != 0)
				continue;
			proto_obj_i64(get(x, "days_left"), &left);
			if (left < 0)
				snprintf(state, sizeof state, "overdue %lld day%s", (long long)-left,
					 left == -1 ? "" : "s");
			else if (left == 0)
				snprintf(state, sizeof state, "today");
			else
				snprintf(state, sizeof state, "in %lld day%s", (long long)left,
					 left == 1 ? "" : "s");
			if (proto_obj_u64(lv, &level))
				snprintf(esc, sizeof esc, level == 0 ? "overdue notice" :
					 "escalation.%llu", (unsigned long long)level);
			fputs("  ", f);
			put_str(f, get(x, "deadline"), 11);
			fprintf(f, " %-16s case %-6llu ", state,
				(unsigned long long)u64_or0(get(x, "case")));
			put_str(f, get(x, "lead"), 14);
			fprintf(f, " %-15s ", esc);
			put_str(f, get(x, "title"), 0);
			fputc('\n', f);
		}
	}
	if (more > 0)
		fprintf(f, "... and %llu more not listed\n", (unsigned long long)more);
}
