/*
 * cmd.c - the subcommands of nanti: what each one sends and how it shows the answer.
 *
 * A subcommand is a row of cmd_table: its name, the op it sends, the table of its
 * operands and options (args.h: each with the request key it fills and that key's limits
 * from docs/protocol.md), the reply keys it relies on, and two functions: run() (how many
 * requests, paging) and show() (the reply for people). ping, open, note and show are one
 * request and one reply and share cmd_single(); list and log page through `next`; watch
 * lives in watch.c and reuses the log.read helper here.
 *
 * Output: with --json, a single-request command prints the reply itself as one JSON line
 * (also when it is a refusal), and so does list; log and watch print one JSON line per log
 * entry; list --all prints one reply-shaped object holding every page's items. Without --json,
 * render.c lays things out for people. Errors always go to stderr, prefixed "nanti: ".
 *
 * Every reply has passed proto_parse() and the envelope check in conn.c; the needs of a
 * command are checked before its show() runs, and show() tolerates anything else, so no
 * reply can crash the client. Paging loops also insist that the daemon makes progress, so
 * a faulty daemon cannot keep the client paging for ever.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "render.h"
#include "watch.h"

#define CMD_F_STR(k, lo, hi, one) \
	{ .key = k, .type = PT_STR, .min = lo, .max = hi, .oneof = one }
#define CMD_F_UINT(k, lo, hi) { .key = k, .type = PT_UINT, .min = lo, .max = hi }
#define CMD_F_NONE { .key = NULL }
#define CMD_SPEC(s) s, sizeof s / sizeof s[0]
#define CMD_NO_PROGRESS "paging did not advance ('next' is not past 'after')"

static const char *const cmd_kinds[] = { "problem", "petition", "household", "village", NULL };

static const struct args_spec cmd_open_spec[] = {
	{ "TITLE", ARGS_STR, NULL, "what the case is about (1 to 200 bytes)",
	  CMD_F_STR("title", 1, 200, NULL) },
	{ "--kind", ARGS_STR, "K", "problem (the default), petition, household or village",
	  CMD_F_STR("kind", 1, 64, cmd_kinds) },
	{ "--unit", ARGS_STR, "U", "the unit (jurisdiction) the case belongs to",
	  CMD_F_STR("unit", 1, 64, NULL) },
	{ "--lead", ARGS_STR, "P", "the one responsible person (default: the actor)",
	  CMD_F_STR("lead", 1, 64, NULL) },
	{ "--tag", ARGS_LIST, "T", "a tag of 1 to 32 bytes; repeat for more (at most 16)",
	  { .key = "tags", .type = PT_STRS, .min = 0, .max = 16, .item_max = 32 } },
	{ "--description", ARGS_TEXT, "TEXT", "the longer story, up to 4096 bytes ('-': stdin)",
	  CMD_F_STR("description", 0, 4096, NULL) },
};

static const struct args_spec cmd_note_spec[] = {
	{ "CASE", ARGS_UINT, NULL, "the case's id", CMD_F_UINT("case", 1, UINT64_MAX) },
	{ "TEXT", ARGS_TEXT, NULL, "the note, 1 to 4096 bytes ('-': read it from stdin)",
	  CMD_F_STR("text", 1, 4096, NULL) },
};

static const struct args_spec cmd_show_spec[] = {
	{ "CASE", ARGS_UINT, NULL, "the case's id", CMD_F_UINT("case", 1, UINT64_MAX) },
};

static const struct args_spec cmd_list_spec[] = {
	{ "--kind", ARGS_STR, "K", "only cases of this kind", CMD_F_STR("kind", 1, 64, cmd_kinds) },
	{ "--unit", ARGS_STR, "U", "only cases of this unit", CMD_F_STR("unit", 1, 64, NULL) },
	{ "--lead", ARGS_STR, "P", "only cases with this lead", CMD_F_STR("lead", 1, 64, NULL) },
	{ "--status", ARGS_STR, "S", "only cases in this status (open)",
	  CMD_F_STR("status", 1, 64, NULL) },
	{ "--limit", ARGS_UINT, "N", "at most N cases a page (1 to 1000; default 50)",
	  CMD_F_UINT("limit", 1, 1000) },
	{ "--after", ARGS_UINT, "ID", "only cases whose id is greater than ID",
	  CMD_F_UINT("after", 0, UINT64_MAX) },
	{ "--all", ARGS_FLAG, NULL, "page on until the last case", CMD_F_NONE },
};

const struct args_spec cmd_log_spec[CMD_LOG_NSPEC] = {
	{ "--after", ARGS_UINT, "SEQ", "only entries after SEQ (default 0: from the start)",
	  CMD_F_UINT("after", 0, UINT64_MAX) },
	{ "--limit", ARGS_UINT, "N", "at most N entries a page (1 to 1000; default 100)",
	  CMD_F_UINT("limit", 1, 1000) },
	{ "--topic", ARGS_STR, "PREFIX", "only entries whose topic starts with PREFIX",
	  CMD_F_STR("topic", 0, 64, NULL) },
	{ "--all", ARGS_FLAG, NULL, "page on until the end of the log", CMD_F_NONE },
};

static const struct args_spec cmd_watch_spec[] = {
	{ "TOPIC", ARGS_REST, NULL, "topic prefixes to follow, e.g. case.noted (default: all)",
	  CMD_F_NONE },
	{ "--from", ARGS_UINT, "SEQ", "first replay the log from entry SEQ on (0: all of it)",
	  CMD_F_NONE },
	{ "--after", ARGS_UINT, "SEQ", "first replay the entries after SEQ (a saved cursor)",
	  CMD_F_NONE },
};

const struct args_spec cmd_write_spec[] = {
	{ "--request-id", ARGS_STR, "ID",
	  "the request's id (default: a fresh one); reuse it to retry safely",
	  CMD_F_NONE },
};
const size_t cmd_write_nspec = sizeof cmd_write_spec / sizeof cmd_write_spec[0];

/* ---- output helpers ---- */

static uint64_t cmd_u64(const msgpack_object *map, const char *key)
{
	uint64_t u = 0;

	proto_obj_u64(proto_map_get(map, key), &u);
	return u;
}

/* End the line about a change: its seq, or that it had been applied before. */
static void cmd_applied(const struct conn_reply *rep)
{
	printf(rep->duplicate ? " (duplicate: already applied as seq %" PRIu64 ")\n"
	       : " (seq %" PRIu64 ")\n", rep->seq);
}

static void cmd_show_ping(const struct run *r, const struct conn_reply *rep)
{
	char now[RENDER_TIME_BUF];
	proto_str version = PROTO_STR_NULL;

	proto_obj_str(proto_map_get(rep->root, "version"), &version);
	render_time(now, proto_map_get(rep->root, "now"), true);
	fputs("nantid ", stdout);
	render_text(stdout, version, 32);
	printf(" at %s: last seq %" PRIu64 ", clock %s\n", r->conn.submit, rep->seq, now);
}

static void cmd_show_stats(const struct run *r, const struct conn_reply *rep)
{
	uint64_t commits = cmd_u64(rep->root, "commits"), events = cmd_u64(rep->root, "events");
	uint64_t up = cmd_u64(rep->root, "uptime_ms"), busy = cmd_u64(rep->root, "commit_us");

	(void)r;
	printf("last seq          %" PRIu64 "\n", rep->seq);
	printf("cases             %" PRIu64 "\n", cmd_u64(rep->root, "cases"));
	printf("since start       %" PRIu64 " events in %" PRIu64 " commits", events, commits);
	if (commits > 0)
		printf(" (%.1f events a commit)", (double)events / (double)commits);
	printf("\nlast commit       %.2f ms\n", (double)cmd_u64(rep->root, "last_commit_us") / 1e3);
	printf("commit thread     busy %.1f%% of the time since start\n",
	       up > 0 ? (double)busy / 10.0 / (double)up : 0.0);
	printf("uptime            %" PRIu64 " s\n", up / 1000);
}

static void cmd_show_open(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	printf("opened case %" PRIu64, cmd_u64(rep->root, "case"));
	cmd_applied(rep);
}

static void cmd_show_note(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	printf("added note %" PRIu64 " to case %" PRIu64, cmd_u64(rep->root, "note"),
	       cmd_u64(rep->root, "case"));
	cmd_applied(rep);
}

static void cmd_show_case(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	render_case(stdout, proto_map_get(rep->root, "case"));
}

void cmd_print_entry(struct run *r, const msgpack_object *entry)
{
	if (r->conf->json) {
		render_json(stdout, entry);
		return;
	}
	if (!r->header_done)
		render_entry_header(stdout);
	r->header_done = true;
	render_entry(stdout, entry);
}

/* ---- requests ---- */

int cmd_build(const struct run *r, const char *op, const struct args_table *t, proto_out *out)
{
	char why[PROTO_WHY];
	int rc;

	args_pack(out, op, r->id, r->actor, t);
	if ((rc = args_check(out, t, why, sizeof why)) != CLI_OK)
		cli_warn("%s: %s", r->cmd->name, why);
	return rc;
}

/* "nanti: CODE: MESSAGE", neutralising whatever the daemon put there. */
static void cmd_refused(const struct conn_reply *rep)
{
	fflush(stdout);
	fputs("nanti: ", stderr);
	render_text(stderr, rep->code, 64);
	fputs(": ", stderr);
	render_text(stderr, rep->message, 0);
	fputc('\n', stderr);
}

int cmd_send(struct run *r, const proto_out *out, const struct cmd_need *needs,
	     struct conn_reply *rep)
{
	int rc = conn_call(&r->conn, out, r->id, rep);

	if (rc == CLI_REFUSED)
		cmd_refused(rep);
	for (; rc == CLI_OK && needs->key != NULL; needs++) {
		const msgpack_object *o = proto_map_get(rep->root, needs->key);

		if (o == NULL || !(needs->types & (1u << o->type))) {
			char what[PROTO_WHY];

			snprintf(what, sizeof what, "'%s' is missing or of the wrong type",
				 needs->key);
			rc = conn_bad_reply(&r->conn, what);
		}
	}
	return rc;
}

int cmd_start(struct run *r, const char *op, const struct args_table *t, proto_out *out)
{
	int rc = cmd_build(r, op, t, out);

	return rc == CLI_OK ? conn_open(&r->conn) : rc;
}

/* ping, open, note, show: one request, one reply. */
static int cmd_single(struct run *r)
{
	struct conn_reply rep = { .root = NULL };
	proto_out out;
	int rc;

	proto_out_init(&out);
	if ((rc = cmd_start(r, r->cmd->op, r->t, &out)) != CLI_OK)
		goto out;
	rc = cmd_send(r, &out, r->cmd->needs, &rep);
	if (rc != CLI_OK && rc != CLI_REFUSED)
		goto out;
	if (r->conf->json)
		render_json(stdout, rep.root);
	else if (rc == CLI_OK)
		r->cmd->show(r, &rep);
out:
	conn_reply_fini(&rep);
	proto_out_fini(&out);
	return rc;
}

/* ---- list ---- */

/* The pages of a list: kept whole, because rows point into their decoded replies. */
struct cmd_pages {
	struct conn_reply **page;
	size_t npages;
	const msgpack_object **row;
	size_t nrows;
};

/* Append the items of the page rep to p->row. */
static int cmd_list_rows(const struct run *r, struct cmd_pages *p, const struct conn_reply *rep)
{
	const msgpack_object *items = proto_map_get(rep->root, "items");
	const msgpack_object **grown;

	grown = realloc(p->row, (p->nrows + items->via.array.size + 1) * sizeof *grown);
	if (grown == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	p->row = grown;
	for (uint32_t i = 0; i < items->via.array.size; i++) {
		if (items->via.array.ptr[i].type != MSGPACK_OBJECT_MAP)
			return conn_bad_reply(&r->conn, "an item of 'items' is not a map");
		p->row[p->nrows++] = &items->via.array.ptr[i];
	}
	return CLI_OK;
}

/* Print what list gathered: human table or JSON. more: the last page's next, if any. */
static void cmd_list_print(const struct run *r, const struct cmd_pages *p, bool all,
			   const uint64_t *more)
{
	const struct conn_reply *last = p->page[p->npages - 1];

	if (r->conf->json && !all) {
		render_json(stdout, last->root);
	} else if (r->conf->json) {
		printf("{\"ok\":true,\"seq\":%" PRIu64 ",\"items\":[", last->seq);
		for (size_t i = 0; i < p->nrows; i++) {
			fputs(i > 0 ? "," : "", stdout);
			proto_json(stdout, p->row[i]);
		}
		fputs("],\"next\":null}\n", stdout);
	} else {
		if (p->nrows > 0)
			render_cases(stdout, p->row, p->nrows);
		else
			puts("no cases");
		if (more != NULL)
			printf("(more: nanti list --after %" PRIu64 ", or --all)\n", *more);
	}
}

static int cmd_list(struct run *r)
{
	struct args_val *after = args_find(r->t, "--after");
	bool all = args_find(r->t, "--all")->set;
	struct cmd_pages p = { NULL, 0, NULL, 0 };
	const msgpack_object *next = NULL;
	struct conn_reply **grown;
	uint64_t nextval = 0;
	proto_out out;
	int rc;

	proto_out_init(&out);
	if ((rc = cmd_start(r, r->cmd->op, r->t, &out)) != CLI_OK)
		goto out;
	for (;;) {
		grown = realloc(p.page, (p.npages + 1) * sizeof *grown);
		if (grown == NULL || (grown[p.npages] = calloc(1, sizeof **grown)) == NULL) {
			p.page = grown != NULL ? grown : p.page;
			cli_warn("out of memory");
			rc = CLI_LOCAL;
			goto out;
		}
		p.page = grown;
		rc = cmd_send(r, &out, r->cmd->needs, p.page[p.npages++]);
		if (rc == CLI_OK)
			rc = cmd_list_rows(r, &p, p.page[p.npages - 1]);
		if (rc == CLI_REFUSED && r->conf->json)
			render_json(stdout, p.page[p.npages - 1]->root);
		if (rc != CLI_OK)
			goto out;
		next = proto_map_get(p.page[p.npages - 1]->root, "next");
		if (!proto_obj_u64(next, &nextval) || !all)
			break;
		if (after->set && nextval <= after->u) {
			rc = conn_bad_reply(&r->conn, CMD_NO_PROGRESS);
			goto out;
		}
		after->set = true;
		after->u = nextval;
		if ((rc = cmd_build(r, r->cmd->op, r->t, &out)) != CLI_OK)
			goto out;
	}
	cmd_list_print(r, &p, all, next->type == MSGPACK_OBJECT_NIL ? NULL : &nextval);
out:
	for (size_t i = 0; i < p.npages; i++) {
		conn_reply_fini(p.page[i]);
		free(p.page[i]);
	}
	free(p.page);
	free(p.row);
	proto_out_fini(&out);
	return rc;
}

/* ---- log ---- */

int cmd_log_read(struct run *r, struct args_table *t, uint64_t after, cmd_entry_fn each,
		 void *arg, uint64_t *next, uint64_t *seq)
{
	static const struct cmd_need needs[] = {
		{ "items", CMD_T(ARRAY) }, { "next", CMD_T(POSITIVE_INTEGER) }, { NULL, 0 }
	};
	struct conn_reply rep = { .root = NULL };
	struct args_val *a = args_find(t, "--after");
	const msgpack_object *items;
	uint64_t prev = after;
	proto_out out;
	int rc;

	a->set = true;
	a->u = after;
	proto_out_init(&out);
	if ((rc = cmd_build(r, "log.read", t, &out)) != CLI_OK)
		goto out;
	if ((rc = cmd_send(r, &out, needs, &rep)) != CLI_OK)
		goto out;
	items = proto_map_get(rep.root, "items");
	*next = cmd_u64(rep.root, "next");
	*seq = rep.seq;
	if (*next < after) {
		rc = conn_bad_reply(&r->conn, "'next' is before 'after'");
		goto out;
	}
	for (uint32_t i = 0; i < items->via.array.size; i++) {
		const msgpack_object *e = &items->via.array.ptr[i];
		uint64_t s;

		if (!proto_obj_u64(proto_map_get(e, "seq"), &s) || s <= prev || s > *next) {
			rc = conn_bad_reply(&r->conn, "log entries without a 'seq' in order "
					    "between 'after' and 'next'");
			goto out;
		}
		prev = s;
	}
	for (uint32_t i = 0; i < items->via.array.size && rc == CLI_OK; i++)
		rc = each(arg, &items->via.array.ptr[i], cmd_u64(&items->via.array.ptr[i], "seq"));
out:
	conn_reply_fini(&rep);
	proto_out_fini(&out);
	return rc;
}

static int cmd_log_entry(void *arg, const msgpack_object *entry, uint64_t seq)
{
	(void)seq;
	cmd_print_entry(arg, entry);
	return CLI_OK;
}

static int cmd_log(struct run *r)
{
	struct args_val *after = args_find(r->t, "--after");
	bool all = args_find(r->t, "--all")->set;
	uint64_t cursor = after->u, next = 0, seq = 0;
	proto_out out;
	int rc;

	proto_out_init(&out);
	rc = cmd_start(r, r->cmd->op, r->t, &out);
	proto_out_fini(&out);
	if (rc != CLI_OK)
		return rc;
	for (;;) {
		if ((rc = cmd_log_read(r, r->t, cursor, cmd_log_entry, r, &next, &seq)) != CLI_OK)
			return rc;
		if (next >= seq || !all)
			break;
		if (next <= cursor)
			return conn_bad_reply(&r->conn, CMD_NO_PROGRESS);
		cursor = next;
	}
	if (!r->conf->json && !r->header_done)
		printf("no log entries after seq %" PRIu64 "\n", cursor);
	if (!r->conf->json && next < seq)
		printf("(more: nanti log --after %" PRIu64 ", or --all)\n", next);
	return CLI_OK;
}

/* ---- the table ---- */

const struct cmd cmd_table[] = {
	{ "ping", "ping", false, false, "check that the daemon answers",
	  "Ask the daemon for its version, its clock and the last committed seq.",
	  NULL, 0, cmd_single, cmd_show_ping,
	  { { "version", CMD_T(STR) }, { "now", CMD_T(POSITIVE_INTEGER) }, { NULL, 0 } } },
	{ "stats", "stats", false, false, "show the daemon's counters",
	  "Show the number of cases, events and commits since start, the last commit's\n"
	  "duration and how busy the commit thread has been.",
	  NULL, 0, cmd_single, cmd_show_stats,
	  { { "cases", CMD_T(POSITIVE_INTEGER) }, { "commits", CMD_T(POSITIVE_INTEGER) },
	    { NULL, 0 } } },
	{ "open", "case.open", true, false, "open a case",
	  "Open a case and print its id. The actor (--actor) is its lead unless --lead says\n"
	  "otherwise.",
	  CMD_SPEC(cmd_open_spec), cmd_single, cmd_show_open,
	  { { "case", CMD_T(POSITIVE_INTEGER) }, { NULL, 0 } } },
	{ "note", "case.note", true, false, "add a note to a case",
	  "Add a note to a case. TEXT '-' reads the note from stdin.",
	  CMD_SPEC(cmd_note_spec), cmd_single, cmd_show_note,
	  { { "case", CMD_T(POSITIVE_INTEGER) }, { "note", CMD_T(POSITIVE_INTEGER) },
	    { NULL, 0 } } },
	{ "show", "case.get", false, false, "show a case with its notes",
	  "Show a case: its fields and its last 100 notes, oldest first.",
	  CMD_SPEC(cmd_show_spec), cmd_single, cmd_show_case,
	  { { "case", CMD_T(MAP) }, { NULL, 0 } } },
	{ "list", "case.list", false, false, "list cases",
	  "List cases in id order, a page at a time (--all: every page). Filters combine.",
	  CMD_SPEC(cmd_list_spec), cmd_list, NULL,
	  { { "items", CMD_T(ARRAY) }, { "next", CMD_T(POSITIVE_INTEGER) | CMD_T(NIL) },
	    { NULL, 0 } } },
	{ "log", "log.read", false, false, "read the log of changes",
	  "Print log entries in seq order, a page at a time (--all: up to the end).\n"
	  "With --json, one JSON object per line: the entry.",
	  CMD_SPEC(cmd_log_spec), cmd_log, NULL, { { NULL, 0 } } },
	{ "watch", NULL, false, true, "follow the log live, missing nothing",
	  "Print log entries as they are committed, without gap or duplicate, until\n"
	  "SIGINT or SIGTERM (exit status 0). By default only new entries; --from SEQ or\n"
	  "--after SEQ first replays the log, then follows live. Entries missed by the live\n"
	  "feed (a slow reader, a reconnect) are read back from the log, as the subscriber\n"
	  "recipe of docs/protocol.md section 7 says. With --json, one entry per line.",
	  CMD_SPEC(cmd_watch_spec), watch_run, NULL, { { NULL, 0 } } },
};
const size_t cmd_count = sizeof cmd_table / sizeof cmd_table[0];

const struct cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < cmd_count; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}
