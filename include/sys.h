/*
 * sys.h - the daemon's voice: logging, and talking to systemd.
 *
 * This is the only module that includes systemd headers. Logging goes to the journal
 * with structured fields when stderr is connected to it ($JOURNAL_STREAM), otherwise to
 * stderr as readable lines ("nantid: warning: ..."). sd_notify messages are no-ops when
 * $NOTIFY_SOCKET is unset.
 */
#ifndef SYS_H
#define SYS_H

#include <stdbool.h>
#include <stdint.h>

enum log_prio { LOG_P_ERR = 3, LOG_P_WARNING = 4, LOG_P_NOTICE = 5, LOG_P_INFO = 6, LOG_P_DEBUG = 7 };

void log_init(const char *ident, bool debug);
void log_msg(enum log_prio prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_msg at LOG_P_WARNING with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define log_info(...)	log_msg(LOG_P_INFO, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_P_NOTICE, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_P_WARNING, __VA_ARGS__)
#define log_err(...)	log_msg(LOG_P_ERR, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_P_DEBUG, __VA_ARGS__)

/*
 * log_entry - a message about one log entry or request: under journald with the fields
 * SEQ=, CASE= and ACTOR= (each only when known: seq and case 0, actor NULL are not), so
 * that `journalctl SEQ=1042` or `journalctl ACTOR=wang.li` finds it; on stderr as
 * "nantid: PRIORITY: seq N, case N, actor A: message".
 */
void log_entry(enum log_prio prio, uint64_t seq, uint64_t case_id, const char *actor,
	       size_t actor_len, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* sd_notify(3) with a formatted state ("READY=1", "STATUS=...", ...). */
void sys_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC in microseconds (for RELOADING=1's MONOTONIC_USEC). */
uint64_t sys_monotonic_usec(void);
/* The watchdog interval systemd asked for, in microseconds, or 0. */
uint64_t sys_watchdog_usec(void);

#endif
