/*
 * dashboard.h - the reports as printable, self-contained HTML pages: the dashboard of
 * `nanti report --html` and the public notice of `nanti commitments --html`.
 */
#ifndef DASHBOARD_H
#define DASHBOARD_H

#include <stddef.h>
#include <stdio.h>
#include <msgpack.h>

#include "proto.h"

/*
 * dashboard_units - the dashboard of a report.units reply asked with series and
 * sub_units (units), beside the campaign.coverage reply of the same unit (coverage):
 * the headline figures as big numbers, then a section each for the cases by unit and
 * step, overdue over time, the on-time and satisfaction rates by unit, the coverage by
 * milestone, and the table of every unit and sub-unit. Tolerates any reply: what is
 * missing is shown as "—" or left out. Writes to f; the caller checks ferror(f).
 */
void dashboard_units(FILE *f, const msgpack_object *units, const msgpack_object *coverage);

/*
 * dashboard_notice - the public commitment notice (公开承诺) of the unit called name:
 * items[0..n), report.commitments items grouped by their unit (consecutive items of one
 * unit share a table; a notice board is named by the item's board_name). seq: the
 * ledger's seq it was read at.
 */
void dashboard_notice(FILE *f, proto_str name, const msgpack_object *const *items, size_t n,
		      uint64_t seq);

#endif
