/*
 * cmd.h - the subcommands of nanti: their table, and the request helpers that watch.c
 * shares with them.
 */
#ifndef CMD_H
#define CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "args.h"
#include "cli.h"
#include "conn.h"

/* A key a successful reply must hold, and the msgpack types it may have (CMD_T masks). */
struct cmd_need {
	const char *key;
	unsigned types;
};
#define CMD_T(t) (1u << MSGPACK_OBJECT_##t)

struct run;

struct cmd {
	const char *name;	/* "open", or two words: "unit put" */
	const char *op;		/* the request's op, "case.open"; NULL: several (watch) */
	bool write;		/* changes state: sends id and actor, takes --request-id */
	bool events;		/* subscribes to notifications */
	const char *summary;	/* one line for `nanti --help` */
	const char *about;	/* a paragraph for `nanti CMD --help` */
	const struct args_spec *spec;
	size_t nspec;
	int (*run)(struct run *r);	/* returns an exit status */
	/* For single-request commands: print a successful reply for people. */
	void (*show)(const struct run *r, const struct conn_reply *reply);
	struct cmd_need needs[4];	/* ends at key NULL */
	/* What this row's run() or show() needs: a struct cmd_step (cmd.c) for a write on a
	 * case, the reply key naming the record (a string) for unit put and person put, the
	 * render table of the items (render.h) for a list. */
	const void *data;
	const char *section;	/* not NULL: a heading of `nanti --help` before this row */
};

/* One invocation of a command. */
struct run {
	const struct cmd *cmd;
	const struct cli_conf *conf;
	struct conn conn;		/* resolved by the caller, opened by run() */
	struct args_table *t;		/* the command's own operands and options */
	proto_str id;			/* write commands: the request id */
	proto_str actor;		/* write commands */
	char idbuf[PROTO_ID_BUF];	/* holds a generated id */
	bool header_done;		/* the column header of log lines was printed */
};

extern const struct cmd cmd_table[];
extern const size_t cmd_count;

/* One request, one reply, shown by the row's show() (or as JSON): the writes, ping,
 * stats, the record views. Returns an exit status. */
int cmd_single(struct run *r);

/* The options every write command takes (--request-id). */
extern const struct args_spec cmd_write_spec[];
extern const size_t cmd_write_nspec;

/* The options of `nanti log`, which are the keys of log.read; watch reads with them too. */
#define CMD_LOG_NSPEC 4
extern const struct args_spec cmd_log_spec[CMD_LOG_NSPEC];

/* The command whose words ("unit put", "admin key add") begin argv, the one of the most
 * words if several do ("pair import", "pair"); *words says how many it took. NULL if none. */
const struct cmd *cmd_find(int argc, char *const *argv, int *words);

/* Is word the first word of two-word commands ("unit")? */
bool cmd_is_group(const char *word);

/*
 * cmd_build - pack the request {op, the envelope of r, the keys of t} into out and check it
 * against the protocol's limits. Returns CLI_OK, or CLI_USAGE / CLI_LOCAL after saying why.
 */
int cmd_build(const struct run *r, const char *op, const struct args_table *t, proto_out *out);

/*
 * cmd_start - cmd_build(), then open r's connection: the request is checked before
 * anything is sent or even connected. Returns CLI_OK or the exit status of what failed.
 */
int cmd_start(struct run *r, const char *op, const struct args_table *t, proto_out *out);

/*
 * cmd_send - send out on r's open connection and check the reply against needs (ends at
 * key NULL). A refusal is reported on stderr as "nanti: CODE: MESSAGE". Returns what
 * conn_call() returns, or CLI_BADREPLY when a needed key is missing. The caller calls
 * conn_reply_fini(rep) in any case.
 */
int cmd_send(struct run *r, const proto_out *out, const struct cmd_need *needs,
	     struct conn_reply *rep);

/*
 * cmd_log_read - one log.read of the entries after `after`, with the other keys of t (a
 * table of cmd_log_spec). Checks that the items are log entries in increasing seq order,
 * all after `after` and none after the reply's next, then calls each(arg, entry, seq) for
 * every item, in order, stopping at the first that does not return CLI_OK.
 * On CLI_OK, *next and *seq are the reply's next and seq. Returns an exit status, or
 * CLI_STOPPED.
 */
typedef int (*cmd_entry_fn)(void *arg, const msgpack_object *entry, uint64_t seq);
int cmd_log_read(struct run *r, struct args_table *t, uint64_t after, cmd_entry_fn each,
		 void *arg, uint64_t *next, uint64_t *seq);

/* The pages of a list read so far: kept whole, because rows point into their decoded
 * replies. Start it zeroed; free it with cmd_pages_fini(). */
struct cmd_pages {
	struct conn_reply **page;
	size_t npages;
	const msgpack_object **row;
	size_t nrows;
};
void cmd_pages_fini(struct cmd_pages *p);

/*
 * cmd_pages_read - send r's request (its op and table r->t) and keep the reply in p, its
 * maps under key in p->row; then, while the reply's next is not nil and either `all` or
 * fewer than want rows came (a filtered page may come short), set r->t's --after to next
 * (an integer, or an id for an ARGS_STR --after) and ask again. *next is the last reply's
 * next. Opens r's connection. A refusal is printed as JSON with --json. Returns an exit
 * status.
 */
int cmd_pages_read(struct run *r, const char *key, bool all, size_t want, struct cmd_pages *p,
		   const msgpack_object **next);

/* Print one log entry: a JSON line with --json, else an aligned line (after a header). */
void cmd_print_entry(struct run *r, const msgpack_object *entry);

#endif
