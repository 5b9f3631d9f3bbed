/*
 * pipeline.c - many requests in flight on one DEALER connection (pipeline.h).
 *
 * conn.c sends one request at a time over REQ, which is right for a command that sends
 * one, or pages through a list where each request needs the previous reply. A command
 * that sends thousands of independent requests would then pay one round trip and, for
 * writes, one group commit each. Here a DEALER socket keeps up to `window` requests in
 * flight: the daemon folds them into few group commits and the client waits for the disk
 * a few times instead of thousands.
 *
 * The protocol (docs/protocol.md section 1) says replies on one connection usually come
 * back in order but must be matched by their echoed id, and that is what this module
 * does: each request in flight has a slot holding its id and the caller's tag, and a
 * reply is matched to a slot by id. A reply that matches no slot is a protocol error. A
 * linear scan of the slots is enough: the window is small, and the scan costs far less
 * than the round trip it saves.
 *
 * This is the second module of the client that calls ZeroMQ. It reuses the connection of
 * conn.c (its endpoint, its timeout, its context and its ipc probe) and adds only the
 * socket; replies are decoded by the same strict proto_parse(). As with REQ, the timeout
 * is per reply: a daemon that stops answering for --timeout ms ends the command (exit 3).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline.h"

#define PIPELINE_MAXMSG (16 * 1024 * 1024)	/* bytes in a frame we accept (as conn.c) */

static int pipeline_zmq_failed(const char *what)
{
	cli_warn("cannot %s: %s", what, zmq_strerror(errno));
	return CLI_LOCAL;
}

int pipeline_open(struct pipeline *p, struct conn *c, size_t window)
{
	int zero = 0, one = 1;
	int64_t maxmsg = PIPELINE_MAXMSG;
	int rc;

	memset(p, 0, sizeof *p);
	p->conn = c;
	if (window < 1 || window > 1000)
		window = 1;
	if ((p->slot = calloc(window, sizeof *p->slot)) == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	p->window = window;
	if (c->req == NULL && (rc = conn_open(c)) != CLI_OK)
		return rc;
	if ((p->sock = zmq_socket(c->zctx, ZMQ_DEALER)) == NULL)
		return pipeline_zmq_failed("create a ZeroMQ socket");
	if (zmq_setsockopt(p->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
	    zmq_setsockopt(p->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
	    zmq_setsockopt(p->sock, ZMQ_IMMEDIATE, &one, sizeof one) != 0)
		return pipeline_zmq_failed("set socket options");
	if (strncmp(c->submit, "tcp://", 6) == 0 && (rc = conn_curve(c, p->sock)) != CLI_OK)
		return rc;
	if (zmq_connect(p->sock, c->submit) != 0) {
		cli_warn("cannot connect to %s: %s", c->submit, zmq_strerror(errno));
		return CLI_UNREACHABLE;
	}
	return CLI_OK;
}

bool pipeline_full(const struct pipeline *p)
{
	return p->inflight >= p->window;
}

/* After a send or receive failed: CLI_OK to try again (a signal that was not a stop
 * request), else the status to return, said on stderr. */
static int pipeline_retry(const struct pipeline *p, const char *timed_out, const char *doing)
{
	int err = errno;

	if (err == EINTR)
		return cli_stop ? CLI_STOPPED : CLI_OK;
	if (err == EAGAIN) {
		cli_warn("%s %s within %d ms (is nantid running? --timeout MS waits longer)",
			 timed_out, p->conn->submit, p->conn->timeout_ms);
		return CLI_UNREACHABLE;
	}
	cli_warn("cannot %s %s: %s", doing, p->conn->submit, zmq_strerror(err));
	return CLI_UNREACHABLE;
}

int pipeline_send(struct pipeline *p, const proto_out *out, const char *id, size_t tag)
{
	struct pipeline_slot *s = NULL;
	int timeout = p->conn->timeout_ms, rc;

	for (size_t i = 0; i < p->window && s == NULL; i++)
		s = p->slot[i].used ? NULL : &p->slot[i];
	if (s == NULL) {
		cli_warn("internal error: a send with the window full");
		return CLI_LOCAL;
	}
	zmq_setsockopt(p->sock, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
	/* the delimiter first, as REQ would send it; once it is queued, the body is too */
	while (zmq_send(p->sock, "", 0, ZMQ_SNDMORE) < 0)
		if ((rc = pipeline_retry(p, "could not connect to", "send to")) != CLI_OK)
			return rc;
	while (zmq_send(p->sock, out->sb.data, out->sb.size, 0) < 0)
		if ((rc = pipeline_retry(p, "could not send to", "send to")) != CLI_OK)
			return rc;
	s->used = true;
	s->tag = tag;
	snprintf(s->id, sizeof s->id, "%s", id);
	p->inflight++;
	return CLI_OK;
}

static int pipeline_bad(const struct pipeline *p, const char *what)
{
	return conn_bad_reply(p->conn, what);
}

/* Check the envelope of the reply in rep (docs/protocol.md section 4) and match it to
 * its slot, which is freed. */
static int pipeline_match(struct pipeline *p, struct pipeline_reply *rep)
{
	const char *bad;
	proto_str id;
	size_t i;

	if (!proto_obj_bool(proto_map_get(rep->root, "ok"), &rep->ok))
		return pipeline_bad(p, "no boolean 'ok'");
	if (!proto_obj_str(proto_map_get(rep->root, "id"), &id))
		return pipeline_bad(p, "a reply without the request's 'id'");
	for (i = 0; i < p->window; i++)
		if (p->slot[i].used && strlen(p->slot[i].id) == id.len &&
		    memcmp(p->slot[i].id, id.ptr, id.len) == 0)
			break;
	if (i == p->window)
		return pipeline_bad(p, "a reply whose 'id' matches no request in flight");
	p->slot[i].used = false;
	p->inflight--;
	rep->tag = p->slot[i].tag;
	bad = conn_reply_outcome(rep->root, rep->ok, &rep->seq, &rep->code, &rep->message);
	if (bad != NULL)
		return pipeline_bad(p, bad);
	return rep->ok ? CLI_OK : CLI_REFUSED;
}

int pipeline_recv(struct pipeline *p, struct pipeline_reply *rep)
{
	int timeout = p->conn->timeout_ms, frames = 0, rc;
	char why[PROTO_WHY];
	nt_err e;

	memset(rep, 0, sizeof *rep);
	if (p->inflight == 0) {
		cli_warn("internal error: waiting for a reply with nothing in flight");
		return CLI_LOCAL;
	}
	zmq_setsockopt(p->sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
	/* [empty delimiter, body]: the body is the last frame */
	for (;;) {
		if (rep->have_msg)
			zmq_msg_close(&rep->msg);
		zmq_msg_init(&rep->msg);
		rep->have_msg = true;
		if (zmq_msg_recv(&rep->msg, p->sock, 0) < 0) {
			if ((rc = pipeline_retry(p, "no answer from", "receive from")) != CLI_OK)
				return rc;
			continue;
		}
		if (!zmq_msg_more(&rep->msg))
			break;
		if (zmq_msg_size(&rep->msg) != 0)
			return pipeline_bad(p, "the reply does not start with an empty frame");
		if (++frames >= PROTO_MAX_FRAMES)
			return pipeline_bad(p, "too many frames");
	}
	if (frames == 0)
		return pipeline_bad(p, "a reply of one frame, without the empty delimiter");
	e = proto_parse(&rep->doc, zmq_msg_data(&rep->msg), zmq_msg_size(&rep->msg), why,
			sizeof why);
	if (e == NT_ENOMEM) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	if (e != NT_OK)
		return pipeline_bad(p, why);
	rep->root = &rep->doc.root;
	return pipeline_match(p, rep);
}

void pipeline_reply_fini(struct pipeline_reply *rep)
{
	if (rep == NULL)
		return;
	proto_doc_fini(&rep->doc);
	if (rep->have_msg)
		zmq_msg_close(&rep->msg);
	rep->have_msg = false;
	rep->root = NULL;
}

void pipeline_close(struct pipeline *p)
{
	if (p->sock != NULL)
		zmq_close(p->sock);
	p->sock = NULL;
	free(p->slot);
	p->slot = NULL;
	p->window = p->inflight = 0;
}
