/*
 * core_timer.c - a case's deadline timers: arming them, and what a firing does.
 *
 * A case with a handling deadline that is not yet resolved has up to three timers, one
 * per slot: two reminders before the deadline, and the chase, which fires
 * `deadline.overdue` when the deadline passes and then, one level at a time, the
 * escalation ladder (`escalation.1`, `escalation.2`, ...); a fourth slot is the time limit
 * of its step. The case record keeps every slot's due time; the `timers` database holds
 * one key per case, (due, case * 4 + slot) for the first of them, so that the next timer
 * due in the county is the first key, and arming a case's timers is one B-tree insert at a
 * random place, not three or four (each costs a 4 KiB page written at commit: docs/
 * bench.md). core_put_case() moves the key whenever the record is stored.
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

/* the time limits of the steps, in working days (docs/deadlines.md) */
#define STEP_LIMITS { [STEP_IDENTIFIED] = 5, [STEP_PLANNED] = 5, [STEP_RESOLVED] = 10, \
		      [STEP_JOURNALED] = 10 }

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
	.utc_offset_min = MODEL_UTC_OFFSET_MIN,
	.quiet_from = 22,
	.quiet_to = 7,
	.repeat_days = 1,
	.max_extensions = 2,
	.max_extension_days = 30,
	.step_limit = { STEP_LIMITS, STEP_LIMITS, STEP_LIMITS, STEP_LIMITS },
	/* a petition is handled within 60 days of its acceptance (the Regulations on Letters
	 * and Visits, art. 35) */
	.handling = { [KIND_PETITION] = { BASIS_DAYS, 60 } },
};

#define LATE_MS 5000	/* a firing this long after its due time is marked late */

const struct core_policy *core_policy_of(const struct core_view *v)
{
	return v->policy != NULL ? v->policy : &core_default_policy;
}

int64_t core_chase_fired(const struct case_rec *c, size_t nladder)
{
	/* the chase has fired the levels below the one it waits for (past the top once the
	 * top fired); a record written before repeats left it at the top, disarmed */
	if (c->chase_level > 0 && c->timer_at[SLOT_CHASE] == 0 && c->chase_level == nladder)
		return (int64_t)nladder;
	return (int64_t)c->chase_level - 1;
}

int64_t core_day_of(const struct core_view *v, int64_t t)
{
	return proto_day_of(t, core_policy_of(v)->utc_offset_min);
}

int64_t core_today(const struct core_view *v)
{
	return core_day_of(v, v->now);
}

int64_t core_day_start(const struct core_view *v, int64_t day)
{
	return (day * 86400 - (int64_t)core_policy_of(v)->utc_offset_min * 60) * 1000;
}

/* Unix ms of the policy's hour on day. */
static int64_t morning(const struct core_view *v, int64_t day)
{
	return core_day_start(v, day) + (int64_t)core_policy_of(v)->remind_hour * 3600 * 1000;
}

static const char *role_name(uint32_t role)
{
	for (unsigned b = 0; role_names[b] != NULL; b++)
		if (role == 1u << b)
			return role_names[b];
	return "?";
}

/* A case's timers are its record's timer_at[]; the timers database holds one key per case
 * for the first of them, put right when the record is stored (core_put_case()). */
static void arm(struct case_rec *c, unsigned slot, int64_t at)
{
	c->timer_at[slot] = at;
}

static void disarm(struct case_rec *c, unsigned slot)
{
	c->timer_at[slot] = 0;
}

void core_put_case(struct core_effect *e, const int64_t was[SLOT__N], const struct case_rec *c,
		   bool append)
{
	uint8_t old[TIMER_KEY_LEN], now[TIMER_KEY_LEN], key[8];
	bool had = was != NULL && case_timer_key(old, c->id, was);
	bool has = case_timer_key(now, c->id, c->timer_at);

	if (had && (!has || memcmp(old, now, sizeof old) != 0))
		core_del(e, DB_TIMERS, old, sizeof old);
	if (has && (!had || memcmp(old, now, sizeof old) != 0))
		core_put_end(e, core_put_begin(e, DB_TIMERS, now, sizeof now, false));
	ledger_key_u64(key, c->id);
	core_put_rec(e, DB_CASES, key, 8, append, &case_desc, c);
}

/* The time a chase of a date fires at level (0: the midnight that ends the day; then the
 * mornings of the ladder). */
static int64_t chase_time(const struct core_view *v, int64_t day, uint32_t level)
{
	const struct core_policy *pol = core_policy_of(v);

	if (level == 0)
		return core_day_start(v, day + 1);
	return morning(v, cal_add_working(v->cal, day, pol->ladder[level - 1].after));
}

/* A notification to one person: `notify: {"person": P}`. */
static void pack_notify_person(struct core_effect *e, proto_str person)
{
	proto_pack_cstr(&e->buf, "notify");
	msgpack_pack_map(&e->buf.pk, 1);
	proto_kv_str(&e->buf, "person", person);
}

/* Whom level (1..) of a chase notifies: a role of the unit or of the county. */
static void pack_notify(struct core_effect *e, const struct core_view *v, uint32_t level,
			proto_str unit)
{
	proto_pack_cstr(&e->buf, "notify");
	msgpack_pack_map(&e->buf.pk, 2);
	proto_kv_cstr(&e->buf, "role", role_name(core_policy_of(v)->ladder[level - 1].role));
	proto_kv_str(&e->buf, "unit", unit);
}

/* A day as a date, nil for 0 (none). */
static void pack_date(struct core_effect *e, const char *key, int64_t day)
{
	char d[11];

	if (day == 0) {
		proto_kv_nil(&e->buf, key);
		return;
	}
	proto_date_format(day, d);
	proto_kv_cstr(&e->buf, key, d);
}

static void reply_changed(struct core_effect *e, bool changed)
{
	core_kvs_begin(e, &e->reply);
	proto_kv_bool(&e->buf, "changed", changed);
	e->reply.n = 1;
	core_kvs_end(e, &e->reply);
}

bool core_quiet_hour(const struct core_policy *pol, int h)
{
	if (pol->quiet_from == pol->quiet_to)
		return false;
	if (pol->quiet_from < pol->quiet_to)
		return h >= pol->quiet_from && h < pol->quiet_to;
	return h >= pol->quiet_from || h < pol->quiet_to;
}

/* t, or if it falls on a day off or in the quiet hours, the working morning before it. */
static int64_t before_quiet(const struct core_view *v, int64_t t)
{
	int64_t day = core_day_of(v, t);
	int hour = (int)((t - core_day_start(v, day)) / 3600000);

	if (cal_is_working(v->cal, day) && !core_quiet_hour(core_policy_of(v), hour))
		return t;
	if (cal_is_working(v->cal, day) && morning(v, day) <= t)
		return morning(v, day);
	return morning(v, cal_add_working(v->cal, day, -1));
}

/* When reminder i of c's deadline is due: some working days before, in the morning; or
 * some hours before the deadline ends, moved out of days off and quiet hours. */
static int64_t remind_time(const struct core_view *v, const struct case_rec *c, unsigned i)
{
	const struct core_policy *pol = core_policy_of(v);
	uint32_t before = pol->remind[i];

	if (pol->remind_in_hours[i])
		return before_quiet(v, core_day_start(v, c->deadline + 1) - (int64_t)before * 3600000);
	return morning(v, cal_add_working(v->cal, c->deadline, -(int64_t)before));
}

/*
 * When c's chase fires next, and whether that is a repeat of the level last fired (level
 * chase_level - 1, unacknowledged, every repeat_days working days after it) rather than
 * the next level of the ladder. 0: nothing more.
 */
static int64_t chase_next(const struct core_view *v, const struct case_rec *c, bool *repeat)
{
	const struct core_policy *pol = core_policy_of(v);
	uint32_t next = c->chase_level;
	int64_t t = next <= pol->nladder ? chase_time(v, c->deadline, next) : 0;

	*repeat = false;
	if (pol->repeat_days > 0 && next >= 1 && next - 1 <= pol->nladder &&
	    !(c->acked & (1u << (next - 1)))) {
		int64_t base = next == 1 ? c->deadline
					 : cal_add_working(v->cal, c->deadline,
							   pol->ladder[next - 2].after);
		int64_t r = morning(v, cal_add_working(v->cal, base, (int64_t)(c->chase_repeats + 1) *
								  pol->repeat_days));

		if (t == 0 || r < t) {
			t = r;
			*repeat = true;
		}
	}
	return t;
}

void core_timers_rearm(const struct core_view *v, struct case_rec *c)
{
	const struct core_policy *pol = core_policy_of(v);

	for (unsigned slot = SLOT_REMIND_FAR; slot <= SLOT_CHASE; slot++)
		disarm(c, slot);
	c->chase_level = 0;
	c->chase_repeats = 0;
	if (c->deadline == 0 || c->step >= STEP_RESOLVED)
		return;
	for (unsigned i = 0; i < 2; i++) {
		int64_t at;

		if (pol->remind[i] == 0)
			continue;
		at = remind_time(v, c, i);
		if (at > v->now)	/* a reminder after the fact reminds no one */
			arm(c, SLOT_REMIND_FAR + i, at);
	}
	/* the chase, even if the deadline is already past: it then fires at once */
	arm(c, SLOT_CHASE, chase_time(v, c->deadline, 0));
}

void core_step_rearm(const struct core_view *v, struct case_rec *c)
{
	const struct core_policy *pol = core_policy_of(v);

	disarm(c, SLOT_STEP);
	c->step_from = core_today(v);
	c->step_limit = c->kind < KIND__N && c->step < STEP__N ? pol->step_limit[c->kind][c->step]
							       : 0;
	c->step_due = 0;
	if (c->step_limit == 0)
		return;
	c->step_due = cal_add_working(v->cal, c->step_from, c->step_limit);
	arm(c, SLOT_STEP, core_day_start(v, c->step_due + 1));
}

int64_t core_deadline_of(const struct core_view *v, uint32_t basis, int64_t from, uint32_t n)
{
	if (basis == BASIS_WORKING_DAYS)
		return cal_add_working(v->cal, from, n);
	return from + n;
}

/* Move c's armed timer in slot to at (a timer already fired stays fired; at 0: none). */
static void retime(struct case_rec *c, unsigned slot, int64_t at)
{
	if (c->timer_at[slot] == 0 || c->timer_at[slot] == at)
		return;
	disarm(c, slot);
	if (at != 0)
		arm(c, slot, at);
}

void core_chase_retime(const struct core_view *v, struct case_rec *c)
{
	bool rep;

	retime(c, SLOT_CHASE, chase_next(v, c, &rep));
}

bool core_case_recalendar(const struct core_view *v, struct case_rec *c)
{
	bool moved = false;

	if (c->step >= STEP_CROSSED_OFF)
		return false;
	if (c->deadline != 0 && c->deadline_basis == BASIS_WORKING_DAYS) {
		int64_t d = core_deadline_of(v, c->deadline_basis, c->deadline_from, c->deadline_n);

		if (d != c->deadline) {
			/* a new deadline: chased afresh, as after a new plan */
			c->deadline = d;
			core_timers_rearm(v, c);
			moved = true;
		}
	}
	if (!moved && c->deadline != 0) {
		bool rep;

		for (unsigned i = 0; i < 2; i++)
			if (c->timer_at[SLOT_REMIND_FAR + i] != 0)
				retime(c, SLOT_REMIND_FAR + i, remind_time(v, c, i));
		if (c->timer_at[SLOT_CHASE] != 0)
			retime(c, SLOT_CHASE, chase_next(v, c, &rep));
	}
	if (c->step_limit != 0) {
		int64_t due = cal_add_working(v->cal, c->step_from, c->step_limit);

		if (due != c->step_due) {
			c->step_due = due;
			retime(c, SLOT_STEP, core_day_start(v, due + 1));
			moved = true;
		}
	}
	return moved;
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
	const struct proto_arg *a = r->args;
	unsigned slot = (unsigned)a[F_SLOT].u;
	int64_t due = (int64_t)a[F_DUE].u, today = core_today(v);
	struct case_rec c;
	uint8_t key[HIST_KEY_LEN];
	uint32_t n = 0, level = 0;
	int64_t was[SLOT__N];
	bool repeat = false;
	nt_err rc;

	if ((rc = core_get_case(v, a[F_CASE].u, &c)) == NT_ENOTFOUND) {
		snprintf(why, whylen, "no case %" PRIu64, a[F_CASE].u);
		return rc;
	}
	if (rc != NT_OK)
		return rc;
	memcpy(was, c.timer_at, sizeof was);
	if (c.timer_at[slot] != due) {
		/* re-armed or disarmed by a write the loop had not seen committed: nothing to
		 * fire; the key, if it is still there, is no case's (deleting it again is
		 * harmless, and a stray key must not fire for ever) */
		timer_key(key, due, c.id, slot);
		core_del(e, DB_TIMERS, key, TIMER_KEY_LEN);
		reply_changed(e, false);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	if (slot == SLOT_CHASE) {
		/* the next level, or a repeat of the last one (due as chase_next() armed it) */
		int64_t next = chase_next(v, &c, &repeat);

		repeat = repeat && next == due;
		level = repeat ? c.chase_level - 1 : c.chase_level;
	}
	disarm(&c, slot);

	core_kvs_begin(e, &e->entry);
	proto_kv_str(&e->buf, "lead", c.lead);
	proto_kv_str(&e->buf, "unit", c.unit);
	proto_kv_str(&e->buf, "title", c.title);
	pack_date(e, "deadline", c.deadline);
	proto_kv_i64(&e->buf, "due", due);
	proto_kv_bool(&e->buf, "late", v->now - due >= LATE_MS);
	n = 6;
	if (slot == SLOT_STEP) {
		e->topic = "step.overdue";
		proto_kv_cstr(&e->buf, "step", case_next_steps[c.step]);
		pack_date(e, "step_from", c.step_from);
		proto_kv_u64(&e->buf, "step_limit", c.step_limit);
		pack_date(e, "step_due", c.step_due);
		proto_kv_u64(&e->buf, "working_days_late",
			     (uint64_t)cal_working_between(v->cal, c.step_due + 1, today + 1));
		pack_notify_person(e, c.lead);
		n += 6;
	} else if (slot != SLOT_CHASE) {
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
		if (level == 0)
			pack_notify_person(e, c.lead);
		else
			pack_notify(e, v, level, c.unit);
		n += 3;
		if (repeat) {
			c.chase_repeats++;
			proto_kv_u64(&e->buf, "repeat", c.chase_repeats);
			n++;
		} else {
			c.chase_level = level + 1;
			c.chase_repeats = 0;
		}
		{
			bool rep;
			int64_t at = chase_next(v, &c, &rep);

			if (at != 0)
				arm(&c, SLOT_CHASE, at);
		}
	}
	e->entry.n = n;
	core_kvs_end(e, &e->entry);

	/* the case keeps its armed times and its story */
	c.updated_at = v->now;
	c.updated_seq = v->seq;
	c.events++;
	core_put_case(e, was, &c, false);
	hist_key(key, c.id, v->seq);
	core_put_end(e, core_put_begin(e, DB_HIST, key, HIST_KEY_LEN, false));
	e->case_id = c.id;
	reply_changed(e, true);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- campaign milestones ---- */

nt_err core_get_milestone(const struct core_view *v, unsigned m, struct milestone_rec *ms)
{
	char key[META_MILESTONE_MAX];
	size_t klen = milestone_key(key, m);
	MDB_val val;
	nt_err rc = v->get(v->ctx, DB_META, key, klen, &val);

	if (rc == NT_ENOTFOUND) {
		memset(ms, 0, sizeof *ms);
		return NT_OK;
	}
	if (rc != NT_OK)
		return rc;
	return rec_decode(val.mv_data, val.mv_size, &milestone_desc, ms);
}

static void put_milestone(struct core_effect *e, unsigned m, const struct milestone_rec *ms)
{
	char key[META_MILESTONE_MAX];

	core_put_rec(e, DB_META, key, milestone_key(key, m), false, &milestone_desc, ms);
}

nt_err core_milestones_rearm(const struct core_view *v, struct core_effect *e,
			     const struct campaign_rec *g)
{
	for (unsigned m = 0; m < MS__N; m++) {
		struct milestone_rec ms;
		int64_t by = campaign_by(g, m);
		uint8_t key[TIMER_KEY_LEN];
		nt_err rc;

		if ((rc = core_get_milestone(v, m, &ms)) != NT_OK)
			return rc;
		if (ms.by == by)
			continue;	/* the same date: its chase goes on where it is */
		if (ms.at != 0) {
			milestone_timer_key(key, ms.at, m);
			core_del(e, DB_TIMERS, key, sizeof key);
		}
		memset(&ms, 0, sizeof ms);
		ms.by = by;
		if (by != 0) {
			/* even a date already past: the chase then starts at once */
			ms.at = chase_time(v, by, 0);
			milestone_timer_key(key, ms.at, m);
			core_put_end(e, core_put_begin(e, DB_TIMERS, key, sizeof key, false));
		}
		put_milestone(e, m, &ms);
	}
	return NT_OK;
}

/*
 * campaign.missing: one unit's notice that some of its people have not done their part
 * of a milestone. The daemon's loop, firing a milestone's timer, reads who is missing from
 * what is committed and sends one per unit, in unit id order, then milestone.fire. The
 * milestone's cursor makes each unit's notice happen once per level: after a crash the
 * loop sends again only the units after it, and a notice for a unit at or before it
 * changes nothing.
 */

enum { MS_F_MILESTONE, MS_F_DUE, MS_F_LEVEL, MS_F_UNIT, MS_F_PEOPLE, MS_F_MORE, MS_F_CASES,
       MS_F_HOUSEHOLDS };
static const struct proto_field missing_fields[] = {
	[MS_F_MILESTONE] = { "milestone", PT_STR, true, 1, 16, 0, milestone_names },
	[MS_F_DUE] = { "due", PT_UINT, true, 1, INT64_MAX, 0, NULL },
	[MS_F_LEVEL] = { "level", PT_UINT, true, 0, CORE_MAX_LADDER, 0, NULL },
	[MS_F_UNIT] = { "unit", PT_ID, true, 0, 0, 0, NULL },
	/* none: a village whose households have no cadre (the pair milestone) */
	[MS_F_PEOPLE] = { "people", PT_IDS, true, 0, CORE_MISSING_MAX_PEOPLE, 0, NULL },
	[MS_F_MORE] = { "more", PT_UINT, false, 0, UINT32_MAX, 0, NULL },
	[MS_F_CASES] = { "cases", PT_UINT, false, 0, UINT32_MAX, 0, NULL },
	[MS_F_HOUSEHOLDS] = { "households", PT_UINT, false, 0, UINT32_MAX, 0, NULL },
};

/* The keys every milestone entry begins with: milestone, by, due, late, level. */
static uint32_t pack_milestone_head(struct core_effect *e, const struct core_view *v,
				    unsigned m, int64_t by, int64_t due, uint32_t level)
{
	proto_kv_cstr(&e->buf, "milestone", milestone_names[m]);
	pack_date(e, "by", by);
	proto_kv_i64(&e->buf, "due", due);
	proto_kv_bool(&e->buf, "late", v->now - due >= LATE_MS);
	proto_kv_u64(&e->buf, "level", level);
	return 5;
}

static nt_err campaign_missing(const struct core_view *v, const struct core_req *r,
			       struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	unsigned m = (unsigned)rec_enum_find(milestone_names, a[MS_F_MILESTONE].s);
	int64_t due = (int64_t)a[MS_F_DUE].u;
	uint32_t level = (uint32_t)a[MS_F_LEVEL].u;
	const msgpack_object *people = a[MS_F_PEOPLE].o;
	struct milestone_rec ms;
	nt_err rc;

	(void)why;
	(void)whylen;
	if ((rc = core_get_milestone(v, m, &ms)) != NT_OK)
		return rc;
	if (ms.at != due || ms.level != level ||
	    (ms.cursor.len > 0 && proto_str_cmp(a[MS_F_UNIT].s, ms.cursor) <= 0)) {
		reply_changed(e, false);	/* told already, or the milestone moved */
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	ms.cursor = a[MS_F_UNIT].s;
	ms.units++;
	put_milestone(e, m, &ms);

	e->topic = "campaign.missing";
	core_kvs_begin(e, &e->entry);
	e->entry.n = pack_milestone_head(e, v, m, ms.by, due, level);
	proto_kv_str(&e->buf, "unit", a[MS_F_UNIT].s);
	proto_pack_cstr(&e->buf, "missing");
	msgpack_pack_array(&e->buf.pk, people->via.array.size);
	for (uint32_t i = 0; i < people->via.array.size; i++) {
		struct person_rec p;
		proto_str id;

		proto_obj_str(&people->via.array.ptr[i], &id);
		msgpack_pack_map(&e->buf.pk, 2);
		proto_kv_str(&e->buf, "person", id);
		if ((rc = core_get_person(v, id, &p)) == NT_OK)
			proto_kv_str(&e->buf, "name", p.name);
		else if (rc == NT_ENOTFOUND)
			proto_kv_nil(&e->buf, "name");
		else
			return rc;
	}
	proto_kv_u64(&e->buf, "more", a[MS_F_MORE].u);
	proto_kv_u64(&e->buf, "cases", a[MS_F_CASES].u);
	if (a[MS_F_HOUSEHOLDS].set) {
		proto_kv_u64(&e->buf, "households", a[MS_F_HOUSEHOLDS].u);
		e->entry.n++;
	}
	if (level == 0 && people->via.array.size > 0) {
		/* the people named are told themselves */
		proto_pack_cstr(&e->buf, "notify");
		msgpack_pack_map(&e->buf.pk, 1);
		proto_kv_obj(&e->buf, "people", people);
	} else if (level == 0) {
		/* nobody to name (households without a cadre): the unit's head */
		proto_pack_cstr(&e->buf, "notify");
		msgpack_pack_map(&e->buf.pk, 2);
		proto_kv_cstr(&e->buf, "role", role_name(ROLE_HEAD));
		proto_kv_str(&e->buf, "unit", a[MS_F_UNIT].s);
	} else {
		pack_notify(e, v, level, a[MS_F_UNIT].s);
	}
	e->entry.n += 5;
	core_kvs_end(e, &e->entry);
	reply_changed(e, true);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/*
 * milestone.fire: the end of one level of a milestone's chase, after its campaign.missing
 * notices: the timer is deleted and, if anyone was missing, the next level is armed, in
 * one transaction with the log entry `campaign.milestone` that sums it up.
 */
enum { MF_MILESTONE, MF_DUE, MF_MISSING };
static const struct proto_field milestone_fire_fields[] = {
	[MF_MILESTONE] = { "milestone", PT_STR, true, 1, 16, 0, milestone_names },
	[MF_DUE] = { "due", PT_UINT, true, 1, INT64_MAX, 0, NULL },
	[MF_MISSING] = { "missing", PT_BOOL, true, 0, 0, 0, NULL },
};

static nt_err milestone_fire(const struct core_view *v, const struct core_req *r,
			     struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	const struct core_policy *pol = core_policy_of(v);
	unsigned m = (unsigned)rec_enum_find(milestone_names, a[MF_MILESTONE].s);
	int64_t due = (int64_t)a[MF_DUE].u;
	uint8_t key[TIMER_KEY_LEN];
	struct milestone_rec ms;
	uint32_t level, units;
	nt_err rc;

	(void)why;
	(void)whylen;
	if ((rc = core_get_milestone(v, m, &ms)) != NT_OK)
		return rc;
	if (ms.at != due) {
		/* moved by a campaign.set meanwhile: the key, if still there, is a stray */
		milestone_timer_key(key, due, m);
		core_del(e, DB_TIMERS, key, sizeof key);
		reply_changed(e, false);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	milestone_timer_key(key, ms.at, m);
	core_del(e, DB_TIMERS, key, sizeof key);
	level = ms.level;
	units = ms.units;
	ms.at = 0;
	ms.cursor = PROTO_STR_NULL;
	ms.units = 0;
	if (a[MF_MISSING].b && level + 1 <= pol->nladder) {
		ms.level = level + 1;
		ms.at = chase_time(v, ms.by, ms.level);
		milestone_timer_key(key, ms.at, m);
		core_put_end(e, core_put_begin(e, DB_TIMERS, key, sizeof key, false));
	}
	put_milestone(e, m, &ms);

	e->topic = "campaign.milestone";
	core_kvs_begin(e, &e->entry);
	e->entry.n = pack_milestone_head(e, v, m, ms.by, due, level);
	proto_kv_u64(&e->buf, "units", units);
	if (ms.at != 0)
		proto_kv_i64(&e->buf, "next_at", ms.at);
	else
		proto_kv_nil(&e->buf, "next_at");
	e->entry.n += 2;
	core_kvs_end(e, &e->entry);
	reply_changed(e, true);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- a new calendar ---- */

bool core_case_recalendar_wanted(const struct case_rec *c)
{
	if (c->step >= STEP_CROSSED_OFF)
		return false;
	return c->deadline_basis == BASIS_WORKING_DAYS || c->step_limit != 0 ||
	       c->timer_at[SLOT_REMIND_FAR] != 0 || c->timer_at[SLOT_REMIND_NEAR] != 0 ||
	       c->timer_at[SLOT_CHASE] != 0;
}

/*
 * case.recalendar: the daemon's own write, for each case whose deadlines or timers depend
 * on the calendar, after the calendar changed. A deadline or a step's last day that
 * moved is a `deadline.moved` entry that tells the lead; timers that only move in time
 * are stored without an entry; a case the new calendar does not change is not written.
 */
enum { RC_CASE };
static const struct proto_field recal_fields[] = {
	[RC_CASE] = { "case", PT_UINT, true, 1, UINT64_MAX, 0, NULL },
};

static nt_err case_recalendar(const struct core_view *v, const struct core_req *r,
			      struct core_effect *e, char *why, size_t whylen)
{
	struct case_rec c;
	int64_t deadline, step_due, was[SLOT__N];
	uint8_t key[HIST_KEY_LEN];
	bool moved;
	nt_err rc;

	if ((rc = core_get_case(v, r->args[RC_CASE].u, &c)) == NT_ENOTFOUND) {
		snprintf(why, whylen, "no case %" PRIu64, r->args[RC_CASE].u);
		return rc;
	}
	if (rc != NT_OK)
		return rc;
	deadline = c.deadline;
	step_due = c.step_due;
	memcpy(was, c.timer_at, sizeof was);
	moved = core_case_recalendar(v, &c);
	if (!moved && memcmp(was, c.timer_at, sizeof was) == 0) {
		reply_changed(e, false);	/* the same under the new calendar */
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	reply_changed(e, true);
	if (moved) {
		c.updated_at = v->now;
		c.updated_seq = v->seq;
		c.events++;
		hist_key(key, c.id, v->seq);
		core_put_end(e, core_put_begin(e, DB_HIST, key, HIST_KEY_LEN, false));
		e->topic = "deadline.moved";
		e->case_id = c.id;
		core_kvs_begin(e, &e->entry);
		proto_kv_str(&e->buf, "lead", c.lead);
		proto_kv_str(&e->buf, "unit", c.unit);
		proto_kv_str(&e->buf, "title", c.title);
		pack_date(e, "deadline", c.deadline);
		pack_date(e, "old_deadline", deadline);
		pack_date(e, "step_due", c.step_due);
		pack_date(e, "old_step_due", step_due);
		proto_kv_cstr(&e->buf, "reason", "the working-day calendar changed");
		pack_notify_person(e, c.lead);
		e->entry.n = 9;
		core_kvs_end(e, &e->entry);
	}
	core_put_case(e, was, &c, false);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/*
 * calendar.adopt: the end of a pass of case.recalendar over the ledger: the new calendar's
 * fingerprint is recorded, and the milestones' chases are timed by it. Until this
 * commits, a restart runs the pass again (each case.recalendar is idempotent).
 */
enum { CA_FINGERPRINT };
static const struct proto_field adopt_fields[] = {
	[CA_FINGERPRINT] = { "fingerprint", PT_UINT, true, 0, UINT64_MAX, 0, NULL },
};

static nt_err calendar_adopt(const struct core_view *v, const struct core_req *r,
			     struct core_effect *e, char *why, size_t whylen)
{
	uint8_t fp[8], key[TIMER_KEY_LEN];
	char hex[17];
	MDB_val old;
	bool first;
	nt_err rc;

	(void)why;
	(void)whylen;
	rc = v->get(v->ctx, DB_META, META_CALENDAR, strlen(META_CALENDAR), &old);
	if (rc != NT_OK && rc != NT_ENOTFOUND)
		return rc;
	first = rc == NT_ENOTFOUND;
	if (!first && old.mv_size == 8 && ledger_u64(old.mv_data) == r->args[CA_FINGERPRINT].u) {
		reply_changed(e, false);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	for (unsigned m = 0; m < MS__N; m++) {
		struct milestone_rec ms;
		int64_t at;

		if ((rc = core_get_milestone(v, m, &ms)) != NT_OK)
			return rc;
		if (ms.at == 0 || (at = chase_time(v, ms.by, ms.level)) == ms.at)
			continue;
		milestone_timer_key(key, ms.at, m);
		core_del(e, DB_TIMERS, key, sizeof key);
		ms.at = at;
		milestone_timer_key(key, ms.at, m);
		core_put_end(e, core_put_begin(e, DB_TIMERS, key, sizeof key, false));
		put_milestone(e, m, &ms);
	}
	ledger_key_u64(fp, r->args[CA_FINGERPRINT].u);
	{
		struct core_put *p = core_put_begin(e, DB_META, META_CALENDAR,
						    strlen(META_CALENDAR), false);

		proto_out_raw(&e->buf, fp, sizeof fp);
		core_put_end(e, p);
	}
	reply_changed(e, true);
	if (first)
		/* the first recorded: nothing to announce (the pass told each lead whose
		 * deadline moved) */
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	e->topic = "calendar.changed";
	core_kvs_begin(e, &e->entry);
	snprintf(hex, sizeof hex, "%016" PRIx64, r->args[CA_FINGERPRINT].u);
	proto_kv_cstr(&e->buf, "fingerprint", hex);
	snprintf(hex, sizeof hex, "%016" PRIx64, old.mv_size == 8 ? ledger_u64(old.mv_data) : 0);
	proto_kv_cstr(&e->buf, "old_fingerprint", hex);
	e->entry.n = 2;
	core_kvs_end(e, &e->entry);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

#define N(a) (sizeof a / sizeof a[0])

const struct op core_timer_ops[] = {
	{ "case.recalendar", true, recal_fields, N(recal_fields), case_recalendar, NULL, NULL,
	  true },
	{ "calendar.adopt", true, adopt_fields, N(adopt_fields), calendar_adopt, NULL, NULL,
	  true },
	{ "timer.fire", true, fire_fields, N(fire_fields), timer_fire, NULL, NULL, true },
	{ "campaign.missing", true, missing_fields, N(missing_fields), campaign_missing, NULL,
	  NULL, true },
	{ "milestone.fire", true, milestone_fire_fields, N(milestone_fire_fields),
	  milestone_fire, NULL, NULL, true },
};
const size_t core_timer_nops = N(core_timer_ops);
