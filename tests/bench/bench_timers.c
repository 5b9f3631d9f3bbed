/*
 * bench_timers.c - `make bench`, second part: the deadline timer engine with a million
 * cases' timers armed (docs/bench.md, "The timer engine").
 *
 * The real nantid on a fresh directory under build/ (a real disk, never tmpfs), driven
 * through its sockets. In order:
 *   1. a small ledger: S cases opened with a deadline (the two reminders and the chase,
 *      and the step's time limit that every case.open arms) through the daemon;
 *      then, with the daemon stopped, the bench moves some cases' chase timers to
 *      instants a few seconds ahead (see "moving timers" below), starts the daemon again
 *      and measures, from the PUB socket, the firing lag with no load and the burst (N
 *      timers due at one instant); then the arming cost: case.open with and without a
 *      deadline, windows of W requests at 8 clients x 64 in flight, alternately;
 *   2. loads the ledger to C cases with deadlines (the million) in steps, each step's
 *      throughput and bytes written per event beside the number armed, and measures the
 *      arming cost again;
 *   3. ready time: stops the daemon and starts it again R times on that ledger, timing
 *      exec to READY=1 (sd_notify, on the bench's own NOTIFY_SOCKET) and to the first
 *      ping reply, with the file in the page cache (warm) and evicted from it (cold);
 *      the same on an empty ledger, the baseline;
 *   4. the firing lag at the million: rounds of windows of timers due 1000/rate ms apart,
 *      with no load (the baseline), then under a steady load of 8 clients x 1 case.note
 *      in flight; one under a saturating load (8 x 64); then the burst again, and a
 *      working morning's burst (7,500 timers at one instant: what 09:00 brings at a
 *      million cases with deadlines over three years, docs/bench.md).
 *
 * Moving timers: the domain puts due instants at midnights and mornings, days and years
 * ahead, so nothing in the armed million falls due while a benchmark runs. To measure
 * the engine at spread instants now, the bench opens the stopped daemon's ledger itself
 * (LMDB, through ledger.h) and, for some thousands of cases spread over the ledger,
 * moves the chase timer: deletes its key, puts (new due, case * 4 + slot), and sets the
 * case record's timer_at[chase] to the new due, which is exactly what the daemon would
 * have armed for a deadline that ended at that instant. The firing is then the daemon's
 * own: it reads the first key, wakes at the due time, applies timer.fire, commits and
 * publishes deadline.overdue.
 *
 * Lag = the time the notification is received on events.sock (CLOCK_REALTIME) - its
 * `due`. Nothing here asserts a time: the figures are printed beside the targets (p99 <
 * 50 ms; ready < 1 s) and beside baselines measured in the same run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "benchlib.h"
#include "ledger.h"
#include "model.h"
#include "proto.h"
#include "rec.h"

#define MAX_ROUNDS	9
#define MAX_RESTARTS	21

static const char *opt_nantid = "build/nantid";
static const char *opt_dir = "build/bench-timers";
static uint64_t opt_cases = 1000000;	/* the big ledger */
static uint64_t opt_small = 3334;	/* the small ledger: about 10,000 deadline timers */
static uint64_t opt_window = 20000;	/* requests in one arming window */
static int opt_rounds = 3;
static int opt_restarts = 5;
static double opt_lag_seconds = 10;	/* each lag window */
static uint64_t opt_rate = 100;		/* timers due per second in a lag window */
static uint64_t opt_burst = 1000;
static uint64_t opt_morning = 7500;	/* a working morning's firings at the big ledger */
static int64_t opt_spread_days = 3 * 365 + 1;	/* deadlines over this many days */
static uint64_t per_case = 3;	/* timers a case.open with a deadline arms (counted) */
static uint64_t per_case_nodl;	/* and one without (the step limit's timer, if any) */

static void msleep_until(double t_real_ms)
{
	for (;;) {
		double d = t_real_ms - now_real_ms();
		struct timespec ts;

		if (d <= 0)
			return;
		ts.tv_sec = (time_t)(d / 1000);
		ts.tv_nsec = (long)((d - (double)ts.tv_sec * 1000) * 1e6);
		nanosleep(&ts, NULL);
	}
}

static int64_t today(void)
{
	return proto_day_of((int64_t)now_real_ms(), MODEL_UTC_OFFSET_MIN);
}

/* ---- the ledger, with the daemon stopped ---- */

struct ledger_facts {
	uint64_t cases, timers;
	unsigned depth;
	uint64_t leaves, branches;
	double mb;		/* data.mdb */
	uint64_t pages, free;	/* pages in use up to the last, and of them free (LMDB's
				 * freelist: pages a commit freed, reused by later ones) */
};

static struct ledger_facts ledger_facts(const char *dir)
{
	char state[700], file[760];
	struct ledger_facts f = { 0 };
	struct ledger *lg;
	struct ledger_txn t;
	struct stat sb;
	MDB_envinfo info;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_dbi dbi;
	MDB_stat ms;

	snprintf(state, sizeof state, "%s/state", dir);
	snprintf(file, sizeof file, "%s/data.mdb", state);
	if (ledger_open(&lg, state, 0) != NT_OK || ledger_begin(lg, &t, false) != NT_OK)
		die("cannot open the ledger");
	f.cases = ledger_count(&t, DB_CASES);
	if (mdb_dbi_open(t.txn, "timers", 0, &dbi) == 0 && mdb_stat(t.txn, dbi, &ms) == 0) {
		f.timers = ms.ms_entries;
		f.depth = ms.ms_depth;
		f.leaves = ms.ms_leaf_pages;
		f.branches = ms.ms_branch_pages;
	}
	if (mdb_env_info(mdb_txn_env(t.txn), &info) == 0)
		f.pages = info.me_last_pgno + 1;
	/* the freelist is database 0: each value a list of page numbers, its count first */
	if (mdb_cursor_open(t.txn, 0, &cur) == 0) {
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0)
			if (v.mv_size >= sizeof(size_t))
				f.free += *(const size_t *)v.mv_data;
		mdb_cursor_close(cur);
	}
	ledger_abort(&t);
	ledger_close(&lg);
	if (stat(file, &sb) == 0)
		f.mb = (double)sb.st_size / 1048576.0;
	return f;
}

static void print_facts(const char *indent, const struct ledger_facts *f)
{
	printf("%sledger: %" PRIu64 " cases, %" PRIu64 " armed timers (B-tree depth %u, %" PRIu64
	       " leaf + %" PRIu64 " branch pages); data.mdb %.0f MB, %" PRIu64 " pages used, %"
	       PRIu64 " of them free\n", indent, f->cases, f->timers, f->depth, f->leaves,
	       f->branches, f->mb, f->pages, f->free);
}

/* A timer to move: its new due time and the window it measures. */
struct move {
	int64_t due;
	int window;
	bool done;
};

/*
 * With the daemon stopped, give the chase timers of n cases spread over the ledger the
 * due times of m[0..n), in one transaction, exactly as the daemon arms them: the case
 * record's timer_at[chase] set to the new due, and the case's one key in timers (for its
 * first timer) moved accordingly.
 * Only cases whose chase waits for its first level (deadline.overdue) are taken. Sets
 * m[i].done for each moved; returns how many.
 */
static size_t move_chases(struct move *m, size_t n)
{
	char state[700];
	struct ledger *lg;
	struct ledger_txn t;
	proto_out rec;
	uint64_t last, stride, id, next;
	size_t moved = 0;
	nt_err rc;

	snprintf(state, sizeof state, "%s/state", opt_dir);
	/* a random order, so that each window's cases are spread over the ledger */
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(bench_hash(i * 7919) % i);
		struct move x = m[i - 1];

		m[i - 1] = m[j];
		m[j] = x;
	}
	if (ledger_open(&lg, state, 0) != NT_OK)
		die("cannot open the ledger to move timers");
	proto_out_init(&rec);
	for (;;) {
		if (ledger_begin(lg, &t, true) != NT_OK)
			die("cannot begin a write transaction");
		last = ledger_last_u64(&t, DB_CASES, NULL);
		stride = n > 0 && last >= n ? last / n : 1;
		moved = 0;
		next = 1;
		for (size_t i = 0; i < n && t.err == NT_OK; i++) {
			uint8_t key[TIMER_KEY_LEN], ckey[8];
			struct case_rec c;
			MDB_val v;
			bool found = false;

			/* case 1 + i * stride, or the next one that has a chase waiting for its
			 * first level (cases opened without a deadline come in runs) */
			m[i].done = false;
			for (id = 1 + i * stride > next ? 1 + i * stride : next; id <= last; id++) {
				ledger_key_u64(ckey, id);
				if (ledger_get(&t, DB_CASES, ckey, 8, &v) != NT_OK ||
				    rec_decode(v.mv_data, v.mv_size, &case_desc, &c) != NT_OK)
					continue;
				if (c.deadline != 0 && c.step < STEP_RESOLVED && c.chase_level == 0 &&
				    c.timer_at[SLOT_CHASE] != 0) {
					found = true;
					break;
				}
			}
			if (!found)
				continue;
			next = id + 1;
			/* encode first: the decoded strings point into the map; the case's one
			 * key in timers moves from its first timer to the new first, the chase */
			if (case_timer_key(key, id, c.timer_at))
				ledger_del(&t, DB_TIMERS, key, sizeof key);
			c.timer_at[SLOT_CHASE] = m[i].due;
			proto_out_reset(&rec);
			rec_encode(&rec, &case_desc, &c);
			if (case_timer_key(key, id, c.timer_at))
				ledger_put(&t, DB_TIMERS, key, sizeof key, "", 0, false);
			ledger_put(&t, DB_CASES, ckey, 8, rec.sb.data, rec.sb.size, false);
			m[i].done = true;
			moved++;
		}
		if ((rc = ledger_commit(&t)) != NT_EMAPFULL)
			break;
		ledger_grow(lg);
	}
	if (rc != NT_OK || rec.oom)
		die("cannot move the timers");
	proto_out_fini(&rec);
	ledger_close(&lg);
	return moved;
}

/* ---- the subscriber: every deadline.* notification, stamped on receipt ---- */

struct note {
	double recv;		/* CLOCK_REALTIME ms */
	int64_t due, at;	/* the entry's due and at (Unix ms) */
};

struct sub {
	pthread_t th;
	void *s;
	atomic_bool stop, heard;	/* heard: a heartbeat came, so the subscription is on */
	atomic_size_t n;
	struct note *v;
	size_t cap;
};

static void *sub_main(void *arg)
{
	struct sub *sb = arg;
	zmq_pollitem_t it = { sb->s, 0, ZMQ_POLLIN, 0 };
	char topic[64], body[8192];

	while (!atomic_load(&sb->stop)) {
		if (zmq_poll(&it, 1, 50) <= 0)
			continue;
		while (true) {
			int tn = zmq_recv(sb->s, topic, sizeof topic, ZMQ_DONTWAIT), bn, more = 0;
			double t = now_real_ms();
			size_t ms = sizeof more;
			proto_doc doc = { 0 };
			struct note x = { t, 0, 0 };

			if (tn < 0)
				break;
			zmq_getsockopt(sb->s, ZMQ_RCVMORE, &more, &ms);
			if (!more)
				continue;
			bn = zmq_recv(sb->s, body, sizeof body, 0);
			if (tn >= 9 && memcmp(topic, "heartbeat", 9) == 0) {
				atomic_store(&sb->heard, true);
				continue;
			}
			if (bn <= 0 || bn > (int)sizeof body ||
			    proto_parse(&doc, body, (size_t)bn, NULL, 0) != NT_OK ||
			    !proto_obj_i64(proto_map_get(&doc.root, "due"), &x.due) ||
			    !proto_obj_i64(proto_map_get(&doc.root, "at"), &x.at)) {
				proto_doc_fini(&doc);
				continue;
			}
			proto_doc_fini(&doc);
			{
				size_t n = atomic_load(&sb->n);

				if (n == sb->cap)
					continue;	/* more than planned: not ours */
				sb->v[n] = x;
				atomic_store(&sb->n, n + 1);
			}
		}
	}
	return NULL;
}

static void sub_start(struct sub *sb, size_t cap)
{
	int zero = 0;

	memset(sb, 0, sizeof *sb);
	sb->cap = cap;
	sb->v = calloc(cap ? cap : 1, sizeof *sb->v);
	sb->s = zmq_socket(zctx, ZMQ_SUB);
	zmq_setsockopt(sb->s, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(sb->s, ZMQ_RCVHWM, &zero, sizeof zero);
	zmq_setsockopt(sb->s, ZMQ_SUBSCRIBE, "deadline.", 9);
	zmq_setsockopt(sb->s, ZMQ_SUBSCRIBE, "heartbeat", 9);
	if (zmq_connect(sb->s, events_ep) != 0)
		die("cannot connect to events.sock");
	if (pthread_create(&sb->th, NULL, sub_main, sb) != 0)
		die("cannot start the subscriber thread");
}

/* Wait until the subscription is known to be on (a heartbeat came): true, or false after
 * `seconds`. */
static bool sub_wait_heard(struct sub *sb, double seconds)
{
	double end = now_s() + seconds;

	while (!atomic_load(&sb->heard)) {
		if (now_s() > end)
			return false;
		usleep(5000);
	}
	return true;
}

static void sub_stop(struct sub *sb)
{
	atomic_store(&sb->stop, true);
	pthread_join(sb->th, NULL);
	zmq_close(sb->s);
}

/* ---- lag windows ---- */

#define MAX_WINDOWS (2 * MAX_ROUNDS + 4)

struct window {
	const char *name;
	int round;		/* 1..: of the idle and the 8x1 windows */
	int64_t start, end;	/* due times in [start, end) */
	size_t planned, expect;	/* timers planned; moved (a case found for it) */
	size_t n;		/* notifications received */
	double *lag, *apply, *publish;	/* ms: recv - due, at - due, recv - at */
	double last_recv;	/* the last notification's receive time */
	struct run_result load;	/* the load that ran beside it, if any */
	bool loaded;
	uint64_t commits;	/* a burst: the daemon's commits while it fired, */
	double commit_ms;	/* and their time */
};

struct plan {
	struct window w[MAX_WINDOWS];
	int nw;
	struct move *m;
	size_t n, cap;
};

static void plan_add(struct plan *p, int w, int64_t due)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4096;
		p->m = realloc(p->m, p->cap * sizeof *p->m);
	}
	p->m[p->n++] = (struct move){ due, w, false };
	p->w[w].planned++;
}

static int plan_window(struct plan *p, const char *name, int round, int64_t start, int64_t end)
{
	struct window *x = &p->w[p->nw];

	if (p->nw == MAX_WINDOWS)
		die("too many windows");
	x->name = name;
	x->round = round;
	x->start = start;
	x->end = end;
	return p->nw++;
}

/* A window of timers due 1000/rate ms apart over [start, start + seconds). */
static int plan_spread(struct plan *p, const char *name, int round, int64_t start,
		       double seconds)
{
	uint64_t k = (uint64_t)(seconds * (double)opt_rate);
	int w = plan_window(p, name, round, start, start + (int64_t)(seconds * 1000));

	for (uint64_t i = 0; i < k; i++)
		plan_add(p, w, start + (int64_t)((double)i * 1000.0 / (double)opt_rate));
	return w;
}

/* A burst: k timers due at one instant. */
static int plan_burst(struct plan *p, const char *name, int64_t at, uint64_t k)
{
	int w = plan_window(p, name, 0, at, at + 1);

	for (uint64_t i = 0; i < k; i++)
		plan_add(p, w, at);
	return w;
}

static void plan_write(struct plan *p)
{
	double t0 = now_s();
	size_t moved = move_chases(p->m, p->n);

	for (size_t i = 0; i < p->n; i++)
		if (p->m[i].done)
			p->w[p->m[i].window].expect++;
	printf("   moved %zu chase timers (of %zu planned) in the stopped ledger in %.0f ms\n",
	       moved, p->n, (now_s() - t0) * 1e3);
	fflush(stdout);
}

static size_t plan_expected(const struct plan *p)
{
	size_t n = 0;

	for (int w = 0; w < p->nw; w++)
		n += p->w[w].expect;
	return n;
}

/* Sort the subscriber's notifications into the windows, by due. */
static void plan_collect(struct plan *p, const struct sub *sb)
{
	size_t n = atomic_load(&sb->n);

	for (int w = 0; w < p->nw; w++) {
		struct window *x = &p->w[w];

		x->lag = calloc(n + 1, sizeof *x->lag);
		x->apply = calloc(n + 1, sizeof *x->apply);
		x->publish = calloc(n + 1, sizeof *x->publish);
	}
	for (size_t i = 0; i < n; i++) {
		const struct note *e = &sb->v[i];

		for (int w = 0; w < p->nw; w++) {
			struct window *x = &p->w[w];

			if (x->planned == 0 || e->due < x->start || e->due >= x->end)
				continue;
			x->lag[x->n] = e->recv - (double)e->due;
			x->apply[x->n] = (double)(e->at - e->due);
			x->publish[x->n] = e->recv - (double)e->at;
			x->n++;
			if (e->recv > x->last_recv)
				x->last_recv = e->recv;
			break;
		}
	}
	for (int w = 0; w < p->nw; w++) {
		struct window *x = &p->w[w];

		qsort(x->lag, x->n, sizeof *x->lag, cmp_double);
		qsort(x->apply, x->n, sizeof *x->apply, cmp_double);
		qsort(x->publish, x->n, sizeof *x->publish, cmp_double);
	}
}

static void plan_free(struct plan *p)
{
	for (int w = 0; w < p->nw; w++) {
		free(p->w[w].lag);
		free(p->w[w].apply);
		free(p->w[w].publish);
	}
	free(p->m);
}

/* Wait until every expected notification came, or the deadline passes. */
static void wait_all(const struct sub *sb, size_t expect, double until_real_ms)
{
	while (atomic_load(&sb->n) < expect && now_real_ms() < until_real_ms)
		usleep(10000);
}

/* Notifications received so far for window x. */
static size_t window_count(const struct sub *sb, const struct window *x)
{
	size_t n = atomic_load(&sb->n), k = 0;

	for (size_t i = 0; i < n; i++)
		k += sb->v[i].due >= x->start && sb->v[i].due < x->end;
	return k;
}

/* Watch a burst: the daemon's commits from just before it until its last notification. */
static void burst_watch(const struct sub *sb, struct window *x)
{
	struct stats s0, s1;

	msleep_until((double)x->start - 500);
	s0 = daemon_stats();
	while (window_count(sb, x) < x->expect && now_real_ms() < (double)x->start + 30000)
		usleep(2000);
	s1 = daemon_stats();
	x->commits = s1.commits - s0.commits;
	x->commit_ms = (double)(s1.commit_us - s0.commit_us) / 1e3;
}

static pid_t start_and_subscribe(struct sub *sb, size_t cap, int64_t first_due)
{
	pid_t pid = daemon_start(opt_nantid, opt_dir, true);
	double margin;

	sub_start(sb, cap);
	if (!sub_wait_heard(sb, 3.0))
		die("no heartbeat on events.sock within 3 s");
	margin = (double)first_due - now_real_ms();
	if (margin < 100)
		printf("   warning: subscribed only %.0f ms before the first due timer\n", margin);
	return pid;
}

static void print_lag_header(void)
{
	printf("   %-26s %11s | %7s %7s %7s | %9s %9s | %9s %9s\n", "load beside it",
	       "received", "lag p50", "p99", "max", "apply p50", "p99", "publish p50", "p99");
}

static void print_lag_row(const char *label, const struct window *x)
{
	printf("   %-26s %5zu/%-5zu | %7.2f %7.2f %7.2f | %9.2f %9.2f | %11.2f %9.2f ms\n",
	       label, x->n, x->expect, quantile(x->lag, x->n, 0.50), quantile(x->lag, x->n, 0.99),
	       x->n ? x->lag[x->n - 1] : 0, quantile(x->apply, x->n, 0.50),
	       quantile(x->apply, x->n, 0.99), quantile(x->publish, x->n, 0.50),
	       quantile(x->publish, x->n, 0.99));
}

struct burst_result {
	size_t n, expect;
	double first, last;	/* ms after the due instant */
	double p50, p99;	/* lag */
	double rate;		/* firings per second: n / last */
	uint64_t commits;	/* the daemon's commits meanwhile */
	double commit_ms;	/* their time */
};

static struct burst_result burst_of(const struct window *x)
{
	struct burst_result b = { x->n, x->expect, 0, 0, 0, 0, 0, x->commits, x->commit_ms };

	if (x->n > 0) {
		b.first = x->lag[0];
		b.last = x->last_recv - (double)x->start;
		b.p50 = quantile(x->lag, x->n, 0.50);
		b.p99 = quantile(x->lag, x->n, 0.99);
		b.rate = b.last > 0 ? (double)x->n / (b.last / 1e3) : 0;
	}
	return b;
}

static void print_burst(const char *indent, const char *what, const struct burst_result *b)
{
	printf("%s%s: %zu of %zu timers due at one instant: the first published %.1f ms "
	       "after it, the last %.1f ms (lag p50 %.1f, p99 %.1f): %.0f firings/s\n", indent,
	       what, b->n, b->expect, b->first, b->last, b->p50, b->p99, b->rate);
	if (b->commits > 0)
		printf("%s  %" PRIu64 " commits meanwhile, %.1f firings and %.1f ms each: the commit "
		       "thread busy %.0f ms of the %.0f\n", indent, b->commits,
		       (double)b->n / (double)b->commits, b->commit_ms / (double)b->commits,
		       b->commit_ms, b->last);
}

/* ---- arming: case.open with and without a deadline ---- */

struct arming {
	/* medians: [0] without a deadline, [1] with */
	double eps[2], us[2], kb[2], batch[2], busy[2];
	uint64_t timers[2];	/* armed before and after the windows */
	uint64_t events[2];	/* cases opened without and with a deadline */
};

static struct arming arming_windows(const char *indent, uint64_t armed)
{
	double eps[2][MAX_ROUNDS], us[2][MAX_ROUNDS], kb[2][MAX_ROUNDS], batch[2][MAX_ROUNDS],
	       busy[2][MAX_ROUNDS];
	struct arming a = { 0 };

	a.timers[0] = armed;
	for (int r = 0; r < opt_rounds; r++) {
		for (int k = 0; k < 2; k++) {
			struct run_result x = run_load(k ? RQ_OPEN_DEADLINE : RQ_OPEN, CLIENTS, 64, 0,
						       opt_window);

			eps[k][r] = x.eps, us[k][r] = x.us_daemon, kb[k][r] = x.kb_daemon;
			batch[k][r] = x.batch, busy[k][r] = x.busy;
			a.events[k] += x.events;
		}
		printf("%sround %d: without deadline %.0f ev/s (batch %.1f, writer busy %.0f%%, "
		       "daemon %.1f us, %.1f KiB written /event) | with %.0f ev/s (batch %.1f, writer "
		       "busy %.0f%%, daemon %.1f us, %.1f KiB /event): ratio %.2f\n", indent, r + 1,
		       eps[0][r], batch[0][r], busy[0][r] * 100, us[0][r], kb[0][r], eps[1][r],
		       batch[1][r], busy[1][r] * 100, us[1][r], kb[1][r], eps[1][r] / eps[0][r]);
		fflush(stdout);
	}
	for (int k = 0; k < 2; k++) {
		a.eps[k] = median(eps[k], opt_rounds);
		a.us[k] = median(us[k], opt_rounds);
		a.kb[k] = median(kb[k], opt_rounds);
		a.batch[k] = median(batch[k], opt_rounds);
		a.busy[k] = median(busy[k], opt_rounds);
	}
	return a;
}

static void print_arming(const char *indent, const struct arming *a)
{
	printf("%smedians (armed %" PRIu64 " before, %" PRIu64 " after): without deadline %.0f "
	       "ev/s, %.1f us, %.1f KiB /event; with %.0f ev/s, %.1f us, %.1f KiB /event: ratio "
	       "%.2f\n", indent, a->timers[0], a->timers[1], a->eps[0], a->us[0], a->kb[0],
	       a->eps[1], a->us[1], a->kb[1], a->eps[1] / a->eps[0]);
}

/* ---- ready time ---- */

static int notify_fd = -1;
static char notify_name[108];

static void notify_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;

	snprintf(notify_name, sizeof notify_name, "@nanti-bench-timers-%d", (int)getpid());
	/* abstract: the first byte of sun_path is 0, the name follows */
	memcpy(sa.sun_path + 1, notify_name + 1, strlen(notify_name) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(notify_name));
	if ((notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(notify_fd, (struct sockaddr *)&sa, len) != 0)
		die("cannot bind the notify socket");
}

static void notify_drain(void)
{
	char buf[4096];

	while (recv(notify_fd, buf, sizeof buf, 0) >= 0)
		;
}

/* Drop data.mdb's pages from the page cache (they are clean once the daemon has
 * stopped); returns the MB resident before and after. */
static void evict(const char *dir, double *before, double *after)
{
	char file[760];
	int fd;
	struct stat sb;

	*before = *after = -1;
	snprintf(file, sizeof file, "%s/state/data.mdb", dir);
	if ((fd = open(file, O_RDONLY)) < 0 || fstat(fd, &sb) != 0)
		die("cannot open data.mdb to evict it");
	for (int pass = 0; pass < 2; pass++) {
		long pg = sysconf(_SC_PAGESIZE);
		size_t pages = ((size_t)sb.st_size + (size_t)pg - 1) / (size_t)pg, res = 0;
		unsigned char *vec = malloc(pages ? pages : 1);
		void *map = sb.st_size ? mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd,
					      0) : MAP_FAILED;

		if (map != MAP_FAILED && vec != NULL && mincore(map, (size_t)sb.st_size, vec) == 0) {
			for (size_t i = 0; i < pages; i++)
				res += vec[i] & 1;
			*(pass ? after : before) = (double)res * (double)pg / 1048576.0;
		}
		if (map != MAP_FAILED)
			munmap(map, (size_t)sb.st_size);
		free(vec);
		if (pass == 0)
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	close(fd);
}

struct ready {
	double ready, ping, stop;	/* ms: exec to READY=1, to the first ping reply; SIGTERM
					 * to exit */
};

static struct ready timed_restart(const char *dir)
{
	struct ready r = { -1, -1, -1 };
	void *s = zmq_socket(zctx, ZMQ_REQ);
	int zero = 0, one = 1;
	char ep[700], buf[4096];
	proto_out ping;
	double t0, end, t;
	pid_t pid;

	notify_drain();
	snprintf(ep, sizeof ep, "ipc://%s/run/submit.sock", dir);
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &one, sizeof one);
	proto_out_init(&ping);
	msgpack_pack_map(&ping.pk, 1);
	proto_kv_cstr(&ping, "op", "ping");
	t0 = now_s();
	pid = daemon_spawn(opt_nantid, dir, notify_name, true);
	zmq_connect(s, ep);
	zmq_send(s, ping.sb.data, ping.sb.size, 0);
	end = t0 + 20;
	while ((r.ready < 0 || r.ping < 0) && (t = now_s()) < end) {
		zmq_pollitem_t items[2] = {
			{ NULL, notify_fd, ZMQ_POLLIN, 0 },
			{ s, 0, ZMQ_POLLIN, 0 },
		};

		if (zmq_poll(items, 2, 100) < 0 && zmq_errno() != EINTR)
			die("zmq_poll failed");
		t = now_s();
		if (items[0].revents & ZMQ_POLLIN) {
			ssize_t n;

			while ((n = recv(notify_fd, buf, sizeof buf - 1, 0)) >= 0) {
				buf[n] = 0;
				if (r.ready < 0 && (strncmp(buf, "READY=1", 7) == 0 ||
						    strstr(buf, "\nREADY=1") != NULL))
					r.ready = (t - t0) * 1e3;
			}
		}
		if ((items[1].revents & ZMQ_POLLIN) && zmq_recv(s, buf, sizeof buf, 0) > 0)
			r.ping = (t - t0) * 1e3;
	}
	zmq_close(s);
	proto_out_fini(&ping);
	if (r.ready < 0 || r.ping < 0)
		die("the restarted nantid did not become ready in 20 s");
	t0 = now_s();
	if (daemon_stop(pid) != 0)
		die("nantid did not stop cleanly");
	r.stop = (now_s() - t0) * 1e3;
	return r;
}

struct ready_medians {
	double ready[2], ping[2], stop;	/* [0] warm, [1] cold */
	double res_before, res_after;	/* MB of data.mdb resident, the last eviction */
};

static struct ready_medians ready_times(const char *dir)
{
	double ready[2][MAX_RESTARTS], ping[2][MAX_RESTARTS], stop[MAX_RESTARTS * 2];
	struct ready_medians m = { 0 };
	int ns = 0;

	for (int i = 0; i < opt_restarts; i++) {
		for (int cold = 0; cold < 2; cold++) {
			struct ready r;

			if (cold)
				evict(dir, &m.res_before, &m.res_after);
			r = timed_restart(dir);
			ready[cold][i] = r.ready;
			ping[cold][i] = r.ping;
			stop[ns++] = r.stop;
		}
	}
	for (int k = 0; k < 2; k++) {
		m.ready[k] = median(ready[k], opt_restarts);
		m.ping[k] = median(ping[k], opt_restarts);
	}
	m.stop = median(stop, ns);
	return m;
}

static void print_ready(const char *label, const struct ready_medians *m)
{
	printf("   %-34s | %7.1f %7.1f | %7.1f %7.1f | %7.1f ms\n", label, m->ready[0], m->ping[0],
	       m->ready[1], m->ping[1], m->stop);
}

/* ---- the phases ---- */

static void usage(void)
{
	printf("usage: nanti-bench-timers [--nantid PATH] [--dir DIR] [--cases N] [--timers N]\n"
	       "                          [--small N] [--window N] [--rounds N] [--restarts N]\n"
	       "                          [--lag-seconds S] [--rate N] [--burst N] [--morning N]\n"
	       "                          [--spread-days N]\n"
	       "  defaults: build/nantid, build/bench-timers, 1000000 cases with deadlines (each\n"
	       "  arms 3 or 4 timers; --timers N sets --cases N/3), a small ledger of 3334 cases,\n"
	       "  arming windows of 20000 requests, 3 rounds (of arming windows, and of lag windows\n"
	       "  with no load and under 8x1), 5 restarts, lag windows of 10 s with 100 timers due\n"
	       "  a second, bursts of 1000 and, at the big ledger,\n"
	       "  7500 (a working morning's: --morning 0 skips it), deadlines spread over 1096\n"
	       "  days from a month ahead\n");
}

static uint64_t arg_u64(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != 0)
		die("bad number in the arguments");
	return (uint64_t)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nantid", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "cases", required_argument, NULL, 'c' },
		{ "timers", required_argument, NULL, 't' },
		{ "small", required_argument, NULL, 's' },
		{ "window", required_argument, NULL, 'w' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "restarts", required_argument, NULL, 'R' },
		{ "lag-seconds", required_argument, NULL, 'l' },
		{ "rate", required_argument, NULL, 'a' },
		{ "burst", required_argument, NULL, 'b' },
		{ "spread-days", required_argument, NULL, 'D' },
		{ "morning", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char cmd[1400], empty_dir[700], d0[11], d1[11];
	struct ledger_facts small_f = { 0 }, big_f;
	struct arming small_a = { 0 }, big_a;
	struct burst_result small_b = { 0 }, big_b, morning_b = { 0 };
	struct window small_idle = { 0 };
	double lag50[3], lag99[3];	/* at the big ledger: no load, 8x1, 8x64 */
	struct ready_medians r_empty, r_big;
	struct plan sp = { 0 }, bp = { 0 };
	struct sub sb;
	double t0, load_s;
	uint64_t loaded, armed, dl_cases;
	pid_t pid;
	int o;

	bench_prog = "nanti-bench-timers";
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': opt_nantid = optarg; break;
		case 'd': opt_dir = optarg; break;
		case 'c': opt_cases = arg_u64(optarg); break;
		case 't': opt_cases = (arg_u64(optarg) + 2) / 3; break;
		case 's': opt_small = arg_u64(optarg); break;
		case 'w': opt_window = arg_u64(optarg); break;
		case 'r': opt_rounds = atoi(optarg); break;
		case 'R': opt_restarts = atoi(optarg); break;
		case 'l': opt_lag_seconds = atof(optarg); break;
		case 'a': opt_rate = arg_u64(optarg); break;
		case 'b': opt_burst = arg_u64(optarg); break;
		case 'm': opt_morning = arg_u64(optarg); break;
		case 'D': opt_spread_days = (int64_t)arg_u64(optarg); break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (opt_rounds < 1 || opt_rounds > MAX_ROUNDS || opt_restarts < 1 ||
	    opt_restarts > MAX_RESTARTS || opt_lag_seconds <= 0 || opt_rate < 1 || opt_rate > 1000 ||
	    opt_small < 1 || opt_cases < opt_small || opt_window < CLIENTS * 64 ||
	    opt_spread_days < 1 || opt_spread_days > 3660)
		die("--rounds 1..9, --restarts 1..21, --rate 1..1000, --lag-seconds > 0, "
		    "--small >= 1, --cases >= --small, --window >= 512, --spread-days 1..3660");
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", opt_dir, opt_dir);
	if (system(cmd) != 0)
		die("cannot prepare the bench directory");
	snprintf(empty_dir, sizeof empty_dir, "%s/empty", opt_dir);
	zctx = zmq_ctx_new();
	notify_open();
	signal(SIGPIPE, SIG_IGN);

	/* deadlines a month on and over three years: every case arms its three timers, and
	 * nothing armed falls due while the benchmark runs */
	request_deadline_first = today() + 32;
	request_deadline_days = opt_spread_days;
	proto_date_format(request_deadline_first, d0);
	proto_date_format(request_deadline_first + request_deadline_days - 1, d1);
	printf("nanti-bench-timers: the deadline timer engine, nantid %s, data in %s\n",
	       PROTO_VERSION, opt_dir);
	printf("each case is opened with a deadline spread by a hash over %s .. %s; loads are %d "
	       "clients\n\n", d0, d1, CLIENTS);

	/* ---- 1. the small ledger ---- */
	pid = daemon_start(opt_nantid, opt_dir, false);
	bench_setup();
	printf("1. the small ledger: %" PRIu64 " cases with deadlines, through the daemon (8x64)\n",
	       opt_small);
	fflush(stdout);
	run_load(RQ_OPEN_DEADLINE, CLIENTS, 64, 0, opt_small);
	daemon_stop(pid);
	small_f = ledger_facts(opt_dir);
	print_facts("   ", &small_f);
	per_case = small_f.cases ? (small_f.timers + small_f.cases / 2) / small_f.cases : 3;
	printf("   timers armed by a case.open with a deadline: %" PRIu64 "\n", per_case);
	{
		/* firing lag with no load, then the burst; at most a third of the cases each */
		double secs = opt_lag_seconds;
		uint64_t burst = opt_burst;
		int64_t base;
		int wi, wb;

		if ((double)opt_rate * secs > (double)opt_small / 3)
			secs = (double)(opt_small / 3) / (double)opt_rate;
		if (burst > opt_small / 3)
			burst = opt_small / 3;
		base = (int64_t)now_real_ms() + 3000;
		wi = plan_spread(&sp, "none", 1, base, secs);
		wb = plan_burst(&sp, "burst", base + (int64_t)(secs * 1000) + 2000, burst);
		plan_write(&sp);
		pid = start_and_subscribe(&sb, sp.n + 16, base);
		burst_watch(&sb, &sp.w[wb]);
		wait_all(&sb, plan_expected(&sp), (double)sp.w[wb].start + 30000);
		usleep(200000);	/* anything late */
		sub_stop(&sb);
		plan_collect(&sp, &sb);
		free(sb.v);
		printf("   firing lag at %" PRIu64 " armed, timers due %.0f ms apart:\n",
		       small_f.timers, 1000.0 / (double)opt_rate);
		print_lag_header();
		print_lag_row("none", &sp.w[wi]);
		small_idle = sp.w[wi];
		small_b = burst_of(&sp.w[wb]);
		print_burst("   ", "burst", &small_b);
	}
	printf("   arming: case.open at 8x64, %" PRIu64 " requests a window, without and with a "
	       "deadline, alternately:\n", opt_window);
	fflush(stdout);
	small_a = arming_windows("   ", small_f.timers);
	daemon_stop(pid);
	{
		struct ledger_facts f = ledger_facts(opt_dir);

		small_a.timers[1] = armed = f.timers;
		dl_cases = small_f.cases + small_a.events[1];
		if (small_a.events[0] > 0 && f.timers >= small_f.timers + per_case * small_a.events[1])
			per_case_nodl = (f.timers - small_f.timers - per_case * small_a.events[1] +
					 small_a.events[0] / 2) / small_a.events[0];
	}
	print_arming("   ", &small_a);
	printf("   timers armed by a case.open without a deadline: %" PRIu64 "\n", per_case_nodl);
	pid = daemon_start(opt_nantid, opt_dir, true);

	/* ---- 2. the million: loaded in steps, each step's arming cost printed ---- */
	loaded = 0;
	load_s = 0;
	if (opt_cases > dl_cases) {
		static const double steps[] = { 1.0 / 30, 1.0 / 10, 1.0 / 3, 1 };

		printf("\n2. loading to %" PRIu64 " cases with deadlines (8x64), in steps:\n", opt_cases);
		printf("   %-21s %-21s | %8s %6s %6s %8s %8s | %6s\n", "cases with deadlines",
		       "armed timers", "ev/s", "batch", "busy", "daemon", "written", "s");
		fflush(stdout);
		for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
			uint64_t to = (uint64_t)((double)opt_cases * steps[i]);
			struct run_result x;

			if (to <= dl_cases)
				continue;
			t0 = now_s();
			x = run_load(RQ_OPEN_DEADLINE, CLIENTS, 64, 0, to - dl_cases);
			load_s += now_s() - t0;
			loaded += x.events;
			printf("   %9" PRIu64 " .. %-8" PRIu64 " %9" PRIu64 " .. %-8" PRIu64 " | %8.0f "
			       "%6.1f %5.0f%% %5.1f us %4.1f KiB | %6.1f\n", dl_cases,
			       dl_cases + x.events, armed, armed + per_case * x.events, x.eps, x.batch,
			       x.busy * 100, x.us_daemon, x.kb_daemon, x.seconds);
			fflush(stdout);
			dl_cases += x.events;
			armed += per_case * x.events;
		}
		printf("   loaded %" PRIu64 " cases with deadlines in %.1f s: %.0f ev/s\n", loaded,
		       load_s, (double)loaded / load_s);
	} else {
		printf("\n2. the ledger already holds %" PRIu64 " cases with deadlines\n", dl_cases);
	}
	printf("   arming again, at the big ledger:\n");
	fflush(stdout);
	big_a = arming_windows("   ", armed);
	daemon_stop(pid);
	big_f = ledger_facts(opt_dir);
	big_a.timers[1] = big_f.timers;
	print_arming("   ", &big_a);
	print_facts("   ", &big_f);

	/* ---- 3. ready time ---- */
	printf("\n3. ready time: exec to READY=1 (sd_notify) and to the first ping reply, "
	       "medians of %d restarts\n", opt_restarts);
	printf("   (warm: data.mdb in the page cache; cold: evicted with posix_fadvise first)\n");
	fflush(stdout);
	r_big = ready_times(opt_dir);
	pid = daemon_start(opt_nantid, empty_dir, false);	/* creates it */
	daemon_stop(pid);
	r_empty = ready_times(empty_dir);
	printf("   %-34s | %15s | %15s | %s\n", "ledger", "warm: READY ping", "cold: READY ping",
	       "SIGTERM to exit");
	print_ready("empty (the baseline)", &r_empty);
	snprintf(cmd, sizeof cmd, "%" PRIu64 " cases, %" PRIu64 " timers", big_f.cases,
		 big_f.timers);
	print_ready(cmd, &r_big);
	printf("   cold eviction: %.0f MB of data.mdb resident before, %.0f MB after\n",
	       r_big.res_before, r_big.res_after);
	printf("   target: ready in under 1 s\n");
	fflush(stdout);

	/* ---- 4. firing lag and the bursts at the million ---- */
	{
		double s = opt_lag_seconds, p50[2][MAX_ROUNDS], p99[2][MAX_ROUNDS];
		uint64_t need = (uint64_t)(s * (double)(2 * opt_rounds + 1) * (double)opt_rate) +
				opt_burst + opt_morning;
		/* time to move them (about 0.2 ms each in a big ledger), restart and subscribe */
		int64_t base = (int64_t)now_real_ms() + 4000 + (int64_t)(need / 3), t;
		int wr[2][MAX_ROUNDS], ws, wb, wm = -1;
		char label[64];

		if (need > big_f.cases / 2)
			die("too few cases for the lag windows: lower --rate, --lag-seconds, --burst "
			    "or --morning");
		printf("\n4. firing lag at %" PRIu64 " armed: windows of %.0f s of timers due %.0f ms "
		       "apart, %d rounds of: no load (the baseline), then 8 clients x 1 case.note in "
		       "flight (a steady load); then 8 x 64 (saturating); then the bursts\n",
		       big_f.timers, s, 1000.0 / (double)opt_rate, opt_rounds);
		fflush(stdout);
		t = base;
		for (int r = 0; r < opt_rounds; r++) {
			for (int k = 0; k < 2; k++) {
				wr[k][r] = plan_spread(&bp, k ? "8x1 case.note" : "none", r + 1, t, s);
				t += (int64_t)(s * 1000) + 3000;
			}
		}
		ws = plan_spread(&bp, "8x64 case.note", 0, t, s);
		t += (int64_t)(s * 1000) + 3000;
		wb = plan_burst(&bp, "burst", t, opt_burst);
		if (opt_morning > 0)
			wm = plan_burst(&bp, "a working morning's burst", t + 3000, opt_morning);
		plan_write(&bp);
		request_note_first = 1;
		request_note_cases = big_f.cases;
		pid = start_and_subscribe(&sb, bp.n + 16, base);
		for (int w = 0; w < bp.nw; w++) {
			struct window *x = &bp.w[w];
			bool steady = x->round > 0 && w == wr[1][x->round - 1];

			if (!steady && w != ws)
				continue;
			/* the load runs from 1.5 s before the window to 0.5 s after it */
			msleep_until((double)x->start - 1500);
			x->load = run_load(RQ_NOTE, CLIENTS, steady ? 1 : 64,
					   ((double)x->end + 500 - now_real_ms()) / 1e3, 0);
			x->loaded = true;
		}
		burst_watch(&sb, &bp.w[wb]);
		if (wm >= 0)
			burst_watch(&sb, &bp.w[wm]);
		wait_all(&sb, plan_expected(&bp), (double)bp.w[wb].start + 60000);
		usleep(200000);
		sub_stop(&sb);
		plan_collect(&bp, &sb);
		free(sb.v);
		print_lag_header();
		for (int w = 0; w < bp.nw; w++) {
			const struct window *x = &bp.w[w];

			if (w == wb || w == wm)
				continue;
			if (x->round > 0)
				snprintf(label, sizeof label, "%s, round %d", x->name, x->round);
			else
				snprintf(label, sizeof label, "%s", x->name);
			print_lag_row(label, x);
		}
		for (int k = 0; k < 2; k++) {
			for (int r = 0; r < opt_rounds; r++) {
				const struct window *x = &bp.w[wr[k][r]];

				p50[k][r] = quantile(x->lag, x->n, 0.50);
				p99[k][r] = quantile(x->lag, x->n, 0.99);
			}
			lag50[k] = median(p50[k], opt_rounds);
			lag99[k] = median(p99[k], opt_rounds);
		}
		lag50[2] = quantile(bp.w[ws].lag, bp.w[ws].n, 0.50);
		lag99[2] = quantile(bp.w[ws].lag, bp.w[ws].n, 0.99);
		printf("   medians over the %d rounds: no load lag p50 %.2f ms, p99 %.2f ms; 8x1 p50 "
		       "%.2f ms, p99 %.2f ms   (target: p99 < 50 ms)\n", opt_rounds, lag50[0], lag99[0],
		       lag50[1], lag99[1]);
		for (int w = 0; w < bp.nw; w++) {
			const struct window *x = &bp.w[w];

			if (x->loaded)
				printf("   the load beside %s%s: %.0f ev/s, ack p50 %.2f ms, p99 %.2f ms, "
				       "batch %.1f, writer busy %.0f%%\n", x->name,
				       x->round ? (snprintf(label, sizeof label, ", round %d", x->round),
						   label) : "", x->load.eps, x->load.p50, x->load.p99,
				       x->load.batch, x->load.busy * 100);
		}
		big_b = burst_of(&bp.w[wb]);
		print_burst("   ", "burst", &big_b);
		if (wm >= 0) {
			morning_b = burst_of(&bp.w[wm]);
			print_burst("   ", "a working morning's burst", &morning_b);
		}
		daemon_stop(pid);
	}

	/* ---- summary ---- */
	printf("\nsummary (medians; ratios within this run):\n");
	printf("  arming  case.open with a deadline at %" PRIu64 "..%" PRIu64 " timers: %.0f ev/s, "
	       "%.1f KiB written /event; at %" PRIu64 "..%" PRIu64 ": %.0f ev/s, %.1f KiB /event "
	       "(ratio %.2f; without a deadline %.2f)\n", small_a.timers[0], small_a.timers[1],
	       small_a.eps[1], small_a.kb[1], big_a.timers[0], big_a.timers[1], big_a.eps[1],
	       big_a.kb[1], big_a.eps[1] / small_a.eps[1], big_a.eps[0] / small_a.eps[0]);
	printf("          with/without a deadline: %.2f small, %.2f big; daemon CPU per event "
	       "with a deadline %.1f and %.1f us\n", small_a.eps[1] / small_a.eps[0],
	       big_a.eps[1] / big_a.eps[0], small_a.us[1], big_a.us[1]);
	if (loaded > 0)
		printf("  loading %" PRIu64 " cases with deadlines: %.1f s\n", loaded, load_s);
	printf("  ready   %" PRIu64 " timers: READY %.1f ms warm, %.1f ms cold; empty ledger %.1f "
	       "and %.1f ms   (target: < 1 s)\n", big_f.timers, r_big.ready[0], r_big.ready[1],
	       r_empty.ready[0], r_empty.ready[1]);
	printf("  lag     at %" PRIu64 " timers, p50/p99: no load %.2f/%.2f ms and 8x1 %.2f/%.2f ms "
	       "(medians of %d windows each), 8x64 %.2f/%.2f ms; at %" PRIu64 ", no load %.2f/%.2f "
	       "ms   (target: p99 < 50 ms)\n", big_f.timers, lag50[0], lag99[0], lag50[1], lag99[1],
	       opt_rounds, lag50[2], lag99[2], small_f.timers,
	       quantile(small_idle.lag, small_idle.n, 0.5),
	       quantile(small_idle.lag, small_idle.n, 0.99));
	printf("  burst   %zu at one instant: %.0f firings/s at %" PRIu64 " timers, %.0f at %" PRIu64
	       " (ratio %.2f)\n", big_b.n, big_b.rate, big_f.timers, small_b.rate, small_f.timers,
	       small_b.rate > 0 ? big_b.rate / small_b.rate : 0);
	if (opt_morning > 0)
		printf("          %zu at one instant (a working morning's, docs/bench.md): the last "
		       "published %.0f ms after it, %.0f firings/s\n", morning_b.n, morning_b.last,
		       morning_b.rate);
	plan_free(&sp);
	plan_free(&bp);
	close(notify_fd);
	zmq_ctx_term(zctx);
	return 0;
}
