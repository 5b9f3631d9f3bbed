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
#include <time.h>
#include <systemd/sd-daemon.h>
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
