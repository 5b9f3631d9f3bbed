/*
 * report.h - the reports' arithmetic: a replay of the log that says, for any set of cases
 * (a unit's, rolled up from the units under it, or a person's), what the campaign did in
 * a period (docs/protocol.md section 11, "Reports").
 *
 * Pure: it sees the unit tree and log entries (their MessagePack bytes) and nothing else,
 * so it can be tested and fuzzed alone; daemon/report_ops.c reads them from the ledger in
 * one read transaction on the report thread. Strings point into the bytes given: they must
 * stay valid until the report is freed (a read transaction's pages do).
 *
 * Use: report_new(), report_add_unit() for every unit, report_units_done(), optionally
 * report_series(), then report_feed() with every log entry in seq order until it says the
 * entry is past the period, report_end(), and the figures.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "nt_err.h"
#include "proto.h"

/* The figures, in the order of the protocol's table; report_fig_names[] are their keys. */
enum report_figure {
	RF_CASES, RF_OPENED, RF_OVERDUE, RF_RESOLVED, RF_ON_TIME, RF_LATE,
	RF_NO_DEADLINE, RF_DAYS_OVERDUE, RF_EXTENSIONS, RF_REDOS, RF_CROSSED_OFF,
	RF_CONSULTATIONS, RF_JOURNALS, RF_SATISFIED, RF_BASIC, RF_DISSATISFIED,
	RF_VISITED, RF_SUPPORTED, RF__N
};
extern const char *const report_fig_names[RF__N];

struct report_fig {
	uint64_t v[RF__N];
	uint64_t steps[STEP__N];	/* cases at each step at the end of the period */
	uint64_t gaps[MS__N];		/* set by the caller (coverage) */
	bool has_gap[MS__N];
	uint64_t owners;		/* set by the caller: people who must own a case */
};

/* One entry behind a figure (report.scorecard's explain). */
struct report_why {
	uint64_t seq;
	proto_str topic;
	uint64_t case_id;	/* 0: a household entry */
	proto_str household;
	int64_t day;
	uint64_t count;		/* what it adds to the figure */
};
#define REPORT_EXPLAIN_MAX 500	/* entries listed per figure */
struct report_explain {
	struct report_why *items[RF__N];	/* REPORT_EXPLAIN_MAX each */
	size_t n[RF__N];
	uint64_t more[RF__N];		/* not listed */
};

/* A point of the overdue-over-time series. */
struct report_point {
	int64_t day;
	uint64_t open, overdue, resolved;
};
#define REPORT_SERIES_MAX 400

struct report;

/* A report of the period [from, to] (days), days counted at utc_offset_min. */
nt_err report_new(struct report **out, int64_t from, int64_t to, int utc_offset_min);
void report_free(struct report **r);

nt_err report_add_unit(struct report *r, proto_str id, proto_str name, uint32_t kind,
		       proto_str parent);
/* After the last unit: index them (parents of units not in the tree are ignored). */
nt_err report_units_done(struct report *r);
size_t report_nunits(const struct report *r);
/* The index of unit id, or -1. */
int report_unit_find(const struct report *r, proto_str id);
/* The unit at index i: its id, name, kind, parent index (-1: none). */
void report_unit(const struct report *r, int i, proto_str *id, proto_str *name, uint32_t *kind,
		 int *parent);
/* Is unit u the unit `above` or under it? */
bool report_unit_within(const struct report *r, int u, int above);

/* Keep the overdue-over-time series of unit (and those under it); before feeding. */
nt_err report_series(struct report *r, int unit);

/*
 * Feed the next log entry (seq order). *past: the entry is after the end of `to`, and was
 * not used: stop feeding. NT_ECORRUPT for an entry it cannot read, NT_ENOMEM.
 */
nt_err report_feed(struct report *r, const void *entry, size_t len, bool *past);
/* After the last entry fed. */
nt_err report_end(struct report *r);
/* The last seq fed and used (0: none); the day of the first entry (0: none). */
uint64_t report_last_seq(const struct report *r);
int64_t report_first_day(const struct report *r);

/* The figures of every unit, rolled up: figs[i] for unit index i (report_nunits() of
 * them, zeroed by the caller). */
nt_err report_unit_figures(const struct report *r, struct report_fig *figs);
/*
 * The figures of one scope: the cases of unit (and under it) when unit >= 0, else the
 * cases person leads; f zeroed by the caller. With x (zeroed by the caller; free with
 * report_explain_fini()), the entries behind each figure.
 */
nt_err report_scope_figures(const struct report *r, int unit, proto_str person,
			    struct report_fig *f, struct report_explain *x);
void report_explain_fini(struct report_explain *x);
/*
 * Every person's figures at once: figs[i] (zeroed by the caller) for the person ids[i]
 * (n of them, sorted by proto_str_cmp, each once), as report_scope_figures() gives one
 * person's: the cases each leads, and the household consultations and visits each made.
 */
nt_err report_people_figures(const struct report *r, const proto_str *ids, size_t n,
			     struct report_fig *figs);
/* The case figures of unit's cases of one kind (no events: report.units' disputes). */
nt_err report_kind_figures(const struct report *r, int unit, uint32_t kind, struct report_fig *f);

/* The series (report_series()): its points. */
const struct report_point *report_points(const struct report *r, size_t *n);

/* Derived figures: x * 100 / y rounded down, or -1 when y is 0. */
int report_rate(uint64_t x, uint64_t y);
int report_progress(const struct report_fig *f);
int report_on_time_rate(const struct report_fig *f);
int report_satisfaction(const struct report_fig *f);

/* Pack f's figures as map pairs into o (the protocol's keys, with steps, progress and the
 * rates; gaps as a map when any is set); returns how many pairs. */
uint32_t report_pack_figures(proto_out *o, const struct report_fig *f);
/* Pack x as the pairs `explain` (and `explain_more` when needed); returns how many. */
uint32_t report_pack_explain(proto_out *o, const struct report_explain *x);

#endif
