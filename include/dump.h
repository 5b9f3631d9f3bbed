/*
 * dump.h - the ledger as JSON lines and back: `nanti admin export` and `nanti admin
 * import` (daemon/dump.c; the format in docs/operations.md).
 *
 * An export is the log, one entry per line, followed by the state that log led to: the
 * records of units, people and cases, the ledger's singletons (meta), and the request
 * index that makes retries idempotent. The history of each case and the armed timers are
 * not written: the import derives them (from the entries' `case` and from the records'
 * timers), and checks the rest against the log. Imported into an empty ledger, it gives
 * the same databases, byte for byte.
 */
#ifndef DUMP_H
#define DUMP_H

#include <stdint.h>
#include <stdio.h>

#include "ledger.h"
#include "nt_err.h"

#define DUMP_FORMAT 1			/* the export's own version (header `nanti_export`) */
#define DUMP_MAX_LINE (4u << 20)	/* bytes in one line; records and entries are far smaller */

/* What an export holds, or what an import read. */
struct dump_counts {
	uint64_t lines;
	uint64_t entries, units, people, cases, households, meta, requests;
	uint64_t last_seq;
};

/*
 * dump_export - write the ledger lg (open read-only beside a serving daemon, or not) to f
 * as JSON lines, from one read transaction: a consistent point in the log even while the
 * daemon commits. now (Unix ms) goes into the header. Counts what it wrote into *n.
 * Returns NT_OK; NT_EFORMAT if the ledger is of an older format (nantid upgrades it at
 * start); NT_ECORRUPT if a stored value does not decode (why says which); NT_EIO if f
 * fails; NT_ENOMEM.
 */
nt_err dump_export(struct ledger *lg, FILE *f, int64_t now, struct dump_counts *n, char *why,
		   size_t whylen);

/*
 * dump_import - read an export from f into lg, which must hold no ledger yet (only what
 * ledger_open() creates), in one write transaction: all of it is committed, or, on any
 * error, nothing. Every line is checked as it is read (its form, its order, seqs without a
 * gap, records in the form this version stores, the counts the records keep against the
 * log) and the file must end with its `end` line, so a truncated export is refused.
 * Returns NT_OK with *n filled; NT_EBADREQ with why saying what and on which line;
 * NT_EFORMAT if the export is of a format this version does not read; NT_ECONFLICT if
 * lg is not empty; NT_EMAPFULL if the map is too small (grow it and read f again from its
 * start); NT_EIO, NT_ENOMEM.
 */
nt_err dump_import(struct ledger *lg, FILE *f, struct dump_counts *n, char *why,
		   size_t whylen);

#endif
