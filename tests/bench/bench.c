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
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "batch.h"
#include "core.h"
#include "ledger.h"
#include "proto.h"

#define CLIENTS		8
#define MAX_ROUNDS	9

static const char *opt_nantid = "build/nantid";
static const char *opt_dir = "build/bench-data";
static int opt_rounds = 3;
static double opt_seconds = 4.0;
static uint64_t opt_preload = 100000;
static uint64_t opt_big = 1000000;

static void *zctx;
static char submit_ep[700];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t daemon_pid;

static void die(const char *what)
{
	fprintf(stderr, "nanti-bench: %s\n", what);
	if (daemon_pid > 0)
		kill(daemon_pid, SIGKILL);
	exit(1);
}

/* ---- the request every client sends: a realistic case.open ---- */

/*
 * The load generator shares the machine with the daemon, so it must be cheap: each client
 * encodes its request once and then only rewrites the digits of the id and of the title
 * in place. The id is time-ordered like the nanti client's: 12 hex digits of Unix ms, the
 * client, and a counter in which the in-flight slot rides, so a reply finds its slot.
 */
#define ID_LEN 26		/* "%012x-%02d-%010x" */
#define TITLE_DIGITS 10

struct request {
	proto_out o;
	size_t id_at, n_at;	/* where the id's and the title number's digits are */
};

static void put_hex(char *p, uint64_t v, int width)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = width - 1; i >= 0; i--, v >>= 4)
		p[i] = hex[v & 15];
}

static void put_dec(char *p, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
}

static size_t find(const proto_out *o, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= o->sb.size; i++)
		if (memcmp(o->sb.data + i, needle, n) == 0)
			return i;
	die("request template broken");
	return 0;
}

static void request_init(struct request *r, int client)
{
	char id[ID_LEN + 1];

	snprintf(id, sizeof id, "%012d-%02d-%010d", 0, client, 0);
	proto_out_init(&r->o);
	msgpack_pack_map(&r->o.pk, 8);
	proto_kv_cstr(&r->o, "op", "case.open");
	proto_kv_cstr(&r->o, "id", id);
	proto_kv_cstr(&r->o, "actor", "bench.cadre");
	proto_kv_cstr(&r->o, "title", "村道水毁修复 road repair, section 0000000000");
	proto_kv_cstr(&r->o, "unit", "anling");
	proto_kv_cstr(&r->o, "kind", "problem");
	proto_kv_cstr(&r->o, "area", "livelihood");
	proto_pack_cstr(&r->o, "tags");
	msgpack_pack_array(&r->o.pk, 1);
	proto_pack_cstr(&r->o, "livelihood");
	r->id_at = find(&r->o, id);
	r->n_at = find(&r->o, "section 0000000000") + 8;
}

/* Make r the request with counter n (slot in its low 10 bits) and title number title_n. */
static void request_set(struct request *r, uint64_t n, uint64_t title_n)
{
	struct timespec ts;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	put_hex(r->o.sb.data + r->id_at, ms, 12);
	put_hex(r->o.sb.data + r->id_at + 16, n, 10);
	put_dec(r->o.sb.data + r->n_at, title_n, TITLE_DIGITS);
}

/* ---- a synchronous request, for ping and stats ---- */

/* Send body, wait for the reply; read keys[0..nkeys) of it as integers. */
static bool request_body(const proto_out *body, uint64_t *out_vals, const char *const *keys,
			 int nkeys)
{
	void *s = zmq_socket(zctx, ZMQ_REQ);
	int tmo = 2000, zero = 0;
	char buf[65536];
	proto_doc doc;
	int n;
	bool ok = false;

	zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	zmq_connect(s, submit_ep);
	zmq_send(s, body->sb.data, body->sb.size, 0);
	n = zmq_recv(s, buf, sizeof buf, 0);
	if (n > 0 && proto_parse(&doc, buf, (size_t)n, NULL, 0) == NT_OK) {
		ok = proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok) && ok;
		for (int i = 0; i < nkeys; i++)
			proto_obj_u64(proto_map_get(&doc.root, keys[i]), &out_vals[i]);
	}
	proto_doc_fini(&doc);
	zmq_close(s);
	return ok;
}

static bool request(const char *op, uint64_t *out_vals, const char *const *keys, int nkeys)
{
	proto_out o;
	bool ok;

	proto_out_init(&o);
	msgpack_pack_map(&o.pk, 1);
	proto_kv_cstr(&o, "op", op);
	ok = request_body(&o, out_vals, keys, nkeys);
	proto_out_fini(&o);
	return ok;
}

/*
 * The unit and the person the benchmark's requests name: the county, the township
 * "anling", and bench.cadre, a cadre of anling. Sent through the daemon (the first
 * request creates the county while the ledger has no admin yet); the raw loop's core
 * reads the same records from bench_records.
 */
static const struct unit_rec bench_units[] = {
	{ { "county", 6 }, { "县", 3 }, UNIT_COUNTY, { NULL, 0 }, 0, 0, 0, 0 },
	{ { "anling", 6 }, { "安岭乡", 9 }, UNIT_TOWNSHIP, { "county", 6 }, 0, 0, 0, 0 },
};
static const struct person_rec bench_person = {
	{ "bench.cadre", 11 }, { "测试", 6 }, { "anling", 6 }, ROLE_CADRE, { NULL, 0 }, 0, 0, 0, 0
};

static void bench_setup(void)
{
	proto_out o;
	bool ok = true;

	proto_out_init(&o);
	for (size_t i = 0; i < 2; i++) {
		proto_out_reset(&o);
		msgpack_pack_map(&o.pk, 6 + (bench_units[i].parent.len > 0));
		proto_kv_cstr(&o, "op", "unit.put");
		proto_kv_cstr(&o, "id", i == 0 ? "bench-setup-1" : "bench-setup-2");
		proto_kv_cstr(&o, "actor", "bench.admin");
		proto_kv_str(&o, "unit", bench_units[i].id);
		proto_kv_str(&o, "name", bench_units[i].name);
		proto_kv_cstr(&o, "kind", unit_kinds[bench_units[i].kind]);
		if (bench_units[i].parent.len > 0)
			proto_kv_str(&o, "parent", bench_units[i].parent);
		ok = ok && request_body(&o, NULL, NULL, 0);
	}
	proto_out_reset(&o);
	msgpack_pack_map(&o.pk, 7);
	proto_kv_cstr(&o, "op", "person.put");
	proto_kv_cstr(&o, "id", "bench-setup-3");
	proto_kv_cstr(&o, "actor", "bench.admin");
	proto_kv_str(&o, "person", bench_person.id);
	proto_kv_str(&o, "name", bench_person.name);
	proto_kv_str(&o, "unit", bench_person.unit);
	proto_pack_cstr(&o, "roles");
	msgpack_pack_array(&o.pk, 1);
	proto_pack_cstr(&o, "cadre");
	ok = ok && request_body(&o, NULL, NULL, 0);
	proto_out_fini(&o);
	if (!ok)
		die("could not set up the benchmark's unit and person");
}

struct stats {
	uint64_t seq, commits, events, commit_us, cases;
};

static struct stats daemon_stats(void)
{
	static const char *const keys[] = { "seq", "commits", "events", "commit_us", "cases" };
	uint64_t v[5] = { 0 };

	if (!request("stats", v, keys, 5))
		die("stats request failed");
	return (struct stats){ v[0], v[1], v[2], v[3], v[4] };
}

/* ---- the daemon ---- */

static pid_t daemon_start(void)
{
	char state[600], run[600], logf[600];
	pid_t pid;

	snprintf(state, sizeof state, "%s/state", opt_dir);
	snprintf(run, sizeof run, "%s/run", opt_dir);
	snprintf(logf, sizeof logf, "%s/nantid.log", opt_dir);
	snprintf(submit_ep, sizeof submit_ep, "ipc://%s/submit.sock", run);
	if ((pid = fork()) < 0)
		die("fork failed");
	if (pid == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execl(opt_nantid, "nantid", "--state-dir", state, "--runtime-dir", run,
		      (char *)NULL);
		_exit(127);
	}
	daemon_pid = pid;
	for (int i = 0; i < 100; i++) {
		if (request("ping", NULL, NULL, 0))
			return pid;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	die("nantid did not become ready (see the log in the bench directory)");
	return -1;
}

/* CPU seconds (user + system) a process has used: the daemon from /proc, this one too. */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	/* fields 14 and 15, counted after the ")" that ends the command name */
	if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static uint64_t rss_anon_kb(pid_t pid)
{
	char path[64], line[256];
	uint64_t kb = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "RssAnon: %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---- load generators ---- */

/*
 * The clients: CLIENTS DEALER connections, each keeping `depth` requests in flight, all
 * driven by one thread that polls them. One thread rather than one per client because
 * the load generator shares the machine's two cores with the daemon, and eight threads
 * waking one another cost CPU the daemon then lacks.
 */
struct driver {
	int client;
	int depth;		/* requests in flight */
	uint64_t count;		/* stop after this many (if > 0) */
	uint64_t acks, errors;
	double *lat;		/* latencies in ms, one per ack */
	size_t nlat, caplat;
	void *s;
	double *sent_at;	/* by slot */
	int *free_slots, nfree;
	struct request rq;
};

static uint64_t id_counter;	/* per process, so ids never repeat across runs */

static void driver_open(struct driver *d)
{
	int zero = 0;

	d->s = zmq_socket(zctx, ZMQ_DEALER);
	zmq_setsockopt(d->s, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(d->s, ZMQ_SNDHWM, &zero, sizeof zero);
	zmq_setsockopt(d->s, ZMQ_RCVHWM, &zero, sizeof zero);
	zmq_connect(d->s, submit_ep);
	request_init(&d->rq, d->client);
	d->sent_at = calloc((size_t)d->depth, sizeof *d->sent_at);
	d->free_slots = malloc((size_t)d->depth * sizeof *d->free_slots);
	d->nfree = d->depth;
	for (int i = 0; i < d->depth; i++)
		d->free_slots[i] = i;
}

static void driver_close(struct driver *d)
{
	proto_out_fini(&d->rq.o);
	zmq_close(d->s);
	free(d->sent_at);
	free(d->free_slots);
}

static bool driver_busy(const struct driver *d)
{
	return d->nfree < d->depth;
}

/* Send until depth requests are in flight (or the driver's count is reached). */
static void driver_fill(struct driver *d, bool stop)
{
	while (!stop && d->nfree > 0) {
		int slot;
		uint64_t n;

		if (d->count && d->acks + d->errors + (uint64_t)(d->depth - d->nfree) >= d->count)
			break;
		slot = d->free_slots[--d->nfree];
		n = id_counter++;
		/* the slot rides in the id's low bits, so that the reply finds it */
		request_set(&d->rq, n * 1024 + (uint64_t)slot, n);
		d->sent_at[slot] = now_s();
		zmq_send(d->s, "", 0, ZMQ_SNDMORE);
		zmq_send(d->s, d->rq.o.sb.data, d->rq.o.sb.size, 0);
	}
}

/* Take every reply waiting: empty delimiter, then the body. */
static void driver_drain(struct driver *d)
{
	char buf[4096];
	int n;

	while ((n = zmq_recv(d->s, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
		double t;
		proto_doc doc;
		proto_str rid;
		uint64_t v = 0;
		bool ok = false;
		int slot;

		if (n != 0)
			die("unexpected reply envelope");
		n = zmq_recv(d->s, buf, sizeof buf, 0);
		t = now_s();
		if (n <= 0 || proto_parse(&doc, buf, (size_t)n, NULL, 0) != NT_OK ||
		    !proto_obj_str(proto_map_get(&doc.root, "id"), &rid) || rid.len < 10)
			die("undecodable reply");
		proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok);
		for (uint32_t i = rid.len - 10; i < rid.len; i++) {
			char c = rid.ptr[i];

			v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		proto_doc_fini(&doc);
		slot = (int)(v % 1024);
		if (slot >= d->depth)
			die("reply for an unknown slot");
		if (ok) {
			d->acks++;
			if (d->nlat == d->caplat) {
				d->caplat = d->caplat ? d->caplat * 2 : 65536;
				d->lat = realloc(d->lat, d->caplat * sizeof *d->lat);
			}
			d->lat[d->nlat++] = (t - d->sent_at[slot]) * 1e3;
		} else {
			d->errors++;
		}
		d->free_slots[d->nfree++] = slot;
	}
}

/* Drive d[0..n) for `seconds`, or until each has done its count. */
static void drive(struct driver *d, int n, double seconds)
{
	zmq_pollitem_t items[CLIENTS];
	double end = now_s() + seconds;

	for (int i = 0; i < n; i++) {
		driver_open(&d[i]);
		items[i] = (zmq_pollitem_t){ d[i].s, 0, ZMQ_POLLIN, 0 };
	}
	for (;;) {
		bool stop = d[0].count == 0 && now_s() >= end, busy = false;

		for (int i = 0; i < n; i++) {
			driver_fill(&d[i], stop);
			busy = busy || driver_busy(&d[i]);
		}
		if (!busy)
			break;
		if (zmq_poll(items, n, 100) < 0 && zmq_errno() != EINTR)
			die("zmq_poll failed");
		for (int i = 0; i < n; i++)
			if (items[i].revents & ZMQ_POLLIN)
				driver_drain(&d[i]);
	}
	for (int i = 0; i < n; i++)
		driver_close(&d[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct run_result {
	double eps;		/* durable acknowledged events per second */
	double p50, p99;	/* ack latency, ms */
	double batch;		/* mean events per commit */
	double busy;		/* share of the time the commit thread was committing */
	double us_daemon;	/* CPU microseconds per event: the daemon */
	double us_clients;	/* CPU microseconds per event: the load generator */
	double cores;		/* CPU used by both, in cores */
	uint64_t events;
};

static struct run_result run_clients(int nclients, int depth, double seconds, uint64_t count)
{
	struct driver d[CLIENTS] = { 0 };
	struct stats s0 = daemon_stats(), s1;
	struct run_result r = { 0 };
	double c0d = cpu_seconds(daemon_pid), c0c = cpu_seconds(getpid());
	double t0 = now_s(), el;
	double *all;
	size_t n = 0;

	for (int i = 0; i < nclients; i++) {
		d[i].client = i;
		d[i].depth = depth;
		d[i].count = count ? count / (uint64_t)nclients +
				     ((uint64_t)i < count % (uint64_t)nclients) : 0;
	}
	drive(d, nclients, seconds);
	for (int i = 0; i < nclients; i++) {
		r.events += d[i].acks;
		n += d[i].nlat;
		if (d[i].errors)
			fprintf(stderr, "nanti-bench: %" PRIu64 " requests refused\n", d[i].errors);
	}
	el = now_s() - t0;
	{
		double cd = cpu_seconds(daemon_pid) - c0d, cc = cpu_seconds(getpid()) - c0c;

		r.us_daemon = r.events ? cd * 1e6 / (double)r.events : 0;
		r.us_clients = r.events ? cc * 1e6 / (double)r.events : 0;
		r.cores = (cd + cc) / el;
	}
	s1 = daemon_stats();
	all = malloc((n ? n : 1) * sizeof *all);
	n = 0;
	for (int i = 0; i < nclients; i++) {
		memcpy(all + n, d[i].lat, d[i].nlat * sizeof *all);
		n += d[i].nlat;
		free(d[i].lat);
	}
	qsort(all, n, sizeof *all, cmp_double);
	r.eps = (double)r.events / el;
	r.p50 = n ? all[n / 2] : 0;
	r.p99 = n ? all[(size_t)((double)n * 0.99)] : 0;
	r.busy = (double)(s1.commit_us - s0.commit_us) / (el * 1e6);
	r.batch = s1.commits > s0.commits ?
		(double)(s1.events - s0.events) / (double)(s1.commits - s0.commits) : 1;
	free(all);
	return r;
}

/* ---- the raw limit ---- */

struct raw {
	struct ledger *lg;
	struct core_effect e;
	struct request req;
	proto_out entry;
	uint64_t seq, next_case, n;
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

static int cmp_double(const void *a, const void *b);

/* Write batches of `batch` events for `seconds` (or `count` events). */
/* One record to put: a slice of the arena. */
struct rec {
	enum ledger_db db;
	uint8_t key[LEDGER_MAX_KEY];
	uint32_t klen;
	size_t voff, vlen;
	bool append;
};

static void rec_add(struct rec *r, size_t *n, proto_out *arena, enum ledger_db db,
		    const void *key, size_t klen, const void *val, size_t vlen, bool append)
{
	struct rec *x = &r[(*n)++];

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
static size_t raw_records(struct raw *w, uint64_t k, struct rec *recs, proto_out *arena)
{
	const struct op *open = ops_find((proto_str){ "case.open", 9 });
	size_t n = 0;

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
			rec_add(recs, &n, arena, w->e.puts[p].db, w->e.puts[p].key, w->e.puts[p].klen,
				w->e.buf.sb.data + w->e.puts[p].voff, w->e.puts[p].vlen,
				w->e.puts[p].append);
		batch_entry_pack(&w->entry, v.seq, at, &r, &w->e);
		ledger_key_u64(key, v.seq);
		rec_add(recs, &n, arena, DB_LOG, key, 8, w->entry.sb.data, w->entry.sb.size, true);
		rl = batch_reqval(rv, v.seq, core_request_hash(rq.body), &w->e);
		rec_add(recs, &n, arena, DB_REQS, rq.id.ptr, rq.id.len, rv, rl, false);
		proto_doc_fini(&doc);
		w->seq++;
		w->next_case++;
	}
	if (arena->oom)
		die("raw: out of memory");
	return n;
}

/*
 * The raw limit: batches of `batch` events (the size the daemon's group commit formed),
 * each one transaction of plain puts of ready records and a commit with full sync, for
 * `seconds` (or `count` events). Only begin-puts-commit is timed.
 */
static struct raw_result raw_run(struct raw *w, double batch, double seconds, uint64_t count)
{
	struct raw_result res = { 0 };
	size_t nlat = 0, caplat = 1024, caprec = 0;
	double *lat = malloc(caplat * sizeof *lat);
	struct rec *recs = NULL;
	proto_out arena;
	double t0 = now_s(), carry = 0, timed = 0;
	uint64_t done = 0;

	proto_out_init(&arena);
	while (count ? done < count : now_s() - t0 < seconds) {
		struct ledger_txn t;
		uint64_t k;
		size_t n;
		double tb;

		carry += batch;
		k = (uint64_t)carry;
		carry -= (double)k;
		if (k == 0)
			continue;
		if (count && k > count - done)
			k = count - done;
		if (caprec < k * 4) {
			caprec = k * 4;
			recs = realloc(recs, caprec * sizeof *recs);
		}
		n = raw_records(w, k, recs, &arena);
		for (;;) {
			tb = now_s();
			if (ledger_begin(w->lg, &t, true) != NT_OK)
				die("raw: begin failed");
			for (size_t i = 0; i < n; i++)
				ledger_put(&t, recs[i].db, recs[i].key, recs[i].klen,
					   arena.sb.data + recs[i].voff, recs[i].vlen, recs[i].append);
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
	free(recs);
	proto_out_fini(&arena);
	return res;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
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
	pid = daemon_start();
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
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	ledger_close(&w.lg);
	core_effect_fini(&w.e);
	proto_out_fini(&w.req.o);
	proto_out_fini(&w.entry);
	zmq_ctx_term(zctx);
	printf("nantid exited with status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
