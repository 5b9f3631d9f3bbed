/*
 * fuzz_request.c - a libFuzzer target for the path every request body takes:
 * decode (proto_check, proto_parse), validate (batch_prepare: the envelope, the op table,
 * the op's schema) and, for write ops, apply (the pure core) against an in-memory ledger.
 *
 * No LMDB: the core reads the ledger only through struct core_view, so the target gives it
 * a fixed set of three encoded case records (an ordinary case, a case with every optional
 * field and 16 tags, and a case whose note counter is full). Each run is therefore fast and
 * depends on nothing but the input. Read ops stop after batch_prepare().
 *
 * Besides the sanitizers, the target checks what must hold for any input, and abort()s
 * (which libFuzzer reports as a crash, saving the input) when it does not:
 *   - proto_parse() never accepts what proto_check() refused;
 *   - an error reply is itself a valid message (our own strict decoder accepts it);
 *   - an item used again with batch_item_reuse(), as the daemon's message slots are,
 *     decides exactly as a fresh one (same outcome, same reply bytes);
 *   - an accepted write produces at most CORE_MAX_PUTS puts whose values lie inside the
 *     effect's buffer and decode; a put to cases decodes as a case record whose id is its
 *     key; the log entry's and the reply's key/value slices decode as maps of n pairs.
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
#include "proto.h"

#define FAKE_CASES 3
#define FAKE_NOW   1780000000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_request: invariant broken: %s\n", what);
	abort();
}

/* ---- the in-memory ledger: encoded once, read-only afterwards ---- */

static proto_out fake_rec[FAKE_CASES + 1];
static int fake_ready;

static void fake_setup(void)
{
	static const char *const tag16[CASE_MAX_TAGS] = {
		"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "乡",
	};
	struct case_rec c = { 0 };

	if (fake_ready)
		return;
	for (int i = 0; i <= FAKE_CASES; i++)
		proto_out_init(&fake_rec[i]);

	c.kind = (proto_str){ "problem", 7 };
	c.title = (proto_str){ "road", 4 };
	c.lead = c.opened_by = (proto_str){ "wang.li", 7 };
	c.status = (proto_str){ "open", 4 };
	c.opened_at = c.updated_at = FAKE_NOW - 1000;
	c.opened_seq = c.updated_seq = 1;

	c.id = 1;
	case_encode(&fake_rec[1], &c);

	c.id = 2;
	c.description = (proto_str){ "a well ran dry", 14 };
	c.unit = (proto_str){ "安岭乡", 9 };
	for (int i = 0; i < CASE_MAX_TAGS; i++)
		c.tags[i] = (proto_str){ tag16[i], (uint32_t)strlen(tag16[i]) };
	c.ntags = CASE_MAX_TAGS;
	c.note_count = 7;
	case_encode(&fake_rec[2], &c);

	c.id = 3;
	c.note_count = UINT32_MAX;	/* the next note is refused: too_large */
	case_encode(&fake_rec[3], &c);
	fake_ready = 1;
}

static nt_err fake_case_get(void *ctx, uint64_t id, proto_doc *doc, struct case_rec *rec)
{
	(void)ctx;
	if (id == 0 || id > FAKE_CASES)
		return NT_ENOTFOUND;
	return case_decode(fake_rec[id].sb.data, fake_rec[id].sb.size, doc, rec);
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

static void check_effect(const struct core_effect *e)
{
	if (e->nputs == 0 || e->nputs > CORE_MAX_PUTS)
		fail("number of puts");
	if (e->topic == NULL)
		fail("an accepted write has a topic");
	for (unsigned i = 0; i < e->nputs; i++) {
		const struct core_put *p = &e->puts[i];
		const char *v = e->buf.sb.data + p->voff;

		if (p->db >= DB__N || p->klen == 0 || p->klen > LEDGER_MAX_KEY)
			fail("put key");
		if (p->voff > e->buf.sb.size || p->vlen > e->buf.sb.size - p->voff || p->vlen == 0)
			fail("put value inside the effect's buffer");
		if (proto_check(v, p->vlen, NULL, 0) != NT_OK)
			fail("put value is valid MessagePack");
		if (p->db == DB_CASES) {
			proto_doc doc = { 0 };
			struct case_rec c;

			if (p->klen != 8 || case_decode(v, p->vlen, &doc, &c) != NT_OK ||
			    c.id != ledger_u64(p->key))
				fail("a stored case decodes under its own id");
			proto_doc_fini(&doc);
		}
	}
	check_kvs(&e->buf, &e->entry, "log entry fields");
	check_kvs(&e->buf, &e->reply, "reply fields");
}

/* ---- the target ---- */

static void apply_write(const struct batch_item *it)
{
	struct core_view view = { NULL, fake_case_get, FAKE_CASES + 1, 42, FAKE_NOW };
	struct core_req req = { it->req.id, it->req.actor, it->args };
	struct core_effect e;
	char why[PROTO_WHY] = "";
	nt_err rc;

	(void)core_request_hash(it->req.body);
	core_effect_init(&e);
	rc = it->op->apply(&view, &req, &e, why, sizeof why);
	if (rc == NT_OK)
		check_effect(&e);
	else if (rc != NT_ENOTFOUND && rc != NT_ETOOLARGE && rc != NT_ENOMEM)
		fail("the core refuses only with not_found, too_large or out of memory");
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
