/*
 * dashboard.c - the reports as HTML pages (dashboard.h): the theme office's dashboard of
 * `nanti report --html` and the public commitment notice of `nanti commitments --html`.
 *
 * The dashboard is what the speech asks the reports to show: whether the townships
 * advance evenly (不平衡). It opens with the headline figures as big numbers (the
 * problems solved, the disputes settled, the households visited and supported, the
 * consultations held, the cases crossed off), then one section per question, each its
 * own page when printed: how far each unit's cases have come (stacked bars of the six
 * steps), whether overdue cases pile up (the series, overdue against open), which units
 * resolve on time and satisfy the residents (paired bars; a unit with nothing to rate
 * shows "—", never a zero it did not earn), who has not done their part at each
 * milestone (expected against done, from campaign.coverage), and the table of every unit
 * and its sub-units, laggards first as the daemon orders them.
 *
 * Every figure comes from the replies as they are; the page computes only the per cent
 * of a milestone done, which campaign.coverage leaves to its reader. Table cells and big
 * numbers carry data-key (and rows data-unit) attributes naming the reply's keys, so a
 * script or a test can find a figure in the page without parsing its layout.
 *
 * The notice is a page to pin on a notice board: the unit's name under 公开承诺, then per
 * unit a table of its commitments (the case, the problem, the lead, the measures, the
 * schedule, the deadline, where and when it was published), in A4 landscape.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "html.h"
#include "reports.h"

#define N(a) (sizeof a / sizeof a[0])
#define DASH_NIL "—"

static proto_str dash_str(const msgpack_object *map, const char *key)
{
	proto_str s = PROTO_STR_NULL;

	proto_obj_str(proto_map_get(map, key), &s);
	return s;
}

static const msgpack_object *dash_array(const msgpack_object *map, const char *key)
{
	const msgpack_object *a = proto_map_get(map, key);

	return a != NULL && a->type == MSGPACK_OBJECT_ARRAY ? a : NULL;
}

/* The step colours: from grey (identified) through blue and amber to green (crossed
 * off), so that a bar greener to the right is a unit further along. */
static const struct html_key dash_step_keys[] = {
	{ "identified", "#9aa5b1" }, { "planned", "#64b5f6" }, { "committed", "#1e6fc2" },
	{ "resolved", "#f2a900" }, { "journaled", "#7cb342" }, { "crossed off", "#2e7d32" },
};

/* The headline, and the totals beside it: the key, its map (0 headline, 1 totals), the
 * label. */
static const struct {
	const char *key;
	int totals;
	const char *label;
} dash_bigs[] = {
	{ "problems_solved", 0, "problems solved 破解难题" },
	{ "disputes_settled", 0, "disputes settled 化解矛盾纠纷" },
	{ "households_visited", 0, "households visited 走访农户" },
	{ "households_supported", 0, "of them supported 帮扶农户" },
	{ "consultations_held", 0, "consultations held 民主恳谈" },
	{ "crossed_off", 0, "crossed off 销号" },
	{ "cases", 1, "cases 难题" },
	{ "overdue", 1, "overdue 超期" },
	{ "on_time_rate", 1, "on-time rate 按期办结率" },
	{ "satisfaction", 1, "residents satisfied 群众满意率" },
};

/* The figure named key, as the text of a cell: "12", "33%", or "—". */
static const char *dash_cell(char buf[REPORTS_CELL], const msgpack_object *figs,
			     const char *key)
{
	for (size_t i = 0; i < reports_nfigures; i++)
		if (strcmp(reports_figures[i].key, key) == 0)
			return reports_cell(buf, figs, &reports_figures[i], DASH_NIL);
	return DASH_NIL;
}

static void dash_head(FILE *f, const msgpack_object *u, const msgpack_object *cov)
{
	proto_str campaign = dash_str(cov, "campaign");
	uint64_t seq = reports_seq(u);

	fputs("<header>\n<h1>", f);
	html_text(f, dash_str(u, "name"), 0);
	fputs(" <span class=\"id\">", f);
	html_text(f, dash_str(u, "unit"), 0);
	fputs("</span> · report 报告</h1>\n<p class=\"meta\">", f);
	if (campaign.len > 0) {
		fputs("campaign ", f);
		html_text(f, campaign, 0);
		fputs(" · ", f);
	}
	fputs("period <span data-key=\"from\">", f);
	html_text(f, dash_str(u, "from"), 12);
	fputs("</span> to <span data-key=\"to\">", f);
	html_text(f, dash_str(u, "to"), 12);
	fputs("</span> · today ", f);
	html_text(f, dash_str(u, "today"), 12);
	fprintf(f, " · as of seq <span data-key=\"seq\">%" PRIu64 "</span>: the figures are "
		"what the log entries up to it say</p>\n</header>\n", seq);
}

static void dash_bignums(FILE *f, const msgpack_object *totals)
{
	const msgpack_object *headline = proto_map_get(totals, "headline");
	char cell[REPORTS_CELL];

	fputs("<section id=\"headline\">\n<h2>Headline 主要成效</h2>\n<div class=\"bigs\">\n", f);
	for (size_t i = 0; i < N(dash_bigs); i++) {
		const char *v;
		int64_t n;

		if (dash_bigs[i].totals) {
			v = dash_cell(cell, totals, dash_bigs[i].key);
		} else if (reports_int(headline, dash_bigs[i].key, &n)) {
			snprintf(cell, sizeof cell, "%" PRId64, n);
			v = cell;
		} else {
			v = DASH_NIL;
		}
		fprintf(f, "<div class=\"big\" data-key=\"%s\"><span class=\"n\">%s</span>"
			"<span class=\"l\">", dash_bigs[i].key, v);
		html_cstr(f, dash_bigs[i].label);
		fputs("</span></div>\n", f);
	}
	fputs("</div>\n</section>\n", f);
}

/* The rows of the charts by unit: the direct sub-units of the compared unit. */
static struct html_row *dash_unit_rows(const msgpack_object *rows, size_t *n)
{
	struct html_row *out;

	*n = 0;
	if (rows == NULL || (out = calloc(rows->via.array.size + 1, sizeof *out)) == NULL)
		return NULL;
	for (uint32_t i = 0; i < rows->via.array.size; i++) {
		const msgpack_object *row = &rows->via.array.ptr[i];

		if (row->type != MSGPACK_OBJECT_MAP)
			continue;
		out[*n].label = dash_str(row, "name");
		out[*n].id = dash_str(row, "unit");
		(*n)++;
	}
	return out;
}

static void dash_steps(FILE *f, const msgpack_object *rows)
{
	size_t n = 0, k = 0;
	struct html_row *r = dash_unit_rows(rows, &n);
	int64_t v;

	fputs("<section id=\"steps\">\n<h2>Cases by unit and step 各单位难题进度</h2>\n", f);
	for (uint32_t i = 0; r != NULL && i < rows->via.array.size; i++) {
		const msgpack_object *steps;

		if (rows->via.array.ptr[i].type != MSGPACK_OBJECT_MAP)
			continue;
		steps = proto_map_get(&rows->via.array.ptr[i], "steps");
		for (size_t s = 0; reports_steps[s] != NULL && s < HTML_BARS; s++) {
			r[k].value[s] = reports_int(steps, reports_steps[s], &v) ? v : 0;
			snprintf(r[k].text[s], HTML_LABEL, "%" PRId64, r[k].value[s]);
		}
		k++;
	}
	html_bars(f, "Cases of each unit at each step, laggards first (the number at the end of "
		  "a bar: its cases)", "steps", dash_step_keys, N(dash_step_keys), r, n, 0, true);
	fputs("</section>\n", f);
	free(r);
}

static void dash_series(FILE *f, const msgpack_object *series)
{
	static const struct html_key keys[] = {
		{ "overdue", "#d32f2f" }, { "open", "#1e6fc2" },
	};
	size_t n = series != NULL ? series->via.array.size : 0, k = 0;
	proto_str *x = calloc(n + 1, sizeof *x);
	int64_t *v = calloc(2 * n + 1, sizeof *v);

	fputs("<section id=\"overdue\">\n<h2>Overdue over time 超期难题走势</h2>\n", f);
	for (size_t i = 0; x != NULL && v != NULL && i < n; i++) {
		const msgpack_object *day = &series->via.array.ptr[i];
		int64_t o = 0, p = 0;

		if (day->type != MSGPACK_OBJECT_MAP)
			continue;
		reports_int(day, "overdue", &o);
		reports_int(day, "open", &p);
		x[k] = dash_str(day, "day");
		v[k] = o;
		v[n + k] = p;
		k++;
	}
	/* the open series follows the overdue one, n apart: close the gap of skipped days */
	if (x != NULL && v != NULL && k < n)
		memmove(v + k, v + n, k * sizeof *v);
	html_lines(f, "Cases overdue and cases open (not yet resolved) at the end of each day",
		   "overdue", keys, N(keys), x, v, x != NULL && v != NULL ? k : 0);
	fputs("</section>\n", f);
	free(x);
	free(v);
}

static void dash_rates(FILE *f, const msgpack_object *rows)
{
	static const struct html_key keys[] = {
		{ "on-time rate 按期办结率", "#1e6fc2" }, { "satisfaction 满意率", "#43a047" },
	};
	static const char *const figs[] = { "on_time_rate", "satisfaction" };
	size_t n = 0, k = 0;
	struct html_row *r = dash_unit_rows(rows, &n);

	fputs("<section id=\"rates\">\n<h2>On-time and satisfaction rates by unit "
	      "按期办结率与群众满意率</h2>\n", f);
	for (uint32_t i = 0; r != NULL && i < rows->via.array.size; i++) {
		const msgpack_object *row = &rows->via.array.ptr[i];

		if (row->type != MSGPACK_OBJECT_MAP)
			continue;
		for (size_t j = 0; j < N(figs); j++) {
			int64_t v;

			r[k].value[j] = reports_int(row, figs[j], &v) ? v : HTML_NIL;
			if (r[k].value[j] == HTML_NIL)
				snprintf(r[k].text[j], HTML_LABEL, DASH_NIL);
			else
				snprintf(r[k].text[j], HTML_LABEL, "%" PRId64 "%%", v);
		}
		k++;
	}
	html_bars(f, "Per cent of the cases due that were resolved on time, and of the residents "
		  "counted by the journals who are satisfied (— : nothing to count yet)", "rates",
		  keys, N(keys), r, n, 100, false);
	fputs("</section>\n", f);
	free(r);
}

static void dash_coverage(FILE *f, const msgpack_object *cov)
{
	static const struct html_key keys[] = {
		{ "expected 应完成", "#9aa5b1" }, { "done in time 按时完成", "#2e7d32" },
	};
	const msgpack_object *ms = dash_array(cov, "milestones");
	size_t n = ms != NULL ? ms->via.array.size : 0, k = 0;
	struct html_row *r = calloc(n + 1, sizeof *r);

	fputs("<section id=\"coverage\">\n<h2>Coverage by milestone 各节点完成情况</h2>\n", f);
	for (size_t i = 0; r != NULL && i < n; i++) {
		const msgpack_object *m = &ms->via.array.ptr[i];
		int64_t expected = 0, done = 0;

		if (m->type != MSGPACK_OBJECT_MAP)
			continue;
		reports_int(m, "expected", &expected);
		reports_int(m, "done", &done);
		r[k].label = dash_str(m, "milestone");
		r[k].id = dash_str(m, "by");
		r[k].value[0] = expected;
		r[k].value[1] = done;
		snprintf(r[k].text[0], HTML_LABEL, "%" PRId64, expected);
		if (expected > 0)
			snprintf(r[k].text[1], HTML_LABEL, "%" PRId64 " (%" PRId64 "%%)", done,
				 done * 100 / expected);
		else
			snprintf(r[k].text[1], HTML_LABEL, "%" PRId64 " (" DASH_NIL ")", done);
		k++;
	}
	html_bars(f, "At each milestone of the campaign, how many were expected to have done "
		  "their part (people, cases or households) and how many did by its date",
		  "coverage", keys, N(keys), r, k, 0, false);
	if (cov == NULL)
		fputs("<p class=\"note\">campaign.coverage was not read</p>\n", f);
	fputs("</section>\n", f);
	free(r);
}

/* The columns of the units table: a figure's key, its heading. */
static const char *const dash_cols[][2] = {
	{ "cases", "cases<br>难题" },
	{ "progress", "progress<br>进度" },
	{ "overdue", "overdue<br>超期未办结" },
	{ "on_time_rate", "on time<br>按期率" },
	{ "days_overdue", "days overdue<br>超期天数" },
	{ "extensions", "extensions<br>延期" },
	{ "redos", "redos<br>返工" },
	{ "satisfaction", "satisfied<br>满意率" },
	{ "consultations", "consultations<br>恳谈" },
	{ "households_visited", "visited<br>走访户" },
	{ "households_supported", "supported<br>帮扶户" },
	{ "crossed_off", "crossed off<br>销号" },
};

static void dash_tr(FILE *f, const msgpack_object *row, proto_str name, proto_str unit,
		    const char *cls)
{
	char cell[REPORTS_CELL], gaps[REPORTS_GAPS];

	fputs("<tr", f);
	if (cls != NULL)
		fprintf(f, " class=\"%s\"", cls);
	fputs(" data-unit=\"", f);
	html_text(f, unit, 0);
	fputs("\"><td>", f);
	html_text(f, name, 0);
	fputs(" <span class=\"id\">", f);
	html_text(f, unit, 0);
	fputs("</span></td>", f);
	for (size_t c = 0; c < N(dash_cols); c++)
		fprintf(f, "<td class=\"num\" data-key=\"%s\">%s</td>", dash_cols[c][0],
			dash_cell(cell, row, dash_cols[c][0]));
	/* one milestone a line, each kept whole: "consult 1" never breaks */
	reports_gaps(gaps, proto_map_get(row, "gaps"), DASH_NIL);
	fputs("<td data-key=\"gaps\"><span class=\"gap\">", f);
	for (const char *g = gaps; *g; g++) {
		if (g[0] == ',' && g[1] == ' ') {
			fputs("</span>, <span class=\"gap\">", f);
			g++;
		} else {
			html_text(f, (proto_str){ g, 1 }, 0);
		}
	}
	fputs("</span>", f);
	fputs("</td></tr>\n", f);
}

static void dash_subrows(FILE *f, const msgpack_object *rows, int depth)
{
	for (uint32_t i = 0; rows != NULL && depth < 4 && i < rows->via.array.size; i++) {
		const msgpack_object *row = &rows->via.array.ptr[i];

		if (row->type != MSGPACK_OBJECT_MAP)
			continue;
		dash_tr(f, row, dash_str(row, "name"), dash_str(row, "unit"),
			depth > 0 ? "sub" : NULL);
		dash_subrows(f, dash_array(row, "sub_units"), depth + 1);
	}
}

static void dash_table(FILE *f, const msgpack_object *u)
{
	fputs("<section id=\"units\">\n<h2>Every unit 各单位明细</h2>\n<p class=\"note\">Laggards "
	      "first. A unit's figures count the cases of the units under it; its sub-units "
	      "follow it, indented. Gaps: who is missing each milestone passed, as "
	      "campaign.coverage counts them now.</p>\n<table>\n<thead><tr><th>unit 单位</th>",
	      f);
	for (size_t c = 0; c < N(dash_cols); c++)
		fprintf(f, "<th class=\"num\">%s</th>", dash_cols[c][1]);
	fputs("<th>gaps 缺项</th></tr></thead>\n<tbody>\n", f);
	dash_tr(f, proto_map_get(u, "totals"), dash_str(u, "name"), dash_str(u, "unit"), "total");
	dash_subrows(f, dash_array(u, "rows"), 0);
	fputs("</tbody>\n</table>\n</section>\n", f);
}

void dashboard_units(FILE *f, const msgpack_object *u, const msgpack_object *cov)
{
	char title[256];
	proto_str name = dash_str(u, "name");
	const msgpack_object *rows = dash_array(u, "rows");

	snprintf(title, sizeof title, "%.*s report 报告", (int)(name.len < 200 ? name.len : 200),
		 name.ptr != NULL ? name.ptr : "");
	html_begin(f, (proto_str){ title, (uint32_t)strlen(title) }, false);
	dash_head(f, u, cov);
	dash_bignums(f, proto_map_get(u, "totals"));
	dash_steps(f, rows);
	dash_series(f, dash_array(u, "series"));
	dash_rates(f, rows);
	dash_coverage(f, cov);
	dash_table(f, u);
	html_end(f);
}

/* ---- the public commitment notice ---- */

static void dash_notice_row(FILE *f, const msgpack_object *it)
{
	proto_str venue = dash_str(it, "venue"), deadline = dash_str(it, "deadline");
	int64_t v;

	fputs("<tr><td class=\"num\" data-key=\"case\">", f);
	if (reports_int(it, "case", &v))
		fprintf(f, "%" PRId64, v);
	fputs("</td><td data-key=\"title\">", f);
	html_text(f, dash_str(it, "title"), 0);
	fputs("</td><td data-key=\"lead_name\">", f);
	html_text(f, dash_str(it, "lead_name"), 0);
	fputs("</td><td class=\"text\" data-key=\"measures\">", f);
	html_text(f, dash_str(it, "measures"), 0);
	fputs("</td><td class=\"text\" data-key=\"schedule\">", f);
	html_text(f, dash_str(it, "schedule"), 0);
	fputs("</td><td class=\"num\" data-key=\"deadline\">", f);
	if (deadline.len > 0)
		html_text(f, deadline, 12);
	else
		fputs(DASH_NIL, f);
	fputs("</td><td data-key=\"committed\">", f);
	html_text(f, dash_str(it, "committed"), 12);
	if (proto_str_eq(venue, "county_news")) {
		fputs("<br>县报 county news", f);
	} else if (proto_str_eq(venue, "notice_board")) {
		fputs("<br>", f);
		if (dash_str(it, "board_name").len > 0)
			html_text(f, dash_str(it, "board_name"), 0);
		else
			html_text(f, dash_str(it, "board"), 0);
		fputs(" 公告栏 notice board", f);
	}
	if (dash_str(it, "ref").len > 0) {
		fputs("<br><span class=\"id\">", f);
		html_text(f, dash_str(it, "ref"), 0);
		fputs("</span>", f);
	}
	fputs("</td></tr>\n", f);
}

void dashboard_notice(FILE *f, proto_str name, const msgpack_object *const *items, size_t n,
		      uint64_t seq)
{
	char title[256];

	snprintf(title, sizeof title, "公开承诺 %.*s", (int)(name.len < 200 ? name.len : 200),
		 name.ptr != NULL ? name.ptr : "");
	html_begin(f, (proto_str){ title, (uint32_t)strlen(title) }, true);
	fputs("<header>\n<h1>公开承诺 ", f);
	html_text(f, name, 0);
	fprintf(f, "</h1>\n<p class=\"meta\">public commitments: the hard problems taken on, "
		"who answers for each, what will be done and by when · %zu case%s · as of seq "
		"%" PRIu64 "</p>\n</header>\n", n, n == 1 ? "" : "s", seq);
	if (n == 0)
		fputs("<p>no commitment published yet 暂无</p>\n", f);
	for (size_t i = 0; i < n; i++) {
		proto_str unit = dash_str(items[i], "unit");

		if (i == 0 || !proto_str_same(unit, dash_str(items[i - 1], "unit"))) {
			if (i > 0)
				fputs("</tbody>\n</table>\n</section>\n", f);
			fputs("<section class=\"unit\">\n<h2>", f);
			html_text(f, dash_str(items[i], "unit_name"), 0);
			fputs(" <span class=\"id\">", f);
			html_text(f, unit, 0);
			fputs("</span></h2>\n<table>\n<thead><tr><th class=\"num\">编号<br>case</th>"
			      "<th>难题<br>problem</th><th class=\"nw\">主要责任人<br>lead</th>"
			      "<th>工作措施<br>measures</th><th>进度安排<br>schedule</th>"
			      "<th class=\"num\">办理期限<br>deadline</th>"
			      "<th>承诺公开<br>published</th></tr></thead>\n<tbody>\n", f);
		}
		dash_notice_row(f, items[i]);
	}
	if (n > 0)
		fputs("</tbody>\n</table>\n</section>\n", f);
	html_end(f);
}
