/*
 * import.c - `nanti import units FILE.csv` and `nanti import people FILE.csv`.
 *
 * An operator sets a county up from a spreadsheet: hundreds of units, thousands of people.
 * What matters is that a file with mistakes changes nothing, that a good file goes in
 * quickly, and that importing the same file again is harmless.
 *
 * All or nothing, by checking first (sheet.c holds the machinery every import shares: the
 * file, its rows and lines, the report, the bar, the questions to the ledger, the puts).
 * The whole file is checked before anything is sent, against every rule the daemon would
 * apply: the form of each field, a row repeated in the file, and the references and the
 * rules of the tree, with the ledger's side of them asked of the daemon first (unit.get,
 * person.get, and lists of the county and the admins). Every mistake is reported, each
 * with the physical line of the file it is on, and if there is any, no write is sent.
 * Only a change made to the ledger by someone else between the check and the puts can make
 * the daemon refuse a row now; then the import stops, says what was applied, and running
 * it again finishes.
 *
 * The work splits as the house style wants: the checks are functions of the file and of
 * what the ledger said (struct sheet_id), with no I/O but their report, run in two
 * passes: the first, silent, learns every id, kind and role so that a row may name a
 * parent that comes later in the file; the second, after the lookups, checks each row in
 * line order and prints its errors, so the report comes out sorted without being stored.
 * Around them sit the file, the daemon and the terminal.
 *
 * Speed: lookups and puts go over one DEALER socket with a window of requests in flight
 * (pipeline.c), so the daemon folds them into few group commits. The puts go in the order
 * of the tree, one level at a time (the county; townships, streets and organs; villages),
 * each level waiting for the level above to be confirmed. People go in an order that keeps
 * the admin rules (protocol.md section 9) true at every step: during the bootstrap, the
 * actor's own row first; rows that take the admin role away after those that give it, and
 * the actor's own last.
 *
 * Bounds: a file of at most IMPORT_MAX_BYTES, read whole into memory, and at most
 * IMPORT_MAX_ROWS rows; fields point into the file's buffer (csv.c unescapes in place).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "proto.h"
#include "pipeline.h"
#include "sheet.h"

#define IMPORT_MAX_BYTES (64u << 20)	/* a file; far beyond a county's units and people */
#define IMPORT_MAX_ROWS	100000		/* rows of a file */
#define IMPORT_WINDOW	128		/* requests in flight */
#define IMPORT_NAME_MAX	100		/* bytes in a name (the daemon's MODEL_MAX_NAME) */
#define IMPORT_COLS	5		/* columns of a file, at most */

/* Unit kinds and roles, as the daemon names them (daemon/model.c): a kind is its index,
 * a role its bit. */
static const char *const import_kinds[] = {
	"county", "township", "street", "village", "organ", NULL
};
enum { KIND_COUNTY, KIND_TOWNSHIP, KIND_STREET, KIND_VILLAGE, KIND_ORGAN };
static const char *const import_roles[] = {
	"cadre", "resident_cadre", "leader", "unit_head", "county_leader", "theme_office",
	"supervision", "admin", NULL
};
#define ROLE_RESIDENT	(1u << 1)
#define ROLE_ADMIN	(1u << 7)

/* Columns: the id and the name come first in both kinds. */
enum { C_ID, C_NAME, C_KIND = 2, C_PARENT = 3, C_UNIT = 2, C_ROLES = 3, C_VILLAGE = 4 };

/* The flags of an id in the people table (struct sheet_id). */
#define IMPORT_ADMIN	1u		/* holds admin in the ledger */

struct import_kind {
	bool people;
	struct sheet_spec sheet;	/* its columns and bounds */
	const char *record;	/* "unit": the put's key, and the column of the id */
	const char *put, *get;	/* the ops */
	int phases;		/* of the apply (import_phases()) */
};

static const char *const import_unit_cols[] = { "unit", "name", "kind", "parent", NULL };
static const char *const import_person_cols[] = {
	"person", "name", "unit", "roles", "village", NULL
};

const struct import_kind import_units = {
	false, { "units", "import units", import_unit_cols, 1u << C_PARENT, IMPORT_MAX_BYTES,
		 IMPORT_MAX_ROWS },
	"unit", "unit.put", "unit.get", 3
};
const struct import_kind import_people = {
	true, { "people", "import people", import_person_cols, 1u << C_VILLAGE,
		IMPORT_MAX_BYTES, IMPORT_MAX_ROWS },
	"person", "person.put", "person.get", 4
};

const struct args_spec import_spec[IMPORT_NSPEC] = {
	{ "FILE", ARGS_STR, NULL, "the CSV file (UTF-8, a header row naming the columns; "
	  "'-': stdin)", { .key = NULL } },
	{ "--check", ARGS_FLAG, NULL, "check the file against itself and the ledger, and send "
	  "nothing", { .key = NULL } },
};

struct import_row {
	uint32_t line;			/* the physical line it starts on */
	proto_str v[IMPORT_COLS];	/* by column; an absent column is empty */
	int8_t kind;			/* units: the kind, -1 if it is not one */
	int16_t roles;			/* people: the role bits, -1 if they are not roles */
	uint8_t phase;			/* when it is sent */
	bool existed;			/* the ledger had the record before */
	bool misfit;			/* not as many fields as the header: no values */
	uint16_t nfields;		/* then, how many it has */
};

struct import {
	struct run *r;
	const struct import_kind *k;
	struct sheet sh;		/* the file */
	proto_str actor;

	struct import_row *row;
	size_t nrows, caprows;
	int32_t county_row;		/* units: the file's first county row, -1 none */

	struct sheet_ids ids;		/* units: units; people: persons */
	struct sheet_ids units;		/* people: the units and villages rows name */
	struct sheet_ids admins;	/* the ledger's admins */
	char *county;			/* the ledger's county, or NULL */
	bool bootstrap;			/* the ledger has no admin */
	bool oom;			/* a copy of what the ledger said failed */
	bool no_admin_left;		/* people: the file takes admin from every admin */
	const struct import_row *admin_first;	/* people: see import_admin_facts() */

	struct pipeline pl;
	struct sheet_tally tally;
};

/* An error of the file on line (sheet_error()). */
static void import_error(struct import *im, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void import_error(struct import *im, uint32_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sheet_verror(&im->sh, line, fmt, ap);
	va_end(ap);
}

/* ---- reading the file ---- */

/* One row of the file (sheet_parse()): kept with its values, or as a misfit. */
static int import_row(void *arg, uint32_t line, const proto_str *v, size_t n)
{
	struct import *im = arg;
	struct import_row *w;

	if (im->nrows == im->caprows) {
		size_t cap = im->caprows ? im->caprows * 2 : 256;
		struct import_row *grown = realloc(im->row, cap * sizeof *grown);

		if (grown == NULL)
			return sheet_oom();
		im->row = grown;
		im->caprows = cap;
	}
	w = &im->row[im->nrows++];
	memset(w, 0, sizeof *w);
	w->line = line;
	w->kind = -1;
	w->roles = -1;
	if (v == NULL) {
		/* kept with no values, for the check to say so in line order */
		w->misfit = true;
		w->nfields = (uint16_t)n;
		return CLI_OK;
	}
	for (size_t col = 0; col < IMPORT_COLS && im->k->sheet.cols[col] != NULL; col++)
		w->v[col] = v[col];
	return CLI_OK;
}

/* ---- checking: pure functions of the row and of what is known ---- */

/*
 * The role bits of "cadre;leader" (items separated by ';', spaces around them ignored,
 * an item twice counted once), or -1. With emit, each mistake is reported on the row.
 */
static int import_roles_of(struct import *im, const struct import_row *w, bool emit)
{
	proto_str s = w->v[C_ROLES];
	char q[SHEET_Q];
	int bits = 0;
	bool bad = false;
	uint32_t i = 0;

	if (s.len == 0) {
		if (emit)
			import_error(im, w->line, "no roles: give one or more of cadre, "
				     "resident_cadre, leader, unit_head, county_leader, theme_office, "
				     "supervision, admin, separated by ';'");
		return -1;
	}
	while (i <= s.len) {
		uint32_t j = i;
		proto_str item;
		int bit;

		while (j < s.len && s.ptr[j] != ';')
			j++;
		item = (proto_str){ s.ptr + i, j - i };
		while (item.len > 0 && (item.ptr[0] == ' ' || item.ptr[0] == '\t'))
			item.ptr++, item.len--;
		while (item.len > 0 && (item.ptr[item.len - 1] == ' ' ||
					item.ptr[item.len - 1] == '\t'))
			item.len--;
		if (item.len == 0) {
			if (emit)
				import_error(im, w->line, "an empty role in %s: roles are separated "
					     "by ';'", sheet_q(q, s));
			bad = true;
		} else if ((bit = sheet_enum(import_roles, item)) < 0) {
			if (emit)
				import_error(im, w->line, "unknown role %s: the roles are cadre, "
					     "resident_cadre, leader, unit_head, county_leader, "
					     "theme_office, supervision, admin", sheet_q(q, item));
			bad = true;
		} else {
			bits |= 1 << bit;
		}
		i = j + 1;
	}
	return bad ? -1 : bits;
}

/* Check an id field (what: "the unit", "the parent"); true if it is one. */
static bool import_check_id(struct import *im, const struct import_row *w, proto_str s,
			    const char *what)
{
	char q[SHEET_Q];

	if (s.len == 0) {
		import_error(im, w->line, "%s is empty", what);
		return false;
	}
	if (!proto_id_valid(s)) {
		import_error(im, w->line, "%s %s is not an id: 1 to 64 letters, digits, '.', '_' "
			     "or '-', beginning with a letter or digit", what, sheet_q(q, s));
		return false;
	}
	return true;
}

static void import_check_name(struct import *im, const struct import_row *w)
{
	proto_str s = w->v[C_NAME];

	if (s.len == 0) {
		import_error(im, w->line, "the name is empty");
	} else if (s.len > IMPORT_NAME_MAX) {
		import_error(im, w->line, "the name is %" PRIu32 " bytes, more than %d", s.len,
			     IMPORT_NAME_MAX);
	} else if (!proto_utf8_valid(s.ptr, s.len)) {
		import_error(im, w->line, "the name is not valid UTF-8");
	} else {
		for (uint32_t i = 0; i < s.len; i++) {
			if ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7f) {
				import_error(im, w->line, "the name holds a control character (a "
					     "line break, a tab, ...)");
				break;
			}
		}
	}
}

/* The row defining the record's id again: say so (the first definition counts). */
static bool import_check_again(struct import *im, const struct import_row *w,
			       const struct sheet_id *e)
{
	char q[SHEET_Q];

	if (e == NULL || e->row < 0 || &im->row[e->row] == w)
		return false;
	import_error(im, w->line, "%s %s again: it is on line %" PRIu32 " already; a file "
		     "names each %s once", im->k->record, sheet_q(q, w->v[C_ID]),
		     im->row[e->row].line, im->k->record);
	return true;
}

/* "a" or "an" before the name of a kind. */
static const char *import_a(int kind)
{
	return kind == KIND_ORGAN ? "an" : "a";
}

/* Which kinds a unit of kind hangs under (daemon/core.c, parent_fits()). */
static bool import_fits(int kind, int parent)
{
	if (kind == KIND_VILLAGE)
		return parent == KIND_TOWNSHIP || parent == KIND_STREET;
	return parent == KIND_COUNTY;
}

static void import_check_unit(struct import *im, struct import_row *w)
{
	proto_str id = w->v[C_ID], parent = w->v[C_PARENT];
	bool id_ok = import_check_id(im, w, id, "the unit"), parent_ok;
	struct sheet_id *e = id_ok ? sheet_id_find(&im->ids, id) : NULL;
	char q[SHEET_Q], q2[SHEET_Q];

	import_check_name(im, w);
	if (w->kind < 0)
		import_error(im, w->line, "unknown kind %s: the kinds are county, township, "
			     "street, village, organ", sheet_q(q, w->v[C_KIND]));
	parent_ok = parent.len == 0 || import_check_id(im, w, parent, "the parent");
	if (import_check_again(im, w, e) || w->kind < 0)
		return;
	if (e != NULL && e->kind >= 0 && e->kind != w->kind)
		import_error(im, w->line, "unit %s is %s %s in the ledger: a unit's kind never "
			     "changes", sheet_q(q, id), import_a(e->kind), import_kinds[e->kind]);
	if (w->kind == KIND_COUNTY) {
		if (parent.len > 0)
			import_error(im, w->line, "the county is the root of the tree: leave its "
				     "parent empty");
		if (!id_ok)
			return;
		if (im->county_row >= 0 && &im->row[im->county_row] != w)
			import_error(im, w->line, "a second county: the county is %s (line %"
				     PRIu32 ")", sheet_q(q, im->row[im->county_row].v[C_ID]),
				     im->row[im->county_row].line);
		else if (im->county != NULL && !sheet_eq(sheet_cstr(im->county), id))
			import_error(im, w->line, "the ledger's county is %s, and there is only "
				     "one county", sheet_q(q, sheet_cstr(im->county)));
		return;
	}
	if (parent.len == 0) {
		import_error(im, w->line, "%s %s needs a parent: %s", import_a(w->kind),
			     import_kinds[w->kind],
			     w->kind == KIND_VILLAGE ? "a township or a street" : "the county");
		return;
	}
	if (!parent_ok)
		return;		/* said above */
	if (sheet_eq(parent, id)) {
		import_error(im, w->line, "a unit cannot be its own parent");
		return;
	}
	e = sheet_id_find(&im->ids, parent);
	{
		int pkind = e == NULL ? SHEET_ABSENT : e->row >= 0 ? im->row[e->row].kind : e->kind;

		if (e != NULL && e->row >= 0 && pkind < 0)
			return;		/* the parent's row has a bad kind: said there */
		if (pkind < 0) {
			import_error(im, w->line, "no unit %s in the file or the ledger (the parent)",
				     sheet_q(q, parent));
		} else if (!import_fits(w->kind, pkind)) {
			import_error(im, w->line, "%s %s hangs under %s, and %s is %s %s",
				     import_a(w->kind), import_kinds[w->kind],
				     w->kind == KIND_VILLAGE ? "a township or a street" : "the county",
				     sheet_q(q2, parent), import_a(pkind), import_kinds[pkind]);
		}
	}
}

/* Is the row's person an admin in the ledger who loses the role by it? */
static bool import_revokes(const struct import *im, const struct import_row *w)
{
	const struct sheet_id *e = proto_id_valid(w->v[C_ID]) ?
				    sheet_id_find(&im->ids, w->v[C_ID]) : NULL;

	return e != NULL && (e->flags & IMPORT_ADMIN) && w->roles >= 0 && !(w->roles & ROLE_ADMIN);
}

/* Check a unit that a person's row names (the unit or the village) against the ledger:
 * true if it is there (*kind set). */
static bool import_check_ledger_unit(struct import *im, const struct import_row *w,
				     proto_str s, int *kind)
{
	const struct sheet_id *e = sheet_id_find(&im->units, s);
	char q[SHEET_Q];

	if (e == NULL || e->kind < 0) {
		import_error(im, w->line, "no unit %s in the ledger (import the units first)",
			     sheet_q(q, s));
		return false;
	}
	*kind = e->kind;
	return true;
}

static void import_check_person(struct import *im, struct import_row *w)
{
	proto_str id = w->v[C_ID], village = w->v[C_VILLAGE];
	bool id_ok = import_check_id(im, w, id, "the person");
	bool resident = w->roles >= 0 && (w->roles & ROLE_RESIDENT);
	char q[SHEET_Q], q2[SHEET_Q];
	int kind;

	import_check_name(im, w);
	if (import_check_id(im, w, w->v[C_UNIT], "the unit"))
		import_check_ledger_unit(im, w, w->v[C_UNIT], &kind);
	import_roles_of(im, w, true);
	if (village.len > 0 && import_check_id(im, w, village, "the village")) {
		if (w->roles >= 0 && !resident)
			import_error(im, w->line, "a village is only for a resident_cadre (the "
				     "village they are stationed in): leave it empty");
		else if (import_check_ledger_unit(im, w, village, &kind) && kind != KIND_VILLAGE)
			import_error(im, w->line, "%s is %s %s, not a village", sheet_q(q, village),
				     import_a(kind), import_kinds[kind]);
	} else if (village.len == 0 && resident) {
		import_error(im, w->line, "a resident_cadre needs a village: the village they are "
			     "stationed in");
	}
	if (id_ok)
		import_check_again(im, w, sheet_id_find(&im->ids, id));
	if (im->no_admin_left && import_revokes(im, w))
		import_error(im, w->line, "%s would lose the role admin, and the ledger would have "
			     "no admin left: make someone else an admin first", sheet_q(q, id));
	if (im->admin_first == w)
		import_error(im, w->line, "%s becomes an admin here, and from then on only admins "
			     "may register people; the actor %s is not one of the admins this file "
			     "makes: import as one of them (--actor)", sheet_q(q, id),
			     sheet_q(q2, im->actor));
}

/*
 * The rules on admins that hold across the rows of a people file (protocol.md 9), worked
 * out before the rows are checked so that their errors come out in line order: would the
 * file leave the ledger without an admin (im->no_admin_left), and, during the bootstrap,
 * does it make admins without making the actor one (im->admin_first: its first such row).
 */
static void import_admin_facts(struct import *im)
{
	size_t after = 0;
	const struct import_row *first = NULL;
	bool actor_granted = false;

	for (size_t i = 0; i < im->admins.cap; i++) {
		const struct sheet_id *a = &im->admins.e[i], *e;

		if (a->id.ptr == NULL)
			continue;
		e = sheet_id_find(&im->ids, a->id);
		if (e == NULL || e->row < 0 || im->row[e->row].roles < 0 ||
		    (im->row[e->row].roles & ROLE_ADMIN))
			after++;
	}
	for (size_t i = 0; i < im->nrows; i++) {
		const struct import_row *w = &im->row[i];
		const struct sheet_id *e;

		if (w->roles < 0 || !(w->roles & ROLE_ADMIN) || !proto_id_valid(w->v[C_ID]))
			continue;
		e = sheet_id_find(&im->ids, w->v[C_ID]);
		if (e->row >= 0 && &im->row[e->row] != w)
			continue;	/* repeated: said on its line */
		after += !(e->flags & IMPORT_ADMIN);
		first = first != NULL ? first : w;
		actor_granted = actor_granted || sheet_eq(w->v[C_ID], im->actor);
	}
	im->no_admin_left = im->admins.n > 0 && after == 0;
	im->admin_first = im->bootstrap && !actor_granted ? first : NULL;
}

/* The first pass: learn every id, kind and role, silently, and the ids to ask about. */
static int import_learn(struct import *im)
{
	for (size_t i = 0; i < im->nrows; i++) {
		struct import_row *w = &im->row[i];
		struct sheet_id *e;

		if (w->misfit)
			continue;
		if (!im->k->people)
			w->kind = (int8_t)sheet_enum(import_kinds, w->v[C_KIND]);
		else
			w->roles = (int16_t)import_roles_of(im, w, false);
		if (proto_id_valid(w->v[C_ID])) {
			if ((e = sheet_id_add(&im->ids, w->v[C_ID])) == NULL)
				return sheet_oom();
			if (e->row < 0)
				e->row = (int32_t)i;
		}
		if (!im->k->people) {
			if (w->kind == KIND_COUNTY && im->county_row < 0)
				im->county_row = (int32_t)i;
			if (proto_id_valid(w->v[C_PARENT]) &&
			    sheet_id_add(&im->ids, w->v[C_PARENT]) == NULL)
				return sheet_oom();
			continue;
		}
		if (proto_id_valid(w->v[C_UNIT]) && sheet_id_add(&im->units, w->v[C_UNIT]) == NULL)
			return sheet_oom();
		if (proto_id_valid(w->v[C_VILLAGE]) &&
		    sheet_id_add(&im->units, w->v[C_VILLAGE]) == NULL)
			return sheet_oom();
	}
	return CLI_OK;
}

/* The phase in which each row is sent (after the lookups: it needs the ledger's admins). */
static void import_phases(struct import *im)
{
	for (size_t i = 0; i < im->nrows; i++) {
		struct import_row *w = &im->row[i];

		if (!im->k->people) {
			w->phase = w->kind == KIND_COUNTY ? 0 : w->kind == KIND_VILLAGE ? 2 : 1;
		} else if (im->bootstrap && sheet_eq(w->v[C_ID], im->actor) &&
			   (w->roles & ROLE_ADMIN)) {
			w->phase = 0;	/* the bootstrap's first admin: the actor, first */
		} else if (!import_revokes(im, w)) {
			w->phase = 1;
		} else {
			w->phase = sheet_eq(w->v[C_ID], im->actor) ? 3 : 2;
		}
	}
}

/* The second pass: every row in line order, with the syntax errors in between. */
static void import_check(struct import *im)
{
	if (im->k->people)
		import_admin_facts(im);
	for (size_t i = 0; i < im->nrows; i++) {
		struct import_row *w = &im->row[i];

		sheet_syntax_until(&im->sh, w->line);
		if (w->misfit)
			sheet_misfit(&im->sh, w->line, w->nfields);
		else if (im->k->people)
			import_check_person(im, w);
		else
			import_check_unit(im, w);
	}
	sheet_syntax_until(&im->sh, UINT32_MAX);
}

/* ---- asking the ledger ---- */

/* unit.list: the county is the first item. */
static bool import_county_item(void *arg, const msgpack_object *item)
{
	struct import *im = arg;
	proto_str s;

	if (proto_obj_str(proto_map_get(item, "unit"), &s) &&
	    (im->county = strndup(s.ptr, s.len)) == NULL)
		im->oom = true;
	return false;
}

/* person.list: every admin goes into im->admins. */
static bool import_admin_item(void *arg, const msgpack_object *item)
{
	struct import *im = arg;
	bool bad;

	if (sheet_id_add_copy(&im->admins, item, "person", &bad) == NULL && !bad) {
		im->oom = true;
		return false;
	}
	return true;
}

/* The reply to a lookup (unit.get, person.get): what the ledger holds under the id. */
static int import_lookup_reply(struct import *im, struct sheet_id *e, bool units, int rc,
			       const struct pipeline_reply *rep)
{
	proto_str kind;

	if (rc == CLI_REFUSED && proto_str_eq(rep->code, "not_found")) {
		e->kind = SHEET_ABSENT;
		return CLI_OK;
	}
	if (rc == CLI_REFUSED) {
		sheet_bar_clear(&im->sh);
		sheet_refused_read(units ? "unit.get" : "person.get", rep->code, rep->message);
		return rc;
	}
	if (!units) {
		e->kind = 0;
		return CLI_OK;
	}
	if (!proto_obj_str(proto_map_get(proto_map_get(rep->root, "unit"), "kind"), &kind) ||
	    (e->kind = sheet_enum(import_kinds, kind)) < 0)
		return conn_bad_reply(&im->r->conn, "unit.get: a unit without a known 'kind'");
	return CLI_OK;
}

static int import_unit_reply(void *arg, struct sheet_id *e, int rc,
			     const struct pipeline_reply *rep)
{
	return import_lookup_reply(arg, e, true, rc, rep);
}

static int import_person_reply(void *arg, struct sheet_id *e, int rc,
			       const struct pipeline_reply *rep)
{
	return import_lookup_reply(arg, e, false, rc, rep);
}

/* Ask the ledger about every id of t (unit.get, or person.get), many at a time. */
static int import_lookup(struct import *im, struct sheet_ids *t, bool units)
{
	return sheet_lookup(&im->sh, &im->pl, t, units ? "unit.get" : "person.get",
			    units ? "unit" : "person",
			    units ? import_unit_reply : import_person_reply, im);
}

/* Everything the check needs from the ledger. */
static int import_ask(struct import *im)
{
	int rc;

	if ((rc = pipeline_open(&im->pl, &im->r->conn, IMPORT_WINDOW)) != CLI_OK)
		return rc;
	if ((rc = sheet_list(im->r, "person.list", &(struct sheet_kv){ "role", "admin", false },
			     1, SHEET_PAGE, import_admin_item, im)) != CLI_OK)
		return rc;
	if (im->oom)
		return sheet_oom();
	im->bootstrap = im->admins.n == 0;
	for (size_t i = 0; i < im->admins.cap && im->k->people; i++) {
		struct sheet_id *e;

		if (im->admins.e[i].id.ptr != NULL &&
		    (e = sheet_id_find(&im->ids, im->admins.e[i].id)) != NULL)
			e->flags |= IMPORT_ADMIN;	/* a person of the file, an admin now */
	}
	if (!im->k->people &&
	    (rc = sheet_list(im->r, "unit.list", &(struct sheet_kv){ "kind", "county", false }, 1,
			     1, import_county_item, im)) != CLI_OK)
		return rc;
	if (im->oom)
		return sheet_oom();
	sheet_bar_start(&im->sh, "checking", im->ids.n + im->units.n);
	if ((rc = import_lookup(im, &im->ids, !im->k->people)) != CLI_OK)
		return rc;
	if (im->k->people && (rc = import_lookup(im, &im->units, true)) != CLI_OK)
		return rc;
	sheet_bar_clear(&im->sh);
	for (size_t i = 0; i < im->nrows; i++) {
		struct sheet_id *e = proto_id_valid(im->row[i].v[C_ID]) ?
				      sheet_id_find(&im->ids, im->row[i].v[C_ID]) : NULL;

		im->row[i].existed = e != NULL && e->kind >= 0;
	}
	return CLI_OK;
}

/* ---- applying ---- */

static void import_pack_put(struct import *im, const struct import_row *w, const char *id,
			    proto_out *out)
{
	bool people = im->k->people;
	proto_str opt = w->v[people ? C_VILLAGE : C_PARENT];

	proto_out_reset(out);
	msgpack_pack_map(&out->pk, (people ? 7 : 6) + (opt.len > 0));
	proto_kv_cstr(out, "op", im->k->put);
	proto_kv_cstr(out, "id", id);
	proto_kv_str(out, "actor", im->actor);
	proto_kv_str(out, im->k->record, w->v[C_ID]);
	proto_kv_str(out, "name", w->v[C_NAME]);
	if (!people) {
		proto_kv_cstr(out, "kind", import_kinds[w->kind]);
	} else {
		int n = 0;

		proto_kv_str(out, "unit", w->v[C_UNIT]);
		for (int b = 0; import_roles[b] != NULL; b++)
			n += (w->roles >> b) & 1;
		proto_pack_cstr(out, "roles");
		msgpack_pack_array(&out->pk, (size_t)n);
		for (int b = 0; import_roles[b] != NULL; b++)
			if ((w->roles >> b) & 1)
				proto_pack_cstr(out, import_roles[b]);
	}
	if (opt.len > 0)
		proto_kv_str(out, people ? "village" : "parent", opt);
}

static int import_phase(void *arg, size_t i)
{
	return ((struct import *)arg)->row[i].phase;
}

static void import_pack(void *arg, size_t i, const char *id, proto_out *out)
{
	struct import *im = arg;

	import_pack_put(im, &im->row[i], id, out);
}

static bool import_existed(void *arg, size_t i)
{
	return ((struct import *)arg)->row[i].existed;
}

/* Send every row, a phase at a time, each phase confirmed before the next starts. */
static int import_apply(struct import *im)
{
	const struct sheet_puts puts = {
		im->nrows, im->k->phases, import_phase, import_pack, import_existed, im, NULL
	};

	sheet_bar_start(&im->sh, "applying", im->nrows);
	return sheet_apply(&im->sh, &im->pl, &puts, &im->tally);
}

/* ---- the command ---- */

/* Only an admin imports, except during the bootstrap. True if the actor may; else said
 * on stderr (and with --json in the summary, unless the file has errors to list). */
static bool import_may(struct import *im)
{
	char q[SHEET_Q], msg[SHEET_MSG];

	if (im->bootstrap || sheet_id_find(&im->admins, im->actor) != NULL)
		return true;
	snprintf(msg, sizeof msg, "only an admin imports %s, and the actor %s is not one "
		 "(--actor names who imports)", im->k->sheet.records, sheet_q(q, im->actor));
	cli_warn("%s: %s; nothing was sent", im->k->sheet.command, msg);
	if (im->r->conf->json && im->sh.errors == 0) {
		sheet_json_head(&im->sh, false);
		printf(",\"rows\":%zu,\"applied\":0,\"refused\":{\"code\":\"forbidden\","
		       "\"message\":", im->nrows);
		sheet_json_str(stdout, msg);
		fputs("}}\n", stdout);
	}
	return false;
}

static void import_fini(struct import *im)
{
	pipeline_close(&im->pl);
	sheet_ids_fini(&im->ids);
	sheet_ids_fini(&im->units);
	sheet_ids_fini(&im->admins);
	free(im->county);
	free(im->row);
	sheet_fini(&im->sh);
}

/* --check: the file is valid; say how many rows are new. */
static void import_checked(struct import *im)
{
	size_t existing = 0;

	for (size_t i = 0; i < im->nrows; i++)
		existing += im->row[i].existed;
	if (im->r->conf->json) {
		sheet_json_head(&im->sh, true);
		printf(",\"check\":true,\"rows\":%zu,\"new\":%zu,\"existing\":%zu}\n",
		       im->nrows, im->nrows - existing, existing);
	} else {
		printf("%s: %zu rows, all valid: %zu new, %zu already in the ledger (checked "
		       "only: nothing sent)\n", im->k->sheet.records, im->nrows,
		       im->nrows - existing, existing);
	}
}

/* The summary of a finished import: "units: 312 rows: 300 created, 10 updated, 2
 * unchanged (0.12 s)", or its JSON object. */
static void import_summary(struct import *im)
{
	const struct sheet_tally *t = &im->tally;

	if (im->r->conf->json) {
		sheet_json_head(&im->sh, true);
		sheet_json_counts(t, im->nrows, 0);
		printf(",\"seq\":%" PRIu64 ",\"seconds\":%.3f}\n", t->seq, sheet_seconds(&im->sh));
	} else {
		printf("%s: %zu rows: %zu created, %zu updated, %zu unchanged (%.2f s)\n",
		       im->k->sheet.records, im->nrows, t->created, t->updated, t->unchanged,
		       sheet_seconds(&im->sh));
	}
}

int import_run(struct run *r)
{
	const struct sheet_tally *t;
	struct import im;
	int rc;

	memset(&im, 0, sizeof im);
	im.r = r;
	im.k = r->cmd->data;
	im.county_row = -1;
	t = &im.tally;
	sheet_init(&im.sh, &im.k->sheet, r, args_find(r->t, "FILE")->s);
	if (r->conf->actor == NULL || r->conf->actor[0] == '\0') {
		cli_warn("%s: no actor: give --actor NAME or set NANTI_ACTOR", r->cmd->name);
		return CLI_USAGE;
	}
	im.actor = sheet_cstr(r->conf->actor);
	if (im.actor.len > PROTO_MAX_ACTOR) {
		cli_warn("%s: the actor is longer than %d bytes", r->cmd->name, PROTO_MAX_ACTOR);
		return CLI_USAGE;
	}
	if ((rc = sheet_read(&im.sh)) != CLI_OK ||
	    (rc = sheet_parse(&im.sh, import_row, &im)) != CLI_OK ||
	    (rc = import_learn(&im)) != CLI_OK || (rc = import_ask(&im)) != CLI_OK)
		goto out;
	import_check(&im);
	if (!import_may(&im) || im.sh.errors > 0) {
		rc = CLI_REFUSED;
		goto out;
	}
	import_phases(&im);
	if (args_find(r->t, "--check")->set) {
		import_checked(&im);
		goto out;
	}
	if ((rc = import_apply(&im)) != CLI_OK) {
		cli_warn("%s: %zu of %zu rows confirmed applied; the others may or may not be: "
			 "importing the file again is safe and finishes it", im.k->sheet.command,
			 t->created + t->updated + t->unchanged, im.nrows);
		goto out;
	}
	if (t->stop)
		rc = sheet_refusal(&im.sh, t, im.row[t->refused_row].line, im.nrows, 0);
	else
		import_summary(&im);
out:
	if (im.sh.errors > 0 && rc == CLI_REFUSED && !t->stop)
		rc = sheet_invalid(&im.sh);
	import_fini(&im);
	return rc;
}
