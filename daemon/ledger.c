/*
 * ledger.c - LMDB behind a small transaction wrapper.
 *
 * Design notes:
 * - One environment, one file (data.mdb) in the state directory, five named databases
 *   (ledger.h). Keys are big-endian integers where the domain allows, so that a batch of
 *   new events appends to the right edge of each B-tree and a commit writes few pages.
 * - Full durability: no MDB_NOSYNC, MDB_NOMETASYNC, MDB_MAPASYNC or MDB_WRITEMAP.
 *   MDB_NOTLS lets a read transaction be used by whichever thread the caller likes and
 *   keeps reader slots tied to transactions, not threads.
 * - The first LMDB error in a transaction sticks (t->err); later calls do nothing. This
 *   is the only file that sees LMDB return codes; ledger_err() translates them.
 * - The map starts at 1 GiB of address space (the file grows only as pages are used) and
 *   doubles on MDB_MAP_FULL: the caller aborts, calls ledger_grow() and retries. Growing
 *   waits for the read transactions of other threads to end (a rwlock), because LMDB
 *   allows mdb_env_set_mapsize() only while none of the process's transactions is open.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"



struct ledger {
	MDB_env *env;
	MDB_dbi dbi[DB__N];
	/* a database a read-only open did not find: one added after the ledger was last
	 * opened for writing (keys); reads of it find nothing */
	bool absent[DB__N];
	size_t mapsize;
	size_t max_mapsize;	/* 0: no cap */
	unsigned format;
	/*
	 * mdb_env_set_mapsize() may only run while no transaction of this process is open,
	 * and reads run on the loop's thread while the commit thread grows the map: read
	 * transactions hold this lock shared, growing holds it exclusively.
	 */
	pthread_rwlock_t grow;
};

static const char *const db_names[DB__N] = {
	[DB_META] = "meta",
	[DB_LOG] = "log",
	[DB_CASES] = "cases",
	[DB_HIST] = "history",
	[DB_REQS] = "reqs",
	[DB_UNITS] = "units",
	[DB_PEOPLE] = "people",
	[DB_TIMERS] = "timers",
	[DB_KEYS] = "keys",
	[DB_HOUSEHOLDS] = "households",
	[DB_HINDEX] = "hindex",
};

static nt_err ledger_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return NT_OK;
	case MDB_NOTFOUND:
		return NT_ENOTFOUND;
	case MDB_MAP_FULL:
		return NT_EMAPFULL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_BAD_TXN:
	case MDB_PANIC:
		return NT_ECORRUPT;
	case MDB_BAD_VALSIZE:
		return NT_ETOOLARGE;
	case ENOMEM:
		return NT_ENOMEM;
	case MDB_KEYEXIST:
		return NT_ECONFLICT;
	default:
		return NT_EIO;
	}
}

static void txn_fail(struct ledger_txn *t, int rc)
{
	if (t->err == NT_OK) {
		t->err = ledger_err(rc);
		t->mdb_rc = rc;
	}
}

const char *ledger_txn_strerror(const struct ledger_txn *t)
{
	return t->mdb_rc ? mdb_strerror(t->mdb_rc) : nt_strerror(t->err);
}

static nt_err open_env(struct ledger **out, const char *dir, size_t mapsize, bool readonly)
{
	struct ledger *lg = NULL;
	struct ledger_txn t = { 0 };
	int rc, dead = 0;
	nt_err err = NT_OK;
	MDB_val ver;

	*out = NULL;
	if ((lg = calloc(1, sizeof *lg)) == NULL)
		return NT_ENOMEM;
	pthread_rwlock_init(&lg->grow, NULL);
	lg->mapsize = mapsize ? mapsize : LEDGER_MAP_DEFAULT;
	if ((rc = mdb_env_create(&lg->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(lg->env, DB__N + 4)) != 0 ||
	    (rc = mdb_env_set_maxreaders(lg->env, 126)) != 0) {
		err = ledger_err(rc);
		goto out;
	}
	/* an existing map may be larger than asked: use its size */
	if ((rc = mdb_env_set_mapsize(lg->env, lg->mapsize)) != 0 ||
	    (rc = mdb_env_open(lg->env, dir, MDB_NOTLS | (readonly ? MDB_RDONLY : 0), 0600)) != 0) {
		err = rc == ENOENT ? NT_EIO : ledger_err(rc);
		errno = rc;
		goto out;
	}
	{
		MDB_envinfo info;

		mdb_env_info(lg->env, &info);
		if (info.me_mapsize > lg->mapsize)
			lg->mapsize = info.me_mapsize;
	}
	mdb_reader_check(lg->env, &dead);

	if ((err = ledger_begin(lg, &t, !readonly)) != NT_OK)
		goto out;
	for (int i = 0; i < DB__N; i++) {
		rc = mdb_dbi_open(t.txn, db_names[i], readonly ? 0 : MDB_CREATE, &lg->dbi[i]);
		if (rc == MDB_NOTFOUND && readonly && i >= DB_KEYS) {
			/* added by a later format than the ledger's: read as empty */
			lg->absent[i] = true;
			continue;
		}
		if (rc != 0) {
			txn_fail(&t, rc);
			break;
		}
	}
	if (t.err == NT_OK) {
		err = ledger_get(&t, DB_META, "format", 6, &ver);
		if (err == NT_ENOTFOUND && readonly) {
			ledger_abort(&t);
			err = NT_ECORRUPT;
			goto out;
		} else if (err == NT_ENOTFOUND) {
			uint8_t v[8];

			ledger_key_u64(v, LEDGER_FORMAT);
			ledger_put(&t, DB_META, "format", 6, v, 8, false);
		} else if (err == NT_OK &&
			   (ver.mv_size != 8 || ledger_u64(ver.mv_data) > LEDGER_FORMAT ||
			    ledger_u64(ver.mv_data) < LEDGER_FORMAT_UPGRADABLE)) {
			ledger_abort(&t);
			err = ver.mv_size == 8 ? NT_EFORMAT : NT_ECORRUPT;
			goto out;
		}
		lg->format = err == NT_OK ? (unsigned)ledger_u64(ver.mv_data) : LEDGER_FORMAT;
	}
	/* committed, even when only read: LMDB closes the handles an aborted txn opened */
	if ((err = ledger_commit(&t)) != NT_OK) {
		if (readonly && err == NT_ENOTFOUND)
			err = NT_ECORRUPT;	/* no such sub-database: not a nanti ledger */
		goto out;
	}
	*out = lg;
	lg = NULL;
out:
	if (lg != NULL) {
		if (lg->env != NULL)
			mdb_env_close(lg->env);
		pthread_rwlock_destroy(&lg->grow);
		free(lg);
	}
	return err;
}

nt_err ledger_open(struct ledger **out, const char *dir, size_t mapsize)
{
	return open_env(out, dir, mapsize, false);
}

nt_err ledger_open_readonly(struct ledger **out, const char *dir)
{
	return open_env(out, dir, 0, true);
}

nt_err ledger_lock_dir(const char *dir, int *fd, long *holder)
{
	char path[PATH_MAX], pid[32];
	ssize_t n;
	int saved;

	*holder = 0;
	snprintf(path, sizeof path, "%s/nantid.lock", dir);
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return NT_ESYS;
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		saved = errno;
		n = pread(*fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		*holder = strtol(pid, NULL, 10);
		close(*fd);
		*fd = -1;
		errno = saved;
		return saved == EWOULDBLOCK ? NT_ELOCKED : NT_ESYS;
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)n, 0) != n)
		(void)0;	/* the pid is a courtesy for the message above; the lock holds */
	return NT_OK;
}

void ledger_close(struct ledger **lgp)
{
	if (lgp == NULL || *lgp == NULL)
		return;
	mdb_env_close((*lgp)->env);
	pthread_rwlock_destroy(&(*lgp)->grow);
	free(*lgp);
	*lgp = NULL;
}

unsigned ledger_env_flags(const struct ledger *lg)
{
	unsigned flags = 0;

	mdb_env_get_flags(lg->env, &flags);
	return flags;
}

size_t ledger_mapsize(const struct ledger *lg)
{
	return lg->mapsize;
}

void ledger_set_max_mapsize(struct ledger *lg, size_t max)
{
	lg->max_mapsize = max;
}

nt_err ledger_grow(struct ledger *lg)
{
	size_t want = lg->mapsize * 2;
	int rc;

	if (lg->max_mapsize != 0 && want > lg->max_mapsize) {
		if (lg->mapsize >= lg->max_mapsize)
			return NT_EMAPFULL;	/* at the cap */
		want = lg->max_mapsize;
	}
	pthread_rwlock_wrlock(&lg->grow);
	rc = mdb_env_set_mapsize(lg->env, want);
	if (rc == 0)
		lg->mapsize = want;
	pthread_rwlock_unlock(&lg->grow);
	return ledger_err(rc);
}

nt_err ledger_begin(struct ledger *lg, struct ledger_txn *t, bool write)
{
	int rc;

	memset(t, 0, sizeof *t);
	t->lg = lg;
	t->write = write;
	if (!write)
		pthread_rwlock_rdlock(&lg->grow);
	rc = mdb_txn_begin(lg->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size and try again */
		mdb_env_set_mapsize(lg->env, 0);
		rc = mdb_txn_begin(lg->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	}
	if (rc != 0) {
		t->txn = NULL;
		txn_fail(t, rc);
		if (!write)
			pthread_rwlock_unlock(&lg->grow);
	}
	return t->err;
}

nt_err ledger_renew(struct ledger *lg, struct ledger_txn *t)
{
	int rc;

	if (t->txn == NULL || !t->idle)
		return ledger_begin(lg, t, false);
	pthread_rwlock_rdlock(&lg->grow);
	t->err = NT_OK;
	t->mdb_rc = 0;
	if ((rc = mdb_txn_renew(t->txn)) != 0) {
		mdb_txn_abort(t->txn);
		t->txn = NULL;
		pthread_rwlock_unlock(&lg->grow);
		txn_fail(t, rc);
		return t->err;
	}
	t->idle = false;
	return NT_OK;
}

void ledger_reset(struct ledger_txn *t)
{
	if (t->txn == NULL || t->idle || t->write)
		return;
	mdb_txn_reset(t->txn);
	t->idle = true;
	pthread_rwlock_unlock(&t->lg->grow);
}

nt_err ledger_commit(struct ledger_txn *t)
{
	int rc;

	if (t->txn == NULL)
		return t->err != NT_OK ? t->err : NT_EINTERNAL;
	if (t->err != NT_OK) {
		ledger_abort(t);
		return t->err;
	}
	rc = mdb_txn_commit(t->txn);
	t->txn = NULL;
	if (!t->write)
		pthread_rwlock_unlock(&t->lg->grow);
	if (rc != 0)
		txn_fail(t, rc);
	return t->err;
}

void ledger_abort(struct ledger_txn *t)
{
	if (t->txn != NULL) {
		mdb_txn_abort(t->txn);
		t->txn = NULL;
		if (!t->write && !t->idle)
			pthread_rwlock_unlock(&t->lg->grow);
		t->idle = false;
	}
}

nt_err ledger_get(struct ledger_txn *t, enum ledger_db db, const void *key, size_t klen,
		  MDB_val *val)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	int rc;

	if (t->err != NT_OK)
		return t->err;
	if (t->lg->absent[db])
		return NT_ENOTFOUND;
	rc = mdb_get(t->txn, t->lg->dbi[db], &k, val);
	if (rc == MDB_NOTFOUND)
		return NT_ENOTFOUND;
	if (rc != 0)
		txn_fail(t, rc);
	return t->err;
}

void ledger_put(struct ledger_txn *t, enum ledger_db db, const void *key, size_t klen,
		const void *val, size_t vlen, bool append)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	MDB_val v = { vlen, (void *)(uintptr_t)val };
	int rc;

	if (t->err != NT_OK)
		return;
	rc = mdb_put(t->txn, t->lg->dbi[db], &k, &v, append ? MDB_APPEND : 0);
	if (rc != 0)
		txn_fail(t, rc);
}

void ledger_del(struct ledger_txn *t, enum ledger_db db, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)(uintptr_t)key };
	int rc;

	if (t->err != NT_OK)
		return;
	rc = mdb_del(t->txn, t->lg->dbi[db], &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		txn_fail(t, rc);
}

uint64_t ledger_last_u64(struct ledger_txn *t, enum ledger_db db, MDB_val *val)
{
	struct ledger_iter it;
	MDB_val k, v;
	uint64_t last = 0;

	ledger_iter_init_rev(&it, t, db, NULL, 0);
	if (ledger_iter_next(&it, &k, &v) && k.mv_size >= 8) {
		last = ledger_u64(k.mv_data);
		if (val != NULL)
			*val = v;
	}
	ledger_iter_close(&it);
	return last;
}

uint64_t ledger_count(struct ledger_txn *t, enum ledger_db db)
{
	MDB_stat st;

	if (t->err != NT_OK || t->lg->absent[db] || mdb_stat(t->txn, t->lg->dbi[db], &st) != 0)
		return 0;
	return st.ms_entries;
}

static void iter_open(struct ledger_iter *it, struct ledger_txn *t, enum ledger_db db,
		      const void *from, size_t flen, bool reverse)
{
	int rc;

	memset(it, 0, sizeof *it);
	it->t = t;
	it->reverse = reverse;
	it->from.mv_data = (void *)(uintptr_t)from;
	it->from.mv_size = flen;
	if (t->err != NT_OK || t->lg->absent[db])
		return;
	if ((rc = mdb_cursor_open(t->txn, t->lg->dbi[db], &it->cur)) != 0) {
		it->cur = NULL;
		txn_fail(t, rc);
	}
}

void ledger_iter_init(struct ledger_iter *it, struct ledger_txn *t, enum ledger_db db,
		      const void *from, size_t flen)
{
	iter_open(it, t, db, from, flen, false);
}

void ledger_iter_init_rev(struct ledger_iter *it, struct ledger_txn *t, enum ledger_db db,
			  const void *from, size_t flen)
{
	iter_open(it, t, db, from, flen, true);
}

bool ledger_iter_next(struct ledger_iter *it, MDB_val *key, MDB_val *val)
{
	int rc;

	if (it->cur == NULL)
		return false;
	if (it->started) {
		rc = mdb_cursor_get(it->cur, key, val, it->reverse ? MDB_PREV : MDB_NEXT);
	} else if (it->from.mv_data == NULL) {
		rc = mdb_cursor_get(it->cur, key, val, it->reverse ? MDB_LAST : MDB_FIRST);
	} else {
		*key = it->from;
		rc = mdb_cursor_get(it->cur, key, val, MDB_SET_RANGE);
		if (it->reverse) {
			/* the last key <= from */
			if (rc == MDB_NOTFOUND)
				rc = mdb_cursor_get(it->cur, key, val, MDB_LAST);
			else if (rc == 0 && (key->mv_size != it->from.mv_size ||
					     memcmp(key->mv_data, it->from.mv_data, key->mv_size)))
				rc = mdb_cursor_get(it->cur, key, val, MDB_PREV);
		}
	}
	it->started = true;
	if (rc == MDB_NOTFOUND)
		return false;
	if (rc != 0) {
		txn_fail(it->t, rc);
		return false;
	}
	return true;
}

void ledger_iter_close(struct ledger_iter *it)
{
	if (it->cur != NULL) {
		mdb_cursor_close(it->cur);
		it->cur = NULL;
	}
}

unsigned ledger_format(const struct ledger *lg)
{
	return lg->format;
}

void ledger_set_format(struct ledger_txn *t)
{
	uint8_t v[8];

	ledger_key_u64(v, LEDGER_FORMAT);
	ledger_put(t, DB_META, "format", 6, v, 8, false);
	if (t->err == NT_OK)
		t->lg->format = LEDGER_FORMAT;
}

static int count_reader(const char *msg, void *ctx)
{
	(void)msg;
	(*(unsigned *)ctx)++;
	return 0;
}

void ledger_info(struct ledger *lg, struct ledger_info *out)
{
	MDB_envinfo ei;
	MDB_stat st;
	const char *path = NULL;
	char file[PATH_MAX];
	struct stat fst;

	memset(out, 0, sizeof *out);
	if (mdb_env_info(lg->env, &ei) != 0 || mdb_env_stat(lg->env, &st) != 0)
		return;
	out->map_size = ei.me_mapsize;
	out->used = (ei.me_last_pgno + 1) * (size_t)st.ms_psize;
	out->max_readers = ei.me_maxreaders;
	/* mdb_reader_list prints a header line, then one line per reader slot in use */
	mdb_reader_list(lg->env, count_reader, &out->readers);
	if (out->readers > 0)
		out->readers--;
	if (mdb_env_get_path(lg->env, &path) == 0 && path != NULL &&
	    snprintf(file, sizeof file, "%s/data.mdb", path) < (int)sizeof file &&
	    stat(file, &fst) == 0)
		out->file_size = (size_t)fst.st_size;
}
