/*
 * fuzz_request.c - a libFuzzer target for the path every request body takes:
 * decode (proto_check, proto_parse), validate (batch_prepare: the envelope, the op table,
 * the op's schema) and, for write ops, apply (the pure core) against an in-memory ledger.
 *
 * No LMDB: the core reads the ledger only through struct core_view, so the target gives it
 * a fixed in-memory ledger: a county with a township and a village, people in every role
 * (li, a cadre who leads the cases; zhang, the township's head; theme; sup; admin), and a
 * case at each step (case N is at step N-1: 1 identified ... 6 crossed off, with evidence
 * enough for the next step), plus a petition (7), and a household (h1, of dongcun, paired
 * with li, discussed by the consultation of seq 5). Each run is therefore fast and depends
 * on nothing but the input. Read ops stop after batch_prepare().
 *
 * Besides the sanitizers, the target checks what must hold for any input, and abort()s
 * (which libFuzzer reports as a crash, saving the input) when it does not:
 *   - proto_parse() never accepts what proto_check() refused;
 *   - an error reply is itself a valid message (our own strict decoder accepts it);
 *   - an item used again with batch_item_reuse(), as the daemon's message slots are,
 *     decides exactly as a fresh one (same outcome, same reply bytes);
 *   - the core refuses only with the protocol's own codes (never "the ledger is damaged");
 *   - an accepted write produces at most CORE_MAX_PUTS puts whose values lie inside the
 *     effect's buffer; a put to cases, units or people decodes as such a record under its
 *     own key; the log entry's and the reply's key/value slices decode as maps of n pairs;
 *     a write that changed nothing (no topic) stores nothing.
 * Everything is allocated and freed within one run, so LeakSanitizer sees any leak.
 *
 * Build and run: see the fuzz targets in the Makefile, or
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -Iinclude ...
 *   /tmp/fuzz_request -max_total_time=60 tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "core.h"
#include "model.h"
#include "proto.h"

#define FAKE_NOW   1780000000000LL
#define FAKE_MAX   32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_request: invariant broken: %s\n", what);
	abort();
}

/* ---- the in-memory ledger: encoded once, read-only afterwards ---- */

struct fake_kv {
	enum ledger_db db;
	char key[HIX_KEY_MAX];
	size_t klen;
	proto_out val;
};
static struct fake_kv fake[FAKE_MAX];
static size_t nfake;

static void fake_add(enum ledger_db db, const void *key, size_t klen, const struct rec_desc *d,
		     const void *rec)
{
	struct fake_kv *kv = &fake[nfake++];

	kv->db = db;
	memcpy(kv->key, key, klen);
	kv->klen = klen;
	proto_out_init(&kv->val);
	rec_encode(&kv->val, d, rec);
}

#define PS(lit) ((proto_str){ (lit), sizeof(lit) - 1 })

static void fake_setup(void)
{
	static const char *const tag16[CASE_MAX_TAGS] = {
		"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "乡",
	};
	struct unit_rec units[] = {
		{ PS("county"), PS("县"), UNIT_COUNTY, PS(""), 1, 1, 1, 1 },
		{ PS("anling"), PS("安岭乡"), UNIT_TOWNSHIP, PS("county"), 1, 1, 1, 1 },
		{ PS("dongcun"), PS("东村"), UNIT_VILLAGE, PS("anling"), 1, 1, 1, 1 },
	};
	struct person_rec people[] = {
		{ PS("admin"), PS("a"), PS("county"), ROLE_ADMIN, PS(""), 1, 1, 1, 1 },
		{ PS("li"), PS("李"), PS("anling"), ROLE_CADRE | ROLE_LEADER, PS(""), 1, 1, 1, 1 },
		{ PS("zhang"), PS("张"), PS("anling"), ROLE_HEAD, PS(""), 1, 1, 1, 1 },
		{ PS("theme"), PS("t"), PS("county"), ROLE_THEME, PS(""), 1, 1, 1, 1 },
		{ PS("sup"), PS("s"), PS("county"), ROLE_SUPERVISION, PS(""), 1, 1, 1, 1 },
		{ PS("zhou"), PS("周"), PS("anling"), ROLE_RESIDENT, PS("dongcun"), 1, 1, 1, 1 },
	};
	struct case_rec c = { 0 };
	uint8_t key[8];

	if (nfake > 0)
		return;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		fake_add(DB_UNITS, units[i].id.ptr, units[i].id.len, &unit_desc, &units[i]);
	for (size_t i = 0; i < sizeof people / sizeof people[0]; i++)
		fake_add(DB_PEOPLE, people[i].id.ptr, people[i].id.len, &person_desc, &people[i]);
	{
		uint8_t one[8];
		struct fake_kv *kv = &fake[nfake++];

		ledger_key_u64(one, 1);
		kv->db = DB_META;
		memcpy(kv->key, META_ADMINS, strlen(META_ADMINS));
		kv->klen = strlen(META_ADMINS);
		proto_out_init(&kv->val);
		proto_out_raw(&kv->val, one, 8);
	}

	c.area = AREA_LIVELIHOOD;
	c.title = PS("road");
	c.unit = PS("dongcun");
	c.lead = c.opened_by = PS("li");
	c.opened_at = c.updated_at = FAKE_NOW - 1000;
	c.opened_seq = c.updated_seq = 1;
	c.description = PS("a well ran dry");
	for (int i = 0; i < CASE_MAX_TAGS; i++)
		c.tags[i] = (proto_str){ tag16[i], (uint32_t)strlen(tag16[i]) };
	c.ntags = CASE_MAX_TAGS;
	for (uint32_t step = STEP_IDENTIFIED; step <= STEP_CROSSED_OFF; step++) {
		/* evidence enough for the step after this one */
		c.id = step + 1;
		c.step = step;
		c.consultations = step >= STEP_PLANNED;
		c.coordinations = step >= STEP_COMMITTED;
		c.consultations_after = step >= STEP_RESOLVED;
		c.satisfied = step >= STEP_JOURNALED ? 9 : 0;
		c.dissatisfied = step >= STEP_JOURNALED ? 1 : 0;
		c.events = UINT32_MAX - 1;
		ledger_key_u64(key, c.id);
		fake_add(DB_CASES, key, 8, &case_desc, &c);
	}
	c.id = 7;
	c.kind = KIND_PETITION;
	c.taker = PS("li");
	c.step = STEP_COMMITTED;
	ledger_key_u64(key, c.id);
	fake_add(DB_CASES, key, 8, &case_desc, &c);
	{
		struct household_rec h = { 0 };
		uint8_t hk[HIX_KEY_MAX], be[8];
		struct fake_kv *kv;

		h.id = PS("h1");
		h.village = PS("dongcun");
		h.category = HH_LOW_INCOME;
		h.members = 3;
		h.head = PS("张大山");
		h.cadre = PS("li");
		h.consultations = 1;
		fake_add(DB_HOUSEHOLDS, h.id.ptr, h.id.len, &household_desc, &h);
		/* consultation 5 discussed it */
		ledger_key_u64(be, 5);
		kv = &fake[nfake++];
		kv->db = DB_HINDEX;
		kv->klen = hix_key(hk, HIX_HIST, h.id, be, 8);
		memcpy(kv->key, hk, kv->klen);
		proto_out_init(&kv->val);
		proto_out_raw(&kv->val, "c", 1);
		kv = &fake[nfake++];
		kv->db = DB_HINDEX;
		kv->klen = hix_key(hk, HIX_CONSULT, PROTO_STR_NULL, be, 8);
		memcpy(kv->key, hk, kv->klen);
		proto_out_init(&kv->val);
		proto_out_raw(&kv->val, "dongcun", 7);
	}
}

static nt_err fake_get(void *ctx, enum ledger_db db, const void *key, size_t klen, MDB_val *val)
{
	(void)ctx;
	for (size_t i = 0; i < nfake; i++)
		if (fake[i].db == db && fake[i].klen == klen && memcmp(fake[i].key, key, klen) == 0) {
			val->mv_data = fake[i].val.sb.data;
			val->mv_size = fake[i].val.sb.size;
			return NT_OK;
		}
	return NT_ENOTFOUND;
}

/* ---- invariants ---- */

/* The n key/value pairs in buf[off..off+len) make a valid map. */
static void check_kvs(const proto_out *buf, const struct core_kvs *k, const char *what)
{
	proto_out wrap;
	proto_doc doc = { 0 };

	if (k->off > buf->sb.size || k->len > buf->sb.size - k->off)
		fail(what);
	proto_out_init(&wrap);
	msgpack_pack_map(&wrap.pk, k->n);
	proto_out_raw(&wrap, buf->sb.data + k->off, k->len);
	if (wrap.oom || proto_parse(&doc, wrap.sb.data, wrap.sb.size, NULL, 0) != NT_OK ||
	    doc.root.via.map.size != k->n)
		fail(what);
	proto_doc_fini(&doc);
	proto_out_fini(&wrap);
}

static void check_record(const struct core_put *p, const char *v)
{
	union { struct case_rec c; struct unit_rec u; struct person_rec p;
		struct household_rec h; } r;

	switch (p->db) {
	case DB_CASES:
		if (p->klen != 8 || rec_decode(v, p->vlen, &case_desc, &r.c) != NT_OK ||
		    r.c.id != ledger_u64(p->key))
			fail("a stored case decodes under its own id");
		break;
	case DB_UNITS:
		if (rec_decode(v, p->vlen, &unit_desc, &r.u) != NT_OK || r.u.id.len != p->klen ||
		    memcmp(r.u.id.ptr, p->key, p->klen) != 0)
			fail("a stored unit decodes under its own id");
		break;
	case DB_PEOPLE:
		if (rec_decode(v, p->vlen, &person_desc, &r.p) != NT_OK || r.p.id.len != p->klen ||
		    memcmp(r.p.id.ptr, p->key, p->klen) != 0)
			fail("a stored person decodes under its own id");
		break;
	case DB_HOUSEHOLDS:
		if (rec_decode(v, p->vlen, &household_desc, &r.h) != NT_OK ||
		    r.h.id.len != p->klen || memcmp(r.h.id.ptr, p->key, p->klen) != 0)
			fail("a stored household decodes under its own id");
		break;
	default:
		break;
	}
}

static void check_effect(const struct core_effect *e)
{
	if (e->nputs > CORE_MAX_PUTS || (e->topic != NULL && e->nputs == 0))
		fail("number of puts");
	if (e->topic == NULL && e->nputs != 0)
		fail("a write that changed nothing stores nothing");
	for (unsigned i = 0; i < e->nputs; i++) {
		const struct core_put *p = &e->puts[i];
		const char *v = e->buf.sb.data + p->voff;

		if (p->db >= DB__N || p->klen == 0 || p->klen > LEDGER_MAX_KEY)
			fail("put key");
		if (p->voff > e->buf.sb.size || p->vlen > e->buf.sb.size - p->voff)
			fail("put value inside the effect's buffer");
		check_record(p, v);
	}
	check_kvs(&e->buf, &e->entry, "log entry fields");
	check_kvs(&e->buf, &e->reply, "reply fields");
}

/* ---- the target ---- */

static void apply_write(const struct batch_item *it)
{
	struct core_view view = { NULL, fake_get, 8, 42, FAKE_NOW, NULL, NULL };
	struct core_req req = { it->req.id, it->req.actor, it->args, it->op };
	struct core_effect e;
	char why[PROTO_WHY] = "";
	nt_err rc;

	(void)core_request_hash(it->req.body);
	core_effect_init(&e);
	rc = it->op->apply(&view, &req, &e, why, sizeof why);
	if (rc == NT_OK)
		check_effect(&e);
	else if (!(rc >= NT_EBADREQ && rc <= NT_ETOOLARGE) && rc != NT_ENOMEM)
		fail("the core refuses only with the protocol's codes or out of memory");
	else if (rc != NT_ENOMEM && why[0] == '\0')
		fail("a refusal says why");
	core_effect_fini(&e);
}

/* batch_prepare() and what must hold of its outcome; returns its result. */
static bool prepare_and_check(struct batch_item *it)
{
	if (batch_prepare(it)) {
		if (it->done || it->op == NULL || !it->op->write || it->op->apply == NULL)
			fail("a prepared write is a write op, not done");
		return true;
	}
	if (it->done) {
		proto_doc reply = { 0 };
		bool ok = true;

		if (proto_parse(&reply, it->reply.sb.data, it->reply.sb.size, NULL, 0) != NT_OK ||
		    !proto_obj_bool(proto_map_get(&reply.root, "ok"), &ok) || ok)
			fail("an error reply is a valid message with ok: false");
		proto_doc_fini(&reply);
	} else if (it->op == NULL || it->op->write || it->op->query == NULL) {
		fail("an item that is neither done nor a write is a read op");
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[PROTO_WHY], *first;
	struct batch_item it;
	proto_doc doc = { 0 };
	nt_err checked, parsed;
	size_t first_len;
	bool write, first_done;

	fake_setup();

	/* the decoder alone */
	checked = proto_check(data, size, why, sizeof why);
	parsed = proto_parse(&doc, data, size, why, sizeof why);
	if (checked != NT_OK && parsed == NT_OK)
		fail("proto_parse accepts what proto_check refuses");
	if (parsed == NT_OK)
		(void)core_request_hash(&doc.root);
	proto_doc_fini(&doc);

	/* the request path, as the daemon takes it */
	batch_item_init(&it, data, size);
	write = prepare_and_check(&it);
	if (write)
		apply_write(&it);

	/* the daemon reuses message slots: a reused item must decide exactly the same */
	first = malloc(it.reply.sb.size + 1);
	if (first == NULL)
		fail("memory for a copy of the reply");
	first_len = it.reply.sb.size;
	if (first_len > 0)
		memcpy(first, it.reply.sb.data, first_len);
	first_done = it.done;
	batch_item_reuse(&it, data, size);
	if (prepare_and_check(&it) != write || it.done != first_done ||
	    it.reply.sb.size != first_len ||
	    (first_len > 0 && memcmp(it.reply.sb.data, first, first_len) != 0))
		fail("a reused item decides as a fresh one");
	free(first);
	batch_item_fini(&it);
	return 0;
}
