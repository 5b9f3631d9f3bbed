/*
 * peers.h - how many requests each connection has in flight (daemon/peers.c).
 *
 * The daemon holds at most a fixed pool of requests at once. Without a limit per
 * connection, one client pipelining thousands of requests would take the whole pool and
 * every other client would wait behind it; with one, a connection past PEERS_MAX_IN_FLIGHT
 * has its next request answered at once with `unavailable` (docs/protocol.md section 5),
 * and the others keep their share.
 *
 * A connection is known by its ROUTER routing id, which the table keeps as a 64-bit hash:
 * two connections whose ids collide share one count, which can only make the limit
 * stricter for them. Only connections with requests in flight have an entry, so the table
 * never holds more entries than the pool holds requests.
 */
#ifndef PEERS_H
#define PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PEERS_MAX_IN_FLIGHT 512		/* requests one connection may have held at once */
#define PEERS_MAX_STR "512"		/* the same, for messages */
#define PEERS_SLOTS 8192		/* a power of two, above twice the daemon's pool */

struct peers {
	struct peer_slot {
		uint64_t key;		/* the routing id's hash; 0: empty */
		uint32_t n;		/* its requests in flight */
	} slot[PEERS_SLOTS];
	size_t used;
};

/* The key of routing id id[0..len) (never 0). */
uint64_t peers_key(const void *id, size_t len);
/* Count one more request in flight for key, unless it has PEERS_MAX_IN_FLIGHT already or
 * the table is full: then false, and nothing is counted. */
bool peers_take(struct peers *p, uint64_t key);
/* One request of key is answered. */
void peers_give(struct peers *p, uint64_t key);
/* Requests in flight for key. */
uint32_t peers_count(const struct peers *p, uint64_t key);

#endif
