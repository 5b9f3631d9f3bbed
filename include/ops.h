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
	uint64_t reports;	/* reports answered by the report thread */
	uint64_t report_us;	/* time it spent on them */
	uint64_t reports_refused;	/* refused because REPORTER_QUEUE were waiting */
	int64_t started_ms;
};

struct ops_query_ctx {
	struct ledger_txn *t;
	const struct ops_stats *stats;
	uint64_t last_seq;
	int64_t now;
	const struct core_policy *policy;	/* NULL: the default */
	/* who reads: a person, whose rights limit what the query returns; NULL: a trusted
	 * connection that named nobody (an operator), which reads everything */
	const struct person_rec *viewer;
};

/*
 * Who may read what (docs/protocol.md section 9). Each read op has one rule; a viewer
 * (see ops_query_ctx) is held to it, a trusted connection that names no actor is not.
 */
enum ops_read_rule {
	OPS_READ_ALL,		/* anyone: the unit tree, people, the campaign, ping */
	OPS_READ_CASE,		/* a case: those who stand in some relation to it (perm.h) */
	OPS_READ_REACH,		/* lists of cases: only the cases the viewer may read */
	OPS_READ_COUNTY,	/* the whole log, the daemon's counters: county leaders, the
				 * theme and supervision offices, admins */
};
/* The rule of read op op. */
enum ops_read_rule ops_read_rule_of(const struct op *op);
/* Does viewer read the whole county (county leaders, the offices, admins)? */
bool ops_county_wide(const struct person_rec *viewer);
/* May c's viewer see the sensitive fields of case cs (REC_SENSITIVE: its lead, a
 * petition's taker, the theme and supervision offices; always, without a viewer)? */
nt_err ops_case_sensitive(const struct ops_query_ctx *c, const struct case_rec *cs, bool *yes);
/* May c's viewer read case cs (always, without a viewer)? NT_OK with *yes, or the
 * ledger's failure. */
nt_err ops_case_visible(const struct ops_query_ctx *c, const struct case_rec *cs, bool *yes);

#define OPS_MAX_FIELDS 20

/* The first op whose schema has more than OPS_MAX_FIELDS fields (a request's arguments
 * are held in an array of that many), or NULL: every op fits. */
const char *ops_too_wide(void);

/* The op called name, or NULL. */
const struct op *ops_find(proto_str name);

#define OPS_LIST_SCAN	10000	/* records one list or log.read call examines */
#define OPS_MAX_LIMIT	1000

/* Finish a page of items built in `page`: "items" and "next" (more: next[0..nlen), a u64
 * key when next_u64, else a str; nil at the end); *n = 2 pairs. */
void ops_page_pack(proto_out *out, proto_out *page, uint32_t items, bool more,
		   const void *next, size_t nlen, bool next_u64, uint32_t *n);

/* A view of the ledger for the core's helpers (core_get_*, perm_*) over c's read txn. */
void ops_view(struct core_view *v, const struct ops_query_ctx *c);
/* The county's day of c->now. */
int64_t ops_today(const struct ops_query_ctx *c);

#endif
