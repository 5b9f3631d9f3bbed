/*
 * core_case.c - the ops on cases: opening one, the seven steps with their evidence, and
 * what may happen at any time (notes, reassignment, escalation, reopening, the petition's
 * guarantees and repeat petitions).
 *
 * Every op but case.open goes through one path, case_step(): load the actor and the case,
 * check who may (the op's relations, perm.h), check where the case stands (the op's
 * steps), then the op's own function decides and changes the case. The path then stores
 * the case, links the log entry into the case's history, and builds the entry (the
 * request's evidence as sent, the new step, and what the op adds) and the reply. So each
 * op is a row of a table and a short function that holds only its own rules; the rules
 * are drawn in docs/workflow.md.
 *
 * A refusal names what is missing: invalid_transition says which step or evidence must
 * come first and which op records it; forbidden says which rule refused.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "perm.h"

#define BIT(step) (1u << (step))
/* The first key of every op on an existing case. */
#define CASE_ARG { "case", PT_UINT, true, 1, UINT64_MAX, 0, NULL }
/* A free text of evidence: a summary, a reason, a note. */
#define TEXT_ARG(key, req) { key, PT_STR, req, 1, CASE_MAX_TEXT, 0, NULL }
#define ANY_OPEN (BIT(STEP_IDENTIFIED) | BIT(STEP_PLANNED) | BIT(STEP_COMMITTED) | \
		  BIT(STEP_RESOLVED) | BIT(STEP_JOURNALED))
#define ANY_STEP (ANY_OPEN | BIT(STEP_CROSSED_OFF))

/* What the case needs next, for refusals. */
static const char *next_hint(uint32_t step)
{
	static const char *const hint[] = {
		[STEP_IDENTIFIED] = "the plan comes next (case.plan)",
		[STEP_PLANNED] = "the public commitment comes next (case.commit)",
		[STEP_COMMITTED] = "the resolution comes next (case.resolve)",
		[STEP_RESOLVED] = "the journal comes next (case.journal)",
		[STEP_JOURNALED] = "verification by the theme office comes next (case.verify)",
		[STEP_CROSSED_OFF] = "it is crossed off; the theme office may reopen it "
				     "(case.reopen)",
	};
	return step <= STEP_CROSSED_OFF ? hint[step] : "";
}

/* ---- the shared path ---- */

struct step_ctx {
	const struct core_view *v;
	const struct core_req *r;
	struct core_effect *e;
	struct case_rec c;		/* the case, changed by the op */
	struct person_rec actor;
	struct campaign_rec campaign;
	unsigned rels;			/* how the actor stands to the case (perm.h) */
	const char *topic;		/* the op may change it (a journal that sends back) */
	char *why;
	size_t whylen;
};

struct step_op {
	const char *topic;
	unsigned allow;		/* enum perm_rel: who may */
	const char *rule;	/* the rule, for refusals */
	unsigned steps;		/* BIT()s of the steps it applies to */
	bool petition;		/* petitions only */
	/* Check the op's own rules and change x->c; may pack extra entry pairs into x->e->buf
	 * and count them in *extra. NT_OK, or a refusal with x->why set. */
	nt_err (*fn)(struct step_ctx *x, uint32_t *extra);
};

static nt_err refuse(struct step_ctx *x, nt_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static nt_err refuse(struct step_ctx *x, nt_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, x->whylen, fmt, ap);
	va_end(ap);
	return e;
}

/* The responsible units (an arg of PT_IDS) must all exist; copy them into c. */
static nt_err take_units(struct step_ctx *x, const struct proto_arg *a)
{
	const msgpack_object *list = a->o;
	struct unit_rec u;
	nt_err rc;

	x->c.nunits = 0;
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		proto_str id;

		proto_obj_str(&list->via.array.ptr[i], &id);
		if ((rc = core_get_unit(x->v, id, &u)) == NT_ENOTFOUND)
			return refuse(x, rc, "no unit '%.*s'", (int)id.len, id.ptr);
		if (rc != NT_OK)
			return rc;
		x->c.units[x->c.nunits++] = id;
	}
	return NT_OK;
}

/* The three ways to give a handling deadline, in this order in an op's schema. */
#define DEADLINE_ARGS(req) \
	{ "deadline", PT_DATE, false, 0, 0, 0, NULL }, \
	{ "deadline_days", PT_UINT, false, 1, 3660, 0, NULL }, \
	{ "deadline_working_days", PT_UINT, false, 1, 1000, 0, NULL }

/*
 * The deadline in a[0..2] (deadline, deadline_days, deadline_working_days): a date, or
 * days or working days counted from today; at most one of them, and one if required.
 * Sets the case's deadline and how it was computed; returns whether one was given.
 */
static nt_err take_deadline(struct step_ctx *x, const struct proto_arg *a, bool required,
			    bool *given)
{
	int64_t today = core_today(x->v);
	int n = a[0].set + a[1].set + a[2].set;

	*given = n > 0;
	if (n > 1)
		return refuse(x, NT_EBADREQ, "give the deadline one way: 'deadline', "
			      "'deadline_days' or 'deadline_working_days'");
	if (n == 0)
		return required ? refuse(x, NT_EBADREQ, "a deadline is needed: 'deadline' (a "
					 "date), 'deadline_days' or 'deadline_working_days'")
				: NT_OK;
	if (a[0].set) {
		if ((int64_t)a[0].u < today)
			return refuse(x, NT_EBADREQ, "the deadline %.*s is already past",
				      (int)a[0].s.len, a[0].s.ptr);
		x->c.deadline_basis = BASIS_DATE;
		x->c.deadline_from = 0;
		x->c.deadline_n = 0;
		x->c.deadline = (int64_t)a[0].u;
		return NT_OK;
	}
	x->c.deadline_basis = a[1].set ? BASIS_DAYS : BASIS_WORKING_DAYS;
	x->c.deadline_from = today;
	x->c.deadline_n = (uint32_t)(a[1].set ? a[1].u : a[2].u);
	x->c.deadline = core_deadline_of(x->v, x->c.deadline_basis, today, x->c.deadline_n);
	return NT_OK;
}

static nt_err check_not_future(struct step_ctx *x, const struct proto_arg *a)
{
	if ((int64_t)a->u > core_today(x->v))
		return refuse(x, NT_EBADREQ, "'%s' %.*s is in the future: record what has "
			      "happened", "date", (int)a->s.len, a->s.ptr);
	return NT_OK;
}

/* Back to work: the case waits for a new resolution, judged again by the residents. */
static void back_to_work(struct case_rec *c)
{
	c->step = STEP_COMMITTED;
	c->consultations_after = 0;
}

static nt_err case_step(const struct step_op *op, const struct core_view *v,
			const struct core_req *r, struct core_effect *e, char *why,
			size_t whylen)
{
	struct step_ctx x = { .v = v, .r = r, .e = e, .topic = op->topic, .why = why,
			      .whylen = whylen };
	uint64_t id = r->args[0].u;
	int64_t deadline, was[SLOT__N];
	bool live;
	uint32_t extra = 0, step;
	uint8_t key[HIST_KEY_LEN];
	struct core_put *p;
	nt_err rc;

	if ((rc = perm_actor(v, r->actor, &x.actor, why, whylen)) != NT_OK)
		return rc;
	if ((rc = core_get_case(v, id, &x.c)) == NT_ENOTFOUND)
		return refuse(&x, rc, "no case %" PRIu64, id);
	if (rc != NT_OK)
		return rc;
	if ((rc = perm_relations(v, &x.actor, x.c.unit, x.c.lead, x.c.taker, &x.rels)) != NT_OK)
		return rc;
	if (!(x.rels & op->allow))
		return refuse(&x, NT_EFORBIDDEN, "%s: %s (case %" PRIu64 " is led by '%.*s' in "
			      "unit '%.*s')", r->op->name, op->rule, id, (int)x.c.lead.len,
			      x.c.lead.ptr, (int)x.c.unit.len, x.c.unit.ptr);
	if (op->petition && x.c.kind != KIND_PETITION)
		return refuse(&x, NT_EBADREQ, "%s is for petition cases; case %" PRIu64 " is a %s",
			      r->op->name, id, case_kinds[x.c.kind]);
	if (!(op->steps & BIT(x.c.step)))
		return refuse(&x, NT_ETRANSITION, "%s: case %" PRIu64 " is %s; %s", r->op->name,
			      id, case_steps[x.c.step], next_hint(x.c.step));
	if ((rc = core_get_campaign(v, &x.campaign)) != NT_OK)
		return rc;
	deadline = x.c.deadline;
	live = x.c.step < STEP_RESOLVED;
	step = x.c.step;
	memcpy(was, x.c.timer_at, sizeof was);

	/* the entry: the evidence as sent (but the case id, a common key), what the op adds,
	 * then the step the case is now at */
	core_kvs_begin(e, &e->entry);
	e->entry.n = core_pack_args(e, r, 1);
	if ((rc = op->fn(&x, &extra)) != NT_OK)
		return rc;
	e->entry.n += extra;
	if (x.c.deadline != deadline) {
		/* the deadline in force from here on, however it was given: what a replay of
		 * the log (the reports) needs without the calendar */
		char d[11];

		proto_date_format(x.c.deadline, d);
		if (x.c.deadline == 0)
			proto_kv_nil(&e->buf, "new_deadline");
		else
			proto_kv_cstr(&e->buf, "new_deadline", d);
		e->entry.n++;
	}
	proto_kv_cstr(&e->buf, "step", case_steps[x.c.step]);
	e->entry.n++;
	core_kvs_end(e, &e->entry);

	/* a new deadline, or a case resolved or sent back to work: its timers follow */
	if (x.c.deadline != deadline || (x.c.step < STEP_RESOLVED) != live)
		core_timers_rearm(v, &x.c);
	/* a new step: its time limit starts today */
	if (x.c.step != step)
		core_step_rearm(v, &x.c);
	x.c.updated_at = v->now;
	x.c.updated_seq = v->seq;
	x.c.events++;
	core_put_case(e, was, &x.c, false);
	hist_key(key, id, v->seq);
	p = core_put_begin(e, DB_HIST, key, HIST_KEY_LEN, false);
	core_put_end(e, p);

	e->topic = x.topic;
	e->case_id = id;
	core_kvs_begin(e, &e->reply);
	proto_kv_u64(&e->buf, "case", id);
	proto_kv_cstr(&e->buf, "step", case_steps[x.c.step]);
	e->reply.n = 2;
	core_kvs_end(e, &e->reply);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- case.open: identify ---- */

enum { O_TITLE, O_DESCRIPTION, O_KIND, O_AREA, O_SOURCE, O_UNIT, O_LEAD, O_UNITS, O_DEADLINE,
       O_DEADLINE_DAYS, O_DEADLINE_WORKING_DAYS, O_TAGS, O_TAKER, O_PET_NAME, O_PET_ID,
       O_PET_PHONE, O_PET_ADDRESS, O_HOUSEHOLDS, O_CONSULTATION };
static const struct proto_field open_fields[] = {
	[O_TITLE] = { "title", PT_LINE, true, 1, CASE_MAX_TITLE, 0, NULL },
	[O_DESCRIPTION] = { "description", PT_STR, false, 0, CASE_MAX_TEXT, 0, NULL },
	[O_KIND] = { "kind", PT_STR, false, 1, 32, 0, case_kinds },
	[O_AREA] = { "area", PT_STR, true, 1, 32, 0, case_areas },
	[O_SOURCE] = { "source", PT_STR, false, 1, 32, 0, case_sources + 1 },
	[O_UNIT] = { "unit", PT_ID, true, 0, 0, 0, NULL },
	[O_LEAD] = { "lead", PT_ID, false, 0, 0, 0, NULL },
	[O_UNITS] = { "units", PT_IDS, false, 0, CASE_MAX_UNITS, 0, NULL },
	[O_DEADLINE] = DEADLINE_ARGS(false),
	[O_TAGS] = { "tags", PT_STRS, false, 0, CASE_MAX_TAGS, CASE_MAX_TAG, NULL },
	[O_TAKER] = { "taker", PT_ID, false, 0, 0, 0, NULL },
	[O_PET_NAME] = { "petitioner_name", PT_LINE, false, 1, MODEL_MAX_NAME, 0, NULL },
	[O_PET_ID] = { "petitioner_id_number", PT_LINE, false, 1, 32, 0, NULL },
	[O_PET_PHONE] = { "petitioner_phone", PT_LINE, false, 1, 32, 0, NULL },
	[O_PET_ADDRESS] = { "petitioner_address", PT_LINE, false, 1, CASE_MAX_TITLE, 0, NULL },
	[O_HOUSEHOLDS] = { "households", PT_IDS, false, 1, HH_MAX_CASE, 0, NULL },
	[O_CONSULTATION] = { "consultation", PT_UINT, false, 1, UINT64_MAX, 0, NULL },
};

static nt_err case_open(const struct core_view *v, const struct core_req *r,
			struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	struct step_ctx x = { .v = v, .r = r, .e = e, .topic = "case.opened", .why = why,
			      .whylen = whylen };
	struct case_rec *c = &x.c;
	struct person_rec lead, taker;
	struct unit_rec unit;
	uint8_t key[HIST_KEY_LEN];
	struct core_put *p;
	unsigned rels;
	bool given;
	nt_err rc;

	if ((rc = perm_actor(v, r->actor, &x.actor, why, whylen)) != NT_OK)
		return rc;
	c->id = v->next_case;
	c->kind = a[O_KIND].set ? (uint32_t)rec_enum_find(case_kinds, a[O_KIND].s) : KIND_PROBLEM;
	c->area = (uint32_t)rec_enum_find(case_areas, a[O_AREA].s);
	c->source = a[O_SOURCE].set ? (uint32_t)rec_enum_find(case_sources, a[O_SOURCE].s) : 0;
	c->title = a[O_TITLE].s;
	c->description = a[O_DESCRIPTION].set ? a[O_DESCRIPTION].s : PROTO_STR_NULL;
	c->unit = a[O_UNIT].s;
	c->lead = a[O_LEAD].set ? a[O_LEAD].s : r->actor;
	c->taker = a[O_TAKER].set ? a[O_TAKER].s : PROTO_STR_NULL;

	if ((rc = core_get_unit(v, c->unit, &unit)) == NT_ENOTFOUND)
		return refuse(&x, rc, "no unit '%.*s'", (int)c->unit.len, c->unit.ptr);
	if (rc != NT_OK)
		return rc;
	if ((rc = core_get_person(v, c->lead, &lead)) == NT_ENOTFOUND)
		return refuse(&x, rc, "no person '%.*s' to lead the case", (int)c->lead.len,
			      c->lead.ptr);
	if (rc != NT_OK)
		return rc;
	if ((rc = perm_relations(v, &x.actor, c->unit, c->lead, c->taker, &rels)) != NT_OK)
		return rc;
	if (!(rels & REL_THEME) && !((rels & REL_REACH) && (rels & (REL_LEAD | REL_HEAD))))
		return refuse(&x, NT_EFORBIDDEN, "case.open: a case is identified within one's "
			      "reach, by its lead, a unit head above it or the theme office ('%.*s' "
			      "may not open a case in '%.*s' led by '%.*s')", (int)r->actor.len,
			      r->actor.ptr, (int)c->unit.len, c->unit.ptr, (int)c->lead.len,
			      c->lead.ptr);
	if (!(rels & (REL_THEME | REL_LEAD))) {
		/* a unit head opens cases for the people of the unit and its sub-units */
		bool within;

		if ((rc = perm_within(v, lead.unit, x.actor.unit, &within)) != NT_OK)
			return rc;
		if (!within)
			return refuse(&x, NT_EFORBIDDEN, "case.open: a unit head opens cases for "
				      "people of the unit and its sub-units, and '%.*s' is in '%.*s', "
				      "outside '%.*s'", (int)c->lead.len, c->lead.ptr,
				      (int)lead.unit.len, lead.unit.ptr, (int)x.actor.unit.len,
				      x.actor.unit.ptr);
	}
	if (c->kind == KIND_PETITION && c->taker.len == 0)
		return refuse(&x, NT_EBADREQ, "a petition case needs 'taker': the case-taking "
			      "leader");
	if (c->kind != KIND_PETITION && c->taker.len > 0)
		return refuse(&x, NT_EBADREQ, "'taker' is for petition cases");
	for (int i = O_PET_NAME; i <= O_PET_ADDRESS; i++)
		if (a[i].set && c->kind != KIND_PETITION)
			return refuse(&x, NT_EBADREQ, "'%s' is for petition cases",
				      open_fields[i].key);
	c->petitioner_name = a[O_PET_NAME].set ? a[O_PET_NAME].s : PROTO_STR_NULL;
	c->petitioner_id_number = a[O_PET_ID].set ? a[O_PET_ID].s : PROTO_STR_NULL;
	c->petitioner_phone = a[O_PET_PHONE].set ? a[O_PET_PHONE].s : PROTO_STR_NULL;
	c->petitioner_address = a[O_PET_ADDRESS].set ? a[O_PET_ADDRESS].s : PROTO_STR_NULL;
	if (c->taker.len > 0) {
		if ((rc = core_get_person(v, c->taker, &taker)) == NT_ENOTFOUND)
			return refuse(&x, rc, "no person '%.*s' to take the case", (int)c->taker.len,
				      c->taker.ptr);
		if (rc != NT_OK)
			return rc;
		if (!(taker.roles & (ROLE_COUNTY | ROLE_LEADER)))
			return refuse(&x, NT_EBADREQ, "'%.*s' cannot take a petition case: the "
				      "case-taking leader is a county leader or a leadership member",
				      (int)c->taker.len, c->taker.ptr);
	}
	if (a[O_UNITS].set && (rc = take_units(&x, &a[O_UNITS])) != NT_OK)
		return rc;
	if ((rc = core_case_households(v, &x.actor, c, &a[O_HOUSEHOLDS], &a[O_CONSULTATION], e,
				       why, whylen)) != NT_OK)
		return rc;
	if ((rc = take_deadline(&x, &a[O_DEADLINE], false, &given)) != NT_OK)
		return rc;
	if (!given && c->kind < KIND__N && core_policy_of(v)->handling[c->kind].n != 0) {
		/* the kind's handling time limit, from today */
		c->deadline_basis = core_policy_of(v)->handling[c->kind].basis;
		c->deadline_from = core_today(v);
		c->deadline_n = core_policy_of(v)->handling[c->kind].n;
		c->deadline = core_deadline_of(v, c->deadline_basis, c->deadline_from,
					       c->deadline_n);
	}
	if (a[O_TAGS].set) {
		const msgpack_object *t = a[O_TAGS].o;

		for (uint32_t i = 0; i < t->via.array.size; i++)
			proto_obj_str(&t->via.array.ptr[i], &c->tags[c->ntags++]);
	}
	c->step = STEP_IDENTIFIED;
	c->opened_by = r->actor;
	c->opened_at = c->updated_at = v->now;
	c->opened_seq = c->updated_seq = v->seq;
	c->events = 1;
	core_timers_rearm(v, c);
	core_step_rearm(v, c);
	core_put_case(e, NULL, c, true);
	hist_key(key, c->id, v->seq);
	p = core_put_begin(e, DB_HIST, key, HIST_KEY_LEN, true);
	core_put_end(e, p);

	e->topic = x.topic;
	e->case_id = c->id;
	e->new_case = true;
	/* the entry: the whole new case but what identifies the petitioner, which stays in
	 * the record (docs/security.md, "Sensitive fields") */
	core_kvs_begin(e, &e->entry);
	e->entry.n = rec_pack_pairs(&e->buf, &case_desc, c, 0, REC_KEY | REC_SENSITIVE);
	core_kvs_end(e, &e->entry);
	core_kvs_begin(e, &e->reply);
	proto_kv_u64(&e->buf, "case", c->id);
	proto_kv_cstr(&e->buf, "step", case_steps[c->step]);
	e->reply.n = 2;
	core_kvs_end(e, &e->reply);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- the steps ---- */

enum { PL_CASE, PL_MEASURES, PL_SCHEDULE, PL_DEADLINE, PL_DEADLINE_DAYS,
       PL_DEADLINE_WORKING_DAYS, PL_UNITS, PL_LEAD };
static const struct proto_field plan_fields[] = {
	[PL_CASE] = CASE_ARG,
	[PL_MEASURES] = TEXT_ARG("measures", true),
	[PL_SCHEDULE] = TEXT_ARG("schedule", true),
	[PL_DEADLINE] = DEADLINE_ARGS(true),
	[PL_UNITS] = { "units", PT_IDS, true, 1, CASE_MAX_UNITS, 0, NULL },
	[PL_LEAD] = { "lead", PT_ID, false, 0, 0, 0, NULL },
};

static nt_err do_plan(struct step_ctx *x, uint32_t *extra)
{
	const struct proto_arg *a = x->r->args;
	bool given;
	nt_err rc;

	(void)extra;
	if (a[PL_LEAD].set && !proto_str_same(a[PL_LEAD].s, x->c.lead))
		return refuse(x, NT_ECONFLICT, "the plan confirms the lead, and case %" PRIu64
			      " is led by '%.*s'; a new lead is assigned with case.reassign",
			      x->c.id, (int)x->c.lead.len, x->c.lead.ptr);
	if ((rc = take_deadline(x, &a[PL_DEADLINE], true, &given)) != NT_OK ||
	    (rc = take_units(x, &a[PL_UNITS])) != NT_OK)
		return rc;
	x->c.step = STEP_PLANNED;
	x->c.planned_at = x->v->now;
	x->c.plan_seq = x->v->seq;
	return NT_OK;
}

enum { CS_CASE, CS_DATE, CS_PLACE, CS_RESIDENTS, CS_SUMMARY, CS_CHANGES };
static const struct proto_field consult_fields[] = {
	[CS_CASE] = CASE_ARG,
	[CS_DATE] = { "date", PT_DATE, true, 0, 0, 0, NULL },
	[CS_PLACE] = { "place", PT_LINE, true, 1, CASE_MAX_TITLE, 0, NULL },
	[CS_RESIDENTS] = { "residents", PT_UINT, true, 1, 1000000, 0, NULL },
	[CS_SUMMARY] = TEXT_ARG("summary", true),
	[CS_CHANGES] = TEXT_ARG("changes", false),
};

static nt_err do_consult(struct step_ctx *x, uint32_t *extra)
{
	nt_err rc;

	(void)extra;
	if ((rc = check_not_future(x, &x->r->args[CS_DATE])) != NT_OK)
		return rc;
	x->c.consultations++;
	if (x->c.step >= STEP_RESOLVED)
		x->c.consultations_after++;
	if (x->c.first_consulted_at == 0)
		x->c.first_consulted_at = x->v->now;
	return NT_OK;
}

static const char *const venues[] = { "county_news", "notice_board", NULL };
enum { CM_CASE, CM_VENUE, CM_DATE, CM_REF, CM_BOARD };
static const struct proto_field commit_fields[] = {
	[CM_CASE] = CASE_ARG,
	[CM_VENUE] = { "venue", PT_STR, true, 1, 16, 0, venues },
	[CM_DATE] = { "date", PT_DATE, true, 0, 0, 0, NULL },
	[CM_REF] = { "ref", PT_LINE, true, 1, CASE_MAX_TITLE, 0, NULL },
	[CM_BOARD] = { "board", PT_ID, false, 0, 0, 0, NULL },
};

static nt_err do_commit(struct step_ctx *x, uint32_t *extra)
{
	const struct proto_arg *a = x->r->args;
	bool board = proto_str_eq(a[CM_VENUE].s, "notice_board");
	nt_err rc;

	(void)extra;
	if (x->c.consultations == 0)
		return refuse(x, NT_ETRANSITION, "case.commit: the plan is made with the residents: "
			      "record at least one consultation (case.consult) before the commitment "
			      "is published");
	if (board && !a[CM_BOARD].set)
		return refuse(x, NT_EBADREQ, "a commitment on a notice board names the village "
			      "('board')");
	if (!board && a[CM_BOARD].set)
		return refuse(x, NT_EBADREQ, "'board' is for commitments on a village notice board");
	if (board) {
		struct unit_rec u;

		if ((rc = core_get_unit(x->v, a[CM_BOARD].s, &u)) != NT_OK && rc != NT_ENOTFOUND)
			return rc;
		if (rc == NT_ENOTFOUND || u.kind != UNIT_VILLAGE)
			return refuse(x, NT_EBADREQ, "'%.*s' is not a village", (int)a[CM_BOARD].s.len,
				      a[CM_BOARD].s.ptr);
	}
	if ((rc = check_not_future(x, &a[CM_DATE])) != NT_OK)
		return rc;
	x->c.step = STEP_COMMITTED;
	x->c.committed_at = x->v->now;
	x->c.commit_seq = x->v->seq;
	return NT_OK;
}

static const char *const forms[] = {
	"coordination", "handover", "onsite", "decision", "team", NULL
};
enum { CO_CASE, CO_FORM, CO_DATE, CO_SUMMARY, CO_UNITS };
static const struct proto_field coordinate_fields[] = {
	[CO_CASE] = CASE_ARG,
	[CO_FORM] = { "form", PT_STR, true, 1, 16, 0, forms },
	[CO_DATE] = { "date", PT_DATE, true, 0, 0, 0, NULL },
	[CO_SUMMARY] = TEXT_ARG("summary", true),
	[CO_UNITS] = { "units", PT_IDS, false, 0, CASE_MAX_UNITS, 0, NULL },
};

static nt_err do_coordinate(struct step_ctx *x, uint32_t *extra)
{
	const struct proto_arg *a = x->r->args;
	const msgpack_object *list = a[CO_UNITS].o;
	nt_err rc;

	(void)extra;
	if ((rc = check_not_future(x, &a[CO_DATE])) != NT_OK)
		return rc;
	for (uint32_t i = 0; a[CO_UNITS].set && i < list->via.array.size; i++) {
		struct unit_rec u;
		proto_str id;

		proto_obj_str(&list->via.array.ptr[i], &id);
		if ((rc = core_get_unit(x->v, id, &u)) == NT_ENOTFOUND)
			return refuse(x, rc, "no unit '%.*s'", (int)id.len, id.ptr);
		if (rc != NT_OK)
			return rc;
	}
	x->c.coordinations++;
	return NT_OK;
}

enum { RS_CASE, RS_SUMMARY };
static const struct proto_field resolve_fields[] = {
	[RS_CASE] = CASE_ARG,
	[RS_SUMMARY] = TEXT_ARG("summary", true),
};

static nt_err do_resolve(struct step_ctx *x, uint32_t *extra)
{
	(void)extra;
	if (x->c.coordinations == 0)
		return refuse(x, NT_ETRANSITION, "case.resolve: the joint mechanism comes before the "
			      "resolution: record a coordination (case.coordinate) first");
	x->c.step = STEP_RESOLVED;
	x->c.resolved_at = x->v->now;
	x->c.consultations_after = 0;
	return NT_OK;
}

enum { J_CASE, J_PROCESS, J_RESULT, J_SATISFIED, J_BASIC, J_DISSATISFIED };
static const struct proto_field journal_fields[] = {
	[J_CASE] = CASE_ARG,
	[J_PROCESS] = TEXT_ARG("process", true),
	[J_RESULT] = TEXT_ARG("result", true),
	[J_SATISFIED] = { "satisfied", PT_UINT, true, 0, 1000000, 0, NULL },
	[J_BASIC] = { "basically_satisfied", PT_UINT, true, 0, 1000000, 0, NULL },
	[J_DISSATISFIED] = { "dissatisfied", PT_UINT, true, 0, 1000000, 0, NULL },
};

static nt_err do_journal(struct step_ctx *x, uint32_t *extra)
{
	const struct proto_arg *a = x->r->args;
	int rate;

	if (x->c.consultations_after == 0)
		return refuse(x, NT_ETRANSITION, "case.journal: the residents judge the result: "
			      "record a consultation after the resolution (case.consult) first");
	if (a[J_SATISFIED].u + a[J_BASIC].u + a[J_DISSATISFIED].u == 0)
		return refuse(x, NT_EBADREQ, "the journal counts the residents' satisfaction: "
			      "at least one resident");
	x->c.satisfied = (uint32_t)a[J_SATISFIED].u;
	x->c.basic = (uint32_t)a[J_BASIC].u;
	x->c.dissatisfied = (uint32_t)a[J_DISSATISFIED].u;
	x->c.journaled_at = x->v->now;
	x->c.journal_seq = x->v->seq;
	rate = case_satisfaction(&x->c);
	proto_kv_u64(&x->e->buf, "satisfaction", (uint64_t)rate);
	proto_kv_u64(&x->e->buf, "threshold", x->campaign.threshold);
	*extra = 2;
	if ((uint32_t)rate >= x->campaign.threshold) {
		x->c.step = STEP_JOURNALED;
		return NT_OK;
	}
	/* the residents are not satisfied: back to work, and it counts */
	back_to_work(&x->c);
	x->c.redos++;
	proto_kv_u64(&x->e->buf, "redos", x->c.redos);
	(*extra)++;
	x->topic = "case.redo";
	return NT_OK;
}

enum { OC_CASE, OC_RULE, OC_SUMMARY };
static const struct proto_field outcome_fields[] = {
	[OC_CASE] = CASE_ARG,
	[OC_RULE] = { "rule", PT_LINE, true, 1, CASE_MAX_TITLE, 0, NULL },
	[OC_SUMMARY] = TEXT_ARG("summary", false),
};

static nt_err do_outcome(struct step_ctx *x, uint32_t *extra)
{
	(void)extra;
	x->c.outcomes++;
	return NT_OK;
}

static const char *const verdicts[] = { "cross_off", "return", NULL };
enum { V_CASE, V_VERDICT, V_REASON };
static const struct proto_field verify_fields[] = {
	[V_CASE] = CASE_ARG,
	[V_VERDICT] = { "verdict", PT_STR, true, 1, 16, 0, verdicts },
	[V_REASON] = TEXT_ARG("reason", false),
};

static nt_err do_verify(struct step_ctx *x, uint32_t *extra)
{
	const struct proto_arg *a = x->r->args;
	int rate = case_satisfaction(&x->c);

	if (proto_str_eq(a[V_VERDICT].s, "return")) {
		if (!a[V_REASON].set)
			return refuse(x, NT_EBADREQ, "sending a case back to work needs 'reason'");
		back_to_work(&x->c);
		x->c.redos++;
		proto_kv_u64(&x->e->buf, "redos", x->c.redos);
		*extra = 1;
		x->topic = "case.returned";
		return NT_OK;
	}
	if (x->c.step != STEP_JOURNALED)
		return refuse(x, NT_ETRANSITION, "case.verify: case %" PRIu64 " is %s; crossing off "
			      "needs the journal (case.journal)", x->c.id, case_steps[x->c.step]);
	if (rate < 0 || (uint32_t)rate < x->campaign.threshold)
		return refuse(x, NT_ETRANSITION, "case.verify: the residents' satisfaction is %d%%, "
			      "below the campaign's threshold of %u%%: return the case to work "
			      "(verdict return)", rate, x->campaign.threshold);
	x->c.step = STEP_CROSSED_OFF;
	x->c.crossed_at = x->v->now;
	return NT_OK;
}

enum { RO_CASE, RO_REASON };
static const struct proto_field reopen_fields[] = {
	[RO_CASE] = CASE_ARG,
	[RO_REASON] = TEXT_ARG("reason", true),
};

static nt_err do_reopen(struct step_ctx *x, uint32_t *extra)
{
	(void)extra;
	back_to_work(&x->c);
	x->c.reopens++;
	x->c.crossed_at = 0;
	return NT_OK;
}

enum { RA_CASE, RA_LEAD, RA_REASON };
static const struct proto_field reassign_fields[] = {
	[RA_CASE] = CASE_ARG,
	[RA_LEAD] = { "lead", PT_ID, true, 0, 0, 0, NULL },
	[RA_REASON] = TEXT_ARG("reason", true),
};

static nt_err do_reassign(struct step_ctx *x, uint32_t *extra)
{
	proto_str to = x->r->args[RA_LEAD].s;
	struct person_rec lead;
	bool within;
	nt_err rc;

	if (proto_str_same(to, x->c.lead))
		return refuse(x, NT_EBADREQ, "'%.*s' already leads case %" PRIu64, (int)to.len,
			      to.ptr, x->c.id);
	if ((rc = core_get_person(x->v, to, &lead)) == NT_ENOTFOUND)
		return refuse(x, rc, "no person '%.*s'", (int)to.len, to.ptr);
	if (rc != NT_OK)
		return rc;
	if (!(x->actor.roles & ROLE_THEME)) {
		/* a unit head hands the case to someone of the unit or its sub-units */
		if ((rc = perm_within(x->v, lead.unit, x->actor.unit, &within)) != NT_OK)
			return rc;
		if (!within)
			return refuse(x, NT_EFORBIDDEN, "case.reassign: a unit head reassigns within "
				      "the unit and its sub-units, and '%.*s' is in '%.*s', outside "
				      "'%.*s'", (int)to.len, to.ptr, (int)lead.unit.len,
				      lead.unit.ptr, (int)x->actor.unit.len, x->actor.unit.ptr);
	}
	proto_kv_str(&x->e->buf, "from", x->c.lead);
	*extra = 1;
	x->c.lead = to;
	return NT_OK;
}

enum { N_CASE, N_TEXT };
static const struct proto_field note_fields[] = {
	[N_CASE] = CASE_ARG,
	[N_TEXT] = TEXT_ARG("text", true),
};

static nt_err do_nothing(struct step_ctx *x, uint32_t *extra)
{
	(void)x, (void)extra;
	return NT_OK;
}

enum { E_CASE, E_REASON };
static const struct proto_field escalate_fields[] = {
	[E_CASE] = CASE_ARG,
	[E_REASON] = TEXT_ARG("reason", true),
};

static nt_err do_escalate(struct step_ctx *x, uint32_t *extra)
{
	(void)extra;
	x->c.escalations++;
	return NT_OK;
}

enum { GU_CASE, GU_PROMISE, GU_STABLE, GU_NOTE };
static const struct proto_field guarantee_fields[] = {
	[GU_CASE] = CASE_ARG,
	[GU_PROMISE] = { "promise_kept", PT_BOOL, false, 0, 0, 0, NULL },
	[GU_STABLE] = { "stable", PT_BOOL, false, 0, 0, 0, NULL },
	[GU_NOTE] = TEXT_ARG("note", false),
};

static nt_err do_guarantee(struct step_ctx *x, uint32_t *extra)
{
	const struct proto_arg *a = x->r->args;

	(void)extra;
	if (!a[GU_PROMISE].set && !a[GU_STABLE].set)
		return refuse(x, NT_EBADREQ, "say which guarantee: 'promise_kept' or 'stable'");
	if (a[GU_PROMISE].set)
		x->c.promise_kept = a[GU_PROMISE].b;
	if (a[GU_STABLE].set)
		x->c.stable = a[GU_STABLE].b;
	return NT_OK;
}

enum { RP_CASE, RP_SKIP, RP_SUMMARY };
static const struct proto_field repeat_fields[] = {
	[RP_CASE] = CASE_ARG,
	[RP_SKIP] = { "skip_level", PT_BOOL, true, 0, 0, 0, NULL },
	[RP_SUMMARY] = TEXT_ARG("summary", true),
};

static nt_err do_repeat(struct step_ctx *x, uint32_t *extra)
{
	bool reopened = x->c.step >= STEP_RESOLVED;

	/* a repeat petition counts against the case, and reopens it if it was settled */
	x->c.repeats++;
	if (x->r->args[RP_SKIP].b)
		x->c.skip_level_repeats++;
	if (reopened) {
		if (x->c.step == STEP_CROSSED_OFF) {
			x->c.reopens++;
			x->c.crossed_at = 0;
		}
		back_to_work(&x->c);
	}
	proto_kv_bool(&x->e->buf, "reopened", reopened);
	proto_kv_u64(&x->e->buf, "repeats", x->c.repeats);
	*extra = 2;
	return NT_OK;
}

/* ---- extensions (延期申请) and acknowledgements (签收) ---- */

enum { X_CASE, X_UNTIL, X_REASON };
static const struct proto_field extend_fields[] = {
	[X_CASE] = CASE_ARG,
	[X_UNTIL] = { "until", PT_DATE, true, 0, 0, 0, NULL },
	[X_REASON] = TEXT_ARG("reason", true),
};

static nt_err do_extend(struct step_ctx *x, uint32_t *extra)
{
	const struct core_policy *pol = core_policy_of(x->v);
	const struct proto_arg *a = x->r->args;
	int64_t until = (int64_t)a[X_UNTIL].u;
	int64_t today = core_today(x->v);

	(void)extra;
	if (x->c.deadline == 0)
		return refuse(x, NT_ETRANSITION, "case.extend: case %" PRIu64 " has no deadline "
			      "to extend", x->c.id);
	if (today > x->c.deadline)
		return refuse(x, NT_ETRANSITION, "case.extend: an extension is asked before the "
			      "deadline passes, and case %" PRIu64 "'s has", x->c.id);
	if (x->c.extension_until != 0)
		return refuse(x, NT_ECONFLICT, "an extension of case %" PRIu64 " is already "
			      "waiting for the theme office's decision", x->c.id);
	if (x->c.extensions >= pol->max_extensions)
		return refuse(x, NT_ETRANSITION, "case.extend: case %" PRIu64 " has had %u "
			      "extensions, the most allowed", x->c.id, x->c.extensions);
	if (until <= x->c.deadline)
		return refuse(x, NT_EBADREQ, "'until' must be after the deadline");
	if (until - x->c.deadline > (int64_t)pol->max_extension_days)
		return refuse(x, NT_EBADREQ, "an extension adds at most %u days",
			      pol->max_extension_days);
	x->c.extension_until = until;
	return NT_OK;
}

enum { XD_CASE, XD_APPROVE, XD_REASON };
static const struct proto_field decide_fields[] = {
	[XD_CASE] = CASE_ARG,
	[XD_APPROVE] = { "approve", PT_BOOL, true, 0, 0, 0, NULL },
	[XD_REASON] = TEXT_ARG("reason", false),
};

static nt_err do_decide(struct step_ctx *x, uint32_t *extra)
{
	const struct proto_arg *a = x->r->args;

	(void)extra;
	if (x->c.extension_until == 0)
		return refuse(x, NT_ETRANSITION, "case.decide_extension: no extension of case %"
			      PRIu64 " is waiting (case.extend asks for one)", x->c.id);
	if (!a[XD_APPROVE].b && !a[XD_REASON].set)
		return refuse(x, NT_EBADREQ, "refusing an extension needs 'reason'");
	if (a[XD_APPROVE].b) {
		/* the deadline moves, and case_step() re-arms its timers */
		x->c.deadline = x->c.extension_until;
		x->c.deadline_basis = BASIS_DATE;	/* a date granted: no calendar moves it */
		x->c.deadline_from = 0;
		x->c.deadline_n = 0;
		x->c.extensions++;
		x->topic = "case.extended";
	} else {
		x->topic = "case.extension_refused";
	}
	x->c.extension_until = 0;
	return NT_OK;
}

enum { A_CASE, A_LEVEL };
static const struct proto_field ack_fields[] = {
	[A_CASE] = CASE_ARG,
	[A_LEVEL] = { "level", PT_UINT, true, 0, CORE_MAX_LADDER, 0, NULL },
};

static nt_err do_ack(struct step_ctx *x, uint32_t *extra)
{
	const struct core_policy *pol = core_policy_of(x->v);
	uint32_t level = (uint32_t)x->r->args[A_LEVEL].u;
	bool may;

	(void)extra;
	if ((int64_t)level > core_chase_fired(&x->c, pol->nladder))
		return refuse(x, NT_ETRANSITION, "case.ack: level %u of case %" PRIu64 "'s chase "
			      "has not been notified", level, x->c.id);
	if (level == 0)
		may = x->rels & REL_LEAD;
	else if (pol->ladder[level - 1].role == ROLE_HEAD)
		may = x->rels & REL_HEAD;
	else
		may = (x->actor.roles & pol->ladder[level - 1].role) != 0;
	if (!may)
		return refuse(x, NT_EFORBIDDEN, "case.ack: level %u is acknowledged by whom it "
			      "notified, and '%.*s' is not", level, (int)x->actor.id.len,
			      x->actor.id.ptr);
	if (x->c.acked & (1u << level))
		return refuse(x, NT_ECONFLICT, "level %u of case %" PRIu64 " is already "
			      "acknowledged", level, x->c.id);
	/* recorded; its repeats stop, the ladder goes on: acknowledging is not acting */
	x->c.acked |= 1u << level;
	core_chase_retime(x->v, &x->c);
	return NT_OK;
}

/* ---- the table ---- */

#define LEAD_ONLY "only the case's lead advances it"

static const struct step_op step_ops[] = {
#define S_PLAN 0
	{ "case.planned", REL_LEAD, LEAD_ONLY, BIT(STEP_IDENTIFIED) | BIT(STEP_PLANNED), false,
	  do_plan },
#define S_CONSULT 1
	{ "case.consulted", REL_LEAD, LEAD_ONLY, ANY_OPEN, false, do_consult },
#define S_COMMIT 2
	{ "case.committed", REL_LEAD | REL_THEME,
	  "only the case's lead or the theme office records the commitment", BIT(STEP_PLANNED),
	  false, do_commit },
#define S_COORDINATE 3
	{ "case.coordinated", REL_LEAD, LEAD_ONLY, BIT(STEP_PLANNED) | BIT(STEP_COMMITTED), false,
	  do_coordinate },
#define S_RESOLVE 4
	{ "case.resolved", REL_LEAD, LEAD_ONLY, BIT(STEP_COMMITTED), false, do_resolve },
#define S_JOURNAL 5
	{ "case.journaled", REL_LEAD, LEAD_ONLY, BIT(STEP_RESOLVED), false, do_journal },
#define S_OUTCOME 6
	{ "case.outcome", REL_LEAD, LEAD_ONLY,
	  BIT(STEP_RESOLVED) | BIT(STEP_JOURNALED) | BIT(STEP_CROSSED_OFF), false, do_outcome },
#define S_VERIFY 7
	{ "case.crossed_off", REL_THEME, "only the theme office verifies and crosses off",
	  BIT(STEP_RESOLVED) | BIT(STEP_JOURNALED), false, do_verify },
#define S_REOPEN 8
	{ "case.reopened", REL_THEME, "only the theme office reopens a crossed-off case",
	  BIT(STEP_CROSSED_OFF), false, do_reopen },
#define S_REASSIGN 9
	{ "case.reassigned", REL_HEAD | REL_THEME,
	  "only a unit head over the case's unit or the theme office reassigns its lead",
	  ANY_OPEN, false, do_reassign },
#define S_NOTE 10
	{ "case.noted", REL_LEAD | REL_TAKER | REL_REACH | REL_THEME | REL_SUPERVISION,
	  "progress notes come from the lead, the people the case's unit is within reach of, "
	  "and the offices", ANY_STEP, false, do_nothing },
#define S_ESCALATE 11
	{ "case.escalated", REL_SUPERVISION | REL_THEME,
	  "only the supervision office or the theme office escalates", ANY_OPEN, false,
	  do_escalate },
#define S_GUARANTEE 12
	{ "case.guarantee", REL_LEAD | REL_TAKER,
	  "only the lead or the case-taking leader reports on the guarantees", ANY_STEP, true,
	  do_guarantee },
#define S_REPEAT 13
	{ "case.repeat", REL_LEAD | REL_TAKER | REL_THEME | REL_SUPERVISION,
	  "a repeat petition is recorded by the lead, the case-taking leader or the offices",
	  ANY_STEP, true, do_repeat },
#define S_EXTEND 14
	{ "case.extension_requested", REL_LEAD, "only the case's lead asks for an extension",
	  BIT(STEP_IDENTIFIED) | BIT(STEP_PLANNED) | BIT(STEP_COMMITTED), false, do_extend },
#define S_DECIDE 15
	{ "case.extended", REL_THEME, "only the theme office decides on extensions",
	  BIT(STEP_IDENTIFIED) | BIT(STEP_PLANNED) | BIT(STEP_COMMITTED), false, do_decide },
#define S_ACK 16
	{ "case.acknowledged", REL_LEAD | REL_HEAD | REL_THEME | REL_SUPERVISION | REL_REACH,
	  "a notification is acknowledged by whom it notified", ANY_STEP, false, do_ack },
};

static nt_err apply_step(const struct core_view *v, const struct core_req *r,
			 struct core_effect *e, char *why, size_t whylen)
{
	return case_step(r->op->data, v, r, e, why, whylen);
}

#define N(a) (sizeof a / sizeof a[0])
#define STEP(name, fields, i) \
	{ name, true, fields, N(fields), apply_step, NULL, &step_ops[i], false }

const struct op core_case_ops[] = {
	{ "case.open", true, open_fields, N(open_fields), case_open, NULL, NULL, false },
	STEP("case.plan", plan_fields, S_PLAN),
	STEP("case.consult", consult_fields, S_CONSULT),
	STEP("case.commit", commit_fields, S_COMMIT),
	STEP("case.coordinate", coordinate_fields, S_COORDINATE),
	STEP("case.resolve", resolve_fields, S_RESOLVE),
	STEP("case.journal", journal_fields, S_JOURNAL),
	STEP("case.outcome", outcome_fields, S_OUTCOME),
	STEP("case.verify", verify_fields, S_VERIFY),
	STEP("case.reopen", reopen_fields, S_REOPEN),
	STEP("case.reassign", reassign_fields, S_REASSIGN),
	STEP("case.note", note_fields, S_NOTE),
	STEP("case.escalate", escalate_fields, S_ESCALATE),
	STEP("case.guarantee", guarantee_fields, S_GUARANTEE),
	STEP("case.repeat", repeat_fields, S_REPEAT),
	STEP("case.extend", extend_fields, S_EXTEND),
	STEP("case.decide_extension", decide_fields, S_DECIDE),
	STEP("case.ack", ack_fields, S_ACK),
};
const size_t core_case_nops = N(core_case_ops);
