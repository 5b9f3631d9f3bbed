/*
 * household.h - the read ops of the household register (daemon/household.c):
 * household.get, household.list, household.history, household.pairings. Replies and
 * rules: docs/protocol.md sections 9 and 11 ("Households"). The write ops are in the
 * core (daemon/core_household.c).
 */
#ifndef HOUSEHOLD_H
#define HOUSEHOLD_H

#include "ops.h"

#define HOUSEHOLD_READ_NOPS 4
extern const struct op household_read_ops[HOUSEHOLD_READ_NOPS];

#endif
