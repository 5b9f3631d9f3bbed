/*
 * tap.h - the smallest test harness that does the job.
 *
 * Each test prints "ok - NAME" or "not ok - NAME" (the format tests/run counts).
 * CHECK() records a failure with file and line and goes on; a test is one function.
 *
 *	static void an_empty_message_is_refused(void) { CHECK(...); }
 *	int main(void) { RUN(an_empty_message_is_refused); return tap_done(); }
 */
#ifndef TAP_H
#define TAP_H
#include <stdio.h>

static int tap_failed_total;
static int tap_failed_now;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		tap_failed_now++; \
	} } while (0)

#define RUN(fn) do { \
	tap_failed_now = 0; \
	fn(); \
	tap_report(#fn); \
	fflush(stdout); \
	if (tap_failed_now) tap_failed_total++; \
	} while (0)

/* "an_empty_message_is_refused" prints as "an empty message is refused" */
static inline void tap_report(const char *name)
{
	printf("%s - ", tap_failed_now ? "not ok" : "ok");
	for (; *name; name++)
		putchar(*name == '_' ? ' ' : *name);
	putchar('\n');
}

static inline int tap_done(void) { return tap_failed_total ? 1 : 0; }
#endif
