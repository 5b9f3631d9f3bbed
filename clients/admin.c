/*
 * admin.c - nanti admin backup and restore (admin.h).
 *
 * A backup is LMDB's compacting copy (mdb_env_copyfd2 with MDB_CP_COMPACT) of the
 * environment, opened read-only in this process: the copy runs in one read transaction,
 * which sees the ledger as of its start, while the daemon goes on committing (LMDB keeps
 * the pages the reader needs; the file may grow meanwhile). Nothing in the daemon waits
 * for it. The copy is one file, a complete LMDB data file, written to FILE.tmp, synced,
 * renamed to FILE, and the directory synced: a FILE that exists is whole.
 *
 * A restore is the reverse: the file copied to STATE/data.mdb, into a state directory
 * that has no ledger yet (the daemon is stopped, or points elsewhere); the next nantid
 * starts on it as on any ledger.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "cli.h"
#include "ledger.h"

#define STATE_HELP "the daemon's state directory (default: $STATE_DIRECTORY, else " \
		   "$XDG_STATE_HOME/nanti, else ./var/lib, as nantid)"

const struct args_spec admin_backup_spec[ADMIN_NSPEC] = {
	{ "FILE", ARGS_STR, NULL, "where to write the copy (one file; it must not exist)",
	  { .key = NULL } },
	{ "--state-dir", ARGS_STR, "DIR", STATE_HELP, { .key = NULL } },
};
const struct args_spec admin_restore_spec[ADMIN_NSPEC] = {
	{ "FILE", ARGS_STR, NULL, "a copy made by nanti admin backup", { .key = NULL } },
	{ "--state-dir", ARGS_STR, "DIR", STATE_HELP " (it must hold no ledger)",
	  { .key = NULL } },
};

/* The state directory: --state-dir, else where nantid looks by default. */
static void state_dir(const struct run *r, char *dst, size_t size)
{
	const struct args_val *v = args_find(r->t, "--state-dir");
	const char *e;

	if (v->set)
		snprintf(dst, size, "%s", v->s);
	else if ((e = getenv("STATE_DIRECTORY")) != NULL && *e)
		snprintf(dst, size, "%.*s", (int)strcspn(e, ":"), e);
	else if ((e = getenv("XDG_STATE_HOME")) != NULL && *e)
		snprintf(dst, size, "%s/nanti", e);
	else
		snprintf(dst, size, "./var/lib");
}

/* The last seq in the log of the LMDB environment env (0: empty); false if unreadable. */
static bool last_seq(MDB_env *env, uint64_t *seq)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*seq = 0;
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		return false;
	rc = mdb_dbi_open(txn, "log", 0, &dbi);
	if (rc == 0 && (rc = mdb_cursor_open(txn, dbi, &cur)) == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		if (rc == 0 && k.mv_size == 8)
			*seq = ledger_u64(k.mv_data);
		if (rc == MDB_NOTFOUND)
			rc = 0;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc == 0 || rc == MDB_NOTFOUND;
}

/* Open the environment at path read-only (flags: MDB_NOSUBDIR for a single file). */
static MDB_env *open_ro(const char *path, unsigned flags)
{
	MDB_env *env;

	if (mdb_env_create(&env) != 0)
		return NULL;
	mdb_env_set_maxdbs(env, 16);
	if (mdb_env_open(env, path, MDB_RDONLY | flags, 0600) != 0) {
		mdb_env_close(env);
		return NULL;
	}
	return env;
}

/* Sync the directory holding path, so that a rename in it is durable. */
static void sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);
		close(fd);
	}
}

int admin_backup_run(struct run *r)
{
	const char *file = args_find(r->t, "FILE")->s;
	char dir[PATH_MAX], tmp[PATH_MAX + 8];
	struct stat st;
	MDB_env *env, *copy;
	uint64_t seq = 0;
	int fd, rc;

	state_dir(r, dir, sizeof dir);
	if (stat(file, &st) == 0) {
		cli_warn("admin backup: %s exists: give a new file", file);
		return CLI_USAGE;
	}
	if ((env = open_ro(dir, 0)) == NULL) {
		cli_warn("admin backup: cannot open the ledger in %s: %s", dir, strerror(errno));
		return CLI_LOCAL;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		cli_warn("admin backup: %s: %s", tmp, strerror(errno));
		mdb_env_close(env);
		return CLI_LOCAL;
	}
	rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
	mdb_env_close(env);
	if (rc != 0 || fsync(fd) != 0 || close(fd) != 0) {
		cli_warn("admin backup: writing %s failed: %s", tmp,
			 rc != 0 ? mdb_strerror(rc) : strerror(errno));
		unlink(tmp);
		return CLI_LOCAL;
	}
	if (rename(tmp, file) != 0) {
		cli_warn("admin backup: %s: %s", file, strerror(errno));
		unlink(tmp);
		return CLI_LOCAL;
	}
	sync_dir_of(file);
	/* what the copy holds, read from the copy itself */
	if ((copy = open_ro(file, MDB_NOSUBDIR | MDB_NOLOCK)) == NULL || !last_seq(copy, &seq)) {
		cli_warn("admin backup: %s was written but cannot be read back", file);
		if (copy != NULL)
			mdb_env_close(copy);
		return CLI_LOCAL;
	}
	mdb_env_close(copy);
	stat(file, &st);
	if (r->conf->json)
		printf("{\"ok\": true, \"file\": \"%s\", \"seq\": %" PRIu64 ", \"bytes\": %lld}\n",
		       file, seq, (long long)st.st_size);
	else
		printf("backed up %s to %s: %.1f MB, the ledger up to seq %" PRIu64 "\n", dir, file,
		       (double)st.st_size / 1048576.0, seq);
	return CLI_OK;
}

int admin_restore_run(struct run *r)
{
	const char *file = args_find(r->t, "FILE")->s;
	char dir[PATH_MAX], data[PATH_MAX + 16], tmp[PATH_MAX + 24], buf[1 << 16];
	struct stat st;
	MDB_env *copy;
	uint64_t seq = 0;
	int in, out;
	ssize_t n;

	state_dir(r, dir, sizeof dir);
	if ((copy = open_ro(file, MDB_NOSUBDIR | MDB_NOLOCK)) == NULL || !last_seq(copy, &seq)) {
		cli_warn("admin restore: %s is not a ledger copy", file);
		if (copy != NULL)
			mdb_env_close(copy);
		return CLI_USAGE;
	}
	mdb_env_close(copy);
	snprintf(data, sizeof data, "%s/data.mdb", dir);
	if (stat(data, &st) == 0) {
		cli_warn("admin restore: %s already holds a ledger: restore into an empty state "
			 "directory (move this one aside first)", dir);
		return CLI_USAGE;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		cli_warn("admin restore: %s: %s", dir, strerror(errno));
		return CLI_LOCAL;
	}
	snprintf(tmp, sizeof tmp, "%s/data.mdb.tmp", dir);
	if ((in = open(file, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		cli_warn("admin restore: %s", strerror(errno));
		if (in >= 0)
			close(in);
		return CLI_LOCAL;
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	if (n < 0 || fsync(out) != 0 || close(out) != 0 || rename(tmp, data) != 0) {
		cli_warn("admin restore: writing %s failed: %s", data, strerror(errno));
		unlink(tmp);
		return CLI_LOCAL;
	}
	sync_dir_of(data);
	if (r->conf->json)
		printf("{\"ok\": true, \"state_dir\": \"%s\", \"seq\": %" PRIu64 "}\n", dir, seq);
	else
		printf("restored %s into %s: the ledger up to seq %" PRIu64 "; start nantid on it\n",
		       file, dir, seq);
	return CLI_OK;
}
