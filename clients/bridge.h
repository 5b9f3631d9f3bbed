/*
 * bridge.h - `nanti watch --cursor FILE --exec CMD`: deliver each log entry to a command,
 * at least once, in seq order, remembering durably how far delivery has come.
 *
 * watch.c runs the subscriber recipe and hands every entry it would print to
 * bridge_deliver() instead; this module owns the rest: the cursor file, running the
 * command, retrying it, and waiting before a reconnect. docs/bridges.md tells users how
 * to write a command for it.
 */
#ifndef BRIDGE_H
#define BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"

struct bridge;

/* Does the command line of r ask for a bridge (--cursor, --exec or --retry-max given)? */
bool bridge_wanted(const struct run *r);

/*
 * bridge_open - check the bridge options of r (--cursor and --exec together, --retry-max
 * 1..86400), lock FILE.lock so that only one bridge delivers with FILE, and read FILE into
 * *cursor: the last seq delivered. Without FILE, *cursor is where --from SEQ (SEQ - 1) or
 * --after SEQ (SEQ) says, else 0 (everything), and FILE is written at once, so the first
 * start decides the starting point for good.
 * Returns CLI_OK with *bp the bridge (the caller calls bridge_close()), CLI_USAGE for
 * options that do not fit, CLI_LOCAL for a corrupt or unreadable FILE, a FILE that cannot
 * be written, or a FILE locked by another bridge; each said on stderr. *bp is NULL then.
 */
int bridge_open(struct bridge **bp, const struct run *r, uint64_t *cursor);

/*
 * bridge_deliver - run the command for the log entry e (seq): `/bin/sh -c CMD` with e as
 * one line of JSON on its stdin and NANTI_SEQ, NANTI_TOPIC (and NANTI_CASE for an entry
 * about a case) in its environment, again and again with exponential backoff until it
 * exits 0, each failure said on stderr; then store seq in FILE (durably: a temporary file,
 * fsync, rename, fsync of the directory) before returning.
 * A stop request (cli_stop) lets a running command finish, and then returns CLI_STOPPED
 * instead of starting it again; a second one abandons the command (SIGTERM to its process
 * group; a third: SIGKILL). Returns CLI_OK (delivered and stored), CLI_STOPPED (the entry
 * was stored if the command succeeded, else it is delivered again on the next start),
 * CLI_LOCAL (out of memory).
 */
int bridge_deliver(struct bridge *b, const msgpack_object *e, uint64_t seq);

/*
 * bridge_advance - the cursor moved to seq past entries that the topic filter left out:
 * store it if it is past what FILE holds. Not needed for correctness (those entries would
 * only be read and left out again), so it is done once a log.read page rather than once
 * an entry. Returns CLI_OK, CLI_STOPPED (stopped while retrying a failed write).
 */
int bridge_advance(struct bridge *b, uint64_t seq);

/*
 * bridge_check_end - the daemon's log ends at last, and FILE says cursor was delivered.
 * cursor > last means another ledger, or one restored from an older backup: its next
 * entries would reuse seqs already delivered, so the bridge refuses to go on.
 * Returns CLI_OK, or CLI_LOCAL after saying so.
 */
int bridge_check_end(const struct bridge *b, uint64_t cursor, uint64_t last, const char *where);

/*
 * bridge_pause - the daemon could not be reached (the transport said why): wait before
 * connecting again, 0.5 s doubling to --retry-max, cut short by a stop request.
 * bridge_connected() starts the doubling over. Returns CLI_OK or CLI_STOPPED.
 */
int bridge_pause(struct bridge *b, uint64_t cursor);
void bridge_connected(struct bridge *b);

/*
 * bridge_close - store cursor if it is past what FILE holds (entries left out by the
 * filter since the last store; one attempt, a failure is only said on stderr, since FILE
 * then holds an earlier seq and nothing is lost), unlock and free *bp, and set it to NULL.
 * Accepts NULL and a NULL *bp.
 */
void bridge_close(struct bridge **bp, uint64_t cursor);

#endif
