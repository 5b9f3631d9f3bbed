/*
 * benchlib.c - what the benchmarks share: the daemon, synchronous requests, the load
 * generator (benchlib.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "benchlib.h"

const char *bench_prog = "nanti-bench";
void *zctx;
char submit_ep[700], events_ep[700];
pid_t daemon_pid;

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", bench_prog, what);
	if (daemon_pid > 0)
		kill(daemon_pid, SIGKILL);
	exit(1);
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double quantile(const double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)((double)n * q);
	return v[i < n ? i : n - 1];
}

/* ---- the requests ---- */

#define ID_LEN 26		/* "%012x-%02d-%010x" */
#define TITLE_DIGITS 10

int64_t request_deadline_first, request_deadline_days = 1;
uint64_t request_note_first = 1, request_note_cases = 1;

uint64_t bench_hash(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

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

static size_t find(const proto_out *o, const char *needle, size_t n)
{
	for (size_t i = 0; i + n <= o->sb.size; i++)
		if (memcmp(o->sb.data + i, needle, n) == 0)
			return i;
	die("request template broken");
	return 0;
}

void request_init_kind(struct request *r, int client, enum request_kind kind)
{
	char id[ID_LEN + 1];

	snprintf(id, sizeof id, "%012d-%02d-%010d", 0, client, 0);
	proto_out_init(&r->o);
	r->kind = kind;
	if (kind == RQ_NOTE) {
		static const uint8_t marker[9] = { 0xcf, 'N', 'O', 'T', 'E', 'C', 'A', 'S', 'E' };

		msgpack_pack_map(&r->o.pk, 5);
		proto_kv_cstr(&r->o, "op", "case.note");
		proto_kv_cstr(&r->o, "id", id);
		proto_kv_cstr(&r->o, "actor", "bench.cadre");
		proto_pack_cstr(&r->o, "case");
		/* a uint 64 (0xcf and 8 bytes), whatever its value, so it is rewritten in place */
		proto_out_raw(&r->o, marker, sizeof marker);
		proto_kv_cstr(&r->o, "text", "巡查记录 site visit note 0000000000");
		r->case_at = find(&r->o, (const char *)marker, sizeof marker) + 1;
		r->n_at = find(&r->o, "note 0000000000", 15) + 5;
	} else {
		msgpack_pack_map(&r->o.pk, kind == RQ_OPEN_DEADLINE ? 9 : 8);
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
		if (kind == RQ_OPEN_DEADLINE) {
			/* a placeholder no other part of the request contains */
			proto_kv_cstr(&r->o, "deadline", "1999-12-31");
			r->dl_at = find(&r->o, "1999-12-31", 10);
		}
		r->n_at = find(&r->o, "section 0000000000", 18) + 8;
	}
	r->id_at = find(&r->o, id, ID_LEN);
}

void request_init(struct request *r, int client)
{
	request_init_kind(r, client, RQ_OPEN);
}

void request_set(struct request *r, uint64_t n, uint64_t title_n)
{
	struct timespec ts;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	put_hex(r->o.sb.data + r->id_at, ms, 12);
	put_hex(r->o.sb.data + r->id_at + 16, n, 10);
	put_dec(r->o.sb.data + r->n_at, title_n, TITLE_DIGITS);
	if (r->kind == RQ_OPEN_DEADLINE) {
		char d[11];
		int64_t day = request_deadline_first +
			(int64_t)(bench_hash(title_n) % (uint64_t)request_deadline_days);

		proto_date_format(day, d);
		memcpy(r->o.sb.data + r->dl_at, d, 10);
	} else if (r->kind == RQ_NOTE) {
		ledger_key_u64((uint8_t *)r->o.sb.data + r->case_at,
			       request_note_first + bench_hash(title_n) % request_note_cases);
	}
}

/* ---- synchronous requests ---- */

bool request_body(const proto_out *body, uint64_t *out_vals, const char *const *keys, int nkeys)
{
	void *s = zmq_socket(zctx, ZMQ_REQ);
	int tmo = 2000, zero = 0;
	char buf[65536];
	proto_doc doc = { 0 };
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

bool request(const char *op, uint64_t *out_vals, const char *const *keys, int nkeys)
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
 * request creates the county while the ledger has no admin yet); nanti-bench's raw loop
 * reads the same records directly.
 */
const struct unit_rec bench_units[2] = {
	{ { "county", 6 }, { "县", 3 }, UNIT_COUNTY, { NULL, 0 }, 0, 0, 0, 0 },
	{ { "anling", 6 }, { "安岭乡", 9 }, UNIT_TOWNSHIP, { "county", 6 }, 0, 0, 0, 0 },
};
const struct person_rec bench_person = {
	{ "bench.cadre", 11 }, { "测试", 6 }, { "anling", 6 }, ROLE_CADRE, { NULL, 0 }, 0, 0, 0, 0,
	{ NULL, 0 }
};

void bench_setup(void)
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

struct stats daemon_stats(void)
{
	static const char *const keys[] = { "seq", "commits", "events", "commit_us", "cases" };
	uint64_t v[5] = { 0 };

	if (!request("stats", v, keys, 5))
		die("stats request failed");
	return (struct stats){ v[0], v[1], v[2], v[3], v[4] };
}

/* ---- the daemon ---- */

pid_t daemon_spawn(const char *nantid, const char *dir, const char *notify, bool append)
{
	char state[600], run[600], logf[600];
	pid_t pid;

	snprintf(state, sizeof state, "%s/state", dir);
	snprintf(run, sizeof run, "%s/run", dir);
	snprintf(logf, sizeof logf, "%s/nantid.log", dir);
	snprintf(submit_ep, sizeof submit_ep, "ipc://%s/submit.sock", run);
	snprintf(events_ep, sizeof events_ep, "ipc://%s/events.sock", run);
	if ((pid = fork()) < 0)
		die("fork failed");
	if (pid == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);

		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		if (notify != NULL)
			setenv("NOTIFY_SOCKET", notify, 1);
		else
			unsetenv("NOTIFY_SOCKET");
		execl(nantid, "nantid", "--state-dir", state, "--runtime-dir", run, (char *)NULL);
		_exit(127);
	}
	daemon_pid = pid;
	return pid;
}

pid_t daemon_start(const char *nantid, const char *dir, bool append)
{
	pid_t pid = daemon_spawn(nantid, dir, NULL, append);

	for (int i = 0; i < 100; i++) {
		if (request("ping", NULL, NULL, 0))
			return pid;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	die("nantid did not become ready (see the log in the bench directory)");
	return -1;
}

int daemon_stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid failed");
	if (pid == daemon_pid)
		daemon_pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

double cpu_seconds(pid_t pid)
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

uint64_t written_bytes(pid_t pid)
{
	char path[64], line[256];
	uint64_t b = 0;
	FILE *f;

	/* wchar: what its write calls passed (LMDB's pwrite and writev of pages; ZeroMQ
	 * sends are not write calls). write_bytes, what it sent to the block layer, counts
	 * far more than the disk receives for scattered 4 KiB page writes on this kernel. */
	snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "wchar: %" SCNu64, &b) == 1)
			break;
	fclose(f);
	return b;
}

uint64_t rss_anon_kb(pid_t pid)
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
	enum request_kind kind;
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
	request_init_kind(&d->rq, d->client, d->kind);
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
			/* the first refusal of a run says why (the rest are counted) */
			if (d->errors++ == 0 && proto_parse(&doc, buf, (size_t)n, NULL, 0) == NT_OK) {
				proto_str msg = PROTO_STR_NULL;

				proto_obj_str(proto_map_get(proto_map_get(&doc.root, "error"),
							    "message"), &msg);
				fprintf(stderr, "%s: a request was refused: %.*s\n", bench_prog,
					(int)msg.len, msg.ptr);
				proto_doc_fini(&doc);
			}
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

struct run_result run_load(enum request_kind kind, int nclients, int depth, double seconds,
			   uint64_t count)
{
	struct driver d[CLIENTS] = { 0 };
	struct stats s0 = daemon_stats(), s1;
	struct run_result r = { 0 };
	double c0d = cpu_seconds(daemon_pid), c0c = cpu_seconds(getpid());
	uint64_t w0 = written_bytes(daemon_pid);
	double t0 = now_s(), el;
	double *all;
	size_t n = 0;

	if (nclients > CLIENTS)
		die("too many clients");
	for (int i = 0; i < nclients; i++) {
		d[i].client = i;
		d[i].depth = depth;
		d[i].kind = kind;
		d[i].count = count ? count / (uint64_t)nclients +
				     ((uint64_t)i < count % (uint64_t)nclients) : 0;
	}
	drive(d, nclients, seconds);
	for (int i = 0; i < nclients; i++) {
		r.events += d[i].acks;
		r.errors += d[i].errors;
		n += d[i].nlat;
		if (d[i].errors)
			fprintf(stderr, "%s: %" PRIu64 " requests refused\n", bench_prog,
				d[i].errors);
	}
	el = now_s() - t0;
	{
		double cd = cpu_seconds(daemon_pid) - c0d, cc = cpu_seconds(getpid()) - c0c;

		r.us_daemon = r.events ? cd * 1e6 / (double)r.events : 0;
		r.us_clients = r.events ? cc * 1e6 / (double)r.events : 0;
		r.cores = (cd + cc) / el;
		r.kb_daemon = r.events ? (double)(written_bytes(daemon_pid) - w0) / 1024.0 /
					 (double)r.events : 0;
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
	r.seconds = el;
	r.eps = (double)r.events / el;
	r.p50 = n ? all[n / 2] : 0;
	r.p99 = n ? all[(size_t)((double)n * 0.99)] : 0;
	r.busy = (double)(s1.commit_us - s0.commit_us) / (el * 1e6);
	r.batch = s1.commits > s0.commits ?
		(double)(s1.events - s0.events) / (double)(s1.commits - s0.commits) : 1;
	free(all);
	return r;
}

struct run_result run_clients(int nclients, int depth, double seconds, uint64_t count)
{
	return run_load(RQ_OPEN, nclients, depth, seconds, count);
}
