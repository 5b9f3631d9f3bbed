/*
 * sys.c - logging and sd_notify: the only file that includes systemd headers.
 *
 * Under systemd with stderr connected to journald ($JOURNAL_STREAM names stderr's device
 * and inode), messages go to the journal through sd_journal_send() with PRIORITY and
 * SYSLOG_IDENTIFIER set, so "journalctl -p warning" works. Elsewhere they are plain lines
 * on stderr with a word for the priority.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "sys.h"

static const char *log_ident = "nantid";
static bool log_journal;
static bool log_debug_on;

static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	return fstat(2, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, bool debug)
{
	log_ident = ident;
	log_debug_on = debug;
	log_journal = stderr_is_journal();
}

static void log_v(enum log_prio prio, const char *suffix, const char *fmt, va_list ap)
{
	static const char *const words[8] = {
		"emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"
	};
	char msg[1024];

	if (prio == LOG_P_DEBUG && !log_debug_on)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_journal) {
		sd_journal_send("MESSAGE=%s%s", msg, suffix ? suffix : "", "PRIORITY=%d", (int)prio,
				"SYSLOG_IDENTIFIER=%s", log_ident, NULL);
		return;
	}
	fprintf(stderr, "%s: %s: %s%s\n", log_ident, words[prio & 7], msg, suffix ? suffix : "");
}

void log_entry(enum log_prio prio, uint64_t seq, uint64_t case_id, const char *actor,
	       size_t actor_len, const char *fmt, ...)
{
	static const char *const words[8] = {
		"emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"
	};
	char msg[1024], who[160] = "", f_seq[32], f_case[32], f_actor[96];
	int n = 0;
	va_list ap;

	if (prio == LOG_P_DEBUG && !log_debug_on)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (actor_len > 64)
		actor_len = 64;
	if (log_journal) {
		char f_msg[1040], f_prio[16], f_ident[64];
		struct iovec iov[6];
		int k = 0;

#define FIELD(buf, ...) do { \
		int len_ = snprintf(buf, sizeof buf, __VA_ARGS__); \
		iov[k].iov_base = buf; \
		iov[k++].iov_len = (size_t)len_ < sizeof buf ? (size_t)len_ : sizeof buf - 1; \
	} while (0)
		FIELD(f_msg, "MESSAGE=%s", msg);
		FIELD(f_prio, "PRIORITY=%d", (int)prio);
		FIELD(f_ident, "SYSLOG_IDENTIFIER=%s", log_ident);
		if (seq != 0)
			FIELD(f_seq, "SEQ=%" PRIu64, seq);
		if (case_id != 0)
			FIELD(f_case, "CASE=%" PRIu64, case_id);
		if (actor != NULL)
			FIELD(f_actor, "ACTOR=%.*s", (int)actor_len, actor);
#undef FIELD
		sd_journal_sendv(iov, k);
		return;
	}
	if (seq != 0)
		n += snprintf(who + n, sizeof who - (size_t)n, "seq %" PRIu64 ", ", seq);
	if (case_id != 0)
		n += snprintf(who + n, sizeof who - (size_t)n, "case %" PRIu64 ", ", case_id);
	if (actor != NULL)
		n += snprintf(who + n, sizeof who - (size_t)n, "actor %.*s, ", (int)actor_len, actor);
	if (n >= 2)
		who[n - 2] = '\0';
	fprintf(stderr, "%s: %s: %s%s%s\n", log_ident, words[prio & 7], who, n ? ": " : "", msg);
}

void log_msg(enum log_prio prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(prio, NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	char suffix[256];
	va_list ap;

	snprintf(suffix, sizeof suffix, ": %s", strerror(errno));
	va_start(ap, fmt);
	log_v(LOG_P_WARNING, suffix, fmt, ap);
	va_end(ap);
}

void sys_notify(const char *fmt, ...)
{
	char state[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(state, sizeof state, fmt, ap);
	va_end(ap);
	sd_notify(0, state);
}

uint64_t sys_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t sys_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}
