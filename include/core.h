/*
 * core.h - what an event does to the ledger: the pure core of nanti.
 *
 * A write op is a function from (a read-only view of the ledger, a validated request) to
 * an effect: the records to store, the log entry's topic and topic-specific fields, and
 * the reply's op-specific fields. It performs no I/O: it reads the ledger only through
 * the view's callbacks and encodes what it decides into the effect's buffer. The daemon's
 * shell (daemon/batch.c) stores the effect, appends the log entry, records the request id,
 * commits and replies. Tests and the fuzzer drive the core with an in-memory view.
 *
 * Records are MessagePack maps, so that later versions can add keys; decoders ignore keys
 * they do not know.
 */
#ifndef CORE_H
#define CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "model.h"
#include "proto.h"

/* ---- ops ---- */

/*
 * How deadlines are chased (docs/deadlines.md): reminders some working days before, at
 * remind_hour local time; when the deadline passes, `deadline.overdue` to the lead; then
 * each level of the ladder, `after` working days after the deadline day, in the morning,
 * to a role of the case's unit or of the county.
 */
#define CORE_MAX_LADDER 8
struct core_ladder_step {
	uint32_t after;		/* working days after the deadline day */
	uint32_t role;		/* enum role bit notified */
};
struct core_policy {
	uint32_t remind[2];	/* working days (or hours) before the deadline; 0: none */
	bool remind_in_hours[2];	/* remind[i] counts hours before the deadline ends */
	int remind_hour;	/* local hour of reminders and escalations */
	/* quiet hours, local, [quiet_from, quiet_to) wrapping midnight if from > to; equal:
	 * none. A reminder due in them moves to the previous working morning. */
	int quiet_from, quiet_to;
	/* working days between repeats of a chase level nobody acknowledged; 0: none */
	uint32_t repeat_days;
	struct core_ladder_step ladder[CORE_MAX_LADDER];
	size_t nladder;
	int utc_offset_min;	/* the county's time zone: minutes east of UTC */
	uint32_t max_extensions;	/* extensions a case may have approved */
	uint32_t max_extension_days;	/* calendar days one extension may add */
	/* working days a case of each kind may spend in each step; 0: no limit */
	uint32_t step_limit[KIND__N][STEP__N];
	/* the handling deadline a case of each kind gets when opened without one: n days
	 * counted by basis (enum deadline_basis: BASIS_DAYS or BASIS_WORKING_DAYS); n 0: none */
	struct { uint32_t basis, n; } handling[KIND__N];
};
extern const struct core_policy core_default_policy;
/* Is local hour h in pol's quiet hours? */
bool core_quiet_hour(const struct core_policy *pol, int h);
struct core_view;
/* The view's policy, or the default. */
const struct core_policy *core_policy_of(const struct core_view *v);
/* The county's calendar day of Unix ms t, and today's, in the policy's time zone. */
int64_t core_day_of(const struct core_view *v, int64_t t);
int64_t core_today(const struct core_view *v);
/* Unix ms of the local midnight that starts day. */
int64_t core_day_start(const struct core_view *v, int64_t day);

struct cal;

/* The ledger as the core sees it, at the point in the batch where this event applies. */
struct core_view {
	void *ctx;
	/* The value of key in db: NT_OK with *val filled, NT_ENOTFOUND, or the ledger's
	 * failure. *val stays valid until the effect is stored. */
	nt_err (*get)(void *ctx, enum ledger_db db, const void *key, size_t klen, MDB_val *val);
	uint64_t next_case;	/* the id a new case gets */
	uint64_t seq;		/* the seq this event's log entry gets */
	int64_t now;		/* Unix ms */
	const struct cal *cal;		/* working days; NULL: weekends only */
	const struct core_policy *policy;	/* NULL: core_default_policy */
};

struct op;

/* A validated request. args follow the op's schema order. */
struct core_req {
	proto_str id, actor;
	const struct proto_arg *args;
	const struct op *op;
};

/* Puts of one effect, at most: household.consult writes two for each of 20 households,
 * case.open two for each of 16; the array grows to what an effect uses. */
#define CORE_MAX_PUTS 64

struct core_put {
	enum ledger_db db;
	uint8_t key[LEDGER_MAX_KEY];
	uint32_t klen;
	size_t voff, vlen;	/* the value: a slice of the effect's buf */
	bool append;		/* the key sorts after all keys of db */
	bool del;		/* delete the key instead (no value) */
};

/* A slice of buf holding n key/value pairs, to be spliced into a map. */
struct core_kvs {
	size_t off, len;
	uint32_t n;
};

struct core_effect {
	proto_out buf;		/* owned; core_effect_init/fini */
	struct core_put *puts;	/* owned, grown as needed, kept across resets */
	unsigned nputs, capputs;
	struct core_put spare;	/* where a put goes that could not be had (buf.oom is set) */
	const char *topic;	/* the log entry's topic; NULL: the request changed nothing */
	uint64_t case_id;	/* the case it concerns; 0: none */
	bool new_case;		/* the event used view->next_case */
	struct core_kvs entry;	/* topic-specific fields of the log entry */
	struct core_kvs reply;	/* op-specific fields of the reply */
};

void core_effect_init(struct core_effect *e);
void core_effect_reset(struct core_effect *e);
void core_effect_fini(struct core_effect *e);

typedef nt_err (*core_apply_fn)(const struct core_view *v, const struct core_req *r,
				struct core_effect *e, char *why, size_t whylen);

/* ---- the op table ---- */

struct ops_query_ctx;
/* A read op (daemon/ops.c): packs its op-specific reply fields into out and returns how
 * many pairs it packed in *n, or an error (why says what). */
typedef nt_err (*ops_query_fn)(const struct ops_query_ctx *c, const struct proto_arg *args,
			       proto_out *out, uint32_t *n, char *why, size_t whylen);

struct op {
	const char *name;
	bool write;
	const struct proto_field *fields;
	size_t nfields;
	core_apply_fn apply;	/* write ops */
	ops_query_fn query;	/* read ops */
	const void *data;	/* the op's own row of a table of its module */
	bool internal;		/* the daemon's own: refused from clients as unknown */
};

/* The write ops (daemon/core*.c). Internal ops (the daemon's own, never a client's) are
 * marked so in struct op. */
extern const struct op core_org_ops[];
extern const size_t core_org_nops;
extern const struct op core_case_ops[];
extern const size_t core_case_nops;
extern const struct op core_timer_ops[];
extern const size_t core_timer_nops;
extern const struct op core_household_ops[];
extern const size_t core_household_nops;

/*
 * core_case_households - case.open's `households` and `consultation` (core_household.c):
 * check them for actor (each household exists and actor may read it; the consultation
 * discussed each), set c's households and consultation, and put the links: each
 * household lists the case and has this entry in its history.
 */
nt_err core_case_households(const struct core_view *v, const struct person_rec *actor,
			    struct case_rec *c, const struct proto_arg *households,
			    const struct proto_arg *consultation, struct core_effect *e,
			    char *why, size_t whylen);

/*
 * core_timers_rearm - make c's armed timers match its state: none unless it has a
 * deadline and is not yet resolved; otherwise its reminders and its chase (overdue, then
 * the ladder). Deletes the timers it had and puts the new ones; c's timer fields change.
 */
void core_timers_rearm(const struct core_view *v, struct case_rec *c);
/*
 * core_step_rearm - c has just reached its step: start the step's time limit from today
 * (the policy's working days for its kind and step) and arm its timer, or disarm it.
 */
void core_step_rearm(const struct core_view *v, struct case_rec *c);
/*
 * core_case_recalendar - recompute what of c depends on the working-day calendar after
 * the calendar changed: a deadline counted in working days, the step's last day, and the
 * times of its armed reminders and escalations (a hard deadline's own midnight never
 * moves). Returns true if the deadline or the step's last day moved.
 */
bool core_case_recalendar(const struct core_view *v, struct case_rec *c);
/* Does c depend on the calendar (a deadline in working days, a step limit, armed
 * timers)? The daemon sends case.recalendar for these after the calendar changed. */
bool core_case_recalendar_wanted(const struct case_rec *c);
/* The deadline that basis, from and n give (cal: the view's). */
int64_t core_deadline_of(const struct core_view *v, uint32_t basis, int64_t from, uint32_t n);

/*
 * core_milestones_rearm - arm the chase of each milestone of g whose date changed (from
 * the midnight that ends the date), and disarm those whose date went; a milestone whose
 * date is unchanged goes on where it is.
 */
nt_err core_milestones_rearm(const struct core_view *v, struct core_effect *e,
			     const struct campaign_rec *g);
/* People one campaign.missing names; the rest of a unit's are counted (`more`). */
#define CORE_MISSING_MAX_PEOPLE 200
/* Milestone m's chase (zero if never armed). */
nt_err core_get_milestone(const struct core_view *v, unsigned m, struct milestone_rec *ms);
/* c's chase after an acknowledgement: the repeats of the level acknowledged stop. */
void core_chase_retime(const struct core_view *v, struct case_rec *c);
/*
 * core_put_case - store case c, whose armed timers were was[] when read (NULL: a new
 * case): the record, and its one key in the timers database moved to the first of its
 * timers now (deleted if none is armed). Every write of a case goes through here.
 */
void core_put_case(struct core_effect *e, const int64_t was[SLOT__N], const struct case_rec *c,
		   bool append);
/* The highest level of c's chase that has fired (0: the overdue notice), or -1 if none,
 * for a ladder of nladder levels. */
int64_t core_chase_fired(const struct case_rec *c, size_t nladder);

/* ---- shared by the write ops (core.c) ---- */

/* Start a put of db/key; the caller then encodes the value into e->buf and calls
 * core_put_end(). */
struct core_put *core_put_begin(struct core_effect *e, enum ledger_db db, const void *key,
				size_t klen, bool append);
void core_put_end(struct core_effect *e, struct core_put *p);
/* Delete db/key. */
void core_del(struct core_effect *e, enum ledger_db db, const void *key, size_t klen);
/* Put the record rec (described by d) under db/key. */
void core_put_rec(struct core_effect *e, enum ledger_db db, const void *key, size_t klen,
		  bool append, const struct rec_desc *d, const void *rec);
void core_kvs_begin(struct core_effect *e, struct core_kvs *k);
void core_kvs_end(struct core_effect *e, struct core_kvs *k);
/* Pack the request's set arguments (but those in skip, a mask of argument indexes) as
 * key/value pairs into e->buf; returns how many. */
uint32_t core_pack_args(struct core_effect *e, const struct core_req *r, uint64_t skip);

/* Read and decode a record; NT_ENOTFOUND, NT_ECORRUPT or the ledger's failure. */
nt_err core_get_unit(const struct core_view *v, proto_str id, struct unit_rec *u);
nt_err core_get_person(const struct core_view *v, proto_str id, struct person_rec *p);
nt_err core_get_case(const struct core_view *v, uint64_t id, struct case_rec *c);
nt_err core_get_household(const struct core_view *v, proto_str id, struct household_rec *h);
/* The household a request names: as core_get_household(), and why says "no household
 * 'ID'" when there is none. */
nt_err core_get_household_named(const struct core_view *v, proto_str id,
				struct household_rec *h, char *why, size_t whylen);
/* The campaign, or the defaults (threshold CAMPAIGN_DEFAULT_THRESHOLD) if none is set. */
nt_err core_get_campaign(const struct core_view *v, struct campaign_rec *c);

/*
 * A hash of a request that does not depend on key order or integer widths, nor on its
 * "id": two requests with the same id are the same request iff their hashes agree.
 */
uint64_t core_request_hash(const msgpack_object *body);
/* What a request's hash gains from an "actor": actor pair: added to the hash of a request
 * that named no actor and was given its connection's person, it makes the hash the one
 * the same request naming that actor has. */
uint64_t core_request_hash_actor(proto_str actor);

#endif
