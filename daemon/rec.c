/*
 * rec.c - records described by tables (see rec.h): encode, decode, pack for the wire;
 * and calendar dates.
 *
 * The codec walks the field table; it knows nothing of units, people or cases. Decoding
 * uses proto_rd, which allocates nothing, so scanning ten thousand cases for a list costs
 * no malloc at all.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rec.h"

#define AT(s, off, T) ((T *)(void *)((char *)(s) + (off)))
#define CAT(s, off, T) ((const T *)(const void *)((const char *)(s) + (off)))

static void encode_field(proto_out *out, const struct rec_field *f, const void *s)
{
	switch (f->type) {
	case RT_U64:
		msgpack_pack_uint64(&out->pk, *CAT(s, f->off, uint64_t));
		break;
	case RT_I64:
	case RT_DATE:
		msgpack_pack_int64(&out->pk, *CAT(s, f->off, int64_t));
		break;
	case RT_U32:
	case RT_ENUM:
	case RT_FLAGS:
		msgpack_pack_uint32(&out->pk, *CAT(s, f->off, uint32_t));
		break;
	case RT_BOOL:
		if (*CAT(s, f->off, bool))
			msgpack_pack_true(&out->pk);
		else
			msgpack_pack_false(&out->pk);
		break;
	case RT_STR:
		proto_pack_str(out, *CAT(s, f->off, proto_str));
		break;
	case RT_STRS: {
		uint32_t n = *CAT(s, f->noff, uint32_t);

		msgpack_pack_array(&out->pk, n);
		for (uint32_t i = 0; i < n; i++)
			proto_pack_str(out, CAT(s, f->off, proto_str)[i]);
		break;
	}
	}
}

void rec_encode(proto_out *out, const struct rec_desc *d, const void *s)
{
	msgpack_pack_array(&out->pk, (uint32_t)d->n);
	for (size_t i = 0; i < d->n; i++)
		encode_field(out, &d->fields[i], s);
}

static bool decode_field(proto_rd *r, const struct rec_field *f, void *s)
{
	uint32_t n;

	switch (f->type) {
	case RT_U64:
		return proto_rd_u64(r, AT(s, f->off, uint64_t));
	case RT_I64:
	case RT_DATE:
		return proto_rd_i64(r, AT(s, f->off, int64_t));
	case RT_U32:
	case RT_ENUM:
	case RT_FLAGS: {
		uint64_t v;

		if (!proto_rd_u64(r, &v) || v > UINT32_MAX)
			return false;
		if (f->type == RT_ENUM) {
			for (uint64_t i = 0; i <= v; i++)
				if (f->names[i] == NULL)
					return false;
		}
		if (f->type == RT_FLAGS) {
			/* keep the bits this version names; later versions may add more */
			uint64_t known = 0;

			for (unsigned i = 0; i < 32 && f->names[i] != NULL; i++)
				known |= 1ULL << i;
			v &= known;
		}
		*AT(s, f->off, uint32_t) = (uint32_t)v;
		return true;
	}
	case RT_BOOL:
		return proto_rd_bool(r, AT(s, f->off, bool));
	case RT_STR:
		return proto_rd_str(r, AT(s, f->off, proto_str));
	case RT_STRS:
		if (!proto_rd_array(r, &n) || n > f->max)
			return false;
		for (uint32_t i = 0; i < n; i++)
			if (!proto_rd_str(r, &AT(s, f->off, proto_str)[i]))
				return false;
		*AT(s, f->noff, uint32_t) = n;
		return true;
	}
	return false;
}

nt_err rec_decode(const void *buf, size_t len, const struct rec_desc *d, void *s)
{
	proto_rd r;
	uint32_t n;

	memset(s, 0, d->size);
	proto_rd_init(&r, buf, len);
	if (!proto_rd_array(&r, &n))
		return NT_ECORRUPT;
	for (uint32_t i = 0; i < n; i++) {
		bool ok = i < d->n ? decode_field(&r, &d->fields[i], s) : proto_rd_skip(&r);

		if (!ok)
			return NT_ECORRUPT;
	}
	return r.p == r.end ? NT_OK : NT_ECORRUPT;
}

/* ---- the wire form ---- */

static bool is_zero(const struct rec_field *f, const void *s)
{
	switch (f->type) {
	case RT_U64:
		return *CAT(s, f->off, uint64_t) == 0;
	case RT_I64:
	case RT_DATE:
		return *CAT(s, f->off, int64_t) == 0;
	case RT_U32:
	case RT_ENUM:
	case RT_FLAGS:
		return *CAT(s, f->off, uint32_t) == 0;
	case RT_BOOL:
		return !*CAT(s, f->off, bool);
	case RT_STR:
		return CAT(s, f->off, proto_str)->len == 0;
	case RT_STRS:
		return *CAT(s, f->noff, uint32_t) == 0;
	}
	return false;
}

static bool wanted(const struct rec_field *f, const void *s, unsigned need, unsigned without)
{
	return (f->flags & need) == need && (f->flags & without) == 0 &&
	       !((f->flags & REC_OMIT0) && is_zero(f, s));
}

uint32_t rec_pack_pairs(proto_out *out, const struct rec_desc *d, const void *s, unsigned need,
			unsigned without)
{
	uint32_t n = 0;

	for (size_t i = 0; i < d->n; i++) {
		const struct rec_field *f = &d->fields[i];

		if (!wanted(f, s, need, without))
			continue;
		proto_pack_cstr(out, f->key);
		if (f->type == RT_ENUM) {
			proto_pack_cstr(out, f->names[*CAT(s, f->off, uint32_t)]);
		} else if (f->type == RT_FLAGS) {
			uint32_t v = *CAT(s, f->off, uint32_t), k = 0;

			for (unsigned b = 0; f->names[b] != NULL; b++)
				k += (v >> b) & 1;
			msgpack_pack_array(&out->pk, k);
			for (unsigned b = 0; f->names[b] != NULL; b++)
				if ((v >> b) & 1)
					proto_pack_cstr(out, f->names[b]);
		} else if (f->type == RT_DATE) {
			char buf[11];

			proto_date_format(*CAT(s, f->off, int64_t), buf);
			proto_pack_cstr(out, buf);
		} else {
			encode_field(out, f, s);
		}
		n++;
	}
	return n;
}

uint32_t rec_count_pairs(const struct rec_desc *d, const void *s, unsigned need,
			 unsigned without)
{
	uint32_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += wanted(&d->fields[i], s, need, without);
	return n;
}

void rec_pack(proto_out *out, const struct rec_desc *d, const void *s, unsigned need,
	      unsigned without)
{
	msgpack_pack_map(&out->pk, rec_count_pairs(d, s, need, without));
	rec_pack_pairs(out, d, s, need, without);
}

bool rec_field_same(const struct rec_field *f, const void *a, const void *b)
{
	switch (f->type) {
	case RT_U64:
		return *CAT(a, f->off, uint64_t) == *CAT(b, f->off, uint64_t);
	case RT_I64:
	case RT_DATE:
		return *CAT(a, f->off, int64_t) == *CAT(b, f->off, int64_t);
	case RT_U32:
	case RT_ENUM:
	case RT_FLAGS:
		return *CAT(a, f->off, uint32_t) == *CAT(b, f->off, uint32_t);
	case RT_BOOL:
		return *CAT(a, f->off, bool) == *CAT(b, f->off, bool);
	case RT_STR:
		return proto_str_same(*CAT(a, f->off, proto_str), *CAT(b, f->off, proto_str));
	case RT_STRS: {
		uint32_t n = *CAT(a, f->noff, uint32_t);

		if (n != *CAT(b, f->noff, uint32_t))
			return false;
		for (uint32_t i = 0; i < n; i++)
			if (!proto_str_same(CAT(a, f->off, proto_str)[i], CAT(b, f->off, proto_str)[i]))
				return false;
		return true;
	}
	}
	return false;
}

int rec_enum_find(const char *const *names, proto_str s)
{
	for (int i = 0; names[i] != NULL; i++)
		if (proto_str_eq(s, names[i]))
			return i;
	return -1;
}

/* ---- the export's form: the stored values under the table's keys ---- */

nt_err rec_to_map(proto_out *out, const struct rec_desc *d, const msgpack_object *arr)
{
	if (arr->type != MSGPACK_OBJECT_ARRAY || arr->via.array.size > d->n)
		return NT_ECORRUPT;
	msgpack_pack_map(&out->pk, arr->via.array.size);
	for (uint32_t i = 0; i < arr->via.array.size; i++)
		proto_kv_obj(out, d->fields[i].key, &arr->via.array.ptr[i]);
	return out->oom ? NT_ENOMEM : NT_OK;
}

nt_err rec_from_map(proto_out *out, const struct rec_desc *d, const msgpack_object *map,
		    char *why, size_t whylen)
{
	size_t start = out->sb.size;
	uint32_t n;

	if (map->type != MSGPACK_OBJECT_MAP) {
		snprintf(why, whylen, "a record must be an object");
		return NT_EBADREQ;
	}
	n = map->via.map.size;
	if (n > d->n) {
		snprintf(why, whylen, "a record with %" PRIu32 " fields; this version knows %zu",
			 n, d->n);
		return NT_EBADREQ;
	}
	msgpack_pack_array(&out->pk, n);
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		proto_str key;

		if (!proto_obj_str(&kv->key, &key) || !proto_str_eq(key, d->fields[i].key)) {
			snprintf(why, whylen, "field %" PRIu32 " of the record must be '%s'", i + 1,
				 d->fields[i].key);
			return NT_EBADREQ;
		}
		msgpack_pack_object(&out->pk, kv->val);
	}
	if (out->oom)
		return NT_ENOMEM;
	return rec_canonical(d, out->sb.data + start, out->sb.size - start, why, whylen);
}

nt_err rec_canonical(const struct rec_desc *d, const void *buf, size_t len, char *why,
		     size_t whylen)
{
	unsigned char s[REC_MAX_STRUCT] __attribute__((aligned(16)));
	proto_out again;
	uint32_t n;
	nt_err rc;
	proto_rd r = { buf, (const uint8_t *)buf + len, false };

	if (d->size > sizeof s || !proto_rd_array(&r, &n)) {
		snprintf(why, whylen, "not a record");
		return NT_EBADREQ;
	}
	if (rec_decode(buf, len, d, s) != NT_OK) {
		snprintf(why, whylen, "a field of the record has the wrong type or is out of range");
		return NT_EBADREQ;
	}
	if (n < d->n)	/* written by an older version: as it was, no more to compare */
		return NT_OK;
	proto_out_init(&again);
	rec_encode(&again, d, s);
	rc = again.oom ? NT_ENOMEM
	     : again.sb.size == len && memcmp(again.sb.data, buf, len) == 0 ? NT_OK : NT_EBADREQ;
	if (rc == NT_EBADREQ)
		snprintf(why, whylen, "the record is not in the form this version stores");
	proto_out_fini(&again);
	return rc;
}
