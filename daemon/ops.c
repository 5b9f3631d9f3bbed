/*
 * ops.c - the op table and the read ops.
 *
 * Read ops run in a read transaction that the caller opens just for them and ends right
 * after: nothing holds a read transaction across the loop. Listing ops examine at most
 * OPS_LIST_SCAN records per call and hand back a cursor (next), so that no single
 * request, however filtered, can stall the daemon.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ops.h"

/* ---- ping, stats ---- */

static const struct proto_field no_fields[] = { { 0 } };
static const size_t zero = 0;

static nt_err q_ping(const struct ops_query_ctx *c, const struct proto_arg *a, proto_out *out,
		     uint32_t *n, char *why, size_t whylen)
{
	(void)a, (void)why, (void)whylen;
	proto_kv_cstr(out, "version", PROTO_VERSION);
	proto_kv_i64(out, "now", c->now);
	*n = 2;
	return NT_OK;
}

static nt_err q_stats(const struct ops_query_ctx *c, const struct proto_arg *a, proto_out *out,
		      uint32_t *n, char *why, size_t whylen)
{
	(void)a, (void)why, (void)whylen;
	proto_kv_u64(out, "cases", ledger_count(c->t, DB_CASES));
	proto_kv_u64(out, "commits", c->stats->commits);
	proto_kv_u64(out, "events", c->stats->events);
	proto_kv_u64(out, "last_commit_us", c->stats->last_commit_us);
	proto_kv_u64(out, "commit_us", c->stats->commit_us);
	proto_kv_i64(out, "uptime_ms", c->now - c->stats->started_ms);
	*n = 6;
	return NT_OK;
}

/* ---- case.get ---- */

static const struct proto_field get_fields[] = {
	{ "case", PT_UINT, true, 1, UINT64_MAX, 0, NULL },
};
static const size_t get_nfields = 1;

static nt_err case_load(struct ledger_txn *t, uint64_t id, proto_doc *doc, struct case_rec *c)
{
	uint8_t key[8];
	MDB_val v;
	nt_err rc;

	ledger_key_u64(key, id);
	if ((rc = ledger_get(t, DB_CASES, key, sizeof key, &v)) != NT_OK)
		return rc;
	return case_decode(v.mv_data, v.mv_size, doc, c);
}

static nt_err q_case_get(const struct ops_query_ctx *c, const struct proto_arg *a,
			 proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	struct case_rec cs;
	proto_doc doc = { 0 };
	struct ledger_iter it;
	uint8_t from[NOTE_KEY_LEN];
	uint32_t first, count;
	MDB_val k, v;
	nt_err rc;

	if ((rc = case_load(c->t, a[0].u, &doc, &cs)) != NT_OK) {
		if (rc == NT_ENOTFOUND)
			snprintf(why, whylen, "no case %" PRIu64, a[0].u);
		goto out;
	}
	proto_pack_cstr(out, "case");
	case_pack(out, &cs, true);
	first = cs.note_count > CASE_GET_NOTES ? cs.note_count - CASE_GET_NOTES + 1 : 1;
	count = cs.note_count - first + 1;
	if (cs.note_count == 0)
		count = 0;
	proto_pack_cstr(out, "notes");
	msgpack_pack_array(&out->pk, count);
	note_key(from, cs.id, first);
	ledger_iter_init(&it, c->t, DB_NOTES, from, sizeof from);
	for (uint32_t i = 0; i < count; i++) {
		proto_doc nd = { 0 };

		if (!ledger_iter_next(&it, &k, &v) || k.mv_size != NOTE_KEY_LEN ||
		    ledger_u64(k.mv_data) != cs.id ||
		    proto_parse(&nd, v.mv_data, v.mv_size, NULL, 0) != NT_OK) {
			proto_doc_fini(&nd);
			rc = c->t->err != NT_OK ? c->t->err : NT_ECORRUPT;
			snprintf(why, whylen, "notes of case %" PRIu64 " are damaged", cs.id);
			break;
		}
		msgpack_pack_object(&out->pk, nd.root);
		proto_doc_fini(&nd);
	}
	ledger_iter_close(&it);
	*n = 1;
out:
	proto_doc_fini(&doc);
	return rc;
}

/* ---- case.list ---- */

enum { L_AFTER, L_LIMIT, L_KIND, L_UNIT, L_LEAD, L_STATUS };
static const struct proto_field list_fields[] = {
	[L_AFTER] = { "after", PT_UINT, false, 0, UINT64_MAX, 0, NULL },
	[L_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
	[L_KIND] = { "kind", PT_STR, false, 1, 16, 0, NULL },
	[L_UNIT] = { "unit", PT_STR, false, 1, CASE_MAX_NAME, 0, NULL },
	[L_LEAD] = { "lead", PT_STR, false, 1, CASE_MAX_NAME, 0, NULL },
	[L_STATUS] = { "status", PT_STR, false, 1, 16, 0, NULL },
};
static const size_t list_nfields = sizeof list_fields / sizeof list_fields[0];

static bool str_match(const struct proto_arg *want, proto_str have)
{
	return !want->set ||
	       (want->s.len == have.len && memcmp(want->s.ptr, have.ptr, have.len) == 0);
}

/*
 * Items are packed into a separate buffer because the array's length is known only at
 * the end; a page is at most OPS_MAX_LIMIT small summaries.
 */
static nt_err q_case_list(const struct ops_query_ctx *c, const struct proto_arg *a,
			  proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	uint64_t after = a[L_AFTER].set ? a[L_AFTER].u : 0;
	uint64_t limit = a[L_LIMIT].set ? a[L_LIMIT].u : 50, last = after;
	uint32_t items = 0, scanned = 0;
	bool more = false;
	struct ledger_iter it;
	proto_out page;
	uint8_t from[8];
	MDB_val k, v;
	nt_err rc = NT_OK;

	(void)why, (void)whylen;
	proto_out_init(&page);
	if (after == UINT64_MAX)
		goto done;
	ledger_key_u64(from, after + 1);
	ledger_iter_init(&it, c->t, DB_CASES, from, sizeof from);
	while (ledger_iter_next(&it, &k, &v)) {
		struct case_rec cs;
		proto_doc doc = { 0 };

		if (items == limit || scanned == OPS_LIST_SCAN) {
			more = true;
			break;
		}
		scanned++;
		if (case_decode(v.mv_data, v.mv_size, &doc, &cs) != NT_OK) {
			proto_doc_fini(&doc);
			rc = NT_ECORRUPT;
			break;
		}
		last = cs.id;
		if (str_match(&a[L_KIND], cs.kind) && str_match(&a[L_UNIT], cs.unit) &&
		    str_match(&a[L_LEAD], cs.lead) && str_match(&a[L_STATUS], cs.status)) {
			case_pack(&page, &cs, false);
			items++;
		}
		proto_doc_fini(&doc);
	}
	ledger_iter_close(&it);
	if (rc == NT_OK && c->t->err != NT_OK)
		rc = c->t->err;
done:
	if (rc == NT_OK) {
		proto_pack_cstr(out, "items");
		msgpack_pack_array(&out->pk, items);
		proto_out_raw(out, page.sb.data, page.sb.size);
		if (more)
			proto_kv_u64(out, "next", last);
		else
			proto_kv_nil(out, "next");
		*n = 2;
	}
	proto_out_fini(&page);
	return rc;
}

/* ---- log.read ---- */

enum { R_AFTER, R_LIMIT, R_TOPIC };
static const struct proto_field read_fields[] = {
	[R_AFTER] = { "after", PT_UINT, false, 0, UINT64_MAX, 0, NULL },
	[R_LIMIT] = { "limit", PT_UINT, false, 1, OPS_MAX_LIMIT, 0, NULL },
	[R_TOPIC] = { "topic", PT_STR, false, 0, PROTO_MAX_KEY, 0, NULL },
};
static const size_t read_nfields = sizeof read_fields / sizeof read_fields[0];

/* The topic of a stored entry: the log stores the entry map, whose second key is topic
 * (batch.c writes seq first, topic second); fall back to a lookup for safety. */
static bool entry_topic(const MDB_val *v, proto_str *topic)
{
	proto_doc doc = { 0 };
	bool ok = proto_parse(&doc, v->mv_data, v->mv_size, NULL, 0) == NT_OK &&
		  proto_obj_str(proto_map_get(&doc.root, "topic"), topic);

	proto_doc_fini(&doc);	/* topic points into v, not into the zone */
	return ok;
}

static nt_err q_log_read(const struct ops_query_ctx *c, const struct proto_arg *a,
			 proto_out *out, uint32_t *n, char *why, size_t whylen)
{
	uint64_t after = a[R_AFTER].set ? a[R_AFTER].u : 0;
	uint64_t limit = a[R_LIMIT].set ? a[R_LIMIT].u : 100, next = after;
	proto_str prefix = a[R_TOPIC].set ? a[R_TOPIC].s : PROTO_STR_NULL;
	uint32_t items = 0, scanned = 0;
	struct ledger_iter it;
	proto_out page;
	uint8_t from[8];
	MDB_val k, v;
	nt_err rc = NT_OK;

	(void)why, (void)whylen;
	proto_out_init(&page);
	if (after < UINT64_MAX) {
		ledger_key_u64(from, after + 1);
		ledger_iter_init(&it, c->t, DB_LOG, from, sizeof from);
		while (items < limit && scanned < OPS_LIST_SCAN && ledger_iter_next(&it, &k, &v)) {
			proto_str topic;

			scanned++;
			next = ledger_u64(k.mv_data);
			if (prefix.len > 0) {
				if (!entry_topic(&v, &topic)) {
					rc = NT_ECORRUPT;
					break;
				}
				if (topic.len < prefix.len ||
				    memcmp(topic.ptr, prefix.ptr, prefix.len) != 0)
					continue;
			}
			proto_out_raw(&page, v.mv_data, v.mv_size);
			items++;
		}
		ledger_iter_close(&it);
		if (rc == NT_OK && c->t->err != NT_OK)
			rc = c->t->err;
	}
	if (rc == NT_OK) {
		proto_pack_cstr(out, "items");
		msgpack_pack_array(&out->pk, items);
		proto_out_raw(out, page.sb.data, page.sb.size);
		proto_kv_u64(out, "next", next);
		*n = 2;
	}
	proto_out_fini(&page);
	return rc;
}

/* ---- the table ---- */

static const struct op op_table[] = {
	{ "ping", false, no_fields, &zero, NULL, q_ping },
	{ "stats", false, no_fields, &zero, NULL, q_stats },
	{ "case.open", true, core_case_open_fields, &core_case_open_nfields, core_case_open, NULL },
	{ "case.note", true, core_case_note_fields, &core_case_note_nfields, core_case_note, NULL },
	{ "case.get", false, get_fields, &get_nfields, NULL, q_case_get },
	{ "case.list", false, list_fields, &list_nfields, NULL, q_case_list },
	{ "log.read", false, read_fields, &read_nfields, NULL, q_log_read },
};

const struct op *ops_find(proto_str name)
{
	for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
		if (proto_str_eq(name, op_table[i].name))
			return &op_table[i];
	return NULL;
}
