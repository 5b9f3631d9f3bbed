/*
 * model.h - the campaign's records: units, people, cases, the campaign; their
 * enumerations and their keys.
 *
 * Each record type is a struct plus a field table (rec.h) that gives its form on disk
 * (a positional array; later versions append fields) and on the wire (a map). The tables
 * live in daemon/model.c; the rules that change records live in daemon/core*.c and
 * daemon/perm.c.
 *
 * Strings in a decoded record point into the buffer it was decoded from: a value in a
 * transaction (valid until the transaction ends) or an effect's buffer.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "proto.h"
#include "rec.h"

#define MODEL_MAX_NAME	100	/* names of units and people */
#define CASE_MAX_TITLE	200
#define CASE_MAX_TEXT	4096	/* description, summaries, note text */
#define CASE_MAX_TAGS	16
#define CASE_MAX_TAG	32
#define CASE_MAX_UNITS	16	/* responsible units */
#define UNIT_MAX_DEPTH	8	/* county > township > village is 3; a bound for walks */
#define HH_MAX_CASE	16	/* households one case concerns */

/* ---- units: a tree, county > townships, streets, organs > villages ---- */

enum unit_kind { UNIT_COUNTY, UNIT_TOWNSHIP, UNIT_STREET, UNIT_VILLAGE, UNIT_ORGAN };
extern const char *const unit_kinds[];

struct unit_rec {
	proto_str id, name;
	uint32_t kind;
	proto_str parent;	/* empty for the county */
	int64_t created_at, updated_at;
	uint64_t created_seq, updated_seq;
};
extern const struct rec_desc unit_desc;

/* ---- people ---- */

enum role {
	ROLE_CADRE = 1 << 0,
	ROLE_RESIDENT = 1 << 1,		/* village-resident cadre */
	ROLE_LEADER = 1 << 2,		/* leadership member of a township, street or organ */
	ROLE_HEAD = 1 << 3,		/* unit head */
	ROLE_COUNTY = 1 << 4,		/* county leader */
	ROLE_THEME = 1 << 5,		/* theme office */
	ROLE_SUPERVISION = 1 << 6,	/* supervision office */
	ROLE_ADMIN = 1 << 7,
};
extern const char *const role_names[];	/* by bit number */

struct person_rec {
	proto_str id, name, unit;
	uint32_t roles;		/* enum role bits */
	proto_str village;	/* a village-resident cadre's village */
	int64_t created_at, updated_at;
	uint64_t created_seq, updated_seq;
	proto_str key;		/* their CURVE public key (Z85; key.add), empty: none */
};
extern const struct rec_desc person_desc;

/* ---- cases ---- */

enum case_kind { KIND_PROBLEM, KIND_PETITION, KIND_HOUSEHOLD, KIND_VILLAGE, KIND__N };
extern const char *const case_kinds[];
enum case_area { AREA_GRASSROOTS, AREA_DEVELOPMENT, AREA_LIVELIHOOD };
extern const char *const case_areas[];
extern const char *const case_sources[];	/* index 0: "unspecified" */

/*
 * Where a case stands. The seven steps of the campaign map onto these: identify
 * (identified), plan (planned), commitment (committed), consultation and coordination
 * (recorded on the way), resolution (resolved), journal (journaled), outcome (recorded),
 * verification (crossed_off).
 */
enum case_step {
	STEP_IDENTIFIED, STEP_PLANNED, STEP_COMMITTED, STEP_RESOLVED, STEP_JOURNALED,
	STEP_CROSSED_OFF, STEP__N
};
extern const char *const case_steps[];

struct case_rec {
	uint64_t id;
	uint32_t kind, area, source;
	proto_str title, description, unit, lead;
	proto_str units[CASE_MAX_UNITS];
	uint32_t nunits;
	proto_str tags[CASE_MAX_TAGS];
	uint32_t ntags;
	int64_t deadline;		/* handling deadline, a day; 0: not yet set */
	uint32_t step;
	proto_str opened_by;
	int64_t opened_at;
	uint64_t opened_seq;
	int64_t updated_at;
	uint64_t updated_seq;
	uint32_t events;		/* entries in the case's history */
	uint32_t consultations, consultations_after;	/* after: since the last resolution */
	uint32_t coordinations, outcomes, redos, reopens, escalations;
	int64_t planned_at, first_consulted_at, committed_at, resolved_at, journaled_at,
		crossed_at;
	uint64_t plan_seq, commit_seq, journal_seq;	/* log entries of the current ones */
	uint32_t satisfied, basic, dissatisfied;	/* the last journal's counts */
	proto_str taker;		/* petition: the case-taking leader */
	bool promise_kept, stable;	/* petition: two of the three guarantees */
	uint32_t repeats, skip_level_repeats;	/* petition: repeat petitions */
	/* the armed timers (Unix ms; 0: none), by slot (enum timer_slot) */
	int64_t timer_at[4];
	uint32_t chase_level;		/* what the chase timer fires: 0 overdue, then the ladder */
	int64_t extension_until;	/* a requested extension awaiting decision (a day); 0: none */
	uint32_t extensions;		/* extensions approved */
	uint32_t acked;			/* bit L: level L of the chase was acknowledged */
	/* how the handling deadline was computed, so that a new calendar can recompute it */
	uint32_t deadline_basis;	/* enum deadline_basis */
	int64_t deadline_from;		/* days and working days: counted from this day */
	uint32_t deadline_n;		/* ... this many */
	/* the time limit of the current step (working days from the day it began) */
	int64_t step_from;		/* the day the case reached its step */
	uint32_t step_limit;		/* working days it has to take the next; 0: no limit */
	int64_t step_due;		/* the last day for it (a day; 0: no limit) */
	uint32_t chase_repeats;		/* repeats of the level below chase_level so far */
	/* a petition's petitioner: sensitive (REC_SENSITIVE), never in the log */
	proto_str petitioner_name, petitioner_id_number, petitioner_phone, petitioner_address;
	/* the households it concerns (household.consult finds them; HH_MAX_CASE of them) */
	proto_str households[HH_MAX_CASE];
	uint32_t nhouseholds;
	uint64_t consultation;	/* the seq of the household.consulted entry that found it; 0 */
};

/* How a deadline was computed: a date given, or counted from a day in calendar days or
 * in working days (which a new calendar recomputes). */
enum deadline_basis { BASIS_DATE, BASIS_DAYS, BASIS_WORKING_DAYS };
extern const char *const deadline_bases[];
/* What a case in each step does next (the step its time limit is for): "plan", "commit",
 * "resolve", "journal", "verify", and "" for a crossed-off case. */
extern const char *const case_next_steps[];

/* ---- timers ---- */

/* A case's timers: two reminders before its deadline, the chase (overdue when the
 * deadline passes, then each level of the escalation ladder), and its step's time limit. */
enum timer_slot { SLOT_REMIND_FAR, SLOT_REMIND_NEAR, SLOT_CHASE, SLOT_STEP, SLOT__N };

/* timers: due (u64 BE, Unix ms), timer id (u64 BE) -> empty. A case has one key, for
 * the next of its timers due (the case record keeps them all): its timer id is case id *
 * 4 + that slot. A milestone's is TIMER_MILESTONE + milestone. */
#define TIMER_KEY_LEN 16
#define TIMER_MILESTONE (UINT64_C(1) << 63)
void timer_key(uint8_t key[TIMER_KEY_LEN], int64_t due, uint64_t case_id, unsigned slot);
/* The key of case id whose armed timers are at[] (0: not armed): its first due, the
 * lowest slot on a tie. False if none is armed. */
bool case_timer_key(uint8_t key[TIMER_KEY_LEN], uint64_t id, const int64_t at[4]);
void milestone_timer_key(uint8_t key[TIMER_KEY_LEN], int64_t due, unsigned m);
extern const struct rec_desc case_desc;

/* The residents' satisfaction in percent (satisfied and basically satisfied), or -1 when
 * no journal has counted anyone. */
int case_satisfaction(const struct case_rec *c);

/* ---- the campaign ---- */


struct campaign_rec {
	proto_str name;
	int64_t start, end;			/* days */
	int64_t identify_by, consult_by, plan_by, commit_by, journal_by;	/* days */
	uint32_t threshold;			/* satisfaction needed to cross off, percent */
	int64_t set_at;
	uint64_t set_seq;
	int64_t pair_by, visit_by;		/* days: pairing done, first visits done */
};
extern const struct rec_desc campaign_desc;
#define CAMPAIGN_DEFAULT_THRESHOLD 80

/* The campaign's milestones, in the order of the procedure (docs/workflow.md). */
enum milestone { MS_IDENTIFY, MS_CONSULT, MS_PLAN, MS_COMMIT, MS_JOURNAL, MS_PAIR, MS_VISIT,
		 MS__N };
extern const char *const milestone_names[];	/* "identify", ... NULL */
/* Is milestone m counted in households (pair, visit) rather than cases? */
static inline bool milestone_of_households(unsigned m)
{
	return m == MS_PAIR || m == MS_VISIT;
}
/* The date of milestone m (a day; 0: none). */
int64_t campaign_by(const struct campaign_rec *g, unsigned m);

/*
 * The chase of one milestone (meta key "milestone.NAME"): when its date passes, the
 * daemon tells each unit who has not done their part (`campaign.missing`), then climbs
 * the escalation ladder like a deadline (docs/deadlines.md).
 */
struct milestone_rec {
	int64_t by;		/* the date it is armed for (a day; 0: none) */
	int64_t at;		/* its armed timer (Unix ms; 0: none) */
	uint32_t level;		/* what the timer fires: 0 the milestone passed, then the ladder */
	proto_str cursor;	/* the last unit told at this level (units go in id order) */
	uint32_t units;		/* units told at this level */
};
extern const struct rec_desc milestone_desc;
#define META_MILESTONE_MAX 32
/* The meta key of milestone m; its length. */
size_t milestone_key(char key[META_MILESTONE_MAX], unsigned m);

/* Calendar days are counted in the county's time zone (configuration `time-zone`, a zone
 * without daylight saving time); this is the default's, China Standard Time. */
#define MODEL_UTC_OFFSET_MIN 480

/* ---- households (民情档案) and their pairing (一户一干部) ---- */

enum hh_category { HH_LOW_INCOME, HH_NEAR_LOW_INCOME, HH_OTHER };
extern const char *const hh_categories[];
#define HH_MAX_MEMBERS	99
#define HH_MAX_NEEDS	16
#define HH_MAX_NEED	32
#define HH_MAX_NAMES	20	/* member_names */
#define HH_MAX_NOTES	2000
#define HH_MAX_TEXT	2000	/* a visit's done and support */
#define HH_MAX_CONSULT	20	/* households one consultation discusses */

struct household_rec {
	proto_str id, village;
	uint32_t category, members;
	proto_str needs[HH_MAX_NEEDS];
	uint32_t nneeds;
	/* sensitive (REC_SENSITIVE): never in the log */
	proto_str head, id_number, phone, address;
	proto_str member_names[HH_MAX_NAMES];
	uint32_t nmember_names;
	proto_str notes;
	/* what the campaign did with it */
	proto_str cadre;		/* paired with; empty: none */
	int64_t paired_at;
	uint32_t visits;
	int64_t first_visit, last_visit;	/* days; 0: none */
	uint32_t consultations;
	int64_t created_at, updated_at;
	uint64_t created_seq, updated_seq;
};
extern const struct rec_desc household_desc;
/* The fields household.put describes: the first HH_PUT_FIELDS of the table. */
#define HH_PUT_FIELDS	11
/* Does the category need a cadre (low-income and near-low-income households)? */
static inline bool hh_needs_cadre(uint32_t category)
{
	return category == HH_LOW_INCOME || category == HH_NEAR_LOW_INCOME;
}
/* Roles of those who must each own a hard problem (the identify milestone): county
 * leaders, leadership members, village-resident cadres */
#define CASE_OWNER_ROLES	(ROLE_COUNTY | ROLE_LEADER | ROLE_RESIDENT)
/* Roles of a pairing cadre (whose unit must also not be a village: perm_pairing_cadre) */
#define HH_PAIR_ROLES	(ROLE_COUNTY | ROLE_LEADER | ROLE_HEAD | ROLE_CADRE | ROLE_RESIDENT)

/*
 * hindex: what is derived from households, one database, four families of keys, each a
 * tag byte, an id, a NUL (ids hold none, so a prefix ends there) and a tail:
 *   'h' household \0 seq(u64 BE)    its history: the log entries that name it
 *   'v' village \0 household        households by village
 *   'c' cadre \0 household          households by paired cadre
 *   'k' household \0 case(u64 BE)   cases that concern it
 *   'q' \0 seq(u64 BE) -> village   the household consultations (the id is empty)
 */
enum { HIX_HIST = 'h', HIX_VILLAGE = 'v', HIX_CADRE = 'c', HIX_CASE = 'k', HIX_CONSULT = 'q' };
#define HIX_KEY_MAX (2 + PROTO_MAX_NAME_ID + PROTO_MAX_NAME_ID)
/* The key tag, id, NUL, then tail[0..tlen) into key; returns its length. */
size_t hix_key(uint8_t key[HIX_KEY_MAX], int tag, proto_str id, const void *tail, size_t tlen);
/* Its prefix (tag, id, NUL): the length. */
static inline size_t hix_prefix(uint8_t key[HIX_KEY_MAX], int tag, proto_str id)
{
	return hix_key(key, tag, id, NULL, 0);
}

/* ---- keys ---- */

/* history: case id, seq (both big-endian) -> empty: the log entries of one case */
#define HIST_KEY_LEN 16
void hist_key(uint8_t key[HIST_KEY_LEN], uint64_t case_id, uint64_t seq);

/* meta keys */
#define META_CAMPAIGN "campaign"
#define META_ADMINS   "admins"	/* u64 BE: people holding the admin role */
#define META_CALENDAR "calendar"	/* u64 BE: the fingerprint of the calendar the deadlines
					 * and timers were computed with (cal_fingerprint()) */

#endif
