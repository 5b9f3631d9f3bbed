/*
 * cal.h - the working-day calendar: weekends, public holidays, and adjusted working days
 * (a Saturday or Sunday declared a working day to make up for a holiday, 调休).
 *
 * A calendar is read from one file per year (docs/calendar.md has the format; the shipped
 * files are in calendars/). Days are counted as days since 1970-01-01 in the county's
 * calendar (proto_date_parse()). A year without a file counts Saturdays and Sundays only;
 * cal_covers() says which years have one, so that the daemon can warn.
 *
 * Arithmetic works at any distance, with no horizon: the calendar keeps its exceptions
 * (a holiday on a weekday, a working Saturday or Sunday) sorted with running totals, so
 * counting the working days between two days costs O(log exceptions), and finding the
 * n-th working day after a day costs O(log n · log exceptions), for any n.
 *
 * A calendar is immutable once loaded; a changed calendar is a new one.
 */
#ifndef CAL_H
#define CAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nt_err.h"

struct cal;

/* An empty calendar (weekends only). NT_OK or NT_ENOMEM. */
nt_err cal_new(struct cal **out);
/* Free it; NULL is fine; *c becomes NULL. */
void cal_free(struct cal **c);

/*
 * cal_parse - add the year described by text[0..len) (a calendar file's contents; name
 * is what error messages call it). On error nothing is added and why holds
 * "NAME:LINE: message". NT_OK, NT_EBADCONF, NT_ENOMEM.
 */
nt_err cal_parse(struct cal *c, const char *name, const char *text, size_t len, char *why,
		 size_t whylen);
/* cal_load_dir - cal_parse() every file named *.cal in dir, in name order; the first
 * error stops it (the calendar may then hold the years before). NT_EIO if dir cannot be
 * read. */
nt_err cal_load_dir(struct cal *c, const char *dir, char *why, size_t whylen);

/* Does the calendar have a file for year? */
bool cal_covers(const struct cal *c, int year);
/* The source the file of year names, or NULL. */
const char *cal_source(const struct cal *c, int year);

/* The arithmetic takes c NULL as a calendar without files: weekends only. */

/* Is day a working day? */
bool cal_is_working(const struct cal *c, int64_t day);
/* The working days in [a, b) (0 if b <= a). */
int64_t cal_working_between(const struct cal *c, int64_t a, int64_t b);
/*
 * The n-th working day after day (n > 0), or before it (n < 0), not counting day itself;
 * day itself for n == 0. "Plan within 5 working days of identification" is
 * cal_add_working(c, identified, 5).
 */
int64_t cal_add_working(const struct cal *c, int64_t day, int64_t n);

/* A hash of what the arithmetic depends on (the exceptions to the weekends): two
 * calendars with the same fingerprint count every day alike. */
uint64_t cal_fingerprint(const struct cal *c);

/* The day of the week of day: 0 Monday ... 6 Sunday. */
int cal_weekday(int64_t day);

#endif
