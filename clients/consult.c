/*
 * consult.c - `nanti household consult`: a household consultation (民情会诊) and the
 * cases of the problems it found (consult.h; docs/client.md, "Households").
 *
 * A village's cadres sit down with residents about a few households and come away with
 * problems to solve. The daemon records the meeting (household.consult, whose log seq
 * names it from then on), and each problem becomes a case (case.open, kind
 * household_issue, source household_consultation) naming the consultation and the
 * households it concerns. That is one request and then one more per problem, and each
 * problem needs the consultation's seq, so they cannot be one request; what makes them
 * safe together is the request ids. The problems' ids are derived from the
 * consultation's: ID.p1, ID.p2, ... So a run cut short (no answer, a refusal of one
 * problem) is finished by running the same command again with the same --request-id:
 * the daemon answers what was recorded already with its original reply (the same seq,
 * the same case ids) and records the rest. The command prints the id to run again with.
 *
 * Everything is checked before anything is sent: the consultation's request, each
 * problem's households (among those discussed: a case may only name households the
 * consultation discussed) and each problem's case.open request, with the daemon's own
 * schema checker (args.c), as if the consultation's seq were known. A mistake is exit
 * status 2 and nothing is recorded.
 *
 * A problem is written TITLE, for every household discussed (at most 16, what a case
 * may name), or H1,H2=TITLE for the households it concerns. A title that itself holds an
 * '=' after a word that could be an id is written =TITLE.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "consult.h"
#include "render.h"
#include "sheet.h"

#define CONSULT_MAX_PROBLEMS	20	/* problems of one consultation */
#define CONSULT_MAX_DISCUSSED	20	/* households discussed (household.consult) */
#define CONSULT_MAX_CASE	16	/* households a case names (case.open) */
#define CONSULT_SUFFIX		4	/* ".p20" */

static const char *const consult_areas[] = { "grassroots", "development", "livelihood", NULL };

/* The keys of household.consult come from the command line; the others are for the cases. */
const struct args_spec consult_spec[CONSULT_NSPEC] = {
	{ "VILLAGE", ARGS_STR, NULL, "the village where it was held",
	  { .key = "village", .type = PT_ID, .required = true } },
	{ "--households", ARGS_CSV, "H1,H2", "the households discussed (1 to 20, of the "
	  "village); separate with commas or repeat",
	  { .key = "households", .type = PT_IDS, .required = true, .min = 1,
	    .max = CONSULT_MAX_DISCUSSED } },
	{ "--participants", ARGS_CSV, "P1,P2", "the cadres who took part (at most 50)",
	  { .key = "participants", .type = PT_IDS, .min = 0, .max = 50 } },
	{ "--residents", ARGS_UINT, "N", "how many residents took part (at most 10000)",
	  { .key = "residents", .type = PT_UINT, .min = 0, .max = 10000 } },
	{ "--summary", ARGS_TEXT, "TEXT", "what was said, up to 4096 bytes ('-': stdin)",
	  { .key = "summary", .type = PT_STR, .min = 0, .max = 4096 } },
	{ "--date", ARGS_STR, "D", "when it was held (default today; not in the future)",
	  { .key = "date", .type = PT_DATE } },
	{ "--problem", ARGS_LIST, "[H1,H2=]TITLE", "a problem it found, opened as a case for "
	  "the households before '=' (default: every one discussed); repeat for more",
	  { .key = NULL } },
	{ "--area", ARGS_STR, "A", "the focus area of the problems' cases: grassroots, "
	  "development or livelihood (default)", { .key = NULL } },
	{ "--lead", ARGS_STR, "P", "who leads the problems' cases (default: the actor)",
	  { .key = NULL } },
};

/* The case.open of one problem, checked as the daemon would. */
enum { K_TITLE, K_KIND, K_SOURCE, K_AREA, K_UNIT, K_LEAD, K_HOUSEHOLDS, K_CONSULTATION,
       K__N };
static const struct args_spec consult_case_spec[K__N] = {
	[K_TITLE] = { "--problem", ARGS_STR, NULL, "",
		      { .key = "title", .type = PT_LINE, .required = true, .min = 1,
			.max = 200 } },
	[K_KIND] = { "--kind", ARGS_CONST, "household_issue", "",
		     { .key = "kind", .type = PT_STR, .min = 1, .max = 32 } },
	[K_SOURCE] = { "--source", ARGS_CONST, "household_consultation", "",
		       { .key = "source", .type = PT_STR, .min = 1, .max = 32 } },
	[K_AREA] = { "--area", ARGS_STR, NULL, "",
		     { .key = "area", .type = PT_STR, .required = true, .min = 1, .max = 32,
		       .oneof = consult_areas } },
	[K_UNIT] = { "VILLAGE", ARGS_STR, NULL, "",
		     { .key = "unit", .type = PT_ID, .required = true } },
	[K_LEAD] = { "--lead", ARGS_STR, NULL, "", { .key = "lead", .type = PT_ID } },
	[K_HOUSEHOLDS] = { "--problem's households", ARGS_LIST, NULL, "",
			   { .key = "households", .type = PT_IDS, .required = true, .min = 1,
			     .max = CONSULT_MAX_CASE } },
	[K_CONSULTATION] = { "--consultation", ARGS_UINT, NULL, "",
			     { .key = "consultation", .type = PT_UINT, .required = true,
			       .min = 1, .max = UINT64_MAX } },
};

struct consult_problem {
	char *copy;		/* of the argument; the title and ids point into it */
	const char *title;
	const char *households[CONSULT_MAX_DISCUSSED];
	size_t n;		/* 0: every household discussed */
	char id[PROTO_MAX_ID + 1];
	uint64_t case_id;
	bool duplicate;
};

struct consult {
	struct run *r;
	struct consult_problem p[CONSULT_MAX_PROBLEMS];
	size_t n;
	const struct args_val *discussed;	/* --households */
	uint64_t seq;			/* the consultation's */
	bool duplicate;
};

/* Does s look like a list of households, as the part before '=' of a problem: only the
 * characters of ids, commas and spaces? (Then it is one, and a mistake in it is said.) */
static bool consult_looks_listed(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-, ", s[i]) == NULL)
			return false;
	return len > 0;
}

static bool consult_discussed(const struct consult *c, const char *id)
{
	for (size_t i = 0; i < c->discussed->n; i++)
		if (strcmp(c->discussed->list[i], id) == 0)
			return true;
	return false;
}

/* Read one --problem into p: "TITLE", "=TITLE" or "H1,H2=TITLE". */
static int consult_parse(struct consult *c, struct consult_problem *p, const char *arg)
{
	char *eq, *id, *next;

	if ((p->copy = strdup(arg)) == NULL)
		return sheet_oom();
	p->title = p->copy;
	if ((eq = strchr(p->copy, '=')) == NULL)
		return CLI_OK;
	if (eq == p->copy) {
		p->title = eq + 1;
		return CLI_OK;
	}
	if (!consult_looks_listed(p->copy, (size_t)(eq - p->copy)))
		return CLI_OK;	/* an '=' inside the title */
	*eq = '\0';
	p->title = eq + 1;
	for (id = p->copy; id != NULL; id = next) {
		if ((next = strchr(id, ',')) != NULL)
			*next++ = '\0';
		id += strspn(id, " ");
		for (size_t n = strlen(id); n > 0 && id[n - 1] == ' '; n--)
			id[n - 1] = '\0';
		if (!proto_id_valid(sheet_cstr(id))) {
			cli_warn("household consult: --problem '%s': '%s' is not a household id "
				 "(the households come before '=', separated by commas)", arg, id);
			return CLI_USAGE;
		}
		if (!consult_discussed(c, id)) {
			cli_warn("household consult: --problem '%s': household '%s' is not among "
				 "the --households discussed (a title with an '=' in it: write "
				 "=TITLE)", arg, id);
			return CLI_USAGE;
		}
		for (size_t i = 0; i < p->n; i++) {
			if (strcmp(p->households[i], id) == 0) {
				cli_warn("household consult: --problem '%s' names '%s' twice", arg,
					 id);
				return CLI_USAGE;
			}
		}
		if (p->n == CONSULT_MAX_DISCUSSED)
			break;
		p->households[p->n++] = id;
	}
	return CLI_OK;
}

/*
 * Pack problem i's case.open into out, naming the consultation seq, and check it.
 * Returns CLI_OK, or CLI_USAGE / CLI_LOCAL after saying why.
 */
static int consult_pack_case(struct consult *c, size_t i, uint64_t seq, proto_out *out)
{
	const struct args_val *area = args_find(c->r->t, "--area");
	const struct args_val *lead = args_find(c->r->t, "--lead");
	const struct args_val *village = args_find(c->r->t, "VILLAGE");
	struct consult_problem *p = &c->p[i];
	struct args_val v[K__N];
	struct args_table t = { consult_case_spec, K__N, v };
	char why[PROTO_WHY];
	int rc;

	memset(v, 0, sizeof v);
	v[K_TITLE] = (struct args_val){ .set = true, .s = p->title, .len = strlen(p->title) };
	v[K_KIND].set = v[K_SOURCE].set = true;
	v[K_AREA] = area->set ? *area : (struct args_val){ .set = true, .s = "livelihood",
							   .len = 10 };
	v[K_UNIT] = *village;
	if (lead->set)
		v[K_LEAD] = *lead;
	if (p->n > 0)
		v[K_HOUSEHOLDS] = (struct args_val){ .set = true, .list = p->households,
						     .n = p->n };
	else
		v[K_HOUSEHOLDS] = (struct args_val){ .set = true, .list = c->discussed->list,
						     .n = c->discussed->n };
	v[K_CONSULTATION] = (struct args_val){ .set = true, .u = seq };
	args_pack(out, "case.open", sheet_cstr(p->id), c->r->actor, &t);
	if ((rc = args_check(out, &t, why, sizeof why)) != CLI_OK) {
		if (p->n == 0 && c->discussed->n > CONSULT_MAX_CASE)
			snprintf(why, sizeof why, "it concerns every one of the %zu households "
				 "discussed, and a case names at most %d: say which (H1,H2=TITLE)",
				 c->discussed->n, CONSULT_MAX_CASE);
		cli_warn("household consult: --problem '%s': %s", p->title, why);
	}
	return rc;
}

/* Parse the problems and check every request before anything is sent. */
static int consult_prepare(struct consult *c)
{
	const struct args_val *problems = args_find(c->r->t, "--problem");
	proto_out out;
	int rc = CLI_OK;

	c->discussed = args_find(c->r->t, "--households");
	if (problems->n > CONSULT_MAX_PROBLEMS) {
		cli_warn("household consult: at most %d --problem a consultation",
			 CONSULT_MAX_PROBLEMS);
		return CLI_USAGE;
	}
	if (problems->n > 0 && c->r->id.len + CONSULT_SUFFIX > PROTO_MAX_ID) {
		cli_warn("household consult: the --request-id is %" PRIu32 " bytes: the problems' "
			 "ids add '.pN' to it, so it may have at most %d", c->r->id.len,
			 PROTO_MAX_ID - CONSULT_SUFFIX);
		return CLI_USAGE;
	}
	proto_out_init(&out);
	for (size_t i = 0; i < problems->n && rc == CLI_OK; i++) {
		c->n++;
		snprintf(c->p[i].id, sizeof c->p[i].id, "%.*s.p%zu", (int)c->r->id.len,
			 c->r->id.ptr, i + 1);
		if ((rc = consult_parse(c, &c->p[i], problems->list[i])) == CLI_OK)
			rc = consult_pack_case(c, i, 1, &out);
	}
	proto_out_fini(&out);
	return rc;
}

/* Open problem i's case, naming the consultation. */
static int consult_open(struct consult *c, size_t i)
{
	static const struct cmd_need needs[] = {
		{ "case", CMD_T(POSITIVE_INTEGER) }, { NULL, 0 }
	};
	struct consult_problem *p = &c->p[i];
	struct conn_reply rep = { .root = NULL };
	proto_out out;
	int rc;

	proto_out_init(&out);
	if ((rc = consult_pack_case(c, i, c->seq, &out)) == CLI_OK) {
		rc = conn_call(&c->r->conn, &out, sheet_cstr(p->id), &rep);
		if (rc == CLI_REFUSED) {
			fflush(stdout);
			fprintf(stderr, "nanti: --problem '%s': ", p->title);
			render_text(stderr, rep.code, 64);
			fputs(": ", stderr);
			render_text(stderr, rep.message, 0);
			fputc('\n', stderr);
		}
		for (const struct cmd_need *n = needs; rc == CLI_OK && n->key != NULL; n++)
			if (!proto_obj_u64(proto_map_get(rep.root, n->key), &p->case_id))
				rc = conn_bad_reply(&c->r->conn, "case.open: no 'case' in the reply");
		p->duplicate = rep.duplicate;
	}
	conn_reply_fini(&rep);
	proto_out_fini(&out);
	return rc;
}

/* The households a problem concerns, for people: "h1, h2". */
static void consult_households(const struct consult *c, const struct consult_problem *p,
			       FILE *f, bool json)
{
	const char *const *list = p->n > 0 ? p->households : c->discussed->list;
	size_t n = p->n > 0 ? p->n : c->discussed->n;

	for (size_t i = 0; i < n; i++) {
		if (json)
			fprintf(f, "%s\"%s\"", i > 0 ? "," : "", list[i]);	/* ids: no escaping */
		else
			fprintf(f, "%s%s", i > 0 ? ", " : "", list[i]);
	}
}

/* What was recorded: the cases opened (the first opened of them); with --json, one object
 * (ok false when a problem is left). */
static void consult_report(const struct consult *c, size_t opened, bool ok)
{
	if (c->r->conf->json) {
		char id[PROTO_MAX_ID + 1];

		snprintf(id, sizeof id, "%.*s", (int)c->r->id.len, c->r->id.ptr);
		printf("{\"ok\":%s,\"id\":", ok ? "true" : "false");
		sheet_json_str(stdout, id);
		printf(",\"consultation\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"duplicate\":%s,"
		       "\"cases\":[", c->seq, c->seq, c->duplicate ? "true" : "false");
		for (size_t i = 0; i < opened; i++) {
			printf("%s{\"case\":%" PRIu64 ",\"id\":", i > 0 ? "," : "", c->p[i].case_id);
			sheet_json_str(stdout, c->p[i].id);
			fputs(",\"title\":", stdout);
			sheet_json_str(stdout, c->p[i].title);
			fputs(",\"households\":[", stdout);
			consult_households(c, &c->p[i], stdout, true);
			printf("],\"duplicate\":%s}", c->p[i].duplicate ? "true" : "false");
		}
		fputs("]}\n", stdout);
		return;
	}
	for (size_t i = 0; i < opened; i++) {
		printf("case %" PRIu64 " opened", c->p[i].case_id);
		fputs(" for ", stdout);
		consult_households(c, &c->p[i], stdout, false);
		fputs(": ", stdout);
		render_text(stdout, sheet_cstr(c->p[i].title), 0);
		puts(c->p[i].duplicate ? " (duplicate: opened already)" : "");
	}
}

int consult_run(struct run *r)
{
	static const struct cmd_need needs[] = {
		{ "consultation", CMD_T(POSITIVE_INTEGER) }, { NULL, 0 }
	};
	struct consult c = { .r = r };
	struct conn_reply rep = { .root = NULL };
	size_t opened = 0;
	proto_out out;
	int rc;

	proto_out_init(&out);
	if ((rc = consult_prepare(&c)) != CLI_OK ||
	    (rc = cmd_start(r, "household.consult", r->t, &out)) != CLI_OK)
		goto out;
	rc = cmd_send(r, &out, needs, &rep);
	if (rc == CLI_REFUSED && r->conf->json)
		render_json(stdout, rep.root);
	if (rc != CLI_OK)
		goto out;
	proto_obj_u64(proto_map_get(rep.root, "consultation"), &c.seq);
	c.duplicate = rep.duplicate;
	if (!r->conf->json) {
		printf("consultation recorded in %s as seq %" PRIu64 "%s\n",
		       args_find(r->t, "VILLAGE")->s, c.seq,
		       c.duplicate ? " (duplicate: already recorded)" : "");
	}
	for (; opened < c.n && rc == CLI_OK; opened++)
		if ((rc = consult_open(&c, opened)) != CLI_OK)
			break;
	consult_report(&c, opened, rc == CLI_OK);
	if (rc != CLI_OK) {
		cli_warn("household consult: the consultation is recorded (seq %" PRIu64 ") with "
			 "%zu of its %zu problems opened; to finish, run the same command again "
			 "with --request-id %.*s: nothing is recorded twice", c.seq, opened, c.n,
			 (int)r->id.len, r->id.ptr);
	}
out:
	conn_reply_fini(&rep);
	proto_out_fini(&out);
	for (size_t i = 0; i < c.n; i++)
		free(c.p[i].copy);
	return rc;
}
