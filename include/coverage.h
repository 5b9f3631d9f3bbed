/*
 * coverage.h - the read ops of what is missing and what is due: campaign.coverage (per
 * milestone and unit, who has not done their part) and deadline.list (daemon/coverage.c;
 * the replies are in docs/protocol.md).
 */
#ifndef COVERAGE_H
#define COVERAGE_H

#include "ops.h"

#define COVERAGE_NFIELDS 2
extern const struct proto_field coverage_fields[COVERAGE_NFIELDS];

nt_err coverage_query(const struct ops_query_ctx *q, const struct proto_arg *a, proto_out *out,
		      uint32_t *n, char *why, size_t whylen);

/* deadline.list: the cases whose deadline is passed or comes within `within` days (default
 * 14), not yet resolved, soonest first (daemon/coverage.c; docs/protocol.md). */
#define DEADLINE_LIST_NFIELDS 2
extern const struct proto_field deadline_list_fields[DEADLINE_LIST_NFIELDS];
nt_err deadline_list_query(const struct ops_query_ctx *q, const struct proto_arg *a,
			   proto_out *out, uint32_t *n, char *why, size_t whylen);

/*
 * coverage_missing - who has not done their part of milestone m, by unit, in t: fn is
 * called once per unit with someone missing, in unit id order, with the people (sorted,
 * each once; none for a village whose only gap is households without a cadre) and, for
 * the milestones counted in cases (households: pair, visit), how many they miss. A step
 * counts as done if the ledger recorded it on or before `by` (a day; 0: at all). Used by
 * the daemon's campaign.missing notifications (docs/deadlines.md).
 */
typedef nt_err (*coverage_unit_fn)(void *arg, proto_str unit, const proto_str *people,
				   size_t npeople, uint64_t cases);
nt_err coverage_missing(struct ledger_txn *t, const struct core_view *v, unsigned m,
			int64_t by, coverage_unit_fn fn, void *arg);

/*
 * coverage_gaps - for each milestone m with by[m] set (a day), how many miss it per unit,
 * in one scan of the ledger: fn is called once per milestone and unit with a gap, in
 * milestone then unit id order, with the gap: people for identify, households and the
 * cadres without one for pair, households for visit, cases for the others (report.units'
 * `gaps`, docs/protocol.md).
 */
typedef nt_err (*coverage_gap_fn)(void *arg, unsigned m, proto_str unit, uint64_t gap);
nt_err coverage_gaps(struct ledger_txn *t, const struct core_view *v, const int64_t by[MS__N],
		     coverage_gap_fn fn, void *arg);

#endif
