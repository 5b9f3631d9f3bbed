/*
 * coverage.c - campaign.coverage: at each milestone of the campaign, who has not done
 * their part, per unit.
 *
 * The milestones (docs/workflow.md):
 *   identify  every county leader, leadership member and village-resident cadre leads at
 *             least one case opened by identify_by;
 *   consult   every case has had its first consultation by consult_by;
 *   plan      every case has its plan by plan_by;
 *   commit    every case has its commitment published by commit_by;
 *   journal   every case has an accepted journal by journal_by;
 *   pair      every pairing cadre has a household, and every low-income and near-low-income
 *             household a cadre, by pair_by (一户一干部);
 *   visit     every paired household has had its first visit by visit_by.
 * A step counts as done by a date when the ledger recorded it on or before that day
 * (China Standard Time); what the ledger recorded later is late, and stays missing for
 * that milestone. A milestone without a date counts what is done at all.
 *
 * One read transaction, three scans: the people (into a hash table by id, pointing into
 * the map, which stays valid for the transaction), the cases, and the households (only
 * when a household milestone is asked for). The cost is linear in the ledger (a few
 * milliseconds for the demo county's cases, some tens for its 140,000 households); the
 * lists in the reply are capped.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "perm.h"

#define MILESTONES MS__N
#define COVERAGE_MAX_CASES 2000	/* case ids listed per milestone; the rest are counted */
#define OWNER_ROLES CASE_OWNER_ROLES

enum { M_IDENTIFY = MS_IDENTIFY, M_CONSULT = MS_CONSULT, M_PLAN = MS_PLAN,
       M_COMMIT = MS_COMMIT, M_JOURNAL = MS_JOURNAL, M_PAIR = MS_PAIR, M_VISIT = MS_VISIT };
#define HH_MILESTONE(m) milestone_of_households((unsigned)(m))
static const char *const milestone_rules[MILESTONES] = {
	"every county leader, leadership member and village-resident cadre leads a case "
	"identified by the date",
	"every case has had its first consultation by the date",
	"every case has its work plan by the date",
	"every case has its public commitment by the date",
	"every case has an accepted journal by the date",
	"every pairing cadre has a household, and every low-income and near-low-income "
	"household a cadre, paired by the date",
	"every paired household has had its first visit by the date",
};

enum { CV_UNIT, CV_MILESTONE };
const struct proto_field coverage_fields[COVERAGE_NFIELDS] = {
	[CV_UNIT] = { "unit", PT_ID, false, 0, 0, 0, NULL },
	[CV_MILESTONE] = { "milestone", PT_STR, false, 1, 16, 0, milestone_names },
};

struct person {
	proto_str id, name, unit;
	uint32_t roles;
	bool in_scope;		/* within the unit asked for */
	bool owns;		/* leads a case opened by identify_by */
	bool pairs;		/* a pairing cadre (perm_pairing_cadre) */
	bool paired;		/* paired with a household by pair_by */
};

/*
 * Someone or something missing a milestone: its person (index into people, or -1), and
 * the case id or the household concerned, if any. A household without a person (not
 * paired, or paired with someone no longer in the ledger) is told to its village: unit.
 */
struct miss {
	int32_t lead;
	uint64_t id;
	proto_str hh, unit;
};

struct cov {
	struct person *people;
	size_t npeople, cap;
	int32_t *slots;		/* open addressing over people, -1: empty */
	size_t nslots;
	bool households;	/* a household milestone is wanted: scan them */
	struct miss *miss[MILESTONES];
	size_t nmiss[MILESTONES], capmiss[MILESTONES];
	uint64_t expected[MILESTONES], done[MILESTONES];
	int64_t by[MILESTONES];	/* days; 0: no date */
};

static uint64_t str_hash(proto_str s)
{
	return proto_hash(s.ptr, s.len, PROTO_HASH_SEED);
}

static int32_t person_find(const struct cov *c, proto_str id)
{
	size_t i = str_hash(id) & (c->nslots - 1);

	for (;; i = (i + 1) & (c->nslots - 1)) {
		int32_t p = c->slots[i];

		if (p < 0 || proto_str_same(c->people[p].id, id))
			return p;
	}
}

static void fini(struct cov *c)
{
	free(c->people);
	free(c->slots);
	for (int m = 0; m < MILESTONES; m++)
		free(c->miss[m]);
}

static nt_err load_people(struct cov *c, struct ledger_txn *t, struct core_view *v,
			  const struct proto_arg *unit)
{
	struct ledger_iter it;
	MDB_val k, val;
	uint64_t n = ledger_count(t, DB_PEOPLE);
	nt_err rc = NT_OK;

	if (n > INT32_MAX / 4)
		return NT_ETOOLARGE;
	c->cap = (size_t)n + 1;
	for (c->nslots = 16; c->nslots < 2 * c->cap; c->nslots *= 2)
		;
	c->people = calloc(c->cap, sizeof *c->people);
	c->slots = malloc(c->nslots * sizeof *c->slots);
	if (c->people == NULL || c->slots == NULL)
		return NT_ENOMEM;
	memset(c->slots, 0xff, c->nslots * sizeof *c->slots);

	ledger_iter_init(&it, t, DB_PEOPLE, NULL, 0);
	while (rc == NT_OK && c->npeople < c->cap && ledger_iter_next(&it, &k, &val)) {
		struct person_rec p;
		struct person *x = &c->people[c->npeople];
		size_t slot;

		if (rec_decode(val.mv_data, val.mv_size, &person_desc, &p) != NT_OK) {
			rc = NT_ECORRUPT;
			break;
		}
		*x = (struct person){ p.id, p.name, p.unit, p.roles, true, false, false, false };
		if (unit->set)
			rc = perm_within(v, p.unit, unit->s, &x->in_scope);
		if (rc == NT_OK && c->households)
			rc = perm_pairing_cadre(v, &p, &x->pairs);
		slot = str_hash(p.id) & (c->nslots - 1);
		while (c->slots[slot] >= 0)
			slot = (slot + 1) & (c->nslots - 1);
		c->slots[slot] = (int32_t)c->npeople++;
	}
	ledger_iter_close(&it);
	return rc != NT_OK ? rc : t->err;
}

static nt_err add_miss(struct cov *c, int m, int32_t lead, uint64_t id, proto_str hh,
		       proto_str unit)
{
	if (c->nmiss[m] == c->capmiss[m]) {
		size_t cap = c->capmiss[m] ? 2 * c->capmiss[m] : 64;
		struct miss *p = realloc(c->miss[m], cap * sizeof *p);

		if (p == NULL)
			return NT_ENOMEM;
		c->miss[m] = p;
		c->capmiss[m] = cap;
	}
	c->miss[m][c->nmiss[m]++] = (struct miss){ lead, id, hh, unit };
	return NT_OK;
}

/* Was a step recorded at t (Unix ms; 0: never) done by day `by` (0: no date)? */
static bool done_by(const struct core_view *v, int64_t t, int64_t by)
{
	return t != 0 && (by == 0 || core_day_of(v, t) <= by);
}

static nt_err scan_cases(struct cov *c, struct ledger_txn *t, struct core_view *v,
			 const struct proto_arg *unit)
{
	struct ledger_iter it;
	MDB_val k, val;
	nt_err rc = NT_OK;

	ledger_iter_init(&it, t, DB_CASES, NULL, 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &val)) {
		struct case_rec cs;
		int32_t lead;
		bool in = true;
		bool done[MILESTONES];

		if (rec_decode(val.mv_data, val.mv_size, &case_desc, &cs) != NT_OK) {
			rc = NT_ECORRUPT;
			break;
		}
		lead = person_find(c, cs.lead);
		if (lead >= 0 && done_by(v, cs.opened_at, c->by[M_IDENTIFY]))
			c->people[lead].owns = true;
		if (unit->set && (rc = perm_within(v, cs.unit, unit->s, &in)) != NT_OK)
			break;
		if (!in)
			continue;
		done[M_CONSULT] = done_by(v, cs.first_consulted_at, c->by[M_CONSULT]);
		done[M_PLAN] = done_by(v, cs.planned_at, c->by[M_PLAN]);
		done[M_COMMIT] = done_by(v, cs.committed_at, c->by[M_COMMIT]);
		done[M_JOURNAL] = cs.step >= STEP_JOURNALED &&
				  done_by(v, cs.journaled_at, c->by[M_JOURNAL]);
		for (int m = M_CONSULT; m <= M_JOURNAL && rc == NT_OK; m++) {
			c->expected[m]++;
			if (done[m])
				c->done[m]++;
			else
				rc = add_miss(c, m, lead, cs.id, PROTO_STR_NULL, PROTO_STR_NULL);
		}
	}
	ledger_iter_close(&it);
	return rc != NT_OK ? rc : t->err;
}

/* The households: who has a cadre, who has been visited; and which cadres are paired. */
static nt_err scan_households(struct cov *c, struct ledger_txn *t, struct core_view *v,
			      const struct proto_arg *unit)
{
	struct ledger_iter it;
	proto_str scope_village = PROTO_STR_NULL;	/* the last village asked about */
	bool scope_in = true;
	MDB_val k, val;
	nt_err rc = NT_OK;

	ledger_iter_init(&it, t, DB_HOUSEHOLDS, NULL, 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &val)) {
		struct household_rec h;
		int32_t cadre = -1;
		bool paired;

		if (rec_decode(val.mv_data, val.mv_size, &household_desc, &h) != NT_OK) {
			rc = NT_ECORRUPT;
			break;
		}
		paired = h.cadre.len > 0 && done_by(v, h.paired_at, c->by[M_PAIR]);
		if (h.cadre.len > 0 && (cadre = person_find(c, h.cadre)) >= 0 && paired)
			c->people[cadre].paired = true;
		if (unit->set && !proto_str_same(scope_village, h.village)) {
			/* a register is mostly in village order: one walk up per village */
			if ((rc = perm_within(v, h.village, unit->s, &scope_in)) != NT_OK)
				break;
			scope_village = h.village;
		}
		if (!scope_in)
			continue;
		if (hh_needs_cadre(h.category)) {
			c->expected[M_PAIR]++;
			if (paired)
				c->done[M_PAIR]++;
			else
				rc = add_miss(c, M_PAIR, -1, 0, h.id, h.village);
		}
		if (rc == NT_OK && h.cadre.len > 0) {
			c->expected[M_VISIT]++;
			if (h.first_visit != 0 &&
			    (c->by[M_VISIT] == 0 || h.first_visit <= c->by[M_VISIT]))
				c->done[M_VISIT]++;
			else
				rc = add_miss(c, M_VISIT, cadre, 0, h.id, h.village);
		}
	}
	ledger_iter_close(&it);
	return rc != NT_OK ? rc : t->err;
}

static const struct cov *sort_ctx;

/* The unit a miss is told to: its person's, or a household's village. */
static proto_str miss_unit(const struct cov *c, const struct miss *x)
{
	return x->lead >= 0 ? c->people[x->lead].unit : x->unit;
}

/* Do two misses (sorted) belong to one line: the same person, or the same village? */
static bool same_line(const struct miss *a, const struct miss *b)
{
	return a->lead == b->lead && (a->lead >= 0 || proto_str_same(a->unit, b->unit));
}

/* By the unit told, then the person, then the case or household. */
static int miss_cmp(const void *pa, const void *pb)
{
	const struct miss *a = pa, *b = pb;
	int d = proto_str_cmp(miss_unit(sort_ctx, a), miss_unit(sort_ctx, b));

	if (d == 0 && a->lead != b->lead)
		d = a->lead < b->lead ? -1 : 1;
	if (d == 0 && a->id != b->id)
		d = a->id < b->id ? -1 : 1;
	if (d == 0)
		d = proto_str_cmp(a->hh, b->hh);
	return d;
}

/* One line of "missing": x's unit and person, then the list (key) of n ids. */
static void pack_person(proto_out *out, const struct cov *c, const struct miss *x,
			const char *key, uint32_t n)
{
	proto_str unit = miss_unit(c, x);

	msgpack_pack_map(&out->pk, 4);
	if (unit.len > 0)
		proto_kv_str(out, "unit", unit);
	else
		proto_kv_nil(out, "unit");	/* a lead who is no longer a person */
	if (x->lead >= 0) {
		proto_kv_str(out, "person", c->people[x->lead].id);
		proto_kv_str(out, "name", c->people[x->lead].name);
	} else {
		proto_kv_nil(out, "person");
		proto_kv_nil(out, "name");
	}
	proto_pack_cstr(out, key);
	msgpack_pack_array(&out->pk, n);
}

/* The "missing" list of a milestone counted in cases or households: one line per
 * person (or village), with their case ids or household ids; a pairing cadre without a
 * household has a line with none. */
static void pack_case_missing(proto_out *out, struct cov *c, int m, uint64_t *more)
{
	struct miss *x = c->miss[m];
	size_t n = c->nmiss[m] < COVERAGE_MAX_CASES ? c->nmiss[m] : COVERAGE_MAX_CASES;
	uint32_t groups = 0;
	bool hh = HH_MILESTONE(m);

	sort_ctx = c;
	qsort(x, c->nmiss[m], sizeof *x, miss_cmp);
	for (size_t i = 0; i < n; i++)
		groups += i == 0 || !same_line(&x[i], &x[i - 1]);
	msgpack_pack_array(&out->pk, groups);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint32_t ids = 0;

		for (; j < n && same_line(&x[j], &x[i]); j++)
			ids += hh ? x[j].hh.len > 0 : 1;
		pack_person(out, c, &x[i], hh ? "households" : "cases", ids);
		for (; i < j; i++) {
			if (!hh)
				msgpack_pack_uint64(&out->pk, x[i].id);
			else if (x[i].hh.len > 0)
				proto_pack_str(out, x[i].hh);
		}
	}
	*more = c->nmiss[m] - n;
}

/* The owners in scope without a case identified by the date, sorted by unit. */
static nt_err owner_missing(struct cov *c)
{
	for (size_t p = 0; p < c->npeople; p++) {
		struct person *x = &c->people[p];

		if ((x->roles & OWNER_ROLES) && x->in_scope) {
			c->expected[M_IDENTIFY]++;
			if (x->owns)
				c->done[M_IDENTIFY]++;
			else if (add_miss(c, M_IDENTIFY, (int32_t)p, 0, PROTO_STR_NULL,
					  PROTO_STR_NULL) != NT_OK)
				return NT_ENOMEM;
		}
	}
	sort_ctx = c;
	qsort(c->miss[M_IDENTIFY], c->nmiss[M_IDENTIFY], sizeof(struct miss), miss_cmp);
	return NT_OK;
}

/* The pairing cadres in scope without a household paired by the date. */
static nt_err cadre_missing(struct cov *c)
{
	for (size_t p = 0; p < c->npeople; p++) {
		struct person *x = &c->people[p];

		if (!x->pairs || !x->in_scope)
			continue;
		c->expected[M_PAIR]++;
		if (x->paired)
			c->done[M_PAIR]++;
		else if (add_miss(c, M_PAIR, (int32_t)p, 0, PROTO_STR_NULL, PROTO_STR_NULL) != NT_OK)
			return NT_ENOMEM;
	}
	return NT_OK;
}

/* The "missing" list of identify: the owners without a case, by unit. */
static void pack_owner_missing(proto_out *out, struct cov *c)
{
	if (owner_missing(c) != NT_OK)
		out->oom = true;	/* reported as out of memory */
	msgpack_pack_array(&out->pk, (uint32_t)c->nmiss[M_IDENTIFY]);
	for (size_t i = 0; i < c->nmiss[M_IDENTIFY]; i++)
		pack_person(out, c, &c->miss[M_IDENTIFY][i], "cases", 0);
}

nt_err coverage_query(const struct ops_query_ctx *q, const struct proto_arg *a, proto_out *out,
		      uint32_t *n, char *why, size_t whylen)
{
	int64_t today = ops_today(q);
	struct campaign_rec g;
	struct core_view v;
	struct cov c = { 0 };
	struct unit_rec u;
	char day[11];
	int only = a[CV_MILESTONE].set ? rec_enum_find(milestone_names, a[CV_MILESTONE].s) : -1;
	nt_err rc;

	ops_view(&v, q);
	if (a[CV_UNIT].set && (rc = core_get_unit(&v, a[CV_UNIT].s, &u)) != NT_OK) {
		if (rc == NT_ENOTFOUND)
			snprintf(why, whylen, "no unit '%.*s'", (int)a[CV_UNIT].s.len,
				 a[CV_UNIT].s.ptr);
		return rc;
	}
	if ((rc = core_get_campaign(&v, &g)) != NT_OK)
		return rc;
	for (unsigned m = 0; m < MILESTONES; m++)
		c.by[m] = campaign_by(&g, m);
	c.households = only < 0 || HH_MILESTONE(only);
	if ((rc = load_people(&c, q->t, &v, &a[CV_UNIT])) != NT_OK ||
	    (rc = scan_cases(&c, q->t, &v, &a[CV_UNIT])) != NT_OK ||
	    (c.households && (rc = scan_households(&c, q->t, &v, &a[CV_UNIT])) != NT_OK) ||
	    (c.households && (rc = cadre_missing(&c)) != NT_OK))
		goto out;

	if (g.name.len > 0)
		proto_kv_str(out, "campaign", g.name);
	else
		proto_kv_nil(out, "campaign");
	proto_date_format(today, day);
	proto_kv_cstr(out, "today", day);
	proto_pack_cstr(out, "milestones");
	msgpack_pack_array(&out->pk, only >= 0 ? 1 : MILESTONES);
	for (int m = 0; m < MILESTONES; m++) {
		uint64_t more = 0;

		if (only >= 0 && m != only)
			continue;
		msgpack_pack_map(&out->pk, 8);
		proto_kv_cstr(out, "milestone", milestone_names[m]);
		if (c.by[m] != 0) {
			proto_date_format(c.by[m], day);
			proto_kv_cstr(out, "by", day);
		} else {
			proto_kv_nil(out, "by");
		}
		proto_kv_bool(out, "passed", c.by[m] != 0 && c.by[m] < today);
		proto_kv_cstr(out, "rule", milestone_rules[m]);
		proto_pack_cstr(out, "missing");
		if (m == M_IDENTIFY)
			pack_owner_missing(out, &c);
		else
			pack_case_missing(out, &c, m, &more);
		proto_kv_u64(out, "expected", c.expected[m]);
		proto_kv_u64(out, "done", c.done[m]);
		proto_kv_u64(out, "more", more);
	}
	*n = 3;
	rc = out->oom ? NT_ENOMEM : NT_OK;
out:
	fini(&c);
	return rc;
}

/* ---- the daemon's campaign.missing notifications ---- */

/* Scan the ledger for the milestones whose by[] is set (a day; also sets what counts as
 * done in time). */
static nt_err scan_for(struct cov *c, struct ledger_txn *t, const struct core_view *v,
		       const int64_t by[MILESTONES], const bool want[MILESTONES])
{
	const struct proto_arg all = { 0 };
	struct core_view view = *v;
	nt_err rc;

	for (unsigned m = 0; m < MILESTONES; m++) {
		c->by[m] = by[m];
		c->households |= want[m] && HH_MILESTONE(m);
	}
	if ((rc = load_people(c, t, &view, &all)) != NT_OK ||
	    (rc = scan_cases(c, t, &view, &all)) != NT_OK ||
	    (c->households && (rc = scan_households(c, t, &view, &all)) != NT_OK) ||
	    (c->households && (rc = cadre_missing(c)) != NT_OK))
		return rc;
	if (want[M_IDENTIFY])
		return owner_missing(c);
	return NT_OK;
}

/*
 * Call fn once per unit missing milestone m (c scanned), in unit id order, with its people
 * and count (coverage_missing()); people has room for all of them.
 */
static nt_err per_unit(struct cov *c, unsigned m, proto_str *people, coverage_unit_fn fn,
		       void *arg)
{
	nt_err rc = NT_OK;
	size_t i, j, n;

	if (m != M_IDENTIFY) {
		sort_ctx = c;
		qsort(c->miss[m], c->nmiss[m], sizeof(struct miss), miss_cmp);
	}
	/* one call per unit missing it: the units of the people missing it, and the villages
	 * of households without a person (leads no longer in the ledger have no unit to
	 * tell, and are left out); sorted by unit, then person */
	for (i = 0; i < c->nmiss[m] && rc == NT_OK; i = j) {
		const struct miss *x = c->miss[m];
		proto_str unit = miss_unit(c, &x[i]);
		uint64_t count = 0;

		if (unit.len == 0) {
			j = i + 1;
			continue;
		}
		for (j = i, n = 0; j < c->nmiss[m] && proto_str_same(miss_unit(c, &x[j]), unit);
		     j++) {
			if (x[j].lead >= 0 && (n == 0 || !proto_str_same(people[n - 1],
									 c->people[x[j].lead].id)))
				people[n++] = c->people[x[j].lead].id;
			count += HH_MILESTONE(m) ? x[j].hh.len > 0 : m != M_IDENTIFY;
		}
		rc = fn(arg, unit, people, n, count);
	}
	return rc;
}

nt_err coverage_missing(struct ledger_txn *t, const struct core_view *v, unsigned m,
			int64_t by, coverage_unit_fn fn, void *arg)
{
	int64_t dates[MILESTONES] = { 0 };
	bool want[MILESTONES] = { false };
	struct cov c = { 0 };
	proto_str *people = NULL;
	nt_err rc;

	if (m >= MILESTONES)
		return NT_EINTERNAL;
	dates[m] = by;
	want[m] = true;
	if ((rc = scan_for(&c, t, v, dates, want)) != NT_OK)
		goto out;
	if ((people = malloc((c.nmiss[m] + 1) * sizeof *people)) == NULL) {
		rc = NT_ENOMEM;
		goto out;
	}
	rc = per_unit(&c, m, people, fn, arg);
out:
	free(people);
	fini(&c);
	return rc;
}

/* coverage_gaps(): a unit's gap is its people for identify, its misses for the others */
struct gaps_arg {
	coverage_gap_fn fn;
	void *arg;
	unsigned m;
};

static nt_err gap_of_unit(void *arg, proto_str unit, const proto_str *people, size_t npeople,
			  uint64_t count)
{
	const struct gaps_arg *g = arg;
	uint64_t gap = count;

	(void)people;
	if (g->m == M_IDENTIFY)
		gap = npeople;
	else if (g->m == M_PAIR)
		gap += npeople;	/* the cadres without a household are people, and misses */
	return g->fn(g->arg, g->m, unit, gap);
}

nt_err coverage_gaps(struct ledger_txn *t, const struct core_view *v,
		     const int64_t by[MILESTONES], coverage_gap_fn fn, void *arg)
{
	bool want[MILESTONES];
	struct cov c = { 0 };
	proto_str *people = NULL;
	size_t most = 0;
	bool any = false;
	nt_err rc;

	for (unsigned m = 0; m < MILESTONES; m++)
		any |= want[m] = by[m] != 0;
	if (!any)
		return NT_OK;
	if ((rc = scan_for(&c, t, v, by, want)) != NT_OK)
		goto out;
	for (unsigned m = 0; m < MILESTONES; m++)
		most = c.nmiss[m] > most ? c.nmiss[m] : most;
	if ((people = malloc((most + 1) * sizeof *people)) == NULL) {
		rc = NT_ENOMEM;
		goto out;
	}
	for (unsigned m = 0; m < MILESTONES && rc == NT_OK; m++) {
		struct gaps_arg g = { fn, arg, m };

		if (want[m])
			rc = per_unit(&c, m, people, gap_of_unit, &g);
	}
out:
	free(people);
	fini(&c);
	return rc;
}

/* ---- deadline.list: the deadlines coming up and those passed, by unit ---- */

enum { DL_UNIT, DL_WITHIN };
const struct proto_field deadline_list_fields[DEADLINE_LIST_NFIELDS] = {
	[DL_UNIT] = { "unit", PT_ID, false, 0, 0, 0, NULL },
	[DL_WITHIN] = { "within", PT_UINT, false, 0, 3660, 0, NULL },
};

#define DEADLINE_LIST_MAX 1000	/* items in a reply; the rest are counted */

struct due_case {
	int64_t deadline;
	uint64_t id;
	size_t off, len;	/* its summary, packed in the scratch buffer */
};

static int due_cmp(const void *pa, const void *pb)
{
	const struct due_case *a = pa, *b = pb;

	if (a->deadline != b->deadline)
		return a->deadline < b->deadline ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* A case's line: its summary and where its deadline stands. */
static void pack_due(proto_out *o, const struct case_rec *cs, int64_t today, size_t nladder)
{
	int64_t left = cs->deadline - today;
	int64_t level = core_chase_fired(cs, nladder);
	msgpack_pack_map(&o->pk, 9);
	proto_kv_u64(o, "case", cs->id);
	proto_kv_str(o, "title", cs->title);
	proto_kv_str(o, "unit", cs->unit);
	proto_kv_str(o, "lead", cs->lead);
	proto_kv_cstr(o, "step", case_steps[cs->step]);
	proto_pack_cstr(o, "deadline");
	{
		char d[11];

		proto_date_format(cs->deadline, d);
		proto_pack_cstr(o, d);
	}
	proto_kv_bool(o, "overdue", left < 0);
	proto_kv_i64(o, "days_left", left);
	if (level >= 0)
		proto_kv_i64(o, "level", level);
	else
		proto_kv_nil(o, "level");
}

nt_err deadline_list_query(const struct ops_query_ctx *q, const struct proto_arg *a,
			   proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	int64_t today = ops_today(q);
	int64_t horizon = today + (a[DL_WITHIN].set ? (int64_t)a[DL_WITHIN].u : 14);
	struct due_case *list = NULL;
	size_t nlist = 0, cap = 0, shown;
	struct ledger_iter it;
	struct core_view v;
	struct unit_rec u;
	proto_out scratch;
	MDB_val k, val;
	nt_err rc = NT_OK;

	ops_view(&v, q);
	if (a[DL_UNIT].set && (rc = core_get_unit(&v, a[DL_UNIT].s, &u)) != NT_OK) {
		if (rc == NT_ENOTFOUND)
			snprintf(why, whylen, "no unit '%.*s'", (int)a[DL_UNIT].s.len,
				 a[DL_UNIT].s.ptr);
		return rc;
	}
	proto_out_init(&scratch);
	ledger_iter_init(&it, q->t, DB_CASES, NULL, 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &val)) {
		struct case_rec cs;
		bool in = true;

		if (rec_decode(val.mv_data, val.mv_size, &case_desc, &cs) != NT_OK) {
			rc = NT_ECORRUPT;
			break;
		}
		/* a deadline still to meet: set, the case not yet resolved, within the horizon */
		if (cs.deadline == 0 || cs.step >= STEP_RESOLVED || cs.deadline > horizon)
			continue;
		if (a[DL_UNIT].set && (rc = perm_within(&v, cs.unit, a[DL_UNIT].s, &in)) != NT_OK)
			break;
		if (in && (rc = ops_case_visible(q, &cs, &in)) != NT_OK)
			break;
		if (!in)
			continue;
		if (nlist == cap) {
			struct due_case *more = realloc(list, (cap = cap ? 2 * cap : 256) *
							sizeof *list);

			if (more == NULL) {
				rc = NT_ENOMEM;
				break;
			}
			list = more;
		}
		list[nlist] = (struct due_case){ cs.deadline, cs.id, scratch.sb.size, 0 };
		pack_due(&scratch, &cs, today, core_policy_of(&v)->nladder);
		list[nlist].len = scratch.sb.size - list[nlist].off;
		nlist++;
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && q->t->err != NT_OK)
		rc = q->t->err;
	if (rc == NT_OK && scratch.oom)
		rc = NT_ENOMEM;
	if (rc == NT_OK) {
		char d[11];

		if (nlist > 0)
			qsort(list, nlist, sizeof *list, due_cmp);
		shown = nlist < DEADLINE_LIST_MAX ? nlist : DEADLINE_LIST_MAX;
		proto_date_format(today, d);
		proto_kv_cstr(out, "today", d);
		proto_pack_cstr(out, "items");
		msgpack_pack_array(&out->pk, (uint32_t)shown);
		for (size_t i = 0; i < shown; i++)
			proto_out_raw(out, scratch.sb.data + list[i].off, list[i].len);
		proto_kv_u64(out, "more", nlist - shown);
		*n = 3;
	}
	free(list);
	proto_out_fini(&scratch);
	return rc;
}
