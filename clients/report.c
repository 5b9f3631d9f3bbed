/*
 * report.c - `nanti report`, `nanti scorecard` and `nanti commitments` (report.h): the
 * reads of docs/protocol.md section 11, "Reports", for people, spreadsheets and scripts.
 *
 * The daemon computes every figure (in its report thread, from the log up to the end of
 * the period); the client only lays them out, so a figure here is exactly the figure in
 * the reply and --json shows the reply itself. What each figure is called, and which are
 * columns of the units table, is written down once, in report_figures[]: the text table,
 * the scorecard, the CSV files and the HTML pages (dashboard.c) all read it, so a new
 * figure is one line there.
 *
 * The reply is trusted to be the protocol (it passed the strict decoder and its top-level
 * keys are checked), and read defensively below that: a missing, nil or mistyped figure
 * prints as "-" (an empty CSV field, a "—" on a page), a row that is not a map is
 * skipped, the sub-unit rows are followed to a bounded depth, and nothing the daemon sends
 * can make the client crash or loop.
 *
 * Layout for people: the units table aligns by display width (render_columns(): 安岭乡
 * takes six columns), numbers right-aligned, laggards first as the daemon orders them;
 * the commitment list is grouped by unit, one block per case, as a notice would read.
 * The HTML pages are written whole or not at all (admin_out_open(), mode 0644: a report
 * is made to be passed around, unlike an export of personal data).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "dashboard.h"
#include "render.h"
#include "report.h"
#include "sheet.h"

#define N(a) (sizeof a / sizeof a[0])
#define REPORT_DEPTH	4	/* levels of sub-units followed */
#define REPORT_NAME_MAX	30	/* display columns of a name in the units table */
#define REPORT_PAGE	1000	/* report.commitments items a request */

/* ---- the figures ---- */

const struct report_figure report_figures[] = {
	{ "cases", "cases", "CASES", REPORT_COUNT },
	{ "opened", "opened in the period", NULL, REPORT_COUNT },
	{ "steps", "at each step", NULL, REPORT_STEPS },
	{ "progress", "progress (resolved or beyond)", "PROGRESS", REPORT_PCT },
	{ "overdue", "overdue", "OVERDUE", REPORT_COUNT },
	{ "late_open", "overdue and not resolved", "LATE OPEN", REPORT_COUNT },
	{ "resolved", "resolved in the period", NULL, REPORT_COUNT },
	{ "on_time", "resolved on time", NULL, REPORT_COUNT },
	{ "late", "resolved late", NULL, REPORT_COUNT },
	{ "no_deadline", "resolved without a deadline", NULL, REPORT_COUNT },
	{ "on_time_rate", "on-time rate", "ON TIME", REPORT_PCT },
	{ "days_overdue", "days overdue", "DAYS LATE", REPORT_COUNT },
	{ "extensions", "extensions granted", "EXT", REPORT_COUNT },
	{ "redos", "redos and returns", "REDOS", REPORT_COUNT },
	{ "crossed_off", "crossed off", NULL, REPORT_COUNT },
	{ "consultations", "consultations", "CONSULT", REPORT_COUNT },
	{ "journals", "journals", NULL, REPORT_COUNT },
	{ "satisfied", "residents satisfied", NULL, REPORT_COUNT },
	{ "basically_satisfied", "residents basically satisfied", NULL, REPORT_COUNT },
	{ "dissatisfied", "residents dissatisfied", NULL, REPORT_COUNT },
	{ "satisfaction", "satisfaction", "SATISFIED", REPORT_PCT },
	{ "households_visited", "households visited", "VISITED", REPORT_COUNT },
	{ "households_supported", "households visited with support", NULL, REPORT_COUNT },
};
const size_t report_nfigures = N(report_figures);

const char *const report_steps[] = {
	"identified", "planned", "committed", "resolved", "journaled", "crossed_off", NULL
};
const char *const report_step_labels[] = {
	"identified", "planned", "committed", "resolved", "journaled", "crossed off", NULL
};
const char *const report_milestones[] = {
	"identify", "consult", "plan", "commit", "journal", "pair", "visit", NULL
};

/* The headline of report.units: key, label. */
static const char *const report_headline[][2] = {
	{ "problems_solved", "problems solved" },
	{ "disputes_settled", "disputes settled" },
	{ "households_visited", "households visited" },
	{ "households_supported", "of them with support" },
	{ "consultations_held", "consultations held" },
	{ "crossed_off", "crossed off" },
};

bool report_int(const msgpack_object *map, const char *key, int64_t *v)
{
	return proto_obj_i64(proto_map_get(map, key), v);
}

const char *report_cell(char buf[REPORT_CELL], const msgpack_object *figs,
			const struct report_figure *fig, const char *absent)
{
	int64_t v;

	if (fig->kind == REPORT_STEPS || !report_int(figs, fig->key, &v))
		snprintf(buf, REPORT_CELL, "%s", absent);
	else
		snprintf(buf, REPORT_CELL, fig->kind == REPORT_PCT ? "%" PRId64 "%%" : "%" PRId64, v);
	return buf;
}

const char *report_gaps(char buf[REPORT_GAPS], const msgpack_object *gaps, const char *absent)
{
	size_t len = 0;
	int64_t v;

	if (gaps == NULL || gaps->type != MSGPACK_OBJECT_MAP) {
		snprintf(buf, REPORT_GAPS, "%s", absent);
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; report_milestones[i] != NULL && len < REPORT_GAPS; i++) {
		if (!report_int(gaps, report_milestones[i], &v) || v == 0)
			continue;
		len += (size_t)snprintf(buf + len, REPORT_GAPS - len, "%s%s %" PRId64,
					len > 0 ? ", " : "", report_milestones[i], v);
	}
	if (len == 0)
		snprintf(buf, REPORT_GAPS, "none");
	return buf;
}

/* ---- the command lines ---- */

#define PERIOD_SPECS \
	{ "--from", ARGS_STR, "D", "the first day of the period (default: the campaign's "	\
	  "start)", { .key = "from", .type = PT_DATE } },					\
	{ "--to", ARGS_STR, "D", "the last day (default: today); the report is as of the end "	\
	  "of D", { .key = "to", .type = PT_DATE } }

const struct args_spec report_units_spec[REPORT_UNITS_NSPEC] = {
	{ "--unit", ARGS_STR, "U", "compare the units directly under U (default: the county)",
	  { .key = "unit", .type = PT_ID } },
	PERIOD_SPECS,
	{ "--sub-units", ARGS_FLAG, NULL, "also each unit's own sub-units, under it",
	  { .key = "sub_units", .type = PT_BOOL } },
	{ "--csv", ARGS_FLAG, NULL, "one CSV line per unit and sub-unit, every figure",
	  { .key = NULL } },
	{ "--html", ARGS_STR, "FILE", "write the dashboard to FILE: one self-contained HTML "
	  "page, charts and all ('-': stdout)", { .key = NULL } },
};

/* What report.units is sent: the keys above, and the series the dashboard draws. */
static const struct args_spec report_units_req[] = {
	{ "--unit", ARGS_STR, "U", NULL, { .key = "unit", .type = PT_ID } },
	PERIOD_SPECS,
	{ "--sub-units", ARGS_FLAG, NULL, NULL, { .key = "sub_units", .type = PT_BOOL } },
	{ "--series", ARGS_FLAG, NULL, NULL, { .key = "series", .type = PT_BOOL } },
};

static const struct args_spec report_coverage_req[] = {
	{ "--unit", ARGS_STR, "U", NULL, { .key = "unit", .type = PT_ID } },
};

const struct args_spec report_scorecard_spec[REPORT_SCORECARD_NSPEC] = {
	{ "--person", ARGS_STR, "P", "the cases P leads (at the end of the period)",
	  { .key = "person", .type = PT_ID } },
	{ "--unit", ARGS_STR, "U", "or: the cases of unit U and the units under it",
	  { .key = "unit", .type = PT_ID } },
	PERIOD_SPECS,
	{ "--explain", ARGS_FLAG, NULL, "under each figure, the log entries behind it",
	  { .key = "explain", .type = PT_BOOL } },
	{ "--csv", ARGS_FLAG, NULL, "the figures as one CSV line under a header (with "
	  "--explain: one line per entry)", { .key = NULL } },
};

const struct args_spec report_commitments_spec[REPORT_COMMITMENTS_NSPEC] = {
	{ "--unit", ARGS_STR, "U", "the cases of U and the units under it (default: the "
	  "county)", { .key = "unit", .type = PT_ID } },
	{ "--open", ARGS_FLAG, NULL, "leave out the cases already crossed off", { .key = NULL } },
	{ "--after", ARGS_UINT, "ID", "only cases whose id is greater than ID",
	  { .key = "after", .type = PT_UINT, .min = 0, .max = UINT64_MAX } },
	{ "--csv", ARGS_FLAG, NULL, "one CSV line per case", { .key = NULL } },
	{ "--html", ARGS_STR, "FILE", "write the public notice to FILE: one self-contained, "
	  "printable HTML page ('-': stdout)", { .key = NULL } },
};

/* What report.commitments is sent: --open is crossed_off false. */
static const struct args_spec report_commitments_req[] = {
	{ "--unit", ARGS_STR, "U", NULL, { .key = "unit", .type = PT_ID } },
	{ "--crossed-off", ARGS_YESNO, "yes|no", NULL, { .key = "crossed_off", .type = PT_BOOL } },
	{ "--after", ARGS_UINT, "ID", NULL,
	  { .key = "after", .type = PT_UINT, .min = 0, .max = UINT64_MAX } },
	{ "--limit", ARGS_UINT, "N", NULL, { .key = "limit", .type = PT_UINT, .min = 1,
					     .max = REPORT_PAGE } },
};

/* The value of the option name of r's command line, copied into a request table. */
static void report_copy(const struct run *r, struct args_table *t, const char *name)
{
	const struct args_val *v = args_find(r->t, name);
	struct args_val *to = args_find(t, name);

	if (v != NULL && to != NULL)
		*to = *v;
}

/* --csv, --html and --json choose one output; --json with --html only reports the
 * file written. */
static int report_outputs(const struct run *r, bool csv, bool html)
{
	if (csv && (html || r->conf->json)) {
		cli_warn("%s: --csv and --%s are two outputs: give one", r->cmd->name,
			 html ? "html" : "json");
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* Send the request of table t (op) on r's connection, opened here when it is not yet,
 * and check the reply's needs. A refusal is said on stderr, and printed with --json. */
static int report_ask(struct run *r, const char *op, const struct args_table *t,
		      const struct cmd_need *needs, struct conn_reply *rep)
{
	proto_out out;
	int rc;

	proto_out_init(&out);
	rc = r->conn.req == NULL ? cmd_start(r, op, t, &out) : cmd_build(r, op, t, &out);
	if (rc == CLI_OK) {
		rc = cmd_send(r, &out, needs, rep);
		if (rc == CLI_REFUSED && r->conf->json)
			render_json(stdout, rep->root);
	}
	proto_out_fini(&out);
	return rc;
}

/* Write a page to file ("-": stdout) with writer(f, arg); whole or not at all. */
static int report_page(const struct run *r, const char *file,
		       void (*writer)(FILE *f, void *arg), void *arg)
{
	char tmp[4096];
	FILE *f = NULL;
	int rc;

	if ((rc = admin_out_open(r->cmd->name, file, tmp, sizeof tmp, false, ADMIN_PUBLIC,
				 &f)) != CLI_OK)
		return rc;
	writer(f, arg);
	if (ferror(f)) {
		cli_warn("%s: writing %s failed", r->cmd->name, f == stdout ? "the page" : tmp);
		rc = CLI_LOCAL;
	}
	return admin_out_close(r->cmd->name, file, tmp, f, rc);
}

/* "FILE written: WHAT (as of seq N)", or the JSON of it. */
static void report_written(const struct run *r, const char *file, const char *what, size_t n,
			   uint64_t seq)
{
	if (strcmp(file, "-") == 0)
		return;
	if (r->conf->json) {
		fputs("{\"ok\":true,\"file\":", stdout);
		sheet_json_str(stdout, file);
		printf(",\"%s\":%zu,\"seq\":%" PRIu64 "}\n", what, n, seq);
		return;
	}
	render_text(stdout, sheet_cstr(file), 0);
	printf(" written: %zu %s (as of seq %" PRIu64 ")\n", n, what, seq);
}

static proto_str report_str(const msgpack_object *map, const char *key, const char *absent)
{
	proto_str s;

	return proto_obj_str(proto_map_get(map, key), &s) ? s : sheet_cstr(absent);
}

/* "安岭乡 anling", or either alone. */
static void report_named(FILE *f, const msgpack_object *map, const char *name_key,
			 const char *id_key)
{
	proto_str name = report_str(map, name_key, ""), id = report_str(map, id_key, "");

	render_text(f, name, 0);
	if (name.len > 0 && id.len > 0)
		fputc(' ', f);
	render_text(f, id, 0);
	if (name.len == 0 && id.len == 0)
		fputs("-", f);
}

/* "2026-05-20 to 2026-06-14 (today 2026-06-14, as of seq 88)" */
static void report_period(FILE *f, const msgpack_object *reply, uint64_t seq)
{
	render_text(f, report_str(reply, "from", "?"), 12);
	fputs(" to ", f);
	render_text(f, report_str(reply, "to", "?"), 12);
	fputs(" (today ", f);
	render_text(f, report_str(reply, "today", "?"), 12);
	fprintf(f, ", as of seq %" PRIu64 ")", seq);
}

/* ---- nanti report ---- */

/* A row of the units table: a row of the reply at some depth below the compared unit. */
struct report_line {
	const msgpack_object *row;
	const msgpack_object *parent;	/* its parent's row; NULL: the compared unit */
	int depth;			/* 0: a direct sub-unit of the compared unit */
};

struct report_lines {
	struct report_line *l;
	size_t n, cap;
};

/* rows (an array) and their sub-units, depth first, into ls. */
static int report_flatten(struct report_lines *ls, const msgpack_object *rows,
			  const msgpack_object *parent, int depth)
{
	if (rows == NULL || rows->type != MSGPACK_OBJECT_ARRAY || depth >= REPORT_DEPTH)
		return CLI_OK;
	for (uint32_t i = 0; i < rows->via.array.size; i++) {
		const msgpack_object *row = &rows->via.array.ptr[i];
		int rc;

		if (row->type != MSGPACK_OBJECT_MAP)
			continue;
		if (ls->n == ls->cap) {
			size_t cap = ls->cap ? ls->cap * 2 : 64;
			struct report_line *grown = realloc(ls->l, cap * sizeof *grown);

			if (grown == NULL)
				return sheet_oom();
			ls->l = grown;
			ls->cap = cap;
		}
		ls->l[ls->n++] = (struct report_line){ row, parent, depth };
		if ((rc = report_flatten(ls, proto_map_get(row, "sub_units"), row, depth + 1)) !=
		    CLI_OK)
			return rc;
	}
	return CLI_OK;
}

/* The cells of one line of the units table: UNIT, NAME, the figure columns, GAPS. */
#define REPORT_COLS_MAX 16
struct report_cells {
	proto_str unit;
	char name[REPORT_NAME_MAX * 3 + 16];
	char fig[REPORT_COLS_MAX][REPORT_CELL];
	char gaps[REPORT_GAPS];
};

static size_t report_cells(struct report_cells *c, const msgpack_object *row, proto_str unit,
			   proto_str name, int depth)
{
	size_t k = 0, len;

	c->unit = unit;
	len = (size_t)snprintf(c->name, sizeof c->name, "%*s", depth * 2, "");
	snprintf(c->name + len, sizeof c->name - len, "%.*s",
		 (int)(name.len < sizeof c->name - len - 1 ? name.len : sizeof c->name - len - 1),
		 name.ptr != NULL ? name.ptr : "");
	for (size_t i = 0; i < report_nfigures && k < REPORT_COLS_MAX; i++)
		if (report_figures[i].col != NULL)
			report_cell(c->fig[k++], row, &report_figures[i], "-");
	report_gaps(c->gaps, proto_map_get(row, "gaps"), "-");
	return k;
}

static void report_line_out(const struct report_cells *c, size_t ncols, const size_t *width)
{
	render_padded(stdout, c->unit, width[0], 24);
	fputs("  ", stdout);
	render_padded(stdout, sheet_cstr(c->name), width[1], REPORT_NAME_MAX);
	for (size_t k = 0; k < ncols; k++)
		printf("  %*s", (int)width[k + 2], c->fig[k]);
	fputs("  ", stdout);
	render_text(stdout, sheet_cstr(c->gaps), 0);
	fputc('\n', stdout);
}

static void report_widen(size_t *width, const struct report_cells *c, size_t ncols)
{
	size_t w;

	w = render_columns(c->unit);
	width[0] = w > width[0] ? (w > 24 ? 24 : w) : width[0];
	w = render_columns(sheet_cstr(c->name));
	width[1] = w > width[1] ? (w > REPORT_NAME_MAX ? REPORT_NAME_MAX : w) : width[1];
	for (size_t k = 0; k < ncols; k++)
		width[k + 2] = strlen(c->fig[k]) > width[k + 2] ? strlen(c->fig[k]) : width[k + 2];
}

static void report_units_text(const struct conn_reply *rep, const struct report_lines *ls)
{
	const msgpack_object *totals = proto_map_get(rep->root, "totals");
	const msgpack_object *headline = proto_map_get(totals, "headline");
	size_t width[REPORT_COLS_MAX + 2] = { 4, 4 }, ncols = 0;
	struct report_cells *cells, head, total;
	int64_t v;

	fputs("units of ", stdout);
	report_named(stdout, rep->root, "name", "unit");
	fputs(" compared, ", stdout);
	report_period(stdout, rep->root, rep->seq);
	fputs("; laggards first\n\n", stdout);
	if ((cells = calloc(ls->n + 1, sizeof *cells)) == NULL) {
		sheet_oom();
		return;
	}
	/* the header, every line, then the totals: measured, then written */
	memset(&head, 0, sizeof head);
	head.unit = sheet_cstr("UNIT");
	snprintf(head.name, sizeof head.name, "NAME");
	for (size_t i = 0; i < report_nfigures; i++)
		if (report_figures[i].col != NULL && ncols < REPORT_COLS_MAX)
			snprintf(head.fig[ncols++], REPORT_CELL, "%s", report_figures[i].col);
	snprintf(head.gaps, sizeof head.gaps, "GAPS");
	report_widen(width, &head, ncols);
	for (size_t i = 0; i < ls->n; i++) {
		report_cells(&cells[i], ls->l[i].row, report_str(ls->l[i].row, "unit", "-"),
			     report_str(ls->l[i].row, "name", "-"), ls->l[i].depth);
		report_widen(width, &cells[i], ncols);
	}
	report_cells(&total, totals, sheet_cstr("(all)"), report_str(rep->root, "name", "-"), 0);
	report_widen(width, &total, ncols);
	report_line_out(&head, ncols, width);
	for (size_t i = 0; i < ls->n; i++)
		report_line_out(&cells[i], ncols, width);
	if (ls->n == 0)
		puts("(no units under it)");
	report_line_out(&total, ncols, width);
	free(cells);

	fputs("\nheadline\n", stdout);
	for (size_t i = 0; i < N(report_headline); i++) {
		if (i == 3)	/* supported: beside the households visited */
			continue;
		printf("  %-22s ", report_headline[i][1]);
		if (report_int(headline, report_headline[i][0], &v))
			printf("%" PRId64, v);
		else
			fputs("-", stdout);
		if (i == 2 && report_int(headline, "households_supported", &v))
			printf(" (%" PRId64 " with support)", v);
		fputc('\n', stdout);
	}
}

/* ---- CSV ---- */

static void report_csv_str(proto_str s)
{
	sheet_csv_field(stdout, s);
}

static void report_csv_header(const char *first)
{
	fputs(first, stdout);
	for (size_t i = 0; i < report_nfigures; i++) {
		if (report_figures[i].kind != REPORT_STEPS) {
			printf(",%s", report_figures[i].key);
			continue;
		}
		for (size_t s = 0; report_steps[s] != NULL; s++)
			printf(",step_%s", report_steps[s]);
	}
}

/* Every figure of figs as CSV fields, each after a comma; nil and missing are empty. */
static void report_csv_figures(const msgpack_object *figs)
{
	char cell[REPORT_CELL];
	int64_t v;

	for (size_t i = 0; i < report_nfigures; i++) {
		const struct report_figure *fig = &report_figures[i];

		if (fig->kind == REPORT_STEPS) {
			for (size_t s = 0; report_steps[s] != NULL; s++) {
				putchar(',');
				if (report_int(proto_map_get(figs, fig->key), report_steps[s], &v))
					printf("%" PRId64, v);
			}
			continue;
		}
		/* a percent is a number in a spreadsheet: no '%' */
		if (report_int(figs, fig->key, &v))
			snprintf(cell, sizeof cell, "%" PRId64, v);
		else
			cell[0] = '\0';
		printf(",%s", cell);
	}
}

static void report_csv_gaps(const msgpack_object *gaps)
{
	int64_t v;

	for (size_t i = 0; report_milestones[i] != NULL; i++) {
		putchar(',');
		if (report_int(gaps, report_milestones[i], &v))
			printf("%" PRId64, v);
	}
}

static void report_csv_line(const msgpack_object *figs, proto_str unit, proto_str name,
			    proto_str kind, proto_str parent)
{
	report_csv_str(unit);
	putchar(',');
	report_csv_str(name);
	putchar(',');
	report_csv_str(kind);
	putchar(',');
	report_csv_str(parent);
	report_csv_figures(figs);
	report_csv_gaps(proto_map_get(figs, "gaps"));
	putchar('\n');
}

/* The header; the compared unit's totals (parent empty); then every row, its sub-units
 * after it, each naming its parent. */
static void report_units_csv(const struct conn_reply *rep, const struct report_lines *ls)
{
	proto_str top = report_str(rep->root, "unit", "");

	report_csv_header("unit,name,kind,parent");
	for (size_t i = 0; report_milestones[i] != NULL; i++)
		printf(",gap_%s", report_milestones[i]);
	putchar('\n');
	report_csv_line(proto_map_get(rep->root, "totals"), top, report_str(rep->root, "name", ""),
			PROTO_STR_NULL, PROTO_STR_NULL);
	for (size_t i = 0; i < ls->n; i++) {
		const struct report_line *l = &ls->l[i];

		report_csv_line(l->row, report_str(l->row, "unit", ""),
				report_str(l->row, "name", ""), report_str(l->row, "kind", ""),
				l->parent != NULL ? report_str(l->parent, "unit", "") : top);
	}
}

/* ---- the dashboard ---- */

struct report_dash {
	const msgpack_object *units, *coverage;
};

static void report_dash_write(FILE *f, void *arg)
{
	const struct report_dash *d = arg;

	dashboard_units(f, d->units, d->coverage);
}

int report_units_run(struct run *r)
{
	static const struct cmd_need cov_needs[] = {
		{ "milestones", CMD_T(ARRAY) }, { NULL, 0 }
	};
	const struct args_val *html = args_find(r->t, "--html");
	bool csv = args_find(r->t, "--csv")->set;
	struct args_val val[N(report_units_req)], cval[1];
	struct args_table t = { report_units_req, N(report_units_req), val };
	struct args_table ct = { report_coverage_req, 1, cval };
	struct conn_reply rep = { .root = NULL }, cov = { .root = NULL };
	struct report_lines ls = { NULL, 0, 0 };
	int rc;

	if ((rc = report_outputs(r, csv, html->set)) != CLI_OK)
		return rc;
	memset(val, 0, sizeof val);
	memset(cval, 0, sizeof cval);
	report_copy(r, &t, "--unit");
	report_copy(r, &t, "--from");
	report_copy(r, &t, "--to");
	report_copy(r, &t, "--sub-units");
	if (html->set) {
		/* the dashboard: every unit under its parent, and the days */
		args_find(&t, "--sub-units")->set = true;
		args_find(&t, "--series")->set = true;
		if (html->len == 0) {
			cli_warn("report: --html needs a file name ('-': stdout)");
			return CLI_USAGE;
		}
	}
	if ((rc = report_ask(r, "report.units", &t, r->cmd->needs, &rep)) != CLI_OK)
		goto out;
	if (html->set) {
		report_copy(r, &ct, "--unit");
		if ((rc = report_ask(r, "campaign.coverage", &ct, cov_needs, &cov)) != CLI_OK)
			goto out;
	}
	if ((rc = report_flatten(&ls, proto_map_get(rep.root, "rows"), NULL, 0)) != CLI_OK)
		goto out;
	if (html->set) {
		struct report_dash d = { rep.root, cov.root };

		if ((rc = report_page(r, html->s, report_dash_write, &d)) == CLI_OK)
			report_written(r, html->s, "units", ls.n, rep.seq);
	} else if (r->conf->json) {
		render_json(stdout, rep.root);
	} else if (csv) {
		report_units_csv(&rep, &ls);
	} else {
		report_units_text(&rep, &ls);
	}
out:
	free(ls.l);
	conn_reply_fini(&cov);
	conn_reply_fini(&rep);
	return rc;
}

/* ---- nanti scorecard ---- */

/* The entries behind one figure, under it: "seq 41  2026-06-11  case.planned  case 2". */
static void report_explain(const msgpack_object *explain, const msgpack_object *more,
			   const char *key)
{
	const msgpack_object *es = proto_map_get(explain, key);
	int64_t v, left = 0;

	for (uint32_t i = 0; es != NULL && es->type == MSGPACK_OBJECT_ARRAY &&
			     i < es->via.array.size; i++) {
		const msgpack_object *e = &es->via.array.ptr[i];

		if (report_int(e, "seq", &v))
			printf("      seq %-8" PRId64 " ", v);
		else
			printf("      seq %-8s ", "-");
		render_padded(stdout, report_str(e, "day", "-"), 10, 10);
		fputs("  ", stdout);
		render_padded(stdout, report_str(e, "topic", "-"), 20, 32);
		if (report_int(e, "case", &v))
			printf("  case %-6" PRId64, v);
		else if (proto_map_get(e, "household") != NULL) {
			fputs("  household ", stdout);
			render_text(stdout, report_str(e, "household", "-"), 64);
		} else
			fputs("            ", stdout);
		if (report_int(e, "count", &v))
			printf("  +%" PRId64, v);
		fputc('\n', stdout);
	}
	if (report_int(more, key, &left) && left > 0)
		printf("      ... and %" PRId64 " more\n", left);
}

static void report_scorecard_text(const struct conn_reply *rep, bool explain)
{
	const msgpack_object *figs = proto_map_get(rep->root, "figures");
	const msgpack_object *ex = proto_map_get(rep->root, "explain");
	const msgpack_object *more = proto_map_get(rep->root, "explain_more");
	char cell[REPORT_CELL];
	int64_t v;

	fputs("scorecard of ", stdout);
	if (proto_map_get(rep->root, "person") != NULL) {
		report_named(stdout, rep->root, "name", "person");
	} else {
		report_named(stdout, rep->root, "name", "unit");
		fputs(" and the units under it", stdout);
	}
	fputs(", ", stdout);
	report_period(stdout, rep->root, rep->seq);
	fputc('\n', stdout);
	for (size_t i = 0; i < report_nfigures; i++) {
		const struct report_figure *fig = &report_figures[i];

		printf("  %-32s ", fig->label);
		if (fig->kind == REPORT_STEPS) {
			const msgpack_object *steps = proto_map_get(figs, fig->key);

			for (size_t s = 0; report_steps[s] != NULL; s++) {
				printf("%s%s ", s > 0 ? ", " : "", report_step_labels[s]);
				if (report_int(steps, report_steps[s], &v))
					printf("%" PRId64, v);
				else
					fputs("-", stdout);
			}
			fputc('\n', stdout);
			continue;
		}
		puts(report_cell(cell, figs, fig, "-"));
		if (explain && fig->kind == REPORT_COUNT)
			report_explain(ex, more, fig->key);
	}
}

static void report_scorecard_csv(const struct conn_reply *rep, bool explain)
{
	const msgpack_object *ex = proto_map_get(rep->root, "explain");
	bool person = proto_map_get(rep->root, "person") != NULL;
	int64_t v;

	if (explain) {
		puts("figure,seq,topic,case,household,day,count");
		for (size_t i = 0; i < report_nfigures; i++) {
			const msgpack_object *es = proto_map_get(ex, report_figures[i].key);

			for (uint32_t k = 0; es != NULL && es->type == MSGPACK_OBJECT_ARRAY &&
					     k < es->via.array.size; k++) {
				const msgpack_object *e = &es->via.array.ptr[k];

				printf("%s,", report_figures[i].key);
				if (report_int(e, "seq", &v))
					printf("%" PRId64, v);
				putchar(',');
				report_csv_str(report_str(e, "topic", ""));
				putchar(',');
				if (report_int(e, "case", &v))
					printf("%" PRId64, v);
				putchar(',');
				report_csv_str(report_str(e, "household", ""));
				putchar(',');
				report_csv_str(report_str(e, "day", ""));
				putchar(',');
				if (report_int(e, "count", &v))
					printf("%" PRId64, v);
				putchar('\n');
			}
		}
		return;
	}
	report_csv_header(person ? "person,name,from,to,seq" : "unit,name,from,to,seq");
	putchar('\n');
	report_csv_str(report_str(rep->root, person ? "person" : "unit", ""));
	putchar(',');
	report_csv_str(report_str(rep->root, "name", ""));
	putchar(',');
	report_csv_str(report_str(rep->root, "from", ""));
	putchar(',');
	report_csv_str(report_str(rep->root, "to", ""));
	printf(",%" PRIu64, rep->seq);
	report_csv_figures(proto_map_get(rep->root, "figures"));
	putchar('\n');
}

int report_scorecard_run(struct run *r)
{
	bool person = args_find(r->t, "--person")->set, unit = args_find(r->t, "--unit")->set;
	bool csv = args_find(r->t, "--csv")->set, explain = args_find(r->t, "--explain")->set;
	struct conn_reply rep = { .root = NULL };
	int rc;

	if (person == unit) {
		cli_warn("scorecard: give --person P or --unit U (one of them)");
		return CLI_USAGE;
	}
	if ((rc = report_outputs(r, csv, false)) != CLI_OK)
		return rc;
	if ((rc = report_ask(r, "report.scorecard", r->t, r->cmd->needs, &rep)) != CLI_OK)
		goto out;
	if (r->conf->json)
		render_json(stdout, rep.root);
	else if (csv)
		report_scorecard_csv(&rep, explain);
	else
		report_scorecard_text(&rep, explain);
out:
	conn_reply_fini(&rep);
	return rc;
}

/* ---- nanti commitments ---- */

/* The names of the villages whose notice boards the items name, by item. */
struct report_boards {
	char **name;		/* by item: "下溪村 xiaxi", or NULL */
	const char **village;	/* by item: "下溪村", or "" when not known (into names) */
	size_t n;
	struct sheet_ids ids;	/* the villages named; kind: their index in names */
	char **names;		/* the villages' names, as unit.list gave them */
	size_t nnames, capnames;
	bool oom;
};

static bool report_village(void *arg, const msgpack_object *item)
{
	struct report_boards *b = arg;
	struct sheet_id *e;
	proto_str id, name;

	if (!proto_obj_str(proto_map_get(item, "unit"), &id) ||
	    !proto_obj_str(proto_map_get(item, "name"), &name) ||
	    (e = sheet_id_find(&b->ids, id)) == NULL)
		return true;
	if (b->nnames == b->capnames) {
		size_t cap = b->capnames ? b->capnames * 2 : 16;
		char **grown = realloc(b->names, cap * sizeof *grown);

		if (grown == NULL) {
			b->oom = true;
			return false;
		}
		b->names = grown;
		b->capnames = cap;
	}
	if ((b->names[b->nnames] = strndup(name.ptr, name.len)) == NULL) {
		b->oom = true;
		return false;
	}
	e->kind = (int32_t)b->nnames++;
	return true;
}

/* Look the boards' villages up (one unit.list of the villages) and name each item's. */
static int report_boards(struct run *r, const msgpack_object *const *items, size_t n,
			 struct report_boards *b)
{
	static const struct sheet_kv villages[] = { { "kind", "village", false } };
	proto_str board;
	int rc;

	b->n = n;
	if ((b->name = calloc(n + 1, sizeof *b->name)) == NULL ||
	    (b->village = calloc(n + 1, sizeof *b->village)) == NULL)
		return sheet_oom();
	for (size_t i = 0; i < n; i++)
		b->village[i] = "";
	for (size_t i = 0; i < n; i++)
		if (proto_obj_str(proto_map_get(items[i], "board"), &board) &&
		    sheet_id_add_dup(&b->ids, board) == NULL)
			return sheet_oom();
	if (b->ids.n == 0)
		return CLI_OK;
	if ((rc = sheet_list(r, "unit.list", villages, 1, SHEET_PAGE, report_village, b)) !=
	    CLI_OK)
		return rc;
	if (b->oom)
		return sheet_oom();
	for (size_t i = 0; i < n; i++) {
		const struct sheet_id *e;
		const char *name = "";
		size_t len;

		if (!proto_obj_str(proto_map_get(items[i], "board"), &board) ||
		    (e = sheet_id_find(&b->ids, board)) == NULL)
			continue;
		if (e->kind >= 0)
			name = b->village[i] = b->names[e->kind];
		len = strlen(name) + board.len + 2;
		if ((b->name[i] = malloc(len)) == NULL)
			return sheet_oom();
		snprintf(b->name[i], len, "%s%s%.*s", name, *name ? " " : "", (int)board.len,
			 board.ptr);
	}
	return CLI_OK;
}

static void report_boards_fini(struct report_boards *b)
{
	for (size_t i = 0; b->name != NULL && i < b->n; i++)
		free(b->name[i]);
	free(b->name);
	free(b->village);
	for (size_t i = 0; i < b->nnames; i++)
		free(b->names[i]);
	free(b->names);
	sheet_ids_fini(&b->ids);
}

/* By unit, then by case (the reply is by case). */
static int report_by_unit(const void *a, const void *b)
{
	const msgpack_object *x = *(const msgpack_object *const *)a;
	const msgpack_object *y = *(const msgpack_object *const *)b;
	int c = proto_str_cmp(report_str(x, "unit", ""), report_str(y, "unit", ""));
	int64_t i = 0, j = 0;

	if (c != 0)
		return c;
	report_int(x, "case", &i);
	report_int(y, "case", &j);
	return i < j ? -1 : i > j;
}

/* "2026-06-10, on the notice board of 下溪村 xiaxi, ref 公告第3号" */
static void report_venue(FILE *f, const msgpack_object *item, const char *board)
{
	proto_str venue = report_str(item, "venue", "");

	render_text(f, report_str(item, "committed", "-"), 12);
	if (proto_str_eq(venue, "county_news")) {
		fputs(", in the county news (县报)", f);
	} else if (proto_str_eq(venue, "notice_board")) {
		fputs(", on the notice board of ", f);
		render_text(f, sheet_cstr(board != NULL ? board : "the village"), 0);
	} else if (venue.len > 0) {
		fputs(", ", f);
		render_text(f, venue, 32);
	}
	fputs(", ref ", f);
	render_text(f, report_str(item, "ref", "-"), 0);
	fputc('\n', f);
}

static void report_commitments_text(const msgpack_object *top, uint64_t seq,
				     const msgpack_object *const *items, size_t n,
				     const struct report_boards *b)
{
	proto_str unit = PROTO_STR_NULL;
	int64_t v;

	fputs("公开承诺: the public commitments of ", stdout);
	report_named(stdout, top, "name", "unit");
	printf(": %zu case%s (as of seq %" PRIu64 ")\n", n, n == 1 ? "" : "s", seq);
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *it = items[i];

		if (i == 0 || !sheet_eq(unit, report_str(it, "unit", ""))) {
			unit = report_str(it, "unit", "");
			fputc('\n', stdout);
			report_named(stdout, it, "unit_name", "unit");
			fputc('\n', stdout);
		}
		fputs("  case ", stdout);
		if (report_int(it, "case", &v))
			printf("%" PRId64, v);
		else
			fputs("-", stdout);
		fputs("  ", stdout);
		render_text(stdout, report_str(it, "title", "-"), 0);
		fputs("\n    lead       ", stdout);
		report_named(stdout, it, "lead_name", "lead");
		fputs("\n    measures   ", stdout);
		render_text(stdout, report_str(it, "measures", "-"), 0);
		fputs("\n    schedule   ", stdout);
		render_text(stdout, report_str(it, "schedule", "-"), 0);
		fputs("\n    deadline   ", stdout);
		render_text(stdout, report_str(it, "deadline", "none set"), 12);
		fputs("\n    committed  ", stdout);
		report_venue(stdout, it, b->name[i]);
		fputs("    step       ", stdout);
		render_text(stdout, report_str(it, "step", "-"), 16);
		fputc('\n', stdout);
	}
}

static void report_commitments_csv(const msgpack_object *const *items, size_t n,
				   const struct report_boards *b)
{
	static const char *const keys[] = {
		"case", "title", "kind", "unit", "unit_name", "lead", "lead_name", "measures",
		"schedule", "deadline", "committed", "venue", "ref", "board", NULL, "step"
	};
	int64_t v;

	puts("case,title,kind,unit,unit_name,lead,lead_name,measures,schedule,deadline,"
	     "committed,venue,ref,board,board_name,step");
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < N(keys); k++) {
			if (k > 0)
				putchar(',');
			if (k == 0 && report_int(items[i], "case", &v))
				printf("%" PRId64, v);
			else if (keys[k] == NULL)	/* board_name */
				report_csv_str(sheet_cstr(b->village[i]));
			else if (k > 0)
				report_csv_str(report_str(items[i], keys[k], ""));
		}
		putchar('\n');
	}
}

/* ,"key":value of the reply, or null when it has none. */
static void report_json_key(const char *key, const msgpack_object *o)
{
	printf(",\"%s\":", key);
	if (o != NULL)
		proto_json(stdout, o);
	else
		fputs("null", stdout);
}

struct report_notice {
	proto_str name;
	const msgpack_object *const *items;
	size_t n;
	const char *const *boards;
	uint64_t seq;
};

static void report_notice_write(FILE *f, void *arg)
{
	const struct report_notice *x = arg;

	dashboard_notice(f, x->name, x->items, x->n, x->boards, x->seq);
}

int report_commitments_run(struct run *r)
{
	const struct args_val *html = args_find(r->t, "--html");
	bool csv = args_find(r->t, "--csv")->set;
	struct args_val val[N(report_commitments_req)];
	struct args_table t = { report_commitments_req, N(report_commitments_req), val };
	struct args_table *own = r->t;
	struct cmd_pages p = { NULL, 0, NULL, 0 };
	struct report_boards b;
	const msgpack_object *next = NULL, *top;
	const msgpack_object **items = NULL;
	uint64_t seq;
	int rc;

	memset(&b, 0, sizeof b);
	if ((rc = report_outputs(r, csv, html->set)) != CLI_OK)
		return rc;
	if (html->set && html->len == 0) {
		cli_warn("commitments: --html needs a file name ('-': stdout)");
		return CLI_USAGE;
	}
	memset(val, 0, sizeof val);
	report_copy(r, &t, "--unit");
	report_copy(r, &t, "--after");
	if (args_find(r->t, "--open")->set)
		*args_find(&t, "--crossed-off") = (struct args_val){ .set = true, .b = false };
	*args_find(&t, "--limit") = (struct args_val){ .set = true, .u = REPORT_PAGE };
	/* every page: the pager sends r's op with r->t, and moves its --after on */
	r->t = &t;
	rc = cmd_pages_read(r, "items", true, 0, &p, &next);
	r->t = own;
	if (rc != CLI_OK)
		goto out;
	top = p.page[p.npages - 1]->root;
	seq = p.page[p.npages - 1]->seq;
	if (r->conf->json && !html->set) {
		printf("{\"ok\":true,\"seq\":%" PRIu64, seq);
		report_json_key("unit", proto_map_get(top, "unit"));
		report_json_key("name", proto_map_get(top, "name"));
		fputs(",\"items\":[", stdout);
		for (size_t i = 0; i < p.nrows; i++) {
			fputs(i > 0 ? "," : "", stdout);
			proto_json(stdout, p.row[i]);
		}
		fputs("],\"next\":null}\n", stdout);
		goto out;
	}
	if ((items = malloc((p.nrows + 1) * sizeof *items)) == NULL) {
		rc = sheet_oom();
		goto out;
	}
	memcpy(items, p.row, p.nrows * sizeof *items);
	qsort(items, p.nrows, sizeof *items, report_by_unit);
	if ((rc = report_boards(r, items, p.nrows, &b)) != CLI_OK)
		goto out;
	if (html->set) {
		struct report_notice x = { report_str(top, "name", ""), items, p.nrows,
					   b.village, seq };

		if ((rc = report_page(r, html->s, report_notice_write, &x)) == CLI_OK)
			report_written(r, html->s, "cases", p.nrows, seq);
	} else if (csv) {
		report_commitments_csv(items, p.nrows, &b);
	} else {
		report_commitments_text(top, seq, items, p.nrows, &b);
	}
out:
	report_boards_fini(&b);
	free(items);
	cmd_pages_fini(&p);
	return rc;
}
