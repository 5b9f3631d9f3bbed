/*
 * seed.h - a small county written straight into a ledger, for the unit tests that drive
 * the shell (batch, writer) on a real LMDB.
 *
 * The records go into their databases directly, not through the log, so that the tests'
 * seqs start at 1. The county "east" has the townships "east.v" and "west", and "west.1"
 * is a village of west. wang.li of the theme office may open any case; li.na of the
 * supervision office may add notes to any case; ann (east.v) and bob (west) are cadres.
 */
#ifndef TEST_SEED_H
#define TEST_SEED_H

#include "ledger.h"
#include "model.h"

#define SEED_T0 1780000000000LL

static inline bool test_seed(struct ledger *lg)
{
	static const struct unit_rec units[] = {
		{ { "east", 4 }, { "东", 3 }, UNIT_COUNTY, { NULL, 0 }, SEED_T0, SEED_T0, 0, 0 },
		{ { "east.v", 6 }, { "东村", 6 }, UNIT_TOWNSHIP, { "east", 4 }, SEED_T0, SEED_T0, 0, 0 },
		{ { "west", 4 }, { "西", 3 }, UNIT_TOWNSHIP, { "east", 4 }, SEED_T0, SEED_T0, 0, 0 },
		{ { "west.1", 6 }, { "西一村", 9 }, UNIT_VILLAGE, { "west", 4 }, SEED_T0, SEED_T0, 0,
		  0 },
	};
	static const struct person_rec people[] = {
		{ { "wang.li", 7 }, { "王丽", 6 }, { "east", 4 }, ROLE_THEME, { NULL, 0 }, SEED_T0,
		  SEED_T0, 0, 0, { NULL, 0 } },
		{ { "li.na", 5 }, { "李娜", 6 }, { "east", 4 }, ROLE_SUPERVISION, { NULL, 0 },
		  SEED_T0, SEED_T0, 0, 0, { NULL, 0 } },
		{ { "ann", 3 }, { "安", 3 }, { "east.v", 6 }, ROLE_CADRE, { NULL, 0 }, SEED_T0,
		  SEED_T0, 0, 0, { NULL, 0 } },
		{ { "bob", 3 }, { "波", 3 }, { "west", 4 }, ROLE_CADRE, { NULL, 0 }, SEED_T0, SEED_T0,
		  0, 0, { NULL, 0 } },
	};
	struct ledger_txn t;
	proto_out o;
	bool ok;

	proto_out_init(&o);
	if (ledger_begin(lg, &t, true) != NT_OK) {
		proto_out_fini(&o);
		return false;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		proto_out_reset(&o);
		rec_encode(&o, &unit_desc, &units[i]);
		ledger_put(&t, DB_UNITS, units[i].id.ptr, units[i].id.len, o.sb.data, o.sb.size,
			   false);
		proto_out_reset(&o);
		rec_encode(&o, &person_desc, &people[i]);
		ledger_put(&t, DB_PEOPLE, people[i].id.ptr, people[i].id.len, o.sb.data, o.sb.size,
			   false);
	}
	ok = ledger_commit(&t) == NT_OK;
	proto_out_fini(&o);
	return ok;
}

#endif
