/*
 * core.h - what an event does to the ledger: the pure core of nanti.
 *
 * A write op is a function from (a read-only view of the ledger, a validated request) to
 * an effect: the records to store, the log entry's topic and topic-specific fields, and
 * the reply's op-specific fields. It performs no I/O: it reads the ledger only through
 * the view's callbacks and encodes what it decides into the effect's buffer. The daemon's
 * shell (daemon/batch.c) stores the effect, appends the log entry, records the request id,
 * commits and replies. Tests and the fuzzer drive the core with an in-memory view.
 *
 * Records are MessagePack maps, so that later versions can add keys; decoders ignore keys
 * they do not know.
 */
#ifndef CORE_H
#define CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "proto.h"

#define CASE_MAX_TAGS	16
#define CASE_MAX_TITLE	200
#define CASE_MAX_TEXT	4096	/* description, note text */
#define CASE_MAX_NAME	64	/* unit, lead */
#define CASE_MAX_TAG	32
#define CASE_GET_NOTES	100	/* notes returned by case.get */

/* A case as stored. Strings point into the buffer it was decoded from or built from. */
struct case_rec {
	uint64_t id;
	proto_str kind, title, description, unit, lead, status, opened_by;
	proto_str tags[CASE_MAX_TAGS];
	uint32_t ntags;
	int64_t opened_at, updated_at;
	uint64_t opened_seq, updated_seq;
	uint32_t note_count;
};

/* Encode c as a record (a map) at the end of out. */
void case_encode(proto_out *out, const struct case_rec *c);
/*
 * Decode a stored record. doc receives the decoded objects; c's strings point into buf.
 * The caller calls proto_doc_fini(doc) when done with c. Returns NT_OK or NT_ECORRUPT.
 */
nt_err case_decode(const void *buf, size_t len, proto_doc *doc, struct case_rec *c);
/* Pack c for a reply: the summary (case.list) or the full record without notes
 * (case.get adds "notes"); full adds 1 to the map size for the caller's "notes" key. */
void case_pack(proto_out *out, const struct case_rec *c, bool full);

/* Key of a note: case id, note number. */
#define NOTE_KEY_LEN 12
void note_key(uint8_t key[NOTE_KEY_LEN], uint64_t case_id, uint32_t n);

/* ---- ops ---- */

/* The ledger as the core sees it, at the point in the batch where this event applies. */
struct core_view {
	void *ctx;
	/* The case id, or NT_ENOTFOUND. *doc and rec's strings stay valid until the effect
	 * is stored; the core calls proto_doc_fini(doc). */
	nt_err (*case_get)(void *ctx, uint64_t id, proto_doc *doc, struct case_rec *rec);
	uint64_t next_case;	/* the id a new case gets */
	uint64_t seq;		/* the seq this event's log entry gets */
	int64_t now;		/* Unix ms */
};

/* A validated request. args follow the op's schema order. */
struct core_req {
	proto_str id, actor;
	const struct proto_arg *args;
};

#define CORE_MAX_PUTS 8

struct core_put {
	enum ledger_db db;
	uint8_t key[LEDGER_MAX_KEY];
	uint32_t klen;
	size_t voff, vlen;	/* the value: a slice of the effect's buf */
	bool append;		/* the key sorts after all keys of db */
};

/* A slice of buf holding n key/value pairs, to be spliced into a map. */
struct core_kvs {
	size_t off, len;
	uint32_t n;
};

struct core_effect {
	proto_out buf;		/* owned; core_effect_init/fini */
	struct core_put puts[CORE_MAX_PUTS];
	unsigned nputs;
	const char *topic;	/* the log entry's topic */
	uint64_t case_id;	/* the case it concerns; 0: none */
	bool new_case;		/* the event used view->next_case */
	struct core_kvs entry;	/* topic-specific fields of the log entry */
	struct core_kvs reply;	/* op-specific fields of the reply */
};

void core_effect_init(struct core_effect *e);
void core_effect_reset(struct core_effect *e);
void core_effect_fini(struct core_effect *e);

typedef nt_err (*core_apply_fn)(const struct core_view *v, const struct core_req *r,
				struct core_effect *e, char *why, size_t whylen);

/* case.open: args per core_case_open_fields. */
extern const struct proto_field core_case_open_fields[];
extern const size_t core_case_open_nfields;
nt_err core_case_open(const struct core_view *v, const struct core_req *r,
		      struct core_effect *e, char *why, size_t whylen);

/* case.note: args per core_case_note_fields. */
extern const struct proto_field core_case_note_fields[];
extern const size_t core_case_note_nfields;
nt_err core_case_note(const struct core_view *v, const struct core_req *r,
		      struct core_effect *e, char *why, size_t whylen);

/*
 * A hash of a request that does not depend on key order or integer widths, nor on its
 * "id": two requests with the same id are the same request iff their hashes agree.
 */
uint64_t core_request_hash(const msgpack_object *body);

#endif
