/*
 * pairing.h - one household, one cadre (一户一干部) in bulk: `nanti pair import FILE.csv`
 * and the pairing list a unit publishes, `nanti pair list`.
 */
#ifndef PAIRING_H
#define PAIRING_H

#include "cmd.h"

#define PAIRING_IMPORT_NSPEC 2		/* FILE, --check */
extern const struct args_spec pairing_import_spec[PAIRING_IMPORT_NSPEC];
#define PAIRING_LIST_NSPEC 3		/* --unit U, --after ID, --csv */
extern const struct args_spec pairing_list_spec[PAIRING_LIST_NSPEC];

/*
 * pairing_import_run - read a CSV file of household,cadre rows, check every row against
 * the file and the ledger (the household exists and the actor may pair it, the cadre
 * exists and may be paired, a household once), and, only if every row is valid, send
 * household.pair for the rows not paired so already, many in flight at once. Reports
 * as households_import_run() does. Returns CLI_OK; CLI_REFUSED for an invalid file
 * (nothing sent) or a pairing the daemon refused (what was applied before is said);
 * CLI_USAGE for a file that cannot be read; or the status of a transport failure.
 */
int pairing_import_run(struct run *r);

/*
 * pairing_list_run - every page of household.pairings of --unit (the county by default),
 * printed by unit, then by cadre, each cadre's households under them: a table for
 * people, CSV with --csv, one JSON object with --json. Returns an exit status.
 */
int pairing_list_run(struct run *r);

#endif
