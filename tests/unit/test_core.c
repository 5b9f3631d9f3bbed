/*
 * test_core.c - the pure core: case records, case.open, case.note, request hashes.
 *
 * The core is driven exactly as daemon/batch.c drives it, but through an in-memory view:
 * a small array of encoded case records stands in for the cases database, and storing an
 * effect means copying its DB_CASES values back into that array. Requests are built with
 * proto_out, decoded with proto_parse() and checked with the op's own schema
 * (core_case_open_fields, ...), so the core sees the same well-typed arguments it sees in
 * the daemon. No LMDB, no sockets: every test runs in microseconds.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "ops.h"
#include "../tap.h"

#define NOW1 1780000000000LL
#define NOW2 1780000123456LL

/* A proto_str of a string literal. */
#define PSTR(lit) ((proto_str){ (lit), sizeof(lit) - 1 })

/* ---- the fake ledger ---- */

#define FAKE_CASES 16

struct fake {
	proto_out rec[FAKE_CASES + 1];	/* rec[id]; sb.size == 0: no such case */
	unsigned gets;			/* calls to case_get */
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof *f);
	for (int i = 0; i <= FAKE_CASES; i++)
		proto_out_init(&f->rec[i]);
}

static void fake_fini(struct fake *f)
{
	for (int i = 0; i <= FAKE_CASES; i++)
		proto_out_fini(&f->rec[i]);
}

static nt_err fake_case_get(void *ctx, uint64_t id, proto_doc *doc, struct case_rec *rec)
{
	struct fake *f = ctx;

	f->gets++;
	if (id == 0 || id > FAKE_CASES || f->rec[id].sb.size == 0)
		return NT_ENOTFOUND;
	return case_decode(f->rec[id].sb.data, f->rec[id].sb.size, doc, rec);
}

/* Put c into the fake as it is. */
static void fake_put(struct fake *f, const struct case_rec *c)
{
	proto_out_reset(&f->rec[c->id]);
	case_encode(&f->rec[c->id], c);
}

/* Store an effect's case records, as batch.c would. */
static void fake_store(struct fake *f, const struct core_effect *e)
{
	for (unsigned i = 0; i < e->nputs; i++) {
		const struct core_put *p = &e->puts[i];
		uint64_t id;

		if (p->db != DB_CASES || p->klen != 8)
			continue;
		id = ledger_u64(p->key);
		if (id == 0 || id > FAKE_CASES)
			continue;
		proto_out_reset(&f->rec[id]);
		proto_out_raw(&f->rec[id], e->buf.sb.data + p->voff, p->vlen);
	}
}

static struct core_view view_of(struct fake *f, uint64_t next_case, uint64_t seq, int64_t now)
{
	return (struct core_view){ f, fake_case_get, next_case, seq, now };
}

/* A stored case: id, title, actor, with note_count notes. */
static struct case_rec case_fixture(uint64_t id, uint32_t note_count)
{
	struct case_rec c = { 0 };

	c.id = id;
	c.kind = PSTR("petition");
	c.title = PSTR("Bridge at Dongcun is cracked");
	c.unit = PSTR("安岭乡");
	c.lead = PSTR("zhao.min");
	c.status = PSTR("open");
	c.opened_by = PSTR("wang.li");
	c.tags[0] = PSTR("roads");
	c.ntags = 1;
	c.opened_at = NOW1 - 5000;
	c.updated_at = NOW1 - 1000;
	c.opened_seq = 10;
	c.updated_seq = 20;
	c.note_count = note_count;
	return c;
}

/* ---- requests ---- */

/* A decoded, schema-checked request. body must outlive it. */
struct treq {
	proto_doc doc;
	struct proto_arg args[OPS_MAX_FIELDS];
	struct core_req req;
	char why[PROTO_WHY];
};

static nt_err treq_parse(struct treq *t, const proto_out *body, const struct proto_field *spec,
			 size_t n)
{
	nt_err rc;

	memset(t, 0, sizeof *t);
	rc = proto_parse(&t->doc, body->sb.data, body->sb.size, t->why, sizeof t->why);
	if (rc != NT_OK)
		return rc;
	proto_obj_str(proto_map_get(&t->doc.root, "id"), &t->req.id);
	proto_obj_str(proto_map_get(&t->doc.root, "actor"), &t->req.actor);
	t->req.args = t->args;
	return proto_fields(&t->doc.root, spec, n, t->args, t->why, sizeof t->why);
}

static void body_note(proto_out *o, const char *id, uint64_t case_id, const char *text)
{
	msgpack_pack_map(&o->pk, 5);
	proto_kv_cstr(o, "op", "case.note");
	proto_kv_cstr(o, "id", id);
	proto_kv_cstr(o, "actor", "li.na");
	proto_kv_u64(o, "case", case_id);
	proto_kv_cstr(o, "text", text);
}

/* Wrap a core_kvs slice into a map and decode it; wrap must outlive doc. */
static nt_err kvs_doc(const struct core_effect *e, const struct core_kvs *k, proto_out *wrap,
		      proto_doc *doc)
{
	proto_out_reset(wrap);
	msgpack_pack_map(&wrap->pk, k->n);
	proto_out_raw(wrap, e->buf.sb.data + k->off, k->len);
	return proto_parse(doc, wrap->sb.data, wrap->sb.size, NULL, 0);
}

static bool obj_str_is(const msgpack_object *o, const char *want)
{
	proto_str s;

	return proto_obj_str(o, &s) && proto_str_eq(s, want);
}

static bool obj_u64_is(const msgpack_object *o, uint64_t want)
{
	uint64_t u;

	return proto_obj_u64(o, &u) && u == want;
}

static bool obj_i64_is(const msgpack_object *o, int64_t want)
{
	int64_t v;

	return proto_obj_i64(o, &v) && v == want;
}

static bool str_same(proto_str a, proto_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* ---- case.open ---- */

static void opening_a_case_fills_in_kind_lead_status_and_ids_from_the_actor_and_the_view(void)
{
	struct fake f;
	struct core_view v;
	struct core_effect e;
	struct treq t;
	proto_out body, wrap;
	proto_doc rd = { 0 }, ed = { 0 }, pd = { 0 };
	struct case_rec c;
	char why[PROTO_WHY] = "";
	const msgpack_object *tags;
	uint8_t key[8];

	fake_init(&f);
	core_effect_init(&e);
	proto_out_init(&body);
	proto_out_init(&wrap);
	msgpack_pack_map(&body.pk, 4);
	proto_kv_cstr(&body, "op", "case.open");
	proto_kv_cstr(&body, "id", "r1");
	proto_kv_cstr(&body, "actor", "wang.li");
	proto_kv_cstr(&body, "title", "Village road to Xiaxi washed out");
	CHECK(treq_parse(&t, &body, core_case_open_fields, core_case_open_nfields) == NT_OK);

	v = view_of(&f, 7, 42, NOW1);
	CHECK(core_case_open(&v, &t.req, &e, why, sizeof why) == NT_OK);
	CHECK(f.gets == 0);

	/* exactly one put: the new record, appended to cases under its id */
	CHECK(e.nputs == 1);
	CHECK(e.puts[0].db == DB_CASES);
	CHECK(e.puts[0].append);
	ledger_key_u64(key, 7);
	CHECK(e.puts[0].klen == 8 && memcmp(e.puts[0].key, key, 8) == 0);
	CHECK(e.puts[0].voff + e.puts[0].vlen <= e.buf.sb.size);
	CHECK(case_decode(e.buf.sb.data + e.puts[0].voff, e.puts[0].vlen, &rd, &c) == NT_OK);
	CHECK(c.id == 7);
	CHECK(proto_str_eq(c.kind, "problem"));
	CHECK(proto_str_eq(c.title, "Village road to Xiaxi washed out"));
	CHECK(proto_str_eq(c.lead, "wang.li"));
	CHECK(proto_str_eq(c.opened_by, "wang.li"));
	CHECK(proto_str_eq(c.status, "open"));
	CHECK(c.description.len == 0 && c.unit.len == 0 && c.ntags == 0);
	CHECK(c.opened_at == NOW1 && c.updated_at == NOW1);
	CHECK(c.opened_seq == 42 && c.updated_seq == 42);
	CHECK(c.note_count == 0);

	CHECK(e.topic != NULL && strcmp(e.topic, "case.opened") == 0);
	CHECK(e.case_id == 7);
	CHECK(e.new_case);

	/* the log entry: kind, title, lead, tags; no description or unit when not given */
	CHECK(e.entry.n == 4);
	CHECK(kvs_doc(&e, &e.entry, &wrap, &ed) == NT_OK);
	CHECK(ed.root.via.map.size == 4);
	CHECK(obj_str_is(proto_map_get(&ed.root, "kind"), "problem"));
	CHECK(obj_str_is(proto_map_get(&ed.root, "title"), "Village road to Xiaxi washed out"));
	CHECK(obj_str_is(proto_map_get(&ed.root, "lead"), "wang.li"));
	tags = proto_map_get(&ed.root, "tags");
	CHECK(tags != NULL && tags->type == MSGPACK_OBJECT_ARRAY && tags->via.array.size == 0);
	CHECK(proto_map_get(&ed.root, "description") == NULL);
	CHECK(proto_map_get(&ed.root, "unit") == NULL);
	proto_doc_fini(&ed);

	/* the reply: the case id */
	CHECK(e.reply.n == 1);
	CHECK(kvs_doc(&e, &e.reply, &wrap, &pd) == NT_OK);
	CHECK(pd.root.via.map.size == 1);
	CHECK(obj_u64_is(proto_map_get(&pd.root, "case"), 7));

	proto_doc_fini(&pd);
	proto_doc_fini(&rd);
	proto_doc_fini(&t.doc);
	proto_out_fini(&wrap);
	proto_out_fini(&body);
	core_effect_fini(&e);
	fake_fini(&f);
}

static void an_opened_case_keeps_every_field_it_was_given_and_logs_them(void)
{
	static const char *const tag[3] = { "roads", "水灾", "urgent" };
	struct fake f;
	struct core_view v;
	struct core_effect e;
	struct treq t;
	proto_out body, wrap;
	proto_doc rd = { 0 }, ed = { 0 };
	struct case_rec c;
	char why[PROTO_WHY] = "";
	const msgpack_object *tags;

	fake_init(&f);
	core_effect_init(&e);
	proto_out_init(&body);
	proto_out_init(&wrap);
	msgpack_pack_map(&body.pk, 9);
	proto_kv_cstr(&body, "op", "case.open");
	proto_kv_cstr(&body, "id", "r2");
	proto_kv_cstr(&body, "actor", "wang.li");
	proto_kv_cstr(&body, "title", "Household 14 has no water");
	proto_kv_cstr(&body, "description", "The well at 东坡 dried up in May.");
	proto_kv_cstr(&body, "kind", "household");
	proto_kv_cstr(&body, "unit", "安岭乡");
	proto_kv_cstr(&body, "lead", "zhao.min");
	proto_pack_cstr(&body, "tags");
	msgpack_pack_array(&body.pk, 3);
	for (int i = 0; i < 3; i++)
		proto_pack_cstr(&body, tag[i]);
	CHECK(treq_parse(&t, &body, core_case_open_fields, core_case_open_nfields) == NT_OK);

	v = view_of(&f, 1, 1, NOW1);
	CHECK(core_case_open(&v, &t.req, &e, why, sizeof why) == NT_OK);
	CHECK(e.nputs == 1);
	CHECK(case_decode(e.buf.sb.data + e.puts[0].voff, e.puts[0].vlen, &rd, &c) == NT_OK);
	CHECK(c.id == 1);
	CHECK(proto_str_eq(c.kind, "household"));
	CHECK(proto_str_eq(c.description, "The well at 东坡 dried up in May."));
	CHECK(proto_str_eq(c.unit, "安岭乡"));
	CHECK(proto_str_eq(c.lead, "zhao.min"));
	CHECK(proto_str_eq(c.opened_by, "wang.li"));
	CHECK(c.ntags == 3);
	for (uint32_t i = 0; i < 3 && i < c.ntags; i++)
		CHECK(proto_str_eq(c.tags[i], tag[i]));

	CHECK(e.entry.n == 6);
	CHECK(kvs_doc(&e, &e.entry, &wrap, &ed) == NT_OK);
	CHECK(ed.root.via.map.size == 6);
	CHECK(obj_str_is(proto_map_get(&ed.root, "kind"), "household"));
	CHECK(obj_str_is(proto_map_get(&ed.root, "lead"), "zhao.min"));
	CHECK(obj_str_is(proto_map_get(&ed.root, "description"), "The well at 东坡 dried up in May."));
	CHECK(obj_str_is(proto_map_get(&ed.root, "unit"), "安岭乡"));
	tags = proto_map_get(&ed.root, "tags");
	CHECK(tags != NULL && tags->type == MSGPACK_OBJECT_ARRAY && tags->via.array.size == 3);
	if (tags != NULL && tags->type == MSGPACK_OBJECT_ARRAY && tags->via.array.size == 3)
		CHECK(obj_str_is(&tags->via.array.ptr[1], "水灾"));

	proto_doc_fini(&ed);
	proto_doc_fini(&rd);
	proto_doc_fini(&t.doc);
	proto_out_fini(&wrap);
	proto_out_fini(&body);
	core_effect_fini(&e);
	fake_fini(&f);
}

static void the_open_schema_refuses_an_unknown_kind_and_a_seventeenth_tag(void)
{
	struct treq t;
	proto_out body;

	proto_out_init(&body);
	msgpack_pack_map(&body.pk, 5);
	proto_kv_cstr(&body, "op", "case.open");
	proto_kv_cstr(&body, "id", "r3");
	proto_kv_cstr(&body, "actor", "wang.li");
	proto_kv_cstr(&body, "title", "x");
	proto_kv_cstr(&body, "kind", "complaint");
	CHECK(treq_parse(&t, &body, core_case_open_fields, core_case_open_nfields) == NT_EBADREQ);
	CHECK(strstr(t.why, "'kind'") != NULL);
	proto_doc_fini(&t.doc);

	proto_out_reset(&body);
	msgpack_pack_map(&body.pk, 5);
	proto_kv_cstr(&body, "op", "case.open");
	proto_kv_cstr(&body, "id", "r3");
	proto_kv_cstr(&body, "actor", "wang.li");
	proto_kv_cstr(&body, "title", "x");
	proto_pack_cstr(&body, "tags");
	msgpack_pack_array(&body.pk, CASE_MAX_TAGS + 1);
	for (int i = 0; i <= CASE_MAX_TAGS; i++)
		proto_pack_cstr(&body, "t");
	CHECK(treq_parse(&t, &body, core_case_open_fields, core_case_open_nfields) == NT_EBADREQ);
	CHECK(strstr(t.why, "'tags'") != NULL);
	proto_doc_fini(&t.doc);
	proto_out_fini(&body);
}

/* ---- case.note ---- */

/*
 * Note case_id in the ledger f holds (the view's next case and seq are fixed); the core
 * must refuse with want, name why_has in its message and decide no puts.
 */
static void note_is_refused(struct fake *f, uint64_t case_id, uint64_t seq, nt_err want,
			    const char *why_has)
{
	struct core_view v = view_of(f, case_id + 1, seq, NOW1);
	struct core_effect e;
	struct treq t;
	proto_out body;
	char why[PROTO_WHY] = "";

	core_effect_init(&e);
	proto_out_init(&body);
	body_note(&body, "n", case_id, "called the village head");
	CHECK(treq_parse(&t, &body, core_case_note_fields, core_case_note_nfields) == NT_OK);
	CHECK(core_case_note(&v, &t.req, &e, why, sizeof why) == want);
	CHECK(why_has == NULL || strstr(why, why_has) != NULL);
	CHECK(e.nputs == 0);
	proto_doc_fini(&t.doc);
	proto_out_fini(&body);
	core_effect_fini(&e);
}

static void noting_a_missing_case_is_not_found_names_the_case_and_stores_nothing(void)
{
	struct fake f;

	fake_init(&f);
	note_is_refused(&f, 9, 5, NT_ENOTFOUND, "case 9");
	fake_fini(&f);
}

static void noting_a_case_counts_the_note_touches_the_case_and_stores_the_note_by_number(void)
{
	struct fake f;
	struct core_view v;
	struct core_effect e;
	struct treq t;
	proto_out body, wrap;
	proto_doc rd = { 0 }, nd = { 0 }, ed = { 0 }, pd = { 0 };
	struct case_rec before = case_fixture(3, 4), c;
	char why[PROTO_WHY] = "";
	uint8_t key[NOTE_KEY_LEN];

	fake_init(&f);
	core_effect_init(&e);
	proto_out_init(&body);
	proto_out_init(&wrap);
	fake_put(&f, &before);
	body_note(&body, "n2", 3, "路 repaired on the north side");
	CHECK(treq_parse(&t, &body, core_case_note_fields, core_case_note_nfields) == NT_OK);

	v = view_of(&f, 4, 50, NOW2);
	CHECK(core_case_note(&v, &t.req, &e, why, sizeof why) == NT_OK);
	CHECK(e.nputs == 2);

	/* the case: rewritten in place (not appended), one more note, touched now */
	CHECK(e.puts[0].db == DB_CASES);
	CHECK(!e.puts[0].append);
	ledger_key_u64(key, 3);
	CHECK(e.puts[0].klen == 8 && memcmp(e.puts[0].key, key, 8) == 0);
	CHECK(case_decode(e.buf.sb.data + e.puts[0].voff, e.puts[0].vlen, &rd, &c) == NT_OK);
	CHECK(c.id == 3 && c.note_count == 5);
	CHECK(c.updated_at == NOW2 && c.updated_seq == 50);
	CHECK(c.opened_at == before.opened_at && c.opened_seq == before.opened_seq);
	CHECK(str_same(c.title, before.title) && str_same(c.unit, before.unit));
	CHECK(str_same(c.lead, before.lead) && str_same(c.kind, before.kind));
	CHECK(c.ntags == 1 && str_same(c.tags[0], before.tags[0]));

	/* the note, under (case, n) */
	CHECK(e.puts[1].db == DB_NOTES);
	note_key(key, 3, 5);
	CHECK(e.puts[1].klen == NOTE_KEY_LEN && memcmp(e.puts[1].key, key, NOTE_KEY_LEN) == 0);
	CHECK(proto_parse(&nd, e.buf.sb.data + e.puts[1].voff, e.puts[1].vlen, NULL, 0) == NT_OK);
	CHECK(obj_u64_is(proto_map_get(&nd.root, "note"), 5));
	CHECK(obj_i64_is(proto_map_get(&nd.root, "at"), NOW2));
	CHECK(obj_str_is(proto_map_get(&nd.root, "actor"), "li.na"));
	CHECK(obj_u64_is(proto_map_get(&nd.root, "seq"), 50));
	CHECK(obj_str_is(proto_map_get(&nd.root, "text"), "路 repaired on the north side"));

	CHECK(e.topic != NULL && strcmp(e.topic, "case.noted") == 0);
	CHECK(e.case_id == 3);
	CHECK(!e.new_case);
	CHECK(e.entry.n == 2);
	CHECK(kvs_doc(&e, &e.entry, &wrap, &ed) == NT_OK);
	CHECK(obj_u64_is(proto_map_get(&ed.root, "note"), 5));
	CHECK(obj_str_is(proto_map_get(&ed.root, "text"), "路 repaired on the north side"));
	CHECK(e.reply.n == 2);
	CHECK(kvs_doc(&e, &e.reply, &wrap, &pd) == NT_OK);
	CHECK(obj_u64_is(proto_map_get(&pd.root, "case"), 3));
	CHECK(obj_u64_is(proto_map_get(&pd.root, "note"), 5));

	proto_doc_fini(&pd);
	proto_doc_fini(&ed);
	proto_doc_fini(&nd);
	proto_doc_fini(&rd);
	proto_doc_fini(&t.doc);
	proto_out_fini(&wrap);
	proto_out_fini(&body);
	core_effect_fini(&e);
	fake_fini(&f);
}

static void notes_applied_one_after_another_are_numbered_one_two_three(void)
{
	struct fake f;
	struct core_effect e;
	struct case_rec c0 = case_fixture(2, 0), c;
	proto_doc rd = { 0 };
	char why[PROTO_WHY] = "";

	fake_init(&f);
	core_effect_init(&e);
	fake_put(&f, &c0);
	for (uint32_t n = 1; n <= 3; n++) {
		struct core_view v = view_of(&f, 3, 100 + n, NOW1 + n);
		struct treq t;
		proto_out body;
		uint8_t key[NOTE_KEY_LEN];

		proto_out_init(&body);
		body_note(&body, "nx", 2, "again");
		CHECK(treq_parse(&t, &body, core_case_note_fields, core_case_note_nfields) == NT_OK);
		core_effect_reset(&e);	/* the shell reuses one effect: nothing may carry over */
		CHECK(core_case_note(&v, &t.req, &e, why, sizeof why) == NT_OK);
		CHECK(e.nputs == 2);
		note_key(key, 2, n);
		CHECK(memcmp(e.puts[1].key, key, NOTE_KEY_LEN) == 0);
		fake_store(&f, &e);
		proto_doc_fini(&t.doc);
		proto_out_fini(&body);
	}
	CHECK(case_decode(f.rec[2].sb.data, f.rec[2].sb.size, &rd, &c) == NT_OK);
	CHECK(c.note_count == 3 && c.updated_seq == 103 && c.updated_at == NOW1 + 3);
	proto_doc_fini(&rd);
	core_effect_fini(&e);
	fake_fini(&f);
}

static void a_case_with_the_most_notes_a_counter_holds_refuses_another(void)
{
	struct fake f;
	struct case_rec c0 = case_fixture(5, UINT32_MAX);

	fake_init(&f);
	fake_put(&f, &c0);
	note_is_refused(&f, 5, 7, NT_ETOOLARGE, "case 5");
	fake_fini(&f);
}

/* ---- records ---- */

static void a_case_record_round_trips_with_sixteen_tags_and_utf8(void)
{
	char tagbuf[CASE_MAX_TAGS][CASE_MAX_TAG + 1];
	struct case_rec c = { 0 }, d;
	proto_out o;
	proto_doc doc = { 0 };

	for (int i = 0; i < CASE_MAX_TAGS; i++) {
		/* 10 three-byte characters and two digits: 32 bytes, the longest tag */
		snprintf(tagbuf[i], sizeof tagbuf[i], "乡乡乡乡乡乡乡乡乡乡%02d", i);
		c.tags[i] = (proto_str){ tagbuf[i], (uint32_t)strlen(tagbuf[i]) };
	}
	c.ntags = CASE_MAX_TAGS;
	c.id = UINT64_MAX;
	c.kind = PSTR("village");
	c.title = PSTR("西峡村 flood damage 🌧");
	c.description = PSTR("Ünïcödé — \"quotes\"\n\tand 中文");
	c.unit = PSTR("安岭乡");
	c.lead = PSTR("zhao.min");
	c.status = PSTR("open");
	c.opened_by = PSTR("王丽");
	c.opened_at = -1;	/* before the epoch: an i64 that packs as a negative int */
	c.updated_at = INT64_MAX;
	c.opened_seq = 1;
	c.updated_seq = UINT64_MAX - 1;
	c.note_count = UINT32_MAX;

	proto_out_init(&o);
	case_encode(&o, &c);
	CHECK(!o.oom);
	CHECK(proto_check(o.sb.data, o.sb.size, NULL, 0) == NT_OK);
	CHECK(case_decode(o.sb.data, o.sb.size, &doc, &d) == NT_OK);
	CHECK(d.id == c.id);
	CHECK(str_same(d.kind, c.kind) && str_same(d.title, c.title));
	CHECK(str_same(d.description, c.description) && str_same(d.unit, c.unit));
	CHECK(str_same(d.lead, c.lead) && str_same(d.status, c.status));
	CHECK(str_same(d.opened_by, c.opened_by));
	CHECK(d.ntags == CASE_MAX_TAGS);
	for (uint32_t i = 0; i < CASE_MAX_TAGS && i < d.ntags; i++)
		CHECK(str_same(d.tags[i], c.tags[i]));
	CHECK(d.opened_at == -1 && d.updated_at == INT64_MAX);
	CHECK(d.opened_seq == 1 && d.updated_seq == UINT64_MAX - 1);
	CHECK(d.note_count == UINT32_MAX);
	proto_doc_fini(&doc);

	/* without the optional strings, they decode empty */
	c.description = c.unit = PROTO_STR_NULL;
	c.ntags = 0;
	proto_out_reset(&o);
	case_encode(&o, &c);
	CHECK(case_decode(o.sb.data, o.sb.size, &doc, &d) == NT_OK);
	CHECK(d.description.len == 0 && d.unit.len == 0 && d.ntags == 0);
	CHECK(str_same(d.title, c.title));
	proto_doc_fini(&doc);
	proto_out_fini(&o);
}

/*
 * A record built key by key, so that one key can be left out or given a value of the
 * wrong type. BAD_NONE builds a valid record.
 */
enum rec_key {
	K_ID, K_KIND, K_TITLE, K_DESCRIPTION, K_UNIT, K_LEAD, K_TAGS, K_STATUS, K_OPENED_BY,
	K_OPENED_AT, K_OPENED_SEQ, K_UPDATED_AT, K_UPDATED_SEQ, K_NOTE_COUNT, K__N, K_NONE = K__N
};
static const char *const rec_keys[K__N] = {
	"id", "kind", "title", "description", "unit", "lead", "tags", "status", "opened_by",
	"opened_at", "opened_seq", "updated_at", "updated_seq", "note_count",
};

static void rec_build(proto_out *o, enum rec_key omit, enum rec_key bad)
{
	msgpack_pack_map(&o->pk, K__N - (omit != K_NONE));
	for (int k = 0; k < K__N; k++) {
		if (k == (int)omit)
			continue;
		proto_pack_cstr(o, rec_keys[k]);
		if (k == (int)bad) {
			/* strings and arrays get an int, numbers get a string */
			if (k == K_ID || k == K_OPENED_AT || k == K_OPENED_SEQ || k == K_UPDATED_AT ||
			    k == K_UPDATED_SEQ || k == K_NOTE_COUNT)
				proto_pack_cstr(o, "12");
			else
				msgpack_pack_uint64(&o->pk, 12);
			continue;
		}
		switch (k) {
		case K_TAGS:
			msgpack_pack_array(&o->pk, 1);
			proto_pack_cstr(o, "roads");
			break;
		case K_ID: case K_OPENED_SEQ: case K_UPDATED_SEQ: case K_NOTE_COUNT:
			msgpack_pack_uint64(&o->pk, 3);
			break;
		case K_OPENED_AT: case K_UPDATED_AT:
			msgpack_pack_int64(&o->pk, NOW1);
			break;
		default:
			proto_pack_cstr(o, "text");
		}
	}
}

static nt_err decode_bytes(const void *buf, size_t len)
{
	proto_doc doc = { 0 };
	struct case_rec c;
	nt_err rc = case_decode(buf, len, &doc, &c);

	proto_doc_fini(&doc);
	return rc;
}

static nt_err decode_built(enum rec_key omit, enum rec_key bad)
{
	proto_out o;
	nt_err rc;

	proto_out_init(&o);
	rec_build(&o, omit, bad);
	rc = decode_bytes(o.sb.data, o.sb.size);
	proto_out_fini(&o);
	return rc;
}

static void a_truncated_or_padded_record_is_corrupt(void)
{
	struct case_rec c = case_fixture(4, 2);
	proto_out o;
	char *copy;

	proto_out_init(&o);
	case_encode(&o, &c);
	CHECK(decode_bytes(o.sb.data, o.sb.size) == NT_OK);
	/* every proper prefix, in its own allocation so that a read past it is caught */
	for (size_t n = 0; n < o.sb.size; n++) {
		copy = malloc(n + 1);
		memcpy(copy, o.sb.data, n);
		if (decode_bytes(copy, n) != NT_ECORRUPT) {
			printf("# a record cut to %zu of %zu bytes decoded\n", n, o.sb.size);
			CHECK(0);
		}
		free(copy);
	}
	proto_out_raw(&o, "\xc0", 1);	/* one trailing nil */
	CHECK(decode_bytes(o.sb.data, o.sb.size) == NT_ECORRUPT);
	proto_out_fini(&o);
}

static void a_record_missing_a_required_key_or_with_a_wrongly_typed_one_is_corrupt(void)
{
	CHECK(decode_built(K_NONE, K_NONE) == NT_OK);
	for (int k = 0; k < K__N; k++) {
		bool optional = k == K_DESCRIPTION || k == K_UNIT;
		nt_err missing = decode_built((enum rec_key)k, K_NONE);

		if (missing != (optional ? NT_OK : NT_ECORRUPT)) {
			printf("# without '%s' a record decodes as %s\n", rec_keys[k],
			       nt_strerror(missing));
			CHECK(0);
		}
		if (optional)
			continue;	/* see the next test */
		if (decode_built(K_NONE, (enum rec_key)k) != NT_ECORRUPT) {
			printf("# a record with a mistyped '%s' decodes\n", rec_keys[k]);
			CHECK(0);
		}
	}
}

static void a_record_whose_optional_text_has_the_wrong_type_is_corrupt(void)
{
	/* "description": 12 is damage, not absence: decoding it as absent would make the next
	 * rewrite of the case (case.note) erase the field for good */
	CHECK(decode_built(K_NONE, K_DESCRIPTION) == NT_ECORRUPT);
	CHECK(decode_built(K_NONE, K_UNIT) == NT_ECORRUPT);
}

static void a_record_that_is_not_a_map_or_has_too_many_tags_is_corrupt(void)
{
	struct case_rec c = case_fixture(4, 0);
	proto_out o;

	CHECK(decode_bytes("\x93\x01\x02\x03", 4) == NT_ECORRUPT);
	CHECK(decode_bytes("\xa4open", 5) == NT_ECORRUPT);
	CHECK(decode_bytes("\x80", 1) == NT_ECORRUPT);
	/* a tag that is not a string */
	c.tags[0] = PSTR("roads");
	c.ntags = 1;
	proto_out_init(&o);
	case_encode(&o, &c);
	{
		/* the encoding ends: ... "tags" [ "roads" ] ...; turn the tag into an int */
		char *p = memmem(o.sb.data, o.sb.size, "\x91\xa5roads", 7);

		CHECK(p != NULL);
		if (p != NULL) {
			memmove(p + 2, p + 7, o.sb.size - (size_t)(p + 7 - o.sb.data));
			p[1] = 0x07;
			o.sb.size -= 5;
			CHECK(decode_bytes(o.sb.data, o.sb.size) == NT_ECORRUPT);
		}
	}
	proto_out_fini(&o);

	/* sixteen tags are fine; case_encode packs only ntags, so build 17 by hand */
	for (int i = 0; i < CASE_MAX_TAGS; i++)
		c.tags[i] = PSTR("t");
	c.ntags = CASE_MAX_TAGS;
	proto_out_init(&o);
	case_encode(&o, &c);
	CHECK(decode_bytes(o.sb.data, o.sb.size) == NT_OK);
	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 12);
	proto_kv_u64(&o, "id", 4);
	proto_kv_cstr(&o, "kind", "problem");
	proto_kv_cstr(&o, "title", "t");
	proto_kv_cstr(&o, "lead", "l");
	proto_pack_cstr(&o, "tags");
	msgpack_pack_array(&o.pk, CASE_MAX_TAGS + 1);
	for (int i = 0; i <= CASE_MAX_TAGS; i++)
		proto_pack_cstr(&o, "t");
	proto_kv_cstr(&o, "status", "open");
	proto_kv_cstr(&o, "opened_by", "l");
	proto_kv_i64(&o, "opened_at", 1);
	proto_kv_u64(&o, "opened_seq", 1);
	proto_kv_i64(&o, "updated_at", 1);
	proto_kv_u64(&o, "updated_seq", 1);
	proto_kv_u64(&o, "note_count", 0);
	CHECK(decode_bytes(o.sb.data, o.sb.size) == NT_ECORRUPT);

	/* a note count past what a u32 holds */
	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 12);
	proto_kv_u64(&o, "id", 4);
	proto_kv_cstr(&o, "kind", "problem");
	proto_kv_cstr(&o, "title", "t");
	proto_kv_cstr(&o, "lead", "l");
	proto_pack_cstr(&o, "tags");
	msgpack_pack_array(&o.pk, 0);
	proto_kv_cstr(&o, "status", "open");
	proto_kv_cstr(&o, "opened_by", "l");
	proto_kv_i64(&o, "opened_at", 1);
	proto_kv_u64(&o, "opened_seq", 1);
	proto_kv_i64(&o, "updated_at", 1);
	proto_kv_u64(&o, "updated_seq", 1);
	proto_kv_u64(&o, "note_count", (uint64_t)UINT32_MAX + 1);
	CHECK(decode_bytes(o.sb.data, o.sb.size) == NT_ECORRUPT);
	proto_out_fini(&o);
}

static void a_noted_case_whose_record_is_damaged_is_refused_without_puts(void)
{
	struct fake f;

	fake_init(&f);
	rec_build(&f.rec[6], K_STATUS, K_NONE);
	note_is_refused(&f, 6, 8, NT_ECORRUPT, NULL);
	fake_fini(&f);
}

/* ---- request hashes ---- */

/* The hash of the request in o (which must decode). */
static uint64_t hash_of(const proto_out *o)
{
	proto_doc doc = { 0 };
	uint64_t h = 0;

	if (proto_parse(&doc, o->sb.data, o->sb.size, NULL, 0) == NT_OK)
		h = core_request_hash(&doc.root);
	else
		CHECK(!"a request built by the test decodes");
	proto_doc_fini(&doc);
	return h;
}

/* A case.note request; order 1 reverses the key order; vary changes one value. */
enum vary { V_NONE, V_OP, V_ACTOR, V_CASE, V_TEXT, V_EXTRA };

static void note_req(proto_out *o, const char *id, int order, enum vary vary)
{
	proto_out_reset(o);
	msgpack_pack_map(&o->pk, 5 + (vary == V_EXTRA));
	if (order == 0) {
		proto_kv_cstr(o, "op", vary == V_OP ? "case.open" : "case.note");
		proto_kv_cstr(o, "id", id);
		proto_kv_cstr(o, "actor", vary == V_ACTOR ? "li.nb" : "li.na");
		proto_kv_u64(o, "case", vary == V_CASE ? 4 : 3);
		proto_kv_cstr(o, "text", vary == V_TEXT ? "tex" : "text");
	} else {
		proto_kv_cstr(o, "text", vary == V_TEXT ? "tex" : "text");
		proto_kv_u64(o, "case", vary == V_CASE ? 4 : 3);
		proto_kv_cstr(o, "actor", vary == V_ACTOR ? "li.nb" : "li.na");
		proto_kv_cstr(o, "id", id);
		proto_kv_cstr(o, "op", vary == V_OP ? "case.open" : "case.note");
	}
	if (vary == V_EXTRA)
		proto_kv_cstr(o, "kind", "problem");
}

static void a_request_hash_ignores_key_order_and_the_id_but_no_other_value(void)
{
	proto_out o;
	uint64_t base;

	proto_out_init(&o);
	note_req(&o, "id-1", 0, V_NONE);
	base = hash_of(&o);
	note_req(&o, "id-1", 1, V_NONE);
	CHECK(hash_of(&o) == base);
	note_req(&o, "another-id", 0, V_NONE);
	CHECK(hash_of(&o) == base);
	note_req(&o, "another-id", 1, V_NONE);
	CHECK(hash_of(&o) == base);
	for (int v = V_OP; v <= V_EXTRA; v++) {
		note_req(&o, "id-1", 0, (enum vary)v);
		if (hash_of(&o) == base) {
			printf("# changing value %d does not change the hash\n", v);
			CHECK(0);
		}
	}
	/* the same values under swapped keys are a different request */
	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 4);
	proto_kv_cstr(&o, "op", "case.open");
	proto_kv_cstr(&o, "actor", "a");
	proto_kv_cstr(&o, "title", "x");
	proto_kv_cstr(&o, "unit", "y");
	base = hash_of(&o);
	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 4);
	proto_kv_cstr(&o, "op", "case.open");
	proto_kv_cstr(&o, "actor", "a");
	proto_kv_cstr(&o, "title", "y");
	proto_kv_cstr(&o, "unit", "x");
	CHECK(hash_of(&o) != base);
	/* so is a different order of tags */
	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 2);
	proto_kv_cstr(&o, "op", "case.open");
	proto_pack_cstr(&o, "tags");
	msgpack_pack_array(&o.pk, 2);
	proto_pack_cstr(&o, "a");
	proto_pack_cstr(&o, "b");
	base = hash_of(&o);
	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 2);
	proto_kv_cstr(&o, "op", "case.open");
	proto_pack_cstr(&o, "tags");
	msgpack_pack_array(&o.pk, 2);
	proto_pack_cstr(&o, "b");
	proto_pack_cstr(&o, "a");
	CHECK(hash_of(&o) != base);
	proto_out_fini(&o);
}

static void an_integer_sent_in_a_wider_encoding_hashes_the_same(void)
{
	/* "case": 3 as fixint, uint8, uint16, uint32, uint64, int8, int16, int32, int64 */
	static const struct { const char *bytes; size_t len; } forms[] = {
		{ "\x03", 1 },
		{ "\xcc\x03", 2 },
		{ "\xcd\x00\x03", 3 },
		{ "\xce\x00\x00\x00\x03", 5 },
		{ "\xcf\x00\x00\x00\x00\x00\x00\x00\x03", 9 },
		{ "\xd0\x03", 2 },
		{ "\xd1\x00\x03", 3 },
		{ "\xd2\x00\x00\x00\x03", 5 },
		{ "\xd3\x00\x00\x00\x00\x00\x00\x00\x03", 9 },
	};
	proto_out o;
	uint64_t base;

	proto_out_init(&o);
	note_req(&o, "id-1", 0, V_NONE);
	base = hash_of(&o);
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		proto_out_reset(&o);
		msgpack_pack_map(&o.pk, 5);
		proto_kv_cstr(&o, "op", "case.note");
		proto_kv_cstr(&o, "id", "id-1");
		proto_kv_cstr(&o, "actor", "li.na");
		proto_pack_cstr(&o, "case");
		proto_out_raw(&o, forms[i].bytes, forms[i].len);
		proto_kv_cstr(&o, "text", "text");
		if (hash_of(&o) != base) {
			printf("# form %zu of the integer 3 hashes differently\n", i);
			CHECK(0);
		}
	}
	/* a wider string header too: "text" as str8 */
	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 5);
	proto_kv_cstr(&o, "op", "case.note");
	proto_kv_cstr(&o, "id", "id-1");
	proto_kv_cstr(&o, "actor", "li.na");
	proto_kv_u64(&o, "case", 3);
	proto_pack_cstr(&o, "text");
	proto_out_raw(&o, "\xd9\x04text", 6);
	CHECK(hash_of(&o) == base);
	proto_out_fini(&o);
}

int main(void)
{
	RUN(opening_a_case_fills_in_kind_lead_status_and_ids_from_the_actor_and_the_view);
	RUN(an_opened_case_keeps_every_field_it_was_given_and_logs_them);
	RUN(the_open_schema_refuses_an_unknown_kind_and_a_seventeenth_tag);
	RUN(noting_a_missing_case_is_not_found_names_the_case_and_stores_nothing);
	RUN(noting_a_case_counts_the_note_touches_the_case_and_stores_the_note_by_number);
	RUN(notes_applied_one_after_another_are_numbered_one_two_three);
	RUN(a_case_with_the_most_notes_a_counter_holds_refuses_another);
	RUN(a_case_record_round_trips_with_sixteen_tags_and_utf8);
	RUN(a_truncated_or_padded_record_is_corrupt);
	RUN(a_record_missing_a_required_key_or_with_a_wrongly_typed_one_is_corrupt);
	RUN(a_record_whose_optional_text_has_the_wrong_type_is_corrupt);
	RUN(a_record_that_is_not_a_map_or_has_too_many_tags_is_corrupt);
	RUN(a_noted_case_whose_record_is_damaged_is_refused_without_puts);
	RUN(a_request_hash_ignores_key_order_and_the_id_but_no_other_value);
	RUN(an_integer_sent_in_a_wider_encoding_hashes_the_same);
	return tap_done();
}
