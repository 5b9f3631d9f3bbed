/*
 * ops.h - the table of operations.
 *
 * Each op has a name, a schema for its arguments, and either a pure apply function (write
 * ops: daemon/core.c, stored and committed by daemon/batch.c) or a query function (read
 * ops, below, run in a short read transaction). Adding an op is one row here and one
 * function; the loop does not change.
 */
#ifndef OPS_H
#define OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "ledger.h"
#include "proto.h"

/* Counters the daemon keeps in memory, shown by ping and stats. */
struct ops_stats {
	uint64_t commits;	/* write transactions committed since start */
	uint64_t events;	/* changes committed since start */
	uint64_t last_commit_us;
	uint64_t commit_us;	/* time the commit thread spent applying and committing */
	int64_t started_ms;
};

struct ops_query_ctx {
	struct ledger_txn *t;
	const struct ops_stats *stats;
	uint64_t last_seq;
	int64_t now;
};

/* A read op: packs its op-specific reply fields into out and returns how many pairs it
 * packed in *n, or an error (why says what). */
typedef nt_err (*ops_query_fn)(const struct ops_query_ctx *c, const struct proto_arg *args,
			       proto_out *out, uint32_t *n, char *why, size_t whylen);

#define OPS_MAX_FIELDS 12

struct op {
	const char *name;
	bool write;
	const struct proto_field *fields;
	const size_t *nfields;
	core_apply_fn apply;	/* write ops */
	ops_query_fn query;	/* read ops */
};

/* The op called name, or NULL. */
const struct op *ops_find(proto_str name);

#define OPS_LIST_SCAN	10000	/* records one case.list or log.read call examines */
#define OPS_MAX_LIMIT	1000

#endif
