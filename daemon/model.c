/*
 * model.c - the field tables of units, people, cases and the campaign (see model.h).
 *
 * The order of each table is the order of the fields on disk. Never reorder or remove a
 * row: append new fields at the end (rec.h explains why that keeps old records readable).
 * The wire names are the table's keys; docs/protocol.md lists them.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

#define F(T, key, type, member, flags) \
	{ key, type, offsetof(T, member), 0, 0, NULL, flags }
#define FE(T, key, member, names, flags) \
	{ key, RT_ENUM, offsetof(T, member), 0, 0, names, flags }
#define FS(T, key, member, count, flags) \
	{ key, RT_STRS, offsetof(T, member), offsetof(T, count), \
	  sizeof(((T *)0)->member) / sizeof(proto_str), NULL, flags }

/* ---- units ---- */

const char *const unit_kinds[] = { "county", "township", "street", "village", "organ", NULL };

static const struct rec_field unit_fields[] = {
	F(struct unit_rec, "unit", RT_STR, id, REC_SUMMARY | REC_KEY),
	F(struct unit_rec, "name", RT_STR, name, REC_SUMMARY),
	FE(struct unit_rec, "kind", kind, unit_kinds, REC_SUMMARY),
	F(struct unit_rec, "parent", RT_STR, parent, REC_SUMMARY | REC_OMIT0),
	F(struct unit_rec, "created_at", RT_I64, created_at, 0),
	F(struct unit_rec, "updated_at", RT_I64, updated_at, 0),
	F(struct unit_rec, "created_seq", RT_U64, created_seq, 0),
	F(struct unit_rec, "updated_seq", RT_U64, updated_seq, 0),
};
const struct rec_desc unit_desc = {
	unit_fields, sizeof unit_fields / sizeof unit_fields[0], sizeof(struct unit_rec)
};

/* ---- people ---- */

const char *const role_names[] = {
	"cadre", "resident_cadre", "leader", "unit_head", "county_leader", "theme_office",
	"supervision", "admin", NULL
};

static const struct rec_field person_fields[] = {
	F(struct person_rec, "person", RT_STR, id, REC_SUMMARY | REC_KEY),
	F(struct person_rec, "name", RT_STR, name, REC_SUMMARY),
	F(struct person_rec, "unit", RT_STR, unit, REC_SUMMARY),
	{ "roles", RT_FLAGS, offsetof(struct person_rec, roles), 0, 0, role_names, REC_SUMMARY },
	F(struct person_rec, "village", RT_STR, village, REC_SUMMARY | REC_OMIT0),
	F(struct person_rec, "created_at", RT_I64, created_at, 0),
	F(struct person_rec, "updated_at", RT_I64, updated_at, 0),
	F(struct person_rec, "created_seq", RT_U64, created_seq, 0),
	F(struct person_rec, "updated_seq", RT_U64, updated_seq, 0),
	F(struct person_rec, "key", RT_STR, key, REC_OMIT0),
};
const struct rec_desc person_desc = {
	person_fields, sizeof person_fields / sizeof person_fields[0], sizeof(struct person_rec)
};

/* ---- cases ---- */

const char *const case_kinds[] = {
	"problem", "petition", "household_issue", "lagging_village", NULL
};
const char *const case_areas[] = { "grassroots", "development", "livelihood", NULL };
const char *const case_sources[] = {
	"unspecified", "consultation", "research_visit", "deputies", "letters_visits",
	"household_consultation", NULL
};
const char *const case_steps[] = {
	"identified", "planned", "committed", "resolved", "journaled", "crossed_off", NULL
};

#define C(key, type, member, flags) F(struct case_rec, key, type, member, flags)
#define S REC_SUMMARY
#define O REC_OMIT0

static const struct rec_field case_fields[] = {
	C("case", RT_U64, id, S | REC_KEY),
	FE(struct case_rec, "kind", kind, case_kinds, S),
	FE(struct case_rec, "area", area, case_areas, S),
	FE(struct case_rec, "source", source, case_sources, O),
	C("title", RT_STR, title, S),
	C("description", RT_STR, description, O),
	C("unit", RT_STR, unit, S),
	C("lead", RT_STR, lead, S),
	FS(struct case_rec, "units", units, nunits, O),
	FS(struct case_rec, "tags", tags, ntags, O),
	C("deadline", RT_DATE, deadline, S | O),
	FE(struct case_rec, "step", step, case_steps, S),
	C("opened_by", RT_STR, opened_by, 0),
	C("opened_at", RT_I64, opened_at, 0),
	C("opened_seq", RT_U64, opened_seq, 0),
	C("updated_at", RT_I64, updated_at, S),
	C("updated_seq", RT_U64, updated_seq, 0),
	C("events", RT_U32, events, 0),
	C("consultations", RT_U32, consultations, 0),
	C("consultations_after", RT_U32, consultations_after, 0),
	C("coordinations", RT_U32, coordinations, 0),
	C("outcomes", RT_U32, outcomes, 0),
	C("redos", RT_U32, redos, S),
	C("reopens", RT_U32, reopens, O),
	C("escalations", RT_U32, escalations, O),
	C("planned_at", RT_I64, planned_at, O),
	C("first_consulted_at", RT_I64, first_consulted_at, O),
	C("committed_at", RT_I64, committed_at, O),
	C("resolved_at", RT_I64, resolved_at, O),
	C("journaled_at", RT_I64, journaled_at, O),
	C("crossed_at", RT_I64, crossed_at, O),
	C("plan_seq", RT_U64, plan_seq, O),
	C("commit_seq", RT_U64, commit_seq, O),
	C("journal_seq", RT_U64, journal_seq, O),
	C("satisfied", RT_U32, satisfied, O),
	C("basically_satisfied", RT_U32, basic, O),
	C("dissatisfied", RT_U32, dissatisfied, O),
	C("taker", RT_STR, taker, O),
	C("promise_kept", RT_BOOL, promise_kept, O),
	C("stable", RT_BOOL, stable, O),
	C("repeats", RT_U32, repeats, O),
	C("skip_level_repeats", RT_U32, skip_level_repeats, O),
	C("remind_at", RT_I64, timer_at[SLOT_REMIND_FAR], O),
	C("remind_again_at", RT_I64, timer_at[SLOT_REMIND_NEAR], O),
	C("chase_at", RT_I64, timer_at[SLOT_CHASE], O),
	C("chase_level", RT_U32, chase_level, O),
	C("extension_until", RT_DATE, extension_until, O),
	C("extensions", RT_U32, extensions, O),
	C("acked", RT_U32, acked, O),
	FE(struct case_rec, "deadline_basis", deadline_basis, deadline_bases, O),
	C("deadline_from", RT_DATE, deadline_from, O),
	C("deadline_n", RT_U32, deadline_n, O),
	C("step_from", RT_DATE, step_from, O),
	C("step_limit", RT_U32, step_limit, O),
	C("step_due", RT_DATE, step_due, O),
	C("step_at", RT_I64, timer_at[SLOT_STEP], O),
	C("chase_repeats", RT_U32, chase_repeats, O),
	C("petitioner_name", RT_STR, petitioner_name, O | REC_SENSITIVE),
	C("petitioner_id_number", RT_STR, petitioner_id_number, O | REC_SENSITIVE),
	C("petitioner_phone", RT_STR, petitioner_phone, O | REC_SENSITIVE),
	C("petitioner_address", RT_STR, petitioner_address, O | REC_SENSITIVE),
	FS(struct case_rec, "households", households, nhouseholds, O),
	C("consultation", RT_U64, consultation, O),
};

const char *const deadline_bases[] = { "date", "days", "working_days", NULL };
const char *const case_next_steps[] = { "plan", "commit", "resolve", "journal", "verify", "",
					NULL };
const struct rec_desc case_desc = {
	case_fields, sizeof case_fields / sizeof case_fields[0], sizeof(struct case_rec)
};

int case_satisfaction(const struct case_rec *c)
{
	uint64_t all = (uint64_t)c->satisfied + c->basic + c->dissatisfied;

	if (all == 0)
		return -1;
	return (int)(((uint64_t)c->satisfied + c->basic) * 100 / all);
}

/* ---- households ---- */

const char *const hh_categories[] = { "low_income", "near_low_income", "other", NULL };

#define H(key, type, member, flags) F(struct household_rec, key, type, member, flags)
#define SEN REC_SENSITIVE

static const struct rec_field household_fields[] = {
	/* what household.put describes (HH_PUT_FIELDS), in the order of protocol.md */
	H("household", RT_STR, id, S | REC_KEY),
	H("village", RT_STR, village, S),
	FE(struct household_rec, "category", category, hh_categories, S),
	H("members", RT_U32, members, S),
	FS(struct household_rec, "needs", needs, nneeds, S | O),
	H("head", RT_STR, head, SEN),
	H("id_number", RT_STR, id_number, O | SEN),
	H("phone", RT_STR, phone, O | SEN),
	H("address", RT_STR, address, O | SEN),
	FS(struct household_rec, "member_names", member_names, nmember_names, O | SEN),
	H("notes", RT_STR, notes, O | SEN),
	/* what the campaign did with it */
	H("cadre", RT_STR, cadre, S | O),
	H("paired_at", RT_I64, paired_at, O),
	H("visits", RT_U32, visits, S),
	H("first_visit", RT_DATE, first_visit, O),
	H("last_visit", RT_DATE, last_visit, S | O),
	H("consultations", RT_U32, consultations, O),
	H("created_at", RT_I64, created_at, 0),
	H("updated_at", RT_I64, updated_at, 0),
	H("created_seq", RT_U64, created_seq, 0),
	H("updated_seq", RT_U64, updated_seq, 0),
};
const struct rec_desc household_desc = {
	household_fields, sizeof household_fields / sizeof household_fields[0],
	sizeof(struct household_rec)
};
_Static_assert(offsetof(struct household_rec, cadre) > offsetof(struct household_rec, notes),
	       "household.put describes the fields before cadre");

size_t hix_key(uint8_t key[HIX_KEY_MAX], int tag, proto_str id, const void *tail, size_t tlen)
{
	size_t n = 0;

	key[n++] = (uint8_t)tag;
	if (id.len > 0)		/* the consultations' family has no id: never memcpy NULL */
		memcpy(key + n, id.ptr, id.len);
	n += id.len;
	key[n++] = 0;
	if (tlen > 0)
		memcpy(key + n, tail, tlen);
	return n + tlen;
}

/* ---- the campaign ---- */

#define G(key, type, member, flags) F(struct campaign_rec, key, type, member, flags)

static const struct rec_field campaign_fields[] = {
	G("name", RT_STR, name, 0),
	G("start", RT_DATE, start, O),
	G("end", RT_DATE, end, O),
	G("identify_by", RT_DATE, identify_by, O),
	G("consult_by", RT_DATE, consult_by, O),
	G("plan_by", RT_DATE, plan_by, O),
	G("commit_by", RT_DATE, commit_by, O),
	G("journal_by", RT_DATE, journal_by, O),
	G("threshold", RT_U32, threshold, 0),
	G("set_at", RT_I64, set_at, 0),
	G("set_seq", RT_U64, set_seq, 0),
	G("pair_by", RT_DATE, pair_by, O),
	G("visit_by", RT_DATE, visit_by, O),
};
const struct rec_desc campaign_desc = {
	campaign_fields, sizeof campaign_fields / sizeof campaign_fields[0],
	sizeof(struct campaign_rec)
};

int64_t campaign_by(const struct campaign_rec *g, unsigned m)
{
	const int64_t by[MS__N] = { g->identify_by, g->consult_by, g->plan_by, g->commit_by,
				    g->journal_by, g->pair_by, g->visit_by };

	return m < MS__N ? by[m] : 0;
}

const char *const milestone_names[] = {
	"identify", "consult", "plan", "commit", "journal", "pair", "visit", NULL
};

#define M(key, type, member, flags) F(struct milestone_rec, key, type, member, flags)

static const struct rec_field milestone_fields[] = {
	M("by", RT_DATE, by, O),
	M("at", RT_I64, at, O),
	M("level", RT_U32, level, 0),
	M("cursor", RT_STR, cursor, O),
	M("units", RT_U32, units, 0),
};
const struct rec_desc milestone_desc = {
	milestone_fields, sizeof milestone_fields / sizeof milestone_fields[0],
	sizeof(struct milestone_rec)
};

size_t milestone_key(char key[META_MILESTONE_MAX], unsigned m)
{
	return (size_t)snprintf(key, META_MILESTONE_MAX, "milestone.%s", milestone_names[m]);
}

void milestone_timer_key(uint8_t key[TIMER_KEY_LEN], int64_t due, unsigned m)
{
	ledger_key_u64(key, (uint64_t)due);
	ledger_key_u64(key + 8, TIMER_MILESTONE + m);
}

void timer_key(uint8_t key[TIMER_KEY_LEN], int64_t due, uint64_t case_id, unsigned slot)
{
	ledger_key_u64(key, (uint64_t)due);
	ledger_key_u64(key + 8, case_id * 4 + slot);
}

bool case_timer_key(uint8_t key[TIMER_KEY_LEN], uint64_t id, const int64_t at[4])
{
	unsigned first = SLOT__N;

	for (unsigned s = 0; s < SLOT__N; s++)
		if (at[s] != 0 && (first == SLOT__N || at[s] < at[first]))
			first = s;
	if (first == SLOT__N)
		return false;
	timer_key(key, at[first], id, first);
	return true;
}

void hist_key(uint8_t key[HIST_KEY_LEN], uint64_t case_id, uint64_t seq)
{
	ledger_key_u64(key, case_id);
	ledger_key_u64(key + 8, seq);
}

_Static_assert(sizeof(struct case_rec) <= REC_MAX_STRUCT &&
	       sizeof(struct unit_rec) <= REC_MAX_STRUCT &&
	       sizeof(struct person_rec) <= REC_MAX_STRUCT &&
	       sizeof(struct campaign_rec) <= REC_MAX_STRUCT &&
	       sizeof(struct milestone_rec) <= REC_MAX_STRUCT &&
	       sizeof(struct household_rec) <= REC_MAX_STRUCT,
	       "rec_canonical() decodes records into REC_MAX_STRUCT bytes");
