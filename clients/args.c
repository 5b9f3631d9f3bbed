/*
 * args.c - the nanti client's command lines, driven by tables (args.h).
 *
 * Why tables: every subcommand is "some operands and options, each of which becomes one key
 * of a request". Written out per command, that is the same parse-convert-pack-check code
 * six times over, and the copies drift apart. Here one parser, one packer and one checker
 * serve every command, and a command is a table (see the command table in cmd.c).
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
 * a string option given twice is an error rather than a silent last-wins. A list option
 * may be repeated, and a comma list (ARGS_CSV) also takes "a,b": ids never hold a comma,
 * so "--units a,b" and "--units a --units b" are the same list. Names and tags may hold a
 * comma, so their lists (ARGS_SEMI) are separated by ';', as in the import files:
 * "--member-names 张三;李四".
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"

#define ARGS_MAX_FIELDS 20	/* request keys of one command, as many as an op may have
				 * (OPS_MAX_FIELDS); case.open has the most: 17 */

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

/* Does the spec take no value on the command line? */
static bool args_is_flag(const struct args_spec *s)
{
	return s->type == ARGS_FLAG || s->type == ARGS_CONST;
}

/* Do specs a and b fill the same request key (and so are alternatives)? */
static bool args_same_key(const struct args_spec *a, const struct args_spec *b)
{
	return a != b && a->field.key != NULL && b->field.key != NULL &&
	       strcmp(a->field.key, b->field.key) == 0;
}

/* Append value to v's list. */
static int args_push(struct args_val *v, const char *value)
{
	const char **grown = realloc(v->list, (v->n + 1) * sizeof *grown);

	if (grown == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	v->list = grown;
	v->list[v->n++] = value;
	return CLI_OK;
}

/* Append the values of value separated by sep to v's list, from a copy that v keeps. An
 * empty item ("a,,b") stays in the list, for the checker to refuse by name. */
static int args_push_split(struct args_val *v, const char *value, char sep)
{
	char **grown = realloc(v->copies, (v->ncopies + 1) * sizeof *grown);
	char *copy, *item, *comma;
	int rc = CLI_OK;

	if (grown == NULL || (copy = strdup(value)) == NULL) {
		v->copies = grown != NULL ? grown : v->copies;
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	v->copies = grown;
	v->copies[v->ncopies++] = copy;
	for (item = copy; rc == CLI_OK; item = comma + 1) {
		if ((comma = strchr(item, sep)) != NULL)
			*comma = '\0';
		rc = args_push(v, item);
		if (comma == NULL)
			break;
	}
	return rc;
}

/* Store one value of spec s into v. */
static int args_set(const char *cmd, const struct args_spec *s, struct args_val *v,
		    const char *value)
{
	char *end;

	if (v->set && (s->type == ARGS_STR || s->type == ARGS_TEXT || s->type == ARGS_UINT ||
		       s->type == ARGS_YESNO || s->type == ARGS_OPTSTR)) {
		args_warn(cmd, "%s given twice", s->name);
		return CLI_USAGE;
	}
	switch (s->type) {
	case ARGS_FLAG:
	case ARGS_CONST:
		break;
	case ARGS_YESNO:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
			args_warn(cmd, "%s: '%s' is neither yes nor no", s->name, value);
			return CLI_USAGE;
		}
		v->b = value[0] == 'y';
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
	case ARGS_OPTSTR:
	case ARGS_TEXT:
		v->s = value;
		v->len = strlen(value);
		break;
	case ARGS_LIST:
	case ARGS_REST:
	case ARGS_CSV:
	case ARGS_SEMI: {
		int rc = s->type == ARGS_CSV ? args_push_split(v, value, ',') :
			 s->type == ARGS_SEMI ? args_push_split(v, value, ';') : args_push(v, value);

		if (rc != CLI_OK)
			return rc;
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
			if (args_is_flag(s) && value != NULL) {
				args_warn(cmd, "%s takes no value", s->name);
				return CLI_USAGE;
			}
			if (!args_is_flag(s) && value == NULL) {
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

/* The alternatives of spec i (the specs sharing its request key): at most one given, and
 * one if the key is required. Checked once, at the first of them. */
static int args_alternatives(const char *cmd, const struct args_table *t, size_t i)
{
	const struct args_spec *s = &t->spec[i];
	const char *given = t->val[i].set ? s->name : NULL;
	bool shared = false;
	char names[256];
	size_t len;

	for (size_t j = 0; j < i; j++)
		if (args_same_key(s, &t->spec[j]))
			return CLI_OK;
	len = (size_t)snprintf(names, sizeof names, "%s", s->name);
	for (size_t j = i + 1; j < t->n; j++) {
		if (!args_same_key(s, &t->spec[j]))
			continue;
		shared = true;
		if (len < sizeof names)
			len += (size_t)snprintf(names + len, sizeof names - len, " or %s",
						t->spec[j].name);
		if (!t->val[j].set)
			continue;
		if (given != NULL) {
			args_warn(cmd, "%s and %s exclude each other", given, t->spec[j].name);
			return CLI_USAGE;
		}
		given = t->spec[j].name;
	}
	if (shared && s->field.required && given == NULL) {
		args_warn(cmd, "say %s (see nanti %s --help)", names, cmd);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int args_finish(const char *cmd, struct args_table *t)
{
	bool stdin_taken = false;
	int rc;

	for (size_t i = 0; i < t->n; i++) {
		const struct args_spec *s = &t->spec[i];
		struct args_val *v = &t->val[i];

		if (args_is_operand(s) && s->type != ARGS_REST && s->type != ARGS_OPTSTR &&
		    !v->set) {
			args_warn(cmd, "missing %s (see nanti %s --help)", s->name, cmd);
			return CLI_USAGE;
		}
		if (s->field.key != NULL && (rc = args_alternatives(cmd, t, i)) != CLI_OK)
			return rc;
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

/* Does spec i of t go into the request? A required flag always does. */
static bool args_packed(const struct args_table *t, size_t i)
{
	return t->spec[i].field.key != NULL &&
	       (t->val[i].set || (t->spec[i].type == ARGS_FLAG && t->spec[i].field.required));
}

void args_pack(proto_out *out, const char *op, proto_str id, proto_str actor,
	       const struct args_table *t)
{
	size_t keys = 1 + (id.len > 0) + (actor.len > 0);

	for (size_t i = 0; i < t->n; i++)
		keys += args_packed(t, i);
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

		if (!args_packed(t, i))
			continue;
		switch (t->spec[i].type) {
		case ARGS_UINT:
			proto_kv_u64(out, key, v->u);
			break;
		case ARGS_STR:
		case ARGS_OPTSTR:
		case ARGS_TEXT:
			proto_kv_str(out, key, (proto_str){ v->s, (uint32_t)v->len });
			break;
		case ARGS_LIST:
		case ARGS_CSV:
		case ARGS_SEMI:
		case ARGS_REST:
			proto_pack_cstr(out, key);
			msgpack_pack_array(&out->pk, v->n);
			for (size_t j = 0; j < v->n; j++)
				proto_pack_cstr(out, v->list[j]);
			break;
		case ARGS_FLAG:
			proto_kv_bool(out, key, v->set);
			break;
		case ARGS_YESNO:
			proto_kv_bool(out, key, v->b);
			break;
		case ARGS_CONST:
			proto_kv_cstr(out, key, t->spec[i].meta);
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
	for (size_t i = 0; i < t->n; i++) {
		bool again = false;	/* an alternative: its key is in fields already */

		for (size_t j = 0; j < i; j++)
			again = again || args_same_key(&t->spec[i], &t->spec[j]);
		if (t->spec[i].field.key == NULL || again)
			continue;
		if (n == ARGS_MAX_FIELDS) {	/* a build error: say so rather than drop keys */
			snprintf(why, whylen, "more than %d request keys in one command",
				 ARGS_MAX_FIELDS);
			return CLI_LOCAL;
		}
		fields[n++] = t->spec[i].field;
	}
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

/* One option in the synopsis: "--name V", "--name V..." for a list, "--flag". */
static void args_synopsis_one(FILE *f, const struct args_spec *s)
{
	if (args_is_flag(s))
		fputs(s->name, f);
	else
		fprintf(f, s->type == ARGS_LIST || s->type == ARGS_CSV || s->type == ARGS_SEMI ?
			"%s %s..." : "%s %s",
			s->name, s->meta);
}

void args_synopsis(FILE *f, const struct args_spec *spec, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (args_is_operand(&spec[i]))
			fprintf(f, spec[i].type == ARGS_REST ? " [%s...]" :
				spec[i].type == ARGS_OPTSTR ? " [%s]" : " %s", spec[i].name);
	for (size_t i = 0; i < n; i++) {
		/* a required flag is always sent, so on the command line it is optional */
		bool needed = spec[i].field.required && spec[i].type != ARGS_FLAG;
		bool first = true, alone = true;

		if (args_is_operand(&spec[i]))
			continue;
		for (size_t j = 0; j < n; j++) {
			if (!args_same_key(&spec[i], &spec[j]))
				continue;
			alone = false;
			first = first && j > i;
		}
		if (!first)
			continue;	/* shown with the first of its alternatives */
		fputs(needed && alone ? " " : needed ? " (" : " [", f);
		args_synopsis_one(f, &spec[i]);
		for (size_t j = i + 1; j < n; j++) {
			if (args_same_key(&spec[i], &spec[j])) {
				fputs(" | ", f);
				args_synopsis_one(f, &spec[j]);
			}
		}
		fputs(needed && alone ? "" : needed ? ")" : "]", f);
	}
}

/* The placeholder of spec s's value in help, "" for none. */
static const char *args_meta(const struct args_spec *s)
{
	return args_is_flag(s) || s->meta == NULL ? "" : s->meta;
}

size_t args_width(const struct args_spec *spec, size_t n)
{
	size_t width = 0;

	for (size_t i = 0; i < n; i++) {
		const char *meta = args_meta(&spec[i]);
		size_t w = strlen(spec[i].name) + (*meta ? 1 + strlen(meta) : 0);

		width = w > width ? w : width;
	}
	return width;
}

void args_describe(FILE *f, const struct args_spec *spec, size_t n, size_t width)
{
	for (size_t i = 0; i < n; i++) {
		const char *meta = args_meta(&spec[i]);
		size_t w = strlen(spec[i].name) + (*meta ? 1 + strlen(meta) : 0);

		fprintf(f, "  %s%s%s%*s  %s\n", spec[i].name, *meta ? " " : "", meta,
			(int)(width > w ? width - w : 0), "", spec[i].help);
	}
}

void args_free(struct args_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct args_val *v = &t->val[i];

		for (size_t j = 0; j < v->ncopies; j++)
			free(v->copies[j]);
		free(v->copies);
		free(v->list);
		free(v->owned);
		v->copies = NULL;
		v->ncopies = 0;
		v->list = NULL;
		v->owned = NULL;
	}
}
