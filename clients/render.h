/*
 * render.h - the nanti client's output for people (and the one-line JSON for scripts).
 *
 * Every function takes decoded protocol objects and tolerates anything in them: a missing
 * or mistyped field prints as "-", never as a crash. Strings are written with control
 * characters neutralised, so that a title cannot drive the terminal.
 */
#ifndef RENDER_H
#define RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "proto.h"

#define RENDER_TIME_BUF 40

/* The Unix-ms time in o as local "2026-06-08 14:03" (seconds: "... 14:03:05") into buf;
 * "-" if o is not an integer. */
void render_time(char buf[RENDER_TIME_BUF], const msgpack_object *o, bool seconds);

/* s on one line, at most max terminal columns (0: no limit), control characters as '?'. */
void render_text(FILE *f, proto_str s, size_t max);

/* The terminal columns s takes as render_text() writes it; and s written so, cut to cap
 * columns and padded with spaces to width columns. */
size_t render_columns(proto_str s);
void render_padded(FILE *f, proto_str s, size_t width, size_t cap);

/* o as one line of JSON and a newline. */
void render_json(FILE *f, const msgpack_object *o);

/* Log entries: the column header, and one line per entry (log, watch); WHAT tells the
 * entry in words, as `nanti show` does. */
void render_entry_header(FILE *f);
void render_entry(FILE *f, const msgpack_object *entry);

/* Records as unit.get, person.get and campaign.get return them (the last: its reply). */
void render_unit(FILE *f, const msgpack_object *unit);
void render_person(FILE *f, const msgpack_object *person);
void render_campaign(FILE *f, const msgpack_object *reply);

/* A household as household.get returns it (reply: {household, hidden, cases}). */
void render_household(FILE *f, const msgpack_object *reply);

/* Log entries of several cases and households as a story, one block each, as
 * render_case() tells a case's history (an entry about a case names it). */
void render_history(FILE *f, const msgpack_object *const *entries, size_t n);

/*
 * A case as case.get returns it (reply: {case, satisfaction, ...}) and its story: a header
 * of its fields, then history[0..n), the log entries of the case in seq order, one block
 * each: when, who, what happened in words, the step it moved to, the evidence.
 */
void render_case(FILE *f, const msgpack_object *reply, const msgpack_object *const *history,
		 size_t n);

/* Lists: the columns of case.list, unit.list, person.list and household.list items. */
struct render_table;
extern const struct render_table render_cases_table, render_units_table,
	render_people_table, render_households_table;
/* rows[0..n) as an aligned table under a header; "no cases" etc. when n is 0. */
void render_table(FILE *f, const struct render_table *t, const msgpack_object *const *rows,
		  size_t n);

#endif
