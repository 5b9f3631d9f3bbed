/*
 * args.h - table-driven command lines for the nanti client.
 *
 * A command describes its operands and options once, in a table of struct args_spec. The
 * same table parses argv, writes the command's help, packs the request (each spec with a
 * request key becomes one key of the request map) and checks the request against the
 * protocol's limits (through proto_fields(), the daemon's own schema checker), so a
 * command never needs code of its own to turn arguments into a request.
 *
 * Two conventions carry what a plain "one option, one key" table cannot say:
 *   - a spec whose field is required must be given (the synopsis shows it without
 *     brackets); a required ARGS_FLAG is always sent, as false when it is absent, because
 *     the daemon wants the key either way;
 *   - specs that share a request key are alternatives: at most one may be given, and if
 *     the field is required, one must be (`verify --cross-off | --return`).
 */
#ifndef ARGS_H
#define ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

enum args_type {
	ARGS_STR,	/* a string */
	ARGS_TEXT,	/* a string; "-" reads it from stdin (trailing newlines dropped) */
	ARGS_UINT,	/* a decimal integer >= 0 */
	ARGS_LIST,	/* a string, repeatable; packed as an array of strings */
	ARGS_CSV,	/* as ARGS_LIST, and one value may hold several, comma-separated */
	ARGS_SEMI,	/* as ARGS_CSV, separated by ';' (names and tags, which may hold commas) */
	ARGS_FLAG,	/* no value; packed as true (see above for a required one) */
	ARGS_YESNO,	/* "yes" or "no"; packed as true or false */
	ARGS_CONST,	/* no value; packs the string in meta (see alternatives above) */
	ARGS_REST,	/* an operand that takes all remaining operands */
	ARGS_OPTSTR,	/* a string operand that may be left out (after the others) */
};

struct args_spec {
	const char *name;	/* an option "--kind", or an operand "TITLE" (no leading '-') */
	enum args_type type;
	const char *meta;	/* an option value's placeholder in help: "K"; NULL for flags;
				 * for ARGS_CONST, the value it packs (not shown) */
	const char *help;	/* one line */
	/* The request key and its protocol limits; field.key NULL: used by the client only.
	 * field.type must agree with type: PT_STR, PT_ID or PT_DATE for STR, OPTSTR and TEXT;
	 * PT_UINT for UINT; PT_STRS or PT_IDS for LIST, CSV and SEMI; PT_BOOL for FLAG and YESNO;
	 * PT_STR for CONST. */
	struct proto_field field;
};

struct args_val {
	bool set;
	const char *s;		/* STR, TEXT: the value (not NUL-terminated after a stdin read) */
	size_t len;
	uint64_t u;		/* UINT */
	bool b;			/* YESNO */
	const char **list;	/* LIST, CSV, REST: the values, in order */
	size_t n;
	char *owned;		/* TEXT read from stdin; s points into it */
	char **copies;		/* CSV, SEMI: the values split; list points into them */
	size_t ncopies;
};

/* One spec table and the values parsed for it. */
struct args_table {
	const struct args_spec *spec;
	size_t n;
	struct args_val *val;	/* n entries, zeroed before args_parse() */
};

/*
 * args_parse - parse argv[0..argc) against the tables t[0..nt). Options ("--name value",
 * "--name=value", "-h" for "--help") are looked up in every table; operands fill the
 * operand specs of t[0] in order. "--" ends the options. With stop_at_operand, parsing
 * stops before the first operand and *used says how many arguments were taken.
 * Values point into argv. Returns CLI_OK or CLI_USAGE (said why on stderr, naming cmd).
 * The caller calls args_free() on every table in any case.
 */
int args_parse(const char *cmd, struct args_table *t, size_t nt, int argc, char **argv,
	       bool stop_at_operand, int *used);

/*
 * args_finish - after the caller has dealt with --help: check that every operand of t is
 * present, that alternatives (specs sharing a request key) are given once at most, and
 * once if required, and read the one TEXT value given as "-" from stdin.
 * Returns CLI_OK or CLI_USAGE (said why on stderr), CLI_LOCAL (out of memory).
 */
int args_finish(const char *cmd, struct args_table *t);

/* The value parsed for the spec named name in t, or NULL if t has no such spec. */
struct args_val *args_find(const struct args_table *t, const char *name);

/*
 * args_pack - the request {op, id?, actor?, and one key per set spec of t with a request
 * key} into out (reset first). id and actor are left out when their len is 0.
 */
void args_pack(proto_out *out, const char *op, proto_str id, proto_str actor,
	       const struct args_table *t);

/*
 * args_check - check the request in out as the daemon would: the envelope by
 * proto_request(), the other keys by proto_fields() against t's limits, and the size of
 * the frame. Returns CLI_OK, CLI_USAGE (why says what), CLI_LOCAL (out of memory).
 */
int args_check(const proto_out *out, const struct args_table *t, char *why, size_t whylen);

/* Help: the synopsis " OPERAND --needed V [--opt V] (--this | --that)..." (no newline);
 * one line per spec, its name and value padded to width columns. */
void args_synopsis(FILE *f, const struct args_spec *spec, size_t n);
size_t args_width(const struct args_spec *spec, size_t n);	/* of the widest name */
void args_describe(FILE *f, const struct args_spec *spec, size_t n, size_t width);

/* Free what args_parse() and args_finish() allocated for t. */
void args_free(struct args_table *t);

#endif
