/*
 * reports.h - the reports of the theme and supervision offices (docs/protocol.md section 11,
 * "Reports"): `nanti report` (units compared, report.units), `nanti scorecard` (a person's
 * or a unit's figures, report.scorecard), `nanti scorecards` (every case owner's, side by
 * side, report.people) and `nanti commitments` (the public commitment list,
 * report.commitments); for people, as CSV, as JSON, and as HTML pages (dashboard.c).
 */
#ifndef REPORTS_H
#define REPORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"

#define REPORTS_UNITS_NSPEC	6	/* --unit --from --to --sub-units --csv --html */
#define REPORTS_SCORECARD_NSPEC	6	/* --person --unit --from --to --explain --csv */
#define REPORTS_PEOPLE_NSPEC	4	/* --unit --from --to --csv */
#define REPORTS_COMMITMENTS_NSPEC 5	/* --unit --open --after --csv --html */
extern const struct args_spec reports_units_spec[REPORTS_UNITS_NSPEC];
extern const struct args_spec reports_scorecard_spec[REPORTS_SCORECARD_NSPEC];
extern const struct args_spec reports_people_spec[REPORTS_PEOPLE_NSPEC];
extern const struct args_spec reports_commitments_spec[REPORTS_COMMITMENTS_NSPEC];

/* Each returns an exit status (cli.h). */
int reports_units_run(struct run *r);
int reports_scorecard_run(struct run *r);
int reports_people_run(struct run *r);
int reports_commitments_run(struct run *r);

/* ---- the figures, as data: what each command and page shows of them ---- */

enum reports_kind {
	REPORTS_COUNT,	/* an integer */
	REPORTS_PCT,	/* an integer percent, or nil (nothing to divide by) */
	REPORTS_STEPS,	/* a map: step name -> cases */
};

struct reports_figure {
	const char *key;	/* in the reply: "on_time_rate" */
	const char *label;	/* for people: "on-time rate" */
	const char *col;	/* heading of its column in `nanti report`; NULL: none */
	enum reports_kind kind;
};

/* Every figure of a set of cases, in the order of docs/protocol.md. */
extern const struct reports_figure reports_figures[];
extern const size_t reports_nfigures;

/* The six steps (section 10) and the seven milestones (campaign.coverage), in order,
 * each list ending at NULL; and how people read them ("crossed off"). */
extern const char *const reports_steps[];
extern const char *const reports_step_labels[];
extern const char *const reports_milestones[];

/* The integer under key in map: true and *v, or false when it is missing, nil or not an
 * integer. */
bool reports_int(const msgpack_object *map, const char *key, int64_t *v);

/* The last log entry a report read: its report_seq (the reply's seq is the ledger's
 * last, past the period's end when the period ends before today); its seq if it has no
 * report_seq (report.commitments, of the present). */
uint64_t reports_seq(const msgpack_object *reply);

/* The figure's value in figs as text into buf: "12", "33%"; absent (a nil rate, or a
 * missing or mistyped value) as the string absent. Returns buf. */
#define REPORTS_CELL 32
const char *reports_cell(char buf[REPORTS_CELL], const msgpack_object *figs,
			 const struct reports_figure *fig, const char *absent);

/* "identify 2, consult 1": the milestones of gaps (a map) with someone missing, in
 * order; "none" when nobody is; absent when there is no map. Returns buf. */
#define REPORTS_GAPS 200
const char *reports_gaps(char buf[REPORTS_GAPS], const msgpack_object *gaps, const char *absent);

#endif
