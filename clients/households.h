/*
 * households.h - the household register as a CSV file: `nanti household import FILE.csv`
 * and `nanti household export [FILE]`; and who may touch a village's households, which
 * the pairing import asks too.
 */
#ifndef HOUSEHOLDS_H
#define HOUSEHOLDS_H

#include "cmd.h"
#include "sheet.h"

/* The operands and options of the two commands. */
#define HOUSEHOLDS_IMPORT_NSPEC 2
extern const struct args_spec households_import_spec[HOUSEHOLDS_IMPORT_NSPEC];
#define HOUSEHOLDS_EXPORT_NSPEC 3
extern const struct args_spec households_export_spec[HOUSEHOLDS_EXPORT_NSPEC];

/*
 * households_import_run - read the register's CSV file, check every row against the file
 * and the ledger, compare it with the ledger's households, and, only if every row is
 * valid, send household.put for the new and changed rows, many in flight at once
 * (docs/client.md, "Households"). Prints every invalid row as "FILE:LINE: message" on
 * stderr, a summary line on stdout (or a summary object with --json). Returns CLI_OK;
 * CLI_REFUSED for an invalid file (nothing sent) or a put the daemon refused (what was
 * applied before is said); CLI_USAGE for a file that cannot be read; or the status of a
 * transport failure.
 */
int households_import_run(struct run *r);

/*
 * households_export_run - page through household.list {full: true} and write the
 * households as the CSV file household import reads, to FILE.tmp (mode 0600) renamed to
 * FILE, or to stdout. Returns CLI_OK; CLI_REFUSED when a household comes without its
 * sensitive fields or cannot be written as a row (no FILE written); CLI_LOCAL when the
 * file cannot be written; or the status of a transport failure or a refused read.
 */
int households_export_run(struct run *r);

/*
 * Whose households the actor may put, or pair (docs/protocol.md section 9): asked of the
 * ledger once (person.get of the actor, unit.list of the villages within their unit).
 */
struct households_reach {
	bool person;		/* the actor is a person in the ledger */
	bool office;		/* an admin or the theme office: every village */
	bool county;		/* reaches the whole county (county leader, supervision) */
	bool unit_head;
	struct sheet_ids villages;	/* the villages their reach holds */
};

/*
 * households_reach - what the actor reaches: s for the bar and the connection of s->r,
 * which is open. Returns CLI_OK, or the status of a failure (said). Free with
 * households_reach_fini().
 */
int households_reach(struct sheet *s, proto_str actor, struct households_reach *reach);
void households_reach_fini(struct households_reach *reach);

/* May the actor put (pair: pair) households of village? */
bool households_may(const struct households_reach *reach, proto_str village, bool pair);

#endif
