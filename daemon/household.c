/*
 * household.c - reading the household register: household.get, household.list,
 * household.history and household.pairings (docs/protocol.md section 11, "Households").
 *
 * Each runs in the loop's short read transaction. The lists a cadre or a village asks
 * for follow the `hindex` keys (model.h), so their cost is the size of the village or of
 * the cadre's pairing, not of the county's 140,000 households; only a list with neither
 * walks the register in id order, at most OPS_LIST_SCAN records a call.
 *
 * Who may read (section 9): a viewer reads a household within their reach, the ones
 * paired with them, or all of them if they read the whole county; its sensitive fields
 * only as perm_household_sensitive() says. A trusted connection that names nobody (no
 * viewer) reads everything.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "household.h"
#include "perm.h"

#define HH_CASES_MAX 1000	/* case ids household.get lists */

/* ---- who reads what ---- */

/* An answer about one village, kept while a list walks its households (a register is
 * mostly in village order, so a list asks the unit tree once per village). */
struct village_answer {
	proto_str village;
	bool valid, yes;
};

static bool answered(const struct village_answer *a, proto_str village, bool *yes)
{
	if (a == NULL || !a->valid || !proto_str_same(a->village, village))
		return false;
	*yes = a->yes;
	return true;
}

static void remember(struct village_answer *a, proto_str village, bool yes)
{
	if (a != NULL)
		*a = (struct village_answer){ village, true, yes };
}

/* May c's viewer read h? reach: the last village's answer (NULL: none kept). */
static nt_err may_read(const struct ops_query_ctx *c, struct core_view *v,
		       const struct household_rec *h, struct village_answer *reach, bool *yes)
{
	nt_err rc;

	if (c->viewer == NULL || ops_county_wide(c->viewer) ||
	    proto_str_same(h->cadre, c->viewer->id)) {
		*yes = true;
		return NT_OK;
	}
	if (answered(reach, h->village, yes))
		return NT_OK;
	/* neither county-wide nor its cadre: whether they read it is their reach */
	if ((rc = perm_reaches(v, c->viewer, h->village, yes)) != NT_OK)
		return rc;
	remember(reach, h->village, *yes);
	return NT_OK;
}

static bool sees_sensitive(const struct ops_query_ctx *c, const struct household_rec *h)
{
	return c->viewer == NULL || perm_household_sensitive(c->viewer, h);
}

/* The whole record as the viewer may see it, with "hidden" (and more pairs from the
 * caller: extra of them, packed after). */
static void pack_full(const struct ops_query_ctx *c, proto_out *out,
		      const struct household_rec *h, uint32_t extra)
{
	unsigned without = sees_sensitive(c, h) ? 0 : REC_SENSITIVE;

	msgpack_pack_map(&out->pk, rec_count_pairs(&household_desc, h, 0, without) + 1 + extra);
	rec_pack_pairs(out, &household_desc, h, 0, without);
	proto_kv_bool(out, "hidden", without != 0);
}

/* The household a get or history names, readable by the viewer. */
static nt_err readable(const struct ops_query_ctx *c, struct core_view *v, proto_str id,
		       struct household_rec *h, const char *op, char *why, size_t whylen)
{
	bool yes;
	nt_err rc;

	if ((rc = core_get_household_named(v, id, h, why, whylen)) != NT_OK ||
	    (rc = may_read(c, v, h, NULL, &yes)) != NT_OK)
		return rc;
	if (!yes) {
		snprintf(why, whylen, "%s: '%.*s' may read the households of their reach and the "
			 "ones paired with them (household '%.*s' is of village '%.*s')", op,
			 (int)c->viewer->id.len, c->viewer->id.ptr, (int)id.len, id.ptr,
			 (int)h->village.len, h->village.ptr);
		return NT_EFORBIDDEN;
	}
	return NT_OK;
}

/* Walk the keys of one hindex prefix (tag, id) from tail `from` (NULL: the first):
 * it->key, the tail of each in *tail. */
static void prefix_init(struct ledger_iter *it, struct ledger_txn *t, uint8_t key[HIX_KEY_MAX],
			size_t *plen, int tag, proto_str id, const void *from, size_t flen)
{
	size_t n = hix_key(key, tag, id, from, flen);

	*plen = n - flen;
	ledger_iter_init(it, t, DB_HINDEX, key, n);
}

static bool prefix_next(struct ledger_iter *it, const uint8_t *prefix, size_t plen,
			MDB_val *tail)
{
	MDB_val k, val;

	if (!ledger_iter_next(it, &k, &val) || k.mv_size < plen ||
	    memcmp(k.mv_data, prefix, plen) != 0)
		return false;
	tail->mv_data = (uint8_t *)k.mv_data + plen;
	tail->mv_size = k.mv_size - plen;
	return true;
}

/* ---- household.get ---- */

static const struct proto_field get_fields[] = {
	{ "household", PT_ID, true, 0, 0, 0, NULL },
};

static nt_err q_get(const struct ops_query_ctx *c, const struct proto_arg *a, proto_out *out,
		    uint32_t *n, char *why, size_t whylen)
{
	struct household_rec h;
	struct ledger_iter it;
	struct core_view v;
	uint8_t prefix[HIX_KEY_MAX];
	size_t plen;
	uint32_t ncases = 0;
	proto_out cases;
	MDB_val tail;
	nt_err rc;

	ops_view(&v, c);
	if ((rc = readable(c, &v, a[0].s, &h, "household.get", why, whylen)) != NT_OK)
		return rc;
	proto_out_init(&cases);
	prefix_init(&it, c->t, prefix, &plen, HIX_CASE, h.id, NULL, 0);
	while (ncases < HH_CASES_MAX && prefix_next(&it, prefix, plen, &tail)) {
		if (tail.mv_size != 8) {
			rc = NT_ECORRUPT;
			break;
		}
		msgpack_pack_uint64(&cases.pk, ledger_u64(tail.mv_data));
		ncases++;
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && (rc = c->t->err) == NT_OK) {
		proto_pack_cstr(out, "household");
		pack_full(c, out, &h, 0);
		proto_kv_bool(out, "hidden", !sees_sensitive(c, &h));
		proto_pack_cstr(out, "cases");
		msgpack_pack_array(&out->pk, ncases);
		proto_out_raw(out, cases.sb.data, cases.sb.size);
		*n = 3;
	}
	proto_out_fini(&cases);
	return rc;
}

/* ---- household.history ---- */

enum { HI_HOUSEHOLD, HI_AFTER, HI_LIMIT };
static const struct proto_field history_fields[] = {
	[HI_HOUSEHOLD] = { "household", PT_ID, true, 0, 0, 0, NULL },
	[HI_AFTER] = { "after", PT_UINT, false, 0, UINT64_MAX, 0, NULL },
	[HI_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
};

static nt_err q_history(const struct ops_query_ctx *c, const struct proto_arg *a,
			proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	uint64_t after = a[HI_AFTER].set ? a[HI_AFTER].u : 0;
	uint64_t limit = a[HI_LIMIT].set ? a[HI_LIMIT].u : 100;
	struct household_rec h;
	struct ledger_iter it;
	struct core_view v;
	uint8_t prefix[HIX_KEY_MAX], from[8], last[8];
	size_t plen;
	uint32_t items = 0;
	bool more = false;
	proto_out page;
	MDB_val tail, entry;
	nt_err rc;

	ops_view(&v, c);
	if ((rc = readable(c, &v, a[HI_HOUSEHOLD].s, &h, "household.history", why,
			   whylen)) != NT_OK)
		return rc;
	if (after == UINT64_MAX) {
		proto_pack_cstr(out, "items");
		msgpack_pack_array(&out->pk, 0);
		proto_kv_nil(out, "next");
		*n = 2;
		return NT_OK;
	}
	proto_out_init(&page);
	ledger_key_u64(from, after + 1);
	prefix_init(&it, c->t, prefix, &plen, HIX_HIST, h.id, from, sizeof from);
	while (prefix_next(&it, prefix, plen, &tail)) {
		if (items == limit) {
			more = true;
			break;
		}
		if (tail.mv_size != 8) {
			rc = NT_ECORRUPT;
			break;
		}
		memcpy(last, tail.mv_data, 8);
		if ((rc = ledger_get(c->t, DB_LOG, last, 8, &entry)) != NT_OK) {
			snprintf(why, whylen, "the history of household '%.*s' is damaged",
				 (int)h.id.len, h.id.ptr);
			rc = rc == NT_ENOTFOUND ? NT_ECORRUPT : rc;
			break;
		}
		proto_out_raw(&page, entry.mv_data, entry.mv_size);
		items++;
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && (rc = c->t->err) == NT_OK)
		ops_page_pack(out, &page, items, more, last, 8, true, n);
	proto_out_fini(&page);
	return rc;
}

/* ---- household.list ---- */

enum { HL_AFTER, HL_LIMIT, HL_VILLAGE, HL_CADRE, HL_WITHIN, HL_CATEGORY, HL_PAIRED, HL_VISITED,
       HL_FULL };
static const struct proto_field list_fields[] = {
	[HL_AFTER] = { "after", PT_ID, false, 0, 0, 0, NULL },
	[HL_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
	[HL_VILLAGE] = { "village", PT_ID, false, 0, 0, 0, NULL },
	[HL_CADRE] = { "cadre", PT_ID, false, 0, 0, 0, NULL },
	[HL_WITHIN] = { "within", PT_ID, false, 0, 0, 0, NULL },
	[HL_CATEGORY] = { "category", PT_STR, false, 1, 32, 0, hh_categories },
	[HL_PAIRED] = { "paired", PT_BOOL, false, 0, 0, 0, NULL },
	[HL_VISITED] = { "visited", PT_BOOL, false, 0, 0, 0, NULL },
	[HL_FULL] = { "full", PT_BOOL, false, 0, 0, 0, NULL },
};

/* Does h pass the list's filters (the viewer's right to read it included)? */
static nt_err list_match(const struct ops_query_ctx *c, struct core_view *v,
			 const struct proto_arg *a, const struct household_rec *h,
			 struct village_answer *reach, struct village_answer *within, bool *yes)
{
	nt_err rc;

	*yes = (!a[HL_VILLAGE].set || proto_str_same(a[HL_VILLAGE].s, h->village)) &&
	       (!a[HL_CADRE].set || proto_str_same(a[HL_CADRE].s, h->cadre)) &&
	       (!a[HL_CATEGORY].set || proto_str_eq(a[HL_CATEGORY].s, hh_categories[h->category])) &&
	       (!a[HL_PAIRED].set || a[HL_PAIRED].b == (h->cadre.len > 0)) &&
	       (!a[HL_VISITED].set || a[HL_VISITED].b == (h->visits > 0));
	if (!*yes)
		return NT_OK;
	if ((rc = may_read(c, v, h, reach, yes)) != NT_OK || !*yes)
		return rc;
	if (a[HL_WITHIN].set && !answered(within, h->village, yes)) {
		if ((rc = perm_within(v, h->village, a[HL_WITHIN].s, yes)) != NT_OK)
			return rc;
		remember(within, h->village, *yes);
	}
	return NT_OK;
}

static nt_err q_list(const struct ops_query_ctx *c, const struct proto_arg *a, proto_out *out,
		     uint32_t *n, char *why, size_t whylen)
{
	uint64_t limit = a[HL_LIMIT].set ? a[HL_LIMIT].u : 100;
	proto_str after = a[HL_AFTER].set ? a[HL_AFTER].s : PROTO_STR_NULL;
	bool by_index = a[HL_VILLAGE].set || a[HL_CADRE].set;
	struct village_answer reach = { 0 }, within = { 0 };
	struct ledger_iter it;
	struct core_view v;
	uint8_t prefix[HIX_KEY_MAX], last[PROTO_MAX_NAME_ID];
	size_t plen = 0, lastlen = 0;
	uint32_t items = 0, scanned = 0;
	bool more = false;
	proto_out page;
	nt_err rc = NT_OK;

	(void)why, (void)whylen;
	ops_view(&v, c);
	if (by_index)	/* the village's households, or the cadre's, in household id order */
		prefix_init(&it, c->t, prefix, &plen,
			    a[HL_VILLAGE].set ? HIX_VILLAGE : HIX_CADRE,
			    a[HL_VILLAGE].set ? a[HL_VILLAGE].s : a[HL_CADRE].s, after.ptr,
			    after.len);
	else
		ledger_iter_init(&it, c->t, DB_HOUSEHOLDS, after.ptr, after.len);
	proto_out_init(&page);
	for (;;) {
		struct household_rec h;
		MDB_val id, val;
		bool yes;

		if (by_index) {
			if (!prefix_next(&it, prefix, plen, &id))
				break;
		} else if (!ledger_iter_next(&it, &id, &val)) {
			break;
		}
		if (after.len > 0 && id.mv_size == after.len &&
		    memcmp(id.mv_data, after.ptr, after.len) == 0)
			continue;	/* "after" is exclusive */
		if (items == limit || scanned == OPS_LIST_SCAN) {
			more = true;
			break;
		}
		scanned++;
		if (id.mv_size == 0 || id.mv_size > sizeof last) {
			rc = NT_ECORRUPT;
			break;
		}
		memcpy(last, id.mv_data, id.mv_size);
		lastlen = id.mv_size;
		if (by_index)
			rc = core_get_household(&v, (proto_str){ (const char *)last,
								 (uint32_t)lastlen }, &h);
		else
			rc = rec_decode(val.mv_data, val.mv_size, &household_desc, &h);
		if (rc != NT_OK) {
			rc = rc == NT_ENOTFOUND ? NT_ECORRUPT : rc;	/* an index without record */
			break;
		}
		if ((rc = list_match(c, &v, a, &h, &reach, &within, &yes)) != NT_OK)
			break;
		if (!yes)
			continue;
		if (a[HL_FULL].set && a[HL_FULL].b)
			pack_full(c, &page, &h, 0);
		else
			rec_pack(&page, &household_desc, &h, REC_SUMMARY, 0);
		items++;
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && (rc = c->t->err) == NT_OK)
		ops_page_pack(out, &page, items, more, last, lastlen, false, n);
	proto_out_fini(&page);
	return rc;
}

/* ---- household.pairings: the pairing list a unit publishes ---- */

enum { PL_UNIT, PL_AFTER, PL_LIMIT };
static const struct proto_field pairings_fields[] = {
	[PL_UNIT] = { "unit", PT_ID, false, 0, 0, 0, NULL },
	[PL_AFTER] = { "after", PT_ID, false, 0, 0, 0, NULL },
	[PL_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
};

/* One cadre's line: who, and their households. */
static nt_err pack_cadre(const struct ops_query_ctx *c, struct core_view *v, proto_out *page,
			 const struct person_rec *p)
{
	struct ledger_iter it;
	uint8_t prefix[HIX_KEY_MAX];
	size_t plen;
	uint32_t nh = 0;
	proto_out hs;
	MDB_val id;
	nt_err rc = NT_OK;

	proto_out_init(&hs);
	prefix_init(&it, c->t, prefix, &plen, HIX_CADRE, p->id, NULL, 0);
	while (prefix_next(&it, prefix, plen, &id)) {
		struct household_rec h;
		bool head;

		if ((rc = core_get_household(v, (proto_str){ id.mv_data, (uint32_t)id.mv_size },
					     &h)) != NT_OK) {
			rc = rc == NT_ENOTFOUND ? NT_ECORRUPT : rc;
			break;
		}
		head = sees_sensitive(c, &h);
		msgpack_pack_map(&hs.pk, 3 + head);
		proto_kv_str(&hs, "household", h.id);
		proto_kv_str(&hs, "village", h.village);
		proto_kv_cstr(&hs, "category", hh_categories[h.category]);
		if (head)
			proto_kv_str(&hs, "head", h.head);
		nh++;
	}
	ledger_iter_close(&it);
	if (rc == NT_OK) {
		msgpack_pack_map(&page->pk, 4);
		proto_kv_str(page, "cadre", p->id);
		proto_kv_str(page, "name", p->name);
		proto_kv_str(page, "unit", p->unit);
		proto_pack_cstr(page, "households");
		msgpack_pack_array(&page->pk, nh);
		proto_out_raw(page, hs.sb.data, hs.sb.size);
	}
	proto_out_fini(&hs);
	return rc;
}

static nt_err q_pairings(const struct ops_query_ctx *c, const struct proto_arg *a,
			 proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	uint64_t limit = a[PL_LIMIT].set ? a[PL_LIMIT].u : 100;
	struct ledger_iter it;
	struct core_view v;
	struct unit_rec u;
	uint8_t last[PROTO_MAX_NAME_ID];
	size_t lastlen = 0;
	uint32_t items = 0, scanned = 0;
	bool more = false;
	proto_out page;
	MDB_val k, val;
	nt_err rc;

	ops_view(&v, c);
	if (a[PL_UNIT].set && (rc = core_get_unit(&v, a[PL_UNIT].s, &u)) != NT_OK) {
		if (rc == NT_ENOTFOUND)
			snprintf(why, whylen, "no unit '%.*s'", (int)a[PL_UNIT].s.len,
				 a[PL_UNIT].s.ptr);
		return rc;
	}
	rc = NT_OK;
	proto_out_init(&page);
	ledger_iter_init(&it, c->t, DB_PEOPLE, a[PL_AFTER].set ? a[PL_AFTER].s.ptr : NULL,
			 a[PL_AFTER].set ? a[PL_AFTER].s.len : 0);
	while (ledger_iter_next(&it, &k, &val)) {
		struct person_rec p;
		bool yes = true;

		if (a[PL_AFTER].set && proto_str_same((proto_str){ k.mv_data, (uint32_t)k.mv_size },
						      a[PL_AFTER].s))
			continue;
		if (items == limit || scanned == OPS_LIST_SCAN) {
			more = true;
			break;
		}
		scanned++;
		if (k.mv_size > sizeof last ||
		    rec_decode(val.mv_data, val.mv_size, &person_desc, &p) != NT_OK) {
			rc = NT_ECORRUPT;
			break;
		}
		memcpy(last, k.mv_data, k.mv_size);
		lastlen = k.mv_size;
		if (a[PL_UNIT].set && (rc = perm_within(&v, p.unit, a[PL_UNIT].s, &yes)) != NT_OK)
			break;
		if (yes && (rc = perm_pairing_cadre(&v, &p, &yes)) != NT_OK)
			break;
		if (!yes)
			continue;
		if ((rc = pack_cadre(c, &v, &page, &p)) != NT_OK)
			break;
		items++;
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && (rc = c->t->err) == NT_OK)
		ops_page_pack(out, &page, items, more, last, lastlen, false, n);
	proto_out_fini(&page);
	return rc;
}

/* a read op's data is its rule (enum ops_read_rule) */
static const enum ops_read_rule rule_one = OPS_READ_CASE, rule_list = OPS_READ_REACH;

#define N(a) (sizeof a / sizeof a[0])

const struct op household_read_ops[HOUSEHOLD_READ_NOPS] = {
	{ "household.get", false, get_fields, N(get_fields), NULL, q_get, &rule_one, false },
	{ "household.history", false, history_fields, N(history_fields), NULL, q_history,
	  &rule_one, false },
	{ "household.list", false, list_fields, N(list_fields), NULL, q_list, &rule_list, false },
	/* any person reads it (it is published), but each head only as they may */
	{ "household.pairings", false, pairings_fields, N(pairings_fields), NULL, q_pairings,
	  &rule_list, false },
};
