/*
 * import.h - `nanti import units FILE.csv` and `nanti import people FILE.csv`: register
 * the county's units and people from a CSV file, all or nothing for an invalid file.
 */
#ifndef IMPORT_H
#define IMPORT_H

#include "cmd.h"

/* What a command row imports (the row's data): units or people. */
struct import_kind;
extern const struct import_kind import_units, import_people;

/* The operand and options of both commands: FILE, --check. */
#define IMPORT_NSPEC 2
extern const struct args_spec import_spec[IMPORT_NSPEC];

/*
 * import_run - read the CSV file named by the FILE operand, check every row against the
 * file itself and the ledger, and, only if every row is valid, send the puts in the order
 * of the tree, many in flight at once (docs/client.md, "Importing the county"). Prints
 * every invalid row as "FILE:LINE: message" on stderr, and a summary line on stdout (or a
 * summary object with --json). Returns CLI_OK; CLI_REFUSED for an invalid file (nothing
 * sent), an actor who may not import, or a put the daemon refused (what was applied
 * before is said); CLI_USAGE for a file that cannot be read; or the status of a transport
 * failure.
 */
int import_run(struct run *r);

#endif
