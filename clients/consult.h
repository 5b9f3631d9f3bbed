/*
 * consult.h - `nanti household consult VILLAGE --households H1,H2 --problem ...`: a
 * household consultation (民情会诊) and a case for each problem it found.
 */
#ifndef CONSULT_H
#define CONSULT_H

#include "cmd.h"

#define CONSULT_NSPEC 9
extern const struct args_spec consult_spec[CONSULT_NSPEC];

/*
 * consult_run - check the consultation and every problem's case first (exit status 2
 * for a mistake, nothing sent), then send household.consult, then one case.open per
 * problem naming the consultation's seq, with the request ids ID.p1, ID.p2, ... derived
 * from the consultation's ID, so that running it again with the same --request-id
 * records nothing twice. Prints the consultation's seq and the cases opened. Returns
 * CLI_OK, CLI_REFUSED (a refusal: what was recorded before it is said, with the id to
 * run again with), or the status of another failure.
 */
int consult_run(struct run *r);

#endif
