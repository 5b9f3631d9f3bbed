/*
 * report_ops.c - the report read ops: report.units, report.scorecard, report.commitments
 * (docs/protocol.md section 11, "Reports"). They run on the report thread (reporter.c),
 * each in one read transaction of its own: the arithmetic is report.c's replay of the
 * log; this file reads the ledger for it, checks who may read, adds the coverage gaps and
 * the names, and packs the replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "perm.h"
#include "report.h"
#include "report_ops.h"

#define N(a) (sizeof a / sizeof a[0])

/* ---- the period and the replay ---- */

/* The county's time zone, as the days of the log are counted. */
static int utc_offset(const struct ops_query_ctx *c)
{
	return c->policy != NULL ? c->policy->utc_offset_min : MODEL_UTC_OFFSET_MIN;
}

/* The day of the first log entry (0: an empty log). */
static nt_err first_day(const struct ops_query_ctx *c, int64_t *day)
{
	uint8_t key[8];
	MDB_val v;
	proto_doc doc = { 0 };
	uint64_t at = 0;
	nt_err rc;

	*day = 0;
	ledger_key_u64(key, 1);
	if ((rc = ledger_get(c->t, DB_LOG, key, sizeof key, &v)) == NT_ENOTFOUND)
		return NT_OK;
	if (rc != NT_OK)
		return rc;
	if (proto_parse(&doc, v.mv_data, v.mv_size, NULL, 0) != NT_OK ||
	    !proto_obj_u64(proto_map_get(&doc.root, "at"), &at))
		rc = NT_ECORRUPT;
	proto_doc_fini(&doc);
	*day = proto_day_of((int64_t)at, utc_offset(c));
	return rc;
}

/* The period asked for (a[0] from, a[1] to), with its defaults (protocol.md). */
static nt_err period(const struct ops_query_ctx *c, const struct proto_arg *a, int64_t *from,
		     int64_t *to, char *why, size_t whylen)
{
	int64_t today = ops_today(c);
	struct campaign_rec g;
	struct core_view v;
	nt_err rc;

	*to = a[1].set ? (int64_t)a[1].u : today;
	if (*to > today) {
		snprintf(why, whylen, "'to' is after today: a report is of what has happened");
		return NT_EBADREQ;
	}
	if (a[0].set) {
		*from = (int64_t)a[0].u;
	} else {
		ops_view(&v, c);
		if ((rc = core_get_campaign(&v, &g)) != NT_OK)
			return rc;
		if (g.name.len > 0 && g.start != 0 && g.start <= *to)
			*from = g.start;
		else if ((rc = first_day(c, from)) != NT_OK)
			return rc;
		if (*from == 0 || *from > *to)
			*from = *to;
	}
	if (*from > *to) {
		snprintf(why, whylen, "'from' is after 'to'");
		return NT_EBADREQ;
	}
	return NT_OK;
}

/* The report of [from, to] in *out (the caller frees it, whatever the return): the unit
 * tree, then the log up to the end of the period; with the series of series_id if given. */
static nt_err replay(const struct ops_query_ctx *c, int64_t from, int64_t to,
		     proto_str series_id, struct report **out)
{
	struct report *r;
	struct ledger_iter it;
	MDB_val k, v;
	bool past = false;
	nt_err rc;

	if ((rc = report_new(out, from, to, utc_offset(c))) != NT_OK)
		return rc;
	r = *out;

	ledger_iter_init(&it, c->t, DB_UNITS, NULL, 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &v)) {
		struct unit_rec u;

		if (rec_decode(v.mv_data, v.mv_size, &unit_desc, &u) != NT_OK)
			rc = NT_ECORRUPT;
		else
			rc = report_add_unit(r, u.id, u.name, u.kind, u.parent);
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && (rc = c->t->err) == NT_OK)
		rc = report_units_done(r);
	if (rc == NT_OK && series_id.len > 0)
		rc = report_series(r, report_unit_find(r, series_id));
	if (rc != NT_OK)
		return rc;
	ledger_iter_init(&it, c->t, DB_LOG, NULL, 0);
	while (rc == NT_OK && !past && ledger_iter_next(&it, &k, &v))
		rc = report_feed(r, v.mv_data, v.mv_size, &past);
	ledger_iter_close(&it);
	if (rc == NT_OK && (rc = c->t->err) == NT_OK)
		rc = report_end(r);
	return rc;
}

static void kv_date(proto_out *o, const char *key, int64_t day)
{
	char d[11];

	if (day == 0) {
		proto_kv_nil(o, key);
		return;
	}
	proto_date_format(day, d);
	proto_kv_cstr(o, key, d);
}

/* seq (the last entry the report read), from, to, today: 4 pairs. */
static uint32_t pack_head(proto_out *o, const struct ops_query_ctx *c, const struct report *r,
			  int64_t from, int64_t to)
{
	(void)c;
	kv_date(o, "from", from);
	kv_date(o, "to", to);
	kv_date(o, "today", ops_today(c));
	proto_kv_u64(o, "report_seq", report_last_seq(r));
	return 4;
}

/* ---- who may read ---- */

/* May c's viewer read the reports of unit? */
static nt_err may_read_unit(const struct ops_query_ctx *c, proto_str unit, const char *op,
			    char *why, size_t whylen)
{
	struct core_view v;
	bool yes = false;
	nt_err rc;

	if (c->viewer == NULL || ops_county_wide(c->viewer))
		return NT_OK;
	ops_view(&v, c);
	if ((rc = perm_reaches(&v, c->viewer, unit, &yes)) != NT_OK)
		return rc;
	if (yes)
		return NT_OK;
	snprintf(why, whylen, "%s: '%.*s' reads the reports of the units in their reach, and "
		 "'%.*s' is not", op, (int)c->viewer->id.len, c->viewer->id.ptr, (int)unit.len,
		 unit.ptr);
	return NT_EFORBIDDEN;
}

/* The unit asked for, or the county (the unit without a parent). */
static nt_err root_unit(const struct ops_query_ctx *c, const struct proto_arg *a,
			struct unit_rec *u, char *why, size_t whylen)
{
	struct core_view v;
	struct ledger_iter it;
	MDB_val k, val;
	nt_err rc = NT_ENOTFOUND;

	ops_view(&v, c);
	if (a->set) {
		if ((rc = core_get_unit(&v, a->s, u)) == NT_ENOTFOUND)
			snprintf(why, whylen, "no unit '%.*s'", (int)a->s.len, a->s.ptr);
		return rc;
	}
	ledger_iter_init(&it, c->t, DB_UNITS, NULL, 0);
	while (rc == NT_ENOTFOUND && ledger_iter_next(&it, &k, &val))
		if (rec_decode(val.mv_data, val.mv_size, &unit_desc, u) == NT_OK &&
		    u->parent.len == 0)
			rc = NT_OK;
	ledger_iter_close(&it);
	if (rc == NT_ENOTFOUND)
		snprintf(why, whylen, "the ledger has no county yet (unit.put one)");
	return c->t->err != NT_OK ? c->t->err : rc;
}

/* ---- the coverage gaps ---- */

struct gap_ctx {
	const struct report *r;
	struct report_fig *figs;	/* by unit index */
};

static nt_err add_gap(void *arg, unsigned m, proto_str unit, uint64_t gap)
{
	const struct gap_ctx *g = arg;

	for (int u = report_unit_find(g->r, unit), depth = 0; u >= 0 && depth <= UNIT_MAX_DEPTH;
	     depth++) {
		proto_str id, name;
		uint32_t kind;
		int parent;

		g->figs[u].gaps[m] += gap;
		report_unit(g->r, u, &id, &name, &kind, &parent);
		u = parent;
	}
	return NT_OK;
}

/* Gaps of the milestones dated on or before `to`, into every unit's figures. */
static nt_err gaps(const struct ops_query_ctx *c, const struct report *r,
		   struct report_fig *figs, int64_t to)
{
	int64_t by[MS__N] = { 0 };
	struct gap_ctx g = { r, figs };
	struct campaign_rec camp;
	struct core_view v;
	nt_err rc;

	ops_view(&v, c);
	if ((rc = core_get_campaign(&v, &camp)) != NT_OK)
		return rc;
	for (unsigned m = 0; m < MS__N; m++) {
		int64_t d = campaign_by(&camp, m);

		if (d != 0 && d <= to) {
			by[m] = d;
			for (size_t u = 0; u < report_nunits(r); u++)
				figs[u].has_gap[m] = true;
		}
	}
	return coverage_gaps(c->t, &v, by, add_gap, &g);
}

/* ---- report.units ---- */

enum { RU_UNIT, RU_FROM, RU_TO, RU_SUB, RU_SERIES };
static const struct proto_field units_fields[] = {
	[RU_UNIT] = { "unit", PT_ID, false, 0, 0, 0, NULL },
	[RU_FROM] = { "from", PT_DATE, false, 0, 0, 0, NULL },
	[RU_TO] = { "to", PT_DATE, false, 0, 0, 0, NULL },
	[RU_SUB] = { "sub_units", PT_BOOL, false, 0, 0, 0, NULL },
	[RU_SERIES] = { "series", PT_BOOL, false, 0, 0, 0, NULL },
};

/* Where a unit ranks by progress: its percent; a unit without a case before every other
 * when people there must own one (they have not identified their problems), after every
 * other when nobody must (an office). */
static int progress_rank(const struct report_fig *f)
{
	int p = report_progress(f);

	return p >= 0 ? p : f->owners > 0 ? -1 : 101;
}

/* Laggards first: progress ascending, then overdue descending, then id (arg: the report;
 * a and b: unit indexes into figs). */
struct laggards {
	const struct report *r;
	const struct report_fig *figs;
};

static int laggard_cmp(const void *pa, const void *pb, void *arg)
{
	const struct laggards *x = arg;
	int a = *(const int *)pa, b = *(const int *)pb;
	int ra = progress_rank(&x->figs[a]), rb = progress_rank(&x->figs[b]);
	uint64_t oa = x->figs[a].v[RF_OVERDUE], ob = x->figs[b].v[RF_OVERDUE];
	proto_str ia, ib, name;
	uint32_t kind;
	int parent;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (oa != ob)
		return oa > ob ? -1 : 1;
	report_unit(x->r, a, &ia, &name, &kind, &parent);
	report_unit(x->r, b, &ib, &name, &kind, &parent);
	return proto_str_cmp(ia, ib);
}

/* Everyone who must own a case (CASE_OWNER_ROLES), counted in their unit and every unit
 * above it. */
static nt_err count_owners(const struct ops_query_ctx *c, const struct report *r,
			   struct report_fig *figs)
{
	struct ledger_iter it;
	MDB_val k, v;
	nt_err rc = NT_OK;

	ledger_iter_init(&it, c->t, DB_PEOPLE, NULL, 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &v)) {
		struct person_rec p;
		proto_str id, name;
		uint32_t kind;
		int u, parent;

		if (rec_decode(v.mv_data, v.mv_size, &person_desc, &p) != NT_OK) {
			rc = NT_ECORRUPT;
			break;
		}
		if (!(p.roles & CASE_OWNER_ROLES))
			continue;
		u = report_unit_find(r, p.unit);
		for (int depth = 0; u >= 0 && depth <= UNIT_MAX_DEPTH; depth++, u = parent) {
			figs[u].owners++;
			report_unit(r, u, &id, &name, &kind, &parent);
		}
	}
	ledger_iter_close(&it);
	return rc == NT_OK ? c->t->err : rc;
}

/* The rows of the direct sub-units of unit `of`, laggards first (with sub: theirs too). */
static nt_err pack_rows(proto_out *o, const struct report *r, const struct report_fig *figs,
			int of, bool sub, int depth)
{
	size_t n = report_nunits(r), k = 0;
	struct laggards x = { r, figs };
	int *order = malloc((n + 1) * sizeof *order);
	nt_err rc = NT_OK;

	if (order == NULL)
		return NT_ENOMEM;
	for (size_t u = 0; u < n; u++) {
		proto_str id, name;
		uint32_t kind;
		int parent;

		report_unit(r, (int)u, &id, &name, &kind, &parent);
		if (parent == of && (int)u != of)
			order[k++] = (int)u;
	}
	qsort_r(order, k, sizeof *order, laggard_cmp, &x);
	msgpack_pack_array(&o->pk, k);
	for (size_t i = 0; i < k && rc == NT_OK; i++) {
		proto_str id, name;
		uint32_t kind;
		int parent;
		size_t at;
		uint32_t pairs;

		report_unit(r, order[i], &id, &name, &kind, &parent);
		at = proto_map_begin(o);
		proto_kv_str(o, "unit", id);
		proto_kv_str(o, "name", name);
		proto_kv_cstr(o, "kind", unit_kinds[kind]);
		proto_kv_u64(o, "owners", figs[order[i]].owners);
		pairs = 4 + report_pack_figures(o, &figs[order[i]]);
		if (sub && depth < UNIT_MAX_DEPTH) {
			proto_pack_cstr(o, "sub_units");
			rc = pack_rows(o, r, figs, order[i], true, depth + 1);
			pairs++;
		}
		proto_map_end(o, at, pairs);
	}
	free(order);
	return rc;
}

static nt_err q_units(const struct ops_query_ctx *c, const struct proto_arg *a, proto_out *out,
		      uint32_t *n, char *why, size_t whylen)
{
	struct report *r = NULL;
	struct report_fig *figs = NULL, petitions = { 0 };
	struct unit_rec root;
	int64_t from, to;
	int ri;
	nt_err rc;

	if ((rc = root_unit(c, &a[RU_UNIT], &root, why, whylen)) != NT_OK ||
	    (rc = may_read_unit(c, root.id, "report.units", why, whylen)) != NT_OK ||
	    (rc = period(c, &a[RU_FROM], &from, &to, why, whylen)) != NT_OK)
		return rc;
	if ((rc = replay(c, from, to, a[RU_SERIES].b ? root.id : PROTO_STR_NULL, &r)) != NT_OK)
		goto out;
	if ((ri = report_unit_find(r, root.id)) < 0) {
		rc = NT_ECORRUPT;
		goto out;
	}
	if ((figs = calloc(report_nunits(r), sizeof *figs)) == NULL) {
		rc = NT_ENOMEM;
		goto out;
	}
	if ((rc = report_unit_figures(r, figs)) != NT_OK || (rc = gaps(c, r, figs, to)) != NT_OK ||
	    (rc = count_owners(c, r, figs)) != NT_OK ||
	    (rc = report_kind_figures(r, ri, KIND_PETITION, &petitions)) != NT_OK)
		goto out;

	*n = pack_head(out, c, r, from, to);
	proto_kv_str(out, "unit", root.id);
	proto_kv_str(out, "name", root.name);
	proto_pack_cstr(out, "totals");
	{
		const struct report_fig *t = &figs[ri];
		uint32_t pairs;
		size_t at = proto_map_begin(out);

		proto_kv_u64(out, "owners", t->owners);
		pairs = 1 + report_pack_figures(out, t);
		proto_pack_cstr(out, "headline");
		msgpack_pack_map(&out->pk, 6);
		proto_kv_u64(out, "problems_solved", t->v[RF_RESOLVED]);
		proto_kv_u64(out, "disputes_settled", petitions.v[RF_RESOLVED]);
		proto_kv_u64(out, "households_visited", t->v[RF_VISITED]);
		proto_kv_u64(out, "households_supported", t->v[RF_SUPPORTED]);
		proto_kv_u64(out, "consultations_held", t->v[RF_CONSULTATIONS]);
		proto_kv_u64(out, "crossed_off", t->v[RF_CROSSED_OFF]);
		pairs++;
		proto_map_end(out, at, pairs);
	}
	proto_pack_cstr(out, "rows");
	if ((rc = pack_rows(out, r, figs, ri, a[RU_SUB].b, 0)) != NT_OK)
		goto out;
	*n += 4;
	if (a[RU_SERIES].b) {
		size_t np;
		const struct report_point *p = report_points(r, &np);

		proto_pack_cstr(out, "series");
		msgpack_pack_array(&out->pk, np);
		for (size_t i = 0; i < np; i++) {
			msgpack_pack_map(&out->pk, 4);
			kv_date(out, "day", p[i].day);
			proto_kv_u64(out, "open", p[i].open);
			proto_kv_u64(out, "overdue", p[i].overdue);
			proto_kv_u64(out, "resolved", p[i].resolved);
		}
		(*n)++;
	}
out:
	free(figs);
	report_free(&r);
	return rc;
}

/* ---- report.scorecard ---- */

enum { RS_PERSON, RS_UNIT, RS_FROM, RS_TO, RS_EXPLAIN };
static const struct proto_field scorecard_fields[] = {
	[RS_PERSON] = { "person", PT_ID, false, 0, 0, 0, NULL },
	[RS_UNIT] = { "unit", PT_ID, false, 0, 0, 0, NULL },
	[RS_FROM] = { "from", PT_DATE, false, 0, 0, 0, NULL },
	[RS_TO] = { "to", PT_DATE, false, 0, 0, 0, NULL },
	[RS_EXPLAIN] = { "explain", PT_BOOL, false, 0, 0, 0, NULL },
};

/* May c's viewer read person p's scorecard: their own, or one of a unit they may read. */
static nt_err may_read_person(const struct ops_query_ctx *c, const struct person_rec *p,
			      char *why, size_t whylen)
{
	if (c->viewer != NULL && proto_str_same(c->viewer->id, p->id))
		return NT_OK;
	return may_read_unit(c, p->unit, "report.scorecard", why, whylen);
}

static nt_err q_scorecard(const struct ops_query_ctx *c, const struct proto_arg *a,
			  proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	struct report_explain x = { 0 };
	struct report_fig f = { 0 }, *figs = NULL;
	struct report *r = NULL;
	struct person_rec p;
	struct unit_rec u;
	struct core_view v;
	int64_t from, to;
	int ui = -1;
	nt_err rc;

	if (a[RS_PERSON].set == a[RS_UNIT].set) {
		snprintf(why, whylen, "report.scorecard takes one of 'person' and 'unit'");
		return NT_EBADREQ;
	}
	ops_view(&v, c);
	if (a[RS_PERSON].set) {
		if ((rc = core_get_person(&v, a[RS_PERSON].s, &p)) == NT_ENOTFOUND)
			snprintf(why, whylen, "no person '%.*s'", (int)a[RS_PERSON].s.len,
				 a[RS_PERSON].s.ptr);
		if (rc == NT_OK)
			rc = may_read_person(c, &p, why, whylen);
	} else if ((rc = root_unit(c, &a[RS_UNIT], &u, why, whylen)) == NT_OK) {
		rc = may_read_unit(c, u.id, "report.scorecard", why, whylen);
	}
	if (rc != NT_OK || (rc = period(c, &a[RS_FROM], &from, &to, why, whylen)) != NT_OK)
		return rc;
	if ((rc = replay(c, from, to, PROTO_STR_NULL, &r)) != NT_OK)
		goto out;
	if (a[RS_UNIT].set && (ui = report_unit_find(r, u.id)) < 0) {
		rc = NT_ECORRUPT;
		goto out;
	}
	if ((rc = report_scope_figures(r, ui, a[RS_PERSON].set ? p.id : PROTO_STR_NULL, &f,
				       a[RS_EXPLAIN].b ? &x : NULL)) != NT_OK)
		goto out;
	if (ui >= 0) {
		/* a unit's gaps are those of the units under it too (report.units) */
		if ((figs = calloc(report_nunits(r), sizeof *figs)) == NULL) {
			rc = NT_ENOMEM;
			goto out;
		}
		if ((rc = gaps(c, r, figs, to)) != NT_OK)
			goto out;
		memcpy(f.gaps, figs[ui].gaps, sizeof f.gaps);
		memcpy(f.has_gap, figs[ui].has_gap, sizeof f.has_gap);
	}
	*n = pack_head(out, c, r, from, to);
	if (a[RS_PERSON].set) {
		proto_kv_str(out, "person", p.id);
		proto_kv_str(out, "name", p.name);
	} else {
		proto_kv_str(out, "unit", u.id);
		proto_kv_str(out, "name", u.name);
	}
	proto_pack_cstr(out, "figures");
	{
		size_t at = proto_map_begin(out);

		proto_map_end(out, at, report_pack_figures(out, &f));
	}
	*n += 3;
	if (a[RS_EXPLAIN].b)
		*n += report_pack_explain(out, &x);
out:
	report_explain_fini(&x);
	free(figs);
	report_free(&r);
	return rc;
}

/* ---- report.people ---- */

enum { RP_UNIT, RP_FROM, RP_TO, RP_AFTER, RP_LIMIT };
static const struct proto_field people_fields[] = {
	[RP_UNIT] = { "unit", PT_ID, false, 0, 0, 0, NULL },
	[RP_FROM] = { "from", PT_DATE, false, 0, 0, 0, NULL },
	[RP_TO] = { "to", PT_DATE, false, 0, 0, 0, NULL },
	[RP_AFTER] = { "after", PT_ID, false, 0, 0, 0, NULL },
	[RP_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
};

struct person_row {
	proto_str id, name, unit;
	uint32_t roles;
};

static int person_row_cmp(const void *a, const void *b)
{
	return proto_str_cmp(((const struct person_row *)a)->id, ((const struct person_row *)b)->id);
}

/* The people of unit `root` (and under it) whose id sorts after `after`, by id. */
static nt_err people_of(const struct ops_query_ctx *c, const struct report *r, int root,
			const struct proto_arg *after, struct person_row **out, size_t *n)
{
	struct ledger_iter it;
	struct person_row *rows = NULL;
	size_t cap = 0;
	MDB_val k, v;
	nt_err rc = NT_OK;

	*n = 0;
	ledger_iter_init(&it, c->t, DB_PEOPLE, after->set ? after->s.ptr : NULL,
			 after->set ? after->s.len : 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &v)) {
		struct person_rec p;
		int u;

		if (rec_decode(v.mv_data, v.mv_size, &person_desc, &p) != NT_OK) {
			rc = NT_ECORRUPT;
			break;
		}
		if (after->set && proto_str_cmp(p.id, after->s) <= 0)
			continue;
		if ((u = report_unit_find(r, p.unit)) < 0 || !report_unit_within(r, u, root))
			continue;
		if (*n == cap) {
			struct person_row *grown;

			cap = cap ? cap * 2 : 256;
			if ((grown = realloc(rows, cap * sizeof *rows)) == NULL) {
				rc = NT_ENOMEM;
				break;
			}
			rows = grown;
		}
		rows[(*n)++] = (struct person_row){ p.id, p.name, p.unit, p.roles };
	}
	ledger_iter_close(&it);
	if (rc == NT_OK)
		rc = c->t->err;
	if (rc == NT_OK && *n > 1)
		qsort(rows, *n, sizeof *rows, person_row_cmp);
	*out = rows;
	return rc;
}

static nt_err q_people(const struct ops_query_ctx *c, const struct proto_arg *a, proto_out *out,
		       uint32_t *n, char *why, size_t whylen)
{
	uint64_t limit = a[RP_LIMIT].set ? a[RP_LIMIT].u : OPS_MAX_LIMIT;
	struct person_row *rows = NULL;
	struct report_fig *figs = NULL;
	proto_str *ids = NULL;
	struct report *r = NULL;
	struct unit_rec root;
	uint32_t items = 0;
	size_t nrows = 0, last = 0;
	int64_t from, to;
	bool more = false;
	proto_out page;
	nt_err rc;

	if ((rc = root_unit(c, &a[RP_UNIT], &root, why, whylen)) != NT_OK ||
	    (rc = may_read_unit(c, root.id, "report.people", why, whylen)) != NT_OK ||
	    (rc = period(c, &a[RP_FROM], &from, &to, why, whylen)) != NT_OK)
		return rc;
	proto_out_init(&page);
	if ((rc = replay(c, from, to, PROTO_STR_NULL, &r)) != NT_OK ||
	    (rc = people_of(c, r, report_unit_find(r, root.id), &a[RP_AFTER], &rows, &nrows)) !=
	    NT_OK)
		goto out;
	if ((ids = malloc((nrows + 1) * sizeof *ids)) == NULL ||
	    (figs = calloc(nrows + 1, sizeof *figs)) == NULL) {
		rc = NT_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nrows; i++)
		ids[i] = rows[i].id;
	if ((rc = report_people_figures(r, ids, nrows, figs)) != NT_OK)
		goto out;
	/* those who lead a case, and those who must own one and lead none */
	for (size_t i = 0; i < nrows; i++) {
		if (figs[i].v[RF_CASES] == 0 && !(rows[i].roles & CASE_OWNER_ROLES))
			continue;
		if (items == limit) {
			more = true;
			break;
		}
		msgpack_pack_map(&page.pk, 4);
		proto_kv_str(&page, "person", rows[i].id);
		proto_kv_str(&page, "name", rows[i].name);
		proto_kv_str(&page, "unit", rows[i].unit);
		proto_pack_cstr(&page, "figures");
		{
			size_t at = proto_map_begin(&page);

			proto_map_end(&page, at, report_pack_figures(&page, &figs[i]));
		}
		items++;
		last = i;
	}
	if (page.oom) {
		rc = NT_ENOMEM;
		goto out;
	}
	*n = pack_head(out, c, r, from, to);
	proto_kv_str(out, "unit", root.id);
	proto_kv_str(out, "name", root.name);
	*n += 2;
	{
		uint32_t pairs;

		ops_page_pack(out, &page, items, more, more ? rows[last].id.ptr : NULL,
			      more ? rows[last].id.len : 0, false, &pairs);
		*n += pairs;
	}
out:
	proto_out_fini(&page);
	free(ids);
	free(figs);
	free(rows);
	report_free(&r);
	return rc;
}

/* ---- report.commitments ---- */

enum { RC_UNIT, RC_CROSSED, RC_AFTER, RC_LIMIT };
static const struct proto_field commitments_fields[] = {
	[RC_UNIT] = { "unit", PT_ID, false, 0, 0, 0, NULL },
	[RC_CROSSED] = { "crossed_off", PT_BOOL, false, 0, 0, 0, NULL },
	[RC_AFTER] = { "after", PT_UINT, false, 0, UINT64_MAX, 0, NULL },
	[RC_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
};

/* The log entry at seq, parsed into doc (the caller finishes it). */
static nt_err entry_at(const struct ops_query_ctx *c, uint64_t seq, proto_doc *doc)
{
	uint8_t key[8];
	MDB_val v;
	nt_err rc;

	ledger_key_u64(key, seq);
	if ((rc = ledger_get(c->t, DB_LOG, key, sizeof key, &v)) != NT_OK)
		return rc == NT_ENOTFOUND ? NT_ECORRUPT : rc;
	return proto_parse(doc, v.mv_data, v.mv_size, NULL, 0) == NT_OK ? NT_OK : NT_ECORRUPT;
}

/* Copy key of entry doc into the reply as it is (nil when absent). */
static void copy_key(proto_out *o, const proto_doc *doc, const char *key, const char *as)
{
	const msgpack_object *v = proto_map_get(&doc->root, key);

	if (v == NULL)
		proto_kv_nil(o, as);
	else
		proto_kv_obj(o, as, v);
}

/* One item of the list: the case, its plan and its commitment. */
static nt_err pack_commitment(const struct ops_query_ctx *c, proto_out *o,
			      const struct case_rec *cs)
{
	proto_doc plan = { 0 }, commit = { 0 };
	struct person_rec lead;
	struct unit_rec unit;
	struct core_view v;
	const msgpack_object *board;
	nt_err rc;

	ops_view(&v, c);
	if ((cs->plan_seq != 0 && (rc = entry_at(c, cs->plan_seq, &plan)) != NT_OK) ||
	    (rc = entry_at(c, cs->commit_seq, &commit)) != NT_OK)
		goto out;
	board = proto_map_get(&commit.root, "board");
	msgpack_pack_map(&o->pk, 16 + 2 * (board != NULL));
	proto_kv_u64(o, "case", cs->id);
	proto_kv_str(o, "title", cs->title);
	proto_kv_cstr(o, "kind", case_kinds[cs->kind]);
	proto_kv_str(o, "unit", cs->unit);
	rc = core_get_unit(&v, cs->unit, &unit);
	if (rc == NT_OK)
		proto_kv_str(o, "unit_name", unit.name);
	else
		proto_kv_nil(o, "unit_name");
	proto_kv_str(o, "lead", cs->lead);
	rc = core_get_person(&v, cs->lead, &lead);
	if (rc == NT_OK)
		proto_kv_str(o, "lead_name", lead.name);
	else
		proto_kv_nil(o, "lead_name");
	rc = NT_OK;
	if (cs->plan_seq != 0) {
		copy_key(o, &plan, "measures", "measures");
		copy_key(o, &plan, "schedule", "schedule");
	} else {
		proto_kv_nil(o, "measures");
		proto_kv_nil(o, "schedule");
	}
	kv_date(o, "deadline", cs->deadline);
	copy_key(o, &commit, "date", "committed");
	copy_key(o, &commit, "venue", "venue");
	copy_key(o, &commit, "ref", "ref");
	if (board != NULL) {
		struct unit_rec village;
		proto_str id;

		proto_kv_obj(o, "board", board);
		if (proto_obj_str(board, &id) && core_get_unit(&v, id, &village) == NT_OK)
			proto_kv_str(o, "board_name", village.name);
		else
			proto_kv_nil(o, "board_name");
	}
	proto_kv_cstr(o, "step", case_steps[cs->step]);
	proto_kv_u64(o, "commit_seq", cs->commit_seq);
	proto_kv_u64(o, "plan_seq", cs->plan_seq);
out:
	proto_doc_fini(&plan);
	proto_doc_fini(&commit);
	return rc;
}

static nt_err q_commitments(const struct ops_query_ctx *c, const struct proto_arg *a,
			    proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	uint64_t after = a[RC_AFTER].set ? a[RC_AFTER].u : 0;
	uint64_t limit = a[RC_LIMIT].set ? a[RC_LIMIT].u : 200;
	bool crossed = !a[RC_CROSSED].set || a[RC_CROSSED].b;
	uint32_t items = 0, scanned = 0;
	struct ledger_iter it;
	struct unit_rec root;
	struct core_view v;
	uint8_t from[8], last[8];
	bool more = false;
	proto_out page;
	MDB_val k, val;
	nt_err rc;

	if ((rc = root_unit(c, &a[RC_UNIT], &root, why, whylen)) != NT_OK)
		return rc;
	ops_view(&v, c);
	proto_out_init(&page);
	/* after UINT64_MAX: no case comes after it */
	ledger_key_u64(from, after + (after < UINT64_MAX));
	ledger_iter_init(&it, c->t, DB_CASES, from, sizeof from);
	while (rc == NT_OK && after < UINT64_MAX && ledger_iter_next(&it, &k, &val)) {
		struct case_rec cs;
		bool within;

		if (items == limit || scanned == OPS_LIST_SCAN) {
			more = true;
			break;
		}
		scanned++;
		memcpy(last, k.mv_data, sizeof last);
		if (k.mv_size != 8 || rec_decode(val.mv_data, val.mv_size, &case_desc, &cs) != NT_OK) {
			rc = NT_ECORRUPT;
			break;
		}
		if (cs.step < STEP_COMMITTED || cs.commit_seq == 0 ||
		    (!crossed && cs.step == STEP_CROSSED_OFF))
			continue;
		if ((rc = perm_within(&v, cs.unit, root.id, &within)) != NT_OK || !within)
			continue;
		if ((rc = pack_commitment(c, &page, &cs)) == NT_OK)
			items++;
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && c->t->err != NT_OK)
		rc = c->t->err;
	if (rc == NT_OK && page.oom)
		rc = NT_ENOMEM;
	if (rc == NT_OK)
		ops_page_pack(out, &page, items, more, last, sizeof last, true, n);
	proto_out_fini(&page);
	if (rc != NT_OK)
		return rc;
	proto_kv_str(out, "unit", root.id);
	proto_kv_str(out, "name", root.name);
	*n += 2;
	return NT_OK;
}

/* ---- the table ---- */

/* report.units and report.scorecard check the unit themselves (may_read_unit()) */
static const enum ops_read_rule rule_reach = OPS_READ_REACH, rule_all = OPS_READ_ALL;

const struct op report_ops[REPORT_NOPS] = {
	{ "report.units", false, units_fields, N(units_fields), NULL, q_units, &rule_reach,
	  false },
	{ "report.scorecard", false, scorecard_fields, N(scorecard_fields), NULL, q_scorecard,
	  &rule_reach, false },
	{ "report.people", false, people_fields, N(people_fields), NULL, q_people, &rule_reach,
	  false },
	{ "report.commitments", false, commitments_fields, N(commitments_fields), NULL,
	  q_commitments, &rule_all, false },
};

bool report_op(const struct op *op)
{
	return op >= report_ops && op < report_ops + REPORT_NOPS;
}
