/*
 * reporter.h - the report thread: reads that scan the ledger, off the loop's thread.
 *
 * A report replays the whole log (report.c): tens to hundreds of milliseconds on a county's
 * ledger. Answered on the loop, it would hold up every write and every read behind it; on
 * this thread it runs in a read transaction of its own (LMDB readers never block the
 * writer), at a lower scheduling priority than the loop and the commit thread, while the
 * loop goes on. The loop hands it a prepared read (reporter_submit(), at most
 * REPORTER_QUEUE waiting) and gets it back answered (reporter_collect()) when the eventfd
 * reporter_fd() is readable. Reports run one at a time, in the order given.
 *
 * An item belongs to the reporter from reporter_submit() until reporter_collect() returns
 * its tag.
 */
#ifndef REPORTER_H
#define REPORTER_H

#include <stdbool.h>
#include <stddef.h>

#include "batch.h"

#define REPORTER_QUEUE	16
#define REPORTER_QUEUE_STR "16"	/* the same, for messages */

struct reporter;

nt_err reporter_start(struct reporter **out, struct ledger *lg, const struct ops_stats *stats);
/* Stop the thread after the report in progress, and free. Accepts NULL. */
void reporter_stop(struct reporter **r);
/* Readable when a report has been answered. */
int reporter_fd(const struct reporter *r);
/* Answer it (batch_query() with a copy of policy, at now); tag comes back with it. False:
 * REPORTER_QUEUE reports are waiting already. */
bool reporter_submit(struct reporter *r, struct batch_item *it, const struct core_policy *policy,
		     int64_t now, void *tag);
/* The tag of the oldest answered report not yet collected, and how long it took to answer
 * (us); false if none. */
bool reporter_collect(struct reporter *r, void **tag, uint64_t *us);
/* Reports submitted and not yet collected. */
size_t reporter_pending(struct reporter *r);
/* Block until the oldest report not yet answered is answered (if any). */
void reporter_wait(struct reporter *r);

#endif
