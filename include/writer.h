/*
 * writer.h - the commit thread.
 *
 * The loop hands a prepared batch of write requests to the writer and goes back to
 * receiving and validating the next ones while the writer applies the batch and waits
 * for the disk (batch_commit(): one transaction, one fsync). When the writer is done its
 * file descriptor becomes readable; the loop collects the result and replies. At most one
 * batch is with the writer at a time; LMDB allows one write transaction anyway, and the
 * batch that forms meanwhile is the next group commit.
 *
 * The writer owns the authoritative struct batch_state; the loop gets a copy with each
 * collected batch. The items belong to the writer from writer_submit() until
 * writer_collect() returns; the loop must not touch them in between.
 */
#ifndef WRITER_H
#define WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

struct writer;

/* Start the thread. st is the state batch_load() read. */
nt_err writer_start(struct writer **out, struct ledger *lg, const struct batch_state *st);
/* Readable when a submitted batch is done: poll it. */
int writer_fd(const struct writer *w);
/* Is a batch with the writer? */
bool writer_busy(const struct writer *w);
/* Has the batch with the writer finished? A cheap check (no lock, no system call) for
 * the loop to make between messages, so that the disk never waits for the loop. */
bool writer_done(const struct writer *w);
/* Hand items[0..n) over; the array itself must stay valid too. Only when !writer_busy(). */
void writer_submit(struct writer *w, struct batch_item **items, size_t n);

struct writer_result {
	nt_err rc;			/* NT_OK: committed */
	struct batch_state st;		/* the state after the batch */
	uint64_t commit_us;		/* how long apply + commit took */
	char why[PROTO_WHY];		/* if rc != NT_OK */
};
/* If the batch is done, take its result, make the writer idle and return true. */
bool writer_collect(struct writer *w, struct writer_result *res);
/* Wait for the batch in progress (if any) to finish; then writer_collect() succeeds. */
void writer_wait(struct writer *w);
/* Stop the thread (after the batch in progress) and free. Accepts NULL. */
void writer_stop(struct writer **w);

#endif
