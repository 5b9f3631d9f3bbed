/*
 * batch.c - validation, reads, and group commit: the shell around the pure core.
 *
 * A write request goes through two steps, on two threads:
 *
 *   batch_apply(), on the loop's thread, as soon as the request arrives: looks its id up
 *   (a known id with the same request hash gets the stored reply again with
 *   "duplicate": true; a different hash gets "conflict"), asks the core what the request
 *   does, gives its log entry the next seq, and prepares its reply. It reads the ledger
 *   as it will be once everything applied before it is committed: the overlay of pending
 *   writes (overlay.c) first, then a short read transaction. Its records are kept in the
 *   item and in the overlay.
 *
 *   batch_store(), on the commit thread, for a whole group: one write transaction that
 *   only puts the prepared records (the log with MDB_APPEND: its right edge only), one
 *   commit, one fsync. No decoding, no encoding, no decisions: the disk is the limit.
 *
 * A request the core refuses writes nothing. If a store fails, the group and every group
 * applied after it (they assumed it) are answered "unavailable" and nothing of them is
 * kept; their ids may be retried. Replies and log entries are only handed back; the loop
 * sends them after the commit, so nothing is acknowledged or published before it is
 * durable.
 *
 * Page economy: a group appends to log and cases (right edge, few pages), and inserts ids
 * in reqs; time-ordered ids (docs/protocol.md) make those inserts near-appends too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "chain.h"
#include "overlay.h"
#include "perm.h"

#define MAX_GROW 12	/* doublings of the map in one batch before giving up */

/* the reqs value: seq, hash, number of reply fields, the fields */
#define REQ_HDR 17

nt_err batch_load(struct ledger *lg, struct batch_state *st)
{
	struct ledger_txn t;
	MDB_val v;
	nt_err rc;

	memset(st, 0, sizeof *st);
	if ((rc = ledger_begin(lg, &t, false)) != NT_OK)
		return rc;
	st->last_seq = ledger_last_u64(&t, DB_LOG, &v);
	if (st->last_seq > 0) {
		proto_doc doc = { 0 };
		const uint8_t *content;
		size_t clen;

		if (proto_parse(&doc, v.mv_data, v.mv_size, NULL, 0) != NT_OK ||
		    !proto_obj_i64(proto_map_get(&doc.root, "at"), &st->last_at) ||
		    chain_split(v.mv_data, v.mv_size, &content, &clen, st->last_hash) != NT_OK)
			rc = NT_ECORRUPT;
		proto_doc_fini(&doc);
	}
	st->next_case = ledger_last_u64(&t, DB_CASES, NULL) + 1;
	if (rc == NT_OK)
		rc = t.err;
	ledger_abort(&t);
	return rc;
}

/* Format 2 kept a key in timers for each armed timer of a case; 3 keeps one, for the
 * first. */
static nt_err upgrade_timers(struct ledger_txn *t)
{
	struct ledger_iter it;
	MDB_val k, v;

	ledger_iter_init(&it, t, DB_TIMERS, NULL, 0);
	while (ledger_iter_next(&it, &k, &v))
		if (k.mv_size == TIMER_KEY_LEN && ledger_u64((uint8_t *)k.mv_data + 8) <
						   TIMER_MILESTONE) {
			uint8_t key[TIMER_KEY_LEN];

			memcpy(key, k.mv_data, sizeof key);
			ledger_iter_close(&it);
			ledger_del(t, DB_TIMERS, key, sizeof key);
			ledger_iter_init(&it, t, DB_TIMERS, key, sizeof key);
		}
	ledger_iter_close(&it);
	ledger_iter_init(&it, t, DB_CASES, NULL, 0);
	while (ledger_iter_next(&it, &k, &v)) {
		struct case_rec c;
		uint8_t key[TIMER_KEY_LEN];

		if (rec_decode(v.mv_data, v.mv_size, &case_desc, &c) != NT_OK) {
			ledger_iter_close(&it);
			return NT_ECORRUPT;
		}
		if (case_timer_key(key, c.id, c.timer_at))
			ledger_put(t, DB_TIMERS, key, sizeof key, "", 0, false);
	}
	ledger_iter_close(&it);
	return t->err;
}

/* Format 4 seals every log entry with its hash (chain.h): each entry of the log is
 * rewritten with its hash after the one before, in seq order. The iterator is closed
 * before each put (a put may move the pages it points into), and opened again at the
 * next seq. */
static nt_err upgrade_chain(struct ledger_txn *t)
{
	uint8_t prev[CHAIN_LEN] = { 0 }, key[8];
	struct ledger_iter it;
	proto_out out;
	MDB_val k, v;
	uint64_t seq = 1;
	nt_err rc = NT_OK;

	proto_out_init(&out);
	for (;;) {
		ledger_key_u64(key, seq);
		ledger_iter_init(&it, t, DB_LOG, key, sizeof key);
		if (!ledger_iter_next(&it, &k, &v)) {
			ledger_iter_close(&it);
			break;
		}
		seq = ledger_u64(k.mv_data);
		rc = chain_add(&out, v.mv_data, v.mv_size, prev, prev);
		ledger_iter_close(&it);
		if (rc != NT_OK)
			break;
		ledger_key_u64(key, seq);
		ledger_put(t, DB_LOG, key, sizeof key, out.sb.data, out.sb.size, false);
		if (t->err != NT_OK)
			break;
		seq++;
	}
	proto_out_fini(&out);
	return rc != NT_OK ? rc : t->err;
}

nt_err batch_upgrade(struct ledger *lg)
{
	unsigned from = ledger_format(lg);
	struct ledger_txn t;
	nt_err rc;

	if (from == LEDGER_FORMAT)
		return NT_OK;
	for (int attempt = 0; attempt <= MAX_GROW; attempt++) {
		if ((rc = ledger_begin(lg, &t, true)) != NT_OK)
			return rc;
		if (from < 3 && (rc = upgrade_timers(&t)) != NT_OK && rc != NT_EMAPFULL) {
			ledger_abort(&t);
			return rc;
		}
		if (from < 4 && (rc = upgrade_chain(&t)) != NT_OK && rc != NT_EMAPFULL) {
			ledger_abort(&t);
			return rc;
		}
		ledger_set_format(&t);
		if ((rc = ledger_commit(&t)) != NT_EMAPFULL)
			break;
		ledger_grow(lg);
	}
	return rc;
}

void batch_item_init(struct batch_item *it, const void *body, size_t len)
{
	memset(it, 0, sizeof *it);
	it->body = body;
	it->len = len;
	proto_out_init(&it->reply);
	proto_out_init(&it->entry);
	core_effect_init(&it->eff);
}

static void out_trim(proto_out *o)
{
	if (o->sb.alloc > BATCH_KEEP) {
		proto_out_fini(o);
		proto_out_init(o);
	}
	proto_out_reset(o);
}

void batch_item_reuse(struct batch_item *it, const void *body, size_t len)
{
	/* field by field: args are filled by proto_fields() before anything reads them */
	proto_doc_fini(&it->doc);
	it->body = body;
	it->len = len;
	memset(&it->req, 0, sizeof it->req);
	it->op = NULL;
	memset(&it->peer, 0, sizeof it->peer);
	it->internal = false;
	it->done = false;
	it->has_entry = it->applied = false;
	it->topic = NULL;
	it->seq = 0;
	it->reqlen = 0;
	out_trim(&it->reply);
	out_trim(&it->entry);
	out_trim(&it->eff.buf);
}

void batch_item_fini(struct batch_item *it)
{
	if (it == NULL)
		return;
	proto_doc_fini(&it->doc);
	proto_out_fini(&it->reply);
	proto_out_fini(&it->entry);
	core_effect_fini(&it->eff);
}

bool batch_item_touches(const struct batch_item *it, enum ledger_db db)
{
	if (!it->applied)
		return false;
	for (unsigned i = 0; i < it->eff.nputs; i++)
		if (it->eff.puts[i].db == db)
			return true;
	return false;
}

void batch_item_fail(struct batch_item *it, nt_err e, const char *why)
{
	proto_reply_error(&it->reply, it->req.id, e, why);
	it->has_entry = it->applied = false;
	it->done = true;
}

bool batch_prepare(struct batch_item *it)
{
	char why[PROTO_WHY] = "";
	nt_err rc;

	rc = proto_request(&it->doc, it->body, it->len, &it->req, why, sizeof why);
	if (rc != NT_OK) {
		batch_item_fail(it, rc, why);
		return false;
	}
	it->op = ops_find(it->req.op);
	if (it->op != NULL && it->op->internal && !it->internal)
		it->op = NULL;		/* the daemon's own: no client may send it */
	if (it->op == NULL) {
		snprintf(why, sizeof why, "no operation '%.*s'", (int)it->req.op.len,
			 it->req.op.ptr);
		batch_item_fail(it, NT_EUNKNOWNOP, why);
		return false;
	}
	/* a connection that is a person may leave the actor out: it acts as that person */
	if (it->op->write && (it->req.id.len == 0 ||
			      (it->req.actor.len == 0 && it->peer.kind != AUTH_PERSON &&
			       it->peer.kind != AUTH_KEY))) {
		snprintf(why, sizeof why, "'%s' changes the ledger: 'id' and 'actor' are required",
			 it->op->name);
		batch_item_fail(it, NT_EBADREQ, why);
		return false;
	}
	rc = proto_fields(it->req.body, it->op->fields, it->op->nfields, it->args, why,
			  sizeof why);
	if (rc != NT_OK) {
		batch_item_fail(it, rc, why);
		return false;
	}
	/* here, on the loop's thread, rather than in the commit thread's critical path */
	if (it->op->write)
		it->hash = core_request_hash(it->req.body);
	return it->op->write;
}

/* {"ok": true, "seq": seq, "id"?: id, "duplicate"?: true, fields...} */
static void reply_ok(struct batch_item *it, uint64_t seq, bool duplicate, uint32_t n,
		     const void *fields, size_t flen)
{
	proto_out *out = &it->reply;

	proto_out_reset(out);
	msgpack_pack_map(&out->pk, 2 + (it->req.id.len > 0) + duplicate + n);
	proto_kv_bool(out, "ok", true);
	proto_kv_u64(out, "seq", seq);
	if (it->req.id.len > 0)
		proto_kv_str(out, "id", it->req.id);
	if (duplicate)
		proto_kv_bool(out, "duplicate", true);
	proto_out_raw(out, fields, flen);
	it->seq = seq;
	it->done = true;
}

/*
 * Whose rights a read is held to (docs/protocol.md section 9): the connection's person;
 * else the actor a trusted connection names; else none (a trusted connection naming no
 * actor reads everything). A viewer that is no person is refused, and so is one without
 * the county's view for the whole log; an ipc peer that is nobody reads only what anyone
 * may (the unit tree, the people, the campaign).
 */
static nt_err read_as(const struct core_view *v, const struct batch_item *it,
		      const struct auth_who *who, struct person_rec *p,
		      const struct person_rec **viewer, char *why, size_t whylen)
{
	proto_str id = who->len > 0 ? (proto_str){ who->id, who->len }
		       : it->peer.kind == AUTH_TRUSTED ? it->req.actor : PROTO_STR_NULL;
	nt_err rc;

	*viewer = NULL;
	if (ops_read_rule_of(it->op) == OPS_READ_ALL)
		return NT_OK;	/* anyone's, whoever they say they are */
	if (it->peer.kind == AUTH_NOBODY) {
		snprintf(why, whylen, "%s: uid %ld is no person (ipc-users): it reads the units, "
			 "the people and the campaign only", it->op->name, it->peer.uid);
		return NT_EFORBIDDEN;
	}
	if (id.len == 0)
		return NT_OK;
	if ((rc = perm_actor(v, id, p, why, whylen)) != NT_OK)
		return rc;
	*viewer = p;
	if (ops_read_rule_of(it->op) == OPS_READ_COUNTY && !ops_county_wide(p)) {
		snprintf(why, whylen, "%s: only county leaders, the theme and supervision offices "
			 "and admins read it; '%.*s' reads the cases of their reach (case.list, "
			 "case.get)", it->op->name, (int)id.len, id.ptr);
		return NT_EFORBIDDEN;
	}
	return NT_OK;
}

void batch_query(struct ledger *lg, const struct ops_stats *stats,
		 const struct core_policy *policy, struct batch_item *it, int64_t now)
{
	struct ledger_txn t;
	struct ops_query_ctx c = { &t, stats, 0, now, policy, NULL };
	struct person_rec viewer;
	proto_out fields;
	char why[PROTO_WHY] = "";
	uint32_t n = 0;
	nt_err rc;

	proto_out_init(&fields);
	if ((rc = ledger_begin(lg, &t, false)) == NT_OK) {
		struct core_view v;
		struct auth_who who;

		/* name the seq this transaction saw: the commit thread may be ahead of st */
		c.last_seq = ledger_last_u64(&t, DB_LOG, NULL);
		ops_view(&v, &c);
		rc = auth_check(&v, &it->peer, false, PROTO_STR_NULL, &who, why, sizeof why);
		if (rc == NT_OK)
			rc = read_as(&v, it, &who, &viewer, &c.viewer, why, sizeof why);
		if (rc == NT_OK)
			rc = it->op->query(&c, it->args, &fields, &n, why, sizeof why);
		ledger_abort(&t);
	}
	if (rc == NT_OK && fields.oom)
		rc = NT_ENOMEM;
	if (rc != NT_OK)
		batch_item_fail(it, rc, why);
	else
		reply_ok(it, c.last_seq, false, n, fields.sb.data, fields.sb.size);
	proto_out_fini(&fields);
}

/* ---- apply: the loop's thread ---- */

nt_err batch_spec_init(struct batch_spec *sp, struct ledger *lg, const struct batch_state *st)
{
	memset(sp, 0, sizeof *sp);
	sp->lg = lg;
	sp->st = *st;
	sp->ov = overlay_new();
	return sp->ov != NULL ? NT_OK : NT_ENOMEM;
}

void batch_spec_fini(struct batch_spec *sp)
{
	ledger_abort(&sp->rt);
	overlay_free(&sp->ov);
}

void batch_spec_quiesce(struct batch_spec *sp)
{
	ledger_reset(&sp->rt);
}

void batch_spec_reset(struct batch_spec *sp, const struct batch_state *committed)
{
	ledger_reset(&sp->rt);
	overlay_clear(sp->ov);
	sp->st = *committed;
}

/* Reads during an apply: what is pending first, then what is committed. */
struct reader {
	struct batch_spec *sp;
	struct ledger_txn *t;
};

static nt_err reader_get(const struct reader *r, enum ledger_db db, const void *key, size_t klen,
			 MDB_val *val)
{
	if (overlay_get(r->sp->ov, db, key, klen, val))
		return val->mv_data != NULL ? NT_OK : NT_ENOTFOUND;	/* deleted, pending */
	return ledger_get(r->t, db, key, klen, val);
}

static nt_err view_get(void *ctx, enum ledger_db db, const void *key, size_t klen,
		       MDB_val *val)
{
	return reader_get(ctx, db, key, klen, val);
}

/* Is the failure one of the protocol's own refusals? */
static bool request_error(nt_err e)
{
	return e >= NT_EBADREQ && e <= NT_ETOOLARGE;
}

/* The part of batch_apply() that runs inside the read transaction. */
static nt_err apply_in(struct batch_spec *sp, struct ledger_txn *t, struct batch_item *it,
		       uint64_t ticket, int64_t now)
{
	struct reader rd = { sp, t };
	struct core_view view = { &rd, view_get, sp->st.next_case, sp->st.last_seq + 1, now,
				  sp->cal, sp->policy };
	struct core_req req;
	struct core_effect *e = &it->eff;
	struct auth_who who;
	char why[PROTO_WHY] = "";
	uint8_t hash[CHAIN_LEN];
	MDB_val v;
	nt_err rc;

	/* who may send it, first: a revoked key's retry of an old id is refused too */
	rc = it->internal ? NT_OK : auth_check(&view, &it->peer, true, it->req.actor, &who, why,
					      sizeof why);
	if (rc == NT_EFORBIDDEN) {
		batch_item_fail(it, rc, why);
		return NT_OK;
	}
	if (rc != NT_OK)
		return rc;
	if (it->req.actor.len == 0 && !it->internal) {
		/* it acts as its connection's person, and is the request naming them */
		memcpy(it->actor_buf, who.id, who.len);
		it->req.actor = (proto_str){ it->actor_buf, who.len };
		it->hash += core_request_hash_actor(it->req.actor);
	}
	req = (struct core_req){ it->req.id, it->req.actor, it->args, it->op };

	/* the daemon's own writes happen once by construction (a fired timer is gone): their
	 * ids are not recorded */
	rc = it->internal ? NT_ENOTFOUND :
			    reader_get(&rd, DB_REQS, it->req.id.ptr, it->req.id.len, &v);
	if (rc == NT_OK) {
		const uint8_t *p = v.mv_data;

		if (v.mv_size < REQ_HDR) {
			snprintf(why, sizeof why, "the stored record of id '%.*s' is damaged",
				 (int)it->req.id.len, it->req.id.ptr);
			batch_item_fail(it, NT_ECORRUPT, why);
		} else if (ledger_u64(p + 8) != it->hash) {
			snprintf(why, sizeof why,
				 "id '%.*s' was already used for a different request (seq %" PRIu64 ")",
				 (int)it->req.id.len, it->req.id.ptr, ledger_u64(p));
			batch_item_fail(it, NT_ECONFLICT, why);
		} else {
			reply_ok(it, ledger_u64(p), true, p[16], p + REQ_HDR, v.mv_size - REQ_HDR);
		}
		return NT_OK;
	}
	if (rc != NT_ENOTFOUND)
		return rc;

	core_effect_reset(e);
	rc = e->buf.oom ? NT_ENOMEM : it->op->apply(&view, &req, e, why, sizeof why);
	if (t->err != NT_OK)
		return t->err;	/* the ledger could not be read: not the request's fault */
	if (rc == NT_ENOMEM)
		return rc;
	if (rc != NT_OK) {
		/* refused, or a damaged record the request reads: only this request fails */
		if (!request_error(rc) && why[0] == '\0')
			snprintf(why, sizeof why, "%s", nt_strerror(rc));
		batch_item_fail(it, rc, why);
		return NT_OK;
	}

	if (e->topic == NULL) {
		/* it changed nothing: no log entry, no seq; the id is still recorded */
		reply_ok(it, view.seq - 1, false, e->reply.n, e->buf.sb.data + e->reply.off,
			 e->reply.len);
		it->reqlen = batch_reqval(it->reqval, view.seq - 1, it->hash, e);
	} else {
		batch_entry_pack(&it->entry, view.seq, now, &req, e, sp->st.last_hash, hash);
		reply_ok(it, view.seq, false, e->reply.n, e->buf.sb.data + e->reply.off,
			 e->reply.len);
		it->reqlen = batch_reqval(it->reqval, view.seq, it->hash, e);
	}
	if (it->reqlen == 0)
		return NT_EINTERNAL;
	if (it->entry.oom || it->reply.oom)
		return NT_ENOMEM;

	/* what later requests must see before this is committed: all of it, or none */
	{
		struct overlay_rec recs[CORE_MAX_PUTS + 1];
		unsigned n = 0;

		for (unsigned i = 0; i < e->nputs; i++, n++) {
			const struct core_put *p = &e->puts[i];

			recs[n] = (struct overlay_rec){ p->db, p->key, p->klen,
							e->buf.sb.data + p->voff, p->vlen, p->del };
		}
		if (!it->internal)
			recs[n++] = (struct overlay_rec){ DB_REQS, it->req.id.ptr, it->req.id.len,
							  it->reqval, it->reqlen, false };
		if ((rc = overlay_put(sp->ov, recs, n, ticket)) != NT_OK)
			return rc;
	}

	it->applied = true;
	if (e->topic == NULL)
		return NT_OK;
	it->has_entry = true;
	it->topic = e->topic;
	sp->st.last_seq = view.seq;
	memcpy(sp->st.last_hash, hash, CHAIN_LEN);
	if (e->new_case)
		sp->st.next_case++;
	sp->st.last_at = now;
	return NT_OK;
}

nt_err batch_apply(struct batch_spec *sp, struct batch_item *it, uint64_t ticket, int64_t now)
{
	char why[PROTO_WHY];
	nt_err rc;

	if (now < sp->st.last_at)
		now = sp->st.last_at;
	rc = sp->rt.txn != NULL && !sp->rt.idle ? NT_OK : ledger_renew(sp->lg, &sp->rt);
	if (rc == NT_OK)
		rc = apply_in(sp, &sp->rt, it, ticket, now);
	if (rc != NT_OK)
		ledger_reset(&sp->rt);	/* a failed read leaves the transaction unusable */
	if (rc != NT_OK) {
		/* the ledger or memory failed us: this request is not applied */
		it->has_entry = it->applied = false;
		snprintf(why, sizeof why, "the request could not be applied: %s", nt_strerror(rc));
		batch_item_fail(it, NT_EUNAVAIL, why);
	}
	return rc;
}

/* ---- store: the commit thread ---- */

static void store_one(struct ledger_txn *t, const struct batch_item *it)
{
	const struct core_effect *e = &it->eff;
	uint8_t seqkey[8];

	for (unsigned i = 0; i < e->nputs; i++) {
		const struct core_put *p = &e->puts[i];

		if (p->del)
			ledger_del(t, p->db, p->key, p->klen);
		else
			ledger_put(t, p->db, p->key, p->klen, e->buf.sb.data + p->voff, p->vlen,
				   p->append);
	}
	if (it->has_entry) {
		ledger_key_u64(seqkey, it->seq);
		ledger_put(t, DB_LOG, seqkey, 8, it->entry.sb.data, it->entry.sb.size, true);
	}
	if (!it->internal)
		ledger_put(t, DB_REQS, it->req.id.ptr, it->req.id.len, it->reqval, it->reqlen,
			   false);
}

nt_err batch_store(struct ledger *lg, struct batch_item **items, size_t n, char *why,
		   size_t whylen)
{
	struct ledger_txn t;
	nt_err rc = NT_OK;

	for (int attempt = 0; attempt <= MAX_GROW; attempt++) {
		if ((rc = ledger_begin(lg, &t, true)) != NT_OK)
			break;
		for (size_t i = 0; i < n; i++)
			if (items[i]->applied)
				store_one(&t, items[i]);
		rc = ledger_commit(&t);		/* aborts on a sticky error */
		if (rc != NT_EMAPFULL || ledger_grow(lg) != NT_OK)
			break;
	}
	if (rc == NT_OK)
		return NT_OK;
	if (rc == NT_EMAPFULL)
		snprintf(why, whylen, "the ledger is full: its map reached the cap of %zu MB "
			 "(map-size-max-mb)", ledger_mapsize(lg) >> 20);
	else
		snprintf(why, whylen, "the ledger could not commit: %s", ledger_txn_strerror(&t));
	for (size_t i = 0; i < n; i++)
		batch_item_fail(items[i], NT_EUNAVAIL, why);
	return rc;
}

void batch_entry_pack(proto_out *out, uint64_t seq, int64_t at, const struct core_req *r,
		      const struct core_effect *e, const uint8_t prev[CHAIN_LEN],
		      uint8_t hash[CHAIN_LEN])
{
	/* seq and topic first, then the common keys, then the op's own, then the chain's */
	proto_out_reset(out);
	msgpack_pack_map(&out->pk, 6 + (e->case_id > 0) + e->entry.n);
	proto_kv_u64(out, "seq", seq);
	proto_kv_cstr(out, "topic", e->topic);
	proto_kv_i64(out, "at", at);
	if (e->case_id > 0)
		proto_kv_u64(out, "case", e->case_id);
	proto_kv_str(out, "actor", r->actor);
	proto_kv_str(out, "id", r->id);
	proto_out_raw(out, e->buf.sb.data + e->entry.off, e->entry.len);
	chain_seal(out, 0, prev, hash);
}

/* A write op's reply fields are a few ids: small by design. */
size_t batch_reqval(uint8_t buf[BATCH_REQVAL_MAX], uint64_t seq, uint64_t hash,
		    const struct core_effect *e)
{
	if (e->reply.len > BATCH_REQVAL_MAX - REQ_HDR || e->reply.n > UINT8_MAX)
		return 0;
	ledger_key_u64(buf, seq);
	ledger_key_u64(buf + 8, hash);
	buf[16] = (uint8_t)e->reply.n;
	memcpy(buf + REQ_HDR, e->buf.sb.data + e->reply.off, e->reply.len);
	return REQ_HDR + e->reply.len;
}

nt_err batch_commit(struct ledger *lg, struct batch_state *st, struct batch_item **items,
		    size_t n, int64_t now, char *why, size_t whylen)
{
	struct batch_spec sp;
	nt_err rc;

	if ((rc = batch_spec_init(&sp, lg, st)) != NT_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		batch_apply(&sp, items[i], 1, now);
	batch_spec_quiesce(&sp);
	if ((rc = batch_store(lg, items, n, why, whylen)) == NT_OK)
		*st = sp.st;
	batch_spec_fini(&sp);
	return rc;
}
