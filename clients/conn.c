/*
 * conn.c - the nanti client's transport: finding the daemon, one request and its reply,
 * and the notification feed (docs/protocol.md sections 1, 4 and 7).
 *
 * Requests go over a REQ socket rather than a DEALER. The client never has more than one
 * request outstanding (even when paging, each request depends on the previous reply's
 * `next`), and REQ gives exactly that discipline for free: it adds and strips the empty
 * delimiter, refuses a second send before the reply, and discards any stray reply that is
 * not the answer to the request in flight. The price of REQ, that a socket whose reply
 * never came cannot send again, does not matter here: a timeout ends the process (exit 3),
 * and with ZMQ_LINGER 0 the unanswered request does not hold the exit up. We still check
 * the echoed `id` of write requests, which catches a daemon that answers the wrong request.
 *
 * Timeouts: one deadline per request covers both the send and the receive. ZMQ_IMMEDIATE
 * makes the send wait for a real connection instead of queueing into the void, so "could
 * not connect" and "connected but no answer" are told apart. For ipc endpoints the socket
 * file is checked first, and a plain connect(2) probe tells a stale socket file left by a
 * killed daemon (ECONNREFUSED) from a live one, so "no daemon" is reported at once rather
 * than after the timeout.
 *
 * Everything received is decoded by proto_parse(), the same strict decoder the daemon
 * uses, then the reply envelope is checked. ZMQ_MAXMSGSIZE bounds what a peer can make us
 * allocate: the largest legitimate reply (log.read of 1,000 entries) is a few MB; a larger
 * frame makes ZeroMQ drop the connection, which shows as no answer (exit status 3).
 * ZeroMQ errors are turned into exit statuses here and nowhere else.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "keys.h"

#define CONN_MAXMSG	(16 * 1024 * 1024)	/* bytes in a frame we accept */
#define CONN_SUB_HWM	100000			/* the daemon's PUB high-water mark */
#define CONN_IPC_PATH	(sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1)

static int64_t conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, never negative. */
static int conn_left(int64_t deadline)
{
	int64_t left = deadline - conn_now_ms();

	return left > 0 ? (int)left : 0;
}

static int conn_zmq_failed(const char *what);

static bool conn_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* An endpoint we can hand to ZeroMQ: "scheme://rest", short enough, an ipc path that fits
 * a socket address. Says why not (naming the option) on stderr. */
static bool conn_endpoint_ok(const char *ep, const char *what)
{
	const char *sep = strstr(ep, "://");

	if (sep == NULL || sep == ep || sep[3] == '\0') {
		cli_warn("%s: '%s' is not an endpoint (tcp://HOST:PORT or ipc://PATH)", what, ep);
		return false;
	}
	if (strlen(ep) >= CONN_ENDPOINT_MAX) {
		cli_warn("%s: the endpoint is longer than %d bytes", what, CONN_ENDPOINT_MAX - 1);
		return false;
	}
	if (conn_has_prefix(ep, "ipc://") && strlen(ep + 6) > CONN_IPC_PATH) {
		cli_warn("%s: the socket path %s is %zu bytes, longer than the %zu a socket allows",
			 what, ep + 6, strlen(ep + 6), CONN_IPC_PATH);
		return false;
	}
	return true;
}

/* The notification endpoint that goes with the request endpoint ep, into out:
 * tcp://HOST:PORT -> tcp://HOST:PORT+1, ipc://DIR/submit.sock -> ipc://DIR/events.sock.
 * Leaves out empty when there is no such rule. */
static void conn_events_of(const char *ep, char *out, size_t n)
{
	static const char submit[] = "submit.sock";
	size_t len = strlen(ep), sl = strlen(submit);

	out[0] = '\0';
	if (conn_has_prefix(ep, "tcp://")) {
		const char *colon = strrchr(ep, ':');
		char *end;
		unsigned long port;

		if (colon < ep + 6 || !isdigit((unsigned char)colon[1]))
			return;
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || errno != 0 || port == 0 || port >= 65535)
			return;
		snprintf(out, n, "%.*s:%lu", (int)(colon - ep), ep, port + 1);
	} else if (conn_has_prefix(ep, "ipc://") && len >= 6 + sl &&
		   strcmp(ep + len - sl, submit) == 0 &&
		   (len == 6 + sl || ep[len - sl - 1] == '/')) {
		snprintf(out, n, "%.*sevents.sock", (int)(len - sl), ep);
	}
}

/*
 * The keys a tcp endpoint needs (the daemon speaks CURVE there, docs/protocol.md section
 * 1): ours from --key (a file of `nanti key gen`), the daemon's from --server-key (the
 * key, or a file holding it). ipc needs none and ignores them.
 */
static int conn_resolve_keys(struct conn *c, const struct cli_conf *conf)
{
	bool tcp = conn_has_prefix(c->submit, "tcp://") || conn_has_prefix(c->events, "tcp://");

	if (!tcp)
		return CLI_OK;
	if (conf->key_file == NULL || conf->server_key == NULL) {
		cli_warn("%s speaks CURVE: give your key pair (--key FILE, from nanti key gen) and "
			 "the daemon's public key (--server-key KEY|FILE), or set NANTI_KEY and "
			 "NANTI_SERVER_KEY", c->submit);
		return CLI_USAGE;
	}
	if (keys_read_pair(conf->key_file, c->curve_public, c->curve_secret) != CLI_OK ||
	    keys_read_public(conf->server_key, "--server-key", c->curve_server) != CLI_OK)
		return CLI_USAGE;
	c->curve = true;
	return CLI_OK;
}

int conn_curve(const struct conn *c, void *s)
{
	if (!c->curve)
		return CLI_OK;
	if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, c->curve_server, PROTO_KEY_LEN) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, c->curve_public, PROTO_KEY_LEN) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, c->curve_secret, PROTO_KEY_LEN) != 0)
		return conn_zmq_failed("set the CURVE keys");
	return CLI_OK;
}

int conn_resolve(struct conn *c, const struct cli_conf *conf, bool need_events)
{
	memset(c, 0, sizeof *c);
	c->timeout_ms = conf->timeout_ms;
	if (conf->endpoint != NULL) {
		if (!conn_endpoint_ok(conf->endpoint, "--endpoint"))
			return CLI_USAGE;
		snprintf(c->submit, sizeof c->submit, "%s", conf->endpoint);
		conn_events_of(c->submit, c->events, sizeof c->events);
	} else {
		const char *dir = conf->runtime_dir, *xdg = getenv("XDG_RUNTIME_DIR");
		char xdgdir[CONN_ENDPOINT_MAX];
		size_t len;

		if (dir == NULL && xdg != NULL && *xdg != '\0') {
			snprintf(xdgdir, sizeof xdgdir, "%s/nanti", xdg);
			dir = xdgdir;
		}
		/* the source tree's (make run), else the service's (the unit's RuntimeDirectory) */
		if (dir == NULL)
			dir = access("./var/run/submit.sock", F_OK) != 0 &&
			      access("/run/nanti/submit.sock", F_OK) == 0 ? "/run/nanti" : "./var/run";
		for (len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--)
			;
		if (len + 32 >= CONN_ENDPOINT_MAX) {
			cli_warn("the runtime directory name is too long");
			return CLI_USAGE;
		}
		snprintf(c->submit, sizeof c->submit, "ipc://%.*s/submit.sock", (int)len, dir);
		snprintf(c->events, sizeof c->events, "ipc://%.*s/events.sock", (int)len, dir);
		if (!conn_endpoint_ok(c->submit, "--runtime-dir"))
			return CLI_USAGE;
	}
	if (conf->events != NULL) {
		if (!conn_endpoint_ok(conf->events, "--events"))
			return CLI_USAGE;
		snprintf(c->events, sizeof c->events, "%s", conf->events);
	}
	if (need_events && c->events[0] == '\0') {
		cli_warn("cannot tell the notification endpoint from %s: give --events ENDPOINT",
			 c->submit);
		return CLI_USAGE;
	}
	return conn_resolve_keys(c, conf);
}

static int conn_no_daemon(const char *ep)
{
	cli_warn("no daemon listening at %s, is nantid running?", ep);
	return CLI_UNREACHABLE;
}

/* A ZeroMQ call that should not fail did: say so. */
static int conn_zmq_failed(const char *what)
{
	cli_warn("cannot %s: %s", what, zmq_strerror(errno));
	return CLI_LOCAL;
}

/*
 * Is a daemon listening on the ipc endpoint ep? Checks the socket file, then connects to
 * it once with a plain stream socket. Returns CLI_OK (yes, or cannot tell: ZeroMQ will
 * find out) or CLI_UNREACHABLE after saying why.
 */
static int conn_ipc_probe(const char *ep)
{
	const char *path = ep + 6;
	struct sockaddr_un sa;
	struct stat st;
	int fd, err;

	if (path[0] == '@')	/* Linux abstract namespace: no file to check */
		return CLI_OK;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return conn_no_daemon(ep);
		cli_warn("cannot reach %s: %s", ep, strerror(errno));
		return CLI_UNREACHABLE;
	}
	if (!S_ISSOCK(st.st_mode)) {
		cli_warn("cannot reach %s: %s is not a socket", ep, path);
		return CLI_UNREACHABLE;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return CLI_OK;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));	/* conn_endpoint_ok() checked it fits */
	err = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : errno;
	close(fd);
	if (err == ECONNREFUSED)	/* a socket file left behind by a killed daemon */
		return conn_no_daemon(ep);
	if (err == EACCES || err == EPERM) {
		cli_warn("cannot reach %s: %s", ep, strerror(err));
		return CLI_UNREACHABLE;
	}
	return CLI_OK;
}

/* Create a socket of type connected to ep, with the options every client socket has. */
static int conn_socket(struct conn *c, int type, const char *ep, void **out)
{
	int zero = 0, one = 1, hwm = CONN_SUB_HWM;
	int64_t maxmsg = CONN_MAXMSG;
	void *s;

	*out = NULL;
	if (c->zctx == NULL && (c->zctx = zmq_ctx_new()) == NULL)
		return conn_zmq_failed("create a ZeroMQ context");
	if ((s = zmq_socket(c->zctx, type)) == NULL)
		return conn_zmq_failed("create a ZeroMQ socket");
	*out = s;
	if (zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
	    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
	    (type == ZMQ_REQ && zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one) != 0) ||
	    (type == ZMQ_SUB && zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0))
		return conn_zmq_failed("set socket options");
	if (conn_has_prefix(ep, "tcp://") && conn_curve(c, s) != CLI_OK)
		return CLI_LOCAL;
	if (zmq_connect(s, ep) != 0) {
		if (errno == EINVAL || errno == EPROTONOSUPPORT || errno == ENOCOMPATPROTO) {
			cli_warn("cannot use the endpoint %s: %s", ep, zmq_strerror(errno));
			return CLI_USAGE;
		}
		cli_warn("cannot connect to %s: %s", ep, zmq_strerror(errno));
		return CLI_UNREACHABLE;
	}
	return CLI_OK;
}

int conn_open(struct conn *c)
{
	int rc;

	if (conn_has_prefix(c->submit, "ipc://") && (rc = conn_ipc_probe(c->submit)) != CLI_OK)
		return rc;
	return conn_socket(c, ZMQ_REQ, c->submit, &c->req);
}

int conn_bad_reply(const struct conn *c, const char *what)
{
	cli_warn("the daemon at %s sent a reply that is not valid protocol: %s", c->submit, what);
	return CLI_BADREPLY;
}

/* Start receiving into f: an empty message (after closing what f held). */
static zmq_msg_t *conn_frame_reset(struct conn_frame *f)
{
	if (f->have_msg)
		zmq_msg_close(&f->msg);
	zmq_msg_init(&f->msg);
	f->have_msg = true;
	return &f->msg;
}

/* Decode the frame strictly (proto_parse); why says what is wrong. */
static nt_err conn_frame_parse(struct conn_frame *f, char *why, size_t whylen)
{
	return proto_parse(&f->doc, zmq_msg_data(&f->msg), zmq_msg_size(&f->msg), why, whylen);
}

static void conn_frame_fini(struct conn_frame *f)
{
	proto_doc_fini(&f->doc);
	if (f->have_msg)
		zmq_msg_close(&f->msg);
	f->have_msg = false;
}

const char *conn_reply_outcome(const msgpack_object *root, bool ok, uint64_t *seq,
				proto_str *code, proto_str *message)
{
	const msgpack_object *err;

	if (ok)
		return proto_obj_u64(proto_map_get(root, "seq"), seq) ? NULL :
		       "a success without an integer 'seq'";
	err = proto_map_get(root, "error");
	if (!proto_obj_str(proto_map_get(err, "code"), code) || code->len == 0 ||
	    !proto_obj_str(proto_map_get(err, "message"), message))
		return "a failure without 'error' {code, message}";
	return NULL;
}

/* Check the reply envelope (docs/protocol.md section 4) and fill r's summary fields. */
static int conn_envelope(const struct conn *c, proto_str id, struct conn_reply *r)
{
	const msgpack_object *dup = proto_map_get(r->root, "duplicate");
	const char *bad;
	proto_str echoed;

	if (!proto_obj_bool(proto_map_get(r->root, "ok"), &r->ok))
		return conn_bad_reply(c, "no boolean 'ok'");
	if (id.len > 0 && (!proto_obj_str(proto_map_get(r->root, "id"), &echoed) ||
			   echoed.len != id.len || memcmp(echoed.ptr, id.ptr, id.len) != 0))
		return conn_bad_reply(c, "it does not echo the request's 'id'");
	if (dup != NULL && !proto_obj_bool(dup, &r->duplicate))
		return conn_bad_reply(c, "'duplicate' is not a boolean");
	if ((bad = conn_reply_outcome(r->root, r->ok, &r->seq, &r->code, &r->message)) != NULL)
		return conn_bad_reply(c, bad);
	return r->ok ? CLI_OK : CLI_REFUSED;
}

static int conn_timed_out(const struct conn *c, const char *what)
{
	cli_warn("%s %s within %d ms (is nantid running? --timeout MS waits longer)",
		 what, c->submit, c->timeout_ms);
	return CLI_UNREACHABLE;
}

/* After a send or receive on the REQ socket failed: CLI_OK to try again (a signal that
 * was not a stop request), else the status to return. waiting: what a timeout means;
 * doing: what failed otherwise. */
static int conn_retry(const struct conn *c, const char *waiting, const char *doing)
{
	int err = errno;

	if (err == EINTR)
		return cli_stop ? CLI_STOPPED : CLI_OK;
	if (err == EAGAIN)
		return conn_timed_out(c, waiting);
	cli_warn("cannot %s %s: %s", doing, c->submit, zmq_strerror(err));
	return CLI_UNREACHABLE;
}

int conn_call(struct conn *c, const proto_out *out, proto_str id, struct conn_reply *r)
{
	int64_t deadline = conn_now_ms() + c->timeout_ms;
	char why[PROTO_WHY];
	int frames = 0, left, rc;
	nt_err e;

	memset(r, 0, sizeof *r);
	for (;;) {
		left = conn_left(deadline);
		zmq_setsockopt(c->req, ZMQ_SNDTIMEO, &left, sizeof left);
		if (zmq_send(c->req, out->sb.data, out->sb.size, 0) >= 0)
			break;
		if ((rc = conn_retry(c, "could not connect to", "send to")) != CLI_OK)
			return rc;
	}
	/* REQ strips the delimiter; the body is the last frame (section 1) */
	for (;;) {
		zmq_msg_t *m = conn_frame_reset(&r->body);

		left = conn_left(deadline);
		zmq_setsockopt(c->req, ZMQ_RCVTIMEO, &left, sizeof left);
		if (zmq_msg_recv(m, c->req, 0) < 0) {
			if ((rc = conn_retry(c, "no answer from", "receive from")) != CLI_OK)
				return rc;
			continue;
		}
		if (!zmq_msg_more(m))
			break;
		if (++frames >= PROTO_MAX_FRAMES)
			return conn_bad_reply(c, "too many frames");
	}
	e = conn_frame_parse(&r->body, why, sizeof why);
	if (e == NT_ENOMEM) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	if (e != NT_OK)
		return conn_bad_reply(c, why);
	r->root = &r->body.doc.root;
	return conn_envelope(c, id, r);
}

void conn_reply_fini(struct conn_reply *r)
{
	if (r == NULL)
		return;
	conn_frame_fini(&r->body);
	r->root = NULL;
}

int conn_subscribe(struct conn *c, const char *const *prefixes, size_t n)
{
	bool all = n == 0;
	int rc;

	if (conn_has_prefix(c->events, "ipc://") && (rc = conn_ipc_probe(c->events)) != CLI_OK)
		return rc;
	if ((rc = conn_socket(c, ZMQ_SUB, c->events, &c->sub)) != CLI_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		all = all || prefixes[i][0] == '\0';
		if (zmq_setsockopt(c->sub, ZMQ_SUBSCRIBE, prefixes[i], strlen(prefixes[i])) != 0)
			return conn_zmq_failed("subscribe");
	}
	if (zmq_setsockopt(c->sub, ZMQ_SUBSCRIBE, all ? "" : "heartbeat",
			   all ? 0 : strlen("heartbeat")) != 0)
		return conn_zmq_failed("subscribe");
	return CLI_OK;
}

/* Discard the rest of a multi-frame message whose current frame is m. */
static void conn_drain(void *s, zmq_msg_t *m)
{
	while (zmq_msg_more(m)) {
		zmq_msg_close(m);
		zmq_msg_init(m);
		if (zmq_msg_recv(m, s, ZMQ_DONTWAIT) < 0)
			break;
	}
}

static void conn_event_bad(struct conn_event *ev, const char *what)
{
	ev->kind = CONN_EV_BAD;
	snprintf(ev->why, sizeof ev->why, "%s", what);
}

/* Decode the body frame of a notification whose topic frame is topic. */
static void conn_event_decode(struct conn_event *ev, zmq_msg_t *topic)
{
	bool beat = zmq_msg_size(topic) == strlen("heartbeat") &&
		    memcmp(zmq_msg_data(topic), "heartbeat", strlen("heartbeat")) == 0;
	char why[PROTO_WHY];

	if (conn_frame_parse(&ev->body, why, sizeof why) != NT_OK) {
		conn_event_bad(ev, why);
		return;
	}
	ev->root = &ev->body.doc.root;
	if (!proto_obj_u64(proto_map_get(ev->root, beat ? "last_seq" : "seq"), &ev->seq)) {
		conn_event_bad(ev, beat ? "a heartbeat without 'last_seq'"
				   : "an entry without 'seq'");
		return;
	}
	ev->kind = beat ? CONN_EV_HEARTBEAT : CONN_EV_ENTRY;
}

int conn_event_next(struct conn *c, int wait_ms, struct conn_event *ev)
{
	zmq_pollitem_t item = { c->sub, 0, ZMQ_POLLIN, 0 };
	zmq_msg_t topic;
	int n;

	memset(ev, 0, sizeof *ev);
	ev->kind = CONN_EV_NONE;
	n = zmq_poll(&item, 1, wait_ms);
	if (n < 0 && errno == EINTR)
		return cli_stop ? CLI_STOPPED : CLI_OK;
	if (n < 0)
		return conn_zmq_failed("wait for notifications");
	if (n == 0)
		return CLI_OK;
	zmq_msg_init(&topic);
	if (zmq_msg_recv(&topic, c->sub, ZMQ_DONTWAIT) < 0)
		goto out;	/* EAGAIN, EINTR: nothing after all */
	if (!zmq_msg_more(&topic)) {
		conn_event_bad(ev, "a notification of one frame");
		goto out;
	}
	if (zmq_msg_recv(conn_frame_reset(&ev->body), c->sub, ZMQ_DONTWAIT) < 0) {
		conn_event_bad(ev, "a notification cut short");
		goto out;
	}
	if (zmq_msg_more(&ev->body.msg)) {
		conn_drain(c->sub, &ev->body.msg);
		conn_event_bad(ev, "a notification of more than two frames");
		goto out;
	}
	conn_event_decode(ev, &topic);
out:
	zmq_msg_close(&topic);
	return CLI_OK;
}

void conn_event_fini(struct conn_event *ev)
{
	if (ev == NULL)
		return;
	conn_frame_fini(&ev->body);
	ev->root = NULL;
}

void conn_close(struct conn *c)
{
	if (c->sub != NULL)
		zmq_close(c->sub);
	if (c->req != NULL)
		zmq_close(c->req);
	if (c->zctx != NULL)
		zmq_ctx_term(c->zctx);
	c->sub = c->req = c->zctx = NULL;
}
