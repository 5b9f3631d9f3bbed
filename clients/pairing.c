/*
 * pairing.c - one household, one cadre (一户一干部) in bulk (pairing.h; docs/client.md,
 * "Households").
 *
 * `nanti pair import FILE.csv` pairs thousands of households with their cadres from the
 * list a county draws up in a spreadsheet. It is an import like the others (sheet.c):
 * the whole file is checked first, and nothing is sent if any row is wrong. The ledger's
 * side is asked row by row but many at a time: household.get of every household (it must
 * exist and be readable, and says its village, for who may pair it, and its cadre now) and
 * person.get of every cadre (it must exist and hold a pairing role). A row already paired
 * so is not sent, so importing the same list again sends nothing, and a household paired
 * with someone else is paired anew (the daemon replaces the cadre and remembers the one
 * before). Who may pair a household is the rule of docs/protocol.md section 9, asked once
 * of the ledger (households_reach()).
 *
 * `nanti pair list` is the list a unit publishes: every page of household.pairings, by
 * unit then by cadre, each cadre's households under them, with the names of the units
 * and villages (one unit.list of the county); or one CSV line per pairing for the office's
 * spreadsheet. A cadre not yet paired is on it too: the list shows who still has none.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "households.h"
#include "pairing.h"
#include "pipeline.h"
#include "render.h"
#include "sheet.h"

#define PR_MAX_BYTES	(64u << 20)	/* a file */
#define PR_MAX_ROWS	500000		/* rows of a file */
#define PR_WINDOW	384		/* requests in flight (the daemon holds 512) */

enum { C_HOUSEHOLD, C_CADRE, PR_COLS };

static const char *const pr_cols[PR_COLS + 1] = { "household", "cadre", NULL };

static const struct sheet_spec pr_sheet = {
	"pairings", "pair import", pr_cols, 0, PR_MAX_BYTES, PR_MAX_ROWS
};

const struct args_spec pairing_import_spec[PAIRING_IMPORT_NSPEC] = {
	{ "FILE", ARGS_STR, NULL, "the CSV file of household,cadre rows (UTF-8, a header row; "
	  "'-': stdin)", { .key = NULL } },
	{ "--check", ARGS_FLAG, NULL, "check the file against itself and the ledger, and send "
	  "nothing", { .key = NULL } },
};

const struct args_spec pairing_list_spec[PAIRING_LIST_NSPEC] = {
	{ "--unit", ARGS_STR, "U", "the pairing cadres of unit U and the units below it "
	  "(default: the county)", { .key = "unit", .type = PT_ID } },
	{ "--after", ARGS_STR, "ID", "only cadres whose id sorts after ID",
	  { .key = "after", .type = PT_ID } },
	{ "--csv", ARGS_FLAG, NULL, "one CSV line per pairing: unit, unit_name, cadre, "
	  "cadre_name, household, village, village_name, category, head", { .key = NULL } },
};

/* The roles a cadre who pairs holds one of (household.pair). */
static const char *const pr_pairing_roles[] = {
	"county_leader", "leader", "unit_head", "cadre", "resident_cadre", NULL
};

/* What the ledger says of a household (struct sheet_id's kind) and of a cadre. */
#define PR_FOUND	0	/* there, and for a cadre: holds a pairing role */
#define PR_UNREADABLE	1	/* household: the actor may not read it */
#define PR_NOT_CADRE	1	/* person: holds no pairing role, or is of a village */
#define PR_MAY		1u	/* household flag: the actor may pair it */
#define PR_VILLAGE	3	/* a unit's kind: a village (the daemon's UNIT_VILLAGE) */

enum pr_state {
	PR_NEW,		/* not paired: sent */
	PR_SAME,	/* paired with this cadre already: not sent */
	PR_OTHER,	/* paired with another cadre: sent */
};

struct pr_row {
	uint32_t line;
	uint32_t first_line;		/* the line of an earlier row of its household; 0: none */
	uint16_t nfields;
	bool misfit;
	uint8_t state;			/* enum pr_state */
	proto_str v[PR_COLS];
	char *village;			/* a household the actor may not pair: its village */
};

struct pr_import {
	struct run *r;
	struct sheet sh;
	proto_str actor;
	struct pr_row *row;
	size_t nrows, caprows;
	struct sheet_ids households, cadres;
	char **cadre_unit;		/* by entry of cadres: the unit of a pairing cadre */
	struct sheet_ids units;		/* those units: is one a village? */
	struct households_reach reach;
	struct pipeline pl;
	struct sheet_tally tally;
	size_t counts[3];
};

static int pr_row(void *arg, uint32_t line, const proto_str *v, size_t n)
{
	struct pr_import *p = arg;
	struct pr_row *w;

	if (p->nrows == p->caprows) {
		size_t cap = p->caprows ? p->caprows * 2 : 256;
		struct pr_row *grown = realloc(p->row, cap * sizeof *grown);

		if (grown == NULL)
			return sheet_oom();
		p->row = grown;
		p->caprows = cap;
	}
	w = &p->row[p->nrows++];
	memset(w, 0, sizeof *w);
	w->line = line;
	if (v == NULL) {
		w->misfit = true;
		w->nfields = (uint16_t)n;
		return CLI_OK;
	}
	w->v[C_HOUSEHOLD] = v[C_HOUSEHOLD];
	w->v[C_CADRE] = v[C_CADRE];
	return CLI_OK;
}

/* The first pass: the households and cadres to ask about; a household twice. */
static int pr_learn(struct pr_import *p)
{
	for (size_t i = 0; i < p->nrows; i++) {
		struct pr_row *w = &p->row[i];
		struct sheet_id *e;

		if (w->misfit)
			continue;
		if (proto_id_valid(w->v[C_HOUSEHOLD])) {
			if ((e = sheet_id_add(&p->households, w->v[C_HOUSEHOLD])) == NULL)
				return sheet_oom();
			if (e->row < 0)
				e->row = (int32_t)i;
			else
				w->first_line = p->row[e->row].line;
		}
		if (proto_id_valid(w->v[C_CADRE]) && sheet_id_add(&p->cadres, w->v[C_CADRE]) == NULL)
			return sheet_oom();
	}
	return CLI_OK;
}

/* ---- asking the ledger ---- */

/* household.get: it exists; may the actor pair it; is its row paired so already? */
static int pr_household_reply(void *arg, struct sheet_id *e, int rc,
			      const struct pipeline_reply *rep)
{
	struct pr_import *p = arg;
	const msgpack_object *h = proto_map_get(rep->root, "household");
	struct pr_row *w = &p->row[e->row];
	proto_str village, cadre;

	if (rc == CLI_REFUSED && (proto_str_eq(rep->code, "not_found") ||
				  proto_str_eq(rep->code, "forbidden"))) {
		e->kind = proto_str_eq(rep->code, "not_found") ? SHEET_ABSENT : PR_UNREADABLE;
		return CLI_OK;
	}
	if (rc == CLI_REFUSED) {
		sheet_bar_clear(&p->sh);
		sheet_refused_read("household.get", rep->code, rep->message);
		return rc;
	}
	if (!proto_obj_str(proto_map_get(h, "village"), &village))
		return conn_bad_reply(&p->r->conn, "household.get: a household without a village");
	e->kind = PR_FOUND;
	if (households_may(&p->reach, village, true))
		e->flags |= PR_MAY;
	else if ((w->village = strndup(village.ptr, village.len)) == NULL)
		return sheet_oom();
	if (!proto_obj_str(proto_map_get(h, "cadre"), &cadre))
		w->state = PR_NEW;
	else
		w->state = sheet_eq(cadre, w->v[C_CADRE]) ? PR_SAME : PR_OTHER;
	return CLI_OK;
}

/* person.get: the cadre exists and holds a pairing role; the unit they are of, to ask
 * whether it is a village (a village's own cadres do not pair: household.pair). */
static int pr_cadre_reply(void *arg, struct sheet_id *e, int rc, const struct pipeline_reply *rep)
{
	struct pr_import *p = arg;
	const msgpack_object *person = proto_map_get(rep->root, "person"), *roles;
	proto_str role, unit;

	if (rc == CLI_REFUSED && proto_str_eq(rep->code, "not_found")) {
		e->kind = SHEET_ABSENT;
		return CLI_OK;
	}
	if (rc == CLI_REFUSED) {
		sheet_bar_clear(&p->sh);
		sheet_refused_read("person.get", rep->code, rep->message);
		return rc;
	}
	roles = proto_map_get(person, "roles");
	e->kind = PR_NOT_CADRE;
	for (uint32_t i = 0; roles != NULL && roles->type == MSGPACK_OBJECT_ARRAY &&
			     i < roles->via.array.size; i++)
		if (proto_obj_str(&roles->via.array.ptr[i], &role) &&
		    sheet_enum(pr_pairing_roles, role) >= 0)
			e->kind = PR_FOUND;
	if (e->kind != PR_FOUND)
		return CLI_OK;
	if (!proto_obj_str(proto_map_get(person, "unit"), &unit) || !proto_id_valid(unit))
		return conn_bad_reply(&p->r->conn, "person.get: a person without a unit");
	if ((p->cadre_unit[e - p->cadres.e] = strndup(unit.ptr, unit.len)) == NULL)
		return sheet_oom();
	return CLI_OK;
}

/* unit.get of a cadre's unit: its kind. */
static int pr_unit_reply(void *arg, struct sheet_id *e, int rc, const struct pipeline_reply *rep)
{
	struct pr_import *p = arg;
	proto_str kind;

	if (rc == CLI_REFUSED) {
		sheet_bar_clear(&p->sh);
		sheet_refused_read("unit.get", rep->code, rep->message);
		return rc;
	}
	e->kind = proto_obj_str(proto_map_get(proto_map_get(rep->root, "unit"), "kind"), &kind) &&
		  proto_str_eq(kind, "village") ? PR_VILLAGE : 0;
	return CLI_OK;
}

/* A pairing cadre of a village is not one (perm_pairing_cadre() in the daemon). */
static int pr_cadre_units(struct pr_import *p)
{
	int rc;

	for (size_t i = 0; i < p->cadres.cap; i++)
		if (p->cadre_unit[i] != NULL &&
		    sheet_id_add(&p->units, sheet_cstr(p->cadre_unit[i])) == NULL)
			return sheet_oom();
	if ((rc = sheet_lookup(&p->sh, &p->pl, &p->units, "unit.get", "unit", pr_unit_reply,
			       p)) != CLI_OK)
		return rc;
	for (size_t i = 0; i < p->cadres.cap; i++)
		if (p->cadre_unit[i] != NULL &&
		    sheet_id_find(&p->units, sheet_cstr(p->cadre_unit[i]))->kind == PR_VILLAGE)
			p->cadres.e[i].kind = PR_NOT_CADRE;
	return CLI_OK;
}

static int pr_ask(struct pr_import *p)
{
	char q[SHEET_Q];
	int rc;

	if ((rc = pipeline_open(&p->pl, &p->r->conn, PR_WINDOW)) != CLI_OK ||
	    (rc = households_reach(&p->sh, p->actor, &p->reach)) != CLI_OK)
		return rc;
	if (!p->reach.person) {
		cli_warn("pair import: the actor %s is not a person in the ledger (--actor names "
			 "who imports); nothing was sent", sheet_q(q, p->actor));
		return CLI_REFUSED;
	}
	if ((p->cadre_unit = calloc(p->cadres.cap + 1, sizeof *p->cadre_unit)) == NULL)
		return sheet_oom();
	sheet_bar_start(&p->sh, "checking", p->households.n + p->cadres.n);
	if ((rc = sheet_lookup(&p->sh, &p->pl, &p->households, "household.get", "household",
			       pr_household_reply, p)) != CLI_OK ||
	    (rc = sheet_lookup(&p->sh, &p->pl, &p->cadres, "person.get", "person",
			       pr_cadre_reply, p)) != CLI_OK ||
	    (rc = pr_cadre_units(p)) != CLI_OK)
		return rc;
	sheet_bar_clear(&p->sh);
	return CLI_OK;
}

/* ---- checking: the report ---- */

static void pr_error(struct pr_import *p, const struct pr_row *w, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void pr_error(struct pr_import *p, const struct pr_row *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sheet_verror(&p->sh, w->line, fmt, ap);
	va_end(ap);
}

/* An id field (what: "the household"): true if it is one. */
static bool pr_check_id(struct pr_import *p, const struct pr_row *w, proto_str s,
			const char *what)
{
	char q[SHEET_Q];

	if (s.len == 0)
		pr_error(p, w, "%s is empty", what);
	else if (!proto_id_valid(s))
		pr_error(p, w, "%s %s is not an id: 1 to 64 letters, digits, '.', '_' or '-', "
			 "beginning with a letter or digit", what, sheet_q(q, s));
	return s.len > 0 && proto_id_valid(s);
}

static void pr_check_row(struct pr_import *p, const struct pr_row *w)
{
	proto_str h = w->v[C_HOUSEHOLD], c = w->v[C_CADRE];
	const struct sheet_id *e;
	char q[SHEET_Q], q2[SHEET_Q], q3[SHEET_Q];

	if (pr_check_id(p, w, h, "the household")) {
		e = sheet_id_find(&p->households, h);
		if (w->first_line > 0)
			pr_error(p, w, "household %s again: it is on line %" PRIu32 " already; a "
				 "household has one cadre", sheet_q(q, h), w->first_line);
		else if (e->kind == SHEET_ABSENT)
			pr_error(p, w, "no household %s in the ledger (import the register first)",
				 sheet_q(q, h));
		else if (e->kind == PR_UNREADABLE)
			pr_error(p, w, "household %s is not one the actor %s may read, or pair",
				 sheet_q(q, h), sheet_q(q2, p->actor));
		else if (!(e->flags & PR_MAY))
			pr_error(p, w, "the actor %s may not pair household %s of %s: an admin, the "
				 "theme office or a unit head whose reach holds the village may",
				 sheet_q(q, p->actor), sheet_q(q2, h),
				 sheet_q(q3, sheet_cstr(w->village != NULL ? w->village : "?")));
	}
	if (pr_check_id(p, w, c, "the cadre")) {
		e = sheet_id_find(&p->cadres, c);
		if (e->kind == SHEET_ABSENT)
			pr_error(p, w, "no person %s in the ledger", sheet_q(q, c));
		else if (e->kind == PR_NOT_CADRE)
			pr_error(p, w, "%s cannot be paired with a household: pairing cadres are "
				 "county leaders, leadership members, unit heads and cadres of a "
				 "township, street, organ or the county", sheet_q(q, c));
	}
}

static void pr_check(struct pr_import *p)
{
	for (size_t i = 0; i < p->nrows; i++) {
		const struct pr_row *w = &p->row[i];

		sheet_syntax_until(&p->sh, w->line);
		if (w->misfit)
			sheet_misfit(&p->sh, w->line, w->nfields);
		else
			pr_check_row(p, w);
	}
	sheet_syntax_until(&p->sh, UINT32_MAX);
}

/* ---- sending ---- */

static int pr_phase(void *arg, size_t i)
{
	return ((struct pr_import *)arg)->row[i].state == PR_SAME ? -1 : 0;
}

static void pr_pack(void *arg, size_t i, const char *id, proto_out *out)
{
	struct pr_import *p = arg;
	const struct pr_row *w = &p->row[i];

	proto_out_reset(out);
	msgpack_pack_map(&out->pk, 5);
	proto_kv_cstr(out, "op", "household.pair");
	proto_kv_cstr(out, "id", id);
	proto_kv_str(out, "actor", p->actor);
	proto_kv_str(out, "household", w->v[C_HOUSEHOLD]);
	proto_kv_str(out, "cadre", w->v[C_CADRE]);
}

/* A pairing that replaces another cadre counts as "updated" (re-paired). */
static bool pr_existed(void *arg, size_t i)
{
	return ((struct pr_import *)arg)->row[i].state == PR_OTHER;
}

/* ---- the import ---- */

static void pr_import_fini(struct pr_import *p)
{
	pipeline_close(&p->pl);
	households_reach_fini(&p->reach);
	for (size_t i = 0; p->cadre_unit != NULL && i < p->cadres.cap; i++)
		free(p->cadre_unit[i]);
	free(p->cadre_unit);
	sheet_ids_fini(&p->households);
	sheet_ids_fini(&p->cadres);
	sheet_ids_fini(&p->units);
	for (size_t i = 0; i < p->nrows; i++)
		free(p->row[i].village);
	free(p->row);
	sheet_fini(&p->sh);
}

static void pr_checked(struct pr_import *p)
{
	size_t *n = p->counts;

	if (p->r->conf->json) {
		sheet_json_head(&p->sh, true);
		printf(",\"check\":true,\"rows\":%zu,\"new\":%zu,\"changed\":%zu,\"unchanged\":%zu}\n",
		       p->nrows, n[PR_NEW], n[PR_OTHER], n[PR_SAME]);
	} else {
		printf("pairings: %zu rows, all valid: %zu to pair, %zu to pair anew (now with "
		       "another cadre), %zu paired so already (checked only: nothing sent)\n",
		       p->nrows, n[PR_NEW], n[PR_OTHER], n[PR_SAME]);
	}
}

static void pr_summary(struct pr_import *p)
{
	const struct sheet_tally *t = &p->tally;
	size_t same = p->counts[PR_SAME];

	if (p->r->conf->json) {
		sheet_json_head(&p->sh, true);
		sheet_json_counts(t, p->nrows, same);
		printf(",\"sent\":%zu", t->sent);
		if (t->sent > 0)	/* the seq the puts brought the ledger to */
			printf(",\"seq\":%" PRIu64, t->seq);
		printf(",\"seconds\":%.3f}\n", sheet_seconds(&p->sh));
		return;
	}
	printf("pairings: %zu rows: %zu paired, %zu paired anew, %zu unchanged (%.2f s)\n",
	       p->nrows, t->created, t->updated, t->unchanged + same, sheet_seconds(&p->sh));
}

int pairing_import_run(struct run *r)
{
	const struct sheet_tally *t;
	struct pr_import p;
	int rc;

	memset(&p, 0, sizeof p);
	p.r = r;
	t = &p.tally;
	sheet_init(&p.sh, &pr_sheet, r, args_find(r->t, "FILE")->s);
	if (r->conf->actor == NULL || r->conf->actor[0] == '\0') {
		cli_warn("%s: no actor: give --actor NAME or set NANTI_ACTOR", r->cmd->name);
		return CLI_USAGE;
	}
	p.actor = sheet_cstr(r->conf->actor);
	if (p.actor.len > PROTO_MAX_ACTOR) {
		cli_warn("%s: the actor is longer than %d bytes", r->cmd->name, PROTO_MAX_ACTOR);
		return CLI_USAGE;
	}
	if ((rc = sheet_read(&p.sh)) != CLI_OK ||
	    (rc = sheet_parse(&p.sh, pr_row, &p)) != CLI_OK || (rc = pr_learn(&p)) != CLI_OK ||
	    (rc = pr_ask(&p)) != CLI_OK)
		goto out;
	pr_check(&p);
	if (p.sh.errors > 0) {
		rc = CLI_REFUSED;
		goto out;
	}
	for (size_t i = 0; i < p.nrows; i++)
		p.counts[p.row[i].state]++;
	if (args_find(r->t, "--check")->set) {
		pr_checked(&p);
		goto out;
	}
	sheet_bar_start(&p.sh, "applying", p.nrows - p.counts[PR_SAME]);
	rc = sheet_apply(&p.sh, &p.pl, &(const struct sheet_puts){
				 p.nrows, 1, pr_phase, pr_pack, pr_existed, &p, NULL }, &p.tally);
	if (rc != CLI_OK) {
		cli_warn("pair import: %zu of %zu rows confirmed in the ledger; the others may or "
			 "may not be: importing the file again is safe and finishes it",
			 t->created + t->updated + t->unchanged + p.counts[PR_SAME], p.nrows);
		goto out;
	}
	if (t->stop)
		rc = sheet_refusal(&p.sh, t, p.row[t->refused_row].line, p.nrows,
				   p.counts[PR_SAME]);
	else
		pr_summary(&p);
out:
	if (p.sh.errors > 0 && rc == CLI_REFUSED && !t->stop)
		rc = sheet_invalid(&p.sh);
	pr_import_fini(&p);
	return rc;
}

/* ---- the pairing list ---- */

/* A unit's name, for the list's headings and villages. */
struct pr_unit {
	char *id, *name;
};

struct pr_list {
	struct run *r;
	struct pr_unit *unit;
	size_t nunits, capunits;
	bool oom;
};

/* unit.list: every unit's name. */
static bool pr_unit_item(void *arg, const msgpack_object *item)
{
	struct pr_list *l = arg;
	proto_str id, name;

	if (!proto_obj_str(proto_map_get(item, "unit"), &id) ||
	    !proto_obj_str(proto_map_get(item, "name"), &name))
		return true;
	if (l->nunits == l->capunits) {
		size_t cap = l->capunits ? l->capunits * 2 : 256;
		struct pr_unit *grown = realloc(l->unit, cap * sizeof *grown);

		if (grown == NULL) {
			l->oom = true;
			return false;
		}
		l->unit = grown;
		l->capunits = cap;
	}
	l->unit[l->nunits].id = strndup(id.ptr, id.len);
	l->unit[l->nunits].name = strndup(name.ptr, name.len);
	if (l->unit[l->nunits].id == NULL || l->unit[l->nunits].name == NULL) {
		free(l->unit[l->nunits].id);
		free(l->unit[l->nunits].name);
		l->oom = true;
		return false;
	}
	l->nunits++;
	return true;
}

/* The name of unit id ("" if it is not known); units come from unit.list in id order. */
static proto_str pr_unit_name(const struct pr_list *l, proto_str id)
{
	size_t lo = 0, hi = l->nunits;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = proto_str_cmp(sheet_cstr(l->unit[mid].id), id);

		if (c == 0)
			return sheet_cstr(l->unit[mid].name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return PROTO_STR_NULL;
}

static proto_str pr_str(const msgpack_object *map, const char *key)
{
	proto_str s = PROTO_STR_NULL;

	proto_obj_str(proto_map_get(map, key), &s);
	return s;
}

/* By unit, then by cadre (the reply is by cadre). */
static int pr_by_unit(const void *a, const void *b)
{
	const msgpack_object *x = *(const msgpack_object *const *)a;
	const msgpack_object *y = *(const msgpack_object *const *)b;
	int c = proto_str_cmp(pr_str(x, "unit"), pr_str(y, "unit"));

	return c != 0 ? c : proto_str_cmp(pr_str(x, "cadre"), pr_str(y, "cadre"));
}

static const msgpack_object *pr_households(const msgpack_object *cadre)
{
	const msgpack_object *h = proto_map_get(cadre, "households");

	return h != NULL && h->type == MSGPACK_OBJECT_ARRAY ? h : NULL;
}

/* "下溪村 xiaxi", or the id alone when its name is not known. */
static void pr_named(char *buf, size_t n, const struct pr_list *l, proto_str id)
{
	proto_str name = pr_unit_name(l, id);

	if (name.len > 0)
		snprintf(buf, n, "%.*s %.*s", (int)name.len, name.ptr, (int)id.len, id.ptr);
	else
		snprintf(buf, n, "%.*s", (int)id.len, id.ptr);
}

/* One CSV line per pairing (a cadre without any: one line, the household's fields empty). */
static void pr_csv(const struct pr_list *l, const msgpack_object *const *rows, size_t n)
{
	static const char *const hkeys[] = { "household", "village", NULL, "category", "head" };

	puts("unit,unit_name,cadre,cadre_name,household,village,village_name,category,head");
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *hs = pr_households(rows[i]);
		uint32_t k = 0;

		do {
			const msgpack_object *hh = hs != NULL && k < hs->via.array.size ?
						   &hs->via.array.ptr[k] : NULL;

			sheet_csv_field(stdout, pr_str(rows[i], "unit"));
			putchar(',');
			sheet_csv_field(stdout, pr_unit_name(l, pr_str(rows[i], "unit")));
			putchar(',');
			sheet_csv_field(stdout, pr_str(rows[i], "cadre"));
			putchar(',');
			sheet_csv_field(stdout, pr_str(rows[i], "name"));
			for (size_t c = 0; c < sizeof hkeys / sizeof hkeys[0]; c++) {
				putchar(',');
				if (hh == NULL)
					continue;
				if (hkeys[c] == NULL)
					sheet_csv_field(stdout,
							pr_unit_name(l, pr_str(hh, "village")));
				else
					sheet_csv_field(stdout, pr_str(hh, hkeys[c]));
			}
			putchar('\n');
		} while (hs != NULL && ++k < hs->via.array.size);
	}
}

/* The cells of one line of the table: cadre, name, household, village, category, head. */
#define PR_CELLS	6
#define PR_CELL_MAX	40	/* columns of a cell, at most */

static void pr_cells(const struct pr_list *l, const msgpack_object *cadre,
		     const msgpack_object *hh, bool first, char village[160],
		     proto_str cell[PR_CELLS])
{
	cell[0] = first ? pr_str(cadre, "cadre") : PROTO_STR_NULL;
	cell[1] = first ? pr_str(cadre, "name") : PROTO_STR_NULL;
	if (hh == NULL) {
		cell[2] = sheet_cstr("(no household yet)");
		cell[3] = cell[4] = cell[5] = PROTO_STR_NULL;
		return;
	}
	pr_named(village, 160, l, pr_str(hh, "village"));
	cell[2] = pr_str(hh, "household");
	cell[3] = sheet_cstr(village);
	cell[4] = pr_str(hh, "category");
	cell[5] = pr_str(hh, "head");
}

/* Every line of the table, measured (widths) or written (f). */
static void pr_lines(const struct pr_list *l, const msgpack_object *const *rows, size_t n,
		     size_t width[PR_CELLS], FILE *f)
{
	proto_str unit = PROTO_STR_NULL, cell[PR_CELLS];
	char village[160], heading[200];

	for (size_t i = 0; i < n; i++) {
		const msgpack_object *hs = pr_households(rows[i]);
		uint32_t k = 0;
		size_t last;

		if (f != NULL && (i == 0 || !sheet_eq(unit, pr_str(rows[i], "unit")))) {
			unit = pr_str(rows[i], "unit");
			pr_named(heading, sizeof heading, l, unit);
			fputc('\n', f);
			render_text(f, sheet_cstr(heading), 0);
			fputc('\n', f);
		}
		do {
			const msgpack_object *hh = hs != NULL && k < hs->via.array.size ?
						   &hs->via.array.ptr[k] : NULL;

			pr_cells(l, rows[i], hh, k == 0, village, cell);
			for (last = PR_CELLS - 1; last > 0 && cell[last].len == 0; last--)
				;
			for (size_t c = 0; c <= last; c++) {
				size_t w = render_columns(cell[c]);

				if (f == NULL) {
					/* "(no household yet)" ends its line: it widens nothing */
					if (hh != NULL || c != 2)
						width[c] = w > width[c] ? w : width[c];
					continue;
				}
				fputs("  ", f);
				if (c == last)
					render_text(f, cell[c], 0);
				else
					render_padded(f, cell[c], width[c], PR_CELL_MAX);
			}
			if (f != NULL)
				fputc('\n', f);
		} while (hs != NULL && ++k < hs->via.array.size);
	}
}

static void pr_table(const struct pr_list *l, const msgpack_object *const *rows, size_t n,
		     const char *unit)
{
	size_t width[PR_CELLS] = { 0 }, households = 0;

	for (size_t i = 0; i < n; i++)
		households += pr_households(rows[i]) != NULL ?
			      pr_households(rows[i])->via.array.size : 0;
	printf("pairing list (一户一干部) of ");
	if (unit != NULL) {
		char named[200];

		pr_named(named, sizeof named, l, sheet_cstr(unit));
		render_text(stdout, sheet_cstr(named), 0);
		fputs(" and the units below it", stdout);
	} else {
		fputs("the county", stdout);
	}
	printf(": %zu cadre%s, %zu household%s\n", n, n == 1 ? "" : "s", households,
	       households == 1 ? "" : "s");
	pr_lines(l, rows, n, width, NULL);
	for (size_t c = 0; c < PR_CELLS; c++)
		width[c] = width[c] > PR_CELL_MAX ? PR_CELL_MAX : width[c];
	pr_lines(l, rows, n, width, stdout);
}

int pairing_list_run(struct run *r)
{
	const struct args_val *unit = args_find(r->t, "--unit");
	struct cmd_pages p = { NULL, 0, NULL, 0 };
	struct pr_list l = { .r = r };
	const msgpack_object *next = NULL;
	const msgpack_object **rows = NULL;
	int rc;

	if ((rc = cmd_pages_read(r, "items", true, 0, &p, &next)) != CLI_OK)
		goto out;
	if (r->conf->json) {
		printf("{\"ok\":true,\"seq\":%" PRIu64 ",\"items\":[", p.page[p.npages - 1]->seq);
		for (size_t i = 0; i < p.nrows; i++) {
			fputs(i > 0 ? "," : "", stdout);
			proto_json(stdout, p.row[i]);
		}
		fputs("],\"next\":null}\n", stdout);
		goto out;
	}
	if ((rc = sheet_list(r, "unit.list", NULL, 0, SHEET_PAGE, pr_unit_item, &l)) != CLI_OK)
		goto out;
	if (l.oom || (rows = malloc((p.nrows + 1) * sizeof *rows)) == NULL) {
		rc = sheet_oom();
		goto out;
	}
	memcpy(rows, p.row, p.nrows * sizeof *rows);
	qsort(rows, p.nrows, sizeof *rows, pr_by_unit);
	if (args_find(r->t, "--csv")->set)
		pr_csv(&l, rows, p.nrows);
	else
		pr_table(&l, rows, p.nrows, unit->set ? unit->s : NULL);
out:
	free(rows);
	for (size_t i = 0; i < l.nunits; i++) {
		free(l.unit[i].id);
		free(l.unit[i].name);
	}
	free(l.unit);
	cmd_pages_fini(&p);
	return rc;
}
