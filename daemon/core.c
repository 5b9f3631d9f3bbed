/*
 * core.c - the pure core: what the write ops do to the ledger. This file holds what they
 * share, and the ops on units, people and the campaign; daemon/core_case.c holds the
 * ops on cases.
 *
 * Nothing here performs I/O. An op reads the ledger through struct core_view, decides,
 * and encodes its decision into struct core_effect: records to store (puts), the log
 * entry's topic and fields, the reply's fields. If an op returns an error, its effect is
 * discarded whole, so a refused request changes nothing. An op that would change nothing
 * (a unit put again exactly as it is) leaves topic NULL: no log entry, no seq, and the
 * reply says changed: false; that is what makes importing the same file twice harmless.
 *
 * Adding a write op means: a schema (struct proto_field[]), one function, and one row in
 * a table of ops here or in core_case.c. The loop does not change.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "perm.h"

void core_effect_init(struct core_effect *e)
{
	memset(e, 0, sizeof *e);
	proto_out_init(&e->buf);
}

void core_effect_reset(struct core_effect *e)
{
	/* field by field: the puts array is large and only its first nputs entries count */
	e->nputs = 0;
	e->topic = NULL;
	e->case_id = 0;
	e->new_case = false;
	memset(&e->entry, 0, sizeof e->entry);
	memset(&e->reply, 0, sizeof e->reply);
	proto_out_reset(&e->buf);
}

void core_effect_fini(struct core_effect *e)
{
	if (e == NULL)
		return;
	proto_out_fini(&e->buf);
	free(e->puts);
	e->puts = NULL;
	e->capputs = 0;
}

struct core_put *core_put_begin(struct core_effect *e, enum ledger_db db, const void *key,
				size_t klen, bool append)
{
	struct core_put *p;

	if (e->nputs == e->capputs) {
		unsigned cap = e->capputs ? 2 * e->capputs : 8;
		struct core_put *more = cap <= CORE_MAX_PUTS ? realloc(e->puts, cap * sizeof *more)
							     : NULL;

		if (more == NULL) {
			/* out of memory, or an op beyond its bound: the effect fails whole */
			e->buf.oom = true;
			p = &e->spare;
			goto fill;
		}
		e->puts = more;
		e->capputs = cap;
	}
	p = &e->puts[e->nputs++];
fill:

	p->db = db;
	memcpy(p->key, key, klen);
	p->klen = (uint32_t)klen;
	p->voff = e->buf.sb.size;
	p->append = append;
	p->del = false;
	return p;
}

void core_del(struct core_effect *e, enum ledger_db db, const void *key, size_t klen)
{
	struct core_put *p = core_put_begin(e, db, key, klen, false);

	p->del = true;
	p->vlen = 0;
}

void core_put_end(struct core_effect *e, struct core_put *p)
{
	p->vlen = e->buf.sb.size - p->voff;
}

void core_put_rec(struct core_effect *e, enum ledger_db db, const void *key, size_t klen,
		  bool append, const struct rec_desc *d, const void *rec)
{
	struct core_put *p = core_put_begin(e, db, key, klen, append);

	rec_encode(&e->buf, d, rec);
	core_put_end(e, p);
}

/* The stamps of a record put again: created as before (or now), updated now. */
static void stamp(const struct core_view *v, bool exists, int64_t *created_at,
		  uint64_t *created_seq, int64_t *updated_at, uint64_t *updated_seq)
{
	if (!exists) {
		*created_at = v->now;
		*created_seq = v->seq;
	}
	*updated_at = v->now;
	*updated_seq = v->seq;
}

void core_kvs_begin(struct core_effect *e, struct core_kvs *k)
{
	k->off = e->buf.sb.size;
	k->n = 0;
}

void core_kvs_end(struct core_effect *e, struct core_kvs *k)
{
	k->len = e->buf.sb.size - k->off;
}

uint32_t core_pack_args(struct core_effect *e, const struct core_req *r, uint64_t skip)
{
	uint32_t n = 0;

	for (size_t i = 0; i < r->op->nfields; i++) {
		if (!r->args[i].set || (skip >> i) & 1)
			continue;
		proto_kv_obj(&e->buf, r->op->fields[i].key, r->args[i].o);
		n++;
	}
	return n;
}

/* ---- reading records through the view ---- */

static nt_err get_rec(const struct core_view *v, enum ledger_db db, const void *key,
		      size_t klen, const struct rec_desc *d, void *rec)
{
	MDB_val val;
	nt_err rc = v->get(v->ctx, db, key, klen, &val);

	if (rc != NT_OK)
		return rc;
	return rec_decode(val.mv_data, val.mv_size, d, rec);
}

nt_err core_get_unit(const struct core_view *v, proto_str id, struct unit_rec *u)
{
	return get_rec(v, DB_UNITS, id.ptr, id.len, &unit_desc, u);
}

nt_err core_get_person(const struct core_view *v, proto_str id, struct person_rec *p)
{
	if (id.len == 0 || id.len > PROTO_MAX_NAME_ID)
		return NT_ENOTFOUND;
	return get_rec(v, DB_PEOPLE, id.ptr, id.len, &person_desc, p);
}

nt_err core_get_case(const struct core_view *v, uint64_t id, struct case_rec *c)
{
	uint8_t key[8];

	ledger_key_u64(key, id);
	return get_rec(v, DB_CASES, key, sizeof key, &case_desc, c);
}

nt_err core_get_campaign(const struct core_view *v, struct campaign_rec *c)
{
	nt_err rc = get_rec(v, DB_META, META_CAMPAIGN, strlen(META_CAMPAIGN), &campaign_desc, c);

	if (rc == NT_ENOTFOUND) {
		memset(c, 0, sizeof *c);
		c->threshold = CAMPAIGN_DEFAULT_THRESHOLD;
		return NT_OK;
	}
	return rc;
}

/* Reply {<key>: id, changed: bool}; the entry is the record's summary. */
static void finish_put(struct core_effect *e, const char *key, proto_str id, bool changed,
		       const struct rec_desc *d, const void *rec)
{
	if (changed && d != NULL) {	/* else the op packed its own entry */
		core_kvs_begin(e, &e->entry);
		e->entry.n = rec_pack_pairs(&e->buf, d, rec, REC_SUMMARY, 0);
		core_kvs_end(e, &e->entry);
	}
	core_kvs_begin(e, &e->reply);
	proto_kv_str(&e->buf, key, id);
	proto_kv_bool(&e->buf, "changed", changed);
	e->reply.n = 2;
	core_kvs_end(e, &e->reply);
}

/* ---- unit.put ---- */

enum { U_UNIT, U_NAME, U_KIND, U_PARENT };
static const struct proto_field unit_put_fields[] = {
	[U_UNIT] = { "unit", PT_ID, true, 0, 0, 0, NULL },
	[U_NAME] = { "name", PT_LINE, true, 1, MODEL_MAX_NAME, 0, NULL },
	[U_KIND] = { "kind", PT_STR, true, 1, 16, 0, unit_kinds },
	[U_PARENT] = { "parent", PT_ID, false, 0, 0, 0, NULL },
};

/* Which kinds of unit each kind hangs under. */
static bool parent_fits(uint32_t kind, uint32_t parent_kind)
{
	switch (kind) {
	case UNIT_TOWNSHIP:
	case UNIT_STREET:
	case UNIT_ORGAN:
		return parent_kind == UNIT_COUNTY;
	case UNIT_VILLAGE:
		return parent_kind == UNIT_TOWNSHIP || parent_kind == UNIT_STREET;
	}
	return false;
}

static nt_err unit_put(const struct core_view *v, const struct core_req *r,
		       struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	struct unit_rec u = { 0 }, old = { 0 }, par;
	MDB_val val;
	bool exists;
	nt_err rc;

	if ((rc = perm_admin(v, r->actor, why, whylen)) != NT_OK)
		return rc;
	u.id = a[U_UNIT].s;
	u.name = a[U_NAME].s;
	u.kind = (uint32_t)rec_enum_find(unit_kinds, a[U_KIND].s);
	u.parent = a[U_PARENT].set ? a[U_PARENT].s : PROTO_STR_NULL;

	rc = core_get_unit(v, u.id, &old);
	if (rc != NT_OK && rc != NT_ENOTFOUND)
		return rc;
	exists = rc == NT_OK;
	if (exists && old.kind != u.kind) {
		snprintf(why, whylen, "unit '%.*s' is a %s; a unit's kind cannot change",
			 (int)u.id.len, u.id.ptr, unit_kinds[old.kind]);
		return NT_ECONFLICT;
	}
	if (u.kind == UNIT_COUNTY) {
		if (u.parent.len > 0) {
			snprintf(why, whylen, "the county is the root of the tree: it has no parent");
			return NT_EBADREQ;
		}
		rc = v->get(v->ctx, DB_META, "county", 6, &val);
		if (rc != NT_OK && rc != NT_ENOTFOUND)
			return rc;
		if (rc == NT_OK && !proto_str_same((proto_str){ val.mv_data, (uint32_t)val.mv_size }, u.id)) {
			snprintf(why, whylen, "the ledger already has a county, '%.*s'",
				 (int)val.mv_size, (const char *)val.mv_data);
			return NT_ECONFLICT;
		}
	} else {
		if (u.parent.len == 0) {
			snprintf(why, whylen, "a %s needs a parent (%s)", unit_kinds[u.kind],
				 u.kind == UNIT_VILLAGE ? "a township or street" : "the county");
			return NT_EBADREQ;
		}
		rc = core_get_unit(v, u.parent, &par);
		if (rc == NT_ENOTFOUND) {
			snprintf(why, whylen, "no unit '%.*s' (the parent)", (int)u.parent.len,
				 u.parent.ptr);
			return NT_ENOTFOUND;
		}
		if (rc != NT_OK)
			return rc;
		if (!parent_fits(u.kind, par.kind)) {
			snprintf(why, whylen, "a unit of kind %s cannot be under one of kind %s "
				 "('%.*s'): villages hang under townships and streets, everything else "
				 "under the county",
				 unit_kinds[u.kind], unit_kinds[par.kind], (int)par.id.len, par.id.ptr);
			return NT_EBADREQ;
		}
	}
	if (exists && proto_str_same(old.name, u.name) && proto_str_same(old.parent, u.parent)) {
		finish_put(e, "unit", u.id, false, NULL, NULL);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	u.created_at = old.created_at;
	u.created_seq = old.created_seq;
	stamp(v, exists, &u.created_at, &u.created_seq, &u.updated_at, &u.updated_seq);
	core_put_rec(e, DB_UNITS, u.id.ptr, u.id.len, false, &unit_desc, &u);
	if (u.kind == UNIT_COUNTY && !exists) {
		struct core_put *p = core_put_begin(e, DB_META, "county", 6, false);

		proto_out_raw(&e->buf, u.id.ptr, u.id.len);
		core_put_end(e, p);
	}
	e->topic = exists ? "unit.updated" : "unit.created";
	finish_put(e, "unit", u.id, true, &unit_desc, &u);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- person.put ---- */

enum { P_PERSON, P_NAME, P_UNIT, P_ROLES, P_VILLAGE };
static const struct proto_field person_put_fields[] = {
	[P_PERSON] = { "person", PT_ID, true, 0, 0, 0, NULL },
	[P_NAME] = { "name", PT_LINE, true, 1, MODEL_MAX_NAME, 0, NULL },
	[P_UNIT] = { "unit", PT_ID, true, 0, 0, 0, NULL },
	[P_ROLES] = { "roles", PT_STRS, true, 1, 8, 32, NULL },
	[P_VILLAGE] = { "village", PT_ID, false, 0, 0, 0, NULL },
};

static uint64_t admins_get(const struct core_view *v, nt_err *rc)
{
	MDB_val val;

	*rc = v->get(v->ctx, DB_META, META_ADMINS, strlen(META_ADMINS), &val);
	if (*rc == NT_ENOTFOUND) {
		*rc = NT_OK;
		return 0;
	}
	if (*rc == NT_OK && val.mv_size != 8)
		*rc = NT_ECORRUPT;
	return *rc == NT_OK ? ledger_u64(val.mv_data) : 0;
}

static nt_err person_put(const struct core_view *v, const struct core_req *r,
			 struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	const msgpack_object *roles = a[P_ROLES].o;
	struct person_rec p = { 0 }, old = { 0 };
	struct unit_rec u;
	uint64_t admins;
	bool exists;
	nt_err rc;

	if ((rc = perm_admin(v, r->actor, why, whylen)) != NT_OK)
		return rc;
	p.id = a[P_PERSON].s;
	p.name = a[P_NAME].s;
	p.unit = a[P_UNIT].s;
	p.village = a[P_VILLAGE].set ? a[P_VILLAGE].s : PROTO_STR_NULL;
	for (uint32_t i = 0; i < roles->via.array.size; i++) {
		proto_str name;
		int bit;

		proto_obj_str(&roles->via.array.ptr[i], &name);
		if ((bit = rec_enum_find(role_names, name)) < 0) {
			snprintf(why, whylen, "unknown role '%.*s'; the roles are cadre, "
				 "resident_cadre, leader, unit_head, county_leader, theme_office, "
				 "supervision, admin", (int)name.len, name.ptr);
			return NT_EBADREQ;
		}
		p.roles |= 1u << bit;
	}
	if ((rc = core_get_unit(v, p.unit, &u)) == NT_ENOTFOUND) {
		snprintf(why, whylen, "no unit '%.*s'", (int)p.unit.len, p.unit.ptr);
		return rc;
	}
	if (rc != NT_OK)
		return rc;
	if ((p.roles & ROLE_RESIDENT) != 0 && p.village.len == 0) {
		snprintf(why, whylen, "a village-resident cadre needs 'village': the village "
			 "they are stationed in");
		return NT_EBADREQ;
	}
	if ((p.roles & ROLE_RESIDENT) == 0 && p.village.len > 0) {
		snprintf(why, whylen, "'village' is for village-resident cadres (role "
			 "resident_cadre)");
		return NT_EBADREQ;
	}
	if (p.village.len > 0) {
		if ((rc = core_get_unit(v, p.village, &u)) != NT_OK && rc != NT_ENOTFOUND)
			return rc;
		if (rc == NT_ENOTFOUND) {
			snprintf(why, whylen, "no unit '%.*s' (the village)", (int)p.village.len,
				 p.village.ptr);
			return rc;
		}
		if (u.kind != UNIT_VILLAGE) {
			snprintf(why, whylen, "'%.*s' is not a village", (int)p.village.len,
				 p.village.ptr);
			return NT_EBADREQ;
		}
	}

	rc = core_get_person(v, p.id, &old);
	if (rc != NT_OK && rc != NT_ENOTFOUND)
		return rc;
	exists = rc == NT_OK;
	admins = admins_get(v, &rc);
	if (rc != NT_OK)
		return rc;
	if (exists && (old.roles & ROLE_ADMIN) && !(p.roles & ROLE_ADMIN) && admins <= 1) {
		snprintf(why, whylen, "'%.*s' is the last admin: make someone else an admin first",
			 (int)p.id.len, p.id.ptr);
		return NT_ECONFLICT;
	}
	if (exists && proto_str_same(old.name, p.name) && proto_str_same(old.unit, p.unit) &&
	    old.roles == p.roles && proto_str_same(old.village, p.village)) {
		finish_put(e, "person", p.id, false, NULL, NULL);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	p.created_at = old.created_at;
	p.created_seq = old.created_seq;
	p.key = old.key;	/* only key.add and key.revoke change it */
	stamp(v, exists, &p.created_at, &p.created_seq, &p.updated_at, &p.updated_seq);
	core_put_rec(e, DB_PEOPLE, p.id.ptr, p.id.len, false, &person_desc, &p);
	if ((old.roles & ROLE_ADMIN) != (p.roles & ROLE_ADMIN)) {
		struct core_put *put = core_put_begin(e, DB_META, META_ADMINS,
						      strlen(META_ADMINS), false);
		uint8_t n[8];

		ledger_key_u64(n, (p.roles & ROLE_ADMIN) ? admins + 1 : admins - 1);
		proto_out_raw(&e->buf, n, sizeof n);
		core_put_end(e, put);
	}
	e->topic = exists ? "person.updated" : "person.created";
	finish_put(e, "person", p.id, true, &person_desc, &p);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- key.add, key.revoke: a person's CURVE public key ---- */

/*
 * A person has at most one key. It lives on their record (so person.get shows it and an
 * export carries it) and in the keys index, key -> person, which is what the daemon's
 * ZAP handler and its check of every request read (daemon/auth.c). key.add of a new key
 * replaces the old one, which stops working at once: that is how a key is rotated.
 * key.revoke takes the key away. Both are the admin's, like person.put.
 */
enum { K_PERSON, K_KEY };
static const struct proto_field key_add_fields[] = {
	[K_PERSON] = { "person", PT_ID, true, 0, 0, 0, NULL },
	[K_KEY] = { "key", PT_STR, true, PROTO_KEY_LEN, PROTO_KEY_LEN, 0, NULL },
};
static const struct proto_field key_revoke_fields[] = {
	[K_PERSON] = { "person", PT_ID, true, 0, 0, 0, NULL },
};

/* Store p with key (empty: none) instead of its old one; the entry names the person and
 * the key added or revoked. */
static void key_set(const struct core_view *v, struct core_effect *e, struct person_rec *p,
		      proto_str key, const char *topic)
{
	proto_str old = p->key;

	if (old.len > 0)
		core_del(e, DB_KEYS, old.ptr, old.len);
	if (key.len > 0) {
		struct core_put *put = core_put_begin(e, DB_KEYS, key.ptr, key.len, false);

		proto_out_raw(&e->buf, p->id.ptr, p->id.len);
		core_put_end(e, put);
	}
	p->key = key;
	stamp(v, true, &p->created_at, &p->created_seq, &p->updated_at, &p->updated_seq);
	core_put_rec(e, DB_PEOPLE, p->id.ptr, p->id.len, false, &person_desc, p);
	e->topic = topic;
	core_kvs_begin(e, &e->entry);
	proto_kv_str(&e->buf, "person", p->id);
	proto_kv_str(&e->buf, "key", key.len > 0 ? key : old);
	e->entry.n = 2;
	core_kvs_end(e, &e->entry);
}

/* The person a key op names, after the admin check. */
static nt_err key_person(const struct core_view *v, const struct core_req *r,
			 struct person_rec *p, char *why, size_t whylen)
{
	proto_str id = r->args[K_PERSON].s;
	nt_err rc;

	if ((rc = perm_admin(v, r->actor, why, whylen)) != NT_OK)
		return rc;
	if ((rc = core_get_person(v, id, p)) == NT_ENOTFOUND)
		snprintf(why, whylen, "no person '%.*s'", (int)id.len, id.ptr);
	return rc;
}

static nt_err key_add(const struct core_view *v, const struct core_req *r,
		      struct core_effect *e, char *why, size_t whylen)
{
	proto_str key = r->args[K_KEY].s;
	struct person_rec p;
	MDB_val val;
	nt_err rc;

	if ((rc = key_person(v, r, &p, why, whylen)) != NT_OK)
		return rc;
	if (!proto_key_valid(key)) {
		snprintf(why, whylen, "'key' is not a CURVE public key: 40 characters of Z85, "
			 "as nanti key gen prints it");
		return NT_EBADREQ;
	}
	rc = v->get(v->ctx, DB_KEYS, key.ptr, key.len, &val);
	if (rc != NT_OK && rc != NT_ENOTFOUND)
		return rc;
	if (rc == NT_OK && !proto_str_same((proto_str){ val.mv_data, (uint32_t)val.mv_size },
					   p.id)) {
		snprintf(why, whylen, "this key is already '%.*s''s: each person needs a key of "
			 "their own", (int)val.mv_size, (const char *)val.mv_data);
		return NT_ECONFLICT;
	}
	if (rc == NT_OK) {
		finish_put(e, "person", p.id, false, NULL, NULL);
		return e->buf.oom ? NT_ENOMEM : NT_OK;
	}
	key_set(v, e, &p, key, "key.added");
	finish_put(e, "person", p.id, true, NULL, NULL);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

static nt_err key_revoke(const struct core_view *v, const struct core_req *r,
			 struct core_effect *e, char *why, size_t whylen)
{
	struct person_rec p;
	bool had;
	nt_err rc;

	if ((rc = key_person(v, r, &p, why, whylen)) != NT_OK)
		return rc;
	if ((had = p.key.len > 0))
		key_set(v, e, &p, PROTO_STR_NULL, "key.revoked");
	finish_put(e, "person", p.id, had, NULL, NULL);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- campaign.set ---- */

enum { G_NAME, G_START, G_END, G_IDENTIFY, G_CONSULT, G_PLAN, G_COMMIT, G_JOURNAL,
       G_THRESHOLD, G_PAIR, G_VISIT };
static const struct proto_field campaign_set_fields[] = {
	[G_NAME] = { "name", PT_LINE, true, 1, MODEL_MAX_NAME, 0, NULL },
	[G_START] = { "start", PT_DATE, true, 0, 0, 0, NULL },
	[G_END] = { "end", PT_DATE, true, 0, 0, 0, NULL },
	[G_IDENTIFY] = { "identify_by", PT_DATE, false, 0, 0, 0, NULL },
	[G_CONSULT] = { "consult_by", PT_DATE, false, 0, 0, 0, NULL },
	[G_PLAN] = { "plan_by", PT_DATE, false, 0, 0, 0, NULL },
	[G_COMMIT] = { "commit_by", PT_DATE, false, 0, 0, 0, NULL },
	[G_JOURNAL] = { "journal_by", PT_DATE, false, 0, 0, 0, NULL },
	[G_THRESHOLD] = { "threshold", PT_UINT, false, 0, 100, 0, NULL },
	[G_PAIR] = { "pair_by", PT_DATE, false, 0, 0, 0, NULL },
	[G_VISIT] = { "visit_by", PT_DATE, false, 0, 0, 0, NULL },
};

static nt_err campaign_set(const struct core_view *v, const struct core_req *r,
			   struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	struct campaign_rec c = { 0 };
	struct person_rec actor;
	/* the milestones' dates, by argument */
	const struct { unsigned arg; int64_t *day; } dates[] = {
		{ G_IDENTIFY, &c.identify_by }, { G_CONSULT, &c.consult_by },
		{ G_PLAN, &c.plan_by }, { G_COMMIT, &c.commit_by }, { G_JOURNAL, &c.journal_by },
		{ G_PAIR, &c.pair_by }, { G_VISIT, &c.visit_by },
	};
	nt_err rc;

	if ((rc = perm_actor(v, r->actor, &actor, why, whylen)) != NT_OK)
		return rc;
	if (!(actor.roles & (ROLE_THEME | ROLE_ADMIN))) {
		snprintf(why, whylen, "only the theme office or an admin defines the campaign");
		return NT_EFORBIDDEN;
	}
	c.name = a[G_NAME].s;
	c.start = (int64_t)a[G_START].u;
	c.end = (int64_t)a[G_END].u;
	if (c.end < c.start) {
		snprintf(why, whylen, "the campaign ends before it starts");
		return NT_EBADREQ;
	}
	for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
		const struct proto_arg *m = &a[dates[i].arg];

		if (!m->set)
			continue;
		*dates[i].day = (int64_t)m->u;
		if (*dates[i].day < c.start || *dates[i].day > c.end) {
			snprintf(why, whylen, "'%s' %.*s is outside the campaign",
				 r->op->fields[dates[i].arg].key, (int)m->s.len, m->s.ptr);
			return NT_EBADREQ;
		}
	}
	c.threshold = a[G_THRESHOLD].set ? (uint32_t)a[G_THRESHOLD].u : CAMPAIGN_DEFAULT_THRESHOLD;
	c.set_at = v->now;
	c.set_seq = v->seq;

	core_put_rec(e, DB_META, META_CAMPAIGN, strlen(META_CAMPAIGN), false, &campaign_desc, &c);
	if ((rc = core_milestones_rearm(v, e, &c)) != NT_OK)
		return rc;
	e->topic = "campaign.set";
	core_kvs_begin(e, &e->entry);
	e->entry.n = rec_pack_pairs(&e->buf, &campaign_desc, &c, 0, 0);
	core_kvs_end(e, &e->entry);
	core_kvs_begin(e, &e->reply);
	proto_kv_str(&e->buf, "name", c.name);
	e->reply.n = 1;
	core_kvs_end(e, &e->reply);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

#define N(a) (sizeof a / sizeof a[0])

const struct op core_org_ops[] = {
	{ "unit.put", true, unit_put_fields, N(unit_put_fields), unit_put, NULL, NULL, false },
	{ "person.put", true, person_put_fields, N(person_put_fields), person_put, NULL, NULL, false },
	{ "campaign.set", true, campaign_set_fields, N(campaign_set_fields), campaign_set, NULL,
	  NULL, false },
	{ "key.add", true, key_add_fields, N(key_add_fields), key_add, NULL, NULL, false },
	{ "key.revoke", true, key_revoke_fields, N(key_revoke_fields), key_revoke, NULL, NULL,
	  false },
};
const size_t core_org_nops = N(core_org_ops);

/* ---- request hashes ---- */

/* One key/value pair's share of a request's hash: a sum of mixed pair hashes, so that
 * key order does not matter. */
static uint64_t pair_hash(const msgpack_object *key, const msgpack_object *val)
{
	uint64_t h = proto_hash_obj(val, proto_hash_obj(key, PROTO_HASH_SEED));

	return h * 0x9e3779b97f4a7c15ULL + (h >> 29);
}

uint64_t core_request_hash(const msgpack_object *body)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < body->via.map.size; i++) {
		const msgpack_object_kv *kv = &body->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 2 &&
		    memcmp(kv->key.via.str.ptr, "id", 2) == 0)
			continue;
		sum += pair_hash(&kv->key, &kv->val);
	}
	return sum;
}

uint64_t core_request_hash_actor(proto_str actor)
{
	msgpack_object key = { .type = MSGPACK_OBJECT_STR, .via.str = { 5, "actor" } };
	msgpack_object val = { .type = MSGPACK_OBJECT_STR,
			       .via.str = { actor.len, actor.ptr } };

	return pair_hash(&key, &val);
}
