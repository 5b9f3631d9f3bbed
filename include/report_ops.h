/*
 * report_ops.h - the report read ops (daemon/report_ops.c): report.units,
 * report.scorecard, report.people, report.commitments. They scan the ledger, so the loop
 * hands them to the report thread (daemon/reporter.c) rather than answer them itself. Replies and rules: docs/protocol.md
 * section 11, "Reports".
 */
#ifndef REPORT_OPS_H
#define REPORT_OPS_H

#include "ops.h"

#define REPORT_NOPS 4
extern const struct op report_ops[REPORT_NOPS];
/* Is op one of them (run on the report thread)? */
bool report_op(const struct op *op);

#endif
