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
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "chain.h"
#include "cli.h"
#include "dump.h"
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

const struct args_spec admin_export_spec[ADMIN_NSPEC] = {
	{ "FILE", ARGS_STR, NULL, "where to write the export (it must not exist), or - for "
	  "standard output", { .key = NULL } },
	{ "--state-dir", ARGS_STR, "DIR", STATE_HELP, { .key = NULL } },
};
const struct args_spec admin_import_spec[ADMIN_IMPORT_NSPEC] = {
	{ "FILE", ARGS_STR, NULL, "an export made by nanti admin export, or - for standard "
	  "input", { .key = NULL } },
	{ "--state-dir", ARGS_STR, "DIR", STATE_HELP " (it must hold no ledger)",
	  { .key = NULL } },
	{ "--map-size", ARGS_UINT, "MB", "the new ledger's map to begin with, doubled as the "
	  "import needs (default: the file's size, at least 1024)", { .key = NULL } },
};

const struct args_spec admin_verify_spec[ADMIN_NSPEC - 1] = {
	{ "--state-dir", ARGS_STR, "DIR", STATE_HELP, { .key = NULL } },
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

void admin_sync_dir_of(const char *path)
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
	admin_sync_dir_of(file);
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
	admin_sync_dir_of(data);
	if (r->conf->json)
		printf("{\"ok\": true, \"state_dir\": \"%s\", \"seq\": %" PRIu64 "}\n", dir, seq);
	else
		printf("restored %s into %s: the ledger up to seq %" PRIu64 "; start nantid on it\n",
		       file, dir, seq);
	return CLI_OK;
}

static void print_counts(const struct run *r, const char *verb, const char *what,
			 const struct dump_counts *n)
{
	if (r->conf->json)
		printf("{\"ok\": true, \"lines\": %" PRIu64 ", \"entries\": %" PRIu64
		       ", \"units\": %" PRIu64 ", \"people\": %" PRIu64 ", \"cases\": %" PRIu64
		       ", \"households\": %" PRIu64 ", \"requests\": %" PRIu64 ", \"seq\": %"
		       PRIu64 "}\n", n->lines, n->entries, n->units, n->people, n->cases,
		       n->households, n->requests, n->last_seq);
	else
		printf("%s %s: %" PRIu64 " log entries (up to seq %" PRIu64 "), %" PRIu64
		       " units, %" PRIu64 " people, %" PRIu64 " cases, %" PRIu64 " households, %"
		       PRIu64 " request ids\n", verb, what, n->entries, n->last_seq, n->units,
		       n->people, n->cases, n->households, n->requests);
}

int admin_out_open(const char *what, const char *file, char *tmp, size_t tmplen, bool excl,
		   unsigned mode, FILE **f)
{
	int fd;

	if (strcmp(file, "-") == 0) {
		*f = stdout;
		return CLI_OK;
	}
	if (snprintf(tmp, tmplen, "%s.tmp", file) >= (int)tmplen) {
		cli_warn("%s: the file name is too long", what);
		return CLI_USAGE;
	}
	/* the mode set again for a FILE.tmp left by a crash: an export holds petitioners' and
	 * households' personal data (ADMIN_PRIVATE), and must not keep a wider mode */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC),
		       (mode_t)mode)) < 0 || fchmod(fd, (mode_t)mode) != 0 ||
	    (*f = fdopen(fd, "w")) == NULL) {
		cli_warn("%s: %s: %s", what, tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return CLI_LOCAL;
	}
	return CLI_OK;
}

int admin_out_close(const char *what, const char *file, const char *tmp, FILE *f, int rc)
{
	if (f == stdout)
		return rc;
	if (rc == CLI_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
		cli_warn("%s: writing %s failed: %s", what, tmp, strerror(errno));
		rc = CLI_LOCAL;
	}
	if (fclose(f) != 0 && rc == CLI_OK) {
		cli_warn("%s: writing %s failed: %s", what, tmp, strerror(errno));
		rc = CLI_LOCAL;
	}
	if (rc == CLI_OK && rename(tmp, file) != 0) {
		cli_warn("%s: %s: %s", what, file, strerror(errno));
		rc = CLI_LOCAL;
	}
	if (rc != CLI_OK)
		unlink(tmp);
	else
		admin_sync_dir_of(file);
	return rc;
}

int admin_export_run(struct run *r)
{
	const char *file = args_find(r->t, "FILE")->s;
	bool out_stdout = strcmp(file, "-") == 0;
	char dir[PATH_MAX], tmp[PATH_MAX + 8], why[PROTO_WHY] = "";
	struct ledger *lg = NULL;
	struct dump_counts n;
	struct timespec ts;
	struct stat st;
	FILE *f = stdout;
	nt_err rc;
	int cr;

	state_dir(r, dir, sizeof dir);
	if (!out_stdout && stat(file, &st) == 0) {
		cli_warn("admin export: %s exists: give a new file", file);
		return CLI_USAGE;
	}
	if ((rc = ledger_open_readonly(&lg, dir)) != NT_OK) {
		cli_warn("admin export: cannot open the ledger in %s: %s", dir,
			 rc == NT_EIO ? strerror(errno) : nt_strerror(rc));
		return CLI_LOCAL;
	}
	if ((cr = admin_out_open("admin export", file, tmp, sizeof tmp, true, ADMIN_PRIVATE,
				  &f)) != CLI_OK) {
		ledger_close(&lg);
		return cr;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	rc = dump_export(lg, f, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &n, why,
			 sizeof why);
	ledger_close(&lg);
	if (rc != NT_OK)
		cli_warn("admin export: %s", why[0] ? why : nt_strerror(rc));
	if ((cr = admin_out_close("admin export", file, tmp, f, rc == NT_OK ? CLI_OK : CLI_LOCAL))
	    != CLI_OK)
		return cr;
	if (!out_stdout)
		print_counts(r, "exported", file, &n);
	return CLI_OK;
}

/* A seekable stream of the export at path ("-": standard input). One that cannot seek (a
 * pipe, a FIFO) is first copied into an unnamed file in dir, so that the import can read
 * it again after growing the map. NULL with errno set. */
static FILE *open_input(const char *path, const char *dir)
{
	char buf[1 << 16];
	ssize_t n = 0;
	int in, fd;
	FILE *f;

	in = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return NULL;
	if (lseek(in, 0, SEEK_CUR) >= 0) {
		if ((f = fdopen(in, "r")) == NULL)
			close(in);
		return f;
	}
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0) {
		while ((n = read(in, buf, sizeof buf)) > 0)
			if (write(fd, buf, (size_t)n) != n) {
				n = -1;
				break;
			}
	}
	close(in);
	if (fd < 0 || n < 0 || lseek(fd, 0, SEEK_SET) != 0 || (f = fdopen(fd, "r")) == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return f;
}

int admin_import_run(struct run *r)
{
	const char *file = args_find(r->t, "FILE")->s;
	char dir[PATH_MAX], data[PATH_MAX + 16], lock[PATH_MAX + 16], why[PROTO_WHY] = "";
	struct ledger *lg = NULL;
	struct dump_counts n;
	struct stat st;
	long holder;
	int lockfd = -1, ret = CLI_LOCAL;
	const struct args_val *map_mb = args_find(r->t, "--map-size");
	size_t map = LEDGER_MAP_DEFAULT;
	bool created;
	FILE *f = NULL;
	nt_err rc;

	state_dir(r, dir, sizeof dir);
	snprintf(data, sizeof data, "%s/data.mdb", dir);
	snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		cli_warn("admin import: %s: %s", dir, strerror(errno));
		return CLI_LOCAL;
	}
	if ((rc = ledger_lock_dir(dir, &lockfd, &holder)) != NT_OK) {
		if (rc == NT_ELOCKED)
			cli_warn("admin import: %s is in use (a nantid%s is running on it)", dir,
				 holder > 0 ? "" : " or another import");
		else
			cli_warn("admin import: cannot lock %s: %s", dir, strerror(errno));
		return CLI_USAGE;
	}
	/* an empty ledger (an import killed before its commit leaves one) is filled; one that
	 * holds anything is refused by dump_import() */
	created = stat(data, &st) != 0;
	if ((f = open_input(file, dir)) == NULL) {
		cli_warn("admin import: %s: %s", file, strerror(errno));
		ret = CLI_USAGE;
		goto out;
	}
	/* JSON is larger than what it describes: a map of the file's size is a good start */
	if (map_mb->set)
		map = map_mb->u > SIZE_MAX >> 21 ? SIZE_MAX >> 1 : (size_t)map_mb->u << 20;
	else if (fstat(fileno(f), &st) == 0 && (size_t)st.st_size > LEDGER_MAP_DEFAULT)
		map = (size_t)st.st_size;
	rc = ledger_open(&lg, dir, map);
	while (rc == NT_OK && (rc = dump_import(lg, f, &n, why, sizeof why)) == NT_EMAPFULL) {
		/* nothing was written: grow the map and read the file again */
		if ((rc = ledger_grow(lg)) != NT_OK || fseek(f, 0, SEEK_SET) != 0)
			break;
	}
	if (rc != NT_OK) {
		cli_warn("admin import: %s%s%s", file, ": ", why[0] ? why : nt_strerror(rc));
		ret = rc == NT_EBADREQ || rc == NT_EFORMAT || rc == NT_ECONFLICT ? CLI_USAGE
										 : CLI_LOCAL;
		/* a ledger this import created goes: the directory is as it was */
		ledger_close(&lg);
		if (created) {
			unlink(data);
			unlink(lock);
		}
		goto out;
	}
	ledger_close(&lg);
	print_counts(r, "imported", file, &n);
	if (!r->conf->json)
		printf("start nantid on %s\n", dir);
	ret = CLI_OK;
out:
	if (f != NULL)
		fclose(f);
	close(lockfd);
	return ret;
}

int admin_verify_run(struct run *r)
{
	char dir[PATH_MAX], hex[CHAIN_HEX + 1];
	struct ledger *lg = NULL;
	struct chain_report rep;
	nt_err rc;

	state_dir(r, dir, sizeof dir);
	if ((rc = ledger_open_readonly(&lg, dir)) != NT_OK) {
		cli_warn("admin verify: cannot open the ledger in %s: %s", dir,
			 rc == NT_EIO ? strerror(errno) : nt_strerror(rc));
		return CLI_LOCAL;
	}
	if (ledger_format(lg) != LEDGER_FORMAT) {
		cli_warn("admin verify: the ledger in %s is in format %u, before the hash chain: "
			 "start nantid on it once to bring it to format %d", dir, ledger_format(lg),
			 LEDGER_FORMAT);
		ledger_close(&lg);
		return CLI_USAGE;
	}
	rc = chain_verify(lg, 1, &rep);
	ledger_close(&lg);
	if (rc != NT_OK) {
		cli_warn("admin verify: reading the log failed: %s", nt_strerror(rc));
		return CLI_LOCAL;
	}
	chain_hex(hex, rep.head);
	if (r->conf->json)
		printf("{\"ok\": %s, \"entries\": %" PRIu64 ", \"last_seq\": %" PRIu64
		       ", \"head\": \"%s\", \"broken\": %" PRIu64 "}\n",
		       rep.broken ? "false" : "true", rep.checked, rep.last, hex, rep.broken);
	else if (rep.broken == 0)
		printf("the log's hash chain holds: entries 1 to %" PRIu64 "; head %s\n",
		       rep.last, rep.last ? hex : "(an empty log)");
	if (rep.broken != 0) {
		cli_warn("admin verify: the log's hash chain breaks at seq %" PRIu64 ": %s "
			 "(%" PRIu64 " entries before it hold; head %s)", rep.broken, rep.what,
			 rep.checked, hex);
		return CLI_BROKEN;
	}
	return CLI_OK;
}
