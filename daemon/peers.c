/*
 * peers.c - requests in flight per connection (peers.h): an open-addressing hash table
 * with linear probing, whose entries go when their count falls to zero (deletion by
 * shifting the entries after it back, so that no tombstones build up over months of
 * connections coming and going). No allocation: the table lives in the daemon's struct.
 */
#include "peers.h"
#include "proto.h"

#define MASK (PEERS_SLOTS - 1)

uint64_t peers_key(const void *id, size_t len)
{
	uint64_t h = proto_hash(id, len, PROTO_HASH_SEED);

	return h != 0 ? h : 1;
}

/* The slot of key, or of the empty slot where it would go. */
static size_t find(const struct peers *p, uint64_t key)
{
	size_t i = (size_t)(key ^ key >> 29) & MASK;

	while (p->slot[i].key != 0 && p->slot[i].key != key)
		i = (i + 1) & MASK;
	return i;
}

bool peers_take(struct peers *p, uint64_t key)
{
	size_t i = find(p, key);

	if (p->slot[i].key == 0) {
		if (p->used >= PEERS_SLOTS / 2)
			return false;	/* cannot happen with the daemon's pool; refuse safely */
		p->slot[i].key = key;
		p->slot[i].n = 0;
		p->used++;
	}
	if (p->slot[i].n >= PEERS_MAX_IN_FLIGHT)
		return false;
	p->slot[i].n++;
	return true;
}

void peers_give(struct peers *p, uint64_t key)
{
	size_t i = find(p, key), j;

	if (p->slot[i].key == 0 || --p->slot[i].n > 0)
		return;
	/* remove i; move back each later entry of the run that may not stay behind the hole */
	p->slot[i].key = 0;
	p->used--;
	for (j = (i + 1) & MASK; p->slot[j].key != 0; j = (j + 1) & MASK) {
		size_t home = (size_t)(p->slot[j].key ^ p->slot[j].key >> 29) & MASK;

		/* the entry at j may move to the hole at i if its home is not in (i, j] */
		if (((j - home) & MASK) >= ((j - i) & MASK)) {
			p->slot[i] = p->slot[j];
			p->slot[j].key = 0;
			i = j;
		}
	}
}

uint32_t peers_count(const struct peers *p, uint64_t key)
{
	size_t i = find(p, key);

	return p->slot[i].key == key ? p->slot[i].n : 0;
}
