/*
 * rec.h - stored records described by tables: one description serves the record on disk,
 * its decoding, and its form on the wire.
 *
 * A record type (units, people, cases) is a C struct plus a table of its fields. On disk
 * a record is a MessagePack array holding the fields in table order: no key names, so
 * records are small (fewer pages per commit) and decode in one pass without lookups.
 * Later versions only ever append fields: a decoder ignores elements past its table and
 * gives absent trailing fields their zero value, so old records stay readable and old
 * daemons can read new records.
 *
 * On the wire (replies, log entries) the same fields go out as a map with the table's key
 * names; enums become their names and dates "YYYY-MM-DD" strings, so clients never see
 * the positional form.
 */
#ifndef REC_H
#define REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

enum rec_type {
	RT_U64,		/* uint64_t */
	RT_I64,		/* int64_t (times: Unix ms) */
	RT_U32,		/* uint32_t */
	RT_BOOL,	/* bool */
	RT_STR,		/* proto_str */
	RT_STRS,	/* proto_str[max] with a uint32_t count at noff */
	RT_ENUM,	/* uint32_t, an index into names */
	RT_DATE,	/* int64_t, days since 1970-01-01; 0: none */
	RT_FLAGS,	/* uint32_t, bit i named names[i]; a list of names on the wire */
};

/* flags */
#define REC_SUMMARY	0x1	/* part of the short form (lists) */
#define REC_OMIT0	0x2	/* left out of the wire form when zero or empty */
#define REC_KEY		0x4	/* the record's key (log entries carry it apart) */
#define REC_SENSITIVE	0x8	/* identifying a person: never in the log, shown only to those
				 * allowed (docs/security.md, "Sensitive fields") */

struct rec_field {
	const char *key;
	enum rec_type type;
	size_t off;			/* offsetof the value in the struct */
	size_t noff;			/* RT_STRS: offsetof the uint32_t count */
	uint32_t max;			/* RT_STRS: capacity of the array */
	const char *const *names;	/* RT_ENUM, RT_FLAGS: NULL-terminated names */
	unsigned flags;
};

struct rec_desc {
	const struct rec_field *fields;
	size_t n;
	size_t size;		/* sizeof the struct */
};

/* Append s encoded as a record (an array) to out. */
void rec_encode(proto_out *out, const struct rec_desc *d, const void *s);

/*
 * Decode the record in buf[0..len) into s (zeroed first). Strings point into buf, which
 * must outlive s. Returns NT_OK, or NT_ECORRUPT if buf is not such a record (a wrong type,
 * truncation, an enum out of range, more strings than the array holds).
 */
nt_err rec_decode(const void *buf, size_t len, const struct rec_desc *d, void *s);

/*
 * The wire form: the fields whose flags include all of `need` (0: every field) and none
 * of `without`, leaving out REC_OMIT0 fields that are zero or empty. rec_pack() packs them as one map;
 * rec_pack_pairs() packs only the key/value pairs, for splicing into a map the caller
 * builds, and returns how many it packed.
 */
void rec_pack(proto_out *out, const struct rec_desc *d, const void *s, unsigned need,
	      unsigned without);
uint32_t rec_pack_pairs(proto_out *out, const struct rec_desc *d, const void *s, unsigned need,
			unsigned without);
/* How many pairs rec_pack_pairs() would pack. */
uint32_t rec_count_pairs(const struct rec_desc *d, const void *s, unsigned need,
			 unsigned without);

/*
 * The export's form (`nanti admin export`, daemon/dump.c): a record as a map from the
 * table's keys to the values exactly as stored (enums as indexes, dates as day numbers,
 * times as Unix ms), for the elements the stored array has. rec_to_map() packs it from
 * the stored array arr; NT_ECORRUPT if arr is not an array or is longer than the table.
 * rec_from_map() packs the stored array back from such a map, whose keys must be the
 * table's first keys in order, and checks it with rec_canonical(): NT_OK, NT_EBADREQ (why
 * says what) or NT_ENOMEM.
 */
nt_err rec_to_map(proto_out *out, const struct rec_desc *d, const msgpack_object *arr);
nt_err rec_from_map(proto_out *out, const struct rec_desc *d, const msgpack_object *map,
		    char *why, size_t whylen);
/* Is buf[0..len) a record of d exactly as this version stores it (decodable, and equal
 * to its own re-encoding when it has every field of the table)? NT_OK or NT_EBADREQ. */
#define REC_MAX_STRUCT 2048	/* bytes of the largest record struct */
nt_err rec_canonical(const struct rec_desc *d, const void *buf, size_t len, char *why,
		     size_t whylen);

/* Does field f hold the same value in records a and b (strings by their bytes)? */
bool rec_field_same(const struct rec_field *f, const void *a, const void *b);

/* The index of s in the NULL-terminated names, or -1. */
int rec_enum_find(const char *const *names, proto_str s);

#endif
