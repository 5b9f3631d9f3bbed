/*
 * config.c - nantid's configuration: the command line, the file (docs/operations.md
 * lists every key and its default), and the effective result, printed by --check-config
 * and built again on SIGHUP.
 *
 * Every key has a default (core_default_policy and the directories below). The file is
 * read line by line; each bad line is reported as FILE:LINE and the whole file is then
 * refused. Flags given on the command line win over the file.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "sys.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nantid [options]\n"
		"\n"
		"The nanti case-ledger daemon. Runs in the foreground.\n"
		"\n"
		"  --state-dir DIR      the ledger (LMDB) lives here\n"
		"                       (default: $STATE_DIRECTORY, else $XDG_STATE_HOME/nanti,\n"
		"                       else ./var/lib)\n"
		"  --runtime-dir DIR    submit.sock and events.sock are created here\n"
		"                       (default: $RUNTIME_DIRECTORY, else $XDG_RUNTIME_DIR/nanti,\n"
		"                       else ./var/run, where nanti looks too)\n"
		"  --config FILE        read settings from FILE (default: %s if it exists;\n"
		"                       lines 'key = value'; keys:\n"
		"                       state-dir, runtime-dir, listen-tcp, map-size-mb,\n"
		"                       calendar-dir, and how deadlines are chased:\n"
		"                       deadline-reminders, deadline-ladder, reminder-hour,\n"
		"                       extension-max, extension-days, quiet-hours,\n"
		"                       escalation-repeat, time-zone, step-limits,\n"
		"                       step-limits.KIND, handling-limits; and who may write\n"
		"                       over ipc: ipc-users); flags given on the command line win\n"
		"  --listen-tcp H:P     also serve requests on tcp://H:P and notifications on\n"
		"                       tcp://H:P+1 (repeatable, at most %d), with CURVE: only\n"
		"                       keys registered with key.add get in\n"
		"  --print-public-key   print the daemon's CURVE public key (made in the state\n"
		"                       directory on first start) and exit\n"
		"  --map-size-mb N      initial LMDB map size (it grows by itself)\n"
		"  --calendar-dir DIR   the working-day calendars, one YEAR.cal a year\n"
		"                       (default: ./calendars, else %s;\n"
		"                       without any, only weekends are days off)\n"
		"  --check-config       print the effective configuration (or its errors, with\n"
		"                       file and line) and exit: 0 if it is valid\n"
		"  --allow-broken-log   serve a ledger whose log's hash chain does not hold\n"
		"                       (see nanti admin verify); by default nantid refuses to\n"
		"                       start on one\n"
		"  --debug              log debug messages\n"
		"  --version            print the version and exit\n"
		"  --help               print this and exit\n"
		"\n"
		"Signals: SIGTERM or SIGINT stop it cleanly (everything received is committed\n"
		"and answered); SIGHUP reloads the configuration file and the calendars.\n"
		"Exit status: 0 clean stop, 1 failure, 2 usage error.\n",
		CONFIG_DEFAULT_FILE, CONFIG_MAX_TCP, CONFIG_CALENDAR_DIR);
}

static bool set_str(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= size)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

/* HOST:PORT, PORT 1..65534 (PORT+1 serves notifications), added to tcp[*n]. */
static bool add_tcp(char tcp[][256], int *n, const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (*n == CONFIG_MAX_TCP || colon == NULL || colon == v)
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65534)
		return false;
	return set_str(tcp[(*n)++], sizeof tcp[0], v);
}

static bool set_mapsize(size_t *size, const char *v)
{
	char *end;
	unsigned long mb = strtoul(v, &end, 10);

	if (*v < '0' || *v > '9' || *end != '\0' || mb < 1 || mb > (1UL << 24))
		return false;
	*size = (size_t)mb << 20;
	return true;
}

/* An unsigned number of at most max; false if v is not one. */
static bool parse_uint(const char *v, unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long n;

	if (*v < '0' || *v > '9')
		return false;
	n = strtoul(v, &end, 10);
	if (*end != '\0' || n > max)
		return false;
	*out = (uint32_t)n;
	return true;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* deadline-reminders = 3, 1   (working days before, or Nh hours before the deadline
 * ends; at most two; empty: none) */
static bool set_reminders(struct core_policy *p, const char *v)
{
	char buf[64], *save = NULL, *tok;
	int n = 0;

	if (strlen(v) >= sizeof buf)
		return false;
	strcpy(buf, v);
	p->remind[0] = p->remind[1] = 0;
	p->remind_in_hours[0] = p->remind_in_hours[1] = false;
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		size_t len = strlen(tok);
		bool hours = len > 1 && tok[len - 1] == 'h';

		if (hours)
			tok[len - 1] = '\0';
		if (n == 2 || !parse_uint(tok, hours ? 24 * 60 : 60, &p->remind[n]) ||
		    p->remind[n] == 0)
			return false;
		p->remind_in_hours[n++] = hours;
	}
	return true;
}

/* quiet-hours = 22-7   (local hours FROM-TO; empty: none) */
static bool set_quiet(struct core_policy *p, const char *v)
{
	uint32_t from, to;
	char buf[16], *dash;

	if (*v == '\0') {
		p->quiet_from = p->quiet_to = 0;
		return true;
	}
	if (strlen(v) >= sizeof buf)
		return false;
	strcpy(buf, v);
	if ((dash = strchr(buf, '-')) == NULL)
		return false;
	*dash = '\0';
	if (!parse_uint(trim(buf), 23, &from) || !parse_uint(trim(dash + 1), 23, &to) ||
	    from == to)
		return false;
	p->quiet_from = (int)from;
	p->quiet_to = (int)to;
	return true;
}

/* deadline-ladder = unit_head:1, theme_office:3, ...   (role:working days after, rising) */
static bool set_ladder(struct core_policy *p, const char *v)
{
	char buf[512], *save = NULL, *tok;
	uint32_t last = 0;

	if (strlen(v) >= sizeof buf)
		return false;
	strcpy(buf, v);
	p->nladder = 0;
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		char *colon = strchr(tok, ':');
		struct core_ladder_step *st = &p->ladder[p->nladder];
		int bit;

		if (colon == NULL || p->nladder == CORE_MAX_LADDER)
			return false;
		*colon = '\0';
		bit = rec_enum_find(role_names, (proto_str){ tok, (uint32_t)strlen(tok) });
		if (bit < 0 || !parse_uint(colon + 1, 3660, &st->after) ||
		    (p->nladder > 0 && st->after < last))
			return false;
		st->role = 1u << bit;
		last = st->after;
		p->nladder++;
	}
	return true;
}

/*
 * step-limits = plan:5, commit:5, journal:10, verify:10   (working days; for every kind)
 * step-limits.KIND = plan:3, ...                          (for one kind)
 * Steps not named have no limit; empty: none at all. A kind's own setting wins over the
 * general one, whichever comes first.
 */
static bool set_step_limits(struct config *c, int kind, const char *v)
{
	struct core_policy *p = &c->policy;
	char buf[256], *save = NULL, *tok;
	uint32_t limits[STEP__N] = { 0 };

	if (strlen(v) >= sizeof buf)
		return false;
	strcpy(buf, v);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		char *colon = strchr(tok, ':');
		int step;

		if (colon == NULL)
			return false;
		*colon = '\0';
		step = rec_enum_find(case_next_steps, (proto_str){ tok, (uint32_t)strlen(tok) });
		if (step < 0 || step >= STEP_CROSSED_OFF ||
		    !parse_uint(colon + 1, 1000, &limits[step]) || limits[step] == 0)
			return false;
	}
	for (int k = 0; k < KIND__N; k++)
		if (k == kind || (kind < 0 && !(c->step_kinds & (1u << k))))
			memcpy(p->step_limit[k], limits, sizeof limits);
	if (kind >= 0)
		c->step_kinds |= 1u << kind;
	return true;
}

/* handling-limits = petition:60d, problem:20w   (days or working days; empty: none) */
static bool set_handling(struct core_policy *p, const char *v)
{
	char buf[256], *save = NULL, *tok;

	if (strlen(v) >= sizeof buf)
		return false;
	strcpy(buf, v);
	memset(p->handling, 0, sizeof p->handling);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		char *colon = strchr(tok, ':'), *unit;
		bool days;
		int kind;

		if (colon == NULL || (unit = colon + strlen(colon) - 1) == colon)
			return false;
		*colon = '\0';
		kind = rec_enum_find(case_kinds, (proto_str){ tok, (uint32_t)strlen(tok) });
		if (kind < 0 || (*unit != 'd' && *unit != 'w'))
			return false;
		days = *unit == 'd';
		*unit = '\0';
		p->handling[kind].basis = days ? BASIS_DAYS : BASIS_WORKING_DAYS;
		if (!parse_uint(colon + 1, days ? 3660 : 1000, &p->handling[kind].n) ||
		    p->handling[kind].n == 0)
			return false;
	}
	return true;
}

/*
 * time-zone = Asia/Shanghai: a zone of the system's time zone database whose offset from
 * UTC does not change (China's zones have had no daylight saving time since 1991): the
 * days of deadlines and calendars are counted in it. A zone with daylight saving time, or
 * one the database does not have, is refused.
 */
static bool set_timezone(struct config *c, const char *v)
{
	const char *prev = getenv("TZ");
	char saved[256] = "", path[PATH_MAX];
	time_t now = time(NULL);
	long off = 0;
	bool ok = true;

	if (strcmp(v, "UTC") == 0) {
		c->policy.utc_offset_min = 0;
		return set_str(c->time_zone, sizeof c->time_zone, v);
	}
	if (strstr(v, "..") != NULL || v[0] == '/' || strlen(v) > 64 ||
	    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", v) >= (int)sizeof path ||
	    access(path, R_OK) != 0)
		return false;
	if (prev != NULL)
		snprintf(saved, sizeof saved, "%s", prev);
	setenv("TZ", v, 1);
	tzset();
	/* the same offset from 1992 to 40 years on, sampled every week */
	for (time_t t = 694224000; t < now + 40L * 366 * 86400 && ok; t += 7 * 86400) {
		struct tm tm;

		if (localtime_r(&t, &tm) == NULL)
			ok = false;
		else if (t == 694224000)
			off = tm.tm_gmtoff;
		else
			ok = tm.tm_gmtoff == off;
	}
	if (prev != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	if (ok)
		c->policy.utc_offset_min = (int)(off / 60);
	return ok && set_str(c->time_zone, sizeof c->time_zone, v);
}

/* Apply one setting; false if the value is invalid. */
static bool config_set(struct config *c, const char *key, const char *val)
{
	uint32_t u;

	if (strcmp(key, "deadline-reminders") == 0)
		return set_reminders(&c->policy, val);
	if (strcmp(key, "deadline-ladder") == 0)
		return set_ladder(&c->policy, val);
	if (strcmp(key, "step-limits") == 0)
		return set_step_limits(c, -1, val);
	if (strncmp(key, "step-limits.", 12) == 0) {
		int kind = rec_enum_find(case_kinds, (proto_str){ key + 12,
								  (uint32_t)strlen(key + 12) });

		return kind >= 0 && set_step_limits(c, kind, val);
	}
	if (strcmp(key, "handling-limits") == 0)
		return set_handling(&c->policy, val);
	if (strcmp(key, "reminder-hour") == 0 && parse_uint(val, 23, &u)) {
		c->policy.remind_hour = (int)u;
		return true;
	}
	if (strcmp(key, "time-zone") == 0)
		return set_timezone(c, val);
	if (strcmp(key, "quiet-hours") == 0)
		return set_quiet(&c->policy, val);
	if (strcmp(key, "escalation-repeat") == 0)
		return parse_uint(val, 1000, &c->policy.repeat_days);
	if (strcmp(key, "extension-max") == 0)
		return parse_uint(val, 100, &c->policy.max_extensions);
	if (strcmp(key, "extension-days") == 0)
		return parse_uint(val, 3660, &c->policy.max_extension_days) &&
		       c->policy.max_extension_days > 0;
	if (strcmp(key, "state-dir") == 0)
		return set_str(c->state_dir, sizeof c->state_dir, val);
	if (strcmp(key, "runtime-dir") == 0)
		return set_str(c->runtime_dir, sizeof c->runtime_dir, val);
	if (strcmp(key, "listen-tcp") == 0)
		return add_tcp(c->tcp, &c->ntcp, val);
	if (strcmp(key, "map-size-mb") == 0)
		return set_mapsize(&c->map_size, val);
	if (strcmp(key, "map-size-max-mb") == 0)
		return strcmp(val, "0") == 0 ? (c->map_size_max = 0, true)
					     : set_mapsize(&c->map_size_max, val);
	if (strcmp(key, "calendar-dir") == 0)
		return set_str(c->calendar_dir, sizeof c->calendar_dir, val);
	if (strcmp(key, "ipc-users") == 0)
		return auth_users_parse(&c->ipc_users, val);
	return false;
}


/* Read FILE into c; report every bad line with file:line. Returns false on any error. */
static bool config_read(struct config *c, const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int lineno = 0;
	bool ok = true;

	if (f == NULL) {
		log_err("%s: %s", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *s = trim(line), *eq, *key, *val;

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			log_err("%s:%d: expected 'key = value'", path, lineno);
			ok = false;
			continue;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (!config_set(c, key, val)) {
			log_err("%s:%d: invalid setting '%s'", path, lineno, key);
			ok = false;
		}
	}
	fclose(f);
	return ok;
}

/* systemd's variable (it may list several directories: the first), else XDG's + /nanti,
 * else the source tree's ./var/ as `make run` uses it. */
static void default_dir(char *dst, size_t size, const char *sysd_env, const char *xdg_env,
			const char *last)
{
	const char *v = getenv(sysd_env);

	if (v != NULL && *v) {
		snprintf(dst, size, "%.*s", (int)strcspn(v, ":"), v);
		return;
	}
	if ((v = getenv(xdg_env)) != NULL && *v) {
		snprintf(dst, size, "%s/nanti", v);
		return;
	}
	snprintf(dst, size, "%s", last);
}

/* c: the defaults, then the file, then the command line. False (logged) on errors. */
bool config_build(struct config *c, const struct config_args *a)
{
	const char *file = a->file[0] ? a->file : NULL;

	memset(c, 0, sizeof *c);
	c->args = *a;
	c->policy = core_default_policy;
	auth_users_default(&c->ipc_users, geteuid());
	snprintf(c->time_zone, sizeof c->time_zone, "%s", CONFIG_DEFAULT_ZONE);
	if (file == NULL && access(CONFIG_DEFAULT_FILE, F_OK) == 0)
		file = CONFIG_DEFAULT_FILE;
	if (file != NULL) {
		snprintf(c->file, sizeof c->file, "%s", file);
		if (!config_read(c, file))
			return false;
	}
	if (core_quiet_hour(&c->policy, c->policy.remind_hour)) {
		log_err("%s: reminder-hour %d falls in quiet-hours %d-%d",
			file != NULL ? file : "defaults", c->policy.remind_hour,
			c->policy.quiet_from, c->policy.quiet_to);
		return false;
	}
	/* flags win over the file */
	if (a->state_dir[0])
		memcpy(c->state_dir, a->state_dir, sizeof c->state_dir);
	if (a->runtime_dir[0])
		memcpy(c->runtime_dir, a->runtime_dir, sizeof c->runtime_dir);
	if (a->ntcp > 0) {
		memcpy(c->tcp, a->tcp, sizeof c->tcp);
		c->ntcp = a->ntcp;
	}
	if (a->map_size)
		c->map_size = a->map_size;
	if (a->calendar_dir[0])
		memcpy(c->calendar_dir, a->calendar_dir, sizeof c->calendar_dir);
	c->debug = a->debug;
	if (!c->state_dir[0])
		default_dir(c->state_dir, sizeof c->state_dir, "STATE_DIRECTORY", "XDG_STATE_HOME",
			    "./var/lib");
	if (!c->runtime_dir[0])
		default_dir(c->runtime_dir, sizeof c->runtime_dir, "RUNTIME_DIRECTORY",
			    "XDG_RUNTIME_DIR", "./var/run");
	return true;
}

int config_load(struct config *c, int argc, char **argv)
{
	enum { O_STATE = 256, O_RUNTIME, O_CONFIG, O_TCP, O_MAP, O_CAL, O_DEBUG, O_VERSION,
	       O_HELP, O_CHECK, O_BROKEN, O_PRINT_KEY };
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "runtime-dir", required_argument, NULL, O_RUNTIME },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "listen-tcp", required_argument, NULL, O_TCP },
		{ "map-size-mb", required_argument, NULL, O_MAP },
		{ "calendar-dir", required_argument, NULL, O_CAL },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, O_HELP },
		{ "check-config", no_argument, NULL, O_CHECK },
		{ "allow-broken-log", no_argument, NULL, O_BROKEN },
		{ "print-public-key", no_argument, NULL, O_PRINT_KEY },
		{ NULL, 0, NULL, 0 },
	};
	struct config_args a = { 0 };
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		bool ok = true;

		switch (o) {
		case O_STATE: ok = set_str(a.state_dir, sizeof a.state_dir, optarg); break;
		case O_RUNTIME: ok = set_str(a.runtime_dir, sizeof a.runtime_dir, optarg); break;
		case O_CONFIG: ok = set_str(a.file, sizeof a.file, optarg); break;
		case O_TCP: ok = add_tcp(a.tcp, &a.ntcp, optarg); break;
		case O_MAP: ok = set_mapsize(&a.map_size, optarg); break;
		case O_CAL: ok = set_str(a.calendar_dir, sizeof a.calendar_dir, optarg); break;
		case O_DEBUG: a.debug = true; break;
		case O_CHECK: a.check = true; break;
		case O_BROKEN: a.allow_broken_log = true; break;
		case O_PRINT_KEY: a.print_key = true; break;
		case O_VERSION: printf("nantid %s\n", PROTO_VERSION); return 1;
		case O_HELP: usage(stdout); return 1;
		default: usage(stderr); return 3;
		}
		if (!ok) {
			fprintf(stderr, "nantid: invalid value for --%s: '%s'\n",
				opts[o - O_STATE].name, optarg);
			return 3;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nantid: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 3;
	}
	return config_build(c, &a) ? 0 : 2;
}

/* ---- the effective configuration, in the file's own syntax ---- */

static void print_steps(FILE *f, const char *key, const uint32_t limits[STEP__N])
{
	const char *sep = "";

	fprintf(f, "%s =", key);
	for (int s = 0; s < STEP_CROSSED_OFF; s++)
		if (limits[s] != 0) {
			fprintf(f, "%s %s:%" PRIu32, sep, case_next_steps[s], limits[s]);
			sep = ",";
		}
	fputc('\n', f);
}

void config_print(FILE *f, const struct config *c)
{
	const struct core_policy *p = &c->policy;
	const char *sep = "";

	fprintf(f, "# nantid %s: the effective configuration (%s)\n", PROTO_VERSION,
		c->file[0] ? c->file : "no file: defaults and flags");
	fprintf(f, "state-dir = %s\nruntime-dir = %s\n", c->state_dir, c->runtime_dir);
	for (int i = 0; i < c->ntcp; i++)
		fprintf(f, "listen-tcp = %s\n", c->tcp[i]);
	fprintf(f, "map-size-mb = %zu\n", (c->map_size ? c->map_size : LEDGER_MAP_DEFAULT) >> 20);
	fprintf(f, "map-size-max-mb = %zu\n", c->map_size_max >> 20);
	if (c->calendar_dir[0])
		fprintf(f, "calendar-dir = %s\n", c->calendar_dir);
	else
		fprintf(f, "# calendar-dir: ./calendars, else %s\n", CONFIG_CALENDAR_DIR);
	fprintf(f, "time-zone = %s\n", c->time_zone);
	auth_users_print(f, &c->ipc_users);
	fprintf(f, "deadline-reminders =");
	for (int i = 0; i < 2; i++)
		if (p->remind[i] != 0) {
			fprintf(f, "%s %" PRIu32 "%s", sep, p->remind[i],
				p->remind_in_hours[i] ? "h" : "");
			sep = ",";
		}
	fprintf(f, "\ndeadline-ladder =");
	sep = "";
	for (size_t i = 0; i < p->nladder; i++) {
		int bit = __builtin_ctz(p->ladder[i].role);

		fprintf(f, "%s %s:%" PRIu32, sep, role_names[bit], p->ladder[i].after);
		sep = ",";
	}
	fprintf(f, "\nreminder-hour = %d\n", p->remind_hour);
	if (p->quiet_from != p->quiet_to)
		fprintf(f, "quiet-hours = %d-%d\n", p->quiet_from, p->quiet_to);
	else
		fprintf(f, "quiet-hours =\n");
	fprintf(f, "escalation-repeat = %" PRIu32 "\n", p->repeat_days);
	fprintf(f, "extension-max = %" PRIu32 "\nextension-days = %" PRIu32 "\n",
		p->max_extensions, p->max_extension_days);
	for (int k = 0; k < KIND__N; k++) {
		char key[64];

		snprintf(key, sizeof key, "step-limits.%s", case_kinds[k]);
		print_steps(f, key, p->step_limit[k]);
	}
	fprintf(f, "handling-limits =");
	sep = "";
	for (int k = 0; k < KIND__N; k++)
		if (p->handling[k].n != 0) {
			fprintf(f, "%s %s:%" PRIu32 "%c", sep, case_kinds[k], p->handling[k].n,
				p->handling[k].basis == BASIS_DAYS ? 'd' : 'w');
			sep = ",";
		}
	fputc('\n', f);
}

const char *config_restart_needed(const struct config *old, const struct config *new)
{
	if (strcmp(old->state_dir, new->state_dir) != 0)
		return "state-dir";
	if (strcmp(old->runtime_dir, new->runtime_dir) != 0)
		return "runtime-dir";
	if (old->ntcp != new->ntcp || memcmp(old->tcp, new->tcp, sizeof old->tcp) != 0)
		return "listen-tcp";
	if (old->map_size != new->map_size)
		return "map-size-mb";
	if (old->map_size_max != new->map_size_max)
		return "map-size-max-mb";
	return NULL;
}
