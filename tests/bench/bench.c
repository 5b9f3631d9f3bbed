/*
 * bench.c - `make bench`: nantid's durable throughput and latency, beside the raw limit
 * of the disk measured in the same run.
 *
 * What it does, in order:
 *   1. starts the real nantid on a fresh directory under build/ (a real disk, not tmpfs)
 *      and loads it with 100,000 cases through the protocol;
 *   2. for R rounds: drives it with 8 clients keeping 64 requests in flight each, then
 *      with 8 clients keeping 1 in flight, each for a few seconds; records every ack's
 *      latency and, from the daemon's stats op, how many commits served those events;
 *   3. after each daemon run, measures the raw limit: the same records (encoded
 *      beforehand, untimed, by the same core and batch functions) put straight into a
 *      separate LMDB environment holding the same number of cases, by a plain loop, in
 *      batches of the size the daemon's group commit actually formed, each committed with
 *      full sync; only begin, puts and commit are timed;
 *   4. loads the daemon to 1,000,000 cases and reads RssAnon from /proc.
 * It prints medians over the rounds and the ratio daemon/raw. Nothing here asserts a
 * time: the numbers are for people (docs/bench.md).
 */
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "batch.h"
#include "benchlib.h"
#include "core.h"
#include "ledger.h"
#include "proto.h"

#define MAX_ROUNDS	9

static const char *opt_nantid = "build/nantid";
static const char *opt_dir = "build/bench-data";
static int opt_rounds = 3;
static double opt_seconds = 4.0;
static uint64_t opt_preload = 100000;
static uint64_t opt_big = 1000000;

/* ---- the raw limit ---- */

struct raw {
	struct ledger *lg;
	struct core_effect e;
	struct request req;
	proto_out entry;
	uint64_t seq, next_case, n;
	uint8_t last_hash[CHAIN_LEN];
};

/* The raw loop's core reads the benchmark's units and person, and nothing else. */
static proto_out bench_recs[3];

static nt_err bench_get(void *ctx, enum ledger_db db, const void *key, size_t klen, MDB_val *val)
{
	int i = -1;

	(void)ctx;
	if (db == DB_UNITS && klen == 6)
		i = memcmp(key, "county", 6) == 0 ? 0 : memcmp(key, "anling", 6) == 0 ? 1 : -1;
	else if (db == DB_PEOPLE && klen == bench_person.id.len &&
		 memcmp(key, bench_person.id.ptr, klen) == 0)
		i = 2;
	if (i < 0)
		return NT_ENOTFOUND;
	if (bench_recs[i].pk.callback == NULL) {
		proto_out_init(&bench_recs[i]);
		if (i < 2)
			rec_encode(&bench_recs[i], &unit_desc, &bench_units[i]);
		else
			rec_encode(&bench_recs[i], &person_desc, &bench_person);
	}
	val->mv_data = bench_recs[i].sb.data;
	val->mv_size = bench_recs[i].sb.size;
	return NT_OK;
}

struct raw_result {
	double eps;		/* events per second */
	double p50, p99;	/* one batch's begin-to-durable time, ms */
};

/* One record to put: a slice of the arena. */
struct rec {
	enum ledger_db db;
	uint8_t key[LEDGER_MAX_KEY];
	uint32_t klen;
	size_t voff, vlen;
	bool append;
};

/* The records of a batch; it grows (how many an event stores is the core's business). */
struct recs {
	struct rec *v;
	size_t n, cap;
};

static void rec_add(struct recs *r, proto_out *arena, enum ledger_db db, const void *key,
		    size_t klen, const void *val, size_t vlen, bool append)
{
	struct rec *x;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4096;
		if ((r->v = realloc(r->v, r->cap * sizeof *r->v)) == NULL)
			die("raw: out of memory");
	}
	x = &r->v[r->n++];
	x->db = db;
	memcpy(x->key, key, klen);
	x->klen = (uint32_t)klen;
	x->voff = arena->sb.size;
	x->vlen = vlen;
	x->append = append;
	proto_out_raw(arena, val, vlen);
}

/*
 * Encode k events' records exactly as the daemon would (the core, batch_entry_pack,
 * batch_reqval), into recs and arena. Not timed: the raw limit is LMDB and the disk.
 */
static void raw_records(struct raw *w, uint64_t k, struct recs *recs, proto_out *arena)
{
	const struct op *open = ops_find((proto_str){ "case.open", 9 });

	recs->n = 0;
	proto_out_reset(arena);
	for (uint64_t i = 0; i < k; i++) {
		struct proto_arg args[OPS_MAX_FIELDS];
		struct proto_request rq;
		proto_doc doc;
		uint8_t key[8], rv[BATCH_REQVAL_MAX];
		size_t rl;
		int64_t at = (int64_t)time(NULL) * 1000;
		struct core_view v = { NULL, bench_get, w->next_case, w->seq + 1, at, NULL, NULL };
		struct core_req r;

		request_set(&w->req, w->n * 1024, w->n);
		w->n++;
		if (proto_request(&doc, w->req.o.sb.data, w->req.o.sb.size, &rq, NULL, 0) != NT_OK ||
		    proto_fields(rq.body, open->fields, open->nfields, args, NULL, 0) != NT_OK)
			die("raw: bad request");
		r = (struct core_req){ rq.id, rq.actor, args, open };
		core_effect_reset(&w->e);
		if (open->apply(&v, &r, &w->e, NULL, 0) != NT_OK)
			die("raw: core refused");
		for (unsigned p = 0; p < w->e.nputs; p++)
			rec_add(recs, arena, w->e.puts[p].db, w->e.puts[p].key, w->e.puts[p].klen,
				w->e.buf.sb.data + w->e.puts[p].voff, w->e.puts[p].vlen,
				w->e.puts[p].append);
		batch_entry_pack(&w->entry, v.seq, at, &r, &w->e, w->last_hash, w->last_hash);
		ledger_key_u64(key, v.seq);
		rec_add(recs, arena, DB_LOG, key, 8, w->entry.sb.data, w->entry.sb.size, true);
		rl = batch_reqval(rv, v.seq, core_request_hash(rq.body), &w->e);
		rec_add(recs, arena, DB_REQS, rq.id.ptr, rq.id.len, rv, rl, false);
		proto_doc_fini(&doc);
		w->seq++;
		w->next_case++;
	}
	if (arena->oom)
		die("raw: out of memory");
}

/*
 * The raw limit: batches of `batch` events (the size the daemon's group commit formed),
 * each one transaction of plain puts of ready records and a commit with full sync, for
 * `seconds` (or `count` events). Only begin-puts-commit is timed.
 */
static struct raw_result raw_run(struct raw *w, double batch, double seconds, uint64_t count)
{
	struct raw_result res = { 0 };
	size_t nlat = 0, caplat = 1024;
	double *lat = malloc(caplat * sizeof *lat);
	struct recs recs = { 0 };
	proto_out arena;
	double t0 = now_s(), carry = 0, timed = 0;
	uint64_t done = 0;

	proto_out_init(&arena);
	while (count ? done < count : now_s() - t0 < seconds) {
		struct ledger_txn t;
		uint64_t k;
		double tb;

		carry += batch;
		k = (uint64_t)carry;
		carry -= (double)k;
		if (k == 0)
			continue;
		if (count && k > count - done)
			k = count - done;
		raw_records(w, k, &recs, &arena);
		for (;;) {
			tb = now_s();
			if (ledger_begin(w->lg, &t, true) != NT_OK)
				die("raw: begin failed");
			for (size_t i = 0; i < recs.n; i++)
				ledger_put(&t, recs.v[i].db, recs.v[i].key, recs.v[i].klen,
					   arena.sb.data + recs.v[i].voff, recs.v[i].vlen,
					   recs.v[i].append);
			if (ledger_commit(&t) != NT_EMAPFULL)
				break;
			ledger_grow(w->lg);	/* write the same batch again */
		}
		if (t.err != NT_OK)
			die("raw: commit failed");
		if (nlat == caplat)
			lat = realloc(lat, (caplat *= 2) * sizeof *lat);
		lat[nlat] = (now_s() - tb) * 1e3;
		timed += lat[nlat++] / 1e3;
		done += k;
	}
	res.eps = timed > 0 ? (double)done / timed : 0;
	qsort(lat, nlat, sizeof *lat, cmp_double);
	res.p50 = nlat ? lat[nlat / 2] : 0;
	res.p99 = nlat ? lat[(size_t)((double)nlat * 0.99)] : 0;
	free(lat);
	free(recs.v);
	proto_out_fini(&arena);
	return res;
}

static void usage(void)
{
	printf("usage: nanti-bench [--nantid PATH] [--dir DIR] [--rounds N] [--seconds S]\n"
	       "                   [--preload N] [--big N]\n"
	       "  defaults: build/nantid, build/bench-data, 3 rounds of 4 s, 100000 cases,\n"
	       "  RssAnon measured at 1000000 cases (--big 0 skips it)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nantid", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "preload", required_argument, NULL, 'p' },
		{ "big", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double a_eps[MAX_ROUNDS], a_raw[MAX_ROUNDS], a_ratio[MAX_ROUNDS], a_p50[MAX_ROUNDS],
	       a_p99[MAX_ROUNDS], a_batch[MAX_ROUNDS];
	double b_eps[MAX_ROUNDS], b_raw[MAX_ROUNDS], b_ratio[MAX_ROUNDS], b_p50[MAX_ROUNDS],
	       b_p99[MAX_ROUNDS], b_batch[MAX_ROUNDS];
	double a_rp50[MAX_ROUNDS], a_rp99[MAX_ROUNDS], b_rp50[MAX_ROUNDS], b_rp99[MAX_ROUNDS];
	struct raw w = { 0 };
	char cmd[1200], rawdir[600];
	struct stats st;
	pid_t pid;
	int o, status;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': opt_nantid = optarg; break;
		case 'd': opt_dir = optarg; break;
		case 'r': opt_rounds = atoi(optarg); break;
		case 's': opt_seconds = atof(optarg); break;
		case 'p': opt_preload = strtoull(optarg, NULL, 10); break;
		case 'b': opt_big = strtoull(optarg, NULL, 10); break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (opt_rounds < 1 || opt_rounds > MAX_ROUNDS || opt_seconds <= 0)
		die("--rounds must be 1..9 and --seconds positive");
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/raw'", opt_dir, opt_dir);
	if (system(cmd) != 0)
		die("cannot prepare the bench directory");
	zctx = zmq_ctx_new();
	pid = daemon_start(opt_nantid, opt_dir, false);
	bench_setup();

	printf("nanti-bench: nantid %s, %d clients, %d rounds of %.1f s, data in %s\n",
	       PROTO_VERSION, CLIENTS, opt_rounds, opt_seconds, opt_dir);
	printf("loading %" PRIu64 " cases through the daemon ...\n", opt_preload);
	fflush(stdout);
	run_clients(CLIENTS, 64, 0, opt_preload);

	/* the raw environment gets the same number of cases, written without timing */
	snprintf(rawdir, sizeof rawdir, "%s/raw", opt_dir);
	if (ledger_open(&w.lg, rawdir, 0) != NT_OK)
		die("cannot open the raw LMDB environment");
	core_effect_init(&w.e);
	request_init(&w.req, 99);
	proto_out_init(&w.entry);
	w.next_case = 1;
	raw_run(&w, 5000, 0, daemon_stats().seq);

	for (int r = 0; r < opt_rounds; r++) {
		struct run_result a, b;
		struct raw_result ra, rb;

		a = run_clients(CLIENTS, 64, opt_seconds, 0);
		ra = raw_run(&w, a.batch, opt_seconds, 0);
		b = run_clients(CLIENTS, 1, opt_seconds, 0);
		rb = raw_run(&w, b.batch, opt_seconds, 0);
		a_raw[r] = ra.eps, a_rp50[r] = ra.p50, a_rp99[r] = ra.p99;
		b_raw[r] = rb.eps, b_rp50[r] = rb.p50, b_rp99[r] = rb.p99;
		a_eps[r] = a.eps, a_p50[r] = a.p50, a_p99[r] = a.p99, a_batch[r] = a.batch;
		b_eps[r] = b.eps, b_p50[r] = b.p50, b_p99[r] = b.p99, b_batch[r] = b.batch;
		a_ratio[r] = a.eps / a_raw[r];
		b_ratio[r] = b.eps / b_raw[r];
		printf("round %d: 8x64 %.0f ev/s (raw %.0f, ratio %.2f, batch %.1f, writer busy "
		       "%.0f%%, CPU/event daemon %.1f us + clients %.1f us = %.2f cores, "
		       "p50 %.2f ms, p99 %.2f ms) | 8x1 %.0f ev/s (raw %.0f, ratio %.2f, "
		       "batch %.1f, writer busy %.0f%%, p50 %.2f ms, p99 %.2f ms; raw commit p50 %.2f "
		       "p99 %.2f ms)\n", r + 1, a.eps, a_raw[r], a_ratio[r], a.batch, a.busy * 100,
		       a.us_daemon, a.us_clients, a.cores, a.p50, a.p99, b.eps, b_raw[r], b_ratio[r], b.batch, b.busy * 100, b.p50,
		       b.p99, rb.p50, rb.p99);
		fflush(stdout);
	}
	st = daemon_stats();
	printf("\nmedians over %d rounds, ledger at %" PRIu64 " events:\n", opt_rounds, st.seq);
	printf("  %-6s %11s %11s %6s %7s | %8s %8s | %13s %13s\n", "load", "acked ev/s",
	       "raw ev/s", "ratio", "batch", "ack p50", "ack p99", "raw commit p50", "p99");
	printf("  %-6s %11.0f %11.0f %6.2f %7.1f | %8.2f %8.2f | %13.2f %13.2f ms\n", "8x64",
	       median(a_eps, opt_rounds), median(a_raw, opt_rounds), median(a_ratio, opt_rounds),
	       median(a_batch, opt_rounds), median(a_p50, opt_rounds), median(a_p99, opt_rounds),
	       median(a_rp50, opt_rounds), median(a_rp99, opt_rounds));
	printf("  %-6s %11.0f %11.0f %6.2f %7.1f | %8.2f %8.2f | %13.2f %13.2f ms\n", "8x1",
	       median(b_eps, opt_rounds), median(b_raw, opt_rounds), median(b_ratio, opt_rounds),
	       median(b_batch, opt_rounds), median(b_p50, opt_rounds), median(b_p99, opt_rounds),
	       median(b_rp50, opt_rounds), median(b_rp99, opt_rounds));
	printf("  targets: 8x64 ratio >= 0.90; 8x1 ack p99 < 3 ms\n");
	fflush(stdout);

	if (opt_big > 0) {
		if (opt_big > st.seq) {
			printf("\nloading to %" PRIu64 " cases ...\n", opt_big);
			fflush(stdout);
			run_clients(CLIENTS, 64, 0, opt_big - st.seq);
			st = daemon_stats();
		}
		printf("RssAnon of nantid with %" PRIu64 " cases in the ledger: %.1f MB   "
		       "(target: < 64 MB at 1,000,000)\n", st.cases, (double)rss_anon_kb(pid) / 1024.0);
	}
	status = daemon_stop(pid);
	ledger_close(&w.lg);
	core_effect_fini(&w.e);
	proto_out_fini(&w.req.o);
	proto_out_fini(&w.entry);
	zmq_ctx_term(zctx);
	printf("nantid exited with status %d\n", status);
	return 0;
}
