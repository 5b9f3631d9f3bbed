/*
 * test_peers.c - requests in flight per connection: the cap, the counts of many
 * connections side by side, and the table emptying itself as they are answered.
 */
#include <stdlib.h>
#include <string.h>

#include "peers.h"
#include "../tap.h"

static struct peers *fresh(void)
{
	return calloc(1, sizeof(struct peers));
}

static void a_connection_is_refused_past_the_cap_and_admitted_again_as_it_is_answered(void)
{
	struct peers *p = fresh();
	uint64_t a = peers_key("\0\x8b\x45\x67\x01", 5), b = peers_key("\0\x8b\x45\x67\x02", 5);

	for (int i = 0; i < PEERS_MAX_IN_FLIGHT; i++)
		CHECK(peers_take(p, a));
	CHECK(!peers_take(p, a));
	CHECK(peers_count(p, a) == PEERS_MAX_IN_FLIGHT);
	CHECK(peers_take(p, b) && peers_count(p, b) == 1);	/* the others keep their share */
	peers_give(p, a);
	CHECK(peers_take(p, a) && !peers_take(p, a));
	for (int i = 0; i < PEERS_MAX_IN_FLIGHT; i++)
		peers_give(p, a);
	peers_give(p, b);
	CHECK(peers_count(p, a) == 0 && peers_count(p, b) == 0 && p->used == 0);
	free(p);
}

static void many_connections_coming_and_going_keep_exact_counts_and_leave_the_table_empty(void)
{
	struct peers *p = fresh();
	enum { N = 2000 };
	static uint32_t want[N];
	uint64_t keys[N];
	unsigned seed = 7;

	memset(want, 0, sizeof want);
	for (int i = 0; i < N; i++)
		keys[i] = peers_key(&i, sizeof i);
	for (int round = 0; round < 200000; round++) {
		int i = (int)((seed = seed * 1103515245u + 12345u) >> 8) % N;
		bool take = want[i] == 0 || ((seed >> 3) & 1);

		if (take && want[i] < 3) {
			CHECK(peers_take(p, keys[i]));
			want[i]++;
		} else if (want[i] > 0) {
			peers_give(p, keys[i]);
			want[i]--;
		}
	}
	for (int i = 0; i < N; i++)
		if (peers_count(p, keys[i]) != want[i]) {
			CHECK(peers_count(p, keys[i]) == want[i]);
			break;
		}
	for (int i = 0; i < N; i++)
		while (want[i]-- > 0)
			peers_give(p, keys[i]);
	CHECK(p->used == 0);
	for (size_t s = 0; s < PEERS_SLOTS; s++)
		if (p->slot[s].key != 0) {
			CHECK(p->slot[s].key == 0);
			break;
		}
	free(p);
}

int main(void)
{
	RUN(a_connection_is_refused_past_the_cap_and_admitted_again_as_it_is_answered);
	RUN(many_connections_coming_and_going_keep_exact_counts_and_leave_the_table_empty);
	return tap_done();
}
