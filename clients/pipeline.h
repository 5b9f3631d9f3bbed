/*
 * pipeline.h - many requests in flight on one DEALER connection (docs/protocol.md
 * section 1), for the commands that send thousands of them (`nanti import`).
 */
#ifndef PIPELINE_H
#define PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "cli.h"
#include "conn.h"
#include "proto.h"

struct pipeline_slot {
	bool used;
	char id[PROTO_ID_BUF];	/* the request id, which the reply echoes */
	size_t tag;		/* the caller's name for the request */
};

struct pipeline {
	struct conn *conn;	/* its endpoint, timeout and ZeroMQ context */
	void *sock;		/* the DEALER socket */
	struct pipeline_slot *slot;	/* window slots */
	size_t window, inflight;
};

/* A reply, decoded; strings in root, code and message point into msg. */
struct pipeline_reply {
	size_t tag;		/* of the request it answers */
	zmq_msg_t msg;
	bool have_msg;
	proto_doc doc;
	const msgpack_object *root;	/* the reply map */
	bool ok;
	uint64_t seq;		/* when ok */
	proto_str code, message;	/* when !ok */
};

/*
 * pipeline_open - connect a DEALER socket to c->submit, in c's ZeroMQ context, allowing
 * window requests in flight (1 to 1000). Opens c first (conn_open(): the ipc probe, so
 * that "no daemon" is said at once), and leaves c's REQ socket usable for requests one
 * at a time. Returns CLI_OK, or the exit status of what failed (said on stderr). Call
 * pipeline_close() in any case, before conn_close(c).
 */
int pipeline_open(struct pipeline *p, struct conn *c, size_t window);

/* Is the window full, so that pipeline_recv() must come before the next send? */
bool pipeline_full(const struct pipeline *p);

/*
 * pipeline_send - send the request in out, whose "id" is id (a string of at most
 * PROTO_ID_BUF - 1 bytes, unique among the requests in flight), as [empty, body]; tag is
 * handed back with its reply. The window must not be full. Waits at most the connection's
 * timeout for the daemon to take it. Returns CLI_OK, CLI_UNREACHABLE, CLI_LOCAL (said on
 * stderr) or CLI_STOPPED.
 */
int pipeline_send(struct pipeline *p, const proto_out *out, const char *id, size_t tag);

/*
 * pipeline_recv - wait at most the connection's timeout for the reply to any request in
 * flight, match it by its echoed id (never by order) and decode it into rep: rep->ok, and
 * seq, or code and message. Returns CLI_OK (a success), CLI_REFUSED (an error reply;
 * nothing printed), CLI_UNREACHABLE (no reply in time), CLI_BADREPLY (a reply that is not
 * the protocol, or answers no request in flight), CLI_LOCAL (each said on stderr), or
 * CLI_STOPPED. The caller calls pipeline_reply_fini(rep) whatever the result. After
 * anything but CLI_OK and CLI_REFUSED, stop using the pipeline.
 */
int pipeline_recv(struct pipeline *p, struct pipeline_reply *rep);
void pipeline_reply_fini(struct pipeline_reply *rep);

/* Close the socket without lingering (requests in flight are abandoned) and free the
 * slots. Safe on a never-opened pipeline; leaves c open. */
void pipeline_close(struct pipeline *p);

#endif
