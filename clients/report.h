/*
 * report.h - the reports of the theme and supervision offices (docs/protocol.md section 11,
 * "Reports"): `nanti report` (units compared, report.units), `nanti scorecard` (a person's
 * or a unit's figures, report.scorecard) and `nanti commitments` (the public commitment
 * list, report.commitments); for people, as CSV, as JSON, and as HTML pages (dashboard.c).
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"

#define REPORT_UNITS_NSPEC	6	/* --unit --from --to --sub-units --csv --html */
#define REPORT_SCORECARD_NSPEC	6	/* --person --unit --from --to --explain --csv */
#define REPORT_COMMITMENTS_NSPEC 5	/* --unit --open --after --csv --html */
extern const struct args_spec report_units_spec[REPORT_UNITS_NSPEC];
extern const struct args_spec report_scorecard_spec[REPORT_SCORECARD_NSPEC];
extern const struct args_spec report_commitments_spec[REPORT_COMMITMENTS_NSPEC];

/* Each returns an exit status (cli.h). */
int report_units_run(struct run *r);
int report_scorecard_run(struct run *r);
int report_commitments_run(struct run *r);

/* ---- the figures, as data: what each command and page shows of them ---- */

enum report_kind {
	REPORT_COUNT,	/* an integer */
	REPORT_PCT,	/* an integer percent, or nil (nothing to divide by) */
	REPORT_STEPS,	/* a map: step name -> cases */
};

struct report_figure {
	const char *key;	/* in the reply: "on_time_rate" */
	const char *label;	/* for people: "on-time rate" */
	const char *col;	/* heading of its column in `nanti report`; NULL: none */
	enum report_kind kind;
};

/* Every figure of a set of cases, in the order of docs/protocol.md. */
extern const struct report_figure report_figures[];
extern const size_t report_nfigures;

/* The six steps (section 10) and the seven milestones (campaign.coverage), in order,
 * each list ending at NULL; and how people read them ("crossed off"). */
extern const char *const report_steps[];
extern const char *const report_step_labels[];
extern const char *const report_milestones[];

/* The integer under key in map: true and *v, or false when it is missing, nil or not an
 * integer. */
bool report_int(const msgpack_object *map, const char *key, int64_t *v);

/* The figure's value in figs as text into buf: "12", "33%"; absent (a nil rate, or a
 * missing or mistyped value) as the string absent. Returns buf. */
#define REPORT_CELL 32
const char *report_cell(char buf[REPORT_CELL], const msgpack_object *figs,
			const struct report_figure *fig, const char *absent);

/* "identify 2, consult 1": the milestones of gaps (a map) with someone missing, in
 * order; "none" when nobody is; absent when there is no map. Returns buf. */
#define REPORT_GAPS 200
const char *report_gaps(char buf[REPORT_GAPS], const msgpack_object *gaps, const char *absent);

#endif
