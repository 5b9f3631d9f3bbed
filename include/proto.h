/*
 * proto.h - the nanti wire format, shared by nantid and every client.
 *
 * A message body is one MessagePack map (docs/protocol.md). Decoding is strict and
 * bounded: proto_check() walks the raw bytes first and refuses anything whose declared
 * lengths exceed the bytes present, that nests too deep, carries invalid UTF-8 or has
 * trailing bytes. Only then does msgpack-c build objects, so what it allocates is bounded
 * by the size of the frame (at most ~24 bytes per byte received), never by what the frame
 * claims to contain.
 *
 * Typed access to request fields goes through a schema (struct proto_field): every key of
 * the map must be known, every value must have its type and fit its bounds.
 *
 * Encoding uses msgpack-c's packer over a growable buffer (struct proto_out) with a sticky
 * out-of-memory flag, so callers pack everything and check once.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#include "nt_err.h"

#define PROTO_VERSION     "0.1.0"
#define PROTO_MAX_FRAME   65536	/* bytes in any one frame; larger drops the peer */
#define PROTO_MAX_FRAMES  8	/* frames in one message, envelope included */
#define PROTO_MAX_DEPTH   8	/* container nesting; the request map is depth 1 */
#define PROTO_MAX_KEY     64	/* bytes in a map key */
#define PROTO_MAX_ID      64	/* bytes in a request id */
#define PROTO_MAX_ACTOR   64	/* bytes in an actor name */
#define PROTO_WHY         320	/* size of the buffers that receive error messages */

/* A string that points into a message or a record; not NUL-terminated. */
typedef struct proto_str {
	const char *ptr;
	uint32_t len;
} proto_str;

#define PROTO_STR_NULL ((proto_str){ NULL, 0 })

/* Is s[0..n) valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF)? */
bool proto_utf8_valid(const char *s, size_t n);

/* Does s hold exactly the C string c? */
bool proto_str_eq(proto_str s, const char *c);
/* Do a and b hold the same bytes? */
bool proto_str_same(proto_str a, proto_str b);
/* Bytewise order (a prefix first): < 0, 0, > 0, as memcmp. The order of LMDB's keys. */
int proto_str_cmp(proto_str a, proto_str b);

/*
 * proto_check - validate the raw MessagePack in buf[0..len).
 * Accepts exactly one object with no trailing bytes, nesting at most PROTO_MAX_DEPTH,
 * every declared length within the bytes present, map keys that are strings of
 * 1..PROTO_MAX_KEY bytes, valid UTF-8 in every str. Allocates nothing.
 * Returns NT_OK or NT_EBADREQ with a sentence in why (if why is not NULL).
 */
nt_err proto_check(const void *buf, size_t len, char *why, size_t whylen);

/* A decoded message. root is valid until proto_doc_fini(); strings in it point into the
 * buffer given to proto_parse(), which must outlive the doc. */
typedef struct proto_doc {
	msgpack_zone zone;
	msgpack_object root;
	bool live;
} proto_doc;

/*
 * proto_parse - proto_check() then decode into doc. The root must be a map whose keys
 * are all different. On success the caller owns doc and calls proto_doc_fini().
 * On failure doc needs no cleanup (proto_doc_fini() on it is harmless).
 * Returns NT_OK, NT_EBADREQ (why says what), NT_ENOMEM.
 */
nt_err proto_parse(proto_doc *doc, const void *buf, size_t len, char *why, size_t whylen);
void proto_doc_fini(proto_doc *doc);

/* The value under key in a map object, or NULL. */
const msgpack_object *proto_map_get(const msgpack_object *map, const char *key);
/* Typed reads of an object: false if it has another type (or does not fit). */
bool proto_obj_str(const msgpack_object *o, proto_str *out);
bool proto_obj_u64(const msgpack_object *o, uint64_t *out);
bool proto_obj_i64(const msgpack_object *o, int64_t *out);
bool proto_obj_bool(const msgpack_object *o, bool *out);

/* ---- reading stored records ---- */

/*
 * A bounds-checked reader over MessagePack bytes that nanti wrote itself (stored records):
 * it allocates nothing, and strings it returns point into the buffer. The first failure
 * (truncation, an unexpected type, nesting deeper than PROTO_MAX_DEPTH) makes it bad, and
 * every later read returns false: decode everything, then check once.
 */
typedef struct proto_rd {
	const uint8_t *p, *end;
	bool bad;
} proto_rd;

void proto_rd_init(proto_rd *r, const void *buf, size_t len);
bool proto_rd_array(proto_rd *r, uint32_t *n);	/* an array header */
bool proto_rd_u64(proto_rd *r, uint64_t *v);	/* a non-negative integer */
bool proto_rd_i64(proto_rd *r, int64_t *v);	/* an integer that fits int64 */
bool proto_rd_bool(proto_rd *r, bool *v);
bool proto_rd_str(proto_rd *r, proto_str *s);	/* a str (not checked for UTF-8) */
bool proto_rd_map(proto_rd *r, uint32_t *n);	/* a map header: n pairs follow */
bool proto_rd_skip(proto_rd *r);		/* any one object */

/* ---- schemas ---- */

enum proto_type {
	PT_STR,		/* str; min..max bytes; optional oneof list */
	PT_UINT,	/* non-negative integer; min..max value */
	PT_BOOL,
	PT_STRS,	/* array of str; min..max items, each 1..item_max bytes */
	PT_ID,		/* str, an id (proto_id_valid) */
	PT_IDS,		/* array of ids; min..max items, no repeats */
	PT_DATE,	/* str "YYYY-MM-DD"; u receives the day (days since 1970-01-01) */
	PT_LINE,	/* str as PT_STR, on one line: no control characters (names, titles) */
};

struct proto_field {
	const char *key;
	enum proto_type type;
	bool required;
	uint64_t min, max;
	uint32_t item_max;
	const char *const *oneof;	/* NULL-terminated; PT_STR only; NULL for any */
};

struct proto_arg {
	bool set;
	proto_str s;			/* PT_STR */
	uint64_t u;			/* PT_UINT */
	bool b;				/* PT_BOOL */
	const msgpack_object *o;	/* the raw value, any type */
};

/*
 * proto_fields - check the request map against spec[0..n) and fill out[0..n).
 * The envelope keys op, id and actor are skipped (proto_request() owns them); any other
 * key not in spec, a value of the wrong type or out of bounds, or a missing required key
 * gives NT_EBADREQ and a sentence naming the key.
 */
nt_err proto_fields(const msgpack_object *map, const struct proto_field *spec, size_t n,
		    struct proto_arg *out, char *why, size_t whylen);

/* The envelope of a request. */
struct proto_request {
	proto_str op;
	proto_str id;		/* len 0: absent */
	proto_str actor;	/* len 0: absent */
	const msgpack_object *body;	/* the whole request map */
};

/*
 * proto_request - parse buf as a request into doc and req. Checks op (required str),
 * id and actor (optional str, 1..64 bytes). Whether id and actor are required depends on
 * the op and is checked by the caller. If the map decoded but is invalid, req->id is still
 * filled when it was a decodable string, so the error reply can echo it.
 * Returns NT_OK, NT_EBADREQ, NT_ENOMEM; on any return the caller calls proto_doc_fini().
 */
nt_err proto_request(proto_doc *doc, const void *buf, size_t len, struct proto_request *req,
		     char *why, size_t whylen);

/* ---- encoding ---- */

typedef struct proto_out {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	bool oom;		/* sticky: some write failed for lack of memory */
} proto_out;

void proto_out_init(proto_out *out);
void proto_out_reset(proto_out *out);	/* empty it, keep the memory */
void proto_out_fini(proto_out *out);
/* Append raw bytes (an already-encoded object). */
void proto_out_raw(proto_out *out, const void *buf, size_t len);

void proto_pack_str(proto_out *out, proto_str s);
void proto_pack_cstr(proto_out *out, const char *s);
void proto_kv_str(proto_out *out, const char *key, proto_str v);
void proto_kv_cstr(proto_out *out, const char *key, const char *v);
void proto_kv_u64(proto_out *out, const char *key, uint64_t v);
void proto_kv_i64(proto_out *out, const char *key, int64_t v);
void proto_kv_bool(proto_out *out, const char *key, bool v);
void proto_kv_nil(proto_out *out, const char *key);
/* A map whose pairs are counted as they are packed: proto_map_begin() writes a map header
 * and returns where; proto_map_end() sets its count (at most 65,535). */
size_t proto_map_begin(proto_out *out);
void proto_map_end(proto_out *out, size_t at, uint32_t n);
/* Pack key then the object o as it is. */
void proto_kv_obj(proto_out *out, const char *key, const msgpack_object *o);

/* The error reply {"ok": false, "error": {...}, "id": id?} into out (reset first). */
void proto_reply_error(proto_out *out, proto_str id, nt_err e, const char *message);

/* ---- request ids ---- */

/* Write a fresh time-ordered request id ("<12 hex ms>-<16 hex random>", 29 bytes + NUL)
 * into buf, which holds at least PROTO_ID_BUF bytes. */
#define PROTO_ID_BUF 32
void proto_new_id(char buf[PROTO_ID_BUF]);

/* ---- hashing ---- */

/* A 64-bit hash of bytes, word at a time: stable across versions and machines (it is
 * stored on disk); not cryptographic. */
uint64_t proto_hash(const void *buf, size_t len, uint64_t seed);
#define PROTO_HASH_SEED 0xcbf29ce484222325ULL
/* A 64-bit hash of a decoded object by value: integers hash alike whatever their
 * encoded width. Stored on disk: stable across versions. */
uint64_t proto_hash_obj(const msgpack_object *o, uint64_t seed);

/* ---- ids and dates ---- */

/* Ids of units and people: 1 to 64 of [A-Za-z0-9._-], beginning with a letter or digit,
 * so that they are safe in CSV files, command lines and file names. */
#define PROTO_MAX_NAME_ID 64
bool proto_id_valid(proto_str s);

/* A CURVE public key as ZeroMQ writes it: Z85 (the 85 characters of ZeroMQ RFC 32) of
 * 32 bytes, 40 characters. Valid only in its one canonical spelling: each group of five
 * characters must stand for a number below 2^32, so that a key has exactly one text and
 * the daemon can index keys by it. */
#define PROTO_KEY_LEN 40
bool proto_key_valid(proto_str s);

/* Parse "YYYY-MM-DD" (a real calendar date, years 1970..9999) into days since
 * 1970-01-01. Returns false if s is not one. */
bool proto_date_parse(proto_str s, int64_t *days);
/* Format days as "YYYY-MM-DD" into buf (11 bytes with the NUL). */
void proto_date_format(int64_t days, char buf[11]);
/* The calendar day of Unix ms t at UTC offset off_min minutes. */
int64_t proto_day_of(int64_t t_ms, int off_min);

/* ---- JSON ---- */

#include <stdio.h>
/* Write o as one line of JSON (strings escaped; bin as base64-free hex string). */
void proto_json(FILE *f, const msgpack_object *o);
/*
 * proto_json_parse - the one JSON value in s[0..n) (whitespace around it allowed), packed
 * onto out as MessagePack the way the daemon packs: integers and strings in their smallest
 * form, objects as maps in the text's key order, numbers with a fraction or an exponent
 * as float64. Refuses invalid UTF-8, unpaired surrogates, raw control characters in
 * strings, integers outside -2^63..2^64-1, nesting deeper than PROTO_JSON_MAX_DEPTH and
 * text after the value. Returns NT_OK, NT_EBADREQ (why says what, and at which byte) or
 * NT_ENOMEM; on failure what it appended to out is garbage (reset out).
 */
#define PROTO_JSON_MAX_DEPTH 16
nt_err proto_json_parse(proto_out *out, const char *s, size_t n, char *why, size_t whylen);

#endif
