/*
 * conn.h - the client's transport: where the daemon is, one request and its reply, and the
 * notification feed. The only module of the client that calls ZeroMQ.
 */
#ifndef CONN_H
#define CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

#include "cli.h"
#include "proto.h"

#define CONN_ENDPOINT_MAX 512

struct conn {
	char submit[CONN_ENDPOINT_MAX];	/* requests: "ipc://DIR/submit.sock", "tcp://H:P" */
	char events[CONN_ENDPOINT_MAX];	/* notifications; "" when it cannot be known */
	int timeout_ms;			/* per request */
	void *zctx;			/* NULL until conn_open() */
	void *req;			/* the REQ socket */
	void *sub;			/* the SUB socket, after conn_subscribe() */
	/* CURVE, for tcp endpoints (--key, --server-key): Z85 keys; curve false: none */
	bool curve;
	char curve_public[PROTO_KEY_LEN + 1], curve_secret[PROTO_KEY_LEN + 1];
	char curve_server[PROTO_KEY_LEN + 1];
};

/* A received body frame and its decoding: the strings in doc point into msg, which holds
 * small frames inline, so a conn_frame (and what contains it) must not be moved. */
struct conn_frame {
	zmq_msg_t msg;
	bool have_msg;
	proto_doc doc;
};

/* A decoded reply. */
struct conn_reply {
	struct conn_frame body;
	const msgpack_object *root;	/* the reply map, in body.doc */
	bool ok;
	bool duplicate;			/* "duplicate": true */
	uint64_t seq;			/* when ok */
	proto_str code, message;	/* when !ok */
};

enum conn_event_kind {
	CONN_EV_NONE,		/* nothing arrived in time */
	CONN_EV_HEARTBEAT,	/* seq is the heartbeat's last_seq */
	CONN_EV_ENTRY,		/* seq is the log entry's seq; root is the entry */
	CONN_EV_BAD,		/* a message that is not the protocol; why says what */
};

struct conn_event {
	enum conn_event_kind kind;
	uint64_t seq;
	const msgpack_object *root;	/* the body map, in body.doc */
	struct conn_frame body;
	char why[PROTO_WHY];
};

/*
 * conn_resolve - work out both endpoints from the configuration (docs/client.md): an
 * explicit --endpoint (the events endpoint is --events, else port+1 for tcp, else
 * events.sock beside submit.sock for ipc), else the runtime directory. Touches nothing.
 * need_events: the caller will subscribe, so failing to know the events endpoint is an error.
 * Returns CLI_OK, or CLI_USAGE after saying why on stderr.
 */
int conn_resolve(struct conn *c, const struct cli_conf *conf, bool need_events);

/*
 * conn_open - connect the REQ socket to c->submit. For an ipc endpoint it first checks
 * that a daemon is listening on the socket file, so that "no daemon" is reported at once
 * instead of after the timeout. Returns CLI_OK, CLI_UNREACHABLE, CLI_USAGE (an endpoint
 * ZeroMQ refuses) or CLI_LOCAL, having said why on stderr. Call conn_close() in any case.
 */
int conn_open(struct conn *c);

/*
 * conn_curve - make s, not yet connected, a CURVE client of c's keys (nothing when c
 * has none). Returns CLI_OK or CLI_LOCAL after saying why.
 */
int conn_curve(const struct conn *c, void *s);

/*
 * conn_call - send the request in out and wait for its reply, at most c->timeout_ms in
 * all. The reply is decoded strictly (proto_parse) and its envelope checked: "ok", "seq"
 * on success, "error" {code, message} on failure, and the echoed "id" when id is not empty.
 * Returns CLI_OK (r->ok), CLI_REFUSED (!r->ok; nothing printed), CLI_UNREACHABLE,
 * CLI_BADREPLY, CLI_LOCAL (each said on stderr), or CLI_STOPPED if cli_stop was set while
 * waiting. The caller calls conn_reply_fini(r) whatever the result.
 * After anything but CLI_OK and CLI_REFUSED the connection cannot be used again.
 */
int conn_call(struct conn *c, const proto_out *out, proto_str id, struct conn_reply *r);
void conn_reply_fini(struct conn_reply *r);

/* Say on stderr that the daemon at c->submit sent a reply that is not valid protocol
 * (what: in which way). Returns CLI_BADREPLY. */
int conn_bad_reply(const struct conn *c, const char *what);
/* The rest of a reply's envelope once its 'ok' is known: a success has an integer seq, a
 * failure error {code, message}. NULL if so (and *seq, or *code and *message, filled),
 * else what is wrong. */
const char *conn_reply_outcome(const msgpack_object *root, bool ok, uint64_t *seq,
				proto_str *code, proto_str *message);

/*
 * conn_subscribe - connect a SUB socket to c->events, subscribed to each of prefixes[0..n)
 * and to heartbeats (n == 0: to everything). Returns CLI_OK, CLI_UNREACHABLE, CLI_USAGE,
 * CLI_LOCAL (said on stderr).
 */
int conn_subscribe(struct conn *c, const char *const *prefixes, size_t n);

/*
 * conn_event_next - wait up to wait_ms for one notification. ev->kind says what came;
 * malformed notifications are CONN_EV_BAD, not errors. Returns CLI_OK, CLI_STOPPED, or
 * CLI_LOCAL (said on stderr). The caller calls conn_event_fini(ev) after each CLI_OK.
 */
int conn_event_next(struct conn *c, int wait_ms, struct conn_event *ev);
void conn_event_fini(struct conn_event *ev);

/* Close the sockets (without lingering) and the context. Safe on a never-opened conn. */
void conn_close(struct conn *c);

#endif
