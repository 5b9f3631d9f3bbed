/*
 * test_writer.c - the commit thread with a real LMDB: groups in order, and what happens
 * when a store fails.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "chain.h"
#include "overlay.h"
#include "writer.h"
#include "seed.h"
#include "../tap.h"

static char dir[PATH_MAX];

static struct ledger *fresh(void)
{
	struct ledger *lg = NULL;

	snprintf(dir, sizeof dir, "/tmp/nanti-writer-XXXXXX");
	if (mkdtemp(dir) == NULL || ledger_open(&lg, dir, 0) != NT_OK || !test_seed(lg))
		return NULL;
	return lg;
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

/* A case.open request with id, prepared; body lives in out. */
static void open_req(struct batch_item *it, proto_out *out, const char *id)
{
	proto_out_init(out);
	msgpack_pack_map(&out->pk, 6);
	proto_kv_cstr(out, "op", "case.open");
	proto_kv_cstr(out, "id", id);
	proto_kv_cstr(out, "actor", "wang.li");
	proto_kv_cstr(out, "title", "road");
	proto_kv_cstr(out, "area", "livelihood");
	proto_kv_cstr(out, "unit", "west.1");
	batch_item_init(it, out->sb.data, out->sb.size);
	batch_prepare(it);
}

static bool reply_is(const struct batch_item *it, const char *code)
{
	proto_doc doc;
	proto_str s = { 0 };
	bool ok = false, match;

	if (proto_parse(&doc, it->reply.sb.data, it->reply.sb.size, NULL, 0) != NT_OK)
		return false;
	proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok);
	if (code == NULL)
		match = ok;
	else
		match = !ok && proto_obj_str(proto_map_get(proto_map_get(&doc.root, "error"),
							   "code"), &s) && proto_str_eq(s, code);
	proto_doc_fini(&doc);
	return match;
}

static uint64_t add(struct writer *w, struct batch_spec *sp, struct batch_item *it)
{
	uint64_t t = writer_lock(w);

	batch_apply(sp, it, t, 1000);
	writer_add_unlock(w, it);
	return t;
}

static void groups_are_stored_and_collected_in_order(void)
{
	struct ledger *lg = fresh();
	struct batch_state st = { .next_case = 1 };
	struct batch_spec sp;
	struct writer *w = NULL;
	struct batch_item it[3];
	proto_out body[3];
	struct writer_result res;
	uint64_t last = 0;
	int got = 0;

	CHECK(lg != NULL && batch_spec_init(&sp, lg, &st) == NT_OK);
	CHECK(writer_start(&w, lg) == NT_OK);
	for (int i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof id, "w-%d", i);
		open_req(&it[i], &body[i], id);
		add(w, &sp, &it[i]);
	}
	while (got < 3 && writer_pending(w) != 0) {
		writer_wait(w);
		while (writer_collect(w, &res)) {
			CHECK(res.rc == NT_OK && res.ticket > last);
			last = res.ticket;
			got += (int)res.n;
			overlay_release(sp.ov, res.ticket);
		}
	}
	CHECK(got == 3);
	CHECK(overlay_count(sp.ov) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(reply_is(&it[i], NULL) && it[i].seq == (uint64_t)i + 1);
	CHECK(batch_load(lg, &st) == NT_OK && st.last_seq == 3 && st.next_case == 4);
	writer_stop(&w);
	batch_spec_fini(&sp);
	for (int i = 0; i < 3; i++) {
		batch_item_fini(&it[i]);
		proto_out_fini(&body[i]);
	}
	ledger_close(&lg);
	cleanup();
}

static void a_failed_store_fails_its_group_and_what_was_applied_after_it(void)
{
	struct ledger *lg = fresh();
	struct batch_state st = { .next_case = 1 };
	struct batch_spec sp;
	struct writer *w = NULL;
	struct batch_item a, b, c;
	proto_out ba, bb, bc;
	struct writer_result res;
	struct ledger_txn t;
	uint8_t k[8];
	uint64_t ta, tb, emptied;

	CHECK(lg != NULL && batch_spec_init(&sp, lg, &st) == NT_OK);
	CHECK(writer_start(&w, lg) == NT_OK);

	/* a is applied as seq 1; then the ledger diverges under it: its store must fail */
	open_req(&a, &ba, "a");
	ta = writer_lock(w);
	batch_apply(&sp, &a, ta, 1000);
	CHECK(ledger_begin(lg, &t, true) == NT_OK);
	ledger_key_u64(k, 1);
	{
		static const uint8_t zero[CHAIN_LEN];
		proto_out e;

		proto_out_init(&e);
		CHECK(chain_add(&e, "\x81\xa2" "at\x01", 5, zero, NULL) == NT_OK);
		ledger_put(&t, DB_LOG, k, 8, e.sb.data, e.sb.size, true);
		proto_out_fini(&e);
	}
	CHECK(ledger_commit(&t) == NT_OK);
	writer_add_unlock(w, &a);
	writer_wait(w);

	/* b is applied on top of a, after a's store failed but before the loop knows */
	open_req(&b, &bb, "b");
	tb = add(w, &sp, &b);
	CHECK(tb == ta + 1);
	CHECK(reply_is(&b, NULL) && b.seq == 2);

	CHECK(writer_collect(w, &res));
	CHECK(res.ticket == ta && res.rc != NT_OK && !res.abandoned);
	CHECK(reply_is(&a, "unavailable"));
	emptied = writer_abandon(w);
	CHECK(emptied == tb);		/* b's group was forming: the loop fails it */
	CHECK(!writer_collect(w, &res));
	CHECK(writer_pending(w) == 0);

	/* start again from what the ledger holds; b's id was never used */
	CHECK(batch_load(lg, &st) == NT_OK && st.last_seq == 1);
	batch_spec_reset(&sp, &st);
	CHECK(overlay_count(sp.ov) == 0);
	open_req(&c, &bc, "b");
	add(w, &sp, &c);
	writer_wait(w);
	CHECK(writer_collect(w, &res) && res.rc == NT_OK);
	CHECK(reply_is(&c, NULL) && c.seq == 2);
	CHECK(batch_load(lg, &st) == NT_OK && st.last_seq == 2 && st.next_case == 2);

	writer_stop(&w);
	batch_spec_fini(&sp);
	batch_item_fini(&a), batch_item_fini(&b), batch_item_fini(&c);
	proto_out_fini(&ba), proto_out_fini(&bb), proto_out_fini(&bc);
	ledger_close(&lg);
	cleanup();
}

int main(void)
{
	RUN(groups_are_stored_and_collected_in_order);
	RUN(a_failed_store_fails_its_group_and_what_was_applied_after_it);
	return tap_done();
}
