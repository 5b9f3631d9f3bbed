/*
 * test_overlay.c - pending writes: lookups, replacement, release by ticket.
 */
#include <string.h>

#include "overlay.h"
#include "../tap.h"

static nt_err put1(struct overlay *ov, enum ledger_db db, const char *k, const char *v,
		   uint64_t ticket)
{
	struct overlay_rec r = { db, k, strlen(k), v, strlen(v), false };

	return overlay_put(ov, &r, 1, ticket);
}

static bool has(struct overlay *ov, enum ledger_db db, const char *k, const char *v)
{
	MDB_val got;

	if (!overlay_get(ov, db, k, strlen(k), &got))
		return v == NULL;
	return v != NULL && got.mv_size == strlen(v) && memcmp(got.mv_data, v, got.mv_size) == 0;
}

static void a_pending_record_is_found_by_database_and_key(void)
{
	struct overlay *ov = overlay_new();

	CHECK(put1(ov, DB_CASES, "k1", "case", 1) == NT_OK);
	CHECK(put1(ov, DB_REQS, "k1", "req", 1) == NT_OK);
	CHECK(has(ov, DB_CASES, "k1", "case"));
	CHECK(has(ov, DB_REQS, "k1", "req"));
	CHECK(has(ov, DB_HIST, "k1", NULL));
	CHECK(has(ov, DB_CASES, "k2", NULL));
	CHECK(overlay_count(ov) == 2);
	overlay_free(&ov);
	CHECK(ov == NULL);
}

static void releasing_a_group_keeps_what_a_later_group_rewrote(void)
{
	struct overlay *ov = overlay_new();
	struct overlay_rec two[2] = {
		{ DB_CASES, "a", 1, "a1", 2, false },
		{ DB_CASES, "b", 1, "b1", 2, false },
	};

	CHECK(overlay_put(ov, two, 2, 1) == NT_OK);
	CHECK(put1(ov, DB_CASES, "a", "a2", 2) == NT_OK);	/* group 2 rewrites a */
	CHECK(put1(ov, DB_CASES, "c", "c3", 3) == NT_OK);
	CHECK(overlay_count(ov) == 3);
	overlay_release(ov, 1);					/* b is committed */
	CHECK(has(ov, DB_CASES, "b", NULL));
	CHECK(has(ov, DB_CASES, "a", "a2"));
	overlay_release(ov, 2);
	CHECK(has(ov, DB_CASES, "a", NULL));
	CHECK(has(ov, DB_CASES, "c", "c3"));
	overlay_clear(ov);
	CHECK(overlay_count(ov) == 0 && has(ov, DB_CASES, "c", NULL));
	overlay_free(&ov);
}

static void many_keys_in_one_bucket_chain_stay_reachable(void)
{
	struct overlay *ov = overlay_new();
	char key[16];
	bool all = true;

	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "id-%d", i);
		CHECK(put1(ov, DB_REQS, key, key, (uint64_t)(i / 100) + 1) == NT_OK);
	}
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "id-%d", i);
		all = all && has(ov, DB_REQS, key, key);
	}
	CHECK(all);
	overlay_release(ov, 100);				/* tickets 1..100 */
	CHECK(overlay_count(ov) == 10000);
	snprintf(key, sizeof key, "id-%d", 9999);
	CHECK(has(ov, DB_REQS, key, NULL));
	snprintf(key, sizeof key, "id-%d", 10000);
	CHECK(has(ov, DB_REQS, key, key));
	overlay_free(&ov);
}

static void a_pending_delete_hides_the_record_until_its_group_is_released(void)
{
	struct overlay *ov = overlay_new();
	struct overlay_rec del = { DB_TIMERS, "t1", 2, NULL, 0, true };
	MDB_val got;

	CHECK(put1(ov, DB_TIMERS, "t1", "", 1) == NT_OK);
	CHECK(overlay_get(ov, DB_TIMERS, "t1", 2, &got) && got.mv_data != NULL &&
	      got.mv_size == 0);			/* an empty value is a value */
	CHECK(overlay_put(ov, &del, 1, 2) == NT_OK);	/* group 2 deletes it */
	CHECK(overlay_get(ov, DB_TIMERS, "t1", 2, &got) && got.mv_data == NULL);
	CHECK(put1(ov, DB_TIMERS, "t1", "back", 3) == NT_OK);
	CHECK(has(ov, DB_TIMERS, "t1", "back"));
	overlay_release(ov, 3);
	CHECK(!overlay_get(ov, DB_TIMERS, "t1", 2, &got));
	overlay_free(&ov);
}

int main(void)
{
	RUN(a_pending_delete_hides_the_record_until_its_group_is_released);
	RUN(a_pending_record_is_found_by_database_and_key);
	RUN(releasing_a_group_keeps_what_a_later_group_rewrote);
	RUN(many_keys_in_one_bucket_chain_stay_reachable);
	return tap_done();
}
