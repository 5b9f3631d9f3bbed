/*
 * test_proto.c - the wire format: strict decoding, schemas, encoding, ids and hashes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "../tap.h"

static nt_err check(const char *bytes, size_t n)
{
	char why[PROTO_WHY];

	return proto_check(bytes, n, why, sizeof why);
}

#define CHECK_BYTES(s) check((s), sizeof(s) - 1)

static void a_valid_request_decodes_with_op_id_and_actor(void)
{
	proto_out o;
	proto_doc doc;
	struct proto_request r;
	char why[PROTO_WHY];

	proto_out_init(&o);
	msgpack_pack_map(&o.pk, 4);
	proto_kv_cstr(&o, "op", "case.open");
	proto_kv_cstr(&o, "id", "r1");
	proto_kv_cstr(&o, "actor", "wang.li");
	proto_kv_cstr(&o, "title", "路");
	CHECK(proto_request(&doc, o.sb.data, o.sb.size, &r, why, sizeof why) == NT_OK);
	CHECK(proto_str_eq(r.op, "case.open"));
	CHECK(proto_str_eq(r.id, "r1"));
	CHECK(proto_str_eq(r.actor, "wang.li"));
	proto_doc_fini(&doc);
	proto_out_fini(&o);
}

static void empty_truncated_and_trailing_input_is_refused(void)
{
	CHECK(check("", 0) == NT_EBADREQ);
	CHECK(CHECK_BYTES("\x81\xa2op") == NT_EBADREQ);		/* map ends after key */
	CHECK(CHECK_BYTES("\xa5" "ab") == NT_EBADREQ);		/* str shorter than declared */
	CHECK(CHECK_BYTES("\xcd\x01") == NT_EBADREQ);		/* uint16 cut */
	CHECK(CHECK_BYTES("\x80\x80") == NT_EBADREQ);		/* trailing object */
	CHECK(CHECK_BYTES("\x80") == NT_OK);
}

static void declared_lengths_beyond_the_bytes_sent_are_refused(void)
{
	CHECK(CHECK_BYTES("\xdd\xff\xff\xff\xff\x01") == NT_EBADREQ);	/* array32 */
	CHECK(CHECK_BYTES("\xdf\xff\xff\xff\xff\xa1k\x01") == NT_EBADREQ); /* map32 */
	CHECK(CHECK_BYTES("\xdb\xff\xff\xff\xff" "abc") == NT_EBADREQ);	/* str32 */
	CHECK(CHECK_BYTES("\xc6\xff\xff\xff\xff" "abc") == NT_EBADREQ);	/* bin32 */
	CHECK(CHECK_BYTES("\x92\x01") == NT_EBADREQ);			/* fixarray of 2, 1 sent */
}

static void nesting_deeper_than_the_limit_is_refused(void)
{
	char buf[64];
	size_t n = 0;

	/* depth 8: a map holding 7 nested arrays */
	buf[n++] = (char)0x81, buf[n++] = (char)0xa1, buf[n++] = 'k';
	for (int i = 0; i < 7; i++)
		buf[n++] = (char)0x91;
	buf[n++] = 0x01;
	CHECK(check(buf, n) == NT_OK);
	n = 0;
	buf[n++] = (char)0x81, buf[n++] = (char)0xa1, buf[n++] = 'k';
	for (int i = 0; i < 8; i++)
		buf[n++] = (char)0x91;
	buf[n++] = 0x01;
	CHECK(check(buf, n) == NT_EBADREQ);
}

static void invalid_utf8_is_refused(void)
{
	CHECK(CHECK_BYTES("\xa2\xc0\x80") == NT_EBADREQ);		/* overlong NUL */
	CHECK(CHECK_BYTES("\xa3\xed\xa0\x80") == NT_EBADREQ);	/* surrogate */
	CHECK(CHECK_BYTES("\xa2\xe8\xb7") == NT_EBADREQ);		/* cut sequence */
	CHECK(CHECK_BYTES("\xa1\xff") == NT_EBADREQ);
	CHECK(CHECK_BYTES("\xa4\xf4\x90\x80\x80") == NT_EBADREQ);	/* > U+10FFFF */
	CHECK(CHECK_BYTES("\xa3\xe8\xb7\xaf") == NT_OK);		/* 路 */
	CHECK(CHECK_BYTES("\xa4\xf0\x9f\x98\x80") == NT_OK);		/* emoji */
}

static void map_keys_must_be_short_distinct_strings(void)
{
	proto_doc doc;
	char why[PROTO_WHY];

	CHECK(CHECK_BYTES("\x81\x01\x01") == NT_EBADREQ);		/* int key */
	CHECK(CHECK_BYTES("\x81\xa0\x01") == NT_EBADREQ);		/* empty key */
	CHECK(proto_parse(&doc, "\x82\xa1k\x01\xa1k\x02", 7, why, sizeof why) == NT_EBADREQ);
	CHECK(strstr(why, "twice") != NULL);
	proto_doc_fini(&doc);
}

static void extension_types_are_refused(void)
{
	CHECK(CHECK_BYTES("\xd4\x01\x01") == NT_EBADREQ);
	CHECK(CHECK_BYTES("\xc7\x01\x01\x01") == NT_EBADREQ);
	CHECK(CHECK_BYTES("\xc1") == NT_EBADREQ);
}

static void a_request_must_be_a_map_with_a_string_op(void)
{
	proto_doc doc;
	struct proto_request r;
	char why[PROTO_WHY];

	CHECK(proto_request(&doc, "\x91\x01", 2, &r, why, sizeof why) == NT_EBADREQ);
	proto_doc_fini(&doc);
	CHECK(proto_request(&doc, "\x80", 1, &r, why, sizeof why) == NT_EBADREQ);
	CHECK(strstr(why, "'op'") != NULL);
	proto_doc_fini(&doc);
	CHECK(proto_request(&doc, "\x81\xa2op\x01", 5, &r, why, sizeof why) == NT_EBADREQ);
	proto_doc_fini(&doc);
}

static void an_id_over_64_bytes_is_refused_and_a_good_id_is_kept_for_the_error(void)
{
	proto_out o;
	proto_doc doc;
	struct proto_request r;
	char why[PROTO_WHY], id[70];

	memset(id, 'x', 65);
	id[65] = '\0';
	proto_out_init(&o);
	msgpack_pack_map(&o.pk, 2);
	proto_kv_cstr(&o, "op", "ping");
	proto_kv_cstr(&o, "id", id);
	CHECK(proto_request(&doc, o.sb.data, o.sb.size, &r, why, sizeof why) == NT_EBADREQ);
	CHECK(r.id.len == 0);
	proto_doc_fini(&doc);

	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 3);
	proto_kv_cstr(&o, "id", "keep-me");
	proto_kv_cstr(&o, "op", "ping");
	proto_kv_u64(&o, "actor", 5);
	CHECK(proto_request(&doc, o.sb.data, o.sb.size, &r, why, sizeof why) == NT_EBADREQ);
	CHECK(proto_str_eq(r.id, "keep-me"));
	proto_doc_fini(&doc);
	proto_out_fini(&o);
}

static const char *const colours[] = { "red", "green", NULL };
static const struct proto_field spec[] = {
	{ "name", PT_STR, true, 1, 5, 0, NULL },
	{ "n", PT_UINT, false, 1, 10, 0, NULL },
	{ "flag", PT_BOOL, false, 0, 0, 0, NULL },
	{ "tags", PT_STRS, false, 0, 2, 3, NULL },
	{ "colour", PT_STR, false, 1, 8, 0, colours },
};
#define NSPEC (sizeof spec / sizeof spec[0])

/* The request fields_of() decoded last: the args point into it, so it lives until the
 * next call (or fields_done()). */
static proto_out fields_body;
static proto_doc fields_doc;

static void fields_done(void)
{
	proto_doc_fini(&fields_doc);
	proto_out_fini(&fields_body);
}

/* Decode a request built by fill() against spec; returns the result and the why. */
static nt_err fields_of(void (*fill)(proto_out *), struct proto_arg *args, char *why)
{
	nt_err rc;

	fields_done();
	proto_out_init(&fields_body);
	fill(&fields_body);
	rc = proto_parse(&fields_doc, fields_body.sb.data, fields_body.sb.size, why, PROTO_WHY);
	if (rc == NT_OK)
		rc = proto_fields(&fields_doc.root, spec, NSPEC, args, why, PROTO_WHY);
	return rc;
}

static void fill_good(proto_out *o)
{
	msgpack_pack_map(&o->pk, 6);
	proto_kv_cstr(o, "op", "x");
	proto_kv_cstr(o, "name", "abc");
	proto_kv_u64(o, "n", 10);
	proto_kv_bool(o, "flag", true);
	proto_pack_cstr(o, "tags");
	msgpack_pack_array(&o->pk, 2);
	proto_pack_cstr(o, "a");
	proto_pack_cstr(o, "bcd");
	proto_kv_cstr(o, "colour", "green");
}

static void fill_unknown(proto_out *o)
{
	msgpack_pack_map(&o->pk, 2);
	proto_kv_cstr(o, "name", "abc");
	proto_kv_u64(o, "bogus", 1);
}

static void fill_missing(proto_out *o)
{
	msgpack_pack_map(&o->pk, 1);
	proto_kv_u64(o, "n", 1);
}

static void fill_long(proto_out *o)
{
	msgpack_pack_map(&o->pk, 1);
	proto_kv_cstr(o, "name", "abcdef");
}

static void fill_range(proto_out *o)
{
	msgpack_pack_map(&o->pk, 2);
	proto_kv_cstr(o, "name", "a");
	proto_kv_u64(o, "n", 11);
}

static void fill_negative(proto_out *o)
{
	msgpack_pack_map(&o->pk, 2);
	proto_kv_cstr(o, "name", "a");
	proto_kv_i64(o, "n", -1);
}

static void fill_oneof(proto_out *o)
{
	msgpack_pack_map(&o->pk, 2);
	proto_kv_cstr(o, "name", "a");
	proto_kv_cstr(o, "colour", "blue");
}

static void fill_tags(proto_out *o)
{
	msgpack_pack_map(&o->pk, 2);
	proto_kv_cstr(o, "name", "a");
	proto_pack_cstr(o, "tags");
	msgpack_pack_array(&o->pk, 1);
	proto_pack_cstr(o, "long");
}

static void fill_type(proto_out *o)
{
	msgpack_pack_map(&o->pk, 1);
	proto_kv_u64(o, "name", 3);
}

static void a_schema_accepts_well_typed_fields(void)
{
	struct proto_arg a[NSPEC];
	char why[PROTO_WHY];

	CHECK(fields_of(fill_good, a, why) == NT_OK);
	CHECK(a[0].set && a[0].s.len == 3);
	CHECK(a[1].set && a[1].u == 10);
	CHECK(a[2].set && a[2].b);
	CHECK(a[3].set && a[3].o->via.array.size == 2);
	CHECK(a[4].set && proto_str_eq(a[4].s, "green"));
}

static void a_schema_names_the_key_it_refuses(void)
{
	struct proto_arg a[NSPEC];
	char why[PROTO_WHY];

	CHECK(fields_of(fill_unknown, a, why) == NT_EBADREQ && strstr(why, "bogus"));
	CHECK(fields_of(fill_missing, a, why) == NT_EBADREQ && strstr(why, "'name' is required"));
	CHECK(fields_of(fill_long, a, why) == NT_EBADREQ && strstr(why, "'name'"));
	CHECK(fields_of(fill_range, a, why) == NT_EBADREQ && strstr(why, "'n'"));
	CHECK(fields_of(fill_negative, a, why) == NT_EBADREQ && strstr(why, "'n'"));
	CHECK(fields_of(fill_oneof, a, why) == NT_EBADREQ && strstr(why, "red, green"));
	CHECK(fields_of(fill_tags, a, why) == NT_EBADREQ && strstr(why, "'tags'"));
	CHECK(fields_of(fill_type, a, why) == NT_EBADREQ && strstr(why, "string"));
}

static void an_error_reply_carries_the_stable_code_and_echoes_the_id(void)
{
	proto_out o;
	proto_doc doc;
	proto_str s;
	const msgpack_object *err;
	bool ok = true;

	proto_out_init(&o);
	proto_reply_error(&o, (proto_str){ "r9", 2 }, NT_ENOTFOUND, "no case 4");
	CHECK(proto_parse(&doc, o.sb.data, o.sb.size, NULL, 0) == NT_OK);
	CHECK(proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok) && !ok);
	err = proto_map_get(&doc.root, "error");
	CHECK(proto_obj_str(proto_map_get(err, "code"), &s) && proto_str_eq(s, "not_found"));
	CHECK(proto_obj_str(proto_map_get(err, "message"), &s) && proto_str_eq(s, "no case 4"));
	CHECK(proto_obj_str(proto_map_get(&doc.root, "id"), &s) && proto_str_eq(s, "r9"));
	proto_doc_fini(&doc);
	proto_out_fini(&o);
}

static void every_wire_code_maps_back_to_its_error(void)
{
	for (int e = NT_EBADREQ; e <= NT_EINTERNAL; e++) {
		const char *c = nt_err_code((nt_err)e);

		CHECK(nt_err_from_code(c, strlen(c)) == (nt_err)e);
	}
	CHECK(strcmp(nt_err_code(NT_EMAPFULL), "unavailable") == 0);
	CHECK(strcmp(nt_err_code(NT_ECORRUPT), "internal") == 0);
	CHECK(strcmp(nt_err_code((nt_err)999), "internal") == 0);
}

static void new_ids_are_time_ordered_and_distinct(void)
{
	char a[PROTO_ID_BUF], b[PROTO_ID_BUF];

	proto_new_id(a);
	proto_new_id(b);
	CHECK(strlen(a) == 29 && strlen(b) == 29);
	CHECK(strcmp(a, b) != 0);
	CHECK(memcmp(a, b, 12) <= 0);
}

static void json_output_escapes_strings(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	proto_doc doc;

	CHECK(proto_parse(&doc, "\x81\xa1k\xa3" "a\"\n", 7, NULL, 0) == NT_OK);
	proto_json(f, &doc.root);
	fclose(f);
	CHECK(strcmp(buf, "{\"k\":\"a\\\"\\n\"}") == 0);
	free(buf);
	proto_doc_fini(&doc);
}

/* JSON text -> MessagePack -> JSON text again: the bytes the daemon would pack. */
static nt_err json_in(const char *text, proto_out *o, char *why)
{
	proto_out_reset(o);
	return proto_json_parse(o, text, strlen(text), why, PROTO_WHY);
}

static void json_integers_pack_in_their_smallest_form(void)
{
	static const long long ints[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL,
					  4294967296LL, -1, -32, -33, -128, -129, -32768, -32769,
					  -2147483648LL, -2147483649LL, INT64_MIN, INT64_MAX };
	proto_out o, want;
	char text[32], why[PROTO_WHY];

	proto_out_init(&o);
	proto_out_init(&want);
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		snprintf(text, sizeof text, "%lld", ints[i]);
		proto_out_reset(&want);
		if (ints[i] >= 0)
			msgpack_pack_uint64(&want.pk, (uint64_t)ints[i]);
		else
			msgpack_pack_int64(&want.pk, ints[i]);
		CHECK(json_in(text, &o, why) == NT_OK);
		CHECK(o.sb.size == want.sb.size && memcmp(o.sb.data, want.sb.data, o.sb.size) == 0);
	}
	CHECK(json_in("18446744073709551615", &o, why) == NT_OK);
	CHECK(o.sb.size == 9 && (unsigned char)o.sb.data[0] == 0xcf);
	CHECK(json_in("18446744073709551616", &o, why) == NT_EBADREQ);
	CHECK(json_in("-9223372036854775809", &o, why) == NT_EBADREQ);
	proto_out_fini(&o);
	proto_out_fini(&want);
}

static void json_round_trips_through_messagepack_unchanged(void)
{
	static const char *const texts[] = {
		"{\"entry\":{\"seq\":1,\"topic\":\"case.opened\",\"at\":1795989577766,"
		"\"tags\":[\"路\",\"a\\\"b\\\\c\\n\"],\"ok\":true,\"no\":false,\"x\":null,"
		"\"neg\":-5,\"deep\":[[[{\"k\":[]}]]],\"e\":{}}}",
		"[]",
		"\"\"",
	};
	proto_out o;
	proto_doc doc = { 0 };
	char why[PROTO_WHY], *buf = NULL;
	size_t len = 0;

	proto_out_init(&o);
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		FILE *f = open_memstream(&buf, &len);
		msgpack_zone z;
		msgpack_object obj;
		size_t off = 0;

		CHECK(json_in(texts[i], &o, why) == NT_OK);
		CHECK(proto_check(o.sb.data, o.sb.size, why, sizeof why) == NT_OK);
		msgpack_zone_init(&z, 1024);
		CHECK(msgpack_unpack(o.sb.data, o.sb.size, &off, &z, &obj) ==
		      MSGPACK_UNPACK_SUCCESS);
		proto_json(f, &obj);
		fclose(f);
		CHECK(strcmp(buf, texts[i]) == 0);
		msgpack_zone_destroy(&z);
		free(buf);
		buf = NULL;
	}
	/* escapes: \u with a surrogate pair, \/ and the short ones, whitespace around */
	CHECK(json_in(" \"\\ud83d\\ude00\\u00e9\\/\\b\\f\\t\" ", &o, why) == NT_OK);
	CHECK(o.sb.size == 1 + 4 + 2 + 1 + 3 &&
	      memcmp(o.sb.data + 1, "\xf0\x9f\x98\x80\xc3\xa9/\b\f\t", 10) == 0);
	proto_doc_fini(&doc);
	proto_out_fini(&o);
}

static void json_that_is_not_strict_json_is_refused_with_its_byte(void)
{
	static const char *const bad[] = {
		"", "   ", "01", "-", "1.", "1e", "+1", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}",
		"[1 2]", "tru", "nul", "\"abc", "\"a\tb\"", "\"\\x\"", "\"\\ud800\"",
		"\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\u12\"", "\"\xff\"", "\"\xc0\x80\"",
		"1 2", "{} x", "[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]",
	};
	proto_out o;
	char why[PROTO_WHY];

	proto_out_init(&o);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		CHECK(json_in(bad[i], &o, why) == NT_EBADREQ);
		CHECK(strstr(why, "at byte") != NULL);
	}
	CHECK(json_in("[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", &o, why) == NT_OK);	/* 16 deep */
	CHECK(json_in("1.5e3", &o, why) == NT_OK && (unsigned char)o.sb.data[0] == 0xcb);
	proto_out_fini(&o);
}

int main(void)
{
	RUN(a_valid_request_decodes_with_op_id_and_actor);
	RUN(empty_truncated_and_trailing_input_is_refused);
	RUN(declared_lengths_beyond_the_bytes_sent_are_refused);
	RUN(nesting_deeper_than_the_limit_is_refused);
	RUN(invalid_utf8_is_refused);
	RUN(map_keys_must_be_short_distinct_strings);
	RUN(extension_types_are_refused);
	RUN(a_request_must_be_a_map_with_a_string_op);
	RUN(an_id_over_64_bytes_is_refused_and_a_good_id_is_kept_for_the_error);
	RUN(a_schema_accepts_well_typed_fields);
	RUN(a_schema_names_the_key_it_refuses);
	RUN(an_error_reply_carries_the_stable_code_and_echoes_the_id);
	RUN(every_wire_code_maps_back_to_its_error);
	RUN(new_ids_are_time_ordered_and_distinct);
	RUN(json_output_escapes_strings);
	RUN(json_integers_pack_in_their_smallest_form);
	RUN(json_round_trips_through_messagepack_unchanged);
	RUN(json_that_is_not_strict_json_is_refused_with_its_byte);
	fields_done();
	return tap_done();
}
