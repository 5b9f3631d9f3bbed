/*
 * ledger.h - the case ledger in LMDB: the environment, its sub-databases, keys, and a
 * transaction wrapper with a sticky error.
 *
 * Sub-databases (all keys big-endian so that byte order is numeric order):
 *
 *   meta   str -> bytes       format version and other singletons
 *   log    u64 seq -> entry   every accepted change, gap-free, appended (MDB_APPEND)
 *   cases  u64 id -> record   the current state of each case; new ids are appended
 *   history u64 case, u64 seq -> (empty)   which log entries belong to each case
 *   units  unit id -> record
 *   people person id -> record
 *   timers u64 due (Unix ms), u64 timer id -> (empty)   each case's first armed timer,
 *                                                      each milestone's; by due time
 *   reqs   request id -> u64 seq, u64 hash, reply extras   (idempotency index)
 *   keys   CURVE public key (Z85, 40 bytes) -> person id   (key.add; derived from the
 *          people's records, which hold the key too)
 *   households household id -> record
 *   hindex tag, id, NUL, tail -> (empty)   a household's history, households by village
 *          and by cadre, the cases of a household (model.h; derived)
 *
 * The wrapper (struct ledger_txn) records the first LMDB error of a transaction and turns
 * every later call into a no-op, so callers write begin, puts, commit and check once.
 * LMDB error codes are translated to nt_err here and nowhere else.
 *
 * Memory returned by ledger_get() and the iterators points into the map: valid until the
 * next write in the same transaction, or its end. Copy out what must live longer.
 *
 * Durability: the environment is opened without MDB_NOSYNC, MDB_NOMETASYNC, MDB_MAPASYNC
 * or MDB_WRITEMAP, so ledger_commit() returns only after fdatasync of the data file.
 */
#ifndef LEDGER_H
#define LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>

#include "nt_err.h"

enum ledger_db {
	DB_META,
	DB_LOG,
	DB_CASES,
	DB_HIST,
	DB_REQS,
	DB_UNITS,
	DB_PEOPLE,
	DB_TIMERS,
	DB_KEYS,
	DB_HOUSEHOLDS,
	DB_HINDEX,
	DB__N
};

#define LEDGER_FORMAT 5	/* 1: the development versions before units and people; 2: a
			 * case had a key in timers for each armed timer; 3: log entries
			 * without the hash chain; 4: no households (batch_upgrade() brings
			 * 2, 3 and 4 up) */
#define LEDGER_FORMAT_UPGRADABLE 2	/* the oldest format batch_upgrade() brings up */
#define LEDGER_MAX_KEY 136	/* hindex: a tag, two ids, a NUL (model.h) */

struct ledger;

struct ledger_txn {
	struct ledger *lg;
	MDB_txn *txn;
	nt_err err;		/* sticky: first failure, NT_OK while all is well */
	int mdb_rc;		/* the LMDB code behind err, for messages */
	bool write;
	bool idle;		/* a read transaction reset, waiting for ledger_renew() */
};

/*
 * ledger_open - open (creating if needed) the environment in directory dir with a map of
 * mapsize bytes (0: the default), clear stale reader slots, create the sub-databases and
 * check the format version. On success *out is the caller's; free with ledger_close().
 * Returns NT_OK, NT_EIO, NT_ECORRUPT (unknown format), NT_ENOMEM.
 */
nt_err ledger_open(struct ledger **out, const char *dir, size_t mapsize);
/*
 * ledger_open_readonly - open the existing environment in dir for reading only, beside
 * a daemon that may be writing it (the export): no write transaction, nothing created.
 * Returns as ledger_open(), and NT_ECORRUPT when dir holds no nanti ledger (an LMDB
 * environment without its sub-databases or their format).
 */
nt_err ledger_open_readonly(struct ledger **out, const char *dir);
#define LEDGER_MAP_DEFAULT ((size_t)1 << 30)	/* 1 GiB of address space to start */
/* What an operator wants to know of the environment (nanti stats). */
struct ledger_info {
	size_t map_size;	/* the map, bytes */
	size_t used;		/* bytes up to the last page in use */
	size_t file_size;	/* data.mdb on disk */
	unsigned readers;	/* reader slots in use (this process's and others') */
	unsigned max_readers;
};
void ledger_info(struct ledger *lg, struct ledger_info *out);

/* Cap the map: ledger_grow() then stops at max bytes (0: no cap) and returns
 * NT_EMAPFULL once there. */
void ledger_set_max_mapsize(struct ledger *lg, size_t max);

/* The format the ledger was written in: LEDGER_FORMAT, or an older one that ledger_open()
 * accepted because batch_upgrade() brings it up. */
unsigned ledger_format(const struct ledger *lg);
/* Record that the ledger is now in LEDGER_FORMAT (in t, which does the upgrade). */
void ledger_set_format(struct ledger_txn *t);
void ledger_close(struct ledger **lg);
/*
 * ledger_lock_dir - take the exclusive lock of state directory dir (dir/nantid.lock,
 * flock), which nantid holds while it runs and `nanti admin import` while it writes, and
 * write this process's pid into it. On NT_OK *fd holds the lock until closed. NT_ELOCKED:
 * another process holds it (*holder its pid when it wrote one, else 0); NT_ESYS: errno says.
 */
nt_err ledger_lock_dir(const char *dir, int *fd, long *holder);

/* The environment's LMDB flags (mdb_env_get_flags), for checks. */
unsigned ledger_env_flags(const struct ledger *lg);

/* The map size in bytes now, and a request to double it. The calling thread must have no
 * transaction open; read transactions of other threads are waited for. */
size_t ledger_mapsize(const struct ledger *lg);
nt_err ledger_grow(struct ledger *lg);

/* A sentence about the last LMDB failure of t (for logs). */
const char *ledger_txn_strerror(const struct ledger_txn *t);

/* Begin a read or write transaction. Returns NT_OK or the failure (also left in t->err). */
nt_err ledger_begin(struct ledger *lg, struct ledger_txn *t, bool write);
/*
 * A read transaction used again and again: ledger_renew() starts it (the first time it
 * begins one), ledger_reset() ends it but keeps its handle and reader slot, which makes
 * the next renew cheap. ledger_abort() frees it for good.
 */
nt_err ledger_renew(struct ledger *lg, struct ledger_txn *t);
void ledger_reset(struct ledger_txn *t);

/* Commit (write: with full sync); on a sticky error, abort and return it. */
nt_err ledger_commit(struct ledger_txn *t);
/* Abort; harmless on a transaction already ended. */
void ledger_abort(struct ledger_txn *t);

/* Look up key. NT_OK with *val filled, NT_ENOTFOUND, or the sticky error. */
nt_err ledger_get(struct ledger_txn *t, enum ledger_db db, const void *key, size_t klen,
		  MDB_val *val);
/* Store key -> val. append: the key sorts after every key of db (MDB_APPEND).
 * Failures are sticky. */
void ledger_put(struct ledger_txn *t, enum ledger_db db, const void *key, size_t klen,
		const void *val, size_t vlen, bool append);

/* Delete key from db (absent already: fine). Failures are sticky. */
void ledger_del(struct ledger_txn *t, enum ledger_db db, const void *key, size_t klen);

/* The last key of db read as a big-endian u64 (0 if db is empty). */
uint64_t ledger_last_u64(struct ledger_txn *t, enum ledger_db db, MDB_val *val);
/* Entries in db. */
uint64_t ledger_count(struct ledger_txn *t, enum ledger_db db);

/*
 * Iteration over keys >= from (from NULL: the first key), in key order.
 * ledger_iter_next() returns true with key and val filled, false at the end or on error
 * (then t->err says which). Close every iterator before its transaction ends.
 */
struct ledger_iter {
	MDB_cursor *cur;
	struct ledger_txn *t;
	bool started;
	MDB_val from;
	bool reverse;
};
void ledger_iter_init(struct ledger_iter *it, struct ledger_txn *t, enum ledger_db db,
		      const void *from, size_t flen);
/* Iterate backwards from the last key <= from (from NULL: the last key). */
void ledger_iter_init_rev(struct ledger_iter *it, struct ledger_txn *t, enum ledger_db db,
			  const void *from, size_t flen);
bool ledger_iter_next(struct ledger_iter *it, MDB_val *key, MDB_val *val);
void ledger_iter_close(struct ledger_iter *it);

/* Big-endian keys. */
static inline void ledger_key_u64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static inline uint64_t ledger_u64(const void *p)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

static inline void ledger_key_u32(uint8_t out[4], uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static inline uint32_t ledger_u32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

#endif
