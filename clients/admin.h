/*
 * admin.h - `nanti admin backup FILE` and `nanti admin restore FILE`: a hot, compacting
 * copy of the ledger while the daemon serves, and putting one back; `nanti admin export`
 * and `import`: the ledger as JSON lines and back (docs/operations.md).
 * They work on the state directory itself, as the operator who runs them can read it: no
 * request goes to the daemon.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include "cmd.h"

#define ADMIN_NSPEC 2	/* FILE, --state-dir DIR */
extern const struct args_spec admin_backup_spec[ADMIN_NSPEC];
extern const struct args_spec admin_restore_spec[ADMIN_NSPEC];
extern const struct args_spec admin_export_spec[ADMIN_NSPEC];
#define ADMIN_IMPORT_NSPEC 3	/* FILE, --state-dir DIR, --map-size MB */
extern const struct args_spec admin_import_spec[ADMIN_IMPORT_NSPEC];

/* Copy the ledger in --state-dir to FILE (written as FILE.tmp, synced, renamed): LMDB's
 * compacting copy, in one read transaction, so the daemon goes on writing meanwhile.
 * Prints what it wrote and the last seq the copy holds. */
int admin_backup_run(struct run *r);
/* Put the copy FILE in place as the ledger of --state-dir, which must have none (and no
 * daemon on it). */
int admin_restore_run(struct run *r);
/* Write the ledger of --state-dir to FILE ("-": standard output) as JSON lines
 * (daemon/dump.c), from one read transaction, beside a serving daemon. */
int admin_export_run(struct run *r);
/* Read an export from FILE ("-": standard input) into --state-dir, which must hold no
 * ledger, all or nothing, holding the state directory's lock meanwhile. */
int admin_import_run(struct run *r);
/* Walk the whole log of --state-dir (read-only, beside a serving daemon) and check its
 * hash chain: exit status 0 if it holds, CLI_BROKEN with the first break if not. */
extern const struct args_spec admin_verify_spec[ADMIN_NSPEC - 1];
int admin_verify_run(struct run *r);

/* Sync the directory holding path, so that a rename in it is durable. */
void admin_sync_dir_of(const char *path);

/*
 * A file written whole or not at all (the exports, the reports): admin_out_open() opens
 * FILE.tmp (tmp, of tmplen bytes, receives its name) with mode `mode` (ADMIN_PRIVATE for
 * personal data, ADMIN_PUBLIC for what is made to be read: a report, a public notice),
 * or stdout for "-"; excl: refuse a FILE.tmp that exists. admin_out_close() takes how
 * the writing went (a CLI_ status) and, for a file, syncs it, renames it into place and
 * syncs its directory, or removes it when anything failed. Both say what failed, as
 * `what: ...`, and return a CLI_ status.
 */
#define ADMIN_PRIVATE	0600
#define ADMIN_PUBLIC	0644
int admin_out_open(const char *what, const char *file, char *tmp, size_t tmplen, bool excl,
		   unsigned mode, FILE **f);
int admin_out_close(const char *what, const char *file, const char *tmp, FILE *f, int rc);

#endif
