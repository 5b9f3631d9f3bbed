/*
 * args.c - the nanti client's command lines, driven by tables (args.h).
 *
 * Why tables: every subcommand is "some operands and options, each of which becomes one key
 * of a request". Written out per command, that is the same parse-convert-pack-check code
 * six times over, and the copies drift apart. Here one parser, one packer and one checker
 * serve every command, and a command is a table (see the command list in nanti.c).
 *
 * Checking: the request is packed first, then decoded again with the daemon's own strict
 * decoder and schema checker (proto_request(), proto_fields()) against the limits that the
 * table copies from docs/protocol.md. So a value the daemon would refuse (a title of 300
 * bytes, invalid UTF-8, an unknown kind) is refused here, before anything is sent, with
 * exit status 2, and the message is the one the daemon would give. A request larger than
 * a frame may be (the daemon would drop the connection without a reply) is refused too.
 *
 * Parsing rules: options may come anywhere, before or after operands; "--name=value" and
 * "--name value" are the same; "--" ends the options (for a title that starts with '-');
 * a string option given twice is an error rather than a silent last-wins.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"

#define ARGS_MAX_FIELDS 16	/* request keys of one command; a command has at most 8 */

/* "nanti: CMD: MESSAGE" on stderr; just "nanti: MESSAGE" without a command. */
static void args_warn(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void args_warn(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		cli_warn("%s: %s", cmd, msg);
	else
		cli_warn("%s", msg);
}

static bool args_is_operand(const struct args_spec *s)
{
	return s->name[0] != '-';
}

/* Store one value of spec s into v. */
static int args_set(const char *cmd, const struct args_spec *s, struct args_val *v,
		    const char *value)
{
	char *end;

	if (v->set && (s->type == ARGS_STR || s->type == ARGS_TEXT || s->type == ARGS_UINT)) {
		args_warn(cmd, "%s given twice", s->name);
		return CLI_USAGE;
	}
	switch (s->type) {
	case ARGS_FLAG:
		break;
	case ARGS_UINT:
		errno = 0;
		v->u = strtoull(value, &end, 10);
		if (!isdigit((unsigned char)value[0]) || *end != '\0' || errno != 0) {
			args_warn(cmd, "%s: '%s' is not a whole number", s->name, value);
			return CLI_USAGE;
		}
		break;
	case ARGS_STR:
	case ARGS_TEXT:
		v->s = value;
		v->len = strlen(value);
		break;
	case ARGS_LIST:
	case ARGS_REST: {
		const char **grown = realloc(v->list, (v->n + 1) * sizeof *grown);

		if (grown == NULL) {
			cli_warn("out of memory");
			return CLI_LOCAL;
		}
		v->list = grown;
		v->list[v->n++] = value;
		break;
	}
	}
	v->set = true;
	return CLI_OK;
}

/* The option argv[*i]; may take argv[*i + 1] as its value and advance *i. */
static int args_option(const char *cmd, struct args_table *t, size_t nt, int argc,
		       char **argv, int *i)
{
	const char *arg = strcmp(argv[*i], "-h") == 0 ? "--help" : argv[*i];
	const char *eq = strchr(arg, '=');
	size_t namelen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);

	for (size_t k = 0; k < nt; k++) {
		for (size_t j = 0; j < t[k].n; j++) {
			const struct args_spec *s = &t[k].spec[j];
			const char *value = eq != NULL ? eq + 1 : NULL;

			if (args_is_operand(s) || strlen(s->name) != namelen ||
			    strncmp(s->name, arg, namelen) != 0)
				continue;
			if (s->type == ARGS_FLAG && value != NULL) {
				args_warn(cmd, "%s takes no value", s->name);
				return CLI_USAGE;
			}
			if (s->type != ARGS_FLAG && value == NULL) {
				if (*i + 1 >= argc) {
					args_warn(cmd, "%s needs a value (%s)", s->name, s->meta);
					return CLI_USAGE;
				}
				value = argv[++*i];
			}
			return args_set(cmd, s, &t[k].val[j], value);
		}
	}
	args_warn(cmd, "unknown option %.*s (see nanti %s%s--help)", (int)namelen, arg,
		  cmd != NULL ? cmd : "", cmd != NULL ? " " : "");
	return CLI_USAGE;
}

/* The operand a: the next operand spec of t from *pos on. */
static int args_operand(const char *cmd, struct args_table *t, size_t *pos, const char *a)
{
	int rc;

	while (*pos < t->n && !args_is_operand(&t->spec[*pos]))
		(*pos)++;
	if (*pos >= t->n) {
		args_warn(cmd, "unexpected argument '%s' (see nanti %s --help)", a,
			  cmd != NULL ? cmd : "");
		return CLI_USAGE;
	}
	rc = args_set(cmd, &t->spec[*pos], &t->val[*pos], a);
	if (t->spec[*pos].type != ARGS_REST)
		(*pos)++;
	return rc;
}

int args_parse(const char *cmd, struct args_table *t, size_t nt, int argc, char **argv,
	       bool stop_at_operand, int *used)
{
	bool options = true;
	size_t pos = 0;
	int i, rc = CLI_OK;

	for (i = 0; i < argc && rc == CLI_OK; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0) {
			options = false;
			if (stop_at_operand) {
				i++;
				break;
			}
		} else if (options && a[0] == '-' && a[1] != '\0') {
			rc = args_option(cmd, t, nt, argc, argv, &i);
		} else if (stop_at_operand) {
			break;
		} else {
			rc = args_operand(cmd, &t[0], &pos, a);
		}
	}
	if (used != NULL)
		*used = i;
	return rc;
}

/* Read all of stdin (at most one frame's worth) into v, dropping trailing newlines. */
static int args_read_stdin(const char *cmd, struct args_val *v)
{
	size_t cap = PROTO_MAX_FRAME + 1, len = 0;
	char *buf = malloc(cap);
	ssize_t got;

	if (buf == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	v->owned = buf;
	while (len < cap && (got = read(STDIN_FILENO, buf + len, cap - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			args_warn(cmd, "cannot read stdin: %s", strerror(errno));
			return CLI_USAGE;
		}
		len += (size_t)got;
	}
	if (len == cap) {
		args_warn(cmd, "stdin holds more than %d bytes", PROTO_MAX_FRAME);
		return CLI_USAGE;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	v->s = buf;
	v->len = len;
	return CLI_OK;
}

int args_finish(const char *cmd, struct args_table *t)
{
	bool stdin_taken = false;
	int rc;

	for (size_t i = 0; i < t->n; i++) {
		const struct args_spec *s = &t->spec[i];
		struct args_val *v = &t->val[i];

		if (args_is_operand(s) && s->type != ARGS_REST && !v->set) {
			args_warn(cmd, "missing %s (see nanti %s --help)", s->name, cmd);
			return CLI_USAGE;
		}
		if (s->type != ARGS_TEXT || !v->set || v->len != 1 || v->s[0] != '-')
			continue;
		if (stdin_taken) {
			args_warn(cmd, "only one value can be read from stdin ('-')");
			return CLI_USAGE;
		}
		stdin_taken = true;
		if ((rc = args_read_stdin(cmd, v)) != CLI_OK)
			return rc;
	}
	return CLI_OK;
}

struct args_val *args_find(const struct args_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->spec[i].name, name) == 0)
			return &t->val[i];
	return NULL;
}

void args_pack(proto_out *out, const char *op, proto_str id, proto_str actor,
	       const struct args_table *t)
{
	size_t keys = 1 + (id.len > 0) + (actor.len > 0);

	for (size_t i = 0; i < t->n; i++)
		keys += t->spec[i].field.key != NULL && t->val[i].set;
	proto_out_reset(out);
	msgpack_pack_map(&out->pk, keys);
	proto_kv_cstr(out, "op", op);
	if (id.len > 0)
		proto_kv_str(out, "id", id);
	if (actor.len > 0)
		proto_kv_str(out, "actor", actor);
	for (size_t i = 0; i < t->n; i++) {
		const char *key = t->spec[i].field.key;
		const struct args_val *v = &t->val[i];

		if (key == NULL || !v->set)
			continue;
		switch (t->spec[i].type) {
		case ARGS_UINT:
			proto_kv_u64(out, key, v->u);
			break;
		case ARGS_STR:
		case ARGS_TEXT:
			proto_kv_str(out, key, (proto_str){ v->s, (uint32_t)v->len });
			break;
		case ARGS_LIST:
		case ARGS_REST:
			proto_pack_cstr(out, key);
			msgpack_pack_array(&out->pk, v->n);
			for (size_t j = 0; j < v->n; j++)
				proto_pack_cstr(out, v->list[j]);
			break;
		case ARGS_FLAG:
			proto_kv_bool(out, key, true);
			break;
		}
	}
}

/* In the checker's sentence why, call a request key by its name on the command line:
 * "'limit' must be ..." becomes "--limit must be ...". */
static void args_rename(char *why, size_t whylen, const struct args_table *t)
{
	char quoted[PROTO_MAX_KEY + 3], copy[PROTO_WHY];
	const char *at;

	for (size_t i = 0; i < t->n; i++) {
		if (t->spec[i].field.key == NULL)
			continue;
		snprintf(quoted, sizeof quoted, "'%s'", t->spec[i].field.key);
		if ((at = strstr(why, quoted)) == NULL)
			continue;
		snprintf(copy, sizeof copy, "%.*s%s%s", (int)(at - why), why, t->spec[i].name,
			 at + strlen(quoted));
		snprintf(why, whylen, "%s", copy);
		return;
	}
}

int args_check(const proto_out *out, const struct args_table *t, char *why, size_t whylen)
{
	struct proto_field fields[ARGS_MAX_FIELDS];
	struct proto_arg parsed[ARGS_MAX_FIELDS];
	struct proto_request req;
	proto_doc doc;
	size_t n = 0;
	nt_err e;

	if (out->oom) {
		snprintf(why, whylen, "out of memory");
		return CLI_LOCAL;
	}
	if (out->sb.size > PROTO_MAX_FRAME) {
		snprintf(why, whylen, "the request would be %zu bytes, more than the %d "
			 "a frame may hold", out->sb.size, PROTO_MAX_FRAME);
		return CLI_USAGE;
	}
	for (size_t i = 0; i < t->n && n < ARGS_MAX_FIELDS; i++)
		if (t->spec[i].field.key != NULL)
			fields[n++] = t->spec[i].field;
	e = proto_request(&doc, out->sb.data, out->sb.size, &req, why, whylen);
	if (e == NT_OK)
		e = proto_fields(req.body, fields, n, parsed, why, whylen);
	proto_doc_fini(&doc);
	if (e == NT_EBADREQ)
		args_rename(why, whylen, t);
	if (e == NT_ENOMEM) {
		snprintf(why, whylen, "out of memory");
		return CLI_LOCAL;
	}
	return e == NT_OK ? CLI_OK : CLI_USAGE;
}

void args_synopsis(FILE *f, const struct args_spec *spec, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (args_is_operand(&spec[i]))
			fprintf(f, spec[i].type == ARGS_REST ? " [%s...]" : " %s", spec[i].name);
	for (size_t i = 0; i < n; i++) {
		if (args_is_operand(&spec[i]))
			continue;
		if (spec[i].type == ARGS_FLAG)
			fprintf(f, " [%s]", spec[i].name);
		else
			fprintf(f, spec[i].type == ARGS_LIST ? " [%s %s]..." : " [%s %s]",
				spec[i].name, spec[i].meta);
	}
}

size_t args_width(const struct args_spec *spec, size_t n)
{
	size_t width = 0;

	for (size_t i = 0; i < n; i++) {
		size_t w = strlen(spec[i].name) +
			   (spec[i].meta != NULL ? 1 + strlen(spec[i].meta) : 0);

		width = w > width ? w : width;
	}
	return width;
}

void args_describe(FILE *f, const struct args_spec *spec, size_t n, size_t width)
{
	for (size_t i = 0; i < n; i++) {
		const char *meta = spec[i].meta != NULL ? spec[i].meta : "";
		size_t w = strlen(spec[i].name) + (*meta ? 1 + strlen(meta) : 0);

		fprintf(f, "  %s%s%s%*s  %s\n", spec[i].name, *meta ? " " : "", meta,
			(int)(width > w ? width - w : 0), "", spec[i].help);
	}
}

void args_free(struct args_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->val[i].list);
		free(t->val[i].owned);
		t->val[i].list = NULL;
		t->val[i].owned = NULL;
	}
}
