/*
 * writer.c - the commit thread: batch_commit() off the loop's thread.
 *
 * Why a thread: a durable LMDB commit spends most of its time waiting for the disk. If
 * the loop committed, receiving, validating and answering requests would wait too; with
 * the writer they overlap. Why the writer takes groups itself: on a busy machine a thread
 * that has to be woken by another waits for a CPU, and every such hand-off between two
 * commits leaves the disk idle. Here the writer goes from one commit to the next without
 * waiting for the loop, as long as requests are there (docs/design.md, docs/bench.md).
 *
 * Everything shared is under one mutex: the loop holds it for a few instructions per
 * request (writer_add()), the writer once per group. The loop is told of finished groups
 * by an eventfd it polls beside its sockets.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "writer.h"

struct slot {
	struct batch_item *writes[WRITER_MAX];
	size_t nw;
	struct writer_result res;
};

struct writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd;
	struct ledger *lg;
	/* under mu */
	struct slot slot[WRITER_GROUPS];
	uint64_t forming;		/* the ticket the loop adds to */
	uint64_t committed;		/* the last ticket whose commit finished */
	uint64_t collected;		/* the last ticket the loop collected */
	bool halted;			/* a store failed: wait for writer_abandon() */
	bool stop;
};

static struct slot *slot_of(struct writer *w, uint64_t ticket)
{
	return &w->slot[ticket % WRITER_GROUPS];
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* May the writer take the forming group? It must hold writes, and the ring must have a
 * free slot to become the next forming group. */
static bool can_take(const struct writer *w)
{
	return !w->halted && w->slot[w->forming % WRITER_GROUPS].nw > 0 &&
	       w->forming + 1 - w->collected <= WRITER_GROUPS;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct writer_result res;
		struct slot *s;
		uint64_t ticket;
		int64_t t0;

		while (!w->stop && !can_take(w))
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		ticket = w->forming++;
		s = slot_of(w, ticket);
		pthread_mutex_unlock(&w->mu);

		memset(&res, 0, sizeof res);
		t0 = mono_us();
		res.rc = batch_store(w->lg, s->writes, s->nw, res.why, sizeof res.why);
		res.commit_us = (uint64_t)(mono_us() - t0);
		res.ticket = ticket;
		res.n = s->nw;

		pthread_mutex_lock(&w->mu);
		s->res = res;
		if (res.rc != NT_OK)
			w->halted = true;
		__atomic_store_n(&w->committed, ticket, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&w->cv);
		if (write(w->efd, &one, sizeof one) < 0) {
			/* cannot overflow: one write per group */
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

nt_err writer_start(struct writer **out, struct ledger *lg)
{
	struct writer *w = calloc(1, sizeof *w);

	*out = NULL;
	if (w == NULL)
		return NT_ENOMEM;
	w->lg = lg;
	w->forming = 1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		goto fail;
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		goto fail;
	*out = w;
	return NT_OK;
fail:
	if (w->efd >= 0)
		close(w->efd);
	free(w);
	return NT_ESYS;
}

void writer_stop(struct writer **wp)
{
	struct writer *w;

	if (wp == NULL || (w = *wp) == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	close(w->efd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	*wp = NULL;
}

int writer_fd(const struct writer *w)
{
	return w->efd;
}

bool writer_room(struct writer *w)
{
	bool room;

	pthread_mutex_lock(&w->mu);
	room = slot_of(w, w->forming)->nw < WRITER_MAX;
	pthread_mutex_unlock(&w->mu);
	return room;
}

uint64_t writer_lock(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	return w->forming;
}

void writer_add_unlock(struct writer *w, struct batch_item *it)
{
	struct slot *s = slot_of(w, w->forming);

	s->writes[s->nw++] = it;
	if (s->nw == 1)
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

uint64_t writer_pending(struct writer *w)
{
	uint64_t t = 0;

	pthread_mutex_lock(&w->mu);
	if (slot_of(w, w->forming)->nw > 0)
		t = w->forming;
	else if (w->forming - 1 > w->collected)
		t = w->forming - 1;
	pthread_mutex_unlock(&w->mu);
	return t;
}

bool writer_done(const struct writer *w)
{
	/* collected is written by the loop only, which is the caller */
	return __atomic_load_n(&w->committed, __ATOMIC_ACQUIRE) > w->collected;
}

bool writer_collect(struct writer *w, struct writer_result *res)
{
	bool done = false;
	uint64_t v;

	if (read(w->efd, &v, sizeof v) < 0 && errno != EAGAIN) {
		/* nothing to clear */
	}
	pthread_mutex_lock(&w->mu);
	if (w->committed > w->collected) {
		struct slot *s = slot_of(w, ++w->collected);

		*res = s->res;
		s->nw = 0;
		done = true;
		pthread_cond_broadcast(&w->cv);	/* a slot is free for the writer */
	}
	pthread_mutex_unlock(&w->mu);
	return done;
}

void writer_wait(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->committed == w->collected &&
	       (w->forming - 1 > w->collected || slot_of(w, w->forming)->nw > 0))
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

uint64_t writer_abandon(struct writer *w)
{
	uint64_t one = 1, forming;

	pthread_mutex_lock(&w->mu);
	for (uint64_t t = w->committed + 1; t < w->forming; t++) {
		struct slot *s = slot_of(w, t);

		memset(&s->res, 0, sizeof s->res);
		s->res.ticket = t;
		s->res.rc = NT_EUNAVAIL;
		s->res.n = s->nw;
		s->res.abandoned = true;
		snprintf(s->res.why, sizeof s->res.why,
			 "not applied: an earlier group could not be committed");
	}
	forming = w->forming;
	slot_of(w, forming)->nw = 0;
	if (w->forming - 1 > w->committed)
		__atomic_store_n(&w->committed, w->forming - 1, __ATOMIC_RELEASE);
	w->halted = false;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (write(w->efd, &one, sizeof one) < 0) {
		/* the loop collects anyway: it is the caller */
	}
	return forming;
}
