/*
 * batch.h - from a received request to its reply: validation, reads, and group commit.
 *
 * This is the shell around the pure core. The loop (daemon/nantid.c) hands each received
 * body to batch_prepare(); read ops are answered by batch_query() in a short read
 * transaction; write ops are collected and applied together by batch_commit(): one LMDB
 * write transaction, one fsync, then every item has its reply and, if it changed the
 * ledger, its log entry ready to publish. Nothing here touches a socket, so all of it is
 * tested with a real LMDB and no ZeroMQ.
 */
#ifndef BATCH_H
#define BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "chain.h"
#include "core.h"
#include "ledger.h"
#include "ops.h"
#include "proto.h"

/* What the daemon knows about the end of the ledger. */
struct batch_state {
	uint64_t last_seq;	/* seq of the last log entry, 0 if none */
	uint64_t next_case;	/* the id the next new case gets */
	int64_t last_at;	/* "at" of the last entry: "at" never goes backwards */
	uint8_t last_hash[CHAIN_LEN];	/* the last entry's hash (chain.h); zeros if none */
};

#define BATCH_REQVAL_MAX 256	/* the reqs value: seq, hash, a few reply fields */

/* Read the state from the ledger at start. */
nt_err batch_load(struct ledger *lg, struct batch_state *st);

struct batch_item {
	/* input: the body must stay valid until the item is finished */
	const void *body;
	size_t len;
	/* decoded */
	proto_doc doc;
	struct proto_request req;
	const struct op *op;
	struct proto_arg args[OPS_MAX_FIELDS];
	uint64_t hash;		/* of a write: core_request_hash(), computed by prepare */
	/* who sent it (the loop sets it before batch_prepare(); zero: trusted) and, for a
	 * write that named no actor, the person it acts as (req.actor points here) */
	struct auth_peer peer;
	char actor_buf[PROTO_MAX_NAME_ID];
	/* applied: the records to store (eff, entry, reqval) and the reply */
	struct core_effect eff;
	uint8_t reqval[BATCH_REQVAL_MAX];
	size_t reqlen;
	/* output */
	proto_out reply;	/* the reply body, once done */
	bool done;		/* reply is final */
	bool applied;		/* it has records to store (its id, at least) */
	bool internal;		/* made by the daemon itself (a timer firing), not a client */
	proto_out entry;	/* the log entry, if has_entry */
	bool has_entry;
	const char *topic;
	uint64_t seq;
};

/* Bring a ledger of an older format (ledger_format()) up to LEDGER_FORMAT, in one
 * transaction; nothing to do for a current one. */
nt_err batch_upgrade(struct ledger *lg);

void batch_item_init(struct batch_item *it, const void *body, size_t len);
/* Use an initialised item again for another body, keeping its buffers (those that grew
 * past BATCH_KEEP bytes are freed, so that one large reply does not stay resident). */
#define BATCH_KEEP 16384
void batch_item_reuse(struct batch_item *it, const void *body, size_t len);
void batch_item_fini(struct batch_item *it);
/* Does the applied item store anything in db? */
bool batch_item_touches(const struct batch_item *it, enum ledger_db db);
/* Make it done with an error reply (and no log entry). */
void batch_item_fail(struct batch_item *it, nt_err e, const char *why);

/*
 * batch_prepare - decode and validate it. Returns true if it is a valid write op that
 * must go through batch_commit(); otherwise the item is either done (an error reply) or
 * a valid read op for batch_query().
 */
bool batch_prepare(struct batch_item *it);

/* batch_query - answer a prepared read op in its own read transaction. */
void batch_query(struct ledger *lg, const struct ops_stats *stats,
		 const struct core_policy *policy, struct batch_item *it, int64_t now);

/*
 * The loop's view of the ledger's future: the state once everything applied so far is
 * committed, and the overlay of records applied but not yet committed.
 */
struct overlay;
struct batch_spec {
	struct ledger *lg;
	struct overlay *ov;
	struct batch_state st;
	struct ledger_txn rt;	/* the read transaction applies use, renewed each time */
	const struct cal *cal;	/* the working-day calendar the core counts with (NULL:
				 * weekends only); the caller owns it */
	const struct core_policy *policy;	/* NULL: the default */
};

nt_err batch_spec_init(struct batch_spec *sp, struct ledger *lg, const struct batch_state *st);
void batch_spec_fini(struct batch_spec *sp);
/* A store failed: forget everything pending; the ledger ends at committed. */
void batch_spec_reset(struct batch_spec *sp, const struct batch_state *committed);
/*
 * Applies keep one read transaction open from one to the next (renewing it is the
 * costly part). End it: before releasing committed records from the overlay (later
 * applies must see them in the ledger instead), and before the loop sleeps (no read
 * transaction is held across the loop).
 */
void batch_spec_quiesce(struct batch_spec *sp);

/*
 * batch_apply - apply the prepared write it on top of everything applied before (see
 * batch.c): it becomes done with its reply, and, if it changes the ledger, has_entry with
 * its records, its log entry and its seq; its records join the overlay under ticket (the
 * group it will be stored with). Returns NT_OK, or the ledger's or memory's failure (then
 * it is done with an "unavailable" reply and nothing of it is kept).
 */
nt_err batch_apply(struct batch_spec *sp, struct batch_item *it, uint64_t ticket, int64_t now);

/*
 * batch_store - store the applied items[0..n) in one write transaction and commit it with
 * full sync; on MDB_MAP_FULL grow the map and try again. If the commit fails, every item
 * gets an "unavailable" reply and the error is returned.
 */
nt_err batch_store(struct ledger *lg, struct batch_item **items, size_t n, char *why,
		   size_t whylen);

/*
 * batch_commit - batch_apply() each of items[0..n) on top of *st, then batch_store() them:
 * the whole way of one group, on one thread (tests, tools). On success *st is the new end.
 */
nt_err batch_commit(struct ledger *lg, struct batch_state *st, struct batch_item **items,
		    size_t n, int64_t now, char *why, size_t whylen);

/*
 * The records batch_commit() writes besides the core's puts, exposed so that the
 * benchmark's raw-LMDB loop writes exactly the same bytes.
 * batch_entry_pack: the log entry of effect e applied as r with seq and at, into out
 * (reset first), sealed with its hash after prev (chain.h), which goes to hash. batch_reqval: the reqs value (seq, hash, reply fields) into buf of size
 * BATCH_REQVAL_MAX; returns its length, or 0 if the reply fields do not fit.
 */
void batch_entry_pack(proto_out *out, uint64_t seq, int64_t at, const struct core_req *r,
		      const struct core_effect *e, const uint8_t prev[CHAIN_LEN],
		      uint8_t hash[CHAIN_LEN]);
size_t batch_reqval(uint8_t buf[BATCH_REQVAL_MAX], uint64_t seq, uint64_t hash,
		    const struct core_effect *e);

#endif
