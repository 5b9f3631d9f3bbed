/*
 * cli.c - the few things every module of the nanti client shares.
 *
 * The stop flag lives here rather than in watch.c because the transport (conn.c) reads it
 * too: a signal that interrupts a blocking ZeroMQ call must end that call at once when the
 * user asked to stop, and be retried when it was only, say, a SIGCONT. Diagnostics all go
 * through cli_warn() so that every line on stderr starts with "nanti: " and scripts can
 * tell the client's messages from anything else.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

volatile sig_atomic_t cli_stop;

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);		/* keep stdout and stderr in order on a terminal */
	fputs("nanti: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
