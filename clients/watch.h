/*
 * watch.h - `nanti watch`: follow the log live without gap or duplicate.
 */
#ifndef WATCH_H
#define WATCH_H

#include "cmd.h"

/*
 * watch_run - the subscriber recipe of docs/protocol.md section 7, printing each entry
 * once, in seq order, until SIGINT or SIGTERM; with --exec and --cursor, delivering each
 * one to a command instead (bridge.h), waiting out an unreachable daemon. Returns CLI_OK
 * when stopped by a signal, otherwise the exit status of what ended it (CLI_UNREACHABLE,
 * CLI_BADREPLY, CLI_LOCAL for a bridge's corrupt cursor file, ...).
 */
int watch_run(struct run *r);

#endif
