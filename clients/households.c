/*
 * households.c - the household register as a CSV file: `nanti household import FILE.csv`
 * and `nanti household export [FILE]` (households.h; docs/client.md, "Households").
 *
 * A county's register (民情档案) is a spreadsheet of a hundred thousand households and
 * more, kept by the civil affairs office and loaded again whenever it changes. So the
 * import must be all or nothing for a file with mistakes, fast for a good one, and cheap
 * when little changed: the same file twice must send nothing at all.
 *
 * All or nothing, by checking first, as every import does (sheet.c): each field against
 * the protocol's limits, an id twice in the file, the villages against the ledger (one
 * unit.list of the villages, a unit.get for each name that is not one, to say what it
 * is), and who may put the households of each village (households_reach()). Every bad
 * row is reported with its physical line; if there is any, nothing is sent. A village
 * missing or out of reach is said once, on its first row, with the count of its rows, so
 * that a file of the wrong county does not bury the report under a hundred thousand lines.
 *
 * Sending only what changed. The ledger's households come back whole, a thousand at a
 * time (household.list {full: true}); each is found among the rows by binary search over
 * the rows sorted by id (the daemon's byte order: the sort also finds the ids given twice)
 * and compared field by field, lists in order. A row equal to its record is not sent; a
 * new or changed one is. A record that comes back `hidden` (its sensitive fields are not
 * the actor's to see) cannot be compared, so its row is sent and the daemon, which can,
 * answers `changed: false` when it is equal. The puts go many at a time (a window below
 * the daemon's 512 per connection), and the daemon folds them into few group commits.
 *
 * Memory: the file is read whole (at most HH_MAX_BYTES) and a row keeps only where its
 * fields are in it (offsets, not pointers: about a hundred bytes a row), so a register of
 * HH_MAX_ROWS rows costs the file and 50 MB. A page of records is let go once compared.
 *
 * The export writes the same columns from the same pages, so that export then import
 * finds every row unchanged. It holds the sensitive fields, so its file is mode 0600,
 * written as FILE.tmp and renamed, and a household the actor may not see whole stops it:
 * an export that silently lacked a head of household would not import again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "households.h"
#include "pipeline.h"
#include "render.h"

#define HH_MAX_BYTES	(128u << 20)	/* a file */
#define HH_MAX_ROWS	500000		/* rows of a file: a large county's register */
#define HH_WINDOW	384		/* puts in flight (the daemon holds 512 a connection) */

/* The limits of household.put (docs/protocol.md section 11). */
#define HH_NAME_MAX	100		/* head, each member name */
#define HH_NUMBER_MAX	32		/* id_number, phone */
#define HH_ADDRESS_MAX	200
#define HH_NOTES_MAX	2000
#define HH_NEEDS_MAX	16		/* tags */
#define HH_NEED_MAX	32		/* bytes in a tag */
#define HH_NAMES_MAX	20		/* member names */
#define HH_MEMBERS_MAX	99

enum {
	C_HOUSEHOLD, C_VILLAGE, C_CATEGORY, C_MEMBERS, C_NEEDS, C_HEAD, C_ID_NUMBER, C_PHONE,
	C_ADDRESS, C_MEMBER_NAMES, C_NOTES, HH_COLS
};

/* The columns, and the keys of the record they fill (the same names). */
static const char *const hh_cols[HH_COLS + 1] = {
	"household", "village", "category", "members", "needs", "head", "id_number", "phone",
	"address", "member_names", "notes", NULL
};

static const struct sheet_spec hh_sheet = {
	"households", "household import", hh_cols,
	1u << C_NEEDS | 1u << C_ID_NUMBER | 1u << C_PHONE | 1u << C_ADDRESS |
	1u << C_MEMBER_NAMES | 1u << C_NOTES,
	HH_MAX_BYTES, HH_MAX_ROWS
};

static const char *const hh_categories[] = { "low_income", "near_low_income", "other", NULL };
static const char *const hh_unit_kinds[] = {
	"county", "township", "street", "village", "organ", NULL
};
#define HH_VILLAGE	3	/* its index in hh_unit_kinds */

const struct args_spec households_import_spec[HOUSEHOLDS_IMPORT_NSPEC] = {
	{ "FILE", ARGS_STR, NULL, "the CSV file (UTF-8, a header row naming the columns; "
	  "'-': stdin)", { .key = NULL } },
	{ "--check", ARGS_FLAG, NULL, "check the file against itself and the ledger, and send "
	  "nothing", { .key = NULL } },
};

const struct args_spec households_export_spec[HOUSEHOLDS_EXPORT_NSPEC] = {
	{ "FILE", ARGS_OPTSTR, NULL, "where to write it ('-' or none: standard output)",
	  { .key = NULL } },
	{ "--village", ARGS_STR, "V", "only the households of village V", { .key = NULL } },
	{ "--within", ARGS_STR, "U", "only the households of villages of U or below it",
	  { .key = NULL } },
};

/* ---- who may ---- */

static const char *const hh_roles[] = {
	"cadre", "resident_cadre", "leader", "unit_head", "county_leader", "theme_office",
	"supervision", "admin", NULL
};
enum { R_CADRE, R_RESIDENT, R_LEADER, R_UNIT_HEAD, R_COUNTY_LEADER, R_THEME, R_SUPERVISION,
       R_ADMIN };

struct hh_person {
	struct households_reach *reach;
	char unit[PROTO_MAX_NAME_ID + 1];
	char village[PROTO_MAX_NAME_ID + 1];
	bool oom;
};

/* unit.list {within, kind: village}: the villages in reach. */
static bool hh_reach_item(void *arg, const msgpack_object *item)
{
	struct hh_person *p = arg;
	bool bad;

	if (sheet_id_add_copy(&p->reach->villages, item, "unit", &bad) == NULL && !bad) {
		p->oom = true;
		return false;
	}
	return true;
}

int households_reach(struct sheet *s, proto_str actor, struct households_reach *reach)
{
	struct hh_person p = { .reach = reach };
	const msgpack_object *person, *roles;
	struct conn_reply rep = { .root = NULL };
	proto_out out;
	proto_str str;
	int rc;

	memset(reach, 0, sizeof *reach);
	proto_out_init(&out);
	msgpack_pack_map(&out.pk, 2);
	proto_kv_cstr(&out, "op", "person.get");
	proto_kv_str(&out, "person", actor);
	rc = out.oom ? sheet_oom() : conn_call(&s->r->conn, &out, PROTO_STR_NULL, &rep);
	proto_out_fini(&out);
	if (rc == CLI_REFUSED && proto_str_eq(rep.code, "not_found")) {
		conn_reply_fini(&rep);
		return CLI_OK;		/* no person: may nothing */
	}
	if (rc == CLI_REFUSED)
		sheet_refused_read("person.get", rep.code, rep.message);
	if (rc != CLI_OK) {
		conn_reply_fini(&rep);
		return rc;
	}
	reach->person = true;
	person = proto_map_get(rep.root, "person");
	roles = proto_map_get(person, "roles");
	for (uint32_t i = 0; roles != NULL && roles->type == MSGPACK_OBJECT_ARRAY &&
			     i < roles->via.array.size; i++) {
		int role = proto_obj_str(&roles->via.array.ptr[i], &str) ?
			   sheet_enum(hh_roles, str) : -1;

		reach->office = reach->office || role == R_THEME || role == R_ADMIN;
		reach->county = reach->county || role == R_COUNTY_LEADER || role == R_THEME ||
				role == R_SUPERVISION;
		reach->unit_head = reach->unit_head || role == R_UNIT_HEAD;
	}
	if (proto_obj_str(proto_map_get(person, "unit"), &str) && str.len <= PROTO_MAX_NAME_ID)
		snprintf(p.unit, sizeof p.unit, "%.*s", (int)str.len, str.ptr);
	if (proto_obj_str(proto_map_get(person, "village"), &str) && str.len <= PROTO_MAX_NAME_ID)
		snprintf(p.village, sizeof p.village, "%.*s", (int)str.len, str.ptr);
	conn_reply_fini(&rep);
	if (reach->county || p.unit[0] == '\0')
		return CLI_OK;
	/* a resident cadre reaches the village they are stationed in, too */
	if (p.village[0] != '\0' &&
	    sheet_id_add_dup(&reach->villages, sheet_cstr(p.village)) == NULL)
		return sheet_oom();
	rc = sheet_list(s->r, "unit.list", (const struct sheet_kv[]){
				{ "within", p.unit, false }, { "kind", "village", false } }, 2,
			SHEET_PAGE, hh_reach_item, &p);
	return rc == CLI_OK && p.oom ? sheet_oom() : rc;
}

void households_reach_fini(struct households_reach *reach)
{
	sheet_ids_fini(&reach->villages);
}

bool households_may(const struct households_reach *reach, proto_str village, bool pair)
{
	if (reach->office)
		return true;
	if (pair && !reach->unit_head)
		return false;
	return reach->county || sheet_id_find(&reach->villages, village) != NULL;
}

/* ---- the rows ---- */

/* A field of a row: where it is in the file's buffer. */
struct hh_field {
	uint32_t off, len;
};

enum hh_state {
	HH_NEW,		/* not in the ledger (as far as the actor can read it): sent */
	HH_SAME,	/* the ledger holds it so: not sent */
	HH_CHANGED,	/* sent */
	HH_HIDDEN,	/* in the ledger, hidden from the actor in part: sent to be compared */
};

struct hh_row {
	uint32_t line;			/* the physical line it starts on */
	uint32_t first_line;		/* the line of an earlier row with its id; 0: none */
	uint16_t nfields;		/* a misfit's fields */
	bool misfit;			/* not as many fields as the header: no values */
	int8_t category;		/* its index, -1 if it is not one */
	uint8_t members;		/* 1..99, 0 if it is not that */
	uint8_t state;			/* enum hh_state */
	bool moves_out;			/* it moves from a village out of the actor's reach */
	struct hh_field f[HH_COLS];
};

/* The flags of a village (struct sheet_id): said already, and its rows are counted in the
 * rest of the flags. */
#define HH_SAID		1u
#define HH_ROWS(e)	((e)->flags >> 1)

struct hh_import {
	struct run *r;
	struct sheet sh;
	proto_str actor;

	struct hh_row *row;
	size_t nrows, caprows;
	uint32_t *order;		/* the rows with a valid id, by id, then line */
	size_t norder;

	struct sheet_ids villages;	/* the villages rows name: kind from the ledger */
	struct households_reach reach;
	bool oom;

	struct pipeline pl;
	struct sheet_tally tally;
	size_t counts[4];		/* rows by state */
	size_t compared;		/* records of the ledger looked at */
};

static proto_str hh_v(const struct hh_import *h, const struct hh_row *w, int c)
{
	return (proto_str){ h->sh.buf + w->f[c].off, w->f[c].len };
}

/* One row of the file (sheet_parse()). */
static int hh_row(void *arg, uint32_t line, const proto_str *v, size_t n)
{
	struct hh_import *h = arg;
	struct hh_row *w;

	if (h->nrows == h->caprows) {
		size_t cap = h->caprows ? h->caprows * 2 : 1024;
		struct hh_row *grown = realloc(h->row, cap * sizeof *grown);

		if (grown == NULL)
			return sheet_oom();
		h->row = grown;
		h->caprows = cap;
	}
	w = &h->row[h->nrows++];
	memset(w, 0, sizeof *w);
	w->line = line;
	w->category = -1;
	if (v == NULL) {
		w->misfit = true;
		w->nfields = (uint16_t)n;
		return CLI_OK;
	}
	for (int c = 0; c < HH_COLS; c++)
		if (v[c].len > 0)
			w->f[c] = (struct hh_field){ (uint32_t)(v[c].ptr - h->sh.buf), v[c].len };
	return CLI_OK;
}

/* members: 1..99 in decimal digits, else 0. */
static uint8_t hh_members(proto_str s)
{
	unsigned n = 0;

	if (s.len == 0 || s.len > 2)
		return 0;
	for (uint32_t i = 0; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return 0;
		n = n * 10 + (unsigned)(s.ptr[i] - '0');
	}
	return (uint8_t)n;
}

static const struct hh_import *hh_sorting;	/* qsort_r would do, but is not C11 */

static int hh_by_id(const void *a, const void *b)
{
	const struct hh_row *x = &hh_sorting->row[*(const uint32_t *)a];
	const struct hh_row *y = &hh_sorting->row[*(const uint32_t *)b];
	int c = proto_str_cmp(hh_v(hh_sorting, x, C_HOUSEHOLD), hh_v(hh_sorting, y, C_HOUSEHOLD));

	return c != 0 ? c : x->line < y->line ? -1 : x->line > y->line;
}

/* The first pass: what each row says, silently; the rows by id (and so the ids given
 * twice); the villages to ask about, with their rows counted. */
static int hh_learn(struct hh_import *h)
{
	if ((h->order = malloc((h->nrows + 1) * sizeof *h->order)) == NULL)
		return sheet_oom();
	for (size_t i = 0; i < h->nrows; i++) {
		struct hh_row *w = &h->row[i];
		proto_str village = hh_v(h, w, C_VILLAGE);
		struct sheet_id *e;

		if (w->misfit)
			continue;
		w->category = (int8_t)sheet_enum(hh_categories, hh_v(h, w, C_CATEGORY));
		w->members = hh_members(hh_v(h, w, C_MEMBERS));
		if (proto_id_valid(hh_v(h, w, C_HOUSEHOLD)))
			h->order[h->norder++] = (uint32_t)i;
		if (!proto_id_valid(village))
			continue;
		if ((e = sheet_id_add(&h->villages, village)) == NULL)
			return sheet_oom();
		if (e->row < 0)
			e->row = (int32_t)i;
		e->flags += 2;		/* HH_ROWS(e) + 1 */
	}
	hh_sorting = h;
	qsort(h->order, h->norder, sizeof *h->order, hh_by_id);
	for (size_t i = 1; i < h->norder; i++) {
		struct hh_row *a = &h->row[h->order[i - 1]], *b = &h->row[h->order[i]];

		if (sheet_eq(hh_v(h, a, C_HOUSEHOLD), hh_v(h, b, C_HOUSEHOLD)))
			b->first_line = a->first_line ? a->first_line : a->line;
	}
	return CLI_OK;
}

/* The row of the file with the id id (its first), or NULL. */
static struct hh_row *hh_find(const struct hh_import *h, proto_str id)
{
	size_t lo = 0, hi = h->norder;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = proto_str_cmp(hh_v(h, &h->row[h->order[mid]], C_HOUSEHOLD), id);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < h->norder && sheet_eq(hh_v(h, &h->row[h->order[lo]], C_HOUSEHOLD), id))
		return &h->row[h->order[lo]];
	return NULL;
}

/* ---- comparing a row with the ledger's record: pure ---- */

/* Does the string under key in rec (absent: empty) equal s? */
static bool hh_same_str(const msgpack_object *rec, const char *key, proto_str s)
{
	const msgpack_object *o = proto_map_get(rec, key);
	proto_str v = PROTO_STR_NULL;

	if (o != NULL && !proto_obj_str(o, &v))
		return false;
	return sheet_eq(v, s);
}

/* Does the array of strings under key in rec (absent: empty) hold the items of the list
 * field s, in order? */
static bool hh_same_list(const msgpack_object *rec, const char *key, proto_str s)
{
	const msgpack_object *o = proto_map_get(rec, key);
	uint32_t n = 0, pos = 0;
	proto_str item, v;

	if (o != NULL && o->type != MSGPACK_OBJECT_ARRAY)
		return false;
	while (sheet_item(s, &pos, &item)) {
		if (o == NULL || n >= o->via.array.size ||
		    !proto_obj_str(&o->via.array.ptr[n], &v) || !sheet_eq(v, item))
			return false;
		n++;
	}
	return n == (o != NULL ? o->via.array.size : 0);
}

/* What the row is to the ledger's record rec (a full item of household.list). */
static enum hh_state hh_compare(const struct hh_import *h, const struct hh_row *w,
				const msgpack_object *rec)
{
	static const int strs[] = { C_VILLAGE, C_CATEGORY, C_HEAD, C_ID_NUMBER, C_PHONE,
				    C_ADDRESS, C_NOTES };
	bool hidden = false;
	uint64_t members = 0;

	proto_obj_bool(proto_map_get(rec, "hidden"), &hidden);
	if (hidden)
		return HH_HIDDEN;
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		if (!hh_same_str(rec, hh_cols[strs[i]], hh_v(h, w, strs[i])))
			return HH_CHANGED;
	if (!proto_obj_u64(proto_map_get(rec, "members"), &members) || members != w->members ||
	    !hh_same_list(rec, "needs", hh_v(h, w, C_NEEDS)) ||
	    !hh_same_list(rec, "member_names", hh_v(h, w, C_MEMBER_NAMES)))
		return HH_CHANGED;
	return HH_SAME;
}

/* ---- checking a row: its report ---- */

static void hh_error(struct hh_import *h, const struct hh_row *w, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void hh_error(struct hh_import *h, const struct hh_row *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sheet_verror(&h->sh, w->line, fmt, ap);
	va_end(ap);
}

/* A field that is one line of text (what: "the head"): at most max bytes, UTF-8, no
 * control character; empty only if it may be. */
static void hh_check_line(struct hh_import *h, const struct hh_row *w, int c,
			  const char *what, uint32_t max, bool required)
{
	proto_str s = hh_v(h, w, c);

	if (s.len == 0) {
		if (required)
			hh_error(h, w, "%s is empty", what);
		return;
	}
	if (s.len > max) {
		hh_error(h, w, "%s is %" PRIu32 " bytes, more than %" PRIu32, what, s.len, max);
		return;
	}
	if (!proto_utf8_valid(s.ptr, s.len)) {
		hh_error(h, w, "%s is not valid UTF-8", what);
		return;
	}
	for (uint32_t i = 0; c != C_NOTES && i < s.len; i++) {
		if ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7f) {
			hh_error(h, w, "%s holds a control character (a line break, a tab, ...)",
				 what);
			return;
		}
	}
}

/* A list field (needs, member_names): at most max items of 1..item_max bytes, UTF-8,
 * none twice if unique. */
static void hh_check_list(struct hh_import *h, const struct hh_row *w, int c, const char *what,
			  uint32_t max, uint32_t item_max, bool unique)
{
	proto_str s = hh_v(h, w, c), item, other;
	uint32_t pos = 0, n = 0;
	char q[SHEET_Q];

	while (sheet_item(s, &pos, &item))
		n++;
	if (n > max) {
		hh_error(h, w, "%s has %" PRIu32 " items, more than %" PRIu32, what, n, max);
		return;
	}
	pos = 0;
	while (sheet_item(s, &pos, &item)) {
		uint32_t p2 = 0;

		if (item.len == 0) {
			hh_error(h, w, "an empty item in %s %s: items are separated by ';'", what,
				 sheet_q(q, s));
			return;
		}
		if (item.len > item_max || !proto_utf8_valid(item.ptr, item.len)) {
			hh_error(h, w, "%s %s: each item is 1 to %" PRIu32 " bytes of UTF-8", what,
				 sheet_q(q, item), item_max);
			return;
		}
		while (unique && sheet_item(s, &p2, &other) && other.ptr < item.ptr) {
			if (sheet_eq(other, item)) {
				hh_error(h, w, "%s lists %s twice", what, sheet_q(q, item));
				return;
			}
		}
	}
}

/* The village of a row: known to the ledger as a village, and within the actor's reach.
 * A village wrong for every row of it is said once, on its first row. */
static void hh_check_village(struct hh_import *h, const struct hh_row *w)
{
	proto_str village = hh_v(h, w, C_VILLAGE);
	struct sheet_id *e;
	char q[SHEET_Q], q2[SHEET_Q], rows[48] = "";

	if (village.len == 0) {
		hh_error(h, w, "the village is empty");
		return;
	}
	if (!proto_id_valid(village)) {
		hh_error(h, w, "the village %s is not an id: 1 to 64 letters, digits, '.', '_' or "
			 "'-', beginning with a letter or digit", sheet_q(q, village));
		return;
	}
	e = sheet_id_find(&h->villages, village);
	if (e->kind == HH_VILLAGE && households_may(&h->reach, village, false))
		return;
	if (e->flags & HH_SAID)
		return;
	e->flags |= HH_SAID;
	if (HH_ROWS(e) > 1)
		snprintf(rows, sizeof rows, " (said once for its %" PRIu32 " rows)", HH_ROWS(e));
	if (e->kind == SHEET_ABSENT)
		hh_error(h, w, "no village %s in the ledger (import the units first)%s",
			 sheet_q(q, village), rows);
	else if (e->kind != HH_VILLAGE)
		hh_error(h, w, "%s is a%s %s, not a village%s", sheet_q(q, village),
			 e->kind == 4 ? "n" : "", hh_unit_kinds[e->kind], rows);
	else
		hh_error(h, w, "the actor %s may not register the households of %s: an admin, "
			 "the theme office or someone whose reach holds the village may%s",
			 sheet_q(q, h->actor), sheet_q(q2, village), rows);
}

static void hh_check_row(struct hh_import *h, const struct hh_row *w)
{
	proto_str id = hh_v(h, w, C_HOUSEHOLD);
	char q[SHEET_Q], q2[SHEET_Q];

	if (id.len == 0)
		hh_error(h, w, "the household is empty");
	else if (!proto_id_valid(id))
		hh_error(h, w, "the household %s is not an id: 1 to 64 letters, digits, '.', '_' "
			 "or '-', beginning with a letter or digit", sheet_q(q, id));
	else if (w->first_line > 0)
		hh_error(h, w, "household %s again: it is on line %" PRIu32 " already; a file "
			 "names each household once", sheet_q(q, id), w->first_line);
	hh_check_village(h, w);
	if (w->moves_out)
		hh_error(h, w, "household %s moves from a village the actor %s may not register "
			 "the households of", sheet_q(q, id), sheet_q(q2, h->actor));
	if (w->category < 0)
		hh_error(h, w, "unknown category %s: the categories are low_income, "
			 "near_low_income, other", sheet_q(q, hh_v(h, w, C_CATEGORY)));
	if (w->members == 0)
		hh_error(h, w, "members %s is not a whole number from 1 to %d",
			 sheet_q(q, hh_v(h, w, C_MEMBERS)), HH_MEMBERS_MAX);
	hh_check_list(h, w, C_NEEDS, "needs", HH_NEEDS_MAX, HH_NEED_MAX, true);
	hh_check_line(h, w, C_HEAD, "the head", HH_NAME_MAX, true);
	hh_check_line(h, w, C_ID_NUMBER, "the id_number", HH_NUMBER_MAX, false);
	hh_check_line(h, w, C_PHONE, "the phone", HH_NUMBER_MAX, false);
	hh_check_line(h, w, C_ADDRESS, "the address", HH_ADDRESS_MAX, false);
	hh_check_list(h, w, C_MEMBER_NAMES, "member_names", HH_NAMES_MAX, HH_NAME_MAX, false);
	hh_check_line(h, w, C_NOTES, "the notes", HH_NOTES_MAX, false);
}

/* The second pass: every row in line order, with the syntax errors in between. */
static void hh_check(struct hh_import *h)
{
	for (size_t i = 0; i < h->nrows; i++) {
		const struct hh_row *w = &h->row[i];

		sheet_syntax_until(&h->sh, w->line);
		if (w->misfit)
			sheet_misfit(&h->sh, w->line, w->nfields);
		else
			hh_check_row(h, w);
	}
	sheet_syntax_until(&h->sh, UINT32_MAX);
}

/* ---- asking the ledger ---- */

/* unit.list {kind: village}: the villages the file names are villages. */
static bool hh_village_item(void *arg, const msgpack_object *item)
{
	struct hh_import *h = arg;
	struct sheet_id *e;
	proto_str id;

	if (proto_obj_str(proto_map_get(item, "unit"), &id) &&
	    (e = sheet_id_find(&h->villages, id)) != NULL)
		e->kind = HH_VILLAGE;
	return true;
}

/* unit.get of a name that is no village: what it is, if anything. */
static int hh_unit_reply(void *arg, struct sheet_id *e, int rc,
			 const struct pipeline_reply *rep)
{
	struct hh_import *h = arg;
	proto_str kind;

	if (rc == CLI_REFUSED && proto_str_eq(rep->code, "not_found")) {
		e->kind = SHEET_ABSENT;
		return CLI_OK;
	}
	if (rc == CLI_REFUSED) {
		sheet_bar_clear(&h->sh);
		sheet_refused_read("unit.get", rep->code, rep->message);
		return rc;
	}
	if (!proto_obj_str(proto_map_get(proto_map_get(rep->root, "unit"), "kind"), &kind) ||
	    (e->kind = sheet_enum(hh_unit_kinds, kind)) < 0)
		return conn_bad_reply(&h->r->conn, "unit.get: a unit without a known 'kind'");
	return CLI_OK;
}

/* household.list {full: true}: compare the record with its row, if the file has one. */
static bool hh_record_item(void *arg, const msgpack_object *item)
{
	struct hh_import *h = arg;
	struct hh_row *w;
	proto_str id;

	h->compared++;
	if (proto_obj_str(proto_map_get(item, "household"), &id) &&
	    (w = hh_find(h, id)) != NULL) {
		w->state = (uint8_t)hh_compare(h, w, item);
		/* a household that moves needs both villages in reach (household.put) */
		w->moves_out = proto_obj_str(proto_map_get(item, "village"), &id) &&
			       !sheet_eq(id, hh_v(h, w, C_VILLAGE)) &&
			       !households_may(&h->reach, id, false);
	}
	if ((h->compared & 1023) == 0)
		sheet_bar_step(&h->sh);
	return true;
}

/* Everything the check and the comparison need from the ledger. */
static int hh_ask(struct hh_import *h)
{
	int rc;

	if ((rc = pipeline_open(&h->pl, &h->r->conn, HH_WINDOW)) != CLI_OK ||
	    (rc = households_reach(&h->sh, h->actor, &h->reach)) != CLI_OK)
		return rc;
	if (!h->reach.person) {
		char q[SHEET_Q];

		cli_warn("household import: the actor %s is not a person in the ledger "
			 "(--actor names who imports); nothing was sent", sheet_q(q, h->actor));
		return CLI_REFUSED;
	}
	if ((rc = sheet_list(h->r, "unit.list", &(struct sheet_kv){ "kind", "village", false },
			     1, SHEET_PAGE, hh_village_item, h)) != CLI_OK)
		return rc;
	sheet_bar_start(&h->sh, "checking", h->villages.n);
	if ((rc = sheet_lookup(&h->sh, &h->pl, &h->villages, "unit.get", "unit", hh_unit_reply,
			       h)) != CLI_OK)
		return rc;
	/* a step a thousand records, against a thousand rows a step: a guess of the total */
	sheet_bar_start(&h->sh, "comparing", h->nrows / 1024 + 1);
	rc = sheet_list(h->r, "household.list", &(struct sheet_kv){ "full", NULL, true }, 1,
			SHEET_PAGE, hh_record_item, h);
	sheet_bar_clear(&h->sh);
	return rc;
}

/* ---- sending ---- */

/* Pack the items of the list field s as an array under key. */
static void hh_pack_list(proto_out *out, const char *key, proto_str s)
{
	uint32_t pos = 0, n = 0;
	proto_str item;

	while (sheet_item(s, &pos, &item))
		n++;
	proto_pack_cstr(out, key);
	msgpack_pack_array(&out->pk, n);
	pos = 0;
	while (sheet_item(s, &pos, &item))
		proto_pack_str(out, item);
}

static void hh_pack(void *arg, size_t i, const char *id, proto_out *out)
{
	static const int opt[] = { C_ID_NUMBER, C_PHONE, C_ADDRESS, C_NOTES };
	struct hh_import *h = arg;
	const struct hh_row *w = &h->row[i];
	size_t keys = 8;

	for (size_t k = 0; k < sizeof opt / sizeof opt[0]; k++)
		keys += w->f[opt[k]].len > 0;
	keys += (w->f[C_NEEDS].len > 0) + (w->f[C_MEMBER_NAMES].len > 0);
	proto_out_reset(out);
	msgpack_pack_map(&out->pk, keys);
	proto_kv_cstr(out, "op", "household.put");
	proto_kv_cstr(out, "id", id);
	proto_kv_str(out, "actor", h->actor);
	proto_kv_str(out, "household", hh_v(h, w, C_HOUSEHOLD));
	proto_kv_str(out, "village", hh_v(h, w, C_VILLAGE));
	proto_kv_cstr(out, "category", hh_categories[w->category]);
	proto_kv_u64(out, "members", w->members);
	proto_kv_str(out, "head", hh_v(h, w, C_HEAD));
	if (w->f[C_NEEDS].len > 0)
		hh_pack_list(out, "needs", hh_v(h, w, C_NEEDS));
	if (w->f[C_MEMBER_NAMES].len > 0)
		hh_pack_list(out, "member_names", hh_v(h, w, C_MEMBER_NAMES));
	for (size_t k = 0; k < sizeof opt / sizeof opt[0]; k++)
		if (w->f[opt[k]].len > 0)
			proto_kv_str(out, hh_cols[opt[k]], hh_v(h, w, opt[k]));
}

/* The rows the ledger already holds so are not sent. */
static int hh_phase(void *arg, size_t i)
{
	return ((struct hh_import *)arg)->row[i].state == HH_SAME ? -1 : 0;
}

static bool hh_existed(void *arg, size_t i)
{
	return ((struct hh_import *)arg)->row[i].state != HH_NEW;
}

/* ---- the import ---- */

static void hh_import_fini(struct hh_import *h)
{
	pipeline_close(&h->pl);
	households_reach_fini(&h->reach);
	sheet_ids_fini(&h->villages);
	free(h->order);
	free(h->row);
	sheet_fini(&h->sh);
}

/* --check: the file is valid; what the import would do. */
static void hh_checked(struct hh_import *h)
{
	size_t *n = h->counts;

	if (h->r->conf->json) {
		sheet_json_head(&h->sh, true);
		printf(",\"check\":true,\"rows\":%zu,\"new\":%zu,\"changed\":%zu,\"unchanged\":%zu,"
		       "\"hidden\":%zu}\n", h->nrows, n[HH_NEW], n[HH_CHANGED], n[HH_SAME],
		       n[HH_HIDDEN]);
		return;
	}
	printf("households: %zu rows, all valid: %zu new, %zu changed, %zu unchanged", h->nrows,
	       n[HH_NEW], n[HH_CHANGED], n[HH_SAME]);
	if (n[HH_HIDDEN] > 0)
		printf(", %zu to be compared by the daemon (you may not see them whole)",
		       n[HH_HIDDEN]);
	puts(" (checked only: nothing sent)");
}

static void hh_summary(struct hh_import *h)
{
	const struct sheet_tally *t = &h->tally;
	size_t same = h->counts[HH_SAME];

	if (h->r->conf->json) {
		sheet_json_head(&h->sh, true);
		sheet_json_counts(t, h->nrows, same);
		printf(",\"sent\":%zu", t->sent);
		if (t->sent > 0)	/* the seq the puts brought the ledger to */
			printf(",\"seq\":%" PRIu64, t->seq);
		printf(",\"seconds\":%.3f}\n", sheet_seconds(&h->sh));
		return;
	}
	printf("households: %zu rows: %zu created, %zu updated, %zu unchanged (%.2f s)\n",
	       h->nrows, t->created, t->updated, t->unchanged + same, sheet_seconds(&h->sh));
}

int households_import_run(struct run *r)
{
	const struct sheet_tally *t;
	struct hh_import h;
	int rc;

	memset(&h, 0, sizeof h);
	h.r = r;
	t = &h.tally;
	sheet_init(&h.sh, &hh_sheet, r, args_find(r->t, "FILE")->s);
	if (r->conf->actor == NULL || r->conf->actor[0] == '\0') {
		cli_warn("%s: no actor: give --actor NAME or set NANTI_ACTOR", r->cmd->name);
		return CLI_USAGE;
	}
	h.actor = sheet_cstr(r->conf->actor);
	if (h.actor.len > PROTO_MAX_ACTOR) {
		cli_warn("%s: the actor is longer than %d bytes", r->cmd->name, PROTO_MAX_ACTOR);
		return CLI_USAGE;
	}
	if ((rc = sheet_read(&h.sh)) != CLI_OK ||
	    (rc = sheet_parse(&h.sh, hh_row, &h)) != CLI_OK || (rc = hh_learn(&h)) != CLI_OK ||
	    (rc = hh_ask(&h)) != CLI_OK)
		goto out;
	hh_check(&h);
	if (h.sh.errors > 0) {
		rc = CLI_REFUSED;
		goto out;
	}
	for (size_t i = 0; i < h.nrows; i++)
		h.counts[h.row[i].state]++;
	if (args_find(r->t, "--check")->set) {
		hh_checked(&h);
		goto out;
	}
	sheet_bar_start(&h.sh, "applying", h.nrows - h.counts[HH_SAME]);
	/* in household id order, whatever the file's: a register's ids begin with their
	 * village's code, so the households, their history and the village index each
	 * grow at a few places a commit instead of at every village (every row has a valid
	 * id by now, so the order holds them all) */
	rc = sheet_apply(&h.sh, &h.pl, &(const struct sheet_puts){
				 h.nrows, 1, hh_phase, hh_pack, hh_existed, &h,
				 h.norder == h.nrows ? h.order : NULL }, &h.tally);
	if (rc != CLI_OK) {
		cli_warn("household import: %zu of %zu rows confirmed in the ledger; the others may "
			 "or may not be: importing the file again is safe and finishes it",
			 t->created + t->updated + t->unchanged + h.counts[HH_SAME], h.nrows);
		goto out;
	}
	if (t->stop)
		rc = sheet_refusal(&h.sh, t, h.row[t->refused_row].line, h.nrows,
				   h.counts[HH_SAME]);
	else
		hh_summary(&h);
out:
	if (h.sh.errors > 0 && rc == CLI_REFUSED && !t->stop)
		rc = sheet_invalid(&h.sh);
	hh_import_fini(&h);
	return rc;
}

/* ---- the export ---- */

struct hh_export {
	struct run *r;
	FILE *f;
	size_t rows;
	bool failed;			/* a record that cannot be written: said */
	char why[SHEET_MSG];
};

/* The field of key in rec: its string, its number, or its list joined by ';'. False if
 * it cannot be written so that the import reads it back the same (said in x->why). */
static bool hh_value_out(struct hh_export *x, const msgpack_object *rec, const char *key,
			 proto_str id)
{
	const msgpack_object *o = proto_map_get(rec, key);
	char *buf = NULL, q[SHEET_Q];
	size_t len = 0;
	FILE *m;
	proto_str s;
	uint64_t u;

	if (o == NULL)
		return true;
	if (proto_obj_str(o, &s)) {
		sheet_csv_field(x->f, s);
		return true;
	}
	if (proto_obj_u64(o, &u)) {
		fprintf(x->f, "%" PRIu64, u);
		return true;
	}
	if (o->type != MSGPACK_OBJECT_ARRAY || (m = open_memstream(&buf, &len)) == NULL) {
		snprintf(x->why, sizeof x->why, "household %s: '%s' is not what a household "
			 "holds", sheet_q(q, id), key);
		return false;
	}
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		proto_str item;

		if (!proto_obj_str(&o->via.array.ptr[i], &item) || item.len == 0 ||
		    memchr(item.ptr, ';', item.len) != NULL ||
		    !sheet_eq(sheet_trim(item), item)) {
			snprintf(x->why, sizeof x->why, "household %s: an item of %s cannot be "
				 "written in a list separated by ';' (it holds a ';', or spaces "
				 "around it)", sheet_q(q, id), key);
			fclose(m);
			free(buf);
			return false;
		}
		fprintf(m, "%s%.*s", i > 0 ? ";" : "", (int)item.len, item.ptr);
	}
	fclose(m);
	sheet_csv_field(x->f, (proto_str){ buf, (uint32_t)len });
	free(buf);
	return true;
}

/* household.list {full: true}: one row per record. */
static bool hh_export_item(void *arg, const msgpack_object *item)
{
	struct hh_export *x = arg;
	bool hidden = false;
	proto_str id = PROTO_STR_NULL;
	char q[SHEET_Q];

	proto_obj_str(proto_map_get(item, "household"), &id);
	proto_obj_bool(proto_map_get(item, "hidden"), &hidden);
	if (hidden) {
		snprintf(x->why, sizeof x->why, "household %s comes without its sensitive fields: "
			 "you may not see them, and an export without them would not import "
			 "again; export as an admin or the theme office", sheet_q(q, id));
		x->failed = true;
		return false;
	}
	for (int c = 0; c < HH_COLS && !x->failed; c++) {
		if (c > 0)
			fputc(',', x->f);
		x->failed = !hh_value_out(x, item, hh_cols[c], id);
	}
	fputc('\n', x->f);
	x->rows++;
	return !x->failed;
}

int households_export_run(struct run *r)
{
	const struct args_val *files = args_find(r->t, "FILE");
	const struct args_val *village = args_find(r->t, "--village");
	const struct args_val *within = args_find(r->t, "--within");
	const char *file = files->set ? files->s : "-";
	struct sheet_kv kv[3] = { { "full", NULL, true } };
	struct hh_export x = { .r = r };
	char tmp[4096];
	size_t n = 1;
	int rc;

	if ((village->set && !proto_id_valid((proto_str){ village->s, (uint32_t)village->len })) ||
	    (within->set && !proto_id_valid((proto_str){ within->s, (uint32_t)within->len }))) {
		cli_warn("household export: %s must be an id", village->set ? "--village" : "--within");
		return CLI_USAGE;
	}
	if (village->set)
		kv[n++] = (struct sheet_kv){ "village", village->s, false };
	if (within->set)
		kv[n++] = (struct sheet_kv){ "within", within->s, false };
	if ((rc = conn_open(&r->conn)) != CLI_OK ||
	    (rc = admin_out_open("household export", file, tmp, sizeof tmp, false,
				   ADMIN_PRIVATE, &x.f)) != CLI_OK)
		return rc;
	for (int c = 0; c < HH_COLS; c++)
		fprintf(x.f, "%s%s", c > 0 ? "," : "", hh_cols[c]);
	fputc('\n', x.f);
	rc = sheet_list(r, "household.list", kv, n, SHEET_PAGE, hh_export_item, &x);
	if (rc == CLI_OK && x.failed) {
		cli_warn("household export: %s; %s", x.why, x.f == stdout ?
			 "the output is incomplete" : "nothing was written");
		rc = CLI_REFUSED;
	}
	if ((rc = admin_out_close("household export", file, tmp, x.f, rc)) != CLI_OK ||
	    x.f == stdout)
		return rc;
	if (r->conf->json) {
		printf("{\"ok\":true,\"records\":\"households\",\"file\":");
		sheet_json_str(stdout, file);
		printf(",\"rows\":%zu}\n", x.rows);
	} else {
		printf("households: %zu rows written to ", x.rows);
		render_text(stdout, sheet_cstr(file), 0);
		putchar('\n');
	}
	return CLI_OK;
}
