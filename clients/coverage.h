/*
 * coverage.h - how `nanti coverage` prints the reply of campaign.coverage for people.
 */
#ifndef CLIENT_COVERAGE_H
#define CLIENT_COVERAGE_H

#include <stdbool.h>
#include <stdio.h>
#include <msgpack.h>

/* Print the milestones of a campaign.coverage reply: each with its date and count, then
 * one line per person missing it (unit, person, name, the cases concerned), or with
 * by_unit one line per unit (how many people and cases). */
void coverage_render(FILE *f, const msgpack_object *reply, bool by_unit);

/* Print a deadline.list reply: per unit, each case's deadline and where it stands. */
void deadlines_render(FILE *f, const msgpack_object *reply);

#endif
