/*
 * dump.c - the ledger as JSON lines, and back (dump.h; `nanti admin export` and `import`).
 *
 * What an export is for: moving a ledger to another machine or another version of nanti,
 * keeping it in an archive that any tool can read, and checking it with tools as simple
 * as grep and jq. A backup (LMDB's compacting copy) is faster, but only nanti of the same
 * ledger format on the same kind of machine can read it.
 *
 * Why the log and the state, not the log alone. The log says what happened, and a case's
 * story is only there (docs/design.md), but the ledger is not a pure function of the log:
 * what an event did also depended on the configuration and the calendar in force when it
 * was applied (a deadline counted in working days, the times of reminders, step limits),
 * and a recomputation after a new calendar moves timers without a log entry. Replaying
 * the requests under today's configuration would quietly give another ledger. So an
 * export carries the log and, after it, the records the log led to; the import writes
 * both and checks one against the other. It derives only what is a function of the
 * rest: the history of each case and of each household (the entries that name it), the
 * timers index (the first armed timer of each case record, each armed milestone), the
 * keys index (each person record's CURVE key) and the household indexes (by village and
 * cadre from the household records, the cases of a household from the case records).
 *
 * The lines, in this order (docs/operations.md has the reference):
 *
 *	{"nanti_export":1, "ledger_format":5, "version":..., "last_seq":N, "exported_at":MS}
 *	{"entry":{...}}			every log entry, by seq, exactly as log.read returns it
 *	{"unit":{...}}			records by key: the stored values under the table's
 *	{"person":{...}}		  keys (rec_to_map()): enums as indexes, dates as day
 *	{"case":{...}}			  numbers, times as Unix ms
 *	{"household":{...}}
 *	{"meta":{"key":K,"value":V}}	the singletons: county, campaign, milestones, ...
 *	{"request":{"id":...,"seq":N,"hash":N,"reply":{...}}}	the idempotency index
 *	{"end":{"lines":L}}		L lines came before it: a cut file is refused
 *
 * The import checks each line as it reads it, and refuses the file at its first mistake,
 * saying which line: the header's formats; the order of the sections and of the keys in
 * each (each key once); seqs from 1 without a gap, times that never go back and the
 * log's hash chain (chain.h: an entry changed in the file is refused); each
 * record exactly in the form this version stores (rec_canonical()); each entry naming a
 * case that has a record, and each case's count of events equal to the entries that name
 * it; the count of admins; each request's seq within the log; and the end line. All of
 * it goes into one write transaction: a refused or interrupted import leaves the ledger
 * as empty as it found it. Keys that arrive in order are stored with MDB_APPEND.
 *
 * Memory: a line is read into a buffer of at most DUMP_MAX_LINE bytes; besides it, the
 * import keeps one counter per case (4 bytes; a case's id is never larger than the seq
 * of the entry that names it, so this is bounded by the file, not by a claim in it).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "dump.h"
#include "model.h"
#include "proto.h"
#include "rec.h"

#define REQ_HDR 17	/* the reqs value: seq u64 BE, hash u64 BE, n u8, then n reply pairs */
#define REQ_MAX 256	/* BATCH_REQVAL_MAX */

/* The sections of an export, in file order. */
enum section { S_HEADER, S_ENTRY, S_UNIT, S_PERSON, S_CASE, S_HOUSEHOLD, S_META, S_REQUEST,
	       S_END };
static const char *const section_names[] = {
	"header", "entry", "unit", "person", "case", "household", "meta", "request", "end", NULL
};

/* The singletons in the meta database and how each is written. `format` is the
 * header's; a key not here makes the export refuse (a newer ledger than this version). */
enum meta_form { MF_U64, MF_STR, MF_REC };
static const struct meta_codec {
	const char *key;
	bool prefix;		/* key is a prefix: "milestone." + a milestone's name */
	enum meta_form form;
	const struct rec_desc *desc;
} meta_codecs[] = {
	{ META_ADMINS, false, MF_U64, NULL },
	{ META_CALENDAR, false, MF_U64, NULL },
	{ META_CAMPAIGN, false, MF_REC, &campaign_desc },
	{ "county", false, MF_STR, NULL },
	{ "milestone.", true, MF_REC, &milestone_desc },
};

static const struct meta_codec *meta_codec_of(proto_str key)
{
	for (size_t i = 0; i < sizeof meta_codecs / sizeof meta_codecs[0]; i++) {
		const struct meta_codec *c = &meta_codecs[i];
		size_t n = strlen(c->key);

		if (c->prefix ? key.len > n && memcmp(key.ptr, c->key, n) == 0
			      : proto_str_eq(key, c->key))
			return c;
	}
	return NULL;
}

/* The milestone a meta key "milestone.NAME" is for, or -1. */
static int milestone_of(proto_str key)
{
	char k[META_MILESTONE_MAX];

	for (unsigned m = 0; m < MS__N; m++) {
		size_t n = milestone_key(k, m);

		if (key.len == n && memcmp(key.ptr, k, n) == 0)
			return (int)m;
	}
	return -1;
}

/* Decode MessagePack that nanti wrote (checked first, so a damaged value cannot make
 * msgpack-c allocate what it claims). */
static nt_err decode(msgpack_zone *z, const void *buf, size_t len, msgpack_object *o,
		     char *why, size_t whylen)
{
	size_t off = 0;

	if (proto_check(buf, len, why, whylen) != NT_OK)
		return NT_ECORRUPT;
	if (msgpack_unpack(buf, len, &off, z, o) != MSGPACK_UNPACK_SUCCESS) {
		snprintf(why, whylen, "it does not decode");
		return NT_ECORRUPT;
	}
	return NT_OK;
}

/* ---- export ---- */

struct exporter {
	FILE *f;
	struct ledger_txn t;
	proto_out line;		/* the line being built, as MessagePack */
	msgpack_zone zone;
	struct dump_counts *n;
	char *why;
	size_t whylen;
};

static nt_err corrupt(struct exporter *x, const char *what, const char *why)
{
	char msg[PROTO_WHY];

	snprintf(msg, sizeof msg, "%s", why);
	snprintf(x->why, x->whylen, "%s is damaged: %s", what, msg);
	return NT_ECORRUPT;
}

/* Write x->line, a map, as one line of JSON. */
static nt_err emit(struct exporter *x)
{
	msgpack_object o;
	char why[PROTO_WHY];

	if (x->line.oom)
		return NT_ENOMEM;
	msgpack_zone_clear(&x->zone);
	if (decode(&x->zone, x->line.sb.data, x->line.sb.size, &o, why, sizeof why) != NT_OK)
		return corrupt(x, "a line of the export", why);
	proto_json(x->f, &o);
	fputc('\n', x->f);
	x->n->lines++;
	if (ferror(x->f)) {
		snprintf(x->why, x->whylen, "writing the export failed");
		return NT_EIO;
	}
	return NT_OK;
}

/* Begin a line {"kind": ...}: the caller packs the value. */
static void line_begin(struct exporter *x, const char *kind)
{
	proto_out_reset(&x->line);
	msgpack_pack_map(&x->line.pk, 1);
	proto_pack_cstr(&x->line, kind);
}

/* Pack the stored record val as a map of d's keys onto x->line. */
static nt_err pack_record(struct exporter *x, const struct rec_desc *d, const MDB_val *val,
			  const char *what)
{
	msgpack_zone z;
	msgpack_object o;
	char why[PROTO_WHY];
	nt_err rc;

	msgpack_zone_init(&z, 2048);
	rc = decode(&z, val->mv_data, val->mv_size, &o, why, sizeof why);
	if (rc == NT_OK && (rc = rec_to_map(&x->line, d, &o)) == NT_ECORRUPT)
		snprintf(why, sizeof why, "not a record of this version");
	msgpack_zone_destroy(&z);
	return rc == NT_ECORRUPT ? corrupt(x, what, why) : rc;
}

static nt_err export_log(struct exporter *x)
{
	struct ledger_iter it;
	MDB_val k, v;
	nt_err rc = NT_OK;

	ledger_iter_init(&it, &x->t, DB_LOG, NULL, 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &v)) {
		line_begin(x, "entry");
		proto_out_raw(&x->line, v.mv_data, v.mv_size);
		rc = emit(x);
		x->n->entries++;
	}
	ledger_iter_close(&it);
	return rc != NT_OK ? rc : x->t.err;
}

static nt_err export_records(struct exporter *x, enum ledger_db db, const char *kind,
			     const struct rec_desc *d, uint64_t *count)
{
	struct ledger_iter it;
	MDB_val k, v;
	nt_err rc = NT_OK;
	char what[64];

	ledger_iter_init(&it, &x->t, db, NULL, 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &v)) {
		snprintf(what, sizeof what, "the %s record #%" PRIu64, kind, *count + 1);
		line_begin(x, kind);
		if ((rc = pack_record(x, d, &v, what)) == NT_OK)
			rc = emit(x);
		(*count)++;
	}
	ledger_iter_close(&it);
	return rc != NT_OK ? rc : x->t.err;
}

static nt_err export_meta(struct exporter *x)
{
	struct ledger_iter it;
	MDB_val k, v;
	nt_err rc = NT_OK;

	ledger_iter_init(&it, &x->t, DB_META, NULL, 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &v)) {
		proto_str key = { k.mv_data, (uint32_t)k.mv_size };
		const struct meta_codec *c = meta_codec_of(key);
		char what[96];

		if (proto_str_eq(key, "format"))
			continue;
		snprintf(what, sizeof what, "meta '%.*s'", (int)key.len, key.ptr);
		if (c == NULL) {
			rc = corrupt(x, what, "a key this version does not know (a newer nanti "
				     "wrote it)");
			break;
		}
		line_begin(x, "meta");
		msgpack_pack_map(&x->line.pk, 2);
		proto_kv_str(&x->line, "key", key);
		proto_pack_cstr(&x->line, "value");
		switch (c->form) {
		case MF_U64:
			if (v.mv_size != 8) {
				rc = corrupt(x, what, "not 8 bytes");
				break;
			}
			msgpack_pack_uint64(&x->line.pk, ledger_u64(v.mv_data));
			break;
		case MF_STR:
			if (!proto_utf8_valid(v.mv_data, v.mv_size)) {
				rc = corrupt(x, what, "not UTF-8");
				break;
			}
			proto_pack_str(&x->line, (proto_str){ v.mv_data, (uint32_t)v.mv_size });
			break;
		case MF_REC:
			rc = pack_record(x, c->desc, &v, what);
			break;
		}
		if (rc == NT_OK)
			rc = emit(x);
		x->n->meta++;
	}
	ledger_iter_close(&it);
	return rc != NT_OK ? rc : x->t.err;
}

static nt_err export_requests(struct exporter *x)
{
	struct ledger_iter it;
	MDB_val k, v;
	nt_err rc = NT_OK;

	ledger_iter_init(&it, &x->t, DB_REQS, NULL, 0);
	while (rc == NT_OK && ledger_iter_next(&it, &k, &v)) {
		const uint8_t *b = v.mv_data;

		if (v.mv_size < REQ_HDR || !proto_utf8_valid(k.mv_data, k.mv_size)) {
			rc = corrupt(x, "a request id's record", "too short, or its id not UTF-8");
			break;
		}
		line_begin(x, "request");
		msgpack_pack_map(&x->line.pk, 4);
		proto_kv_str(&x->line, "id", (proto_str){ k.mv_data, (uint32_t)k.mv_size });
		proto_kv_u64(&x->line, "seq", ledger_u64(b));
		proto_kv_u64(&x->line, "hash", ledger_u64(b + 8));
		proto_pack_cstr(&x->line, "reply");
		msgpack_pack_map(&x->line.pk, b[16]);
		proto_out_raw(&x->line, b + REQ_HDR, v.mv_size - REQ_HDR);
		rc = emit(x);	/* decoding the line checks that the pairs are b[16] */
		x->n->requests++;
	}
	ledger_iter_close(&it);
	return rc != NT_OK ? rc : x->t.err;
}

nt_err dump_export(struct ledger *lg, FILE *f, int64_t now, struct dump_counts *n, char *why,
		   size_t whylen)
{
	struct exporter x = { .f = f, .n = n, .why = why, .whylen = whylen };
	nt_err rc;

	memset(n, 0, sizeof *n);
	if (ledger_format(lg) != LEDGER_FORMAT) {
		snprintf(why, whylen, "the ledger is in format %u; start nantid on it once to "
			 "bring it to format %d, then export", ledger_format(lg), LEDGER_FORMAT);
		return NT_EFORMAT;
	}
	if ((rc = ledger_begin(lg, &x.t, false)) != NT_OK) {
		snprintf(why, whylen, "%s", ledger_txn_strerror(&x.t));
		return rc;
	}
	proto_out_init(&x.line);
	msgpack_zone_init(&x.zone, 8192);
	n->last_seq = ledger_last_u64(&x.t, DB_LOG, NULL);

	proto_out_reset(&x.line);
	msgpack_pack_map(&x.line.pk, 5);
	proto_kv_u64(&x.line, "nanti_export", DUMP_FORMAT);
	proto_kv_u64(&x.line, "ledger_format", LEDGER_FORMAT);
	proto_kv_cstr(&x.line, "version", PROTO_VERSION);
	proto_kv_u64(&x.line, "last_seq", n->last_seq);
	proto_kv_i64(&x.line, "exported_at", now);
	if ((rc = emit(&x)) == NT_OK && (rc = export_log(&x)) == NT_OK &&
	    (rc = export_records(&x, DB_UNITS, "unit", &unit_desc, &n->units)) == NT_OK &&
	    (rc = export_records(&x, DB_PEOPLE, "person", &person_desc, &n->people)) == NT_OK &&
	    (rc = export_records(&x, DB_CASES, "case", &case_desc, &n->cases)) == NT_OK &&
	    (rc = export_records(&x, DB_HOUSEHOLDS, "household", &household_desc,
				 &n->households)) == NT_OK &&
	    (rc = export_meta(&x)) == NT_OK && (rc = export_requests(&x)) == NT_OK) {
		line_begin(&x, "end");
		msgpack_pack_map(&x.line.pk, 1);
		proto_kv_u64(&x.line, "lines", n->lines);
		rc = emit(&x);
	}
	if (rc == NT_OK && fflush(f) != 0) {
		snprintf(why, whylen, "writing the export failed");
		rc = NT_EIO;
	}
	if (rc != NT_OK && x.t.err != NT_OK && why[0] == '\0')
		snprintf(why, whylen, "%s", ledger_txn_strerror(&x.t));
	ledger_abort(&x.t);
	msgpack_zone_destroy(&x.zone);
	proto_out_fini(&x.line);
	return rc;
}

/* ---- import ---- */

struct importer {
	struct ledger_txn t;
	FILE *f;
	char chunk[1 << 16];	/* read from f, not yet consumed */
	size_t cpos, clen;
	char *buf;		/* the current line */
	size_t cap, len;
	proto_out line;		/* the line as MessagePack */
	proto_out val;		/* a value to store */
	msgpack_zone zone;
	msgpack_object root;	/* the line, decoded */
	enum section section;
	uint8_t prev[LEDGER_MAX_KEY];	/* the section's last key, for the order */
	size_t prevlen;
	bool have_prev;
	uint64_t header_last_seq;
	int64_t last_at;
	uint8_t head[CHAIN_LEN];	/* the hash of the last entry read (chain.h) */
	uint32_t *per_case;	/* entries naming each case; UINT32_MAX once its record came */
	size_t ncases;		/* per_case has ids 0..ncases-1 */
	uint64_t admins;	/* people with the admin role */
	bool admins_seen;	/* the meta line `admins` came */
	struct dump_counts *n;
	char *why;
	size_t whylen;
};

static nt_err bad(struct importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static nt_err bad(struct importer *im, const char *fmt, ...)
{
	char msg[PROTO_WHY];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(im->why, im->whylen, "line %" PRIu64 ": %s", im->n->lines, msg);
	return NT_EBADREQ;
}

/* The next line into im->buf (without its newline): NT_OK, NT_ENOTFOUND at the end of
 * the file, NT_EBADREQ for a line longer than DUMP_MAX_LINE, NT_EIO, NT_ENOMEM. Reads
 * through a chunk of its own and finds newlines with memchr(): a line is copied once. */
static nt_err read_line(struct importer *im)
{
	im->len = 0;
	for (;;) {
		const char *p = im->chunk + im->cpos, *nl;
		size_t n;

		if (im->cpos == im->clen) {
			im->cpos = 0;
			im->clen = fread(im->chunk, 1, sizeof im->chunk, im->f);
			if (im->clen == 0)
				break;
			continue;
		}
		nl = memchr(p, '\n', im->clen - im->cpos);
		n = nl != NULL ? (size_t)(nl - p) : im->clen - im->cpos;
		if (im->len + n > im->cap) {
			size_t cap = im->cap ? im->cap : 4096;
			char *b;

			while (cap < im->len + n && cap < DUMP_MAX_LINE)
				cap *= 2;
			if (im->len + n > DUMP_MAX_LINE) {
				im->n->lines++;
				return bad(im, "longer than %u bytes", DUMP_MAX_LINE);
			}
			if ((b = realloc(im->buf, cap)) == NULL)
				return NT_ENOMEM;
			im->buf = b;
			im->cap = cap;
		}
		memcpy(im->buf + im->len, p, n);
		im->len += n;
		im->cpos += n + (nl != NULL);
		if (nl != NULL) {
			im->n->lines++;
			return NT_OK;
		}
	}
	if (ferror(im->f)) {
		snprintf(im->why, im->whylen, "reading the export failed");
		return NT_EIO;
	}
	if (im->len == 0)
		return NT_ENOTFOUND;
	im->n->lines++;		/* a last line without its newline */
	return NT_OK;
}

/* Parse the line into im->root, a map. */
static nt_err parse_line(struct importer *im)
{
	char why[PROTO_WHY];
	size_t off = 0;
	nt_err rc;

	proto_out_reset(&im->line);
	if ((rc = proto_json_parse(&im->line, im->buf, im->len, why, sizeof why)) != NT_OK)
		return rc == NT_EBADREQ ? bad(im, "not JSON: %s", why) : rc;
	if (proto_check(im->line.sb.data, im->line.sb.size, why, sizeof why) != NT_OK)
		return bad(im, "%s", why);
	msgpack_zone_clear(&im->zone);
	if (msgpack_unpack(im->line.sb.data, im->line.sb.size, &off, &im->zone, &im->root) !=
	    MSGPACK_UNPACK_SUCCESS)
		return NT_ENOMEM;
	if (im->root.type != MSGPACK_OBJECT_MAP || im->root.via.map.size == 0)
		return bad(im, "a line of an export is a JSON object");
	return NT_OK;
}

/* key must come after the section's last key (LMDB's order: bytewise, a prefix first). */
static nt_err next_key(struct importer *im, const void *key, size_t klen, const char *what)
{
	proto_str a = { (const char *)im->prev, (uint32_t)im->prevlen };
	proto_str b = { key, (uint32_t)klen };

	if (klen > sizeof im->prev)
		return bad(im, "%s: the key is too long", what);
	if (im->have_prev && proto_str_cmp(a, b) >= 0)
		return bad(im, "%s: out of order or repeated (each key once, in order)", what);
	memcpy(im->prev, key, klen);
	im->prevlen = klen;
	im->have_prev = true;
	return NT_OK;
}

static nt_err import_header(struct importer *im)
{
	const msgpack_object *o = &im->root;
	uint64_t fmt, lfmt;

	if (!proto_obj_u64(proto_map_get(o, "nanti_export"), &fmt))
		return bad(im, "not a nanti export (the first line has no nanti_export)");
	if (fmt != DUMP_FORMAT) {
		snprintf(im->why, im->whylen, "the export is in format %" PRIu64 "; this version "
			 "of nanti reads format %d", fmt, DUMP_FORMAT);
		return NT_EFORMAT;
	}
	if (!proto_obj_u64(proto_map_get(o, "ledger_format"), &lfmt) ||
	    !proto_obj_u64(proto_map_get(o, "last_seq"), &im->header_last_seq))
		return bad(im, "the header needs ledger_format and last_seq");
	if (lfmt < 4 || lfmt > LEDGER_FORMAT) {
		/* format 4 is format 5 without households: its records are read as older ones */
		snprintf(im->why, im->whylen, "the export holds a ledger of format %" PRIu64
			 "; this version of nanti imports formats 4 to %d", lfmt, LEDGER_FORMAT);
		return NT_EFORMAT;
	}
	return NT_OK;
}

/* Link entry seq into the history of each household it names: `household`, or the
 * `households` of a consultation (marked "c", as core_household.c links it) or of a case
 * opened about them. */
static nt_err link_households(struct importer *im, const msgpack_object *e, uint64_t seq,
			      proto_str topic)
{
	const msgpack_object *one = proto_map_get(e, "household");
	bool consulted = proto_str_eq(topic, "household.consulted");
	/* a list of households in these two; elsewhere (campaign.missing) a count */
	const msgpack_object *many = consulted || proto_str_eq(topic, "case.opened")
				     ? proto_map_get(e, "households") : NULL;
	uint8_t key[HIX_KEY_MAX], be[8];
	proto_str id;

	ledger_key_u64(be, seq);
	if (one != NULL) {
		if (!proto_obj_str(one, &id) || !proto_id_valid(id))
			return bad(im, "entry %" PRIu64 " names no possible household", seq);
		ledger_put(&im->t, DB_HINDEX, key, hix_key(key, HIX_HIST, id, be, 8), "", 0, false);
	}
	if (many == NULL)
		return NT_OK;
	if (many->type != MSGPACK_OBJECT_ARRAY)
		return bad(im, "entry %" PRIu64 " has households that are not a list", seq);
	for (uint32_t i = 0; i < many->via.array.size; i++) {
		if (!proto_obj_str(&many->via.array.ptr[i], &id) || !proto_id_valid(id))
			return bad(im, "entry %" PRIu64 " names no possible household", seq);
		ledger_put(&im->t, DB_HINDEX, key, hix_key(key, HIX_HIST, id, be, 8),
			   consulted ? "c" : "", consulted, false);
	}
	if (consulted) {
		const msgpack_object *village = proto_map_get(e, "village");

		if (!proto_obj_str(village, &id) || !proto_id_valid(id))
			return bad(im, "consultation %" PRIu64 " names no possible village", seq);
		ledger_put(&im->t, DB_HINDEX, key, hix_key(key, HIX_CONSULT, PROTO_STR_NULL, be, 8),
			   id.ptr, id.len, false);
	}
	return NT_OK;
}

static nt_err import_entry(struct importer *im, const msgpack_object *e)
{
	uint64_t seq, case_id = 0;
	int64_t at;
	proto_str topic;
	const msgpack_object *c;
	uint8_t key[HIST_KEY_LEN];

	if (e->type != MSGPACK_OBJECT_MAP)
		return bad(im, "an entry is an object");
	if (!proto_obj_u64(proto_map_get(e, "seq"), &seq) || seq != im->n->entries + 1)
		return bad(im, "the entry's seq must be %" PRIu64 " (seqs go from 1 without a gap)",
			   im->n->entries + 1);
	if (!proto_obj_str(proto_map_get(e, "topic"), &topic) || topic.len == 0)
		return bad(im, "entry %" PRIu64 " has no topic", seq);
	if (!proto_obj_i64(proto_map_get(e, "at"), &at) || at < im->last_at)
		return bad(im, "entry %" PRIu64 " has no time, or one before the entry before it",
			   seq);
	if ((c = proto_map_get(e, "case")) != NULL &&
	    (!proto_obj_u64(c, &case_id) || case_id == 0 || case_id > seq))
		return bad(im, "entry %" PRIu64 " names no possible case (a case's id is at most "
			   "the seq of any entry about it)", seq);
	im->last_at = at;
	im->n->entries = seq;

	proto_out_reset(&im->val);
	msgpack_pack_object(&im->val.pk, *e);
	if (im->val.oom)
		return NT_ENOMEM;
	switch (chain_check(im->val.sb.data, im->val.sb.size, im->head, im->head)) {
	case NT_OK: break;
	case NT_ECONFLICT:
		return bad(im, "entry %" PRIu64 " does not match its hash: it, or an entry before "
			   "it, was changed", seq);
	default:
		return bad(im, "entry %" PRIu64 " has no hash, or a damaged one, as its last "
			   "pair", seq);
	}
	ledger_key_u64(key, seq);
	ledger_put(&im->t, DB_LOG, key, 8, im->val.sb.data, im->val.sb.size, true);
	if (case_id > 0) {
		if (case_id >= im->ncases) {
			size_t n = im->ncases ? im->ncases : 1024;
			uint32_t *p;

			while (n <= case_id)
				n *= 2;
			if ((p = realloc(im->per_case, n * sizeof *p)) == NULL)
				return NT_ENOMEM;
			memset(p + im->ncases, 0, (n - im->ncases) * sizeof *p);
			im->per_case = p;
			im->ncases = n;
		}
		im->per_case[case_id]++;
		hist_key(key, case_id, seq);
		ledger_put(&im->t, DB_HIST, key, HIST_KEY_LEN, "", 0, false);
	}
	return link_households(im, e, seq, topic);
}

/* A record line: packed into im->val in the stored form, and checked. */
static nt_err record_of(struct importer *im, const struct rec_desc *d, const msgpack_object *o,
			void *s, const char *what)
{
	char why[PROTO_WHY];
	nt_err rc;

	proto_out_reset(&im->val);
	if ((rc = rec_from_map(&im->val, d, o, why, sizeof why)) != NT_OK)
		return rc == NT_EBADREQ ? bad(im, "%s: %s", what, why) : rc;
	if (rec_decode(im->val.sb.data, im->val.sb.size, d, s) != NT_OK)
		return bad(im, "%s: it does not decode", what);
	return NT_OK;
}

/* A unit's or a person's key: a valid id, after the section's last. */
static nt_err keyed_by_id(struct importer *im, proto_str id, const char *what)
{
	nt_err rc = next_key(im, id.ptr, id.len, what);

	if (rc == NT_OK && !proto_id_valid(id))
		rc = bad(im, "%s needs a valid id", what);
	return rc;
}

static nt_err import_unit(struct importer *im, const msgpack_object *o)
{
	struct unit_rec u;
	nt_err rc;

	if ((rc = record_of(im, &unit_desc, o, &u, "a unit")) != NT_OK ||
	    (rc = keyed_by_id(im, u.id, "a unit")) != NT_OK)
		return rc;
	ledger_put(&im->t, DB_UNITS, u.id.ptr, u.id.len, im->val.sb.data, im->val.sb.size, true);
	im->n->units++;
	return NT_OK;
}

static nt_err import_person(struct importer *im, const msgpack_object *o)
{
	struct person_rec p;
	nt_err rc;

	if ((rc = record_of(im, &person_desc, o, &p, "a person")) != NT_OK ||
	    (rc = keyed_by_id(im, p.id, "a person")) != NT_OK)
		return rc;
	if (p.key.len > 0) {
		MDB_val other;

		if (!proto_key_valid(p.key))
			return bad(im, "person '%.*s' has a key that is not a CURVE public key",
				   (int)p.id.len, p.id.ptr);
		if (ledger_get(&im->t, DB_KEYS, p.key.ptr, p.key.len, &other) == NT_OK)
			return bad(im, "person '%.*s' has the key of '%.*s'", (int)p.id.len,
				   p.id.ptr, (int)other.mv_size, (const char *)other.mv_data);
		ledger_put(&im->t, DB_KEYS, p.key.ptr, p.key.len, p.id.ptr, p.id.len, false);
	}
	ledger_put(&im->t, DB_PEOPLE, p.id.ptr, p.id.len, im->val.sb.data, im->val.sb.size,
		   true);
	if (p.roles & ROLE_ADMIN)
		im->admins++;
	im->n->people++;
	return NT_OK;
}

static nt_err import_case(struct importer *im, const msgpack_object *o)
{
	struct case_rec c;
	uint8_t key[TIMER_KEY_LEN];
	uint32_t named;
	nt_err rc;

	if ((rc = record_of(im, &case_desc, o, &c, "a case")) != NT_OK)
		return rc;
	ledger_key_u64(key, c.id);
	if ((rc = next_key(im, key, 8, "a case")) != NT_OK)
		return rc;
	named = c.id < im->ncases ? im->per_case[c.id] : 0;
	if (c.id == 0 || c.id > im->n->entries || named != c.events)
		return bad(im, "case %" PRIu64 " counts %" PRIu32 " events; the log has %" PRIu32
			   " entries about it", c.id, c.events, named);
	im->per_case[c.id] = UINT32_MAX;	/* its record came */
	ledger_put(&im->t, DB_CASES, key, 8, im->val.sb.data, im->val.sb.size, true);
	if (case_timer_key(key, c.id, c.timer_at))
		ledger_put(&im->t, DB_TIMERS, key, TIMER_KEY_LEN, "", 0, false);
	for (uint32_t i = 0; i < c.nhouseholds; i++) {
		uint8_t hk[HIX_KEY_MAX];

		if (!proto_id_valid(c.households[i]))
			return bad(im, "case %" PRIu64 " names no possible household", c.id);
		ledger_key_u64(key, c.id);
		ledger_put(&im->t, DB_HINDEX, hk, hix_key(hk, HIX_CASE, c.households[i], key, 8),
			   "", 0, false);
	}
	im->n->cases++;
	return NT_OK;
}

static nt_err import_household(struct importer *im, const msgpack_object *o)
{
	struct household_rec h;
	uint8_t key[HIX_KEY_MAX];
	nt_err rc;

	if ((rc = record_of(im, &household_desc, o, &h, "a household")) != NT_OK ||
	    (rc = keyed_by_id(im, h.id, "a household")) != NT_OK)
		return rc;
	if (!proto_id_valid(h.village) || (h.cadre.len > 0 && !proto_id_valid(h.cadre)))
		return bad(im, "household '%.*s' names no possible village or cadre",
			   (int)h.id.len, h.id.ptr);
	ledger_put(&im->t, DB_HOUSEHOLDS, h.id.ptr, h.id.len, im->val.sb.data, im->val.sb.size,
		   true);
	ledger_put(&im->t, DB_HINDEX, key, hix_key(key, HIX_VILLAGE, h.village, h.id.ptr,
						   h.id.len), "", 0, false);
	if (h.cadre.len > 0)
		ledger_put(&im->t, DB_HINDEX, key, hix_key(key, HIX_CADRE, h.cadre, h.id.ptr,
							   h.id.len), "", 0, false);
	im->n->households++;
	return NT_OK;
}

static nt_err import_meta(struct importer *im, const msgpack_object *o)
{
	const msgpack_object *v = proto_map_get(o, "value");
	const struct meta_codec *c;
	proto_str key, s;
	uint64_t u;
	uint8_t b[8];
	nt_err rc;

	if (o->type != MSGPACK_OBJECT_MAP || !proto_obj_str(proto_map_get(o, "key"), &key) ||
	    v == NULL)
		return bad(im, "a meta line is {\"key\": K, \"value\": V}");
	if ((c = meta_codec_of(key)) == NULL)
		return bad(im, "meta '%.*s' is not a key this version knows", (int)key.len,
			   key.ptr);
	if ((rc = next_key(im, key.ptr, key.len, "a meta key")) != NT_OK)
		return rc;
	switch (c->form) {
	case MF_U64:
		if (!proto_obj_u64(v, &u))
			return bad(im, "meta '%s' is a non-negative integer", c->key);
		ledger_key_u64(b, u);
		ledger_put(&im->t, DB_META, key.ptr, key.len, b, 8, false);
		if (proto_str_eq(key, META_ADMINS)) {
			if (u != im->admins)
				return bad(im, "meta admins is %" PRIu64 "; the people records hold "
					   "%" PRIu64 " admins", u, im->admins);
			im->admins_seen = true;
		}
		break;
	case MF_STR:
		if (!proto_obj_str(v, &s) || !proto_id_valid(s))
			return bad(im, "meta '%s' is an id", c->key);
		ledger_put(&im->t, DB_META, key.ptr, key.len, s.ptr, s.len, false);
		break;
	case MF_REC: {
		unsigned char rec[REC_MAX_STRUCT] __attribute__((aligned(16)));
		int m = -1;

		if (c->prefix && (m = milestone_of(key)) < 0)
			return bad(im, "meta '%.*s' names no milestone", (int)key.len, key.ptr);
		if ((rc = record_of(im, c->desc, v, rec, "a meta record")) != NT_OK)
			return rc;
		ledger_put(&im->t, DB_META, key.ptr, key.len, im->val.sb.data, im->val.sb.size,
			   false);
		if (m >= 0) {
			const struct milestone_rec *ms = (const void *)rec;
			uint8_t tk[TIMER_KEY_LEN];

			if (ms->at != 0) {
				milestone_timer_key(tk, ms->at, (unsigned)m);
				ledger_put(&im->t, DB_TIMERS, tk, TIMER_KEY_LEN, "", 0, false);
			}
		}
		break;
	}
	}
	im->n->meta++;
	return NT_OK;
}

static nt_err import_request(struct importer *im, const msgpack_object *o)
{
	const msgpack_object *reply = proto_map_get(o, "reply");
	uint8_t b[REQ_MAX];
	proto_str id;
	uint64_t seq, hash;
	size_t len;
	nt_err rc;

	if (o->type != MSGPACK_OBJECT_MAP || !proto_obj_str(proto_map_get(o, "id"), &id) ||
	    id.len == 0 || id.len > PROTO_MAX_ID ||
	    !proto_obj_u64(proto_map_get(o, "seq"), &seq) ||
	    !proto_obj_u64(proto_map_get(o, "hash"), &hash) || reply == NULL ||
	    reply->type != MSGPACK_OBJECT_MAP || reply->via.map.size > UINT8_MAX)
		return bad(im, "a request line is {\"id\", \"seq\", \"hash\", \"reply\": {...}}");
	if (seq > im->n->entries)
		return bad(im, "request '%.*s' names seq %" PRIu64 ", after the log's last",
			   (int)id.len, id.ptr, seq);
	if ((rc = next_key(im, id.ptr, id.len, "a request")) != NT_OK)
		return rc;
	/* the reply's pairs without their map header: pack the map, then skip the header */
	proto_out_reset(&im->val);
	msgpack_pack_object(&im->val.pk, *reply);
	if (im->val.oom)
		return NT_ENOMEM;
	len = im->val.sb.size - (reply->via.map.size < 16 ? 1 : 3);
	if (REQ_HDR + len > sizeof b)
		return bad(im, "request '%.*s': its reply is larger than nanti stores",
			   (int)id.len, id.ptr);
	ledger_key_u64(b, seq);
	ledger_key_u64(b + 8, hash);
	b[16] = (uint8_t)reply->via.map.size;
	memcpy(b + REQ_HDR, im->val.sb.data + (im->val.sb.size - len), len);
	ledger_put(&im->t, DB_REQS, id.ptr, id.len, b, REQ_HDR + len, true);
	im->n->requests++;
	return NT_OK;
}

/* The ledger must hold no entry and no record: only what ledger_open() writes, and the
 * calendar's fingerprint that nantid records when it first serves an empty ledger (gone
 * here: the export's own, if it has one, takes its place). */
static nt_err check_empty(struct importer *im)
{
	static const enum ledger_db dbs[] = { DB_LOG, DB_CASES, DB_HIST, DB_REQS, DB_UNITS,
					      DB_PEOPLE, DB_TIMERS, DB_KEYS, DB_HOUSEHOLDS,
					      DB_HINDEX };
	struct ledger_iter it;
	MDB_val k, v;
	bool other = false;

	for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
		if (ledger_count(&im->t, dbs[i]) != 0)
			goto full;
	ledger_iter_init(&it, &im->t, DB_META, NULL, 0);
	while (ledger_iter_next(&it, &k, &v)) {
		proto_str key = { k.mv_data, (uint32_t)k.mv_size };

		other = other || (!proto_str_eq(key, "format") && !proto_str_eq(key, META_CALENDAR));
	}
	ledger_iter_close(&it);
	if (!other) {
		ledger_del(&im->t, DB_META, META_CALENDAR, strlen(META_CALENDAR));
		return im->t.err;
	}
full:
	snprintf(im->why, im->whylen, "the state directory already holds a ledger: import "
		 "into an empty one (move this one aside first)");
	return NT_ECONFLICT;
}

/* Everything the whole file must make true, after its end line. */
static nt_err check_whole(struct importer *im)
{
	if (im->n->entries != im->header_last_seq)
		return bad(im, "the header says the log ends at seq %" PRIu64 "; it has %" PRIu64
			   " entries", im->header_last_seq, im->n->entries);
	for (size_t id = 1; id < im->ncases; id++)
		if (im->per_case[id] != 0 && im->per_case[id] != UINT32_MAX)
			return bad(im, "entries name case %zu, which has no record", id);
	if (!im->admins_seen && im->admins > 0)
		return bad(im, "the people records hold %" PRIu64 " admins and no meta admins "
			   "counts them", im->admins);
	return NT_OK;
}

static nt_err import_line(struct importer *im)
{
	const msgpack_object_kv *kv = &im->root.via.map.ptr[0];
	proto_str kind;
	int s;

	if (im->root.via.map.size != 1 || !proto_obj_str(&kv->key, &kind) ||
	    (s = rec_enum_find(section_names, kind)) <= S_HEADER)
		return bad(im, "a line is {\"KIND\": ...}, KIND one of entry, unit, person, case, "
			   "household, meta, request, end");
	if (s < (int)im->section)
		return bad(im, "a line of kind '%s' after the '%s' lines: an export's lines come"
			   " in the order entry, unit, person, case, household, meta, request, end",
			   section_names[s], section_names[im->section]);
	if (s != (int)im->section) {
		im->section = (enum section)s;
		im->have_prev = false;
	}
	switch ((enum section)s) {
	case S_ENTRY: return import_entry(im, &kv->val);
	case S_UNIT: return import_unit(im, &kv->val);
	case S_PERSON: return import_person(im, &kv->val);
	case S_CASE: return import_case(im, &kv->val);
	case S_HOUSEHOLD: return import_household(im, &kv->val);
	case S_META: return import_meta(im, &kv->val);
	case S_REQUEST: return import_request(im, &kv->val);
	case S_END: {
		uint64_t lines;

		if (!proto_obj_u64(proto_map_get(&kv->val, "lines"), &lines) ||
		    lines != im->n->lines - 1)
			return bad(im, "the end line counts %" PRIu64 " lines before it",
				   im->n->lines - 1);
		return NT_OK;
	}
	case S_HEADER: break;
	}
	return NT_EINTERNAL;
}

nt_err dump_import(struct ledger *lg, FILE *f, struct dump_counts *n, char *why,
		   size_t whylen)
{
	struct importer im = { .f = f, .n = n, .why = why, .whylen = whylen };
	nt_err rc;

	memset(n, 0, sizeof *n);
	why[0] = '\0';
	if ((rc = ledger_begin(lg, &im.t, true)) != NT_OK) {
		snprintf(why, whylen, "%s", ledger_txn_strerror(&im.t));
		return rc;
	}
	proto_out_init(&im.line);
	proto_out_init(&im.val);
	msgpack_zone_init(&im.zone, 8192);
	if ((rc = check_empty(&im)) != NT_OK)
		goto out;
	if ((rc = read_line(&im)) == NT_ENOTFOUND) {
		snprintf(why, whylen, "the file is empty");
		rc = NT_EBADREQ;
	}
	if (rc != NT_OK || (rc = parse_line(&im)) != NT_OK || (rc = import_header(&im)) != NT_OK)
		goto out;
	im.section = S_HEADER;
	while ((rc = read_line(&im)) == NT_OK) {
		if (im.section == S_END) {
			rc = bad(&im, "a line after the end line");
			break;
		}
		if ((rc = parse_line(&im)) != NT_OK || (rc = import_line(&im)) != NT_OK)
			break;
		if (im.t.err != NT_OK) {
			rc = im.t.err;
			if (rc != NT_EMAPFULL)
				bad(&im, "storing it failed: %s", ledger_txn_strerror(&im.t));
			break;
		}
	}
	if (rc == NT_ENOTFOUND) {
		if (im.section != S_END) {
			snprintf(why, whylen, "the file ends at line %" PRIu64 " without its end "
				 "line: it was cut short", n->lines);
			rc = NT_EBADREQ;
		} else
			rc = check_whole(&im);
	}
	n->last_seq = n->entries;
out:
	if (rc == NT_OK) {
		if ((rc = ledger_commit(&im.t)) != NT_OK)
			snprintf(why, whylen, "committing the import failed: %s",
				 ledger_txn_strerror(&im.t));
	} else
		ledger_abort(&im.t);
	if (rc == NT_EMAPFULL)
		snprintf(why, whylen, "the map is full");
	else if (rc == NT_ENOMEM && why[0] == '\0')
		snprintf(why, whylen, "out of memory");
	free(im.buf);
	free(im.per_case);
	msgpack_zone_destroy(&im.zone);
	proto_out_fini(&im.line);
	proto_out_fini(&im.val);
	return rc;
}
