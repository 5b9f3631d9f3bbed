/*
 * test_core.c - the pure core: units, people, the campaign, and the life of a case, with
 * its rules of order and of permission.
 *
 * The core is driven as daemon/batch.c drives it, through an in-memory ledger: a small
 * table of (database, key, value) stands in for LMDB, and storing an effect copies its
 * puts into it. Requests are built with proto_out, decoded with proto_request() and
 * checked with the op's own schema (ops_find()), so the core sees the same well-typed
 * arguments it sees in the daemon. No LMDB, no sockets: the whole file runs in
 * milliseconds. The same rules are tested again through the real daemon in
 * tests/integration/test_workflow.py.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cal.h"
#include "core.h"
#include "ops.h"
#include "../tap.h"

#define NOW 1780000000000LL	/* 2026-05-29 04:26 +08 */
#define TODAY "2026-05-29"

/* ---- the fake ledger ---- */

#define FAKE_MAX 256

struct kv {
	enum ledger_db db;
	uint8_t key[LEDGER_MAX_KEY];
	size_t klen;
	proto_out val;
};

struct fake {
	struct kv kv[FAKE_MAX];
	size_t n;
	uint64_t next_case, seq;
	int64_t now;
	const struct cal *cal;		/* NULL: weekends only */
	const struct core_policy *policy;	/* NULL: the default */
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof *f);

	f->next_case = 1;
	f->seq = 1;
	f->now = NOW;
	return f;
}

static void fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->n; i++)
		proto_out_fini(&f->kv[i].val);
	free(f);
}

static struct kv *fake_find(struct fake *f, enum ledger_db db, const void *key, size_t klen)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->kv[i].db == db && f->kv[i].klen == klen && memcmp(f->kv[i].key, key, klen) == 0)
			return &f->kv[i];
	return NULL;
}

static nt_err fake_get(void *ctx, enum ledger_db db, const void *key, size_t klen, MDB_val *val)
{
	struct kv *kv = fake_find(ctx, db, key, klen);

	if (kv == NULL)
		return NT_ENOTFOUND;
	val->mv_data = kv->val.sb.data;
	val->mv_size = kv->val.sb.size;
	return NT_OK;
}

static size_t fake_count(struct fake *f, enum ledger_db db)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += f->kv[i].db == db;
	return n;
}

static void fake_store(struct fake *f, const struct core_effect *e)
{
	for (unsigned i = 0; i < e->nputs; i++) {
		const struct core_put *p = &e->puts[i];
		struct kv *kv = fake_find(f, p->db, p->key, p->klen);

		if (p->del) {
			/* the core deletes only what it put, but for a timer firing that finds
			 * its timer gone: it deletes the key again, in case a stray is left */
			CHECK(kv != NULL || p->db == DB_TIMERS);
			if (kv != NULL) {
				proto_out_fini(&kv->val);
				*kv = f->kv[--f->n];
			}
			continue;
		}
		if (kv == NULL) {
			if (f->n == FAKE_MAX)
				abort();
			kv = &f->kv[f->n++];
			kv->db = p->db;
			memcpy(kv->key, p->key, p->klen);
			kv->klen = p->klen;
			proto_out_init(&kv->val);
		}
		proto_out_reset(&kv->val);
		proto_out_raw(&kv->val, e->buf.sb.data + p->voff, p->vlen);
	}
}

/* ---- requests ---- */

/*
 * apply(&res, f, op, actor, "key", value, ..., NULL): build the request, check it against
 * the op's schema, apply it, and store the effect if it was accepted. The first character
 * of a key spec gives the value's type: "s:title" a string, "u:case" an unsigned (pass
 * uint64_t), "b:stable" a bool (pass int), "l:units" a NULL-terminated list of strings.
 */
struct result {
	nt_err rc;
	char why[PROTO_WHY];
	const char *topic;
	uint64_t seq;			/* the entry's seq, if it made one */
	proto_out ebuf, rbuf;		/* the entry's and the reply's pairs, as a map */
	proto_doc entry, reply;		/* decoded from ebuf and rbuf */
};

static void result_fini(struct result *r)
{
	proto_doc_fini(&r->entry);
	proto_doc_fini(&r->reply);
	proto_out_fini(&r->ebuf);
	proto_out_fini(&r->rbuf);
	memset(r, 0, sizeof *r);
}

static void kvs_copy(proto_out *o, proto_doc *doc, const struct core_effect *e,
		     const struct core_kvs *k)
{
	msgpack_pack_map(&o->pk, k->n);
	proto_out_raw(o, e->buf.sb.data + k->off, k->len);
	CHECK(proto_parse(doc, o->sb.data, o->sb.size, NULL, 0) == NT_OK);
}

static void pack_args(proto_out *pairs, uint32_t *n, va_list ap)
{
	const char *spec;

	while ((spec = va_arg(ap, const char *)) != NULL) {
		proto_pack_cstr(pairs, spec + 2);
		switch (spec[0]) {
		case 's':
			proto_pack_cstr(pairs, va_arg(ap, const char *));
			break;
		case 'u':
			msgpack_pack_uint64(&pairs->pk, va_arg(ap, uint64_t));
			break;
		case 'b':
			if (va_arg(ap, int))
				msgpack_pack_true(&pairs->pk);
			else
				msgpack_pack_false(&pairs->pk);
			break;
		case 'l': {
			const char **l = va_arg(ap, const char **);
			uint32_t k = 0;

			while (l[k] != NULL)
				k++;
			msgpack_pack_array(&pairs->pk, k);
			for (uint32_t i = 0; i < k; i++)
				proto_pack_cstr(pairs, l[i]);
			break;
		}
		default:
			abort();
		}
		(*n)++;
	}
}

static void apply(struct result *res, struct fake *f, const char *opname, const char *actor,
		  ...)
{
	struct proto_request req;
	struct proto_arg args[OPS_MAX_FIELDS];
	proto_doc doc = { 0 };
	struct core_effect e;
	const struct op *op;
	proto_out pairs, body;
	uint32_t n = 0;
	va_list ap;

	result_fini(res);
	proto_out_init(&res->ebuf);
	proto_out_init(&res->rbuf);
	proto_out_init(&pairs);
	proto_out_init(&body);
	va_start(ap, actor);
	pack_args(&pairs, &n, ap);
	va_end(ap);
	msgpack_pack_map(&body.pk, n + 3);
	proto_kv_cstr(&body, "op", opname);
	proto_kv_cstr(&body, "id", "req-1");
	proto_kv_cstr(&body, "actor", actor);
	proto_out_raw(&body, pairs.sb.data, pairs.sb.size);

	core_effect_init(&e);
	op = ops_find((proto_str){ opname, (uint32_t)strlen(opname) });
	if (op == NULL || !op->write) {
		res->rc = NT_EUNKNOWNOP;
		goto out;
	}
	res->rc = proto_request(&doc, body.sb.data, body.sb.size, &req, res->why, sizeof res->why);
	if (res->rc == NT_OK)
		res->rc = proto_fields(req.body, op->fields, op->nfields, args, res->why,
				       sizeof res->why);
	if (res->rc == NT_OK) {
		struct core_view v = { f, fake_get, f->next_case, f->seq, f->now, f->cal,
				       f->policy };
		struct core_req r = { req.id, req.actor, args, op };

		res->rc = op->apply(&v, &r, &e, res->why, sizeof res->why);
	}
	if (res->rc == NT_OK) {
		CHECK(!e.buf.oom);
		res->topic = e.topic;
		kvs_copy(&res->ebuf, &res->entry, &e, &e.entry);
		kvs_copy(&res->rbuf, &res->reply, &e, &e.reply);
		fake_store(f, &e);
		if (e.topic != NULL) {
			res->seq = f->seq++;
			if (e.new_case)
				f->next_case++;
		}
	}
out:
	proto_doc_fini(&doc);
	core_effect_fini(&e);
	proto_out_fini(&pairs);
	proto_out_fini(&body);
}

/* Did res fail with code e and a message containing part? Prints what it got if not. */
static bool refused(const struct result *res, nt_err e, const char *part)
{
	if (res->rc == e && strstr(res->why, part) != NULL)
		return true;
	printf("# wanted %s with \"%s\", got %s: %s\n", nt_err_code(e), part,
	       nt_err_code(res->rc), res->why);
	return false;
}

static bool accepted(const struct result *res)
{
	if (res->rc == NT_OK)
		return true;
	printf("# refused: %s: %s\n", nt_err_code(res->rc), res->why);
	return false;
}

static bool doc_str(const proto_doc *d, const char *key, const char *want)
{
	proto_str s;

	return d->live && proto_obj_str(proto_map_get(&d->root, key), &s) && proto_str_eq(s, want);
}

static bool doc_u64(const proto_doc *d, const char *key, uint64_t want)
{
	uint64_t v;

	return d->live && proto_obj_u64(proto_map_get(&d->root, key), &v) && v == want;
}

static struct case_rec case_of(struct fake *f, uint64_t id)
{
	struct core_view v = { f, fake_get, 0, 0, 0, NULL, NULL };
	struct case_rec c;

	memset(&c, 0, sizeof c);
	CHECK(core_get_case(&v, id, &c) == NT_OK);
	return c;
}

/* ---- a county to work in ---- */

/*
 * county
 *   anling (township): dongcun, xicun (villages)
 *   tianshi (township): beicun (village)
 *   transport (organ)
 * people: admin; li (cadre in anling), zhang (unit head of anling), wu (cadre in
 * dongcun), chen (cadre in tianshi), zhou (village-resident cadre of tianshi, stationed
 * in beicun), theme (theme office), sup (supervision), boss (county leader),
 * qian (leadership member of tianshi)
 */
static struct fake *county(void)
{
	struct fake *f = fake_new();
	struct result r = { 0 };
	static const struct { const char *id, *kind, *parent; } units[] = {
		{ "county", "county", NULL }, { "anling", "township", "county" },
		{ "tianshi", "township", "county" }, { "transport", "organ", "county" },
		{ "dongcun", "village", "anling" }, { "xicun", "village", "anling" },
		{ "beicun", "village", "tianshi" },
	};
	static const struct { const char *id, *unit, *role, *role2, *village; } people[] = {
		{ "admin", "county", "admin", NULL, NULL },
		{ "li", "anling", "cadre", NULL, NULL },
		{ "zhang", "anling", "unit_head", "leader", NULL },
		{ "wu", "dongcun", "cadre", NULL, NULL },
		{ "chen", "tianshi", "cadre", NULL, NULL },
		{ "zhou", "tianshi", "resident_cadre", NULL, "beicun" },
		{ "theme", "county", "theme_office", NULL, NULL },
		{ "sup", "county", "supervision", NULL, NULL },
		{ "boss", "county", "county_leader", NULL, NULL },
		{ "qian", "tianshi", "leader", NULL, NULL },
	};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (units[i].parent != NULL)
			apply(&r, f, "unit.put", "admin", "s:unit", units[i].id, "s:name", units[i].id,
			      "s:kind", units[i].kind, "s:parent", units[i].parent, NULL);
		else
			apply(&r, f, "unit.put", "admin", "s:unit", units[i].id, "s:name", units[i].id,
			      "s:kind", units[i].kind, NULL);
		CHECK(accepted(&r));
	}
	for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
		const char *roles[] = { people[i].role, people[i].role2, NULL };

		if (people[i].village != NULL)
			apply(&r, f, "person.put", "admin", "s:person", people[i].id, "s:name",
			      people[i].id, "s:unit", people[i].unit, "l:roles", roles,
			      "s:village", people[i].village, NULL);
		else
			apply(&r, f, "person.put", "admin", "s:person", people[i].id, "s:name",
			      people[i].id, "s:unit", people[i].unit, "l:roles", roles, NULL);
		CHECK(accepted(&r));
	}
	result_fini(&r);
	return f;
}

/* Open a problem in unit led by lead, opened by actor; returns its id (0: refused). */
static uint64_t open_case(struct fake *f, const char *actor, const char *unit, const char *lead)
{
	struct result r = { 0 };
	uint64_t id = 0;

	apply(&r, f, "case.open", actor, "s:title", "村道破损", "s:area", "livelihood", "s:unit",
	      unit, "s:lead", lead, NULL);
	if (accepted(&r))
		CHECK(proto_obj_u64(proto_map_get(&r.reply.root, "case"), &id));
	result_fini(&r);
	return id;
}

#define STEP_TO(f, id, actor, step) step_to(f, id, actor, step, __LINE__)

/* Take case id, led by lead, forward to step with good evidence. */
static void step_to(struct fake *f, uint64_t id, const char *lead, enum case_step step, int line)
{
	const char *units[] = { "anling", NULL };
	struct result r = { 0 };
	struct case_rec c = case_of(f, id);

	while (c.step < step) {
		switch (c.step) {
		case STEP_IDENTIFIED:
			apply(&r, f, "case.plan", lead, "u:case", id, "s:measures", "修复路面",
			      "s:schedule", "六月完成", "s:deadline", "2026-09-30", "l:units", units,
			      NULL);
			break;
		case STEP_PLANNED:
			apply(&r, f, "case.consult", lead, "u:case", id, "s:date", TODAY, "s:place",
			      "村部", "u:residents", (uint64_t)30, "s:summary", "agreed", NULL);
			CHECK(accepted(&r));
			apply(&r, f, "case.commit", lead, "u:case", id, "s:venue", "county_news",
			      "s:date", TODAY, "s:ref", "县报 第12期", NULL);
			break;
		case STEP_COMMITTED:
			apply(&r, f, "case.coordinate", lead, "u:case", id, "s:form", "onsite",
			      "s:date", TODAY, "s:summary", "site meeting", NULL);
			CHECK(accepted(&r));
			apply(&r, f, "case.resolve", lead, "u:case", id, "s:summary", "paved", NULL);
			break;
		case STEP_RESOLVED:
			apply(&r, f, "case.consult", lead, "u:case", id, "s:date", TODAY, "s:place",
			      "村部", "u:residents", (uint64_t)25, "s:summary", "judged", NULL);
			CHECK(accepted(&r));
			apply(&r, f, "case.journal", lead, "u:case", id, "s:process", "p", "s:result",
			      "r", "u:satisfied", (uint64_t)20, "u:basically_satisfied", (uint64_t)3,
			      "u:dissatisfied", (uint64_t)2, NULL);
			break;
		case STEP_JOURNALED:
			apply(&r, f, "case.verify", "theme", "u:case", id, "s:verdict", "cross_off",
			      NULL);
			break;
		default:
			abort();
		}
		if (!accepted(&r)) {
			printf("# step_to from line %d stuck at %s\n", line, case_steps[c.step]);
			CHECK(0);
			break;
		}
		c = case_of(f, id);
	}
	result_fini(&r);
}

/* ---- units and people ---- */

static void until_there_is_an_admin_anyone_may_set_up_units_and_people_then_only_admins(void)
{
	struct fake *f = fake_new();
	struct result r = { 0 };
	const char *admin[] = { "admin", NULL }, *cadre[] = { "cadre", NULL };

	apply(&r, f, "unit.put", "whoever", "s:unit", "county", "s:name", "县", "s:kind", "county",
	      NULL);
	CHECK(accepted(&r) && r.topic != NULL && strcmp(r.topic, "unit.created") == 0);
	apply(&r, f, "person.put", "whoever", "s:person", "a1", "s:name", "管理员", "s:unit",
	      "county", "l:roles", admin, NULL);
	CHECK(accepted(&r));
	apply(&r, f, "person.put", "whoever", "s:person", "b", "s:name", "b", "s:unit", "county",
	      "l:roles", cadre, NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only an admin manages units and people"));
	apply(&r, f, "unit.put", "b", "s:unit", "x", "s:name", "x", "s:kind", "township",
	      "s:parent", "county", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "'b' is not one"));
	apply(&r, f, "person.put", "a1", "s:person", "b", "s:name", "b", "s:unit", "county",
	      "l:roles", cadre, NULL);
	CHECK(accepted(&r));
	result_fini(&r);
	fake_free(f);
}

static void the_unit_tree_is_county_then_townships_streets_and_organs_then_villages(void)
{
	struct fake *f = county();
	struct result r = { 0 };

	apply(&r, f, "unit.put", "admin", "s:unit", "c2", "s:name", "c2", "s:kind", "county", NULL);
	CHECK(refused(&r, NT_ECONFLICT, "already has a county, 'county'"));
	apply(&r, f, "unit.put", "admin", "s:unit", "v9", "s:name", "v9", "s:kind", "village",
	      "s:parent", "county", NULL);
	CHECK(refused(&r, NT_EBADREQ, "a unit of kind village cannot be under one of kind county"));
	apply(&r, f, "unit.put", "admin", "s:unit", "v9", "s:name", "v9", "s:kind", "village",
	      "s:parent", "transport", NULL);
	CHECK(refused(&r, NT_EBADREQ, "cannot be under one of kind organ"));
	apply(&r, f, "unit.put", "admin", "s:unit", "t9", "s:name", "t9", "s:kind", "township",
	      NULL);
	CHECK(refused(&r, NT_EBADREQ, "needs a parent (the county)"));
	apply(&r, f, "unit.put", "admin", "s:unit", "t9", "s:name", "t9", "s:kind", "township",
	      "s:parent", "nowhere", NULL);
	CHECK(refused(&r, NT_ENOTFOUND, "no unit 'nowhere'"));
	apply(&r, f, "unit.put", "admin", "s:unit", "anling", "s:name", "安岭", "s:kind", "street",
	      "s:parent", "county", NULL);
	CHECK(refused(&r, NT_ECONFLICT, "a unit's kind cannot change"));
	apply(&r, f, "unit.put", "admin", "s:unit", "bad id", "s:name", "x", "s:kind", "township",
	      "s:parent", "county", NULL);
	CHECK(refused(&r, NT_EBADREQ, "'unit' must be an id"));
	apply(&r, f, "unit.put", "admin", "s:unit", "t9", "s:name", "two\nlines", "s:kind",
	      "township", "s:parent", "county", NULL);
	CHECK(refused(&r, NT_EBADREQ, "'name' must be one line"));
	/* a village may move to another township */
	apply(&r, f, "unit.put", "admin", "s:unit", "xicun", "s:name", "西村", "s:kind", "village",
	      "s:parent", "tianshi", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "unit.updated") == 0);
	CHECK(doc_str(&r.entry, "parent", "tianshi") && doc_str(&r.entry, "name", "西村"));
	result_fini(&r);
	fake_free(f);
}

/* ---- households ---- */

static bool hix_has(struct fake *f, int tag, const char *id, const void *tail, size_t tlen,
		    const char *val)
{
	uint8_t key[HIX_KEY_MAX];
	struct kv *kv = fake_find(f, DB_HINDEX, key,
				  hix_key(key, tag, (proto_str){ id, (uint32_t)strlen(id) }, tail,
					  tlen));

	return kv != NULL && (val == NULL || (kv->val.sb.size == strlen(val) &&
					      memcmp(kv->val.sb.data, val, kv->val.sb.size) == 0));
}

static bool hist_has(struct fake *f, const char *id, uint64_t seq, const char *val)
{
	uint8_t be[8];

	ledger_key_u64(be, seq);
	return hix_has(f, HIX_HIST, id, be, 8, val);
}

static void put_household(struct result *r, struct fake *f, const char *id, const char *village,
			  const char *phone)
{
	apply(r, f, "household.put", "admin", "s:household", id, "s:village", village,
	      "s:category", "low_income", "u:members", (uint64_t)3, "s:head", "张大山",
	      "s:phone", phone, NULL);
}

static void a_household_put_keeps_its_village_index_and_history_in_step(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t first;
	size_t keys;

	put_household(&r, f, "h1", "dongcun", "13905790000");
	CHECK(accepted(&r) && strcmp(r.topic, "household.created") == 0);
	first = r.seq;
	CHECK(hix_has(f, HIX_VILLAGE, "dongcun", "h1", 2, "") && hist_has(f, "h1", first, ""));
	CHECK(memmem(r.ebuf.sb.data, r.ebuf.sb.size, "1390579", 7) == NULL);
	CHECK(memmem(r.ebuf.sb.data, r.ebuf.sb.size, "张大山", strlen("张大山")) == NULL);

	keys = f->n;
	put_household(&r, f, "h1", "dongcun", "13905790000");
	CHECK(accepted(&r) && r.topic == NULL && f->n == keys);	/* nothing written */

	put_household(&r, f, "h1", "xicun", "13800000000");
	CHECK(accepted(&r) && strcmp(r.topic, "household.updated") == 0);
	CHECK(doc_str(&r.entry, "moved_from", "dongcun"));
	CHECK(!hix_has(f, HIX_VILLAGE, "dongcun", "h1", 2, NULL) &&
	      hix_has(f, HIX_VILLAGE, "xicun", "h1", 2, ""));
	CHECK(hist_has(f, "h1", first, "") && hist_has(f, "h1", r.seq, ""));
	CHECK(memmem(r.ebuf.sb.data, r.ebuf.sb.size, "13800000000", 11) == NULL &&
	      memmem(r.ebuf.sb.data, r.ebuf.sb.size, "phone", 5) != NULL);	/* named only */

	/* out of reach: a cadre of tianshi keeps anling's register */
	put_household(&r, f, "h2", "dongcun", "1");
	apply(&r, f, "household.put", "chen", "s:household", "h2", "s:village", "beicun",
	      "s:category", "other", "u:members", (uint64_t)1, "s:head", "x", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "outside the reach"));
	result_fini(&r);
	fake_free(f);
}

static void pairing_moves_the_cadre_index_and_only_pairing_cadres_are_paired(void)
{
	struct fake *f = county();
	struct result r = { 0 };

	put_household(&r, f, "h1", "dongcun", "1");
	apply(&r, f, "household.pair", "admin", "s:household", "h1", "s:cadre", "wu", NULL);
	CHECK(refused(&r, NT_EBADREQ, "cannot be paired"));	/* a village's cadre */
	apply(&r, f, "household.pair", "li", "s:household", "h1", "s:cadre", "li", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "unit heads"));
	apply(&r, f, "household.pair", "zhang", "s:household", "h1", "s:cadre", "li", NULL);
	CHECK(accepted(&r) && hix_has(f, HIX_CADRE, "li", "h1", 2, ""));
	apply(&r, f, "household.pair", "theme", "s:household", "h1", "s:cadre", "zhang", NULL);
	CHECK(accepted(&r) && doc_str(&r.entry, "previous", "li"));
	CHECK(!hix_has(f, HIX_CADRE, "li", "h1", 2, NULL) &&
	      hix_has(f, HIX_CADRE, "zhang", "h1", 2, ""));
	apply(&r, f, "household.unpair", "admin", "s:household", "h1", NULL);
	CHECK(accepted(&r) && !hix_has(f, HIX_CADRE, "zhang", "h1", 2, NULL));
	apply(&r, f, "household.unpair", "admin", "s:household", "h1", NULL);
	CHECK(accepted(&r) && r.topic == NULL);
	result_fini(&r);
	fake_free(f);
}

static void a_case_opened_from_a_consultation_links_the_households_it_discussed(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	const char *both[] = { "h1", "h2", NULL }, *one[] = { "h1", NULL }, *other[] = { "h3", NULL };
	uint64_t cons, id;
	uint8_t be[8];

	put_household(&r, f, "h1", "dongcun", "1");
	put_household(&r, f, "h2", "dongcun", "2");
	put_household(&r, f, "h3", "dongcun", "3");
	apply(&r, f, "household.consult", "li", "s:village", "dongcun", "l:households", both,
	      "u:residents", (uint64_t)9, NULL);
	CHECK(accepted(&r) && doc_u64(&r.reply, "consultation", r.seq));
	cons = r.seq;
	CHECK(hist_has(f, "h1", cons, "c") && hist_has(f, "h2", cons, "c") &&
	      !hist_has(f, "h3", cons, NULL));
	apply(&r, f, "case.open", "li", "s:title", "roof", "s:area", "livelihood", "s:unit",
	      "dongcun", "l:households", other, "u:consultation", cons, NULL);
	CHECK(refused(&r, NT_EBADREQ, "did not discuss household 'h3'"));
	apply(&r, f, "case.open", "li", "s:title", "roof", "s:area", "livelihood", "s:unit",
	      "dongcun", "l:households", one, "u:consultation", cons, NULL);
	CHECK(accepted(&r));
	id = f->next_case - 1;
	ledger_key_u64(be, id);
	CHECK(hix_has(f, HIX_CASE, "h1", be, 8, "") && hist_has(f, "h1", r.seq, ""));
	CHECK(case_of(f, id).nhouseholds == 1 && case_of(f, id).consultation == cons);
	result_fini(&r);
	fake_free(f);
}

static void putting_a_unit_or_person_again_unchanged_writes_nothing(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	const char *roles[] = { "leader", "unit_head", NULL };	/* the other order */
	size_t n = f->n;

	apply(&r, f, "unit.put", "admin", "s:unit", "anling", "s:name", "anling", "s:kind",
	      "township", "s:parent", "county", NULL);
	CHECK(accepted(&r) && r.topic == NULL && f->n == n);
	CHECK(doc_str(&r.reply, "unit", "anling"));
	CHECK(r.reply.live && proto_map_get(&r.reply.root, "changed")->via.boolean == false);
	apply(&r, f, "person.put", "admin", "s:person", "zhang", "s:name", "zhang", "s:unit",
	      "anling", "l:roles", roles, NULL);
	CHECK(accepted(&r) && r.topic == NULL);
	apply(&r, f, "person.put", "admin", "s:person", "zhang", "s:name", "张", "s:unit",
	      "anling", "l:roles", roles, NULL);
	CHECK(accepted(&r) && r.topic != NULL && strcmp(r.topic, "person.updated") == 0);
	CHECK(proto_map_get(&r.reply.root, "changed")->via.boolean == true);
	result_fini(&r);
	fake_free(f);
}

static void roles_and_villages_are_checked(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	const char *bad[] = { "cadre", "mayor", NULL }, *res[] = { "resident_cadre", NULL };
	const char *cadre[] = { "cadre", NULL };

	apply(&r, f, "person.put", "admin", "s:person", "p1", "s:name", "p", "s:unit", "anling",
	      "l:roles", bad, NULL);
	CHECK(refused(&r, NT_EBADREQ, "unknown role 'mayor'"));
	apply(&r, f, "person.put", "admin", "s:person", "p1", "s:name", "p", "s:unit", "anling",
	      "l:roles", res, NULL);
	CHECK(refused(&r, NT_EBADREQ, "needs 'village'"));
	apply(&r, f, "person.put", "admin", "s:person", "p1", "s:name", "p", "s:unit", "anling",
	      "l:roles", res, "s:village", "tianshi", NULL);
	CHECK(refused(&r, NT_EBADREQ, "'tianshi' is not a village"));
	apply(&r, f, "person.put", "admin", "s:person", "p1", "s:name", "p", "s:unit", "anling",
	      "l:roles", res, "s:village", "nowhere", NULL);
	CHECK(refused(&r, NT_ENOTFOUND, "no unit 'nowhere' (the village)"));
	apply(&r, f, "person.put", "admin", "s:person", "p1", "s:name", "p", "s:unit", "anling",
	      "l:roles", cadre, "s:village", "dongcun", NULL);
	CHECK(refused(&r, NT_EBADREQ, "'village' is for village-resident cadres"));
	apply(&r, f, "person.put", "admin", "s:person", "p1", "s:name", "p", "s:unit", "nowhere",
	      "l:roles", cadre, NULL);
	CHECK(refused(&r, NT_ENOTFOUND, "no unit 'nowhere'"));
	result_fini(&r);
	fake_free(f);
}

static void the_last_admin_cannot_lose_the_role(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	const char *cadre[] = { "cadre", NULL }, *admin[] = { "admin", NULL };

	apply(&r, f, "person.put", "admin", "s:person", "admin", "s:name", "admin", "s:unit",
	      "county", "l:roles", cadre, NULL);
	CHECK(refused(&r, NT_ECONFLICT, "'admin' is the last admin"));
	apply(&r, f, "person.put", "admin", "s:person", "li", "s:name", "li", "s:unit", "anling",
	      "l:roles", admin, NULL);
	CHECK(accepted(&r));
	apply(&r, f, "person.put", "admin", "s:person", "admin", "s:name", "admin", "s:unit",
	      "county", "l:roles", cadre, NULL);
	CHECK(accepted(&r));
	/* now li is the last one */
	apply(&r, f, "person.put", "li", "s:person", "li", "s:name", "li", "s:unit", "anling",
	      "l:roles", cadre, NULL);
	CHECK(refused(&r, NT_ECONFLICT, "'li' is the last admin"));
	result_fini(&r);
	fake_free(f);
}

/* ---- opening cases ---- */

static void only_registered_people_open_cases(void)
{
	struct fake *f = county();
	struct result r = { 0 };

	apply(&r, f, "case.open", "stranger", "s:title", "t", "s:area", "development", "s:unit",
	      "anling", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "'stranger' is not a person in the ledger"));
	CHECK(f->next_case == 1);
	result_fini(&r);
	fake_free(f);
}

static void a_case_is_opened_within_reach_by_its_lead_a_unit_head_or_the_theme_office(void)
{
	struct fake *f = county();
	struct result r = { 0 };

	CHECK(open_case(f, "li", "dongcun", "li") == 1);	/* own township's village */
	CHECK(open_case(f, "zhang", "dongcun", "wu") == 2);	/* a head for a member */
	CHECK(open_case(f, "theme", "beicun", "chen") == 3);	/* the theme office anywhere */
	CHECK(open_case(f, "zhou", "beicun", "zhou") == 4);	/* a resident cadre's village */
	CHECK(open_case(f, "boss", "anling", "boss") == 5);	/* a county leader anywhere */

	apply(&r, f, "case.open", "chen", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "within one's reach, by its lead, a unit head above it"));
	CHECK(refused(&r, NT_EFORBIDDEN, "('chen' may not open a case in 'dongcun' led by 'chen')"));
	/* a unit head opens cases for the people of the unit, not for others */
	apply(&r, f, "case.open", "zhang", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:lead", "chen", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "'chen' is in 'tianshi', outside 'anling'"));
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:lead", "wu", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "by its lead, a unit head above it"));
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "nowhere", NULL);
	CHECK(refused(&r, NT_ENOTFOUND, "no unit 'nowhere'"));
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "anling", "s:lead", "ghost", NULL);
	CHECK(refused(&r, NT_ENOTFOUND, "no person 'ghost'"));
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "sports", "s:unit", "anling",
	      NULL);
	CHECK(refused(&r, NT_EBADREQ, "'area' must be one of: grassroots, development, livelihood"));
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "anling", "s:deadline", "2026-05-28", NULL);
	CHECK(refused(&r, NT_EBADREQ, "the deadline 2026-05-28 is already past"));
	CHECK(f->next_case == 6);
	result_fini(&r);
	fake_free(f);
}

static void an_opened_case_is_identified_and_its_entry_carries_the_whole_case(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	const char *units[] = { "anling", "transport", NULL };
	const char *tags[] = { "roads", NULL };
	struct case_rec c;

	apply(&r, f, "case.open", "li", "s:title", "村道破损", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:source", "letters_visits", "l:units", units, "l:tags", tags,
	      "s:deadline", "2026-09-30", "s:description", "after the flood", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.opened") == 0);
	CHECK(doc_u64(&r.reply, "case", 1) && doc_str(&r.reply, "step", "identified"));
	CHECK(doc_str(&r.entry, "title", "村道破损") && doc_str(&r.entry, "lead", "li"));
	CHECK(doc_str(&r.entry, "deadline", "2026-09-30") && doc_str(&r.entry, "kind", "problem"));
	CHECK(doc_str(&r.entry, "source", "letters_visits"));
	CHECK(proto_map_get(&r.entry.root, "case") == NULL);	/* a common key of the entry */
	c = case_of(f, 1);
	CHECK(c.step == STEP_IDENTIFIED && c.nunits == 2 && c.events == 1 && c.opened_seq == r.seq);
	CHECK(fake_count(f, DB_HIST) == 1);
	result_fini(&r);
	fake_free(f);
}

static void a_petition_needs_a_case_taking_leader(void)
{
	struct fake *f = county();
	struct result r = { 0 };

	apply(&r, f, "case.open", "chen", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "tianshi", "s:kind", "petition", NULL);
	CHECK(refused(&r, NT_EBADREQ, "needs 'taker'"));
	apply(&r, f, "case.open", "chen", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "tianshi", "s:kind", "petition", "s:taker", "zhou", NULL);
	CHECK(refused(&r, NT_EBADREQ, "a county leader or a leadership member"));
	apply(&r, f, "case.open", "chen", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "tianshi", "s:taker", "qian", NULL);
	CHECK(refused(&r, NT_EBADREQ, "'taker' is for petition cases"));
	apply(&r, f, "case.open", "chen", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "tianshi", "s:kind", "petition", "s:taker", "qian", NULL);
	CHECK(accepted(&r));
	result_fini(&r);
	fake_free(f);
}

/* ---- the seven steps ---- */

static void a_case_goes_through_the_seven_steps_to_crossed_off(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");
	struct case_rec c;

	STEP_TO(f, id, "li", STEP_JOURNALED);
	apply(&r, f, "case.outcome", "li", "u:case", id, "s:rule", "村道养护制度", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.outcome") == 0);
	apply(&r, f, "case.verify", "theme", "u:case", id, "s:verdict", "cross_off", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.crossed_off") == 0);
	CHECK(doc_str(&r.reply, "step", "crossed_off") && doc_str(&r.entry, "step", "crossed_off"));
	c = case_of(f, id);
	CHECK(c.step == STEP_CROSSED_OFF && c.redos == 0 && c.outcomes == 1);
	CHECK(c.consultations == 2 && c.coordinations == 1 && c.satisfied == 20);
	CHECK(c.planned_at && c.committed_at && c.resolved_at && c.journaled_at && c.crossed_at);
	/* every event is in the case's history: open, plan, 2 consult, commit, coordinate,
	 * resolve, journal, outcome, verify */
	CHECK(c.events == 10 && fake_count(f, DB_HIST) == 10);
	result_fini(&r);
	fake_free(f);
}

static void each_step_waits_for_the_one_before_and_says_which(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");
	size_t stored;

	apply(&r, f, "case.commit", "li", "u:case", id, "s:venue", "county_news", "s:date", TODAY,
	      "s:ref", "x", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "case 1 is identified; the plan comes next (case.plan)"));
	apply(&r, f, "case.resolve", "li", "u:case", id, "s:summary", "x", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "the plan comes next"));
	apply(&r, f, "case.journal", "li", "u:case", id, "s:process", "p", "s:result", "r",
	      "u:satisfied", (uint64_t)1, "u:basically_satisfied", (uint64_t)0,
	      "u:dissatisfied", (uint64_t)0, NULL);
	CHECK(refused(&r, NT_ETRANSITION, "the plan comes next"));
	apply(&r, f, "case.outcome", "li", "u:case", id, "s:rule", "x", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "is identified"));
	apply(&r, f, "case.verify", "theme", "u:case", id, "s:verdict", "cross_off", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "is identified"));
	STEP_TO(f, id, "li", STEP_PLANNED);
	apply(&r, f, "case.resolve", "li", "u:case", id, "s:summary", "x", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "the public commitment comes next (case.commit)"));
	STEP_TO(f, id, "li", STEP_COMMITTED);
	apply(&r, f, "case.plan", "li", "u:case", id, "s:measures", "m", "s:schedule", "s",
	      "s:deadline", "2026-09-30", "l:units", (const char *[]){ "anling", NULL }, NULL);
	CHECK(refused(&r, NT_ETRANSITION, "is committed; the resolution comes next"));
	STEP_TO(f, id, "li", STEP_CROSSED_OFF);
	stored = f->n;
	apply(&r, f, "case.consult", "li", "u:case", id, "s:date", TODAY, "s:place", "p",
	      "u:residents", (uint64_t)3, "s:summary", "s", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "it is crossed off; the theme office may reopen it"));
	CHECK(f->n == stored);
	result_fini(&r);
	fake_free(f);
}

static void the_commitment_needs_a_consultation_first(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");

	STEP_TO(f, id, "li", STEP_PLANNED);
	apply(&r, f, "case.commit", "li", "u:case", id, "s:venue", "county_news", "s:date", TODAY,
	      "s:ref", "x", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "record at least one consultation (case.consult) before"));
	apply(&r, f, "case.consult", "li", "u:case", id, "s:date", "2026-05-30", "s:place", "p",
	      "u:residents", (uint64_t)3, "s:summary", "s", NULL);
	CHECK(refused(&r, NT_EBADREQ, "is in the future"));
	apply(&r, f, "case.consult", "li", "u:case", id, "s:date", TODAY, "s:place", "p",
	      "u:residents", (uint64_t)3, "s:summary", "s", NULL);
	CHECK(accepted(&r));
	apply(&r, f, "case.commit", "li", "u:case", id, "s:venue", "notice_board", "s:date", TODAY,
	      "s:ref", "x", NULL);
	CHECK(refused(&r, NT_EBADREQ, "names the village ('board')"));
	apply(&r, f, "case.commit", "li", "u:case", id, "s:venue", "notice_board", "s:date", TODAY,
	      "s:ref", "x", "s:board", "anling", NULL);
	CHECK(refused(&r, NT_EBADREQ, "'anling' is not a village"));
	apply(&r, f, "case.commit", "li", "u:case", id, "s:venue", "notice_board", "s:date", TODAY,
	      "s:ref", "公告栏 2026-3", "s:board", "dongcun", NULL);
	CHECK(accepted(&r) && doc_str(&r.entry, "board", "dongcun") &&
	      doc_str(&r.entry, "step", "committed"));
	result_fini(&r);
	fake_free(f);
}

static void the_resolution_needs_a_coordination_and_the_journal_a_consultation_after_it(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");

	STEP_TO(f, id, "li", STEP_COMMITTED);
	apply(&r, f, "case.resolve", "li", "u:case", id, "s:summary", "x", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "record a coordination (case.coordinate) first"));
	apply(&r, f, "case.coordinate", "li", "u:case", id, "s:form", "handover", "s:date", TODAY,
	      "s:summary", "s", "l:units", (const char *[]){ "transport", NULL }, NULL);
	CHECK(accepted(&r));
	apply(&r, f, "case.resolve", "li", "u:case", id, "s:summary", "x", NULL);
	CHECK(accepted(&r) && doc_str(&r.reply, "step", "resolved"));
	/* the consultation before the commitment does not count for the judgement */
	apply(&r, f, "case.journal", "li", "u:case", id, "s:process", "p", "s:result", "r",
	      "u:satisfied", (uint64_t)9, "u:basically_satisfied", (uint64_t)0,
	      "u:dissatisfied", (uint64_t)0, NULL);
	CHECK(refused(&r, NT_ETRANSITION, "record a consultation after the resolution"));
	apply(&r, f, "case.consult", "li", "u:case", id, "s:date", TODAY, "s:place", "p",
	      "u:residents", (uint64_t)3, "s:summary", "s", NULL);
	CHECK(accepted(&r));
	apply(&r, f, "case.journal", "li", "u:case", id, "s:process", "p", "s:result", "r",
	      "u:satisfied", (uint64_t)0, "u:basically_satisfied", (uint64_t)0,
	      "u:dissatisfied", (uint64_t)0, NULL);
	CHECK(refused(&r, NT_EBADREQ, "at least one resident"));
	result_fini(&r);
	fake_free(f);
}

static void a_dissatisfied_journal_sends_the_case_back_to_work_as_a_counted_redo(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");
	struct case_rec c;

	STEP_TO(f, id, "li", STEP_RESOLVED);
	apply(&r, f, "case.consult", "li", "u:case", id, "s:date", TODAY, "s:place", "p",
	      "u:residents", (uint64_t)30, "s:summary", "unhappy", NULL);
	CHECK(accepted(&r));
	/* 7 of 10: 70 %, below the default threshold of 80 % */
	apply(&r, f, "case.journal", "li", "u:case", id, "s:process", "p", "s:result", "r",
	      "u:satisfied", (uint64_t)5, "u:basically_satisfied", (uint64_t)2,
	      "u:dissatisfied", (uint64_t)3, NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.redo") == 0);
	CHECK(doc_u64(&r.entry, "satisfaction", 70) && doc_u64(&r.entry, "threshold", 80));
	CHECK(doc_u64(&r.entry, "redos", 1) && doc_str(&r.entry, "step", "committed"));
	c = case_of(f, id);
	CHECK(c.step == STEP_COMMITTED && c.redos == 1 && c.consultations_after == 0);
	/* back to work: resolve again, the residents judge again, and this time it holds */
	STEP_TO(f, id, "li", STEP_CROSSED_OFF);
	c = case_of(f, id);
	CHECK(c.redos == 1 && c.step == STEP_CROSSED_OFF);
	result_fini(&r);
	fake_free(f);
}

static void the_campaign_sets_the_satisfaction_needed_to_cross_off(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");

	apply(&r, f, "campaign.set", "li", "s:name", "x", "s:start", "2026-05-20", "s:end",
	      "2026-09-30", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only the theme office or an admin"));
	apply(&r, f, "campaign.set", "theme", "s:name", "走进矛盾、破解难题", "s:start",
	      "2026-05-20", "s:end", "2026-09-30", "s:identify_by", "2026-10-01", NULL);
	CHECK(refused(&r, NT_EBADREQ, "'identify_by' 2026-10-01 is outside the campaign"));
	apply(&r, f, "campaign.set", "theme", "s:name", "走进矛盾、破解难题", "s:start",
	      "2026-05-20", "s:end", "2026-09-30", "s:identify_by", "2026-06-08",
	      "u:threshold", (uint64_t)95, NULL);
	CHECK(accepted(&r) && doc_str(&r.entry, "identify_by", "2026-06-08"));
	STEP_TO(f, id, "li", STEP_RESOLVED);
	apply(&r, f, "case.consult", "li", "u:case", id, "s:date", TODAY, "s:place", "p",
	      "u:residents", (uint64_t)30, "s:summary", "s", NULL);
	/* 92 %: enough by default, not for this campaign */
	apply(&r, f, "case.journal", "li", "u:case", id, "s:process", "p", "s:result", "r",
	      "u:satisfied", (uint64_t)23, "u:basically_satisfied", (uint64_t)0,
	      "u:dissatisfied", (uint64_t)2, NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.redo") == 0);
	CHECK(doc_u64(&r.entry, "threshold", 95));
	result_fini(&r);
	fake_free(f);
}

static void the_theme_office_verifies_returns_and_reopens(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");
	struct case_rec c;

	STEP_TO(f, id, "li", STEP_JOURNALED);
	apply(&r, f, "case.verify", "li", "u:case", id, "s:verdict", "cross_off", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only the theme office verifies and crosses off"));
	apply(&r, f, "case.verify", "sup", "u:case", id, "s:verdict", "cross_off", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only the theme office"));
	apply(&r, f, "case.verify", "theme", "u:case", id, "s:verdict", "return", NULL);
	CHECK(refused(&r, NT_EBADREQ, "needs 'reason'"));
	apply(&r, f, "case.verify", "theme", "u:case", id, "s:verdict", "return", "s:reason",
	      "the road floods again", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.returned") == 0);
	c = case_of(f, id);
	CHECK(c.step == STEP_COMMITTED && c.redos == 1);
	STEP_TO(f, id, "li", STEP_CROSSED_OFF);
	apply(&r, f, "case.reopen", "li", "u:case", id, "s:reason", "r", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only the theme office reopens"));
	apply(&r, f, "case.reopen", "theme", "u:case", id, "s:reason", "cracks again", NULL);
	CHECK(accepted(&r) && doc_str(&r.reply, "step", "committed"));
	c = case_of(f, id);
	CHECK(c.reopens == 1 && c.crossed_at == 0 && c.step == STEP_COMMITTED);
	apply(&r, f, "case.reopen", "theme", "u:case", id, "s:reason", "again", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "is committed"));
	result_fini(&r);
	fake_free(f);
}

/* ---- who may ---- */

static void only_the_lead_advances_a_case(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");
	const char *others[] = { "zhang", "wu", "theme", "sup", "boss", "admin" };

	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		apply(&r, f, "case.plan", others[i], "u:case", id, "s:measures", "m", "s:schedule",
		      "s", "s:deadline", "2026-09-30", "l:units", (const char *[]){ "anling", NULL },
		      NULL);
		CHECK(refused(&r, NT_EFORBIDDEN, "case.plan: only the case's lead advances it "
			      "(case 1 is led by 'li' in unit 'dongcun')"));
	}
	apply(&r, f, "case.plan", "li", "u:case", id, "s:measures", "m", "s:schedule", "s",
	      "s:deadline", "2026-09-30", "l:units", (const char *[]){ "anling", NULL }, "s:lead",
	      "wu", NULL);
	CHECK(refused(&r, NT_ECONFLICT, "a new lead is assigned with case.reassign"));
	result_fini(&r);
	fake_free(f);
}

static void a_unit_head_reassigns_within_the_unit_and_the_theme_office_anywhere(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");

	apply(&r, f, "case.reassign", "li", "u:case", id, "s:lead", "wu", "s:reason", "r", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only a unit head over the case's unit or the theme office"));
	apply(&r, f, "case.reassign", "zhang", "u:case", id, "s:lead", "chen", "s:reason", "r",
	      NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "'chen' is in 'tianshi', outside 'anling'"));
	apply(&r, f, "case.reassign", "zhang", "u:case", id, "s:lead", "li", "s:reason", "r", NULL);
	CHECK(refused(&r, NT_EBADREQ, "'li' already leads case 1"));
	apply(&r, f, "case.reassign", "zhang", "u:case", id, "s:lead", "wu", "s:reason",
	      "wu lives there", NULL);
	CHECK(accepted(&r) && doc_str(&r.entry, "from", "li") && doc_str(&r.entry, "lead", "wu"));
	CHECK(doc_str(&r.entry, "reason", "wu lives there"));
	/* now wu leads, and li may no longer advance it */
	apply(&r, f, "case.plan", "li", "u:case", id, "s:measures", "m", "s:schedule", "s",
	      "s:deadline", "2026-09-30", "l:units", (const char *[]){ "anling", NULL }, NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "led by 'wu'"));
	apply(&r, f, "case.reassign", "theme", "u:case", id, "s:lead", "chen", "s:reason", "r",
	      NULL);
	CHECK(accepted(&r));
	CHECK(proto_str_eq(case_of(f, id).lead, "chen"));
	result_fini(&r);
	fake_free(f);
}

static void notes_come_from_those_who_reach_the_case_and_escalation_from_the_offices(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id = open_case(f, "li", "dongcun", "li");

	apply(&r, f, "case.note", "zhang", "u:case", id, "s:text", "visited", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.noted") == 0);
	apply(&r, f, "case.note", "sup", "u:case", id, "s:text", "watching", NULL);
	CHECK(accepted(&r));
	apply(&r, f, "case.note", "chen", "u:case", id, "s:text", "x", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "case.note: progress notes come from"));
	apply(&r, f, "case.note", "zhou", "u:case", id, "s:text", "x", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "progress notes"));
	apply(&r, f, "case.escalate", "zhang", "u:case", id, "s:reason", "late", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only the supervision office or the theme office escalates"));
	apply(&r, f, "case.escalate", "sup", "u:case", id, "s:reason", "late", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.escalated") == 0);
	CHECK(case_of(f, id).escalations == 1);
	apply(&r, f, "case.note", "li", "u:case", 99, "s:text", "x", NULL);
	CHECK(refused(&r, NT_ENOTFOUND, "no case 99"));
	result_fini(&r);
	fake_free(f);
}

/* ---- petitions ---- */

static void a_repeat_petition_counts_against_the_case_and_reopens_it(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	uint64_t id, problem = open_case(f, "chen", "tianshi", "chen");
	struct case_rec c;

	apply(&r, f, "case.open", "chen", "s:title", "征地补偿", "s:area", "livelihood", "s:unit",
	      "tianshi", "s:kind", "petition", "s:taker", "qian", NULL);
	CHECK(accepted(&r));
	CHECK(proto_obj_u64(proto_map_get(&r.reply.root, "case"), &id));
	apply(&r, f, "case.guarantee", "qian", "u:case", id, NULL);
	CHECK(refused(&r, NT_EBADREQ, "say which guarantee"));
	apply(&r, f, "case.guarantee", "zhou", "u:case", id, "b:stable", 1, NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "the lead or the case-taking leader"));
	apply(&r, f, "case.guarantee", "qian", "u:case", id, "b:stable", 1, "s:note", "calm",
	      NULL);
	CHECK(accepted(&r) && case_of(f, id).stable && !case_of(f, id).promise_kept);
	apply(&r, f, "case.guarantee", "chen", "u:case", problem, "b:stable", 1, NULL);
	CHECK(refused(&r, NT_EBADREQ, "is for petition cases; case 1 is a problem"));

	STEP_TO(f, id, "chen", STEP_CROSSED_OFF);
	apply(&r, f, "case.repeat", "sup", "u:case", id, "b:skip_level", 1, "s:summary",
	      "went to the city", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.repeat") == 0);
	CHECK(r.entry.live && proto_map_get(&r.entry.root, "reopened")->via.boolean);
	c = case_of(f, id);
	CHECK(c.step == STEP_COMMITTED && c.repeats == 1 && c.skip_level_repeats == 1 &&
	      c.reopens == 1);
	apply(&r, f, "case.repeat", "qian", "u:case", id, "b:skip_level", 0, "s:summary",
	      "again, locally", NULL);
	CHECK(accepted(&r) && !proto_map_get(&r.entry.root, "reopened")->via.boolean);
	c = case_of(f, id);
	CHECK(c.repeats == 2 && c.skip_level_repeats == 1 && c.step == STEP_COMMITTED);
	result_fini(&r);
	fake_free(f);
}

/* ---- deadlines and their timers ---- */

/* The due times of the armed timers of case id, by slot, from its record; and a check
 * that the timers database holds exactly its one key, for the first of them. */
static void armed(struct fake *f, uint64_t id, int64_t at[SLOT__N])
{
	struct case_rec c = case_of(f, id);
	uint8_t want[TIMER_KEY_LEN];
	bool any = case_timer_key(want, id, c.timer_at);
	size_t keys = 0;

	memcpy(at, c.timer_at, SLOT__N * sizeof at[0]);
	for (size_t i = 0; i < f->n; i++) {
		const struct kv *kv = &f->kv[i];

		if (kv->db == DB_TIMERS && kv->klen == TIMER_KEY_LEN &&
		    ledger_u64(kv->key + 8) < TIMER_MILESTONE && ledger_u64(kv->key + 8) / 4 == id) {
			keys++;
			CHECK(any && memcmp(kv->key, want, TIMER_KEY_LEN) == 0);
		}
	}
	CHECK(keys == (any ? 1u : 0u));
}

/* Unix ms of a local (UTC+8) date and hour. */
static int64_t local(const char *date, int hour)
{
	int64_t d = 0;

	proto_date_parse((proto_str){ date, (uint32_t)strlen(date) }, &d);
	return ((d * 24 + hour - 8) * 3600) * 1000;
}

static void fire(struct result *r, struct fake *f, uint64_t id, unsigned slot, int64_t due)
{
	apply(r, f, "timer.fire", "nantid", "u:case", id, "u:slot", (uint64_t)slot, "u:due",
	      (uint64_t)due, NULL);
}

static void a_deadline_arms_two_reminders_and_the_chase_that_the_timers_keep(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	int64_t at[SLOT__N];
	struct case_rec c;

	/* NOW is Friday 2026-05-29; a deadline of Wednesday 2026-06-10 */
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:deadline", "2026-06-10", NULL);
	CHECK(accepted(&r));
	armed(f, 1, at);
	/* three and one working days before (no calendar: weekends only), at 09:00; the
	 * chase at the midnight that ends the deadline day */
	CHECK(at[SLOT_REMIND_FAR] == local("2026-06-05", 9));
	CHECK(at[SLOT_REMIND_NEAR] == local("2026-06-09", 9));
	CHECK(at[SLOT_CHASE] == local("2026-06-11", 0));
	c = case_of(f, 1);
	CHECK(c.timer_at[SLOT_CHASE] == at[SLOT_CHASE] && c.chase_level == 0);
	/* a new plan moves the deadline: the old timers go, new ones come */
	STEP_TO(f, 1, "li", STEP_PLANNED);
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == local("2026-10-01", 0));	/* step_to plans 2026-09-30 */
	CHECK(at[SLOT_REMIND_FAR] == local("2026-09-25", 9));
	/* resolving the case disarms them all */
	STEP_TO(f, 1, "li", STEP_RESOLVED);
	armed(f, 1, at);
	CHECK(at[0] == 0 && at[1] == 0 && at[2] == 0);
	c = case_of(f, 1);
	CHECK(c.timer_at[SLOT_CHASE] == 0);
	/* sent back to work, it is chased again */
	apply(&r, f, "case.verify", "theme", "u:case", (uint64_t)1, "s:verdict", "return",
	      "s:reason", "not done", NULL);
	CHECK(accepted(&r));
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == local("2026-10-01", 0));
	result_fini(&r);
	fake_free(f);
}

static void the_chase_fires_overdue_then_climbs_the_ladder_once_per_level(void)
{
	struct fake *f = county();
	struct core_policy no_repeats = core_default_policy;
	struct result r = { 0 };
	int64_t at[SLOT__N], due;
	static const char *const topics[] = {
		"deadline.overdue", "escalation.1", "escalation.2", "escalation.3", "escalation.4",
	};
	static const char *const roles[] = {
		NULL, "unit_head", "theme_office", "supervision", "county_leader"
	};

	no_repeats.repeat_days = 0;	/* the ladder alone (repeats: the next test) */
	f->policy = &no_repeats;

	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:deadline", "2026-06-01", NULL);
	CHECK(accepted(&r));
	for (unsigned level = 0; level <= 4; level++) {
		armed(f, 1, at);
		due = at[SLOT_CHASE];
		CHECK(due != 0);
		f->now = due + 10;
		fire(&r, f, 1, SLOT_CHASE, due);
		CHECK(accepted(&r) && r.topic != NULL && strcmp(r.topic, topics[level]) == 0);
		CHECK(doc_u64(&r.entry, "level", level) && doc_str(&r.entry, "lead", "li"));
		CHECK(doc_str(&r.entry, "deadline", "2026-06-01"));
		CHECK(r.entry.live && proto_map_get(&r.entry.root, "late")->via.boolean == false);
		if (level == 0) {
			const msgpack_object *n = proto_map_get(&r.entry.root, "notify");
			proto_str s;

			CHECK(due == local("2026-06-02", 0));
			CHECK(n != NULL && proto_obj_str(proto_map_get(n, "person"), &s) &&
			      proto_str_eq(s, "li"));
		} else {
			const msgpack_object *n = proto_map_get(&r.entry.root, "notify");
			proto_str s;

			CHECK(n != NULL && proto_obj_str(proto_map_get(n, "role"), &s) &&
			      proto_str_eq(s, roles[level]));
		}
		/* firing it again changes nothing: it is gone */
		fire(&r, f, 1, SLOT_CHASE, due);
		CHECK(accepted(&r) && r.topic == NULL);
	}
	/* Monday 2026-06-01: escalation.4 ten working days on, on Monday 2026-06-15 */
	CHECK(due == local("2026-06-15", 9));
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == 0);	/* the top of the ladder: nothing more */
	result_fini(&r);
	fake_free(f);
}

static void an_unacknowledged_level_is_repeated_each_working_day_until_acknowledged(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	int64_t at[SLOT__N];

	/* deadline Monday 2026-06-01: overdue at Tuesday 00:00, escalation.1 at Tuesday 09:00,
	 * escalation.2 three working days after the deadline day, Thursday 06-04 09:00 */
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:deadline", "2026-06-01", NULL);
	CHECK(accepted(&r));
	armed(f, 1, at);
	f->now = at[SLOT_CHASE];
	fire(&r, f, 1, SLOT_CHASE, at[SLOT_CHASE]);
	CHECK(accepted(&r) && strcmp(r.topic, "deadline.overdue") == 0);
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == local("2026-06-02", 9));	/* the ladder wins the tie */
	f->now = at[SLOT_CHASE];
	fire(&r, f, 1, SLOT_CHASE, at[SLOT_CHASE]);
	CHECK(accepted(&r) && strcmp(r.topic, "escalation.1") == 0);
	/* nobody acknowledged escalation.1: again on Wednesday morning */
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == local("2026-06-03", 9));
	f->now = at[SLOT_CHASE];
	fire(&r, f, 1, SLOT_CHASE, at[SLOT_CHASE]);
	CHECK(accepted(&r) && strcmp(r.topic, "escalation.1") == 0);
	CHECK(doc_u64(&r.entry, "level", 1) && doc_u64(&r.entry, "repeat", 1));
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == local("2026-06-04", 9));	/* escalation.2 */
	f->now = at[SLOT_CHASE];
	fire(&r, f, 1, SLOT_CHASE, at[SLOT_CHASE]);
	CHECK(accepted(&r) && strcmp(r.topic, "escalation.2") == 0 &&
	      proto_map_get(&r.entry.root, "repeat") == NULL);
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == local("2026-06-05", 9));	/* its repeat */
	/* the theme office acknowledges: no repeat; escalation.3 on Monday 06-08 */
	f->now += 3600 * 1000;
	apply(&r, f, "case.ack", "theme", "u:case", (uint64_t)1, "u:level", (uint64_t)2, NULL);
	CHECK(accepted(&r));
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == local("2026-06-08", 9));
	result_fini(&r);
	fake_free(f);
}

static void a_reminder_in_hours_moves_out_of_quiet_hours_and_days_off(void)
{
	struct fake *f = county();
	struct core_policy p = core_default_policy;
	struct result r = { 0 };
	int64_t at[SLOT__N];

	p.quiet_from = 19;		/* quiet from 19:00 to 07:00 */
	p.remind[0] = 4;		/* 4 hours before: 20:00 on the deadline day, quiet */
	p.remind_in_hours[0] = true;
	p.remind[1] = 30;		/* 30 hours before: 18:00 the day before */
	p.remind_in_hours[1] = true;
	f->policy = &p;
	/* a deadline on Wednesday 06-10: the first moves to 09:00 that morning */
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:deadline", "2026-06-10", NULL);
	armed(f, 1, at);
	CHECK(at[SLOT_REMIND_FAR] == local("2026-06-10", 9));
	CHECK(at[SLOT_REMIND_NEAR] == local("2026-06-09", 18));
	CHECK(at[SLOT_CHASE] == local("2026-06-11", 0));	/* a deadline never moves */
	/* a deadline on Monday 06-15: 30 hours before is Sunday 18:00, a day off: Friday */
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:deadline", "2026-06-15", NULL);
	armed(f, 2, at);
	CHECK(at[SLOT_REMIND_NEAR] == local("2026-06-12", 9));
	CHECK(at[SLOT_REMIND_FAR] == local("2026-06-15", 9));
	result_fini(&r);
	fake_free(f);
}

static void a_firing_long_after_its_time_is_marked_late(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	int64_t at[SLOT__N];

	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:deadline", "2026-06-10", NULL);
	armed(f, 1, at);
	f->now = at[SLOT_REMIND_FAR] + 3600 * 1000;	/* an hour late: the daemon was down */
	fire(&r, f, 1, SLOT_REMIND_FAR, at[SLOT_REMIND_FAR]);
	CHECK(accepted(&r) && strcmp(r.topic, "deadline.reminder") == 0);
	CHECK(proto_map_get(&r.entry.root, "late")->via.boolean == true);
	CHECK(doc_u64(&r.entry, "working_days_left", 3));
	result_fini(&r);
	fake_free(f);
}

static void an_extension_asked_in_time_and_approved_moves_the_deadline_and_its_timers(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	int64_t at[SLOT__N];
	struct case_rec c;

	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:deadline", "2026-06-10", NULL);
	CHECK(accepted(&r));
	apply(&r, f, "case.extend", "zhang", "u:case", (uint64_t)1, "s:until", "2026-06-20",
	      "s:reason", "rain", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only the case's lead asks for an extension"));
	apply(&r, f, "case.extend", "li", "u:case", (uint64_t)1, "s:until", "2026-07-20",
	      "s:reason", "rain", NULL);
	CHECK(refused(&r, NT_EBADREQ, "at most 30 days"));
	apply(&r, f, "case.extend", "li", "u:case", (uint64_t)1, "s:until", "2026-06-10",
	      "s:reason", "rain", NULL);
	CHECK(refused(&r, NT_EBADREQ, "'until' must be after the deadline"));
	apply(&r, f, "case.decide_extension", "theme", "u:case", (uint64_t)1, "b:approve", 1, NULL);
	CHECK(refused(&r, NT_ETRANSITION, "no extension of case 1 is waiting"));
	apply(&r, f, "case.extend", "li", "u:case", (uint64_t)1, "s:until", "2026-06-20",
	      "s:reason", "the rains came", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.extension_requested") == 0);
	apply(&r, f, "case.extend", "li", "u:case", (uint64_t)1, "s:until", "2026-06-21",
	      "s:reason", "again", NULL);
	CHECK(refused(&r, NT_ECONFLICT, "already waiting"));
	apply(&r, f, "case.decide_extension", "li", "u:case", (uint64_t)1, "b:approve", 1, NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only the theme office decides on extensions"));
	apply(&r, f, "case.decide_extension", "theme", "u:case", (uint64_t)1, "b:approve", 1,
	      NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.extended") == 0);
	c = case_of(f, 1);
	CHECK(c.extensions == 1 && c.extension_until == 0);
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == local("2026-06-21", 0));	/* the timers followed */
	/* a second one, refused with a reason; a third approved reaches the cap */
	apply(&r, f, "case.extend", "li", "u:case", (uint64_t)1, "s:until", "2026-06-25",
	      "s:reason", "r", NULL);
	CHECK(accepted(&r));
	apply(&r, f, "case.decide_extension", "theme", "u:case", (uint64_t)1, "b:approve", 0,
	      NULL);
	CHECK(refused(&r, NT_EBADREQ, "needs 'reason'"));
	apply(&r, f, "case.decide_extension", "theme", "u:case", (uint64_t)1, "b:approve", 0,
	      "s:reason", "no", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.extension_refused") == 0);
	CHECK(case_of(f, 1).timer_at[SLOT_CHASE] == local("2026-06-21", 0));
	apply(&r, f, "case.extend", "li", "u:case", (uint64_t)1, "s:until", "2026-06-25",
	      "s:reason", "r", NULL);
	apply(&r, f, "case.decide_extension", "theme", "u:case", (uint64_t)1, "b:approve", 1,
	      NULL);
	CHECK(accepted(&r) && case_of(f, 1).extensions == 2);
	apply(&r, f, "case.extend", "li", "u:case", (uint64_t)1, "s:until", "2026-06-28",
	      "s:reason", "r", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "has had 2 extensions, the most allowed"));
	/* past the deadline, it is too late to ask */
	f->now = local("2026-06-26", 10);
	apply(&r, f, "case.extend", "li", "u:case", (uint64_t)1, "s:until", "2026-06-28",
	      "s:reason", "r", NULL);
	CHECK(refused(&r, NT_ETRANSITION, "before the deadline passes"));
	result_fini(&r);
	fake_free(f);
}

static void a_notified_person_acknowledges_their_level_once_and_the_ladder_goes_on(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	int64_t at[SLOT__N];
	struct case_rec c;

	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:deadline", "2026-06-01", NULL);
	apply(&r, f, "case.ack", "li", "u:case", (uint64_t)1, "u:level", (uint64_t)0, NULL);
	CHECK(refused(&r, NT_ETRANSITION, "level 0 of case 1's chase has not been notified"));
	armed(f, 1, at);
	f->now = at[SLOT_CHASE];
	fire(&r, f, 1, SLOT_CHASE, at[SLOT_CHASE]);		/* overdue: the lead */
	armed(f, 1, at);
	f->now = at[SLOT_CHASE];
	fire(&r, f, 1, SLOT_CHASE, at[SLOT_CHASE]);		/* escalation.1: the unit head */
	apply(&r, f, "case.ack", "zhang", "u:case", (uint64_t)1, "u:level", (uint64_t)0, NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "level 0 is acknowledged by whom it notified"));
	apply(&r, f, "case.ack", "li", "u:case", (uint64_t)1, "u:level", (uint64_t)0, NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "case.acknowledged") == 0);
	apply(&r, f, "case.ack", "li", "u:case", (uint64_t)1, "u:level", (uint64_t)0, NULL);
	CHECK(refused(&r, NT_ECONFLICT, "already acknowledged"));
	apply(&r, f, "case.ack", "chen", "u:case", (uint64_t)1, "u:level", (uint64_t)1, NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "acknowledged by whom it notified"));
	apply(&r, f, "case.ack", "zhang", "u:case", (uint64_t)1, "u:level", (uint64_t)1, NULL);
	CHECK(accepted(&r));
	apply(&r, f, "case.ack", "theme", "u:case", (uint64_t)1, "u:level", (uint64_t)2, NULL);
	CHECK(refused(&r, NT_ETRANSITION, "level 2"));
	c = case_of(f, 1);
	CHECK(c.acked == 3 && c.chase_level == 2);
	/* acknowledging does not stop the ladder */
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] != 0);
	result_fini(&r);
	fake_free(f);
}

static int64_t day(const char *date)
{
	int64_t d = 0;

	proto_date_parse((proto_str){ date, (uint32_t)strlen(date) }, &d);
	return d;
}

static void a_step_has_a_time_limit_that_fires_once_and_restarts_at_the_next_step(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	int64_t at[SLOT__N];
	struct case_rec c;

	/* NOW is Friday 2026-05-29: 5 working days to plan, to Friday 2026-06-05 */
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", NULL);
	CHECK(accepted(&r));
	c = case_of(f, 1);
	CHECK(c.step_from == day("2026-05-29") && c.step_limit == 5 &&
	      c.step_due == day("2026-06-05"));
	armed(f, 1, at);
	CHECK(at[SLOT_STEP] == local("2026-06-06", 0) && at[SLOT_CHASE] == 0);
	f->now = at[SLOT_STEP] + 10;
	fire(&r, f, 1, SLOT_STEP, at[SLOT_STEP]);
	CHECK(accepted(&r) && r.topic != NULL && strcmp(r.topic, "step.overdue") == 0);
	CHECK(doc_str(&r.entry, "step", "plan") && doc_str(&r.entry, "step_due", "2026-06-05"));
	CHECK(doc_u64(&r.entry, "working_days_late", 0));
	fire(&r, f, 1, SLOT_STEP, at[SLOT_STEP]);
	CHECK(accepted(&r) && r.topic == NULL);	/* once */
	/* the plan: a new limit from today, 5 working days to commit */
	STEP_TO(f, 1, "li", STEP_PLANNED);
	c = case_of(f, 1);
	CHECK(c.step == STEP_PLANNED && c.step_from == day("2026-06-06") && c.step_limit == 5);
	armed(f, 1, at);
	CHECK(at[SLOT_STEP] == local("2026-06-13", 0));	/* Saturday + 5: Friday 06-12 */
	result_fini(&r);
	fake_free(f);
}

static void a_deadline_in_working_days_is_computed_again_with_a_new_calendar(void)
{
	static const char text[] = "year 2026\nsource test\n"
				   "holiday 2026-06-01 2026-06-05 a week off\n";
	struct fake *f = county();
	struct result r = { 0 };
	struct cal *cal = NULL;
	char why[200];
	struct case_rec c;
	int64_t at[SLOT__N];

	CHECK(cal_new(&cal) == NT_OK);
	CHECK(cal_parse(cal, "test", text, sizeof text - 1, why, sizeof why) == NT_OK);
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "u:deadline_working_days", (uint64_t)10, NULL);
	CHECK(accepted(&r));
	apply(&r, f, "case.open", "li", "s:title", "t", "s:area", "livelihood", "s:unit",
	      "dongcun", "s:deadline", "2026-06-12", NULL);
	CHECK(accepted(&r));
	c = case_of(f, 1);
	CHECK(c.deadline == day("2026-06-12") && c.deadline_basis == BASIS_WORKING_DAYS &&
	      c.deadline_from == day("2026-05-29") && c.deadline_n == 10);
	/* the week of 06-01 becomes a holiday: ten working days end on 06-19 */
	f->cal = cal;
	apply(&r, f, "case.recalendar", "nantid", "u:case", (uint64_t)1, NULL);
	CHECK(accepted(&r) && r.topic != NULL && strcmp(r.topic, "deadline.moved") == 0);
	CHECK(doc_str(&r.entry, "deadline", "2026-06-19") &&
	      doc_str(&r.entry, "old_deadline", "2026-06-12"));
	armed(f, 1, at);
	CHECK(at[SLOT_CHASE] == local("2026-06-20", 0));
	apply(&r, f, "case.recalendar", "nantid", "u:case", (uint64_t)1, NULL);
	CHECK(accepted(&r) && r.topic == NULL && r.reply.live &&
	      proto_map_get(&r.reply.root, "changed")->via.boolean == false);
	/* a date stays; its step limit and its reminders move */
	armed(f, 2, at);
	CHECK(at[SLOT_CHASE] == local("2026-06-13", 0));
	apply(&r, f, "case.recalendar", "nantid", "u:case", (uint64_t)2, NULL);
	CHECK(accepted(&r));
	c = case_of(f, 2);
	CHECK(c.deadline == day("2026-06-12") && c.step_due == day("2026-06-12"));
	armed(f, 2, at);
	CHECK(at[SLOT_CHASE] == local("2026-06-13", 0));
	CHECK(at[SLOT_REMIND_FAR] == local("2026-06-09", 9));
	CHECK(at[SLOT_STEP] == local("2026-06-13", 0));	/* was 06-05: 5 working days */
	result_fini(&r);
	fake_free(f);
	cal_free(&cal);
}

static void every_op_schema_fits_the_arguments_a_request_holds(void)
{
	CHECK(ops_too_wide() == NULL);
}

/* ---- keys: key.add, key.revoke, and what a connection may send ---- */

#define KEY_A "Qql!-kP!&vUFSph/r>(vh*XgTl%yAHk4:8BxwOX#"
#define KEY_B "xfU@.mn]V?+>Hxc+Ks0=j55r=L=?3)ouw2B/xQ<="

/* The person the keys index names for key, or "" (none). */
static const char *key_holder(struct fake *f, const char *key)
{
	static char who[PROTO_MAX_NAME_ID + 1];
	struct kv *kv = fake_find(f, DB_KEYS, key, strlen(key));

	who[0] = '\0';
	if (kv != NULL)
		snprintf(who, sizeof who, "%.*s", (int)kv->val.sb.size, kv->val.sb.data);
	return who;
}

static void a_key_is_one_persons_and_a_new_one_replaces_the_old_in_the_index(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	struct person_rec p;
	struct core_view v = { f, fake_get, 0, 0, NOW, NULL, NULL };

	apply(&r, f, "key.add", "admin", "s:person", "li", "s:key", KEY_A, NULL);
	CHECK(accepted(&r) && r.topic != NULL && strcmp(r.topic, "key.added") == 0);
	CHECK(doc_str(&r.entry, "person", "li") && doc_str(&r.entry, "key", KEY_A));
	CHECK(strcmp(key_holder(f, KEY_A), "li") == 0);
	CHECK(core_get_person(&v, (proto_str){ "li", 2 }, &p) == NT_OK && proto_str_eq(p.key, KEY_A));
	apply(&r, f, "key.add", "admin", "s:person", "li", "s:key", KEY_A, NULL);
	CHECK(accepted(&r) && r.topic == NULL);	/* the same key again: nothing */
	apply(&r, f, "key.add", "admin", "s:person", "zhang", "s:key", KEY_A, NULL);
	CHECK(refused(&r, NT_ECONFLICT, "already 'li''s"));
	apply(&r, f, "key.add", "admin", "s:person", "li", "s:key", KEY_B, NULL);
	CHECK(accepted(&r) && strcmp(key_holder(f, KEY_B), "li") == 0);
	CHECK(strcmp(key_holder(f, KEY_A), "") == 0);	/* the old key is gone at once */
	/* a person.put afterwards keeps the key */
	apply(&r, f, "person.put", "admin", "s:person", "li", "s:name", "李", "s:unit", "anling",
	      "l:roles", (const char *[]){ "cadre", NULL }, NULL);
	CHECK(accepted(&r));
	CHECK(core_get_person(&v, (proto_str){ "li", 2 }, &p) == NT_OK && proto_str_eq(p.key, KEY_B));
	apply(&r, f, "key.revoke", "admin", "s:person", "li", NULL);
	CHECK(accepted(&r) && strcmp(r.topic, "key.revoked") == 0 && doc_str(&r.entry, "key", KEY_B));
	CHECK(strcmp(key_holder(f, KEY_B), "") == 0);
	apply(&r, f, "key.revoke", "admin", "s:person", "li", NULL);
	CHECK(accepted(&r) && r.topic == NULL);
	result_fini(&r);
	fake_free(f);
}

static void only_an_admin_registers_keys_and_only_z85_ones(void)
{
	struct fake *f = county();
	struct result r = { 0 };

	apply(&r, f, "key.add", "li", "s:person", "li", "s:key", KEY_A, NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only an admin"));
	apply(&r, f, "key.revoke", "li", "s:person", "li", NULL);
	CHECK(refused(&r, NT_EFORBIDDEN, "only an admin"));
	apply(&r, f, "key.add", "admin", "s:person", "nobody", "s:key", KEY_A, NULL);
	CHECK(refused(&r, NT_ENOTFOUND, "no person 'nobody'"));
	/* "%%%%%" is 52200625 * 85 + ...: above 2^32, so not a key */
	apply(&r, f, "key.add", "admin", "s:person", "li", "s:key",
	      "%%%%%kP!&vUFSph/r>(vh*XgTl%yAHk4:8BxwOX#", NULL);
	CHECK(refused(&r, NT_EBADREQ, "Z85"));
	apply(&r, f, "key.add", "admin", "s:person", "li", "s:key",
	      "Qql!-kP!&vUFSph/r>(vh*XgTl%yAHk4:8Bxw\"X#", NULL);
	CHECK(refused(&r, NT_EBADREQ, "Z85"));
	result_fini(&r);
	fake_free(f);
}

static void a_connection_that_is_a_person_acts_only_as_that_person(void)
{
	struct fake *f = county();
	struct result r = { 0 };
	struct core_view v = { f, fake_get, 0, 0, NOW, NULL, NULL };
	struct auth_peer key = { .kind = AUTH_KEY, .uid = -1, .id = KEY_A, .len = 40 };
	struct auth_peer mapped = { .kind = AUTH_PERSON, .uid = 1000, .id = "zhang", .len = 5 };
	struct auth_peer trusted = { .kind = AUTH_TRUSTED, .uid = 0 };
	struct auth_peer nobody = { .kind = AUTH_NOBODY, .uid = 1001 };
	struct auth_who who;
	char why[PROTO_WHY];

	apply(&r, f, "key.add", "admin", "s:person", "li", "s:key", KEY_A, NULL);
	CHECK(accepted(&r));
	CHECK(auth_check(&v, &key, true, PROTO_STR_NULL, &who, why, sizeof why) == NT_OK &&
	      strcmp(who.id, "li") == 0);
	CHECK(auth_check(&v, &key, true, (proto_str){ "li", 2 }, &who, why, sizeof why) == NT_OK);
	CHECK(auth_check(&v, &key, true, (proto_str){ "zhang", 5 }, &who, why, sizeof why) ==
	      NT_EFORBIDDEN && strstr(why, "cannot act as 'zhang'") != NULL);
	CHECK(auth_check(&v, &mapped, true, (proto_str){ "li", 2 }, &who, why, sizeof why) ==
	      NT_EFORBIDDEN);
	CHECK(auth_check(&v, &mapped, false, PROTO_STR_NULL, &who, why, sizeof why) == NT_OK);
	CHECK(auth_check(&v, &trusted, true, (proto_str){ "zhang", 5 }, &who, why, sizeof why) ==
	      NT_OK && who.len == 0);
	CHECK(auth_check(&v, &nobody, false, PROTO_STR_NULL, &who, why, sizeof why) == NT_OK);
	CHECK(auth_check(&v, &nobody, true, (proto_str){ "li", 2 }, &who, why, sizeof why) ==
	      NT_EFORBIDDEN && strstr(why, "uid 1001") != NULL);
	/* revoked: reads and writes alike */
	apply(&r, f, "key.revoke", "admin", "s:person", "li", NULL);
	CHECK(accepted(&r));
	CHECK(auth_check(&v, &key, false, PROTO_STR_NULL, &who, why, sizeof why) == NT_EFORBIDDEN &&
	      strstr(why, "revoked") != NULL);
	result_fini(&r);
	fake_free(f);
}

static void ipc_users_are_uid_person_pairs_or_trusted_uids(void)
{
	struct auth_users u;

	auth_users_default(&u, 995);
	CHECK(u.n == 2 && u.u[0].uid == 0 && u.u[0].any && u.u[1].uid == 995 && u.u[1].any);
	auth_users_default(&u, 0);
	CHECK(u.n == 1);
	CHECK(auth_users_parse(&u, "0:*, 1000:wang.li,1001:li"));
	CHECK(u.n == 3 && !u.u[1].any && strcmp(u.u[1].person, "wang.li") == 0);
	CHECK(auth_users_parse(&u, "") && u.n == 0);
	CHECK(!auth_users_parse(&u, "0:*, 0:li"));	/* a uid twice */
	CHECK(!auth_users_parse(&u, "x:*"));
	CHECK(!auth_users_parse(&u, "-1:*"));
	CHECK(!auth_users_parse(&u, "5"));
	CHECK(!auth_users_parse(&u, "5:.bad"));
	CHECK(!auth_users_parse(&u, "4294967295:*"));
}

int main(void)
{
	RUN(every_op_schema_fits_the_arguments_a_request_holds);
	RUN(a_step_has_a_time_limit_that_fires_once_and_restarts_at_the_next_step);
	RUN(a_deadline_in_working_days_is_computed_again_with_a_new_calendar);
	RUN(an_extension_asked_in_time_and_approved_moves_the_deadline_and_its_timers);
	RUN(a_notified_person_acknowledges_their_level_once_and_the_ladder_goes_on);
	RUN(a_deadline_arms_two_reminders_and_the_chase_that_the_timers_keep);
	RUN(the_chase_fires_overdue_then_climbs_the_ladder_once_per_level);
	RUN(a_firing_long_after_its_time_is_marked_late);
	RUN(an_unacknowledged_level_is_repeated_each_working_day_until_acknowledged);
	RUN(a_reminder_in_hours_moves_out_of_quiet_hours_and_days_off);
	RUN(until_there_is_an_admin_anyone_may_set_up_units_and_people_then_only_admins);
	RUN(a_key_is_one_persons_and_a_new_one_replaces_the_old_in_the_index);
	RUN(only_an_admin_registers_keys_and_only_z85_ones);
	RUN(a_connection_that_is_a_person_acts_only_as_that_person);
	RUN(ipc_users_are_uid_person_pairs_or_trusted_uids);
	RUN(the_unit_tree_is_county_then_townships_streets_and_organs_then_villages);
	RUN(putting_a_unit_or_person_again_unchanged_writes_nothing);
	RUN(a_household_put_keeps_its_village_index_and_history_in_step);
	RUN(pairing_moves_the_cadre_index_and_only_pairing_cadres_are_paired);
	RUN(a_case_opened_from_a_consultation_links_the_households_it_discussed);
	RUN(roles_and_villages_are_checked);
	RUN(the_last_admin_cannot_lose_the_role);
	RUN(only_registered_people_open_cases);
	RUN(a_case_is_opened_within_reach_by_its_lead_a_unit_head_or_the_theme_office);
	RUN(an_opened_case_is_identified_and_its_entry_carries_the_whole_case);
	RUN(a_petition_needs_a_case_taking_leader);
	RUN(a_case_goes_through_the_seven_steps_to_crossed_off);
	RUN(each_step_waits_for_the_one_before_and_says_which);
	RUN(the_commitment_needs_a_consultation_first);
	RUN(the_resolution_needs_a_coordination_and_the_journal_a_consultation_after_it);
	RUN(a_dissatisfied_journal_sends_the_case_back_to_work_as_a_counted_redo);
	RUN(the_campaign_sets_the_satisfaction_needed_to_cross_off);
	RUN(the_theme_office_verifies_returns_and_reopens);
	RUN(only_the_lead_advances_a_case);
	RUN(a_unit_head_reassigns_within_the_unit_and_the_theme_office_anywhere);
	RUN(notes_come_from_those_who_reach_the_case_and_escalation_from_the_offices);
	RUN(a_repeat_petition_counts_against_the_case_and_reopens_it);
	return tap_done();
}
