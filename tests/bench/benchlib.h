/*
 * benchlib.h - what the benchmarks share (tests/bench/): the daemon started and stopped,
 * synchronous requests (ping, stats), the benchmark's unit and person, and the load
 * generator: CLIENTS DEALER connections driven by one thread, each keeping `depth`
 * requests in flight, every ack's latency recorded.
 *
 * bench.c (`nanti-bench`, throughput and ack latency beside the raw disk) and
 * bench_timers.c (`nanti-bench-timers`, the deadline timer engine) both use it.
 */
#ifndef BENCHLIB_H
#define BENCHLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model.h"
#include "proto.h"

#define CLIENTS		8

extern const char *bench_prog;		/* for messages: "nanti-bench" */
extern void *zctx;
extern char submit_ep[700], events_ep[700];
extern pid_t daemon_pid;		/* the running daemon, killed by die() */

double now_s(void);			/* CLOCK_MONOTONIC, seconds */
double now_real_ms(void);		/* CLOCK_REALTIME, milliseconds (the daemon's clock) */
void die(const char *what);
int cmp_double(const void *a, const void *b);
double median(double *v, int n);	/* sorts v */
/* The q-quantile (0..1) of v[0..n), sorted already. */
double quantile(const double *v, size_t n, double q);

/* ---- the requests the clients send ---- */

enum request_kind {
	RQ_OPEN,		/* a realistic case.open (Chinese title, unit, a tag) */
	RQ_OPEN_DEADLINE,	/* the same with a deadline: arms the case's three timers */
	RQ_NOTE,		/* case.note on an existing case */
};

/*
 * Each client encodes its request once and then only rewrites digits in place: the id
 * (time-ordered like the nanti client's: 12 hex digits of Unix ms, the client, and a
 * counter in which the in-flight slot rides), the title's number, and for RQ_OPEN_DEADLINE
 * the deadline, for RQ_NOTE the case.
 */
struct request {
	proto_out o;
	enum request_kind kind;
	size_t id_at, n_at;	/* where the id's and the title (note) number's digits are */
	size_t dl_at;		/* RQ_OPEN_DEADLINE: the deadline's "YYYY-MM-DD" */
	size_t case_at;		/* RQ_NOTE: the case id's 8 big-endian bytes */
};

/* RQ_OPEN_DEADLINE: request n's deadline is a day of [first, first + days), spread by a
 * hash of n. RQ_NOTE: request n notes a case of [first, first + n), spread likewise. */
extern int64_t request_deadline_first, request_deadline_days;
extern uint64_t request_note_first, request_note_cases;

void request_init(struct request *r, int client);	/* RQ_OPEN */
void request_init_kind(struct request *r, int client, enum request_kind kind);
/* Make r the request with counter n (slot in its low 10 bits) and title number title_n. */
void request_set(struct request *r, uint64_t n, uint64_t title_n);
uint64_t bench_hash(uint64_t x);	/* splitmix64's finaliser */

/* ---- synchronous requests ---- */

/* Send body, wait (2 s at most) for the reply; read keys[0..nkeys) of it as integers. */
bool request_body(const proto_out *body, uint64_t *out_vals, const char *const *keys,
		  int nkeys);
bool request(const char *op, uint64_t *out_vals, const char *const *keys, int nkeys);

/* The county, the township "anling", and bench.cadre, a cadre of anling, who leads the
 * benchmark's cases. bench_setup() puts them through the daemon. */
extern const struct unit_rec bench_units[2];
extern const struct person_rec bench_person;
void bench_setup(void);

struct stats {
	uint64_t seq, commits, events, commit_us, cases;
};
struct stats daemon_stats(void);

/* ---- the daemon ---- */

/*
 * Fork and exec nantid on DIR/state and DIR/run (log to DIR/nantid.log, appended if
 * append, else truncated), with NOTIFY_SOCKET set to notify if not NULL. Sets submit_ep,
 * events_ep and daemon_pid; does not wait. daemon_start() also waits until it answers a
 * ping (10 s at most).
 */
pid_t daemon_spawn(const char *nantid, const char *dir, const char *notify, bool append);
pid_t daemon_start(const char *nantid, const char *dir, bool append);
/* SIGTERM, then wait for it to exit; returns its exit status (-1: killed). */
int daemon_stop(pid_t pid);

double cpu_seconds(pid_t pid);	/* user + system CPU seconds a process has used */
uint64_t written_bytes(pid_t pid);	/* bytes its write calls passed (/proc/PID/io wchar) */
uint64_t rss_anon_kb(pid_t pid);

/* ---- load generators ---- */

struct run_result {
	double eps;		/* durable acknowledged events per second */
	double p50, p99;	/* ack latency, ms */
	double batch;		/* mean events per commit */
	double busy;		/* share of the time the commit thread was committing */
	double us_daemon;	/* CPU microseconds per event: the daemon */
	double us_clients;	/* CPU microseconds per event: the load generator */
	double cores;		/* CPU used by both, in cores */
	double kb_daemon;	/* KiB the daemon wrote (write calls: LMDB's pages) per event */
	double seconds;		/* how long it ran */
	uint64_t events, errors;
};

/* nclients clients keeping depth requests of kind in flight, for `seconds` (count 0) or
 * until count requests are acknowledged. */
struct run_result run_load(enum request_kind kind, int nclients, int depth, double seconds,
			   uint64_t count);
/* The same with RQ_OPEN (nanti-bench's load). */
struct run_result run_clients(int nclients, int depth, double seconds, uint64_t count);

#endif
