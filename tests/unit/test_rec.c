/*
 * test_rec.c - stored records: the table-driven codec (rec.c), the allocation-free reader
 * under it (proto_rd), and calendar dates.
 *
 * A record must survive a round trip, stay readable across versions in both directions
 * (older records lack trailing fields; newer ones have more), and anything damaged must
 * be refused as NT_ECORRUPT, never read past its end.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "rec.h"
#include "../tap.h"

#define PSTR(lit) ((proto_str){ (lit), sizeof(lit) - 1 })

static bool same(proto_str a, const char *b)
{
	return proto_str_eq(a, b);
}

/* A case with every field set to something other than zero. */
static struct case_rec full_case(void)
{
	struct case_rec c = { 0 };

	c.id = 77;
	c.kind = KIND_PETITION;
	c.area = AREA_LIVELIHOOD;
	c.source = 4;
	c.title = PSTR("东村桥梁开裂");
	c.description = PSTR("The bridge at Dongcun has cracked since the spring flood.");
	c.unit = PSTR("dongcun");
	c.lead = PSTR("zhao.min");
	c.units[0] = PSTR("anling");
	c.units[1] = PSTR("transport");
	c.nunits = 2;
	c.tags[0] = PSTR("roads");
	c.ntags = 1;
	c.deadline = 20600;
	c.step = STEP_JOURNALED;
	c.opened_by = PSTR("wang.li");
	c.opened_at = 1780000000000LL;
	c.opened_seq = 10;
	c.updated_at = 1780000999000LL;
	c.updated_seq = 99;
	c.events = 9;
	c.consultations = 3;
	c.consultations_after = 1;
	c.coordinations = 2;
	c.outcomes = 1;
	c.redos = 1;
	c.reopens = 1;
	c.escalations = 2;
	c.planned_at = 1;
	c.first_consulted_at = 2;
	c.committed_at = 3;
	c.resolved_at = 4;
	c.journaled_at = 5;
	c.crossed_at = 6;
	c.plan_seq = 11;
	c.commit_seq = 12;
	c.journal_seq = 13;
	c.satisfied = 40;
	c.basic = 5;
	c.dissatisfied = UINT32_MAX;
	c.taker = PSTR("county.head");
	c.promise_kept = true;
	c.stable = true;
	c.repeats = 2;
	c.skip_level_repeats = 1;
	return c;
}

static void a_case_survives_a_round_trip_through_its_record(void)
{
	struct case_rec c = full_case(), d;
	proto_out o;

	proto_out_init(&o);
	rec_encode(&o, &case_desc, &c);
	CHECK(rec_decode(o.sb.data, o.sb.size, &case_desc, &d) == NT_OK);
	CHECK(d.id == 77 && d.kind == KIND_PETITION && d.area == AREA_LIVELIHOOD && d.source == 4);
	CHECK(same(d.title, "东村桥梁开裂") && same(d.unit, "dongcun") && same(d.lead, "zhao.min"));
	CHECK(d.nunits == 2 && same(d.units[1], "transport") && d.ntags == 1);
	CHECK(d.deadline == 20600 && d.step == STEP_JOURNALED && d.updated_seq == 99);
	CHECK(d.dissatisfied == UINT32_MAX && d.crossed_at == 6 && d.journal_seq == 13);
	CHECK(same(d.taker, "county.head") && d.promise_kept && d.stable && d.skip_level_repeats == 1);
	/* strings point into the record, not into c */
	CHECK(d.title.ptr >= o.sb.data && d.title.ptr < o.sb.data + o.sb.size);
	proto_out_fini(&o);
}

/* An older version's record: the first n fields of the table only. */
static void encode_prefix(proto_out *o, const struct rec_desc *d, const void *s, size_t n)
{
	struct rec_desc prefix = { d->fields, n, d->size };

	rec_encode(o, &prefix, s);
}

static void a_record_of_an_older_version_reads_with_its_missing_fields_zero(void)
{
	struct case_rec c = full_case(), d;
	proto_out o;

	proto_out_init(&o);
	encode_prefix(&o, &case_desc, &c, 12);	/* up to "step" */
	CHECK(rec_decode(o.sb.data, o.sb.size, &case_desc, &d) == NT_OK);
	CHECK(d.id == 77 && d.step == STEP_JOURNALED && d.nunits == 2);
	CHECK(d.opened_by.len == 0 && d.updated_seq == 0 && d.repeats == 0 && !d.stable);
	proto_out_fini(&o);
}

static void a_record_of_a_newer_version_reads_and_its_extra_fields_are_ignored(void)
{
	struct case_rec c = full_case(), d;
	proto_out o;

	proto_out_init(&o);
	rec_encode(&o, &case_desc, &c);
	/* rewrite the array header with three more elements, and append them */
	CHECK((uint8_t)o.sb.data[0] == 0xdc);
	o.sb.data[2] = (char)(o.sb.data[2] + 3);
	proto_pack_cstr(&o, "a field from the future");
	msgpack_pack_map(&o.pk, 1);
	proto_kv_u64(&o, "nested", 1);
	msgpack_pack_nil(&o.pk);
	CHECK(rec_decode(o.sb.data, o.sb.size, &case_desc, &d) == NT_OK);
	CHECK(d.id == 77 && d.skip_level_repeats == 1);
	proto_out_fini(&o);
}

static void every_truncation_of_a_record_is_refused(void)
{
	struct case_rec c = full_case(), d;
	proto_out o;

	proto_out_init(&o);
	rec_encode(&o, &case_desc, &c);
	for (size_t len = 0; len < o.sb.size; len++) {
		/* a copy of exactly len bytes, so that reading past it is seen by valgrind */
		char *cut = malloc(len + 1);

		memcpy(cut, o.sb.data, len);
		if (rec_decode(cut, len, &case_desc, &d) != NT_ECORRUPT) {
			printf("# a record cut to %zu of %zu bytes was accepted\n", len, o.sb.size);
			CHECK(0);
		}
		free(cut);
	}
	proto_out_fini(&o);
}

static void a_record_with_a_wrong_type_or_value_is_refused(void)
{
	struct unit_rec u = { PSTR("anling"), PSTR("安岭乡"), UNIT_TOWNSHIP, PSTR("county"),
			      1, 2, 3, 4 }, d;
	proto_out o;

	proto_out_init(&o);
	rec_encode(&o, &unit_desc, &u);
	CHECK(rec_decode(o.sb.data, o.sb.size, &unit_desc, &d) == NT_OK);
	CHECK(same(d.id, "anling") && d.kind == UNIT_TOWNSHIP && same(d.parent, "county"));

	/* a kind past the names */
	proto_out_reset(&o);
	u.kind = 5;
	rec_encode(&o, &unit_desc, &u);
	CHECK(rec_decode(o.sb.data, o.sb.size, &unit_desc, &d) == NT_ECORRUPT);

	/* a map where an array belongs, an integer where a string belongs */
	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 1);
	proto_kv_u64(&o, "unit", 1);
	CHECK(rec_decode(o.sb.data, o.sb.size, &unit_desc, &d) == NT_ECORRUPT);
	proto_out_reset(&o);
	msgpack_pack_array(&o.pk, 1);
	msgpack_pack_uint64(&o.pk, 7);
	CHECK(rec_decode(o.sb.data, o.sb.size, &unit_desc, &d) == NT_ECORRUPT);

	/* trailing bytes after the record */
	proto_out_reset(&o);
	u.kind = UNIT_TOWNSHIP;
	rec_encode(&o, &unit_desc, &u);
	msgpack_pack_nil(&o.pk);
	CHECK(rec_decode(o.sb.data, o.sb.size, &unit_desc, &d) == NT_ECORRUPT);
	proto_out_fini(&o);
}

static void a_list_longer_than_its_array_is_refused(void)
{
	struct case_rec c = full_case(), d;
	proto_out o;

	/* responsible units: the record says 17 where the struct holds 16 */
	proto_out_init(&o);
	msgpack_pack_array(&o.pk, 9);
	msgpack_pack_uint64(&o.pk, 1);
	msgpack_pack_uint32(&o.pk, 0);
	msgpack_pack_uint32(&o.pk, 0);
	msgpack_pack_uint32(&o.pk, 0);
	proto_pack_cstr(&o, "t");
	proto_pack_cstr(&o, "");
	proto_pack_cstr(&o, "u");
	proto_pack_cstr(&o, "l");
	msgpack_pack_array(&o.pk, CASE_MAX_UNITS + 1);
	for (int i = 0; i <= CASE_MAX_UNITS; i++)
		proto_pack_cstr(&o, "x");
	CHECK(rec_decode(o.sb.data, o.sb.size, &case_desc, &d) == NT_ECORRUPT);
	(void)c;
	proto_out_fini(&o);
}

static void the_wire_form_names_enums_and_dates_and_leaves_out_empty_fields(void)
{
	struct case_rec c = { 0 };
	proto_doc doc = { 0 };
	proto_out o;
	proto_str s;

	c.id = 5;
	c.kind = KIND_VILLAGE;
	c.title = PSTR("t");
	c.unit = PSTR("u");
	c.lead = PSTR("l");
	c.deadline = 20454;	/* 2026-01-01 */
	c.step = STEP_CROSSED_OFF;
	proto_out_init(&o);
	rec_pack(&o, &case_desc, &c, 0, 0);
	CHECK(proto_parse(&doc, o.sb.data, o.sb.size, NULL, 0) == NT_OK);
	CHECK(proto_obj_str(proto_map_get(&doc.root, "kind"), &s) && same(s, "lagging_village"));
	CHECK(proto_obj_str(proto_map_get(&doc.root, "step"), &s) && same(s, "crossed_off"));
	CHECK(proto_obj_str(proto_map_get(&doc.root, "deadline"), &s) && same(s, "2026-01-01"));
	CHECK(proto_map_get(&doc.root, "description") == NULL);	/* empty: left out */
	CHECK(proto_map_get(&doc.root, "taker") == NULL);
	CHECK(proto_map_get(&doc.root, "redos") != NULL);		/* zero, but always shown */
	proto_doc_fini(&doc);

	/* the summary form, and the same without the key */
	proto_out_reset(&o);
	rec_pack(&o, &case_desc, &c, REC_SUMMARY, REC_KEY);
	CHECK(proto_parse(&doc, o.sb.data, o.sb.size, NULL, 0) == NT_OK);
	CHECK(proto_map_get(&doc.root, "case") == NULL && proto_map_get(&doc.root, "title") != NULL);
	CHECK(proto_map_get(&doc.root, "opened_by") == NULL);
	proto_doc_fini(&doc);
	proto_out_fini(&o);
}

static void roles_go_on_the_wire_as_a_list_of_names(void)
{
	struct person_rec p = { 0 }, d;
	proto_doc doc = { 0 };
	const msgpack_object *roles;
	proto_out o;

	p.id = PSTR("li");
	p.name = PSTR("李");
	p.unit = PSTR("anling");
	p.roles = ROLE_CADRE | ROLE_HEAD | ROLE_ADMIN;
	proto_out_init(&o);
	rec_pack(&o, &person_desc, &p, 0, 0);
	CHECK(proto_parse(&doc, o.sb.data, o.sb.size, NULL, 0) == NT_OK);
	roles = proto_map_get(&doc.root, "roles");
	CHECK(roles != NULL && roles->type == MSGPACK_OBJECT_ARRAY && roles->via.array.size == 3);
	if (roles != NULL && roles->via.array.size == 3) {
		proto_str s;

		CHECK(proto_obj_str(&roles->via.array.ptr[1], &s) && same(s, "unit_head"));
	}
	proto_doc_fini(&doc);
	/* bits a later version adds are dropped on reading, not misread */
	proto_out_reset(&o);
	p.roles |= 1u << 20;
	rec_encode(&o, &person_desc, &p);
	CHECK(rec_decode(o.sb.data, o.sb.size, &person_desc, &d) == NT_OK);
	CHECK(d.roles == (ROLE_CADRE | ROLE_HEAD | ROLE_ADMIN));
	proto_out_fini(&o);
}

static void the_reader_takes_integers_of_every_width(void)
{
	static const int64_t values[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, -1, -32, -33,
					  -128, -129, -32768, -32769, INT64_MIN, INT64_MAX,
					  4294967295LL, 4294967296LL };
	proto_out o;
	proto_rd r;
	int64_t v;
	uint64_t u;

	proto_out_init(&o);
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		proto_out_reset(&o);
		msgpack_pack_int64(&o.pk, values[i]);
		proto_rd_init(&r, o.sb.data, o.sb.size);
		CHECK(proto_rd_i64(&r, &v) && v == values[i] && r.p == r.end);
		/* the same value in the widest encodings too */
		proto_out_reset(&o);
		if (values[i] >= 0)
			msgpack_pack_fix_uint64(&o.pk, (uint64_t)values[i]);
		else
			msgpack_pack_fix_int64(&o.pk, values[i]);
		proto_rd_init(&r, o.sb.data, o.sb.size);
		CHECK(proto_rd_i64(&r, &v) && v == values[i]);
	}
	proto_out_reset(&o);
	msgpack_pack_uint64(&o.pk, UINT64_MAX);
	proto_rd_init(&r, o.sb.data, o.sb.size);
	CHECK(proto_rd_u64(&r, &u) && u == UINT64_MAX);
	proto_rd_init(&r, o.sb.data, o.sb.size);
	CHECK(!proto_rd_i64(&r, &v) && r.bad);	/* does not fit int64 */
	proto_out_reset(&o);
	msgpack_pack_int64(&o.pk, -5);
	proto_rd_init(&r, o.sb.data, o.sb.size);
	CHECK(!proto_rd_u64(&r, &u));
	/* sticky: after a failure nothing more is read */
	CHECK(!proto_rd_skip(&r) && r.bad);
	proto_out_fini(&o);
}

static void dates_are_real_calendar_days(void)
{
	static const char *const bad[] = {
		"2026-02-29", "2024-02-30", "2026-13-01", "2026-00-10", "2026-01-00", "2026-1-01",
		"1969-12-31", "20260101", "2026-01-01T", "abcd-ef-gh", "2026/01/01", "",
	};
	int64_t d;
	char buf[11];

	CHECK(proto_date_parse(PSTR("1970-01-01"), &d) && d == 0);
	CHECK(proto_date_parse(PSTR("2024-02-29"), &d));
	CHECK(proto_date_parse(PSTR("2000-02-29"), &d));
	CHECK(!proto_date_parse(PSTR("1900-02-29"), &d));
	CHECK(proto_date_parse(PSTR("2025-06-08"), &d) && d == 20247);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		proto_str s = { bad[i], (uint32_t)strlen(bad[i]) };

		if (proto_date_parse(s, &d)) {
			printf("# '%s' was taken for a date\n", bad[i]);
			CHECK(0);
		}
	}
	/* every day of 1970..2200 formats and parses back to itself */
	for (int64_t day = 0; day < 84000; day++) {
		proto_date_format(day, buf);
		if (!proto_date_parse((proto_str){ buf, 10 }, &d) || d != day) {
			printf("# day %lld formats as %s\n", (long long)day, buf);
			CHECK(0);
			break;
		}
	}
	/* the day of an instant, in China Standard Time: 2026-01-01 00:30 +08 is 2026-01-01 */
	CHECK(proto_day_of(1767198600000LL, 480) == 20454);
	CHECK(proto_day_of(1767198600000LL, 0) == 20453);
}

/* The stored record in o as a decoded object (zone z). */
static msgpack_object unpack(const proto_out *o, msgpack_zone *z)
{
	msgpack_object obj;
	size_t off = 0;

	msgpack_unpack(o->sb.data, o->sb.size, &off, z, &obj);
	return obj;
}

static void the_export_form_packs_back_to_the_same_bytes(void)
{
	struct case_rec c = full_case();
	proto_out rec, map, back;
	msgpack_zone z;
	msgpack_object arr, m;
	char why[PROTO_WHY];

	proto_out_init(&rec);
	proto_out_init(&map);
	proto_out_init(&back);
	msgpack_zone_init(&z, 4096);
	rec_encode(&rec, &case_desc, &c);
	arr = unpack(&rec, &z);
	CHECK(rec_to_map(&map, &case_desc, &arr) == NT_OK);
	m = unpack(&map, &z);
	CHECK(m.type == MSGPACK_OBJECT_MAP && m.via.map.size == case_desc.n);
	CHECK(rec_from_map(&back, &case_desc, &m, why, sizeof why) == NT_OK);
	CHECK(back.sb.size == rec.sb.size && memcmp(back.sb.data, rec.sb.data, rec.sb.size) == 0);
	/* an older version's record: as many fields as it had, no more */
	proto_out_reset(&rec);
	proto_out_reset(&map);
	proto_out_reset(&back);
	encode_prefix(&rec, &case_desc, &c, 12);
	arr = unpack(&rec, &z);
	CHECK(rec_to_map(&map, &case_desc, &arr) == NT_OK);
	m = unpack(&map, &z);
	CHECK(m.via.map.size == 12);
	CHECK(rec_from_map(&back, &case_desc, &m, why, sizeof why) == NT_OK);
	CHECK(back.sb.size == rec.sb.size && memcmp(back.sb.data, rec.sb.data, rec.sb.size) == 0);
	msgpack_zone_destroy(&z);
	proto_out_fini(&rec);
	proto_out_fini(&map);
	proto_out_fini(&back);
}

static void an_export_record_out_of_order_mistyped_or_not_canonical_is_refused(void)
{
	struct case_rec c = full_case();
	proto_out rec, back;
	msgpack_zone z;
	msgpack_object m;
	char why[PROTO_WHY];

	proto_out_init(&rec);
	proto_out_init(&back);
	msgpack_zone_init(&z, 4096);
	/* keys swapped */
	msgpack_pack_map(&rec.pk, 2);
	proto_kv_u64(&rec, "kind", 1);
	proto_kv_u64(&rec, "case", 7);
	m = unpack(&rec, &z);
	CHECK(rec_from_map(&back, &case_desc, &m, why, sizeof why) == NT_EBADREQ);
	CHECK(strstr(why, "must be 'case'") != NULL);
	/* a string where the id belongs */
	proto_out_reset(&rec);
	proto_out_reset(&back);
	msgpack_pack_map(&rec.pk, 1);
	proto_kv_cstr(&rec, "case", "seven");
	m = unpack(&rec, &z);
	CHECK(rec_from_map(&back, &case_desc, &m, why, sizeof why) == NT_EBADREQ);
	/* a whole record that decodes to the same values but is not packed as this version
	 * packs: its first field, the id 77 (a fixint after the array16 header), in the wider
	 * uint8 form */
	proto_out_reset(&rec);
	rec_encode(&rec, &case_desc, &c);
	CHECK(rec_canonical(&case_desc, rec.sb.data, rec.sb.size, why, sizeof why) == NT_OK);
	{
		proto_out wide;

		CHECK((unsigned char)rec.sb.data[0] == 0xdc && rec.sb.data[3] == 77);
		proto_out_init(&wide);
		proto_out_raw(&wide, rec.sb.data, 3);
		proto_out_raw(&wide, "\xcc", 1);
		proto_out_raw(&wide, rec.sb.data + 3, rec.sb.size - 3);
		proto_out_reset(&rec);
		proto_out_raw(&rec, wide.sb.data, wide.sb.size);
		proto_out_fini(&wide);
	}
	CHECK(rec_canonical(&case_desc, rec.sb.data, rec.sb.size, why, sizeof why) == NT_EBADREQ);
	CHECK(strstr(why, "not in the form this version stores") != NULL);
	msgpack_zone_destroy(&z);
	proto_out_fini(&rec);
	proto_out_fini(&back);
}

int main(void)
{
	RUN(a_case_survives_a_round_trip_through_its_record);
	RUN(a_record_of_an_older_version_reads_with_its_missing_fields_zero);
	RUN(a_record_of_a_newer_version_reads_and_its_extra_fields_are_ignored);
	RUN(every_truncation_of_a_record_is_refused);
	RUN(a_record_with_a_wrong_type_or_value_is_refused);
	RUN(a_list_longer_than_its_array_is_refused);
	RUN(the_wire_form_names_enums_and_dates_and_leaves_out_empty_fields);
	RUN(roles_go_on_the_wire_as_a_list_of_names);
	RUN(the_reader_takes_integers_of_every_width);
	RUN(dates_are_real_calendar_days);
	RUN(the_export_form_packs_back_to_the_same_bytes);
	RUN(an_export_record_out_of_order_mistyped_or_not_canonical_is_refused);
	return tap_done();
}
