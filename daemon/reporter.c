/*
 * reporter.c - the report thread (reporter.h).
 *
 * A ring of REPORTER_QUEUE jobs counted by three numbers under one mutex: submitted (in),
 * answered (ran) and collected (out); the thread answers job `ran` while in > ran, outside
 * the mutex, and tells the loop through an eventfd.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "reporter.h"
#include "sys.h"

/* Reports yield to the loop and the commit thread: a nice value this much higher. */
#define REPORTER_NICE 5

struct job {
	struct batch_item *it;
	struct core_policy policy;	/* a copy: a reload may replace the daemon's */
	int64_t now;
	void *tag;
	uint64_t us;			/* how long it took */
};

struct reporter {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* the thread waits for work; reporter_wait() for answers */
	int efd;
	struct ledger *lg;
	const struct ops_stats *stats;
	/* under mu */
	struct job jobs[REPORTER_QUEUE];
	uint64_t in, ran, out;
	bool stop;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void *run(void *arg)
{
	struct reporter *r = arg;
	uint64_t one = 1;

	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), REPORTER_NICE) != 0)
		log_debug("the report thread keeps the daemon's priority: %s", strerror(errno));
	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct job *j;
		uint64_t t0;

		while (!r->stop && r->ran == r->in)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		j = &r->jobs[r->ran % REPORTER_QUEUE];
		pthread_mutex_unlock(&r->mu);
		t0 = mono_us();
		batch_query(r->lg, r->stats, &j->policy, j->it, j->now);
		j->us = mono_us() - t0;
		pthread_mutex_lock(&r->mu);
		r->ran++;
		pthread_cond_broadcast(&r->cv);
		if (write(r->efd, &one, sizeof one) < 0) {
			/* the counter is full: the loop is woken already */
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

nt_err reporter_start(struct reporter **out, struct ledger *lg, const struct ops_stats *stats)
{
	struct reporter *r = calloc(1, sizeof *r);

	*out = NULL;
	if (r == NULL)
		return NT_ENOMEM;
	r->lg = lg;
	r->stats = stats;
	if ((r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		free(r);
		return NT_EIO;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->thread, NULL, run, r) != 0) {
		close(r->efd);
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r);
		return NT_ENOMEM;
	}
	*out = r;
	return NT_OK;
}

void reporter_stop(struct reporter **rp)
{
	struct reporter *r = *rp;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	close(r->efd);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
	*rp = NULL;
}

int reporter_fd(const struct reporter *r)
{
	return r->efd;
}

bool reporter_submit(struct reporter *r, struct batch_item *it, const struct core_policy *policy,
		     int64_t now, void *tag)
{
	bool room;

	pthread_mutex_lock(&r->mu);
	if ((room = r->in - r->out < REPORTER_QUEUE)) {
		r->jobs[r->in % REPORTER_QUEUE] = (struct job){ it, *policy, now, tag, 0 };
		r->in++;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return room;
}

bool reporter_collect(struct reporter *r, void **tag, uint64_t *us)
{
	uint64_t n;
	bool got;

	if (read(r->efd, &n, sizeof n) < 0) {
		/* nothing counted since the last read: there may still be answers left */
	}
	pthread_mutex_lock(&r->mu);
	if ((got = r->out < r->ran)) {
		*tag = r->jobs[r->out % REPORTER_QUEUE].tag;
		*us = r->jobs[r->out++ % REPORTER_QUEUE].us;
	}
	pthread_mutex_unlock(&r->mu);
	return got;
}

size_t reporter_pending(struct reporter *r)
{
	size_t n;

	pthread_mutex_lock(&r->mu);
	n = (size_t)(r->in - r->out);
	pthread_mutex_unlock(&r->mu);
	return n;
}

void reporter_wait(struct reporter *r)
{
	pthread_mutex_lock(&r->mu);
	if (r->ran < r->in) {
		uint64_t want = r->ran + 1;

		while (r->ran < want)
			pthread_cond_wait(&r->cv, &r->mu);
	}
	pthread_mutex_unlock(&r->mu);
}
