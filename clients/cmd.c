/*
 * cmd.c - the subcommands of nanti: what each one sends and how it shows the answer.
 *
 * A subcommand is a row of cmd_table: its name, the op it sends, the table of its
 * operands and options (args.h: each with the request key it fills and that key's limits,
 * copied from the op's schema in the daemon), the reply keys it relies on, and two
 * functions: run() (how many requests, paging) and show() (the reply for people). Most
 * commands are one request and one reply and share cmd_single(); the step commands of a
 * case (plan, consult, ... repeat) also share one show(), cmd_show_step(), which reads
 * what to say from the row's data, so a new step is a spec table and a row. list,
 * unit list, person list and show page through `next` with one pager, cmd_pages_read();
 * log pages through log.read; watch lives in watch.c (and its bridge, watch --exec, in
 * bridge.c) and reuses the log.read helper here.
 *
 * Output: with --json, a single-request command prints the reply itself as one JSON line
 * (also when it is a refusal), and so do the lists; log and watch print one JSON line per
 * log entry; list --all prints one reply-shaped object holding every page's items, and
 * show one holding the whole history. Without --json, render.c lays things out for
 * people. Errors always go to stderr, prefixed "nanti: ".
 *
 * Every reply has passed proto_parse() and the envelope check in conn.c; the needs of a
 * command are checked before its show() runs, and show() tolerates anything else, so no
 * reply can crash the client. Paging loops also insist that the daemon makes progress, so
 * a faulty daemon cannot keep the client paging for ever.
 *
 * The limits and names below mirror the daemon's schemas (daemon/core.c, core_case.c,
 * ops.c, model.c) so that a mistake is caught before anything is sent, with exit status
 * 2. The daemon has the last word: if the two ever disagree, it refuses (exit status 1)
 * and says why.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cmd.h"
#include "consult.h"
#include "coverage.h"
#include "households.h"
#include "import.h"
#include "keys.h"
#include "pairing.h"
#include "render.h"
#include "reports.h"
#include "watch.h"

#define N(a) (sizeof a / sizeof a[0])
#define CMD_SPEC(s) .spec = s, .nspec = N(s)
#define CMD_NO_PROGRESS "paging did not advance ('next' is not past 'after')"

/* ---- the daemon's limits and names ---- */

#define CMD_MAX_TEXT	4096	/* descriptions, summaries, notes, reasons */
#define CMD_MAX_TITLE	200	/* titles, places, references, rules */
#define CMD_MAX_NAME	100	/* names of units, people, the campaign */
#define CMD_MAX_UNITS	16	/* responsible units */
#define CMD_MAX_COUNT	1000000	/* residents */
#define CMD_MAX_LIMIT	1000	/* a page */

static const char *const cmd_unit_kinds[] = {
	"county", "township", "street", "village", "organ", NULL
};
static const char *const cmd_roles[] = {
	"cadre", "resident_cadre", "leader", "unit_head", "county_leader", "theme_office",
	"supervision", "admin", NULL
};
static const char *const cmd_kinds[] = {
	"problem", "petition", "household_issue", "lagging_village", NULL
};
static const char *const cmd_areas[] = { "grassroots", "development", "livelihood", NULL };
static const char *const cmd_sources[] = {
	"consultation", "research_visit", "deputies", "letters_visits", "household_consultation",
	NULL
};
static const char *const cmd_steps[] = {
	"identified", "planned", "committed", "resolved", "journaled", "crossed_off", NULL
};
static const char *const cmd_venues[] = { "county_news", "notice_board", NULL };
static const char *const cmd_forms[] = {
	"coordination", "handover", "onsite", "decision", "team", NULL
};

/* Request fields: REQ ones must be given. */
#define REQ true
#define OPT false
#define F_STR(k, req, lo, hi, one) \
	{ .key = k, .type = PT_STR, .required = req, .min = lo, .max = hi, .oneof = one }
#define F_TEXT(k, req) F_STR(k, req, 1, CMD_MAX_TEXT, NULL)
#define F_ENUM(k, req, names) F_STR(k, req, 1, 32, names)
#define F_UINT(k, req, lo, hi) { .key = k, .type = PT_UINT, .required = req, .min = lo, .max = hi }
#define F_ID(k, req) { .key = k, .type = PT_ID, .required = req }
#define F_IDS(k, req, lo) \
	{ .key = k, .type = PT_IDS, .required = req, .min = lo, .max = CMD_MAX_UNITS }
#define F_DATE(k, req) { .key = k, .type = PT_DATE, .required = req }
#define F_BOOL(k, req) { .key = k, .type = PT_BOOL, .required = req }
#define F_NONE { .key = NULL }

/* The handling deadline, one of three ways (the daemon checks that one is given where
 * one is needed). */
#define DEADLINE_OPTS \
	{ "--deadline", ARGS_STR, "D", "the handling deadline, YYYY-MM-DD, not past",	\
	  F_DATE("deadline", OPT) },							\
	{ "--deadline-days", ARGS_UINT, "N", "or: N calendar days from today",		\
	  F_UINT("deadline_days", OPT, 1, 3660) },					\
	{ "--deadline-working-days", ARGS_UINT, "N", "or: N working days from today "	\
	  "(recomputed if the calendar changes)", F_UINT("deadline_working_days", OPT, 1, 1000) }
#define CASE_OPERAND { "CASE", ARGS_UINT, NULL, "the case's id", F_UINT("case", REQ, 1, UINT64_MAX) }
#define LIMIT(what, dflt) { "--limit", ARGS_UINT, "N", "at most N " what " a page (1 to 1000; " \
			    "default " dflt ")", F_UINT("limit", OPT, 1, CMD_MAX_LIMIT) }
#define ALL(what) { "--all", ARGS_FLAG, NULL, "page on until the last " what, F_NONE }

/* ---- the county: units, people, the campaign ---- */

static const struct args_spec cmd_unit_put_spec[] = {
	{ "ID", ARGS_STR, NULL, "the unit's id: letters, digits, '.', '_', '-' (e.g. anling)",
	  F_ID("unit", REQ) },
	{ "--name", ARGS_STR, "NAME", "its name, 1 to 100 bytes (e.g. 安岭乡)",
	  F_STR("name", REQ, 1, CMD_MAX_NAME, NULL) },
	{ "--kind", ARGS_STR, "K", "county, township, street, village or organ",
	  F_STR("kind", REQ, 1, 16, cmd_unit_kinds) },
	{ "--parent", ARGS_STR, "P", "the unit above: the county for townships, streets and "
	  "organs; a township or street for villages", F_ID("parent", OPT) },
};

static const struct args_spec cmd_unit_show_spec[] = {
	{ "ID", ARGS_STR, NULL, "the unit's id", F_ID("unit", REQ) },
};

static const struct args_spec cmd_unit_list_spec[] = {
	{ "--parent", ARGS_STR, "P", "only the units directly under P", F_ID("parent", OPT) },
	{ "--kind", ARGS_STR, "K", "only units of this kind",
	  F_STR("kind", OPT, 1, 16, cmd_unit_kinds) },
	{ "--within", ARGS_STR, "U", "only U and the units below it, at any depth",
	  F_ID("within", OPT) },
	LIMIT("units", "100"),
	{ "--after", ARGS_STR, "ID", "only units whose id sorts after ID", F_ID("after", OPT) },
	ALL("unit"),
};

static const struct args_spec cmd_person_put_spec[] = {
	{ "ID", ARGS_STR, NULL, "the person's id: letters, digits, '.', '_', '-' (e.g. wang.li); "
	  "it is their --actor", F_ID("person", REQ) },
	{ "--name", ARGS_STR, "NAME", "their name, 1 to 100 bytes",
	  F_STR("name", REQ, 1, CMD_MAX_NAME, NULL) },
	{ "--unit", ARGS_STR, "U", "the unit they belong to", F_ID("unit", REQ) },
	{ "--role", ARGS_CSV, "R", "cadre, resident_cadre, leader, unit_head, county_leader, "
	  "theme_office, supervision or admin; repeat or separate with commas",
	  { .key = "roles", .type = PT_STRS, .required = REQ, .min = 1, .max = 8,
	    .item_max = 32 } },
	{ "--village", ARGS_STR, "V", "the village a resident_cadre is stationed in",
	  F_ID("village", OPT) },
};

static const struct args_spec cmd_person_show_spec[] = {
	{ "ID", ARGS_STR, NULL, "the person's id", F_ID("person", REQ) },
};

static const struct args_spec cmd_person_list_spec[] = {
	{ "--unit", ARGS_STR, "U", "only people of unit U itself", F_ID("unit", OPT) },
	{ "--role", ARGS_STR, "R", "only people with this role",
	  F_STR("role", OPT, 1, 32, cmd_roles) },
	{ "--within", ARGS_STR, "U", "only people of U and the units below it",
	  F_ID("within", OPT) },
	LIMIT("people", "100"),
	{ "--after", ARGS_STR, "ID", "only people whose id sorts after ID", F_ID("after", OPT) },
	ALL("person"),
};

static const char *const cmd_milestones[] = {
	"identify", "consult", "plan", "commit", "journal", "pair", "visit", NULL
};

static const struct args_spec cmd_coverage_spec[] = {
	{ "--unit", ARGS_STR, "U", "only unit U and the units below it", F_ID("unit", OPT) },
	{ "--milestone", ARGS_STR, "M", "only this milestone: identify, consult, plan, commit, "
	  "journal, pair or visit", F_STR("milestone", OPT, 1, 16, cmd_milestones) },
	{ "--by-unit", ARGS_FLAG, NULL, "per unit, how many people, cases and households are "
	  "missing, instead of who", F_NONE },
};

static const struct args_spec cmd_campaign_set_spec[] = {
	{ "NAME", ARGS_STR, NULL, "the campaign's name, 1 to 100 bytes",
	  F_STR("name", REQ, 1, CMD_MAX_NAME, NULL) },
	{ "--start", ARGS_STR, "D", "its first day, YYYY-MM-DD", F_DATE("start", REQ) },
	{ "--end", ARGS_STR, "D", "its last day", F_DATE("end", REQ) },
	{ "--identify-by", ARGS_STR, "D", "when problems are to be identified",
	  F_DATE("identify_by", OPT) },
	{ "--consult-by", ARGS_STR, "D", "when residents are to be consulted",
	  F_DATE("consult_by", OPT) },
	{ "--plan-by", ARGS_STR, "D", "when plans are due", F_DATE("plan_by", OPT) },
	{ "--commit-by", ARGS_STR, "D", "when commitments are to be published",
	  F_DATE("commit_by", OPT) },
	{ "--journal-by", ARGS_STR, "D", "when journals are due", F_DATE("journal_by", OPT) },
	{ "--pair-by", ARGS_STR, "D", "when every pairing cadre and every low-income and "
	  "near-low-income household is paired", F_DATE("pair_by", OPT) },
	{ "--visit-by", ARGS_STR, "D", "when every paired household has had its first visit",
	  F_DATE("visit_by", OPT) },
	{ "--threshold", ARGS_UINT, "PCT", "the residents' satisfaction, in percent, that "
	  "crossing a case off needs (default 80)", F_UINT("threshold", OPT, 0, 100) },
};

/* ---- households: the register, pairing, visits ---- */

static const char *const cmd_categories[] = { "low_income", "near_low_income", "other", NULL };

#define F_LINE(k, req, lo, hi) \
	{ .key = k, .type = PT_LINE, .required = req, .min = lo, .max = hi }
#define HOUSEHOLD_OPERAND \
	{ "HOUSEHOLD", ARGS_STR, NULL, "the household's id (its number in the county's " \
	  "register)", F_ID("household", REQ) }

static const struct args_spec cmd_household_put_spec[] = {
	HOUSEHOLD_OPERAND,
	{ "--village", ARGS_STR, "V", "the village it lives in", F_ID("village", REQ) },
	{ "--category", ARGS_STR, "C", "low_income (低保户), near_low_income (低保边缘户) or "
	  "other", F_ENUM("category", REQ, cmd_categories) },
	{ "--members", ARGS_UINT, "N", "people in the household, 1 to 99",
	  F_UINT("members", REQ, 1, 99) },
	{ "--head", ARGS_STR, "NAME", "the head of the household, 1 to 100 bytes (sensitive)",
	  F_LINE("head", REQ, 1, CMD_MAX_NAME) },
	{ "--needs", ARGS_SEMI, "A;B", "what it needs, as tags of 1 to 32 bytes (medical, "
	  "housing, schooling, employment, ...); separate with ';' or repeat; at most 16",
	  { .key = "needs", .type = PT_STRS, .min = 0, .max = 16, .item_max = 32 } },
	{ "--id-number", ARGS_STR, "ID", "the head's identity card number (sensitive)",
	  F_LINE("id_number", OPT, 1, 32) },
	{ "--phone", ARGS_STR, "PHONE", "a phone number (sensitive)", F_LINE("phone", OPT, 1, 32) },
	{ "--address", ARGS_STR, "ADDR", "the address, 1 to 200 bytes (sensitive)",
	  F_LINE("address", OPT, 1, CMD_MAX_TITLE) },
	{ "--member-names", ARGS_SEMI, "A;B", "the other members' names (sensitive); separate "
	  "with ';' or repeat; at most 20",
	  { .key = "member_names", .type = PT_STRS, .min = 0, .max = 20,
	    .item_max = CMD_MAX_NAME } },
	{ "--notes", ARGS_TEXT, "TEXT", "about the family, up to 2000 bytes (sensitive; '-': "
	  "stdin)", F_STR("notes", OPT, 0, 2000, NULL) },
};

static const struct args_spec cmd_household_show_spec[] = {
	HOUSEHOLD_OPERAND,
};

static const struct args_spec cmd_household_history_spec[] = {
	HOUSEHOLD_OPERAND,
	{ "--after", ARGS_UINT, "SEQ", "from after log entry SEQ on (default: from the start)",
	  F_UINT("after", OPT, 0, UINT64_MAX) },
	{ "--limit", ARGS_UINT, "N", "read N entries a request (1 to 1000; default 1000); "
	  "history reads them all", F_UINT("limit", OPT, 1, CMD_MAX_LIMIT) },
};

static const struct args_spec cmd_household_list_spec[] = {
	{ "--village", ARGS_STR, "V", "only households of village V", F_ID("village", OPT) },
	{ "--cadre", ARGS_STR, "P", "only households paired with P", F_ID("cadre", OPT) },
	{ "--within", ARGS_STR, "U", "only households of villages of U or below it",
	  F_ID("within", OPT) },
	{ "--category", ARGS_STR, "C", "only this category: low_income, near_low_income or other",
	  F_ENUM("category", OPT, cmd_categories) },
	{ "--paired", ARGS_YESNO, "yes|no", "only households with (yes) or without (no) a "
	  "cadre", F_BOOL("paired", OPT) },
	{ "--visited", ARGS_YESNO, "yes|no", "only households visited at least once (yes) or "
	  "never (no)", F_BOOL("visited", OPT) },
	{ "--limit", ARGS_UINT, "N", "at most N households (1 to 1000; default 100), reading on "
	  "past those the filters leave out", F_UINT("limit", OPT, 1, CMD_MAX_LIMIT) },
	{ "--after", ARGS_STR, "ID", "only households whose id sorts after ID",
	  F_ID("after", OPT) },
	ALL("household"),
};

static const struct args_spec cmd_visit_spec[] = {
	HOUSEHOLD_OPERAND,
	{ "--done", ARGS_TEXT, "TEXT", "what was done, 1 to 2000 bytes ('-': stdin)",
	  F_STR("done", REQ, 1, 2000, NULL) },
	{ "--support", ARGS_TEXT, "TEXT", "the support given: money, goods, a job found, a form "
	  "filed (up to 2000 bytes)", F_STR("support", OPT, 0, 2000, NULL) },
	{ "--date", ARGS_STR, "D", "the day of the visit (default today; not in the future)",
	  F_DATE("date", OPT) },
};

/* nanti pair: the command line; the request is one of the two below. */
static const struct args_spec cmd_pair_spec[] = {
	HOUSEHOLD_OPERAND,
	{ "CADRE", ARGS_OPTSTR, NULL, "the cadre who looks after it (county leader, leader, unit "
	  "head, cadre or resident cadre)", F_NONE },
	{ "--remove", ARGS_FLAG, NULL, "unpair the household instead (no CADRE)", F_NONE },
};
static const struct args_spec cmd_pair_req_spec[] = {
	HOUSEHOLD_OPERAND,
	{ "CADRE", ARGS_STR, NULL, "the cadre", F_ID("cadre", REQ) },
};

/* ---- cases: opening, the steps, what may happen any time ---- */

static const struct args_spec cmd_open_spec[] = {
	{ "TITLE", ARGS_STR, NULL, "what the case is about (1 to 200 bytes)",
	  F_STR("title", REQ, 1, CMD_MAX_TITLE, NULL) },
	{ "--area", ARGS_STR, "A", "grassroots, development or livelihood",
	  F_ENUM("area", REQ, cmd_areas) },
	{ "--unit", ARGS_STR, "U", "the unit (jurisdiction) the case belongs to",
	  F_ID("unit", REQ) },
	{ "--kind", ARGS_STR, "K", "problem (the default), petition, household_issue or "
	  "lagging_village", F_ENUM("kind", OPT, cmd_kinds) },
	{ "--source", ARGS_STR, "S", "where it came from: consultation, research_visit, "
	  "deputies, letters_visits or household_consultation",
	  F_ENUM("source", OPT, cmd_sources) },
	{ "--lead", ARGS_STR, "P", "the one responsible person (default: the actor)",
	  F_ID("lead", OPT) },
	{ "--units", ARGS_CSV, "A,B", "the responsible units; repeat or separate with commas",
	  F_IDS("units", OPT, 0) },
	DEADLINE_OPTS,
	{ "--tag", ARGS_LIST, "T", "a tag of 1 to 32 bytes; repeat for more (at most 16)",
	  { .key = "tags", .type = PT_STRS, .min = 0, .max = 16, .item_max = 32 } },
	{ "--taker", ARGS_STR, "P", "a petition's case-taking leader (a county leader or a "
	  "leadership member); petitions need one", F_ID("taker", OPT) },
	{ "--petitioner-name", ARGS_STR, "NAME", "a petition's petitioner (sensitive: never in "
	  "the log)", F_STR("petitioner_name", OPT, 1, 100, NULL) },
	{ "--petitioner-id-number", ARGS_STR, "ID", "the petitioner's identity card number "
	  "(sensitive)", F_STR("petitioner_id_number", OPT, 1, 32, NULL) },
	{ "--petitioner-phone", ARGS_STR, "PHONE", "the petitioner's phone (sensitive)",
	  F_STR("petitioner_phone", OPT, 1, 32, NULL) },
	{ "--petitioner-address", ARGS_STR, "ADDR", "the petitioner's address (sensitive)",
	  F_STR("petitioner_address", OPT, 1, 200, NULL) },
	{ "--description", ARGS_TEXT, "TEXT", "the longer story, up to 4096 bytes ('-': stdin)",
	  F_STR("description", OPT, 0, CMD_MAX_TEXT, NULL) },
};

static const struct args_spec cmd_plan_spec[] = {
	CASE_OPERAND,
	{ "--measures", ARGS_TEXT, "TEXT", "what will be done ('-': stdin)",
	  F_TEXT("measures", REQ) },
	{ "--schedule", ARGS_TEXT, "TEXT", "when, step by step", F_TEXT("schedule", REQ) },
	DEADLINE_OPTS,
	{ "--units", ARGS_CSV, "A,B", "the responsible units (1 to 16); repeat or separate "
	  "with commas", F_IDS("units", REQ, 1) },
	{ "--lead", ARGS_STR, "P", "confirm the lead (it must be the case's lead; "
	  "`nanti reassign` changes it)", F_ID("lead", OPT) },
};

static const struct args_spec cmd_consult_spec[] = {
	CASE_OPERAND,
	{ "--date", ARGS_STR, "D", "when the residents were consulted (not in the future)",
	  F_DATE("date", REQ) },
	{ "--place", ARGS_STR, "P", "where, 1 to 200 bytes (e.g. 村部)",
	  F_STR("place", REQ, 1, CMD_MAX_TITLE, NULL) },
	{ "--residents", ARGS_UINT, "N", "how many residents took part",
	  F_UINT("residents", REQ, 1, CMD_MAX_COUNT) },
	{ "--summary", ARGS_TEXT, "TEXT", "what was said ('-': stdin)", F_TEXT("summary", REQ) },
	{ "--changes", ARGS_TEXT, "TEXT", "what it changed in the plan", F_TEXT("changes", OPT) },
};

static const struct args_spec cmd_commit_spec[] = {
	CASE_OPERAND,
	{ "--venue", ARGS_STR, "V", "where the commitment was published: county_news or "
	  "notice_board", F_STR("venue", REQ, 1, 16, cmd_venues) },
	{ "--date", ARGS_STR, "D", "when it was published (not in the future)",
	  F_DATE("date", REQ) },
	{ "--ref", ARGS_STR, "R", "the issue, page or photo reference, 1 to 200 bytes",
	  F_STR("ref", REQ, 1, CMD_MAX_TITLE, NULL) },
	{ "--board", ARGS_STR, "VILLAGE", "the village whose notice board holds it (with "
	  "--venue notice_board)", F_ID("board", OPT) },
};

static const struct args_spec cmd_coordinate_spec[] = {
	CASE_OPERAND,
	{ "--form", ARGS_STR, "F", "coordination, handover, onsite, decision or team",
	  F_STR("form", REQ, 1, 16, cmd_forms) },
	{ "--date", ARGS_STR, "D", "when it took place (not in the future)",
	  F_DATE("date", REQ) },
	{ "--summary", ARGS_TEXT, "TEXT", "what was agreed ('-': stdin)", F_TEXT("summary", REQ) },
	{ "--units", ARGS_CSV, "A,B", "the units that took part", F_IDS("units", OPT, 0) },
};

static const struct args_spec cmd_resolve_spec[] = {
	CASE_OPERAND,
	{ "--summary", ARGS_TEXT, "TEXT", "what was done ('-': stdin)", F_TEXT("summary", REQ) },
};

static const struct args_spec cmd_journal_spec[] = {
	CASE_OPERAND,
	{ "--process", ARGS_TEXT, "TEXT", "how the case was handled ('-': stdin)",
	  F_TEXT("process", REQ) },
	{ "--result", ARGS_TEXT, "TEXT", "what came of it", F_TEXT("result", REQ) },
	{ "--satisfied", ARGS_UINT, "N", "residents satisfied",
	  F_UINT("satisfied", REQ, 0, CMD_MAX_COUNT) },
	{ "--basically-satisfied", ARGS_UINT, "N", "residents basically satisfied",
	  F_UINT("basically_satisfied", REQ, 0, CMD_MAX_COUNT) },
	{ "--dissatisfied", ARGS_UINT, "N", "residents dissatisfied",
	  F_UINT("dissatisfied", REQ, 0, CMD_MAX_COUNT) },
};

static const struct args_spec cmd_outcome_spec[] = {
	CASE_OPERAND,
	{ "--rule", ARGS_STR, "R", "the rule or mechanism the case produced, 1 to 200 bytes",
	  F_STR("rule", REQ, 1, CMD_MAX_TITLE, NULL) },
	{ "--summary", ARGS_TEXT, "TEXT", "more about it ('-': stdin)", F_TEXT("summary", OPT) },
};

static const struct args_spec cmd_verify_spec[] = {
	CASE_OPERAND,
	{ "--cross-off", ARGS_CONST, "cross_off", "the case is done: cross it off",
	  F_STR("verdict", REQ, 1, 16, NULL) },
	{ "--return", ARGS_CONST, "return", "it is not done: send it back to work (with --reason)",
	  F_STR("verdict", REQ, 1, 16, NULL) },
	{ "--reason", ARGS_TEXT, "TEXT", "why ('-': stdin); needed with --return",
	  F_TEXT("reason", OPT) },
};

static const struct args_spec cmd_deadlines_spec[] = {
	{ "--unit", ARGS_STR, "U", "only unit U and the units below it", F_ID("unit", OPT) },
	{ "--within", ARGS_UINT, "DAYS", "deadlines up to DAYS days ahead (default 14); passed "
	  "ones always", F_UINT("within", OPT, 0, 3660) },
};

static void cmd_show_deadlines(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	deadlines_render(stdout, rep->root);
}

static const struct args_spec cmd_extend_spec[] = {
	CASE_OPERAND,
	{ "--until", ARGS_STR, "D", "the deadline asked for, YYYY-MM-DD", F_DATE("until", REQ) },
	{ "--reason", ARGS_TEXT, "TEXT", "why ('-': stdin)", F_TEXT("reason", REQ) },
};

static const struct args_spec cmd_decide_spec[] = {
	CASE_OPERAND,
	{ "--approve", ARGS_YESNO, "yes|no", "grant the extension asked for, or refuse it",
	  F_BOOL("approve", REQ) },
	{ "--reason", ARGS_TEXT, "TEXT", "why ('-': stdin); needed to refuse",
	  F_TEXT("reason", OPT) },
};

static const struct args_spec cmd_ack_spec[] = {
	CASE_OPERAND,
	{ "--level", ARGS_UINT, "N", "the level acknowledged: 0 overdue (the lead), 1.. the "
	  "escalations", F_UINT("level", REQ, 0, 8) },
};

static const struct args_spec cmd_reason_spec[] = {
	CASE_OPERAND,
	{ "--reason", ARGS_TEXT, "TEXT", "why ('-': stdin)", F_TEXT("reason", REQ) },
};

static const struct args_spec cmd_reassign_spec[] = {
	CASE_OPERAND,
	{ "--lead", ARGS_STR, "P", "the new lead", F_ID("lead", REQ) },
	{ "--reason", ARGS_TEXT, "TEXT", "why ('-': stdin)", F_TEXT("reason", REQ) },
};

static const struct args_spec cmd_note_spec[] = {
	CASE_OPERAND,
	{ "TEXT", ARGS_TEXT, NULL, "the note, 1 to 4096 bytes ('-': read it from stdin)",
	  F_TEXT("text", REQ) },
};

static const struct args_spec cmd_guarantee_spec[] = {
	CASE_OPERAND,
	{ "--promise-kept", ARGS_YESNO, "yes|no", "is the promise to the petitioner kept?",
	  F_BOOL("promise_kept", OPT) },
	{ "--stable", ARGS_YESNO, "yes|no", "is the petitioner's situation stable?",
	  F_BOOL("stable", OPT) },
	{ "--note", ARGS_TEXT, "TEXT", "more about it ('-': stdin)", F_TEXT("note", OPT) },
};

static const struct args_spec cmd_repeat_spec[] = {
	CASE_OPERAND,
	{ "--summary", ARGS_TEXT, "TEXT", "what the petitioner came back about ('-': stdin)",
	  F_TEXT("summary", REQ) },
	{ "--skip-level", ARGS_FLAG, NULL, "the petition went over the head of the level below",
	  F_BOOL("skip_level", REQ) },
};

/* ---- reading cases and the log ---- */

static const struct args_spec cmd_show_spec[] = {
	CASE_OPERAND,
	{ "--after", ARGS_UINT, "SEQ", "tell the story from after log entry SEQ on "
	  "(default: from the start)", F_UINT("after", OPT, 0, UINT64_MAX) },
	{ "--limit", ARGS_UINT, "N", "read the history N entries a request (1 to 1000; "
	  "default 1000); show reads it all", F_UINT("limit", OPT, 1, CMD_MAX_LIMIT) },
};

static const struct args_spec cmd_list_spec[] = {
	{ "--kind", ARGS_STR, "K", "only cases of this kind", F_ENUM("kind", OPT, cmd_kinds) },
	{ "--area", ARGS_STR, "A", "only cases of this area", F_ENUM("area", OPT, cmd_areas) },
	{ "--unit", ARGS_STR, "U", "only cases of unit U and the units below it",
	  F_ID("unit", OPT) },
	{ "--lead", ARGS_STR, "P", "only cases led by P", F_ID("lead", OPT) },
	{ "--step", ARGS_STR, "S", "only cases at this step: identified, planned, committed, "
	  "resolved, journaled or crossed_off", F_STR("step", OPT, 1, 16, cmd_steps) },
	{ "--overdue", ARGS_FLAG, NULL, "only cases past their deadline and not crossed off",
	  F_BOOL("overdue", OPT) },
	LIMIT("cases", "50"),
	{ "--after", ARGS_UINT, "ID", "only cases whose id is greater than ID",
	  F_UINT("after", OPT, 0, UINT64_MAX) },
	ALL("case"),
};

const struct args_spec cmd_log_spec[CMD_LOG_NSPEC] = {
	{ "--after", ARGS_UINT, "SEQ", "only entries after SEQ (default 0: from the start)",
	  F_UINT("after", OPT, 0, UINT64_MAX) },
	LIMIT("entries", "100"),
	{ "--topic", ARGS_STR, "PREFIX", "only entries whose topic starts with PREFIX",
	  F_STR("topic", OPT, 0, 64, NULL) },
	{ "--all", ARGS_FLAG, NULL, "page on until the end of the log", F_NONE },
};

static const struct args_spec cmd_watch_spec[] = {
	{ "TOPIC", ARGS_REST, NULL, "topic prefixes to follow, e.g. case.noted (default: all)",
	  F_NONE },
	{ "--from", ARGS_UINT, "SEQ", "first replay the log from entry SEQ on (0: all of it)",
	  F_NONE },
	{ "--after", ARGS_UINT, "SEQ", "first replay the entries after SEQ (a saved cursor)",
	  F_NONE },
	{ "--exec", ARGS_STR, "CMD", "bridge each entry to /bin/sh -c CMD (its JSON on stdin) "
	  "until CMD exits 0; needs --cursor", F_NONE },
	{ "--cursor", ARGS_STR, "FILE", "the bridge's last seq delivered; a first start (no "
	  "FILE) begins at --from, default 1", F_NONE },
	{ "--retry-max", ARGS_UINT, "SECONDS", "a failed CMD runs again after 0.5 s, doubling "
	  "up to SECONDS (default 60)", F_NONE },
};

const struct args_spec cmd_write_spec[] = {
	{ "--request-id", ARGS_STR, "ID",
	  "the request's id (default: a fresh one); reuse it to retry safely", F_NONE },
};
const size_t cmd_write_nspec = N(cmd_write_spec);

/* ---- output helpers ---- */

static uint64_t cmd_u64(const msgpack_object *map, const char *key)
{
	uint64_t u = 0;

	proto_obj_u64(proto_map_get(map, key), &u);
	return u;
}

static proto_str cmd_str(const msgpack_object *map, const char *key)
{
	proto_str s = { "-", 1 };

	proto_obj_str(proto_map_get(map, key), &s);
	return s;
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
	printf("reports           %" PRIu64 " since start", cmd_u64(rep->root, "reports"));
	if (cmd_u64(rep->root, "reports") > 0)
		printf(", %.1f ms each on average", (double)cmd_u64(rep->root, "report_us") / 1e3 /
		       (double)cmd_u64(rep->root, "reports"));
	if (cmd_u64(rep->root, "reports_refused") > 0)
		printf(", %" PRIu64 " refused (the report thread was busy)",
		       cmd_u64(rep->root, "reports_refused"));
	printf("\n");
	printf("armed timers      %" PRIu64 " (cases and milestones with a timer)\n",
	       cmd_u64(rep->root, "armed_timers"));
	printf("ledger            %.1f MB used of a %.1f MB map (%.0f%%), data.mdb %.1f MB\n",
	       (double)cmd_u64(rep->root, "map_used") / 1048576.0,
	       (double)cmd_u64(rep->root, "map_size") / 1048576.0,
	       cmd_u64(rep->root, "map_size") > 0 ? 100.0 * (double)cmd_u64(rep->root, "map_used") /
						    (double)cmd_u64(rep->root, "map_size") : 0.0,
	       (double)cmd_u64(rep->root, "file_size") / 1048576.0);
	printf("readers           %" PRIu64 " of %" PRIu64 " slots\n", cmd_u64(rep->root, "readers"),
	       cmd_u64(rep->root, "max_readers"));
}

/* unit put, person put: the row's data is the reply key that names the record. */
static void cmd_show_put(const struct run *r, const struct conn_reply *rep)
{
	const char *key = r->cmd->data;
	bool changed = true;

	proto_obj_bool(proto_map_get(rep->root, "changed"), &changed);
	printf("%s ", key);
	render_text(stdout, cmd_str(rep->root, key), 0);
	if (!changed) {
		puts(" unchanged: the ledger already holds it so");
		return;
	}
	fputs(" saved", stdout);
	cmd_applied(rep);
}

static void cmd_show_campaign_set(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	fputs("campaign ", stdout);
	render_text(stdout, cmd_str(rep->root, "name"), 0);
	fputs(" set", stdout);
	cmd_applied(rep);
}

/* What a write on a case did, for its confirmation (the row's data). */
struct cmd_step {
	const char *done;	/* "plan filed" */
	bool may_return;	/* ending at `committed` means the case went back to work */
};

/* "case 12: journal filed, sent back to work; step committed (seq 40)" */
static void cmd_show_step(const struct run *r, const struct conn_reply *rep)
{
	const struct cmd_step *s = r->cmd->data;
	proto_str step = cmd_str(rep->root, "step");

	printf("case %" PRIu64 ": %s", cmd_u64(rep->root, "case"), s->done);
	if (s->may_return && proto_str_eq(step, "committed"))
		fputs(", sent back to work", stdout);
	fputs("; step ", stdout);
	render_text(stdout, step, 32);
	cmd_applied(rep);
}

static void cmd_show_unit(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	render_unit(stdout, proto_map_get(rep->root, "unit"));
}

static void cmd_show_person(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	render_person(stdout, proto_map_get(rep->root, "person"));
}

static void cmd_show_household(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	render_household(stdout, rep->root);
}

/* "household 1001: visit recorded, 3 so far (seq 40)" */
static void cmd_show_visit(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	fputs("household ", stdout);
	render_text(stdout, cmd_str(rep->root, "household"), 0);
	printf(": visit recorded, %" PRIu64 " so far", cmd_u64(rep->root, "visits"));
	cmd_applied(rep);
}

static void cmd_show_coverage(const struct run *r, const struct conn_reply *rep)
{
	coverage_render(stdout, rep->root, args_find(r->t, "--by-unit")->set);
}

static void cmd_show_campaign(const struct run *r, const struct conn_reply *rep)
{
	(void)r;
	render_campaign(stdout, rep->root);
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

/* One request, one reply: the writes, ping, stats, the record views. */
int cmd_single(struct run *r)
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

/* ---- paging: list, unit list, person list, show ---- */

void cmd_pages_fini(struct cmd_pages *p)
{
	for (size_t i = 0; i < p->npages; i++) {
		conn_reply_fini(p->page[i]);
		free(p->page[i]);
	}
	free(p->page);
	free(p->row);
}

/* Append the maps of the array under key in rep to p->row. */
static int cmd_pages_rows(const struct run *r, struct cmd_pages *p, const struct conn_reply *rep,
			  const char *key)
{
	const msgpack_object *items = proto_map_get(rep->root, key);
	const msgpack_object **grown;

	grown = realloc(p->row, (p->nrows + items->via.array.size + 1) * sizeof *grown);
	if (grown == NULL) {
		cli_warn("out of memory");
		return CLI_LOCAL;
	}
	p->row = grown;
	for (uint32_t i = 0; i < items->via.array.size; i++) {
		if (items->via.array.ptr[i].type != MSGPACK_OBJECT_MAP) {
			char what[PROTO_WHY];

			snprintf(what, sizeof what, "an item of '%s' is not a map", key);
			return conn_bad_reply(&r->conn, what);
		}
		p->row[p->nrows++] = &items->via.array.ptr[i];
	}
	return CLI_OK;
}

/* Is the key b past the key a, in the daemon's (LMDB's) order? */
static bool cmd_key_past(proto_str a, proto_str b)
{
	int c = memcmp(a.ptr, b.ptr, a.len < b.len ? a.len : b.len);

	return c < 0 || (c == 0 && b.len > a.len);
}

int cmd_pages_read(struct run *r, const char *key, bool all, size_t want, struct cmd_pages *p,
		   const msgpack_object **next)
{
	struct args_val *after = args_find(r->t, "--after");
	bool by_id = after != NULL && r->t->spec[after - r->t->val].type == ARGS_STR;
	struct conn_reply **grown, *page;
	proto_out out;
	proto_str id;
	uint64_t u;
	int rc;

	proto_out_init(&out);
	if ((rc = cmd_start(r, r->cmd->op, r->t, &out)) != CLI_OK)
		goto out;
	for (;;) {
		grown = realloc(p->page, (p->npages + 1) * sizeof *grown);
		if (grown == NULL || (grown[p->npages] = calloc(1, sizeof **grown)) == NULL) {
			p->page = grown != NULL ? grown : p->page;
			cli_warn("out of memory");
			rc = CLI_LOCAL;
			goto out;
		}
		p->page = grown;
		page = p->page[p->npages++];
		rc = cmd_send(r, &out, r->cmd->needs, page);
		if (rc == CLI_OK)
			rc = cmd_pages_rows(r, p, page, key);
		if (rc == CLI_REFUSED && r->conf->json)
			render_json(stdout, page->root);
		if (rc != CLI_OK)
			goto out;
		*next = proto_map_get(page->root, "next");
		if ((*next)->type == MSGPACK_OBJECT_NIL || (!all && p->nrows >= want))
			break;
		if (by_id) {
			proto_obj_str(*next, &id);
			if (after->set && !cmd_key_past((proto_str){ after->s, (uint32_t)after->len },
							id)) {
				rc = conn_bad_reply(&r->conn, CMD_NO_PROGRESS);
				goto out;
			}
			after->s = id.ptr;	/* into page, which p keeps */
			after->len = id.len;
		} else {
			proto_obj_u64(*next, &u);
			if (after->set && u <= after->u) {
				rc = conn_bad_reply(&r->conn, CMD_NO_PROGRESS);
				goto out;
			}
			after->u = u;
		}
		after->set = true;
		if ((rc = cmd_build(r, r->cmd->op, r->t, &out)) != CLI_OK)
			goto out;
	}
out:
	proto_out_fini(&out);
	return rc;
}

/*
 * The lists: read the pages (one, every one with --all, or as many as it takes to find
 * want items when want > 0: a filtered page may come short), then print them as the row's
 * render table (its data), or as JSON: the reply itself when one page was asked for and
 * read whole, else one object of the same shape holding every item. Past want items the list is cut,
 * and `next` is then the id (under idkey) of the last item shown.
 */
static int cmd_list_pages(struct run *r, size_t want, const char *idkey)
{
	bool all = args_find(r->t, "--all")->set;
	struct cmd_pages p = { NULL, 0, NULL, 0 };
	const msgpack_object *next = NULL;
	const struct conn_reply *last;
	int rc;

	if ((rc = cmd_pages_read(r, "items", all, want, &p, &next)) != CLI_OK)
		goto out;
	last = p.page[p.npages - 1];
	if (!all && want > 0 && p.nrows > want) {
		p.nrows = want;
		next = proto_map_get(p.row[want - 1], idkey);
		if (next == NULL || next->type != MSGPACK_OBJECT_STR) {
			rc = conn_bad_reply(&r->conn, "an item without its id");
			goto out;
		}
	}
	if (r->conf->json && !all && p.npages == 1 && next == proto_map_get(last->root, "next")) {
		render_json(stdout, last->root);
	} else if (r->conf->json) {
		printf("{\"ok\":true,\"seq\":%" PRIu64 ",\"items\":[", last->seq);
		for (size_t i = 0; i < p.nrows; i++) {
			fputs(i > 0 ? "," : "", stdout);
			proto_json(stdout, p.row[i]);
		}
		fputs("],\"next\":", stdout);
		proto_json(stdout, next);
		fputs("}\n", stdout);
	} else {
		render_table(stdout, r->cmd->data, p.row, p.nrows);
		if (next->type != MSGPACK_OBJECT_NIL) {
			printf("(more: nanti %s --after ", r->cmd->name);
			if (next->type == MSGPACK_OBJECT_STR)
				render_text(stdout, (proto_str){ next->via.str.ptr,
								 next->via.str.size }, 0);
			else
				printf("%" PRIu64, next->via.u64);
			puts(", or --all)");
		}
	}
out:
	cmd_pages_fini(&p);
	return rc;
}

/* list, unit list, person list: a page, or --all. */
static int cmd_list(struct run *r)
{
	return cmd_list_pages(r, 0, NULL);
}

/* household list: --limit households (default 100), however many pages the filters take. */
static int cmd_household_list(struct run *r)
{
	const struct args_val *limit = args_find(r->t, "--limit");

	return cmd_list_pages(r, limit->set ? limit->u : 100, "household");
}

/* show: the case and its whole history, however many pages that takes. */
static int cmd_show_case(struct run *r)
{
	struct args_val *after = args_find(r->t, "--after");
	uint64_t prev = after->set ? after->u : 0, seq;
	struct cmd_pages p = { NULL, 0, NULL, 0 };
	const msgpack_object *next = NULL, *last;
	int rc;

	if ((rc = cmd_pages_read(r, "history", true, 0, &p, &next)) != CLI_OK)
		goto out;
	for (size_t i = 0; i < p.nrows; i++, prev = seq) {
		if (!proto_obj_u64(proto_map_get(p.row[i], "seq"), &seq) || seq <= prev) {
			rc = conn_bad_reply(&r->conn, "history entries without a 'seq' in order");
			goto out;
		}
	}
	last = p.page[p.npages - 1]->root;
	if (r->conf->json && p.npages == 1) {
		render_json(stdout, last);
	} else if (r->conf->json) {
		/* one reply of the same shape: the newest case, every page's history */
		printf("{\"ok\":true,\"seq\":%" PRIu64 ",\"case\":", p.page[p.npages - 1]->seq);
		proto_json(stdout, proto_map_get(last, "case"));
		fputs(",\"history\":[", stdout);
		for (size_t i = 0; i < p.nrows; i++) {
			fputs(i > 0 ? "," : "", stdout);
			proto_json(stdout, p.row[i]);
		}
		fputs("],\"next\":null,\"satisfaction\":", stdout);
		if (proto_map_get(last, "satisfaction") != NULL)
			proto_json(stdout, proto_map_get(last, "satisfaction"));
		else
			fputs("null", stdout);
		fputs("}\n", stdout);
	} else {
		render_case(stdout, last, p.row, p.nrows);
	}
out:
	cmd_pages_fini(&p);
	return rc;
}

/* household history: the household's entries, every page, told as a story. */
static int cmd_household_history(struct run *r)
{
	struct cmd_pages p = { NULL, 0, NULL, 0 };
	const msgpack_object *next = NULL;
	const struct conn_reply *last;
	uint64_t prev = args_find(r->t, "--after")->u, seq;
	int rc;

	if ((rc = cmd_pages_read(r, "items", true, 0, &p, &next)) != CLI_OK)
		goto out;
	for (size_t i = 0; i < p.nrows; i++, prev = seq) {
		if (!proto_obj_u64(proto_map_get(p.row[i], "seq"), &seq) || seq <= prev) {
			rc = conn_bad_reply(&r->conn, "history entries without a 'seq' in order");
			goto out;
		}
	}
	last = p.page[p.npages - 1];
	if (r->conf->json && p.npages == 1) {
		render_json(stdout, last->root);
	} else if (r->conf->json) {
		printf("{\"ok\":true,\"seq\":%" PRIu64 ",\"items\":[", last->seq);
		for (size_t i = 0; i < p.nrows; i++) {
			fputs(i > 0 ? "," : "", stdout);
			proto_json(stdout, p.row[i]);
		}
		fputs("],\"next\":null}\n", stdout);
	} else {
		fputs("household ", stdout);
		render_text(stdout, (proto_str){ args_find(r->t, "HOUSEHOLD")->s,
						 (uint32_t)args_find(r->t, "HOUSEHOLD")->len }, 0);
		if (p.nrows == 0)
			puts(": no history to show");
		else
			printf(": %zu %s\n", p.nrows, p.nrows == 1 ? "entry" : "entries");
		render_history(stdout, p.row, p.nrows);
	}
out:
	cmd_pages_fini(&p);
	return rc;
}

/*
 * pair: `nanti pair H CADRE` (household.pair) or `nanti pair --remove H` (household.unpair),
 * one request of its own table, so that it is checked as every request is.
 */
static int cmd_pair(struct run *r)
{
	static const struct cmd_need needs[] = { { "household", CMD_T(STR) }, { NULL, 0 } };
	const struct args_val *h = args_find(r->t, "HOUSEHOLD"), *cadre = args_find(r->t, "CADRE");
	bool remove = args_find(r->t, "--remove")->set, changed = true;
	struct args_val val[2];
	struct args_table t = { cmd_pair_req_spec, remove ? 1 : 2, val };
	struct conn_reply rep = { .root = NULL };
	proto_out out;
	int rc;

	if (remove == cadre->set) {
		cli_warn(remove ? "pair: --remove takes the household alone" :
			 "pair: missing CADRE (see nanti pair --help)");
		return CLI_USAGE;
	}
	memset(val, 0, sizeof val);
	val[0] = *h;
	val[1] = *cadre;
	proto_out_init(&out);
	if ((rc = cmd_start(r, remove ? "household.unpair" : "household.pair", &t, &out)) != CLI_OK)
		goto out;
	rc = cmd_send(r, &out, needs, &rep);
	if (rc != CLI_OK && rc != CLI_REFUSED)
		goto out;
	if (r->conf->json) {
		render_json(stdout, rep.root);
		goto out;
	}
	if (rc != CLI_OK)
		goto out;
	proto_obj_bool(proto_map_get(rep.root, "changed"), &changed);
	fputs("household ", stdout);
	render_text(stdout, cmd_str(rep.root, "household"), 0);
	if (remove && changed)
		fputs(" unpaired", stdout);
	else if (remove)
		fputs(" was not paired: unchanged\n", stdout);
	else if (changed)
		printf(" paired with %s", cadre->s);
	else
		printf(" is paired with %s already: unchanged\n", cadre->s);
	if (changed)
		cmd_applied(&rep);
out:
	conn_reply_fini(&rep);
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

#define NEEDS_NONE { { NULL, 0 } }
#define NEEDS_STEP { { "case", CMD_T(POSITIVE_INTEGER) }, { "step", CMD_T(STR) }, { NULL, 0 } }
#define NEEDS_PAGE(next) { { "items", CMD_T(ARRAY) }, { "next", next | CMD_T(NIL) }, { NULL, 0 } }

/* A write on a case: one request, confirmed by cmd_show_step() as `did` and `back` say.
 * The last arguments are the about text and, if any, more fields (.section). */
#define CMD_CASE_WRITE(nm, opname, specs, did, back, sum, ...) \
	{ .name = nm, .op = opname, .write = true, .summary = sum, CMD_SPEC(specs), \
	  .run = cmd_single, .show = cmd_show_step, .needs = NEEDS_STEP, \
	  .data = &(const struct cmd_step){ did, back }, .about = __VA_ARGS__ }

/* A write on the county's records: one request (sent by runfn), confirmed by fn; key
 * names the record. */
#define CMD_ORG_WRITE_BY(runfn, nm, opname, specs, fn, key, sum, ...) \
	{ .name = nm, .op = opname, .write = true, .summary = sum, CMD_SPEC(specs), \
	  .run = runfn, .show = fn, .needs = { { key, CMD_T(STR) }, { NULL, 0 } }, \
	  .data = key, .about = __VA_ARGS__ }
#define CMD_ORG_WRITE(...) CMD_ORG_WRITE_BY(cmd_single, __VA_ARGS__)

const struct cmd cmd_table[] = {
	/* the seven steps, in order */
	CMD_CASE_WRITE("open", "case.open", cmd_open_spec, "opened", false,
		       "open a case: identify a problem",
		       "Open a case in a unit and print its id; it starts at step identified.\n"
		       "The actor (--actor) leads it unless --lead names someone else. Cases are\n"
		       "opened within one's own unit and the units below it, by their lead or a\n"
		       "unit head above, or by the theme office.",
		       .section = "a case, step by step"),
	CMD_CASE_WRITE("plan", "case.plan", cmd_plan_spec, "plan filed", false,
		       "file the plan: measures, schedule, deadline, responsible units",
		       "File a case's plan; the case becomes planned. Only its lead files\n"
		       "it, while the case is identified or planned (a new plan replaces the last)."),
	CMD_CASE_WRITE("consult", "case.consult", cmd_consult_spec, "consultation recorded", false,
		       "record a consultation with the residents",
		       "Record a consultation with the residents, by the case's lead, at\n"
		       "any step before crossing off. The commitment needs one first; after the\n"
		       "resolution, one more lets the residents judge the result for the journal."),
	CMD_CASE_WRITE("commit", "case.commit", cmd_commit_spec, "commitment recorded", false,
		       "record the published commitment",
		       "Record the public commitment: where and when it was published.\n"
		       "The case must be planned and consulted on; it becomes committed. A\n"
		       "commitment on a notice board names the village (--board). By the lead or\n"
		       "the theme office."),
	CMD_CASE_WRITE("coordinate", "case.coordinate", cmd_coordinate_spec,
		       "coordination recorded", false, "record a joint coordination",
		       "Record how the units worked together, while the case is planned\n"
		       "or committed. The resolution needs one first. By the case's lead."),
	CMD_CASE_WRITE("resolve", "case.resolve", cmd_resolve_spec, "resolution recorded", false,
		       "record the resolution",
		       "Record that the case is resolved; it must be committed and have a\n"
		       "coordination. By the case's lead. Then consult the residents again, and\n"
		       "file the journal."),
	CMD_CASE_WRITE("journal", "case.journal", cmd_journal_spec, "journal filed", true,
		       "file the journal with the residents' satisfaction",
		       "File the journal of a resolved case: how it was handled, what\n"
		       "came of it, and how many residents are satisfied, basically satisfied and\n"
		       "dissatisfied. It needs a consultation after the resolution. If the\n"
		       "satisfaction (satisfied and basically satisfied) is below the campaign's\n"
		       "threshold the case goes back to work (committed) and counts a redo;\n"
		       "otherwise it is journaled and waits for verification. By the lead."),
	CMD_CASE_WRITE("outcome", "case.outcome", cmd_outcome_spec, "outcome recorded", false,
		       "record a rule or mechanism the case produced",
		       "Record a lasting outcome of a resolved, journaled or crossed-off case: a\n"
		       "rule or mechanism it produced. By the case's lead."),
	CMD_CASE_WRITE("verify", "case.verify", cmd_verify_spec, "verified", true,
		       "cross a case off, or send it back to work",
		       "The theme office verifies a resolved or journaled case: --cross-off\n"
		       "crosses a journaled case off when the residents' satisfaction meets the\n"
		       "threshold; --return --reason R sends it back to work and counts a redo."),
	/* what may happen at any time */
	CMD_CASE_WRITE("note", "case.note", cmd_note_spec, "note added", false,
		       "add a progress note to a case",
		       "Add a progress note to a case, at any step. TEXT '-' reads it from stdin.\n"
		       "By the lead, anyone whose reach takes in the case's unit, or the offices.",
		       .section = "at any time"),
	CMD_CASE_WRITE("reassign", "case.reassign", cmd_reassign_spec, "lead reassigned", false,
		       "hand a case to a new lead",
		       "Hand an open case to a new lead. By a unit head over the case's unit (to\n"
		       "someone of their unit or below) or the theme office."),
	CMD_CASE_WRITE("escalate", "case.escalate", cmd_reason_spec, "escalated", false,
		       "escalate a case",
		       "Escalate an open case, with the reason. By the supervision office or the\n"
		       "theme office."),
	CMD_CASE_WRITE("reopen", "case.reopen", cmd_reason_spec, "reopened", true,
		       "reopen a crossed-off case",
		       "Reopen a crossed-off case: it goes back to work (committed). By the theme\n"
		       "office."),
	CMD_CASE_WRITE("guarantee", "case.guarantee", cmd_guarantee_spec, "guarantees reported",
		       false, "report on a petition's guarantees",
		       "Report on a petition case's guarantees: is the promise kept, is the\n"
		       "situation stable. Give at least one. By the lead or the case-taking leader."),
	CMD_CASE_WRITE("repeat", "case.repeat", cmd_repeat_spec, "repeat petition recorded", false,
		       "record a repeat petition",
		       "Record that a petitioner came back (--skip-level: over the head of the\n"
		       "level below). It counts against the case, and a resolved, journaled or\n"
		       "crossed-off case goes back to work (committed). By the lead, the\n"
		       "case-taking leader or the offices."),
	/* deadlines */
	{ .name = "deadlines", .op = "deadline.list",
	  .summary = "deadlines passed and coming, by unit",
	  .about = "List the cases not yet resolved whose handling deadline has passed or comes\n"
		   "within --within days, soonest first, under their units: the deadline, how\n"
		   "far off or how late, the lead, and the escalation reached.",
	  CMD_SPEC(cmd_deadlines_spec), .run = cmd_single, .show = cmd_show_deadlines,
	  .needs = { { "items", CMD_T(ARRAY) }, { "today", CMD_T(STR) }, { NULL, 0 } },
	  .section = "deadlines" },
	CMD_CASE_WRITE("extend", "case.extend", cmd_extend_spec, "extension asked for", false,
		       "ask for a later deadline",
		       "Ask the theme office for a later handling deadline, with the reason, before\n"
		       "the deadline passes. At most 2 extensions a case, each of at most 30 days.\n"
		       "By the lead."),
	CMD_CASE_WRITE("decide-extension", "case.decide_extension", cmd_decide_spec,
		       "extension decided", false, "grant or refuse an extension",
		       "Grant (--approve yes: the deadline moves and its reminders and escalations\n"
		       "follow) or refuse (--approve no --reason R) the extension a case's lead\n"
		       "asked for. By the theme office."),
	CMD_CASE_WRITE("ack", "case.ack", cmd_ack_spec, "acknowledged", false,
		       "acknowledge a deadline notification (签收)",
		       "Acknowledge an overdue notification (--level 0, by the lead) or an\n"
		       "escalation (--level N, by whom it notified). It is recorded; the ladder goes\n"
		       "on until the case is resolved."),
	/* reading cases */
	{ .name = "show", .op = "case.get", .summary = "tell a case's whole story",
	  .about = "Show a case: its fields, then its history in order, one block per event:\n"
		   "when, who, what happened in words, the step it moved to, and the evidence\n"
		   "recorded. The history is read to the end, a page at a time. With --json, one\n"
		   "object shaped like the reply of case.get, holding the whole history.",
	  CMD_SPEC(cmd_show_spec), .run = cmd_show_case,
	  .needs = { { "case", CMD_T(MAP) }, { "history", CMD_T(ARRAY) },
		     { "next", CMD_T(POSITIVE_INTEGER) | CMD_T(NIL) }, { NULL, 0 } },
	  .section = "reading cases" },
	{ .name = "list", .op = "case.list", .summary = "list cases",
	  .about = "List cases in id order, a page at a time (--all: every page), with the step\n"
		   "each is at and its deadline. Filters combine.",
	  CMD_SPEC(cmd_list_spec), .run = cmd_list, .needs = NEEDS_PAGE(CMD_T(POSITIVE_INTEGER)),
	  .data = &render_cases_table },
	/* the county */
	CMD_ORG_WRITE("unit put", "unit.put", cmd_unit_put_spec, cmd_show_put, "unit",
		      "register a unit, or rename or move it",
		      "Register a unit of the county, or change its name or parent; its kind never\n"
		      "changes. The county comes first, then townships, streets and organs under\n"
		      "it, then villages under townships and streets. Only an admin may, once the\n"
		      "ledger has one; before that anyone may, to set the county up.",
		      .section = "the county"),
	{ .name = "unit show", .op = "unit.get", .summary = "show a unit",
	  .about = "Show a unit: its name, kind and parent.",
	  CMD_SPEC(cmd_unit_show_spec), .run = cmd_single, .show = cmd_show_unit,
	  .needs = { { "unit", CMD_T(MAP) }, { NULL, 0 } } },
	{ .name = "unit list", .op = "unit.list", .summary = "list units",
	  .about = "List units in id order, a page at a time (--all: every page). Filters combine.",
	  CMD_SPEC(cmd_unit_list_spec), .run = cmd_list, .needs = NEEDS_PAGE(CMD_T(STR)),
	  .data = &render_units_table },
	CMD_ORG_WRITE("person put", "person.put", cmd_person_put_spec, cmd_show_put, "person",
		      "register a person, or change their unit or roles",
		      "Register a person, or change their name, unit or roles. Only registered\n"
		      "people act on cases: their id is the --actor. Only an admin may, once the\n"
		      "ledger has one; the first admin is registered by anyone."),
	{ .name = "person show", .op = "person.get", .summary = "show a person",
	  .about = "Show a person: their name, unit and roles.",
	  CMD_SPEC(cmd_person_show_spec), .run = cmd_single, .show = cmd_show_person,
	  .needs = { { "person", CMD_T(MAP) }, { NULL, 0 } } },
	{ .name = "person list", .op = "person.list", .summary = "list people",
	  .about = "List people in id order, a page at a time (--all: every page). Filters\n"
		   "combine.",
	  CMD_SPEC(cmd_person_list_spec), .run = cmd_list, .needs = NEEDS_PAGE(CMD_T(STR)),
	  .data = &render_people_table },
	{ .name = "import units", .op = "unit.put", .summary = "register units from a CSV file",
	  .about = "Register or update units from a CSV file with the columns unit, name, kind,\n"
		   "parent (docs/client.md). Every row is checked first, against the file and\n"
		   "the ledger; if any is invalid, each error is printed as FILE:LINE: message\n"
		   "and nothing is sent (exit status 1). Then the units go in, the county first,\n"
		   "then townships, streets and organs, then villages. Importing the same file\n"
		   "again changes nothing. By an admin (anyone, before the ledger has one).",
	  .spec = import_spec, .nspec = IMPORT_NSPEC, .run = import_run, .data = &import_units },
	{ .name = "import people", .op = "person.put", .summary = "register people from a CSV file",
	  .about = "Register or update people from a CSV file with the columns person, name,\n"
		   "unit, roles (separated by ';'), village (for a resident_cadre). Their units\n"
		   "must be in the ledger: import the units first. Checked first as import units\n"
		   "is: an invalid file changes nothing. Importing the same file again changes\n"
		   "nothing. By an admin (before the ledger has one: by the admin the file makes).",
	  .spec = import_spec, .nspec = IMPORT_NSPEC, .run = import_run, .data = &import_people },
	CMD_ORG_WRITE("campaign set", "campaign.set", cmd_campaign_set_spec,
		      cmd_show_campaign_set, "name", "define the campaign: dates, threshold",
		      "Define the campaign: its period, the dates each step is due, and the\n"
		      "residents' satisfaction that crossing a case off needs. Setting it again\n"
		      "replaces it whole. By the theme office or an admin."),
	{ .name = "campaign show", .op = "campaign.get", .summary = "show the campaign",
	  .about = "Show the campaign: its period, the dates each step is due, and the threshold\n"
		   "of satisfaction for crossing a case off.",
	  .run = cmd_single, .show = cmd_show_campaign,
	  .needs = { { "threshold", CMD_T(POSITIVE_INTEGER) }, { NULL, 0 } } },
	{ .name = "coverage", .op = "campaign.coverage",
	  .summary = "who has not done their part, per milestone and unit",
	  .about = "For each milestone of the campaign (identify, consult, plan, commit,\n"
		   "journal, pair, visit): its date, how many have done it in time, and one line\n"
		   "per person missing it, by unit, with the cases (or households) concerned. A\n"
		   "step recorded after the milestone's date counts as missing it.",
	  CMD_SPEC(cmd_coverage_spec), .run = cmd_single, .show = cmd_show_coverage,
	  .needs = { { "milestones", CMD_T(ARRAY) }, { "today", CMD_T(STR) }, { NULL, 0 } } },
	/* reports */
	{ .name = "report", .op = "report.units",
	  .summary = "units compared: progress, overdue, on time, satisfaction, gaps",
	  .about = "Compare the units directly under --unit (default: the county) over a period\n"
		   "(--from, default the campaign's start; --to, default today): one row per unit,\n"
		   "laggards first, with its cases, progress, overdue cases, on-time rate, days\n"
		   "overdue, extensions, redos, satisfaction, consultations, households visited\n"
		   "and who is missing each milestone passed; then the totals and the headline\n"
		   "figures. --sub-units adds each unit's own sub-units under it. --csv: one line\n"
		   "per unit and sub-unit with every figure. --html FILE: the dashboard, one\n"
		   "self-contained HTML page with its charts, fit to print (A4). By those who\n"
		   "read the whole county, or whose reach holds the unit.",
	  .spec = reports_units_spec, .nspec = REPORTS_UNITS_NSPEC, .run = reports_units_run,
	  .needs = { { "totals", CMD_T(MAP) }, { "rows", CMD_T(ARRAY) }, { NULL, 0 } },
	  .section = "reports" },
	{ .name = "scorecard", .op = "report.scorecard",
	  .summary = "a person's or a unit's scorecard over a period",
	  .about = "The figures of the cases --person P leads, or of the cases of --unit U and\n"
		   "the units under it, over a period (--from, --to), one per line. --explain\n"
		   "lists under each figure the log entries behind it (seq, day, topic, case,\n"
		   "what it adds), at most 500 a figure. --csv: the figures as one line under a\n"
		   "header (with --explain: one line per entry). A person's scorecard is theirs to\n"
		   "read, and their unit's readers'.",
	  .spec = reports_scorecard_spec, .nspec = REPORTS_SCORECARD_NSPEC,
	  .run = reports_scorecard_run,
	  .needs = { { "figures", CMD_T(MAP) }, { NULL, 0 } } },
	{ .name = "scorecards", .op = "report.people",
	  .summary = "every case owner's scorecard, side by side",
	  .about = "One line per person of --unit (default: the county) and the units under it\n"
		   "who leads a case, or must (county leaders, leadership members, village-\n"
		   "resident cadres), over a period (--from, --to): the figures of `nanti\n"
		   "scorecard --person`, in the columns of `nanti report`. Every page is read.\n"
		   "--csv: one line per person with every figure. By those who read the whole\n"
		   "county, or whose reach holds the unit.",
	  .spec = reports_people_spec, .nspec = REPORTS_PEOPLE_NSPEC, .run = reports_people_run,
	  .needs = NEEDS_PAGE(CMD_T(STR)) },
	{ .name = "commitments", .op = "report.commitments",
	  .summary = "the public commitment list (公开承诺), ready to publish",
	  .about = "The cases of --unit (default: the county) whose commitment is published,\n"
		   "grouped by unit: the problem, its lead, the measures, the schedule, the\n"
		   "deadline, and when and where it was published (the county news, or the\n"
		   "notice board of a village). --open leaves out the cases crossed off. Every\n"
		   "page is read. --csv: one line per case; --html FILE: a printable public\n"
		   "notice for a notice board. Anyone may read it.",
	  .spec = reports_commitments_spec, .nspec = REPORTS_COMMITMENTS_NSPEC,
	  .run = reports_commitments_run, .needs = NEEDS_PAGE(CMD_T(POSITIVE_INTEGER)) },
	/* households */
	{ .name = "household import", .op = "household.put",
	  .summary = "register or update households from a CSV file",
	  .about = "Register or update the household register (民情档案) from a CSV file with\n"
		   "the columns household, village, category, members, needs, head, id_number,\n"
		   "phone, address, member_names, notes (needs and member_names separated by\n"
		   "';'; docs/client.md). Every row is checked first, against the file and the\n"
		   "ledger; if any is invalid, each error is printed as FILE:LINE: message and\n"
		   "nothing is sent (exit status 1). Only the rows that differ from the ledger\n"
		   "are sent, many at a time: importing the same file again sends nothing. By\n"
		   "an admin, the theme office, or someone whose reach holds the villages.",
	  .spec = households_import_spec, .nspec = HOUSEHOLDS_IMPORT_NSPEC,
	  .run = households_import_run, .section = "households" },
	{ .name = "household export", .op = "household.list",
	  .summary = "the household register as a CSV file",
	  .about = "Write the households (of --village or --within, else all) as a CSV file that\n"
		   "household import reads back unchanged, in id order, sensitive fields and\n"
		   "all: written to FILE.tmp (mode 0600), then renamed to FILE; '-' or no FILE:\n"
		   "standard output. It needs someone who may see every household's sensitive\n"
		   "fields (an admin, the offices); a household that comes without them stops\n"
		   "the export (exit status 1) and no FILE is written.",
	  .spec = households_export_spec, .nspec = HOUSEHOLDS_EXPORT_NSPEC,
	  .run = households_export_run },
	CMD_ORG_WRITE("household put", "household.put", cmd_household_put_spec, cmd_show_put,
		      "household", "register a household, or change its record",
		      "Register a household of the register, or replace what its record says:\n"
		      "the fields not given are cleared (its pairing, visits and consultations\n"
		      "stay). Putting it exactly as it is changes nothing. The head, identity\n"
		      "number, phone, address, member names and notes are sensitive: never in the\n"
		      "log, shown only to those who look after the household. By an admin, the\n"
		      "theme office, or someone whose reach holds the village."),
	{ .name = "household show", .op = "household.get", .summary = "show a household",
	  .about = "Show a household: its record (the sensitive fields only if you may see\n"
		   "them), its cadre, its visits, and the cases that concern it.",
	  CMD_SPEC(cmd_household_show_spec), .run = cmd_single, .show = cmd_show_household,
	  .needs = { { "household", CMD_T(MAP) }, { NULL, 0 } } },
	{ .name = "household list", .op = "household.list", .summary = "list households",
	  .about = "List households in id order: at most --limit (default 100), or --all.\n"
		   "Filters combine; households you may not read are left out.",
	  CMD_SPEC(cmd_household_list_spec), .run = cmd_household_list,
	  .needs = NEEDS_PAGE(CMD_T(STR)), .data = &render_households_table },
	{ .name = "household history", .op = "household.history",
	  .summary = "tell a household's history",
	  .about = "Tell a household's history in order, one block per entry: its record put\n"
		   "and changed, its pairings, visits and consultations, the cases opened\n"
		   "about it. Read to the end, a page at a time.",
	  CMD_SPEC(cmd_household_history_spec), .run = cmd_household_history,
	  .needs = NEEDS_PAGE(CMD_T(POSITIVE_INTEGER)) },
	{ .name = "household consult", .op = "household.consult", .write = true,
	  .summary = "record a household consultation and open its problems as cases",
	  .about = "Record a household consultation (民情会诊) in VILLAGE about --households,\n"
		   "then open one case for each --problem it found: kind household_issue,\n"
		   "source household_consultation, in the village, naming the consultation and\n"
		   "the households the problem concerns ('H1,H2=TITLE'; a bare TITLE concerns\n"
		   "every household discussed). Prints the consultation's seq and the cases.\n"
		   "The cases' request ids are the consultation's with .p1, .p2, ...: after a\n"
		   "failure, run it again with the --request-id it printed, and nothing is\n"
		   "recorded twice.",
	  .spec = consult_spec, .nspec = CONSULT_NSPEC, .run = consult_run },
	{ .name = "pair", .write = true, .summary = "pair a household with a cadre (一户一干部)",
	  .about = "Pair HOUSEHOLD with CADRE, who looks after it, replacing the cadre it had;\n"
		   "--remove unpairs it. By an admin, the theme office, or a unit head whose\n"
		   "reach holds the household's village. Many at once: nanti pair import; the\n"
		   "list to publish: nanti pair list.",
	  CMD_SPEC(cmd_pair_spec), .run = cmd_pair },
	{ .name = "pair import", .op = "household.pair",
	  .summary = "pair households with cadres from a CSV file",
	  .about = "Pair households with cadres from a CSV file with the columns household,\n"
		   "cadre. Every row is checked first (the household and the cadre exist, the\n"
		   "cadre may pair, a household once, you may pair it); if any is invalid, each\n"
		   "error is printed as FILE:LINE: message and nothing is sent (exit status 1).\n"
		   "Rows already paired so are not sent: importing the same file again sends\n"
		   "nothing.",
	  .spec = pairing_import_spec, .nspec = PAIRING_IMPORT_NSPEC,
	  .run = pairing_import_run },
	{ .name = "pair list", .op = "household.pairings",
	  .summary = "the pairing list of a unit, ready to publish",
	  .about = "The pairing list (一户一干部) of --unit and the units below it, or of the\n"
		   "county: by unit, then by cadre, each cadre's households with their village,\n"
		   "category and head (when you may see it); a cadre not yet paired says so.\n"
		   "--csv writes one line per pairing for the office's tools.",
	  .spec = pairing_list_spec, .nspec = PAIRING_LIST_NSPEC, .run = pairing_list_run,
	  .needs = NEEDS_PAGE(CMD_T(STR)) },
	{ .name = "visit", .op = "household.visit", .write = true,
	  .summary = "record a visit to a household (走访)",
	  .about = "Record a visit to HOUSEHOLD by the actor: what was done and the support\n"
		   "given. By its paired cadre, anyone whose reach holds its village, or the\n"
		   "theme office.",
	  CMD_SPEC(cmd_visit_spec), .run = cmd_single, .show = cmd_show_visit,
	  .needs = { { "household", CMD_T(STR) }, { "visits", CMD_T(POSITIVE_INTEGER) },
		     { NULL, 0 } } },
	/* the log and the daemon */
	{ .name = "log", .op = "log.read", .summary = "read the log of changes",
	  .about = "Print log entries in seq order, a page at a time (--all: up to the end).\n"
		   "With --json, one JSON object per line: the entry.",
	  CMD_SPEC(cmd_log_spec), .run = cmd_log, .needs = NEEDS_NONE,
	  .section = "the log and the daemon" },
	{ .name = "watch", .events = true,
	  .summary = "follow the log live, missing nothing; or bridge it to a command",
	  .about = "Print log entries as they are committed, without gap or duplicate, until\n"
		   "SIGINT or SIGTERM (exit status 0). By default only new entries; --from SEQ or\n"
		   "--after SEQ first replays the log, then follows live. Entries missed by the live\n"
		   "feed (a slow reader, a reconnect) are read back from the log, as the subscriber\n"
		   "recipe of docs/protocol.md section 7 says. With --json, one entry per line.\n"
		   "\n"
		   "With --exec CMD --cursor FILE, a bridge that misses nothing: each entry (of the\n"
		   "TOPICs) goes, in seq order, to /bin/sh -c CMD as one JSON line on its stdin,\n"
		   "with NANTI_SEQ, NANTI_TOPIC and NANTI_CASE set; a failed CMD runs again for the\n"
		   "same entry with backoff, for ever. FILE (written durably) holds the last seq\n"
		   "delivered, and a restarted bridge resumes after it: at least once, so CMD must\n"
		   "be idempotent by NANTI_SEQ. A corrupt FILE is refused (exit status 5). SIGINT\n"
		   "or SIGTERM lets a running CMD finish; a second signal abandons it. An\n"
		   "unreachable daemon is waited for. See docs/bridges.md.",
	  CMD_SPEC(cmd_watch_spec), .run = watch_run, .needs = NEEDS_NONE },
	{ .name = "ping", .op = "ping", .summary = "check that the daemon answers",
	  .about = "Ask the daemon for its version, its clock and the last committed seq.",
	  .run = cmd_single, .show = cmd_show_ping,
	  .needs = { { "version", CMD_T(STR) }, { "now", CMD_T(POSITIVE_INTEGER) }, { NULL, 0 } } },
	{ .name = "stats", .op = "stats", .summary = "show the daemon's counters",
	  .about = "Show the number of cases, events and commits since start, the last commit's\n"
		   "duration, how busy the commit thread has been, the armed timers, and the\n"
		   "ledger's size, map and reader slots.",
	  .run = cmd_single, .show = cmd_show_stats,
	  .needs = { { "cases", CMD_T(POSITIVE_INTEGER) }, { "commits", CMD_T(POSITIVE_INTEGER) },
		     { NULL, 0 } } },
	{ .name = "admin stats", .op = "stats", .summary = "the ledger's size, map, readers, "
	  "timers and counters",
	  .about = "The same as nanti stats, for the administrator: the ledger's file size, the\n"
		   "map and how much of it is used, reader slots, armed timers, the last seq,\n"
		   "and the counters since start.",
	  .run = cmd_single, .show = cmd_show_stats,
	  .needs = { { "cases", CMD_T(POSITIVE_INTEGER) }, { "commits", CMD_T(POSITIVE_INTEGER) },
		     { NULL, 0 } }, .section = "administration" },
	CMD_ORG_WRITE_BY(keys_add_run, "admin key add", "key.add", keys_add_spec, cmd_show_put,
			 "person", "register a person's CURVE public key",
			 "Register PERSON's public key (made by nanti key gen on their machine), so\n"
			 "that they can connect over tcp. It replaces the key they had, which stops\n"
			 "working at once, on open connections too. A key is one person's. By an\n"
			 "admin."),
	CMD_ORG_WRITE("admin key revoke", "key.revoke", keys_revoke_spec, cmd_show_put, "person",
		      "revoke a person's CURVE key",
		      "Take PERSON's key away: new connections with it are refused, and connections\n"
		      "already open get forbidden on their next request. By an admin."),
	{ .name = "key gen", .summary = "make a CURVE key pair for connecting over tcp",
	  .about = "Make a key pair for nantid's tcp endpoints (CURVE): with --out, into FILE\n"
		   "(mode 0600, never overwritten) and print the public key; else print the key\n"
		   "file. An admin registers the public key (nanti admin key add); use --key FILE.",
	  .spec = keys_gen_spec, .nspec = KEYS_GEN_NSPEC, .run = keys_gen_run },
	{ .name = "admin backup", .summary = "a hot, compacting copy of the ledger",
	  .about = "Copy the ledger in the state directory to FILE while the daemon serves:\n"
		   "LMDB's compacting copy, in one read transaction, so requests are not held\n"
		   "up. FILE is written whole or not at all. Run it as a user who can read the\n"
		   "state directory (root, under the unit). Prints the last seq the copy holds.",
	  .spec = admin_backup_spec, .nspec = ADMIN_NSPEC, .run = admin_backup_run },
	{ .name = "admin restore", .summary = "put a backup in place as a ledger",
	  .about = "Copy FILE (made by nanti admin backup) to STATE/data.mdb, in a state\n"
		   "directory that holds no ledger; then start nantid on it\n"
		   "(docs/operations.md).",
	  .spec = admin_restore_spec, .nspec = ADMIN_NSPEC, .run = admin_restore_run },
	{ .name = "admin export", .summary = "the ledger as JSON lines",
	  .about = "Write the ledger in the state directory to FILE (- for standard output) as\n"
		   "JSON lines: the log, entry by entry, then the records, the ledger's settings\n"
		   "and the request ids it led to; from one read transaction, while the daemon\n"
		   "serves. FILE is written whole or not at all. nanti admin import reads it\n"
		   "back (the format: docs/operations.md).",
	  .spec = admin_export_spec, .nspec = ADMIN_NSPEC, .run = admin_export_run },
	{ .name = "admin import", .summary = "a ledger from an export",
	  .about = "Read an export (FILE, or - for standard input) into a state directory that\n"
		   "holds no ledger, checking every line against the log: all of it, or on any\n"
		   "mistake nothing, with the line it is on. The result equals the ledger that\n"
		   "was exported; start nantid on it.",
	  .spec = admin_import_spec, .nspec = ADMIN_IMPORT_NSPEC, .run = admin_import_run },
	{ .name = "admin verify", .summary = "check the log's hash chain",
	  .about = "Walk the whole log in the state directory, in one read transaction beside a\n"
		   "serving daemon, and check that every entry's hash follows from its content\n"
		   "and the hash before it: it prints the head hash (keep it elsewhere: a log\n"
		   "rewritten from some entry on, hashes and all, shows only as another head),\n"
		   "or the first entry where the chain breaks, with exit status 6.",
	  .spec = admin_verify_spec, .nspec = ADMIN_NSPEC - 1, .run = admin_verify_run },
};
const size_t cmd_count = N(cmd_table);

/* Does name ("admin key add") begin argv? How many words it took, else 0. */
static int cmd_words(const char *name, int argc, char *const *argv)
{
	int n = 0;

	for (const char *w = name; n < argc; n++) {
		size_t len = strcspn(w, " ");

		if (strlen(argv[n]) != len || strncmp(w, argv[n], len) != 0)
			return 0;
		if (w[len] == '\0')
			return n + 1;
		w += len + 1;
	}
	return 0;
}

/* The longest name wins: `nanti pair import F` is pair import, `nanti pair H C` is pair. */
const struct cmd *cmd_find(int argc, char *const *argv, int *words)
{
	const struct cmd *found = NULL;
	int n;

	*words = 0;
	for (size_t i = 0; i < cmd_count && argc > 0; i++) {
		if ((n = cmd_words(cmd_table[i].name, argc, argv)) > *words) {
			*words = n;
			found = &cmd_table[i];
		}
	}
	return found;
}

bool cmd_is_group(const char *word)
{
	size_t len = strlen(word);

	for (size_t i = 0; i < cmd_count; i++)
		if (strncmp(cmd_table[i].name, word, len) == 0 && cmd_table[i].name[len] == ' ')
			return true;
	return false;
}
