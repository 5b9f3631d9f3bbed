/*
 * cli.h - what every module of the nanti client shares: its exit statuses, the global
 * configuration that the command line and the environment produce, the stop flag that
 * SIGINT/SIGTERM set, and diagnostics on stderr.
 */
#ifndef CLI_H
#define CLI_H

#include <signal.h>
#include <stdbool.h>

/*
 * The exit statuses are part of the client's interface: scripts branch on them
 * (docs/client.md, `nanti --help`). Functions of the client return one of them, so that
 * an error travels up unchanged to main().
 */
enum cli_exit {
	CLI_OK = 0,		/* success */
	CLI_REFUSED = 1,	/* the daemon refused the request (an error reply) */
	CLI_USAGE = 2,		/* usage error or invalid input: nothing was sent */
	CLI_UNREACHABLE = 3,	/* no daemon there, or it did not answer in time */
	CLI_BADREPLY = 4,	/* the daemon answered with something that is not the protocol */
	CLI_LOCAL = 5,		/* the client itself failed: out of memory, cannot write output */
	CLI_BROKEN = 6,		/* nanti admin verify: the log's hash chain does not hold */
};

/* Not an exit status: a wait was cut short because cli_stop was set (watch then exits 0). */
#define CLI_STOPPED (-1)

/* Set by the SIGINT/SIGTERM handler that `nanti watch` installs; nothing else writes it.
 * Non-zero: stop. It counts the signals, up to 3: a bridge (bridge.c) lets its running
 * command finish on the first, abandons it on the second, kills it on the third. */
extern volatile sig_atomic_t cli_stop;

#define CLI_TIMEOUT_DEFAULT 5000	/* ms */

/* The global options, after the environment has filled the gaps. Strings point into argv
 * or the environment and live as long as the process. */
struct cli_conf {
	const char *endpoint;	/* --endpoint: the request endpoint, or NULL */
	const char *events;	/* --events: the notification endpoint, or NULL */
	const char *runtime_dir;/* --runtime-dir or NANTI_RUNTIME_DIR, or NULL */
	const char *actor;	/* --actor, NANTI_ACTOR, $USER or the login name; NULL if none
				 * (with a key and no --actor: the key's person, by the daemon) */
	const char *key_file;	/* --key or NANTI_KEY: our CURVE key pair, or NULL */
	const char *server_key;	/* --server-key or NANTI_SERVER_KEY: Z85 or a file, or NULL */
	int timeout_ms;		/* --timeout: per request, > 0 */
	bool json;		/* --json */
};

/* Print "nanti: MESSAGE\n" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
