/*
 * config.h - nantid's configuration (daemon/config.c; docs/operations.md lists every key).
 *
 * The effective configuration is built from the defaults, then the file (--config, else
 * CONFIG_DEFAULT_FILE, /etc/nanti/nantid.conf, if it exists), then the command line, which wins. SIGHUP builds
 * it again from the same file and flags; the daemon keeps the old one if the new one has
 * errors, and applies what can change while it runs (config_restart_needed()).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "auth.h"
#include "core.h"

/* Where `make install` puts things: the Makefile passes both (PREFIX/share/nanti and
 * SYSCONFDIR); these are the defaults of a build without them (the fuzzer's). */
#ifndef NANTI_DATADIR
#define NANTI_DATADIR "/usr/share/nanti"
#endif
#ifndef NANTI_SYSCONFDIR
#define NANTI_SYSCONFDIR "/etc"
#endif

#define CONFIG_MAX_TCP 8
#define CONFIG_DEFAULT_FILE NANTI_SYSCONFDIR "/nanti/nantid.conf"
#define CONFIG_CALENDAR_DIR NANTI_DATADIR "/calendars"	/* the installed calendars */
#define CONFIG_DEFAULT_ZONE "Asia/Shanghai"

/* What the command line said. */
struct config_args {
	char file[PATH_MAX];		/* --config ("": the default file if it exists) */
	char state_dir[PATH_MAX], runtime_dir[PATH_MAX], calendar_dir[PATH_MAX];
	char tcp[CONFIG_MAX_TCP][256];
	int ntcp;
	size_t map_size;
	bool debug;
	bool check;			/* --check-config */
	bool allow_broken_log;		/* --allow-broken-log */
	bool print_key;			/* --print-public-key */
};

struct config {
	struct config_args args;	/* to build it again on SIGHUP */
	char file[PATH_MAX];		/* the file read ("": none) */
	char state_dir[PATH_MAX];
	char runtime_dir[PATH_MAX];
	char tcp[CONFIG_MAX_TCP][256];
	int ntcp;
	size_t map_size;		/* 0: LEDGER_MAP_DEFAULT */
	size_t map_size_max;		/* the cap it grows to; 0: none */
	char calendar_dir[PATH_MAX];	/* "": ./calendars, else the installed ones */
	char time_zone[72];
	struct core_policy policy;	/* how deadlines are chased (docs/deadlines.md) */
	uint32_t step_kinds;		/* bit K: step-limits.KIND was set (step-limits leaves it) */
	struct auth_users ipc_users;	/* who an ipc peer's uid is (auth.h) */
	bool debug;
};

/* Parse argv and build c. Returns 0 to go on, or an exit status + 1 (--help, --version:
 * 1; errors, already reported: 2 or 3). */
int config_load(struct config *c, int argc, char **argv);
/* Build c from the defaults, the file and the flags in a; false if the file has errors
 * (each logged as FILE:LINE: ...). */
bool config_build(struct config *c, const struct config_args *a);
/* The effective configuration, as a file nantid would read. */
void config_print(FILE *f, const struct config *c);
/* The first key that differs between old and new and needs a restart, or NULL. */
const char *config_restart_needed(const struct config *old, const struct config *new);

#endif
