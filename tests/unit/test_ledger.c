/*
 * test_ledger.c - the LMDB wrapper: sticky errors, iteration, growth, durability flags.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger.h"
#include "../tap.h"

static char dir[PATH_MAX];

static struct ledger *fresh(size_t mapsize)
{
	struct ledger *lg = NULL;
	char cmd[PATH_MAX + 16];

	if (dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return NULL;
	}
	snprintf(dir, sizeof dir, "/tmp/nanti-ledger-XXXXXX");
	if (mkdtemp(dir) == NULL || ledger_open(&lg, dir, mapsize) != NT_OK)
		return NULL;
	return lg;
}

static void put_u64(struct ledger_txn *t, enum ledger_db db, uint64_t k, const char *v)
{
	uint8_t key[8];

	ledger_key_u64(key, k);
	ledger_put(t, db, key, 8, v, strlen(v), false);
}

static void the_first_failure_sticks_and_the_commit_writes_nothing(void)
{
	struct ledger *lg = fresh(0);
	struct ledger_txn t;
	char big[600];
	MDB_val v;

	CHECK(lg != NULL);
	memset(big, 'k', sizeof big);
	CHECK(ledger_begin(lg, &t, true) == NT_OK);
	put_u64(&t, DB_CASES, 1, "one");
	ledger_put(&t, DB_CASES, big, sizeof big, "x", 1, false);	/* key too long */
	CHECK(t.err == NT_ETOOLARGE);
	put_u64(&t, DB_CASES, 2, "two");				/* a no-op now */
	CHECK(ledger_commit(&t) == NT_ETOOLARGE);
	CHECK(ledger_begin(lg, &t, false) == NT_OK);
	CHECK(ledger_get(&t, DB_CASES, "\0\0\0\0\0\0\0\1", 8, &v) == NT_ENOTFOUND);
	CHECK(ledger_count(&t, DB_CASES) == 0);
	ledger_abort(&t);
	ledger_close(&lg);
	CHECK(lg == NULL);
}

static void an_append_out_of_order_is_refused(void)
{
	struct ledger *lg = fresh(0);
	struct ledger_txn t;
	uint8_t k[8];

	CHECK(ledger_begin(lg, &t, true) == NT_OK);
	ledger_key_u64(k, 5);
	ledger_put(&t, DB_LOG, k, 8, "e5", 2, true);
	ledger_key_u64(k, 3);
	ledger_put(&t, DB_LOG, k, 8, "e3", 2, true);
	CHECK(t.err == NT_ECONFLICT);
	ledger_abort(&t);
	ledger_close(&lg);
}

static void iteration_runs_forwards_from_a_key_and_backwards_from_the_last_key_at_most_it(void)
{
	struct ledger *lg = fresh(0);
	struct ledger_txn t;
	struct ledger_iter it;
	uint8_t from[8];
	MDB_val k, v;
	uint64_t seen[8];
	int n = 0;

	CHECK(ledger_begin(lg, &t, true) == NT_OK);
	for (uint64_t i = 10; i <= 50; i += 10)
		put_u64(&t, DB_LOG, i, "x");
	CHECK(ledger_commit(&t) == NT_OK);
	CHECK(ledger_begin(lg, &t, false) == NT_OK);

	ledger_key_u64(from, 25);
	ledger_iter_init(&it, &t, DB_LOG, from, 8);
	while (n < 8 && ledger_iter_next(&it, &k, &v))
		seen[n++] = ledger_u64(k.mv_data);
	ledger_iter_close(&it);
	CHECK(n == 3 && seen[0] == 30 && seen[2] == 50);

	n = 0;
	ledger_iter_init_rev(&it, &t, DB_LOG, from, 8);
	while (n < 8 && ledger_iter_next(&it, &k, &v))
		seen[n++] = ledger_u64(k.mv_data);
	ledger_iter_close(&it);
	CHECK(n == 2 && seen[0] == 20 && seen[1] == 10);

	n = 0;
	ledger_key_u64(from, 40);
	ledger_iter_init_rev(&it, &t, DB_LOG, from, 8);
	while (n < 8 && ledger_iter_next(&it, &k, &v))
		seen[n++] = ledger_u64(k.mv_data);
	ledger_iter_close(&it);
	CHECK(n == 4 && seen[0] == 40);

	ledger_key_u64(from, 99);
	ledger_iter_init_rev(&it, &t, DB_LOG, from, 8);
	CHECK(ledger_iter_next(&it, &k, &v) && ledger_u64(k.mv_data) == 50);
	ledger_iter_close(&it);

	CHECK(ledger_last_u64(&t, DB_LOG, NULL) == 50);
	CHECK(ledger_last_u64(&t, DB_CASES, NULL) == 0);
	CHECK(t.err == NT_OK);
	ledger_abort(&t);
	ledger_close(&lg);
}

static void a_full_map_reports_mapfull_and_grows_on_request(void)
{
	struct ledger *lg = fresh(1 << 20);
	struct ledger_txn t;
	char val[2000];
	size_t before = ledger_mapsize(lg);
	nt_err rc = NT_OK;

	memset(val, 'v', sizeof val - 1);
	val[sizeof val - 1] = '\0';
	for (int attempt = 0; attempt < 8; attempt++) {
		CHECK(ledger_begin(lg, &t, true) == NT_OK);
		for (uint64_t i = 1; i <= 2000; i++)
			put_u64(&t, DB_CASES, i, val);
		rc = ledger_commit(&t);
		if (rc != NT_EMAPFULL)
			break;
		CHECK(ledger_grow(lg) == NT_OK);
	}
	CHECK(rc == NT_OK);
	CHECK(ledger_mapsize(lg) > before);
	ledger_close(&lg);
}

struct reader {
	struct ledger *lg;
	volatile int opened;
	int still_readable;
};

/* Read a value, hold on to it while the other thread grows the map, then use it. */
static void *hold_a_read(void *arg)
{
	struct reader *r = arg;
	struct ledger_txn t;
	uint8_t k[8];
	MDB_val v;

	if (ledger_begin(r->lg, &t, false) != NT_OK)
		return NULL;
	ledger_key_u64(k, 1);
	if (ledger_get(&t, DB_CASES, k, 8, &v) == NT_OK) {
		r->opened = 1;
		usleep(100000);
		/* without the lock the map is unmapped under us by now */
		r->still_readable = v.mv_size == 5 && memcmp(v.mv_data, "value", 5) == 0;
	}
	r->opened = 1;
	ledger_abort(&t);
	return NULL;
}

static void growing_waits_for_reads_on_other_threads(void)
{
	struct ledger *lg = fresh(1 << 20);
	struct reader r = { lg, 0, 0 };
	struct ledger_txn t;
	size_t before = ledger_mapsize(lg);
	pthread_t th;

	CHECK(ledger_begin(lg, &t, true) == NT_OK);
	put_u64(&t, DB_CASES, 1, "value");
	CHECK(ledger_commit(&t) == NT_OK);
	CHECK(pthread_create(&th, NULL, hold_a_read, &r) == 0);
	while (!r.opened)
		usleep(1000);
	CHECK(ledger_grow(lg) == NT_OK);
	CHECK(ledger_mapsize(lg) == 2 * before);
	pthread_join(th, NULL);
	CHECK(r.still_readable);
	ledger_close(&lg);
}

static void data_survives_closing_and_reopening(void)
{
	struct ledger *lg = fresh(0);
	struct ledger_txn t;
	MDB_val v;
	uint8_t k[8];

	CHECK(ledger_begin(lg, &t, true) == NT_OK);
	put_u64(&t, DB_HIST, 7, "kept");
	CHECK(ledger_commit(&t) == NT_OK);
	ledger_close(&lg);
	CHECK(ledger_open(&lg, dir, 0) == NT_OK);
	CHECK(ledger_begin(lg, &t, false) == NT_OK);
	ledger_key_u64(k, 7);
	CHECK(ledger_get(&t, DB_HIST, k, 8, &v) == NT_OK && v.mv_size == 4 &&
	      memcmp(v.mv_data, "kept", 4) == 0);
	ledger_abort(&t);
	ledger_close(&lg);
}

static void a_ledger_of_another_format_is_refused(void)
{
	struct ledger *lg = fresh(0);
	struct ledger_txn t;
	uint8_t v[8];

	CHECK(ledger_begin(lg, &t, true) == NT_OK);
	ledger_key_u64(v, LEDGER_FORMAT + 1);
	ledger_put(&t, DB_META, "format", 6, v, 8, false);
	CHECK(ledger_commit(&t) == NT_OK);
	ledger_close(&lg);
	CHECK(ledger_open(&lg, dir, 0) == NT_EFORMAT);
	CHECK(lg == NULL);
	/* a format value that is not even a number is damage */
	ledger_close(&lg);
	lg = NULL;
	{
		struct ledger *l2 = NULL;
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		MDB_val k = { 6, (void *)"format" }, val = { 3, (void *)"two" };

		CHECK(mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 16) == 0 &&
		      mdb_env_open(env, dir, 0, 0600) == 0);
		CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0 &&
		      mdb_dbi_open(txn, "meta", 0, &dbi) == 0 && mdb_put(txn, dbi, &k, &val, 0) == 0 &&
		      mdb_txn_commit(txn) == 0);
		mdb_env_close(env);
		CHECK(ledger_open(&l2, dir, 0) == NT_ECORRUPT && l2 == NULL);
	}
}

static void the_environment_is_opened_with_full_durability(void)
{
	struct ledger *lg = fresh(0);
	unsigned flags = ledger_env_flags(lg);

	CHECK((flags & (MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC | MDB_WRITEMAP)) == 0);
	CHECK((flags & MDB_RDONLY) == 0);
	ledger_close(&lg);
}

int main(void)
{
	RUN(the_first_failure_sticks_and_the_commit_writes_nothing);
	RUN(an_append_out_of_order_is_refused);
	RUN(iteration_runs_forwards_from_a_key_and_backwards_from_the_last_key_at_most_it);
	RUN(a_full_map_reports_mapfull_and_grows_on_request);
	RUN(growing_waits_for_reads_on_other_threads);
	RUN(data_survives_closing_and_reopening);
	RUN(a_ledger_of_another_format_is_refused);
	RUN(the_environment_is_opened_with_full_durability);
	if (dir[0]) {
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
