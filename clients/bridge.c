/*
 * bridge.c - `nanti watch --cursor FILE --exec CMD`: a bridge from the ledger's log to
 * anything a shell command can reach (mail, a webhook, a chat), that misses nothing.
 *
 * watch.c finds every log entry once, in seq order, across slow reads, reconnects and
 * daemon restarts (the subscriber recipe of docs/protocol.md section 7). What it cannot do
 * alone is survive its own death: a bridge killed between two entries must start again
 * exactly where it stopped. This file adds that, in three parts.
 *
 * The cursor file. FILE holds one decimal number and a newline: the last seq delivered
 * (or left out by the topic filter). It moves only after the command has exited 0 for
 * that entry, and it is written the one way that survives a kill at any instant and a
 * power cut: FILE.tmp is written and fsync'd, renamed over FILE, and the directory is
 * fsync'd. FILE is therefore always either the old number or the new one, and never ahead
 * of what was delivered. A FILE that holds anything else is refused (exit status 5):
 * starting over from 0 or from the end would silently repeat or skip deliveries, and
 * which one the operator wants only the operator knows. A missing FILE is a first start:
 * delivery begins at --from SEQ (or after --after SEQ), by default at the beginning of
 * the log, and FILE is written at once so that the starting point is fixed from then on.
 * FILE.lock (flock) keeps two bridges from delivering with the same FILE.
 *
 * The command. Each entry is handed to `/bin/sh -c CMD` (a shell, so that CMD may be a
 * pipeline or redirect), with the entry as one line of JSON on its stdin (the line that
 * `nanti watch --json` prints) and NANTI_SEQ, NANTI_TOPIC and, for an entry about a case,
 * NANTI_CASE in its environment. Its stdin is a memfd rather than a pipe: a command that
 * never reads stdin cannot block the bridge, and one that does reads to EOF. It runs in a
 * process group of its own, so that a Ctrl-C meant for the bridge does not kill it
 * half-way, and so that abandoning it reaches the whole pipeline. A command that fails
 * (exits non-zero, is killed by a signal, cannot be started) is run again for the same
 * entry after 0.5 s, 1 s, 2 s, ... up to --retry-max (default 60 s), for ever: an entry is
 * never skipped. Each failure is one line on stderr.
 *
 * Delivery is at least once, not exactly once: a bridge killed after the command exited
 * 0 and before FILE was renamed runs the command again for that entry when it restarts.
 * A command must therefore be idempotent by NANTI_SEQ (docs/bridges.md shows how).
 *
 * Stopping. SIGINT or SIGTERM (cli_stop, counted by watch.c's handler) lets the running
 * command finish and records its result, then stops: nothing new starts, a failure is
 * not retried. A second signal abandons the command (SIGTERM to its process group, a third
 * SIGKILL); the entry is then delivered again on the next start. The exit status is 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "render.h"

extern char **environ;

#define BRIDGE_FIRST_MS		500		/* the first wait after a failure */
#define BRIDGE_MAX_S		60		/* --retry-max's default */
#define BRIDGE_MAX_S_LIMIT	86400		/* and its largest value: a day */
#define BRIDGE_STEP_MS		1000		/* longest sleep: how soon a stop is noticed */
#define BRIDGE_LOCK_WAIT_MS	3000		/* how long another holder of the lock is waited for */
#define BRIDGE_FILE_MAX		64		/* bytes in a cursor file we read */
#define BRIDGE_SHELL		"/bin/sh"

struct bridge {
	char *cmd;		/* --exec */
	char *path;		/* --cursor FILE */
	char *tmp;		/* FILE.tmp */
	char *lock;		/* FILE.lock */
	int dirfd;		/* FILE's directory, fsync'd after each rename */
	int lockfd;		/* FILE.lock, flock'ed while the bridge runs */
	uint64_t stored;	/* what FILE holds */
	int64_t max_ms;		/* --retry-max */
	int64_t reconnect_ms;	/* the next wait before connecting again */
};

static int64_t bridge_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms, a second at most at a time, so that a stop request is noticed soon.
 * Returns CLI_OK, or CLI_STOPPED as soon as cli_stop is seen. */
static int bridge_sleep(int64_t ms)
{
	int64_t end = bridge_now_ms() + ms, left;

	while (!cli_stop && (left = end - bridge_now_ms()) > 0) {
		struct timespec ts;

		left = left < BRIDGE_STEP_MS ? left : BRIDGE_STEP_MS;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		nanosleep(&ts, NULL);	/* EINTR: the loop looks at cli_stop */
	}
	return cli_stop ? CLI_STOPPED : CLI_OK;
}

/* The next wait of a backoff that started at BRIDGE_FIRST_MS: twice ms, at most max. */
static int64_t bridge_double(int64_t ms, int64_t max)
{
	return ms >= max / 2 ? max : ms * 2;
}

/* "1.5 s" */
static double bridge_secs(int64_t ms)
{
	return (double)ms / 1000.0;
}

/* path with suffix appended; NULL when out of memory. Caller frees. */
static char *bridge_concat(const char *path, const char *suffix)
{
	size_t n = strlen(path), m = strlen(suffix);
	char *s = malloc(n + m + 1);

	if (s != NULL) {
		memcpy(s, path, n);
		memcpy(s + n, suffix, m + 1);
	}
	return s;
}

/* ---- the cursor file ---- */

/* Parse the text of a cursor file: decimal digits and one optional newline. NULL if it
 * is one, with *seq set; else what is wrong with it. */
static const char *bridge_parse(const char *buf, size_t len, uint64_t *seq)
{
	uint64_t v = 0;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0)
		return "it is empty";
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)buf[i] - '0';

		if (d > 9)
			return "it holds something other than one seq number";
		if (v > (UINT64_MAX - d) / 10)
			return "its number is too large to be a seq";
		v = v * 10 + d;
	}
	*seq = v;
	return NULL;
}

/* Say that FILE is corrupt (why) and how to go on. Returns CLI_LOCAL. */
static int bridge_corrupt(const struct bridge *b, const char *why)
{
	cli_warn("watch: the cursor file %s is corrupt: %s. It must hold the seq of the last "
		 "entry delivered and a newline. Refusing to guess where to resume: write the "
		 "right seq into it (echo SEQ > %s), or remove it to start again from --from",
		 b->path, why, b->path);
	return CLI_LOCAL;
}

/*
 * Read FILE into *seq. *exists says whether there is a FILE at all. Returns CLI_OK (also
 * when there is none), or CLI_LOCAL after saying why FILE cannot be used.
 */
static int bridge_load(const struct bridge *b, uint64_t *seq, bool *exists)
{
	char buf[BRIDGE_FILE_MAX];
	const char *bad;
	struct stat st;
	size_t len = 0;
	ssize_t got;
	int fd, rc = CLI_OK;

	*exists = false;
	if ((fd = open(b->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return CLI_OK;
		cli_warn("watch: cannot open the cursor file %s: %s", b->path, strerror(errno));
		return CLI_LOCAL;
	}
	*exists = true;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = bridge_corrupt(b, "it is not a regular file");
		goto out;
	}
	while (len < sizeof buf && (got = read(fd, buf + len, sizeof buf - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cli_warn("watch: cannot read the cursor file %s: %s", b->path,
				 strerror(errno));
			rc = CLI_LOCAL;
			goto out;
		}
		len += (size_t)got;
	}
	if (len == sizeof buf)
		rc = bridge_corrupt(b, "it is too long to hold one seq number");
	else if ((bad = bridge_parse(buf, len, seq)) != NULL)
		rc = bridge_corrupt(b, bad);
out:
	close(fd);
	return rc;
}

/*
 * Write seq into FILE durably: FILE.tmp, fsync, rename over FILE, fsync the directory.
 * Returns 0, or an errno value with *what naming the step that failed. FILE.tmp is
 * removed on failure; a FILE.tmp left by a kill is overwritten by the next write.
 */
static int bridge_write(struct bridge *b, uint64_t seq, const char **what)
{
	char text[32];
	int n = snprintf(text, sizeof text, "%" PRIu64 "\n", seq), fd, err = 0;
	ssize_t put;

	*what = "create";
	if ((fd = open(b->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
		return errno;
	*what = "write";
	for (int done = 0; done < n && err == 0; done += (int)put) {
		if ((put = write(fd, text + done, (size_t)(n - done))) < 0) {
			put = 0;
			err = errno == EINTR ? 0 : errno;
		}
	}
	if (err == 0 && fsync(fd) != 0) {
		*what = "fsync";
		err = errno;
	}
	if (close(fd) != 0 && err == 0) {
		*what = "close";
		err = errno;
	}
	if (err == 0 && rename(b->tmp, b->path) != 0) {
		*what = "rename";
		err = errno;
	}
	if (err != 0) {
		unlink(b->tmp);
		return err;
	}
	if (fsync(b->dirfd) != 0) {
		*what = "fsync the directory of";
		return errno;
	}
	return 0;
}

/*
 * Store seq in FILE, trying again with backoff while it fails (a full disk): the entry
 * was delivered, so the command is not run again meanwhile. Returns CLI_OK, or
 * CLI_STOPPED if stopped while FILE still holds an earlier seq.
 */
static int bridge_store(struct bridge *b, uint64_t seq)
{
	int64_t delay = BRIDGE_FIRST_MS < b->max_ms ? BRIDGE_FIRST_MS : b->max_ms;
	const char *what;
	int err, rc;

	while ((err = bridge_write(b, seq, &what)) != 0) {
		cli_warn("watch: cannot %s the cursor file %s (%s): %s; seq %" PRIu64 " was "
			 "delivered, trying to store it again in %.1f s", what, b->tmp,
			 b->path, strerror(err), seq, bridge_secs(delay));
		if ((rc = bridge_sleep(delay)) != CLI_OK)
			return rc;
		delay = bridge_double(delay, b->max_ms);
	}
	b->stored = seq;
	return CLI_OK;
}

/* Lock FILE.lock, waiting a little for a holder that is going away (a bridge that was
 * just killed may leave a command that has not yet exec'd holding it). */
static int bridge_lock(struct bridge *b)
{
	int64_t end = bridge_now_ms() + BRIDGE_LOCK_WAIT_MS;

	if ((b->lockfd = open(b->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0) {
		cli_warn("watch: cannot open %s: %s", b->lock, strerror(errno));
		return CLI_LOCAL;
	}
	while (flock(b->lockfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			cli_warn("watch: cannot lock %s: %s", b->lock, strerror(errno));
			return CLI_LOCAL;
		}
		if (bridge_now_ms() >= end) {
			cli_warn("watch: another nanti watch is delivering with the cursor file %s "
				 "(%s is locked); one bridge per cursor file", b->path, b->lock);
			return CLI_LOCAL;
		}
		if (bridge_sleep(100) != CLI_OK)
			return CLI_STOPPED;
	}
	return CLI_OK;
}

/* FILE's directory, opened for fsync. */
static int bridge_open_dir(struct bridge *b)
{
	const char *slash = strrchr(b->path, '/');
	char *dir;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == b->path)
		dir = strdup("/");
	else
		dir = strndup(b->path, (size_t)(slash - b->path));
	if (dir == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	b->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->dirfd < 0)
		cli_warn("watch: cannot open %s, the directory of the cursor file: %s", dir,
			 strerror(errno));
	free(dir);
	return b->dirfd < 0 ? CLI_LOCAL : CLI_OK;
}

/* ---- options ---- */

bool bridge_wanted(const struct run *r)
{
	return args_find(r->t, "--cursor")->set || args_find(r->t, "--exec")->set ||
	       args_find(r->t, "--retry-max")->set;
}

/* The bridge options of r, checked; fills b's command, paths and backoff cap. */
static int bridge_options(struct bridge *b, const struct run *r)
{
	const struct args_val *cursor = args_find(r->t, "--cursor");
	const struct args_val *exec = args_find(r->t, "--exec");
	const struct args_val *max = args_find(r->t, "--retry-max");
	const char *base;

	if (!cursor->set || !exec->set) {
		cli_warn("watch: --exec CMD and --cursor FILE go together: the cursor file is "
			 "where the bridge remembers what CMD has been given");
		return CLI_USAGE;
	}
	if (exec->len == 0 || strlen(exec->s) != exec->len) {
		cli_warn("watch: --exec must not be empty");
		return CLI_USAGE;
	}
	base = strrchr(cursor->s, '/');
	base = base != NULL ? base + 1 : cursor->s;
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		cli_warn("watch: --cursor '%s' names a directory; give a file in it", cursor->s);
		return CLI_USAGE;
	}
	if (max->set && (max->u < 1 || max->u > BRIDGE_MAX_S_LIMIT)) {
		cli_warn("watch: --retry-max must be 1 to %d seconds", BRIDGE_MAX_S_LIMIT);
		return CLI_USAGE;
	}
	b->max_ms = (int64_t)(max->set ? max->u : BRIDGE_MAX_S) * 1000;
	b->reconnect_ms = BRIDGE_FIRST_MS;
	b->cmd = strdup(exec->s);
	b->path = strdup(cursor->s);
	b->tmp = bridge_concat(cursor->s, ".tmp");
	b->lock = bridge_concat(cursor->s, ".lock");
	if (b->cmd == NULL || b->path == NULL || b->tmp == NULL || b->lock == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	return CLI_OK;
}

int bridge_open(struct bridge **bp, const struct run *r, uint64_t *cursor)
{
	const struct args_val *from = args_find(r->t, "--from");
	const struct args_val *after = args_find(r->t, "--after");
	struct bridge *b = calloc(1, sizeof *b);
	const char *what;
	bool exists;
	uint64_t seq = 0;
	int rc, err;

	*bp = NULL;
	if (b == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	b->dirfd = b->lockfd = -1;
	if ((rc = bridge_options(b, r)) != CLI_OK || (rc = bridge_open_dir(b)) != CLI_OK ||
	    (rc = bridge_lock(b)) != CLI_OK || (rc = bridge_load(b, &seq, &exists)) != CLI_OK)
		goto out;
	if (exists) {
		if (from->set || after->set)
			cli_warn("watch: %s exists, so %s is not used: it only says where a first "
				 "start begins", b->path, from->set ? "--from" : "--after");
		cli_warn("watch: delivering the entries after seq %" PRIu64 " (cursor %s)", seq,
			 b->path);
	} else {
		seq = from->set ? (from->u > 0 ? from->u - 1 : 0) : after->set ? after->u : 0;
		if ((err = bridge_write(b, seq, &what)) != 0) {
			cli_warn("watch: cannot %s the cursor file %s (%s): %s", what, b->tmp,
				 b->path, strerror(err));
			rc = CLI_LOCAL;
			goto out;
		}
		cli_warn("watch: no cursor file %s yet: delivering the entries after seq %" PRIu64
			 " (%s)", b->path, seq, seq == 0 ? "the whole log" : "as --from or --after "
			 "says");
	}
	b->stored = seq;
	*cursor = seq;
	*bp = b;
	b = NULL;
out:
	bridge_close(&b, 0);
	return rc;
}

void bridge_close(struct bridge **bp, uint64_t cursor)
{
	struct bridge *b = bp != NULL ? *bp : NULL;
	const char *what;
	int err;

	if (b == NULL)
		return;
	if (cursor > b->stored && b->dirfd >= 0 && (err = bridge_write(b, cursor, &what)) != 0)
		cli_warn("watch: cannot %s the cursor file %s (%s): %s; it stays at seq %" PRIu64
			 ", and the entries after it that the filter leaves out will be read again",
			 what, b->tmp, b->path, strerror(err), b->stored);
	if (b->dirfd >= 0)
		close(b->dirfd);
	if (b->lockfd >= 0)
		close(b->lockfd);	/* and with it the lock */
	free(b->cmd);
	free(b->path);
	free(b->tmp);
	free(b->lock);
	free(b);
	*bp = NULL;
}

/* ---- running the command ---- */

/* What the command is given besides the entry: environ with NANTI_SEQ, NANTI_TOPIC and
 * NANTI_CASE set for this entry (and any inherited ones dropped). */
struct bridge_env {
	char **envp;		/* NULL-terminated; the strings are environ's or the buffers */
	char seq[32];
	char topic[128];
	char kase[40];
};

static bool bridge_is_ours(const char *var)
{
	return strncmp(var, "NANTI_SEQ=", 10) == 0 || strncmp(var, "NANTI_TOPIC=", 12) == 0 ||
	       strncmp(var, "NANTI_CASE=", 11) == 0;
}

/* "NAME=" and the string s into buf (of n bytes), cut at the first control character or
 * where buf ends: an environment variable holds no NUL, and a topic holds none anyway. */
static void bridge_var(char *buf, size_t n, const char *name, proto_str s)
{
	size_t k = (size_t)snprintf(buf, n, "%s=", name);

	for (uint32_t i = 0; i < s.len && k + 1 < n && (unsigned char)s.ptr[i] >= 0x20; i++)
		buf[k++] = s.ptr[i];
	buf[k] = '\0';
}

/* Fill env for the entry e (seq). Returns CLI_OK or CLI_LOCAL (out of memory). */
static int bridge_env_make(struct bridge_env *env, const msgpack_object *e, uint64_t seq)
{
	proto_str topic = PROTO_STR_NULL;
	uint64_t kase = 0;
	size_t n = 0, k = 0;

	for (char **v = environ; *v != NULL; v++)
		n++;
	if ((env->envp = calloc(n + 4, sizeof *env->envp)) == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	proto_obj_str(proto_map_get(e, "topic"), &topic);
	snprintf(env->seq, sizeof env->seq, "NANTI_SEQ=%" PRIu64, seq);
	bridge_var(env->topic, sizeof env->topic, "NANTI_TOPIC", topic);
	env->envp[k++] = env->seq;
	env->envp[k++] = env->topic;
	if (proto_obj_u64(proto_map_get(e, "case"), &kase)) {
		snprintf(env->kase, sizeof env->kase, "NANTI_CASE=%" PRIu64, kase);
		env->envp[k++] = env->kase;
	}
	for (char **v = environ; *v != NULL; v++)
		if (!bridge_is_ours(*v))
			env->envp[k++] = *v;
	env->envp[k] = NULL;
	return CLI_OK;
}

/* The entry as the JSON line `nanti watch --json` prints, into *json (caller frees). */
static int bridge_json(const msgpack_object *e, char **json, size_t *len)
{
	FILE *f = open_memstream(json, len);
	bool bad;

	if (f == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	render_json(f, e);
	bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad) {
		cli_warn("out of memory");
		free(*json);
		*json = NULL;
		return CLI_LOCAL;
	}
	return CLI_OK;
}

/* A memfd holding json[0..len), positioned at its start: the command's stdin. Never fd
 * 0 to 2 (a bridge started with them closed), which dup2 onto stdin would not make
 * inheritable. -1 and errno on failure. */
static int bridge_stdin(const char *json, size_t len)
{
	int fd = memfd_create("nanti-entry", MFD_CLOEXEC), err;
	size_t done = 0;
	ssize_t put;

	if (fd >= 0 && fd <= STDERR_FILENO) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);

		err = errno;
		close(fd);
		errno = err;
		fd = high;
	}
	if (fd < 0)
		return -1;
	while (done < len) {
		if ((put = write(fd, json + done, len - done)) < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		done += (size_t)put;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Start the command: /bin/sh -c CMD, stdin from fd, in a process group of its own, with
 * the default disposition and no mask for the signals that matter. 0 or an errno value. */
static int bridge_spawn(const struct bridge *b, int fd, char *const *envp, pid_t *pid)
{
	char *argv[] = { "sh", "-c", b->cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	int err;

	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGCHLD);
	if ((err = posix_spawn_file_actions_init(&fa)) != 0)
		return err;
	if ((err = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return err;
	}
	if ((err = posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO)) == 0 &&
	    (err = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (err = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (err = posix_spawnattr_setsigdefault(&at, &dflt)) == 0 &&
	    (err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF)) == 0)
		err = posix_spawn(pid, BRIDGE_SHELL, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return err;
}

/* Wait for the command pid (for seq) to end, into *status. The first stop request only
 * says that the bridge stops once it ends; the second abandons it (SIGTERM to its process
 * group), the third kills it. Returns 0 or an errno value. */
static int bridge_wait(pid_t pid, uint64_t seq, int *status)
{
	sig_atomic_t seen = 0;

	while (waitpid(pid, status, 0) != pid) {
		if (errno != EINTR)
			return errno;
		if (cli_stop == seen)
			continue;
		seen = cli_stop;
		if (seen == 1)
			cli_warn("watch: stopping once the command for seq %" PRIu64 " ends "
				 "(signal again to abandon it)", seq);
		else if (seen == 2)
			cli_warn("watch: abandoning the command for seq %" PRIu64 " (SIGTERM to it); "
				 "the entry is delivered again on the next start", seq);
		if (seen >= 2)
			kill(-pid, seen == 2 ? SIGTERM : SIGKILL);
	}
	return 0;
}

/*
 * Run the command once for the entry json (seq). Returns true if it exited 0; else
 * false with why saying what happened ("exit status 1", "killed by signal 9 (Killed)",
 * "cannot start /bin/sh: ...").
 */
static bool bridge_run(const struct bridge *b, const char *json, size_t len, char *const *envp,
		       uint64_t seq, char *why, size_t whylen)
{
	pid_t pid;
	int fd, err, status = 0;

	if ((fd = bridge_stdin(json, len)) < 0) {
		snprintf(why, whylen, "cannot make its stdin: %s", strerror(errno));
		return false;
	}
	err = bridge_spawn(b, fd, envp, &pid);
	close(fd);
	if (err != 0) {
		snprintf(why, whylen, "cannot start %s: %s", BRIDGE_SHELL, strerror(err));
		return false;
	}
	if ((err = bridge_wait(pid, seq, &status)) != 0) {
		snprintf(why, whylen, "cannot wait for it: %s", strerror(err));
		return false;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFEXITED(status))
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(why, whylen, "wait status %#x", (unsigned)status);
	return false;
}

int bridge_deliver(struct bridge *b, const msgpack_object *e, uint64_t seq)
{
	int64_t delay = BRIDGE_FIRST_MS < b->max_ms ? BRIDGE_FIRST_MS : b->max_ms;
	struct bridge_env env = { .envp = NULL };
	const char *topic = env.topic + strlen("NANTI_TOPIC=");
	char *json = NULL, why[256];
	size_t len = 0;
	int rc, attempts;

	if ((rc = bridge_json(e, &json, &len)) != CLI_OK ||
	    (rc = bridge_env_make(&env, e, seq)) != CLI_OK)
		goto out;
	for (attempts = 1;; attempts++) {
		if (cli_stop) {
			rc = CLI_STOPPED;
			break;
		}
		if (bridge_run(b, json, len, env.envp, seq, why, sizeof why)) {
			if (attempts > 1)
				cli_warn("watch: seq %" PRIu64 " delivered at attempt %d", seq,
					 attempts);
			rc = bridge_store(b, seq);
			break;
		}
		if (cli_stop) {
			cli_warn("watch: the command failed for seq %" PRIu64 " (%s, %s); not "
				 "tried again: stopping. It is delivered again on the next start",
				 seq, topic, why);
			rc = CLI_STOPPED;
			break;
		}
		cli_warn("watch: the command failed for seq %" PRIu64 " (%s, %s); trying again "
			 "in %.1f s", seq, topic, why,
			 bridge_secs(delay));
		if ((rc = bridge_sleep(delay)) != CLI_OK)
			break;
		delay = bridge_double(delay, b->max_ms);
	}
	if (rc == CLI_OK && cli_stop)
		rc = CLI_STOPPED;	/* delivered and stored; start nothing more */
out:
	free(env.envp);
	free(json);
	return rc;
}

int bridge_advance(struct bridge *b, uint64_t seq)
{
	return seq > b->stored ? bridge_store(b, seq) : CLI_OK;
}

int bridge_check_end(const struct bridge *b, uint64_t cursor, uint64_t last, const char *where)
{
	if (cursor <= last)
		return CLI_OK;
	cli_warn("watch: the cursor file %s says seq %" PRIu64 " was delivered, but the log of "
		 "%s ends at seq %" PRIu64 ": another ledger, or one restored from an older "
		 "backup, whose next entries would reuse seqs already delivered. Refusing to "
		 "go on: check, then write the right seq into %s", b->path, cursor, where, last,
		 b->path);
	return CLI_LOCAL;
}

int bridge_pause(struct bridge *b, uint64_t cursor)
{
	int64_t delay = b->reconnect_ms;

	cli_warn("watch: connecting again in %.1f s; the cursor stays at seq %" PRIu64,
		 bridge_secs(delay), cursor);
	b->reconnect_ms = bridge_double(delay, b->max_ms);
	return bridge_sleep(delay);
}

void bridge_connected(struct bridge *b)
{
	b->reconnect_ms = BRIDGE_FIRST_MS < b->max_ms ? BRIDGE_FIRST_MS : b->max_ms;
}
