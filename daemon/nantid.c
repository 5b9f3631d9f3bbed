/*
 * nantid.c - the daemon: start-up, the sockets, and the loop.
 *
 * The loop is deliberately thin. Each turn it
 *   1. sleeps in zmq_poll() on the request socket, the commit thread's eventfd, and a
 *      self-pipe that signal handlers write to, at most until the next heartbeat;
 *   2. collects the groups the commit thread (writer.c) has finished, oldest first, and
 *      for each replies to its requests in arrival order, then publishes its new log
 *      entries on the PUB socket in seq order;
 *   3. takes every request waiting: errors, and reads that no pending write precedes, are
 *      answered at once; writes go to the writer's forming group; a read that follows a
 *      pending write waits for that write's group (a client reads its own writes).
 * The commit thread takes the forming group whenever it is free: one transaction, one
 * fsync for all of them (batch.c). While it waits for the disk, the loop keeps receiving,
 * validating and answering.
 * Nothing is acknowledged or published before its commit returned. The PUB socket never
 * blocks (ZeroMQ drops for a subscriber past its high-water mark); replies to a peer that
 * has gone are dropped by ROUTER. When both groups are full the loop stops reading the
 * socket and ZeroMQ's queues push back on clients. What an event means is decided in
 * core.c; how it is stored, in batch.c and ledger.c.
 *
 * Shutdown (SIGTERM, SIGINT): the loop stops taking new turns, takes what is already
 * queued, commits and answers it, then closes the sockets (lingering briefly so that the
 * last replies leave) and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "auth.h"
#include "batch.h"
#include "chain.h"
#include "cal.h"
#include "config.h"
#include "coverage.h"
#include "ops.h"
#include "overlay.h"
#include "peers.h"
#include "ledger.h"
#include "proto.h"
#include "report_ops.h"
#include "reporter.h"
#include "sys.h"
#include "writer.h"

#define POOL		(2 * WRITER_MAX + 1)	/* requests held at once */
_Static_assert(POOL < PEERS_SLOTS / 2, "the per-connection table holds every held request");
#define GROUP_MSGS	(2 * WRITER_MAX)	/* replies one group may hold */
#define HEARTBEAT_MS	1000
#define PUB_HWM		100000
#define LINGER_MS	2000
#define REBIND_MS	10000	/* binding a PUB endpoint again may wait this long */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93	/* a draft option in libzmq 4.3's header */
#endif


/* One received message: its frames (the last is the body). */
struct msg {
	zmq_msg_t frames[PROTO_MAX_FRAMES];
	int nframes;
	bool too_many;
	struct batch_item item;
	bool deferred;		/* a read that waits for a group commit */
	bool report;		/* a deferred read for the report thread, once committed */
	uint64_t peer;		/* its connection's key in peers (0: not counted) */
	struct msg *next;	/* in the free list */
};

/* The messages whose replies wait for one group commit, in arrival order: the group's
 * writes and the reads that arrived after them. */
struct group {
	struct msg **msgs;
	size_t n;
	struct batch_state end;	/* the ledger's end once this group is committed */
};

struct daemon {
	struct config cfg;
	struct ledger *lg;
	struct batch_state st;		/* the end of what is committed */
	struct batch_spec spec;		/* the end of what is applied (batch.c) */
	struct ops_stats stats;
	void *zctx, *router, *pub;
	void *zap;			/* the ZAP handler's REP socket (auth.c) */
	char curve_pub[PROTO_KEY_LEN + 1], curve_sec[PROTO_KEY_LEN + 1];
	/* the PUB socket's tcp endpoints, to bind again after a key is revoked: as asked
	 * for, and as ZeroMQ names them once bound (what zmq_unbind() wants) */
	char pub_ask[CONFIG_MAX_TCP][320], pub_tcp[CONFIG_MAX_TCP][320];
	int64_t pub_down[CONFIG_MAX_TCP];	/* unbound since (ms), to bind again; 0: up */
	bool rebind_pub, pub_rebinding;
	int lock_fd;
	int sigpipe[2];
	struct msg *pool, *free_msgs;
	struct peers *peers;		/* requests in flight per connection */
	struct group group[WRITER_GROUPS];	/* by ticket: group[ticket % WRITER_GROUPS] */
	struct writer *writer;
	struct reporter *reporter;	/* the report thread */
	bool healthy;
	int64_t next_due;		/* the first armed timer (0: none), as committed */
	bool timers_dirty;		/* a commit may have armed or fired some: read again */
	size_t firing;			/* timer firings applied and not yet committed */
	/* a pass of case.recalendar after the calendar changed: the next case id to look at
	 * (0: no pass), and the new calendar's fingerprint */
	uint64_t recal_next;
	uint64_t cal_fp;
	struct cal *cal;
	bool ready;			/* READY=1 was sent: missed timers are caught up */
	int64_t next_heartbeat;
	uint64_t watchdog_usec;
	int64_t next_watchdog;
};

static volatile sig_atomic_t got_stop, got_hup;
static int sig_write_fd = -1;

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig == SIGTERM || sig == SIGINT)
		got_stop = 1;
	if (sig == SIGHUP)
		got_hup = 1;
	if (sig_write_fd >= 0 && write(sig_write_fd, &c, 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- start-up ---- */

/*
 * The working-day calendar: --calendar-dir, else ./calendars, else the installed one.
 * A directory named explicitly must load; the defaults may be absent (weekends only). A
 * missing year around today is worth a warning: deadlines then count weekends only.
 * NULL (logged) if it cannot be loaded.
 */
static struct cal *calendar_load(const struct config *cfg)
{
	static const char *const defaults[] = { "calendars", CONFIG_CALENDAR_DIR };
	char why[512] = "";
	const char *dir = cfg->calendar_dir[0] ? cfg->calendar_dir : NULL;
	struct cal *cal = NULL;
	char today[11];
	int year;

	proto_date_format(proto_day_of(now_ms(), cfg->policy.utc_offset_min), today);
	year = atoi(today);

	if (cal_new(&cal) != NT_OK)
		return NULL;
	for (size_t i = 0; dir == NULL && i < sizeof defaults / sizeof defaults[0]; i++)
		if (access(defaults[i], R_OK | X_OK) == 0)
			dir = defaults[i];
	if (dir == NULL) {
		log_warnx("no calendar directory: only weekends count as days off");
		return cal;
	}
	if (cal_load_dir(cal, dir, why, sizeof why) != NT_OK) {
		log_err("cannot load the calendar: %s", why);
		cal_free(&cal);
		return NULL;
	}
	for (int y = year; y <= year + 1; y++)
		if (!cal_covers(cal, y))
			log_warnx("the calendar in %s has no file for %d: only its weekends count as "
				 "days off", dir, y);
	return cal;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Take the state directory's lock, or say who holds it. */
static bool lock_state(struct daemon *d)
{
	long holder = 0;
	nt_err rc = ledger_lock_dir(d->cfg.state_dir, &d->lock_fd, &holder);

	if (rc == NT_ELOCKED && holder > 0)
		log_err("state directory %s is in use by another nantid (pid %ld); not starting "
			"a second one", d->cfg.state_dir, holder);
	else if (rc == NT_ELOCKED)
		log_err("state directory %s is in use by another process (nanti admin import?); "
			"not starting", d->cfg.state_dir);
	else if (rc != NT_OK)
		log_err("cannot lock %s/nantid.lock: %s", d->cfg.state_dir, strerror(errno));
	return rc == NT_OK;
}

/*
 * The log's hash chain over its last CHAIN_TAIL entries, checked at start: a ledger whose
 * recent log was changed outside nantid is not served unless --allow-broken-log says so
 * (`nanti admin verify` checks the whole log). The tail costs about a millisecond per
 * thousand entries.
 */
#define CHAIN_TAIL 10000

static bool chain_tail_holds(struct daemon *d)
{
	uint64_t last = d->st.last_seq;
	struct chain_report r;
	nt_err err;

	if (last == 0)
		return true;
	if ((err = chain_verify(d->lg, last > CHAIN_TAIL ? last - CHAIN_TAIL + 1 : 1, &r)) !=
	    NT_OK) {
		log_err("cannot read the log to check its hash chain: %s", nt_strerror(err));
		return false;
	}
	if (r.broken == 0) {
		log_debug("the log's hash chain holds over seq %" PRIu64 " to %" PRIu64, r.first,
			  r.last);
		return true;
	}
	if (d->cfg.args.allow_broken_log) {
		log_warnx("the log's hash chain breaks at seq %" PRIu64 ": %s; serving it anyway "
			 "(--allow-broken-log)", r.broken, r.what);
		return true;
	}
	log_err("the log's hash chain breaks at seq %" PRIu64 ": %s. The ledger was changed "
		"outside nantid: not serving it. `nanti admin verify` checks the whole log; "
		"--allow-broken-log serves it anyway", r.broken, r.what);
	return false;
}

static void *socket_new(struct daemon *d, int type)
{
	void *s = zmq_socket(d->zctx, type);
	int linger = LINGER_MS, ipv6 = 1;

	if (s != NULL) {
		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
		/* tcp endpoints may be IPv6 ("[::1]:PORT"); "*" is then both families */
		zmq_setsockopt(s, ZMQ_IPV6, &ipv6, sizeof ipv6);
	}
	return s;
}

/*
 * The host part of a listen-tcp HOST:PORT as ZeroMQ binds it: "*", an IPv4 address, an
 * IPv6 address in brackets and an interface name ("lo") as they are; a host name
 * ("localhost") resolved to its first address.
 */
static void tcp_host(const char *host, size_t len, char *out, size_t size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	char name[256], addr[INET6_ADDRSTRLEN];

	snprintf(out, size, "%.*s", (int)len, host);
	if (len == 0 || len >= sizeof name || host[0] == '[' || (len == 1 && host[0] == '*'))
		return;
	memcpy(name, host, len);
	name[len] = '\0';
	if (if_nametoindex(name) != 0 || getaddrinfo(name, NULL, &hints, &res) != 0)
		return;	/* an interface, or a name ZeroMQ will explain */
	if (res->ai_family == AF_INET &&
	    inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr, addr,
		      sizeof addr) != NULL)
		snprintf(out, size, "%s", addr);
	else if (res->ai_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr,
			   addr, sizeof addr) != NULL)
		snprintf(out, size, "[%s]", addr);
	freeaddrinfo(res);
}

/*
 * Bind ep. A unix socket file is made readable and writable by the daemon's group
 * (0660, whatever the umask): under the unit that is the `nanti` group, whose members may
 * submit (docs/operations.md); the runtime directory's mode decides who reaches it.
 */
static bool bind_endpoint(void *s, const char *ep)
{
	if (zmq_bind(s, ep) != 0) {
		log_err("cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
		return false;
	}
	if (strncmp(ep, "ipc://", 6) == 0 && chmod(ep + 6, 0660) != 0)
		log_warn("cannot make %s group-writable", ep + 6);
	log_info("listening on %s", ep);
	return true;
}

/* Make s a CURVE server whose handshakes the ZAP handler decides. */
static bool curve_server(void *s, const struct daemon *d)
{
	int one = 1;

	if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, d->curve_sec, PROTO_KEY_LEN) != 0 ||
	    zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, AUTH_ZAP_DOMAIN, strlen(AUTH_ZAP_DOMAIN)) != 0) {
		log_err("cannot make the tcp endpoints speak CURVE: %s", zmq_strerror(zmq_errno()));
		return false;
	}
	/* belt and braces: no handler answering is a refusal, not a welcome */
	if (zmq_setsockopt(s, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0)
		log_debug("ZMQ_ZAP_ENFORCE_DOMAIN is not available: the ZAP handler is bound first");
	return true;
}

static bool sockets_open(struct daemon *d)
{
	int64_t maxmsg = PROTO_MAX_FRAME;
	int hwm = PUB_HWM, rhwm = 10000;
	char ep[PATH_MAX + 16];
	size_t size;

	if (strlen(d->cfg.runtime_dir) + sizeof "ipc:///submit.sock" > sizeof
	    ((struct sockaddr_un *)0)->sun_path + 6) {
		log_err("runtime directory path too long for a unix socket (%zu bytes): %s",
			strlen(d->cfg.runtime_dir), d->cfg.runtime_dir);
		return false;
	}
	if ((d->zctx = zmq_ctx_new()) == NULL ||
	    (d->zap = zmq_socket(d->zctx, ZMQ_REP)) == NULL ||
	    (d->router = socket_new(d, ZMQ_ROUTER)) == NULL ||
	    (d->pub = socket_new(d, ZMQ_PUB)) == NULL) {
		log_err("cannot create sockets: %s", zmq_strerror(zmq_errno()));
		return false;
	}
	/* the ZAP handler before any endpoint: without one libzmq lets every key in */
	if (zmq_bind(d->zap, AUTH_ZAP_ENDPOINT) != 0) {
		log_err("cannot bind the ZAP handler: %s", zmq_strerror(zmq_errno()));
		return false;
	}
	zmq_setsockopt(d->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	zmq_setsockopt(d->router, ZMQ_RCVHWM, &rhwm, sizeof rhwm);
	zmq_setsockopt(d->router, ZMQ_SNDHWM, &rhwm, sizeof rhwm);
	zmq_setsockopt(d->pub, ZMQ_SNDHWM, &hwm, sizeof hwm);

	snprintf(ep, sizeof ep, "ipc://%s/submit.sock", d->cfg.runtime_dir);
	if (!bind_endpoint(d->router, ep))
		return false;
	snprintf(ep, sizeof ep, "ipc://%s/events.sock", d->cfg.runtime_dir);
	if (!bind_endpoint(d->pub, ep))
		return false;
	/* options apply to the endpoints bound after them: ipc stays as it is (the uid says
	 * who), tcp speaks CURVE */
	if (d->cfg.ntcp > 0 && (!curve_server(d->router, d) || !curve_server(d->pub, d)))
		return false;
	for (int i = 0; i < d->cfg.ntcp; i++) {
		const char *hp = d->cfg.tcp[i], *colon = strrchr(hp, ':');
		long port = strtol(colon + 1, NULL, 10);
		char host[300];

		tcp_host(hp, (size_t)(colon - hp), host, sizeof host);
		snprintf(ep, sizeof ep, "tcp://%s:%ld", host, port);
		if (!bind_endpoint(d->router, ep))
			return false;
		snprintf(ep, sizeof ep, "tcp://%s:%ld", host, port + 1);
		if (!bind_endpoint(d->pub, ep))
			return false;
		snprintf(d->pub_ask[i], sizeof d->pub_ask[i], "%.*s", (int)sizeof d->pub_ask[i] - 1,
			 ep);
		size = sizeof d->pub_tcp[i];
		zmq_getsockopt(d->pub, ZMQ_LAST_ENDPOINT, d->pub_tcp[i], &size);
	}
	return true;
}

/*
 * A key was revoked or replaced: requests of the connections it opened are refused
 * (auth_check()), but a subscriber's PUB connection carries no requests. Unbinding the
 * PUB socket's tcp endpoints drops every tcp subscriber; binding them again lets ZeroMQ
 * reconnect them, through the ZAP handler, which lets the revoked key in no more. The
 * others miss the entries of the moment and catch up with log.read (protocol.md section
 * 7). The old listener closes in ZeroMQ's I/O thread, so the port may still be taken for
 * a moment: pub_bind_again() tries on each turn of the loop, which meanwhile goes on
 * serving (handshakes wait for the ZAP handler).
 */
static void pub_unbind(struct daemon *d)
{
	d->rebind_pub = false;
	for (int i = 0; i < d->cfg.ntcp; i++) {
		if (d->pub_tcp[i][0] == '\0' || d->pub_down[i] != 0)
			continue;
		if (zmq_unbind(d->pub, d->pub_tcp[i]) != 0) {
			log_err("cannot unbind %s after a key was revoked: %s", d->pub_tcp[i],
				zmq_strerror(zmq_errno()));
			continue;
		}
		d->pub_down[i] = now_ms();
	}
}

/* Bind the PUB endpoints pub_unbind() took down; true while some are still down. */
static bool pub_bind_again(struct daemon *d)
{
	bool down = false;

	for (int i = 0; i < d->cfg.ntcp; i++) {
		size_t size = sizeof d->pub_tcp[i];

		if (d->pub_down[i] == 0)
			continue;
		if (zmq_bind(d->pub, d->pub_ask[i]) == 0) {
			d->pub_down[i] = 0;
			zmq_getsockopt(d->pub, ZMQ_LAST_ENDPOINT, d->pub_tcp[i], &size);
			log_info("bound %s again: its subscribers authenticate again", d->pub_ask[i]);
		} else if (zmq_errno() == EADDRINUSE && now_ms() - d->pub_down[i] < REBIND_MS) {
			down = true;
		} else {
			log_err("cannot bind %s again after a key was revoked: %s", d->pub_ask[i],
				zmq_strerror(zmq_errno()));
			d->pub_down[i] = 0;
			d->pub_tcp[i][0] = '\0';
		}
	}
	return down;
}

static bool signals_setup(struct daemon *d)
{
	struct sigaction sa;

	if (pipe2(d->sigpipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		log_err("pipe: %s", strerror(errno));
		return false;
	}
	sig_write_fd = d->sigpipe[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* a file size limit makes writes fail (EFBIG, refused as unavailable), not the
	 * daemon die */
	sigaction(SIGXFSZ, &sa, NULL);
	return true;
}

/* ---- the loop ---- */

static struct msg *msg_get(struct daemon *d)
{
	struct msg *m = d->free_msgs;

	if (m != NULL)
		d->free_msgs = m->next;
	return m;
}

static void msg_put(struct daemon *d, struct msg *m)
{
	if (m->peer != 0)
		peers_give(d->peers, m->peer);
	m->peer = 0;
	for (int i = 0; i < m->nframes; i++)
		zmq_msg_close(&m->frames[i]);
	m->nframes = 0;
	proto_doc_fini(&m->item.doc);
	m->next = d->free_msgs;
	d->free_msgs = m;
}

/* Take one message if one is waiting. Returns 1 taken, 0 none, -1 error. */
static int msg_recv(void *router, struct msg *m)
{
	zmq_msg_t extra;
	int more;

	m->nframes = 0;
	m->too_many = false;
	m->deferred = false;
	m->report = false;
	do {
		zmq_msg_t *f = m->nframes < PROTO_MAX_FRAMES ? &m->frames[m->nframes] : &extra;

		zmq_msg_init(f);
		if (zmq_msg_recv(f, router, m->nframes == 0 ? ZMQ_DONTWAIT : 0) < 0) {
			int e = zmq_errno();

			zmq_msg_close(f);
			if (m->nframes == 0)
				return e == EAGAIN ? 0 : -1;
			/* a multipart message is delivered whole: this does not happen */
			break;
		}
		more = zmq_msg_more(f);
		if (f == &extra) {
			zmq_msg_close(f);
			m->too_many = true;
		} else {
			m->nframes++;
		}
	} while (more);
	return 1;
}

static void msg_send_reply(struct daemon *d, struct msg *m)
{
	const proto_out *r = &m->item.reply;
	int env = m->nframes - 1;

	if (m->item.internal) {
		/* the daemon's own write: nobody to answer; a refusal is a bug worth a line */
		proto_doc doc = { 0 };
		bool ok = true;

		if (proto_parse(&doc, r->sb.data, r->sb.size, NULL, 0) == NT_OK &&
		    proto_obj_bool(proto_map_get(&doc.root, "ok"), &ok) && !ok) {
			proto_str msg = PROTO_STR_NULL;

			proto_obj_str(proto_map_get(proto_map_get(&doc.root, "error"), "message"),
				      &msg);
			log_entry(LOG_P_WARNING, 0, 0, "nantid", 6, "the daemon's own write %.*s "
				  "was not applied: %.*s", (int)m->item.req.id.len, m->item.req.id.ptr,
				  (int)msg.len, msg.ptr);
		}
		proto_doc_fini(&doc);
		return;
	}
	if (m->too_many)	/* the envelope is not known: route by identity + delimiter */
		env = (m->nframes > 1 && zmq_msg_size(&m->frames[1]) == 0) ? 2 : 1;
	for (int i = 0; i < env; i++)
		zmq_send(d->router, zmq_msg_data(&m->frames[i]), zmq_msg_size(&m->frames[i]),
			 ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(d->router, r->sb.data, r->sb.size, ZMQ_DONTWAIT);
}

static void publish(struct daemon *d, const char *topic, const proto_out *body)
{
	zmq_send(d->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
	zmq_send(d->pub, body->sb.data, body->sb.size, ZMQ_DONTWAIT);
}

/* STATUS= for systemctl status: what a person wants to see at a glance. */
static void status(struct daemon *d)
{
	struct ledger_txn t;
	uint64_t cases = 0, timers = 0;

	if (ledger_begin(d->lg, &t, false) == NT_OK) {
		cases = ledger_count(&t, DB_CASES);
		timers = ledger_count(&t, DB_TIMERS);
		ledger_abort(&t);
	}
	sys_notify("STATUS=%s; %" PRIu64 " cases, last seq %" PRIu64 ", %" PRIu64 " timers "
		   "armed, %" PRIu64 " events in %" PRIu64 " commits since start, last commit %"
		   PRIu64 " us", !d->healthy ? "unhealthy" : d->ready ? "serving" :
		   "serving, catching up missed timers", cases, d->st.last_seq, timers,
		   d->stats.events, d->stats.commits, d->stats.last_commit_us);
}

static void heartbeat(struct daemon *d, int64_t now)
{
	char hex[CHAIN_HEX + 1];
	proto_out out;

	proto_out_init(&out);
	msgpack_pack_map(&out.pk, 3 + (d->st.last_seq > 0));
	proto_kv_cstr(&out, "topic", "heartbeat");
	proto_kv_i64(&out, "at", now);
	proto_kv_u64(&out, "last_seq", d->st.last_seq);
	if (d->st.last_seq > 0) {
		/* the head of the chain: a subscriber that keeps it can tell later whether the
		 * log was rewritten (docs/security.md) */
		chain_hex(hex, d->st.last_hash);
		proto_kv_cstr(&out, "last_hash", hex);
	}
	if (!out.oom)
		publish(d, "heartbeat", &out);
	proto_out_fini(&out);
	status(d);
}

/* Hand a report to the report thread, or refuse it when too many wait already. */
static void report(struct daemon *d, struct msg *m)
{
	if (reporter_submit(d->reporter, &m->item, &d->cfg.policy, now_ms(), m))
		return;
	d->stats.reports_refused++;
	batch_item_fail(&m->item, NT_EUNAVAIL, "the report thread is busy: "
			REPORTER_QUEUE_STR " reports wait for it already; retry in a moment "
			"with the same request");
	msg_send_reply(d, m);
	msg_put(d, m);
}

static void answer_now(struct daemon *d, struct msg *m)
{
	if (!m->item.done && report_op(m->item.op)) {
		report(d, m);
		return;
	}
	if (!m->item.done)
		batch_query(d->lg, &d->stats, &d->cfg.policy, &m->item, now_ms());
	msg_send_reply(d, m);
	msg_put(d, m);
}

/* Reply to the reports the report thread has answered. */
static void reports_done(struct daemon *d)
{
	uint64_t us;
	void *tag;

	while (reporter_collect(d->reporter, &tag, &us)) {
		d->stats.reports++;
		d->stats.report_us += us;
		msg_send_reply(d, tag);
		msg_put(d, tag);
	}
}

/* Is there room for one more message? Otherwise requests stay queued in ZeroMQ. */
static bool room(struct daemon *d)
{
	if (d->free_msgs == NULL || !writer_room(d->writer))
		return false;
	for (int i = 0; i < WRITER_GROUPS; i++)
		if (d->group[i].n >= GROUP_MSGS)
			return false;
	return true;
}

static void group_add(struct daemon *d, uint64_t ticket, struct msg *m)
{
	struct group *g = &d->group[ticket % WRITER_GROUPS];

	g->msgs[g->n++] = m;
}

/*
 * Sort a received message: errors and reads that no pending write precedes are answered
 * at once; writes go to the writer's forming group; a read that follows a pending write
 * waits for that write's group, so that a client reads its own writes.
 */
static void classify(struct daemon *d, struct msg *m)
{
	zmq_msg_t *body = &m->frames[m->nframes - 1];
	uint64_t ticket;

	batch_item_reuse(&m->item, zmq_msg_data(body), zmq_msg_size(body));
	auth_peer_of(&d->cfg.ipc_users, body, &m->item.peer);
	/* frame 0 is the ROUTER's routing id of the connection: its share of the pool */
	m->peer = peers_key(zmq_msg_data(&m->frames[0]), zmq_msg_size(&m->frames[0]));
	if (!peers_take(d->peers, m->peer)) {
		m->peer = 0;
		(void)batch_prepare(&m->item);	/* for the id to echo, if there is one */
		batch_item_fail(&m->item, NT_EUNAVAIL, "this connection has "
				PEERS_MAX_STR " requests in flight, as many as one may: wait for "
				"replies before sending more, and retry this one with its id");
	} else if (m->too_many) {
		proto_reply_error(&m->item.reply, PROTO_STR_NULL, NT_ETOOLARGE,
				  "more than 8 frames in one message");
		m->item.done = true;
	} else if (m->nframes < 2) {
		proto_reply_error(&m->item.reply, PROTO_STR_NULL, NT_EBADREQ, "no request body");
		m->item.done = true;
	} else if (batch_prepare(&m->item)) {
		/* apply it now, on top of everything applied before; the writer stores it */
		ticket = writer_lock(d->writer);
		batch_apply(&d->spec, &m->item, ticket, now_ms());
		writer_add_unlock(d->writer, &m->item);
		group_add(d, ticket, m);
		d->group[ticket % WRITER_GROUPS].end = d->spec.st;
		return;
	}
	if (m->item.done || (ticket = writer_pending(d->writer)) == 0) {
		answer_now(d, m);
		return;
	}
	m->deferred = true;
	group_add(d, ticket, m);
}

/* Reply to a group's messages in arrival order, publish its entries in seq order, and
 * give its messages back to the pool. */
static void group_finish(struct daemon *d, struct group *g, bool committed)
{
	uint64_t events = 0;
	bool stored = false;

	for (size_t i = 0; i < g->n; i++) {
		struct msg *m = g->msgs[i];

		if (m->deferred && !m->item.done && report_op(m->item.op)) {
			m->report = true;	/* handed on below, once the group is done with */
			continue;
		}
		if (m->deferred)
			batch_query(d->lg, &d->stats, &d->cfg.policy, &m->item, now_ms());
		msg_send_reply(d, m);
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct batch_item *it = &g->msgs[i]->item;

		d->firing -= it->internal;
		/* only a commit that armed or fired a timer changes which one is next; after a
		 * batch of firings, committed or not, the loop looks again */
		if (it->internal || (committed && batch_item_touches(it, DB_TIMERS)))
			d->timers_dirty = true;
	}
	for (size_t i = 0; committed && i < g->n; i++) {
		struct batch_item *it = &g->msgs[i]->item;

		stored |= it->applied;
		/* a key revoked, or replaced by key.add: its subscribers must go too */
		if (it->has_entry && strncmp(it->topic, "key.", 4) == 0)
			d->rebind_pub = true;
		if (it->has_entry) {
			publish(d, it->topic, &it->entry);
			events++;
			log_entry(LOG_P_DEBUG, it->seq, it->eff.case_id, it->req.actor.ptr,
				  it->req.actor.len, "%s", it->topic);
		}
	}
	/* a group of duplicates and refusals wrote nothing: not a commit worth counting (one
	 * of puts that changed nothing stored their ids: it is) */
	d->stats.events += events;
	d->stats.commits += stored;
	for (size_t i = 0; i < g->n; i++) {
		if (g->msgs[i]->report)
			report(d, g->msgs[i]);
		else
			msg_put(d, g->msgs[i]);
	}
	g->n = 0;
}

/* A group failed to commit, or was abandoned: none of its writes happened. */
static void group_fail(struct group *g, const char *why)
{
	for (size_t i = 0; i < g->n; i++) {
		struct batch_item *it = &g->msgs[i]->item;

		if (it->op != NULL && it->op->write)
			batch_item_fail(it, NT_EUNAVAIL, why);
	}
}

/* Finished groups, oldest first. */
static void complete(struct daemon *d)
{
	struct writer_result res;
	uint64_t emptied = 0;

	batch_spec_quiesce(&d->spec);	/* applies from here on must see these commits */
	while (writer_collect(d->writer, &res)) {
		struct group *g = &d->group[res.ticket % WRITER_GROUPS];

		d->stats.last_commit_us = res.commit_us;
		d->stats.commit_us += res.commit_us;
		if (res.rc == NT_OK) {
			d->healthy = true;
			d->st = g->end;
			overlay_release(d->spec.ov, res.ticket);
			group_finish(d, g, true);
			continue;
		}
		if (!res.abandoned) {
			/* what was applied after it assumed it: all of that fails too (it is
			 * collected next, abandoned), and applying starts again from what is
			 * committed */
			d->healthy = false;
			log_err("%s (%zu requests refused as unavailable, and those applied after "
				"them)", res.why, res.n);
			emptied = writer_abandon(d->writer);
			batch_spec_reset(&d->spec, &d->st);
		}
		group_fail(g, res.why);
		group_finish(d, g, false);
	}
	if (emptied != 0) {
		/* the forming group, emptied by writer_abandon(), goes last */
		struct group *f = &d->group[emptied % WRITER_GROUPS];

		group_fail(f, "not applied: an earlier group could not be committed");
		group_finish(d, f, false);
	}
}

/* Take the messages waiting on the request socket, as many as there is room for. */
static size_t receive(struct daemon *d)
{
	size_t n = 0;

	while (room(d)) {
		struct msg *m = msg_get(d);

		if (msg_recv(d->router, m) <= 0) {
			m->next = d->free_msgs;
			d->free_msgs = m;
			break;
		}
		classify(d, m);
		n++;
		/* answer finished groups between messages: replies do not wait for a burst */
		if (writer_done(d->writer))
			complete(d);
	}
	return n;
}

static void drain_signals(struct daemon *d)
{
	char buf[64];

	while (read(d->sigpipe[0], buf, sizeof buf) > 0)
		;
}

/* ---- timers ---- */

#define FIRE_BATCH 64	/* firings applied at a time: requests go on between batches */

/* The first armed timer's due time (0: none), from what is committed. */
static int64_t first_due(struct daemon *d)
{
	struct ledger_txn t;
	struct ledger_iter it;
	MDB_val k, v;
	int64_t due = 0;

	if (ledger_begin(d->lg, &t, false) != NT_OK)
		return 0;
	ledger_iter_init(&it, &t, DB_TIMERS, NULL, 0);
	if (ledger_iter_next(&it, &k, &v) && k.mv_size == TIMER_KEY_LEN)
		due = (int64_t)ledger_u64(k.mv_data);
	ledger_iter_close(&it);
	ledger_abort(&t);
	return due;
}

/* Apply the daemon's own write body (a request map) as an internal item; takes m. */
static void submit_internal(struct daemon *d, struct msg *m, proto_out *body)
{
	uint64_t ticket;

	m->nframes = 1;
	m->too_many = false;
	m->deferred = false;
	if (body->oom || zmq_msg_init_size(&m->frames[0], body->sb.size) != 0) {
		m->nframes = 0;
		msg_put(d, m);
		return;
	}
	memcpy(zmq_msg_data(&m->frames[0]), body->sb.data, body->sb.size);
	batch_item_reuse(&m->item, zmq_msg_data(&m->frames[0]), zmq_msg_size(&m->frames[0]));
	m->item.internal = true;
	if (!batch_prepare(&m->item)) {
		msg_send_reply(d, m);	/* says why */
		msg_put(d, m);
		return;
	}
	ticket = writer_lock(d->writer);
	batch_apply(&d->spec, &m->item, ticket, now_ms());
	writer_add_unlock(d->writer, &m->item);
	group_add(d, ticket, m);
	d->group[ticket % WRITER_GROUPS].end = d->spec.st;
	d->firing++;
}

/* Start the daemon's own request: a map of n pairs with op, id and actor. */
static void internal_begin(proto_out *body, uint32_t n, const char *op, const char *id)
{
	proto_out_init(body);
	msgpack_pack_map(&body->pk, n + 3);
	proto_kv_cstr(body, "op", op);
	proto_kv_cstr(body, "id", id);
	proto_kv_cstr(body, "actor", "nantid");
}

/* Apply one firing of the committed case timer key as the daemon's own write. */
static void fire_one(struct daemon *d, struct msg *m, const uint8_t *key)
{
	uint64_t id = ledger_u64(key + 8), due = ledger_u64(key);
	char rid[64];
	proto_out body;

	snprintf(rid, sizeof rid, "timer-%" PRIu64 "-%" PRIu64, due, id);
	internal_begin(&body, 3, "timer.fire", rid);
	proto_kv_u64(&body, "case", id / 4);
	proto_kv_u64(&body, "slot", id % 4);
	proto_kv_u64(&body, "due", due);
	submit_internal(d, m, &body);
	proto_out_fini(&body);
}

/* ---- a milestone's timer: campaign.missing per unit, then milestone.fire ---- */


struct missing_run {
	struct daemon *d;
	unsigned m;
	int64_t due;
	const struct milestone_rec *ms;
	bool any;	/* someone was missing at this level */
	bool full;	/* no room for every notice: the rest after these commit */
};

static nt_err send_missing(void *arg, proto_str unit, const proto_str *people, size_t n,
			   uint64_t count)
{
	struct missing_run *r = arg;
	size_t shown = n < CORE_MISSING_MAX_PEOPLE ? n : CORE_MISSING_MAX_PEOPLE;
	char rid[64];
	proto_out body;

	r->any = true;
	if (r->full || (r->ms->cursor.len > 0 && proto_str_cmp(unit, r->ms->cursor) <= 0))
		return NT_OK;	/* no room left, or told already at this level */
	if (!room(r->d)) {
		r->full = true;
		return NT_OK;
	}
	snprintf(rid, sizeof rid, "missing-%s-%" PRIu32 "-%" PRId64 "-%016" PRIx64,
		 milestone_names[r->m], r->ms->level, r->due,
		 proto_hash(unit.ptr, unit.len, PROTO_HASH_SEED));
	internal_begin(&body, 7, "campaign.missing", rid);
	proto_kv_cstr(&body, "milestone", milestone_names[r->m]);
	proto_kv_i64(&body, "due", r->due);
	proto_kv_u64(&body, "level", r->ms->level);
	proto_kv_str(&body, "unit", unit);
	proto_pack_cstr(&body, "people");
	msgpack_pack_array(&body.pk, (uint32_t)shown);
	for (size_t i = 0; i < shown; i++)
		proto_pack_str(&body, people[i]);
	proto_kv_u64(&body, "more", n - shown);
	/* what they miss: cases, or for the household milestones households */
	proto_kv_u64(&body, milestone_of_households(r->m) ? "households" : "cases", count);
	submit_internal(r->d, msg_get(r->d), &body);
	proto_out_fini(&body);
	return NT_OK;
}

/*
 * Fire milestone m's timer due at `due`: read who is missing from what is committed (at
 * level 0, as of the milestone's date; later, what is still not done at all), send each
 * unit's notice after the milestone's cursor, then milestone.fire, which arms the next
 * level. With no room for all, the rest go after these commit (the cursor says where).
 */
static void fire_milestone(struct daemon *d, unsigned m, int64_t due)
{
	struct ledger_txn t;
	struct ops_query_ctx q = { &t, &d->stats, d->st.last_seq, now_ms(), &d->cfg.policy,
				   NULL };
	struct core_view v;
	struct milestone_rec ms;
	struct missing_run r = { d, m, due, &ms, false, false };
	char rid[64];
	proto_out body;
	nt_err rc;

	if (ledger_begin(d->lg, &t, false) != NT_OK)
		return;
	ops_view(&v, &q);
	v.cal = d->cal;
	rc = core_get_milestone(&v, m, &ms);
	if (rc == NT_OK && ms.at == due)
		rc = coverage_missing(&t, &v, m, ms.level == 0 ? ms.by : 0, send_missing, &r);
	if (rc != NT_OK)
		log_warnx("milestone %s: cannot read who is missing: %s", milestone_names[m],
			  nt_strerror(rc));
	if (rc == NT_OK && !r.full && room(d)) {
		snprintf(rid, sizeof rid, "milestone-%s-%" PRIu32 "-%" PRId64,
			 milestone_names[m], ms.level, due);
		internal_begin(&body, 3, "milestone.fire", rid);
		proto_kv_cstr(&body, "milestone", milestone_names[m]);
		proto_kv_i64(&body, "due", due);
		proto_kv_bool(&body, "missing", r.any || ms.units > 0);
		submit_internal(d, msg_get(d), &body);
		proto_out_fini(&body);
	} else {
		d->timers_dirty = true;	/* again once these commit */
	}
	ledger_abort(&t);
}

/*
 * Fire what is due, in due order, a batch at a time. Only committed timers are read, and
 * only while no firing is pending: a timer fired is deleted in its firing's transaction,
 * so reading again after that commit never finds it twice.
 */
static void fire_due(struct daemon *d, int64_t now)
{
	struct ledger_txn t;
	struct ledger_iter it;
	uint8_t keys[FIRE_BATCH][TIMER_KEY_LEN];
	size_t n = 0, i;
	MDB_val k, v;

	if (d->firing > 0 || d->next_due == 0 || now < d->next_due)
		return;
	if (ledger_begin(d->lg, &t, false) != NT_OK)
		return;
	ledger_iter_init(&it, &t, DB_TIMERS, NULL, 0);
	while (n < FIRE_BATCH && ledger_iter_next(&it, &k, &v)) {
		if (k.mv_size != TIMER_KEY_LEN || (int64_t)ledger_u64(k.mv_data) > now)
			break;
		memcpy(keys[n++], k.mv_data, TIMER_KEY_LEN);
	}
	ledger_iter_close(&it);
	ledger_abort(&t);
	for (i = 0; i < n && room(d); i++) {
		uint64_t id = ledger_u64(keys[i] + 8);

		if (id >= TIMER_MILESTONE) {
			/* a milestone fans out to its units: alone, after what is before it */
			if (i == 0)
				fire_milestone(d, (unsigned)(id - TIMER_MILESTONE),
					       (int64_t)ledger_u64(keys[i]));
			i += i == 0;
			break;
		}
		fire_one(d, msg_get(d), keys[i]);
	}
	d->next_due = 0;	/* read again after these are committed */
	if (i < n)
		d->timers_dirty = true;	/* no room for all: again once a commit makes room */
}

/* ---- a new calendar: recompute what depends on it ---- */

#define RECAL_SCAN 4096	/* cases looked at per step of the pass */

/* Does the ledger record a calendar other than the one loaded? Then start the pass. */
static void recalendar_check(struct daemon *d)
{
	struct ledger_txn t;
	MDB_val v;

	d->cal_fp = cal_fingerprint(d->cal);
	if (ledger_begin(d->lg, &t, false) != NT_OK)
		return;
	if (ledger_get(&t, DB_META, META_CALENDAR, strlen(META_CALENDAR), &v) != NT_OK ||
	    v.mv_size != 8 || ledger_u64(v.mv_data) != d->cal_fp) {
		d->recal_next = 1;
		log_info("the calendar differs from the one the ledger's deadlines were computed "
			 "with: recomputing them");
	}
	ledger_abort(&t);
}

/*
 * One step of the pass: between requests, like timer firings (and after them), send
 * case.recalendar for the next cases that depend on the calendar, then calendar.adopt
 * once every case was looked at. A restart before calendar.adopt commits starts the pass
 * again; case.recalendar changes nothing the second time.
 */
static void recalendar_step(struct daemon *d)
{
	struct ledger_txn t;
	struct ledger_iter it;
	uint8_t start[8];
	uint64_t ids[FIRE_BATCH];
	size_t n = 0, seen = 0;
	bool end = true;
	MDB_val k, v;
	char rid[64];
	proto_out body;

	if (d->recal_next == 0 || d->firing > 0 || !room(d))
		return;
	if (ledger_begin(d->lg, &t, false) != NT_OK)
		return;
	ledger_key_u64(start, d->recal_next);
	ledger_iter_init(&it, &t, DB_CASES, start, sizeof start);
	while (ledger_iter_next(&it, &k, &v)) {
		struct case_rec c;

		if (n == FIRE_BATCH || seen == RECAL_SCAN) {
			end = false;
			break;
		}
		seen++;
		d->recal_next = ledger_u64(k.mv_data) + 1;
		if (rec_decode(v.mv_data, v.mv_size, &case_desc, &c) == NT_OK &&
		    core_case_recalendar_wanted(&c))
			ids[n++] = c.id;
	}
	ledger_iter_close(&it);
	ledger_abort(&t);
	for (size_t i = 0; i < n; i++) {
		snprintf(rid, sizeof rid, "recalendar-%016" PRIx64 "-%" PRIu64, d->cal_fp, ids[i]);
		internal_begin(&body, 1, "case.recalendar", rid);
		proto_kv_u64(&body, "case", ids[i]);
		submit_internal(d, msg_get(d), &body);
		proto_out_fini(&body);
		if (!room(d) && i + 1 < n) {
			d->recal_next = ids[i + 1];	/* the rest after these commit */
			return;
		}
	}
	if (end && room(d)) {
		snprintf(rid, sizeof rid, "calendar-%016" PRIx64, d->cal_fp);
		internal_begin(&body, 1, "calendar.adopt", rid);
		proto_kv_u64(&body, "fingerprint", d->cal_fp);
		submit_internal(d, msg_get(d), &body);
		proto_out_fini(&body);
		d->recal_next = 0;
		log_info("the deadlines were recomputed with the new calendar");
	}
}

/*
 * READY=1 once the timers missed while the daemon was down are fired and committed (and a
 * new calendar's pass is done): requests are served from the start, but a service that
 * waits for nantid starts when its deadlines are up to date.
 */
static void maybe_ready(struct daemon *d, int64_t now)
{
	if (d->ready || d->firing > 0 || d->timers_dirty || d->recal_next != 0 ||
	    (d->next_due != 0 && d->next_due <= now))
		return;
	d->ready = true;
	log_info("ready: ledger %s at seq %" PRIu64 ", next case %" PRIu64 ", missed timers "
		 "caught up", d->cfg.state_dir, d->st.last_seq, d->st.next_case);
	sys_notify("READY=1");
	status(d);
}

/*
 * SIGHUP: build the configuration again from the same file and flags, and load the
 * calendars again. Anything wrong in either keeps the old ones (with a log line). What
 * only a restart can change (the directories, the endpoints, the map size) is kept, and
 * said. The connections stay; a changed calendar starts its pass.
 */
static void reload(struct daemon *d)
{
	struct config *nc = malloc(sizeof *nc);
	struct cal *cal = NULL;
	const char *key;

	sys_notify("RELOADING=1\nMONOTONIC_USEC=%" PRIu64, sys_monotonic_usec());
	log_info("reloading the configuration%s%s and the calendars",
		 d->cfg.file[0] ? " from " : "", d->cfg.file);
	if (nc == NULL || !config_build(nc, &d->cfg.args) || (cal = calendar_load(nc)) == NULL) {
		log_err("the new configuration was refused: the old one stays");
		goto out;
	}
	if ((key = config_restart_needed(&d->cfg, nc)) != NULL) {
		log_warnx("%s changed: it takes effect at the next restart", key);
		memcpy(nc->state_dir, d->cfg.state_dir, sizeof nc->state_dir);
		memcpy(nc->runtime_dir, d->cfg.runtime_dir, sizeof nc->runtime_dir);
		memcpy(nc->tcp, d->cfg.tcp, sizeof nc->tcp);
		nc->ntcp = d->cfg.ntcp;
		nc->map_size = d->cfg.map_size;
		nc->map_size_max = d->cfg.map_size_max;
	}
	/* the loop's thread is the only one that applies requests, and nothing applied keeps
	 * the calendar or the policy: both can change between two requests */
	d->cfg = *nc;
	log_init("nantid", d->cfg.debug);
	cal_free(&d->cal);
	d->cal = cal;
	d->spec.cal = cal;
	cal = NULL;
	recalendar_check(d);
	d->timers_dirty = true;
	log_info("reloaded");
out:
	cal_free(&cal);
	free(nc);
	sys_notify("READY=1");
	status(d);
}

static void loop(struct daemon *d)
{
	zmq_pollitem_t items[5] = {
		{ NULL, d->sigpipe[0], ZMQ_POLLIN, 0 },
		{ NULL, writer_fd(d->writer), ZMQ_POLLIN, 0 },
		{ d->zap, 0, ZMQ_POLLIN, 0 },
		{ NULL, reporter_fd(d->reporter), ZMQ_POLLIN, 0 },
		{ d->router, 0, ZMQ_POLLIN, 0 },
	};

	d->next_heartbeat = now_ms();
	d->next_watchdog = now_ms();
	d->timers_dirty = true;
	while (!got_stop) {
		int64_t now = now_ms(), wait;
		/* with no room for more, leave requests queued in ZeroMQ: back-pressure */
		int nitems;

		if (d->timers_dirty && d->firing == 0) {
			d->next_due = first_due(d);
			d->timers_dirty = false;
		}
		fire_due(d, now);
		recalendar_step(d);
		maybe_ready(d, now);
		nitems = room(d) ? 5 : 4;
		wait = d->next_heartbeat - now;
		if (d->watchdog_usec && d->next_watchdog - now < wait)
			wait = d->next_watchdog - now;
		/* a due timer wakes the loop, unless there is no room to fire it: then the
		 * commit that makes room does */
		if (d->firing == 0 && d->next_due != 0 && nitems == 5 && d->next_due - now < wait)
			wait = d->next_due - now;
		if (d->firing == 0 && d->recal_next != 0 && nitems == 5)
			wait = 0;	/* the pass goes on */
		if (d->pub_rebinding && wait > 5)
			wait = 5;	/* the port is free again in a moment */
		if (wait < 0)
			wait = 0;
		batch_spec_quiesce(&d->spec);	/* no read transaction across the sleep */
		if (zmq_poll(items, nitems, (long)wait) < 0 && zmq_errno() != EINTR) {
			log_err("zmq_poll: %s", zmq_strerror(zmq_errno()));
			break;
		}
		if (items[0].revents & ZMQ_POLLIN)
			drain_signals(d);
		if (got_hup) {
			got_hup = 0;
			reload(d);
		}
		if (items[1].revents & ZMQ_POLLIN)
			complete(d);
		if (items[2].revents & ZMQ_POLLIN)
			auth_zap_serve(d->zap, d->lg);
		if (items[3].revents & ZMQ_POLLIN)
			reports_done(d);
		if (nitems == 5 && (items[4].revents & ZMQ_POLLIN))
			receive(d);
		if (d->rebind_pub)
			pub_unbind(d);
		d->pub_rebinding = pub_bind_again(d);
		now = now_ms();
		if (now >= d->next_heartbeat) {
			heartbeat(d, now);
			d->next_heartbeat = now + HEARTBEAT_MS;
		}
		if (d->watchdog_usec && now >= d->next_watchdog) {
			if (d->healthy)
				sys_notify("WATCHDOG=1");
			d->next_watchdog = now + (int64_t)(d->watchdog_usec / 2000);
		}
	}
}

/* Stop: take what is already queued, commit it, answer everything, then close. */
static void shutdown_cleanly(struct daemon *d)
{
	int64_t deadline = now_ms() + 5000;

	sys_notify("STOPPING=1");
	log_info("stopping: answering the requests already received");
	while (now_ms() < deadline && receive(d) > 0)
		;
	while (writer_pending(d->writer) != 0) {
		writer_wait(d->writer);
		complete(d);
	}
	while (reporter_pending(d->reporter) != 0) {
		reporter_wait(d->reporter);
		reports_done(d);
	}
	log_info("stopped at seq %" PRIu64, d->st.last_seq);
}

int main(int argc, char **argv)
{
	struct daemon d = { .lock_fd = -1, .sigpipe = { -1, -1 } };
	int status = 1, rc;
	nt_err err;

	if ((rc = config_load(&d.cfg, argc, argv)) != 0)
		return rc - 1;
	log_init("nantid", d.cfg.debug);
	if (d.cfg.args.check) {
		/* --check-config: the calendars are configuration too */
		if ((d.cal = calendar_load(&d.cfg)) == NULL)
			return 1;
		cal_free(&d.cal);
		config_print(stdout, &d.cfg);
		return 0;
	}
	if (mkdir_p(d.cfg.state_dir, 0700) != 0) {
		log_err("cannot create state directory %s: %s", d.cfg.state_dir, strerror(errno));
		goto out;
	}
	if (mkdir_p(d.cfg.runtime_dir, 0755) != 0) {
		log_err("cannot create runtime directory %s: %s", d.cfg.runtime_dir,
			strerror(errno));
		goto out;
	}
	if (d.cfg.args.print_key) {
		char why[PATH_MAX + 128];

		if (auth_keypair(d.cfg.state_dir, d.curve_pub, d.curve_sec, why, sizeof why) != NT_OK) {
			log_err("%s", why);
			goto out;
		}
		printf("%s\n", d.curve_pub);
		status = 0;
		goto out;
	}
	if (!lock_state(&d))
		goto out;
	{
		char why[PATH_MAX + 128];

		if (auth_keypair(d.cfg.state_dir, d.curve_pub, d.curve_sec, why, sizeof why) != NT_OK) {
			log_err("the daemon's key pair: %s", why);
			goto out;
		}
	}
	if ((err = ledger_open(&d.lg, d.cfg.state_dir, d.cfg.map_size)) != NT_OK) {
		log_err("cannot open the ledger in %s: %s%s%s", d.cfg.state_dir, nt_strerror(err),
			err == NT_EIO ? ": " : "", err == NT_EIO ? strerror(errno) : "");
		goto out;
	}
	ledger_set_max_mapsize(d.lg, d.cfg.map_size_max);
	if (ledger_format(d.lg) != LEDGER_FORMAT) {
		log_notice("upgrading the ledger in %s from format %u to %d", d.cfg.state_dir,
			   ledger_format(d.lg), LEDGER_FORMAT);
		if ((err = batch_upgrade(d.lg)) != NT_OK) {
			log_err("cannot upgrade the ledger: %s", nt_strerror(err));
			goto out;
		}
	}
	if ((err = batch_load(d.lg, &d.st)) != NT_OK) {
		log_err("cannot read the end of the ledger: %s", nt_strerror(err));
		goto out;
	}
	if (!chain_tail_holds(&d))
		goto out;
	if (ops_too_wide() != NULL) {
		log_err("op %s has more arguments than a request holds (a build error)",
			ops_too_wide());
		goto out;
	}
	if ((d.cal = calendar_load(&d.cfg)) == NULL)
		goto out;
	recalendar_check(&d);
	d.pool = calloc(POOL, sizeof *d.pool);
	d.peers = calloc(1, sizeof *d.peers);
	for (int i = 0; i < WRITER_GROUPS; i++)
		d.group[i].msgs = calloc(GROUP_MSGS, sizeof *d.group[i].msgs);
	if (d.pool == NULL || d.peers == NULL || d.group[0].msgs == NULL || d.group[1].msgs == NULL ||
	    d.group[2].msgs == NULL || d.group[3].msgs == NULL) {
		log_err("out of memory");
		goto out;
	}
	for (int i = 0; i < POOL; i++) {
		batch_item_init(&d.pool[i].item, NULL, 0);
		d.pool[i].next = d.free_msgs;
		d.free_msgs = &d.pool[i];
	}
	if ((err = batch_spec_init(&d.spec, d.lg, &d.st)) == NT_OK) {
		d.spec.cal = d.cal;
		d.spec.policy = &d.cfg.policy;
	}
	if (err != NT_OK ||
	    (err = writer_start(&d.writer, d.lg)) != NT_OK) {
		log_err("cannot start the commit thread: %s", nt_strerror(err));
		goto out;
	}
	if ((err = reporter_start(&d.reporter, d.lg, &d.stats)) != NT_OK) {
		log_err("cannot start the report thread: %s", nt_strerror(err));
		goto out;
	}
	if (!signals_setup(&d) || !sockets_open(&d))
		goto out;
	d.stats.started_ms = now_ms();
	d.healthy = true;
	d.watchdog_usec = sys_watchdog_usec();
	log_info("serving: ledger %s at seq %" PRIu64 ", next case %" PRIu64, d.cfg.state_dir,
		 d.st.last_seq, d.st.next_case);
	loop(&d);
	shutdown_cleanly(&d);
	status = 0;
out:
	if (d.zap != NULL)
		zmq_close(d.zap);
	if (d.router != NULL)
		zmq_close(d.router);
	if (d.pub != NULL)
		zmq_close(d.pub);
	if (d.zctx != NULL)
		zmq_ctx_term(d.zctx);
	reporter_stop(&d.reporter);
	writer_stop(&d.writer);
	cal_free(&d.cal);
	batch_spec_fini(&d.spec);
	for (int i = 0; d.pool != NULL && i < POOL; i++)
		batch_item_fini(&d.pool[i].item);
	free(d.pool);
	free(d.peers);
	for (int i = 0; i < WRITER_GROUPS; i++)
		free(d.group[i].msgs);
	ledger_close(&d.lg);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	return status;
}
