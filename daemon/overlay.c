/*
 * overlay.c - pending writes: a chained hash table plus a list in ticket order.
 *
 * Tickets only grow, and an entry rewritten by a later group moves to the tail of the
 * list with the later ticket, so the list is always sorted by ticket and releasing a
 * committed group pops entries from the head.
 *
 * The records of one request are allocated in one block, freed when its last entry goes.
 */
#include <stdlib.h>
#include <string.h>

#include "overlay.h"
#include "proto.h"

#define BUCKETS 8192	/* power of two; the pool bounds entries to a few thousand */

struct block {
	size_t live;			/* entries of the block still in the overlay */
};

struct entry {
	struct block *block;		/* the allocation it lives in */
	struct entry *chain;		/* next in the bucket */
	struct entry *prev, *next;	/* the ticket-ordered list */
	uint64_t ticket;
	size_t bucket;
	enum ledger_db db;
	uint32_t klen;
	size_t vlen;
	bool deleted;			/* a pending delete: no value */
	uint8_t data[];			/* key, then value */
};

struct overlay {
	struct entry *bucket[BUCKETS];
	struct entry *head, *tail;
	size_t count;
};

static size_t bucket_of(enum ledger_db db, const void *key, size_t klen)
{
	return (size_t)proto_hash(key, klen, (uint64_t)db) & (BUCKETS - 1);
}

static struct entry **find_in(struct overlay *ov, size_t b, enum ledger_db db, const void *key,
			      size_t klen)
{
	struct entry **e = &ov->bucket[b];

	while (*e != NULL && ((*e)->db != db || (*e)->klen != klen ||
			      memcmp((*e)->data, key, klen) != 0))
		e = &(*e)->chain;
	return e;
}

static struct entry **find(struct overlay *ov, enum ledger_db db, const void *key, size_t klen)
{
	return find_in(ov, bucket_of(db, key, klen), db, key, klen);
}

static void list_unlink(struct overlay *ov, struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		ov->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		ov->tail = e->prev;
}

static void list_append(struct overlay *ov, struct entry *e)
{
	e->next = NULL;
	e->prev = ov->tail;
	if (ov->tail != NULL)
		ov->tail->next = e;
	else
		ov->head = e;
	ov->tail = e;
}

struct overlay *overlay_new(void)
{
	return calloc(1, sizeof(struct overlay));
}

void overlay_free(struct overlay **ov)
{
	if (ov == NULL || *ov == NULL)
		return;
	overlay_clear(*ov);
	free(*ov);
	*ov = NULL;
}

static size_t entry_size(const struct overlay_rec *r)
{
	size_t n = sizeof(struct entry) + r->klen + (r->deleted ? 0 : r->vlen);

	return (n + 7) & ~(size_t)7;
}

static void entry_free(struct overlay *ov, struct entry *e)
{
	list_unlink(ov, e);
	ov->count--;
	if (--e->block->live == 0)
		free(e->block);
}

nt_err overlay_put(struct overlay *ov, const struct overlay_rec *recs, size_t n,
		   uint64_t ticket)
{
	size_t size = sizeof(struct block);
	struct block *blk;
	char *p;

	if (n == 0)
		return NT_OK;
	for (size_t i = 0; i < n; i++)
		size += entry_size(&recs[i]);
	/* one allocation, before anything changes: all or none */
	if ((blk = malloc(size)) == NULL)
		return NT_ENOMEM;
	blk->live = n;
	p = (char *)(blk + 1);
	for (size_t i = 0; i < n; i++) {
		const struct overlay_rec *r = &recs[i];
		size_t b = bucket_of(r->db, r->key, r->klen);
		struct entry **slot = find_in(ov, b, r->db, r->key, r->klen), *old = *slot;
		struct entry *e = (struct entry *)(void *)p;

		p += entry_size(r);
		e->block = blk;
		e->ticket = ticket;
		e->bucket = b;
		e->db = r->db;
		e->klen = (uint32_t)r->klen;
		e->vlen = r->deleted ? 0 : r->vlen;
		e->deleted = r->deleted;
		memcpy(e->data, r->key, r->klen);
		if (e->vlen > 0)
			memcpy(e->data + r->klen, r->val, r->vlen);
		if (old != NULL) {
			e->chain = old->chain;
			entry_free(ov, old);
		} else {
			e->chain = NULL;
		}
		*slot = e;
		list_append(ov, e);
		ov->count++;
	}
	return NT_OK;
}

bool overlay_get(const struct overlay *ov, enum ledger_db db, const void *key, size_t klen,
		 MDB_val *val)
{
	struct entry *const *e = find((struct overlay *)(uintptr_t)ov, db, key, klen);

	if (*e == NULL)
		return false;
	val->mv_data = (*e)->deleted ? NULL : (*e)->data + (*e)->klen;
	val->mv_size = (*e)->vlen;
	return true;
}

static void drop(struct overlay *ov, struct entry *e)
{
	struct entry **slot = find_in(ov, e->bucket, e->db, e->data, e->klen);

	*slot = e->chain;
	entry_free(ov, e);
}

void overlay_release(struct overlay *ov, uint64_t ticket)
{
	while (ov->head != NULL && ov->head->ticket <= ticket)
		drop(ov, ov->head);
}

void overlay_clear(struct overlay *ov)
{
	while (ov->head != NULL)
		drop(ov, ov->head);
}

size_t overlay_count(const struct overlay *ov)
{
	return ov->count;
}
