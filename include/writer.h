/*
 * writer.h - the commit thread and its ring of groups.
 *
 * The loop adds each prepared write request to the forming group (writer_add()). The
 * writer thread takes the forming group as soon as it is idle and the group is not empty,
 * applies it and waits for the disk (batch_commit(): one transaction, one fsync), then
 * takes the next one at once: under load the disk never waits for the loop, and the
 * requests that arrive during a commit form the next group commit. Finished groups queue
 * up, in order, until the loop collects them (writer_collect()) to reply and publish.
 *
 * Groups are numbered by tickets 1, 2, 3, ... A ring of WRITER_GROUPS slots holds the
 * groups from the oldest one not yet collected to the forming one; when the ring is full
 * the writer waits for the loop, and writer_room() tells the loop to stop reading
 * requests, so that ZeroMQ's queues push back on clients.
 *
 * The writer owns the authoritative struct batch_state; the loop gets a copy with each
 * collected group. An item belongs to the writer from writer_add() until the group that
 * holds it has been collected.
 */
#ifndef WRITER_H
#define WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

#define WRITER_GROUPS	4
#define WRITER_MAX	1024	/* writes in one group */

struct writer;

/* Start the thread. st is the state batch_load() read. */
nt_err writer_start(struct writer **out, struct ledger *lg, const struct batch_state *st);
/* Stop the thread (after the group in progress) and free. Accepts NULL. */
void writer_stop(struct writer **w);

/* Readable when a group has finished: poll it, then writer_collect(). */
int writer_fd(const struct writer *w);

/* Can the forming group take another write? */
bool writer_room(struct writer *w);
/* Add a prepared write to the forming group; returns the group's ticket. Only when
 * writer_room(). */
uint64_t writer_add(struct writer *w, struct batch_item *it);
/* The ticket of the newest group holding writes not yet collected, or 0 if there is
 * none: a read that arrives now must wait for that group to keep read-your-writes. */
uint64_t writer_pending(struct writer *w);
/* Has a group finished that is not collected yet? Lock-free, for the loop to check often. */
bool writer_done(const struct writer *w);

struct writer_result {
	uint64_t ticket;		/* which group */
	nt_err rc;			/* NT_OK: committed */
	struct batch_state st;		/* the state after the group */
	uint64_t commit_us;		/* how long apply + commit took */
	size_t n;			/* writes in the group */
	char why[PROTO_WHY];		/* if rc != NT_OK */
};
/* Take the oldest finished group's result; false if none has finished. */
bool writer_collect(struct writer *w, struct writer_result *res);
/* Block until the oldest pending group has finished (if any is pending). */
void writer_wait(struct writer *w);

#endif
