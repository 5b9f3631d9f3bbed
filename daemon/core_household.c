/*
 * core_household.c - the pure core of the household register (民情档案): putting a
 * household, pairing it with a cadre (一户一干部), visits, and household consultations
 * (民情会诊). docs/protocol.md sections 8, 9 and 11 ("Households") are the contract.
 *
 * Like every write op, these read the ledger through the view and encode what they
 * decide into the effect. Besides the record, a household has derived keys in `hindex`
 * (model.h): its history, the village and cadre indexes, the cases that concern it. The
 * one place that keeps the indexes in step with the record is hh_store(); the one place
 * that links an entry into a household's history is hh_link().
 *
 * Privacy: a household's identifying fields are REC_SENSITIVE in its field table. They
 * are stored in the record only; an entry names the sensitive keys a put changed, never
 * their values (docs/security.md).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "perm.h"

static nt_err refuse(char *why, size_t whylen, nt_err rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static nt_err refuse(char *why, size_t whylen, nt_err rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return rc;
}

nt_err core_get_household(const struct core_view *v, proto_str id, struct household_rec *h)
{
	MDB_val val;
	nt_err rc;

	if (id.len == 0 || id.len > PROTO_MAX_NAME_ID)
		return NT_ENOTFOUND;
	if ((rc = v->get(v->ctx, DB_HOUSEHOLDS, id.ptr, id.len, &val)) != NT_OK)
		return rc;
	return rec_decode(val.mv_data, val.mv_size, &household_desc, h);
}

nt_err core_get_household_named(const struct core_view *v, proto_str id,
				struct household_rec *h, char *why, size_t whylen)
{
	nt_err rc = core_get_household(v, id, h);

	if (rc == NT_ENOTFOUND)
		return refuse(why, whylen, rc, "no household '%.*s'", (int)id.len, id.ptr);
	return rc;
}

/* The village a request names: it exists and is a village. */
static nt_err get_village(const struct core_view *v, proto_str id, char *why, size_t whylen)
{
	struct unit_rec u;
	nt_err rc = core_get_unit(v, id, &u);

	if (rc == NT_ENOTFOUND)
		return refuse(why, whylen, rc, "no unit '%.*s' (the village)", (int)id.len, id.ptr);
	if (rc != NT_OK)
		return rc;
	if (u.kind != UNIT_VILLAGE)
		return refuse(why, whylen, NT_EBADREQ, "'%.*s' is a %s, not a village",
			      (int)id.len, id.ptr, unit_kinds[u.kind]);
	return NT_OK;
}

/* An index key with nothing after the id's NUL but its tail: put or deleted. */
static void hix_put(struct core_effect *e, int tag, proto_str id, proto_str tail, bool del)
{
	uint8_t key[HIX_KEY_MAX];
	size_t n = hix_key(key, tag, id, tail.ptr, tail.len);

	if (del)
		core_del(e, DB_HINDEX, key, n);
	else
		core_put_end(e, core_put_begin(e, DB_HINDEX, key, n, false));
}

/* Link this event's entry into household id's history. A consultation's link holds "c",
 * which is how case.open knows that consultation discussed the household. */
static void hh_link(const struct core_view *v, struct core_effect *e, proto_str id,
		    bool consultation)
{
	uint8_t key[HIX_KEY_MAX], seq[8];
	size_t klen;
	struct core_put *p;

	ledger_key_u64(seq, v->seq);
	klen = hix_key(key, HIX_HIST, id, seq, sizeof seq);
	p = core_put_begin(e, DB_HINDEX, key, klen, false);
	if (consultation)
		proto_out_raw(&e->buf, "c", 1);
	core_put_end(e, p);
}

/*
 * Store household h, which was old (NULL: new) before this event: the record, stamped
 * with this event; the village and cadre indexes moved where they changed; the event
 * linked into its history.
 */
static void hh_store(const struct core_view *v, struct core_effect *e, struct household_rec *h,
		     const struct household_rec *old, bool consultation)
{
	if (old == NULL) {
		h->created_at = v->now;
		h->created_seq = v->seq;
	}
	h->updated_at = v->now;
	h->updated_seq = v->seq;
	core_put_rec(e, DB_HOUSEHOLDS, h->id.ptr, h->id.len, false, &household_desc, h);
	if (old == NULL || !proto_str_same(old->village, h->village)) {
		if (old != NULL)
			hix_put(e, HIX_VILLAGE, old->village, h->id, true);
		hix_put(e, HIX_VILLAGE, h->village, h->id, false);
	}
	if (old == NULL || !proto_str_same(old->cadre, h->cadre)) {
		if (old != NULL && old->cadre.len > 0)
			hix_put(e, HIX_CADRE, old->cadre, h->id, true);
		if (h->cadre.len > 0)
			hix_put(e, HIX_CADRE, h->cadre, h->id, false);
	}
	hh_link(v, e, h->id, consultation);
}

/* The entry's head: the household's summary. */
static void entry_summary(struct core_effect *e, const struct household_rec *h)
{
	core_kvs_begin(e, &e->entry);
	e->entry.n = rec_pack_pairs(&e->buf, &household_desc, h, REC_SUMMARY, 0);
}

/* The reply: household, then changed (or what the op gives). */
static void reply_household(struct core_effect *e, proto_str id, bool changed)
{
	core_kvs_begin(e, &e->reply);
	proto_kv_str(&e->buf, "household", id);
	proto_kv_bool(&e->buf, "changed", changed);
	e->reply.n = 2;
	core_kvs_end(e, &e->reply);
}

static bool county_office(const struct person_rec *p)
{
	return (p->roles & (ROLE_THEME | ROLE_ADMIN)) != 0;
}

/* Does actor reach unit? As a refusal naming the op's rule when not. */
static nt_err need_reach(const struct core_view *v, const struct person_rec *actor,
			 proto_str unit, const char *op, const char *rule, char *why,
			 size_t whylen)
{
	bool yes;
	nt_err rc = perm_reaches(v, actor, unit, &yes);

	if (rc != NT_OK)
		return rc;
	if (!yes)
		return refuse(why, whylen, NT_EFORBIDDEN, "%s: %s, and '%.*s' is outside the "
			      "reach of '%.*s'", op, rule, (int)unit.len, unit.ptr,
			      (int)actor->id.len, actor->id.ptr);
	return NT_OK;
}

/* ---- household.put ---- */

enum { HP_HOUSEHOLD, HP_VILLAGE, HP_CATEGORY, HP_MEMBERS, HP_NEEDS, HP_HEAD, HP_ID_NUMBER,
       HP_PHONE, HP_ADDRESS, HP_MEMBER_NAMES, HP_NOTES };
static const struct proto_field put_fields[] = {
	[HP_HOUSEHOLD] = { "household", PT_ID, true, 0, 0, 0, NULL },
	[HP_VILLAGE] = { "village", PT_ID, true, 0, 0, 0, NULL },
	[HP_CATEGORY] = { "category", PT_STR, true, 1, 32, 0, hh_categories },
	[HP_MEMBERS] = { "members", PT_UINT, true, 1, HH_MAX_MEMBERS, 0, NULL },
	[HP_NEEDS] = { "needs", PT_STRS, false, 0, HH_MAX_NEEDS, HH_MAX_NEED, NULL },
	[HP_HEAD] = { "head", PT_LINE, true, 1, MODEL_MAX_NAME, 0, NULL },
	[HP_ID_NUMBER] = { "id_number", PT_LINE, false, 1, 32, 0, NULL },
	[HP_PHONE] = { "phone", PT_LINE, false, 1, 32, 0, NULL },
	[HP_ADDRESS] = { "address", PT_LINE, false, 1, CASE_MAX_TITLE, 0, NULL },
	[HP_MEMBER_NAMES] = { "member_names", PT_STRS, false, 0, HH_MAX_NAMES, MODEL_MAX_NAME,
			      NULL },
	[HP_NOTES] = { "notes", PT_STR, false, 0, HH_MAX_NOTES, 0, NULL },
};
_Static_assert(sizeof put_fields / sizeof put_fields[0] == HH_PUT_FIELDS,
	       "household.put sends the fields the table's first HH_PUT_FIELDS describe");

static proto_str opt_str(const struct proto_arg *a)
{
	return a->set ? a->s : PROTO_STR_NULL;
}

/* Copy a list argument into strs (n of them); with unique, false if an item comes twice
 * (needs are a set; two members may share a name). */
static bool take_list(const struct proto_arg *a, proto_str *strs, uint32_t *n, bool unique)
{
	*n = 0;
	if (!a->set)
		return true;
	for (uint32_t i = 0; i < a->o->via.array.size; i++) {
		proto_obj_str(&a->o->via.array.ptr[i], &strs[i]);
		for (uint32_t j = 0; unique && j < i; j++)
			if (proto_str_same(strs[i], strs[j]))
				return false;
		(*n)++;
	}
	return true;
}

static nt_err household_put(const struct core_view *v, const struct core_req *r,
			    struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	struct household_rec h, old;
	struct person_rec actor;
	uint32_t nchanged = 0;
	bool exists, changed[HH_PUT_FIELDS];
	nt_err rc;

	if ((rc = perm_actor(v, r->actor, &actor, why, whylen)) != NT_OK)
		return rc;
	if ((rc = get_village(v, a[HP_VILLAGE].s, why, whylen)) != NT_OK)
		return rc;
	rc = core_get_household(v, a[HP_HOUSEHOLD].s, &old);
	if (rc != NT_OK && rc != NT_ENOTFOUND)
		return rc;
	exists = rc == NT_OK;
	if (!county_office(&actor)) {
		static const char rule[] = "the register is kept by admins, the theme office and "
					   "those whose reach holds the village";

		if ((rc = need_reach(v, &actor, a[HP_VILLAGE].s, "household.put", rule, why,
				     whylen)) != NT_OK)
			return rc;
		if (exists && (rc = need_reach(v, &actor, old.village, "household.put", rule, why,
					       whylen)) != NT_OK)
			return rc;
	}

	/* what the request describes, over what the campaign did with it */
	if (exists)
		h = old;
	else
		memset(&h, 0, sizeof h);
	h.id = a[HP_HOUSEHOLD].s;
	h.village = a[HP_VILLAGE].s;
	h.category = (uint32_t)rec_enum_find(hh_categories, a[HP_CATEGORY].s);
	h.members = (uint32_t)a[HP_MEMBERS].u;
	if (!take_list(&a[HP_NEEDS], h.needs, &h.nneeds, true))
		return refuse(why, whylen, NT_EBADREQ, "'needs' names a need twice");
	h.head = a[HP_HEAD].s;
	h.id_number = opt_str(&a[HP_ID_NUMBER]);
	h.phone = opt_str(&a[HP_PHONE]);
	h.address = opt_str(&a[HP_ADDRESS]);
	take_list(&a[HP_MEMBER_NAMES], h.member_names, &h.nmember_names, false);
	h.notes = opt_str(&a[HP_NOTES]);

	for (size_t i = 0; i < HH_PUT_FIELDS; i++) {
		changed[i] = !exists ? a[i].set
				     : !rec_field_same(&household_desc.fields[i], &h, &old);
		nchanged += changed[i];
	}
	if (exists && nchanged == 0) {
		reply_household(e, h.id, false);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	hh_store(v, e, &h, exists ? &old : NULL, false);

	e->topic = exists ? "household.updated" : "household.created";
	entry_summary(e, &h);
	proto_pack_cstr(&e->buf, "changed");
	msgpack_pack_array(&e->buf.pk, nchanged);
	for (size_t i = 0; i < HH_PUT_FIELDS; i++)
		if (changed[i])
			proto_pack_cstr(&e->buf, household_desc.fields[i].key);
	e->entry.n++;
	if (exists && changed[HP_VILLAGE]) {
		proto_kv_str(&e->buf, "moved_from", old.village);
		e->entry.n++;
	}
	core_kvs_end(e, &e->entry);
	reply_household(e, h.id, true);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- household.pair, household.unpair ---- */

enum { PA_HOUSEHOLD, PA_CADRE };
static const struct proto_field pair_fields[] = {
	[PA_HOUSEHOLD] = { "household", PT_ID, true, 0, 0, 0, NULL },
	[PA_CADRE] = { "cadre", PT_ID, true, 0, 0, 0, NULL },
};
static const struct proto_field unpair_fields[] = {
	[PA_HOUSEHOLD] = { "household", PT_ID, true, 0, 0, 0, NULL },
};

/* Pairing is decided by the offices and by the unit heads over the village. */
static nt_err may_pair(const struct core_view *v, const struct person_rec *actor,
		       const struct household_rec *h, const char *op, char *why, size_t whylen)
{
	if (county_office(actor))
		return NT_OK;
	if (!(actor->roles & ROLE_HEAD))
		return refuse(why, whylen, NT_EFORBIDDEN, "%s: households are paired by admins, "
			      "the theme office and the unit heads over the village, and '%.*s' is "
			      "none of them", op, (int)actor->id.len, actor->id.ptr);
	return need_reach(v, actor, h->village, op, "a unit head pairs the households of "
			  "villages within their reach", why, whylen);
}

static nt_err household_pair(const struct core_view *v, const struct core_req *r,
			     struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	struct household_rec h, old;
	struct person_rec actor, cadre;
	bool ok;
	nt_err rc;

	if ((rc = perm_actor(v, r->actor, &actor, why, whylen)) != NT_OK ||
	    (rc = core_get_household_named(v, a[PA_HOUSEHOLD].s, &h, why, whylen)) != NT_OK)
		return rc;
	if ((rc = core_get_person(v, a[PA_CADRE].s, &cadre)) == NT_ENOTFOUND)
		return refuse(why, whylen, rc, "no person '%.*s' (the cadre)",
			      (int)a[PA_CADRE].s.len, a[PA_CADRE].s.ptr);
	if (rc != NT_OK || (rc = perm_pairing_cadre(v, &cadre, &ok)) != NT_OK)
		return rc;
	if (!ok)
		return refuse(why, whylen, NT_EBADREQ, "'%.*s' cannot be paired with a household: "
			      "pairing cadres are county leaders, leadership members, unit heads and "
			      "cadres of a township, street, organ or the county",
			      (int)cadre.id.len, cadre.id.ptr);
	if ((rc = may_pair(v, &actor, &h, "household.pair", why, whylen)) != NT_OK)
		return rc;
	if (proto_str_same(h.cadre, cadre.id)) {
		reply_household(e, h.id, false);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	old = h;
	h.cadre = cadre.id;
	h.paired_at = v->now;
	hh_store(v, e, &h, &old, false);

	e->topic = "household.paired";
	core_kvs_begin(e, &e->entry);
	proto_kv_str(&e->buf, "household", h.id);
	proto_kv_str(&e->buf, "village", h.village);
	proto_kv_cstr(&e->buf, "category", hh_categories[h.category]);
	proto_kv_str(&e->buf, "cadre", h.cadre);
	e->entry.n = 4;
	if (old.cadre.len > 0) {
		proto_kv_str(&e->buf, "previous", old.cadre);
		e->entry.n++;
	}
	core_kvs_end(e, &e->entry);
	reply_household(e, h.id, true);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

static nt_err household_unpair(const struct core_view *v, const struct core_req *r,
			       struct core_effect *e, char *why, size_t whylen)
{
	struct household_rec h, old;
	struct person_rec actor;
	nt_err rc;

	if ((rc = perm_actor(v, r->actor, &actor, why, whylen)) != NT_OK ||
	    (rc = core_get_household_named(v, r->args[PA_HOUSEHOLD].s, &h, why, whylen)) != NT_OK ||
	    (rc = may_pair(v, &actor, &h, "household.unpair", why, whylen)) != NT_OK)
		return rc;
	if (h.cadre.len == 0) {
		reply_household(e, h.id, false);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	old = h;
	h.cadre = PROTO_STR_NULL;
	h.paired_at = 0;
	hh_store(v, e, &h, &old, false);

	e->topic = "household.unpaired";
	core_kvs_begin(e, &e->entry);
	proto_kv_str(&e->buf, "household", h.id);
	proto_kv_str(&e->buf, "village", h.village);
	proto_kv_str(&e->buf, "cadre", old.cadre);
	e->entry.n = 3;
	core_kvs_end(e, &e->entry);
	reply_household(e, h.id, true);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- household.visit ---- */

enum { HV_HOUSEHOLD, HV_DATE, HV_DONE, HV_SUPPORT };
static const struct proto_field visit_fields[] = {
	[HV_HOUSEHOLD] = { "household", PT_ID, true, 0, 0, 0, NULL },
	[HV_DATE] = { "date", PT_DATE, false, 0, 0, 0, NULL },
	[HV_DONE] = { "done", PT_STR, true, 1, HH_MAX_TEXT, 0, NULL },
	[HV_SUPPORT] = { "support", PT_STR, false, 0, HH_MAX_TEXT, 0, NULL },
};

/* The day a request's optional date names (default today), not after today. */
static nt_err past_day(const struct core_view *v, const struct proto_arg *a, int64_t *day,
		       char *why, size_t whylen)
{
	*day = a->set ? (int64_t)a->u : core_today(v);
	if (*day > core_today(v))
		return refuse(why, whylen, NT_EBADREQ, "'date' %.*s is in the future: record what "
			      "has happened", (int)a->s.len, a->s.ptr);
	return NT_OK;
}

static nt_err household_visit(const struct core_view *v, const struct core_req *r,
			      struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	struct household_rec h, old;
	struct person_rec actor;
	int64_t day;
	bool first;
	char d[11];
	nt_err rc;

	if ((rc = perm_actor(v, r->actor, &actor, why, whylen)) != NT_OK ||
	    (rc = core_get_household_named(v, a[HV_HOUSEHOLD].s, &h, why, whylen)) != NT_OK ||
	    (rc = past_day(v, &a[HV_DATE], &day, why, whylen)) != NT_OK)
		return rc;
	if (!(actor.roles & ROLE_THEME) && !proto_str_same(h.cadre, actor.id) &&
	    (rc = need_reach(v, &actor, h.village, "household.visit", "a household is visited "
			     "by its cadre, the theme office or those whose reach holds its "
			     "village", why, whylen)) != NT_OK)
		return rc;
	old = h;
	first = h.visits == 0;
	h.visits++;
	if (h.first_visit == 0 || day < h.first_visit)
		h.first_visit = day;
	if (day > h.last_visit)
		h.last_visit = day;
	hh_store(v, e, &h, &old, false);

	e->topic = "household.visited";
	core_kvs_begin(e, &e->entry);
	proto_kv_str(&e->buf, "household", h.id);
	proto_kv_str(&e->buf, "village", h.village);
	e->entry.n = 2;
	if (h.cadre.len > 0) {
		proto_kv_str(&e->buf, "cadre", h.cadre);
		e->entry.n++;
	}
	proto_date_format(day, d);
	proto_kv_cstr(&e->buf, "date", d);
	proto_kv_str(&e->buf, "done", a[HV_DONE].s);
	e->entry.n += 2;
	if (a[HV_SUPPORT].set) {
		proto_kv_str(&e->buf, "support", a[HV_SUPPORT].s);
		e->entry.n++;
	}
	proto_kv_bool(&e->buf, "first", first);
	e->entry.n++;
	core_kvs_end(e, &e->entry);

	core_kvs_begin(e, &e->reply);
	proto_kv_str(&e->buf, "household", h.id);
	proto_kv_u64(&e->buf, "visits", h.visits);
	e->reply.n = 2;
	core_kvs_end(e, &e->reply);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- household.consult ---- */

enum { HC_VILLAGE, HC_DATE, HC_HOUSEHOLDS, HC_PARTICIPANTS, HC_RESIDENTS, HC_SUMMARY };
static const struct proto_field consult_fields[] = {
	[HC_VILLAGE] = { "village", PT_ID, true, 0, 0, 0, NULL },
	[HC_DATE] = { "date", PT_DATE, false, 0, 0, 0, NULL },
	[HC_HOUSEHOLDS] = { "households", PT_IDS, true, 1, HH_MAX_CONSULT, 0, NULL },
	[HC_PARTICIPANTS] = { "participants", PT_IDS, false, 0, 50, 0, NULL },
	[HC_RESIDENTS] = { "residents", PT_UINT, false, 0, 10000, 0, NULL },
	[HC_SUMMARY] = { "summary", PT_STR, false, 0, CASE_MAX_TEXT, 0, NULL },
};

static nt_err household_consult(const struct core_view *v, const struct core_req *r,
				struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	const msgpack_object *hs = a[HC_HOUSEHOLDS].o, *ps = a[HC_PARTICIPANTS].o;
	proto_str village = a[HC_VILLAGE].s;
	struct person_rec actor, p;
	int64_t day;
	char d[11];
	nt_err rc;

	if ((rc = perm_actor(v, r->actor, &actor, why, whylen)) != NT_OK ||
	    (rc = get_village(v, village, why, whylen)) != NT_OK ||
	    (rc = past_day(v, &a[HC_DATE], &day, why, whylen)) != NT_OK)
		return rc;
	for (uint32_t i = 0; i < hs->via.array.size; i++) {
		struct household_rec h;
		proto_str id;

		proto_obj_str(&hs->via.array.ptr[i], &id);
		if ((rc = core_get_household_named(v, id, &h, why, whylen)) != NT_OK)
			return rc;
		if (!proto_str_same(h.village, village))
			return refuse(why, whylen, NT_EBADREQ, "household '%.*s' is of village "
				      "'%.*s', not '%.*s': a consultation discusses the households "
				      "of its village", (int)id.len, id.ptr, (int)h.village.len,
				      h.village.ptr, (int)village.len, village.ptr);
	}
	for (uint32_t i = 0; a[HC_PARTICIPANTS].set && i < ps->via.array.size; i++) {
		proto_str id;

		proto_obj_str(&ps->via.array.ptr[i], &id);
		if ((rc = core_get_person(v, id, &p)) == NT_ENOTFOUND)
			return refuse(why, whylen, rc, "no person '%.*s' (a participant)",
				      (int)id.len, id.ptr);
		if (rc != NT_OK)
			return rc;
	}
	if (!(actor.roles & ROLE_THEME) &&
	    (rc = need_reach(v, &actor, village, "household.consult", "a consultation is held "
			     "by those whose reach holds the village, or the theme office", why,
			     whylen)) != NT_OK)
		return rc;

	/* each household discussed counts it, and has it in its history */
	for (uint32_t i = 0; i < hs->via.array.size; i++) {
		struct household_rec h, old;
		proto_str id;

		proto_obj_str(&hs->via.array.ptr[i], &id);
		if ((rc = core_get_household(v, id, &h)) != NT_OK)
			return rc;
		old = h;
		h.consultations++;
		hh_store(v, e, &h, &old, true);
	}

	{
		/* the consultation itself, by seq: what case.open checks a consultation by */
		uint8_t key[HIX_KEY_MAX], be[8];
		struct core_put *put;

		ledger_key_u64(be, v->seq);
		put = core_put_begin(e, DB_HINDEX, key,
				   hix_key(key, HIX_CONSULT, PROTO_STR_NULL, be, sizeof be), false);
		proto_out_raw(&e->buf, village.ptr, village.len);
		core_put_end(e, put);
	}
	e->topic = "household.consulted";
	core_kvs_begin(e, &e->entry);
	proto_kv_str(&e->buf, "village", village);
	proto_date_format(day, d);
	proto_kv_cstr(&e->buf, "date", d);
	proto_kv_obj(&e->buf, "households", hs);
	proto_pack_cstr(&e->buf, "participants");
	if (a[HC_PARTICIPANTS].set)
		msgpack_pack_object(&e->buf.pk, *ps);
	else
		msgpack_pack_array(&e->buf.pk, 0);
	proto_kv_u64(&e->buf, "residents", a[HC_RESIDENTS].set ? a[HC_RESIDENTS].u : 0);
	e->entry.n = 5;
	if (a[HC_SUMMARY].set) {
		proto_kv_str(&e->buf, "summary", a[HC_SUMMARY].s);
		e->entry.n++;
	}
	core_kvs_end(e, &e->entry);

	core_kvs_begin(e, &e->reply);
	proto_kv_u64(&e->buf, "consultation", v->seq);
	e->reply.n = 1;
	core_kvs_end(e, &e->reply);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- the households of a new case (case.open) ---- */

/* Is seq a household consultation's? Its entry put the key HIX_CONSULT for it. */
static nt_err is_consultation(const struct core_view *v, uint64_t seq, bool *yes)
{
	uint8_t key[HIX_KEY_MAX], be[8];
	size_t klen;
	MDB_val val;
	nt_err rc;

	ledger_key_u64(be, seq);
	klen = hix_key(key, HIX_CONSULT, PROTO_STR_NULL, be, sizeof be);
	rc = v->get(v->ctx, DB_HINDEX, key, klen, &val);
	*yes = rc == NT_OK;
	return rc == NT_ENOTFOUND ? NT_OK : rc;
}

nt_err core_case_households(const struct core_view *v, const struct person_rec *actor,
			    struct case_rec *c, const struct proto_arg *households,
			    const struct proto_arg *consultation, struct core_effect *e,
			    char *why, size_t whylen)
{
	uint64_t cons = consultation->set ? consultation->u : 0;
	nt_err rc;

	if (!households->set) {
		if (cons != 0)
			return refuse(why, whylen, NT_EBADREQ, "'consultation' needs 'households': "
				      "the households of the consultation the case concerns");
		return NT_OK;
	}
	for (uint32_t i = 0; i < households->o->via.array.size; i++) {
		struct household_rec h;
		proto_str id;
		bool yes;

		proto_obj_str(&households->o->via.array.ptr[i], &id);
		if ((rc = core_get_household_named(v, id, &h, why, whylen)) != NT_OK ||
		    (rc = perm_household_read(v, actor, &h, &yes)) != NT_OK)
			return rc;
		if (!yes)
			return refuse(why, whylen, NT_EFORBIDDEN, "case.open: household '%.*s' of "
				      "village '%.*s' is outside the reach of '%.*s'", (int)id.len,
				      id.ptr, (int)h.village.len, h.village.ptr,
				      (int)actor->id.len, actor->id.ptr);
		if (cons != 0) {
			uint8_t key[HIX_KEY_MAX], seq[8];
			size_t klen;
			MDB_val val;

			/* the consultation linked itself into the history of each household it
			 * discussed, marked "c" (hh_link) */
			ledger_key_u64(seq, cons);
			klen = hix_key(key, HIX_HIST, id, seq, sizeof seq);
			rc = v->get(v->ctx, DB_HINDEX, key, klen, &val);
			if (rc != NT_OK && rc != NT_ENOTFOUND)
				return rc;
			if (rc == NT_ENOTFOUND || val.mv_size != 1 || *(char *)val.mv_data != 'c') {
				if ((rc = is_consultation(v, cons, &yes)) != NT_OK)
					return rc;
				if (!yes)
					return refuse(why, whylen, NT_ENOTFOUND, "no household "
						      "consultation at seq %" PRIu64, cons);
				return refuse(why, whylen, NT_EBADREQ, "consultation %" PRIu64
					      " did not discuss household '%.*s'", cons,
					      (int)id.len, id.ptr);
			}
		}
		c->households[c->nhouseholds++] = id;
	}
	c->consultation = cons;
	/* each household lists the case and has its opening in its history */
	for (uint32_t i = 0; i < c->nhouseholds; i++) {
		uint8_t caseid[8];

		ledger_key_u64(caseid, c->id);
		hix_put(e, HIX_CASE, c->households[i], (proto_str){ (const char *)caseid, 8 },
			false);
		hh_link(v, e, c->households[i], false);
	}
	return NT_OK;
}

#define N(a) (sizeof a / sizeof a[0])

const struct op core_household_ops[] = {
	{ "household.put", true, put_fields, N(put_fields), household_put, NULL, NULL, false },
	{ "household.pair", true, pair_fields, N(pair_fields), household_pair, NULL, NULL, false },
	{ "household.unpair", true, unpair_fields, N(unpair_fields), household_unpair, NULL, NULL,
	  false },
	{ "household.visit", true, visit_fields, N(visit_fields), household_visit, NULL, NULL,
	  false },
	{ "household.consult", true, consult_fields, N(consult_fields), household_consult, NULL,
	  NULL, false },
};
const size_t core_household_nops = N(core_household_ops);
