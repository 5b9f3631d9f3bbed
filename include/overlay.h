/*
 * overlay.h - the writes that are applied but not yet committed.
 *
 * The loop applies each write request as soon as it arrives (batch_apply()), while
 * earlier groups are still being committed by the writer. Requests must see the effects
 * of those earlier requests: the overlay holds the records they wrote, keyed by database
 * and key, tagged with the ticket of the group that wrote them last. Reads look here
 * first, then in the ledger. When a group is committed its entries are released (the
 * ledger has them now); when a commit fails, everything pending is dropped.
 *
 * Memory: one allocation per entry, holding the key and the value; at most the records
 * of the requests in flight (bounded by the loop's message pool).
 */
#ifndef OVERLAY_H
#define OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

struct overlay;

struct overlay *overlay_new(void);
void overlay_free(struct overlay **ov);

/* One record to add, or (deleted) to remove. */
struct overlay_rec {
	enum ledger_db db;
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
	bool deleted;
};

/* Record recs[0..n) for the group ticket (replacing older values), all or none: on
 * NT_ENOMEM nothing changed. */
nt_err overlay_put(struct overlay *ov, const struct overlay_rec *recs, size_t n,
		   uint64_t ticket);
/* The pending value of db/key, valid until the next overlay call; false if none. A
 * pending delete is found, with val->mv_data NULL. */
bool overlay_get(const struct overlay *ov, enum ledger_db db, const void *key, size_t klen,
		 MDB_val *val);
/* The group ticket committed: drop the entries it was the last to write. */
void overlay_release(struct overlay *ov, uint64_t ticket);
/* Drop everything (a commit failed: nothing pending will be committed). */
void overlay_clear(struct overlay *ov);
/* Entries held, for tests. */
size_t overlay_count(const struct overlay *ov);

#endif
