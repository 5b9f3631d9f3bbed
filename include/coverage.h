/*
 * coverage.h - campaign.coverage, the read op that lists, per milestone and per unit,
 * who has not done their part (daemon/coverage.c; the reply is in docs/protocol.md).
 */
#ifndef COVERAGE_H
#define COVERAGE_H

#include "ops.h"

#define COVERAGE_NFIELDS 2
extern const struct proto_field coverage_fields[COVERAGE_NFIELDS];

nt_err coverage_query(const struct ops_query_ctx *q, const struct proto_arg *a, proto_out *out,
		      uint32_t *n, char *why, size_t whylen);

#endif
