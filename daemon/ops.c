/*
 * ops.c - the op table and the read ops.
 *
 * Read ops run in a read transaction that the caller opens just for them and ends right
 * after: nothing holds a read transaction across the loop. Listing ops examine at most
 * OPS_LIST_SCAN records per call and hand back a cursor (next), so that no single
 * request, however filtered, can stall the daemon.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "coverage.h"
#include "household.h"
#include "ops.h"
#include "perm.h"
#include "report_ops.h"

/* ---- ping, stats ---- */

static const struct proto_field no_fields[] = { { 0 } };

static nt_err q_ping(const struct ops_query_ctx *c, const struct proto_arg *a, proto_out *out,
		     uint32_t *n, char *why, size_t whylen)
{
	(void)a, (void)why, (void)whylen;
	proto_kv_cstr(out, "version", PROTO_VERSION);
	proto_kv_i64(out, "now", c->now);
	*n = 2;
	return NT_OK;
}

static nt_err q_stats(const struct ops_query_ctx *c, const struct proto_arg *a, proto_out *out,
		      uint32_t *n, char *why, size_t whylen)
{
	(void)a, (void)why, (void)whylen;
	proto_kv_u64(out, "cases", ledger_count(c->t, DB_CASES));
	proto_kv_u64(out, "commits", c->stats->commits);
	proto_kv_u64(out, "events", c->stats->events);
	proto_kv_u64(out, "last_commit_us", c->stats->last_commit_us);
	proto_kv_u64(out, "commit_us", c->stats->commit_us);
	proto_kv_i64(out, "uptime_ms", c->now - c->stats->started_ms);
	proto_kv_u64(out, "reports", c->stats->reports);
	proto_kv_u64(out, "report_us", c->stats->report_us);
	proto_kv_u64(out, "reports_refused", c->stats->reports_refused);
	proto_kv_u64(out, "armed_timers", ledger_count(c->t, DB_TIMERS));
	{
		struct ledger_info li;

		ledger_info(c->t->lg, &li);
		proto_kv_u64(out, "map_size", li.map_size);
		proto_kv_u64(out, "map_used", li.used);
		proto_kv_u64(out, "file_size", li.file_size);
		proto_kv_u64(out, "readers", li.readers);
		proto_kv_u64(out, "max_readers", li.max_readers);
	}
	*n = 15;
	return NT_OK;
}

/* ---- the core's view over a read transaction ---- */

static nt_err txn_get(void *ctx, enum ledger_db db, const void *key, size_t klen, MDB_val *val)
{
	return ledger_get(ctx, db, key, klen, val);
}

void ops_view(struct core_view *v, const struct ops_query_ctx *c)
{
	memset(v, 0, sizeof *v);
	v->ctx = c->t;
	v->get = txn_get;
	v->now = c->now;
	v->policy = c->policy;
}

int64_t ops_today(const struct ops_query_ctx *c)
{
	struct core_view v;

	ops_view(&v, c);
	return core_today(&v);
}

static bool str_match(const struct proto_arg *want, proto_str have)
{
	return !want->set ||
	       (want->s.len == have.len && memcmp(want->s.ptr, have.ptr, have.len) == 0);
}

void ops_page_pack(proto_out *out, proto_out *page, uint32_t items, bool more,
		      const void *next, size_t nlen, bool next_u64, uint32_t *n)
{
	proto_pack_cstr(out, "items");
	msgpack_pack_array(&out->pk, items);
	proto_out_raw(out, page->sb.data, page->sb.size);
	if (!more)
		proto_kv_nil(out, "next");
	else if (next_u64)
		proto_kv_u64(out, "next", ledger_u64(next));
	else
		proto_kv_str(out, "next", (proto_str){ next, (uint32_t)nlen });
	*n = 2;
}

/* ---- unit.get, person.get ---- */

static const struct proto_field unit_get_fields[] = {
	{ "unit", PT_ID, true, 0, 0, 0, NULL },
};

static nt_err q_unit_get(const struct ops_query_ctx *c, const struct proto_arg *a,
			 proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	struct core_view v;
	struct unit_rec u;
	nt_err rc;

	ops_view(&v, c);
	if ((rc = core_get_unit(&v, a[0].s, &u)) == NT_ENOTFOUND)
		snprintf(why, whylen, "no unit '%.*s'", (int)a[0].s.len, a[0].s.ptr);
	if (rc != NT_OK)
		return rc;
	proto_pack_cstr(out, "unit");
	rec_pack(out, &unit_desc, &u, 0, 0);
	*n = 1;
	return NT_OK;
}

static const struct proto_field person_get_fields[] = {
	{ "person", PT_ID, true, 0, 0, 0, NULL },
};

static nt_err q_person_get(const struct ops_query_ctx *c, const struct proto_arg *a,
			   proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	struct core_view v;
	struct person_rec p;
	nt_err rc;

	ops_view(&v, c);
	if ((rc = core_get_person(&v, a[0].s, &p)) == NT_ENOTFOUND)
		snprintf(why, whylen, "no person '%.*s'", (int)a[0].s.len, a[0].s.ptr);
	if (rc != NT_OK)
		return rc;
	proto_pack_cstr(out, "person");
	rec_pack(out, &person_desc, &p, 0, 0);
	*n = 1;
	return NT_OK;
}

/* ---- unit.list, person.list: in id order, filtered ---- */

enum { UL_AFTER, UL_LIMIT, UL_PARENT, UL_KIND, UL_WITHIN };
static const struct proto_field unit_list_fields[] = {
	[UL_AFTER] = { "after", PT_ID, false, 0, 0, 0, NULL },
	[UL_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
	[UL_PARENT] = { "parent", PT_ID, false, 0, 0, 0, NULL },
	[UL_KIND] = { "kind", PT_STR, false, 1, 16, 0, unit_kinds },
	[UL_WITHIN] = { "within", PT_ID, false, 0, 0, 0, NULL },
};

enum { PLI_AFTER, PLI_LIMIT, PLI_UNIT, PLI_ROLE, PLI_WITHIN };
static const struct proto_field person_list_fields[] = {
	[PLI_AFTER] = { "after", PT_ID, false, 0, 0, 0, NULL },
	[PLI_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
	[PLI_UNIT] = { "unit", PT_ID, false, 0, 0, 0, NULL },
	[PLI_ROLE] = { "role", PT_STR, false, 1, 32, 0, role_names },
	[PLI_WITHIN] = { "within", PT_ID, false, 0, 0, 0, NULL },
};

/* Does the record r of db pass the list's filters? */
static nt_err id_list_match(struct core_view *v, enum ledger_db db, const void *r,
			    const struct proto_arg *a, bool *yes)
{
	if (db == DB_UNITS) {
		const struct unit_rec *u = r;

		*yes = str_match(&a[UL_PARENT], u->parent) &&
		       (!a[UL_KIND].set || proto_str_eq(a[UL_KIND].s, unit_kinds[u->kind]));
		if (*yes && a[UL_WITHIN].set)
			return perm_within(v, u->id, a[UL_WITHIN].s, yes);
	} else {
		const struct person_rec *p = r;

		*yes = str_match(&a[PLI_UNIT], p->unit) &&
		       (!a[PLI_ROLE].set ||
			(p->roles >> rec_enum_find(role_names, a[PLI_ROLE].s)) & 1);
		if (*yes && a[PLI_WITHIN].set)
			return perm_within(v, p->unit, a[PLI_WITHIN].s, yes);
	}
	return NT_OK;
}

static nt_err id_list(const struct ops_query_ctx *c, const struct proto_arg *a,
		      enum ledger_db db, const struct rec_desc *d, proto_out *out, uint32_t *n)
{
	uint64_t limit = a[1].set ? a[1].u : 100;
	union { struct unit_rec u; struct person_rec p; } rec;
	uint32_t items = 0, scanned = 0;
	struct ledger_iter it;
	struct core_view v;
	uint8_t last[PROTO_MAX_NAME_ID];
	size_t lastlen = 0;
	bool more = false, yes;
	proto_out page;
	MDB_val k, val;
	nt_err rc = NT_OK;

	ops_view(&v, c);
	proto_out_init(&page);
	ledger_iter_init(&it, c->t, db, a[0].set ? a[0].s.ptr : NULL, a[0].set ? a[0].s.len : 0);
	while (ledger_iter_next(&it, &k, &val)) {
		if (a[0].set && k.mv_size == a[0].s.len && memcmp(k.mv_data, a[0].s.ptr, k.mv_size) == 0)
			continue;	/* "after" is exclusive */
		if (items == limit || scanned == OPS_LIST_SCAN) {
			more = true;
			break;
		}
		scanned++;
		if (k.mv_size > sizeof last || rec_decode(val.mv_data, val.mv_size, d, &rec) != NT_OK) {
			rc = NT_ECORRUPT;
			break;
		}
		memcpy(last, k.mv_data, k.mv_size);
		lastlen = k.mv_size;
		if ((rc = id_list_match(&v, db, &rec, a, &yes)) != NT_OK)
			break;
		if (yes) {
			rec_pack(&page, d, &rec, REC_SUMMARY, 0);
			items++;
		}
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && c->t->err != NT_OK)
		rc = c->t->err;
	if (rc == NT_OK)
		ops_page_pack(out, &page, items, more, last, lastlen, false, n);
	proto_out_fini(&page);
	return rc;
}

static nt_err q_unit_list(const struct ops_query_ctx *c, const struct proto_arg *a,
			  proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	(void)why, (void)whylen;
	return id_list(c, a, DB_UNITS, &unit_desc, out, n);
}

static nt_err q_person_list(const struct ops_query_ctx *c, const struct proto_arg *a,
			    proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	(void)why, (void)whylen;
	return id_list(c, a, DB_PEOPLE, &person_desc, out, n);
}

/* ---- campaign.get ---- */

static nt_err q_campaign_get(const struct ops_query_ctx *c, const struct proto_arg *a,
			     proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	struct campaign_rec g;
	struct core_view v;
	nt_err rc;

	(void)a, (void)why, (void)whylen;
	ops_view(&v, c);
	if ((rc = core_get_campaign(&v, &g)) != NT_OK)
		return rc;
	proto_pack_cstr(out, "campaign");
	if (g.name.len == 0)
		msgpack_pack_nil(&out->pk);	/* none defined: the defaults apply */
	else
		rec_pack(out, &campaign_desc, &g, 0, 0);
	proto_kv_u64(out, "threshold", g.threshold);
	/* where each dated milestone's chase stands */
	proto_pack_cstr(out, "chases");
	{
		struct milestone_rec ms[MS__N];
		uint32_t dated = 0;

		for (unsigned m = 0; m < MS__N; m++) {
			if ((rc = core_get_milestone(&v, m, &ms[m])) != NT_OK)
				return rc;
			dated += ms[m].by != 0;
		}
		msgpack_pack_map(&out->pk, dated);
		for (unsigned m = 0; m < MS__N; m++) {
			if (ms[m].by == 0)
				continue;
			proto_pack_cstr(out, milestone_names[m]);
			msgpack_pack_map(&out->pk, 3);
			proto_kv_u64(out, "level", ms[m].level);
			if (ms[m].at != 0)
				proto_kv_i64(out, "next_at", ms[m].at);
			else
				proto_kv_nil(out, "next_at");
			proto_kv_u64(out, "units", ms[m].units);
		}
	}
	*n = 3;
	return NT_OK;
}

/* ---- who reads what ---- */

bool ops_county_wide(const struct person_rec *viewer)
{
	return (viewer->roles & (ROLE_COUNTY | ROLE_THEME | ROLE_SUPERVISION | ROLE_ADMIN)) != 0;
}

/* How c's viewer stands to case cs (enum perm_rel bits). */
static nt_err viewer_rels(const struct ops_query_ctx *c, const struct case_rec *cs,
			  unsigned *rels)
{
	struct core_view v;

	*rels = 0;
	ops_view(&v, c);
	return perm_relations(&v, c->viewer, cs->unit, cs->lead, cs->taker, rels);
}

nt_err ops_case_sensitive(const struct ops_query_ctx *c, const struct case_rec *cs, bool *yes)
{
	unsigned rels;
	nt_err rc;

	*yes = true;
	if (c->viewer == NULL)
		return NT_OK;
	if ((rc = viewer_rels(c, cs, &rels)) != NT_OK)
		return rc;
	*yes = (rels & (REL_LEAD | REL_TAKER | REL_THEME | REL_SUPERVISION)) != 0;
	return NT_OK;
}

nt_err ops_case_visible(const struct ops_query_ctx *c, const struct case_rec *cs, bool *yes)
{
	unsigned rels;
	nt_err rc;

	*yes = true;
	if (c->viewer == NULL || ops_county_wide(c->viewer))
		return NT_OK;
	if ((rc = viewer_rels(c, cs, &rels)) != NT_OK)
		return rc;
	*yes = rels != 0;
	return NT_OK;
}

/* ---- case.get: the case and its whole story ---- */

enum { G_CASE, G_AFTER, G_LIMIT };
static const struct proto_field get_fields[] = {
	[G_CASE] = { "case", PT_UINT, true, 1, UINT64_MAX, 0, NULL },
	[G_AFTER] = { "after", PT_UINT, false, 0, UINT64_MAX, 0, NULL },
	[G_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
};

static nt_err q_case_get(const struct ops_query_ctx *c, const struct proto_arg *a,
			 proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	uint64_t id = a[G_CASE].u, after = a[G_AFTER].set ? a[G_AFTER].u : 0;
	uint64_t limit = a[G_LIMIT].set ? a[G_LIMIT].u : OPS_MAX_LIMIT;
	struct case_rec cs;
	struct core_view v;
	struct ledger_iter it;
	uint8_t from[HIST_KEY_LEN], last[8];
	uint32_t items = 0;
	bool more = false;
	proto_out page;
	MDB_val k, val, entry;
	bool visible, sees;
	nt_err rc;

	ops_view(&v, c);
	if ((rc = core_get_case(&v, id, &cs)) != NT_OK) {
		if (rc == NT_ENOTFOUND)
			snprintf(why, whylen, "no case %" PRIu64, id);
		return rc;
	}
	if ((rc = ops_case_visible(c, &cs, &visible)) != NT_OK ||
	    (rc = ops_case_sensitive(c, &cs, &sees)) != NT_OK)
		return rc;
	if (!visible) {
		snprintf(why, whylen, "case.get: '%.*s' may read the cases of their reach, the ones "
			 "they lead or took (case %" PRIu64 " is led by '%.*s' in unit '%.*s')",
			 (int)c->viewer->id.len, c->viewer->id.ptr, id, (int)cs.lead.len,
			 cs.lead.ptr, (int)cs.unit.len, cs.unit.ptr);
		return NT_EFORBIDDEN;
	}
	proto_out_init(&page);
	hist_key(from, id, after == UINT64_MAX ? after : after + 1);
	ledger_iter_init(&it, c->t, DB_HIST, from, sizeof from);
	while (after < UINT64_MAX && ledger_iter_next(&it, &k, &val)) {
		if (k.mv_size != HIST_KEY_LEN || ledger_u64(k.mv_data) != id)
			break;
		if (items == limit) {
			more = true;
			break;
		}
		memcpy(last, (const uint8_t *)k.mv_data + 8, 8);
		if ((rc = ledger_get(c->t, DB_LOG, last, 8, &entry)) != NT_OK) {
			snprintf(why, whylen, "the history of case %" PRIu64 " is damaged", id);
			rc = rc == NT_ENOTFOUND ? NT_ECORRUPT : rc;
			break;
		}
		proto_out_raw(&page, entry.mv_data, entry.mv_size);
		items++;
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && c->t->err != NT_OK)
		rc = c->t->err;
	if (rc == NT_OK) {
		int rate = case_satisfaction(&cs);

		proto_pack_cstr(out, "case");
		rec_pack(out, &case_desc, &cs, 0, sees ? 0 : REC_SENSITIVE);
		proto_pack_cstr(out, "history");
		msgpack_pack_array(&out->pk, items);
		proto_out_raw(out, page.sb.data, page.sb.size);
		if (more)
			proto_kv_u64(out, "next", ledger_u64(last));
		else
			proto_kv_nil(out, "next");
		if (rate >= 0)
			proto_kv_u64(out, "satisfaction", (uint64_t)rate);
		else
			proto_kv_nil(out, "satisfaction");
		*n = 4;
	}
	proto_out_fini(&page);
	return rc;
}

/* ---- case.list ---- */

enum { L_AFTER, L_LIMIT, L_KIND, L_AREA, L_UNIT, L_LEAD, L_STEP, L_OVERDUE };
static const struct proto_field list_fields[] = {
	[L_AFTER] = { "after", PT_UINT, false, 0, UINT64_MAX, 0, NULL },
	[L_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
	[L_KIND] = { "kind", PT_STR, false, 1, 32, 0, case_kinds },
	[L_AREA] = { "area", PT_STR, false, 1, 32, 0, case_areas },
	[L_UNIT] = { "unit", PT_ID, false, 0, 0, 0, NULL },
	[L_LEAD] = { "lead", PT_ID, false, 0, 0, 0, NULL },
	[L_STEP] = { "step", PT_STR, false, 1, 16, 0, case_steps },
	[L_OVERDUE] = { "overdue", PT_BOOL, false, 0, 0, 0, NULL },
};

static bool enum_match(const struct proto_arg *want, const char *const *names, uint32_t have)
{
	return !want->set || proto_str_eq(want->s, names[have]);
}

/* Is the case past its handling deadline and not crossed off? */
static bool case_overdue(const struct case_rec *cs, int64_t today)
{
	return cs->deadline != 0 && cs->deadline < today && cs->step != STEP_CROSSED_OFF;
}

static nt_err case_matches(struct core_view *v, const struct proto_arg *a,
			   const struct case_rec *cs, int64_t today, bool *yes)
{
	*yes = enum_match(&a[L_KIND], case_kinds, cs->kind) &&
	       enum_match(&a[L_AREA], case_areas, cs->area) &&
	       enum_match(&a[L_STEP], case_steps, cs->step) && str_match(&a[L_LEAD], cs->lead) &&
	       (!a[L_OVERDUE].set || a[L_OVERDUE].b == case_overdue(cs, today));
	if (*yes && a[L_UNIT].set)
		return perm_within(v, cs->unit, a[L_UNIT].s, yes);
	return NT_OK;
}

/*
 * Items are packed into a separate buffer because the array's length is known only at
 * the end; a page is at most OPS_MAX_LIMIT small summaries.
 */
static nt_err q_case_list(const struct ops_query_ctx *c, const struct proto_arg *a,
			  proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	uint64_t after = a[L_AFTER].set ? a[L_AFTER].u : 0;
	uint64_t limit = a[L_LIMIT].set ? a[L_LIMIT].u : 50;
	int64_t today = ops_today(c);
	uint32_t items = 0, scanned = 0;
	bool more = false, yes;
	struct ledger_iter it;
	struct core_view v;
	proto_out page;
	uint8_t from[8], last[8];
	MDB_val k, val;
	nt_err rc = NT_OK;

	(void)why, (void)whylen;
	ops_view(&v, c);
	proto_out_init(&page);
	ledger_key_u64(last, after);
	if (after < UINT64_MAX) {
		ledger_key_u64(from, after + 1);
		ledger_iter_init(&it, c->t, DB_CASES, from, sizeof from);
		while (ledger_iter_next(&it, &k, &val)) {
			struct case_rec cs;

			if (items == limit || scanned == OPS_LIST_SCAN) {
				more = true;
				break;
			}
			scanned++;
			if (k.mv_size != 8 ||
			    rec_decode(val.mv_data, val.mv_size, &case_desc, &cs) != NT_OK) {
				rc = NT_ECORRUPT;
				break;
			}
			memcpy(last, k.mv_data, 8);
			if ((rc = case_matches(&v, a, &cs, today, &yes)) != NT_OK ||
			    (yes && (rc = ops_case_visible(c, &cs, &yes)) != NT_OK))
				break;
			if (yes) {
				rec_pack(&page, &case_desc, &cs, REC_SUMMARY, 0);
				items++;
			}
		}
		ledger_iter_close(&it);
	}
	if (rc == NT_OK && c->t->err != NT_OK)
		rc = c->t->err;
	if (rc == NT_OK)
		ops_page_pack(out, &page, items, more, last, 8, true, n);
	proto_out_fini(&page);
	return rc;
}

/* ---- log.read ---- */

enum { R_AFTER, R_LIMIT, R_TOPIC };
static const struct proto_field read_fields[] = {
	[R_AFTER] = { "after", PT_UINT, false, 0, UINT64_MAX, 0, NULL },
	[R_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
	[R_TOPIC] = { "topic", PT_STR, false, 0, PROTO_MAX_KEY, 0, NULL },
};

/* The topic of a stored entry: the log stores the entry map, whose second key is topic
 * (batch.c writes seq first, topic second); fall back to a lookup for safety. */
static bool entry_topic(const MDB_val *v, proto_str *topic)
{
	proto_doc doc = { 0 };
	bool ok = proto_parse(&doc, v->mv_data, v->mv_size, NULL, 0) == NT_OK &&
		  proto_obj_str(proto_map_get(&doc.root, "topic"), topic);

	proto_doc_fini(&doc);	/* topic points into v, not into the zone */
	return ok;
}

static nt_err q_log_read(const struct ops_query_ctx *c, const struct proto_arg *a,
			 proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	uint64_t after = a[R_AFTER].set ? a[R_AFTER].u : 0;
	uint64_t limit = a[R_LIMIT].set ? a[R_LIMIT].u : 100, next = after;
	proto_str prefix = a[R_TOPIC].set ? a[R_TOPIC].s : PROTO_STR_NULL;
	uint32_t items = 0, scanned = 0;
	struct ledger_iter it;
	proto_out page;
	uint8_t from[8];
	MDB_val k, v;
	nt_err rc = NT_OK;

	(void)why, (void)whylen;
	proto_out_init(&page);
	if (after < UINT64_MAX) {
		ledger_key_u64(from, after + 1);
		ledger_iter_init(&it, c->t, DB_LOG, from, sizeof from);
		while (items < limit && scanned < OPS_LIST_SCAN && ledger_iter_next(&it, &k, &v)) {
			proto_str topic;

			scanned++;
			next = ledger_u64(k.mv_data);
			if (prefix.len > 0) {
				if (!entry_topic(&v, &topic)) {
					rc = NT_ECORRUPT;
					break;
				}
				if (topic.len < prefix.len ||
				    memcmp(topic.ptr, prefix.ptr, prefix.len) != 0)
					continue;
			}
			proto_out_raw(&page, v.mv_data, v.mv_size);
			items++;
		}
		ledger_iter_close(&it);
		if (rc == NT_OK && c->t->err != NT_OK)
			rc = c->t->err;
	}
	if (rc == NT_OK) {
		proto_pack_cstr(out, "items");
		msgpack_pack_array(&out->pk, items);
		proto_out_raw(out, page.sb.data, page.sb.size);
		proto_kv_u64(out, "next", next);
		*n = 2;
	}
	proto_out_fini(&page);
	return rc;
}

/* ---- the table ---- */

#define N(a) (sizeof a / sizeof a[0])
/* a read op's data is its rule: who may read (enum ops_read_rule) */
static const enum ops_read_rule rules[] = { OPS_READ_ALL, OPS_READ_CASE, OPS_READ_REACH,
					    OPS_READ_COUNTY };
#define READ(name, fields, nfields, fn, rule) \
	{ name, false, fields, nfields, NULL, fn, &rules[rule], false }

enum ops_read_rule ops_read_rule_of(const struct op *op)
{
	return op->data != NULL ? *(const enum ops_read_rule *)op->data : OPS_READ_ALL;
}

static const struct op read_ops[] = {
	READ("ping", no_fields, 0, q_ping, OPS_READ_ALL),
	READ("stats", no_fields, 0, q_stats, OPS_READ_COUNTY),
	READ("campaign.get", no_fields, 0, q_campaign_get, OPS_READ_ALL),
	READ("campaign.coverage", coverage_fields, COVERAGE_NFIELDS, coverage_query,
	     OPS_READ_ALL),
	READ("deadline.list", deadline_list_fields, DEADLINE_LIST_NFIELDS, deadline_list_query,
	     OPS_READ_REACH),
	READ("unit.get", unit_get_fields, N(unit_get_fields), q_unit_get, OPS_READ_ALL),
	READ("unit.list", unit_list_fields, N(unit_list_fields), q_unit_list, OPS_READ_ALL),
	READ("person.get", person_get_fields, N(person_get_fields), q_person_get, OPS_READ_ALL),
	READ("person.list", person_list_fields, N(person_list_fields), q_person_list,
	     OPS_READ_ALL),
	READ("case.get", get_fields, N(get_fields), q_case_get, OPS_READ_CASE),
	READ("case.list", list_fields, N(list_fields), q_case_list, OPS_READ_REACH),
	READ("log.read", read_fields, N(read_fields), q_log_read, OPS_READ_COUNTY),
};

static const struct op *find_in(const struct op *t, size_t n, proto_str name)
{
	for (size_t i = 0; i < n; i++)
		if (proto_str_eq(name, t[i].name))
			return &t[i];
	return NULL;
}

const char *ops_too_wide(void)
{
	const struct { const struct op *t; size_t n; } all[] = {
		{ read_ops, N(read_ops) }, { core_case_ops, core_case_nops },
		{ core_org_ops, core_org_nops }, { core_timer_ops, core_timer_nops },
		{ core_household_ops, core_household_nops },
		{ household_read_ops, HOUSEHOLD_READ_NOPS }, { report_ops, REPORT_NOPS },
	};

	for (size_t i = 0; i < N(all); i++)
		for (size_t j = 0; j < all[i].n; j++)
			if (all[i].t[j].nfields > OPS_MAX_FIELDS)
				return all[i].t[j].name;
	return NULL;
}

const struct op *ops_find(proto_str name)
{
	const struct op *op = find_in(read_ops, N(read_ops), name);

	if (op == NULL)
		op = find_in(core_case_ops, core_case_nops, name);
	if (op == NULL)
		op = find_in(core_org_ops, core_org_nops, name);
	if (op == NULL)
		op = find_in(core_timer_ops, core_timer_nops, name);
	if (op == NULL)
		op = find_in(core_household_ops, core_household_nops, name);
	if (op == NULL)
		op = find_in(household_read_ops, HOUSEHOLD_READ_NOPS, name);
	if (op == NULL)
		op = find_in(report_ops, REPORT_NOPS, name);
	return op;
}
