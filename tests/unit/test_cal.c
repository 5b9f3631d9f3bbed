/*
 * test_cal.c - the working-day calendar: the shipped 2025 and 2026 files, working-day
 * arithmetic across holidays, adjusted working days and year ends and at any distance
 * (checked against a day-by-day count), and the refusals of a malformed file.
 */
#include <stdlib.h>
#include <string.h>

#include "cal.h"
#include "proto.h"
#include "../tap.h"

static int64_t D(const char *s)
{
	int64_t d = 0;

	if (!proto_date_parse((proto_str){ s, (uint32_t)strlen(s) }, &d))
		abort();
	return d;
}

static const char *S(int64_t day)
{
	static char buf[4][11];
	static int k;

	k = (k + 1) % 4;
	proto_date_format(day, buf[k]);
	return buf[k];
}

static struct cal *shipped(void)
{
	struct cal *c = NULL;
	char why[256] = "";

	if (cal_new(&c) != NT_OK || cal_load_dir(c, "calendars", why, sizeof why) != NT_OK) {
		printf("# cannot load calendars/: %s\n", why);
		cal_free(&c);
	}
	return c;
}

#define EQ_DAY(got, want) do { \
	int64_t g_ = (got), w_ = D(want); \
	if (g_ != w_) { \
		printf("# %s:%d: got %s, want %s\n", __FILE__, __LINE__, S(g_), want); \
		CHECK(0); \
	} } while (0)

static void the_2025_schedule_has_its_holidays_and_adjusted_working_days(void)
{
	struct cal *c = shipped();
	static const char *const off[] = {
		"2025-01-01", "2025-01-28", "2025-02-04", "2025-04-04", "2025-05-01", "2025-05-05",
		"2025-06-02", "2025-10-01", "2025-10-08",
	};
	static const char *const on[] = {
		"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
		"2025-01-02", "2025-02-05", "2025-10-09",
		"2025-04-07",	/* the Monday after Qingming */
	};

	if (c == NULL) {
		CHECK(0);
		return;
	}
	CHECK(cal_covers(c, 2025) && cal_covers(c, 2026) && !cal_covers(c, 2024));
	CHECK(strstr(cal_source(c, 2025), "国办发明电〔2024〕12号") != NULL);
	for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
		if (cal_is_working(c, D(off[i]))) {
			printf("# %s should be a holiday\n", off[i]);
			CHECK(0);
		}
	}
	for (size_t i = 0; i < sizeof on / sizeof on[0]; i++)
		if (!cal_is_working(c, D(on[i]))) {
			printf("# %s should be a working day\n", on[i]);
			CHECK(0);
		}
	CHECK(!cal_is_working(c, D("2025-01-25")));	/* an ordinary Saturday */
	/* January 2025: 23 weekdays, less New Year's Day (Wednesday 1st) and four weekdays of
	 * the Spring Festival (Tuesday 28th to Friday 31st), plus the working Sunday 26th */
	CHECK(cal_working_between(c, D("2025-01-01"), D("2025-02-01")) == 23 - 1 - 4 + 1);
	cal_free(&c);
}

static void working_days_are_counted_across_holidays_adjusted_days_and_year_ends(void)
{
	struct cal *c = shipped();

	if (c == NULL) {
		CHECK(0);
		return;
	}
	/* Friday 2025-01-24: Sunday 26th is worked, Monday 27th, then the holiday to Feb 4 */
	EQ_DAY(cal_add_working(c, D("2025-01-24"), 1), "2025-01-26");
	EQ_DAY(cal_add_working(c, D("2025-01-24"), 2), "2025-01-27");
	EQ_DAY(cal_add_working(c, D("2025-01-24"), 3), "2025-02-05");
	EQ_DAY(cal_add_working(c, D("2025-01-24"), 5), "2025-02-07");
	EQ_DAY(cal_add_working(c, D("2025-01-24"), 6), "2025-02-08");	/* a working Saturday */
	EQ_DAY(cal_add_working(c, D("2025-01-24"), 7), "2025-02-10");
	/* backwards over the same stretch */
	EQ_DAY(cal_add_working(c, D("2025-02-07"), -5), "2025-01-24");
	EQ_DAY(cal_add_working(c, D("2025-02-05"), -1), "2025-01-27");
	/* across the year end: 2026 begins with three days off and a working Sunday */
	EQ_DAY(cal_add_working(c, D("2025-12-31"), 1), "2026-01-04");
	EQ_DAY(cal_add_working(c, D("2025-12-31"), 2), "2026-01-05");
	EQ_DAY(cal_add_working(c, D("2026-01-04"), -1), "2025-12-31");
	/* the National Day week of 2025 */
	EQ_DAY(cal_add_working(c, D("2025-09-26"), 1), "2025-09-28");
	EQ_DAY(cal_add_working(c, D("2025-09-30"), 1), "2025-10-09");
	/* zero is the day itself, working or not */
	EQ_DAY(cal_add_working(c, D("2025-10-03"), 0), "2025-10-03");
	/* a year without a file counts weekends only */
	EQ_DAY(cal_add_working(c, D("2030-01-04"), 1), "2030-01-07");
	CHECK(cal_working_between(c, D("2030-01-01"), D("2031-01-01")) == 261);
	CHECK(cal_weekday(D("1970-01-01")) == 3 && cal_weekday(D("2026-11-29")) == 6);
	CHECK(cal_weekday(-1) == 2);
	cal_free(&c);
}

/* The n-th working day after day, counted one day at a time. */
static int64_t slow_add(const struct cal *c, int64_t day, int64_t n)
{
	int64_t step = n > 0 ? 1 : -1;

	for (int64_t k = 0; k != n;) {
		day += step;
		if (cal_is_working(c, day))
			k += step;
	}
	return day;
}

static void arithmetic_has_no_horizon_and_agrees_with_counting_day_by_day(void)
{
	struct cal *c = shipped();
	uint64_t seed = 42;
	int bad = 0;

	if (c == NULL) {
		CHECK(0);
		return;
	}
	/* ten thousand random starts and distances around the shipped years */
	for (int i = 0; i < 10000 && bad < 5; i++) {
		int64_t day, n, want, got;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		day = D("2024-06-01") + (int64_t)(seed >> 33) % 1000;
		n = (int64_t)((seed >> 13) % 800) - 400;
		want = slow_add(c, day, n);
		got = cal_add_working(c, day, n);
		if (got != want || cal_working_between(c, day < want ? day + 1 : want,
						      day < want ? want + 1 : day) != (n < 0 ? -n : n)) {
			printf("# %s %+lld: got %s, want %s\n", S(day), (long long)n, S(got),
			       S(want));
			bad++;
		}
	}
	CHECK(bad == 0);
	/* far away: a million working days, and back */
	{
		int64_t start = D("2025-03-03"), far = cal_add_working(c, start, 1000000);

		CHECK(far == slow_add(c, start, 1000000));
		CHECK(cal_add_working(c, far, -1000000) == start);
		CHECK(cal_working_between(c, start + 1, far + 1) == 1000000);
	}
	cal_free(&c);
}

/* Parse text as a calendar file; the error message, or "" if it was accepted. */
static const char *parse(struct cal *c, const char *text)
{
	static char why[256];

	why[0] = '\0';
	if (cal_parse(c, "test.cal", text, strlen(text), why, sizeof why) == NT_OK)
		why[0] = '\0';
	return why;
}

static void a_malformed_calendar_file_is_refused_with_its_line_and_adds_nothing(void)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "source s\nholiday 2027-01-01\n", "test.cal:2: 'holiday' before the 'year' line" },
		{ "year 2027\nholiday 2027-01-01\n", "test.cal:3: no 'source' line" },
		{ "source s\n", "no 'year' line" },
		{ "year 2027\nsource s\nholiday 2028-01-01\n", "test.cal:3: 2028-01-01 is not in 2027" },
		{ "year 2027\nsource s\nholiday 2027-02-30\n", "'2027-02-30' is not a date" },
		{ "year 2027\nsource s\nworkday 2027-01-04\n", "2027-01-04 is a weekday" },
		{ "year 2027\nsource s\nholiday 2027-01-01\nholiday 2027-01-01\n",
		  "test.cal:4: 2027-01-01 is listed twice" },
		{ "year 2027\nsource s\nholiday 2027-01-01 2027-01-03\nworkday 2027-01-02\n",
		  "as a holiday and as a working day" },
		{ "year 2027\nsource s\nholiday 2027-01-05 2027-01-03\n", "ends before it begins" },
		{ "year 2027\nyear 2028\n", "a second 'year' line" },
		{ "year 27\n", "'year' needs a year" },
		{ "year 2027\nsource s\nfestival 2027-01-01\n", "unknown line 'festival'" },
		{ "year 2027\nsource\n", "'source' needs the text" },
		{ "year 2026\nsource s\n", "2026 is already in the calendar" },
	};
	struct cal *c = shipped();

	if (c == NULL) {
		CHECK(0);
		return;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = parse(c, cases[i].text);

		if (strstr(got, cases[i].want) == NULL) {
			printf("# case %zu: got \"%s\", want \"%s\"\n", i, got, cases[i].want);
			CHECK(0);
		}
	}
	/* none of it was added */
	CHECK(!cal_covers(c, 2027) && !cal_covers(c, 2028));
	CHECK(cal_is_working(c, D("2027-01-01")));
	/* a good one is, with comments, blank lines, CRLF and names after the dates */
	CHECK(strcmp(parse(c, "# a comment\r\nyear 2027\r\n\r\nsource the notice\r\n"
			   "holiday 2027-01-01 元旦\r\nworkday 2027-01-02 a Saturday worked\r\n"), "") == 0);
	CHECK(cal_covers(c, 2027) && !cal_is_working(c, D("2027-01-01")) &&
	      cal_is_working(c, D("2027-01-02")));
	CHECK(strcmp(cal_source(c, 2027), "the notice") == 0);
	cal_free(&c);
	cal_free(&c);	/* harmless on NULL */
}

int main(void)
{
	RUN(the_2025_schedule_has_its_holidays_and_adjusted_working_days);
	RUN(working_days_are_counted_across_holidays_adjusted_days_and_year_ends);
	RUN(arithmetic_has_no_horizon_and_agrees_with_counting_day_by_day);
	RUN(a_malformed_calendar_file_is_refused_with_its_line_and_adds_nothing);
	return tap_done();
}
