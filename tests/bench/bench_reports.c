/*
 * bench_reports.c - `make bench`, fourth part: the reports on the demo county
 * (docs/bench.md, "Reports").
 *
 * The real nantid on a fresh directory under build/, loaded by the real nanti-demo at full
 * scale (182,479 events: 26,857 cases, 140,000 households...). Then, on one REQ socket,
 * N samples of each report as the theme office asks for it: report.units (the county's
 * comparison), the same with the series and the sub-units (what the dashboard asks for),
 * report.scorecard of the county with --explain, of one person, report.people (a page of
 * 1,000 people) and report.commitments (one page of 1,000); campaign.coverage (which report.units includes, for its gaps) and
 * ping are the baselines.
 *
 * Beside them, the limits measured in the same run, in this process, on the same ledger
 * opened read-only: a read transaction that walks every log entry and touches its bytes
 * (what any replay must read), and report.c's replay itself (the same arithmetic as
 * report.units without the gaps, the request and the reply).
 *
 * And whether a report holds up the daemon: ping's latency, one every 2 ms, while idle
 * and while another connection asks for report.units back to back.
 *
 * Nothing here asserts a time: it prints medians and ratios (the target: a
 * report on the demo county well under a second).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "benchlib.h"
#include "ledger.h"
#include "proto.h"
#include "rec.h"
#include "report.h"

#define MAX_SAMPLES 101

static const char *opt_nantid = "build/nantid", *opt_demo = "build/nanti-demo";
static const char *opt_dir = "build/bench-reports", *opt_scale = "full";
static int opt_samples = 9;

static void *socket_req(void)
{
	void *s = zmq_socket(zctx, ZMQ_REQ);
	int linger = 0, tmo = 60000;

	if (s == NULL || zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
	    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo) != 0 || zmq_connect(s, submit_ep) != 0)
		die("cannot connect to the daemon");
	return s;
}

/* One request: its latency in ms, and the reply's size; dies on an error reply. */
static double call(void *s, const proto_out *body, size_t *size)
{
	double t0 = now_s();
	zmq_msg_t m;
	proto_doc doc;
	bool ok = false;

	zmq_send(s, body->sb.data, body->sb.size, 0);
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, s, 0) < 0)
		die("no reply");
	t0 = (now_s() - t0) * 1000;
	if (size != NULL)
		*size = zmq_msg_size(&m);
	if (proto_parse(&doc, zmq_msg_data(&m), zmq_msg_size(&m), NULL, 0) == NT_OK) {
		proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok);
		if (!ok) {
			proto_json(stderr, &doc.root);
			fputc('\n', stderr);
		}
		proto_doc_fini(&doc);
	}
	zmq_msg_close(&m);
	if (!ok)
		die("a report was refused");
	return t0;
}

enum req { Q_PING, Q_COVERAGE, Q_UNITS, Q_DASHBOARD, Q_SCORE_COUNTY, Q_SCORE_PERSON,
	   Q_PEOPLE, Q_COMMITMENTS, Q__N };
static const char *const req_names[Q__N] = {
	"ping (the baseline)", "campaign.coverage (the gaps' part)", "report.units",
	"report.units, series and sub-units", "report.scorecard, the county, explain",
	"report.scorecard, one person", "report.people, a page of 1,000",
	"report.commitments, 1,000 items",
};

static void body_of(enum req q, proto_out *o, const char *person)
{
	proto_out_init(o);
	msgpack_pack_map(&o->pk, q == Q_PING || q == Q_COVERAGE || q == Q_UNITS ? 1 :
			 q == Q_SCORE_PERSON || q == Q_COMMITMENTS || q == Q_PEOPLE ? 2 : 3);
	switch (q) {
	case Q_PING: proto_kv_cstr(o, "op", "ping"); break;
	case Q_COVERAGE: proto_kv_cstr(o, "op", "campaign.coverage"); break;
	case Q_UNITS: proto_kv_cstr(o, "op", "report.units"); break;
	case Q_DASHBOARD:
		proto_kv_cstr(o, "op", "report.units");
		proto_kv_bool(o, "series", true);
		proto_kv_bool(o, "sub_units", true);
		break;
	case Q_SCORE_COUNTY:
		proto_kv_cstr(o, "op", "report.scorecard");
		proto_kv_cstr(o, "unit", "county");
		proto_kv_bool(o, "explain", true);
		break;
	case Q_SCORE_PERSON:
		proto_kv_cstr(o, "op", "report.scorecard");
		proto_kv_cstr(o, "person", person);
		break;
	case Q_PEOPLE:
		proto_kv_cstr(o, "op", "report.people");
		proto_kv_u64(o, "limit", 1000);
		break;
	case Q_COMMITMENTS:
		proto_kv_cstr(o, "op", "report.commitments");
		proto_kv_u64(o, "limit", 1000);
		break;
	default: break;
	}
}

/* The lead of case 1: a person with cases, for the person's scorecard. */
static void some_lead(void *s, char *out, size_t n)
{
	proto_out o;
	zmq_msg_t m;
	proto_doc doc;
	proto_str lead = PROTO_STR_NULL;

	proto_out_init(&o);
	msgpack_pack_map(&o.pk, 2);
	proto_kv_cstr(&o, "op", "case.get");
	proto_kv_u64(&o, "case", 1);
	zmq_send(s, o.sb.data, o.sb.size, 0);
	proto_out_fini(&o);
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, s, 0) < 0 ||
	    proto_parse(&doc, zmq_msg_data(&m), zmq_msg_size(&m), NULL, 0) != NT_OK)
		die("case.get 1");
	proto_obj_str(proto_map_get(proto_map_get(&doc.root, "case"), "lead"), &lead);
	snprintf(out, n, "%.*s", (int)lead.len, lead.ptr);
	proto_doc_fini(&doc);
	zmq_msg_close(&m);
	if (out[0] == '\0')
		die("case 1 has no lead");
}

/* ---- the limits, in this process ---- */

/* A read transaction over every log entry, each byte touched: ms. */
static double raw_walk(struct ledger *lg, uint64_t *entries)
{
	double t0 = now_s();
	struct ledger_txn t;
	struct ledger_iter it;
	MDB_val k, v;
	uint64_t sum = 0;

	*entries = 0;
	if (ledger_begin(lg, &t, false) != NT_OK)
		die("a read transaction");
	ledger_iter_init(&it, &t, DB_LOG, NULL, 0);
	while (ledger_iter_next(&it, &k, &v)) {
		for (size_t i = 0; i < v.mv_size; i += 64)
			sum += ((const uint8_t *)v.mv_data)[i];
		(*entries)++;
	}
	ledger_iter_close(&it);
	ledger_abort(&t);
	if (sum == 1)
		printf(" ");	/* keep the reads */
	return (now_s() - t0) * 1000;
}

/* report.c's replay of the whole log and every unit's figures, from campaign start: ms. */
static double replay(struct ledger *lg, int64_t from, int64_t to)
{
	double t0 = now_s();
	struct ledger_txn t;
	struct ledger_iter it;
	struct report *r = NULL;
	struct report_fig *figs;
	MDB_val k, v;
	bool past = false;

	if (ledger_begin(lg, &t, false) != NT_OK || report_new(&r, from, to, 480) != NT_OK)
		die("a replay");
	ledger_iter_init(&it, &t, DB_UNITS, NULL, 0);
	while (ledger_iter_next(&it, &k, &v)) {
		struct unit_rec u;

		if (rec_decode(v.mv_data, v.mv_size, &unit_desc, &u) != NT_OK ||
		    report_add_unit(r, u.id, u.name, u.kind, u.parent) != NT_OK)
			die("a unit");
	}
	ledger_iter_close(&it);
	report_units_done(r);
	ledger_iter_init(&it, &t, DB_LOG, NULL, 0);
	while (!past && ledger_iter_next(&it, &k, &v))
		if (report_feed(r, v.mv_data, v.mv_size, &past) != NT_OK)
			die("an entry");
	ledger_iter_close(&it);
	report_end(r);
	if ((figs = calloc(report_nunits(r), sizeof *figs)) == NULL ||
	    report_unit_figures(r, figs) != NT_OK)
		die("the figures");
	free(figs);
	report_free(&r);
	ledger_abort(&t);
	return (now_s() - t0) * 1000;
}

/* ---- pings while reports run ---- */

static volatile int reporting;
static int reports_done;

static void *report_loop(void *arg)
{
	void *s = socket_req();
	proto_out o;

	(void)arg;
	body_of(Q_UNITS, &o, NULL);
	while (reporting) {
		call(s, &o, NULL);
		reports_done++;
	}
	proto_out_fini(&o);
	zmq_close(s);
	return NULL;
}

static void pings(void *s, int n, double *p50, double *p99)
{
	double *v = malloc((size_t)n * sizeof *v);
	proto_out o;
	struct timespec gap = { 0, 2000000 };

	body_of(Q_PING, &o, NULL);
	for (int i = 0; i < n; i++) {
		v[i] = call(s, &o, NULL);
		nanosleep(&gap, NULL);
	}
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	*p50 = quantile(v, (size_t)n, 0.5);
	*p99 = quantile(v, (size_t)n, 0.99);
	proto_out_fini(&o);
	free(v);
}

static void usage(void)
{
	printf("usage: nanti-bench-reports [--nantid PATH] [--demo PATH] [--dir DIR] "
	       "[--scale full|small] [--samples N]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nantid", required_argument, NULL, 'n' },
		{ "demo", required_argument, NULL, 'D' },
		{ "dir", required_argument, NULL, 'd' },
		{ "scale", required_argument, NULL, 'S' },
		{ "samples", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v[MAX_SAMPLES], med[Q__N], raw[MAX_SAMPLES], rep[MAX_SAMPLES];
	double idle50, idle99, busy50, busy99, t0;
	char cmd[2000], person[PROTO_MAX_NAME_ID + 1], state[800];
	struct ledger *lg = NULL;
	uint64_t entries = 0;
	pthread_t th;
	size_t size[Q__N];
	int64_t today;
	void *s;
	pid_t pid;
	int o;

	bench_prog = "nanti-bench-reports";
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n': opt_nantid = optarg; break;
		case 'D': opt_demo = optarg; break;
		case 'd': opt_dir = optarg; break;
		case 'S': opt_scale = optarg; break;
		case 's': opt_samples = atoi(optarg); break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (opt_samples < 1 || opt_samples > MAX_SAMPLES)
		die("--samples 1..101");
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", opt_dir, opt_dir);
	if (system(cmd) != 0)
		die("cannot prepare the bench directory");
	zctx = zmq_ctx_new();
	pid = daemon_start(opt_nantid, opt_dir, false);
	printf("nanti-bench-reports: nantid %s, the demo county at %s scale, %d samples each, "
	       "data in %s\n", PROTO_VERSION, opt_scale, opt_samples, opt_dir);
	fflush(stdout);
	t0 = now_s();
	snprintf(cmd, sizeof cmd, "'%s' --runtime-dir '%s/run' --scale '%s' --quiet >'%s/demo.txt'",
		 opt_demo, opt_dir, opt_scale, opt_dir);
	if (system(cmd) != 0)
		die("nanti-demo failed (see demo.txt)");
	printf("loaded in %.1f s: ", now_s() - t0);
	snprintf(cmd, sizeof cmd, "grep '^events sent' '%s/demo.txt'", opt_dir);
	fflush(stdout);
	if (system(cmd) != 0)
		printf("\n");

	s = socket_req();
	some_lead(s, person, sizeof person);
	for (int q = 0; q < Q__N; q++) {
		proto_out b;

		body_of((enum req)q, &b, person);
		call(s, &b, &size[q]);	/* once to warm the page cache */
		for (int i = 0; i < opt_samples; i++)
			v[i] = call(s, &b, &size[q]);
		med[q] = median(v, opt_samples);
		proto_out_fini(&b);
	}

	snprintf(state, sizeof state, "%s/state", opt_dir);
	if (ledger_open_readonly(&lg, state) != NT_OK)
		die("cannot open the ledger read-only");
	today = proto_day_of((int64_t)now_real_ms(), 480);
	for (int i = 0; i < opt_samples; i++) {
		raw[i] = raw_walk(lg, &entries);
		rep[i] = replay(lg, today - 30, today);
	}
	ledger_close(&lg);

	pings(s, 500, &idle50, &idle99);
	reporting = 1;
	pthread_create(&th, NULL, report_loop, NULL);
	pings(s, 500, &busy50, &busy99);
	reporting = 0;
	pthread_join(th, NULL);

	printf("\n%-42s %10s %12s\n", "request (one REQ socket)", "median ms", "reply bytes");
	for (int q = 0; q < Q__N; q++)
		printf("%-42s %10.1f %12zu\n", req_names[q], med[q], size[q]);
	printf("\nlimits, same run, in-process on the same ledger (read-only):\n");
	printf("  a read transaction walking all %llu log entries: median %.1f ms\n",
	       (unsigned long long)entries, median(raw, opt_samples));
	printf("  report.c's replay and every unit's figures: median %.1f ms\n",
	       median(rep, opt_samples));
	printf("  report.units / the replay alone: %.2f; / (the replay + campaign.coverage): "
	       "%.2f\n", med[Q_UNITS] / median(rep, opt_samples),
	       med[Q_UNITS] / (median(rep, opt_samples) + med[Q_COVERAGE]));
	printf("\nping, one every 2 ms, 500 of them: idle p50 %.2f ms, p99 %.2f ms; while "
	       "report.units runs back to back (%d reports): p50 %.2f ms, p99 %.2f ms\n",
	       idle50, idle99, reports_done, busy50, busy99);
	zmq_close(s);
	if (daemon_stop(pid) != 0)
		die("nantid did not stop cleanly");
	zmq_ctx_term(zctx);
	return 0;
}
