/*
 * writer.c - the commit thread: batch_commit() off the loop's thread.
 *
 * Why a thread: a durable LMDB commit spends most of its time waiting for the disk. If
 * the loop committed itself, receiving, validating and answering the next requests would
 * wait for that too; with the writer they overlap, so the disk is kept busy and the
 * daemon approaches the raw limit of the disk (docs/design.md, docs/bench.md).
 *
 * Hand-off is a mutex and a condition variable towards the writer, and an eventfd back to
 * the loop, which polls it beside its sockets. There is no queue: one batch at a time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "writer.h"

struct writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd;
	struct ledger *lg;
	struct core_effect scratch;	/* the writer's own */
	struct batch_state st;		/* authoritative; touched by the writer thread only */
	/* shared, under mu */
	struct batch_item **items;
	size_t n;
	bool submitted;			/* a batch is waiting for the thread */
	bool done;			/* the batch is finished, result in res */
	bool stop;
	struct writer_result res;
	/* the loop's own view */
	bool busy;
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct writer_result res;
		int64_t t0;

		while (!w->submitted && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->submitted && w->stop)
			break;
		pthread_mutex_unlock(&w->mu);

		memset(&res, 0, sizeof res);
		t0 = mono_us();
		res.rc = batch_commit(w->lg, &w->st, w->items, w->n, &w->scratch, wall_ms(),
				      res.why, sizeof res.why);
		res.commit_us = (uint64_t)(mono_us() - t0);
		res.st = w->st;

		pthread_mutex_lock(&w->mu);
		w->res = res;
		w->submitted = false;
		__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&w->cv);
		if (write(w->efd, &one, sizeof one) < 0) {
			/* the counter cannot overflow with one write per batch */
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

nt_err writer_start(struct writer **out, struct ledger *lg, const struct batch_state *st)
{
	struct writer *w = calloc(1, sizeof *w);

	*out = NULL;
	if (w == NULL)
		return NT_ENOMEM;
	w->lg = lg;
	w->st = *st;
	core_effect_init(&w->scratch);
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
	core_effect_fini(&w->scratch);
	free(w);
	return NT_ESYS;
}

int writer_fd(const struct writer *w)
{
	return w->efd;
}

bool writer_done(const struct writer *w)
{
	return w->busy && __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

bool writer_busy(const struct writer *w)
{
	return w->busy;
}

void writer_submit(struct writer *w, struct batch_item **items, size_t n)
{
	pthread_mutex_lock(&w->mu);
	w->items = items;
	w->n = n;
	w->submitted = true;
	w->done = false;
	w->busy = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

bool writer_collect(struct writer *w, struct writer_result *res)
{
	uint64_t v;
	bool done;

	if (read(w->efd, &v, sizeof v) < 0 && errno != EAGAIN) {
		/* nothing to clear */
	}
	pthread_mutex_lock(&w->mu);
	done = w->busy && w->done;
	if (done) {
		*res = w->res;
		w->done = false;
		w->busy = false;
	}
	pthread_mutex_unlock(&w->mu);
	return done;
}

void writer_wait(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->busy && !w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
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
	core_effect_fini(&w->scratch);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	*wp = NULL;
}
