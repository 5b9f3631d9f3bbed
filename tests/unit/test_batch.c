/*
 * test_batch.c - the shell: validation, group commit, idempotency and reads, on a real
 * LMDB.
 *
 * Each test opens a fresh ledger in its own mkdtemp() directory and removes it at the end.
 * Requests go through batch_item_init(), batch_prepare(), batch_commit() and batch_query()
 * in the order daemon/nantid.c's turn() uses them: every body of a turn is prepared, the
 * writes are committed together, and the reads are answered after the commit (a read that
 * arrives after a write in the same turn must see it). Replies are decoded with
 * proto_parse() and checked key by key, as a client would.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "batch.h"
#include "chain.h"
#include "seed.h"
#include "../tap.h"

#define T0 1780000000000LL

/* ---- a ledger in a temporary directory ---- */

struct env {
	char dir[64];
	struct ledger *lg;
	struct batch_state st;
	struct ops_stats stats;
	struct core_effect scratch;
};

static bool env_open(struct env *e, size_t mapsize)
{
	memset(e, 0, sizeof *e);
	snprintf(e->dir, sizeof e->dir, "/tmp/nanti-test-batch.XXXXXX");
	if (mkdtemp(e->dir) == NULL) {
		printf("# mkdtemp failed\n");
		return false;
	}
	core_effect_init(&e->scratch);
	if (ledger_open(&e->lg, e->dir, mapsize) != NT_OK || !test_seed(e->lg) ||
	    batch_load(e->lg, &e->st) != NT_OK) {
		printf("# could not open a ledger in %s\n", e->dir);
		return false;
	}
	e->stats.started_ms = T0;
	return true;
}

/* Close and open again, as a restart of the daemon does. */
static bool env_reopen(struct env *e, size_t mapsize)
{
	ledger_close(&e->lg);
	memset(&e->st, 0xff, sizeof e->st);	/* batch_load must fill all of it */
	return ledger_open(&e->lg, e->dir, mapsize) == NT_OK && batch_load(e->lg, &e->st) == NT_OK;
}

static void env_close(struct env *e)
{
	DIR *d;
	struct dirent *de;

	ledger_close(&e->lg);
	core_effect_fini(&e->scratch);
	if (e->dir[0] == '\0' || (d = opendir(e->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	if (rmdir(e->dir) != 0)
		printf("# could not remove %s\n", e->dir);
}

static uint64_t env_count(struct env *e, enum ledger_db db)
{
	struct ledger_txn t;
	uint64_t n = 0;

	if (ledger_begin(e->lg, &t, false) == NT_OK)
		n = ledger_count(&t, db);
	ledger_abort(&t);
	return n;
}

/* ---- requests ---- */

/* One key of a request: S("title", "x"), U("case", 3); a NULL string leaves the key out. */
struct kv {
	const char *key;
	char type;		/* 's' or 'u' */
	const char *s;
	uint64_t u;
};
#define S(k, v) ((struct kv){ (k), 's', (v), 0 })
#define U(k, v) ((struct kv){ (k), 'u', NULL, (v) })
#define END ((struct kv){ NULL, 0, NULL, 0 })

static void pack_kvs(proto_out *o, const struct kv *kv)
{
	uint32_t n = 0;

	for (const struct kv *p = kv; p->key != NULL; p++)
		n += p->type == 'u' || p->s != NULL;
	msgpack_pack_map(&o->pk, n);
	for (const struct kv *p = kv; p->key != NULL; p++) {
		if (p->type == 'u')
			proto_kv_u64(o, p->key, p->u);
		else if (p->s != NULL)
			proto_kv_cstr(o, p->key, p->s);
	}
}

/*
 * A turn: the bodies of the requests, their items, and which were writes. Items hold
 * proto_outs whose packers point at themselves, so they are allocated once, in place.
 */
struct turn {
	size_t n, cap;
	proto_out *body;
	struct batch_item *item;
	bool *write;
};

static void turn_init(struct turn *t, size_t cap)
{
	t->n = 0;
	t->cap = cap;
	t->body = calloc(cap, sizeof *t->body);
	t->item = calloc(cap, sizeof *t->item);
	t->write = calloc(cap, sizeof *t->write);
}

static void turn_fini(struct turn *t)
{
	for (size_t i = 0; i < t->n; i++) {
		batch_item_fini(&t->item[i]);
		proto_out_fini(&t->body[i]);
	}
	free(t->body);
	free(t->item);
	free(t->write);
}

/* Add a request; returns its index. */
static size_t turn_add(struct turn *t, const struct kv *kv)
{
	size_t i = t->n++;

	proto_out_init(&t->body[i]);
	pack_kvs(&t->body[i], kv);
	return i;
}

/* Add raw bytes as a body. */
static size_t turn_add_raw(struct turn *t, const void *buf, size_t len)
{
	size_t i = t->n++;

	proto_out_init(&t->body[i]);
	proto_out_raw(&t->body[i], buf, len);
	return i;
}

/* Run the turn as the daemon does; returns batch_commit()'s result (NT_OK if no writes). */
static nt_err turn_run(struct env *e, struct turn *t, int64_t now)
{
	struct batch_item **writes = calloc(t->n + 1, sizeof *writes);
	size_t nw = 0;
	char why[PROTO_WHY] = "";
	nt_err rc = NT_OK;

	for (size_t i = 0; i < t->n; i++) {
		batch_item_init(&t->item[i], t->body[i].sb.data, t->body[i].sb.size);
		t->write[i] = batch_prepare(&t->item[i]);
		if (t->write[i])
			writes[nw++] = &t->item[i];
	}
	if (nw > 0) {
		rc = batch_commit(e->lg, &e->st, writes, nw, now, why, sizeof why);
		if (rc != NT_OK)
			printf("# batch_commit: %s\n", why);
	}
	for (size_t i = 0; i < t->n; i++)
		if (!t->item[i].done)
			batch_query(e->lg, &e->stats, NULL, &t->item[i], now);
	free(writes);
	return rc;
}

/* ---- replies ---- */

/* A decoded reply; keep it in a struct so that one fini frees it. */
struct reply {
	proto_doc doc;
	bool decoded;
};

static const msgpack_object *reply_get(struct reply *r, const struct batch_item *it,
				       const char *key)
{
	proto_doc_fini(&r->doc);
	r->decoded = it->done &&
		     proto_parse(&r->doc, it->reply.sb.data, it->reply.sb.size, NULL, 0) == NT_OK;
	return r->decoded ? proto_map_get(&r->doc.root, key) : NULL;
}

static bool reply_ok(const struct batch_item *it)
{
	struct reply r = { 0 };
	bool ok = false;

	proto_obj_bool(reply_get(&r, it, "ok"), &ok);
	proto_doc_fini(&r.doc);
	return ok;
}

static bool reply_has(const struct batch_item *it, const char *key)
{
	struct reply r = { 0 };
	bool has = reply_get(&r, it, key) != NULL;

	proto_doc_fini(&r.doc);
	return has;
}

/* An integer key of the reply, UINT64_MAX if absent or not an integer. */
static uint64_t reply_u64(const struct batch_item *it, const char *key)
{
	struct reply r = { 0 };
	uint64_t u = UINT64_MAX;

	if (!proto_obj_u64(reply_get(&r, it, key), &u))
		u = UINT64_MAX;
	proto_doc_fini(&r.doc);
	return u;
}

static bool reply_str_is(const struct batch_item *it, const char *key, const char *want)
{
	struct reply r = { 0 };
	proto_str s;
	bool is = proto_obj_str(reply_get(&r, it, key), &s) && proto_str_eq(s, want);

	proto_doc_fini(&r.doc);
	return is;
}

static bool reply_dup(const struct batch_item *it)
{
	struct reply r = { 0 };
	bool dup = false;

	proto_obj_bool(reply_get(&r, it, "duplicate"), &dup);
	proto_doc_fini(&r.doc);
	return dup;
}

/* Is it an error reply with this code, whose message contains needle (if not NULL)? */
static bool reply_err(const struct batch_item *it, const char *code, const char *needle)
{
	struct reply r = { 0 };
	const msgpack_object *err = reply_get(&r, it, "error");
	proto_str c, m;
	bool ok = true, is;

	proto_obj_bool(proto_map_get(&r.doc.root, "ok"), &ok);
	is = !ok && proto_obj_str(proto_map_get(err, "code"), &c) && proto_str_eq(c, code) &&
	     proto_obj_str(proto_map_get(err, "message"), &m);
	if (is && needle != NULL)
		is = memmem(m.ptr, m.len, needle, strlen(needle)) != NULL;
	if (!is && r.decoded) {
		printf("# reply: ");
		proto_json(stdout, &r.doc.root);
		printf("\n");
	}
	proto_doc_fini(&r.doc);
	return is;
}

/* The log entry a write produced, decoded into doc; false if there is none. */
static bool entry_of(const struct batch_item *it, proto_doc *doc)
{
	return it->has_entry &&
	       proto_parse(doc, it->entry.sb.data, it->entry.sb.size, NULL, 0) == NT_OK;
}

/* ---- shorthands ---- */

static size_t add_open(struct turn *t, const char *id, const char *title)
{
	return turn_add(t, (struct kv[]){ S("op", "case.open"), S("id", id),
					  S("actor", "wang.li"), S("title", title),
					  S("area", "livelihood"), S("unit", "east.v"), END });
}

static size_t add_note(struct turn *t, const char *id, uint64_t case_id, const char *text)
{
	return turn_add(t, (struct kv[]){ S("op", "case.note"), S("id", id),
					  S("actor", "li.na"), U("case", case_id),
					  S("text", text), END });
}

/* Open n cases in one turn (ids prefix-0, prefix-1, ...) at now. */
static bool open_cases(struct env *e, const char *prefix, int n, int64_t now)
{
	struct turn t;
	char id[64];
	bool ok = true;

	turn_init(&t, (size_t)n);
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "%s-%d", prefix, i);
		add_open(&t, id, "a case");
	}
	ok = turn_run(e, &t, now) == NT_OK;
	for (int i = 0; i < n; i++)
		ok = ok && reply_ok(&t.item[i]);
	turn_fini(&t);
	return ok;
}

/* ---- group commit ---- */

static void a_group_commit_gives_gap_free_seqs_to_every_accepted_request_in_order(void)
{
	struct env e;
	struct turn t;
	proto_doc d = { 0 };
	char id[16];

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	turn_init(&t, 5);
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "g-%d", i);
		add_open(&t, id, "road");
	}
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	for (size_t i = 0; i < 5; i++) {
		CHECK(t.write[i]);
		CHECK(reply_ok(&t.item[i]));
		CHECK(reply_u64(&t.item[i], "seq") == i + 1);
		CHECK(reply_u64(&t.item[i], "case") == i + 1);
		CHECK(!reply_has(&t.item[i], "duplicate"));
		CHECK(t.item[i].seq == i + 1);
		CHECK(t.item[i].topic != NULL && strcmp(t.item[i].topic, "case.opened") == 0);
		CHECK(entry_of(&t.item[i], &d));
		if (d.live) {
			uint64_t u = 0;
			int64_t at = 0;
			proto_str s;

			CHECK(proto_obj_u64(proto_map_get(&d.root, "seq"), &u) && u == i + 1);
			CHECK(proto_obj_u64(proto_map_get(&d.root, "case"), &u) && u == i + 1);
			CHECK(proto_obj_i64(proto_map_get(&d.root, "at"), &at) && at == T0);
			CHECK(proto_obj_str(proto_map_get(&d.root, "id"), &s) &&
			      s.len == 3 && s.ptr[2] == (char)('0' + i));
			CHECK(proto_obj_str(proto_map_get(&d.root, "actor"), &s) &&
			      proto_str_eq(s, "wang.li"));
		}
		proto_doc_fini(&d);
	}
	CHECK(e.st.last_seq == 5 && e.st.next_case == 6 && e.st.last_at == T0);
	CHECK(env_count(&e, DB_LOG) == 5 && env_count(&e, DB_CASES) == 5);
	CHECK(env_count(&e, DB_REQS) == 5);
	turn_fini(&t);

	/* the next commit goes on where this one stopped */
	turn_init(&t, 3);
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof id, "h-%d", i);
		add_open(&t, id, "bridge");
	}
	CHECK(turn_run(&e, &t, T0 + 1) == NT_OK);
	for (size_t i = 0; i < 3; i++)
		CHECK(reply_u64(&t.item[i], "seq") == 6 + i);
	CHECK(e.st.last_seq == 8 && env_count(&e, DB_LOG) == 8);
	turn_fini(&t);
	env_close(&e);
}

static void a_refused_request_in_a_batch_writes_nothing_and_the_others_commit_gap_free(void)
{
	struct env e;
	struct turn t;
	size_t a, b, bad, c, n;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	turn_init(&t, 5);
	a = add_open(&t, "a", "road");
	b = add_open(&t, "b", "well");
	bad = add_note(&t, "bad", 99, "nobody home");
	c = add_open(&t, "c", "school");
	n = add_note(&t, "n", 1, "called the village head");
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(reply_u64(&t.item[a], "seq") == 1 && reply_u64(&t.item[b], "seq") == 2);
	CHECK(reply_err(&t.item[bad], "not_found", "99"));
	CHECK(reply_str_is(&t.item[bad], "id", "bad"));
	CHECK(!reply_has(&t.item[bad], "seq"));
	CHECK(!t.item[bad].has_entry);
	CHECK(reply_u64(&t.item[c], "seq") == 3 && reply_u64(&t.item[c], "case") == 3);
	CHECK(reply_u64(&t.item[n], "seq") == 4 && reply_u64(&t.item[n], "case") == 1);
	CHECK(e.st.last_seq == 4 && e.st.next_case == 4);
	CHECK(env_count(&e, DB_LOG) == 4 && env_count(&e, DB_REQS) == 4);
	CHECK(env_count(&e, DB_HIST) == 4);	/* three openings and a note */
	turn_fini(&t);

	/* a refused request is not recorded: its id may be used again, for another request */
	turn_init(&t, 1);
	bad = add_note(&t, "bad", 3, "second try");
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(reply_ok(&t.item[bad]) && !reply_dup(&t.item[bad]));
	CHECK(reply_u64(&t.item[bad], "seq") == 5);
	turn_fini(&t);
	env_close(&e);
}

static void a_request_sees_the_requests_before_it_in_its_batch(void)
{
	struct env e;
	struct turn t;
	size_t o, n1, n2, g;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	turn_init(&t, 4);
	o = add_open(&t, "o", "road");
	n1 = add_note(&t, "n1", 1, "first");
	n2 = add_note(&t, "n2", 1, "second");
	g = turn_add(&t, (struct kv[]){ S("op", "case.get"), U("case", 1), END });
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(reply_u64(&t.item[o], "case") == 1);
	CHECK(reply_u64(&t.item[n1], "seq") == 2 && reply_u64(&t.item[n2], "seq") == 3);
	CHECK(!t.write[g] && reply_ok(&t.item[g]) && reply_u64(&t.item[g], "seq") == 3);
	{
		/* the second note found the case as the first note left it */
		struct reply r = { 0 };
		const msgpack_object *c = reply_get(&r, &t.item[g], "case");
		uint64_t u = 0;

		CHECK(proto_obj_u64(proto_map_get(c, "events"), &u) && u == 3);
		CHECK(proto_obj_u64(proto_map_get(c, "updated_seq"), &u) && u == 3);
		proto_doc_fini(&r.doc);
	}
	turn_fini(&t);
	env_close(&e);
}

/* ---- idempotency ---- */

static void a_write_that_changes_nothing_takes_no_seq_but_keeps_its_id(void)
{
	struct env e;
	struct turn t;
	size_t a, b, c, d;
	const struct kv put[] = { S("op", "unit.put"), S("id", "u1"), S("actor", "wang.li"),
				  S("unit", "west.1"), S("name", "西一村"), S("kind", "village"),
				  S("parent", "west"), END };

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	turn_init(&t, 4);
	a = add_open(&t, "o1", "road");
	b = turn_add(&t, put);		/* exactly as seeded: changes nothing */
	c = add_open(&t, "o2", "well");
	d = turn_add(&t, put);		/* the same id again: the same reply */
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(reply_u64(&t.item[a], "seq") == 1 && reply_u64(&t.item[c], "seq") == 2);
	CHECK(reply_ok(&t.item[b]) && reply_u64(&t.item[b], "seq") == 1);
	CHECK(reply_has(&t.item[b], "changed") && !t.item[b].has_entry);
	CHECK(reply_ok(&t.item[d]) && reply_dup(&t.item[d]) && reply_u64(&t.item[d], "seq") == 1);
	CHECK(e.st.last_seq == 2 && env_count(&e, DB_LOG) == 2);
	CHECK(env_count(&e, DB_REQS) == 3);	/* o1, u1, o2 */
	turn_fini(&t);
	env_close(&e);
}

static void a_repeated_id_gets_the_original_reply_in_the_same_batch_and_after_a_restart(void)
{
	struct env e;
	struct turn t;
	size_t a1, n1, a2, n2;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	turn_init(&t, 4);
	a1 = add_open(&t, "rq-open", "road");
	n1 = add_note(&t, "rq-note", 1, "hello");
	a2 = add_open(&t, "rq-open", "road");
	n2 = add_note(&t, "rq-note", 1, "hello");
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(reply_u64(&t.item[a1], "seq") == 1 && !reply_has(&t.item[a1], "duplicate"));
	CHECK(reply_u64(&t.item[n1], "seq") == 2);
	CHECK(reply_ok(&t.item[a2]) && reply_dup(&t.item[a2]));
	CHECK(reply_u64(&t.item[a2], "seq") == 1 && reply_u64(&t.item[a2], "case") == 1);
	CHECK(reply_str_is(&t.item[a2], "id", "rq-open"));
	CHECK(!t.item[a2].has_entry);
	CHECK(reply_ok(&t.item[n2]) && reply_dup(&t.item[n2]));
	CHECK(reply_u64(&t.item[n2], "seq") == 2 && reply_u64(&t.item[n2], "case") == 1);
	CHECK(!t.item[n2].has_entry);
	CHECK(e.st.last_seq == 2 && e.st.next_case == 2);
	CHECK(env_count(&e, DB_LOG) == 2 && env_count(&e, DB_CASES) == 1);
	CHECK(env_count(&e, DB_HIST) == 2);
	turn_fini(&t);

	/* after a restart, still the same reply, and still nothing changes */
	CHECK(env_reopen(&e, 0));
	turn_init(&t, 2);
	a1 = add_open(&t, "rq-open", "road");
	n1 = add_note(&t, "rq-note", 1, "hello");
	CHECK(turn_run(&e, &t, T0 + 10) == NT_OK);
	CHECK(reply_ok(&t.item[a1]) && reply_dup(&t.item[a1]));
	CHECK(reply_u64(&t.item[a1], "seq") == 1 && reply_u64(&t.item[a1], "case") == 1);
	CHECK(reply_ok(&t.item[n1]) && reply_dup(&t.item[n1]));
	CHECK(reply_u64(&t.item[n1], "seq") == 2 && reply_u64(&t.item[n1], "case") == 1);
	CHECK(!t.item[a1].has_entry && !t.item[n1].has_entry);
	CHECK(e.st.last_seq == 2 && e.st.next_case == 2 && e.st.last_at == T0);
	CHECK(env_count(&e, DB_LOG) == 2 && env_count(&e, DB_CASES) == 1);
	CHECK(env_count(&e, DB_HIST) == 2);
	turn_fini(&t);
	env_close(&e);
}

static void an_id_reused_for_a_different_request_is_a_conflict_naming_the_original_seq(void)
{
	struct env e;
	struct turn t;
	size_t a, b, b2, b3;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	turn_init(&t, 3);
	a = add_open(&t, "cf-a", "road");
	b = add_open(&t, "cf-b", "well");
	b2 = add_open(&t, "cf-b", "a different well");	/* in the same batch */
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(reply_u64(&t.item[a], "seq") == 1 && reply_u64(&t.item[b], "seq") == 2);
	CHECK(reply_err(&t.item[b2], "conflict", "seq 2"));
	CHECK(reply_str_is(&t.item[b2], "id", "cf-b"));
	CHECK(!t.item[b2].has_entry);
	turn_fini(&t);

	/* in a later batch; and a different op under the same id */
	turn_init(&t, 2);
	b2 = add_open(&t, "cf-b", "a third well");
	b3 = add_note(&t, "cf-a", 1, "not an open");
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(reply_err(&t.item[b2], "conflict", "seq 2"));
	CHECK(reply_err(&t.item[b3], "conflict", "seq 1"));
	CHECK(e.st.last_seq == 2 && env_count(&e, DB_LOG) == 2 && env_count(&e, DB_CASES) == 2);
	turn_fini(&t);
	env_close(&e);
}

static void a_damaged_case_record_refuses_only_the_request_that_reads_it(void)
{
	struct env e;
	struct turn t;
	struct ledger_txn w;
	uint8_t key[8];
	size_t a, n, b;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	CHECK(open_cases(&e, "dm", 1, T0));
	/* damage case 1 behind the daemon's back: a record without its keys */
	ledger_key_u64(key, 1);
	CHECK(ledger_begin(e.lg, &w, true) == NT_OK);
	ledger_put(&w, DB_CASES, key, sizeof key, "\x81\xa2id\x01", 5, false);
	CHECK(ledger_commit(&w) == NT_OK);

	/*
	 * The note cannot be applied, but the transaction is sound: the others must commit.
	 * Refusing the whole batch would also refuse every retry of the note ("unavailable"
	 * says: retry with the same id) and every innocent request batched with it, for ever.
	 */
	turn_init(&t, 3);
	a = add_open(&t, "dm-a", "road");
	n = add_note(&t, "dm-n", 1, "on a damaged case");
	b = add_open(&t, "dm-b", "well");
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(reply_ok(&t.item[a]) && reply_u64(&t.item[a], "seq") == 2);
	CHECK(reply_err(&t.item[n], "internal", NULL));
	CHECK(!t.item[n].has_entry);
	CHECK(reply_ok(&t.item[b]) && reply_u64(&t.item[b], "seq") == 3);
	CHECK(e.st.last_seq == 3 && env_count(&e, DB_LOG) == 3);
	turn_fini(&t);
	env_close(&e);
}

/* ---- the map ---- */

static void a_batch_that_fills_the_map_grows_it_and_still_commits(void)
{
	enum { N = 500 };
	struct env e;
	struct turn t;
	char *desc = malloc(CASE_MAX_TEXT + 1);
	char id[32];
	size_t before;
	bool all = true;

	if (!env_open(&e, (size_t)1 << 20)) {
		CHECK(0);
		free(desc);
		return;
	}
	memset(desc, 'd', CASE_MAX_TEXT);
	desc[CASE_MAX_TEXT] = '\0';
	before = ledger_mapsize(e.lg);
	turn_init(&t, N);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof id, "big-%03d", i);
		turn_add(&t, (struct kv[]){ S("op", "case.open"), S("id", id), S("actor", "wang.li"),
					    S("title", "flood"), S("description", desc),
					    S("area", "livelihood"), S("unit", "east.v"), END });
	}
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	for (size_t i = 0; i < N; i++)
		all = all && reply_ok(&t.item[i]) && reply_u64(&t.item[i], "seq") == i + 1;
	CHECK(all);
	CHECK(ledger_mapsize(e.lg) > before);
	CHECK(e.st.last_seq == N && e.st.next_case == N + 1);
	CHECK(env_count(&e, DB_LOG) == N && env_count(&e, DB_CASES) == N);
	turn_fini(&t);

	/* what was committed is there after a restart with the same small map asked for */
	CHECK(env_reopen(&e, (size_t)1 << 20));
	CHECK(e.st.last_seq == N && e.st.next_case == N + 1);
	CHECK(open_cases(&e, "after", 3, T0 + 1));
	CHECK(e.st.last_seq == N + 3);
	env_close(&e);
	free(desc);
}

/* ---- restart and time ---- */

static void reopening_the_ledger_restores_the_last_seq_the_next_case_and_the_last_time(void)
{
	struct env e;
	struct turn t;
	size_t n;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	CHECK(e.st.last_seq == 0 && e.st.next_case == 1 && e.st.last_at == 0);
	CHECK(open_cases(&e, "x", 3, T0));
	turn_init(&t, 1);
	n = add_note(&t, "x-note", 2, "noted");
	CHECK(turn_run(&e, &t, T0 + 500) == NT_OK);
	CHECK(reply_u64(&t.item[n], "seq") == 4);
	turn_fini(&t);

	CHECK(env_reopen(&e, 0));
	CHECK(e.st.last_seq == 4);
	CHECK(e.st.next_case == 4);
	CHECK(e.st.last_at == T0 + 500);

	/* and the ledger goes on from there */
	turn_init(&t, 1);
	n = add_open(&t, "x-after", "after the restart");
	CHECK(turn_run(&e, &t, T0 + 600) == NT_OK);
	CHECK(reply_u64(&t.item[n], "seq") == 5 && reply_u64(&t.item[n], "case") == 4);
	turn_fini(&t);
	env_close(&e);
}

/* "at" of every log entry, in order, into at[0..max); returns how many. */
static size_t log_ats(struct env *e, int64_t *at, size_t max)
{
	struct ledger_txn t;
	struct ledger_iter it;
	MDB_val k, v;
	size_t n = 0;

	if (ledger_begin(e->lg, &t, false) != NT_OK)
		return 0;
	ledger_iter_init(&it, &t, DB_LOG, NULL, 0);
	while (n < max && ledger_iter_next(&it, &k, &v)) {
		proto_doc d = { 0 };

		if (proto_parse(&d, v.mv_data, v.mv_size, NULL, 0) == NT_OK &&
		    proto_obj_i64(proto_map_get(&d.root, "at"), &at[n]))
			n++;
		proto_doc_fini(&d);
	}
	ledger_iter_close(&it);
	ledger_abort(&t);
	return n;
}

static void at_never_goes_backwards_even_when_the_clock_does(void)
{
	struct env e;
	struct turn t;
	int64_t at[8];
	size_t g, n;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	CHECK(open_cases(&e, "t1", 1, T0 + 2000));
	CHECK(open_cases(&e, "t2", 1, T0 + 1000));	/* the clock stepped back */
	CHECK(e.st.last_at == T0 + 2000);
	turn_init(&t, 2);
	n = add_note(&t, "t3", 2, "still later");
	g = turn_add(&t, (struct kv[]){ S("op", "case.get"), U("case", 2), END });
	CHECK(turn_run(&e, &t, T0 + 1500) == NT_OK);
	CHECK(reply_ok(&t.item[n]));
	{
		struct reply r = { 0 };
		const msgpack_object *c = reply_get(&r, &t.item[g], "case");
		int64_t v = 0;

		CHECK(proto_obj_i64(proto_map_get(c, "opened_at"), &v) && v == T0 + 2000);
		CHECK(proto_obj_i64(proto_map_get(c, "updated_at"), &v) && v == T0 + 2000);
		proto_doc_fini(&r.doc);
	}
	turn_fini(&t);

	/* and across a restart */
	CHECK(env_reopen(&e, 0));
	CHECK(open_cases(&e, "t4", 1, T0));
	CHECK(open_cases(&e, "t5", 1, T0 + 3000));
	CHECK(log_ats(&e, at, 8) == 5);
	CHECK(at[0] == T0 + 2000 && at[1] == T0 + 2000 && at[2] == T0 + 2000);
	CHECK(at[3] == T0 + 2000 && at[4] == T0 + 3000);
	env_close(&e);
}

/* ---- reads ---- */

/* Run one read; returns its index in t (a fresh turn the caller finishes). */
static size_t read1(struct env *e, struct turn *t, const struct kv *kv)
{
	size_t i;

	turn_init(t, 1);
	i = turn_add(t, kv);
	CHECK(turn_run(e, t, T0) == NT_OK);
	CHECK(!t->write[i]);
	return i;
}

/* The seqs (or case ids) of the reply's items into out; returns the count, or -1. */
static int reply_item_ids(const struct batch_item *it, const char *idkey, uint64_t *out, int max,
			  uint64_t *next, bool *next_nil)
{
	struct reply r = { 0 };
	const msgpack_object *items = reply_get(&r, it, "items"), *nx;
	int n = -1;

	if (items != NULL && items->type == MSGPACK_OBJECT_ARRAY) {
		n = 0;
		for (uint32_t i = 0; i < items->via.array.size && n < max; i++)
			if (!proto_obj_u64(proto_map_get(&items->via.array.ptr[i], idkey), &out[n++]))
				n = -1;
	}
	nx = proto_map_get(&r.doc.root, "next");
	if (next_nil != NULL)
		*next_nil = nx != NULL && nx->type == MSGPACK_OBJECT_NIL;
	if (next != NULL && !proto_obj_u64(nx, next))
		*next = UINT64_MAX;
	proto_doc_fini(&r.doc);
	return n;
}

/* Topics of the reply's items, joined with spaces, into buf. */
static void reply_topics(const struct batch_item *it, char *buf, size_t len)
{
	struct reply r = { 0 };
	const msgpack_object *items = reply_get(&r, it, "items");

	buf[0] = '\0';
	for (uint32_t i = 0; items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
			     i < items->via.array.size; i++) {
		proto_str s = PROTO_STR_NULL;

		proto_obj_str(proto_map_get(&items->via.array.ptr[i], "topic"), &s);
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%.*s", i ? " " : "",
			 (int)s.len, s.ptr);
	}
	proto_doc_fini(&r.doc);
}

static void log_read_pages_with_limit_and_next_and_filters_by_topic_prefix(void)
{
	struct env e;
	struct turn t;
	uint64_t ids[16], next;
	char topics[256];
	size_t i;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	/* seq 1 open, 2 note, 3 open, 4 note, 5 note, 6 open, 7 note */
	turn_init(&t, 7);
	add_open(&t, "l1", "one");
	add_note(&t, "l2", 1, "a");
	add_open(&t, "l3", "two");
	add_note(&t, "l4", 2, "b");
	add_note(&t, "l5", 1, "c");
	add_open(&t, "l6", "three");
	add_note(&t, "l7", 3, "d");
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(e.st.last_seq == 7);
	turn_fini(&t);

	i = read1(&e, &t, (struct kv[]){ S("op", "log.read"), U("limit", 3), END });
	CHECK(reply_u64(&t.item[i], "seq") == 7);
	CHECK(reply_item_ids(&t.item[i], "seq", ids, 16, &next, NULL) == 3);
	CHECK(ids[0] == 1 && ids[1] == 2 && ids[2] == 3 && next == 3);
	turn_fini(&t);
	i = read1(&e, &t, (struct kv[]){ S("op", "log.read"), U("after", 3), U("limit", 3), END });
	CHECK(reply_item_ids(&t.item[i], "seq", ids, 16, &next, NULL) == 3);
	CHECK(ids[0] == 4 && ids[2] == 6 && next == 6);
	turn_fini(&t);
	i = read1(&e, &t, (struct kv[]){ S("op", "log.read"), U("after", 6), U("limit", 3), END });
	CHECK(reply_item_ids(&t.item[i], "seq", ids, 16, &next, NULL) == 1);
	CHECK(ids[0] == 7 && next == 7);
	turn_fini(&t);
	i = read1(&e, &t, (struct kv[]){ S("op", "log.read"), U("after", 7), END });
	CHECK(reply_item_ids(&t.item[i], "seq", ids, 16, &next, NULL) == 0);
	CHECK(next == 7);
	turn_fini(&t);

	/* by topic prefix */
	i = read1(&e, &t, (struct kv[]){ S("op", "log.read"), S("topic", "case.n"), END });
	CHECK(reply_item_ids(&t.item[i], "seq", ids, 16, &next, NULL) == 4);
	CHECK(ids[0] == 2 && ids[1] == 4 && ids[2] == 5 && ids[3] == 7 && next == 7);
	reply_topics(&t.item[i], topics, sizeof topics);
	CHECK(strcmp(topics, "case.noted case.noted case.noted case.noted") == 0);
	turn_fini(&t);
	i = read1(&e, &t, (struct kv[]){ S("op", "log.read"), S("topic", "case.opened"),
					 U("limit", 2), END });
	CHECK(reply_item_ids(&t.item[i], "seq", ids, 16, &next, NULL) == 2);
	CHECK(ids[0] == 1 && ids[1] == 3 && next == 3);
	turn_fini(&t);
	i = read1(&e, &t, (struct kv[]){ S("op", "log.read"), S("topic", "case.opened"),
					 U("after", 3), U("limit", 2), END });
	CHECK(reply_item_ids(&t.item[i], "seq", ids, 16, &next, NULL) == 1);
	CHECK(ids[0] == 6 && next == 7);
	turn_fini(&t);
	i = read1(&e, &t, (struct kv[]){ S("op", "log.read"), S("topic", "deadline."), END });
	CHECK(reply_item_ids(&t.item[i], "seq", ids, 16, &next, NULL) == 0);
	CHECK(next == 7);	/* it examined everything */
	turn_fini(&t);
	i = read1(&e, &t, (struct kv[]){ S("op", "log.read"), S("topic", ""), END });
	CHECK(reply_item_ids(&t.item[i], "seq", ids, 16, &next, NULL) == 7);
	turn_fini(&t);
	env_close(&e);
}

/* Page through case.list with the filters (NULL: not given); ids into out. */
static int list_all(struct env *e, const char *kind, const char *unit, const char *lead,
		    const char *area, uint64_t limit, uint64_t *out, int max, int *pages)
{
	uint64_t after = 0, next;
	int n = 0;

	*pages = 0;
	for (;;) {
		struct turn t;
		bool nil = false;
		int got;
		size_t i = read1(e, &t, (struct kv[]){ S("op", "case.list"), U("after", after),
						       U("limit", limit), S("kind", kind),
						       S("unit", unit), S("lead", lead),
						       S("area", area), END });

		got = reply_item_ids(&t.item[i], "case", out + n, max - n, &next, &nil);
		turn_fini(&t);
		(*pages)++;
		if (got < 0 || *pages > 50)
			return -1;
		n += got;
		if (nil)
			return n;
		if (next == UINT64_MAX || next <= after)
			return -1;	/* next must be an int that moves on */
		after = next;
	}
}

static void case_list_filters_by_kind_unit_with_its_sub_units_lead_and_area_and_pages(void)
{
	static const struct { const char *kind, *unit, *lead, *area; } cases[10] = {
		{ "problem", "east.v", "ann", "livelihood" },		/* 1 */
		{ "lagging_village", "west", "bob", "grassroots" },	/* 2 */
		{ "problem", "west.1", "ann", "development" },		/* 3 */
		{ "household_issue", "east", "bob", "livelihood" },	/* 4 */
		{ NULL, "east.v", NULL, "livelihood" },		/* 5: problem, led by wang.li */
		{ "household_issue", "east.v", "bob", "livelihood" },	/* 6 */
		{ "problem", "east.v", "bob", "development" },		/* 7 */
		{ "lagging_village", "east.v", "ann", "grassroots" },	/* 8 */
		{ "problem", "east", "ann", "livelihood" },		/* 9 */
		{ "problem", "west.1", "bob", "livelihood" },		/* 10 */
	};
	struct env e;
	struct turn t;
	uint64_t ids[32];
	char id[16];
	int n, pages;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	turn_init(&t, 10);
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "cl-%d", i);
		turn_add(&t, (struct kv[]){ S("op", "case.open"), S("id", id), S("actor", "wang.li"),
					    S("title", "t"), S("kind", cases[i].kind),
					    S("unit", cases[i].unit), S("lead", cases[i].lead),
					    S("area", cases[i].area), END });
	}
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(e.st.last_seq == 10);
	turn_fini(&t);

	n = list_all(&e, NULL, NULL, NULL, NULL, 3, ids, 32, &pages);
	CHECK(n == 10 && pages == 4);
	for (int i = 0; i < n; i++)
		CHECK(ids[i] == (uint64_t)i + 1);
	n = list_all(&e, NULL, NULL, NULL, NULL, 1000, ids, 32, &pages);
	CHECK(n == 10 && pages == 1);

	n = list_all(&e, "problem", NULL, NULL, NULL, 2, ids, 32, &pages);
	CHECK(n == 6 && ids[0] == 1 && ids[1] == 3 && ids[2] == 5 && ids[3] == 7 &&
	      ids[4] == 9 && ids[5] == 10);
	/* a unit with its sub-units: west holds west.1 */
	n = list_all(&e, NULL, "west", NULL, NULL, 2, ids, 32, &pages);
	CHECK(n == 3 && ids[0] == 2 && ids[1] == 3 && ids[2] == 10);
	n = list_all(&e, NULL, "east", NULL, NULL, 2, ids, 32, &pages);
	CHECK(n == 10);
	n = list_all(&e, NULL, "east.v", NULL, NULL, 2, ids, 32, &pages);
	CHECK(n == 5 && ids[0] == 1 && ids[1] == 5 && ids[2] == 6 && ids[3] == 7 && ids[4] == 8);
	n = list_all(&e, NULL, NULL, "bob", NULL, 2, ids, 32, &pages);
	CHECK(n == 5 && ids[0] == 2 && ids[1] == 4 && ids[2] == 6 && ids[3] == 7 && ids[4] == 10);
	n = list_all(&e, NULL, NULL, "wang.li", NULL, 2, ids, 32, &pages);
	CHECK(n == 1 && ids[0] == 5);
	n = list_all(&e, "problem", "west", "ann", NULL, 2, ids, 32, &pages);
	CHECK(n == 1 && ids[0] == 3);
	n = list_all(&e, NULL, NULL, NULL, "grassroots", 4, ids, 32, &pages);
	CHECK(n == 2 && ids[0] == 2 && ids[1] == 8);
	n = list_all(&e, "lagging_village", "west.1", NULL, NULL, 4, ids, 32, &pages);
	CHECK(n == 0 && pages == 1);

	/* a summary has the summary's keys: deadline only when set */
	{
		size_t i = read1(&e, &t, (struct kv[]){ S("op", "case.list"), U("after", 3),
							U("limit", 2), END });
		struct reply r = { 0 };
		const msgpack_object *items = reply_get(&r, &t.item[i], "items");

		CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
		      items->via.array.size == 2);
		if (items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
		    items->via.array.size == 2) {
			const msgpack_object *c4 = &items->via.array.ptr[0];
			static const char *const keys[] = { "case", "kind", "area", "title", "unit",
							    "lead", "step", "updated_at", "redos" };

			for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
				CHECK(proto_map_get(c4, keys[k]) != NULL);
			CHECK(c4->via.map.size == 9 && proto_map_get(c4, "deadline") == NULL);
		}
		proto_doc_fini(&r.doc);
		turn_fini(&t);
	}
	env_close(&e);
}

/* The "seq" of each entry of the reply's history; how many, or -1. */
static int history_seqs(const struct batch_item *it, uint64_t *out, int max, uint64_t *next)
{
	struct reply r = { 0 };
	const msgpack_object *h = reply_get(&r, it, "history"), *nx;
	int n = -1;

	if (h != NULL && h->type == MSGPACK_OBJECT_ARRAY) {
		n = 0;
		for (uint32_t i = 0; i < h->via.array.size && n < max; i++)
			if (!proto_obj_u64(proto_map_get(&h->via.array.ptr[i], "seq"), &out[n++]))
				n = -1;
	}
	nx = proto_map_get(&r.doc.root, "next");
	if (!proto_obj_u64(nx, next))
		*next = 0;
	proto_doc_fini(&r.doc);
	return n;
}

static void case_get_returns_the_case_and_its_history_in_order_in_pages(void)
{
	enum { NOTES = 150 };
	struct env e;
	struct turn t;
	char id[16], text[16];
	uint64_t seqs[NOTES + 8], next;
	size_t g;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	turn_init(&t, NOTES + 2);
	turn_add(&t, (struct kv[]){ S("op", "case.open"), S("id", "other"), S("actor", "wang.li"),
				    S("title", "another case"), S("area", "development"),
				    S("unit", "west"), END });
	turn_add(&t, (struct kv[]){ S("op", "case.open"), S("id", "cg"), S("actor", "wang.li"),
				    S("title", "many notes"), S("description", "long story"),
				    S("area", "livelihood"), S("unit", "east.v"), END });
	for (int i = 1; i <= NOTES; i++) {
		snprintf(id, sizeof id, "cg-%d", i);
		snprintf(text, sizeof text, "note %d", i);
		/* the notes interleave with notes on the other case */
		add_note(&t, id, i % 10 == 0 ? 1 : 2, text);
	}
	CHECK(turn_run(&e, &t, T0) == NT_OK);
	CHECK(e.st.last_seq == NOTES + 2);
	turn_fini(&t);

	g = read1(&e, &t, (struct kv[]){ S("op", "case.get"), U("case", 2), S("id", "q"), END });
	CHECK(reply_ok(&t.item[g]) && reply_u64(&t.item[g], "seq") == NOTES + 2);
	CHECK(reply_str_is(&t.item[g], "id", "q"));
	{
		struct reply r = { 0 };
		const msgpack_object *c = reply_get(&r, &t.item[g], "case");
		uint64_t u = 0;
		proto_str s;

		CHECK(c != NULL && c->type == MSGPACK_OBJECT_MAP);
		CHECK(proto_obj_u64(proto_map_get(c, "case"), &u) && u == 2);
		CHECK(proto_obj_str(proto_map_get(c, "description"), &s) &&
		      proto_str_eq(s, "long story"));
		CHECK(proto_obj_str(proto_map_get(c, "step"), &s) && proto_str_eq(s, "identified"));
		CHECK(proto_obj_u64(proto_map_get(c, "events"), &u) && u == 1 + NOTES - NOTES / 10);
		/* note 150 went to case 1, so 149 was case 2's last */
		CHECK(proto_obj_u64(proto_map_get(c, "updated_seq"), &u) && u == NOTES + 1);
		proto_doc_fini(&r.doc);
	}
	/* the whole history: its opening, then its own notes only, in seq order */
	{
		int n = history_seqs(&t.item[g], seqs, NOTES + 8, &next);
		bool in_order = n == 1 + NOTES - NOTES / 10 && seqs[0] == 2;

		for (int i = 1; in_order && i < n; i++)
			in_order = seqs[i] > seqs[i - 1] && (seqs[i] - 2) % 10 != 0;
		CHECK(in_order && next == 0);
	}
	turn_fini(&t);

	/* in pages of 50 */
	{
		uint64_t after = 0, total = 0;

		for (int page = 0; page < 10; page++) {
			int n;

			g = read1(&e, &t, (struct kv[]){ S("op", "case.get"), U("case", 2),
							 U("after", after), U("limit", 50), END });
			n = history_seqs(&t.item[g], seqs, 64, &next);
			turn_fini(&t);
			CHECK(n >= 0 && n <= 50);
			if (n <= 0)
				break;
			CHECK(seqs[0] > after);
			total += (uint64_t)n;
			if (next == 0)
				break;
			CHECK(next == seqs[n - 1]);
			after = next;
		}
		CHECK(total == 1 + NOTES - NOTES / 10);
	}

	g = read1(&e, &t, (struct kv[]){ S("op", "case.get"), U("case", 3), END });
	CHECK(reply_err(&t.item[g], "not_found", "3"));
	turn_fini(&t);
	env_close(&e);
}

/* ---- validation ---- */

static void prepare_refuses_unknown_ops_writes_without_id_or_actor_and_unknown_keys(void)
{
	struct env e;
	struct turn t;
	size_t unk, noid, noactor, badkey, garbage, badtype, ping, readid;

	if (!env_open(&e, 0)) {
		CHECK(0);
		return;
	}
	turn_init(&t, 8);
	unk = turn_add(&t, (struct kv[]){ S("op", "case.close"), S("id", "u1"),
					  S("actor", "a"), U("case", 1), END });
	noid = turn_add(&t, (struct kv[]){ S("op", "case.open"), S("actor", "a"),
					   S("title", "t"), END });
	noactor = turn_add(&t, (struct kv[]){ S("op", "case.open"), S("id", "u3"),
					      S("title", "t"), END });
	badkey = turn_add(&t, (struct kv[]){ S("op", "case.open"), S("id", "u4"), S("actor", "a"),
					     S("title", "t"), S("colour", "red"), END });
	garbage = turn_add_raw(&t, "\x82\xa2op\xa4ping\xa2id", 12);	/* no value for id */
	badtype = turn_add(&t, (struct kv[]){ S("op", "case.note"), S("id", "u6"),
					      S("actor", "a"), S("case", "1"), S("text", "x"),
					      END });
	ping = turn_add(&t, (struct kv[]){ S("op", "ping"), END });
	readid = turn_add(&t, (struct kv[]){ S("op", "stats"), S("id", "u8"), END });
	CHECK(turn_run(&e, &t, T0) == NT_OK);

	CHECK(!t.write[unk] && reply_err(&t.item[unk], "unknown_op", "case.close"));
	CHECK(reply_str_is(&t.item[unk], "id", "u1"));
	CHECK(!t.write[noid] && reply_err(&t.item[noid], "bad_request", "'id'"));
	CHECK(!t.write[noactor] && reply_err(&t.item[noactor], "bad_request", "'actor'"));
	CHECK(reply_str_is(&t.item[noactor], "id", "u3"));
	CHECK(!t.write[badkey] && reply_err(&t.item[badkey], "bad_request", "colour"));
	CHECK(!t.write[garbage] && reply_err(&t.item[garbage], "bad_request", NULL));
	CHECK(!t.write[badtype] && reply_err(&t.item[badtype], "bad_request", "'case'"));
	for (size_t i = 0; i < ping; i++)
		CHECK(!t.item[i].has_entry);
	/* reads need neither id nor actor */
	CHECK(!t.write[ping] && reply_ok(&t.item[ping]) && reply_u64(&t.item[ping], "seq") == 0);
	CHECK(reply_str_is(&t.item[ping], "version", PROTO_VERSION));
	CHECK(reply_u64(&t.item[ping], "now") == (uint64_t)T0);
	CHECK(reply_ok(&t.item[readid]) && reply_str_is(&t.item[readid], "id", "u8"));
	CHECK(reply_u64(&t.item[readid], "cases") == 0);
	CHECK(e.st.last_seq == 0 && env_count(&e, DB_LOG) == 0 && env_count(&e, DB_REQS) == 0);
	turn_fini(&t);
	env_close(&e);
}

/* A ledger of format 2, with a key in timers for each armed timer of a case, comes up to
 * the current format with one key per case, for its first timer; milestones keep theirs. */
static void a_ledger_of_format_2_is_upgraded_to_one_timer_key_per_case(void)
{
	struct env e;
	struct ledger_txn t;
	struct ledger_iter it;
	struct case_rec c = { .id = 7, .title = { "t", 1 }, .unit = { "u", 1 },
			      .lead = { "l", 1 }, .deadline = 20000, .timer_at = { 300, 200, 500, 0 } };
	uint8_t key[TIMER_KEY_LEN], ckey[8], v[8], want[TIMER_KEY_LEN];
	proto_out rec;
	MDB_val k, val;
	size_t n = 0;

	if (!env_open(&e, 0))
		return;
	proto_out_init(&rec);
	rec_encode(&rec, &case_desc, &c);
	CHECK(ledger_begin(e.lg, &t, true) == NT_OK);
	ledger_key_u64(ckey, 7);
	ledger_put(&t, DB_CASES, ckey, 8, rec.sb.data, rec.sb.size, false);
	for (unsigned s = 0; s < 3; s++) {
		timer_key(key, c.timer_at[s], 7, s);
		ledger_put(&t, DB_TIMERS, key, sizeof key, "", 0, false);
	}
	milestone_timer_key(key, 100, MS_PLAN);
	ledger_put(&t, DB_TIMERS, key, sizeof key, "", 0, false);
	ledger_key_u64(v, 2);
	ledger_put(&t, DB_META, "format", 6, v, 8, false);
	CHECK(ledger_commit(&t) == NT_OK);
	CHECK(env_reopen(&e, 0));
	CHECK(ledger_format(e.lg) == 2);
	CHECK(batch_upgrade(e.lg) == NT_OK);
	CHECK(ledger_format(e.lg) == LEDGER_FORMAT);
	CHECK(env_reopen(&e, 0));
	CHECK(ledger_format(e.lg) == LEDGER_FORMAT);
	CHECK(ledger_begin(e.lg, &t, false) == NT_OK);
	ledger_iter_init(&it, &t, DB_TIMERS, NULL, 0);
	CHECK(case_timer_key(want, 7, c.timer_at));
	while (ledger_iter_next(&it, &k, &val)) {
		uint64_t id = ledger_u64((const uint8_t *)k.mv_data + 8);

		n++;
		if (n == 1)
			CHECK(id == TIMER_MILESTONE + MS_PLAN);	/* due 100: first */
		else
			CHECK(memcmp(k.mv_data, want, sizeof want) == 0 && id == 7 * 4 + 1);
	}
	ledger_iter_close(&it);
	ledger_abort(&t);
	CHECK(n == 2);
	proto_out_fini(&rec);
	env_close(&e);
}

/* ---- the hash chain ---- */

/* Put value v under seq in the log, as someone editing the file would. */
static void log_put(struct env *e, uint64_t seq, const void *v, size_t len)
{
	struct ledger_txn t;
	uint8_t k[8];

	ledger_key_u64(k, seq);
	CHECK(ledger_begin(e->lg, &t, true) == NT_OK);
	ledger_put(&t, DB_LOG, k, 8, v, len, false);
	CHECK(ledger_commit(&t) == NT_OK);
}

/* A copy of the entry under seq (caller frees). */
static uint8_t *log_get(struct env *e, uint64_t seq, size_t *len)
{
	struct ledger_txn t;
	uint8_t k[8], *copy = NULL;
	MDB_val v;

	ledger_key_u64(k, seq);
	if (ledger_begin(e->lg, &t, false) != NT_OK)
		return NULL;
	if (ledger_get(&t, DB_LOG, k, 8, &v) == NT_OK && (copy = malloc(v.mv_size)) != NULL) {
		memcpy(copy, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}
	ledger_abort(&t);
	return copy;
}

static void every_entry_ends_with_the_hash_of_its_content_after_the_hash_before_it(void)
{
	struct env e;
	uint8_t prev[CHAIN_LEN] = { 0 }, want[CHAIN_LEN], got[CHAIN_LEN];
	const uint8_t *content;
	struct chain_report r;
	size_t len, clen;

	if (!env_open(&e, 0))
		return;
	CHECK(open_cases(&e, "c", 5, T0));
	for (uint64_t seq = 1; seq <= e.st.last_seq; seq++) {
		uint8_t *entry = log_get(&e, seq, &len);
		proto_rd rd;
		uint32_t n;
		crypto_generichash_state st;

		CHECK(entry != NULL);
		if (entry == NULL)
			break;
		/* by the definition, with libsodium directly: BLAKE2b-256(prev || the pairs
		 * before the last, as stored) */
		CHECK(chain_split(entry, len, &content, &clen, got) == NT_OK);
		rd = (proto_rd){ entry, entry + len, false };
		CHECK(proto_rd_map(&rd, &n) && rd.p == content);
		crypto_generichash_init(&st, NULL, 0, CHAIN_LEN);
		crypto_generichash_update(&st, prev, CHAIN_LEN);
		crypto_generichash_update(&st, content, clen);
		crypto_generichash_final(&st, want, CHAIN_LEN);
		CHECK(memcmp(got, want, CHAIN_LEN) == 0);
		memcpy(prev, got, CHAIN_LEN);
		free(entry);
	}
	CHECK(memcmp(e.st.last_hash, prev, CHAIN_LEN) == 0);	/* the head, kept by batch */
	CHECK(chain_verify(e.lg, 1, &r) == NT_OK && r.broken == 0 &&
	      r.checked == e.st.last_seq && memcmp(r.head, prev, CHAIN_LEN) == 0);
	/* after a restart the chain goes on from the stored head */
	CHECK(env_reopen(&e, 0) && memcmp(e.st.last_hash, prev, CHAIN_LEN) == 0);
	CHECK(open_cases(&e, "d", 2, T0 + 1));
	CHECK(chain_verify(e.lg, 1, &r) == NT_OK && r.broken == 0 && r.checked == e.st.last_seq);
	env_close(&e);
}

static void a_changed_a_missing_or_an_unsealed_entry_breaks_the_chain_there(void)
{
	struct env e;
	struct chain_report r;
	uint8_t *entry, zero[CHAIN_LEN] = { 0 }, h[CHAIN_LEN];
	size_t len;
	char *p;

	if (!env_open(&e, 0))
		return;
	CHECK(open_cases(&e, "c", 6, T0));
	/* one byte of the title of entry 4 */
	entry = log_get(&e, 4, &len);
	CHECK(entry != NULL && (p = memmem(entry, len, "a case", 6)) != NULL);
	if (entry == NULL || p == NULL)
		goto out;
	p[0] = 'A';
	log_put(&e, 4, entry, len);
	CHECK(chain_verify(e.lg, 1, &r) == NT_OK && r.broken == 4 && r.why == NT_ECONFLICT &&
	      r.checked == 3);
	CHECK(strstr(r.what, "does not match its hash") != NULL);
	/* resealed, hash and all: entry 4 holds, but 5 was made after the old 4 */
	CHECK(chain_add(&e.scratch.buf, entry, len, r.head, h) == NT_OK);
	log_put(&e, 4, e.scratch.buf.sb.data, e.scratch.buf.sb.size);
	CHECK(chain_verify(e.lg, 1, &r) == NT_OK && r.broken == 5);
	/* the tail from 6 on is checked from what 5 says: it holds */
	CHECK(chain_verify(e.lg, 6, &r) == NT_OK && r.broken == 0 && r.checked == 1);
	free(entry);
	/* entry 2 without its hash (as format 3 wrote it) */
	entry = log_get(&e, 2, &len);
	CHECK(entry != NULL && chain_add(&e.scratch.buf, "\x81\xa2" "at\x01", 5, zero, h) ==
	      NT_OK);
	log_put(&e, 2, "\x81\xa2" "at\x01", 5);
	CHECK(chain_verify(e.lg, 1, &r) == NT_OK && r.broken == 2 && r.why == NT_ENOTFOUND);
	free(entry);
	entry = NULL;
	/* entry 1 gone */
	{
		struct ledger_txn t;
		uint8_t k[8];

		ledger_key_u64(k, 1);
		CHECK(ledger_begin(e.lg, &t, true) == NT_OK);
		ledger_del(&t, DB_LOG, k, 8);
		CHECK(ledger_commit(&t) == NT_OK);
	}
	CHECK(chain_verify(e.lg, 1, &r) == NT_OK && r.broken == 1 && r.why == NT_ENOTFOUND);
out:
	free(entry);
	env_close(&e);
}

static void a_ledger_of_format_3_is_upgraded_to_a_sealed_chain(void)
{
	struct env e;
	struct chain_report r;
	struct ledger_txn t;
	uint8_t v[8], k[8], hash[CHAIN_LEN];
	const uint8_t *content;
	size_t clen;

	if (!env_open(&e, 0))
		return;
	CHECK(open_cases(&e, "c", 4, T0));
	/* strip every entry of its hash, and say format 3 */
	for (uint64_t seq = 1; seq <= e.st.last_seq; seq++) {
		size_t len;
		uint8_t *entry = log_get(&e, seq, &len);

		proto_rd rd;
		uint32_t n = 0;

		CHECK(entry != NULL && chain_split(entry, len, &content, &clen, hash) == NT_OK);
		if (entry == NULL)
			return;
		rd = (proto_rd){ entry, entry + len, false };
		CHECK(proto_rd_map(&rd, &n));
		proto_out_reset(&e.scratch.buf);
		msgpack_pack_map(&e.scratch.buf.pk, n - 1);
		proto_out_raw(&e.scratch.buf, content, clen);
		log_put(&e, seq, e.scratch.buf.sb.data, e.scratch.buf.sb.size);
		free(entry);
	}
	CHECK(ledger_begin(e.lg, &t, true) == NT_OK);
	ledger_key_u64(v, 3);
	ledger_put(&t, DB_META, "format", 6, v, 8, false);
	CHECK(ledger_commit(&t) == NT_OK);
	CHECK(env_reopen(&e, 0) == false);	/* batch_load: the last entry has no hash */
	CHECK(ledger_format(e.lg) == 3);
	CHECK(batch_upgrade(e.lg) == NT_OK && ledger_format(e.lg) == LEDGER_FORMAT);
	CHECK(env_reopen(&e, 0));
	CHECK(chain_verify(e.lg, 1, &r) == NT_OK && r.broken == 0 && r.checked == e.st.last_seq &&
	      r.checked >= 4 && memcmp(r.head, e.st.last_hash, CHAIN_LEN) == 0);
	(void)k;
	env_close(&e);
}

int main(void)
{
	RUN(a_ledger_of_format_2_is_upgraded_to_one_timer_key_per_case);
	RUN(every_entry_ends_with_the_hash_of_its_content_after_the_hash_before_it);
	RUN(a_changed_a_missing_or_an_unsealed_entry_breaks_the_chain_there);
	RUN(a_ledger_of_format_3_is_upgraded_to_a_sealed_chain);
	RUN(a_group_commit_gives_gap_free_seqs_to_every_accepted_request_in_order);
	RUN(a_refused_request_in_a_batch_writes_nothing_and_the_others_commit_gap_free);
	RUN(a_request_sees_the_requests_before_it_in_its_batch);
	RUN(a_write_that_changes_nothing_takes_no_seq_but_keeps_its_id);
	RUN(a_repeated_id_gets_the_original_reply_in_the_same_batch_and_after_a_restart);
	RUN(an_id_reused_for_a_different_request_is_a_conflict_naming_the_original_seq);
	RUN(a_damaged_case_record_refuses_only_the_request_that_reads_it);
	RUN(a_batch_that_fills_the_map_grows_it_and_still_commits);
	RUN(reopening_the_ledger_restores_the_last_seq_the_next_case_and_the_last_time);
	RUN(at_never_goes_backwards_even_when_the_clock_does);
	RUN(log_read_pages_with_limit_and_next_and_filters_by_topic_prefix);
	RUN(case_list_filters_by_kind_unit_with_its_sub_units_lead_and_area_and_pages);
	RUN(case_get_returns_the_case_and_its_history_in_order_in_pages);
	RUN(prepare_refuses_unknown_ops_writes_without_id_or_actor_and_unknown_keys);
	return tap_done();
}
