/*
 * writer.h - the commit thread and its ring of groups.
 *
 * The loop applies each write request (batch_apply()) and adds it to the forming group
 * (writer_lock() ... writer_add_unlock()). The writer thread takes the forming group as
 * soon as it is idle and the group is not empty, stores it and waits for the disk
 * (batch_store(): one transaction, one fsync), then takes the next one at once: under
 * load the disk never waits for the loop, and the requests that arrive during a commit
 * form the next group commit. Finished groups queue up, in order, until the loop collects
 * them (writer_collect()) to reply and publish.
 *
 * Groups are numbered by tickets 1, 2, 3, ... A ring of WRITER_GROUPS slots holds the
 * groups from the oldest one not yet collected to the forming one; when the ring is full
 * the writer waits for the loop, and writer_room() tells the loop to stop reading
 * requests, so that ZeroMQ's queues push back on clients.
 *
 * When a store fails, the groups applied after it assumed it: the writer halts, and the
 * loop abandons them (writer_abandon()): they come back from writer_collect() failed.
 *
 * An item belongs to the writer from writer_add_unlock() until the group that holds it
 * has been collected.
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

/* Start the thread. */
nt_err writer_start(struct writer **out, struct ledger *lg);
/* Stop the thread (after the group in progress) and free. Accepts NULL. */
void writer_stop(struct writer **w);

/* Readable when a group has finished: poll it, then writer_collect(). */
int writer_fd(const struct writer *w);

/* Can the forming group take another write? */
bool writer_room(struct writer *w);
/*
 * Adding a write: writer_lock() returns the forming group's ticket and holds it open
 * (the writer cannot take it meanwhile), so the caller can apply the request under that
 * ticket; writer_add_unlock() adds the item to that group and lets go. Only when
 * writer_room().
 */
uint64_t writer_lock(struct writer *w);
void writer_add_unlock(struct writer *w, struct batch_item *it);
/* The ticket of the newest group holding writes not yet collected, or 0 if there is
 * none: a read that arrives now must wait for that group to keep read-your-writes. */
uint64_t writer_pending(struct writer *w);
/* Has a group finished that is not collected yet? Lock-free, for the loop to check often. */
bool writer_done(const struct writer *w);

struct writer_result {
	uint64_t ticket;		/* which group */
	nt_err rc;			/* NT_OK: committed */
	uint64_t commit_us;		/* how long the store took */
	size_t n;			/* writes in the group */
	bool abandoned;			/* failed because an earlier group failed */
	char why[PROTO_WHY];		/* if rc != NT_OK */
};
/* Take the oldest finished group's result; false if none has finished. */
bool writer_collect(struct writer *w, struct writer_result *res);
/* Block until the oldest pending group has finished (if any is pending). */
void writer_wait(struct writer *w);
/*
 * After a failed group: every group after it that the writer has not stored is failed
 * (collected later, with abandoned set), except the forming one, which is emptied: its
 * ticket is returned for the loop to fail its requests at once. The writer resumes.
 */
uint64_t writer_abandon(struct writer *w);

#endif
