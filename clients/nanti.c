/*
 * nanti.c - the command-line client of nantid, the case ledger: main().
 *
 * `nanti [OPTIONS] COMMAND [ARGS]` talks to the daemon over the wire protocol of
 * docs/protocol.md, through the shared proto/ module (the same strict decoder the daemon
 * uses). This file reads the global options, finds the command, assembles the request
 * envelope (actor, request id) and hands over to the command; what the commands are and
 * do is in cmd.c (a table) and watch.c, the transport in conn.c, the command-line tables
 * in args.c, the output for people in render.c.
 *
 * The exit status is the interface scripts rely on, so every path ends in exactly one of
 * the statuses of cli.h, documented in `nanti --help` and docs/client.md: 0 success,
 * 1 refused by the daemon, 2 usage or invalid input (nothing sent), 3 no daemon or no
 * answer, 4 a reply that is not the protocol, 5 a local failure. A write command sends a
 * fresh time-ordered id (proto_new_id()) unless --request-id names one, so that a script
 * can retry a write after exit status 3 without applying it twice.
 *
 * Global options may come before or after the command: `nanti --json list` and
 * `nanti list --json` are the same. Commands on the county's records have two words
 * (`nanti unit put`, `nanti person list`); the first alone (`nanti unit --help`) lists them.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "cmd.h"
#include "conn.h"

#define NANTI_TIMEOUT_MAX 86400000	/* ms: a day */

enum nanti_global {
	G_ENDPOINT, G_EVENTS, G_RUNTIME, G_KEY, G_SERVER_KEY, G_ACTOR, G_TIMEOUT, G_JSON, G_HELP,
	G_VERSION, G__N
};

static const struct args_spec nanti_global_spec[G__N] = {
	[G_ENDPOINT] = { "--endpoint", ARGS_STR, "ENDPOINT",
			 "the daemon's request endpoint: tcp://HOST:PORT or ipc://PATH", { 0 } },
	[G_EVENTS] = { "--events", ARGS_STR, "ENDPOINT",
		       "its notification endpoint (default: tcp PORT+1, or ipc events.sock)",
		       { 0 } },
	[G_RUNTIME] = { "--runtime-dir", ARGS_STR, "DIR",
			"use ipc://DIR/submit.sock and ipc://DIR/events.sock", { 0 } },
	[G_KEY] = { "--key", ARGS_STR, "FILE",
		    "over tcp: your key pair, from nanti key gen ($NANTI_KEY)", { 0 } },
	[G_SERVER_KEY] = { "--server-key", ARGS_STR, "KEY",
			   "over tcp: the daemon's public key or its file ($NANTI_SERVER_KEY)",
			   { 0 } },
	[G_ACTOR] = { "--actor", ARGS_STR, "NAME",
		      "who submits (default: $NANTI_ACTOR, else $USER, else the login name)",
		      { 0 } },
	[G_TIMEOUT] = { "--timeout", ARGS_UINT, "MS",
			"how long to wait for each reply (default 5000)", { 0 } },
	[G_JSON] = { "--json", ARGS_FLAG, NULL, "print JSON for scripts", { 0 } },
	[G_HELP] = { "--help", ARGS_FLAG, NULL, "print help and exit (also -h)", { 0 } },
	[G_VERSION] = { "--version", ARGS_FLAG, NULL, "print the version and exit", { 0 } },
};

/* The width of the widest command name. */
static int nanti_name_width(void)
{
	size_t w = 0;

	for (size_t i = 0; i < cmd_count; i++)
		w = strlen(cmd_table[i].name) > w ? strlen(cmd_table[i].name) : w;
	return (int)w;
}

static void nanti_help(FILE *f)
{
	int w = nanti_name_width();

	fputs("usage: nanti [OPTIONS] COMMAND [ARGS]\n\n"
	      "The command-line client of nantid, the case ledger.\n", f);
	for (size_t i = 0; i < cmd_count; i++) {
		if (cmd_table[i].section != NULL || i == 0)
			fprintf(f, "\n%s:\n", cmd_table[i].section != NULL ?
				cmd_table[i].section : "commands");
		fprintf(f, "  %-*s  %s\n", w, cmd_table[i].name, cmd_table[i].summary);
	}
	fputs("\nThe actor of a write must be a person registered with `nanti person put`;\n"
	      "until the ledger has an admin, anyone may register units and people.\n"
	      "Over tcp the daemon speaks CURVE: connect with --key FILE (your key pair,\n"
	      "registered by an admin with nanti admin key add) and --server-key KEY; you\n"
	      "then act as the key's person.\n", f);
	fputs("\noptions (before or after the command):\n", f);
	args_describe(f, nanti_global_spec, G__N, args_width(nanti_global_spec, G__N));
	fputs("\nThe daemon is found at --endpoint, else in --runtime-dir DIR, else in\n"
	      "$NANTI_RUNTIME_DIR, else in $XDG_RUNTIME_DIR/nanti, else in ./var/run (or, if\n"
	      "there is no daemon there, in /run/nanti, the service's).\n"
	      "Output is for people unless --json: then one JSON object, the reply (log and\n"
	      "watch: one entry per line).\n\n"
	      "exit status:\n"
	      "  0  success\n"
	      "  1  the daemon refused the request (\"nanti: CODE: MESSAGE\" on stderr)\n"
	      "  2  usage error or invalid input; nothing was sent\n"
	      "  3  the daemon is unreachable or did not answer in time\n"
	      "  4  the daemon's reply is not valid protocol\n"
	      "  5  the client itself failed (out of memory, cannot write its output)\n"
	      "  6  admin verify: the log's hash chain does not hold (the ledger was changed)\n"
	      "\n`nanti COMMAND --help` describes a command. See also docs/client.md.\n", f);
}

/* `nanti unit --help`: the commands whose first word is group. */
static void nanti_group_help(FILE *f, const char *group)
{
	size_t len = strlen(group);
	int w = nanti_name_width();

	fprintf(f, "usage: nanti %s COMMAND [ARGS] [OPTIONS]\n\ncommands:\n", group);
	for (size_t i = 0; i < cmd_count; i++)
		if (strncmp(cmd_table[i].name, group, len) == 0 && cmd_table[i].name[len] == ' ')
			fprintf(f, "  %-*s  %s\n", w, cmd_table[i].name, cmd_table[i].summary);
	fprintf(f, "\n`nanti %s COMMAND --help` describes one.\n", group);
}

static void nanti_cmd_help(FILE *f, const struct cmd *cmd)
{
	size_t width = args_width(cmd->spec, cmd->nspec);

	fprintf(f, "usage: nanti %s", cmd->name);
	args_synopsis(f, cmd->spec, cmd->nspec);
	if (cmd->write) {
		args_synopsis(f, cmd_write_spec, cmd_write_nspec);
		if (args_width(cmd_write_spec, cmd_write_nspec) > width)
			width = args_width(cmd_write_spec, cmd_write_nspec);
	}
	fprintf(f, " [OPTIONS]\n\n%s\n", cmd->about);
	if (cmd->write)
		fputs("\nIt changes the ledger: the request carries an id, fresh unless\n"
		      "--request-id gives one; sending the same id again never applies it twice.\n"
		      "A repeat is shown as \"(duplicate: already applied as seq N)\".\n", f);
	if (cmd->nspec > 0 || cmd->write) {
		fputs("\narguments:\n", f);
		args_describe(f, cmd->spec, cmd->nspec, width);
		if (cmd->write)
			args_describe(f, cmd_write_spec, cmd_write_nspec, width);
	}
	fputs("\nOPTIONS are the global options of `nanti --help` (--endpoint, --json, ...).\n"
	      "Exit status: 0 done, 1 refused by the daemon, 2 usage or invalid input,\n"
	      "3 no daemon or no answer, 4 invalid reply, 5 local failure.\n", f);
}

/* The global configuration from the options g, with the environment filling the gaps. */
static int nanti_conf(const struct args_val *g, struct cli_conf *conf)
{
	const char *env;
	struct passwd *pw;

	memset(conf, 0, sizeof *conf);
	conf->timeout_ms = CLI_TIMEOUT_DEFAULT;
	if (g[G_TIMEOUT].set) {
		if (g[G_TIMEOUT].u < 1 || g[G_TIMEOUT].u > NANTI_TIMEOUT_MAX) {
			cli_warn("--timeout must be 1 to %d ms", NANTI_TIMEOUT_MAX);
			return CLI_USAGE;
		}
		conf->timeout_ms = (int)g[G_TIMEOUT].u;
	}
	conf->json = g[G_JSON].set;
	conf->endpoint = g[G_ENDPOINT].set ? g[G_ENDPOINT].s : NULL;
	conf->events = g[G_EVENTS].set ? g[G_EVENTS].s : NULL;
	conf->runtime_dir = g[G_RUNTIME].set ? g[G_RUNTIME].s : NULL;
	if (conf->runtime_dir == NULL && (env = getenv("NANTI_RUNTIME_DIR")) != NULL && *env)
		conf->runtime_dir = env;
	conf->key_file = g[G_KEY].set ? g[G_KEY].s : NULL;
	if (conf->key_file == NULL && (env = getenv("NANTI_KEY")) != NULL && *env)
		conf->key_file = env;
	conf->server_key = g[G_SERVER_KEY].set ? g[G_SERVER_KEY].s : NULL;
	if (conf->server_key == NULL && (env = getenv("NANTI_SERVER_KEY")) != NULL && *env)
		conf->server_key = env;
	conf->actor = g[G_ACTOR].set ? g[G_ACTOR].s : NULL;
	if (conf->actor == NULL && (env = getenv("NANTI_ACTOR")) != NULL && *env)
		conf->actor = env;
	/* a key is a person: the daemon knows whom, and a guess from $USER could only be
	 * refused */
	if (conf->actor == NULL && conf->key_file != NULL)
		return CLI_OK;
	if (conf->actor == NULL && (env = getenv("USER")) != NULL && *env)
		conf->actor = env;
	if (conf->actor == NULL && (pw = getpwuid(geteuid())) != NULL)
		conf->actor = pw->pw_name;
	return CLI_OK;
}

/* The envelope of a write request: its id (given or fresh) and its actor. */
static int nanti_envelope(struct run *r, const struct args_val *request_id)
{
	if ((r->conf->actor == NULL || r->conf->actor[0] == '\0') && r->conf->key_file == NULL) {
		cli_warn("%s: no actor: give --actor NAME or set NANTI_ACTOR", r->cmd->name);
		return CLI_USAGE;
	}
	/* none, with a key: the request acts as the key's person */
	r->actor = r->conf->actor == NULL ? PROTO_STR_NULL :
		   (proto_str){ r->conf->actor, (uint32_t)strlen(r->conf->actor) };
	if (request_id->set && request_id->len == 0) {
		cli_warn("%s: --request-id must not be empty", r->cmd->name);
		return CLI_USAGE;
	}
	if (!request_id->set)
		proto_new_id(r->idbuf);
	r->id = request_id->set ? (proto_str){ request_id->s, (uint32_t)request_id->len }
		: (proto_str){ r->idbuf, (uint32_t)strlen(r->idbuf) };
	return CLI_OK;
}

int main(int argc, char **argv)
{
	struct args_val gval[G__N], wval[1];
	struct args_val *cval = NULL;
	struct args_table t[3];
	struct cli_conf conf;
	struct run r;
	const struct cmd *cmd = NULL;
	size_t nt = 0;
	int used = 0, words = 0, rc;

	memset(gval, 0, sizeof gval);
	memset(wval, 0, sizeof wval);
	memset(&r, 0, sizeof r);
	t[0] = (struct args_table){ nanti_global_spec, G__N, gval };
	rc = args_parse(NULL, t, 1, argc - 1, argv + 1, true, &used);
	if (rc != CLI_OK)
		goto out;
	argc -= 1 + used;
	argv += 1 + used;
	if (gval[G_VERSION].set) {
		printf("nanti %s\n", PROTO_VERSION);
		goto out;
	}
	if (argc > 0 && strcmp(argv[0], "help") == 0) {	/* nanti help [COMMAND] */
		gval[G_HELP].set = true;
		argc--, argv++;
	}
	if (argc == 0) {
		if (gval[G_HELP].set) {
			nanti_help(stdout);
		} else {
			fputs("usage: nanti [OPTIONS] COMMAND [ARGS]  (nanti --help lists them)\n",
			      stderr);
			rc = CLI_USAGE;
		}
		goto out;
	}
	if ((cmd = cmd_find(argc, argv, &words)) == NULL && cmd_is_group(argv[0])) {
		bool help = gval[G_HELP].set || (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
							     strcmp(argv[1], "-h") == 0));

		if (help && argc <= 2) {
			nanti_group_help(stdout, argv[0]);
		} else {
			if (argc > 1)
				cli_warn("unknown command '%s %s' (nanti %s --help lists them)",
					 argv[0], argv[1], argv[0]);
			else
				cli_warn("%s: which one? (nanti %s --help lists them)", argv[0],
					 argv[0]);
			rc = CLI_USAGE;
		}
		goto out;
	}
	if (cmd == NULL) {
		cli_warn("unknown command '%s' (nanti --help lists them)", argv[0]);
		rc = CLI_USAGE;
		goto out;
	}
	if ((cval = calloc(cmd->nspec + 1, sizeof *cval)) == NULL) {
		cli_warn("out of memory");
		rc = CLI_LOCAL;
		goto out;
	}
	t[nt++] = (struct args_table){ cmd->spec, cmd->nspec, cval };
	if (cmd->write)
		t[nt++] = (struct args_table){ cmd_write_spec, cmd_write_nspec, wval };
	t[nt++] = (struct args_table){ nanti_global_spec, G__N, gval };
	if ((rc = args_parse(cmd->name, t, nt, argc - words, argv + words, false, NULL)) != CLI_OK)
		goto out;
	if (gval[G_HELP].set) {
		nanti_cmd_help(stdout, cmd);
		goto out;
	}
	if ((rc = args_finish(cmd->name, &t[0])) != CLI_OK ||
	    (rc = nanti_conf(gval, &conf)) != CLI_OK ||
	    (rc = conn_resolve(&r.conn, &conf, cmd->events)) != CLI_OK)
		goto out;
	r.cmd = cmd;
	r.conf = &conf;
	r.t = &t[0];
	if (cmd->write && (rc = nanti_envelope(&r, &wval[0])) != CLI_OK)
		goto out;
	rc = cmd->run(&r);
out:
	conn_close(&r.conn);
	for (size_t i = 0; i < nt; i++)
		args_free(&t[i]);
	if (nt == 0)
		args_free(&t[0]);
	free(cval);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_warn("cannot write output: %s", strerror(errno));
		rc = rc == CLI_OK ? CLI_LOCAL : rc;
	}
	return rc;
}
