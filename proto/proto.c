/*
 * proto.c - strict, bounded decoding and simple encoding of nanti messages.
 *
 * Decoding is two passes. proto_check() walks the raw MessagePack bytes with an explicit
 * cursor and refuses, before anything is allocated, every frame whose declared lengths do
 * not fit the bytes that are really there, that nests deeper than PROTO_MAX_DEPTH, has
 * trailing bytes, non-string or oversized map keys, extension types or invalid UTF-8.
 * Because every element of a container takes at least one byte, a frame that passes holds
 * at most len objects, so msgpack-c's unpacker, which allocates one msgpack_object per
 * declared element, allocates at most ~24 * len bytes: bounded by what was received, not
 * by what was claimed. The second pass is msgpack-c's own msgpack_unpack().
 *
 * proto_fields() then checks a request map against a per-op schema, so that the daemon's
 * op handlers see only well-typed, bounded arguments.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

#define ROOT_MAX_KEYS 64	/* a request has a dozen keys at most */

static void why_set(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

bool proto_str_eq(proto_str s, const char *c)
{
	size_t n = strlen(c);

	return s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

bool proto_str_same(proto_str a, proto_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

int proto_str_cmp(proto_str a, proto_str b)
{
	uint32_t n = a.len < b.len ? a.len : b.len;
	int d = n > 0 ? memcmp(a.ptr, b.ptr, n) : 0;

	if (d != 0)
		return d;
	return a.len < b.len ? -1 : a.len > b.len;
}

/* ---- pass 1: the raw walk ---- */

struct walk {
	const uint8_t *p;
	const uint8_t *end;
	char *why;
	size_t whylen;
};

static bool utf8_valid(const uint8_t *s, size_t n);

bool proto_utf8_valid(const char *s, size_t n)
{
	return utf8_valid((const uint8_t *)s, n);
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
		    (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static bool take(struct walk *w, size_t n, const uint8_t **out)
{
	if ((size_t)(w->end - w->p) < n)
		return false;
	*out = w->p;
	w->p += n;
	return true;
}

static bool take_uint(struct walk *w, size_t n, uint64_t *v)
{
	const uint8_t *b;

	if (!take(w, n, &b))
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = (*v << 8) | b[i];
	return true;
}

enum kind { K_SCALAR, K_STR, K_BIN, K_ARRAY, K_MAP };

/* Read one header: its kind and, for str/bin/array/map, its declared length. */
static nt_err walk_header(struct walk *w, enum kind *kind, uint64_t *n)
{
	const uint8_t *b;
	uint8_t c;
	uint64_t dummy;

	if (!take(w, 1, &b)) {
		why_set(w->why, w->whylen, "truncated: the message ends inside an object");
		return NT_EBADREQ;
	}
	c = *b;
	*n = 0;
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
		*kind = K_SCALAR;
		return NT_OK;
	}
	if ((c & 0xf0) == 0x80) {
		*kind = K_MAP, *n = c & 0x0f;
		return NT_OK;
	}
	if ((c & 0xf0) == 0x90) {
		*kind = K_ARRAY, *n = c & 0x0f;
		return NT_OK;
	}
	if ((c & 0xe0) == 0xa0) {
		*kind = K_STR, *n = c & 0x1f;
		return NT_OK;
	}
	switch (c) {
	case 0xcc: case 0xd0: *kind = K_SCALAR; if (!take_uint(w, 1, &dummy)) goto trunc; return NT_OK;
	case 0xcd: case 0xd1: *kind = K_SCALAR; if (!take_uint(w, 2, &dummy)) goto trunc; return NT_OK;
	case 0xce: case 0xd2: case 0xca: *kind = K_SCALAR; if (!take_uint(w, 4, &dummy)) goto trunc; return NT_OK;
	case 0xcf: case 0xd3: case 0xcb: *kind = K_SCALAR; if (!take_uint(w, 8, &dummy)) goto trunc; return NT_OK;
	case 0xd9: *kind = K_STR; if (!take_uint(w, 1, n)) goto trunc; return NT_OK;
	case 0xda: *kind = K_STR; if (!take_uint(w, 2, n)) goto trunc; return NT_OK;
	case 0xdb: *kind = K_STR; if (!take_uint(w, 4, n)) goto trunc; return NT_OK;
	case 0xc4: *kind = K_BIN; if (!take_uint(w, 1, n)) goto trunc; return NT_OK;
	case 0xc5: *kind = K_BIN; if (!take_uint(w, 2, n)) goto trunc; return NT_OK;
	case 0xc6: *kind = K_BIN; if (!take_uint(w, 4, n)) goto trunc; return NT_OK;
	case 0xdc: *kind = K_ARRAY; if (!take_uint(w, 2, n)) goto trunc; return NT_OK;
	case 0xdd: *kind = K_ARRAY; if (!take_uint(w, 4, n)) goto trunc; return NT_OK;
	case 0xde: *kind = K_MAP; if (!take_uint(w, 2, n)) goto trunc; return NT_OK;
	case 0xdf: *kind = K_MAP; if (!take_uint(w, 4, n)) goto trunc; return NT_OK;
	case 0xc1:
		why_set(w->why, w->whylen, "byte 0xc1 is never used in MessagePack");
		return NT_EBADREQ;
	default:	/* 0xc7-0xc9, 0xd4-0xd8: extension types */
		why_set(w->why, w->whylen, "MessagePack extension types are not used by this protocol");
		return NT_EBADREQ;
	}
trunc:
	why_set(w->why, w->whylen, "truncated: the message ends inside a header");
	return NT_EBADREQ;
}

static nt_err walk_value(struct walk *w, int depth);

static nt_err walk_bytes(struct walk *w, enum kind kind, uint64_t n, const uint8_t **body)
{
	if (n > (uint64_t)(w->end - w->p)) {
		why_set(w->why, w->whylen,
			"a %s declares %" PRIu64 " bytes but only %zu follow",
			kind == K_STR ? "string" : "binary", n, (size_t)(w->end - w->p));
		return NT_EBADREQ;
	}
	take(w, (size_t)n, body);
	if (kind == K_STR && !utf8_valid(*body, (size_t)n)) {
		why_set(w->why, w->whylen, "a string is not valid UTF-8");
		return NT_EBADREQ;
	}
	return NT_OK;
}

static nt_err walk_key(struct walk *w)
{
	enum kind kind;
	uint64_t n;
	const uint8_t *body;
	nt_err rc;

	if ((rc = walk_header(w, &kind, &n)) != NT_OK)
		return rc;
	if (kind != K_STR) {
		why_set(w->why, w->whylen, "map keys must be strings");
		return NT_EBADREQ;
	}
	if (n == 0 || n > PROTO_MAX_KEY) {
		why_set(w->why, w->whylen, "map keys must be 1 to %d bytes", PROTO_MAX_KEY);
		return NT_EBADREQ;
	}
	return walk_bytes(w, kind, n, &body);
}

static nt_err walk_value(struct walk *w, int depth)
{
	enum kind kind;
	uint64_t n;
	const uint8_t *body;
	nt_err rc;

	if ((rc = walk_header(w, &kind, &n)) != NT_OK)
		return rc;
	switch (kind) {
	case K_SCALAR:
		return NT_OK;
	case K_STR:
	case K_BIN:
		return walk_bytes(w, kind, n, &body);
	case K_ARRAY:
	case K_MAP:
		if (depth + 1 > PROTO_MAX_DEPTH) {
			why_set(w->why, w->whylen, "nesting deeper than %d", PROTO_MAX_DEPTH);
			return NT_EBADREQ;
		}
		/* every element needs at least one byte: refuse impossible counts now */
		if (n > (uint64_t)(w->end - w->p) / (kind == K_MAP ? 2 : 1)) {
			why_set(w->why, w->whylen,
				"%s declares %" PRIu64 " elements but only %zu bytes follow",
				kind == K_MAP ? "a map" : "an array", n, (size_t)(w->end - w->p));
			return NT_EBADREQ;
		}
		for (uint64_t i = 0; i < n; i++) {
			if (kind == K_MAP && (rc = walk_key(w)) != NT_OK)
				return rc;
			if ((rc = walk_value(w, depth + 1)) != NT_OK)
				return rc;
		}
		return NT_OK;
	}
	return NT_EINTERNAL;
}

nt_err proto_check(const void *buf, size_t len, char *why, size_t whylen)
{
	struct walk w = { buf, (const uint8_t *)buf + len, why, whylen };
	nt_err rc;

	if (len == 0) {
		why_set(why, whylen, "empty message");
		return NT_EBADREQ;
	}
	if ((rc = walk_value(&w, 0)) != NT_OK)
		return rc;
	if (w.p != w.end) {
		why_set(why, whylen, "%zu trailing bytes after the message",
			(size_t)(w.end - w.p));
		return NT_EBADREQ;
	}
	return NT_OK;
}

/* ---- reading stored records ---- */

void proto_rd_init(proto_rd *r, const void *buf, size_t len)
{
	r->p = buf;
	r->end = r->p + len;
	r->bad = len == 0;
}

static bool rd_fail(proto_rd *r)
{
	r->bad = true;
	return false;
}

/* The next object's first byte, not consumed. */
static bool rd_peek(proto_rd *r, uint8_t *c)
{
	if (r->bad || r->p >= r->end)
		return rd_fail(r);
	*c = *r->p;
	return true;
}

static bool rd_uint(proto_rd *r, size_t n, uint64_t *v)
{
	struct walk w = { r->p, r->end, NULL, 0 };

	if (!take_uint(&w, n, v))
		return rd_fail(r);
	r->p = w.p;
	return true;
}

bool proto_rd_array(proto_rd *r, uint32_t *n)
{
	uint64_t v;
	uint8_t c;

	if (!rd_peek(r, &c))
		return false;
	r->p++;
	if ((c & 0xf0) == 0x90) {
		*n = c & 0x0f;
		return true;
	}
	if ((c != 0xdc && c != 0xdd) || !rd_uint(r, c == 0xdc ? 2 : 4, &v))
		return rd_fail(r);
	*n = (uint32_t)v;
	return true;
}

bool proto_rd_map(proto_rd *r, uint32_t *n)
{
	uint64_t v;
	uint8_t c;

	if (!rd_peek(r, &c))
		return false;
	r->p++;
	if ((c & 0xf0) == 0x80) {
		*n = c & 0x0f;
		return true;
	}
	if ((c != 0xde && c != 0xdf) || !rd_uint(r, c == 0xde ? 2 : 4, &v))
		return rd_fail(r);
	*n = (uint32_t)v;
	return true;
}

bool proto_rd_u64(proto_rd *r, uint64_t *v)
{
	int64_t s;
	uint8_t c;

	if (!rd_peek(r, &c))
		return false;
	if (c == 0xcf) {
		r->p++;
		return rd_uint(r, 8, v);
	}
	if (!proto_rd_i64(r, &s) || s < 0)
		return rd_fail(r);
	*v = (uint64_t)s;
	return true;
}

bool proto_rd_i64(proto_rd *r, int64_t *v)
{
	static const size_t width[] = { 1, 2, 4, 8 };
	uint64_t u;
	uint8_t c;

	if (!rd_peek(r, &c))
		return false;
	r->p++;
	if (c <= 0x7f || c >= 0xe0) {
		*v = (int8_t)c;
		return true;
	}
	if (c >= 0xcc && c <= 0xcf) {		/* uint 8..64 */
		if (!rd_uint(r, width[c - 0xcc], &u) || u > INT64_MAX)
			return rd_fail(r);
		*v = (int64_t)u;
		return true;
	}
	if (c >= 0xd0 && c <= 0xd3) {		/* int 8..64: sign-extend */
		size_t n = width[c - 0xd0];

		if (!rd_uint(r, n, &u))
			return false;
		if (n < 8 && (u >> (n * 8 - 1)) != 0)
			u |= ~0ULL << (n * 8);
		*v = (int64_t)u;
		return true;
	}
	return rd_fail(r);
}

bool proto_rd_bool(proto_rd *r, bool *v)
{
	uint8_t c;

	if (!rd_peek(r, &c))
		return false;
	if (c != 0xc2 && c != 0xc3)
		return rd_fail(r);
	r->p++;
	*v = c == 0xc3;
	return true;
}

bool proto_rd_str(proto_rd *r, proto_str *s)
{
	uint64_t n;
	uint8_t c;

	if (!rd_peek(r, &c))
		return false;
	r->p++;
	if ((c & 0xe0) == 0xa0)
		n = c & 0x1f;
	else if (c < 0xd9 || c > 0xdb || !rd_uint(r, (size_t)1 << (c - 0xd9), &n))
		return rd_fail(r);
	if (n > (uint64_t)(r->end - r->p))
		return rd_fail(r);
	s->ptr = (const char *)r->p;
	s->len = (uint32_t)n;
	r->p += n;
	return true;
}

bool proto_rd_skip(proto_rd *r)
{
	struct walk w = { r->p, r->end, NULL, 0 };

	if (r->bad || walk_value(&w, 0) != NT_OK)
		return rd_fail(r);
	r->p = w.p;
	return true;
}

/* ---- pass 2: msgpack-c ---- */

nt_err proto_parse(proto_doc *doc, const void *buf, size_t len, char *why, size_t whylen)
{
	size_t off = 0;
	nt_err rc;

	doc->live = false;
	if ((rc = proto_check(buf, len, why, whylen)) != NT_OK)
		return rc;
	if (!msgpack_zone_init(&doc->zone, 2048))
		return NT_ENOMEM;
	doc->live = true;
	switch (msgpack_unpack(buf, len, &off, &doc->zone, &doc->root)) {
	case MSGPACK_UNPACK_SUCCESS:
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		return NT_ENOMEM;
	default:
		/* proto_check() accepted it, so msgpack-c must too */
		why_set(why, whylen, "the message does not decode");
		return NT_EBADREQ;
	}
	if (doc->root.type != MSGPACK_OBJECT_MAP) {
		why_set(why, whylen, "the message must be a map");
		return NT_EBADREQ;
	}
	if (doc->root.via.map.size > ROOT_MAX_KEYS) {
		why_set(why, whylen, "more than %d keys", ROOT_MAX_KEYS);
		return NT_EBADREQ;
	}
	for (uint32_t i = 0; i < doc->root.via.map.size; i++) {
		const msgpack_object_str *a = &doc->root.via.map.ptr[i].key.via.str;

		for (uint32_t j = 0; j < i; j++) {
			const msgpack_object_str *b = &doc->root.via.map.ptr[j].key.via.str;

			if (a->size == b->size && memcmp(a->ptr, b->ptr, a->size) == 0) {
				why_set(why, whylen, "key '%.*s' appears twice",
					(int)a->size, a->ptr);
				return NT_EBADREQ;
			}
		}
	}
	return NT_OK;
}

void proto_doc_fini(proto_doc *doc)
{
	if (doc == NULL || !doc->live)
		return;
	msgpack_zone_destroy(&doc->zone);
	doc->live = false;
}

const msgpack_object *proto_map_get(const msgpack_object *map, const char *key)
{
	size_t n = strlen(key);

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    memcmp(k->via.str.ptr, key, n) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

bool proto_obj_str(const msgpack_object *o, proto_str *out)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return false;
	out->ptr = o->via.str.ptr;
	out->len = o->via.str.size;
	return true;
}

bool proto_obj_u64(const msgpack_object *o, uint64_t *out)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*out = o->via.u64;
	return true;
}

bool proto_obj_i64(const msgpack_object *o, int64_t *out)
{
	if (o == NULL)
		return false;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
		*out = (int64_t)o->via.u64;
		return true;
	}
	return false;
}

bool proto_obj_bool(const msgpack_object *o, bool *out)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN)
		return false;
	*out = o->via.boolean;
	return true;
}

/* ---- schemas ---- */

static bool is_envelope_key(const msgpack_object_str *k)
{
	static const char *const env[] = { "op", "id", "actor" };

	for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
		if (k->size == strlen(env[i]) && memcmp(k->ptr, env[i], k->size) == 0)
			return true;
	return false;
}

static nt_err field_check(const struct proto_field *f, const msgpack_object *v,
			  struct proto_arg *a, char *why, size_t whylen)
{
	a->o = v;
	switch (f->type) {
	case PT_LINE:
	case PT_STR:
		if (!proto_obj_str(v, &a->s)) {
			why_set(why, whylen, "'%s' must be a string", f->key);
			return NT_EBADREQ;
		}
		if (a->s.len < f->min || a->s.len > f->max) {
			why_set(why, whylen, "'%s' must be %" PRIu64 " to %" PRIu64 " bytes",
				f->key, f->min, f->max);
			return NT_EBADREQ;
		}
		if (f->oneof != NULL) {
			size_t i;

			for (i = 0; f->oneof[i] != NULL; i++)
				if (proto_str_eq(a->s, f->oneof[i]))
					break;
			if (f->oneof[i] == NULL) {
				char list[96] = "";

				for (i = 0; f->oneof[i] != NULL; i++) {
					if (i > 0)
						strncat(list, ", ", sizeof list - strlen(list) - 1);
					strncat(list, f->oneof[i], sizeof list - strlen(list) - 1);
				}
				why_set(why, whylen, "'%s' must be one of: %s", f->key, list);
				return NT_EBADREQ;
			}
		}
		for (uint32_t i = 0; f->type == PT_LINE && i < a->s.len; i++) {
			unsigned char c = (unsigned char)a->s.ptr[i];

			if (c < 0x20 || c == 0x7f) {
				why_set(why, whylen, "'%s' must be one line, without control "
					"characters", f->key);
				return NT_EBADREQ;
			}
		}
		break;
	case PT_UINT:
		if (!proto_obj_u64(v, &a->u) || a->u < f->min || a->u > f->max) {
			why_set(why, whylen, "'%s' must be an integer from %" PRIu64 " to %" PRIu64,
				f->key, f->min, f->max);
			return NT_EBADREQ;
		}
		break;
	case PT_BOOL:
		if (!proto_obj_bool(v, &a->b)) {
			why_set(why, whylen, "'%s' must be true or false", f->key);
			return NT_EBADREQ;
		}
		break;
	case PT_ID:
		if (!proto_obj_str(v, &a->s) || !proto_id_valid(a->s)) {
			why_set(why, whylen, "'%s' must be an id: 1 to %d letters, digits, '.', '_' "
				"or '-', beginning with a letter or digit", f->key, PROTO_MAX_NAME_ID);
			return NT_EBADREQ;
		}
		break;
	case PT_DATE: {
		int64_t day;

		if (!proto_obj_str(v, &a->s) || !proto_date_parse(a->s, &day)) {
			why_set(why, whylen, "'%s' must be a date written YYYY-MM-DD", f->key);
			return NT_EBADREQ;
		}
		a->u = (uint64_t)day;
		break;
	}
	case PT_IDS:
		if (v->type != MSGPACK_OBJECT_ARRAY ||
		    v->via.array.size < f->min || v->via.array.size > f->max) {
			why_set(why, whylen, "'%s' must be a list of %" PRIu64 " to %" PRIu64
				" ids", f->key, f->min, f->max);
			return NT_EBADREQ;
		}
		for (uint32_t i = 0; i < v->via.array.size; i++) {
			proto_str s;

			if (!proto_obj_str(&v->via.array.ptr[i], &s) || !proto_id_valid(s)) {
				why_set(why, whylen, "'%s' items must be ids: 1 to %d letters, "
					"digits, '.', '_' or '-'", f->key, PROTO_MAX_NAME_ID);
				return NT_EBADREQ;
			}
			for (uint32_t j = 0; j < i; j++) {
				proto_str t;

				proto_obj_str(&v->via.array.ptr[j], &t);
				if (t.len == s.len && memcmp(t.ptr, s.ptr, s.len) == 0) {
					why_set(why, whylen, "'%s' lists '%.*s' twice", f->key,
						(int)s.len, s.ptr);
					return NT_EBADREQ;
				}
			}
		}
		break;
	case PT_STRS:
		if (v->type != MSGPACK_OBJECT_ARRAY ||
		    v->via.array.size < f->min || v->via.array.size > f->max) {
			why_set(why, whylen, "'%s' must be a list of %" PRIu64 " to %" PRIu64
				" strings", f->key, f->min, f->max);
			return NT_EBADREQ;
		}
		for (uint32_t i = 0; i < v->via.array.size; i++) {
			const msgpack_object *e = &v->via.array.ptr[i];

			if (e->type != MSGPACK_OBJECT_STR || e->via.str.size == 0 ||
			    e->via.str.size > f->item_max) {
				why_set(why, whylen, "'%s' items must be strings of 1 to %u bytes",
					f->key, f->item_max);
				return NT_EBADREQ;
			}
		}
		break;
	}
	a->set = true;
	return NT_OK;
}

nt_err proto_fields(const msgpack_object *map, const struct proto_field *spec, size_t n,
		    struct proto_arg *out, char *why, size_t whylen)
{
	nt_err rc;

	memset(out, 0, n * sizeof *out);
	if (map == NULL || map->type != MSGPACK_OBJECT_MAP) {
		why_set(why, whylen, "the request must be a map");
		return NT_EBADREQ;
	}
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];
		const msgpack_object_str *k = &kv->key.via.str;
		size_t j;

		if (kv->key.type != MSGPACK_OBJECT_STR) {
			why_set(why, whylen, "map keys must be strings");
			return NT_EBADREQ;
		}
		if (is_envelope_key(k))
			continue;
		for (j = 0; j < n; j++)
			if (strlen(spec[j].key) == k->size &&
			    memcmp(spec[j].key, k->ptr, k->size) == 0)
				break;
		if (j == n) {
			why_set(why, whylen, "unknown key '%.*s'", (int)k->size, k->ptr);
			return NT_EBADREQ;
		}
		if ((rc = field_check(&spec[j], &kv->val, &out[j], why, whylen)) != NT_OK)
			return rc;
	}
	for (size_t j = 0; j < n; j++) {
		if (spec[j].required && !out[j].set) {
			why_set(why, whylen, "'%s' is required", spec[j].key);
			return NT_EBADREQ;
		}
	}
	return NT_OK;
}

static nt_err envelope_str(const msgpack_object *body, const char *key, uint32_t max,
			   proto_str *out, char *why, size_t whylen)
{
	const msgpack_object *o = proto_map_get(body, key);

	*out = PROTO_STR_NULL;
	if (o == NULL)
		return NT_OK;
	if (!proto_obj_str(o, out) || out->len == 0 || out->len > max) {
		*out = PROTO_STR_NULL;
		why_set(why, whylen, "'%s' must be a string of 1 to %u bytes", key, max);
		return NT_EBADREQ;
	}
	return NT_OK;
}

nt_err proto_request(proto_doc *doc, const void *buf, size_t len, struct proto_request *req,
		     char *why, size_t whylen)
{
	const msgpack_object *op;
	nt_err rc;

	memset(req, 0, sizeof *req);
	if ((rc = proto_parse(doc, buf, len, why, whylen)) != NT_OK)
		return rc;
	req->body = &doc->root;
	/* the id first, so that later errors can still echo it */
	if ((rc = envelope_str(req->body, "id", PROTO_MAX_ID, &req->id, why, whylen)) != NT_OK)
		return rc;
	op = proto_map_get(req->body, "op");
	if (op == NULL) {
		why_set(why, whylen, "'op' is required");
		return NT_EBADREQ;
	}
	if (!proto_obj_str(op, &req->op) || req->op.len == 0 || req->op.len > PROTO_MAX_KEY) {
		why_set(why, whylen, "'op' must be a string of 1 to %d bytes", PROTO_MAX_KEY);
		return NT_EBADREQ;
	}
	return envelope_str(req->body, "actor", PROTO_MAX_ACTOR, &req->actor, why, whylen);
}

/* ---- encoding ---- */

/*
 * The buffer starts small and doubles: most messages are a few hundred bytes, and the
 * daemon keeps one reply and one entry buffer per message slot, so msgpack-c's 8 KiB
 * initial allocation would cost both time and resident memory.
 */
#define OUT_INIT 256

static int out_grow_write(proto_out *out, const char *buf, size_t len)
{
	msgpack_sbuffer *sb = &out->sb;
	size_t want = sb->alloc ? sb->alloc : OUT_INIT;
	char *p;

	if (out->oom)
		return -1;
	while (want - sb->size < len) {
		if (want > SIZE_MAX / 2) {
			out->oom = true;
			return -1;
		}
		want *= 2;
	}
	if ((p = realloc(sb->data, want)) == NULL) {
		out->oom = true;
		return -1;
	}
	sb->data = p;
	sb->alloc = want;
	memcpy(sb->data + sb->size, buf, len);
	sb->size += len;
	return 0;
}

/* The packer's callback: most writes are a few bytes into room that is already there. */
static int out_write(void *data, const char *buf, size_t len)
{
	proto_out *out = data;
	msgpack_sbuffer *sb = &out->sb;

	if (len == 0)	/* an empty string's body: buf and sb->data may both be NULL */
		return 0;
	if (__builtin_expect(sb->alloc - sb->size >= len && !out->oom, 1)) {
		memcpy(sb->data + sb->size, buf, len);
		sb->size += len;
		return 0;
	}
	return out_grow_write(out, buf, len);
}

void proto_out_init(proto_out *out)
{
	msgpack_sbuffer_init(&out->sb);
	msgpack_packer_init(&out->pk, out, out_write);
	out->oom = false;
}

void proto_out_reset(proto_out *out)
{
	out->sb.size = 0;
	out->oom = false;
}

void proto_out_fini(proto_out *out)
{
	if (out == NULL)
		return;
	msgpack_sbuffer_destroy(&out->sb);
	msgpack_sbuffer_init(&out->sb);
}

void proto_out_raw(proto_out *out, const void *buf, size_t len)
{
	out_write(out, buf, len);
}

void proto_pack_str(proto_out *out, proto_str s)
{
	msgpack_pack_str(&out->pk, s.len);
	if (s.len > 0)	/* an empty string may have no pointer at all */
		msgpack_pack_str_body(&out->pk, s.ptr, s.len);
}

void proto_pack_cstr(proto_out *out, const char *s)
{
	msgpack_pack_str_with_body(&out->pk, s, strlen(s));
}

void proto_kv_str(proto_out *out, const char *key, proto_str v)
{
	proto_pack_cstr(out, key);
	proto_pack_str(out, v);
}

void proto_kv_cstr(proto_out *out, const char *key, const char *v)
{
	proto_pack_cstr(out, key);
	proto_pack_cstr(out, v);
}

void proto_kv_u64(proto_out *out, const char *key, uint64_t v)
{
	proto_pack_cstr(out, key);
	msgpack_pack_uint64(&out->pk, v);
}

void proto_kv_i64(proto_out *out, const char *key, int64_t v)
{
	proto_pack_cstr(out, key);
	msgpack_pack_int64(&out->pk, v);
}

void proto_kv_bool(proto_out *out, const char *key, bool v)
{
	proto_pack_cstr(out, key);
	if (v)
		msgpack_pack_true(&out->pk);
	else
		msgpack_pack_false(&out->pk);
}

void proto_kv_nil(proto_out *out, const char *key)
{
	proto_pack_cstr(out, key);
	msgpack_pack_nil(&out->pk);
}

size_t proto_map_begin(proto_out *out)
{
	size_t at = out->sb.size;

	msgpack_pack_map(&out->pk, 0xffff);	/* a map16 header (0xde, 2 bytes of count) */
	return at;
}

void proto_map_end(proto_out *out, size_t at, uint32_t n)
{
	uint8_t *h = (uint8_t *)out->sb.data + at;

	if (out->oom || at + 3 > out->sb.size || h[0] != 0xde)
		return;
	h[1] = (uint8_t)(n >> 8);
	h[2] = (uint8_t)n;
}

void proto_kv_obj(proto_out *out, const char *key, const msgpack_object *o)
{
	proto_pack_cstr(out, key);
	msgpack_pack_object(&out->pk, *o);
}

void proto_reply_error(proto_out *out, proto_str id, nt_err e, const char *message)
{
	proto_out_reset(out);
	msgpack_pack_map(&out->pk, id.len > 0 ? 3 : 2);
	proto_kv_bool(out, "ok", false);
	proto_pack_cstr(out, "error");
	msgpack_pack_map(&out->pk, 2);
	proto_kv_cstr(out, "code", nt_err_code(e));
	proto_kv_cstr(out, "message", message != NULL && *message ? message : nt_strerror(e));
	if (id.len > 0)
		proto_kv_str(out, "id", id);
}

/* ---- ids and hashes ---- */

void proto_new_id(char buf[PROTO_ID_BUF])
{
	struct timespec ts;
	uint64_t ms, rnd = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		rnd = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec;
	snprintf(buf, PROTO_ID_BUF, "%012" PRIx64 "-%016" PRIx64, (uint64_t)(ms & 0xffffffffffffULL), rnd);
}

/*
 * A word-at-a-time hash: each 8-byte word (the tail zero-padded, the length mixed in) is
 * folded into the state by xor, a multiply by an odd constant and a shift, the finaliser of
 * MurmurHash3 at the end. Not cryptographic; stored on disk, so it never changes.
 */
static inline uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static inline uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

uint64_t proto_hash(const void *buf, size_t len, uint64_t h)
{
	const uint8_t *p = buf;
	uint64_t w;

	h = mix(h, len);
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = mix(h, w);
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, p, len);
		h = mix(h, w);
	}
	return fmix(h);
}

uint64_t proto_hash_obj(const msgpack_object *o, uint64_t h)
{
	h = mix(h, (uint64_t)o->type);
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return h;
	case MSGPACK_OBJECT_BOOLEAN:
		return mix(h, o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return mix(h, o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return mix(h, (uint64_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: {
		uint64_t bits;

		memcpy(&bits, &o->via.f64, sizeof bits);
		return mix(h, bits);
	}
	case MSGPACK_OBJECT_STR:
		return proto_hash(o->via.str.ptr, o->via.str.size, h);
	case MSGPACK_OBJECT_BIN:
		return proto_hash(o->via.bin.ptr, o->via.bin.size, h);
	case MSGPACK_OBJECT_ARRAY:
		h = mix(h, o->via.array.size);
		for (uint32_t i = 0; i < o->via.array.size; i++)
			h = proto_hash_obj(&o->via.array.ptr[i], h);
		return h;
	case MSGPACK_OBJECT_MAP:
		h = mix(h, o->via.map.size);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			h = proto_hash_obj(&o->via.map.ptr[i].key, h);
			h = proto_hash_obj(&o->via.map.ptr[i].val, h);
		}
		return h;
	default:
		return h;
	}
}

/* ---- ids ---- */

bool proto_id_valid(proto_str s)
{
	if (s.len == 0 || s.len > PROTO_MAX_NAME_ID)
		return false;
	for (uint32_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			     (c >= 'A' && c <= 'Z');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

bool proto_key_valid(proto_str s)
{
	static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
				  "VWXYZ.-:+=^!/*?&<>()[]{}@%$#";

	if (s.len != PROTO_KEY_LEN)
		return false;
	for (uint32_t i = 0; i < s.len; i += 5) {
		uint64_t v = 0;

		for (uint32_t j = i; j < i + 5; j++) {
			const char *at = s.ptr[j] != '\0' ? strchr(z85, s.ptr[j]) : NULL;

			if (at == NULL)
				return false;
			v = v * 85 + (uint64_t)(at - z85);
		}
		if (v > UINT32_MAX)
			return false;
	}
	return true;
}

/* ---- dates: Howard Hinnant's days_from_civil and civil_from_days ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *p, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	return true;
}

bool proto_date_parse(proto_str s, int64_t *days)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, m, d;
	bool leap;

	if (s.len != 10 || s.ptr[4] != '-' || s.ptr[7] != '-' || !digits(s.ptr, 4, &y) ||
	    !digits(s.ptr + 5, 2, &m) || !digits(s.ptr + 8, 2, &d))
		return false;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !leap))
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

void proto_date_format(int64_t days, char buf[11])
{
	int64_t y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = 0;
	snprintf(buf, 11, "%04u-%02u-%02u", (unsigned)y % 10000, m % 100, d % 100);
}

int64_t proto_day_of(int64_t t_ms, int off_min)
{
	int64_t t = t_ms / 1000 + (int64_t)off_min * 60;

	return (t >= 0 ? t : t - 86399) / 86400;
}
