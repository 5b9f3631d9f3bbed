/*
 * reports.c - `nanti report`, `nanti scorecard` and `nanti commitments` (reports.h): the
 * reads of docs/protocol.md section 11, "Reports", for people, spreadsheets and scripts.
 *
 * `nanti scorecards` is `nanti report`'s table with a line per person (report.people).
 *
 * The daemon computes every figure (in its report thread, from the log up to the end of
 * the period); the client only lays them out, so a figure here is exactly the figure in
 * the reply and --json shows the reply itself. What each figure is called, and which are
 * columns of the units table, is written down once, in reports_figures[]: the text table,
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
#include "reports.h"
#include "sheet.h"

#define N(a) (sizeof a / sizeof a[0])
#define REPORTS_DEPTH	4	/* levels of sub-units followed */
#define REPORTS_NAME_MAX	30	/* display columns of a name in the units table */
#define REPORTS_PAGE	1000	/* report.commitments and report.people items a request */

/* ---- the figures ---- */

const struct reports_figure reports_figures[] = {
	{ "cases", "cases", "CASES", REPORTS_COUNT },
	{ "opened", "opened in the period", NULL, REPORTS_COUNT },
	{ "steps", "at each step", NULL, REPORTS_STEPS },
	{ "progress", "progress (resolved or beyond)", "PROGRESS", REPORTS_PCT },
	{ "overdue", "overdue, not resolved", "OVERDUE", REPORTS_COUNT },
	{ "resolved", "resolved in the period", NULL, REPORTS_COUNT },
	{ "on_time", "resolved on time", NULL, REPORTS_COUNT },
	{ "late", "resolved late", NULL, REPORTS_COUNT },
	{ "no_deadline", "resolved without a deadline", NULL, REPORTS_COUNT },
	{ "on_time_rate", "on-time rate", "ON TIME", REPORTS_PCT },
	{ "days_overdue", "days overdue", "DAYS LATE", REPORTS_COUNT },
	{ "extensions", "extensions granted", "EXT", REPORTS_COUNT },
	{ "redos", "redos and returns", "REDOS", REPORTS_COUNT },
	{ "crossed_off", "crossed off", NULL, REPORTS_COUNT },
	{ "consultations", "consultations", "CONSULT", REPORTS_COUNT },
	{ "journals", "journals", NULL, REPORTS_COUNT },
	{ "satisfied", "residents satisfied", NULL, REPORTS_COUNT },
	{ "basically_satisfied", "residents basically satisfied", NULL, REPORTS_COUNT },
	{ "dissatisfied", "residents dissatisfied", NULL, REPORTS_COUNT },
	{ "satisfaction", "satisfaction", "SATISFIED", REPORTS_PCT },
	{ "households_visited", "households visited", "VISITED", REPORTS_COUNT },
	{ "households_supported", "households visited with support", NULL, REPORTS_COUNT },
};
const size_t reports_nfigures = N(reports_figures);

const char *const reports_steps[] = {
	"identified", "planned", "committed", "resolved", "journaled", "crossed_off", NULL
};
const char *const reports_step_labels[] = {
	"identified", "planned", "committed", "resolved", "journaled", "crossed off", NULL
};
const char *const reports_milestones[] = {
	"identify", "consult", "plan", "commit", "journal", "pair", "visit", NULL
};

/* The headline of report.units: key, label. */
static const char *const reports_headline[][2] = {
	{ "problems_solved", "problems solved" },
	{ "disputes_settled", "disputes settled" },
	{ "households_visited", "households visited" },
	{ "households_supported", "of them with support" },
	{ "consultations_held", "consultations held" },
	{ "crossed_off", "crossed off" },
};

bool reports_int(const msgpack_object *map, const char *key, int64_t *v)
{
	return proto_obj_i64(proto_map_get(map, key), v);
}

uint64_t reports_seq(const msgpack_object *reply)
{
	uint64_t seq = 0;

	if (!proto_obj_u64(proto_map_get(reply, "report_seq"), &seq))
		proto_obj_u64(proto_map_get(reply, "seq"), &seq);
	return seq;
}

const char *reports_cell(char buf[REPORTS_CELL], const msgpack_object *figs,
			 const struct reports_figure *fig, const char *absent)
{
	int64_t v;

	if (fig->kind == REPORTS_STEPS || !reports_int(figs, fig->key, &v))
		snprintf(buf, REPORTS_CELL, "%s", absent);
	else
		snprintf(buf, REPORTS_CELL, fig->kind == REPORTS_PCT ? "%" PRId64 "%%" : "%" PRId64,
			 v);
	return buf;
}

const char *reports_gaps(char buf[REPORTS_GAPS], const msgpack_object *gaps, const char *absent)
{
	size_t len = 0;
	int64_t v;

	if (gaps == NULL || gaps->type != MSGPACK_OBJECT_MAP) {
		snprintf(buf, REPORTS_GAPS, "%s", absent);
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; reports_milestones[i] != NULL && len < REPORTS_GAPS; i++) {
		if (!reports_int(gaps, reports_milestones[i], &v) || v == 0)
			continue;
		len += (size_t)snprintf(buf + len, REPORTS_GAPS - len, "%s%s %" PRId64,
					len > 0 ? ", " : "", reports_milestones[i], v);
	}
	if (len == 0)
		snprintf(buf, REPORTS_GAPS, "none");
	return buf;
}

/* ---- the command lines ---- */

#define PERIOD_SPECS \
	{ "--from", ARGS_STR, "D", "the first day of the period (default: the campaign's "	\
	  "start)", { .key = "from", .type = PT_DATE } },					\
	{ "--to", ARGS_STR, "D", "the last day (default: today); the report is as of the end "	\
	  "of D", { .key = "to", .type = PT_DATE } }

const struct args_spec reports_units_spec[REPORTS_UNITS_NSPEC] = {
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
static const struct args_spec reports_units_req[] = {
	{ "--unit", ARGS_STR, "U", NULL, { .key = "unit", .type = PT_ID } },
	PERIOD_SPECS,
	{ "--sub-units", ARGS_FLAG, NULL, NULL, { .key = "sub_units", .type = PT_BOOL } },
	{ "--series", ARGS_FLAG, NULL, NULL, { .key = "series", .type = PT_BOOL } },
};

static const struct args_spec reports_coverage_req[] = {
	{ "--unit", ARGS_STR, "U", NULL, { .key = "unit", .type = PT_ID } },
};

const struct args_spec reports_scorecard_spec[REPORTS_SCORECARD_NSPEC] = {
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

const struct args_spec reports_people_spec[REPORTS_PEOPLE_NSPEC] = {
	{ "--unit", ARGS_STR, "U", "the people of U and the units under it (default: the county)",
	  { .key = "unit", .type = PT_ID } },
	PERIOD_SPECS,
	{ "--csv", ARGS_FLAG, NULL, "one CSV line per person, every figure", { .key = NULL } },
};

/* What report.people is sent: every page. */
static const struct args_spec reports_people_req[] = {
	{ "--unit", ARGS_STR, "U", NULL, { .key = "unit", .type = PT_ID } },
	PERIOD_SPECS,
	{ "--after", ARGS_STR, "P", NULL, { .key = "after", .type = PT_ID } },
	{ "--limit", ARGS_UINT, "N", NULL, { .key = "limit", .type = PT_UINT, .min = 1,
					     .max = REPORTS_PAGE } },
};

const struct args_spec reports_commitments_spec[REPORTS_COMMITMENTS_NSPEC] = {
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
static const struct args_spec reports_commitments_req[] = {
	{ "--unit", ARGS_STR, "U", NULL, { .key = "unit", .type = PT_ID } },
	{ "--crossed-off", ARGS_YESNO, "yes|no", NULL, { .key = "crossed_off", .type = PT_BOOL } },
	{ "--after", ARGS_UINT, "ID", NULL,
	  { .key = "after", .type = PT_UINT, .min = 0, .max = UINT64_MAX } },
	{ "--limit", ARGS_UINT, "N", NULL, { .key = "limit", .type = PT_UINT, .min = 1,
					     .max = REPORTS_PAGE } },
};

/* The value of the option name of r's command line, copied into a request table. */
static void reports_copy(const struct run *r, struct args_table *t, const char *name)
{
	const struct args_val *v = args_find(r->t, name);
	struct args_val *to = args_find(t, name);

	if (v != NULL && to != NULL)
		*to = *v;
}

/* --csv, --html and --json choose one output; --json with --html only reports the
 * file written. */
static int reports_outputs(const struct run *r, bool csv, bool html)
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
static int reports_ask(struct run *r, const char *op, const struct args_table *t,
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
static int reports_page(const struct run *r, const char *file,
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

/* "FILE written: N WHAT, M SUB (as of seq S)" (sub NULL: no M), or the JSON of it. */
static void reports_written(const struct run *r, const char *file, const char *what, size_t n,
			    const char *sub, size_t m, uint64_t seq)
{
	if (strcmp(file, "-") == 0)
		return;
	if (r->conf->json) {
		fputs("{\"ok\":true,\"file\":", stdout);
		sheet_json_str(stdout, file);
		printf(",\"%s\":%zu", what, n);
		if (sub != NULL)	/* the only one: the dashboard's sub-units */
			printf(",\"sub_units\":%zu", m);
		printf(",\"seq\":%" PRIu64 "}\n", seq);
		return;
	}
	render_text(stdout, sheet_cstr(file), 0);
	printf(" written: %zu %s", n, what);
	if (sub != NULL)
		printf(", %zu %s", m, sub);
	printf(" (as of seq %" PRIu64 ")\n", seq);
}

static proto_str reports_str(const msgpack_object *map, const char *key, const char *absent)
{
	proto_str s;

	return proto_obj_str(proto_map_get(map, key), &s) ? s : sheet_cstr(absent);
}

/* "安岭乡 anling", or either alone. */
static void reports_named(FILE *f, const msgpack_object *map, const char *name_key,
			  const char *id_key)
{
	proto_str name = reports_str(map, name_key, ""), id = reports_str(map, id_key, "");

	render_text(f, name, 0);
	if (name.len > 0 && id.len > 0)
		fputc(' ', f);
	render_text(f, id, 0);
	if (name.len == 0 && id.len == 0)
		fputs("-", f);
}

/* "2026-05-20 to 2026-06-14 (today 2026-06-14, as of seq 88)" */
static void reports_period(FILE *f, const msgpack_object *reply, uint64_t seq)
{
	render_text(f, reports_str(reply, "from", "?"), 12);
	fputs(" to ", f);
	render_text(f, reports_str(reply, "to", "?"), 12);
	fputs(" (today ", f);
	render_text(f, reports_str(reply, "today", "?"), 12);
	fprintf(f, ", as of seq %" PRIu64 ")", seq);
}

/* ---- nanti report ---- */

/* A row of the units table: a row of the reply at some depth below the compared unit. */
struct reports_line {
	const msgpack_object *row;
	const msgpack_object *parent;	/* its parent's row; NULL: the compared unit */
	int depth;			/* 0: a direct sub-unit of the compared unit */
};

struct reports_lines {
	struct reports_line *l;
	size_t n, cap;
};

/* rows (an array) and their sub-units, depth first, into ls. */
static int reports_flatten(struct reports_lines *ls, const msgpack_object *rows,
			   const msgpack_object *parent, int depth)
{
	if (rows == NULL || rows->type != MSGPACK_OBJECT_ARRAY || depth >= REPORTS_DEPTH)
		return CLI_OK;
	for (uint32_t i = 0; i < rows->via.array.size; i++) {
		const msgpack_object *row = &rows->via.array.ptr[i];
		int rc;

		if (row->type != MSGPACK_OBJECT_MAP)
			continue;
		if (ls->n == ls->cap) {
			size_t cap = ls->cap ? ls->cap * 2 : 64;
			struct reports_line *grown = realloc(ls->l, cap * sizeof *grown);

			if (grown == NULL)
				return sheet_oom();
			ls->l = grown;
			ls->cap = cap;
		}
		ls->l[ls->n++] = (struct reports_line){ row, parent, depth };
		if ((rc = reports_flatten(ls, proto_map_get(row, "sub_units"), row, depth + 1)) !=
		    CLI_OK)
			return rc;
	}
	return CLI_OK;
}

/* The cells of one line of a table: the id (a unit, a person), NAME, the figure columns,
 * and the last column (GAPS in the units table, the person's UNIT in the people's). */
#define REPORTS_COLS_MAX 16
struct reports_cells {
	proto_str unit;
	char name[REPORTS_NAME_MAX * 3 + 16];
	char fig[REPORTS_COLS_MAX][REPORTS_CELL];
	char gaps[REPORTS_GAPS];
};

static size_t reports_cells(struct reports_cells *c, const msgpack_object *row, proto_str unit,
			    proto_str name, int depth)
{
	size_t k = 0, len;

	c->unit = unit;
	len = (size_t)snprintf(c->name, sizeof c->name, "%*s", depth * 2, "");
	snprintf(c->name + len, sizeof c->name - len, "%.*s",
		 (int)(name.len < sizeof c->name - len - 1 ? name.len : sizeof c->name - len - 1),
		 name.ptr != NULL ? name.ptr : "");
	for (size_t i = 0; i < reports_nfigures && k < REPORTS_COLS_MAX; i++)
		if (reports_figures[i].col != NULL)
			reports_cell(c->fig[k++], row, &reports_figures[i], "-");
	reports_gaps(c->gaps, proto_map_get(row, "gaps"), "-");
	return k;
}

static void reports_line_out(const struct reports_cells *c, size_t ncols, const size_t *width)
{
	render_padded(stdout, c->unit, width[0], 24);
	fputs("  ", stdout);
	render_padded(stdout, sheet_cstr(c->name), width[1], REPORTS_NAME_MAX);
	for (size_t k = 0; k < ncols; k++)
		printf("  %*s", (int)width[k + 2], c->fig[k]);
	fputs("  ", stdout);
	render_text(stdout, sheet_cstr(c->gaps), 0);
	fputc('\n', stdout);
}

static void reports_widen(size_t *width, const struct reports_cells *c, size_t ncols)
{
	size_t w;

	w = render_columns(c->unit);
	width[0] = w > width[0] ? (w > 24 ? 24 : w) : width[0];
	w = render_columns(sheet_cstr(c->name));
	width[1] = w > width[1] ? (w > REPORTS_NAME_MAX ? REPORTS_NAME_MAX : w) : width[1];
	for (size_t k = 0; k < ncols; k++)
		width[k + 2] = strlen(c->fig[k]) > width[k + 2] ? strlen(c->fig[k]) : width[k + 2];
}

/* A table's header: ID, NAME, the figure columns, LAST; measured into width. Returns how
 * many figure columns. */
static size_t reports_head(struct reports_cells *head, const char *id, const char *last,
			   size_t *width)
{
	size_t ncols = 0;

	memset(head, 0, sizeof *head);
	head->unit = sheet_cstr(id);
	snprintf(head->name, sizeof head->name, "NAME");
	for (size_t i = 0; i < reports_nfigures; i++)
		if (reports_figures[i].col != NULL && ncols < REPORTS_COLS_MAX)
			snprintf(head->fig[ncols++], REPORTS_CELL, "%s", reports_figures[i].col);
	snprintf(head->gaps, sizeof head->gaps, "%s", last);
	reports_widen(width, head, ncols);
	return ncols;
}

static void reports_units_text(const struct conn_reply *rep, const struct reports_lines *ls)
{
	const msgpack_object *totals = proto_map_get(rep->root, "totals");
	const msgpack_object *headline = proto_map_get(totals, "headline");
	size_t width[REPORTS_COLS_MAX + 2] = { 4, 4 }, ncols = 0;
	struct reports_cells *cells, head, total;
	int64_t v;

	fputs("units of ", stdout);
	reports_named(stdout, rep->root, "name", "unit");
	fputs(" compared, ", stdout);
	reports_period(stdout, rep->root, reports_seq(rep->root));
	fputs("; laggards first\n\n", stdout);
	if ((cells = calloc(ls->n + 1, sizeof *cells)) == NULL) {
		sheet_oom();
		return;
	}
	/* the header, every line, then the totals: measured, then written */
	ncols = reports_head(&head, "UNIT", "GAPS", width);
	for (size_t i = 0; i < ls->n; i++) {
		reports_cells(&cells[i], ls->l[i].row, reports_str(ls->l[i].row, "unit", "-"),
			      reports_str(ls->l[i].row, "name", "-"), ls->l[i].depth);
		reports_widen(width, &cells[i], ncols);
	}
	reports_cells(&total, totals, sheet_cstr("(all)"), reports_str(rep->root, "name", "-"), 0);
	reports_widen(width, &total, ncols);
	reports_line_out(&head, ncols, width);
	for (size_t i = 0; i < ls->n; i++)
		reports_line_out(&cells[i], ncols, width);
	if (ls->n == 0)
		puts("(no units under it)");
	reports_line_out(&total, ncols, width);
	free(cells);

	fputs("\nheadline\n", stdout);
	for (size_t i = 0; i < N(reports_headline); i++) {
		if (i == 3)	/* supported: beside the households visited */
			continue;
		printf("  %-22s ", reports_headline[i][1]);
		if (reports_int(headline, reports_headline[i][0], &v))
			printf("%" PRId64, v);
		else
			fputs("-", stdout);
		if (i == 2 && reports_int(headline, "households_supported", &v))
			printf(" (%" PRId64 " with support)", v);
		fputc('\n', stdout);
	}
}

/* ---- CSV ---- */

static void reports_csv_str(proto_str s)
{
	sheet_csv_field(stdout, s);
}

static void reports_csv_header(const char *first)
{
	fputs(first, stdout);
	for (size_t i = 0; i < reports_nfigures; i++) {
		if (reports_figures[i].kind != REPORTS_STEPS) {
			printf(",%s", reports_figures[i].key);
			continue;
		}
		for (size_t s = 0; reports_steps[s] != NULL; s++)
			printf(",step_%s", reports_steps[s]);
	}
}

/* Every figure of figs as CSV fields, each after a comma; nil and missing are empty. */
static void reports_csv_figures(const msgpack_object *figs)
{
	char cell[REPORTS_CELL];
	int64_t v;

	for (size_t i = 0; i < reports_nfigures; i++) {
		const struct reports_figure *fig = &reports_figures[i];

		if (fig->kind == REPORTS_STEPS) {
			for (size_t s = 0; reports_steps[s] != NULL; s++) {
				putchar(',');
				if (reports_int(proto_map_get(figs, fig->key), reports_steps[s],
						&v))
					printf("%" PRId64, v);
			}
			continue;
		}
		/* a percent is a number in a spreadsheet: no '%' */
		if (reports_int(figs, fig->key, &v))
			snprintf(cell, sizeof cell, "%" PRId64, v);
		else
			cell[0] = '\0';
		printf(",%s", cell);
	}
}

static void reports_csv_gaps(const msgpack_object *gaps)
{
	int64_t v;

	for (size_t i = 0; reports_milestones[i] != NULL; i++) {
		putchar(',');
		if (reports_int(gaps, reports_milestones[i], &v))
			printf("%" PRId64, v);
	}
}

static void reports_csv_line(const msgpack_object *figs, proto_str unit, proto_str name,
			     proto_str kind, proto_str parent)
{
	int64_t owners;

	reports_csv_str(unit);
	putchar(',');
	reports_csv_str(name);
	putchar(',');
	reports_csv_str(kind);
	putchar(',');
	reports_csv_str(parent);
	putchar(',');
	if (reports_int(figs, "owners", &owners))
		printf("%" PRId64, owners);
	reports_csv_figures(figs);
	reports_csv_gaps(proto_map_get(figs, "gaps"));
	putchar('\n');
}

/* The header; the compared unit's totals (parent empty); then every row, its sub-units
 * after it, each naming its parent. */
static void reports_units_csv(const struct conn_reply *rep, const struct reports_lines *ls)
{
	proto_str top = reports_str(rep->root, "unit", "");

	reports_csv_header("unit,name,kind,parent,owners");
	for (size_t i = 0; reports_milestones[i] != NULL; i++)
		printf(",gap_%s", reports_milestones[i]);
	putchar('\n');
	reports_csv_line(proto_map_get(rep->root, "totals"), top,
			 reports_str(rep->root, "name", ""), PROTO_STR_NULL, PROTO_STR_NULL);
	for (size_t i = 0; i < ls->n; i++) {
		const struct reports_line *l = &ls->l[i];

		reports_csv_line(l->row, reports_str(l->row, "unit", ""),
				 reports_str(l->row, "name", ""), reports_str(l->row, "kind", ""),
				 l->parent != NULL ? reports_str(l->parent, "unit", "") : top);
	}
}

/* ---- the dashboard ---- */

struct reports_dash {
	const msgpack_object *units, *coverage;
};

static void reports_dash_write(FILE *f, void *arg)
{
	const struct reports_dash *d = arg;

	dashboard_units(f, d->units, d->coverage);
}

int reports_units_run(struct run *r)
{
	static const struct cmd_need cov_needs[] = {
		{ "milestones", CMD_T(ARRAY) }, { NULL, 0 }
	};
	const struct args_val *html = args_find(r->t, "--html");
	bool csv = args_find(r->t, "--csv")->set;
	struct args_val val[N(reports_units_req)], cval[1];
	struct args_table t = { reports_units_req, N(reports_units_req), val };
	struct args_table ct = { reports_coverage_req, 1, cval };
	struct conn_reply rep = { .root = NULL }, cov = { .root = NULL };
	struct reports_lines ls = { NULL, 0, 0 };
	int rc;

	if ((rc = reports_outputs(r, csv, html->set)) != CLI_OK)
		return rc;
	memset(val, 0, sizeof val);
	memset(cval, 0, sizeof cval);
	reports_copy(r, &t, "--unit");
	reports_copy(r, &t, "--from");
	reports_copy(r, &t, "--to");
	reports_copy(r, &t, "--sub-units");
	if (html->set) {
		/* the dashboard: every unit under its parent, and the days */
		args_find(&t, "--sub-units")->set = true;
		args_find(&t, "--series")->set = true;
		if (html->len == 0) {
			cli_warn("report: --html needs a file name ('-': stdout)");
			return CLI_USAGE;
		}
	}
	if ((rc = reports_ask(r, "report.units", &t, r->cmd->needs, &rep)) != CLI_OK)
		goto out;
	if (html->set) {
		reports_copy(r, &ct, "--unit");
		if ((rc = reports_ask(r, "campaign.coverage", &ct, cov_needs, &cov)) != CLI_OK)
			goto out;
	}
	if ((rc = reports_flatten(&ls, proto_map_get(rep.root, "rows"), NULL, 0)) != CLI_OK)
		goto out;
	if (html->set) {
		struct reports_dash d = { rep.root, cov.root };

		size_t top = 0;

		for (size_t i = 0; i < ls.n; i++)
			top += ls.l[i].depth == 0;
		if ((rc = reports_page(r, html->s, reports_dash_write, &d)) == CLI_OK)
			reports_written(r, html->s, "units", top, "sub-units", ls.n - top, reports_seq(rep.root));
	} else if (r->conf->json) {
		render_json(stdout, rep.root);
	} else if (csv) {
		reports_units_csv(&rep, &ls);
	} else {
		reports_units_text(&rep, &ls);
	}
out:
	free(ls.l);
	conn_reply_fini(&cov);
	conn_reply_fini(&rep);
	return rc;
}

/* ---- nanti scorecard ---- */

/* The entries behind one figure, under it: "seq 41  2026-06-11  case.planned  case 2". */
static void reports_explain(const msgpack_object *explain, const msgpack_object *more,
			    const char *key)
{
	const msgpack_object *es = proto_map_get(explain, key);
	int64_t v, left = 0;

	for (uint32_t i = 0; es != NULL && es->type == MSGPACK_OBJECT_ARRAY &&
			     i < es->via.array.size; i++) {
		const msgpack_object *e = &es->via.array.ptr[i];

		if (reports_int(e, "seq", &v))
			printf("      seq %-7" PRId64 " ", v);
		else
			printf("      seq %-7s ", "-");
		render_padded(stdout, reports_str(e, "day", "-"), 10, 10);
		fputs("  ", stdout);
		render_padded(stdout, reports_str(e, "topic", "-"), 20, 32);
		/* a case, a household visited, or neither (a household consultation) */
		if (reports_int(e, "case", &v)) {
			printf("  case %-6" PRId64, v);
		} else if (reports_str(e, "household", "").len > 0) {
			fputs("  household ", stdout);
			render_text(stdout, reports_str(e, "household", ""), 64);
		} else {
			fputs("            ", stdout);
		}
		if (reports_int(e, "count", &v))
			printf("  +%" PRId64, v);
		fputc('\n', stdout);
	}
	if (reports_int(more, key, &left) && left > 0)
		printf("      ... and %" PRId64 " more\n", left);
}

static void reports_scorecard_text(const struct conn_reply *rep, bool explain)
{
	const msgpack_object *figs = proto_map_get(rep->root, "figures");
	const msgpack_object *ex = proto_map_get(rep->root, "explain");
	const msgpack_object *more = proto_map_get(rep->root, "explain_more");
	char cell[REPORTS_CELL];
	int64_t v;

	fputs("scorecard of ", stdout);
	if (proto_map_get(rep->root, "person") != NULL) {
		reports_named(stdout, rep->root, "name", "person");
	} else {
		reports_named(stdout, rep->root, "name", "unit");
		fputs(" and the units under it", stdout);
	}
	fputs(", ", stdout);
	reports_period(stdout, rep->root, reports_seq(rep->root));
	fputc('\n', stdout);
	for (size_t i = 0; i < reports_nfigures; i++) {
		const struct reports_figure *fig = &reports_figures[i];

		printf("  %-32s ", fig->label);
		if (fig->kind == REPORTS_STEPS) {
			const msgpack_object *steps = proto_map_get(figs, fig->key);

			for (size_t s = 0; reports_steps[s] != NULL; s++) {
				printf("%s%s ", s > 0 ? ", " : "", reports_step_labels[s]);
				if (reports_int(steps, reports_steps[s], &v))
					printf("%" PRId64, v);
				else
					fputs("-", stdout);
			}
			fputc('\n', stdout);
			continue;
		}
		puts(reports_cell(cell, figs, fig, "-"));
		if (explain && fig->kind == REPORTS_COUNT)
			reports_explain(ex, more, fig->key);
	}
}

static void reports_scorecard_csv(const struct conn_reply *rep, bool explain)
{
	const msgpack_object *ex = proto_map_get(rep->root, "explain");
	bool person = proto_map_get(rep->root, "person") != NULL;
	int64_t v;

	if (explain) {
		puts("figure,seq,topic,case,household,day,count");
		for (size_t i = 0; i < reports_nfigures; i++) {
			const msgpack_object *es = proto_map_get(ex, reports_figures[i].key);

			for (uint32_t k = 0; es != NULL && es->type == MSGPACK_OBJECT_ARRAY &&
					     k < es->via.array.size; k++) {
				const msgpack_object *e = &es->via.array.ptr[k];

				printf("%s,", reports_figures[i].key);
				if (reports_int(e, "seq", &v))
					printf("%" PRId64, v);
				putchar(',');
				reports_csv_str(reports_str(e, "topic", ""));
				putchar(',');
				if (reports_int(e, "case", &v))
					printf("%" PRId64, v);
				putchar(',');
				reports_csv_str(reports_str(e, "household", ""));
				putchar(',');
				reports_csv_str(reports_str(e, "day", ""));
				putchar(',');
				if (reports_int(e, "count", &v))
					printf("%" PRId64, v);
				putchar('\n');
			}
		}
		return;
	}
	reports_csv_header(person ? "person,name,from,to,seq" : "unit,name,from,to,seq");
	putchar('\n');
	reports_csv_str(reports_str(rep->root, person ? "person" : "unit", ""));
	putchar(',');
	reports_csv_str(reports_str(rep->root, "name", ""));
	putchar(',');
	reports_csv_str(reports_str(rep->root, "from", ""));
	putchar(',');
	reports_csv_str(reports_str(rep->root, "to", ""));
	printf(",%" PRIu64, reports_seq(rep->root));
	reports_csv_figures(proto_map_get(rep->root, "figures"));
	putchar('\n');
}

int reports_scorecard_run(struct run *r)
{
	bool person = args_find(r->t, "--person")->set, unit = args_find(r->t, "--unit")->set;
	bool csv = args_find(r->t, "--csv")->set, explain = args_find(r->t, "--explain")->set;
	struct conn_reply rep = { .root = NULL };
	int rc;

	if (person == unit) {
		cli_warn("scorecard: give --person P or --unit U (one of them)");
		return CLI_USAGE;
	}
	if ((rc = reports_outputs(r, csv, false)) != CLI_OK)
		return rc;
	if ((rc = reports_ask(r, "report.scorecard", r->t, r->cmd->needs, &rep)) != CLI_OK)
		goto out;
	if (r->conf->json)
		render_json(stdout, rep.root);
	else if (csv)
		reports_scorecard_csv(&rep, explain);
	else
		reports_scorecard_text(&rep, explain);
out:
	conn_reply_fini(&rep);
	return rc;
}

static void reports_json_key(const char *key, const msgpack_object *o);

/* ---- nanti scorecards ---- */

/* The people's table: PERSON, NAME, the units table's figure columns, UNIT. */
static void reports_people_text(const msgpack_object *top, uint64_t seq,
				const struct cmd_pages *p)
{
	size_t width[REPORTS_COLS_MAX + 2] = { 4, 4 }, ncols = 0;
	struct reports_cells *cells, head;

	fputs("scorecards of the people of ", stdout);
	reports_named(stdout, top, "name", "unit");
	fputs(", ", stdout);
	reports_period(stdout, top, seq);
	fputs(": those who lead a case or must\n\n", stdout);
	if ((cells = calloc(p->nrows + 1, sizeof *cells)) == NULL) {
		sheet_oom();
		return;
	}
	ncols = reports_head(&head, "PERSON", "UNIT", width);
	for (size_t i = 0; i < p->nrows; i++) {
		const msgpack_object *it = p->row[i];
		proto_str unit = reports_str(it, "unit", "-");

		reports_cells(&cells[i], proto_map_get(it, "figures"),
			      reports_str(it, "person", "-"), reports_str(it, "name", "-"), 0);
		snprintf(cells[i].gaps, sizeof cells[i].gaps, "%.*s",
			 (int)(unit.len < 64 ? unit.len : 64), unit.ptr);
		reports_widen(width, &cells[i], ncols);
	}
	reports_line_out(&head, ncols, width);
	for (size_t i = 0; i < p->nrows; i++)
		reports_line_out(&cells[i], ncols, width);
	if (p->nrows == 0)
		puts("(nobody leads a case or must)");
	free(cells);
}

static void reports_people_csv(const struct cmd_pages *p)
{
	reports_csv_header("person,name,unit");
	putchar('\n');
	for (size_t i = 0; i < p->nrows; i++) {
		const msgpack_object *it = p->row[i];

		reports_csv_str(reports_str(it, "person", ""));
		putchar(',');
		reports_csv_str(reports_str(it, "name", ""));
		putchar(',');
		reports_csv_str(reports_str(it, "unit", ""));
		reports_csv_figures(proto_map_get(it, "figures"));
		putchar('\n');
	}
}

int reports_people_run(struct run *r)
{
	bool csv = args_find(r->t, "--csv")->set;
	struct args_val val[N(reports_people_req)];
	struct args_table t = { reports_people_req, N(reports_people_req), val };
	struct args_table *own = r->t;
	struct cmd_pages p = { NULL, 0, NULL, 0 };
	const msgpack_object *next = NULL, *top;
	uint64_t seq;
	int rc;

	if ((rc = reports_outputs(r, csv, false)) != CLI_OK)
		return rc;
	memset(val, 0, sizeof val);
	reports_copy(r, &t, "--unit");
	reports_copy(r, &t, "--from");
	reports_copy(r, &t, "--to");
	*args_find(&t, "--limit") = (struct args_val){ .set = true, .u = REPORTS_PAGE };
	/* every page: the pager sends r's op with r->t, and moves its --after on */
	r->t = &t;
	rc = cmd_pages_read(r, "items", true, 0, &p, &next);
	r->t = own;
	if (rc != CLI_OK)
		goto out;
	top = p.page[p.npages - 1]->root;
	seq = reports_seq(top);
	if (r->conf->json) {
		printf("{\"ok\":true,\"seq\":%" PRIu64 ",\"report_seq\":%" PRIu64,
		       p.page[p.npages - 1]->seq, seq);
		reports_json_key("from", proto_map_get(top, "from"));
		reports_json_key("to", proto_map_get(top, "to"));
		reports_json_key("today", proto_map_get(top, "today"));
		reports_json_key("unit", proto_map_get(top, "unit"));
		reports_json_key("name", proto_map_get(top, "name"));
		fputs(",\"items\":[", stdout);
		for (size_t i = 0; i < p.nrows; i++) {
			fputs(i > 0 ? "," : "", stdout);
			proto_json(stdout, p.row[i]);
		}
		fputs("],\"next\":null}\n", stdout);
	} else if (csv) {
		reports_people_csv(&p);
	} else {
		reports_people_text(top, seq, &p);
	}
out:
	cmd_pages_fini(&p);
	return rc;
}

/* ---- nanti commitments ---- */

/* By unit, then by case (the reply is by case). */
static int reports_by_unit(const void *a, const void *b)
{
	const msgpack_object *x = *(const msgpack_object *const *)a;
	const msgpack_object *y = *(const msgpack_object *const *)b;
	int c = proto_str_cmp(reports_str(x, "unit", ""), reports_str(y, "unit", ""));
	int64_t i = 0, j = 0;

	if (c != 0)
		return c;
	reports_int(x, "case", &i);
	reports_int(y, "case", &j);
	return i < j ? -1 : i > j;
}

/* "2026-06-10, on the notice board of 下溪村 xiaxi, ref 公告第3号" */
static void reports_venue(FILE *f, const msgpack_object *item)
{
	proto_str venue = reports_str(item, "venue", "");

	render_text(f, reports_str(item, "committed", "-"), 12);
	if (proto_str_eq(venue, "county_news")) {
		fputs(", in the county news (县报)", f);
	} else if (proto_str_eq(venue, "notice_board")) {
		fputs(", on the notice board of ", f);
		reports_named(f, item, "board_name", "board");
	} else if (venue.len > 0) {
		fputs(", ", f);
		render_text(f, venue, 32);
	}
	fputs(", ref ", f);
	render_text(f, reports_str(item, "ref", "-"), 0);
	fputc('\n', f);
}

static void reports_commitments_text(const msgpack_object *top, uint64_t seq,
				     const msgpack_object *const *items, size_t n)
{
	proto_str unit = PROTO_STR_NULL;
	int64_t v;

	fputs("公开承诺: the public commitments of ", stdout);
	reports_named(stdout, top, "name", "unit");
	printf(": %zu case%s (as of seq %" PRIu64 ")\n", n, n == 1 ? "" : "s", seq);
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *it = items[i];

		if (i == 0 || !sheet_eq(unit, reports_str(it, "unit", ""))) {
			unit = reports_str(it, "unit", "");
			fputc('\n', stdout);
			reports_named(stdout, it, "unit_name", "unit");
			fputc('\n', stdout);
		}
		fputs("  case ", stdout);
		if (reports_int(it, "case", &v))
			printf("%" PRId64, v);
		else
			fputs("-", stdout);
		fputs("  ", stdout);
		render_text(stdout, reports_str(it, "title", "-"), 0);
		fputs("\n    lead       ", stdout);
		reports_named(stdout, it, "lead_name", "lead");
		fputs("\n    measures   ", stdout);
		render_text(stdout, reports_str(it, "measures", "-"), 0);
		fputs("\n    schedule   ", stdout);
		render_text(stdout, reports_str(it, "schedule", "-"), 0);
		fputs("\n    deadline   ", stdout);
		render_text(stdout, reports_str(it, "deadline", "none set"), 12);
		fputs("\n    committed  ", stdout);
		reports_venue(stdout, it);
		fputs("    step       ", stdout);
		render_text(stdout, reports_str(it, "step", "-"), 16);
		fputc('\n', stdout);
	}
}

static void reports_commitments_csv(const msgpack_object *const *items, size_t n)
{
	static const char *const keys[] = {
		"case", "title", "kind", "unit", "unit_name", "lead", "lead_name", "measures",
		"schedule", "deadline", "committed", "venue", "ref", "board", "board_name", "step"
	};
	int64_t v;

	puts("case,title,kind,unit,unit_name,lead,lead_name,measures,schedule,deadline,"
	     "committed,venue,ref,board,board_name,step");
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < N(keys); k++) {
			if (k > 0)
				putchar(',');
			if (k == 0 && reports_int(items[i], "case", &v))
				printf("%" PRId64, v);
			else if (k > 0)
				reports_csv_str(reports_str(items[i], keys[k], ""));
		}
		putchar('\n');
	}
}

/* ,"key":value of the reply, or null when it has none. */
static void reports_json_key(const char *key, const msgpack_object *o)
{
	printf(",\"%s\":", key);
	if (o != NULL)
		proto_json(stdout, o);
	else
		fputs("null", stdout);
}

struct reports_notice {
	proto_str name;
	const msgpack_object *const *items;
	size_t n;
	uint64_t seq;
};

static void reports_notice_write(FILE *f, void *arg)
{
	const struct reports_notice *x = arg;

	dashboard_notice(f, x->name, x->items, x->n, x->seq);
}

int reports_commitments_run(struct run *r)
{
	const struct args_val *html = args_find(r->t, "--html");
	bool csv = args_find(r->t, "--csv")->set;
	struct args_val val[N(reports_commitments_req)];
	struct args_table t = { reports_commitments_req, N(reports_commitments_req), val };
	struct args_table *own = r->t;
	struct cmd_pages p = { NULL, 0, NULL, 0 };
	const msgpack_object *next = NULL, *top;
	const msgpack_object **items = NULL;
	uint64_t seq;
	int rc;

	if ((rc = reports_outputs(r, csv, html->set)) != CLI_OK)
		return rc;
	if (html->set && html->len == 0) {
		cli_warn("commitments: --html needs a file name ('-': stdout)");
		return CLI_USAGE;
	}
	memset(val, 0, sizeof val);
	reports_copy(r, &t, "--unit");
	reports_copy(r, &t, "--after");
	if (args_find(r->t, "--open")->set)
		*args_find(&t, "--crossed-off") = (struct args_val){ .set = true, .b = false };
	*args_find(&t, "--limit") = (struct args_val){ .set = true, .u = REPORTS_PAGE };
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
		reports_json_key("unit", proto_map_get(top, "unit"));
		reports_json_key("name", proto_map_get(top, "name"));
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
	qsort(items, p.nrows, sizeof *items, reports_by_unit);
	if (html->set) {
		struct reports_notice x = { reports_str(top, "name", ""), items, p.nrows, seq };

		if ((rc = reports_page(r, html->s, reports_notice_write, &x)) == CLI_OK)
			reports_written(r, html->s, "cases", p.nrows, NULL, 0, seq);
	} else if (csv) {
		reports_commitments_csv(items, p.nrows);
	} else {
		reports_commitments_text(top, seq, items, p.nrows);
	}
out:
	free(items);
	cmd_pages_fini(&p);
	return rc;
}
