/*
 * json.c - JSON in and out of MessagePack, for people and for other tools.
 *
 * Out: proto_json() writes any decoded object as one line of JSON, for `nanti --json`,
 * `nanti watch` and the export (`nanti admin export`).
 *
 * In: proto_json_parse() turns one JSON value back into MessagePack, for the import. The
 * import's promise is that a ledger exported and imported again is the same ledger, byte
 * for byte, so the parser packs what the daemon packs: integers in their smallest
 * MessagePack form (msgpack-c's packer, which the daemon uses for everything it stores),
 * strings as str in their smallest form, objects as maps in the key order of the text.
 * Nothing the daemon stores is a float, a bin or an extension, so those need no exact
 * round trip: a number with a fraction or an exponent becomes a float64, and the
 * records' own decoders refuse it where an integer belongs.
 *
 * It is strict in the way proto_check() is strict: it refuses invalid UTF-8, unpaired
 * surrogates, control characters in strings, leading zeros, numbers that fit no 64-bit
 * integer, nesting deeper than PROTO_JSON_MAX_DEPTH and text after the value, and says at
 * which byte. It allocates only the output and one buffer per level of nesting,
 * reused from one container to the next: memory grows with the text, never with a
 * count the text claims.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* ---- out ---- */

/* Output goes through the _unlocked stdio calls: a line is many small writes, and the
 * stream is never shared between threads. */
static void put(FILE *f, const char *s, size_t n)
{
	fwrite_unlocked(s, 1, n, f);
}

static void put_u64(FILE *f, uint64_t v, bool neg)
{
	char b[24], *p = b + sizeof b;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (neg)
		*--p = '-';
	put(f, p, (size_t)(b + sizeof b - p));
}

static void json_str(FILE *f, const char *s, size_t n)
{
	size_t run = 0;

	fputc_unlocked('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(f, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': put(f, "\\\"", 2); break;
		case '\\': put(f, "\\\\", 2); break;
		case '\n': put(f, "\\n", 2); break;
		case '\r': put(f, "\\r", 2); break;
		case '\t': put(f, "\\t", 2); break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put(f, esc, 6);
		}
	}
	if (n > run)	/* an empty string may have no pointer at all */
		put(f, s + run, n - run);
	fputc_unlocked('"', f);
}

void proto_json(FILE *f, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: put(f, "null", 4); break;
	case MSGPACK_OBJECT_BOOLEAN:
		if (o->via.boolean)
			put(f, "true", 4);
		else
			put(f, "false", 5);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: put_u64(f, o->via.u64, false); break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		put_u64(f, (uint64_t)0 - (uint64_t)o->via.i64, true);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: {
		char b[40];
		int n = snprintf(b, sizeof b, "%.17g", o->via.f64);

		/* a float stays a float when read back: 1500 would come back an integer */
		if (n > 0 && (size_t)n < sizeof b - 2 && strpbrk(b, ".eEn") == NULL)
			memcpy(b + n, ".0", 3);
		fputs(b, f);
		break;
	}
	case MSGPACK_OBJECT_STR: json_str(f, o->via.str.ptr, o->via.str.size); break;
	case MSGPACK_OBJECT_BIN:
		fputc_unlocked('"', f);
		for (uint32_t i = 0; i < o->via.bin.size; i++)
			fprintf(f, "%02x", (unsigned char)o->via.bin.ptr[i]);
		fputc_unlocked('"', f);
		break;
	case MSGPACK_OBJECT_ARRAY:
		fputc_unlocked('[', f);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				fputc_unlocked(',', f);
			proto_json(f, &o->via.array.ptr[i]);
		}
		fputc_unlocked(']', f);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc_unlocked('{', f);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];

			if (i > 0)
				fputc_unlocked(',', f);
			if (kv->key.type == MSGPACK_OBJECT_STR)
				json_str(f, kv->key.via.str.ptr, kv->key.via.str.size);
			else {
				fputc_unlocked('"', f);
				proto_json(f, &kv->key);
				fputc_unlocked('"', f);
			}
			fputc_unlocked(':', f);
			proto_json(f, &kv->val);
		}
		fputc_unlocked('}', f);
		break;
	default: put(f, "null", 4); break;
	}
}

/* ---- in ---- */

struct jp {
	const char *s, *p, *end;
	proto_out lvl[PROTO_JSON_MAX_DEPTH];	/* the members of the open container at each depth */
	proto_out str;				/* a string being unescaped */
	char *why;
	size_t whylen;
	bool failed;
};

static bool jp_fail(struct jp *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool jp_fail(struct jp *j, const char *fmt, ...)
{
	char msg[PROTO_WHY];
	va_list ap;

	if (!j->failed && j->why != NULL && j->whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		snprintf(j->why, j->whylen, "%s at byte %td", msg, j->p - j->s + 1);
	}
	j->failed = true;
	return false;
}

static void jp_space(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jp_word(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return jp_fail(j, "not a JSON value");
	j->p += n;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool jp_hex4(struct jp *j, uint32_t *u)
{
	*u = 0;
	if (j->end - j->p < 4)
		return jp_fail(j, "a \\u escape needs four hex digits");
	for (int i = 0; i < 4; i++) {
		int h = hexval(j->p[i]);

		if (h < 0)
			return jp_fail(j, "a \\u escape needs four hex digits");
		*u = *u << 4 | (uint32_t)h;
	}
	j->p += 4;
	return true;
}

static void utf8_put(proto_out *o, uint32_t u)
{
	char b[4];
	size_t n;

	if (u < 0x80) {
		b[0] = (char)u;
		n = 1;
	} else if (u < 0x800) {
		b[0] = (char)(0xc0 | u >> 6);
		b[1] = (char)(0x80 | (u & 0x3f));
		n = 2;
	} else if (u < 0x10000) {
		b[0] = (char)(0xe0 | u >> 12);
		b[1] = (char)(0x80 | (u >> 6 & 0x3f));
		b[2] = (char)(0x80 | (u & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | u >> 18);
		b[1] = (char)(0x80 | (u >> 12 & 0x3f));
		b[2] = (char)(0x80 | (u >> 6 & 0x3f));
		b[3] = (char)(0x80 | (u & 0x3f));
		n = 4;
	}
	proto_out_raw(o, b, n);
}

/* A string (at its opening quote), unescaped into j->str. */
static bool jp_string(struct jp *j)
{
	const char *run;

	proto_out_reset(&j->str);
	j->p++;
	for (;;) {
		run = j->p;
		while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
		       (unsigned char)*j->p >= 0x20)
			j->p++;
		proto_out_raw(&j->str, run, (size_t)(j->p - run));
		if (j->p == j->end)
			return jp_fail(j, "a string does not end");
		if (*j->p == '"')
			break;
		if (*j->p != '\\')
			return jp_fail(j, "a control character in a string");
		if (++j->p == j->end)
			return jp_fail(j, "a string does not end");
		switch (*j->p++) {
		case '"': proto_out_raw(&j->str, "\"", 1); break;
		case '\\': proto_out_raw(&j->str, "\\", 1); break;
		case '/': proto_out_raw(&j->str, "/", 1); break;
		case 'b': proto_out_raw(&j->str, "\b", 1); break;
		case 'f': proto_out_raw(&j->str, "\f", 1); break;
		case 'n': proto_out_raw(&j->str, "\n", 1); break;
		case 'r': proto_out_raw(&j->str, "\r", 1); break;
		case 't': proto_out_raw(&j->str, "\t", 1); break;
		case 'u': {
			uint32_t u, lo;

			if (!jp_hex4(j, &u))
				return false;
			if (u >= 0xdc00 && u < 0xe000)
				return jp_fail(j, "an unpaired surrogate in a string");
			if (u >= 0xd800 && u < 0xdc00) {
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
					return jp_fail(j, "an unpaired surrogate in a string");
				j->p += 2;
				if (!jp_hex4(j, &lo))
					return false;
				if (lo < 0xdc00 || lo >= 0xe000)
					return jp_fail(j, "an unpaired surrogate in a string");
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			utf8_put(&j->str, u);
			break;
		}
		default:
			j->p--;
			return jp_fail(j, "an unknown escape in a string");
		}
	}
	j->p++;
	if (j->str.oom)
		return jp_fail(j, "out of memory");
	if (!proto_utf8_valid(j->str.sb.data, j->str.sb.size))
		return jp_fail(j, "a string is not valid UTF-8");
	return true;
}

static bool jp_number(struct jp *j, proto_out *out)
{
	const char *start = j->p;
	bool neg = false, frac = false;
	char buf[64];
	char *endp;

	if (*j->p == '-') {
		neg = true;
		j->p++;
	}
	if (j->p == j->end || *j->p < '0' || *j->p > '9')
		return jp_fail(j, "not a JSON value");
	if (*j->p == '0' && j->end - j->p > 1 && j->p[1] >= '0' && j->p[1] <= '9')
		return jp_fail(j, "a number with a leading zero");
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	if (j->p < j->end && *j->p == '.') {
		frac = true;
		if (++j->p == j->end || *j->p < '0' || *j->p > '9')
			return jp_fail(j, "a number needs digits after its point");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		frac = true;
		if (++j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p == j->end || *j->p < '0' || *j->p > '9')
			return jp_fail(j, "a number needs digits in its exponent");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if ((size_t)(j->p - start) >= sizeof buf)
		return jp_fail(j, "a number too long");
	memcpy(buf, start, (size_t)(j->p - start));
	buf[j->p - start] = '\0';
	errno = 0;
	if (frac) {
		double d = strtod(buf, &endp);

		if (errno != 0)
			return jp_fail(j, "a number out of range");
		msgpack_pack_double(&out->pk, d);
	} else if (neg) {
		long long v = strtoll(buf, &endp, 10);

		if (errno != 0)
			return jp_fail(j, "an integer out of range");
		msgpack_pack_int64(&out->pk, v);
	} else {
		unsigned long long v = strtoull(buf, &endp, 10);

		if (errno != 0)
			return jp_fail(j, "an integer out of range");
		msgpack_pack_uint64(&out->pk, v);
	}
	return true;
}

/* One value at nesting depth d (0: the top), packed onto out. */
static bool jp_value(struct jp *j, proto_out *out, int d)
{
	jp_space(j);
	if (j->p == j->end)
		return jp_fail(j, "a value is missing");
	switch (*j->p) {
	case '"':
		if (!jp_string(j))
			return false;
		msgpack_pack_str_with_body(&out->pk, j->str.sb.data, j->str.sb.size);
		return true;
	case 't':
		msgpack_pack_true(&out->pk);
		return jp_word(j, "true");
	case 'f':
		msgpack_pack_false(&out->pk);
		return jp_word(j, "false");
	case 'n':
		msgpack_pack_nil(&out->pk);
		return jp_word(j, "null");
	case '[':
	case '{': {
		bool obj = *j->p == '{';
		char close = obj ? '}' : ']';
		proto_out *m;
		uint32_t n = 0;

		if (d >= PROTO_JSON_MAX_DEPTH)
			return jp_fail(j, "nested deeper than %d", PROTO_JSON_MAX_DEPTH);
		m = &j->lvl[d];
		proto_out_reset(m);
		j->p++;
		jp_space(j);
		if (j->p < j->end && *j->p == close)
			j->p++;
		else {
			for (;;) {
				if (obj) {
					jp_space(j);
					if (j->p == j->end || *j->p != '"')
						return jp_fail(j, "an object's key must be a string");
					if (!jp_string(j))
						return false;
					msgpack_pack_str_with_body(&m->pk, j->str.sb.data,
								   j->str.sb.size);
					jp_space(j);
					if (j->p == j->end || *j->p++ != ':')
						return jp_fail(j, "a ':' is missing after a key");
				}
				if (!jp_value(j, m, d + 1))
					return false;
				if (n == UINT32_MAX)
					return jp_fail(j, "too many members");
				n++;
				jp_space(j);
				if (j->p < j->end && *j->p == ',') {
					j->p++;
					continue;
				}
				if (j->p < j->end && *j->p == close) {
					j->p++;
					break;
				}
				return jp_fail(j, "a ',' or '%c' is missing", close);
			}
		}
		if (obj)
			msgpack_pack_map(&out->pk, n);
		else
			msgpack_pack_array(&out->pk, n);
		proto_out_raw(out, m->sb.data, m->sb.size);
		return true;
	}
	default:
		return jp_number(j, out);
	}
}

nt_err proto_json_parse(proto_out *out, const char *s, size_t n, char *why, size_t whylen)
{
	struct jp j = { .s = s, .p = s, .end = s + n, .why = why, .whylen = whylen };
	nt_err rc = NT_OK;
	bool ok;

	for (int i = 0; i < PROTO_JSON_MAX_DEPTH; i++)
		proto_out_init(&j.lvl[i]);
	proto_out_init(&j.str);
	ok = jp_value(&j, out, 0);
	if (ok) {
		jp_space(&j);
		if (j.p != j.end)
			ok = jp_fail(&j, "text after the value");
	}
	for (int i = 0; i < PROTO_JSON_MAX_DEPTH; i++)
		if (j.lvl[i].oom)
			ok = false, rc = NT_ENOMEM;
	if (!ok && rc == NT_OK)
		rc = out->oom || j.str.oom ? NT_ENOMEM : NT_EBADREQ;
	if (ok && out->oom)
		rc = NT_ENOMEM;
	for (int i = 0; i < PROTO_JSON_MAX_DEPTH; i++)
		proto_out_fini(&j.lvl[i]);
	proto_out_fini(&j.str);
	return rc;
}
