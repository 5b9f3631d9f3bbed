/*
 * test_hash.c - request hashes: what makes two requests with one id the same request.
 *
 * core_request_hash() decides between duplicate (the same request sent again) and
 * conflict (another request under a used id), across restarts: it is stored, so these
 * tests pin its behaviour down.
 */
#include <inttypes.h>
#include <string.h>

#include "core.h"
#include "../tap.h"



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
	RUN(a_request_hash_ignores_key_order_and_the_id_but_no_other_value);
	RUN(an_integer_sent_in_a_wider_encoding_hashes_the_same);
	return tap_done();
}
