/*
 * core_timer.c - a case's deadline timers: arming them, and what a firing does.
 *
 * A case with a handling deadline that is not yet resolved has up to three timers, one
 * per slot: two reminders before the deadline, and the chase, which fires
 * `deadline.overdue` when the deadline passes and then, one level at a time, the
 * escalation ladder (`escalation.1`, `escalation.2`, ...). A timer is a key in the
 * `timers` database, (due, case * 4 + slot), so the next one due is the first key; the
 * case record keeps each slot's due time, so re-arming deletes exactly the keys it put.
 *
 * Exactly once: a firing is an internal write (`timer.fire`, sent by the daemon's loop
 * for a committed timer that is due). Like every write it is applied in the pure core and
 * committed in one transaction: its log entry, the deletion of its key, and the arming of
 * the next level. A firing that was committed is gone from `timers` and never fires
 * again; one that was not is still there and fires after a restart. A firing of a timer
 * that was re-armed or disarmed meanwhile (a pending write the loop could not see) finds
 * a different due time on the case and changes nothing.
 *
 * Time: deadlines are calendar days in the county's time zone; the chase fires at the
 * midnight that ends the deadline day; reminders and escalations in the morning
 * (policy->remind_hour) of a working day counted with the working-day calendar. A hard
 * deadline never moves; reminders and escalations land on working days by construction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cal.h"
#include "core.h"

const struct core_policy core_default_policy = {
	.remind = { 3, 1 },
	.remind_hour = 9,
	.ladder = {
		{ 1, ROLE_HEAD },		/* escalation.1: the unit head, a working day on */
		{ 3, ROLE_THEME },		/* escalation.2: the theme office */
		{ 5, ROLE_SUPERVISION },	/* escalation.3: the supervision office */
		{ 10, ROLE_COUNTY },		/* escalation.4: the county leader in charge */
	},
	.nladder = 4,
	.max_extensions = 2,
	.max_extension_days = 30,
};

#define LATE_MS 5000	/* a firing this long after its due time is marked late */

const struct core_policy *core_policy_of(const struct core_view *v)
{
	return v->policy != NULL ? v->policy : &core_default_policy;
}

int64_t core_chase_fired(const struct case_rec *c, size_t nladder)
{
	/* while the chase is armed it has fired the levels below the one it waits for; once
	 * it has fired the top of the ladder it is no longer armed */
	if (c->timer_at[SLOT_CHASE] != 0)
		return (int64_t)c->chase_level - 1;
	if (nladder > 0 && c->chase_level == nladder)
		return (int64_t)nladder;
	return -1;
}

/* Unix ms of local midnight starting day, and of the policy's hour on it. */
static int64_t day_start(int64_t day)
{
	return (day * 86400 - (int64_t)MODEL_UTC_OFFSET_MIN * 60) * 1000;
}

static int64_t morning(const struct core_view *v, int64_t day)
{
	return day_start(day) + (int64_t)core_policy_of(v)->remind_hour * 3600 * 1000;
}

static const char *role_name(uint32_t role)
{
	for (unsigned b = 0; role_names[b] != NULL; b++)
		if (role == 1u << b)
			return role_names[b];
	return "?";
}

static void arm(struct core_effect *e, struct case_rec *c, unsigned slot, int64_t at)
{
	uint8_t key[TIMER_KEY_LEN];
	struct core_put *p;

	timer_key(key, at, c->id, slot);
	p = core_put_begin(e, DB_TIMERS, key, sizeof key, false);
	core_put_end(e, p);
	c->timer_at[slot] = at;
}

static void disarm(struct core_effect *e, struct case_rec *c, unsigned slot)
{
	uint8_t key[TIMER_KEY_LEN];

	if (c->timer_at[slot] == 0)
		return;
	timer_key(key, c->timer_at[slot], c->id, slot);
	core_del(e, DB_TIMERS, key, sizeof key);
	c->timer_at[slot] = 0;
}

/* The time the chase fires at level (0: overdue). */
static int64_t chase_time(const struct core_view *v, const struct case_rec *c, uint32_t level)
{
	const struct core_policy *pol = core_policy_of(v);

	if (level == 0)
		return day_start(c->deadline + 1);
	return morning(v, cal_add_working(v->cal, c->deadline, pol->ladder[level - 1].after));
}

void core_timers_rearm(const struct core_view *v, struct core_effect *e, struct case_rec *c)
{
	const struct core_policy *pol = core_policy_of(v);

	for (unsigned slot = 0; slot < SLOT__N; slot++)
		disarm(e, c, slot);
	c->chase_level = 0;
	if (c->deadline == 0 || c->step >= STEP_RESOLVED)
		return;
	for (unsigned i = 0; i < 2; i++) {
		int64_t at;

		if (pol->remind[i] == 0)
			continue;
		at = morning(v, cal_add_working(v->cal, c->deadline, -(int64_t)pol->remind[i]));
		if (at > v->now)	/* a reminder after the fact reminds no one */
			arm(e, c, SLOT_REMIND_FAR + i, at);
	}
	/* the chase, even if the deadline is already past: it then fires at once */
	arm(e, c, SLOT_CHASE, chase_time(v, c, 0));
}

/* ---- timer.fire: the daemon's own write ---- */

enum { F_CASE, F_SLOT, F_DUE };
static const struct proto_field fire_fields[] = {
	[F_CASE] = { "case", PT_UINT, true, 1, UINT64_MAX, 0, NULL },
	[F_SLOT] = { "slot", PT_UINT, true, 0, SLOT__N - 1, 0, NULL },
	[F_DUE] = { "due", PT_UINT, true, 1, INT64_MAX, 0, NULL },
};

static nt_err timer_fire(const struct core_view *v, const struct core_req *r,
			 struct core_effect *e, char *why, size_t whylen)
{
	const struct core_policy *pol = core_policy_of(v);
	const struct proto_arg *a = r->args;
	unsigned slot = (unsigned)a[F_SLOT].u;
	int64_t due = (int64_t)a[F_DUE].u, today = proto_day_of(v->now, MODEL_UTC_OFFSET_MIN);
	struct case_rec c;
	uint8_t key[HIST_KEY_LEN];
	uint32_t n = 0, level = 0;
	nt_err rc;

	if ((rc = core_get_case(v, a[F_CASE].u, &c)) == NT_ENOTFOUND) {
		snprintf(why, whylen, "no case %" PRIu64, a[F_CASE].u);
		return rc;
	}
	if (rc != NT_OK)
		return rc;
	if (c.timer_at[slot] != due) {
		/* re-armed or disarmed by a write the loop had not seen committed: nothing */
		core_kvs_begin(e, &e->reply);
		proto_kv_bool(&e->buf, "changed", false);
		e->reply.n = 1;
		core_kvs_end(e, &e->reply);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	disarm(e, &c, slot);
	if (slot == SLOT_CHASE)
		level = c.chase_level;

	core_kvs_begin(e, &e->entry);
	proto_kv_str(&e->buf, "lead", c.lead);
	proto_kv_str(&e->buf, "unit", c.unit);
	proto_kv_str(&e->buf, "title", c.title);
	proto_pack_cstr(&e->buf, "deadline");
	{
		char d[11];

		proto_date_format(c.deadline, d);
		proto_pack_cstr(&e->buf, d);
	}
	proto_kv_i64(&e->buf, "due", due);
	proto_kv_bool(&e->buf, "late", v->now - due >= LATE_MS);
	n = 6;
	if (slot != SLOT_CHASE) {
		e->topic = "deadline.reminder";
		proto_kv_u64(&e->buf, "working_days_left",
			     (uint64_t)cal_working_between(v->cal, today + 1, c.deadline + 1));
		n++;
	} else {
		static const char *const names[CORE_MAX_LADDER + 1] = {
			"deadline.overdue", "escalation.1", "escalation.2", "escalation.3",
			"escalation.4", "escalation.5", "escalation.6", "escalation.7",
			"escalation.8",
		};

		e->topic = names[level];
		proto_kv_u64(&e->buf, "level", level);
		proto_kv_u64(&e->buf, "working_days_late",
			     (uint64_t)cal_working_between(v->cal, c.deadline + 1, today + 1));
		/* who is told now: the lead, then a role of the case's unit or of the county */
		proto_pack_cstr(&e->buf, "notify");
		if (level == 0) {
			msgpack_pack_map(&e->buf.pk, 1);
			proto_kv_str(&e->buf, "person", c.lead);
		} else {
			msgpack_pack_map(&e->buf.pk, 2);
			proto_kv_cstr(&e->buf, "role", role_name(pol->ladder[level - 1].role));
			proto_kv_str(&e->buf, "unit", c.unit);
		}
		n += 3;
		if (level + 1 <= pol->nladder) {
			c.chase_level = level + 1;
			arm(e, &c, SLOT_CHASE, chase_time(v, &c, level + 1));
		}
	}
	e->entry.n = n;
	core_kvs_end(e, &e->entry);

	/* the case keeps its armed times and its story */
	ledger_key_u64(key, c.id);
	c.updated_at = v->now;
	c.updated_seq = v->seq;
	c.events++;
	core_put_rec(e, DB_CASES, key, 8, false, &case_desc, &c);
	hist_key(key, c.id, v->seq);
	core_put_end(e, core_put_begin(e, DB_HIST, key, HIST_KEY_LEN, false));
	e->case_id = c.id;

	core_kvs_begin(e, &e->reply);
	proto_kv_bool(&e->buf, "changed", true);
	e->reply.n = 1;
	core_kvs_end(e, &e->reply);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

#define N(a) (sizeof a / sizeof a[0])

const struct op core_timer_ops[] = {
	{ "timer.fire", true, fire_fields, N(fire_fields), timer_fire, NULL, NULL, true },
};
const size_t core_timer_nops = N(core_timer_ops);
