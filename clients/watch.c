/*
 * watch.c - `nanti watch`: print every log entry once, in seq order, live.
 *
 * This is the subscriber recipe of docs/protocol.md section 7, step by step, because a
 * notification bridge built on `nanti watch --json` must miss nothing across slow reads,
 * reconnects and daemon restarts:
 *
 *   1. subscribe first (the topic prefixes and "heartbeat"), so nothing committed after
 *      the starting point can slip by unseen;
 *   2. page through log.read from CURSOR until `next >= seq`, printing each item and
 *      setting CURSOR to the reply's `next`;
 *   3. for each live entry: seq <= CURSOR is a duplicate, dropped; seq == CURSOR + 1 with
 *      no topic filter is printed at once; anything else means entries may have been
 *      missed, so step 2 runs again (the live entry is among what it reads);
 *   4. a heartbeat whose last_seq > CURSOR also runs step 2: it reveals a dropped entry
 *      that no later entry would reveal.
 *
 * CURSOR starts at the current end (a ping's seq, taken after subscribing), at SEQ - 1
 * for --from SEQ, or at SEQ for --after SEQ (a cursor saved from an earlier run).
 * One topic prefix is passed to log.read as `topic`; with several, log.read reads every
 * entry and the prefixes are matched here, since log.read takes only one.
 *
 * SIGINT and SIGTERM set cli_stop (the handler does nothing else, and is installed
 * without SA_RESTART so that it interrupts a wait); the loop wakes at least once a second
 * to look at it, and any request in flight returns CLI_STOPPED. Either way watch ends with
 * exit status 0. Heartbeats arrive about once a second; when none has come for a few
 * seconds, watch says so on stderr once and keeps waiting: ZeroMQ reconnects on its own,
 * and the first heartbeat after that triggers the catch-up.
 *
 * With --cursor FILE --exec CMD, watch is a bridge (bridge.c): each entry it would print
 * goes to bridge_deliver() instead, which runs CMD until it succeeds and then stores the
 * seq in FILE; CURSOR starts at what FILE holds. A bridge also outlives the daemon: where
 * plain watch ends with exit status 3 when a request finds no daemon, a bridge closes its
 * sockets, waits (bridge_pause) and starts again at step 1 from CURSOR. The handler counts
 * the signals (up to 3), because a bridge lets a running CMD finish on the first and
 * abandons it on the second.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "watch.h"

#define WATCH_WAIT_MS		1000	/* longest sleep: how soon a stop is noticed */
#define WATCH_SILENCE_MS	5000	/* no heartbeat for this long: say so */
#define WATCH_PAGE		1000	/* log.read page size: the protocol's maximum */

struct watch {
	struct run *r;
	const char *const *topics;	/* the prefixes asked for */
	size_t ntopics;
	bool filter;			/* a topic filter is in use (recipe step 3) */
	bool local_filter;		/* several prefixes: matched here, not by log.read */
	uint64_t cursor;		/* the last seq processed */
	struct args_table logt;		/* the log.read request (cmd_log_spec) */
	struct args_val logv[CMD_LOG_NSPEC];
	int64_t heard;			/* when a notification last came (monotonic ms) */
	bool silent;			/* we said that the daemon went quiet */
	bool positioned;		/* cursor is set: --from, --after, FILE or a ping */
	struct bridge *bridge;		/* --exec: deliver entries to CMD; NULL: print them */
};

/* Count the stop requests: 1 stops, 2 abandons a bridge's running CMD, 3 kills it. */
static void watch_signal(int sig)
{
	(void)sig;
	if (cli_stop < 3)
		cli_stop = cli_stop + 1;
}

static int watch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = watch_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: the signal must cut a wait short */
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
		cli_warn("cannot handle signals: %s", strerror(errno));
		return CLI_LOCAL;
	}
	return CLI_OK;
}

static int64_t watch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Does entry e match the prefixes, when they are matched here? */
static bool watch_wanted(const struct watch *w, const msgpack_object *e)
{
	proto_str topic;

	if (!w->local_filter)
		return true;
	if (!proto_obj_str(proto_map_get(e, "topic"), &topic))
		return false;
	for (size_t i = 0; i < w->ntopics; i++) {
		size_t n = strlen(w->topics[i]);

		if (n <= topic.len && memcmp(topic.ptr, w->topics[i], n) == 0)
			return true;
	}
	return false;
}

/* Process entry e (seq): print it (or deliver it) if wanted, and move the cursor past it. */
static int watch_entry(void *arg, const msgpack_object *e, uint64_t seq)
{
	struct watch *w = arg;
	bool wanted = watch_wanted(w, e);
	int rc;

	if (wanted && w->bridge != NULL) {
		if ((rc = bridge_deliver(w->bridge, e, seq)) != CLI_OK)
			return rc;
	} else if (wanted) {
		cmd_print_entry(w->r, e);
		if (fflush(stdout) != 0) {
			cli_warn("cannot write output: %s", strerror(errno));
			return CLI_LOCAL;
		}
	}
	w->cursor = seq;
	return CLI_OK;
}

/* Recipe step 2: read the log from the cursor up to the end as of the last call. */
static int watch_catch_up(struct watch *w)
{
	uint64_t from, next, seq;
	int rc;

	for (;;) {
		from = w->cursor;
		rc = cmd_log_read(w->r, &w->logt, from, watch_entry, w, &next, &seq);
		if (rc == CLI_OK && w->bridge != NULL)
			rc = bridge_check_end(w->bridge, from, seq, w->r->conn.submit);
		if (rc != CLI_OK)
			return rc;
		w->cursor = next;
		if (w->bridge != NULL && (rc = bridge_advance(w->bridge, next)) != CLI_OK)
			return rc;
		if (next >= seq)
			return CLI_OK;
		if (next <= from)
			return conn_bad_reply(&w->r->conn, "log.read did not advance");
	}
}

/* The cursor for "only new entries": the last committed seq, by ping. */
static int watch_end(struct watch *w)
{
	static const struct cmd_need needs[] = { { NULL, 0 } };
	const struct args_table none = { NULL, 0, NULL };
	struct conn_reply rep = { .root = NULL };
	proto_out out;
	int rc;

	proto_out_init(&out);
	if ((rc = cmd_build(w->r, "ping", &none, &out)) == CLI_OK &&
	    (rc = cmd_send(w->r, &out, needs, &rep)) == CLI_OK)
		w->cursor = rep.seq;
	conn_reply_fini(&rep);
	proto_out_fini(&out);
	return rc;
}

/* Keep track of the daemon's heartbeat; say once when it stops and when it is back. */
static void watch_heard(struct watch *w, bool heard)
{
	int64_t now = watch_now_ms();

	if (heard) {
		if (w->silent)
			cli_warn("notifications from %s resumed", w->r->conn.events);
		w->silent = false;
		w->heard = now;
	} else if (!w->silent && now - w->heard > WATCH_SILENCE_MS) {
		cli_warn("no heartbeat from %s for %d s; still waiting",
			 w->r->conn.events, (int)((now - w->heard) / 1000));
		w->silent = true;
	}
}

/* Recipe steps 3 and 4 for one notification. */
static int watch_event(struct watch *w, const struct conn_event *ev)
{
	watch_heard(w, ev->kind != CONN_EV_NONE);
	switch (ev->kind) {
	case CONN_EV_NONE:
		return CLI_OK;
	case CONN_EV_BAD:
		cli_warn("ignored a notification that is not valid protocol (%s); "
			 "reading the log instead", ev->why);
		return watch_catch_up(w);
	case CONN_EV_HEARTBEAT:
		return ev->seq > w->cursor ? watch_catch_up(w) : CLI_OK;
	case CONN_EV_ENTRY:
		if (ev->seq <= w->cursor)
			return CLI_OK;	/* already processed */
		if (!w->filter && ev->seq == w->cursor + 1)
			return watch_entry(w, ev->root, ev->seq);
		return watch_catch_up(w);
	}
	return CLI_OK;
}

/* Set up w from the command line: topics, filters, the log.read request (checked here,
 * before anything is connected), the starting cursor, and the bridge if one is asked for. */
static int watch_init(struct watch *w, struct run *r)
{
	const struct args_val *topics = args_find(r->t, "TOPIC");
	const struct args_val *from = args_find(r->t, "--from");
	const struct args_val *after = args_find(r->t, "--after");
	struct args_val *v;
	proto_out out;
	int rc;

	memset(w, 0, sizeof *w);
	w->r = r;
	w->topics = topics->list;
	w->ntopics = topics->n;
	w->filter = w->ntopics > 0;
	for (size_t i = 0; i < w->ntopics; i++)
		w->filter = w->filter && w->topics[i][0] != '\0';
	w->local_filter = w->filter && w->ntopics > 1;
	w->logt = (struct args_table){ cmd_log_spec, CMD_LOG_NSPEC, w->logv };
	v = args_find(&w->logt, "--limit");
	v->set = true;
	v->u = WATCH_PAGE;
	if (w->filter && !w->local_filter) {
		v = args_find(&w->logt, "--topic");
		v->set = true;
		v->s = w->topics[0];
		v->len = strlen(w->topics[0]);
	}
	if (from->set && after->set) {
		cli_warn("watch: give --from or --after, not both");
		return CLI_USAGE;
	}
	proto_out_init(&out);		/* refuse a bad topic before connecting */
	rc = cmd_build(r, "log.read", &w->logt, &out);
	proto_out_fini(&out);
	if (rc == CLI_OK && bridge_wanted(r)) {
		rc = bridge_open(&w->bridge, r, &w->cursor);
		w->positioned = true;
	} else if (from->set || after->set) {
		w->cursor = from->set ? (from->u > 0 ? from->u - 1 : 0) : after->u;
		w->positioned = true;
	}
	return rc;
}

/* Recipe steps 1 to 4 on a fresh connection: connect and subscribe, take the end of the
 * log as the cursor if nothing else gave one, catch up, then follow until stopped or until
 * something fails. Returns what ended it: CLI_STOPPED or an exit status. */
static int watch_follow(struct watch *w)
{
	struct run *r = w->r;
	struct conn_event ev;
	int rc;

	if ((rc = conn_open(&r->conn)) != CLI_OK ||
	    (rc = conn_subscribe(&r->conn, w->topics, w->ntopics)) != CLI_OK)
		return rc;
	if (!w->positioned && (rc = watch_end(w)) != CLI_OK)
		return rc;
	w->positioned = true;
	w->heard = watch_now_ms();
	w->silent = false;
	if ((rc = watch_catch_up(w)) != CLI_OK)
		return rc;
	if (w->bridge != NULL)
		bridge_connected(w->bridge);
	while (rc == CLI_OK && !cli_stop) {
		rc = conn_event_next(&r->conn, WATCH_WAIT_MS, &ev);
		if (rc == CLI_OK)
			rc = watch_event(w, &ev);
		conn_event_fini(&ev);
	}
	return rc == CLI_OK ? CLI_STOPPED : rc;
}

int watch_run(struct run *r)
{
	struct watch w;
	int rc;

	memset(&w, 0, sizeof w);	/* signals first: a bridge stopped while it starts exits 0 */
	if ((rc = watch_signals()) == CLI_OK && (rc = watch_init(&w, r)) == CLI_OK) {
		/* a bridge waits out an unreachable daemon; plain watch ends with status 3 */
		while ((rc = watch_follow(&w)) == CLI_UNREACHABLE && w.bridge != NULL) {
			conn_close(&r->conn);
			if ((rc = bridge_pause(w.bridge, w.cursor)) != CLI_OK)
				break;
		}
	}
	bridge_close(&w.bridge, w.cursor);
	return rc == CLI_STOPPED ? CLI_OK : rc;
}
