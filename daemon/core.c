/*
 * core.c - the pure core: records, and what each write op does to the ledger.
 *
 * Nothing here performs I/O. An op reads the ledger through struct core_view, decides,
 * and encodes its decision into struct core_effect: records to store (puts), the log
 * entry's topic and fields, the reply's fields. If an op returns an error, its effect is
 * discarded whole, so a refused request changes nothing.
 *
 * Adding a write op means: a schema (struct proto_field[]), one function here, and one row
 * in the op table (daemon/ops.c). The loop does not change.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

static const char *const case_kinds[] = { "problem", "petition", "household", "village", NULL };

void core_effect_init(struct core_effect *e)
{
	memset(e, 0, sizeof *e);
	proto_out_init(&e->buf);
}

void core_effect_reset(struct core_effect *e)
{
	/* field by field: the puts array is large and only its first nputs entries count */
	e->nputs = 0;
	e->topic = NULL;
	e->case_id = 0;
	e->new_case = false;
	memset(&e->entry, 0, sizeof e->entry);
	memset(&e->reply, 0, sizeof e->reply);
	proto_out_reset(&e->buf);
}

void core_effect_fini(struct core_effect *e)
{
	if (e == NULL)
		return;
	proto_out_fini(&e->buf);
}

/* Start a put of db/key; the caller then encodes the value and calls put_end(). */
static struct core_put *put_begin(struct core_effect *e, enum ledger_db db, const void *key,
				  size_t klen, bool append)
{
	struct core_put *p = &e->puts[e->nputs++];

	p->db = db;
	memcpy(p->key, key, klen);
	p->klen = (uint32_t)klen;
	p->voff = e->buf.sb.size;
	p->append = append;
	return p;
}

static void put_end(struct core_effect *e, struct core_put *p)
{
	p->vlen = e->buf.sb.size - p->voff;
}

static void kvs_begin(struct core_effect *e, struct core_kvs *k)
{
	k->off = e->buf.sb.size;
	k->n = 0;
}

static void kvs_end(struct core_effect *e, struct core_kvs *k)
{
	k->len = e->buf.sb.size - k->off;
}

/* ---- records ---- */

void case_encode(proto_out *out, const struct case_rec *c)
{
	uint32_t n = 12 + (c->description.len > 0) + (c->unit.len > 0);

	msgpack_pack_map(&out->pk, n);
	proto_kv_u64(out, "id", c->id);
	proto_kv_str(out, "kind", c->kind);
	proto_kv_str(out, "title", c->title);
	if (c->description.len > 0)
		proto_kv_str(out, "description", c->description);
	if (c->unit.len > 0)
		proto_kv_str(out, "unit", c->unit);
	proto_kv_str(out, "lead", c->lead);
	proto_pack_cstr(out, "tags");
	msgpack_pack_array(&out->pk, c->ntags);
	for (uint32_t i = 0; i < c->ntags; i++)
		proto_pack_str(out, c->tags[i]);
	proto_kv_str(out, "status", c->status);
	proto_kv_str(out, "opened_by", c->opened_by);
	proto_kv_i64(out, "opened_at", c->opened_at);
	proto_kv_u64(out, "opened_seq", c->opened_seq);
	proto_kv_i64(out, "updated_at", c->updated_at);
	proto_kv_u64(out, "updated_seq", c->updated_seq);
	proto_kv_u64(out, "note_count", c->note_count);
}

nt_err case_decode(const void *buf, size_t len, proto_doc *doc, struct case_rec *c)
{
	const msgpack_object *m, *tags;
	uint64_t u;

	memset(c, 0, sizeof *c);
	if (proto_parse(doc, buf, len, NULL, 0) != NT_OK)
		return NT_ECORRUPT;
	m = &doc->root;
	if (!proto_obj_u64(proto_map_get(m, "id"), &c->id) ||
	    !proto_obj_str(proto_map_get(m, "kind"), &c->kind) ||
	    !proto_obj_str(proto_map_get(m, "title"), &c->title) ||
	    !proto_obj_str(proto_map_get(m, "lead"), &c->lead) ||
	    !proto_obj_str(proto_map_get(m, "status"), &c->status) ||
	    !proto_obj_str(proto_map_get(m, "opened_by"), &c->opened_by) ||
	    !proto_obj_i64(proto_map_get(m, "opened_at"), &c->opened_at) ||
	    !proto_obj_u64(proto_map_get(m, "opened_seq"), &c->opened_seq) ||
	    !proto_obj_i64(proto_map_get(m, "updated_at"), &c->updated_at) ||
	    !proto_obj_u64(proto_map_get(m, "updated_seq"), &c->updated_seq) ||
	    !proto_obj_u64(proto_map_get(m, "note_count"), &u) || u > UINT32_MAX)
		return NT_ECORRUPT;
	c->note_count = (uint32_t)u;
	/* optional keys: absent is fine, present with another type is damage */
	if ((proto_map_get(m, "description") != NULL &&
	     !proto_obj_str(proto_map_get(m, "description"), &c->description)) ||
	    (proto_map_get(m, "unit") != NULL &&
	     !proto_obj_str(proto_map_get(m, "unit"), &c->unit)))
		return NT_ECORRUPT;
	tags = proto_map_get(m, "tags");
	if (tags == NULL || tags->type != MSGPACK_OBJECT_ARRAY ||
	    tags->via.array.size > CASE_MAX_TAGS)
		return NT_ECORRUPT;
	for (uint32_t i = 0; i < tags->via.array.size; i++)
		if (!proto_obj_str(&tags->via.array.ptr[i], &c->tags[c->ntags++]))
			return NT_ECORRUPT;
	return NT_OK;
}

void case_pack(proto_out *out, const struct case_rec *c, bool full)
{
	uint32_t n = 8 + (c->unit.len > 0);

	if (full)
		n += 4 + (c->description.len > 0) + 1;	/* + "notes", packed by the caller */
	msgpack_pack_map(&out->pk, n);
	proto_kv_u64(out, "id", c->id);
	proto_kv_str(out, "kind", c->kind);
	proto_kv_str(out, "title", c->title);
	if (c->unit.len > 0)
		proto_kv_str(out, "unit", c->unit);
	proto_kv_str(out, "lead", c->lead);
	proto_kv_str(out, "status", c->status);
	proto_kv_i64(out, "opened_at", c->opened_at);
	proto_kv_i64(out, "updated_at", c->updated_at);
	proto_kv_u64(out, "note_count", c->note_count);
	if (!full)
		return;
	if (c->description.len > 0)
		proto_kv_str(out, "description", c->description);
	proto_pack_cstr(out, "tags");
	msgpack_pack_array(&out->pk, c->ntags);
	for (uint32_t i = 0; i < c->ntags; i++)
		proto_pack_str(out, c->tags[i]);
	proto_kv_str(out, "opened_by", c->opened_by);
	proto_kv_u64(out, "opened_seq", c->opened_seq);
	proto_kv_u64(out, "updated_seq", c->updated_seq);
}

void note_key(uint8_t key[NOTE_KEY_LEN], uint64_t case_id, uint32_t n)
{
	ledger_key_u64(key, case_id);
	ledger_key_u32(key + 8, n);
}

/* ---- case.open ---- */

enum { OPEN_TITLE, OPEN_DESCRIPTION, OPEN_KIND, OPEN_UNIT, OPEN_LEAD, OPEN_TAGS };

const struct proto_field core_case_open_fields[] = {
	[OPEN_TITLE] = { "title", PT_STR, true, 1, CASE_MAX_TITLE, 0, NULL },
	[OPEN_DESCRIPTION] = { "description", PT_STR, false, 0, CASE_MAX_TEXT, 0, NULL },
	[OPEN_KIND] = { "kind", PT_STR, false, 1, 16, 0, case_kinds },
	[OPEN_UNIT] = { "unit", PT_STR, false, 1, CASE_MAX_NAME, 0, NULL },
	[OPEN_LEAD] = { "lead", PT_STR, false, 1, CASE_MAX_NAME, 0, NULL },
	[OPEN_TAGS] = { "tags", PT_STRS, false, 0, CASE_MAX_TAGS, CASE_MAX_TAG, NULL },
};
const size_t core_case_open_nfields =
	sizeof core_case_open_fields / sizeof core_case_open_fields[0];

static proto_str str_or(const struct proto_arg *a, proto_str dflt)
{
	return a->set ? a->s : dflt;
}

nt_err core_case_open(const struct core_view *v, const struct core_req *r,
		      struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	struct case_rec c = { 0 };
	uint8_t key[8];
	struct core_put *p;

	(void)why, (void)whylen;
	c.id = v->next_case;
	c.kind = str_or(&a[OPEN_KIND], (proto_str){ "problem", 7 });
	c.title = a[OPEN_TITLE].s;
	c.description = str_or(&a[OPEN_DESCRIPTION], PROTO_STR_NULL);
	c.unit = str_or(&a[OPEN_UNIT], PROTO_STR_NULL);
	c.lead = str_or(&a[OPEN_LEAD], r->actor);
	if (a[OPEN_TAGS].set) {
		const msgpack_object *t = a[OPEN_TAGS].o;

		for (uint32_t i = 0; i < t->via.array.size; i++)
			proto_obj_str(&t->via.array.ptr[i], &c.tags[c.ntags++]);
	}
	c.status = (proto_str){ "open", 4 };
	c.opened_by = r->actor;
	c.opened_at = c.updated_at = v->now;
	c.opened_seq = c.updated_seq = v->seq;

	ledger_key_u64(key, c.id);
	p = put_begin(e, DB_CASES, key, sizeof key, true);
	case_encode(&e->buf, &c);
	put_end(e, p);

	e->topic = "case.opened";
	e->case_id = c.id;
	e->new_case = true;

	kvs_begin(e, &e->entry);
	proto_kv_str(&e->buf, "kind", c.kind);
	proto_kv_str(&e->buf, "title", c.title);
	proto_kv_str(&e->buf, "lead", c.lead);
	proto_pack_cstr(&e->buf, "tags");
	msgpack_pack_array(&e->buf.pk, c.ntags);
	for (uint32_t i = 0; i < c.ntags; i++)
		proto_pack_str(&e->buf, c.tags[i]);
	e->entry.n = 4;
	if (c.description.len > 0) {
		proto_kv_str(&e->buf, "description", c.description);
		e->entry.n++;
	}
	if (c.unit.len > 0) {
		proto_kv_str(&e->buf, "unit", c.unit);
		e->entry.n++;
	}
	kvs_end(e, &e->entry);

	kvs_begin(e, &e->reply);
	proto_kv_u64(&e->buf, "case", c.id);
	e->reply.n = 1;
	kvs_end(e, &e->reply);
	return e->buf.oom ? NT_ENOMEM : NT_OK;
}

/* ---- case.note ---- */

enum { NOTE_CASE, NOTE_TEXT };

const struct proto_field core_case_note_fields[] = {
	[NOTE_CASE] = { "case", PT_UINT, true, 1, UINT64_MAX, 0, NULL },
	[NOTE_TEXT] = { "text", PT_STR, true, 1, CASE_MAX_TEXT, 0, NULL },
};
const size_t core_case_note_nfields =
	sizeof core_case_note_fields / sizeof core_case_note_fields[0];

nt_err core_case_note(const struct core_view *v, const struct core_req *r,
		      struct core_effect *e, char *why, size_t whylen)
{
	const struct proto_arg *a = r->args;
	struct case_rec c;
	proto_doc doc = { 0 };
	uint8_t key[NOTE_KEY_LEN];
	struct core_put *p;
	nt_err rc;

	rc = v->case_get(v->ctx, a[NOTE_CASE].u, &doc, &c);
	if (rc == NT_ENOTFOUND)
		snprintf(why, whylen, "no case %" PRIu64, a[NOTE_CASE].u);
	if (rc != NT_OK)
		goto out;
	if (c.note_count == UINT32_MAX) {
		snprintf(why, whylen, "case %" PRIu64 " has too many notes", c.id);
		rc = NT_ETOOLARGE;
		goto out;
	}
	c.note_count++;
	c.updated_at = v->now;
	c.updated_seq = v->seq;

	ledger_key_u64(key, c.id);
	p = put_begin(e, DB_CASES, key, 8, false);
	case_encode(&e->buf, &c);
	put_end(e, p);

	note_key(key, c.id, c.note_count);
	p = put_begin(e, DB_NOTES, key, sizeof key, false);
	msgpack_pack_map(&e->buf.pk, 5);
	proto_kv_u64(&e->buf, "note", c.note_count);
	proto_kv_i64(&e->buf, "at", v->now);
	proto_kv_str(&e->buf, "actor", r->actor);
	proto_kv_u64(&e->buf, "seq", v->seq);
	proto_kv_str(&e->buf, "text", a[NOTE_TEXT].s);
	put_end(e, p);

	e->topic = "case.noted";
	e->case_id = c.id;

	kvs_begin(e, &e->entry);
	proto_kv_u64(&e->buf, "note", c.note_count);
	proto_kv_str(&e->buf, "text", a[NOTE_TEXT].s);
	e->entry.n = 2;
	kvs_end(e, &e->entry);

	kvs_begin(e, &e->reply);
	proto_kv_u64(&e->buf, "case", c.id);
	proto_kv_u64(&e->buf, "note", c.note_count);
	e->reply.n = 2;
	kvs_end(e, &e->reply);
	rc = e->buf.oom ? NT_ENOMEM : NT_OK;
out:
	proto_doc_fini(&doc);
	return rc;
}

/* ---- request hashes ---- */

uint64_t core_request_hash(const msgpack_object *body)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < body->via.map.size; i++) {
		const msgpack_object_kv *kv = &body->via.map.ptr[i];
		uint64_t h;

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 2 &&
		    memcmp(kv->key.via.str.ptr, "id", 2) == 0)
			continue;
		h = proto_hash_obj(&kv->val, proto_hash_obj(&kv->key, PROTO_HASH_SEED));
		/* a sum of mixed pair hashes, so that key order does not matter */
		sum += h * 0x9e3779b97f4a7c15ULL + (h >> 29);
	}
	return sum;
}
